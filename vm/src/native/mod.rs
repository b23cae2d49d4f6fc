//! The fast replay engine: the same module and the same [`Host`] as the interpreter, compiled by
//! wasmtime (Cranelift).
//!
//! It exists to replay long executions quickly; the interpreter stays the engine of record. So
//! everything here is set up to make the two agree bit for bit on every module the interpreter
//! accepts:
//!
//! * **Same modules.** [`NativeModule::new`] first loads the bytes with [`Module::new`] (same
//!   validation, same refusals and error messages), and wasmtime gets exactly the interpreter's
//!   feature set. One exception: `externref` needs wasmtime's `gc` feature, which this build
//!   leaves out, so modules that mention `externref` are refused here with
//!   [`VmError::UnsupportedFeature`] naming it.
//! * **Same floats.** Cranelift's NaN canonicalization is on, which produces the canonical NaN the
//!   interpreter's [`crate::semantics`] produces (`0x7fc00000` / `0x7ff8000000000000`).
//! * **Same limits.** A resource limiter caps memory at [`MAX_MEMORY_PAGES`] and tables at
//!   [`MAX_TABLE_ENTRIES`], so `memory.grow` / `table.grow` fail (return -1) where the interpreter's do.
//! * **Same traps,** mapped from wasmtime's trap codes; a [`Trap`] returned by the host comes back
//!   unchanged. Two differences are inherent and callers comparing engines must allow for them:
//!   wasmtime reports `call_indirect` past the end of a table as an out-of-bounds table access
//!   ([`Trap::TableOutOfBounds`]) where the interpreter says [`Trap::UndefinedElement`]; and fuel
//!   (one unit per wasm instruction) and native stack depth run out at other points than the
//!   interpreter's step budget and call-depth limit.
//! * **Same host view.** Host functions see the instance's memory even when the module does not
//!   export it: the bytes handed to wasmtime then carry one extra, hidden memory export.
//!
//! Function references crossing the boundary are function indices, as in the interpreter. Wasmtime
//! has no public way to ask a `Func` for its index, so indices are recovered by identity from the
//! module's function exports (and are therefore exact for every exported function); a non-null
//! reference to a function that is not exported comes back as `FuncRef(Some(u32::MAX))`.

use std::sync::{Arc, OnceLock};

use wasmtime::{
    AsContextMut, Caller, Config, Engine, Extern, ExternType, Func, Global, Instance, Memory,
    MemoryType, Ref, RefType, ResourceLimiter, Store, Table, TableType, Val, WasmFeatures,
};

use crate::host::GuestMemory;
use crate::limits::{MAX_MEMORY_PAGES, MAX_TABLE_ENTRIES};
use crate::memory::PAGE_SIZE;
use crate::module::{ExportKind, FuncKind, GlobalInit};
use crate::{supported_features, Host, Module, Trap, ValType, Value, VmError};

/// Native stack wasm may use, fixed so that stack exhaustion does not depend on wasmtime's default.
/// Well below the 2 MiB of a Rust test or worker thread, which the guest runs on.
pub const MAX_WASM_STACK: usize = 512 * 1024;

/// Name of the export added to reach a memory the module does not export (see the module docs).
/// Starts with a NUL byte so that no toolchain-produced export can collide with it.
const HIDDEN_MEMORY_EXPORT: &str = "\0hauptbuch.memory";

/// Why a native invocation did not return results.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    /// The guest trapped (or ran out of fuel: [`Trap::StepLimitReached`]).
    #[error("trap: {0}")]
    Trap(#[from] Trap),
    /// The call could not be made (no such export, wrong arguments) or wasmtime failed.
    #[error(transparent)]
    Vm(#[from] VmError),
}

/// The features wasmtime compiles with: the interpreter's, minus the GC types (externref) this
/// build of wasmtime cannot run.
fn native_features() -> WasmFeatures {
    supported_features().difference(WasmFeatures::GC_TYPES)
}

/// One engine for the whole process: compiling is what costs, and an engine is shareable.
fn engine() -> Result<&'static Engine, VmError> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut config = Config::new();
            let wanted = native_features();
            // Every feature flag is set explicitly, so wasmtime's defaults (which change between
            // releases) never widen what the replay engine accepts.
            for flag in WasmFeatures::all().iter() {
                config.wasm_features(flag, wanted.contains(flag));
            }
            config
                .cranelift_nan_canonicalization(true)
                .consume_fuel(true)
                .epoch_interruption(false)
                .max_wasm_stack(MAX_WASM_STACK)
                // Traps are classified by code; backtraces would only cost time on every trap.
                .wasm_backtrace_max_frames(None);
            Engine::new(&config).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| VmError::Native(format!("cannot configure wasmtime: {e}")))
}

/// A module validated like the interpreter's and compiled by wasmtime.
#[derive(Clone)]
pub struct NativeModule {
    module: Arc<Module>,
    compiled: wasmtime::Module,
    /// The export through which host functions reach linear memory, if the module has a memory
    /// of its own (an imported one is held directly).
    memory_export: Option<Arc<str>>,
}

impl std::fmt::Debug for NativeModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeModule")
            .field("module", &self.module)
            .finish_non_exhaustive()
    }
}

impl NativeModule {
    /// Validates `bytes` exactly as [`Module::new`] does, then compiles them with wasmtime.
    pub fn new(bytes: &[u8]) -> Result<NativeModule, VmError> {
        let module = Module::new(bytes)?;
        NativeModule::from_module(module, bytes)
    }

