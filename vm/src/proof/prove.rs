//! Proof generation: run the step on a scratch copy of the machine through a recording
//! [`StepState`], then open every leaf it touched in the pre-state's trees.

use std::collections::{BTreeMap, BTreeSet};

use crate::code::{BranchTarget, Op};
use crate::commitment::bytes_tree;
use crate::host::GuestMemory;
use crate::machine::{Machine, Status};
use crate::memory::LEAF_SIZE;
use crate::merkle::{Hash, LeafTree, WORDS_PER_LEAF};
use crate::module::{CallTarget, FuncKind};
use crate::multiproof::multiproof_siblings;
use crate::step::{self, Fault, StepState};
use crate::{Host, Trap, Value};

use super::{
    Folded, HostFault, HostOpening, HostSemantics, ImportDecl, MachineOpening, ModuleOpening,
    SegmentOpening, SegmentsOpening, StepMemory, StepProof, TreeOpening, PROOF_VERSION,
};

/// Why a proof could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProveError {
    #[error("the host semantics refuse this call: {0}")]
    Host(String),
    #[error("the machine state is inconsistent: {0}")]
    Invalid(&'static str),
}

/// Leaves a step touched, per tree (leaf indices).
#[derive(Default)]
struct Touched {
    code: BTreeSet<u64>,
    call_targets: BTreeSet<u64>,
    br_table: BTreeSet<u64>,
    stack: BTreeSet<u64>,
    frames: BTreeSet<u64>,
    globals: BTreeSet<u64>,
    dropped: BTreeSet<u64>,
    tables: BTreeMap<u32, BTreeSet<u64>>,
    memory: BTreeSet<u64>,
    data: BTreeMap<u32, BTreeSet<u64>>,
    elems: BTreeMap<u32, BTreeSet<u64>>,
    host: Option<HostOpening>,
    /// The step needs the machine's cold part / the module's rest (see [`super::Folded`]).
    cold: bool,
    rest: bool,
}

fn word_leaf_index(word: u32) -> u64 {
    word as u64 / WORDS_PER_LEAF as u64
}

fn touch_bytes(set: &mut BTreeSet<u64>, addr: u64, len: usize) {
    if len > 0 {
        let last = addr + len as u64 - 1;
        set.extend(addr / LEAF_SIZE as u64..=last / LEAF_SIZE as u64);
    }
}

/// The step's view of a scratch machine, noting every leaf it reads or writes.
struct Recorder<'a, H: ?Sized> {
    m: &'a mut Machine,
    host: &'a H,
    semantics: &'a dyn HostSemantics,
    touched: Touched,
}

/// Guest memory for a host call, recording the leaves it touches.
struct RecordingMemory<'a> {
    memory: &'a mut crate::memory::Memory,
    touched: &'a mut BTreeSet<u64>,
}

impl StepMemory for RecordingMemory<'_> {
    fn size(&self) -> u64 {
        self.memory.size()
    }
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), HostFault> {
        self.memory.read(addr, buf).map_err(HostFault::Trap)?;
        touch_bytes(self.touched, addr, buf.len());
        Ok(())
    }
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), HostFault> {
        self.memory.write(addr, data).map_err(HostFault::Trap)?;
        touch_bytes(self.touched, addr, data.len());
        Ok(())
    }
}

/// Guest memory as the host's witness builder reads it (no recording: the semantics re-read).
struct PlainMemory<'a>(&'a crate::memory::Memory);

impl GuestMemory for PlainMemory<'_> {
    fn size(&self) -> u64 {
        self.0.size()
    }
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Trap> {
        self.0.read(addr, buf)
    }
    fn write(&mut self, _: u64, _: &[u8]) -> Result<(), Trap> {
        Err(Trap::MemoryOutOfBounds)
    }
}

type R<T> = Result<T, ProveError>;

