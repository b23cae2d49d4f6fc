//! The rollup node (in progress): its persistent store and the sequencer's mempool checks.

pub mod mempool;
pub mod store;

pub use store::{NodeDb, StoreError};
