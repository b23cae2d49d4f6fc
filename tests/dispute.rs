//! Disputes end to end: the honest agent (prover) against every dishonest strategy, refereed by
//! the bisection game (verifier) with the real one-step checker, on small modules and on an STF
//! batch. Randomized games: `DISPUTE_GAMES` sets their count (default 500, 200 when `CI` is set).

mod common;
#[path = "common/rollup_cli.rs"]
mod rollup_cli;

use std::sync::Arc;

use common::SplitMix;
use program::{random_batch, random_genesis};
use prover::dispute::{
    checkpoint_count, differing_outputs, replay_outputs, run_dispute, Agent, Checkpoints,
    Computation, DisputeReport, HonestAgent, Liar, Lie,
};
use prover::StfGuest;
use rollup_cli::rollup;
use verifier::bisection::{rounds_for, BisectionConfig, Party, Verdict};
use vm::{Host, Module, Value};

/// Clock budget in ticks (milliseconds of prover time): ample for any honest party here.
const BUDGET: u64 = 600_000;
const LIMIT: u64 = 1_000_000_000;

/// A loop of `n` iterations that stores into memory, calls a helper and grows memory once; with
/// `trap` it ends in `unreachable` instead of returning.
fn loop_module(trap: bool) -> Arc<Module> {
    let end = if trap {
        "unreachable"
    } else {
        "local.get $acc"
    };
    let wat = format!(
        r#"(module
          (memory 1 4)
          (global $g (mut i64) (i64.const 7))
          (func $mix (param $x i64) (result i64)
            local.get $x
            i64.const 0x9e3779b97f4a7c15
            i64.mul
            global.get $g
            i64.xor
            local.tee $x
            global.set $g
            local.get $x)
          (func (export "run") (param $n i32) (result i64)
            (local $i i32) (local $acc i64)
            (drop (memory.grow (i32.const 1)))
            (block $done
              (loop $next
                (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                (i64.store
                  (i32.and (i32.mul (local.get $i) (i32.const 8)) (i32.const 0x1fff8))
                  (local.get $acc))
                (local.set $acc
                  (i64.add (local.get $acc)
                    (call $mix (i64.extend_i32_u (local.get $i)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))
            {end}))"#
    );
    Module::new(&wat::parse_str(wat).expect("valid wat")).expect("loads")
}

fn config(arity: u32) -> BisectionConfig {
    BisectionConfig {
        arity,
        ..BisectionConfig::new(1_000, BUDGET)
    }
}

/// The checkpoints of a whole run of `computation`.
fn trace<H: Host + Clone + Send + Sync>(computation: Computation<H>, arity: u32) -> Checkpoints<H> {
    let steps = computation.run_length(LIMIT).expect("halts");
    Checkpoints::build(computation, steps, checkpoint_count(steps, arity))
}

/// Plays the honest party against `lie` with the liar in `liar_role`.
fn play<H: Host + Clone + Send + Sync>(
    trace: &Checkpoints<H>,
    checker: &prover::dispute::SemanticsChecker,
    lie: Lie,
    liar_role: Party,
    arity: u32,
    seed: u64,
) -> DisputeReport {
    let mut honest = HonestAgent::new(trace.clone());
    let mut liar = Liar::new(trace.clone(), lie, seed);
    let (claim, asserter, challenger): (_, &mut dyn Agent, &mut dyn Agent) = match liar_role {
        Party::Asserter => (liar.claim(), &mut liar, &mut honest),
        Party::Challenger => (honest.claim(), &mut honest, &mut liar),
    };
    run_dispute(claim, asserter, challenger, config(arity), checker).expect("dispute plays")
}

fn assert_honest_wins(report: &DisputeReport, liar_role: Party, what: &str) {
    assert_eq!(
        report.winner(),
        liar_role.opponent(),
        "{what}: the liar ({liar_role}) won: {report:#?}"
    );
    assert!(
        report
            .refused
            .iter()
            .all(|r| r.party != liar_role.opponent()),
        "{what}: the honest party's move was refused: {:?}",
        report.refused
    );
}

fn every_lie(steps: u64, rng: &mut SplitMix) -> Vec<Lie> {
    let from = 1 + rng.next() % steps.max(1);
    vec![
        Lie::WrongFrom(from),
        Lie::WrongFrom(steps),
        Lie::WrongFrom(1),
        Lie::WrongInterior { round: 0 },
        Lie::WrongInterior { round: 1 },
        Lie::WrongInterior {
            round: (rng.next() % 4) as u32,
        },
        Lie::FlipAt { round: 1 },
        Lie::FlipAt { round: 2 },
        Lie::StallFrom { round: 0 },
        Lie::StallFrom { round: 1 },
        Lie::Malformed { from },
        Lie::PickLongest,
    ]
}

#[test]
fn honest_agent_beats_every_lie_on_a_loop_module() {
    let mut rng = SplitMix(1);
    for trap in [false, true] {
        let computation =
            Computation::call_module(loop_module(trap), "run", &[Value::I32(3_000)], LIMIT)
                .expect("instantiates");
        let checker = computation.checker();
        for arity in [2, 5, 32] {
            let trace = trace(computation.clone(), arity);
            let steps = trace.steps();
            assert!(steps > 30_000, "{steps} steps");
            for lie in every_lie(steps, &mut rng) {
                for role in [Party::Asserter, Party::Challenger] {
                    let report = play(&trace, &checker, lie, role, arity, rng.next());
                    let what = format!("trap {trap}, k {arity}, {lie} as {role}");
                    assert_honest_wins(&report, role, &what);
                    if let (Lie::WrongFrom(from), Party::Asserter) = (lie, role) {
                        // The honest challenger corners the first wrong hash.
                        assert_eq!(report.outcome.reason, Verdict::OneStepProof, "{what}");
                        assert_eq!(report.final_segment.start, from - 1, "{what}");
                        assert_eq!(report.final_segment.end, from, "{what}");
                    }
                }
            }
        }
    }
}

#[test]
fn a_stalling_liar_loses_on_time_and_a_malformed_one_is_refused() {
    let computation =
        Computation::call_module(loop_module(false), "run", &[Value::I32(500)], LIMIT).unwrap();
    let checker = computation.checker();
    let trace = trace(computation, 8);
    for role in [Party::Asserter, Party::Challenger] {
        let report = play(&trace, &checker, Lie::StallFrom { round: 0 }, role, 8, 3);
        assert_eq!(report.outcome.reason, Verdict::Timeout);
        assert_honest_wins(&report, role, "stall");
        let report = play(&trace, &checker, Lie::Malformed { from: 100 }, role, 8, 3);
        assert_honest_wins(&report, role, "malformed");
        assert!(
            report.refused.iter().any(|r| r.party == role),
            "no malformed move was refused"
        );
    }
}

#[test]
fn rounds_are_rounds_for_when_the_challenger_picks_a_longest_part() {
    let module = Module::new(program::WORKLOADS_WASM).unwrap();
    for (name, args, arity) in [
        ("fib", vec![12], 2),
        ("fib", vec![15], 3),
        ("memloop", vec![2_000], 7),
        ("sort", vec![300, 5], 32),
        ("keccak", vec![500], 40),
    ] {
        let args: Vec<Value> = args.into_iter().map(Value::I32).collect();
        let computation = Computation::call_module(module.clone(), name, &args, LIMIT).unwrap();
        let checker = computation.checker();
        let trace = trace(computation, arity);
        let report = play(
            &trace,
            &checker,
            Lie::PickLongest,
            Party::Challenger,
            arity,
            1,
        );
        assert_honest_wins(&report, Party::Challenger, name);
        assert_eq!(
            report.rounds.len() as u32,
            rounds_for(trace.steps(), arity),
            "{name}{args:?} with k = {arity}: {} steps",
            trace.steps()
        );
        assert_eq!(report.outcome.reason, Verdict::OneStepProof);
    }
}

#[test]
fn a_dishonest_party_never_wins_randomized_games() {
    let games = common::scaled_count("DISPUTE_GAMES", 200, 500);
    let workloads = Module::new(program::WORKLOADS_WASM).unwrap();
    let loops = [loop_module(false), loop_module(true)];
    let mut rng = SplitMix(0xd15_b07e);
    let mut wins_by_reason = std::collections::BTreeMap::new();
    for game in 0..games {
        let computation = match rng.next() % 4 {
            0 => Computation::call_module(
                workloads.clone(),
                "fib",
                &[Value::I32(3 + (rng.next() % 10) as i32)],
                LIMIT,
            ),
            1 => Computation::call_module(
                workloads.clone(),
                "memloop",
                &[Value::I32((rng.next() % 500) as i32)],
                LIMIT,
            ),
            _ => Computation::call_module(
                loops[(rng.next() % 2) as usize].clone(),
                "run",
                &[Value::I32((rng.next() % 300) as i32)],
                LIMIT,
            ),
        }
        .unwrap();
        let checker = computation.checker();
        let arity = 2 + (rng.next() % 39) as u32;
        let trace = trace(computation, arity);
        let lies = every_lie(trace.steps(), &mut rng);
        let lie = lies[(rng.next() % lies.len() as u64) as usize];
        let role = if rng.next() & 1 == 0 {
            Party::Asserter
        } else {
            Party::Challenger
        };
        let report = play(&trace, &checker, lie, role, arity, rng.next());
        assert_honest_wins(
            &report,
            role,
            &format!(
                "game {game}: k {arity}, {} steps, {lie} as {role}",
                trace.steps()
            ),
        );
        *wins_by_reason
            .entry(format!("{:?}", report.outcome.reason))
            .or_insert(0) += 1;
    }
    eprintln!("{games} games, honest wins by {wins_by_reason:?}");
}

#[test]
fn stf_batch_of_100_transactions_is_disputed_and_the_honest_party_wins() {
    let (root, store, _) = random_genesis(5, 50);
    let (batch, _) = random_batch(5, 100, 50, 1, 1, root);
    let guest = StfGuest::new(program::STF_WASM).unwrap();
    let interp = guest
        .run(prover::Engine::Interp, &batch, store.clone())
        .unwrap();
    let replayed = replay_outputs(&guest, &batch, store.clone()).unwrap();
    assert!(differing_outputs(&interp.outputs, &replayed.outputs).is_empty());

    let computation = Computation::stf(&guest, &batch, store).unwrap();
    let checker = verifier::StfChecker;
    let steps = computation
        .run_length(prover::runner::BATCH_STEP_LIMIT)
        .unwrap();
    assert_eq!(steps, interp.steps, "the claim covers the whole batch");
    let trace = Checkpoints::build(computation, steps, checkpoint_count(steps, 32));
    assert_eq!(Some(trace.final_hash()), interp.final_hash);

    // A lie right after a host call: the proof must carry the host's witness.
    let mut honest = HonestAgent::new(trace.clone());
    let host_step = (0..10_000)
        .find(|&s| matches!(trace.op_at(s), Some(vm::code::Op::CallHost { .. })))
        .expect("a host call early in the batch");
    for (lie, role) in [
        (Lie::WrongFrom(host_step + 1), Party::Asserter),
        (Lie::WrongFrom(steps / 2 + 17), Party::Asserter),
        (Lie::Malformed { from: steps / 3 }, Party::Challenger),
    ] {
        let mut liar = Liar::new(trace.clone(), lie, 9);
        let (claim, asserter, challenger): (_, &mut dyn Agent, &mut dyn Agent) = match role {
            Party::Asserter => (liar.claim(), &mut liar, &mut honest),
            Party::Challenger => (honest.claim(), &mut honest, &mut liar),
        };
        let report = run_dispute(claim, asserter, challenger, config(32), &checker).unwrap();
        assert_honest_wins(&report, role, &format!("STF, {lie} as {role}"));
        assert!(report.rounds.len() as u32 <= rounds_for(steps, 32));
        let one_step = report
            .one_step
            .as_ref()
            .expect("decided by a one-step proof");
        assert!(one_step.op.is_some());
        if let Lie::WrongFrom(from) = lie {
            assert_eq!(one_step.step, from - 1);
        }
        if lie == Lie::WrongFrom(host_step + 1) {
            assert!(matches!(one_step.op, Some(vm::code::Op::CallHost { .. })));
        }
    }
}

#[test]
fn cli_dispute_prints_rounds_verdict_and_the_honest_winner() {
    for liar in ["asserter", "challenger"] {
        let (code, out, err) = rollup(&[
            "dispute", "--txs", "20", "--seed", "4", "--liar", liar, "--k", "8",
        ]);
        assert_eq!(code, 0, "{out}\n{err}");
        assert!(out.contains("round 1: segment [0, "), "{out}");
        assert!(out.contains("disputed step: "), "{out}");
        assert!(out.contains("verdict: OneStepProof"), "{out}");
        assert!(out.contains("bond: the "), "{out}");
        assert_eq!(out.lines().last(), Some("winner: honest"), "{out}");
    }
    let (code, out, err) = rollup(&["dispute", "--txs", "5", "--lie-at-step", "1000"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("disputed step: 999 -> 1000"), "{out}");
    // The default STF is the EVM (a block of ERC-20 transfers); the ledger is still there.
    assert!(err.contains("Erc20Transfers"), "{err}");
    let (code, out, err) = rollup(&["dispute", "--txs", "5", "--stf", "ledger", "--seed", "2"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().last(), Some("winner: honest"), "{out}");
    assert!(err.contains("building genesis"), "{err}");
}

#[test]
fn cli_dispute_refuses_bad_input_with_exit_2() {
    for args in [
        &["dispute", "--txs", "0"][..],
        &["dispute", "--txs", "1001"],
        &["dispute", "--txs", "3", "--k", "1"],
        &["dispute", "--txs", "3", "--k", "5000"],
        &["dispute", "--txs", "3", "--accounts", "1"],
        &["dispute", "--txs", "3", "--lie-at-step", "0"],
        &["dispute", "--txs", "3", "--lie-at-step", "999999999999"],
        &["dispute", "--txs", "3", "--liar", "nobody"],
    ] {
        let (code, _, err) = rollup(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("error"), "{args:?}: {err}");
    }
}

/// `rollup dispute FILE --invoke NAME`: any module's call, whether it returns, traps or never
/// halts (then the claim covers its first --max-steps steps).
#[test]
fn cli_dispute_takes_any_module() {
    let dir = std::env::temp_dir().join(format!("dispute-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wat = dir.join("calls.wat");
    std::fs::write(
        &wat,
        r#"(module
          (func $fib (export "fib") (param i32) (result i64)
            (if (result i64) (i32.lt_s (local.get 0) (i32.const 2))
              (then (i64.extend_i32_s (local.get 0)))
              (else (i64.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                             (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
          (func (export "spin") (loop (br 0)))
          (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0))))"#,
    )
    .unwrap();
    let file = wat.to_str().unwrap();
    let cases: [&[&str]; 4] = [
        &["--invoke", "fib", "--arg", "i32:18", "--liar", "asserter"],
        &[
            "--invoke",
            "fib",
            "--arg",
            "i32:18",
            "--liar",
            "challenger",
            "--k",
            "2",
        ],
        &["--invoke", "div", "--arg", "i32:0", "--lie-at-step", "3"],
        &["--invoke", "spin", "--max-steps", "100000", "--k", "7"],
    ];
    for case in cases {
        let mut args = vec!["dispute", file];
        args.extend_from_slice(case);
        let (code, out, err) = rollup(&args);
        assert_eq!(code, 0, "{args:?}\n{out}\n{err}");
        assert!(out.contains("verdict: OneStepProof"), "{out}");
        assert_eq!(out.lines().last(), Some("winner: honest"), "{out}");
    }
    let (_, out, _) = rollup(&["dispute", file, "--invoke", "fib", "--arg", "i32:18"]);
    assert!(out.contains("fib returns [i64:2584]"), "{out}");
    let (_, out, _) = rollup(&["dispute", file, "--invoke", "spin", "--max-steps", "5000"]);
    assert!(out.contains("claim: 5000 steps"), "{out}");
    for bad in [
        &["dispute", file][..],
        &["dispute", file, "--invoke", "nope"],
        &["dispute", file, "--invoke", "fib"],
        &[
            "dispute",
            file,
            "--invoke",
            "fib",
            "--arg",
            "i32:3",
            "--lie-at-step",
            "100000",
        ],
        &[
            "dispute",
            file,
            "--invoke",
            "fib",
            "--arg",
            "i32:3",
            "--max-steps",
            "0",
        ],
        &["dispute", "/nonexistent.wasm", "--invoke", "fib"],
    ] {
        let (code, _, err) = rollup(bad);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(err.contains("error"), "{bad:?}: {err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_claim_past_the_halt_is_decided_on_the_halted_machine() {
    for trap in [false, true] {
        let computation =
            Computation::call_module(loop_module(trap), "run", &[Value::I32(200)], LIMIT).unwrap();
        let checker = computation.checker();
        let halt = computation.run_length(LIMIT).unwrap();
        let steps = halt + 77;
        let trace = Checkpoints::build(computation, steps, checkpoint_count(steps, 4));
        assert_eq!(trace.halted_at(), Some(halt));
        assert_eq!(trace.hash_at(halt), trace.final_hash());
        assert_ne!(trace.hash_at(halt - 1), trace.final_hash());
        for from in [halt, halt + 10, steps] {
            for role in [Party::Asserter, Party::Challenger] {
                let report = play(&trace, &checker, Lie::WrongFrom(from), role, 4, from);
                assert_honest_wins(&report, role, &format!("trap {trap}, lie from {from}"));
                let one_step = report.one_step.expect("a one-step proof");
                assert_eq!(one_step.step, from - 1);
                // Past the halt there is no instruction: the proof shows the machine staying put.
                assert_eq!(one_step.op.is_none(), from > halt, "lie from {from}");
            }
        }
    }
}

#[test]
fn demo_tells_the_dispute_story() {
    let (code, out, err) = rollup(&["demo"]);
    assert_eq!(code, 0, "{err}");
    for needle in [
        "honest assertion",
        "a fraudster posts a rival",
        "down to one step proven on L1's checker",
        "is Rejected",
        "the throw:",
        "the watcher, a third party, defends it",
        "is Confirmed",
        "agreed with the Rust referee on every move",
        // The EVM section: a Solidity contract deployed and called, the engines agreeing, a
        // dispute inside revm.
        "deploy DemoToken (solc 0.8.37)     Success",
        "eth_call balanceOf(Bob) -> 250",
        "guest on interpreter: same outputs",
        "the honest challenger wins",
    ] {
        assert!(out.contains(needle), "no {needle:?} in:\n{out}");
    }
}
