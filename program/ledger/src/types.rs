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
//! # [`Transaction`] (signed, posted by the sequencer)
//!
//! | variant | bytes |
//! |---|---|
//! | `Transfer` | `0x00`, `to` (20), `amount` (int, wei), `nonce` (int), `signature` (65: r 32, s 32, v 1) |
//! | `Withdraw` | `0x01`, `l1_recipient` (20), `amount` (int, wei), `nonce` (int), `signature` (65) |
//!
//! `amount` is a u128 (bincode: above `u64::MAX` it is `0xFE` then 16 bytes LE).
//! Deposits are not transactions: only the L1 bridge can put one in a
//! batch (below), so a sequencer cannot invent, reorder or drop them.
//!
//! # [`Batch`] (the inbox message)
//!
//! The L1 inbox contract builds the message (`verifier/contracts`, `Inbox`):
//! the fixed-width part is written there with `abi.encodePacked`, so its
//! integers are **big-endian**.
//!
//! | bytes | field |
//! |---|---|
//! | 0..32 | `pre_state_root`: the parent assertion's state root, leaf 0 of the message's bytes tree so L1 can fold it in at assertion time |
//! | 32..40 | `chain_id`, u64 BE |
//! | 40..48 | `batch_number`, u64 BE (1, 2, ...; 0 is genesis) |
//! | 48..56 | `first_delayed`: L1 queue index of the first delayed message, u64 BE |
//! | 56..60 | delayed message count `n`, u32 BE |
//! | 60.. | the `n` delayed messages, in L1 queue order (below) |
//! | rest | the sequencer's section, exactly as posted: a version byte, then the transactions raw or compressed ([`crate::section`]); opened, they are a count (int), then per transaction its length (int) and its encoded bytes |
//!
//! The delayed messages are what L1 queued, in the one order it queued them:
//!
//! | kind | bytes |
//! |---|---|
//! | deposit | `0x00`, `to` (20), `amount` in wei (u128 BE, 16): 37 bytes |
//! | forced transaction | `0x01`, length `len` (u32 BE, 1..=[`MAX_FORCED_TRANSACTION_BYTES`]), the transaction's `len` bytes as the user submitted them |
//!
//! Each transaction is a separate byte string so that one that does not
//! decode costs only its own receipt (`Malformed`), not the batch; a
//! transactions section that does not decode (or has too many) costs only
//! the sequencer's transactions, never the delayed messages L1 queued.
//!
//! # [`BatchOutputs`] (what the guest writes with `write_output`; L1 parses it)
//!
//! 158 bytes, integers big-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 0..8 | `batch_number` |
//! | 8..16 | `chain_id` |
//! | 16..48 | `pre_state_root` |
//! | 48..80 | `post_state_root` |
//! | 80..112 | `withdrawals_root` |
//! | 112..144 | `receipts_root` |
//! | 144..148 | `delayed_count`: deposits and forced transactions |
//! | 148..152 | `tx_count` |
//! | 152..156 | `withdrawal_count` |
//! | 156 | status: `0` accepted, `1` transactions refused, `2` rejected |
//! | 157 | [`RejectReason`] code (0 when accepted): `0` TooManyTransactions, `1` TooLarge, `2` Malformed, `3` UnknownPreimage |
//!
//! # [`Withdrawal`] leaf (hashed; L1 rebuilds it with `abi.encodePacked(address, uint128, uint64)`)
//!
//! | bytes | field |
//! |---|---|
//! | 0..20 | `l1_recipient` |
//! | 20..36 | `amount`, u128 BE |
//! | 36..44 | `index`, u64 BE |
//!
//! The leaf hash is keccak256 of those 44 bytes.

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

