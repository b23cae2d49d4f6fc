//! Word-level numeric operators: one function per lowered numeric [`Op`], over the stack's `u64`
//! words (i32 values in the low 32 bits, floats as their bits). The interpreter's loop and the
//! one-step semantics ([`crate::step`]) both call these, so an operator is defined exactly once;
//! the float and trapping parts come from [`crate::semantics`].

use crate::code::Op;
use crate::semantics as sem;
use crate::Trap;

/// How an op maps its operands, for the ops that only compute.
#[derive(Clone, Copy)]
pub enum Numeric {
    Unary(fn(u64) -> u64),
    Binary(fn(u64, u64) -> u64),
    UnaryTrap(fn(u64) -> Result<u64, Trap>),
    BinaryTrap(fn(u64, u64) -> Result<u64, Trap>),
}

/// The numeric operator `op` computes, or `None` for ops that touch more than operands.
pub fn numeric(op: Op) -> Option<Numeric> {
    Some(match op {
        Op::I32Eqz => Numeric::Unary(i32_eqz),
        Op::I32Eq => Numeric::Binary(i32_eq),
        Op::I32Ne => Numeric::Binary(i32_ne),
        Op::I32LtS => Numeric::Binary(i32_lt_s),
        Op::I32LtU => Numeric::Binary(i32_lt_u),
        Op::I32GtS => Numeric::Binary(i32_gt_s),
        Op::I32GtU => Numeric::Binary(i32_gt_u),
        Op::I32LeS => Numeric::Binary(i32_le_s),
        Op::I32LeU => Numeric::Binary(i32_le_u),
        Op::I32GeS => Numeric::Binary(i32_ge_s),
        Op::I32GeU => Numeric::Binary(i32_ge_u),
        Op::I64Eqz => Numeric::Unary(i64_eqz),
        Op::I64Eq => Numeric::Binary(i64_eq),
        Op::I64Ne => Numeric::Binary(i64_ne),
        Op::I64LtS => Numeric::Binary(i64_lt_s),
        Op::I64LtU => Numeric::Binary(i64_lt_u),
        Op::I64GtS => Numeric::Binary(i64_gt_s),
        Op::I64GtU => Numeric::Binary(i64_gt_u),
        Op::I64LeS => Numeric::Binary(i64_le_s),
        Op::I64LeU => Numeric::Binary(i64_le_u),
        Op::I64GeS => Numeric::Binary(i64_ge_s),
        Op::I64GeU => Numeric::Binary(i64_ge_u),
        Op::F32Eq => Numeric::Binary(f32_eq),
        Op::F32Ne => Numeric::Binary(f32_ne),
        Op::F32Lt => Numeric::Binary(f32_lt),
        Op::F32Gt => Numeric::Binary(f32_gt),
        Op::F32Le => Numeric::Binary(f32_le),
        Op::F32Ge => Numeric::Binary(f32_ge),
        Op::F64Eq => Numeric::Binary(f64_eq),
        Op::F64Ne => Numeric::Binary(f64_ne),
        Op::F64Lt => Numeric::Binary(f64_lt),
        Op::F64Gt => Numeric::Binary(f64_gt),
        Op::F64Le => Numeric::Binary(f64_le),
        Op::F64Ge => Numeric::Binary(f64_ge),
        Op::I32Clz => Numeric::Unary(i32_clz),
        Op::I32Ctz => Numeric::Unary(i32_ctz),
        Op::I32Popcnt => Numeric::Unary(i32_popcnt),
        Op::I32Add => Numeric::Binary(i32_add),
        Op::I32Sub => Numeric::Binary(i32_sub),
        Op::I32Mul => Numeric::Binary(i32_mul),
        Op::I32DivS => Numeric::BinaryTrap(i32_div_s),
        Op::I32DivU => Numeric::BinaryTrap(i32_div_u),
        Op::I32RemS => Numeric::BinaryTrap(i32_rem_s),
        Op::I32RemU => Numeric::BinaryTrap(i32_rem_u),
        Op::I32And => Numeric::Binary(i32_and),
        Op::I32Or => Numeric::Binary(i32_or),
        Op::I32Xor => Numeric::Binary(i32_xor),
        Op::I32Shl => Numeric::Binary(i32_shl),
        Op::I32ShrS => Numeric::Binary(i32_shr_s),
        Op::I32ShrU => Numeric::Binary(i32_shr_u),
        Op::I32Rotl => Numeric::Binary(i32_rotl),
        Op::I32Rotr => Numeric::Binary(i32_rotr),
        Op::I64Clz => Numeric::Unary(i64_clz),
        Op::I64Ctz => Numeric::Unary(i64_ctz),
        Op::I64Popcnt => Numeric::Unary(i64_popcnt),
        Op::I64Add => Numeric::Binary(i64_add),
        Op::I64Sub => Numeric::Binary(i64_sub),
        Op::I64Mul => Numeric::Binary(i64_mul),
        Op::I64DivS => Numeric::BinaryTrap(i64_div_s),
        Op::I64DivU => Numeric::BinaryTrap(i64_div_u),
        Op::I64RemS => Numeric::BinaryTrap(i64_rem_s),
        Op::I64RemU => Numeric::BinaryTrap(i64_rem_u),
        Op::I64And => Numeric::Binary(i64_and),
        Op::I64Or => Numeric::Binary(i64_or),
        Op::I64Xor => Numeric::Binary(i64_xor),
        Op::I64Shl => Numeric::Binary(i64_shl),
        Op::I64ShrS => Numeric::Binary(i64_shr_s),
        Op::I64ShrU => Numeric::Binary(i64_shr_u),
        Op::I64Rotl => Numeric::Binary(i64_rotl),
        Op::I64Rotr => Numeric::Binary(i64_rotr),
        Op::F32Abs => Numeric::Unary(f32_abs),
        Op::F32Neg => Numeric::Unary(f32_neg),
        Op::F32Ceil => Numeric::Unary(f32_ceil),
        Op::F32Floor => Numeric::Unary(f32_floor),
        Op::F32Trunc => Numeric::Unary(f32_trunc),
        Op::F32Nearest => Numeric::Unary(f32_nearest),
        Op::F32Sqrt => Numeric::Unary(f32_sqrt),
        Op::F32Add => Numeric::Binary(f32_add),
        Op::F32Sub => Numeric::Binary(f32_sub),
        Op::F32Mul => Numeric::Binary(f32_mul),
        Op::F32Div => Numeric::Binary(f32_div),
        Op::F32Min => Numeric::Binary(f32_min),
        Op::F32Max => Numeric::Binary(f32_max),
        Op::F32Copysign => Numeric::Binary(f32_copysign),
        Op::F64Abs => Numeric::Unary(f64_abs),
        Op::F64Neg => Numeric::Unary(f64_neg),
        Op::F64Ceil => Numeric::Unary(f64_ceil),
        Op::F64Floor => Numeric::Unary(f64_floor),
        Op::F64Trunc => Numeric::Unary(f64_trunc),
        Op::F64Nearest => Numeric::Unary(f64_nearest),
        Op::F64Sqrt => Numeric::Unary(f64_sqrt),
        Op::F64Add => Numeric::Binary(f64_add),
        Op::F64Sub => Numeric::Binary(f64_sub),
        Op::F64Mul => Numeric::Binary(f64_mul),
        Op::F64Div => Numeric::Binary(f64_div),
        Op::F64Min => Numeric::Binary(f64_min),
        Op::F64Max => Numeric::Binary(f64_max),
        Op::F64Copysign => Numeric::Binary(f64_copysign),
        Op::I32WrapI64 => Numeric::Unary(i32_wrap_i64),
        Op::I32TruncF32S => Numeric::UnaryTrap(i32_trunc_f32_s),
        Op::I32TruncF32U => Numeric::UnaryTrap(i32_trunc_f32_u),
        Op::I32TruncF64S => Numeric::UnaryTrap(i32_trunc_f64_s),
        Op::I32TruncF64U => Numeric::UnaryTrap(i32_trunc_f64_u),
        Op::I64ExtendI32S => Numeric::Unary(i64_extend_i32_s),
        Op::I64ExtendI32U => Numeric::Unary(i64_extend_i32_u),
        Op::I64TruncF32S => Numeric::UnaryTrap(i64_trunc_f32_s),
        Op::I64TruncF32U => Numeric::UnaryTrap(i64_trunc_f32_u),
        Op::I64TruncF64S => Numeric::UnaryTrap(i64_trunc_f64_s),
        Op::I64TruncF64U => Numeric::UnaryTrap(i64_trunc_f64_u),
        Op::F32ConvertI32S => Numeric::Unary(f32_convert_i32_s),
        Op::F32ConvertI32U => Numeric::Unary(f32_convert_i32_u),
        Op::F32ConvertI64S => Numeric::Unary(f32_convert_i64_s),
        Op::F32ConvertI64U => Numeric::Unary(f32_convert_i64_u),
        Op::F32DemoteF64 => Numeric::Unary(f32_demote_f64),
        Op::F64ConvertI32S => Numeric::Unary(f64_convert_i32_s),
        Op::F64ConvertI32U => Numeric::Unary(f64_convert_i32_u),
        Op::F64ConvertI64S => Numeric::Unary(f64_convert_i64_s),
        Op::F64ConvertI64U => Numeric::Unary(f64_convert_i64_u),
        Op::F64PromoteF32 => Numeric::Unary(f64_promote_f32),
        Op::I32Extend8S => Numeric::Unary(i32_extend8_s),
        Op::I32Extend16S => Numeric::Unary(i32_extend16_s),
        Op::I64Extend8S => Numeric::Unary(i64_extend8_s),
        Op::I64Extend16S => Numeric::Unary(i64_extend16_s),
        Op::I64Extend32S => Numeric::Unary(i64_extend32_s),
        Op::I32TruncSatF32S => Numeric::Unary(i32_trunc_sat_f32_s),
        Op::I32TruncSatF32U => Numeric::Unary(i32_trunc_sat_f32_u),
        Op::I32TruncSatF64S => Numeric::Unary(i32_trunc_sat_f64_s),
        Op::I32TruncSatF64U => Numeric::Unary(i32_trunc_sat_f64_u),
        Op::I64TruncSatF32S => Numeric::Unary(i64_trunc_sat_f32_s),
        Op::I64TruncSatF32U => Numeric::Unary(i64_trunc_sat_f32_u),
        Op::I64TruncSatF64S => Numeric::Unary(i64_trunc_sat_f64_s),
        Op::I64TruncSatF64U => Numeric::Unary(i64_trunc_sat_f64_u),
        _ => return None,
    })
}

