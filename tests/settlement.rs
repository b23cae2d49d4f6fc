//! The settlement contracts on the embedded L1, end to end: a deposit escrowed on L1 and credited
//! by the batch that includes it, transfers and a withdrawal on L2, the assertion, its window, its
//! confirmation and the withdrawal paid once on L1; every refusal on the way; and the games of
//! every lie on chain, played against the Rust referee as the model. The lifecycle and the games
//! are the shared flows of `common/settlement.rs`, which `tests/anvil.rs` runs on a real node.

#[path = "common/settlement.rs"]
mod fixture;

use fixture::*;
use program::ledger::{TransactionList, Withdrawal};
use program::NodeStore;
use prover::dispute::{play_all, play_onchain, HonestAgent, Liar, Lie, OnchainGame, Player};
use prover::settlement::{
    assert_batch, challenge, confirm, fetch_batch, finalize_withdrawal, genesis_assertion,
    post_batch, run_claim, withdrawal_proof_of,
};
use verifier::bisection::Party;
use verifier::l1::{L1Error, TxReceipt, B256, L1, U256};
use verifier::settlement::contracts::{self, view, Inbox, Rollup, ETHER};

/// On the embedded chain a refusal is mined: a transaction with its gas counted, and charged
/// nothing.
fn refused_when_mined(chain: &mut Chain, receipt: &TxReceipt) {
    assert_ne!(receipt.hash, B256::ZERO);
    assert!(receipt.gas_used > 0);
    assert_eq!(chain.l1.fee(receipt.hash).unwrap(), U256::ZERO);
}

