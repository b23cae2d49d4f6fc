//! The guardian (`Guardian.sol`) on the embedded L1: a 2-of-3 pause blocks withdrawal and bond
//! payouts and nothing else, 1-of-3 and every bad signature are refused by name, a pause ends by
//! itself and is not renewed without an unpause, a hold delays an assertion's withdrawals to the
//! end of the window and no further, a large withdrawal waits its extra delay, a guardian-free
//! deployment refuses every action, and no action moves a wei: after the guardian did all it can,
//! everything pays in full.
//!
//! Run with `--nocapture` to see the gas of each action.

#[path = "common/settlement.rs"]
mod fixture;

use fixture::*;
use program::{NodeStore, SigningKey, EMPTY_ROOT};
use prover::settlement::{assert_batch, confirm, fetch_batch, AssertionRecord};
use verifier::l1::embedded::EmbeddedL1;
use verifier::l1::{Address, TxReceipt, L1, U256};
use verifier::settlement::contracts::{self, view, Inbox, Rollup, ETHER};
use verifier::settlement::guardian::{
    action_digest, pack_signatures, sign_digest, submit_action, GuardianAction,
};
use verifier::settlement::GuardianConfig;

/// A pause ends by itself after this.
const EXPIRY: u64 = 3_000;
/// After confirmation, the guardian may hold withdrawals this long (the withdrawal delay is
/// PERIOD / 2 = 500).
const WINDOW: u64 = 1_500;
/// The extra wait of a withdrawal above the threshold.
const LARGE_DELAY: u64 = 2_000;
const DELAY: u64 = PERIOD / 2;

/// The three guardian keys, in the order of their addresses.
fn guardians() -> Vec<SigningKey> {
    let mut keys: Vec<SigningKey> = [0x61u8, 0x62, 0x63]
        .iter()
        .map(|b| SigningKey::from_slice(&[*b; 32]).unwrap())
        .collect();
    keys.sort_by_key(address);
    keys
}

fn address(key: &SigningKey) -> Address {
    Address::from(program::address_of(key))
}

/// A rollup with a 2-of-3 guardian; withdrawals above `threshold` wei are large.
fn guarded(threshold: u128) -> Chain {
    let signers = guardians().iter().map(address).collect();
    chain_configured(
        EmbeddedL1::new().unwrap(),
        EMPTY_ROOT,
        NodeStore::new(),
        |config| {
            config.guardian = GuardianConfig {
                signers,
                threshold: 2,
                pause_expiry: EXPIRY,
                withdrawal_threshold: U256::from(threshold),
                large_withdrawal_delay: LARGE_DELAY,
                window: WINDOW,
            }
        },
    )
}

/// The first withdrawal (1 ETH) is a normal one.
fn normal() -> Chain {
    guarded(ETHER)
}

fn now(chain: &mut Chain) -> u64 {
    chain.l1.head().unwrap().1
}

/// The payer of guardian transactions: any account (it gets no right by paying).
fn payer() -> verifier::l1::Wallet {
    wallet(0x55)
}

fn nonce(chain: &mut Chain) -> u64 {
    view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::guardianNonceCall {},
    )
    .unwrap()
}

/// `keys` sign `action` at the current nonce, and it is sent.
fn act(chain: &mut Chain, action: GuardianAction, keys: &[&SigningKey]) -> TxReceipt {
    let nonce = nonce(chain);
    let digest = action_digest(chain.l1.chain_id(), chain.deployment.rollup, action, nonce);
    let signatures: Vec<[u8; 65]> = keys.iter().map(|k| sign_digest(k, &digest)).collect();
    submit_action(
        &mut chain.l1,
        &payer(),
        &chain.deployment,
        action,
        &signatures,
    )
    .unwrap()
}

/// `action` with `signatures` packed as given, bypassing the client's sorting.
fn act_raw(chain: &mut Chain, action: u8, assertion_id: u64, signatures: Vec<u8>) -> TxReceipt {
    contracts::send(
        &mut chain.l1,
        &payer(),
        chain.deployment.rollup,
        U256::ZERO,
        Rollup::guardianActCall {
            action,
            assertionId: assertion_id,
            signatures: signatures.into(),
        },
    )
    .unwrap()
}

