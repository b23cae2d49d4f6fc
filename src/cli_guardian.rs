//! `rollup guardian sign` and `rollup guardian submit`: a guardian signer signs an action
//! (EIP-712, `verifier::settlement::guardian`) offline or against a node; anyone submits enough
//! signatures. Each prints `key: value` lines; a refusal by the contract exits 1 with the
//! contract's error, a bad argument or an unreachable node exits 2.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use verifier::l1::rpc::RpcL1;
use verifier::l1::{Bytes, L1};
use verifier::settlement::contracts::{self, view, Rollup};
use verifier::settlement::guardian::{
    action_digest, guardian_nonce, sign_digest, signer_of, submit_action, GuardianAction,
};
use verifier::settlement::Deployment;

use crate::cli_l1::{hex, parse_key, read_deployment};

#[derive(Subcommand)]
pub enum GuardianCommand {
    /// Sign a guardian action as one of its signers; print the signature.
    Sign(SignArgs),
    /// Send a guardian action with its signers' signatures (the key only pays the gas).
    Submit(SubmitArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ActionName {
    /// Pause withdrawal and bond payouts (ends by itself after the deployment's pause expiry).
    Pause,
    Unpause,
    /// Hold a confirmed assertion's withdrawals (--assertion) until the guardian's window ends.
    Hold,
}

#[derive(Args)]
pub struct ActionArgs {
    #[arg(long, value_enum)]
    action: ActionName,
    /// The assertion to hold (hold only).
    #[arg(long)]
    assertion: Option<u64>,
    /// The deployment file (`rollup deploy --out`).
    #[arg(long)]
    deployment: PathBuf,
}

#[derive(Args)]
pub struct SignArgs {
    /// The signer's L1 key (0x + 64 hex digits).
    #[arg(long)]
    key: String,
    #[command(flatten)]
    action: ActionArgs,
    /// Read the guardian's nonce and the chain id from this L1 node.
    #[arg(long)]
    l1_rpc: Option<String>,
    /// The guardian's nonce to sign for (offline, without --l1-rpc: `guardianNonce` on L1).
    #[arg(long)]
    nonce: Option<u64>,
}

#[derive(Args)]
pub struct SubmitArgs {
    #[arg(long)]
    l1_rpc: String,
    /// The L1 key that sends (and pays for) the transaction; it needs no other right.
    #[arg(long)]
    key: String,
    #[command(flatten)]
    action: ActionArgs,
    /// The signers' signatures (what `rollup guardian sign` printed), comma-separated, any order.
    #[arg(long, value_delimiter = ',')]
    sigs: Vec<String>,
}

pub fn guardian(command: GuardianCommand) -> Result<ExitCode, String> {
    match command {
        GuardianCommand::Sign(args) => sign(args),
        GuardianCommand::Submit(args) => submit(args),
    }
}

fn action_of(args: &ActionArgs) -> Result<GuardianAction, String> {
    match (args.action, args.assertion) {
        (ActionName::Pause, None) => Ok(GuardianAction::Pause),
        (ActionName::Unpause, None) => Ok(GuardianAction::Unpause),
        (ActionName::Hold, Some(id)) => Ok(GuardianAction::Hold(id)),
        (ActionName::Hold, None) => Err("--action hold needs --assertion N".into()),
        (_, Some(_)) => Err("--assertion is for --action hold only".into()),
    }
}

fn connect(url: &str, deployment: &Deployment) -> Result<RpcL1, String> {
    let l1 = RpcL1::connect(url).map_err(|e| format!("{url}: {e}"))?;
    // A signature commits to the chain: refuse to sign or send for the wrong one.
    if l1.chain_id() != deployment.l1_chain_id {
        return Err(format!(
            "{url} is L1 chain {}, the deployment is on chain {}",
            l1.chain_id(),
            deployment.l1_chain_id
        ));
    }
    Ok(l1)
}

/// A signature: `0x` + 130 hex digits (r ‖ s ‖ v).
fn parse_signature(text: &str) -> Result<[u8; 65], String> {
    let bytes: Bytes = text
        .trim()
        .parse()
        .map_err(|_| format!("{text}: not hex"))?;
    <[u8; 65]>::try_from(bytes.as_ref())
        .map_err(|_| format!("{text}: a signature is 0x followed by 130 hex digits"))
}

fn sign(args: SignArgs) -> Result<ExitCode, String> {
    let signer = parse_key(&args.key).map_err(|e| format!("--key: {e}"))?;
    let action = action_of(&args.action)?;
    let deployment = read_deployment(&args.action.deployment)?;
    let nonce = match (&args.l1_rpc, args.nonce) {
        (Some(url), None) => {
            let mut l1 = connect(url, &deployment)?;
            guardian_nonce(&mut l1, &deployment).map_err(|e| e.to_string())?
        }
        (None, Some(nonce)) => nonce,
        (Some(_), Some(_)) => return Err("give --l1-rpc or --nonce, not both".into()),
        (None, None) => {
            return Err("give --l1-rpc (to read the guardian's nonce) or --nonce N".into())
        }
    };
    let digest = action_digest(deployment.l1_chain_id, deployment.rollup, action, nonce);
    let signature = sign_digest(signer.key(), &digest);
    println!("signer: {}", signer.address());
    println!("nonce: {nonce}");
    println!("digest: {digest}");
    println!("signature: {}", hex(&signature));
    Ok(ExitCode::SUCCESS)
}

fn submit(args: SubmitArgs) -> Result<ExitCode, String> {
    let payer = parse_key(&args.key).map_err(|e| format!("--key: {e}"))?;
    let action = action_of(&args.action)?;
    let deployment = read_deployment(&args.action.deployment)?;
    let signatures = args
        .sigs
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_signature(s).map_err(|e| format!("--sigs: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut l1 = connect(&args.l1_rpc, &deployment)?;
    let nonce = guardian_nonce(&mut l1, &deployment).map_err(|e| e.to_string())?;
    let digest = action_digest(deployment.l1_chain_id, deployment.rollup, action, nonce);
    for (i, signature) in signatures.iter().enumerate() {
        match signer_of(&digest, signature) {
            Some(signer) => println!("signature {i}: recovers {signer} at nonce {nonce}"),
            None => return Err(format!("--sigs: signature {i} is not a valid signature")),
        }
    }
    let receipt = submit_action(&mut l1, &payer, &deployment, action, &signatures)
        .map_err(|e| e.to_string())?;
    // A JSON-RPC node's refusal comes from the gas estimate: nothing was sent (hash zero).
    if !receipt.hash.is_zero() {
        println!("l1_tx: {}", receipt.hash);
    }
    if let Err(revert) = &receipt.outcome {
        println!("refused: {revert}");
        return Ok(ExitCode::from(1));
    }
    if let Some((event, _)) = contracts::events::<Rollup::GuardianPaused>(&receipt.logs).first() {
        println!("paused_until: {}", event.until);
    }
    if !contracts::events::<Rollup::GuardianUnpaused>(&receipt.logs).is_empty() {
        println!("unpaused: true");
    }
    if let Some((event, _)) = contracts::events::<Rollup::WithdrawalsHeld>(&receipt.logs).first() {
        println!("held: assertion {}", event.assertionId);
        let large = view(
            &mut l1,
            deployment.rollup,
            Rollup::largeWithdrawalDelayCall {},
        )
        .map_err(|e| e.to_string())?;
        println!("held_until: {}", event.until);
        println!("large_held_until: {}", event.until + large);
    }
    println!("nonce: {}", nonce + 1);
    println!("gas: {}", receipt.gas_used);
    Ok(ExitCode::SUCCESS)
}
