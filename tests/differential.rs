//! Differential testing: random modules from wasm-smith run through the interpreter (the engine of
//! record) and the wasmtime replay engine must give identical results, traps, memory and globals.
//!
//! * Case `i` is generated from a splitmix64 stream seeded by `i`, so a failure reproduces by number:
//!   `DIFF_CASE=i cargo test --release --test differential -- --nocapture`.
//! * `DIFF_CASES=n` runs cases `0..n` (default 1000).
//! * A diverging module is written to `tests/corpus/diverged-<case>.wasm`; every `.wasm` in
//!   `tests/corpus/` is replayed as a regression test on each run.
//!
//! Not every disagreement is a divergence. The two engines stop runaway guests at different points
//! (interpreter steps vs wasmtime fuel; the interpreter's call-depth and value-stack limits vs
//! wasmtime's native stack), so a call where either side hits such a limit is *inconclusive* and
//! ends the comparison of that module (the engines' states may differ from there on). wasmtime
//! cannot tell "call_indirect past the end of the table" from other out-of-bounds table accesses,
//! so the interpreter's `UndefinedElement` matches wasmtime's `TableOutOfBounds`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use vm::native::{NativeError, NativeInstance, NativeModule};
use vm::{ExportKind, Machine, Module, NoImports, RunOutcome, Trap, ValType, Value, VmError};

const DEFAULT_CASES: u64 = 1000;
/// Per-call budgets. wasmtime fuel counts wasm instructions, interpreter steps count lowered ops
/// (bulk memory ops take one step per 32 bytes), so fuel gets the larger budget: a call that
/// finishes in the interpreter must not run out of fuel.
const INTERP_STEPS: u64 = 1_000_000;
const NATIVE_FUEL: u64 = 10_000_000;
/// Every exported function is called this many times per module: once with zeros, then with
/// arguments drawn from edge values.
const ARGUMENT_ROUNDS: u32 = 3;
/// Inconclusive modules must stay below this share of all compared modules.
const MAX_INCONCLUSIVE_PERCENT: u64 = 20;

mod common;
use common::SplitMix;
#[path = "common/smith.rs"]
mod smith;
use smith::{arguments, generate, REFUEL};

/// What was compared in one module.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    calls: u64,
    /// Calls that returned on both engines (the rest trapped alike, or were inconclusive).
    returned: u64,
    /// Interpreter steps taken (instantiation and all calls): how much code the comparison covered.
    steps: u64,
    /// Calls that trapped alike, by trap code (`Trap::code`, 1..=12).
    trapped: [u64; 13],
    /// A call (or the start function) hit a budget or stack limit; comparison stopped there.
    inconclusive: bool,
    /// Both engines refused to instantiate the module, alike.
    not_instantiated: bool,
}

/// How one module compared.
#[derive(Debug)]
enum Verdict {
    /// Everything compared agreed. `inconclusive` if a call hit a budget or stack limit.
    Agreed(Tally),
    Diverged(String),
    /// The native engine cannot run the module (externref); the interpreter accepted it.
    NativeRefused(String),
}

fn is_limit(trap: Trap) -> bool {
    matches!(
        trap,
        Trap::StepLimitReached | Trap::CallStackExhausted | Trap::ValueStackExhausted
    )
}

fn same_trap(interp: Trap, native: Trap) -> bool {
    interp == native || (interp == Trap::UndefinedElement && native == Trap::TableOutOfBounds)
}

/// Values agree bit for bit; a native funcref to a function wasmtime cannot name (see
/// `vm::native`) matches any non-null interpreter funcref.
fn same_value(interp: &Value, native: &Value) -> bool {
    match (interp, native) {
        (Value::FuncRef(Some(_)), Value::FuncRef(Some(u32::MAX))) => true,
        _ => interp == native,
    }
}

fn same_values(interp: &[Value], native: &[Value]) -> bool {
    interp.len() == native.len() && interp.iter().zip(native).all(|(a, b)| same_value(a, b))
}

/// Where memory or exported globals differ, if they do.
fn state_difference(machine: &Machine, native: &mut NativeInstance<NoImports>) -> Option<String> {
    for (name, kind) in machine.module().exports() {
        if let ExportKind::Global(_) = kind {
            let (a, b) = (machine.exported_global(name), native.global(name));
            let agree = match (&a, &b) {
                (Some(a), Some(b)) => same_value(a, b),
                _ => false,
            };
            if !agree {
                return Some(format!("global `{name}`: interpreter {a:?}, native {b:?}"));
            }
        }
    }
    let memory = machine.memory();
    let bytes = native.memory_bytes();
    if memory.size() != bytes.len() as u64 {
        return Some(format!(
            "memory size: interpreter {} bytes, native {}",
            memory.size(),
            bytes.len()
        ));
    }
    let mut buf = vec![0u8; 65536];
    for (page, chunk) in bytes.chunks(65536).enumerate() {
        let mine = &mut buf[..chunk.len()];
        let base = page as u64 * 65536;
        if let Err(trap) = memory.read(base, mine) {
            return Some(format!(
                "interpreter memory unreadable at {base:#x}: {trap}"
            ));
        }
        if mine != chunk {
            let at = mine
                .iter()
                .zip(chunk)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            return Some(format!(
                "memory at {:#x}: interpreter {:#04x}, native {:#04x}",
                base + at as u64,
                mine[at],
                chunk[at]
            ));
        }
    }
    None
}

