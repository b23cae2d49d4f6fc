//! A node's duties on the assertion chain, done each turn against a fresh [`ChainView`]:
//! - assert the next batch on the tip once the node has applied it: the sequencer at once, a
//!   validator when nobody has for a grace period (so the chain goes on when the sequencer stops,
//!   or after its lie was rejected);
//! - challenge every pending assertion, on a parent the node agrees with, whose outputs differ
//!   from the node's own replay;
//! - confirm the assertions it agrees with once their period is over;
//! - reject the descendants of rejected assertions (their asserters get their bonds back);
//! - collect its credits (bonds returned and won).
//!
//! Every duty is idempotent against L1: a refusal because someone else did it first is not an
//! error, and a restarted node finds out from L1 what is left to do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::U256;
use program::ledger::BatchOutputs;
use program::RecoveredSignatures;
use verifier::l1::{TxReceipt, Wallet, L1};
use verifier::settlement::contracts::{self, view, Deployment, Rollup};
use verifier::settlement::MachineOpening;

use super::chain::{AssertionState, ChainView, Status};
use super::follower::outputs_of;
use super::rpc::{lock_state, Shared};
use super::NodeError;
use crate::settlement::{
    assert_batch, challenge, confirm, fetch_batch, run_claim_with, AssertionRecord,
};
use crate::StfGuest;

/// At most this many assertions in one turn, so that a long catch-up still lets the node play
/// its games and serve.
const MAX_ASSERTIONS_PER_TURN: usize = 16;

/// Faults a node can be told to commit, for tests of everyone else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The next assertion it makes claims a wrong post-state root (once; then it is honest).
    WrongRoot,
}

/// Something the node did on L1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Asserted {
        id: u64,
        batch: u64,
        lie: bool,
    },
    Challenged {
        game: u64,
        assertion: u64,
    },
    Confirmed(u64),
    RejectedDescendant(u64),
    CreditsCollected(U256),
    /// L1 refused a duty (someone else was first, or the state moved): it is tried again later.
    Refused {
        what: String,
        why: String,
    },
}

