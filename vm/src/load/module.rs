//! Loading: parse and validate a module with wasmparser for the supported feature set, refuse
//! everything else with an error that names the feature, and lower every function body
//! ([`crate::translate`]). A [`Module`] is immutable and shared by all machines that run it.

use std::sync::Arc;

use wasmparser::{
    CompositeInnerType, DataKind, ElementItems, ElementKind, ExternalKind, Operator, Parser,
    Payload, TableInit, TypeRef, ValidPayload, Validator, WasmFeatures,
};

use crate::code::{BranchTarget, Op, Pc};
use crate::commitment::ModuleCommitment;
use crate::host::FuncType;
use crate::translate::translate_function;
use crate::{ValType, Value, VmError};

/// WebAssembly 2.0 without SIMD: what rustc emits for `wasm32-unknown-unknown`.
pub fn supported_features() -> WasmFeatures {
    WasmFeatures::WASM2.difference(WasmFeatures::SIMD)
}

/// Features a module could use that this VM refuses, with the name an error reports.
const REFUSED_FEATURES: &[(WasmFeatures, &str)] = &[
    (WasmFeatures::SIMD, "simd"),
    (WasmFeatures::RELAXED_SIMD, "relaxed-simd"),
    (WasmFeatures::THREADS, "threads"),
    (
        WasmFeatures::SHARED_EVERYTHING_THREADS,
        "shared-everything-threads",
    ),
    (WasmFeatures::TAIL_CALL, "tail-call"),
    (WasmFeatures::MULTI_MEMORY, "multi-memory"),
    (WasmFeatures::EXCEPTIONS, "exceptions"),
    (WasmFeatures::LEGACY_EXCEPTIONS, "legacy-exceptions"),
    (WasmFeatures::MEMORY64, "memory64"),
    (WasmFeatures::EXTENDED_CONST, "extended-const"),
    (WasmFeatures::FUNCTION_REFERENCES, "function-references"),
    (WasmFeatures::GC, "gc"),
    (WasmFeatures::CUSTOM_PAGE_SIZES, "custom-page-sizes"),
    (WasmFeatures::MEMORY_CONTROL, "memory-control"),
    (WasmFeatures::STACK_SWITCHING, "stack-switching"),
    (WasmFeatures::WIDE_ARITHMETIC, "wide-arithmetic"),
    (WasmFeatures::COMPONENT_MODEL, "component-model"),
];

/// A constant expression (WebAssembly 2.0: one instruction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConstExpr {
    Word(u64),
    GlobalGet(u32),
}

