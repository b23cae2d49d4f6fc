//! Gas of the Solidity one-step checker (`OneStepVerifier.verifyStep` in revm, Osaka rules): a table
//! by op class of the transaction's gas (median, max), its execution part and the calldata's share,
//! over the STF guest on a 100-transaction batch (every 97th step and every host call) and the
//! op-class program of the checker's tests (every step, which reaches the table, bulk and
//! trapping ops the STF rarely takes). Then criterion timings of one call in revm.
//!
//! Anchors: one Asterisc step costs 92k-383k gas; the seed's "fraud proof" row says 500k. Targets:
//! median <= 100k, max <= 350k, host calls included.

use std::collections::BTreeMap;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
#[path = "../tests/common/evm.rs"]
mod evm;
use evm::class_of as class;
use program::{random_batch, random_genesis};
use prover::StfGuest;
use verifier::evm::{EvmChecker, GasUse};
use verifier::stf_host::StfSemantics;
use vm::code::Op;
use vm::{Host, Machine, MachineHash, Module, NoImports, Status, Value};

const PROGRAM: &str = include_str!("../verifier/tests/op_classes.wat");

fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

#[derive(Default)]
struct Row {
    total: Vec<u64>,
    execution: Vec<u64>,
    calldata: Vec<u64>,
    bytes: Vec<u64>,
}

impl Row {
    fn add(&mut self, gas: GasUse, bytes: usize) {
        self.total.push(gas.total);
        self.execution.push(gas.execution);
        self.calldata.push(gas.calldata);
        self.bytes.push(bytes as u64);
    }
}

struct Sampler {
    evm: EvmChecker,
    rows: BTreeMap<String, Row>,
    all: Row,
    refused: BTreeMap<String, u64>,
    /// The proof of the most expensive step, for the timing below.
    costliest: Option<(u64, MachineHash, Vec<u8>)>,
}

impl Sampler {
    fn step<H: Host>(&mut self, m: &mut Machine, host: &mut H) {
        let op = m.next_op();
        let pre = m.hash();
        let bytes = m.prove_step(host, &StfSemantics).unwrap().encode();
        m.step(host);
        let verdict = self.evm.verify_step(&pre, &bytes).unwrap();
        match verdict.post {
            Ok(post) => {
                assert_eq!(post, m.hash(), "{op:?}");
                self.rows
                    .entry(class(op))
                    .or_default()
                    .add(verdict.gas, bytes.len());
                self.all.add(verdict.gas, bytes.len());
                if self
                    .costliest
                    .as_ref()
                    .is_none_or(|(g, _, _)| verdict.gas.total > *g)
                {
                    self.costliest = Some((verdict.gas.total, pre, bytes));
                }
            }
            Err(e) => {
                assert!(e.error.starts_with("FloatUnsupported("), "{op:?}: {e}");
                *self.refused.entry(class(op)).or_default() += 1;
            }
        }
    }
}

fn table() -> (MachineHash, Vec<u8>) {
    let mut s = Sampler {
        evm: EvmChecker::new().unwrap(),
        rows: BTreeMap::new(),
        all: Row::default(),
        refused: BTreeMap::new(),
        costliest: None,
    };
    let (root, store, _) = random_genesis(3, 100);
    let (batch, _) = random_batch(3, 100, 100, 1, 1, root);
    let guest = StfGuest::new(program::STF_WASM).unwrap();
    let (mut m, mut host) = guest.start(&batch, store).unwrap();
    let mut i = 0u64;
    while *m.status() == Status::Running {
        if i.is_multiple_of(97) || matches!(m.next_op(), Some(Op::CallHost { .. })) {
            s.step(&mut m, &mut host);
        } else {
            m.step(&mut host);
        }
        i += 1;
    }
    let stf_steps = i;
    let module: Arc<Module> = Module::new(&wat::parse_str(PROGRAM).unwrap()).unwrap();
    for (name, args) in [
        ("main", vec![Value::I32(7)]),
        ("trap_div", vec![Value::I32(0)]),
        ("trap_oob", vec![]),
        ("trap_indirect", vec![]),
    ] {
        let mut m = Machine::new(module.clone(), &mut NoImports).unwrap();
        m.invoke(name, &args).unwrap();
        while *m.status() == Status::Running {
            s.step(&mut m, &mut NoImports);
        }
    }
    println!(
        "verifyStep gas (transaction total = 21,000 + calldata + execution), STF guest ({stf_steps} steps, \
         every 97th and every host call) and the op-class program"
    );
    println!(
        "{:<20} {:>6} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "op class",
        "proofs",
        "gas median",
        "gas max",
        "exec med",
        "exec max",
        "calldata",
        "bytes max"
    );
    let print = |name: &str, row: &mut Row| {
        let share = row.calldata.iter().sum::<u64>() as f64 / row.total.iter().sum::<u64>() as f64;
        println!(
            "{:<20} {:>6} {:>10} {:>10} {:>10} {:>10} {:>8.0}% {:>9}",
            name,
            row.total.len(),
            median(&mut row.total),
            row.total.iter().max().unwrap(),
            median(&mut row.execution),
            row.execution.iter().max().unwrap(),
            share * 100.0,
            row.bytes.iter().max().unwrap(),
        );
    };
    for (name, row) in s.rows.iter_mut() {
        print(name, row);
    }
    print("ALL", &mut s.all);
    for (name, n) in &s.refused {
        println!("{name}: {n} steps refused (float arithmetic)");
    }
    let (gas, pre, bytes) = s.costliest.unwrap();
    println!("costliest step: {gas} gas, {} proof bytes", bytes.len());
    (pre, bytes)
}

fn evm_gas(c: &mut Criterion) {
    let (pre, bytes) = table();
    let mut evm = EvmChecker::new().unwrap();
    c.bench_function("verifyStep in revm, costliest step", |b| {
        b.iter(|| evm.verify_step(&pre, &bytes).unwrap())
    });
}

criterion_group!(benches, evm_gas);
criterion_main!(benches);
