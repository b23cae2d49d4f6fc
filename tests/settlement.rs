//! The settlement contracts on the embedded L1, end to end: a deposit escrowed on L1 and credited
//! by the batch that includes it, transfers and a withdrawal on L2, the assertion, its window, its
//! confirmation and the withdrawal paid once on L1; every refusal on the way; and the games of
//! every lie on chain, played against the Rust referee as the model.

#[path = "common/settlement.rs"]
mod fixture;

use fixture::*;
use program::ledger::{BatchStatus, TransactionList, Withdrawal};
use program::{address_of, sign_transfer, sign_withdraw, NodeStore, SigningKey};
use prover::dispute::{play_all, play_onchain, HonestAgent, Liar, Lie, OnchainGame, Player};
use prover::settlement::{
    assert_batch, challenge, confirm, fetch_batch, finalize_withdrawal, genesis_assertion,
    post_batch, run_claim, withdrawal_proof_of,
};
use verifier::bisection::Party;
use verifier::l1::{Address, L1, U256};
use verifier::settlement::contracts::{self, view, Inbox, Rollup, ETHER};

#[test]
fn deposit_batch_assert_confirm_and_withdraw_once() {
    let mut chain = chain();
    let user = wallet(0x52);
    let alice_key = SigningKey::from_slice(&[0xA1; 32]).unwrap();
    let alice = address_of(&alice_key);
    let bob = [0xB0; 20];

    // 3 ETH deposited on L1 for Alice on L2.
    let receipt = contracts::send(
        &mut chain.l1,
        &user,
        chain.deployment.inbox,
        U256::from(3 * ETHER),
        Inbox::depositCall {
            l2Recipient: Address::from(alice),
        },
    )
    .unwrap()
    .success()
    .unwrap();
    eprintln!("deposit: {} gas", receipt.gas_used);
    escrow_is_conserved(&mut chain);

    // Batch 1: the deposit, then Alice sends Bob 0.5 ETH and withdraws 1 ETH to the user's L1 account.
    let withdrawal_amount = ETHER;
    let transactions = TransactionList(vec![
        sign_transfer(&alice_key, CHAIN_ID, bob, ETHER / 2, 0)
            .to_bytes()
            .unwrap(),
        sign_withdraw(
            &alice_key,
            CHAIN_ID,
            user.address().into_array(),
            withdrawal_amount,
            1,
        )
        .to_bytes()
        .unwrap(),
    ])
    .to_bytes()
    .unwrap();
    let (number, receipt) = post_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &transactions,
    )
    .unwrap();
    assert_eq!(number, 1);
    eprintln!(
        "post batch ({} bytes): {} gas",
        transactions.len(),
        receipt.gas_used
    );

    // Rebuilt from L1 alone, the batch commits to what the inbox stored.
    let batch = fetch_batch(&mut chain.l1, &chain.deployment, 1).unwrap();
    assert_eq!(batch.deposits.len(), 1);
    assert_eq!(batch.deposits[0].amount, 3 * ETHER);
    assert_eq!(batch.transactions, transactions);
    batch.commitment_opening().unwrap();

    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();
    let claim = run_claim(&chain.guest, &batch, &genesis, NodeStore::new()).unwrap();
    let outputs = program::ledger::BatchOutputs::from_bytes(&claim.outputs).unwrap();
    assert_eq!(outputs.status, BatchStatus::Accepted);
    assert_eq!(
        (
            outputs.deposit_count,
            outputs.tx_count,
            outputs.withdrawal_count
        ),
        (1, 2, 1)
    );
    let (assertion, receipt) = assert_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &genesis,
        &batch,
        &claim,
    )
    .unwrap();
    eprintln!("assert: {} gas", receipt.gas_used);
    assert_eq!(assertion.id, 1);

    // Not before the challenge period is over.
    let early = confirm(&mut chain.l1, &user, &chain.deployment, &assertion).unwrap();
    let refusal = early.outcome.unwrap_err().error;
    assert!(refusal.starts_with("ChallengePeriodRunning"), "{refusal}");
    let withdrawal = Withdrawal {
        l1_recipient: user.address().into_array(),
        amount: withdrawal_amount,
        index: 1 << 32 | 1,
    };
    let proof = withdrawal_proof_of(&[withdrawal], 0).unwrap();
    let early = finalize_withdrawal(
        &mut chain.l1,
        &user,
        &chain.deployment,
        1,
        &withdrawal,
        proof.clone(),
    )
    .unwrap();
    let refusal = early.outcome.unwrap_err().error;
    assert!(refusal.starts_with("NotConfirmed"), "{refusal}");

    chain.l1.advance_time(PERIOD).unwrap();
    let receipt = confirm(&mut chain.l1, &user, &chain.deployment, &assertion)
        .unwrap()
        .success()
        .unwrap();
    eprintln!("confirm: {} gas", receipt.gas_used);
    assert_eq!(
        view(
            &mut chain.l1,
            chain.deployment.rollup,
            Rollup::lastConfirmedIdCall {}
        )
        .unwrap(),
        1
    );

    // A forged proof (another amount) is refused; the real one pays once.
    let forged = Withdrawal {
        amount: 2 * ETHER,
        ..withdrawal
    };
    let refused = finalize_withdrawal(
        &mut chain.l1,
        &user,
        &chain.deployment,
        1,
        &forged,
        proof.clone(),
    )
    .unwrap();
    let refusal = refused.outcome.unwrap_err().error;
    assert!(refusal.starts_with("BadWithdrawalProof"), "{refusal}");

    let before = chain.l1.balance(user.address()).unwrap();
    let receipt = finalize_withdrawal(
        &mut chain.l1,
        &user,
        &chain.deployment,
        1,
        &withdrawal,
        proof.clone(),
    )
    .unwrap()
    .success()
    .unwrap();
    eprintln!("finalize withdrawal: {} gas", receipt.gas_used);
    assert_eq!(
        chain.l1.balance(user.address()).unwrap(),
        before + U256::from(withdrawal_amount)
    );
    let twice = finalize_withdrawal(
        &mut chain.l1,
        &user,
        &chain.deployment,
        1,
        &withdrawal,
        proof,
    )
    .unwrap();
    let refusal = twice.outcome.unwrap_err().error;
    assert!(refusal.starts_with("AlreadyPaid"), "{refusal}");
    escrow_is_conserved(&mut chain);
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
            let (batch, genesis, truth) = first_batch(&mut chain);
            let honest_trace = trace(&chain, &batch, &genesis, truth.steps);
            let liar = Liar::new(honest_trace.clone(), lie, 7);
            let honest = HonestAgent::new(honest_trace);
            let (liar_wallet, honest_wallet) = (wallet(0x53), wallet(0x54));

            // The asserter posts the truth, or (a lying asserter whose claim is wrong) outputs
            // with another post-state root.
            let lying_assertion =
                liar_role == Party::Asserter && liar.claim().post != honest.claim().post;
            let mut claim = truth.clone();
            if lying_assertion {
                claim.outputs[60] ^= 1;
            }
            let (asserter_wallet, challenger_wallet) = match liar_role {
                Party::Asserter => (&liar_wallet, &honest_wallet),
                Party::Challenger => (&honest_wallet, &liar_wallet),
            };
            let (assertion, _) = assert_batch(
                &mut chain.l1,
                asserter_wallet,
                &chain.deployment,
                &genesis,
                &batch,
                &claim,
            )
            .unwrap();
            let initial = chain.initial.clone();
            let (game, _) = challenge(
                &mut chain.l1,
                challenger_wallet,
                &chain.deployment,
                &assertion,
                &initial,
            )
            .unwrap();
            let liar = Player {
                agent: Box::new(liar),
                wallet: liar_wallet.clone(),
            };
            let honest = Player {
                agent: Box::new(honest),
                wallet: honest_wallet.clone(),
            };
            let (asserter, challenger) = match liar_role {
                Party::Asserter => (liar, honest),
                Party::Challenger => (honest, liar),
            };
            let report = play_onchain(&mut chain.l1, &chain.deployment, game, asserter, challenger)
                .unwrap_or_else(|e| panic!("{lie} as {liar_role}: {e}"));
            // The contract derived the step-0 hash the honest trace starts from.
            assert_eq!(
                report.claim.pre,
                trace(&chain, &batch, &genesis, 1).start_hash()
            );
            assert_eq!(
                report.outcome.winner,
                liar_role.opponent(),
                "{lie} as {liar_role}: {report:?}"
            );
            let bond = U256::from(ETHER);
            let burn = bond / U256::from(2);
            match liar_role {
                Party::Asserter => {
                    assert_eq!(status(&mut chain, assertion.id), 3, "rejected");
                    assert_eq!(credits(&mut chain, &honest_wallet), bond + bond - burn);
                    assert_eq!(credits(&mut chain, &liar_wallet), U256::ZERO);
                }
                Party::Challenger => {
                    assert_eq!(status(&mut chain, assertion.id), 1, "still pending");
                    assert_eq!(credits(&mut chain, &honest_wallet), bond - burn);
                    chain.l1.advance_time(PERIOD).unwrap();
                    confirm(&mut chain.l1, &honest_wallet, &chain.deployment, &assertion)
                        .unwrap()
                        .success()
                        .unwrap();
                    assert_eq!(status(&mut chain, assertion.id), 2, "confirmed");
                    assert_eq!(credits(&mut chain, &honest_wallet), bond + bond - burn);
                }
            }
            escrow_is_conserved(&mut chain);
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
    let user = wallet(0x52);
    let carol = [0xCA; 20];
    contracts::send(
        &mut chain.l1,
        &user,
        chain.deployment.inbox,
        U256::from(ETHER),
        Inbox::depositCall {
            l2Recipient: Address::from(carol),
        },
    )
    .unwrap()
    .success()
    .unwrap();
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
    let (assertion, _) = assert_batch(
        &mut chain.l1,
        &liar,
        &chain.deployment,
        &genesis,
        &batch,
        &claim,
    )
    .unwrap();
    let honest_trace = trace(&chain, &batch, &genesis, truth.steps);
    let honest_wallet = wallet(0x54);
    let initial = chain.initial.clone();
    let (game, _) = challenge(
        &mut chain.l1,
        &honest_wallet,
        &chain.deployment,
        &assertion,
        &initial,
    )
    .unwrap();
    let report = play_onchain(
        &mut chain.l1,
        &chain.deployment,
        game,
        Player {
            agent: Box::new(Liar::new(
                honest_trace.clone(),
                Lie::WrongFrom(truth.steps),
                1,
            )),
            wallet: liar.clone(),
        },
        Player {
            agent: Box::new(HonestAgent::new(honest_trace)),
            wallet: honest_wallet,
        },
    )
    .unwrap();
    assert_eq!(report.outcome.winner, Party::Challenger);
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

fn refused(receipt: verifier::l1::TxReceipt) -> String {
    receipt.outcome.expect_err("refused").error
}

#[test]
fn every_refusal_of_the_inbox_and_the_assertion_chain() {
    let mut chain = chain();
    let user = wallet(0x52);
    let inbox = chain.deployment.inbox;
    let rollup = chain.deployment.rollup;
    let zero = contracts::send(
        &mut chain.l1,
        &user,
        inbox,
        U256::ZERO,
        Inbox::depositCall {
            l2Recipient: Address::from([1; 20]),
        },
    )
    .unwrap();
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
