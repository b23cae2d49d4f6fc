//! The STF with mock signatures (see `test_abi`); `program`'s tests run it
//! with real secp256k1 signatures and rs_merkle proofs.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::signing::signing_hash;
use crate::test_abi::{keccak, mock_sign, TestAbi};
use crate::trie::{Account, EMPTY_ROOT};
use crate::types::{Address, Batch, DelayedMessage, Deposit};

const CHAIN: u64 = 5;
const ALICE: Address = [0xA1; 20];
const BOB: Address = [0xB0; 20];
const CAROL: Address = [0xC0; 20];
const L1: Address = [0x11; 20];

type Store = BTreeMap<Hash, Vec<u8>>;

fn genesis(accounts: &[(Address, u128)]) -> (Hash, Store) {
    let mut abi = TestAbi::default();
    let mut trie = PartialTrie::new(EMPTY_ROOT);
    for (address, balance) in accounts {
        let account = Account {
            balance: *balance,
            nonce: 0,
        };
        trie.set_account(&mut abi, address, account).unwrap();
    }
    (trie.commit(&mut abi), abi.store)
}

fn signed(from: &Address, unsigned: Transaction) -> Transaction {
    let hash = signing_hash(&mut TestAbi::default(), CHAIN, &unsigned);
    let sig = mock_sign(from, &hash);
    match unsigned {
        Transaction::Transfer {
            to, amount, nonce, ..
        } => Transaction::Transfer {
            to,
            amount,
            nonce,
            signature: sig,
        },
        Transaction::Withdraw {
            l1_recipient,
            amount,
            nonce,
            ..
        } => Transaction::Withdraw {
            l1_recipient,
            amount,
            nonce,
            signature: sig,
        },
    }
}

fn transfer(from: &Address, to: Address, amount: u128, nonce: u64) -> Transaction {
    signed(
        from,
        Transaction::Transfer {
            to,
            amount,
            nonce,
            signature: [0; 65],
        },
    )
}

fn withdraw(from: &Address, l1_recipient: Address, amount: u128, nonce: u64) -> Transaction {
    signed(
        from,
        Transaction::Withdraw {
            l1_recipient,
            amount,
            nonce,
            signature: [0; 65],
        },
    )
}

fn deposit(to: Address, amount: u128) -> Deposit {
    Deposit { to, amount }
}

fn batch(number: u64, pre: Hash, txs: &[Transaction]) -> Batch {
    batch_with(number, pre, &[], txs)
}

fn batch_with(number: u64, pre: Hash, deposits: &[Deposit], txs: &[Transaction]) -> Batch {
    Batch {
        chain_id: CHAIN,
        batch_number: number,
        pre_state_root: pre,
        first_delayed: 0,
        delayed: deposits
            .iter()
            .map(|d| DelayedMessage::Deposit(*d))
            .collect(),
        transactions: txs.iter().map(|tx| tx.to_bytes().unwrap()).collect(),
    }
}

fn run_with(bytes: Vec<u8>, store: &Store, config: &Config) -> (Execution, TestAbi) {
    let mut abi = TestAbi::with_inbox(bytes, store.clone());
    let execution = execute(&mut abi, config);
    assert_eq!(abi.outputs.len(), 1, "outputs are written exactly once");
    assert_eq!(
        BatchOutputs::from_bytes(&abi.outputs[0]).unwrap(),
        execution.outputs
    );
    (execution, abi)
}

fn run(batch: &Batch, store: &Store) -> (Execution, TestAbi) {
    run_with(batch.to_bytes().unwrap(), store, &Config::default())
}

fn account(abi: &mut TestAbi, root: Hash, address: &Address) -> Account {
    PartialTrie::new(root).account(abi, address).unwrap()
}

