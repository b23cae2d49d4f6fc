//! An EVM rollup's node side: the L2 chain its Ethereum JSON-RPC serves, restored from the store;
//! the sequencer's soft blocks, one every `block_time`, durable before they are served; and
//! posting them to L1 in batches (following L1 is [`evm_follower`](super::evm_follower)).
//!
//! # Blocks into batches
//!
//! A block does not depend on the batch it is posted in (`evm_stf::block`), so the sequencer
//! executes each block once, as it makes it, and posts the blocks after the last posted one as
//! they are, cut wherever the inbox's byte or the STF's transaction limit would be passed; each
//! batch carries the L1 records of the delayed messages its blocks opened with. Delayed messages
//! pending on L1 get a block at the node's next turn (with whatever the pool has ready): a deposit
//! is soft-confirmed within a poll interval. Posting is due every `state_commitment_interval`
//! when an unposted block holds a transaction or a delayed message, or [`MAX_IDLE_BLOCKS`] empty
//! ones wait.
//!
//! The producer and the poster take the same lock ([`EvmNode::production`]), so the blocks a
//! batch posts and the delayed records it carries are read as one; the poster holds it only while
//! it reads the unposted blocks, never while it posts (blocks keep coming during a post).
//! Lock order everywhere: the node's state, then the chain; neither is held across an L1 call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use alloy::primitives::Address;
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use program::evm::evm_stf::BlockList;
use program::ledger::types::BATCH_HEADER_LEN;
use program::ledger::DelayedMessage;
use serde_json::{json, Value};
use verifier::l1::{Wallet, L1};
use verifier::settlement::contracts::{view, Inbox};

use super::admission::{Admissions, NotAdmitted};
use super::chain::unix_now;
use super::eth_api::{self, parse};
use super::eth_rpc::{self, lock_chain, SharedChain};
use super::evm_chain::{ChainBlock, EvmChain, SealedBlockInfo};
use super::sequencer::Posted;
use super::state::{lock_state, Shared};
use super::store::{BlockCommit, NodeDb};
use super::NodeError;
use crate::config::StfGenesis;
use crate::settlement::{
    delayed_message, pending_delayed, post_section, DataAvailability, L1Log, Placement,
};

/// Empty blocks that make a posting due by themselves (about 8.5 minutes of 2-second blocks).
pub const MAX_IDLE_BLOCKS: u64 = 256;

/// Bytes of a batch kept for its header and the sequencer section's framing.
const SECTION_OVERHEAD: usize = 64;

/// The chain as the store holds it: genesis, then every stored block (nothing is executed), with
/// `safe` where the last applied batch ended and the acknowledged transactions not yet in a block
/// back in the pool. Blocks come every tick, empty or not (tools wait for "the next block").
pub fn restore_chain(
    db: &mut NodeDb,
    chain_id: u64,
    genesis: &StfGenesis,
) -> Result<EvmChain, NodeError> {
    let head = genesis
        .head
        .ok_or_else(|| NodeError::Setup("the EVM genesis has no block 0".into()))?;
    let blocks = db
        .blocks_from(1)?
        .iter()
        .map(ChainBlock::from_stored)
        .collect::<Result<Vec<_>, _>>()?;
    let mut chain = EvmChain::restore(chain_id, genesis.root, head, db.nodes().clone(), blocks)
        .map_err(|e| NodeError::Setup(format!("restoring the L2 chain: {e}")))?
        .with_empty_blocks();
    chain.set_safe(db.safe_block()?);
    let mut gone = Vec::new();
    for raw in db.pending(usize::MAX)? {
        // Already in a block, it leaves the mempool with its batch; refused otherwise (no longer
        // valid), nothing waits for it any more.
        let hash = alloy::primitives::keccak256(&raw);
        match chain.submit(&raw) {
            Ok(_) => {}
            Err(_) if chain.receipt(&hash).is_some() => {}
            Err(_) => gone.push(hash.0),
        }
    }
    db.forget(&gone)?;
    Ok(chain)
}

