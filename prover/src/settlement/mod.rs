//! The rollup's actors on L1: a sequencer posting batches, an asserter claiming their outcome,
//! anyone confirming, a user claiming a withdrawal; and reading back from L1 what was posted, so
//! that "replaying a batch" replays the bytes L1 really holds.

use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolEvent};
use program::ledger::commitments::withdrawal_proof;
use program::ledger::section::BlobReference;
use program::ledger::types::BATCH_HEADER_LEN;
use program::ledger::{
    BatchHeader, BatchOutputs, DelayedMessage, Deposit, Hash, InboxMessage, Withdrawal,
};
use program::NodeStore;
use verifier::l1::{L1Error, TxReceipt, Wallet, L1};
use verifier::settlement::contracts::{
    self, bytes, events, view, AssertionData, DelayedRecord, Deployment, Inbox, Rollup,
    WithdrawalProof,
};
use verifier::settlement::{BatchCommitment, MachineOpening};

use crate::runner::{BatchRun, Engine, RunError, StfGuest};

#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error(transparent)]
    L1(#[from] L1Error),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("L1 has no {0}")]
    Missing(String),
    #[error("what L1 holds does not match: {0}")]
    Mismatch(String),
}

pub mod availability;
mod l1_log;

pub use availability::{post_section, DataAvailability, Placement};
pub use l1_log::{BatchEvent, L1Log, MAX_LOG_BLOCKS};

/// A batch as the inbox holds it: everything of its message but leaf 0, the pre-state root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostedBatch {
    pub number: u64,
    pub chain_id: u64,
    pub first_delayed: u64,
    /// The deposits and forced transactions it consumes, in queue order.
    pub delayed: Vec<DelayedMessage>,
    /// The sequencer's transactions section as posted (`0x00` for a forced batch).
    pub transactions: Vec<u8>,
    /// What the inbox stored ([`BatchCommitment::hash`]).
    pub commitment: B256,
    pub l1_block: u64,
    /// The blobs of a batch posted in blobs (`transactions` is then the inbox's
    /// [`BlobReference`]), checked against its versioned hashes; empty for one in calldata, and
    /// for one rebuilt from a stored message.
    pub blobs: Vec<Vec<u8>>,
}

impl PostedBatch {
    /// The inbox message the guest reads, with `pre_state_root` as leaf 0.
    pub fn message(&self, pre_state_root: &Hash) -> Vec<u8> {
        let records: usize = self.delayed.iter().map(DelayedMessage::record_len).sum();
        let mut message = Vec::with_capacity(BATCH_HEADER_LEN + records + self.transactions.len());
        BatchHeader {
            pre_state_root: *pre_state_root,
            chain_id: self.chain_id,
            batch_number: self.number,
            first_delayed: self.first_delayed,
            // L1 never queues a batch of more (it is at most 256 KiB).
            delayed_count: self.delayed.len() as u32,
        }
        .write(&mut message);
        for delayed in &self.delayed {
            delayed.write_record(&mut message);
        }
        message.extend_from_slice(&self.transactions);
        message
    }

