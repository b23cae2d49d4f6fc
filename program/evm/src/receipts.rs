//! Receipts: what happened to each delayed message and transaction of a batch, and the
//! commitment to them that the batch outputs carry.
//!
//! # Commitment (consensus)
//!
//! Each entry (delayed messages first, in L1's order, then the blocks' transactions) is a 74-byte
//! record: kind (1), outcome (1), gas used (u64 BE, 8), transaction hash (32; zero for a
//! deposit), logs hash (32: keccak256 of the RLP list of its logs, Ethereum's definition). The
//! receipts root chains them: `r_0 = 0^32`, `r_{i+1} = keccak256(r_i ‖ record_i)`.

use alloc::vec::Vec;

use alloy_primitives::{Address, Bytes, Log, B256};
use ledger::Abi;
use revm::context::result::InvalidTransaction;

/// What an entry of the batch was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Deposit = 0,
    ForcedTransaction = 1,
    Transaction = 2,
}

/// Why an entry changed nothing at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not an EIP-2718 transaction.
    Malformed = 0,
    /// A blob transaction.
    BlobTransaction = 1,
    /// No key recovers from the signature.
    BadSignature = 2,
    /// Its gas limit does not fit in what is left of the block.
    BlockGasExhausted = 3,
    /// revm's validation refused it: nonce, funds, intrinsic gas, fee cap, chain id, ...
    Invalid = 4,
    /// A deposit of zero wei.
    ZeroDeposit = 5,
    /// A deposit that would take the balance past 2^256 - 1.
    DepositOverflow = 6,
}

/// How an entry ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Executed and succeeded (a deposit credited).
    Success,
    /// Executed and reverted: gas paid, nothing else.
    Revert,
    /// Executed and halted (out of gas, invalid opcode, ...): gas paid, nothing else.
    Halt,
    /// Not executed.
    Refused(Refusal),
}

impl Outcome {
    pub fn code(&self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Revert => 1,
            Outcome::Halt => 2,
            Outcome::Refused(refusal) => 16 + *refusal as u8,
        }
    }

    /// Included in its block (Ethereum would have mined it), whatever its status.
    pub fn included(&self) -> bool {
        !matches!(self, Outcome::Refused(_))
    }
}

/// One entry's receipt. Everything but `detail` and `output` is committed to.
#[derive(Clone, Debug, PartialEq)]
pub struct Receipt {
    pub kind: EntryKind,
    pub outcome: Outcome,
    /// The L2 block the entry went into.
    pub block_number: u64,
    pub tx_hash: B256,
    /// The sender (zero for a deposit).
    pub from: Address,
    pub gas_used: u64,
    /// What the sender paid per gas (base fee plus the priority fee it got).
    pub effective_gas_price: u128,
    pub logs: Vec<Log>,
    pub contract_address: Option<Address>,
    /// Return data, or revert data (the reason).
    pub output: Bytes,
    /// revm's refusal, for the host's error messages.
    pub detail: Option<InvalidTransaction>,
}

impl Receipt {
    /// The 74-byte record (module docs).
    pub fn record(&self) -> [u8; 74] {
        let mut record = [0u8; 74];
        record[0] = self.kind as u8;
        record[1] = self.outcome.code();
        record[2..10].copy_from_slice(&self.gas_used.to_be_bytes());
        record[10..42].copy_from_slice(self.tx_hash.as_slice());
        record[42..74].copy_from_slice(logs_hash(&self.logs).as_slice());
        record
    }
}

/// keccak256 of the RLP list of `logs`.
pub fn logs_hash(logs: &[Log]) -> B256 {
    let mut out = Vec::new();
    alloy_rlp::encode_list::<Log, Log>(logs, &mut out);
    alloy_primitives::keccak256(out)
}

/// The running receipts commitment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiptsChain(pub B256);

impl ReceiptsChain {
    pub fn push<A: Abi + ?Sized>(&mut self, abi: &mut A, receipt: &Receipt) {
        let mut bytes = [0u8; 32 + 74];
        bytes[..32].copy_from_slice(self.0.as_slice());
        bytes[32..].copy_from_slice(&receipt.record());
        self.0 = B256::from(abi.keccak256(&bytes));
    }
}
