//! The transfer ledger's node's throughput (`benches/evm_node.rs` has the EVM's), on the
//! embedded L1 (revm), this process:
//! - `replay`: one posted batch of 1,000 transfers replayed by the follower (wasmtime and the
//!   native ledger side by side), with the parallel signature cache and without it;
//! - `catch-up`: a validator from an empty data dir applying 100 posted batches of 1,000
//!   transfers (criterion's elements/s is transactions per second); the process's peak memory is
//!   printed after it (VmHWM, which also counts the embedded L1 and the generated batches);
//! - `rpc`: transactions per second from the RPC (4 client threads, one HTTP request per
//!   transaction) to a confirmed batch: the sequencer's turns post, apply and assert them, then
//!   the challenge period passes (L1 time is advanced) and the assertions are confirmed.
//!
//! Anchors: the seed's 5 ms per transaction (200 tx/s) and 1 MB; the project's own bench, one
//! batch of 1,000 transactions on wasmtime in 73 ms. Targets: >= 2,000 tx/s sustained through the
//! RPC, catch-up >= 10,000 tx/s, peak memory of the catch-up < 1 GiB.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use program::ledger::TransactionList;
use program::{address_of, sign_transfer, SigningKey};
use prover::config::RollupConfig;
use prover::node::client::NodeClient;
use prover::node::follower::{apply_next, replay, SignatureCache};
use prover::node::mempool::Pending;
use prover::node::service::{follow_wall_clock, open_embedded, Node, NodeOptions, Role};
use prover::node::state::{NodeState, Shared};
use prover::node::store::Head;
use prover::node::NodeDb;
use prover::settlement::{fetch_batch, post_batch, L1Log};
use prover::StfGuest;
use serde_json::json;
use verifier::l1::embedded::EmbeddedL1;
use verifier::l1::{Wallet, L1, U256};
use verifier::settlement::contracts::{self, Deployment, Inbox, ETHER};

const CHAIN_ID: u64 = 1;
const SENDERS: usize = 1000;
const BATCHES: u64 = 100;

fn config() -> RollupConfig {
    RollupConfig {
        stf: prover::config::Stf::Ledger,
        chain_id: CHAIN_ID,
        state_commitment_interval: 1,
        fraud_proof_timeout: 1000,
        ..RollupConfig::default()
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hb-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn senders() -> Vec<SigningKey> {
    (0..SENDERS)
        .map(|i| {
            let mut secret = [0x11u8; 32];
            secret[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            SigningKey::from_slice(&secret).unwrap()
        })
        .collect()
}

/// A rollup on a fresh embedded L1 whose every sender has 1 ETH deposited (not yet in a batch).
fn funded_chain(name: &str, deployer: &Wallet, keys: &[SigningKey]) -> (EmbeddedL1, Deployment) {
    let (mut l1, deployment) = open_embedded(&scratch(name), deployer, &config()).unwrap();
    let funder = Wallet::from_secret(&[0xF0; 32]).unwrap();
    l1.set_balance(funder.address(), U256::from(10_000 * ETHER))
        .unwrap();
    for key in keys {
        contracts::send(
            &mut l1,
            &funder,
            deployment.inbox,
            U256::from(ETHER),
            Inbox::depositCall {
                l2Recipient: address_of(key).into(),
            },
        )
        .unwrap()
        .success()
        .unwrap();
    }
    (l1, deployment)
}

/// Batch `round` + 2: one transfer from every sender (nonce `round`).
fn transfers(keys: &[SigningKey], round: u64) -> Vec<u8> {
    TransactionList(
        keys.iter()
            .map(|key| {
                sign_transfer(key, CHAIN_ID, [0xB0; 20], 1, round)
                    .to_bytes()
                    .unwrap()
            })
            .collect(),
    )
    .to_bytes()
    .unwrap()
}

fn fresh_follower(name: &str) -> Shared {
    let mut db = NodeDb::open(&scratch(name)).unwrap();
    db.set_head(Head {
        batch: 0,
        state_root: program::EMPTY_ROOT,
    })
    .unwrap();
    Arc::new(Mutex::new(NodeState {
        db,
        chain_id: CHAIN_ID,
        accepts_transactions: false,
        pending: Pending::default(),
        l1: Default::default(),
        senders: Default::default(),
        recovered: None,
        next_batch: None,
    }))
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn follower_benches(c: &mut Criterion) {
    let guest = StfGuest::new(program::STF_WASM).unwrap();
    let keys = senders();
    let sequencer = Wallet::from_secret(&[0x5E; 32]).unwrap();
    let (mut l1, deployment) = funded_chain("catchup-l1", &sequencer, &keys);
    let started = Instant::now();
    post_batch(
        &mut l1,
        &sequencer,
        &deployment,
        &TransactionList(vec![]).to_bytes().unwrap(),
    )
    .unwrap();
    for round in 0..BATCHES {
        post_batch(&mut l1, &sequencer, &deployment, &transfers(&keys, round)).unwrap();
    }
    eprintln!(
        "setup: {} deposits and {BATCHES} batches of {SENDERS} transfers posted in {:.1} s",
        SENDERS,
        started.elapsed().as_secs_f64()
    );

    // One batch replayed, with and without the signature cache.
    let state = fresh_follower("replay");
    let log = L1Log::read(&mut l1, &deployment).unwrap();
    apply_next(&state, &mut l1, &log, &guest, SignatureCache::On).unwrap();
    let head = state.lock().unwrap().db.head().unwrap();
    let nodes = state.lock().unwrap().db.nodes().clone();
    let batch = fetch_batch(&mut l1, &deployment, 2).unwrap();
    let mut group = c.benchmark_group("replay");
    group.sample_size(20);
    group.throughput(Throughput::Elements(SENDERS as u64));
    for (name, cache) in [
        ("1000 transfers, signature cache", SignatureCache::On),
        ("1000 transfers, no cache", SignatureCache::Off),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| replay(&guest, &batch, &head, nodes.clone(), cache).unwrap())
        });
    }
    group.finish();

    // A validator catching up from an empty data dir.
    let mut group = c.benchmark_group("catch-up");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(BATCHES * SENDERS as u64));
    let mut run = 0;
    group.bench_function("100 batches of 1000 transfers, empty data dir", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                run += 1;
                let state = fresh_follower(&format!("catchup-{run}"));
                let started = Instant::now();
                let mut applied = 0;
                // Reading the logs is part of catching up.
                let log = L1Log::read(&mut l1, &deployment).unwrap();
                while apply_next(&state, &mut l1, &log, &guest, SignatureCache::On)
                    .unwrap()
                    .is_some()
                {
                    applied += 1;
                }
                total += started.elapsed();
                assert_eq!(applied, BATCHES + 1);
                drop(state);
                let _ = std::fs::remove_dir_all(scratch(&format!("catchup-{run}")));
            }
            total
        })
    });
    group.finish();
    if let Some(peak) = peak_rss_mib() {
        println!("catch-up: peak memory of this process (VmHWM) {peak:.0} MiB");
    }
}

