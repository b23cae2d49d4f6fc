//! Signatures recovered ahead of a batch, in parallel: the host's cache behind the `ecrecover`
//! precompile. Recovery is most of a batch's native time (one secp256k1 recovery per
//! transaction) and the guest asks for them one after another; a follower replaying posted
//! batches recovers a whole section on every core first and serves the guest from the cache.
//!
//! It changes no result: each entry is [`crate::ecrecover`] of its own key (message hash,
//! signature), computed ahead rather than on demand, and anything not in the cache is computed
//! on demand as before. Which transactions are in a section is the cache's business only.

use std::collections::HashMap;

use ledger::{Address, Hash, Transaction, TransactionList};
use rayon::prelude::*;

use crate::crypto::{ecrecover, keccak256, signed_hash};

#[derive(Clone, Debug, Default)]
pub struct RecoveredSignatures {
    // Looked up by key only: the map's order never shows.
    recovered: HashMap<(Hash, [u8; 65]), Option<Address>>,
}

impl RecoveredSignatures {
    /// Recovers every signature of a sequencer's transactions section on `chain_id`, in
    /// parallel. A section or transaction that does not decode adds nothing.
    pub fn of_section(chain_id: u64, section: &[u8]) -> RecoveredSignatures {
        Self::of_section_known(chain_id, section, |_| None)
    }

    /// Like [`RecoveredSignatures::of_section`], but a transaction whose signer `known` gives (by
    /// the transaction's hash, keccak256 of its bytes) is not recovered again: `known` must be
    /// what recovering those very bytes gave.
    pub fn of_section_known(
        chain_id: u64,
        section: &[u8],
        known: impl Fn(&Hash) -> Option<Address> + Sync,
    ) -> RecoveredSignatures {
        let Ok(list) = TransactionList::from_bytes(section) else {
            return RecoveredSignatures::default();
        };
        let recovered = list
            .0
            .par_iter()
            .filter_map(|bytes| {
                let signer = known(&keccak256(bytes));
                let tx = Transaction::from_bytes(bytes).ok()?;
                let (hash, signature) = signed_hash(chain_id, &tx);
                let recovered = match signer {
                    Some(signer) => Some(signer),
                    None => ecrecover(&hash, &signature),
                };
                Some(((hash, signature), recovered))
            })
            .collect();
        RecoveredSignatures { recovered }
    }

    /// The recovered signer, if this (hash, signature) was recovered ahead.
    pub fn get(&self, msg_hash: &Hash, signature: &[u8; 65]) -> Option<Option<Address>> {
        self.recovered.get(&(*msg_hash, *signature)).copied()
    }

    pub fn len(&self) -> usize {
        self.recovered.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recovered.is_empty()
    }
}
