//! The ledger run natively with real secp256k1 signatures, its withdrawals
//! root checked against the real rs_merkle crate, and golden vectors for
//! genesis roots and deterministic batches.

use std::collections::BTreeMap;
use std::time::Instant;

use program::{
    address_of, derive_keys, ecrecover, encode_batch, genesis, keccak256, random_batch,
    random_genesis, run_native, run_native_bytes, sender_of, sign_prehash, sign_transfer,
    sign_withdraw, withdrawals_root, Account, Address, Batch, BatchBuilder, BatchOutputs,
    BatchStatus, Config, DelayedMessage, Deposit, Hash, NativeAbi, NodeStore, ReceiptStatus,
    RejectReason, SigningKey, Transaction, EMPTY_ROOT, GENESIS_BALANCE,
};
use rs_merkle::{MerkleProof, MerkleTree};

const CHAIN: u64 = 42;

/// keccak256 for rs_merkle: leaves are given as hashes, parents are
/// keccak256 of the 64-byte concatenation (rs_merkle's default
/// `concat_and_hash`), an unpaired last node is promoted unchanged.
#[derive(Clone)]
struct Keccak256Algo;

impl rs_merkle::Hasher for Keccak256Algo {
    type Hash = [u8; 32];

    fn hash(data: &[u8]) -> [u8; 32] {
        keccak256(data)
    }
}

fn hex(bytes: &[u8]) -> String {
    program::error::hex(bytes)
}

fn key(byte: u8) -> SigningKey {
    SigningKey::from_slice(&[byte; 32]).unwrap()
}

/// Replays a batch's deposits and decoded transactions on a plain map (the
/// model the STF must match), returning the final accounts, the receipt
/// statuses, total deposited and total withdrawn.
fn model_replay(
    accounts: &mut BTreeMap<Address, Account>,
    batch: &Batch,
) -> (Vec<ReceiptStatus>, u128, u128) {
    let mut statuses = Vec::new();
    let (mut deposited, mut withdrawn) = (0u128, 0u128);
    for delayed in &batch.delayed {
        let DelayedMessage::Deposit(deposit) = delayed else {
            panic!("the model knows deposits only");
        };
        accounts.entry(deposit.to).or_default().balance += deposit.amount;
        deposited += deposit.amount;
        statuses.push(ReceiptStatus::Ok);
    }
    for bytes in &batch.transactions {
        let Ok(tx) = Transaction::from_bytes(bytes) else {
            statuses.push(ReceiptStatus::Malformed);
            continue;
        };
        let status = match &tx {
            Transaction::Transfer {
                to, amount, nonce, ..
            }
            | Transaction::Withdraw {
                l1_recipient: to,
                amount,
                nonce,
                ..
            } => {
                let sender = sender_of(batch.chain_id, &tx).expect("valid signature");
                let from = accounts.entry(sender).or_default();
                assert_eq!(from.nonce, *nonce);
                from.nonce += 1;
                from.balance -= amount;
                if matches!(tx, Transaction::Transfer { .. }) {
                    accounts.entry(*to).or_default().balance += amount;
                } else {
                    withdrawn += amount;
                }
                ReceiptStatus::Ok
            }
        };
        statuses.push(status);
    }
    (statuses, deposited, withdrawn)
}

