//! The committed contract artifacts are exactly what the pinned solc builds from the sources.
//!
//! Installs the pinned compiler (`npm ci` in `contracts/`) when it is missing; without npm these
//! tests fail, they never skip: the artifacts the Rust bindings embed would be unchecked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn contracts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts")
}

fn run(program: &str, args: &[&str], dir: &Path) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{program}` ({e}): the contract tests need Node.js and npm \
                 (Debian: apt-get install nodejs npm)"
            )
        })
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `npm ci` once per test run if the pinned solc is not installed yet.
fn install_solc() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = contracts_dir();
        if dir.join("node_modules/solc/package.json").exists() {
            return;
        }
        println!("{} has no solc: running `npm ci` there", dir.display());
        let out = run("npm", &["ci", "--no-audit", "--no-fund"], &dir);
        assert!(out.status.success(), "`npm ci` failed:\n{}", text(&out));
    });
}

#[test]
fn committed_artifacts_are_a_rebuild_of_the_sources() {
    install_solc();
    let out = run("node", &["compile.js", "--check"], &contracts_dir());
    assert!(
        out.status.success(),
        "the committed artifacts differ from a rebuild (run `node compile.js` in verifier/contracts):\n{}",
        text(&out)
    );
    assert!(text(&out).contains("OneStepVerifier: "), "{}", text(&out));
}

#[test]
fn check_lists_every_artifact_that_differs_is_missing_or_extra() {
    install_solc();
    let original = contracts_dir();
    let copy = std::env::temp_dir().join(format!("contracts-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(copy.join("artifacts")).unwrap();
    std::fs::copy(original.join("compile.js"), copy.join("compile.js")).unwrap();
    std::os::unix::fs::symlink(original.join("src"), copy.join("src")).unwrap();
    std::os::unix::fs::symlink(original.join("node_modules"), copy.join("node_modules")).unwrap();
    for file in std::fs::read_dir(original.join("artifacts")).unwrap() {
        let file = file.unwrap().path();
        std::fs::copy(
            &file,
            copy.join("artifacts").join(file.file_name().unwrap()),
        )
        .unwrap();
    }

    let artifacts = copy.join("artifacts");
    let entry = artifacts.join("OneStepVerifier.json");
    let tampered = std::fs::read_to_string(&entry).unwrap().replacen(
        "\"bytecode\": \"0x",
        "\"bytecode\": \"0x00",
        1,
    );
    std::fs::write(&entry, tampered).unwrap();
    std::fs::remove_file(artifacts.join("deploy.json")).unwrap();
    std::fs::write(artifacts.join("Stale.json"), "{}\n").unwrap();
    let out = run("node", &["compile.js", "--check"], &copy);
    assert!(!out.status.success(), "{}", text(&out));
    for problem in [
        "differs: artifacts/OneStepVerifier.json",
        "missing: artifacts/deploy.json",
        "extra: artifacts/Stale.json",
    ] {
        assert!(text(&out).contains(problem), "{problem}: {}", text(&out));
    }

    // A rebuild restores them and removes what no contract produces.
    let out = run("node", &["compile.js"], &copy);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!artifacts.join("Stale.json").exists());
    for file in ["OneStepVerifier.json", "deploy.json", "build-info.json"] {
        assert_eq!(
            std::fs::read(artifacts.join(file)).unwrap(),
            std::fs::read(original.join("artifacts").join(file)).unwrap(),
            "{file}"
        );
    }
    let _ = std::fs::remove_dir_all(&copy);
}