/// The sequencer's side of the chain.
pub struct EvmNode {
    pub chain: SharedChain,
    /// Held while a block is made and while blocks are cut into batches (module docs).
    production: Arc<Mutex<()>>,
    /// The last block handed to L1 in a batch (applied or not yet).
    posted_through: u64,
    fee_recipient: Address,
    producer: Option<Producer>,
}

struct Producer {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
    /// What the producer could not do since the last turn (a turn raises it as an alert).
    failure: Arc<Mutex<Option<String>>>,
}

impl EvmNode {
    pub fn new(chain: SharedChain, posted_through: u64, fee_recipient: Address) -> EvmNode {
        EvmNode {
            chain,
            production: Arc::new(Mutex::new(())),
            posted_through,
            fee_recipient,
            producer: None,
        }
    }

    /// Starts making a block every `block_time` while the node takes transactions.
    pub fn start_producer(&mut self, state: Shared, block_time: Duration) {
        let stop = Arc::new(AtomicBool::new(false));
        let failure = Arc::new(Mutex::new(None));
        let chain = self.chain.clone();
        let production = self.production.clone();
        let fee_recipient = self.fee_recipient;
        let (thread_stop, thread_failure) = (stop.clone(), failure.clone());
        let thread = std::thread::spawn(move || {
            while !thread_stop.load(Ordering::Relaxed) {
                std::thread::sleep(block_time);
                if !lock_state(&state).accepts_transactions {
                    continue;
                }
                let _making = lock_ignoring_poison(&production);
                if let Err(error) = produce_block(&state, &chain, fee_recipient, &[]) {
                    *lock_ignoring_poison(&thread_failure) =
                        Some(format!("making a block: {error}"));
                }
            }
        });
        self.producer = Some(Producer {
            stop,
            thread,
            failure,
        });
    }

    /// What the producer failed at since the last call.
    pub fn take_failure(&self) -> Option<String> {
        let producer = self.producer.as_ref()?;
        lock_ignoring_poison(&producer.failure).take()
    }

    /// Whether posting is due (module docs), `interval_passed` being the commitment interval's.
    pub fn post_due(&mut self, state: &Shared, interval_passed: bool) -> Result<bool, NodeError> {
        if !interval_passed {
            return Ok(false);
        }
        let safe = lock_state(state).db.safe_block()?;
        // Batches posted but lost (another poster's replaced them) are cut again.
        self.posted_through = self
            .posted_through
            .max(safe)
            .min(lock_chain(&self.chain).block_number());
        let chain = lock_chain(&self.chain);
        let head = chain.block_number();
        let busy = (self.posted_through + 1..=head).any(|n| {
            chain
                .block(n)
                .is_some_and(|b| !b.posted.sequenced.is_empty() || !b.posted.delayed.is_empty())
        });
        Ok(busy || head - self.posted_through >= MAX_IDLE_BLOCKS)
    }

    /// Gives the delayed messages pending on L1 that no block holds yet a block of their own
    /// (with what the pool has ready). `Ok(None)`: none waits.
    pub fn sequence_delayed(
        &mut self,
        state: &Shared,
        l1: &mut dyn L1,
        log: &L1Log,
    ) -> Result<Option<SealedBlockInfo>, NodeError> {
        let production = self.production.clone();
        let _making = lock_ignoring_poison(&production);
        let taken = self.unposted_delayed();
        let inbox = log.deployment().inbox;
        let max_bytes = view(l1, inbox, Inbox::maxBatchBytesCall {})? as usize;
        // Half a batch at most: a block must fit one with room for transactions.
        let budget = max_bytes.saturating_sub(BATCH_HEADER_LEN + SECTION_OVERHEAD) / 2;
        let pending = pending_delayed(l1, log, usize::MAX)?;
        let mut messages = Vec::new();
        let mut bytes = 0;
        for record in pending.iter().skip(taken) {
            let message = delayed_message(record);
            bytes += message.record_len();
            if bytes > budget {
                break;
            }
            messages.push(message);
        }
        if messages.is_empty() {
            return Ok(None);
        }
        produce_block(state, &self.chain, self.fee_recipient, &messages)
    }

