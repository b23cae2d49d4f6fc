//! The settlement fixture shared by `tests/settlement.rs` (the embedded L1), `tests/anvil.rs` (a
//! real node over JSON-RPC) and `benches/settlement_gas.rs`: a rollup deployed on any `L1` with
//! short windows, funded wallets, a first batch, the honest trace of a batch, every lie, the
//! checks every test ends with, and the flows every backend runs ([`lifecycle`],
//! [`honest_party_wins`]).
#![allow(dead_code)]

use program::ledger::{BatchOutputs, BatchStatus, TransactionList, Withdrawal};
use program::{address_of, sign_transfer, sign_withdraw, NodeStore, SigningKey, EMPTY_ROOT};
use prover::dispute::{
    checkpoint_count, play_onchain, Checkpoints, Computation, HonestAgent, Liar, Lie,
    OnchainReport, Player,
};
use prover::settlement::{
    assert_batch, challenge, confirm, fetch_batch, finalize_withdrawal, genesis_assertion,
    initial_opening, post_batch, run_claim, withdrawal_proof_of, AssertionRecord, BatchClaim,
    PostedBatch,
};
use prover::StfGuest;
use verifier::bisection::Party;
use verifier::l1::embedded::EmbeddedL1;
use verifier::l1::{Address, L1Error, TxReceipt, Wallet, B256, L1, U256};
use verifier::settlement::contracts::{self, view, Inbox, Rollup, WithdrawalProof, ETHER};
use verifier::settlement::{deploy, Deployment, MachineOpening, SettlementConfig};

pub const CHAIN_ID: u64 = 42;
/// The challenge period in tests; the withdrawal delay is half, the clock budget ten times.
pub const PERIOD: u64 = 1_000;

pub fn wallet(byte: u8) -> Wallet {
    Wallet::from_secret(&[byte; 32]).expect("valid key")
}

/// The L1 account that deposits for Alice and receives her withdrawal.
pub fn user() -> Wallet {
    wallet(0x52)
}

/// Alice's L2 key.
pub fn alice() -> SigningKey {
    SigningKey::from_slice(&[0xA1; 32]).unwrap()
}

pub struct Chain<L: L1 = EmbeddedL1> {
    pub l1: L,
    pub deployment: Deployment,
    pub guest: StfGuest,
    pub initial: MachineOpening,
    pub sequencer: Wallet,
    /// The genesis state's trie nodes.
    pub genesis_store: NodeStore,
}

/// A rollup from the empty state on the embedded L1.
pub fn chain() -> Chain {
    chain_on(EmbeddedL1::new().expect("L1"))
}

/// A rollup from the empty state on `l1`.
pub fn chain_on<L: L1>(l1: L) -> Chain<L> {
    chain_with_genesis(l1, EMPTY_ROOT, NodeStore::new())
}

/// A rollup on the embedded L1 whose genesis is `root` (with its nodes in `store`).
pub fn chain_from(root: program::ledger::Hash, store: NodeStore) -> Chain {
    chain_with_genesis(EmbeddedL1::new().expect("L1"), root, store)
}

/// A rollup on `l1` whose genesis is `root` (with its nodes in `store`); wallets 0x51 (the
/// sequencer and deployer) to 0x54 hold 1,000 ETH on L1.
pub fn chain_with_genesis<L: L1>(
    mut l1: L,
    root: program::ledger::Hash,
    store: NodeStore,
) -> Chain<L> {
    let guest = StfGuest::new(program::STF_WASM).expect("guest");
    let opening = initial_opening(&guest).expect("step 0");
    let sequencer = wallet(0x51);
    for byte in [0x51, 0x52, 0x53, 0x54] {
        let who = wallet(byte).address();
        l1.set_balance(who, U256::from(1000 * ETHER)).expect("fund");
        assert_eq!(l1.balance(who).unwrap(), U256::from(1000 * ETHER));
    }
    let mut config = SettlementConfig::new(
        CHAIN_ID,
        sequencer.address(),
        B256::from(root),
        B256::from(opening.commitment()),
        B256::from(opening.module_hash()),
    );
    config.challenge_period = PERIOD;
    config.withdrawal_delay = PERIOD / 2;
    config.force_inclusion_delay = PERIOD;
    config.clock_budget = 10 * PERIOD;
    let deployment = deploy(&mut l1, &sequencer, &config).expect("deploy");
    assert_eq!(deployment.l1_chain_id, l1.chain_id());
    Chain {
        l1,
        deployment,
        guest,
        initial: opening,
        sequencer,
        genesis_store: store,
    }
}

