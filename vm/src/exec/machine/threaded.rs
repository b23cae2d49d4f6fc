//! The threaded fast path: one handler per op, each ending in a tail call to the next op's handler,
//! with `pc`, the stack pointers and the step budget in registers. Same steps as the loop in
//! `run.rs`, op for op: this only changes how the host CPU gets from one op to the next (one
//! indirect jump per handler, each predicted on its own, instead of one shared `match`).
//!
//! The handler table is an execution cache beside the code (not committed). Ops that are rare or
//! need the host (host calls, `memory.grow`, table and segment steps, ...) are "cold", and so is
//! a memory access off the fast path: the loop takes such an op as a single step (through a
//! callback, so the threaded code goes on after it).
//!
//! Step accounting is per straight-line run, as in the loop: entering a run at `pc` charges
//! `run_lengths[pc]` steps up front (refused if the budget does not cover it), so the budget is
//! one register and a trap inside a run refunds the steps after it.
//!
//! Safety: the value stack is reached through raw pointers `sp` and `fp`. A frame never grows
//! past `fp + max_height` (the translator's bound, reserved by the call that entered it), which is
//! what the loop's checked indexing relies on too. `pc` is never out of the code: the table is only
//! built for code whose every jump target is inside it and whose last op cannot fall through
//! ([`handlers`] checks both).

use crate::code::{imm32, BinOp, BranchTarget, Op};
use crate::limits::{BULK_BYTES_PER_STEP, MAX_CALL_DEPTH, MAX_VALUE_STACK};
use crate::module::{CallTarget, Module};
use crate::numeric as num;
use crate::Trap;

use super::run::{chunk_backward, chunk_forward, Flow};
use super::Machine;

/// One op's handler. `sp` points one past the top operand, `fp` at local 0; `budget` is what is
/// left after charging the current run.
pub(crate) type Handler = for<'c, 'm> extern "C" fn(
    ctx: &'c mut Ctx<'m>,
    pc: usize,
    sp: *mut u64,
    fp: *mut u64,
    budget: u64,
) -> Exit;

/// Why the threaded code returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Exit {
    /// The run at `pc` is longer than the budget left; nothing of it ran.
    Budget,
    /// The op at `pc` trapped (`ctx.trap`); it counts as a step, the rest of its run does not.
    Trap,
    /// The outermost frame returned.
    Finished,
}

/// The loop's single step, for cold ops (it holds the host).
pub(crate) type SingleStep<'m> = &'m mut dyn FnMut(&mut Machine) -> Option<Flow>;

/// What the handlers share: the code, and the machine they change. Also where they leave the
/// registers when they return.
pub(crate) struct Ctx<'m> {
    handlers: *const Handler,
    code: *const Op,
    run_lengths: *const u32,
    module: &'m Module,
    machine: &'m mut Machine,
    single_step: SingleStep<'m>,
    /// Start of the value stack's buffer (moves when a call grows the stack).
    base: *mut u64,
    pub pc: usize,
    pub sp: usize,
    pub fp: usize,
    pub budget: u64,
    pub trap: Option<Trap>,
}

/// Runs `machine` (an instance of `module`) from its pc for at most `budget` steps, writing the
/// registers back; returns the steps taken and how control flow ended, as the loop does. The
/// run at the pc must fit the budget.
pub(crate) fn run(
    machine: &mut Machine,
    module: &Module,
    single_step: SingleStep<'_>,
    handlers: &[Handler],
    budget: u64,
) -> (u64, Option<Flow>) {
    let pc = machine.pc as usize;
    let first = module.run_lengths[pc] as u64;
    assert!(first <= budget && handlers.len() == module.code.len());
    assert!(machine.sp as usize <= machine.stack.len() && machine.fp <= machine.sp);
    let base = machine.stack.as_mut_ptr();
    let (sp, fp) = (machine.sp as usize, machine.fp as usize);
    let mut ctx = Ctx {
        handlers: handlers.as_ptr(),
        code: module.code.as_ptr(),
        run_lengths: module.run_lengths.as_ptr(),
        module,
        machine,
        single_step,
        base,
        pc,
        sp,
        fp,
        budget: 0,
        trap: None,
    };
    // SAFETY: `pc` is in the code and `fp <= sp <= len` (checked above).
    let exit = handlers[pc](
        &mut ctx,
        pc,
        unsafe { base.add(sp) },
        unsafe { base.add(fp) },
        budget - first,
    );
    let refund = match exit {
        Exit::Budget | Exit::Finished => 0,
        Exit::Trap => module.run_lengths[ctx.pc] as u64 - 1,
    };
    let taken = budget - ctx.budget - refund;
    let machine = ctx.machine;
    machine.pc = ctx.pc as u32;
    machine.sp = ctx.sp as u32;
    machine.fp = ctx.fp as u32;
    let flow = match exit {
        Exit::Budget => None,
        Exit::Trap => ctx.trap.map(Flow::Trap),
        Exit::Finished => Some(Flow::Finished),
    };
    (taken, flow)
}

/// The fusable operator with opcode `byte`, at compile time (a handler's `OP` comes from
/// [`per_binop`], so the operator's `match` folds away).
const fn binop(byte: u8) -> BinOp {
    let mut i = 0;
    while i < BinOp::ALL.len() {
        if BinOp::ALL[i] as u8 == byte {
            return BinOp::ALL[i];
        }
        i += 1;
    }
    panic!("not a fusable operator")
}

// ---- the handlers' vocabulary ----

/// The op at `pc`, taken apart by a pattern (its handler was chosen by that pattern, so a
/// mismatch is impossible; if it ever happened the loop would take the op).
macro_rules! decode {
    ($ctx:ident, $pc:ident, $sp:ident, $fp:ident, $budget:ident, $pat:pat) => {
        // SAFETY: `pc` is inside the code (module invariant checked by `handlers`).
        let $pat = (unsafe { *$ctx.code.add($pc) }) else {
            return cold($ctx, $pc, $sp, $fp, $budget);
        };
    };
}

/// The op after `pc` taken apart, for handlers that run two ops (see [`pair_handler`]); on a
/// mismatch the loop takes the op at `pc`.
macro_rules! decode_next {
    ($ctx:ident, $pc:ident, $sp:ident, $fp:ident, $budget:ident, $pat:pat) => {
        // SAFETY: a pair handler sits only where `pc + 1` is inside the code (see `handlers`).
        let $pat = (unsafe { *$ctx.code.add($pc + 1) }) else {
            return cold($ctx, $pc, $sp, $fp, $budget);
        };
    };
}

/// Goes on with the op at `pc` (same run).
macro_rules! dispatch {
    ($ctx:ident, $pc:expr, $sp:expr, $fp:expr, $budget:expr) => {{
        let pc = $pc;
        // SAFETY: `pc` is inside the code: a fall-through never leaves it (the last op cannot
        // fall through) and jump targets are inside it (both checked by `handlers`).
        let handler = unsafe { *$ctx.handlers.add(pc) };
        return handler($ctx, pc, $sp, $fp, $budget);
    }};
}

/// Falls through to the next op.
macro_rules! next {
    ($ctx:ident, $pc:ident, $sp:expr, $fp:expr, $budget:expr) => {
        dispatch!($ctx, $pc + 1, $sp, $fp, $budget)
    };
}