    /// Compiles `bytes`, already loaded as `module` (so an interpreter and the replay engine can
    /// share one [`Module`]). `bytes` must be the bytes `module` was loaded from.
    pub fn from_module(module: Arc<Module>, bytes: &[u8]) -> Result<NativeModule, VmError> {
        if let Err(e) =
            wasmparser::Validator::new_with_features(native_features()).validate_all(bytes)
        {
            return Err(VmError::UnsupportedFeature {
                feature: "externref",
                detail: format!("the native engine is built without wasmtime's `gc` support: {e}"),
            });
        }
        let defined_memory = module.memory.as_ref().is_some_and(|m| m.import.is_none());
        let exported = module
            .exports()
            .find(|(_, k)| *k == ExportKind::Memory)
            .map(|(name, _)| name);
        let (memory_export, patched) = match (defined_memory, exported) {
            (false, _) => (None, None),
            (true, Some(name)) => (Some(Arc::<str>::from(name)), None),
            (true, None) => {
                // A module could (adversarially) already use the hidden name for something else.
                let name = (0u32..)
                    .map(|n| format!("{HIDDEN_MEMORY_EXPORT}.{n}"))
                    .find(|name| module.export(name).is_none())
                    .unwrap_or_default();
                let patched = with_memory_export(bytes, &name)
                    .ok_or_else(|| VmError::InvalidModule("malformed section layout".into()))?;
                (Some(Arc::from(name)), Some(patched))
            }
        };
        let wasm = patched.as_deref().unwrap_or(bytes);
        let compiled = wasmtime::Module::new(engine()?, wasm)
            .map_err(|e| VmError::Native(format!("compilation failed: {e:#}")))?;
        Ok(NativeModule {
            module,
            compiled,
            memory_export,
        })
    }

    /// The validated module (the interpreter's view of it).
    pub fn module(&self) -> &Arc<Module> {
        &self.module
    }
}

/// What a store carries: the host, and what host calls and conversions need.
struct StoreState<H> {
    host: H,
    limits: GrowthLimits,
    /// An imported memory, or a defined one once a host call has looked it up.
    memory: Option<Memory>,
    /// `(funcref pointer, function index)` for every exported function: how a `Func` is turned back
    /// into an index.
    func_indices: Vec<(usize, u32)>,
}

/// Refuses growth the interpreter would refuse.
struct GrowthLimits;

impl ResourceLimiter for GrowthLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let cap = MAX_MEMORY_PAGES as usize * PAGE_SIZE;
        Ok(desired <= cap && maximum.is_none_or(|m| desired <= m))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ENTRIES as usize && maximum.is_none_or(|m| desired <= m))
    }
}

/// A guest memory over the bytes of a wasmtime memory, bounds-checked like the interpreter's.
struct SliceMemory<'a>(&'a mut [u8]);

impl SliceMemory<'_> {
    fn range(&self, addr: u64, len: usize) -> Result<std::ops::Range<usize>, Trap> {
        let end = addr
            .checked_add(len as u64)
            .filter(|end| *end <= self.0.len() as u64);
        match end {
            Some(end) => Ok(addr as usize..end as usize),
            None => Err(Trap::MemoryOutOfBounds),
        }
    }
}

impl GuestMemory for SliceMemory<'_> {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }

    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Trap> {
        let range = self.range(addr, buf.len())?;
        buf.copy_from_slice(&self.0[range]);
        Ok(())
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Trap> {
        let range = self.range(addr, data.len())?;
        self.0[range].copy_from_slice(data);
        Ok(())
    }
}

/// One instance of a [`NativeModule`] with its host.
pub struct NativeInstance<H: Host + 'static> {
    store: Store<StoreState<H>>,
    instance: Instance,
    module: Arc<Module>,
    memory_export: Option<Arc<str>>,
    /// `(function index, Func)` for every exported function: how an index becomes a `Func` again.
    funcs: Vec<(u32, Func)>,
    last_fuel: u64,
    total_fuel: u64,
}

