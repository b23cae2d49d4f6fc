//! The state trie: a compact binary trie over 32-byte keys (`keccak256(address)` for the ledger).
//!
//! A key's bits are read most significant first (bit 0 is the top bit of
//! byte 0). A subtree holding no account is `Empty`, one holding exactly one
//! account is a `Leaf` (whatever its depth), one holding two or more is a
//! `Branch` on the next bit. So the trie of a set of accounts has one shape
//! whatever the order of insertions, and a lookup touches about
//! `log2(accounts)` nodes instead of the 256 of a sparse Merkle tree: with the
//! ~11,200 WebAssembly instructions a pure-wasm keccak of 64 bytes costs, the
//! difference was the largest item in a transaction's step count after
//! signature recovery (DESIGN.md). The ledger never deletes an account; the
//! EVM guest deletes keys ([`BinaryTrie::remove`]) and the trie collapses back
//! to the one shape its remaining keys have.
//!
//! The trie is generic over its leaves' value ([`LeafValue`]: a fixed-length
//! encoding per trie): the ledger's [`Account`] (24 bytes) here, the EVM
//! guest's accounts and storage slots in `program/evm`. [`PartialTrie`] is the
//! ledger's trie.
//!
//! # Nodes
//!
//! | node | encoding | length |
//! |---|---|---|
//! | `Empty` | none; its hash is 32 zero bytes | 0 |
//! | `Leaf` | `0x00`, key (32), value (`V::LEN` bytes; the ledger's account: balance u128 LE, nonce u64 LE) | 33 + `V::LEN` (57) |
//! | `Branch` | `0x01`, left child hash (32), right child hash (32) | 65 |
//!
//! A node's hash is keccak256 of its encoding; the state root is the root
//! node's hash (`[0; 32]` for the empty state). Left is bit 0, right bit 1.
//! Inserting a key into a subtree that holds a leaf with another key turns
//! the leaf's position into a chain of branches down to the first bit where
//! the keys differ; the levels above it get an `Empty` sibling.
//!
//! # Partial trie
//!
//! [`PartialTrie`] is what the guest holds during a batch: it starts as the
//! root hash alone and loads nodes from the preimage oracle the first time a
//! lookup or insertion passes through them, verifying each against its
//! hash. Changes are made in memory; [`PartialTrie::commit`] hashes only the
//! nodes changed since they were loaded (each once) and hands every new node
//! to the host with [`Abi::emit_node`], so the host can serve it to the next
//! batch.

use alloc::vec::Vec;

use bincode::{Decode, Encode};

use crate::abi::Abi;
use crate::error::Error;
use crate::types::{Address, Hash};

/// Root of the trie with no accounts (and hash of an `Empty` subtree).
pub const EMPTY_ROOT: Hash = [0; 32];
/// First byte of a leaf's encoding.
pub const LEAF_TAG: u8 = 0;
/// First byte of a branch's encoding.
pub const BRANCH_TAG: u8 = 1;
/// Length of a ledger leaf's encoding.
pub const LEAF_LEN: usize = 33 + Account::LEN;
/// Length of a branch's encoding.
pub const BRANCH_LEN: usize = 65;
/// Bits in a key; a branch can split on bits `0 .. KEY_BITS`.
const KEY_BITS: usize = 256;
/// The longest leaf value any trie may have, so that a node is read in one fixed buffer.
pub const MAX_VALUE_LEN: usize = 192;

/// A leaf's value: a fixed-length encoding, the same for every leaf of one trie.
pub trait LeafValue: Copy + core::fmt::Debug + PartialEq {
    /// Bytes in the encoding; at most [`MAX_VALUE_LEN`].
    const LEN: usize;
    /// Writes the encoding into `out` (exactly `LEN` bytes).
    fn write(&self, out: &mut [u8]);
    /// Decodes `LEN` bytes; `None` if they are not a valid encoding.
    fn read(bytes: &[u8]) -> Option<Self>;
}

/// An account's state. An account never written to reads as the default:
/// balance 0, nonce 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Account {
    /// In wei, as escrowed on L1: u128 holds every ETH there is (u64 held only 18.4 ETH).
    pub balance: u128,
    /// Signed transactions sent so far; the next must carry exactly this.
    pub nonce: u64,
}

impl LeafValue for Account {
    const LEN: usize = 24;

