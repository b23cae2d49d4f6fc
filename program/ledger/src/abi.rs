//! The host ABI: the STF's only way in and out.
//!
//! Every call moves at most [`MAX_CHUNK`] bytes so that, in the provable VM,
//! each call is one step whose one-step proof carries its data and is
//! checked natively against a commitment the checker already trusts:
//!
//! | call | data it moves | what the checker verifies it against |
//! |---|---|---|
//! | [`Abi::inbox_len`] / [`Abi::read_inbox`] | a chunk of the batch message | the inbox commitment (hash of the batch bytes) |
//! | [`Abi::read_preimage`] | a chunk of the preimage of a keccak256 hash | the requested hash itself |
//! | [`Abi::read_blob`] | one 32-byte field element of an EIP-4844 blob | its KZG opening against the blob's versioned hash (the point-evaluation precompile) |
//! | [`Abi::emit_node`] | a new trie node for the host's node store | nothing (output only; the state root commits to it) |
//! | [`Abi::write_output`] | the encoded [`BatchOutputs`](crate::types::BatchOutputs) | nothing (it is the asserted result) |
//! | [`Abi::keccak256`] | at most `MAX_CHUNK` bytes in, 32 out | re-hashing natively |
//! | [`Abi::ecrecover`] | 32 + 65 bytes in, 20 out | re-running the recovery natively |
//!
//! keccak256 and ecrecover are precompiles rather than WebAssembly code for
//! speed: pure-WebAssembly secp256k1 recovery costs ~8.3 million instructions
//! and a 64-byte keccak ~11,200 (DESIGN.md), which would dominate every step
//! count downstream (replay, checkpoints, bisection depth).
//!
//! The STF treats a misbehaving host deterministically: a short or empty
//! inbox read makes the batch `Malformed`, a preimage whose bytes do not hash
//! to the request is treated as unknown.

/// The most bytes any single host call moves, in either direction.
/// 1 KiB keeps the largest one-step proof (a full `read_inbox`: the batch chunk and the memory it
/// overwrites, each with its Merkle paths) near 3.5 KiB; 4 KiB measured 10.7 KiB.
pub const MAX_CHUNK: usize = 1024;

/// What the STF needs from its host. Implemented by the wasm guest's
/// import shims, by the VM host runner and natively by `program::NativeAbi`.
pub trait Abi {
    /// Length in bytes of the current inbox message (the encoded batch).
    fn inbox_len(&mut self) -> u32;

    /// Copies inbox bytes starting at `offset` into `buf`, at most
    /// `min(buf.len(), MAX_CHUNK)` of them, and returns how many were copied
    /// (fewer only at the end of the message).
    fn read_inbox(&mut self, offset: u32, buf: &mut [u8]) -> u32;

    /// Copies preimage bytes of `hash` starting at `offset` into `buf`
    /// (at most `min(buf.len(), MAX_CHUNK)`); returns `Some(total preimage
    /// length)` or `None` if the preimage is unknown.
    fn read_preimage(&mut self, hash: &[u8; 32], offset: u32, buf: &mut [u8]) -> Option<u32>;

    /// Hands the host a trie node created by this batch (at most
    /// `MAX_CHUNK` bytes; trie nodes are 57 or 65) so it can serve it as a
    /// preimage to later batches.
    fn emit_node(&mut self, node: &[u8]);

    /// Writes the encoded `BatchOutputs` (at most `MAX_CHUNK` bytes). Called
    /// exactly once per batch, last.
    fn write_output(&mut self, bytes: &[u8]);

    /// keccak256 of `data`; `data.len() <= MAX_CHUNK` (the STF never hashes
    /// anything longer in one call: trie nodes, signing messages and leaves
    /// are small, and the receipts commitment is chained in pieces).
    fn keccak256(&mut self, data: &[u8]) -> [u8; 32];

    /// Ethereum-style address (last 20 bytes of keccak256 of the 64-byte
    /// uncompressed public key) of the key that signed `msg_hash`;
    /// `sig = r (32) || s (32) || v (1, 0 or 1)`. `None` if the signature is
    /// invalid: r or s zero or not below the group order, s in the high half
    /// (non-canonical, rejected to rule out malleability), v not 0 or 1, or
    /// no key recovers.
    fn ecrecover(&mut self, msg_hash: &[u8; 32], sig: &[u8; 65]) -> Option<[u8; 20]>;

    /// Field element `index` (below 4,096) of the EIP-4844 blob whose versioned hash is
    /// `versioned_hash`, big-endian, into `out`; `false` if the host does not know the blob (the
    /// STF then rejects the batch, as for an unknown trie node: the inbox only names blobs L1
    /// carried, which the host must fetch).
    fn read_blob(&mut self, versioned_hash: &[u8; 32], index: u32, out: &mut [u8; 32]) -> bool;
}
