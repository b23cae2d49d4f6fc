//! The settlement fixture shared by `tests/settlement.rs` and `benches/settlement_gas.rs`: a
//! rollup deployed on the embedded L1 with short windows, funded wallets, a first batch, the
//! honest trace of a batch, every lie, and the checks every test ends with.
#![allow(dead_code)]

use program::ledger::TransactionList;
use program::{address_of, sign_transfer, sign_withdraw, NodeStore, SigningKey, EMPTY_ROOT};
use prover::dispute::{checkpoint_count, Checkpoints, Computation, Lie};
use prover::settlement::{
    fetch_batch, genesis_assertion, initial_opening, post_batch, run_claim, AssertionRecord,
    BatchClaim, PostedBatch,
};
use prover::StfGuest;
use verifier::l1::embedded::EmbeddedL1;
use verifier::l1::{Address, Wallet, B256, L1, U256};
use verifier::settlement::contracts::{self, view, Inbox, Rollup, ETHER};
use verifier::settlement::{deploy, Deployment, MachineOpening, SettlementConfig};

pub const CHAIN_ID: u64 = 42;
/// The challenge period in tests; the withdrawal delay is half, the clock budget ten times.
pub const PERIOD: u64 = 1_000;

pub fn wallet(byte: u8) -> Wallet {
    Wallet::from_secret(&[byte; 32]).expect("valid key")
}

pub struct Chain {
    pub l1: EmbeddedL1,
    pub deployment: Deployment,
    pub guest: StfGuest,
    pub initial: MachineOpening,
    pub sequencer: Wallet,
    /// The genesis state's trie nodes.
    pub genesis_store: NodeStore,
}

/// A rollup from the empty state.
pub fn chain() -> Chain {
    chain_from(EMPTY_ROOT, NodeStore::new())
}

/// A rollup whose genesis is `root` (with its nodes in `store`); wallets 0x51 (the sequencer and
/// deployer) to 0x54 hold 1,000 ETH on L1.
pub fn chain_from(root: program::ledger::Hash, store: NodeStore) -> Chain {
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
        B256::from(root),
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
        genesis_store: store,
    }
}

/// What the bridge took in is what it holds plus what it paid out.
pub fn escrow_is_conserved(chain: &mut Chain) {
    let inbox = chain.deployment.inbox;
    let deposited = view(&mut chain.l1, inbox, Inbox::totalDepositedCall {}).unwrap();
    let released = view(&mut chain.l1, inbox, Inbox::totalReleasedCall {}).unwrap();
    let balance = chain.l1.balance(inbox).unwrap();
    assert_eq!(U256::from(deposited), balance + U256::from(released));
}

/// A deposit for Alice and batch 1 with two of her transactions, posted; the batch as L1 holds it,
/// genesis, and the true claim about the batch.
pub fn first_batch(chain: &mut Chain) -> (PostedBatch, AssertionRecord, BatchClaim) {
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
    let claim = run_claim(&chain.guest, &batch, &genesis, chain.genesis_store.clone()).unwrap();
    (batch, genesis, claim)
}

/// The honest trace of `batch` on `parent`, for agents.
pub fn trace(
    chain: &Chain,
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

pub fn credits(chain: &mut Chain, who: &Wallet) -> U256 {
    view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::creditsCall(who.address()),
    )
    .unwrap()
}

pub fn status(chain: &mut Chain, id: u64) -> u8 {
    view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::assertionCall { id },
    )
    .unwrap()
    .status
}
