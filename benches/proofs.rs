//! One-step proofs on the STF guest (a 100-transaction batch): a table by op class of proof bytes
//! (median, max), `prove_step` and `verify_step` time (median) over a sample of steps spread across
//! the whole run plus every host call, then criterion timings of proving and checking a typical
//! step and the largest host-call step.

use std::collections::BTreeMap;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use program::{random_batch, random_genesis};
use prover::StfGuest;
use verifier::stf_host::StfSemantics;
use vm::code::Op;
use vm::{Machine, Status};

#[derive(Default)]
struct Row {
    bytes: Vec<usize>,
    prove_ns: Vec<u128>,
    verify_ns: Vec<u128>,
}

fn median<T: Copy + Ord>(v: &mut [T]) -> T {
    v.sort_unstable();
    v[v.len() / 2]
}

fn class(op: Op) -> String {
    if let Op::CallHost { func } = op {
        return format!("CallHost#{func}");
    }
    let text = format!("{op:?}");
    text.split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

fn start() -> (Machine, prover::StfHost) {
    let (root, store, _) = random_genesis(3, 100);
    let (batch, _) = random_batch(3, 100, 100, 1, 1, root);
    let guest = StfGuest::new(program::STF_WASM).unwrap();
    guest.start(&batch, store).unwrap()
}

fn table() -> (Machine, Machine) {
    let (mut m, mut host) = start();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut all = Row::default();
    let (mut typical, mut largest, mut largest_bytes) = (None, None, 0);
    let mut i = 0u64;
    while *m.status() == Status::Running {
        let op = m.next_op().unwrap();
        // Every 97th step (a prime stride spreads over all code) and every host call.
        if i.is_multiple_of(97) || matches!(op, Op::CallHost { .. }) {
            let pre = m.hash();
            let t = Instant::now();
            let proof = m.prove_step(&host, &StfSemantics).unwrap();
            let bytes = proof.encode();
            let prove_ns = t.elapsed().as_nanos();
            let t = Instant::now();
            let post = verifier::verify_step(&pre, &bytes).unwrap();
            let verify_ns = t.elapsed().as_nanos();
            if bytes.len() > largest_bytes {
                largest_bytes = bytes.len();
                largest = Some(m.clone());
            }
            if typical.is_none() && matches!(op, Op::I32Add) {
                typical = Some(m.clone());
            }
            m.step(&mut host);
            assert_eq!(post, m.hash());
            for row in [rows.entry(class(op)).or_default(), &mut all] {
                row.bytes.push(bytes.len());
                row.prove_ns.push(prove_ns);
                row.verify_ns.push(verify_ns);
            }
        } else {
            m.step(&mut host);
        }
        i += 1;
    }
    println!("one-step proofs over the STF guest, 100 transactions, {i} steps");
    println!(
        "{:<22} {:>7} {:>12} {:>10} {:>12} {:>12}",
        "op class", "proofs", "bytes median", "bytes max", "prove µs", "verify µs"
    );
    let print = |name: &str, row: &mut Row| {
        println!(
            "{:<22} {:>7} {:>12} {:>10} {:>12.1} {:>12.1}",
            name,
            row.bytes.len(),
            median(&mut row.bytes),
            row.bytes.iter().max().unwrap(),
            median(&mut row.prove_ns) as f64 / 1000.0,
            median(&mut row.verify_ns) as f64 / 1000.0
        );
    };
    for (name, row) in rows.iter_mut() {
        print(name, row);
    }
    print("ALL", &mut all);
    (typical.unwrap(), largest.unwrap())
}

fn proofs(c: &mut Criterion) {
    let (typical, largest) = table();
    let (_, host) = start();
    let mut group = c.benchmark_group("one-step proof");
    for (label, machine) in [("i32.add", typical), ("largest host call", largest)] {
        let mut m = machine;
        let pre = m.hash();
        let bytes = m.prove_step(&host, &StfSemantics).unwrap().encode();
        group.bench_function(format!("prove_step {label}"), |b| {
            b.iter(|| m.prove_step(&host, &StfSemantics).unwrap())
        });
        group.bench_function(
            format!("verify_step {label} ({} bytes)", bytes.len()),
            |b| b.iter(|| verifier::verify_step(&pre, &bytes).unwrap()),
        );
    }
    group.finish();
}

criterion_group!(benches, proofs);
criterion_main!(benches);