/// A signed state change posted by the sequencer. Byte layout in the module docs.
#[derive(Clone, Debug, PartialEq, Eq, Encode, DeriveDecode)]
pub enum Transaction {
    /// Moves `amount` wei from the signer to `to`.
    Transfer {
        to: Address,
        amount: u128,
        nonce: u64,
        signature: [u8; 65],
    },
    /// Burns `amount` wei of the signer's balance and appends a withdrawal
    /// leaf paying `l1_recipient` on L1.
    Withdraw {
        l1_recipient: Address,
        amount: u128,
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

/// ETH escrowed by the L1 bridge, credited to `to` on L2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deposit {
    pub to: Address,
    /// Wei, exactly what the bridge escrowed.
    pub amount: u128,
}

/// What L1 queued for L2, in its one order: a deposit, or a signed transaction anyone submitted
/// there (so that a sequencer cannot keep it out forever).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DelayedMessage {
    Deposit(Deposit),
    /// A transaction's bytes as the user submitted them (decoded like a sequencer's).
    Transaction(Vec<u8>),
}

impl From<Deposit> for DelayedMessage {
    fn from(deposit: Deposit) -> Self {
        DelayedMessage::Deposit(deposit)
    }
}

impl DelayedMessage {
    /// Its record in the message (layout in the module docs).
    pub fn write_record(&self, out: &mut Vec<u8>) {
        match self {
            DelayedMessage::Deposit(deposit) => {
                out.push(DELAYED_DEPOSIT);
                out.extend_from_slice(&deposit.to);
                out.extend_from_slice(&deposit.amount.to_be_bytes());
            }
            DelayedMessage::Transaction(bytes) => {
                out.push(DELAYED_TRANSACTION);
                // L1 refuses longer ones; a record is never built from more.
                let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(bytes);
            }
        }
    }

    /// Bytes of its record.
    pub fn record_len(&self) -> usize {
        match self {
            DelayedMessage::Deposit(_) => DEPOSIT_RECORD_LEN,
            DelayedMessage::Transaction(bytes) => FORCED_RECORD_HEADER_LEN + bytes.len(),
        }
    }

    /// Reads one record from the front of `bytes`: it and the bytes after it. `None` if cut
    /// short, of an unknown kind, or a forced transaction's length is 0 or above the limit
    /// (L1 never writes such a record).
    fn read_record(bytes: &[u8]) -> Option<(DelayedMessage, &[u8])> {
        let (&kind, rest) = bytes.split_first()?;
        match kind {
            DELAYED_DEPOSIT => {
                let to = rest.get(0..20)?.try_into().ok()?;
                let amount = u128::from_be_bytes(rest.get(20..36)?.try_into().ok()?);
                Some((
                    DelayedMessage::Deposit(Deposit { to, amount }),
                    rest.get(36..)?,
                ))
            }
            DELAYED_TRANSACTION => {
                let len = u32::from_be_bytes(rest.get(0..4)?.try_into().ok()?);
                let len = usize::try_from(len).ok()?;
                if len == 0 || len > MAX_FORCED_TRANSACTION_BYTES {
                    return None;
                }
                let end = 4usize.checked_add(len)?;
                Some((
                    DelayedMessage::Transaction(rest.get(4..end)?.to_vec()),
                    rest.get(end..)?,
                ))
            }
            _ => None,
        }
    }
}

/// The kind byte of a deposit's record.
pub const DELAYED_DEPOSIT: u8 = 0;
/// The kind byte of a forced transaction's record.
pub const DELAYED_TRANSACTION: u8 = 1;
/// Bytes of one deposit record in the message.
pub const DEPOSIT_RECORD_LEN: usize = 37;
/// Bytes of a forced transaction's record before the transaction.
pub const FORCED_RECORD_HEADER_LEN: usize = 5;
/// The longest transaction L1 queues (`Inbox.MAX_FORCED_TRANSACTION_BYTES`).
pub const MAX_FORCED_TRANSACTION_BYTES: usize = 16_384;
/// Bytes of the message before the delayed messages.
pub const BATCH_HEADER_LEN: usize = 60;

/// The part of the message L1 writes: everything but the sequencer's
/// transactions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchHeader {
    pub pre_state_root: Hash,
    pub chain_id: u64,
    pub batch_number: u64,
    pub first_delayed: u64,
    pub delayed_count: u32,
}

