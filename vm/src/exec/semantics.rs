//! Pure instruction semantics: the one definition of every numeric WebAssembly operator that both the
//! interpreter and the one-step checker execute.
//!
//! Consensus rules beyond the spec's own: every float operation that can produce a NaN returns the
//! canonical NaN (positive, quiet, zero payload), so two machines agree bit for bit. `neg`, `abs`,
//! `copysign`, loads, stores and reinterpretations are bit operations and keep payloads untouched,
//! exactly as the spec requires.

use crate::Trap;

pub const CANONICAL_NAN_F32: u32 = 0x7fc0_0000;
pub const CANONICAL_NAN_F64: u64 = 0x7ff8_0000_0000_0000;

#[inline(always)]
pub fn canon_f32(x: f32) -> u32 {
    if x.is_nan() {
        CANONICAL_NAN_F32
    } else {
        x.to_bits()
    }
}

#[inline(always)]
pub fn canon_f64(x: f64) -> u64 {
    if x.is_nan() {
        CANONICAL_NAN_F64
    } else {
        x.to_bits()
    }
}

// ---- integer arithmetic that can trap -------------------------------------------------------

#[inline(always)]
pub fn i32_div_s(a: i32, b: i32) -> Result<i32, Trap> {
    if b == 0 {
        Err(Trap::IntegerDivideByZero)
    } else if a == i32::MIN && b == -1 {
        Err(Trap::IntegerOverflow)
    } else {
        Ok(a / b)
    }
}

#[inline(always)]
pub fn i32_div_u(a: u32, b: u32) -> Result<u32, Trap> {
    a.checked_div(b).ok_or(Trap::IntegerDivideByZero)
}

#[inline(always)]
pub fn i32_rem_s(a: i32, b: i32) -> Result<i32, Trap> {
    if b == 0 {
        Err(Trap::IntegerDivideByZero)
    } else {
        Ok(a.wrapping_rem(b))
    }
}

#[inline(always)]
pub fn i32_rem_u(a: u32, b: u32) -> Result<u32, Trap> {
    a.checked_rem(b).ok_or(Trap::IntegerDivideByZero)
}

#[inline(always)]
pub fn i64_div_s(a: i64, b: i64) -> Result<i64, Trap> {
    if b == 0 {
        Err(Trap::IntegerDivideByZero)
    } else if a == i64::MIN && b == -1 {
        Err(Trap::IntegerOverflow)
    } else {
        Ok(a / b)
    }
}

#[inline(always)]
pub fn i64_div_u(a: u64, b: u64) -> Result<u64, Trap> {
    a.checked_div(b).ok_or(Trap::IntegerDivideByZero)
}

#[inline(always)]
pub fn i64_rem_s(a: i64, b: i64) -> Result<i64, Trap> {
    if b == 0 {
        Err(Trap::IntegerDivideByZero)
    } else {
        Ok(a.wrapping_rem(b))
    }
}

#[inline(always)]
pub fn i64_rem_u(a: u64, b: u64) -> Result<u64, Trap> {
    a.checked_rem(b).ok_or(Trap::IntegerDivideByZero)
}

// ---- float arithmetic -----------------------------------------------------------------------