#[inline(always)]
fn i32_(w: u64) -> i32 {
    w as u32 as i32
}

#[inline(always)]
fn u32_(w: u64) -> u32 {
    w as u32
}

#[inline(always)]
fn b(c: bool) -> u64 {
    c as u64
}

#[inline(always)]
fn w32(v: u32) -> u64 {
    v as u64
}

#[inline(always)]
fn f32_(w: u64) -> f32 {
    f32::from_bits(w as u32)
}

#[inline(always)]
fn f64_(w: u64) -> f64 {
    f64::from_bits(w)
}

#[inline(always)]
pub fn i32_eqz(a: u64) -> u64 {
    b(u32_(a) == 0)
}

#[inline(always)]
pub fn i32_eq(a: u64, c: u64) -> u64 {
    b(u32_(a) == u32_(c))
}

#[inline(always)]
pub fn i32_ne(a: u64, c: u64) -> u64 {
    b(u32_(a) != u32_(c))
}

#[inline(always)]
pub fn i32_lt_s(a: u64, c: u64) -> u64 {
    b(i32_(a) < i32_(c))
}

#[inline(always)]
pub fn i32_lt_u(a: u64, c: u64) -> u64 {
    b(u32_(a) < u32_(c))
}

#[inline(always)]
pub fn i32_gt_s(a: u64, c: u64) -> u64 {
    b(i32_(a) > i32_(c))
}