impl BatchHeader {
    fn decode(bytes: &[u8]) -> Option<BatchHeader> {
        Some(BatchHeader {
            pre_state_root: bytes.get(0..32)?.try_into().ok()?,
            chain_id: u64::from_be_bytes(bytes.get(32..40)?.try_into().ok()?),
            batch_number: u64::from_be_bytes(bytes.get(40..48)?.try_into().ok()?),
            first_delayed: u64::from_be_bytes(bytes.get(48..56)?.try_into().ok()?),
            delayed_count: u32::from_be_bytes(bytes.get(56..60)?.try_into().ok()?),
        })
    }

    /// The header's 60 bytes, as the L1 inbox writes them (leaf 0 included).
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pre_state_root);
        out.extend_from_slice(&self.chain_id.to_be_bytes());
        out.extend_from_slice(&self.batch_number.to_be_bytes());
        out.extend_from_slice(&self.first_delayed.to_be_bytes());
        out.extend_from_slice(&self.delayed_count.to_be_bytes());
    }
}

/// One inbox message: what L1 queued and the transactions a sequencer
/// posted for a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    pub chain_id: u64,
    pub batch_number: u64,
    /// The state root the batch applies to; the guest loads the trie from it.
    pub pre_state_root: Hash,
    /// L1 queue index of `delayed[0]`.
    pub first_delayed: u64,
    pub delayed: Vec<DelayedMessage>,
    /// Each transaction encoded on its own ([`Transaction::to_bytes`]).
    pub transactions: Vec<Vec<u8>>,
}

/// A message split at its one seam: what L1 wrote, and the sequencer's
/// section, which is decoded separately so that it cannot spoil the delayed messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxMessage<'a> {
    pub header: BatchHeader,
    pub delayed: Vec<DelayedMessage>,
    pub transactions: &'a [u8],
}

impl<'a> InboxMessage<'a> {
    /// Splits a message; `None` if the L1 part is cut short or holds a record L1 never writes.
    pub fn split(bytes: &'a [u8]) -> Option<InboxMessage<'a>> {
        let header = BatchHeader::decode(bytes)?;
        let mut rest = bytes.get(BATCH_HEADER_LEN..)?;
        // Every record takes at least 6 bytes of the message, so the count is bounded by it.
        let count = usize::try_from(header.delayed_count).ok()?;
        if count > rest.len() / (FORCED_RECORD_HEADER_LEN + 1) + 1 {
            return None;
        }
        let mut delayed = Vec::with_capacity(count);
        for _ in 0..count {
            let (message, after) = DelayedMessage::read_record(rest)?;
            delayed.push(message);
            rest = after;
        }
        Some(InboxMessage {
            header,
            delayed,
            transactions: rest,
        })
    }
}

/// The sequencer's section: a count, then length-prefixed transactions.
///
/// `Decode` is written by hand (the wire format is exactly what the derived
/// `Encode` of a `Vec<Vec<u8>>` writes) so that decoding allocates in
/// proportion to the bytes actually present, never to a length the input
/// merely claims: a 5-byte section claiming 2^60 transactions must be
/// `Malformed`, not an allocation failure inside the guest.
#[derive(Clone, Debug, PartialEq, Eq, Encode)]
pub struct TransactionList(pub Vec<Vec<u8>>);

/// Transactions preallocated before any is decoded; the vector grows past
/// this only as transactions are actually read.
const PREALLOCATED_TRANSACTIONS: u64 = 1024;
/// Bytes of one transaction read (and allocated) per step.
const BYTES_PER_READ: usize = 1024;

impl<Context> Decode<Context> for TransactionList {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        let count = u64::decode(decoder)?;
        let mut transactions =
            Vec::with_capacity(usize::try_from(count.min(PREALLOCATED_TRANSACTIONS)).unwrap_or(0));
        // Terminates within the input: every transaction consumes at least
        // its length byte, and the reader fails at the end of the input.
        for _ in 0..count {
            transactions.push(decode_byte_string(decoder)?);
        }
        Ok(Self(transactions))
    }
}
bincode::impl_borrow_decode!(TransactionList);

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

impl TransactionList {
    /// The section's bytes, posted uncompressed ([`crate::section::raw`]); the host's
    /// `program::compress_section` compresses them.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        Ok(crate::section::raw(&encode(self)?))
    }

    /// Opens a posted section ([`crate::section::open`]: `Error::Section` if it does not) and
    /// decodes it; all bytes must be consumed.
    pub fn from_bytes(posted: &[u8]) -> Result<Self, Error> {
        decode(&crate::section::open(posted).map_err(Error::Section)?)
    }
}

