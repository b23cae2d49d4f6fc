//! Interpreter vs wasmtime on Rust workloads compiled to wasm32 (`program::WORKLOADS_WASM`), and the
//! cost of `Machine::hash()` after a memory-writing loop.
//!
//! Throughput is reported in interpreter steps, so criterion prints steps/s for the interpreter
//! rows; the wasmtime rows use the same element count, so their "steps/s" is the interpreter-step
//! equivalent rate and the time ratio is read directly from the two rows.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use vm::native::NativeModule;
use vm::{Machine, Module, NoImports, RunOutcome, Value};

const BUDGET: u64 = u64::MAX;

fn fresh(module: &Arc<Module>) -> Machine {
    Machine::instantiate(module.clone(), &mut NoImports, BUDGET).expect("instantiate")
}

fn steps_of(module: &Arc<Module>, name: &str, args: &[Value]) -> u64 {
    let mut m = fresh(module);
    m.invoke(name, args).unwrap();
    assert!(matches!(
        m.run(&mut NoImports, BUDGET),
        RunOutcome::Finished(_)
    ));
    m.steps()
}

fn workloads(c: &mut Criterion) {
    let module = Module::new(program::WORKLOADS_WASM).unwrap();
    let native = NativeModule::new(program::WORKLOADS_WASM).unwrap();
    let cases: [(&str, &str, Vec<Value>); 3] = [
        ("fib", "fib(27)", vec![Value::I32(27)]),
        ("sort", "sort(1M)", vec![Value::I32(1 << 20), Value::I32(7)]),
        ("keccak", "keccak(1MiB)", vec![Value::I32(1 << 20)]),
    ];
    for (name, label, args) in &cases {
        let steps = steps_of(&module, name, args);
        let mut group = c.benchmark_group(*label);
        group.sample_size(10);
        group.throughput(Throughput::Elements(steps));
        group.bench_function("interp", |b| {
            b.iter_batched(
                || {
                    let mut m = fresh(&module);
                    m.invoke(name, args).unwrap();
                    m
                },
                |mut m| {
                    assert!(matches!(
                        m.run(&mut NoImports, BUDGET),
                        RunOutcome::Finished(_)
                    ))
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function("wasmtime", |b| {
            b.iter_batched(
                || vm::native::NativeInstance::new(&native, NoImports, BUDGET).unwrap(),
                |mut i| i.invoke(name, args, BUDGET).unwrap(),
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

/// `hash()` after 1M steps of `memloop` (stores spread over a 64 KiB buffer), measured on a
/// machine whose tree was current before the loop ran.
fn hash_after_stores(c: &mut Criterion) {
    let module = Module::new(program::WORKLOADS_WASM).unwrap();
    let mut base = fresh(&module);
    base.hash();
    base.invoke("memloop", &[Value::I32(1_000_000)]).unwrap();
    let mut group = c.benchmark_group("hash");
    group.sample_size(20);
    group.bench_function("hash after 1M steps of memloop", |b| {
        b.iter_batched(
            || {
                let mut m = base.snapshot();
                m.run(&mut NoImports, 1_000_000);
                m
            },
            |mut m| m.hash(),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, workloads, hash_after_stores);
criterion_main!(benches);
