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

impl FuncType {
    /// Checks the arguments of a call of function `name` against the parameters.
    pub fn check_args(&self, name: &str, args: &[Value]) -> Result<(), crate::VmError> {
        if self.params.len() != args.len() {
            return Err(crate::VmError::ArgumentCount {
                name: name.into(),
                expected: self.params.len(),
                got: args.len(),
            });
        }
        for (index, (arg, expected)) in args.iter().zip(&self.params).enumerate() {
            if arg.ty() != *expected {
                return Err(crate::VmError::ArgumentType {
                    name: name.into(),
                    index,
                    expected: *expected,
                    got: arg.ty(),
                });
            }
        }
        Ok(())
    }
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

    /// The host's commitment to its own state (what its calls read and write besides guest
    /// memory), part of the machine hash. The machine reads it at instantiation and after every
    /// host call. A host without state of its own keeps the default.
    fn commitment(&self) -> [u8; 32] {
        [0; 32]
    }

    /// What a one-step proof of a call of host function `id` on `args` needs from the host beyond
    /// the machine state (a batch chunk and its Merkle path, a preimage, ...), in the encoding
    /// the host's provable semantics ([`crate::proof::HostSemantics`]) reads. Called before the
    /// call, on the pre-state's memory.
    fn step_witness(&self, id: u32, args: &[Value], memory: &dyn GuestMemory) -> Vec<u8> {
        let _ = (id, args, memory);
        Vec::new()
    }

    /// The value of an imported global of type `ty` and mutability `mutable`. Imported globals are
    /// copied in at instantiation: this VM runs one module instance, so nothing else observes them.
    fn resolve_global(
        &mut self,
        module: &str,
        name: &str,
        ty: ValType,
        mutable: bool,
    ) -> Result<Value, String> {
        let _ = (ty, mutable);
        Err(format!("the host provides no global `{module}.{name}`"))
    }

    /// The limits of an imported memory. The VM checks them against the import's declared limits
    /// and creates a fresh, zeroed memory of that size (single-instance machine: nothing shares it).
    fn resolve_memory(&mut self, module: &str, name: &str) -> Result<ImportLimits, String> {
        Err(format!("the host provides no memory `{module}.{name}`"))
    }

    /// The limits of an imported table of element type `ty`; created fresh (all null) like memory.
    fn resolve_table(
        &mut self,
        module: &str,
        name: &str,
        ty: ValType,
    ) -> Result<ImportLimits, String> {
        let _ = ty;
        Err(format!("the host provides no table `{module}.{name}`"))
    }
}

/// Size and maximum of an imported memory (in pages) or table (in entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportLimits {
    pub min: u32,
    pub max: Option<u32>,
}

impl ImportLimits {
    /// WebAssembly's import matching: the provided limits must lie within the declared ones.
    pub fn satisfies(&self, declared_min: u32, declared_max: Option<u32>) -> bool {
        self.min >= declared_min
            && match (declared_max, self.max) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(d), Some(p)) => p <= d,
            }
    }
}

/// A host that provides no imports at all: for self-contained modules.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoImports;

impl Host for NoImports {
    fn resolve_func(&mut self, module: &str, name: &str, _ty: &FuncType) -> Result<u32, String> {
        Err(format!(
            "no host functions are available (import `{module}.{name}`)"
        ))
    }

    fn call(
        &mut self,
        _: u32,
        _: &[Value],
        _: &mut dyn GuestMemory,
        _: &mut [Value],
    ) -> Result<(), Trap> {
        Err(Trap::Host(0))
    }
}
