//! The provable machine: all state of one module instance, stepped one lowered [`Op`] at a time.
//!
//! Registers (`pc`, `fp`, `sp`, call depth) plus word arrays (value stack, frames, globals, tables,
//! dropped-segment bits) plus paged linear memory. Everything here is committed by
//! [`Machine::hash`] (layout in [`hash`]); a clone is a cheap snapshot because memory pages are
//! shared copy-on-write.

pub(crate) mod run;
pub(crate) mod threaded;
pub use crate::commit::machine_hash as hash;

use std::sync::Arc;

use crate::code::Op;
use crate::limits::{MAX_MEMORY_PAGES, MAX_VALUE_STACK};
use crate::memory::Memory;
use crate::module::{ConstExpr, ElemMode, ExportKind, FuncKind, GlobalInit, Module};
use crate::{Host, Trap, ValType, Value, VmError};

pub use hash::MachineHash;

/// Where the machine is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Instantiated; nothing invoked yet (or the last invocation's results were taken).
    Idle,
    Running,
    /// The invocation returned; its results are on the stack (see [`Machine::results`]).
    Finished,
    Trapped(Trap),
}

impl Status {
    pub(crate) fn code(&self) -> u8 {
        match self {
            Status::Idle => 0,
            Status::Running => 1,
            Status::Finished => 2,
            Status::Trapped(_) => 3,
        }
    }
}

/// A table instance.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub entries: Vec<u64>,
    pub max: u32,
}

/// The machine. Cloning it is a snapshot (memory pages are shared until written).
#[derive(Clone)]
pub struct Machine {
    pub(crate) module: Arc<Module>,
    pub(crate) status: Status,
    pub(crate) pc: u32,
    pub(crate) fp: u32,
    pub(crate) sp: u32,
    pub(crate) stack: Vec<u64>,
    /// High-water mark of reserved stack slots (max over calls of `fp + frame height`): sizes the
    /// stack's Merkle tree. Slots at or above it were never written and are zero.
    pub(crate) stack_reserved: u32,
    /// Two words per frame: return pc, caller's fp.
    pub(crate) frames: Vec<u64>,
    pub(crate) frames_reserved: u32,
    pub(crate) globals: Vec<u64>,
    pub(crate) tables: Vec<Table>,
    pub(crate) memory: Memory,
    /// Element segments evaluated at instantiation (their items may read imported globals).
    pub(crate) elems: Vec<Arc<[u64]>>,
    /// Commitment to `elems` (immutable after instantiation; drops are in `dropped`).
    pub(crate) elem_trees: Arc<hash::ElemTrees>,
    /// The host's commitment to its state, refreshed after every host call.
    pub(crate) host_root: crate::merkle::Hash,
    /// Dropped bits: data segments first, then element segments, 64 per word.
    pub(crate) dropped: Vec<u64>,
    pub(crate) host_ids: Vec<u32>,
    pub(crate) steps: u64,
    /// Result types of the current invocation.
    pub(crate) result_types: Vec<ValType>,
    pub(crate) trees: hash::Trees,
}

impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine")
            .field("status", &self.status)
            .field("pc", &self.pc)
            .field("sp", &self.sp)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

/// How a bounded `run` ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    Finished(Vec<Value>),
    Trapped(Trap),
    /// The step budget ran out; the machine is still running and can continue.
    StepLimit,
    /// Nothing was invoked.
    Idle,
}

