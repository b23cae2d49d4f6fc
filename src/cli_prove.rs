//! `rollup prove` and `rollup verify-step`: the one-step proof of step N of an invocation or of an
//! STF batch, and the stateless check of such a proof against an agreed pre-state hash.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use prover::StfGuest;
use verifier::evm::EvmChecker;
use verifier::stf_host::StfSemantics;
use vm::proof::{HostSemantics, NoHostSemantics};
use vm::{Host, Machine, MachineHash, Module, NoImports, RunOutcome, Status, Value};

use crate::cli_batch::build_batch;

#[derive(Args)]
pub struct ProveArgs {
    /// The module (.wasm or .wat); omit with --batch.
    file: Option<PathBuf>,
    /// Exported function to invoke.
    #[arg(long, required_unless_present = "batch")]
    invoke: Option<String>,
    /// An argument as TYPE:VALUE; repeat in order.
    #[arg(long = "arg", allow_hyphen_values = true)]
    args: Vec<String>,
    /// Prove a step of the STF guest running a fresh batch (like `run-batch`) instead of a module.
    #[arg(long, conflicts_with_all = ["file", "invoke"])]
    batch: bool,
    /// Transactions in the batch (with --batch).
    #[arg(long, default_value_t = 100)]
    txs: usize,
    /// Seed for keys, genesis and transactions (with --batch).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Accounts in the genesis state (with --batch).
    #[arg(long, default_value_t = 200)]
    accounts: usize,
    /// The step to prove, 0-based from the invocation: the step taken from the state after N steps.
    #[arg(long)]
    step: u64,
    /// Where to write the proof.
    #[arg(short = 'o', long = "output")]
    output: PathBuf,
}

#[derive(Args)]
pub struct VerifyStepArgs {
    /// The agreed machine hash before the step (0x + 64 hex digits).
    #[arg(long)]
    pre: String,
    /// The proof file written by `rollup prove`.
    proof: PathBuf,
    /// Check with the Solidity checker in an embedded EVM instead of the Rust one; also prints the
    /// transaction's gas.
    #[arg(long)]
    evm: bool,
}

pub fn prove(args: ProveArgs) -> Result<ExitCode, String> {
    if args.batch {
        let (batch, store) = build_batch(args.txs, args.seed, args.accounts)?;
        let guest = StfGuest::new(program::STF_WASM).map_err(|e| e.to_string())?;
        let (machine, host) = guest.start(&batch, store).map_err(|e| e.to_string())?;
        prove_at(machine, host, &StfSemantics, &args)
    } else {
        let Some(file) = &args.file else {
            return Err("give a module file, or --batch".into());
        };
        let bytes =
            std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let values = args
            .args
            .iter()
            .map(|a| Value::parse(a))
            .collect::<Result<Vec<_>, _>>()?;
        let module = Module::from_text_or_binary(&bytes).map_err(|e| e.to_string())?;
        let mut host = NoImports;
        let mut machine =
            Machine::instantiate(module, &mut host, u64::MAX).map_err(|e| e.to_string())?;
        let invoke = args.invoke.as_deref().unwrap_or_default();
        machine.invoke(invoke, &values).map_err(|e| e.to_string())?;
        prove_at(machine, host, &NoHostSemantics, &args)
    }
}

fn prove_at<H: Host>(
    mut machine: Machine,
    mut host: H,
    semantics: &dyn HostSemantics,
    args: &ProveArgs,
) -> Result<ExitCode, String> {
    let start = machine.steps();
    if args.step > 0 {
        eprintln!("running to step {}...", args.step);
    }
    // Past the end the machine stays halted: its proof is the identity step.
    if let RunOutcome::Trapped(trap) = machine.run(&mut host, args.step) {
        eprintln!(
            "note: the run trapped ({trap}) after {} steps",
            machine.steps() - start
        );
    }
    if machine.steps() - start < args.step && *machine.status() != Status::Running {
        eprintln!(
            "note: the run halted after {} steps; step {} is the identity",
            machine.steps() - start,
            args.step
        );
    }
    let pre = machine.hash();
    let op = machine.next_op();
    let proof = machine
        .prove_step(&host, semantics)
        .map_err(|e| format!("cannot prove step {}: {e}", args.step))?;
    let bytes = proof.encode();
    machine.step(&mut host);
    let post = machine.hash();
    std::fs::write(&args.output, &bytes)
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
    println!("pre: {pre}");
    println!("post: {post}");
    eprintln!(
        "step {} ({}): {} proof bytes written to {}",
        args.step,
        op.map_or("halted".to_string(), |op| format!("{op:?}")),
        bytes.len(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn verify_step(args: VerifyStepArgs) -> Result<ExitCode, String> {
    let pre = MachineHash::from_hex(&args.pre)
        .ok_or_else(|| format!("--pre {} is not 0x and 64 hex digits", args.pre))?;
    let bytes = std::fs::read(&args.proof)
        .map_err(|e| format!("cannot read {}: {e}", args.proof.display()))?;
    if args.evm {
        return verify_step_evm(&pre, &bytes);
    }
    match verifier::verify_step(&pre, &bytes) {
        Ok(post) => {
            println!("post: {post}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("rejected: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn verify_step_evm(pre: &MachineHash, proof: &[u8]) -> Result<ExitCode, String> {
    let mut checker = EvmChecker::new().map_err(|e| e.to_string())?;
    let verdict = checker.verify_step(pre, proof).map_err(|e| e.to_string())?;
    match verdict.post {
        Ok(post) => {
            println!("post: {post}");
            println!("gas: {}", verdict.gas.total);
            Ok(ExitCode::SUCCESS)
        }
        Err(rejection) => {
            println!("rejected: {rejection}");
            Ok(ExitCode::from(1))
        }
    }
}
