//! Getting out without the operator, with whole `rollup` processes against anvil:
//! - a sequencer started with `--fault censor:ALICE`: Alice's withdrawal never makes its batches;
//!   she forces it through L1 with `rollup force-tx`, it is included once overdue, and
//!   `rollup claim` pays it on L1;
//! - the sequencer killed for good: after `sequencer_timeout` the validator takes Alice's
//!   withdrawal, posts it, asserts it, and `rollup claim` pays it on L1.
//! - many deposits, then fresh validators catching up through providers that cap `eth_getLogs`
//!   (a proxy in front of anvil).
//!
//! They run side by side, each on its own anvil.

#[path = "common/anvil.rs"]
mod anvil_node;
mod common;
#[path = "common/log_proxy.rs"]
mod log_proxy;
#[path = "common/processes.rs"]
mod processes;
#[path = "common/rollup_cli.rs"]
mod rollup_cli;

use std::path::Path;
use std::time::{Duration, Instant};

use anvil_node::Anvil;
use processes::*;
use rollup_cli::{field, rollup};
use serde_json::json;

/// Alice's L2 key, in a key file as `rollup wallet new` writes it.
const ALICE_KEY: &str = "0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const TWO_ETH: &str = "2000000000000000000";

fn alice_key_file(dir: &Path) -> String {
    let path = dir.join("alice.key");
    std::fs::write(&path, format!("{ALICE_KEY}\n")).unwrap();
    path.to_str().unwrap().to_string()
}

fn alice() -> String {
    wallet_of(ALICE_KEY).address().to_string()
}

fn user() -> String {
    wallet_of(USER_KEY).address().to_string()
}

/// A rollup with short periods for exits: `force_delay` and `timeout` in seconds.
fn deploy_exits(
    anvil: &Anvil,
    dir: &Path,
    force_delay: u64,
    timeout: u64,
) -> (std::path::PathBuf, std::path::PathBuf) {
    deploy(
        anvil,
        dir,
        &format!(
            "stf = \"ledger\"\nchain_id = {CHAIN_ID}\nstate_commitment_interval = 1\nfraud_proof_timeout = 40\nwithdrawal_delay = 5\nclock_budget = 40\nforce_inclusion_delay = {force_delay}\nsequencer_timeout = {timeout}\n"
        ),
    )
}

fn deposit_to_alice(anvil: &Anvil, deployment: &Path) {
    deposit_with_cli(anvil, deployment, &alice(), "5000000000000000000");
}

