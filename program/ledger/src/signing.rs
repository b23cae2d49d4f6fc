//! The message a transaction's signature covers.
//!
//! | bytes | field |
//! |---|---|
//! | 0..15 | domain tag `b"hauptbuch.tx.v1"` |
//! | 15..23 | `chain_id`, u64 LE |
//! | 23 | kind: `1` transfer, `2` withdraw |
//! | 24..44 | recipient: `to` (transfer) or `l1_recipient` (withdraw) |
//! | 44..52 | `amount`, u64 LE |
//! | 52..60 | `nonce`, u64 LE |
//!
//! The signing hash is keccak256 of those 60 bytes, signed with secp256k1
//! ECDSA as a prehash; the sender is whoever `ecrecover` says signed it. The
//! tag separates these signatures from any other use of the same key, the
//! chain id from other deployments, the kind byte a transfer from a
//! withdrawal with the same fields, and the nonce from replays. Fixed-width
//! integers (not the varints of the wire format) so the message has one
//! layout whatever the values.

use crate::abi::Abi;
use crate::types::{Address, Hash, Transaction};

/// The domain tag opening every signing message.
pub const DOMAIN_TAG: &[u8; 15] = b"hauptbuch.tx.v1";
/// Kind byte of a deposit's (unused) signing message.
pub const KIND_DEPOSIT: u8 = 0;
/// Kind byte of a transfer.
pub const KIND_TRANSFER: u8 = 1;
/// Kind byte of a withdrawal.
pub const KIND_WITHDRAW: u8 = 2;
/// Length of the signing message.
pub const SIGNING_MESSAGE_LEN: usize = 60;

/// The fields of a signed transaction, borrowed from it. Deposits are not
/// signed and have none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedFields<'a> {
    pub kind: u8,
    pub recipient: &'a Address,
    pub amount: u64,
    pub nonce: u64,
    pub signature: &'a [u8; 65],
}

impl<'a> SignedFields<'a> {
    /// The signed fields of `tx`, or `None` for a deposit.
    pub fn of(tx: &'a Transaction) -> Option<Self> {
        match tx {
            Transaction::Deposit { .. } => None,
            Transaction::Transfer {
                to,
                amount,
                nonce,
                signature,
            } => Some(Self {
                kind: KIND_TRANSFER,
                recipient: to,
                amount: *amount,
                nonce: *nonce,
                signature,
            }),
            Transaction::Withdraw {
                l1_recipient,
                amount,
                nonce,
                signature,
            } => Some(Self {
                kind: KIND_WITHDRAW,
                recipient: l1_recipient,
                amount: *amount,
                nonce: *nonce,
                signature,
            }),
        }
    }
}

/// The 60-byte message (layout in the module docs).
pub fn signing_message(
    chain_id: u64,
    kind: u8,
    recipient: &Address,
    amount: u64,
    nonce: u64,
) -> [u8; SIGNING_MESSAGE_LEN] {
    let mut message = [0u8; SIGNING_MESSAGE_LEN];
    let (tag, rest) = message.split_at_mut(DOMAIN_TAG.len());
    tag.copy_from_slice(DOMAIN_TAG);
    let (chain, rest) = rest.split_at_mut(8);
    chain.copy_from_slice(&chain_id.to_le_bytes());
    let (kind_byte, rest) = rest.split_at_mut(1);
    kind_byte.fill(kind);
    let (to, rest) = rest.split_at_mut(20);
    to.copy_from_slice(recipient);
    let (value, nonce_bytes) = rest.split_at_mut(8);
    value.copy_from_slice(&amount.to_le_bytes());
    nonce_bytes.copy_from_slice(&nonce.to_le_bytes());
    message
}