    /// The sequencer's section as posted, wherever it was posted: the bytes in its blobs for a
    /// batch in blobs (empty if they are not all there), else the message's own.
    pub fn section(&self) -> std::borrow::Cow<'_, [u8]> {
        match BlobReference::of(&self.transactions) {
            Some(reference) => {
                let blobs: Vec<&[u8]> = self.blobs.iter().map(Vec::as_slice).collect();
                std::borrow::Cow::Owned(
                    program::ledger::blob::from_blobs(&blobs, reference.len as usize)
                        .unwrap_or_default(),
                )
            }
            None => std::borrow::Cow::Borrowed(&self.transactions),
        }
    }

    /// Its blobs by versioned hash, as the guest's host serves them (empty for a batch in
    /// calldata).
    pub fn blob_store(&self) -> program::BlobStore {
        let hashes = BlobReference::of(&self.transactions)
            .map(|reference| reference.versioned_hashes)
            .unwrap_or_default();
        Arc::new(hashes.into_iter().zip(self.blobs.iter().cloned()).collect())
    }

    /// The host the guest runs the batch on: its message with `pre_state_root` as leaf 0, the
    /// trie in `store`, its blobs.
    pub fn abi(&self, pre_state_root: &Hash, store: NodeStore) -> program::NativeAbi {
        program::NativeAbi::new(self.message(pre_state_root), store).with_blobs(self.blob_store())
    }

    /// A batch from its whole message (as a node stores it), its commitment recomputed.
    pub fn from_message(message: &[u8], l1_block: u64) -> Result<PostedBatch, SettleError> {
        let split = InboxMessage::split(message)
            .ok_or_else(|| SettleError::Mismatch("a stored message does not split".into()))?;
        let mut batch = PostedBatch {
            number: split.header.batch_number,
            chain_id: split.header.chain_id,
            first_delayed: split.header.first_delayed,
            delayed: split.delayed,
            transactions: split.transactions.to_vec(),
            commitment: B256::ZERO,
            l1_block,
            blobs: Vec::new(),
        };
        batch.commitment = B256::from(batch.rebuilt_opening()?.hash());
        Ok(batch)
    }

    /// The forced transactions among the delayed messages: their receipt positions and bytes.
    pub fn forced_transactions(&self) -> impl Iterator<Item = (usize, &[u8])> {
        self.delayed
            .iter()
            .enumerate()
            .filter_map(|(position, delayed)| match delayed {
                DelayedMessage::Transaction(bytes) => Some((position, bytes.as_slice())),
                DelayedMessage::Deposit(_) => None,
            })
    }

    /// The commitment opening the asserter passes to L1; checked against what the inbox stored.
    pub fn commitment_opening(&self) -> Result<BatchCommitment, SettleError> {
        let opening = self.rebuilt_opening()?;
        if B256::from(opening.hash()) != self.commitment {
            return Err(SettleError::Mismatch(format!(
                "batch {}: rebuilt message commits to {}, the inbox stored {}",
                self.number,
                B256::from(opening.hash()),
                self.commitment
            )));
        }
        Ok(opening)
    }

    /// The commitment opening of the message as rebuilt here (leaf 0 unknown, zero).
    fn rebuilt_opening(&self) -> Result<BatchCommitment, SettleError> {
        BatchCommitment::of_message(&self.message(&[0; 32]))
            .ok_or_else(|| SettleError::Mismatch("message longer than 4 GiB".into()))
    }
}

/// The first `E` a successful transaction logged.
fn first_event<E: SolEvent>(receipt: &TxReceipt) -> Result<E, SettleError> {
    events::<E>(&receipt.logs)
        .into_iter()
        .next()
        .map(|(event, _)| event)
        .ok_or_else(|| SettleError::Missing(format!("{} event", E::SIGNATURE)))
}

/// A delayed record as the STF reads it.
pub fn delayed_message(record: &DelayedRecord) -> DelayedMessage {
    if record.transaction.is_empty() {
        DelayedMessage::Deposit(Deposit {
            to: record.to.into_array(),
            amount: record.amount,
        })
    } else {
        DelayedMessage::Transaction(record.transaction.to_vec())
    }
}

/// Posts `transactions` (a sequencer's encoded transactions section) as the next batch, with
/// as many pending delayed messages as fit. Returns the batch number and the receipt.
pub fn post_batch(
    l1: &mut dyn L1,
    poster: &Wallet,
    deployment: &Deployment,
    transactions: &[u8],
) -> Result<(u64, TxReceipt), SettleError> {
    let log = L1Log::read(l1, deployment)?;
    let max_bytes = view(l1, deployment.inbox, Inbox::maxBatchBytesCall {})? as usize;
    let budget = max_bytes.saturating_sub(BATCH_HEADER_LEN + transactions.len());
    let delayed = pending_delayed(l1, &log, budget)?;
    post_batch_with(l1, poster, deployment, transactions, delayed)
}

