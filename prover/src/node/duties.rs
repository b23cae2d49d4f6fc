//! A node's duties on the assertions, done each turn against a fresh [`ChainView`]:
//! - judge every pending assertion on a parent it agrees with by the whole claim (outputs, final
//!   machine hash, step count) against its own run of the batch on the interpreter;
//! - extend the deepest assertion it agrees with once it has applied the next batch, whoever
//!   posted that assertion: the sequencer at once, a validator when nobody has for a grace period
//!   (so the chain goes on when the sequencer stops, or after its lie was rejected); its one stake
//!   moves forward along the chain (backing the assertion first if its stake is one step behind);
//! - confirm the assertions it agrees with once they may be; reject the voided ones;
//! - withdraw its stake when it sits on a confirmed assertion and nothing waits to be asserted,
//!   and collect its credits.
//!
//! Disputes are the [`super::player::Player`]'s. Every duty is idempotent against L1: a refusal
//! because someone else did it first is not an error, and a restarted node finds out from L1 what
//! is left to do.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::U256;
use program::ledger::BatchOutputs;
use program::RecoveredSignatures;
use verifier::l1::{TxReceipt, Wallet, L1};
use verifier::settlement::contracts::{self, view, Deployment, Rollup};
use verifier::settlement::MachineOpening;

use super::chain::{stake_of, AssertionState, ChainView, Status};
use super::follower::{applied, applied_batch, outputs_of, SignatureCache};
use super::state::{lock_state, Shared};
use super::NodeError;
use crate::settlement::{assert_batch, back, confirm, run_claim_with, AssertionRecord, BatchClaim};
use crate::StfGuest;

/// At most this many assertions in one turn, so that a long catch-up still lets the node play
/// its disputes and serve.
const MAX_ASSERTIONS_PER_TURN: usize = 16;

/// Faults a node can be told to commit, for tests of everyone else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The next assertion it makes claims a wrong post-state root (once; then it is honest).
    WrongRoot,
    /// It asserts correctly, then challenges each of its own assertions from a second key shortly
    /// before its challenge period ends, and never defends them.
    Throw,
    /// Against every assertion it did not post, `n` rival assertions with wrong claims, each from
    /// its own key, played like liars.
    Sybil(u32),
    /// A sequencer that never includes this sender's transactions, and holds the delayed queue
    /// back at the sender's forced transactions until they are overdue.
    Censor(program::ledger::Address),
}

/// Something the node did on L1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Asserted {
        id: u64,
        batch: u64,
        lie: bool,
    },
    Backed(u64),
    Confirmed(u64),
    RejectedVoided(u64),
    StakeWithdrawn,
    CreditsCollected(U256),
    /// L1 refused a duty (someone else was first, or the state moved): it is tried again later.
    Refused {
        what: String,
        why: String,
    },
}

/// The node's own run of a batch on the interpreter: the claim it would make.
#[derive(Clone, Debug)]
pub struct OwnClaim {
    pub outputs: Vec<u8>,
    pub final_hash: vm::MachineHash,
    pub final_state: MachineOpening,
    pub steps: u64,
}

impl OwnClaim {
    /// Whether `a` claims exactly this: outputs, final machine hash (which commits to the batch
    /// and the outputs) and step count.
    pub fn agrees_with(&self, a: &AssertionRecord) -> bool {
        a.outputs == self.outputs
            && a.data.finalMachineHash.0 == self.final_hash.0
            && a.data.steps == self.steps
    }

    fn as_batch_claim(&self) -> BatchClaim {
        BatchClaim {
            outputs: self.outputs.clone(),
            final_state: self.final_state.clone(),
            final_hash: self.final_hash,
            steps: self.steps,
            store: program::NodeStore::new(),
        }
    }
}

