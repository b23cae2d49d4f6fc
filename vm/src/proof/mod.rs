//! One-step proofs: what a step reads and writes, opened against the pre-state's machine hash.
//!
//! [`crate::Machine::prove_step`] builds a [`StepProof`] for the step about to run; the stateless
//! checker (crate `verifier`) decodes it, checks every opening against the pre-state hash, runs the
//! step ([`crate::step`]) on the opened partial state and hashes the result.
//!
//! ## Encoding (consensus format, version [`PROOF_VERSION`])
//! bincode 2, `config::standard()`: integers are varints (one byte below 251), a `Vec` or string is
//! a varint length then its items, a hash is its 32 bytes, an `Option` one byte 0/1 then the value.
//! Fields in declaration order:
//!
//! | field | what it opens | against |
//! |---|---|---|
//! | `version` | u16, must be [`PROOF_VERSION`] | — |
//! | `machine` | the pre-state's hot registers and roots, the cold part open or as its hash ([`MachineOpening`]) | the pre-state hash |
//! | `module` | the code root and length, the rest open or as its hash ([`ModuleOpening`]) | the module hash in the pre-state |
//! | `tables` | each table's entries, max, root ([`TableRoot`]), only with the cold part open | the cold part's tables hash |
//! | `code` | the code leaf holding the op at `pc` | `module.code_root` |
//! | `call_targets`, `br_table` | the call target / branch-table entry the step uses | module roots |
//! | `stack`, `frames`, `globals`, `dropped` | word leaves the step reads or writes | machine roots |
//! | `table_entries` | per table index, entry leaves | that table's root |
//! | `memory` | 32-byte memory leaves | `machine.memory_root` |
//! | `data` | a data segment's (len, bytes root) and chunk leaves | `module.data_root` |
//! | `elems` | an element segment's (len, items root) and item leaves | `machine.elems_root` |
//! | `host` | the import a host call names, and the host's witness | `module.imports_root`; the witness per the host's semantics |
//!
//! Each opening is a multiproof ([`crate::multiproof`]) whose tree height the checker derives
//! from committed counts, never from the proof. A leaf listed but not needed is harmless; a leaf
//! needed but not listed makes the checker reject the proof.

mod prove;

use bincode::{Decode, Encode};

pub use crate::commitment::{ModuleRest, ModuleRoots};
pub use crate::machine::hash::{ColdInputs, HashInputs, TableRoot};
use crate::merkle::Hash;
use crate::{FuncType, Trap, ValType};

pub use prove::ProveError;

/// Current proof format version; checkers refuse any other.
pub const PROOF_VERSION: u16 = 2;

/// Largest encoded proof a checker accepts (the largest honest proof is a few KiB: a host call
/// moves at most 1 KiB). The EVM checker has the same limit.
pub const MAX_PROOF_BYTES: usize = 1 << 16;

/// bincode's allocation limit while decoding. It counts in-memory sizes, up to 19 times the
/// encoded bytes (an empty `(u32, TreeOpening)` is 3 bytes and claims 56), so at 32 times the
/// proof limit it bounds allocation without ever refusing a proof that decodes: the EVM checker,
/// which has no such counter, accepts exactly the same byte strings.
pub const DECODE_LIMIT: usize = 32 * MAX_PROOF_BYTES;

/// A part of a commitment that is hashed on its own: a proof reveals it only when the step needs
/// it, and otherwise just its hash.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Folded<T> {
    Hash(Hash),
    Open(T),
}

/// The pre-state's registers and roots: the hot part of [`HashInputs`], and the cold part folded
/// unless the step touches frames, globals, tables, segments or the host. The module hash is
/// not sent: the checker computes it from [`ModuleOpening`].
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct MachineOpening {
    pub status: u8,
    pub trap: u32,
    pub pc: u32,
    pub fp: u32,
    pub sp: u32,
    pub stack_reserved: u32,
    pub stack_root: Hash,
    pub memory_pages: u32,
    pub memory_root: Hash,
    pub cold: Folded<ColdInputs>,
}

