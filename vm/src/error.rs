//! The vm crate's one error type for everything that is not a trap inside a running guest.

use crate::{Trap, ValType};

#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// The bytes are not a well-formed, valid WebAssembly module.
    #[error("invalid module: {0}")]
    InvalidModule(String),
    /// The module is valid WebAssembly but uses a feature this deterministic VM refuses.
    #[error("unsupported WebAssembly feature `{feature}`: {detail}")]
    UnsupportedFeature {
        feature: &'static str,
        detail: String,
    },
    /// The module exceeds a documented limit of the VM (see [`crate::limits`]).
    #[error("module exceeds a VM limit: {0}")]
    LimitExceeded(String),
    /// An import the host does not provide, or provides with another type.
    #[error("unresolved import `{module}.{name}`: {reason}")]
    UnresolvedImport {
        module: String,
        name: String,
        reason: String,
    },
    #[error("no exported function named `{0}`")]
    NoSuchExport(String),
    #[error("function `{name}` takes {expected} argument(s), got {got}")]
    ArgumentCount {
        name: String,
        expected: usize,
        got: usize,
    },
    #[error("argument {index} of `{name}` must be {expected}, got {got}")]
    ArgumentType {
        name: String,
        index: usize,
        expected: ValType,
        got: ValType,
    },
    /// Instantiation trapped (an active segment out of bounds, or the start function trapped).
    #[error("instantiation trapped: {0}")]
    InstantiationTrap(Trap),
    /// A call into the machine while it is in the middle of another call.
    #[error("the machine is busy running `{0}`; finish or reset it first")]
    Busy(String),
    /// An error from the wasmtime replay engine that is not a guest trap.
    #[error("native engine: {0}")]
    Native(String),
}
