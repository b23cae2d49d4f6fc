//! Judging what an executor left, and running many cases in parallel.
//!
//! The verdict depends only on the case and the [`CaseResult`]: the runner recomputes the state
//! root of the executor's post-state and compares it and the logs hash with the fixture, so
//! every executor is judged by the same code. Cases no executor should run (a fork revm has no
//! rules for, a rule revm knowingly lacks: see [`super::skips`]) are skipped with the reason
//! before any executor sees them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::mpt::state_root;
use super::skips::skip_reason;
use super::{CaseExecutor, CaseResult, StateTestCase, Verdict};

/// Whether `result` is what the fixture expects of `case`.
///
/// Passed when no exception is expected and both the state root of the post-state and the logs
/// hash match, or when an exception is expected and the transaction was refused. (Which
/// exception is not compared: executors word their refusals differently, and the fixtures' names
/// for them are the filler's, not revm's.)
pub fn judge(case: &StateTestCase, result: &CaseResult) -> Verdict {
    match (result, &case.expect_exception) {
        (CaseResult::Refused(_), Some(_)) => Verdict::Passed,
        (CaseResult::Refused(reason), None) => {
            Verdict::Failed(format!("the transaction was refused: {reason}"))
        }
        (CaseResult::Executed { .. }, Some(expected)) => Verdict::Failed(format!(
            "expected exception {expected}, but the transaction executed"
        )),
        (CaseResult::Executed { post, logs_hash }, None) => {
            let root = state_root(post);
            if root != case.expected_state_root {
                Verdict::Failed(format!(
                    "state root {root}, expected {}",
                    case.expected_state_root
                ))
            } else if *logs_hash != case.expected_logs_hash {
                Verdict::Failed(format!(
                    "logs hash {logs_hash}, expected {}",
                    case.expected_logs_hash
                ))
            } else {
                Verdict::Passed
            }
        }
    }
}

/// The verdict on one case: skipped if [`skip_reason`] says so, else the executor's result judged.
/// An executor that cannot run the case (`Err`) or panics fails it: a case that was not run was
/// not passed, and a skip would hide an executor that cannot run anything.
pub fn run_case<E: CaseExecutor + ?Sized>(case: &StateTestCase, executor: &E) -> Verdict {
    if let Some(reason) = skip_reason(case).or_else(|| executor.skip_reason(case)) {
        return Verdict::Skipped(reason);
    }
    match catch_unwind(AssertUnwindSafe(|| executor.execute(case))) {
        Ok(Ok(result)) => judge(case, &result),
        Ok(Err(reason)) => {
            Verdict::Failed(format!("{} could not run it: {reason}", executor.name()))
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-text panic".into());
            Verdict::Failed(format!("{} panicked: {message}", executor.name()))
        }
    }
}

/// Every case's verdict, `(index into cases, verdict)` in the order of `cases`, computed in
/// parallel on rayon's pool. `progress(done, total)` is called after each case, from whichever
/// thread finished it.
pub fn run_cases<E: CaseExecutor + ?Sized>(
    cases: &[StateTestCase],
    executor: &E,
    progress: impl Fn(usize, usize) + Sync,
) -> Vec<(usize, Verdict)> {
    let done = AtomicUsize::new(0);
    let total = cases.len();
    cases
        .par_iter()
        .enumerate()
        .map(|(index, case)| {
            let verdict = run_case(case, executor);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            (index, verdict)
        })
        .collect()
}

/// Counts of verdicts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Tally {
    pub fn of<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>) -> Self {
        let mut tally = Tally::default();
        for verdict in verdicts {
            match verdict {
                Verdict::Passed => tally.passed += 1,
                Verdict::Failed(_) => tally.failed += 1,
                Verdict::Skipped(_) => tally.skipped += 1,
            }
        }
        tally
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}
