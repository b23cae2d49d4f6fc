//! `rollup node` and `rollup devnet`: the node process (one role, on an L1 node or on the
//! embedded chain kept in its data dir) and a whole local rollup in one command.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use prover::config::RollupConfig;
use prover::node::devnet::{self, Devnet, DevnetOptions, Event};
use prover::node::duties::{Action, Fault};
use prover::node::follower::Applied;
use prover::node::pacing::{pause, Backoff};
use prover::node::service::{follow_wall_clock, open_embedded, Node, NodeOptions, Role, Turn};
use verifier::l1::rpc::RpcL1;
use verifier::l1::L1;
use verifier::settlement::contracts::{view, Rollup};

use crate::cli_l1::{hex, parse_key, read_deployment};

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Sequencer,
    Validator,
}

/// `--fault`: `wrong-root` (assert a wrong post-state root once: the node's first assertion
/// after start), `throw` (assert correctly, then challenge its own assertions from a second key
/// shortly before their periods end and never defend them), `sybil:N` (N wrong rival assertions,
/// each from its own key, against every assertion it did not post, played like liars).
fn parse_fault(text: &str) -> Result<Fault, String> {
    match text {
        "wrong-root" => Ok(Fault::WrongRoot),
        "throw" => Ok(Fault::Throw),
        _ => {
            if let Some(n) = text.strip_prefix("sybil:") {
                return match n.parse::<u32>() {
                    Ok(n) if (1..=1000).contains(&n) => Ok(Fault::Sybil(n)),
                    _ => Err(format!("sybil:N needs N in 1..=1000, got {n:?}")),
                };
            }
            if let Some(address) = text.strip_prefix("censor:") {
                let address = crate::cli_l1::parse_address(address)
                    .map_err(|e| format!("censor:ADDR: {e}"))?;
                return Ok(Fault::Censor(address.into_array()));
            }
            Err(format!(
                "unknown fault {text:?}: wrong-root, throw, sybil:N or censor:ADDR"
            ))
        }
    }
}

#[derive(Args)]
pub struct NodeArgs {
    /// Where the node keeps its store (and, without --l1-rpc, the embedded L1).
    #[arg(long)]
    data_dir: PathBuf,
    #[arg(long, value_enum)]
    role: RoleArg,
    /// The node's L1 key (0x + 64 hex digits): it pays for batches, assertions, bonds and moves.
    #[arg(long)]
    key: String,
    /// An L1 node's JSON-RPC URL; without it the node runs on an embedded L1 in --data-dir.
    #[arg(long, requires = "deployment")]
    l1_rpc: Option<String>,
    /// The deployment file `rollup deploy` wrote (with --l1-rpc).
    #[arg(long, requires = "l1_rpc")]
    deployment: Option<PathBuf>,
    /// A beacon node's HTTP API URL, where the L1's blobs are read (batches posted in blobs);
    /// without it, blobs come from the L1 node itself (anvil's anvil_getBlobsByTransactionHash).
    #[arg(long, requires = "l1_rpc")]
    l1_beacon: Option<String>,
    /// Where the node serves JSON-RPC (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8547")]
    rpc_addr: SocketAddr,
    /// TOML with the seed's OptimisticRollupConfig keys; defaults without.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Misbehave, for tests of the other nodes: wrong-root, throw, or sybil:N.
    #[arg(long, value_parser = parse_fault)]
    fault: Option<Fault>,
    /// Milliseconds between turns when there is nothing to do.
    #[arg(long, default_value_t = 500)]
    poll_ms: u64,
}

#[derive(Args)]
pub struct DevnetArgs {
    /// Where the devnet keeps its L1 and both nodes' stores (reused if it exists).
    #[arg(long, default_value = "devnet")]
    data_dir: PathBuf,
    /// The sequencer's RPC port; the validator's is the next one (0: any free ports).
    #[arg(long, default_value_t = 8547)]
    rpc_port: u16,
    /// Where the devnet serves its L1 over Ethereum JSON-RPC (0: any free port).
    #[arg(long, default_value_t = 8545)]
    l1_port: u16,
    /// TOML with the rollup's config; without it, the devnet's short periods (printed).
    #[arg(long)]
    config: Option<PathBuf>,
}

fn stop_flag() -> Result<Arc<AtomicBool>, String> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .map_err(|e| format!("cannot catch Ctrl-C: {e}"))?;
    Ok(stop)
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn load_config(path: Option<&Path>) -> Result<RollupConfig, String> {
    match path {
        Some(path) => RollupConfig::load(path).map_err(|e| e.to_string()),
        None => Ok(RollupConfig::default()),
    }
}

