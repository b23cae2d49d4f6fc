//! Merkle multiproofs: several leaves of one tree opened together, and the partial tree a checker
//! rebuilds from them to read, write and re-root those leaves.
//!
//! Consensus format (trees as in [`crate::merkle`]): a multiproof for the sorted, distinct leaf
//! indices `I` of a tree of height `h` is the list of sibling hashes, in this order: for each level
//! `l = 0 .. h-1` (leaves first), for each known node `i` at level `l` in increasing order whose
//! sibling `i ^ 1` is not itself known, that sibling. The known nodes at level 0 are `I`, at level
//! `l + 1` the parents of the known nodes at level `l`. Each sibling is sent once, so opening two
//! neighbouring leaves costs little more than opening one.

use std::collections::{BTreeMap, BTreeSet};

use crate::merkle::{hash_pair, zero_hashes, Hash, MAX_HEIGHT};

/// Why a multiproof does not open its tree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MultiproofError {
    #[error("tree height {0} is over the limit")]
    Height(usize),
    #[error("leaf index {index} is outside a tree of height {height}")]
    Index { index: u64, height: usize },
    #[error("leaf indices are not sorted and distinct")]
    Unsorted,
    #[error("the multiproof has too few sibling hashes")]
    MissingSibling,
    #[error("the multiproof has {0} unused sibling hashes")]
    ExtraSiblings(usize),
    #[error("the opened leaves do not hash to the committed root")]
    RootMismatch,
    #[error("node {index} at level {level} was not opened by the proof")]
    NotOpened { level: usize, index: u64 },
}

/// The sibling list of the multiproof opening `leaves` (index and that leaf's full path, bottom
/// first, as the single-leaf proofs of [`crate::merkle`] give them). Duplicated indices are fine.
pub fn multiproof_siblings(height: usize, leaves: &[(u64, Vec<Hash>)]) -> Vec<Hash> {
    // For each known node, one leaf below it whose path supplies the node's siblings.
    let mut known: BTreeMap<u64, usize> = BTreeMap::new();
    for (k, (index, _)) in leaves.iter().enumerate() {
        known.entry(*index).or_insert(k);
    }
    let mut siblings = Vec::new();
    for level in 0..height {
        for (&index, &leaf) in &known {
            if !known.contains_key(&(index ^ 1)) {
                siblings.push(leaves[leaf].1[level]);
            }
        }
        let mut parents = BTreeMap::new();
        for (index, leaf) in known {
            parents.entry(index >> 1).or_insert(leaf);
        }
        known = parents;
    }
    siblings
}

/// The part of a tree a multiproof opened: every opened leaf, every sibling and every node on the
/// paths between them and the root. Leaves can be read and written; the root follows.
///
/// Nodes under a node whose value is `ZERO[level]` are zero (keccak collision resistance), which is
/// how a tree grown past its old size ([`PartialTree::grow`]) reads and writes its new, zero part.
#[derive(Clone, Debug)]
pub struct PartialTree {
    height: usize,
    nodes: BTreeMap<(usize, u64), Hash>,
}

impl PartialTree {
    /// Checks that `leaves` (sorted, distinct indices) and `siblings` (the multiproof) hash to
    /// `root` in a tree of `height`, and keeps the opened part.
    pub fn open(
        height: usize,
        root: &Hash,
        leaves: &[(u64, Hash)],
        siblings: &[Hash],
    ) -> Result<PartialTree, MultiproofError> {
        if height > MAX_HEIGHT {
            return Err(MultiproofError::Height(height));
        }
        let mut nodes = BTreeMap::new();
        let mut last = None;
        for (index, leaf) in leaves {
            if *index >> height != 0 {
                return Err(MultiproofError::Index {
                    index: *index,
                    height,
                });
            }
            if last.is_some_and(|l| l >= *index) {
                return Err(MultiproofError::Unsorted);
            }
            last = Some(*index);
            nodes.insert((0, *index), *leaf);
        }
        let mut known: BTreeSet<u64> = leaves.iter().map(|(i, _)| *i).collect();
        let mut next_sibling = siblings.iter();
        for level in 0..height {
            for &index in &known {
                if !known.contains(&(index ^ 1)) {
                    let sibling = next_sibling.next().ok_or(MultiproofError::MissingSibling)?;
                    nodes.insert((level, index ^ 1), *sibling);
                }
            }
            let parents: BTreeSet<u64> = known.iter().map(|i| i >> 1).collect();
            for &parent in &parents {
                let left = nodes.get(&(level, 2 * parent));
                let right = nodes.get(&(level, 2 * parent + 1));
                let (Some(left), Some(right)) = (left, right) else {
                    return Err(MultiproofError::MissingSibling);
                };
                let value = hash_pair(left, right);
                nodes.insert((level + 1, parent), value);
            }
            known = parents;
        }
        let unused = next_sibling.count();
        if unused > 0 {
            return Err(MultiproofError::ExtraSiblings(unused));
        }
        if leaves.is_empty() {
            // Nothing opened: the tree is just its root.
            nodes.insert((height, 0), *root);
        }
        if nodes.get(&(height, 0)) != Some(root) {
            return Err(MultiproofError::RootMismatch);
        }
        Ok(PartialTree { height, nodes })
    }

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn root(&self) -> Hash {
        self.nodes
            .get(&(self.height, 0))
            .copied()
            .unwrap_or(zero_hashes()[self.height])
    }

