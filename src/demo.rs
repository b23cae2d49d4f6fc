//! `rollup demo`: what the VM guarantees, shown on the embedded Rust workloads, then the rollup
//! story on L1: genesis, a deposit, a batch, an honest assertion confirmed and its withdrawal paid, a
//! fraudulent one, and the dispute on chain that rejects it; last the EVM on L2: a Solidity ERC-20
//! deployed and called, and a wrong state root over it disputed to one instruction.

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
    crate::demo_l1::settlement_section(&stf.guest, stf.genesis_root, stf.genesis_store)?;
    println!();
    crate::demo_evm::evm_section()?;
    println!();
    println!("winner: honest");
    Ok(ExitCode::SUCCESS)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What section 4 built and section 5 settles on L1.
struct StfRun {
    guest: prover::StfGuest,
    genesis_root: program::ledger::Hash,
    genesis_store: program::NodeStore,
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
    println!(
        "   batch 1: {} signed transfers and withdrawals, {} deposits",
        batch.transactions.len(),
        batch.delayed.len()
    );
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
        genesis_root: root,
        genesis_store: store,
    })
}
