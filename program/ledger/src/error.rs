//! The ledger's one error type.

use crate::types::Hash;

/// Why a ledger operation failed. Inside the STF every variant ends either
/// one transaction (with a receipt status) or the whole batch (with a
/// [`RejectReason`](crate::types::RejectReason)); nothing panics.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bytes that do not decode as the expected type.
    #[error("malformed encoding: {0}")]
    Decode(bincode::error::DecodeError),
    /// A value could not be encoded (cannot happen for the ledger's types
    /// when writing into a `Vec`; kept so no caller has to unwrap).
    #[error("encoding failed: {0}")]
    Encode(bincode::error::EncodeError),
    /// The bytes decoded but not all of them were consumed.
    #[error("{trailing} trailing bytes after the encoded value")]
    TrailingBytes { trailing: usize },
    /// The bytes decoded but are not the canonical (minimal) encoding of
    /// the value, so the same value would have two encodings.
    #[error("non-canonical encoding")]
    NonCanonical,
    /// The preimage oracle does not know a trie node the batch needs.
    #[error("unknown preimage {}", Hex(.0))]
    UnknownPreimage(Hash),
    /// The oracle returned bytes that do not hash to the requested hash.
    #[error("preimage of {} does not hash to it", Hex(.0))]
    PreimageMismatch(Hash),
    /// A node that hashes correctly but is not a well-formed node of the
    /// state trie (bad length or tag, a branch below depth 255, a leaf whose
    /// key cannot be told apart from the inserted key below its depth).
    #[error("malformed trie node {}", Hex(.0))]
    CorruptNode(Hash),
    /// The sequencer section's envelope does not open ([`crate::section`]): `Malformed`, or
    /// `TooLarge` for a stream that decompresses past the cap.
    #[error("the sequencer section does not open: {0:?}")]
    Section(crate::types::RejectReason),
    /// An inbox message whose L1 part (header and delayed records) is cut short or holds a
    /// record L1 never writes.
    #[error("the inbox message's header and delayed records are cut short or malformed")]
    TruncatedMessage,
    /// More than `u32::MAX` delayed messages in one batch.
    #[error("more delayed messages than a batch can count")]
    TooManyDelayed,
    /// Outputs that are not 158 bytes with a known status and reason.
    #[error("malformed batch outputs")]
    BadOutputs,
    /// The host returned fewer inbox bytes than it announced.
    #[error("the inbox read at offset {offset} returned no bytes")]
    ShortInboxRead { offset: u32 },
}

/// Lower-case hex for hashes in error messages.
struct Hex<'a>(&'a Hash);

impl core::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("0x")?;
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}
