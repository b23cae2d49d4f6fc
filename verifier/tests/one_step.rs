//! Every step of small programs covering each op class: the checker's post hash equals the
//! interpreter's hash after the step.

use std::sync::Arc;

use verifier::verify_step_with;
use vm::proof::NoHostSemantics;
use vm::{Machine, Module, NoImports, Status, Value};

const PROGRAM: &str = r#"(module
  (memory 1 3)
  (table $t 4 10 funcref)
  (global $g (mut i64) (i64.const 5))
  (data $d "hauptbuch data segment bytes, longer than one leaf of thirty-two")
  (elem $e func $sq $dbl)
  (type $un (func (param i32) (result i32)))
  (func $sq (type $un) (i32.mul (local.get 0) (local.get 0)))
  (func $dbl (type $un) (i32.add (local.get 0) (local.get 0)))
  (func $fib (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "main") (param i32) (result i32) (local i32 i64 f64)
    (table.init $t $e (i32.const 1) (i32.const 0) (i32.const 2))
    (elem.drop $e)
    (drop (table.grow $t (ref.null func) (i32.const 3)))
    (table.fill $t (i32.const 5) (ref.func $sq) (i32.const 2))
    (table.copy $t $t (i32.const 0) (i32.const 1) (i32.const 3))
    (memory.init $d (i32.const 30) (i32.const 3) (i32.const 50))
    (data.drop $d)
    (memory.fill (i32.const 200) (i32.const 7) (i32.const 70))
    (memory.copy (i32.const 210) (i32.const 195) (i32.const 40))
    (memory.copy (i32.const 100) (i32.const 205) (i32.const 40))
    (drop (memory.grow (i32.const 1)))
    (drop (memory.grow (i32.const 5)))
    (i64.store offset=65530 (i32.const 3) (i64.const 0x0102030405060708))
    (local.set 2 (i64.load32_s offset=65530 (i32.const 5)))
    (global.set $g (i64.add (global.get $g) (local.get 2)))
    (local.set 3 (f64.sqrt (f64.convert_i32_s (local.get 0))))
    (local.set 1 (i32.trunc_sat_f64_s (local.get 3)))
    (block $out
      (loop $l
        (br_if $out (i32.eqz (local.get 0)))
        (local.set 1 (i32.add (local.get 1)
          (call_indirect $t (type $un) (local.get 0) (i32.and (local.get 0) (i32.const 1)))))
        (br_table 0 0 1 (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))
    (i32.add (local.get 1)
      (i32.add (call $fib (i32.const 6)) (i32.load8_u (i32.const 35))))
    (i32.add (select (i32.const 9) (i32.const 4) (local.get 0)))
    (i32.add (i32.wrap_i64 (global.get $g)))
    (i32.add (table.size $t))
    (i32.add (memory.size)))
  (func (export "trap_div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
  (func (export "trap_oob") (result i32) (i32.load (i32.const 1000000)))
  (func (export "trap_indirect") (result i32) (call_indirect $t (type $un) (i32.const 1) (i32.const 9)))
  (func (export "deep") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (i32.add (i32.const 1) (call 7 (i32.sub (local.get 0) (i32.const 1)))))
      (else (i32.const 0)))))"#;

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