impl<H: Host + 'static> NativeInstance<H> {
    /// Resolves imports through `host` (in the interpreter's order: functions, globals, memory,
    /// tables), applies segments and runs the start function within `fuel`. Traps during
    /// instantiation are [`VmError::InstantiationTrap`], as for [`crate::Machine::instantiate`].
    pub fn new(module: &NativeModule, host: H, fuel: u64) -> Result<NativeInstance<H>, VmError> {
        let state = StoreState {
            host,
            limits: GrowthLimits,
            memory: None,
            func_indices: Vec::new(),
        };
        let mut store = Store::new(module.compiled.engine(), state);
        store.limiter(|state| &mut state.limits);
        let imports = resolve_imports(&mut store, module)?;
        store.set_fuel(fuel).map_err(native)?;
        let instantiated = Instance::new(&mut store, &module.compiled, &imports);
        let used = fuel - store.get_fuel().map_err(native)?;
        let instance = instantiated.map_err(|e| match classify(e) {
            NativeError::Trap(trap) => VmError::InstantiationTrap(trap),
            NativeError::Vm(e) => e,
        })?;
        let mut funcs = Vec::new();
        for (name, kind) in module.module.exports() {
            if let (ExportKind::Func(index), Some(func)) =
                (kind, instance.get_func(&mut store, name))
            {
                let raw = func.to_raw(&mut store) as usize;
                store.data_mut().func_indices.push((raw, index));
                funcs.push((index, func));
            }
        }
        Ok(NativeInstance {
            store,
            instance,
            module: module.module.clone(),
            memory_export: module.memory_export.clone(),
            funcs,
            last_fuel: used,
            total_fuel: used,
        })
    }

    /// Calls exported function `name` with at most `fuel` units of fuel (one per wasm instruction).
    /// Running out is [`Trap::StepLimitReached`].
    pub fn invoke(
        &mut self,
        name: &str,
        args: &[Value],
        fuel: u64,
    ) -> Result<Vec<Value>, NativeError> {
        let ty = self
            .module
            .func_type_of_export(name)
            .ok_or_else(|| VmError::NoSuchExport(name.to_string()))?
            .clone();
        ty.check_args(name, args)?;
        let func = self
            .instance
            .get_func(&mut self.store, name)
            .ok_or_else(|| VmError::Native(format!("wasmtime lost the export `{name}`")))?;
        let params = args
            .iter()
            .map(|a| self.wasmtime_value(*a))
            .collect::<Result<Vec<_>, _>>()?;
        let mut results = vec![Val::I32(0); ty.results.len()];
        self.store.set_fuel(fuel).map_err(native)?;
        let outcome = func.call(&mut self.store, &params, &mut results);
        self.last_fuel = fuel - self.store.get_fuel().map_err(native)?;
        self.total_fuel += self.last_fuel;
        outcome.map_err(classify)?;
        results
            .iter()
            .zip(&ty.results)
            .map(|(v, t)| Ok(value_of(&mut self.store, v, *t)?))
            .collect()
    }

    /// The current value of exported global `name`.
    pub fn global(&mut self, name: &str) -> Option<Value> {
        let ExportKind::Global(index) = self.module.export(name)? else {
            return None;
        };
        let ty = self.module.global_type(index)?;
        let val = self
            .instance
            .get_global(&mut self.store, name)?
            .get(&mut self.store);
        value_of(&mut self.store, &val, ty).ok()
    }

    /// The whole linear memory (empty without one).
    pub fn memory_bytes(&mut self) -> &[u8] {
        match self.memory() {
            Some(memory) => memory.data(&self.store),
            None => &[],
        }
    }

    /// Reads guest memory, bounds-checked like a guest load.
    pub fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Trap> {
        let bytes = self.memory_bytes();
        let end = addr
            .checked_add(buf.len() as u64)
            .filter(|end| *end <= bytes.len() as u64);
        let Some(end) = end else {
            return Err(Trap::MemoryOutOfBounds);
        };
        buf.copy_from_slice(&bytes[addr as usize..end as usize]);
        Ok(())
    }

    /// Fuel the last invocation (or the instantiation, before any invocation) used.
    pub fn last_fuel_consumed(&self) -> u64 {
        self.last_fuel
    }

    /// Fuel used since instantiation, start function included.
    pub fn fuel_consumed(&self) -> u64 {
        self.total_fuel
    }

    pub fn host(&self) -> &H {
        &self.store.data().host
    }

    pub fn host_mut(&mut self) -> &mut H {
        &mut self.store.data_mut().host
    }

    pub fn into_host(self) -> H {
        self.store.into_data().host
    }

    fn memory(&mut self) -> Option<Memory> {
        if let Some(memory) = self.store.data().memory {
            return Some(memory);
        }
        let name = self.memory_export.clone()?;
        let memory = self.instance.get_memory(&mut self.store, &name)?;
        self.store.data_mut().memory = Some(memory);
        Some(memory)
    }

    fn wasmtime_value(&mut self, value: Value) -> Result<Val, VmError> {
        Ok(match value {
            Value::FuncRef(Some(index)) => {
                let func = self.funcs.iter().find(|(i, _)| *i == index).map(|(_, f)| *f).ok_or_else(|| {
                    VmError::Native(format!("funcref argument: function {index} is not exported, so wasmtime cannot name it"))
                })?;
                Val::FuncRef(Some(func))
            }
            other => plain_val(other)?,
        })
    }
}

/// Converts a value that needs no store lookup.
fn plain_val(value: Value) -> Result<Val, VmError> {
    Ok(match value {
        Value::I32(v) => Val::I32(v),
        Value::I64(v) => Val::I64(v),
        Value::F32(bits) => Val::F32(bits),
        Value::F64(bits) => Val::F64(bits),
        Value::FuncRef(None) => Val::FuncRef(None),
        Value::FuncRef(Some(index)) => {
            return Err(VmError::Native(format!(
                "funcref {index} cannot be passed to the native engine here"
            )))
        }
        Value::ExternRef(_) => return Err(externref_unsupported()),
    })
}

fn externref_unsupported() -> VmError {
    VmError::UnsupportedFeature {
        feature: "externref",
        detail: "the native engine is built without wasmtime's `gc` support".into(),
    }
}

