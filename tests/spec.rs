//! The WebAssembly 2.0 core spec suite (`../shared/wasm-spec-2.0/*.wast`, SIMD files left out) run on
//! the provable interpreter. Every assertion of every file runs; the test prints one line per file
//! and `spec: N passed, 0 failed`. The only skips are directives that are not about execution
//! semantics of a single module, each counted with its reason.

#[path = "common/evm.rs"]
mod evm;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use vm::code::Op;
use vm::proof::{HostFault, HostSemantics, ImportDecl, StepMemory};
use vm::{
    FuncType, GuestMemory, Host, ImportLimits, Machine, Module, RunOutcome, Status, Trap, ValType,
    Value, VmError,
};
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

const STEP_LIMIT: u64 = 2_000_000_000;
/// Steps of every invocation that are proven and checked one by one (one-step proof completeness
/// over the spec suite); the rest of a long invocation runs unproven.
const PROVEN_STEPS_PER_INVOCATION: u64 = 300;

thread_local! {
    static STEPS_PROVEN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Every how many proven steps the EVM checker is asked too (all of them with
    /// EVM_CHECK_EVERY=1).
    static EVM_EVERY: u64 = evm::every(1, 2);
}

/// The provable meaning of the `spectest` print imports: no results, no effect.
struct SpectestSemantics;

impl HostSemantics for SpectestSemantics {
    fn call(
        &self,
        import: &ImportDecl,
        _: &[u64],
        _: &[u8],
        _: &mut dyn StepMemory,
        _: &mut [u8; 32],
    ) -> Result<Vec<u64>, HostFault> {
        if import.module == "spectest" && spectest_func(&import.name).is_some() {
            Ok(vec![])
        } else {
            Err(HostFault::Reject(format!(
                "{}.{}",
                import.module, import.name
            )))
        }
    }
}

/// Proves and checks up to `limit` steps of the running invocation: the checker's post hash must be
/// the interpreter's hash after each step. Calls into another instance are stepped unproven (this
/// VM proves one instance; the spec suite's cross-instance links are a test-harness feature).
fn prove_steps(inst: &mut Instance, limit: u64) -> Result<(), String> {
    for _ in 0..limit {
        if *inst.machine.status() != Status::Running {
            return Ok(());
        }
        let op = inst.machine.next_op();
        if let Some(Op::CallHost { func }) = op {
            let module = inst.machine.module().clone();
            if module.import_of(func).map(|(m, _)| m) != Some("spectest") {
                inst.machine.step(&mut inst.host);
                continue;
            }
        }
        let pre = inst.machine.hash();
        let proof = inst
            .machine
            .prove_step(&inst.host, &SpectestSemantics)
            .map_err(|e| format!("prove {op:?}: {e}"))?;
        let bytes = proof.encode();
        let post = verifier::verify_step_with(&pre, &bytes, &SpectestSemantics)
            .map_err(|e| format!("proof of {op:?} rejected: {e}"))?;
        // The Solidity checker must answer as the rollup's Rust checker does (a `spectest` host
        // call is refused by both: neither knows that host).
        let n = STEPS_PROVEN.with(|n| n.get());
        if n.is_multiple_of(EVM_EVERY.with(|e| *e)) {
            let _ = evm::both(&evm::class_of(op), &pre, &bytes);
        }
        inst.machine.step(&mut inst.host);
        if post != inst.machine.hash() {
            return Err(format!("proof of {op:?}: checker's post hash differs"));
        }
        STEPS_PROVEN.with(|n| n.set(n.get() + 1));
    }
    Ok(())
}

const SHARED_STATE: &str = "assertions on instances whose memory, table, mutable global or funcref is shared with \
     another instance (cross-instance linking; the rollup machine runs one module instance by design)";

fn spec_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/wasm-spec-2.0");
    assert!(
        dir.is_dir(),
        "spec test data not found at {}: the suite must be beside the repository (../shared/wasm-spec-2.0)",
        dir.display()
    );
    dir
}

