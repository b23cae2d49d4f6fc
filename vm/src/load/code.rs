//! The lowered code: a flat array of [`Op`]s for all functions of a module. One `Op` is one machine
//! step, and every `Op` has bounded cost: bulk memory and table operations are split into a check
//! step and a loop step that handles at most one 32-byte memory leaf (or one table slot) per step,
//! keeping its progress in the operands on the value stack.
//!
//! Stack discipline: a frame's locals live in value-stack slots `fp .. fp + locals`, its operands
//! above them. `Br*` carry the statically known number of values to keep and to drop.

/// An index into the module's flat code.
pub type Pc = u32;

/// Where a taken branch goes and what it does to the operand stack: keep the top `keep` values, drop
/// the `drop` values below them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BranchTarget {
    pub pc: Pc,
    pub drop: u32,
    pub keep: u32,
}

/// Memory access immediate: the static offset (alignment hints have no semantics).
pub type Offset = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    // ---- control ----
    Unreachable,
    Br(BranchTarget),
    /// Pops an i32; branches if it is non-zero.
    BrIf(BranchTarget),
    /// Pops an i32; jumps to `pc` if it is zero (the `if` of structured control flow).
    BrUnless {
        pc: Pc,
    },
    /// Pops an i32 index; `len` entries at `start` of the module's branch table, the last one the default.
    BrTable {
        start: u32,
        len: u32,
    },
    /// Returns `results` values from the current frame.
    Return {
        results: u32,
    },
    Call {
        func: u32,
    },
    /// A call to an imported function: one step, served by the [`crate::Host`].
    CallHost {
        func: u32,
    },
    CallIndirect {
        type_index: u32,
        table: u32,
    },
    /// Pushes `count` zero words: a function prologue initialising non-parameter locals in bounded
    /// chunks (see [`crate::limits::LOCALS_PER_STEP`]).
    PushZeros {
        count: u32,
    },

    // ---- parametric ----
    Drop,
    Select,

    // ---- variables ----
    LocalGet(u32),
    LocalSet(u32),
    LocalTee(u32),
    GlobalGet(u32),
    GlobalSet(u32),

    // ---- tables ----
    TableGet(u32),
    TableSet(u32),
    TableSize(u32),
    /// Pops (init, n). On success pushes the old size, then the operands of a fill of the new slots
    /// (dst = old size, init, n) for the `TableFillStep` that always follows; on failure pushes -1 and
    /// skips that step.
    TableGrow(u32),
    TableFillCheck(u32),
    TableFillStep(u32),
    TableCopyCheck {
        dst: u32,
        src: u32,
    },
    TableCopyStep {
        dst: u32,
        src: u32,
    },
    TableInitCheck {
        table: u32,
        elem: u32,
    },
    TableInitStep {
        table: u32,
        elem: u32,
    },
    ElemDrop(u32),

    // ---- memory ----
    I32Load(Offset),
    I64Load(Offset),
    I32Load8S(Offset),
    I32Load8U(Offset),
    I32Load16S(Offset),
    I32Load16U(Offset),
    I64Load8S(Offset),
    I64Load8U(Offset),
    I64Load16S(Offset),
    I64Load16U(Offset),
    I64Load32S(Offset),
    I64Load32U(Offset),
    I32Store(Offset),
    I64Store(Offset),
    I32Store8(Offset),
    I32Store16(Offset),
    I64Store8(Offset),
    I64Store16(Offset),
    I64Store32(Offset),
    MemorySize,
    MemoryGrow,
    MemoryFillCheck,
    MemoryFillStep,
    MemoryCopyCheck,
    MemoryCopyStep,
    MemoryInitCheck(u32),
    MemoryInitStep(u32),
    DataDrop(u32),

    // ---- constants (all types: the word encoding of `crate::value`) ----
    Const(u64),

    // ---- numeric ----
    I32Eqz,
    I32Eq,
    I32Ne,
    I32LtS,
    I32LtU,
    I32GtS,
    I32GtU,
    I32LeS,
    I32LeU,
    I32GeS,
    I32GeU,
    I64Eqz,
    I64Eq,
    I64Ne,
    I64LtS,
    I64LtU,
    I64GtS,
    I64GtU,
    I64LeS,
    I64LeU,
    I64GeS,
    I64GeU,
    F32Eq,
    F32Ne,
    F32Lt,
    F32Gt,
    F32Le,
    F32Ge,
    F64Eq,
    F64Ne,
    F64Lt,
    F64Gt,
    F64Le,
    F64Ge,
    I32Clz,
    I32Ctz,
    I32Popcnt,
    I32Add,
    I32Sub,
    I32Mul,
    I32DivS,
    I32DivU,
    I32RemS,
    I32RemU,
    I32And,
    I32Or,
    I32Xor,
    I32Shl,
    I32ShrS,
    I32ShrU,
    I32Rotl,
    I32Rotr,
    I64Clz,
    I64Ctz,
    I64Popcnt,
    I64Add,
    I64Sub,
    I64Mul,
    I64DivS,
    I64DivU,
    I64RemS,
    I64RemU,
    I64And,
    I64Or,
    I64Xor,
    I64Shl,
    I64ShrS,
    I64ShrU,
    I64Rotl,
    I64Rotr,
    F32Abs,
    F32Neg,
    F32Ceil,
    F32Floor,
    F32Trunc,
    F32Nearest,
    F32Sqrt,
    F32Add,
    F32Sub,
    F32Mul,
    F32Div,
    F32Min,
    F32Max,
    F32Copysign,
    F64Abs,
    F64Neg,
    F64Ceil,
    F64Floor,
    F64Trunc,
    F64Nearest,
    F64Sqrt,
    F64Add,
    F64Sub,
    F64Mul,
    F64Div,
    F64Min,
    F64Max,
    F64Copysign,
    I32WrapI64,
    I32TruncF32S,
    I32TruncF32U,
    I32TruncF64S,
    I32TruncF64U,
    I64ExtendI32S,
    I64ExtendI32U,
    I64TruncF32S,
    I64TruncF32U,
    I64TruncF64S,
    I64TruncF64U,
    F32ConvertI32S,
    F32ConvertI32U,
    F32ConvertI64S,
    F32ConvertI64U,
    F32DemoteF64,
    F64ConvertI32S,
    F64ConvertI32U,
    F64ConvertI64S,
    F64ConvertI64U,
    F64PromoteF32,
    I32Extend8S,
    I32Extend16S,
    I64Extend8S,
    I64Extend16S,
    I64Extend32S,
    I32TruncSatF32S,
    I32TruncSatF32U,
    I32TruncSatF64S,
    I32TruncSatF64U,
    I64TruncSatF32S,
    I64TruncSatF32U,
    I64TruncSatF64S,
    I64TruncSatF64U,

    // ---- fused ops (superinstructions): one step for a run of the ops above that the translator
    // ---- found in straight-line code with no branch landing inside it. Each touches at most two
    // ---- locals and one operand more than its parts (three locals for the `...Set`/`...Tee`
    // ---- forms that also store their result), so its proof stays O(1).
    /// `const c; <op>`: `[a] -> [a op c]`.
    BinImm {
        op: BinOp,
        imm: u64,
    },
    /// `local.get x; <op>`: `[a] -> [a op x]`.
    BinLocal {
        op: BinOp,
        local: u32,
    },
    /// `local.get x; const c; <op>`: `[] -> [x op c]`.
    LocalBinImm {
        op: BinOp,
        local: u32,
        imm: u64,
    },
    /// `local.get x; local.get y; <op>`: `[] -> [x op y]`.
    LocalBinLocal {
        op: BinOp,
        a: u32,
        b: u32,
    },
    /// `<op>; br_if`: pops `[a, b]`, branches if `a op b` is non-zero (an i32 result).
    BrIfBin {
        op: BinOp,
        target: BranchTarget,
    },
    /// `i32.eqz; br_if`: pops an i32, branches if it is zero.
    BrIfEqz(BranchTarget),
    /// `BinImm` then `local.set dst`: `[a] -> []`, local `dst` = `a op c`.
    BinImmSet {
        op: BinOp,
        imm: u64,
        dst: u32,
    },
    /// `BinImm` then `local.tee dst`: `[a] -> [a op c]`, local `dst` too.
    BinImmTee {
        op: BinOp,
        imm: u64,
        dst: u32,
    },
    /// `BinLocal` then `local.set dst`.
    BinLocalSet {
        op: BinOp,
        local: u32,
        dst: u32,
    },
    /// `BinLocal` then `local.tee dst`.
    BinLocalTee {
        op: BinOp,
        local: u32,
        dst: u32,
    },
    /// `LocalBinLocal` then `local.set dst`: `[] -> []`, local `dst` = `x op y`.
    LocalBinLocalSet {
        op: BinOp,
        a: u32,
        b: u32,
        dst: u32,
    },
    /// `LocalBinLocal` then `local.tee dst`.
    LocalBinLocalTee {
        op: BinOp,
        a: u32,
        b: u32,
        dst: u32,
    },
    /// `LocalBinImm` then `local.set dst`, for a constant that fits 32 bits: the operand is
    /// [`imm32`]`(imm)` (sign-extended; i32 operators read only the low half anyway).
    LocalBinImm32Set {
        op: BinOp,
        local: u32,
        imm: u32,
        dst: u32,
    },
    /// `LocalBinImm` then `local.tee dst`, for a constant that fits 32 bits.
    LocalBinImm32Tee {
        op: BinOp,
        local: u32,
        imm: u32,
        dst: u32,
    },
}

