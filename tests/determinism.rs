//! Determinism: the same run twice, and a run split into arbitrary `run(n)` chunks with snapshots
//! and restores in between, give the same machine hash at every checked step boundary.

use std::collections::BTreeMap;

use vm::{Machine, MachineHash, Module, NoImports, RunOutcome, Value};

mod common;
use common::SplitMix;

fn start(name: &str, args: &[Value]) -> Machine {
    let module = Module::new(program::WORKLOADS_WASM).unwrap();
    let mut m = Machine::instantiate(module, &mut NoImports, u64::MAX).unwrap();
    m.invoke(name, args).unwrap();
    m
}

/// Hashes at every `every` steps of a straight run, and the final results.
fn reference(name: &str, args: &[Value], every: u64) -> (BTreeMap<u64, MachineHash>, RunOutcome) {
    let mut m = start(name, args);
    let mut hashes = BTreeMap::new();
    hashes.insert(0, m.hash());
    loop {
        let outcome = m.run(&mut NoImports, every);
        hashes.insert(m.steps(), m.hash());
        if outcome != RunOutcome::StepLimit {
            return (hashes, outcome);
        }
    }
}

#[test]
fn same_run_twice_gives_same_hashes() {
    let args = [Value::I32(3000)];
    let (a, ra) = reference("keccak", &args, 997);
    let (b, rb) = reference("keccak", &args, 997);
    assert!(
        a.len() > 100,
        "the run should cross many checkpoints, got {}",
        a.len()
    );
    assert_eq!(a, b);
    assert_eq!(ra, rb);
    assert!(matches!(ra, RunOutcome::Finished(_)));
}

#[test]
fn chunked_runs_with_snapshots_and_restores_agree() {
    for (name, args) in [
        ("keccak", vec![Value::I32(2000)]),
        ("sort", vec![Value::I32(300), Value::I32(5)]),
        ("memloop", vec![Value::I32(5000)]),
        ("fib", vec![Value::I32(15)]),
    ] {
        let every = 101;
        let (expected, expected_outcome) = reference(name, &args, every);
        let mut rng = SplitMix(name.len() as u64 * 7919);
        let mut m = start(name, &args);
        let mut checked = 0;
        let mut outcome = RunOutcome::StepLimit;
        while outcome == RunOutcome::StepLimit {
            // Run to the next multiple of `every` in a few random chunks, hashing only sometimes.
            let target = (m.steps() / every + 1) * every;
            while m.steps() < target && outcome == RunOutcome::StepLimit {
                let chunk = 1 + rng.next() % (target - m.steps());
                outcome = m.run(&mut NoImports, chunk);
                if rng.next().is_multiple_of(4) {
                    m.hash();
                }
                if rng.next().is_multiple_of(3) {
                    // Snapshot, scribble on the original, and continue from the snapshot instead.
                    let snapshot = m.snapshot();
                    m.run(&mut NoImports, 1 + rng.next() % 50);
                    m.hash();
                    m = snapshot;
                }
            }
            if let Some(want) = expected.get(&m.steps()) {
                assert_eq!(
                    m.hash(),
                    *want,
                    "{name}: hash differs at step {}",
                    m.steps()
                );
                checked += 1;
            }
        }
        assert_eq!(outcome, expected_outcome, "{name}");
        assert!(checked >= 10, "{name}: only {checked} boundaries checked");
    }
}

#[test]
fn different_inputs_give_different_hashes() {
    let mut a = start("fib", &[Value::I32(10)]);
    let mut b = start("fib", &[Value::I32(11)]);
    assert_ne!(a.hash(), b.hash());
    a.run(&mut NoImports, u64::MAX);
    b.run(&mut NoImports, u64::MAX);
    assert_ne!(a.hash(), b.hash());
}
