//! Reads of the chain: block tags and ids, blocks, transactions with their receipts, logs, the
//! state after any block, call snapshots, and fees.

use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::rpc::types::{FeeHistory, Filter, FilterBlockOption, Log as RpcLog, TransactionRequest};
use program::evm::evm_stf::block::BLOCK_GAS_LIMIT;
use program::evm::evm_stf::execution::BlockContext;
use program::evm::evm_stf::{AccountLeaf, L2_SPEC};
use program::evm::EvmStateReader;
use program::ledger::Hash;
use revm::context::BlockEnv;

use super::{
    CallError, CallSnapshot, ChainBlock, ChainError, ChainTransaction, EvmChain, SUGGESTED_TIP,
};

/// The most blocks one `logs` query may span (what hosted nodes allow), so an answer stays
/// bounded whatever is asked.
pub const MAX_LOG_RANGE: u64 = 10_000;
/// The most blocks one `fee_history` covers (geth's limit).
pub const MAX_FEE_HISTORY_BLOCKS: u64 = 1024;
/// The most reward percentiles one `fee_history` takes.
pub const MAX_REWARD_PERCENTILES: usize = 100;

/// A transaction where it was mined.
#[derive(Clone, Copy, Debug)]
pub struct Located<'a> {
    pub block: &'a ChainBlock,
    /// Its index in the block.
    pub index: usize,
    pub tx: &'a ChainTransaction,
}

impl ChainBlock {
    /// The logs of its transaction at `index`, with their places in the chain.
    pub fn rpc_logs(&self, index: usize) -> Vec<RpcLog> {
        let Some(tx) = self.transactions.get(index) else {
            return Vec::new();
        };
        tx.logs
            .iter()
            .enumerate()
            .map(|(position, log)| RpcLog {
                inner: log.clone(),
                block_hash: Some(self.hash),
                block_number: Some(self.header.number),
                block_timestamp: Some(self.header.timestamp),
                transaction_hash: Some(tx.hash),
                transaction_index: Some(index as u64),
                log_index: Some(tx.first_log_index + position as u64),
                removed: false,
            })
            .collect()
    }
}

impl EvmChain {
    /// A tag or number as a block number; `None` past the head.
    pub fn resolve_tag(&self, tag: BlockNumberOrTag) -> Option<u64> {
        let head = self.block_number();
        match tag {
            BlockNumberOrTag::Latest | BlockNumberOrTag::Pending => Some(head),
            BlockNumberOrTag::Safe => Some(self.safe),
            BlockNumberOrTag::Finalized => Some(self.finalized),
            BlockNumberOrTag::Earliest => Some(0),
            BlockNumberOrTag::Number(number) => (number <= head).then_some(number),
        }
    }

    /// A block id (tag, number or hash) as a block number; `None` if the chain has no such block.
    pub fn resolve(&self, id: BlockId) -> Option<u64> {
        match id {
            BlockId::Number(tag) => self.resolve_tag(tag),
            BlockId::Hash(hash) => self.block_numbers.get(&hash.block_hash).copied(),
        }
    }

    pub fn block(&self, number: u64) -> Option<&ChainBlock> {
        self.blocks.get(usize::try_from(number).ok()?)
    }

    pub fn block_by_hash(&self, hash: &B256) -> Option<&ChainBlock> {
        self.block(*self.block_numbers.get(hash)?)
    }

