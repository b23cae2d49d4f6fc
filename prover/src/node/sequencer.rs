//! Posting a batch: the mempool's oldest transactions and the pending delayed messages (deposits
//! and forced transactions, as many as fit). The sequencer does this every interval; a validator
//! does it too once the sequencer has been silent for the inbox's `sequencerTimeout`, so the chain
//! outlives its sequencer. Nothing else happens here: the batch is applied like any other, by the
//! follower reading it back from L1, which also takes its transactions out of the mempool. So a
//! crash between posting and applying loses nothing and posts nothing twice: on restart the node
//! applies what L1 holds before it posts again.

use program::ledger::types::BATCH_HEADER_LEN;
use program::ledger::{Address, Transaction, TransactionList};
use verifier::l1::{Wallet, L1};
use verifier::settlement::contracts::{view, DelayedRecord, Inbox};

use super::mempool;
use super::state::{lock_state, Shared};
use super::NodeError;
use crate::settlement::{
    delayed_message, pending_delayed, post_section, DataAvailability, L1Log, Placement,
};

/// What the node posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Posted {
    pub batch: u64,
    pub delayed: usize,
    pub transactions: usize,
    /// Where the (last) batch's section went.
    pub placement: Placement,
}

/// Whether `wallet` may post a batch now: it is the sequencer, or the sequencer has posted none
/// for `sequencerTimeout`.
pub fn may_post(l1: &mut dyn L1, log: &L1Log, wallet: &Wallet) -> Result<bool, NodeError> {
    let inbox = log.deployment().inbox;
    if view(l1, inbox, Inbox::sequencerCall {})? == wallet.address() {
        return Ok(true);
    }
    let last = view(l1, inbox, Inbox::lastSequencerBatchAtCall {})?;
    let timeout = view(l1, inbox, Inbox::sequencerTimeoutCall {})?;
    let (_, now) = l1.head()?;
    Ok(now >= last.saturating_add(timeout))
}

/// Posts the next batch if anything waits: `Ok(None)` when no transaction waits and no delayed
/// message is pending. A `censored` sender's transactions are left out, and so is the delayed
/// queue from its first forced transaction on, until that one is overdue (a censoring sequencer's
/// best: the inbox refuses a batch that skips an overdue message).
pub fn post_next_batch(
    state: &Shared,
    l1: &mut dyn L1,
    wallet: &Wallet,
    log: &L1Log,
    max_transactions: usize,
    censored: Option<Address>,
    availability: DataAvailability,
) -> Result<Option<Posted>, NodeError> {
    let transactions = {
        let node = lock_state(state);
        let mut waiting = node.db.pending(max_transactions)?;
        if let Some(censored) = censored {
            waiting
                .retain(|tx| node.senders.get(&mempool::transaction_hash(tx)) != Some(&censored));
        }
        waiting
    };
    let count = transactions.len();
    let section = TransactionList(transactions)
        .to_bytes()
        .map(|raw| program::compress_section(&raw))
        .map_err(|e| NodeError::Encode(e.to_string()))?;
    let inbox = log.deployment().inbox;
    let max_bytes = view(l1, inbox, Inbox::maxBatchBytesCall {})? as usize;
    let budget = max_bytes.saturating_sub(BATCH_HEADER_LEN + section.len());
    let mut delayed = pending_delayed(l1, log, budget)?;
    if let Some(censored) = censored {
        let delay = view(l1, inbox, Inbox::forceInclusionDelayCall {})?;
        let (_, now) = l1.head()?;
        let chain_id = view(l1, inbox, Inbox::chainIdCall {})?;
        if let Some(cut) = delayed.iter().position(|record| {
            forced_by(record, chain_id) == Some(censored)
                && now < record.timestamp.saturating_add(delay)
        }) {
            delayed.truncate(cut);
        }
    }
    if count == 0 && delayed.is_empty() {
        return Ok(None);
    }
    let delayed_count = delayed.len();
    let (batch, _, placement) = post_section(
        l1,
        wallet,
        log.deployment(),
        &section,
        delayed,
        availability,
    )?;
    Ok(Some(Posted {
        batch,
        delayed: delayed_count,
        transactions: count,
        placement,
    }))
}

/// The signer of a forced transaction, if the record is one and its signature recovers.
fn forced_by(record: &DelayedRecord, chain_id: u64) -> Option<Address> {
    match delayed_message(record) {
        program::ledger::DelayedMessage::Transaction(bytes) => {
            let tx = Transaction::from_bytes(&bytes).ok()?;
            program::sender_of(chain_id, &tx)
        }
        program::ledger::DelayedMessage::Deposit(_) => None,
    }
}
