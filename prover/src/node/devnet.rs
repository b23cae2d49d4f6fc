//! A whole local rollup in one process (`rollup devnet`): the embedded L1 kept in a data dir and
//! served over Ethereum JSON-RPC ([`super::l1_server`]), the rollup deployed on it, a sequencer
//! and a validator taking turns on it in real time, and well-known accounts funded on L1 with a
//! deposit each to L2. Anything that speaks JSON-RPC (a `rollup node` started beside it, the user
//! commands, cast) reaches the same chain the devnet's nodes use.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jsonrpsee::server::ServerHandle;
use verifier::l1::{Wallet, L1, U256};
use verifier::settlement::contracts::{self, Deployment, Inbox};

use super::follower::Applied;
use super::l1_server::{self, SharedL1};
use super::pacing::{pause, Backoff};
use super::service::{
    follow_wall_clock, open_embedded, Node, NodeOptions, Role, Turn, EMBEDDED_FUNDING,
};
use super::NodeError;
use crate::config::RollupConfig;

/// Accounts the devnet funds on L1 and deposits to L2 for.
pub const USERS: u32 = 4;
pub const ETHER: u128 = 1_000_000_000_000_000_000;
/// What each account gets on L1, and what of it goes to L2.
pub const USER_FUNDING: u128 = 1000 * ETHER;
pub const USER_DEPOSIT: u128 = 100 * ETHER;

/// The devnet's well-known keys: keccak256("hauptbuch devnet key " ‖ i). For local use only:
/// 0 is the sequencer's, 1 the validator's, 2.. the users'.
pub fn wallet(i: u32) -> Result<Wallet, NodeError> {
    let secret = program::keccak256(format!("hauptbuch devnet key {i}").as_bytes());
    Wallet::from_secret(&secret)
        .ok_or_else(|| NodeError::Setup(format!("devnet key {i} is not a valid secret")))
}

/// The devnet's periods when no config is given: minutes instead of days, so a withdrawal
/// completes while you watch.
pub fn default_config() -> RollupConfig {
    RollupConfig {
        state_commitment_interval: 2,
        fraud_proof_timeout: 60,
        withdrawal_delay: 60,
        clock_budget: 120,
        force_inclusion_delay: 600,
        ..RollupConfig::default()
    }
}

#[derive(Clone, Debug)]
pub struct DevnetOptions {
    /// Where the L1 journal, the deployment and both nodes' stores live (reused if present).
    pub data_dir: PathBuf,
    /// The sequencer's RPC port; the validator's is the next (0: any free ports).
    pub rpc_port: u16,
    /// Where the L1 is served (port 0: any free one).
    pub l1_addr: SocketAddr,
    pub config: RollupConfig,
}

/// What the devnet tells whoever watches it (the CLI prints it), node by node.
pub enum Event<'a> {
    /// The node is this many batches behind L1 before its turn.
    Behind {
        node: &'static str,
        batches: u64,
    },
    Applied {
        node: &'static str,
        applied: &'a Applied,
    },
    Turn {
        node: &'static str,
        turn: &'a Turn,
    },
    /// The turn failed; it is taken again after a backoff.
    Failed {
        node: &'static str,
        error: &'a NodeError,
    },
}