impl<H: Host + ?Sized> StepState for Recorder<'_, H> {
    type Error = ProveError;

    fn pc(&self) -> u32 {
        self.m.pc
    }
    fn fp(&self) -> u32 {
        self.m.fp
    }
    fn sp(&self) -> u32 {
        self.m.sp
    }
    fn set_pc(&mut self, pc: u32) {
        self.m.pc = pc;
    }
    fn set_fp(&mut self, fp: u32) {
        self.m.fp = fp;
    }
    fn set_sp(&mut self, sp: u32) {
        self.m.sp = sp;
    }

    fn op(&mut self, pc: u32) -> R<Op> {
        self.touched.code.insert(pc as u64 / 2);
        self.m
            .module
            .code
            .get(pc as usize)
            .copied()
            .ok_or(ProveError::Invalid("pc past the code"))
    }
    fn br_table_entry(&mut self, index: u32) -> R<BranchTarget> {
        self.touched.rest = true;
        self.touched.br_table.insert(index as u64);
        self.m
            .module
            .br_table
            .get(index as usize)
            .copied()
            .ok_or(ProveError::Invalid("branch table index"))
    }
    fn call_target(&mut self, func: u32) -> R<Option<CallTarget>> {
        self.touched.rest = true;
        let target = self.m.module.call_targets.get(func as usize).copied();
        if target.is_some() {
            self.touched.call_targets.insert(func as u64);
        }
        Ok(target)
    }

    fn stack_reserved(&self) -> u32 {
        self.m.stack_reserved
    }
    fn stack(&mut self, slot: u32) -> R<u64> {
        self.touched.stack.insert(word_leaf_index(slot));
        Ok(self.m.stack.get(slot as usize).copied().unwrap_or(0))
    }
    fn set_stack(&mut self, slot: u32, word: u64) -> R<()> {
        self.touched.stack.insert(word_leaf_index(slot));
        let cell = self
            .m
            .stack
            .get_mut(slot as usize)
            .ok_or(ProveError::Invalid("stack slot past the reserved height"))?;
        *cell = word;
        Ok(())
    }
    fn reserve_stack(&mut self, top: u32) -> R<()> {
        if self.m.stack.len() < top as usize {
            self.m.stack.resize(top as usize, 0);
        }
        self.m.stack_reserved = self.m.stack_reserved.max(top);
        Ok(())
    }

    fn frame_words(&mut self) -> R<u32> {
        self.touched.cold = true;
        Ok(self.m.frames.len() as u32)
    }
    fn push_frame(&mut self, return_pc: u64, caller_fp: u64) -> R<()> {
        self.touched.cold = true;
        let at = self.m.frames.len() as u32;
        self.touched.frames.insert(word_leaf_index(at));
        self.touched.frames.insert(word_leaf_index(at + 1));
        self.m.frames.push(return_pc);
        self.m.frames.push(caller_fp);
        self.m.frames_reserved = self.m.frames_reserved.max(self.m.frames.len() as u32);
        Ok(())
    }
    fn pop_frame(&mut self) -> R<(u64, u64)> {
        self.touched.cold = true;
        let at = self.m.frames.len() as u32;
        self.touched.frames.insert(word_leaf_index(at - 1));
        self.touched.frames.insert(word_leaf_index(at - 2));
        let caller_fp = self.m.frames.pop();
        let return_pc = self.m.frames.pop();
        match (return_pc, caller_fp) {
            (Some(pc), Some(fp)) => Ok((pc, fp)),
            _ => Err(ProveError::Invalid("frame stack underflow")),
        }
    }

    fn global_count(&mut self) -> R<u32> {
        self.touched.cold = true;
        Ok(self.m.globals.len() as u32)
    }
    fn global(&mut self, index: u32) -> R<u64> {
        self.touched.cold = true;
        self.touched.globals.insert(word_leaf_index(index));
        Ok(self.m.globals[index as usize])
    }
    fn set_global(&mut self, index: u32, word: u64) -> R<()> {
        self.touched.cold = true;
        self.touched.globals.insert(word_leaf_index(index));
        self.m.globals[index as usize] = word;
        Ok(())
    }

    fn table_count(&mut self) -> R<u32> {
        self.touched.cold = true;
        Ok(self.m.tables.len() as u32)
    }
    fn table_size(&mut self, table: u32) -> R<(u32, u32)> {
        self.touched.cold = true;
        let t = &self.m.tables[table as usize];
        Ok((t.entries.len() as u32, t.max))
    }
    fn table_entry(&mut self, table: u32, index: u32) -> R<u64> {
        self.touched.cold = true;
        let set = self.touched.tables.entry(table).or_default();
        set.insert(word_leaf_index(index));
        Ok(self.m.tables[table as usize].entries[index as usize])
    }
    fn set_table_entry(&mut self, table: u32, index: u32, word: u64) -> R<()> {
        self.touched.cold = true;
        let set = self.touched.tables.entry(table).or_default();
        set.insert(word_leaf_index(index));
        self.m.tables[table as usize].entries[index as usize] = word;
        Ok(())
    }
    fn grow_table(&mut self, table: u32, entries: u32) -> R<()> {
        self.touched.cold = true;
        let t = &mut self.m.tables[table as usize];
        t.entries.resize(entries as usize, crate::value::NULL_REF);
        Ok(())
    }

    fn memory_pages(&self) -> u32 {
        self.m.memory.pages()
    }
    fn memory_max_pages(&mut self) -> R<u32> {
        self.touched.cold = true;
        Ok(self.m.memory.max_pages())
    }
    fn grow_memory(&mut self, pages: u32) -> R<()> {
        let delta = pages - self.m.memory.pages();
        self.m
            .memory
            .grow(delta)
            .map(|_| ())
            .ok_or(ProveError::Invalid("memory growth past the maximum"))
    }
    fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> R<()> {
        touch_bytes(&mut self.touched.memory, addr, buf.len());
        self.m
            .memory
            .read(addr, buf)
            .map_err(|_| ProveError::Invalid("memory read out of bounds"))
    }
    fn write_memory(&mut self, addr: u64, data: &[u8]) -> R<()> {
        touch_bytes(&mut self.touched.memory, addr, data.len());
        self.m
            .memory
            .write(addr, data)
            .map_err(|_| ProveError::Invalid("memory write out of bounds"))
    }

    fn dropped(&mut self, bit: u32) -> R<bool> {
        self.touched.cold = true;
        self.touched.rest = true;
        self.touched.dropped.insert(word_leaf_index(bit / 64));
        Ok(crate::machine::bit(&self.m.dropped, bit as usize))
    }
    fn set_dropped(&mut self, bit: u32) -> R<()> {
        self.touched.cold = true;
        self.touched.rest = true;
        self.touched.dropped.insert(word_leaf_index(bit / 64));
        crate::machine::set_bit(&mut self.m.dropped, bit as usize);
        Ok(())
    }
    fn data_count(&mut self) -> R<u32> {
        self.touched.rest = true;
        Ok(self.m.module.data.len() as u32)
    }
    fn data_len(&mut self, segment: u32) -> R<u32> {
        self.touched.rest = true;
        self.touched.data.entry(segment).or_default();
        Ok(self.m.module.data[segment as usize].bytes.len() as u32)
    }
    fn read_data(&mut self, segment: u32, offset: u32, buf: &mut [u8]) -> R<()> {
        self.touched.rest = true;
        let set = self.touched.data.entry(segment).or_default();
        touch_bytes(set, offset as u64, buf.len());
        let bytes = &self.m.module.data[segment as usize].bytes;
        let src = bytes
            .get(offset as usize..offset as usize + buf.len())
            .ok_or(ProveError::Invalid("data segment read out of range"))?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn elem_count(&mut self) -> R<u32> {
        self.touched.cold = true;
        Ok(self.m.elems.len() as u32)
    }
    fn elem_len(&mut self, segment: u32) -> R<u32> {
        self.touched.cold = true;
        self.touched.elems.entry(segment).or_default();
        Ok(self.m.elems[segment as usize].len() as u32)
    }
    fn elem_item(&mut self, segment: u32, index: u32) -> R<u64> {
        self.touched.cold = true;
        let set = self.touched.elems.entry(segment).or_default();
        set.insert(word_leaf_index(index));
        Ok(self.m.elems[segment as usize][index as usize])
    }

    fn call_host(&mut self, func: u32, args: &[u64]) -> Result<Vec<u64>, Fault<ProveError>> {
        // The host root is cold; the import is in the module's rest.
        self.touched.cold = true;
        self.touched.rest = true;
        let module = self.m.module.clone();
        let f = module
            .funcs
            .get(func as usize)
            .ok_or(Fault::Invalid("no such function"))?;
        let FuncKind::Host { module: m, name } = &f.kind else {
            return Err(Fault::Invalid("host call of a defined function"));
        };
        let ty = &module.types[f.type_id as usize];
        let import = ImportDecl::new(m, name, ty);
        let values: Vec<Value> = ty
            .params
            .iter()
            .zip(args)
            .map(|(t, w)| Value::from_word(*t, *w))
            .collect();
        let id = self.m.host_ids[func as usize];
        let witness = self
            .host
            .step_witness(id, &values, &PlainMemory(&self.m.memory));
        self.touched.host = Some(HostOpening {
            import: import.clone(),
            import_proof: TreeOpening::default(),
            witness: witness.clone(),
        });
        let mut memory = RecordingMemory {
            memory: &mut self.m.memory,
            touched: &mut self.touched.memory,
        };
        let mut host_root = self.m.host_root;
        let results = self
            .semantics
            .call(&import, args, &witness, &mut memory, &mut host_root)
            .map_err(|fault| match fault {
                HostFault::Trap(t) => Fault::Trap(t),
                HostFault::Reject(why) => Fault::State(ProveError::Host(why)),
            })?;
        self.m.host_root = host_root;
        Ok(results)
    }
}

