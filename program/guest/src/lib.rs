//! The STF guest: `run()` executes one batch through `ledger::stf::execute_batch`, reaching the world
//! only through the `hauptbuch` imports below (documented in `program/README.md`).

#![no_std]

extern crate alloc;

mod bump;

use ledger::{Abi, Config};

#[link(wasm_import_module = "hauptbuch")]
extern "C" {
    fn inbox_len() -> u32;
    fn read_inbox(offset: u32, ptr: *mut u8, len: u32) -> u32;
    /// Returns the preimage's total length, or -1 when the host does not know it.
    fn read_preimage(hash_ptr: *const u8, offset: u32, ptr: *mut u8, len: u32) -> i64;
    fn emit_node(ptr: *const u8, len: u32);
    fn write_output(ptr: *const u8, len: u32);
    #[cfg(not(feature = "pure-crypto"))]
    fn keccak256(ptr: *const u8, len: u32, out_ptr: *mut u8);
    /// Writes the 20-byte signer address and returns 1, or returns 0 for an invalid signature.
    #[cfg(not(feature = "pure-crypto"))]
    fn ecrecover(hash_ptr: *const u8, sig_ptr: *const u8, out_ptr: *mut u8) -> u32;
    /// Writes field element `index` of the blob with this versioned hash and returns 1, or
    /// returns 0 when the host does not know the blob.
    fn read_blob(hash_ptr: *const u8, index: u32, out_ptr: *mut u8) -> u32;
}

#[global_allocator]
static ALLOCATOR: bump::Bump = bump::Bump::new();

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
        let total = unsafe { read_preimage(hash.as_ptr(), offset, buf.as_mut_ptr(), buf.len() as u32) };
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

    #[cfg(not(feature = "pure-crypto"))]
    fn keccak256(&mut self, data: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        unsafe { keccak256(data.as_ptr(), data.len() as u32, out.as_mut_ptr()) };
        out
    }

    #[cfg(not(feature = "pure-crypto"))]
    fn ecrecover(&mut self, msg_hash: &[u8; 32], sig: &[u8; 65]) -> Option<[u8; 20]> {
        let mut out = [0u8; 20];
        let ok = unsafe { ecrecover(msg_hash.as_ptr(), sig.as_ptr(), out.as_mut_ptr()) };
        (ok == 1).then_some(out)
    }

    #[cfg(feature = "pure-crypto")]
    fn keccak256(&mut self, data: &[u8]) -> [u8; 32] {
        use sha3::{Digest, Keccak256};
        Keccak256::digest(data).into()
    }

    #[cfg(feature = "pure-crypto")]
    fn ecrecover(&mut self, msg_hash: &[u8; 32], sig: &[u8; 65]) -> Option<[u8; 20]> {
        use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
        // Same rules as the precompile (`program::crypto::ecrecover`): v is 0 or 1 only. k256's
        // RecoveryId would also take the x-reduced ids 2 and 3.
        if sig[64] > 1 {
            return None;
        }
        let signature = Signature::from_slice(&sig[..64]).ok()?;
        if signature.normalize_s().is_some() {
            return None; // high-s: not canonical
        }
        let recovery = RecoveryId::from_byte(sig[64])?;
        let key = VerifyingKey::recover_from_prehash(msg_hash, &signature, recovery).ok()?;
        let point = key.to_encoded_point(false);
        let hash = self.keccak256(&point.as_bytes()[1..]);
        let mut address = [0u8; 20];
        address.copy_from_slice(&hash[12..]);
        Some(address)
    }
}

/// Executes the batch in the inbox and writes its outputs.
#[no_mangle]
pub extern "C" fn run() {
    ledger::execute_batch(&mut Imports, &Config::default());
}
