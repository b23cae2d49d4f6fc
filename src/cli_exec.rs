//! `rollup exec`: one invocation, printed as `type:value` lines plus steps, trap and machine hash.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, ValueEnum};
use vm::{Machine, Module, NoImports, RunOutcome, Trap, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// The provable step interpreter (prints steps and the machine hash).
    Interp,
    /// wasmtime, for fast replay.
    Native,
}

#[derive(Args)]
pub struct ExecArgs {
    /// The module: binary .wasm or text .wat.
    file: PathBuf,
    /// Exported function to call.
    #[arg(long)]
    invoke: String,
    /// An argument as TYPE:VALUE (i32:7, i64:-1, f32:1.5, f64:0.5); repeat in order.
    #[arg(long = "arg", allow_hyphen_values = true)]
    args: Vec<String>,
    #[arg(long, value_enum, default_value = "interp")]
    engine: Engine,
    /// Step budget (interp) or fuel budget (native). Exceeding it stops with `step limit reached`.
    #[arg(long, default_value_t = 10_000_000_000)]
    max_steps: u64,
}

pub fn run(args: ExecArgs) -> Result<ExitCode, String> {
    let bytes = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let values = args
        .args
        .iter()
        .map(|a| Value::parse(a))
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    match args.engine {
        Engine::Interp => run_interp(&bytes, &args, &values, started),
        Engine::Native => run_native(&bytes, &args, &values, started),
    }
}

fn print_results(values: &[Value]) {
    for v in values {
        println!("{v}");
    }
}

fn run_interp(
    bytes: &[u8],
    args: &ExecArgs,
    values: &[Value],
    started: Instant,
) -> Result<ExitCode, String> {
    let module = Module::from_text_or_binary(bytes).map_err(|e| e.to_string())?;
    let mut host = NoImports;
    let mut machine = Machine::new(module, &mut host).map_err(|e| e.to_string())?;
    if *machine.status() == vm::Status::Running {
        // The start function runs first, within the same budget.
        match machine.run(&mut host, args.max_steps) {
            RunOutcome::Finished(_) | RunOutcome::Idle => {}
            RunOutcome::Trapped(trap) => return report_trap(&mut machine, trap, "start function"),
            RunOutcome::StepLimit => {
                return report_trap(&mut machine, Trap::StepLimitReached, "start function")
            }
        }
    }
    machine
        .invoke(&args.invoke, values)
        .map_err(|e| e.to_string())?;
    let budget = args.max_steps.saturating_sub(machine.steps());
    let outcome = machine.run(&mut host, budget);
    let elapsed = started.elapsed();
    match outcome {
        RunOutcome::Finished(results) => {
            print_results(&results);
            println!("steps: {}", machine.steps());
            println!("machine_hash: {}", machine.hash());
            eprintln!("time: {:.3} s", elapsed.as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
        RunOutcome::Trapped(trap) => report_trap(&mut machine, trap, &args.invoke),
        RunOutcome::StepLimit => report_trap(&mut machine, Trap::StepLimitReached, &args.invoke),
        RunOutcome::Idle => Err("nothing was invoked".into()),
    }
}

fn report_trap(machine: &mut Machine, trap: Trap, what: &str) -> Result<ExitCode, String> {
    println!("trap: {trap}");
    println!("steps: {}", machine.steps());
    println!("machine_hash: {}", machine.hash());
    eprintln!("error: `{what}` stopped: {trap}");
    Ok(ExitCode::from(1))
}

fn run_native(
    bytes: &[u8],
    args: &ExecArgs,
    values: &[Value],
    started: Instant,
) -> Result<ExitCode, String> {
    let binary = wat::parse_bytes(bytes).map_err(|e| format!("invalid module: {e}"))?;
    let module = vm::native::NativeModule::new(&binary).map_err(|e| e.to_string())?;
    let mut instance = vm::native::NativeInstance::new(&module, NoImports, args.max_steps)
        .map_err(|e| e.to_string())?;
    let outcome = instance.invoke(&args.invoke, values, args.max_steps);
    let elapsed = started.elapsed();
    match outcome {
        Ok(results) => {
            print_results(&results);
            eprintln!("time: {:.3} s", elapsed.as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
        Err(vm::native::NativeError::Trap(trap)) => {
            println!("trap: {trap}");
            eprintln!("error: `{}` stopped: {trap}", args.invoke);
            Ok(ExitCode::from(1))
        }
        Err(other) => Err(other.to_string()),
    }
}