    /// A mined transaction (its receipt is part of it); waiting ones are in [`EvmChain::pool`].
    pub fn transaction(&self, hash: &B256) -> Option<Located<'_>> {
        let (number, index) = *self.transactions.get(hash)?;
        let block = self.block(number)?;
        Some(Located {
            block,
            index,
            tx: block.transactions.get(index)?,
        })
    }

    /// The receipt of a mined transaction: [`EvmChain::transaction`], whose receipt fields
    /// ([`ChainTransaction`]) are the receipt.
    pub fn receipt(&self, hash: &B256) -> Option<Located<'_>> {
        self.transaction(hash)
    }

    /// The state root after block `number`.
    pub fn state_at(&self, number: u64) -> Option<Hash> {
        self.block(number).map(|block| block.state_root)
    }

    /// A reader of the state after block `id`.
    pub fn state(&self, id: BlockId) -> Result<EvmStateReader<'_>, ChainError> {
        let root = self
            .resolve(id)
            .and_then(|number| self.state_at(number))
            .ok_or(ChainError::UnknownBlock)?;
        Ok(EvmStateReader::new(&self.store, root))
    }

    /// The account after block `id` (`None`: it does not exist).
    pub fn account(
        &self,
        address: &Address,
        id: BlockId,
    ) -> Result<Option<AccountLeaf>, ChainError> {
        Ok(self.state(id)?.account(address)?)
    }

    pub fn code(&self, address: &Address, id: BlockId) -> Result<Vec<u8>, ChainError> {
        Ok(self.state(id)?.code(address)?)
    }

    pub fn storage(&self, address: &Address, slot: U256, id: BlockId) -> Result<U256, ChainError> {
        Ok(self.state(id)?.storage(address, slot)?)
    }

    /// Block `id`'s state and context, for calls run without the chain's lock.
    pub fn snapshot(&self, id: BlockId) -> Result<CallSnapshot, ChainError> {
        let block = self
            .resolve(id)
            .and_then(|number| self.block(number))
            .ok_or(ChainError::UnknownBlock)?;
        let header = &block.header;
        Ok(CallSnapshot {
            store: self.store.clone(),
            root: block.state_root,
            block: BlockEnv {
                number: U256::from(header.number),
                beneficiary: header.fee_recipient,
                timestamp: U256::from(header.timestamp),
                gas_limit: BLOCK_GAS_LIMIT,
                basefee: header.base_fee,
                difficulty: U256::ZERO,
                prevrandao: Some(header.parent_hash),
                blob_excess_gas_and_price: BlockContext::blob_pricing(0, L2_SPEC),
                ..BlockEnv::default()
            },
            chain_id: self.chain_id,
        })
    }

    /// `eth_call` on the state after block `id`.
    pub fn call(&self, request: &TransactionRequest, id: BlockId) -> Result<Bytes, CallError> {
        self.snapshot(id)
            .map_err(|_| CallError::UnknownBlock)?
            .call(request)
    }

    /// `eth_estimateGas` on the state after block `id`.
    pub fn estimate_gas(
        &self,
        request: &TransactionRequest,
        id: BlockId,
    ) -> Result<u64, CallError> {
        self.snapshot(id)
            .map_err(|_| CallError::UnknownBlock)?
            .estimate_gas(request)
    }

    /// The logs `filter` selects, over at most [`MAX_LOG_RANGE`] blocks.
    pub fn logs(&self, filter: &Filter) -> Result<Vec<RpcLog>, ChainError> {
        let head = self.block_number();
        let (from, to) = match filter.block_option {
            FilterBlockOption::AtBlockHash(hash) => {
                let number = *self
                    .block_numbers
                    .get(&hash)
                    .ok_or(ChainError::UnknownBlock)?;
                (number, number)
            }
            FilterBlockOption::Range {
                from_block,
                to_block,
            } => {
                // Numbers past the head stand (the range is what is bounded); tags resolve.
                let resolve = |tag: Option<BlockNumberOrTag>| match tag {
                    Some(BlockNumberOrTag::Number(number)) => number,
                    Some(tag) => self.resolve_tag(tag).unwrap_or(head),
                    None => head,
                };
                let (from, to) = (resolve(from_block), resolve(to_block));
                if from > to {
                    // Two numbers the wrong way round are a mistake; a start past a tag's
                    // block is a poller that is ahead (nothing to find yet).
                    let numbers = from_block.is_some_and(|tag| tag.is_number())
                        && to_block.is_some_and(|tag| tag.is_number());
                    return match numbers {
                        true => Err(ChainError::InvalidRange),
                        false => Ok(Vec::new()),
                    };
                }
                (from, to)
            }
        };
        if to - from >= MAX_LOG_RANGE {
            return Err(ChainError::LogRangeTooWide);
        }
        let mut logs = Vec::new();
        for number in from..=to.min(head) {
            let Some(block) = self.block(number) else {
                break;
            };
            if !filter.matches_bloom(block.logs_bloom) {
                continue;
            }
            for index in 0..block.transactions.len() {
                logs.extend(
                    block
                        .rpc_logs(index)
                        .into_iter()
                        .filter(|log| filter.matches(&log.inner)),
                );
            }
        }
        Ok(logs)
    }

    /// `eth_feeHistory`: base fees (and the next block's), gas used ratios and, per block, the
    /// priority fees paid at each percentile of its gas (geth's method).
    pub fn fee_history(
        &self,
        block_count: u64,
        newest: BlockNumberOrTag,
        percentiles: &[f64],
    ) -> Result<FeeHistory, ChainError> {
        if percentiles.len() > MAX_REWARD_PERCENTILES {
            return Err(ChainError::InvalidPercentiles(format!(
                "at most {MAX_REWARD_PERCENTILES}"
            )));
        }
        for (i, p) in percentiles.iter().enumerate() {
            let ordered = i == 0 || percentiles[i - 1] <= *p;
            if !(0.0..=100.0).contains(p) || !ordered {
                return Err(ChainError::InvalidPercentiles(format!(
                    "{p} is out of [0, 100] or below the one before"
                )));
            }
        }
        let newest = self.resolve_tag(newest).ok_or(ChainError::UnknownBlock)?;
        let count = block_count.clamp(1, MAX_FEE_HISTORY_BLOCKS).min(newest + 1);
        let oldest = newest + 1 - count;
        let blocks: Vec<&ChainBlock> = (oldest..=newest).filter_map(|n| self.block(n)).collect();
        let mut base_fee_per_gas: Vec<u128> = blocks
            .iter()
            .map(|block| u128::from(block.header.base_fee))
            .collect();
        let next = blocks
            .last()
            .copied()
            .unwrap_or(self.latest())
            .head()
            .next_base_fee();
        base_fee_per_gas.push(u128::from(next));
        Ok(FeeHistory {
            base_fee_per_gas,
            gas_used_ratio: blocks
                .iter()
                .map(|block| block.header.gas_used as f64 / block.header.gas_limit as f64)
                .collect(),
            base_fee_per_blob_gas: Vec::new(),
            blob_gas_used_ratio: Vec::new(),
            oldest_block: oldest,
            reward: (!percentiles.is_empty()).then(|| {
                blocks
                    .iter()
                    .map(|block| rewards(block, percentiles))
                    .collect()
            }),
        })
    }

    /// `eth_gasPrice`: the next block's base fee and the suggested tip.
    pub fn gas_price(&self) -> u128 {
        u128::from(self.next_base_fee()) + SUGGESTED_TIP
    }

    /// `eth_maxPriorityFeePerGas`.
    pub fn max_priority_fee(&self) -> u128 {
        SUGGESTED_TIP
    }
}

/// The priority fee per gas paid at each percentile of `block`'s gas, its transactions sorted by
/// it (geth's `eth_feeHistory` rewards); zeros for an empty block.
fn rewards(block: &ChainBlock, percentiles: &[f64]) -> Vec<u128> {
    let base_fee = u128::from(block.header.base_fee);
    let mut tips: Vec<(u128, u64)> = block
        .transactions
        .iter()
        .map(|tx| (tx.effective_gas_price.saturating_sub(base_fee), tx.gas_used))
        .collect();
    if tips.is_empty() {
        return vec![0; percentiles.len()];
    }
    tips.sort_unstable();
    let total = block.header.gas_used as f64;
    let mut index = 0;
    let mut sum = tips[0].1;
    percentiles
        .iter()
        .map(|p| {
            let threshold = (total * p / 100.0) as u64;
            while sum < threshold && index + 1 < tips.len() {
                index += 1;
                sum += tips[index].1;
            }
            tips[index].0
        })
        .collect()
}
