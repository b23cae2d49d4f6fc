//! `rollup demo`: what the VM guarantees, shown on the embedded Rust workloads, then the rollup
//! story: genesis, a batch, an honest assertion, a fraudulent one, and the dispute that settles it.

use std::process::ExitCode;
use std::time::Instant;

use vm::{Machine, Module, NoImports, RunOutcome, Value};

const BUDGET: u64 = 10_000_000_000;

fn interp(
    module: &std::sync::Arc<Module>,
    name: &str,
    args: &[Value],
) -> Result<(Vec<Value>, Machine, f64), String> {
    let mut machine =
        Machine::instantiate(module.clone(), &mut NoImports, BUDGET).map_err(|e| e.to_string())?;
    machine.invoke(name, args).map_err(|e| e.to_string())?;
    let started = Instant::now();
    match machine.run(&mut NoImports, BUDGET) {
        RunOutcome::Finished(values) => Ok((values, machine, started.elapsed().as_secs_f64())),
        other => Err(format!("{name} ended with {other:?}")),
    }
}

fn native(name: &str, args: &[Value]) -> Result<(Vec<Value>, f64), String> {
    let module =
        vm::native::NativeModule::new(program::WORKLOADS_WASM).map_err(|e| e.to_string())?;
    let mut instance =
        vm::native::NativeInstance::new(&module, NoImports, BUDGET).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let values = instance
        .invoke(name, args, BUDGET)
        .map_err(|e| e.to_string())?;
    Ok((values, started.elapsed().as_secs_f64()))
}

pub fn run() -> Result<ExitCode, String> {
    println!("Hauptbuch provable VM demo");
    println!("==========================");
    let module = Module::new(program::WORKLOADS_WASM).map_err(|e| e.to_string())?;
    println!(
        "workloads module: {} bytes of wasm lowered to {} steps of code, module hash {}",
        program::WORKLOADS_WASM.len(),
        module.code_len(),
        vm::MachineHash(module.hash())
    );
    println!();
    println!("1. Two engines, one semantics (interpreter vs wasmtime):");
    let cases: [(&str, Vec<Value>); 3] = [
        ("fib", vec![Value::I32(25)]),
        ("sort", vec![Value::I32(100_000), Value::I32(7)]),
        ("keccak", vec![Value::I32(256 * 1024)]),
    ];
    for (name, args) in &cases {
        let (values, mut machine, interp_secs) = interp(&module, name, args)?;
        let (native_values, native_secs) = native(name, args)?;
        let agree = if values == native_values {
            "agree"
        } else {
            "DISAGREE"
        };
        let steps = machine.steps();
        println!(
            "   {name:<7} -> {:<22} {steps:>11} steps, {:>6.1} M steps/s, interp {:>8.2} ms, wasmtime {:>7.2} ms ({agree})",
            values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" "),
            steps as f64 / interp_secs / 1e6,
            interp_secs * 1e3,
            native_secs * 1e3,
        );
        println!("            machine hash {}", machine.hash());
        if values != native_values {
            return Err(format!(
                "{name}: engines disagree: {values:?} vs {native_values:?}"
            ));
        }
    }
    println!();
    println!("2. Checkpoints: snapshot mid-run, continue, restore, re-run: the same hash at every checked step.");
    let mut machine =
        Machine::instantiate(module.clone(), &mut NoImports, BUDGET).map_err(|e| e.to_string())?;
    machine
        .invoke("keccak", &[Value::I32(4096)])
        .map_err(|e| e.to_string())?;
    machine.run(&mut NoImports, 50_000);
    let checkpoint = machine.snapshot();
    let started = Instant::now();
    let mut hashes = Vec::new();
    for _ in 0..5 {
        machine.run(&mut NoImports, 10_000);
        hashes.push(machine.hash());
    }
    let forward = started.elapsed();
    let mut replay = checkpoint.snapshot();
    for (i, expected) in hashes.iter().enumerate() {
        replay.run(&mut NoImports, 10_000);
        let got = replay.hash();
        println!(
            "   step {:>6}: {} {}",
            replay.steps(),
            got,
            if got == *expected { "=" } else { "MISMATCH" }
        );
        if got != *expected {
            return Err(format!("replay from checkpoint diverged at check {i}"));
        }
    }
    println!(
        "   (5 x 10,000 steps with hashing: {:.2} ms)",
        forward.as_secs_f64() * 1e3
    );
    println!();
    println!("3. Incremental Merkle hashing after a memory-writing loop:");
    let mut machine =
        Machine::instantiate(module.clone(), &mut NoImports, BUDGET).map_err(|e| e.to_string())?;
    let cold = Instant::now();
    machine.hash();
    let cold = cold.elapsed();
    machine
        .invoke("memloop", &[Value::I32(40_000)])
        .map_err(|e| e.to_string())?;
    machine.run(&mut NoImports, BUDGET);
    let steps = machine.steps();
    let warm = Instant::now();
    let hash = machine.hash();
    let warm = warm.elapsed();
    println!(
        "   first full hash of {} pages: {:.2} ms; after {steps} steps of stores: {:.3} ms -> {hash}",
        machine.memory().pages(),
        cold.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e3
    );
    println!();
    let stf = stf_section()?;
    println!();
    dispute_section(stf)?;
    println!();
    println!("Next: the assertion chain, the challenge window and withdrawals; see README.md.");
    Ok(ExitCode::SUCCESS)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What section 4 built and section 5 disputes.
