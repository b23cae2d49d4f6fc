//! Plays the disputes of every batch whose parent assertion the node agrees with, unattended and
//! from L1's state alone: it defends the true claims whoever posted them, refutes the wrong ones,
//! challenges wrong assertions and resolves what is ripe ([`verifier::bisection::honest`]). Only
//! the run of each disputed batch is kept in memory (checkpoints, rebuilt on demand), so a
//! restarted node resumes every dispute where L1 has it.
//!
//! With `--fault throw` or `--fault sybil:N` it also plays the attacker, from keys derived from
//! its own (funded from it as needed), so that outside checks can stage those attacks with real
//! processes.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, U256};
use program::ledger::BatchOutputs;
use program::NodeStore;
use verifier::bisection::honest::{honest_moves, AssertionView, Trace, TreeMove};
use verifier::bisection::referee::root_challenge_key;
use verifier::l1::{TxReceipt, Wallet, L1};
use verifier::settlement::contracts::{view, Deployment, Rollup};

use super::chain::{AssertionState, ChainView, Status};
use super::duties::{Duties, Fault, OwnClaim};
use super::follower::applied;
use super::state::Shared;
use super::NodeError;
use crate::dispute::tree::{
    move_name, send_tree_move, LyingTrace, MoveContext, RunKnowledge, RunTrace,
};
use crate::dispute::{checkpoint_count, Checkpoints, Computation};
use crate::settlement::{assert_batch, AssertionRecord, BatchClaim};
use crate::StfGuest;

/// A thrower challenges its own assertion this many seconds (at most a quarter of the period)
/// before the period ends.
const THROW_LEAD: u64 = 20;

/// A move the player sent, and whether L1 took it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Played {
    /// The assertion whose dispute it belongs to (for a new assertion, its parent's child).
    pub assertion: u64,
    /// Who sent it: the node itself, or one of its fault keys.
    pub from: Address,
    pub kind: &'static str,
    pub refused: Option<String>,
}

#[derive(Default)]
pub struct Player {
    /// The node's run of each disputed batch, by batch number.
    runs: BTreeMap<u64, RunTrace>,
    /// Keys for faults: the thrower's second key, the sybils'.
    throw_key: Option<Wallet>,
    sybil_keys: Vec<Wallet>,
}

/// A key derived from `wallet`'s, for a fault's attacker `k` of `label`.
pub fn derived_key(wallet: &Wallet, label: &str, k: u32) -> Wallet {
    let mut seed = wallet.key().to_bytes().to_vec();
    seed.extend_from_slice(label.as_bytes());
    seed.extend_from_slice(&k.to_be_bytes());
    let mut secret = program::keccak256(&seed);
    loop {
        if let Some(wallet) = Wallet::from_secret(&secret) {
            return wallet;
        }
        secret = program::keccak256(&secret);
    }
}

impl Player {
    /// The player of a node with `wallet` and `fault`: its fault keys derived.
    pub fn new(wallet: &Wallet, fault: Option<Fault>) -> Player {
        Player {
            runs: BTreeMap::new(),
            throw_key: (fault == Some(Fault::Throw)).then(|| derived_key(wallet, "throw", 0)),
            sybil_keys: match fault {
                Some(Fault::Sybil(n)) => (0..n).map(|k| derived_key(wallet, "sybil", k)).collect(),
                _ => Vec::new(),
            },
        }
    }

    /// The addresses a fault plays from (printed at start).
    pub fn fault_addresses(&self) -> Vec<Address> {
        self.throw_key
            .iter()
            .chain(&self.sybil_keys)
            .map(|w| w.address())
            .collect()
    }