macro_rules! float_ops {
    ($t:ty, $bits:ty, $canon:ident, $sign:expr,
     $add:ident, $sub:ident, $mul:ident, $div:ident, $min:ident, $max:ident, $sqrt:ident,
     $ceil:ident, $floor:ident, $trunc:ident, $nearest:ident, $abs:ident, $neg:ident, $copysign:ident) => {
        #[inline(always)]
        pub fn $add(a: $bits, b: $bits) -> $bits {
            $canon(<$t>::from_bits(a) + <$t>::from_bits(b))
        }
        #[inline(always)]
        pub fn $sub(a: $bits, b: $bits) -> $bits {
            $canon(<$t>::from_bits(a) - <$t>::from_bits(b))
        }
        #[inline(always)]
        pub fn $mul(a: $bits, b: $bits) -> $bits {
            $canon(<$t>::from_bits(a) * <$t>::from_bits(b))
        }
        #[inline(always)]
        pub fn $div(a: $bits, b: $bits) -> $bits {
            $canon(<$t>::from_bits(a) / <$t>::from_bits(b))
        }
        /// NaN if either is NaN; -0 is less than +0.
        #[inline(always)]
        pub fn $min(a: $bits, b: $bits) -> $bits {
            let (x, y) = (<$t>::from_bits(a), <$t>::from_bits(b));
            if x.is_nan() || y.is_nan() {
                $canon(<$t>::NAN)
            } else if x == y {
                a | b // equal values differ only for zeros: min(-0, +0) = -0
            } else if x < y {
                a
            } else {
                b
            }
        }
        #[inline(always)]
        pub fn $max(a: $bits, b: $bits) -> $bits {
            let (x, y) = (<$t>::from_bits(a), <$t>::from_bits(b));
            if x.is_nan() || y.is_nan() {
                $canon(<$t>::NAN)
            } else if x == y {
                a & b // max(-0, +0) = +0
            } else if x > y {
                a
            } else {
                b
            }
        }
        #[inline(always)]
        pub fn $sqrt(a: $bits) -> $bits {
            $canon(<$t>::from_bits(a).sqrt())
        }
        #[inline(always)]
        pub fn $ceil(a: $bits) -> $bits {
            $canon(<$t>::from_bits(a).ceil())
        }
        #[inline(always)]
        pub fn $floor(a: $bits) -> $bits {
            $canon(<$t>::from_bits(a).floor())
        }
        #[inline(always)]
        pub fn $trunc(a: $bits) -> $bits {
            $canon(<$t>::from_bits(a).trunc())
        }
        #[inline(always)]
        pub fn $nearest(a: $bits) -> $bits {
            $canon(<$t>::from_bits(a).round_ties_even())
        }
        #[inline(always)]
        pub fn $abs(a: $bits) -> $bits {
            a & !$sign
        }
        #[inline(always)]
        pub fn $neg(a: $bits) -> $bits {
            a ^ $sign
        }
        #[inline(always)]
        pub fn $copysign(a: $bits, b: $bits) -> $bits {
            (a & !$sign) | (b & $sign)
        }
    };
}

float_ops!(
    f32,
    u32,
    canon_f32,
    0x8000_0000u32,
    f32_add,
    f32_sub,
    f32_mul,
    f32_div,
    f32_min,
    f32_max,
    f32_sqrt,
    f32_ceil,
    f32_floor,
    f32_trunc,
    f32_nearest,
    f32_abs,
    f32_neg,
    f32_copysign
);
float_ops!(
    f64,
    u64,
    canon_f64,
    0x8000_0000_0000_0000u64,
    f64_add,
    f64_sub,
    f64_mul,
    f64_div,
    f64_min,
    f64_max,
    f64_sqrt,
    f64_ceil,
    f64_floor,
    f64_trunc,
    f64_nearest,
    f64_abs,
    f64_neg,
    f64_copysign
);

// ---- conversions ----------------------------------------------------------------------------

/// Checks the open interval (lo, hi) of a trapping float-to-int truncation, in f64 (exact for every
/// f32 and for the bounds used).
#[inline(always)]
fn trunc_check(x: f64, lo_exclusive: f64, hi_exclusive: f64) -> Result<(), Trap> {
    if x.is_nan() {
        Err(Trap::InvalidConversionToInteger)
    } else if x <= lo_exclusive || x >= hi_exclusive {
        Err(Trap::IntegerOverflow)
    } else {
        Ok(())
    }
}

const TWO_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_64: f64 = 18_446_744_073_709_551_616.0;

#[inline(always)]
pub fn i32_trunc_f32_s(a: u32) -> Result<i32, Trap> {
    let x = f32::from_bits(a) as f64;
    trunc_check(x, -2_147_483_649.0, 2_147_483_648.0).map(|()| x as i32)
}
#[inline(always)]
pub fn i32_trunc_f32_u(a: u32) -> Result<u32, Trap> {
    let x = f32::from_bits(a) as f64;
    trunc_check(x, -1.0, 4_294_967_296.0).map(|()| x as u32)
}
#[inline(always)]
pub fn i32_trunc_f64_s(a: u64) -> Result<i32, Trap> {
    let x = f64::from_bits(a);
    trunc_check(x, -2_147_483_649.0, 2_147_483_648.0).map(|()| x as i32)
}
#[inline(always)]
pub fn i32_trunc_f64_u(a: u64) -> Result<u32, Trap> {
    let x = f64::from_bits(a);
    trunc_check(x, -1.0, 4_294_967_296.0).map(|()| x as u32)
}
/// -2^63 itself is representable and valid, so the lower check is inclusive there.
#[inline(always)]
fn trunc_check_i64_s(x: f64) -> Result<(), Trap> {
    if x.is_nan() {
        Err(Trap::InvalidConversionToInteger)
    } else if !(-TWO_63..TWO_63).contains(&x) {
        Err(Trap::IntegerOverflow)
    } else {
        Ok(())
    }
}
#[inline(always)]
pub fn i64_trunc_f32_s(a: u32) -> Result<i64, Trap> {
    let x = f32::from_bits(a) as f64;
    trunc_check_i64_s(x).map(|()| x as i64)
}
#[inline(always)]
pub fn i64_trunc_f32_u(a: u32) -> Result<u64, Trap> {
    let x = f32::from_bits(a) as f64;
    trunc_check(x, -1.0, TWO_64).map(|()| x as u64)
}
#[inline(always)]
pub fn i64_trunc_f64_s(a: u64) -> Result<i64, Trap> {
    let x = f64::from_bits(a);
    trunc_check_i64_s(x).map(|()| x as i64)
}
#[inline(always)]
pub fn i64_trunc_f64_u(a: u64) -> Result<u64, Trap> {
    let x = f64::from_bits(a);
    trunc_check(x, -1.0, TWO_64).map(|()| x as u64)
}