#[inline(always)]
pub fn i32_gt_u(a: u64, c: u64) -> u64 {
    b(u32_(a) > u32_(c))
}

#[inline(always)]
pub fn i32_le_s(a: u64, c: u64) -> u64 {
    b(i32_(a) <= i32_(c))
}

#[inline(always)]
pub fn i32_le_u(a: u64, c: u64) -> u64 {
    b(u32_(a) <= u32_(c))
}

#[inline(always)]
pub fn i32_ge_s(a: u64, c: u64) -> u64 {
    b(i32_(a) >= i32_(c))
}

#[inline(always)]
pub fn i32_ge_u(a: u64, c: u64) -> u64 {
    b(u32_(a) >= u32_(c))
}

#[inline(always)]
pub fn i64_eqz(a: u64) -> u64 {
    b(a == 0)
}

#[inline(always)]
pub fn i64_eq(a: u64, c: u64) -> u64 {
    b(a == c)
}

#[inline(always)]
pub fn i64_ne(a: u64, c: u64) -> u64 {
    b(a != c)
}

#[inline(always)]
pub fn i64_lt_s(a: u64, c: u64) -> u64 {
    b((a as i64) < (c as i64))
}

#[inline(always)]
pub fn i64_lt_u(a: u64, c: u64) -> u64 {
    b(a < c)
}

