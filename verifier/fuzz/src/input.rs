//! The input format of the `checkers_agree` fuzz target, shared (by `#[path]`) with its replay test
//! `verifier/tests/fuzz_regressions.rs`: one selector byte, then the proof bytes.
//!
//! * selector even: the pre-state is the hash the Rust checker computes from the proof's own
//!   machine and module openings (`StepProof::pre_state`), so a mutated
//!   proof gets past the pre-state check and exercises the step; a proof that does not decode is
//!   checked against [`FIXED_PRE`];
//! * selector odd: the pre-state is [`FIXED_PRE`].

use vm::proof::StepProof;
use vm::MachineHash;

/// The pre-state of odd selectors and of proofs that do not decode.
pub const FIXED_PRE: MachineHash = MachineHash([0x5a; 32]);

/// The machine hash a decodable proof claims as its pre-state.
pub fn own_pre_state(proof: &[u8]) -> Option<MachineHash> {
    Some(StepProof::decode(proof).ok()?.pre_state())
}

/// The pre-state and proof of one fuzz input; `None` for the empty input.
pub fn split(data: &[u8]) -> Option<(MachineHash, &[u8])> {
    let (&selector, proof) = data.split_first()?;
    let pre = if selector & 1 == 0 {
        own_pre_state(proof).unwrap_or(FIXED_PRE)
    } else {
        FIXED_PRE
    };
    Some((pre, proof))
}
