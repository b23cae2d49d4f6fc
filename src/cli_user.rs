//! The users' commands against a node's RPC: `send`, `withdraw`, `balance`, `status`, and
//! `claim` (the node's withdrawal proof finalized on L1). Each prints `key: value` lines; a
//! refusal exits 1 with its reason, a bad argument or an unreachable node exits 2.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use program::ledger::{Transaction, Withdrawal};
use prover::node::chain::{self, Status};
use prover::node::client::{ClientError, NodeClient};
use prover::settlement::finalize_withdrawal;
use serde_json::{json, Value};
use verifier::l1::rpc::RpcL1;
use verifier::l1::B256;
use verifier::settlement::contracts::{view, Rollup, WithdrawalProof};

use crate::cli_l1::{hex, parse_address, parse_hash, parse_key, read_deployment, read_key_file};

#[derive(Args)]
pub struct TransferArgs {
    /// The node's JSON-RPC URL (a sequencer's, to send).
    #[arg(long)]
    rpc: String,
    /// The sender's key file (`rollup wallet new`).
    #[arg(long)]
    key_file: PathBuf,
    /// Recipient: an L2 account for `send`, an L1 account for `withdraw`.
    #[arg(long)]
    to: String,
    /// Wei.
    #[arg(long)]
    amount: String,
}

#[derive(Args)]
pub struct BalanceArgs {
    #[arg(long)]
    rpc: String,
    /// The L2 account.
    address: String,
}

#[derive(Args)]
pub struct StatusArgs {
    #[arg(long)]
    rpc: String,
}

#[derive(Args)]
pub struct ClaimArgs {
    /// The node's JSON-RPC URL (it holds the withdrawal's proof).
    #[arg(long)]
    rpc: String,
    #[arg(long)]
    l1_rpc: String,
    #[arg(long)]
    deployment: PathBuf,
    /// The L1 key that sends the claim (anyone may; the recipient is paid).
    #[arg(long)]
    key: String,
    /// The withdraw transaction's hash (what `rollup withdraw` printed).
    #[arg(long)]
    tx: String,
}

fn client(url: &str) -> Result<NodeClient, String> {
    NodeClient::new(url).map_err(|e| e.to_string())
}

/// A call whose failure is an unreachable node (exit 2), not a refusal.
fn call(node: &NodeClient, method: &str, params: Value) -> Result<Value, String> {
    node.call(method, params).map_err(|e| e.to_string())
}

fn field<'a>(value: &'a Value, name: &str) -> Result<&'a Value, String> {
    value
        .get(name)
        .ok_or_else(|| format!("the node's answer has no {name:?}"))
}

fn number(value: &Value, name: &str) -> Result<u64, String> {
    field(value, name)?
        .as_u64()
        .ok_or_else(|| format!("the node's {name:?} is not a number"))
}

fn text<'a>(value: &'a Value, name: &str) -> Result<&'a str, String> {
    field(value, name)?
        .as_str()
        .ok_or_else(|| format!("the node's {name:?} is not a string"))
}

fn wei(text: &str) -> Result<u128, String> {
    text.parse()
        .map_err(|e| format!("--amount {text}: not a wei amount: {e}"))
}

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Transfer,
    Withdraw,
}

/// Whether the node runs the EVM (its `hb_syncStatus` says `"stf": "evm"`).
fn runs_evm(node: &NodeClient) -> Result<bool, String> {
    let status = call(node, "hb_syncStatus", json!([]))?;
    Ok(status.get("stf").and_then(Value::as_str) == Some("evm"))
}

/// A hex quantity of the Ethereum JSON-RPC.
pub(crate) fn quantity(value: &Value, what: &str) -> Result<u128, String> {
    value
        .as_str()
        .and_then(|text| text.strip_prefix("0x"))
        .and_then(|digits| u128::from_str_radix(digits, 16).ok())
        .ok_or_else(|| format!("the node's {what} is not a quantity: {value}"))
}