#[inline(always)]
pub fn i64_gt_s(a: u64, c: u64) -> u64 {
    b((a as i64) > (c as i64))
}

#[inline(always)]
pub fn i64_gt_u(a: u64, c: u64) -> u64 {
    b(a > c)
}

#[inline(always)]
pub fn i64_le_s(a: u64, c: u64) -> u64 {
    b((a as i64) <= (c as i64))
}

#[inline(always)]
pub fn i64_le_u(a: u64, c: u64) -> u64 {
    b(a <= c)
}

#[inline(always)]
pub fn i64_ge_s(a: u64, c: u64) -> u64 {
    b((a as i64) >= (c as i64))
}

#[inline(always)]
pub fn i64_ge_u(a: u64, c: u64) -> u64 {
    b(a >= c)
}

#[inline(always)]
pub fn f32_eq(a: u64, c: u64) -> u64 {
    b(f32_(a) == f32_(c))
}

#[inline(always)]
pub fn f32_ne(a: u64, c: u64) -> u64 {
    b(f32_(a) != f32_(c))
}

#[inline(always)]
pub fn f32_lt(a: u64, c: u64) -> u64 {
    b(f32_(a) < f32_(c))
}

#[inline(always)]
pub fn f32_gt(a: u64, c: u64) -> u64 {
    b(f32_(a) > f32_(c))
}

#[inline(always)]
pub fn f32_le(a: u64, c: u64) -> u64 {
    b(f32_(a) <= f32_(c))
}

#[inline(always)]
pub fn f32_ge(a: u64, c: u64) -> u64 {
    b(f32_(a) >= f32_(c))
}

#[inline(always)]
pub fn f64_eq(a: u64, c: u64) -> u64 {
    b(f64_(a) == f64_(c))
}

#[inline(always)]
pub fn f64_ne(a: u64, c: u64) -> u64 {
    b(f64_(a) != f64_(c))
}

#[inline(always)]
pub fn f64_lt(a: u64, c: u64) -> u64 {
    b(f64_(a) < f64_(c))
}

#[inline(always)]
pub fn f64_gt(a: u64, c: u64) -> u64 {
    b(f64_(a) > f64_(c))
}

#[inline(always)]
pub fn f64_le(a: u64, c: u64) -> u64 {
    b(f64_(a) <= f64_(c))
}

#[inline(always)]
pub fn f64_ge(a: u64, c: u64) -> u64 {
    b(f64_(a) >= f64_(c))
}

#[inline(always)]
pub fn i32_clz(a: u64) -> u64 {
    w32(u32_(a).leading_zeros())
}

#[inline(always)]
pub fn i32_ctz(a: u64) -> u64 {
    w32(u32_(a).trailing_zeros())
}

#[inline(always)]
pub fn i32_popcnt(a: u64) -> u64 {
    w32(u32_(a).count_ones())
}

#[inline(always)]
pub fn i32_add(a: u64, c: u64) -> u64 {
    w32(u32_(a).wrapping_add(u32_(c)))
}

