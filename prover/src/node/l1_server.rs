//! The embedded L1 served over Ethereum JSON-RPC 2.0 on HTTP (jsonrpsee), so that what reaches a
//! real chain reaches the devnet's too: [`verifier::l1::rpc::RpcL1`] (a `rollup node` beside the
//! devnet, the user commands), cast and ethers. The chain is shared with the devnet's own nodes
//! through [`SharedL1`], which runs every call as one job on the chain's own thread: a node's turn
//! and a request interleave call by call, never inside one. The devnet's own nodes' transactions
//! carry no signature: they are served as legacy transactions with a placeholder one.
//!
//! | method | params | note |
//! |---|---|---|
//! | `eth_chainId`, `net_version`, `web3_clientVersion`, `eth_blockNumber` | — | |
//! | `eth_getBlockByNumber` | tag, full | `null` past the head; hashes are keccak256(label ‖ number) |
//! | `eth_getBalance`, `eth_getTransactionCount`, `eth_getCode` | address, tag | the latest state only |
//! | `eth_call` | request, tag | latest; an older block only to replay the next block's transaction |
//! | `eth_estimateGas` | request | gas spent before refunds and 1/32 more, on the latest state |
//! | `eth_gasPrice`, `eth_maxPriorityFeePerGas`, `eth_feeHistory` | | all 0: gas is never charged |
//! | `eth_sendRawTransaction` | EIP-2718 bytes | legacy (EIP-155), 2930, 1559; mined at once |
//! | `eth_getTransactionByHash`, `eth_getTransactionReceipt` | hash | `null` if unknown |
//! | `eth_getLogs` | filter | address(es), topics, a range of at most [`MAX_LOG_RANGE`] blocks |
//! | `evm_increaseTime`, `evm_mine`, `anvil_setBalance` | seconds; —; address, wei | dev methods, as anvil |
//!
//! Errors: -32602 for parameters that do not parse, 3 with the revert data for a call that
//! reverts (as geth), -32000 with geth's words for a refused transaction or a state the chain
//! does not keep, -32005 for a log range over the limit. Bodies over [`MAX_BODY_BYTES`] are
//! refused before they are parsed.

use std::net::SocketAddr;
use std::sync::mpsc;

use alloy::consensus::{Signed, TxEnvelope, TxLegacy, TxType};
use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::{keccak256, Address, Bytes, Signature, TxKind, B256, U256, U64};
use alloy::rpc::types::{
    Block, BlockTransactions, FeeHistory, Filter, FilterBlockOption, Header, Log as RpcLog,
    Transaction, TransactionReceipt, TransactionRequest,
};
use jsonrpsee::server::ServerHandle;
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use verifier::l1::embedded::{EmbeddedL1, MinedTx, Simulated, EMBEDDED_CHAIN_ID};
use verifier::l1::{Fees, L1Error, Log, Revert, TxReceipt, Wallet, L1};

use super::eth_api::{
    self, invalid, parse, quantity, receipt_envelope, reverted, server_error, to_json, RpcResult,
};
use super::NodeError;

/// The largest request body accepted: a batch of a few hundred transfers with room to spare
/// (the STF's batch limit is what bounds a batch posting).
pub const MAX_BODY_BYTES: u32 = 4 * 1024 * 1024;

/// The most blocks one `eth_getLogs` may span, so the answer stays bounded whatever is asked:
/// the pages [`verifier::l1::rpc::RpcL1`] reads in.
pub const MAX_LOG_RANGE: u64 = verifier::l1::rpc::LOG_PAGE_BLOCKS;

pub use super::eth_api::{EXECUTION_REVERTED, INVALID_PARAMS, LIMIT_EXCEEDED, SERVER_ERROR};

/// A change or read of the chain, run on the thread that owns it.
type Job = Box<dyn FnOnce(&mut EmbeddedL1) + Send>;

/// One embedded chain for the devnet's nodes and its RPC server alike. revm's EVM may not leave
/// the thread it was made on, so the chain lives on a thread of its own and every call is a job
/// sent there: calls from everywhere are run one at a time, in the order they arrive.
#[derive(Clone)]
pub struct SharedL1 {
    jobs: mpsc::Sender<Job>,
}

fn stopped() -> L1Error {
    L1Error::Node("the embedded L1 failed on this call (see the log) or has stopped".into())
}

