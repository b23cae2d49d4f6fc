//! One turn of the sequencer: the mempool's oldest transactions (and every pending deposit) posted
//! as the next batch, the batch read back from L1 and run (natively for receipts and withdrawals,
//! on the interpreter for the claim, which must agree), asserted with the bond, and every effect
//! written to the store in one transaction.

use program::ledger::{Config, TransactionList};
use program::run_native_bytes;
use verifier::l1::{Wallet, L1};
use verifier::settlement::Deployment;

use super::mempool::{self, Pending};
use super::rpc::NodeState;
use super::store::{BatchCommit, Head, StoreError, StoredBatch, StoredWithdrawal, TxLocation};
use crate::settlement::{
    assert_batch, fetch_batch, pending_deposits, post_batch, run_claim, AssertionRecord,
    SettleError,
};
use crate::StfGuest;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Settle(#[from] SettleError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the interpreter's outputs differ from the native ledger's for batch {0}")]
    EnginesDisagree(u64),
    #[error("encoding the transactions section: {0}")]
    Encode(String),
}

/// What one turn produced.
#[derive(Clone, Debug)]
pub struct Produced {
    pub batch: u64,
    pub transactions: usize,
    pub deposits: usize,
    pub assertion: AssertionRecord,
}

/// Posts and asserts the next batch on `parent` (the chain tip the node follows), if there is
/// anything to post. `None`: no transaction waits and no deposit is pending.
pub fn produce_batch(
    node: &mut NodeState,
    l1: &mut dyn L1,
    wallet: &Wallet,
    deployment: &Deployment,
    guest: &StfGuest,
    parent: &AssertionRecord,
    max_transactions: usize,
) -> Result<Option<Produced>, NodeError> {
    let transactions = node.db.pending(max_transactions)?;
    if transactions.is_empty() && pending_deposits(l1, deployment)?.is_empty() {
        return Ok(None);
    }
    let section = TransactionList(transactions.clone())
        .to_bytes()
        .map_err(|e| NodeError::Encode(e.to_string()))?;
    let (number, _) = post_batch(l1, wallet, deployment, &section)?;
    let batch = fetch_batch(l1, deployment, number)?;
    let pre_state_root = parent.post_state_root()?;
    let before = node.db.nodes().clone();
    let native = run_native_bytes(
        batch.message(&pre_state_root),
        before.clone(),
        &Config::default(),
    );
    let claim = run_claim(guest, &batch, parent, before.clone())?;
    if claim.outputs != native.execution.outputs.to_bytes() {
        return Err(NodeError::EnginesDisagree(number));
    }
    let (assertion, _) = assert_batch(l1, wallet, deployment, parent, &batch, &claim)?;

    let execution = &native.execution;
    let deposits = batch.deposits.len();
    let hashes: Vec<_> = transactions
        .iter()
        .map(|tx| mempool::transaction_hash(tx))
        .collect();
    let receipts = hashes
        .iter()
        .enumerate()
        .filter_map(|(position, hash)| {
            let status = execution.receipts.get(deposits + position)?;
            Some((
                *hash,
                TxLocation {
                    batch: number,
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
            let tx = hashes.get((w.index & 0xFFFF_FFFF) as usize)?;
            Some((
                *tx,
                StoredWithdrawal {
                    batch: number,
                    l1_recipient: w.l1_recipient,
                    amount: w.amount,
                    index: w.index,
                    position: position as u32,
                },
            ))
        })
        .collect();
    let new_nodes = native
        .store
        .iter()
        .filter(|(hash, _)| !before.contains(hash))
        .map(|(_, node)| node.to_vec())
        .collect();
    node.db.commit_batch(BatchCommit {
        batch: Some(StoredBatch {
            number,
            message: batch.message(&pre_state_root),
            outputs: claim.outputs.clone(),
            receipts: execution.receipts.iter().map(|s| s.code()).collect(),
            l1_block: batch.l1_block,
        }),
        head: Head {
            batch: number,
            state_root: execution.outputs.post_state_root,
        },
        new_nodes,
        receipts,
        withdrawals,
        consumed: hashes,
        l1_cursor: batch.l1_block,
    })?;
    node.pending = readmit(node)?;
    Ok(Some(Produced {
        batch: number,
        transactions: transactions.len(),
        deposits,
        assertion,
    }))
}

/// The waiting transactions' effects recomputed on the new head (the ones left after a batch).
fn readmit(node: &NodeState) -> Result<Pending, NodeError> {
    let head = node.db.head()?;
    let mut pending = Pending::default();
    for bytes in node.db.pending(usize::MAX)? {
        if let Ok(admitted) = mempool::check(
            &bytes,
            node.chain_id,
            node.db.nodes(),
            &head.state_root,
            &pending,
        ) {
            pending.add(&admitted);
        }
    }
    Ok(pending)
}
