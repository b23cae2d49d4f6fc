//! The rules of disputes, as pure state machines.
//!
//! - [`referee`]: the rollup's dispute protocol, all against all: assertions with moving stakes,
//!   rivals, and the tree of challenges and dissections with per-path clocks over each assertion's
//!   claim. The executable model of the settlement contracts (`contracts/src/AssertionChain.sol`,
//!   `Disputes.sol`), checked against them move by move (`prover::dispute::onchain`).
//! - [`honest`]: what an honest party plays in that tree, given the true run of a batch.
//! - [`Bisection`]: the two-party k-ary bisection game over one execution [`Claim`] with chess
//!   clocks, which `rollup dispute` plays off chain between two agents (the asserter posts the
//!   hashes at a segment's interior [`boundaries`], the challenger picks the sub-segment it
//!   disputes, a [`OneStepChecker`] settles the last step).
//!
//! Both cut segments with the same [`boundaries`] and settle one step with a [`OneStepChecker`];
//! neither runs a program, so both could live on L1. A loser's bond pays the winner less a burn
//! (see [`DEFAULT_BURN_BPS`]).

// Everything here is fed by hostile parties: no input may panic the referee.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod clock;
mod config;
mod dissection;
pub mod honest;
pub mod referee;
#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests;

use std::convert::Infallible;
use std::fmt;

use thiserror::Error;
use vm::MachineHash;

use clock::ChessClocks;
pub use config::{BisectionConfig, ConfigError, DEFAULT_ARITY, DEFAULT_BURN_BPS, MAX_ARITY};
pub use dissection::{boundaries, parts, rounds_for};

/// "Starting from machine hash `pre`, after `steps` steps the machine hash is `post`."
///
/// Stepping a halted or trapped machine leaves its hash unchanged, so a claim with any step count
/// is decidable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    pub pre: MachineHash,
    pub post: MachineHash,
    pub steps: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Party {
    /// Defends the claim and every hash it posts.
    Asserter,
    /// Disputes the claim by picking the sub-segment it disagrees with.
    Challenger,
}

impl Party {
    pub fn opponent(self) -> Party {
        match self {
            Party::Asserter => Party::Challenger,
            Party::Challenger => Party::Asserter,
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Party::Asserter => "asserter",
            Party::Challenger => "challenger",
        })
    }
}

/// The disputed steps `start..end`: both parties agree the machine hash at step `start` is
/// `start_hash`; the asserter claims it is `end_hash` at step `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub start: u64,
    pub end: u64,
    pub start_hash: MachineHash,
    pub end_hash: MachineHash,
}

impl Segment {
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the game waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The asserter must post the interior hashes of the current segment.
    Bisect,
    /// The challenger must pick the sub-segment it disputes.
    Choose,
    /// The segment is one step long: a one-step proof decides the game.
    OneStep,
    /// The game is decided; see [`Bisection::outcome`].
    Over,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Bisect => "waiting for interior hashes",
            Phase::Choose => "waiting for a sub-segment choice",
            Phase::OneStep => "waiting for a one-step proof",
            Phase::Over => "over",
        })
    }
}

/// The kinds of move a party can make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveKind {
    Bisect,
    Choose,
    OneStepProof,
}

impl fmt::Display for MoveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MoveKind::Bisect => "interior hashes",
            MoveKind::Choose => "a sub-segment choice",
            MoveKind::OneStepProof => "a one-step proof",
        })
    }
}

/// The stateless judge of one step.
pub trait OneStepChecker {
    type Error: std::error::Error;

    /// The machine hash one step after `pre`, if `proof` convinces the checker that it reveals
    /// the machine committed to by `pre`; an error for any other byte string.
    fn verify_step(&self, pre: &MachineHash, proof: &[u8]) -> Result<MachineHash, Self::Error>;
}

/// Why the game was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A zero-step claim: it holds iff `pre == post`, no proof needed.
    ZeroSteps,
    /// The one-step checker computed the true post hash of the last disputed step.
    OneStepProof,
    /// The loser's clock ran out on its turn.
    Timeout,
}

/// The decided game and where the loser's bond goes. The winner's own bond is returned in full
/// and is not counted here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub winner: Party,
    pub reason: Verdict,
    /// The loser's bond minus the burn.
    pub payout_to_winner: u128,
    /// The part of the loser's bond that nobody receives.
    pub burned: u128,
}