/// One module instance of the suite, with the host that links its imports.
struct Instance {
    machine: Machine,
    host: SpecHost,
    /// Another instance imported this one's memory, table, mutable global or funcref: the suite
    /// then expects state shared *between instances*, which a single-instance machine does not model.
    shared: std::cell::Cell<bool>,
}

type Shared = Rc<RefCell<Instance>>;

enum Binding {
    /// `spectest.print*`: accepts and ignores its arguments.
    Print,
    /// An export of a registered instance.
    Remote { instance: Shared, export: String },
}

#[derive(Default)]
struct SpecHost {
    registry: HashMap<String, Shared>,
    bindings: Vec<Binding>,
    /// This instance imported a memory, table, mutable global or funcref from another instance.
    shares_state: bool,
}

fn spectest_func(name: &str) -> Option<FuncType> {
    use ValType::*;
    let params = match name {
        "print" => vec![],
        "print_i32" => vec![I32],
        "print_i64" => vec![I64],
        "print_f32" => vec![F32],
        "print_f64" => vec![F64],
        "print_i32_f32" => vec![I32, F32],
        "print_f64_f64" => vec![F64, F64],
        _ => return None,
    };
    Some(FuncType {
        params,
        results: vec![],
    })
}

impl Host for SpecHost {
    fn resolve_func(&mut self, module: &str, name: &str, ty: &FuncType) -> Result<u32, String> {
        let binding = if module == "spectest" {
            let expected =
                spectest_func(name).ok_or_else(|| format!("unknown import spectest.{name}"))?;
            if &expected != ty {
                return Err("incompatible import type".into());
            }
            Binding::Print
        } else {
            let instance = self
                .registry
                .get(module)
                .ok_or_else(|| format!("unknown import module {module}"))?;
            let actual = instance
                .borrow()
                .machine
                .module()
                .func_type_of_export(name)
                .cloned();
            match actual {
                Some(actual) if &actual == ty => Binding::Remote {
                    instance: instance.clone(),
                    export: name.into(),
                },
                Some(_) => return Err("incompatible import type".into()),
                None => return Err(format!("unknown import {module}.{name}")),
            }
        };
        self.bindings.push(binding);
        Ok(self.bindings.len() as u32 - 1)
    }

    fn call(
        &mut self,
        id: u32,
        args: &[Value],
        _: &mut dyn GuestMemory,
        results: &mut [Value],
    ) -> Result<(), Trap> {
        match &self.bindings[id as usize] {
            Binding::Print => Ok(()),
            Binding::Remote { instance, export } => {
                let mut guard = instance.try_borrow_mut().map_err(|_| Trap::Host(1))?;
                let inst = &mut *guard;
                inst.machine
                    .invoke(export, args)
                    .map_err(|_| Trap::Host(2))?;
                match inst.machine.run(&mut inst.host, STEP_LIMIT) {
                    RunOutcome::Finished(values) => {
                        results.copy_from_slice(&values);
                        Ok(())
                    }
                    RunOutcome::Trapped(trap) => Err(trap),
                    _ => Err(Trap::StepLimitReached),
                }
            }
        }
    }

    fn resolve_global(
        &mut self,
        module: &str,
        name: &str,
        ty: ValType,
        mutable: bool,
    ) -> Result<Value, String> {
        let (value, is_mutable) = if module == "spectest" {
            let value = match name {
                "global_i32" => Value::I32(666),
                "global_i64" => Value::I64(666),
                "global_f32" => Value::F32(666.6f32.to_bits()),
                "global_f64" => Value::F64(666.6f64.to_bits()),
                _ => return Err(format!("unknown import spectest.{name}")),
            };
            (value, false)
        } else {
            let instance = self.exporter(module, name)?;
            let guard = instance.borrow();
            let Some(vm::ExportKind::Global(index)) = guard.machine.module().export(name) else {
                return Err(format!(
                    "incompatible import type: {module}.{name} is not a global"
                ));
            };
            let value = guard.machine.global(index).ok_or("no such global")?;
            let is_mutable = guard
                .machine
                .module()
                .global_is_mutable(index)
                .unwrap_or(false);
            if is_mutable || ty == ValType::FuncRef {
                self.shares_state = true;
                guard.shared.set(true);
            }
            (value, is_mutable)
        };
        if value.ty() != ty || is_mutable != mutable {
            return Err("incompatible import type".into());
        }
        Ok(value)
    }