impl SharedL1 {
    /// Starts the chain's thread: `open` makes the chain there (and may deploy on it), and what
    /// it returns beside the chain comes back here.
    pub fn spawn<T: Send + 'static>(
        open: impl FnOnce() -> Result<(EmbeddedL1, T), NodeError> + Send + 'static,
    ) -> Result<(SharedL1, T), NodeError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (opened, answer) = mpsc::channel();
        std::thread::Builder::new()
            .name("embedded-l1".into())
            .spawn(move || {
                let mut l1 = match open() {
                    Ok((l1, value)) => {
                        let _ = opened.send(Ok(value));
                        l1
                    }
                    Err(e) => {
                        let _ = opened.send(Err(e));
                        return;
                    }
                };
                // Every change is journaled before it is made, so a job that panicked left the
                // chain as a replay of its journal would: the thread goes on with the next.
                while let Ok(job) = queue.recv() {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut l1)));
                }
            })
            .map_err(|e| NodeError::Setup(format!("starting the embedded L1's thread: {e}")))?;
        let value = answer
            .recv()
            .map_err(|_| NodeError::Setup("the embedded L1 failed to open".into()))??;
        Ok((SharedL1 { jobs }, value))
    }

    /// Runs `job` on the chain and waits for its answer.
    pub fn with<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut EmbeddedL1) -> R + Send + 'static,
    ) -> Result<R, L1Error> {
        let (reply, answer) = mpsc::channel();
        self.jobs
            .send(Box::new(move |l1: &mut EmbeddedL1| {
                let _ = reply.send(job(l1));
            }))
            .map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())
    }
}

impl L1 for SharedL1 {
    fn chain_id(&self) -> u64 {
        EMBEDDED_CHAIN_ID
    }

    fn head(&mut self) -> Result<(u64, u64), L1Error> {
        self.with(|l1| l1.head())?
    }

    fn balance(&mut self, who: Address) -> Result<U256, L1Error> {
        self.with(move |l1| l1.balance(who))?
    }

    fn deploy(&mut self, from: &Wallet, init_code: Vec<u8>) -> Result<Address, L1Error> {
        let from = from.clone();
        self.with(move |l1| l1.deploy(&from, init_code))?
    }

    fn send(
        &mut self,
        from: &Wallet,
        to: Address,
        value: U256,
        data: Vec<u8>,
    ) -> Result<TxReceipt, L1Error> {
        let from = from.clone();
        self.with(move |l1| l1.send(&from, to, value, data))?
    }

    fn call(&mut self, to: Address, data: Vec<u8>) -> Result<Result<Bytes, Revert>, L1Error> {
        self.with(move |l1| l1.call(to, data))?
    }

    fn logs(&mut self, address: Address, from: u64, to: u64) -> Result<Vec<Log>, L1Error> {
        self.with(move |l1| l1.logs(address, from, to))?
    }

    fn transaction_input(&mut self, hash: B256) -> Result<Bytes, L1Error> {
        self.with(move |l1| l1.transaction_input(hash))?
    }

    fn fee(&mut self, hash: B256) -> Result<U256, L1Error> {
        self.with(move |l1| l1.fee(hash))?
    }

    fn advance_time(&mut self, seconds: u64) -> Result<(), L1Error> {
        self.with(move |l1| l1.advance_time(seconds))?
    }

    fn set_balance(&mut self, who: Address, wei: U256) -> Result<(), L1Error> {
        self.with(move |l1| l1.set_balance(who, wei))?
    }

    fn send_blobs(
        &mut self,
        from: &Wallet,
        to: Address,
        data: Vec<u8>,
        blobs: Vec<Vec<u8>>,
    ) -> Result<TxReceipt, L1Error> {
        let from = from.clone();
        self.with(move |l1| l1.send_blobs(&from, to, data, blobs))?
    }

    fn blobs(&mut self, hash: B256) -> Result<Vec<Vec<u8>>, L1Error> {
        self.with(move |l1| l1.blobs(hash))?
    }

    fn fees(&mut self) -> Result<Fees, L1Error> {
        self.with(|l1| l1.fees())?
    }
}

fn l1_error(e: L1Error) -> ErrorObjectOwned {
    match e {
        // The chain's own words (geth's where they apply), not wrapped.
        L1Error::Rejected(message) => server_error(message),
        other => server_error(other),
    }
}

