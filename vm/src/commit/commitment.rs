//! The module commitment: what the machine hash's `module hash` field commits to. It covers the
//! *lowered* module, so a one-step proof can reveal one code leaf (two ops) or one call target with
//! a Merkle path instead of the whole program.
//!
//! `ModuleHash = keccak256(` the bytes below `)`, integers little-endian. The code, which every step
//! reads, comes first; the rest is folded into one hash so most proofs reveal 32 bytes for it:
//!
//! | bytes | field                                                                          |
//! |-------|--------------------------------------------------------------------------------|
//! | 19    | domain tag `"hauptbuch.module.v4"`                                             |
//! | 4     | code length in ops                                                             |
//! | 32    | code root: leaf `i` = op `2i` (bytes 0..16) ‖ op `2i+1` (16..32, zero past the end), ops in the 16-byte encoding of [`crate::code`] |
//! | 32    | rest hash: keccak256 of the table below ([`ModuleRest`])                       |
//!
//! | bytes | rest field                                                                     |
//! |-------|--------------------------------------------------------------------------------|
//! | 4     | function count (imports included)                                              |
//! | 32    | call-target root: leaf `f` = entry ‖ params ‖ results ‖ max_height ‖ type_id (u32 each, 20 bytes) ‖ 12 zero bytes |
//! | 4     | branch-table entries                                                           |
//! | 32    | branch-table root: leaf `i` = pc ‖ drop ‖ keep (u32 each, 12 bytes) ‖ 20 zero bytes, one entry per leaf |
//! | 4     | data segment count                                                             |
//! | 32    | data root: leaf `i` = [`bytes_commitment`] of segment `i` = keccak256(len u32 ‖ bytes root), bytes root = tree over the segment's bytes in 32-byte leaves (last one zero-padded) |
//! | 4     | imported function count (imports are functions `0 ..` this count)                 |
//! | 32    | imports root: leaf `f` = [`import_leaf`] (module, name, type of import `f`)        |
//! | 32    | declarations hash: keccak256 of the encoding in [`declarations`]               |
//!
//! Every tree follows [`crate::merkle`]: raw 32-byte leaves, `keccak256(l ‖ r)` inner nodes, zero
//! padding to a power of two, height `height_for(leaf count)` — the counts above commit the heights,
//! which is what lets a checker insist on the exact path length. The data root commits each
//! segment through a bytes tree (not a flat hash) so that a `memory.init` step can later be proven
//! with two 32-byte chunks of its segment.

use sha3::{Digest, Keccak256};

use crate::code::{BranchTarget, Op, OP_BYTES};
use crate::merkle::{keccak, Hash, LeafTree};
use crate::module::{CallTarget, ConstExpr, ElemMode, ExportKind, FuncKind, GlobalInit, Module};
use crate::{FuncType, ValType, VmError};

pub const DOMAIN: &[u8; 19] = b"hauptbuch.module.v4";

/// The module's trees, built once at load and kept for proofs.
#[derive(Clone, Debug, Default)]
pub struct ModuleCommitment {
    code: LeafTree,
    call_targets: LeafTree,
    br_table: LeafTree,
    data: LeafTree,
    imports: LeafTree,
    roots: ModuleRoots,
    hash: Hash,
}

/// The fields the module hash is computed from (the table in the module docs). A one-step proof
/// reveals the code fields always and the rest only when the step calls, branches through the
/// table, reads a segment or calls the host.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct ModuleRoots {
    pub code_len: u32,
    pub code_root: Hash,
    pub rest: ModuleRest,
}

/// Everything but the code, hashed on its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct ModuleRest {
    pub funcs: u32,
    pub call_targets_root: Hash,
    pub br_entries: u32,
    pub br_table_root: Hash,
    pub data_count: u32,
    pub data_root: Hash,
    pub imports: u32,
    pub imports_root: Hash,
    pub declarations: Hash,
}

impl ModuleRest {
    pub fn hash(&self) -> Hash {
        let mut h = Keccak256::new();
        h.update(self.funcs.to_le_bytes());
        h.update(self.call_targets_root);
        h.update(self.br_entries.to_le_bytes());
        h.update(self.br_table_root);
        h.update(self.data_count.to_le_bytes());
        h.update(self.data_root);
        h.update(self.imports.to_le_bytes());
        h.update(self.imports_root);
        h.update(self.declarations);
        h.finalize().into()
    }
}