pub struct Devnet {
    pub l1: SharedL1,
    pub deployment: Deployment,
    /// The deployment file, as `--deployment` takes it.
    pub deployment_path: PathBuf,
    pub journal_path: PathBuf,
    pub sequencer: Wallet,
    pub validator: Wallet,
    pub users: Vec<Wallet>,
    pub config: RollupConfig,
    nodes: Vec<(&'static str, Node)>,
    l1_addr: SocketAddr,
    l1_server: ServerHandle,
    // Serves the L1; dropped (and its threads stopped) with the devnet.
    _runtime: tokio::runtime::Runtime,
}

/// A fresh devnet's accounts: the validator's bonds, the users' ether on L1 and their deposits.
fn fund(
    l1: &mut dyn L1,
    deployment: &Deployment,
    validator: &Wallet,
    users: &[Wallet],
) -> Result<(), NodeError> {
    l1.set_balance(validator.address(), U256::from(EMBEDDED_FUNDING))?;
    for user in users {
        l1.set_balance(user.address(), U256::from(USER_FUNDING))?;
        contracts::send(
            l1,
            user,
            deployment.inbox,
            U256::from(USER_DEPOSIT),
            Inbox::depositCall {
                l2Recipient: user.address(),
            },
        )
        .and_then(|receipt| receipt.success())?;
    }
    Ok(())
}

impl Devnet {
    /// Opens (or creates, deploys and funds) the chain, starts both nodes and serves the L1.
    pub fn start(options: DevnetOptions) -> Result<Devnet, NodeError> {
        let config = options.config;
        let sequencer = wallet(0)?;
        let validator = wallet(1)?;
        let users: Vec<Wallet> = (0..USERS)
            .map(|i| wallet(2 + i))
            .collect::<Result<_, _>>()?;
        let dir = &options.data_dir;
        let deployment_path = dir.join("deployment.json");
        let (mut l1, deployment) = {
            let (dir, config) = (dir.clone(), config.clone());
            let (sequencer, validator, users) =
                (sequencer.clone(), validator.clone(), users.clone());
            SharedL1::spawn(move || {
                let fresh = !dir.join("deployment.json").exists();
                let (mut l1, deployment) = open_embedded(&dir, &sequencer, &config)?;
                if fresh {
                    fund(&mut l1, &deployment, &validator, &users)?;
                }
                Ok((l1, deployment))
            })?
        };
        let port = |offset: u16| match options.rpc_port {
            0 => SocketAddr::from(([127, 0, 0, 1], 0)),
            port => SocketAddr::from(([127, 0, 0, 1], port.saturating_add(offset))),
        };
        let mut nodes = Vec::new();
        for (name, role, who, offset) in [
            ("sequencer", Role::Sequencer, &sequencer, 0),
            ("validator", Role::Validator, &validator, 1),
        ] {
            let options = NodeOptions {
                data_dir: dir.join(name),
                role,
                wallet: who.clone(),
                deployment: deployment.clone(),
                rpc_addr: port(offset),
                config: config.clone(),
                fault: None,
            };
            nodes.push((name, Node::start(options, &mut l1)?));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| NodeError::Setup(format!("starting the L1 server's runtime: {e}")))?;
        let (l1_addr, l1_server) = runtime
            .block_on(l1_server::serve(options.l1_addr, l1.clone()))
            .map_err(NodeError::Setup)?;
        Ok(Devnet {
            l1,
            deployment,
            deployment_path,
            journal_path: dir.join("l1.journal"),
            sequencer,
            validator,
            users,
            config,
            nodes,
            l1_addr,
            l1_server,
            _runtime: runtime,
        })
    }

    /// Where the L1 answers JSON-RPC.
    pub fn l1_addr(&self) -> SocketAddr {
        self.l1_addr
    }

    /// The nodes' names and RPC addresses: the sequencer's first.
    pub fn node_addrs(&self) -> Vec<(&'static str, SocketAddr)> {
        self.nodes
            .iter()
            .map(|(name, node)| (*name, node.rpc_addr()))
            .collect()
    }

    /// Turns of both nodes in real time (the chain's clock follows the wall clock) until `stop`
    /// is set. A failed turn is told to `watch` and taken again after a backoff; only the chain
    /// itself failing ends the run.
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        watch: &mut dyn FnMut(Event),
    ) -> Result<(), NodeError> {
        let poll = Duration::from_millis(250);
        let mut backoff = Backoff::new(poll);
        while !stop.load(Ordering::SeqCst) {
            follow_wall_clock(&mut self.l1)?;
            let mut idle = true;
            let mut failed = false;
            for (name, node) in self.nodes.iter_mut() {
                let name: &'static str = name;
                let l1: &mut dyn L1 = &mut self.l1;
                let result = node.behind(l1).and_then(|batches| {
                    watch(Event::Behind {
                        node: name,
                        batches,
                    });
                    node.turn(l1, &mut |applied| {
                        watch(Event::Applied {
                            node: name,
                            applied,
                        })
                    })
                });
                match result {
                    Ok(turn) => {
                        idle &= turn.is_idle();
                        watch(Event::Turn {
                            node: name,
                            turn: &turn,
                        });
                    }
                    Err(error) => {
                        failed = true;
                        watch(Event::Failed {
                            node: name,
                            error: &error,
                        });
                    }
                }
            }
            if failed {
                pause(backoff.next_wait(), stop);
            } else {
                backoff.reset();
                if idle {
                    pause(poll, stop);
                }
            }
        }
        Ok(())
    }

    /// Stops the nodes' servers and the L1's.
    pub fn stop(self) {
        for (_, node) in self.nodes {
            node.stop();
        }
        let _ = self.l1_server.stop();
    }
}
