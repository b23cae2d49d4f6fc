//! `rollup dispute`: a disputed computation (a fresh STF batch, or one call of any module), an
//! honest party and a liar, and the bisection game between them, round by round, down to one
//! instruction and the referee's verdict.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use program::evm_workload::EvmWorkloadKind;
use program::{BatchOutputs, Config};
use prover::dispute::{
    checkpoint_count, differing_outputs, run_dispute, Agent, Checkpoints, Computation,
    DisputeReport, HonestAgent, Liar, Lie,
};
use prover::runner::BATCH_STEP_LIMIT;
use prover::{Engine, StfGuest};
use verifier::bisection::{rounds_for, BisectionConfig, Claim, Party, DEFAULT_ARITY};
use vm::{Host, Module, NoImports, Value};

use crate::cli_batch::{build_batch, build_evm_batch};

/// Bond each party posts (in the rollup's smallest unit).
const BOND: u128 = 1_000_000;

/// Clock budget per party, in ticks of one millisecond of prover time: ten minutes.
const CLOCK_BUDGET: u64 = 600_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LiarRole {
    Asserter,
    Challenger,
}

/// Which state-transition function the disputed batch runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StfArg {
    /// The EVM (revm in the guest): a block of ERC-20 transfers.
    Evm,
    /// The transfer ledger: signed transfers and withdrawals.
    Ledger,
}

#[derive(Args)]
pub struct DisputeArgs {
    /// Dispute one call of this module (.wasm or .wat) instead of an STF batch.
    #[arg(conflicts_with_all = ["txs", "pure_wasm_crypto", "accounts"])]
    file: Option<PathBuf>,
    /// Exported function to call (with FILE).
    #[arg(long, requires = "file")]
    invoke: Option<String>,
    /// An argument as TYPE:VALUE (with FILE); repeat in order.
    #[arg(long = "arg", allow_hyphen_values = true, requires = "file")]
    args: Vec<String>,
    /// Transactions in the batch (1 to 1000).
    #[arg(long, required_unless_present = "file")]
    txs: Option<usize>,
    /// The STF of the batch: the EVM (a block of ERC-20 transfers) or the transfer ledger.
    #[arg(long, value_enum, default_value = "evm")]
    stf: StfArg,
    /// Run the ledger guest with keccak256 and secp256k1 compiled into WebAssembly (about 4.8
    /// million steps per transaction) instead of host precompiles (with `--stf ledger`).
    #[arg(long)]
    pure_wasm_crypto: bool,
    /// Seed for keys, genesis, transactions and the default lie step.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Accounts in the genesis state.
    #[arg(long, default_value_t = 200)]
    accounts: usize,
    /// Which side lies; the other side is honest.
    #[arg(long, value_enum, default_value = "asserter")]
    liar: LiarRole,
    /// The liar's machine goes wrong at this step (1 to the claim's step count); default: a step
    /// drawn from the seed.
    #[arg(long)]
    lie_at_step: Option<u64>,
    /// Dissection arity: sub-segments per round.
    #[arg(long, default_value_t = DEFAULT_ARITY)]
    k: u32,
    /// Snapshots the provers keep (default: two per first-round part, see `prover::dispute`).
    #[arg(long)]
    checkpoints: Option<u64>,
    /// Longest claim: a run that has not halted after this many steps is disputed over its first
    /// N steps.
    #[arg(long, default_value_t = BATCH_STEP_LIMIT)]
    max_steps: u64,
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::from("0x"), |mut s, b| {
        s.push_str(&format!("{b:02x}"));
        s
    })
}

/// splitmix64 of the seed: the default lie step.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Peak resident memory of this process (Linux; `None` elsewhere).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn check(args: &DisputeArgs) -> Result<BisectionConfig, String> {
    if let Some(txs) = args.txs {
        let limit = Config::default().max_transactions as usize;
        if txs == 0 || txs > limit {
            return Err(format!(
                "--txs must be between 1 and {limit} (the batch limit), got {txs}"
            ));
        }
        if args.accounts < 2 {
            return Err(
                "--accounts must be at least 2 (transfers need a sender and a receiver)".into(),
            );
        }
    }
    if args.file.is_some() && args.invoke.is_none() {
        return Err("give the function to call with --invoke NAME".into());
    }
    if args.pure_wasm_crypto && args.stf == StfArg::Evm {
        return Err("--pure-wasm-crypto is for the ledger guest: add --stf ledger".into());
    }
    if args.checkpoints == Some(0) {
        return Err("--checkpoints must be at least 1".into());
    }
    if args.max_steps == 0 {
        return Err("--max-steps must be at least 1".into());
    }
    let config = BisectionConfig {
        arity: args.k,
        ..BisectionConfig::new(BOND, CLOCK_BUDGET)
    };
    config
        .validate()
        .map_err(|e| format!("--k {}: {e}", args.k))?;
    Ok(config)
}

