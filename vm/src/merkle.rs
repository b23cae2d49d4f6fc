//! keccak256 and the binary Merkle trees every committed part of the machine uses.
//!
//! Consensus format: a tree of height `h` has `2^h` leaves of 32 bytes. A leaf's node value is its
//! raw 32 bytes (as in Cannon: fixed heights keep leaves and inner nodes apart); an inner node is
//! `keccak256(left || right)`. Missing leaves are zero, so `ZERO[h]` is the root of an all-zero tree
//! of height `h`. Word arrays (value stack, frames, globals, tables) pack four little-endian `u64`
//! words per leaf.

use std::sync::OnceLock;

use sha3::{Digest, Keccak256};

pub type Hash = [u8; 32];

/// Highest tree any structure uses: 2^32 leaves is more than 4 GiB of memory in 32-byte leaves.
pub const MAX_HEIGHT: usize = 40;

pub fn keccak(data: &[u8]) -> Hash {
    Keccak256::digest(data).into()
}

#[inline]
pub fn hash_pair(left: &Hash, right: &Hash) -> Hash {
    let mut h = Keccak256::new();
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// `ZERO[h]`: root of an all-zero tree of height `h`.
pub fn zero_hashes() -> &'static [Hash; MAX_HEIGHT + 1] {
    static ZERO: OnceLock<[Hash; MAX_HEIGHT + 1]> = OnceLock::new();
    ZERO.get_or_init(|| {
        let mut z = [[0u8; 32]; MAX_HEIGHT + 1];
        for h in 1..=MAX_HEIGHT {
            z[h] = hash_pair(&z[h - 1], &z[h - 1]);
        }
        z
    })
}

/// Smallest `h` with `2^h >= n` (0 for n <= 1).
pub fn height_for(n: u64) -> usize {
    if n <= 1 {
        0
    } else {
        (64 - (n - 1).leading_zeros()) as usize
    }
}

pub const WORDS_PER_LEAF: usize = 4;

/// Packs words `4i .. 4i+4` of `words` (zero past the end) into leaf `i`.
pub fn word_leaf(words: &[u64], leaf: usize) -> Hash {
    let mut out = [0u8; 32];
    for k in 0..WORDS_PER_LEAF {
        if let Some(w) = words.get(leaf * WORDS_PER_LEAF + k) {
            out[k * 8..k * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
    }
    out
}

/// Incremental Merkle root of a word array. It keeps a copy of the words it last hashed and, on the
/// next call, re-hashes only the paths of leaves whose words changed: stepping never pays for
/// hashing, and the machine's word arrays are small next to memory, so the comparison is cheap.
#[derive(Clone, Debug, Default)]
pub struct WordTree {
    height: usize,
    /// Heap layout: `nodes[1]` is the root, children of `i` are `2i`, `2i+1`; leaves at `2^height..`.
    nodes: Vec<Hash>,
    shadow: Vec<u64>,
}

impl WordTree {
    /// Root over `words` laid into a tree sized for `capacity_words` (at least `words.len()`).
    pub fn root(&mut self, words: &[u64], capacity_words: u64) -> Hash {
        let capacity = capacity_words.max(words.len() as u64);
        let height = height_for(capacity.div_ceil(WORDS_PER_LEAF as u64));
        let leaves = 1usize << height;
        if self.nodes.len() != 2 * leaves || self.height != height {
            self.rebuild(words, height);
            return self.nodes[1];
        }
        let compared = words.len().max(self.shadow.len());
        let mut dirty: Vec<usize> = Vec::new();
        let mut leaf = 0;
        while leaf * WORDS_PER_LEAF < compared {
            let range = leaf * WORDS_PER_LEAF..(leaf + 1) * WORDS_PER_LEAF;
            let now = (range.start..range.end).map(|i| words.get(i).copied().unwrap_or(0));
            let then = (range.start..range.end).map(|i| self.shadow.get(i).copied().unwrap_or(0));
            if !now.eq(then) {
                dirty.push(leaves + leaf);
                self.nodes[leaves + leaf] = word_leaf(words, leaf);
            }
            leaf += 1;
        }
        self.shadow.clear();
        self.shadow.extend_from_slice(words);
        while !dirty.is_empty() && dirty[0] > 1 {
            let mut parents: Vec<usize> = dirty.iter().map(|i| i / 2).collect();
            parents.dedup();
            for &p in &parents {
                self.nodes[p] = hash_pair(&self.nodes[2 * p], &self.nodes[2 * p + 1]);
            }
            dirty = parents;
        }
        self.nodes[1]
    }

    fn rebuild(&mut self, words: &[u64], height: usize) {
        let leaves = 1usize << height;
        self.height = height;
        self.nodes = vec![[0u8; 32]; 2 * leaves];
        for leaf in 0..leaves {
            self.nodes[leaves + leaf] = word_leaf(words, leaf);
        }
        for i in (1..leaves).rev() {
            self.nodes[i] = hash_pair(&self.nodes[2 * i], &self.nodes[2 * i + 1]);
        }
        if leaves == 1 {
            // Height 0: the root is the single leaf, already in place at index 1.
        }
        self.shadow.clear();
        self.shadow.extend_from_slice(words);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_root(words: &[u64], capacity: u64) -> Hash {
        let height = height_for(capacity.max(words.len() as u64).div_ceil(4));
        let mut level: Vec<Hash> = (0..1usize << height).map(|i| word_leaf(words, i)).collect();
        while level.len() > 1 {
            level = level.chunks(2).map(|p| hash_pair(&p[0], &p[1])).collect();
        }
        level[0]
    }

    #[test]
    fn incremental_root_matches_naive() {
        let mut tree = WordTree::default();
        let mut words: Vec<u64> = (0..37).collect();
        assert_eq!(tree.root(&words, 64), naive_root(&words, 64));
        words[5] = 99;
        words[36] = 7;
        assert_eq!(tree.root(&words, 64), naive_root(&words, 64));
        words.truncate(10);
        assert_eq!(tree.root(&words, 64), naive_root(&words, 64));
        words.resize(200, 3);
        assert_eq!(tree.root(&words, 200), naive_root(&words, 200));
    }

    #[test]
    fn golden_zero_hashes() {
        // keccak256 of 64 zero bytes: a fixed, well-known value.
        let z1 = zero_hashes()[1];
        assert_eq!(
            z1.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "ad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5"
        );
    }
}
