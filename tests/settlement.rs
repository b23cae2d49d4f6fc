//! The settlement contracts on the embedded L1, end to end: a deposit escrowed on L1 and credited
//! by the batch that includes it, transfers and a withdrawal on L2, the assertion, its window, its
//! confirmation and the withdrawal paid once on L1; and every refusal on the way.

use program::ledger::{BatchStatus, TransactionList, Withdrawal};
use program::{address_of, sign_transfer, sign_withdraw, NodeStore, SigningKey, EMPTY_ROOT};
use prover::dispute::{
    checkpoint_count, play_onchain, Agent, Checkpoints, Computation, HonestAgent, Liar, Lie, Player,
};
use prover::settlement::{
    assert_batch, challenge, confirm, fetch_batch, finalize_withdrawal, genesis_assertion,
    initial_opening, post_batch, run_claim, withdrawal_proof_of, AssertionRecord, BatchClaim,
    PostedBatch,
};
use prover::StfGuest;
use verifier::bisection::Party;
use verifier::l1::embedded::EmbeddedL1;
use verifier::l1::{Address, Wallet, B256, L1, U256};
use verifier::settlement::contracts::{self, view, Inbox, Rollup, ETHER};
use verifier::settlement::MachineOpening;
use verifier::settlement::{deploy, Deployment, SettlementConfig};

const CHAIN_ID: u64 = 42;
const PERIOD: u64 = 1_000;

fn wallet(byte: u8) -> Wallet {
    Wallet::from_secret(&[byte; 32]).expect("valid key")
}

struct Chain {
    l1: EmbeddedL1,
    deployment: Deployment,
    guest: StfGuest,
    initial: MachineOpening,
    sequencer: Wallet,
}

fn chain() -> Chain {
    let guest = StfGuest::new(program::STF_WASM).expect("guest");
    let opening = initial_opening(&guest).expect("step 0");
    let sequencer = wallet(0x51);
    let mut l1 = EmbeddedL1::new().expect("L1");
    for byte in [0x51, 0x52, 0x53, 0x54] {
        l1.set_balance(wallet(byte).address(), U256::from(1000 * ETHER))
            .expect("fund");
    }
    let mut config = SettlementConfig::new(
        CHAIN_ID,
        sequencer.address(),
        B256::from(EMPTY_ROOT),
        B256::from(opening.commitment()),
        B256::from(opening.module_hash()),
    );
    config.challenge_period = PERIOD;
    config.withdrawal_delay = PERIOD / 2;
    config.force_inclusion_delay = PERIOD;
    config.clock_budget = 10 * PERIOD;
    let deployment = deploy(&mut l1, &sequencer, &config).expect("deploy");
    Chain {
        l1,
        deployment,
        guest,
        initial: opening,
        sequencer,
    }
}

fn escrow_is_conserved(chain: &mut Chain) {
    let inbox = chain.deployment.inbox;
    let deposited = view(&mut chain.l1, inbox, Inbox::totalDepositedCall {}).unwrap();
    let released = view(&mut chain.l1, inbox, Inbox::totalReleasedCall {}).unwrap();
    let balance = chain.l1.balance(inbox).unwrap();
    assert_eq!(U256::from(deposited), balance + U256::from(released));
}

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

/// A deposit for Alice and batch 1 with two of her transactions, posted; the batch as L1 holds it,
/// genesis, and the true claim about the batch.
fn first_batch(chain: &mut Chain) -> (PostedBatch, AssertionRecord, BatchClaim) {
    let user = wallet(0x52);
    let alice_key = SigningKey::from_slice(&[0xA1; 32]).unwrap();
    contracts::send(
        &mut chain.l1,
        &user,
        chain.deployment.inbox,
        U256::from(3 * ETHER),
        Inbox::depositCall {
            l2Recipient: Address::from(address_of(&alice_key)),
        },
    )
    .unwrap()
    .success()
    .unwrap();
    let transactions = TransactionList(vec![
        sign_transfer(&alice_key, CHAIN_ID, [0xB0; 20], ETHER / 2, 0)
            .to_bytes()
            .unwrap(),
        sign_withdraw(&alice_key, CHAIN_ID, user.address().into_array(), ETHER, 1)
            .to_bytes()
            .unwrap(),
    ])
    .to_bytes()
    .unwrap();
    post_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &transactions,
    )
    .unwrap();
    let batch = fetch_batch(&mut chain.l1, &chain.deployment, 1).unwrap();
    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();
    let claim = run_claim(&chain.guest, &batch, &genesis, NodeStore::new()).unwrap();
    (batch, genesis, claim)
}

/// The honest trace of `batch` on `parent`, for agents.
fn trace(
    chain: &Chain,
    batch: &PostedBatch,
    parent: &AssertionRecord,
    steps: u64,
) -> Checkpoints<prover::StfHost> {
    let message = batch.message(&parent.post_state_root().unwrap());
    let computation = Computation::stf_message(&chain.guest, message, NodeStore::new()).unwrap();
    Checkpoints::build(computation, steps, checkpoint_count(steps, 32))
}

fn lies(steps: u64) -> Vec<Lie> {
    vec![
        Lie::WrongFrom(steps / 2 + 7),
        Lie::WrongFrom(steps),
        Lie::WrongFrom(1),
        Lie::WrongInterior { round: 0 },
        Lie::WrongInterior { round: 1 },
        Lie::FlipAt { round: 1 },
        Lie::FlipAt { round: 2 },
        Lie::StallFrom { round: 0 },
        Lie::StallFrom { round: 1 },
        Lie::Malformed { from: steps / 3 },
        Lie::PickLongest,
    ]
}

fn credits(chain: &mut Chain, who: &Wallet) -> U256 {
    view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::creditsCall(who.address()),
    )
    .unwrap()
}

fn status(chain: &mut Chain, id: u64) -> u8 {
    view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::assertionCall { id },
    )
    .unwrap()
    .status
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
            let mut liar = Liar::new(honest_trace.clone(), lie, 7);
            let mut honest = HonestAgent::new(honest_trace);
            let (liar_wallet, honest_wallet) = (wallet(0x53), wallet(0x54));

            // The asserter posts the truth, or (a lying asserter whose claim is wrong) outputs
            // with another post-state root.
            let lying_assertion =
                liar_role == Party::Asserter && liar.claim().post != honest.claim().post;
            let mut claim = truth.clone();
            if lying_assertion {
                claim.outputs[60] ^= 1;
            }
            let asserter_wallet = if liar_role == Party::Asserter {
                &liar_wallet
            } else {
                &honest_wallet
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
            let challenger_wallet = if liar_role == Party::Challenger {
                &liar_wallet
            } else {
                &honest_wallet
            };
            let initial = chain.initial.clone();
            let (game, _) = challenge(
                &mut chain.l1,
                challenger_wallet,
                &chain.deployment,
                &assertion,
                &initial,
            )
            .unwrap();
            let (asserter, challenger): (Player, Player) = match liar_role {
                Party::Asserter => (
                    Player {
                        agent: &mut liar as &mut dyn Agent,
                        wallet: &liar_wallet,
                    },
                    Player {
                        agent: &mut honest,
                        wallet: &honest_wallet,
                    },
                ),
                Party::Challenger => (
                    Player {
                        agent: &mut honest,
                        wallet: &honest_wallet,
                    },
                    Player {
                        agent: &mut liar,
                        wallet: &liar_wallet,
                    },
                ),
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