/// Posts `transactions` (a sequencer's encoded transactions section) as the next batch, with
/// `delayed`, the next pending delayed messages. Returns the batch number and the receipt.
pub fn post_batch_with(
    l1: &mut dyn L1,
    poster: &Wallet,
    deployment: &Deployment,
    transactions: &[u8],
    delayed: Vec<DelayedRecord>,
) -> Result<(u64, TxReceipt), SettleError> {
    let receipt = contracts::send(
        l1,
        poster,
        deployment.inbox,
        U256::ZERO,
        Inbox::postBatchCall {
            transactions: bytes(transactions),
            delayed,
        },
    )?
    .success()?;
    let event: Inbox::BatchPosted = first_event(&receipt)?;
    Ok((event.batchNumber, receipt))
}

/// Posts `section` (a sequencer's section, raw or compressed) in the blobs of a blob transaction
/// as the next batch, with `delayed`, the next pending delayed messages. Returns the batch
/// number, the receipt and the blobs it took.
pub fn post_batch_blobs(
    l1: &mut dyn L1,
    poster: &Wallet,
    deployment: &Deployment,
    section: &[u8],
    delayed: Vec<DelayedRecord>,
) -> Result<(u64, TxReceipt, usize), SettleError> {
    let data_length = u32::try_from(section.len())
        .ok()
        .filter(|len| *len > 0)
        .ok_or_else(|| {
            SettleError::Mismatch(format!(
                "a section of {} bytes cannot be posted in blobs",
                section.len()
            ))
        })?;
    let blobs = program::ledger::blob::to_blobs(section);
    let count = blobs.len();
    let call = Inbox::postBatchBlobsCall {
        dataLength: data_length,
        delayed,
    };
    let receipt = l1
        .send_blobs(poster, deployment.inbox, call.abi_encode(), blobs)?
        .success()?;
    let event: Inbox::BatchPosted = first_event(&receipt)?;
    Ok((event.batchNumber, receipt, count))
}

/// The delayed messages not yet in a batch, oldest first: as many as one batch may carry whose
/// records fit in `record_bytes`.
pub fn pending_delayed(
    l1: &mut dyn L1,
    log: &L1Log,
    record_bytes: usize,
) -> Result<Vec<DelayedRecord>, SettleError> {
    let deployment = log.deployment();
    let consumed = view(l1, deployment.inbox, Inbox::delayedConsumedCall {})?;
    let max = view(l1, deployment.inbox, Inbox::maxDepositsPerBatchCall {})?;
    let pending = log
        .delayed(consumed, log.delayed_count().saturating_sub(consumed))
        .unwrap_or_default();
    let mut taken = Vec::new();
    let mut used = 0usize;
    for record in pending.iter().take(max as usize) {
        let len = delayed_message(record).record_len();
        if used + len > record_bytes {
            break;
        }
        used += len;
        taken.push(record.clone());
    }
    Ok(taken)
}

/// Batch `number` as L1 holds it, read afresh (a node keeps an [`L1Log`] instead).
pub fn fetch_batch(
    l1: &mut dyn L1,
    deployment: &Deployment,
    number: u64,
) -> Result<PostedBatch, SettleError> {
    let log = L1Log::read(l1, deployment)?;
    rebuild_batch(l1, &log, number)
}