#[inline(always)]
pub fn i32_sub(a: u64, c: u64) -> u64 {
    w32(u32_(a).wrapping_sub(u32_(c)))
}

#[inline(always)]
pub fn i32_mul(a: u64, c: u64) -> u64 {
    w32(u32_(a).wrapping_mul(u32_(c)))
}

#[inline(always)]
pub fn i32_div_s(a: u64, c: u64) -> Result<u64, Trap> {
    sem::i32_div_s(i32_(a), i32_(c)).map(|v| w32(v as u32))
}

#[inline(always)]
pub fn i32_div_u(a: u64, c: u64) -> Result<u64, Trap> {
    sem::i32_div_u(u32_(a), u32_(c)).map(w32)
}

#[inline(always)]
pub fn i32_rem_s(a: u64, c: u64) -> Result<u64, Trap> {
    sem::i32_rem_s(i32_(a), i32_(c)).map(|v| w32(v as u32))
}

#[inline(always)]
pub fn i32_rem_u(a: u64, c: u64) -> Result<u64, Trap> {
    sem::i32_rem_u(u32_(a), u32_(c)).map(w32)
}

#[inline(always)]
pub fn i32_and(a: u64, c: u64) -> u64 {
    a & c
}

#[inline(always)]
pub fn i32_or(a: u64, c: u64) -> u64 {
    a | c
}

#[inline(always)]
pub fn i32_xor(a: u64, c: u64) -> u64 {
    a ^ c
}

#[inline(always)]
pub fn i32_shl(a: u64, c: u64) -> u64 {
    w32(u32_(a).wrapping_shl(u32_(c)))
}

#[inline(always)]
pub fn i32_shr_s(a: u64, c: u64) -> u64 {
    w32(i32_(a).wrapping_shr(u32_(c)) as u32)
}

#[inline(always)]
pub fn i32_shr_u(a: u64, c: u64) -> u64 {
    w32(u32_(a).wrapping_shr(u32_(c)))
}

#[inline(always)]
pub fn i32_rotl(a: u64, c: u64) -> u64 {
    w32(u32_(a).rotate_left(u32_(c) % 32))
}

#[inline(always)]
pub fn i32_rotr(a: u64, c: u64) -> u64 {
    w32(u32_(a).rotate_right(u32_(c) % 32))
}

#[inline(always)]
pub fn i64_clz(a: u64) -> u64 {
    a.leading_zeros() as u64
}

#[inline(always)]
pub fn i64_ctz(a: u64) -> u64 {
    a.trailing_zeros() as u64
}

#[inline(always)]
pub fn i64_popcnt(a: u64) -> u64 {
    a.count_ones() as u64
}

#[inline(always)]
pub fn i64_add(a: u64, c: u64) -> u64 {
    a.wrapping_add(c)
}

#[inline(always)]
pub fn i64_sub(a: u64, c: u64) -> u64 {
    a.wrapping_sub(c)
}

#[inline(always)]
pub fn i64_mul(a: u64, c: u64) -> u64 {
    a.wrapping_mul(c)
}

#[inline(always)]
pub fn i64_div_s(a: u64, c: u64) -> Result<u64, Trap> {
    sem::i64_div_s(a as i64, c as i64).map(|v| v as u64)
}

#[inline(always)]
pub fn i64_div_u(a: u64, c: u64) -> Result<u64, Trap> {
    sem::i64_div_u(a, c)
}

#[inline(always)]
pub fn i64_rem_s(a: u64, c: u64) -> Result<u64, Trap> {
    sem::i64_rem_s(a as i64, c as i64).map(|v| v as u64)
}

#[inline(always)]
pub fn i64_rem_u(a: u64, c: u64) -> Result<u64, Trap> {
    sem::i64_rem_u(a, c)
}

#[inline(always)]
pub fn i64_and(a: u64, c: u64) -> u64 {
    a & c
}

#[inline(always)]
pub fn i64_or(a: u64, c: u64) -> u64 {
    a | c
}

#[inline(always)]
pub fn i64_xor(a: u64, c: u64) -> u64 {
    a ^ c
}

