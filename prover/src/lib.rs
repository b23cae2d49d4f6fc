//! The honest actor: running a batch of the STF guest on the provable interpreter or on
//! wasmtime, with the preimage oracle backed by a node store; and disputing an execution claim
//! (checkpoints, the honest agent, dishonest agents for tests, the game driver); and the
//! actors on L1 (posting batches, asserting, confirming, claiming withdrawals).

pub mod config;
pub mod dispute;
pub mod node;
pub mod runner;
pub mod settlement;
pub mod state_test;
pub mod stf_host;

pub use runner::{run_batch, BatchRun, Engine, RunError, StfGuest};
pub use stf_host::StfHost;
