//! State commitments, all consensus formats with byte tables and golden vectors: Merkle trees and
//! multiproofs, the Merkleized linear memory, the module hash and the machine hash.

pub mod commitment;
pub mod machine_hash;
pub mod memory;
pub mod merkle;
pub mod multiproof;
