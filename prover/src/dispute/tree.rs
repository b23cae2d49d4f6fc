//! The dispute tree on L1 from a party's side: its run of a batch (the truth, or a lie told about
//! it), the tree as L1's events and views show it, and the moves of
//! [`verifier::bisection::honest`] sent as the rollup contract's calls. Who wins is the
//! contract's call; the strategy only says what an honest party (or a liar, playing its lie as if
//! it were true) sends.

use std::collections::BTreeMap;

use alloy_primitives::{B256, U256};
use verifier::bisection::honest::{Trace, TreeMove};
use verifier::bisection::referee::{Node, NodeKey, NodeKind, NodeState};
use verifier::l1::{Log, TxReceipt, Wallet, L1};
use verifier::settlement::contracts::{self, bytes, events, view, Deployment, Rollup};
use verifier::settlement::MachineOpening;
use vm::MachineHash;

use super::Checkpoints;
use crate::settlement::{AssertionRecord, SettleError};
use crate::stf_host::StfHost;

/// A party's knowledge of a batch's run: hashes at any step, and proofs of its steps.
pub trait RunKnowledge: Trace {
    /// The one-step proof of the step after `step` steps, from the true run.
    fn proof_at(&self, step: u64) -> Result<Vec<u8>, SettleError>;
    /// The machine after `step` steps opened as `proveHalted` takes it: hot part and inner hash.
    fn opening_at(&self, step: u64) -> (Vec<u8>, B256);
}

/// The true run of a batch, from the interpreter's checkpoints.
#[derive(Clone)]
pub struct RunTrace {
    checkpoints: Checkpoints<StfHost>,
    halt: u64,
}

impl RunTrace {
    /// `checkpoints` of a run built to (at least) its halt.
    pub fn new(checkpoints: Checkpoints<StfHost>) -> RunTrace {
        let halt = checkpoints.halted_at().unwrap_or(checkpoints.steps());
        RunTrace { checkpoints, halt }
    }

    pub fn final_hash(&self) -> MachineHash {
        self.checkpoints.hash_at(self.halt)
    }
}

impl Trace for RunTrace {
    fn hash_at(&mut self, step: u64) -> MachineHash {
        self.checkpoints.hash_at(step.min(self.halt))
    }

    fn halt_step(&self) -> u64 {
        self.halt
    }
}

impl RunKnowledge for RunTrace {
    fn proof_at(&self, step: u64) -> Result<Vec<u8>, SettleError> {
        self.checkpoints
            .proof_at(step)
            .map_err(|e| SettleError::Mismatch(format!("no proof at step {step}: {e}")))
    }

    fn opening_at(&self, step: u64) -> (Vec<u8>, B256) {
        let (hot, inner) = self.checkpoints.opening_at(step.min(self.halt));
        (hot.to_vec(), B256::from(inner))
    }
}

/// A lie about a run: true before step `from`, then hashes of no machine, and from `steps` on
/// the claimed final hash (a liar plays it as the truth; its proofs come from the truth, so the
/// checker refuses them).
#[derive(Clone)]
pub struct LyingTrace {
    pub truth: RunTrace,
    pub from: u64,
    pub steps: u64,
    pub final_hash: MachineHash,
}

impl Trace for LyingTrace {
    fn hash_at(&mut self, step: u64) -> MachineHash {
        if step < self.from {
            self.truth.hash_at(step)
        } else if step >= self.steps {
            self.final_hash
        } else {
            let mut bytes = b"hauptbuch.lie".to_vec();
            bytes.extend_from_slice(&step.to_be_bytes());
            bytes.extend_from_slice(&self.final_hash.0);
            MachineHash(program::keccak256(&bytes))
        }
    }

    fn halt_step(&self) -> u64 {
        self.steps
    }
}

impl RunKnowledge for LyingTrace {
    fn proof_at(&self, step: u64) -> Result<Vec<u8>, SettleError> {
        self.truth.proof_at(step)
    }

    fn opening_at(&self, step: u64) -> (Vec<u8>, B256) {
        self.truth.opening_at(step)
    }
}

/// Every dispute node L1 published, with its state; the clocks of the open ones from the
/// contract's view (the closed ones' no longer matter).
pub fn read_tree(
    l1: &mut dyn L1,
    deployment: &Deployment,
    logs: &[Log],
) -> Result<BTreeMap<NodeKey, Node>, SettleError> {
    let mut tree = BTreeMap::new();
    for (e, _) in events::<Rollup::ChallengeOpened>(logs) {
        tree.insert(
            e.key,
            Node {
                kind: NodeKind::Challenge,
                state: NodeState::Open,
                owner: e.owner,
                posted_at: 0,
                lo: e.lo,
                hi: e.hi,
                start_hash: MachineHash(e.startHash.0),
                end_hash: MachineHash(e.endHash.0),
                is_final: e.isFinal,
                used: 0,
                other_used: 0,
                open_children: 0,
                parent: e.parent,
                assertion: e.assertionId,
                hashes: Vec::new(),
            },
        );
    }
    for (e, _) in events::<Rollup::Dissected>(logs) {
        let Some(challenge) = tree.get(&e.challenge).cloned() else {
            continue;
        };
        tree.insert(
            e.key,
            Node {
                kind: NodeKind::Dissection,
                owner: e.owner,
                parent: e.challenge,
                hashes: e.hashes.iter().map(|h| MachineHash(h.0)).collect(),
                ..challenge
            },
        );
    }
    for (e, _) in events::<Rollup::Resolved>(logs) {
        if let Some(node) = tree.get_mut(&e.key) {
            node.state = if e.state == NodeState::Held.code() {
                NodeState::Held
            } else {
                NodeState::Refuted
            };
        }
    }
    for (key, node) in tree.iter_mut() {
        if node.state != NodeState::Open {
            continue;
        }
        let info = view(l1, deployment.rollup, Rollup::nodeCall { key: *key })?;
        node.posted_at = info.postedAt;
        node.used = u64::from(info.used);
        node.other_used = u64::from(info.otherUsed);
        node.open_children = info.openChildren;
    }
    Ok(tree)
}

