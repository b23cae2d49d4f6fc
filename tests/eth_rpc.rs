//! The L2's Ethereum JSON-RPC end to end with real clients: an `EvmChain` on the rollup genesis
//! (funded keys, the withdrawal predeploy) behind `EthRpcServer`, a block every 200 ms from a
//! background thread, and then alloy's provider and foundry's `cast` (npm `@foundry-rs/cast`,
//! pinned beside anvil) each doing what a user does: chain id, balance, an ETH transfer waited
//! for, DemoToken deployed, called and transferred, its Transfer events read back, a revert with
//! its reason, and a withdrawal through the predeploy with its event in the receipt.

#[path = "common/anvil.rs"]
mod anvil_node;
#[path = "common/l2.rs"]
mod l2;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy_sol_types::{sol, SolCall, SolEvent, SolValue};
use l2::*;
use program::evm::evm_stf::system::{WITHDRAWALS, WITHDRAWAL_EVENT};
use prover::node::eth_rpc::{lock_chain, EthRpcServer, SharedChain};
use prover::node::evm_chain::EvmChain;
use serde_json::Value;

sol! {
    event Transfer(address indexed from, address indexed to, uint256 value);
}

const FEE_RECIPIENT: Address = Address::repeat_byte(0xfe);

/// A chain served on loopback, a block every 200 ms; all of it stopped when dropped.
struct ServedChain {
    chain: SharedChain,
    runtime: Option<tokio::runtime::Runtime>,
    server: Option<EthRpcServer>,
    stop: Arc<AtomicBool>,
    producer: Option<JoinHandle<()>>,
}

impl ServedChain {
    fn start(funded: &[Address]) -> ServedChain {
        let (root, head, store) = genesis_with_head(funded);
        // A block every tick, empty or not, as a sequencer with a block time makes them.
        let chain: SharedChain = Arc::new(Mutex::new(
            EvmChain::new(CHAIN_ID, root, head, store).with_empty_blocks(),
        ));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime
            .block_on(EthRpcServer::start(
                "127.0.0.1:0".parse().unwrap(),
                chain.clone(),
            ))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let producer = {
            let (chain, stop) = (chain.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(200));
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(GENESIS_TIME);
                    let produced = lock_chain(&chain).produce_block(now, FEE_RECIPIENT, &[]);
                    match produced {
                        Ok(Some(block)) if !block.dropped.is_empty() => {
                            eprintln!("block {} dropped {:?}", block.number, block.dropped)
                        }
                        Err(e) => eprintln!("block production failed: {e}"),
                        _ => {}
                    }
                }
            })
        };
        ServedChain {
            chain,
            runtime: Some(runtime),
            server: Some(server),
            stop,
            producer: Some(producer),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.server.as_ref().map(EthRpcServer::addr).unwrap()
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.as_ref().unwrap().block_on(future)
    }
}

