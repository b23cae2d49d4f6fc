//! The rollup node: a persistent store, the sequencer's mempool and batches, a follower that
//! replays every batch L1 holds, the duties on the assertions and the unattended disputes. The
//! config key `stf` picks the state-transition function: the EVM (the product: L2 blocks, the
//! Ethereum JSON-RPC) or the transfer ledger (the second, small STF); everything from the
//! follower's outputs on (duties, games, withdrawals) is the same for both.
//!
//! | module | its one job |
//! |---|---|
//! | [`store`] | redb: trie nodes, batches, receipts, withdrawals, mempool, head, L1 cursor |
//! | [`mempool`] | what the sequencer admits, each refusal named |
//! | [`admission`] | admission with group commit: durable before acknowledged, one sync per group |
//! | [`state`] | what a turn writes and the RPC reads, behind one lock |
//! | [`rpc`] | JSON-RPC 2.0 over HTTP: the reads, and `hb_sendTransaction` on a sequencer (or a validator standing in for a silent one) |
//! | [`sequencer`] | posting the next batch from the mempool and the pending delayed messages; who may post |
//! | [`follower`] | applying every posted batch in order, rebuilt from L1's logs and checked against the stored commitment (wasmtime, the native ledger alongside; the next batch read ahead) |
//! | [`chain`] | the assertions and their dispute tree as L1 shows them |
//! | [`duties`] | judge whole claims, assert with a moving stake, confirm, reject the voided, withdraw stake and credits |
//! | [`player`] | every dispute of a batch it agrees with the parent of (and a fault's attacks), from L1 every turn |
//! | [`client`] | a blocking JSON-RPC client for the node (user commands, tests, benches) |
//! | [`service`] | a node: its turn, its RPC server, the embedded L1 kept in a data dir, the wall clock |
//! | [`pacing`] | how a loop of turns waits: the poll interval, the backoff after a failure, a stop |
//! | [`l1_server`] | the embedded L1, shared by call, served over Ethereum JSON-RPC |
//! | [`eth_api`] | what the two Ethereum JSON-RPC servers share: geth's codes and words, params, receipts, the server |
//! | [`evm_chain`] | the L2 chain on the EVM STF, in memory: pending pool, blocks, receipts, logs, state, calls, fees |
//! | [`eth_rpc`] | Ethereum JSON-RPC over the [`evm_chain`] (what wallets and tools talk to) |
//! | [`evm_follower`] | applying a posted EVM batch: replayed on wasmtime and natively, its blocks compared with the soft ones (kept, or replacing them) |
//! | [`evm_node`] | an EVM rollup's chain restored from the store, its soft blocks every `block_time`, their posting in batches, the Ethereum JSON-RPC |
//! | [`devnet`] | a whole local rollup in one process: the served L1, a sequencer and a validator |

pub mod admission;
pub mod chain;
pub mod client;
pub mod devnet;
pub mod duties;
pub mod eth_api;
pub mod eth_rpc;
pub mod evm_chain;
pub mod evm_follower;
pub mod evm_node;
pub mod follower;
pub mod l1_server;
pub mod mempool;
pub mod pacing;
pub mod player;
pub mod rpc;
pub mod sequencer;
pub mod service;
pub mod state;
pub mod store;

pub use store::{NodeDb, StoreError};

use crate::settlement::SettleError;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Settle(#[from] SettleError),
    #[error(transparent)]
    L1(#[from] verifier::l1::L1Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the wasmtime replay's outputs differ from the native ledger's for batch {0}")]
    EnginesDisagree(u64),
    /// L1 (or the provider in front of it) does not give back a batch that commits to what the
    /// inbox stored: the node cannot follow past it, and says so.
    #[error("batch {0} cannot be rebuilt from L1: {1}")]
    Unreadable(u64, String),
    #[error("encoding: {0}")]
    Encode(String),
    #[error("{0}")]
    Game(String),
    /// The L2 chain could not take a block (an EVM rollup's soft blocks or posting).
    #[error("L2 blocks: {0}")]
    Blocks(String),
    #[error("{0}")]
    Setup(String),
}