fn refused(receipt: TxReceipt) -> String {
    receipt.outcome.expect_err("refused").error
}

fn paused(chain: &mut Chain) -> bool {
    view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::pausedCall {},
    )
    .unwrap()
}

/// Batch 1 (a 1 ETH withdrawal) asserted by the sequencer; not confirmed.
fn asserted(chain: &mut Chain) -> AssertionRecord {
    let (batch, genesis, claim) = first_batch(chain);
    let (assertion, _) = assert_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &genesis,
        &batch,
        &claim,
    )
    .unwrap();
    assertion
}

/// Confirms `assertion` once its period is over; the confirmation time.
fn confirmed(chain: &mut Chain, assertion: &AssertionRecord) -> u64 {
    chain.l1.advance_time(PERIOD).unwrap();
    confirm(&mut chain.l1, &user(), &chain.deployment, assertion)
        .unwrap()
        .success()
        .unwrap();
    now(chain)
}

/// Advances the clock to `at` (not back).
fn wait_until(chain: &mut Chain, at: u64) {
    let t = now(chain);
    assert!(t <= at, "{t} is past {at}");
    if at > t {
        chain.l1.advance_time(at - t).unwrap();
    }
}

/// The first withdrawal's claim: the receipt, a refusal included.
fn claim(chain: &mut Chain) -> TxReceipt {
    let batch = fetch_batch(&mut chain.l1, &chain.deployment, 1).unwrap();
    let (withdrawal, proof) = first_withdrawal(&batch);
    withdraw(chain, &withdrawal, proof)
}

/// Every wei the guardian could want to move, as L1 holds it.
fn money(chain: &mut Chain) -> Vec<U256> {
    let (inbox, rollup) = (chain.deployment.inbox, chain.deployment.rollup);
    let mut all = vec![
        chain.l1.balance(inbox).unwrap(),
        chain.l1.balance(rollup).unwrap(),
        U256::from(view(&mut chain.l1, inbox, Inbox::totalReleasedCall {}).unwrap()),
        view(&mut chain.l1, rollup, Rollup::totalBurnedCall {}).unwrap(),
    ];
    for who in [
        payer().address(),
        chain.sequencer.address(),
        user().address(),
    ] {
        all.push(view(&mut chain.l1, rollup, Rollup::creditsCall(who)).unwrap());
    }
    for key in guardians() {
        all.push(chain.l1.balance(address(&key)).unwrap());
    }
    all
}

#[test]
fn the_contract_digest_is_the_clients() {
    let mut chain = normal();
    let rollup = chain.deployment.rollup;
    let l1_chain = chain.l1.chain_id();
    for (action, nonce) in [
        (GuardianAction::Pause, 0),
        (GuardianAction::Unpause, 1),
        (GuardianAction::Hold(7), 2),
        (GuardianAction::Hold(u64::MAX), u64::MAX),
    ] {
        let on_chain = view(
            &mut chain.l1,
            rollup,
            Rollup::guardianDigestCall {
                action: action.code(),
                assertionId: action.assertion_id(),
                nonce,
            },
        )
        .unwrap();
        assert_eq!(on_chain, action_digest(l1_chain, rollup, action, nonce));
    }
    // The domain commits to the chain and the contract.
    let digest = action_digest(l1_chain, rollup, GuardianAction::Pause, 0);
    assert_ne!(
        digest,
        action_digest(l1_chain + 1, rollup, GuardianAction::Pause, 0)
    );
    assert_ne!(
        digest,
        action_digest(l1_chain, chain.deployment.inbox, GuardianAction::Pause, 0)
    );
}

