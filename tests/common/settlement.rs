//! The settlement fixture shared by `tests/settlement.rs` (the embedded L1), `tests/anvil.rs` (a
//! real node over JSON-RPC) and `benches/settlement_gas.rs`: a rollup deployed on any `L1` with
//! short windows, funded wallets, a first batch, the true run of a batch and every kind of lie
//! about it, and the checks every test ends with. Every assertion, move, confirmation and
//! withdrawal of a dispute goes through [`Mirrored`]: the contracts and the Rust referee
//! (`prover::dispute::onchain::Mirror`) take it at the same L1 second and must agree on its
//! acceptance, its refusal (by the error's name), every node, status and credit. The flows every
//! backend runs: [`lifecycle`] and [`rival_dispute`].
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use program::ledger::{BatchOutputs, BatchStatus, DelayedMessage, TransactionList, Withdrawal};
use program::{address_of, sign_transfer, sign_withdraw, NodeStore, SigningKey, EMPTY_ROOT};
use prover::dispute::onchain::{
    apply_move, compare, play_until_decided, posted_records, Contestant, DisputeReport, Mirror,
};
use prover::dispute::tree::{move_name, LyingTrace, MoveContext, RunKnowledge, RunTrace};
use prover::dispute::{checkpoint_count, Checkpoints, Computation};
use prover::settlement::{
    assert_batch, confirm, fetch_batch, finalize_withdrawal, genesis_assertion, initial_opening,
    pending_delayed, post_batch, run_claim, stake_value, withdrawal_proof_of, AssertionRecord,
    BatchClaim, L1Log, PostedBatch, SettleError,
};
use prover::StfGuest;
use verifier::bisection::honest::{Trace, TreeMove};
use verifier::bisection::referee::{AssertionStatus, NodeState, Refusal};
use verifier::l1::embedded::EmbeddedL1;
use verifier::l1::{Address, Bytes, L1Error, Revert, TxReceipt, Wallet, B256, L1, U256};
use verifier::settlement::contracts::{
    self, events, view, AssertionData, Inbox, Rollup, WithdrawalProof, ETHER,
};
use verifier::settlement::{deploy, host_root, Deployment, MachineOpening, SettlementConfig};
use vm::MachineHash;

pub const CHAIN_ID: u64 = 42;
/// The challenge period in tests; the withdrawal delay is half.
pub const PERIOD: u64 = 1_000;
/// Each side's clock along any path of a dispute tree, in tests.
pub const BUDGET: u64 = 300;
/// Seconds between two blocks of a dispute.
pub const TICK: u64 = 12;

/// The latest a correct assertion posted at `created` is confirmed when disputed: its period,
/// both sides' clocks, and one block to send the confirmation in.
pub fn bound(created: u64, config: &SettlementConfig) -> u64 {
    created + config.challenge_period + 2 * config.clock_budget + TICK
}

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
    pub config: SettlementConfig,
    pub guest: StfGuest,
    pub initial: MachineOpening,
    pub sequencer: Wallet,
    /// The genesis state's trie nodes.
    pub genesis_store: NodeStore,
    /// Batch 1's sequencer section ([`first_batch`]): the ledger's [`first_transactions`], or the
    /// EVM chain's blocks.
    pub first_transactions: Vec<u8>,
    /// Who batch 1's 3 ETH deposit is for.
    pub first_deposit_to: [u8; 20],
    /// Batch 1's section goes in a blob (EIP-4844), not in calldata.
    pub first_in_blobs: bool,
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
/// sequencer and deployer) to 0x56 hold 1,000 ETH on L1.
pub fn chain_with_genesis<L: L1>(l1: L, root: program::ledger::Hash, store: NodeStore) -> Chain<L> {
    chain_configured(l1, root, store, |_| {})
}

/// The test configuration: [`PERIOD`], [`BUDGET`], 1 ETH stakes and bonds, the default arity
/// and burn.
pub fn test_config(
    sequencer: Address,
    root: program::ledger::Hash,
    opening: &MachineOpening,
) -> SettlementConfig {
    let mut config = SettlementConfig::new(
        CHAIN_ID,
        sequencer,
        B256::from(root),
        B256::from(opening.commitment()),
        B256::from(opening.module_hash()),
    );
    config.challenge_period = PERIOD;
    config.withdrawal_delay = PERIOD / 2;
    config.force_inclusion_delay = PERIOD;
    config.clock_budget = BUDGET;
    config
}

/// [`chain_with_genesis`] with the test configuration changed by `tweak` first.
pub fn chain_configured<L: L1>(
    l1: L,
    root: program::ledger::Hash,
    store: NodeStore,
    tweak: impl FnOnce(&mut SettlementConfig),
) -> Chain<L> {
    let mut chain = chain_for_guest(l1, program::STF_WASM, root, store, tweak);
    chain.first_transactions = first_transactions();
    chain.first_deposit_to = address_of(&alice());
    chain
}