fn hashes(list: &[MachineHash]) -> Vec<B256> {
    list.iter().map(|h| B256::from(h.0)).collect()
}

/// What a move needs besides itself: the assertions it may name and the STF's step-0 opening.
pub struct MoveContext<'a> {
    pub deployment: &'a Deployment,
    pub initial: &'a MachineOpening,
    pub assertions: &'a BTreeMap<u64, AssertionRecord>,
}

/// The short name of a move, as reports print it.
pub fn move_name(mv: &TreeMove) -> &'static str {
    match mv {
        TreeMove::ChallengeAssertion { .. } => "challengeAssertion",
        TreeMove::ProveAssertionStep { .. } => "proveAssertionStep",
        TreeMove::Dissect { .. } => "dissect",
        TreeMove::Challenge { .. } => "challenge",
        TreeMove::ProveStep { .. } => "proveStep",
        TreeMove::ProveHalted { .. } => "proveHalted",
        TreeMove::Resolve { .. } => "resolve",
    }
}

/// Sends `mv` from `wallet`; a refusal is in the receipt.
pub fn send_tree_move(
    l1: &mut dyn L1,
    wallet: &Wallet,
    cx: &MoveContext,
    run: &dyn RunKnowledge,
    mv: &TreeMove,
) -> Result<TxReceipt, SettleError> {
    let rollup = cx.deployment.rollup;
    let bond = view(l1, rollup, Rollup::challengeBondCall {})?;
    let record = |id: &u64| {
        cx.assertions
            .get(id)
            .ok_or_else(|| SettleError::Missing(format!("assertion {id}")))
    };
    let send = |l1: &mut dyn L1, value: U256, data: Vec<u8>| l1.send(wallet, rollup, value, data);
    use alloy_sol_types::SolCall;
    let receipt = match mv {
        TreeMove::ChallengeAssertion { id } => {
            let a = record(id)?;
            let call = Rollup::challengeAssertionCall {
                id: *id,
                data: a.data.clone(),
                initialHot: bytes(&cx.initial.hot),
                initialCold: bytes(&cx.initial.cold),
            };
            send(l1, bond, call.abi_encode())?
        }
        TreeMove::ProveAssertionStep { id } => {
            let a = record(id)?;
            let call = Rollup::proveAssertionStepCall {
                id: *id,
                data: a.data.clone(),
                initialHot: bytes(&cx.initial.hot),
                initialCold: bytes(&cx.initial.cold),
                proof: bytes(&run.proof_at(0)?),
            };
            send(l1, U256::ZERO, call.abi_encode())?
        }
        TreeMove::Dissect {
            challenge,
            hashes: list,
        } => {
            let call = Rollup::dissectCall {
                challengeKey: *challenge,
                hashes: hashes(list),
            };
            send(l1, bond, call.abi_encode())?
        }
        TreeMove::Challenge {
            dissection,
            hashes: list,
            index,
        } => {
            let call = Rollup::challengeCall {
                dissection: *dissection,
                hashes: hashes(list),
                index: U256::from(*index),
            };
            send(l1, bond, call.abi_encode())?
        }
        TreeMove::ProveStep {
            dissection,
            hashes: list,
            index,
            step,
        } => {
            let call = Rollup::proveStepCall {
                dissection: *dissection,
                hashes: hashes(list),
                index: U256::from(*index),
                proof: bytes(&run.proof_at(*step)?),
            };
            send(l1, U256::ZERO, call.abi_encode())?
        }
        TreeMove::ProveHalted {
            dissection,
            hashes: list,
            step,
        } => {
            let (hot, inner) = run.opening_at(*step);
            let call = Rollup::proveHaltedCall {
                dissection: *dissection,
                hashes: hashes(list),
                hot: bytes(&hot),
                innerHash: inner,
            };
            send(l1, U256::ZERO, call.abi_encode())?
        }
        TreeMove::Resolve { key } => contracts::send(
            l1,
            wallet,
            rollup,
            U256::ZERO,
            Rollup::resolveCall { key: *key },
        )?,
    };
    Ok(receipt)
}
