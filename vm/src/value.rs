//! Values as the host sees them, and their one-word encoding inside the machine.
//!
//! Inside the interpreter every value is an untyped 64-bit word: a validated module fixes the type of
//! every stack slot statically, so the word needs no tag and the machine hash stays small. The
//! encoding below is a consensus format (the machine hash commits to these words):
//!
//! | type      | word                                                   |
//! |-----------|--------------------------------------------------------|
//! | i32       | zero-extended `u32` bits                               |
//! | i64       | `u64` bits                                             |
//! | f32       | zero-extended IEEE-754 bits                            |
//! | f64       | IEEE-754 bits                                          |
//! | funcref   | function index + 1; null is 0                          |
//! | externref | host-chosen `u32` + 1; null is 0                       |
//!
//! Null being the zero word means every default (locals, new table slots, fresh memory) is all-zero,
//! so initialising state never needs a typed fill.

use std::fmt;

/// The word that encodes a null reference of either reference type.
pub const NULL_REF: u64 = 0;

/// The value types of WebAssembly 2.0 without SIMD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    FuncRef,
    ExternRef,
}

impl ValType {
    /// The WebAssembly binary type code (what commitments encode).
    pub fn code(self) -> u8 {
        match self {
            ValType::I32 => 0x7f,
            ValType::I64 => 0x7e,
            ValType::F32 => 0x7d,
            ValType::F64 => 0x7c,
            ValType::FuncRef => 0x70,
            ValType::ExternRef => 0x6f,
        }
    }