/// The operand word of a 32-bit fused constant: sign-extended, so that an i64 constant in
/// `i32::MIN..=i32::MAX` keeps its value and an i32 constant keeps its low 32 bits.
#[inline(always)]
pub fn imm32(imm: u32) -> u64 {
    imm as i32 as i64 as u64
}

/// The integer binary operators that fused ops carry: every i32/i64 operator of two operands that
/// cannot trap (division and remainder can, and stay unfused so a fused op never traps). The
/// discriminant is the operator's WebAssembly opcode, which is also its byte in the encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum BinOp {
    I32Eq = 0x46,
    I32Ne = 0x47,
    I32LtS = 0x48,
    I32LtU = 0x49,
    I32GtS = 0x4a,
    I32GtU = 0x4b,
    I32LeS = 0x4c,
    I32LeU = 0x4d,
    I32GeS = 0x4e,
    I32GeU = 0x4f,
    I64Eq = 0x51,
    I64Ne = 0x52,
    I64LtS = 0x53,
    I64LtU = 0x54,
    I64GtS = 0x55,
    I64GtU = 0x56,
    I64LeS = 0x57,
    I64LeU = 0x58,
    I64GeS = 0x59,
    I64GeU = 0x5a,
    I32Add = 0x6a,
    I32Sub = 0x6b,
    I32Mul = 0x6c,
    I32And = 0x71,
    I32Or = 0x72,
    I32Xor = 0x73,
    I32Shl = 0x74,
    I32ShrS = 0x75,
    I32ShrU = 0x76,
    I32Rotl = 0x77,
    I32Rotr = 0x78,
    I64Add = 0x7c,
    I64Sub = 0x7d,
    I64Mul = 0x7e,
    I64And = 0x83,
    I64Or = 0x84,
    I64Xor = 0x85,
    I64Shl = 0x86,
    I64ShrS = 0x87,
    I64ShrU = 0x88,
    I64Rotl = 0x89,
    I64Rotr = 0x8a,
}

