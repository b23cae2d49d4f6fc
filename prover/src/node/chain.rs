//! What L1 says about the assertion chain and its games, read afresh every turn from the rollup's
//! events (and views for the few things that change without one): a node keeps no copy of it that
//! could go stale across a restart. Statuses come from events, so a turn costs a handful of calls
//! however long the chain is.

use alloy_primitives::Address;
use verifier::bisection::{Bisection, BisectionConfig, Claim, Party};
use verifier::l1::{Log, L1};
use verifier::settlement::contracts::{events, view, Deployment, Rollup};
use vm::MachineHash;

use super::NodeError;
use crate::settlement::{fetch_assertions, AssertionRecord};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Confirmed,
    Rejected,
}

#[derive(Clone, Debug)]
pub struct AssertionState {
    pub record: AssertionRecord,
    pub status: Status,
    /// Views, read for pending assertions only (genesis and settled ones have zeros here).
    pub asserter: Address,
    pub created_at: u64,
    pub open_challenges: u32,
}

impl AssertionState {
    pub fn batch(&self) -> u64 {
        self.record.data.batchNumber
    }
}

/// A game as its events tell it.
#[derive(Clone, Debug)]
pub struct GameState {
    pub id: u64,
    pub assertion_id: u64,
    pub challenger: Address,
    pub claim: Claim,
    /// The asserter's interior hashes and the challenger's choices, in order.
    pub moves: Vec<GameMove>,
    pub decided: bool,
}

#[derive(Clone, Debug)]
pub enum GameMove {
    Bisected(Vec<MachineHash>),
    Chosen(usize),
}

#[derive(Clone, Debug)]
pub struct ChainView {
    /// When the node's next transaction will be mined, about: the later of the latest block's
    /// timestamp and the wall clock (an idle L1 makes no blocks, so its head's time stands still).
    /// Only when to try a duty depends on it; L1 refuses one tried early.
    pub now: u64,
    pub tip: u64,
    pub last_confirmed: u64,
    pub challenge_period: u64,
    pub withdrawal_delay: u64,
    /// By id, genesis first.
    pub assertions: Vec<AssertionState>,
    pub games: Vec<GameState>,
}

impl ChainView {
    pub fn assertion(&self, id: u64) -> Option<&AssertionState> {
        self.assertions.get(usize::try_from(id).ok()?)
    }

    /// The tip's chain, genesis first: the assertions the next one builds on.
    pub fn tip_chain(&self) -> Vec<&AssertionState> {
        let mut chain = Vec::new();
        let mut id = self.tip;
        while let Some(a) = self.assertion(id) {
            chain.push(a);
            if id == 0 {
                break;
            }
            id = a.record.data.parentId;
        }
        chain.reverse();
        chain
    }
}

fn ids<E: alloy_sol_types::SolEvent>(logs: &[Log], id: impl Fn(&E) -> u64) -> Vec<u64> {
    events::<E>(logs).iter().map(|(e, _)| id(e)).collect()
}

/// Reads the chain's assertions and games from L1.
pub fn read(l1: &mut dyn L1, deployment: &Deployment) -> Result<ChainView, NodeError> {
    let rollup = deployment.rollup;
    let (head, head_time) = l1.head()?;
    let now = head_time.max(super::service::unix_now());
    let logs = l1.logs(rollup, deployment.first_block, head)?;
    let confirmed = ids::<Rollup::AssertionConfirmed>(&logs, |e| e.id);
    let rejected = ids::<Rollup::AssertionRejected>(&logs, |e| e.id);
    let mut assertions = Vec::new();
    for record in fetch_assertions(l1, deployment)? {
        let id = record.id;
        let status = if id == 0 || confirmed.contains(&id) {
            Status::Confirmed
        } else if rejected.contains(&id) {
            Status::Rejected
        } else {
            Status::Pending
        };
        let (mut asserter, mut created_at, mut open_challenges) = (Address::ZERO, 0, 0);
        if status == Status::Pending {
            let state = view(l1, rollup, Rollup::assertionCall { id })?;
            asserter = state.asserter;
            created_at = state.createdAt;
            open_challenges = state.openChallenges.to::<u32>();
        }
        assertions.push(AssertionState {
            record,
            status,
            asserter,
            created_at,
            open_challenges,
        });
    }
    let decided = ids::<Rollup::ChallengeDecided>(&logs, |e| e.gameId);
    let mut games: Vec<GameState> = events::<Rollup::ChallengeOpened>(&logs)
        .into_iter()
        .map(|(e, _)| GameState {
            id: e.gameId,
            assertion_id: e.assertionId,
            challenger: e.challenger,
            claim: Claim {
                pre: MachineHash(e.pre.0),
                post: MachineHash(e.post.0),
                steps: e.steps,
            },
            moves: Vec::new(),
            decided: decided.contains(&e.gameId),
        })
        .collect();
    // Moves in log order, which is the order L1 applied them.
    for log in &logs {
        let one = std::slice::from_ref(log);
        if let Some((e, _)) = events::<Rollup::Bisected>(one).pop() {
            if let Some(game) = games.iter_mut().find(|g| g.id == e.gameId) {
                let interior = e.interior.iter().map(|h| MachineHash(h.0)).collect();
                game.moves.push(GameMove::Bisected(interior));
            }
        } else if let Some((e, _)) = events::<Rollup::Chosen>(one).pop() {
            if let Some(game) = games.iter_mut().find(|g| g.id == e.gameId) {
                let index = usize::try_from(e.index).unwrap_or(usize::MAX);
                game.moves.push(GameMove::Chosen(index));
            }
        }
    }
    Ok(ChainView {
        now,
        tip: view(l1, rollup, Rollup::latestAssertionIdCall {})?,
        last_confirmed: view(l1, rollup, Rollup::lastConfirmedIdCall {})?,
        challenge_period: view(l1, rollup, Rollup::challengePeriodCall {})?,
        withdrawal_delay: view(l1, rollup, Rollup::withdrawalDelayCall {})?,
        assertions,
        games,
    })
}

/// The game's bisection as the Rust referee sees it after the moves L1 applied (clocks are
/// left out: L1 keeps them, and the player reads them there).
pub fn model_of(
    l1: &mut dyn L1,
    deployment: &Deployment,
    game: &GameState,
) -> Result<Bisection, NodeError> {
    let rollup = deployment.rollup;
    let config = BisectionConfig {
        arity: view(l1, rollup, Rollup::arityCall {})?,
        clock_budget: u64::MAX / 4,
        bond: 0,
        burn_bps: 0,
    };
    let mut model = Bisection::starting_at(game.claim, config, 0)
        .map_err(|e| NodeError::Game(format!("game {}: {e}", game.id)))?;
    for mv in &game.moves {
        let applied = match mv {
            GameMove::Bisected(interior) => model.bisect(Party::Asserter, interior, 0),
            GameMove::Chosen(index) => model.choose(Party::Challenger, *index, 0),
        };
        applied.map_err(|e| {
            NodeError::Game(format!(
                "game {}: L1 applied a move the referee refuses: {e}",
                game.id
            ))
        })?;
    }
    Ok(model)
}