impl Machine {
    /// Instantiates `module`: resolves imports through `host`, evaluates globals, applies active
    /// segments. If the module has a start function the machine comes back `Running` at its entry
    /// (run it like any invocation); otherwise `Idle`.
    pub fn new<H: Host + ?Sized>(module: Arc<Module>, host: &mut H) -> Result<Machine, VmError> {
        let mut host_ids = vec![0u32; module.funcs.len()];
        for (index, f) in module.funcs.iter().enumerate() {
            if let FuncKind::Host { module: m, name } = &f.kind {
                let ty = &module.types[f.type_id as usize];
                host_ids[index] =
                    host.resolve_func(m, name, ty)
                        .map_err(|reason| VmError::UnresolvedImport {
                            module: m.clone(),
                            name: name.clone(),
                            reason,
                        })?;
            }
        }
        let mut globals = Vec::with_capacity(module.globals.len());
        for g in &module.globals {
            let word = match &g.init {
                GlobalInit::Import { module: m, name } => {
                    let v = host
                        .resolve_global(m, name, g.ty, g.mutable)
                        .map_err(|reason| VmError::UnresolvedImport {
                            module: m.clone(),
                            name: name.clone(),
                            reason,
                        })?;
                    if v.ty() != g.ty {
                        return Err(VmError::UnresolvedImport {
                            module: m.clone(),
                            name: name.clone(),
                            reason: format!(
                                "expected a global of type {}, the host gave {}",
                                g.ty,
                                v.ty()
                            ),
                        });
                    }
                    v.to_word()
                }
                GlobalInit::Expr(e) => eval_const(*e, &globals),
            };
            globals.push(word);
        }
        let unresolved =
            |(module, name): &(String, String), reason: String| VmError::UnresolvedImport {
                module: module.clone(),
                name: name.clone(),
                reason,
            };
        let memory = match &module.memory {
            Some(def) => {
                let (mut min, mut max) = (def.min_pages, def.max_pages);
                if let Some(import) = &def.import {
                    let limits = host
                        .resolve_memory(&import.0, &import.1)
                        .map_err(|r| unresolved(import, r))?;
                    if !limits.satisfies(min, max) {
                        return Err(unresolved(
                            import,
                            "incompatible import type: memory limits".into(),
                        ));
                    }
                    (min, max) = (limits.min, limits.max);
                }
                let max = max.unwrap_or(MAX_MEMORY_PAGES).min(MAX_MEMORY_PAGES);
                if min > max {
                    return Err(VmError::LimitExceeded(format!("memory of {min} pages")));
                }
                Memory::new(min, max)
            }
            None => Memory::new(0, 0),
        };
        let mut tables = Vec::with_capacity(module.tables.len());
        for def in &module.tables {
            let (mut min, mut max) = (def.min, def.max);
            if let Some(import) = &def.import {
                let limits = host
                    .resolve_table(&import.0, &import.1, def.ty)
                    .map_err(|r| unresolved(import, r))?;
                if !limits.satisfies(min, max) {
                    return Err(unresolved(
                        import,
                        "incompatible import type: table limits".into(),
                    ));
                }
                (min, max) = (limits.min, limits.max);
            }
            let max = max
                .unwrap_or(u32::MAX)
                .min(crate::limits::MAX_TABLE_ENTRIES);
            if min > max {
                return Err(VmError::LimitExceeded(format!("table of {min} entries")));
            }
            tables.push(Table {
                entries: vec![eval_const(def.init, &globals); min as usize],
                max,
            });
        }
        let elems: Vec<Arc<[u64]>> = module
            .elems
            .iter()
            .map(|e| e.items.iter().map(|i| eval_const(*i, &globals)).collect())
            .collect();
        let segment_count = module.data.len() + module.elems.len();
        let mut machine = Machine {
            status: Status::Idle,
            pc: 0,
            fp: 0,
            sp: 0,
            stack: Vec::new(),
            stack_reserved: 0,
            frames: Vec::new(),
            frames_reserved: 0,
            globals,
            tables,
            memory,
            elem_trees: Arc::new(hash::ElemTrees::new(&elems)),
            host_root: host.commitment(),
            elems,
            dropped: vec![0; segment_count.div_ceil(64)],
            host_ids,
            steps: 0,
            result_types: Vec::new(),
            trees: hash::Trees::default(),
            module,
        };
        machine.apply_segments()?;
        if let Some(start) = machine.module.start {
            machine.begin_call(start, &[])?;
        }
        Ok(machine)
    }

    /// Instantiates and runs the start function (if any) to completion within `max_steps`.
    pub fn instantiate<H: Host + ?Sized>(
        module: Arc<Module>,
        host: &mut H,
        max_steps: u64,
    ) -> Result<Machine, VmError> {
        let mut machine = Machine::new(module, host)?;
        if machine.status == Status::Running {
            match machine.run(host, max_steps) {
                RunOutcome::Finished(_) => machine.status = Status::Idle,
                RunOutcome::Trapped(trap) => return Err(VmError::InstantiationTrap(trap)),
                RunOutcome::StepLimit => {
                    return Err(VmError::InstantiationTrap(Trap::StepLimitReached))
                }
                RunOutcome::Idle => {}
            }
        }
        Ok(machine)
    }

    /// Active element and data segments, in order (WebAssembly 2.0: both are dropped afterwards).
    fn apply_segments(&mut self) -> Result<(), VmError> {
        let module = self.module.clone();
        for (index, seg) in module.elems.iter().enumerate() {
            match &seg.mode {
                ElemMode::Active { table, offset } => {
                    let offset = eval_const(*offset, &self.globals) as u32 as usize;
                    let items = &self.elems[index];
                    let table = &mut self.tables[*table as usize];
                    let end = offset
                        .checked_add(items.len())
                        .filter(|e| *e <= table.entries.len());
                    let Some(end) = end else {
                        return Err(VmError::InstantiationTrap(Trap::TableOutOfBounds));
                    };
                    table.entries[offset..end].copy_from_slice(items);
                    self.drop_segment(module.data.len() + index);
                }
                ElemMode::Declared => self.drop_segment(module.data.len() + index),
                ElemMode::Passive => {}
            }
        }
        for (index, seg) in module.data.iter().enumerate() {
            if let Some(offset) = seg.active_offset {
                let offset = eval_const(offset, &self.globals) as u32 as u64;
                self.memory
                    .write(offset, &seg.bytes)
                    .map_err(VmError::InstantiationTrap)?;
                self.drop_segment(index);
            }
        }
        Ok(())
    }

    fn drop_segment(&mut self, index: usize) {
        set_bit(&mut self.dropped, index);
    }

    pub fn module(&self) -> &Arc<Module> {
        &self.module
    }

    pub fn status(&self) -> &Status {
        &self.status
    }

