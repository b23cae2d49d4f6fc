//! `rollup dispute`: a fresh genesis and batch, an honest party and a liar, and the bisection game
//! between them, round by round, down to one instruction and the referee's verdict.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use program::{BatchOutputs, Config};
use prover::dispute::{
    checkpoint_count, differing_outputs, replay_outputs, run_dispute, Agent, Checkpoints,
    Computation, DisputeReport, HonestAgent, Liar, Lie,
};
use prover::runner::BATCH_STEP_LIMIT;
use prover::StfGuest;
use verifier::bisection::{rounds_for, BisectionConfig, Party, DEFAULT_ARITY};

use crate::cli_batch::build_batch;

/// Bond each party posts (in the rollup's smallest unit).
const BOND: u128 = 1_000_000;

/// Clock budget per party, in ticks of one millisecond of prover time: ten minutes.
const CLOCK_BUDGET: u64 = 600_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LiarRole {
    Asserter,
    Challenger,
}

#[derive(Args)]
pub struct DisputeArgs {
    /// Transactions in the batch (1 to 1000).
    #[arg(long)]
    txs: usize,
    /// Seed for keys, genesis, transactions and the default lie step.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Accounts in the genesis state.
    #[arg(long, default_value_t = 200)]
    accounts: usize,
    /// Which side lies; the other side is honest.
    #[arg(long, value_enum, default_value = "asserter")]
    liar: LiarRole,
    /// The liar's machine goes wrong at this step (1 to the batch's step count); default: a step
    /// drawn from the seed.
    #[arg(long)]
    lie_at_step: Option<u64>,
    /// Dissection arity: sub-segments per round.
    #[arg(long, default_value_t = DEFAULT_ARITY)]
    k: u32,
    /// Snapshots the provers keep (default: two per first-round part, see `prover::dispute`).
    #[arg(long)]
    checkpoints: Option<u64>,
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
    let limit = Config::default().max_transactions as usize;
    if args.txs == 0 || args.txs > limit {
        return Err(format!(
            "--txs must be between 1 and {limit} (the batch limit), got {}",
            args.txs
        ));
    }
    if args.accounts < 2 {
        return Err(
            "--accounts must be at least 2 (transfers need a sender and a receiver)".into(),
        );
    }
    if args.checkpoints == Some(0) {
        return Err("--checkpoints must be at least 1".into());
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

pub fn run(args: DisputeArgs) -> Result<ExitCode, String> {
    let config = check(&args)?;
    let (batch, store) = build_batch(args.txs, args.seed, args.accounts)?;
    let guest = StfGuest::new(program::STF_WASM).map_err(|e| e.to_string())?;

    // The honest party's cheap check: the batch on wasmtime.
    let replay = replay_outputs(&guest, &batch, store.clone()).map_err(|e| e.to_string())?;
    println!("wasmtime replay: {}", millis(replay.elapsed));
    print_outputs("true outputs", &replay.outputs);

    let computation = Computation::stf(&guest, &batch, store).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let steps = computation
        .run_length(BATCH_STEP_LIMIT)
        .ok_or("the batch does not finish within the step limit")?;
    let count = args
        .checkpoints
        .unwrap_or_else(|| checkpoint_count(steps, args.k));
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
                "--lie-at-step must be between 1 and the batch's {steps} steps, got {step}"
            ))
        }
        None => 1 + mix(args.seed) % steps,
    };
    let lie = Lie::WrongFrom(lie_at);

    let mut honest = HonestAgent::new(trace.clone());
    let mut liar = Liar::new(trace, lie, args.seed);
    let (claim, asserter, challenger, honest_role): (_, &mut dyn Agent, &mut dyn Agent, _) =
        match args.liar {
            LiarRole::Asserter => {
                // The liar's machine goes wrong at `lie_at`, so the outputs it asserts are wrong too.
                let mut asserted = replay.outputs.clone();
                asserted.post_state_root = program::keccak256(&asserted.post_state_root);
                let differ = differing_outputs(&asserted, &replay.outputs);
                print_outputs("asserted outputs", &asserted);
                println!(
                    "the challenger's replay disagrees on {}: it disputes the assertion",
                    differ.join(", ")
                );
                (liar.claim(), &mut liar, &mut honest, Party::Challenger)
            }
            LiarRole::Challenger => {
                println!(
                    "the asserted outputs match the replay; the lying challenger disputes them anyway"
                );
                (honest.claim(), &mut honest, &mut liar, Party::Asserter)
            }
        };
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
    let report = run_dispute(claim, asserter, challenger, config, &verifier::StfChecker)
        .map_err(|e| e.to_string())?;
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