/// What an L2 transaction of `kind` to `to` calls: `to` itself with no data (a transfer), or the
/// withdrawal system contract's `withdraw(address l1Recipient)` with `to` as the L1 recipient.
pub(crate) fn l2_call(
    kind: Kind,
    to: &verifier::l1::Address,
) -> (alloy_primitives::Address, Vec<u8>) {
    match kind {
        Kind::Transfer => (alloy_primitives::Address::from(to.into_array()), Vec::new()),
        Kind::Withdraw => {
            let mut data = alloy_primitives::keccak256(b"withdraw(address)")[..4].to_vec();
            data.extend_from_slice(&[0; 12]);
            data.extend_from_slice(to.as_slice());
            (program::evm::evm_stf::system::WITHDRAWALS, data)
        }
    }
}

/// An EIP-1559 transaction calling `target` with `input` and `amount` wei, signed by `secret`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_eip1559(
    secret: &program::SigningKey,
    chain_id: u64,
    nonce: u64,
    (target, input): (alloy_primitives::Address, Vec<u8>),
    amount: u128,
    gas_limit: u64,
    max_fee_per_gas: u128,
    max_priority_fee_per_gas: u128,
) -> Vec<u8> {
    use alloy_primitives::{Bytes, TxKind, U256};
    let tx = alloy_consensus::TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas,
        max_priority_fee_per_gas,
        to: TxKind::Call(target),
        value: U256::from(amount),
        input: Bytes::from(input),
        access_list: Default::default(),
    };
    program::evm_workload::sign(secret, tx)
}

