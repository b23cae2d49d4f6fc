//! Benchmark workloads for the provable VM and the native (wasmtime) backend.
//!
//! Each export is a deterministic, float-free kernel that stresses one cost of
//! the provable engine:
//!
//! | export | stresses |
//! |---|---|
//! | `fib(n: i32) -> i64` | calls and returns: naive doubly recursive Fibonacci, so frame push/pop dominates |
//! | `sort(n: i32, seed: i32) -> i64` | integer ALU, branches and loads/stores spread over `4 n` bytes of memory |
//! | `keccak(len: i32) -> i64` | a realistic hashing kernel (`sha3::Keccak256`) over `len` bytes of memory |
//! | `memloop(iters: i32) -> i64` | many stores to a 64 KiB buffer: the cost of Merkle re-hashing dirty memory |
//!
//! The module imports nothing from the host; memory beyond the static data is
//! obtained with `memory.grow`, so a small run does not pay for a large
//! initial memory.
#![no_std]

use core::arch::wasm32;

use sha3::{Digest, Keccak256};

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    wasm32::unreachable()
}

const WASM_PAGE: usize = 65536;

/// The tail of linear memory that `sort` and `keccak` borrow as scratch space.
///
/// Only this module grows memory, so the region `[base, base + pages * 64 KiB)`
/// stays at the end of memory and every later growth extends it contiguously.
struct Scratch {
    base: usize,
    pages: usize,
}

static mut SCRATCH: Scratch = Scratch { base: 0, pages: 0 };

/// Returns a pointer to at least `bytes` bytes of scratch memory, growing
/// linear memory if needed. Traps if memory cannot grow.
fn scratch(bytes: usize) -> *mut u8 {
    let needed = bytes.div_ceil(WASM_PAGE);
    let scratch = &raw mut SCRATCH;
    // SAFETY: wasm32-unknown-unknown is single threaded and no export reenters
    // another, so this is the only access to SCRATCH.
    unsafe {
        if needed > (*scratch).pages {
            let old_pages = wasm32::memory_grow(0, needed - (*scratch).pages);
            if old_pages == usize::MAX {
                wasm32::unreachable();
            }
            if (*scratch).pages == 0 {
                (*scratch).base = old_pages * WASM_PAGE;
            }
            (*scratch).pages = needed;
        }
        (*scratch).base as *mut u8
    }
}

/// Naive recursive Fibonacci: `fib(n) = fib(n-1) + fib(n-2)`, `fib(n) = max(n, 0)`
/// for `n < 2`. Exponential on purpose: it measures call/return cost.
#[no_mangle]
pub extern "C" fn fib(n: i32) -> i64 {
    if n < 2 {
        return if n < 0 { 0 } else { n as i64 };
    }
    fib(n - 1).wrapping_add(fib(n - 2))
}

/// Marsaglia's xorshift32; the state must never be zero.
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

/// In-place, non-recursive heapsort (ascending).
fn heapsort(a: &mut [u32]) {
    let n = a.len();
    if n < 2 {
        return;
    }
    let mut start = n / 2;
    while start > 0 {
        start -= 1;
        sift_down(a, start, n);
    }
    let mut end = n;
    while end > 1 {
        end -= 1;
        a.swap(0, end);
        sift_down(a, 0, end);
    }
}

fn sift_down(a: &mut [u32], mut root: usize, end: usize) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && a[child] < a[child + 1] {
            child += 1;
        }
        if a[root] >= a[child] {
            return;
        }
        a.swap(root, child);
        root = child;
    }
}

/// Fills `n` u32 from xorshift32(`seed`), heapsorts them, traps if the result
/// is not sorted, and returns `sum(a[i] * (i + 1))` (wrapping, as u64).
/// `n <= 0` sorts nothing and returns 0.
#[no_mangle]
pub extern "C" fn sort(n: i32, seed: i32) -> i64 {
    let n = if n < 0 { 0 } else { n as usize };
    let Some(bytes) = n.checked_mul(4) else {
        wasm32::unreachable()
    };
    let ptr = scratch(bytes) as *mut u32;
    // SAFETY: `scratch` returned at least `4 n` bytes of page-aligned memory
    // that nothing else references during this call.
    let a = unsafe { core::slice::from_raw_parts_mut(ptr, n) };
    let mut rng = XorShift32::new(seed);
    for x in a.iter_mut() {
        *x = rng.next();
    }
    heapsort(a);
    if a.windows(2).any(|w| w[0] > w[1]) {
        wasm32::unreachable();
    }
    let mut sum: u64 = 0;
    for (i, &x) in a.iter().enumerate() {
        sum = sum.wrapping_add((x as u64).wrapping_mul(i as u64 + 1));
    }
    sum as i64
}

/// keccak256 of `len` bytes where byte `i` is `(i * 31 + 7) as u8`; returns the
/// first 8 bytes of the digest as a little-endian i64. `len <= 0` hashes the
/// empty string.
#[no_mangle]
pub extern "C" fn keccak(len: i32) -> i64 {
    let len = if len < 0 { 0 } else { len as usize };
    let ptr = scratch(len);
    // SAFETY: `scratch` returned at least `len` bytes that nothing else
    // references during this call.
    let input = unsafe { core::slice::from_raw_parts_mut(ptr, len) };
    for (i, b) in input.iter_mut().enumerate() {
        *b = (i.wrapping_mul(31).wrapping_add(7)) as u8;
    }
    let digest = Keccak256::digest(&*input);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(first)
}

const MEMLOOP_WORDS: usize = 16384;

static mut MEMLOOP_BUF: [u32; MEMLOOP_WORDS] = [0; MEMLOOP_WORDS];

/// For `i in 0..iters` stores a word derived from `i` at index
/// `(i * 7919) % 16384` of a 64 KiB static buffer (7919 is odd, so the first
/// 16384 iterations touch every word once). Returns a checksum of the stored
/// words. The stores are volatile so the compiler keeps every one of them (they
/// are plain `i32.store`s in the wasm); the checksum reads back only what this
/// call wrote, so it does not depend on earlier calls. `iters <= 0` returns 0.
#[no_mangle]
pub extern "C" fn memloop(iters: i32) -> i64 {
    let iters = if iters < 0 { 0 } else { iters as u32 };
    let buf = (&raw mut MEMLOOP_BUF) as *mut u32;
    let mut acc: u64 = 0;
    let mut last = 0usize;
    for i in 0..iters {
        let index = (i.wrapping_mul(7919) as usize) % MEMLOOP_WORDS;
        let word = i.wrapping_add(1).wrapping_mul(0x9E37_79B9) ^ (acc as u32);
        // SAFETY: index < MEMLOOP_WORDS; single threaded, no reentrancy.
        unsafe { core::ptr::write_volatile(buf.add(index), word) };
        acc = acc.wrapping_mul(31).wrapping_add(word as u64);
        last = index;
    }
    if iters > 0 {
        // SAFETY: as above.
        let read_back = unsafe { core::ptr::read_volatile(buf.add(last)) };
        acc ^= (read_back as u64) << 32;
    }
    acc as i64
}