#[test]
fn valid_transactions_move_value() {
    let (root, store) = genesis(&[(ALICE, 1000), (BOB, 50)]);
    let txs = [
        transfer(&ALICE, BOB, 300, 0),
        withdraw(&BOB, L1, 100, 0),
        transfer(&CAROL, ALICE, 7, 0),
        withdraw(&ALICE, L1, 1, 1),
        transfer(&ALICE, ALICE, 5, 2),
    ];
    // The deposit is applied before every transaction, so Carol can spend it.
    let (execution, mut abi) = run(&batch_with(3, root, &[deposit(CAROL, 7)], &txs), &store);
    let outputs = &execution.outputs;
    assert_eq!(outputs.status, BatchStatus::Accepted);
    assert_eq!(execution.receipts, vec![ReceiptStatus::Ok; 1 + txs.len()]);
    assert_eq!(
        (
            outputs.delayed_count,
            outputs.tx_count,
            outputs.withdrawal_count
        ),
        (1, 5, 2)
    );
    assert_eq!(outputs.pre_state_root, root);
    assert_eq!((outputs.chain_id, outputs.batch_number), (CHAIN, 3));

    let post = outputs.post_state_root;
    let alice = account(&mut abi, post, &ALICE);
    assert_eq!(
        alice,
        Account {
            balance: 1000 - 300 + 7 - 1,
            nonce: 3
        }
    );
    let bob = account(&mut abi, post, &BOB);
    assert_eq!(
        bob,
        Account {
            balance: 50 + 300 - 100,
            nonce: 1
        }
    );
    let carol = account(&mut abi, post, &CAROL);
    assert_eq!(
        carol,
        Account {
            balance: 0,
            nonce: 1
        }
    );

    // Indices count receipts: the batch's one deposit is receipt 0, its transactions 1 on.
    assert_eq!(
        execution.withdrawals,
        vec![
            Withdrawal {
                l1_recipient: L1,
                amount: 100,
                index: (3 << 32) | 2
            },
            Withdrawal {
                l1_recipient: L1,
                amount: 1,
                index: (3 << 32) | 4
            },
        ]
    );
    let leaves: Vec<Hash> = execution
        .withdrawals
        .iter()
        .map(|w| keccak(&w.leaf_bytes()))
        .collect();
    assert_eq!(
        outputs.withdrawals_root,
        keccak(&[&leaves[0][..], &leaves[1][..]].concat())
    );
    assert_eq!(
        outputs.receipts_root,
        receipts_root(&mut abi, &execution.receipts)
    );
}

#[test]
fn every_invalid_transaction_has_its_status_and_no_effect() {
    let (root, store) = genesis(&[(ALICE, 1000), (BOB, u128::MAX - 10)]);
    let mut forged = transfer(&ALICE, CAROL, 10, 0);
    if let Transaction::Transfer { signature, .. } = &mut forged {
        signature[30] ^= 1;
    }
    let mut bad_v = transfer(&ALICE, CAROL, 10, 0);
    if let Transaction::Transfer { signature, .. } = &mut bad_v {
        signature[64] = 27;
    }
    let non_canonical = {
        let mut bytes = transfer(&ALICE, CAROL, 5, 0).to_bytes().unwrap();
        let amount_at = 21;
        bytes.splice(amount_at..amount_at + 1, [0xFB, 0x05, 0x00]);
        bytes
    };
    let cases: Vec<(Vec<u8>, ReceiptStatus)> = vec![
        (forged.to_bytes().unwrap(), ReceiptStatus::BadSignature),
        (bad_v.to_bytes().unwrap(), ReceiptStatus::BadSignature),
        (
            transfer(&ALICE, CAROL, 10, 1).to_bytes().unwrap(),
            ReceiptStatus::BadNonce,
        ),
        (
            transfer(&ALICE, CAROL, 0, 0).to_bytes().unwrap(),
            ReceiptStatus::ZeroAmount,
        ),
        (
            transfer(&ALICE, CAROL, 1001, 0).to_bytes().unwrap(),
            ReceiptStatus::InsufficientBalance,
        ),
        (
            withdraw(&ALICE, L1, 1001, 0).to_bytes().unwrap(),
            ReceiptStatus::InsufficientBalance,
        ),
        (
            transfer(&CAROL, ALICE, 1, 0).to_bytes().unwrap(),
            ReceiptStatus::InsufficientBalance,
        ),
        (
            transfer(&ALICE, BOB, 11, 0).to_bytes().unwrap(),
            ReceiptStatus::Overflow,
        ),
        (vec![], ReceiptStatus::Malformed),
        (vec![9, 9, 9], ReceiptStatus::Malformed),
        (non_canonical, ReceiptStatus::Malformed),
    ];
    let batch = Batch {
        transactions: cases.iter().map(|(bytes, _)| bytes.clone()).collect(),
        ..batch(1, root, &[])
    };
    let (execution, abi) = run(&batch, &store);
    let expected: Vec<ReceiptStatus> = cases.iter().map(|(_, status)| *status).collect();
    assert_eq!(execution.receipts, expected);
    assert_eq!(execution.outputs.status, BatchStatus::Accepted);
    assert_eq!(execution.outputs.post_state_root, root);
    assert_eq!(execution.outputs.tx_count, cases.len() as u32);
    assert_eq!(execution.outputs.withdrawal_count, 0);
    assert_eq!(execution.outputs.withdrawals_root, [0; 32]);
    assert!(abi.emitted.is_empty(), "no state change, no new node");

    // And each one alone.
    for (bytes, status) in &cases {
        let alone = Batch {
            transactions: vec![bytes.clone()],
            ..batch.clone()
        };
        let (execution, abi) = run(&alone, &store);
        assert_eq!(execution.receipts, vec![*status], "{bytes:?}");
        assert_eq!(execution.outputs.post_state_root, root);
        assert!(abi.emitted.is_empty());
    }

    // Deposits are checked the same way: zero, and a credit past u128::MAX.
    let refused = batch_with(1, root, &[deposit(CAROL, 0), deposit(BOB, 11)], &[]);
    let (execution, abi) = run(&refused, &store);
    assert_eq!(
        execution.receipts,
        vec![ReceiptStatus::ZeroAmount, ReceiptStatus::Overflow]
    );
    assert_eq!(execution.outputs.delayed_count, 2);
    assert_eq!(execution.outputs.post_state_root, root);
    assert!(abi.emitted.is_empty());
}

