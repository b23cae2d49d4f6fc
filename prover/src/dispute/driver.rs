//! Plays a bisection game between two agents on a logical clock and reports what happened:
//! per round the segment, the time each party took to answer and the bytes exchanged, then the
//! disputed instruction, the verdict and the winner.

use std::time::{Duration, Instant};

use verifier::bisection::{
    Bisection, BisectionConfig, Claim, MoveError, OneStepChecker, Outcome, Party, Phase, Segment,
};
use vm::code::Op;

use super::agent::{Agent, Move};
use super::DisputeError;

/// Refused moves a party may send in one turn before the driver treats it as stalling (a real
/// referee would let it go on until its clock runs out; the outcome is the same).
pub const MAX_REFUSED_PER_TURN: u32 = 3;

/// Moves after which the driver gives up: far more than any game over 2^64 steps needs.
const MAX_MOVES: u32 = 10_000;

/// Clock ticks are milliseconds of prover time (at least one per move, as if every move took a
/// block), so a budget in ticks bounds how long a party may think over the whole game.
fn ticks(spent: Duration) -> u64 {
    u64::try_from(spent.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// One dissection round: the asserter's interior hashes and the challenger's choice.
#[derive(Clone, Debug)]
pub struct RoundRecord {
    /// 1-based.
    pub round: u32,
    /// The segment that was cut.
    pub start: u64,
    pub end: u64,
    pub parts: u64,
    /// How long the asserter took to compute its interior hashes.
    pub asserter_time: Duration,
    /// How long the challenger took to pick a part.
    pub challenger_time: Duration,
    /// Interior hashes plus the choice.
    pub bytes: usize,
    /// The sub-segment the challenger picked.
    pub chosen: usize,
}

/// The one-step proof that decided the game.
#[derive(Clone, Debug)]
pub struct OneStepRecord {
    /// The proven step runs on the machine after `step` steps.
    pub step: u64,
    /// The instruction at that step (`None` if the machine had halted).
    pub op: Option<Op>,
    /// Who submitted the accepted proof.
    pub prover: Party,
    pub proof_bytes: usize,
    pub time: Duration,
}

/// A move the referee refused (it changed nothing but the mover's clock).
#[derive(Clone, Debug)]
pub struct RefusedMove {
    pub party: Party,
    pub round: u32,
    pub reason: String,
}

/// Everything a dispute did.
#[derive(Clone, Debug)]
pub struct DisputeReport {
    pub claim: Claim,
    pub config: BisectionConfig,
    pub asserter: String,
    pub challenger: String,
    pub rounds: Vec<RoundRecord>,
    pub one_step: Option<OneStepRecord>,
    pub refused: Vec<RefusedMove>,
    /// The last disputed segment.
    pub final_segment: Segment,
    pub outcome: Outcome,
    /// The logical clock when the game was decided.
    pub ticks: u64,
    /// Bytes of all accepted moves.
    pub bytes: usize,
    pub wall: Duration,
}

impl DisputeReport {
    pub fn winner(&self) -> Party {
        self.outcome.winner
    }
}

/// A move submitted to the referee; a refusal comes back as its reason.
fn submit<C: OneStepChecker>(
    game: &mut Bisection,
    checker: &C,
    mover: Party,
    mv: &Move,
    now: u64,
) -> Result<(), String> {
    let refusal = |e: MoveError| e.to_string();
    match mv {
        Move::Bisect(hashes) => game.bisect(mover, hashes, now).map_err(refusal),
        Move::Choose(index) => game.choose(mover, *index, now).map_err(refusal),
        Move::Prove(proof) => {
            game.prove_step(checker, proof, now)
                .map(|_| ())
                .map_err(|e| match e {
                    MoveError::ProofRejected(why) => {
                        format!("the one-step proof was rejected: {why}")
                    }
                    other => other.to_string(),
                })
        }
        Move::Wait => Ok(()),
    }
}

fn timed(
    agent: &mut dyn Agent,
    role: Party,
    game: &Bisection,
) -> Result<(Move, Duration), DisputeError> {
    let started = Instant::now();
    let mv = agent.act(role, game)?;
    Ok((mv, started.elapsed()))
}

/// What the driver has seen so far.
#[derive(Default)]
struct Log {
    rounds: Vec<RoundRecord>,
    /// The round whose hashes are posted and whose choice is awaited.
    pending: Option<RoundRecord>,
    one_step: Option<OneStepRecord>,
    refused: Vec<RefusedMove>,
    bytes: usize,
}

impl Log {
    /// Submits `mv` and records it; whether the referee accepted it.
    #[allow(clippy::too_many_arguments)]
    fn attempt<C: OneStepChecker>(
        &mut self,
        game: &mut Bisection,
        checker: &C,
        mover: Party,
        mv: Move,
        spent: Duration,
        now: u64,
        op_at: &dyn Fn(u64) -> Option<Op>,
    ) -> bool {
        let segment = *game.segment();
        let round = game.rounds() + 1;
        if let Err(reason) = submit(game, checker, mover, &mv, now) {
            self.refused.push(RefusedMove {
                party: mover,
                round,
                reason,
            });
            return false;
        }
        let bytes = mv.wire_bytes();
        self.bytes += bytes;
        match mv {
            Move::Bisect(hashes) => {
                self.pending = Some(RoundRecord {
                    round,
                    start: segment.start,
                    end: segment.end,
                    parts: hashes.len() as u64 + 1,
                    asserter_time: spent,
                    challenger_time: Duration::ZERO,
                    bytes,
                    chosen: 0,
                });
            }
            Move::Choose(index) => {
                if let Some(mut record) = self.pending.take() {
                    record.challenger_time = spent;
                    record.bytes += bytes;
                    record.chosen = index;
                    self.rounds.push(record);
                }
            }
            Move::Prove(_) => {
                self.one_step = Some(OneStepRecord {
                    step: segment.start,
                    op: op_at(segment.start),
                    prover: mover,
                    proof_bytes: bytes,
                    time: spent,
                });
            }
            Move::Wait => {}
        }
        true
    }
}

/// Plays `claim` between `asserter` and `challenger` under `config`, with `checker` as the
/// one-step judge, until the referee decides it. A party that waits, or sends more than
/// [`MAX_REFUSED_PER_TURN`] refused moves in a turn, is left to run out its clock, and the other
/// party claims the timeout.
pub fn run_dispute<C: OneStepChecker>(
    claim: Claim,
    asserter: &mut dyn Agent,
    challenger: &mut dyn Agent,
    config: BisectionConfig,
    checker: &C,
) -> Result<DisputeReport, DisputeError> {
    let started = Instant::now();
    let mut game = Bisection::new(claim, config)?;
    let mut now = 0u64;
    let mut log = Log::default();
    let mut refused_this_turn = 0u32;
    for _ in 0..MAX_MOVES {
        if game.outcome().is_some() {
            break;
        }
        let on_turn = game.on_turn().ok_or(DisputeError::Unexpected(
            "undecided game with nobody on turn",
        ))?;
        if game.can_claim_timeout(now) {
            game.claim_timeout(now)
                .map_err(|e| DisputeError::Referee(e.to_string()))?;
            break;
        }
        let mut accepted = false;
        let mut moved = false;
        if refused_this_turn < MAX_REFUSED_PER_TURN {
            let agent: &mut dyn Agent = match on_turn {
                Party::Asserter => &mut *asserter,
                Party::Challenger => &mut *challenger,
            };
            let (mv, spent) = timed(agent, on_turn, &game)?;
            now = now.saturating_add(ticks(spent));
            if mv != Move::Wait {
                moved = true;
                let op_at = |step| asserter.op_at(step).or_else(|| challenger.op_at(step));
                accepted = log.attempt(&mut game, checker, on_turn, mv, spent, now, &op_at);
            }
        }
        if !accepted && game.phase() == Phase::OneStep {
            // Anyone may submit the proof: the waiting asserter does if the challenger won't.
            let (mv, spent) = timed(&mut *asserter, Party::Asserter, &game)?;
            now = now.saturating_add(ticks(spent));
            if let Move::Prove(_) = mv {
                moved = true;
                let op_at = |step| asserter.op_at(step).or_else(|| challenger.op_at(step));
                accepted = log.attempt(&mut game, checker, Party::Asserter, mv, spent, now, &op_at);
            }
        }
        if accepted {
            refused_this_turn = 0;
        } else if moved {
            refused_this_turn += 1;
        } else {
            // Stalling: nothing happens until the clock of the party on turn runs out.
            now = now
                .saturating_add(game.clock_remaining(on_turn, now))
                .saturating_add(1);
        }
    }
    let outcome = *game
        .outcome()
        .ok_or(DisputeError::TooManyMoves(MAX_MOVES))?;
    Ok(DisputeReport {
        claim,
        config,
        asserter: asserter.describe(),
        challenger: challenger.describe(),
        rounds: log.rounds,
        one_step: log.one_step,
        refused: log.refused,
        final_segment: *game.segment(),
        outcome,
        ticks: now,
        bytes: log.bytes,
        wall: started.elapsed(),
    })
}