    /// The delayed messages the blocks after the last posted one opened with.
    fn unposted_delayed(&self) -> usize {
        let chain = lock_chain(&self.chain);
        (self.posted_through + 1..=chain.block_number())
            .filter_map(|n| chain.block(n))
            .map(|block| block.posted.delayed.len())
            .sum()
    }

    /// Posts the blocks after the last posted one, cut into batches (module docs).
    /// `Ok(None)`: nothing to post.
    pub fn post(
        &mut self,
        l1: &mut dyn L1,
        wallet: &Wallet,
        log: &L1Log,
        max_transactions: usize,
        availability: DataAvailability,
    ) -> Result<Option<Posted>, NodeError> {
        let inbox = log.deployment().inbox;
        let max_bytes = view(l1, inbox, Inbox::maxBatchBytesCall {})? as usize;
        let mut total: Option<Posted> = None;
        // The blocks are read under the production lock and posted without it: building a blob
        // sidecar (its KZG proofs) and waiting for L1 take seconds, during which the producer
        // goes on making blocks (they are posted next time).
        let unposted: Vec<ChainBlock> = {
            let production = self.production.clone();
            let _cutting = lock_ignoring_poison(&production);
            let chain = lock_chain(&self.chain);
            (self.posted_through + 1..=chain.block_number())
                .filter_map(|n| chain.block(n).cloned())
                .collect()
        };
        for batch in cut(&unposted, max_bytes, max_transactions) {
            let posted = self.post_blocks(l1, wallet, log, batch, availability)?;
            total = Some(add(total, posted));
        }
        Ok(total)
    }

    /// Posts `blocks` as one batch, with the L1 records of their delayed messages (the next ones
    /// pending on L1: batches are posted in order).
    fn post_blocks(
        &mut self,
        l1: &mut dyn L1,
        wallet: &Wallet,
        log: &L1Log,
        blocks: &[ChainBlock],
        availability: DataAvailability,
    ) -> Result<Posted, NodeError> {
        let (Some(first), Some(last)) = (blocks.first(), blocks.last()) else {
            return Ok(Posted {
                batch: 0,
                delayed: 0,
                transactions: 0,
                placement: Placement::Calldata,
            });
        };
        let wanted: Vec<_> = blocks
            .iter()
            .flat_map(|block| block.posted.delayed.iter())
            .collect();
        let mut records = Vec::new();
        if !wanted.is_empty() {
            records = pending_delayed(l1, log, usize::MAX)?;
            records.truncate(wanted.len());
            let same = records.len() == wanted.len()
                && records
                    .iter()
                    .zip(&wanted)
                    .all(|(record, message)| delayed_message(record) == **message);
            if !same {
                return Err(NodeError::Blocks(format!(
                    "blocks {}..={} carry delayed messages L1 no longer has pending (forced in by someone else): they cannot be posted, the follower will replace them",
                    first.header.number, last.header.number
                )));
            }
        }
        let section = program::compress_section(
            &BlockList(blocks.iter().map(ChainBlock::l2_block).collect()).to_bytes(),
        );
        let (batch, _, placement) = post_section(
            l1,
            wallet,
            log.deployment(),
            &section,
            records,
            availability,
        )?;
        self.posted_through = last.header.number;
        Ok(Posted {
            batch,
            delayed: wanted.len(),
            transactions: blocks.iter().map(|b| b.posted.sequenced.len()).sum(),
            placement,
        })
    }

    /// Stops the producer and waits for it.
    pub fn stop(&mut self) {
        if let Some(producer) = self.producer.take() {
            producer.stop.store(true, Ordering::Relaxed);
            let _ = producer.thread.join();
        }
    }
}

impl Drop for EvmNode {
    fn drop(&mut self) {
        self.stop();
    }
}

