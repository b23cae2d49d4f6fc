//! Execution: the machine and its run loop (the fast path), and the semantics of one step over
//! any state (what proofs record and the checker re-runs), sharing one definition of each operator.

pub mod machine;
pub mod numeric;
pub mod semantics;
pub mod step;