#[derive(Clone, Debug)]
pub(crate) enum FuncKind {
    /// An imported (host) function: index into the module's imports.
    Host {
        module: String,
        name: String,
    },
    Defined {
        entry: Pc,
        max_height: u32,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Function {
    /// Canonical type id: equal signatures have equal ids, so `call_indirect` compares integers.
    pub type_id: u32,
    pub kind: FuncKind,
}

/// What a call needs about its callee, flattened for the interpreter's hot path.
#[derive(Clone, Copy, Debug)]
pub struct CallTarget {
    pub entry: Pc,
    pub params: u32,
    pub results: u32,
    pub max_height: u32,
    pub type_id: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct GlobalDef {
    pub ty: ValType,
    pub mutable: bool,
    pub init: GlobalInit,
}

#[derive(Clone, Debug)]
pub(crate) enum GlobalInit {
    Expr(ConstExpr),
    Import { module: String, name: String },
}

#[derive(Clone, Debug)]
pub(crate) struct MemoryDef {
    pub min_pages: u32,
    pub max_pages: Option<u32>,
    pub import: Option<(String, String)>,
}

#[derive(Clone, Debug)]
pub(crate) struct TableDef {
    pub ty: ValType,
    pub min: u32,
    pub max: Option<u32>,
    pub init: ConstExpr,
    pub import: Option<(String, String)>,
}

#[derive(Clone, Debug)]
pub(crate) struct DataSegment {
    pub bytes: Arc<[u8]>,
    pub active_offset: Option<ConstExpr>,
}

#[derive(Clone, Debug)]
pub(crate) enum ElemMode {
    Passive,
    Active {
        table: u32,
        offset: ConstExpr,
    },
    /// Declarative segments only declare `ref.func` targets; they behave as already dropped.
    Declared,
}

#[derive(Clone, Debug)]
pub(crate) struct ElemSegment {
    pub items: Vec<ConstExpr>,
    pub mode: ElemMode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    Func(u32),
    Table(u32),
    Memory,
    Global(u32),
}

/// A validated, lowered module.
#[derive(Debug)]
pub struct Module {
    pub(crate) types: Vec<FuncType>,
    pub(crate) funcs: Vec<Function>,
    pub(crate) call_targets: Vec<CallTarget>,
    pub(crate) code: Vec<Op>,
    pub(crate) br_table: Vec<BranchTarget>,
    pub(crate) globals: Vec<GlobalDef>,
    pub(crate) memory: Option<MemoryDef>,
    pub(crate) tables: Vec<TableDef>,
    pub(crate) data: Vec<DataSegment>,
    pub(crate) elems: Vec<ElemSegment>,
    pub(crate) exports: Vec<(String, ExportKind)>,
    pub(crate) start: Option<u32>,
    /// Execution cache, not committed: per pc, the length of its straight-line run
    /// ([`crate::machine::run::run_lengths`]).
    pub(crate) run_lengths: Vec<u32>,
    /// The threaded interpreter's handler per op ([`crate::machine::threaded`]), an execution
    /// cache like `run_lengths`; `None` in unoptimized builds, which run the plain loop.
    pub(crate) handlers: Option<Vec<crate::machine::threaded::Handler>>,
    /// The Merkle commitment to the lowered module ([`crate::commitment`]); its hash is what the
    /// machine hash commits to as "the code".
    pub(crate) commitment: ModuleCommitment,
}

impl Module {
    /// Parses, validates and lowers `bytes` (binary WebAssembly).
    pub fn new(bytes: &[u8]) -> Result<Arc<Module>, VmError> {
        if let Err(e) = Validator::new_with_features(supported_features()).validate_all(bytes) {
            return Err(classify_validation_error(bytes, e));
        }
        ModuleBuilder::default().build(bytes).map(Arc::new)
    }

    /// Parses WebAssembly text or binary.
    pub fn from_text_or_binary(bytes: &[u8]) -> Result<Arc<Module>, VmError> {
        let binary = wat::parse_bytes(bytes).map_err(|e| VmError::InvalidModule(e.to_string()))?;
        Module::new(&binary)
    }

    /// The module hash ([`crate::commitment`]).
    pub fn hash(&self) -> [u8; 32] {
        self.commitment.hash()
    }

    /// The module's trees, for proofs against [`Module::hash`].
    pub fn commitment(&self) -> &ModuleCommitment {
        &self.commitment
    }

    /// The code leaf holding op `pc` (two ops per leaf) and its sibling path, bottom first.
    pub fn code_proof(&self, pc: u32) -> Option<([u8; 32], Vec<[u8; 32]>)> {
        self.commitment.code_proof(pc)
    }

    /// The call-target leaf of function `func` and its sibling path, bottom first.
    pub fn call_target_proof(&self, func: u32) -> Option<([u8; 32], Vec<[u8; 32]>)> {
        self.commitment.call_target_proof(func)
    }

    pub fn export(&self, name: &str) -> Option<ExportKind> {
        self.exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, k)| *k)
    }

    pub fn exports(&self) -> impl Iterator<Item = (&str, ExportKind)> {
        self.exports.iter().map(|(n, k)| (n.as_str(), *k))
    }

    /// The type of exported function `name`.
    /// The (module, name) function `func` is imported as, if it is an import.
    pub fn import_of(&self, func: u32) -> Option<(&str, &str)> {
        match &self.funcs.get(func as usize)?.kind {
            FuncKind::Host { module, name } => Some((module, name)),
            FuncKind::Defined { .. } => None,
        }
    }

    pub fn func_type_of_export(&self, name: &str) -> Option<&FuncType> {
        match self.export(name)? {
            ExportKind::Func(f) => Some(self.func_type(f)),
            _ => None,
        }
    }

    pub(crate) fn func_type(&self, func: u32) -> &FuncType {
        &self.types[self.funcs[func as usize].type_id as usize]
    }

    pub fn global_type(&self, index: u32) -> Option<ValType> {
        self.globals.get(index as usize).map(|g| g.ty)
    }

    pub fn global_is_mutable(&self, index: u32) -> Option<bool> {
        self.globals.get(index as usize).map(|g| g.mutable)
    }

    /// Element type of table `index`.
    pub fn table_type(&self, index: u32) -> Option<ValType> {
        self.tables.get(index as usize).map(|t| t.ty)
    }

    /// Number of lowered operations (the size of the code the machine steps through).
    pub fn code_len(&self) -> usize {
        self.code.len()
    }
}

/// Turns a validation failure into "unsupported feature X" when the module is valid under a wider
/// feature set, so users learn *why* a module is refused.
fn classify_validation_error(bytes: &[u8], err: wasmparser::BinaryReaderError) -> VmError {
    let everything = REFUSED_FEATURES
        .iter()
        .fold(supported_features(), |acc, (f, _)| acc | *f);
    if Validator::new_with_features(everything)
        .validate_all(bytes)
        .is_ok()
    {
        for (feature, name) in REFUSED_FEATURES {
            let with_one = supported_features() | *feature;
            if Validator::new_with_features(with_one)
                .validate_all(bytes)
                .is_ok()
            {
                return VmError::UnsupportedFeature {
                    feature: name,
                    detail: err.to_string(),
                };
            }
        }
        return VmError::UnsupportedFeature {
            feature: "several proposals",
            detail: err.to_string(),
        };
    }
    VmError::InvalidModule(err.to_string())
}

fn val_type(ty: wasmparser::ValType) -> Result<ValType, VmError> {
    use wasmparser::ValType as W;
    Ok(match ty {
        W::I32 => ValType::I32,
        W::I64 => ValType::I64,
        W::F32 => ValType::F32,
        W::F64 => ValType::F64,
        W::Ref(r) if r.is_func_ref() => ValType::FuncRef,
        W::Ref(r) if r.is_extern_ref() => ValType::ExternRef,
        other => {
            return Err(VmError::UnsupportedFeature {
                feature: "reference type",
                detail: format!("value type {other:?} is not supported"),
            })
        }
    })
}

fn ref_type(ty: wasmparser::RefType) -> Result<ValType, VmError> {
    val_type(wasmparser::ValType::Ref(ty))
}

fn invalid(e: impl std::fmt::Display) -> VmError {
    VmError::InvalidModule(e.to_string())
}

fn limit_u32(value: u64, what: &str) -> Result<u32, VmError> {
    u32::try_from(value)
        .map_err(|_| VmError::LimitExceeded(format!("{what} {value} does not fit in 32 bits")))
}

/// Reads a WebAssembly 2.0 constant expression.
pub(crate) fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, VmError> {
    let mut ops = expr.get_operators_reader();
    let value = match ops.read().map_err(invalid)? {
        Operator::I32Const { value } => ConstExpr::Word(value as u32 as u64),
        Operator::I64Const { value } => ConstExpr::Word(value as u64),
        Operator::F32Const { value } => ConstExpr::Word(value.bits() as u64),
        Operator::F64Const { value } => ConstExpr::Word(value.bits()),
        Operator::RefNull { .. } => ConstExpr::Word(Value::FuncRef(None).to_word()),
        Operator::RefFunc { function_index } => {
            ConstExpr::Word(Value::FuncRef(Some(function_index)).to_word())
        }
        Operator::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
        other => {
            return Err(VmError::UnsupportedFeature {
                feature: "extended-const",
                detail: format!("constant expression {other:?}"),
            })
        }
    };
    match ops.read().map_err(invalid)? {
        Operator::End => Ok(value),
        other => Err(VmError::UnsupportedFeature {
            feature: "extended-const",
            detail: format!("constant expression continues with {other:?}"),
        }),
    }
}

#[derive(Default)]
struct ModuleBuilder {
    /// Module type index -> canonical type id.
    type_ids: Vec<u32>,
    types: Vec<FuncType>,
    funcs: Vec<Function>,
    num_imported_funcs: u32,
    /// Type ids of defined functions, in order, waiting for their bodies.
    defined_types: Vec<u32>,
    next_body: usize,
    code: Vec<Op>,
    br_table: Vec<BranchTarget>,
    globals: Vec<GlobalDef>,
    memory: Option<MemoryDef>,
    tables: Vec<TableDef>,
    data: Vec<DataSegment>,
    elems: Vec<ElemSegment>,
    exports: Vec<(String, ExportKind)>,
    start: Option<u32>,
}

impl ModuleBuilder {
    fn canonical_type(&mut self, ty: FuncType) -> u32 {
        if let Some(pos) = self.types.iter().position(|t| *t == ty) {
            return pos as u32;
        }
        self.types.push(ty);
        (self.types.len() - 1) as u32
    }

