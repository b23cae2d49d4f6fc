//! The provable WebAssembly VM. The folders follow the data flow:
//!
//! * [`load`]: parse + validate (WebAssembly 2.0 without SIMD) into a [`Module`], and lower it to
//!   flat, bounded-cost [`code`] (one op = one step).
//! * [`exec`]: the [`Machine`] (its run loop is the fast path), the semantics of one step written
//!   once against any state ([`step`]), and the numeric operators both share.
//! * [`commit`]: the consensus commitments: Merkle trees, the Merkleized [`memory`], the module
//!   hash and the [`MachineHash`].
//! * [`proof`]: one-step proofs, built from a machine and checked by crate `verifier`.
//! * [`native`]: the same module and [`Host`] on wasmtime, for fast replay.
//!
//! The shared vocabulary (values, traps, limits, the host interface, errors) sits at the top.

pub mod commit;
mod error;
pub mod exec;
mod host;
pub mod limits;
pub mod load;
#[cfg(feature = "native")]
pub mod native;
pub mod proof;
mod trap;
mod value;

// Each stage's modules at the crate root too, so paths name what a thing is, not where it lives.
pub use commit::{commitment, memory, merkle, multiproof};
pub use exec::{machine, numeric, semantics, step};
pub use load::code;
pub(crate) use load::{module, translate};

pub use error::VmError;
pub use host::{FuncType, GuestMemory, Host, ImportLimits, NoImports};
pub use machine::{Machine, MachineHash, RunOutcome, Status};
pub use module::{supported_features, CallTarget, ExportKind, Module};
pub use trap::Trap;
pub use value::{ValType, Value, NULL_REF};