#[inline(always)]
pub fn i64_shl(a: u64, c: u64) -> u64 {
    a.wrapping_shl(c as u32)
}

#[inline(always)]
pub fn i64_shr_s(a: u64, c: u64) -> u64 {
    (a as i64).wrapping_shr(c as u32) as u64
}

#[inline(always)]
pub fn i64_shr_u(a: u64, c: u64) -> u64 {
    a.wrapping_shr(c as u32)
}

#[inline(always)]
pub fn i64_rotl(a: u64, c: u64) -> u64 {
    a.rotate_left((c % 64) as u32)
}

#[inline(always)]
pub fn i64_rotr(a: u64, c: u64) -> u64 {
    a.rotate_right((c % 64) as u32)
}

#[inline(always)]
pub fn f32_abs(a: u64) -> u64 {
    w32(sem::f32_abs(u32_(a)))
}

#[inline(always)]
pub fn f32_neg(a: u64) -> u64 {
    w32(sem::f32_neg(u32_(a)))
}

#[inline(always)]
pub fn f32_ceil(a: u64) -> u64 {
    w32(sem::f32_ceil(u32_(a)))
}

#[inline(always)]
pub fn f32_floor(a: u64) -> u64 {
    w32(sem::f32_floor(u32_(a)))
}

#[inline(always)]
pub fn f32_trunc(a: u64) -> u64 {
    w32(sem::f32_trunc(u32_(a)))
}

#[inline(always)]
pub fn f32_nearest(a: u64) -> u64 {
    w32(sem::f32_nearest(u32_(a)))
}

#[inline(always)]
pub fn f32_sqrt(a: u64) -> u64 {
    w32(sem::f32_sqrt(u32_(a)))
}

#[inline(always)]
pub fn f32_add(a: u64, c: u64) -> u64 {
    w32(sem::f32_add(u32_(a), u32_(c)))
}

#[inline(always)]
pub fn f32_sub(a: u64, c: u64) -> u64 {
    w32(sem::f32_sub(u32_(a), u32_(c)))
}

#[inline(always)]
pub fn f32_mul(a: u64, c: u64) -> u64 {
    w32(sem::f32_mul(u32_(a), u32_(c)))
}

#[inline(always)]
pub fn f32_div(a: u64, c: u64) -> u64 {
    w32(sem::f32_div(u32_(a), u32_(c)))
}

#[inline(always)]
pub fn f32_min(a: u64, c: u64) -> u64 {
    w32(sem::f32_min(u32_(a), u32_(c)))
}

#[inline(always)]
pub fn f32_max(a: u64, c: u64) -> u64 {
    w32(sem::f32_max(u32_(a), u32_(c)))
}

#[inline(always)]
pub fn f32_copysign(a: u64, c: u64) -> u64 {
    w32(sem::f32_copysign(u32_(a), u32_(c)))
}

#[inline(always)]
pub fn f64_abs(a: u64) -> u64 {
    sem::f64_abs(a)
}

#[inline(always)]
pub fn f64_neg(a: u64) -> u64 {
    sem::f64_neg(a)
}

#[inline(always)]
pub fn f64_ceil(a: u64) -> u64 {
    sem::f64_ceil(a)
}

#[inline(always)]
pub fn f64_floor(a: u64) -> u64 {
    sem::f64_floor(a)
}

#[inline(always)]
pub fn f64_trunc(a: u64) -> u64 {
    sem::f64_trunc(a)
}

#[inline(always)]
pub fn f64_nearest(a: u64) -> u64 {
    sem::f64_nearest(a)
}

#[inline(always)]
pub fn f64_sqrt(a: u64) -> u64 {
    sem::f64_sqrt(a)
}

#[inline(always)]
pub fn f64_add(a: u64, c: u64) -> u64 {
    sem::f64_add(a, c)
}

#[inline(always)]
pub fn f64_sub(a: u64, c: u64) -> u64 {
    sem::f64_sub(a, c)
}

#[inline(always)]
pub fn f64_mul(a: u64, c: u64) -> u64 {
    sem::f64_mul(a, c)
}

#[inline(always)]
pub fn f64_div(a: u64, c: u64) -> u64 {
    sem::f64_div(a, c)
}

