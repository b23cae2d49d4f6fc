//! The stateless one-step checker: given an agreed pre-state hash and a proof, it computes the
//! post-state hash of one step, or says why the proof is invalid.
//!
//! Every byte of the proof is hostile. Decoding is bounded ([`vm::proof::MAX_PROOF_BYTES`]); every
//! opening is checked against a root the pre-state hash commits to, with a tree height derived from
//! committed counts; the step runs through the same [`vm::step`] semantics as the prover and reads
//! only what was opened. Nothing here panics on any input (see the tests and
//! `tests/proof_soundness.rs`).

use std::collections::BTreeMap;

use vm::code::{BranchTarget, Op, OP_BYTES};
use vm::commitment::{br_table_leaf, bytes_commitment_from_root, call_target_leaf, import_leaf};
use vm::machine::hash::tables_hash;
use vm::memory::{LEAF_SIZE, PAGE_HEIGHT};
use vm::merkle::{height_for, Hash, WORDS_PER_LEAF};
use vm::multiproof::{MultiproofError, PartialTree};
use vm::proof::{
    ColdInputs, DecodeError, Folded, HashInputs, HostFault, HostSemantics, ModuleRest,
    SegmentsOpening, StepMemory, StepProof, TableRoot, TreeOpening,
};
use vm::step::{self, Fault, StepEnd, StepState};
use vm::{CallTarget, MachineHash, Trap};

/// Status codes of the machine hash.
const RUNNING: u8 = 1;
const FINISHED: u8 = 2;
const TRAPPED: u8 = 3;

