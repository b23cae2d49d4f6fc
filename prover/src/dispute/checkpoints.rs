//! Checkpoints of one execution: the disputed computation is run once, from step 0 to the claimed
//! step count, keeping a snapshot every so often; any machine hash, one-step proof or op of the
//! execution is then a short run from the nearest snapshot.
//!
//! ## Spacing (the memory / time trade-off)
//! A snapshot is a [`Machine`] clone (registers, stacks, the page table: pages are shared
//! copy-on-write, so a snapshot costs the 128 KiB — 64 KiB of bytes and 64 KiB of Merkle nodes —
//! of every page written between it and the next one) plus a host clone (for the STF: the node
//! store, which grows with the batch). Answering a round costs at most one spacing of steps per
//! snapshot used, so fewer snapshots mean slower rounds and more snapshots more memory.
//! [`checkpoint_count`] places `2 k` snapshots at the boundaries of a `2 k`-way cut of
//! the claim (`k` the game's arity): the first round's `k + 1` boundaries are among them, so the
//! first and by far longest round costs no steps at all, and the second round's segment has a
//! snapshot at its start and one in its middle (the two halves run in parallel). Later rounds run
//! from the snapshots kept at the previous round's boundaries (see [`Checkpoints::focus`]).
//! Segments shorter than [`MIN_SPACING`] steps replay in about 0.1 ms, less than taking a
//! snapshot costs: not worth one.
//!
//! Measured with `rollup dispute --txs 1000 --checkpoints N` (7,173,912 steps, k = 32, 2 cores):
//!
//! | snapshots | build (length run + checkpoint run) | slowest answer | dispute wall time | peak RSS |
//! |---|---|---|---|---|
//! | 2    | 197 ms | 118 ms  | 241 ms | 98 MiB  |
//! | 9    | 204 ms | 94 ms   | 185 ms | 92 MiB  |
//! | 65 (default) | 233 ms | 18 ms | 43 ms | 128 MiB |
//! | 257  | 323 ms | 15 ms   | 39 ms  | 285 MiB |
//! | 1025 | 637 ms | 6 ms    | 21 ms  | 869 MiB |
//!
//! So one STF snapshot costs ~0.8 MiB (mostly the host's node store clone) and ~0.4 ms to take;
//! the default spends ~40 MiB to make every answer a few tens of milliseconds.

use std::sync::Arc;

use rayon::prelude::*;
use verifier::bisection::boundaries;
use vm::code::Op;
use vm::proof::ProveError;
use vm::{Host, Machine, MachineHash, RunOutcome};

use super::computation::{Computation, Semantics};

/// Below this many steps between snapshots, replaying is cheaper than remembering.
pub const MIN_SPACING: u64 = 10_000;

/// Most snapshots one [`Checkpoints::hashes_at`] keeps: with the default arity it keeps one per
/// asked step; with a huge arity (up to 1024) host clones would cost more than the replay saved.
pub const MAX_KEPT: usize = 64;

/// Base snapshots per sub-segment of the first round (see the module docs).
const PER_PART: u64 = 2;

/// The snapshot count [`Checkpoints::build`] should use for a claim of `steps` steps disputed
/// with arity `arity` (see the module docs).
pub fn checkpoint_count(steps: u64, arity: u32) -> u64 {
    let arity = u64::from(arity.max(2));
    [PER_PART, 1]
        .into_iter()
        .map(|m| arity * m)
        .find(|count| steps / count >= MIN_SPACING)
        .unwrap_or((steps / MIN_SPACING).max(1))
}

/// The machine and host after `step` steps, and the machine hash there.
#[derive(Clone)]
struct Snapshot<H> {
    step: u64,
    machine: Machine,
    host: H,
    hash: MachineHash,
}

impl<H: Host + Clone> Snapshot<H> {
    fn take(step: u64, machine: &mut Machine, host: &H) -> Self {
        // Hashing before cloning leaves no dirty paths behind, so every run from this snapshot
        // re-hashes only what it touches itself.
        let hash = machine.hash();
        Snapshot {
            step,
            machine: machine.clone(),
            host: host.clone(),
            hash,
        }
    }
}

/// Snapshots of one execution; a clone shares the base snapshots and copies only the few kept
/// around the current segment, so each party keeps its own cache cheaply.
#[derive(Clone)]
pub struct Checkpoints<H> {
    /// Sorted by step; the first is step 0. None lies past the halt.
    base: Arc<Vec<Snapshot<H>>>,
    /// Snapshots at the steps last asked for, sorted by step (see [`Checkpoints::focus`]).
    recent: Vec<Snapshot<H>>,
    steps: u64,
    halted_at: Option<u64>,
    semantics: Semantics,
}

impl<H: Host + Clone + Send + Sync> Checkpoints<H> {
    /// Runs `computation` from step 0 for `steps` steps (or until it halts), keeping snapshots
    /// at the boundaries of a `count`-way cut of `[0, steps]` (the game's own cut, so that they
    /// fall on boundaries the game asks about).
    pub fn build(computation: Computation<H>, steps: u64, count: u64) -> Self {
        let Computation {
            mut machine,
            mut host,
            semantics,
        } = computation;
        let origin = machine.steps();
        let mut base = Vec::new();
        let mut at = 0;
        let mut halted_at = None;
        for target in boundaries(0, steps, count.clamp(1, u32::MAX.into()) as u32) {
            if base.last().is_some_and(|s: &Snapshot<H>| s.step == target) {
                continue;
            }
            let outcome = machine.run(&mut host, target - at);
            if outcome != RunOutcome::StepLimit {
                // Halted (or never started): every later step has this hash, one snapshot of it
                // serves them all.
                let step = machine.steps() - origin;
                base.push(Snapshot::take(step, &mut machine, &host));
                halted_at = Some(step);
                break;
            }
            at = target;
            base.push(Snapshot::take(target, &mut machine, &host));
        }
        Checkpoints {
            base: Arc::new(base),
            recent: Vec::new(),
            steps,
            halted_at,
            semantics,
        }
    }

