//! The devnet's L1 server (`prover::node::l1_server`) against the project's own JSON-RPC client
//! ([`RpcL1`]) and raw requests: dev methods, signed sends and reads work; a replayed or stale
//! nonce, another chain's transaction, funds short of the value, malformed parameters and an
//! over-wide log range each get a typed JSON-RPC error, nothing runs, and the server goes on.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, Bytes, TxKind, U256};
use alloy::signers::local::PrivateKeySigner;
use prover::node::l1_server::{serve, SharedL1, INVALID_PARAMS, LIMIT_EXCEEDED, SERVER_ERROR};
use serde_json::{json, Value};
use verifier::l1::embedded::{EmbeddedL1, EMBEDDED_CHAIN_ID};
use verifier::l1::rpc::RpcL1;
use verifier::l1::{Wallet, L1};

fn call(addr: SocketAddr, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let mut stream = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or("");
    serde_json::from_str(body).unwrap_or(Value::Null)
}

fn signed_transfer(from: &Wallet, nonce: u64, chain_id: u64, to: Address) -> Vec<u8> {
    let mut tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 1,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(to),
        value: U256::from(5),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let signer = PrivateKeySigner::from_signing_key(from.key().clone());
    let signature = signer.sign_transaction_sync(&mut tx).unwrap();
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

#[test]
fn rpc_l1_works_against_it_and_bad_requests_get_typed_errors() {
    let (l1, ()) = SharedL1::spawn(|| Ok((EmbeddedL1::new()?, ()))).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (addr, handle) = runtime
        .block_on(serve("127.0.0.1:0".parse().unwrap(), l1.clone()))
        .unwrap();

    // The project's own JSON-RPC client: dev methods, signed sends, receipts, reads.
    let mut client = RpcL1::connect(&format!("http://{addr}")).unwrap();
    assert_eq!(client.chain_id(), EMBEDDED_CHAIN_ID);
    let alice = Wallet::from_secret(&[0xA1; 32]).unwrap();
    let bob = Address::with_last_byte(0xB0);
    client
        .set_balance(alice.address(), U256::from(1_000_000u64))
        .unwrap();
    let receipt = client
        .send(&alice, bob, U256::from(7), Vec::new())
        .unwrap()
        .success()
        .unwrap();
    assert_eq!(client.balance(bob).unwrap(), U256::from(7));
    assert_eq!(client.fee(receipt.hash).unwrap(), U256::ZERO);
    let (block, time) = client.head().unwrap();
    client.advance_time(100).unwrap();
    let (later, later_time) = client.head().unwrap();
    assert!(later > block && later_time >= time + 100);

    // Raw transactions: the next nonce runs, a replay or a wrong chain does not.
    let raw = signed_transfer(&alice, 1, EMBEDDED_CHAIN_ID, bob);
    let sent = call(
        addr,
        "eth_sendRawTransaction",
        json!([Bytes::from(raw.clone())]),
    );
    assert!(sent["result"].is_string(), "{sent}");
    assert_eq!(client.balance(bob).unwrap(), U256::from(12));
    let again = call(addr, "eth_sendRawTransaction", json!([Bytes::from(raw)]));
    assert_eq!(again["error"]["code"], json!(SERVER_ERROR), "{again}");
    let stale = signed_transfer(&alice, 0, EMBEDDED_CHAIN_ID, bob);
    let stale = call(addr, "eth_sendRawTransaction", json!([Bytes::from(stale)]));
    assert!(
        stale["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("nonce too low"),
        "{stale}"
    );
    let other_chain = signed_transfer(&alice, 2, 1, bob);
    let other_chain = call(
        addr,
        "eth_sendRawTransaction",
        json!([Bytes::from(other_chain)]),
    );
    assert_eq!(
        other_chain["error"]["code"],
        json!(SERVER_ERROR),
        "{other_chain}"
    );
    let poor = Wallet::from_secret(&[0xC1; 32]).unwrap();
    let poor = signed_transfer(&poor, 0, EMBEDDED_CHAIN_ID, bob);
    let poor = call(addr, "eth_sendRawTransaction", json!([Bytes::from(poor)]));
    assert!(
        poor["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("insufficient funds"),
        "{poor}"
    );
    assert_eq!(client.balance(bob).unwrap(), U256::from(12), "none ran");

    // Garbage of every shape: a typed error each, and the server goes on.
    for (method, params) in [
        ("eth_sendRawTransaction", json!(["0x02c0"])),
        ("eth_sendRawTransaction", json!(["nonsense"])),
        ("eth_sendRawTransaction", json!([])),
        ("eth_getBalance", json!([42])),
        ("eth_getBalance", json!(["0x12", "latest", 3])),
        ("eth_getBlockByNumber", json!({"a": 1})),
        ("eth_getLogs", json!([{"fromBlock": "0xzz"}])),
        ("evm_increaseTime", json!(["-1"])),
    ] {
        let answer = call(addr, method, params.clone());
        let code = answer["error"]["code"].as_i64();
        assert!(
            code == Some(INVALID_PARAMS as i64) || code == Some(SERVER_ERROR as i64),
            "{method} {params}: {answer}"
        );
    }
    let wide = call(
        addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "toBlock": "0xffffffff"}]),
    );
    assert_eq!(wide["error"]["code"], json!(LIMIT_EXCEEDED), "{wide}");
    let past = call(addr, "eth_getBalance", json!([bob, "0x1"]));
    assert_eq!(past["error"]["code"], json!(SERVER_ERROR), "{past}");
    assert_eq!(
        call(addr, "eth_getBlockByNumber", json!(["0xffffff", false]))["result"],
        Value::Null
    );
    assert_eq!(client.balance(bob).unwrap(), U256::from(12));

    handle.stop().unwrap();
    runtime.block_on(handle.stopped());
}

/// A raw transaction is journaled as received: the chain reopened from its journal has run it
/// again as the same sender, under the same hash.
#[test]
fn a_raw_transaction_survives_reopening_the_journal() {
    let path = std::env::temp_dir().join(format!("l1-raw-{}.journal", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let alice = Wallet::from_secret(&[0xA2; 32]).unwrap();
    let bob = Address::with_last_byte(0xB1);
    let hash = {
        let mut l1 = EmbeddedL1::open(&path).unwrap();
        l1.set_balance(alice.address(), U256::from(1_000u64))
            .unwrap();
        let hash = l1
            .send_raw(&signed_transfer(&alice, 0, EMBEDDED_CHAIN_ID, bob))
            .unwrap();
        assert!(l1
            .send_raw(&signed_transfer(&alice, 0, EMBEDDED_CHAIN_ID, bob))
            .is_err());
        hash
    };
    let mut l1 = EmbeddedL1::open(&path).unwrap();
    assert_eq!(l1.balance(bob).unwrap(), U256::from(5));
    assert_eq!(l1.nonce(alice.address()), 1);
    let mined = l1.transaction(&hash).expect("the same hash");
    assert_eq!(mined.from, alice.address());
    assert!(mined.outcome.is_ok());
    std::fs::remove_file(&path).unwrap();
}