    fn resolve_memory(&mut self, module: &str, name: &str) -> Result<ImportLimits, String> {
        if module == "spectest" {
            return match name {
                "memory" => Ok(ImportLimits {
                    min: 1,
                    max: Some(2),
                }),
                _ => Err(format!("unknown import spectest.{name}")),
            };
        }
        let instance = self.exporter(module, name)?;
        let guard = instance.borrow();
        let Some(vm::ExportKind::Memory) = guard.machine.module().export(name) else {
            return Err(format!(
                "incompatible import type: {module}.{name} is not a memory"
            ));
        };
        self.shares_state = true;
        guard.shared.set(true);
        let memory = guard.machine.memory();
        Ok(ImportLimits {
            min: memory.pages(),
            max: Some(memory.max_pages()),
        })
    }

    fn resolve_table(
        &mut self,
        module: &str,
        name: &str,
        ty: ValType,
    ) -> Result<ImportLimits, String> {
        if module == "spectest" {
            return match (name, ty) {
                ("table", ValType::FuncRef) => Ok(ImportLimits {
                    min: 10,
                    max: Some(20),
                }),
                _ => Err(format!(
                    "unknown import spectest.{name} or incompatible import type"
                )),
            };
        }
        let instance = self.exporter(module, name)?;
        let guard = instance.borrow();
        let Some(vm::ExportKind::Table(index)) = guard.machine.module().export(name) else {
            return Err(format!(
                "incompatible import type: {module}.{name} is not a table"
            ));
        };
        if guard.machine.module().table_type(index) != Some(ty) {
            return Err("incompatible import type: table element type".into());
        }
        self.shares_state = true;
        guard.shared.set(true);
        guard
            .machine
            .table_limits(index)
            .ok_or_else(|| "no such table".into())
    }
}

impl SpecHost {
    fn exporter(&self, module: &str, name: &str) -> Result<Shared, String> {
        let instance = self
            .registry
            .get(module)
            .ok_or_else(|| format!("unknown import module {module}"))?;
        if instance.borrow().machine.module().export(name).is_none() {
            return Err(format!("unknown import {module}.{name}"));
        }
        Ok(instance.clone())
    }
}

#[derive(Default)]
struct FileReport {
    passed: u64,
    /// Steps proven and checked (see [`prove_steps`]).
    proven: u64,
    /// Of those, proofs the Solidity checker was asked about too, and float steps it refused.
    evm_compared: u64,
    evm_float_refused: u64,
    failed: Vec<String>,
    skipped: BTreeMap<&'static str, u64>,
}

struct Runner {
    registry: HashMap<String, Shared>,
    named: HashMap<String, Shared>,
    current: Option<Shared>,
    report: FileReport,
}

fn arg_value(arg: &WastArg<'_>) -> Result<Value, String> {
    let WastArg::Core(core) = arg else {
        return Err("component argument".into());
    };
    Ok(match core {
        WastArgCore::I32(v) => Value::I32(*v),
        WastArgCore::I64(v) => Value::I64(*v),
        WastArgCore::F32(f) => Value::F32(f.bits),
        WastArgCore::F64(f) => Value::F64(f.bits),
        WastArgCore::RefNull(wast::core::HeapType::Abstract {
            ty: wast::core::AbstractHeapType::Func,
            ..
        }) => Value::FuncRef(None),
        WastArgCore::RefNull(_) => Value::ExternRef(None),
        WastArgCore::RefExtern(n) => Value::ExternRef(Some(*n)),
        other => return Err(format!("unsupported argument {other:?}")),
    })
}

