//! The L2's Ethereum JSON-RPC 2.0 over HTTP (jsonrpsee), over an [`EvmChain`]: what wallets,
//! cast, ethers, viem and alloy ask a node for. Reads take the chain's lock for as long as they
//! read; calls and estimates take a snapshot under it and run without it.
//!
//! | method | params | note |
//! |---|---|---|
//! | `eth_chainId`, `net_version`, `web3_clientVersion`, `eth_blockNumber`, `eth_syncing` (false), `eth_accounts` ([]) | — | |
//! | `eth_getBlockByNumber`, `eth_getBlockByHash` | tag or hash, full | `null` for no such block; full transactions or their hashes |
//! | `eth_getBlockTransactionCountByNumber`, `…ByHash` | tag or hash | `null` for no such block |
//! | `eth_getBalance`, `eth_getCode`, `eth_getStorageAt` | address, (slot,) block | the state after any block |
//! | `eth_getTransactionCount` | address, block | `pending` counts the sender's waiting transactions |
//! | `eth_call` | request, block | no gas price: base fee 0; state overrides are refused |
//! | `eth_estimateGas` | request, block | geth's binary search |
//! | `eth_gasPrice`, `eth_maxPriorityFeePerGas`, `eth_feeHistory` | ; ; count, newest, percentiles | next base fee + [`SUGGESTED_TIP`] |
//! | `eth_sendRawTransaction` | EIP-2718 bytes | into the pool; its hash |
//! | `eth_getTransactionByHash` | hash | mined, or waiting (no block fields), or `null` |
//! | `eth_getTransactionReceipt` | hash | `null` until mined |
//! | `eth_getLogs` | filter | at most [`MAX_LOG_RANGE`](super::evm_chain::MAX_LOG_RANGE) blocks |
//!
//! Blocks carry every header field Ethereum's have: the hash and parent hash are the STF's block
//! hashes ([`evm_stf::block`]), `stateRoot` the post-state root of the rollup's trie,
//! `transactionsRoot`, `receiptsRoot` and `logsBloom` computed as Ethereum does, the fee recipient
//! as `miner`, `mixHash` the prevrandao the EVM saw (the parent's hash), and post-merge constants
//! for the rest (no ommers, difficulty 0, no withdrawals or blobs, no beacon root or requests).
//!
//! Errors, as geth: -32602 for parameters that do not parse, -32000 with the txpool's words
//! ([`SubmitError`]) for a refused transaction and `header not found` for an unknown block, 3 with
//! the revert data in `data` (and `execution reverted: <reason>` for an `Error(string)`) for a
//! call that reverts, -32005 for a log range over the limit. Bodies over [`MAX_BODY_BYTES`] are
//! refused before they are parsed.
//!
//! [`evm_stf::block`]: program::evm::evm_stf::block

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use alloy::consensus::constants::{EMPTY_OMMER_ROOT_HASH, EMPTY_ROOT_HASH};
use alloy::consensus::transaction::Recovered;
use alloy::consensus::Transaction as _;
use alloy::eips::eip7685::EMPTY_REQUESTS_HASH;
use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::{Address, Bytes, B256, B64, U256, U64};
use alloy::rlp::Encodable;
use alloy::rpc::types::{
    Block, BlockTransactions, Filter, Header, Transaction, TransactionReceipt, TransactionRequest,
    Withdrawals,
};
use jsonrpsee::server::ServerHandle;
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::{json, Value};

use super::eth_api::{
    self, invalid, parse, quantity, receipt_envelope, reverted, server_error, to_json, RpcResult,
    LIMIT_EXCEEDED,
};
use super::evm_chain::query::Located;
use super::evm_chain::simulate::revert_reason;
use super::evm_chain::{
    CallError, ChainBlock, ChainError, EvmChain, PooledTx, SubmitError, SUGGESTED_TIP,
};

/// The largest request body accepted: a transaction of the pool's largest size, hex-encoded,
/// with room to spare.
pub const MAX_BODY_BYTES: u32 = 1024 * 1024;

/// The chain, shared by the RPC and whoever produces its blocks.
pub type SharedChain = Arc<Mutex<EvmChain>>;

/// The chain, locked. A panic while it was held leaves nothing half-done that a read could see
/// (a block is recorded only after its run), so a poisoned lock's chain is still sound.
pub fn lock_chain(chain: &SharedChain) -> MutexGuard<'_, EvmChain> {
    chain
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running server: its bound address and the handle that stops it.
pub struct EthRpcServer {
    addr: SocketAddr,
    handle: ServerHandle,
}