/// Batch `number` rebuilt from what L1 logged: its transactions from `BatchData`, or from the
/// calldata of the transaction that posted it (an account without code calling `postBatch`
/// directly), or the byte 0x00 of a forced batch; its delayed messages from the queue's events.
/// The rebuilt message must commit to what the inbox stored, so a provider that lies about any
/// of it is caught here.
pub fn rebuild_batch(
    l1: &mut dyn L1,
    log: &L1Log,
    number: u64,
) -> Result<PostedBatch, SettleError> {
    let deployment = log.deployment();
    let batch = log
        .batch(number)
        .ok_or_else(|| SettleError::Missing(format!("batch {number}")))?;
    let event = &batch.posted;
    let transactions = if let Some(data) = &batch.data {
        data.to_vec()
    } else if event.transactionsHash == B256::from(program::keccak256(&[0])) {
        vec![0]
    } else {
        let input = l1.transaction_input(batch.tx_hash)?;
        Inbox::postBatchCall::abi_decode(&input)
            .map(|call| call.transactions.to_vec())
            .map_err(|_| {
                SettleError::Mismatch(format!(
                    "batch {number}: its transaction {} is not a direct postBatch call and no BatchData was logged",
                    batch.tx_hash
                ))
            })?
    };
    if B256::from(program::keccak256(&transactions)) != event.transactionsHash {
        return Err(SettleError::Mismatch(format!(
            "batch {number}: the transactions read back do not hash to the posted transactions hash"
        )));
    }
    let blobs = match BlobReference::of(&transactions) {
        Some(reference) => {
            let blobs = l1.blobs(batch.tx_hash)?;
            let expected: Vec<B256> = reference
                .versioned_hashes
                .iter()
                .map(|hash| B256::from(*hash))
                .collect();
            verifier::blobs::check_blobs(&blobs, &expected).map_err(|e| {
                SettleError::Mismatch(format!("batch {number}: the blobs served: {e}"))
            })?;
            blobs
        }
        None => Vec::new(),
    };
    let records = log
        .delayed(event.firstDelayed, u64::from(event.delayedCount))
        .ok_or_else(|| {
            SettleError::Missing(format!(
                "delayed messages {}..{} of batch {number}",
                event.firstDelayed,
                event.firstDelayed + u64::from(event.delayedCount)
            ))
        })?;
    let chain_id = view(l1, deployment.inbox, Inbox::chainIdCall {})?;
    let posted = PostedBatch {
        number,
        chain_id,
        first_delayed: event.firstDelayed,
        delayed: records.iter().map(delayed_message).collect(),
        transactions,
        commitment: view(l1, deployment.inbox, Inbox::batchCommitmentCall(number))?,
        l1_block: batch.block,
        blobs,
    };
    // Against the stored commitment, not the event's: the logs are what a provider might forge.
    posted.commitment_opening()?;
    Ok(posted)
}

/// Queues `transaction` (a signed L2 transaction's bytes) in the inbox's delayed queue; its
/// queue index and the receipt.
pub fn force_transaction(
    l1: &mut dyn L1,
    payer: &Wallet,
    deployment: &Deployment,
    transaction: &[u8],
) -> Result<(u64, TxReceipt), SettleError> {
    let receipt = contracts::send(
        l1,
        payer,
        deployment.inbox,
        U256::ZERO,
        Inbox::forceTransactionCall {
            transaction: bytes(transaction),
        },
    )?
    .success()?;
    let event: Inbox::TransactionForced = first_event(&receipt)?;
    Ok((event.index, receipt))
}

/// When delayed message `index` may be forced in (and must be in the next batch): the time
/// it was queued, which the last 8 bytes of its accumulator word hold, plus the delay.
pub fn forceable_at(
    l1: &mut dyn L1,
    deployment: &Deployment,
    index: u64,
) -> Result<u64, SettleError> {
    let delay = view(l1, deployment.inbox, Inbox::forceInclusionDelayCall {})?;
    let word = view(l1, deployment.inbox, Inbox::delayedAccCall(index + 1))?;
    let mut queued_at = [0u8; 8];
    queued_at.copy_from_slice(&word[24..]);
    Ok(u64::from_be_bytes(queued_at).saturating_add(delay))
}

