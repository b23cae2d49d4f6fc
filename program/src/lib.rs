//! The rollup's guest programs, compiled to `wasm32-unknown-unknown` by this
//! crate's build script and embedded as bytes, and their host-side types.
//!
//! The state-transition function itself is the `no_std` crate [`ledger`]
//! (`program/ledger`), re-exported here; this crate is its host side:
//!
//! | module | its one job |
//! |---|---|
//! | [`crypto`] | keccak256 and secp256k1 on the host: the `keccak256` / `ecrecover` precompile semantics, addresses, signing |
//! | [`store`] | [`NodeStore`], the keccak-keyed node store behind the preimage oracle, and [`genesis`] |
//! | [`native`] | [`NativeAbi`] and [`run_native`]: the ledger run natively, the reference for both VM engines |
//! | [`signatures`] | [`RecoveredSignatures`]: a batch's signatures recovered ahead, in parallel, for `ecrecover` |
//! | [`builder`] | [`BatchBuilder`] and the deterministic [`random_batch`] |
//! | [`evm`] | the EVM STF (`program/evm`) on the host: genesis, native runs, reading state back |
//! | [`evm_workload`] | deterministic EVM batches (ETH or ERC-20 transfers) for the CLI, benches and tests |
//!
//! No wasmtime and no interpreter here: running the guest belongs to `prover`.

pub mod builder;
pub mod compression;
pub mod crypto;
pub mod error;
pub mod evm;
pub mod evm_workload;
pub mod native;
pub mod signatures;
pub mod store;

pub use builder::{derive_keys, random_batch, random_genesis, BatchBuilder, GENESIS_BALANCE};
pub use compression::compress_section;
pub use crypto::{
    address_of, address_of_verifying_key, ecrecover, keccak256, sender_of, sign_prehash,
    sign_transfer, sign_withdraw,
};
pub use error::Error;
pub use k256::ecdsa::SigningKey;
pub use ledger;
pub use ledger::commitments::{receipts_root, withdrawals_root};
pub use ledger::trie::{Account, EMPTY_ROOT};
pub use ledger::types::{
    Address, Batch, BatchHeader, BatchOutputs, BatchStatus, Config, DelayedMessage, Deposit, Hash,
    InboxMessage, ReceiptStatus, RejectReason, Transaction, TransactionList, Withdrawal,
    OUTPUTS_LEN,
};
pub use ledger::{execute_batch, Abi, Execution, MAX_CHUNK};
pub use native::{
    encode_batch, run_native, run_native_abi, run_native_bytes, NativeAbi, NativeRun,
};
pub use signatures::RecoveredSignatures;
pub use store::{copy_blob_element, genesis, BlobStore, NodeStore};

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
/// | `bignum` | `(iters: i32) -> i64` | `iters` schoolbook multiplications of 32-limb (2048-bit) numbers through u128 limb products, each round's multiplicand folded from the last product; returns a checksum of the last product. Measures 64-bit multiply-and-carry arithmetic. |
/// | `bytes` | `(len: i32, iters: i32) -> i64` | `iters` passes over `len` xorshift bytes, each rewriting every byte, counting it in a 256-entry histogram and adding it to Fletcher-style sums; returns a checksum of sums and histogram. Measures byte loads/stores and table lookups. |
/// | `matmul` | `(n: i32) -> i64` | product of two `n × n` i64 matrices filled from xorshift32 (wrapping arithmetic), returns a checksum of the product. Measures a dense multiply-add loop over `24 n²` bytes of memory. |
///
/// Negative arguments are treated as 0. `sort`, `keccak`, `bytes` and `matmul`
/// trap only if memory cannot grow to `4 n`, `len`, `len` or `24 n²` bytes.
pub const WORKLOADS_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/workloads.wasm"));

/// The rollup's state-transition function (`program/guest`): exports `run: [] -> []`, imports the
/// `hauptbuch` host ABI (see `program/README.md`) with keccak256 and ecrecover as host precompiles.
pub const STF_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/stf.wasm"));

/// The same STF with keccak256 and secp256k1 recovery compiled into the guest (no precompile
/// imports): the pure-WebAssembly baseline the precompiles are measured against.
pub const STF_PURE_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/stf_pure.wasm"));

/// The rollup's product STF, the EVM (`program/evm-guest` over `program/evm`): exports `run: [] ->
/// []` (one batch) and `run_state_test: [] -> []` (one Ethereum state-test case), imports the
/// `hauptbuch` host ABI with keccak256 and ecrecover as host precompiles.
pub const EVM_STF_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/evm_stf.wasm"));
