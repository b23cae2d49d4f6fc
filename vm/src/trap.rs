//! Trap kinds. The numeric code of each kind is a consensus value: the machine hash commits to it.

use std::fmt;

/// Why a machine stopped abnormally. Codes are stable (see [`Trap::code`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Trap {
    Unreachable,
    IntegerDivideByZero,
    IntegerOverflow,
    InvalidConversionToInteger,
    MemoryOutOfBounds,
    TableOutOfBounds,
    /// `call_indirect` with an index past the end of the table.
    UndefinedElement,
    /// `call_indirect` through a null table entry.
    UninitializedElement,
    IndirectCallTypeMismatch,
    /// More than [`crate::limits::MAX_CALL_DEPTH`] frames.
    CallStackExhausted,
    /// More than [`crate::limits::MAX_VALUE_STACK`] value slots.
    ValueStackExhausted,
    /// A `run` or native replay used up its step (fuel) budget. Never stored in a machine: a budget is
    /// the caller's limit, not part of the execution.
    StepLimitReached,
    /// A host function refused the call (bad arguments from the guest, missing data).
    Host(u32),
}

/// Host trap codes are 31-bit: the top bit of a trap code marks a host trap.
const HOST_BIT: u32 = 0x8000_0000;

impl Trap {
    /// The code the machine hash commits to (host codes keep their low 31 bits).
    pub fn code(self) -> u32 {
        match self {
            Trap::Unreachable => 1,
            Trap::IntegerDivideByZero => 2,
            Trap::IntegerOverflow => 3,
            Trap::InvalidConversionToInteger => 4,
            Trap::MemoryOutOfBounds => 5,
            Trap::TableOutOfBounds => 6,
            Trap::UndefinedElement => 7,
            Trap::UninitializedElement => 8,
            Trap::IndirectCallTypeMismatch => 9,
            Trap::CallStackExhausted => 10,
            Trap::ValueStackExhausted => 11,
            Trap::StepLimitReached => 12,
            Trap::Host(code) => HOST_BIT | (code & !HOST_BIT),
        }
    }

    /// The inverse of [`Trap::code`]; `None` for codes no trap has.
    pub fn from_code(code: u32) -> Option<Trap> {
        Some(match code {
            1 => Trap::Unreachable,
            2 => Trap::IntegerDivideByZero,
            3 => Trap::IntegerOverflow,
            4 => Trap::InvalidConversionToInteger,
            5 => Trap::MemoryOutOfBounds,
            6 => Trap::TableOutOfBounds,
            7 => Trap::UndefinedElement,
            8 => Trap::UninitializedElement,
            9 => Trap::IndirectCallTypeMismatch,
            10 => Trap::CallStackExhausted,
            11 => Trap::ValueStackExhausted,
            12 => Trap::StepLimitReached,
            c if c & HOST_BIT != 0 => Trap::Host(c & !HOST_BIT),
            _ => return None,
        })
    }

    /// The message the WebAssembly spec suite uses for this trap.
    pub fn message(self) -> &'static str {
        match self {
            Trap::Unreachable => "unreachable",
            Trap::IntegerDivideByZero => "integer divide by zero",
            Trap::IntegerOverflow => "integer overflow",
            Trap::InvalidConversionToInteger => "invalid conversion to integer",
            Trap::MemoryOutOfBounds => "out of bounds memory access",
            Trap::TableOutOfBounds => "out of bounds table access",
            Trap::UndefinedElement => "undefined element",
            Trap::UninitializedElement => "uninitialized element",
            Trap::IndirectCallTypeMismatch => "indirect call type mismatch",
            Trap::CallStackExhausted => "call stack exhausted",
            Trap::ValueStackExhausted => "value stack exhausted",
            Trap::StepLimitReached => "step limit reached",
            Trap::Host(_) => "host function error",
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trap::Host(code) => write!(f, "host function error (code {code})"),
            other => f.write_str(other.message()),
        }
    }
}

impl std::error::Error for Trap {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        let all = [
            Trap::Unreachable,
            Trap::IntegerDivideByZero,
            Trap::IntegerOverflow,
            Trap::InvalidConversionToInteger,
            Trap::MemoryOutOfBounds,
            Trap::TableOutOfBounds,
            Trap::UndefinedElement,
            Trap::UninitializedElement,
            Trap::IndirectCallTypeMismatch,
            Trap::CallStackExhausted,
            Trap::ValueStackExhausted,
            Trap::StepLimitReached,
            Trap::Host(0),
            Trap::Host(77),
        ];
        for t in all {
            assert_eq!(Trap::from_code(t.code()), Some(t), "{t}");
        }
        assert_eq!(Trap::from_code(0), None);
        assert_eq!(Trap::from_code(13), None);
    }
}
