//! Our interpreter against wasmtime and wasmi 2.0 on the six Rust workloads of
//! `program::WORKLOADS_WASM`: what provability costs against a JIT and against
//! the fastest plain interpreter we know of.
//!
//! Every engine runs the same export with the same arguments, and before any
//! timing the three results are asserted equal: a comparison of different work
//! would be worthless. Each timed call starts on a fresh instance made in the
//! untimed setup (modules are compiled once), and the instance is dropped
//! outside the timing too.
//!
//! - `interp`: `vm::Machine`, as the prover runs it (no hashing during the run).
//! - `wasmtime`: `wasmtime::Engine::default()` without fuel, as a user would run
//!   it (not `vm::native`, which meters fuel for replay).
//! - `wasmi`: `wasmi::Engine::default()`. Its default compiles functions lazily
//!   on their first call; the engine keeps the translation, so only the
//!   agreement check and criterion's warm-up pay for it.
//!
//! After criterion, a summary table (best of three `Instant` runs per engine)
//! goes to stdout. `ENGINES_QUICK=1` skips criterion and prints only the table.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};
use vm::{Machine, NoImports, RunOutcome, Value};

/// One export and its arguments, sized so the interpreter takes 25-35 ms on a
/// 2-core CI machine (it runs 650-1,000M steps/s there).
struct Workload {
    label: &'static str,
    export: &'static str,
    args: &'static [i32],
}

const WORKLOADS: [Workload; 6] = [
    Workload {
        label: "fib(29)",
        export: "fib",
        args: &[29],
    },
    Workload {
        label: "sort(32K)",
        export: "sort",
        args: &[1 << 15, 7],
    },
    Workload {
        label: "keccak(512KiB)",
        export: "keccak",
        args: &[1 << 19],
    },
    Workload {
        label: "bignum(400)",
        export: "bignum",
        args: &[400],
    },
    Workload {
        label: "bytes(64KiB,16)",
        export: "bytes",
        args: &[1 << 16, 16],
    },
    Workload {
        label: "matmul(128)",
        export: "matmul",
        args: &[128],
    },
];

#[derive(Clone, Copy)]
enum EngineKind {
    Interp,
    Wasmtime,
    Wasmi,
}

impl EngineKind {
    const ALL: [EngineKind; 3] = [EngineKind::Interp, EngineKind::Wasmtime, EngineKind::Wasmi];

    fn name(self) -> &'static str {
        match self {
            EngineKind::Interp => "interp",
            EngineKind::Wasmtime => "wasmtime",
            EngineKind::Wasmi => "wasmi",
        }
    }
}

/// `WORKLOADS_WASM` loaded once by each engine.
struct Engines {
    interp: Arc<vm::Module>,
    wasmtime_engine: wasmtime::Engine,
    wasmtime_module: wasmtime::Module,
    wasmi_engine: wasmi::Engine,
    wasmi_module: wasmi::Module,
}

/// A fresh instance with its call prepared: running it is the timed part.
#[expect(
    clippy::large_enum_variant,
    reason = "one lives at a time, and boxing would add an indirection to the timed call"
)]
enum Ready {
    Interp(Machine),
    Wasmtime {
        store: wasmtime::Store<()>,
        func: wasmtime::Func,
        params: Vec<wasmtime::Val>,
    },
    Wasmi {
        store: wasmi::Store<()>,
        func: wasmi::Func,
        params: Vec<wasmi::Val>,
    },
}

impl Engines {
    fn load() -> Engines {
        let bytes = program::WORKLOADS_WASM;
        let wasmtime_engine = wasmtime::Engine::default();
        let wasmtime_module =
            wasmtime::Module::new(&wasmtime_engine, bytes).expect("wasmtime compiles workloads");
        let wasmi_engine = wasmi::Engine::default();
        let wasmi_module =
            wasmi::Module::new(&wasmi_engine, bytes).expect("wasmi compiles workloads");
        Engines {
            interp: vm::Module::new(bytes).expect("interpreter loads workloads"),
            wasmtime_engine,
            wasmtime_module,
            wasmi_engine,
            wasmi_module,
        }
    }

    fn prepare(&self, engine: EngineKind, workload: &Workload) -> Ready {
        let Workload { export, args, .. } = workload;
        match engine {
            EngineKind::Interp => {
                let mut machine =
                    Machine::instantiate(self.interp.clone(), &mut NoImports, u64::MAX)
                        .expect("interpreter instantiates");
                let args: Vec<Value> = args.iter().map(|&a| Value::I32(a)).collect();
                machine.invoke(export, &args).expect("export exists");
                Ready::Interp(machine)
            }
            EngineKind::Wasmtime => {
                let mut store = wasmtime::Store::new(&self.wasmtime_engine, ());
                let instance = wasmtime::Instance::new(&mut store, &self.wasmtime_module, &[])
                    .expect("wasmtime instantiates");
                let func = instance
                    .get_func(&mut store, export)
                    .expect("export exists");
                let params = args.iter().map(|&a| wasmtime::Val::I32(a)).collect();
                Ready::Wasmtime {
                    store,
                    func,
                    params,
                }
            }
            EngineKind::Wasmi => {
                let mut store = wasmi::Store::new(&self.wasmi_engine, ());
                let instance = wasmi::Instance::new(&mut store, &self.wasmi_module, &[])
                    .expect("wasmi instantiates");
                let func = instance.get_func(&store, export).expect("export exists");
                let params = args.iter().map(|&a| wasmi::Val::I32(a)).collect();
                Ready::Wasmi {
                    store,
                    func,
                    params,
                }
            }
        }
    }

