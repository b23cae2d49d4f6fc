//! Consensus data types and their byte layouts.
//!
//! Everything that crosses the guest boundary or is committed to on L1 is
//! encoded with bincode 2 and [`bincode::config::standard()`]: little-endian,
//! variable-length integers, no length prefix on fixed-size arrays. These
//! layouts are consensus: the golden vectors in this module's tests fail on
//! any accidental change.
//!
//! # Integers (`u32`, `u64`, enum variant indices, lengths)
//!
//! | value | bytes |
//! |---|---|
//! | `0 ..= 250` | the value, 1 byte |
//! | `251 ..= 0xFFFF` | `0xFB`, then `u16` LE (3 bytes) |
//! | `0x1_0000 ..= 0xFFFF_FFFF` | `0xFC`, then `u32` LE (5 bytes) |
//! | above | `0xFD`, then `u64` LE (9 bytes) |
//!
//! bincode's decoder also accepts a longer form than needed (`0xFB 0x05
//! 0x00` for 5). A [`Transaction`] in a non-minimal form is rejected
//! ([`Transaction::from_bytes`] re-encodes and compares), so every
//! transaction has exactly one encoding. A [`Batch`] is not checked this
//! way: its bytes are committed to as they are posted, and a second encoding
//! of the same batch is the same batch.
//!
//! # [`Transaction`]
//!
//! | variant | bytes |
//! |---|---|
//! | `Deposit` | `0x00`, `to` (20), `amount` (int), `l1_index` (int) |
//! | `Transfer` | `0x01`, `to` (20), `amount` (int), `nonce` (int), `signature` (65: r 32, s 32, v 1) |
//! | `Withdraw` | `0x02`, `l1_recipient` (20), `amount` (int), `nonce` (int), `signature` (65) |
//!
//! # [`Batch`] (the inbox message)
//!
//! | field | bytes |
//! |---|---|
//! | `chain_id` | int |
//! | `batch_number` | int |
//! | `pre_state_root` | 32 |
//! | `transactions` | count (int), then per transaction: its length (int) and its encoded bytes |
//!
//! Each transaction is a separate byte string so that one that does not
//! decode costs only its own receipt (`Malformed`), not the batch.
//!
//! # [`BatchOutputs`] (what the guest writes with `write_output`)
//!
//! | field | bytes |
//! |---|---|
//! | `batch_number` | int |
//! | `chain_id` | int |
//! | `pre_state_root` | 32 |
//! | `post_state_root` | 32 |
//! | `withdrawals_root` | 32 |
//! | `receipts_root` | 32 |
//! | `tx_count` | int |
//! | `withdrawal_count` | int |
//! | `status` | `0x00` (Accepted) or `0x01` then the [`RejectReason`] index: `0x00` TooManyTransactions, `0x01` TooLarge, `0x02` Malformed, `0x03` UnknownPreimage |
//!
//! # [`Withdrawal`] leaf (hashed, not bincode)
//!
//! | bytes | field |
//! |---|---|
//! | 0..20 | `l1_recipient` |
//! | 20..28 | `amount`, u64 LE |
//! | 28..36 | `index`, u64 LE |
//!
//! The leaf hash is keccak256 of those 36 bytes.

use alloc::vec::Vec;

use bincode::de::read::Reader;
use bincode::de::{Decode, Decoder};
use bincode::error::DecodeError;
use bincode::{Decode as DeriveDecode, Encode};

use crate::abi::Abi;
use crate::error::Error;

/// A 20-byte Ethereum-style account address (last 20 bytes of keccak256 of
/// the uncompressed secp256k1 public key).
pub type Address = [u8; 20];

/// A keccak256 digest.
pub type Hash = [u8; 32];

/// A signed or L1-originated state change. Byte layout in the module docs.
#[derive(Clone, Debug, PartialEq, Eq, Encode, DeriveDecode)]
pub enum Transaction {
    /// Credits `to` with `amount` from L1. Carries no signature: it is
    /// authenticated by being in the inbox. `l1_index` is the L1 bridge's
    /// deposit counter; the STF only records it (it makes two otherwise equal
    /// deposits distinct).
    Deposit {
        to: Address,
        amount: u64,
        l1_index: u64,
    },
    /// Moves `amount` from the signer to `to`.
    Transfer {
        to: Address,
        amount: u64,
        nonce: u64,
        signature: [u8; 65],
    },
    /// Burns `amount` of the signer's balance and appends a withdrawal leaf
    /// paying `l1_recipient` on L1.
    Withdraw {
        l1_recipient: Address,
        amount: u64,
        nonce: u64,
        signature: [u8; 65],
    },
}

