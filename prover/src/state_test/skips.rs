//! The cases the runner does not hand to any executor, each with its reason.
//!
//! Two kinds only: forks revm has no rules for ([`spec_for_fork`]), and fixtures that test a rule
//! revm knowingly does not implement. Both of the project's executors *are* revm (natively, and
//! compiled into the WebAssembly guest), so such a case would fail on each for the same known
//! reason and say nothing about the guest; skipping it keeps failures meaningful. The list of
//! deviations is revm's own (`revme statetest` skips the same files) and is kept honest by a test
//! that runs every listed case natively and expects it to fail.

use std::path::Path;

use super::{spec_for_fork, StateTestCase};

/// EIP-7610: creating a contract at an address that has storage (but no code and nonce 0) must
/// collide. revm checks nonce and code only, so in these fixtures, whose pre-state holds such
/// accounts, its creation succeeds. No account on mainnet is in that state (EIP-7610's rationale),
/// which is why revm does not look up storage on every CREATE.
const EIP7610_FILES: &[&str] = &[
    "InitCollision",
    "InitCollisionParis",
    "RevertInCreateInInit",
    "RevertInCreateInInit_Paris",
    "RevertInCreateInInitCreate2",
    "RevertInCreateInInitCreate2Paris",
    "create2collisionStorage",
    "create2collisionStorageParis",
    "dynamicAccountOverwriteEmpty",
    "dynamicAccountOverwriteEmpty_Paris",
    "test_init_collision_create_opcode",
];

/// The reason-text of the EIP-7610 skip, shared with the test that checks the list.
pub const EIP7610_REASON: &str = "EIP-7610 (CREATE onto an address with storage only must \
     collide) is not implemented by revm, the EVM of every executor";

/// Why `case` is skipped, or `None` if an executor should run it.
pub fn skip_reason(case: &StateTestCase) -> Option<String> {
    if let Err(reason) = spec_for_fork(&case.fork) {
        return Some(reason);
    }
    if is_eip7610_fixture(&case.file) {
        return Some(EIP7610_REASON.to_string());
    }
    None
}

fn is_eip7610_fixture(file: &Path) -> bool {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    EIP7610_FILES.contains(&stem)
        || file
            .to_str()
            .is_some_and(|p| p.contains("eip7610_create_collision"))
}