impl BinOp {
    /// Every fusable operator, in opcode order.
    pub const ALL: [BinOp; 42] = [
        BinOp::I32Eq,
        BinOp::I32Ne,
        BinOp::I32LtS,
        BinOp::I32LtU,
        BinOp::I32GtS,
        BinOp::I32GtU,
        BinOp::I32LeS,
        BinOp::I32LeU,
        BinOp::I32GeS,
        BinOp::I32GeU,
        BinOp::I64Eq,
        BinOp::I64Ne,
        BinOp::I64LtS,
        BinOp::I64LtU,
        BinOp::I64GtS,
        BinOp::I64GtU,
        BinOp::I64LeS,
        BinOp::I64LeU,
        BinOp::I64GeS,
        BinOp::I64GeU,
        BinOp::I32Add,
        BinOp::I32Sub,
        BinOp::I32Mul,
        BinOp::I32And,
        BinOp::I32Or,
        BinOp::I32Xor,
        BinOp::I32Shl,
        BinOp::I32ShrS,
        BinOp::I32ShrU,
        BinOp::I32Rotl,
        BinOp::I32Rotr,
        BinOp::I64Add,
        BinOp::I64Sub,
        BinOp::I64Mul,
        BinOp::I64And,
        BinOp::I64Or,
        BinOp::I64Xor,
        BinOp::I64Shl,
        BinOp::I64ShrS,
        BinOp::I64ShrU,
        BinOp::I64Rotl,
        BinOp::I64Rotr,
    ];