struct StfRun {
    guest: prover::StfGuest,
    batch: program::Batch,
    store: program::NodeStore,
    outputs: program::BatchOutputs,
}

/// The rollup's STF guest: a genesis, one signed batch, run natively, on wasmtime and on the
/// interpreter, with identical outputs.
fn stf_section() -> Result<StfRun, String> {
    use program::{random_batch, random_genesis, run_native};
    use prover::{Engine, StfGuest};

    println!("4. The rollup's state-transition function (a WebAssembly guest):");
    let (root, store, _) = random_genesis(42, 50);
    println!("   genesis: 50 accounts, state root 0x{}", hex(&root));
    let (batch, _) = random_batch(42, 200, 50, 1, 1, root);
    println!("   batch 1: 200 signed transfers, withdrawals and deposits");
    let (native, _) = run_native(&batch, store.clone());
    let guest = StfGuest::new(program::STF_WASM).map_err(|e| e.to_string())?;
    let wasmtime = guest
        .run(Engine::Native, &batch, store.clone())
        .map_err(|e| e.to_string())?;
    let interp = guest
        .run(Engine::Interp, &batch, store.clone())
        .map_err(|e| e.to_string())?;
    for (name, outputs, extra) in [
        ("ledger (native Rust)", &native, String::new()),
        (
            "guest on wasmtime",
            &wasmtime.outputs,
            format!("{:.1} ms", wasmtime.elapsed.as_secs_f64() * 1e3),
        ),
        (
            "guest on interpreter",
            &interp.outputs,
            format!(
                "{:.1} ms, {} steps",
                interp.elapsed.as_secs_f64() * 1e3,
                interp.steps
            ),
        ),
    ] {
        println!(
            "   {name:<21} state root 0x{}..  withdrawals root 0x{}..  {extra}",
            &hex(&outputs.post_state_root)[..16],
            &hex(&outputs.withdrawals_root)[..16]
        );
    }
    if wasmtime.outputs != native || interp.outputs != native {
        return Err("the three runs of the STF disagree".into());
    }
    println!(
        "   all three agree: {} transactions, {} withdrawals, status {:?}",
        native.tx_count, native.withdrawal_count, native.status
    );
    Ok(StfRun {
        guest,
        batch,
        store,
        outputs: native,
    })
}

