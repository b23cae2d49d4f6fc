//! Exits without the operator: `force-tx` puts a signed L2 transaction (a transfer or a
//! withdrawal) in the L1 inbox's delayed queue, which every batch must consume once it has waited
//! the force-inclusion delay; `force-include` posts everything overdue as batches of its own.
//! Each prints `key: value` lines; a refusal on L1 exits 1 with the contract's reason, a bad
//! argument or an unreachable node exits 2.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use program::ledger::Transaction;
use prover::config::Stf;
use prover::node::client::NodeClient;
use prover::settlement::{
    force_include_overdue, force_transaction, forceable_at, stf_of, SettleError,
};
use serde_json::json;
use verifier::l1::L1Error;
use verifier::settlement::contracts::{view, Inbox};

use crate::cli_l1::{connect, hex, parse_address, parse_key, read_deployment, read_key_file};
use crate::cli_user::{l2_call, quantity, sign_eip1559, Kind};

#[derive(Args)]
pub struct ForceTxArgs {
    #[arg(long)]
    l1_rpc: String,
    #[arg(long)]
    deployment: PathBuf,
    /// The L1 key that pays for the L1 transaction (anyone's).
    #[arg(long)]
    key: String,
    /// The L2 sender's key file (`rollup wallet new`): it signs the L2 transaction.
    #[arg(long)]
    key_file: PathBuf,
    /// Recipient: an L2 account, or with --withdraw an L1 account.
    #[arg(long)]
    to: String,
    /// Wei.
    #[arg(long)]
    amount: String,
    /// A withdrawal to L1 instead of a transfer on L2.
    #[arg(long)]
    withdraw: bool,
    /// A node's JSON-RPC URL, for the sender's next nonce.
    #[arg(long, conflicts_with = "nonce")]
    rpc: Option<String>,
    /// The sender's next nonce, without --rpc (no node needed).
    #[arg(long, required_unless_present = "rpc")]
    nonce: Option<u64>,
}

#[derive(Args)]
pub struct ForceIncludeArgs {
    #[arg(long)]
    l1_rpc: String,
    #[arg(long)]
    deployment: PathBuf,
    /// The L1 key that pays for the batches (anyone's).
    #[arg(long)]
    key: String,
}

/// A refusal by the contracts is exit 1 with its reason; anything else is an error (exit 2).
fn refused(error: SettleError) -> Result<ExitCode, String> {
    match error {
        SettleError::L1(L1Error::Reverted(revert)) => {
            println!("refused: {revert}");
            Ok(ExitCode::from(1))
        }
        other => Err(other.to_string()),
    }
}

pub fn force_tx(args: ForceTxArgs) -> Result<ExitCode, String> {
    let payer = parse_key(&args.key).map_err(|e| format!("--key: {e}"))?;
    let signer = read_key_file(&args.key_file)?;
    let deployment = read_deployment(&args.deployment)?;
    let to = parse_address(&args.to).map_err(|e| format!("--to: {e}"))?;
    let amount: u128 = args
        .amount
        .parse()
        .map_err(|e| format!("--amount {}: not a wei amount: {e}", args.amount))?;
    let mut l1 = connect(&args.l1_rpc)?;
    let chain_id =
        view(&mut l1, deployment.inbox, Inbox::chainIdCall {}).map_err(|e| e.to_string())?;
    let stf = stf_of(&mut l1, &deployment).map_err(|e| e.to_string())?;
    let node = match &args.rpc {
        Some(url) => Some(NodeClient::new(url).map_err(|e| e.to_string())?),
        None => None,
    };
    let nonce = match (args.nonce, &node) {
        (Some(nonce), _) => nonce,
        (None, Some(node)) if stf == Stf::Evm => {
            let count = node
                .call(
                    "eth_getTransactionCount",
                    json!([hex(signer.address().as_slice()), "pending"]),
                )
                .map_err(|e| e.to_string())?;
            quantity(&count, "nonce")? as u64
        }
        (None, Some(node)) => {
            let account = node
                .call("hb_getBalance", json!([hex(signer.address().as_slice())]))
                .map_err(|e| e.to_string())?;
            account["pending_nonce"]
                .as_u64()
                .ok_or("the node's answer has no pending_nonce")?
        }
        (None, None) => return Err("--nonce N or --rpc URL".into()),
    };
    let secret = signer.key();
    let bytes = match stf {
        Stf::Ledger => {
            let tx: Transaction = if args.withdraw {
                program::sign_withdraw(secret, chain_id, to.into_array(), amount, nonce)
            } else {
                program::sign_transfer(secret, chain_id, to.into_array(), amount, nonce)
            };
            tx.to_bytes().map_err(|e| e.to_string())?
        }
        Stf::Evm => {
            // The fee cap: twice the node's gas price, or 10 gwei without one (the L2's base fee
            // starts at 1 gwei and spam raises it); no tip, the block's base fee is paid. Gas: a
            // transfer's 21,000, or 100,000 for the withdrawal contract.
            let gas_price = node
                .as_ref()
                .and_then(|node| node.call("eth_gasPrice", json!([])).ok())
                .and_then(|price| quantity(&price, "gas price").ok())
                .unwrap_or(5_000_000_000);
            let (kind, gas_limit) = if args.withdraw {
                (Kind::Withdraw, 100_000)
            } else {
                (Kind::Transfer, 21_000)
            };
            sign_eip1559(
                secret,
                chain_id,
                nonce,
                l2_call(kind, &to),
                amount,
                gas_limit,
                gas_price.saturating_mul(2),
                0,
            )
        }
    };
    let (index, receipt) = match force_transaction(&mut l1, &payer, &deployment, &bytes) {
        Ok(queued) => queued,
        Err(error) => return refused(error),
    };
    let forceable_at = forceable_at(&mut l1, &deployment, index).map_err(|e| e.to_string())?;
    println!("tx: {}", hex(&program::keccak256(&bytes)));
    println!("from: {}", signer.address());
    println!("nonce: {nonce}");
    println!("l1_tx: {}", receipt.hash);
    println!("queue_index: {index}");
    println!("forceable_at: {forceable_at}");
    Ok(ExitCode::SUCCESS)
}

pub fn force_include(args: ForceIncludeArgs) -> Result<ExitCode, String> {
    let sender = parse_key(&args.key).map_err(|e| format!("--key: {e}"))?;
    let deployment = read_deployment(&args.deployment)?;
    let mut l1 = connect(&args.l1_rpc)?;
    let batches = match force_include_overdue(&mut l1, &sender, &deployment) {
        Ok(batches) => batches,
        Err(error) => return refused(error),
    };
    for batch in &batches {
        println!("batch: {batch}");
    }
    println!("forced_batches: {}", batches.len());
    let consumed = view(&mut l1, deployment.inbox, Inbox::delayedConsumedCall {})
        .map_err(|e| e.to_string())?;
    let queued =
        view(&mut l1, deployment.inbox, Inbox::delayedCountCall {}).map_err(|e| e.to_string())?;
    println!("pending: {}", queued.saturating_sub(consumed));
    if consumed < queued {
        let at = forceable_at(&mut l1, &deployment, consumed).map_err(|e| e.to_string())?;
        println!("next_forceable_at: {at}");
    }
    Ok(ExitCode::SUCCESS)
}