#[test]
fn two_of_three_pause_blocks_claims_and_bond_payouts_and_nothing_else() {
    let mut chain = normal();
    let keys = guardians();
    let assertion = asserted(&mut chain);
    let before = money(&mut chain);

    let receipt = act(&mut chain, GuardianAction::Pause, &[&keys[0], &keys[2]])
        .success()
        .unwrap();
    eprintln!("guardian pause (2 signatures): {} gas", receipt.gas_used);
    let paused_at = now(&mut chain);
    let until = paused_at + EXPIRY;
    let events = contracts::events::<Rollup::GuardianPaused>(&receipt.logs);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0.until, until);
    assert!(paused(&mut chain));
    assert_eq!(nonce(&mut chain), 1);
    assert_eq!(money(&mut chain), before, "a pause moves nothing");

    // Confirmation, deposits and batches go on while paused.
    let confirmed_at = confirmed(&mut chain, &assertion);
    deposit(&mut chain, [7; 20], ETHER).success().unwrap();
    wait_until(&mut chain, confirmed_at + DELAY);
    // The claim and the bond payout are what stops.
    assert_eq!(refused(claim(&mut chain)), format!("Paused({until})"));
    let staker = chain.sequencer.clone();
    let rollup = chain.deployment.rollup;
    // A stake still moves to credits (no wei leaves); the credits are not paid.
    contracts::send(
        &mut chain.l1,
        &staker,
        rollup,
        U256::ZERO,
        Rollup::withdrawStakeCall {},
    )
    .unwrap()
    .success()
    .unwrap();
    let stake = view(&mut chain.l1, rollup, Rollup::creditsCall(staker.address())).unwrap();
    assert_eq!(stake, U256::from(ETHER));
    let payout = contracts::send(
        &mut chain.l1,
        &staker,
        rollup,
        U256::ZERO,
        Rollup::withdrawCreditsCall {},
    )
    .unwrap();
    assert_eq!(refused(payout), format!("Paused({until})"));

    // Unpaused (2 of 3 again, other signers), both pay.
    let receipt = act(&mut chain, GuardianAction::Unpause, &[&keys[1], &keys[2]])
        .success()
        .unwrap();
    eprintln!("guardian unpause (2 signatures): {} gas", receipt.gas_used);
    assert_eq!(
        contracts::events::<Rollup::GuardianUnpaused>(&receipt.logs).len(),
        1
    );
    assert!(!paused(&mut chain));
    let balance = chain.l1.balance(user().address()).unwrap();
    claim(&mut chain).success().unwrap();
    assert_eq!(
        chain.l1.balance(user().address()).unwrap(),
        balance + U256::from(ETHER)
    );
    contracts::send(
        &mut chain.l1,
        &staker,
        rollup,
        U256::ZERO,
        Rollup::withdrawCreditsCall {},
    )
    .unwrap()
    .success()
    .unwrap();
    escrow_is_conserved(&mut chain);
}

