//! Differential fuzzing of the two one-step checkers: the Rust `verifier::verify_step` and the
//! Solidity checker in revm (`verifier::evm::EvmChecker`) must give the same answer on every input,
//! the same post hash or a rejection from both; the one allowed difference is the EVM refusing
//! float arithmetic with `FloatUnsupported(<opcode>)`. The agreement rule is the one the tests use,
//! `tests/common/evm.rs` (`both`), included here as is; it keeps one `EvmChecker` per thread.
//!
//! Input: one selector byte (the pre-state, see `src/input.rs`), then the proof bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../../tests/common/evm.rs"]
mod evm;
#[path = "../src/input.rs"]
mod input;

fuzz_target!(|data: &[u8]| {
    let Some((pre, proof)) = input::split(data) else {
        return;
    };
    // Panics (a crash for libFuzzer) with both answers, the pre-state and the proof in hex.
    let _ = evm::both("fuzz", &pre, proof);
    // The tally keeps the gas of every accepted proof: drop it so memory stays flat.
    let _ = evm::take_tally();
});
