//! The honest actor. Today: running a batch of the STF guest on the provable interpreter or on
//! wasmtime, with the preimage oracle backed by a node store.

pub mod runner;
pub mod stf_host;

pub use runner::{run_batch, BatchRun, Engine, RunError, StfGuest};
pub use stf_host::StfHost;
