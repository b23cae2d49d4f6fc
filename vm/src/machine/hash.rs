//! The machine hash: the consensus commitment to a whole machine state.
//!
//! `MachineHash = keccak256(` the bytes below `)`, integers little-endian:
//!
//! | bytes | field                                                                      |
//! |-------|----------------------------------------------------------------------------|
//! | 20    | domain tag `"hauptbuch.machine.v1"`                                        |
//! | 1     | status: 0 idle, 1 running, 2 finished, 3 trapped                           |
//! | 4     | trap code ([`crate::Trap::code`]), 0 unless trapped                        |
//! | 4     | pc (index into the lowered code)                                           |
//! | 4     | fp (value-stack slot of local 0 of the current frame)                      |
//! | 4     | sp (value-stack height)                                                    |
//! | 4     | reserved value-stack slots (sizes the stack tree)                          |
//! | 32    | value-stack root: word tree over the stack slots                           |
//! | 4     | frame words (2 per frame: return pc, caller fp)                            |
//! | 4     | reserved frame words (sizes the frame tree)                                |
//! | 32    | frame-stack root: word tree over the frame words                           |
//! | 32    | globals root: word tree over the globals                                   |
//! | 32    | tables hash: keccak256 over each table's (entries u32, root 32)            |
//! | 4     | memory size in pages                                                       |
//! | 32    | memory root ([`crate::memory`])                                            |
//! | 32    | dropped-segments root: word tree over the dropped bits                     |
//! | 32    | element-segments root: keccak256 over each segment's (items u32, word-tree root) as evaluated at instantiation |
//! | 32    | module hash ([`crate::commitment`])                                        |
//!
//! Word trees are described in [`crate::merkle`]. Every part is a Merkle root or a fixed-size
//! register, so a one-step proof reveals O(1) registers and O(log n) paths.

use std::fmt;

use sha3::{Digest, Keccak256};

use crate::merkle::{Hash, WordTree};

use super::{Machine, Status};

pub const DOMAIN: &[u8; 20] = b"hauptbuch.machine.v1";

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
    stack: WordTree,
    frames: WordTree,
    globals: WordTree,
    tables: Vec<WordTree>,
    dropped: WordTree,
}

/// The registers and roots the machine hash is computed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashInputs {
    pub status: u8,
    pub trap: u32,
    pub pc: u32,
    pub fp: u32,
    pub sp: u32,
    pub stack_reserved: u32,
    pub stack_root: Hash,
    pub frame_words: u32,
    pub frames_reserved: u32,
    pub frames_root: Hash,
    pub globals_root: Hash,
    pub tables_hash: Hash,
    pub memory_pages: u32,
    pub memory_root: Hash,
    pub dropped_root: Hash,
    pub elems_root: Hash,
    pub module_hash: Hash,
}

impl HashInputs {
    pub fn hash(&self) -> MachineHash {
        let mut h = Keccak256::new();
        h.update(DOMAIN);
        h.update([self.status]);
        h.update(self.trap.to_le_bytes());
        h.update(self.pc.to_le_bytes());
        h.update(self.fp.to_le_bytes());
        h.update(self.sp.to_le_bytes());
        h.update(self.stack_reserved.to_le_bytes());
        h.update(self.stack_root);
        h.update(self.frame_words.to_le_bytes());
        h.update(self.frames_reserved.to_le_bytes());
        h.update(self.frames_root);
        h.update(self.globals_root);
        h.update(self.tables_hash);
        h.update(self.memory_pages.to_le_bytes());
        h.update(self.memory_root);
        h.update(self.dropped_root);
        h.update(self.elems_root);
        h.update(self.module_hash);
        MachineHash(h.finalize().into())
    }
}

/// Element segments are evaluated at instantiation (their items may read imported globals), so
/// they are machine state, not module code; they never change afterwards.
pub(crate) fn elems_root(elems: &[std::sync::Arc<[u64]>]) -> Hash {
    let mut h = Keccak256::new();
    for items in elems {
        h.update((items.len() as u32).to_le_bytes());
        h.update(WordTree::default().root(items, items.len() as u64));
    }
    h.finalize().into()
}

impl Machine {
    /// The registers and roots of the current state (re-hashing only what changed).
    pub fn hash_inputs(&mut self) -> HashInputs {
        let trees = &mut self.trees;
        let stack_root = trees.stack.root(&self.stack, self.stack_reserved as u64);
        let frames_root = trees.frames.root(&self.frames, self.frames_reserved as u64);
        let globals_root = trees.globals.root(&self.globals, self.globals.len() as u64);
        trees
            .tables
            .resize_with(self.tables.len(), WordTree::default);
        let mut tables = Keccak256::new();
        for (table, tree) in self.tables.iter().zip(trees.tables.iter_mut()) {
            tables.update((table.entries.len() as u32).to_le_bytes());
            tables.update(tree.root(&table.entries, table.entries.len() as u64));
        }
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
            frame_words: self.frames.len() as u32,
            frames_reserved: self.frames_reserved,
            frames_root,
            globals_root,
            tables_hash: tables.finalize().into(),
            memory_pages: self.memory.pages(),
            memory_root: self.memory.root(),
            dropped_root,
            elems_root: self.elems_root,
            module_hash: self.module.hash(),
        }
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
            frame_words: 2,
            frames_reserved: 2,
            frames_root: [2; 32],
            globals_root: [3; 32],
            tables_hash: [4; 32],
            memory_pages: 1,
            memory_root: [5; 32],
            dropped_root: [6; 32],
            elems_root: [8; 32],
            module_hash: [7; 32],
        };
        assert_eq!(
            inputs.hash().to_hex(),
            "0x062b70f82537bf499ce557933c7bc6a23b9f3c35ab3b9ce7a9b819d7263da809"
        );
    }

    #[test]
    fn element_segments_are_committed() {
        use std::sync::Arc;
        let a: Vec<Arc<[u64]>> = vec![Arc::from([1u64, 2].as_slice())];
        let b: Vec<Arc<[u64]>> = vec![Arc::from([1u64, 3].as_slice())];
        let empty_segment: Vec<Arc<[u64]>> = vec![Arc::from([].as_slice())];
        assert_ne!(elems_root(&a), elems_root(&b));
        assert_ne!(elems_root(&[]), elems_root(&empty_segment));
    }

    #[test]
    fn hex_round_trip() {
        let h = MachineHash([0xab; 32]);
        assert_eq!(MachineHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(MachineHash::from_hex("0x12"), None);
    }
}