/// The module hash from the code fields and the rest's hash.
pub fn module_hash(code_len: u32, code_root: &Hash, rest_hash: &Hash) -> Hash {
    let mut h = Keccak256::new();
    h.update(DOMAIN);
    h.update(code_len.to_le_bytes());
    h.update(code_root);
    h.update(rest_hash);
    h.finalize().into()
}

impl ModuleRoots {
    pub fn hash(&self) -> Hash {
        module_hash(self.code_len, &self.code_root, &self.rest.hash())
    }
}

/// Leaf `i` of the code tree.
pub fn code_leaf(code: &[Op], leaf: usize) -> Hash {
    let mut out = [0u8; 32];
    for half in 0..2 {
        if let Some(op) = code.get(2 * leaf + half) {
            out[half * OP_BYTES..(half + 1) * OP_BYTES].copy_from_slice(&op.encode());
        }
    }
    out
}

/// A call-target leaf from its fields in commitment order: entry, params, results, max_height,
/// type_id.
pub fn call_target_leaf(fields: [u32; 5]) -> Hash {
    let mut out = [0u8; 32];
    for (k, field) in fields.iter().enumerate() {
        out[4 * k..4 * k + 4].copy_from_slice(&field.to_le_bytes());
    }
    out
}

pub fn br_table_leaf(target: &BranchTarget) -> Hash {
    let mut out = [0u8; 32];
    for (k, field) in [target.pc, target.drop, target.keep].iter().enumerate() {
        out[4 * k..4 * k + 4].copy_from_slice(&field.to_le_bytes());
    }
    out
}

/// Commitment to a byte string: keccak256(len u32 ‖ root of its bytes in 32-byte leaves, the last
/// one zero-padded). A data segment's leaf in the data tree, and the STF's batch commitment, so a
/// step reading 32 bytes of either opens two leaves of the bytes tree, not the whole string.
pub fn bytes_commitment(bytes: &[u8]) -> Result<Hash, VmError> {
    let len = count(bytes.len(), "byte string length")?;
    Ok(bytes_commitment_from_root(len, &bytes_tree(bytes).root()))
}

pub fn bytes_commitment_from_root(len: u32, root: &Hash) -> Hash {
    let mut h = Keccak256::new();
    h.update(len.to_le_bytes());
    h.update(root);
    h.finalize().into()
}

/// The tree over a byte string's 32-byte chunks (see [`bytes_commitment`]).
pub fn bytes_tree(bytes: &[u8]) -> LeafTree {
    LeafTree::new(
        bytes
            .chunks(32)
            .map(|chunk| {
                let mut leaf = [0u8; 32];
                leaf[..chunk.len()].copy_from_slice(chunk);
                leaf
            })
            .collect(),
    )
}

/// Leaf of imported function `module.name` of type `ty` in the imports tree: keccak256 of the
/// name encodings and the type (as in [`declarations`]), so a host-call step can name its import.
pub fn import_leaf(module: &str, name: &str, ty: &FuncType) -> Result<Hash, VmError> {
    let mut out = Declarations::default();
    out.name(module)?;
    out.name(name)?;
    for list in [&ty.params, &ty.results] {
        out.len(list.len(), "type arity")?;
        for &t in list {
            out.val_type(t);
        }
    }
    Ok(keccak(&out.0))
}

fn count(n: usize, what: &str) -> Result<u32, VmError> {
    u32::try_from(n)
        .map_err(|_| VmError::LimitExceeded(format!("{what} {n} does not fit in 32 bits")))
}

impl CallTarget {
    fn leaf(&self) -> Hash {
        call_target_leaf([
            self.entry,
            self.params,
            self.results,
            self.max_height,
            self.type_id,
        ])
    }
}