impl Outcome {
    pub fn loser(&self) -> Party {
        self.winner.opponent()
    }
}

/// A refused move. Every refused move leaves the game unchanged, except
/// [`MoveError::ClockExpired`], which also records the timeout that decided it. `E` is the
/// one-step checker's error, for [`Bisection::prove_step`] only.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum MoveError<E = Infallible> {
    #[error("the game is already decided")]
    GameOver,
    #[error("tick {now} is before the last accepted tick {last}")]
    TimeWentBackwards { last: u64, now: u64 },
    #[error("the {party}'s clock ran out on its turn; the game is decided against it")]
    ClockExpired { party: Party },
    #[error("the {mover} moved but it is the {on_turn}'s turn")]
    NotYourTurn { mover: Party, on_turn: Party },
    #[error("got {attempted} while {phase}")]
    WrongPhase { phase: Phase, attempted: MoveKind },
    #[error("expected {expected} interior hashes, got {got}")]
    WrongHashCount { expected: u64, got: usize },
    #[error("sub-segment {index} does not exist: the segment has {parts} parts")]
    IndexOutOfRange { index: usize, parts: u64 },
    #[error("the one-step proof was rejected")]
    ProofRejected(#[source] E),
    #[error("the {party} still has {remaining} ticks on its clock")]
    ClockRunning { party: Party, remaining: u64 },
}

impl MoveError {
    /// The same refusal typed like [`Bisection::prove_step`]'s, for callers handling every move
    /// through one error type.
    pub fn with_proof_error<E>(self) -> MoveError<E> {
        match self {
            MoveError::GameOver => MoveError::GameOver,
            MoveError::TimeWentBackwards { last, now } => {
                MoveError::TimeWentBackwards { last, now }
            }
            MoveError::ClockExpired { party } => MoveError::ClockExpired { party },
            MoveError::NotYourTurn { mover, on_turn } => MoveError::NotYourTurn { mover, on_turn },
            MoveError::WrongPhase { phase, attempted } => {
                MoveError::WrongPhase { phase, attempted }
            }
            MoveError::WrongHashCount { expected, got } => {
                MoveError::WrongHashCount { expected, got }
            }
            MoveError::IndexOutOfRange { index, parts } => {
                MoveError::IndexOutOfRange { index, parts }
            }
            MoveError::ProofRejected(never) => match never {},
            MoveError::ClockRunning { party, remaining } => {
                MoveError::ClockRunning { party, remaining }
            }
        }
    }
}

/// One bisection game: the referee's whole state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bisection {
    claim: Claim,
    config: BisectionConfig,
    segment: Segment,
    state: State,
    rounds: u32,
    clocks: ChessClocks,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Bisect,
    /// Hashes at every boundary of the current segment, its own start and end included.
    Choose {
        hashes: Vec<MachineHash>,
    },
    OneStep,
    Over(Outcome),
}

impl Bisection {
    /// A game starting at tick 0; see [`Bisection::starting_at`].
    pub fn new(claim: Claim, config: BisectionConfig) -> Result<Self, ConfigError> {
        Self::starting_at(claim, config, 0)
    }

    /// A game whose first turn starts at tick `now`. The asserter bisects first; a one-step claim
    /// starts with the challenger on turn to prove the step wrong. A zero-step claim is decided
    /// here: there is no step to prove, it holds iff `pre == post`.
    pub fn starting_at(
        claim: Claim,
        config: BisectionConfig,
        now: u64,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let state = match claim.steps {
            0 => {
                let winner = if claim.pre == claim.post {
                    Party::Asserter
                } else {
                    Party::Challenger
                };
                State::Over(settle(&config, winner, Verdict::ZeroSteps))
            }
            1 => State::OneStep,
            _ => State::Bisect,
        };
        Ok(Bisection {
            claim,
            config,
            segment: Segment {
                start: 0,
                end: claim.steps,
                start_hash: claim.pre,
                end_hash: claim.post,
            },
            state,
            rounds: 0,
            clocks: ChessClocks::new(config.clock_budget, now),
        })
    }

    pub fn claim(&self) -> &Claim {
        &self.claim
    }

