//! A host for the ledger's own unit tests: sha3 for keccak256 and, instead of
//! secp256k1 (the ledger has no crypto crate; `program` tests the real
//! thing), a mock signature scheme: `signature = address (20) ||
//! keccak256(address || msg_hash) (32) || 12 zero bytes || v = 0`.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use sha3::{Digest, Keccak256};

use crate::abi::{Abi, MAX_CHUNK};
use crate::types::{Address, Hash};

pub fn keccak(data: &[u8]) -> Hash {
    Keccak256::digest(data).into()
}

pub fn mock_sign(address: &Address, msg_hash: &Hash) -> [u8; 65] {
    let mut input = Vec::from(&address[..]);
    input.extend_from_slice(msg_hash);
    let mut sig = [0u8; 65];
    sig[..20].copy_from_slice(address);
    sig[20..52].copy_from_slice(&keccak(&input));
    sig
}

#[derive(Default)]
pub struct TestAbi {
    pub inbox: Vec<u8>,
    pub store: BTreeMap<Hash, Vec<u8>>,
    pub outputs: Vec<Vec<u8>>,
    pub emitted: Vec<Vec<u8>>,
    /// Pretend the inbox is this long (to test TooLarge without the bytes).
    pub claimed_len: Option<u32>,
    /// Return at most this many inbox bytes per call (0 = stall).
    pub inbox_read_cap: Option<usize>,
    pub keccak_calls: usize,
    pub inbox_reads: usize,
    /// Blobs by (mock) versioned hash; the ledger never checks a blob against its hash (the
    /// host and the checkers do).
    pub blobs: BTreeMap<Hash, Vec<u8>>,
    pub blob_reads: usize,
}

impl TestAbi {
    pub fn with_inbox(inbox: Vec<u8>, store: BTreeMap<Hash, Vec<u8>>) -> Self {
        Self {
            inbox,
            store,
            ..Self::default()
        }
    }
}

impl Abi for TestAbi {
    fn inbox_len(&mut self) -> u32 {
        self.claimed_len
            .unwrap_or(u32::try_from(self.inbox.len()).unwrap())
    }

    fn read_inbox(&mut self, offset: u32, buf: &mut [u8]) -> u32 {
        self.inbox_reads += 1;
        let offset = offset as usize;
        let rest = self.inbox.get(offset..).unwrap_or(&[]);
        let cap = self.inbox_read_cap.unwrap_or(MAX_CHUNK);
        let n = rest.len().min(buf.len()).min(MAX_CHUNK).min(cap);
        buf[..n].copy_from_slice(&rest[..n]);
        n as u32
    }

    fn read_preimage(&mut self, hash: &[u8; 32], offset: u32, buf: &mut [u8]) -> Option<u32> {
        let node = self.store.get(hash)?;
        let rest = node.get(offset as usize..).unwrap_or(&[]);
        let n = rest.len().min(buf.len()).min(MAX_CHUNK);
        buf[..n].copy_from_slice(&rest[..n]);
        Some(node.len() as u32)
    }

    fn emit_node(&mut self, node: &[u8]) {
        assert!(node.len() <= MAX_CHUNK);
        self.store.insert(keccak(node), node.to_vec());
        self.emitted.push(node.to_vec());
    }

    fn write_output(&mut self, bytes: &[u8]) {
        assert!(bytes.len() <= MAX_CHUNK);
        self.outputs.push(bytes.to_vec());
    }

    fn keccak256(&mut self, data: &[u8]) -> [u8; 32] {
        assert!(data.len() <= MAX_CHUNK, "keccak256 of {} bytes", data.len());
        self.keccak_calls += 1;
        keccak(data)
    }

    fn ecrecover(&mut self, msg_hash: &[u8; 32], sig: &[u8; 65]) -> Option<[u8; 20]> {
        assert!(sig[64] <= 1, "the ledger must filter v itself");
        let address: Address = sig[..20].try_into().unwrap();
        (mock_sign(&address, msg_hash) == *sig).then_some(address)
    }

    fn read_blob(&mut self, versioned_hash: &[u8; 32], index: u32, out: &mut [u8; 32]) -> bool {
        self.blob_reads += 1;
        let at = 32 * index as usize;
        match self
            .blobs
            .get(versioned_hash)
            .and_then(|blob| blob.get(at..at + 32))
        {
            Some(element) => {
                out.copy_from_slice(element);
                true
            }
            None => false,
        }
    }
}

/// splitmix64, for reproducible test data without a rand crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn address(&mut self) -> Address {
        let mut a = [0u8; 20];
        for chunk in a.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        a
    }
}

pub fn hex(bytes: &[u8]) -> alloc::string::String {
    use core::fmt::Write;
    let mut s = alloc::string::String::new();
    for b in bytes {
        write!(s, "{b:02x}").unwrap();
    }
    s
}