impl ModuleCommitment {
    pub(crate) fn new(module: &Module) -> Result<ModuleCommitment, VmError> {
        let code = LeafTree::new(
            (0..module.code.len().div_ceil(2))
                .map(|i| code_leaf(&module.code, i))
                .collect(),
        );
        let call_targets =
            LeafTree::new(module.call_targets.iter().map(CallTarget::leaf).collect());
        let br_table = LeafTree::new(module.br_table.iter().map(br_table_leaf).collect());
        let data = LeafTree::new(
            module
                .data
                .iter()
                .map(|d| bytes_commitment(&d.bytes))
                .collect::<Result<_, _>>()?,
        );
        // Imported functions come first in the function index space.
        let mut import_leaves = Vec::new();
        for f in &module.funcs {
            let FuncKind::Host { module: m, name } = &f.kind else {
                break;
            };
            import_leaves.push(import_leaf(m, name, &module.types[f.type_id as usize])?);
        }
        let imports = LeafTree::new(import_leaves);
        let roots = ModuleRoots {
            code_len: count(module.code.len(), "code length")?,
            code_root: code.root(),
            rest: ModuleRest {
                funcs: count(module.call_targets.len(), "function count")?,
                call_targets_root: call_targets.root(),
                br_entries: count(module.br_table.len(), "branch table length")?,
                br_table_root: br_table.root(),
                data_count: count(module.data.len(), "data segment count")?,
                data_root: data.root(),
                imports: count(imports.len(), "import count")?,
                imports_root: imports.root(),
                declarations: keccak(&declarations(module)?),
            },
        };
        Ok(ModuleCommitment {
            code,
            call_targets,
            br_table,
            data,
            imports,
            hash: roots.hash(),
            roots,
        })
    }

    pub fn roots(&self) -> &ModuleRoots {
        &self.roots
    }

    /// The data tree (leaf `i` is [`bytes_commitment`] of segment `i`).
    pub fn data_tree(&self) -> &LeafTree {
        &self.data
    }

    pub fn hash(&self) -> Hash {
        self.hash
    }

    /// The code leaf holding op `pc` (at index `pc / 2`) and its siblings, bottom first.
    pub fn code_proof(&self, pc: u32) -> Option<(Hash, Vec<Hash>)> {
        proof(&self.code, pc as usize / 2)
    }

    pub fn call_target_proof(&self, func: u32) -> Option<(Hash, Vec<Hash>)> {
        proof(&self.call_targets, func as usize)
    }

    pub fn br_table_proof(&self, entry: u32) -> Option<(Hash, Vec<Hash>)> {
        proof(&self.br_table, entry as usize)
    }

    pub fn data_proof(&self, segment: u32) -> Option<(Hash, Vec<Hash>)> {
        proof(&self.data, segment as usize)
    }

    pub fn import_proof(&self, func: u32) -> Option<(Hash, Vec<Hash>)> {
        proof(&self.imports, func as usize)
    }
}

fn proof(tree: &LeafTree, index: usize) -> Option<(Hash, Vec<Hash>)> {
    Some((tree.leaf(index)?, tree.path(index)?))
}

/// Byte writer for the declarations encoding.
#[derive(Default)]
struct Declarations(Vec<u8>);

impl Declarations {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize, what: &str) -> Result<(), VmError> {
        self.u32(count(n, what)?);
        Ok(())
    }
    fn name(&mut self, s: &str) -> Result<(), VmError> {
        self.len(s.len(), "name length")?;
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
    fn val_type(&mut self, ty: ValType) {
        self.u8(ty.code())
    }
    fn const_expr(&mut self, e: ConstExpr) {
        match e {
            ConstExpr::Word(w) => {
                self.u8(0);
                self.u64(w);
            }
            ConstExpr::GlobalGet(g) => {
                self.u8(1);
                self.u32(g);
            }
        }
    }
    fn import(&mut self, import: &Option<(String, String)>) -> Result<(), VmError> {
        match import {
            None => self.u8(0),
            Some((module, name)) => {
                self.u8(1);
                self.name(module)?;
                self.name(name)?;
            }
        }
        Ok(())
    }
    fn max(&mut self, max: Option<u32>) {
        match max {
            None => self.u8(0),
            Some(m) => {
                self.u8(1);
                self.u32(m);
            }
        }
    }
}

