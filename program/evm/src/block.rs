//! L2 blocks: the head the chain keeps in state, the EIP-1559 base fee, the block hash.
//!
//! # Rules (consensus)
//!
//! - Block `n + 1` follows the head (block `n`); its base fee is EIP-1559's from the head's base
//!   fee and gas used (elasticity 2, change denominator 8, target = gas limit / 2), never below
//!   [`MIN_BASE_FEE`]. The base fee is burned; the priority fee goes to the block's fee
//!   recipient (the poster's choice).
//! - A block's timestamp is the one the sequencer gave it, raised to the head's if lower: time on
//!   L2 never runs backwards.
//! - Gas: [`BLOCK_GAS_LIMIT`] per block. A transaction whose gas limit does not fit in what is
//!   left of its block is not executed (its receipt says so).
//! - `BLOCKHASH(n)` is the hash below of block `n`, for the 256 blocks before the current one.
//!
//! # Block hash
//!
//! keccak256 of `parent hash (32) ‖ number (8) ‖ timestamp (8) ‖ fee recipient (20) ‖ gas limit
//! (8) ‖ gas used (8) ‖ base fee (8) ‖ receipts hash (32)`, integers big-endian; the receipts hash
//! is [`crate::receipts`]' chain over this block's entries alone (from `0^32`), which covers every
//! transaction's hash.
//!
//! Nothing in a block's execution depends on the batch it is posted in (only withdrawal indices
//! do, and they are outputs, not state): a sequencer executes soft blocks one at a time, and the
//! same blocks posted in any grouping (each opening with the delayed messages it took) give the
//! same hashes, receipts and state.
//! It is not the keccak of an RLP header: the state root is committed per batch, not per block,
//! and recomputing Ethereum's tries in the guest would cost steps nothing needs.

use alloy_eips::eip1559::BaseFeeParams;
use alloy_primitives::{Address, B256, U256};
use ledger::Abi;

use crate::state::{StateDb, StateError};
use crate::system::BLOCK_HISTORY;

/// Block hashes kept for `BLOCKHASH`.
pub const HISTORY_LEN: u64 = 256;
/// Gas per L2 block.
pub const BLOCK_GAS_LIMIT: u64 = 60_000_000;
/// The base fee of block 1.
pub const GENESIS_BASE_FEE: u64 = 1_000_000_000;
/// The base fee never falls below this (0.01 gwei): spam always costs something.
pub const MIN_BASE_FEE: u64 = 10_000_000;

const HEAD_NUMBER: u64 = HISTORY_LEN;
const HEAD_TIMESTAMP: u64 = HISTORY_LEN + 1;
const HEAD_BASE_FEE: u64 = HISTORY_LEN + 2;
const HEAD_GAS_USED: u64 = HISTORY_LEN + 3;

/// The last block, as the block-history account's storage holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub number: u64,
    pub timestamp: u64,
    pub hash: B256,
    pub base_fee: u64,
    pub gas_used: u64,
}

impl Head {
    pub fn read<A: Abi + ?Sized>(db: &mut StateDb<'_, A>) -> Result<Head, StateError> {
        let number = low_u64(db.slot(&BLOCK_HISTORY, U256::from(HEAD_NUMBER))?);
        Ok(Head {
            number,
            timestamp: low_u64(db.slot(&BLOCK_HISTORY, U256::from(HEAD_TIMESTAMP))?),
            hash: B256::from(db.slot(&BLOCK_HISTORY, U256::from(number % HISTORY_LEN))?),
            base_fee: low_u64(db.slot(&BLOCK_HISTORY, U256::from(HEAD_BASE_FEE))?),
            gas_used: low_u64(db.slot(&BLOCK_HISTORY, U256::from(HEAD_GAS_USED))?),
        })
    }

    pub fn write<A: Abi + ?Sized>(&self, db: &mut StateDb<'_, A>) -> Result<(), StateError> {
        db.touch(&BLOCK_HISTORY)?;
        let slots = [
            (HEAD_NUMBER, U256::from(self.number)),
            (HEAD_TIMESTAMP, U256::from(self.timestamp)),
            (HEAD_BASE_FEE, U256::from(self.base_fee)),
            (HEAD_GAS_USED, U256::from(self.gas_used)),
            (self.number % HISTORY_LEN, U256::from_be_bytes(self.hash.0)),
        ];
        for (slot, value) in slots {
            db.set_slot(&BLOCK_HISTORY, U256::from(slot), value)?;
        }
        Ok(())
    }

    /// The base fee of the block after this one.
    pub fn next_base_fee(&self) -> u64 {
        alloy_eips::eip1559::calc_next_block_base_fee(
            self.gas_used,
            BLOCK_GAS_LIMIT,
            self.base_fee,
            BaseFeeParams::ethereum(),
        )
        .max(MIN_BASE_FEE)
    }
}

/// Values above 2^64 - 1 cannot be written by the STF; read them as the low 64 bits.
fn low_u64(value: U256) -> u64 {
    value.as_limbs()[0]
}

/// A block's header fields, as hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockHeader {
    pub parent_hash: B256,
    pub number: u64,
    pub timestamp: u64,
    pub fee_recipient: Address,
    pub gas_limit: u64,
    pub gas_used: u64,
    pub base_fee: u64,
    pub receipts_hash: B256,
}

impl BlockHeader {
    /// The block hash (layout in the module docs).
    pub fn hash<A: Abi + ?Sized>(&self, abi: &mut A) -> B256 {
        let mut bytes = [0u8; 124];
        let fields: [&[u8]; 8] = [
            self.parent_hash.as_slice(),
            &self.number.to_be_bytes(),
            &self.timestamp.to_be_bytes(),
            self.fee_recipient.as_slice(),
            &self.gas_limit.to_be_bytes(),
            &self.gas_used.to_be_bytes(),
            &self.base_fee.to_be_bytes(),
            self.receipts_hash.as_slice(),
        ];
        let mut at = 0;
        for field in fields {
            if let Some(window) = bytes.get_mut(at..at + field.len()) {
                window.copy_from_slice(field);
            }
            at += field.len();
        }
        B256::from(abi.keccak256(&bytes))
    }
}