fn matches(expected: &WastRet<'_>, actual: &Value) -> bool {
    let WastRet::Core(core) = expected else {
        return false;
    };
    match (core, actual) {
        (WastRetCore::I32(e), Value::I32(a)) => e == a,
        (WastRetCore::I64(e), Value::I64(a)) => e == a,
        (WastRetCore::F32(p), Value::F32(bits)) => match p {
            NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
            NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
            NanPattern::Value(f) => f.bits == *bits,
        },
        (WastRetCore::F64(p), Value::F64(bits)) => match p {
            NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
            NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
            NanPattern::Value(f) => f.bits == *bits,
        },
        (WastRetCore::RefNull(_), Value::FuncRef(None) | Value::ExternRef(None)) => true,
        (WastRetCore::RefExtern(None), Value::ExternRef(Some(_))) => true,
        (WastRetCore::RefExtern(Some(n)), Value::ExternRef(Some(a))) => n == a,
        (WastRetCore::RefFunc(None), Value::FuncRef(Some(_))) => true,
        (WastRetCore::RefFunc(Some(wast::token::Index::Num(n, _))), Value::FuncRef(Some(a))) => {
            n == a
        }
        _ => false,
    }
}

fn trap_matches(expected: &str, trap: &Trap) -> bool {
    let ours = trap.message();
    expected.starts_with(ours) || ours.starts_with(expected)
}

impl Runner {
    fn new() -> Runner {
        Runner {
            registry: HashMap::new(),
            named: HashMap::new(),
            current: None,
            report: FileReport::default(),
        }
    }

    fn instantiate(&self, bytes: &[u8]) -> Result<Shared, VmError> {
        let module = Module::new(bytes)?;
        let mut host = SpecHost {
            registry: self.registry.clone(),
            bindings: Vec::new(),
            shares_state: false,
        };
        let machine = Machine::instantiate(module, &mut host, STEP_LIMIT)?;
        let shared = std::cell::Cell::new(host.shares_state);
        Ok(Rc::new(RefCell::new(Instance {
            machine,
            host,
            shared,
        })))
    }

    fn instance(&self, id: Option<wast::token::Id<'_>>) -> Result<Shared, String> {
        match id {
            Some(id) => self
                .named
                .get(id.name())
                .cloned()
                .ok_or_else(|| format!("no module named {}", id.name())),
            None => self
                .current
                .clone()
                .ok_or_else(|| "no current module".to_string()),
        }
    }