impl MachineOpening {
    /// The opening of `inputs`, its cold part open or folded to its hash.
    pub fn new(inputs: &HashInputs, open_cold: bool) -> MachineOpening {
        MachineOpening {
            status: inputs.status,
            trap: inputs.trap,
            pc: inputs.pc,
            fp: inputs.fp,
            sp: inputs.sp,
            stack_reserved: inputs.stack_reserved,
            stack_root: inputs.stack_root,
            memory_pages: inputs.memory_pages,
            memory_root: inputs.memory_root,
            cold: if open_cold {
                Folded::Open(inputs.cold.clone())
            } else {
                Folded::Hash(inputs.cold.hash())
            },
        }
    }

    /// The hash inputs this opens, given the module hash (which proofs do not carry). A folded cold
    /// part is left at its default: hash with [`HashInputs::hash_with_cold`] and
    /// [`MachineOpening::cold_hash`].
    pub fn inputs(&self, module_hash: Hash) -> HashInputs {
        HashInputs {
            status: self.status,
            trap: self.trap,
            pc: self.pc,
            fp: self.fp,
            sp: self.sp,
            stack_reserved: self.stack_reserved,
            stack_root: self.stack_root,
            memory_pages: self.memory_pages,
            memory_root: self.memory_root,
            module_hash,
            cold: match &self.cold {
                Folded::Open(cold) => cold.clone(),
                Folded::Hash(_) => ColdInputs::default(),
            },
        }
    }

    pub fn cold_hash(&self) -> Hash {
        match &self.cold {
            Folded::Open(cold) => cold.hash(),
            Folded::Hash(h) => *h,
        }
    }
}

/// The module's code fields, and the rest folded unless the step calls, branches through the
/// table, reads a segment or calls the host.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ModuleOpening {
    pub code_len: u32,
    pub code_root: Hash,
    pub rest: Folded<ModuleRest>,
}

/// Leaves of one tree and the multiproof siblings that tie them to its root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct TreeOpening {
    /// Sorted by index, distinct.
    pub leaves: Vec<(u64, Hash)>,
    pub siblings: Vec<Hash>,
}

impl TreeOpening {
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }
}

/// A byte-string segment (data) or item segment (elements): its length and contents root, which
/// hash to its leaf in the segment tree, and the contents leaves the step reads.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SegmentOpening {
    pub index: u32,
    pub len: u32,
    pub root: Hash,
    pub contents: TreeOpening,
}

/// The segments a step reads and the opening of their leaves in the segment tree.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct SegmentsOpening {
    pub segments: Vec<SegmentOpening>,
    pub tree: TreeOpening,
}

/// An imported function as the module declares it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ImportDecl {
    pub module: String,
    pub name: String,
    /// WebAssembly binary type codes.
    pub params: Vec<u8>,
    pub results: Vec<u8>,
}

impl ImportDecl {
    pub fn new(module: &str, name: &str, ty: &FuncType) -> ImportDecl {
        ImportDecl {
            module: module.into(),
            name: name.into(),
            params: ty.params.iter().map(|t| t.code()).collect(),
            results: ty.results.iter().map(|t| t.code()).collect(),
        }
    }

    /// The declared type, or `None` if a code is not a value type.
    pub fn func_type(&self) -> Option<FuncType> {
        let list = |codes: &[u8]| -> Option<Vec<ValType>> {
            codes.iter().map(|c| ValType::from_code(*c)).collect()
        };
        Some(FuncType {
            params: list(&self.params)?,
            results: list(&self.results)?,
        })
    }
}

/// A host call's import and the host's witness for it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct HostOpening {
    pub import: ImportDecl,
    /// Opens leaf `func` of the imports tree (its value is recomputed from `import`).
    pub import_proof: TreeOpening,
    /// Host-specific data, checked by the host's [`HostSemantics`].
    pub witness: Vec<u8>,
}

