//! Following L1: every batch the inbox holds, in order, replayed on wasmtime on the store's head
//! state and written to the store with its every effect in one transaction. The native ledger
//! runs alongside (on the other core) for what the guest does not output (receipts, the
//! withdrawal list); the two must agree on the outputs, or the node stops rather than serve a
//! state it cannot vouch for. Both roles apply batches here, the sequencer its own too: what a
//! node serves is always what L1 holds.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use program::ledger::{BatchOutputs, Config, Hash, TransactionList};
use program::{run_native_abi, NodeStore, RecoveredSignatures};
use verifier::l1::L1;
use verifier::settlement::contracts::{view, Deployment, Inbox};

use super::mempool::{self, Pending};
use super::state::{lock_state, NextBatch, NodeState, Shared};
use super::store::{BatchCommit, Head, StoredBatch, StoredWithdrawal, TxLocation};
use super::NodeError;
use crate::runner::Engine;
use crate::settlement::{rebuild_batch, withdrawal_proof_of, L1Log, PostedBatch};
use crate::StfGuest;

/// Whether a replay recovers the batch's signatures on every core first (the same results:
/// `Off` is there to measure what `On` gains).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SignatureCache {
    #[default]
    On,
    Off,
}

/// One batch applied.
#[derive(Clone, Debug)]
pub struct Applied {
    pub number: u64,
    /// Deposits and forced transactions.
    pub delayed: usize,
    pub transactions: usize,
    pub state_root: Hash,
    /// The replay's time: signatures recovered, then wasmtime and the native ledger side by side.
    pub replay: Duration,
}

/// How many batches the inbox holds (they are numbered from 1).
pub fn posted_batches(l1: &mut dyn L1, deployment: &Deployment) -> Result<u64, NodeError> {
    Ok(view(l1, deployment.inbox, Inbox::batchCountCall {})?)
}

/// Applies the next batch `log` holds after the store's head, if there is one. The state is
/// read and written under the lock; the replay runs outside it, so the RPC keeps answering.
///
/// While wasmtime replays the batch on one core (the native ledger is done long before it), the
/// batch after it is rebuilt and its signatures recovered on the other: a node catching up
/// spends on each batch the replay's time, not the replay's and the recovery's.
pub fn apply_next(
    state: &Shared,
    l1: &mut dyn L1,
    log: &L1Log,
    guest: &StfGuest,
    cache: SignatureCache,
) -> Result<Option<Applied>, NodeError> {
    let (head, nodes, senders, prefetched) = {
        let mut node = lock_state(state);
        (
            node.db.head()?,
            node.db.nodes().clone(),
            node.senders.clone(),
            node.next_batch.take(),
        )
    };
    let number = head.batch + 1;
    if head.batch >= log.batch_count() {
        return Ok(None);
    }
    let rebuild = |l1: &mut dyn L1, number| {
        rebuild_batch(l1, log, number).map_err(|e| NodeError::Unreadable(number, e.to_string()))
    };
    // A sequencer recovered its own transactions' senders at admission.
    let recover = |batch: &PostedBatch| {
        (cache == SignatureCache::On).then(|| {
            Arc::new(RecoveredSignatures::of_section_known(
                batch.chain_id,
                &batch.section(),
                |tx| senders.get(tx).copied(),
            ))
        })
    };
    let NextBatch { batch, signatures } = match prefetched {
        Some(next) if next.batch.number == number => next,
        _ => {
            let batch = rebuild(l1, number)?;
            let signatures = recover(&batch);
            NextBatch { batch, signatures }
        }
    };
    // The next one is read from L1 here (the L1 client is not shared); an error reading it is
    // met again, and reported, when it is applied.
    let next = (cache == SignatureCache::On && number < log.batch_count())
        .then(|| rebuild(l1, number + 1).ok())
        .flatten();
    let (replayed, next) = rayon::join(
        || replay_with(guest, &batch, &head, nodes, signatures.clone()),
        || {
            next.map(|batch| NextBatch {
                signatures: recover(&batch),
                batch,
            })
        },
    );
    let (commit, applied) = replayed?;
    let mut node = lock_state(state);
    node.db.commit_batch(commit)?;
    node.recovered = signatures.map(|signatures| (batch.number, signatures));
    node.next_batch = next;
    readmit(&mut node)?;
    Ok(Some(applied))
}

/// Runs `batch` on `head` (its trie nodes in `nodes`) and gathers everything it changes.
pub fn replay(
    guest: &StfGuest,
    batch: &PostedBatch,
    head: &Head,
    nodes: NodeStore,
    cache: SignatureCache,
) -> Result<(BatchCommit, Applied), NodeError> {
    let signatures = match cache {
        SignatureCache::On => Some(Arc::new(RecoveredSignatures::of_section(
            batch.chain_id,
            &batch.section(),
        ))),
        SignatureCache::Off => None,
    };
    replay_with(guest, batch, head, nodes, signatures)
}