fn rpc_bench(c: &mut Criterion) {
    let keys = senders();
    let sequencer = Wallet::from_secret(&[0x5F; 32]).unwrap();
    let (mut l1, deployment) = funded_chain("rpc-l1", &sequencer, &keys);
    follow_wall_clock(&mut l1).unwrap();
    let mut node = Node::start(
        NodeOptions {
            data_dir: scratch("rpc-node"),
            role: Role::Sequencer,
            wallet: sequencer.clone(),
            deployment: deployment.clone(),
            rpc_addr: "127.0.0.1:0".parse().unwrap(),
            config: config(),
            fault: None,
        },
        &mut l1,
    )
    .unwrap();
    // The deposits' batch first: the senders need their balances.
    while node.state().lock().unwrap().db.head().unwrap().batch < 1 {
        node.turn(&mut l1, &mut |_| {}).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://{}", node.rpc_addr());
    let keys = Arc::new(keys);
    let mut round = 0u64;
    let per_round = 5u64;
    let mut group = c.benchmark_group("rpc");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(SENDERS as u64 * per_round));
    group.bench_function("5000 transfers from RPC to a confirmed batch", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                // Signed ahead: what is measured is the node, not the wallets.
                let signed: Vec<Vec<Vec<u8>>> = (0..4)
                    .map(|t| {
                        (0..per_round)
                            .flat_map(|r| {
                                keys.iter()
                                    .skip(t)
                                    .step_by(4)
                                    .map(move |key| (key, round + r))
                            })
                            .map(|(key, nonce)| {
                                sign_transfer(key, CHAIN_ID, [0xB0; 20], 1, nonce)
                                    .to_bytes()
                                    .unwrap()
                            })
                            .collect()
                    })
                    .collect();
                round += per_round;
                let started = Instant::now();
                let clients: Vec<_> = signed
                    .into_iter()
                    .map(|txs| {
                        let url = url.clone();
                        std::thread::spawn(move || {
                            let client = NodeClient::new(&url).unwrap();
                            for tx in txs {
                                let hex: String = tx.iter().map(|b| format!("{b:02x}")).collect();
                                client
                                    .call("hb_sendTransaction", json!([format!("0x{hex}")]))
                                    .unwrap();
                            }
                        })
                    })
                    .collect();
                // The node's turns run meanwhile; then the window passes and the batches confirm.
                let target = SENDERS as u64 * per_round;
                let mut included = 0u64;
                while included < target || clients.iter().any(|c| !c.is_finished()) {
                    follow_wall_clock(&mut l1).unwrap();
                    let turn = node.turn(&mut l1, &mut |_| {}).unwrap();
                    included += turn
                        .applied
                        .iter()
                        .map(|a| a.transactions as u64)
                        .sum::<u64>();
                    if turn.is_idle() {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
                for client in clients {
                    client.join().unwrap();
                }
                l1.advance_time(config().fraud_proof_timeout + 1).unwrap();
                node.turn(&mut l1, &mut |_| {}).unwrap();
                total += started.elapsed();
            }
            total
        })
    });
    group.finish();
    node.stop();
}

criterion_group!(benches, follower_benches, rpc_bench);
criterion_main!(benches);
