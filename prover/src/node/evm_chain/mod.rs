//! The L2 chain on the EVM STF, in memory: a pending pool, block production through the STF
//! itself, and everything Ethereum's JSON-RPC reads (blocks, transactions, receipts, logs,
//! state at any block, calls, fees).
//!
//! # Blocks
//!
//! [`EvmChain::produce_block`] takes what the pool has ready ([`pool`]'s order) and the delayed
//! messages handed to it, and runs them as ONE block: a one-block inbox message
//! ([`evm_stf::encode_message`]) through [`run_evm_native`], so a block here is exactly what the
//! STF makes of it and its post-state root is the root a batch of it would commit to. Ethereum's
//! semantics on top: a transaction the STF refused is not in the block (only
//! [`Outcome::included`] entries are); it leaves the pool, unless it was refused only for its
//! place (a nonce gap after an earlier refusal, no gas left in the block) and can still go in
//! later. Deposits change the state but are not transactions: the block lists them apart.
//! A block does not depend on the batch it is later posted in (`evm_stf::block`); only the
//! indices of its withdrawals do, so a soft block's `withdrawals` carry provisional indices (a
//! counter of one-block messages): the posted batch's are the follower's (`hb_getWithdrawal`).
//!
//! # Tags
//!
//! `latest` and `pending` are the head (a read of `pending` sees the latest state); `safe` and
//! `finalized` are what the node last set ([`EvmChain::set_safe`], [`EvmChain::set_finalized`]:
//! typically the last block of a batch posted to L1, and of one whose assertion is confirmed);
//! `earliest` is genesis.
//!
//! | module | its one job |
//! |---|---|
//! | [`pool`] | admission (geth's checks and words), order, bounds |
//! | [`simulate`] | `eth_call`, `eth_estimateGas`, revm's refusals in geth's words |
//! | [`query`] | reads: tags, blocks, logs, state, fees |
//! | [`stored`] | a block to the store's plain bytes and back (restart without re-execution) |

pub mod pool;
pub mod query;
pub mod simulate;
pub mod stored;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests;

use std::collections::{BTreeMap, HashMap};

use alloy::consensus::proofs::{calculate_receipt_root, calculate_transaction_root};
use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::Decodable2718;
use alloy::primitives::{logs_bloom, Address, Bloom, Bytes, Log, B256};
use program::evm::evm_stf::block::{BlockHeader, Head, BLOCK_GAS_LIMIT};
use program::evm::evm_stf::{
    self, BlockList, EvmExecution, L2Block, Outcome, Receipt, Refusal, SealedBlock,
};
use program::evm::{run_evm_native_abi, EvmStateError, EvmStateReader};
use program::ledger::{
    BatchHeader, BatchStatus, Config, DelayedMessage, Hash, RejectReason, Withdrawal,
};
use program::{NativeAbi, NodeStore, RecoveredSignatures};
use revm::context::result::InvalidTransaction;

use super::eth_api::receipt_envelope;
pub use pool::{PoolLimits, PooledTx, SubmitError, TxPool};
pub use query::MAX_LOG_RANGE;
pub use simulate::{CallError, CallSnapshot};

/// What the chain suggests as a priority fee: blocks are not full and order is by arrival, so a
/// tip buys nothing here; wallets still want a positive one.
pub const SUGGESTED_TIP: u128 = 1_000_000;

/// Bytes of an inbox message kept for its header and encoding overhead when filling a block.
const MESSAGE_OVERHEAD: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// geth's words for a block it does not have.
    #[error("header not found")]
    UnknownBlock,
    #[error("query exceeds max block range {MAX_LOG_RANGE}")]
    LogRangeTooWide,
    #[error("invalid block range params")]
    InvalidRange,
    #[error("invalid reward percentiles: {0}")]
    InvalidPercentiles(String),
    /// The STF rejected the block's batch: the state it needs is not in the store.
    #[error("the STF rejected the block: {0:?}")]
    Rejected(RejectReason),
    #[error(transparent)]
    State(#[from] EvmStateError),
    /// A block handed to [`EvmChain::import`] that is not the head's child.
    #[error("block {number} ({hash}) does not follow the head {head}")]
    NotTheNext { number: u64, hash: B256, head: u64 },
}