pub struct Duties {
    pub wallet: Wallet,
    pub deployment: Deployment,
    /// The STF machine's step-0 opening (the challenge transaction carries it).
    pub initial: MachineOpening,
    /// Asserts at once (the sequencer) or after `grace` without an assertion (a validator).
    pub eager: bool,
    pub grace: Duration,
    pub fault: Option<Fault>,
    /// Since when the tip has waited for an assertion of the batch the node has applied.
    waiting: Option<(u64, Instant)>,
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
            waiting: None,
        }
    }

    /// Does every duty that is due; what was done, in order.
    pub fn perform(
        &mut self,
        state: &Shared,
        l1: &mut dyn L1,
        guest: &StfGuest,
        chain: &ChainView,
    ) -> Result<Vec<Action>, NodeError> {
        let mut actions = Vec::new();
        for a in &chain.assertions {
            if a.status != Status::Pending {
                continue;
            }
            let parent = chain.assertion(a.record.data.parentId);
            if parent.is_some_and(|p| p.status == Status::Rejected) {
                actions.push(self.reject_descendant(l1, a)?);
                continue;
            }
            let agrees = agrees_with(state, &a.record)?;
            let parent_agrees = match parent {
                Some(p) => agrees_with(state, &p.record)?.unwrap_or(false),
                None => false,
            };
            match agrees {
                // Its own assertions a node defends (a faulty one included), it never challenges.
                Some(false) if parent_agrees && a.asserter != self.wallet.address() => {
                    let mine = chain.games.iter().any(|g| {
                        g.assertion_id == a.record.id && g.challenger == self.wallet.address()
                    });
                    let open = chain.now < a.created_at.saturating_add(chain.challenge_period);
                    if !mine && open {
                        actions.push(self.challenge(l1, a)?);
                    }
                }
                Some(true)
                    if a.record.data.parentId == chain.last_confirmed
                        && a.open_challenges == 0
                        && chain.now >= a.created_at.saturating_add(chain.challenge_period) =>
                {
                    actions.push(self.confirm(l1, a)?);
                }
                _ => {}
            }
        }
        // After a restart (or the sequencer's absence) several applied batches may wait: assert
        // them one on another, each on the tip the previous one made.
        let mut tip = chain.tip;
        for _ in 0..MAX_ASSERTIONS_PER_TURN {
            match self.assert_next(state, l1, guest, chain, tip)? {
                Some(Action::Asserted { id, batch, lie }) => {
                    actions.push(Action::Asserted { id, batch, lie });
                    if lie {
                        break;
                    }
                    tip = id;
                }
                Some(other) => {
                    actions.push(other);
                    break;
                }
                None => break,
            }
        }
        let credits = view(
            l1,
            self.deployment.rollup,
            Rollup::creditsCall(self.wallet.address()),
        )?;
        if credits > U256::ZERO {
            let receipt = self.send(l1, Rollup::withdrawCreditsCall {})?;
            actions.push(outcome(
                &receipt,
                "withdraw credits",
                Action::CreditsCollected(credits),
            ));
        }
        Ok(actions)
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

    fn reject_descendant(&self, l1: &mut dyn L1, a: &AssertionState) -> Result<Action, NodeError> {
        let receipt = self.send(
            l1,
            Rollup::rejectDescendantCall {
                id: a.record.id,
                data: a.record.data.clone(),
            },
        )?;
        Ok(outcome(
            &receipt,
            "reject descendant",
            Action::RejectedDescendant(a.record.id),
        ))
    }

    fn challenge(&self, l1: &mut dyn L1, a: &AssertionState) -> Result<Action, NodeError> {
        match challenge(l1, &self.wallet, &self.deployment, &a.record, &self.initial) {
            Ok((game, _)) => Ok(Action::Challenged {
                game,
                assertion: a.record.id,
            }),
            Err(crate::settlement::SettleError::L1(verifier::l1::L1Error::Reverted(revert))) => {
                Ok(Action::Refused {
                    what: format!("challenge assertion {}", a.record.id),
                    why: revert.error,
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    fn confirm(&self, l1: &mut dyn L1, a: &AssertionState) -> Result<Action, NodeError> {
        let receipt = confirm(l1, &self.wallet, &self.deployment, &a.record)?;
        Ok(outcome(&receipt, "confirm", Action::Confirmed(a.record.id)))
    }

    /// Asserts batch `tip + 1` on the tip if the node agrees with the tip, has applied that batch,
    /// and (unless eager) nobody has asserted it for the grace period.
    fn assert_next(
        &mut self,
        state: &Shared,
        l1: &mut dyn L1,
        guest: &StfGuest,
        chain: &ChainView,
        tip: u64,
    ) -> Result<Option<Action>, NodeError> {
        let record = match chain.assertion(tip) {
            Some(a) => a.record.clone(),
            // The one this turn just made: what L1 published for it.
            None => match crate::settlement::fetch_assertions(l1, &self.deployment)?
                .into_iter()
                .find(|a| a.id == tip)
            {
                Some(record) => record,
                None => return Ok(None),
            },
        };
        let next = record.data.batchNumber + 1;
        if agrees_with(state, &record)? != Some(true) || outputs_of(state, next)?.is_none() {
            self.waiting = None;
            return Ok(None);
        }
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
        let batch = fetch_batch(l1, &self.deployment, next)?;
        let (nodes, recovered) = {
            let node = lock_state(state);
            (node.db.nodes().clone(), node.recovered.clone())
        };
        // The interpreter asks for every signature in turn: recover them on every core first
        // (the follower usually just did, for this very batch).
        let signatures = match recovered {
            Some((number, signatures)) if number == next => signatures,
            _ => Arc::new(RecoveredSignatures::of_section(
                batch.chain_id,
                &batch.transactions,
            )),
        };
        let mut claim = run_claim_with(guest, &batch, &record, nodes, Some(signatures))?;
        let lie = self.fault.take() == Some(Fault::WrongRoot);
        if lie {
            let mut outputs = BatchOutputs::from_bytes(&claim.outputs)
                .map_err(|e| NodeError::Encode(e.to_string()))?;
            outputs.post_state_root = program::keccak256(&outputs.post_state_root);
            claim.outputs = outputs.to_bytes().to_vec();
        }
        match assert_batch(l1, &self.wallet, &self.deployment, &record, &batch, &claim) {
            Ok((posted, _)) => {
                self.waiting = None;
                Ok(Some(Action::Asserted {
                    id: posted.id,
                    batch: next,
                    lie,
                }))
            }
            Err(crate::settlement::SettleError::L1(verifier::l1::L1Error::Reverted(revert))) => {
                Ok(Some(Action::Refused {
                    what: format!("assert batch {next}"),
                    why: revert.error,
                }))
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether the node's own outputs for the assertion's batch are the asserted ones: `None` if it
/// has not applied that batch yet. Genesis is agreed by construction (the deployment pins it).
pub fn agrees_with(state: &Shared, a: &AssertionRecord) -> Result<Option<bool>, NodeError> {
    if a.id == 0 {
        return Ok(Some(true));
    }
    Ok(outputs_of(state, a.data.batchNumber)?.map(|mine| mine.to_bytes()[..] == a.outputs[..]))
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
