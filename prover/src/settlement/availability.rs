//! Where a batch's section goes on L1: the posting transaction's calldata, or the blobs of an
//! EIP-4844 transaction (`Inbox.postBatchBlobs`), and what each costs.
//!
//! `data_availability = "auto"` compares the two at the L1's current prices, as
//! Nitro's batch poster and op-batcher do:
//!
//! - calldata: `base_fee × (21,000 + max(4 × tokens + execution, 10 × tokens))`, EIP-7623's floor
//!   included, with `tokens = zero bytes + 4 × non-zero bytes` of the section;
//! - blobs: `base_fee × (21,000 + execution) + blob_base_fee × 131,072 × blobs`.
//!
//! The execution gas is the inbox's, estimated from its measured cost (`benches/settlement_gas.rs`);
//! only the comparison uses it. The cheaper wins; a tie (an L1 that charges nothing, such as the
//! embedded one) goes to calldata. `"calldata"` and `"blobs"` force one.

use serde::Deserialize;
use verifier::blobs::MAX_BLOBS_PER_TRANSACTION;
use verifier::l1::{Fees, TxReceipt, Wallet, L1};
use verifier::settlement::contracts::{DelayedRecord, Deployment};

use super::{post_batch_blobs, post_batch_with, SettleError};
use program::ledger::blob::{blobs_for, BYTES_PER_BLOB};

/// Where the sequencer posts its sections; `auto` by default (module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataAvailability {
    Calldata,
    Blobs,
    #[default]
    Auto,
}

/// Where one batch went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    Calldata,
    /// In this many blobs.
    Blobs(usize),
}

impl std::fmt::Display for Placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Placement::Calldata => f.write_str("calldata"),
            Placement::Blobs(1) => f.write_str("1 blob"),
            Placement::Blobs(n) => write!(f, "{n} blobs"),
        }
    }
}

/// Blob gas per blob (EIP-4844).
pub const BLOB_GAS_PER_BLOB: u64 = BYTES_PER_BLOB as u64;
/// A transaction's base cost.
const TRANSACTION_GAS: u64 = 21_000;
/// The inbox's execution beyond the section's bytes (storage writes, the commitment, the event):
/// 41,211 measured for a batch in one blob without delayed messages (`cargo bench --bench
/// batch_cost`).
const INBOX_EXECUTION_GAS: u64 = 40_000;
/// The inbox's execution per section byte in calldata (copying and hashing the message).
const INBOX_GAS_PER_BYTE: u64 = 6;
/// The inbox's execution for each blob (`BLOBHASH`, the reference in the message and the log).
const INBOX_GAS_PER_BLOB: u64 = 2_000;

/// Gas of posting `section` in calldata: EIP-7623's floor or the standard cost, the greater.
pub fn calldata_gas(section: &[u8]) -> u64 {
    let zeros = section.iter().filter(|&&b| b == 0).count() as u64;
    let tokens = zeros + 4 * (section.len() as u64 - zeros);
    let execution = INBOX_EXECUTION_GAS + INBOX_GAS_PER_BYTE * section.len() as u64;
    TRANSACTION_GAS + (4 * tokens + execution).max(10 * tokens)
}

/// Gas and blob gas of posting a section of `len` bytes in blobs.
pub fn blob_costs(len: usize) -> (u64, u64) {
    let blobs = blobs_for(len) as u64;
    (
        TRANSACTION_GAS + INBOX_EXECUTION_GAS + INBOX_GAS_PER_BLOB * blobs,
        BLOB_GAS_PER_BLOB * blobs,
    )
}

/// Where `section` goes under `mode` at `fees`. A section that blobs cannot carry (empty, or more
/// than one transaction's blobs hold) goes in calldata.
pub fn choose(mode: DataAvailability, fees: Fees, section: &[u8]) -> Placement {
    let blobs = blobs_for(section.len());
    if blobs == 0 || blobs > MAX_BLOBS_PER_TRANSACTION {
        return Placement::Calldata;
    }
    match mode {
        DataAvailability::Calldata => Placement::Calldata,
        DataAvailability::Blobs => Placement::Blobs(blobs),
        DataAvailability::Auto => {
            let in_calldata = fees
                .base_fee
                .saturating_mul(u128::from(calldata_gas(section)));
            let (gas, blob_gas) = blob_costs(section.len());
            let in_blobs = fees
                .base_fee
                .saturating_mul(u128::from(gas))
                .saturating_add(fees.blob_base_fee.saturating_mul(u128::from(blob_gas)));
            if in_blobs < in_calldata {
                Placement::Blobs(blobs)
            } else {
                Placement::Calldata
            }
        }
    }
}

/// Posts `section` with `delayed` as the next batch where `mode` says at the L1's current fees.
/// Returns the batch number, the receipt and where it went.
pub fn post_section(
    l1: &mut dyn L1,
    poster: &Wallet,
    deployment: &Deployment,
    section: &[u8],
    delayed: Vec<DelayedRecord>,
    mode: DataAvailability,
) -> Result<(u64, TxReceipt, Placement), SettleError> {
    let placement = match mode {
        DataAvailability::Calldata => Placement::Calldata,
        _ => choose(mode, l1.fees()?, section),
    };
    match placement {
        Placement::Calldata => {
            let (batch, receipt) = post_batch_with(l1, poster, deployment, section, delayed)?;
            Ok((batch, receipt, placement))
        }
        Placement::Blobs(_) => {
            let (batch, receipt, blobs) =
                post_batch_blobs(l1, poster, deployment, section, delayed)?;
            Ok((batch, receipt, Placement::Blobs(blobs)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calldata_pays_the_floor_for_dense_sections() {
        let dense = vec![0xab; 1000];
        // 4,000 tokens: the standard cost (16,000 + execution) is above the floor (40,000).
        assert_eq!(calldata_gas(&dense), 21_000 + 4 * 4_000 + 40_000 + 6_000);
        let big = vec![0xab; 100_000];
        assert_eq!(
            calldata_gas(&big),
            21_000 + 10 * 400_000,
            "the EIP-7623 floor"
        );
        assert_eq!(calldata_gas(&[]), 21_000 + 40_000);
    }

    #[test]
    fn auto_compares_at_current_prices() {
        let section = vec![0x5a; 50_000];
        let gwei = 1_000_000_000;
        let cheap_blobs = Fees {
            base_fee: gwei,
            blob_base_fee: 1,
        };
        assert_eq!(
            choose(DataAvailability::Auto, cheap_blobs, &section),
            Placement::Blobs(1)
        );
        let dear_blobs = Fees {
            base_fee: gwei,
            blob_base_fee: 100 * gwei,
        };
        assert_eq!(
            choose(DataAvailability::Auto, dear_blobs, &section),
            Placement::Calldata
        );
        assert_eq!(
            choose(DataAvailability::Auto, Fees::default(), &section),
            Placement::Calldata,
            "a tie goes to calldata"
        );
        assert_eq!(
            choose(DataAvailability::Blobs, dear_blobs, &section),
            Placement::Blobs(1)
        );
        assert_eq!(
            choose(DataAvailability::Blobs, cheap_blobs, &[]),
            Placement::Calldata,
            "nothing to put in a blob"
        );
        let too_big = vec![1u8; 7 * program::ledger::blob::DATA_PER_BLOB];
        assert_eq!(
            choose(DataAvailability::Blobs, cheap_blobs, &too_big),
            Placement::Calldata
        );
    }
}
