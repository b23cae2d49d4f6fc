//! Bad input never panics: truncated, random and mutated modules give errors (or, when a mutation
//! happens to stay valid, run to a result or a trap within a budget).

use vm::{Machine, Module, NoImports, Value, VmError};

mod common;
use common::SplitMix;

fn cases() -> u64 {
    std::env::var("BAD_INPUT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

/// Loads `bytes`; if valid, instantiates and calls every export with zero arguments briefly.
fn exercise(bytes: &[u8]) -> Result<(), VmError> {
    let module = Module::new(bytes)?;
    let mut machine = Machine::instantiate(module.clone(), &mut NoImports, 100_000)?;
    let exports: Vec<String> = module.exports().map(|(n, _)| n.to_string()).collect();
    for name in exports {
        let Some(ty) = module.func_type_of_export(&name) else {
            continue;
        };
        let args: Vec<Value> = ty.params.iter().map(|t| Value::default_for(*t)).collect();
        machine.invoke(&name, &args)?;
        machine.run(&mut NoImports, 100_000);
        machine.hash();
    }
    Ok(())
}

#[test]
fn truncated_modules_are_errors() {
    let wasm = program::WORKLOADS_WASM;
    let (mut errors, mut accepted) = (0, 0);
    for len in (0..wasm.len()).step_by(7) {
        match Module::new(&wasm[..len]) {
            Err(VmError::InvalidModule(_)) => errors += 1,
            Err(other) => panic!("truncation at {len}: unexpected error kind {other}"),
            // Cutting exactly at a section boundary after the code (custom sections) stays valid.
            Ok(_) => accepted += 1,
        }
    }
    assert!(errors > 100, "{errors} errors");
    assert!(accepted * 20 < errors, "{accepted} truncations accepted");
}

#[test]
fn random_bytes_are_errors() {
    let mut rng = SplitMix(1);
    let mut refused = 0;
    for case in 0..cases() {
        let len = (rng.next() % 200) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if case % 2 == 0 && bytes.len() >= 8 {
            // Give half of them a valid header so parsing goes deeper.
            bytes[..8].copy_from_slice(b"\0asm\x01\0\0\0");
        }
        if exercise(&bytes).is_err() {
            refused += 1;
        }
    }
    // Random bytes are almost never a valid module (an empty-bodied header can be).
    assert!(
        refused * 10 > cases() * 9,
        "only {refused} of {} random inputs refused",
        cases()
    );
}

#[test]
fn mutated_modules_never_panic() {
    let wasm = program::WORKLOADS_WASM;
    let mut rng = SplitMix(2);
    let mut accepted = 0;
    for _ in 0..cases() {
        let mut bytes = wasm.to_vec();
        for _ in 0..1 + rng.next() % 4 {
            let at = (rng.next() as usize) % bytes.len();
            bytes[at] = rng.next() as u8;
        }
        if exercise(&bytes).is_ok() {
            accepted += 1;
        }
    }
    // Some mutations land in data or immediates and stay valid: those ran, too.
    assert!(accepted > 0);
}

#[test]
fn unsupported_features_are_named() {
    let simd = wat::parse_str("(module (func (result v128) (v128.const i32x4 1 2 3 4)))").unwrap();
    match Module::new(&simd) {
        Err(VmError::UnsupportedFeature { feature, .. }) => assert_eq!(feature, "simd"),
        other => panic!("expected a simd refusal, got {other:?}"),
    }
    let threads = wat::parse_str("(module (memory 1 1 shared))").unwrap();
    match Module::new(&threads) {
        Err(VmError::UnsupportedFeature { feature, .. }) => assert_eq!(feature, "threads"),
        other => panic!("expected a threads refusal, got {other:?}"),
    }
    let memory64 = wat::parse_str("(module (memory i64 1))").unwrap();
    match Module::new(&memory64) {
        Err(VmError::UnsupportedFeature { feature, .. }) => assert_eq!(feature, "memory64"),
        other => panic!("expected a memory64 refusal, got {other:?}"),
    }
    let tail = wat::parse_str("(module (func $f (return_call $f)))").unwrap();
    match Module::new(&tail) {
        Err(VmError::UnsupportedFeature { feature, .. }) => assert_eq!(feature, "tail-call"),
        other => panic!("expected a tail-call refusal, got {other:?}"),
    }
}