/// Starts the run at `target`: charges it, or stops there if the budget does not cover it.
macro_rules! enter_run {
    ($ctx:ident, $target:expr, $sp:expr, $fp:expr, $budget:expr) => {{
        let target = $target;
        // SAFETY: `target` is inside the code (checked by `handlers`).
        let len = unsafe { *$ctx.run_lengths.add(target) } as u64;
        if len > $budget {
            return stop($ctx, target, $sp, $fp, $budget, Exit::Budget);
        }
        dispatch!($ctx, target, $sp, $fp, $budget - len)
    }};
}

/// Stops at the op at `pc` with trap `t`.
macro_rules! trap {
    ($ctx:ident, $pc:ident, $sp:ident, $fp:ident, $budget:ident, $t:expr) => {{
        $ctx.trap = Some($t);
        return stop($ctx, $pc, $sp, $fp, $budget, Exit::Trap);
    }};
}

/// Leaves the threaded code, the registers written to `ctx`.
#[inline(never)]
// (`exit` last: the handlers' registers stay where they are.)
extern "C" fn stop(
    ctx: &mut Ctx<'_>,
    pc: usize,
    sp: *mut u64,
    fp: *mut u64,
    budget: u64,
    exit: Exit,
) -> Exit {
    ctx.pc = pc;
    // SAFETY: both point into the stack buffer that starts at `base`.
    ctx.sp = unsafe { sp.offset_from(ctx.base) } as usize;
    ctx.fp = unsafe { fp.offset_from(ctx.base) } as usize;
    ctx.budget = budget;
    exit
}

/// Reads or writes stack word `p` (a pointer the frame owns, see the module docs).
macro_rules! at {
    ($p:expr) => {
        // SAFETY: inside the current frame's reserved slots.
        *unsafe { &mut *$p }
    };
}

/// Declares a handler: `handler!(name(ctx, pc, sp, fp, budget) { body })`.
macro_rules! handler {
    ($(#[$attr:meta])* $name:ident $(<const $g:ident: u8>)? ($ctx:ident, $pc:ident, $sp:ident, $fp:ident, $budget:ident) $body:block) => {
        $(#[$attr])*
        #[allow(unused_mut, unused_variables)]
        pub(crate) extern "C" fn $name$(<const $g: u8>)?(
            $ctx: &mut Ctx<'_>,
            $pc: usize,
            mut $sp: *mut u64,
            mut $fp: *mut u64,
            $budget: u64,
        ) -> Exit $body
    };
}

// ---- cold: the loop takes the op ----

handler!(cold(ctx, pc, sp, fp, budget) {
    // The registers to the machine, one step of the loop, and back.
    let m = &mut *ctx.machine;
    // SAFETY: both point into the stack buffer that starts at `base`.
    m.pc = pc as u32;
    m.sp = unsafe { sp.offset_from(ctx.base) } as u32;
    m.fp = unsafe { fp.offset_from(ctx.base) } as u32;
    let flow = (ctx.single_step)(m);
    let m = &mut *ctx.machine;
    ctx.base = m.stack.as_mut_ptr();
    let next = m.pc as usize;
    // SAFETY: the loop left `fp <= sp` inside the stack, as the machine always has them.
    sp = unsafe { ctx.base.add(m.sp as usize) };
    fp = unsafe { ctx.base.add(m.fp as usize) };
    match flow {
        Some(Flow::Trap(t)) => trap!(ctx, pc, sp, fp, budget, t),
        Some(Flow::Finished) => stop(ctx, next, sp, fp, budget, Exit::Finished),
        // SAFETY: `pc` is inside the code.
        None if super::run::ends_run(unsafe { *ctx.code.add(pc) }) => {
            enter_run!(ctx, next, sp, fp, budget)
        }
        None => dispatch!(ctx, next, sp, fp, budget),
    }
});

// ---- control ----

/// Takes branch `t`: keeps the top `keep` values, drops the `drop` below them, jumps.
macro_rules! branch {
    ($ctx:ident, $sp:ident, $fp:ident, $budget:ident, $t:expr) => {{
        let t: BranchTarget = $t;
        if t.drop > 0 {
            let (keep, drop) = (t.keep as usize, t.drop as usize);
            // SAFETY: the kept and dropped values are operands of this frame.
            unsafe { std::ptr::copy($sp.sub(keep), $sp.sub(keep + drop), keep) };
            $sp = unsafe { $sp.sub(drop) };
        }
        enter_run!($ctx, t.pc as usize, $sp, $fp, $budget)
    }};
}

handler!(br(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::Br(t));
    branch!(ctx, sp, fp, budget, t)
});

handler!(br_if(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::BrIf(t));
    sp = unsafe { sp.sub(1) };
    if at!(sp) as u32 != 0 {
        branch!(ctx, sp, fp, budget, t);
    }
    enter_run!(ctx, pc + 1, sp, fp, budget)
});

handler!(br_if_eqz(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::BrIfEqz(t));
    sp = unsafe { sp.sub(1) };
    if at!(sp) as u32 == 0 {
        branch!(ctx, sp, fp, budget, t);
    }
    enter_run!(ctx, pc + 1, sp, fp, budget)
});

handler!(br_if_bin<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::BrIfBin { target: t, .. });
    sp = unsafe { sp.sub(2) };
    let (a, b) = (at!(sp), at!(sp.add(1)));
    if const { binop(OP) }.apply(a, b) as u32 != 0 {
        branch!(ctx, sp, fp, budget, t);
    }
    enter_run!(ctx, pc + 1, sp, fp, budget)
});

handler!(br_unless(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::BrUnless { pc: target });
    sp = unsafe { sp.sub(1) };
    if at!(sp) as u32 == 0 {
        enter_run!(ctx, target as usize, sp, fp, budget);
    }
    enter_run!(ctx, pc + 1, sp, fp, budget)
});

// `<fused op>; br_if`: the fused op's result is the condition (it still goes to the slot the fused
// op pushes to, which `br_if` pops).

/// The `br_if` of a pair: `r` into the slot at `sp`, then branch on it or go past the `br_if`.
macro_rules! br_if_on {
    ($ctx:ident, $pc:ident, $sp:ident, $fp:ident, $budget:ident, $r:expr, $t:expr) => {{
        let r: u64 = $r;
        at!($sp) = r;
        if r as u32 != 0 {
            branch!($ctx, $sp, $fp, $budget, $t);
        }
        enter_run!($ctx, $pc + 2, $sp, $fp, $budget)
    }};
}

handler!(local_bin_local_br_if<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::LocalBinLocal { a, b, .. });
    decode_next!(ctx, pc, sp, fp, budget, Op::BrIf(t));
    let r = const { binop(OP) }.apply(at!(fp.add(a as usize)), at!(fp.add(b as usize)));
    br_if_on!(ctx, pc, sp, fp, budget, r, t)
});

handler!(local_bin_imm_br_if<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::LocalBinImm { local, imm, .. });
    decode_next!(ctx, pc, sp, fp, budget, Op::BrIf(t));
    let r = const { binop(OP) }.apply(at!(fp.add(local as usize)), imm);
    br_if_on!(ctx, pc, sp, fp, budget, r, t)
});

handler!(bin_local_br_if<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::BinLocal { local, .. });
    decode_next!(ctx, pc, sp, fp, budget, Op::BrIf(t));
    sp = unsafe { sp.sub(1) };
    let r = const { binop(OP) }.apply(at!(sp), at!(fp.add(local as usize)));
    br_if_on!(ctx, pc, sp, fp, budget, r, t)
});

handler!(bin_imm_br_if<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::BinImm { imm, .. });
    decode_next!(ctx, pc, sp, fp, budget, Op::BrIf(t));
    sp = unsafe { sp.sub(1) };
    let r = const { binop(OP) }.apply(at!(sp), imm);
    br_if_on!(ctx, pc, sp, fp, budget, r, t)
});