    fn type_id(&self, type_index: u32) -> Result<u32, VmError> {
        self.type_ids
            .get(type_index as usize)
            .copied()
            .ok_or_else(|| invalid("type index out of range"))
    }

    fn build(mut self, bytes: &[u8]) -> Result<Module, VmError> {
        let mut validator = Validator::new_with_features(supported_features());
        let mut allocs = wasmparser::FuncValidatorAllocations::default();
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload.map_err(invalid)?;
            if let ValidPayload::Func(to_validate, body) =
                validator.payload(&payload).map_err(invalid)?
            {
                let mut func_validator = to_validate.into_validator(std::mem::take(&mut allocs));
                let func_index = self.num_imported_funcs + self.next_body as u32;
                let type_id = *self
                    .defined_types
                    .get(self.next_body)
                    .ok_or_else(|| invalid("body without function"))?;
                let results = self.types[type_id as usize].results.len() as u32;
                let params = self.types[type_id as usize].params.len() as u32;
                let lowered = translate_function(
                    &mut func_validator,
                    &body,
                    params,
                    results,
                    &mut self.code,
                    &mut self.br_table,
                    self.num_imported_funcs,
                    &self.type_ids,
                )?;
                self.funcs[func_index as usize].kind = FuncKind::Defined {
                    entry: lowered.entry,
                    max_height: lowered.max_height,
                };
                self.next_body += 1;
                allocs = func_validator.into_allocations();
                continue;
            }
            self.section(payload)?;
        }
        // Trampolines let an imported function be invoked or exported like a defined one.
        let mut trampolines = Vec::with_capacity(self.num_imported_funcs as usize);
        for func in 0..self.num_imported_funcs {
            let results = self.types[self.funcs[func as usize].type_id as usize]
                .results
                .len() as u32;
            trampolines.push(
                u32::try_from(self.code.len())
                    .map_err(|_| VmError::LimitExceeded("code size".into()))?,
            );
            self.code.push(Op::CallHost { func });
            self.code.push(Op::Return { results });
        }
        let call_targets = self
            .funcs
            .iter()
            .enumerate()
            .map(|(index, f)| {
                let ty = &self.types[f.type_id as usize];
                let (entry, max_height) = match f.kind {
                    FuncKind::Host { .. } => (
                        trampolines[index],
                        ty.params.len().max(ty.results.len()) as u32 + 1,
                    ),
                    FuncKind::Defined { entry, max_height } => (entry, max_height),
                };
                CallTarget {
                    entry,
                    params: ty.params.len() as u32,
                    results: ty.results.len() as u32,
                    max_height,
                    type_id: f.type_id,
                }
            })
            .collect();
        let run_lengths = crate::machine::run::run_lengths(&self.code);
        let mut module = Module {
            call_targets,
            types: self.types,
            funcs: self.funcs,
            code: self.code,
            br_table: self.br_table,
            globals: self.globals,
            memory: self.memory,
            tables: self.tables,
            data: self.data,
            elems: self.elems,
            exports: self.exports,
            start: self.start,
            run_lengths,
            handlers: None,
            commitment: ModuleCommitment::default(),
        };
        if cfg!(vm_threaded) {
            module.handlers = crate::machine::threaded::handlers(&module);
        }
        module.commitment = ModuleCommitment::new(&module)?;
        Ok(module)
    }

