//! The node's sequencer turn on the embedded L1: transactions through the mempool (checked,
//! durable), deposits from the bridge, batches posted, run on both engines, asserted, and their
//! receipts and withdrawals kept in the store across a restart; the withdrawal then paid on L1.

#[path = "common/settlement.rs"]
mod fixture;

use fixture::*;
use program::ledger::Withdrawal;
use program::{address_of, sign_transfer, sign_withdraw};
use prover::node::mempool::{self, Pending};
use prover::node::rpc::NodeState;
use prover::node::sequencer::produce_batch;
use prover::node::NodeDb;
use prover::settlement::{confirm, finalize_withdrawal, genesis_assertion, withdrawal_proof_of};
use verifier::l1::L1;
use verifier::settlement::contracts::ETHER;

fn admit(node: &mut NodeState, bytes: Vec<u8>) -> [u8; 32] {
    let head = node.db.head().unwrap();
    let admitted = mempool::check(
        &bytes,
        node.chain_id,
        node.db.nodes(),
        &head.state_root,
        &node.pending,
    )
    .unwrap();
    assert!(node.db.admit(&admitted.hash, &bytes).unwrap());
    node.pending.add(&admitted);
    admitted.hash
}

#[test]
fn the_sequencer_posts_asserts_and_keeps_what_the_users_ask_for() {
    let dir = std::env::temp_dir().join(format!("node-seq-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut chain = chain();
    let mut node = NodeState {
        db: NodeDb::open(&dir).unwrap(),
        chain_id: CHAIN_ID,
        sequencer: true,
        pending: Pending::default(),
    };
    let alice_key = alice();
    let alice = address_of(&alice_key);
    let sequencer = chain.sequencer.clone();
    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();

    // Nothing to post yet.
    let idle = produce_batch(
        &mut node,
        &mut chain.l1,
        &sequencer,
        &chain.deployment,
        &chain.guest,
        &genesis,
        1000,
    )
    .unwrap();
    assert!(idle.is_none());

    // A deposit alone makes a batch.
    deposit(&mut chain, alice, 3 * ETHER).success().unwrap();
    let first = produce_batch(
        &mut node,
        &mut chain.l1,
        &sequencer,
        &chain.deployment,
        &chain.guest,
        &genesis,
        1000,
    )
    .unwrap()
    .expect("a batch");
    assert_eq!((first.batch, first.deposits, first.transactions), (1, 1, 0));
    let head = node.db.head().unwrap();
    assert_eq!(
        node.db
            .nodes()
            .account(&head.state_root, &alice)
            .unwrap()
            .balance,
        3 * ETHER
    );

    // Alice's transfer and withdrawal through the mempool.
    let user = user();
    let transfer = admit(
        &mut node,
        sign_transfer(&alice_key, CHAIN_ID, [0xB0; 20], ETHER / 2, 0)
            .to_bytes()
            .unwrap(),
    );
    let withdraw = admit(
        &mut node,
        sign_withdraw(&alice_key, CHAIN_ID, user.address().into_array(), ETHER, 1)
            .to_bytes()
            .unwrap(),
    );
    let second = produce_batch(
        &mut node,
        &mut chain.l1,
        &sequencer,
        &chain.deployment,
        &chain.guest,
        &first.assertion,
        1000,
    )
    .unwrap()
    .expect("a batch");
    assert_eq!((second.batch, second.transactions), (2, 2));
    assert_eq!(node.db.mempool_len().unwrap(), 0);
    drop(node);

    // After a restart the store still has everything.
    let db = NodeDb::open(&dir).unwrap();
    assert_eq!(db.head().unwrap().batch, 2);
    for tx in [transfer, withdraw] {
        let receipt = db.receipt(&tx).unwrap().expect("a receipt");
        assert_eq!((receipt.batch, receipt.status), (2, 0));
    }
    let stored = db.withdrawal(&withdraw).unwrap().expect("the withdrawal");
    let head = db.head().unwrap();
    assert_eq!(
        db.nodes()
            .account(&head.state_root, &alice)
            .unwrap()
            .balance,
        3 * ETHER - ETHER / 2 - ETHER
    );

    // Both assertions confirm after the window; the stored withdrawal is paid once.
    chain.l1.advance_time(PERIOD).unwrap();
    for assertion in [&first.assertion, &second.assertion] {
        confirm(&mut chain.l1, &user, &chain.deployment, assertion)
            .unwrap()
            .success()
            .unwrap();
    }
    let withdrawal = Withdrawal {
        l1_recipient: stored.l1_recipient,
        amount: stored.amount,
        index: stored.index,
    };
    let proof = withdrawal_proof_of(&[withdrawal], stored.position as usize).unwrap();
    let before = chain.l1.balance(user.address()).unwrap();
    finalize_withdrawal(
        &mut chain.l1,
        &user,
        &chain.deployment,
        second.assertion.id,
        &withdrawal,
        proof,
    )
    .unwrap()
    .success()
    .unwrap();
    assert_eq!(
        chain.l1.balance(user.address()).unwrap(),
        before + verifier::l1::U256::from(ETHER)
    );
    escrow_is_conserved(&mut chain);
    std::fs::remove_dir_all(&dir).unwrap();
}