/// Forces every overdue delayed message into batches of their own (as many as one batch may
/// carry each); the batch numbers posted. Nothing overdue: none.
pub fn force_include_overdue(
    l1: &mut dyn L1,
    sender: &Wallet,
    deployment: &Deployment,
) -> Result<Vec<u64>, SettleError> {
    let delay = view(l1, deployment.inbox, Inbox::forceInclusionDelayCall {})?;
    let max_bytes = view(l1, deployment.inbox, Inbox::maxBatchBytesCall {})? as usize;
    let mut posted = Vec::new();
    loop {
        let log = L1Log::read(l1, deployment)?;
        let (_, now) = l1.head()?;
        let budget = max_bytes.saturating_sub(BATCH_HEADER_LEN + 1);
        let overdue: Vec<DelayedRecord> = pending_delayed(l1, &log, budget)?
            .into_iter()
            .take_while(|record| record.timestamp.saturating_add(delay) <= now)
            .collect();
        if overdue.is_empty() {
            return Ok(posted);
        }
        let receipt = contracts::send(
            l1,
            sender,
            deployment.inbox,
            U256::ZERO,
            Inbox::forceIncludeCall { delayed: overdue },
        )?
        .success()?;
        let event: Inbox::BatchPosted = first_event(&receipt)?;
        posted.push(event.batchNumber);
    }
}

/// An assertion as L1 stores it (its data is what the stored hash commits to) and its outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionRecord {
    pub id: u64,
    pub data: AssertionData,
    pub outputs: Vec<u8>,
}

impl AssertionRecord {
    pub fn outputs(&self) -> Result<BatchOutputs, SettleError> {
        BatchOutputs::from_bytes(&self.outputs)
            .map_err(|e| SettleError::Mismatch(format!("assertion {}: {e}", self.id)))
    }

    pub fn post_state_root(&self) -> Result<Hash, SettleError> {
        Ok(self.outputs()?.post_state_root)
    }
}

/// Assertion 0: confirmed at deployment, its outputs all zero but the genesis state root.
pub fn genesis_assertion(
    l1: &mut dyn L1,
    deployment: &Deployment,
) -> Result<AssertionRecord, SettleError> {
    let outputs = view(l1, deployment.rollup, Rollup::genesisOutputsCall {})?.to_vec();
    Ok(AssertionRecord {
        id: 0,
        data: AssertionData {
            parentId: 0,
            batchNumber: 0,
            outputsHash: B256::from(program::keccak256(&outputs)),
            batchRootCommit: B256::ZERO,
            finalMachineHash: B256::ZERO,
            steps: 0,
        },
        outputs,
    })
}

/// Every assertion L1 published, by id (genesis first).
pub fn fetch_assertions(
    l1: &mut dyn L1,
    deployment: &Deployment,
) -> Result<Vec<AssertionRecord>, SettleError> {
    let log = L1Log::read(l1, deployment)?;
    assertions_logged(l1, &log)
}

/// Every assertion `log` holds, by id (genesis first).
pub fn assertions_logged(
    l1: &mut dyn L1,
    log: &L1Log,
) -> Result<Vec<AssertionRecord>, SettleError> {
    let mut all = vec![genesis_assertion(l1, log.deployment())?];
    for (event, _) in events::<Rollup::AssertionPosted>(log.rollup_logs()) {
        all.push(AssertionRecord {
            id: event.id,
            data: event.data,
            outputs: event.outputs.to_vec(),
        });
    }
    Ok(all)
}

/// What running a batch produced, as an asserter claims it.
#[derive(Clone, Debug)]
pub struct BatchClaim {
    pub outputs: Vec<u8>,
    pub final_state: MachineOpening,
    /// The machine hash after the run (its host root commits to the batch and the outputs).
    pub final_hash: vm::MachineHash,
    pub steps: u64,
    /// The trie nodes after the batch (the next batch's oracle).
    pub store: NodeStore,
}

/// Runs `batch` on `parent`'s post-state on the interpreter: the truth about it.
pub fn run_claim(
    guest: &StfGuest,
    batch: &PostedBatch,
    parent: &AssertionRecord,
    store: NodeStore,
) -> Result<BatchClaim, SettleError> {
    run_claim_with(guest, batch, parent, store, None)
}

