//! Soundness of the one-step checker: it never outputs a post hash other than the true one.
//!
//! For a sample of steps of every op class (a program touching each class and trap, plus every
//! host import of the STF guest): every single-byte mutation of the proof, every substituted stack
//! word, memory leaf or sibling hash is rejected or yields exactly the true post hash; the proof
//! checked against another pre-state is rejected. Random byte strings never panic the checker
//! (`PROOF_FUZZ_CASES`, default 20,000; 2,000 under CI). Every proof here, honest, mutated or
//! random, also goes to the Solidity checker, which must give the same answer (`common/evm.rs`).

mod common;
#[path = "common/evm.rs"]
mod evm;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::SplitMix;
use program::random_genesis;
use prover::StfGuest;
use verifier::stf_host::StfSemantics;
use vm::proof::{StepProof, TreeOpening};
use vm::{Host, Machine, MachineHash, Module, NoImports, Status, Value};

const PROGRAM: &str = include_str!("../verifier/tests/op_classes.wat");

/// A proven step: pre hash, proof, true post hash, and its op class.
struct Case {
    class: String,
    pre: MachineHash,
    proof: StepProof,
    post: MachineHash,
}

/// Runs the machine to its end, keeping up to `per_class` proven steps of each op class (host
/// calls by import: `CallHost` classes are split by function index).
fn collect<H: Host>(m: &mut Machine, host: &mut H, per_class: usize, cases: &mut Vec<Case>) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    loop {
        let class = evm::class_of(m.next_op());
        let count = seen.entry(class.clone()).or_default();
        let running = *m.status() == Status::Running;
        if *count < per_class {
            *count += 1;
            let pre = m.hash();
            let proof = m.prove_step(host, &StfSemantics).unwrap();
            m.step(host);
            cases.push(Case {
                class,
                pre,
                proof,
                post: m.hash(),
            });
        } else {
            m.step(host);
        }
        if !running {
            return;
        }
    }
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let module: Arc<Module> = Module::new(&wat::parse_str(PROGRAM).unwrap()).unwrap();
    for (name, args) in [
        ("main", vec![Value::I32(7)]),
        ("trap_div", vec![Value::I32(0)]),
        ("trap_oob", vec![]),
        ("trap_indirect", vec![]),
    ] {
        let mut m = Machine::new(module.clone(), &mut NoImports).unwrap();
        m.invoke(name, &args).unwrap();
        collect(&mut m, &mut NoImports, 2, &mut cases);
    }
    // The program lowers to every fused form, so each is proven and mutated here.
    for fused in [
        "BinImm",
        "BinLocal",
        "LocalBinImm",
        "LocalBinLocal",
        "BrIfBin",
        "BrIfEqz",
        "BinImmSet",
        "BinImmTee",
        "BinLocalSet",
        "BinLocalTee",
        "LocalBinLocalSet",
        "LocalBinLocalTee",
        "LocalBinImm32Set",
        "LocalBinImm32Tee",
    ] {
        assert!(
            cases.iter().any(|c| c.class == fused),
            "no {fused} step in the op-class program"
        );
    }
    let (root, store, _) = random_genesis(3, 20);
    let (batch, _) = program::random_batch(3, 10, 20, 1, 1, root);
    let guest = StfGuest::new(program::STF_WASM).unwrap();
    let (mut m, mut host) = guest.start(&batch, store).unwrap();
    collect(&mut m, &mut host, 1, &mut cases);
    cases
}

fn check(class: &str, pre: &MachineHash, bytes: &[u8]) -> Option<MachineHash> {
    evm::both(class, pre, bytes).ok()
}

/// The checker accepts `bytes` only with the true post hash.
fn sound(case: &Case, bytes: &[u8], what: &str) -> bool {
    match check(&case.class, &case.pre, bytes) {
        None => true,
        Some(post) => {
            assert_eq!(
                post, case.post,
                "{}: {what} was accepted with a false post hash",
                case.class
            );
            false
        }
    }
}