/// The hash the chain gives block `number` (the embedded chain has no headers to hash).
pub fn block_hash(number: u64) -> B256 {
    let mut preimage = b"hauptbuch embedded block".to_vec();
    preimage.extend_from_slice(&number.to_be_bytes());
    keccak256(&preimage)
}

/// A block tag or number as a block number, `None` past the head.
fn block_number(l1: &mut EmbeddedL1, tag: Option<BlockNumberOrTag>) -> Option<u64> {
    let (head, _) = l1.head().ok()?;
    match tag.unwrap_or(BlockNumberOrTag::Latest) {
        BlockNumberOrTag::Number(n) => (n <= head).then_some(n),
        BlockNumberOrTag::Earliest => Some(0),
        _ => Some(head),
    }
}

/// State reads are answered on the latest state only: the chain keeps no history.
fn latest_only(l1: &mut EmbeddedL1, block: Option<BlockId>) -> Result<(), ErrorObjectOwned> {
    let (head, _) = l1.head().map_err(l1_error)?;
    let latest = match block {
        None => true,
        Some(BlockId::Number(BlockNumberOrTag::Number(n))) => n == head,
        Some(BlockId::Number(BlockNumberOrTag::Earliest)) => head == 0,
        Some(BlockId::Number(_)) => true,
        Some(BlockId::Hash(hash)) => hash.block_hash == block_hash(head),
    };
    match latest {
        true => Ok(()),
        false => Err(server_error(format!(
            "historical state is not kept: only the latest block ({head})"
        ))),
    }
}

fn rpc_log(log: &Log, index: u64, timestamp: u64) -> RpcLog {
    RpcLog {
        inner: alloy::primitives::Log::new_unchecked(
            log.address,
            log.topics.clone(),
            log.data.clone(),
        ),
        block_hash: Some(block_hash(log.block)),
        block_number: Some(log.block),
        block_timestamp: Some(timestamp),
        transaction_hash: Some(log.tx_hash),
        // One transaction a block.
        transaction_index: Some(0),
        log_index: Some(index),
        removed: false,
    }
}

/// The transaction as the chain mined it: its signed envelope, or for one the chain ran for a
/// [`Wallet`] a legacy transaction with a placeholder signature under the chain's own hash.
fn envelope(tx: &MinedTx) -> TxEnvelope {
    if let Some(signed) = &tx.signed {
        return signed.clone();
    }
    let legacy = TxLegacy {
        chain_id: Some(EMBEDDED_CHAIN_ID),
        nonce: tx.nonce,
        gas_price: 0,
        gas_limit: tx.gas_limit,
        to: tx.to.map(TxKind::Call).unwrap_or(TxKind::Create),
        value: tx.value,
        input: tx.input.clone(),
    };
    let placeholder = Signature::new(U256::from(1), U256::from(1), false);
    TxEnvelope::Legacy(Signed::new_unchecked(legacy, placeholder, tx.hash))
}

fn rpc_transaction(tx: &MinedTx) -> Transaction {
    Transaction {
        inner: alloy::consensus::transaction::Recovered::new_unchecked(envelope(tx), tx.from),
        block_hash: Some(block_hash(tx.block)),
        block_number: Some(tx.block),
        transaction_index: Some(0),
        effective_gas_price: Some(0),
        block_timestamp: None,
    }
}

fn rpc_receipt(tx: &MinedTx, timestamp: u64) -> TransactionReceipt {
    let logs: Vec<RpcLog> = tx
        .logs
        .iter()
        .enumerate()
        .map(|(i, log)| rpc_log(log, i as u64, timestamp))
        .collect();
    let tx_type = tx
        .signed
        .as_ref()
        .map(TxEnvelope::tx_type)
        .unwrap_or(TxType::Legacy);
    let inner = receipt_envelope(tx_type, tx.outcome.is_ok(), tx.gas_used, logs);
    TransactionReceipt {
        inner,
        transaction_hash: tx.hash,
        transaction_index: Some(0),
        block_hash: Some(block_hash(tx.block)),
        block_number: Some(tx.block),
        gas_used: tx.gas_used,
        effective_gas_price: 0,
        blob_gas_used: None,
        blob_gas_price: None,
        from: tx.from,
        to: tx.to,
        contract_address: tx.created,
    }
}