/// Why a proof is rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("the proof's machine state hashes to {found}, not the agreed pre-state {expected}")]
    PreStateMismatch {
        expected: MachineHash,
        found: MachineHash,
    },
    #[error("the proof's module roots do not hash to the machine's module hash")]
    ModuleMismatch,
    #[error("the proof's tables do not hash to the machine's tables hash")]
    TablesMismatch,
    #[error("{what}: {source}")]
    Opening {
        what: &'static str,
        source: MultiproofError,
    },
    #[error("{0} is opened twice or for a table/segment that does not exist")]
    BadOpening(&'static str),
    #[error("the step needs {0}, which the proof does not open")]
    NotOpened(&'static str),
    #[error("the pre-state is impossible: {0}")]
    Invalid(&'static str),
    #[error("host call rejected: {0}")]
    Host(String),
}

type R<T> = Result<T, ProofError>;

/// Checks `proof_bytes` against `pre` and returns the post-state hash. `semantics` is the provable
/// meaning of the module's imports (the rollup's checker passes its STF host semantics).
pub fn verify_step_with(
    pre: &MachineHash,
    proof_bytes: &[u8],
    semantics: &dyn HostSemantics,
) -> R<MachineHash> {
    let proof = StepProof::decode(proof_bytes)?;
    let m = &proof.machine;
    let module_hash = proof.module_hash();
    let cold_open = match &m.cold {
        Folded::Hash(_) => {
            if !proof.tables.is_empty() {
                return Err(ProofError::BadOpening("tables"));
            }
            false
        }
        Folded::Open(cold) => {
            if tables_hash(&proof.tables) != cold.tables_hash {
                return Err(ProofError::TablesMismatch);
            }
            true
        }
    };
    let inputs = m.inputs(module_hash);
    let cold_hash = m.cold_hash();
    let found = inputs.hash_with_cold(&cold_hash);
    if found != *pre {
        return Err(ProofError::PreStateMismatch {
            expected: *pre,
            found,
        });
    }
    // A machine that is not running steps to itself.
    if m.status != RUNNING {
        return Ok(found);
    }
    let rest = match &proof.module.rest {
        Folded::Hash(_) => None,
        Folded::Open(rest) => Some(*rest),
    };
    let mut state = OpenedState::open(&proof, inputs.clone(), cold_open, rest, semantics)?;
    let end = match step::step(&mut state) {
        Ok(end) => end,
        Err(Fault::Trap(t)) => StepEnd::Trapped(t),
        Err(Fault::State(e)) => return Err(e),
        Err(Fault::Invalid(why)) => return Err(ProofError::Invalid(why)),
    };
    Ok(match end {
        StepEnd::Running => state.post_hash(RUNNING, &cold_hash)?,
        StepEnd::Finished => state.post_hash(FINISHED, &cold_hash)?,
        // A trapping step changes only the status.
        StepEnd::Trapped(trap) => HashInputs {
            status: TRAPPED,
            trap: trap.code(),
            ..inputs
        }
        .hash_with_cold(&cold_hash),
    })
}

fn opened(what: &'static str) -> impl Fn(MultiproofError) -> ProofError {
    move |source| ProofError::Opening { what, source }
}

/// Height of a word tree over `words` words.
fn word_height(words: u64) -> usize {
    height_for(words.div_ceil(WORDS_PER_LEAF as u64))
}

fn memory_height(pages: u32) -> usize {
    PAGE_HEIGHT + height_for(pages as u64)
}

fn open_tree(
    what: &'static str,
    height: usize,
    root: &Hash,
    opening: &TreeOpening,
) -> R<PartialTree> {
    PartialTree::open(height, root, &opening.leaves, &opening.siblings).map_err(opened(what))
}

/// A segment's contents tree and length, opened under its leaf in the segment tree.
struct OpenedSegment {
    len: u32,
    contents: PartialTree,
}

/// Opens the segments of `opening` under `root` (a tree of `count` segments). `leaf_words` is how
/// many contents bytes (data: 32) or words (elements: 4) one contents leaf holds.
fn open_segments(
    what: &'static str,
    opening: &SegmentsOpening,
    count: u32,
    root: &Hash,
    per_leaf: u64,
) -> R<BTreeMap<u32, OpenedSegment>> {
    let tree = open_tree(what, height_for(count as u64), root, &opening.tree)?;
    let mut out = BTreeMap::new();
    for seg in &opening.segments {
        let leaf = tree
            .leaf(seg.index as u64)
            .map_err(|_| ProofError::NotOpened(what))?;
        if leaf != bytes_commitment_from_root(seg.len, &seg.root) {
            return Err(ProofError::Opening {
                what,
                source: MultiproofError::RootMismatch,
            });
        }
        let height = height_for((seg.len as u64).div_ceil(per_leaf));
        let contents = open_tree(what, height, &seg.root, &seg.contents)?;
        if out
            .insert(
                seg.index,
                OpenedSegment {
                    len: seg.len,
                    contents,
                },
            )
            .is_some()
        {
            return Err(ProofError::BadOpening(what));
        }
    }
    Ok(out)
}

fn word_in(tree: &PartialTree, what: &'static str, word: u64) -> R<u64> {
    let leaf = tree
        .leaf(word / WORDS_PER_LEAF as u64)
        .map_err(|_| ProofError::NotOpened(what))?;
    let lane = (word % WORDS_PER_LEAF as u64) as usize * 8;
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(leaf.get(lane..lane + 8).ok_or(ProofError::Invalid(what))?);
    Ok(u64::from_le_bytes(bytes))
}

fn set_word_in(tree: &mut PartialTree, what: &'static str, word: u64, value: u64) -> R<()> {
    let index = word / WORDS_PER_LEAF as u64;
    let mut leaf = tree.leaf(index).map_err(|_| ProofError::NotOpened(what))?;
    let lane = (word % WORDS_PER_LEAF as u64) as usize * 8;
    leaf.get_mut(lane..lane + 8)
        .ok_or(ProofError::Invalid(what))?
        .copy_from_slice(&value.to_le_bytes());
    tree.set_leaf(index, leaf).map_err(opened(what))
}

/// Reads bytes of a byte-string tree; an unopened leaf means the proof lacks what the step needs.
fn read_bytes(tree: &PartialTree, what: &'static str, offset: u64, buf: &mut [u8]) -> R<()> {
    tree.read_bytes(offset, buf)
        .map_err(|_| ProofError::NotOpened(what))
}

fn write_bytes(tree: &mut PartialTree, what: &'static str, offset: u64, data: &[u8]) -> R<()> {
    tree.write_bytes(offset, data).map_err(opened(what))
}

/// The partial machine a proof opens, which the step reads and writes. Trees under the folded
/// cold part or module rest are empty stand-ins that the accessors never reach: those check
/// [`OpenedState::cold`] / [`OpenedState::rest`] first.
struct OpenedState<'a> {
    regs: HashInputs,
    cold_open: bool,
    rest: Option<ModuleRest>,
    code_len: u32,
    code: PartialTree,
    call_targets: PartialTree,
    br_table: PartialTree,
    stack: PartialTree,
    frames: PartialTree,
    globals: PartialTree,
    dropped: PartialTree,
    tables: Vec<TableRoot>,
    table_trees: BTreeMap<u32, PartialTree>,
    memory: PartialTree,
    data: BTreeMap<u32, OpenedSegment>,
    elems: BTreeMap<u32, OpenedSegment>,
    proof: &'a StepProof,
    semantics: &'a dyn HostSemantics,
}

/// Opens a tree under a folded part only if the proof opens nothing in it.
fn open_under(
    open: bool,
    what: &'static str,
    height: usize,
    root: &Hash,
    opening: &TreeOpening,
) -> R<PartialTree> {
    if open {
        open_tree(what, height, root, opening)
    } else if opening.is_empty() && opening.siblings.is_empty() {
        open_tree(what, 0, &[0; 32], opening)
    } else {
        Err(ProofError::BadOpening(what))
    }
}

impl<'a> OpenedState<'a> {
    fn open(
        proof: &'a StepProof,
        regs: HashInputs,
        cold_open: bool,
        rest: Option<ModuleRest>,
        semantics: &'a dyn HostSemantics,
    ) -> R<OpenedState<'a>> {
        let c = &regs.cold;
        let rest_open = rest.is_some();
        let r = rest.unwrap_or_default();
        let mut table_trees = BTreeMap::new();
        for (index, opening) in &proof.table_entries {
            let table = proof
                .tables
                .get(*index as usize)
                .ok_or(ProofError::BadOpening("table entries"))?;
            let tree = open_tree(
                "table entries",
                word_height(table.entries as u64),
                &table.root,
                opening,
            )?;
            if table_trees.insert(*index, tree).is_some() {
                return Err(ProofError::BadOpening("table entries"));
            }
        }
        let data_opened = !proof.data.segments.is_empty() || !proof.data.tree.is_empty();
        if data_opened && !rest_open {
            return Err(ProofError::BadOpening("data segments"));
        }
        let elems_opened = !proof.elems.segments.is_empty() || !proof.elems.tree.is_empty();
        if elems_opened && !cold_open {
            return Err(ProofError::BadOpening("element segments"));
        }
        if proof.host.is_some() && !(cold_open && rest_open) {
            return Err(ProofError::BadOpening("host call"));
        }
        let segment_bits = r.data_count as u64 + c.elem_count as u64;
        Ok(OpenedState {
            code_len: proof.module.code_len,
            code: open_tree(
                "code",
                height_for((proof.module.code_len as u64).div_ceil(2)),
                &proof.module.code_root,
                &proof.code,
            )?,
            call_targets: open_under(
                rest_open,
                "call targets",
                height_for(r.funcs as u64),
                &r.call_targets_root,
                &proof.call_targets,
            )?,
            br_table: open_under(
                rest_open,
                "branch table",
                height_for(r.br_entries as u64),
                &r.br_table_root,
                &proof.br_table,
            )?,
            stack: open_tree(
                "value stack",
                word_height(regs.stack_reserved as u64),
                &regs.stack_root,
                &proof.stack,
            )?,
            frames: open_under(
                cold_open,
                "frames",
                word_height(c.frames_reserved as u64),
                &c.frames_root,
                &proof.frames,
            )?,
            globals: open_under(
                cold_open,
                "globals",
                word_height(c.globals_count as u64),
                &c.globals_root,
                &proof.globals,
            )?,
            dropped: open_under(
                cold_open && rest_open,
                "dropped segments",
                word_height(segment_bits.div_ceil(64)),
                &c.dropped_root,
                &proof.dropped,
            )?,
            table_trees,
            tables: proof.tables.clone(),
            memory: open_tree(
                "memory",
                memory_height(regs.memory_pages),
                &regs.memory_root,
                &proof.memory,
            )?,
            data: if rest_open {
                open_segments(
                    "data segments",
                    &proof.data,
                    r.data_count,
                    &r.data_root,
                    LEAF_SIZE as u64,
                )?
            } else {
                BTreeMap::new()
            },
            elems: if cold_open {
                open_segments(
                    "element segments",
                    &proof.elems,
                    c.elem_count,
                    &c.elems_root,
                    WORDS_PER_LEAF as u64,
                )?
            } else {
                BTreeMap::new()
            },
            regs,
            cold_open,
            rest,
            proof,
            semantics,
        })
    }

    fn cold(&mut self) -> R<&mut ColdInputs> {
        if self.cold_open {
            Ok(&mut self.regs.cold)
        } else {
            Err(ProofError::NotOpened("the machine's cold part"))
        }
    }

    fn rest(&self) -> R<&ModuleRest> {
        self.rest
            .as_ref()
            .ok_or(ProofError::NotOpened("the module's rest"))
    }

    /// The post-state's hash (`cold_hash` is the pre-state's, kept when the cold part is folded).
    fn post_hash(&self, status: u8, cold_hash: &Hash) -> R<MachineHash> {
        let mut post = HashInputs {
            status,
            trap: 0,
            stack_root: self.stack.root(),
            memory_root: self.memory.root(),
            ..self.regs.clone()
        };
        if !self.cold_open {
            return Ok(post.hash_with_cold(cold_hash));
        }
        let mut tables = self.tables.clone();
        for (index, tree) in &self.table_trees {
            let t = tables
                .get_mut(*index as usize)
                .ok_or(ProofError::BadOpening("table entries"))?;
            t.root = tree.root();
        }
        post.cold.frames_root = self.frames.root();
        post.cold.globals_root = self.globals.root();
        post.cold.tables_hash = tables_hash(&tables);
        // The dropped bits' tree is opened only with the module's rest (its height needs the
        // data segment count); otherwise it is a stand-in and the root stays.
        if self.rest.is_some() {
            post.cold.dropped_root = self.dropped.root();
        }
        Ok(post.hash())
    }

    fn table_tree(&mut self, table: u32) -> R<&mut PartialTree> {
        self.cold()?;
        self.table_trees
            .get_mut(&table)
            .ok_or(ProofError::NotOpened("a table entry"))
    }

    fn memory_size(&self) -> u64 {
        self.regs.memory_pages as u64 * vm::memory::PAGE_SIZE as u64
    }
}

