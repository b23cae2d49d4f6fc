//! `rollup run-batch`: a deterministic genesis and signed batch, run on one engine, outputs as hex.

use std::process::ExitCode;

use clap::Args;
use program::evm_workload::{evm_workload, EvmWorkload, EvmWorkloadKind};
use program::{random_batch, random_genesis, Batch, BatchStatus, Config, NodeStore};
use prover::{Engine, StfGuest};

use crate::cli_exec::Engine as EngineArg;

#[derive(Args)]
pub struct RunBatchArgs {
    /// Transactions in the batch (0 is an empty batch; at most the batch limit, 1000).
    #[arg(long)]
    txs: usize,
    /// Seed for keys, genesis and transactions: the same seed gives the same batch.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Accounts in the genesis state.
    #[arg(long, default_value_t = 200)]
    accounts: usize,
    #[arg(long, value_enum, default_value = "interp")]
    engine: EngineArg,
    /// Run the guest with keccak256 and secp256k1 compiled into WebAssembly instead of precompiles.
    #[arg(long)]
    pure_wasm_crypto: bool,
}

pub const CHAIN_ID: u64 = 1;

fn hex(bytes: &[u8]) -> String {
    let mut s = String::from("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The deterministic genesis (`accounts` accounts) and batch of `txs` transactions from `seed` that
/// `run-batch`, `prove --batch` and `dispute` share, after checking the sizes.
pub fn build_batch(txs: usize, seed: u64, accounts: usize) -> Result<(Batch, NodeStore), String> {
    let limit = Config::default().max_transactions as usize;
    if txs > limit {
        return Err(format!(
            "--txs {txs} is over the batch limit of {limit} transactions"
        ));
    }
    if accounts == 0 {
        return Err("--accounts must be at least 1".into());
    }
    eprintln!(
        "building genesis ({accounts} accounts) and a batch of {txs} transactions (seed {seed})..."
    );
    let (root, store, _) = random_genesis(seed, accounts);
    let (batch, _) = random_batch(seed, txs, accounts, CHAIN_ID, 1, root);
    Ok((batch, store))
}

/// A block of `txs` EVM transactions of `kind` among `accounts` accounts on a fresh genesis (the
/// token and the withdrawal predeploy from the committed contract artifacts).
pub fn build_evm_batch(
    kind: EvmWorkloadKind,
    txs: usize,
    seed: u64,
    accounts: usize,
) -> Result<EvmWorkload, String> {
    let limit = Config::default().max_transactions as usize;
    if txs > limit {
        return Err(format!(
            "--txs {txs} is over the batch limit of {limit} transactions"
        ));
    }
    if accounts < 2 {
        return Err(
            "--accounts must be at least 2 (transfers need a sender and a receiver)".into(),
        );
    }
    eprintln!(
        "building an EVM genesis ({accounts} accounts and a token) and a block of {txs} {kind:?} (seed {seed})..."
    );
    let token =
        verifier::evm::artifact_deployed_bytecode("DemoToken").map_err(|e| e.to_string())?;
    let withdrawals =
        verifier::evm::artifact_deployed_bytecode("L2Withdrawals").map_err(|e| e.to_string())?;
    evm_workload(kind, txs, accounts, seed, &token, &withdrawals).map_err(|e| e.to_string())
}

pub fn run(args: RunBatchArgs) -> Result<ExitCode, String> {
    let (batch, store) = build_batch(args.txs, args.seed, args.accounts)?;
    let engine = match args.engine {
        EngineArg::Interp => Engine::Interp,
        EngineArg::Native => Engine::Native,
    };
    let wasm = if args.pure_wasm_crypto {
        program::STF_PURE_WASM
    } else {
        program::STF_WASM
    };
    let guest = StfGuest::new(wasm).map_err(|e| e.to_string())?;
    eprintln!("running on {:?}...", args.engine);
    let run = guest
        .run(engine, &batch, store)
        .map_err(|e| e.to_string())?;
    let out = &run.outputs;
    println!("pre_state_root: {}", hex(&out.pre_state_root));
    println!("state_root: {}", hex(&out.post_state_root));
    println!("withdrawals_root: {}", hex(&out.withdrawals_root));
    println!("receipts_root: {}", hex(&out.receipts_root));
    println!("batch_number: {}", out.batch_number);
    println!("tx_count: {}", out.tx_count);
    println!("withdrawal_count: {}", out.withdrawal_count);
    println!("status: {:?}", out.status);
    if engine == Engine::Interp {
        println!("steps: {}", run.steps);
        if out.tx_count > 0 {
            println!("steps_per_tx: {}", run.steps / out.tx_count as u64);
        }
        if let Some(hash) = run.final_hash {
            println!("machine_hash: {hash}");
        }
    }
    let calls: Vec<String> = prover::stf_host::IMPORT_NAMES
        .iter()
        .zip(run.host_calls)
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{name}={n}"))
        .collect();
    println!("host_calls: {}", calls.join(" "));
    let secs = run.elapsed.as_secs_f64();
    println!("time: {:.3} ms", secs * 1e3);
    if out.tx_count > 0 {
        println!("tx_per_s: {:.0}", out.tx_count as f64 / secs);
    }
    Ok(if out.status == BatchStatus::Accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
