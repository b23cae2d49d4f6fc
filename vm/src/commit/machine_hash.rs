//! The machine hash: the consensus commitment to a whole machine state.
//!
//! `MachineHash = keccak256(` the bytes below `)`, integers little-endian. The state every step
//! touches comes first; the rest is folded into one *cold* hash, so a proof of an arithmetic, local
//! or memory step reveals 32 bytes for it instead of the whole rest:
//!
//! | bytes | field                                                                      |
//! |-------|----------------------------------------------------------------------------|
//! | 20    | domain tag `"hauptbuch.machine.v3"`                                        |
//! | 1     | status: 0 idle, 1 running, 2 finished, 3 trapped                           |
//! | 4     | trap code ([`crate::Trap::code`]), 0 unless trapped                        |
//! | 4     | pc (index into the lowered code)                                           |
//! | 4     | fp (value-stack slot of local 0 of the current frame)                      |
//! | 4     | sp (value-stack height)                                                    |
//! | 4     | reserved value-stack slots (sizes the stack tree)                          |
//! | 32    | value-stack root: word tree over the stack slots                           |
//! | 4     | memory size in pages                                                       |
//! | 32    | memory root ([`crate::memory`])                                            |
//! | 32    | module hash ([`crate::commitment`])                                        |
//! | 32    | cold hash: keccak256 of the table below ([`ColdInputs`])                   |
//!
//! | bytes | cold field                                                                 |
//! |-------|----------------------------------------------------------------------------|
//! | 4     | frame words (2 per frame: return pc, caller fp)                            |
//! | 4     | reserved frame words (sizes the frame tree)                                |
//! | 32    | frame-stack root: word tree over the frame words                           |
//! | 4     | global count                                                               |
//! | 32    | globals root: word tree over the globals                                   |
//! | 32    | tables hash: keccak256 over each table's (entries u32, max u32, root 32)   |
//! | 4     | memory maximum in pages (declared or import limit, capped by the VM)       |
//! | 32    | dropped-segments root: word tree over the dropped bits, data segments first, then element segments, 64 per word |
//! | 4     | element segment count                                                      |
//! | 32    | element-segments root: tree (height `height_for(count)`) whose leaf `e` is keccak256(items u32 ‖ word-tree root of the items), as evaluated at instantiation |
//! | 32    | host root: the host's commitment to its own state ([`crate::Host::commitment`]) |
//!
//! Word trees are described in [`crate::merkle`]. Every part is a Merkle root or a fixed-size
//! register, so a one-step proof reveals O(1) registers and O(log n) paths.

use std::fmt;

use sha3::{Digest, Keccak256};

use crate::merkle::{word_leaf, Hash, LeafTree, WordTree, WORDS_PER_LEAF};

use crate::machine::{Machine, Status};

pub const DOMAIN: &[u8; 20] = b"hauptbuch.machine.v3";

/// A machine hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MachineHash(pub [u8; 32]);

impl MachineHash {
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(66);
        s.push_str("0x");
        for b in self.0 {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    pub fn from_hex(text: &str) -> Option<MachineHash> {
        let hex = text.strip_prefix("0x").unwrap_or(text);
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(MachineHash(out))
    }
}

impl fmt::Debug for MachineHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Display for MachineHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Incremental hash caches; part of a snapshot so a restored machine hashes incrementally too.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trees {
    pub(crate) stack: WordTree,
    pub(crate) frames: WordTree,
    pub(crate) globals: WordTree,
    pub(crate) tables: Vec<WordTree>,
    pub(crate) dropped: WordTree,
}

/// The registers and roots the machine hash is computed from.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct HashInputs {
    pub status: u8,
    pub trap: u32,
    pub pc: u32,
    pub fp: u32,
    pub sp: u32,
    pub stack_reserved: u32,
    pub stack_root: Hash,
    pub memory_pages: u32,
    pub memory_root: Hash,
    pub module_hash: Hash,
    pub cold: ColdInputs,
}

/// The part of the state few steps touch, hashed on its own (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct ColdInputs {
    pub frame_words: u32,
    pub frames_reserved: u32,
    pub frames_root: Hash,
    pub globals_count: u32,
    pub globals_root: Hash,
    pub tables_hash: Hash,
    pub memory_max_pages: u32,
    pub dropped_root: Hash,
    pub elem_count: u32,
    pub elems_root: Hash,
    pub host_root: Hash,
}