/// Everything one step touches, opened against the pre-state (layout in the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StepProof {
    pub version: u16,
    pub machine: MachineOpening,
    pub module: ModuleOpening,
    /// Every table's root, when the cold part is open (else empty).
    pub tables: Vec<TableRoot>,
    pub code: TreeOpening,
    pub call_targets: TreeOpening,
    pub br_table: TreeOpening,
    pub stack: TreeOpening,
    pub frames: TreeOpening,
    pub globals: TreeOpening,
    pub dropped: TreeOpening,
    pub table_entries: Vec<(u32, TreeOpening)>,
    pub memory: TreeOpening,
    pub data: SegmentsOpening,
    pub elems: SegmentsOpening,
    pub host: Option<HostOpening>,
}

/// Why a proof does not decode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("proof of {0} bytes is over the {MAX_PROOF_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("malformed proof encoding: {0}")]
    Malformed(String),
    #[error("{0} trailing bytes after the proof")]
    Trailing(usize),
    #[error("proof version {0} is not supported (this checker reads version {PROOF_VERSION})")]
    Version(u16),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

impl StepProof {
    /// The module hash the proof's module opening hashes to.
    pub fn module_hash(&self) -> Hash {
        let rest_hash = match &self.module.rest {
            Folded::Hash(h) => *h,
            Folded::Open(rest) => rest.hash(),
        };
        crate::commitment::module_hash(self.module.code_len, &self.module.code_root, &rest_hash)
    }

    /// The machine hash the proof's openings claim as its pre-state (what a checker compares with
    /// the agreed one).
    pub fn pre_state(&self) -> crate::MachineHash {
        self.machine
            .inputs(self.module_hash())
            .hash_with_cold(&self.machine.cold_hash())
    }

    pub fn encode(&self) -> Vec<u8> {
        // Encoding into a Vec cannot fail: every field has a fixed encoding.
        bincode::encode_to_vec(self, bincode::config::standard()).unwrap_or_default()
    }

    /// Decodes hostile bytes: bounded allocation, exact length, known version.
    pub fn decode(bytes: &[u8]) -> Result<StepProof, DecodeError> {
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(DecodeError::TooLarge(bytes.len()));
        }
        let (proof, read): (StepProof, usize) = bincode::decode_from_slice(bytes, config())
            .map_err(|e| DecodeError::Malformed(e.to_string()))?;
        if read != bytes.len() {
            return Err(DecodeError::Trailing(bytes.len() - read));
        }
        if proof.version != PROOF_VERSION {
            return Err(DecodeError::Version(proof.version));
        }
        Ok(proof)
    }
}

/// Why a host call cannot be stepped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostFault {
    /// The call traps (a machine outcome).
    Trap(Trap),
    /// The witness is missing, malformed or does not match its commitment, or memory the call
    /// needs was not opened: the proof is invalid.
    Reject(String),
}

/// Guest memory as a provable host call sees it.
pub trait StepMemory {
    fn size(&self) -> u64;
    /// Reads `buf.len()` bytes; traps out of bounds.
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), HostFault>;
    /// Writes `data`; traps out of bounds before writing anything.
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), HostFault>;
}

/// The provable semantics of a host's imports: what a host call does, given the host's witness.
/// The checker runs it on the opened state; the prover runs the same code to learn which memory
/// the call touches. It must agree with the host's [`crate::Host::call`] (tests compare the
/// machine hash after every host step).
pub trait HostSemantics {
    /// Runs `import` on `args` (words in parameter order) and returns the result words. `host_root`
    /// is the machine's host root before the call; the call updates it.
    fn call(
        &self,
        import: &ImportDecl,
        args: &[u64],
        witness: &[u8],
        memory: &mut dyn StepMemory,
        host_root: &mut Hash,
    ) -> Result<Vec<u64>, HostFault>;
}

/// Semantics for modules without provable imports: every host call is unprovable.
pub struct NoHostSemantics;

impl HostSemantics for NoHostSemantics {
    fn call(
        &self,
        import: &ImportDecl,
        _: &[u64],
        _: &[u8],
        _: &mut dyn StepMemory,
        _: &mut Hash,
    ) -> Result<Vec<u64>, HostFault> {
        Err(HostFault::Reject(format!(
            "no provable semantics for import {}.{}",
            import.module, import.name
        )))
    }
}