#[test]
fn replayed_nonce_is_refused() {
    let (root, store) = genesis(&[(ALICE, 1000)]);
    let tx = transfer(&ALICE, BOB, 10, 0);
    let (once, _) = run(&batch(1, root, core::slice::from_ref(&tx)), &store);
    let (twice, _) = run(&batch(1, root, &[tx.clone(), tx]), &store);
    assert_eq!(
        twice.receipts,
        vec![ReceiptStatus::Ok, ReceiptStatus::BadNonce]
    );
    assert_eq!(once.outputs.post_state_root, twice.outputs.post_state_root);
}

#[test]
fn empty_batch() {
    let (root, store) = genesis(&[(ALICE, 1)]);
    let (execution, abi) = run(&batch(0, root, &[]), &store);
    let outputs = execution.outputs;
    assert_eq!(outputs.status, BatchStatus::Accepted);
    assert_eq!(outputs.post_state_root, root);
    assert_eq!((outputs.tx_count, outputs.withdrawal_count), (0, 0));
    assert_eq!(
        (outputs.withdrawals_root, outputs.receipts_root),
        ([0; 32], [0; 32])
    );
    assert!(abi.emitted.is_empty());

    // And from the empty state.
    let (execution, _) = run(&batch(0, EMPTY_ROOT, &[]), &Store::new());
    assert_eq!(execution.outputs.post_state_root, EMPTY_ROOT);
}

fn assert_rejected(
    execution: &Execution,
    abi: &TestAbi,
    reason: RejectReason,
    header: (u64, u64, Hash),
) {
    let outputs = &execution.outputs;
    assert_eq!(outputs.status, BatchStatus::Rejected(reason));
    assert_eq!(
        (
            outputs.chain_id,
            outputs.batch_number,
            outputs.pre_state_root
        ),
        header
    );
    assert_eq!(outputs.post_state_root, outputs.pre_state_root);
    assert_eq!((outputs.tx_count, outputs.withdrawal_count), (0, 0));
    assert_eq!(
        (outputs.withdrawals_root, outputs.receipts_root),
        ([0; 32], [0; 32])
    );
    assert!(execution.receipts.is_empty() && execution.withdrawals.is_empty());
    assert!(abi.emitted.is_empty(), "a rejected batch emits no node");
}