    /// Every move due in the disputes the node plays (and its fault's, if any). `nodes` must hold
    /// the trie of the disputed batches' pre-states.
    pub fn play(
        &mut self,
        l1: &mut dyn L1,
        duties: &mut Duties,
        state: &Shared,
        guest: &StfGuest,
        chain: &ChainView,
        nodes: &NodeStore,
    ) -> Result<Vec<Played>, NodeError> {
        let me = duties.wallet.address();
        let mut played = Vec::new();
        let records: BTreeMap<u64, AssertionRecord> = chain
            .assertions
            .iter()
            .map(|a| (a.record.id, a.record.clone()))
            .collect();
        let mut live_batches = Vec::new();
        let parents: Vec<u64> = duties.agreed.iter().copied().collect();
        for parent_id in parents {
            let Some(parent) = chain.assertion(parent_id) else {
                continue;
            };
            if parent.status == Status::Rejected {
                continue;
            }
            let children: Vec<&AssertionState> = chain.children(parent_id).collect();
            let disputed = children.iter().any(|c| {
                let wrong = c.status == Status::Pending && !duties.agreed.contains(&c.record.id);
                let open = chain.tree.values().any(|n| {
                    n.assertion == c.record.id
                        && n.state == verifier::bisection::referee::NodeState::Open
                });
                wrong || open
            });
            let sybil_targets = !self.sybil_keys.is_empty()
                && children.iter().any(|c| self.is_sybil_target(c, me, chain));
            let throw_due = duties.fault == Some(Fault::Throw)
                && children
                    .iter()
                    .any(|c| c.asserter == me && c.status == Status::Pending);
            if !disputed && !sybil_targets && !throw_due {
                continue;
            }
            let Some(own) = duties.own_claim(state, guest, &parent.record)? else {
                continue;
            };
            let batch = parent.batch() + 1;
            live_batches.push(batch);
            if !self.runs.contains_key(&batch) {
                let run = self.run_of(state, guest, parent, &own, nodes, chain.arity)?;
                self.runs.insert(batch, run);
            }
            if sybil_targets {
                played.extend(self.post_sybil_rivals(l1, state, duties, chain, parent, &own)?);
            }
            let Some(run) = self.runs.get_mut(&batch) else {
                continue;
            };
            let cx = MoveContext {
                deployment: &duties.deployment,
                initial: &duties.initial,
                assertions: &records,
            };
            // Its own wrong assertions (a --fault wrong-root lie) it plays as the liar it is; an
            // honest node attacks a wrong assertion of its own like any other.
            let liar = duties.fault == Some(Fault::WrongRoot);
            let own_lies: Vec<&AssertionState> = children
                .iter()
                .copied()
                .filter(|c| liar && c.asserter == me && c.status == Status::Pending)
                .filter(|c| !duties.agreed.contains(&c.record.id))
                .collect();
            // The honest side: every child but its own lies; a thrower never defends its own,
            // and a sybil node plays only its own (the batches it attacks are for others).
            let views: Vec<AssertionView> = children
                .iter()
                .filter(|c| !own_lies.iter().any(|l| l.record.id == c.record.id))
                .filter(|c| match duties.fault {
                    Some(Fault::Throw) => c.asserter != me,
                    Some(Fault::Sybil(_)) => c.asserter == me,
                    _ => true,
                })
                .map(|c| view_of(c, chain))
                .collect();
            let no_funding = &mut |_: &mut dyn L1| Ok(());
            played.extend(play_side(
                l1,
                &duties.wallet,
                &cx,
                run,
                &views,
                chain,
                false,
                no_funding,
            )?);
            for lie in &own_lies {
                let mut trace = lie_of(run.clone(), lie);
                let views: Vec<AssertionView> = children
                    .iter()
                    .filter(|c| c.record.id == lie.record.id || c.asserter != me)
                    .map(|c| view_of(c, chain))
                    .collect();
                played.extend(play_side(
                    l1,
                    &duties.wallet,
                    &cx,
                    &mut trace,
                    &views,
                    chain,
                    true,
                    no_funding,
                )?);
            }
            // The attackers' sides.
            if duties.fault == Some(Fault::Throw) {
                if let Some(key) = self.throw_key.clone() {
                    played.extend(throw(l1, &key, duties, chain, &children, &cx)?);
                }
            }
            let sybil_keys = self.sybil_keys.clone();
            let targets: Vec<u64> = children
                .iter()
                .filter(|c| self.is_sybil_target(c, me, chain))
                .map(|c| c.record.id)
                .collect();
            let Some(run) = self.runs.get_mut(&batch) else {
                continue;
            };
            for key in sybil_keys {
                let Some(rival) = children.iter().find(|c| c.asserter == key.address()) else {
                    continue;
                };
                let mut lie = lie_of(run.clone(), rival);
                let views: Vec<AssertionView> = children
                    .iter()
                    .filter(|c| c.record.id == rival.record.id || targets.contains(&c.record.id))
                    .map(|c| view_of(c, chain))
                    .collect();
                let deployment = &duties.deployment;
                let main = &duties.wallet;
                let funding = &mut |l1: &mut dyn L1| {
                    let want = chain_bond(l1, deployment)? * U256::from(4);
                    fund(l1, main, &key, want)
                };
                played.extend(play_side(
                    l1, &key, &cx, &mut lie, &views, chain, true, funding,
                )?);
            }
        }
        self.runs.retain(|batch, _| live_batches.contains(batch));
        Ok(played)
    }

