//! The two one-step checkers side by side: the Rust checker (`verifier::verify_step`) and the
//! Solidity checker in revm (`verifier::evm::EvmChecker`). Every proof a test checks through
//! [`both`] must get the same answer from each, the same post hash or a rejection from both; the
//! one allowed difference is float arithmetic, which the EVM refuses with `FloatUnsupported`.

#![allow(dead_code)] // each test binary uses part of it

use std::cell::RefCell;
use std::collections::BTreeMap;

use verifier::evm::EvmChecker;
use vm::code::{Op, OP_BYTES};
use vm::MachineHash;

/// What the comparisons saw, per op class: how many proofs, and the gas of accepted ones.
#[derive(Default)]
pub struct Tally {
    pub compared: u64,
    pub accepted: u64,
    pub float_refused: u64,
    /// Per class: (total gas, calldata gas) of each accepted proof's transaction.
    pub gas: BTreeMap<String, Vec<(u64, u64)>>,
}

thread_local! {
    static EVM: RefCell<Option<EvmChecker>> = const { RefCell::new(None) };
    pub static TALLY: RefCell<Tally> = RefCell::new(Tally::default());
}

/// Whether opcode `code` is float arithmetic (what the EVM checker may refuse): the f32/f64 ops
/// but the sign-bit ones (`abs`, `neg`, `copysign`), and the conversions to or from floats.
pub fn is_float_arithmetic(code: u8) -> bool {
    let mut bytes = [0u8; OP_BYTES];
    bytes[0] = code;
    let Ok(op) = Op::decode(&bytes) else {
        return false;
    };
    let name = format!("{op:?}");
    let bit_op = ["Abs", "Neg", "Copysign"].iter().any(|s| name.ends_with(s));
    let float = name.starts_with('F') || name.contains("TruncF") || name.contains("TruncSatF");
    float && !bit_op
}

/// Every how many proofs a long test also asks the EVM (`EVM_CHECK_EVERY`, 1 = every proof; the
/// default is `default`, and `default_ci` under CI).
pub fn every(default: u64, default_ci: u64) -> u64 {
    std::env::var("EVM_CHECK_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if std::env::var_os("CI").is_some() {
            default_ci
        } else {
            default
        })
        .max(1)
}

/// [`both`] when `with_evm`, else the Rust checker alone.
pub fn check(
    class: &str,
    pre: &MachineHash,
    bytes: &[u8],
    with_evm: bool,
) -> Result<MachineHash, verifier::ProofError> {
    if with_evm {
        both(class, pre, bytes)
    } else {
        verifier::verify_step(pre, bytes)
    }
}

/// Checks `bytes` against `pre` with both checkers and panics if they disagree; returns the Rust
/// checker's verdict. `class` labels the proof in the tally and in failure messages.
pub fn both(
    class: &str,
    pre: &MachineHash,
    bytes: &[u8],
) -> Result<MachineHash, verifier::ProofError> {
    let rust = verifier::verify_step(pre, bytes);
    let verdict = EVM.with(|cell| {
        let mut cell = cell.borrow_mut();
        let evm = cell.get_or_insert_with(|| EvmChecker::new().expect("deploy the EVM checker"));
        evm.verify_step(pre, bytes).expect("EVM harness")
    });
    TALLY.with(|t| {
        let mut t = t.borrow_mut();
        t.compared += 1;
        match (&rust, &verdict.post) {
            (Ok(a), Ok(b)) => {
                assert_eq!(
                    a,
                    b,
                    "{class}: the checkers accept with different post hashes; pre {pre}, proof {}",
                    hex(bytes)
                );
                t.accepted += 1;
                t.gas
                    .entry(class.to_string())
                    .or_default()
                    .push((verdict.gas.total, verdict.gas.calldata));
            }
            (Err(_), Err(_)) => {}
            (Ok(_), Err(e)) if float_refusal(&e.error) => t.float_refused += 1,
            (r, e) => panic!(
                "{class}: the checkers disagree: Rust {r:?}, EVM {e:?}; pre {pre}, proof {}",
                hex(bytes)
            ),
        }
    });
    rust
}

/// `FloatUnsupported(opcode)` for a float-arithmetic opcode.
fn float_refusal(error: &str) -> bool {
    error
        .strip_prefix("FloatUnsupported(")
        .and_then(|rest| rest.strip_suffix(')'))
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(is_float_arithmetic)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The tally of this thread so far, and a fresh one from here on.
pub fn take_tally() -> Tally {
    TALLY.with(|t| std::mem::take(&mut *t.borrow_mut()))
}

/// The class of a step for the tally: the op's variant name (`CallHost#f` per import).
pub fn class_of(op: Option<Op>) -> String {
    match op {
        Some(Op::CallHost { func }) => format!("CallHost#{func}"),
        Some(op) => format!("{op:?}")
            .split(['(', ' ', '{'])
            .next()
            .unwrap_or_default()
            .to_string(),
        None => "Halted".to_string(),
    }
}