/// Two assertions about section 4's batch: the honest one is replayed and left alone, the
/// fraudulent one is disputed down to one instruction and refereed.
fn dispute_section(stf: StfRun) -> Result<(), String> {
    use prover::dispute::{
        checkpoint_count, differing_outputs, replay_outputs, run_dispute, Checkpoints, Computation,
        HonestAgent, Liar, Lie,
    };
    use verifier::bisection::{BisectionConfig, Party};

    println!("5. Assertions and a dispute over batch 1:");
    let StfRun {
        guest,
        batch,
        store,
        outputs,
    } = stf;
    let replay = replay_outputs(&guest, &batch, store.clone()).map_err(|e| e.to_string())?;
    let check = |label: &str, asserted: &program::BatchOutputs| {
        let differ = differing_outputs(asserted, &replay.outputs);
        if differ.is_empty() {
            println!("   {label}: state root 0x{}..; a watcher's wasmtime replay ({:.1} ms) agrees: no dispute",
                &hex(&asserted.post_state_root)[..16], replay.elapsed.as_secs_f64() * 1e3);
        } else {
            println!(
                "   {label}: state root 0x{}..; the replay disagrees on {}: challenge!",
                &hex(&asserted.post_state_root)[..16],
                differ.join(", ")
            );
        }
    };
    check("honest assertion   ", &outputs);
    let mut fraud = outputs.clone();
    fraud.post_state_root = program::keccak256(b"mint me a million");
    check("fraudulent assertion", &fraud);

    let computation = Computation::stf(&guest, &batch, store).map_err(|e| e.to_string())?;
    let steps = computation
        .run_length(prover::runner::BATCH_STEP_LIMIT)
        .ok_or("the batch does not finish")?;
    let started = Instant::now();
    let trace = Checkpoints::build(computation, steps, checkpoint_count(steps, 32));
    println!(
        "   the challenger runs the batch on the interpreter once: {steps} steps, {} checkpoints, {:.1} ms",
        trace.snapshot_count(),
        started.elapsed().as_secs_f64() * 1e3
    );
    // The fraudster's machine goes wrong somewhere in the middle of the batch.
    let lie_at = steps / 2 + 1;
    let mut liar = Liar::new(trace.clone(), Lie::WrongFrom(lie_at), 42);
    let mut honest = HonestAgent::new(trace);
    let config = BisectionConfig::new(1_000_000, 600_000);
    let report = run_dispute(
        liar.claim(),
        &mut liar,
        &mut honest,
        config,
        &verifier::StfChecker,
    )
    .map_err(|e| e.to_string())?;
    println!(
        "   bisection, k = {}: the asserter posts {} hashes a round, the challenger picks the first it disputes",
        config.arity,
        config.arity - 1
    );
    for r in &report.rounds {
        println!(
            "   round {}: [{:>8}, {:>8}] -> part {:>2}  ({:.1} ms + {:.1} ms, {} bytes)",
            r.round,
            r.start,
            r.end,
            r.chosen,
            r.asserter_time.as_secs_f64() * 1e3,
            r.challenger_time.as_secs_f64() * 1e3,
            r.bytes
        );
    }
    if let Some(proof) = &report.one_step {
        println!(
            "   one step left: step {} -> {}, instruction {}; one-step proof of {} bytes",
            proof.step,
            proof.step + 1,
            proof
                .op
                .map_or("(halted)".to_string(), |op| format!("{op:?}")),
            proof.proof_bytes
        );
    }
    let outcome = report.outcome;
    println!(
        "   verdict: {:?}; the {} wins, the {}'s bond of {} goes {} to the winner and {} burned",
        outcome.reason,
        outcome.winner,
        outcome.loser(),
        config.bond,
        outcome.payout_to_winner,
        outcome.burned
    );
    println!(
        "   the fraudulent assertion is rejected; {} bytes exchanged in {:.1} ms",
        report.bytes,
        report.wall.as_secs_f64() * 1e3
    );
    if outcome.winner != Party::Challenger {
        return Err("the fraudulent assertion survived its dispute".into());
    }
    Ok(())
}