/// `send` and `withdraw` on an EVM rollup: an EIP-1559 transaction (a transfer of 21,000 gas, or
/// a call of the withdrawal contract with the gas the node estimates) at the node's suggested
/// fees, nonce `pending`; then its receipt once a block holds it (soft: not yet on L1).
fn sign_and_send_evm(
    node: &NodeClient,
    key: &verifier::l1::Wallet,
    to: verifier::l1::Address,
    amount: u128,
    kind: Kind,
) -> Result<ExitCode, String> {
    let sender = key.address();
    let chain_id = quantity(&call(node, "eth_chainId", json!([]))?, "chain id")? as u64;
    let nonce = quantity(
        &call(
            node,
            "eth_getTransactionCount",
            json!([hex(sender.as_slice()), "pending"]),
        )?,
        "nonce",
    )? as u64;
    let gas_price = quantity(&call(node, "eth_gasPrice", json!([]))?, "gas price")?;
    let tip = quantity(
        &call(node, "eth_maxPriorityFeePerGas", json!([]))?,
        "priority fee",
    )?;
    let (target, input) = l2_call(kind, &to);
    let gas_limit = match kind {
        Kind::Transfer => 21_000,
        Kind::Withdraw => {
            let request = json!({
                "from": hex(sender.as_slice()),
                "to": hex(target.as_slice()),
                "value": format!("{amount:#x}"),
                "input": hex(&input),
            });
            match node.call("eth_estimateGas", json!([request, "pending"])) {
                Ok(gas) => quantity(&gas, "gas estimate")? as u64,
                Err(ClientError::Rpc { code, message }) => {
                    println!("refused: {message} (code {code})");
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    // Room for the base fee to double before it is mined.
    let raw = sign_eip1559(
        key.key(),
        chain_id,
        nonce,
        (target, input),
        amount,
        gas_limit,
        gas_price.saturating_mul(2),
        tip,
    );
    let hash = match node.call("eth_sendRawTransaction", json!([hex(&raw)])) {
        Ok(hash) => hash.as_str().unwrap_or_default().to_string(),
        Err(ClientError::Rpc { code, message }) => {
            println!("refused: {message} (code {code})");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.to_string()),
    };
    println!("tx: {hash}");
    println!("from: {sender}");
    println!("nonce: {nonce}");
    // A sequencer makes a block every few seconds: wait for it, briefly.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        let receipt = call(node, "eth_getTransactionReceipt", json!([hash]))?;
        if !receipt.is_null() {
            println!(
                "block: {}",
                quantity(field(&receipt, "blockNumber")?, "block")?
            );
            let ok = quantity(field(&receipt, "status")?, "status")? == 1;
            println!("status: {}", if ok { "success" } else { "reverted" });
            return Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    println!("block: pending");
    Ok(ExitCode::SUCCESS)
}

fn sign_and_send(args: TransferArgs, kind: Kind) -> Result<ExitCode, String> {
    let key = read_key_file(&args.key_file)?;
    let to = parse_address(&args.to).map_err(|e| format!("--to: {e}"))?;
    let amount = wei(&args.amount)?;
    let node = client(&args.rpc)?;
    if runs_evm(&node)? {
        return sign_and_send_evm(&node, &key, to, amount, kind);
    }
    let status = call(&node, "hb_syncStatus", json!([]))?;
    let chain_id = number(&status, "chain_id")?;
    let sender = key.address();
    let account = call(&node, "hb_getBalance", json!([hex(sender.as_slice())]))?;
    let nonce = number(&account, "pending_nonce")?;
    let secret = key.key();
    let tx: Transaction = match kind {
        Kind::Transfer => program::sign_transfer(secret, chain_id, to.into_array(), amount, nonce),
        Kind::Withdraw => program::sign_withdraw(secret, chain_id, to.into_array(), amount, nonce),
    };
    let bytes = tx.to_bytes().map_err(|e| e.to_string())?;
    match node.call("hb_sendTransaction", json!([hex(&bytes)])) {
        Ok(hash) => {
            println!("tx: {}", hash.as_str().unwrap_or_default());
            println!("from: {sender}");
            println!("nonce: {nonce}");
            Ok(ExitCode::SUCCESS)
        }
        Err(ClientError::Rpc { code, message }) => {
            println!("refused: {message} (code {code})");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.to_string()),
    }
}

pub fn send(args: TransferArgs) -> Result<ExitCode, String> {
    sign_and_send(args, Kind::Transfer)
}

pub fn withdraw(args: TransferArgs) -> Result<ExitCode, String> {
    sign_and_send(args, Kind::Withdraw)
}

pub fn balance(args: BalanceArgs) -> Result<ExitCode, String> {
    let address = parse_address(&args.address)?;
    let node = client(&args.rpc)?;
    if runs_evm(&node)? {
        let who = hex(address.as_slice());
        let balance = call(&node, "eth_getBalance", json!([who, "latest"]))?;
        let balance = alloy_primitives::U256::from_str_radix(
            balance
                .as_str()
                .and_then(|t| t.strip_prefix("0x"))
                .ok_or("the node's balance is not a quantity")?,
            16,
        )
        .map_err(|e| format!("the node's balance: {e}"))?;
        let nonce = call(&node, "eth_getTransactionCount", json!([who, "latest"]))?;
        let pending = call(&node, "eth_getTransactionCount", json!([who, "pending"]))?;
        println!("balance: {balance}");
        println!("nonce: {}", quantity(&nonce, "nonce")?);
        println!("pending_nonce: {}", quantity(&pending, "nonce")?);
        return Ok(ExitCode::SUCCESS);
    }
    let account = call(&node, "hb_getBalance", json!([hex(address.as_slice())]))?;
    println!("balance: {}", text(&account, "balance")?);
    println!("nonce: {}", number(&account, "nonce")?);
    println!("pending_nonce: {}", number(&account, "pending_nonce")?);
    Ok(ExitCode::SUCCESS)
}

pub fn status(args: StatusArgs) -> Result<ExitCode, String> {
    let node = client(&args.rpc)?;
    let latest = call(&node, "hb_latestBatch", json!([]))?;
    let sync = call(&node, "hb_syncStatus", json!([]))?;
    println!("batch: {}", number(&latest, "batch")?);
    println!("state_root: {}", text(&latest, "state_root")?);
    println!("confirmed_batch: {}", number(&latest, "confirmed_batch")?);
    println!(
        "confirmed_assertion: {}",
        number(&latest, "confirmed_assertion")?
    );
    println!("assertion: {}", number(&latest, "assertion")?);
    println!("assertion_batch: {}", number(&latest, "assertion_batch")?);
    println!("assertion_status: {}", text(&latest, "assertion_status")?);
    println!("l1_batches: {}", number(&sync, "l1_batches")?);
    println!("mempool: {}", number(&sync, "mempool")?);
    println!("chain_id: {}", number(&sync, "chain_id")?);
    println!(
        "role: {}",
        if field(&sync, "sequencer")?.as_bool() == Some(true) {
            "sequencer"
        } else {
            "validator"
        }
    );
    Ok(ExitCode::SUCCESS)
}

pub fn claim(args: ClaimArgs) -> Result<ExitCode, String> {
    let sender = parse_key(&args.key).map_err(|e| format!("--key: {e}"))?;
    let tx = parse_hash(&args.tx).map_err(|e| format!("--tx: {e}"))?;
    let deployment = read_deployment(&args.deployment)?;
    let node = client(&args.rpc)?;
    let found = call(&node, "hb_getWithdrawal", json!([hex(&tx)]))?;
    if found.is_null() {
        println!(
            "refused: the node knows no withdrawal by {} (not in a batch yet, or not a successful withdraw)",
            args.tx
        );
        return Ok(ExitCode::from(1));
    }
    let batch = number(&found, "batch")?;
    let withdrawal = Withdrawal {
        l1_recipient: parse_address(text(&found, "recipient")?)?.into_array(),
        amount: text(&found, "amount")?
            .parse()
            .map_err(|_| "the node's amount is not a number".to_string())?,
        index: number(&found, "index")?,
    };
    let siblings = field(&found, "proof")?
        .as_array()
        .ok_or("the node's proof is not a list")?
        .iter()
        .map(|s| {
            s.as_str()
                .ok_or_else(|| "a proof entry is not a string".to_string())
                .and_then(|s| parse_hash(s).map_err(|e| format!("the node's proof: {e}")))
                .map(B256::from)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let proof = WithdrawalProof {
        position: u32::try_from(number(&found, "position")?)
            .map_err(|_| "the node's position is out of range")?,
        siblings,
    };
    let mut l1 = RpcL1::connect(&args.l1_rpc).map_err(|e| format!("{}: {e}", args.l1_rpc))?;
    let log = prover::settlement::L1Log::read(&mut l1, &deployment).map_err(|e| e.to_string())?;
    let view_of = chain::read(&mut l1, &log).map_err(|e| e.to_string())?;
    // The confirmed assertion of the batch, else one still pending (several may be: rivals).
    let of_batch = || {
        view_of
            .assertions
            .iter()
            .filter(|a| a.batch() == batch && a.record.id != 0)
    };
    let found = of_batch()
        .find(|a| a.status == Status::Confirmed)
        .or_else(|| of_batch().find(|a| a.status == Status::Pending));
    let Some(assertion) = found else {
        println!("refused: batch {batch} has no assertion on L1 yet; try again after the sequencer asserts it");
        return Ok(ExitCode::from(1));
    };
    let id = assertion.record.id;
    if assertion.status != Status::Confirmed {
        // The withdrawal delay counts from confirmation (a large amount waits longer).
        let at = assertion.created_at + view_of.challenge_period + view_of.withdrawal_delay;
        println!(
            "refused: assertion {id} (batch {batch}) is not confirmed yet; claimable from about unix time {at} (in about {} s) at the earliest, if no challenge is open",
            at.saturating_sub(view_of.now)
        );
        return Ok(ExitCode::from(1));
    }
    let receipt = finalize_withdrawal(&mut l1, &sender, &deployment, id, &withdrawal, proof)
        .map_err(|e| e.to_string())?;
    if let Err(revert) = &receipt.outcome {
        if revert.error.starts_with("WithdrawalNotYetPayable") {
            // From confirmation, later if large or held by the guardian: the contract says when.
            let payable = view(
                &mut l1,
                deployment.rollup,
                Rollup::withdrawalPayableAtCall {
                    id,
                    amount: withdrawal.amount,
                },
            )
            .map_err(|e| e.to_string())?;
            println!(
                "refused: {revert}; claimable from unix time {payable} (in about {} s)",
                payable.saturating_sub(view_of.now)
            );
        } else if revert.error.starts_with("Paused") {
            println!("refused: {revert}; the guardian paused payouts until that unix time (or an unpause)");
        } else {
            println!("refused: {revert}");
        }
        return Ok(ExitCode::from(1));
    }
    println!("paid: {}", withdrawal.amount);
    println!("recipient: {}", hex(&withdrawal.l1_recipient));
    println!("assertion: {id}");
    println!("tx: {}", receipt.hash);
    println!("gas: {}", receipt.gas_used);
    Ok(ExitCode::SUCCESS)
}