#[inline(always)]
pub fn f64_min(a: u64, c: u64) -> u64 {
    sem::f64_min(a, c)
}

#[inline(always)]
pub fn f64_max(a: u64, c: u64) -> u64 {
    sem::f64_max(a, c)
}

#[inline(always)]
pub fn f64_copysign(a: u64, c: u64) -> u64 {
    sem::f64_copysign(a, c)
}

#[inline(always)]
pub fn i32_wrap_i64(a: u64) -> u64 {
    a as u32 as u64
}

#[inline(always)]
pub fn i32_trunc_f32_s(a: u64) -> Result<u64, Trap> {
    sem::i32_trunc_f32_s(u32_(a)).map(|v| w32(v as u32))
}

#[inline(always)]
pub fn i32_trunc_f32_u(a: u64) -> Result<u64, Trap> {
    sem::i32_trunc_f32_u(u32_(a)).map(w32)
}

#[inline(always)]
pub fn i32_trunc_f64_s(a: u64) -> Result<u64, Trap> {
    sem::i32_trunc_f64_s(a).map(|v| w32(v as u32))
}

#[inline(always)]
pub fn i32_trunc_f64_u(a: u64) -> Result<u64, Trap> {
    sem::i32_trunc_f64_u(a).map(w32)
}

#[inline(always)]
pub fn i64_extend_i32_s(a: u64) -> u64 {
    i32_(a) as i64 as u64
}

#[inline(always)]
pub fn i64_extend_i32_u(a: u64) -> u64 {
    u32_(a) as u64
}

#[inline(always)]
pub fn i64_trunc_f32_s(a: u64) -> Result<u64, Trap> {
    sem::i64_trunc_f32_s(u32_(a)).map(|v| v as u64)
}

#[inline(always)]
pub fn i64_trunc_f32_u(a: u64) -> Result<u64, Trap> {
    sem::i64_trunc_f32_u(u32_(a))
}

#[inline(always)]
pub fn i64_trunc_f64_s(a: u64) -> Result<u64, Trap> {
    sem::i64_trunc_f64_s(a).map(|v| v as u64)
}

#[inline(always)]
pub fn i64_trunc_f64_u(a: u64) -> Result<u64, Trap> {
    sem::i64_trunc_f64_u(a)
}

#[inline(always)]
pub fn f32_convert_i32_s(a: u64) -> u64 {
    w32((i32_(a) as f32).to_bits())
}

#[inline(always)]
pub fn f32_convert_i32_u(a: u64) -> u64 {
    w32((u32_(a) as f32).to_bits())
}

#[inline(always)]
pub fn f32_convert_i64_s(a: u64) -> u64 {
    w32((a as i64 as f32).to_bits())
}

#[inline(always)]
pub fn f32_convert_i64_u(a: u64) -> u64 {
    w32((a as f32).to_bits())
}

#[inline(always)]
pub fn f32_demote_f64(a: u64) -> u64 {
    w32(sem::f32_demote_f64(a))
}

#[inline(always)]
pub fn f64_convert_i32_s(a: u64) -> u64 {
    (i32_(a) as f64).to_bits()
}

#[inline(always)]
pub fn f64_convert_i32_u(a: u64) -> u64 {
    (u32_(a) as f64).to_bits()
}

#[inline(always)]
pub fn f64_convert_i64_s(a: u64) -> u64 {
    (a as i64 as f64).to_bits()
}

#[inline(always)]
pub fn f64_convert_i64_u(a: u64) -> u64 {
    (a as f64).to_bits()
}

#[inline(always)]
pub fn f64_promote_f32(a: u64) -> u64 {
    sem::f64_promote_f32(u32_(a))
}

#[inline(always)]
pub fn i32_extend8_s(a: u64) -> u64 {
    w32(a as u8 as i8 as i32 as u32)
}

#[inline(always)]
pub fn i32_extend16_s(a: u64) -> u64 {
    w32(a as u16 as i16 as i32 as u32)
}

#[inline(always)]
pub fn i64_extend8_s(a: u64) -> u64 {
    a as u8 as i8 as i64 as u64
}

