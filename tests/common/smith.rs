//! wasm-smith module generation shared by the differential and proof tests: case `i` is generated
//! from a splitmix64 stream seeded by `i`, so a failure reproduces by number.

#![allow(dead_code)]

use arbitrary::Unstructured;
use vm::{ValType, Value};
use wasm_encoder::reencode::{self, Error as ReencodeError, Reencode};

use super::common::SplitMix;

/// wasm-smith's own termination fuel (refilled before every call, see [`Rewrite`]): one unit per
/// loop iteration and function entry (and per byte of bulk memory ops); out of fuel, the guest
/// executes `unreachable`. About 100 ops per unit keeps almost every call inside `INTERP_STEPS`.
const GUEST_FUEL: u32 = 10_000;

/// WebAssembly 2.0 without SIMD, small memories and tables, no imports, everything exported.
/// With `disallow_traps` wasm-smith guards trapping instructions: random code traps at its first
/// `unreachable` more often than not, so half the cases avoid traps to get long computations
/// whose results are compared.
fn smith_config(disallow_traps: bool) -> wasm_smith::Config {
    wasm_smith::Config {
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        tail_call_enabled: false,
        gc_enabled: false,
        exceptions_enabled: false,
        memory64_enabled: false,
        max_memories: 1,
        extended_const_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        multi_value_enabled: true,
        sign_extension_ops_enabled: true,
        saturating_float_to_int_enabled: true,
        max_imports: 0,
        // NaN canonicalization is the engines' job, not the generator's.
        canonicalize_nans: false,
        export_everything: true,
        disallow_traps,
        min_types: 1,
        min_funcs: 4,
        max_funcs: 30,
        max_instructions: 200,
        max_memory32_bytes: 16 * 65536,
        // Every memory declares a maximum, so memory stays small enough to compare after every call.
        memory_max_size_required: true,
        max_tables: 2,
        max_table_elements: 1000,
        ..wasm_smith::Config::default()
    }
}

/// The module of case `case`, rewritten by [`Rewrite`]. `None` if wasm-smith could not build one
/// from the seed bytes.
pub fn generate(case: u64) -> Option<Vec<u8>> {
    let mut rng = SplitMix(case);
    let len = 1024 + (rng.next() % (15 * 1024)) as usize;
    let seed: Vec<u8> = (0..len.div_ceil(8))
        .flat_map(|_| rng.next().to_le_bytes())
        .collect();
    let mut u = Unstructured::new(&seed);
    let mut module = wasm_smith::Module::new(smith_config(case % 2 == 1), &mut u).ok()?;
    let fuel_global = module.ensure_termination(GUEST_FUEL).ok()?;
    let mut rewritten = wasm_encoder::Module::new();
    let mut rewrite = Rewrite {
        fuel_global,
        refuel_type: None,
        refuel_func: None,
    };
    rewrite
        .parse_core_module(
            &mut rewritten,
            wasmparser::Parser::new(0),
            &module.to_bytes(),
        )
        .ok()?;
    Some(rewritten.finish())
}

/// The export that resets wasm-smith's termination fuel (added by [`Rewrite`]).
pub const REFUEL: &str = "__hauptbuch_refuel";

/// Two rewrites of each generated module, both applied identically for both engines:
///
/// * Every `externref` becomes `funcref`. The native engine cannot run externref (wasmtime is
///   built without GC), and wasm-smith offers no way to keep reference types but leave externref
///   out. Without imports every externref a module can hold is null, and replacing one reference
///   type by another everywhere keeps a module valid, so the rewritten module still exercises all
///   that reference types bring (tables of references, `table.*`, `ref.*`, typed `select`).
///   Signatures that differed only in externref vs funcref become equal; both engines see the same
///   rewritten module, so that is no loss for a differential test.
/// * An exported function [`REFUEL`] resets wasm-smith's termination fuel. The fuel lives in a
///   global shared by all calls, and random loops often spin until it is gone; without a refill
///   every later call would trap at its first instruction and test nothing.
struct Rewrite {
    fuel_global: u32,
    refuel_type: Option<u32>,
    refuel_func: Option<u32>,
}

impl Reencode for Rewrite {
    type Error = std::convert::Infallible;

    fn abstract_heap_type(
        &mut self,
        ty: wasmparser::AbstractHeapType,
    ) -> Result<wasm_encoder::AbstractHeapType, ReencodeError<Self::Error>> {
        Ok(match ty {
            wasmparser::AbstractHeapType::Extern => wasm_encoder::AbstractHeapType::Func,
            other => reencode::utils::abstract_heap_type(self, other),
        })
    }

    fn parse_type_section(
        &mut self,
        types: &mut wasm_encoder::TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        reencode::utils::parse_type_section(self, types, section)?;
        self.refuel_type = Some(types.len());
        types.ty().function([], []);
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut wasm_encoder::FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        reencode::utils::parse_function_section(self, functions, section)?;
        // wasm-smith is configured without imports, so defined functions are all functions.
        if let Some(ty) = self.refuel_type {
            self.refuel_func = Some(functions.len());
            functions.function(ty);
        }
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut wasm_encoder::ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        reencode::utils::parse_export_section(self, exports, section)?;
        if let Some(func) = self.refuel_func {
            exports.export(REFUEL, wasm_encoder::ExportKind::Func, func);
        }
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        reencode::utils::parse_code_section(self, code, section)?;
        if self.refuel_func.is_some() {
            let mut body = wasm_encoder::Function::new([]);
            body.instructions()
                .i32_const(GUEST_FUEL as i32)
                .global_set(self.fuel_global)
                .end();
            code.function(&body);
        }
        Ok(())
    }
}

/// Deterministic arguments: all zeros (`round` 0), else picks from values at the edges of each type.
pub fn arguments(params: &[ValType], rng: &mut SplitMix, round: u32) -> Vec<Value> {
    const I32S: [i32; 8] = [0, 1, -1, 2, 100, 65535, i32::MIN, i32::MAX];
    const I64S: [i64; 8] = [0, 1, -1, 3, 1 << 32, 65536, i64::MIN, i64::MAX];
    const F32S: [u32; 8] = [
        0,
        0x8000_0000,
        0x3f80_0000,
        0xbfc0_0000,
        0x7f80_0000,
        0x0000_0001,
        0x7fc0_0000,
        0xffa0_0001,
    ];
    const F64S: [u64; 8] = [
        0,
        0x8000_0000_0000_0000,
        0x3ff0_0000_0000_0000,
        0xc00c_0000_0000_0000,
        0xfff0_0000_0000_0000,
        0x0000_0000_0000_0001,
        0x7ff8_0000_0000_0000,
        0x7ff4_0000_0000_0001,
    ];
    params
        .iter()
        .map(|ty| {
            let pick = if round == 0 {
                0
            } else {
                (rng.next() % 8) as usize
            };
            match ty {
                ValType::I32 => Value::I32(I32S[pick]),
                ValType::I64 => Value::I64(I64S[pick]),
                ValType::F32 => Value::F32(F32S[pick]),
                ValType::F64 => Value::F64(F64S[pick]),
                ValType::FuncRef => Value::FuncRef(None),
                ValType::ExternRef => Value::ExternRef(None),
            }
        })
        .collect()
}