fn print_outputs(label: &str, outputs: &BatchOutputs) {
    println!(
        "{label}: state_root {} withdrawals_root {} txs {} status {:?}",
        hex(&outputs.post_state_root),
        hex(&outputs.withdrawals_root),
        outputs.tx_count,
        outputs.status
    );
}

fn print_values(values: &[Value]) -> String {
    let text: Vec<String> = values.iter().map(ToString::to_string).collect();
    format!("[{}]", text.join(", "))
}

pub fn run(args: DisputeArgs) -> Result<ExitCode, String> {
    let config = check(&args)?;
    match &args.file {
        Some(file) => dispute_call(file, &args, config),
        None => dispute_batch(&args, config),
    }
}

/// An STF batch: the honest party's replay on wasmtime tells it the true outputs; a lying asserter
/// asserts outputs its wrong machine would produce.
fn dispute_batch(args: &DisputeArgs, config: BisectionConfig) -> Result<ExitCode, String> {
    let txs = args.txs.ok_or("give --txs N, or a module FILE")?;
    let (wasm, message, store) = match args.stf {
        StfArg::Ledger => {
            let (batch, store) = build_batch(txs, args.seed, args.accounts)?;
            let wasm = if args.pure_wasm_crypto {
                program::STF_PURE_WASM
            } else {
                program::STF_WASM
            };
            (wasm, program::encode_batch(&batch), store)
        }
        StfArg::Evm => {
            let workload = build_evm_batch(
                EvmWorkloadKind::Erc20Transfers,
                txs,
                args.seed,
                args.accounts,
            )?;
            (program::EVM_STF_WASM, workload.message, workload.store)
        }
    };
    let guest = StfGuest::new(wasm).map_err(|e| e.to_string())?;

    // The honest party's cheap check: the batch on wasmtime.
    let replay = guest
        .run_message(Engine::Native, message.clone(), store.clone())
        .map_err(|e| e.to_string())?;
    println!("wasmtime replay: {}", millis(replay.elapsed));
    print_outputs("true outputs", &replay.outputs);

    let computation =
        Computation::stf_message(&guest, message, store).map_err(|e| e.to_string())?;
    let announce = |claim_is_lie: bool| {
        if claim_is_lie {
            // The liar's machine goes wrong, so the outputs it asserts are wrong too.
            let mut asserted = replay.outputs.clone();
            asserted.post_state_root = program::keccak256(&asserted.post_state_root);
            let differ = differing_outputs(&asserted, &replay.outputs);
            print_outputs("asserted outputs", &asserted);
            println!(
                "the challenger's replay disagrees on {}: it disputes the assertion",
                differ.join(", ")
            );
        } else {
            println!(
                "the asserted outputs match the replay; the lying challenger disputes them anyway"
            );
        }
    };
    play(computation, args, config, announce)
}

/// One call of a module without imports: the honest party's cheap check is the same call on
/// wasmtime; the claim is the interpreter's run from the invocation to its halt.
fn dispute_call(
    file: &std::path::Path,
    args: &DisputeArgs,
    config: BisectionConfig,
) -> Result<ExitCode, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let values = args
        .args
        .iter()
        .map(|a| Value::parse(a))
        .collect::<Result<Vec<_>, _>>()?;
    let name = args.invoke.as_deref().ok_or("give --invoke NAME")?;
    // Parsed once: the interpreter and the wasmtime replay load the same binary.
    let binary = wat::parse_bytes(&bytes).map_err(|e| format!("invalid module: {e}"))?;
    let module = Module::new(&binary).map_err(|e| e.to_string())?;
    let computation = Computation::call_module(module.clone(), name, &values, args.max_steps)
        .map_err(|e| e.to_string())?;

    let started = Instant::now();
    // Fuel (one unit per WebAssembly instruction) bounds the replay as --max-steps bounds the claim.
    let fuel = args.max_steps;
    let native = vm::native::NativeModule::from_module(module.clone(), &binary)
        .and_then(|m| vm::native::NativeInstance::new(&m, NoImports, fuel))
        .map_err(|e| e.to_string())
        .and_then(|mut i| i.invoke(name, &values, fuel).map_err(|e| e.to_string()));
    match &native {
        Ok(results) => println!(
            "wasmtime replay: {}: {name} returns {}",
            millis(started.elapsed()),
            print_values(results)
        ),
        Err(e) => println!(
            "wasmtime replay: {}: {name} stops: {e}",
            millis(started.elapsed())
        ),
    }
    let announce = |claim_is_lie: bool| {
        if claim_is_lie {
            println!("the asserter claims a different final machine state; the challenger's run disagrees");
        } else {
            println!("the asserted run is right; the lying challenger disputes it anyway");
        }
    };
    play(computation, args, config, announce)
}