impl Transaction {
    /// The transaction's canonical bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        encode(self)
    }

    /// Decodes one transaction: all bytes must be consumed, and they must be
    /// the canonical encoding (see the module docs).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let tx: Self = decode(bytes)?;
        if encode(&tx)? != bytes {
            return Err(Error::NonCanonical);
        }
        Ok(tx)
    }
}

/// One inbox message: the transactions a sequencer posted for a batch.
///
/// `Decode` is written by hand (the wire format is exactly what the derived
/// `Encode` writes) so that decoding allocates in proportion to the bytes
/// actually present, never to a length the input merely claims: a 5-byte
/// batch claiming 2^60 transactions must be `Malformed`, not an allocation
/// failure inside the guest.
#[derive(Clone, Debug, PartialEq, Eq, Encode)]
pub struct Batch {
    pub chain_id: u64,
    pub batch_number: u64,
    /// The state root the transactions apply to; the guest loads the trie
    /// from it.
    pub pre_state_root: Hash,
    /// Each transaction encoded on its own ([`Transaction::to_bytes`]).
    pub transactions: Vec<Vec<u8>>,
}

/// Transactions preallocated before any is decoded; the vector grows past
/// this only as transactions are actually read.
const PREALLOCATED_TRANSACTIONS: u64 = 1024;
/// Bytes of one transaction read (and allocated) per step.
const BYTES_PER_READ: usize = 1024;

impl<Context> Decode<Context> for Batch {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        let chain_id = u64::decode(decoder)?;
        let batch_number = u64::decode(decoder)?;
        let pre_state_root = <[u8; 32]>::decode(decoder)?;
        let count = u64::decode(decoder)?;
        let mut transactions =
            Vec::with_capacity(usize::try_from(count.min(PREALLOCATED_TRANSACTIONS)).unwrap_or(0));
        // Terminates within the input: every transaction consumes at least
        // its length byte, and the reader fails at the end of the input.
        for _ in 0..count {
            transactions.push(decode_byte_string(decoder)?);
        }
        Ok(Self {
            chain_id,
            batch_number,
            pre_state_root,
            transactions,
        })
    }
}
bincode::impl_borrow_decode!(Batch);

/// Decodes a length-prefixed byte string (the layout of a bincode `Vec<u8>`),
/// growing the vector only by bytes the reader has actually produced.
fn decode_byte_string<D: Decoder>(decoder: &mut D) -> Result<Vec<u8>, DecodeError> {
    let len = u64::decode(decoder)?;
    let mut remaining = usize::try_from(len).map_err(|_| DecodeError::OutsideUsizeRange(len))?;
    let mut bytes = Vec::with_capacity(remaining.min(BYTES_PER_READ));
    while remaining > 0 {
        let step = remaining.min(BYTES_PER_READ);
        let start = bytes.len();
        bytes.resize(start.saturating_add(step), 0);
        let Some(window) = bytes.get_mut(start..) else {
            return Err(DecodeError::UnexpectedEnd { additional: step });
        };
        decoder.reader().read(window)?;
        remaining -= step;
    }
    Ok(bytes)
}

impl Batch {
    /// The batch's bytes, as posted to the inbox.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        encode(self)
    }

    /// Decodes a batch; all bytes must be consumed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        decode(bytes)
    }
}

/// A transaction's outcome. The code (`as u8`) is what the receipts root
/// commits to. Any status but `Ok` means the transaction had no effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Encode, DeriveDecode)]
#[repr(u8)]
pub enum ReceiptStatus {
    Ok = 0,
    /// The signature does not recover to any key (or is high-s / bad v).
    BadSignature = 1,
    /// The nonce is not the signer's current nonce (replay or gap).
    BadNonce = 2,
    /// The signer's balance is below the amount.
    InsufficientBalance = 3,
    /// The credited balance would exceed `u64::MAX`.
    Overflow = 4,
    /// The transaction's bytes do not decode (canonically) as a `Transaction`.
    Malformed = 5,
    /// Moving nothing is refused, so that no transaction changes state
    /// without moving value (a zero deposit would create an empty leaf).
    ZeroAmount = 6,
}

impl ReceiptStatus {
    /// The status code committed to in the receipts root.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The status with that code, if any.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Ok,
            1 => Self::BadSignature,
            2 => Self::BadNonce,
            3 => Self::InsufficientBalance,
            4 => Self::Overflow,
            5 => Self::Malformed,
            6 => Self::ZeroAmount,
            _ => return None,
        })
    }
}

/// Whether the batch was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, DeriveDecode)]
pub enum BatchStatus {
    Accepted,
    /// Nothing was applied: the post-state root is the pre-state root.
    Rejected(RejectReason),
}