impl EthRpcServer {
    /// Serves `chain` on `addr` (port 0: any free one). Call within a tokio runtime, which the
    /// server then runs on.
    pub async fn start(addr: SocketAddr, chain: SharedChain) -> Result<EthRpcServer, String> {
        let module = module(chain).map_err(|e| e.to_string())?;
        let (addr, handle) = eth_api::serve(addr, module, MAX_BODY_BYTES).await?;
        Ok(EthRpcServer { addr, handle })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops it and waits until it has.
    pub async fn stop(self) {
        let _ = self.handle.stop();
        self.handle.stopped().await;
    }
}

fn chain_error(error: ChainError) -> ErrorObjectOwned {
    match error {
        ChainError::LogRangeTooWide => {
            jsonrpsee::types::ErrorObject::owned(LIMIT_EXCEEDED, error.to_string(), None::<()>)
        }
        ChainError::InvalidPercentiles(_) => invalid(error),
        other => server_error(other),
    }
}

fn call_error(error: CallError) -> ErrorObjectOwned {
    match error {
        CallError::Reverted(data) => reverted(revert_reason(&data).as_deref(), &data),
        other => server_error(other),
    }
}

pub fn submit_error(error: SubmitError) -> ErrorObjectOwned {
    server_error(error)
}

fn rpc_block(block: &ChainBlock, full: bool) -> Block {
    let header = &block.header;
    let inner = alloy::consensus::Header {
        parent_hash: header.parent_hash,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: header.fee_recipient,
        state_root: B256::from(block.state_root),
        transactions_root: block.transactions_root,
        receipts_root: block.receipts_root,
        logs_bloom: block.logs_bloom,
        difficulty: U256::ZERO,
        number: header.number,
        gas_limit: header.gas_limit,
        gas_used: header.gas_used,
        timestamp: header.timestamp,
        extra_data: Bytes::new(),
        mix_hash: header.parent_hash,
        nonce: B64::ZERO,
        base_fee_per_gas: Some(header.base_fee),
        withdrawals_root: Some(EMPTY_ROOT_HASH),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        requests_hash: Some(EMPTY_REQUESTS_HASH),
        ..Default::default()
    };
    // The RLP of header, transactions and (empty) ommers and withdrawals lists, as Ethereum's.
    let size = inner.length() as u64 + block.transactions_size + 8;
    let transactions = match full {
        true => BlockTransactions::Full(
            (0..block.transactions.len())
                .filter_map(|index| {
                    Some(rpc_transaction(Located {
                        block,
                        index,
                        tx: block.transactions.get(index)?,
                    }))
                })
                .collect(),
        ),
        false => BlockTransactions::Hashes(block.transactions.iter().map(|tx| tx.hash).collect()),
    };
    Block {
        header: Header {
            hash: block.hash,
            inner,
            total_difficulty: Some(U256::ZERO),
            size: Some(U256::from(size)),
        },
        uncles: Vec::new(),
        transactions,
        withdrawals: Some(Withdrawals::default()),
    }
}

fn rpc_transaction(at: Located<'_>) -> Transaction {
    Transaction {
        inner: Recovered::new_unchecked(at.tx.envelope.clone(), at.tx.sender),
        block_hash: Some(at.block.hash),
        block_number: Some(at.block.header.number),
        transaction_index: Some(at.index as u64),
        effective_gas_price: Some(at.tx.effective_gas_price),
        block_timestamp: Some(at.block.header.timestamp),
    }
}

/// A waiting transaction: no block yet.
fn rpc_pending_transaction(tx: &PooledTx) -> Transaction {
    Transaction {
        inner: Recovered::new_unchecked(tx.envelope.clone(), tx.sender),
        block_hash: None,
        block_number: None,
        transaction_index: None,
        effective_gas_price: None,
        block_timestamp: None,
    }
}

fn rpc_receipt(at: Located<'_>) -> TransactionReceipt {
    let tx = at.tx;
    TransactionReceipt {
        inner: receipt_envelope(
            tx.envelope.tx_type(),
            tx.success,
            tx.cumulative_gas_used,
            at.block.rpc_logs(at.index),
        ),
        transaction_hash: tx.hash,
        transaction_index: Some(at.index as u64),
        block_hash: Some(at.block.hash),
        block_number: Some(at.block.header.number),
        gas_used: tx.gas_used,
        effective_gas_price: tx.effective_gas_price,
        blob_gas_used: None,
        blob_gas_price: None,
        from: tx.sender,
        to: tx.envelope.to(),
        contract_address: tx.contract_address,
    }
}

const LATEST: BlockId = BlockId::Number(BlockNumberOrTag::Latest);

/// A block by tag, number or hash: `null` when the chain has none.
fn block_answer(chain: &EvmChain, id: BlockId, full: bool) -> RpcResult {
    match chain.resolve(id).and_then(|number| chain.block(number)) {
        Some(block) => to_json(&rpc_block(block, full)),
        None => Ok(Value::Null),
    }
}

fn transaction_count_answer(chain: &EvmChain, id: BlockId) -> RpcResult {
    match chain.resolve(id).and_then(|number| chain.block(number)) {
        Some(block) => Ok(quantity(block.transactions.len() as u64)),
        None => Ok(Value::Null),
    }
}

/// The methods, over `chain`.
pub fn module(
    chain: SharedChain,
) -> Result<RpcModule<SharedChain>, jsonrpsee::core::RegisterMethodError> {
    let chain_id = lock_chain(&chain).chain_id();
    let mut module = RpcModule::new(chain);
    module.register_method("web3_clientVersion", |_, _, _| {
        Ok::<Value, ErrorObjectOwned>(json!(concat!("hauptbuch/", env!("CARGO_PKG_VERSION"))))
    })?;
    module.register_method("net_version", move |_, _, _| {
        Ok::<Value, ErrorObjectOwned>(json!(chain_id.to_string()))
    })?;
    module.register_method("eth_chainId", move |_, _, _| {
        Ok::<Value, ErrorObjectOwned>(quantity(chain_id))
    })?;
    module.register_method("eth_syncing", |_, _, _| {
        Ok::<Value, ErrorObjectOwned>(json!(false))
    })?;
    module.register_method("eth_accounts", |_, _, _| {
        Ok::<Value, ErrorObjectOwned>(json!([]))
    })?;
    module.register_blocking_method("eth_blockNumber", |_, chain, _| -> RpcResult {
        Ok(quantity(lock_chain(&chain).block_number()))
    })?;
    module.register_blocking_method("eth_gasPrice", |_, chain, _| -> RpcResult {
        to_json(&U256::from(lock_chain(&chain).gas_price()))
    })?;
    module.register_method("eth_maxPriorityFeePerGas", |_, _, _| -> RpcResult {
        to_json(&U256::from(SUGGESTED_TIP))
    })?;
    module.register_blocking_method("eth_getBlockByNumber", |params, chain, _| -> RpcResult {
        let (tag, full): (BlockNumberOrTag, Option<bool>) = parse(&params, 2)?;
        block_answer(
            &lock_chain(&chain),
            BlockId::Number(tag),
            full.unwrap_or(false),
        )
    })?;
    module.register_blocking_method("eth_getBlockByHash", |params, chain, _| -> RpcResult {
        let (hash, full): (B256, Option<bool>) = parse(&params, 2)?;
        block_answer(
            &lock_chain(&chain),
            BlockId::from(hash),
            full.unwrap_or(false),
        )
    })?;
    module.register_blocking_method(
        "eth_getBlockTransactionCountByNumber",
        |params, chain, _| -> RpcResult {
            let (tag,): (BlockNumberOrTag,) = parse(&params, 1)?;
            transaction_count_answer(&lock_chain(&chain), BlockId::Number(tag))
        },
    )?;
    module.register_blocking_method(
        "eth_getBlockTransactionCountByHash",
        |params, chain, _| -> RpcResult {
            let (hash,): (B256,) = parse(&params, 1)?;
            transaction_count_answer(&lock_chain(&chain), BlockId::from(hash))
        },
    )?;
    module.register_blocking_method("eth_getBalance", |params, chain, _| -> RpcResult {
        let (who, block): (Address, Option<BlockId>) = parse(&params, 2)?;
        let account = lock_chain(&chain)
            .account(&who, block.unwrap_or(LATEST))
            .map_err(chain_error)?;
        to_json(&account.map(|leaf| leaf.balance).unwrap_or_default())
    })?;
    module.register_blocking_method(
        "eth_getTransactionCount",
        |params, chain, _| -> RpcResult {
            let (who, block): (Address, Option<BlockId>) = parse(&params, 2)?;
            let chain = lock_chain(&chain);
            let nonce = match block {
                Some(BlockId::Number(BlockNumberOrTag::Pending)) => chain.pending_nonce(&who),
                block => chain
                    .account(&who, block.unwrap_or(LATEST))
                    .map(|account| account.map(|leaf| leaf.nonce).unwrap_or_default()),
            }
            .map_err(chain_error)?;
            Ok(quantity(nonce))
        },
    )?;
    module.register_blocking_method("eth_getCode", |params, chain, _| -> RpcResult {
        let (who, block): (Address, Option<BlockId>) = parse(&params, 2)?;
        let code = lock_chain(&chain)
            .code(&who, block.unwrap_or(LATEST))
            .map_err(chain_error)?;
        to_json(&Bytes::from(code))
    })?;
    module.register_blocking_method("eth_getStorageAt", |params, chain, _| -> RpcResult {
        let (who, slot, block): (Address, U256, Option<BlockId>) = parse(&params, 3)?;
        let value = lock_chain(&chain)
            .storage(&who, slot, block.unwrap_or(LATEST))
            .map_err(chain_error)?;
        to_json(&B256::from(value))
    })?;
    module.register_blocking_method("eth_call", |params, chain, _| -> RpcResult {
        let (request, block, overrides): (TransactionRequest, Option<BlockId>, Option<Value>) =
            parse(&params, 3)?;
        if overrides.is_some_and(|overrides| !overrides.is_null()) {
            return Err(invalid("state overrides are not supported"));
        }
        let snapshot = lock_chain(&chain)
            .snapshot(block.unwrap_or(LATEST))
            .map_err(chain_error)?;
        to_json(&snapshot.call(&request).map_err(call_error)?)
    })?;
    module.register_blocking_method("eth_estimateGas", |params, chain, _| -> RpcResult {
        let (request, block): (TransactionRequest, Option<BlockId>) = parse(&params, 2)?;
        let snapshot = lock_chain(&chain)
            .snapshot(block.unwrap_or(LATEST))
            .map_err(chain_error)?;
        Ok(quantity(
            snapshot.estimate_gas(&request).map_err(call_error)?,
        ))
    })?;
    module.register_blocking_method("eth_feeHistory", |params, chain, _| -> RpcResult {
        let (count, newest, percentiles): (U64, BlockNumberOrTag, Option<Vec<f64>>) =
            parse(&params, 3)?;
        let history = lock_chain(&chain)
            .fee_history(
                count.saturating_to(),
                newest,
                &percentiles.unwrap_or_default(),
            )
            .map_err(chain_error)?;
        to_json(&history)
    })?;
    module.register_blocking_method("eth_sendRawTransaction", |params, chain, _| -> RpcResult {
        let (raw,): (Bytes,) = parse(&params, 1)?;
        let hash = lock_chain(&chain).submit(&raw).map_err(submit_error)?;
        to_json(&hash)
    })?;
    module.register_blocking_method(
        "eth_getTransactionByHash",
        |params, chain, _| -> RpcResult {
            let (hash,): (B256,) = parse(&params, 1)?;
            let chain = lock_chain(&chain);
            if let Some(at) = chain.transaction(&hash) {
                return to_json(&rpc_transaction(at));
            }
            match chain.pool().get(&hash) {
                Some(waiting) => to_json(&rpc_pending_transaction(waiting)),
                None => Ok(Value::Null),
            }
        },
    )?;
    module.register_blocking_method(
        "eth_getTransactionReceipt",
        |params, chain, _| -> RpcResult {
            let (hash,): (B256,) = parse(&params, 1)?;
            match lock_chain(&chain).receipt(&hash) {
                Some(at) => to_json(&rpc_receipt(at)),
                None => Ok(Value::Null),
            }
        },
    )?;
    module.register_blocking_method("eth_getLogs", |params, chain, _| -> RpcResult {
        let (filter,): (Filter,) = parse(&params, 1)?;
        to_json(&lock_chain(&chain).logs(&filter).map_err(chain_error)?)
    })?;
    Ok(module)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use alloy::primitives::{keccak256, TxKind};
    use alloy_sol_types::SolCall;
    use program::evm::evm_stf::system::WITHDRAWALS;
    use serde_json::json;

    use super::*;
    use crate::node::eth_api::testing::{call, post};
    use crate::node::eth_api::{EXECUTION_REVERTED, INVALID_PARAMS, SERVER_ERROR};
    use crate::node::evm_chain::tests::{
        address, chain, key, produce, signed, transfer_to, tx, withdrawCall, ETH, GWEI,
    };

    fn hex(bytes: &[u8]) -> String {
        Bytes::copy_from_slice(bytes).to_string()
    }

    fn error_of(answer: &Value) -> (i64, String) {
        (
            answer["error"]["code"].as_i64().unwrap_or_default(),
            answer["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    }

    #[test]
    fn geths_shapes_codes_and_words() {
        let shared: SharedChain = Arc::new(Mutex::new(chain()));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let server = runtime
            .block_on(EthRpcServer::start(
                "127.0.0.1:0".parse().unwrap(),
                shared.clone(),
            ))
            .unwrap();
        let addr = server.addr();
        let (alice, bob) = (key(0), key(1));
        let carol = Address::repeat_byte(0xca);

        assert_eq!(
            call(addr, "eth_chainId", json!([]))["result"],
            json!("0x385")
        );
        assert_eq!(call(addr, "net_version", json!([]))["result"], json!("901"));
        assert_eq!(call(addr, "eth_syncing", json!([]))["result"], json!(false));
        assert_eq!(
            call(addr, "eth_blockNumber", json!([]))["result"],
            json!("0x0")
        );

        // Into the pool: its hash, then geth's words for what it refuses.
        let pay = transfer_to(&alice, 0, carol, 5);
        let sent = call(addr, "eth_sendRawTransaction", json!([hex(&pay)]));
        assert_eq!(sent["result"], json!(keccak256(&pay).to_string()));
        let again = call(addr, "eth_sendRawTransaction", json!([hex(&pay)]));
        assert_eq!(
            error_of(&again),
            (SERVER_ERROR as i64, "already known".into())
        );
        let gapless = call(
            addr,
            "eth_getTransactionCount",
            json!([address(&alice).to_string(), "pending"]),
        );
        assert_eq!(gapless["result"], json!("0x1"));
        let waiting = call(addr, "eth_getTransactionByHash", json!([keccak256(&pay)]));
        assert_eq!(waiting["result"]["blockHash"], Value::Null);
        assert_eq!(
            waiting["result"]["from"],
            json!(address(&alice).to_string().to_lowercase())
        );
        assert_eq!(
            call(addr, "eth_getTransactionReceipt", json!([keccak256(&pay)]))["result"],
            Value::Null
        );
        let withdraw_input = withdrawCall { l1Recipient: carol }.abi_encode();
        let deploy = signed(
            &bob,
            tx(
                0,
                TxKind::Call(WITHDRAWALS),
                ETH,
                withdraw_input.clone(),
                100_000,
            ),
        );
        call(addr, "eth_sendRawTransaction", json!([hex(&deploy)]));
        let block = produce(&mut lock_chain(&shared), &[]);

        let receipt =
            call(addr, "eth_getTransactionReceipt", json!([keccak256(&pay)]))["result"].clone();
        assert_eq!(receipt["status"], json!("0x1"));
        assert_eq!(receipt["blockNumber"], json!("0x1"));
        assert_eq!(receipt["blockHash"], json!(block.hash.to_string()));
        assert_eq!(receipt["gasUsed"], json!("0x5208"));
        assert_eq!(
            receipt["effectiveGasPrice"],
            json!(format!("{:#x}", 2 * GWEI))
        );
        assert_eq!(receipt["type"], json!("0x2"));
        let full = call(addr, "eth_getBlockByNumber", json!(["latest", true]))["result"].clone();
        assert_eq!(full["hash"], json!(block.hash.to_string()));
        assert_eq!(full["number"], json!("0x1"));
        assert_eq!(
            full["miner"],
            json!(Address::repeat_byte(0xfe).to_string().to_lowercase())
        );
        assert_eq!(
            full["stateRoot"],
            json!(B256::from(block.state_root).to_string())
        );
        assert_eq!(full["baseFeePerGas"], json!("0x3b9aca00"));
        assert_eq!(
            full["transactions"][0]["hash"],
            json!(keccak256(&pay).to_string())
        );
        assert_eq!(full["transactions"].as_array().map(Vec::len), Some(2));
        let by_hash =
            call(addr, "eth_getBlockByHash", json!([block.hash, false]))["result"].clone();
        assert_eq!(
            by_hash["transactions"][1],
            json!(keccak256(&deploy).to_string())
        );
        assert_eq!(
            by_hash["parentHash"],
            call(addr, "eth_getBlockByNumber", json!(["earliest", false]))["result"]["hash"]
        );
        assert_eq!(
            call(addr, "eth_getBlockTransactionCountByNumber", json!(["0x1"]))["result"],
            json!("0x2")
        );
        assert_eq!(
            call(addr, "eth_getBlockByNumber", json!(["0x99", false]))["result"],
            Value::Null
        );
        assert_eq!(
            error_of(&call(addr, "eth_getBalance", json!([carol, "0x99"]))),
            (SERVER_ERROR as i64, "header not found".into())
        );
        assert_eq!(
            call(addr, "eth_getBalance", json!([carol]))["result"],
            json!("0x5")
        );
        assert_eq!(
            call(addr, "eth_getBalance", json!([carol, "0x0"]))["result"],
            json!("0x0")
        );

        // A call that reverts: code 3, the data in `data`, and an Error(string)'s reason in the
        // message.
        let nothing = json!({"from": carol, "to": WITHDRAWALS, "data": hex(&withdraw_input)});
        let reverted = call(addr, "eth_call", json!([nothing, "latest"]));
        assert_eq!(
            error_of(&reverted),
            (EXECUTION_REVERTED as i64, "execution reverted".into())
        );
        let zero_withdrawal = &keccak256("ZeroWithdrawal()")[..4];
        assert_eq!(reverted["error"]["data"], json!(hex(zero_withdrawal)));
        let estimate = call(addr, "eth_estimateGas", json!([nothing]));
        assert_eq!(error_of(&estimate).0, EXECUTION_REVERTED as i64);
        let reason =
            alloy_sol_types::SolError::abi_encode(&alloy_sol_types::Revert::from("no way"));
        let error = call_error(CallError::Reverted(reason.clone().into()));
        assert_eq!(
            (error.code(), error.message()),
            (EXECUTION_REVERTED, "execution reverted: no way")
        );
        assert_eq!(
            error.data().map(|data| data.get().to_string()),
            Some(json!(hex(&reason)).to_string())
        );
        assert_eq!(
            call(
                addr,
                "eth_estimateGas",
                json!([{"from": carol, "to": address(&bob)}])
            )["result"],
            json!("0x5208")
        );
        let range = call(
            addr,
            "eth_getLogs",
            json!([{"fromBlock": "0x0", "toBlock": "0x4e20"}]),
        );
        assert_eq!(error_of(&range).0, LIMIT_EXCEEDED as i64);
        let history =
            call(addr, "eth_feeHistory", json!(["0x2", "latest", [50]]))["result"].clone();
        assert_eq!(history["oldestBlock"], json!("0x0"));
        assert_eq!(history["baseFeePerGas"].as_array().map(Vec::len), Some(3));

        // Parameters of the wrong shape: typed errors on every method; nothing panics or stops.
        let methods = [
            "eth_getBlockByNumber",
            "eth_getBlockByHash",
            "eth_getBlockTransactionCountByNumber",
            "eth_getBlockTransactionCountByHash",
            "eth_getBalance",
            "eth_getTransactionCount",
            "eth_getCode",
            "eth_getStorageAt",
            "eth_call",
            "eth_estimateGas",
            "eth_feeHistory",
            "eth_sendRawTransaction",
            "eth_getTransactionByHash",
            "eth_getTransactionReceipt",
            "eth_getLogs",
        ];
        let garbage = [
            json!([42, 43, 44, 45]),
            json!({"a": 1}),
            json!(["0xzz"]),
            json!([{"to": 5}]),
            json!(["0x", "0x", "0x"]),
            json!([[], {}, null]),
        ];
        for method in methods {
            for params in &garbage {
                let answer = call(addr, method, params.clone());
                // A typed error, or (where the shape happens to parse) an answer.
                let code = error_of(&answer).0;
                assert!(
                    code == INVALID_PARAMS as i64
                        || code == SERVER_ERROR as i64
                        || answer.get("result").is_some(),
                    "{method} {params}: {answer}"
                );
                if params == &garbage[0] {
                    assert_eq!(code, INVALID_PARAMS as i64, "too many: {method}");
                }
            }
        }
        let (status, _) = post(addr, &vec![b' '; MAX_BODY_BYTES as usize + 10]);
        assert!(status.contains("413"), "{status}");
        assert_eq!(
            call(addr, "eth_blockNumber", json!([]))["result"],
            json!("0x1")
        );

        runtime.block_on(server.stop());
    }
}