impl Drop for ServedChain {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(producer) = self.producer.take() {
            let _ = producer.join();
        }
        if let (Some(runtime), Some(server)) = (self.runtime.as_ref(), self.server.take()) {
            runtime.block_on(server.stop());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

fn private_key_hex(signer: &PrivateKeySigner) -> String {
    format!("0x{}", alloy::primitives::hex::encode(signer.to_bytes()))
}

fn balance_of(owner: Address) -> Vec<u8> {
    balanceOfCall { owner }.abi_encode()
}

/// Init code of a contract whose every call reverts with `Error(reason)`.
fn reverter(reason: &str) -> Vec<u8> {
    let data = alloy_sol_types::SolError::abi_encode(&alloy_sol_types::Revert::from(reason));
    let data_len = u8::try_from(data.len()).unwrap();
    let len = u8::try_from(12 + data.len()).unwrap();
    // runtime: CODECOPY(0, 12, len(data)); REVERT(0, len(data)); the data.
    let mut runtime = vec![
        0x60, data_len, 0x60, 12, 0x60, 0, 0x39, 0x60, data_len, 0x60, 0, 0xfd,
    ];
    runtime.extend_from_slice(&data);
    // init: CODECOPY(0, 12, len(runtime)); RETURN(0, len(runtime)); the runtime.
    let mut init = vec![0x60, len, 0x60, 12, 0x60, 0, 0x39, 0x60, len, 0x60, 0, 0xf3];
    init.extend_from_slice(&runtime);
    init
}

#[test]
fn alloys_provider_uses_the_l2() {
    let alice = key(20);
    let carol = Address::repeat_byte(0xca);
    let l1_recipient = Address::repeat_byte(0x11);
    let served = ServedChain::start(&[alice.address()]);
    let url = served.url().parse().unwrap();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(alice.clone()))
        .connect_http(url);

    served.block_on(async {
        assert_eq!(provider.get_chain_id().await.unwrap(), CHAIN_ID);
        assert_eq!(
            provider.get_balance(alice.address()).await.unwrap(),
            U256::from(100 * ONE_ETH)
        );

        // ETH, waited for.
        let pay = TransactionRequest::default()
            .with_to(carol)
            .with_value(U256::from(ONE_ETH));
        let receipt = provider
            .send_transaction(pay)
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(receipt.status());
        assert_eq!(receipt.gas_used, 21_000);
        assert_eq!(
            provider.get_balance(carol).await.unwrap(),
            U256::from(ONE_ETH)
        );
        let block = provider
            .get_block_by_number(receipt.block_number.unwrap().into())
            .full()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(block.header.hash, receipt.block_hash.unwrap());
        assert_eq!(block.header.beneficiary, FEE_RECIPIENT);
        assert!(block.header.base_fee_per_gas.is_some());
        assert_eq!(
            block.transactions.as_transactions().unwrap()[0]
                .inner
                .tx_hash(),
            &receipt.transaction_hash
        );

        // DemoToken: deployed, called, transferred, its events read back.
        let deploy = TransactionRequest::default().with_deploy_code(demo_token_deploy(1_000_000));
        let deployed = provider
            .send_transaction(deploy)
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        let token = deployed.contract_address.expect("a contract address");
        let call = TransactionRequest::default()
            .with_to(token)
            .with_input(balance_of(alice.address()));
        let balance = U256::abi_decode(&provider.call(call).await.unwrap()).unwrap();
        assert_eq!(balance, U256::from(1_000_000u64));
        let send = TransactionRequest::default()
            .with_to(token)
            .with_input(erc20_transfer(carol, 250));
        let sent = provider
            .send_transaction(send)
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(sent.status());
        let transfers = Filter::new()
            .address(token)
            .event_signature(Transfer::SIGNATURE_HASH)
            .from_block(0u64);
        let logs = provider.get_logs(&transfers).await.unwrap();
        assert_eq!(logs.len(), 2, "the mint and the transfer");
        let transfer = Transfer::decode_log_data(logs[1].data()).unwrap();
        assert_eq!((transfer.to, transfer.value), (carol, U256::from(250u64)));
        assert_eq!(logs[1].transaction_hash, Some(sent.transaction_hash));

        // A transfer beyond the balance reverts at the estimate, with the custom error's data.
        let overdraw = TransactionRequest::default()
            .with_from(carol)
            .with_to(token)
            .with_input(erc20_transfer(alice.address(), 251));
        let error = provider.estimate_gas(overdraw).await.unwrap_err();
        let payload = error.as_error_resp().expect("a JSON-RPC error");
        assert_eq!(payload.code, 3);
        assert_eq!(
            &payload.as_revert_data().unwrap()[..4],
            &keccak256("InsufficientBalance(address,uint256,uint256)")[..4]
        );

        // A withdrawal through the predeploy: its event in the receipt.
        let withdraw = TransactionRequest::default()
            .with_to(WITHDRAWALS)
            .with_value(U256::from(2 * ONE_ETH))
            .with_input(withdraw_call(l1_recipient));
        let withdrawn = provider
            .send_transaction(withdraw)
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(withdrawn.status());
        let event = &withdrawn.inner.logs()[0];
        assert_eq!(event.address(), WITHDRAWALS);
        assert_eq!(event.topics()[0], WITHDRAWAL_EVENT);
        assert_eq!(
            event.topics()[2],
            B256::left_padding_from(l1_recipient.as_slice())
        );
        assert_eq!(provider.get_balance(WITHDRAWALS).await.unwrap(), U256::ZERO);

        let fees = provider.estimate_eip1559_fees().await.unwrap();
        assert!(fees.max_fee_per_gas > fees.max_priority_fee_per_gas);
    });
    assert!(lock_chain(&served.chain).pool().is_empty());
}

/// The cast binary, installed from npm with anvil.
fn cast() -> PathBuf {
    anvil_node::foundry_tool("cast")
}

/// Runs cast with `args` against `url` (its own empty working directory, no network lookups);
/// killed by PID if it has not finished within a minute. Its exit status, stdout and stderr.
fn run_cast(url: &str, args: &[&str]) -> (bool, String, String) {
    let dir = std::env::temp_dir().join(format!("cast-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out");
    let err = dir.join("err");
    // The URL right after the subcommand: `send --create` takes everything after its code.
    let (command, rest) = args.split_first().expect("a cast subcommand");
    let mut child = Command::new(cast())
        .arg(command)
        .args(["--rpc-url", url])
        .args(rest)
        .current_dir(&dir)
        .env("FOUNDRY_OFFLINE", "true")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", cast().display()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cast {} did not finish within 60 s", shown(args));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |path| std::fs::read_to_string(path).unwrap_or_default();
    (status.success(), read(&out), read(&err))
}

/// `cast send --json` from `key`: its receipt, which must say success.
fn cast_send(url: &str, key: &str, args: &[&str]) -> Value {
    let mut all = vec!["send", "--json", "--private-key", key];
    all.extend_from_slice(args);
    let receipt = json_of(&cast_ok(url, &all));
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    receipt
}

/// `args` as a command line, long ones (init code) cut short.
fn shown(args: &[&str]) -> String {
    let cut = |arg: &&str| match arg.len() > 80 {
        true => format!("{}…", &arg[..80]),
        false => arg.to_string(),
    };
    args.iter().map(cut).collect::<Vec<_>>().join(" ")
}

/// cast's stdout, which must succeed.
fn cast_ok(url: &str, args: &[&str]) -> String {
    let (ok, out, err) = run_cast(url, args);
    assert!(ok, "cast {} failed:\n{out}\n{err}", shown(args));
    out.trim().to_string()
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn cast_uses_the_l2() {
    let bob = key(21);
    let dave = key(22);
    let carol = Address::repeat_byte(0xcb);
    let l1_recipient = Address::repeat_byte(0x12);
    let served = ServedChain::start(&[bob.address(), dave.address()]);
    let url = served.url();
    let bob_key = private_key_hex(&bob);
    let (bob_addr, carol_addr) = (bob.address().to_string(), carol.to_string());

    assert_eq!(cast_ok(&url, &["chain-id"]), CHAIN_ID.to_string());
    assert_eq!(
        cast_ok(&url, &["balance", &bob_addr]),
        (100 * ONE_ETH).to_string()
    );

    // ETH: cast send waits for the receipt.
    let paid = cast_send(&url, &bob_key, &[&carol_addr, "--value", "1ether"]);
    let hash = paid["transactionHash"].as_str().expect("a hash");
    let sent = json_of(&cast_ok(&url, &["tx", "--json", hash]));
    assert_eq!(
        sent["from"].as_str().map(str::to_lowercase),
        Some(bob_addr.to_lowercase())
    );
    assert_eq!(sent["blockNumber"], paid["blockNumber"]);
    assert_eq!(
        cast_ok(&url, &["balance", &carol_addr]),
        ONE_ETH.to_string()
    );

    // DemoToken: created from its init code and arguments, called, transferred.
    let init = format!(
        "0x{}",
        alloy::primitives::hex::encode(demo_token_deploy(1_000_000))
    );
    let created = cast_send(&url, &bob_key, &["--create", &init]);
    let token = created["contractAddress"]
        .as_str()
        .expect("a contract")
        .to_string();
    assert_eq!(
        token.to_lowercase(),
        bob.address().create(1).to_string().to_lowercase()
    );
    let balance = cast_ok(
        &url,
        &["call", &token, "balanceOf(address)(uint256)", &bob_addr],
    );
    assert!(balance.starts_with("1000000"), "{balance}");
    let moved = cast_send(
        &url,
        &bob_key,
        &[&token, "transfer(address,uint256)", &carol_addr, "250"],
    );
    assert_eq!(
        cast_ok(
            &url,
            &["call", &token, "balanceOf(address)(uint256)", &carol_addr]
        ),
        "250"
    );
    let logs = json_of(&cast_ok(
        &url,
        &[
            "logs",
            "--json",
            "--from-block",
            "0",
            "--address",
            &token,
            "Transfer(address indexed,address indexed,uint256)",
        ],
    ));
    let logs = logs.as_array().expect("a list of logs");
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert_eq!(
        logs[1]["topics"][2].as_str().unwrap(),
        B256::left_padding_from(carol.as_slice()).to_string()
    );
    assert_eq!(logs[1]["transactionHash"], moved["transactionHash"]);

    // Reverts: an Error(string)'s reason, and a custom error's data, in cast's error output.
    let reverter_init = format!(
        "0x{}",
        alloy::primitives::hex::encode(reverter("hauptbuch says no"))
    );
    let refuser = cast_send(&url, &bob_key, &["--create", &reverter_init])["contractAddress"]
        .as_str()
        .unwrap()
        .to_string();
    let (ok, _, err) = run_cast(&url, &["call", &refuser, "anything()"]);
    assert!(!ok);
    eprintln!("cast call's error: {err}");
    assert!(
        err.contains("execution reverted: hauptbuch says no"),
        "{err}"
    );
    let dave_key = private_key_hex(&dave);
    let (ok, _, err) = run_cast(
        &url,
        &[
            "send",
            "--private-key",
            &dave_key,
            &token,
            "transfer(address,uint256)",
            &carol_addr,
            "1",
        ],
    );
    assert!(!ok);
    eprintln!("cast send's error: {err}");
    assert!(err.contains("execution reverted"), "{err}");
    let selector = alloy::primitives::hex::encode(
        &keccak256("InsufficientBalance(address,uint256,uint256)")[..4],
    );
    assert!(err.contains(&selector), "{err}");

    // A withdrawal through the predeploy: its event in the receipt.
    let withdrawn = cast_send(
        &url,
        &bob_key,
        &[
            &WITHDRAWALS.to_string(),
            "withdraw(address)",
            &l1_recipient.to_string(),
            "--value",
            "2ether",
        ],
    );
    let receipt = json_of(&cast_ok(
        &url,
        &[
            "receipt",
            "--json",
            withdrawn["transactionHash"].as_str().unwrap(),
        ],
    ));
    let event = &receipt["logs"][0];
    assert_eq!(
        event["address"].as_str().unwrap().to_lowercase(),
        WITHDRAWALS.to_string().to_lowercase()
    );
    assert_eq!(
        event["topics"][0].as_str().unwrap(),
        WITHDRAWAL_EVENT.to_string()
    );
    assert_eq!(
        event["topics"][2].as_str().unwrap(),
        B256::left_padding_from(l1_recipient.as_slice()).to_string()
    );
    let block = json_of(&cast_ok(&url, &["block", "--json", "latest"]));
    assert_eq!(
        block["miner"].as_str().unwrap().to_lowercase(),
        FEE_RECIPIENT.to_string().to_lowercase()
    );
    let _ =
        std::fs::remove_dir_all(std::env::temp_dir().join(format!("cast-{}", std::process::id())));
}

/// ethers 6 (npm, pinned in `verifier/contracts/package-lock.json`) against the L2, through
/// `tests/js/ethers_l2.js`: chain id, fees, an ETH transfer, DemoToken deployed from its artifact
/// with a `ContractFactory`, a transfer, `balanceOf`, the `Transfer` events, a custom error.
#[test]
fn ethers_uses_the_l2() {
    // ethers is installed with the foundry tools (`npm ci` in verifier/contracts).
    let _ = cast();
    let alice = key(0);
    let served = ServedChain::start(&[alice.address()]);
    let recipient = Address::repeat_byte(0x77);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/ethers_l2.js");
    let mut child = Command::new("node")
        .arg(&script)
        .args([served.url(), private_key_hex(&alice), recipient.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): the ethers test needs Node.js"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "the ethers script did not finish within 120 s:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ethers failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen = json_of(stdout.trim());
    assert_eq!(seen["chainId"], CHAIN_ID.to_string(), "{seen}");
    assert_eq!(seen["transferStatus"], 1, "{seen}");
    assert_eq!(seen["recipientBalance"], "12345", "{seen}");
    assert_eq!(seen["symbol"], "DMO", "{seen}");
    assert_eq!(seen["tokenTransferStatus"], 1, "{seen}");
    assert_eq!(seen["recipientTokens"], "250", "{seen}");
    assert_eq!(seen["transferEvents"], serde_json::json!(["250"]), "{seen}");
    assert_eq!(seen["revert"], "InsufficientBalance", "{seen}");
    assert!(seen["latestBlock"].as_u64().unwrap_or(0) >= 3, "{seen}");
}