    pub fn from_code(code: u8) -> Option<ValType> {
        Some(match code {
            0x7f => ValType::I32,
            0x7e => ValType::I64,
            0x7d => ValType::F32,
            0x7c => ValType::F64,
            0x70 => ValType::FuncRef,
            0x6f => ValType::ExternRef,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A typed value crossing the host boundary (arguments, results, host calls).
/// Floats are carried as raw bits so NaN payloads survive unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    FuncRef(Option<u32>),
    ExternRef(Option<u32>),
}

impl Value {
    pub fn ty(&self) -> ValType {
        match self {
            Value::I32(_) => ValType::I32,
            Value::I64(_) => ValType::I64,
            Value::F32(_) => ValType::F32,
            Value::F64(_) => ValType::F64,
            Value::FuncRef(_) => ValType::FuncRef,
            Value::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The machine word of this value (see the module table).
    pub fn to_word(self) -> u64 {
        match self {
            Value::I32(v) => v as u32 as u64,
            Value::I64(v) => v as u64,
            Value::F32(bits) => bits as u64,
            Value::F64(bits) => bits,
            Value::FuncRef(r) | Value::ExternRef(r) => r.map_or(NULL_REF, |i| i as u64 + 1),
        }
    }

    /// Reads a machine word back as a value of type `ty`.
    pub fn from_word(ty: ValType, word: u64) -> Value {
        let reference = || (word != NULL_REF).then(|| (word - 1) as u32);
        match ty {
            ValType::I32 => Value::I32(word as u32 as i32),
            ValType::I64 => Value::I64(word as i64),
            ValType::F32 => Value::F32(word as u32),
            ValType::F64 => Value::F64(word),
            ValType::FuncRef => Value::FuncRef(reference()),
            ValType::ExternRef => Value::ExternRef(reference()),
        }
    }

    /// The zero value of a type (what locals and new table slots start as).
    pub fn default_for(ty: ValType) -> Value {
        Value::from_word(ty, default_word(ty))
    }

    /// Parses the CLI's `type:value` form, e.g. `i32:7`, `i64:-1`, `f64:0.5`, `f32:nan`.
    pub fn parse(text: &str) -> Result<Value, String> {
        let (ty, lit) = text
            .split_once(':')
            .ok_or_else(|| format!("argument `{text}` must look like TYPE:VALUE, e.g. i32:7"))?;
        let bad = |e: &dyn fmt::Display| format!("argument `{text}`: {e}");
        Ok(match ty {
            "i32" => Value::I32(parse_int::<i32>(lit).map_err(|e| bad(&e))?),
            "i64" => Value::I64(parse_int::<i64>(lit).map_err(|e| bad(&e))?),
            "f32" => Value::F32(lit.parse::<f32>().map_err(|e| bad(&e))?.to_bits()),
            "f64" => Value::F64(lit.parse::<f64>().map_err(|e| bad(&e))?.to_bits()),
            _ => {
                return Err(format!(
                    "argument `{text}`: unknown type `{ty}` (use i32, i64, f32 or f64)"
                ))
            }
        })
    }
}

/// Accepts signed decimal, and unsigned decimal or `0x` hex up to the full bit width.
fn parse_int<S>(lit: &str) -> Result<S, String>
where
    S: TryFrom<i128>,
{
    let wide: i128 = if let Some(hex) = lit.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).map_err(|e| e.to_string())?
    } else {
        lit.parse::<i128>().map_err(|e| e.to_string())?
    };
    let bits = std::mem::size_of::<S>() as u32 * 8;
    let unsigned_max = (1i128 << bits) - 1;
    let signed_min = -(1i128 << (bits - 1));
    if wide < signed_min || wide > unsigned_max {
        return Err(format!("{lit} does not fit in {bits} bits"));
    }
    // Values above the signed range are read as their two's-complement bit pattern.
    let wrapped = if wide > unsigned_max >> 1 {
        wide - (1i128 << bits)
    } else {
        wide
    };
    S::try_from(wrapped).map_err(|_| format!("{lit} does not fit in {bits} bits"))
}

pub(crate) fn default_word(_ty: ValType) -> u64 {
    0
}

impl fmt::Display for Value {
    /// `type:value`, the CLI's output form. Floats print their value and, for NaN, the bits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
            Value::F32(bits) => {
                let v = f32::from_bits(bits);
                if v.is_nan() {
                    write!(f, "f32:nan(0x{bits:08x})")
                } else {
                    write!(f, "f32:{v:?}")
                }
            }
            Value::F64(bits) => {
                let v = f64::from_bits(bits);
                if v.is_nan() {
                    write!(f, "f64:nan(0x{bits:016x})")
                } else {
                    write!(f, "f64:{v:?}")
                }
            }
            Value::FuncRef(None) => write!(f, "funcref:null"),
            Value::FuncRef(Some(i)) => write!(f, "funcref:{i}"),
            Value::ExternRef(None) => write!(f, "externref:null"),
            Value::ExternRef(Some(i)) => write!(f, "externref:{i}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cli_arguments() {
        assert_eq!(Value::parse("i32:7"), Ok(Value::I32(7)));
        assert_eq!(Value::parse("i32:-1"), Ok(Value::I32(-1)));
        assert_eq!(Value::parse("i32:4294967295"), Ok(Value::I32(-1)));
        assert_eq!(Value::parse("i32:0x80000000"), Ok(Value::I32(i32::MIN)));
        assert_eq!(Value::parse("i64:-1"), Ok(Value::I64(-1)));
        assert_eq!(Value::parse("f64:0.5"), Ok(Value::F64(0.5f64.to_bits())));
        assert!(Value::parse("i32:4294967296").is_err());
        assert!(Value::parse("i32").is_err());
        assert!(Value::parse("v128:0").is_err());
    }

    #[test]
    fn words_round_trip() {
        for v in [
            Value::I32(-5),
            Value::I64(i64::MIN),
            Value::F32(0x7fc0_0001),
            Value::F64(1.5f64.to_bits()),
            Value::FuncRef(None),
            Value::FuncRef(Some(3)),
            Value::ExternRef(Some(0)),
        ] {
            assert_eq!(Value::from_word(v.ty(), v.to_word()), v);
        }
    }
}
