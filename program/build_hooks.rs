//! Resolves a guest's `vm_hooks` imports against its own exports.
//!
//! alloy-primitives' `native-keccak` feature declares `native_keccak256` as an import from the
//! `vm_hooks` module. The EVM guest defines that function itself (a host keccak for up to
//! `MAX_CHUNK` bytes, an in-guest one beyond), but the linker keeps an import declared with an
//! import module apart from a same-named definition. This rewrite removes each `vm_hooks` function
//! import the module also exports, points every use of it at the export, and renumbers the
//! functions after it. Custom sections (names, producers) are dropped: they carry function
//! indices and no semantics. The result is deterministic, as the guest's bytes must be.

use std::collections::BTreeMap;

use wasm_encoder::reencode::{Error, Reencode};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

const HOOK_MODULE: &str = "vm_hooks";

/// The module with its `vm_hooks` imports resolved (unchanged if it has none).
pub fn resolve_hook_imports(wasm: &[u8]) -> Result<Vec<u8>, String> {
    let mut imported_functions = 0u32;
    let mut hooks: BTreeMap<u32, String> = BTreeMap::new();
    let mut exports: BTreeMap<String, u32> = BTreeMap::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| e.to_string())? {
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let import = import.map_err(|e| e.to_string())?;
                    if let TypeRef::Func(_) = import.ty {
                        if import.module == HOOK_MODULE {
                            hooks.insert(imported_functions, import.name.to_string());
                        }
                        imported_functions += 1;
                    }
                }
            }
            Payload::ExportSection(section) => {
                for export in section {
                    let export = export.map_err(|e| e.to_string())?;
                    if export.kind == ExternalKind::Func {
                        exports.insert(export.name.to_string(), export.index);
                    }
                }
            }
            _ => {}
        }
    }
    if hooks.is_empty() {
        return Ok(wasm.to_vec());
    }
    let mut targets = BTreeMap::new();
    for (index, name) in &hooks {
        let target = *exports
            .get(name)
            .ok_or_else(|| format!("`{HOOK_MODULE}.{name}` is imported but not exported"))?;
        targets.insert(*index, target);
    }
    let mut rewriter = HookResolver { hooks: targets };
    let mut module = wasm_encoder::Module::new();
    rewriter
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .map_err(|e| format!("{e:?}"))?;
    Ok(module.finish())
}

struct HookResolver {
    /// Hook import index -> the exported function that implements it (original indices).
    hooks: BTreeMap<u32, u32>,
}

impl HookResolver {
    /// The index of original function `func` once the hook imports are gone.
    fn renumber(&self, func: u32) -> u32 {
        let func = self.hooks.get(&func).copied().unwrap_or(func);
        func - self.hooks.range(..func).count() as u32
    }
}

impl Reencode for HookResolver {
    type Error = std::convert::Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, Error<Self::Error>> {
        Ok(self.renumber(func))
    }

    fn parse_import_section(
        &mut self,
        imports: &mut wasm_encoder::ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), Error<Self::Error>> {
        for import in section.into_imports() {
            let import = import?;
            if import.module == HOOK_MODULE && matches!(import.ty, TypeRef::Func(_)) {
                continue;
            }
            self.parse_import(imports, import)?;
        }
        Ok(())
    }

    fn parse_custom_section(
        &mut self,
        _module: &mut wasm_encoder::Module,
        _section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), Error<Self::Error>> {
        Ok(())
    }
}
