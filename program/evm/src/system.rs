//! The rollup's system accounts: fixed addresses with a documented job.
//!
//! | address | what it is |
//! |---|---|
//! | `0x4842000000000000000000000000000000000001` | [`WITHDRAWALS`]: the L2-to-L1 withdrawal contract. `withdraw(address l1Recipient)` with value logs [`WITHDRAWAL_EVENT`]; the STF turns each such log of a successful transaction into a withdrawal leaf the L1 outbox pays, and burns the contract's balance after every transaction |
//! | `0x4842000000000000000000000000000000000002` | [`BLOCK_HISTORY`]: storage only. Slot `n % 256` holds the hash of L2 block `n` (what `BLOCKHASH` returns); slots 256..=259 the head: last block number, timestamp, base fee, gas used |
//!
//! ("HB" is 0x48 0x42.) Both exist from genesis with nonce 1, so EIP-161 never removes them.
//! Only the withdrawal contract's own code can log from its address (a `DELEGATECALL` into it logs
//! from the caller's), so a withdrawal leaf always has escrowed value behind it.

use alloy_primitives::{address, b256, Address, B256};

/// The L2-to-L1 withdrawal contract (`verifier/contracts/L2Withdrawals.sol`).
pub const WITHDRAWALS: Address = address!("4842000000000000000000000000000000000001");

/// Where the L2 block hashes and the chain's head live.
pub const BLOCK_HISTORY: Address = address!("4842000000000000000000000000000000000002");

/// `keccak256("WithdrawalInitiated(address,address,uint256)")`: topics `[this, sender,
/// l1Recipient]`, data the amount in wei.
pub const WITHDRAWAL_EVENT: B256 =
    b256!("bb2689ff876f7ef453cf8865dde5ab10349d222e2e1383c5152fbdb083f02da2");