    fn is_sybil_target(&self, c: &AssertionState, me: Address, chain: &ChainView) -> bool {
        c.status == Status::Pending
            && c.asserter != me
            && !self.sybil_keys.iter().any(|k| k.address() == c.asserter)
            && chain.now < c.created_at.saturating_add(chain.challenge_period)
    }

    /// Each sybil key posts its wrong rival on `parent` once.
    fn post_sybil_rivals(
        &mut self,
        l1: &mut dyn L1,
        state: &Shared,
        duties: &Duties,
        chain: &ChainView,
        parent: &AssertionState,
        own: &OwnClaim,
    ) -> Result<Vec<Played>, NodeError> {
        let mut played = Vec::new();
        let batch = applied(state, parent.batch() + 1)?;
        let stake = view(l1, duties.deployment.rollup, Rollup::assertionBondCall {})?;
        for (k, key) in self.sybil_keys.clone().iter().enumerate() {
            if chain
                .children(parent.record.id)
                .any(|c| c.asserter == key.address())
            {
                continue;
            }
            let want = stake + chain_bond(l1, &duties.deployment)? * U256::from(4);
            fund(l1, &duties.wallet, key, want)?;
            let claim = sybil_claim(own, k as u64)?;
            let kind = "assert (sybil)";
            let refused =
                match assert_batch(l1, key, &duties.deployment, &parent.record, &batch, &claim) {
                    Ok(_) => None,
                    Err(crate::settlement::SettleError::L1(verifier::l1::L1Error::Reverted(r))) => {
                        Some(r.error)
                    }
                    Err(e) => return Err(e.into()),
                };
            played.push(Played {
                assertion: parent.record.id,
                from: key.address(),
                kind,
                refused,
            });
        }
        Ok(played)
    }

    /// The node's run of the batch after `parent`, checkpointed for the disputes.
    fn run_of(
        &self,
        state: &Shared,
        guest: &StfGuest,
        parent: &AssertionState,
        own: &OwnClaim,
        nodes: &NodeStore,
        arity: u32,
    ) -> Result<RunTrace, NodeError> {
        let batch = applied(state, parent.batch() + 1)?;
        let abi = batch.abi(&parent.record.post_state_root()?, nodes.clone());
        let computation = Computation::stf_abi(guest, abi)
            .map_err(|e| NodeError::Game(format!("batch {}: {e}", batch.number)))?;
        Ok(RunTrace::new(Checkpoints::build(
            computation,
            own.steps,
            checkpoint_count(own.steps, arity),
        )))
    }
}

/// `wallet` plays the side of `run` in the disputes of `views`: every move of
/// [`honest_moves`] for that run. A liar sends no proofs (its proofs come from the truth: the
/// checker refuses them). `before_each` runs before each move (a fault key is funded there).
#[allow(clippy::too_many_arguments)]
fn play_side(
    l1: &mut dyn L1,
    wallet: &Wallet,
    cx: &MoveContext,
    run: &mut dyn RunKnowledge,
    views: &[AssertionView],
    chain: &ChainView,
    liar: bool,
    before_each: &mut dyn FnMut(&mut dyn L1) -> Result<(), NodeError>,
) -> Result<Vec<Played>, NodeError> {
    let moves = honest_moves(
        run,
        views,
        &chain.tree,
        chain.arity,
        chain.clock_budget,
        chain.now,
    );
    let mut played = Vec::new();
    for mv in moves.iter().filter(|mv| !(liar && is_proof(mv))) {
        before_each(l1)?;
        played.push(send(l1, wallet, cx, run, mv)?);
    }
    Ok(played)
}

/// A proof move.
fn is_proof(mv: &TreeMove) -> bool {
    matches!(
        mv,
        TreeMove::ProveStep { .. }
            | TreeMove::ProveHalted { .. }
            | TreeMove::ProveAssertionStep { .. }
    )
}

fn view_of(c: &AssertionState, chain: &ChainView) -> AssertionView {
    AssertionView {
        id: c.record.id,
        final_hash: vm::MachineHash(c.record.data.finalMachineHash.0),
        steps: c.record.data.steps,
        pending: c.status == Status::Pending,
        challengeable: chain.now < c.created_at.saturating_add(chain.challenge_period),
    }
}

fn chain_bond(l1: &mut dyn L1, deployment: &Deployment) -> Result<U256, NodeError> {
    Ok(view(l1, deployment.rollup, Rollup::challengeBondCall {})?)
}

