//! The host interface: the only way into and out of a guest besides its exports.
//!
//! Both engines (the provable interpreter and the `native` wasmtime replay engine) drive the same
//! [`Host`], so a host written once behaves identically under both. A host call is one machine step.

use crate::{Trap, ValType, Value};

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct FuncType {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

impl std::fmt::Display for FuncType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |tys: &[ValType]| tys.iter().map(|t| t.name()).collect::<Vec<_>>().join(" ");
        write!(f, "[{}] -> [{}]", list(&self.params), list(&self.results))
    }
}

/// Linear memory as a host function sees it during a call. Accesses are bounds-checked and trap
/// exactly like guest loads and stores.
pub trait GuestMemory {
    /// Current size in bytes.
    fn size(&self) -> u64;
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Trap>;
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Trap>;
}

/// The embedder's side of every import.
pub trait Host {
    /// Binds the imported function `module.name` of type `ty` at instantiation. The returned id is
    /// what [`Host::call`] receives; an error names why the import cannot be provided.
    fn resolve_func(&mut self, module: &str, name: &str, ty: &FuncType) -> Result<u32, String>;

    /// Runs host function `id` (from [`Host::resolve_func`]). `results` has the length and order of the
    /// function type's results and must be filled with values of those types.
    fn call(
        &mut self,
        id: u32,
        args: &[Value],
        memory: &mut dyn GuestMemory,
        results: &mut [Value],
    ) -> Result<(), Trap>;

    /// The value of an imported global. Imported globals are copied in at instantiation: this VM runs
    /// one module instance, so nothing else can observe or change them.
    fn resolve_global(&mut self, module: &str, name: &str, ty: ValType) -> Result<Value, String> {
        let _ = ty;
        Err(format!("the host provides no global `{module}.{name}`"))
    }

    /// Whether an imported memory or table may be provided. The VM creates it fresh at the size the
    /// import declares (single-instance machine: no other instance shares it).
    fn provides_memory_or_table(&mut self, module: &str, name: &str) -> bool {
        let _ = (module, name);
        false
    }
}

/// A host that provides no imports at all: for self-contained modules.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoImports;

impl Host for NoImports {
    fn resolve_func(&mut self, module: &str, name: &str, _ty: &FuncType) -> Result<u32, String> {
        Err(format!("no host functions are available (import `{module}.{name}`)"))
    }

    fn call(&mut self, _: u32, _: &[Value], _: &mut dyn GuestMemory, _: &mut [Value]) -> Result<(), Trap> {
        Err(Trap::Host(0))
    }
}
