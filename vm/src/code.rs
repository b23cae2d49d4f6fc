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
}