    /// The claimed step count the checkpoints were built for.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The step at which the machine stopped running (finished or trapped), if within the claim.
    pub fn halted_at(&self) -> Option<u64> {
        self.halted_at
    }

    /// Base snapshots kept.
    pub fn snapshot_count(&self) -> usize {
        self.base.len()
    }

    /// The machine hash at step 0.
    pub fn start_hash(&self) -> MachineHash {
        self.base.first().map(|s| s.hash).unwrap_or_default()
    }

    /// The machine hash after the claimed step count.
    pub fn final_hash(&self) -> MachineHash {
        self.base.last().map(|s| s.hash).unwrap_or_default()
    }

    /// The latest snapshot at or before `step`.
    fn nearest(&self, step: u64) -> &Snapshot<H> {
        let below = |list: &'_ [Snapshot<H>]| -> Option<usize> {
            list.partition_point(|s| s.step <= step).checked_sub(1)
        };
        let base = below(&self.base).map(|i| &self.base[i]);
        let recent = below(&self.recent).map(|i| &self.recent[i]);
        match (base, recent) {
            (Some(b), Some(r)) if r.step > b.step => r,
            (Some(b), _) => b,
            (None, Some(r)) => r,
            // `build` always keeps step 0.
            (None, None) => unreachable!("checkpoints without a snapshot at step 0"),
        }
    }

    /// The machine and host after `step` steps.
    fn replay(&self, step: u64) -> (Machine, H) {
        let from = self.nearest(step);
        let (mut machine, mut host) = (from.machine.clone(), from.host.clone());
        if step > from.step {
            machine.run(&mut host, step - from.step);
        }
        (machine, host)
    }

    /// The machine hash after `step` steps.
    pub fn hash_at(&self, step: u64) -> MachineHash {
        let from = self.nearest(step);
        if from.step == step {
            return from.hash;
        }
        self.replay(step).0.hash()
    }

    /// The machine hashes after each of `steps` (in that order). Steps sharing a nearest
    /// snapshot are computed by one run from it; runs from different snapshots go in parallel.
    /// Snapshots at up to [`MAX_KEPT`] of the asked steps, evenly spread, are kept until the next
    /// [`Checkpoints::focus`] drops them: the next round's segment starts at one of the steps.
    pub fn hashes_at(&mut self, steps: &[u64]) -> Vec<MachineHash> {
        let mut wanted = steps.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let keep_every = wanted.len().div_ceil(MAX_KEPT).max(1);
        // Per nearest snapshot: the steps to hash from it, and whether to keep a snapshot there.
        type Group<'a, H> = (&'a Snapshot<H>, Vec<(u64, bool)>);
        let mut groups: Vec<Group<H>> = Vec::new();
        for (i, step) in wanted.into_iter().enumerate() {
            let from = self.nearest(step);
            let keep = i % keep_every == 0;
            match groups.last_mut() {
                Some((snapshot, group)) if std::ptr::eq(*snapshot, from) => {
                    group.push((step, keep))
                }
                _ => groups.push((from, vec![(step, keep)])),
            }
        }
        let computed: Vec<(u64, MachineHash, Option<Snapshot<H>>)> = groups
            .into_par_iter()
            .flat_map_iter(|(from, group)| {
                let (mut machine, mut host) = (from.machine.clone(), from.host.clone());
                let mut at = from.step;
                group
                    .into_iter()
                    .map(|(step, keep)| {
                        // A step that is itself a snapshot's needs no run and no new snapshot.
                        if step == from.step {
                            return (step, from.hash, None);
                        }
                        machine.run(&mut host, step - at);
                        at = step;
                        if keep {
                            let kept = Snapshot::take(step, &mut machine, &host);
                            (step, kept.hash, Some(kept))
                        } else {
                            (step, machine.hash(), None)
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let hashes = steps
            .iter()
            .map(|step| {
                let i = computed.partition_point(|(s, _, _)| s < step);
                computed[i].1
            })
            .collect();
        self.recent
            .extend(computed.into_iter().filter_map(|(_, _, kept)| kept));
        self.recent.sort_by_key(|s| s.step);
        self.recent.dedup_by_key(|s| s.step);
        hashes
    }

    /// Drops the snapshots kept by [`Checkpoints::hashes_at`] outside `[start, end]`: the game
    /// never asks about steps outside the disputed segment again.
    pub fn focus(&mut self, start: u64, end: u64) {
        self.recent.retain(|s| (start..=end).contains(&s.step));
    }

    /// The encoded one-step proof of step `step + 1`, i.e. of the step the machine takes after
    /// `step` steps (a halted machine's proof shows it staying put).
    pub fn proof_at(&self, step: u64) -> Result<Vec<u8>, ProveError> {
        let (mut machine, host) = self.replay(step);
        Ok(machine.prove_step(&host, self.semantics)?.encode())
    }

    /// The machine after `step` steps opened as far as `proveHalted` needs: its hot part and
    /// the hash of the rest (cold part and host root).
    pub fn opening_at(&self, step: u64) -> ([u8; vm::commit::machine_hash::HOT_LEN], [u8; 32]) {
        let inputs = self.replay(step).0.hash_inputs();
        (inputs.hot_bytes(), inputs.cold.hash())
    }

    /// The op the machine runs after `step` steps (`None` once it has halted).
    pub fn op_at(&self, step: u64) -> Option<Op> {
        self.replay(step).0.next_op()
    }
}
