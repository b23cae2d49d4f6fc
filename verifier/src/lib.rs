//! The referee: what would live on L1. It never runs whole programs; it checks.
//!
//! * [`one_step`]: the stateless one-step checker, [`verify_step`].
//! * [`stf_host`]: the provable semantics of the STF guest's host calls.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod one_step;
pub mod stf_host;

pub use one_step::{verify_step_with, ProofError};

/// The rollup's one-step checker: [`verify_step_with`] under the STF host semantics.
pub fn verify_step(
    pre: &vm::MachineHash,
    proof_bytes: &[u8],
) -> Result<vm::MachineHash, ProofError> {
    verify_step_with(pre, proof_bytes, &stf_host::StfSemantics)
}
