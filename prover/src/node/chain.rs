//! What L1 says about the assertions and their disputes, read afresh every turn from the rollup's
//! events (and views for the few things that change without one): a node keeps no copy of it that
//! could go stale across a restart. Statuses come from events, so a turn costs a handful of calls
//! however long the chain is.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use alloy_primitives::Address;
use verifier::bisection::referee::{root_challenge_key, Node, NodeKey, NodeState};
use verifier::l1::{Log, L1};
use verifier::settlement::contracts::{events, view, Deployment, Rollup};

use super::NodeError;
use crate::dispute::tree::read_tree;
use crate::settlement::{assertions_logged, AssertionRecord, L1Log};

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
    pub asserter: Address,
    pub created_at: u64,
}

impl AssertionState {
    pub fn batch(&self) -> u64 {
        self.record.data.batchNumber
    }

    pub fn parent(&self) -> u64 {
        self.record.data.parentId
    }
}

/// A stake as the contract holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StakeState {
    pub latest: u64,
    pub since: u64,
}

#[derive(Clone, Debug)]
pub struct ChainView {
    /// When the node's next transaction will be mined, about: the later of the latest block's
    /// timestamp and the wall clock (an idle L1 makes no blocks, so its head's time stands still).
    /// Only when to try a duty depends on it; L1 refuses one tried early.
    pub now: u64,
    pub last_confirmed: u64,
    pub challenge_period: u64,
    pub withdrawal_delay: u64,
    pub clock_budget: u64,
    pub arity: u32,
    /// By id, genesis first.
    pub assertions: Vec<AssertionState>,
    /// Every dispute node, by key.
    pub tree: BTreeMap<NodeKey, Node>,
}

impl ChainView {
    pub fn assertion(&self, id: u64) -> Option<&AssertionState> {
        self.assertions.get(usize::try_from(id).ok()?)
    }

    /// The children of `id`, in id order.
    pub fn children(&self, id: u64) -> impl Iterator<Item = &AssertionState> {
        self.assertions
            .iter()
            .skip(1)
            .filter(move |a| a.parent() == id)
    }

    /// Whether `id`'s root challenge exists and is still open.
    pub fn dispute_open(&self, id: u64) -> bool {
        self.tree
            .get(&root_challenge_key(id))
            .is_some_and(|n| n.state == NodeState::Open)
    }

    /// The child of `id` that was confirmed, if any.
    pub fn confirmed_child(&self, id: u64) -> Option<u64> {
        self.children(id)
            .find(|c| c.status == Status::Confirmed)
            .map(|c| c.record.id)
    }

    /// Challenges and rival claims assertion `id` has been in: its rivals (the other children
    /// of its parent) and its root challenge.
    pub fn disputes(&self, id: u64) -> usize {
        let Some(a) = self.assertion(id) else {
            return 0;
        };
        if id == 0 {
            return 0;
        }
        let rivals = self.children(a.parent()).count().saturating_sub(1);
        rivals + usize::from(self.tree.contains_key(&root_challenge_key(id)))
    }
}

fn ids<E: alloy_sol_types::SolEvent>(logs: &[Log], id: impl Fn(&E) -> u64) -> Vec<u64> {
    events::<E>(logs).iter().map(|(e, _)| id(e)).collect()
}

/// A staker's stake, if it has one.
pub fn stake_of(
    l1: &mut dyn L1,
    deployment: &Deployment,
    staker: Address,
) -> Result<Option<StakeState>, NodeError> {
    let stake = view(l1, deployment.rollup, Rollup::stakeOfCall { staker })?;
    Ok(stake.active.then_some(StakeState {
        latest: stake.latest,
        since: stake.since,
    }))
}

/// Reads the assertions and their disputes: what `log` holds of them, and their state from L1.
pub fn read(l1: &mut dyn L1, log: &L1Log) -> Result<ChainView, NodeError> {
    let deployment = log.deployment();
    let rollup = deployment.rollup;
    let (_, head_time) = l1.head()?;
    let now = head_time.max(unix_now());
    let logs = log.rollup_logs();
    let confirmed = ids::<Rollup::AssertionConfirmed>(logs, |e| e.id);
    let rejected = ids::<Rollup::AssertionRejected>(logs, |e| e.id);
    let mut assertions = Vec::new();
    for record in assertions_logged(l1, log)? {
        let id = record.id;
        let status = if id == 0 || confirmed.contains(&id) {
            Status::Confirmed
        } else if rejected.contains(&id) {
            Status::Rejected
        } else {
            Status::Pending
        };
        // Views for the pending only: a settled assertion's asserter and time no longer matter
        // to a duty, and a long chain must not cost a call per assertion per turn.
        let (mut asserter, mut created_at) = (Address::ZERO, 0);
        if status == Status::Pending {
            let state = view(l1, rollup, Rollup::assertionCall { id })?;
            asserter = state.asserter;
            created_at = state.createdAt;
        }
        assertions.push(AssertionState {
            record,
            status,
            asserter,
            created_at,
        });
    }
    Ok(ChainView {
        now,
        last_confirmed: view(l1, rollup, Rollup::lastConfirmedIdCall {})?,
        challenge_period: view(l1, rollup, Rollup::challengePeriodCall {})?,
        withdrawal_delay: view(l1, rollup, Rollup::withdrawalDelayCall {})?,
        clock_budget: view(l1, rollup, Rollup::clockBudgetCall {})?,
        arity: view(l1, rollup, Rollup::arityCall {})?,
        assertions,
        tree: read_tree(l1, deployment, logs)?,
    })
}

/// The wall clock, in Unix seconds (what an L1 stamps its next block with, about).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