    fn write(&self, out: &mut [u8]) {
        let (balance, nonce) = out.split_at_mut(16);
        balance.copy_from_slice(&self.balance.to_le_bytes());
        nonce.copy_from_slice(&self.nonce.to_le_bytes());
    }

    fn read(bytes: &[u8]) -> Option<Self> {
        let (balance, nonce) = bytes.split_at_checked(16)?;
        Some(Account {
            balance: u128::from_le_bytes(balance.try_into().ok()?),
            nonce: u64::from_le_bytes(nonce.try_into().ok()?),
        })
    }
}

/// The trie key of `address`: keccak256 of its 20 bytes.
pub fn account_key<A: Abi + ?Sized>(abi: &mut A, address: &Address) -> Hash {
    abi.keccak256(address)
}

/// A decoded trie node (children by hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrieNode<V> {
    Empty,
    Leaf { key: Hash, value: V },
    Branch { left: Hash, right: Hash },
}

/// A node of the ledger's trie.
pub type Node = TrieNode<Account>;

impl<V: LeafValue> TrieNode<V> {
    /// The node's encoding (empty for `Empty`).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            TrieNode::Empty => Vec::new(),
            TrieNode::Leaf { key, value } => leaf_bytes(key, value),
            TrieNode::Branch { left, right } => encode_branch(left, right).to_vec(),
        }
    }

    /// Decodes a leaf or branch; `None` for anything that is neither
    /// (the empty string is not a node: `Empty` is never stored).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let (&tag, body) = bytes.split_first()?;
        match (tag, body.len()) {
            (LEAF_TAG, len) if len == 32 + V::LEN => {
                let (key, value) = body.split_at(32);
                Some(TrieNode::Leaf {
                    key: key.try_into().ok()?,
                    value: V::read(value)?,
                })
            }
            (BRANCH_TAG, 64) => {
                let (left, right) = body.split_at(32);
                Some(TrieNode::Branch {
                    left: left.try_into().ok()?,
                    right: right.try_into().ok()?,
                })
            }
            _ => None,
        }
    }
}

/// A ledger leaf: `0x00 || key || balance LE || nonce LE`.
pub fn encode_leaf(key: &Hash, account: &Account) -> [u8; LEAF_LEN] {
    let mut bytes = [0u8; LEAF_LEN];
    write_leaf(key, account, &mut bytes);
    bytes
}

/// `0x00 || key || value` as a vector.
pub fn leaf_bytes<V: LeafValue>(key: &Hash, value: &V) -> Vec<u8> {
    let mut bytes = alloc::vec![0u8; 33 + V::LEN];
    write_leaf(key, value, &mut bytes);
    bytes
}

/// Writes `0x00 || key || value` into `out` (`33 + V::LEN` bytes).
fn write_leaf<V: LeafValue>(key: &Hash, value: &V, out: &mut [u8]) {
    let (tag, rest) = out.split_at_mut(1);
    tag.fill(LEAF_TAG);
    let (key_bytes, value_bytes) = rest.split_at_mut(32);
    key_bytes.copy_from_slice(key);
    value.write(value_bytes);
}

/// `0x01 || left || right`.
pub fn encode_branch(left: &Hash, right: &Hash) -> [u8; BRANCH_LEN] {
    let mut bytes = [0u8; BRANCH_LEN];
    let (tag, rest) = bytes.split_at_mut(1);
    tag.fill(BRANCH_TAG);
    let (left_bytes, right_bytes) = rest.split_at_mut(32);
    left_bytes.copy_from_slice(left);
    right_bytes.copy_from_slice(right);
    bytes
}

/// Bit `depth` of `key`, most significant first; `None` past the last bit.
fn bit(key: &Hash, depth: usize) -> Option<bool> {
    let byte = key.get(depth / 8)?;
    Some((byte >> (7 - depth % 8)) & 1 == 1)
}

/// The first depth at or below `from` where `a` and `b` differ.
fn first_difference(a: &Hash, b: &Hash, from: usize) -> Option<usize> {
    (from..KEY_BITS).find(|&depth| bit(a, depth) != bit(b, depth))
}

/// Index of a node in the partial trie's arena.
type NodeId = usize;

fn child(children: [NodeId; 2], right: bool) -> NodeId {
    if right {
        children[1]
    } else {
        children[0]
    }
}