handler!(br_table(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::BrTable { start, len });
    sp = unsafe { sp.sub(1) };
    let index = (at!(sp) as u32).min(len - 1);
    let t = ctx.module.br_table[(start + index) as usize];
    branch!(ctx, sp, fp, budget, t)
});

handler!(ret(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::Return { results });
    let k = results as usize;
    // SAFETY: the results are the top `k` operands; `fp` is below them.
    unsafe { std::ptr::copy(sp.sub(k), fp, k) };
    sp = unsafe { fp.add(k) };
    let frames = &mut ctx.machine.frames;
    if frames.len() < 2 {
        return stop(ctx, pc, sp, fp, budget, Exit::Finished);
    }
    let caller_fp = frames.pop().unwrap_or_default() as usize;
    let return_pc = frames.pop().unwrap_or_default() as usize;
    // SAFETY: the caller's frame is below this one in the same buffer.
    fp = unsafe { ctx.base.add(caller_fp) };
    enter_run!(ctx, return_pc, sp, fp, budget)
});

/// Enters `target` with its arguments on top of the stack, below `consumed` operands the call
/// itself pops. The same checks, in the same order, as the loop's `enter!`.
macro_rules! enter {
    ($ctx:ident, $pc:ident, $sp:ident, $fp:ident, $budget:ident, $target:expr, $consumed:expr) => {{
        let target: CallTarget = $target;
        if $ctx.machine.frames.len() as u32 >= 2 * MAX_CALL_DEPTH {
            trap!($ctx, $pc, $sp, $fp, $budget, Trap::CallStackExhausted);
        }
        // SAFETY: `sp` and `fp` point into the buffer at `base`.
        let sp_index = unsafe { $sp.offset_from($ctx.base) } as usize;
        let fp_index = unsafe { $fp.offset_from($ctx.base) } as usize;
        let args_end = sp_index - $consumed;
        let new_fp = args_end - target.params as usize;
        let top = new_fp as u64 + target.max_height as u64;
        if top > MAX_VALUE_STACK as u64 {
            trap!($ctx, $pc, $sp, $fp, $budget, Trap::ValueStackExhausted);
        }
        let m = &mut *$ctx.machine;
        if m.stack.len() < top as usize {
            m.stack.resize(top as usize, 0);
            $ctx.base = m.stack.as_mut_ptr();
        }
        m.stack_reserved = m.stack_reserved.max(top as u32);
        m.frames.push($pc as u64 + 1);
        m.frames.push(fp_index as u64);
        m.frames_reserved = m.frames_reserved.max(m.frames.len() as u32);
        // SAFETY: both below `top`, which the buffer now holds.
        $sp = unsafe { $ctx.base.add(args_end) };
        $fp = unsafe { $ctx.base.add(new_fp) };
        enter_run!($ctx, target.entry as usize, $sp, $fp, $budget)
    }};
}

handler!(call(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::Call { func });
    let target = ctx.module.call_targets[func as usize];
    enter!(ctx, pc, sp, fp, budget, target, 0)
});

handler!(call_indirect(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::CallIndirect { type_index, table });
    let index = at!(sp.sub(1)) as u32 as usize;
    let Some(&word) = ctx.machine.tables[table as usize].entries.get(index) else {
        trap!(ctx, pc, sp, fp, budget, Trap::UndefinedElement)
    };
    if word == crate::value::NULL_REF {
        trap!(ctx, pc, sp, fp, budget, Trap::UninitializedElement);
    }
    let target = ctx.module.call_targets[(word - 1) as usize];
    if target.type_id != type_index {
        trap!(ctx, pc, sp, fp, budget, Trap::IndirectCallTypeMismatch);
    }
    enter!(ctx, pc, sp, fp, budget, target, 1)
});

handler!(push_zeros(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::PushZeros { count });
    // SAFETY: the prologue's slots are the frame's locals, inside its reservation.
    unsafe { std::ptr::write_bytes(sp, 0, count as usize) };
    sp = unsafe { sp.add(count as usize) };
    next!(ctx, pc, sp, fp, budget)
});

// ---- parametric and variables ----

handler!(drop(ctx, pc, sp, fp, budget) {
    sp = unsafe { sp.sub(1) };
    next!(ctx, pc, sp, fp, budget)
});

handler!(select(ctx, pc, sp, fp, budget) {
    let c = at!(sp.sub(1)) as u32;
    sp = unsafe { sp.sub(2) };
    if c == 0 {
        at!(sp.sub(1)) = at!(sp);
    }
    next!(ctx, pc, sp, fp, budget)
});

handler!(local_get(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::LocalGet(i));
    at!(sp) = at!(fp.add(i as usize));
    sp = unsafe { sp.add(1) };
    next!(ctx, pc, sp, fp, budget)
});

handler!(local_get_local_get(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::LocalGet(x));
    decode_next!(ctx, pc, sp, fp, budget, Op::LocalGet(y));
    at!(sp) = at!(fp.add(x as usize));
    at!(sp.add(1)) = at!(fp.add(y as usize));
    sp = unsafe { sp.add(2) };
    dispatch!(ctx, pc + 2, sp, fp, budget)
});

handler!(local_get_local_bin_imm<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::LocalGet(x));
    decode_next!(ctx, pc, sp, fp, budget, Op::LocalBinImm { local, imm, .. });
    at!(sp) = at!(fp.add(x as usize));
    at!(sp.add(1)) = const { binop(OP) }.apply(at!(fp.add(local as usize)), imm);
    sp = unsafe { sp.add(2) };
    dispatch!(ctx, pc + 2, sp, fp, budget)
});

handler!(local_set(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::LocalSet(i));
    sp = unsafe { sp.sub(1) };
    at!(fp.add(i as usize)) = at!(sp);
    next!(ctx, pc, sp, fp, budget)
});

handler!(local_tee(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::LocalTee(i));
    at!(fp.add(i as usize)) = at!(sp.sub(1));
    next!(ctx, pc, sp, fp, budget)
});

handler!(global_get(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::GlobalGet(i));
    at!(sp) = ctx.machine.globals[i as usize];
    sp = unsafe { sp.add(1) };
    next!(ctx, pc, sp, fp, budget)
});

handler!(global_set(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::GlobalSet(i));
    sp = unsafe { sp.sub(1) };
    ctx.machine.globals[i as usize] = at!(sp);
    next!(ctx, pc, sp, fp, budget)
});

handler!(constant(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::Const(w));
    at!(sp) = w;
    sp = unsafe { sp.add(1) };
    next!(ctx, pc, sp, fp, budget)
});

// ---- fused ops, one handler per operator ----

handler!(bin_imm<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::BinImm { imm, .. });
    at!(sp.sub(1)) = const { binop(OP) }.apply(at!(sp.sub(1)), imm);
    next!(ctx, pc, sp, fp, budget)
});

handler!(bin_local<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::BinLocal { local, .. });
    at!(sp.sub(1)) = const { binop(OP) }.apply(at!(sp.sub(1)), at!(fp.add(local as usize)));
    next!(ctx, pc, sp, fp, budget)
});

handler!(local_bin_imm<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::LocalBinImm { local, imm, .. });
    at!(sp) = const { binop(OP) }.apply(at!(fp.add(local as usize)), imm);
    sp = unsafe { sp.add(1) };
    next!(ctx, pc, sp, fp, budget)
});

handler!(local_bin_local<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::LocalBinLocal { a, b, .. });
    at!(sp) = const { binop(OP) }.apply(at!(fp.add(a as usize)), at!(fp.add(b as usize)));
    sp = unsafe { sp.add(1) };
    next!(ctx, pc, sp, fp, budget)
});