impl ColdInputs {
    pub fn hash(&self) -> Hash {
        let mut h = Keccak256::new();
        h.update(self.prefix_bytes());
        h.update(self.host_root);
        h.finalize().into()
    }

    /// The cold part's bytes before the host root, as hashed (table in the module docs). L1 folds
    /// a host root into a machine hash with these and [`HashInputs::hot_bytes`]: the STF's
    /// step-0 machine differs from batch to batch only in its host root.
    pub fn prefix_bytes(&self) -> [u8; COLD_PREFIX_LEN] {
        let mut out = [0u8; COLD_PREFIX_LEN];
        let parts: [&[u8]; 10] = [
            &self.frame_words.to_le_bytes(),
            &self.frames_reserved.to_le_bytes(),
            &self.frames_root,
            &self.globals_count.to_le_bytes(),
            &self.globals_root,
            &self.tables_hash,
            &self.memory_max_pages.to_le_bytes(),
            &self.dropped_root,
            &self.elem_count.to_le_bytes(),
            &self.elems_root,
        ];
        pack(&mut out, &parts);
        out
    }
}

/// Bytes of [`HashInputs::hot_bytes`]: everything the machine hash covers before the cold hash.
pub const HOT_LEN: usize = 141;
/// Bytes of [`ColdInputs::prefix_bytes`]: the cold part before the host root.
pub const COLD_PREFIX_LEN: usize = 180;