impl Batch {
    /// The header L1 writes for this batch.
    pub fn header(&self) -> Result<BatchHeader, Error> {
        Ok(BatchHeader {
            pre_state_root: self.pre_state_root,
            chain_id: self.chain_id,
            batch_number: self.batch_number,
            first_delayed: self.first_delayed,
            delayed_count: u32::try_from(self.delayed.len()).map_err(|_| Error::TooManyDelayed)?,
        })
    }

    /// The message's bytes, as the L1 inbox builds them (layout in the module docs).
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let header = self.header()?;
        let transactions = TransactionList(self.transactions.clone()).to_bytes()?;
        let records: usize = self.delayed.iter().map(DelayedMessage::record_len).sum();
        let mut bytes = Vec::with_capacity(BATCH_HEADER_LEN + records + transactions.len());
        header.write(&mut bytes);
        for message in &self.delayed {
            message.write_record(&mut bytes);
        }
        bytes.extend_from_slice(&transactions);
        Ok(bytes)
    }

    /// Decodes a whole message, its transactions section included; all bytes must be consumed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let message = InboxMessage::split(bytes).ok_or(Error::TruncatedMessage)?;
        let TransactionList(transactions) = TransactionList::from_bytes(message.transactions)?;
        Ok(Batch {
            chain_id: message.header.chain_id,
            batch_number: message.header.batch_number,
            pre_state_root: message.header.pre_state_root,
            first_delayed: message.header.first_delayed,
            delayed: message.delayed,
            transactions,
        })
    }
}

/// A transaction's or deposit's outcome. The code (`as u8`) is what the
/// receipts root commits to. Any status but `Ok` means it had no effect.
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
    /// The credited balance would exceed `u128::MAX`.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchStatus {
    Accepted,
    /// The deposits were applied, the sequencer's transactions were not
    /// (`TooManyTransactions` or `Malformed`).
    TransactionsRefused(RejectReason),
    /// Nothing was applied: the post-state root is the pre-state root.
    Rejected(RejectReason),
}

/// Why a batch, or its transactions section, was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RejectReason {
    /// More than `Config::max_transactions` transactions.
    TooManyTransactions = 0,
    /// The inbox message is longer than `Config::max_batch_bytes` (checked
    /// before a byte of it is read).
    TooLarge = 1,
    /// The message's L1 part is cut short or has `batch_number >= 2^32`
    /// (withdrawal indices would collide, see [`Withdrawal::index`]); or the
    /// transactions section does not decode or has trailing bytes.
    Malformed = 2,
    /// A trie node the batch needs is unknown to the preimage oracle, does
    /// not hash to its hash, or is not a well-formed trie node.
    UnknownPreimage = 3,
}

impl RejectReason {
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::TooManyTransactions,
            1 => Self::TooLarge,
            2 => Self::Malformed,
            3 => Self::UnknownPreimage,
            _ => return None,
        })
    }
}

/// Bytes of the encoded [`BatchOutputs`].
pub const OUTPUTS_LEN: usize = 158;

/// The result of one batch, written by the guest and asserted on L1.
///
/// A rejected batch has `post_state_root == pre_state_root`, zero counts and
/// all-zero `withdrawals_root` and `receipts_root`. When the batch was
/// rejected before its header could be read (`TooLarge`, `Malformed`),
/// `batch_number`, `chain_id` and `pre_state_root` are zero too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchOutputs {
    pub batch_number: u64,
    pub chain_id: u64,
    pub pre_state_root: Hash,
    pub post_state_root: Hash,
    /// rs_merkle-shaped keccak256 tree over the withdrawal leaf hashes, in
    /// order ([`crate::commitments::withdrawals_root`]).
    pub withdrawals_root: Hash,
    /// Commitment to every delayed message's and transaction's status
    /// ([`crate::commitments::receipts_root`]).
    pub receipts_root: Hash,
    /// Delayed messages (deposits and forced transactions) in the batch, applied or not.
    pub delayed_count: u32,
    /// Sequencer transactions in the batch, valid or not (0 when refused).
    pub tx_count: u32,
    /// Leaves under `withdrawals_root`.
    pub withdrawal_count: u32,
    pub status: BatchStatus,
}