fn short(hash: &[u8]) -> String {
    hash.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Logs what a turn did, under `name`.
fn log_turn(name: &str, turn: &Turn) {
    for alert in &turn.alerts {
        tracing::error!("{name}: alert: {alert}");
    }
    if let Some(posted) = &turn.posted {
        tracing::info!(
            "{name}: posted batch {} ({} delayed, {} transactions) in {}",
            posted.batch,
            posted.delayed,
            posted.transactions,
            posted.placement
        );
    }
    for action in &turn.actions {
        match action {
            Action::Asserted { id, batch, lie } => tracing::info!(
                "{name}: asserted batch {batch} as assertion {id}{}",
                if *lie {
                    " (with a WRONG state root: --fault wrong-root)"
                } else {
                    ""
                }
            ),
            Action::Backed(id) => tracing::info!("{name}: moved its stake onto assertion {id}"),
            Action::Confirmed(id) => tracing::info!("{name}: confirmed assertion {id}"),
            Action::RejectedVoided(id) => {
                tracing::info!("{name}: rejected assertion {id} (it can never be confirmed)")
            }
            Action::StakeWithdrawn => tracing::info!("{name}: withdrew its stake"),
            Action::CreditsCollected(wei) => {
                tracing::info!("{name}: collected {wei} wei of credits")
            }
            Action::Refused { what, why } => tracing::debug!("{name}: {what} refused: {why}"),
        }
    }
    for played in &turn.played {
        match &played.refused {
            None => tracing::info!("{name}: dispute: {} from {}", played.kind, played.from),
            Some(why) => tracing::debug!(
                "{name}: dispute: {} from {} refused: {why}",
                played.kind,
                played.from
            ),
        }
    }
}

/// The progress callback: a bar while catching up on many batches, a log line per batch else.
struct Progress {
    name: String,
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(name: &str) -> Progress {
        Progress {
            name: name.to_string(),
            bar: None,
        }
    }

    /// Before a turn: a bar if the node is `behind` by many batches.
    fn begin(&mut self, behind: u64) {
        if behind > 5 {
            let bar = ProgressBar::new(behind);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} catching up {bar:40} {pos}/{len} batches ({per_sec}, eta {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_prefix(self.name.clone());
            self.bar = Some(bar);
        }
    }

    fn applied(&mut self, applied: &Applied) {
        match &self.bar {
            Some(bar) => bar.inc(1),
            None => tracing::info!(
                "{}: applied batch {} ({} delayed, {} transactions; wasmtime {:.1} ms), state root {}",
                self.name,
                applied.number,
                applied.delayed,
                applied.transactions,
                applied.replay.as_secs_f64() * 1e3,
                short(&applied.state_root)
            ),
        }
    }

    fn end(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// One turn of `node`, with its logs and progress.
fn turn(
    node: &mut Node,
    l1: &mut dyn L1,
    progress: &mut Progress,
    name: &str,
) -> Result<Turn, String> {
    let behind = node.behind(l1).map_err(|e| e.to_string())?;
    progress.begin(behind);
    let result = node.turn(l1, &mut |applied| progress.applied(applied));
    progress.end();
    let turn = result.map_err(|e| format!("{name}: {e}"))?;
    log_turn(name, &turn);
    Ok(turn)
}

pub fn node(args: NodeArgs) -> Result<ExitCode, String> {
    init_logs();
    let wallet = parse_key(&args.key).map_err(|e| format!("--key: {e}"))?;
    let config = load_config(args.config.as_deref())?;
    let role = match args.role {
        RoleArg::Sequencer => Role::Sequencer,
        RoleArg::Validator => Role::Validator,
    };
    let (mut l1, deployment, embedded): (Box<dyn L1>, _, bool) = match (&args.l1_rpc, &args.deployment)
    {
        (Some(url), Some(path)) => {
            let deployment = read_deployment(path)?;
            tracing::info!("connecting to the L1 node at {url}");
            let mut l1 = RpcL1::connect(url).map_err(|e| format!("{url}: {e}"))?;
            if let Some(beacon) = &args.l1_beacon {
                l1 = l1.with_beacon(beacon);
            }
            (Box::new(l1), deployment, false)
        }
        _ if role == Role::Validator => {
            return Err("a validator needs the L1 its sequencer posts to: give --l1-rpc and --deployment (or run `rollup devnet`)".into())
        }
        _ => {
            let (l1, deployment) =
                open_embedded(&args.data_dir, &wallet, &config).map_err(|e| e.to_string())?;
            (Box::new(l1), deployment, true)
        }
    };
    let mut config = config;
    if args.config.is_none() {
        // Without a config the node's own knobs take their defaults; the chain is the deployment's.
        config.chain_id = view(l1.as_mut(), deployment.rollup, Rollup::chainIdCall {})
            .map_err(|e| format!("reading the rollup's chain id: {e}"))?;
        config.stf = prover::settlement::stf_of(l1.as_mut(), &deployment)
            .map_err(|e| format!("reading the rollup's STF: {e}"))?;
    }
    let options = NodeOptions {
        data_dir: args.data_dir.clone(),
        role,
        wallet: wallet.clone(),
        deployment: deployment.clone(),
        rpc_addr: args.rpc_addr,
        config,
        fault: args.fault,
    };
    tracing::info!(
        "starting: compiling the {} STF, checking the deployment, opening the store in {}",
        options.config.stf.name(),
        options.data_dir.display()
    );
    let mut node = Node::start(options, l1.as_mut()).map_err(|e| e.to_string())?;
    let name = match role {
        Role::Sequencer => "sequencer",
        Role::Validator => "validator",
    };
    println!("role: {name}");
    println!("rpc: http://{}", node.rpc_addr());
    println!("address: {}", wallet.address());
    for address in node.fault_addresses() {
        println!("fault_address: {address}");
    }
    match &args.l1_rpc {
        Some(url) => println!("l1: {url}"),
        None => println!(
            "l1: embedded ({})",
            args.data_dir.join("l1.journal").display()
        ),
    }
    println!("inbox: {}", deployment.inbox);
    println!("rollup: {}", deployment.rollup);
    println!("data_dir: {}", args.data_dir.display());
    let stop = stop_flag()?;
    let poll = Duration::from_millis(args.poll_ms);
    let mut progress = Progress::new(name);
    let mut backoff = Backoff::new(poll);
    while !stop.load(Ordering::SeqCst) {
        let result = if embedded {
            follow_wall_clock(l1.as_mut()).map_err(|e| e.to_string())
        } else {
            Ok(())
        }
        .and_then(|()| turn(&mut node, l1.as_mut(), &mut progress, name));
        match result {
            Ok(done) => {
                backoff.reset();
                if done.is_idle() {
                    pause(poll, &stop);
                }
            }
            // An L1 node that does not answer, a transaction that was not mined: the turn is
            // taken again later, from what L1 and the store say then.
            Err(e) => {
                let wait = backoff.next_wait();
                tracing::error!("{e}; trying again in {:.1} s", wait.as_secs_f64());
                pause(wait, &stop);
            }
        }
    }
    tracing::info!("{name}: stopping");
    node.stop();
    Ok(ExitCode::SUCCESS)
}

pub fn devnet(args: DevnetArgs) -> Result<ExitCode, String> {
    init_logs();
    let config = match &args.config {
        Some(path) => load_config(Some(path))?,
        None => devnet::default_config(),
    };
    let options = DevnetOptions {
        data_dir: args.data_dir.clone(),
        rpc_port: args.rpc_port,
        l1_addr: SocketAddr::from(([127, 0, 0, 1], args.l1_port)),
        config,
    };
    let mut devnet = Devnet::start(options).map_err(|e| e.to_string())?;
    for (name, addr) in devnet.node_addrs() {
        match name {
            "sequencer" => println!("rpc: http://{addr}"),
            name => println!("{name}_rpc: http://{addr}"),
        }
    }
    println!("l1_rpc: http://{}", devnet.l1_addr());
    println!("deployment: {}", devnet.deployment_path.display());
    println!("l1: embedded ({})", devnet.journal_path.display());
    println!("inbox: {}", devnet.deployment.inbox);
    println!("rollup: {}", devnet.deployment.rollup);
    let config = &devnet.config;
    println!(
        "periods: batch every {} s, challenge period {} s, withdrawal delay {} s",
        config.state_commitment_interval, config.fraud_proof_timeout, config.withdrawal_delay
    );
    for (name, wallet) in [
        ("sequencer", &devnet.sequencer),
        ("validator", &devnet.validator),
    ] {
        println!(
            "{name}: {} key {}",
            wallet.address(),
            hex(&wallet.key().to_bytes())
        );
    }
    for (i, user) in devnet.users.iter().enumerate() {
        println!(
            "account {i}: {} key {} ({} ETH deposited to L2, {} ETH on L1)",
            user.address(),
            hex(&user.key().to_bytes()),
            devnet::USER_DEPOSIT / devnet::ETHER,
            (devnet::USER_FUNDING - devnet::USER_DEPOSIT) / devnet::ETHER
        );
    }
    let stop = stop_flag()?;
    let mut progress: BTreeMap<&str, Progress> = BTreeMap::new();
    let result = devnet.run(&stop, &mut |event| match event {
        Event::Behind { node, batches } => progress
            .entry(node)
            .or_insert_with(|| Progress::new(node))
            .begin(batches),
        Event::Applied { node, applied } => progress
            .entry(node)
            .or_insert_with(|| Progress::new(node))
            .applied(applied),
        Event::Turn { node, turn } => {
            if let Some(progress) = progress.get_mut(node) {
                progress.end();
            }
            log_turn(node, turn);
        }
        Event::Failed { node, error } => {
            if let Some(progress) = progress.get_mut(node) {
                progress.end();
            }
            tracing::error!("{node}: {error}");
        }
    });
    tracing::info!("devnet: stopping");
    devnet.stop();
    result.map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}