pub struct Duties {
    pub wallet: Wallet,
    pub deployment: Deployment,
    /// The STF machine's step-0 opening (root challenges carry it).
    pub initial: MachineOpening,
    /// Asserts at once (the sequencer) or after `grace` without an assertion (a validator).
    pub eager: bool,
    pub grace: Duration,
    pub fault: Option<Fault>,
    /// A `WrongRoot` node has told its one lie.
    lied: bool,
    /// Since when the chain has waited for an assertion of the batch the node has applied.
    waiting: Option<(u64, Instant)>,
    /// The node's own claims, by batch (each on the parent it agrees with).
    claims: BTreeMap<u64, Arc<OwnClaim>>,
    /// The assertions it agrees with, this turn (genesis and every confirmed one included).
    pub agreed: BTreeSet<u64>,
    /// Whether a claim's run has the batch's signatures recovered on every core first.
    pub signatures: SignatureCache,
}

impl Duties {
    pub fn new(
        wallet: Wallet,
        deployment: Deployment,
        initial: MachineOpening,
        eager: bool,
        grace: Duration,
        fault: Option<Fault>,
    ) -> Duties {
        Duties {
            wallet,
            deployment,
            initial,
            eager,
            grace,
            fault,
            lied: false,
            waiting: None,
            claims: BTreeMap::new(),
            agreed: BTreeSet::new(),
            signatures: SignatureCache::On,
        }
    }

    /// The node's claim for the batch of `child`, a child of `parent` (which it agrees with), if
    /// it has applied that batch: run once on the interpreter, then kept.
    pub fn own_claim(
        &mut self,
        state: &Shared,
        guest: &StfGuest,
        parent: &AssertionRecord,
    ) -> Result<Option<Arc<OwnClaim>>, NodeError> {
        let batch_number = parent.data.batchNumber + 1;
        if let Some(claim) = self.claims.get(&batch_number) {
            return Ok(Some(claim.clone()));
        }
        let Some(batch) = applied_batch(state, batch_number)? else {
            return Ok(None);
        };
        let (nodes, recovered) = {
            let node = lock_state(state);
            (node.db.nodes().clone(), node.recovered.clone())
        };
        // The interpreter asks for every signature in turn: recover them on every core first
        // (the follower usually just did, for this very batch).
        let signatures = match (self.signatures, recovered) {
            (SignatureCache::Off, _) => None,
            (_, Some((number, signatures))) if number == batch_number => Some(signatures),
            _ => Some(Arc::new(RecoveredSignatures::of_section(
                batch.chain_id,
                &batch.section(),
            ))),
        };
        let run = run_claim_with(guest, &batch, parent, nodes, signatures)?;
        let claim = Arc::new(OwnClaim {
            outputs: run.outputs,
            final_hash: run.final_hash,
            final_state: run.final_state,
            steps: run.steps,
        });
        self.claims.insert(batch_number, claim.clone());
        Ok(Some(claim))
    }

    /// Judges every assertion: agreed are genesis, the confirmed, and the pending ones on an
    /// agreed parent whose whole claim is the node's own.
    fn judge(
        &mut self,
        state: &Shared,
        guest: &StfGuest,
        chain: &ChainView,
    ) -> Result<(), NodeError> {
        let mut agreed = BTreeSet::new();
        for a in &chain.assertions {
            let id = a.record.id;
            let yes = match a.status {
                Status::Confirmed => true,
                Status::Rejected => false,
                Status::Pending => {
                    match chain
                        .assertion(a.parent())
                        .filter(|_| agreed.contains(&a.parent()))
                    {
                        // Outputs that differ from the replay's need no interpreter run.
                        Some(_) if !same_outputs(state, &a.record)? => false,
                        Some(parent) => self
                            .own_claim(state, guest, &parent.record)?
                            .is_some_and(|mine| mine.agrees_with(&a.record)),
                        None => false,
                    }
                }
            };
            if yes {
                agreed.insert(id);
            }
        }
        // Claims of settled batches are not asked for again.
        let settled = chain
            .assertion(chain.last_confirmed)
            .map(|a| a.batch())
            .unwrap_or(0);
        self.claims.retain(|batch, _| *batch > settled);
        self.agreed = agreed;
        Ok(())
    }