/// Converts a wasmtime value of declared type `ty` back (see the module docs for funcrefs).
fn value_of<H: 'static>(
    mut store: impl AsContextMut<Data = StoreState<H>>,
    val: &Val,
    ty: ValType,
) -> Result<Value, VmError> {
    Ok(match (val, ty) {
        (Val::I32(v), _) => Value::I32(*v),
        (Val::I64(v), _) => Value::I64(*v),
        (Val::F32(bits), _) => Value::F32(*bits),
        (Val::F64(bits), _) => Value::F64(*bits),
        (Val::FuncRef(None), _) => Value::FuncRef(None),
        (Val::FuncRef(Some(func)), _) => {
            let raw = func.to_raw(&mut store) as usize;
            let context = store.as_context_mut();
            let index = context
                .data()
                .func_indices
                .iter()
                .find(|(r, _)| *r == raw)
                .map_or(u32::MAX, |(_, i)| *i);
            Value::FuncRef(Some(index))
        }
        (Val::ExternRef(None), _) => Value::ExternRef(None),
        (other, _) => {
            return Err(VmError::Native(format!(
                "unexpected wasmtime value {other:?}"
            )))
        }
    })
}

/// Builds the import list in wasmtime's order, asking the host in the interpreter's order.
fn resolve_imports<H: Host + 'static>(
    store: &mut Store<StoreState<H>>,
    module: &NativeModule,
) -> Result<Vec<Extern>, VmError> {
    let interp = &module.module;
    let unresolved = |m: &str, n: &str, reason: String| VmError::UnresolvedImport {
        module: m.to_string(),
        name: n.to_string(),
        reason,
    };
    let mut host_ids = Vec::new();
    for f in &interp.funcs {
        if let FuncKind::Host { module: m, name } = &f.kind {
            let ty = &interp.types[f.type_id as usize];
            let id = store
                .data_mut()
                .host
                .resolve_func(m, name, ty)
                .map_err(|reason| unresolved(m, name, reason))?;
            host_ids.push(id);
        }
    }
    let mut global_values = Vec::new();
    for g in &interp.globals {
        if let GlobalInit::Import { module: m, name } = &g.init {
            let host = &mut store.data_mut().host;
            let v = host
                .resolve_global(m, name, g.ty, g.mutable)
                .map_err(|reason| unresolved(m, name, reason))?;
            if v.ty() != g.ty {
                let reason = format!(
                    "expected a global of type {}, the host gave {}",
                    g.ty,
                    v.ty()
                );
                return Err(unresolved(m, name, reason));
            }
            global_values.push(v);
        }
    }
    // Imported memory and tables get the host's limits, checked as the interpreter checks them.
    let mut memory_limits = None;
    if let Some(def) = &interp.memory {
        if let Some((m, n)) = &def.import {
            let limits = store
                .data_mut()
                .host
                .resolve_memory(m, n)
                .map_err(|reason| unresolved(m, n, reason))?;
            if !limits.satisfies(def.min_pages, def.max_pages) {
                return Err(unresolved(
                    m,
                    n,
                    "incompatible import type: memory limits".into(),
                ));
            }
            if limits.min > limits.max.unwrap_or(MAX_MEMORY_PAGES).min(MAX_MEMORY_PAGES) {
                return Err(VmError::LimitExceeded(format!(
                    "memory of {} pages",
                    limits.min
                )));
            }
            memory_limits = Some(limits);
        }
    }
    let mut table_limits = Vec::new();
    for def in &interp.tables {
        if let Some((m, n)) = &def.import {
            let limits = store
                .data_mut()
                .host
                .resolve_table(m, n, def.ty)
                .map_err(|reason| unresolved(m, n, reason))?;
            if !limits.satisfies(def.min, def.max) {
                return Err(unresolved(
                    m,
                    n,
                    "incompatible import type: table limits".into(),
                ));
            }
            if limits.min > limits.max.unwrap_or(u32::MAX).min(MAX_TABLE_ENTRIES) {
                return Err(VmError::LimitExceeded(format!(
                    "table of {} entries",
                    limits.min
                )));
            }
            table_limits.push((limits, def.ty));
        }
    }

    let (mut funcs, mut globals) = (host_ids.into_iter(), global_values.into_iter());
    let mut tables = table_limits.into_iter();
    let mut externs = Vec::new();
    for import in module.compiled.imports() {
        let (m, n) = (import.module(), import.name());
        let lost = || {
            VmError::Native(format!(
                "import `{m}.{n}` has no counterpart in the validated module"
            ))
        };
        let created = match import.ty() {
            ExternType::Func(ty) => {
                let id = funcs.next().ok_or_else(lost)?;
                let params: Vec<ValType> = ty
                    .params()
                    .map(|t| val_type(&t))
                    .collect::<Result<_, _>>()?;
                let results: Vec<ValType> = ty
                    .results()
                    .map(|t| val_type(&t))
                    .collect::<Result<_, _>>()?;
                let memory_export = module.memory_export.clone();
                Func::new(&mut *store, ty, move |caller, args, out| {
                    host_call(
                        caller,
                        id,
                        &params,
                        &results,
                        memory_export.as_deref(),
                        args,
                        out,
                    )
                })
                .into()
            }
            ExternType::Global(ty) => {
                let value = globals.next().ok_or_else(lost)?;
                Global::new(&mut *store, ty, plain_val(value)?)
                    .map_err(native)?
                    .into()
            }
            ExternType::Memory(_) => {
                let limits = memory_limits.take().ok_or_else(lost)?;
                let memory = Memory::new(&mut *store, MemoryType::new(limits.min, limits.max))
                    .map_err(native)?;
                store.data_mut().memory = Some(memory);
                memory.into()
            }
            ExternType::Table(_) => {
                let (limits, ty) = tables.next().ok_or_else(lost)?;
                if ty != ValType::FuncRef {
                    return Err(externref_unsupported());
                }
                let ty = TableType::new(RefType::FUNCREF, limits.min, limits.max);
                Table::new(&mut *store, ty, Ref::Func(None))
                    .map_err(native)?
                    .into()
            }
            other => {
                return Err(VmError::Native(format!(
                    "import `{m}.{n}` of unsupported kind {other:?}"
                )))
            }
        };
        externs.push(created);
    }
    Ok(externs)
}