/// Why a whole batch was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, DeriveDecode)]
pub enum RejectReason {
    /// More than `Config::max_transactions` transactions.
    TooManyTransactions,
    /// The inbox message is longer than `Config::max_batch_bytes` (checked
    /// before a byte of it is read).
    TooLarge,
    /// The inbox message does not decode as a `Batch`, has trailing bytes,
    /// or has a `batch_number` of 2^32 or more (withdrawal indices would
    /// collide, see [`Withdrawal::index`]).
    Malformed,
    /// A trie node the batch needs is unknown to the preimage oracle, does
    /// not hash to its hash, or is not a well-formed trie node.
    UnknownPreimage,
}

/// The result of one batch, written by the guest and asserted on L1.
///
/// A rejected batch has `post_state_root == pre_state_root`, zero counts and
/// all-zero `withdrawals_root` and `receipts_root`. When the batch was
/// rejected before its header could be read (`TooLarge`, `Malformed`),
/// `batch_number`, `chain_id` and `pre_state_root` are zero too.
#[derive(Clone, Debug, PartialEq, Eq, Encode, DeriveDecode)]
pub struct BatchOutputs {
    pub batch_number: u64,
    pub chain_id: u64,
    pub pre_state_root: Hash,
    pub post_state_root: Hash,
    /// rs_merkle-shaped keccak256 tree over the withdrawal leaf hashes, in
    /// order ([`crate::commitments::withdrawals_root`]).
    pub withdrawals_root: Hash,
    /// Commitment to every transaction's status
    /// ([`crate::commitments::receipts_root`]).
    pub receipts_root: Hash,
    /// Transactions in the batch, valid or not.
    pub tx_count: u32,
    /// Leaves under `withdrawals_root`.
    pub withdrawal_count: u32,
    pub status: BatchStatus,
}

impl BatchOutputs {
    /// The encoded outputs, as written with `write_output`.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        encode(self)
    }

    /// Decodes outputs; all bytes must be consumed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        decode(bytes)
    }
}

/// A payment owed on L1, one leaf of a batch's withdrawals tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, DeriveDecode)]
pub struct Withdrawal {
    pub l1_recipient: Address,
    pub amount: u64,
    /// Unique across the chain: `(batch_number << 32) | tx_index`, where
    /// `tx_index` is the withdrawing transaction's position in its batch.
    /// L1 pays each index once.
    pub index: u64,
}

/// Bytes of a withdrawal leaf before hashing.
pub const WITHDRAWAL_LEAF_LEN: usize = 36;

impl Withdrawal {
    /// The 36 bytes the leaf hash covers (layout in the module docs).
    pub fn leaf_bytes(&self) -> [u8; WITHDRAWAL_LEAF_LEN] {
        let mut bytes = [0u8; WITHDRAWAL_LEAF_LEN];
        let (recipient, rest) = bytes.split_at_mut(20);
        let (amount, index) = rest.split_at_mut(8);
        recipient.copy_from_slice(&self.l1_recipient);
        amount.copy_from_slice(&self.amount.to_le_bytes());
        index.copy_from_slice(&self.index.to_le_bytes());
        bytes
    }

    /// keccak256(l1_recipient || amount LE || index LE).
    pub fn leaf_hash<A: Abi + ?Sized>(&self, abi: &mut A) -> Hash {
        abi.keccak256(&self.leaf_bytes())
    }
}

/// Limits the STF enforces. Defaults from the seed's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, DeriveDecode)]
pub struct Config {
    /// More transactions than this and the batch is rejected
    /// (`TooManyTransactions`). Exactly this many is fine.
    pub max_transactions: u32,
    /// A longer inbox message is rejected (`TooLarge`) before it is read.
    pub max_batch_bytes: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_transactions: 1000,
            max_batch_bytes: 262_144,
        }
    }
}

/// Encodes `value` with the consensus configuration.
pub fn encode<T: bincode::Encode>(value: &T) -> Result<Vec<u8>, Error> {
    bincode::encode_to_vec(value, bincode::config::standard()).map_err(Error::Encode)
}

/// Decodes a `T` from all of `bytes` with the consensus configuration;
/// trailing bytes are an error.
pub fn decode<T: Decode<()>>(bytes: &[u8]) -> Result<T, Error> {
    let (value, read) =
        bincode::decode_from_slice(bytes, bincode::config::standard()).map_err(Error::Decode)?;
    if read != bytes.len() {
        return Err(Error::TrailingBytes {
            trailing: bytes.len().saturating_sub(read),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests;