/// A rollup whose STF is the guest `wasm`, from genesis `root` (its nodes in `store`), with the
/// test configuration changed by `tweak`; batch 1's transactions are still to be set.
pub fn chain_for_guest<L: L1>(
    mut l1: L,
    wasm: &[u8],
    root: program::ledger::Hash,
    store: NodeStore,
    tweak: impl FnOnce(&mut SettlementConfig),
) -> Chain<L> {
    let guest = StfGuest::new(wasm).expect("guest");
    let opening = initial_opening(&guest).expect("step 0");
    let sequencer = wallet(0x51);
    for byte in 0x51..=0x56 {
        let who = wallet(byte).address();
        l1.set_balance(who, U256::from(1000 * ETHER)).expect("fund");
        assert_eq!(l1.balance(who).unwrap(), U256::from(1000 * ETHER));
    }
    let mut config = test_config(sequencer.address(), root, &opening);
    tweak(&mut config);
    let deployment = deploy(&mut l1, &sequencer, &config).expect("deploy");
    assert_eq!(deployment.l1_chain_id, l1.chain_id());
    Chain {
        l1,
        deployment,
        config,
        guest,
        initial: opening,
        sequencer,
        genesis_store: store,
        first_transactions: Vec::new(),
        first_deposit_to: [0; 20],
        first_in_blobs: false,
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

/// An empty transactions section: the smallest batch the inbox takes.
pub fn empty_transactions() -> Vec<u8> {
    TransactionList(vec![]).to_bytes().unwrap()
}

/// Alice's withdrawal in `batch` (batch 1), the only one of its outputs, with its proof.
pub fn first_withdrawal(batch: &PostedBatch) -> (Withdrawal, WithdrawalProof) {
    let withdrawal = Withdrawal {
        l1_recipient: user().address().into_array(),
        amount: ETHER,
        // Its receipt's place: after the batch's deposits and Alice's transfer.
        index: 1 << 32 | (batch.delayed.len() as u64 + 1),
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
    let to = chain.first_deposit_to;
    deposit(chain, to, 3 * ETHER).success().unwrap();
    let transactions = chain.first_transactions.clone();
    if chain.first_in_blobs {
        let log = L1Log::read(&mut chain.l1, &chain.deployment).unwrap();
        let delayed = pending_delayed(&mut chain.l1, &log, usize::MAX).unwrap();
        prover::settlement::post_batch_blobs(
            &mut chain.l1,
            &chain.sequencer,
            &chain.deployment,
            &transactions,
            delayed,
        )
        .unwrap();
    } else {
        post_batch(
            &mut chain.l1,
            &chain.sequencer,
            &chain.deployment,
            &transactions,
        )
        .unwrap();
    }
    let batch = fetch_batch(&mut chain.l1, &chain.deployment, 1).unwrap();
    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();
    let claim = run_claim(&chain.guest, &batch, &genesis, chain.genesis_store.clone()).unwrap();
    (batch, genesis, claim)
}

/// The step of the guest's first `read_blob` when batch 1 (of a ledger rollup from the empty
/// state) is `section` posted in a blob: a lie from the step after it ends in a one-step proof of
/// that blob read.
pub fn first_blob_read_step(section: &[u8]) -> u64 {
    let mut probe = chain();
    probe.first_in_blobs = true;
    probe.first_transactions = section.to_vec();
    let (batch, genesis, _) = first_batch(&mut probe);
    assert!(!batch.blobs.is_empty(), "batch 1 is in a blob");
    let abi = batch.abi(&genesis.post_state_root().unwrap(), NodeStore::new());
    let read_blob = prover::stf_host::IMPORT_NAMES
        .iter()
        .position(|name| *name == "read_blob")
        .unwrap();
    let (mut m, mut host) = probe.guest.start_abi(abi).unwrap();
    let start = m.steps();
    loop {
        let before = host.calls[read_blob];
        m.step(&mut host);
        if host.calls[read_blob] > before {
            return m.steps() - 1 - start;
        }
    }
}

/// An empty batch posted as the next one, as L1 holds it, and the true claim about it on
/// `parent` (whose post-state's nodes are `store`).
pub fn empty_batch<L: L1>(
    chain: &mut Chain<L>,
    parent: &AssertionRecord,
    store: NodeStore,
) -> (PostedBatch, BatchClaim) {
    let (number, _) = post_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &empty_transactions(),
    )
    .unwrap();
    let batch = fetch_batch(&mut chain.l1, &chain.deployment, number).unwrap();
    let claim = run_claim(&chain.guest, &batch, parent, store).unwrap();
    (batch, claim)
}

/// The true run of `batch` on `parent` (whose post-state's nodes are `store`) to its halt at
/// `steps`, with checkpoints for the deployment's arity.
pub fn run_trace<L: L1>(
    chain: &Chain<L>,
    batch: &PostedBatch,
    parent: &AssertionRecord,
    store: NodeStore,
    steps: u64,
) -> RunTrace {
    let abi = batch.abi(&parent.post_state_root().unwrap(), store);
    let computation = Computation::stf_abi(&chain.guest, abi).unwrap();
    let count = checkpoint_count(steps, chain.config.arity);
    let run = RunTrace::new(Checkpoints::build(computation, steps, count));
    assert_eq!(
        run.halt_step(),
        steps,
        "the run halts at the claimed step count"
    );
    run
}

/// The true run of batch 1 on genesis ([`first_batch`]).
pub fn trace<L: L1>(
    chain: &Chain<L>,
    batch: &PostedBatch,
    parent: &AssertionRecord,
    steps: u64,
) -> RunTrace {
    run_trace(chain, batch, parent, chain.genesis_store.clone(), steps)
}

/// A party's run with every hash it computed remembered: the honest strategy asks the same
/// boundaries again every block, and a hash off a checkpoint is a replay.
pub struct Cached<T> {
    inner: T,
    hashes: HashMap<u64, MachineHash>,
}

pub fn cached<T: RunKnowledge + 'static>(inner: T) -> Box<dyn RunKnowledge> {
    Box::new(Cached {
        inner,
        hashes: HashMap::new(),
    })
}

impl<T: RunKnowledge> Trace for Cached<T> {
    fn hash_at(&mut self, step: u64) -> MachineHash {
        if let Some(hash) = self.hashes.get(&step) {
            return *hash;
        }
        let hash = self.inner.hash_at(step);
        self.hashes.insert(step, hash);
        hash
    }

    fn halt_step(&self) -> u64 {
        self.inner.halt_step()
    }
}

impl<T: RunKnowledge> RunKnowledge for Cached<T> {
    fn proof_at(&self, step: u64) -> Result<Vec<u8>, SettleError> {
        self.inner.proof_at(step)
    }

    fn opening_at(&self, step: u64) -> (Vec<u8>, B256) {
        self.inner.opening_at(step)
    }
}

/// A wrong claim about a batch of `S` steps (the true run halts at `S`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lie {
    /// Another post-state root in the outputs, so another final machine hash; the liar's run is
    /// true before step `from` (1..=S), hashes of no machine from there.
    WrongRoot { from: u64 },
    /// The true final state, claimed `by` steps after the halt: every hash the liar posts is
    /// true, only the halt rule (`proveHalted`) refutes it.
    MoreSteps { by: u64 },
    /// The true final state, claimed `by` steps before the halt; the liar's run is true before
    /// `from` (at most S - by).
    FewerSteps { by: u64, from: u64 },
}

