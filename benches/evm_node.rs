//! The EVM rollup's node end to end, on the embedded L1 (revm), this machine:
//! - `rpc to posted batch`: ERC-20 transfers signed ahead by 1,000 senders, sent through
//!   `eth_sendRawTransaction` (4 client threads, one HTTP request per transaction) to a sequencer
//!   whose producer makes a block every 250 ms and whose turns post the blocks and apply them back
//!   from L1 (wasmtime and native side by side); timed from the first send until the last block
//!   is `safe` (posted and applied). Printed: gas, transactions, blocks, batches, Mgas/s.
//! - `catch-up`: a fresh validator, in a child process (so its peak memory is its own), applying
//!   every batch that run posted from an empty data dir. Printed: Mgas/s and the child's VmHWM.
//!
//! Targets (issue 22): >= 50 Mgas/s sustained from the RPC to a posted batch; catch-up >= 150
//! Mgas/s with < 1 GiB.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::consensus::TxEip1559;
use alloy::primitives::{Address, Bytes, TxKind, U256 as Wei};
use alloy_sol_types::{sol, SolCall};
use criterion::Criterion;
use program::{address_of, SigningKey};
use prover::config::{RollupConfig, Stf};
use prover::node::client::{ClientError, NodeClient};
use prover::node::service::{follow_wall_clock, open_embedded, Node, NodeOptions, Role};
use serde_json::{json, Value};
use verifier::l1::embedded::EmbeddedL1;
use verifier::l1::{Wallet, L1, U256};
use verifier::settlement::contracts::{self, Inbox, ETHER};

sol! {
    function transfer(address to, uint256 value) external returns (bool);
}

const CHAIN_ID: u64 = 901;
const SENDERS: usize = 1000;
/// Transfers per sender in one run.
const ROUNDS: u64 = 10;