    fn section(&mut self, payload: Payload<'_>) -> Result<(), VmError> {
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.map_err(invalid)?.into_types() {
                        let CompositeInnerType::Func(f) = &sub.composite_type.inner else {
                            return Err(VmError::UnsupportedFeature {
                                feature: "gc",
                                detail: "non-function type".into(),
                            });
                        };
                        let ty = FuncType {
                            params: f
                                .params()
                                .iter()
                                .map(|t| val_type(*t))
                                .collect::<Result<_, _>>()?,
                            results: f
                                .results()
                                .iter()
                                .map(|t| val_type(*t))
                                .collect::<Result<_, _>>()?,
                        };
                        let id = self.canonical_type(ty);
                        self.type_ids.push(id);
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for imports in reader {
                    for import in imports.map_err(invalid)? {
                        let (_, import) = import.map_err(invalid)?;
                        let names = (import.module.to_string(), import.name.to_string());
                        match import.ty {
                            TypeRef::Func(type_index) => {
                                let type_id = self.type_id(type_index)?;
                                self.funcs.push(Function {
                                    type_id,
                                    kind: FuncKind::Host {
                                        module: names.0,
                                        name: names.1,
                                    },
                                });
                                self.num_imported_funcs += 1;
                            }
                            TypeRef::Global(g) => self.globals.push(GlobalDef {
                                ty: val_type(g.content_type)?,
                                mutable: g.mutable,
                                init: GlobalInit::Import {
                                    module: names.0,
                                    name: names.1,
                                },
                            }),
                            TypeRef::Memory(m) => {
                                self.memory = Some(MemoryDef {
                                    min_pages: limit_u32(m.initial, "memory minimum")?,
                                    max_pages: m
                                        .maximum
                                        .map(|v| limit_u32(v, "memory maximum"))
                                        .transpose()?,
                                    import: Some(names),
                                })
                            }
                            TypeRef::Table(t) => self.tables.push(TableDef {
                                ty: ref_type(t.element_type)?,
                                min: limit_u32(t.initial, "table minimum")?,
                                max: t
                                    .maximum
                                    .map(|v| limit_u32(v, "table maximum"))
                                    .transpose()?,
                                init: ConstExpr::Word(0),
                                import: Some(names),
                            }),
                            other => {
                                return Err(VmError::UnsupportedFeature {
                                    feature: "exceptions",
                                    detail: format!("import of kind {other:?}"),
                                })
                            }
                        }
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for type_index in reader {
                    let type_id = self.type_id(type_index.map_err(invalid)?)?;
                    self.defined_types.push(type_id);
                    self.funcs.push(Function {
                        type_id,
                        kind: FuncKind::Defined {
                            entry: 0,
                            max_height: 0,
                        },
                    });
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table.map_err(invalid)?;
                    let init = match &table.init {
                        TableInit::RefNull => ConstExpr::Word(0),
                        TableInit::Expr(e) => const_expr(e)?,
                    };
                    self.tables.push(TableDef {
                        ty: ref_type(table.ty.element_type)?,
                        min: limit_u32(table.ty.initial, "table minimum")?,
                        max: table
                            .ty
                            .maximum
                            .map(|v| limit_u32(v, "table maximum"))
                            .transpose()?,
                        init,
                        import: None,
                    });
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let m = memory.map_err(invalid)?;
                    self.memory = Some(MemoryDef {
                        min_pages: limit_u32(m.initial, "memory minimum")?,
                        max_pages: m
                            .maximum
                            .map(|v| limit_u32(v, "memory maximum"))
                            .transpose()?,
                        import: None,
                    });
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let g = global.map_err(invalid)?;
                    self.globals.push(GlobalDef {
                        ty: val_type(g.ty.content_type)?,
                        mutable: g.ty.mutable,
                        init: GlobalInit::Expr(const_expr(&g.init_expr)?),
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let e = export.map_err(invalid)?;
                    let kind = match e.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func(e.index),
                        ExternalKind::Table => ExportKind::Table(e.index),
                        ExternalKind::Memory => ExportKind::Memory,
                        ExternalKind::Global => ExportKind::Global(e.index),
                        ExternalKind::Tag => {
                            return Err(VmError::UnsupportedFeature {
                                feature: "exceptions",
                                detail: "tag export".into(),
                            })
                        }
                    };
                    self.exports.push((e.name.to_string(), kind));
                }
            }
            Payload::StartSection { func, .. } => self.start = Some(func),
            Payload::ElementSection(reader) => {
                for element in reader {
                    let element = element.map_err(invalid)?;
                    let items = match element.items {
                        ElementItems::Functions(funcs) => funcs
                            .into_iter()
                            .map(|f| {
                                f.map(|f| ConstExpr::Word(Value::FuncRef(Some(f)).to_word()))
                                    .map_err(invalid)
                            })
                            .collect::<Result<Vec<_>, _>>()?,
                        ElementItems::Expressions(_, exprs) => exprs
                            .into_iter()
                            .map(|e| const_expr(&e.map_err(invalid)?))
                            .collect::<Result<Vec<_>, _>>()?,
                    };
                    let mode = match element.kind {
                        ElementKind::Passive => ElemMode::Passive,
                        ElementKind::Declared => ElemMode::Declared,
                        ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => ElemMode::Active {
                            table: table_index.unwrap_or(0),
                            offset: const_expr(&offset_expr)?,
                        },
                    };
                    self.elems.push(ElemSegment { items, mode });
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data.map_err(invalid)?;
                    let active_offset = match data.kind {
                        DataKind::Passive => None,
                        DataKind::Active { offset_expr, .. } => Some(const_expr(&offset_expr)?),
                    };
                    self.data.push(DataSegment {
                        bytes: Arc::from(data.data),
                        active_offset,
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }
}
