//! Whole `rollup node` processes against anvil, as operators and outside checks run them:
//! - a sequencer started with `--fault wrong-root` is caught by an independent validator process,
//!   which challenges and wins; the bond moves; the honest chain goes on; users deposit, send,
//!   withdraw and claim on L1 through the CLI; SIGTERM stops a node cleanly;
//! - kill -9 of both parties in the middle of that game: restarted, they finish it from L1;
//! - `rollup devnet` as a process, restarted on its data dir; its L1 served over JSON-RPC to the
//!   L1 commands and an independent validator;
//! - kill -9 of the sequencer and the validator at random moments during a load of 10,000
//!   transactions: no acknowledged transaction is lost, every node's root equals a clean replay
//!   of the posted batches by a fresh validator, and L1's assertions agree with the nodes.

#[path = "common/anvil.rs"]
mod anvil_node;
mod common;
#[path = "common/processes.rs"]
mod processes;
#[path = "common/rollup_cli.rs"]
mod rollup_cli;

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anvil_node::Anvil;
use common::env_or;
use processes::*;
use program::{address_of, SigningKey};
use prover::node::client::{ClientError, NodeClient};
use rollup_cli::{field, rollup};
use serde_json::json;
use verifier::l1::{L1, U256};
use verifier::settlement::contracts::{self, Deployment, Inbox, ETHER};