/// What the bridge took in is what it holds plus what it paid out.
pub fn escrow_is_conserved<L: L1>(chain: &mut Chain<L>) {
    let inbox = chain.deployment.inbox;
    let deposited = view(&mut chain.l1, inbox, Inbox::totalDepositedCall {}).unwrap();
    let released = view(&mut chain.l1, inbox, Inbox::totalReleasedCall {}).unwrap();
    let balance = chain.l1.balance(inbox).unwrap();
    assert_eq!(U256::from(deposited), balance + U256::from(released));
}

/// `wei` deposited by the user on L1 for `to` on L2: the receipt, a refusal included.
pub fn deposit<L: L1>(chain: &mut Chain<L>, to: [u8; 20], wei: u128) -> TxReceipt {
    contracts::send(
        &mut chain.l1,
        &user(),
        chain.deployment.inbox,
        U256::from(wei),
        Inbox::depositCall {
            l2Recipient: Address::from(to),
        },
    )
    .unwrap()
}

/// Batch 1's transactions: Alice sends Bob 0.5 ETH, then withdraws 1 ETH to the user's L1
/// account ([`first_withdrawal`]).
pub fn first_transactions() -> Vec<u8> {
    let alice = alice();
    TransactionList(vec![
        sign_transfer(&alice, CHAIN_ID, [0xB0; 20], ETHER / 2, 0)
            .to_bytes()
            .unwrap(),
        sign_withdraw(&alice, CHAIN_ID, user().address().into_array(), ETHER, 1)
            .to_bytes()
            .unwrap(),
    ])
    .to_bytes()
    .unwrap()
}

/// Alice's withdrawal in batch 1, the only one of its outputs, with its proof.
pub fn first_withdrawal() -> (Withdrawal, WithdrawalProof) {
    let withdrawal = Withdrawal {
        l1_recipient: user().address().into_array(),
        amount: ETHER,
        index: 1 << 32 | 1,
    };
    let proof = withdrawal_proof_of(&[withdrawal], 0).unwrap();
    (withdrawal, proof)
}

/// The user finalizes `withdrawal` from assertion 1: the receipt, a refusal included.
pub fn withdraw<L: L1>(
    chain: &mut Chain<L>,
    withdrawal: &Withdrawal,
    proof: WithdrawalProof,
) -> TxReceipt {
    finalize_withdrawal(
        &mut chain.l1,
        &user(),
        &chain.deployment,
        1,
        withdrawal,
        proof,
    )
    .unwrap()
}

/// A deposit of 3 ETH for Alice and batch 1 ([`first_transactions`]), posted; the batch as L1
/// holds it, genesis, and the true claim about the batch.
pub fn first_batch<L: L1>(chain: &mut Chain<L>) -> (PostedBatch, AssertionRecord, BatchClaim) {
    deposit(chain, address_of(&alice()), 3 * ETHER)
        .success()
        .unwrap();
    post_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &first_transactions(),
    )
    .unwrap();
    let batch = fetch_batch(&mut chain.l1, &chain.deployment, 1).unwrap();
    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();
    let claim = run_claim(&chain.guest, &batch, &genesis, chain.genesis_store.clone()).unwrap();
    (batch, genesis, claim)
}

/// The honest trace of `batch` on `parent`, for agents.
pub fn trace<L: L1>(
    chain: &Chain<L>,
    batch: &PostedBatch,
    parent: &AssertionRecord,
    steps: u64,
) -> Checkpoints<prover::StfHost> {
    let message = batch.message(&parent.post_state_root().unwrap());
    let computation =
        Computation::stf_message(&chain.guest, message, chain.genesis_store.clone()).unwrap();
    Checkpoints::build(computation, steps, checkpoint_count(steps, 32))
}

pub fn lies(steps: u64) -> Vec<Lie> {
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

pub fn credits<L: L1>(chain: &mut Chain<L>, who: &Wallet) -> U256 {
    view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::creditsCall(who.address()),
    )
    .unwrap()
}

pub fn status<L: L1>(chain: &mut Chain<L>, id: u64) -> u8 {
    view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::assertionCall { id },
    )
    .unwrap()
    .status
}

/// The error a contract refused `receipt` with, checked as every backend shows a refusal (no
/// logs, in the latest block) and by the backend's own `check`.
fn refusal<L: L1>(
    chain: &mut Chain<L>,
    receipt: &TxReceipt,
    check: &impl Fn(&mut Chain<L>, &TxReceipt),
) -> String {
    assert!(receipt.logs.is_empty(), "{receipt:?}");
    let (head, _) = chain.l1.head().unwrap();
    assert_eq!(receipt.block, head);
    check(chain, receipt);
    receipt.outcome.clone().expect_err("refused").error
}

