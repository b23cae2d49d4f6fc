//! The node process: its store and RPC server, and the turn it takes every poll interval:
//! 1. apply every batch L1 holds beyond the store's head (a progress bar when far behind);
//! 2. on a sequencer, post the next batch when the mempool holds a full batch or the commitment
//!    interval has passed with anything waiting (then apply it at once, from L1);
//! 3. read the assertion chain and do the duties (assert, challenge, confirm, ...);
//! 4. play its side of its games.
//!
//! The node does not own its L1: [`Node::turn`] borrows it, so one process can run several
//! nodes against one embedded chain (`rollup devnet`). Everything a turn needs is read from the
//! store and from L1, so kill -9 at any moment and a restart resumes where L1 and the store are.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonrpsee::server::ServerHandle;
use verifier::l1::embedded::EmbeddedL1;
use verifier::l1::{Wallet, L1, U256};
use verifier::settlement::contracts::{view, Deployment, Rollup};

use super::chain::{self, unix_now};
use super::duties::{Action, Duties, Fault};
use super::eth_rpc::{lock_chain, SharedChain};
use super::evm_follower;
use super::evm_node::{restore_chain, EvmNode};
use super::follower::{apply_next, posted_batches, readmit, Applied, SignatureCache};
use super::mempool::Pending;
use super::player::{Played, Player};
use super::rpc;
use super::sequencer::{may_post, post_next_batch, Posted};
use super::state::{lock_state, L1Summary, NodeState, Shared};
use super::store::{BatchCommit, Head};
use super::{NodeDb, NodeError};
use crate::config::{RollupConfig, Stf};
use crate::settlement::{
    deploy_rollup, genesis_assertion, initial_opening, DataAvailability, L1Log,
};
use crate::StfGuest;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Sequencer,
    Validator,
}

/// The least a validator waits for the sequencer to assert a batch before asserting it itself.
pub const VALIDATOR_MIN_GRACE: Duration = Duration::from_secs(5);

/// What a node needs to start.
#[derive(Clone, Debug)]
pub struct NodeOptions {
    pub data_dir: PathBuf,
    pub role: Role,
    /// The node's L1 account: it pays for batches, assertions, bonds and moves.
    pub wallet: Wallet,
    pub deployment: Deployment,
    pub rpc_addr: SocketAddr,
    pub config: RollupConfig,
    pub fault: Option<Fault>,
}

/// What one turn did.
#[derive(Clone, Debug, Default)]
pub struct Turn {
    pub applied: Vec<Applied>,
    pub posted: Option<Posted>,
    pub actions: Vec<Action>,
    pub played: Vec<Played>,
    /// What the node could not do and an operator must look at (a batch it cannot rebuild or
    /// replay): the turn goes on without it.
    pub alerts: Vec<String>,
}

impl Turn {
    /// Nothing changed on L1 or in the store (refusals change nothing): the node may sleep.
    pub fn is_idle(&self) -> bool {
        self.applied.is_empty()
            && self.posted.is_none()
            && self
                .actions
                .iter()
                .all(|a| matches!(a, Action::Refused { .. }))
            && self.played.iter().all(|p| p.refused.is_some())
    }
}

pub struct Node {
    pub role: Role,
    pub deployment: Deployment,
    state: Shared,
    guest: StfGuest,
    /// What the inbox and the rollup logged, read on from its cursor every turn.
    log: L1Log,
    duties: Duties,
    player: Player,
    /// Whether batches' signatures are recovered on every core before a run
    /// (`enable_parallel_execution`).
    signatures: SignatureCache,
    max_transactions: usize,
    /// Where batches go on L1 (`data_availability`).
    availability: DataAvailability,
    interval: Duration,
    last_post: Instant,
    /// The alert the following stopped at, already raised.
    stuck_on: Option<String>,
    /// On an EVM rollup: the L2 chain, its block producer and the posting of its blocks.
    evm: Option<EvmNode>,
    rpc_addr: SocketAddr,
    rpc: ServerHandle,
    // Serves the RPC; dropped (and its threads stopped) with the node.
    _runtime: tokio::runtime::Runtime,
}

fn setup<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> NodeError + '_ {
    move |e| NodeError::Setup(format!("{what}: {e}"))
}