/// A block of the chain.
#[derive(Clone, Debug)]
pub struct ChainBlock {
    /// The header the STF hashed.
    pub header: BlockHeader,
    pub hash: B256,
    /// The state root after the block.
    pub state_root: Hash,
    pub transactions: Vec<ChainTransaction>,
    /// Deposits credited (or refused) at the block's start.
    pub deposits: Vec<DepositEntry>,
    /// The withdrawals its transactions started (indices as the STF gave them).
    pub withdrawals: Vec<Withdrawal>,
    /// Ethereum's commitments over its transactions and receipts, for the RPC's header.
    pub logs_bloom: Bloom,
    pub transactions_root: B256,
    pub receipts_root: B256,
    /// The bytes of its transactions.
    pub transactions_size: u64,
    /// What its batch carries of it.
    pub posted: PostedBlock,
}

/// A block as its batch posts it (with the header's timestamp and fee recipient): the same block
/// in any batch makes the same hash, receipts and state (`evm_stf::block`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostedBlock {
    /// The delayed messages it opened with (any block may open with some).
    pub delayed: Vec<DelayedMessage>,
    /// Every sequenced transaction as executed, the ones the STF refused included.
    pub sequenced: Vec<Vec<u8>>,
}

impl ChainBlock {
    /// The block as its batch's sequencer section lists it.
    pub fn l2_block(&self) -> L2Block {
        L2Block {
            timestamp: self.header.timestamp,
            fee_recipient: self.header.fee_recipient.0 .0,
            delayed: u32::try_from(self.posted.delayed.len()).unwrap_or(u32::MAX),
            transactions: self.posted.sequenced.clone(),
        }
    }
}

/// A transaction in a block, with its receipt.
#[derive(Clone, Debug)]
pub struct ChainTransaction {
    pub hash: B256,
    pub envelope: TxEnvelope,
    pub sender: Address,
    /// Forced in through L1 rather than sequenced.
    pub forced: bool,
    pub success: bool,
    pub gas_used: u64,
    /// Gas used in its block up to and including it.
    pub cumulative_gas_used: u64,
    pub effective_gas_price: u128,
    pub contract_address: Option<Address>,
    pub logs: Vec<Log>,
    /// The block-wide index of its first log.
    pub first_log_index: u64,
    /// Return data, or the revert data.
    pub output: Bytes,
}

/// A deposit a block applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepositEntry {
    pub to: Address,
    pub amount: u128,
    /// False for a refused deposit (zero wei, or a balance overflow).
    pub credited: bool,
}

/// What [`EvmChain::produce_block`] made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedBlockInfo {
    pub number: u64,
    pub hash: B256,
    pub timestamp: u64,
    pub state_root: Hash,
    pub gas_used: u64,
    pub base_fee: u64,
    /// The transactions in the block, in order.
    pub transactions: Vec<B256>,
    /// Pool transactions the STF refused, dropped from the pool, with geth's words for why.
    pub dropped: Vec<(B256, String)>,
    /// The trie nodes the block added to the chain's store (what a node persists with it).
    pub new_nodes: Vec<Vec<u8>>,
}

/// Where a transaction is: block number and index in it.
type Location = (u64, usize);

/// The chain (module docs).
#[derive(Debug)]
pub struct EvmChain {
    chain_id: u64,
    config: Config,
    store: NodeStore,
    blocks: Vec<ChainBlock>,
    block_numbers: HashMap<B256, u64>,
    transactions: HashMap<B256, Location>,
    pool: TxPool,
    /// The batch number the next block's message carries.
    next_batch: u64,
    /// Delayed messages consumed so far (the next message's `first_delayed`).
    delayed_seen: u64,
    safe: u64,
    finalized: u64,
    /// Whether [`EvmChain::produce_block`] makes a block when it has nothing to put in it.
    empty_blocks: bool,
}

