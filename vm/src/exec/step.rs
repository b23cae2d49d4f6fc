//! The semantics of one step, over any state that can answer the step's reads.
//!
//! The interpreter's loop ([`crate::machine`]) is the fast path; this is the same step written once
//! against [`StepState`], and it is what the one-step proof machinery runs: the prover runs it on a
//! recording view of a [`crate::Machine`] to learn exactly which words, leaves and entries the step
//! touches, and the checker runs it on the partial state a proof opens. Numeric operators come from
//! [`crate::numeric`], shared with the interpreter. Agreement of the two paths is tested step by step
//! (every step of the proof tests re-hashes the interpreter's state after the step).
//!
//! A step either completes or traps before changing anything: the caller discards every write of a
//! trapping step, and only the status changes.

use crate::code::{imm32, BranchTarget, Op};
use crate::limits::{BULK_BYTES_PER_STEP, MAX_CALL_DEPTH, MAX_VALUE_STACK};
use crate::module::CallTarget;
use crate::numeric::{numeric, Numeric};
use crate::value::NULL_REF;
use crate::Trap;

/// Why a step did not complete.
#[derive(Debug)]
pub enum Fault<E> {
    /// The step traps (a machine outcome, not an error).
    Trap(Trap),
    /// The state could not answer a read (a proof that did not open what the step needs).
    State(E),
    /// The state is impossible for valid code (a stack underflow, an index past a table the code
    /// was validated against): no honest machine reaches it.
    Invalid(&'static str),
}

impl<E> From<Trap> for Fault<E> {
    fn from(t: Trap) -> Self {
        Fault::Trap(t)
    }
}

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepEnd {
    /// The machine keeps running at the new pc.
    Running,
    /// The outermost function returned; its results are at the bottom of the stack.
    Finished,
    Trapped(Trap),
}

/// A machine state as one step sees it. Reads may fail (the state is partial); the executor checks
/// every bound itself before calling, so implementations only answer in-range requests.
pub trait StepState {
    type Error;

    fn pc(&self) -> u32;
    fn fp(&self) -> u32;
    fn sp(&self) -> u32;
    fn set_pc(&mut self, pc: u32);
    fn set_fp(&mut self, fp: u32);
    fn set_sp(&mut self, sp: u32);

    fn op(&mut self, pc: u32) -> Result<Op, Self::Error>;
    fn br_table_entry(&mut self, index: u32) -> Result<BranchTarget, Self::Error>;
    /// Call target of function `func`; `None` past the function count.
    fn call_target(&mut self, func: u32) -> Result<Option<CallTarget>, Self::Error>;

    /// Slots `0 .. stack_reserved()` are committed; slots past it are zero.
    fn stack_reserved(&self) -> u32;
    fn stack(&mut self, slot: u32) -> Result<u64, Self::Error>;
    fn set_stack(&mut self, slot: u32, word: u64) -> Result<(), Self::Error>;
    /// Raises the reserved height to `top` (only called with `top > stack_reserved()`).
    fn reserve_stack(&mut self, top: u32) -> Result<(), Self::Error>;

    /// Frame words in use (two per frame).
    fn frame_words(&mut self) -> Result<u32, Self::Error>;
    fn push_frame(&mut self, return_pc: u64, caller_fp: u64) -> Result<(), Self::Error>;
    /// Pops the top frame (only called with `frame_words() >= 2`): (return pc, caller fp).
    fn pop_frame(&mut self) -> Result<(u64, u64), Self::Error>;

    fn global_count(&mut self) -> Result<u32, Self::Error>;
    fn global(&mut self, index: u32) -> Result<u64, Self::Error>;
    fn set_global(&mut self, index: u32, word: u64) -> Result<(), Self::Error>;

    fn table_count(&mut self) -> Result<u32, Self::Error>;
    /// (entries, maximum) of `table`.
    fn table_size(&mut self, table: u32) -> Result<(u32, u32), Self::Error>;
    fn table_entry(&mut self, table: u32, index: u32) -> Result<u64, Self::Error>;
    fn set_table_entry(&mut self, table: u32, index: u32, word: u64) -> Result<(), Self::Error>;
    /// Grows `table` to `entries` null entries (only called with more entries, within the max).
    fn grow_table(&mut self, table: u32, entries: u32) -> Result<(), Self::Error>;