#[test]
fn transaction_limit() {
    let (root, store) = genesis(&[(ALICE, 1000)]);
    let config = Config {
        max_transactions: 3,
        ..Config::default()
    };
    let txs: Vec<Transaction> = (0..4).map(|n| transfer(&ALICE, BOB, 1, n)).collect();
    let at_limit = batch(2, root, &txs[..3]).to_bytes().unwrap();
    let (execution, _) = run_with(at_limit, &store, &config);
    assert_eq!(execution.outputs.status, BatchStatus::Accepted);
    assert_eq!(execution.outputs.tx_count, 3);

    // Over the limit the sequencer's transactions are refused, the deposits still applied.
    let over = batch_with(2, root, &[deposit(BOB, 4)], &txs)
        .to_bytes()
        .unwrap();
    let (execution, mut abi) = run_with(over, &store, &config);
    assert_eq!(
        execution.outputs.status,
        BatchStatus::TransactionsRefused(RejectReason::TooManyTransactions)
    );
    assert_eq!(
        (execution.outputs.delayed_count, execution.outputs.tx_count),
        (1, 0)
    );
    assert_eq!(execution.receipts, vec![ReceiptStatus::Ok]);
    let post = execution.outputs.post_state_root;
    assert_eq!(account(&mut abi, post, &BOB).balance, 4);
    assert_eq!(account(&mut abi, post, &ALICE).balance, 1000);
}

#[test]
fn size_limit_is_checked_before_reading() {
    let config = Config {
        max_batch_bytes: 100,
        ..Config::default()
    };
    let bytes = batch_with(1, EMPTY_ROOT, &[deposit(ALICE, 1)], &[])
        .to_bytes()
        .unwrap();
    let mut abi = TestAbi::with_inbox(bytes.clone(), Store::new());
    abi.claimed_len = Some(101);
    let execution = execute(&mut abi, &config);
    assert_rejected(&execution, &abi, RejectReason::TooLarge, (0, 0, [0; 32]));
    assert_eq!(abi.inbox_reads, 0);

    let mut abi = TestAbi::with_inbox(bytes, Store::new());
    abi.claimed_len = Some(100);
    let execution = execute(&mut abi, &config);
    assert_ne!(
        execution.outputs.status,
        BatchStatus::Rejected(RejectReason::TooLarge)
    );

    let mut abi = TestAbi {
        claimed_len: Some(u32::MAX),
        ..TestAbi::default()
    };
    let execution = execute(&mut abi, &Config::default());
    assert_eq!(
        execution.outputs.status,
        BatchStatus::Rejected(RejectReason::TooLarge)
    );
}

#[test]
fn inbox_is_read_in_chunks_and_short_reads_are_malformed() {
    let (root, store) = genesis(&[(ALICE, 1_000_000)]);
    let txs: Vec<Transaction> = (0..100).map(|n| transfer(&ALICE, BOB, 1, n)).collect();
    let bytes = batch(1, root, &txs).to_bytes().unwrap();
    let chunks = bytes.len().div_ceil(MAX_CHUNK);
    assert!(chunks > 2);
    let (reference, abi) = run_with(bytes.clone(), &store, &Config::default());
    assert_eq!(abi.inbox_reads, chunks);
    assert_eq!(reference.outputs.status, BatchStatus::Accepted);

    // A host that hands out 100 bytes at a time gives the same result.
    let mut slow = TestAbi::with_inbox(bytes.clone(), store.clone());
    slow.inbox_read_cap = Some(100);
    assert_eq!(execute(&mut slow, &Config::default()), reference);

    // One that stalls: Malformed, not a hang.
    let mut stalled = TestAbi::with_inbox(bytes.clone(), store.clone());
    stalled.inbox_read_cap = Some(0);
    let execution = execute(&mut stalled, &Config::default());
    assert_rejected(
        &execution,
        &stalled,
        RejectReason::Malformed,
        (0, 0, [0; 32]),
    );

    // One that announces more than it has.
    let mut short = TestAbi::with_inbox(bytes, store);
    short.claimed_len = Some(short.inbox.len() as u32 + 10);
    let execution = execute(&mut short, &Config::default());
    assert_eq!(
        execution.outputs.status,
        BatchStatus::Rejected(RejectReason::Malformed)
    );
}

