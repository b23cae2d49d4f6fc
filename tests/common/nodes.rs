//! Nodes on the embedded L1 driven turn by turn in the test's process: starting them, settling
//! their turns, and talking to their RPC as users do.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use prover::config::RollupConfig;
use prover::node::chain;
use prover::node::client::{ClientError, NodeClient};
use prover::node::duties::{Action, Fault};
use prover::node::player::Played;
use prover::node::service::{Node, NodeOptions, Role, Turn};
use prover::settlement::{pending_delayed, L1Log};
use serde_json::{json, Value};
use verifier::bisection::referee::NodeState;
use verifier::l1::{Wallet, L1};
use verifier::settlement::contracts::Deployment;

pub const PERIOD: u64 = 100;

/// The transfer ledger's rollup: the node tests written for it run it as the second STF.
pub fn config() -> RollupConfig {
    RollupConfig {
        stf: prover::config::Stf::Ledger,
        chain_id: 77,
        state_commitment_interval: 1,
        fraud_proof_timeout: PERIOD,
        withdrawal_delay: PERIOD,
        clock_budget: 50,
        ..RollupConfig::default()
    }
}

pub fn wallet(byte: u8) -> Wallet {
    Wallet::from_secret(&[byte; 32]).unwrap()
}

pub fn start(
    dir: &Path,
    role: Role,
    who: &Wallet,
    deployment: &Deployment,
    l1: &mut dyn L1,
    fault: Option<Fault>,
) -> Node {
    start_with(config(), dir, role, who, deployment, l1, fault)
}

pub fn start_with(
    config: RollupConfig,
    dir: &Path,
    role: Role,
    who: &Wallet,
    deployment: &Deployment,
    l1: &mut dyn L1,
    fault: Option<Fault>,
) -> Node {
    Node::start(
        NodeOptions {
            data_dir: dir.to_path_buf(),
            role,
            wallet: who.clone(),
            deployment: deployment.clone(),
            rpc_addr: "127.0.0.1:0".parse().unwrap(),
            config,
            fault,
        },
        l1,
    )
    .unwrap()
}

pub fn url(node: &Node) -> NodeClient {
    NodeClient::new(&format!("http://{}", node.rpc_addr())).unwrap()
}

pub fn hex(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{digits}")
}

/// What the nodes did over some turns: their duties and their dispute moves.
#[derive(Default)]
pub struct Done {
    pub actions: Vec<Action>,
    pub played: Vec<Played>,
    pub alerts: Vec<String>,
}

impl Done {
    pub fn played(&self, kind: &str, from: &Wallet) -> bool {
        self.played
            .iter()
            .any(|p| p.kind == kind && p.from == from.address() && p.refused.is_none())
    }
}

/// Turns of the nodes until none has anything to do and nothing waits to be posted (the
/// sequencer posts once its interval has passed); while only disputes wait for their clocks,
/// L1's time moves 10 s a turn. Every turn's actions and moves.
pub fn settle(nodes: &mut [&mut Node], l1: &mut dyn L1) -> Done {
    let mut done = Done::default();
    for _ in 0..400 {
        let mut idle = true;
        for node in nodes.iter_mut() {
            let turn: Turn = node.turn(l1, &mut |_| {}).unwrap();
            idle &= turn.is_idle();
            done.actions.extend(turn.actions);
            done.played.extend(turn.played);
            done.alerts.extend(turn.alerts);
        }
        let deployment = nodes[0].deployment.clone();
        let log = L1Log::read(l1, &deployment).unwrap();
        let waiting = nodes.iter().any(|node| {
            let status = url(node).call("hb_syncStatus", json!([])).unwrap();
            status["mempool"] != 0 || status["batch"] != status["l1_batches"]
        }) || !pending_delayed(l1, &log, usize::MAX).unwrap().is_empty();
        let disputed = chain::read(l1, &log)
            .unwrap()
            .tree
            .values()
            .any(|n| n.state == NodeState::Open);
        if idle && !waiting && disputed {
            l1.advance_time(10).unwrap();
            continue;
        }
        if idle && !waiting {
            return done;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the nodes never went idle");
}

pub fn send(node: &NodeClient, tx: program::ledger::Transaction) -> Result<String, ClientError> {
    node.call("hb_sendTransaction", json!([hex(&tx.to_bytes().unwrap())]))
        .map(|hash| hash.as_str().unwrap().to_string())
}

pub fn balance(node: &NodeClient, who: [u8; 20]) -> u128 {
    let answer: Value = node.call("hb_getBalance", json!([hex(&who)])).unwrap();
    answer["balance"].as_str().unwrap().parse().unwrap()
}

/// What `hb_getWithdrawal` answered (`found`), as the outbox takes it: the leaf of `amount` wei to
/// `l1_recipient` (what the test expects, not what the node says) at the node's index, and the
/// node's proof.
pub fn withdrawal_claim(
    found: &Value,
    l1_recipient: [u8; 20],
    amount: u128,
) -> (
    program::ledger::Withdrawal,
    verifier::settlement::contracts::WithdrawalProof,
) {
    let withdrawal = program::ledger::Withdrawal {
        l1_recipient,
        amount,
        index: found["index"].as_u64().unwrap(),
    };
    let proof = verifier::settlement::contracts::WithdrawalProof {
        position: found["position"].as_u64().unwrap() as u32,
        siblings: found["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().parse().unwrap())
            .collect(),
    };
    (withdrawal, proof)
}

pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hb-node-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