#[inline(always)]
pub fn i64_extend16_s(a: u64) -> u64 {
    a as u16 as i16 as i64 as u64
}

#[inline(always)]
pub fn i64_extend32_s(a: u64) -> u64 {
    a as u32 as i32 as i64 as u64
}

#[inline(always)]
pub fn i32_trunc_sat_f32_s(a: u64) -> u64 {
    w32(sem::i32_trunc_sat_f32_s(u32_(a)) as u32)
}

#[inline(always)]
pub fn i32_trunc_sat_f32_u(a: u64) -> u64 {
    w32(sem::i32_trunc_sat_f32_u(u32_(a)))
}

#[inline(always)]
pub fn i32_trunc_sat_f64_s(a: u64) -> u64 {
    w32(sem::i32_trunc_sat_f64_s(a) as u32)
}

#[inline(always)]
pub fn i32_trunc_sat_f64_u(a: u64) -> u64 {
    w32(sem::i32_trunc_sat_f64_u(a))
}

#[inline(always)]
pub fn i64_trunc_sat_f32_s(a: u64) -> u64 {
    sem::i64_trunc_sat_f32_s(u32_(a)) as u64
}

#[inline(always)]
pub fn i64_trunc_sat_f32_u(a: u64) -> u64 {
    sem::i64_trunc_sat_f32_u(u32_(a))
}

#[inline(always)]
pub fn i64_trunc_sat_f64_s(a: u64) -> u64 {
    sem::i64_trunc_sat_f64_s(a) as u64
}

#[inline(always)]
pub fn i64_trunc_sat_f64_u(a: u64) -> u64 {
    sem::i64_trunc_sat_f64_u(a)
}

impl crate::code::BinOp {
    /// The operator on two words: the same function its unfused op runs.
    #[inline(always)]
    pub fn apply(self, a: u64, c: u64) -> u64 {
        use crate::code::BinOp as B;
        match self {
            B::I32Eq => i32_eq(a, c),
            B::I32Ne => i32_ne(a, c),
            B::I32LtS => i32_lt_s(a, c),
            B::I32LtU => i32_lt_u(a, c),
            B::I32GtS => i32_gt_s(a, c),
            B::I32GtU => i32_gt_u(a, c),
            B::I32LeS => i32_le_s(a, c),
            B::I32LeU => i32_le_u(a, c),
            B::I32GeS => i32_ge_s(a, c),
            B::I32GeU => i32_ge_u(a, c),
            B::I64Eq => i64_eq(a, c),
            B::I64Ne => i64_ne(a, c),
            B::I64LtS => i64_lt_s(a, c),
            B::I64LtU => i64_lt_u(a, c),
            B::I64GtS => i64_gt_s(a, c),
            B::I64GtU => i64_gt_u(a, c),
            B::I64LeS => i64_le_s(a, c),
            B::I64LeU => i64_le_u(a, c),
            B::I64GeS => i64_ge_s(a, c),
            B::I64GeU => i64_ge_u(a, c),
            B::I32Add => i32_add(a, c),
            B::I32Sub => i32_sub(a, c),
            B::I32Mul => i32_mul(a, c),
            B::I32And => i32_and(a, c),
            B::I32Or => i32_or(a, c),
            B::I32Xor => i32_xor(a, c),
            B::I32Shl => i32_shl(a, c),
            B::I32ShrS => i32_shr_s(a, c),
            B::I32ShrU => i32_shr_u(a, c),
            B::I32Rotl => i32_rotl(a, c),
            B::I32Rotr => i32_rotr(a, c),
            B::I64Add => i64_add(a, c),
            B::I64Sub => i64_sub(a, c),
            B::I64Mul => i64_mul(a, c),
            B::I64And => i64_and(a, c),
            B::I64Or => i64_or(a, c),
            B::I64Xor => i64_xor(a, c),
            B::I64Shl => i64_shl(a, c),
            B::I64ShrS => i64_shr_s(a, c),
            B::I64ShrU => i64_shr_u(a, c),
            B::I64Rotl => i64_rotl(a, c),
            B::I64Rotr => i64_rotr(a, c),
        }
    }
}