/// One node of the partial trie. `hash` is `Some` for a node as loaded (or
/// as last committed) and `None` once it, or anything below it, changed.
#[derive(Clone, Copy, Debug)]
enum Slot<V> {
    Empty,
    /// Known only by hash; loaded on first use.
    Unloaded(Hash),
    Leaf {
        key: Hash,
        value: V,
        hash: Option<Hash>,
    },
    Branch {
        children: [NodeId; 2],
        hash: Option<Hash>,
    },
}

/// The ledger's partial trie: leaves are [`Account`]s.
pub type PartialTrie = BinaryTrie<Account>;

/// The part of a trie a batch has touched, loaded lazily from the
/// preimage oracle (see the module docs).
#[derive(Clone, Debug)]
pub struct BinaryTrie<V> {
    /// Arena of nodes; a `NodeId` indexes it. Slots are only ever pushed or
    /// overwritten, never removed, so every id handed out stays valid.
    slots: Vec<Slot<V>>,
    root: NodeId,
    /// Nodes fetched from the oracle so far.
    loaded: u32,
}

impl<V: LeafValue> BinaryTrie<V> {
    /// The trie with root `root` (`EMPTY_ROOT` for no keys), nothing
    /// loaded yet.
    pub fn new(root: Hash) -> Self {
        Self {
            slots: alloc::vec![Self::reference(root)],
            root: 0,
            loaded: 0,
        }
    }

    /// How many nodes have been fetched from the preimage oracle.
    pub fn loaded_nodes(&self) -> u32 {
        self.loaded
    }

    /// The value stored under `key`, `None` if there is none.
    pub fn get<A: Abi + ?Sized>(&mut self, abi: &mut A, key: &Hash) -> Result<Option<V>, Error> {
        let mut id = self.root;
        let mut depth = 0;
        loop {
            self.load(abi, id)?;
            match self.slot(id) {
                Slot::Empty => return Ok(None),
                Slot::Leaf {
                    key: stored, value, ..
                } => return Ok((stored == key).then_some(*value)),
                Slot::Branch { children, hash } => {
                    let right =
                        bit(key, depth).ok_or(Error::CorruptNode(hash.unwrap_or_default()))?;
                    id = child(*children, right);
                    depth += 1;
                }
                Slot::Unloaded(hash) => return Err(Error::CorruptNode(*hash)),
            }
        }
    }

    /// Stores `value` under `key`, creating the leaf if needed.
    pub fn insert<A: Abi + ?Sized>(
        &mut self,
        abi: &mut A,
        key: &Hash,
        value: V,
    ) -> Result<(), Error> {
        let mut id = self.root;
        let mut depth = 0;
        loop {
            self.load(abi, id)?;
            match self.slot_mut(id) {
                slot @ Slot::Empty => {
                    *slot = Slot::Leaf {
                        key: *key,
                        value,
                        hash: None,
                    };
                    return Ok(());
                }
                Slot::Leaf {
                    key: stored,
                    value: stored_value,
                    hash,
                } if stored == key => {
                    *stored_value = value;
                    *hash = None;
                    return Ok(());
                }
                Slot::Leaf { .. } => return self.split_leaf(id, depth, key, value),
                Slot::Branch { children, hash } => {
                    let right =
                        bit(key, depth).ok_or(Error::CorruptNode(hash.unwrap_or_default()))?;
                    // An error further down rejects the whole batch, so a
                    // branch marked changed on the way to it does no harm.
                    *hash = None;
                    id = child(*children, right);
                    depth += 1;
                }
                Slot::Unloaded(hash) => return Err(Error::CorruptNode(*hash)),
            }
        }
    }