handler!(bin_imm_set<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::BinImmSet { imm, dst, .. });
    sp = unsafe { sp.sub(1) };
    at!(fp.add(dst as usize)) = const { binop(OP) }.apply(at!(sp), imm);
    next!(ctx, pc, sp, fp, budget)
});

handler!(bin_imm_tee<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::BinImmTee { imm, dst, .. });
    let r = const { binop(OP) }.apply(at!(sp.sub(1)), imm);
    at!(sp.sub(1)) = r;
    at!(fp.add(dst as usize)) = r;
    next!(ctx, pc, sp, fp, budget)
});

handler!(bin_local_set<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::BinLocalSet { local, dst, .. });
    sp = unsafe { sp.sub(1) };
    at!(fp.add(dst as usize)) = const { binop(OP) }.apply(at!(sp), at!(fp.add(local as usize)));
    next!(ctx, pc, sp, fp, budget)
});

handler!(bin_local_tee<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::BinLocalTee { local, dst, .. });
    let r = const { binop(OP) }.apply(at!(sp.sub(1)), at!(fp.add(local as usize)));
    at!(sp.sub(1)) = r;
    at!(fp.add(dst as usize)) = r;
    next!(ctx, pc, sp, fp, budget)
});

handler!(local_bin_local_set<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::LocalBinLocalSet { a, b, dst, .. });
    at!(fp.add(dst as usize)) =
        const { binop(OP) }.apply(at!(fp.add(a as usize)), at!(fp.add(b as usize)));
    next!(ctx, pc, sp, fp, budget)
});

handler!(local_bin_local_tee<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::LocalBinLocalTee { a, b, dst, .. });
    let r = const { binop(OP) }.apply(at!(fp.add(a as usize)), at!(fp.add(b as usize)));
    at!(sp) = r;
    sp = unsafe { sp.add(1) };
    at!(fp.add(dst as usize)) = r;
    next!(ctx, pc, sp, fp, budget)
});

handler!(local_bin_imm32_set<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::LocalBinImm32Set { local, imm, dst, .. });
    at!(fp.add(dst as usize)) = const { binop(OP) }.apply(at!(fp.add(local as usize)), imm32(imm));
    next!(ctx, pc, sp, fp, budget)
});

handler!(local_bin_imm32_tee<const OP: u8>(ctx, pc, sp, fp, budget) {
    decode!(ctx, pc, sp, fp, budget, Op::LocalBinImm32Tee { local, imm, dst, .. });
    let r = const { binop(OP) }.apply(at!(fp.add(local as usize)), imm32(imm));
    at!(sp) = r;
    sp = unsafe { sp.add(1) };
    at!(fp.add(dst as usize)) = r;
    next!(ctx, pc, sp, fp, budget)
});

// ---- memory ----

/// One handler per load and store op (a module each: macros cannot make fresh function names).
macro_rules! memory_handlers {
    (
        loads { $($load:ident: $n:literal => $conv:expr,)* }
        stores { $($store:ident: $m:literal => $to:expr,)* }
    ) => {
        #[allow(non_snake_case)]
        mod memory {
            use super::*;
            $(pub(super) mod $load {
                use super::*;
                handler!(h(ctx, pc, sp, fp, budget) {
                    decode!(ctx, pc, sp, fp, budget, Op::$load(offset));
                    let addr = (at!(sp.sub(1)) as u32 as u64) + offset as u64;
                    // Out of bounds or across pages: the loop takes it (and traps if it must).
                    let Some(bytes) = ctx.machine.memory.load_in_page::<$n>(addr) else {
                        return cold(ctx, pc, sp, fp, budget);
                    };
                    at!(sp.sub(1)) = ($conv)(bytes);
                    next!(ctx, pc, sp, fp, budget)
                });
                // `local.get x` then this load: the address comes from the local.
                handler!(after_local_get(ctx, pc, sp, fp, budget) {
                    decode!(ctx, pc, sp, fp, budget, Op::LocalGet(x));
                    decode_next!(ctx, pc, sp, fp, budget, Op::$load(offset));
                    let base = at!(fp.add(x as usize));
                    let addr = (base as u32 as u64) + offset as u64;
                    let Some(bytes) = ctx.machine.memory.load_in_page::<$n>(addr) else {
                        // The `local.get` done; the loop takes the load.
                        at!(sp) = base;
                        sp = unsafe { sp.add(1) };
                        return cold(ctx, pc + 1, sp, fp, budget);
                    };
                    at!(sp) = ($conv)(bytes);
                    sp = unsafe { sp.add(1) };
                    dispatch!(ctx, pc + 2, sp, fp, budget)
                });
            })*
            $(pub(super) mod $store {
                use super::*;
                handler!(h(ctx, pc, sp, fp, budget) {
                    decode!(ctx, pc, sp, fp, budget, Op::$store(offset));
                    let addr = (at!(sp.sub(2)) as u32 as u64) + offset as u64;
                    let v: u64 = at!(sp.sub(1));
                    // Out of bounds, across pages or a shared page: the loop takes it.
                    if !ctx.machine.memory.store_in_private_page::<$m>(addr, ($to)(v)) {
                        return cold(ctx, pc, sp, fp, budget);
                    }
                    sp = unsafe { sp.sub(2) };
                    next!(ctx, pc, sp, fp, budget)
                });
                // `local.get x` then this store: the value comes from the local.
                handler!(after_local_get(ctx, pc, sp, fp, budget) {
                    decode!(ctx, pc, sp, fp, budget, Op::LocalGet(x));
                    decode_next!(ctx, pc, sp, fp, budget, Op::$store(offset));
                    let v: u64 = at!(fp.add(x as usize));
                    let addr = (at!(sp.sub(1)) as u32 as u64) + offset as u64;
                    if !ctx.machine.memory.store_in_private_page::<$m>(addr, ($to)(v)) {
                        at!(sp) = v;
                        sp = unsafe { sp.add(1) };
                        return cold(ctx, pc + 1, sp, fp, budget);
                    }
                    // The `local.get` pushed what the store popped with its address.
                    at!(sp) = v;
                    sp = unsafe { sp.sub(1) };
                    dispatch!(ctx, pc + 2, sp, fp, budget)
                });
            })*
        }

        /// A load or store op's handlers: alone, and after a `local.get`.
        fn memory_handler(op: Op) -> Option<(Handler, Handler)> {
            match op {
                $(Op::$load(_) => Some((memory::$load::h, memory::$load::after_local_get)),)*
                $(Op::$store(_) => Some((memory::$store::h, memory::$store::after_local_get)),)*
                _ => None,
            }
        }
    };
}

memory_handlers! {
    loads {
        I32Load: 4 => |b| u32::from_le_bytes(b) as u64,
        I64Load: 8 => u64::from_le_bytes,
        I32Load8S: 1 => |b: [u8; 1]| b[0] as i8 as i32 as u32 as u64,
        I32Load8U: 1 => |b: [u8; 1]| b[0] as u64,
        I32Load16S: 2 => |b| i16::from_le_bytes(b) as i32 as u32 as u64,
        I32Load16U: 2 => |b| u16::from_le_bytes(b) as u64,
        I64Load8S: 1 => |b: [u8; 1]| b[0] as i8 as i64 as u64,
        I64Load8U: 1 => |b: [u8; 1]| b[0] as u64,
        I64Load16S: 2 => |b| i16::from_le_bytes(b) as i64 as u64,
        I64Load16U: 2 => |b| u16::from_le_bytes(b) as u64,
        I64Load32S: 4 => |b| i32::from_le_bytes(b) as i64 as u64,
        I64Load32U: 4 => |b| u32::from_le_bytes(b) as u64,
    }
    stores {
        I32Store: 4 => |v: u64| (v as u32).to_le_bytes(),
        I64Store: 8 => |v: u64| v.to_le_bytes(),
        I32Store8: 1 => |v: u64| [v as u8],
        I64Store8: 1 => |v: u64| [v as u8],
        I32Store16: 2 => |v: u64| (v as u16).to_le_bytes(),
        I64Store16: 2 => |v: u64| (v as u16).to_le_bytes(),
        I64Store32: 4 => |v: u64| (v as u32).to_le_bytes(),
    }
}