    /// The node at `(level, index)`, if opened or inside a known all-zero subtree.
    fn node(&self, level: usize, index: u64) -> Option<Hash> {
        if let Some(h) = self.nodes.get(&(level, index)) {
            return Some(*h);
        }
        let zero = zero_hashes();
        (level + 1..=self.height).find_map(|up| {
            let ancestor = self.nodes.get(&(up, index >> (up - level)))?;
            (*ancestor == zero[up]).then_some(zero[level])
        })
    }

    /// Leaf `index`, or an error if the proof did not open it.
    pub fn leaf(&self, index: u64) -> Result<Hash, MultiproofError> {
        if index >> self.height != 0 {
            return Err(MultiproofError::Index {
                index,
                height: self.height,
            });
        }
        self.node(0, index)
            .ok_or(MultiproofError::NotOpened { level: 0, index })
    }

    /// Writes leaf `index` and re-hashes its path; its siblings must be opened (or zero).
    pub fn set_leaf(&mut self, index: u64, value: Hash) -> Result<(), MultiproofError> {
        self.leaf(index)?;
        let mut node = value;
        let mut at = index;
        for level in 0..self.height {
            let sibling = self.node(level, at ^ 1).ok_or(MultiproofError::NotOpened {
                level,
                index: at ^ 1,
            })?;
            self.nodes.insert((level, at), node);
            // Materialized zero siblings keep later lookups in this subtree working after the
            // ancestor that proved them zero changes.
            self.nodes.insert((level, at ^ 1), sibling);
            node = if at & 1 == 0 {
                hash_pair(&node, &sibling)
            } else {
                hash_pair(&sibling, &node)
            };
            at >>= 1;
        }
        self.nodes.insert((self.height, 0), node);
        Ok(())
    }