impl std::fmt::Display for Lie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lie::WrongRoot { from } => {
                write!(f, "wrong post-state root, run wrong from step {from}")
            }
            Lie::MoreSteps { by } => write!(f, "{by} steps more than the run"),
            Lie::FewerSteps { by, from } => {
                write!(f, "{by} steps fewer than the run, wrong from step {from}")
            }
        }
    }
}

/// The claim a liar posts: `truth` changed by `lie`; `salt` makes each wrong root its own.
pub fn lying_claim(truth: &BatchClaim, lie: Lie, salt: u64) -> BatchClaim {
    let mut claim = truth.clone();
    match lie {
        Lie::WrongRoot { .. } => {
            let mut seed = b"hauptbuch.test.wrong-root".to_vec();
            seed.extend_from_slice(&salt.to_be_bytes());
            claim.outputs[48..80].copy_from_slice(&program::keccak256(&seed));
        }
        Lie::MoreSteps { by } => claim.steps = truth.steps + by,
        Lie::FewerSteps { by, .. } => {
            assert!(by < truth.steps - 1, "a claim of at least two steps");
            claim.steps = truth.steps - by;
        }
    }
    claim
}

/// The run a liar plays as its truth, for its posted `rival` assertion.
pub fn lying_trace(run: &RunTrace, lie: Lie, rival: &AssertionRecord) -> LyingTrace {
    let steps = rival.data.steps;
    let from = match lie {
        Lie::WrongRoot { from } => from.clamp(1, steps),
        Lie::MoreSteps { .. } => steps,
        Lie::FewerSteps { from, .. } => from.clamp(1, steps),
    };
    LyingTrace {
        truth: run.clone(),
        from,
        steps,
        final_hash: MachineHash(rival.data.finalMachineHash.0),
    }
}

