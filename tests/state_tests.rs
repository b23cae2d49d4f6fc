//! Ethereum's General State Tests (`../shared/ethereum-tests/GeneralStateTests`) on the native
//! revm executor and through the EVM guest (all on wasmtime, a sample on the interpreter), the
//! runner's judgement, the state root against independent values, and the
//! `rollup state-test` command.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use alloy::primitives::{address, b256, bytes, Address, U256};
use prover::state_test::skips::EIP7610_REASON;
use prover::state_test::{
    judge, load_cases, run_cases, state_root, CaseExecutor, CaseResult, GuestExecutor, NativeRevm,
    PreAccount, SpecId, StateTestCase, Tally, Verdict,
};
use prover::Engine;

#[path = "common/rollup_cli.rs"]
mod rollup_cli;
use rollup_cli::rollup;

fn fixtures_dir() -> PathBuf {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/ethereum-tests/GeneralStateTests");
    assert!(
        dir.is_dir(),
        "Ethereum state tests not found at {}: they must be beside the repository \
         (../shared/ethereum-tests/GeneralStateTests)",
        dir.display()
    );
    dir
}

/// Every case of every fixture, loaded once for the tests of this binary.
fn all_cases() -> &'static [StateTestCase] {
    static CASES: OnceLock<Vec<StateTestCase>> = OnceLock::new();
    CASES.get_or_init(|| load_cases(&[fixtures_dir()]).expect("the fixtures load"))
}

fn cases_of(relative: &str) -> Vec<StateTestCase> {
    load_cases(&[fixtures_dir().join(relative)]).expect("the fixture loads")
}

/// An executor that times another, to name the slow cases.
struct Timed<'a> {
    inner: &'a dyn CaseExecutor,
    times: Mutex<Vec<(Duration, String)>>,
}

impl CaseExecutor for Timed<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn execute(&self, case: &StateTestCase) -> Result<CaseResult, String> {
        let started = Instant::now();
        let result = self.inner.execute(case);
        let elapsed = started.elapsed();
        self.times.lock().unwrap().push((elapsed, case.label()));
        result
    }

    fn skip_reason(&self, case: &StateTestCase) -> Option<String> {
        self.inner.skip_reason(case)
    }
}

#[test]
fn every_fixture_passes_or_is_skipped_with_a_reason_on_native_revm() {
    let passed = run_all(all_cases(), &NativeRevm);
    // Nearly all of the ~20,000 cases run: a loader that silently dropped fixtures would show here.
    assert!(passed > 20_000, "only {passed} passed");
}

/// The product: every case through the EVM guest on wasmtime, the post-state read back from the
/// nodes it emitted and hashed as Ethereum's Merkle-Patricia trie.
#[test]
fn every_fixture_passes_or_is_skipped_with_a_reason_on_the_guest_on_wasmtime() {
    let guest = GuestExecutor::new(Engine::Native).unwrap();
    let passed = run_all(all_cases(), &guest);
    assert!(passed > 20_000, "only {passed} passed");
}

