//! The STF guest's host: the `hauptbuch` imports, served by [`program::NativeAbi`] so that the
//! natively compiled ledger, wasmtime and the interpreter share one implementation of every call.
//!
//! Each call moves at most [`ledger::MAX_CHUNK`] bytes, so it is one bounded, provable step; a guest
//! asking for more traps with [`HostTrap::ChunkTooLarge`].

use std::sync::Arc;

use program::ledger::{Abi, MAX_CHUNK};
use program::NativeAbi;
use verifier::stf_host::{self, StfHostState, StfWitness};
use vm::commitment::bytes_tree;
use vm::merkle::LeafTree;
use vm::multiproof::multiproof_siblings;
use vm::proof::TreeOpening;
use vm::{FuncType, GuestMemory, Host, Trap, ValType, Value};

/// Host trap codes (what `Trap::Host(code)` carries), shared with the checker's semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum HostTrap {
    ChunkTooLarge = stf_host::TRAP_CHUNK_TOO_LARGE,
    BadArgument = stf_host::TRAP_BAD_ARGUMENT,
}

pub const IMPORT_MODULE: &str = stf_host::IMPORT_MODULE;

use stf_host::IMPORTS;

#[derive(Clone)]
pub struct StfHost {
    pub abi: NativeAbi,
    /// Calls served, per import (index as in [`IMPORT_NAMES`]): where the batch's work went.
    pub calls: [u64; IMPORTS.len()],
    /// The batch bytes in 32-byte leaves: read_inbox witnesses open it.
    batch_tree: Arc<LeafTree>,
    /// What the machine's host root commits to.
    state: StfHostState,
    /// `state.commitment()`, kept current: the machine reads it after every host call, and only
    /// `write_output` changes it.
    root: [u8; 32],
}

/// Import names in id order.
pub const IMPORT_NAMES: [&str; 8] = [
    "inbox_len",
    "read_inbox",
    "read_preimage",
    "emit_node",
    "write_output",
    "keccak256",
    "ecrecover",
    "read_blob",
];

fn u32_arg(args: &[Value], i: usize) -> Result<u32, Trap> {
    match args.get(i) {
        Some(Value::I32(v)) => Ok(*v as u32),
        _ => Err(Trap::Host(HostTrap::BadArgument as u32)),
    }
}

fn bounded(len: u32) -> Result<usize, Trap> {
    if len as usize > MAX_CHUNK {
        Err(Trap::Host(HostTrap::ChunkTooLarge as u32))
    } else {
        Ok(len as usize)
    }
}

fn read<const N: usize>(memory: &dyn GuestMemory, addr: u32) -> Result<[u8; N], Trap> {
    let mut out = [0u8; N];
    memory.read(addr as u64, &mut out)?;
    Ok(out)
}

fn read_vec(memory: &dyn GuestMemory, addr: u32, len: u32) -> Result<Vec<u8>, Trap> {
    let mut out = vec![0u8; bounded(len)?];
    memory.read(addr as u64, &mut out)?;
    Ok(out)
}

impl StfHost {
    pub fn new(abi: NativeAbi) -> StfHost {
        let batch_tree = bytes_tree(&abi.batch_bytes);
        let state = StfHostState {
            batch_len: u32::try_from(abi.batch_bytes.len()).unwrap_or(u32::MAX),
            batch_root: batch_tree.root(),
            output_hash: abi.outputs.as_deref().map_or([0; 32], program::keccak256),
        };
        StfHost {
            abi,
            calls: [0; IMPORTS.len()],
            batch_tree: Arc::new(batch_tree),
            root: state.commitment(),
            state,
        }
    }

    /// The committed host state (its hash is the machine's host root).
    pub fn state(&self) -> &StfHostState {
        &self.state
    }

    /// Element `index` of the blob whose versioned hash is at `hash_ptr`, with its KZG opening
    /// (computed here, only for a step that is proven); none for a blob the host lacks.
    fn blob_witness(&self, memory: &dyn GuestMemory, hash_ptr: u32, index: u32) -> StfWitness {
        let Ok(hash) = read::<32>(memory, hash_ptr) else {
            return StfWitness::None;
        };
        let Some(blob) = self.abi.blobs.get(&hash) else {
            return StfWitness::None;
        };
        match verifier::blobs::open_element(blob, index) {
            Ok(opening) => StfWitness::BlobElement {
                value: opening.value,
                commitment: opening.commitment,
                proof: opening.proof,
            },
            Err(_) => StfWitness::None,
        }
    }

