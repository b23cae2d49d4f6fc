//! A toy computation with a known trace, its one-step checker, and a tiny PRNG.

use thiserror::Error;
use vm::MachineHash;

use crate::bisection::OneStepChecker;

const TRUE_TAG: &[u8; 8] = b"toy.step";
const BOGUS_TAG: &[u8; 8] = b"toy.lie!";

/// A machine whose hash at step `i` commits to `min(i, halt)`: it halts at step `halt`, after
/// which stepping is the identity.
#[derive(Clone, Copy, Debug)]
pub(super) struct Toy {
    pub halt: u64,
}

impl Toy {
    pub fn hash(&self, step: u64) -> MachineHash {
        tagged(TRUE_TAG, step.min(self.halt), 0)
    }

    /// Proof bytes for the step starting at `step` from `pre`: the step index (8 bytes LE) and
    /// the pre hash it claims to start from.
    pub fn proof(step: u64, pre: &MachineHash) -> Vec<u8> {
        let mut proof = step.to_le_bytes().to_vec();
        proof.extend_from_slice(&pre.0);
        proof
    }
}

/// A hash no honest toy machine ever produces; `salt` makes different lies differ.
pub(super) fn bogus(step: u64, salt: u64) -> MachineHash {
    tagged(BOGUS_TAG, step, salt)
}

fn tagged(tag: &[u8; 8], step: u64, salt: u64) -> MachineHash {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(tag);
    bytes[8..16].copy_from_slice(&step.to_le_bytes());
    bytes[16..24].copy_from_slice(&salt.to_le_bytes());
    MachineHash(bytes)
}

#[derive(Debug, Error, PartialEq, Eq)]
pub(super) enum ToyError {
    #[error("proof is {0} bytes, not 40")]
    Length(usize),
    #[error("proof starts from a different hash than the agreed one")]
    PreMismatch,
    #[error("the agreed hash is not the toy machine at the proof's step")]
    NotOnTrace,
}

/// Accepts a proof iff it names a step whose true hash is the agreed `pre`, and returns the true
/// hash one step later; everything else is an error.
pub(super) struct ToyChecker(pub Toy);

impl OneStepChecker for ToyChecker {
    type Error = ToyError;

    fn verify_step(&self, pre: &MachineHash, proof: &[u8]) -> Result<MachineHash, ToyError> {
        let (step, claimed) = proof
            .split_first_chunk::<8>()
            .ok_or(ToyError::Length(proof.len()))?;
        if claimed.len() != 32 {
            return Err(ToyError::Length(proof.len()));
        }
        if claimed != pre.0 {
            return Err(ToyError::PreMismatch);
        }
        let step = u64::from_le_bytes(*step);
        if *pre != self.0.hash(step) {
            return Err(ToyError::NotOnTrace);
        }
        Ok(self.0.hash(step.saturating_add(1)))
    }
}

/// SplitMix64: deterministic, dependency-free randomness for the games.
#[derive(Clone, Debug)]
pub(super) struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (up to negligible bias); 0 for `n == 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    pub fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

#[test]
fn toy_checker_accepts_exactly_true_steps() {
    let toy = Toy { halt: 5 };
    let checker = ToyChecker(toy);
    assert_eq!(
        checker.verify_step(&toy.hash(2), &Toy::proof(2, &toy.hash(2))),
        Ok(toy.hash(3))
    );
    // Past the halt, stepping is the identity.
    assert_eq!(
        checker.verify_step(&toy.hash(9), &Toy::proof(7, &toy.hash(9))),
        Ok(toy.hash(5))
    );
    assert_eq!(
        checker.verify_step(&toy.hash(2), &Toy::proof(3, &toy.hash(2))),
        Err(ToyError::NotOnTrace)
    );
    assert_eq!(
        checker.verify_step(&toy.hash(2), &Toy::proof(2, &toy.hash(1))),
        Err(ToyError::PreMismatch)
    );
    assert_eq!(
        checker.verify_step(&bogus(2, 0), &Toy::proof(2, &bogus(2, 0))),
        Err(ToyError::NotOnTrace)
    );
    assert_eq!(
        checker.verify_step(&toy.hash(2), &[1, 2, 3]),
        Err(ToyError::Length(3))
    );
    assert_eq!(
        checker.verify_step(&toy.hash(2), &[0; 41]),
        Err(ToyError::Length(41))
    );
    assert_ne!(bogus(3, 0), toy.hash(3));
}
