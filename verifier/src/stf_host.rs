//! The provable semantics of the STF guest's `hauptbuch` imports: what the one-step checker runs for
//! a host-call step, with the data the prover's host supplies as a witness.
//!
//! The host's own state is committed in the machine's host root ([`StfHostState::commitment`]):
//! the batch (the inbox message, as a [`bytes_commitment`] so a read opens only its chunk) and the
//! hash of the outputs written so far. Each import is checked against what the checker already
//! trusts (program/README.md):
//!
//! | import | witness | checked by |
//! |---|---|---|
//! | `inbox_len`, `read_inbox` | the host state and the batch chunk leaves read | host root; batch root |
//! | `read_preimage` | the preimage | hashing it to the requested hash |
//! | `write_output` | the host state | host root; the new root commits to keccak256(output) |
//! | `emit_node` | — | bounds only (the state root commits to the nodes) |
//! | `keccak256`, `ecrecover` | — | recomputed natively |
//! | `read_blob` | the field element, the blob's KZG commitment and the opening proof | the commitment against the requested versioned hash; the KZG opening at the element's evaluation point ([`crate::blobs`]; on L1 the point-evaluation precompile) |
//!
//! A preimage nobody can produce makes the step unprovable: `read_preimage` answering "unknown"
//! (-1), or `read_blob` answering 0, is not accepted by the checker, since no witness can show a
//! preimage does not exist. The STF only asks for nodes under the agreed pre-state root, which
//! exist, and for blobs whose versioned hashes the inbox wrote from `BLOBHASH`, which L1 carried.

use bincode::{Decode, Encode};

use program::ledger::MAX_CHUNK;
use vm::commitment::bytes_commitment_from_root;
use vm::merkle::{height_for, keccak, Hash};
use vm::multiproof::PartialTree;
use vm::proof::{HostFault, HostSemantics, ImportDecl, StepMemory, TreeOpening};
use vm::Trap;

/// Host trap codes (what `Trap::Host(code)` carries); the prover's host uses the same.
pub const TRAP_CHUNK_TOO_LARGE: u32 = 1;
pub const TRAP_BAD_ARGUMENT: u32 = 2;

pub const IMPORT_MODULE: &str = "hauptbuch";

/// Largest preimage a witness may carry (trie nodes are 49 or 65 bytes); it must fit a proof.
pub const MAX_PREIMAGE: usize = 1 << 15;

const DOMAIN: &[u8; 22] = b"hauptbuch.stf.host.v1\0";

/// The host's committed state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StfHostState {
    pub batch_len: u32,
    /// Root of the batch bytes in 32-byte leaves ([`vm::commitment::bytes_tree`]).
    pub batch_root: Hash,
    /// keccak256 of the last `write_output`, zero before it.
    pub output_hash: Hash,
}

impl StfHostState {
    /// The host root: keccak256(domain ‖ batch commitment ‖ output hash).
    pub fn commitment(&self) -> Hash {
        Self::commitment_from(
            &bytes_commitment_from_root(self.batch_len, &self.batch_root),
            &self.output_hash,
        )
    }

    /// The host root from the batch's commitment and the output hash: what L1 recomputes when a
    /// batch is asserted (the step-0 and the final machine hash differ only here).
    pub fn commitment_from(batch_commitment: &Hash, output_hash: &Hash) -> Hash {
        let mut bytes = Vec::with_capacity(DOMAIN.len() + 64);
        bytes.extend_from_slice(DOMAIN);
        bytes.extend_from_slice(batch_commitment);
        bytes.extend_from_slice(output_hash);
        keccak(&bytes)
    }
}

/// What the prover's host supplies for one call.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum StfWitness {
    None,
    /// `inbox_len`, `read_inbox`: the host state and the chunk leaves read.
    Inbox {
        state: StfHostState,
        chunk: TreeOpening,
    },
    /// `read_preimage`.
    Preimage(Vec<u8>),
    /// `write_output`.
    State(StfHostState),
    /// `read_blob`: the element and what opens it.
    BlobElement {
        value: [u8; 32],
        commitment: [u8; 48],
        proof: [u8; 48],
    },
}