/// [`replay`] with the batch's signatures recovered already (or not at all).
fn replay_with(
    guest: &StfGuest,
    batch: &PostedBatch,
    head: &Head,
    nodes: NodeStore,
    signatures: Option<Arc<RecoveredSignatures>>,
) -> Result<(BatchCommit, Applied), NodeError> {
    let started = Instant::now();
    let abi = batch
        .abi(&head.state_root, nodes.clone())
        .with_signatures(signatures);
    let message = abi.batch_bytes.clone();
    let (native, wasm) = rayon::join(
        || run_native_abi(abi.clone(), &Config::default()),
        || guest.run_abi(Engine::Native, abi.clone()),
    );
    let wasm = wasm.map_err(crate::settlement::SettleError::from)?;
    let replay_time = started.elapsed();
    let outputs = wasm.outputs.to_bytes().to_vec();
    if outputs != native.execution.outputs.to_bytes() {
        return Err(NodeError::EnginesDisagree(batch.number));
    }
    let execution = &native.execution;
    let delayed = batch.delayed.len();
    // A section that does not decode was refused whole: its transactions have no receipts.
    let transactions = TransactionList::from_bytes(&batch.section())
        .map(|list| list.0)
        .unwrap_or_default();
    // Each receipt's transaction hash (none for a deposit), in receipt order: the delayed
    // messages, then the sequencer's transactions.
    let mut hashes: Vec<Option<Hash>> = vec![None; delayed];
    for (position, bytes) in batch.forced_transactions() {
        hashes[position] = Some(mempool::transaction_hash(bytes));
    }
    hashes.extend(
        transactions
            .iter()
            .map(|tx| Some(mempool::transaction_hash(tx))),
    );
    let receipts = hashes
        .iter()
        .enumerate()
        .filter_map(|(position, hash)| {
            let status = execution.receipts.get(position)?;
            Some((
                (*hash)?,
                TxLocation {
                    batch: batch.number,
                    position: position as u32,
                    status: status.code(),
                },
            ))
        })
        .collect();
    let withdrawals = execution
        .withdrawals
        .iter()
        .enumerate()
        .filter_map(|(position, w)| {
            let tx = (*hashes.get((w.index & 0xFFFF_FFFF) as usize)?)?;
            let proof = withdrawal_proof_of(&execution.withdrawals, position)?;
            Some((
                tx,
                StoredWithdrawal {
                    batch: batch.number,
                    l1_recipient: w.l1_recipient,
                    amount: w.amount,
                    index: w.index,
                    position: position as u32,
                    proof: proof.siblings.iter().map(|s| s.0).collect(),
                },
            ))
        })
        .collect();
    // The run's clone shares the node's settled store: what it added is the batch's.
    let new_nodes = wasm.store.added_beyond(&nodes);
    let state_root = wasm.outputs.post_state_root;
    let commit = BatchCommit {
        batch: Some(StoredBatch {
            number: batch.number,
            message,
            outputs,
            receipts: execution.receipts.iter().map(|s| s.code()).collect(),
            l1_block: batch.l1_block,
            blobs: batch.blobs.clone(),
        }),
        head: Head {
            batch: batch.number,
            state_root,
        },
        new_nodes,
        receipts,
        withdrawals,
        // Posted means no longer waiting, whatever the receipt says.
        consumed: hashes.into_iter().flatten().collect(),
        l1_cursor: batch.l1_block,
        last_block: None,
    };
    Ok((
        commit,
        Applied {
            number: batch.number,
            delayed,
            transactions: transactions.len(),
            state_root,
            replay: replay_time,
        },
    ))
}

/// Batch `number` as the node applied it (read back from L1 and checked then), if it has.
pub fn applied_batch(state: &Shared, number: u64) -> Result<Option<PostedBatch>, NodeError> {
    let node = lock_state(state);
    let Some(stored) = node.db.batch(number)? else {
        return Ok(None);
    };
    PostedBatch::from_message(&stored.message, stored.l1_block)
        .map(|batch| {
            Some(PostedBatch {
                blobs: stored.blobs,
                ..batch
            })
        })
        .map_err(|e| NodeError::Unreadable(number, e.to_string()))
}

/// [`applied_batch`] for a batch the caller knows the node applied (it holds a claim of it).
pub fn applied(state: &Shared, number: u64) -> Result<PostedBatch, NodeError> {
    applied_batch(state, number)?
        .ok_or_else(|| NodeError::Unreadable(number, "the node has not applied it".into()))
}

/// The outputs the node computed for batch `number`, if it has applied it.
pub fn outputs_of(state: &Shared, number: u64) -> Result<Option<BatchOutputs>, NodeError> {
    let node = lock_state(state);
    match node.db.batch(number)? {
        Some(batch) => Ok(BatchOutputs::from_bytes(&batch.outputs).ok()),
        None => Ok(None),
    }
}

/// The waiting transactions' effects recomputed on the new head (the ones left after a batch),
/// and their senders (the included ones' dropped).
pub fn readmit(node: &mut NodeState) -> Result<(), NodeError> {
    let head = node.db.head()?;
    let mut pending = Pending::default();
    let mut senders = BTreeMap::new();
    for bytes in node.db.pending(usize::MAX)? {
        let hash = mempool::transaction_hash(&bytes);
        if let Ok(admitted) = mempool::check_known(
            &bytes,
            node.chain_id,
            node.db.nodes(),
            &head.state_root,
            &pending,
            node.senders.get(&hash).copied(),
        ) {
            pending.add(&admitted);
            senders.insert(hash, admitted.sender);
        }
    }
    node.pending = pending;
    node.senders = senders;
    Ok(())
}