#[test]
fn too_few_and_bad_signatures_are_refused_by_name() {
    let mut chain = normal();
    let keys = guardians();
    let rollup = chain.deployment.rollup;
    let l1_chain = chain.l1.chain_id();
    let digest = action_digest(l1_chain, rollup, GuardianAction::Pause, 0);
    let sig = |key: &SigningKey| sign_digest(key, &digest);
    let before = money(&mut chain);

    // 1 of 3.
    let one = act(&mut chain, GuardianAction::Pause, &[&keys[1]]);
    assert_eq!(refused(one), "TooFewSignatures(1, 2)");
    // One signer twice.
    let twice = [sig(&keys[0]), sig(&keys[0])].concat();
    assert_eq!(
        refused(act_raw(&mut chain, 1, 0, twice)),
        format!("SignersNotAscending({})", address(&keys[0]))
    );
    // Two signers, descending.
    let descending = [sig(&keys[2]), sig(&keys[0])].concat();
    assert_eq!(
        refused(act_raw(&mut chain, 1, 0, descending)),
        format!("SignersNotAscending({})", address(&keys[0]))
    );
    // A key that is not a guardian's, with a guardian's.
    let stranger = SigningKey::from_slice(&[0x64; 32]).unwrap();
    let with_stranger = act(&mut chain, GuardianAction::Pause, &[&keys[0], &stranger]);
    assert_eq!(
        refused(with_stranger),
        format!("NotGuardianSigner({})", address(&stranger))
    );
    // Replays: signed for another nonce, another L1 chain, another contract, another action.
    for other in [
        action_digest(l1_chain, rollup, GuardianAction::Pause, 1),
        action_digest(l1_chain + 1, rollup, GuardianAction::Pause, 0),
        action_digest(l1_chain, chain.deployment.inbox, GuardianAction::Pause, 0),
        action_digest(l1_chain, rollup, GuardianAction::Unpause, 0),
    ] {
        let signatures = [sign_digest(&keys[0], &other), sign_digest(&keys[1], &other)];
        let packed = pack_signatures(&digest, &signatures).unwrap();
        let error = refused(act_raw(&mut chain, 1, 0, packed));
        assert!(error.starts_with("NotGuardianSigner("), "{error}");
    }
    // Malformed: cut short, v not 27/28, high s (the malleated twin of a valid signature).
    let good = [sig(&keys[0]), sig(&keys[1])].concat();
    assert_eq!(
        refused(act_raw(&mut chain, 1, 0, good[..129].to_vec())),
        "BadSignatureLength(129)"
    );
    let mut bad_v = good.clone();
    bad_v[65 + 64] = 1;
    assert_eq!(refused(act_raw(&mut chain, 1, 0, bad_v)), "BadSignature(1)");
    let mut high_s = good.clone();
    let order = U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .unwrap();
    let s = U256::from_be_slice(&high_s[32..64]);
    high_s[32..64].copy_from_slice(&(order - s).to_be_bytes::<32>());
    high_s[64] ^= 27 ^ 28;
    assert_eq!(
        refused(act_raw(&mut chain, 1, 0, high_s)),
        "BadSignature(0)"
    );
    // Unknown actions, and an unpause with nothing paused.
    for action in [0u8, 4, 255] {
        assert_eq!(
            refused(act_raw(&mut chain, action, 0, good.clone())),
            format!("UnknownAction({action})")
        );
    }
    let unpause = act(&mut chain, GuardianAction::Unpause, &[&keys[0], &keys[1]]);
    assert_eq!(refused(unpause), "NotPaused()");

    // Nothing took effect, nothing moved, and the right signatures still work.
    assert_eq!(nonce(&mut chain), 0);
    assert!(!paused(&mut chain));
    assert_eq!(money(&mut chain), before);
    act_raw(&mut chain, 1, 0, good.clone()).success().unwrap();
    assert!(paused(&mut chain));
    // The same signatures again: the nonce moved on.
    let error = refused(act_raw(&mut chain, 1, 0, good));
    assert!(error.starts_with("NotGuardianSigner("), "{error}");
}

#[test]
fn a_pause_expires_by_itself_and_is_renewed_only_after_an_unpause() {
    let mut chain = normal();
    let keys = guardians();
    let assertion = asserted(&mut chain);
    let confirmed_at = confirmed(&mut chain, &assertion);
    wait_until(&mut chain, confirmed_at + DELAY);
    act(&mut chain, GuardianAction::Pause, &[&keys[0], &keys[1]])
        .success()
        .unwrap();
    let paused_at = now(&mut chain);
    assert_eq!(
        refused(claim(&mut chain)),
        format!("Paused({})", paused_at + EXPIRY)
    );
    // The last second of the pause still refuses; the next one pays.
    wait_until(&mut chain, paused_at + EXPIRY - 1);
    assert!(paused(&mut chain));
    assert!(refused(claim(&mut chain)).starts_with("Paused("));
    wait_until(&mut chain, paused_at + EXPIRY);
    assert!(!paused(&mut chain));
    // Not renewed in place, even expired.
    let again = act(&mut chain, GuardianAction::Pause, &[&keys[0], &keys[2]]);
    assert_eq!(refused(again), format!("AlreadyPaused({paused_at})"));
    claim(&mut chain).success().unwrap();
    // After an unpause, a new pause (with its own expiry) is possible.
    act(&mut chain, GuardianAction::Unpause, &[&keys[1], &keys[2]])
        .success()
        .unwrap();
    act(&mut chain, GuardianAction::Pause, &[&keys[0], &keys[2]])
        .success()
        .unwrap();
    assert!(paused(&mut chain));
    assert_eq!(nonce(&mut chain), 3);
}