/// Opens `indices` of a tree of `height` given each leaf's single proof; leaves past the tree (in
/// the part a growing step adds) are left out: they are zero and the checker grows the tree first.
fn open(
    height: usize,
    indices: &BTreeSet<u64>,
    proof: impl Fn(u64) -> Option<(Hash, Vec<Hash>)>,
) -> R<TreeOpening> {
    let mut leaves = Vec::new();
    let mut paths = Vec::new();
    for &index in indices {
        if height < 64 && index >> height != 0 {
            continue;
        }
        let (leaf, path) = proof(index).ok_or(ProveError::Invalid("leaf without a proof"))?;
        leaves.push((index, leaf));
        paths.push((index, path));
    }
    Ok(TreeOpening {
        siblings: multiproof_siblings(height, &paths),
        leaves,
    })
}

fn open_leaf_tree(tree: &LeafTree, indices: &BTreeSet<u64>) -> R<TreeOpening> {
    open(tree.height(), indices, |i| {
        Some((tree.leaf(i as usize)?, tree.path(i as usize)?))
    })
}

fn open_segments(
    top: &LeafTree,
    touched: &BTreeMap<u32, BTreeSet<u64>>,
    segment: impl Fn(u32) -> (u32, LeafTree),
) -> R<SegmentsOpening> {
    let mut segments = Vec::new();
    for (&index, leaves) in touched {
        let (len, tree) = segment(index);
        segments.push(SegmentOpening {
            index,
            len,
            root: tree.root(),
            contents: open_leaf_tree(&tree, leaves)?,
        });
    }
    let indices: BTreeSet<u64> = touched.keys().map(|&i| i as u64).collect();
    Ok(SegmentsOpening {
        segments,
        tree: open_leaf_tree(top, &indices)?,
    })
}

