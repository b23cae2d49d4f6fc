//! The rollup node (issue in progress): its persistent store so far.

pub mod store;

pub use store::{NodeDb, StoreError};
