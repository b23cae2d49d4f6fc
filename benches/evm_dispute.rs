//! A dispute over a block of 1,000 ERC-20 transfers on the EVM guest, on the provable interpreter:
//! the claim's steps, the checkpoints, a whole game between the honest party and a liar whose run
//! goes wrong in the middle of the block (rounds, wall time, bytes exchanged, peak memory), then
//! the one-step proofs of 2,000 steps spread over the run and every 16th host call, each checked
//! by the Solidity checker in revm: proof sizes and `verifyStep` gas (median, max). Criterion then
//! times the game. Targets (issue 22): < 10 min and < 2 GiB for the dispute.

use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use program::evm_workload::{evm_workload, EvmWorkload, EvmWorkloadKind};
use prover::dispute::{
    checkpoint_count, run_dispute, Checkpoints, Computation, HonestAgent, Liar, Lie,
};
use prover::runner::BATCH_STEP_LIMIT;
use prover::StfGuest;
use verifier::bisection::{BisectionConfig, Party, DEFAULT_ARITY};
use verifier::evm::EvmChecker;
use verifier::stf_host::StfSemantics;
use vm::code::Op;
use vm::Status;

fn workload() -> EvmWorkload {
    let token = verifier::evm::artifact_deployed_bytecode("DemoToken").unwrap();
    let withdrawals = verifier::evm::artifact_deployed_bytecode("L2Withdrawals").unwrap();
    evm_workload(
        EvmWorkloadKind::Erc20Transfers,
        1000,
        200,
        7,
        &token,
        &withdrawals,
    )
    .unwrap()
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .to_string();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// One whole game; returns (rounds, bytes exchanged, winner).
fn game(guest: &StfGuest, workload: &EvmWorkload) -> (usize, usize, Party, u64) {
    let computation =
        Computation::stf_message(guest, workload.message.clone(), workload.store.clone()).unwrap();
    let steps = computation.run_length(BATCH_STEP_LIMIT).unwrap();
    let trace = Checkpoints::build(computation, steps, checkpoint_count(steps, DEFAULT_ARITY));
    let mut honest = HonestAgent::new(trace.clone());
    let mut liar = Liar::new(trace, Lie::WrongFrom(steps / 2 + 13), 3);
    let config = BisectionConfig::new(1_000_000, 600_000);
    let report = run_dispute(
        liar.claim(),
        &mut liar,
        &mut honest,
        config,
        &verifier::StfChecker,
    )
    .unwrap();
    let bytes = report.rounds.iter().map(|r| r.bytes).sum::<usize>();
    (report.rounds.len(), bytes, report.winner(), steps)
}

fn figures(guest: &StfGuest, workload: &EvmWorkload) {
    let started = Instant::now();
    let (rounds, bytes, winner, steps) = game(guest, workload);
    println!(
        "dispute over 1,000 ERC-20 transfers on the interpreter: {steps} steps ({} per transaction), \
         {rounds} rounds, {bytes} bytes exchanged, winner {winner:?}, wall time {:.1} s, peak memory {:.0} MiB",
        steps / 1000,
        started.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
    assert_eq!(winner, Party::Challenger);

    // One-step proofs over the run, each through the Solidity checker.
    let mut checker = EvmChecker::new().unwrap();
    let (mut m, mut host) = guest
        .start_message(workload.message.clone(), workload.store.clone())
        .unwrap();
    let stride = (steps / 2000).max(1);
    let (mut sizes, mut gas, mut host_sizes, mut host_gas) = (vec![], vec![], vec![], vec![]);
    let (mut i, mut host_calls) = (0u64, 0u64);
    while *m.status() == Status::Running {
        let is_host = matches!(m.next_op(), Some(Op::CallHost { .. }));
        let take_host = is_host && host_calls.is_multiple_of(16);
        host_calls += is_host as u64;
        if i.is_multiple_of(stride) || take_host {
            let pre = m.hash();
            let proof = m.prove_step(&host, &StfSemantics).unwrap().encode();
            m.step(&mut host);
            let verdict = checker.verify_step(&pre, &proof).unwrap();
            assert_eq!(verdict.post.expect("accepted"), m.hash());
            if is_host {
                host_sizes.push(proof.len() as u64);
                host_gas.push(verdict.gas.total);
            } else {
                sizes.push(proof.len() as u64);
                gas.push(verdict.gas.total);
            }
        } else {
            m.step(&mut host);
        }
        i += 1;
    }
    let mut all_sizes: Vec<u64> = sizes.iter().chain(&host_sizes).copied().collect();
    let mut all_gas: Vec<u64> = gas.iter().chain(&host_gas).copied().collect();
    println!(
        "one-step proofs: {} sampled steps and {} host calls (of {host_calls}); bytes median {} max {}; \
         verifyStep gas median {} max {} (other steps: gas median {} max {}; host calls: bytes median {} max {}, gas median {} max {})",
        sizes.len(),
        host_sizes.len(),
        median(&mut all_sizes),
        all_sizes.iter().max().unwrap(),
        median(&mut all_gas),
        all_gas.iter().max().unwrap(),
        median(&mut gas),
        gas.iter().max().unwrap(),
        median(&mut host_sizes),
        host_sizes.iter().max().unwrap(),
        median(&mut host_gas),
        host_gas.iter().max().unwrap(),
    );
}

fn evm_dispute(c: &mut Criterion) {
    let guest = StfGuest::new(program::EVM_STF_WASM).unwrap();
    let workload = workload();
    figures(&guest, &workload);
    let mut group = c.benchmark_group("evm dispute 1000 erc20 transfers");
    group.sample_size(10);
    group.bench_function("whole game on the interpreter", |b| {
        b.iter(|| game(&guest, &workload))
    });
    group.finish();
}

criterion_group!(benches, evm_dispute);
criterion_main!(benches);
