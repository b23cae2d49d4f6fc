//! Compiles the guest crates under `program/` to `wasm32-unknown-unknown` and
//! leaves each module at `$OUT_DIR/<name>.wasm`, where `src/lib.rs` embeds it
//! with `include_bytes!`.
//!
//! Each guest is its own Cargo workspace with its own release profile and lock
//! file, built by a nested `cargo build` into `$OUT_DIR/guest-target`. The
//! nested build must see none of the settings cargo hands this script for the
//! *host* build (RUSTFLAGS, target, profile overrides, clippy's wrapper, ...):
//! they would change the guest's bytes or break its build, and the guest's
//! bytes are consensus (their hash is part of every machine hash).

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "build_hooks.rs"]
mod hooks;

const GUEST_TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR"));
    ensure_wasm_target_installed();
    build_guest(
        &manifest_dir.join("workloads"),
        "workloads",
        &[],
        "workloads",
    );
    // The STF guest depends on the ledger crate by path: its sources are part of the guest's bytes.
    for watched in ["ledger/src", "ledger/Cargo.toml"] {
        println!(
            "cargo:rerun-if-changed={}",
            manifest_dir.join(watched).display()
        );
    }
    build_guest(&manifest_dir.join("guest"), "stf", &[], "stf");
    build_guest(
        &manifest_dir.join("guest"),
        "stf",
        &["pure-crypto"],
        "stf_pure",
    );
    // The EVM guest depends on the EVM STF and the ledger crates by path.
    for watched in ["evm/src", "evm/Cargo.toml"] {
        println!(
            "cargo:rerun-if-changed={}",
            manifest_dir.join(watched).display()
        );
    }
    let evm = build_guest(
        &manifest_dir.join("evm-guest"),
        "evm_stf_guest",
        &[],
        "evm_stf",
    );
    let bytes = fs::read(&evm).unwrap_or_else(|err| panic!("reading {}: {err}", evm.display()));
    let resolved = hooks::resolve_hook_imports(&bytes)
        .unwrap_or_else(|err| panic!("resolving the EVM guest's hook imports: {err}"));
    fs::write(&evm, resolved).unwrap_or_else(|err| panic!("writing {}: {err}", evm.display()));
}

/// Builds the guest crate at `crate_dir` in release mode for
/// `wasm32-unknown-unknown`, copies its `<wasm_name>.wasm` (the cdylib's
/// artifact name, i.e. the lib name with `-` replaced by `_`) to
/// `$OUT_DIR/<wasm_name>.wasm` and returns that path.
fn build_guest(
    crate_dir: &Path,
    wasm_name: &str,
    features: &[&str],
    embedded_name: &str,
) -> PathBuf {
    let out_dir = PathBuf::from(env_var("OUT_DIR"));
    let manifest = crate_dir.join("Cargo.toml");
    // One target dir per feature set, so the variants never overwrite each other's artifact.
    let target_dir = out_dir.join(format!("guest-target-{embedded_name}"));

    // A watched path that does not exist would make cargo rerun this script on
    // every build, so only existing ones are listed (`src` is a directory:
    // cargo watches everything under it).
    for watched in ["src", "Cargo.toml", "Cargo.lock", ".cargo"] {
        let path = crate_dir.join(watched);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }

    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(&cargo);
    command
        .arg("build")
        .arg("--release")
        .arg("--target")
        .arg(GUEST_TARGET)
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .arg("--features")
        .arg(features.join(","))
        // Config discovery (.cargo/config.toml) starts at the guest, not at
        // wherever the outer cargo was invoked.
        .current_dir(crate_dir);
    scrub_outer_build_env(&mut command);

    let status = command.status().unwrap_or_else(|err| {
        panic!(
            "failed to run `{}` for guest {}: {err}",
            cargo.to_string_lossy(),
            crate_dir.display()
        )
    });
    if !status.success() {
        panic!(
            "building guest {} for {GUEST_TARGET} failed ({status}); its compiler output is above",
            crate_dir.display()
        );
    }

    let built = target_dir
        .join(GUEST_TARGET)
        .join("release")
        .join(format!("{wasm_name}.wasm"));
    let embedded = out_dir.join(format!("{embedded_name}.wasm"));
    fs::copy(&built, &embedded).unwrap_or_else(|err| {
        panic!(
            "guest built but {} could not be copied to {}: {err}",
            built.display(),
            embedded.display()
        )
    });
    embedded
}