    pub fn config(&self) -> &BisectionConfig {
        &self.config
    }

    /// The disputed segment; after the game, the last one disputed.
    pub fn segment(&self) -> &Segment {
        &self.segment
    }

    pub fn phase(&self) -> Phase {
        match self.state {
            State::Bisect => Phase::Bisect,
            State::Choose { .. } => Phase::Choose,
            State::OneStep => Phase::OneStep,
            State::Over(_) => Phase::Over,
        }
    }

    /// Whose clock runs: the asserter while bisecting, the challenger while choosing and in the
    /// one-step phase (the asserter's last hash stands unless proven wrong). `None` once decided.
    pub fn on_turn(&self) -> Option<Party> {
        match self.state {
            State::Bisect => Some(Party::Asserter),
            State::Choose { .. } | State::OneStep => Some(Party::Challenger),
            State::Over(_) => None,
        }
    }

    /// Number of sub-segments the current segment is split into.
    pub fn parts(&self) -> u64 {
        parts(self.segment.len(), self.config.arity)
    }

    /// Step indices of the current segment's boundaries, its start and end included; the
    /// asserter's interior hashes are for the ones in between.
    pub fn sub_segment_bounds(&self) -> Vec<u64> {
        boundaries(self.segment.start, self.segment.end, self.config.arity)
    }

    /// While the challenger chooses: the hashes at [`Bisection::sub_segment_bounds`], the agreed
    /// start hash, the asserter's interior hashes and its end hash.
    pub fn posted_hashes(&self) -> Option<&[MachineHash]> {
        match &self.state {
            State::Choose { hashes } => Some(hashes),
            _ => None,
        }
    }

    /// Completed dissection rounds (a posting of hashes and a choice).
    pub fn rounds(&self) -> u32 {
        self.rounds
    }

    /// Ticks `party` has left at tick `now`, the running turn included.
    pub fn clock_remaining(&self, party: Party, now: u64) -> u64 {
        self.clocks.remaining(party, self.on_turn(), now)
    }

    /// Whether [`Bisection::claim_timeout`] would succeed at `now`.
    pub fn can_claim_timeout(&self, now: u64) -> bool {
        match self.on_turn() {
            Some(party) => now >= self.clocks.last_tick() && self.clocks.expired(party, now),
            None => false,
        }
    }