/// The provable interpreter on a spread sample (every `STATE_TEST_INTERP_EVERY`-th case: 10 by
/// default, so ~2,000 cases; 1 runs them all).
#[test]
fn a_sample_passes_on_the_guest_on_the_interpreter() {
    let every: usize = std::env::var("STATE_TEST_INTERP_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
        .max(1);
    let sample: Vec<StateTestCase> = all_cases().iter().step_by(every).cloned().collect();
    let guest = GuestExecutor::new(Engine::Interp).unwrap();
    let passed = run_all(&sample, &guest);
    assert!(
        passed * 100 >= sample.len() * 99,
        "only {passed} of {} passed",
        sample.len()
    );
}

/// Runs `cases` on `executor`, prints the tally, the slowest cases and every skip reason, fails on
/// any failure; returns how many passed.
fn run_all(cases: &[StateTestCase], executor: &dyn CaseExecutor) -> usize {
    let started = Instant::now();
    let timed = Timed {
        inner: executor,
        times: Mutex::new(Vec::new()),
    };
    let verdicts = run_cases(cases, &timed, |_, _| {});
    let tally = Tally::of(verdicts.iter().map(|(_, v)| v));
    println!(
        "{}: {} cases: {tally} in {:.1} s",
        executor.name(),
        cases.len(),
        started.elapsed().as_secs_f64()
    );

    let mut times = timed.times.into_inner().unwrap();
    times.sort_by(|a, b| b.cmp(a));
    println!("slowest cases:");
    for (elapsed, label) in times.iter().take(10) {
        println!("  {:>8.1} ms  {label}", elapsed.as_secs_f64() * 1e3);
    }

    let mut skips: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (index, verdict) in &verdicts {
        match verdict {
            Verdict::Passed => {}
            Verdict::Skipped(reason) => {
                assert!(
                    !reason.trim().is_empty(),
                    "{}: skipped without a reason",
                    cases[*index].label()
                );
                *skips.entry(reason).or_default() += 1;
            }
            Verdict::Failed(reason) => {
                failures.push(format!("{}: {reason}", cases[*index].label()))
            }
        }
    }
    for (reason, count) in &skips {
        println!("skipped {count}: {reason}");
    }
    assert!(
        failures.is_empty(),
        "{} cases failed on {}:\n{}",
        failures.len(),
        executor.name(),
        failures.join("\n")
    );
    tally.passed
}

/// The list of revm's known deviations must stay true: each listed case really fails natively.
#[test]
fn every_case_skipped_as_a_revm_deviation_does_fail_on_revm() {
    let listed: Vec<&StateTestCase> = all_cases()
        .iter()
        .filter(|case| prover::state_test::skip_reason(case).as_deref() == Some(EIP7610_REASON))
        .collect();
    assert!(!listed.is_empty());
    for case in listed {
        let result = NativeRevm.execute(case).expect("revm runs the case");
        assert!(
            matches!(judge(case, &result), Verdict::Failed(_)),
            "{} passes on revm now: take it off the EIP-7610 list",
            case.label()
        );
    }
}

/// A refused transaction leaves the state as it was, so the fixture's expected root of every case
/// expecting an exception is the root of its pre-state, computed by the filler's own client: an
/// independent check of `state_root` over ~1,000 varied states (code, storage, empty accounts).
#[test]
fn the_expected_root_of_every_refused_case_is_the_state_root_of_its_pre_state() {
    let refused: Vec<&StateTestCase> = all_cases()
        .iter()
        .filter(|case| case.expect_exception.is_some())
        .collect();
    assert!(
        refused.len() > 1_000,
        "{} cases expect an exception",
        refused.len()
    );
    for case in refused {
        assert_eq!(
            state_root(&case.pre),
            case.expected_state_root,
            "{}",
            case.label()
        );
    }
}

#[test]
fn the_empty_state_has_the_empty_trie_root() {
    assert_eq!(
        state_root(&BTreeMap::new()),
        b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
    );
}

/// `stEIP1559/lowGasLimit.json`'s pre-state, written out: its refused cases (#0, #3) expect the
/// state unchanged, so their `hash` (0xb2b8…4a5e, computed by the client that filled the test) is
/// the root of exactly these two accounts, one with code and a storage slot.
#[test]
fn a_small_state_has_the_root_its_fixture_filler_computed() {
    let ether = U256::from(1_000_000_000_000_000_000u128);
    let state = BTreeMap::from([
        (
            address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b"),
            PreAccount {
                nonce: 1,
                balance: ether,
                ..PreAccount::default()
            },
        ),
        (
            address!("cccccccccccccccccccccccccccccccccccccccc"),
            PreAccount {
                nonce: 0,
                balance: ether,
                code: bytes!("600260005500"),
                storage: BTreeMap::from([(U256::ZERO, U256::from(0x60a7))]),
            },
        ),
    ]);
    assert_eq!(
        state_root(&state),
        b256!("b2b8d1860969ed21cd1eee5c69206176b951fbf820ee6b7f8ad84e8234094a5e")
    );
}

/// The first case of `stEIP1559/lowGasLimit.json` that executes, and what revm left.
fn executed_case() -> (StateTestCase, BTreeMap<Address, PreAccount>, CaseResult) {
    let case = cases_of("stEIP1559/lowGasLimit.json")
        .into_iter()
        .find(|c| c.expect_exception.is_none())
        .unwrap();
    let result = NativeRevm.execute(&case).unwrap();
    let CaseResult::Executed { post, .. } = &result else {
        panic!("{} was refused: {result:?}", case.label());
    };
    (case.clone(), post.clone(), result)
}

#[test]
fn judge_passes_the_right_post_state_and_fails_one_slot_off() {
    let (case, post, result) = executed_case();
    assert_eq!(judge(&case, &result), Verdict::Passed);

    let CaseResult::Executed { logs_hash, .. } = result else {
        unreachable!()
    };
    let mut changed = post.clone();
    let contract = address!("cccccccccccccccccccccccccccccccccccccccc");
    let slot = changed
        .get_mut(&contract)
        .unwrap()
        .storage
        .entry(U256::ZERO)
        .or_default();
    *slot += U256::from(1);
    let verdict = judge(
        &case,
        &CaseResult::Executed {
            post: changed,
            logs_hash,
        },
    );
    assert!(
        matches!(&verdict, Verdict::Failed(reason) if reason.contains("state root")),
        "{verdict:?}"
    );

    let mut wrong_logs = case.clone();
    wrong_logs.expected_logs_hash =
        b256!("00000000000000000000000000000000000000000000000000000000000000aa");
    assert!(matches!(
        judge(&wrong_logs, &CaseResult::Executed { post, logs_hash }),
        Verdict::Failed(reason) if reason.contains("logs hash")
    ));
}

#[test]
fn judge_fails_an_executed_transaction_that_should_have_been_refused_and_the_reverse() {
    let (case, _, result) = executed_case();
    let mut expecting = case.clone();
    expecting.expect_exception = Some("TransactionException.INTRINSIC_GAS_TOO_LOW".into());
    assert!(matches!(
        judge(&expecting, &result),
        Verdict::Failed(reason) if reason.contains("INTRINSIC_GAS_TOO_LOW")
    ));
    assert_eq!(
        judge(
            &expecting,
            &CaseResult::Refused("intrinsic gas too low".into())
        ),
        Verdict::Passed
    );
    assert!(matches!(
        judge(&case, &CaseResult::Refused("nonce too high".into())),
        Verdict::Failed(reason) if reason.contains("nonce too high")
    ));
}

#[test]
fn cases_load_in_a_deterministic_order_with_their_fork_rules() {
    let a = cases_of("stExample");
    let b = cases_of("stExample");
    assert_eq!(a, b);
    assert!(!a.is_empty());
    let keys: Vec<_> = a
        .iter()
        .map(|c| (c.file.clone(), c.name.clone(), c.fork.clone(), c.index))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let by_fork: HashMap<&str, SpecId> = a.iter().map(|c| (c.fork.as_str(), c.spec)).collect();
    assert_eq!(by_fork.get("Cancun"), Some(&SpecId::CANCUN));
}

#[test]
fn loading_a_missing_or_malformed_fixture_is_an_error_naming_it() {
    let missing = fixtures_dir().join("no-such-folder");
    let error = load_cases(&[missing]).unwrap_err().to_string();
    assert!(error.contains("no-such-folder"), "{error}");

    let dir = temp_dir("malformed");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"t": {"env": 1}}"#).unwrap();
    let error = load_cases(&[bad]).unwrap_err().to_string();
    assert!(
        error.contains("bad.json") && error.contains("malformed"),
        "{error}"
    );
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rollup-state-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_command_prints_the_summary_and_exits_zero_on_a_passing_folder() {
    let folder = fixtures_dir().join("stExample");
    let (code, out, err) = rollup(&["state-test", folder.to_str().unwrap(), "--engine", "revm"]);
    assert_eq!(code, 0, "{out}{err}");
    let expected = cases_of("stExample").len();
    assert_eq!(
        out.lines().last(),
        Some(format!("{expected} passed, 0 failed, 0 skipped").as_str()),
        "{out}"
    );
}

#[test]
fn the_command_exits_one_with_a_fail_line_on_a_tampered_expected_root() {
    let original = fixtures_dir().join("stExample/add11.json");
    let text = std::fs::read_to_string(&original).unwrap();
    let expected_root = "0xe8010ce590f401c9d61fef8ab05bea9bcec24281b795e5868809bc4e515aa530";
    assert!(text.contains(expected_root), "add11.json changed");
    let tampered = temp_dir("tampered").join("add11.json");
    std::fs::write(
        &tampered,
        text.replace(
            expected_root,
            "0x00000000000000000000000000000000000000000000000000000000000000aa",
        ),
    )
    .unwrap();
    let (code, out, err) = rollup(&["state-test", tampered.to_str().unwrap(), "--engine", "revm"]);
    assert_eq!(code, 1, "{out}{err}");
    let fail = out
        .lines()
        .find(|l| l.starts_with("FAIL "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        fail.contains("add11.json::add11 [Cancun #0]: state root"),
        "{fail}"
    );
    assert_eq!(
        out.lines().last(),
        Some("0 passed, 1 failed, 0 skipped"),
        "{out}"
    );
}

#[test]
fn the_command_exits_two_on_a_missing_path_and_runs_the_guest_by_default() {
    let (code, out, err) = rollup(&["state-test", "/no/such/fixtures", "--engine", "revm"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("/no/such/fixtures"), "{err}");

    // The default engine is the guest on wasmtime; the interpreter runs the same cases.
    let folder = fixtures_dir().join("stExample");
    for engine in [None, Some("interp")] {
        let mut args = vec!["state-test", folder.to_str().unwrap()];
        args.extend(engine.iter().flat_map(|e| ["--engine", *e]));
        let (code, out, err) = rollup(&args);
        assert_eq!(code, 0, "{engine:?}: {out}{err}");
        let summary = out.lines().last().unwrap_or_default();
        assert!(
            summary.ends_with("0 failed, 0 skipped"),
            "{engine:?}: {out}"
        );
        assert!(err.contains("guest on"), "{engine:?}: {err}");
    }
}