/// The whole life of a deposit and a withdrawal: 3 ETH deposited on L1 for Alice, batch 1 (the
/// deposit, a transfer to Bob, Alice's 1 ETH withdrawal to the user) posted, rebuilt from L1 and
/// asserted; confirming and withdrawing refused before the challenge period is over, the
/// assertion confirmed after it; a forged withdrawal proof refused, the real one paid once.
/// Balances are checked net of what each transaction paid ([`L1::fee`]), so they hold on every
/// backend; `refused` adds what the backend says of each refusal. The receipts of the
/// transactions that went through: the deposit, batch 1, its assertion, the confirmation and
/// the withdrawal.
pub fn lifecycle<L: L1>(
    chain: &mut Chain<L>,
    refused: impl Fn(&mut Chain<L>, &TxReceipt),
) -> Vec<TxReceipt> {
    let user = user();
    let inbox = chain.deployment.inbox;
    let mut went_through = Vec::new();

    // 3 ETH deposited on L1 for Alice on L2: the user pays the deposit and the gas.
    let before = chain.l1.balance(user.address()).unwrap();
    let receipt = deposit(chain, address_of(&alice()), 3 * ETHER)
        .success()
        .unwrap();
    assert_ne!(receipt.hash, B256::ZERO);
    assert!(receipt.gas_used > 21_000);
    let fee = chain.l1.fee(receipt.hash).unwrap();
    assert_eq!(
        chain.l1.balance(user.address()).unwrap(),
        before - U256::from(3 * ETHER) - fee
    );
    assert_eq!(chain.l1.balance(inbox).unwrap(), U256::from(3 * ETHER));
    let queued = contracts::events::<Inbox::DepositQueued>(&receipt.logs);
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].1.tx_hash, receipt.hash);
    assert_eq!(queued[0].1.block, receipt.block);
    eprintln!("deposit: {} gas", receipt.gas_used);
    went_through.push(receipt);
    escrow_is_conserved(chain);

    // Batch 1: the deposit, then Alice sends Bob 0.5 ETH and withdraws 1 ETH to the user's L1
    // account.
    let transactions = first_transactions();
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
    went_through.push(receipt);

    // Rebuilt from L1 alone (its logs and calldata), the batch commits to what the inbox stored.
    let batch = fetch_batch(&mut chain.l1, &chain.deployment, 1).unwrap();
    assert_eq!(batch.deposits.len(), 1);
    assert_eq!(batch.deposits[0].amount, 3 * ETHER);
    assert_eq!(batch.transactions, transactions);
    batch.commitment_opening().unwrap();

    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();
    let claim = run_claim(&chain.guest, &batch, &genesis, chain.genesis_store.clone()).unwrap();
    let outputs = BatchOutputs::from_bytes(&claim.outputs).unwrap();
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
    went_through.push(receipt);

    // Not before the challenge period is over.
    let before = chain.l1.balance(user.address()).unwrap();
    let early = confirm(&mut chain.l1, &user, &chain.deployment, &assertion).unwrap();
    let error = refusal(chain, &early, &refused);
    assert!(error.starts_with("ChallengePeriodRunning"), "{error}");
    let (withdrawal, proof) = first_withdrawal();
    let early_withdrawal = withdraw(chain, &withdrawal, proof.clone());
    let error = refusal(chain, &early_withdrawal, &refused);
    assert!(error.starts_with("NotConfirmed"), "{error}");
    let fees = chain.l1.fee(early.hash).unwrap() + chain.l1.fee(early_withdrawal.hash).unwrap();
    assert_eq!(chain.l1.balance(user.address()).unwrap(), before - fees);

    // A read-only call reverts the same way.
    let reverted = match view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::confirmCall {
            id: assertion.id,
            data: assertion.data.clone(),
            outputs: contracts::bytes(&assertion.outputs),
        },
    ) {
        Err(L1Error::Reverted(revert)) => revert,
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("confirm before the period as a call did not revert"),
    };
    assert!(
        reverted.error.starts_with("ChallengePeriodRunning"),
        "{reverted:?}"
    );
    assert!(!reverted.raw.is_empty());

    let (_, before_time) = chain.l1.head().unwrap();
    chain.l1.advance_time(PERIOD).unwrap();
    let (_, after_time) = chain.l1.head().unwrap();
    assert!(
        after_time >= before_time + PERIOD,
        "{before_time} -> {after_time}"
    );
    let receipt = confirm(&mut chain.l1, &user, &chain.deployment, &assertion)
        .unwrap()
        .success()
        .unwrap();
    eprintln!("confirm: {} gas", receipt.gas_used);
    went_through.push(receipt);
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
    let receipt = withdraw(chain, &forged, proof.clone());
    let error = refusal(chain, &receipt, &refused);
    assert!(error.starts_with("BadWithdrawalProof"), "{error}");

    let before = chain.l1.balance(user.address()).unwrap();
    let receipt = withdraw(chain, &withdrawal, proof.clone())
        .success()
        .unwrap();
    eprintln!("finalize withdrawal: {} gas", receipt.gas_used);
    let fee = chain.l1.fee(receipt.hash).unwrap();
    assert_eq!(
        chain.l1.balance(user.address()).unwrap(),
        before + U256::from(withdrawal.amount) - fee
    );
    let finalized = contracts::events::<Rollup::WithdrawalFinalized>(&receipt.logs);
    assert_eq!(finalized.len(), 1);
    went_through.push(receipt);
    let twice = withdraw(chain, &withdrawal, proof);
    let error = refusal(chain, &twice, &refused);
    assert!(error.starts_with("AlreadyPaid"), "{error}");
    assert_eq!(chain.l1.balance(inbox).unwrap(), U256::from(2 * ETHER));
    escrow_is_conserved(chain);
    went_through
}