/// A guest's call of host function `id`: converts values and hands the host the instance's memory.
fn host_call<H: Host + 'static>(
    mut caller: Caller<'_, StoreState<H>>,
    id: u32,
    params: &[ValType],
    result_types: &[ValType],
    memory_export: Option<&str>,
    args: &[Val],
    out: &mut [Val],
) -> wasmtime::Result<()> {
    let args = args
        .iter()
        .zip(params)
        .map(|(v, t)| value_of(&mut caller, v, *t))
        .collect::<Result<Vec<_>, _>>()?;
    let mut results: Vec<Value> = result_types
        .iter()
        .map(|t| Value::default_for(*t))
        .collect();
    let memory = match (caller.data().memory, memory_export) {
        (Some(memory), _) => Some(memory),
        (None, Some(name)) => {
            let memory = caller.get_export(name).and_then(Extern::into_memory);
            caller.data_mut().memory = memory;
            memory
        }
        (None, None) => None,
    };
    let outcome = match memory {
        Some(memory) => {
            let (bytes, state) = memory.data_and_store_mut(&mut caller);
            state
                .host
                .call(id, &args, &mut SliceMemory(bytes), &mut results)
        }
        None => caller
            .data_mut()
            .host
            .call(id, &args, &mut SliceMemory(&mut []), &mut results),
    };
    // Carried through wasmtime unchanged and recovered by `classify`.
    outcome.map_err(wasmtime::Error::new)?;
    for ((slot, value), ty) in out.iter_mut().zip(results).zip(result_types) {
        // As in the interpreter, the declared type decides how the host's value is read.
        *slot = match Value::from_word(*ty, value.to_word()) {
            Value::FuncRef(Some(index)) => {
                let func = func_by_index(&mut caller, index).ok_or_else(|| {
                    VmError::Native(format!(
                        "host result: function {index} is not exported, so wasmtime cannot name it"
                    ))
                })?;
                Val::FuncRef(Some(func))
            }
            other => plain_val(other)?,
        };
    }
    Ok(())
}

/// An exported function by index, from inside a host call.
fn func_by_index<H: 'static>(caller: &mut Caller<'_, StoreState<H>>, index: u32) -> Option<Func> {
    let raw = caller
        .data()
        .func_indices
        .iter()
        .find(|(_, i)| *i == index)?
        .0;
    // SAFETY: `raw` was taken from a `Func` of this very store (see `NativeInstance::new`), and the
    // store keeps its instance, hence the funcref, alive.
    unsafe { Func::from_raw(caller, raw as *mut std::ffi::c_void) }
}

fn val_type(ty: &wasmtime::ValType) -> Result<ValType, VmError> {
    use wasmtime::ValType as W;
    Ok(match ty {
        W::I32 => ValType::I32,
        W::I64 => ValType::I64,
        W::F32 => ValType::F32,
        W::F64 => ValType::F64,
        W::Ref(r) if r.heap_type().is_func() => ValType::FuncRef,
        W::Ref(r) if r.heap_type().is_extern() => ValType::ExternRef,
        other => {
            return Err(VmError::Native(format!(
                "value type {other} is not supported"
            )))
        }
    })
}

fn native(e: wasmtime::Error) -> VmError {
    VmError::Native(format!("{e:#}"))
}

/// Sorts a wasmtime error into a guest trap (the host's own, or a mapped wasmtime code) or an
/// engine error.
fn classify(e: wasmtime::Error) -> NativeError {
    if let Some(trap) = e.downcast_ref::<Trap>() {
        return NativeError::Trap(*trap);
    }
    use wasmtime::Trap as W;
    let trap = match e.downcast_ref::<W>() {
        Some(W::UnreachableCodeReached) => Trap::Unreachable,
        Some(W::IntegerDivisionByZero) => Trap::IntegerDivideByZero,
        Some(W::IntegerOverflow) => Trap::IntegerOverflow,
        Some(W::BadConversionToInteger) => Trap::InvalidConversionToInteger,
        Some(W::MemoryOutOfBounds) => Trap::MemoryOutOfBounds,
        Some(W::TableOutOfBounds) => Trap::TableOutOfBounds,
        Some(W::IndirectCallToNull) => Trap::UninitializedElement,
        Some(W::BadSignature) => Trap::IndirectCallTypeMismatch,
        Some(W::StackOverflow) => Trap::CallStackExhausted,
        Some(W::OutOfFuel) => Trap::StepLimitReached,
        _ => return NativeError::Vm(native(e)),
    };
    NativeError::Trap(trap)
}