#[test]
fn malformed_batches() {
    for bytes in [vec![], vec![1, 2, 3], vec![0xFF; 64]] {
        let (execution, abi) = run_with(bytes, &Store::new(), &Config::default());
        assert_rejected(&execution, &abi, RejectReason::Malformed, (0, 0, [0; 32]));
    }
    // A cut-short deposit record is the L1 part's fault: nothing applies.
    let with_deposit = batch_with(1, EMPTY_ROOT, &[deposit(ALICE, 1)], &[])
        .to_bytes()
        .unwrap();
    let (execution, abi) = run_with(
        with_deposit[..60 + 35].to_vec(),
        &Store::new(),
        &Config::default(),
    );
    assert_rejected(&execution, &abi, RejectReason::Malformed, (0, 0, [0; 32]));

    // A spoilt transactions section costs the transactions, not the deposits.
    let mut trailing = with_deposit.clone();
    trailing.extend([0, 0]);
    let (execution, _) = run_with(trailing, &Store::new(), &Config::default());
    assert_eq!(
        execution.outputs.status,
        BatchStatus::TransactionsRefused(RejectReason::Malformed)
    );
    assert_eq!(execution.receipts, vec![ReceiptStatus::Ok]);
    assert_ne!(execution.outputs.post_state_root, EMPTY_ROOT);

    let too_high = batch_with(1 << 32, EMPTY_ROOT, &[deposit(ALICE, 1)], &[]);
    let (execution, abi) = run(&too_high, &Store::new());
    assert_rejected(&execution, &abi, RejectReason::Malformed, (0, 0, [0; 32]));
    let highest = batch(
        u64::from(u32::MAX),
        EMPTY_ROOT,
        &[withdraw(&ALICE, L1, 1, 0)],
    );
    assert_eq!(
        run(&highest, &Store::new()).0.outputs.status,
        BatchStatus::Accepted
    );
}

/// A compressed section runs as its raw twin; one that does not decompress, or decompresses past
/// the cap (a bomb), costs the sequencer's transactions and never the deposits.
#[test]
fn compressed_sections_and_bombs() {
    use crate::section::{BROTLI, MAX_SECTION_BYTES};
    use std::io::Write;
    let brotli = |encoding: &[u8]| {
        let mut posted = vec![BROTLI];
        {
            let mut writer = brotli::CompressorWriter::new(&mut posted, 4096, 9, 22);
            writer.write_all(encoding).unwrap();
        }
        posted
    };
    let (root, store) = genesis(&[(ALICE, 1000), (BOB, 1000)]);
    let txs = [transfer(&ALICE, CAROL, 10, 0), transfer(&BOB, CAROL, 20, 0)];
    let raw = batch_with(1, root, &[deposit(CAROL, 5)], &txs);
    let raw_bytes = raw.to_bytes().unwrap();
    let section_at = raw_bytes.len()
        - crate::types::TransactionList(raw.transactions.clone())
            .to_bytes()
            .unwrap()
            .len();
    let with_section = |section: &[u8]| {
        let mut bytes = raw_bytes[..section_at].to_vec();
        bytes.extend_from_slice(section);
        bytes
    };
    let encoding = &raw_bytes[section_at + 1..];
    let (expected, _) = run_with(raw_bytes.clone(), &store, &Config::default());
    assert_eq!(expected.receipts.len(), 3);
    let (compressed, _) = run_with(with_section(&brotli(encoding)), &store, &Config::default());
    assert_eq!(compressed, expected);

    let mut bomb_encoding = encoding.to_vec();
    bomb_encoding.resize(MAX_SECTION_BYTES + 1, 0);
    let broken = {
        let mut stream = brotli(encoding);
        stream.truncate(stream.len() - 2);
        stream
    };
    for (section, reason) in [
        (brotli(&bomb_encoding), RejectReason::TooLarge),
        (broken, RejectReason::Malformed),
        (vec![0x02, 0x00], RejectReason::Malformed),
    ] {
        let (execution, _) = run_with(with_section(&section), &store, &Config::default());
        assert_eq!(
            execution.outputs.status,
            BatchStatus::TransactionsRefused(reason)
        );
        assert_eq!(
            execution.receipts,
            vec![ReceiptStatus::Ok],
            "the deposit stands"
        );
        assert_eq!(execution.outputs.tx_count, 0);
        assert_ne!(execution.outputs.post_state_root, root);
    }
}