/// [`run_claim`] with the batch's signatures recovered ahead (the same claim, sooner).
pub fn run_claim_with(
    guest: &StfGuest,
    batch: &PostedBatch,
    parent: &AssertionRecord,
    store: NodeStore,
    signatures: Option<Arc<program::RecoveredSignatures>>,
) -> Result<BatchClaim, SettleError> {
    let abi = batch
        .abi(&parent.post_state_root()?, store)
        .with_signatures(signatures);
    let run: BatchRun = guest.run_abi(Engine::Interp, abi)?;
    let state = run
        .final_state
        .ok_or_else(|| SettleError::Missing("final machine state".into()))?;
    let final_hash = run
        .final_hash
        .ok_or_else(|| SettleError::Missing("final machine hash".into()))?;
    Ok(BatchClaim {
        outputs: run.outputs.to_bytes().to_vec(),
        final_state: MachineOpening::of(&state),
        final_hash,
        steps: run.steps,
        store: run.store,
    })
}

/// The value `assert` or `back` needs from `staker`: nothing if it has a stake (it moves), else
/// a new stake.
pub fn stake_value(
    l1: &mut dyn L1,
    deployment: &Deployment,
    staker: Address,
) -> Result<U256, SettleError> {
    let stake = view(l1, deployment.rollup, Rollup::stakeOfCall { staker })?;
    if stake.active {
        Ok(U256::ZERO)
    } else {
        Ok(view(l1, deployment.rollup, Rollup::assertionBondCall {})?)
    }
}

/// Posts `claim` about `batch` as an assertion on `parent`, moving the asserter's stake onto it
/// (or staking anew).
pub fn assert_batch(
    l1: &mut dyn L1,
    asserter: &Wallet,
    deployment: &Deployment,
    parent: &AssertionRecord,
    batch: &PostedBatch,
    claim: &BatchClaim,
) -> Result<(AssertionRecord, TxReceipt), SettleError> {
    let opening = batch.commitment_opening()?;
    let value = stake_value(l1, deployment, asserter.address())?;
    let receipt = contracts::send(
        l1,
        asserter,
        deployment.rollup,
        value,
        Rollup::assertCall {
            parent: parent.data.clone(),
            parentOutputs: bytes(&parent.outputs),
            outputs: bytes(&claim.outputs),
            finalHot: bytes(&claim.final_state.hot),
            finalCold: bytes(&claim.final_state.cold),
            steps: claim.steps,
            messageLength: opening.length,
            batchSiblings: opening.siblings.iter().map(|s| B256::from(*s)).collect(),
        },
    )?
    .success()?;
    let event: Rollup::AssertionPosted = first_event(&receipt)?;
    Ok((
        AssertionRecord {
            id: event.id,
            data: event.data,
            outputs: event.outputs.to_vec(),
        },
        receipt,
    ))
}

/// Moves `staker`'s stake (or a new one) onto `assertion`. A refusal is in the receipt.
pub fn back(
    l1: &mut dyn L1,
    staker: &Wallet,
    deployment: &Deployment,
    assertion: &AssertionRecord,
) -> Result<TxReceipt, SettleError> {
    let value = stake_value(l1, deployment, staker.address())?;
    Ok(contracts::send(
        l1,
        staker,
        deployment.rollup,
        value,
        Rollup::backCall {
            id: assertion.id,
            data: assertion.data.clone(),
        },
    )?)
}

/// Confirms `assertion` (anyone may, once its period is over and no challenge is open).
pub fn confirm(
    l1: &mut dyn L1,
    sender: &Wallet,
    deployment: &Deployment,
    assertion: &AssertionRecord,
) -> Result<TxReceipt, SettleError> {
    Ok(contracts::send(
        l1,
        sender,
        deployment.rollup,
        U256::ZERO,
        Rollup::confirmCall {
            id: assertion.id,
            data: assertion.data.clone(),
            outputs: bytes(&assertion.outputs),
        },
    )?)
}