impl StepState for OpenedState<'_> {
    type Error = ProofError;

    fn pc(&self) -> u32 {
        self.regs.pc
    }
    fn fp(&self) -> u32 {
        self.regs.fp
    }
    fn sp(&self) -> u32 {
        self.regs.sp
    }
    fn set_pc(&mut self, pc: u32) {
        self.regs.pc = pc;
    }
    fn set_fp(&mut self, fp: u32) {
        self.regs.fp = fp;
    }
    fn set_sp(&mut self, sp: u32) {
        self.regs.sp = sp;
    }

    fn op(&mut self, pc: u32) -> R<Op> {
        if pc >= self.code_len {
            return Err(ProofError::Invalid("pc past the code"));
        }
        let leaf = self
            .code
            .leaf(pc as u64 / 2)
            .map_err(|_| ProofError::NotOpened("the op at pc"))?;
        let half = (pc as usize % 2) * OP_BYTES;
        let mut bytes = [0u8; OP_BYTES];
        bytes.copy_from_slice(&leaf[half..half + OP_BYTES]);
        Op::decode(&bytes).map_err(|_| ProofError::Invalid("undecodable op"))
    }

    fn br_table_entry(&mut self, index: u32) -> R<BranchTarget> {
        if index >= self.rest()?.br_entries {
            return Err(ProofError::Invalid("branch table index"));
        }
        let leaf = self
            .br_table
            .leaf(index as u64)
            .map_err(|_| ProofError::NotOpened("the branch-table entry"))?;
        let [pc, drop, keep] = u32_fields(&leaf);
        let target = BranchTarget { pc, drop, keep };
        // The leaf must be exactly the canonical encoding (no stray bytes).
        if br_table_leaf(&target) != leaf {
            return Err(ProofError::Invalid("branch-table leaf"));
        }
        Ok(target)
    }

    fn call_target(&mut self, func: u32) -> R<Option<CallTarget>> {
        if func >= self.rest()?.funcs {
            return Ok(None);
        }
        let leaf = self
            .call_targets
            .leaf(func as u64)
            .map_err(|_| ProofError::NotOpened("the call target"))?;
        let fields: [u32; 5] = u32_fields(&leaf);
        if call_target_leaf(fields) != leaf {
            return Err(ProofError::Invalid("call-target leaf"));
        }
        Ok(Some(CallTarget {
            entry: fields[0],
            params: fields[1],
            results: fields[2],
            max_height: fields[3],
            type_id: fields[4],
        }))
    }

    fn stack_reserved(&self) -> u32 {
        self.regs.stack_reserved
    }
    fn stack(&mut self, slot: u32) -> R<u64> {
        if slot >= self.regs.stack_reserved {
            return Err(ProofError::Invalid("stack slot past the reserved height"));
        }
        word_in(&self.stack, "a value-stack slot", slot as u64)
    }
    fn set_stack(&mut self, slot: u32, word: u64) -> R<()> {
        if slot >= self.regs.stack_reserved {
            return Err(ProofError::Invalid("stack slot past the reserved height"));
        }
        set_word_in(&mut self.stack, "a value-stack slot", slot as u64, word)
    }
    fn reserve_stack(&mut self, top: u32) -> R<()> {
        self.regs.stack_reserved = self.regs.stack_reserved.max(top);
        self.stack
            .grow(word_height(self.regs.stack_reserved as u64))
            .map_err(opened("value stack"))
    }

    fn frame_words(&mut self) -> R<u32> {
        Ok(self.cold()?.frame_words)
    }
    fn push_frame(&mut self, return_pc: u64, caller_fp: u64) -> R<()> {
        let at = self.cold()?.frame_words;
        let words = at
            .checked_add(2)
            .ok_or(ProofError::Invalid("frame count"))?;
        let cold = self.cold()?;
        cold.frame_words = words;
        cold.frames_reserved = cold.frames_reserved.max(words);
        self.frames
            .grow(word_height(self.regs.cold.frames_reserved as u64))
            .map_err(opened("frames"))?;
        set_word_in(&mut self.frames, "a frame", at as u64, return_pc)?;
        set_word_in(&mut self.frames, "a frame", at as u64 + 1, caller_fp)
    }
    fn pop_frame(&mut self) -> R<(u64, u64)> {
        let at = self
            .cold()?
            .frame_words
            .checked_sub(2)
            .ok_or(ProofError::Invalid("frame stack underflow"))?;
        let return_pc = word_in(&self.frames, "a frame", at as u64)?;
        let caller_fp = word_in(&self.frames, "a frame", at as u64 + 1)?;
        // Popped frame words are zero in the committed tree.
        set_word_in(&mut self.frames, "a frame", at as u64, 0)?;
        set_word_in(&mut self.frames, "a frame", at as u64 + 1, 0)?;
        self.regs.cold.frame_words = at;
        Ok((return_pc, caller_fp))
    }

    fn global_count(&mut self) -> R<u32> {
        Ok(self.cold()?.globals_count)
    }
    fn global(&mut self, index: u32) -> R<u64> {
        self.cold()?;
        word_in(&self.globals, "a global", index as u64)
    }
    fn set_global(&mut self, index: u32, word: u64) -> R<()> {
        self.cold()?;
        set_word_in(&mut self.globals, "a global", index as u64, word)
    }

    fn table_count(&mut self) -> R<u32> {
        self.cold()?;
        Ok(self.tables.len() as u32)
    }
    fn table_size(&mut self, table: u32) -> R<(u32, u32)> {
        self.cold()?;
        let t = self
            .tables
            .get(table as usize)
            .ok_or(ProofError::Invalid("no such table"))?;
        Ok((t.entries, t.max))
    }
    fn table_entry(&mut self, table: u32, index: u32) -> R<u64> {
        word_in(self.table_tree(table)?, "a table entry", index as u64)
    }
    fn set_table_entry(&mut self, table: u32, index: u32, word: u64) -> R<()> {
        set_word_in(self.table_tree(table)?, "a table entry", index as u64, word)
    }
    fn grow_table(&mut self, table: u32, entries: u32) -> R<()> {
        self.cold()?;
        let t = self
            .tables
            .get_mut(table as usize)
            .ok_or(ProofError::Invalid("no such table"))?;
        let tree = match self.table_trees.entry(table) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            // Growing reads no entry: the table's root alone is the tree to grow.
            std::collections::btree_map::Entry::Vacant(v) => v.insert(open_tree(
                "table entries",
                word_height(t.entries as u64),
                &t.root,
                &TreeOpening::default(),
            )?),
        };
        tree.grow(word_height(entries as u64))
            .map_err(opened("table entries"))?;
        t.entries = entries;
        Ok(())
    }

    fn memory_pages(&self) -> u32 {
        self.regs.memory_pages
    }
    fn memory_max_pages(&mut self) -> R<u32> {
        Ok(self.cold()?.memory_max_pages)
    }
    fn grow_memory(&mut self, pages: u32) -> R<()> {
        self.regs.memory_pages = pages;
        self.memory
            .grow(memory_height(pages))
            .map_err(opened("memory"))
    }
    fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> R<()> {
        read_bytes(&self.memory, "memory", addr, buf)
    }
    fn write_memory(&mut self, addr: u64, data: &[u8]) -> R<()> {
        write_bytes(&mut self.memory, "memory", addr, data)
    }

    fn dropped(&mut self, bit: u32) -> R<bool> {
        self.cold()?;
        self.rest()?;
        let word = word_in(&self.dropped, "a dropped-segment bit", bit as u64 / 64)?;
        Ok(word & (1 << (bit % 64)) != 0)
    }
    fn set_dropped(&mut self, bit: u32) -> R<()> {
        self.cold()?;
        self.rest()?;
        let word = word_in(&self.dropped, "a dropped-segment bit", bit as u64 / 64)?;
        set_word_in(
            &mut self.dropped,
            "a dropped-segment bit",
            bit as u64 / 64,
            word | (1 << (bit % 64)),
        )
    }
    fn data_count(&mut self) -> R<u32> {
        Ok(self.rest()?.data_count)
    }
    fn data_len(&mut self, segment: u32) -> R<u32> {
        let seg = self
            .data
            .get(&segment)
            .ok_or(ProofError::NotOpened("a data segment"))?;
        Ok(seg.len)
    }
    fn read_data(&mut self, segment: u32, offset: u32, buf: &mut [u8]) -> R<()> {
        let seg = self
            .data
            .get(&segment)
            .ok_or(ProofError::NotOpened("a data segment"))?;
        read_bytes(&seg.contents, "a data segment chunk", offset as u64, buf)
    }
    fn elem_count(&mut self) -> R<u32> {
        Ok(self.cold()?.elem_count)
    }
    fn elem_len(&mut self, segment: u32) -> R<u32> {
        let seg = self
            .elems
            .get(&segment)
            .ok_or(ProofError::NotOpened("an element segment"))?;
        Ok(seg.len)
    }
    fn elem_item(&mut self, segment: u32, index: u32) -> R<u64> {
        let seg = self
            .elems
            .get(&segment)
            .ok_or(ProofError::NotOpened("an element segment"))?;
        word_in(&seg.contents, "an element item", index as u64)
    }

    fn call_host(&mut self, func: u32, args: &[u64]) -> Result<Vec<u64>, Fault<ProofError>> {
        let host = self
            .proof
            .host
            .as_ref()
            .ok_or(Fault::State(ProofError::NotOpened(
                "the host call's import",
            )))?;
        let rest = *self.rest().map_err(Fault::State)?;
        self.cold().map_err(Fault::State)?;
        if func >= rest.imports {
            return Err(Fault::Invalid("host call of a defined function"));
        }
        let imports = open_tree(
            "imports",
            height_for(rest.imports as u64),
            &rest.imports_root,
            &host.import_proof,
        )
        .map_err(Fault::State)?;
        let ty = host
            .import
            .func_type()
            .ok_or(Fault::State(ProofError::Host(
                "unknown value type in import".into(),
            )))?;
        let leaf = import_leaf(&host.import.module, &host.import.name, &ty)
            .map_err(|_| Fault::State(ProofError::Host("import name too long".into())))?;
        if imports.leaf(func as u64).ok() != Some(leaf) {
            return Err(Fault::State(ProofError::Host(
                "the import does not match the module's imports root".into(),
            )));
        }
        if ty.params.len() != args.len() {
            return Err(Fault::Invalid("host call arity"));
        }
        let size = self.memory_size();
        let mut memory = OpenedMemory {
            tree: &mut self.memory,
            size,
        };
        let mut host_root = self.regs.cold.host_root;
        let results = self
            .semantics
            .call(
                &host.import,
                args,
                &host.witness,
                &mut memory,
                &mut host_root,
            )
            .map_err(|fault| match fault {
                HostFault::Trap(t) => Fault::Trap(t),
                HostFault::Reject(why) => Fault::State(ProofError::Host(why)),
            })?;
        self.regs.cold.host_root = host_root;
        Ok(results)
    }
}

/// The first `N` little-endian u32 fields of a leaf (`N <= 8`); the caller re-encodes and compares
/// the whole leaf, so stray bytes after them are refused too.
fn u32_fields<const N: usize>(leaf: &Hash) -> [u32; N] {
    let mut out = [0u32; N];
    for (k, chunk) in leaf.chunks_exact(4).take(N).enumerate() {
        out[k] = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    out
}

/// Opened memory as a host call sees it.
struct OpenedMemory<'a> {
    tree: &'a mut PartialTree,
    size: u64,
}

impl OpenedMemory<'_> {
    fn check(&self, addr: u64, len: usize) -> Result<(), HostFault> {
        match addr.checked_add(len as u64) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(HostFault::Trap(Trap::MemoryOutOfBounds)),
        }
    }
}

impl StepMemory for OpenedMemory<'_> {
    fn size(&self) -> u64 {
        self.size
    }
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), HostFault> {
        self.check(addr, buf.len())?;
        read_bytes(self.tree, "memory", addr, buf).map_err(|e| HostFault::Reject(e.to_string()))
    }
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), HostFault> {
        self.check(addr, data.len())?;
        write_bytes(self.tree, "memory", addr, data).map_err(|e| HostFault::Reject(e.to_string()))
    }
}
