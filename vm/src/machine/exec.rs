//! Execution: the loop over lowered code. Every arm either completes its step or traps before
//! changing any state, so a trapping step leaves everything but the status as it was.

use crate::code::{BranchTarget, Op};
use crate::host::GuestMemory;
use crate::limits::{BULK_BYTES_PER_STEP, MAX_CALL_DEPTH, MAX_VALUE_STACK};
use crate::memory::Memory;
use crate::semantics as sem;
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
enum Flow {
    Trap(Trap),
    Finished,
}

impl Machine {
    /// Runs at most `max_steps` steps.
    pub fn run<H: Host + ?Sized>(&mut self, host: &mut H, max_steps: u64) -> RunOutcome {
        if self.status != Status::Running {
            return self.outcome();
        }
        let mut budget = max_steps;
        while budget > 0 {
            // Executes up to `budget` steps; returns the steps taken and how it stopped.
            let (taken, flow) = self.execute(host, budget);
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
    #[allow(clippy::too_many_lines)]
    fn execute<H: Host + ?Sized>(&mut self, host: &mut H, budget: u64) -> (u64, Option<Flow>) {
        let module = self.module.clone();
        let code = &module.code[..];
        let mut pc = self.pc as usize;
        let mut sp = self.sp as usize;
        let mut fp = self.fp as usize;
        let mut taken: u64 = 0;
        let stack = &mut self.stack;

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
                return (taken + 1, Some(Flow::Trap($t)));
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
                taken += 1;
                continue;
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
                taken += 1;
                continue;
            }};
        }
        let i32_ = |w: u64| w as u32 as i32;
        let u32_ = |w: u64| w as u32;
        let b = |c: bool| c as u64;
        let w32 = |v: u32| v as u64;
        let f32_ = |w: u64| f32::from_bits(w as u32);
        let f64_ = f64::from_bits;