    fn memory_pages(&self) -> u32;
    fn memory_max_pages(&mut self) -> Result<u32, Self::Error>;
    fn grow_memory(&mut self, pages: u32) -> Result<(), Self::Error>;
    fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Self::Error>;
    fn write_memory(&mut self, addr: u64, data: &[u8]) -> Result<(), Self::Error>;

    /// Data segments first, then element segments.
    fn dropped(&mut self, bit: u32) -> Result<bool, Self::Error>;
    fn set_dropped(&mut self, bit: u32) -> Result<(), Self::Error>;
    fn data_count(&mut self) -> Result<u32, Self::Error>;
    fn data_len(&mut self, segment: u32) -> Result<u32, Self::Error>;
    fn read_data(&mut self, segment: u32, offset: u32, buf: &mut [u8]) -> Result<(), Self::Error>;
    fn elem_count(&mut self) -> Result<u32, Self::Error>;
    fn elem_len(&mut self, segment: u32) -> Result<u32, Self::Error>;
    fn elem_item(&mut self, segment: u32, index: u32) -> Result<u64, Self::Error>;

    /// Runs imported function `func` on `args` (words in parameter order); returns its results.
    /// Memory the call touches goes through this state too.
    fn call_host(&mut self, func: u32, args: &[u64]) -> Result<Vec<u64>, Fault<Self::Error>>;
}

/// Takes one step of a running machine. `Err` means the state could not answer (see [`Fault`]).
pub fn step<S: StepState>(s: &mut S) -> Result<StepEnd, Fault<S::Error>> {
    match execute(s) {
        Ok(end) => Ok(end),
        Err(Fault::Trap(t)) => Ok(StepEnd::Trapped(t)),
        Err(other) => Err(other),
    }
}

/// Lifts a state error into a [`Fault`].
trait OrFault<T, E> {
    fn st(self) -> Result<T, Fault<E>>;
}

impl<T, E> OrFault<T, E> for Result<T, E> {
    #[inline]
    fn st(self) -> Result<T, Fault<E>> {
        self.map_err(Fault::State)
    }
}

/// Slot `sp - n`, refusing an underflow.
fn below<E>(sp: u32, n: u32) -> Result<u32, Fault<E>> {
    sp.checked_sub(n)
        .ok_or(Fault::Invalid("value stack underflow"))
}

fn pop<S: StepState>(s: &mut S) -> Result<u64, Fault<S::Error>> {
    let slot = below(s.sp(), 1)?;
    let w = s.stack(slot).st()?;
    s.set_sp(slot);
    Ok(w)
}

/// The stack slot of local `index` of the current frame.
fn local_slot<S: StepState>(s: &S, index: u32) -> Result<u32, Fault<S::Error>> {
    s.fp()
        .checked_add(index)
        .ok_or(Fault::Invalid("local index past the stack"))
}

fn local<S: StepState>(s: &mut S, index: u32) -> Result<u64, Fault<S::Error>> {
    let slot = local_slot(s, index)?;
    s.stack(slot).st()
}

fn set_local<S: StepState>(s: &mut S, index: u32, word: u64) -> Result<(), Fault<S::Error>> {
    let slot = local_slot(s, index)?;
    s.set_stack(slot, word).st()
}

fn push<S: StepState>(s: &mut S, word: u64) -> Result<(), Fault<S::Error>> {
    let sp = s.sp();
    if sp >= s.stack_reserved() {
        return Err(Fault::Invalid("value stack overflow"));
    }
    s.set_stack(sp, word).st()?;
    s.set_sp(sp + 1);
    Ok(())
}

/// The top `n` operands, deepest first, without popping.
fn peek<S: StepState, const N: usize>(s: &mut S) -> Result<[u64; N], Fault<S::Error>> {
    let base = below(s.sp(), N as u32)?;
    let mut out = [0u64; N];
    for (k, w) in out.iter_mut().enumerate() {
        *w = s.stack(base + k as u32).st()?;
    }
    Ok(out)
}

fn set_top<S: StepState>(s: &mut S, depth: u32, word: u64) -> Result<(), Fault<S::Error>> {
    let slot = below(s.sp(), depth)?;
    s.set_stack(slot, word).st()
}

fn branch<S: StepState>(s: &mut S, t: BranchTarget) -> Result<StepEnd, Fault<S::Error>> {
    if t.drop > 0 {
        let sp = s.sp();
        let from = below(sp, t.keep)?;
        let to = below(from, t.drop)?;
        for k in 0..t.keep {
            let w = s.stack(from + k).st()?;
            s.set_stack(to + k, w).st()?;
        }
        s.set_sp(sp - t.drop);
    }
    s.set_pc(t.pc);
    Ok(StepEnd::Running)
}

fn next<S: StepState>(s: &mut S) -> Result<StepEnd, Fault<S::Error>> {
    s.set_pc(s.pc().wrapping_add(1));
    Ok(StepEnd::Running)
}

/// Enters `target` with its arguments on top of the stack, below `consumed` operands the call itself
/// pops (the table index of `call_indirect`).
fn enter<S: StepState>(
    s: &mut S,
    target: CallTarget,
    consumed: u32,
) -> Result<StepEnd, Fault<S::Error>> {
    if s.frame_words().st()? >= 2 * MAX_CALL_DEPTH {
        return Err(Trap::CallStackExhausted.into());
    }
    let args_end = below(s.sp(), consumed)?;
    let new_fp = below(args_end, target.params)?;
    let top = new_fp as u64 + target.max_height as u64;
    if top > MAX_VALUE_STACK as u64 {
        return Err(Trap::ValueStackExhausted.into());
    }
    if top as u32 > s.stack_reserved() {
        s.reserve_stack(top as u32).st()?;
    }
    s.set_sp(args_end);
    let (return_pc, caller_fp) = (s.pc() as u64 + 1, s.fp() as u64);
    s.push_frame(return_pc, caller_fp).st()?;
    s.set_fp(new_fp);
    s.set_pc(target.entry);
    Ok(StepEnd::Running)
}

fn mem_check<S: StepState>(s: &S, addr: u64, len: u64) -> Result<(), Fault<S::Error>> {
    match addr.checked_add(len) {
        Some(end) if end <= s.memory_pages() as u64 * crate::memory::PAGE_SIZE as u64 => Ok(()),
        _ => Err(Trap::MemoryOutOfBounds.into()),
    }
}

fn load<S: StepState>(
    s: &mut S,
    offset: u32,
    n: usize,
    extend: fn(u64) -> u64,
) -> Result<StepEnd, Fault<S::Error>> {
    let [base] = peek::<S, 1>(s)?;
    let addr = base as u32 as u64 + offset as u64;
    mem_check(s, addr, n as u64)?;
    let mut bytes = [0u8; 8];
    s.read_memory(addr, &mut bytes[..n]).st()?;
    set_top(s, 1, extend(u64::from_le_bytes(bytes)))?;
    next(s)
}

fn store<S: StepState>(s: &mut S, offset: u32, n: usize) -> Result<StepEnd, Fault<S::Error>> {
    let [base, value] = peek::<S, 2>(s)?;
    let addr = base as u32 as u64 + offset as u64;
    mem_check(s, addr, n as u64)?;
    s.write_memory(addr, &value.to_le_bytes()[..n]).st()?;
    s.set_sp(s.sp() - 2);
    next(s)
}

/// `[d, s, n]` operands of a bulk op as u32 values widened to u64.
fn bulk3<S: StepState>(s: &mut S) -> Result<[u64; 3], Fault<S::Error>> {
    let [d, src, n] = peek::<S, 3>(s)?;
    Ok([d as u32 as u64, src as u32 as u64, n as u32 as u64])
}

/// A bulk loop step with nothing left: pop its three operands and fall through.
fn bulk_done<S: StepState>(s: &mut S) -> Result<StepEnd, Fault<S::Error>> {
    s.set_sp(below(s.sp(), 3)?);
    next(s)
}

fn table_len<S: StepState>(s: &mut S, table: u32) -> Result<u64, Fault<S::Error>> {
    if table >= s.table_count().st()? {
        return Err(Fault::Invalid("no such table"));
    }
    Ok(s.table_size(table).st()?.0 as u64)
}

fn sext(bits: u32) -> impl Fn(u64) -> u64 {
    move |w| ((w << (64 - bits)) as i64 >> (64 - bits)) as u64
}

fn execute<S: StepState>(s: &mut S) -> Result<StepEnd, Fault<S::Error>> {
    let op = s.op(s.pc()).st()?;
    if let Some(f) = numeric(op) {
        match f {
            Numeric::Unary(f) => {
                let [a] = peek::<S, 1>(s)?;
                set_top(s, 1, f(a))?;
            }
            Numeric::UnaryTrap(f) => {
                let [a] = peek::<S, 1>(s)?;
                set_top(s, 1, f(a)?)?;
            }
            Numeric::Binary(f) => {
                let [a, b] = peek::<S, 2>(s)?;
                set_top(s, 2, f(a, b))?;
                s.set_sp(s.sp() - 1);
            }
            Numeric::BinaryTrap(f) => {
                let [a, b] = peek::<S, 2>(s)?;
                set_top(s, 2, f(a, b)?)?;
                s.set_sp(s.sp() - 1);
            }
        }
        return next(s);
    }
    match op {
        Op::Unreachable => Err(Trap::Unreachable.into()),
        Op::Br(t) => branch(s, t),
        Op::BrIf(t) => {
            if pop(s)? as u32 != 0 {
                branch(s, t)
            } else {
                next(s)
            }
        }
        Op::BrUnless { pc } => {
            if pop(s)? as u32 == 0 {
                s.set_pc(pc);
                Ok(StepEnd::Running)
            } else {
                next(s)
            }
        }
        Op::BrTable { start, len } => {
            if len == 0 {
                return Err(Fault::Invalid("empty branch table"));
            }
            let index = (pop(s)? as u32).min(len - 1);
            let entry = start
                .checked_add(index)
                .ok_or(Fault::Invalid("branch table index"))?;
            let t = s.br_table_entry(entry).st()?;
            branch(s, t)
        }
        Op::Return { results } => {
            let fp = s.fp();
            let from = below(s.sp(), results)?;
            // Checked: a pre-state with fp near the top of u32 is refused, not wrapped (the EVM
            // checker does the same).
            let slot = |k: u32| {
                fp.checked_add(k)
                    .ok_or(Fault::Invalid("result slot past the stack"))
            };
            for k in 0..results {
                let w = s.stack(from + k).st()?;
                s.set_stack(slot(k)?, w).st()?;
            }
            s.set_sp(slot(results)?);
            if s.frame_words().st()? < 2 {
                return Ok(StepEnd::Finished);
            }
            let (return_pc, caller_fp) = s.pop_frame().st()?;
            let (Ok(return_pc), Ok(caller_fp)) =
                (u32::try_from(return_pc), u32::try_from(caller_fp))
            else {
                return Err(Fault::Invalid("frame word out of range"));
            };
            s.set_fp(caller_fp);
            s.set_pc(return_pc);
            Ok(StepEnd::Running)
        }
        Op::Call { func } => {
            let target = s
                .call_target(func)
                .st()?
                .ok_or(Fault::Invalid("no such function"))?;
            enter(s, target, 0)
        }
        Op::CallIndirect { type_index, table } => {
            let [index] = peek::<S, 1>(s)?;
            let index = index as u32;
            if index as u64 >= table_len(s, table)? {
                return Err(Trap::UndefinedElement.into());
            }
            let word = s.table_entry(table, index).st()?;
            if word == NULL_REF {
                return Err(Trap::UninitializedElement.into());
            }
            let func = u32::try_from(word - 1).map_err(|_| Fault::Invalid("function reference"))?;
            let target = s
                .call_target(func)
                .st()?
                .ok_or(Fault::Invalid("no such function"))?;
            if target.type_id != type_index {
                return Err(Trap::IndirectCallTypeMismatch.into());
            }
            enter(s, target, 1)
        }
        Op::CallHost { func } => {
            let target = s
                .call_target(func)
                .st()?
                .ok_or(Fault::Invalid("no such function"))?;
            let base = below(s.sp(), target.params)?;
            let mut args = Vec::with_capacity(target.params as usize);
            for k in 0..target.params {
                args.push(s.stack(base + k).st()?);
            }
            let results = s.call_host(func, &args)?;
            if results.len() != target.results as usize {
                return Err(Fault::Invalid("host result count"));
            }
            if base as u64 + results.len() as u64 > s.stack_reserved() as u64 {
                return Err(Trap::ValueStackExhausted.into());
            }
            for (k, w) in results.iter().enumerate() {
                s.set_stack(base + k as u32, *w).st()?;
            }
            s.set_sp(base + results.len() as u32);
            next(s)
        }
        Op::PushZeros { count } => {
            for _ in 0..count {
                push(s, 0)?;
            }
            next(s)
        }
        Op::Drop => {
            pop(s)?;
            next(s)
        }
        Op::Select => {
            // [a, b, c] -> c != 0 ? a : b, with a already in place.
            let [b, c] = peek::<S, 2>(s)?;
            if c as u32 == 0 {
                set_top(s, 3, b)?;
            }
            s.set_sp(s.sp() - 2);
            next(s)
        }
        Op::LocalGet(i) => {
            let w = local(s, i)?;
            push(s, w)?;
            next(s)
        }
        Op::LocalSet(i) => {
            let w = pop(s)?;
            set_local(s, i, w)?;
            next(s)
        }
        Op::LocalTee(i) => {
            let [w] = peek::<S, 1>(s)?;
            set_local(s, i, w)?;
            next(s)
        }
        Op::BinImm { op, imm } => {
            let [a] = peek::<S, 1>(s)?;
            set_top(s, 1, op.apply(a, imm))?;
            next(s)
        }
        Op::BinLocal { op, local: x } => {
            let [a] = peek::<S, 1>(s)?;
            let r = op.apply(a, local(s, x)?);
            set_top(s, 1, r)?;
            next(s)
        }
        Op::LocalBinImm { op, local: x, imm } => {
            let r = op.apply(local(s, x)?, imm);
            push(s, r)?;
            next(s)
        }
        Op::LocalBinLocal { op, a, b } => {
            let r = op.apply(local(s, a)?, local(s, b)?);
            push(s, r)?;
            next(s)
        }
        Op::BinImmSet { op, imm, dst } => {
            let a = pop(s)?;
            set_local(s, dst, op.apply(a, imm))?;
            next(s)
        }
        Op::BinImmTee { op, imm, dst } => {
            let [a] = peek::<S, 1>(s)?;
            let r = op.apply(a, imm);
            set_top(s, 1, r)?;
            set_local(s, dst, r)?;
            next(s)
        }
        Op::BinLocalSet { op, local: x, dst } => {
            let x = local(s, x)?;
            let a = pop(s)?;
            set_local(s, dst, op.apply(a, x))?;
            next(s)
        }
        Op::BinLocalTee { op, local: x, dst } => {
            let [a] = peek::<S, 1>(s)?;
            let r = op.apply(a, local(s, x)?);
            set_top(s, 1, r)?;
            set_local(s, dst, r)?;
            next(s)
        }
        Op::LocalBinLocalSet { op, a, b, dst } => {
            let r = op.apply(local(s, a)?, local(s, b)?);
            set_local(s, dst, r)?;
            next(s)
        }
        Op::LocalBinLocalTee { op, a, b, dst } => {
            let r = op.apply(local(s, a)?, local(s, b)?);
            push(s, r)?;
            set_local(s, dst, r)?;
            next(s)
        }
        Op::LocalBinImm32Set {
            op,
            local: x,
            imm,
            dst,
        } => {
            let r = op.apply(local(s, x)?, imm32(imm));
            set_local(s, dst, r)?;
            next(s)
        }
        Op::LocalBinImm32Tee {
            op,
            local: x,
            imm,
            dst,
        } => {
            let r = op.apply(local(s, x)?, imm32(imm));
            push(s, r)?;
            set_local(s, dst, r)?;
            next(s)
        }
        Op::BrIfBin { op, target } => {
            let [a, b] = peek::<S, 2>(s)?;
            s.set_sp(s.sp() - 2);
            if op.apply(a, b) as u32 != 0 {
                branch(s, target)
            } else {
                next(s)
            }
        }
        Op::BrIfEqz(target) => {
            if pop(s)? as u32 == 0 {
                branch(s, target)
            } else {
                next(s)
            }
        }
        Op::GlobalGet(i) => {
            if i >= s.global_count().st()? {
                return Err(Fault::Invalid("no such global"));
            }
            let w = s.global(i).st()?;
            push(s, w)?;
            next(s)
        }
        Op::GlobalSet(i) => {
            if i >= s.global_count().st()? {
                return Err(Fault::Invalid("no such global"));
            }
            let w = pop(s)?;
            s.set_global(i, w).st()?;
            next(s)
        }
        Op::TableGet(t) => {
            let [index] = peek::<S, 1>(s)?;
            let index = index as u32;
            if index as u64 >= table_len(s, t)? {
                return Err(Trap::TableOutOfBounds.into());
            }
            let w = s.table_entry(t, index).st()?;
            set_top(s, 1, w)?;
            next(s)
        }
        Op::TableSet(t) => {
            let [index, value] = peek::<S, 2>(s)?;
            let index = index as u32;
            if index as u64 >= table_len(s, t)? {
                return Err(Trap::TableOutOfBounds.into());
            }
            s.set_table_entry(t, index, value).st()?;
            s.set_sp(s.sp() - 2);
            next(s)
        }
        Op::TableSize(t) => {
            let len = table_len(s, t)?;
            push(s, len)?;
            next(s)
        }
        Op::TableGrow(t) => {
            let [init, n] = peek::<S, 2>(s)?;
            let n = n as u32;
            table_len(s, t)?;
            let (old, max) = s.table_size(t).st()?;
            match old.checked_add(n).filter(|new| *new <= max) {
                Some(new) => {
                    // [init, n] -> [old, dst=old, init, n] for the fill step that follows.
                    let sp = s.sp();
                    if sp as u64 + 2 > s.stack_reserved() as u64 {
                        return Err(Fault::Invalid("value stack overflow"));
                    }
                    if new > old {
                        s.grow_table(t, new).st()?;
                    }
                    s.set_stack(sp - 2, old as u64).st()?;
                    s.set_stack(sp - 1, old as u64).st()?;
                    s.set_stack(sp, init).st()?;
                    s.set_stack(sp + 1, n as u64).st()?;
                    s.set_sp(sp + 2);
                    next(s)
                }
                None => {
                    set_top(s, 2, u32::MAX as u64)?;
                    s.set_sp(s.sp() - 1);
                    // Skip the fill step.
                    s.set_pc(s.pc().wrapping_add(2));
                    Ok(StepEnd::Running)
                }
            }
        }
        Op::TableFillCheck(t) => {
            let [d, _, n] = bulk3(s)?;
            if d + n > table_len(s, t)? {
                return Err(Trap::TableOutOfBounds.into());
            }
            next(s)
        }
        Op::TableFillStep(t) => {
            let [d, value, n] = peek::<S, 3>(s)?;
            let (d, n) = (d as u32, n as u32);
            if n == 0 {
                return bulk_done(s);
            }
            if d as u64 >= table_len(s, t)? {
                return Err(Fault::Invalid("table fill past the checked range"));
            }
            s.set_table_entry(t, d, value).st()?;
            set_top(s, 3, d.wrapping_add(1) as u64)?;
            set_top(s, 1, (n - 1) as u64)?;
            Ok(StepEnd::Running)
        }
        Op::TableCopyCheck { dst, src } => {
            let [d, sr, n] = bulk3(s)?;
            if sr + n > table_len(s, src)? || d + n > table_len(s, dst)? {
                return Err(Trap::TableOutOfBounds.into());
            }
            next(s)
        }
        Op::TableCopyStep { dst, src } => {
            let [d, sr, n] = bulk3(s)?;
            let (d, sr, n) = (d as u32, sr as u32, n as u32);
            if n == 0 {
                return bulk_done(s);
            }
            let (from, to) = if dst == src && d > sr {
                // Overlap with dst above src: copy from the end. Checked: a range that does not fit
                // 32 bits was never checked by the check step.
                let last = |start: u32| {
                    u32::try_from(start as u64 + n as u64 - 1)
                        .map_err(|_| Fault::Invalid("table copy past 32 bits"))
                };
                (last(sr)?, last(d)?)
            } else {
                (sr, d)
            };
            if from as u64 >= table_len(s, src)? || to as u64 >= table_len(s, dst)? {
                return Err(Fault::Invalid("table copy past the checked range"));
            }
            let w = s.table_entry(src, from).st()?;
            s.set_table_entry(dst, to, w).st()?;
            if !(dst == src && d > sr) {
                set_top(s, 3, (d + 1) as u64)?;
                set_top(s, 2, (sr + 1) as u64)?;
            }
            set_top(s, 1, (n - 1) as u64)?;
            Ok(StepEnd::Running)
        }
        Op::TableInitCheck { table, elem } => {
            let [d, sr, n] = bulk3(s)?;
            let len = elem_len_unless_dropped(s, elem)?;
            if sr + n > len || d + n > table_len(s, table)? {
                return Err(Trap::TableOutOfBounds.into());
            }
            next(s)
        }
        Op::TableInitStep { table, elem } => {
            let [d, sr, n] = bulk3(s)?;
            let (d, sr, n) = (d as u32, sr as u32, n as u32);
            if n == 0 {
                return bulk_done(s);
            }
            if sr >= s.elem_len(elem).st()? || d as u64 >= table_len(s, table)? {
                return Err(Fault::Invalid("table init past the checked range"));
            }
            let w = s.elem_item(elem, sr).st()?;
            s.set_table_entry(table, d, w).st()?;
            set_top(s, 3, (d + 1) as u64)?;
            set_top(s, 2, (sr + 1) as u64)?;
            set_top(s, 1, (n - 1) as u64)?;
            Ok(StepEnd::Running)
        }
        Op::ElemDrop(e) => {
            let bit = elem_bit(s, e)?;
            s.set_dropped(bit).st()?;
            next(s)
        }
        Op::I32Load(o) => load(s, o, 4, |w| w),
        Op::I64Load(o) => load(s, o, 8, |w| w),
        Op::I32Load8S(o) => load(s, o, 1, |w| sext(8)(w) as u32 as u64),
        Op::I32Load8U(o) | Op::I64Load8U(o) => load(s, o, 1, |w| w),
        Op::I32Load16S(o) => load(s, o, 2, |w| sext(16)(w) as u32 as u64),
        Op::I32Load16U(o) | Op::I64Load16U(o) => load(s, o, 2, |w| w),
        Op::I64Load8S(o) => load(s, o, 1, |w| sext(8)(w)),
        Op::I64Load16S(o) => load(s, o, 2, |w| sext(16)(w)),
        Op::I64Load32S(o) => load(s, o, 4, |w| sext(32)(w)),
        Op::I64Load32U(o) => load(s, o, 4, |w| w),
        Op::I32Store(o) | Op::I64Store32(o) => store(s, o, 4),
        Op::I64Store(o) => store(s, o, 8),
        Op::I32Store8(o) | Op::I64Store8(o) => store(s, o, 1),
        Op::I32Store16(o) | Op::I64Store16(o) => store(s, o, 2),
        Op::MemorySize => {
            let pages = s.memory_pages() as u64;
            push(s, pages)?;
            next(s)
        }
        Op::MemoryGrow => {
            let [delta] = peek::<S, 1>(s)?;
            let old = s.memory_pages();
            let max = s.memory_max_pages().st()?;
            let result = match old.checked_add(delta as u32).filter(|n| *n <= max) {
                Some(new) => {
                    if new > old {
                        s.grow_memory(new).st()?;
                    }
                    old
                }
                None => u32::MAX,
            };
            set_top(s, 1, result as u64)?;
            next(s)
        }
        Op::MemoryFillCheck => {
            let [d, _, n] = bulk3(s)?;
            mem_check(s, d, n)?;
            next(s)
        }
        Op::MemoryFillStep => {
            let [d, value, n] = peek::<S, 3>(s)?;
            let (d, n) = (d as u32 as u64, n as u32 as u64);
            if n == 0 {
                return bulk_done(s);
            }
            let k = chunk_forward(d, n);
            let bytes = [value as u8; BULK_BYTES_PER_STEP as usize];
            mem_check(s, d, k)?;
            s.write_memory(d, &bytes[..k as usize]).st()?;
            set_top(s, 3, d + k)?;
            set_top(s, 1, n - k)?;
            Ok(StepEnd::Running)
        }
        Op::MemoryCopyCheck => {
            let [d, sr, n] = bulk3(s)?;
            mem_check(s, sr, n)?;
            mem_check(s, d, n)?;
            next(s)
        }
        Op::MemoryCopyStep => {
            let [d, sr, n] = bulk3(s)?;
            if n == 0 {
                return bulk_done(s);
            }
            let mut buf = [0u8; BULK_BYTES_PER_STEP as usize];
            if d <= sr {
                let k = chunk_forward(d, n);
                copy_memory(s, sr, d, &mut buf[..k as usize])?;
                set_top(s, 3, d + k)?;
                set_top(s, 2, sr + k)?;
                set_top(s, 1, n - k)?;
            } else {
                let k = chunk_backward(d, n);
                copy_memory(s, sr + n - k, d + n - k, &mut buf[..k as usize])?;
                set_top(s, 1, n - k)?;
            }
            Ok(StepEnd::Running)
        }
        Op::MemoryInitCheck(seg) => {
            let [d, sr, n] = bulk3(s)?;
            if seg >= s.data_count().st()? {
                return Err(Fault::Invalid("no such data segment"));
            }
            let len = if s.dropped(seg).st()? {
                0
            } else {
                s.data_len(seg).st()? as u64
            };
            if sr + n > len {
                return Err(Trap::MemoryOutOfBounds.into());
            }
            mem_check(s, d, n)?;
            next(s)
        }
        Op::MemoryInitStep(seg) => {
            let [d, sr, n] = bulk3(s)?;
            if n == 0 {
                return bulk_done(s);
            }
            if seg >= s.data_count().st()? {
                return Err(Fault::Invalid("no such data segment"));
            }
            let k = chunk_forward(d, n);
            if sr + k > s.data_len(seg).st()? as u64 {
                return Err(Fault::Invalid("memory init past the checked range"));
            }
            let mut buf = [0u8; BULK_BYTES_PER_STEP as usize];
            s.read_data(seg, sr as u32, &mut buf[..k as usize]).st()?;
            mem_check(s, d, k)?;
            s.write_memory(d, &buf[..k as usize]).st()?;
            set_top(s, 3, d + k)?;
            set_top(s, 2, sr + k)?;
            set_top(s, 1, n - k)?;
            Ok(StepEnd::Running)
        }
        Op::DataDrop(seg) => {
            if seg >= s.data_count().st()? {
                return Err(Fault::Invalid("no such data segment"));
            }
            s.set_dropped(seg).st()?;
            next(s)
        }
        Op::Const(w) => {
            push(s, w)?;
            next(s)
        }
        // Every remaining op is numeric and handled above.
        _ => Err(Fault::Invalid("op without step semantics")),
    }
}

fn elem_bit<S: StepState>(s: &mut S, elem: u32) -> Result<u32, Fault<S::Error>> {
    if elem >= s.elem_count().st()? {
        return Err(Fault::Invalid("no such element segment"));
    }
    s.data_count()
        .st()?
        .checked_add(elem)
        .ok_or(Fault::Invalid("segment bit"))
}

fn elem_len_unless_dropped<S: StepState>(s: &mut S, elem: u32) -> Result<u64, Fault<S::Error>> {
    let bit = elem_bit(s, elem)?;
    Ok(if s.dropped(bit).st()? {
        0
    } else {
        s.elem_len(elem).st()? as u64
    })
}

fn copy_memory<S: StepState>(
    s: &mut S,
    src: u64,
    dst: u64,
    buf: &mut [u8],
) -> Result<(), Fault<S::Error>> {
    mem_check(s, src, buf.len() as u64)?;
    mem_check(s, dst, buf.len() as u64)?;
    s.read_memory(src, buf).st()?;
    s.write_memory(dst, buf).st()
}

/// Bytes a forward bulk step handles at `addr`: up to the end of its 32-byte leaf.
#[inline]
pub fn chunk_forward(addr: u64, remaining: u64) -> u64 {
    let room = BULK_BYTES_PER_STEP as u64 - addr % BULK_BYTES_PER_STEP as u64;
    room.min(remaining)
}

/// Bytes a backward copy step handles at the end of `[dst, dst + remaining)`: back to the start
/// of the last leaf.
#[inline]
pub fn chunk_backward(dst: u64, remaining: u64) -> u64 {
    let end = dst + remaining;
    ((end - 1) % BULK_BYTES_PER_STEP as u64 + 1).min(remaining)
}
