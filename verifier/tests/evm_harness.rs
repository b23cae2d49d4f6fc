//! The EVM harness with the real checker: deploy, call, decode the answer and the typed reverts,
//! split the gas. (Agreement with the Rust checker on every proof is tested in the root package's
//! `tests/proofs.rs`, `tests/proof_soundness.rs` and `tests/spec.rs`.)

use std::sync::Arc;

use verifier::evm::{EvmChecker, CALL_GAS_LIMIT};
use vm::{Machine, Module, NoImports, Status, Value};

const PROGRAM: &str = include_str!("op_classes.wat");

#[test]
fn evm_checker_answers_real_proofs_and_types_its_rejections() {
    let module: Arc<Module> = Module::new(&wat::parse_str(PROGRAM).unwrap()).unwrap();
    let mut m = Machine::new(module, &mut NoImports).unwrap();
    m.invoke("main", &[Value::I32(3)]).unwrap();
    let mut checker = EvmChecker::new().expect("deploy the contracts");
    let mut steps = 0;
    let mut first = None;
    while *m.status() == Status::Running && steps < 200 {
        let pre = m.hash();
        let op = format!("{:?}", m.next_op().unwrap());
        let proof = m
            .prove_step(&NoImports, &verifier::stf_host::StfSemantics)
            .unwrap();
        let bytes = proof.encode();
        m.step(&mut NoImports);
        let verdict = checker.verify_step(&pre, &bytes).expect("call verifyStep");
        steps += 1;
        if let Err(refused) = &verdict.post {
            // Float arithmetic (the program converts to f64) is refused, and nothing else.
            assert!(
                refused.error.starts_with("FloatUnsupported("),
                "{op}: {refused}"
            );
            assert!(
                op.starts_with('F') || op.contains("TruncSatF"),
                "{op}: {refused}"
            );
            continue;
        }
        assert_eq!(verdict.post, Ok(m.hash()), "step {steps} ({op})");
        let gas = verdict.gas;
        assert!(gas.total > 21_000 && gas.total < CALL_GAS_LIMIT, "{gas:?}");
        assert_eq!(gas.total, 21_000 + gas.calldata + gas.execution, "{gas:?}");
        // Calls commit nothing: the same call costs the same and answers the same.
        assert_eq!(checker.verify_step(&pre, &bytes).unwrap(), verdict);
        first.get_or_insert((pre, bytes));
    }
    assert_eq!(steps, 200);
    let (pre, bytes) = first.unwrap();

    let empty = checker.verify_step(&pre, &[]).unwrap().post.unwrap_err();
    assert_eq!(empty.error, "Malformed(0)");
    assert_eq!(empty.raw.len(), 4 + 32);

    let mut other = pre;
    other.0[5] ^= 1;
    let wrong = checker
        .verify_step(&other, &bytes)
        .unwrap()
        .post
        .unwrap_err();
    assert!(
        wrong.error.starts_with("PreStateMismatch(0x"),
        "{}",
        wrong.error
    );

    let mut trailing = bytes.clone();
    trailing.push(0);
    let error = checker
        .verify_step(&pre, &trailing)
        .unwrap()
        .post
        .unwrap_err();
    assert_eq!(error.error, format!("Malformed({})", bytes.len()));

    let mut version = bytes.clone();
    version[0] = 9;
    let error = checker
        .verify_step(&pre, &version)
        .unwrap()
        .post
        .unwrap_err();
    assert_eq!(error.error, "UnsupportedVersion(9)");

    let huge = vec![0u8; vm::proof::MAX_PROOF_BYTES + 1];
    let error = checker.verify_step(&pre, &huge).unwrap().post.unwrap_err();
    assert_eq!(error.error, format!("TooLarge({})", huge.len()));
}