/// Runs one module through both engines and compares everything observable.
fn compare(bytes: &[u8], case_seed: u64) -> Verdict {
    let module = match Module::new(bytes) {
        Ok(m) => m,
        // wasm-smith was told to use only features the interpreter supports; wasmtime accepts these.
        Err(e) => return Verdict::Diverged(format!("the interpreter refused the module: {e}")),
    };
    let native_module = match NativeModule::from_module(module.clone(), bytes) {
        Ok(m) => m,
        Err(VmError::UnsupportedFeature {
            feature: "externref",
            detail,
        }) => return Verdict::NativeRefused(detail),
        Err(e) => return Verdict::Diverged(format!("the native engine refused the module: {e}")),
    };

    let interp = Machine::instantiate(module.clone(), &mut NoImports, INTERP_STEPS);
    let native = NativeInstance::new(&native_module, NoImports, NATIVE_FUEL);
    let (mut machine, mut instance) = match (interp, native) {
        (Ok(m), Ok(n)) => (m, n),
        (Err(VmError::InstantiationTrap(a)), Err(VmError::InstantiationTrap(b))) => {
            if is_limit(a) || is_limit(b) {
                return Verdict::Agreed(Tally {
                    inconclusive: true,
                    ..Tally::default()
                });
            }
            if same_trap(a, b) {
                return Verdict::Agreed(Tally {
                    not_instantiated: true,
                    ..Tally::default()
                });
            }
            return Verdict::Diverged(format!(
                "instantiation: interpreter trapped with {a}, native with {b}"
            ));
        }
        (Err(VmError::InstantiationTrap(t)), Ok(_))
        | (Ok(_), Err(VmError::InstantiationTrap(t)))
            if is_limit(t) =>
        {
            return Verdict::Agreed(Tally {
                inconclusive: true,
                ..Tally::default()
            });
        }
        // Both refused for reasons other than a trap (e.g. a limit): that is agreement.
        (Err(_), Err(_)) => {
            return Verdict::Agreed(Tally {
                not_instantiated: true,
                ..Tally::default()
            })
        }
        (Err(e), Ok(_)) => {
            return Verdict::Diverged(format!(
                "instantiation: interpreter failed ({e}), native succeeded"
            ))
        }
        (Ok(_), Err(e)) => {
            return Verdict::Diverged(format!(
                "instantiation: native failed ({e}), interpreter succeeded"
            ))
        }
    };
    if let Some(diff) = state_difference(&machine, &mut instance) {
        return Verdict::Diverged(format!("after instantiation: {diff}"));
    }

    let functions: Vec<(String, Vec<ValType>)> = module
        .exports()
        .filter(|(name, k)| matches!(k, ExportKind::Func(_)) && *name != REFUEL)
        .filter_map(|(name, _)| {
            Some((
                name.to_string(),
                module.func_type_of_export(name)?.params.clone(),
            ))
        })
        .collect();
    let mut rng = SplitMix(case_seed ^ 0x5eed);
    let mut tally = Tally::default();
    for round in 0..ARGUMENT_ROUNDS {
        for (name, params) in &functions {
            let args = arguments(params, &mut rng, round);
            let call = format!(
                "`{name}`({})",
                args.iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            tally.calls += 1;
            if let Err(e) = machine.invoke(name, &args) {
                return Verdict::Diverged(format!("{call}: the interpreter refused the call: {e}"));
            }
            let interp = match machine.run(&mut NoImports, INTERP_STEPS) {
                RunOutcome::Finished(values) => Ok(values),
                RunOutcome::Trapped(trap) => Err(trap),
                RunOutcome::StepLimit => Err(Trap::StepLimitReached),
                RunOutcome::Idle => {
                    return Verdict::Diverged(format!("{call}: the interpreter did not start"))
                }
            };
            let native = match instance.invoke(name, &args, NATIVE_FUEL) {
                Ok(values) => Ok(values),
                Err(NativeError::Trap(trap)) => Err(trap),
                Err(NativeError::Vm(e)) => {
                    return Verdict::Diverged(format!("{call}: the native engine failed: {e}"))
                }
            };
            match (&interp, &native) {
                (Err(a), _) if is_limit(*a) => {
                    return Verdict::Agreed(Tally {
                        inconclusive: true,
                        ..tally
                    })
                }
                (_, Err(b)) if is_limit(*b) => {
                    return Verdict::Agreed(Tally {
                        inconclusive: true,
                        ..tally
                    })
                }
                (Ok(a), Ok(b)) if same_values(a, b) => tally.returned += 1,
                (Err(a), Err(b)) if same_trap(*a, *b) => {
                    if let Some(count) = tally.trapped.get_mut(a.code() as usize) {
                        *count += 1;
                    }
                }
                _ => {
                    return Verdict::Diverged(format!(
                        "{call}: interpreter {interp:?}, native {native:?}"
                    ))
                }
            }
            if let Some(diff) = state_difference(&machine, &mut instance) {
                return Verdict::Diverged(format!("after {call}: {diff}"));
            }
        }
    }
    Verdict::Agreed(Tally {
        steps: machine.steps(),
        ..tally
    })
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("corpus")
}

struct Case {
    index: u64,
    verdict: Verdict,
}

fn run_case(index: u64) -> Option<Case> {
    let bytes = generate(index)?;
    let verdict = compare(&bytes, index);
    if let Verdict::Diverged(_) = verdict {
        save_divergence(index, &bytes);
    }
    Some(Case { index, verdict })
}

fn save_divergence(index: u64, bytes: &[u8]) {
    let dir = corpus_dir();
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join(format!("diverged-{index}.wasm")), bytes));
    if let Err(e) = written {
        eprintln!("differential: could not save case {index}: {e}");
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    Some(
        text.trim()
            .parse()
            .unwrap_or_else(|e| panic!("{name}={text}: {e}")),
    )
}

