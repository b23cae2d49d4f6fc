//! The cheap check before a dispute: replay the batch on wasmtime and compare the outputs with
//! the assertion. Only a mismatch is worth the interpreter run, checkpoints and bond of a dispute.

use program::ledger::{Batch, BatchOutputs};
use program::NodeStore;

use crate::runner::{BatchRun, Engine, RunError, StfGuest};

/// The outputs of `batch` against `store`, replayed on wasmtime.
pub fn replay_outputs(
    guest: &StfGuest,
    batch: &Batch,
    store: NodeStore,
) -> Result<BatchRun, RunError> {
    guest.run(Engine::Native, batch, store)
}

/// The output fields in which `claimed` differs from `replayed` (empty: the assertion holds).
pub fn differing_outputs(claimed: &BatchOutputs, replayed: &BatchOutputs) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut check = |name, differs: bool| {
        if differs {
            fields.push(name);
        }
    };
    check(
        "pre_state_root",
        claimed.pre_state_root != replayed.pre_state_root,
    );
    check(
        "post_state_root",
        claimed.post_state_root != replayed.post_state_root,
    );
    check(
        "withdrawals_root",
        claimed.withdrawals_root != replayed.withdrawals_root,
    );
    check(
        "receipts_root",
        claimed.receipts_root != replayed.receipts_root,
    );
    check(
        "batch_number",
        claimed.batch_number != replayed.batch_number,
    );
    check("chain_id", claimed.chain_id != replayed.chain_id);
    check("tx_count", claimed.tx_count != replayed.tx_count);
    check(
        "withdrawal_count",
        claimed.withdrawal_count != replayed.withdrawal_count,
    );
    check("status", claimed.status != replayed.status);
    // Any field not listed above still makes the outputs differ.
    if fields.is_empty() && claimed != replayed {
        fields.push("outputs");
    }
    fields
}