#[test]
fn a_held_assertions_withdrawals_pay_after_the_window() {
    let mut chain = normal();
    let keys = guardians();
    let assertion = asserted(&mut chain);
    // Only a confirmed assertion with withdrawals can be held.
    let pending = act(&mut chain, GuardianAction::Hold(1), &[&keys[0], &keys[1]]);
    assert_eq!(refused(pending), "NotConfirmed(1)");
    let genesis = act(&mut chain, GuardianAction::Hold(0), &[&keys[0], &keys[1]]);
    assert_eq!(refused(genesis), "NothingToHold(0)");
    let confirmed_at = confirmed(&mut chain, &assertion);
    let rollup = chain.deployment.rollup;
    let payable = |chain: &mut Chain| {
        view(
            &mut chain.l1,
            rollup,
            Rollup::withdrawalPayableAtCall {
                id: 1,
                amount: ETHER,
            },
        )
        .unwrap()
    };
    // The withdrawal delay counts from confirmation.
    assert_eq!(payable(&mut chain), confirmed_at + DELAY);
    let before = money(&mut chain);

    let receipt = act(&mut chain, GuardianAction::Hold(1), &[&keys[1], &keys[2]])
        .success()
        .unwrap();
    eprintln!("guardian hold (2 signatures): {} gas", receipt.gas_used);
    let held = contracts::events::<Rollup::WithdrawalsHeld>(&receipt.logs);
    assert_eq!(held.len(), 1);
    assert_eq!(
        (held[0].0.assertionId, held[0].0.until),
        (1, confirmed_at + WINDOW)
    );
    assert_eq!(money(&mut chain), before, "a hold moves nothing");
    assert_eq!(payable(&mut chain), confirmed_at + WINDOW);
    // Once per assertion.
    let again = act(&mut chain, GuardianAction::Hold(1), &[&keys[0], &keys[2]]);
    assert_eq!(refused(again), "AlreadyHeld(1)");

    wait_until(&mut chain, confirmed_at + DELAY);
    assert_eq!(
        refused(claim(&mut chain)),
        format!("WithdrawalNotYetPayable({})", confirmed_at + WINDOW)
    );
    wait_until(&mut chain, confirmed_at + WINDOW - 1);
    assert!(refused(claim(&mut chain)).starts_with("WithdrawalNotYetPayable("));
    wait_until(&mut chain, confirmed_at + WINDOW);
    let balance = chain.l1.balance(user().address()).unwrap();
    claim(&mut chain).success().unwrap();
    assert_eq!(
        chain.l1.balance(user().address()).unwrap(),
        balance + U256::from(ETHER)
    );
    escrow_is_conserved(&mut chain);
}

#[test]
fn a_hold_comes_within_the_window_or_not_at_all() {
    let mut chain = normal();
    let keys = guardians();
    let assertion = asserted(&mut chain);
    let confirmed_at = confirmed(&mut chain, &assertion);
    // The window for a hold ends with the large withdrawals' extra wait.
    let ends = confirmed_at + WINDOW + LARGE_DELAY;
    wait_until(&mut chain, ends);
    let late = act(&mut chain, GuardianAction::Hold(1), &[&keys[0], &keys[1]]);
    assert_eq!(refused(late), format!("HoldWindowOver({ends})"));
    claim(&mut chain).success().unwrap();
}

#[test]
fn a_large_withdrawal_waits_its_extra_delay_and_may_be_held_through_it() {
    // 1 ETH is above a 0.5 ETH threshold.
    let mut chain = guarded(ETHER / 2);
    let keys = guardians();
    let assertion = asserted(&mut chain);
    let confirmed_at = confirmed(&mut chain, &assertion);
    wait_until(&mut chain, confirmed_at + DELAY);
    assert_eq!(
        refused(claim(&mut chain)),
        format!(
            "WithdrawalNotYetPayable({})",
            confirmed_at + DELAY + LARGE_DELAY
        )
    );
    // Past the window of normal withdrawals, a hold still reaches the large ones.
    wait_until(&mut chain, confirmed_at + WINDOW + 1);
    act(&mut chain, GuardianAction::Hold(1), &[&keys[0], &keys[2]])
        .success()
        .unwrap();
    let held_until = confirmed_at + WINDOW + LARGE_DELAY;
    wait_until(&mut chain, confirmed_at + DELAY + LARGE_DELAY);
    assert_eq!(
        refused(claim(&mut chain)),
        format!("WithdrawalNotYetPayable({held_until})")
    );
    wait_until(&mut chain, held_until);
    claim(&mut chain).success().unwrap();
    escrow_is_conserved(&mut chain);
}