/// Every kind of lie about a run of `steps` steps.
pub fn lies(steps: u64) -> Vec<Lie> {
    vec![
        Lie::WrongRoot { from: 1 },
        Lie::WrongRoot {
            from: steps / 2 + 7,
        },
        Lie::WrongRoot { from: steps },
        Lie::MoreSteps { by: 1 },
        Lie::MoreSteps { by: steps },
        Lie::FewerSteps {
            by: 1,
            from: steps - 1,
        },
        Lie::FewerSteps {
            by: steps / 3,
            from: steps / 5,
        },
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

pub fn now<L: L1>(chain: &mut Chain<L>) -> u64 {
    chain.l1.head().unwrap().1
}

fn wei(value: U256) -> u128 {
    u128::try_from(value).expect("wei fits 128 bits")
}

/// `value` ether as text, to the milli-ether.
pub fn eth(wei: u128) -> String {
    format!("{}.{:03} ETH", wei / ETHER, wei % ETHER / (ETHER / 1000))
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
/// assertion confirmed after it; the withdrawal refused until `withdrawal_delay` after the
/// confirmation; a forged withdrawal proof refused, the real one paid once.
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
    assert!(matches!(
        batch.delayed.as_slice(),
        [DelayedMessage::Deposit(d)] if d.amount == 3 * ETHER
    ));
    assert_eq!(batch.transactions, transactions);
    batch.commitment_opening().unwrap();

    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();
    let claim = run_claim(&chain.guest, &batch, &genesis, chain.genesis_store.clone()).unwrap();
    let outputs = BatchOutputs::from_bytes(&claim.outputs).unwrap();
    assert_eq!(outputs.status, BatchStatus::Accepted);
    assert_eq!(
        (
            outputs.delayed_count,
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
    let (withdrawal, proof) = first_withdrawal(&batch);
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

    // The withdrawal delay counts from confirmation.
    let before = chain.l1.balance(user.address()).unwrap();
    let early = withdraw(chain, &withdrawal, proof.clone());
    let error = refusal(chain, &early, &refused);
    assert!(error.starts_with("WithdrawalNotYetPayable"), "{error}");
    let fee = chain.l1.fee(early.hash).unwrap();
    assert_eq!(chain.l1.balance(user.address()).unwrap(), before - fee);
    chain
        .l1
        .advance_time(chain.config.withdrawal_delay)
        .unwrap();

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
    // The Rollup holds the asserter's one stake (still on its confirmed assertion), nothing burned.
    let rollup = chain.deployment.rollup;
    let stake = view(&mut chain.l1, rollup, Rollup::assertionBondCall {}).unwrap();
    assert_eq!(chain.l1.balance(rollup).unwrap(), stake);
    assert_eq!(
        view(&mut chain.l1, rollup, Rollup::totalBurnedCall {}).unwrap(),
        U256::ZERO
    );
    went_through
}

/// One move sent through [`send_move`]: who, what, its gas, and the refusal if any.
#[derive(Clone, Debug)]
pub struct MoveLog {
    pub who: Address,
    pub mv: TreeMove,
    pub kind: &'static str,
    pub gas: u64,
    pub refused: Option<String>,
}

/// A deployment's disputes as a test follows them: the contracts and the Rust referee in step
/// (every call of a test goes to both), the assertions posted, and the money sent to and taken
/// from the Rollup, counted as it is sent.
pub struct Mirrored {
    pub mirror: Mirror,
    /// Genesis and every assertion posted, by id.
    pub assertions: BTreeMap<u64, AssertionRecord>,
    /// Wei sent with `assert` and `back` (new stakes), by sender.
    pub staked: BTreeMap<Address, u128>,
    /// Wei paid out by `withdrawCredits`, by receiver.
    pub withdrawn: BTreeMap<Address, u128>,
    /// Gas of what a party sent besides dispute moves: asserts, backs, confirmations, voidings,
    /// withdrawals.
    pub gas: BTreeMap<Address, u64>,
    /// The moves sent through [`send_move`] ([`play_in_order`] and the tests' own moves).
    pub log: Vec<MoveLog>,
}

/// A fresh deployment's model (genesis only).
pub fn mirrored<L: L1>(chain: &mut Chain<L>) -> Mirrored {
    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();
    let mirror = Mirror::new(&mut chain.l1, &chain.deployment, &chain.initial, &genesis).unwrap();
    Mirrored {
        mirror,
        assertions: BTreeMap::from([(0, genesis)]),
        staked: BTreeMap::new(),
        withdrawn: BTreeMap::new(),
        gas: BTreeMap::new(),
        log: Vec::new(),
    }
}

/// The name of a contract error `Name(args)`.
fn error_name(error: &str) -> &str {
    error.split('(').next().unwrap_or(error)
}

/// The contract's outcome and the model's must agree: both accept (the model's value), or both
/// refuse with the same error (the contract's error text). A disagreement fails the test.
fn agree<T>(
    what: &str,
    outcome: &Result<Bytes, Revert>,
    model: Result<T, Refusal>,
) -> Result<T, String> {
    match (outcome, model) {
        (Ok(_), Ok(value)) => Ok(value),
        (Err(revert), Err(refusal)) => {
            assert_eq!(
                error_name(&revert.error),
                refusal.error_name(),
                "{what}: the contract refused with {revert}, the Rust referee with {refusal}"
            );
            Err(revert.error.clone())
        }
        (Ok(_), Err(refusal)) => {
            panic!("{what}: the contract accepted, the Rust referee refused: {refusal}")
        }
        (Err(revert), Ok(_)) => {
            panic!("{what}: the contract refused with {revert}, the Rust referee accepted")
        }
    }
}

fn add_gas(m: &mut Mirrored, who: Address, receipt: &TxReceipt) {
    *m.gas.entry(who).or_default() += receipt.gas_used;
}

/// The data L1 computes for `claim` about `batch` on `parent` (what `AssertionPosted` shows).
pub fn expected_data(
    parent: &AssertionRecord,
    batch: &PostedBatch,
    claim: &BatchClaim,
) -> AssertionData {
    let opening = batch.commitment_opening().unwrap();
    let root_commit = opening.root_commitment(&parent.post_state_root().unwrap());
    let outputs_hash = program::keccak256(&claim.outputs);
    let final_hash = claim
        .final_state
        .hash_with_host(&host_root(&root_commit, &outputs_hash));
    AssertionData {
        parentId: parent.id,
        batchNumber: batch.number,
        outputsHash: B256::from(outputs_hash),
        batchRootCommit: B256::from(root_commit),
        finalMachineHash: B256::from(final_hash.0),
        steps: claim.steps,
    }
}

/// `who` asserts `claim` about `batch` on `parent`, sending what `value` says (`None`: what its
/// stake needs); the contract and the model take it or refuse it alike. The new assertion, or the
/// contract's error.
pub fn try_assert_with<L: L1>(
    chain: &mut Chain<L>,
    m: &mut Mirrored,
    who: &Wallet,
    value: Option<U256>,
    parent: &AssertionRecord,
    batch: &PostedBatch,
    claim: &BatchClaim,
) -> Result<AssertionRecord, String> {
    let value = match value {
        Some(value) => value,
        None => stake_value(&mut chain.l1, &chain.deployment, who.address()).unwrap(),
    };
    let opening = batch.commitment_opening().unwrap();
    let receipt = contracts::send(
        &mut chain.l1,
        who,
        chain.deployment.rollup,
        value,
        Rollup::assertCall {
            parent: parent.data.clone(),
            parentOutputs: contracts::bytes(&parent.outputs),
            outputs: contracts::bytes(&claim.outputs),
            finalHot: contracts::bytes(&claim.final_state.hot),
            finalCold: contracts::bytes(&claim.final_state.cold),
            steps: claim.steps,
            messageLength: opening.length,
            batchSiblings: opening.siblings.iter().map(|s| B256::from(*s)).collect(),
        },
    )
    .unwrap();
    add_gas(m, who.address(), &receipt);
    let at = now(chain);
    let record = AssertionRecord {
        id: m.mirror.referee.assertion_count(),
        data: expected_data(parent, batch, claim),
        outputs: claim.outputs.clone(),
    };
    let claim_of = m.mirror.claim_of(&record);
    let model = m
        .mirror
        .referee
        .assert(at, who.address(), wei(value), claim_of);
    let id = agree("assert", &receipt.outcome, model)?;
    assert_eq!(id, record.id);
    assert_eq!(
        posted_records(&receipt),
        vec![record.clone()],
        "what L1 computed"
    );
    *m.staked.entry(who.address()).or_default() += wei(value);
    m.assertions.insert(id, record.clone());
    Ok(record)
}

/// [`try_assert_with`] with the value the sender's stake needs.
pub fn try_assert<L: L1>(
    chain: &mut Chain<L>,
    m: &mut Mirrored,
    who: &Wallet,
    parent: &AssertionRecord,
    batch: &PostedBatch,
    claim: &BatchClaim,
) -> Result<AssertionRecord, String> {
    try_assert_with(chain, m, who, None, parent, batch, claim)
}

/// [`try_assert`] that must go through.
pub fn assert_mirrored<L: L1>(
    chain: &mut Chain<L>,
    m: &mut Mirrored,
    who: &Wallet,
    parent: &AssertionRecord,
    batch: &PostedBatch,
    claim: &BatchClaim,
) -> AssertionRecord {
    try_assert(chain, m, who, parent, batch, claim)
        .unwrap_or_else(|e| panic!("assert refused: {e}"))
}

/// `who` backs assertion `id` (its stake moves there, or a new one is sent).
pub fn back_mirrored<L: L1>(
    chain: &mut Chain<L>,
    m: &mut Mirrored,
    who: &Wallet,
    id: u64,
) -> Result<(), String> {
    let value = stake_value(&mut chain.l1, &chain.deployment, who.address()).unwrap();
    let record = m.assertions[&id].clone();
    let receipt = prover::settlement::back(&mut chain.l1, who, &chain.deployment, &record).unwrap();
    add_gas(m, who.address(), &receipt);
    let at = now(chain);
    let model = m.mirror.referee.back(at, who.address(), wei(value), id);
    agree("back", &receipt.outcome, model)?;
    *m.staked.entry(who.address()).or_default() += wei(value);
    Ok(())
}

/// `who` confirms assertion `id`.
pub fn confirm_mirrored<L: L1>(
    chain: &mut Chain<L>,
    m: &mut Mirrored,
    who: &Wallet,
    id: u64,
) -> Result<(), String> {
    let record = m.assertions[&id].clone();
    let receipt = confirm(&mut chain.l1, who, &chain.deployment, &record).unwrap();
    add_gas(m, who.address(), &receipt);
    let at = now(chain);
    let model = m.mirror.referee.confirm(at, id);
    agree("confirm", &receipt.outcome, model)?;
    let confirmed = events::<Rollup::AssertionConfirmed>(&receipt.logs);
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0].0.id, id);
    Ok(())
}

/// `who` rejects voided assertion `id`: the reason (1 parent rejected, 2 a sibling confirmed).
pub fn reject_voided_mirrored<L: L1>(
    chain: &mut Chain<L>,
    m: &mut Mirrored,
    who: &Wallet,
    id: u64,
) -> Result<u8, String> {
    let record = m.assertions[&id].clone();
    let receipt = contracts::send(
        &mut chain.l1,
        who,
        chain.deployment.rollup,
        U256::ZERO,
        Rollup::rejectVoidedCall {
            id,
            data: record.data.clone(),
        },
    )
    .unwrap();
    add_gas(m, who.address(), &receipt);
    let at = now(chain);
    let model = m.mirror.referee.reject_voided(at, id);
    let reason = agree("rejectVoided", &receipt.outcome, model)?;
    let rejected = events::<Rollup::AssertionRejected>(&receipt.logs);
    assert_eq!(rejected.len(), 1);
    assert_eq!((rejected[0].0.id, rejected[0].0.reason), (id, reason));
    assert!(
        events::<Rollup::StakeSlashed>(&receipt.logs).is_empty(),
        "voiding slashes nothing"
    );
    Ok(reason)
}

/// `who` withdraws its stake to its credits: the amount.
pub fn withdraw_stake_mirrored<L: L1>(
    chain: &mut Chain<L>,
    m: &mut Mirrored,
    who: &Wallet,
) -> Result<u128, String> {
    let receipt = contracts::send(
        &mut chain.l1,
        who,
        chain.deployment.rollup,
        U256::ZERO,
        Rollup::withdrawStakeCall {},
    )
    .unwrap();
    add_gas(m, who.address(), &receipt);
    let at = now(chain);
    let model = m.mirror.referee.withdraw_stake(at, who.address());
    let amount = agree("withdrawStake", &receipt.outcome, model)?;
    let withdrawn = events::<Rollup::StakeWithdrawn>(&receipt.logs);
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(wei(withdrawn[0].0.amount), amount);
    Ok(amount)
}

/// `who` takes its credits out of the Rollup: the amount, which its L1 balance gains (net of
/// the transaction's fee).
pub fn withdraw_credits_mirrored<L: L1>(
    chain: &mut Chain<L>,
    m: &mut Mirrored,
    who: &Wallet,
) -> Result<u128, String> {
    let before = chain.l1.balance(who.address()).unwrap();
    let receipt = contracts::send(
        &mut chain.l1,
        who,
        chain.deployment.rollup,
        U256::ZERO,
        Rollup::withdrawCreditsCall {},
    )
    .unwrap();
    add_gas(m, who.address(), &receipt);
    let at = now(chain);
    let model = m.mirror.referee.withdraw_credits(at, who.address());
    let amount = agree("withdrawCredits", &receipt.outcome, model)?;
    let fee = chain.l1.fee(receipt.hash).unwrap();
    assert_eq!(
        chain.l1.balance(who.address()).unwrap() + fee,
        before + U256::from(amount),
        "the credits reached the wallet"
    );
    *m.withdrawn.entry(who.address()).or_default() += amount;
    Ok(amount)
}

/// `who` takes out everything it can: its stake if free, then its credits. What it got.
pub fn cash_out<L: L1>(chain: &mut Chain<L>, m: &mut Mirrored, who: &Wallet) -> u128 {
    let rollup = chain.deployment.rollup;
    let stake = view(
        &mut chain.l1,
        rollup,
        Rollup::stakeOfCall {
            staker: who.address(),
        },
    )
    .unwrap();
    if stake.active && status(chain, stake.latest) == AssertionStatus::Confirmed.code() {
        withdraw_stake_mirrored(chain, m, who).unwrap();
    }
    if credits(chain, who) > U256::ZERO {
        withdraw_credits_mirrored(chain, m, who).unwrap()
    } else {
        0
    }
}

/// Sends `mv` from `c` to L1 and to the model ([`apply_move`]: they must agree), logged.
pub fn send_move<L: L1>(
    chain: &mut Chain<L>,
    m: &mut Mirrored,
    c: &mut Contestant,
    mv: &TreeMove,
) -> TxReceipt {
    let cx = MoveContext {
        deployment: &chain.deployment,
        initial: &chain.initial,
        assertions: &m.assertions,
    };
    let receipt = apply_move(&mut chain.l1, &mut m.mirror, &cx, c, mv)
        .unwrap_or_else(|e| panic!("{}: {e}", move_name(mv)));
    m.log.push(MoveLog {
        who: c.wallet.address(),
        mv: mv.clone(),
        kind: move_name(mv),
        gas: receipt.gas_used,
        refused: receipt.outcome.as_ref().err().map(|r| r.error.clone()),
    });
    receipt
}

/// The dispute nodes L1 published (their keys and owners), from its events.
fn posted_nodes<L: L1>(chain: &mut Chain<L>) -> Vec<(B256, Address)> {
    let logs = rollup_logs(chain);
    let mut nodes: Vec<(B256, Address)> = events::<Rollup::ChallengeOpened>(&logs)
        .into_iter()
        .map(|(e, _)| (e.key, e.owner))
        .collect();
    nodes.extend(
        events::<Rollup::Dissected>(&logs)
            .into_iter()
            .map(|(e, _)| (e.key, e.owner)),
    );
    nodes
}

pub fn rollup_logs<L: L1>(chain: &mut Chain<L>) -> Vec<verifier::l1::Log> {
    let (head, _) = chain.l1.head().unwrap();
    chain
        .l1
        .logs(chain.deployment.rollup, chain.deployment.first_block, head)
        .unwrap()
}

/// Wei `who` put into the Rollup: its stakes (counted as sent) and the bonds of the nodes it
/// posted (one per node L1 published).
pub fn put_in<L: L1>(chain: &mut Chain<L>, m: &Mirrored, who: Address) -> u128 {
    let bond = wei(view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::challengeBondCall {},
    )
    .unwrap());
    let nodes = posted_nodes(chain)
        .into_iter()
        .filter(|(_, owner)| *owner == who)
        .count();
    m.staked.get(&who).copied().unwrap_or(0) + nodes as u128 * bond
}

/// Wei `who` took out of the Rollup.
pub fn got_out(m: &Mirrored, who: Address) -> u128 {
    m.withdrawn.get(&who).copied().unwrap_or(0)
}

/// Everyone who ever held money in the Rollup: stakers, node owners, provers.
pub fn rollup_parties<L: L1>(chain: &mut Chain<L>, m: &Mirrored) -> Vec<Address> {
    let logs = rollup_logs(chain);
    let mut parties: BTreeSet<Address> = m.staked.keys().copied().collect();
    parties.extend(
        events::<Rollup::StakeMoved>(&logs)
            .into_iter()
            .map(|(e, _)| e.staker),
    );
    parties.extend(
        events::<Rollup::StepProven>(&logs)
            .into_iter()
            .map(|(e, _)| e.prover),
    );
    parties.extend(posted_nodes(chain).into_iter().map(|(_, owner)| owner));
    parties.into_iter().collect()
}

/// The Rollup's money adds up, three ways: everything sent to it (stakes counted as sent, a bond
/// per node it published) is its balance plus what it paid out; its balance is the active stakes
/// (frozen ones on rejected assertions included) plus the bonds of open nodes plus unwithdrawn
/// credits plus the burn; and the Rust referee holds the same. The burn is never more than the
/// balance. And the model agrees with the contract on every node, status and credit.
pub fn rollup_money_is_conserved<L: L1>(chain: &mut Chain<L>, m: &Mirrored) {
    let rollup = chain.deployment.rollup;
    let bond = wei(view(&mut chain.l1, rollup, Rollup::challengeBondCall {}).unwrap());
    let stake = wei(view(&mut chain.l1, rollup, Rollup::assertionBondCall {}).unwrap());
    let nodes = posted_nodes(chain);
    let staked: u128 = m.staked.values().sum();
    let withdrawn: u128 = m.withdrawn.values().sum();
    let logs = rollup_logs(chain);
    let paid: u128 = events::<Rollup::CreditsWithdrawn>(&logs)
        .into_iter()
        .map(|(e, _)| wei(e.amount))
        .sum();
    assert_eq!(withdrawn, paid, "every withdrawal went through the helpers");
    let balance = wei(chain.l1.balance(rollup).unwrap());
    assert_eq!(
        staked + nodes.len() as u128 * bond,
        balance + withdrawn,
        "sent to the Rollup = its balance + paid out"
    );
    let burned = wei(view(&mut chain.l1, rollup, Rollup::totalBurnedCall {}).unwrap());
    assert!(burned <= balance, "burned {burned} > balance {balance}");
    let parties = rollup_parties(chain, m);
    let mut stakes = 0;
    let mut owed = 0;
    for who in &parties {
        let s = view(&mut chain.l1, rollup, Rollup::stakeOfCall { staker: *who }).unwrap();
        if s.active {
            stakes += stake;
        }
        owed += wei(view(&mut chain.l1, rollup, Rollup::creditsCall(*who)).unwrap());
    }
    let mut open = 0;
    for (key, _) in &nodes {
        if view(&mut chain.l1, rollup, Rollup::nodeCall { key: *key })
            .unwrap()
            .state
            == NodeState::Open.code()
        {
            open += bond;
        }
    }
    assert_eq!(
        balance,
        stakes + open + owed + burned,
        "balance = stakes {stakes} + open bonds {open} + credits {owed} + burned {burned}"
    );
    assert_eq!(
        m.mirror.referee.held(),
        balance,
        "the Rust referee holds what the Rollup holds"
    );
    assert_eq!(m.mirror.referee.burned(), burned);
    compare(&mut chain.l1, &chain.deployment, &m.mirror, &parties).unwrap();
}

/// The views of the children of `parent` a contestant playing `plays_in` sees at `at`.
/// The moves `c` makes now ([`honest_moves`] with its own run), sent in order.
pub fn play_turn<L: L1>(
    chain: &mut Chain<L>,
    m: &mut Mirrored,
    parent: u64,
    c: &mut Contestant,
) -> bool {
    let at = now(chain);
    let moves = m.mirror.moves_of(c, &m.assertions, parent, at);
    for mv in &moves {
        send_move(chain, m, c, mv);
    }
    !moves.is_empty()
}

/// How a dispute played by [`play_in_order`] or [`play`] ended.
#[derive(Clone, Debug)]
pub struct Decided {
    pub status: AssertionStatus,
    pub created_at: u64,
    pub decided_at: u64,
}

/// [`play_until_decided`] with a fixed order: each block (of [`TICK`] seconds, or up to the next
/// deadline when nobody moved), `hook` first, then every playing contestant in the order given;
/// then the last contestant confirms `target` when it may; the whole state is compared with the
/// model. Until `target` is decided and every node resolved.
pub fn play_in_order<L: L1>(
    chain: &mut Chain<L>,
    m: &mut Mirrored,
    parent: u64,
    target: u64,
    contestants: &mut [Contestant],
    mut hook: impl FnMut(&mut Chain<L>, &mut Mirrored, &mut [Contestant]) -> bool,
    limit: u64,
) -> Decided {
    let created_at = m.mirror.referee.assertion(target).unwrap().created_at;
    let budget = m.mirror.referee.config().clock_budget;
    let period = m.mirror.referee.config().challenge_period;
    let start = now(chain);
    let mut parties: Vec<Address> = contestants.iter().map(|c| c.wallet.address()).collect();
    parties.extend(m.staked.keys().copied());
    let mut decided_at = None;
    let mut wait = TICK;
    loop {
        chain.l1.advance_time(wait).unwrap();
        let mut moved = hook(chain, m, contestants);
        for c in contestants.iter_mut().filter(|c| c.plays) {
            moved |= play_turn(chain, m, parent, c);
        }
        if decided_at.is_none() {
            let confirmer = contestants.last().unwrap().wallet.clone();
            let pending =
                m.mirror.referee.assertion(target).unwrap().status == AssertionStatus::Pending;
            if pending && now(chain) >= created_at + period {
                let _ = confirm_mirrored(chain, m, &confirmer, target);
            }
            if m.mirror.referee.assertion(target).unwrap().status != AssertionStatus::Pending {
                decided_at = Some(now(chain));
            }
        }
        compare(&mut chain.l1, &chain.deployment, &m.mirror, &parties).unwrap();
        let at = now(chain);
        let open: Vec<u64> = m
            .mirror
            .referee
            .nodes()
            .values()
            .filter(|n| n.state == NodeState::Open)
            .map(|n| n.deadline(budget) + 1)
            .collect();
        if let Some(decided_at) = decided_at {
            if open.is_empty() && !moved {
                return Decided {
                    status: m.mirror.referee.assertion(target).unwrap().status,
                    created_at,
                    decided_at,
                };
            }
        }
        wait = TICK;
        if !moved {
            let next = open
                .into_iter()
                .chain((decided_at.is_none()).then_some(created_at + period))
                .filter(|t| *t > at)
                .min();
            if let Some(next) = next {
                wait = wait.max(next - at);
            }
        }
        assert!(
            at <= start + limit,
            "assertion {target} not decided within {limit} s"
        );
    }
}

/// [`play_until_decided`] (order turning every block) over the children of `parent` until
/// `target` is decided and every node resolved.
pub fn play<L: L1>(
    chain: &mut Chain<L>,
    m: &mut Mirrored,
    parent: u64,
    target: u64,
    contestants: &mut [Contestant],
) -> DisputeReport {
    let limit = 10 * (chain.config.challenge_period + 2 * chain.config.clock_budget);
    play_until_decided(
        &mut chain.l1,
        &chain.deployment,
        &mut m.mirror,
        &chain.initial,
        &m.assertions,
        parent,
        target,
        contestants,
        TICK,
        limit,
    )
    .unwrap_or_else(|e| panic!("the dispute over assertion {target}: {e}"))
}

/// What [`rival_dispute`] leaves.
pub struct RivalDispute {
    pub m: Mirrored,
    pub honest: AssertionRecord,
    pub rival: AssertionRecord,
    pub report: DisputeReport,
    /// The honest asserter, who plays its side (its wallet, its gas in all, its moves).
    pub honest_gas: u64,
    pub honest_moves: u32,
    pub liar_gas: u64,
    pub liar_moves: u32,
    pub liar_refused: u32,
    /// Wei the liar lost (put in less taken out).
    pub liar_lost: u128,
}

/// Batch 1 ([`first_batch`]) asserted truly by wallet 0x54 and, on the same parent, wrongly
/// (`lie`) by wallet 0x53; both play their runs (the liar its lie, in its own assertion and the
/// honest one) with [`play_until_decided`]. The honest assertion is confirmed within the bound,
/// the rival rejected, the liar's stake slashed; both cash out, the honest party with at least
/// what it put in, and the money adds up.
pub fn rival_dispute<L: L1>(chain: &mut Chain<L>, lie: Lie) -> RivalDispute {
    let (batch, genesis, truth) = first_batch(chain);
    let mut m = mirrored(chain);
    let (honest_wallet, liar_wallet) = (wallet(0x54), wallet(0x53));
    let honest = assert_mirrored(chain, &mut m, &honest_wallet, &genesis, &batch, &truth);
    let claim = lying_claim(&truth, lie, 1);
    let rival = assert_mirrored(chain, &mut m, &liar_wallet, &genesis, &batch, &claim);
    let run = trace(chain, &batch, &genesis, truth.steps);
    let mut contestants = vec![
        Contestant::new(honest_wallet.clone(), cached(run.clone())),
        Contestant {
            plays_in: Some(vec![rival.id, honest.id]),
            ..Contestant::new(liar_wallet.clone(), cached(lying_trace(&run, lie, &rival)))
        },
    ];
    let report = play(chain, &mut m, 0, honest.id, &mut contestants);
    // The contract derived the step-0 hash the true run starts from, and each root challenge
    // disputes its assertion's final hash.
    let start = contestants[0].run.hash_at(0);
    let logs = rollup_logs(chain);
    let roots: Vec<_> = events::<Rollup::ChallengeOpened>(&logs)
        .into_iter()
        .filter(|(e, _)| e.parent == B256::ZERO)
        .map(|(e, _)| e)
        .collect();
    assert!(!roots.is_empty());
    for root in roots {
        let disputed = &m.assertions[&root.assertionId].data;
        assert_eq!(root.startHash, B256::from(start.0));
        assert_eq!(root.endHash, disputed.finalMachineHash);
        assert_eq!((root.lo, root.hi, root.isFinal), (0, disputed.steps, true));
    }
    assert_eq!(report.status, AssertionStatus::Confirmed, "{lie}");
    assert!(
        report.decided_at <= bound(report.created_at, &chain.config),
        "{lie}: confirmed at {} > bound {}",
        report.decided_at,
        bound(report.created_at, &chain.config)
    );
    assert_eq!(
        status(chain, rival.id),
        AssertionStatus::Rejected.code(),
        "{lie}"
    );
    let liar_stake = view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::stakeOfCall {
            staker: liar_wallet.address(),
        },
    )
    .unwrap();
    assert!(!liar_stake.active, "{lie}: the liar's stake is slashed");
    rollup_money_is_conserved(chain, &m);
    cash_out(chain, &mut m, &honest_wallet);
    cash_out(chain, &mut m, &liar_wallet);
    rollup_money_is_conserved(chain, &m);
    let honest_in = put_in(chain, &m, honest_wallet.address());
    assert!(
        got_out(&m, honest_wallet.address()) >= honest_in,
        "{lie}: the honest party got {} back of {honest_in}",
        got_out(&m, honest_wallet.address())
    );
    let liar_lost = put_in(chain, &m, liar_wallet.address()) - got_out(&m, liar_wallet.address());
    escrow_is_conserved(chain);
    let (h, l) = (&contestants[0], &contestants[1]);
    RivalDispute {
        honest_gas: h.gas + m.gas.get(&honest_wallet.address()).copied().unwrap_or(0),
        honest_moves: h.moves,
        liar_gas: l.gas + m.gas.get(&liar_wallet.address()).copied().unwrap_or(0),
        liar_moves: l.moves,
        liar_refused: l.refused,
        liar_lost,
        m,
        honest,
        rival,
        report,
    }
}

