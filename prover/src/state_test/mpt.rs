//! Ethereum's commitments to a post-state, recomputed from the executor's plain account map: the
//! secure Merkle-Patricia state root and the logs hash the fixtures expect.
//!
//! Computing them here, once, from a plain `BTreeMap` is what lets the runner judge any executor:
//! the guest keeps its state in the rollup's own trie, not in Ethereum's, so it could never
//! produce the fixture's root itself. The encoding follows the Yellow Paper (appendix D, and
//! section 4.1 for the account): keys are keccak-hashed ("secure" trie), leaves are RLP.

use std::collections::BTreeMap;

use alloy_primitives::{keccak256, Address, Log, B256, U256};
use alloy_rlp::{Encodable, Header};
use alloy_trie::{HashBuilder, Nibbles, EMPTY_ROOT_HASH};

use super::PreAccount;

/// The state root of `post`: the trie over keccak(address) → rlp([nonce, balance, storage_root,
/// code_hash]), where each account's storage root is the trie over keccak(slot as 32 bytes) →
/// rlp(value) for its nonzero values.
pub fn state_root(post: &BTreeMap<Address, PreAccount>) -> B256 {
    let leaves = post.iter().map(|(address, account)| {
        (
            keccak256(address),
            account_rlp(account, storage_root(&account.storage)),
        )
    });
    trie_root(leaves)
}

/// An account's storage root; zero values are absent from the trie.
pub fn storage_root(storage: &BTreeMap<U256, U256>) -> B256 {
    let leaves = storage
        .iter()
        .filter(|(_, value)| !value.is_zero())
        .map(|(slot, value)| {
            (
                keccak256(slot.to_be_bytes::<32>()),
                alloy_rlp::encode(value),
            )
        });
    trie_root(leaves)
}

/// keccak256 of the RLP list of logs, each log as [address, [topics...], data].
pub fn logs_hash(logs: &[Log]) -> B256 {
    let mut out = Vec::with_capacity(alloy_rlp::list_length(logs));
    alloy_rlp::encode_list(logs, &mut out);
    keccak256(&out)
}

/// rlp([nonce, balance, storage_root, keccak(code)]).
fn account_rlp(account: &PreAccount, storage_root: B256) -> Vec<u8> {
    let code_hash = keccak256(&account.code);
    let payload_length = account.nonce.length()
        + account.balance.length()
        + storage_root.length()
        + code_hash.length();
    let mut out = Vec::with_capacity(payload_length + 3);
    Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    account.nonce.encode(&mut out);
    account.balance.encode(&mut out);
    storage_root.encode(&mut out);
    code_hash.encode(&mut out);
    out
}

/// The root of the trie holding `leaves` (hashed key → encoded value), in any order.
fn trie_root(leaves: impl Iterator<Item = (B256, Vec<u8>)>) -> B256 {
    let mut leaves: Vec<_> = leaves.collect();
    if leaves.is_empty() {
        return EMPTY_ROOT_HASH;
    }
    // The hash builder takes leaves in key order.
    leaves.sort_unstable_by_key(|(key, _)| *key);
    let mut builder = HashBuilder::default();
    for (key, value) in &leaves {
        builder.add_leaf(Nibbles::unpack(key), value);
    }
    builder.root()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;

    #[test]
    fn empty_state_and_empty_logs_have_ethereums_constants() {
        assert_eq!(
            state_root(&BTreeMap::new()),
            b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
        );
        // keccak256(rlp([])) = keccak256(0xc0), every block header's "no ommers" hash.
        assert_eq!(
            logs_hash(&[]),
            b256!("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")
        );
    }

    #[test]
    fn zero_slots_are_not_in_the_storage_trie() {
        let zero = BTreeMap::from([(U256::from(1), U256::ZERO)]);
        assert_eq!(storage_root(&zero), EMPTY_ROOT_HASH);
        let one = BTreeMap::from([(U256::from(1), U256::from(1))]);
        assert_ne!(storage_root(&one), EMPTY_ROOT_HASH);
    }
}