    /// The operator with WebAssembly opcode `byte`, if it is fusable.
    pub fn from_opcode(byte: u8) -> Option<BinOp> {
        BinOp::ALL.iter().copied().find(|op| *op as u8 == byte)
    }

    /// The fusable operator an unfused op is, if any: the numeric ops' opcodes are their
    /// WebAssembly opcodes, so the operator is the one with the op's opcode (no other op has it).
    pub fn of(op: Op) -> Option<BinOp> {
        BinOp::from_opcode(op.encode()[0])
    }

    /// Whether the operands are i32 (only their low 32 bits are read).
    pub fn takes_i32(self) -> bool {
        matches!(self as u8, 0x46..=0x4f | 0x6a..=0x78)
    }

    /// Whether the result is an i32 (what `br_if` can test).
    pub fn yields_i32(self) -> bool {
        // Everything but i64 arithmetic (0x7c..=0x8a): i32 operators and all comparisons.
        !matches!(self as u8, 0x7c..=0x8a)
    }
}

// ---------------------------------------------------------------------------------------------
// The 16-byte op encoding: a consensus format (the module's code tree commits to it, and a one-step
// proof reveals one code leaf = two encoded ops).
//
// | bytes  | field                                                                          |
// |--------|--------------------------------------------------------------------------------|
// | 0      | opcode (the table in `op_codec!` below; 0x00 is reserved so a zero slot is no op) |
// | 1      | fused ops (0xd0..=0xdd): the [`BinOp`]'s WebAssembly opcode; otherwise zero     |
// | 2..4   | zero                                                                           |
// | 4..16  | immediates in declaration order, little-endian, then zero:                     |
// |        | `u32` fields 4 bytes each (4..8, 8..12); `Const(u64)` at 4..12;                |
// |        | `BranchTarget { pc, drop, keep }` at 4..8, 8..12, 12..16                       |
//
// Opcode ranges: control 0x01..=0x0a, parametric 0x0b..=0x0c, variables 0x0d..=0x11, tables
// 0x12..=0x1c, memory 0x20..=0x3b, `Const` 0x44, and the numeric ops 0x45..=0xc4 carry their
// WebAssembly opcode (0xbc..=0xbf, the reinterprets, are lowered away and stay unassigned); the
// saturating truncations (WebAssembly `0xfc 0..=7`) are 0xc5..=0xcc; fused ops 0xd0..=0xdd.
//
// Decoding is canonical: any byte string `decode` accepts re-encodes to itself, so the code root
// has exactly one preimage per lowered program.
// ---------------------------------------------------------------------------------------------

/// Why 16 bytes are not an encoded [`Op`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("unknown opcode {0:#04x}")]
    UnknownOpcode(u8),
    #[error("op {opcode:#04x}: padding bytes 1..4 are not zero")]
    NonZeroPadding { opcode: u8 },
    #[error("op {opcode:#04x}: bytes past its immediates are not zero")]
    NonCanonical { opcode: u8 },
}

/// Bytes an encoded op occupies.
pub const OP_BYTES: usize = 16;

/// First byte of the immediates.
const IMMEDIATES_AT: usize = 4;

/// An immediate operand: fixed width, little-endian, written at a cursor inside bytes 4..16.
trait Immediate: Sized {
    fn put(self, bytes: &mut [u8; OP_BYTES], at: &mut usize);
    fn get(bytes: &[u8; OP_BYTES], at: &mut usize) -> Self;
}

impl Immediate for u32 {
    fn put(self, bytes: &mut [u8; OP_BYTES], at: &mut usize) {
        bytes[*at..*at + 4].copy_from_slice(&self.to_le_bytes());
        *at += 4;
    }
    fn get(bytes: &[u8; OP_BYTES], at: &mut usize) -> Self {
        let mut word = [0u8; 4];
        word.copy_from_slice(&bytes[*at..*at + 4]);
        *at += 4;
        u32::from_le_bytes(word)
    }
}