#[test]
fn a_wrong_root_is_caught_by_an_independent_validator_and_users_get_paid_on_anvil() {
    let mut anvil = Anvil::start();
    let mut l1 = anvil.connect();
    let dir = fresh_dir("fault");
    let (deployment, config) = deploy(
        &anvil,
        &dir,
        &format!("stf = \"ledger\"\nchain_id = {CHAIN_ID}\nstate_commitment_interval = 1\nfraud_proof_timeout = 40\nwithdrawal_delay = 20\nclock_budget = 40\n"),
    );
    let sequencer = NodeProcess::spawn(
        &node_args(
            &dir.join("seq"),
            "sequencer",
            DEPLOYER_KEY,
            &anvil,
            &deployment,
            &config,
            &["--fault", "wrong-root"],
        ),
        &dir.join("seq.log"),
    );
    // The validator runs without --config: the chain id is the deployment's, its own knobs
    // take their defaults.
    let mut validator_args = node_args(
        &dir.join("val"),
        "validator",
        VALIDATOR_KEY,
        &anvil,
        &deployment,
        &config,
        &[],
    );
    let at = validator_args.iter().position(|a| a == "--config").unwrap();
    validator_args.drain(at..at + 2);
    let validator = NodeProcess::spawn(&validator_args, &dir.join("val.log"));
    let validator_wallet = wallet_of(VALIDATOR_KEY).address();
    let before = l1.balance(validator_wallet).unwrap();

    // A user with a key file, funded by a deposit.
    let key_file = dir.join("alice.key");
    let (code, out, err) = rollup(&["wallet", "new", "--out", key_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let alice = field(&out, "address").unwrap().to_string();
    let (code, out, err) = rollup(&[
        "deposit",
        "--l1-rpc",
        &anvil.url,
        "--deployment",
        deployment.to_str().unwrap(),
        "--key",
        USER_KEY,
        "--to",
        &alice,
        "--amount",
        "5000000000000000000",
    ]);
    assert_eq!(code, 0, "{out}{err}");

    // The lie about batch 1 is challenged and rejected; batch 1 is asserted again, truthfully,
    // as a rival on genesis.
    wait_for(&validator, 60, "batch 1 asserted truthfully", |latest| {
        latest["assertion_batch"] == 1 && latest["assertion"].as_u64() >= Some(2)
    });
    let out = wait_assertions(&anvil, &deployment, 150, "the lie rejected", |out| {
        out.contains("assertion 1: rejected batch 1")
    });
    assert!(
        out.contains("assertion 2: pending batch 1")
            || out.contains("assertion 2: confirmed batch 1"),
        "{out}"
    );
    assert!(
        out.contains("disputes 2"),
        "the lie: a rival and its root challenge: {out}"
    );
    // The stake moved: the validator's bonds back and half the liar's stake, less its gas (its
    // own stake, if it asserted, backs the truth).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let after = l1.balance(validator_wallet).unwrap();
        let staked = verifier::settlement::contracts::view(
            &mut l1,
            read_deployment(&deployment).rollup,
            verifier::settlement::contracts::Rollup::stakeOfCall {
                staker: validator_wallet,
            },
        )
        .unwrap();
        let stake = if staked.active { ETHER } else { 0 };
        if after + U256::from(stake) > before + U256::from(ETHER * 4 / 10) {
            break;
        }
        assert!(Instant::now() < deadline, "{before} -> {after}");
        std::thread::sleep(Duration::from_millis(500));
    }

    // A transfer and a withdrawal through the CLI; balances on both nodes.
    let transfer = |command: &str, rpc: &str, to: &str, amount: &str| {
        let key_file = key_file.to_str().unwrap();
        rollup(&[
            command,
            "--rpc",
            rpc,
            "--key-file",
            key_file,
            "--to",
            to,
            "--amount",
            amount,
        ])
    };
    let bob = "0x00000000000000000000000000000000000000b0";
    let (code, out, err) = transfer("send", &sequencer.rpc, bob, "1000");
    assert_eq!(code, 0, "{out}{err}");
    assert!(field(&out, "tx").is_some_and(|t| t.len() == 66));
    let recipient = "0x00000000000000000000000000000000000000c0";
    let (code, out, err) = transfer("withdraw", &sequencer.rpc, recipient, "2000000000000000000");
    assert_eq!(code, 0, "{out}{err}");
    let withdraw_tx = field(&out, "tx").unwrap().to_string();
    let (code, out, _) = transfer("send", &sequencer.rpc, bob, "99000000000000000000");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("refused: insufficient balance"), "{out}");
    let (code, out, _) = transfer("send", &validator.rpc, bob, "1");
    assert_eq!(code, 1, "a validator takes no transactions: {out}");
    assert!(out.contains("not a sequencer"), "{out}");
    wait_for(&validator, 60, "batch 2 applied", |latest| {
        latest["batch"] == 2
    });
    for node in [&sequencer, &validator] {
        let (code, out, _) = rollup(&[
            "balance",
            "--rpc",
            &node.rpc,
            "0x00000000000000000000000000000000000000b0",
        ]);
        assert_eq!((code, field(&out, "balance")), (0, Some("1000")));
    }

    // Claim before confirmation: refused with when; after it: paid, once.
    let claim = || {
        rollup(&[
            "claim",
            "--rpc",
            &validator.rpc,
            "--l1-rpc",
            &anvil.url,
            "--deployment",
            deployment.to_str().unwrap(),
            "--key",
            USER_KEY,
            "--tx",
            &withdraw_tx,
        ])
    };
    let (code, out, _) = claim();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("claimable from"), "{out}");
    // The liar attacks the truth too; it is defended: period + two clocks at most.
    wait_for(&validator, 200, "batch 2 confirmed", |latest| {
        latest["confirmed_batch"] == 2
    });
    // The withdrawal delay (20 s) counts from confirmation: refused with when until then.
    let started = Instant::now();
    let (code, out, err) = loop {
        let (code, out, err) = claim();
        if code == 0 || started.elapsed() > Duration::from_secs(60) {
            break (code, out, err);
        }
        assert!(out.contains("WithdrawalNotYetPayable"), "{out}{err}");
        assert!(out.contains("claimable from"), "{out}");
        std::thread::sleep(Duration::from_secs(2));
    };
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(field(&out, "paid"), Some("2000000000000000000"));
    assert_eq!(
        l1.balance(recipient.parse().unwrap()).unwrap(),
        U256::from(2 * ETHER)
    );
    let (code, out, _) = claim();
    assert_eq!(code, 1);
    assert!(out.contains("AlreadyPaid"), "{out}");
    // The sequencer's view of L1 is as fresh as its last turn.
    wait_for(
        &sequencer,
        10,
        "the sequencer sees batch 2 confirmed",
        |latest| latest["confirmed_batch"] == 2,
    );
    let (code, out, _) = rollup(&["status", "--rpc", &sequencer.rpc]);
    assert_eq!(code, 0);
    assert_eq!(field(&out, "confirmed_batch"), Some("2"));

    // Ctrl-C (SIGTERM) stops both cleanly.
    sequencer.terminate();
    validator.terminate();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An EVM rollup whose sequencer posts every batch in blobs (`data_availability = "blobs"`), as