/// `bytes` with one more export: memory 0 under `name`. `None` if the section layout is malformed
/// (impossible for bytes that passed validation).
fn with_memory_export(bytes: &[u8], name: &str) -> Option<Vec<u8>> {
    const EXPORT: u8 = 7;
    // Sections that must come after the export section: start, element, data count, code, data.
    const AFTER_EXPORT: [u8; 5] = [8, 9, 12, 10, 11];
    let mut entry = Vec::new();
    write_leb(&mut entry, name.len() as u32);
    entry.extend_from_slice(name.as_bytes());
    entry.extend_from_slice(&[0x02, 0x00]); // memory 0

    let mut out = bytes.get(..8)?.to_vec();
    let mut at = 8;
    let mut inserted = false;
    while at < bytes.len() {
        let id = bytes[at];
        let (size, leb_len) = read_leb(bytes.get(at + 1..)?)?;
        let start = at + 1 + leb_len;
        let content = bytes.get(start..start.checked_add(size as usize)?)?;
        if !inserted && id == EXPORT {
            let (count, count_len) = read_leb(content)?;
            let mut section = Vec::new();
            write_leb(&mut section, count.checked_add(1)?);
            section.extend_from_slice(&content[count_len..]);
            section.extend_from_slice(&entry);
            push_section(&mut out, EXPORT, &section);
            inserted = true;
        } else {
            if !inserted && AFTER_EXPORT.contains(&id) {
                let mut section = vec![1];
                section.extend_from_slice(&entry);
                push_section(&mut out, EXPORT, &section);
                inserted = true;
            }
            out.extend_from_slice(&bytes[at..start + content.len()]);
        }
        at = start + content.len();
    }
    if !inserted {
        let mut section = vec![1];
        section.extend_from_slice(&entry);
        push_section(&mut out, EXPORT, &section);
    }
    Some(out)
}

fn push_section(out: &mut Vec<u8>, id: u8, content: &[u8]) {
    out.push(id);
    write_leb(out, content.len() as u32);
    out.extend_from_slice(content);
}

