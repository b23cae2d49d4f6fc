//! The host's state store: trie nodes by keccak256 hash, in memory.
//!
//! It is the preimage oracle behind the guest's `read_preimage` import and
//! the sink of its `emit_node` calls. Genesis states are built with the
//! ledger's own trie code, so a genesis root is exactly what the guest
//! would compute for the same accounts.

use std::collections::BTreeMap;
use std::sync::Arc;

use ledger::trie::{fetch_node, Node};
use ledger::{Abi, Account, Address, Hash, PartialTrie, EMPTY_ROOT};

use crate::crypto::{ecrecover, keccak256};
use crate::native::NativeAbi;

/// Trie nodes (or any preimages) keyed by their keccak256 hash.
///
/// Two layers: a shared `base` and the nodes `added` since the last [`NodeStore::settle`]. A
/// clone shares the base, so a run can start from a node's whole history at the cost of its
/// latest batch, and what the run added is [`NodeStore::added`]. The layers are disjoint, and
/// nothing observable depends on which layer holds a node.
#[derive(Clone, Debug, Default)]
pub struct NodeStore {
    base: Arc<BTreeMap<Hash, Vec<u8>>>,
    added: BTreeMap<Hash, Vec<u8>>,
}

impl PartialEq for NodeStore {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for NodeStore {}

impl NodeStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `node` under its keccak256 hash and returns the hash.
    pub fn insert(&mut self, node: &[u8]) -> Hash {
        let hash = keccak256(node);
        if !self.base.contains_key(&hash) {
            self.added.insert(hash, node.to_vec());
        }
        hash
    }

    /// The preimage of `hash`, if stored.
    pub fn get(&self, hash: &Hash) -> Option<&[u8]> {
        self.added
            .get(hash)
            .or_else(|| self.base.get(hash))
            .map(Vec::as_slice)
    }

    /// Forgets the preimage of `hash` (tests use it to make a node
    /// unknown); returns it if it was stored.
    pub fn remove(&mut self, hash: &Hash) -> Option<Vec<u8>> {
        match self.added.remove(hash) {
            Some(node) => Some(node),
            None if self.base.contains_key(hash) => Arc::make_mut(&mut self.base).remove(hash),
            None => None,
        }
    }

    pub fn contains(&self, hash: &Hash) -> bool {
        self.added.contains_key(hash) || self.base.contains_key(hash)
    }

    pub fn len(&self) -> usize {
        self.base.len() + self.added.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All stored `(hash, preimage)` pairs, by hash.
    pub fn iter(&self) -> impl Iterator<Item = (&Hash, &[u8])> {
        let mut base = self.base.iter().peekable();
        let mut added = self.added.iter().peekable();
        std::iter::from_fn(move || {
            // The layers are disjoint: a merge of two sorted runs.
            let take_base = match (base.peek(), added.peek()) {
                (Some((b, _)), Some((a, _))) => b < a,
                (Some(_), None) => true,
                (None, _) => false,
            };
            let (hash, node) = if take_base {
                base.next()?
            } else {
                added.next()?
            };
            Some((hash, node.as_slice()))
        })
    }

    /// The nodes added since the last [`NodeStore::settle`] (or since the clone it was made
    /// from was settled), by hash.
    pub fn added(&self) -> impl Iterator<Item = (&Hash, &[u8])> {
        self.added
            .iter()
            .map(|(hash, node)| (hash, node.as_slice()))
    }

    /// The nodes added that `base` does not hold: what a run on a clone of `base` emitted.
    pub fn added_beyond(&self, base: &NodeStore) -> Vec<Vec<u8>> {
        self.added()
            .filter(|(hash, _)| !base.contains(hash))
            .map(|(_, node)| node.to_vec())
            .collect()
    }

    /// Moves the added nodes into the base; free while no clone shares it, a copy of the base
    /// otherwise.
    pub fn settle(&mut self) {
        if self.added.is_empty() {
            return;
        }
        let base = Arc::make_mut(&mut self.base);
        // `append` rebuilds the whole map: only worth it when the added part is large.
        if self.added.len() > base.len() / 8 {
            base.append(&mut self.added);
        } else {
            base.extend(std::mem::take(&mut self.added));
        }
    }

    /// The account of `address` in the state with root `root` (the default,
    /// zero account if absent).
    pub fn account(&self, root: &Hash, address: &Address) -> Result<Account, ledger::Error> {
        PartialTrie::new(*root).account(&mut StoreReader(self), address)
    }

    /// Every `(key, account)` leaf of the state with root `root`, in key
    /// order; each node is verified against its hash on the way.
    pub fn leaves(&self, root: &Hash) -> Result<Vec<(Hash, Account)>, ledger::Error> {
        let mut reader = StoreReader(self);
        let mut leaves = Vec::new();
        // Right pushed first so the left subtree comes out first.
        let mut pending = vec![*root];
        while let Some(hash) = pending.pop() {
            if hash == EMPTY_ROOT {
                continue;
            }
            match fetch_node(&mut reader, &hash)? {
                Node::Empty => {}
                Node::Leaf { key, value } => leaves.push((key, value)),
                Node::Branch { left, right } => pending.extend([right, left]),
            }
        }
        Ok(leaves)
    }
}

/// Builds the state holding exactly `accounts` (each with nonce 0; a later
/// entry for the same address replaces an earlier one) and returns its root
/// and a store holding all of its nodes.
pub fn genesis(accounts: &[(Address, u128)]) -> (Hash, NodeStore) {
    let mut writer = NativeAbi::new(Vec::new(), NodeStore::new());
    let mut trie = PartialTrie::new(EMPTY_ROOT);
    for (address, balance) in accounts {
        let account = Account {
            balance: *balance,
            nonce: 0,
        };
        // Inserting into a trie that started empty loads nothing, so there
        // is no preimage to miss.
        trie.set_account(&mut writer, address, account)
            .expect("a trie built from empty needs no preimage");
    }
    let root = trie.commit(&mut writer);
    (root, writer.store)
}

/// Read-only view of a store as the ledger's host (no inbox, no output).
struct StoreReader<'a>(&'a NodeStore);

