//! Golden vectors for the consensus encodings: a fixed value and its
//! expected bytes, written out, so any change to a layout fails here.

use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::test_abi::{hex, TestAbi};

fn repeat(byte: u8, n: usize) -> Vec<u8> {
    vec![byte; n]
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn deposit_layout() {
    let tx = Transaction::Deposit {
        to: [0x11; 20],
        amount: 1000,
        l1_index: 7,
    };
    let expected = concat(&[&[0x00], &repeat(0x11, 20), &[0xFB, 0xE8, 0x03], &[0x07]]);
    assert_eq!(tx.to_bytes().unwrap(), expected);
    assert_eq!(Transaction::from_bytes(&expected).unwrap(), tx);
}

#[test]
fn transfer_layout() {
    let tx = Transaction::Transfer {
        to: [0x22; 20],
        amount: 5,
        nonce: 300,
        signature: [0xAB; 65],
    };
    let expected = concat(&[
        &[0x01],
        &repeat(0x22, 20),
        &[0x05],
        &[0xFB, 0x2C, 0x01],
        &repeat(0xAB, 65),
    ]);
    assert_eq!(tx.to_bytes().unwrap(), expected);
    assert_eq!(Transaction::from_bytes(&expected).unwrap(), tx);
}

#[test]
fn withdraw_layout() {
    let tx = Transaction::Withdraw {
        l1_recipient: [0x33; 20],
        amount: 70_000,
        nonce: u64::MAX,
        signature: [0xCD; 65],
    };
    let expected = concat(&[
        &[0x02],
        &repeat(0x33, 20),
        &[0xFC, 0x70, 0x11, 0x01, 0x00],
        &[0xFD],
        &[0xFF; 8],
        &repeat(0xCD, 65),
    ]);
    assert_eq!(tx.to_bytes().unwrap(), expected);
    assert_eq!(Transaction::from_bytes(&expected).unwrap(), tx);
}

#[test]
fn transaction_decoding_is_strict() {
    let canonical = Transaction::Transfer {
        to: [0x22; 20],
        amount: 5,
        nonce: 0,
        signature: [1; 65],
    }
    .to_bytes()
    .unwrap();

    let mut trailing = canonical.clone();
    trailing.push(0);
    assert!(matches!(
        Transaction::from_bytes(&trailing),
        Err(Error::TrailingBytes { trailing: 1 })
    ));

    // amount 5 as 0xFB 0x05 0x00: bincode decodes it, the ledger refuses it.
    let mut long_form = canonical[..21].to_vec();
    long_form.extend_from_slice(&[0xFB, 0x05, 0x00]);
    long_form.extend_from_slice(&canonical[22..]);
    assert!(matches!(
        Transaction::from_bytes(&long_form),
        Err(Error::NonCanonical)
    ));

    assert!(Transaction::from_bytes(&canonical[..canonical.len() - 1]).is_err());
    assert!(Transaction::from_bytes(&[]).is_err());
    assert!(Transaction::from_bytes(&[3]).is_err(), "unknown variant");
}

#[test]
fn batch_layout() {
    let batch = Batch {
        chain_id: 1,
        batch_number: 2,
        pre_state_root: [0x44; 32],
        transactions: vec![vec![1, 2, 3], vec![], vec![0xEE; 300]],
    };
    let expected = concat(&[
        &[0x01, 0x02],
        &repeat(0x44, 32),
        &[0x03],
        &[0x03, 1, 2, 3],
        &[0x00],
        &[0xFB, 0x2C, 0x01],
        &repeat(0xEE, 300),
    ]);
    assert_eq!(batch.to_bytes().unwrap(), expected);
    assert_eq!(Batch::from_bytes(&expected).unwrap(), batch);
}

#[test]
fn batch_lengths_claimed_but_absent_are_errors_not_allocations() {
    let header = concat(&[&[0x01, 0x02], &repeat(0x44, 32)]);
    // 2^64 - 1 transactions, none present.
    let many = concat(&[&header, &[0xFD], &[0xFF; 8]]);
    assert!(Batch::from_bytes(&many).is_err());
    // One transaction claiming 2^64 - 1 bytes.
    let huge = concat(&[&header, &[0x01, 0xFD], &[0xFF; 8], &[1, 2, 3]]);
    assert!(Batch::from_bytes(&huge).is_err());
    // One transaction claiming 2^32 - 1 bytes with 2,000 present.
    let long = concat(&[&header, &[0x01, 0xFC], &[0xFF; 4], &[7; 2000]]);
    assert!(Batch::from_bytes(&long).is_err());
    // Trailing bytes after a complete batch.
    let trailing = concat(&[&header, &[0x00, 0x00]]);
    assert!(matches!(
        Batch::from_bytes(&trailing),
        Err(Error::TrailingBytes { trailing: 1 })
    ));
}

#[test]
fn outputs_layout() {
    let outputs = BatchOutputs {
        batch_number: 3,
        chain_id: 1,
        pre_state_root: [1; 32],
        post_state_root: [2; 32],
        withdrawals_root: [3; 32],
        receipts_root: [4; 32],
        tx_count: 1000,
        withdrawal_count: 2,
        status: BatchStatus::Rejected(RejectReason::UnknownPreimage),
    };
    let expected = concat(&[
        &[0x03, 0x01],
        &repeat(1, 32),
        &repeat(2, 32),
        &repeat(3, 32),
        &repeat(4, 32),
        &[0xFB, 0xE8, 0x03],
        &[0x02],
        &[0x01, 0x03],
    ]);
    assert_eq!(outputs.to_bytes().unwrap(), expected);
    assert_eq!(BatchOutputs::from_bytes(&expected).unwrap(), outputs);

    let statuses = [
        (BatchStatus::Accepted, vec![0x00]),
        (
            BatchStatus::Rejected(RejectReason::TooManyTransactions),
            vec![0x01, 0x00],
        ),
        (
            BatchStatus::Rejected(RejectReason::TooLarge),
            vec![0x01, 0x01],
        ),
        (
            BatchStatus::Rejected(RejectReason::Malformed),
            vec![0x01, 0x02],
        ),
    ];
    for (status, bytes) in statuses {
        assert_eq!(encode(&status).unwrap(), bytes);
    }
}

#[test]
fn receipt_codes() {
    use ReceiptStatus::*;
    let all = [
        Ok,
        BadSignature,
        BadNonce,
        InsufficientBalance,
        Overflow,
        Malformed,
        ZeroAmount,
    ];
    for (code, status) in all.into_iter().enumerate() {
        assert_eq!(status.code(), code as u8);
        assert_eq!(ReceiptStatus::from_code(code as u8), Some(status));
        assert_eq!(encode(&status).unwrap(), vec![code as u8]);
    }
    assert_eq!(ReceiptStatus::from_code(7), None);
}

#[test]
fn withdrawal_leaf_golden() {
    let withdrawal = Withdrawal {
        l1_recipient: [0x55; 20],
        amount: 0x0102_0304,
        index: (9 << 32) | 17,
    };
    let expected_bytes = concat(&[
        &repeat(0x55, 20),
        &[0x04, 0x03, 0x02, 0x01, 0, 0, 0, 0],
        &[17, 0, 0, 0, 9, 0, 0, 0],
    ]);
    assert_eq!(withdrawal.leaf_bytes().to_vec(), expected_bytes);
    let mut abi = TestAbi::default();
    assert_eq!(
        hex(&withdrawal.leaf_hash(&mut abi)),
        "4faeb91a4a038262d5973582bbd7f3c808b0fe3d838448d09036fee0f4bd33b1"
    );
}

#[test]
fn default_config() {
    assert_eq!(
        Config::default(),
        Config {
            max_transactions: 1000,
            max_batch_bytes: 262_144
        }
    );
}
