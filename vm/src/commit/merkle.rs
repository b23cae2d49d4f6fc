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

    /// Height of the tree as of the last [`WordTree::root`].
    pub fn height(&self) -> usize {
        self.height
    }

    /// Leaf `leaf` and its siblings bottom first, as of the last [`WordTree::root`]; `None` past
    /// the tree.
    pub fn proof(&self, leaf: usize) -> Option<(Hash, Vec<Hash>)> {
        let leaves = 1usize << self.height;
        if leaf >= leaves || self.nodes.len() != 2 * leaves {
            return None;
        }
        let mut at = leaves + leaf;
        let mut path = Vec::with_capacity(self.height);
        while at > 1 {
            path.push(self.nodes[at ^ 1]);
            at /= 2;
        }
        Some((self.nodes[leaves + leaf], path))
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

/// A static tree over raw 32-byte leaves (the module's code, call targets, branch table, data),
/// built once and kept for proofs. Levels are stored unpadded: a missing node at level `k` is
/// `ZERO[k]`, so a tree of `n` leaves costs about `2n` nodes whatever its height.
#[derive(Clone, Debug, Default)]
pub struct LeafTree {
    /// `levels[0]` are the leaves, `levels[height]` is the root (one node; absent when empty).
    levels: Vec<Vec<Hash>>,
}

impl LeafTree {
    pub fn new(leaves: Vec<Hash>) -> LeafTree {
        let height = height_for(leaves.len() as u64);
        let zero = zero_hashes();
        let mut levels = vec![leaves];
        for k in 0..height {
            let below = &levels[k];
            let next: Vec<Hash> = below
                .chunks(2)
                .map(|pair| hash_pair(&pair[0], pair.get(1).unwrap_or(&zero[k])))
                .collect();
            levels.push(next);
        }
        LeafTree { levels }
    }

    /// Levels between a leaf and the root: `height_for(leaf count)`.
    pub fn height(&self) -> usize {
        self.levels.len() - 1
    }

    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The root; `ZERO[0]` (32 zero bytes) for an empty tree.
    pub fn root(&self) -> Hash {
        self.levels[self.height()]
            .first()
            .copied()
            .unwrap_or(zero_hashes()[0])
    }

    pub fn leaf(&self, index: usize) -> Option<Hash> {
        self.levels[0].get(index).copied()
    }

    /// Siblings of leaf `index` from the bottom up (`height()` of them), or `None` past the end.
    pub fn path(&self, index: usize) -> Option<Vec<Hash>> {
        self.leaf(index)?;
        let zero = zero_hashes();
        let mut at = index;
        let path = (0..self.height())
            .map(|k| {
                let sibling = self.levels[k].get(at ^ 1).copied().unwrap_or(zero[k]);
                at >>= 1;
                sibling
            })
            .collect();
        Some(path)
    }
}

/// Whether `leaf` sits at `index` under `root`, given its siblings bottom first. The path length
/// is the tree height: the caller must compare it with the height it derives from the committed
/// leaf count, because leaves and inner nodes are both 32 bytes and only fixed heights keep them
/// apart. False on any mismatch (including `index >= 2^path.len()`); never panics.
pub fn verify_path(leaf: &Hash, index: u64, path: &[Hash], root: &Hash) -> bool {
    if path.len() > MAX_HEIGHT || (path.len() < 64 && index >> path.len() != 0) {
        return false;
    }
    let mut node = *leaf;
    let mut at = index;
    for sibling in path {
        node = if at & 1 == 0 {
            hash_pair(&node, sibling)
        } else {
            hash_pair(sibling, &node)
        };
        at >>= 1;
    }
    node == *root
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
    fn word_tree_proofs_verify() {
        let mut tree = WordTree::default();
        let words: Vec<u64> = (0..37).collect();
        let root = tree.root(&words, 40);
        for leaf in 0..16 {
            let (value, path) = tree.proof(leaf).unwrap();
            assert_eq!(value, word_leaf(&words, leaf));
            assert!(verify_path(&value, leaf as u64, &path, &root));
        }
        assert!(tree.proof(16).is_none());
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

    fn leaf(i: u8) -> Hash {
        [i; 32]
    }

    #[test]
    fn leaf_tree_root_matches_padded_naive_tree() {
        for n in [0usize, 1, 2, 3, 5, 8, 13] {
            let leaves: Vec<Hash> = (0..n).map(|i| leaf(i as u8 + 1)).collect();
            let tree = LeafTree::new(leaves.clone());
            let height = height_for(n as u64);
            assert_eq!(tree.height(), height);
            let mut level: Vec<Hash> = (0..1usize << height)
                .map(|i| leaves.get(i).copied().unwrap_or([0; 32]))
                .collect();
            while level.len() > 1 {
                level = level.chunks(2).map(|p| hash_pair(&p[0], &p[1])).collect();
            }
            assert_eq!(tree.root(), level[0], "n = {n}");
            for (i, leaf) in leaves.iter().enumerate() {
                let path = tree.path(i).unwrap();
                assert_eq!(path.len(), height);
                assert!(verify_path(leaf, i as u64, &path, &tree.root()));
            }
            assert!(tree.path(n).is_none());
        }
    }

    #[test]
    fn verify_path_rejects_tampering() {
        let leaves: Vec<Hash> = (0..6).map(|i| leaf(i + 1)).collect();
        let tree = LeafTree::new(leaves.clone());
        let root = tree.root();
        let path = tree.path(4).unwrap();
        assert!(verify_path(&leaves[4], 4, &path, &root));
        // Wrong index (same leaf, another position), and one past the tree.
        assert!(!verify_path(&leaves[4], 5, &path, &root));
        assert!(!verify_path(&leaves[4], 4 + 8, &path, &root));
        // Wrong leaf.
        assert!(!verify_path(&leaves[3], 4, &path, &root));
        // Wrong sibling at each level.
        for k in 0..path.len() {
            let mut bad = path.clone();
            bad[k][0] ^= 1;
            assert!(!verify_path(&leaves[4], 4, &bad, &root));
        }
        // Short and long paths.
        assert!(!verify_path(&leaves[4], 4, &path[..2], &root));
        assert!(!verify_path(&leaves[4], 0, &[], &root));
        let mut long = path.clone();
        long.push(zero_hashes()[3]);
        assert!(!verify_path(&leaves[4], 4, &long, &root));
        // Absurd inputs return false instead of panicking.
        assert!(!verify_path(
            &leaves[4],
            u64::MAX,
            &vec![[0; 32]; 64],
            &root
        ));
        assert!(!verify_path(&leaves[4], u64::MAX, &[[0; 32]; 3], &root));
    }
}