// ---- bulk memory: one leaf per step, as in the loop (the byte moves out of line, so the
// ---- handlers keep no buffer of their own and stay tail calls) ----

/// A bulk op's operands (destination, source or value, length), as the loop reads them.
macro_rules! bulk_operands {
    ($sp:ident) => {
        (
            at!($sp.sub(3)) as u32 as u64,
            at!($sp.sub(2)) as u32 as u64,
            at!($sp.sub(1)) as u32 as u64,
        )
    };
}

handler!(memory_fill_check(ctx, pc, sp, fp, budget) {
    let (d, _, n) = bulk_operands!(sp);
    if d + n > ctx.machine.memory.size() {
        trap!(ctx, pc, sp, fp, budget, Trap::MemoryOutOfBounds);
    }
    next!(ctx, pc, sp, fp, budget)
});

handler!(memory_fill_step(ctx, pc, sp, fp, budget) {
    let n = at!(sp.sub(1)) as u32 as u64;
    if n == 0 {
        sp = unsafe { sp.sub(3) };
        enter_run!(ctx, pc + 1, sp, fp, budget);
    }
    let d = at!(sp.sub(3)) as u32 as u64;
    let k = chunk_forward(d, n);
    if let Err(t) = fill_chunk(&mut ctx.machine.memory, d, at!(sp.sub(2)) as u8, k) {
        trap!(ctx, pc, sp, fp, budget, t);
    }
    at!(sp.sub(3)) = d + k;
    at!(sp.sub(1)) = n - k;
    enter_run!(ctx, pc, sp, fp, budget)
});

handler!(memory_copy_check(ctx, pc, sp, fp, budget) {
    let (d, s, n) = bulk_operands!(sp);
    let size = ctx.machine.memory.size();
    if s + n > size || d + n > size {
        trap!(ctx, pc, sp, fp, budget, Trap::MemoryOutOfBounds);
    }
    next!(ctx, pc, sp, fp, budget)
});

handler!(memory_copy_step(ctx, pc, sp, fp, budget) {
    let (d, s, n) = bulk_operands!(sp);
    if n == 0 {
        sp = unsafe { sp.sub(3) };
        enter_run!(ctx, pc + 1, sp, fp, budget);
    }
    // Forward when the destination is below the source, else from the end (memmove).
    let k = if d <= s { chunk_forward(d, n) } else { chunk_backward(d, n) };
    let (from, to) = if d <= s { (s, d) } else { (s + n - k, d + n - k) };
    if let Err(t) = copy_chunk(&mut ctx.machine.memory, from, to, k) {
        trap!(ctx, pc, sp, fp, budget, t);
    }
    if d <= s {
        at!(sp.sub(3)) = d + k;
        at!(sp.sub(2)) = s + k;
    }
    at!(sp.sub(1)) = n - k;
    enter_run!(ctx, pc, sp, fp, budget)
});

/// One copy step's bytes.
#[inline(never)]
fn copy_chunk(memory: &mut crate::memory::Memory, from: u64, to: u64, k: u64) -> Result<(), Trap> {
    memory.copy_within(from, to, k as usize)
}

/// One fill step's bytes.
#[inline(never)]
fn fill_chunk(memory: &mut crate::memory::Memory, d: u64, value: u8, k: u64) -> Result<(), Trap> {
    let bytes = [value; BULK_BYTES_PER_STEP as usize];
    memory.write(d, &bytes[..k as usize])
}

// ---- numeric ops: the functions the loop calls, one handler each ----

macro_rules! numeric_handlers {
    ($($variant:ident => $kind:ident($f:path),)*) => {
        #[allow(non_snake_case)]
        mod numeric {
            use super::*;
            $(pub(super) mod $variant {
                use super::*;
                handler!(h(ctx, pc, sp, fp, budget) {
                    numeric_body!($kind, $f, ctx, pc, sp, fp, budget);
                    next!(ctx, pc, sp, fp, budget)
                });
            })*
        }

        fn numeric_handler(op: Op) -> Option<Handler> {
            match op {
                $(Op::$variant => Some(numeric::$variant::h),)*
                _ => None,
            }
        }
    };
}

macro_rules! numeric_body {
    (unop, $f:path, $ctx:ident, $pc:ident, $sp:ident, $fp:ident, $budget:ident) => {
        at!($sp.sub(1)) = $f(at!($sp.sub(1)));
    };
    (binop, $f:path, $ctx:ident, $pc:ident, $sp:ident, $fp:ident, $budget:ident) => {
        let b = at!($sp.sub(1));
        $sp = unsafe { $sp.sub(1) };
        at!($sp.sub(1)) = $f(at!($sp.sub(1)), b);
    };
    (unop_trap, $f:path, $ctx:ident, $pc:ident, $sp:ident, $fp:ident, $budget:ident) => {
        match $f(at!($sp.sub(1))) {
            Ok(v) => at!($sp.sub(1)) = v,
            Err(t) => trap!($ctx, $pc, $sp, $fp, $budget, t),
        }
    };
    (binop_trap, $f:path, $ctx:ident, $pc:ident, $sp:ident, $fp:ident, $budget:ident) => {
        match $f(at!($sp.sub(2)), at!($sp.sub(1))) {
            Ok(v) => {
                $sp = unsafe { $sp.sub(1) };
                at!($sp.sub(1)) = v;
            }
            Err(t) => trap!($ctx, $pc, $sp, $fp, $budget, t),
        }
    };
}

