//! One batch of 1,000 signed transactions (transfers, withdrawals, a few deposits over 200 accounts)
//! through the STF guest on wasmtime and on the interpreter. Throughput is in transactions, so
//! criterion's `elem/s` is tx/s. The guest is loaded (and compiled by wasmtime) once, outside the
//! measurement. The `pure` rows run the guest with keccak256 and secp256k1 compiled to wasm.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use program::{random_batch, random_genesis};
use prover::{Engine, StfGuest};

fn stf(c: &mut Criterion) {
    let (root, store, _) = random_genesis(3, 200);
    let (batch, _) = random_batch(3, 1000, 200, 1, 1, root);
    let guest = StfGuest::new(program::STF_WASM).unwrap();
    let pure = StfGuest::new(program::STF_PURE_WASM).unwrap();
    let mut group = c.benchmark_group("stf 1000 tx");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1000));
    for (label, guest, engine) in [
        ("wasmtime (precompiles)", &guest, Engine::Native),
        ("interp (precompiles)", &guest, Engine::Interp),
        ("wasmtime (pure wasm crypto)", &pure, Engine::Native),
    ] {
        group.bench_function(label, |b| {
            b.iter_batched(
                || store.clone(),
                |s| guest.run(engine, &batch, s).unwrap(),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, stf);
criterion_main!(benches);
