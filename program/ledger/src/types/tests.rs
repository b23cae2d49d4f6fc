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
fn transfer_layout() {
    let tx = Transaction::Transfer {
        to: [0x22; 20],
        amount: 5,
        nonce: 300,
        signature: [0xAB; 65],
    };
    let expected = concat(&[
        &[0x00],
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
        &[0x01],
        &repeat(0x33, 20),
        &[0xFC, 0x70, 0x11, 0x01, 0x00],
        &[0xFD],
        &[0xFF; 8],
        &repeat(0xCD, 65),
    ]);
    assert_eq!(tx.to_bytes().unwrap(), expected);
    assert_eq!(Transaction::from_bytes(&expected).unwrap(), tx);

    // Wei amounts past u64: 0xFE, then 16 bytes LE.
    let whale = Transaction::Withdraw {
        l1_recipient: [0x33; 20],
        amount: 5 * 10u128.pow(24),
        nonce: u64::MAX,
        signature: [0xCD; 65],
    };
    let mut amount = vec![0xFE];
    amount.extend_from_slice(&(5 * 10u128.pow(24)).to_le_bytes());
    let expected = concat(&[
        &[0x01],
        &repeat(0x33, 20),
        &amount,
        &[0xFD],
        &[0xFF; 8],
        &repeat(0xCD, 65),
    ]);
    assert_eq!(whale.to_bytes().unwrap(), expected);
    assert_eq!(Transaction::from_bytes(&expected).unwrap(), whale);
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
    assert!(Transaction::from_bytes(&[2]).is_err(), "unknown variant");
}

#[test]
fn batch_layout() {
    let batch = Batch {
        chain_id: 1,
        batch_number: 2,
        pre_state_root: [0x44; 32],
        first_delayed: 0x0102,
        delayed: vec![
            DelayedMessage::Deposit(Deposit {
                to: [0x66; 20],
                amount: 0x0A0B,
            }),
            DelayedMessage::Transaction(vec![0x77; 3]),
        ],
        transactions: vec![vec![1, 2, 3], vec![], vec![0xEE; 300]],
    };
    let expected = concat(&[
        &repeat(0x44, 32),
        &[0, 0, 0, 0, 0, 0, 0, 1],
        &[0, 0, 0, 0, 0, 0, 0, 2],
        &[0, 0, 0, 0, 0, 0, 0x01, 0x02],
        &[0, 0, 0, 2],
        &[0x00],
        &repeat(0x66, 20),
        &repeat(0, 14),
        &[0x0A, 0x0B],
        &[0x01, 0, 0, 0, 3],
        &repeat(0x77, 3),
        &[crate::section::RAW],
        &[0x03],
        &[0x03, 1, 2, 3],
        &[0x00],
        &[0xFB, 0x2C, 0x01],
        &repeat(0xEE, 300),
    ]);
    assert_eq!(batch.to_bytes().unwrap(), expected);
    assert_eq!(Batch::from_bytes(&expected).unwrap(), batch);
    let message = InboxMessage::split(&expected).unwrap();
    assert_eq!(message.header, batch.header().unwrap());
    assert_eq!(message.transactions, &expected[60 + 37 + 8..]);
}

#[test]
fn message_cut_short_does_not_split() {
    let header = concat(&[&repeat(0x44, 32), &[0; 24], &[0, 0, 0, 2]]);
    // Two deposit records claimed, one and a half present.
    let short = concat(&[&header, &[0], &repeat(7, 36), &[0], &repeat(7, 18)]);
    assert_eq!(InboxMessage::split(&short), None);
    assert_eq!(InboxMessage::split(&header[..59]), None);
    // A billion records claimed: refused without allocating.
    let many = concat(&[&header[..56], &[0x3B, 0x9A, 0xCA, 0x00]]);
    assert_eq!(InboxMessage::split(&many), None);
}

#[test]
fn delayed_records_l1_never_writes_do_not_split() {
    let one = concat(&[&repeat(0x44, 32), &[0; 24], &[0, 0, 0, 1]]);
    let forced = |len: u32, present: usize| {
        concat(&[&one, &[0x01], &len.to_be_bytes(), &repeat(9, present), &[0]])
    };
    // A well-formed one, for contrast: the section after it is the one byte 0.
    let good = forced(4, 4);
    assert_eq!(InboxMessage::split(&good).unwrap().transactions, &[0]);
    // Unknown kind, empty transaction, above the limit, claimed but absent.
    assert_eq!(
        InboxMessage::split(&concat(&[&one, &[0x02], &[0; 36]])),
        None
    );
    assert_eq!(InboxMessage::split(&forced(0, 0)), None);
    let limit = MAX_FORCED_TRANSACTION_BYTES;
    assert!(InboxMessage::split(&forced(limit as u32, limit)).is_some());
    assert_eq!(
        InboxMessage::split(&forced(limit as u32 + 1, limit + 1)),
        None
    );
    assert_eq!(InboxMessage::split(&forced(u32::MAX, 10)), None);
}