numeric_handlers! {
        I32Eqz => unop(num::i32_eqz),
        I32Eq => binop(num::i32_eq),
        I32Ne => binop(num::i32_ne),
        I32LtS => binop(num::i32_lt_s),
        I32LtU => binop(num::i32_lt_u),
        I32GtS => binop(num::i32_gt_s),
        I32GtU => binop(num::i32_gt_u),
        I32LeS => binop(num::i32_le_s),
        I32LeU => binop(num::i32_le_u),
        I32GeS => binop(num::i32_ge_s),
        I32GeU => binop(num::i32_ge_u),
        I64Eqz => unop(num::i64_eqz),
        I64Eq => binop(num::i64_eq),
        I64Ne => binop(num::i64_ne),
        I64LtS => binop(num::i64_lt_s),
        I64LtU => binop(num::i64_lt_u),
        I64GtS => binop(num::i64_gt_s),
        I64GtU => binop(num::i64_gt_u),
        I64LeS => binop(num::i64_le_s),
        I64LeU => binop(num::i64_le_u),
        I64GeS => binop(num::i64_ge_s),
        I64GeU => binop(num::i64_ge_u),
        F32Eq => binop(num::f32_eq),
        F32Ne => binop(num::f32_ne),
        F32Lt => binop(num::f32_lt),
        F32Gt => binop(num::f32_gt),
        F32Le => binop(num::f32_le),
        F32Ge => binop(num::f32_ge),
        F64Eq => binop(num::f64_eq),
        F64Ne => binop(num::f64_ne),
        F64Lt => binop(num::f64_lt),
        F64Gt => binop(num::f64_gt),
        F64Le => binop(num::f64_le),
        F64Ge => binop(num::f64_ge),
        I32Clz => unop(num::i32_clz),
        I32Ctz => unop(num::i32_ctz),
        I32Popcnt => unop(num::i32_popcnt),
        I32Add => binop(num::i32_add),
        I32Sub => binop(num::i32_sub),
        I32Mul => binop(num::i32_mul),
        I32DivS => binop_trap(num::i32_div_s),
        I32DivU => binop_trap(num::i32_div_u),
        I32RemS => binop_trap(num::i32_rem_s),
        I32RemU => binop_trap(num::i32_rem_u),
        I32And => binop(num::i32_and),
        I32Or => binop(num::i32_or),
        I32Xor => binop(num::i32_xor),
        I32Shl => binop(num::i32_shl),
        I32ShrS => binop(num::i32_shr_s),
        I32ShrU => binop(num::i32_shr_u),
        I32Rotl => binop(num::i32_rotl),
        I32Rotr => binop(num::i32_rotr),
        I64Clz => unop(num::i64_clz),
        I64Ctz => unop(num::i64_ctz),
        I64Popcnt => unop(num::i64_popcnt),
        I64Add => binop(num::i64_add),
        I64Sub => binop(num::i64_sub),
        I64Mul => binop(num::i64_mul),
        I64DivS => binop_trap(num::i64_div_s),
        I64DivU => binop_trap(num::i64_div_u),
        I64RemS => binop_trap(num::i64_rem_s),
        I64RemU => binop_trap(num::i64_rem_u),
        I64And => binop(num::i64_and),
        I64Or => binop(num::i64_or),
        I64Xor => binop(num::i64_xor),
        I64Shl => binop(num::i64_shl),
        I64ShrS => binop(num::i64_shr_s),
        I64ShrU => binop(num::i64_shr_u),
        I64Rotl => binop(num::i64_rotl),
        I64Rotr => binop(num::i64_rotr),
        F32Abs => unop(num::f32_abs),
        F32Neg => unop(num::f32_neg),
        F32Ceil => unop(num::f32_ceil),
        F32Floor => unop(num::f32_floor),
        F32Trunc => unop(num::f32_trunc),
        F32Nearest => unop(num::f32_nearest),
        F32Sqrt => unop(num::f32_sqrt),
        F32Add => binop(num::f32_add),
        F32Sub => binop(num::f32_sub),
        F32Mul => binop(num::f32_mul),
        F32Div => binop(num::f32_div),
        F32Min => binop(num::f32_min),
        F32Max => binop(num::f32_max),
        F32Copysign => binop(num::f32_copysign),
        F64Abs => unop(num::f64_abs),
        F64Neg => unop(num::f64_neg),
        F64Ceil => unop(num::f64_ceil),
        F64Floor => unop(num::f64_floor),
        F64Trunc => unop(num::f64_trunc),
        F64Nearest => unop(num::f64_nearest),
        F64Sqrt => unop(num::f64_sqrt),
        F64Add => binop(num::f64_add),
        F64Sub => binop(num::f64_sub),
        F64Mul => binop(num::f64_mul),
        F64Div => binop(num::f64_div),
        F64Min => binop(num::f64_min),
        F64Max => binop(num::f64_max),
        F64Copysign => binop(num::f64_copysign),
        I32WrapI64 => unop(num::i32_wrap_i64),
        I32TruncF32S => unop_trap(num::i32_trunc_f32_s),
        I32TruncF32U => unop_trap(num::i32_trunc_f32_u),
        I32TruncF64S => unop_trap(num::i32_trunc_f64_s),
        I32TruncF64U => unop_trap(num::i32_trunc_f64_u),
        I64ExtendI32S => unop(num::i64_extend_i32_s),
        I64ExtendI32U => unop(num::i64_extend_i32_u),
        I64TruncF32S => unop_trap(num::i64_trunc_f32_s),
        I64TruncF32U => unop_trap(num::i64_trunc_f32_u),
        I64TruncF64S => unop_trap(num::i64_trunc_f64_s),
        I64TruncF64U => unop_trap(num::i64_trunc_f64_u),
        F32ConvertI32S => unop(num::f32_convert_i32_s),
        F32ConvertI32U => unop(num::f32_convert_i32_u),
        F32ConvertI64S => unop(num::f32_convert_i64_s),
        F32ConvertI64U => unop(num::f32_convert_i64_u),
        F32DemoteF64 => unop(num::f32_demote_f64),
        F64ConvertI32S => unop(num::f64_convert_i32_s),
        F64ConvertI32U => unop(num::f64_convert_i32_u),
        F64ConvertI64S => unop(num::f64_convert_i64_s),
        F64ConvertI64U => unop(num::f64_convert_i64_u),
        F64PromoteF32 => unop(num::f64_promote_f32),
        I32Extend8S => unop(num::i32_extend8_s),
        I32Extend16S => unop(num::i32_extend16_s),
        I64Extend8S => unop(num::i64_extend8_s),
        I64Extend16S => unop(num::i64_extend16_s),
        I64Extend32S => unop(num::i64_extend32_s),
        I32TruncSatF32S => unop(num::i32_trunc_sat_f32_s),
        I32TruncSatF32U => unop(num::i32_trunc_sat_f32_u),
        I32TruncSatF64S => unop(num::i32_trunc_sat_f64_s),
        I32TruncSatF64U => unop(num::i32_trunc_sat_f64_u),
        I64TruncSatF32S => unop(num::i64_trunc_sat_f32_s),
        I64TruncSatF32U => unop(num::i64_trunc_sat_f32_u),
        I64TruncSatF64S => unop(num::i64_trunc_sat_f64_s),
        I64TruncSatF64U => unop(num::i64_trunc_sat_f64_u),
}

// ---- the table ----

