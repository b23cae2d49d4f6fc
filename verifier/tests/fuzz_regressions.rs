//! Replays the inputs of the differential fuzzer (`verifier/fuzz`, target `checkers_agree`) through
//! both one-step checkers with the agreement rule of the tests (`tests/common/evm.rs`, `both`):
//! every input that ever made them disagree (`fuzz/regressions/`), and the committed seed corpus
//! (`fuzz/corpus/checkers_agree/`, real proofs the fuzzer mutates). An input is one selector byte
//! (which pre-state, see `fuzz/src/input.rs`) and then the proof.

#[path = "../../tests/common/evm.rs"]
mod evm;
#[path = "../fuzz/src/input.rs"]
mod input;

use std::path::{Path, PathBuf};

/// The input files in `dir` (its README and dot files aside), sorted.
fn inputs(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.starts_with('.') && !name.starts_with("README")
        })
        .collect();
    files.sort();
    files
}

/// Both checkers on every input of `files`; panics on the first disagreement, naming the file.
fn replay(files: &[PathBuf]) -> evm::Tally {
    for file in files {
        let data = std::fs::read(file).unwrap();
        let Some((pre, proof)) = input::split(&data) else {
            continue;
        };
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let _ = evm::both(&name, &pre, proof);
    }
    evm::take_tally()
}

#[test]
fn regressions_agree() {
    let files = inputs("fuzz/regressions");
    let tally = replay(&files);
    println!(
        "{} regression inputs: the checkers agree ({} accepted)",
        tally.compared, tally.accepted
    );
}

#[test]
fn seed_corpus_agrees() {
    let files = inputs("fuzz/corpus/checkers_agree");
    assert!(files.len() >= 100, "the seed corpus is committed");
    let tally = replay(&files);
    println!(
        "{} seeds: the checkers agree ({} accepted, {} float steps refused by the EVM)",
        tally.compared, tally.accepted, tally.float_refused
    );
    // Seeds are honest proofs against their own pre-state: each is accepted (or, a float step,
    // refused by the EVM).
    assert_eq!(tally.accepted + tally.float_refused, tally.compared);
}
