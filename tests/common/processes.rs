//! `rollup` processes against anvil, as operators and outside checks run them: deploying, node
//! processes with their logs, and waiting on what they and L1 say.

#![allow(dead_code)]

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prover::node::client::NodeClient;
use serde_json::{json, Value};
use verifier::l1::{Wallet, B256};
use verifier::settlement::contracts::Deployment;

use super::anvil_node::Anvil;
use super::rollup_cli::rollup;

/// anvil's first three funded development accounts (its well-known default mnemonic).
pub const DEPLOYER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub const VALIDATOR_KEY: &str =
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
pub const USER_KEY: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
pub const CHAIN_ID: u64 = 11;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The stacks of every thread of process `pid` (gdb, where the machine has it), for a failure
/// message.
fn stacks_of(pid: u32) -> String {
    let pid = pid.to_string();
    match Command::new("timeout")
        .args([
            "30",
            "gdb",
            "-p",
            &pid,
            "-batch",
            "-ex",
            "thread apply all bt 30",
        ])
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) => format!(
            "threads of {pid}:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ),
        Err(e) => format!("(no stacks of {pid}: {e})"),
    }
}

pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hb-proc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `rollup node` process; killed (SIGKILL) and reaped when dropped.
pub struct NodeProcess {
    pub child: Child,
    pub args: Vec<String>,
    pub log: PathBuf,
    pub rpc: String,
}