/// A wallet of its own for each party, funded on L1 with `ether`.
pub fn funded<L: L1>(chain: &mut Chain<L>, seed: &str, n: u64, ether: u128) -> Wallet {
    let mut bytes = seed.as_bytes().to_vec();
    bytes.extend_from_slice(&n.to_be_bytes());
    let w = Wallet::from_secret(&program::keccak256(&bytes)).expect("key");
    chain
        .l1
        .set_balance(w.address(), U256::from(ether * ETHER))
        .unwrap();
    w
}

/// splitmix64, so every sybil's lie (and every random move) reproduces.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 for `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// What [`sybil_attack`] measured.
pub struct Sybils {
    pub steps: u64,
    pub arity: u32,
    /// Rivals by kind: wrong roots, more steps, fewer steps.
    pub kinds: [u64; 3],
    /// L1 seconds from the correct assertion's posting to its confirmation, and the bound.
    pub confirmed_after: u64,
    pub bound_after: u64,
    pub honest_moves: u32,
    /// All the honest party's gas: its assertion, its moves, its withdrawals (not the
    /// confirmation `play_until_decided` sends, which it does not report).
    pub honest_gas: u64,
    /// What the honest party took out less what it put in.
    pub honest_net: u128,
    pub adversary_moves: u32,
    pub adversary_refused: u32,
    pub adversary_gas: u64,
    /// What the adversaries put in and did not get back, and the stakes among it.
    pub lost: u128,
    pub stakes_lost: u128,
    pub nodes: usize,
}

