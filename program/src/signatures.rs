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

use alloy_consensus::TxEnvelope;
use alloy_eips::eip2718::Decodable2718;

/// The `ecrecover` call the EVM STF makes for a transaction's sender (its
/// `transaction::recover`): the signature hash, and `r ‖ s ‖ v`. Were it ever to differ, the
/// cache would only miss: its entries are keyed by what is asked.
pub fn evm_sender_key(envelope: &TxEnvelope) -> (Hash, [u8; 65]) {
    let (hash, signature) = match envelope {
        TxEnvelope::Legacy(signed) => (signed.signature_hash(), signed.signature()),
        TxEnvelope::Eip2930(signed) => (signed.signature_hash(), signed.signature()),
        TxEnvelope::Eip1559(signed) => (signed.signature_hash(), signed.signature()),
        TxEnvelope::Eip7702(signed) => (signed.signature_hash(), signed.signature()),
        TxEnvelope::Eip4844(signed) => (signed.signature_hash(), signed.signature()),
    };
    let mut sig = [0u8; 65];
    sig[..32].copy_from_slice(&signature.r().to_be_bytes::<32>());
    sig[32..64].copy_from_slice(&signature.s().to_be_bytes::<32>());
    sig[64] = u8::from(signature.v());
    (hash.0, sig)
}

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

    /// The signers of the EVM transactions in a sequencer section (`evm_stf::BlockList`),
    /// recovered in parallel except where `known` gives one (by transaction hash): what the EVM
    /// STF's `ecrecover` calls for their senders ask. A section or transaction that does not
    /// decode adds nothing.
    pub fn of_evm_section_known(
        section: &[u8],
        known: impl Fn(&Hash) -> Option<Address> + Sync,
    ) -> RecoveredSignatures {
        let Some(list) = evm_stf::BlockList::from_bytes(section) else {
            return RecoveredSignatures::default();
        };
        let raw: Vec<&Vec<u8>> = list.0.iter().flat_map(|b| b.transactions.iter()).collect();
        let recovered = raw
            .par_iter()
            .filter_map(|bytes| {
                let envelope = TxEnvelope::decode_2718(&mut bytes.as_slice()).ok()?;
                let (hash, signature) = evm_sender_key(&envelope);
                let signer = match known(&keccak256(bytes)) {
                    Some(signer) => Some(signer),
                    None => ecrecover(&hash, &signature),
                };
                Some(((hash, signature), signer))
            })
            .collect();
        RecoveredSignatures { recovered }
    }

    /// Signers known already (a pool's admitted transactions), keyed as the EVM STF asks.
    pub fn of_evm_senders<'a>(
        senders: impl IntoIterator<Item = (&'a TxEnvelope, Address)>,
    ) -> RecoveredSignatures {
        let recovered = senders
            .into_iter()
            .map(|(envelope, sender)| (evm_sender_key(envelope), Some(sender)))
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