fn write_leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// An unsigned LEB128 `u32` and its length in bytes.
fn read_leb(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value: u32 = 0;
    for (i, byte) in bytes.iter().take(5).enumerate() {
        value |= u32::from(byte & 0x7f).checked_shl(7 * i as u32)?;
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FuncType, ImportLimits, Machine, RunOutcome};

    const FUEL: u64 = 1_000_000;

    /// `env.write(addr, byte)`: stores `byte` at `addr` and returns how many calls it has seen.
    /// `env.fail(code)`: traps with `Trap::Host(code)`.
    #[derive(Default)]
    struct TestHost {
        calls: i32,
    }

    impl Host for TestHost {
        fn resolve_func(
            &mut self,
            module: &str,
            name: &str,
            _ty: &FuncType,
        ) -> Result<u32, String> {
            match (module, name) {
                ("env", "write") => Ok(1),
                ("env", "fail") => Ok(2),
                _ => Err(format!("no `{module}.{name}`")),
            }
        }

        fn call(
            &mut self,
            id: u32,
            args: &[Value],
            memory: &mut dyn GuestMemory,
            results: &mut [Value],
        ) -> Result<(), Trap> {
            self.calls += 1;
            match (id, args) {
                (1, [Value::I32(addr), Value::I32(byte)]) => {
                    memory.write(*addr as u32 as u64, &[*byte as u8])?;
                    results[0] = Value::I32(self.calls);
                    Ok(())
                }
                (2, [Value::I32(code)]) => Err(Trap::Host(*code as u32)),
                _ => Err(Trap::Host(0)),
            }
        }

        fn resolve_global(
            &mut self,
            module: &str,
            name: &str,
            ty: ValType,
            _mutable: bool,
        ) -> Result<Value, String> {
            match (module, name, ty) {
                ("env", "base", ValType::I32) => Ok(Value::I32(100)),
                _ => Err(format!("no global `{module}.{name}`")),
            }
        }

        fn resolve_memory(&mut self, module: &str, name: &str) -> Result<ImportLimits, String> {
            match (module, name) {
                ("env", "memory") => Ok(ImportLimits {
                    min: 1,
                    max: Some(2),
                }),
                _ => Err(format!("no memory `{module}.{name}`")),
            }
        }

        fn resolve_table(
            &mut self,
            module: &str,
            name: &str,
            _ty: ValType,
        ) -> Result<ImportLimits, String> {
            match (module, name) {
                // More than the import asks for: the provided size is what the guest sees.
                ("env", "table") => Ok(ImportLimits { min: 4, max: None }),
                _ => Err(format!("no table `{module}.{name}`")),
            }
        }
    }

    fn native(wat: &str) -> NativeInstance<TestHost> {
        let bytes = wat::parse_str(wat).expect("test module parses");
        let module = NativeModule::new(&bytes).expect("test module loads");
        NativeInstance::new(&module, TestHost::default(), FUEL).expect("test module instantiates")
    }

    fn interpreter(wat: &str) -> (Machine, TestHost) {
        let bytes = wat::parse_str(wat).expect("test module parses");
        let module = Module::new(&bytes).expect("test module loads");
        let mut host = TestHost::default();
        let machine =
            Machine::instantiate(module, &mut host, FUEL).expect("test module instantiates");
        (machine, host)
    }

    fn interpret(
        machine: &mut Machine,
        host: &mut TestHost,
        name: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, Trap> {
        machine.invoke(name, args).expect("invocation starts");
        match machine.run(host, FUEL) {
            RunOutcome::Finished(values) => Ok(values),
            RunOutcome::Trapped(trap) => Err(trap),
            other => panic!("unexpected outcome {other:?}"),
        }
    }

    const HOST_WRITE: &str = r#"(module
        (import "env" "write" (func $write (param i32 i32) (result i32)))
        (memory 1)
        (func (export "go") (param i32) (result i32 i32)
            (call $write (local.get 0) (i32.const 0xab))
            (i32.load8_u (local.get 0))))"#;

    #[test]
    fn host_call_writes_memory() {
        for wat in [
            HOST_WRITE.to_string(),
            HOST_WRITE.replace("(memory 1)", "(memory (export \"mem\") 1)"),
        ] {
            let mut instance = native(&wat);
            assert_eq!(
                instance.invoke("go", &[Value::I32(17)], FUEL).unwrap(),
                [Value::I32(1), Value::I32(0xab)]
            );
            assert_eq!(instance.memory_bytes()[17], 0xab);
            let mut byte = [0u8];
            instance.read_memory(17, &mut byte).unwrap();
            assert_eq!(byte, [0xab]);
            assert_eq!(
                instance.read_memory(65536, &mut byte),
                Err(Trap::MemoryOutOfBounds)
            );
            // A host write out of bounds traps like a guest store.
            let err = instance
                .invoke("go", &[Value::I32(65536)], FUEL)
                .unwrap_err();
            assert!(
                matches!(err, NativeError::Trap(Trap::MemoryOutOfBounds)),
                "{err:?}"
            );
            assert_eq!(instance.host().calls, 2);
            assert!(instance.fuel_consumed() > 0);

            let (mut machine, mut host) = interpreter(&wat);
            assert_eq!(
                interpret(&mut machine, &mut host, "go", &[Value::I32(17)]),
                Ok(vec![Value::I32(1), Value::I32(0xab)])
            );
        }
    }

    #[test]
    fn memory_export_patch_keeps_sections_in_order() {
        let wat = r#"(module (memory 1) (func (export "f")) (start 0) (data (i32.const 0) "x"))"#;
        let bytes = wat::parse_str(wat).unwrap();
        let patched = with_memory_export(&bytes, HIDDEN_MEMORY_EXPORT).unwrap();
        wasmparser::Validator::new()
            .validate_all(&patched)
            .expect("patched module is valid");
        let without_exports = wat::parse_str("(module (memory 1))").unwrap();
        let patched = with_memory_export(&without_exports, "m").unwrap();
        wasmparser::Validator::new()
            .validate_all(&patched)
            .expect("patched module is valid");
    }

    #[test]
    fn imported_global_memory_and_table() {
        let wat = r#"(module
            (import "env" "base" (global $base i32))
            (import "env" "memory" (memory 1 2))
            (import "env" "table" (table 3 funcref))
            (import "env" "write" (func $write (param i32 i32) (result i32)))
            (func (export "go") (result i32 i32 i32)
                (drop (call $write (global.get $base) (i32.const 7)))
                (i32.load8_u (global.get $base))
                (memory.grow (i32.const 1))
                (table.size)))"#;
        let expected = [Value::I32(7), Value::I32(1), Value::I32(4)];
        let mut instance = native(wat);
        assert_eq!(instance.invoke("go", &[], FUEL).unwrap(), expected);
        assert_eq!(instance.memory_bytes().len(), 2 * PAGE_SIZE);
        let (mut machine, mut host) = interpreter(wat);
        assert_eq!(
            interpret(&mut machine, &mut host, "go", &[]).unwrap(),
            expected
        );
    }

    #[test]
    fn nan_results_are_canonical_on_both_engines() {
        let wat = r#"(module
            (func (export "div32") (param f32 f32) (result f32) (f32.div (local.get 0) (local.get 1)))
            (func (export "sqrt64") (param f64) (result f64) (f64.sqrt (local.get 0)))
            (func (export "neg32") (param f32) (result f32) (f32.neg (local.get 0))))"#;
        let cases = [
            (
                "div32",
                vec![Value::F32(0), Value::F32(0)],
                Value::F32(0x7fc0_0000),
            ),
            // A NaN operand with a payload still gives the canonical NaN.
            (
                "div32",
                vec![Value::F32(0xffc0_1234), Value::F32(1f32.to_bits())],
                Value::F32(0x7fc0_0000),
            ),
            (
                "sqrt64",
                vec![Value::F64((-1f64).to_bits())],
                Value::F64(0x7ff8_0000_0000_0000),
            ),
            // `neg` is a bit operation: payloads pass through.
            (
                "neg32",
                vec![Value::F32(0x7fc0_1234)],
                Value::F32(0xffc0_1234),
            ),
        ];
        let mut instance = native(wat);
        let (mut machine, mut host) = interpreter(wat);
        for (name, args, expected) in cases {
            assert_eq!(
                instance.invoke(name, &args, FUEL).unwrap(),
                [expected],
                "native {name}"
            );
            assert_eq!(
                interpret(&mut machine, &mut host, name, &args).unwrap(),
                [expected],
                "interpreter {name}"
            );
        }
    }

    #[test]
    fn traps_map_to_the_interpreters() {
        let wat = r#"(module
            (import "env" "fail" (func $fail (param i32)))
            (table 2 funcref)
            (elem (i32.const 0) $nop)
            (func $nop)
            (func (export "unreachable") unreachable)
            (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
            (func (export "overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
            (func (export "convert") (result i32) (i32.trunc_f32_s (f32.const nan)))
            (func (export "null") (call_indirect (i32.const 1)))
            (func (export "signature") (result i32) (call_indirect (result i32) (i32.const 0)))
            (func $recurse (export "recurse") (call $recurse))
            (func (export "host") (call $fail (i32.const 7))))"#;
        let cases = [
            ("unreachable", vec![], Trap::Unreachable),
            ("div", vec![Value::I32(0)], Trap::IntegerDivideByZero),
            ("overflow", vec![], Trap::IntegerOverflow),
            ("convert", vec![], Trap::InvalidConversionToInteger),
            ("null", vec![], Trap::UninitializedElement),
            ("signature", vec![], Trap::IndirectCallTypeMismatch),
            ("recurse", vec![], Trap::CallStackExhausted),
            ("host", vec![], Trap::Host(7)),
        ];
        let mut instance = native(wat);
        for (name, args, trap) in cases {
            match instance.invoke(name, &args, u64::MAX) {
                Err(NativeError::Trap(t)) => assert_eq!(t, trap, "{name}"),
                other => panic!("{name}: expected {trap}, got {other:?}"),
            }
        }
        // The instance stays usable after a trap.
        assert_eq!(
            instance.invoke("div", &[Value::I32(1)], FUEL).unwrap(),
            [Value::I32(1)]
        );
        assert!(matches!(
            instance.invoke("nope", &[], FUEL),
            Err(NativeError::Vm(VmError::NoSuchExport(_)))
        ));
        assert!(matches!(
            instance.invoke("div", &[], FUEL),
            Err(NativeError::Vm(VmError::ArgumentCount { .. }))
        ));
    }

    #[test]
    fn fuel_runs_out() {
        let wat = r#"(module (func (export "spin") (loop (br 0))) (func (export "one") (result i32) (i32.const 1)))"#;
        let mut instance = native(wat);
        assert!(matches!(
            instance.invoke("spin", &[], 10_000),
            Err(NativeError::Trap(Trap::StepLimitReached))
        ));
        assert_eq!(instance.last_fuel_consumed(), 10_000);
        assert_eq!(instance.invoke("one", &[], 10).unwrap(), [Value::I32(1)]);
        assert!(instance.last_fuel_consumed() <= 10);
        // A start function that never ends is an instantiation trap, as in the interpreter.
        let bytes = wat::parse_str(r#"(module (func (loop (br 0))) (start 0))"#).unwrap();
        let module = NativeModule::new(&bytes).unwrap();
        match NativeInstance::new(&module, TestHost::default(), 1000) {
            Err(VmError::InstantiationTrap(Trap::StepLimitReached)) => {}
            other => panic!(
                "expected a step-limit instantiation trap, got {:?}",
                other.err()
            ),
        }
    }

    #[test]
    fn funcrefs_come_back_as_indices() {
        let wat = r#"(module
            (func $hidden)
            (func $shown (export "shown"))
            (elem declare func $hidden)
            (func (export "get_shown") (result funcref) (ref.func $shown))
            (func (export "get_hidden") (result funcref) (ref.func $hidden))
            (func (export "null") (result funcref) (ref.null func))
            (func (export "id") (param funcref) (result funcref) (local.get 0)))"#;
        let mut instance = native(wat);
        assert_eq!(
            instance.invoke("get_shown", &[], FUEL).unwrap(),
            [Value::FuncRef(Some(1))]
        );
        assert_eq!(
            instance.invoke("get_hidden", &[], FUEL).unwrap(),
            [Value::FuncRef(Some(u32::MAX))]
        );
        assert_eq!(
            instance.invoke("null", &[], FUEL).unwrap(),
            [Value::FuncRef(None)]
        );
        assert_eq!(
            instance
                .invoke("id", &[Value::FuncRef(Some(1))], FUEL)
                .unwrap(),
            [Value::FuncRef(Some(1))]
        );
    }

    #[test]
    fn refusals_match_the_interpreter() {
        let simd =
            wat::parse_str(r#"(module (func (result v128) (v128.const i64x2 0 0)))"#).unwrap();
        assert!(matches!(
            NativeModule::new(&simd),
            Err(VmError::UnsupportedFeature {
                feature: "simd",
                ..
            })
        ));
        let externref = wat::parse_str(r#"(module (func (param externref)))"#).unwrap();
        assert!(Module::new(&externref).is_ok());
        assert!(matches!(
            NativeModule::new(&externref),
            Err(VmError::UnsupportedFeature {
                feature: "externref",
                ..
            })
        ));
        let bytes = wat::parse_str(r#"(module (import "env" "missing" (func)))"#).unwrap();
        let module = NativeModule::new(&bytes).unwrap();
        assert!(matches!(
            NativeInstance::new(&module, TestHost::default(), FUEL),
            Err(VmError::UnresolvedImport { .. })
        ));
    }

    #[test]
    fn exported_globals_read_back() {
        let wat = r#"(module
            (global $g (export "g") (mut i64) (i64.const -3))
            (global (export "f") f64 (f64.const 0.5))
            (func (export "bump") (global.set $g (i64.add (global.get $g) (i64.const 1)))))"#;
        let mut instance = native(wat);
        instance.invoke("bump", &[], FUEL).unwrap();
        assert_eq!(instance.global("g"), Some(Value::I64(-2)));
        assert_eq!(instance.global("f"), Some(Value::F64(0.5f64.to_bits())));
        assert_eq!(instance.global("bump"), None);
    }
}