fn add(total: Option<Posted>, posted: Posted) -> Posted {
    match total {
        None => posted,
        Some(total) => Posted {
            batch: posted.batch,
            delayed: total.delayed + posted.delayed,
            transactions: total.transactions + posted.transactions,
            placement: posted.placement,
        },
    }
}

/// `blocks` cut into batches before the inbox's byte limit or the STF's transaction limit would
/// be passed.
fn cut(blocks: &[ChainBlock], max_bytes: usize, max_transactions: usize) -> Vec<&[ChainBlock]> {
    let mut batches = Vec::new();
    let (mut start, mut bytes, mut transactions) = (0, 0usize, 0usize);
    for (at, block) in blocks.iter().enumerate() {
        let size = 40
            + block
                .posted
                .sequenced
                .iter()
                .map(|tx| tx.len() + 8)
                .sum::<usize>();
        let delayed_size: usize = block
            .posted
            .delayed
            .iter()
            .map(DelayedMessage::record_len)
            .sum();
        let count = block.posted.sequenced.len();
        let full = bytes + size + delayed_size + BATCH_HEADER_LEN + SECTION_OVERHEAD > max_bytes
            || transactions + count > max_transactions;
        if at > start && full {
            batches.push(&blocks[start..at]);
            (start, bytes, transactions) = (at, 0, 0);
        }
        bytes += size + delayed_size;
        transactions += count;
    }
    if start < blocks.len() {
        batches.push(&blocks[start..]);
    }
    batches
}

/// Makes the next block (the pool's ready transactions after `delayed`) and writes it to the
/// store before anyone can read it: the chain's lock is held until the write is done, and a
/// block the store refused is taken back. `None` when there was nothing to make.
pub fn produce_block(
    state: &Shared,
    chain: &SharedChain,
    fee_recipient: Address,
    delayed: &[DelayedMessage],
) -> Result<Option<SealedBlockInfo>, NodeError> {
    let mut node = lock_state(state);
    let mut chain = lock_chain(chain);
    let info = chain
        .produce_block(unix_now(), fee_recipient, delayed)
        .map_err(|e| NodeError::Blocks(format!("the STF refused the block: {e}")))?;
    let Some(mut info) = info else {
        return Ok(None);
    };
    let stored = match chain.block(info.number) {
        Some(block) => block.to_stored(),
        None => return Ok(None),
    };
    let commit = BlockCommit {
        blocks: vec![stored],
        new_nodes: std::mem::take(&mut info.new_nodes),
    };
    if let Err(error) = node.db.commit_blocks(commit) {
        chain.truncate(info.number);
        return Err(error.into());
    }
    let dropped: Vec<_> = info.dropped.iter().map(|(hash, _)| hash.0).collect();
    node.db.forget(&dropped)?;
    Ok(Some(info))
}

fn lock_ignoring_poison<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The Ethereum JSON-RPC over `chain`, with `eth_sendRawTransaction` taking a transaction only
/// while the node does (a sequencer, or a validator standing in) and through `admissions`, which
/// writes it to the store's mempool before it answers: an acknowledged transaction survives
/// kill -9 (a restart puts it back in the pool). Merged with the node's `hb_*` methods by the
/// caller.
pub fn eth_module(
    state: Shared,
    chain: SharedChain,
    admissions: Admissions,
) -> Result<RpcModule<()>, jsonrpsee::core::RegisterMethodError> {
    let mut module = RpcModule::new(());
    let mut eth = eth_rpc::module(chain)?;
    eth.remove_method("eth_sendRawTransaction");
    module.merge(eth)?;
    module.register_async_method("eth_sendRawTransaction", move |params, _, _| {
        let (state, admissions) = (state.clone(), admissions.clone());
        async move {
            let (raw,): (alloy::primitives::Bytes,) = parse(&params, 1)?;
            if !lock_state(&state).accepts_transactions {
                return Err(super::rpc::not_a_sequencer());
            }
            match admissions.admit(raw.to_vec()).await {
                Ok(hash) => Ok(json!(alloy::primitives::B256::from(hash))),
                Err(NotAdmitted::Pool(refusal)) => Err(eth_rpc::submit_error(refusal)),
                Err(other) => Err(eth_api::server_error(other)),
            }
        }
    })?;
    Ok(module)
}