/// keccak256 of the signing message of `tx` on `chain_id`.
///
/// Deposits are not signed; for them the function is still total (kind byte
/// [`KIND_DEPOSIT`], `to`, `amount`, and `l1_index` in the nonce slot) so a
/// caller never has to special-case it, but the STF never uses that hash.
pub fn signing_hash<A: Abi + ?Sized>(abi: &mut A, chain_id: u64, tx: &Transaction) -> Hash {
    let message = match (tx, SignedFields::of(tx)) {
        (_, Some(fields)) => signing_message(
            chain_id,
            fields.kind,
            fields.recipient,
            fields.amount,
            fields.nonce,
        ),
        (
            Transaction::Deposit {
                to,
                amount,
                l1_index,
            },
            None,
        ) => signing_message(chain_id, KIND_DEPOSIT, to, *amount, *l1_index),
        // SignedFields::of is None only for deposits.
        (_, None) => signing_message(chain_id, KIND_DEPOSIT, &[0; 20], 0, 0),
    };
    abi.keccak256(&message)
}

/// The address that signed `tx` on `chain_id`, or `None` if the signature
/// recovers no key (or `tx` is a deposit). A `v` other than 0 or 1 is
/// refused here as well as by the host, so the precompile is never asked
/// about it.
pub fn recover_sender<A: Abi + ?Sized>(
    abi: &mut A,
    chain_id: u64,
    tx: &Transaction,
) -> Option<Address> {
    let fields = SignedFields::of(tx)?;
    if fields.signature[64] > 1 {
        return None;
    }
    let hash = signing_hash(abi, chain_id, tx);
    abi.ecrecover(&hash, fields.signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_abi::{hex, TestAbi};

    #[test]
    fn signing_message_golden() {
        let tx = Transaction::Withdraw {
            l1_recipient: [0xAA; 20],
            amount: 0x0102,
            nonce: 5,
            signature: [0; 65],
        };
        let fields = SignedFields::of(&tx).unwrap();
        let message = signing_message(
            0x0A0B,
            fields.kind,
            fields.recipient,
            fields.amount,
            fields.nonce,
        );
        let mut expected = b"hauptbuch.tx.v1".to_vec();
        expected.extend_from_slice(&[0x0B, 0x0A, 0, 0, 0, 0, 0, 0]);
        expected.push(2);
        expected.extend_from_slice(&[0xAA; 20]);
        expected.extend_from_slice(&[0x02, 0x01, 0, 0, 0, 0, 0, 0]);
        expected.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(message.to_vec(), expected);
        let mut abi = TestAbi::default();
        assert_eq!(
            hex(&signing_hash(&mut abi, 0x0A0B, &tx)),
            "e52d29a4b04ac50be2cb945cda450514c302aded6dce8e9dc287f35bdccdf19f"
        );
    }

    #[test]
    fn kind_and_chain_separate_messages() {
        let mut abi = TestAbi::default();
        let transfer = Transaction::Transfer {
            to: [1; 20],
            amount: 9,
            nonce: 0,
            signature: [0; 65],
        };
        let withdraw = Transaction::Withdraw {
            l1_recipient: [1; 20],
            amount: 9,
            nonce: 0,
            signature: [0; 65],
        };
        let deposit = Transaction::Deposit {
            to: [1; 20],
            amount: 9,
            l1_index: 0,
        };
        let a = signing_hash(&mut abi, 1, &transfer);
        assert_ne!(a, signing_hash(&mut abi, 1, &withdraw));
        assert_ne!(a, signing_hash(&mut abi, 2, &transfer));
        assert_ne!(a, signing_hash(&mut abi, 1, &deposit));
        assert_eq!(recover_sender(&mut abi, 1, &deposit), None);
    }

    #[test]
    fn v_above_one_is_refused_before_the_precompile() {
        let mut abi = TestAbi::default();
        let tx = Transaction::Transfer {
            to: [1; 20],
            amount: 9,
            nonce: 0,
            signature: [2; 65],
        };
        // TestAbi::ecrecover asserts v <= 1.
        assert_eq!(recover_sender(&mut abi, 1, &tx), None);
    }
}