    /// Does every duty that is due; what was done, in order.
    pub fn perform(
        &mut self,
        state: &Shared,
        l1: &mut dyn L1,
        guest: &StfGuest,
        chain: &ChainView,
    ) -> Result<Vec<Action>, NodeError> {
        self.judge(state, guest, chain)?;
        let mut actions = Vec::new();
        for a in chain
            .assertions
            .iter()
            .filter(|a| a.status == Status::Pending)
        {
            let Some(parent) = chain.assertion(a.parent()) else {
                continue;
            };
            let sibling = chain.confirmed_child(parent.record.id);
            let voided =
                parent.status == Status::Rejected || sibling.is_some_and(|c| c != a.record.id);
            if voided {
                let receipt = self.send(
                    l1,
                    Rollup::rejectVoidedCall {
                        id: a.record.id,
                        data: a.record.data.clone(),
                    },
                )?;
                actions.push(outcome(
                    &receipt,
                    "reject voided",
                    Action::RejectedVoided(a.record.id),
                ));
            } else if self.agreed.contains(&a.record.id)
                && parent.status == Status::Confirmed
                && chain.now >= a.created_at.saturating_add(chain.challenge_period)
                && !chain.dispute_open(a.record.id)
            {
                let receipt = confirm(l1, &self.wallet, &self.deployment, &a.record)?;
                actions.push(outcome(&receipt, "confirm", Action::Confirmed(a.record.id)));
            }
        }
        // After a restart (or the sequencer's absence) several applied batches may wait: assert
        // them one on another.
        let mut asserted = 0;
        let mut extra: Vec<AssertionRecord> = Vec::new();
        while asserted < MAX_ASSERTIONS_PER_TURN {
            let tip = match extra.last() {
                Some(record) => record.clone(),
                None => match self.deepest_agreed(chain) {
                    Some(a) => a.record.clone(),
                    None => break,
                },
            };
            match self.assert_next(state, l1, guest, chain, &tip, &mut actions)? {
                Some((record, lie)) => {
                    asserted += 1;
                    if lie {
                        break;
                    }
                    extra.push(record);
                }
                None => break,
            }
        }
        if asserted == 0 {
            self.withdraw_free_stake(state, l1, chain, &mut actions)?;
        }
        let credits = view(
            l1,
            self.deployment.rollup,
            Rollup::creditsCall(self.wallet.address()),
        )?;
        // While the guardian's pause lasts the payout would only be refused: wait it out.
        if credits > U256::ZERO && !view(l1, self.deployment.rollup, Rollup::pausedCall {})? {
            let receipt = self.send(l1, Rollup::withdrawCreditsCall {})?;
            actions.push(outcome(
                &receipt,
                "withdraw credits",
                Action::CreditsCollected(credits),
            ));
        }
        Ok(actions)
    }