#[test]
fn interpreter_and_wasmtime_agree_on_generated_modules() {
    let started = Instant::now();
    let indices: Vec<u64> = match env_u64("DIFF_CASE") {
        Some(one) => vec![one],
        None => (0..env_u64("DIFF_CASES").unwrap_or(DEFAULT_CASES)).collect(),
    };
    let cases: Vec<Case> = indices.par_iter().filter_map(|&i| run_case(i)).collect();
    if std::env::var_os("DIFF_VERBOSE").is_some() {
        for case in &cases {
            println!("case {}: {:?}", case.index, case.verdict);
        }
    }

    let (mut calls, mut returned, mut inconclusive, mut not_instantiated, mut steps) =
        (0, 0, 0, 0, 0);
    let mut trapped = [0u64; 13];
    let mut divergences = Vec::new();
    for case in &cases {
        match &case.verdict {
            Verdict::Agreed(t) => {
                calls += t.calls;
                returned += t.returned;
                steps += t.steps;
                inconclusive += t.inconclusive as u64;
                not_instantiated += t.not_instantiated as u64;
                for (sum, n) in trapped.iter_mut().zip(t.trapped) {
                    *sum += n;
                }
            }
            Verdict::Diverged(why) => divergences.push(format!("case {}: {why}", case.index)),
            Verdict::NativeRefused(why) => divergences.push(format!(
                "case {}: the native engine refused: {why}",
                case.index
            )),
        }
    }
    let ungenerated = indices.len() - cases.len();
    println!(
        "differential: {} modules, {calls} calls, {inconclusive} inconclusive, {} divergences \
         ({returned} calls returned, the rest trapped alike; {not_instantiated} modules failed to \
         instantiate alike; {ungenerated} seeds unusable) in {:.1?}",
        cases.len(),
        divergences.len(),
        started.elapsed()
    );
    let traps: Vec<String> = (1..13)
        .filter(|&code| trapped[code] > 0)
        .filter_map(|code| {
            Some(format!(
                "{} {}",
                Trap::from_code(code as u32)?,
                trapped[code]
            ))
        })
        .collect();
    println!(
        "differential: {steps} interpreter steps compared; traps alike: {}",
        traps.join(", ")
    );
    for d in &divergences {
        println!("  {d}");
    }
    assert!(
        divergences.is_empty(),
        "{} divergent modules (saved in tests/corpus/)",
        divergences.len()
    );
    if cases.len() >= 20 {
        assert!(
            inconclusive * 100 < cases.len() as u64 * MAX_INCONCLUSIVE_PERCENT,
            "{inconclusive} of {} modules inconclusive: the comparison is too weak",
            cases.len()
        );
        assert!(
            calls >= cases.len() as u64,
            "only {calls} calls over {} modules",
            cases.len()
        );
    }
}

#[test]
fn corpus_modules_agree() {
    let Ok(entries) = std::fs::read_dir(corpus_dir()) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    for path in &paths {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // The arguments' seed is the case number in the file name, as in the original run.
        let seed = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.rsplit('-').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        match compare(&bytes, seed) {
            Verdict::Agreed(_) => {}
            Verdict::NativeRefused(why) => println!(
                "corpus {}: skipped, native engine refuses: {why}",
                path.display()
            ),
            Verdict::Diverged(why) => failures.push(format!("{}: {why}", path.display())),
        }
    }
    println!(
        "differential corpus: {} modules, {} divergences",
        paths.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "corpus divergences:\n{}",
        failures.join("\n")
    );
}
