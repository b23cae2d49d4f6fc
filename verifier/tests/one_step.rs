//! Every step of small programs covering each op class: the checker's post hash equals the
//! interpreter's hash after the step.

use std::sync::Arc;

use verifier::verify_step_with;
use vm::proof::NoHostSemantics;
use vm::{Machine, Module, NoImports, Status, Value};

/// One function per op class and trap kind (shared with the root soundness tests).
const PROGRAM: &str = include_str!("op_classes.wat");

/// Steps `name(args)` to the end, checking every step; returns the steps taken.
fn check_every_step(module: &Arc<Module>, name: &str, args: &[Value]) -> u64 {
    let mut m = Machine::new(module.clone(), &mut NoImports).unwrap();
    m.invoke(name, args).unwrap();
    let mut steps = 0;
    loop {
        let pre = m.hash();
        let proof = m.prove_step(&NoImports, &NoHostSemantics).unwrap();
        let bytes = proof.encode();
        let post = verify_step_with(&pre, &bytes, &NoHostSemantics)
            .unwrap_or_else(|e| panic!("step {steps} ({:?}): {e}", m.next_op()));
        let running = *m.status() == Status::Running;
        m.step(&mut NoImports);
        assert_eq!(post, m.hash(), "step {steps}: post hash");
        if !running {
            // A halted machine steps to itself.
            assert_eq!(post, pre);
            return steps;
        }
        steps += 1;
    }
}

#[test]
fn every_step_of_a_program_touching_every_op_class_verifies() {
    let module = Module::new(&wat::parse_str(PROGRAM).unwrap()).unwrap();
    assert!(check_every_step(&module, "main", &[Value::I32(7)]) > 200);
    for (name, args) in [
        ("trap_div", vec![Value::I32(0)]),
        ("trap_oob", vec![]),
        ("trap_indirect", vec![]),
        ("deep", vec![Value::I32(40)]),
    ] {
        check_every_step(&module, name, &args);
    }
}
