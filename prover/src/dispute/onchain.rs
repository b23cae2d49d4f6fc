//! Disputes played on L1 by any number of parties, each move also applied to the Rust referee
//! ([`Referee`]) as the model. The contract decides; the model must agree with every acceptance,
//! every refusal (by the error's name), every node's state and clocks, every assertion's status
//! and every party's credits, or the driver stops with [`OnchainError::Disagreement`]. So every
//! dispute played here is a differential test of `Disputes.sol` and `AssertionChain.sol` against
//! `verifier::bisection::referee`.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolValue;
use verifier::bisection::honest::{honest_moves, AssertionView, TreeMove};
use verifier::bisection::referee::{
    AssertionClaim, AssertionStatus, Referee, RefereeConfig, Refusal,
};
use verifier::l1::{L1Error, TxReceipt, Wallet, L1};
use verifier::settlement::contracts::{events, view, Deployment, Rollup};
use verifier::settlement::{host_root, MachineOpening};
use vm::MachineHash;

use super::tree::{move_name, send_tree_move, MoveContext, RunKnowledge};
use crate::settlement::{AssertionRecord, SettleError};

#[derive(Debug, thiserror::Error)]
pub enum OnchainError {
    #[error(transparent)]
    L1(#[from] L1Error),
    #[error(transparent)]
    Settle(#[from] SettleError),
    #[error("the contract and the Rust referee disagree on {what}: contract {contract}, referee {model}")]
    Disagreement {
        what: String,
        contract: String,
        model: String,
    },
    #[error("assertion {0} was not decided within {1} L1 seconds")]
    Undecided(u64, u64),
}

/// The Rust referee kept in step with a deployment's contracts: every assertion and move the
/// contracts take, the model takes too, at the same L1 second.
pub struct Mirror {
    pub referee: Referee,
    initial: MachineOpening,
}

fn disagreement(
    what: impl Into<String>,
    contract: impl ToString,
    model: impl ToString,
) -> OnchainError {
    OnchainError::Disagreement {
        what: what.into(),
        contract: contract.to_string(),
        model: model.to_string(),
    }
}

/// The time of the block L1 mined last (where a just-sent transaction landed).
fn now(l1: &mut dyn L1) -> Result<u64, L1Error> {
    Ok(l1.head()?.1)
}

impl Mirror {
    /// The model of a fresh deployment (genesis only).
    pub fn new(
        l1: &mut dyn L1,
        deployment: &Deployment,
        initial: &MachineOpening,
        genesis: &AssertionRecord,
    ) -> Result<Mirror, OnchainError> {
        let rollup = deployment.rollup;
        let config = RefereeConfig {
            arity: view(l1, rollup, Rollup::arityCall {})?,
            clock_budget: view(l1, rollup, Rollup::clockBudgetCall {})?,
            challenge_period: view(l1, rollup, Rollup::challengePeriodCall {})?,
            stake: wei(view(l1, rollup, Rollup::assertionBondCall {})?),
            bond: wei(view(l1, rollup, Rollup::challengeBondCall {})?),
            burn_bps: view(l1, rollup, Rollup::burnBpsCall {})?,
        };
        let created = view(l1, rollup, Rollup::assertionCall { id: 0 })?.createdAt;
        Ok(Mirror {
            referee: Referee::new(config, data_hash(genesis), created),
            initial: initial.clone(),
        })
    }

    /// The model's claim of an assertion L1 published.
    pub fn claim_of(&self, record: &AssertionRecord) -> AssertionClaim {
        let data = &record.data;
        AssertionClaim {
            parent: data.parentId,
            data_hash: data_hash(record),
            start_hash: self
                .initial
                .hash_with_host(&host_root(&data.batchRootCommit.0, &[0; 32])),
            final_hash: MachineHash(data.finalMachineHash.0),
            steps: data.steps,
        }
    }

    /// Mirrors an `assert` that L1 took (`receipt`, with the `record` it published). A refused
    /// one changed nothing on L1 and changes nothing here; a caller that wants the model's
    /// refusal compared builds the claim itself (`tests/common/settlement.rs` does).
    pub fn assert(
        &mut self,
        l1: &mut dyn L1,
        asserter: Address,
        value: U256,
        receipt: &TxReceipt,
        record: Option<&AssertionRecord>,
    ) -> Result<(), OnchainError> {
        let at = now(l1)?;
        match (record, &receipt.outcome) {
            (Some(record), Ok(_)) => {
                let id = self
                    .referee
                    .assert(at, asserter, wei(value), self.claim_of(record))
                    .map_err(|e| disagreement("assert", "accepted", e))?;
                if id != record.id {
                    return Err(disagreement("the new assertion's id", record.id, id));
                }
                Ok(())
            }
            (_, Err(_)) => Ok(()),
            (None, Ok(_)) => Err(disagreement("assert", "accepted", "no record given")),
        }
    }

    /// The moves `c` makes at `at` in the disputes of `parent`'s children ([`honest_moves`] with
    /// its own run, on the model's tree, which is the contract's).
    pub fn moves_of(
        &self,
        c: &mut Contestant,
        assertions: &BTreeMap<u64, AssertionRecord>,
        parent: u64,
        at: u64,
    ) -> Vec<TreeMove> {
        let config = self.referee.config();
        let views: Vec<AssertionView> = assertions
            .values()
            .filter(|a| a.data.parentId == parent && a.id != 0)
            .filter(|a| c.plays_in.as_ref().is_none_or(|ids| ids.contains(&a.id)))
            .filter_map(|a| {
                let entry = self.referee.assertion(a.id)?;
                Some(AssertionView {
                    id: a.id,
                    final_hash: MachineHash(a.data.finalMachineHash.0),
                    steps: a.data.steps,
                    pending: entry.status == AssertionStatus::Pending,
                    challengeable: at < entry.created_at + config.challenge_period,
                })
            })
            .collect();
        honest_moves(
            c.run.as_mut(),
            &views,
            self.referee.nodes(),
            config.arity,
            config.clock_budget,
            at,
        )
    }
}

fn wei(value: U256) -> u128 {
    u128::try_from(value).unwrap_or(u128::MAX)
}

/// keccak256(abi.encode(data)): the assertion's identity.
pub fn data_hash(record: &AssertionRecord) -> B256 {
    B256::from(program::keccak256(&record.data.abi_encode()))
}

/// The contract refused with `contract` (`Name(args)`), the model with `model`: the names must
/// match (a refusal of the one-step checker has the checker's own names on each side).
fn check_refusal(what: &str, contract: &str, model: &Refusal) -> Result<(), OnchainError> {
    let name = contract.split('(').next().unwrap_or(contract);
    match model {
        Refusal::ProofRejected(_) => Ok(()),
        refusal if refusal.error_name() == name => Ok(()),
        refusal => Err(disagreement(what, contract, refusal)),
    }
}

/// A party to the disputes of one batch.
pub struct Contestant {
    pub wallet: Wallet,
    /// Its knowledge of the batch's run: the truth, or the lie it plays as the truth.
    pub run: Box<dyn RunKnowledge>,
    /// The assertions (children of the disputed parent) it plays; all of them when `None`.
    pub plays_in: Option<Vec<u64>>,
    /// A silent party only does what the test does for it.
    pub plays: bool,
    pub gas: u64,
    pub moves: u32,
    pub refused: u32,
}

impl Contestant {
    pub fn new(wallet: Wallet, run: Box<dyn RunKnowledge>) -> Contestant {
        Contestant {
            wallet,
            run,
            plays_in: None,
            plays: true,
            gas: 0,
            moves: 0,
            refused: 0,
        }
    }
}

/// How a dispute on L1 ended.
#[derive(Clone, Debug)]
pub struct DisputeReport {
    pub assertion: u64,
    pub status: AssertionStatus,
    /// L1 time the assertion was decided (confirmed or rejected).
    pub decided_at: u64,
    pub created_at: u64,
}

/// Sends one move of `c` to L1 and to the model; the two must agree.
pub fn apply_move(
    l1: &mut dyn L1,
    mirror: &mut Mirror,
    cx: &MoveContext,
    c: &mut Contestant,
    mv: &TreeMove,
) -> Result<TxReceipt, OnchainError> {
    let receipt = send_tree_move(l1, &c.wallet, cx, c.run.as_ref(), mv)?;
    c.gas += receipt.gas_used;
    c.moves += 1;
    let at = now(l1)?;
    let who = c.wallet.address();
    let bond = mirror.referee.config().bond;
    let r = &mut mirror.referee;
    let model = match mv {
        TreeMove::ChallengeAssertion { id } => {
            r.challenge_assertion(at, who, bond, *id).map(|_| ())
        }
        TreeMove::ProveAssertionStep { id } => {
            let proof = c.run.proof_at(0)?;
            r.prove_assertion_step(at, who, *id, &proof, &verifier::StfChecker)
        }
        TreeMove::Dissect { challenge, hashes } => r
            .dissect(at, who, bond, *challenge, hashes.clone())
            .map(|_| ()),
        TreeMove::Challenge {
            dissection,
            hashes,
            index,
        } => r
            .challenge(at, who, bond, *dissection, hashes, *index)
            .map(|_| ()),
        TreeMove::ProveStep {
            dissection,
            hashes,
            index,
            step,
        } => {
            let proof = c.run.proof_at(*step)?;
            r.prove_step(
                at,
                who,
                *dissection,
                hashes,
                *index,
                &proof,
                &verifier::StfChecker,
            )
        }
        TreeMove::ProveHalted {
            dissection,
            hashes,
            step,
        } => {
            let (hot, inner) = c.run.opening_at(*step);
            let mut opening = hot;
            opening.extend_from_slice(inner.as_slice());
            r.prove_halted(at, who, *dissection, hashes, &opening)
        }
        TreeMove::Resolve { key } => r.resolve(at, *key).map(|_| ()),
    };
    match (&receipt.outcome, &model) {
        (Ok(_), Ok(())) => {}
        (Err(revert), Err(refusal)) => {
            c.refused += 1;
            check_refusal(move_name(mv), &revert.error, refusal)?;
        }
        (Ok(_), Err(refusal)) => return Err(disagreement(move_name(mv), "accepted", refusal)),
        (Err(revert), Ok(())) => {
            return Err(disagreement(move_name(mv), &revert.error, "accepted"))
        }
    }
    Ok(receipt)
}

/// Compares the whole dispute state: every node the model has against the contract's view,
/// every assertion's status, and the credits of `parties`.
pub fn compare(
    l1: &mut dyn L1,
    deployment: &Deployment,
    mirror: &Mirror,
    parties: &[Address],
) -> Result<(), OnchainError> {
    let rollup = deployment.rollup;
    let budget = mirror.referee.config().clock_budget;
    for (key, node) in mirror.referee.nodes() {
        let info = view(l1, rollup, Rollup::nodeCall { key: *key })?;
        let contract = (
            info.state,
            info.openChildren,
            u64::from(info.used),
            u64::from(info.otherUsed),
            info.postedAt,
            info.deadline,
        );
        let model = (
            node.state.code(),
            node.open_children,
            node.used,
            node.other_used,
            node.posted_at,
            node.deadline(budget),
        );
        if contract != model {
            return Err(disagreement(
                format!("node {key}"),
                format!("{contract:?}"),
                format!("{model:?}"),
            ));
        }
    }
    for id in 0..mirror.referee.assertion_count() {
        let status = view(l1, rollup, Rollup::assertionCall { id })?.status;
        let model = mirror
            .referee
            .assertion(id)
            .map(|a| a.status.code())
            .unwrap_or(0);
        if status != model {
            return Err(disagreement(
                format!("assertion {id}'s status"),
                status,
                model,
            ));
        }
    }
    for who in parties {
        let credits = wei(view(l1, rollup, Rollup::creditsCall(*who))?);
        if credits != mirror.referee.credits(who) {
            return Err(disagreement(
                format!("credits of {who}"),
                credits,
                mirror.referee.credits(who),
            ));
        }
    }
    let burned = wei(view(l1, rollup, Rollup::totalBurnedCall {})?);
    if burned != mirror.referee.burned() {
        return Err(disagreement("the burn", burned, mirror.referee.burned()));
    }
    Ok(())
}

/// Plays the disputes of the children of `parent` until assertion `target` is decided, a block
/// of `tick` seconds at a time: every playing contestant makes its moves
/// ([`honest_moves`] with its own run) in each block, in an order that turns from block to block,
/// then anyone confirms `target` when it may. Everything is compared with the model after each
/// block. Then it goes on until every node is resolved, so that every bond is paid out.
#[allow(clippy::too_many_arguments)]
pub fn play_until_decided(
    l1: &mut dyn L1,
    deployment: &Deployment,
    mirror: &mut Mirror,
    initial: &MachineOpening,
    assertions: &BTreeMap<u64, AssertionRecord>,
    parent: u64,
    target: u64,
    contestants: &mut [Contestant],
    tick: u64,
    limit: u64,
) -> Result<DisputeReport, OnchainError> {
    let cx = MoveContext {
        deployment,
        initial,
        assertions,
    };
    let config = *mirror.referee.config();
    let created_at = mirror
        .referee
        .assertion(target)
        .map(|a| a.created_at)
        .unwrap_or(0);
    let parties: Vec<Address> = contestants.iter().map(|c| c.wallet.address()).collect();
    let mut decided_at = None;
    let mut round = 0usize;
    let mut quiet = 0;
    let start = now(l1)?;
    let mut wait = tick;
    loop {
        l1.advance_time(wait)?;
        let at = now(l1)?;
        let mut moved = false;
        let n = contestants.len();
        for i in 0..n {
            let c = &mut contestants[(i + round) % n];
            if !c.plays {
                continue;
            }
            let moves = mirror.moves_of(c, assertions, parent, at);
            for mv in &moves {
                apply_move(l1, mirror, &cx, c, mv)?;
                moved = true;
            }
        }
        round += 1;
        if decided_at.is_none() {
            if let Some(record) = assertions.get(&target) {
                let receipt =
                    crate::settlement::confirm(l1, &contestants[0].wallet, deployment, record)?;
                let model = mirror.referee.confirm(now(l1)?, target);
                match (&receipt.outcome, &model) {
                    (Ok(_), Ok(())) => {}
                    (Err(revert), Err(refusal)) => {
                        check_refusal("confirm", &revert.error, refusal)?
                    }
                    (Ok(_), Err(e)) => return Err(disagreement("confirm", "accepted", e)),
                    (Err(r), Ok(())) => return Err(disagreement("confirm", &r.error, "accepted")),
                }
            }
            let status = mirror.referee.assertion(target).map(|a| a.status);
            if status != Some(AssertionStatus::Pending) {
                decided_at = Some(now(l1)?);
            }
        }
        compare(l1, deployment, mirror, &parties)?;
        let open = mirror
            .referee
            .nodes()
            .values()
            .any(|n| n.state == verifier::bisection::referee::NodeState::Open);
        quiet = if moved || open { 0 } else { quiet + 1 };
        // Nobody moved: nothing happens until the next deadline passes (or the target's period
        // ends), so the clock jumps there instead of ticking through idle blocks.
        wait = tick;
        if !moved {
            let at = now(l1)?;
            let next = mirror
                .referee
                .nodes()
                .values()
                .filter(|n| n.state == verifier::bisection::referee::NodeState::Open)
                .map(|n| n.deadline(config.clock_budget) + 1)
                .chain(
                    mirror
                        .referee
                        .assertion(target)
                        .filter(|a| a.status == AssertionStatus::Pending)
                        .map(|a| a.created_at + config.challenge_period),
                )
                .filter(|t| *t > at)
                .min();
            if let Some(next) = next {
                wait = wait.max(next - at);
            }
        }
        if let Some(decided_at) = decided_at {
            if !open && quiet >= 1 {
                return Ok(DisputeReport {
                    assertion: target,
                    status: mirror
                        .referee
                        .assertion(target)
                        .map(|a| a.status)
                        .unwrap_or(AssertionStatus::Pending),
                    decided_at,
                    created_at,
                });
            }
        }
        if now(l1)? > start + limit {
            return Err(OnchainError::Undecided(target, limit));
        }
    }
}

/// The `AssertionPosted` records among a receipt's logs.
pub fn posted_records(receipt: &TxReceipt) -> Vec<AssertionRecord> {
    events::<Rollup::AssertionPosted>(&receipt.logs)
        .into_iter()
        .map(|(e, _)| AssertionRecord {
            id: e.id,
            data: e.data,
            outputs: e.outputs.to_vec(),
        })
        .collect()
}