impl StfWitness {
    pub fn encode(&self) -> Vec<u8> {
        bincode::encode_to_vec(self, bincode::config::standard()).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<StfWitness, HostFault> {
        let config = bincode::config::standard().with_limit::<{ vm::proof::DECODE_LIMIT }>();
        match bincode::decode_from_slice(bytes, config) {
            Ok((w, read)) if read == bytes.len() => Ok(w),
            _ => Err(reject("malformed host witness")),
        }
    }
}

fn reject(why: &str) -> HostFault {
    HostFault::Reject(why.to_string())
}

fn host_trap(code: u32) -> HostFault {
    HostFault::Trap(Trap::Host(code))
}

/// The imports: name, parameter and result type codes (i32 0x7f, i64 0x7e), in id order.
pub const IMPORTS: [(&str, &[u8], &[u8]); 8] = [
    ("inbox_len", &[], &[0x7f]),
    ("read_inbox", &[0x7f, 0x7f, 0x7f], &[0x7f]),
    ("read_preimage", &[0x7f, 0x7f, 0x7f, 0x7f], &[0x7e]),
    ("emit_node", &[0x7f, 0x7f], &[]),
    ("write_output", &[0x7f, 0x7f], &[]),
    ("keccak256", &[0x7f, 0x7f, 0x7f], &[]),
    ("ecrecover", &[0x7f, 0x7f, 0x7f], &[0x7f]),
    ("read_blob", &[0x7f, 0x7f, 0x7f], &[0x7f]),
];

/// Bytes a call may move: more traps.
fn bounded(len: u32) -> Result<usize, HostFault> {
    if len as usize > MAX_CHUNK {
        Err(host_trap(TRAP_CHUNK_TOO_LARGE))
    } else {
        Ok(len as usize)
    }
}

fn read<const N: usize>(memory: &mut dyn StepMemory, addr: u32) -> Result<[u8; N], HostFault> {
    let mut out = [0u8; N];
    memory.read(addr as u64, &mut out)?;
    Ok(out)
}

fn read_vec(memory: &mut dyn StepMemory, addr: u32, len: u32) -> Result<Vec<u8>, HostFault> {
    let mut out = vec![0u8; bounded(len)?];
    memory.read(addr as u64, &mut out)?;
    Ok(out)
}

/// The host state a witness claims, checked against the machine's host root.
fn checked_state(state: &StfHostState, host_root: &Hash) -> Result<(), HostFault> {
    if state.commitment() == *host_root {
        Ok(())
    } else {
        Err(reject("host state does not match the host root"))
    }
}

/// The STF host's provable semantics.
pub struct StfSemantics;

impl HostSemantics for StfSemantics {
    fn call(
        &self,
        import: &ImportDecl,
        args: &[u64],
        witness: &[u8],
        memory: &mut dyn StepMemory,
        host_root: &mut Hash,
    ) -> Result<Vec<u64>, HostFault> {
        let id = IMPORTS
            .iter()
            .position(|(name, params, results)| {
                import.module == IMPORT_MODULE
                    && import.name == *name
                    && import.params == *params
                    && import.results == *results
            })
            .ok_or_else(|| reject("not an STF import"))?;
        // Parameters are i32 words (validated types); take their low 32 bits.
        let arg = |i: usize| -> Result<u32, HostFault> {
            args.get(i)
                .map(|w| *w as u32)
                .ok_or(host_trap(TRAP_BAD_ARGUMENT))
        };
        let witness = StfWitness::decode(witness)?;
        match id {
            0 => {
                let StfWitness::Inbox { state, .. } = witness else {
                    return Err(reject("inbox_len needs the host state"));
                };
                checked_state(&state, host_root)?;
                Ok(vec![state.batch_len as u64])
            }
            1 => {
                let (offset, ptr, len) = (arg(0)?, arg(1)?, arg(2)?);
                let len = bounded(len)?;
                let StfWitness::Inbox { state, chunk } = witness else {
                    return Err(reject("read_inbox needs the host state and chunk"));
                };
                checked_state(&state, host_root)?;
                let n = (state.batch_len.saturating_sub(offset) as usize).min(len);
                let mut buf = vec![0u8; n];
                if n > 0 {
                    let height = height_for((state.batch_len as u64).div_ceil(32));
                    let tree = PartialTree::open(
                        height,
                        &state.batch_root,
                        &chunk.leaves,
                        &chunk.siblings,
                    )
                    .map_err(|e| reject(&format!("batch chunk: {e}")))?;
                    tree.read_bytes(offset as u64, &mut buf)
                        .map_err(|_| reject("batch chunk not opened"))?;
                }
                memory.write(ptr as u64, &buf)?;
                Ok(vec![n as u64])
            }
            2 => {
                let hash = read::<32>(memory, arg(0)?)?;
                let (offset, ptr, len) = (arg(1)?, arg(2)?, arg(3)?);
                let len = bounded(len)?;
                let StfWitness::Preimage(preimage) = witness else {
                    return Err(reject("read_preimage needs the preimage"));
                };
                if preimage.len() > MAX_PREIMAGE || keccak(&preimage) != hash {
                    return Err(reject(
                        "the witness is not the preimage of the requested hash",
                    ));
                }
                let rest = preimage.get(offset as usize..).unwrap_or_default();
                let n = rest.len().min(len);
                memory.write(ptr as u64, rest.get(..n).unwrap_or_default())?;
                Ok(vec![preimage.len() as u64])
            }
            3 => {
                let (ptr, len) = (arg(0)?, arg(1)?);
                let len = bounded(len)?;
                // The host reads the node; only the bounds matter to the machine.
                match (ptr as u64).checked_add(len as u64) {
                    Some(end) if end <= memory.size() => Ok(vec![]),
                    _ => Err(HostFault::Trap(Trap::MemoryOutOfBounds)),
                }
            }
            4 => {
                let bytes = read_vec(memory, arg(0)?, arg(1)?)?;
                let StfWitness::State(mut state) = witness else {
                    return Err(reject("write_output needs the host state"));
                };
                checked_state(&state, host_root)?;
                state.output_hash = keccak(&bytes);
                *host_root = state.commitment();
                Ok(vec![])
            }
            5 => {
                let data = read_vec(memory, arg(0)?, arg(1)?)?;
                let hash = keccak(&data);
                memory.write(arg(2)? as u64, &hash)?;
                Ok(vec![])
            }
            6 => {
                let hash = read::<32>(memory, arg(0)?)?;
                let sig = read::<65>(memory, arg(1)?)?;
                match program::ecrecover(&hash, &sig) {
                    Some(address) => {
                        memory.write(arg(2)? as u64, &address)?;
                        Ok(vec![1])
                    }
                    None => Ok(vec![0]),
                }
            }
            _ => {
                let versioned = read::<32>(memory, arg(0)?)?;
                let index = arg(1)?;
                let StfWitness::BlobElement {
                    value,
                    commitment,
                    proof,
                } = witness
                else {
                    return Err(reject("read_blob needs the element and its opening"));
                };
                let opening = crate::blobs::ElementOpening {
                    value,
                    commitment,
                    proof,
                };
                if !crate::blobs::verify_element(&versioned.into(), index, &opening) {
                    return Err(reject(
                        "the witness does not open the blob's element at the index",
                    ));
                }
                memory.write(arg(2)? as u64, &value)?;
                Ok(vec![1])
            }
        }
    }
}