impl Abi for StoreReader<'_> {
    fn inbox_len(&mut self) -> u32 {
        0
    }
    fn read_inbox(&mut self, _offset: u32, _buf: &mut [u8]) -> u32 {
        0
    }
    fn read_preimage(&mut self, hash: &[u8; 32], offset: u32, buf: &mut [u8]) -> Option<u32> {
        copy_preimage(self.0, hash, offset, buf)
    }
    fn emit_node(&mut self, _node: &[u8]) {}
    fn write_output(&mut self, _bytes: &[u8]) {}
    fn keccak256(&mut self, data: &[u8]) -> [u8; 32] {
        keccak256(data)
    }
    fn ecrecover(&mut self, msg_hash: &[u8; 32], sig: &[u8; 65]) -> Option<[u8; 20]> {
        ecrecover(msg_hash, sig)
    }
    fn read_blob(&mut self, _hash: &[u8; 32], _index: u32, _out: &mut [u8; 32]) -> bool {
        false
    }
}

/// Blobs by versioned hash, as a host serves them to `read_blob` (checked against their hashes
/// when they were fetched: `verifier::blobs::check_blobs`). Shared: a blob is 128 KiB and the
/// engines replaying a batch each hold the host.
pub type BlobStore = std::sync::Arc<std::collections::BTreeMap<Hash, Vec<u8>>>;

/// The `read_blob` import's semantics over `blobs`: element `index`'s 32 bytes, `false` for an
/// unknown blob or an index past it.
pub fn copy_blob_element(blobs: &BlobStore, hash: &Hash, index: u32, out: &mut [u8; 32]) -> bool {
    let at = 32 * index as usize;
    match blobs.get(hash).and_then(|blob| blob.get(at..at + 32)) {
        Some(element) => {
            out.copy_from_slice(element);
            true
        }
        None => false,
    }
}

/// The `read_preimage` import's semantics over a store: copy from `offset`
/// at most `min(buf.len(), MAX_CHUNK)` bytes, return the total length.
pub(crate) fn copy_preimage(
    store: &NodeStore,
    hash: &Hash,
    offset: u32,
    buf: &mut [u8],
) -> Option<u32> {
    let preimage = store.get(hash)?;
    let rest = preimage.get(offset as usize..).unwrap_or_default();
    let n = rest.len().min(buf.len()).min(ledger::MAX_CHUNK);
    buf[..n].copy_from_slice(&rest[..n]);
    Some(u32::try_from(preimage.len()).unwrap_or(u32::MAX))
}
