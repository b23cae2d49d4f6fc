//! The rollup's guest programs, compiled to `wasm32-unknown-unknown` by this
//! crate's build script and embedded as bytes, and their host-side types.

/// The benchmark guest (`program/workloads`): a WebAssembly module that
/// imports nothing and exports its linear memory (`memory`) and these
/// deterministic, float-free functions:
///
/// | export | signature | computes |
/// |---|---|---|
/// | `fib` | `(i32) -> i64` | naive doubly recursive Fibonacci; `fib(n) = max(n, 0)` for `n < 2` (so `fib(20) = 6765`). Measures call/return cost. |
/// | `sort` | `(n: i32, seed: i32) -> i64` | fills `n` u32 from xorshift32 seeded with `seed ^ 0x9E3779B9`, heapsorts them in memory obtained by `memory.grow`, traps if the result is unsorted, returns `sum(a[i] * (i + 1))` as wrapping u64. |
/// | `keccak` | `(len: i32) -> i64` | keccak256 of `len` bytes with byte `i = (i * 31 + 7) as u8` (1 MiB is fine), returns the digest's first 8 bytes as little-endian i64. |
/// | `memloop` | `(iters: i32) -> i64` | `iters` stores into a 64 KiB static buffer at word index `(i * 7919) % 16384`, returns a checksum of the stored words. Measures Merkle re-hashing after many stores. |
///
/// Negative arguments are treated as 0. `sort` and `keccak` trap only if
/// memory cannot grow to `4 n` or `len` bytes.
pub const WORKLOADS_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/workloads.wasm"));