    /// Steps taken since instantiation, over all invocations.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    pub fn pc(&self) -> u32 {
        self.pc
    }

    /// The op the next step executes (`None` when not running).
    pub fn next_op(&self) -> Option<Op> {
        (self.status == Status::Running).then(|| self.module.code[self.pc as usize])
    }

    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    pub fn memory_mut(&mut self) -> &mut Memory {
        &mut self.memory
    }

    /// Current size and maximum of table `index`.
    pub fn table_limits(&self, index: u32) -> Option<crate::ImportLimits> {
        self.tables
            .get(index as usize)
            .map(|t| crate::ImportLimits {
                min: t.entries.len() as u32,
                max: Some(t.max),
            })
    }

    /// Current value of global `index`.
    pub fn global(&self, index: u32) -> Option<Value> {
        let ty = self.module.global_type(index)?;
        Some(Value::from_word(ty, self.globals[index as usize]))
    }

    /// Current value of the exported global `name`.
    pub fn exported_global(&self, name: &str) -> Option<Value> {
        match self.module.export(name)? {
            ExportKind::Global(index) => self.global(index),
            _ => None,
        }
    }

    /// Starts invoking exported function `name` with `args`; run it with [`Machine::run`].
    pub fn invoke(&mut self, name: &str, args: &[Value]) -> Result<(), VmError> {
        let func = match self.module.export(name) {
            Some(ExportKind::Func(f)) => f,
            _ => return Err(VmError::NoSuchExport(name.to_string())),
        };
        self.module.func_type(func).check_args(name, args)?;
        self.begin_call(func, args)
    }

    fn begin_call(&mut self, func: u32, args: &[Value]) -> Result<(), VmError> {
        if self.status == Status::Running {
            return Err(VmError::Busy(format!("function {}", self.pc)));
        }
        let target = self.module.call_targets[func as usize];
        self.result_types = self.module.func_type(func).results.clone();
        self.frames.clear();
        self.fp = 0;
        self.sp = args.len() as u32;
        let height = target.max_height.max(args.len() as u32).max(target.results);
        if height > MAX_VALUE_STACK {
            self.status = Status::Trapped(Trap::ValueStackExhausted);
            return Ok(());
        }
        if self.stack.len() < height as usize {
            self.stack.resize(height as usize, 0);
        }
        self.stack_reserved = self.stack_reserved.max(height);
        for (slot, arg) in self.stack.iter_mut().zip(args) {
            *slot = arg.to_word();
        }
        self.status = Status::Running;
        // Imported functions have a two-op trampoline entry (see `Module`), so invoking one directly
        // runs like any other invocation.
        self.pc = target.entry;
        Ok(())
    }

    /// Results of the finished invocation.
    pub fn results(&self) -> Option<Vec<Value>> {
        (self.status == Status::Finished).then(|| {
            self.result_types
                .iter()
                .enumerate()
                .map(|(i, ty)| Value::from_word(*ty, self.stack[i]))
                .collect()
        })
    }

    /// Takes one step. A finished or trapped machine steps to itself.
    pub fn step<H: Host + ?Sized>(&mut self, host: &mut H) -> RunOutcome {
        self.run(host, 1)
    }

    fn outcome(&self) -> RunOutcome {
        match &self.status {
            Status::Idle => RunOutcome::Idle,
            Status::Running => RunOutcome::StepLimit,
            Status::Finished => RunOutcome::Finished(self.results().unwrap_or_default()),
            Status::Trapped(t) => RunOutcome::Trapped(*t),
        }
    }

    /// A copy to run one step on without its hash caches (a proof reads the pre-state's trees).
    pub(crate) fn scratch_copy(&self) -> Machine {
        Machine {
            module: self.module.clone(),
            status: self.status.clone(),
            pc: self.pc,
            fp: self.fp,
            sp: self.sp,
            stack: self.stack.clone(),
            stack_reserved: self.stack_reserved,
            frames: self.frames.clone(),
            frames_reserved: self.frames_reserved,
            globals: self.globals.clone(),
            tables: self.tables.clone(),
            memory: self.memory.clone(),
            elems: self.elems.clone(),
            elem_trees: self.elem_trees.clone(),
            host_root: self.host_root,
            dropped: self.dropped.clone(),
            host_ids: self.host_ids.clone(),
            steps: self.steps,
            result_types: self.result_types.clone(),
            trees: hash::Trees::default(),
        }
    }

    /// A cheap snapshot (shares memory pages copy-on-write).
    pub fn snapshot(&self) -> Machine {
        self.clone()
    }
}

pub(crate) fn eval_const(expr: ConstExpr, globals: &[u64]) -> u64 {
    match expr {
        ConstExpr::Word(w) => w,
        ConstExpr::GlobalGet(g) => globals.get(g as usize).copied().unwrap_or(0),
    }
}

pub(crate) fn set_bit(bits: &mut [u64], index: usize) {
    bits[index / 64] |= 1 << (index % 64);
}

pub(crate) fn bit(bits: &[u64], index: usize) -> bool {
    bits[index / 64] & (1 << (index % 64)) != 0
}