#[test]
fn mutated_proofs_are_rejected_or_harmless() {
    let cases = cases();
    let classes: std::collections::BTreeSet<&str> =
        cases.iter().map(|c| c.class.as_str()).collect();
    assert!(classes.len() >= 40, "op classes sampled: {classes:?}");
    assert!(
        classes
            .iter()
            .filter(|c| c.starts_with("CallHost#"))
            .count()
            >= 6
    );
    let (mut mutations, mut accepted) = (0u64, 0u64);
    for case in &cases {
        let bytes = case.proof.encode();
        assert_eq!(
            check(&case.class, &case.pre, &bytes),
            Some(case.post),
            "{}: honest proof",
            case.class
        );
        // Another pre-state.
        let mut other = case.pre;
        other.0[0] ^= 1;
        assert!(
            check(&case.class, &other, &bytes).is_none(),
            "{}: wrong pre-state accepted",
            case.class
        );
        // Every byte, three ways.
        for i in 0..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[i] ^= flip;
                mutations += 1;
                accepted += !sound(case, &bad, &format!("byte {i} ^ {flip:#x}")) as u64;
            }
        }
        // Truncations.
        for len in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            assert!(check(&case.class, &case.pre, &bytes[..len]).is_none());
        }
        // Substituted leaves and siblings in every opening.
        let substitute = |edit: &dyn Fn(&mut StepProof) -> bool, what: &str| {
            let mut proof = case.proof.clone();
            if edit(&mut proof) {
                sound(case, &proof.encode(), what);
            }
        };
        type Pick = fn(&mut StepProof) -> Option<&mut TreeOpening>;
        let openings: [(&str, Pick); 6] = [
            ("stack", |p| Some(&mut p.stack)),
            ("memory", |p| Some(&mut p.memory)),
            ("frames", |p| Some(&mut p.frames)),
            ("globals", |p| Some(&mut p.globals)),
            ("code", |p| Some(&mut p.code)),
            ("tables", |p| p.table_entries.first_mut().map(|(_, t)| t)),
        ];
        for (name, pick) in openings {
            let (leaves, siblings) = {
                let mut p = case.proof.clone();
                pick(&mut p).map_or((0, 0), |t| (t.leaves.len(), t.siblings.len()))
            };
            for k in 0..leaves {
                for word in 0..4 {
                    substitute(
                        &|p| {
                            let Some(t) = pick(p) else { return false };
                            t.leaves[k].1[word * 8] ^= 0x5a;
                            true
                        },
                        &format!("{name} leaf {k} word {word}"),
                    );
                }
                substitute(
                    &|p| {
                        let Some(t) = pick(p) else { return false };
                        t.leaves[k].0 ^= 1;
                        true
                    },
                    &format!("{name} leaf {k} index"),
                );
            }
            for k in 0..siblings {
                substitute(
                    &|p| {
                        let Some(t) = pick(p) else { return false };
                        t.siblings[k] = [0; 32];
                        true
                    },
                    &format!("{name} sibling {k}"),
                );
            }
        }
    }
    let tally = evm::take_tally();
    println!(
        "checkers agree on {} proofs ({} accepted, {} float steps refused by the EVM)",
        tally.compared, tally.accepted, tally.float_refused
    );
    println!(
        "soundness: {} proofs, {mutations} byte mutations ({accepted} accepted, each with the true post hash)",
        cases.len()
    );
}

#[test]
fn random_bytes_never_panic_the_checker() {
    let cases = common::scaled_count("PROOF_FUZZ_CASES", 2_000, 20_000);
    let honest = cases_for_fuzz();
    let mut rng = SplitMix(99);
    let pre = MachineHash([7; 32]);
    for i in 0..cases {
        let bytes: Vec<u8> = if i % 2 == 0 {
            let len = (rng.next() % 2048) as usize;
            (0..len).map(|_| rng.next() as u8).collect()
        } else {
            // Structured garbage: an honest proof with a random run overwritten.
            let mut b = honest[(rng.next() as usize) % honest.len()].clone();
            let at = (rng.next() as usize) % b.len();
            let run = 1 + (rng.next() as usize) % 16;
            for j in at..(at + run).min(b.len()) {
                b[j] = rng.next() as u8;
            }
            b
        };
        let _ = evm::both("random", &pre, &bytes);
    }
}

fn cases_for_fuzz() -> Vec<Vec<u8>> {
    let module: Arc<Module> = Module::new(&wat::parse_str(PROGRAM).unwrap()).unwrap();
    let mut m = Machine::new(module, &mut NoImports).unwrap();
    m.invoke("main", &[Value::I32(3)]).unwrap();
    let mut out = Vec::new();
    while *m.status() == Status::Running && out.len() < 300 {
        out.push(m.prove_step(&NoImports, &StfSemantics).unwrap().encode());
        m.step(&mut NoImports);
    }
    out
}