/// processes on anvil: batches go in EIP-4844 transactions, the validator reads their blobs back
/// from anvil (checked against the versioned hashes the inbox logged), catches the sequencer's
/// wrong root over a blob batch and wins, and a user's deposit, transfer and withdrawal go
/// through, the withdrawal paid on L1.
#[test]
fn an_evm_rollup_posting_in_blobs_runs_and_settles_on_anvil() {
    let mut anvil = Anvil::start();
    let mut l1 = anvil.connect();
    let dir = fresh_dir("blobs");
    let (deployment, config) = deploy(
        &anvil,
        &dir,
        &format!("stf = \"evm\"\nblock_time = 0.5\ndata_availability = \"blobs\"\nchain_id = {CHAIN_ID}\nstate_commitment_interval = 1\nfraud_proof_timeout = 40\nwithdrawal_delay = 20\nclock_budget = 40\n"),
    );
    let sequencer = spawn_node(
        &dir,
        "seq",
        "sequencer",
        DEPLOYER_KEY,
        &anvil,
        &deployment,
        &config,
        &["--fault", "wrong-root"],
    );
    let validator = spawn_node(
        &dir,
        "val",
        "validator",
        VALIDATOR_KEY,
        &anvil,
        &deployment,
        &config,
        &[],
    );
    let key_file = dir.join("alice.key");
    let (code, out, err) = rollup(&["wallet", "new", "--out", key_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let alice = field(&out, "address").unwrap().to_string();
    deposit_with_cli(&anvil, &deployment, &alice, "5000000000000000000");

    // The lie about the deposit's batch is challenged and rejected.
    wait_assertions(&anvil, &deployment, 150, "the lie rejected", |out| {
        out.contains("assertion 1: rejected batch 1")
    });

    let transfer = |command: &str, to: &str, amount: &str| {
        rollup(&[
            command,
            "--rpc",
            &sequencer.rpc,
            "--key-file",
            key_file.to_str().unwrap(),
            "--to",
            to,
            "--amount",
            amount,
        ])
    };
    let bob = "0x00000000000000000000000000000000000000b0";
    let (code, out, err) = transfer("send", bob, "1000");
    assert_eq!(code, 0, "{out}{err}");
    let recipient = "0x00000000000000000000000000000000000000c0";
    let (code, out, err) = transfer("withdraw", recipient, "2000000000000000000");
    assert_eq!(code, 0, "{out}{err}");
    let withdraw_tx = field(&out, "tx").unwrap().to_string();

    // Paid on L1 once its batch's assertion is confirmed and the delay is over.
    let paid = claim_until_paid(
        &anvil.url,
        &validator,
        &deployment,
        USER_KEY,
        &withdraw_tx,
        300,
        || {},
    );
    assert_eq!(field(&paid, "paid"), Some("2000000000000000000"), "{paid}");
    assert_eq!(
        l1.balance(recipient.parse().unwrap()).unwrap(),
        U256::from(2 * ETHER)
    );
    let (code, out, _) = rollup(&["balance", "--rpc", &validator.rpc, bob]);
    assert_eq!((code, field(&out, "balance")), (0, Some("1000")), "{out}");

    // Every batch is a blob transaction: its blobs are on anvil and hash to what the inbox logged.
    let deployment = read_deployment(&deployment);
    let count = contracts::view(&mut l1, deployment.inbox, Inbox::batchCountCall {}).unwrap();
    assert!(count >= 2);
    for number in 1..=count {
        let batch = prover::settlement::fetch_batch(&mut l1, &deployment, number).unwrap();
        assert!(!batch.blobs.is_empty(), "batch {number} is in blobs");
    }
    sequencer.terminate();
    validator.terminate();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A small deterministic generator for the kill schedule (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Sends `tx` (EIP-2718 bytes) until the sequencer acknowledges it, through any number of its
/// deaths. `Ok(true)`: acknowledged; `Ok(false)`: refused as already known (it got in before a
/// crash ate the answer).
fn send_until_acknowledged(rpc: &str, bytes: &[u8]) -> Result<bool, String> {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match NodeClient::new(rpc)
            .unwrap()
            .call("eth_sendRawTransaction", json!([format!("0x{hex}")]))
        {
            Ok(_) => return Ok(true),
            Err(ClientError::Rpc { message, .. })
                if message.contains("too low") || message.contains("already known") =>
            {
                return Ok(false)
            }
            Err(ClientError::Rpc { message, .. }) => return Err(message),
            Err(ClientError::Transport { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(30))
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// An EIP-1559 transfer of one wei to 0xB0..B0 on the L2 of `CHAIN_ID`.
fn evm_transfer(key: &SigningKey, nonce: u64) -> Vec<u8> {
    program::evm_workload::sign(
        key,
        alloy::consensus::TxEip1559 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 50_000_000_000,
            max_priority_fee_per_gas: 0,
            to: alloy::primitives::TxKind::Call([0xB0; 20].into()),
            value: alloy::primitives::U256::from(1u64),
            input: Default::default(),
            access_list: Default::default(),
        },
    )
}

fn quantity(value: &serde_json::Value) -> u128 {
    u128::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// The EVM rollup's nodes under kill -9: every acknowledged Ethereum transaction ends up in a
/// block exactly once, and every receipt the sequencer served before a kill is the final one
/// (soft blocks are durable before they are served, and posted as they were).
#[test]
fn kill_9_at_random_moments_during_a_load_of_10000_transactions_loses_nothing() {
    let total = env_or("HB_KILL_LOAD", 10_000);
    let kill_points = env_or("HB_KILL_POINTS", 20);
    let seed = env_or("HB_KILL_SEED", 0x5EED_1234);
    eprintln!(
        "load {total} transactions, {kill_points} kill points, seed {seed:#x} (HB_KILL_SEED)"
    );
    let mut anvil = Anvil::start();
    let mut l1 = anvil.connect();
    let dir = fresh_dir("kill");
    let (deployment_path, config) = deploy(
        &anvil,
        &dir,
        &format!(
            "stf = \"evm\"\nblock_time = 0.2\nchain_id = {CHAIN_ID}\nstate_commitment_interval = 1\nfraud_proof_timeout = 3600\n"
        ),
    );
    let deployment: Deployment =
        serde_json::from_str(&std::fs::read_to_string(&deployment_path).unwrap()).unwrap();

    // Senders funded through the bridge.
    const SENDERS: u64 = 20;
    let senders: Vec<SigningKey> = (0..SENDERS)
        .map(|i| SigningKey::from_slice(&[i as u8 + 1; 32]).unwrap())
        .collect();
    let funder = wallet_of(USER_KEY);
    for key in &senders {
        contracts::send(
            &mut l1,
            &funder,
            deployment.inbox,
            U256::from(2 * ETHER),
            Inbox::depositCall {
                l2Recipient: address_of(key).into(),
            },
        )
        .unwrap()
        .success()
        .unwrap();
    }

    let mut sequencer = NodeProcess::spawn(
        &node_args(
            &dir.join("seq"),
            "sequencer",
            DEPLOYER_KEY,
            &anvil,
            &deployment_path,
            &config,
            &[],
        ),
        &dir.join("seq.log"),
    );
    let mut validator = NodeProcess::spawn(
        &node_args(
            &dir.join("val"),
            "validator",
            VALIDATOR_KEY,
            &anvil,
            &deployment_path,
            &config,
            &[],
        ),
        &dir.join("val.log"),
    );
    // The deposits are in before the load starts (a sender needs its balance).
    let last_sender = format!("0x{}", hex(&address_of(senders.last().unwrap())));
    let deadline = Instant::now() + Duration::from_secs(60);
    while sequencer
        .client()
        .call("eth_getBalance", json!([last_sender, "latest"]))
        .map(|balance| quantity(&balance))
        .unwrap_or(0)
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the deposits never came: {}",
            sequencer.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The load: each sender's transfers in nonce order, from 4 threads.
    let per_sender = total / SENDERS;
    let rpc = sequencer.rpc.clone();
    let acknowledged = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(Mutex::new(Vec::<String>::new()));
    let sent = Arc::new(Mutex::new(Vec::<String>::new()));
    let load: Vec<_> = (0..4u64)
        .map(|t| {
            let senders: Vec<SigningKey> = senders
                .iter()
                .skip(t as usize)
                .step_by(4)
                .cloned()
                .collect();
            let (rpc, acknowledged, refused, sent) = (
                rpc.clone(),
                acknowledged.clone(),
                refused.clone(),
                sent.clone(),
            );
            std::thread::spawn(move || {
                for nonce in 0..per_sender {
                    for key in &senders {
                        let tx = evm_transfer(key, nonce);
                        match send_until_acknowledged(&rpc, &tx) {
                            Ok(true) => {
                                acknowledged.fetch_add(1, Ordering::Relaxed);
                                let hash = alloy::primitives::keccak256(&tx);
                                sent.lock().unwrap().push(format!("{hash}"));
                            }
                            Ok(false) => {}
                            Err(why) => refused.lock().unwrap().push(why),
                        }
                    }
                }
            })
        })
        .collect();

    // The kills: at random moments, the sequencer or the validator, and a restart at once.
    let mut rng = Rng(seed | 1);
    let mut kills = (0, 0);
    // Receipts the sequencer served before a kill: (tx hash, block hash, status).
    let mut served = Vec::new();
    for _ in 0..kill_points {
        std::thread::sleep(Duration::from_millis(200 + rng.below(1300)));
        let sample: Vec<String> = {
            let sent = sent.lock().unwrap();
            let n = sent.len() as u64;
            (0..5.min(n))
                .map(|_| sent[rng.below(n) as usize].clone())
                .collect()
        };
        for hash in sample {
            if let Ok(receipt) = NodeClient::new(&rpc)
                .unwrap()
                .call("eth_getTransactionReceipt", json!([hash]))
            {
                if !receipt.is_null() {
                    served.push((
                        hash,
                        receipt["blockHash"].clone(),
                        receipt["status"].clone(),
                    ));
                }
            }
        }
        if rng.below(2) == 0 {
            sequencer.kill_and_restart();
            kills.0 += 1;
        } else {
            validator.kill_and_restart();
            kills.1 += 1;
        }
    }
    for thread in load {
        thread.join().unwrap();
    }
    eprintln!(
        "killed the sequencer {} and the validator {} times; {} acknowledged",
        kills.0,
        kills.1,
        acknowledged.load(Ordering::Relaxed)
    );
    assert!(
        refused.lock().unwrap().is_empty(),
        "refused: {:?}",
        refused.lock().unwrap()
    );

    // Everything posted, applied and asserted.
    let settled = |node: &NodeProcess| {
        wait_for(node, 300, "the load settled", |latest| {
            let status = node
                .client()
                .call("hb_syncStatus", json!([]))
                .unwrap_or_default();
            status["mempool"] == 0
                && status["batch"] == status["l1_batches"]
                && latest["assertion_batch"] == latest["batch"]
        })
    };
    let seq_head = settled(&sequencer);
    let val_head = settled(&validator);
    assert_eq!(seq_head["state_root"], val_head["state_root"]);

    // No acknowledged transaction lost, none applied twice: every sender's nonce is its count, and
    // the recipient got one wei per transaction.
    for node in [&sequencer, &validator] {
        for key in &senders {
            let nonce = node
                .client()
                .call(
                    "eth_getTransactionCount",
                    json!([format!("0x{}", hex(&address_of(key))), "latest"]),
                )
                .unwrap();
            assert_eq!(quantity(&nonce), per_sender as u128, "{}", node.output());
        }
        let recipient = node
            .client()
            .call(
                "eth_getBalance",
                json!([format!("0x{}", hex(&[0xB0; 20])), "latest"]),
            )
            .unwrap();
        assert_eq!(quantity(&recipient), (per_sender * SENDERS) as u128);
    }
    // Soft receipts are final: each one served before a kill is the one both nodes serve now.
    eprintln!("{} receipts sampled before kills", served.len());
    assert!(!served.is_empty(), "no receipt was served during the load");
    for (hash, block, status) in &served {
        for node in [&sequencer, &validator] {
            let receipt = node
                .client()
                .call("eth_getTransactionReceipt", json!([hash]))
                .unwrap();
            assert_eq!(&receipt["blockHash"], block, "{hash}");
            assert_eq!(&receipt["status"], status, "{hash}");
        }
    }

    // The config leaves `data_availability` at its default, `auto`: at anvil's prices (blob gas
    // at 1 wei) batches go in blobs, posted while the producer keeps making blocks.
    assert!(
        sequencer.output().contains(" in 1 blob"),
        "no batch went in a blob:\n{}",
        sequencer.output()
    );

    // A clean replay of the posted batches by a fresh validator gives the same root.
    let fresh = NodeProcess::spawn(
        &node_args(
            &dir.join("fresh"),
            "validator",
            VALIDATOR_KEY,
            &anvil,
            &deployment_path,
            &config,
            &[],
        ),
        &dir.join("fresh.log"),
    );
    let fresh_head = wait_for(&fresh, 300, "the clean replay", |latest| {
        latest["batch"] == seq_head["batch"]
    });
    assert_eq!(fresh_head["state_root"], seq_head["state_root"]);

    // L1 agrees: no assertion was rejected, and the last one claims the nodes' root.
    let (code, out, _) = rollup(&[
        "assertions",
        "--l1-rpc",
        &anvil.url,
        "--deployment",
        deployment_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(!out.contains("rejected"), "{out}");
    let last = out.lines().last().unwrap();
    assert!(
        last.contains(&format!("batch {} ", seq_head["batch"])),
        "{last}"
    );
    assert!(
        last.contains(seq_head["state_root"].as_str().unwrap()),
        "{last} vs {seq_head}"
    );
    drop((sequencer, validator, fresh));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `rollup devnet` (embedded L1, a sequencer and a validator in one process): it prints its RPC
/// URLs and funded accounts; a transfer through the CLI lands on both nodes; it restarts on its
/// data dir with the same state; SIGTERM stops it cleanly.
#[test]
fn devnet_serves_funded_accounts_and_restarts_on_its_data_dir() {
    use std::io::{BufRead, BufReader};

    let dir = fresh_dir("devnet");
    let start = |dir: &Path| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rollup"))
            .args([
                "devnet",
                "--data-dir",
                dir.to_str().unwrap(),
                "--rpc-port",
                "0",
                "--l1-port",
                "0",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = Vec::new();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        while !lines.iter().any(|l: &String| l.starts_with("account 3:")) {
            let mut line = String::new();
            assert!(
                reader.read_line(&mut line).unwrap() > 0,
                "devnet ended early: {lines:?}"
            );
            lines.push(line.trim_end().to_string());
        }
        (child, lines.join("\n"))
    };
    let (child, out) = start(&dir);
    let mut devnet = NodeProcess {
        child,
        args: vec![],
        log: dir.join("none.log"),
        rpc: field(&out, "rpc").unwrap().to_string(),
    };
    let validator_rpc = field(&out, "validator_rpc").unwrap().to_string();
    let account = field(&out, "account 0").unwrap().to_string();
    let mut words = account.split_whitespace();
    let address = words.next().unwrap().to_string();
    let key = words.nth(1).unwrap().to_string();
    let key_file = dir.join("account0.key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();

    // The deposits land in the first batch; then a transfer through the CLI.
    wait_for(&devnet, 60, "the deposits applied", |latest| {
        latest["batch"].as_u64() >= Some(1)
    });
    let (code, out, _) = rollup(&["balance", "--rpc", &devnet.rpc, &address]);
    assert_eq!(
        (code, field(&out, "balance")),
        (0, Some("100000000000000000000"))
    );
    let (code, out, err) = rollup(&[
        "send",
        "--rpc",
        &devnet.rpc,
        "--key-file",
        key_file.to_str().unwrap(),
        "--to",
        "0x00000000000000000000000000000000000000d0",
        "--amount",
        "777",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let deadline = Instant::now() + Duration::from_secs(60);
    for rpc in [&devnet.rpc, &validator_rpc] {
        loop {
            let (_, out, _) = rollup(&[
                "balance",
                "--rpc",
                rpc,
                "0x00000000000000000000000000000000000000d0",
            ]);
            if field(&out, "balance") == Some("777") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the transfer never landed on {rpc}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let (_, before, _) = rollup(&["status", "--rpc", &devnet.rpc]);
    devnet.terminate_in_place();

    // Restarted on the same data dir: the same chain, the same state.
    let (child, out) = start(&dir);
    let devnet = NodeProcess {
        child,
        args: vec![],
        log: dir.join("none.log"),
        rpc: field(&out, "rpc").unwrap().to_string(),
    };
    let (_, after, _) = rollup(&["status", "--rpc", &devnet.rpc]);
    assert_eq!(field(&after, "state_root"), field(&before, "state_root"));
    let (_, out, _) = rollup(&[
        "balance",
        "--rpc",
        &devnet.rpc,
        "0x00000000000000000000000000000000000000d0",
    ]);
    assert_eq!(field(&out, "balance"), Some("777"));
    devnet.terminate();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `rollup devnet` serves its L1 over Ethereum JSON-RPC: `rollup deposit` and `rollup
/// assertions` reach it with the URL and deployment file it prints, and an independent `rollup
/// node --role validator` started beside it follows the batches the devnet's sequencer posts, to
/// the same state root, and reads its assertions from the served chain; a withdrawal is claimed
/// through it once `evm_increaseTime` has moved the chain past its delays.
#[test]
fn devnet_serves_its_l1_to_the_l1_commands_and_an_independent_validator() {
    use std::io::{BufRead, BufReader};

    let dir = fresh_dir("devnet-l1");
    let log = dir.join("devnet.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollup"))
        .args([
            "devnet",
            "--data-dir",
            dir.join("devnet").to_str().unwrap(),
            "--rpc-port",
            "0",
            "--l1-port",
            "0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    while !lines.iter().any(|l: &String| l.starts_with("account 3:")) {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "devnet ended early: {lines:?}"
        );
        lines.push(line.trim_end().to_string());
    }
    let out = lines.join("\n");
    let mut devnet = NodeProcess {
        child,
        args: vec![],
        log,
        rpc: field(&out, "rpc").unwrap().to_string(),
    };
    let l1_rpc = field(&out, "l1_rpc").unwrap().to_string();
    let deployment = field(&out, "deployment").unwrap().to_string();
    assert!(l1_rpc.starts_with("http://127.0.0.1:"), "{out}");
    assert!(Path::new(&deployment).exists(), "{out}");
    let key = |account: &str| {
        let line = field(&out, account).unwrap().to_string();
        line.split_whitespace().nth(2).unwrap().to_string()
    };

    // The funding deposits make batch 1; one more through the served L1 makes batch 2.
    wait_for(&devnet, 60, "the funding deposits applied", |latest| {
        latest["batch"].as_u64() >= Some(1)
    });
    let (code, out, err) = rollup(&[
        "deposit",
        "--l1-rpc",
        &l1_rpc,
        "--deployment",
        &deployment,
        "--key",
        &key("account 0"),
        "--to",
        "0x00000000000000000000000000000000000000a1",
        "--amount",
        "1000",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(field(&out, "tx").is_some(), "{out}");
    let posted = wait_for(&devnet, 60, "the deposit applied", |latest| {
        latest["batch"].as_u64() >= Some(2)
    });
    let (code, out, err) = rollup(&[
        "balance",
        "--rpc",
        &devnet.rpc,
        "0x00000000000000000000000000000000000000a1",
    ]);
    assert_eq!((code, field(&out, "balance")), (0, Some("1000")), "{err}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, out, err) = rollup(&[
            "assertions",
            "--l1-rpc",
            &l1_rpc,
            "--deployment",
            &deployment,
        ]);
        assert_eq!(code, 0, "{out}{err}");
        if out.contains(" batch 2 ") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "batch 2 never asserted:\n{out}\n{}",
            devnet.output()
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // An independent validator on the served L1: no config, its chain id is the deployment's.
    let args: Vec<String> = [
        "--data-dir",
        dir.join("validator").to_str().unwrap(),
        "--role",
        "validator",
        "--key",
        &key("account 3"),
        "--l1-rpc",
        &l1_rpc,
        "--deployment",
        &deployment,
        "--rpc-addr",
        &format!("127.0.0.1:{}", free_port()),
        "--poll-ms",
        "200",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let validator = NodeProcess::spawn(&args, &dir.join("validator.log"));
    let followed = wait_for(&validator, 120, "the validator followed", |latest| {
        latest["batch"] == posted["batch"] && latest["assertion"].as_u64() >= Some(1)
    });
    let now = devnet.client().call("hb_latestBatch", json!([])).unwrap();
    assert_eq!(now["batch"], posted["batch"], "nothing else was posted");
    assert_eq!(followed["state_root"], now["state_root"]);

    // A withdrawal claimed on the served L1, its wait skipped with anvil's evm_increaseTime.
    let key_file = dir.join("account0.key");
    std::fs::write(&key_file, format!("{}\n", key("account 0"))).unwrap();
    let recipient = "0x00000000000000000000000000000000000000e1";
    let (code, out, err) = rollup(&[
        "withdraw",
        "--rpc",
        &devnet.rpc,
        "--key-file",
        key_file.to_str().unwrap(),
        "--to",
        recipient,
        "--amount",
        "4242",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let tx = field(&out, "tx").unwrap().to_string();
    wait_for(&devnet, 60, "the withdrawal applied", |latest| {
        latest["batch"].as_u64() >= Some(3) && latest["assertion_batch"].as_u64() >= Some(3)
    });
    let mut l1 = verifier::l1::rpc::RpcL1::connect(&l1_rpc).unwrap();
    l1.advance_time(3600).unwrap();
    // The withdrawal delay counts from the confirmation, which comes after the first skip.
    let paid = claim_until_paid(
        &l1_rpc,
        &devnet,
        Path::new(&deployment),
        &key("account 0"),
        &tx,
        60,
        || l1.advance_time(30).unwrap(),
    );
    assert_eq!(field(&paid, "paid"), Some("4242"), "{paid}");
    assert_eq!(
        l1.balance(recipient.parse().unwrap()).unwrap(),
        U256::from(4242)
    );

    // A transfer forced through the served L1, without the sequencer's RPC (`--nonce`): the
    // devnet's sequencer includes it with the next batch, the validator follows.
    let (code, out, err) = rollup(&[
        "force-tx",
        "--l1-rpc",
        &l1_rpc,
        "--deployment",
        &deployment,
        "--key",
        &key("account 1"),
        "--key-file",
        key_file.to_str().unwrap(),
        "--to",
        "0x00000000000000000000000000000000000000b2",
        "--amount",
        "55",
        "--nonce",
        "1",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        field(&out, "l1_tx").is_some() && field(&out, "forceable_at").is_some(),
        "{out}"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    for node in [&devnet, &validator] {
        loop {
            let (_, out, _) = rollup(&[
                "balance",
                "--rpc",
                &node.rpc,
                "0x00000000000000000000000000000000000000b2",
            ]);
            if field(&out, "balance") == Some("55") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the forced transfer never applied: {out}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    validator.terminate();
    devnet.terminate_in_place();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// kill -9 of both parties in the middle of a game: restarted, they rebuild the game from L1's
/// events and play it to the end; the lie is rejected and batch 1 asserted truthfully.
#[test]
fn a_game_survives_kill_9_of_both_parties_on_anvil() {
    let mut anvil = Anvil::start();
    let mut l1 = anvil.connect();
    let dir = fresh_dir("game-kill");
    let (deployment, config) = deploy_short(&anvil, &dir, 60, 60);
    let sequencer_args = |fault: &[&str]| {
        node_args(
            &dir.join("seq"),
            "sequencer",
            DEPLOYER_KEY,
            &anvil,
            &deployment,
            &config,
            fault,
        )
    };
    let mut sequencer = NodeProcess::spawn(
        &sequencer_args(&["--fault", "wrong-root"]),
        &dir.join("seq.log"),
    );
    let mut validator = NodeProcess::spawn(
        &node_args(
            &dir.join("val"),
            "validator",
            VALIDATOR_KEY,
            &anvil,
            &deployment,
            &config,
            &[],
        ),
        &dir.join("val.log"),
    );
    deposit_a_little(&anvil, &deployment);

    // After the first round (the liar dissected, the validator challenged a part), both die.
    wait_log(&validator, 60, "dispute: challenge from");
    sequencer.child.kill().unwrap();
    validator.child.kill().unwrap();
    sequencer.child.wait().unwrap();
    validator.child.wait().unwrap();
    let (_, before, _) = rollup(&[
        "assertions",
        "--l1-rpc",
        &anvil.url,
        "--deployment",
        deployment.to_str().unwrap(),
    ]);
    assert!(
        before.contains("assertion 1: pending batch 1"),
        "the dispute was still open: {before}"
    );

    // Restarted (the sequencer honest now: it attacks its own lie like anyone), they finish the
    // dispute from L1's events.
    sequencer = NodeProcess::spawn(&sequencer_args(&[]), &dir.join("seq.log"));
    validator.kill_and_restart();
    wait_for(
        &validator,
        120,
        "batch 1 asserted truthfully after the game",
        |latest| latest["assertion_batch"] == 1 && latest["assertion"].as_u64() >= Some(2),
    );
    let after = wait_assertions(&anvil, &deployment, 300, "the lie rejected", |out| {
        out.contains("assertion 1: rejected batch 1")
    });
    assert!(after.contains("assertion 2: pending batch 1"), "{after}");
    let burned = verifier::settlement::contracts::view(
        &mut l1,
        serde_json::from_str::<Deployment>(&std::fs::read_to_string(&deployment).unwrap())
            .unwrap()
            .rollup,
        verifier::settlement::contracts::Rollup::totalBurnedCall {},
    )
    .unwrap();
    assert!(burned > U256::ZERO, "half the liar's stake is burned");
    drop((sequencer, validator));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--fault throw`: the sequencer asserts correctly and, shortly before each period ends,
/// challenges its own assertion from a second key (printed at start) and walks away. An
/// independent validator defends it; killed with -9 in the middle of that and restarted, it
/// finishes from L1; the assertion is confirmed within the period and two clocks.
#[test]
fn a_thrown_assertion_is_defended_by_a_third_party_on_anvil() {
    let mut anvil = Anvil::start();
    anvil.connect();
    let dir = fresh_dir("throw");
    let (period, budget) = (40u64, 40u64);
    let (deployment, config) = deploy_short(&anvil, &dir, period, budget);
    let sequencer = spawn_node(
        &dir,
        "seq",
        "sequencer",
        DEPLOYER_KEY,
        &anvil,
        &deployment,
        &config,
        &["--fault", "throw"],
    );
    let mut validator = spawn_node(
        &dir,
        "val",
        "validator",
        VALIDATOR_KEY,
        &anvil,
        &deployment,
        &config,
        &[],
    );
    wait_log(&sequencer, 30, "fault_address: 0x");
    deposit_a_little(&anvil, &deployment);
    wait_for(&sequencer, 60, "batch 1 asserted", |latest| {
        latest["assertion_batch"] == 1
    });
    let asserted_at = Instant::now();
    // The throw comes near the period's end; the validator defends (dissects), then dies.
    wait_log(&sequencer, period + 30, "challengeAssertion (throw)");
    wait_log(&validator, 60, "dispute: dissect from");
    validator.kill_and_restart();
    let out = wait_assertions(
        &anvil,
        &deployment,
        period + 2 * budget + 60,
        "assertion 1 confirmed",
        |out| out.contains("assertion 1: confirmed batch 1"),
    );
    let took = asserted_at.elapsed().as_secs();
    eprintln!(
        "thrown assertion confirmed {took} s after it was asserted (bound {} s + blocks)",
        period + 2 * budget
    );
    assert!(out.contains("disputes 1"), "its root challenge: {out}");
    assert!(took <= period + 2 * budget + 30, "{took} s");
    drop((sequencer, validator));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--fault sybil:3`: a validator posts three wrong rival assertions (each from its own key,
/// printed at start, each with its own stake) against every assertion of the sequencer and plays
/// them like liars. The honest sequencer, killed with -9 in the middle of the disputes and
/// restarted, wins them all: its assertion confirmed within the bound, every rival rejected.
#[test]
fn sybil_rivals_lose_to_the_honest_sequencer_on_anvil() {
    let mut anvil = Anvil::start();
    anvil.connect();
    let dir = fresh_dir("sybil");
    let (period, budget) = (40u64, 60u64);
    let (deployment, config) = deploy_short(&anvil, &dir, period, budget);
    let mut sequencer = spawn_node(
        &dir,
        "seq",
        "sequencer",
        DEPLOYER_KEY,
        &anvil,
        &deployment,
        &config,
        &[],
    );
    let sybil = spawn_node(
        &dir,
        "syb",
        "validator",
        VALIDATOR_KEY,
        &anvil,
        &deployment,
        &config,
        &["--fault", "sybil:3"],
    );
    wait_log(&sybil, 30, "fault_address: 0x");
    deposit_a_little(&anvil, &deployment);
    wait_for(&sequencer, 60, "batch 1 asserted", |latest| {
        latest["assertion_batch"] == 1
    });
    let asserted_at = Instant::now();
    wait_assertions(&anvil, &deployment, 60, "three rivals", |out| {
        out.contains("assertion 4: pending batch 1")
    });
    // In the middle of the disputes the sequencer dies and comes back.
    wait_log(&sequencer, 60, "dispute: challengeAssertion from");
    sequencer.kill_and_restart();
    let out = wait_assertions(
        &anvil,
        &deployment,
        period + 2 * budget + 90,
        "the truth confirmed, the rivals rejected",
        |out| {
            out.contains("assertion 1: confirmed batch 1")
                && (2..=4).all(|id| out.contains(&format!("assertion {id}: rejected batch 1")))
        },
    );
    let took = asserted_at.elapsed().as_secs();
    eprintln!(
        "with 3 sybil rivals: confirmed {took} s after it was asserted (bound {} s + blocks)",
        period + 2 * budget
    );
    assert!(
        out.contains("assertion 1: confirmed batch 1") && out.contains("disputes 4"),
        "{out}"
    );
    drop((sequencer, sybil));
    std::fs::remove_dir_all(&dir).unwrap();
}
