//! The state trie: a compact binary trie over `keccak256(address)`.
//!
//! A key's bits are read most significant first (bit 0 is the top bit of
//! byte 0). A subtree holding no account is `Empty`, one holding exactly one
//! account is a `Leaf` (whatever its depth), one holding two or more is a
//! `Branch` on the next bit. So the trie of a set of accounts has one shape
//! whatever the order of insertions, and a lookup touches about
//! `log2(accounts)` nodes instead of the 256 of a sparse Merkle tree: with the
//! ~11,200 WebAssembly instructions a pure-wasm keccak of 64 bytes costs, the
//! difference was the largest item in a transaction's step count after
//! signature recovery (DESIGN.md). Accounts are never deleted.
//!
//! # Nodes
//!
//! | node | encoding | length |
//! |---|---|---|
//! | `Empty` | none; its hash is 32 zero bytes | 0 |
//! | `Leaf` | `0x00`, key (32), balance (u128 LE), nonce (u64 LE) | 57 |
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
/// Length of a leaf's encoding.
pub const LEAF_LEN: usize = 57;
/// Length of a branch's encoding.
pub const BRANCH_LEN: usize = 65;
/// Bits in a key; a branch can split on bits `0 .. KEY_BITS`.
const KEY_BITS: usize = 256;

/// An account's state. An account never written to reads as the default:
/// balance 0, nonce 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Account {
    /// In wei, as escrowed on L1: u128 holds every ETH there is (u64 held only 18.4 ETH).
    pub balance: u128,
    /// Signed transactions sent so far; the next must carry exactly this.
    pub nonce: u64,
}

/// The trie key of `address`: keccak256 of its 20 bytes.
pub fn account_key<A: Abi + ?Sized>(abi: &mut A, address: &Address) -> Hash {
    abi.keccak256(address)
}

/// A decoded trie node (children by hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Empty,
    Leaf { key: Hash, account: Account },
    Branch { left: Hash, right: Hash },
}

impl Node {
    /// The node's encoding (empty for `Empty`).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Node::Empty => Vec::new(),
            Node::Leaf { key, account } => encode_leaf(key, account).to_vec(),
            Node::Branch { left, right } => encode_branch(left, right).to_vec(),
        }
    }

    /// Decodes a leaf or branch; `None` for anything that is neither
    /// (the empty string is not a node: `Empty` is never stored).
    pub fn decode(bytes: &[u8]) -> Option<Node> {
        let (&tag, body) = bytes.split_first()?;
        match (tag, body.len()) {
            (LEAF_TAG, 56) => {
                let (key, rest) = body.split_at(32);
                let (balance, nonce) = rest.split_at(16);
                Some(Node::Leaf {
                    key: key.try_into().ok()?,
                    account: Account {
                        balance: u128::from_le_bytes(balance.try_into().ok()?),
                        nonce: u64::from_le_bytes(nonce.try_into().ok()?),
                    },
                })
            }
            (BRANCH_TAG, 64) => {
                let (left, right) = body.split_at(32);
                Some(Node::Branch {
                    left: left.try_into().ok()?,
                    right: right.try_into().ok()?,
                })
            }
            _ => None,
        }
    }
}