impl NodeProcess {
    pub fn spawn(args: &[String], log: &Path) -> NodeProcess {
        let out = File::options().create(true).append(true).open(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_rollup"))
            .arg("node")
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start rollup node");
        let port = args
            .iter()
            .position(|a| a == "--rpc-addr")
            .map(|i| args[i + 1].clone())
            .unwrap();
        let mut node = NodeProcess {
            child,
            args: args.to_vec(),
            log: log.to_path_buf(),
            rpc: format!("http://{port}"),
        };
        node.wait_serving();
        node
    }

    pub fn client(&self) -> NodeClient {
        NodeClient::new(&self.rpc).unwrap()
    }

    /// Waits until the node answers on its RPC. A node that exits first fails at once with its
    /// output; one that hangs (it starts in well under a second) fails after two minutes with its
    /// threads' stacks, so a stall on a loaded machine says where it was.
    pub fn wait_serving(&mut self) {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(120);
        while self.client().call("hb_syncStatus", json!([])).is_err() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the node exited ({status}) before serving:\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the node did not serve within 120 s:\n{}\n{}",
                self.output(),
                stacks_of(self.child.id())
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let waited = started.elapsed();
        if waited > Duration::from_secs(10) {
            eprintln!("the node took {:.1} s to serve", waited.as_secs_f64());
        }
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// kill -9, then the same command again on the same data dir and port.
    pub fn kill_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        *self = NodeProcess::spawn(&self.args.clone(), &self.log.clone());
    }

    /// SIGTERM (what Ctrl-C does): the node must stop by itself, with exit code 0.
    pub fn terminate(mut self) {
        self.terminate_in_place();
    }

    pub fn terminate_in_place(&mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "{status}: {}", self.output());
                return;
            }
            assert!(Instant::now() < deadline, "no clean stop within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn node_args(
    dir: &Path,
    role: &str,
    key: &str,
    anvil: &Anvil,
    deployment: &Path,
    config: &Path,
    extra: &[&str],
) -> Vec<String> {
    let mut args: Vec<String> = [
        "--data-dir",
        dir.to_str().unwrap(),
        "--role",
        role,
        "--key",
        key,
        "--l1-rpc",
        &anvil.url,
        "--deployment",
        deployment.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--rpc-addr",
        &format!("127.0.0.1:{}", free_port()),
        "--poll-ms",
        "200",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

pub fn deploy(anvil: &Anvil, dir: &Path, config: &str) -> (PathBuf, PathBuf) {
    let config_path = dir.join("rollup.toml");
    std::fs::write(&config_path, config).unwrap();
    let deployment = dir.join("deployment.json");
    let (code, out, err) = rollup(&[
        "deploy",
        "--l1-rpc",
        &anvil.url,
        "--key",
        DEPLOYER_KEY,
        "--config",
        config_path.to_str().unwrap(),
        "--out",
        deployment.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    (deployment, config_path)
}

/// Waits until `done` holds of the node's `hb_latestBatch`, up to `seconds`.
pub fn wait_for(
    node: &NodeProcess,
    seconds: u64,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Ok(latest) = node.client().call("hb_latestBatch", json!([])) {
            if done(&latest) {
                return latest;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {seconds} s:\n{}",
            node.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn read_deployment(path: &Path) -> Deployment {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A `rollup node` process in `dir/name` (its log `dir/name.log`).
#[allow(clippy::too_many_arguments)]
pub fn spawn_node(
    dir: &Path,
    name: &str,
    role: &str,
    key: &str,
    anvil: &Anvil,
    deployment: &Path,
    config: &Path,
    extra: &[&str],
) -> NodeProcess {
    NodeProcess::spawn(
        &node_args(&dir.join(name), role, key, anvil, deployment, config, extra),
        &dir.join(format!("{name}.log")),
    )
}

/// A deposit of 1,000 wei through the CLI: it makes the next batch.
pub fn deposit_a_little(anvil: &Anvil, deployment: &Path) {
    deposit_with_cli(
        anvil,
        deployment,
        "0x00000000000000000000000000000000000000a1",
        "1000",
    );
}

/// `rollup deposit` of `wei` to L2 account `to`, paid by the user's key.
pub fn deposit_with_cli(anvil: &Anvil, deployment: &Path, to: &str, wei: &str) {
    let (code, out, err) = rollup(&[
        "deposit",
        "--l1-rpc",
        &anvil.url,
        "--deployment",
        deployment.to_str().unwrap(),
        "--key",
        USER_KEY,
        "--to",
        to,
        "--amount",
        wei,
    ]);
    assert_eq!(code, 0, "{out}{err}");
}

/// A rollup on `anvil` with short periods: batches every second, `period` and `budget` in
/// seconds.
pub fn deploy_short(anvil: &Anvil, dir: &Path, period: u64, budget: u64) -> (PathBuf, PathBuf) {
    deploy(
        anvil,
        dir,
        &format!("stf = \"ledger\"\nchain_id = {CHAIN_ID}\nstate_commitment_interval = 1\nfraud_proof_timeout = {period}\nwithdrawal_delay = 10\nclock_budget = {budget}\n"),
    )
}

/// What `rollup assertions` prints.
pub fn assertions_of(anvil: &Anvil, deployment: &Path) -> String {
    let (code, out, err) = rollup(&[
        "assertions",
        "--l1-rpc",
        &anvil.url,
        "--deployment",
        deployment.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    out
}

/// Waits until `done` holds of what `rollup assertions` prints, up to `seconds`.
pub fn wait_assertions(
    anvil: &Anvil,
    deployment: &Path,
    seconds: u64,
    what: &str,
    done: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let out = assertions_of(anvil, deployment);
        if done(&out) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {seconds} s:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Waits until the node's log contains `text`, up to `seconds`.
pub fn wait_log(node: &NodeProcess, seconds: u64, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !node.output().contains(text) {
        assert!(
            Instant::now() < deadline,
            "no {text:?} within {seconds} s:\n{}",
            node.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The wallet of a key given as `0x` + 64 hex digits.
pub fn wallet_of(key: &str) -> Wallet {
    Wallet::from_secret(&key.parse::<B256>().unwrap().0).unwrap()
}

/// `rollup claim` (paid by `key`) against the L1 at `l1_rpc` until it pays (the assertion must be
/// confirmed and the delay over first), calling `between_tries` after each refusal (a devnet skips
/// L1 time there; on anvil the delay passes in real time).
pub fn claim_until_paid(
    l1_rpc: &str,
    node: &NodeProcess,
    deployment: &Path,
    key: &str,
    tx: &str,
    seconds: u64,
    mut between_tries: impl FnMut(),
) -> String {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let (code, out, err) = rollup(&[
            "claim",
            "--rpc",
            &node.rpc,
            "--l1-rpc",
            l1_rpc,
            "--deployment",
            deployment.to_str().unwrap(),
            "--key",
            key,
            "--tx",
            tx,
        ]);
        if code == 0 {
            return out;
        }
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            Instant::now() < deadline,
            "never paid within {seconds} s: {out}{err}\n{}",
            node.output()
        );
        between_tries();
        std::thread::sleep(Duration::from_secs(1));
    }
}