/// A handler for each of the 42 fusable operators: `$form::<opcode>`.
macro_rules! per_binop {
    ($op:expr, $form:ident) => {
        match $op {
            BinOp::I32Eq => $form::<{ BinOp::I32Eq as u8 }>,
            BinOp::I32Ne => $form::<{ BinOp::I32Ne as u8 }>,
            BinOp::I32LtS => $form::<{ BinOp::I32LtS as u8 }>,
            BinOp::I32LtU => $form::<{ BinOp::I32LtU as u8 }>,
            BinOp::I32GtS => $form::<{ BinOp::I32GtS as u8 }>,
            BinOp::I32GtU => $form::<{ BinOp::I32GtU as u8 }>,
            BinOp::I32LeS => $form::<{ BinOp::I32LeS as u8 }>,
            BinOp::I32LeU => $form::<{ BinOp::I32LeU as u8 }>,
            BinOp::I32GeS => $form::<{ BinOp::I32GeS as u8 }>,
            BinOp::I32GeU => $form::<{ BinOp::I32GeU as u8 }>,
            BinOp::I64Eq => $form::<{ BinOp::I64Eq as u8 }>,
            BinOp::I64Ne => $form::<{ BinOp::I64Ne as u8 }>,
            BinOp::I64LtS => $form::<{ BinOp::I64LtS as u8 }>,
            BinOp::I64LtU => $form::<{ BinOp::I64LtU as u8 }>,
            BinOp::I64GtS => $form::<{ BinOp::I64GtS as u8 }>,
            BinOp::I64GtU => $form::<{ BinOp::I64GtU as u8 }>,
            BinOp::I64LeS => $form::<{ BinOp::I64LeS as u8 }>,
            BinOp::I64LeU => $form::<{ BinOp::I64LeU as u8 }>,
            BinOp::I64GeS => $form::<{ BinOp::I64GeS as u8 }>,
            BinOp::I64GeU => $form::<{ BinOp::I64GeU as u8 }>,
            BinOp::I32Add => $form::<{ BinOp::I32Add as u8 }>,
            BinOp::I32Sub => $form::<{ BinOp::I32Sub as u8 }>,
            BinOp::I32Mul => $form::<{ BinOp::I32Mul as u8 }>,
            BinOp::I32And => $form::<{ BinOp::I32And as u8 }>,
            BinOp::I32Or => $form::<{ BinOp::I32Or as u8 }>,
            BinOp::I32Xor => $form::<{ BinOp::I32Xor as u8 }>,
            BinOp::I32Shl => $form::<{ BinOp::I32Shl as u8 }>,
            BinOp::I32ShrS => $form::<{ BinOp::I32ShrS as u8 }>,
            BinOp::I32ShrU => $form::<{ BinOp::I32ShrU as u8 }>,
            BinOp::I32Rotl => $form::<{ BinOp::I32Rotl as u8 }>,
            BinOp::I32Rotr => $form::<{ BinOp::I32Rotr as u8 }>,
            BinOp::I64Add => $form::<{ BinOp::I64Add as u8 }>,
            BinOp::I64Sub => $form::<{ BinOp::I64Sub as u8 }>,
            BinOp::I64Mul => $form::<{ BinOp::I64Mul as u8 }>,
            BinOp::I64And => $form::<{ BinOp::I64And as u8 }>,
            BinOp::I64Or => $form::<{ BinOp::I64Or as u8 }>,
            BinOp::I64Xor => $form::<{ BinOp::I64Xor as u8 }>,
            BinOp::I64Shl => $form::<{ BinOp::I64Shl as u8 }>,
            BinOp::I64ShrS => $form::<{ BinOp::I64ShrS as u8 }>,
            BinOp::I64ShrU => $form::<{ BinOp::I64ShrU as u8 }>,
            BinOp::I64Rotl => $form::<{ BinOp::I64Rotl as u8 }>,
            BinOp::I64Rotr => $form::<{ BinOp::I64Rotr as u8 }>,
        }
    };
}

/// The handler table for `module`'s code, or `None` if the code breaks an invariant the handlers
/// rely on instead of checking (a jump out of the code, a last op that can fall through). The
/// translator never produces such code; the loop runs it if it ever did.
pub(crate) fn handlers(module: &Module) -> Option<Vec<Handler>> {
    let code = &module.code;
    let len = code.len();
    let inside = |pc: u32| (pc as usize) < len;
    let last_stops = matches!(
        code.last(),
        Some(Op::Return { .. } | Op::Br(_) | Op::BrTable { .. } | Op::Unreachable)
    );
    let targets_inside = code.iter().all(|op| match *op {
        Op::Br(t) | Op::BrIf(t) | Op::BrIfEqz(t) | Op::BrIfBin { target: t, .. } => inside(t.pc),
        Op::BrUnless { pc } => inside(pc),
        Op::Call { func } => (func as usize) < module.call_targets.len(),
        Op::BrTable { start, len } => {
            len > 0 && (start as u64 + len as u64) <= module.br_table.len() as u64
        }
        _ => true,
    }) && module.call_targets.iter().all(|t| inside(t.entry))
        && module.br_table.iter().all(|t| inside(t.pc));
    (last_stops && targets_inside).then(|| {
        (0..len)
            .map(|pc| {
                code.get(pc + 1)
                    .and_then(|next| pair_handler(code[pc], *next))
                    .unwrap_or_else(|| handler_for(code[pc]))
            })
            .collect()
    })
}

/// A handler that runs the op and the next one (both steps, one dispatch), for the pairs Rust
/// code is full of: `local.get` then another `local.get`, a fused `local.get; const; <op>`, a
/// load or a store; a fused operator then `br_if`. The second op is in the same straight-line run (neither first op ends one), so
/// the run's charge covers it; a jump to the second op finds that op's own handler. If the second
/// op cannot finish on the fast path, the loop takes it after the first.
fn pair_handler(op: Op, next: Op) -> Option<Handler> {
    if let Op::BrIf(_) = next {
        return match op {
            Op::LocalBinLocal { op, .. } => Some(per_binop!(op, local_bin_local_br_if)),
            Op::LocalBinImm { op, .. } => Some(per_binop!(op, local_bin_imm_br_if)),
            Op::BinLocal { op, .. } => Some(per_binop!(op, bin_local_br_if)),
            Op::BinImm { op, .. } => Some(per_binop!(op, bin_imm_br_if)),
            _ => None,
        };
    }
    let Op::LocalGet(_) = op else {
        return None;
    };
    Some(match next {
        Op::LocalGet(_) => local_get_local_get,
        Op::LocalBinImm { op, .. } => per_binop!(op, local_get_local_bin_imm),
        next => return memory_handler(next).map(|(_, after_local_get)| after_local_get),
    })
}

fn handler_for(op: Op) -> Handler {
    match op {
        Op::Br(_) => br,
        Op::BrIf(_) => br_if,
        Op::BrUnless { .. } => br_unless,
        Op::BrIfEqz(_) => br_if_eqz,
        Op::BrIfBin { op, .. } => per_binop!(op, br_if_bin),
        Op::BrTable { .. } => br_table,
        Op::Return { .. } => ret,
        Op::Call { .. } => call,
        Op::CallIndirect { .. } => call_indirect,
        Op::PushZeros { .. } => push_zeros,
        Op::MemoryFillCheck => memory_fill_check,
        Op::MemoryFillStep => memory_fill_step,
        Op::MemoryCopyCheck => memory_copy_check,
        Op::MemoryCopyStep => memory_copy_step,
        Op::Drop => drop,
        Op::Select => select,
        Op::LocalGet(_) => local_get,
        Op::LocalSet(_) => local_set,
        Op::LocalTee(_) => local_tee,
        Op::GlobalGet(_) => global_get,
        Op::GlobalSet(_) => global_set,
        Op::Const(_) => constant,
        Op::BinImm { op, .. } => per_binop!(op, bin_imm),
        Op::BinLocal { op, .. } => per_binop!(op, bin_local),
        Op::LocalBinImm { op, .. } => per_binop!(op, local_bin_imm),
        Op::LocalBinLocal { op, .. } => per_binop!(op, local_bin_local),
        Op::BinImmSet { op, .. } => per_binop!(op, bin_imm_set),
        Op::BinImmTee { op, .. } => per_binop!(op, bin_imm_tee),
        Op::BinLocalSet { op, .. } => per_binop!(op, bin_local_set),
        Op::BinLocalTee { op, .. } => per_binop!(op, bin_local_tee),
        Op::LocalBinLocalSet { op, .. } => per_binop!(op, local_bin_local_set),
        Op::LocalBinLocalTee { op, .. } => per_binop!(op, local_bin_local_tee),
        Op::LocalBinImm32Set { op, .. } => per_binop!(op, local_bin_imm32_set),
        Op::LocalBinImm32Tee { op, .. } => per_binop!(op, local_bin_imm32_tee),
        op => memory_handler(op)
            .map(|(alone, _)| alone)
            .or_else(|| numeric_handler(op))
            .unwrap_or(cold),
    }
}