fn rpc_block(l1: &EmbeddedL1, number: u64, full: bool) -> Option<Block> {
    let (timestamp, tx) = l1.block(number)?;
    let mined = tx.and_then(|hash| l1.transaction(&hash));
    let header = alloy::consensus::Header {
        parent_hash: match number {
            0 => B256::ZERO,
            n => block_hash(n - 1),
        },
        number,
        timestamp,
        gas_limit: verifier::evm::BLOCK_GAS_LIMIT,
        gas_used: mined.map(|tx| tx.gas_used).unwrap_or(0),
        base_fee_per_gas: Some(0),
        ..Default::default()
    };
    let transactions = match (full, mined) {
        (true, Some(tx)) => BlockTransactions::Full(vec![rpc_transaction(tx)]),
        (true, None) => BlockTransactions::Full(Vec::new()),
        (false, _) => BlockTransactions::Hashes(tx.into_iter().collect()),
    };
    Some(Block {
        header: Header {
            hash: block_hash(number),
            inner: header,
            total_difficulty: Some(U256::ZERO),
            size: None,
        },
        uncles: Vec::new(),
        transactions,
        withdrawals: None,
    })
}

/// A call's answer: its return data, or geth's revert error (code 3, the data in `data`).
fn call_answer(outcome: Result<Bytes, Revert>, halted: bool) -> RpcResult {
    match outcome {
        Ok(data) => to_json(&data),
        Err(revert) if halted => Err(server_error(revert.error)),
        Err(revert) => Err(reverted(
            (!revert.raw.is_empty()).then_some(revert.error.as_str()),
            &revert.raw,
        )),
    }
}

fn request_target(request: &TransactionRequest) -> TxKind {
    request.to.unwrap_or(TxKind::Create)
}

fn request_input(request: &TransactionRequest) -> Bytes {
    request.input.input().cloned().unwrap_or_default()
}

/// `eth_call` on an older block: answered only as the replay of the next block's transaction
/// (what [`verifier::l1::rpc::RpcL1`] asks to learn a mined transaction's return data or revert),
/// whose outcome the chain kept.
fn replayed_call(l1: &EmbeddedL1, block: u64, request: &TransactionRequest) -> RpcResult {
    let next = l1
        .block(block + 1)
        .and_then(|(_, tx)| tx)
        .and_then(|hash| l1.transaction(&hash));
    match next {
        Some(tx)
            if request.from.is_none_or(|from| from == tx.from)
                && tx.to.map(TxKind::Call).unwrap_or(TxKind::Create) == request_target(request)
                && request_input(request) == tx.input
                && request.value.unwrap_or_default() == tx.value =>
        {
            call_answer(tx.outcome.clone(), tx.halted)
        }
        _ => Err(server_error(format!(
            "historical state is not kept: block {block} can only be called to replay block {}'s transaction",
            block + 1
        ))),
    }
}

fn get_logs(l1: &mut EmbeddedL1, filter: &Filter) -> RpcResult {
    let (head, _) = l1.head().map_err(l1_error)?;
    let (from, to) = match &filter.block_option {
        FilterBlockOption::Range {
            from_block,
            to_block,
        } => {
            let resolve = |tag: Option<BlockNumberOrTag>| match tag {
                None => head,
                Some(BlockNumberOrTag::Number(n)) => n,
                Some(BlockNumberOrTag::Earliest) => 0,
                Some(_) => head,
            };
            (resolve(*from_block), resolve(*to_block))
        }
        FilterBlockOption::AtBlockHash(hash) => {
            let number = (0..=head)
                .rev()
                .take(MAX_LOG_RANGE as usize)
                .find(|n| block_hash(*n) == *hash)
                .ok_or_else(|| server_error("unknown block"))?;
            (number, number)
        }
    };
    // The range asked for is what is bounded, past the head too (as hosted nodes do): RpcL1
    // pages its reads to fit.
    if to >= from && to - from >= MAX_LOG_RANGE {
        return Err(ErrorObject::owned(
            LIMIT_EXCEEDED,
            format!("query exceeds max block range {MAX_LOG_RANGE}"),
            None::<()>,
        ));
    }
    let to = to.min(head);
    if from > to {
        return Ok(Value::Array(Vec::new()));
    }
    let mut logs = Vec::new();
    for tx in l1.transactions_in(from, to) {
        let timestamp = l1.block(tx.block).map(|(t, _)| t).unwrap_or(0);
        for (index, log) in tx.logs.iter().enumerate() {
            let inner = alloy::primitives::Log::new_unchecked(
                log.address,
                log.topics.clone(),
                log.data.clone(),
            );
            if filter.matches(&inner) {
                logs.push(rpc_log(log, index as u64, timestamp));
            }
        }
    }
    to_json(&logs)
}