/// The outbox proof of `withdrawal`, the `position`-th of `all` (a batch's withdrawals in order).
pub fn withdrawal_proof_of(all: &[Withdrawal], position: usize) -> Option<WithdrawalProof> {
    let leaves: Vec<Hash> = all
        .iter()
        .map(|w| program::keccak256(&w.leaf_bytes()))
        .collect();
    let mut abi = program::NativeAbi::new(Vec::new(), NodeStore::new());
    let siblings = withdrawal_proof(&mut abi, &leaves, position)?;
    Some(WithdrawalProof {
        position: u32::try_from(position).ok()?,
        siblings: siblings.into_iter().map(B256::from).collect(),
    })
}

/// Claims `withdrawal` on L1 from a confirmed assertion. A refusal is in the receipt.
pub fn finalize_withdrawal(
    l1: &mut dyn L1,
    sender: &Wallet,
    deployment: &Deployment,
    assertion_id: u64,
    withdrawal: &Withdrawal,
    proof: WithdrawalProof,
) -> Result<TxReceipt, SettleError> {
    Ok(contracts::send(
        l1,
        sender,
        deployment.rollup,
        U256::ZERO,
        Rollup::finalizeWithdrawalCall {
            assertionId: assertion_id,
            recipient: Address::from(withdrawal.l1_recipient),
            amount: withdrawal.amount,
            index: withdrawal.index,
            proof,
        },
    )?)
}

/// The STF machine's step-0 opening (without its host root, so the same for every batch) and the
/// module hash: what a deployment's config pins.
pub fn initial_opening(guest: &StfGuest) -> Result<MachineOpening, SettleError> {
    let (mut machine, _) = guest.start_message(Vec::new(), NodeStore::new())?;
    Ok(MachineOpening::of(&machine.hash_inputs()))
}

/// Challenges `assertion`'s root segment with the challenge bond; the challenge's key.
pub fn challenge_assertion(
    l1: &mut dyn L1,
    challenger: &Wallet,
    deployment: &Deployment,
    assertion: &AssertionRecord,
    initial: &MachineOpening,
) -> Result<(B256, TxReceipt), SettleError> {
    let bond = view(l1, deployment.rollup, Rollup::challengeBondCall {})?;
    let receipt = contracts::send(
        l1,
        challenger,
        deployment.rollup,
        bond,
        Rollup::challengeAssertionCall {
            id: assertion.id,
            data: assertion.data.clone(),
            initialHot: bytes(&initial.hot),
            initialCold: bytes(&initial.cold),
        },
    )?
    .success()?;
    let event: Rollup::ChallengeOpened = first_event(&receipt)?;
    Ok((event.key, receipt))
}

/// Which STF a deployment runs, told by its genesis state root (each STF's genesis is fixed:
/// [`Stf::genesis`](crate::config::Stf::genesis)).
pub fn stf_of(l1: &mut dyn L1, deployment: &Deployment) -> Result<crate::config::Stf, SettleError> {
    use crate::config::Stf;
    let root = genesis_assertion(l1, deployment)?.post_state_root()?;
    for stf in [Stf::Evm, Stf::Ledger] {
        if stf.genesis().map_err(SettleError::Mismatch)?.root == root {
            return Ok(stf);
        }
    }
    Err(SettleError::Mismatch(
        "the deployment's genesis state is neither the EVM's nor the ledger's".into(),
    ))
}

/// Deploys a rollup with `config` whose state starts empty (every balance enters through the
/// bridge), `deployer` its sequencer unless the config names one.
pub fn deploy_rollup(
    l1: &mut dyn L1,
    deployer: &Wallet,
    config: &crate::config::RollupConfig,
    guest: &StfGuest,
) -> Result<(Deployment, verifier::settlement::SettlementConfig), SettleError> {
    let initial = initial_opening(guest)?;
    let genesis = config.stf.genesis().map_err(SettleError::Mismatch)?;
    let settlement = config
        .settlement(deployer.address(), B256::from(genesis.root), &initial)
        .map_err(|e| SettleError::Mismatch(e.to_string()))?;
    let deployment = verifier::settlement::deploy(l1, deployer, &settlement)?;
    Ok((deployment, settlement))
}