impl BatchOutputs {
    /// The encoded outputs, as written with `write_output` (layout in the module docs).
    pub fn to_bytes(&self) -> [u8; OUTPUTS_LEN] {
        let mut bytes = [0u8; OUTPUTS_LEN];
        let (status, reason) = match self.status {
            BatchStatus::Accepted => (0u8, 0u8),
            BatchStatus::TransactionsRefused(reason) => (1, reason as u8),
            BatchStatus::Rejected(reason) => (2, reason as u8),
        };
        let fields: [&[u8]; 11] = [
            &self.batch_number.to_be_bytes(),
            &self.chain_id.to_be_bytes(),
            &self.pre_state_root,
            &self.post_state_root,
            &self.withdrawals_root,
            &self.receipts_root,
            &self.delayed_count.to_be_bytes(),
            &self.tx_count.to_be_bytes(),
            &self.withdrawal_count.to_be_bytes(),
            &[status],
            &[reason],
        ];
        let mut at = 0;
        for field in fields {
            if let Some(window) = bytes.get_mut(at..at + field.len()) {
                window.copy_from_slice(field);
            }
            at += field.len();
        }
        bytes
    }

    /// Decodes outputs: exactly [`OUTPUTS_LEN`] bytes with a known status and reason.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != OUTPUTS_LEN {
            return Err(Error::BadOutputs);
        }
        let hash = |at: usize| -> Result<Hash, Error> {
            bytes
                .get(at..at + 32)
                .and_then(|b| b.try_into().ok())
                .ok_or(Error::BadOutputs)
        };
        let word = |at: usize| -> Result<u32, Error> {
            bytes
                .get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_be_bytes)
                .ok_or(Error::BadOutputs)
        };
        let long = |at: usize| -> Result<u64, Error> {
            bytes
                .get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or(Error::BadOutputs)
        };
        let reason = bytes.get(157).copied().ok_or(Error::BadOutputs)?;
        let status = match (bytes.get(156).copied(), RejectReason::from_code(reason)) {
            (Some(0), _) if reason == 0 => BatchStatus::Accepted,
            (Some(1), Some(reason)) => BatchStatus::TransactionsRefused(reason),
            (Some(2), Some(reason)) => BatchStatus::Rejected(reason),
            _ => return Err(Error::BadOutputs),
        };
        Ok(BatchOutputs {
            batch_number: long(0)?,
            chain_id: long(8)?,
            pre_state_root: hash(16)?,
            post_state_root: hash(48)?,
            withdrawals_root: hash(80)?,
            receipts_root: hash(112)?,
            delayed_count: word(144)?,
            tx_count: word(148)?,
            withdrawal_count: word(152)?,
            status,
        })
    }
}

/// A payment owed on L1, one leaf of a batch's withdrawals tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Withdrawal {
    pub l1_recipient: Address,
    /// Wei.
    pub amount: u128,
    /// Unique across the chain: `(batch_number << 32) | tx_index`, where
    /// `tx_index` is the withdrawing transaction's position among the
    /// sequencer's transactions. L1 pays each index once.
    pub index: u64,
}

/// Bytes of a withdrawal leaf before hashing.
pub const WITHDRAWAL_LEAF_LEN: usize = 44;

impl Withdrawal {
    /// The 44 bytes the leaf hash covers (layout in the module docs).
    pub fn leaf_bytes(&self) -> [u8; WITHDRAWAL_LEAF_LEN] {
        let mut bytes = [0u8; WITHDRAWAL_LEAF_LEN];
        let (recipient, rest) = bytes.split_at_mut(20);
        let (amount, index) = rest.split_at_mut(16);
        recipient.copy_from_slice(&self.l1_recipient);
        amount.copy_from_slice(&self.amount.to_be_bytes());
        index.copy_from_slice(&self.index.to_be_bytes());
        bytes
    }

    /// keccak256(l1_recipient || amount BE || index BE).
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