/// Everything about the module that is neither code nor call data, in this order (integers
/// little-endian u32 unless noted; a count precedes every list; a name is len ‖ UTF-8 bytes; an
/// optional value is a byte 0 (absent) or 1 followed by the value; a value type is its WebAssembly
/// binary code; a constant expression is 0 ‖ word u64 or 1 ‖ global index):
///
/// 1. types: params (count ‖ value types), results (count ‖ value types)
/// 2. functions: type id, then 0 (defined) or 1 ‖ import module name ‖ import name
/// 3. globals: value type, mutable u8, then 0 ‖ constant expression or 1 ‖ module ‖ name
/// 4. memory: optional (min pages, optional max pages, optional (module, name) import)
/// 5. tables: value type, min, optional max, init constant expression, optional import
/// 6. data segment modes: 0 (passive) or 1 ‖ offset constant expression
/// 7. element segments: items (count ‖ constant expressions), then mode 0 passive,
///    1 ‖ table ‖ offset constant expression, 2 declared
/// 8. start: optional function index
/// 9. exports: name, kind u8 (0 func, 1 table, 2 memory, 3 global), index (0 for memory)
pub(crate) fn declarations(module: &Module) -> Result<Vec<u8>, VmError> {
    let mut out = Declarations::default();
    out.len(module.types.len(), "type count")?;
    for ty in &module.types {
        for list in [&ty.params, &ty.results] {
            out.len(list.len(), "type arity")?;
            for &t in list {
                out.val_type(t);
            }
        }
    }
    out.len(module.funcs.len(), "function count")?;
    for f in &module.funcs {
        out.u32(f.type_id);
        match &f.kind {
            FuncKind::Defined { .. } => out.u8(0),
            FuncKind::Host { module, name } => {
                out.u8(1);
                out.name(module)?;
                out.name(name)?;
            }
        }
    }
    out.len(module.globals.len(), "global count")?;
    for g in &module.globals {
        out.val_type(g.ty);
        out.u8(u8::from(g.mutable));
        match &g.init {
            GlobalInit::Expr(e) => {
                out.u8(0);
                out.const_expr(*e);
            }
            GlobalInit::Import { module, name } => {
                out.u8(1);
                out.name(module)?;
                out.name(name)?;
            }
        }
    }
    match &module.memory {
        None => out.u8(0),
        Some(m) => {
            out.u8(1);
            out.u32(m.min_pages);
            out.max(m.max_pages);
            out.import(&m.import)?;
        }
    }
    out.len(module.tables.len(), "table count")?;
    for t in &module.tables {
        out.val_type(t.ty);
        out.u32(t.min);
        out.max(t.max);
        out.const_expr(t.init);
        out.import(&t.import)?;
    }
    out.len(module.data.len(), "data segment count")?;
    for d in &module.data {
        match d.active_offset {
            None => out.u8(0),
            Some(offset) => {
                out.u8(1);
                out.const_expr(offset);
            }
        }
    }
    out.len(module.elems.len(), "element segment count")?;
    for e in &module.elems {
        out.len(e.items.len(), "element segment length")?;
        for &item in &e.items {
            out.const_expr(item);
        }
        match e.mode {
            ElemMode::Passive => out.u8(0),
            ElemMode::Active { table, offset } => {
                out.u8(1);
                out.u32(table);
                out.const_expr(offset);
            }
            ElemMode::Declared => out.u8(2),
        }
    }
    out.max(module.start);
    out.len(module.exports.len(), "export count")?;
    for (name, kind) in &module.exports {
        out.name(name)?;
        let (tag, index) = match *kind {
            ExportKind::Func(f) => (0, f),
            ExportKind::Table(t) => (1, t),
            ExportKind::Memory => (2, 0),
            ExportKind::Global(g) => (3, g),
        };
        out.u8(tag);
        out.u32(index);
    }
    Ok(out.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{height_for, verify_path};

    const TINY: &str = r#"(module
        (import "env" "log" (func $log (param i32)))
        (memory 1)
        (data (i32.const 8) "hauptbuch")
        (global $g (mut i32) (i32.const 7))
        (func (export "f") (param i32) (result i32)
          (block (br_table 0 0 (local.get 0)))
          (call $log (local.get 0))
          (i32.add (local.get 0) (global.get $g))))"#;

    fn tiny() -> std::sync::Arc<Module> {
        Module::new(&wat::parse_str(TINY).unwrap()).unwrap()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Golden vector: any change to the op encoding, the lowering of this module, a leaf layout or
    /// the preimage layout changes this hash.
    #[test]
    fn golden_module_hash() {
        assert_eq!(
            hex(&tiny().hash()),
            "d8c447d76f1719126ee56dc6260fcce6d32d0882da26d9c030bfebdda8169587"
        );
    }

    /// The hash is the documented preimage over the stored roots.
    #[test]
    fn hash_is_the_documented_preimage() {
        let m = tiny();
        let c = m.commitment();
        let mut rest = Vec::new();
        rest.extend_from_slice(&(m.call_targets.len() as u32).to_le_bytes());
        let r = &c.roots().rest;
        rest.extend_from_slice(&r.call_targets_root);
        rest.extend_from_slice(&(m.br_table.len() as u32).to_le_bytes());
        rest.extend_from_slice(&r.br_table_root);
        rest.extend_from_slice(&(m.data.len() as u32).to_le_bytes());
        rest.extend_from_slice(&r.data_root);
        rest.extend_from_slice(&1u32.to_le_bytes());
        rest.extend_from_slice(&r.imports_root);
        rest.extend_from_slice(&r.declarations);
        assert_eq!(rest.len(), 176);
        let mut pre = Vec::new();
        pre.extend_from_slice(DOMAIN);
        pre.extend_from_slice(&(m.code.len() as u32).to_le_bytes());
        pre.extend_from_slice(&c.roots().code_root);
        pre.extend_from_slice(&keccak(&rest));
        assert_eq!(keccak(&pre), m.hash());
    }

    /// Every op and call target is provable with a path of exactly the committed height.
    #[test]
    fn proofs_verify_against_the_roots() {
        let m = tiny();
        let c = m.commitment();
        assert!(m.code.len() >= 3 && !m.br_table.is_empty());
        let code_height = height_for(m.code.len().div_ceil(2) as u64);
        for (pc, op) in m.code.iter().enumerate() {
            let (leaf, path) = m.code_proof(pc as u32).unwrap();
            assert_eq!(path.len(), code_height);
            assert!(verify_path(
                &leaf,
                pc as u64 / 2,
                &path,
                &c.roots().code_root
            ));
            let half: [u8; 16] = leaf[(pc % 2) * 16..(pc % 2) * 16 + 16].try_into().unwrap();
            assert_eq!(Op::decode(&half), Ok(*op));
        }
        assert!(m.code_proof(m.code.len().div_ceil(2) as u32 * 2).is_none());
        let funcs_height = height_for(m.call_targets.len() as u64);
        for (f, target) in m.call_targets.iter().enumerate() {
            let (leaf, path) = m.call_target_proof(f as u32).unwrap();
            assert_eq!(path.len(), funcs_height);
            assert_eq!(leaf, target.leaf());
            assert_eq!(
                u32::from_le_bytes(leaf[0..4].try_into().unwrap()),
                target.entry
            );
            assert!(verify_path(
                &leaf,
                f as u64,
                &path,
                &c.roots().rest.call_targets_root
            ));
        }
        assert!(m.call_target_proof(m.call_targets.len() as u32).is_none());
        let (leaf, path) = c.br_table_proof(0).unwrap();
        assert_eq!(leaf, br_table_leaf(&m.br_table[0]));
        assert!(verify_path(&leaf, 0, &path, &c.roots().rest.br_table_root));
        let (leaf, path) = c.data_proof(0).unwrap();
        assert_eq!(leaf, bytes_commitment(b"hauptbuch").unwrap());
        assert!(verify_path(&leaf, 0, &path, &c.roots().rest.data_root));
        let (leaf, path) = c.import_proof(0).unwrap();
        let log = FuncType {
            params: vec![ValType::I32],
            results: vec![],
        };
        assert_eq!(leaf, import_leaf("env", "log", &log).unwrap());
        assert!(verify_path(&leaf, 0, &path, &c.roots().rest.imports_root));
        assert!(c.import_proof(1).is_none());
    }

    #[test]
    fn different_code_or_declarations_change_the_hash() {
        let other =
            Module::new(&wat::parse_str(TINY.replace("i32.add", "i32.sub")).unwrap()).unwrap();
        assert_ne!(other.hash(), tiny().hash());
        assert_ne!(
            other.commitment().roots().code_root,
            tiny().commitment().roots().code_root
        );
        let renamed =
            Module::new(&wat::parse_str(TINY.replace("\"f\"", "\"g\"")).unwrap()).unwrap();
        assert_ne!(renamed.hash(), tiny().hash());
        assert_eq!(
            renamed.commitment().roots().code_root,
            tiny().commitment().roots().code_root
        );
    }
}
