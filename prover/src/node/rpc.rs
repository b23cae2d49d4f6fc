//! The node's JSON-RPC 2.0 interface over HTTP (jsonrpsee). Every node serves the reads; a
//! sequencer also takes signed transactions into its mempool, durable before it answers.
//!
//! On an EVM rollup the node serves Ethereum's JSON-RPC ([`eth_rpc`](super::eth_rpc), with
//! `eth_sendRawTransaction` durable before it answers: [`evm_node`](super::evm_node)) and, of
//! these, `hb_getWithdrawal` (with every withdrawal of the transaction under `withdrawals`),
//! `hb_latestBatch` and `hb_syncStatus` (`stf` says which); on the ledger, all of them.
//!
//! | method | params | result |
//! |---|---|---|
//! | `hb_getBalance` | address (0x + 40 hex) | `{"balance": "<wei, decimal>", "nonce": n, "pending_nonce": n}` at the head (`pending_nonce` counts the mempool) |
//! | `hb_getReceipt` | transaction hash | `{"batch", "position", "status"}` or `null` |
//! | `hb_getWithdrawal` | transaction hash | `{"batch", "recipient", "amount", "index", "position", "proof"}` or `null` (`proof`: the outbox siblings, leaf up) |
//! | `hb_latestBatch` | — | `{"batch", "state_root", "assertion", "assertion_batch", "assertion_status", "confirmed_assertion", "confirmed_batch"}` |
//! | `hb_syncStatus` | — | `{"chain_id", "stf", "sequencer", "batch", "l1_cursor", "l1_batches", "mempool"}` (EVM: also `"block"`, `"safe_block"`) |
//! | `hb_sendTransaction` | encoded transaction (0x + hex) | its hash; on a sequencer, or a validator standing in for a silent one (`sequencer` in `hb_syncStatus`) |
//!
//! Errors: the standard JSON-RPC codes for malformed JSON (-32700), unknown methods (-32601) and
//! bad parameters (-32602); a refused transaction is -32003 with the reason in `message` and
//! `data.reason`; a node that does not take transactions refuses `hb_sendTransaction` with -32004; a store
//! failure is -32000. Bodies over [`MAX_BODY_BYTES`] are refused before they are parsed.

use std::net::SocketAddr;

use jsonrpsee::server::ServerHandle;
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned, Params};
use jsonrpsee::RpcModule;
use program::ledger::Hash;
use serde_json::{json, Value};

use super::admission::{Admissions, NotAdmitted};
use super::eth_rpc::{lock_chain, SharedChain};
use super::state::{lock_state, Shared};
use super::store::StoredWithdrawal;

/// The largest request body accepted: a batch call of a few hundred transactions.
pub const MAX_BODY_BYTES: u32 = 256 * 1024;

pub const STORE_FAILED: i32 = -32000;
pub const TRANSACTION_REFUSED: i32 = -32003;
pub const NOT_A_SEQUENCER: i32 = -32004;

/// What the RPC methods see: the node's state, and on a sequencer the mempool's committer.
pub struct Context {
    pub state: Shared,
    pub admissions: Admissions,
    /// The L2 chain, on an EVM rollup.
    pub chain: Option<SharedChain>,
}

fn invalid(what: &str) -> ErrorObjectOwned {
    ErrorObject::owned(-32602, format!("invalid params: {what}"), None::<()>)
}

fn store_failed(e: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObject::owned(STORE_FAILED, format!("store: {e}"), None::<()>)
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    let digits = text.strip_prefix("0x")?;
    if digits.len() % 2 != 0 {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{digits}")
}

fn fixed<const N: usize>(params: &Params, what: &str) -> Result<[u8; N], ErrorObjectOwned> {
    let text: String = params.one().map_err(|_| invalid(what))?;
    hex_bytes(&text)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| invalid(what))
}

