//! What L1 computes about a batch and a claim, computed the same way in Rust: the batch
//! commitment the inbox stores, the batch root with the parent's state root folded in, and the
//! step-0 and final machine hashes as the rollup contract derives them. Consensus: the contracts
//! in `contracts/src/Inbox.sol` and `AssertionChain.sol` must agree byte for byte (tested through
//! revm in `tests/settlement.rs`).
//!
//! | value | bytes hashed (keccak256) |
//! |---|---|
//! | batch commitment | message length (u32 **BE**) ‖ siblings of leaf 0 in the message's bytes tree, bottom up |
//! | batch root | fold: `x = pre_state_root`, then `x = keccak256(x ‖ s_k)` for each sibling |
//! | batch root commitment | message length (u32 **LE**) ‖ batch root ([`vm::commitment::bytes_commitment_from_root`]) |
//! | host root | `"hauptbuch.stf.host.v1\0"` ‖ batch root commitment ‖ output hash (zero at step 0) |
//! | machine hash | hot (141) ‖ keccak256(cold prefix (180) ‖ host root) |
//!
//! Leaf 0 of a message is its pre-state root, the only part L1 cannot know when the batch is
//! posted; its siblings do not depend on it, so the inbox stores them (hashed) and the rollup
//! folds the parent assertion's root in when the batch is asserted.

use vm::commit::machine_hash::{ColdInputs, HashInputs, COLD_PREFIX_LEN, HOT_LEN};
use vm::commitment::{bytes_commitment_from_root, bytes_tree};
use vm::merkle::{hash_pair, Hash};
use vm::MachineHash;

use crate::stf_host::StfHostState;

fn keccak(parts: &[&[u8]]) -> Hash {
    vm::merkle::keccak(&parts.concat())
}

/// A posted batch as L1 commits to it: its length and leaf 0's siblings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchCommitment {
    pub length: u32,
    pub siblings: Vec<Hash>,
}

impl BatchCommitment {
    /// Of a message as the inbox builds it (leaf 0, the pre-state root, is ignored).
    pub fn of_message(message: &[u8]) -> Option<BatchCommitment> {
        let length = u32::try_from(message.len()).ok()?;
        let siblings = bytes_tree(message).path(0)?;
        Some(BatchCommitment { length, siblings })
    }

    /// What the inbox stores for the batch.
    pub fn hash(&self) -> Hash {
        let siblings: Vec<u8> = self.siblings.concat();
        keccak(&[&self.length.to_be_bytes(), &siblings])
    }

    /// The message's bytes-tree root once its leaf 0 is `pre_state_root`.
    pub fn root(&self, pre_state_root: &Hash) -> Hash {
        self.siblings
            .iter()
            .fold(*pre_state_root, |node, sibling| hash_pair(&node, sibling))
    }

    /// The host's commitment to the batch (what [`StfHostState`] hashes).
    pub fn root_commitment(&self, pre_state_root: &Hash) -> Hash {
        bytes_commitment_from_root(self.length, &self.root(pre_state_root))
    }
}

/// The host root over a batch root commitment and the outputs' hash (zero before the output).
pub fn host_root(batch_root_commitment: &Hash, output_hash: &Hash) -> Hash {
    StfHostState::commitment_from(batch_root_commitment, output_hash)
}

/// A machine state opened as far as L1 needs: everything but the host root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineOpening {
    pub hot: [u8; HOT_LEN],
    pub cold: [u8; COLD_PREFIX_LEN],
}

impl MachineOpening {
    pub fn of(inputs: &HashInputs) -> MachineOpening {
        MachineOpening {
            hot: inputs.hot_bytes(),
            cold: ColdInputs::prefix_bytes(&inputs.cold),
        }
    }

    /// The machine hash with `host_root` folded in.
    pub fn hash_with_host(&self, host_root: &Hash) -> MachineHash {
        MachineHash(keccak(&[&self.hot, &keccak(&[&self.cold, host_root])]))
    }

    /// keccak256(hot ‖ cold): what the rollup config pins for the STF's step-0 machine.
    pub fn commitment(&self) -> Hash {
        keccak(&[&self.hot, &self.cold])
    }

    /// The module hash the opening commits to.
    pub fn module_hash(&self) -> Hash {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.hot[HOT_LEN - 32..]);
        out
    }
}