/// Tops `to` up to `amount` from `from`.
fn fund(l1: &mut dyn L1, from: &Wallet, to: &Wallet, amount: U256) -> Result<(), NodeError> {
    let has = l1.balance(to.address())?;
    if has < amount {
        l1.send(from, to.address(), amount - has, Vec::new())?
            .success()?;
    }
    Ok(())
}

fn send(
    l1: &mut dyn L1,
    wallet: &Wallet,
    cx: &MoveContext,
    run: &dyn RunKnowledge,
    mv: &TreeMove,
) -> Result<Played, NodeError> {
    let receipt: TxReceipt = send_tree_move(l1, wallet, cx, run, mv)?;
    Ok(Played {
        assertion: match mv {
            TreeMove::ChallengeAssertion { id } | TreeMove::ProveAssertionStep { id } => *id,
            _ => 0,
        },
        from: wallet.address(),
        kind: move_name(mv),
        refused: receipt.outcome.as_ref().err().map(|r| r.error.clone()),
    })
}

/// The thrower's second key challenges each of the node's own pending assertions shortly before
/// its period ends (and then never plays).
fn throw(
    l1: &mut dyn L1,
    key: &Wallet,
    duties: &Duties,
    chain: &ChainView,
    children: &[&AssertionState],
    cx: &MoveContext,
) -> Result<Vec<Played>, NodeError> {
    let me = duties.wallet.address();
    let lead = THROW_LEAD.min(chain.challenge_period / 4);
    let mut played = Vec::new();
    for c in children
        .iter()
        .filter(|c| c.asserter == me && c.status == Status::Pending)
    {
        let ends = c.created_at.saturating_add(chain.challenge_period);
        let due = chain.now.saturating_add(lead) >= ends && chain.now < ends;
        if !due || chain.tree.contains_key(&root_challenge_key(c.record.id)) {
            continue;
        }
        let want = chain_bond(l1, &duties.deployment)? * U256::from(2);
        fund(l1, &duties.wallet, key, want)?;
        let mv = TreeMove::ChallengeAssertion { id: c.record.id };
        let receipt = send_tree_move(l1, key, cx, &NoRun, &mv)?;
        played.push(Played {
            assertion: c.record.id,
            from: key.address(),
            kind: "challengeAssertion (throw)",
            refused: receipt.outcome.as_ref().err().map(|r| r.error.clone()),
        });
    }
    Ok(played)
}

/// What a party that never proves knows of a run: nothing.
struct NoRun;

impl Trace for NoRun {
    fn hash_at(&mut self, _: u64) -> vm::MachineHash {
        vm::MachineHash([0; 32])
    }
    fn halt_step(&self) -> u64 {
        0
    }
}

impl RunKnowledge for NoRun {
    fn proof_at(&self, step: u64) -> Result<Vec<u8>, crate::settlement::SettleError> {
        Err(crate::settlement::SettleError::Missing(format!(
            "a proof at step {step}"
        )))
    }
    fn opening_at(&self, _: u64) -> (Vec<u8>, B256) {
        (Vec::new(), B256::ZERO)
    }
}

/// Sybil `k`'s wrong claim: by turns a wrong post-state root (salted by k), more steps than the
/// run took, or fewer.
fn sybil_claim(own: &OwnClaim, k: u64) -> Result<BatchClaim, NodeError> {
    let mut claim = BatchClaim {
        outputs: own.outputs.clone(),
        final_state: own.final_state.clone(),
        final_hash: own.final_hash,
        steps: own.steps,
        store: NodeStore::new(),
    };
    match k % 3 {
        0 => {
            let mut outputs = BatchOutputs::from_bytes(&claim.outputs)
                .map_err(|e| NodeError::Encode(e.to_string()))?;
            let mut salted = outputs.post_state_root.to_vec();
            salted.extend_from_slice(&k.to_be_bytes());
            outputs.post_state_root = program::keccak256(&salted);
            claim.outputs = outputs.to_bytes().to_vec();
        }
        1 => claim.steps = own.steps + 1 + k,
        _ => claim.steps = own.steps.saturating_sub(1 + k).max(1),
    }
    Ok(claim)
}

/// The lie a sybil plays for its rival: true up to a point, then its claim's hashes.
fn lie_of(truth: RunTrace, rival: &AssertionState) -> LyingTrace {
    let steps = rival.record.data.steps;
    let final_hash = vm::MachineHash(rival.record.data.finalMachineHash.0);
    // A wrong root is wrong only in its last hash; a step count is wrong from where it differs.
    let from = if steps == truth.halt_step() {
        steps
    } else {
        steps.min(truth.halt_step())
    };
    LyingTrace {
        truth,
        from,
        steps,
        final_hash,
    }
}