#[test]
fn thousand_signed_transactions_over_200_accounts() {
    let seed = 2024;
    let (root, store, keys) = random_genesis(seed, 200);
    let (batch, batch_keys) = random_batch(seed, 1000, 200, CHAIN, 1, root);
    assert_eq!(batch.delayed.len() + batch.transactions.len(), 1000);
    assert_eq!(
        keys.iter().map(address_of).collect::<Vec<_>>(),
        batch_keys.iter().map(address_of).collect::<Vec<_>>()
    );

    let bytes = encode_batch(&batch);
    assert!(bytes.len() <= Config::default().max_batch_bytes as usize);
    let mut best = f64::INFINITY;
    let mut run = None;
    for _ in 0..3 {
        let start = Instant::now();
        let this = run_native_bytes(bytes.clone(), store.clone(), &Config::default());
        best = best.min(start.elapsed().as_secs_f64());
        run = Some(this);
    }
    let run = run.unwrap();
    eprintln!(
        "native: 1,000 transactions ({} bytes) in {:.2} ms ({:.0} tx/s), {} trie nodes loaded, {} emitted",
        bytes.len(),
        best * 1e3,
        1000.0 / best,
        run.execution.nodes_loaded,
        run.emitted
    );

    let execution = &run.execution;
    let outputs = &execution.outputs;
    assert_eq!(outputs.status, BatchStatus::Accepted);
    assert_eq!(
        BatchOutputs::from_bytes(run.output_bytes.as_ref().unwrap()).unwrap(),
        *outputs
    );
    assert!(execution.receipts.iter().all(|s| *s == ReceiptStatus::Ok));
    assert_eq!(outputs.tx_count + outputs.delayed_count, 1000);
    // Kinds: transfer 0, withdraw 1 (the variant byte); deposits come from L1.
    let kinds = batch
        .transactions
        .iter()
        .map(|b| b[0])
        .fold([0; 2], |mut n, k| {
            n[k as usize] += 1;
            n
        });
    assert!(
        batch.delayed.len() > 10 && kinds[0] > 500 && kinds[1] > 150,
        "mix: {} deposits, {kinds:?}",
        batch.delayed.len()
    );
    assert_eq!(outputs.withdrawal_count as usize, kinds[1]);

    // The post-state is exactly the model's: same accounts, balances, nonces.
    let mut model: BTreeMap<Address, Account> = keys
        .iter()
        .map(|k| {
            (
                address_of(k),
                Account {
                    balance: GENESIS_BALANCE,
                    nonce: 0,
                },
            )
        })
        .collect();
    let (statuses, deposited, withdrawn) = model_replay(&mut model, &batch);
    assert_eq!(statuses, execution.receipts);
    let mut expected_leaves: Vec<(Hash, Account)> =
        model.iter().map(|(a, acc)| (keccak256(a), *acc)).collect();
    expected_leaves.sort_by_key(|(key, _)| *key);
    let leaves = run.store.leaves(&outputs.post_state_root).unwrap();
    assert_eq!(leaves, expected_leaves);

    // Conservation: what is left plus what left for L1 is what there was
    // plus what came in.
    let total: u128 = leaves.iter().map(|(_, a)| a.balance).sum();
    assert_eq!(total + withdrawn, 200 * GENESIS_BALANCE + deposited);
    assert_eq!(
        execution.withdrawals.iter().map(|w| w.amount).sum::<u128>(),
        withdrawn
    );
    // Nonces advanced by the number of signed transactions each key sent.
    let mut sent: BTreeMap<Address, u64> = BTreeMap::new();
    for tx in batch
        .transactions
        .iter()
        .filter_map(|b| Transaction::from_bytes(b).ok())
    {
        if let Some(sender) = sender_of(CHAIN, &tx) {
            *sent.entry(sender).or_default() += 1;
        }
    }
    assert!(sent.len() > 150, "most keys sent something");
    for key in &keys {
        let address = address_of(key);
        let account = run
            .store
            .account(&outputs.post_state_root, &address)
            .unwrap();
        assert_eq!(account.nonce, sent.get(&address).copied().unwrap_or(0));
    }

    // Every withdrawal has an rs_merkle inclusion proof against the root.
    let leaf_hashes: Vec<Hash> = execution
        .withdrawals
        .iter()
        .map(|w| keccak256(&w.leaf_bytes()))
        .collect();
    let tree = MerkleTree::<Keccak256Algo>::from_leaves(&leaf_hashes);
    assert_eq!(tree.root(), Some(outputs.withdrawals_root));
    for (i, withdrawal) in execution.withdrawals.iter().enumerate() {
        assert_eq!(withdrawal.index >> 32, 1);
        let proof = tree.proof(&[i]);
        let proof = MerkleProof::<Keccak256Algo>::try_from(proof.to_bytes()).unwrap();
        assert!(proof.verify(
            outputs.withdrawals_root,
            &[i],
            &[keccak256(&withdrawal.leaf_bytes())],
            leaf_hashes.len()
        ));
    }
    // Withdrawal indices are unique.
    let mut indices: Vec<u64> = execution.withdrawals.iter().map(|w| w.index).collect();
    indices.dedup();
    assert_eq!(indices.len(), execution.withdrawals.len());

    // The store handed back serves the next batch from the new root.
    let (next, _) = random_batch(seed + 1, 10, 0, CHAIN, 2, outputs.post_state_root);
    let (next_outputs, _) = run_native(&next, run.store.clone());
    assert_eq!(next_outputs.status, BatchStatus::Accepted);
}

