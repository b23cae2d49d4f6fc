//! The parties of a dispute: what a move is, and the honest agent, which computes every hash it
//! posts or compares from its own [`Checkpoints`].

use verifier::bisection::{Bisection, Claim, Party, Phase};
use vm::code::Op;
use vm::{Host, MachineHash};

use super::{Checkpoints, DisputeError};

/// Bytes a sub-segment choice takes on the wire (an index, as a 32-bit word).
pub const CHOICE_BYTES: usize = 4;

/// One move a party wants to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Move {
    /// Interior hashes of the current segment.
    Bisect(Vec<MachineHash>),
    /// The index of the disputed sub-segment.
    Choose(usize),
    /// An encoded one-step proof.
    Prove(Vec<u8>),
    /// No move (yet): the party's clock runs.
    Wait,
}

impl Move {
    /// What the move puts on the wire (on L1: calldata).
    pub fn wire_bytes(&self) -> usize {
        match self {
            Move::Bisect(hashes) => hashes.len() * 32,
            Move::Choose(_) => CHOICE_BYTES,
            Move::Prove(proof) => proof.len(),
            Move::Wait => 0,
        }
    }
}

/// A party of a bisection game.
pub trait Agent {
    /// Who the party is, for reports.
    fn describe(&self) -> String;

    /// The move it makes in `game` playing `role`. Asked when `role` is on turn; in the one-step
    /// phase the waiting asserter is asked too (anyone may submit the proof).
    fn act(&mut self, role: Party, game: &Bisection) -> Result<Move, DisputeError>;

    /// The op the disputed execution runs after `step` steps, if the party knows it.
    fn op_at(&self, _step: u64) -> Option<Op> {
        None
    }
}

/// Plays by the truth: as asserter it posts the true interior hashes; as challenger it disputes
/// the first sub-segment whose posted end hash differs from its own (the start of that part is
/// then agreed, by the same rule one round earlier); at one step it submits the proof.
pub struct HonestAgent<H> {
    trace: Checkpoints<H>,
}

impl<H: Host + Clone + Send + Sync> HonestAgent<H> {
    pub fn new(trace: Checkpoints<H>) -> Self {
        HonestAgent { trace }
    }

    pub fn trace(&self) -> &Checkpoints<H> {
        &self.trace
    }

    /// The true claim over the whole execution.
    pub fn claim(&self) -> Claim {
        Claim {
            pre: self.trace.start_hash(),
            post: self.trace.final_hash(),
            steps: self.trace.steps(),
        }
    }

    /// Whether the honest party should challenge `claim`: it is about this execution (same start
    /// and length) and its end hash is wrong.
    pub fn disputes(&self, claim: &Claim) -> bool {
        let truth = self.claim();
        claim.pre == truth.pre && claim.steps == truth.steps && claim.post != truth.post
    }

    fn bisect(&mut self, game: &Bisection) -> Move {
        let bounds = game.sub_segment_bounds();
        let interior = bounds.get(1..bounds.len().saturating_sub(1)).unwrap_or(&[]);
        Move::Bisect(self.trace.hashes_at(interior))
    }

    fn choose(&mut self, game: &Bisection) -> Result<Move, DisputeError> {
        let bounds = game.sub_segment_bounds();
        let posted = game
            .posted_hashes()
            .ok_or(DisputeError::Unexpected("no posted hashes to choose from"))?;
        let ends = bounds.get(1..).unwrap_or(&[]);
        let mine = self.trace.hashes_at(ends);
        let parts = ends.len();
        // Without any disagreement the claim is true and an honest party would not have
        // challenged it; the last part is as good as any.
        let index = (0..parts)
            .find(|&i| posted.get(i + 1) != mine.get(i))
            .unwrap_or(parts.saturating_sub(1));
        Ok(Move::Choose(index))
    }
}

impl<H: Host + Clone + Send + Sync> Agent for HonestAgent<H> {
    fn describe(&self) -> String {
        "honest".into()
    }

    fn act(&mut self, role: Party, game: &Bisection) -> Result<Move, DisputeError> {
        let segment = *game.segment();
        self.trace.focus(segment.start, segment.end);
        Ok(match (game.phase(), role) {
            (Phase::Bisect, Party::Asserter) => self.bisect(game),
            (Phase::Choose, Party::Challenger) => self.choose(game)?,
            (Phase::OneStep, _) => Move::Prove(self.trace.proof_at(segment.start)?),
            _ => Move::Wait,
        })
    }

    fn op_at(&self, step: u64) -> Option<Op> {
        self.trace.op_at(step)
    }
}
