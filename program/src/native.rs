//! The ledger run natively on the host: the reference the wasm guest (on
//! wasmtime and on the interpreter) must agree with, and the fast path for
//! building states in tests and tools.

use ledger::{Abi, Batch, BatchOutputs, Config, Execution, Hash};

use std::collections::BTreeMap;

use std::sync::Arc;

use crate::crypto::{ecrecover, keccak256};
use crate::signatures::RecoveredSignatures;
use crate::store::{copy_blob_element, copy_preimage, BlobStore, NodeStore};

/// The host ABI served natively: the inbox is `batch_bytes`, preimages come
/// from `store`, emitted nodes go into `store`, the output lands in
/// `outputs`; keccak256 and ecrecover are [`crate::crypto`]'s.
#[derive(Clone, Debug, Default)]
pub struct NativeAbi {
    pub batch_bytes: Vec<u8>,
    pub store: NodeStore,
    /// What the ledger passed to `write_output` (the last call's bytes).
    pub outputs: Option<Vec<u8>>,
    /// Number of `emit_node` calls.
    pub emitted: usize,
    /// Signatures recovered ahead (same results, sooner); the rest are recovered on demand.
    pub signatures: Option<Arc<RecoveredSignatures>>,
    /// When `Some`, the preimage of every 20- and 32-byte keccak256 the guest asks for: the
    /// addresses and slots behind the EVM state's trie keys, so the host can list the state.
    pub key_preimages: Option<BTreeMap<Hash, Vec<u8>>>,
    /// The blobs of the batch, if it was posted in blobs.
    pub blobs: BlobStore,
}

impl NativeAbi {
    pub fn new(batch_bytes: Vec<u8>, store: NodeStore) -> Self {
        Self {
            batch_bytes,
            store,
            outputs: None,
            emitted: 0,
            signatures: None,
            key_preimages: None,
            blobs: BlobStore::default(),
        }
    }

    /// Serves `read_blob` from `blobs`.
    pub fn with_blobs(mut self, blobs: BlobStore) -> Self {
        self.blobs = blobs;
        self
    }

    /// Records the trie keys' preimages (see [`NativeAbi::key_preimages`]).
    pub fn recording_keys(mut self) -> Self {
        self.key_preimages.get_or_insert_with(BTreeMap::new);
        self
    }

    /// Serves `ecrecover` from `signatures` where it can.
    pub fn with_signatures(mut self, signatures: Option<Arc<RecoveredSignatures>>) -> Self {
        self.signatures = signatures;
        self
    }
}

impl Abi for NativeAbi {
    fn inbox_len(&mut self) -> u32 {
        // A message past 4 GiB reads as 4 GiB - 1 bytes long: over any
        // sensible `max_batch_bytes`, so the batch is refused unread.
        u32::try_from(self.batch_bytes.len()).unwrap_or(u32::MAX)
    }

    fn read_inbox(&mut self, offset: u32, buf: &mut [u8]) -> u32 {
        let rest = self.batch_bytes.get(offset as usize..).unwrap_or_default();
        let n = rest.len().min(buf.len()).min(ledger::MAX_CHUNK);
        buf[..n].copy_from_slice(&rest[..n]);
        n as u32
    }

    fn read_preimage(&mut self, hash: &[u8; 32], offset: u32, buf: &mut [u8]) -> Option<u32> {
        copy_preimage(&self.store, hash, offset, buf)
    }

    fn emit_node(&mut self, node: &[u8]) {
        self.store.insert(node);
        self.emitted += 1;
    }

    fn write_output(&mut self, bytes: &[u8]) {
        self.outputs = Some(bytes.to_vec());
    }

    fn keccak256(&mut self, data: &[u8]) -> [u8; 32] {
        let hash = keccak256(data);
        if let Some(keys) = self.key_preimages.as_mut() {
            if data.len() == 20 || data.len() == 32 {
                keys.insert(hash, data.to_vec());
            }
        }
        hash
    }

    fn ecrecover(&mut self, msg_hash: &[u8; 32], sig: &[u8; 65]) -> Option<[u8; 20]> {
        if let Some(recovered) = self.signatures.as_ref().and_then(|s| s.get(msg_hash, sig)) {
            return recovered;
        }
        ecrecover(msg_hash, sig)
    }

    fn read_blob(&mut self, versioned_hash: &[u8; 32], index: u32, out: &mut [u8; 32]) -> bool {
        copy_blob_element(&self.blobs, versioned_hash, index, out)
    }
}

/// Everything a native run produced.
#[derive(Clone, Debug)]
pub struct NativeRun {
    /// Outputs, per-transaction receipts and withdrawals.
    pub execution: Execution,
    /// The store after the batch: the input store plus every emitted node.
    pub store: NodeStore,
    /// The bytes the ledger wrote with `write_output`.
    pub output_bytes: Option<Vec<u8>>,
    /// Nodes emitted.
    pub emitted: usize,
}

/// Runs the batch whose encoded bytes are `batch_bytes` (well-formed or
/// not) against `store` under `config`.
pub fn run_native_bytes(batch_bytes: Vec<u8>, store: NodeStore, config: &Config) -> NativeRun {
    run_native_abi(NativeAbi::new(batch_bytes, store), config)
}

/// Runs the ledger on `abi` (its inbox, store and signature cache).
pub fn run_native_abi(mut abi: NativeAbi, config: &Config) -> NativeRun {
    let execution = ledger::execute(&mut abi, config);
    NativeRun {
        execution,
        store: abi.store,
        output_bytes: abi.outputs,
        emitted: abi.emitted,
    }
}

/// Runs `batch` against `store` with the default [`Config`]; returns the
/// outputs and the store with the batch's new nodes added.
pub fn run_native(batch: &Batch, store: NodeStore) -> (BatchOutputs, NodeStore) {
    let run = run_native_bytes(encode_batch(batch), store, &Config::default());
    (run.execution.outputs, run.store)
}

/// The inbox bytes of `batch`.
pub fn encode_batch(batch: &Batch) -> Vec<u8> {
    // bincode's encoding into a Vec fails only for types whose own Encode
    // impl returns an error; a Batch's fields never do.
    batch.to_bytes().expect("encoding a Batch into a Vec")
}
