//! Dishonest parties, for tests and the CLI: each [`Lie`] is one way of cheating, played as
//! asserter or as challenger against an honest opponent. They know the truth (they share the
//! honest execution's checkpoints) and deviate from it on purpose.

use std::fmt;

use verifier::bisection::{Bisection, Claim, Party, Phase};
use vm::code::Op;
use vm::{Host, MachineHash};

use super::agent::{Agent, Move};
use super::{Checkpoints, DisputeError};

/// How a dishonest party cheats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lie {
    /// Believes a buggy machine that goes wrong at step `from`: every hash from there on is
    /// wrong. As asserter it claims a wrong final hash; as challenger it disputes the true one
    /// where its belief disagrees, and at one step submits the (true) proof of that step.
    WrongFrom(u64),
    /// As asserter: the true final hash, but one wrong interior hash in round `round` (or in the
    /// last round it bisects, if the game ends sooner), defended from then on. As challenger:
    /// disputes the last part, a random one in round `round`, and never submits a proof.
    WrongInterior { round: u32 },
    /// Agrees, then flips. As asserter: claims a wrong final hash, posts true interior hashes
    /// until round `round` and only wrong ones from then on. As challenger: disputes the last
    /// part until round `round`, then the first.
    FlipAt { round: u32 },
    /// Makes no move at all from round `round` on (0: never moves), so its clock runs out. As
    /// asserter it claims a wrong final hash and posts true interior hashes until then.
    StallFrom { round: u32 },
    /// Every turn, first sends a malformed move (a wrong number of hashes, a sub-segment index out
    /// of range, garbage for a proof), then plays like [`Lie::WrongFrom`]`(from)`, except that its
    /// proofs are garbage too.
    Malformed { from: u64 },
    /// As challenger: disputes a longest part whatever the hashes, so the game takes its deepest
    /// path ([`verifier::bisection::rounds_for`] rounds). As asserter: like
    /// [`Lie::WrongFrom`]`(steps)`.
    PickLongest,
}

impl fmt::Display for Lie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lie::WrongFrom(step) => write!(f, "wrong hashes from step {step} on"),
            Lie::WrongInterior { round } => write!(f, "a wrong interior hash in round {round}"),
            Lie::FlipAt { round } => write!(f, "agrees, then flips in round {round}"),
            Lie::StallFrom { round } => write!(f, "stops moving in round {round}"),
            Lie::Malformed { from } => {
                write!(f, "malformed moves, wrong hashes from step {from} on")
            }
            Lie::PickLongest => f.write_str("disputes a longest part whatever the hashes"),
        }
    }
}

/// A made-up machine hash for step `step`; `salt` separates different lies about the same step.
fn bogus(step: u64, salt: u64) -> MachineHash {
    let mut bytes = b"hauptbuch.lie".to_vec();
    bytes.extend_from_slice(&step.to_le_bytes());
    bytes.extend_from_slice(&salt.to_le_bytes());
    MachineHash(program::keccak256(&bytes))
}

/// A dishonest party playing `lie`.
pub struct Liar<H> {
    trace: Checkpoints<H>,
    lie: Lie,
    rng: u64,
    /// Whether a [`Lie::WrongInterior`] asserter has told its lie.
    lied: bool,
    /// The turn (round, phase) in which a [`Lie::Malformed`] party sent its malformed move.
    malformed_turn: Option<(u32, Phase)>,
}

impl<H: Host + Clone + Send + Sync> Liar<H> {
    /// `seed` drives its random picks.
    pub fn new(trace: Checkpoints<H>, lie: Lie, seed: u64) -> Self {
        Liar {
            trace,
            lie,
            rng: seed,
            lied: false,
            malformed_turn: None,
        }
    }

    pub fn lie(&self) -> Lie {
        self.lie
    }

    /// What it asserts as asserter.
    pub fn claim(&self) -> Claim {
        let steps = self.trace.steps();
        let post = match self.lie {
            Lie::WrongInterior { .. } => self.trace.final_hash(),
            Lie::WrongFrom(from) | Lie::Malformed { from } if from > steps => {
                self.trace.final_hash()
            }
            _ => bogus(steps, 0),
        };
        Claim {
            pre: self.trace.start_hash(),
            post,
            steps,
        }
    }

