//! The sequencer's turn: the mempool's oldest transactions (and every pending deposit) posted as
//! the next batch. Nothing else happens here: the batch is applied like any other, by the
//! follower reading it back from L1, which also takes its transactions out of the mempool. So a
//! crash between posting and applying loses nothing and posts nothing twice: on restart the node
//! applies what L1 holds before it posts again.

use program::ledger::TransactionList;
use verifier::l1::{Wallet, L1};
use verifier::settlement::Deployment;

use super::state::{lock_state, Shared};
use super::NodeError;
use crate::settlement::{pending_deposits, post_batch};

/// What the sequencer posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Posted {
    pub batch: u64,
    pub transactions: usize,
}

/// Posts the next batch if anything waits: `Ok(None)` when no transaction waits and no deposit
/// is pending.
pub fn post_next_batch(
    state: &Shared,
    l1: &mut dyn L1,
    wallet: &Wallet,
    deployment: &Deployment,
    max_transactions: usize,
) -> Result<Option<Posted>, NodeError> {
    let transactions = {
        let node = lock_state(state);
        node.db.pending(max_transactions)?
    };
    if transactions.is_empty() && pending_deposits(l1, deployment)?.is_empty() {
        return Ok(None);
    }
    let count = transactions.len();
    let section = TransactionList(transactions)
        .to_bytes()
        .map_err(|e| NodeError::Encode(e.to_string()))?;
    let (batch, _) = post_batch(l1, wallet, deployment, &section)?;
    Ok(Some(Posted {
        batch,
        transactions: count,
    }))
}