/// Runs the claim once for its length and once for checkpoints, then plays the game between the
/// honest party and a liar whose machine goes wrong at the lie step.
fn play<H: Host + Clone + Send + Sync + 'static>(
    computation: Computation<H>,
    args: &DisputeArgs,
    config: BisectionConfig,
    announce: impl Fn(bool),
) -> Result<ExitCode, String> {
    let started = Instant::now();
    eprintln!(
        "interpreter: measuring the run (at most {} steps)...",
        args.max_steps
    );
    let steps = match computation.run_length(args.max_steps) {
        Some(steps) => steps,
        None => {
            println!(
                "note: the run has not halted after {} steps; the claim covers those steps",
                args.max_steps
            );
            args.max_steps
        }
    };
    if steps == 0 {
        return Err("the run takes no steps: there is nothing to dispute".into());
    }
    let length_time = started.elapsed();
    let count = args
        .checkpoints
        .unwrap_or_else(|| checkpoint_count(steps, args.k));
    eprintln!(
        "interpreter: {steps} steps in {}; taking {count} checkpoints...",
        millis(length_time)
    );
    let checker = computation.checker();
    let trace = Checkpoints::build(computation, steps, count);
    println!(
        "interpreter: {steps} steps, {} checkpoints, {} (run twice: length, then checkpoints)",
        trace.snapshot_count(),
        millis(started.elapsed())
    );
    let lie_at = match args.lie_at_step {
        Some(step) if (1..=steps).contains(&step) => step,
        Some(step) => {
            return Err(format!(
                "--lie-at-step must be between 1 and the claim's {steps} steps, got {step}"
            ))
        }
        None => 1 + mix(args.seed) % steps,
    };
    let lie = Lie::WrongFrom(lie_at);

    let mut honest = HonestAgent::new(trace.clone());
    let mut liar = Liar::new(trace, lie, args.seed);
    let (claim, asserter, challenger, honest_role): (Claim, &mut dyn Agent, &mut dyn Agent, _) =
        match args.liar {
            LiarRole::Asserter => (liar.claim(), &mut liar, &mut honest, Party::Challenger),
            LiarRole::Challenger => (honest.claim(), &mut honest, &mut liar, Party::Asserter),
        };
    announce(args.liar == LiarRole::Asserter);
    println!(
        "claim: {} steps from {} to {}",
        claim.steps, claim.pre, claim.post
    );
    println!(
        "asserter: {}, challenger: {}; k = {}, at most {} rounds",
        asserter.describe(),
        challenger.describe(),
        config.arity,
        rounds_for(steps, config.arity)
    );
    let report =
        run_dispute(claim, asserter, challenger, config, &checker).map_err(|e| e.to_string())?;
    print_report(&report, honest_role);
    if let Some(kib) = peak_rss_kib() {
        println!("peak memory: {:.1} MiB", kib as f64 / 1024.0);
    }
    let honest_won = report.winner() == honest_role;
    println!("winner: {}", if honest_won { "honest" } else { "liar" });
    Ok(if honest_won {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_report(report: &DisputeReport, honest_role: Party) {
    for r in &report.rounds {
        println!(
            "round {}: segment [{}, {}] in {} parts: asserter answered in {}, challenger picked part {} in {}, {} bytes",
            r.round,
            r.start,
            r.end,
            r.parts,
            millis(r.asserter_time),
            r.chosen,
            millis(r.challenger_time),
            r.bytes
        );
    }
    for refused in &report.refused {
        println!(
            "refused ({} in round {}): {}",
            refused.party, refused.round, refused.reason
        );
    }
    let segment = report.final_segment;
    match &report.one_step {
        Some(proof) => {
            let op = proof
                .op
                .map_or("none (the machine had halted)".to_string(), |op| {
                    format!("{op:?}")
                });
            println!(
                "disputed step: {} -> {}: instruction {op}",
                segment.start, segment.end
            );
            println!(
                "one-step proof: {} bytes from the {}, built in {}",
                proof.proof_bytes,
                proof.prover,
                millis(proof.time)
            );
        }
        None => println!(
            "last disputed segment: [{}, {}]",
            segment.start, segment.end
        ),
    }
    let outcome = &report.outcome;
    println!("verdict: {:?}: the {} wins", outcome.reason, outcome.winner);
    let side = |p: Party| if p == honest_role { "honest" } else { "liar" };
    println!(
        "bond: the {} ({}) forfeits {}: {} to the {} ({}), {} burned",
        outcome.loser(),
        side(outcome.loser()),
        report.config.bond,
        outcome.payout_to_winner,
        outcome.winner,
        side(outcome.winner),
        outcome.burned
    );
    let honest_time: Duration = report
        .rounds
        .iter()
        .map(|r| match honest_role {
            Party::Asserter => r.asserter_time,
            Party::Challenger => r.challenger_time,
        })
        .sum();
    let slowest = report
        .rounds
        .iter()
        .map(|r| r.asserter_time.max(r.challenger_time))
        .max()
        .unwrap_or_default();
    println!(
        "total: {} rounds, {} bytes exchanged, honest prover time {}, slowest answer {}, dispute wall time {}",
        report.rounds.len(),
        report.bytes,
        millis(honest_time),
        millis(slowest),
        millis(report.wall)
    );
}