#[test]
fn unknown_preimage_rejects_the_batch() {
    let (root, store) = genesis(&[(ALICE, 1000), (BOB, 1000), (CAROL, 1000)]);
    // Unknown root.
    let unknown = [0x77; 32];
    let (execution, abi) = run(&batch_with(4, unknown, &[deposit(ALICE, 1)], &[]), &store);
    assert_rejected(
        &execution,
        &abi,
        RejectReason::UnknownPreimage,
        (CHAIN, 4, unknown),
    );

    // Known root, one node below it missing: only batches that reach it fail.
    let mut probe = TestAbi::with_inbox(vec![], store.clone());
    let mut trie = PartialTrie::new(root);
    trie.account(&mut probe, &ALICE).unwrap();
    let leaf = crate::trie::encode_leaf(
        &keccak(&ALICE),
        &Account {
            balance: 1000,
            nonce: 0,
        },
    );
    let mut missing = store.clone();
    assert!(missing.remove(&keccak(&leaf)).is_some());
    let deposits = [deposit(BOB, 1)];
    let txs = [transfer(&ALICE, BOB, 1, 0)];
    let (execution, abi) = run(&batch_with(4, root, &deposits, &txs), &missing);
    assert_rejected(
        &execution,
        &abi,
        RejectReason::UnknownPreimage,
        (CHAIN, 4, root),
    );
    let (execution, _) = run(&batch_with(4, root, &deposits, &[]), &missing);
    assert_eq!(execution.outputs.status, BatchStatus::Accepted);

    // A node whose stored bytes were tampered with counts as unknown.
    let mut tampered = store.clone();
    let mut bad_leaf = leaf.to_vec();
    bad_leaf[40] ^= 1;
    tampered.insert(keccak(&leaf), bad_leaf);
    let (execution, _) = run(&batch(4, root, &txs), &tampered);
    assert_eq!(
        execution.outputs.status,
        BatchStatus::Rejected(RejectReason::UnknownPreimage)
    );
}

#[test]
fn execution_is_deterministic_and_hashes_stay_within_a_chunk() {
    let accounts: Vec<(Address, u128)> = (0u8..30).map(|i| ([i; 20], 10_000)).collect();
    let (root, store) = genesis(&accounts);
    let mut deposits = Vec::new();
    let mut txs = Vec::new();
    let mut nonces = [0u64; 30];
    for n in 0..1000u64 {
        let from = (n * 7 % 30) as usize;
        let to = [(n * 11 % 30) as u8; 20];
        let amount = u128::from(n);
        match n % 5 {
            0 => txs.push(withdraw(
                &[from as u8; 20],
                L1,
                1 + amount % 3,
                nonces[from],
            )),
            4 => deposits.push(deposit(to, 1 + amount)),
            _ => txs.push(transfer(
                &[from as u8; 20],
                to,
                1 + amount % 9,
                nonces[from],
            )),
        };
        if n % 5 != 4 {
            nonces[from] += 1;
        }
    }
    let batch = batch_with(9, root, &deposits, &txs);
    let (first, abi_first) = run(&batch, &store);
    let (second, abi_second) = run(&batch, &store);
    assert_eq!(first, second);
    assert_eq!(abi_first.emitted, abi_second.emitted);
    assert!(first.receipts.iter().all(|s| *s == ReceiptStatus::Ok));
    assert_eq!(first.outputs.withdrawal_count, 200);
    // TestAbi asserts every keccak256 input is at most MAX_CHUNK bytes; the
    // receipts root of 1,000 transactions needed the chained form.
    assert!(abi_first.keccak_calls > 0);
}