/// Writes `parts` one after another; their lengths sum to `out.len()` by construction.
fn pack(out: &mut [u8], parts: &[&[u8]]) {
    let mut at = 0;
    for part in parts {
        out[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    debug_assert_eq!(at, out.len());
}

/// One table's part of the tables hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, bincode::Encode, bincode::Decode)]
pub struct TableRoot {
    pub entries: u32,
    pub max: u32,
    pub root: Hash,
}

/// The tables hash over every table's entry count, maximum and entries root.
pub fn tables_hash(tables: &[TableRoot]) -> Hash {
    let mut h = Keccak256::new();
    for t in tables {
        h.update(t.entries.to_le_bytes());
        h.update(t.max.to_le_bytes());
        h.update(t.root);
    }
    h.finalize().into()
}

impl HashInputs {
    pub fn hash(&self) -> MachineHash {
        self.hash_with_cold(&self.cold.hash())
    }

    /// The machine hash given the cold part's hash (what a checker has when the proof does not open
    /// the cold part).
    pub fn hash_with_cold(&self, cold_hash: &Hash) -> MachineHash {
        let mut h = Keccak256::new();
        h.update(self.hot_bytes());
        h.update(cold_hash);
        MachineHash(h.finalize().into())
    }

    /// The bytes before the cold hash, as hashed (table in the module docs): byte 20 is the
    /// status, bytes 109..141 the module hash.
    pub fn hot_bytes(&self) -> [u8; HOT_LEN] {
        let mut out = [0u8; HOT_LEN];
        let parts: [&[u8]; 11] = [
            DOMAIN,
            &[self.status],
            &self.trap.to_le_bytes(),
            &self.pc.to_le_bytes(),
            &self.fp.to_le_bytes(),
            &self.sp.to_le_bytes(),
            &self.stack_reserved.to_le_bytes(),
            &self.stack_root,
            &self.memory_pages.to_le_bytes(),
            &self.memory_root,
            &self.module_hash,
        ];
        pack(&mut out, &parts);
        out
    }
}

/// Element segments are evaluated at instantiation (their items may read imported globals), so
/// they are machine state, not module code; they never change afterwards. Kept as trees for proofs.
#[derive(Clone, Debug, Default)]
pub struct ElemTrees {
    /// Per segment: its items in word leaves (4 per leaf).
    pub segments: Vec<LeafTree>,
    /// Leaf `e`: keccak256(items u32 ‖ segment root).
    pub top: LeafTree,
}

/// Word leaves of an item list (the word-tree layout of [`crate::merkle`]).
pub fn word_leaves(words: &[u64]) -> Vec<Hash> {
    (0..words.len().div_ceil(WORDS_PER_LEAF))
        .map(|leaf| word_leaf(words, leaf))
        .collect()
}

impl ElemTrees {
    pub(crate) fn new(elems: &[std::sync::Arc<[u64]>]) -> ElemTrees {
        let segments: Vec<LeafTree> = elems
            .iter()
            .map(|items| LeafTree::new(word_leaves(items)))
            .collect();
        let top = LeafTree::new(
            elems
                .iter()
                .zip(&segments)
                .map(|(items, tree)| {
                    crate::commitment::bytes_commitment_from_root(items.len() as u32, &tree.root())
                })
                .collect(),
        );
        ElemTrees { segments, top }
    }
}

impl Machine {
    /// The registers and roots of the current state (re-hashing only what changed).
    pub fn hash_inputs(&mut self) -> HashInputs {
        let trees = &mut self.trees;
        let stack_root = trees.stack.root(&self.stack, self.stack_reserved as u64);
        let frames_root = trees.frames.root(&self.frames, self.frames_reserved as u64);
        let globals_root = trees.globals.root(&self.globals, self.globals.len() as u64);
        let tables = self.table_roots();
        let trees = &mut self.trees;
        let dropped_root = trees.dropped.root(&self.dropped, self.dropped.len() as u64);
        HashInputs {
            status: self.status.code(),
            trap: match self.status {
                Status::Trapped(t) => t.code(),
                _ => 0,
            },
            pc: self.pc,
            fp: self.fp,
            sp: self.sp,
            stack_reserved: self.stack_reserved,
            stack_root,
            memory_pages: self.memory.pages(),
            memory_root: self.memory.root(),
            module_hash: self.module.hash(),
            cold: ColdInputs {
                frame_words: self.frames.len() as u32,
                frames_reserved: self.frames_reserved,
                frames_root,
                globals_count: self.globals.len() as u32,
                globals_root,
                tables_hash: tables_hash(&tables),
                memory_max_pages: self.memory.max_pages(),
                dropped_root,
                elem_count: self.elems.len() as u32,
                elems_root: self.elem_trees.top.root(),
                host_root: self.host_root,
            },
        }
    }

    /// Each table's part of the tables hash (re-hashing only what changed).
    pub(crate) fn table_roots(&mut self) -> Vec<TableRoot> {
        let trees = &mut self.trees.tables;
        trees.resize_with(self.tables.len(), WordTree::default);
        self.tables
            .iter()
            .zip(trees.iter_mut())
            .map(|(table, tree)| TableRoot {
                entries: table.entries.len() as u32,
                max: table.max,
                root: tree.root(&table.entries, table.entries.len() as u64),
            })
            .collect()
    }

    /// The machine hash (see the module docs for the layout).
    pub fn hash(&mut self) -> MachineHash {
        self.hash_inputs().hash()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden vector: any change to the layout or the domain tag changes this hash.
    #[test]
    fn golden_machine_hash_layout() {
        let inputs = HashInputs {
            status: 1,
            trap: 0,
            pc: 7,
            fp: 2,
            sp: 5,
            stack_reserved: 16,
            stack_root: [1; 32],
            memory_pages: 1,
            memory_root: [5; 32],
            module_hash: [7; 32],
            cold: ColdInputs {
                frame_words: 2,
                frames_reserved: 2,
                frames_root: [2; 32],
                globals_count: 3,
                globals_root: [3; 32],
                tables_hash: [4; 32],
                memory_max_pages: 9,
                dropped_root: [6; 32],
                elem_count: 1,
                elems_root: [8; 32],
                host_root: [10; 32],
            },
        };
        assert_eq!(
            inputs.hash().to_hex(),
            "0xf670f1f6c6466d1bb98ec42fc8e0a5d8468a3d4e5e81869998b011105761b961"
        );
    }

    #[test]
    fn element_segments_are_committed() {
        use std::sync::Arc;
        let a: Vec<Arc<[u64]>> = vec![Arc::from([1u64, 2].as_slice())];
        let b: Vec<Arc<[u64]>> = vec![Arc::from([1u64, 3].as_slice())];
        let empty_segment: Vec<Arc<[u64]>> = vec![Arc::from([].as_slice())];
        let root = |e: &[Arc<[u64]>]| ElemTrees::new(e).top.root();
        assert_ne!(root(&a), root(&b));
        assert_ne!(root(&[]), root(&empty_segment));
    }

    #[test]
    fn hex_round_trip() {
        let h = MachineHash([0xab; 32]);
        assert_eq!(MachineHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(MachineHash::from_hex("0x12"), None);
    }
}