impl Immediate for u64 {
    fn put(self, bytes: &mut [u8; OP_BYTES], at: &mut usize) {
        bytes[*at..*at + 8].copy_from_slice(&self.to_le_bytes());
        *at += 8;
    }
    fn get(bytes: &[u8; OP_BYTES], at: &mut usize) -> Self {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[*at..*at + 8]);
        *at += 8;
        u64::from_le_bytes(word)
    }
}

impl Immediate for BranchTarget {
    fn put(self, bytes: &mut [u8; OP_BYTES], at: &mut usize) {
        self.pc.put(bytes, at);
        self.drop.put(bytes, at);
        self.keep.put(bytes, at);
    }
    fn get(bytes: &[u8; OP_BYTES], at: &mut usize) -> Self {
        BranchTarget {
            pc: u32::get(bytes, at),
            drop: u32::get(bytes, at),
            keep: u32::get(bytes, at),
        }
    }
}

/// A fused op's operator lives in byte 1, not at the cursor. An unknown byte decodes to a
/// placeholder that re-encodes differently, which [`Op::decode`]'s round-trip check refuses.
impl Immediate for BinOp {
    fn put(self, bytes: &mut [u8; OP_BYTES], _: &mut usize) {
        bytes[1] = self as u8;
    }
    fn get(bytes: &[u8; OP_BYTES], _: &mut usize) -> Self {
        BinOp::from_opcode(bytes[1]).unwrap_or(BinOp::I32Add)
    }
}

/// The opcode table, written once: it expands to `Op::encode` (an exhaustive match, so a new
/// variant without an opcode does not compile), `Op::decode`, and `OPCODE_COUNT`. A repeated opcode
/// or variant is an unreachable pattern, which is denied.
macro_rules! op_codec {
    ($( $code:literal => $name:ident $( ( $t:ident ) )? $( { $( $f:ident ),* } )? , )*) => {
        /// Number of assigned opcodes (= number of `Op` variants).
        pub const OPCODE_COUNT: usize = [$( $code ),*].len();

        impl Op {
            /// The 16-byte consensus encoding (table above).
            #[deny(unreachable_patterns)]
            pub fn encode(&self) -> [u8; OP_BYTES] {
                let mut bytes = [0u8; OP_BYTES];
                let mut at = IMMEDIATES_AT;
                match *self {
                    $(
                        Op::$name $( ( $t ) )? $( { $( $f ),* } )? => {
                            bytes[0] = $code;
                            $( Immediate::put($t, &mut bytes, &mut at); )?
                            $( $( Immediate::put($f, &mut bytes, &mut at); )* )?
                        }
                    )*
                }
                let _ = at;
                bytes
            }

            /// Inverse of [`Op::encode`]; rejects unknown opcodes, non-zero padding and non-zero
            /// bytes past the immediates, so `encode(decode(b)?) == b`.
            #[deny(unreachable_patterns)]
            pub fn decode(bytes: &[u8; OP_BYTES]) -> Result<Op, CodeError> {
                let opcode = bytes[0];
                if bytes[2..IMMEDIATES_AT].iter().any(|&b| b != 0) {
                    return Err(CodeError::NonZeroPadding { opcode });
                }
                let mut at = IMMEDIATES_AT;
                let op = match opcode {
                    $(
                        $code => Op::$name
                            $( ( { let $t = Immediate::get(bytes, &mut at); $t } ) )?
                            $( { $( $f: Immediate::get(bytes, &mut at) ),* } )?,
                    )*
                    unknown => return Err(CodeError::UnknownOpcode(unknown)),
                };
                if bytes[at..].iter().any(|&b| b != 0) {
                    return Err(CodeError::NonCanonical { opcode });
                }
                // Byte 1: zero, or a fused op's operator (an unknown one re-encodes differently).
                let canonical = op.encode();
                if canonical[1] != bytes[1] {
                    return Err(if canonical[1] == 0 {
                        CodeError::NonZeroPadding { opcode }
                    } else {
                        CodeError::NonCanonical { opcode }
                    });
                }
                Ok(op)
            }
        }
    };
}