#[test]
fn arbitrary_inbox_bytes_never_panic() {
    let (root, store) = genesis(&[(ALICE, 1000), (BOB, 1000)]);
    let txs: Vec<Transaction> = vec![
        transfer(&ALICE, BOB, 10, 0),
        withdraw(&BOB, L1, 5, 0),
        transfer(&ALICE, CAROL, 1, 1),
    ];
    let valid = batch_with(1, root, &[deposit(CAROL, 3)], &txs)
        .to_bytes()
        .unwrap();
    let mut rng = crate::test_abi::Rng(3);
    let mut accepted = 0;
    for case in 0..3000 {
        let mut bytes = valid.clone();
        match case % 4 {
            0 => {
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(bytes.len() as u64) as usize;
                    bytes[at] = rng.next() as u8;
                }
            }
            1 => bytes.truncate(rng.below(bytes.len() as u64) as usize),
            2 => {
                let at = rng.below(bytes.len() as u64) as usize;
                let junk: Vec<u8> = (0..rng.below(20)).map(|_| rng.next() as u8).collect();
                bytes.splice(at..at, junk);
            }
            _ => bytes = (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
        }
        let (execution, _) = run_with(bytes, &store, &Config::default());
        if execution.outputs.status == BatchStatus::Accepted {
            accepted += 1;
            assert_eq!(
                execution.receipts.len() as u32,
                execution.outputs.delayed_count + execution.outputs.tx_count
            );
        }
    }
    assert!(
        accepted > 100,
        "mutations should often leave a decodable batch ({accepted})"
    );
}

/// A forced transaction is checked like any other (signature, nonce, balance), in L1's order
/// among the deposits; one that does not decode costs only its own receipt; and a refused
/// sequencer section cannot spoil any of them.
#[test]
fn forced_transactions_apply_in_queue_order_with_every_check() {
    let (root, store) = genesis(&[(ALICE, 10)]);
    let forced = |tx: &Transaction| DelayedMessage::Transaction(tx.to_bytes().unwrap());
    let mut wrong_key = transfer(&ALICE, BOB, 1, 0);
    if let Transaction::Transfer { signature, .. } = &mut wrong_key {
        signature[64] = 9;
    }
    let delayed = vec![
        // Carol's withdrawal spends the deposit queued before it...
        DelayedMessage::Deposit(deposit(CAROL, 5)),
        forced(&withdraw(&CAROL, L1, 5, 0)),
        // ...and the same again is a replay.
        forced(&withdraw(&CAROL, L1, 5, 0)),
        forced(&wrong_key),
        DelayedMessage::Transaction(vec![0xFF, 0x00]),
        forced(&transfer(&ALICE, BOB, 11, 0)),
        forced(&transfer(&ALICE, BOB, 4, 0)),
    ];
    let batch = Batch {
        delayed,
        ..batch(7, root, &[transfer(&ALICE, BOB, 1, 1)])
    };
    let (execution, mut abi) = run(&batch, &store);
    assert_eq!(execution.outputs.status, BatchStatus::Accepted);
    assert_eq!(
        execution.receipts,
        vec![
            ReceiptStatus::Ok,
            ReceiptStatus::Ok,
            ReceiptStatus::BadNonce,
            ReceiptStatus::BadSignature,
            ReceiptStatus::Malformed,
            ReceiptStatus::InsufficientBalance,
            ReceiptStatus::Ok,
            // The sequencer's transaction sees the forced ones' effects (nonce 1 is next).
            ReceiptStatus::Ok,
        ]
    );
    assert_eq!(
        (execution.outputs.delayed_count, execution.outputs.tx_count),
        (7, 1)
    );
    assert_eq!(
        execution.withdrawals,
        vec![Withdrawal {
            l1_recipient: L1,
            amount: 5,
            index: (7 << 32) | 1
        }]
    );
    let post = execution.outputs.post_state_root;
    assert_eq!(account(&mut abi, post, &BOB).balance, 5);
    assert_eq!(account(&mut abi, post, &CAROL).balance, 0);

    // A section that does not decode: the forced transactions stand all the same.
    let mut bytes = Batch {
        transactions: Vec::new(),
        ..batch.clone()
    }
    .to_bytes()
    .unwrap();
    bytes.pop();
    bytes.extend_from_slice(&[0x05, 0x01]);
    let (refused, _) = run_with(bytes, &store, &Config::default());
    assert_eq!(
        refused.outputs.status,
        BatchStatus::TransactionsRefused(RejectReason::Malformed)
    );
    assert_eq!(refused.receipts, execution.receipts[..7].to_vec());
}