impl Node {
    /// Opens the store in `data_dir/node`, checks it against L1 and starts the RPC server.
    pub fn start(options: NodeOptions, l1: &mut dyn L1) -> Result<Node, NodeError> {
        options.config.validate().map_err(setup("--config"))?;
        let stf = options.config.stf;
        let guest = StfGuest::new(stf.wasm()).map_err(setup("loading the STF guest"))?;
        let genesis = stf.genesis().map_err(NodeError::Setup)?;
        let rollup = options.deployment.rollup;
        let chain_id = view(l1, rollup, Rollup::chainIdCall {})?;
        if chain_id != options.config.chain_id {
            return Err(NodeError::Setup(format!(
                "the deployment's rollup has chain id {chain_id}, the config says {}",
                options.config.chain_id
            )));
        }
        let genesis_root = genesis_assertion(l1, &options.deployment)?.post_state_root()?;
        if genesis_root != genesis.root {
            return Err(NodeError::Setup(format!(
                "the deployment's genesis state is not the {} rollup's (config key stf): this node only follows rollups whose balances all come through the bridge",
                stf.name()
            )));
        }
        let mut db = NodeDb::open(&options.data_dir.join("node"))?
            .with_state_caching(options.config.enable_state_caching);
        if db.head()? == Head::default() {
            let l1_cursor = db.l1_cursor()?;
            db.commit_batch(BatchCommit {
                head: Head {
                    batch: 0,
                    state_root: genesis_root,
                },
                new_nodes: genesis
                    .store
                    .iter()
                    .map(|(_, node)| node.to_vec())
                    .collect(),
                l1_cursor,
                ..BatchCommit::default()
            })?;
        }
        let chain: Option<SharedChain> = match stf {
            Stf::Evm => Some(Arc::new(Mutex::new(restore_chain(
                &mut db, chain_id, &genesis,
            )?))),
            Stf::Ledger => None,
        };
        let safe_block = db.safe_block()?;
        let mut node = NodeState {
            db,
            chain_id,
            accepts_transactions: options.role == Role::Sequencer,
            pending: Pending::default(),
            l1: Default::default(),
            senders: Default::default(),
            recovered: None,
            next_batch: None,
        };
        readmit(&mut node)?;
        let state: Shared = Arc::new(Mutex::new(node));

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(setup("starting the RPC runtime"))?;
        let (rpc_addr, rpc) = runtime
            .block_on(rpc::serve(options.rpc_addr, state.clone(), chain.clone()))
            .map_err(NodeError::Setup)?;
        let initial = initial_opening(&guest)?;
        let interval = Duration::from_secs(options.config.state_commitment_interval);
        let evm = chain.map(|chain| {
            let mut evm = EvmNode::new(chain, safe_block, options.wallet.address());
            evm.start_producer(
                state.clone(),
                Duration::from_secs_f64(options.config.block_time),
            );
            evm
        });
        // Signatures recovered ahead are the ledger's (the EVM guest recovers through the host).
        let signatures = if options.config.enable_parallel_execution && evm.is_none() {
            SignatureCache::On
        } else {
            SignatureCache::Off
        };
        let mut duties = Duties::new(
            options.wallet.clone(),
            options.deployment.clone(),
            initial,
            options.role == Role::Sequencer,
            // A validator gives the sequencer an interval (at least a few seconds) to assert.
            interval.max(VALIDATOR_MIN_GRACE),
            options.fault,
        );
        duties.signatures = signatures;
        let player = Player::new(&options.wallet, options.fault);
        Ok(Node {
            role: options.role,
            log: L1Log::new(&options.deployment),
            deployment: options.deployment,
            state,
            guest,
            duties,
            player,
            signatures,
            max_transactions: options.config.max_transactions_per_batch as usize,
            availability: options.config.data_availability,
            interval,
            last_post: Instant::now(),
            stuck_on: None,
            evm,
            rpc_addr,
            rpc,
            _runtime: runtime,
        })
    }

    /// The addresses the node's fault plays from (its derived keys), if it has one.
    pub fn fault_addresses(&self) -> Vec<alloy_primitives::Address> {
        self.player.fault_addresses()
    }

    pub fn rpc_addr(&self) -> SocketAddr {
        self.rpc_addr
    }

    pub fn state(&self) -> &Shared {
        &self.state
    }