    /// Opens the batch bytes `[offset, offset + len)` (clipped to the batch).
    fn inbox_witness(&self, offset: u32, len: u32) -> StfWitness {
        let end =
            (offset as u64 + len.min(MAX_CHUNK as u32) as u64).min(self.state.batch_len as u64);
        let mut leaves = Vec::new();
        let mut paths = Vec::new();
        if (offset as u64) < end {
            for leaf in offset as u64 / 32..=(end - 1) / 32 {
                if let (Some(value), Some(path)) = (
                    self.batch_tree.leaf(leaf as usize),
                    self.batch_tree.path(leaf as usize),
                ) {
                    leaves.push((leaf, value));
                    paths.push((leaf, path));
                }
            }
        }
        StfWitness::Inbox {
            state: self.state,
            chunk: TreeOpening {
                siblings: multiproof_siblings(self.batch_tree.height(), &paths),
                leaves,
            },
        }
    }
}

impl Host for StfHost {
    fn resolve_func(&mut self, module: &str, name: &str, ty: &FuncType) -> Result<u32, String> {
        if module != IMPORT_MODULE {
            return Err(format!(
                "the STF host only provides `{IMPORT_MODULE}` imports"
            ));
        }
        let id = IMPORTS
            .iter()
            .position(|(n, _, _)| *n == name)
            .ok_or_else(|| format!("unknown import {name}"))?;
        let (_, params, results) = IMPORTS[id];
        let types = |codes: &[u8]| -> Vec<ValType> {
            codes
                .iter()
                .filter_map(|c| ValType::from_code(*c))
                .collect()
        };
        let expected = FuncType {
            params: types(params),
            results: types(results),
        };
        if *ty != expected {
            return Err(format!("import {name} has type {ty}, expected {expected}"));
        }
        Ok(id as u32)
    }

    fn call(
        &mut self,
        id: u32,
        args: &[Value],
        memory: &mut dyn GuestMemory,
        results: &mut [Value],
    ) -> Result<(), Trap> {
        let arg = |i| u32_arg(args, i);
        if let Some(count) = self.calls.get_mut(id as usize) {
            *count += 1;
        }
        match id {
            0 => results[0] = Value::I32(self.abi.inbox_len() as i32),
            1 => {
                let (offset, ptr, len) = (arg(0)?, arg(1)?, arg(2)?);
                let mut buf = vec![0u8; bounded(len)?];
                let n = self.abi.read_inbox(offset, &mut buf) as usize;
                memory.write(ptr as u64, &buf[..n.min(buf.len())])?;
                results[0] = Value::I32(n as i32);
            }
            2 => {
                let hash = read::<32>(memory, arg(0)?)?;
                let (offset, ptr, len) = (arg(1)?, arg(2)?, arg(3)?);
                let mut buf = vec![0u8; bounded(len)?];
                let total = self.abi.read_preimage(&hash, offset, &mut buf);
                if let Some(total) = total {
                    let n = (total.saturating_sub(offset) as usize).min(buf.len());
                    memory.write(ptr as u64, &buf[..n])?;
                }
                results[0] = Value::I64(total.map_or(-1, i64::from));
            }
            3 => {
                let node = read_vec(memory, arg(0)?, arg(1)?)?;
                self.abi.emit_node(&node);
            }
            4 => {
                let bytes = read_vec(memory, arg(0)?, arg(1)?)?;
                self.state.output_hash = program::keccak256(&bytes);
                self.root = self.state.commitment();
                self.abi.write_output(&bytes);
            }
            5 => {
                let data = read_vec(memory, arg(0)?, arg(1)?)?;
                let hash = self.abi.keccak256(&data);
                memory.write(arg(2)? as u64, &hash)?;
            }
            6 => {
                let hash = read::<32>(memory, arg(0)?)?;
                let sig = read::<65>(memory, arg(1)?)?;
                match self.abi.ecrecover(&hash, &sig) {
                    Some(address) => {
                        memory.write(arg(2)? as u64, &address)?;
                        results[0] = Value::I32(1);
                    }
                    None => results[0] = Value::I32(0),
                }
            }
            7 => {
                let hash = read::<32>(memory, arg(0)?)?;
                let mut element = [0u8; 32];
                if self.abi.read_blob(&hash, arg(1)?, &mut element) {
                    memory.write(arg(2)? as u64, &element)?;
                    results[0] = Value::I32(1);
                } else {
                    results[0] = Value::I32(0);
                }
            }
            _ => return Err(Trap::Host(HostTrap::BadArgument as u32)),
        }
        Ok(())
    }

    fn commitment(&self) -> [u8; 32] {
        self.root
    }

    fn step_witness(&self, id: u32, args: &[Value], memory: &dyn GuestMemory) -> Vec<u8> {
        let arg = |i| u32_arg(args, i).unwrap_or(0);
        let witness = match id {
            0 => self.inbox_witness(0, 0),
            1 => self.inbox_witness(arg(0), arg(2)),
            2 => match read::<32>(memory, arg(0)) {
                Ok(hash) => match self.abi.store.get(&hash) {
                    Some(preimage) => StfWitness::Preimage(preimage.to_vec()),
                    None => StfWitness::None,
                },
                Err(_) => StfWitness::None,
            },
            4 => StfWitness::State(self.state),
            7 => self.blob_witness(memory, arg(0), arg(1)),
            _ => StfWitness::None,
        };
        witness.encode()
    }
}
