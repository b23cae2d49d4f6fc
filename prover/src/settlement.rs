//! The rollup's actors on L1: a sequencer posting batches, an asserter claiming their outcome,
//! anyone confirming, a user claiming a withdrawal; and reading back from L1 what was posted, so
//! that "replaying a batch" replays the bytes L1 really holds.

use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolCall;
use program::ledger::commitments::withdrawal_proof;
use program::ledger::{BatchOutputs, Deposit, Hash, Withdrawal};
use program::NodeStore;
use verifier::l1::{L1Error, TxReceipt, Wallet, L1};
use verifier::settlement::contracts::{
    self, bytes, events, view, AssertionData, Deployment, DepositRecord, Inbox, Rollup,
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

/// The header fields of an inbox message: what L1 writes before the deposits.
const HEADER_LEN: usize = 60;

/// A batch as the inbox holds it: everything of its message but leaf 0, the pre-state root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostedBatch {
    pub number: u64,
    pub chain_id: u64,
    pub first_deposit: u64,
    pub deposits: Vec<Deposit>,
    /// The sequencer's transactions section as posted (`0x00` for a forced batch).
    pub transactions: Vec<u8>,
    /// What the inbox stored ([`BatchCommitment::hash`]).
    pub commitment: B256,
    pub l1_block: u64,
}

impl PostedBatch {
    /// The inbox message the guest reads, with `pre_state_root` as leaf 0.
    pub fn message(&self, pre_state_root: &Hash) -> Vec<u8> {
        let mut message = Vec::with_capacity(HEADER_LEN + 36 * self.deposits.len());
        message.extend_from_slice(pre_state_root);
        message.extend_from_slice(&self.chain_id.to_be_bytes());
        message.extend_from_slice(&self.number.to_be_bytes());
        message.extend_from_slice(&self.first_deposit.to_be_bytes());
        message.extend_from_slice(&(self.deposits.len() as u32).to_be_bytes());
        for deposit in &self.deposits {
            message.extend_from_slice(&deposit.to);
            message.extend_from_slice(&deposit.amount.to_be_bytes());
        }
        message.extend_from_slice(&self.transactions);
        message
    }

    /// The commitment opening the asserter passes to L1; checked against what the inbox stored.
    pub fn commitment_opening(&self) -> Result<BatchCommitment, SettleError> {
        let opening = BatchCommitment::of_message(&self.message(&[0; 32]))
            .ok_or_else(|| SettleError::Mismatch("message longer than 4 GiB".into()))?;
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
}

/// All logs of one contract since the deployment.
fn logs_of(
    l1: &mut dyn L1,
    deployment: &Deployment,
    address: Address,
) -> Result<Vec<verifier::l1::Log>, SettleError> {
    let (head, _) = l1.head()?;
    Ok(l1.logs(address, deployment.first_block, head)?)
}

/// Posts `transactions` (a sequencer's encoded transactions section) as the next batch, with
/// every pending deposit (up to the per-batch maximum). Returns the batch number and the receipt.
pub fn post_batch(
    l1: &mut dyn L1,
    sequencer: &Wallet,
    deployment: &Deployment,
    transactions: &[u8],
) -> Result<(u64, TxReceipt), SettleError> {
    let records = pending_deposits(l1, deployment)?;
    let receipt = contracts::send(
        l1,
        sequencer,
        deployment.inbox,
        U256::ZERO,
        Inbox::postBatchCall {
            transactions: bytes(transactions),
            deposits: records,
        },
    )?
    .success()?;
    let posted = events::<Inbox::BatchPosted>(&receipt.logs);
    let (event, _) = posted
        .first()
        .ok_or_else(|| SettleError::Missing("BatchPosted event".into()))?;
    Ok((event.batchNumber, receipt))
}

/// The deposits not yet in a batch, oldest first, at most one batch's worth.
pub fn pending_deposits(
    l1: &mut dyn L1,
    deployment: &Deployment,
) -> Result<Vec<DepositRecord>, SettleError> {
    let consumed = view(l1, deployment.inbox, Inbox::depositsConsumedCall {})?;
    let count = view(l1, deployment.inbox, Inbox::depositCountCall {})?;
    let max = view(l1, deployment.inbox, Inbox::maxDepositsPerBatchCall {})?;
    let logs = logs_of(l1, deployment, deployment.inbox)?;
    let take = (count - consumed).min(u64::from(max));
    Ok(contracts::deposit_records(&logs, consumed, take))
}

/// Batch `number` as L1 holds it: its `BatchPosted` event, the transactions from the calldata
/// of the transaction that emitted it, and the deposits from the inbox's `DepositQueued` events.
pub fn fetch_batch(
    l1: &mut dyn L1,
    deployment: &Deployment,
    number: u64,
) -> Result<PostedBatch, SettleError> {
    let logs = logs_of(l1, deployment, deployment.inbox)?;
    let (event, log) = events::<Inbox::BatchPosted>(&logs)
        .into_iter()
        .find(|(event, _)| event.batchNumber == number)
        .ok_or_else(|| SettleError::Missing(format!("batch {number}")))?;
    let input = l1.transaction_input(log.tx_hash)?;
    let transactions = if let Ok(call) = Inbox::postBatchCall::abi_decode(&input) {
        call.transactions.to_vec()
    } else if Inbox::forceIncludeCall::abi_decode(&input).is_ok() {
        vec![0]
    } else {
        return Err(SettleError::Mismatch(format!(
            "batch {number} was posted by a transaction that is neither postBatch nor forceInclude"
        )));
    };
    if B256::from(program::keccak256(&transactions)) != event.transactionsHash {
        return Err(SettleError::Mismatch(format!(
            "batch {number}: the calldata does not hash to the posted transactions hash"
        )));
    }
    let records =
        contracts::deposit_records(&logs, event.firstDeposit, u64::from(event.depositCount));
    if records.len() != event.depositCount as usize {
        return Err(SettleError::Missing(format!(
            "deposits {}.. of batch {number}",
            event.firstDeposit
        )));
    }
    let chain_id = view(l1, deployment.rollup, Rollup::chainIdCall {})?;
    Ok(PostedBatch {
        number,
        chain_id,
        first_deposit: event.firstDeposit,
        deposits: records
            .iter()
            .map(|record| Deposit {
                to: record.to.into_array(),
                amount: record.amount,
            })
            .collect(),
        transactions,
        commitment: event.commitment,
        l1_block: log.block,
    })
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
    let mut all = vec![genesis_assertion(l1, deployment)?];
    let logs = logs_of(l1, deployment, deployment.rollup)?;
    for (event, _) in events::<Rollup::AssertionPosted>(&logs) {
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
    let message = batch.message(&parent.post_state_root()?);
    let abi = program::NativeAbi::new(message, store).with_signatures(signatures);
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
    let posted = events::<Rollup::AssertionPosted>(&receipt.logs);
    let (event, _) = posted
        .into_iter()
        .next()
        .ok_or_else(|| SettleError::Missing("AssertionPosted event".into()))?;
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
    let opened = events::<Rollup::ChallengeOpened>(&receipt.logs);
    let (event, _) = opened
        .first()
        .ok_or_else(|| SettleError::Missing("ChallengeOpened event".into()))?;
    Ok((event.key, receipt))
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
    let settlement = config
        .settlement(
            deployer.address(),
            B256::from(program::EMPTY_ROOT),
            &initial,
        )
        .map_err(|e| SettleError::Mismatch(e.to_string()))?;
    let deployment = verifier::settlement::deploy(l1, deployer, &settlement)?;
    Ok((deployment, settlement))
}