#[cfg(test)]
mod tests {
    use super::super::run::tests::run_in_chunks;
    use crate::{Machine, Module, NoImports, RunOutcome, Status, Value};

    /// Every op kind the handlers take, the pair handlers among them, plus the ways out of them:
    /// loads and stores across a page boundary, stores to a page a snapshot shares, `br_table`, `call_indirect`, `select`,
    /// globals, a host-free cold op (`memory.size`), and a trap inside a straight-line run.
    const PROGRAM: &str = r#"(module
      (memory 2)
      (global $g (mut i64) (i64.const 3))
      (table 2 funcref)
      (elem (i32.const 0) $sq $inc)
      (type $un (func (param i64) (result i64)))
      (func $sq (type $un) (i64.mul (local.get 0) (local.get 0)))
      (func $inc (type $un) (i64.add (local.get 0) (i64.const 1)))
      (func $pick (param i32) (result i32)
        (block $c (block $b (block $a (br_table $a $b $c (local.get 0)))
          (return (i32.const 10))) (return (i32.const 20))) (i32.const 30))
      (func (export "main") (param $n i32) (param $trap i32) (result i64)
        (local $i i32) (local $acc i64) (local $addr i32)
        (loop $l
          ;; addresses walk across the first page boundary (65536)
          (local.set $addr (i32.add (i32.const 65520) (i32.mul (local.get $i) (i32.const 3))))
          (i64.store (local.get $addr) (i64.extend_i32_u (local.get $i)))
          (i32.store16 offset=8 (local.get $addr) (local.get $i))
          (i32.store8 offset=11 (local.get $addr) (local.get $i))
          ;; `local.get; load` and (below) `local.get; store` pairs, some across the page boundary
          (local.set $acc (i64.add (local.get $acc)
            (i64.extend_i32_u (i32.add (i32.const 0) (i32.load offset=13 (local.get $addr))))))
          (local.set $acc (i64.add (local.get $acc)
            (i64.add (i64.load (local.get $addr))
              (i64.add (i64.load16_s offset=8 (local.get $addr))
                (i64.load8_u offset=11 (local.get $addr))))))
          (local.set $acc (i64.add (local.get $acc)
            (call_indirect (type $un) (local.get $acc) (i32.and (local.get $i) (i32.const 1)))))
          (local.set $acc (i64.xor (local.get $acc)
            (i64.extend_i32_s (call $pick (i32.rem_u (local.get $i) (i32.const 4))))))
          (global.set $g (select (global.get $g) (local.get $acc) (i32.and (local.get $i) (i32.const 2))))
          (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (memory.size))))
          ;; `local.get` then a fused `local.get; const; <op>`
          (local.set $acc (i64.add (local.get $acc) (i64.shr_u (local.get $acc) (i64.const 3))))
          ;; every fused operator form before `br_if`, taken and not taken
          (block $s1 (br_if $s1 (i32.lt_u (local.get $i) (i32.const 5)))
            (local.set $acc (i64.add (local.get $acc) (i64.const 7))))
          (block $s2 (br_if $s2 (i32.gt_u (i32.add (local.get $i) (i32.const 1)) (local.get $n)))
            (local.set $acc (i64.sub (local.get $acc) (i64.const 3))))
          (block $s3 (br_if $s3 (i32.and (i32.add (local.get $i) (local.get $n)) (i32.const 1)))
            (local.set $acc (i64.xor (local.get $acc) (i64.const 5))))
          ;; bulk steps: a fill, a forward and a backward (overlapping) copy, across the page boundary
          (memory.fill (i32.sub (local.get $addr) (i32.const 40)) (local.get $i) (i32.const 70))
          (memory.copy (i32.const 100) (i32.sub (local.get $addr) (i32.const 50)) (i32.const 90))
          (memory.copy (i32.add (local.get $addr) (i32.const 7)) (local.get $addr) (i32.const 75))
          (local.set $acc (i64.add (local.get $acc) (i64.load offset=130 (i32.const 0))))
          ;; last before the loop's tail, so the slot the pair's `local.get` wrote stays visible
          (i64.store32 offset=13 (i32.add (local.get $addr) (i32.const 0)) (local.get $acc))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        ;; traps in the middle of a run when $trap is set: a division by zero (threaded code
        ;; traps) or, with $trap = 2, an out-of-bounds load (the loop traps)
        (local.set $acc (i64.add (local.get $acc) (global.get $g)))
        (local.set $acc (i64.div_u (local.get $acc)
          (i64.extend_i32_u (i32.ne (local.get $trap) (i32.const 1)))))
        (i64.add (local.get $acc)
          (i64.load (i32.mul (i32.eq (local.get $trap) (i32.const 2)) (i32.const 200000))))))"#;

    fn start(module: &std::sync::Arc<Module>, trap: i32) -> Machine {
        let mut m = Machine::instantiate(module.clone(), &mut NoImports, 100).unwrap();
        m.invoke("main", &[Value::I32(12), Value::I32(trap)])
            .unwrap();
        m
    }

    /// The threaded code against the loop: after one run of every length, and in runs of every
    /// length up to 40 and one unbounded with a snapshot taken at every stop (so the next stores
    /// find shared pages), the machine hash equals the loop's after the same number of single
    /// steps, and both end the same way.
    #[test]
    fn threaded_agrees_with_the_loop() {
        let module = std::sync::Arc::new(Module::new(&wat::parse_str(PROGRAM).unwrap()).unwrap());
        assert!(module.handlers.is_some() || cfg!(not(vm_threaded)));
        for trap in [0, 1, 2] {
            let mut reference = start(&module, trap);
            let mut hashes = vec![reference.hash()];
            while *reference.status() == Status::Running {
                reference.run_loop(&mut NoImports, 1);
                hashes.push(reference.hash());
            }
            let end = reference.status().clone();
            assert_eq!(
                matches!(end, Status::Trapped(_)),
                trap != 0,
                "the program ends as designed: {end:?}"
            );
            // One run of every length from the start: each stop point once, including the ends
            // of straight-line runs, where the threaded code itself stops.
            for (k, hash) in hashes.iter().enumerate().skip(1) {
                let mut m = start(&module, trap);
                m.run(&mut NoImports, k as u64);
                assert_eq!(m.hash(), *hash, "one run of {k} steps");
            }
            for chunk in (1..=40).chain([u64::MAX]) {
                assert_eq!(
                    run_in_chunks(start(&module, trap), &hashes, chunk, true),
                    end
                );
            }
        }
    }

    /// Every handler leaves by a tail call, the cold one too (it calls the loop, then jumps on):
    /// millions of ops, cold ones among them, run on a 256 KiB native stack. A handler that
    /// kept its frame would overflow it within the first hundred thousand ops.
    #[test]
    fn long_runs_keep_the_native_stack_flat() {
        let wat = r#"(module (memory 1)
          (func (export "f") (param $n i32) (result i32) (local $i i32)
            (loop $l
              (drop (memory.size))
              (drop (memory.grow (i32.const 0)))
              (i32.store (i32.const 8) (local.get $i))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
            (local.get $i)))"#;
        let module = Module::new(&wat::parse_str(wat).unwrap()).unwrap();
        let n = 1_000_000;
        let run = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let mut m = Machine::instantiate(module, &mut NoImports, 100).unwrap();
                m.invoke("f", &[Value::I32(n)]).unwrap();
                m.run(&mut NoImports, u64::MAX)
            })
            .unwrap();
        assert_eq!(
            run.join().unwrap(),
            RunOutcome::Finished(vec![Value::I32(n)])
        );
    }
}
