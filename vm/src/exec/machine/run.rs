//! Execution: the loop over lowered code. Every arm either completes its step or traps before
//! changing any state, so a trapping step leaves everything but the status as it was.

use crate::code::{imm32, BranchTarget, Op};
use crate::host::GuestMemory;
use crate::limits::{BULK_BYTES_PER_STEP, MAX_CALL_DEPTH, MAX_VALUE_STACK};
use crate::memory::Memory;
use crate::numeric as num;
use crate::{Host, Trap, Value};

use super::{Machine, RunOutcome, Status};

/// Lets a host function read and write guest memory through the machine's Merkleized memory.
struct MachineMemory<'a>(&'a mut Memory);

impl GuestMemory for MachineMemory<'_> {
    fn size(&self) -> u64 {
        self.0.size()
    }
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Trap> {
        self.0.read(addr, buf)
    }
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Trap> {
        self.0.write(addr, data)
    }
}

/// What an op did to control flow, when it did more than fall through.
pub(crate) enum Flow {
    Trap(Trap),
    Finished,
}

impl Machine {
    /// Runs at most `max_steps` steps.
    pub fn run<H: Host + ?Sized>(&mut self, host: &mut H, max_steps: u64) -> RunOutcome {
        self.run_with(host, max_steps, true)
    }

    /// [`Machine::run`] on the loop alone, without the threaded fast path: the reference the
    /// threaded code is tested against.
    #[cfg(test)]
    pub(crate) fn run_loop<H: Host + ?Sized>(
        &mut self,
        host: &mut H,
        max_steps: u64,
    ) -> RunOutcome {
        self.run_with(host, max_steps, false)
    }

    fn run_with<H: Host + ?Sized>(
        &mut self,
        host: &mut H,
        max_steps: u64,
        threaded: bool,
    ) -> RunOutcome {
        if self.status != Status::Running {
            return self.outcome();
        }
        let module = self.module.clone();
        let threaded = module.handlers.as_deref().filter(|_| threaded);
        let mut budget = max_steps;
        while budget > 0 {
            // Whole runs while the budget covers the next one; single steps to stop exactly.
            let run = module.run_lengths[self.pc as usize] as u64;
            let (taken, flow) = match threaded {
                _ if run > budget => self.execute::<H, true>(host, 1),
                Some(handlers) => {
                    let mut single_step = |m: &mut Machine| m.execute::<H, true>(host, 1).1;
                    super::threaded::run(self, &module, &mut single_step, handlers, budget)
                }
                None => self.execute::<H, false>(host, budget),
            };
            self.steps += taken;
            budget -= taken;
            match flow {
                Some(Flow::Trap(trap)) => {
                    self.status = Status::Trapped(trap);
                    break;
                }
                Some(Flow::Finished) => {
                    self.status = Status::Finished;
                    break;
                }
                None => {}
            }
        }
        self.outcome()
    }

