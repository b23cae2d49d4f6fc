//! The EVM STF guest: `run()` executes one batch through `evm_stf::execute`, `run_state_test()`
//! one Ethereum state-test case; both reach the world only through the `hauptbuch` imports
//! (documented in `program/README.md`).
//!
//! Two hooks route the EVM's cryptography to the host's one-step calls: alloy's `keccak256`
//! (`native_keccak256` below: inputs up to `MAX_CHUNK` bytes go to the host, longer ones are
//! hashed here) and revm's ecrecover precompile (an installed `Crypto` provider).

#![no_std]

extern crate alloc;

use ledger::{Abi, Config, MAX_CHUNK};
use revm::precompile::{Crypto, PrecompileHalt};

#[link(wasm_import_module = "hauptbuch")]
extern "C" {
    fn inbox_len() -> u32;
    fn read_inbox(offset: u32, ptr: *mut u8, len: u32) -> u32;
    /// Returns the preimage's total length, or -1 when the host does not know it.
    fn read_preimage(hash_ptr: *const u8, offset: u32, ptr: *mut u8, len: u32) -> i64;
    fn emit_node(ptr: *const u8, len: u32);
    fn write_output(ptr: *const u8, len: u32);
    fn keccak256(ptr: *const u8, len: u32, out_ptr: *mut u8);
    /// Writes the 20-byte signer address and returns 1, or returns 0 for an invalid signature.
    fn ecrecover(hash_ptr: *const u8, sig_ptr: *const u8, out_ptr: *mut u8) -> u32;
    /// Writes field element `index` of the blob with this versioned hash and returns 1, or
    /// returns 0 when the host does not know the blob.
    fn read_blob(hash_ptr: *const u8, index: u32, out_ptr: *mut u8) -> u32;
}

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

struct Imports;

impl Abi for Imports {
    fn inbox_len(&mut self) -> u32 {
        unsafe { inbox_len() }
    }

    fn read_inbox(&mut self, offset: u32, buf: &mut [u8]) -> u32 {
        unsafe { read_inbox(offset, buf.as_mut_ptr(), buf.len() as u32) }
    }

    fn read_preimage(&mut self, hash: &[u8; 32], offset: u32, buf: &mut [u8]) -> Option<u32> {
        let total =
            unsafe { read_preimage(hash.as_ptr(), offset, buf.as_mut_ptr(), buf.len() as u32) };
        u32::try_from(total).ok()
    }

    fn emit_node(&mut self, node: &[u8]) {
        unsafe { emit_node(node.as_ptr(), node.len() as u32) }
    }

    fn write_output(&mut self, bytes: &[u8]) {
        unsafe { write_output(bytes.as_ptr(), bytes.len() as u32) }
    }

    fn read_blob(&mut self, versioned_hash: &[u8; 32], index: u32, out: &mut [u8; 32]) -> bool {
        unsafe { read_blob(versioned_hash.as_ptr(), index, out.as_mut_ptr()) == 1 }
    }

    fn keccak256(&mut self, data: &[u8]) -> [u8; 32] {
        keccak(data)
    }

    fn ecrecover(&mut self, msg_hash: &[u8; 32], sig: &[u8; 65]) -> Option<[u8; 20]> {
        let mut out = [0u8; 20];
        let ok = unsafe { ecrecover(msg_hash.as_ptr(), sig.as_ptr(), out.as_mut_ptr()) };
        (ok == 1).then_some(out)
    }
}

/// keccak256: one host call for up to `MAX_CHUNK` bytes (what a one-step proof can carry), in
/// the guest beyond that.
fn keccak(data: &[u8]) -> [u8; 32] {
    if data.len() <= MAX_CHUNK {
        let mut out = [0u8; 32];
        unsafe { keccak256(data.as_ptr(), data.len() as u32, out.as_mut_ptr()) };
        out
    } else {
        use sha3::{Digest, Keccak256};
        Keccak256::digest(data).into()
    }
}

/// alloy-primitives' `native-keccak` hook. Defined here, so the linker resolves it inside the
/// module and it never becomes an import.
#[no_mangle]
pub unsafe extern "C" fn native_keccak256(bytes: *const u8, len: usize, output: *mut u8) {
    let data = unsafe { core::slice::from_raw_parts(bytes, len) };
    let hash = keccak(data);
    unsafe { core::ptr::copy_nonoverlapping(hash.as_ptr(), output, 32) };
}

/// revm's precompiles with ecrecover through the host.
#[derive(Debug)]
struct HostCrypto;

/// secp256k1's group order n.
const SECP256K1_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

impl Crypto for HostCrypto {
    fn secp256k1_ecrecover(
        &self,
        sig: &[u8; 64],
        recid: u8,
        msg: &[u8; 32],
    ) -> Result<[u8; 32], PrecompileHalt> {
        use alloy_primitives::U256;
        // The precompile accepts a high s, the host (like transaction signatures) does not:
        // (r, s, v) and (r, n - s, v ^ 1) recover the same key.
        let order = U256::from_be_bytes(SECP256K1_ORDER);
        let s = U256::from_be_slice(&sig[32..]);
        let mut signature = [0u8; 65];
        signature[..32].copy_from_slice(&sig[..32]);
        let mut parity = recid;
        if s > order >> 1 && s < order {
            signature[32..64].copy_from_slice(&(order - s).to_be_bytes::<32>());
            parity ^= 1;
        } else {
            signature[32..64].copy_from_slice(&sig[32..]);
        }
        signature[64] = parity;
        let address = Imports
            .ecrecover(msg, &signature)
            .ok_or(PrecompileHalt::Secp256k1RecoverFailed)?;
        let mut word = [0u8; 32];
        word[12..].copy_from_slice(&address);
        Ok(word)
    }
}

fn install_host_crypto() {
    // A second install (a second run in one instance) keeps the first: the same provider.
    let _ = revm::install_crypto(HostCrypto);
}

/// Executes the batch in the inbox and writes its outputs.
#[no_mangle]
pub extern "C" fn run() {
    install_host_crypto();
    evm_stf::execute(&mut Imports, &Config::default());
}

/// Runs the state-test case in the inbox and writes its outcome.
#[no_mangle]
pub extern "C" fn run_state_test() {
    install_host_crypto();
    evm_stf::state_test::run_state_test(&mut Imports);
}
