//! The referee: what would live on L1. It never runs whole programs; it checks.
//!
//! * [`one_step`]: the stateless one-step checker, [`verify_step`].

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod one_step;

pub use one_step::{verify_step_with, ProofError};
