//! What the sequencer lets into its mempool: a signed transaction that would apply on top of the
//! head state and the transactions already waiting. Every refusal names its reason, so the RPC can
//! answer with a JSON-RPC error a wallet can act on; the STF would give the same transaction a
//! failing receipt, so admitting it would only waste batch space.

use std::collections::BTreeMap;

use program::ledger::signing::SignedFields;
use program::ledger::{Address, Hash, Transaction};
use program::NodeStore;

/// The largest encoded transaction accepted (a transfer or withdrawal is at most ~120 bytes).
pub const MAX_TRANSACTION_BYTES: usize = 1024;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("transaction of {0} bytes is over the limit of {MAX_TRANSACTION_BYTES}")]
    Oversized(usize),
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// No key recovers, or (the chain id is in the signed message) it was signed for another chain.
    #[error("bad signature (or signed for another chain)")]
    BadSignature,
    #[error("nonce {got} is too low: the sender's next nonce is {expected}")]
    NonceTooLow { expected: u64, got: u64 },
    #[error("nonce {got} leaves a gap: the sender's next nonce is {expected}")]
    NonceGap { expected: u64, got: u64 },
    #[error("zero amount")]
    ZeroAmount,
    #[error("insufficient balance: {available} wei available, {amount} wei needed")]
    InsufficientBalance { available: u128, amount: u128 },
    #[error("the state could not be read: {0}")]
    State(String),
}

/// A transaction the mempool accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted {
    pub hash: Hash,
    pub sender: Address,
    pub nonce: u64,
    pub amount: u128,
}

/// The senders' effects of the transactions waiting, on top of the head state.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    /// Per sender: how many are waiting and how much they move.
    senders: BTreeMap<Address, (u64, u128)>,
}

impl Pending {
    pub fn add(&mut self, admitted: &Admitted) {
        let entry = self.senders.entry(admitted.sender).or_default();
        entry.0 += 1;
        entry.1 = entry.1.saturating_add(admitted.amount);
    }

    /// How many of `sender`'s transactions wait.
    pub fn waiting(&self, sender: &Address) -> u64 {
        self.of(sender).0
    }

    fn of(&self, sender: &Address) -> (u64, u128) {
        self.senders.get(sender).copied().unwrap_or_default()
    }
}

/// keccak256 of a transaction's bytes: its id everywhere (RPC, receipts, withdrawals).
pub fn transaction_hash(bytes: &[u8]) -> Hash {
    program::keccak256(bytes)
}

/// Checks `bytes` against the state at `root` (nodes in `nodes`) and the `pending` transactions.
pub fn check(
    bytes: &[u8],
    chain_id: u64,
    nodes: &NodeStore,
    root: &Hash,
    pending: &Pending,
) -> Result<Admitted, Refusal> {
    check_known(bytes, chain_id, nodes, root, pending, None)
}

/// [`check`] with the sender already recovered from these very bytes (`known`), when it was:
/// re-checking the waiting transactions after a batch does not recover them again.
pub fn check_known(
    bytes: &[u8],
    chain_id: u64,
    nodes: &NodeStore,
    root: &Hash,
    pending: &Pending,
    known: Option<Address>,
) -> Result<Admitted, Refusal> {
    if bytes.len() > MAX_TRANSACTION_BYTES {
        return Err(Refusal::Oversized(bytes.len()));
    }
    let tx = Transaction::from_bytes(bytes).map_err(|e| Refusal::Malformed(e.to_string()))?;
    let sender = match known {
        Some(sender) => sender,
        None => program::sender_of(chain_id, &tx).ok_or(Refusal::BadSignature)?,
    };
    let fields = SignedFields::of(&tx);
    let account = nodes
        .account(root, &sender)
        .map_err(|e| Refusal::State(e.to_string()))?;
    let (waiting, committed) = pending.of(&sender);
    let expected = account.nonce.saturating_add(waiting);
    if fields.nonce < expected {
        return Err(Refusal::NonceTooLow {
            expected,
            got: fields.nonce,
        });
    }
    if fields.nonce > expected {
        return Err(Refusal::NonceGap {
            expected,
            got: fields.nonce,
        });
    }
    if fields.amount == 0 {
        return Err(Refusal::ZeroAmount);
    }
    let available = account.balance.saturating_sub(committed);
    if fields.amount > available {
        return Err(Refusal::InsufficientBalance {
            available,
            amount: fields.amount,
        });
    }
    Ok(Admitted {
        hash: transaction_hash(bytes),
        sender,
        nonce: fields.nonce,
        amount: fields.amount,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use program::{address_of, genesis, sign_transfer, sign_withdraw, SigningKey};

    const CHAIN: u64 = 9;

    #[test]
    fn every_refusal_has_its_reason() {
        let alice = SigningKey::from_slice(&[0xA1; 32]).unwrap();
        let (root, nodes) = genesis(&[(address_of(&alice), 100)]);
        let mut pending = Pending::default();
        let tx = |nonce, amount| sign_transfer(&alice, CHAIN, [2; 20], amount, nonce);
        let bytes = |t: Transaction| t.to_bytes().unwrap();

        let first = check(&bytes(tx(0, 60)), CHAIN, &nodes, &root, &pending).unwrap();
        assert_eq!((first.sender, first.nonce), (address_of(&alice), 0));
        pending.add(&first);
        // The next must take the waiting one into account: nonce 1, at most 40 left.
        assert_eq!(
            check(&bytes(tx(0, 1)), CHAIN, &nodes, &root, &pending),
            Err(Refusal::NonceTooLow {
                expected: 1,
                got: 0
            })
        );
        assert_eq!(
            check(&bytes(tx(2, 1)), CHAIN, &nodes, &root, &pending),
            Err(Refusal::NonceGap {
                expected: 1,
                got: 2
            })
        );
        assert_eq!(
            check(
                &bytes(sign_withdraw(&alice, CHAIN, [3; 20], 41, 1)),
                CHAIN,
                &nodes,
                &root,
                &pending
            ),
            Err(Refusal::InsufficientBalance {
                available: 40,
                amount: 41
            })
        );
        assert_eq!(
            check(&bytes(tx(1, 0)), CHAIN, &nodes, &root, &pending),
            Err(Refusal::ZeroAmount)
        );
        assert!(check(&bytes(tx(1, 40)), CHAIN, &nodes, &root, &pending).is_ok());

        // Signed for another chain: it recovers some other key, which has nothing (or none).
        let other = bytes(sign_transfer(&alice, CHAIN + 1, [2; 20], 1, 1));
        assert!(matches!(
            check(&other, CHAIN, &nodes, &root, &pending),
            Err(Refusal::BadSignature
                | Refusal::InsufficientBalance { .. }
                | Refusal::NonceGap { .. })
        ));
        let mut forged = bytes(tx(1, 1));
        let last = forged.len() - 2;
        forged[last] ^= 0x55;
        assert!(check(&forged, CHAIN, &nodes, &root, &pending).is_err());
        assert!(matches!(
            check(&[0xFF, 1, 2], CHAIN, &nodes, &root, &pending),
            Err(Refusal::Malformed(_))
        ));
        assert_eq!(
            check(&[0; 2000], CHAIN, &nodes, &root, &pending),
            Err(Refusal::Oversized(2000))
        );
    }
}
