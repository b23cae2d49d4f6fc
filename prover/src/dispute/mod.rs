//! The honest (and, for tests, dishonest) side of a dispute over one execution claim.
//!
//! | module | its one job |
//! |---|---|
//! | [`computation`] | what is disputed: a machine at step 0, its host, the host's provable semantics |
//! | [`checkpoints`] | one run of it, snapshots every so often; hashes, proofs and ops at any step |
//! | [`agent`] | moves, the [`Agent`] trait and the [`HonestAgent`] |
//! | [`liar`] | the dishonest strategies ([`Lie`]) |
//! | [`driver`] | [`run_dispute`]: two agents, the referee, a logical clock, a [`DisputeReport`] |
//! | [`tree`] | the dispute tree on L1 from a party's side: its run (true or lying), the tree read from L1, moves sent |
//! | [`onchain`] | [`play_until_decided`]: any number of parties on L1's contract, the Rust referee as their model |
//! | [`replay`] | the cheap wasmtime replay that decides whether a batch assertion is worth disputing |
//!
//! Who wins is the referee's call ([`verifier::bisection`]); nothing here decides it.

pub mod agent;
pub mod checkpoints;
pub mod computation;
pub mod driver;
pub mod liar;
pub mod onchain;
pub mod replay;
pub mod tree;

pub use agent::{Agent, HonestAgent, Move};
pub use checkpoints::{checkpoint_count, Checkpoints};
pub use computation::{Computation, SemanticsChecker};
pub use driver::{run_dispute, DisputeReport, OneStepRecord, RefusedMove, RoundRecord};
pub use liar::{Liar, Lie};
pub use onchain::{
    play_until_decided, Contestant, DisputeReport as TreeReport, Mirror, OnchainError,
};
pub use replay::{differing_outputs, replay_outputs};

/// Why a dispute could not be played (never "who won": that is in the report).
#[derive(Debug, thiserror::Error)]
pub enum DisputeError {
    #[error(transparent)]
    Vm(#[from] vm::VmError),
    #[error(transparent)]
    Run(#[from] crate::runner::RunError),
    #[error("cannot build a one-step proof: {0}")]
    Prove(#[from] vm::proof::ProveError),
    #[error("the referee refuses the game's configuration: {0}")]
    Config(#[from] verifier::bisection::ConfigError),
    #[error("the referee refused a timeout claim: {0}")]
    Referee(String),
    #[error("the game was not decided within {0} moves")]
    TooManyMoves(u32),
    #[error("dispute driver invariant broken: {0}")]
    Unexpected(&'static str),
}