#[test]
fn deposit_batch_assert_confirm_and_withdraw_once() {
    let mut chain = chain();
    let went_through = lifecycle(&mut chain, refused_when_mined);
    // Gas is free on the embedded chain: the balances moved by exactly the amounts.
    for receipt in &went_through {
        assert_eq!(chain.l1.fee(receipt.hash).unwrap(), U256::ZERO);
    }
    match chain.l1.fee(B256::repeat_byte(7)) {
        Err(L1Error::UnknownTransaction(hash)) => assert_eq!(hash, B256::repeat_byte(7)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_honest_party_wins_every_game_on_chain_against_every_lie() {
    let probe = {
        let mut chain = chain();
        first_batch(&mut chain).2.steps
    };
    let mut gas = Vec::new();
    for lie in lies(probe) {
        for liar_role in [Party::Asserter, Party::Challenger] {
            let mut chain = chain();
            let (lie, report) = honest_party_wins(&mut chain, |_| lie, liar_role);
            gas.push((
                format!("{lie} as {liar_role}"),
                report.rounds,
                report.moves.len(),
                report.gas,
            ));
        }
    }
    for (what, rounds, moves, total) in &gas {
        eprintln!("{what}: {rounds} rounds, {moves} transactions, {total} gas");
    }
}

#[test]
fn ten_challengers_against_one_honest_assertion_and_it_is_confirmed_within_the_bound() {
    let mut chain = chain();
    let (batch, genesis, truth) = first_batch(&mut chain);
    let honest_trace = trace(&chain, &batch, &genesis, truth.steps);
    let asserter_wallet = wallet(0x54);
    let (assertion, _) = assert_batch(
        &mut chain.l1,
        &asserter_wallet,
        &chain.deployment,
        &genesis,
        &batch,
        &truth,
    )
    .unwrap();
    let (_, posted_at) = chain.l1.head().unwrap();
    let lies = lies(truth.steps);
    let mut games = Vec::new();
    for (i, lie) in lies.iter().cycle().take(10).enumerate() {
        let challenger = wallet(0x60 + i as u8);
        chain
            .l1
            .set_balance(challenger.address(), U256::from(10 * ETHER))
            .unwrap();
        let initial = chain.initial.clone();
        let (game, _) = challenge(
            &mut chain.l1,
            &challenger,
            &chain.deployment,
            &assertion,
            &initial,
        )
        .unwrap();
        games.push(
            OnchainGame::open(
                &mut chain.l1,
                &chain.deployment,
                game,
                Player {
                    agent: Box::new(HonestAgent::new(honest_trace.clone())),
                    wallet: asserter_wallet.clone(),
                },
                Player {
                    agent: Box::new(Liar::new(honest_trace.clone(), *lie, i as u64)),
                    wallet: challenger,
                },
            )
            .unwrap(),
        );
    }
    let reports = play_all(&mut chain.l1, &chain.deployment, &mut games).unwrap();
    assert!(reports.iter().all(|r| r.outcome.winner == Party::Asserter));
    assert_eq!(status(&mut chain, assertion.id), 1, "still pending");

    // Confirmed as soon as the period is over (the games took less), and never later than the
    // period plus the longest game, two clock budgets.
    let (_, now) = chain.l1.head().unwrap();
    let bound = posted_at + PERIOD + 2 * 10 * PERIOD;
    assert!(now <= bound, "games ended at {now}, past the bound {bound}");
    if now < posted_at + PERIOD {
        chain.l1.advance_time(posted_at + PERIOD - now).unwrap();
    }
    confirm(
        &mut chain.l1,
        &asserter_wallet,
        &chain.deployment,
        &assertion,
    )
    .unwrap()
    .success()
    .unwrap();
    let (_, confirmed_at) = chain.l1.head().unwrap();
    assert!(confirmed_at <= bound);
    // Ten challenge bonds won, half of each burned, and the assertion bond back.
    let bond = U256::from(ETHER);
    assert_eq!(
        credits(&mut chain, &asserter_wallet),
        bond + U256::from(10) * (bond - bond / U256::from(2))
    );
    escrow_is_conserved(&mut chain);
}

#[test]
fn a_deposit_the_sequencer_ignores_is_forced_in() {
    let mut chain = chain();
    let carol = [0xCA; 20];
    deposit(&mut chain, carol, ETHER).success().unwrap();
    let empty = TransactionList(vec![]).to_bytes().unwrap();
    // The sequencer leaves the deposit out; the inbox accepts that only while it is young.
    let skip = |chain: &mut Chain| {
        contracts::send(
            &mut chain.l1,
            &chain.sequencer.clone(),
            chain.deployment.inbox,
            U256::ZERO,
            Inbox::postBatchCall {
                transactions: contracts::bytes(&empty),
                deposits: vec![],
            },
        )
        .unwrap()
    };
    skip(&mut chain).success().unwrap();
    let force = |chain: &mut Chain| {
        let records =
            prover::settlement::pending_deposits(&mut chain.l1, &chain.deployment).unwrap();
        contracts::send(
            &mut chain.l1,
            &wallet(0x53),
            chain.deployment.inbox,
            U256::ZERO,
            Inbox::forceIncludeCall { deposits: records },
        )
        .unwrap()
    };
    let early = force(&mut chain).outcome.unwrap_err().error;
    assert!(early.starts_with("NotYetForceable"), "{early}");

    chain.l1.advance_time(PERIOD).unwrap();
    let refused = skip(&mut chain).outcome.unwrap_err().error;
    assert!(refused.starts_with("DepositOverdue"), "{refused}");
    let receipt = force(&mut chain).success().unwrap();
    eprintln!("force inclusion: {} gas", receipt.gas_used);

    // Batch 2 is the forced one; asserted on top of batch 1, it credits Carol.
    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();
    let first = fetch_batch(&mut chain.l1, &chain.deployment, 1).unwrap();
    assert!(first.deposits.is_empty());
    let claim = run_claim(&chain.guest, &first, &genesis, NodeStore::new()).unwrap();
    let (one, _) = assert_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &genesis,
        &first,
        &claim,
    )
    .unwrap();
    let forced = fetch_batch(&mut chain.l1, &chain.deployment, 2).unwrap();
    assert_eq!(forced.transactions, vec![0]);
    assert_eq!(forced.deposits.len(), 1);
    let claim = run_claim(&chain.guest, &forced, &one, claim.store).unwrap();
    let outputs = program::ledger::BatchOutputs::from_bytes(&claim.outputs).unwrap();
    assert_eq!((outputs.deposit_count, outputs.tx_count), (1, 0));
    let carol_account = program::ledger::PartialTrie::new(outputs.post_state_root)
        .account(
            &mut program::NativeAbi::new(vec![], claim.store.clone()),
            &carol,
        )
        .unwrap();
    assert_eq!(carol_account.balance, ETHER);
    assert_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &one,
        &forced,
        &claim,
    )
    .unwrap();
    escrow_is_conserved(&mut chain);
}

#[test]
fn a_withdrawal_from_a_rejected_assertion_is_never_paid() {
    let mut chain = chain();
    let (batch, genesis, truth) = first_batch(&mut chain);
    // A liar asserts the batch with a withdrawal of its own added to the outputs' root.
    let liar = wallet(0x53);
    let stolen = Withdrawal {
        l1_recipient: liar.address().into_array(),
        amount: 3 * ETHER,
        index: 1 << 32 | 5,
    };
    let mut claim = truth.clone();
    claim.outputs[80..112].copy_from_slice(&program::keccak256(&stolen.leaf_bytes()));
    claim.outputs[152..156].copy_from_slice(&1u32.to_be_bytes());
    let Dispute { assertion, .. } = false_claim_disputed(
        &mut chain,
        &batch,
        &genesis,
        &claim,
        truth.steps,
        Lie::WrongFrom(truth.steps),
        1,
    );
    assert_eq!(status(&mut chain, assertion.id), 3);
    chain.l1.advance_time(PERIOD).unwrap();
    let refused = confirm(&mut chain.l1, &liar, &chain.deployment, &assertion)
        .unwrap()
        .outcome
        .unwrap_err()
        .error;
    assert!(refused.starts_with("NotPending"), "{refused}");
    let proof = withdrawal_proof_of(&[stolen], 0).unwrap();
    let refused = finalize_withdrawal(
        &mut chain.l1,
        &liar,
        &chain.deployment,
        assertion.id,
        &stolen,
        proof,
    )
    .unwrap()
    .outcome
    .unwrap_err()
    .error;
    assert!(refused.starts_with("RejectedAssertion"), "{refused}");
    escrow_is_conserved(&mut chain);
}

fn refused(receipt: TxReceipt) -> String {
    receipt.outcome.expect_err("refused").error
}

#[test]
fn every_refusal_of_the_inbox_and_the_assertion_chain() {
    let mut chain = chain();
    let user = user();
    let inbox = chain.deployment.inbox;
    let rollup = chain.deployment.rollup;
    let zero = deposit(&mut chain, [1; 20], 0);
    assert!(refused(zero).starts_with("ZeroDeposit"));
    let one_tx = TransactionList(vec![vec![1]]).to_bytes().unwrap();
    let post = |chain: &mut Chain, from: &verifier::l1::Wallet, bytes: Vec<u8>| {
        contracts::send(
            &mut chain.l1,
            from,
            inbox,
            U256::ZERO,
            Inbox::postBatchCall {
                transactions: contracts::bytes(&bytes),
                deposits: vec![],
            },
        )
        .unwrap()
    };
    assert!(refused(post(&mut chain, &user, one_tx.clone())).starts_with("NotSequencer"));
    let sequencer = chain.sequencer.clone();
    assert!(refused(post(&mut chain, &sequencer, vec![])).starts_with("NoTransactions"));
    assert!(refused(post(&mut chain, &sequencer, vec![0; 262_144])).starts_with("BatchTooLarge"));

    let (batch, genesis, truth) = first_batch(&mut chain);
    // A bond other than the configured one is refused.
    let mut wrong_bond = Rollup::assertCall {
        parent: genesis.data.clone(),
        parentOutputs: contracts::bytes(&genesis.outputs),
        outputs: contracts::bytes(&truth.outputs),
        finalHot: contracts::bytes(&truth.final_state.hot),
        finalCold: contracts::bytes(&truth.final_state.cold),
        steps: truth.steps,
        messageLength: batch.commitment_opening().unwrap().length,
        batchSiblings: batch
            .commitment_opening()
            .unwrap()
            .siblings
            .iter()
            .map(|s| (*s).into())
            .collect(),
    };
    let receipt = contracts::send(
        &mut chain.l1,
        &user,
        rollup,
        U256::from(1),
        wrong_bond.clone(),
    )
    .unwrap();
    assert!(refused(receipt).starts_with("WrongBond"));
    // Outputs that are not the batch's (another chain id) are refused at assertion time.
    let mut other_chain = truth.outputs.clone();
    other_chain[15] ^= 1;
    wrong_bond.outputs = contracts::bytes(&other_chain);
    let receipt =
        contracts::send(&mut chain.l1, &user, rollup, U256::from(ETHER), wrong_bond).unwrap();
    assert!(refused(receipt).starts_with("BadOutputs"));

    let (one, _) = assert_batch(
        &mut chain.l1,
        &user,
        &chain.deployment,
        &genesis,
        &batch,
        &truth,
    )
    .unwrap();
    // Only the tip can be extended: a second child of genesis is refused.
    let again = assert_batch(
        &mut chain.l1,
        &user,
        &chain.deployment,
        &genesis,
        &batch,
        &truth,
    );
    assert!(format!("{:?}", again.unwrap_err()).contains("NotTip"));

    // Batch 2 on top of assertion 1 (a liar's: a wrong state root).
    let empty = TransactionList(vec![]).to_bytes().unwrap();
    post_batch(&mut chain.l1, &chain.sequencer, &chain.deployment, &empty).unwrap();
    let second = fetch_batch(&mut chain.l1, &chain.deployment, 2).unwrap();
    let claim = run_claim(&chain.guest, &second, &one, truth.store.clone()).unwrap();
    let (two, _) = assert_batch(
        &mut chain.l1,
        &user,
        &chain.deployment,
        &one,
        &second,
        &claim,
    )
    .unwrap();

    // A challenge keeps assertion 1 from being confirmed after its period; a late one is refused.
    let honest = wallet(0x54);
    let initial = chain.initial.clone();
    let (game, _) = challenge(&mut chain.l1, &honest, &chain.deployment, &one, &initial).unwrap();
    chain.l1.advance_time(PERIOD).unwrap();
    let late = challenge(&mut chain.l1, &honest, &chain.deployment, &one, &initial);
    assert!(format!("{:?}", late.unwrap_err()).contains("ChallengePeriodOver"));
    let open = confirm(&mut chain.l1, &user, &chain.deployment, &one).unwrap();
    assert!(refused(open).starts_with("ChallengesOpen"));

    // The asserter of 1 never answers: it loses on time, 1 is rejected, 2 is voided.
    let trace = trace(&chain, &batch, &genesis, truth.steps);
    let report = play_onchain(
        &mut chain.l1,
        &chain.deployment,
        game,
        Player {
            agent: Box::new(Liar::new(trace.clone(), Lie::StallFrom { round: 0 }, 1)),
            wallet: user.clone(),
        },
        Player {
            agent: Box::new(HonestAgent::new(trace)),
            wallet: honest.clone(),
        },
    )
    .unwrap();
    assert_eq!(report.outcome.winner, Party::Challenger);
    assert_eq!(status(&mut chain, one.id), 3);
    let voided = confirm(&mut chain.l1, &user, &chain.deployment, &two).unwrap();
    assert!(
        refused(voided).starts_with("ParentNotConfirmed"),
        "voided child"
    );
    let before = credits(&mut chain, &user);
    contracts::send(
        &mut chain.l1,
        &honest,
        rollup,
        U256::ZERO,
        Rollup::rejectDescendantCall {
            id: two.id,
            data: two.data.clone(),
        },
    )
    .unwrap()
    .success()
    .unwrap();
    assert_eq!(status(&mut chain, two.id), 3);
    assert_eq!(
        credits(&mut chain, &user),
        before + U256::from(ETHER),
        "its bond returned"
    );
    // The tip is genesis again: batch 1 can be asserted anew.
    assert_eq!(
        view(&mut chain.l1, rollup, Rollup::latestAssertionIdCall {}).unwrap(),
        0
    );
    assert_batch(
        &mut chain.l1,
        &honest,
        &chain.deployment,
        &genesis,
        &batch,
        &truth,
    )
    .unwrap();
    escrow_is_conserved(&mut chain);
}

#[test]
fn the_embedded_chain_is_rebuilt_from_its_journal_after_a_restart() {
    use verifier::l1::embedded::EmbeddedL1;
    let path = std::env::temp_dir().join(format!("l1-journal-{}.bin", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let (deployment, head, logs, assertion) = {
        let mut chain = chain_on(EmbeddedL1::open(&path).unwrap());
        let (batch, genesis, claim) = first_batch(&mut chain);
        let (assertion, _) = assert_batch(
            &mut chain.l1,
            &chain.sequencer,
            &chain.deployment,
            &genesis,
            &batch,
            &claim,
        )
        .unwrap();
        chain.l1.advance_time(PERIOD).unwrap();
        let head = chain.l1.head().unwrap();
        let logs = chain.l1.logs(chain.deployment.rollup, 0, head.0).unwrap();
        (chain.deployment.clone(), head, logs, assertion)
        // The process ends here as far as the chain knows: nothing is flushed on drop.
    };
    let mut l1 = EmbeddedL1::open(&path).unwrap();
    assert_eq!(l1.head().unwrap(), head);
    assert_eq!(l1.logs(deployment.rollup, 0, head.0).unwrap(), logs);
    let batch = fetch_batch(&mut l1, &deployment, 1).unwrap();
    batch.commitment_opening().unwrap();
    // The window passed before the restart: the assertion confirms now, and that is journaled too.
    confirm(&mut l1, &user(), &deployment, &assertion)
        .unwrap()
        .success()
        .unwrap();
    drop(l1);
    let mut l1 = EmbeddedL1::open(&path).unwrap();
    assert_eq!(
        view(&mut l1, deployment.rollup, Rollup::lastConfirmedIdCall {}).unwrap(),
        assertion.id
    );
    std::fs::remove_file(&path).unwrap();
}
