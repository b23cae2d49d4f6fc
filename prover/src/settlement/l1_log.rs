//! What the inbox and the rollup logged, read from L1 in bounded pages from a cursor: each turn
//! reads only the blocks since the last, at most [`MAX_LOG_BLOCKS`] per request, halving a page
//! whenever the provider refuses it (public providers cap both ranges and results), so that a
//! node follows any number of deposits through any provider that answers one block at a time.
//!
//! The delayed queue (deposits and forced transactions, by queue index) and the batches' events
//! are kept decoded; the rollup's logs are kept as they are, for the assertion chain and its
//! dispute trees. A node keeps one [`L1Log`] for its life; a command reads one afresh.

use std::collections::BTreeMap;

use alloy_primitives::{Bytes, B256};
use verifier::l1::{Log, L1};
use verifier::settlement::contracts::{events, DelayedRecord, Deployment, Inbox};

use super::SettleError;

/// The most blocks one `eth_getLogs` request spans.
pub const MAX_LOG_BLOCKS: u64 = 1_000;

/// A batch as the inbox's logs tell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchEvent {
    pub posted: Inbox::BatchPosted,
    /// The transaction that posted it, and its block.
    pub tx_hash: B256,
    pub block: u64,
    /// Its transactions, when the poster was not an account without code calling directly.
    pub data: Option<Bytes>,
}

#[derive(Clone, Debug)]
pub struct L1Log {
    deployment: Deployment,
    /// The first block not read yet.
    next_block: u64,
    /// The delayed queue so far: entry i is message i.
    delayed: Vec<DelayedRecord>,
    batches: BTreeMap<u64, BatchEvent>,
    rollup: Vec<Log>,
}

impl L1Log {
    /// Nothing read yet: the first [`L1Log::sync`] starts at the deployment's first block.
    pub fn new(deployment: &Deployment) -> L1Log {
        L1Log {
            deployment: deployment.clone(),
            next_block: deployment.first_block,
            delayed: Vec::new(),
            batches: BTreeMap::new(),
            rollup: Vec::new(),
        }
    }

    /// Everything logged up to L1's head, read page by page.
    pub fn read(l1: &mut dyn L1, deployment: &Deployment) -> Result<L1Log, SettleError> {
        let mut log = L1Log::new(deployment);
        log.sync(l1)?;
        Ok(log)
    }

    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// Reads the blocks from the cursor to L1's head.
    pub fn sync(&mut self, l1: &mut dyn L1) -> Result<(), SettleError> {
        let (head, _) = l1.head()?;
        while self.next_block <= head {
            let last = head.min(self.next_block.saturating_add(MAX_LOG_BLOCKS - 1));
            self.read_page(l1, self.next_block, last)?;
            self.next_block = last + 1;
        }
        Ok(())
    }

    /// Blocks `from..=to`, split in halves for as long as the provider refuses a page.
    fn read_page(&mut self, l1: &mut dyn L1, from: u64, to: u64) -> Result<(), SettleError> {
        let both = l1.logs(self.deployment.inbox, from, to).and_then(|inbox| {
            let rollup = l1.logs(self.deployment.rollup, from, to)?;
            Ok((inbox, rollup))
        });
        match both {
            Ok((inbox, rollup)) => {
                self.take_inbox(&inbox)?;
                self.rollup.extend(rollup);
                Ok(())
            }
            Err(_) if from < to => {
                let middle = from + (to - from) / 2;
                self.read_page(l1, from, middle)?;
                self.read_page(l1, middle + 1, to)
            }
            Err(error) => Err(error.into()),
        }
    }

    fn take_inbox(&mut self, logs: &[Log]) -> Result<(), SettleError> {
        for log in logs {
            if let Some((event, _)) =
                events::<Inbox::DepositQueued>(std::slice::from_ref(log)).pop()
            {
                self.queue(
                    event.index,
                    DelayedRecord {
                        to: event.l2Recipient,
                        amount: event.amount,
                        timestamp: event.timestamp,
                        transaction: Bytes::new(),
                    },
                )?;
            } else if let Some((event, _)) =
                events::<Inbox::TransactionForced>(std::slice::from_ref(log)).pop()
            {
                self.queue(
                    event.index,
                    DelayedRecord {
                        to: Default::default(),
                        amount: 0,
                        timestamp: event.timestamp,
                        transaction: event.transaction,
                    },
                )?;
            } else if let Some((posted, _)) =
                events::<Inbox::BatchPosted>(std::slice::from_ref(log)).pop()
            {
                self.batches.insert(
                    posted.batchNumber,
                    BatchEvent {
                        posted,
                        tx_hash: log.tx_hash,
                        block: log.block,
                        data: None,
                    },
                );
            } else if let Some((event, _)) =
                events::<Inbox::BatchData>(std::slice::from_ref(log)).pop()
            {
                // Emitted after its BatchPosted, in the same transaction.
                if let Some(batch) = self.batches.get_mut(&event.batchNumber) {
                    batch.data = Some(event.transactions);
                }
            }
        }
        Ok(())
    }

    /// Queue indices come from L1 in order; a gap means the provider left logs out.
    fn queue(&mut self, index: u64, record: DelayedRecord) -> Result<(), SettleError> {
        if index != self.delayed.len() as u64 {
            return Err(SettleError::Mismatch(format!(
                "delayed message {index} logged after {} messages: the L1 provider left logs out",
                self.delayed.len()
            )));
        }
        self.delayed.push(record);
        Ok(())
    }

    /// Delayed messages queued so far.
    pub fn delayed_count(&self) -> u64 {
        self.delayed.len() as u64
    }

    /// Records `first..first + count` of the delayed queue, if all were logged.
    pub fn delayed(&self, first: u64, count: u64) -> Option<&[DelayedRecord]> {
        let start = usize::try_from(first).ok()?;
        let end = start.checked_add(usize::try_from(count).ok()?)?;
        self.delayed.get(start..end)
    }

    /// Batch `number`'s events, if logged.
    pub fn batch(&self, number: u64) -> Option<&BatchEvent> {
        self.batches.get(&number)
    }

    /// The highest batch number logged (0: none).
    pub fn batch_count(&self) -> u64 {
        self.batches.keys().next_back().copied().unwrap_or(0)
    }

    /// The delayed messages consumed by the batches logged so far.
    pub fn delayed_consumed(&self) -> u64 {
        self.batches
            .values()
            .next_back()
            .map(|batch| batch.posted.firstDelayed + u64::from(batch.posted.delayedCount))
            .unwrap_or(0)
    }

    /// The rollup's logs, in chain order.
    pub fn rollup_logs(&self) -> &[Log] {
        &self.rollup
    }
}