/// `0x00 || key || balance LE || nonce LE`.
pub fn encode_leaf(key: &Hash, account: &Account) -> [u8; LEAF_LEN] {
    let mut bytes = [0u8; LEAF_LEN];
    let (tag, rest) = bytes.split_at_mut(1);
    tag.fill(LEAF_TAG);
    let (key_bytes, rest) = rest.split_at_mut(32);
    key_bytes.copy_from_slice(key);
    let (balance, nonce) = rest.split_at_mut(16);
    balance.copy_from_slice(&account.balance.to_le_bytes());
    nonce.copy_from_slice(&account.nonce.to_le_bytes());
    bytes
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
enum Slot {
    Empty,
    /// Known only by hash; loaded on first use.
    Unloaded(Hash),
    Leaf {
        key: Hash,
        account: Account,
        hash: Option<Hash>,
    },
    Branch {
        children: [NodeId; 2],
        hash: Option<Hash>,
    },
}

/// The part of the state trie a batch has touched, loaded lazily from the
/// preimage oracle (see the module docs).
#[derive(Clone, Debug)]
pub struct PartialTrie {
    /// Arena of nodes; a `NodeId` indexes it. Slots are only ever pushed or
    /// overwritten, never removed, so every id handed out stays valid.
    slots: Vec<Slot>,
    root: NodeId,
    /// Nodes fetched from the oracle so far.
    loaded: u32,
}

impl PartialTrie {
    /// The trie with root `root` (`EMPTY_ROOT` for no accounts), nothing
    /// loaded yet.
    pub fn new(root: Hash) -> Self {
        let slot = if root == EMPTY_ROOT {
            Slot::Empty
        } else {
            Slot::Unloaded(root)
        };
        Self {
            slots: alloc::vec![slot],
            root: 0,
            loaded: 0,
        }
    }

    /// How many nodes have been fetched from the preimage oracle.
    pub fn loaded_nodes(&self) -> u32 {
        self.loaded
    }

    /// The account stored under `key`, `None` if there is none.
    pub fn get<A: Abi + ?Sized>(
        &mut self,
        abi: &mut A,
        key: &Hash,
    ) -> Result<Option<Account>, Error> {
        let mut id = self.root;
        let mut depth = 0;
        loop {
            self.load(abi, id)?;
            match self.slot(id) {
                Slot::Empty => return Ok(None),
                Slot::Leaf {
                    key: stored,
                    account,
                    ..
                } => return Ok((stored == key).then_some(*account)),
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

    /// Stores `account` under `key`, creating the leaf if needed.
    pub fn insert<A: Abi + ?Sized>(
        &mut self,
        abi: &mut A,
        key: &Hash,
        account: Account,
    ) -> Result<(), Error> {
        let mut id = self.root;
        let mut depth = 0;
        loop {
            self.load(abi, id)?;
            match self.slot_mut(id) {
                slot @ Slot::Empty => {
                    *slot = Slot::Leaf {
                        key: *key,
                        account,
                        hash: None,
                    };
                    return Ok(());
                }
                Slot::Leaf {
                    key: stored,
                    account: stored_account,
                    hash,
                } if stored == key => {
                    *stored_account = account;
                    *hash = None;
                    return Ok(());
                }
                Slot::Leaf { .. } => return self.split_leaf(id, depth, key, account),
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
                account,
                hash: None,
            } => {
                let bytes = encode_leaf(&key, &account);
                let hash = abi.keccak256(&bytes);
                abi.emit_node(&bytes);
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
    fn split_leaf(
        &mut self,
        id: NodeId,
        depth: usize,
        key: &Hash,
        account: Account,
    ) -> Result<(), Error> {
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
        let old_leaf = self.push(existing);
        let new_leaf = self.push(Slot::Leaf {
            key: *key,
            account,
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
        let loaded = match fetch_node(abi, &hash)? {
            Node::Empty => return Err(Error::CorruptNode(hash)),
            Node::Leaf { key, account } => Slot::Leaf {
                key,
                account,
                hash: Some(hash),
            },
            Node::Branch { left, right } => {
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

    fn reference(hash: Hash) -> Slot {
        if hash == EMPTY_ROOT {
            Slot::Empty
        } else {
            Slot::Unloaded(hash)
        }
    }

    fn push(&mut self, slot: Slot) -> NodeId {
        self.slots.push(slot);
        self.slots.len() - 1
    }

    #[allow(clippy::indexing_slicing)] // ids come only from `push` and slots are never removed
    fn slot(&self, id: NodeId) -> &Slot {
        &self.slots[id]
    }

    #[allow(clippy::indexing_slicing)] // ids come only from `push` and slots are never removed
    fn slot_mut(&mut self, id: NodeId) -> &mut Slot {
        &mut self.slots[id]
    }
}

/// Fetches the node with hash `hash` from the preimage oracle and checks
/// that it hashes to `hash` and is a well-formed leaf or branch.
pub fn fetch_node<A: Abi + ?Sized>(abi: &mut A, hash: &Hash) -> Result<Node, Error> {
    let mut buf = [0u8; BRANCH_LEN];
    let total = abi
        .read_preimage(hash, 0, &mut buf)
        .ok_or(Error::UnknownPreimage(*hash))?;
    // Longer than any node: whatever it is, it is not a trie node.
    let bytes = usize::try_from(total)
        .ok()
        .and_then(|len| buf.get(..len))
        .ok_or(Error::CorruptNode(*hash))?;
    if abi.keccak256(bytes) != *hash {
        return Err(Error::PreimageMismatch(*hash));
    }
    Node::decode(bytes).ok_or(Error::CorruptNode(*hash))
}

#[cfg(test)]
mod tests;