// Saturating truncations: Rust's `as` saturates and maps NaN to 0, which is the spec's definition.
#[inline(always)]
pub fn i32_trunc_sat_f32_s(a: u32) -> i32 {
    f32::from_bits(a) as i32
}
#[inline(always)]
pub fn i32_trunc_sat_f32_u(a: u32) -> u32 {
    f32::from_bits(a) as u32
}
#[inline(always)]
pub fn i32_trunc_sat_f64_s(a: u64) -> i32 {
    f64::from_bits(a) as i32
}
#[inline(always)]
pub fn i32_trunc_sat_f64_u(a: u64) -> u32 {
    f64::from_bits(a) as u32
}
#[inline(always)]
pub fn i64_trunc_sat_f32_s(a: u32) -> i64 {
    f32::from_bits(a) as i64
}
#[inline(always)]
pub fn i64_trunc_sat_f32_u(a: u32) -> u64 {
    f32::from_bits(a) as u64
}
#[inline(always)]
pub fn i64_trunc_sat_f64_s(a: u64) -> i64 {
    f64::from_bits(a) as i64
}
#[inline(always)]
pub fn i64_trunc_sat_f64_u(a: u64) -> u64 {
    f64::from_bits(a) as u64
}

// Int-to-float: Rust's `as` rounds to nearest, ties to even, as the spec requires.
#[inline(always)]
pub fn f32_demote_f64(a: u64) -> u32 {
    canon_f32(f64::from_bits(a) as f32)
}
#[inline(always)]
pub fn f64_promote_f32(a: u32) -> u64 {
    canon_f64(f32::from_bits(a) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_results_are_canonical() {
        let snan = 0x7f80_0001u32;
        assert_eq!(f32_add(snan, 0), CANONICAL_NAN_F32);
        assert_eq!(f32_sqrt((-1.0f32).to_bits()), CANONICAL_NAN_F32);
        assert_eq!(
            f64_mul(0x7ff0_0000_0000_0001, 1.0f64.to_bits()),
            CANONICAL_NAN_F64
        );
        assert_eq!(f64_promote_f32(0xffc0_1234), CANONICAL_NAN_F64);
        // Bit operations keep the payload.
        assert_eq!(f32_neg(snan), snan | 0x8000_0000);
    }

    #[test]
    fn min_max_order_zeros() {
        let (pz, nz) = (0.0f32.to_bits(), (-0.0f32).to_bits());
        assert_eq!(f32_min(pz, nz), nz);
        assert_eq!(f32_max(nz, pz), pz);
    }

    #[test]
    fn trapping_truncation_bounds() {
        assert_eq!(i32_trunc_f32_s((-2147483648.0f32).to_bits()), Ok(i32::MIN));
        assert_eq!(
            i32_trunc_f32_s(2147483648.0f32.to_bits()),
            Err(Trap::IntegerOverflow)
        );
        assert_eq!(i32_trunc_f64_u((-0.9f64).to_bits()), Ok(0));
        assert_eq!(
            i32_trunc_f64_u((-1.0f64).to_bits()),
            Err(Trap::IntegerOverflow)
        );
        assert_eq!(i64_trunc_f64_s((-TWO_63).to_bits()), Ok(i64::MIN));
        assert_eq!(
            i64_trunc_f64_u(f64::NAN.to_bits()),
            Err(Trap::InvalidConversionToInteger)
        );
        assert_eq!(i32_div_s(i32::MIN, -1), Err(Trap::IntegerOverflow));
        assert_eq!(i32_rem_s(i32::MIN, -1), Ok(0));
    }
}