    /// Removes `key` if present. The trie keeps its one shape: a branch left
    /// with a single leaf below it and nothing else becomes that leaf, and so
    /// on upwards, so the root is what inserting the remaining keys alone gives.
    pub fn remove<A: Abi + ?Sized>(&mut self, abi: &mut A, key: &Hash) -> Result<(), Error> {
        // The branches passed on the way down (at most KEY_BITS of them).
        let mut path: Vec<NodeId> = Vec::new();
        let mut id = self.root;
        let mut depth = 0;
        loop {
            self.load(abi, id)?;
            match self.slot(id) {
                Slot::Empty => return Ok(()),
                Slot::Leaf { key: stored, .. } if stored != key => return Ok(()),
                Slot::Leaf { .. } => break,
                Slot::Branch { children, hash } => {
                    let right =
                        bit(key, depth).ok_or(Error::CorruptNode(hash.unwrap_or_default()))?;
                    path.push(id);
                    id = child(*children, right);
                    depth += 1;
                }
                Slot::Unloaded(hash) => return Err(Error::CorruptNode(*hash)),
            }
        }
        *self.slot_mut(id) = Slot::Empty;
        // Walk back up: the emptied (or collapsed) subtree at `id` may pull its parent down.
        let mut below = Slot::Empty;
        let mut collapsing = true;
        while let Some(parent) = path.pop() {
            let Slot::Branch { children, .. } = *self.slot(parent) else {
                return Err(Error::CorruptNode(EMPTY_ROOT));
            };
            if collapsing {
                let sibling = if children[0] == id {
                    children[1]
                } else {
                    children[0]
                };
                self.load(abi, sibling)?;
                match (below, *self.slot(sibling)) {
                    // Nothing left below the parent: it is empty.
                    (Slot::Empty, Slot::Empty) => below = Slot::Empty,
                    // One leaf and nothing else below the parent: the leaf moves up.
                    (Slot::Empty, leaf @ Slot::Leaf { .. })
                    | (leaf @ Slot::Leaf { .. }, Slot::Empty) => below = leaf,
                    // Two subtrees remain: the parent stays a branch, with the new child.
                    _ => collapsing = false,
                }
                if collapsing {
                    *self.slot_mut(parent) = below;
                    id = parent;
                    continue;
                }
                // The child at `id` already holds `below`.
                *self.slot_mut(id) = below;
            }
            if let Slot::Branch { hash, .. } = self.slot_mut(parent) {
                *hash = None;
            }
            id = parent;
        }
        Ok(())
    }

    /// Hashes every node changed since it was loaded or last committed,
    /// passes each such node's encoding to [`Abi::emit_node`] (children
    /// before parents, left before right) and returns the root hash.
    pub fn commit<A: Abi + ?Sized>(&mut self, abi: &mut A) -> Hash {
        self.hash_node(abi, self.root)
    }

    fn hash_node<A: Abi + ?Sized>(&mut self, abi: &mut A, id: NodeId) -> Hash {
        match *self.slot(id) {
            Slot::Empty => EMPTY_ROOT,
            Slot::Unloaded(hash)
            | Slot::Leaf {
                hash: Some(hash), ..
            }
            | Slot::Branch {
                hash: Some(hash), ..
            } => hash,
            Slot::Leaf {
                key,
                value,
                hash: None,
            } => {
                let mut buf = [0u8; 33 + MAX_VALUE_LEN];
                let bytes = buf.get_mut(..33 + V::LEN).unwrap_or_default();
                write_leaf(&key, &value, bytes);
                let hash = abi.keccak256(bytes);
                abi.emit_node(bytes);
                if let Slot::Leaf {
                    hash: slot_hash, ..
                } = self.slot_mut(id)
                {
                    *slot_hash = Some(hash);
                }
                hash
            }
            Slot::Branch {
                children: [left, right],
                hash: None,
            } => {
                // Depth is at most KEY_BITS + 1 (branches split on distinct bits).
                let left_hash = self.hash_node(abi, left);
                let right_hash = self.hash_node(abi, right);
                let bytes = encode_branch(&left_hash, &right_hash);
                let hash = abi.keccak256(&bytes);
                abi.emit_node(&bytes);
                if let Slot::Branch {
                    hash: slot_hash, ..
                } = self.slot_mut(id)
                {
                    *slot_hash = Some(hash);
                }
                hash
            }
        }
    }

    /// Turns the leaf at `id` (depth `depth`, another key than `key`) into
    /// the branches that separate it from a new leaf for `key`.
    fn split_leaf(&mut self, id: NodeId, depth: usize, key: &Hash, value: V) -> Result<(), Error> {
        let existing = *self.slot(id);
        let Slot::Leaf {
            key: existing_key,
            hash: existing_hash,
            ..
        } = existing
        else {
            return Err(Error::CorruptNode(EMPTY_ROOT));
        };
        // None only if a stored leaf sits where its own key does not lead:
        // a pre-state no honest STF produces.
        let split_at = first_difference(key, &existing_key, depth)
            .ok_or(Error::CorruptNode(existing_hash.unwrap_or_default()))?;
        let key_goes_right = bit(key, split_at).unwrap_or_default();
        // The moved leaf keeps its encoding (its hash does not depend on its depth).
        let old_leaf = self.push(existing);
        let new_leaf = self.push(Slot::Leaf {
            key: *key,
            value,
            hash: None,
        });
        let mut children = if key_goes_right {
            [old_leaf, new_leaf]
        } else {
            [new_leaf, old_leaf]
        };
        for level in (depth..split_at).rev() {
            let below = self.push(Slot::Branch {
                children,
                hash: None,
            });
            let empty = self.push(Slot::Empty);
            children = if bit(key, level).unwrap_or_default() {
                [empty, below]
            } else {
                [below, empty]
            };
        }
        *self.slot_mut(id) = Slot::Branch {
            children,
            hash: None,
        };
        Ok(())
    }