op_codec! {
    0x01 => Unreachable,
    0x02 => Br(target),
    0x03 => BrIf(target),
    0x04 => BrUnless { pc },
    0x05 => BrTable { start, len },
    0x06 => Return { results },
    0x07 => Call { func },
    0x08 => CallHost { func },
    0x09 => CallIndirect { type_index, table },
    0x0a => PushZeros { count },
    0x0b => Drop,
    0x0c => Select,
    0x0d => LocalGet(index),
    0x0e => LocalSet(index),
    0x0f => LocalTee(index),
    0x10 => GlobalGet(index),
    0x11 => GlobalSet(index),
    0x12 => TableGet(index),
    0x13 => TableSet(index),
    0x14 => TableSize(index),
    0x15 => TableGrow(index),
    0x16 => TableFillCheck(index),
    0x17 => TableFillStep(index),
    0x18 => TableCopyCheck { dst, src },
    0x19 => TableCopyStep { dst, src },
    0x1a => TableInitCheck { table, elem },
    0x1b => TableInitStep { table, elem },
    0x1c => ElemDrop(index),
    0x20 => I32Load(offset),
    0x21 => I64Load(offset),
    0x22 => I32Load8S(offset),
    0x23 => I32Load8U(offset),
    0x24 => I32Load16S(offset),
    0x25 => I32Load16U(offset),
    0x26 => I64Load8S(offset),
    0x27 => I64Load8U(offset),
    0x28 => I64Load16S(offset),
    0x29 => I64Load16U(offset),
    0x2a => I64Load32S(offset),
    0x2b => I64Load32U(offset),
    0x2c => I32Store(offset),
    0x2d => I64Store(offset),
    0x2e => I32Store8(offset),
    0x2f => I32Store16(offset),
    0x30 => I64Store8(offset),
    0x31 => I64Store16(offset),
    0x32 => I64Store32(offset),
    0x33 => MemorySize,
    0x34 => MemoryGrow,
    0x35 => MemoryFillCheck,
    0x36 => MemoryFillStep,
    0x37 => MemoryCopyCheck,
    0x38 => MemoryCopyStep,
    0x39 => MemoryInitCheck(index),
    0x3a => MemoryInitStep(index),
    0x3b => DataDrop(index),
    0x44 => Const(word),
    0x45 => I32Eqz,
    0x46 => I32Eq,
    0x47 => I32Ne,
    0x48 => I32LtS,
    0x49 => I32LtU,
    0x4a => I32GtS,
    0x4b => I32GtU,
    0x4c => I32LeS,
    0x4d => I32LeU,
    0x4e => I32GeS,
    0x4f => I32GeU,
    0x50 => I64Eqz,
    0x51 => I64Eq,
    0x52 => I64Ne,
    0x53 => I64LtS,
    0x54 => I64LtU,
    0x55 => I64GtS,
    0x56 => I64GtU,
    0x57 => I64LeS,
    0x58 => I64LeU,
    0x59 => I64GeS,
    0x5a => I64GeU,
    0x5b => F32Eq,
    0x5c => F32Ne,
    0x5d => F32Lt,
    0x5e => F32Gt,
    0x5f => F32Le,
    0x60 => F32Ge,
    0x61 => F64Eq,
    0x62 => F64Ne,
    0x63 => F64Lt,
    0x64 => F64Gt,
    0x65 => F64Le,
    0x66 => F64Ge,
    0x67 => I32Clz,
    0x68 => I32Ctz,
    0x69 => I32Popcnt,
    0x6a => I32Add,
    0x6b => I32Sub,
    0x6c => I32Mul,
    0x6d => I32DivS,
    0x6e => I32DivU,
    0x6f => I32RemS,
    0x70 => I32RemU,
    0x71 => I32And,
    0x72 => I32Or,
    0x73 => I32Xor,
    0x74 => I32Shl,
    0x75 => I32ShrS,
    0x76 => I32ShrU,
    0x77 => I32Rotl,
    0x78 => I32Rotr,
    0x79 => I64Clz,
    0x7a => I64Ctz,
    0x7b => I64Popcnt,
    0x7c => I64Add,
    0x7d => I64Sub,
    0x7e => I64Mul,
    0x7f => I64DivS,
    0x80 => I64DivU,
    0x81 => I64RemS,
    0x82 => I64RemU,
    0x83 => I64And,
    0x84 => I64Or,
    0x85 => I64Xor,
    0x86 => I64Shl,
    0x87 => I64ShrS,
    0x88 => I64ShrU,
    0x89 => I64Rotl,
    0x8a => I64Rotr,
    0x8b => F32Abs,
    0x8c => F32Neg,
    0x8d => F32Ceil,
    0x8e => F32Floor,
    0x8f => F32Trunc,
    0x90 => F32Nearest,
    0x91 => F32Sqrt,
    0x92 => F32Add,
    0x93 => F32Sub,
    0x94 => F32Mul,
    0x95 => F32Div,
    0x96 => F32Min,
    0x97 => F32Max,
    0x98 => F32Copysign,
    0x99 => F64Abs,
    0x9a => F64Neg,
    0x9b => F64Ceil,
    0x9c => F64Floor,
    0x9d => F64Trunc,
    0x9e => F64Nearest,
    0x9f => F64Sqrt,
    0xa0 => F64Add,
    0xa1 => F64Sub,
    0xa2 => F64Mul,
    0xa3 => F64Div,
    0xa4 => F64Min,
    0xa5 => F64Max,
    0xa6 => F64Copysign,
    0xa7 => I32WrapI64,
    0xa8 => I32TruncF32S,
    0xa9 => I32TruncF32U,
    0xaa => I32TruncF64S,
    0xab => I32TruncF64U,
    0xac => I64ExtendI32S,
    0xad => I64ExtendI32U,
    0xae => I64TruncF32S,
    0xaf => I64TruncF32U,
    0xb0 => I64TruncF64S,
    0xb1 => I64TruncF64U,
    0xb2 => F32ConvertI32S,
    0xb3 => F32ConvertI32U,
    0xb4 => F32ConvertI64S,
    0xb5 => F32ConvertI64U,
    0xb6 => F32DemoteF64,
    0xb7 => F64ConvertI32S,
    0xb8 => F64ConvertI32U,
    0xb9 => F64ConvertI64S,
    0xba => F64ConvertI64U,
    0xbb => F64PromoteF32,
    0xc0 => I32Extend8S,
    0xc1 => I32Extend16S,
    0xc2 => I64Extend8S,
    0xc3 => I64Extend16S,
    0xc4 => I64Extend32S,
    0xc5 => I32TruncSatF32S,
    0xc6 => I32TruncSatF32U,
    0xc7 => I32TruncSatF64S,
    0xc8 => I32TruncSatF64U,
    0xc9 => I64TruncSatF32S,
    0xca => I64TruncSatF32U,
    0xcb => I64TruncSatF64S,
    0xcc => I64TruncSatF64U,
    0xd0 => BinImm { op, imm },
    0xd1 => BinLocal { op, local },
    0xd2 => LocalBinImm { op, local, imm },
    0xd3 => LocalBinLocal { op, a, b },
    0xd4 => BrIfBin { op, target },
    0xd5 => BrIfEqz(target),
    0xd6 => BinImmSet { op, imm, dst },
    0xd7 => BinImmTee { op, imm, dst },
    0xd8 => BinLocalSet { op, local, dst },
    0xd9 => BinLocalTee { op, local, dst },
    0xda => LocalBinLocalSet { op, a, b, dst },
    0xdb => LocalBinLocalTee { op, a, b, dst },
    0xdc => LocalBinImm32Set { op, local, imm, dst },
    0xdd => LocalBinImm32Tee { op, local, imm, dst },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Every opcode byte with every immediate width: whatever decodes must re-encode to the same
    /// bytes, and the number of accepted opcodes must be the number of variants (which the
    /// exhaustive match in `encode` ties to the enum).
    #[test]
    fn every_opcode_round_trips() {
        let mut accepted = 0;
        for opcode in 0..=255u8 {
            let mut any = false;
            for (width, operator) in [0usize, 4, 8, 12]
                .into_iter()
                .flat_map(|w| [(w, 0), (w, 0x6a)])
            {
                let mut bytes = [0u8; OP_BYTES];
                bytes[0] = opcode;
                bytes[1] = operator;
                for (k, b) in bytes[4..4 + width].iter_mut().enumerate() {
                    *b = 0x11u8.wrapping_mul(k as u8 + 1) | 0x80;
                }
                if let Ok(op) = Op::decode(&bytes) {
                    any = true;
                    assert_eq!(op.encode(), bytes, "{op:?}");
                    assert_eq!(Op::decode(&op.encode()), Ok(op));
                }
            }
            accepted += usize::from(any);
        }
        assert_eq!(accepted, OPCODE_COUNT);
        assert_eq!(OPCODE_COUNT, 203);
    }

    #[test]
    fn every_fusable_operator_is_its_unfused_op() {
        for op in BinOp::ALL {
            let unfused = Op::decode(&{
                let mut b = [0u8; OP_BYTES];
                b[0] = op as u8;
                b
            })
            .unwrap();
            assert_eq!(BinOp::of(unfused), Some(op));
        }
        assert_eq!(BinOp::of(Op::I32DivS), None);
    }

    #[test]
    fn rejects_unknown_padding_and_trailing_bytes() {
        let mut bytes = [0u8; OP_BYTES];
        assert_eq!(Op::decode(&bytes), Err(CodeError::UnknownOpcode(0)));
        bytes[0] = 0xbc;
        assert_eq!(Op::decode(&bytes), Err(CodeError::UnknownOpcode(0xbc)));
        let mut drop = Op::Drop.encode();
        drop[2] = 1;
        assert_eq!(
            Op::decode(&drop),
            Err(CodeError::NonZeroPadding { opcode: 0x0b })
        );
        let mut fused = Op::BinLocal {
            op: BinOp::I32Add,
            local: 1,
        }
        .encode();
        fused[1] = 0x6d; // i32.div_s: traps, never fused
        assert_eq!(
            Op::decode(&fused),
            Err(CodeError::NonCanonical { opcode: 0xd1 })
        );
        let mut get = Op::LocalGet(7).encode();
        get[1] = 0x6a;
        assert_eq!(
            Op::decode(&get),
            Err(CodeError::NonZeroPadding { opcode: 0x0d })
        );
        get[1] = 0;
        get[8] = 1;
        assert_eq!(
            Op::decode(&get),
            Err(CodeError::NonCanonical { opcode: 0x0d })
        );
        let mut konst = Op::Const(u64::MAX).encode();
        assert_eq!(Op::decode(&konst), Ok(Op::Const(u64::MAX)));
        konst[15] = 1;
        assert_eq!(
            Op::decode(&konst),
            Err(CodeError::NonCanonical { opcode: 0x44 })
        );
    }

    /// Golden bytes: any change to the opcode table or immediate layout fails here.
    #[test]
    fn golden_encodings() {
        let cases = [
            (Op::Unreachable, "01000000000000000000000000000000"),
            (
                Op::Br(BranchTarget {
                    pc: 0x0102_0304,
                    drop: 2,
                    keep: 1,
                }),
                "02000000040302010200000001000000",
            ),
            (
                Op::CallIndirect {
                    type_index: 3,
                    table: 1,
                },
                "09000000030000000100000000000000",
            ),
            (Op::I32Load(0x10), "20000000100000000000000000000000"),
            (
                Op::Const(0x1122_3344_5566_7788),
                "44000000887766554433221100000000",
            ),
            (Op::I32Add, "6a000000000000000000000000000000"),
            (Op::F64PromoteF32, "bb000000000000000000000000000000"),
            (Op::I64Extend32S, "c4000000000000000000000000000000"),
            (Op::I64TruncSatF64U, "cc000000000000000000000000000000"),
            (
                Op::LocalBinImm {
                    op: BinOp::I64Rotl,
                    local: 3,
                    imm: 0x2c,
                },
                "d2890000030000002c00000000000000",
            ),
            (
                Op::BrIfBin {
                    op: BinOp::I32LtU,
                    target: BranchTarget {
                        pc: 9,
                        drop: 1,
                        keep: 0,
                    },
                },
                "d4490000090000000100000000000000",
            ),
            (
                Op::LocalBinLocalTee {
                    op: BinOp::I64Xor,
                    a: 1,
                    b: 2,
                    dst: 3,
                },
                "db850000010000000200000003000000",
            ),
        ];
        for (op, expected) in cases {
            assert_eq!(hex(&op.encode()), expected, "{op:?}");
        }
    }
}