/// What [`false_claim_disputed`] leaves: the assertion, the receipts of asserting and of
/// challenging it, and the game's report.
pub struct Dispute {
    pub assertion: AssertionRecord,
    pub asserted: TxReceipt,
    pub opened: TxReceipt,
    pub report: OnchainReport,
}

/// A false `claim` about `batch` on `parent` asserted by a liar (wallet 0x53), challenged by the
/// honest party (wallet 0x54), and the game played on chain; the liar's agent tells `lie` (with
/// `seed`) about the honest trace of the batch's `steps` steps, and loses.
pub fn false_claim_disputed<L: L1>(
    chain: &mut Chain<L>,
    batch: &PostedBatch,
    parent: &AssertionRecord,
    claim: &BatchClaim,
    steps: u64,
    lie: Lie,
    seed: u64,
) -> Dispute {
    let liar_wallet = wallet(0x53);
    let (assertion, asserted) = assert_batch(
        &mut chain.l1,
        &liar_wallet,
        &chain.deployment,
        parent,
        batch,
        claim,
    )
    .unwrap();
    let honest_trace = trace(chain, batch, parent, steps);
    let honest_wallet = wallet(0x54);
    let initial = chain.initial.clone();
    let (game, opened) = challenge(
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
            agent: Box::new(Liar::new(honest_trace.clone(), lie, seed)),
            wallet: liar_wallet,
        },
        Player {
            agent: Box::new(HonestAgent::new(honest_trace)),
            wallet: honest_wallet,
        },
    )
    .unwrap_or_else(|e| panic!("{lie}: {e}"));
    assert_eq!(
        report.outcome.winner,
        Party::Challenger,
        "{lie}: {report:?}"
    );
    Dispute {
        assertion,
        asserted,
        opened,
        report,
    }
}

/// Batch 1 ([`first_batch`]) asserted and challenged, and the game played on chain between the
/// honest party and a liar in `liar_role` telling `lie` (given the batch's step count): the
/// asserter (wallet 0x53 if it lies, else 0x54) posts the truth, or, a lying asserter whose claim
/// is wrong, outputs with another post-state root. The honest party wins, and the bonds go where
/// they should: a lying asserter's assertion is rejected, a true one confirmed after its period,
/// the winner credited both bonds less the burnt half of the loser's. The lie and the report.
pub fn honest_party_wins<L: L1>(
    chain: &mut Chain<L>,
    lie: impl FnOnce(u64) -> Lie,
    liar_role: Party,
) -> (Lie, OnchainReport) {
    let (batch, genesis, truth) = first_batch(chain);
    let lie = lie(truth.steps);
    let honest_trace = trace(chain, &batch, &genesis, truth.steps);
    let liar = Liar::new(honest_trace.clone(), lie, 7);
    let honest = HonestAgent::new(honest_trace);
    let (liar_wallet, honest_wallet) = (wallet(0x53), wallet(0x54));

    let lying_assertion = liar_role == Party::Asserter && liar.claim().post != honest.claim().post;
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
        trace(chain, &batch, &genesis, 1).start_hash()
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
            assert_eq!(status(chain, assertion.id), 3, "rejected");
            assert_eq!(credits(chain, &honest_wallet), bond + bond - burn);
            assert_eq!(credits(chain, &liar_wallet), U256::ZERO);
        }
        Party::Challenger => {
            assert_eq!(status(chain, assertion.id), 1, "still pending");
            assert_eq!(credits(chain, &honest_wallet), bond - burn);
            chain.l1.advance_time(PERIOD).unwrap();
            confirm(&mut chain.l1, &honest_wallet, &chain.deployment, &assertion)
                .unwrap()
                .success()
                .unwrap();
            assert_eq!(status(chain, assertion.id), 2, "confirmed");
            assert_eq!(credits(chain, &honest_wallet), bond + bond - burn);
        }
    }
    escrow_is_conserved(chain);
    (lie, report)
}