/// `hb_getWithdrawal`'s answer on an EVM rollup: the first withdrawal `tx` started, with all of
/// them (a contract may withdraw more than once in one transaction) under `withdrawals`.
pub fn withdrawals_answer(db: &NodeDb, tx: &[u8; 32]) -> Result<Value, ErrorObjectOwned> {
    let mut all = Vec::new();
    for k in 0.. {
        let key = super::evm_follower::withdrawal_key(tx, k);
        match db.withdrawal(&key) {
            Ok(Some(w)) => all.push(super::rpc::withdrawal_json(&w)),
            Ok(None) => break,
            Err(e) => return Err(eth_api::server_error(format!("store: {e}"))),
        }
    }
    let Some(first) = all.first().cloned() else {
        return Ok(Value::Null);
    };
    let mut answer = first;
    answer["withdrawals"] = Value::Array(all);
    Ok(answer)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::node::evm_chain::tests::{address, chain, key, produce, transfer_to};

    /// Five blocks of three transfers each, the last opening with a deposit.
    fn blocks() -> Vec<ChainBlock> {
        let mut chain = chain();
        let alice = key(0);
        let bob = address(&key(1));
        let mut nonce = 0;
        for block in 0..5 {
            for _ in 0..3 {
                chain.submit(&transfer_to(&alice, nonce, bob, 1)).unwrap();
                nonce += 1;
            }
            let delayed = if block == 4 {
                vec![program::ledger::DelayedMessage::Deposit(
                    program::ledger::Deposit {
                        to: [7; 20],
                        amount: 5,
                    },
                )]
            } else {
                vec![]
            };
            produce(&mut chain, &delayed);
        }
        (1..=5).map(|n| chain.block(n).unwrap().clone()).collect()
    }

    fn sizes(batches: &[&[ChainBlock]]) -> Vec<usize> {
        batches.iter().map(|batch| batch.len()).collect()
    }

    #[test]
    fn blocks_are_cut_into_batches_at_the_limits_only() {
        let blocks = blocks();
        assert!(blocks.iter().all(|b| b.posted.sequenced.len() == 3));
        // Room for everything: one batch, the deposit's block included (it may open any block).
        assert_eq!(sizes(&cut(&blocks, 1 << 20, 1000)), vec![5]);
        // The STF's transaction limit: two blocks (6 transactions) at most.
        assert_eq!(sizes(&cut(&blocks, 1 << 20, 6)), vec![2, 2, 1]);
        assert_eq!(sizes(&cut(&blocks, 1 << 20, 5)), vec![1, 1, 1, 1, 1]);
        // The inbox's byte limit: what one block takes, and a little more.
        let one = BATCH_HEADER_LEN
            + SECTION_OVERHEAD
            + 40
            + blocks[0]
                .posted
                .sequenced
                .iter()
                .map(|tx| tx.len() + 8)
                .sum::<usize>();
        assert_eq!(sizes(&cut(&blocks, one + 10, 1000)), vec![1, 1, 1, 1, 1]);
        // A block over the limit by itself still goes, alone (the inbox decides).
        assert_eq!(sizes(&cut(&blocks, 10, 1000)), vec![1, 1, 1, 1, 1]);
        // Every block once, in order.
        let batches = cut(&blocks, 1 << 20, 6);
        let numbers: Vec<u64> = batches
            .iter()
            .flat_map(|batch| batch.iter().map(|b| b.header.number))
            .collect();
        assert_eq!(numbers, vec![1, 2, 3, 4, 5]);
        // The posted form keeps the deposit's count on its block.
        assert_eq!(blocks[4].l2_block().delayed, 1);
        assert_eq!(blocks[0].l2_block().delayed, 0);
    }
}