    /// The interpreter loop. Registers live in locals for speed and are written back on exit.
    /// Runs whole runs of straight-line code while `budget` covers them (the budget is checked once
    /// per run, not per op); with `SINGLE`, exactly one step.
    #[allow(clippy::too_many_lines)]
    fn execute<H: Host + ?Sized, const SINGLE: bool>(
        &mut self,
        host: &mut H,
        budget: u64,
    ) -> (u64, Option<Flow>) {
        let module = self.module.clone();
        let code = &module.code[..];
        let mut pc = self.pc as usize;
        let mut sp = self.sp as usize;
        let mut fp = self.fp as usize;
        let run_lengths = &module.run_lengths[..];
        // Steps are counted per run of straight-line code (see `run_lengths`): `taken` is the
        // steps before the current run, which started at `run_start`; `here` is the op executing.
        let mut taken: u64 = 0;
        let mut run_start = pc;
        let mut here: usize;
        let stack = &mut self.stack;

        // The op at `here` ended its run by jumping (or repeating itself): count the run, and go on
        // only if the budget covers the whole next one. (Plain `continue`/`break`: labels are
        // hygienic in macros, so these act on the one loop below.)
        macro_rules! end_run {
            () => {{
                taken += (here - run_start) as u64 + 1;
                if SINGLE || taken + run_lengths[pc] as u64 > budget {
                    break;
                }
                run_start = pc;
                continue;
            }};
        }
        macro_rules! next_run {
            () => {{
                pc += 1;
                end_run!();
            }};
        }

        macro_rules! unop {
            ($f:expr) => {{
                let a = stack[sp - 1];
                stack[sp - 1] = $f(a);
            }};
        }
        macro_rules! binop {
            ($f:expr) => {{
                let b = stack[sp - 1];
                let a = stack[sp - 2];
                stack[sp - 2] = $f(a, b);
                sp -= 1;
            }};
        }
        macro_rules! trap {
            ($t:expr) => {{
                self.pc = pc as u32;
                self.sp = sp as u32;
                self.fp = fp as u32;
                return (taken + (here - run_start) as u64 + 1, Some(Flow::Trap($t)));
            }};
        }
        macro_rules! try_trap {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(t) => trap!(t),
                }
            };
        }
        macro_rules! binop_trap {
            ($f:expr) => {{
                let b = stack[sp - 1];
                let a = stack[sp - 2];
                stack[sp - 2] = try_trap!($f(a, b));
                sp -= 1;
            }};
        }
        macro_rules! unop_trap {
            ($f:expr) => {{
                let a = stack[sp - 1];
                stack[sp - 1] = try_trap!($f(a));
            }};
        }
        macro_rules! addr {
            ($offset:expr, $slot:expr) => {
                (stack[$slot] as u32 as u64) + ($offset as u64)
            };
        }
        macro_rules! load {
            ($offset:expr, $n:literal, $conv:expr) => {{
                let a = addr!($offset, sp - 1);
                let bytes = try_trap!(self.memory.load::<$n>(a));
                stack[sp - 1] = $conv(bytes);
            }};
        }
        macro_rules! store {
            ($offset:expr, $n:literal, $conv:expr) => {{
                let a = addr!($offset, sp - 2);
                let v = stack[sp - 1];
                try_trap!(self.memory.store::<$n>(a, $conv(v)));
                sp -= 2;
            }};
        }
        macro_rules! branch {
            ($t:expr) => {{
                let t: BranchTarget = $t;
                if t.drop > 0 {
                    let keep = t.keep as usize;
                    let drop = t.drop as usize;
                    stack.copy_within(sp - keep..sp, sp - keep - drop);
                    sp -= drop;
                }
                pc = t.pc as usize;
                end_run!();
            }};
        }
        // Enters `target` with its arguments on top of the stack, below `consumed` operands the
        // call itself pops (the table index of `call_indirect`).
        macro_rules! enter {
            ($target:expr, $consumed:expr) => {{
                let target: crate::module::CallTarget = $target;
                if self.frames.len() as u32 >= 2 * MAX_CALL_DEPTH {
                    trap!(Trap::CallStackExhausted);
                }
                let args_end = sp - $consumed;
                let new_fp = args_end - target.params as usize;
                let top = new_fp as u64 + target.max_height as u64;
                if top > MAX_VALUE_STACK as u64 {
                    trap!(Trap::ValueStackExhausted);
                }
                if stack.len() < top as usize {
                    stack.resize(top as usize, 0);
                }
                sp = args_end;
                self.stack_reserved = self.stack_reserved.max(top as u32);
                self.frames.push(pc as u64 + 1);
                self.frames.push(fp as u64);
                self.frames_reserved = self.frames_reserved.max(self.frames.len() as u32);
                fp = new_fp;
                pc = target.entry as usize;
                end_run!();
            }};
        }

        // The caller checked that the budget covers the first run (or asked for a single step).
        loop {
            here = pc;
            let op = code[pc];
            match op {
                Op::Unreachable => trap!(Trap::Unreachable),
                Op::Br(t) => branch!(t),
                Op::BrIf(t) => {
                    sp -= 1;
                    if stack[sp] as u32 != 0 {
                        branch!(t);
                    }
                    next_run!();
                }
                Op::BrUnless { pc: target } => {
                    sp -= 1;
                    if stack[sp] as u32 == 0 {
                        pc = target as usize;
                        end_run!();
                    }
                    next_run!();
                }
                Op::BrTable { start, len } => {
                    let index = (stack[sp - 1] as u32).min(len - 1);
                    sp -= 1;
                    branch!(module.br_table[(start + index) as usize]);
                }
                Op::Return { results } => {
                    let k = results as usize;
                    stack.copy_within(sp - k..sp, fp);
                    sp = fp + k;
                    match (self.frames.pop(), self.frames.pop()) {
                        (Some(caller_fp), Some(return_pc)) => {
                            fp = caller_fp as usize;
                            pc = return_pc as usize;
                            end_run!();
                        }
                        _ => {
                            self.pc = pc as u32;
                            self.sp = sp as u32;
                            self.fp = fp as u32;
                            return (taken + (here - run_start) as u64 + 1, Some(Flow::Finished));
                        }
                    }
                }
                Op::Call { func } => enter!(module.call_targets[func as usize], 0),
                Op::CallIndirect { type_index, table } => {
                    let index = stack[sp - 1] as u32 as usize;
                    let entries = &self.tables[table as usize].entries;
                    let Some(&word) = entries.get(index) else {
                        trap!(Trap::UndefinedElement)
                    };
                    if word == crate::value::NULL_REF {
                        trap!(Trap::UninitializedElement);
                    }
                    let target = module.call_targets[(word - 1) as usize];
                    if target.type_id != type_index {
                        trap!(Trap::IndirectCallTypeMismatch);
                    }
                    enter!(target, 1)
                }
                Op::CallHost { func } => {
                    let ty = module.func_type(func);
                    let n = ty.params.len();
                    let args: Vec<Value> = ty
                        .params
                        .iter()
                        .zip(&stack[sp - n..sp])
                        .map(|(t, w)| Value::from_word(*t, *w))
                        .collect();
                    let mut results: Vec<Value> =
                        ty.results.iter().map(|t| Value::default_for(*t)).collect();
                    let id = self.host_ids[func as usize];
                    try_trap!(host.call(
                        id,
                        &args,
                        &mut MachineMemory(&mut self.memory),
                        &mut results
                    ));
                    // A host that returns values of the wrong type is a host bug; the word encoding
                    // is still well defined, and the declared types are what the guest sees.
                    let base = sp - n;
                    if base + results.len() > stack.len() {
                        trap!(Trap::ValueStackExhausted);
                    }
                    for (i, v) in results.iter().enumerate() {
                        stack[base + i] = v.to_word();
                    }
                    sp = base + results.len();
                    self.host_root = host.commitment();
                }
                Op::PushZeros { count } => {
                    stack[sp..sp + count as usize].fill(0);
                    sp += count as usize;
                }
                Op::Drop => sp -= 1,
                Op::Select => {
                    let c = stack[sp - 1] as u32;
                    sp -= 2;
                    if c == 0 {
                        stack[sp - 1] = stack[sp];
                    }
                }
                Op::LocalGet(i) => {
                    stack[sp] = stack[fp + i as usize];
                    sp += 1;
                }
                Op::LocalSet(i) => {
                    sp -= 1;
                    stack[fp + i as usize] = stack[sp];
                }
                Op::LocalTee(i) => stack[fp + i as usize] = stack[sp - 1],
                Op::BinImm { op, imm } => stack[sp - 1] = op.apply(stack[sp - 1], imm),
                Op::BinLocal { op, local } => {
                    stack[sp - 1] = op.apply(stack[sp - 1], stack[fp + local as usize]);
                }
                Op::LocalBinImm { op, local, imm } => {
                    stack[sp] = op.apply(stack[fp + local as usize], imm);
                    sp += 1;
                }
                Op::LocalBinLocal { op, a, b } => {
                    stack[sp] = op.apply(stack[fp + a as usize], stack[fp + b as usize]);
                    sp += 1;
                }
                Op::BinImmSet { op, imm, dst } => {
                    sp -= 1;
                    stack[fp + dst as usize] = op.apply(stack[sp], imm);
                }
                Op::BinImmTee { op, imm, dst } => {
                    let r = op.apply(stack[sp - 1], imm);
                    stack[sp - 1] = r;
                    stack[fp + dst as usize] = r;
                }
                Op::BinLocalSet { op, local, dst } => {
                    sp -= 1;
                    stack[fp + dst as usize] = op.apply(stack[sp], stack[fp + local as usize]);
                }
                Op::BinLocalTee { op, local, dst } => {
                    let r = op.apply(stack[sp - 1], stack[fp + local as usize]);
                    stack[sp - 1] = r;
                    stack[fp + dst as usize] = r;
                }
                Op::LocalBinLocalSet { op, a, b, dst } => {
                    stack[fp + dst as usize] =
                        op.apply(stack[fp + a as usize], stack[fp + b as usize]);
                }
                Op::LocalBinLocalTee { op, a, b, dst } => {
                    let r = op.apply(stack[fp + a as usize], stack[fp + b as usize]);
                    stack[sp] = r;
                    sp += 1;
                    stack[fp + dst as usize] = r;
                }
                Op::LocalBinImm32Set {
                    op,
                    local,
                    imm,
                    dst,
                } => {
                    stack[fp + dst as usize] = op.apply(stack[fp + local as usize], imm32(imm));
                }
                Op::LocalBinImm32Tee {
                    op,
                    local,
                    imm,
                    dst,
                } => {
                    let r = op.apply(stack[fp + local as usize], imm32(imm));
                    stack[sp] = r;
                    sp += 1;
                    stack[fp + dst as usize] = r;
                }
                Op::BrIfBin { op, target } => {
                    sp -= 2;
                    if op.apply(stack[sp], stack[sp + 1]) as u32 != 0 {
                        branch!(target);
                    }
                    next_run!();
                }
                Op::BrIfEqz(target) => {
                    sp -= 1;
                    if stack[sp] as u32 == 0 {
                        branch!(target);
                    }
                    next_run!();
                }
                Op::GlobalGet(i) => {
                    stack[sp] = self.globals[i as usize];
                    sp += 1;
                }
                Op::GlobalSet(i) => {
                    sp -= 1;
                    self.globals[i as usize] = stack[sp];
                }
                Op::TableGet(t) => {
                    let index = stack[sp - 1] as u32 as usize;
                    let Some(&w) = self.tables[t as usize].entries.get(index) else {
                        trap!(Trap::TableOutOfBounds)
                    };
                    stack[sp - 1] = w;
                }
                Op::TableSet(t) => {
                    let index = stack[sp - 2] as u32 as usize;
                    let value = stack[sp - 1];
                    let Some(slot) = self.tables[t as usize].entries.get_mut(index) else {
                        trap!(Trap::TableOutOfBounds)
                    };
                    *slot = value;
                    sp -= 2;
                }
                Op::TableSize(t) => {
                    stack[sp] = self.tables[t as usize].entries.len() as u64;
                    sp += 1;
                }
                Op::TableGrow(t) => {
                    let (init, n) = (stack[sp - 2], stack[sp - 1] as u32);
                    let table = &mut self.tables[t as usize];
                    let old = table.entries.len() as u32;
                    match old.checked_add(n).filter(|new| *new <= table.max) {
                        Some(new) => {
                            table.entries.resize(new as usize, crate::value::NULL_REF);
                            // [init, n] -> [old, dst=old, init, n] for the fill step that follows.
                            stack[sp - 2] = old as u64;
                            stack[sp - 1] = old as u64;
                            stack[sp] = init;
                            stack[sp + 1] = n as u64;
                            sp += 2;
                            next_run!();
                        }
                        None => {
                            stack[sp - 2] = u32::MAX as u64;
                            sp -= 1;
                            pc += 2;
                            end_run!();
                        }
                    }
                }
                Op::TableFillCheck(t) => {
                    let (d, n) = (stack[sp - 3] as u32 as u64, stack[sp - 1] as u32 as u64);
                    if d + n > self.tables[t as usize].entries.len() as u64 {
                        trap!(Trap::TableOutOfBounds);
                    }
                }
                Op::TableFillStep(t) => {
                    let n = stack[sp - 1] as u32;
                    if n == 0 {
                        sp -= 3;
                        next_run!();
                    } else {
                        let d = stack[sp - 3] as u32;
                        self.tables[t as usize].entries[d as usize] = stack[sp - 2];
                        stack[sp - 3] = (d + 1) as u64;
                        stack[sp - 1] = (n - 1) as u64;
                        end_run!();
                    }
                }
                Op::TableCopyCheck { dst, src } => {
                    let (d, s, n) = (
                        stack[sp - 3] as u32 as u64,
                        stack[sp - 2] as u32 as u64,
                        stack[sp - 1] as u32 as u64,
                    );
                    if s + n > self.tables[src as usize].entries.len() as u64
                        || d + n > self.tables[dst as usize].entries.len() as u64
                    {
                        trap!(Trap::TableOutOfBounds);
                    }
                }
                Op::TableCopyStep { dst, src } => {
                    let (d, s, n) = (
                        stack[sp - 3] as u32,
                        stack[sp - 2] as u32,
                        stack[sp - 1] as u32,
                    );
                    if n == 0 {
                        sp -= 3;
                        next_run!();
                    } else {
                        if dst == src && d > s {
                            // Overlap with dst above src: copy from the end.
                            let table = &mut self.tables[dst as usize].entries;
                            table[(d + n - 1) as usize] = table[(s + n - 1) as usize];
                        } else {
                            let w = self.tables[src as usize].entries[s as usize];
                            self.tables[dst as usize].entries[d as usize] = w;
                            stack[sp - 3] = (d + 1) as u64;
                            stack[sp - 2] = (s + 1) as u64;
                        }
                        stack[sp - 1] = (n - 1) as u64;
                        end_run!();
                    }
                }
                Op::TableInitCheck { table, elem } => {
                    let (d, s, n) = (
                        stack[sp - 3] as u32 as u64,
                        stack[sp - 2] as u32 as u64,
                        stack[sp - 1] as u32 as u64,
                    );
                    let bit = module.data.len() + elem as usize;
                    let len = if super::bit(&self.dropped, bit) {
                        0
                    } else {
                        self.elems[elem as usize].len() as u64
                    };
                    if s + n > len || d + n > self.tables[table as usize].entries.len() as u64 {
                        trap!(Trap::TableOutOfBounds);
                    }
                }
                Op::TableInitStep { table, elem } => {
                    let (d, s, n) = (
                        stack[sp - 3] as u32,
                        stack[sp - 2] as u32,
                        stack[sp - 1] as u32,
                    );
                    if n == 0 {
                        sp -= 3;
                        next_run!();
                    } else {
                        let w = self.elems[elem as usize][s as usize];
                        self.tables[table as usize].entries[d as usize] = w;
                        stack[sp - 3] = (d + 1) as u64;
                        stack[sp - 2] = (s + 1) as u64;
                        stack[sp - 1] = (n - 1) as u64;
                        end_run!();
                    }
                }
                Op::ElemDrop(e) => {
                    super::set_bit(&mut self.dropped, module.data.len() + e as usize)
                }
                Op::I32Load(o) => load!(o, 4, |b| u32::from_le_bytes(b) as u64),
                Op::I64Load(o) => load!(o, 8, u64::from_le_bytes),
                Op::I32Load8S(o) => load!(o, 1, |b: [u8; 1]| b[0] as i8 as i32 as u32 as u64),
                Op::I32Load8U(o) => load!(o, 1, |b: [u8; 1]| b[0] as u64),
                Op::I32Load16S(o) => {
                    load!(o, 2, |b| i16::from_le_bytes(b) as i32 as u32 as u64)
                }
                Op::I32Load16U(o) => load!(o, 2, |b| u16::from_le_bytes(b) as u64),
                Op::I64Load8S(o) => load!(o, 1, |b: [u8; 1]| b[0] as i8 as i64 as u64),
                Op::I64Load8U(o) => load!(o, 1, |b: [u8; 1]| b[0] as u64),
                Op::I64Load16S(o) => load!(o, 2, |b| i16::from_le_bytes(b) as i64 as u64),
                Op::I64Load16U(o) => load!(o, 2, |b| u16::from_le_bytes(b) as u64),
                Op::I64Load32S(o) => load!(o, 4, |b| i32::from_le_bytes(b) as i64 as u64),
                Op::I64Load32U(o) => load!(o, 4, |b| u32::from_le_bytes(b) as u64),
                Op::I32Store(o) => store!(o, 4, |v: u64| (v as u32).to_le_bytes()),
                Op::I64Store(o) => store!(o, 8, |v: u64| v.to_le_bytes()),
                Op::I32Store8(o) | Op::I64Store8(o) => store!(o, 1, |v: u64| [v as u8]),
                Op::I32Store16(o) | Op::I64Store16(o) => {
                    store!(o, 2, |v: u64| (v as u16).to_le_bytes())
                }
                Op::I64Store32(o) => store!(o, 4, |v: u64| (v as u32).to_le_bytes()),
                Op::MemorySize => {
                    stack[sp] = self.memory.pages() as u64;
                    sp += 1;
                }
                Op::MemoryGrow => {
                    let delta = stack[sp - 1] as u32;
                    stack[sp - 1] = self.memory.grow(delta).unwrap_or(u32::MAX) as u64;
                }
                Op::MemoryFillCheck => {
                    let (d, n) = (stack[sp - 3] as u32 as u64, stack[sp - 1] as u32 as u64);
                    if d + n > self.memory.size() {
                        trap!(Trap::MemoryOutOfBounds);
                    }
                }
                Op::MemoryFillStep => {
                    let n = stack[sp - 1] as u32 as u64;
                    if n == 0 {
                        sp -= 3;
                        next_run!();
                    } else {
                        let d = stack[sp - 3] as u32 as u64;
                        let k = chunk_forward(d, n);
                        let bytes = [stack[sp - 2] as u8; BULK_BYTES_PER_STEP as usize];
                        try_trap!(self.memory.write(d, &bytes[..k as usize]));
                        stack[sp - 3] = d + k;
                        stack[sp - 1] = n - k;
                        end_run!();
                    }
                }
                Op::MemoryCopyCheck => {
                    let (d, s, n) = (
                        stack[sp - 3] as u32 as u64,
                        stack[sp - 2] as u32 as u64,
                        stack[sp - 1] as u32 as u64,
                    );
                    let size = self.memory.size();
                    if s + n > size || d + n > size {
                        trap!(Trap::MemoryOutOfBounds);
                    }
                }
                Op::MemoryCopyStep => {
                    let (d, s, n) = (
                        stack[sp - 3] as u32 as u64,
                        stack[sp - 2] as u32 as u64,
                        stack[sp - 1] as u32 as u64,
                    );
                    if n == 0 {
                        sp -= 3;
                        next_run!();
                    } else {
                        if d <= s {
                            let k = chunk_forward(d, n);
                            try_trap!(self.memory.copy_within(s, d, k as usize));
                            stack[sp - 3] = d + k;
                            stack[sp - 2] = s + k;
                            stack[sp - 1] = n - k;
                        } else {
                            let k = chunk_backward(d, n);
                            try_trap!(self.memory.copy_within(s + n - k, d + n - k, k as usize));
                            stack[sp - 1] = n - k;
                        }
                        end_run!();
                    }
                }
                Op::MemoryInitCheck(seg) => {
                    let (d, s, n) = (
                        stack[sp - 3] as u32 as u64,
                        stack[sp - 2] as u32 as u64,
                        stack[sp - 1] as u32 as u64,
                    );
                    let len = if super::bit(&self.dropped, seg as usize) {
                        0
                    } else {
                        module.data[seg as usize].bytes.len() as u64
                    };
                    if s + n > len || d + n > self.memory.size() {
                        trap!(Trap::MemoryOutOfBounds);
                    }
                }
                Op::MemoryInitStep(seg) => {
                    let (d, s, n) = (
                        stack[sp - 3] as u32 as u64,
                        stack[sp - 2] as u32 as u64,
                        stack[sp - 1] as u32 as u64,
                    );
                    if n == 0 {
                        sp -= 3;
                        next_run!();
                    } else {
                        let k = chunk_forward(d, n);
                        let bytes = &module.data[seg as usize].bytes[s as usize..(s + k) as usize];
                        try_trap!(self.memory.write(d, bytes));
                        stack[sp - 3] = d + k;
                        stack[sp - 2] = s + k;
                        stack[sp - 1] = n - k;
                        end_run!();
                    }
                }
                Op::DataDrop(seg) => super::set_bit(&mut self.dropped, seg as usize),
                Op::Const(w) => {
                    stack[sp] = w;
                    sp += 1;
                }

                Op::I32Eqz => unop!(num::i32_eqz),
                Op::I32Eq => binop!(num::i32_eq),
                Op::I32Ne => binop!(num::i32_ne),
                Op::I32LtS => binop!(num::i32_lt_s),
                Op::I32LtU => binop!(num::i32_lt_u),
                Op::I32GtS => binop!(num::i32_gt_s),
                Op::I32GtU => binop!(num::i32_gt_u),
                Op::I32LeS => binop!(num::i32_le_s),
                Op::I32LeU => binop!(num::i32_le_u),
                Op::I32GeS => binop!(num::i32_ge_s),
                Op::I32GeU => binop!(num::i32_ge_u),
                Op::I64Eqz => unop!(num::i64_eqz),
                Op::I64Eq => binop!(num::i64_eq),
                Op::I64Ne => binop!(num::i64_ne),
                Op::I64LtS => binop!(num::i64_lt_s),
                Op::I64LtU => binop!(num::i64_lt_u),
                Op::I64GtS => binop!(num::i64_gt_s),
                Op::I64GtU => binop!(num::i64_gt_u),
                Op::I64LeS => binop!(num::i64_le_s),
                Op::I64LeU => binop!(num::i64_le_u),
                Op::I64GeS => binop!(num::i64_ge_s),
                Op::I64GeU => binop!(num::i64_ge_u),
                Op::F32Eq => binop!(num::f32_eq),
                Op::F32Ne => binop!(num::f32_ne),
                Op::F32Lt => binop!(num::f32_lt),
                Op::F32Gt => binop!(num::f32_gt),
                Op::F32Le => binop!(num::f32_le),
                Op::F32Ge => binop!(num::f32_ge),
                Op::F64Eq => binop!(num::f64_eq),
                Op::F64Ne => binop!(num::f64_ne),
                Op::F64Lt => binop!(num::f64_lt),
                Op::F64Gt => binop!(num::f64_gt),
                Op::F64Le => binop!(num::f64_le),
                Op::F64Ge => binop!(num::f64_ge),
                Op::I32Clz => unop!(num::i32_clz),
                Op::I32Ctz => unop!(num::i32_ctz),
                Op::I32Popcnt => unop!(num::i32_popcnt),
                Op::I32Add => binop!(num::i32_add),
                Op::I32Sub => binop!(num::i32_sub),
                Op::I32Mul => binop!(num::i32_mul),
                Op::I32DivS => binop_trap!(num::i32_div_s),
                Op::I32DivU => binop_trap!(num::i32_div_u),
                Op::I32RemS => binop_trap!(num::i32_rem_s),
                Op::I32RemU => binop_trap!(num::i32_rem_u),
                Op::I32And => binop!(num::i32_and),
                Op::I32Or => binop!(num::i32_or),
                Op::I32Xor => binop!(num::i32_xor),
                Op::I32Shl => binop!(num::i32_shl),
                Op::I32ShrS => binop!(num::i32_shr_s),
                Op::I32ShrU => binop!(num::i32_shr_u),
                Op::I32Rotl => binop!(num::i32_rotl),
                Op::I32Rotr => binop!(num::i32_rotr),
                Op::I64Clz => unop!(num::i64_clz),
                Op::I64Ctz => unop!(num::i64_ctz),
                Op::I64Popcnt => unop!(num::i64_popcnt),
                Op::I64Add => binop!(num::i64_add),
                Op::I64Sub => binop!(num::i64_sub),
                Op::I64Mul => binop!(num::i64_mul),
                Op::I64DivS => binop_trap!(num::i64_div_s),
                Op::I64DivU => binop_trap!(num::i64_div_u),
                Op::I64RemS => binop_trap!(num::i64_rem_s),
                Op::I64RemU => binop_trap!(num::i64_rem_u),
                Op::I64And => binop!(num::i64_and),
                Op::I64Or => binop!(num::i64_or),
                Op::I64Xor => binop!(num::i64_xor),
                Op::I64Shl => binop!(num::i64_shl),
                Op::I64ShrS => binop!(num::i64_shr_s),
                Op::I64ShrU => binop!(num::i64_shr_u),
                Op::I64Rotl => binop!(num::i64_rotl),
                Op::I64Rotr => binop!(num::i64_rotr),
                Op::F32Abs => unop!(num::f32_abs),
                Op::F32Neg => unop!(num::f32_neg),
                Op::F32Ceil => unop!(num::f32_ceil),
                Op::F32Floor => unop!(num::f32_floor),
                Op::F32Trunc => unop!(num::f32_trunc),
                Op::F32Nearest => unop!(num::f32_nearest),
                Op::F32Sqrt => unop!(num::f32_sqrt),
                Op::F32Add => binop!(num::f32_add),
                Op::F32Sub => binop!(num::f32_sub),
                Op::F32Mul => binop!(num::f32_mul),
                Op::F32Div => binop!(num::f32_div),
                Op::F32Min => binop!(num::f32_min),
                Op::F32Max => binop!(num::f32_max),
                Op::F32Copysign => binop!(num::f32_copysign),
                Op::F64Abs => unop!(num::f64_abs),
                Op::F64Neg => unop!(num::f64_neg),
                Op::F64Ceil => unop!(num::f64_ceil),
                Op::F64Floor => unop!(num::f64_floor),
                Op::F64Trunc => unop!(num::f64_trunc),
                Op::F64Nearest => unop!(num::f64_nearest),
                Op::F64Sqrt => unop!(num::f64_sqrt),
                Op::F64Add => binop!(num::f64_add),
                Op::F64Sub => binop!(num::f64_sub),
                Op::F64Mul => binop!(num::f64_mul),
                Op::F64Div => binop!(num::f64_div),
                Op::F64Min => binop!(num::f64_min),
                Op::F64Max => binop!(num::f64_max),
                Op::F64Copysign => binop!(num::f64_copysign),
                Op::I32WrapI64 => unop!(num::i32_wrap_i64),
                Op::I32TruncF32S => unop_trap!(num::i32_trunc_f32_s),
                Op::I32TruncF32U => unop_trap!(num::i32_trunc_f32_u),
                Op::I32TruncF64S => unop_trap!(num::i32_trunc_f64_s),
                Op::I32TruncF64U => unop_trap!(num::i32_trunc_f64_u),
                Op::I64ExtendI32S => unop!(num::i64_extend_i32_s),
                Op::I64ExtendI32U => unop!(num::i64_extend_i32_u),
                Op::I64TruncF32S => unop_trap!(num::i64_trunc_f32_s),
                Op::I64TruncF32U => unop_trap!(num::i64_trunc_f32_u),
                Op::I64TruncF64S => unop_trap!(num::i64_trunc_f64_s),
                Op::I64TruncF64U => unop_trap!(num::i64_trunc_f64_u),
                Op::F32ConvertI32S => unop!(num::f32_convert_i32_s),
                Op::F32ConvertI32U => unop!(num::f32_convert_i32_u),
                Op::F32ConvertI64S => unop!(num::f32_convert_i64_s),
                Op::F32ConvertI64U => unop!(num::f32_convert_i64_u),
                Op::F32DemoteF64 => unop!(num::f32_demote_f64),
                Op::F64ConvertI32S => unop!(num::f64_convert_i32_s),
                Op::F64ConvertI32U => unop!(num::f64_convert_i32_u),
                Op::F64ConvertI64S => unop!(num::f64_convert_i64_s),
                Op::F64ConvertI64U => unop!(num::f64_convert_i64_u),
                Op::F64PromoteF32 => unop!(num::f64_promote_f32),
                Op::I32Extend8S => unop!(num::i32_extend8_s),
                Op::I32Extend16S => unop!(num::i32_extend16_s),
                Op::I64Extend8S => unop!(num::i64_extend8_s),
                Op::I64Extend16S => unop!(num::i64_extend16_s),
                Op::I64Extend32S => unop!(num::i64_extend32_s),
                Op::I32TruncSatF32S => unop!(num::i32_trunc_sat_f32_s),
                Op::I32TruncSatF32U => unop!(num::i32_trunc_sat_f32_u),
                Op::I32TruncSatF64S => unop!(num::i32_trunc_sat_f64_s),
                Op::I32TruncSatF64U => unop!(num::i32_trunc_sat_f64_u),
                Op::I64TruncSatF32S => unop!(num::i64_trunc_sat_f32_s),
                Op::I64TruncSatF32U => unop!(num::i64_trunc_sat_f32_u),
                Op::I64TruncSatF64S => unop!(num::i64_trunc_sat_f64_s),
                Op::I64TruncSatF64U => unop!(num::i64_trunc_sat_f64_u),
            }
            pc += 1;
            if SINGLE {
                taken += 1;
                break;
            }
        }
        self.pc = pc as u32;
        self.sp = sp as u32;
        self.fp = fp as u32;
        (taken, None)
    }
}

