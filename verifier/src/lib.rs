//! The referee: what would live on L1. It never runs whole programs; it checks moves, keeps the
//! clocks, settles bonds, and asks the stateless one-step checker about exactly one instruction.
//!
//! * [`one_step`]: the stateless one-step checker, [`verify_step`].
//! * [`stf_host`]: the provable semantics of the STF guest's host calls.
//! * [`bisection`]: the k-ary dissection game over an execution claim.
//! * [`blobs`]: EIP-4844 blobs: commitments, versioned hashes, openings of one field element.
//! * [`evm`]: the Solidity one-step checker in `contracts/`, deployed and called in revm.
//! * [`l1`]: the interface to an L1 chain, and its embedded (revm) backend.
//! * [`settlement`]: the bridge, assertion chain, challenges and outbox on L1, and their commitments.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod bisection;
pub mod blobs;
pub mod evm;
pub mod l1;
pub mod one_step;
pub mod settlement;
pub mod stf_host;

pub use one_step::{verify_step_with, ProofError};

/// The rollup's one-step checker: [`verify_step_with`] under the STF host semantics.
pub fn verify_step(
    pre: &vm::MachineHash,
    proof_bytes: &[u8],
) -> Result<vm::MachineHash, ProofError> {
    verify_step_with(pre, proof_bytes, &stf_host::StfSemantics)
}

/// The rollup's one-step checker as the bisection game calls it.
pub struct StfChecker;

impl bisection::OneStepChecker for StfChecker {
    type Error = ProofError;
    fn verify_step(
        &self,
        pre: &vm::MachineHash,
        proof: &[u8],
    ) -> Result<vm::MachineHash, ProofError> {
        verify_step(pre, proof)
    }
}
