//! The provable WebAssembly VM.
//!
//! * [`Module`]: parse + validate (WebAssembly 2.0 without SIMD) and lower to flat, bounded-cost code.
//! * [`Machine`]: step, run, trap, snapshot, and the Merkleized [`MachineHash`].
//! * [`semantics`]: the one definition of every numeric operator (shared with the one-step checker).
//! * [`native`]: the same module and [`Host`] on wasmtime, for fast replay.

pub mod code;
pub mod commitment;
mod error;
mod host;
pub mod limits;
pub mod machine;
pub mod memory;
pub mod merkle;
mod module;
pub mod multiproof;
#[cfg(feature = "native")]
pub mod native;
pub mod numeric;
pub mod proof;
pub mod semantics;
pub mod step;
mod translate;
mod trap;
mod value;

pub use error::VmError;
pub use host::{FuncType, GuestMemory, Host, ImportLimits, NoImports};
pub use machine::{Machine, MachineHash, RunOutcome, Status};
pub use module::{supported_features, CallTarget, ExportKind, Module};
pub use trap::Trap;
pub use value::{ValType, Value, NULL_REF};