#[test]
fn withdrawals_root_is_rs_merkles_for_every_size() {
    let mut abi = NativeAbi::default();
    for n in 0..=70u32 {
        let leaves: Vec<Hash> = (0..n).map(|i| keccak256(&i.to_le_bytes())).collect();
        let ours = withdrawals_root(&mut abi, &leaves);
        let tree = MerkleTree::<Keccak256Algo>::from_leaves(&leaves);
        assert_eq!(tree.root().unwrap_or([0; 32]), ours, "{n} leaves");
        for i in 0..n as usize {
            assert!(tree
                .proof(&[i])
                .verify(ours, &[i], &[leaves[i]], leaves.len()));
            // The outbox's proof of one leaf is rs_merkle's, sibling for sibling.
            assert_eq!(
                program::ledger::commitments::withdrawal_proof(&mut abi, &leaves, i).unwrap(),
                tree.proof(&[i]).proof_hashes().to_vec(),
                "leaf {i} of {n}"
            );
        }
        assert_eq!(
            program::ledger::commitments::withdrawal_proof(&mut abi, &leaves, n as usize),
            None
        );
    }
}

struct Fixture {
    root: Hash,
    store: NodeStore,
    alice: SigningKey,
    bob: SigningKey,
}

fn fixture() -> Fixture {
    let (alice, bob) = (key(1), key(2));
    let (root, store) = genesis(&[(address_of(&alice), 1_000), (address_of(&bob), 500)]);
    Fixture {
        root,
        store,
        alice,
        bob,
    }
}

fn batch_of(root: Hash, txs: &[Transaction]) -> Batch {
    Batch {
        chain_id: CHAIN,
        batch_number: 3,
        pre_state_root: root,
        first_delayed: 0,
        delayed: Vec::new(),
        transactions: txs.iter().map(|tx| tx.to_bytes().unwrap()).collect(),
    }
}

/// Runs `[valid, bad]` and `[bad]`; `bad` must get `status` and change
/// nothing in either.
fn assert_no_effect(f: &Fixture, valid: &Transaction, bad: &Transaction, status: ReceiptStatus) {
    let (after_valid, _) = run_native(
        &batch_of(f.root, std::slice::from_ref(valid)),
        f.store.clone(),
    );
    let run = run_native_bytes(
        encode_batch(&batch_of(f.root, &[valid.clone(), bad.clone()])),
        f.store.clone(),
        &Config::default(),
    );
    assert_eq!(run.execution.receipts, vec![ReceiptStatus::Ok, status]);
    assert_eq!(
        run.execution.outputs.post_state_root,
        after_valid.post_state_root
    );
    assert_eq!(
        run.execution.outputs.withdrawal_count,
        after_valid.withdrawal_count
    );

    let alone = run_native_bytes(
        encode_batch(&batch_of(f.root, std::slice::from_ref(bad))),
        f.store.clone(),
        &Config::default(),
    );
    if status != ReceiptStatus::BadNonce {
        assert_eq!(alone.execution.receipts, vec![status]);
        assert_eq!(alone.execution.outputs.post_state_root, f.root);
        assert_eq!(alone.emitted, 0);
    }
}

