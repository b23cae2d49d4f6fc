//! A dispute over one small STF batch (100 signed transactions, ~0.9M steps): building the
//! checkpoints (one interpreter run with snapshots), and a whole game between an honest challenger
//! and an asserter whose machine goes wrong in the middle, from checkpoints already built.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use program::{random_batch, random_genesis};
use prover::dispute::{
    checkpoint_count, run_dispute, Checkpoints, Computation, HonestAgent, Liar, Lie,
};
use prover::runner::BATCH_STEP_LIMIT;
use prover::StfGuest;
use verifier::bisection::BisectionConfig;

fn dispute(c: &mut Criterion) {
    let (root, store, _) = random_genesis(3, 100);
    let (batch, _) = random_batch(3, 100, 100, 1, 1, root);
    let guest = StfGuest::new(program::STF_WASM).unwrap();
    let computation = Computation::stf(&guest, &batch, store).unwrap();
    let steps = computation.run_length(BATCH_STEP_LIMIT).unwrap();
    let count = checkpoint_count(steps, 32);
    let config = BisectionConfig::new(1_000, 600_000);
    let mut group = c.benchmark_group("dispute 100 tx");
    group.sample_size(10);
    group.bench_function("checkpoints", |b| {
        b.iter_batched(
            || computation.clone(),
            |computation| Checkpoints::build(computation, steps, count),
            BatchSize::LargeInput,
        )
    });
    let trace = Checkpoints::build(computation, steps, count);
    group.bench_function("game (liar asserter, k = 32)", |b| {
        b.iter_batched(
            || {
                (
                    HonestAgent::new(trace.clone()),
                    Liar::new(trace.clone(), Lie::WrongFrom(steps / 2 + 1), 1),
                )
            },
            |(mut honest, mut liar)| {
                let report = run_dispute(
                    liar.claim(),
                    &mut liar,
                    &mut honest,
                    config,
                    &verifier::StfChecker,
                )
                .unwrap();
                assert_eq!(report.winner(), verifier::bisection::Party::Challenger);
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, dispute);
criterion_main!(benches);
