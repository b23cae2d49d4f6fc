//! The commands that talk to L1 alone: `wallet`, `deploy`, `deposit`, `assertions`. Each prints
//! `key: value` lines and exits 0, or prints `error: <reason>` and exits non-zero.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use program::ledger::BatchOutputs;
use prover::config::RollupConfig;
use prover::settlement::{assertions_logged, deploy_rollup, L1Log};
use prover::StfGuest;
use verifier::l1::rpc::RpcL1;
use verifier::l1::{Address, Wallet, B256, U256};
use verifier::settlement::contracts::{self, events, view, Inbox, Rollup};
use verifier::settlement::Deployment;

#[derive(Subcommand)]
pub enum WalletCommand {
    /// Make a new secp256k1 key and write it to FILE (refuses to overwrite); print its address.
    New {
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the address of the key in FILE.
    Address { file: PathBuf },
}

#[derive(Args)]
pub struct DeployArgs {
    /// The L1 node's JSON-RPC URL (http://...).
    #[arg(long)]
    l1_rpc: String,
    /// The deployer's L1 key (0x + 64 hex digits); also the sequencer unless the config names one.
    #[arg(long)]
    key: String,
    /// TOML with the seed's OptimisticRollupConfig keys (see prover::config); defaults without.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where to write the deployment (addresses and chain ids), as JSON.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
pub struct DepositArgs {
    #[arg(long)]
    l1_rpc: String,
    #[arg(long)]
    deployment: PathBuf,
    #[arg(long)]
    key: String,
    /// The L2 account credited.
    #[arg(long)]
    to: String,
    /// Wei.
    #[arg(long)]
    amount: String,
}

#[derive(Args)]
pub struct AssertionsArgs {
    #[arg(long)]
    l1_rpc: String,
    #[arg(long)]
    deployment: PathBuf,
}

/// `0x` + lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{digits}")
}

/// A 32-byte secret key from `0x` + 64 hex digits.
pub fn parse_key(text: &str) -> Result<Wallet, String> {
    let secret = parse_hash(text).map_err(|_| "a key is 0x followed by 64 hex digits")?;
    Wallet::from_secret(&secret).ok_or_else(|| "the key is not a valid secp256k1 secret".into())
}

/// 32 bytes from `0x` + 64 hex digits (the `0x` optional).
pub fn parse_hash(text: &str) -> Result<[u8; 32], String> {
    text.trim()
        .parse::<B256>()
        .map(|hash| hash.0)
        .map_err(|_| format!("{text}: not 0x followed by 64 hex digits"))
}

/// An address: `0x` + 40 hex digits.
pub fn parse_address(text: &str) -> Result<Address, String> {
    let digits = text.trim().strip_prefix("0x").unwrap_or(text.trim());
    if digits.len() != 40 {
        return Err(format!(
            "{text}: an address is 0x followed by 40 hex digits"
        ));
    }
    text.trim()
        .parse()
        .map_err(|e| format!("{text}: not an address: {e}"))
}

pub fn read_key_file(path: &Path) -> Result<Wallet, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_key(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn wallet(command: WalletCommand) -> Result<ExitCode, String> {
    match command {
        WalletCommand::New { out } => {
            let wallet = loop {
                let mut secret = [0u8; 32];
                getrandom::fill(&mut secret).map_err(|e| format!("no randomness: {e}"))?;
                if let Some(wallet) = Wallet::from_secret(&secret) {
                    break (wallet, secret);
                }
            };
            let (wallet, secret) = wallet;
            write_secret(&out, &format!("{}\n", hex(&secret)))?;
            println!("address: {}", wallet.address());
            println!("file: {}", out.display());
        }
        WalletCommand::Address { file } => {
            println!("address: {}", read_key_file(&file)?.address());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates `path` (never overwriting), readable by its owner only.
fn write_secret(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn connect(url: &str) -> Result<RpcL1, String> {
    RpcL1::connect(url).map_err(|e| format!("{url}: {e}"))
}

pub fn read_deployment(path: &Path) -> Result<Deployment, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not a deployment: {e}", path.display()))
}

pub fn deploy_command(args: DeployArgs) -> Result<ExitCode, String> {
    let deployer = parse_key(&args.key).map_err(|e| format!("--key: {e}"))?;
    let config = match &args.config {
        Some(path) => RollupConfig::load(path).map_err(|e| e.to_string())?,
        None => RollupConfig::default(),
    };
    if args.out.exists() {
        return Err(format!("{} exists; not overwriting it", args.out.display()));
    }
    let guest = StfGuest::new(config.stf.wasm()).map_err(|e| e.to_string())?;
    let mut l1 = connect(&args.l1_rpc)?;
    let (deployment, settlement) =
        deploy_rollup(&mut l1, &deployer, &config, &guest).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&deployment).map_err(|e| e.to_string())?;
    std::fs::write(&args.out, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    println!("l1_chain_id: {}", deployment.l1_chain_id);
    println!("chain_id: {}", settlement.chain_id);
    println!("inbox: {}", deployment.inbox);
    println!("rollup: {}", deployment.rollup);
    println!("one_step_verifier: {}", deployment.one_step_verifier);
    println!("sequencer: {}", settlement.sequencer);
    println!("deployment: {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

pub fn deposit(args: DepositArgs) -> Result<ExitCode, String> {
    let wallet = parse_key(&args.key).map_err(|e| format!("--key: {e}"))?;
    let deployment = read_deployment(&args.deployment)?;
    let to = parse_address(&args.to).map_err(|e| format!("--to: {e}"))?;
    let amount: U256 = args
        .amount
        .parse()
        .map_err(|e| format!("--amount {}: not a wei amount: {e}", args.amount))?;
    let mut l1 = connect(&args.l1_rpc)?;
    let receipt = contracts::send(
        &mut l1,
        &wallet,
        deployment.inbox,
        amount,
        Inbox::depositCall { l2Recipient: to },
    )
    .map_err(|e| e.to_string())?;
    if let Err(revert) = &receipt.outcome {
        println!("refused: {revert}");
        return Ok(ExitCode::from(1));
    }
    let queued = events::<Inbox::DepositQueued>(&receipt.logs);
    let (event, _) = queued.first().ok_or("the inbox queued no deposit")?;
    println!("tx: {}", receipt.hash);
    println!("deposit_index: {}", event.index);
    println!("amount: {}", event.amount);
    println!("gas: {}", receipt.gas_used);
    Ok(ExitCode::SUCCESS)
}

pub fn assertions(args: AssertionsArgs) -> Result<ExitCode, String> {
    let deployment = read_deployment(&args.deployment)?;
    let mut l1 = connect(&args.l1_rpc)?;
    let log = L1Log::read(&mut l1, &deployment).map_err(|e| e.to_string())?;
    let all = assertions_logged(&mut l1, &log).map_err(|e| e.to_string())?;
    let chain = prover::node::chain::read(&mut l1, &log).map_err(|e| e.to_string())?;
    let count = view(&mut l1, deployment.rollup, Rollup::assertionCountCall {})
        .map_err(|e| e.to_string())?;
    println!("assertions: {count}");
    for record in all {
        let stored = view(
            &mut l1,
            deployment.rollup,
            Rollup::assertionCall { id: record.id },
        )
        .map_err(|e| e.to_string())?;
        let status = match stored.status {
            1 => "pending",
            2 => "confirmed",
            3 => "rejected",
            _ => "unknown",
        };
        let root = BatchOutputs::from_bytes(&record.outputs)
            .map(|o| hex(&o.post_state_root))
            .unwrap_or_else(|_| "?".into());
        println!(
            "assertion {}: {status} batch {} parent {} state_root {root} asserter {} steps {} disputes {}",
            record.id,
            record.data.batchNumber,
            record.data.parentId,
            stored.asserter,
            record.data.steps,
            chain.disputes(record.id)
        );
    }
    Ok(ExitCode::SUCCESS)
}
