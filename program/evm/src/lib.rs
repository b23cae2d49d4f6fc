//! The Hauptbuch rollup's EVM state-transition function: revm over the project's binary state
//! trie, behind the same host ABI ([`ledger::Abi`]) and batch layout as the transfer ledger.
//!
//! One crate, two builds, as for the ledger: natively it is the reference the node runs to serve
//! blocks, receipts and state; compiled to `wasm32-unknown-unknown` and wrapped by
//! `program/evm-guest` it is what the provable VM executes. keccak256 and ecrecover are host calls
//! (the guest routes alloy's `keccak256` and revm's ecrecover precompile to them); everything else,
//! the other precompiles included, is ordinary code. Nothing here depends on the target: ordered
//! maps only, no floats, no usize in consensus data.
//!
//! | module | its one job |
//! |---|---|
//! | [`state`] | the world state's layout in the trie and revm's `Database` over it |
//! | [`transaction`] | EIP-2718 bytes to a sender-recovered transaction and revm's `TxEnv` |
//! | [`execution`] | one transaction through revm (the only place the EVM is built) |
//! | [`block`] | L2 blocks: head, base fee, block hash |
//! | [`receipts`] | receipts and their commitment |
//! | [`system`] | the system accounts: withdrawal contract, block history |
//! | [`batch`] | [`batch::execute`]: an inbox message to blocks, receipts and outputs |
//! | [`genesis`] | building a state from accounts (genesis, state-test pre-states) |
//! | [`state_test`] | one Ethereum state-test case through the same code |
#![no_std]

extern crate alloc;

pub mod batch;
pub mod block;
pub mod execution;
pub mod genesis;
pub mod receipts;
pub mod state;
pub mod state_test;
pub mod system;
pub mod transaction;

pub use batch::{encode_message, execute, BlockList, EvmExecution, L2Block, SealedBlock, L2_SPEC};
pub use genesis::{build_state, rollup_genesis, GenesisAccount};
pub use receipts::{EntryKind, Outcome, Receipt, Refusal};
pub use state::{AccountLeaf, StateDb, StateError};
