//! `rollup state-test PATH...`: Ethereum's General State Tests run on one EVM executor.
//!
//! Prints one line per failed or skipped case, a progress line on stderr every 1,000 cases, and
//! finally `N passed, N failed, N skipped`. Exit code 1 if any case failed, 2 if the fixtures
//! cannot be loaded or the engine cannot be used.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, ValueEnum};
use prover::state_test::{
    load_cases, run_cases, CaseExecutor, GuestExecutor, NativeRevm, Tally, Verdict,
};
use prover::Engine;

/// Who executes the cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StateTestEngine {
    /// The EVM guest on wasmtime (fast replay).
    Native,
    /// The EVM guest on the provable interpreter.
    Interp,
    /// revm run natively: the reference the guest is measured against.
    Revm,
}

#[derive(Args)]
pub struct StateTestArgs {
    /// Fixture files, or folders searched recursively for *.json.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "native")]
    engine: StateTestEngine,
}

/// How often the progress line is printed.
const PROGRESS_EVERY: usize = 1_000;

/// The executor behind each `--engine`: the one place the EVM guest gets wired in.
fn executor_for(engine: StateTestEngine) -> Result<Box<dyn CaseExecutor>, String> {
    match engine {
        StateTestEngine::Revm => Ok(Box::new(NativeRevm)),
        StateTestEngine::Native => Ok(Box::new(GuestExecutor::new(Engine::Native)?)),
        StateTestEngine::Interp => Ok(Box::new(GuestExecutor::new(Engine::Interp)?)),
    }
}

pub fn run(args: StateTestArgs) -> Result<ExitCode, String> {
    let executor = executor_for(args.engine)?;
    let cases = load_cases(&args.paths).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let verdicts = run_cases(&cases, &*executor, |done, total| {
        if done % PROGRESS_EVERY == 0 && done < total {
            eprintln!("{done}/{total} cases");
        }
    });
    for (index, verdict) in &verdicts {
        let (tag, reason) = match verdict {
            Verdict::Passed => continue,
            Verdict::Failed(reason) => ("FAIL", reason),
            Verdict::Skipped(reason) => ("SKIP", reason),
        };
        println!("{tag} {}: {}", cases[*index].label(), one_line(reason));
    }
    let tally = Tally::of(verdicts.iter().map(|(_, verdict)| verdict));
    eprintln!(
        "{} cases on {} in {:.1} s",
        cases.len(),
        executor.name(),
        started.elapsed().as_secs_f64()
    );
    println!("{tally}");
    Ok(if tally.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A reason on the report's one line per case.
fn one_line(reason: &str) -> String {
    reason.split_whitespace().collect::<Vec<_>>().join(" ")
}