    /// The deepest assertion the node agrees with, following agreed children from the last
    /// confirmed one (the first agreed child where there are several).
    pub fn deepest_agreed<'c>(&self, chain: &'c ChainView) -> Option<&'c AssertionState> {
        let mut at = chain.assertion(chain.last_confirmed)?;
        loop {
            let next = chain
                .children(at.record.id)
                .find(|c| c.status != Status::Rejected && self.agreed.contains(&c.record.id));
            match next {
                Some(child) => at = child,
                None => return Some(at),
            }
        }
    }

    fn send<C: alloy_sol_types::SolCall>(
        &self,
        l1: &mut dyn L1,
        call: C,
    ) -> Result<TxReceipt, NodeError> {
        Ok(contracts::send(
            l1,
            &self.wallet,
            self.deployment.rollup,
            U256::ZERO,
            call,
        )?)
    }

    /// Asserts the batch after `tip` on it if the node has applied that batch and (unless
    /// eager) nobody has asserted it for the grace period; moves its stake there first if it is
    /// one step behind.
    fn assert_next(
        &mut self,
        state: &Shared,
        l1: &mut dyn L1,
        guest: &StfGuest,
        chain: &ChainView,
        tip: &AssertionRecord,
        actions: &mut Vec<Action>,
    ) -> Result<Option<(AssertionRecord, bool)>, NodeError> {
        let next = tip.data.batchNumber + 1;
        let Some(mine) = self.own_claim(state, guest, tip)? else {
            self.waiting = None;
            return Ok(None);
        };
        if !self.eager {
            let since = match self.waiting {
                Some((batch, since)) if batch == next => since,
                _ => {
                    let now = Instant::now();
                    self.waiting = Some((next, now));
                    now
                }
            };
            if since.elapsed() < self.grace {
                return Ok(None);
            }
        }
        // One stake covers the chain: it must sit on the tip, its parent (then it backs the tip
        // first), or a confirmed assertion.
        if let Some(stake) = stake_of(l1, &self.deployment, self.wallet.address())? {
            let latest_confirmed = chain
                .assertion(stake.latest)
                .is_some_and(|a| a.status == Status::Confirmed);
            if stake.latest != tip.id && !latest_confirmed {
                if stake.latest != tip.data.parentId {
                    // Its stake is on another branch: it waits for that branch to settle.
                    return Ok(None);
                }
                let receipt = back(l1, &self.wallet, &self.deployment, tip)?;
                actions.push(outcome(&receipt, "back", Action::Backed(tip.id)));
                if receipt.outcome.is_err() {
                    return Ok(None);
                }
            }
        }
        let batch = applied(state, next)?;
        let mut claim = mine.as_batch_claim();
        let lie = self.fault == Some(Fault::WrongRoot) && !self.lied;
        if lie {
            self.lied = true;
            let mut outputs = BatchOutputs::from_bytes(&claim.outputs)
                .map_err(|e| NodeError::Encode(e.to_string()))?;
            outputs.post_state_root = program::keccak256(&outputs.post_state_root);
            claim.outputs = outputs.to_bytes().to_vec();
        }
        match assert_batch(l1, &self.wallet, &self.deployment, tip, &batch, &claim) {
            Ok((posted, _)) => {
                self.waiting = None;
                actions.push(Action::Asserted {
                    id: posted.id,
                    batch: next,
                    lie,
                });
                Ok(Some((posted, lie)))
            }
            Err(crate::settlement::SettleError::L1(verifier::l1::L1Error::Reverted(revert))) => {
                actions.push(Action::Refused {
                    what: format!("assert batch {next}"),
                    why: revert.error,
                });
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Withdraws the node's stake once it sits on a confirmed assertion and the node has no
    /// applied batch waiting for an assertion.
    fn withdraw_free_stake(
        &mut self,
        state: &Shared,
        l1: &mut dyn L1,
        chain: &ChainView,
        actions: &mut Vec<Action>,
    ) -> Result<(), NodeError> {
        let Some(stake) = stake_of(l1, &self.deployment, self.wallet.address())? else {
            return Ok(());
        };
        let free = chain
            .assertion(stake.latest)
            .is_some_and(|a| a.status == Status::Confirmed);
        let deepest = self.deepest_agreed(chain).map(|a| a.batch()).unwrap_or(0);
        let waiting = outputs_of(state, deepest + 1)?.is_some();
        if free && !waiting && stake.latest == chain.last_confirmed {
            let receipt = self.send(l1, Rollup::withdrawStakeCall {})?;
            actions.push(outcome(&receipt, "withdraw stake", Action::StakeWithdrawn));
        }
        Ok(())
    }
}

/// Whether the node has applied the assertion's batch with the same outputs (false if it has
/// not applied it yet).
fn same_outputs(state: &Shared, a: &AssertionRecord) -> Result<bool, NodeError> {
    Ok(outputs_of(state, a.data.batchNumber)?
        .is_some_and(|mine| mine.to_bytes()[..] == a.outputs[..]))
}

fn outcome(receipt: &TxReceipt, what: &str, done: Action) -> Action {
    match &receipt.outcome {
        Ok(_) => done,
        Err(revert) => Action::Refused {
            what: what.to_string(),
            why: revert.error.clone(),
        },
    }
}