    /// Batches L1 holds that the store has not applied yet.
    pub fn behind(&self, l1: &mut dyn L1) -> Result<u64, NodeError> {
        let head = lock_state(&self.state).db.head()?;
        Ok(posted_batches(l1, &self.deployment)?.saturating_sub(head.batch))
    }

    /// One turn (see the module docs). `progress` is told of each batch applied.
    pub fn turn(
        &mut self,
        l1: &mut dyn L1,
        progress: &mut dyn FnMut(&Applied),
    ) -> Result<Turn, NodeError> {
        let mut turn = Turn::default();
        self.log.sync(l1)?;
        self.catch_up(l1, &mut turn, progress);
        let may_post = self.may_post(l1)?;
        lock_state(&self.state).accepts_transactions = may_post;
        if let Some(evm) = &self.evm {
            turn.alerts.extend(evm.take_failure());
        }
        if may_post && self.evm.is_some() {
            self.post_blocks(l1, &mut turn, progress)?;
        } else if may_post && self.post_due()? {
            self.last_post = Instant::now();
            let censored = match self.duties.fault {
                Some(Fault::Censor(address)) => Some(address),
                _ => None,
            };
            // Refused (another poster got there first, past the sequencer's timeout): said, and
            // tried again next turn; the duties go on.
            match post_next_batch(
                &self.state,
                l1,
                &self.duties.wallet,
                &self.log,
                self.max_transactions,
                censored,
                self.availability,
            ) {
                Ok(posted) => turn.posted = posted,
                Err(error) => turn.alerts.push(format!("posting a batch: {error}")),
            }
            self.log.sync(l1)?;
            self.catch_up(l1, &mut turn, progress);
        }
        let view = chain::read(l1, &self.log)?;
        let summary = summarize(&view, self.log.batch_count());
        if let Some(evm) = &self.evm {
            let finalized = lock_state(&self.state)
                .db
                .batch_last_block(summary.confirmed_batch)?;
            if let Some(finalized) = finalized {
                lock_chain(&evm.chain).set_finalized(finalized);
            }
        }
        lock_state(&self.state).l1 = summary;
        turn.actions = self.duties.perform(&self.state, l1, &self.guest, &view)?;
        let nodes = lock_state(&self.state).db.nodes().clone();
        turn.played = self.player.play(
            l1,
            &mut self.duties,
            &self.state,
            &self.guest,
            &view,
            &nodes,
        )?;
        Ok(turn)
    }

    /// Applies every batch the log holds beyond the store's head. One the node cannot rebuild or
    /// replay stops the following there (nothing after it can be applied) and is an alert, raised
    /// once for as long as it lasts; the duties and games on everything else go on.
    fn catch_up(&mut self, l1: &mut dyn L1, turn: &mut Turn, progress: &mut dyn FnMut(&Applied)) {
        loop {
            let next = match &self.evm {
                Some(evm) => {
                    evm_follower::apply_next(&self.state, &evm.chain, l1, &self.log, &self.guest)
                        .map(|applied| {
                            applied.map(|(applied, alert)| {
                                turn.alerts.extend(alert);
                                applied
                            })
                        })
                }
                None => apply_next(&self.state, l1, &self.log, &self.guest, self.signatures),
            };
            match next {
                Ok(Some(applied)) => {
                    self.stuck_on = None;
                    progress(&applied);
                    turn.applied.push(applied);
                }
                Ok(None) => return,
                Err(error) => {
                    let alert = error.to_string();
                    if self.stuck_on.as_ref() != Some(&alert) {
                        turn.alerts.push(alert.clone());
                        self.stuck_on = Some(alert);
                    }
                    return;
                }
            }
        }
    }

    /// An EVM rollup's sequencing of L1's delayed messages and posting (`evm_node`): a block for
    /// the delayed messages pending on L1, and the unposted blocks when due, each batch then
    /// applied from L1 at once.
    fn post_blocks(
        &mut self,
        l1: &mut dyn L1,
        turn: &mut Turn,
        progress: &mut dyn FnMut(&Applied),
    ) -> Result<(), NodeError> {
        let Some(evm) = self.evm.as_mut() else {
            return Ok(());
        };
        match evm.sequence_delayed(&self.state, l1, &self.log) {
            Ok(_) => {}
            Err(error) => turn
                .alerts
                .push(format!("sequencing delayed messages: {error}")),
        }
        let interval_passed = self.last_post.elapsed() >= self.interval;
        if !evm.post_due(&self.state, interval_passed)? {
            return Ok(());
        }
        self.last_post = Instant::now();
        let max_transactions = self.max_transactions;
        match evm.post(
            l1,
            &self.duties.wallet,
            &self.log,
            max_transactions,
            self.availability,
        ) {
            Ok(posted) => turn.posted = posted,
            Err(error) => turn.alerts.push(format!("posting blocks: {error}")),
        }
        self.log.sync(l1)?;
        self.catch_up(l1, turn, progress);
        Ok(())
    }