/// Bytes a forward bulk step handles at `addr`: up to the end of its 32-byte leaf.
#[inline]
pub(crate) fn chunk_forward(addr: u64, remaining: u64) -> u64 {
    let room = BULK_BYTES_PER_STEP as u64 - addr % BULK_BYTES_PER_STEP as u64;
    room.min(remaining)
}

/// Bytes a backward copy step handles at the end of `[dst, dst + remaining)`: back to the start
/// of the last leaf.
#[inline]
pub(crate) fn chunk_backward(dst: u64, remaining: u64) -> u64 {
    let end = dst + remaining;
    ((end - 1) % BULK_BYTES_PER_STEP as u64 + 1).min(remaining)
}

/// For each pc, the ops from it to the end of its run of straight-line code: up to and including
/// the next op that can continue anywhere but the next pc (a branch, call, return, a bulk step that
/// repeats itself, `table.grow`, which may skip its fill step). An execution cache, not committed:
/// it only lets the loop check the step budget once per run.
pub(crate) fn run_lengths(code: &[Op]) -> Vec<u32> {
    let mut lengths = vec![1u32; code.len()];
    for pc in (0..code.len().saturating_sub(1)).rev() {
        if !ends_run(code[pc]) {
            lengths[pc] = lengths[pc + 1].saturating_add(1);
        }
    }
    lengths
}