    fn invoke(&self, invoke: &WastInvoke<'_>) -> Result<RunOutcome, String> {
        let instance = self.instance(invoke.module)?;
        let args = invoke
            .args
            .iter()
            .map(arg_value)
            .collect::<Result<Vec<_>, _>>()?;
        let mut guard = instance.borrow_mut();
        let inst = &mut *guard;
        inst.machine
            .invoke(invoke.name, &args)
            .map_err(|e| e.to_string())?;
        prove_steps(inst, PROVEN_STEPS_PER_INVOCATION)?;
        Ok(inst.machine.run(&mut inst.host, STEP_LIMIT))
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Result<Vec<Value>, Trap>, String> {
        match exec {
            WastExecute::Invoke(invoke) => match self.invoke(&invoke)? {
                RunOutcome::Finished(values) => Ok(Ok(values)),
                RunOutcome::Trapped(trap) => Ok(Err(trap)),
                other => Err(format!("run ended with {other:?}")),
            },
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module)?;
                let value = instance.borrow().machine.exported_global(global);
                value
                    .map(|v| Ok(vec![v]))
                    .ok_or_else(|| format!("no global {global}"))
            }
            WastExecute::Wat(mut wat) => {
                let bytes = wat.encode().map_err(|e| e.to_string())?;
                match self.instantiate(&bytes) {
                    Ok(_) => Ok(Ok(vec![])),
                    Err(VmError::InstantiationTrap(trap)) => Ok(Err(trap)),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    }

    fn check(&mut self, line: usize, what: &str, result: Result<(), String>) {
        match result {
            Ok(()) => self.report.passed += 1,
            Err(e) => self.report.failed.push(format!("line {line}: {what}: {e}")),
        }
    }

    /// Whether the instance an invoke/get addresses, or any instance whose functions it calls,
    /// shares state with another instance. Such assertions still run (later directives depend on
    /// their effects) but are counted as skipped, whatever their outcome.
    fn addresses_shared_instance(&self, exec: &WastExecute<'_>) -> bool {
        let id = match exec {
            WastExecute::Invoke(invoke) => invoke.module,
            WastExecute::Get { module, .. } => *module,
            WastExecute::Wat(_) => return false,
        };
        self.instance(id).is_ok_and(|i| depends_on_shared(&i))
    }

    fn skip(&mut self, reason: &'static str) {
        *self.report.skipped.entry(reason).or_default() += 1;
    }

    fn directive(&mut self, text: &str, directive: WastDirective<'_>) {
        let (line, _) = directive.span().linecol_in(text);
        let line = line + 1;
        match directive {
            WastDirective::Module(mut module) => {
                let name = module.name().map(|n| n.name().to_string());
                let result = module
                    .encode()
                    .map_err(|e| e.to_string())
                    .and_then(|bytes| self.instantiate(&bytes).map_err(|e| e.to_string()));
                match result {
                    Ok(instance) => {
                        if let Some(name) = name {
                            self.named.insert(name, instance.clone());
                        }
                        self.current = Some(instance);
                        self.report.passed += 1;
                    }
                    Err(e) => {
                        self.current = None;
                        self.report.failed.push(format!("line {line}: module: {e}"));
                    }
                }
            }
            WastDirective::Register { name, module, .. } => {
                let result = self.instance(module).map(|i| {
                    self.registry.insert(name.to_string(), i);
                });
                self.check(line, "register", result);
            }
            WastDirective::Invoke(invoke) => {
                let result = match self.invoke(&invoke) {
                    Ok(RunOutcome::Finished(_)) => Ok(()),
                    Ok(other) => Err(format!("invoke ended with {other:?}")),
                    Err(e) => Err(e),
                };
                self.check(line, "invoke", result);
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                let shared = self.addresses_shared_instance(&exec);
                let result = match self.execute(exec) {
                    Ok(Ok(values)) => {
                        if values.len() == results.len()
                            && results.iter().zip(&values).all(|(e, a)| matches(e, a))
                        {
                            Ok(())
                        } else {
                            Err(format!("got {values:?}, expected {results:?}"))
                        }
                    }
                    Ok(Err(trap)) => Err(format!("trapped: {trap}")),
                    Err(e) => Err(e),
                };
                if shared {
                    self.skip(SHARED_STATE);
                } else {
                    self.check(line, "assert_return", result);
                }
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                let shared = self.addresses_shared_instance(&exec);
                let result = match self.execute(exec) {
                    Ok(Err(trap)) if trap_matches(message, &trap) => Ok(()),
                    Ok(Err(trap)) => Err(format!("trapped with `{trap}`, expected `{message}`")),
                    Ok(Ok(values)) => {
                        Err(format!("returned {values:?}, expected trap `{message}`"))
                    }
                    Err(e) => Err(e),
                };
                if shared {
                    self.skip(SHARED_STATE);
                } else {
                    self.check(line, "assert_trap", result);
                }
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                let result = match self.invoke(&call) {
                    Ok(RunOutcome::Trapped(
                        Trap::CallStackExhausted | Trap::ValueStackExhausted,
                    )) => Ok(()),
                    Ok(other) => Err(format!("ended with {other:?}, expected `{message}`")),
                    Err(e) => Err(e),
                };
                self.check(line, "assert_exhaustion", result);
            }
            WastDirective::AssertMalformed { module, .. }
            | WastDirective::AssertInvalid { module, .. } => {
                let result = match rejects(module) {
                    true => Ok(()),
                    false => Err("module was accepted".to_string()),
                };
                self.check(line, "assert_malformed/invalid", result);
            }
            WastDirective::AssertUnlinkable { mut module, .. } => {
                let result = match module
                    .encode()
                    .map_err(|e| e.to_string())
                    .map(|b| self.instantiate(&b))
                {
                    Ok(Err(VmError::UnresolvedImport { .. })) => Ok(()),
                    Ok(Err(e)) => Err(format!("failed with `{e}`, expected an unlinkable error")),
                    Ok(Ok(_)) => Err("module linked".to_string()),
                    Err(e) => Err(e),
                };
                self.check(line, "assert_unlinkable", result);
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => {
                self.skip("custom-section assertions (not execution semantics)")
            }
            WastDirective::ModuleDefinition(_) | WastDirective::ModuleInstance { .. } => {
                self.skip("module definitions/instances syntax (not in WebAssembly 2.0)")
            }
            WastDirective::AssertException { .. } | WastDirective::AssertSuspension { .. } => {
                self.skip("exceptions/stack switching (refused features)")
            }
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                self.skip("threads (refused feature)")
            }
        }
    }
}

fn depends_on_shared(instance: &Shared) -> bool {
    let inst = instance.borrow();
    inst.shared.get()
        || inst.host.bindings.iter().any(|b| match b {
            Binding::Remote { instance, .. } => depends_on_shared(instance),
            Binding::Print => false,
        })
}

/// An `assert_malformed`/`assert_invalid` module must fail to encode (text errors) or to load.
fn rejects(mut module: QuoteWat<'_>) -> bool {
    match module.encode() {
        Err(_) => true,
        Ok(bytes) => Module::new(&bytes).is_err(),
    }
}

fn run_file(path: &Path) -> FileReport {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut runner = Runner::new();
    // names.wast deliberately uses bidirectional-override characters in names.
    let mut lexer = wast::lexer::Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let buffer = match ParseBuffer::new_with_lexer(lexer) {
        Ok(b) => b,
        Err(e) => {
            runner.report.failed.push(format!("lex: {e}"));
            return runner.report;
        }
    };
    let wast: Wast<'_> = match parser::parse(&buffer) {
        Ok(w) => w,
        Err(e) => {
            runner.report.failed.push(format!("parse: {e}"));
            return runner.report;
        }
    };
    for directive in wast.directives {
        runner.directive(&text, directive);
    }
    runner.report.proven = STEPS_PROVEN.with(|n| n.get());
    let tally = evm::take_tally();
    runner.report.evm_compared = tally.compared;
    runner.report.evm_float_refused = tally.float_refused;
    runner.report
}

#[test]
fn spec_suite() {
    let dir = spec_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read spec dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wast"))
        .collect();
    files.sort();
    assert!(
        files.len() > 80,
        "expected the whole suite, found {} files",
        files.len()
    );
    let (mut passed, mut failed, mut proven) = (0u64, 0u64, 0u64);
    let (mut evm_compared, mut evm_float_refused) = (0u64, 0u64);
    let mut skipped: BTreeMap<&'static str, u64> = BTreeMap::new();
    for file in &files {
        // The suite's deep-recursion tests need more than the default test-thread stack for the
        // wast parser; run each file on a thread with a generous stack.
        let path = file.clone();
        let report = std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || run_file(&path))
            .expect("spawn")
            .join()
            .unwrap_or_else(|_| {
                let mut r = FileReport::default();
                r.failed.push("panicked".into());
                r
            });
        let name = file.file_name().unwrap().to_string_lossy();
        let skip_total: u64 = report.skipped.values().sum();
        println!(
            "{name}: {} passed, {} failed, {} skipped",
            report.passed,
            report.failed.len(),
            skip_total
        );
        for failure in report.failed.iter().take(15) {
            println!("    FAIL {failure}");
        }
        passed += report.passed;
        proven += report.proven;
        evm_compared += report.evm_compared;
        evm_float_refused += report.evm_float_refused;
        failed += report.failed.len() as u64;
        for (reason, n) in report.skipped {
            *skipped.entry(reason).or_default() += n;
        }
    }
    for (reason, n) in &skipped {
        println!("skipped {n}: {reason}");
    }
    println!("spec: {passed} passed, {failed} failed");
    println!("spec proofs: {proven} steps proven and checked");
    println!(
        "spec proofs: the Solidity checker agreed on {evm_compared} of them ({evm_float_refused} float steps refused)"
    );
    assert!(proven > 100_000, "one-step proofs ran over the suite");
    assert!(evm_compared > 40_000, "the EVM checker ran over the suite");
    assert_eq!(failed, 0, "spec suite failures");
}