#[test]
fn a_guardian_free_deployment_refuses_every_action() {
    // The test config has no guardian (threshold 0), as `SettlementConfig::new`.
    let mut chain = chain();
    assert_eq!(chain.config.guardian.threshold, 0);
    let keys = guardians();
    for action in [
        GuardianAction::Pause,
        GuardianAction::Unpause,
        GuardianAction::Hold(1),
    ] {
        let receipt = act(&mut chain, action, &[&keys[0], &keys[1], &keys[2]]);
        assert_eq!(refused(receipt), "NoGuardian()");
    }
    assert_eq!(
        refused(act_raw(&mut chain, 1, 0, Vec::new())),
        "NoGuardian()"
    );
    assert!(!paused(&mut chain));
    // Withdrawals pay on time: the delay from confirmation, no large-withdrawal wait (0).
    let assertion = asserted(&mut chain);
    let confirmed_at = confirmed(&mut chain, &assertion);
    assert_eq!(
        refused(claim(&mut chain)),
        format!("WithdrawalNotYetPayable({})", confirmed_at + DELAY)
    );
    wait_until(&mut chain, confirmed_at + DELAY);
    claim(&mut chain).success().unwrap();
}

#[test]
fn the_guardian_cannot_touch_escrow() {
    let mut chain = guarded(ETHER / 2);
    let keys = guardians();
    let all: Vec<&SigningKey> = keys.iter().collect();
    let rollup = chain.deployment.rollup;
    let assertion = asserted(&mut chain);
    // Everything the guardian can do, with every signature, at the worst moments.
    let mut before = money(&mut chain);
    act(&mut chain, GuardianAction::Pause, &all)
        .success()
        .unwrap();
    assert_eq!(money(&mut chain), before);
    let confirmed_at = confirmed(&mut chain, &assertion);
    // Confirmation is not the guardian's: it went through during the pause.
    let stored = view(&mut chain.l1, rollup, Rollup::assertionCall { id: 1 }).unwrap();
    assert_eq!(stored.status, 2);
    before = money(&mut chain);
    act(&mut chain, GuardianAction::Hold(1), &all)
        .success()
        .unwrap();
    assert_eq!(money(&mut chain), before);
    // The guardian's last possible delays: the pause's expiry, the held large withdrawal.
    let latest = (now(&mut chain) + EXPIRY).max(confirmed_at + WINDOW + LARGE_DELAY);
    wait_until(&mut chain, latest);
    // Without signatures nothing is done for anyone.
    let unsigned = act_raw(&mut chain, 3, 1, Vec::new());
    assert_eq!(refused(unsigned), "TooFewSignatures(0, 2)");
    // Everything pays in full, the pause never lifted.
    let user_before = chain.l1.balance(user().address()).unwrap();
    claim(&mut chain).success().unwrap();
    assert_eq!(
        chain.l1.balance(user().address()).unwrap(),
        user_before + U256::from(ETHER)
    );
    let staker = chain.sequencer.clone();
    contracts::send(
        &mut chain.l1,
        &staker,
        rollup,
        U256::ZERO,
        Rollup::withdrawStakeCall {},
    )
    .unwrap()
    .success()
    .unwrap();
    let staker_before = chain.l1.balance(staker.address()).unwrap();
    contracts::send(
        &mut chain.l1,
        &staker,
        rollup,
        U256::ZERO,
        Rollup::withdrawCreditsCall {},
    )
    .unwrap()
    .success()
    .unwrap();
    assert_eq!(
        chain.l1.balance(staker.address()).unwrap(),
        staker_before + U256::from(ETHER)
    );
    // The Rollup holds nothing more; the Inbox holds what was not withdrawn (3 - 1 ETH).
    assert_eq!(chain.l1.balance(rollup).unwrap(), U256::ZERO);
    assert_eq!(
        chain.l1.balance(chain.deployment.inbox).unwrap(),
        U256::from(2 * ETHER)
    );
    escrow_is_conserved(&mut chain);
    // No guardian key, nor the payer, got a wei of the Rollup's credits.
    for who in keys.iter().map(address).chain([payer().address()]) {
        assert_eq!(
            view(&mut chain.l1, rollup, Rollup::creditsCall(who)).unwrap(),
            U256::ZERO
        );
    }
}
