//! The `rollup exec` command as users and outside checks drive it.

use std::path::PathBuf;

#[path = "common/rollup_cli.rs"]
mod rollup_cli;
use rollup_cli::rollup;

fn write_module(name: &str, wat: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rollup-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, wat).unwrap();
    path
}

const MODULE: &str = r#"(module
  (func (export "add") (param i32 i64) (result i64) (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1)))
  (func (export "half") (param f64) (result f64 f32) (f64.mul (local.get 0) (f64.const 0.5)) (f32.const 1.5))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "spin") (loop (br 0))))"#;

#[test]
fn exec_prints_typed_results_steps_and_hash_on_both_engines() {
    let path = write_module("m.wat", MODULE);
    let p = path.to_str().unwrap();
    let (code, out, err) = rollup(&[
        "exec", p, "--invoke", "add", "--arg", "i32:-7", "--arg", "i64:10",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "i64:3");
    assert!(lines[1].starts_with("steps: "), "{out}");
    assert!(
        lines[2].starts_with("machine_hash: 0x") && lines[2].len() == "machine_hash: 0x".len() + 64,
        "{out}"
    );

    let (code, out, _) = rollup(&[
        "exec", p, "--invoke", "half", "--arg", "f64:3", "--engine", "native",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().take(2).collect::<Vec<_>>(),
        ["f64:1.5", "f32:1.5"]
    );
}

#[test]
fn the_same_run_prints_the_same_hash() {
    let path = write_module("h.wat", MODULE);
    let p = path.to_str().unwrap();
    let a = rollup(&[
        "exec", p, "--invoke", "add", "--arg", "i32:1", "--arg", "i64:2",
    ])
    .1;
    let b = rollup(&[
        "exec", p, "--invoke", "add", "--arg", "i32:1", "--arg", "i64:2",
    ])
    .1;
    let c = rollup(&[
        "exec", p, "--invoke", "add", "--arg", "i32:1", "--arg", "i64:3",
    ])
    .1;
    assert_eq!(a, b);
    assert_ne!(a.lines().last(), c.lines().last());
}

#[test]
fn traps_and_step_limits_exit_non_zero_with_the_kind() {
    let path = write_module("t.wat", MODULE);
    let p = path.to_str().unwrap();
    for engine in ["interp", "native"] {
        let (code, out, _) = rollup(&[
            "exec", p, "--invoke", "div", "--arg", "i32:1", "--arg", "i32:0", "--engine", engine,
        ]);
        assert_eq!(code, 1, "{engine}");
        assert!(
            out.contains("trap: integer divide by zero"),
            "{engine}: {out}"
        );
        let (code, out, _) = rollup(&[
            "exec",
            p,
            "--invoke",
            "spin",
            "--max-steps",
            "1000",
            "--engine",
            engine,
        ]);
        assert_eq!(code, 1, "{engine}");
        assert!(out.contains("trap: step limit reached"), "{engine}: {out}");
    }
}

#[test]
fn bad_files_and_arguments_are_readable_errors() {
    let path = write_module("bad.wasm", "\0asm\x01\0\0\0\x01\x05");
    let (code, _, err) = rollup(&["exec", path.to_str().unwrap(), "--invoke", "f"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: invalid module"), "{err}");
    let (code, _, err) = rollup(&["exec", "/nonexistent/x.wasm", "--invoke", "f"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
    let good = write_module("g.wat", MODULE);
    let g = good.to_str().unwrap();
    let (code, _, err) = rollup(&["exec", g, "--invoke", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("no exported function named `nope`"), "{err}");
    let (code, _, err) = rollup(&["exec", g, "--invoke", "add", "--arg", "i32:1"]);
    assert_eq!(code, 2);
    assert!(err.contains("takes 2 argument"), "{err}");
    let (code, _, err) = rollup(&[
        "exec", g, "--invoke", "add", "--arg", "i32:x", "--arg", "i64:1",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("i32:x"), "{err}");
}

#[test]
fn run_batch_is_deterministic_per_seed_and_agrees_across_engines() {
    let run = |seed: &str, engine: &str| {
        let (code, out, err) = rollup(&[
            "run-batch",
            "--txs",
            "20",
            "--seed",
            seed,
            "--accounts",
            "10",
            "--engine",
            engine,
        ]);
        assert_eq!(code, 0, "{err}");
        let field = |name: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_else(|| panic!("no {name} in {out}"))
                .to_string()
        };
        (field("state_root: "), field("withdrawals_root: "), out)
    };
    let (a_root, a_withdrawals, a_out) = run("5", "interp");
    let (b_root, b_withdrawals, _) = run("5", "interp");
    let (n_root, n_withdrawals, _) = run("5", "native");
    let (c_root, _, _) = run("6", "interp");
    assert!(a_root.starts_with("0x") && a_root.len() == 66, "{a_root}");
    assert_eq!((&a_root, &a_withdrawals), (&b_root, &b_withdrawals));
    assert_eq!((&a_root, &a_withdrawals), (&n_root, &n_withdrawals));
    assert_ne!(a_root, c_root);
    assert!(
        a_out.contains("steps: ") && a_out.contains("tx_per_s: "),
        "{a_out}"
    );
}

#[test]
fn run_batch_refuses_batches_over_the_limit() {
    let (code, _, err) = rollup(&["run-batch", "--txs", "1001"]);
    assert_eq!(code, 2);
    assert!(err.contains("over the batch limit"), "{err}");
    let (code, out, _) = rollup(&["run-batch", "--txs", "0", "--engine", "native"]);
    assert_eq!(code, 0);
    assert!(out.contains("tx_count: 0"), "{out}");
}

#[test]
fn prove_then_verify_step_round_trips_and_rejects_a_wrong_pre_state() {
    let dir = std::env::temp_dir().join(format!("hauptbuch-prove-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wat = dir.join("sum.wat");
    std::fs::write(
        &wat,
        r#"(module (func (export "sum") (param i32) (result i32) (local i32)
          (block $b (loop $l (br_if $b (i32.eqz (local.get 0)))
            (local.set 1 (i32.add (local.get 1) (local.get 0)))
            (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br $l))) (local.get 1)))"#,
    )
    .unwrap();
    let proof = dir.join("p.bin");
    let (code, out, _) = rollup(&[
        "prove",
        wat.to_str().unwrap(),
        "--invoke",
        "sum",
        "--arg",
        "i32:5",
        "--step",
        "9",
        "-o",
        proof.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    let pre = lines[0].strip_prefix("pre: ").unwrap();
    let post = lines[1].strip_prefix("post: ").unwrap();
    assert_ne!(pre, post);
    let (code, out, _) = rollup(&["verify-step", "--pre", pre, proof.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("post: {post}"));
    let wrong = format!("0x{}", "11".repeat(32));
    let (code, out, _) = rollup(&["verify-step", "--pre", &wrong, proof.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.starts_with("rejected:"), "{out}");
    let (code, _, err) = rollup(&["verify-step", "--pre", "0x12", proof.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    // A step of an STF batch (a host-call-free step early in the run).
    let (code, out, _) = rollup(&[
        "prove",
        "--batch",
        "--txs",
        "5",
        "--step",
        "2000",
        "-o",
        proof.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let pre = out
        .lines()
        .next()
        .unwrap()
        .strip_prefix("pre: ")
        .unwrap()
        .to_string();
    let (code, _, _) = rollup(&["verify-step", "--pre", &pre, proof.to_str().unwrap()]);
    assert_eq!(code, 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn verify_step_evm_prints_post_and_gas_and_rejects_an_empty_proof() {
    let dir = std::env::temp_dir().join(format!("hauptbuch-evm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wat = dir.join("add.wat");
    std::fs::write(&wat, MODULE).unwrap();
    let proof = dir.join("p.bin");
    let (code, out, err) = rollup(&[
        "prove",
        wat.to_str().unwrap(),
        "--invoke",
        "add",
        "--arg",
        "i32:1",
        "--arg",
        "i64:2",
        "--step",
        "1",
        "-o",
        proof.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let pre = out.lines().next().unwrap().strip_prefix("pre: ").unwrap();
    let true_post = out.lines().nth(1).unwrap().strip_prefix("post: ").unwrap();
    let proof = proof.to_str().unwrap();

    let (code, out, err) = rollup(&["verify-step", "--evm", "--pre", pre, proof]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0], format!("post: {true_post}"), "{out}");
    let gas: u64 = lines[1].strip_prefix("gas: ").unwrap().parse().unwrap();
    assert!(gas > 21_000, "{out}");

    let empty = dir.join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    let (code, out, err) = rollup(&[
        "verify-step",
        "--evm",
        "--pre",
        pre,
        empty.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with("rejected: Malformed("), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}
