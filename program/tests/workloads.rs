//! Checks the shape of the embedded benchmark guest: magic, no imports, the
//! exported functions and their signatures, and that it stays inside the
//! WebAssembly 2.0 (no SIMD) feature set the VM accepts. `bignum`, `bytes` and
//! `matmul` are also run on both engines and checked against a native
//! reference written here, so a guest bug cannot hide behind two engines that
//! agree on the wrong answer.

use std::collections::HashMap;

use program::WORKLOADS_WASM;
use vm::native::{NativeInstance, NativeModule};
use vm::{Machine, Module, NoImports, RunOutcome, Value};
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

/// The guest's xorshift32, same definition (`XorShift32::new` and `next`).
struct XorShift32(u32);

impl XorShift32 {
    fn new(seed: i32) -> Self {
        let state = (seed as u32) ^ 0x9E37_79B9;
        XorShift32(if state == 0 { 1 } else { state })
    }

    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

const LIMBS: usize = 32;

/// `a * b` column by column (product scanning), where the guest multiplies
/// row by row: the two only agree if both carry correctly.
fn mul_columns(a: &[u64; LIMBS], b: &[u64; LIMBS]) -> [u64; 2 * LIMBS] {
    let mut p = [0u64; 2 * LIMBS];
    // Column sums of up to 32 products of 128 bits: a 128-bit accumulator and
    // the count of its overflows.
    let (mut acc, mut overflows) = (0u128, 0u64);
    for (k, limb) in p.iter_mut().enumerate() {
        for i in k.saturating_sub(LIMBS - 1)..=k.min(LIMBS - 1) {
            let (sum, carried) = acc.overflowing_add(u128::from(a[i]) * u128::from(b[k - i]));
            acc = sum;
            overflows += u64::from(carried);
        }
        *limb = acc as u64;
        acc = (acc >> 64) | (u128::from(overflows) << 64);
        overflows = 0;
    }
    assert_eq!(acc, 0, "a 2048 x 2048-bit product fits in 4096 bits");
    p
}

/// Native reference for the guest's `bignum`.
fn bignum(iters: i32) -> i64 {
    let mut rng = XorShift32::new(0x5EED);
    let mut a = [0u64; LIMBS];
    let mut b = [0u64; LIMBS];
    for limb in a.iter_mut().chain(b.iter_mut()) {
        let high = u64::from(rng.next());
        *limb = (high << 32) | u64::from(rng.next());
    }
    let mut p = [0u64; 2 * LIMBS];
    for _ in 0..iters.max(0) {
        p = mul_columns(&a, &b);
        for j in 0..LIMBS {
            a[j] = p[j] ^ p[j + LIMBS];
        }
    }
    p.iter().fold(0u64, |acc, &limb| acc.rotate_left(7) ^ limb) as i64
}

/// Native reference for the guest's `bytes`.
fn bytes(len: i32, iters: i32) -> i64 {
    let mut rng = XorShift32::new(0xB17E5);
    let mut buf: Vec<u8> = (0..len.max(0)).map(|_| (rng.next() >> 24) as u8).collect();
    let mut histogram = [0u32; 256];
    let (mut s1, mut s2) = (0u32, 0u32);
    let mut key = 0u8;
    for pass in 0..iters.max(0) {
        for byte in &mut buf {
            let v = (*byte ^ key).rotate_left(1);
            *byte = v;
            histogram[usize::from(v)] += 1;
            s1 = s1.wrapping_add(u32::from(v));
            s2 = s2.wrapping_add(s1);
        }
        key = (s2 >> 24) as u8 ^ pass as u8;
    }
    let sums = (u64::from(s2) << 32) | u64::from(s1);
    histogram.iter().fold(sums, |acc, &count| {
        acc.wrapping_mul(31).wrapping_add(u64::from(count))
    }) as i64
}

/// Native reference for the guest's `matmul`, as a textbook i-j-k dot product
/// (the guest runs i-k-j).
fn matmul(n: i32) -> i64 {
    let n = n.max(0) as usize;
    let mut rng = XorShift32::new(0x3A7);
    let mut draw = |_| i64::from(rng.next() as i32);
    let a: Vec<i64> = (0..n * n).map(&mut draw).collect();
    let b: Vec<i64> = (0..n * n).map(&mut draw).collect();
    let mut checksum = 0u64;
    for i in 0..n {
        for j in 0..n {
            let c_ij = (0..n).fold(0i64, |sum, k| {
                sum.wrapping_add(a[i * n + k].wrapping_mul(b[k * n + j]))
            });
            checksum = checksum.wrapping_mul(31).wrapping_add(c_ij as u64);
        }
    }
    checksum as i64
}

/// Runs export `name` on a fresh interpreter and a fresh wasmtime instance,
/// asserts both return the same single i64, and returns it.
fn run_on_both_engines(name: &str, args: &[i32]) -> i64 {
    let args: Vec<Value> = args.iter().map(|&a| Value::I32(a)).collect();
    let module = Module::new(WORKLOADS_WASM).expect("interpreter loads workloads.wasm");
    let mut machine =
        Machine::instantiate(module, &mut NoImports, u64::MAX).expect("interpreter instantiates");
    machine.invoke(name, &args).expect("export exists");
    let interpreted = match machine.run(&mut NoImports, u64::MAX) {
        RunOutcome::Finished(results) => results,
        other => panic!("{name}{args:?} on the interpreter: {other:?}"),
    };
    let native = NativeModule::new(WORKLOADS_WASM).expect("wasmtime compiles workloads.wasm");
    let mut instance =
        NativeInstance::new(&native, NoImports, u64::MAX).expect("wasmtime instantiates");
    let compiled = instance
        .invoke(name, &args, u64::MAX)
        .unwrap_or_else(|e| panic!("{name}{args:?} on wasmtime: {e:?}"));
    assert_eq!(interpreted, compiled, "{name}{args:?}: engines disagree");
    match interpreted[..] {
        [Value::I64(result)] => result,
        ref other => panic!("{name}{args:?} returned {other:?}"),
    }
}

#[test]
fn bignum_matches_native_reference() {
    for iters in [-1, 0, 1, 2, 17] {
        assert_eq!(
            run_on_both_engines("bignum", &[iters]),
            bignum(iters),
            "bignum({iters})"
        );
    }
    assert_eq!(bignum(0), 0);
    assert_ne!(bignum(17), 0);
}

#[test]
fn bytes_matches_native_reference() {
    // 70_000 bytes cross a page boundary of the scratch memory.
    for (len, iters) in [(-5, 3), (0, 3), (1, 1), (1000, 0), (4097, 5), (70_000, 2)] {
        assert_eq!(
            run_on_both_engines("bytes", &[len, iters]),
            bytes(len, iters),
            "bytes({len}, {iters})"
        );
    }
}

#[test]
fn matmul_matches_native_reference() {
    // 60 x 60 needs two pages of scratch memory.
    for n in [-2, 0, 1, 3, 17, 60] {
        assert_eq!(
            run_on_both_engines("matmul", &[n]),
            matmul(n),
            "matmul({n})"
        );
    }
    assert_eq!(matmul(0), 0);
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
    let expected: [(&str, &[ValType], &[ValType]); 7] = [
        ("fib", &[ValType::I32], &[ValType::I64]),
        ("sort", &[ValType::I32, ValType::I32], &[ValType::I64]),
        ("keccak", &[ValType::I32], &[ValType::I64]),
        ("memloop", &[ValType::I32], &[ValType::I64]),
        ("bignum", &[ValType::I32], &[ValType::I64]),
        ("bytes", &[ValType::I32, ValType::I32], &[ValType::I64]),
        ("matmul", &[ValType::I32], &[ValType::I64]),
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