/// Sybils on the embedded L1: `n` wrong rivals of one correct assertion about an empty batch,
/// each posted from its own wallet with its own stake, every kind of lie among them (a wrong
/// post-state root with the run wrong from various steps, more steps than the run, fewer steps);
/// each liar plays its own lie in its own assertion and in the correct one; one honest party
/// asserts the truth and plays, all with [`play_until_decided`] (arity `arity`). Checked: the
/// correct assertion confirmed within the bound, every rival rejected and its stake slashed, the
/// money conserved, the honest party ending with at least what it put in, every sybil losing at
/// least its stake.
pub fn sybil_attack(n: u64, arity: u32) -> Sybils {
    let mut chain = chain_configured(
        EmbeddedL1::new().unwrap(),
        EMPTY_ROOT,
        NodeStore::new(),
        |c| c.arity = arity,
    );
    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();
    let store = chain.genesis_store.clone();
    let (batch, truth) = empty_batch(&mut chain, &genesis, store.clone());
    let steps = truth.steps;
    let mut m = mirrored(&mut chain);
    let honest_wallet = funded(&mut chain, "honest", 0, 1_000_000);
    let honest = assert_mirrored(&mut chain, &mut m, &honest_wallet, &genesis, &batch, &truth);
    let run = run_trace(&chain, &batch, &genesis, store, steps);
    let mut rng = SplitMix(0x5eed ^ n);
    let mut contestants = vec![Contestant::new(honest_wallet.clone(), cached(run.clone()))];
    let mut kinds = [0u64; 3];
    for k in 1..=n {
        let lie = match k % 3 {
            0 => Lie::WrongRoot {
                from: 1 + rng.next() % steps,
            },
            1 => Lie::MoreSteps { by: k / 3 + 1 },
            _ => {
                let by = k / 3 + 1;
                Lie::FewerSteps {
                    by,
                    from: 1 + rng.next() % (steps - by),
                }
            }
        };
        kinds[(k % 3) as usize] += 1;
        let liar = funded(&mut chain, "sybil", k, 1_000);
        chain.l1.advance_time(rng.next() % 3).unwrap();
        let claim = lying_claim(&truth, lie, k);
        let rival = assert_mirrored(&mut chain, &mut m, &liar, &genesis, &batch, &claim);
        contestants.push(Contestant {
            plays_in: Some(vec![rival.id, honest.id]),
            ..Contestant::new(liar, cached(lying_trace(&run, lie, &rival)))
        });
    }
    let report = play(&mut chain, &mut m, 0, honest.id, &mut contestants);
    let limit = bound(report.created_at, &chain.config);
    assert_eq!(report.status, AssertionStatus::Confirmed, "n={n}");
    assert!(
        report.decided_at <= limit,
        "n={n}: {} > {limit}",
        report.decided_at
    );
    for id in 2..=n + 1 {
        assert_eq!(
            status(&mut chain, id),
            AssertionStatus::Rejected.code(),
            "rival {id}"
        );
    }
    rollup_money_is_conserved(&mut chain, &m);
    let wallets: Vec<Wallet> = contestants.iter().map(|c| c.wallet.clone()).collect();
    for w in &wallets {
        let stake = view(
            &mut chain.l1,
            chain.deployment.rollup,
            Rollup::stakeOfCall {
                staker: w.address(),
            },
        )
        .unwrap();
        assert_eq!(
            stake.active,
            w.address() == honest_wallet.address(),
            "only the honest stake is left"
        );
        cash_out(&mut chain, &mut m, w);
    }
    rollup_money_is_conserved(&mut chain, &m);
    let honest_in = put_in(&mut chain, &m, honest_wallet.address());
    let honest_out = got_out(&m, honest_wallet.address());
    assert!(
        honest_out >= honest_in,
        "n={n}: the honest party got {honest_out} of {honest_in}"
    );
    let stake = wei(chain.config.assertion_bond);
    let mut r = Sybils {
        steps,
        arity,
        kinds,
        confirmed_after: report.decided_at - report.created_at,
        bound_after: limit - report.created_at,
        honest_moves: contestants[0].moves,
        honest_gas: contestants[0].gas + m.gas[&honest_wallet.address()],
        honest_net: honest_out - honest_in,
        adversary_moves: 0,
        adversary_refused: 0,
        adversary_gas: 0,
        lost: 0,
        stakes_lost: n as u128 * stake,
        nodes: m.mirror.referee.nodes().len(),
    };
    for c in &contestants[1..] {
        let who = c.wallet.address();
        r.adversary_gas += c.gas + m.gas.get(&who).copied().unwrap_or(0);
        let lost = put_in(&mut chain, &m, who) - got_out(&m, who);
        assert!(lost >= stake, "every sybil loses at least its stake");
        r.lost += lost;
        r.adversary_moves += c.moves;
        r.adversary_refused += c.refused;
    }
    escrow_is_conserved(&mut chain);
    r
}