    /// Interpreter steps of one run of `workload`.
    fn steps(&self, workload: &Workload) -> u64 {
        let mut ready = self.prepare(EngineKind::Interp, workload);
        ready.run();
        match ready {
            Ready::Interp(machine) => machine.steps(),
            _ => unreachable!("prepared for the interpreter"),
        }
    }

    /// Best of three timed runs, each on a fresh instance.
    fn best_of_3(&self, engine: EngineKind, workload: &Workload) -> Duration {
        (0..3)
            .map(|_| {
                let mut ready = self.prepare(engine, workload);
                let start = Instant::now();
                black_box(ready.run());
                start.elapsed()
            })
            .min()
            .expect("three runs")
    }
}

impl Ready {
    /// Runs the prepared call to its end; every workload returns one i64.
    fn run(&mut self) -> i64 {
        match self {
            Ready::Interp(machine) => match machine.run(&mut NoImports, u64::MAX) {
                RunOutcome::Finished(results) => match results[..] {
                    [Value::I64(result)] => result,
                    ref other => panic!("interpreter returned {other:?}"),
                },
                other => panic!("interpreter did not finish: {other:?}"),
            },
            Ready::Wasmtime {
                store,
                func,
                params,
            } => {
                let mut results = [wasmtime::Val::I64(0)];
                func.call(store, params, &mut results)
                    .expect("wasmtime runs");
                results[0].unwrap_i64()
            }
            Ready::Wasmi {
                store,
                func,
                params,
            } => {
                let mut results = [wasmi::Val::I64(0)];
                func.call(store, params, &mut results).expect("wasmi runs");
                results[0].i64().expect("wasmi returned an i64")
            }
        }
    }
}

fn assert_engines_agree(engines: &Engines) {
    for workload in &WORKLOADS {
        let results = EngineKind::ALL.map(|engine| engines.prepare(engine, workload).run());
        assert!(
            results.iter().all(|&r| r == results[0]),
            "{}: interp, wasmtime and wasmi disagree: {results:?}",
            workload.label
        );
    }
}

fn bench_engines(c: &mut Criterion, engines: &Engines) {
    for workload in &WORKLOADS {
        let mut group = c.benchmark_group(workload.label);
        group.sample_size(10);
        // Interpreter steps per second for every row, so rates compare like times.
        group.throughput(Throughput::Elements(engines.steps(workload)));
        for engine in EngineKind::ALL {
            group.bench_function(engine.name(), |b| {
                b.iter_batched(
                    || engines.prepare(engine, workload),
                    |mut ready| {
                        black_box(ready.run());
                        // Returned, so criterion drops the instance after the timing stops.
                        ready
                    },
                    BatchSize::PerIteration,
                )
            });
        }
        group.finish();
    }
}

fn print_summary(engines: &Engines) {
    println!();
    println!(
        "{:<16} {:>8} {:>11} {:>11} {:>11} {:>10} {:>10}",
        "workload", "steps", "interp", "wasmtime", "wasmi", "i/wasmtime", "i/wasmi"
    );
    let (mut log_vs_wasmtime, mut log_vs_wasmi) = (0.0f64, 0.0f64);
    for workload in &WORKLOADS {
        let steps = engines.steps(workload);
        let [interp, wasmtime, wasmi] =
            EngineKind::ALL.map(|engine| engines.best_of_3(engine, workload));
        let vs_wasmtime = interp.as_secs_f64() / wasmtime.as_secs_f64();
        let vs_wasmi = interp.as_secs_f64() / wasmi.as_secs_f64();
        log_vs_wasmtime += vs_wasmtime.ln();
        log_vs_wasmi += vs_wasmi.ln();
        println!(
            "{:<16} {:>7.1}M {:>11} {:>11} {:>11} {:>9.1}x {:>9.2}x",
            workload.label,
            steps as f64 / 1e6,
            format_duration(interp),
            format_duration(wasmtime),
            format_duration(wasmi),
            vs_wasmtime,
            vs_wasmi
        );
    }
    let count = WORKLOADS.len() as f64;
    println!(
        "{:<16} {:>8} {:>11} {:>11} {:>11} {:>9.1}x {:>9.2}x",
        "geometric mean",
        "",
        "",
        "",
        "",
        (log_vs_wasmtime / count).exp(),
        (log_vs_wasmi / count).exp()
    );
}

fn format_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 1.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.0} µs", ms * 1e3)
    }
}

fn main() {
    let engines = Engines::load();
    assert_engines_agree(&engines);
    if std::env::var_os("ENGINES_QUICK").is_none_or(|v| v != "1") {
        let mut criterion = Criterion::default().configure_from_args();
        bench_engines(&mut criterion, &engines);
        criterion.final_summary();
    }
    print_summary(&engines);
}