/// Runs a handler's work on the chain.
fn on(l1: &SharedL1, job: impl FnOnce(&mut EmbeddedL1) -> RpcResult + Send + 'static) -> RpcResult {
    l1.with(job).map_err(l1_error)?
}

fn simulate(
    l1: &mut EmbeddedL1,
    request: &TransactionRequest,
) -> Result<Simulated, ErrorObjectOwned> {
    l1.simulate(
        request.from.unwrap_or(Address::ZERO),
        request_target(request),
        request.value.unwrap_or_default(),
        request_input(request),
        request.gas,
    )
    .map_err(l1_error)
}

/// The methods, over `l1`.
pub fn module(l1: SharedL1) -> Result<RpcModule<SharedL1>, jsonrpsee::core::RegisterMethodError> {
    let mut module = RpcModule::new(l1);
    module.register_method("web3_clientVersion", |_, _, _| {
        Ok::<Value, ErrorObjectOwned>(json!(concat!(
            "hauptbuch-devnet/",
            env!("CARGO_PKG_VERSION")
        )))
    })?;
    module.register_method("net_version", |_, _, _| {
        Ok::<Value, ErrorObjectOwned>(json!(EMBEDDED_CHAIN_ID.to_string()))
    })?;
    module.register_method("eth_chainId", |_, _, _| {
        Ok::<Value, ErrorObjectOwned>(quantity(EMBEDDED_CHAIN_ID))
    })?;
    for method in ["eth_gasPrice", "eth_maxPriorityFeePerGas"] {
        module.register_method(method, |_, _, _| Ok::<Value, ErrorObjectOwned>(quantity(0)))?;
    }
    module.register_blocking_method("eth_blockNumber", |_, l1, _| {
        on(&l1, |l1| Ok(quantity(l1.head().map_err(l1_error)?.0)))
    })?;
    module.register_blocking_method("eth_getBlockByNumber", |params, l1, _| {
        let (tag, full): (BlockNumberOrTag, Option<bool>) = parse(&params, 2)?;
        on(&l1, move |l1| match block_number(l1, Some(tag)) {
            Some(number) => to_json(&rpc_block(l1, number, full.unwrap_or(false))),
            None => Ok(Value::Null),
        })
    })?;
    module.register_blocking_method("eth_getBalance", |params, l1, _| {
        let (who, block): (Address, Option<BlockId>) = parse(&params, 2)?;
        on(&l1, move |l1| {
            latest_only(l1, block)?;
            to_json(&l1.balance(who).map_err(l1_error)?)
        })
    })?;
    module.register_blocking_method("eth_getTransactionCount", |params, l1, _| {
        let (who, block): (Address, Option<BlockId>) = parse(&params, 2)?;
        on(&l1, move |l1| {
            latest_only(l1, block)?;
            Ok(quantity(l1.nonce(who)))
        })
    })?;
    module.register_blocking_method("eth_getCode", |params, l1, _| {
        let (who, block): (Address, Option<BlockId>) = parse(&params, 2)?;
        on(&l1, move |l1| {
            latest_only(l1, block)?;
            to_json(&l1.code(who))
        })
    })?;
    module.register_blocking_method("eth_call", |params, l1, _| {
        let (request, block): (TransactionRequest, Option<BlockId>) = parse(&params, 2)?;
        on(&l1, move |l1| {
            let (head, _) = l1.head().map_err(l1_error)?;
            if let Some(BlockId::Number(BlockNumberOrTag::Number(n))) = block {
                if n < head {
                    return replayed_call(l1, n, &request);
                }
            }
            latest_only(l1, block)?;
            let simulated = simulate(l1, &request)?;
            call_answer(simulated.outcome, simulated.halted)
        })
    })?;
    module.register_blocking_method("eth_estimateGas", |params, l1, _| {
        let (request, block): (TransactionRequest, Option<BlockId>) = parse(&params, 2)?;
        on(&l1, move |l1| {
            latest_only(l1, block)?;
            let simulated = simulate(l1, &request)?;
            match simulated.outcome {
                // Calls forward 63/64 of what is left: a small margin over what was spent.
                Ok(_) => Ok(quantity(
                    simulated
                        .gas_needed
                        .saturating_add(simulated.gas_needed / 32)
                        .min(verifier::evm::CALL_GAS_LIMIT),
                )),
                Err(revert) if simulated.halted => Err(server_error(format!(
                    "gas required exceeds allowance or the run halted: {}",
                    revert.error
                ))),
                Err(revert) => call_answer(Err(revert), false),
            }
        })
    })?;
    module.register_blocking_method("eth_feeHistory", |params, l1, _| {
        let (count, newest, percentiles): (U64, BlockNumberOrTag, Option<Vec<f64>>) =
            parse(&params, 3)?;
        let percentiles = percentiles.unwrap_or_default();
        if percentiles.len() > 100 {
            return Err(invalid("at most 100 reward percentiles"));
        }
        on(&l1, move |l1| {
            let newest = block_number(l1, Some(newest))
                .ok_or_else(|| server_error("the newest block is past the head"))?;
            let count = count.saturating_to::<u64>().clamp(1, 1024).min(newest + 1);
            to_json(&FeeHistory {
                base_fee_per_gas: vec![0; count as usize + 1],
                gas_used_ratio: vec![0.0; count as usize],
                base_fee_per_blob_gas: Vec::new(),
                blob_gas_used_ratio: Vec::new(),
                oldest_block: newest + 1 - count,
                reward: (!percentiles.is_empty())
                    .then(|| vec![vec![0; percentiles.len()]; count as usize]),
            })
        })
    })?;
    module.register_blocking_method("eth_sendRawTransaction", |params, l1, _| {
        let (raw,): (Bytes,) = parse(&params, 1)?;
        on(&l1, move |l1| {
            to_json(&l1.send_raw(&raw).map_err(l1_error)?)
        })
    })?;
    module.register_blocking_method("eth_getTransactionByHash", |params, l1, _| {
        let (hash,): (B256,) = parse(&params, 1)?;
        on(&l1, move |l1| match l1.transaction(&hash) {
            Some(tx) => to_json(&rpc_transaction(tx)),
            None => Ok(Value::Null),
        })
    })?;
    module.register_blocking_method("eth_getTransactionReceipt", |params, l1, _| {
        let (hash,): (B256,) = parse(&params, 1)?;
        on(&l1, move |l1| match l1.transaction(&hash) {
            Some(tx) => {
                let timestamp = l1.block(tx.block).map(|(t, _)| t).unwrap_or(0);
                to_json(&rpc_receipt(tx, timestamp))
            }
            None => Ok(Value::Null),
        })
    })?;
    module.register_blocking_method("eth_getLogs", |params, l1, _| {
        let (filter,): (Filter,) = parse(&params, 1)?;
        on(&l1, move |l1| get_logs(l1, &filter))
    })?;
    module.register_blocking_method("evm_increaseTime", |params, l1, _| {
        let (seconds,): (U64,) = parse(&params, 1)?;
        let seconds = seconds.saturating_to::<u64>();
        on(&l1, move |l1| {
            l1.advance_time(seconds).map_err(l1_error)?;
            Ok(json!(seconds))
        })
    })?;
    module.register_blocking_method("evm_mine", |_, l1, _| {
        on(&l1, |l1| {
            l1.advance_time(0).map_err(l1_error)?;
            Ok(json!("0x0"))
        })
    })?;
    module.register_blocking_method("anvil_setBalance", |params, l1, _| {
        let (who, wei): (Address, U256) = parse(&params, 2)?;
        on(&l1, move |l1| {
            l1.set_balance(who, wei).map_err(l1_error)?;
            Ok(Value::Null)
        })
    })?;
    Ok(module)
}

/// Serves `l1` on `addr` (port 0: any free one); the bound address and the handle that stops it.
pub async fn serve(addr: SocketAddr, l1: SharedL1) -> Result<(SocketAddr, ServerHandle), String> {
    let module = module(l1).map_err(|e| e.to_string())?;
    eth_api::serve(addr, module, MAX_BODY_BYTES).await
}