/// Removes from the nested cargo's environment every variable through which the
/// outer (host) build would leak into the guest build. `RUSTC`, `RUSTUP_*` and
/// the jobserver (`CARGO_MAKEFLAGS`) stay, so the guest is built by the same
/// toolchain and within the same job limit.
fn scrub_outer_build_env(command: &mut Command) {
    const EXACT: &[&str] = &[
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTDOCFLAGS",
        "CARGO_ENCODED_RUSTDOCFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_RUSTC_CURRENT_DIR",
        "TARGET",
        "HOST",
        "OUT_DIR",
        "OPT_LEVEL",
        "PROFILE",
        "DEBUG",
        "NUM_JOBS",
    ];
    const PREFIXES: &[&str] = &[
        "CARGO_CFG_",
        "CARGO_FEATURE_",
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        // CARGO_BUILD_TARGET, CARGO_BUILD_RUSTFLAGS, ...
        "CARGO_BUILD_",
        // CARGO_TARGET_<triple>_RUSTFLAGS / _LINKER / _RUNNER
        "CARGO_TARGET_",
        // CARGO_PROFILE_RELEASE_* overrides would change the guest's bytes.
        "CARGO_PROFILE_",
        "DEP_",
    ];
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if EXACT.contains(&key) || PREFIXES.iter().any(|prefix| key.starts_with(prefix)) {
            command.env_remove(key);
        }
    }
}

/// Makes sure the standard library for `wasm32-unknown-unknown` is installed
/// for the toolchain running this build, installing it with rustup if not.
///
/// rust-toolchain.toml lists the target, but rustup (1.29) only installs the
/// listed targets together with the toolchain itself: on a machine where the
/// pinned toolchain is already installed without the target, nothing adds it.
fn ensure_wasm_target_installed() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    if wasm_target_libdir_populated(&rustc) {
        return;
    }

    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", GUEST_TARGET]);
    if let Some(toolchain) = env::var_os("RUSTUP_TOOLCHAIN") {
        rustup.arg("--toolchain").arg(toolchain);
    }
    let added = match rustup.status() {
        Ok(status) if status.success() => None,
        Ok(status) => Some(format!("`rustup target add` exited with {status}")),
        Err(err) => Some(format!("rustup could not be run: {err}")),
    };
    if let Some(reason) = added {
        panic!(
            "the `{GUEST_TARGET}` target is not installed for {} and could not be installed \
             ({reason}); install it with `rustup target add {GUEST_TARGET}` and rebuild",
            rustc.to_string_lossy()
        );
    }
    if !wasm_target_libdir_populated(&rustc) {
        panic!(
            "`rustup target add {GUEST_TARGET}` succeeded but {} still has no standard library \
             for {GUEST_TARGET}; is RUSTC ({}) a toolchain managed by rustup?",
            rustc.to_string_lossy(),
            rustc.to_string_lossy()
        );
    }
}

/// True if `rustc --print target-libdir --target wasm32-unknown-unknown` names
/// a directory that exists and has files in it (rustc prints the path whether
/// or not the target's standard library is installed).
fn wasm_target_libdir_populated(rustc: &OsString) -> bool {
    let Ok(output) = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", GUEST_TARGET])
        .output()
    else {
        return false;
    };
    if !output.status.success() {
        return false;
    }
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    fs::read_dir(&libdir).is_ok_and(|mut entries| entries.next().is_some())
}

fn env_var(key: &str) -> String {
    env::var(key).unwrap_or_else(|_| panic!("cargo did not set {key} for the build script"))
}