        while taken < budget {
            let op = code[pc];
            match op {
                Op::Unreachable => trap!(Trap::Unreachable),
                Op::Br(t) => branch!(t),
                Op::BrIf(t) => {
                    sp -= 1;
                    if stack[sp] as u32 != 0 {
                        branch!(t);
                    }
                }
                Op::BrUnless { pc: target } => {
                    sp -= 1;
                    if stack[sp] as u32 == 0 {
                        pc = target as usize;
                        taken += 1;
                        continue;
                    }
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
                            taken += 1;
                            continue;
                        }
                        _ => {
                            self.pc = pc as u32;
                            self.sp = sp as u32;
                            self.fp = fp as u32;
                            return (taken + 1, Some(Flow::Finished));
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
                        }
                        None => {
                            stack[sp - 2] = u32::MAX as u64;
                            sp -= 1;
                            pc += 2;
                            taken += 1;
                            continue;
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
                    } else {
                        let d = stack[sp - 3] as u32;
                        self.tables[t as usize].entries[d as usize] = stack[sp - 2];
                        stack[sp - 3] = (d + 1) as u64;
                        stack[sp - 1] = (n - 1) as u64;
                        taken += 1;
                        continue;
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
                        taken += 1;
                        continue;
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
                    } else {
                        let w = self.elems[elem as usize][s as usize];
                        self.tables[table as usize].entries[d as usize] = w;
                        stack[sp - 3] = (d + 1) as u64;
                        stack[sp - 2] = (s + 1) as u64;
                        stack[sp - 1] = (n - 1) as u64;
                        taken += 1;
                        continue;
                    }
                }
                Op::ElemDrop(e) => {
                    super::set_bit(&mut self.dropped, module.data.len() + e as usize)
                }
                Op::I32Load(o) => load!(o, 4, |b| u32::from_le_bytes(b) as u64),
                Op::I64Load(o) => load!(o, 8, u64::from_le_bytes),
                Op::I32Load8S(o) => load!(o, 1, |b: [u8; 1]| b[0] as i8 as i32 as u32 as u64),
                Op::I32Load8U(o) => load!(o, 1, |b: [u8; 1]| b[0] as u64),
                Op::I32Load16S(o) => load!(o, 2, |b| i16::from_le_bytes(b) as i32 as u32 as u64),
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
                    } else {
                        let d = stack[sp - 3] as u32 as u64;
                        let k = chunk_forward(d, n);
                        let bytes = [stack[sp - 2] as u8; BULK_BYTES_PER_STEP as usize];
                        try_trap!(self.memory.write(d, &bytes[..k as usize]));
                        stack[sp - 3] = d + k;
                        stack[sp - 1] = n - k;
                        taken += 1;
                        continue;
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
                        taken += 1;
                        continue;
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
                    } else {
                        let k = chunk_forward(d, n);
                        let bytes = &module.data[seg as usize].bytes[s as usize..(s + k) as usize];
                        try_trap!(self.memory.write(d, bytes));
                        stack[sp - 3] = d + k;
                        stack[sp - 2] = s + k;
                        stack[sp - 1] = n - k;
                        taken += 1;
                        continue;
                    }
                }
                Op::DataDrop(seg) => super::set_bit(&mut self.dropped, seg as usize),
                Op::Const(w) => {
                    stack[sp] = w;
                    sp += 1;
                }

                Op::I32Eqz => unop!(|a| b(u32_(a) == 0)),
                Op::I32Eq => binop!(|a, c| b(u32_(a) == u32_(c))),
                Op::I32Ne => binop!(|a, c| b(u32_(a) != u32_(c))),
                Op::I32LtS => binop!(|a, c| b(i32_(a) < i32_(c))),
                Op::I32LtU => binop!(|a, c| b(u32_(a) < u32_(c))),
                Op::I32GtS => binop!(|a, c| b(i32_(a) > i32_(c))),
                Op::I32GtU => binop!(|a, c| b(u32_(a) > u32_(c))),
                Op::I32LeS => binop!(|a, c| b(i32_(a) <= i32_(c))),
                Op::I32LeU => binop!(|a, c| b(u32_(a) <= u32_(c))),
                Op::I32GeS => binop!(|a, c| b(i32_(a) >= i32_(c))),
                Op::I32GeU => binop!(|a, c| b(u32_(a) >= u32_(c))),
                Op::I64Eqz => unop!(|a| b(a == 0)),
                Op::I64Eq => binop!(|a, c| b(a == c)),
                Op::I64Ne => binop!(|a, c| b(a != c)),
                Op::I64LtS => binop!(|a: u64, c: u64| b((a as i64) < (c as i64))),
                Op::I64LtU => binop!(|a, c| b(a < c)),
                Op::I64GtS => binop!(|a: u64, c: u64| b((a as i64) > (c as i64))),
                Op::I64GtU => binop!(|a, c| b(a > c)),
                Op::I64LeS => binop!(|a: u64, c: u64| b((a as i64) <= (c as i64))),
                Op::I64LeU => binop!(|a, c| b(a <= c)),
                Op::I64GeS => binop!(|a: u64, c: u64| b((a as i64) >= (c as i64))),
                Op::I64GeU => binop!(|a, c| b(a >= c)),
                Op::F32Eq => binop!(|a, c| b(f32_(a) == f32_(c))),
                Op::F32Ne => binop!(|a, c| b(f32_(a) != f32_(c))),
                Op::F32Lt => binop!(|a, c| b(f32_(a) < f32_(c))),
                Op::F32Gt => binop!(|a, c| b(f32_(a) > f32_(c))),
                Op::F32Le => binop!(|a, c| b(f32_(a) <= f32_(c))),
                Op::F32Ge => binop!(|a, c| b(f32_(a) >= f32_(c))),
                Op::F64Eq => binop!(|a, c| b(f64_(a) == f64_(c))),
                Op::F64Ne => binop!(|a, c| b(f64_(a) != f64_(c))),
                Op::F64Lt => binop!(|a, c| b(f64_(a) < f64_(c))),
                Op::F64Gt => binop!(|a, c| b(f64_(a) > f64_(c))),
                Op::F64Le => binop!(|a, c| b(f64_(a) <= f64_(c))),
                Op::F64Ge => binop!(|a, c| b(f64_(a) >= f64_(c))),

                Op::I32Clz => unop!(|a| w32(u32_(a).leading_zeros())),
                Op::I32Ctz => unop!(|a| w32(u32_(a).trailing_zeros())),
                Op::I32Popcnt => unop!(|a| w32(u32_(a).count_ones())),
                Op::I32Add => binop!(|a, c| w32(u32_(a).wrapping_add(u32_(c)))),
                Op::I32Sub => binop!(|a, c| w32(u32_(a).wrapping_sub(u32_(c)))),
                Op::I32Mul => binop!(|a, c| w32(u32_(a).wrapping_mul(u32_(c)))),
                Op::I32DivS => {
                    binop_trap!(|a, c| sem::i32_div_s(i32_(a), i32_(c)).map(|v| w32(v as u32)))
                }
                Op::I32DivU => binop_trap!(|a, c| sem::i32_div_u(u32_(a), u32_(c)).map(w32)),
                Op::I32RemS => {
                    binop_trap!(|a, c| sem::i32_rem_s(i32_(a), i32_(c)).map(|v| w32(v as u32)))
                }
                Op::I32RemU => binop_trap!(|a, c| sem::i32_rem_u(u32_(a), u32_(c)).map(w32)),
                Op::I32And => binop!(|a, c| a & c),
                Op::I32Or => binop!(|a, c| a | c),
                Op::I32Xor => binop!(|a, c| a ^ c),
                Op::I32Shl => binop!(|a, c| w32(u32_(a).wrapping_shl(u32_(c)))),
                Op::I32ShrS => binop!(|a, c| w32(i32_(a).wrapping_shr(u32_(c)) as u32)),
                Op::I32ShrU => binop!(|a, c| w32(u32_(a).wrapping_shr(u32_(c)))),
                Op::I32Rotl => binop!(|a, c| w32(u32_(a).rotate_left(u32_(c) % 32))),
                Op::I32Rotr => binop!(|a, c| w32(u32_(a).rotate_right(u32_(c) % 32))),
                Op::I64Clz => unop!(|a: u64| a.leading_zeros() as u64),
                Op::I64Ctz => unop!(|a: u64| a.trailing_zeros() as u64),
                Op::I64Popcnt => unop!(|a: u64| a.count_ones() as u64),
                Op::I64Add => binop!(|a: u64, c| a.wrapping_add(c)),
                Op::I64Sub => binop!(|a: u64, c| a.wrapping_sub(c)),
                Op::I64Mul => binop!(|a: u64, c| a.wrapping_mul(c)),
                Op::I64DivS => binop_trap!(
                    |a: u64, c: u64| sem::i64_div_s(a as i64, c as i64).map(|v| v as u64)
                ),
                Op::I64DivU => binop_trap!(sem::i64_div_u),
                Op::I64RemS => binop_trap!(
                    |a: u64, c: u64| sem::i64_rem_s(a as i64, c as i64).map(|v| v as u64)
                ),
                Op::I64RemU => binop_trap!(sem::i64_rem_u),
                Op::I64And => binop!(|a, c| a & c),
                Op::I64Or => binop!(|a, c| a | c),
                Op::I64Xor => binop!(|a, c| a ^ c),
                Op::I64Shl => binop!(|a: u64, c: u64| a.wrapping_shl(c as u32)),
                Op::I64ShrS => binop!(|a: u64, c: u64| (a as i64).wrapping_shr(c as u32) as u64),
                Op::I64ShrU => binop!(|a: u64, c: u64| a.wrapping_shr(c as u32)),
                Op::I64Rotl => binop!(|a: u64, c: u64| a.rotate_left((c % 64) as u32)),
                Op::I64Rotr => binop!(|a: u64, c: u64| a.rotate_right((c % 64) as u32)),

                Op::F32Abs => unop!(|a| w32(sem::f32_abs(u32_(a)))),
                Op::F32Neg => unop!(|a| w32(sem::f32_neg(u32_(a)))),
                Op::F32Ceil => unop!(|a| w32(sem::f32_ceil(u32_(a)))),
                Op::F32Floor => unop!(|a| w32(sem::f32_floor(u32_(a)))),
                Op::F32Trunc => unop!(|a| w32(sem::f32_trunc(u32_(a)))),
                Op::F32Nearest => unop!(|a| w32(sem::f32_nearest(u32_(a)))),
                Op::F32Sqrt => unop!(|a| w32(sem::f32_sqrt(u32_(a)))),
                Op::F32Add => binop!(|a, c| w32(sem::f32_add(u32_(a), u32_(c)))),
                Op::F32Sub => binop!(|a, c| w32(sem::f32_sub(u32_(a), u32_(c)))),
                Op::F32Mul => binop!(|a, c| w32(sem::f32_mul(u32_(a), u32_(c)))),
                Op::F32Div => binop!(|a, c| w32(sem::f32_div(u32_(a), u32_(c)))),
                Op::F32Min => binop!(|a, c| w32(sem::f32_min(u32_(a), u32_(c)))),
                Op::F32Max => binop!(|a, c| w32(sem::f32_max(u32_(a), u32_(c)))),
                Op::F32Copysign => binop!(|a, c| w32(sem::f32_copysign(u32_(a), u32_(c)))),
                Op::F64Abs => unop!(sem::f64_abs),
                Op::F64Neg => unop!(sem::f64_neg),
                Op::F64Ceil => unop!(sem::f64_ceil),
                Op::F64Floor => unop!(sem::f64_floor),
                Op::F64Trunc => unop!(sem::f64_trunc),
                Op::F64Nearest => unop!(sem::f64_nearest),
                Op::F64Sqrt => unop!(sem::f64_sqrt),
                Op::F64Add => binop!(sem::f64_add),
                Op::F64Sub => binop!(sem::f64_sub),
                Op::F64Mul => binop!(sem::f64_mul),
                Op::F64Div => binop!(sem::f64_div),
                Op::F64Min => binop!(sem::f64_min),
                Op::F64Max => binop!(sem::f64_max),
                Op::F64Copysign => binop!(sem::f64_copysign),

                Op::I32WrapI64 => unop!(|a: u64| a as u32 as u64),
                Op::I32TruncF32S => {
                    unop_trap!(|a| sem::i32_trunc_f32_s(u32_(a)).map(|v| w32(v as u32)))
                }
                Op::I32TruncF32U => unop_trap!(|a| sem::i32_trunc_f32_u(u32_(a)).map(w32)),
                Op::I32TruncF64S => unop_trap!(|a| sem::i32_trunc_f64_s(a).map(|v| w32(v as u32))),
                Op::I32TruncF64U => unop_trap!(|a| sem::i32_trunc_f64_u(a).map(w32)),
                Op::I64ExtendI32S => unop!(|a| i32_(a) as i64 as u64),
                Op::I64ExtendI32U => unop!(|a| u32_(a) as u64),
                Op::I64TruncF32S => unop_trap!(|a| sem::i64_trunc_f32_s(u32_(a)).map(|v| v as u64)),
                Op::I64TruncF32U => unop_trap!(|a| sem::i64_trunc_f32_u(u32_(a))),
                Op::I64TruncF64S => unop_trap!(|a| sem::i64_trunc_f64_s(a).map(|v| v as u64)),
                Op::I64TruncF64U => unop_trap!(sem::i64_trunc_f64_u),
                Op::F32ConvertI32S => unop!(|a| w32((i32_(a) as f32).to_bits())),
                Op::F32ConvertI32U => unop!(|a| w32((u32_(a) as f32).to_bits())),
                Op::F32ConvertI64S => unop!(|a: u64| w32((a as i64 as f32).to_bits())),
                Op::F32ConvertI64U => unop!(|a: u64| w32((a as f32).to_bits())),
                Op::F32DemoteF64 => unop!(|a| w32(sem::f32_demote_f64(a))),
                Op::F64ConvertI32S => unop!(|a| (i32_(a) as f64).to_bits()),
                Op::F64ConvertI32U => unop!(|a| (u32_(a) as f64).to_bits()),
                Op::F64ConvertI64S => unop!(|a: u64| (a as i64 as f64).to_bits()),
                Op::F64ConvertI64U => unop!(|a: u64| (a as f64).to_bits()),
                Op::F64PromoteF32 => unop!(|a| sem::f64_promote_f32(u32_(a))),
                Op::I32Extend8S => unop!(|a| w32(a as u8 as i8 as i32 as u32)),
                Op::I32Extend16S => unop!(|a| w32(a as u16 as i16 as i32 as u32)),
                Op::I64Extend8S => unop!(|a| a as u8 as i8 as i64 as u64),
                Op::I64Extend16S => unop!(|a| a as u16 as i16 as i64 as u64),
                Op::I64Extend32S => unop!(|a| a as u32 as i32 as i64 as u64),
                Op::I32TruncSatF32S => unop!(|a| w32(sem::i32_trunc_sat_f32_s(u32_(a)) as u32)),
                Op::I32TruncSatF32U => unop!(|a| w32(sem::i32_trunc_sat_f32_u(u32_(a)))),
                Op::I32TruncSatF64S => unop!(|a| w32(sem::i32_trunc_sat_f64_s(a) as u32)),
                Op::I32TruncSatF64U => unop!(|a| w32(sem::i32_trunc_sat_f64_u(a))),
                Op::I64TruncSatF32S => unop!(|a| sem::i64_trunc_sat_f32_s(u32_(a)) as u64),
                Op::I64TruncSatF32U => unop!(|a| sem::i64_trunc_sat_f32_u(u32_(a))),
                Op::I64TruncSatF64S => unop!(|a| sem::i64_trunc_sat_f64_s(a) as u64),
                Op::I64TruncSatF64U => unop!(sem::i64_trunc_sat_f64_u),
            }
            pc += 1;
            taken += 1;
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
