//! Replays the inputs of the differential fuzzer (`verifier/fuzz`, target `checkers_agree`) through
//! both one-step checkers with the agreement rule of the tests (`tests/common/evm.rs`, `both`):
//! every input that ever made them disagree (`fuzz/regressions/`), and the committed seed corpus
//! (`fuzz/corpus/checkers_agree/`, real proofs the fuzzer mutates), and random mutants of those
//! seeds. An input is one selector byte (which pre-state, see `fuzz/src/input.rs`) and then the
//! proof.

#[path = "../../tests/common/mod.rs"]
mod common;
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

/// `per_seed` mutants of each seed of `files` (`what` they are, for the report), through both
/// checkers, which must agree on each: one to three bytes anywhere in the proof set, flipped or
/// cleared, or the proof cut short; the pre-state is the one the fuzzer's even selector gives
/// (the mutant's own, so a mutated opening reaches the step). The same mutants on every machine
/// (the tests' `SplitMix`, a fixed seed).
fn mutants_agree(what: &str, files: &[PathBuf], per_seed: u64) {
    let mut rng = common::SplitMix(0x9E37_79B9_7F4A_7C15);
    let mut next = move |bound: usize| (rng.next() % bound.max(1) as u64) as usize;
    for file in files {
        let seed = std::fs::read(file).unwrap();
        let Some((_, proof)) = input::split(&seed) else {
            continue;
        };
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for _ in 0..per_seed {
            let mut mutant = proof.to_vec();
            match next(8) {
                0 => mutant.truncate(next(mutant.len())),
                kind => {
                    for _ in 0..1 + next(3) {
                        let at = next(mutant.len());
                        mutant[at] = if kind == 1 {
                            0
                        } else {
                            mutant[at] ^ (1 + next(255)) as u8
                        };
                    }
                }
            }
            let pre = input::own_pre_state(&mutant).unwrap_or(input::FIXED_PRE);
            let _ = evm::both(&name, &pre, &mutant);
        }
    }
    let tally = evm::take_tally();
    println!(
        "{} mutants of {} {what}: the checkers agree ({} accepted)",
        tally.compared,
        files.len(),
        tally.accepted
    );
    assert_eq!(tally.compared, per_seed * files.len() as u64);
}

/// Every seed mutated at random (`SEED_MUTANTS` each: 100 under CI, 1,000 otherwise): the
/// fuzzer's first step, on every CI run.
#[test]
fn mutated_seeds_agree() {
    let files = inputs("fuzz/corpus/checkers_agree");
    let per_seed = common::scaled_count("SEED_MUTANTS", 100, 1_000);
    mutants_agree("seeds", &files, per_seed);
}

/// The blob-read seeds (`stf-blobs-*`: a field element of a blob with its KZG opening, checked by
/// c-kzg on one side and the point-evaluation precompile on the other) mutated as above, more
/// of them (`BLOB_MUTANTS` each: 1,000 under CI, 10,000 otherwise).
#[test]
fn mutated_blob_reads_agree() {
    let files: Vec<PathBuf> = inputs("fuzz/corpus/checkers_agree")
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("stf-blobs-")
        })
        .collect();
    assert!(!files.is_empty(), "the corpus has blob-read seeds");
    let per_seed = common::scaled_count("BLOB_MUTANTS", 1_000, 10_000);
    mutants_agree("blob-read seeds", &files, per_seed);
}
