//! Settlement on L1: the rollup's contracts (`contracts/src/Inbox.sol`, `Rollup.sol`), what they
//! compute, and typed calls to them through any [`crate::l1::L1`].

pub mod commitments;

pub use commitments::{host_root, BatchCommitment, MachineOpening};
pub mod contracts;
pub mod guardian;

pub use contracts::{deploy, Deployment, GuardianConfig, SettlementConfig};