pub(crate) fn ends_run(op: Op) -> bool {
    matches!(
        op,
        Op::Unreachable
            | Op::Br(_)
            | Op::BrIf(_)
            | Op::BrUnless { .. }
            | Op::BrTable { .. }
            | Op::BrIfBin { .. }
            | Op::BrIfEqz(_)
            | Op::Return { .. }
            | Op::Call { .. }
            | Op::CallIndirect { .. }
            | Op::TableGrow(_)
            | Op::TableFillStep(_)
            | Op::TableCopyStep { .. }
            | Op::TableInitStep { .. }
            | Op::MemoryFillStep
            | Op::MemoryCopyStep
            | Op::MemoryInitStep(_)
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::{Machine, MachineHash, Module, NoImports, RunOutcome, Status, Value};

    /// Runs a fresh machine to its end in runs of `chunk` steps, asserting after every run that
    /// the machine hash is the one `hashes` (the reference, one per step) has for the steps taken,
    /// and that only the last run stopped short. With `snapshots`, a clone is kept at every stop,
    /// so the next stores find their pages shared. Returns how the machine ended.
    pub(crate) fn run_in_chunks(
        mut m: Machine,
        hashes: &[MachineHash],
        chunk: u64,
        snapshots: bool,
    ) -> Status {
        let origin = m.steps();
        let mut kept = Vec::new();
        loop {
            let outcome = m.run(&mut NoImports, chunk);
            let done = m.steps() - origin;
            assert_eq!(
                m.hash(),
                hashes[done as usize],
                "chunk {chunk}, step {done}"
            );
            if snapshots {
                kept.push(m.clone());
            }
            if outcome != RunOutcome::StepLimit {
                assert_eq!(done as usize, hashes.len() - 1, "chunk {chunk}: steps");
                return m.status().clone();
            }
            assert_eq!(done % chunk, 0, "chunk {chunk}: stopped early");
        }
    }

    /// The budget is checked once per run, yet a run must stop at exactly the step asked for:
    /// runs of every chunk size (which end inside straight-line runs, on branches, inside calls)
    /// agree with single steps on the step count and the machine hash after every chunk.
    #[test]
    fn budgets_stop_at_exact_steps() {
        let wat = r#"(module
            (func $fib (export "fib") (param i32) (result i32)
              (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
                (then (local.get 0))
                (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                               (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#;
        let module = Module::new(&wat::parse_str(wat).unwrap()).unwrap();
        let start = |n| {
            let mut m = Machine::instantiate(module.clone(), &mut NoImports, 100).unwrap();
            m.invoke("fib", &[Value::I32(n)]).unwrap();
            m
        };
        let mut reference = start(9);
        let mut hashes = vec![reference.hash()];
        while *reference.status() == Status::Running {
            reference.step(&mut NoImports);
            hashes.push(reference.hash());
        }
        assert_eq!(reference.results(), Some(vec![Value::I32(34)]));
        for chunk in 1..=23u64 {
            assert_eq!(
                run_in_chunks(start(9), &hashes, chunk, false),
                Status::Finished
            );
        }
    }
}
