//! The rollup node (in progress): its persistent store, the sequencer's mempool checks and the
//! JSON-RPC interface.

pub mod mempool;
pub mod rpc;
pub mod sequencer;
pub mod store;

pub use store::{NodeDb, StoreError};
