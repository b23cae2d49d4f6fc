//! What an honest party does in the dispute tree of one batch, given the true run of that batch:
//! it defends every true segment that is challenged (posts the true dissection unless it is
//! there), refutes every dissection of a segment with a true start that has a wrong boundary
//! (challenges the first wrong sub-segment, or proves it wrong when it is one step), challenges
//! every wrong assertion in its period, and resolves whatever is ripe. It needs nothing else: no
//! memory of earlier turns, no trust in who posted what, so a restarted node picks up where L1 is.
//!
//! The argument that this wins against any number of adversaries is in `contracts/README.md`.

use std::collections::BTreeMap;

use vm::MachineHash;

use super::boundaries;
use super::referee::{dissection_key, root_challenge_key, sub_challenge_key, Node, NodeKey};
use super::referee::{NodeKind, NodeState};

/// The true run of a batch from its step-0 machine: the hash at any step (stepping a halted
/// machine is the identity, so past the halt it is the final hash) and its halting step.
pub trait Trace {
    fn hash_at(&mut self, step: u64) -> MachineHash;
    /// The first step at which the machine is halted (finished or trapped).
    fn halt_step(&self) -> u64;
}

/// A move for the caller to send (it builds proofs and openings at the steps named).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeMove {
    ChallengeAssertion {
        id: u64,
    },
    /// The one-step assertion's only step, proven from step 0.
    ProveAssertionStep {
        id: u64,
    },
    Dissect {
        challenge: NodeKey,
        hashes: Vec<MachineHash>,
    },
    Challenge {
        dissection: NodeKey,
        hashes: Vec<MachineHash>,
        index: u64,
    },
    /// Prove the step from `step` (the sub-segment's start) wrong.
    ProveStep {
        dissection: NodeKey,
        hashes: Vec<MachineHash>,
        index: u64,
        step: u64,
    },
    /// Open the machine at `step` (halted) to refute the final sub-segment.
    ProveHalted {
        dissection: NodeKey,
        hashes: Vec<MachineHash>,
        step: u64,
    },
    Resolve {
        key: NodeKey,
    },
}

/// An assertion of the batch, as the honest party sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssertionView {
    pub id: u64,
    pub final_hash: MachineHash,
    pub steps: u64,
    pub pending: bool,
    /// Still inside its challenge period.
    pub challengeable: bool,
}

/// Whether the segment claim (lo, hi, start, end) is true for the run: the start and end are the
/// true hashes and, if final, the machine is not halted one step before the end.
pub fn segment_is_true(
    trace: &mut dyn Trace,
    lo: u64,
    hi: u64,
    start: &MachineHash,
    end: &MachineHash,
    is_final: bool,
) -> bool {
    trace.hash_at(lo) == *start
        && trace.hash_at(hi) == *end
        && (!is_final || hi.saturating_sub(1) < trace.halt_step())
}

/// The true hashes at the boundaries of (lo, hi).
pub fn true_dissection(trace: &mut dyn Trace, lo: u64, hi: u64, arity: u32) -> Vec<MachineHash> {
    boundaries(lo, hi, arity)
        .into_iter()
        .map(|b| trace.hash_at(b))
        .collect()
}

/// The sub-segment an honest party attacks in a dissection whose start is true, if it is
/// wrong: the first whose end hash is wrong, else (final, the machine halted before the end) the
/// last one. With its bounds.
pub fn wrong_sub_segment(
    trace: &mut dyn Trace,
    dissection: &Node,
    arity: u32,
) -> Option<(u64, u64, u64)> {
    let bounds = boundaries(dissection.lo, dissection.hi, arity);
    let hashes = &dissection.hashes;
    if hashes.len() != bounds.len() || trace.hash_at(dissection.lo) != *hashes.first()? {
        return None;
    }
    let parts = bounds
        .iter()
        .zip(bounds.iter().skip(1))
        .zip(hashes.iter().skip(1));
    for (i, ((lo, hi), posted)) in parts.enumerate() {
        if trace.hash_at(*hi) != *posted {
            return Some((i as u64, *lo, *hi));
        }
    }
    let last = bounds.len().checked_sub(2)?;
    if dissection.is_final && dissection.hi.saturating_sub(1) >= trace.halt_step() {
        return Some((last as u64, *bounds.get(last)?, *bounds.get(last + 1)?));
    }
    None
}

/// Every move the honest party makes now in the disputes of one batch: `assertions` are the
/// batch's assertions it plays (siblings on the parent the party agrees with); of `nodes`, those
/// in their disputes are played.
pub fn honest_moves(
    trace: &mut dyn Trace,
    assertions: &[AssertionView],
    nodes: &BTreeMap<NodeKey, Node>,
    arity: u32,
    clock_budget: u64,
    now: u64,
) -> Vec<TreeMove> {
    let mut moves = Vec::new();
    let exists = |key: &NodeKey| nodes.contains_key(key);
    for a in assertions.iter().filter(|a| a.pending && a.challengeable) {
        let start = trace.hash_at(0);
        if a.steps >= 1 && segment_is_true(trace, 0, a.steps, &start, &a.final_hash, true) {
            continue;
        }
        if a.steps == 1 {
            moves.push(TreeMove::ProveAssertionStep { id: a.id });
        } else if !exists(&root_challenge_key(a.id)) {
            moves.push(TreeMove::ChallengeAssertion { id: a.id });
        }
    }
    let played = |id: u64| assertions.iter().any(|a| a.id == id);
    for (key, node) in nodes {
        if node.state != NodeState::Open || !played(node.assertion) {
            continue;
        }
        let deadline = node.deadline(clock_budget);
        if now > deadline {
            if node.open_children == 0 {
                moves.push(TreeMove::Resolve { key: *key });
            }
            continue;
        }
        match node.kind {
            NodeKind::Challenge => {
                let start = node.start_hash;
                let end = node.end_hash;
                if segment_is_true(trace, node.lo, node.hi, &start, &end, node.is_final) {
                    let hashes = true_dissection(trace, node.lo, node.hi, arity);
                    if !exists(&dissection_key(key, &hashes)) {
                        moves.push(TreeMove::Dissect {
                            challenge: *key,
                            hashes,
                        });
                    }
                }
            }
            NodeKind::Dissection => {
                let Some((index, lo, hi)) = wrong_sub_segment(trace, node, arity) else {
                    continue;
                };
                let hashes = node.hashes.clone();
                if hi - lo > 1 {
                    if !exists(&sub_challenge_key(key, index)) {
                        moves.push(TreeMove::Challenge {
                            dissection: *key,
                            hashes,
                            index,
                        });
                    }
                } else if Some(&trace.hash_at(hi)) != hashes.get(index as usize + 1) {
                    moves.push(TreeMove::ProveStep {
                        dissection: *key,
                        hashes,
                        index,
                        step: lo,
                    });
                } else {
                    moves.push(TreeMove::ProveHalted {
                        dissection: *key,
                        hashes,
                        step: lo,
                    });
                }
            }
        }
    }
    moves
}
