//! The message a transaction's signature covers.
//!
//! | bytes | field |
//! |---|---|
//! | 0..15 | domain tag `b"hauptbuch.tx.v2"` |
//! | 15..23 | `chain_id`, u64 LE |
//! | 23 | kind: `1` transfer, `2` withdraw |
//! | 24..44 | recipient: `to` (transfer) or `l1_recipient` (withdraw) |
//! | 44..60 | `amount` in wei, u128 LE |
//! | 60..68 | `nonce`, u64 LE |
//!
//! The signing hash is keccak256 of those 68 bytes, signed with secp256k1
//! ECDSA as a prehash; the sender is whoever `ecrecover` says signed it. The
//! tag separates these signatures from any other use of the same key, the
//! chain id from other deployments, the kind byte a transfer from a
//! withdrawal with the same fields, and the nonce from replays. Fixed-width
//! integers (not the varints of the wire format) so the message has one
//! layout whatever the values.

use crate::abi::Abi;
use crate::types::{Address, Hash, Transaction};

/// The domain tag opening every signing message.
pub const DOMAIN_TAG: &[u8; 15] = b"hauptbuch.tx.v2";
/// Kind byte of a transfer.
pub const KIND_TRANSFER: u8 = 1;
/// Kind byte of a withdrawal.
pub const KIND_WITHDRAW: u8 = 2;
/// Length of the signing message.
pub const SIGNING_MESSAGE_LEN: usize = 68;

/// The fields of a signed transaction, borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedFields<'a> {
    pub kind: u8,
    pub recipient: &'a Address,
    pub amount: u128,
    pub nonce: u64,
    pub signature: &'a [u8; 65],
}

impl<'a> SignedFields<'a> {
    /// The signed fields of `tx`.
    pub fn of(tx: &'a Transaction) -> Self {
        match tx {
            Transaction::Transfer {
                to,
                amount,
                nonce,
                signature,
            } => Self {
                kind: KIND_TRANSFER,
                recipient: to,
                amount: *amount,
                nonce: *nonce,
                signature,
            },
            Transaction::Withdraw {
                l1_recipient,
                amount,
                nonce,
                signature,
            } => Self {
                kind: KIND_WITHDRAW,
                recipient: l1_recipient,
                amount: *amount,
                nonce: *nonce,
                signature,
            },
        }
    }
}

/// The 60-byte message (layout in the module docs).
pub fn signing_message(
    chain_id: u64,
    kind: u8,
    recipient: &Address,
    amount: u128,
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
    let (value, nonce_bytes) = rest.split_at_mut(16);
    value.copy_from_slice(&amount.to_le_bytes());
    nonce_bytes.copy_from_slice(&nonce.to_le_bytes());
    message
}

/// keccak256 of the signing message of `tx` on `chain_id`.
pub fn signing_hash<A: Abi + ?Sized>(abi: &mut A, chain_id: u64, tx: &Transaction) -> Hash {
    let fields = SignedFields::of(tx);
    let message = signing_message(
        chain_id,
        fields.kind,
        fields.recipient,
        fields.amount,
        fields.nonce,
    );
    abi.keccak256(&message)
}

/// The address that signed `tx` on `chain_id`, or `None` if the signature
/// recovers no key. A `v` other than 0 or 1 is
/// refused here as well as by the host, so the precompile is never asked
/// about it.
pub fn recover_sender<A: Abi + ?Sized>(
    abi: &mut A,
    chain_id: u64,
    tx: &Transaction,
) -> Option<Address> {
    let fields = SignedFields::of(tx);
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
        let fields = SignedFields::of(&tx);
        let message = signing_message(
            0x0A0B,
            fields.kind,
            fields.recipient,
            fields.amount,
            fields.nonce,
        );
        let mut expected = b"hauptbuch.tx.v2".to_vec();
        expected.extend_from_slice(&[0x0B, 0x0A, 0, 0, 0, 0, 0, 0]);
        expected.push(2);
        expected.extend_from_slice(&[0xAA; 20]);
        expected.extend_from_slice(&[0x02, 0x01]);
        expected.extend_from_slice(&[0; 14]);
        expected.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(message.to_vec(), expected);
        let mut abi = TestAbi::default();
        assert_eq!(
            hex(&signing_hash(&mut abi, 0x0A0B, &tx)),
            "8407c4745cd4f7c21c8afe13415a0e3626f495005c209900a2771c267b117c7e"
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
        let a = signing_hash(&mut abi, 1, &transfer);
        assert_ne!(a, signing_hash(&mut abi, 1, &withdraw));
        assert_ne!(a, signing_hash(&mut abi, 2, &transfer));
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