    /// Replaces an `Unloaded` slot by the node fetched and verified from the
    /// oracle; other slots are left alone.
    fn load<A: Abi + ?Sized>(&mut self, abi: &mut A, id: NodeId) -> Result<(), Error> {
        let Slot::Unloaded(hash) = *self.slot(id) else {
            return Ok(());
        };
        let loaded = match fetch_trie_node::<A, V>(abi, &hash)? {
            TrieNode::Empty => return Err(Error::CorruptNode(hash)),
            TrieNode::Leaf { key, value } => Slot::Leaf {
                key,
                value,
                hash: Some(hash),
            },
            TrieNode::Branch { left, right } => {
                let left = self.push(Self::reference(left));
                let right = self.push(Self::reference(right));
                Slot::Branch {
                    children: [left, right],
                    hash: Some(hash),
                }
            }
        };
        *self.slot_mut(id) = loaded;
        self.loaded = self.loaded.saturating_add(1);
        Ok(())
    }

    fn reference(hash: Hash) -> Slot<V> {
        if hash == EMPTY_ROOT {
            Slot::Empty
        } else {
            Slot::Unloaded(hash)
        }
    }

    fn push(&mut self, slot: Slot<V>) -> NodeId {
        self.slots.push(slot);
        self.slots.len() - 1
    }

    #[allow(clippy::indexing_slicing)] // ids come only from `push` and slots are never removed
    fn slot(&self, id: NodeId) -> &Slot<V> {
        &self.slots[id]
    }

    #[allow(clippy::indexing_slicing)] // ids come only from `push` and slots are never removed
    fn slot_mut(&mut self, id: NodeId) -> &mut Slot<V> {
        &mut self.slots[id]
    }
}

impl PartialTrie {
    /// The account of `address`, the default (zero) account if absent.
    pub fn account<A: Abi + ?Sized>(
        &mut self,
        abi: &mut A,
        address: &Address,
    ) -> Result<Account, Error> {
        let key = account_key(abi, address);
        Ok(self.get(abi, &key)?.unwrap_or_default())
    }

    /// Stores `account` for `address`.
    pub fn set_account<A: Abi + ?Sized>(
        &mut self,
        abi: &mut A,
        address: &Address,
        account: Account,
    ) -> Result<(), Error> {
        let key = account_key(abi, address);
        self.insert(abi, &key, account)
    }
}

/// Fetches the ledger trie's node with hash `hash` (see [`fetch_trie_node`]).
pub fn fetch_node<A: Abi + ?Sized>(abi: &mut A, hash: &Hash) -> Result<Node, Error> {
    fetch_trie_node::<A, Account>(abi, hash)
}

/// Fetches the node with hash `hash` from the preimage oracle and checks
/// that it hashes to `hash` and is a well-formed leaf or branch.
pub fn fetch_trie_node<A: Abi + ?Sized, V: LeafValue>(
    abi: &mut A,
    hash: &Hash,
) -> Result<TrieNode<V>, Error> {
    let mut buf = [0u8; 33 + MAX_VALUE_LEN];
    let longest = BRANCH_LEN.max(33 + V::LEN);
    let window = buf.get_mut(..longest).ok_or(Error::CorruptNode(*hash))?;
    let total = abi
        .read_preimage(hash, 0, window)
        .ok_or(Error::UnknownPreimage(*hash))?;
    // Longer than any node: whatever it is, it is not a trie node.
    let bytes = usize::try_from(total)
        .ok()
        .and_then(|len| window.get(..len))
        .ok_or(Error::CorruptNode(*hash))?;
    if abi.keccak256(bytes) != *hash {
        return Err(Error::PreimageMismatch(*hash));
    }
    TrieNode::decode(bytes).ok_or(Error::CorruptNode(*hash))
}

#[cfg(test)]
mod tests;