fn config() -> RollupConfig {
    RollupConfig {
        stf: Stf::Evm,
        chain_id: CHAIN_ID,
        state_commitment_interval: 1,
        block_time: 0.25,
        fraud_proof_timeout: 1000,
        ..RollupConfig::default()
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hb-evm-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn key(i: usize) -> SigningKey {
    let mut secret = [0x22u8; 32];
    secret[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    SigningKey::from_slice(&secret).unwrap()
}

fn sign(key: &SigningKey, nonce: u64, to: TxKind, input: Vec<u8>, gas_limit: u64) -> Vec<u8> {
    program::evm_workload::sign(
        key,
        TxEip1559 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit,
            max_fee_per_gas: 100_000_000_000,
            max_priority_fee_per_gas: 0,
            to,
            value: Wei::ZERO,
            input: Bytes::from(input),
            access_list: Default::default(),
        },
    )
}

fn transfer(to: Address, value: u64) -> Vec<u8> {
    transferCall {
        to,
        value: Wei::from(value),
    }
    .abi_encode()
}

fn hex(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{digits}")
}

fn quantity(value: &Value) -> u64 {
    u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// Sends every transaction of `txs` in order from `threads` threads (each its own senders).
fn send_all(rpc: &str, txs: Vec<Vec<Vec<u8>>>, threads: usize) {
    let mut lanes: Vec<Vec<Vec<Vec<u8>>>> = vec![Vec::new(); threads];
    for (i, sender) in txs.into_iter().enumerate() {
        lanes[i % threads].push(sender);
    }
    let handles: Vec<_> = lanes
        .into_iter()
        .map(|lane| {
            let rpc = rpc.to_string();
            std::thread::spawn(move || {
                let client = NodeClient::new(&rpc).unwrap();
                let rounds = lane.iter().map(Vec::len).max().unwrap_or(0);
                for round in 0..rounds {
                    for sender in &lane {
                        if let Some(raw) = sender.get(round) {
                            // A full pool drains with the next block: a load generator waits.
                            loop {
                                match client.call("eth_sendRawTransaction", json!([hex(raw)])) {
                                    Ok(_) => break,
                                    Err(ClientError::Rpc { message, .. })
                                        if message.contains("txpool is full") =>
                                    {
                                        std::thread::sleep(Duration::from_millis(5))
                                    }
                                    Err(e) => panic!("{e}"),
                                }
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

struct Setup {
    dir: PathBuf,
    l1: EmbeddedL1,
    node: Node,
    rpc: String,
    keys: Vec<SigningKey>,
    token: Address,
}

/// Turns of the sequencer until `done` holds of its `hb_syncStatus`.
fn turn_until(setup: &mut Setup, what: &str, done: impl Fn(&Value) -> bool) {
    let client = NodeClient::new(&setup.rpc).unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        setup.node.turn(&mut setup.l1, &mut |_| {}).unwrap();
        let status = client.call("hb_syncStatus", json!([])).unwrap();
        if done(&status) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {status}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every transaction the node acknowledged is in a batch applied from L1 (a transaction leaves
/// the store's mempool when its batch is applied; the blocks made since may be empty).
fn settled(status: &Value) -> bool {
    status["mempool"] == 0
}

/// A sequencer with `SENDERS` funded accounts holding tokens of a DemoToken.
fn setup() -> Setup {
    let dir = scratch("rpc");
    let sequencer = Wallet::from_secret(&[0x5E; 32]).unwrap();
    let (mut l1, deployment) = open_embedded(&dir.join("l1"), &sequencer, &config()).unwrap();
    follow_wall_clock(&mut l1).unwrap();
    let funder = Wallet::from_secret(&[0xF0; 32]).unwrap();
    l1.set_balance(funder.address(), U256::from(100_000 * ETHER))
        .unwrap();
    let keys: Vec<SigningKey> = (0..=SENDERS).map(key).collect();
    for key in &keys {
        contracts::send(
            &mut l1,
            &funder,
            deployment.inbox,
            U256::from(10 * ETHER),
            Inbox::depositCall {
                l2Recipient: address_of(key).into(),
            },
        )
        .unwrap()
        .success()
        .unwrap();
    }
    let node = Node::start(
        NodeOptions {
            data_dir: dir.join("seq"),
            role: Role::Sequencer,
            wallet: sequencer,
            deployment: deployment.clone(),
            rpc_addr: "127.0.0.1:0".parse().unwrap(),
            config: config(),
            fault: None,
        },
        &mut l1,
    )
    .unwrap();
    let rpc = format!("http://{}", node.rpc_addr());
    let mut setup = Setup {
        dir,
        l1,
        node,
        rpc,
        keys,
        token: Address::ZERO,
    };
    let client = NodeClient::new(&setup.rpc).unwrap();
    let last = hex(&address_of(&setup.keys[SENDERS]));
    turn_until(&mut setup, "the deposits", |s| {
        settled(s)
            && client
                .call("eth_getBalance", json!([last, "latest"]))
                .is_ok_and(|balance| balance != json!("0x0"))
    });
    // The token: minted to the last key, which gives every sender some.
    let owner = &setup.keys[SENDERS];
    setup.token = Address::from(address_of(owner)).create(0);
    let mut code = verifier::evm::artifact_bytecode("DemoToken").unwrap();
    code.extend_from_slice(&alloy_sol_types::SolValue::abi_encode_params(&(
        "Demo".to_string(),
        "DMO".to_string(),
        Wei::from(1_000_000_000u64),
    )));
    let mut owner_txs = vec![sign(owner, 0, TxKind::Create, code, 2_000_000)];
    for (i, key) in setup.keys[..SENDERS].iter().enumerate() {
        let to = Address::from(address_of(key));
        owner_txs.push(sign(
            owner,
            1 + i as u64,
            TxKind::Call(setup.token),
            transfer(to, 1_000_000),
            100_000,
        ));
    }
    // One sender may have 64 transactions waiting (geth's account queue): in waves.
    for wave in owner_txs.chunks(60) {
        send_all(&setup.rpc.clone(), vec![wave.to_vec()], 1);
        turn_until(&mut setup, "the token handed out", settled);
    }
    setup
}

/// One run of the load: `ROUNDS` transfers from every sender. Returns (elapsed, gas, txs,
/// blocks, batches).
fn load(setup: &mut Setup, run: u64) -> (Duration, u64, u64, u64, u64) {
    let client = NodeClient::new(&setup.rpc).unwrap();
    let status = client.call("hb_syncStatus", json!([])).unwrap();
    let (first_block, first_batch) = (
        status["block"].as_u64().unwrap() + 1,
        status["batch"].as_u64().unwrap(),
    );
    let recipient = Address::repeat_byte(0xb0);
    let txs: Vec<Vec<Vec<u8>>> = setup.keys[..SENDERS]
        .iter()
        .map(|key| {
            (0..ROUNDS)
                .map(|round| {
                    sign(
                        key,
                        run * ROUNDS + round,
                        TxKind::Call(setup.token),
                        transfer(recipient, 1),
                        100_000,
                    )
                })
                .collect()
        })
        .collect();
    let count = (SENDERS as u64) * ROUNDS;
    let started = Instant::now();
    let sender = {
        let rpc = setup.rpc.clone();
        std::thread::spawn(move || send_all(&rpc, txs, 4))
    };
    turn_until(setup, "the load", |s| sender.is_finished() && settled(s));
    let elapsed = started.elapsed();
    sender.join().unwrap();
    let status = client.call("hb_syncStatus", json!([])).unwrap();
    let last_block = status["safe_block"].as_u64().unwrap();
    let mut gas = 0;
    for number in first_block..=last_block {
        let block = client
            .call(
                "eth_getBlockByNumber",
                json!([format!("{number:#x}"), false]),
            )
            .unwrap();
        gas += quantity(&block["gasUsed"]);
    }
    (
        elapsed,
        gas,
        count,
        last_block + 1 - first_block,
        status["batch"].as_u64().unwrap() - first_batch,
    )
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .to_string();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The child: a validator's follower from an empty data dir on the L1 journal in `dir`, applying
/// every batch; prints `catchup <seconds> <gas> <batches> <peak MiB>`.
fn catch_up_child(dir: &Path) {
    use prover::node::evm_follower::apply_next;
    use prover::node::evm_node::restore_chain;
    use prover::node::state::NodeState;
    use prover::node::store::{BatchCommit, Head};
    use prover::node::NodeDb;
    use prover::settlement::L1Log;

    let wallet = Wallet::from_secret(&[0x7A; 32]).unwrap();
    let (mut l1, deployment) = open_embedded(&dir.join("l1"), &wallet, &config()).unwrap();
    let data_dir = dir.join(format!("validator-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let genesis = Stf::Evm.genesis().unwrap();
    let mut db = NodeDb::open(&data_dir).unwrap();
    db.commit_batch(BatchCommit {
        head: Head {
            batch: 0,
            state_root: genesis.root,
        },
        new_nodes: genesis
            .store
            .iter()
            .map(|(_, node)| node.to_vec())
            .collect(),
        ..BatchCommit::default()
    })
    .unwrap();
    let chain = Arc::new(Mutex::new(
        restore_chain(&mut db, CHAIN_ID, &genesis).unwrap(),
    ));
    let state = Arc::new(Mutex::new(NodeState {
        db,
        chain_id: CHAIN_ID,
        accepts_transactions: false,
        pending: Default::default(),
        l1: Default::default(),
        senders: Default::default(),
        recovered: None,
        next_batch: None,
    }));
    let guest = prover::StfGuest::new(program::EVM_STF_WASM).unwrap();
    let started = Instant::now();
    // Reading the logs is part of catching up.
    let log = L1Log::read(&mut l1, &deployment).unwrap();
    let mut batches = 0u64;
    while apply_next(&state, &chain, &mut l1, &log, &guest)
        .unwrap()
        .is_some()
    {
        batches += 1;
    }
    let elapsed = started.elapsed();
    let chain = chain.lock().unwrap();
    let gas: u64 = (1..=chain.block_number())
        .map(|n| chain.block(n).unwrap().header.gas_used)
        .sum();
    println!(
        "catchup {} {gas} {batches} {:.0}",
        elapsed.as_secs_f64(),
        peak_rss_mib()
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}

fn main() {
    if let Ok(dir) = std::env::var("HB_EVM_CATCHUP_DIR") {
        catch_up_child(Path::new(&dir));
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    let mut setup = setup();
    let mut run = 0;
    let mut group = criterion.benchmark_group("evm node");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(1));
    group.bench_function("rpc to posted batch, 10000 ERC-20 transfers", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let (elapsed, gas, txs, blocks, batches) = load(&mut setup, run);
                run += 1;
                eprintln!(
                    "rpc -> posted: {txs} ERC-20 transfers, {:.1} Mgas in {blocks} blocks and {batches} batches, {:.2} s: {:.1} Mgas/s, {:.0} tx/s",
                    gas as f64 / 1e6,
                    elapsed.as_secs_f64(),
                    gas as f64 / 1e6 / elapsed.as_secs_f64(),
                    txs as f64 / elapsed.as_secs_f64()
                );
                total += elapsed;
            }
            total
        })
    });
    let Setup { dir, l1, node, .. } = setup;
    node.stop();
    drop(l1);
    group.bench_function("catch-up of every batch, empty data dir", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let out = Command::new(std::env::current_exe().unwrap())
                    .env("HB_EVM_CATCHUP_DIR", &dir)
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&out.stdout);
                let line = text
                    .lines()
                    .find(|l| l.starts_with("catchup "))
                    .unwrap_or_else(|| panic!("{text}{}", String::from_utf8_lossy(&out.stderr)));
                let fields: Vec<f64> = line
                    .split_whitespace()
                    .skip(1)
                    .map(|f| f.parse().unwrap())
                    .collect();
                let (seconds, gas, batches, peak) = (fields[0], fields[1], fields[2], fields[3]);
                eprintln!(
                    "catch-up: {batches} batches, {:.1} Mgas in {seconds:.2} s: {:.1} Mgas/s, peak {peak:.0} MiB",
                    gas / 1e6,
                    gas / 1e6 / seconds
                );
                total += Duration::from_secs_f64(seconds);
            }
            total
        })
    });
    group.finish();
    criterion.final_summary();
    let _ = std::fs::remove_dir_all(&dir);
}