/// One entry of a block's message, in the order of its receipts.
enum Input<'a> {
    Deposit { to: Address, amount: u128 },
    Forced(&'a [u8]),
    Pooled(&'a PooledTx),
}

impl EvmChain {
    /// The chain at genesis: its state root, head (block 0) and the store holding the state.
    pub fn new(chain_id: u64, genesis_root: Hash, genesis_head: Head, store: NodeStore) -> Self {
        let header = BlockHeader {
            parent_hash: B256::ZERO,
            number: genesis_head.number,
            timestamp: genesis_head.timestamp,
            fee_recipient: Address::ZERO,
            gas_limit: BLOCK_GAS_LIMIT,
            gas_used: genesis_head.gas_used,
            base_fee: genesis_head.base_fee,
            receipts_hash: B256::ZERO,
        };
        let genesis = ChainBlock {
            header,
            hash: genesis_head.hash,
            state_root: genesis_root,
            transactions: Vec::new(),
            deposits: Vec::new(),
            withdrawals: Vec::new(),
            logs_bloom: Bloom::ZERO,
            transactions_root: calculate_transaction_root::<TxEnvelope>(&[]),
            receipts_root: calculate_receipt_root::<TxEnvelope>(&[]),
            transactions_size: 0,
            posted: PostedBlock::default(),
        };
        Self {
            chain_id,
            config: Config::default(),
            store,
            block_numbers: HashMap::from([(genesis.hash, 0)]),
            blocks: vec![genesis],
            transactions: HashMap::new(),
            pool: TxPool::new(PoolLimits::default()),
            next_batch: 1,
            delayed_seen: 0,
            safe: 0,
            finalized: 0,
            empty_blocks: false,
        }
    }

    /// A chain that makes a block at every [`EvmChain::produce_block`], empty or not, as a
    /// sequencer with a block time does (OP Stack chains make one every 2 s): tools that wait for
    /// "the next block" to look again (ethers' `waitForDeployment`, pollers) then always get one.
    pub fn with_empty_blocks(mut self) -> Self {
        self.empty_blocks = true;
        self
    }

    /// The same chain with other pool bounds (an empty pool).
    pub fn with_pool_limits(mut self, limits: PoolLimits) -> Self {
        self.pool = TxPool::new(limits);
        self
    }

    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The head as the STF keeps it: what the next block follows.
    pub fn head(&self) -> Head {
        self.latest().head()
    }

    /// The base fee of the next block.
    pub fn next_base_fee(&self) -> u64 {
        self.head().next_base_fee()
    }

    fn latest(&self) -> &ChainBlock {
        // Never empty: genesis is block 0.
        &self.blocks[self.blocks.len() - 1]
    }

    pub fn pool(&self) -> &TxPool {
        &self.pool
    }

    /// Admits an EIP-2718 transaction into the pool (checked against the latest state); its hash.
    pub fn submit(&mut self, raw: &[u8]) -> Result<B256, SubmitError> {
        let hash = alloy::primitives::keccak256(raw);
        if self.transactions.contains_key(&hash) {
            return Err(SubmitError::AlreadyKnown);
        }
        let admission = pool::Admission {
            chain_id: self.chain_id,
            base_fee: self.next_base_fee(),
        };
        let root = self.latest().state_root;
        let Self { pool, store, .. } = self;
        pool.submit(raw, admission, |sender| {
            sender_at(store, root, sender).map_err(|e| e.to_string())
        })
    }

    /// Takes a waiting transaction out of the pool (one the node could not keep).
    pub fn pool_remove(&mut self, hash: &B256) {
        self.pool.remove(hash);
    }

    /// The sender's next nonce counting its waiting transactions.
    pub fn pending_nonce(&self, address: &Address) -> Result<u64, ChainError> {
        let state = sender_at(&self.store, self.latest().state_root, address)?;
        Ok(self.pool.pending_nonce(address, state.nonce))
    }

    /// Produces the next block from `delayed` (first) and the pool's ready transactions, at
    /// `timestamp` (raised to the head's if lower) with the priority fees to `fee_recipient`.
    /// `None` when there is nothing to put in it (unless made [`EvmChain::with_empty_blocks`]).
    pub fn produce_block(
        &mut self,
        timestamp: u64,
        fee_recipient: Address,
        delayed: &[DelayedMessage],
    ) -> Result<Option<SealedBlockInfo>, ChainError> {
        let root = self.latest().state_root;
        let base_fee = self.next_base_fee();
        let mut nonces = BTreeMap::new();
        for sender in self.pool.senders() {
            nonces.insert(*sender, sender_at(&self.store, root, sender)?.nonce);
        }
        let delayed_bytes: usize = delayed.iter().map(DelayedMessage::record_len).sum();
        let budget =
            (self.config.max_batch_bytes as usize).saturating_sub(MESSAGE_OVERHEAD + delayed_bytes);
        // Forced transactions go first and take their gas from the same block.
        let forced_gas: u64 = delayed.iter().map(forced_gas_limit).sum();
        let (mut gas, mut bytes, mut count) = (forced_gas, 0usize, 0usize);
        let selected = self.pool.select(&nonces, base_fee, |tx| {
            // Within the block's gas by their limits, so the STF never runs out of block gas.
            let fits = gas + tx.gas_limit <= BLOCK_GAS_LIMIT
                && bytes + tx.raw.len() + 8 <= budget
                && count < self.config.max_transactions as usize;
            if fits {
                gas += tx.gas_limit;
                bytes += tx.raw.len() + 8;
                count += 1;
            }
            fits
        });
        if selected.is_empty() && delayed.is_empty() && !self.empty_blocks {
            return Ok(None);
        }
        let header = BatchHeader {
            pre_state_root: root,
            chain_id: self.chain_id,
            batch_number: self.next_batch,
            first_delayed: self.delayed_seen,
            delayed_count: 0,
        };
        let block = L2Block {
            timestamp,
            fee_recipient: fee_recipient.0 .0,
            delayed: u32::try_from(delayed.len()).unwrap_or(u32::MAX),
            transactions: selected.iter().map(|tx| tx.raw.clone()).collect(),
        };
        let message = evm_stf::encode_message(&header, delayed, &BlockList(vec![block]));
        // The pool recovered every sender at admission: the run asks the cache, not secp256k1.
        let signatures = RecoveredSignatures::of_evm_senders(
            selected.iter().map(|tx| (&tx.envelope, tx.sender.0 .0)),
        );
        let abi = NativeAbi::new(message, std::mem::take(&mut self.store))
            .with_signatures(Some(std::sync::Arc::new(signatures)));
        let run = run_evm_native_abi(abi, &self.config);
        self.store = run.store;
        // The store was settled before the run: what it added is the block's.
        let new_nodes: Vec<Vec<u8>> = self.store.added().map(|(_, node)| node.to_vec()).collect();
        self.store.settle();
        let execution = run.execution;
        let status = execution.outputs.status;
        if let BatchStatus::Rejected(reason) = status {
            return Err(ChainError::Rejected(reason));
        }
        let mut inputs: Vec<Input> = delayed
            .iter()
            .map(|message| match message {
                DelayedMessage::Deposit(deposit) => Input::Deposit {
                    to: Address::from(deposit.to),
                    amount: deposit.amount,
                },
                DelayedMessage::Transaction(bytes) => Input::Forced(bytes),
            })
            .collect();
        if status == BatchStatus::Accepted {
            inputs.extend(selected.iter().map(|tx| Input::Pooled(tx)));
        }
        let Some(sealed) = execution.blocks.first() else {
            return Ok(None);
        };
        let receipts = execution
            .receipts
            .get(sealed.first_receipt..sealed.first_receipt + sealed.receipt_count)
            .unwrap_or_default();
        let post_state_root = sealed
            .state_root
            .unwrap_or(execution.outputs.post_state_root);

        let mut block = ChainBlock::sealed(sealed, post_state_root, execution.withdrawals.clone());
        block.posted = PostedBlock {
            delayed: delayed.to_vec(),
            sequenced: if status == BatchStatus::Accepted {
                selected.iter().map(|tx| tx.raw.clone()).collect()
            } else {
                Vec::new()
            },
        };
        let mut included = Vec::new();
        let mut dropped = Vec::new();
        let mut kept = Vec::new();
        for (input, receipt) in inputs.iter().zip(receipts) {
            match input {
                Input::Deposit { to, amount } => block.push_deposit(*to, *amount, receipt),
                Input::Forced(bytes) => block.push_if_included(bytes, receipt, true),
                Input::Pooled(tx) => {
                    if receipt.outcome.included() {
                        block.push(tx.envelope.clone(), receipt, false, tx.raw.len());
                        included.push(tx.hash);
                    } else if may_go_in_later(receipt) {
                        kept.push(tx.hash);
                    } else {
                        let words = match receipt.outcome {
                            Outcome::Refused(refusal) => {
                                simulate::refusal_words(refusal, receipt.detail.as_ref(), tx.sender)
                            }
                            _ => "refused".into(),
                        };
                        dropped.push((tx.hash, words));
                    }
                }
            }
        }
        block.seal();

        for hash in included.iter().chain(dropped.iter().map(|(hash, _)| hash)) {
            self.pool.remove(hash);
        }
        let senders: Vec<Address> = self.pool.senders().copied().collect();
        for sender in senders {
            let nonce = sender_at(&self.store, post_state_root, &sender)?.nonce;
            self.pool.prune(&sender, nonce);
        }

        let number = block.header.number;
        for (index, tx) in block.transactions.iter().enumerate() {
            self.transactions.insert(tx.hash, (number, index));
        }
        let info = SealedBlockInfo {
            number,
            hash: block.hash,
            timestamp: block.header.timestamp,
            state_root: block.state_root,
            gas_used: block.header.gas_used,
            base_fee: block.header.base_fee,
            transactions: block.transactions.iter().map(|tx| tx.hash).collect(),
            dropped,
            new_nodes,
        };
        self.block_numbers.insert(block.hash, number);
        self.blocks.push(block);
        self.next_batch += 1;
        self.delayed_seen += delayed.len() as u64;
        Ok(Some(info))
    }

    /// The chain from genesis and `blocks` (stored ones, in order), without executing anything:
    /// what a restart rebuilds. `store` must hold the states the blocks end in.
    pub fn restore(
        chain_id: u64,
        genesis_root: Hash,
        genesis_head: Head,
        store: NodeStore,
        blocks: impl IntoIterator<Item = ChainBlock>,
    ) -> Result<Self, ChainError> {
        let mut chain = Self::new(chain_id, genesis_root, genesis_head, store);
        for block in blocks {
            chain.import(block)?;
        }
        Ok(chain)
    }

    /// Appends a block made elsewhere (a replayed batch, or one read back from the store); its
    /// transactions leave the pool. The block must follow the head; `new_nodes` (its trie nodes)
    /// are added to the chain's store.
    pub fn import_with_nodes(
        &mut self,
        block: ChainBlock,
        new_nodes: &[Vec<u8>],
    ) -> Result<(), ChainError> {
        let head = self.latest();
        if block.header.number != head.header.number + 1 || block.header.parent_hash != head.hash {
            return Err(ChainError::NotTheNext {
                number: block.header.number,
                hash: block.hash,
                head: head.header.number,
            });
        }
        for node in new_nodes {
            self.store.insert(node);
        }
        if !new_nodes.is_empty() {
            self.store.settle();
        }
        let number = block.header.number;
        for (index, tx) in block.transactions.iter().enumerate() {
            self.pool.remove(&tx.hash);
            self.transactions.insert(tx.hash, (number, index));
        }
        self.block_numbers.insert(block.hash, number);
        self.blocks.push(block);
        let senders: Vec<Address> = self.pool.senders().copied().collect();
        let root = self.latest().state_root;
        for sender in senders {
            // A state not in the store (a caller that forgot the nodes) prunes nothing.
            if let Ok(account) = sender_at(&self.store, root, &sender) {
                self.pool.prune(&sender, account.nonce);
            }
        }
        Ok(())
    }

    /// [`import_with_nodes`](Self::import_with_nodes) of a block whose state the store holds.
    pub fn import(&mut self, block: ChainBlock) -> Result<(), ChainError> {
        self.import_with_nodes(block, &[])
    }

    /// Drops the blocks from `first` on (at least 1: genesis stays), as when another poster's
    /// batch replaced soft blocks; the tags fall back with them. The dropped transactions are not
    /// put back in the pool: the caller re-submits what is still waiting (the store's mempool).
    pub fn truncate(&mut self, first: u64) {
        let keep = usize::try_from(first.max(1))
            .unwrap_or(usize::MAX)
            .min(self.blocks.len());
        for block in self.blocks.drain(keep..) {
            self.block_numbers.remove(&block.hash);
            for tx in &block.transactions {
                self.transactions.remove(&tx.hash);
            }
        }
        let head = self.block_number();
        self.safe = self.safe.min(head);
        self.finalized = self.finalized.min(head);
    }

    /// Marks blocks up to `number` (at most the head) safe.
    pub fn set_safe(&mut self, number: u64) {
        self.safe = number.min(self.block_number());
    }

    /// Marks blocks up to `number` (at most the head) final.
    pub fn set_finalized(&mut self, number: u64) {
        self.finalized = number.min(self.block_number());
    }

    /// The head's number.
    pub fn block_number(&self) -> u64 {
        self.latest().header.number
    }
}

/// A refusal for the transaction's place rather than the transaction: a nonce ahead of the
/// sender's (an earlier one of its was refused) or no gas left in the block.
fn may_go_in_later(receipt: &Receipt) -> bool {
    matches!(
        (receipt.outcome, &receipt.detail),
        (Outcome::Refused(Refusal::BlockGasExhausted), _)
            | (
                Outcome::Refused(Refusal::Invalid),
                Some(InvalidTransaction::NonceTooHigh { .. })
            )
    )
}

/// `sender`'s nonce and balance in the state under `root`.
fn sender_at(
    store: &NodeStore,
    root: Hash,
    sender: &Address,
) -> Result<pool::SenderAccount, EvmStateError> {
    let leaf = EvmStateReader::new(store, root).account(sender)?;
    Ok(leaf
        .map(|leaf| pool::SenderAccount {
            nonce: leaf.nonce,
            balance: leaf.balance,
        })
        .unwrap_or_default())
}

/// The gas limit of a forced transaction (0 for a deposit or bytes that do not decode).
fn forced_gas_limit(message: &DelayedMessage) -> u64 {
    match message {
        DelayedMessage::Transaction(bytes) => TxEnvelope::decode_2718(&mut &bytes[..])
            .map(|tx| alloy::consensus::Transaction::gas_limit(&tx))
            .unwrap_or(0),
        DelayedMessage::Deposit(_) => 0,
    }
}

/// The blocks a whole batch made, as the chain serves them: what a node that did not sequence
/// them (a validator, or a sequencer whose soft blocks lost to another poster) learns from a
/// batch posted on L1. `delayed` are the batch's delayed messages (each block opens with its
/// share), `blocks` its sequencer section as decoded (they ran only if the batch was `Accepted`:
/// a refused section leaves the delayed messages a block of their own), `execution` the native
/// run of it.
///
/// State roots: each block's as the native run computed it (`BlockRoots::EveryBlock`).
pub fn batch_blocks(
    delayed: &[DelayedMessage],
    blocks: &[L2Block],
    execution: &EvmExecution,
) -> Vec<ChainBlock> {
    let ran: &[L2Block] = if execution.outputs.status == BatchStatus::Accepted {
        blocks
    } else {
        &[]
    };
    let post_state_root = execution.outputs.post_state_root;
    let mut withdrawals = execution.withdrawals.iter();
    let mut out = Vec::with_capacity(execution.blocks.len());
    let mut delayed_left = delayed;
    for (position, sealed) in execution.blocks.iter().enumerate() {
        let receipts = execution
            .receipts
            .get(sealed.first_receipt..sealed.first_receipt + sealed.receipt_count)
            .unwrap_or_default();
        let own = withdrawals
            .by_ref()
            .take(withdrawals_started(receipts))
            .cloned()
            .collect();
        let state_root = sealed.state_root.unwrap_or(post_state_root);
        let mut block = ChainBlock::sealed(sealed, state_root, own);
        // The STF's own block for the delayed messages of a refused or empty section takes all.
        let share = ran
            .get(position)
            .map(|block| block.delayed as usize)
            .unwrap_or(delayed_left.len())
            .min(delayed_left.len());
        let (pushed, rest) = delayed_left.split_at(share);
        delayed_left = rest;
        let sequenced = ran
            .get(position)
            .map(|block| block.transactions.as_slice())
            .unwrap_or_default();
        block.posted = PostedBlock {
            delayed: pushed.to_vec(),
            sequenced: sequenced.to_vec(),
        };
        let mut receipts = receipts.iter();
        for message in pushed {
            let Some(receipt) = receipts.next() else {
                break;
            };
            match message {
                DelayedMessage::Deposit(deposit) => {
                    block.push_deposit(Address::from(deposit.to), deposit.amount, receipt)
                }
                DelayedMessage::Transaction(bytes) => block.push_if_included(bytes, receipt, true),
            }
        }
        for (bytes, receipt) in sequenced.iter().zip(receipts) {
            block.push_if_included(bytes, receipt, false);
        }
        block.seal();
        out.push(block);
    }
    out
}

/// How many withdrawal leaves the STF made of `receipts`.
fn withdrawals_started(receipts: &[Receipt]) -> usize {
    receipts.iter().map(withdrawals_of).sum()
}

/// How many withdrawal leaves the STF made of one entry (its rule in `evm_stf::batch`: a
/// successful transaction's `WithdrawalInitiated` logs from the withdrawal contract, 3 topics, an
/// amount that fits 128 bits).
pub fn withdrawals_of(receipt: &Receipt) -> usize {
    use program::evm::evm_stf::system::{WITHDRAWALS, WITHDRAWAL_EVENT};
    if receipt.outcome != Outcome::Success {
        return 0;
    }
    receipt
        .logs
        .iter()
        .filter(|log| {
            let topics = log.data.topics();
            log.address == WITHDRAWALS
                && topics.len() == 3
                && topics.first() == Some(&WITHDRAWAL_EVENT)
                && alloy::primitives::U256::try_from_be_slice(&log.data.data)
                    .is_some_and(|amount| u128::try_from(amount).is_ok())
        })
        .count()
}

impl ChainBlock {
    /// A block the STF sealed, before its entries are pushed.
    fn sealed(sealed: &SealedBlock, state_root: Hash, withdrawals: Vec<Withdrawal>) -> ChainBlock {
        ChainBlock {
            header: sealed.header,
            hash: sealed.hash,
            state_root,
            transactions: Vec::new(),
            deposits: Vec::new(),
            withdrawals,
            logs_bloom: Bloom::ZERO,
            transactions_root: B256::ZERO,
            receipts_root: B256::ZERO,
            transactions_size: 0,
            posted: PostedBlock::default(),
        }
    }

    /// Records a deposit the block applied (or refused).
    fn push_deposit(&mut self, to: Address, amount: u128, receipt: &Receipt) {
        self.deposits.push(DepositEntry {
            to,
            amount,
            credited: receipt.outcome == Outcome::Success,
        });
    }

    /// Adds `bytes` with its receipt if the STF included it (a refused entry is no transaction of
    /// the block in Ethereum's sense).
    fn push_if_included(&mut self, bytes: &[u8], receipt: &Receipt, forced: bool) {
        if let Some(envelope) = receipt
            .outcome
            .included()
            .then(|| TxEnvelope::decode_2718(&mut &bytes[..]).ok())
            .flatten()
        {
            self.push(envelope, receipt, forced, bytes.len());
        }
    }

    /// The block as the STF's head (what the block after it follows).
    pub fn head(&self) -> Head {
        Head {
            number: self.header.number,
            timestamp: self.header.timestamp,
            hash: self.hash,
            base_fee: self.header.base_fee,
            gas_used: self.header.gas_used,
        }
    }

    /// Adds an included transaction with its receipt.
    fn push(&mut self, envelope: TxEnvelope, receipt: &Receipt, forced: bool, size: usize) {
        let previous = self.transactions.last();
        let cumulative_gas_used =
            previous.map_or(0, |tx| tx.cumulative_gas_used) + receipt.gas_used;
        let first_log_index = previous.map_or(0, |tx| tx.first_log_index + tx.logs.len() as u64);
        self.transactions_size += size as u64;
        self.transactions.push(ChainTransaction {
            hash: receipt.tx_hash,
            envelope,
            sender: receipt.from,
            forced,
            success: receipt.outcome == Outcome::Success,
            gas_used: receipt.gas_used,
            cumulative_gas_used,
            effective_gas_price: receipt.effective_gas_price,
            contract_address: receipt.contract_address,
            logs: receipt.logs.clone(),
            first_log_index,
            output: receipt.output.clone(),
        });
    }

    /// Ethereum's commitments over what was pushed.
    fn seal(&mut self) {
        self.logs_bloom = logs_bloom(self.transactions.iter().flat_map(|tx| tx.logs.iter()));
        let envelopes: Vec<TxEnvelope> = self
            .transactions
            .iter()
            .map(|tx| tx.envelope.clone())
            .collect();
        self.transactions_root = calculate_transaction_root(&envelopes);
        let receipts: Vec<_> = self
            .transactions
            .iter()
            .map(|tx| {
                receipt_envelope(
                    tx.envelope.tx_type(),
                    tx.success,
                    tx.cumulative_gas_used,
                    tx.logs.clone(),
                )
            })
            .collect();
        self.receipts_root = calculate_receipt_root(&receipts);
    }
}