    /// Reads `buf.len()` bytes from `offset` of a tree whose leaves are 32 bytes of a byte string
    /// (memory, a data segment, a batch); every leaf touched must be opened.
    pub fn read_bytes(&self, offset: u64, buf: &mut [u8]) -> Result<(), MultiproofError> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let leaf = self.leaf(at / 32)?;
            let start = (at % 32) as usize;
            let n = (32 - start).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&leaf[start..start + n]);
            done += n;
        }
        Ok(())
    }

    /// Writes `data` at `offset` of a byte-string tree (see [`PartialTree::read_bytes`]).
    pub fn write_bytes(&mut self, offset: u64, data: &[u8]) -> Result<(), MultiproofError> {
        let mut done = 0usize;
        while done < data.len() {
            let at = offset + done as u64;
            let mut leaf = self.leaf(at / 32)?;
            let start = (at % 32) as usize;
            let n = (32 - start).min(data.len() - done);
            leaf[start..start + n].copy_from_slice(&data[done..done + n]);
            self.set_leaf(at / 32, leaf)?;
            done += n;
        }
        Ok(())
    }

    /// Grows the tree to `height` (no-op if not higher): the old tree becomes the leftmost subtree
    /// and everything new is zero, which is how every committed structure grows.
    pub fn grow(&mut self, height: usize) -> Result<(), MultiproofError> {
        if height > MAX_HEIGHT {
            return Err(MultiproofError::Height(height));
        }
        let zero = zero_hashes();
        while self.height < height {
            let level = self.height;
            let root = self.root();
            self.nodes.insert((level, 0), root);
            self.nodes.insert((level, 1), zero[level]);
            self.nodes
                .insert((level + 1, 0), hash_pair(&root, &zero[level]));
            self.height += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::LeafTree;

    fn tree(n: usize) -> (Vec<Hash>, LeafTree) {
        let leaves: Vec<Hash> = (0..n).map(|i| [i as u8 + 1; 32]).collect();
        (leaves.clone(), LeafTree::new(leaves))
    }

    fn open(t: &LeafTree, leaves: &[Hash], indices: &[u64]) -> (Vec<(u64, Hash)>, Vec<Hash>) {
        let with_paths: Vec<(u64, Vec<Hash>)> = indices
            .iter()
            .map(|&i| (i, t.path(i as usize).unwrap()))
            .collect();
        let siblings = multiproof_siblings(t.height(), &with_paths);
        (
            indices.iter().map(|&i| (i, leaves[i as usize])).collect(),
            siblings,
        )
    }

    #[test]
    fn opens_reads_writes_and_reroots() {
        let (mut leaves, t) = tree(13);
        for indices in [&[0u64][..], &[3, 4], &[0, 1, 12], &[5, 6, 7, 8], &[]] {
            let (opened, siblings) = open(&t, &leaves, indices);
            let mut partial = PartialTree::open(t.height(), &t.root(), &opened, &siblings).unwrap();
            for &(i, leaf) in &opened {
                assert_eq!(partial.leaf(i).unwrap(), leaf);
            }
            let mut expected = leaves.clone();
            for &i in indices {
                let value = [0xee ^ i as u8; 32];
                partial.set_leaf(i, value).unwrap();
                expected[i as usize] = value;
            }
            assert_eq!(partial.root(), LeafTree::new(expected).root());
        }
        // Two neighbours share all siblings but their own pair.
        let (_, one) = open(&t, &leaves, &[4]);
        let (_, two) = open(&t, &leaves, &[4, 5]);
        assert_eq!(two.len(), one.len() - 1);
        leaves.clear();
    }

    #[test]
    fn rejects_tampering_and_bad_shapes() {
        let (leaves, t) = tree(9);
        let (opened, siblings) = open(&t, &leaves, &[2, 7]);
        let root = t.root();
        let h = t.height();
        assert!(PartialTree::open(h, &root, &opened, &siblings).is_ok());
        for k in 0..siblings.len() {
            let mut bad = siblings.clone();
            bad[k][31] ^= 1;
            assert_eq!(
                PartialTree::open(h, &root, &opened, &bad).unwrap_err(),
                MultiproofError::RootMismatch
            );
        }
        let mut bad_leaf = opened.clone();
        bad_leaf[1].1[0] ^= 1;
        assert!(PartialTree::open(h, &root, &bad_leaf, &siblings).is_err());
        let swapped = vec![opened[1], opened[0]];
        assert_eq!(
            PartialTree::open(h, &root, &swapped, &siblings).unwrap_err(),
            MultiproofError::Unsorted
        );
        assert!(PartialTree::open(h, &root, &opened, &siblings[1..]).is_err());
        let mut extra = siblings.clone();
        extra.push([0; 32]);
        assert_eq!(
            PartialTree::open(h, &root, &opened, &extra).unwrap_err(),
            MultiproofError::ExtraSiblings(1)
        );
        // Another height is another tree.
        assert!(PartialTree::open(h + 1, &root, &opened, &siblings).is_err());
        assert!(PartialTree::open(99, &root, &opened, &siblings).is_err());
        let far = vec![(1u64 << h, [0; 32])];
        assert!(PartialTree::open(h, &root, &far, &siblings).is_err());
        // Unopened leaves cannot be read or written.
        let partial = PartialTree::open(h, &root, &opened, &siblings).unwrap();
        assert!(partial.leaf(4).is_err());
        assert!(partial.clone().set_leaf(4, [1; 32]).is_err());
    }

    #[test]
    fn growing_adds_a_zero_part_that_can_be_written() {
        let (leaves, t) = tree(3);
        let (opened, siblings) = open(&t, &leaves, &[1]);
        let mut partial = PartialTree::open(t.height(), &t.root(), &opened, &siblings).unwrap();
        partial.grow(4).unwrap();
        let mut expected: Vec<Hash> = leaves.clone();
        expected.resize(16, [0; 32]);
        assert_eq!(partial.root(), LeafTree::new(expected.clone()).root());
        assert_eq!(partial.leaf(9).unwrap(), [0; 32]);
        partial.set_leaf(9, [7; 32]).unwrap();
        partial.set_leaf(8, [8; 32]).unwrap();
        partial.set_leaf(1, [9; 32]).unwrap();
        expected[9] = [7; 32];
        expected[8] = [8; 32];
        expected[1] = [9; 32];
        assert_eq!(partial.root(), LeafTree::new(expected.clone()).root());
        // Bytes across the leaf 8/9 boundary.
        partial.write_bytes(8 * 32 + 30, &[1, 2, 3, 4]).unwrap();
        let mut back = [0u8; 4];
        partial.read_bytes(8 * 32 + 30, &mut back).unwrap();
        assert_eq!(back, [1, 2, 3, 4]);
        expected[8][30..].copy_from_slice(&[1, 2]);
        expected[9][..2].copy_from_slice(&[3, 4]);
        assert_eq!(partial.root(), LeafTree::new(expected.clone()).root());
        assert!(partial.read_bytes(2 * 32, &mut back).is_err());
        // Leaf 0 came with the proof as leaf 1's sibling; leaf 2 is neither opened nor zero.
        assert_eq!(partial.leaf(0).unwrap(), leaves[0]);
        assert!(partial.leaf(2).is_err());
    }
}