#[test]
fn transaction_lengths_claimed_but_absent_are_errors_not_allocations() {
    let posted = |encoding: &[u8]| crate::section::raw(encoding);
    // 2^64 - 1 transactions, none present.
    let many = concat(&[&[0xFD], &[0xFF; 8]]);
    assert!(matches!(
        TransactionList::from_bytes(&posted(&many)),
        Err(Error::Decode(_))
    ));
    // One transaction claiming 2^64 - 1 bytes.
    let huge = concat(&[&[0x01, 0xFD], &[0xFF; 8], &[1, 2, 3]]);
    assert!(matches!(
        TransactionList::from_bytes(&posted(&huge)),
        Err(Error::Decode(_))
    ));
    // One transaction claiming 2^32 - 1 bytes with 2,000 present.
    let long = concat(&[&[0x01, 0xFC], &[0xFF; 4], &[7; 2000]]);
    assert!(matches!(
        TransactionList::from_bytes(&posted(&long)),
        Err(Error::Decode(_))
    ));
    // Trailing bytes after a complete list.
    assert!(matches!(
        TransactionList::from_bytes(&posted(&[0x00, 0x00])),
        Err(Error::TrailingBytes { trailing: 1 })
    ));
    // The envelope itself refused.
    assert!(matches!(
        TransactionList::from_bytes(&[0x07, 0x00]),
        Err(Error::Section(RejectReason::Malformed))
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
        delayed_count: 5,
        tx_count: 1000,
        withdrawal_count: 2,
        status: BatchStatus::TransactionsRefused(RejectReason::Malformed),
    };
    let expected = concat(&[
        &[0, 0, 0, 0, 0, 0, 0, 3],
        &[0, 0, 0, 0, 0, 0, 0, 1],
        &repeat(1, 32),
        &repeat(2, 32),
        &repeat(3, 32),
        &repeat(4, 32),
        &[0, 0, 0, 5],
        &[0, 0, 0x03, 0xE8],
        &[0, 0, 0, 2],
        &[0x01, 0x02],
    ]);
    assert_eq!(expected.len(), OUTPUTS_LEN);
    assert_eq!(outputs.to_bytes().to_vec(), expected);
    assert_eq!(BatchOutputs::from_bytes(&expected).unwrap(), outputs);

    let statuses = [
        (BatchStatus::Accepted, [0x00, 0x00]),
        (
            BatchStatus::TransactionsRefused(RejectReason::TooManyTransactions),
            [0x01, 0x00],
        ),
        (BatchStatus::Rejected(RejectReason::TooLarge), [0x02, 0x01]),
        (
            BatchStatus::Rejected(RejectReason::UnknownPreimage),
            [0x02, 0x03],
        ),
    ];
    for (status, bytes) in statuses {
        let encoded = BatchOutputs {
            status,
            ..outputs.clone()
        }
        .to_bytes();
        assert_eq!(encoded[156..], bytes);
        assert_eq!(BatchOutputs::from_bytes(&encoded).unwrap().status, status);
    }
    // Unknown status or reason, an accepted batch with a reason, any other length: refused.
    for (at, byte) in [(156, 3), (157, 4), (156, 0)] {
        let mut bad = expected.clone();
        bad[at] = byte;
        assert!(BatchOutputs::from_bytes(&bad).is_err(), "{at} {byte}");
    }
    assert!(BatchOutputs::from_bytes(&expected[..157]).is_err());
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
        &repeat(0, 12),
        &[0x01, 0x02, 0x03, 0x04],
        &[0, 0, 0, 9, 0, 0, 0, 17],
    ]);
    assert_eq!(withdrawal.leaf_bytes().to_vec(), expected_bytes);
    let mut abi = TestAbi::default();
    assert_eq!(
        hex(&withdrawal.leaf_hash(&mut abi)),
        "7ece7fd56bce08f8ee90379507c1803e47f193133ab72350a650e4cf92c8d19e"
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
