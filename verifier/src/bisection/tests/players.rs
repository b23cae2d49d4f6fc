//! Players: honest ones compute every hash from the toy; dishonest ones believe a buggy trace,
//! lie, flip, stall or dawdle. A plan says what a player does; `act` turns it into one move.

use vm::MachineHash;

use super::toy::{bogus, SplitMix64, Toy};
use crate::bisection::{Bisection, Phase};

/// One move a player wants to make, after `delay` ticks of thinking.
#[derive(Debug)]
pub(super) enum Action {
    Bisect(Vec<MachineHash>),
    Choose(usize),
    Prove(Vec<u8>),
    Wait,
}

/// The trace a player believes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Belief {
    Truth,
    /// A buggy machine: right before step `d`, wrong from step `d` on.
    ForkAt(u64),
}

impl Belief {
    pub fn hash(self, toy: &Toy, step: u64) -> MachineHash {
        match self {
            Belief::ForkAt(d) if step >= d => bogus(step, d),
            _ => toy.hash(step),
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct AsserterPlan {
    pub belief: Belief,
    /// In this round, one interior hash (at a random boundary) is replaced by a lie.
    pub lie_at_round: Option<u32>,
    /// From this round on, every interior hash is a lie.
    pub flip_at_round: Option<u32>,
    /// From this round on, the asserter makes no move at all.
    pub stall_from_round: Option<u32>,
    pub max_delay: u64,
}

impl AsserterPlan {
    pub fn honest(max_delay: u64) -> Self {
        AsserterPlan {
            belief: Belief::Truth,
            lie_at_round: None,
            flip_at_round: None,
            stall_from_round: None,
            max_delay,
        }
    }

    pub fn claimed_post(&self, toy: &Toy, steps: u64) -> MachineHash {
        self.belief.hash(toy, steps)
    }

    pub fn act(&self, game: &Bisection, toy: &Toy, rng: &mut SplitMix64) -> (u64, Action) {
        let round = game.rounds();
        let delay = rng.below(self.max_delay + 1);
        if self.stall_from_round.is_some_and(|r| round >= r) {
            return (delay, Action::Wait);
        }
        match game.phase() {
            Phase::Bisect => {
                let bounds = game.sub_segment_bounds();
                let inner = &bounds[1..bounds.len() - 1];
                let mut interior: Vec<MachineHash> =
                    inner.iter().map(|&b| self.belief.hash(toy, b)).collect();
                if self.flip_at_round.is_some_and(|r| round >= r) {
                    interior = inner.iter().map(|&b| bogus(b, u64::MAX)).collect();
                }
                if self.lie_at_round == Some(round) {
                    let j = rng.below(inner.len() as u64) as usize;
                    interior[j] = bogus(inner[j], u64::MAX - 1 - u64::from(round));
                }
                (delay, Action::Bisect(interior))
            }
            // Proving even a losing step ends the game; a dishonest asserter that would rather
            // stall has a `stall_from_round`.
            Phase::OneStep => {
                let seg = game.segment();
                (delay, Action::Prove(Toy::proof(seg.start, &seg.start_hash)))
            }
            Phase::Choose | Phase::Over => (delay, Action::Wait),
        }
    }
}

/// How a challenger picks a sub-segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pick {
    /// The first sub-segment whose end hash disagrees with its belief (the last if none does).
    FirstDisagreement,
    /// Uniformly at random.
    Random,
    /// A longest sub-segment, whatever the hashes: the game's deepest path.
    Longest,
}

#[derive(Clone, Debug)]
pub(super) struct ChallengerPlan {
    pub belief: Belief,
    pub pick: Pick,
    /// From this round on, picks at random whatever `pick` says.
    pub random_from_round: Option<u32>,
    /// From this round on, the challenger makes no move at all.
    pub stall_from_round: Option<u32>,
    pub max_delay: u64,
}

impl ChallengerPlan {
    pub fn honest(max_delay: u64) -> Self {
        ChallengerPlan {
            belief: Belief::Truth,
            pick: Pick::FirstDisagreement,
            random_from_round: None,
            stall_from_round: None,
            max_delay,
        }
    }

    pub fn act(&self, game: &Bisection, toy: &Toy, rng: &mut SplitMix64) -> (u64, Action) {
        let round = game.rounds();
        let delay = rng.below(self.max_delay + 1);
        if self.stall_from_round.is_some_and(|r| round >= r) {
            return (delay, Action::Wait);
        }
        match game.phase() {
            Phase::Choose => {
                let bounds = game.sub_segment_bounds();
                let hashes = game.posted_hashes().unwrap();
                assert_eq!(bounds.len(), hashes.len());
                let parts = bounds.len() - 1;
                let pick = if self.random_from_round.is_some_and(|r| round >= r) {
                    Pick::Random
                } else {
                    self.pick
                };
                let index = match pick {
                    Pick::FirstDisagreement => (0..parts)
                        .find(|&i| hashes[i + 1] != self.belief.hash(toy, bounds[i + 1]))
                        .unwrap_or(parts - 1),
                    Pick::Random => rng.below(parts as u64) as usize,
                    Pick::Longest => {
                        let longest = bounds.windows(2).map(|w| w[1] - w[0]).max().unwrap();
                        (0..parts)
                            .find(|&i| bounds[i + 1] - bounds[i] == longest)
                            .unwrap()
                    }
                };
                (delay, Action::Choose(index))
            }
            Phase::OneStep => {
                let seg = game.segment();
                (delay, Action::Prove(Toy::proof(seg.start, &seg.start_hash)))
            }
            Phase::Bisect | Phase::Over => (delay, Action::Wait),
        }
    }
}
