//! The Hauptbuch rollup's state-transition function (STF).
//!
//! One crate, two builds: compiled for the host it is the native reference
//! (the `program` crate runs it to build genesis states, to produce expected
//! outputs and for fast tests); compiled to `wasm32-unknown-unknown` and
//! wrapped by the guest it is what the provable VM executes and what every
//! dispute is about. Both builds run the same source, so they agree by
//! construction as long as nothing here depends on the target: no `usize`
//! widths leak into consensus data, no floats, no hash maps with random
//! state, and no crypto code of its own — every keccak256 and every signature
//! recovery is a call through [`abi::Abi`], which the host serves natively
//! (a bounded precompile the one-step checker can re-run).
//!
//! | module | its one job |
//! |---|---|
//! | [`abi`] | the guest's only view of the world: inbox, preimage oracle, node emission, output, precompiles |
//! | [`types`] | consensus data types and their bincode-2 byte layouts |
//! | [`signing`] | the domain-separated message a transaction's signature covers |
//! | [`trie`] | the binary state trie: node encodings, a lazily loaded partial trie, root computation |
//! | [`commitments`] | withdrawals root (rs_merkle's tree shape) and receipts root |
//! | [`stf`] | [`stf::execute_batch`]: decode the inbox, apply transactions, commit, write outputs |
//!
//! The STF must never panic on any input: malformed data yields a receipt
//! status (one transaction) or a rejected batch, and allocations are bounded
//! by the size of the input, never by a length the input claims.
#![no_std]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod abi;
pub mod blob;
pub mod commitments;
pub mod error;
pub mod section;
pub mod signing;
pub mod stf;
pub mod trie;
pub mod types;

pub use abi::{Abi, MAX_CHUNK};
pub use error::Error;
pub use stf::{execute, execute_batch, Execution};
pub use trie::{Account, PartialTrie, EMPTY_ROOT};
pub use types::{
    Address, Batch, BatchHeader, BatchOutputs, BatchStatus, Config, DelayedMessage, Deposit, Hash,
    InboxMessage, ReceiptStatus, RejectReason, Transaction, TransactionList, Withdrawal,
    MAX_FORCED_TRANSACTION_BYTES, OUTPUTS_LEN,
};

#[cfg(test)]
mod test_abi;
