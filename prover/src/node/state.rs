//! What a node's turn writes and its RPC reads: the store, the mempool's effects, the senders
//! recovered at admission, and what the node last read from L1; shared behind one lock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use program::ledger::Hash;

use super::mempool::Pending;
use super::store::NodeDb;
use crate::settlement::PostedBatch;

/// What the RPC reads and, on a sequencer, adds to.
pub struct NodeState {
    pub db: NodeDb,
    pub chain_id: u64,
    /// Whether `hb_sendTransaction` takes transactions: always on a sequencer, on a validator
    /// once the sequencer has been silent past the inbox's timeout (it posts them then).
    pub accepts_transactions: bool,
    /// The mempool's transactions' effects, on top of the head.
    pub pending: Pending,
    /// What the node last read from L1 about the assertion chain.
    pub l1: L1Summary,
    /// The sender of each waiting transaction, recovered at admission (by transaction hash):
    /// the batch that includes it and the re-check after each batch do not recover it again.
    pub senders: BTreeMap<Hash, program::ledger::Address>,
    /// The signatures of the batch applied last (the one asserted next, usually).
    pub recovered: Option<(u64, Arc<program::RecoveredSignatures>)>,
    /// The batch after the head, read and its signatures recovered while the head's replayed.
    pub next_batch: Option<NextBatch>,
}

/// A batch read back from L1 ahead of its turn, with its signatures recovered.
pub struct NextBatch {
    pub batch: PostedBatch,
    pub signatures: Option<Arc<program::RecoveredSignatures>>,
}

/// The assertion chain as the node last read it (zeros before its first turn).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct L1Summary {
    pub posted_batches: u64,
    pub latest_assertion: u64,
    pub latest_assertion_batch: u64,
    /// `pending`, `confirmed` or `rejected`.
    pub latest_assertion_status: String,
    pub confirmed_assertion: u64,
    pub confirmed_batch: u64,
}

pub type Shared = Arc<Mutex<NodeState>>;

/// The node's state, locked. A panic while it was held cannot have left the store half-written
/// (redb commits whole transactions), so a poisoned lock's state is still sound.
pub fn lock_state(state: &Shared) -> std::sync::MutexGuard<'_, NodeState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