/// The methods, over `state`.
pub fn module(
    context: Context,
) -> Result<RpcModule<Context>, jsonrpsee::core::RegisterMethodError> {
    let evm = context.chain.is_some();
    let mut module = RpcModule::new(context);
    if !evm {
        ledger_methods(&mut module)?;
    }
    module.register_method("hb_getWithdrawal", |params, context, _| {
        let state = &context.state;
        let tx: Hash = fixed(&params, "a transaction hash, 0x + 64 hex digits")?;
        let node = lock_state(state);
        if context.chain.is_some() {
            return super::evm_node::withdrawals_answer(&node.db, &tx);
        }
        let withdrawal = node.db.withdrawal(&tx).map_err(store_failed)?;
        Ok::<Value, ErrorObjectOwned>(match withdrawal {
            Some(w) => withdrawal_json(&w),
            None => Value::Null,
        })
    })?;
    module.register_method("hb_latestBatch", |_, context, _| {
        let state = &context.state;
        let node = lock_state(state);
        let head = node.db.head().map_err(store_failed)?;
        let l1 = &node.l1;
        Ok::<Value, ErrorObjectOwned>(json!({
            "batch": head.batch,
            "state_root": hex(&head.state_root),
            "assertion": l1.latest_assertion,
            "assertion_batch": l1.latest_assertion_batch,
            "assertion_status": l1.latest_assertion_status,
            "confirmed_assertion": l1.confirmed_assertion,
            "confirmed_batch": l1.confirmed_batch,
        }))
    })?;
    module.register_method("hb_syncStatus", |_, context, _| {
        let state = &context.state;
        let node = lock_state(state);
        let head = node.db.head().map_err(store_failed)?;
        let mut status = json!({
            "chain_id": node.chain_id,
            "stf": if context.chain.is_some() { "evm" } else { "ledger" },
            "sequencer": node.accepts_transactions,
            "batch": head.batch,
            "l1_cursor": node.db.l1_cursor().map_err(store_failed)?,
            "l1_batches": node.l1.posted_batches,
            "mempool": node.db.mempool_len().map_err(store_failed)?,
        });
        if let Some(chain) = &context.chain {
            status["block"] = json!(lock_chain(chain).block_number());
            status["safe_block"] = json!(node.db.safe_block().map_err(store_failed)?);
        }
        Ok::<Value, ErrorObjectOwned>(status)
    })?;
    Ok(module)
}

/// The ledger's own methods: balances, receipts and transactions in its encoding.
fn ledger_methods(
    module: &mut RpcModule<Context>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_method("hb_getBalance", |params, context, _| {
        let state = &context.state;
        let address: [u8; 20] = fixed(&params, "an address, 0x + 40 hex digits")?;
        let node = lock_state(state);
        let head = node.db.head().map_err(store_failed)?;
        let account = node
            .db
            .nodes()
            .account(&head.state_root, &address)
            .map_err(store_failed)?;
        Ok::<Value, ErrorObjectOwned>(json!({
            "balance": account.balance.to_string(),
            "nonce": account.nonce,
            "pending_nonce": account.nonce.saturating_add(node.pending.waiting(&address)),
        }))
    })?;
    module.register_method("hb_getReceipt", |params, context, _| {
        let state = &context.state;
        let tx: Hash = fixed(&params, "a transaction hash, 0x + 64 hex digits")?;
        let node = lock_state(state);
        let receipt = node.db.receipt(&tx).map_err(store_failed)?;
        Ok::<Value, ErrorObjectOwned>(match receipt {
            Some(r) => json!({"batch": r.batch, "position": r.position, "status": r.status}),
            None => Value::Null,
        })
    })?;
    module.register_async_method("hb_sendTransaction", |params, context, _| async move {
        let text: String = params
            .one()
            .map_err(|_| invalid("an encoded transaction, 0x + hex"))?;
        let bytes = hex_bytes(&text).ok_or_else(|| invalid("an encoded transaction, 0x + hex"))?;
        if !lock_state(&context.state).accepts_transactions {
            return Err(not_a_sequencer());
        }
        let admissions = &context.admissions;
        // On disk before the answer: an acknowledged transaction survives a crash.
        match admissions.admit(bytes).await {
            Ok(hash) => Ok::<String, ErrorObjectOwned>(hex(&hash)),
            Err(NotAdmitted::Refused(refusal)) => Err(ErrorObject::owned(
                TRANSACTION_REFUSED,
                refusal.to_string(),
                Some(json!({ "reason": refusal.to_string() })),
            )),
            Err(other) => Err(store_failed(other)),
        }
    })?;
    Ok(())
}

/// The refusal of a node that does not take transactions now.
pub fn not_a_sequencer() -> ErrorObjectOwned {
    ErrorObject::owned(
        NOT_A_SEQUENCER,
        "this node is not a sequencer (a validator takes transactions once the sequencer has been silent past its timeout)",
        None::<()>,
    )
}

/// A withdrawal as `hb_getWithdrawal` gives it.
pub fn withdrawal_json(w: &StoredWithdrawal) -> Value {
    json!({
        "batch": w.batch,
        "recipient": hex(&w.l1_recipient),
        "amount": w.amount.to_string(),
        "index": w.index,
        "position": w.position,
        "proof": w.proof.iter().map(|s| hex(s)).collect::<Vec<_>>(),
    })
}