    /// The sequencer posts; a validator only once the sequencer has been silent past the
    /// inbox's timeout (then it carries the chain).
    fn may_post(&self, l1: &mut dyn L1) -> Result<bool, NodeError> {
        match self.role {
            Role::Sequencer => Ok(true),
            Role::Validator => may_post(l1, &self.log, &self.duties.wallet),
        }
    }

    /// A full batch waits, or the interval has passed (whether anything waits is
    /// [`post_next_batch`]'s call: deposits count too).
    fn post_due(&self) -> Result<bool, NodeError> {
        let waiting = lock_state(&self.state).db.mempool_len()?;
        Ok(waiting >= self.max_transactions as u64 || self.last_post.elapsed() >= self.interval)
    }

    /// Stops the block producer and the RPC server.
    pub fn stop(mut self) {
        if let Some(evm) = self.evm.as_mut() {
            evm.stop();
        }
        let _ = self.rpc.stop();
    }
}

fn summarize(view: &chain::ChainView, posted_batches: u64) -> L1Summary {
    let latest = view.assertions.last();
    let confirmed = view.assertion(view.last_confirmed);
    L1Summary {
        posted_batches,
        latest_assertion: latest.map(|a| a.record.id).unwrap_or(0),
        latest_assertion_batch: latest.map(|a| a.batch()).unwrap_or(0),
        latest_assertion_status: match latest.map(|a| a.status) {
            Some(chain::Status::Pending) => "pending",
            Some(chain::Status::Rejected) => "rejected",
            _ => "confirmed",
        }
        .into(),
        confirmed_assertion: view.last_confirmed,
        confirmed_batch: confirmed.map(|a| a.batch()).unwrap_or(0),
    }
}

/// Moves an embedded chain's clock up to the wall clock: a node on it lives in real time (its
/// challenge periods and chess clocks pass as they would on a real L1).
pub fn follow_wall_clock(l1: &mut dyn L1) -> Result<(), NodeError> {
    let now = unix_now();
    let (_, chain_time) = l1.head()?;
    if now > chain_time {
        l1.advance_time(now - chain_time)?;
    }
    Ok(())
}

/// Ether the embedded chain gives each account it funds.
pub const EMBEDDED_FUNDING: u128 = 1_000_000 * 1_000_000_000_000_000_000;

/// Opens the embedded L1 kept in `dir` (`l1.journal`), deploying the rollup with `config` (the
/// deployer funded first) if `dir` has no `deployment.json` yet.
pub fn open_embedded(
    dir: &Path,
    deployer: &Wallet,
    config: &RollupConfig,
) -> Result<(EmbeddedL1, Deployment), NodeError> {
    std::fs::create_dir_all(dir).map_err(setup("creating the data dir"))?;
    let mut l1 = EmbeddedL1::open(&dir.join("l1.journal"))?;
    let path = dir.join("deployment.json");
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(setup("reading deployment.json"))?;
        let deployment = serde_json::from_str(&text).map_err(setup("deployment.json"))?;
        return Ok((l1, deployment));
    }
    follow_wall_clock(&mut l1)?;
    l1.set_balance(deployer.address(), U256::from(EMBEDDED_FUNDING))?;
    let guest = StfGuest::new(config.stf.wasm()).map_err(setup("loading the STF guest"))?;
    let (deployment, _) = deploy_rollup(&mut l1, deployer, config, &guest)?;
    let json = serde_json::to_string_pretty(&deployment).map_err(setup("deployment"))?;
    // Written whole or not at all: a crash mid-write must not leave half a file.
    let partial = dir.join("deployment.json.partial");
    std::fs::write(&partial, json + "\n").map_err(setup("writing deployment.json"))?;
    std::fs::rename(&partial, &path).map_err(setup("writing deployment.json"))?;
    Ok((l1, deployment))
}
