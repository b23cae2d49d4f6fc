//! Fixed limits of the machine. They are consensus values: two machines with different limits trap
//! at different steps.

/// Maximum number of nested calls. Exceeding it traps with `call stack exhausted`.
pub const MAX_CALL_DEPTH: u32 = 1 << 16;

/// Maximum number of value-stack slots (locals and operands of all frames, 8 bytes each: 32 MiB).
/// A call whose frame would not fit traps with `value stack exhausted`.
pub const MAX_VALUE_STACK: u32 = 1 << 22;

/// Non-parameter locals are zeroed by prologue steps of at most this many slots each, so that a
/// call with thousands of locals is still a sequence of bounded steps.
pub const LOCALS_PER_STEP: u32 = 16;

/// Linear memory can never exceed this many 64 KiB pages (the wasm32 limit: 4 GiB).
pub const MAX_MEMORY_PAGES: u32 = 65536;

/// Tables can never exceed this many entries; `table.grow` past it returns -1.
pub const MAX_TABLE_ENTRIES: u32 = 10_000_000;

/// Bytes a bulk-memory loop step moves at most: one 32-byte memory leaf.
pub const BULK_BYTES_PER_STEP: u32 = 32;

/// Operand-stack slots a lowered operation may use beyond what validation computed (the table.grow
/// lowering pushes the operands of its fill loop).
pub const EXTRA_OPERAND_SLOTS: u32 = 4;
