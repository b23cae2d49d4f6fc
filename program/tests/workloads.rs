//! Checks the shape of the embedded benchmark guest: magic, no imports, the
//! exported functions and their signatures, and that it stays inside the
//! WebAssembly 2.0 (no SIMD) feature set the VM accepts. Running it is the
//! vm crate's job.

use std::collections::HashMap;

use program::WORKLOADS_WASM;
use wasmparser::{
    CompositeInnerType, ExternalKind, FuncType, Operator, Parser, Payload, TypeRef, ValType,
    Validator, WasmFeatures,
};

/// What the test needs to know about a parsed module.
struct ModuleShape {
    imports: Vec<(String, String)>,
    /// Export name -> (kind, index).
    exports: HashMap<String, (ExternalKind, u32)>,
    /// Function index -> signature (imported functions first, as in the index space).
    func_types: Vec<FuncType>,
    /// Defined function index (without imports) -> the function indices its body calls.
    calls: Vec<Vec<u32>>,
}

fn parse(bytes: &[u8]) -> ModuleShape {
    let mut types = Vec::new();
    let mut shape = ModuleShape {
        imports: Vec::new(),
        exports: HashMap::new(),
        func_types: Vec::new(),
        calls: Vec::new(),
    };
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.expect("module parses") {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.expect("type group parses").into_types() {
                        match sub.composite_type.inner {
                            CompositeInnerType::Func(f) => types.push(f),
                            other => panic!("unexpected non-function type {other:?}"),
                        }
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.expect("import parses");
                    if let TypeRef::Func(ty) = import.ty {
                        shape.func_types.push(types[ty as usize].clone());
                    }
                    shape
                        .imports
                        .push((import.module.to_string(), import.name.to_string()));
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    shape
                        .func_types
                        .push(types[ty.expect("function parses") as usize].clone());
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.expect("export parses");
                    shape
                        .exports
                        .insert(export.name.to_string(), (export.kind, export.index));
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut called = Vec::new();
                let mut ops = body.get_operators_reader().expect("body parses");
                while !ops.eof() {
                    if let Operator::Call { function_index } = ops.read().expect("operator parses")
                    {
                        called.push(function_index);
                    }
                }
                shape.calls.push(called);
            }
            _ => {}
        }
    }
    shape
}

/// The feature set DESIGN.md fixes: WebAssembly 2.0 without SIMD.
fn vm_features() -> WasmFeatures {
    WasmFeatures::WASM2.difference(WasmFeatures::SIMD)
}

/// Native reference for the guest's `fib`, same definition.
fn fib(n: i32) -> i64 {
    if n < 2 {
        return i64::from(n.max(0));
    }
    fib(n - 1).wrapping_add(fib(n - 2))
}

#[test]
fn starts_with_wasm_magic_and_version_1() {
    assert_eq!(&WORKLOADS_WASM[..4], b"\0asm");
    assert_eq!(&WORKLOADS_WASM[4..8], &[1, 0, 0, 0]);
}

#[test]
fn validates_as_wasm2_without_simd() {
    Validator::new_with_features(vm_features())
        .validate_all(WORKLOADS_WASM)
        .expect("workloads.wasm is valid WebAssembly 2.0 without SIMD");
}

#[test]
fn imports_nothing() {
    let shape = parse(WORKLOADS_WASM);
    assert!(
        shape.imports.is_empty(),
        "workloads.wasm imports {:?}",
        shape.imports
    );
}

#[test]
fn exports_have_the_documented_signatures() {
    let shape = parse(WORKLOADS_WASM);
    let expected: [(&str, &[ValType], &[ValType]); 4] = [
        ("fib", &[ValType::I32], &[ValType::I64]),
        ("sort", &[ValType::I32, ValType::I32], &[ValType::I64]),
        ("keccak", &[ValType::I32], &[ValType::I64]),
        ("memloop", &[ValType::I32], &[ValType::I64]),
    ];
    for (name, params, results) in expected {
        let &(kind, index) = shape
            .exports
            .get(name)
            .unwrap_or_else(|| panic!("no export {name}"));
        assert_eq!(kind, ExternalKind::Func, "{name} is not a function");
        let ty = &shape.func_types[index as usize];
        assert_eq!(ty.params(), params, "{name} params");
        assert_eq!(ty.results(), results, "{name} results");
    }
    let (kind, _) = shape.exports.get("memory").expect("memory is exported");
    assert_eq!(*kind, ExternalKind::Memory);
}

/// The point of `fib` is call/return cost: the optimizer must not have turned
/// it into a loop.
#[test]
fn fib_is_still_recursive() {
    let shape = parse(WORKLOADS_WASM);
    let (_, fib_index) = shape.exports["fib"];
    let defined = fib_index as usize - shape.imports.len();
    assert!(
        shape.calls[defined].contains(&fib_index),
        "fib does not call itself; calls {:?}",
        shape.calls[defined]
    );
}

#[test]
fn native_fib_reference() {
    assert_eq!(fib(20), 6765);
    assert_eq!(fib(1), 1);
    assert_eq!(fib(0), 0);
    assert_eq!(fib(-3), 0);
}