    /// splitmix64.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_random() % n.max(1) as u64) as usize
    }

    /// The hashes a machine going wrong at step `from` computes at `steps`.
    fn believed(&mut self, steps: &[u64], from: u64) -> Vec<MachineHash> {
        let true_part: Vec<u64> = steps.iter().copied().filter(|&s| s < from).collect();
        let truth = self.trace.hashes_at(&true_part);
        steps
            .iter()
            .map(|&s| match true_part.iter().position(|&t| t == s) {
                Some(i) => truth[i],
                None => bogus(s, 0),
            })
            .collect()
    }

    /// The step from which its hashes are wrong, for the lies that believe a buggy machine.
    fn fork(&self) -> u64 {
        match self.lie {
            Lie::WrongFrom(from) | Lie::Malformed { from } => from,
            _ => self.trace.steps(),
        }
    }

    fn bisect(&mut self, game: &Bisection) -> Move {
        let round = game.rounds();
        let bounds = game.sub_segment_bounds();
        let interior = bounds.get(1..bounds.len().saturating_sub(1)).unwrap_or(&[]);
        match self.lie {
            Lie::StallFrom { round: r } if round >= r => Move::Wait,
            Lie::WrongInterior { round: r } => {
                let mut hashes = self.trace.hashes_at(interior);
                // Every part is one step long in the last bisection: lie now or never.
                let last_chance = game.parts() == game.segment().len();
                if !self.lied && !hashes.is_empty() && (round >= r || last_chance) {
                    let j = self.below(hashes.len());
                    hashes[j] = bogus(interior[j], u64::from(round) + 1);
                    self.lied = true;
                }
                Move::Bisect(hashes)
            }
            Lie::FlipAt { round: r } if round >= r => Move::Bisect(
                interior
                    .iter()
                    .map(|&s| bogus(s, u64::MAX - u64::from(round)))
                    .collect(),
            ),
            _ => {
                let from = self.fork();
                Move::Bisect(self.believed(interior, from))
            }
        }
    }

    fn choose(&mut self, game: &Bisection) -> Move {
        let round = game.rounds();
        let bounds = game.sub_segment_bounds();
        let parts = bounds.len().saturating_sub(1);
        let last = parts.saturating_sub(1);
        match self.lie {
            Lie::StallFrom { round: r } if round >= r => Move::Wait,
            Lie::WrongInterior { round: r } if round == r => Move::Choose(self.below(parts)),
            Lie::WrongInterior { .. } | Lie::StallFrom { .. } => Move::Choose(last),
            Lie::FlipAt { round: r } => Move::Choose(if round < r { last } else { 0 }),
            Lie::PickLongest => {
                let longest = bounds.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
                let index = bounds
                    .windows(2)
                    .position(|w| w[1] - w[0] == longest)
                    .unwrap_or(0);
                Move::Choose(index)
            }
            Lie::WrongFrom(from) | Lie::Malformed { from } => {
                let ends = bounds.get(1..).unwrap_or(&[]);
                let mine = self.believed(ends, from);
                let posted = game.posted_hashes().unwrap_or(&[]);
                let index = (0..parts)
                    .find(|&i| posted.get(i + 1) != mine.get(i))
                    .unwrap_or(last);
                Move::Choose(index)
            }
        }
    }

    /// A wrong-looking move for the phase, sent once per turn before the real one.
    fn malformed(&mut self, game: &Bisection) -> Move {
        match game.phase() {
            Phase::Bisect => {
                let count = game.parts().saturating_sub(1) as usize + 1 + self.below(3);
                Move::Bisect((0..count as u64).map(|i| bogus(i, 7)).collect())
            }
            Phase::Choose => Move::Choose(game.parts() as usize + self.below(5)),
            Phase::OneStep | Phase::Over => self.garbage_proof(),
        }
    }

    fn garbage_proof(&mut self) -> Move {
        let len = 1 + self.below(300);
        Move::Prove((0..len).map(|_| self.next_random() as u8).collect())
    }
}

impl<H: Host + Clone + Send + Sync> Agent for Liar<H> {
    fn describe(&self) -> String {
        format!("liar ({})", self.lie)
    }

    fn act(&mut self, role: Party, game: &Bisection) -> Result<Move, DisputeError> {
        let segment = *game.segment();
        self.trace.focus(segment.start, segment.end);
        let phase = game.phase();
        if let Lie::Malformed { .. } = self.lie {
            let turn = (game.rounds(), phase);
            if phase != Phase::Over && self.malformed_turn != Some(turn) {
                self.malformed_turn = Some(turn);
                return Ok(self.malformed(game));
            }
        }
        Ok(match (phase, role) {
            (Phase::Bisect, Party::Asserter) => self.bisect(game),
            (Phase::Choose, Party::Challenger) => self.choose(game),
            // Proving would only confirm the truth; a lying asserter waits it out.
            (Phase::OneStep, Party::Asserter) => Move::Wait,
            (Phase::OneStep, Party::Challenger) => match self.lie {
                Lie::StallFrom { .. } | Lie::WrongInterior { .. } => Move::Wait,
                Lie::Malformed { .. } => self.garbage_proof(),
                Lie::WrongFrom(_) | Lie::FlipAt { .. } | Lie::PickLongest => {
                    Move::Prove(self.trace.proof_at(segment.start)?)
                }
            },
            _ => Move::Wait,
        })
    }

    fn op_at(&self, step: u64) -> Option<Op> {
        self.trace.op_at(step)
    }
}