    pub fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            State::Over(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// The asserter posts the hashes at the interior boundaries of the current segment, exactly
    /// `parts() - 1` of them in step order.
    pub fn bisect(
        &mut self,
        mover: Party,
        interior: &[MachineHash],
        now: u64,
    ) -> Result<(), MoveError> {
        let on_turn = self.admit(now)?;
        self.check_move(mover, on_turn, MoveKind::Bisect)?;
        let expected = self.parts().saturating_sub(1);
        if u64::try_from(interior.len()).ok() != Some(expected) {
            return Err(MoveError::WrongHashCount {
                expected,
                got: interior.len(),
            });
        }
        let mut hashes = Vec::with_capacity(interior.len().saturating_add(2));
        hashes.push(self.segment.start_hash);
        hashes.extend_from_slice(interior);
        hashes.push(self.segment.end_hash);
        self.clocks.end_turn(Party::Asserter, now);
        self.state = State::Choose { hashes };
        Ok(())
    }

    /// The challenger picks the sub-segment `index` (0-based) it disputes. It thereby agrees
    /// with the hash at the sub-segment's start and disputes the asserter's hash at its end.
    pub fn choose(&mut self, mover: Party, index: usize, now: u64) -> Result<(), MoveError> {
        let on_turn = self.admit(now)?;
        self.check_move(mover, on_turn, MoveKind::Choose)?;
        let State::Choose { hashes } = &self.state else {
            return Err(self.wrong_phase(MoveKind::Choose));
        };
        let bounds = self.sub_segment_bounds();
        let picked = index.checked_add(1).and_then(|next| {
            Some(Segment {
                start: *bounds.get(index)?,
                end: *bounds.get(next)?,
                start_hash: *hashes.get(index)?,
                end_hash: *hashes.get(next)?,
            })
        });
        let Some(picked) = picked else {
            return Err(MoveError::IndexOutOfRange {
                index,
                parts: self.parts(),
            });
        };
        self.clocks.end_turn(Party::Challenger, now);
        self.segment = picked;
        self.rounds = self.rounds.saturating_add(1);
        // Every part has at least one step because a segment never has more parts than steps.
        self.state = if picked.len() <= 1 {
            State::OneStep
        } else {
            State::Bisect
        };
        Ok(())
    }

    /// Submits a one-step proof for the current one-step segment; it decides the game. Anyone may
    /// submit it, not only the party on turn: the checker computes the truth from the agreed start
    /// hash, so who sends the proof cannot change the result. The asserter wins iff the true post
    /// hash is its claimed end hash. A rejected proof changes nothing and the clock keeps running.
    pub fn prove_step<C: OneStepChecker>(
        &mut self,
        checker: &C,
        proof: &[u8],
        now: u64,
    ) -> Result<Outcome, MoveError<C::Error>> {
        let on_turn = self.admit(now)?;
        if self.phase() != Phase::OneStep {
            return Err(self.wrong_phase(MoveKind::OneStepProof));
        }
        let post = checker
            .verify_step(&self.segment.start_hash, proof)
            .map_err(MoveError::ProofRejected)?;
        let winner = if post == self.segment.end_hash {
            Party::Asserter
        } else {
            Party::Challenger
        };
        Ok(self.finish(on_turn, winner, Verdict::OneStepProof, now))
    }

    /// Decides the game for the waiting party once the party on turn has overrun its clock.
    /// Anyone may call it.
    pub fn claim_timeout(&mut self, now: u64) -> Result<Outcome, MoveError> {
        let on_turn = self.on_turn().ok_or(MoveError::GameOver)?;
        self.check_tick(now)?;
        if !self.clocks.expired(on_turn, now) {
            return Err(MoveError::ClockRunning {
                party: on_turn,
                remaining: self.clock_remaining(on_turn, now),
            });
        }
        Ok(self.finish(on_turn, on_turn.opponent(), Verdict::Timeout, now))
    }

    /// The checks all moves share: the game is running, time did not go back, and the party on
    /// turn is within its budget. A move arriving after that budget decides the game against the
    /// party on turn, whoever sent it: the waiting party could have claimed the timeout anyway.
    fn admit<E>(&mut self, now: u64) -> Result<Party, MoveError<E>> {
        let on_turn = self.on_turn().ok_or(MoveError::GameOver)?;
        self.check_tick(now)?;
        if self.clocks.expired(on_turn, now) {
            self.finish(on_turn, on_turn.opponent(), Verdict::Timeout, now);
            return Err(MoveError::ClockExpired { party: on_turn });
        }
        Ok(on_turn)
    }

    fn check_tick<E>(&self, now: u64) -> Result<(), MoveError<E>> {
        let last = self.clocks.last_tick();
        if now < last {
            return Err(MoveError::TimeWentBackwards { last, now });
        }
        Ok(())
    }

    /// The move kind must be the one the phase waits for, and only the party on turn may make it.
    fn check_move<E>(
        &self,
        mover: Party,
        on_turn: Party,
        kind: MoveKind,
    ) -> Result<(), MoveError<E>> {
        let fits = matches!(
            (self.phase(), kind),
            (Phase::Bisect, MoveKind::Bisect) | (Phase::Choose, MoveKind::Choose)
        );
        if !fits {
            return Err(self.wrong_phase(kind));
        }
        if mover != on_turn {
            return Err(MoveError::NotYourTurn { mover, on_turn });
        }
        Ok(())
    }

    fn wrong_phase<E>(&self, attempted: MoveKind) -> MoveError<E> {
        MoveError::WrongPhase {
            phase: self.phase(),
            attempted,
        }
    }

    fn finish(&mut self, on_turn: Party, winner: Party, reason: Verdict, now: u64) -> Outcome {
        self.clocks.end_turn(on_turn, now);
        let outcome = settle(&self.config, winner, reason);
        self.state = State::Over(outcome);
        outcome
    }
}

fn settle(config: &BisectionConfig, winner: Party, reason: Verdict) -> Outcome {
    let (payout_to_winner, burned) = config.split_forfeit();
    Outcome {
        winner,
        reason,
        payout_to_winner,
        burned,
    }
}