/// Serves `state` on `addr` (port 0: any free one); the bound address and the handle that stops it.
/// A sequencer's node also starts the mempool's committer (it stops with the server). With
/// `chain` (an EVM rollup) the Ethereum JSON-RPC is served beside the `hb_*` methods.
pub async fn serve(
    addr: SocketAddr,
    state: Shared,
    chain: Option<SharedChain>,
) -> Result<(SocketAddr, ServerHandle), String> {
    // Every node can take transactions: a validator does once the sequencer is gone.
    let admissions = Admissions::start(state.clone(), chain.clone())
        .map_err(|e| format!("cannot start the mempool committer: {e}"))?
        .0;
    let mut module = module(Context {
        state: state.clone(),
        admissions: admissions.clone(),
        chain: chain.clone(),
    })
    .map_err(|e| e.to_string())?;
    let max_body = match &chain {
        Some(chain) => {
            let eth = super::evm_node::eth_module(state, chain.clone(), admissions)
                .map_err(|e| e.to_string())?;
            module.merge(eth).map_err(|e| e.to_string())?;
            super::eth_rpc::MAX_BODY_BYTES
        }
        None => MAX_BODY_BYTES,
    };
    super::eth_api::serve(addr, module, max_body).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::node::eth_api::testing::{call, post};
    use crate::node::mempool::Pending;
    use crate::node::state::NodeState;
    use crate::node::store::{BatchCommit, Head, NodeDb};
    use program::{address_of, genesis, sign_transfer, SigningKey};

    const CHAIN: u64 = 5;

    #[test]
    fn reads_admissions_and_every_kind_of_bad_input() {
        let dir = std::env::temp_dir().join(format!("node-rpc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let alice = SigningKey::from_slice(&[0xA1; 32]).unwrap();
        let (root, nodes) = genesis(&[(address_of(&alice), 1_000)]);
        let mut db = NodeDb::open(&dir).unwrap();
        db.commit_batch(BatchCommit {
            head: Head {
                batch: 0,
                state_root: root,
            },
            new_nodes: nodes.iter().map(|(_, node)| node.to_vec()).collect(),
            ..BatchCommit::default()
        })
        .unwrap();
        let state = Arc::new(Mutex::new(NodeState {
            db,
            chain_id: CHAIN,
            accepts_transactions: true,
            pending: Pending::default(),
            l1: Default::default(),
            senders: Default::default(),
            recovered: None,
            next_batch: None,
        }));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (addr, handle) = runtime
            .block_on(serve("127.0.0.1:0".parse().unwrap(), state.clone(), None))
            .unwrap();

        let balance = call(addr, "hb_getBalance", json!([hex(&address_of(&alice))]));
        assert_eq!(
            balance["result"],
            json!({"balance": "1000", "nonce": 0, "pending_nonce": 0})
        );
        let tx = sign_transfer(&alice, CHAIN, [2; 20], 10, 0)
            .to_bytes()
            .unwrap();
        let sent = call(addr, "hb_sendTransaction", json!([hex(&tx)]));
        let hash = sent["result"].as_str().expect("a hash").to_string();
        assert_eq!(hash, hex(&program::keccak256(&tx)));
        assert_eq!(
            state.lock().unwrap().db.mempool_len().unwrap(),
            1,
            "on disk"
        );

        // Replayed, forged, malformed: a JSON-RPC error each, with its reason.
        let replay = call(addr, "hb_sendTransaction", json!([hex(&tx)]));
        assert_eq!(replay["error"]["code"], json!(TRANSACTION_REFUSED));
        assert!(replay["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nonce"));
        let mut forged = tx.clone();
        forged[30] ^= 1;
        let refused = call(addr, "hb_sendTransaction", json!([hex(&forged)]));
        assert_eq!(refused["error"]["code"], json!(TRANSACTION_REFUSED));
        let malformed = call(addr, "hb_sendTransaction", json!(["0xff01"]));
        assert_eq!(malformed["error"]["code"], json!(TRANSACTION_REFUSED));
        // Wrong types and shapes of parameters.
        for params in [json!([42]), json!(["0x12"]), json!([]), json!({"a": 1})] {
            let bad = call(addr, "hb_getBalance", params.clone());
            assert_eq!(bad["error"]["code"], json!(-32602), "{params}");
        }
        // Not JSON, an unknown method, an oversized body.
        let (_, body) = post(addr, b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\"");
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["error"]["code"], json!(-32700));
        let unknown = call(addr, "eth_mine", json!([]));
        assert_eq!(unknown["error"]["code"], json!(-32601));
        let huge = vec![b' '; MAX_BODY_BYTES as usize + 10];
        let (status, _) = post(addr, &huge);
        assert!(status.contains("413"), "{status}");

        // And it keeps serving.
        let latest = call(addr, "hb_latestBatch", json!([]));
        assert_eq!(latest["result"]["state_root"], json!(hex(&root)));
        let status = call(addr, "hb_syncStatus", json!([]));
        assert_eq!(status["result"]["mempool"], json!(1));
        assert_eq!(
            call(addr, "hb_getReceipt", json!([hash]))["result"],
            Value::Null
        );

        handle.stop().unwrap();
        runtime.block_on(handle.stopped());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