impl Machine {
    /// The one-step proof of the step this machine takes next (see [`crate::proof`]). The machine
    /// itself does not move. `host` supplies witnesses for host calls and `semantics` is the
    /// provable meaning of its imports (the same the checker runs).
    pub fn prove_step<H: Host + ?Sized>(
        &mut self,
        host: &H,
        semantics: &dyn HostSemantics,
    ) -> Result<StepProof, ProveError> {
        let machine = self.hash_inputs();
        let tables = self.table_roots();
        let module = self.module.clone();
        let commitment = module.commitment();
        let mut touched = Touched::default();
        if self.status == Status::Running {
            let mut scratch = self.scratch_copy();
            let mut recorder = Recorder {
                m: &mut scratch,
                host,
                semantics,
                touched: Touched::default(),
            };
            match step::step(&mut recorder) {
                Ok(_) => {}
                Err(Fault::Trap(_)) => {}
                Err(Fault::State(e)) => return Err(e),
                Err(Fault::Invalid(why)) => return Err(ProveError::Invalid(why)),
            }
            touched = recorder.touched;
        }
        let trees = &self.trees;
        let word_tree = |tree: &crate::merkle::WordTree, set: &BTreeSet<u64>| {
            open(tree.height(), set, |i| tree.proof(i as usize))
        };
        let mut table_entries = Vec::new();
        for (&table, set) in &touched.tables {
            let tree = trees
                .tables
                .get(table as usize)
                .ok_or(ProveError::Invalid("no such table"))?;
            table_entries.push((table, word_tree(tree, set)?));
        }
        let memory_height = self.memory.tree_height();
        let memory = &mut self.memory;
        let mut memory_leaves = Vec::new();
        let mut memory_paths = Vec::new();
        for &leaf in &touched.memory {
            if let Some((value, path)) = memory.leaf_proof(leaf * LEAF_SIZE as u64) {
                memory_leaves.push((leaf, value));
                memory_paths.push((leaf, path));
            }
        }
        let memory = TreeOpening {
            siblings: multiproof_siblings(memory_height, &memory_paths),
            leaves: memory_leaves,
        };
        let host = match touched.host {
            Some(mut opening) => {
                let Some(Op::CallHost { func }) = module.code.get(self.pc as usize).copied() else {
                    return Err(ProveError::Invalid("host opening without a host call"));
                };
                opening.import_proof = open(
                    height_of(commitment.roots().rest.imports as u64),
                    &BTreeSet::from([func as u64]),
                    |i| commitment.import_proof(i as u32),
                )?;
                Some(opening)
            }
            None => None,
        };
        let roots = *commitment.roots();
        let rest = if touched.rest {
            Folded::Open(roots.rest)
        } else {
            Folded::Hash(roots.rest.hash())
        };
        Ok(StepProof {
            version: PROOF_VERSION,
            module: ModuleOpening {
                code_len: roots.code_len,
                code_root: roots.code_root,
                rest,
            },
            tables: if touched.cold { tables } else { Vec::new() },
            code: open(
                height_of((module.code.len() as u64).div_ceil(2)),
                &touched.code,
                |i| commitment.code_proof(2 * i as u32),
            )?,
            call_targets: open(
                height_of(module.call_targets.len() as u64),
                &touched.call_targets,
                |i| commitment.call_target_proof(i as u32),
            )?,
            br_table: open(
                height_of(module.br_table.len() as u64),
                &touched.br_table,
                |i| commitment.br_table_proof(i as u32),
            )?,
            stack: word_tree(&trees.stack, &touched.stack)?,
            frames: word_tree(&trees.frames, &touched.frames)?,
            globals: word_tree(&trees.globals, &touched.globals)?,
            dropped: word_tree(&trees.dropped, &touched.dropped)?,
            table_entries,
            memory,
            data: open_segments(commitment.data_tree(), &touched.data, |s| {
                let bytes = &module.data[s as usize].bytes;
                (bytes.len() as u32, bytes_tree(bytes))
            })?,
            elems: open_segments(&self.elem_trees.top, &touched.elems, |e| {
                (
                    self.elems[e as usize].len() as u32,
                    self.elem_trees.segments[e as usize].clone(),
                )
            })?,
            host,
            machine: MachineOpening::new(&machine, touched.cold),
        })
    }
}

fn height_of(leaves: u64) -> usize {
    crate::merkle::height_for(leaves)
}
