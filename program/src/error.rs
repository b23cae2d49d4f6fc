//! The program crate's one error type.

use ledger::Address;

/// Why the batch builder refused to add a transaction: it would not be
/// valid when applied after the ones before it (use
/// [`BatchBuilder::push`](crate::BatchBuilder::push) to add invalid ones on
/// purpose).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Amount 0 (the STF answers `ZeroAmount`).
    #[error("a transaction must move a non-zero amount")]
    ZeroAmount,
    /// The sender has less than the amount.
    #[error("account 0x{} holds {balance}, cannot send {amount}", hex(.address))]
    InsufficientBalance {
        address: Address,
        balance: u128,
        amount: u128,
    },
    /// The credited account would exceed `u128::MAX`.
    #[error("crediting {amount} to account 0x{} would overflow its balance", hex(.address))]
    Overflow { address: Address, amount: u128 },
}

/// Lower-case hex of `bytes`, no prefix.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
