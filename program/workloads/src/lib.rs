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
//! | `bignum(iters: i32) -> i64` | 64 × 64 → 128-bit multiply-adds with carries: 32-limb schoolbook multiplication |
//! | `bytes(len: i32, iters: i32) -> i64` | byte loads and stores and a 256-entry histogram over `len` bytes of memory |
//! | `matmul(n: i32) -> i64` | i64 multiply-adds and strided row access over three `n × n` matrices in memory |
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

/// The tail of linear memory that `sort`, `keccak`, `bytes` and `matmul`
/// borrow as scratch space.
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

const BIGNUM_LIMBS: usize = 32;

/// `p = a * b` for little-endian `BIGNUM_LIMBS`-limb numbers, row by row.
fn mul_limbs(a: &[u64; BIGNUM_LIMBS], b: &[u64; BIGNUM_LIMBS], p: &mut [u64; 2 * BIGNUM_LIMBS]) {
    *p = [0; 2 * BIGNUM_LIMBS];
    for (i, &ai) in a.iter().enumerate() {
        let mut carry: u64 = 0;
        // i < BIGNUM_LIMBS, so the row and the carry limb lie inside `p`: the
        // compiler sees that too and emits no bounds checks.
        let (row, high) = p[i..].split_at_mut(BIGNUM_LIMBS);
        for (pij, &bj) in row.iter_mut().zip(b) {
            // At most (2^64 - 1)^2 + 2 (2^64 - 1) = 2^128 - 1: never overflows.
            let t = u128::from(ai) * u128::from(bj) + u128::from(*pij) + u128::from(carry);
            *pij = t as u64;
            carry = (t >> 64) as u64;
        }
        high[0] = carry;
    }
}

/// Multiplies two 32-limb (2048-bit) numbers `iters` times, the kind of
/// arithmetic RSA, pairing and other big-integer code spends its time in. wasm
/// has no 64 × 64 → 128-bit multiply, so each limb product is a call to
/// compiler-rt's `__multi3`: a workload that is neither call-bound like `fib`
/// nor memory-bound like `sort`.
///
/// `a` and `b` come from `XorShift32::new(0x5EED)` (each limb is two
/// draws, high half first, `a` before `b`). After each round `a[j] = p[j] ^
/// p[j + 32]`, so every round depends on the last; XOR of both halves keeps
/// `a` from collecting the trailing zeros a low half alone would. Returns the
/// last product folded as `acc = acc.rotate_left(7) ^ limb` over its 64 limbs
/// from the lowest; `iters <= 0` returns 0.
#[no_mangle]
pub extern "C" fn bignum(iters: i32) -> i64 {
    let iters = if iters < 0 { 0 } else { iters as u32 };
    let mut rng = XorShift32::new(0x5EED);
    let mut a = [0u64; BIGNUM_LIMBS];
    let mut b = [0u64; BIGNUM_LIMBS];
    for limb in a.iter_mut().chain(b.iter_mut()) {
        let high = u64::from(rng.next());
        *limb = (high << 32) | u64::from(rng.next());
    }
    let mut p = [0u64; 2 * BIGNUM_LIMBS];
    for _ in 0..iters {
        mul_limbs(&a, &b, &mut p);
        let (low, high) = p.split_at(BIGNUM_LIMBS);
        for ((aj, &lo), &hi) in a.iter_mut().zip(low).zip(high) {
            *aj = lo ^ hi;
        }
    }
    p.iter().fold(0u64, |acc, &limb| acc.rotate_left(7) ^ limb) as i64
}

/// Byte-at-a-time processing (parsers, codecs, checksums): sub-word loads and
/// stores, which the provable engine must fit into its word-granular memory
/// tree, and a data-dependent index into a small table.
///
/// Fills `len` bytes with the top byte of successive `XorShift32::new(0xB17E5)`
/// draws, then makes `iters` passes over them; each pass rewrites every byte
/// as `v = (byte ^ key).rotate_left(1)`, counts `v` in a 256-entry histogram
/// (kept across passes) and feeds `v` into Fletcher-style sums `s1 += v; s2 +=
/// s1`. The next pass's key is `(s2 >> 24) as u8 ^ pass as u8`. Returns
/// `(s2 << 32) | s1` folded with `acc = acc * 31 + count` over the histogram
/// (all wrapping). Negative arguments count as 0.
#[no_mangle]
pub extern "C" fn bytes(len: i32, iters: i32) -> i64 {
    let len = if len < 0 { 0 } else { len as usize };
    let iters = if iters < 0 { 0 } else { iters as u32 };
    let ptr = scratch(len);
    // SAFETY: `scratch` returned at least `len` bytes that nothing else
    // references during this call.
    let buf = unsafe { core::slice::from_raw_parts_mut(ptr, len) };
    let mut rng = XorShift32::new(0xB17E5);
    for byte in buf.iter_mut() {
        *byte = (rng.next() >> 24) as u8;
    }
    let mut histogram = [0u32; 256];
    let (mut s1, mut s2) = (0u32, 0u32);
    let mut key = 0u8;
    for pass in 0..iters {
        for byte in buf.iter_mut() {
            let v = (*byte ^ key).rotate_left(1);
            *byte = v;
            // A u8 index into 256 entries: no bounds check.
            histogram[usize::from(v)] = histogram[usize::from(v)].wrapping_add(1);
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

/// Dense linear algebra: an `n × n` i64 matrix product, the classic tight
/// loop of loads, multiplies and adds with a row stride, over `24 n²` bytes
/// of memory.
///
/// `A` then `B` are filled row-major from `XorShift32::new(0x3A7)`, each entry a
/// draw sign-extended from i32; `C = A B` with wrapping arithmetic (computed
/// in i-k-j order, so the inner loop walks rows of `B` and `C`). Returns
/// `C` folded row-major with `acc = acc * 31 + c` (wrapping, as u64).
/// `n <= 0` returns 0; traps if memory cannot grow to `24 n²` bytes.
#[no_mangle]
pub extern "C" fn matmul(n: i32) -> i64 {
    if n <= 0 {
        return 0;
    }
    let n = n as usize;
    let Some(cells) = n.checked_mul(n) else {
        wasm32::unreachable()
    };
    let Some(bytes) = cells.checked_mul(3 * core::mem::size_of::<i64>()) else {
        wasm32::unreachable()
    };
    let base = scratch(bytes) as *mut i64;
    // SAFETY: `scratch` returned at least `3 n²` i64s of page-aligned memory
    // that nothing else references during this call; the three slices are
    // disjoint thirds of it.
    let (a, b, c) = unsafe {
        (
            core::slice::from_raw_parts_mut(base, cells),
            core::slice::from_raw_parts_mut(base.add(cells), cells),
            core::slice::from_raw_parts_mut(base.add(2 * cells), cells),
        )
    };
    let mut rng = XorShift32::new(0x3A7);
    for x in a.iter_mut().chain(b.iter_mut()) {
        *x = i64::from(rng.next() as i32);
    }
    c.fill(0);
    // Iterators over whole rows rather than `a[i * n + k]`: the compiler
    // cannot remove bounds checks from computed indices.
    for (a_row, c_row) in a.chunks_exact(n).zip(c.chunks_exact_mut(n)) {
        for (&a_ik, b_row) in a_row.iter().zip(b.chunks_exact(n)) {
            for (c_ij, &b_kj) in c_row.iter_mut().zip(b_row) {
                *c_ij = c_ij.wrapping_add(a_ik.wrapping_mul(b_kj));
            }
        }
    }
    c.iter()
        .fold(0u64, |acc, &x| acc.wrapping_mul(31).wrapping_add(x as u64)) as i64
}