fn l2_balance(node: &NodeProcess, who: &str) -> u128 {
    node.client()
        .call("hb_getBalance", json!([who]))
        .ok()
        .and_then(|b| b["balance"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

fn wait_balance(node: &NodeProcess, who: &str, wei: u128, seconds: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while l2_balance(node, who) != wei {
        assert!(
            Instant::now() < deadline,
            "{who} never had {wei} within {seconds} s:\n{}",
            node.output()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_censored_withdrawal_is_forced_through_l1_and_claimed_on_anvil() {
    let mut anvil = Anvil::start();
    anvil.connect();
    let dir = fresh_dir("exit-censor");
    let force_delay = 20;
    let (deployment, config) = deploy_exits(&anvil, &dir, force_delay, 3600);
    let censor = format!("censor:{}", alice());
    let sequencer = spawn_node(
        &dir,
        "seq",
        "sequencer",
        DEPLOYER_KEY,
        &anvil,
        &deployment,
        &config,
        &["--fault", &censor],
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
    deposit_to_alice(&anvil, &deployment);
    wait_balance(&validator, &alice(), 5_000_000_000_000_000_000, 60);

    let key_file = alice_key_file(&dir);
    let (code, sent, err) = rollup(&[
        "withdraw",
        "--rpc",
        &sequencer.rpc,
        "--key-file",
        &key_file,
        "--to",
        &user(),
        "--amount",
        TWO_ETH,
    ]);
    assert_eq!(code, 0, "{sent}{err}");
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        l2_balance(&validator, &alice()),
        5_000_000_000_000_000_000,
        "censored"
    );

    // Forced through L1, at the nonce the validator (whose mempool is empty) gives.
    let (code, forced, err) = rollup(&[
        "force-tx",
        "--l1-rpc",
        &anvil.url,
        "--deployment",
        deployment.to_str().unwrap(),
        "--key",
        USER_KEY,
        "--key-file",
        &key_file,
        "--to",
        &user(),
        "--amount",
        TWO_ETH,
        "--withdraw",
        "--rpc",
        &validator.rpc,
    ]);
    assert_eq!(code, 0, "{forced}{err}");
    let tx = field(&forced, "tx").unwrap().to_string();
    assert_eq!(
        Some(tx.as_str()),
        field(&sent, "tx"),
        "the same signed transaction"
    );
    assert!(field(&forced, "l1_tx").unwrap().starts_with("0x"));
    let forceable_at: u64 = field(&forced, "forceable_at").unwrap().parse().unwrap();
    assert!(forceable_at > 0);
    wait_balance(
        &validator,
        &alice(),
        3_000_000_000_000_000_000,
        force_delay + 60,
    );
    wait_balance(&sequencer, &alice(), 3_000_000_000_000_000_000, 30);

    let paid = claim_until_paid(
        &anvil.url,
        &validator,
        &deployment,
        VALIDATOR_KEY,
        &tx,
        180,
        || {},
    );
    assert_eq!(field(&paid, "paid"), Some(TWO_ETH), "{paid}");
    drop((sequencer, validator));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_validator_carries_the_chain_when_the_sequencer_is_gone_on_anvil() {
    let mut anvil = Anvil::start();
    anvil.connect();
    let dir = fresh_dir("exit-gone");
    let timeout = 30;
    let (deployment, config) = deploy_exits(&anvil, &dir, 20, timeout);
    let sequencer = spawn_node(
        &dir,
        "seq",
        "sequencer",
        DEPLOYER_KEY,
        &anvil,
        &deployment,
        &config,
        &[],
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
    deposit_to_alice(&anvil, &deployment);
    wait_balance(&validator, &alice(), 5_000_000_000_000_000_000, 60);
    // The sequencer is gone for good.
    drop(sequencer);
    let gone_at = Instant::now();

    // The validator refuses transactions until the timeout has passed, then takes them.
    let key_file = alice_key_file(&dir);
    let sent = loop {
        let (code, out, err) = rollup(&[
            "withdraw",
            "--rpc",
            &validator.rpc,
            "--key-file",
            &key_file,
            "--to",
            &user(),
            "--amount",
            TWO_ETH,
        ]);
        if code == 0 {
            break out;
        }
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.contains("not a sequencer"), "{out}");
        assert!(
            gone_at.elapsed() < Duration::from_secs(timeout + 60),
            "never taken:\n{}",
            validator.output()
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    let tx = field(&sent, "tx").unwrap().to_string();
    wait_balance(&validator, &alice(), 3_000_000_000_000_000_000, 60);
    wait_log(&validator, 60, "posted batch");
    let paid = claim_until_paid(
        &anvil.url,
        &validator,
        &deployment,
        VALIDATOR_KEY,
        &tx,
        180,
        || {},
    );
    assert_eq!(field(&paid, "paid"), Some(TWO_ETH), "{paid}");
    drop(validator);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Deposits of 1 wei (20,000; 2,000 under CI; `EXITS_DEPOSITS` to choose), batched by the
/// sequencer; then fresh validators catch up through providers that cap `eth_getLogs`: the
/// issue's (1,000 blocks, 10,000 logs a request) and a meaner one (100 blocks, 50 logs) that
/// refuses the node's first pages, which it halves.
#[test]
fn fresh_validators_catch_up_on_many_deposits_through_capped_providers_on_anvil() {
    let count = common::scaled_count("EXITS_DEPOSITS", 2_000, 20_000);
    let mut anvil = Anvil::start();
    let mut l1 = anvil.connect();
    let dir = fresh_dir("exit-capped");
    let (deployment, config) = deploy_exits(&anvil, &dir, 3600, 3600);
    let parsed = read_deployment(&deployment);
    let user = wallet_of(USER_KEY);
    let started = Instant::now();
    for i in 0..count {
        let mut to = [0xD0; 20];
        to[12..].copy_from_slice(&i.to_be_bytes());
        verifier::settlement::contracts::send(
            &mut l1,
            &user,
            parsed.inbox,
            verifier::l1::U256::from(1),
            verifier::settlement::contracts::Inbox::depositCall {
                l2Recipient: to.into(),
            },
        )
        .unwrap()
        .success()
        .unwrap();
    }
    eprintln!(
        "{count} deposits on anvil in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let sequencer = spawn_node(
        &dir,
        "seq",
        "sequencer",
        DEPLOYER_KEY,
        &anvil,
        &deployment,
        &config,
        &[],
    );
    let batches = count.div_ceil(1000);
    let head = wait_for(&sequencer, 300, "every deposit applied", |latest| {
        latest["batch"].as_u64() == Some(batches)
    });
    for (name, max_blocks, max_results) in [("val", 1_000, 10_000), ("val-mean", 100, 50)] {
        let proxy = log_proxy::LogProxy::start(&anvil.url, max_blocks, max_results);
        let mut args = node_args(
            &dir.join(name),
            "validator",
            VALIDATOR_KEY,
            &anvil,
            &deployment,
            &config,
            &[],
        );
        let at = args.iter().position(|a| a == "--l1-rpc").unwrap();
        args[at + 1] = proxy.url.clone();
        let validator = NodeProcess::spawn(&args, &dir.join(format!("{name}.log")));
        let caught_up = wait_for(&validator, 300, "caught up", |latest| {
            latest["batch"].as_u64() == Some(batches)
        });
        assert_eq!(caught_up["state_root"], head["state_root"]);
        let counts = &proxy.counts;
        let (answered, refused, widest) = (
            counts
                .logs_answered
                .load(std::sync::atomic::Ordering::Relaxed),
            counts
                .logs_refused
                .load(std::sync::atomic::Ordering::Relaxed),
            counts.widest.load(std::sync::atomic::Ordering::Relaxed),
        );
        eprintln!("{name}: caps {max_blocks} blocks / {max_results} logs: {answered} log requests answered, {refused} refused, widest {widest} blocks");
        assert!(widest <= max_blocks);
        if max_results == 50 {
            assert!(refused > 0, "the mean provider refused pages");
        }
        drop(validator);
    }
    drop(sequencer);
    std::fs::remove_dir_all(&dir).unwrap();
}