/// secp256k1 group order n, big-endian.
const ORDER: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41,
];

/// n - s (big-endian), turning a low-s signature into its malleated twin.
fn negate_s(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = ORDER[i] as i16 - s[i] as i16 - borrow;
        borrow = if d < 0 { 1 } else { 0 };
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

fn with_signature(tx: &Transaction, edit: impl FnOnce(&mut [u8; 65])) -> Transaction {
    let mut tx = tx.clone();
    match &mut tx {
        Transaction::Transfer { signature, .. } | Transaction::Withdraw { signature, .. } => {
            edit(signature)
        }
    }
    tx
}

#[test]
fn forged_signatures_leave_the_state_unchanged() {
    let f = fixture();
    let bob = address_of(&f.bob);
    let valid = sign_transfer(&f.bob, CHAIN, address_of(&f.alice), 5, 0);
    let genuine = sign_transfer(&f.alice, CHAIN, bob, 100, 0);

    // The same signature with s replaced by n - s (and v flipped) recovers
    // the same key on a lax verifier; here it is refused.
    let malleated = with_signature(&genuine, |sig| {
        let high = negate_s(&sig[32..64]);
        sig[32..64].copy_from_slice(&high);
        sig[64] ^= 1;
    });
    assert_no_effect(&f, &valid, &malleated, ReceiptStatus::BadSignature);
    let zero_r = with_signature(&genuine, |sig| sig[..32].fill(0));
    assert_no_effect(&f, &valid, &zero_r, ReceiptStatus::BadSignature);
    let bad_v = with_signature(&genuine, |sig| sig[64] = 27);
    assert_no_effect(&f, &valid, &bad_v, ReceiptStatus::BadSignature);

    // Alice's signature over 100 reattached to 900: with Ethereum-style
    // recovery this does not fail, it recovers some other key, which owns
    // nothing.
    let Transaction::Transfer { signature, .. } = genuine else {
        unreachable!()
    };
    let raised = Transaction::Transfer {
        to: bob,
        amount: 900,
        nonce: 0,
        signature,
    };
    let recovered = sender_of(CHAIN, &raised);
    assert_ne!(recovered, Some(address_of(&f.alice)));
    let expected = if recovered.is_some() {
        ReceiptStatus::InsufficientBalance
    } else {
        ReceiptStatus::BadSignature
    };
    assert_no_effect(&f, &valid, &raised, expected);

    // A signature for another chain.
    let other_chain = sign_transfer(&f.alice, CHAIN + 1, bob, 100, 0);
    let recovered = sender_of(CHAIN, &other_chain);
    assert_ne!(recovered, Some(address_of(&f.alice)));
}

#[test]
fn replayed_nonce_and_overdraft_leave_the_state_unchanged() {
    let f = fixture();
    let alice = address_of(&f.alice);
    let bob = address_of(&f.bob);
    let valid = sign_transfer(&f.alice, CHAIN, bob, 100, 0);
    // The same transaction again: nonce 0 is spent.
    assert_no_effect(&f, &valid, &valid, ReceiptStatus::BadNonce);
    // A nonce from the future.
    let gap = sign_transfer(&f.alice, CHAIN, bob, 1, 5);
    assert_no_effect(&f, &valid, &gap, ReceiptStatus::BadNonce);
    // Bob holds 500, 600 after `valid`: sending or withdrawing 601 is an
    // overdraft either way.
    let overdraft = sign_transfer(&f.bob, CHAIN, alice, 601, 0);
    assert_no_effect(&f, &valid, &overdraft, ReceiptStatus::InsufficientBalance);
    let over_withdraw = sign_withdraw(&f.bob, CHAIN, [9; 20], 601, 0);
    assert_no_effect(
        &f,
        &valid,
        &over_withdraw,
        ReceiptStatus::InsufficientBalance,
    );
    let zero = sign_withdraw(&f.bob, CHAIN, [9; 20], 0, 0);
    assert_no_effect(&f, &valid, &zero, ReceiptStatus::ZeroAmount);
}

#[test]
fn a_deposit_past_u128_max_is_refused_and_the_next_one_applies() {
    let f = fixture();
    let alice = address_of(&f.alice);
    let mut batch = batch_of(f.root, &[]);
    batch.delayed = vec![
        DelayedMessage::Deposit(Deposit {
            to: alice,
            amount: u128::MAX,
        }),
        DelayedMessage::Deposit(Deposit {
            to: alice,
            amount: 7,
        }),
    ];
    let run = run_native_bytes(encode_batch(&batch), f.store.clone(), &Config::default());
    assert_eq!(
        run.execution.receipts,
        vec![ReceiptStatus::Overflow, ReceiptStatus::Ok]
    );
    let leaves = run
        .store
        .leaves(&run.execution.outputs.post_state_root)
        .unwrap();
    assert!(leaves.contains(&(
        keccak256(&alice),
        Account {
            balance: 1_007,
            nonce: 0
        }
    )));
}

#[test]
fn empty_batch() {
    let f = fixture();
    let (outputs, store) = run_native(&batch_of(f.root, &[]), f.store.clone());
    assert_eq!(outputs.status, BatchStatus::Accepted);
    assert_eq!(outputs.post_state_root, f.root);
    assert_eq!((outputs.tx_count, outputs.withdrawal_count), (0, 0));
    assert_eq!(outputs.withdrawals_root, [0; 32]);
    assert_eq!(outputs.receipts_root, [0; 32]);
    assert_eq!(store, f.store);
}

#[test]
fn batch_at_the_transaction_limit_and_over_it() {
    let (root, store, _) = random_genesis(5, 50);
    let (at_limit, _) = random_batch(5, 1000, 50, CHAIN, 8, root);
    let (outputs, _) = run_native(&at_limit, store.clone());
    assert_eq!(outputs.status, BatchStatus::Accepted);
    assert_eq!(outputs.delayed_count + outputs.tx_count, 1000);

    // Over the limit the sequencer's transactions are refused (the deposits, none here, would stand).
    let (mut over, _) = random_batch(5, 1100, 50, CHAIN, 8, root);
    over.delayed.clear();
    assert!(over.transactions.len() > 1000);
    assert!(encode_batch(&over).len() <= Config::default().max_batch_bytes as usize);
    let run = run_native_bytes(encode_batch(&over), store, &Config::default());
    let outputs = run.execution.outputs;
    assert_eq!(
        outputs.status,
        BatchStatus::TransactionsRefused(RejectReason::TooManyTransactions)
    );
    assert_eq!(
        (
            outputs.chain_id,
            outputs.batch_number,
            outputs.pre_state_root
        ),
        (CHAIN, 8, root)
    );
    assert_eq!(outputs.post_state_root, root);
    assert_eq!((outputs.tx_count, outputs.withdrawal_count), (0, 0));
    assert_eq!(run.emitted, 0);
}

#[test]
fn batch_over_the_byte_limit_is_too_large() {
    let f = fixture();
    let limit = Config::default().max_batch_bytes as usize;
    let mut builder = BatchBuilder::new(CHAIN, 1, f.root);
    builder.push_bytes(vec![0; limit]);
    let bytes = builder.build_bytes();
    assert!(bytes.len() > limit);
    let run = run_native_bytes(bytes, f.store.clone(), &Config::default());
    let outputs = run.execution.outputs;
    assert_eq!(
        outputs.status,
        BatchStatus::Rejected(RejectReason::TooLarge)
    );
    assert_eq!(outputs.pre_state_root, [0; 32]);
    assert_eq!(outputs.post_state_root, [0; 32]);

    // Just under the limit it is read (and the junk transaction is Malformed).
    let mut builder = BatchBuilder::new(CHAIN, 1, f.root);
    builder.push_bytes(vec![0; limit - 100]);
    let bytes = builder.build_bytes();
    assert!(bytes.len() <= limit);
    let run = run_native_bytes(bytes, f.store.clone(), &Config::default());
    assert_eq!(run.execution.outputs.status, BatchStatus::Accepted);
    assert_eq!(run.execution.receipts, vec![ReceiptStatus::Malformed]);
}

#[test]
fn malformed_transaction_bytes_are_skipped() {
    let f = fixture();
    let mut builder = BatchBuilder::new(CHAIN, 1, f.root).with_accounts([(
        address_of(&f.alice),
        Account {
            balance: 1_000,
            nonce: 0,
        },
    )]);
    builder.transfer(&f.alice, [7; 20], 10).unwrap();
    builder.push_bytes(vec![]);
    builder.push_bytes(vec![0xFF; 30]);
    let mut truncated = sign_transfer(&f.alice, CHAIN, [7; 20], 10, 1)
        .to_bytes()
        .unwrap();
    truncated.pop();
    builder.push_bytes(truncated);
    builder.transfer(&f.alice, [7; 20], 10).unwrap();
    let run = run_native_bytes(builder.build_bytes(), f.store.clone(), &Config::default());
    use ReceiptStatus::{Malformed, Ok};
    assert_eq!(
        run.execution.receipts,
        vec![Ok, Malformed, Malformed, Malformed, Ok]
    );
    let account = run
        .store
        .account(&run.execution.outputs.post_state_root, &[7; 20])
        .unwrap();
    assert_eq!(account.balance, 20);

    // Bytes that are not a batch at all reject the batch.
    let run = run_native_bytes(vec![1, 2, 3], f.store.clone(), &Config::default());
    assert_eq!(
        run.execution.outputs.status,
        BatchStatus::Rejected(RejectReason::Malformed)
    );
}

#[test]
fn unknown_preimage_rejects_the_batch() {
    let f = fixture();
    let tx = sign_transfer(&f.alice, CHAIN, [7; 20], 10, 0);
    let (outputs, store) = run_native(
        &batch_of(f.root, std::slice::from_ref(&tx)),
        NodeStore::new(),
    );
    assert_eq!(
        outputs.status,
        BatchStatus::Rejected(RejectReason::UnknownPreimage)
    );
    assert_eq!(outputs.post_state_root, f.root);
    assert!(store.is_empty());

    // A store missing only the root.
    let mut partial = f.store.clone();
    partial.remove(&f.root).unwrap();
    let (outputs, _) = run_native(&batch_of(f.root, &[tx]), partial);
    assert_eq!(
        outputs.status,
        BatchStatus::Rejected(RejectReason::UnknownPreimage)
    );
}

#[test]
fn ecrecover_semantics() {
    // Private key 1: its address is a well-known Ethereum test vector.
    let one = {
        let mut scalar = [0u8; 32];
        scalar[31] = 1;
        SigningKey::from_slice(&scalar).unwrap()
    };
    assert_eq!(
        hex(&address_of(&one)),
        "7e5f4552091a69125d5dfcb7b8c2659029395bdf"
    );
    let hash = keccak256(b"hauptbuch");
    for k in [one, key(3), key(0x7F)] {
        let sig = sign_prehash(&k, &hash);
        assert!(sig[64] <= 1);
        assert_eq!(ecrecover(&hash, &sig), Some(address_of(&k)));
        let mut high = sig;
        high[32..64].copy_from_slice(&negate_s(&sig[32..64]));
        high[64] ^= 1;
        assert_eq!(ecrecover(&hash, &high), None, "high-s");
        for bad_v in [2, 3, 27, 28] {
            let mut v = sig;
            v[64] = bad_v;
            assert_eq!(ecrecover(&hash, &v), None, "v = {bad_v}");
        }
        let mut zero_s = sig;
        zero_s[32..64].fill(0);
        assert_eq!(ecrecover(&hash, &zero_s), None);
        let mut r_order = sig;
        r_order[..32].copy_from_slice(&ORDER);
        assert_eq!(ecrecover(&hash, &r_order), None);
    }
}

#[test]
fn fast_ecrecover_agrees_with_k256_recovery() {
    use program::crypto::ecrecover_reference;
    let keys = derive_keys(99, 50);
    let mut recovered = 0;
    for (i, key) in keys.iter().enumerate() {
        let hash = keccak256(&(i as u64).to_le_bytes());
        let sig = sign_prehash(key, &hash);
        assert_eq!(ecrecover(&hash, &sig), Some(address_of(key)));
        assert_eq!(ecrecover_reference(&hash, &sig), Some(address_of(key)));
        // The other parity recovers another key (or none) on both paths.
        let mut flipped = sig;
        flipped[64] ^= 1;
        assert_eq!(
            ecrecover(&hash, &flipped),
            ecrecover_reference(&hash, &flipped)
        );
        assert_ne!(ecrecover(&hash, &flipped), Some(address_of(key)));
    }
    // Pseudo-random 65-byte strings: invalid scalars, high s, r off the
    // curve, and valid-looking signatures of random keys.
    let mut state = [7u8; 32];
    for i in 0..3000u32 {
        state = keccak256(&state);
        let tail = keccak256(&[&state[..], &i.to_le_bytes()].concat());
        let mut sig = [0u8; 65];
        sig[..32].copy_from_slice(&state);
        sig[32..64].copy_from_slice(&tail);
        sig[64] = (i % 2) as u8;
        if i % 5 == 0 {
            sig[32] &= 0x7F; // low s, so recovery is actually attempted
        }
        let hash = keccak256(&tail);
        let fast = ecrecover(&hash, &sig);
        assert_eq!(fast, ecrecover_reference(&hash, &sig), "case {i}");
        recovered += usize::from(fast.is_some());
    }
    assert!(
        recovered > 300,
        "only {recovered} random signatures recovered a key"
    );
}

/// Golden vectors: a fixed three-account genesis and its state root (the
/// same accounts as the ledger crate's own golden test), and the bytes and
/// outputs of a small seeded batch, so "same seed, same batch" holds across
/// versions.
#[test]
fn golden_vectors() {
    let (root, store) = genesis(&[
        ([0x01; 20], 1_000_000),
        ([0x02; 20], 2_000_000),
        ([0x03; 20], 3_000_000),
    ]);
    assert_eq!(
        hex(&root),
        "ebc596c45df8abdf6827c91c6b02494abf62937c5bed55221e70190b028829dd"
    );
    // 3 leaves and 3 branches: two of the keys share their first bit.
    assert_eq!(store.len(), 6);
    assert_eq!(genesis(&[]).0, EMPTY_ROOT);

    let (root, store, _) = random_genesis(7, 5);
    let (batch, _) = random_batch(7, 20, 5, 1, 1, root);
    let bytes = encode_batch(&batch);
    let (again, _) = random_batch(7, 20, 5, 1, 1, root);
    assert_eq!(encode_batch(&again), bytes);
    let (outputs, _) = run_native(&batch, store);
    assert_eq!(outputs.status, BatchStatus::Accepted);
    assert_eq!(
        [
            hex(&root),
            hex(&keccak256(&bytes)),
            hex(&outputs.post_state_root),
            hex(&outputs.withdrawals_root),
            hex(&outputs.receipts_root),
        ],
        [
            "c967fe81e1f84078e50f6dce9a23a3096f00f168fa917bcc1d14fc2cbb71ffbc",
            "575fb78135cb524318e4d4044831279748d7309082f5d0859d1b77f982ed8846",
            "0298744f3e16a5ac49784385b9e566143d9521693c6188394f39d5dc4cfcb546",
            "718c4ec2d5830c57eadc227b2aec1368500e4ec2ade3ac3d53062d856bb00f8e",
            "5601c4aa3c6956fa482eb30aa2851f866134b7d2f7634c201eb64d6adf93c147",
        ]
    );
}
