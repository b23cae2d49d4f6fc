//! Users can always get out, on the embedded L1 with whole nodes driven turn by turn:
//! - a sequencer that censors a user (`Fault::Censor`): the user forces the withdrawal through
//!   L1, the sequencer must include it once it is overdue, and it is paid on L1;
//! - a sequencer gone for good: a deposit forced in by anyone, and after `sequencer_timeout` a
//!   validator posts the waiting transactions, asserts them, and the withdrawal is paid;
//! - batches posted through a contract (`forceInclude` and `postBatch` forwarded by a smart
//!   wallet): the nodes follow, and a lie about such a batch is challenged and rejected;
//! - a provider that forges a batch's deposit: the validator raises an alert for that batch
//!   and goes on winning its game on the batch before;
//! - many deposits read through a provider that caps `eth_getLogs` in blocks and results.

mod common;
#[path = "common/nodes.rs"]
mod harness;
#[path = "common/providers.rs"]
mod providers;

use alloy_sol_types::{SolCall, SolEvent};
use harness::*;
use program::{address_of, keccak256, sign_transfer, sign_withdraw, SigningKey};
use prover::config::RollupConfig;
use prover::node::duties::{Action, Fault};
use prover::node::service::{follow_wall_clock, open_embedded, Node, Role};
use prover::settlement::{
    finalize_withdrawal, force_include_overdue, force_transaction, pending_delayed, L1Log,
};
use providers::{capped, forwarder_init_code, LogFilter, Provider};
use serde_json::json;
use verifier::l1::embedded::EmbeddedL1;
use verifier::l1::{Wallet, L1, U256};
use verifier::settlement::contracts::{self, view, Deployment, Inbox, Rollup, ETHER};

const FORCE_DELAY: u64 = 60;
const SEQUENCER_TIMEOUT: u64 = 300;

fn exits_config() -> RollupConfig {
    RollupConfig {
        force_inclusion_delay: FORCE_DELAY,
        sequencer_timeout: SEQUENCER_TIMEOUT,
        ..config()
    }
}

fn alice() -> SigningKey {
    SigningKey::from_slice(&[0xA1; 32]).unwrap()
}

/// An embedded chain with the rollup deployed by `sequencer` and these accounts funded.
fn chain(
    name: &str,
    sequencer: &Wallet,
    funded: &[&Wallet],
) -> (std::path::PathBuf, EmbeddedL1, Deployment) {
    let dir = fresh_dir(name);
    let (mut l1, deployment) = open_embedded(&dir.join("l1"), sequencer, &exits_config()).unwrap();
    follow_wall_clock(&mut l1).unwrap();
    for who in funded {
        l1.set_balance(who.address(), U256::from(100 * ETHER))
            .unwrap();
    }
    (dir, l1, deployment)
}

fn node(
    dir: &std::path::Path,
    name: &str,
    role: Role,
    who: &Wallet,
    deployment: &Deployment,
    l1: &mut dyn L1,
    fault: Option<Fault>,
) -> Node {
    start_with(
        exits_config(),
        &dir.join(name),
        role,
        who,
        deployment,
        l1,
        fault,
    )
}

fn deposit(l1: &mut dyn L1, from: &Wallet, deployment: &Deployment, to: [u8; 20], wei: u128) {
    contracts::send(
        l1,
        from,
        deployment.inbox,
        U256::from(wei),
        Inbox::depositCall {
            l2Recipient: to.into(),
        },
    )
    .unwrap()
    .success()
    .unwrap();
}

/// Turns of every node, 100 ms apart (a sequencer posts once its one-second interval has passed),
/// until `until` holds; at most 20 s. (`settle` waits for an empty mempool, which a censoring
/// sequencer never gives.)
fn turns_until(
    nodes: &mut [&mut Node],
    l1: &mut dyn L1,
    mut until: impl FnMut(&mut dyn L1, &[&mut Node]) -> bool,
) -> Done {
    let mut done = Done::default();
    for _ in 0..200 {
        for node in nodes.iter_mut() {
            let turn = node.turn(l1, &mut |_| {}).unwrap();
            done.actions.extend(turn.actions);
            done.played.extend(turn.played);
            done.alerts.extend(turn.alerts);
        }
        if until(l1, nodes) {
            return done;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!(
        "never happened; the nodes did {:?} {:?}",
        done.actions, done.alerts
    );
}

/// Turns of every node for `seconds` of wall-clock time (the sequencer's interval passes).
fn turns_for(nodes: &mut [&mut Node], l1: &mut dyn L1, seconds: u64) -> Done {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    turns_until(nodes, l1, |_, _| std::time::Instant::now() >= end)
}

fn l2_balance(node: &Node, who: [u8; 20]) -> u128 {
    balance(&url(node), who)
}

/// Claims the withdrawal of L2 transaction `tx_hash` on L1 with the proof `node` serves, from
/// the confirmed assertion of its batch; asserts the recipient was paid `amount`.
fn claim(
    l1: &mut dyn L1,
    node: &Node,
    deployment: &Deployment,
    tx_hash: &str,
    recipient: &Wallet,
    amount: u128,
) {
    let found = url(node)
        .call("hb_getWithdrawal", json!([tx_hash]))
        .unwrap();
    let batch = found["batch"].as_u64().unwrap();
    let log = L1Log::read(l1, deployment).unwrap();
    let assertion = prover::settlement::assertions_logged(l1, &log)
        .unwrap()
        .into_iter()
        .find(|a| {
            a.data.batchNumber == batch
                && view(l1, deployment.rollup, Rollup::assertionCall { id: a.id })
                    .unwrap()
                    .status
                    == 2
        })
        .expect("a confirmed assertion of the withdrawal's batch");
    let (withdrawal, proof) = withdrawal_claim(&found, recipient.address().into_array(), amount);
    // The withdrawal delay counts from the confirmation.
    let payable_at = view(
        l1,
        deployment.rollup,
        Rollup::withdrawalPayableAtCall {
            id: assertion.id,
            amount,
        },
    )
    .unwrap();
    let (_, now) = l1.head().unwrap();
    l1.advance_time(payable_at.saturating_sub(now)).unwrap();
    let before = l1.balance(recipient.address()).unwrap();
    let paid = finalize_withdrawal(
        l1,
        &wallet(0x5F),
        deployment,
        assertion.id,
        &withdrawal,
        proof,
    )
    .unwrap();
    assert!(paid.outcome.is_ok(), "{:?}", paid.outcome);
    assert_eq!(
        l1.balance(recipient.address()).unwrap(),
        before + U256::from(amount)
    );
}

fn tx_hash(bytes: &[u8]) -> String {
    hex(&keccak256(bytes))
}

#[test]
fn a_censored_withdrawal_is_forced_through_l1_and_paid() {
    let (sequencer, validator, user) = (wallet(0x51), wallet(0x52), wallet(0x53));
    let alice_key = alice();
    let alice = address_of(&alice_key);
    let (dir, mut l1, deployment) = chain("censor", &sequencer, &[&validator, &user]);
    let mut seq = node(
        &dir,
        "seq",
        Role::Sequencer,
        &sequencer,
        &deployment,
        &mut l1,
        Some(Fault::Censor(alice)),
    );
    let mut val = node(
        &dir,
        "val",
        Role::Validator,
        &validator,
        &deployment,
        &mut l1,
        None,
    );

    // Alice's deposit goes in like anyone's.
    deposit(&mut l1, &user, &deployment, alice, 5 * ETHER);
    settle(&mut [&mut seq, &mut val], &mut l1);
    assert_eq!(l2_balance(&val, alice), 5 * ETHER);

    // Her withdrawal, sent to the sequencer, never makes a batch.
    let withdraw = sign_withdraw(&alice_key, 77, user.address().into_array(), 2 * ETHER, 0);
    let bytes = withdraw.to_bytes().unwrap();
    send(&url(&seq), withdraw).unwrap();
    turns_for(&mut [&mut seq, &mut val], &mut l1, 2);
    assert_eq!(l2_balance(&val, alice), 5 * ETHER);

    // She forces it through L1; the sequencer holds the queue back while it may...
    let (index, receipt) = force_transaction(&mut l1, &user, &deployment, &bytes).unwrap();
    eprintln!(
        "forceTransaction ({} bytes): {} gas",
        bytes.len(),
        receipt.gas_used
    );
    turns_for(&mut [&mut seq, &mut val], &mut l1, 2);
    let consumed = view(&mut l1, deployment.inbox, Inbox::delayedConsumedCall {}).unwrap();
    assert_eq!(
        consumed, index,
        "the censor left the forced transaction out"
    );
    assert_eq!(l2_balance(&val, alice), 5 * ETHER);

    // ...and once it is overdue, it must include it: a batch without it is refused.
    l1.advance_time(FORCE_DELAY + 1).unwrap();
    let done = turns_until(&mut [&mut seq, &mut val], &mut l1, |_, nodes| {
        nodes.iter().all(|n| l2_balance(n, alice) == 3 * ETHER)
    });
    assert!(done.alerts.is_empty(), "{:?}", done.alerts);
    assert_eq!(l2_balance(&seq, alice), 3 * ETHER);

    l1.advance_time(PERIOD + 1).unwrap();
    let actions = settle(&mut [&mut seq, &mut val], &mut l1).actions;
    assert!(
        actions.iter().any(|a| matches!(a, Action::Confirmed(_))),
        "{actions:?}"
    );
    claim(
        &mut l1,
        &val,
        &deployment,
        &tx_hash(&bytes),
        &user,
        2 * ETHER,
    );
    seq.stop();
    val.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_chain_outlives_its_sequencer() {
    let (sequencer, validator, user) = (wallet(0x51), wallet(0x52), wallet(0x53));
    let alice_key = alice();
    let alice = address_of(&alice_key);
    let (dir, mut l1, deployment) = chain("silent", &sequencer, &[&validator, &user]);
    // The sequencer deployed the rollup and was never heard of again.
    let mut val = node(
        &dir,
        "val",
        Role::Validator,
        &validator,
        &deployment,
        &mut l1,
        None,
    );
    deposit(&mut l1, &user, &deployment, alice, 5 * ETHER);
    let withdraw = sign_withdraw(&alice_key, 77, user.address().into_array(), 2 * ETHER, 0);
    // A validator takes no transactions while the sequencer may still post.
    let early = send(&url(&val), withdraw.clone());
    assert!(early.is_err(), "{early:?}");
    turns_for(&mut [&mut val], &mut l1, 2);
    assert_eq!(
        view(&mut l1, deployment.inbox, Inbox::batchCountCall {}).unwrap(),
        0
    );

    // Anyone forces the deposit in once it is overdue.
    l1.advance_time(FORCE_DELAY + 1).unwrap();
    let forced = force_include_overdue(&mut l1, &user, &deployment).unwrap();
    assert_eq!(forced, vec![1]);
    assert!(force_include_overdue(&mut l1, &user, &deployment)
        .unwrap()
        .is_empty());
    turns_until(&mut [&mut val], &mut l1, |_, nodes| {
        l2_balance(nodes[0], alice) == 5 * ETHER
    });
    assert!(send(&url(&val), withdraw.clone()).is_err());

    // Past the sequencer's timeout the validator takes Alice's withdrawal, posts it, asserts
    // both batches, and they confirm.
    l1.advance_time(SEQUENCER_TIMEOUT).unwrap();
    turns_for(&mut [&mut val], &mut l1, 1);
    let bytes = withdraw.to_bytes().unwrap();
    let hash = send(&url(&val), withdraw).unwrap();
    assert_eq!(hash, tx_hash(&bytes));
    // (It gives the sequencer a few seconds to assert first.)
    let done = turns_until(&mut [&mut val], &mut l1, |l1, _| {
        view(l1, deployment.rollup, Rollup::assertionCountCall {}).unwrap() >= 3
    });
    assert_eq!(
        view(&mut l1, deployment.inbox, Inbox::batchCountCall {}).unwrap(),
        2
    );
    let asserted = done
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Asserted { .. }))
        .count();
    assert_eq!(asserted, 2, "{:?}", done.actions);
    assert_eq!(l2_balance(&val, alice), 3 * ETHER);
    l1.advance_time(PERIOD + 1).unwrap();
    settle(&mut [&mut val], &mut l1);
    claim(&mut l1, &val, &deployment, &hash, &user, 2 * ETHER);
    val.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn batches_posted_through_a_contract_are_followed_and_disputed() {
    let (sequencer, validator, user) = (wallet(0x51), wallet(0x52), wallet(0x53));
    let alice_key = alice();
    let alice = address_of(&alice_key);
    let (dir, mut l1, deployment) = chain("forwarded", &sequencer, &[&validator, &user]);
    let wallet_contract = l1
        .deploy(&user, forwarder_init_code(deployment.inbox))
        .unwrap();
    let through = |l1: &mut EmbeddedL1, value: u128, call: Vec<u8>| {
        l1.send(&user, wallet_contract, U256::from(value), call)
            .unwrap()
    };
    // A deposit and a forced batch, both from the smart wallet.
    let call = Inbox::depositCall {
        l2Recipient: alice.into(),
    }
    .abi_encode();
    through(&mut l1, 5 * ETHER, call).success().unwrap();
    l1.advance_time(FORCE_DELAY + 1).unwrap();
    let log = L1Log::read(&mut l1, &deployment).unwrap();
    let delayed = pending_delayed(&mut l1, &log, usize::MAX).unwrap();
    let receipt = through(&mut l1, 0, Inbox::forceIncludeCall { delayed }.abi_encode())
        .success()
        .unwrap();
    assert!(contracts::events::<Inbox::BatchPosted>(&receipt.logs).len() == 1);

    // After the sequencer's timeout, a batch of Alice's transfer, posted by the smart wallet: its
    // calldata is not the transaction's, so the inbox logs it.
    l1.advance_time(SEQUENCER_TIMEOUT).unwrap();
    let section =
        program::ledger::TransactionList(vec![sign_transfer(&alice_key, 77, [0xB0; 20], ETHER, 0)
            .to_bytes()
            .unwrap()])
        .to_bytes()
        .unwrap();
    let call = Inbox::postBatchCall {
        transactions: contracts::bytes(&section),
        delayed: vec![],
    }
    .abi_encode();
    let receipt = through(&mut l1, 0, call).success().unwrap();
    let data = contracts::events::<Inbox::BatchData>(&receipt.logs);
    assert_eq!(data.len(), 1);
    assert_eq!(data[0].0.transactions.to_vec(), section);
    // The sequencer's own batches, sent directly, log nothing more.
    let direct = prover::settlement::post_batch(&mut l1, &sequencer, &deployment, &section)
        .unwrap()
        .1;
    assert!(contracts::events::<Inbox::BatchData>(&direct.logs).is_empty());

    // Both nodes follow the forwarded batches; the sequencer lies about batch 1 and loses.
    let mut seq = node(
        &dir,
        "seq",
        Role::Sequencer,
        &sequencer,
        &deployment,
        &mut l1,
        Some(Fault::WrongRoot),
    );
    let mut val = node(
        &dir,
        "val",
        Role::Validator,
        &validator,
        &deployment,
        &mut l1,
        None,
    );
    let done = settle(&mut [&mut seq, &mut val], &mut l1);
    assert!(done.alerts.is_empty(), "{:?}", done.alerts);
    assert!(
        done.actions.contains(&Action::Asserted {
            id: 1,
            batch: 1,
            lie: true
        }),
        "{:?}",
        done.actions
    );
    assert!(
        done.played("challengeAssertion", &validator),
        "{:?}",
        done.played
    );
    let lie = view(&mut l1, deployment.rollup, Rollup::assertionCall { id: 1 }).unwrap();
    assert_eq!(lie.status, 3, "the lie about a forwarded batch is rejected");
    for n in [&seq, &val] {
        assert_eq!(l2_balance(n, alice), 4 * ETHER);
        assert_eq!(l2_balance(n, [0xB0; 20]), ETHER);
    }
    seq.stop();
    val.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The validator's provider forges the amount of every deposit from queue index 1 on.
fn forging_deposits(from_index: u64) -> LogFilter {
    Box::new(move |_, _, mut logs| {
        for log in &mut logs {
            if let Ok(mut event) =
                contracts::events::<Inbox::DepositQueued>(std::slice::from_ref(log))
                    .pop()
                    .map(|(event, _)| event)
                    .ok_or(())
            {
                if event.index >= from_index {
                    event.amount += 1;
                    let encoded = event.encode_log_data();
                    log.data = encoded.data;
                }
            }
        }
        Ok(logs)
    })
}

#[test]
fn a_provider_that_forges_a_batch_raises_an_alert_and_the_game_goes_on() {
    let (sequencer, validator, user) = (wallet(0x51), wallet(0x52), wallet(0x53));
    let (dir, mut l1, deployment) = chain("forged", &sequencer, &[&validator, &user]);
    let mut seq = node(
        &dir,
        "seq",
        Role::Sequencer,
        &sequencer,
        &deployment,
        &mut l1,
        Some(Fault::WrongRoot),
    );
    let mut filter = forging_deposits(1);
    let mut val = {
        let mut provider = Provider::new(&mut l1, &mut filter);
        node(
            &dir,
            "val",
            Role::Validator,
            &validator,
            &deployment,
            &mut provider,
            None,
        )
    };
    // Batches 1 and 2 before the validator's first turn: it applies batch 1, cannot rebuild
    // batch 2 (its provider forges that deposit), and must still play the game over batch 1.
    for (n, to) in [(1, [0xA1; 20]), (2, [0xA2; 20])] {
        deposit(&mut l1, &user, &deployment, to, ETHER);
        turns_until(&mut [&mut seq], &mut l1, |l1, _| {
            view(l1, deployment.inbox, Inbox::batchCountCall {}).unwrap() >= n
        });
    }
    let mut alerts = Vec::new();
    let mut played = Vec::new();
    let mut moves_after_alert = 0;
    for _ in 0..600 {
        let seq_turn = seq.turn(&mut l1, &mut |_| {}).unwrap();
        let val_turn = {
            let mut provider = Provider::new(&mut l1, &mut filter);
            val.turn(&mut provider, &mut |_| {}).unwrap()
        };
        alerts.extend(val_turn.alerts.clone());
        played.extend(val_turn.played.clone());
        eprintln!(
            "seq {:?} {:?} / val {:?} {:?}",
            seq_turn.actions, seq_turn.played, val_turn.actions, val_turn.played
        );
        // Moves the validator made after it first raised the alert: the game went on.
        if !alerts.is_empty() {
            moves_after_alert += val_turn
                .played
                .iter()
                .filter(|p| p.refused.is_none())
                .count();
        }
        let lie = view(&mut l1, deployment.rollup, Rollup::assertionCall { id: 1 }).unwrap();
        if lie.status == 3 {
            break;
        }
        if seq_turn.is_idle() && val_turn.is_idle() {
            l1.advance_time(10).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let lie = view(&mut l1, deployment.rollup, Rollup::assertionCall { id: 1 }).unwrap();
    assert_eq!(
        lie.status, 3,
        "the validator won its game; alerts: {alerts:?}"
    );
    assert!(
        played
            .iter()
            .any(|p| p.kind == "challengeAssertion" && p.refused.is_none()),
        "{played:?}"
    );
    assert!(
        alerts
            .iter()
            .any(|a| a.contains("batch 2 cannot be rebuilt")),
        "{alerts:?}"
    );
    assert!(moves_after_alert > 0, "{played:?}");
    // Raised once for as long as it lasts, not every turn.
    let raised = alerts
        .iter()
        .filter(|a| a.contains("batch 2 cannot be rebuilt"))
        .count();
    assert_eq!(raised, 1, "{alerts:?}");
    let latest = url(&val).call("hb_latestBatch", json!([])).unwrap();
    assert_eq!(
        latest["batch"], 1,
        "the validator did not follow past the forged batch"
    );
    seq.stop();
    val.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Deposits (20,000; 2,000 under CI; `EXITS_DEPOSITS` to choose) of 1 wei each, batched by the
/// sequencer; then a fresh validator catches up through a provider that answers at most 1,000
/// blocks and 10,000 logs (scaled with the count) per request.
#[test]
fn a_fresh_validator_catches_up_on_many_deposits_through_a_capped_provider() {
    let count = common::scaled_count("EXITS_DEPOSITS", 2_000, 20_000);
    let (sequencer, validator, user) = (wallet(0x51), wallet(0x52), wallet(0x53));
    let (dir, mut l1, deployment) = chain("capped", &sequencer, &[&validator, &user]);
    let mut seq = node(
        &dir,
        "seq",
        Role::Sequencer,
        &sequencer,
        &deployment,
        &mut l1,
        None,
    );
    for i in 0..count {
        let mut to = [0xD0; 20];
        to[12..].copy_from_slice(&i.to_be_bytes());
        deposit(&mut l1, &user, &deployment, to, 1);
    }
    settle(&mut [&mut seq], &mut l1);
    let batches = view(&mut l1, deployment.inbox, Inbox::batchCountCall {}).unwrap();
    assert!(batches >= count.div_ceil(1000), "{batches} batches");
    let root = url(&seq).call("hb_latestBatch", json!([])).unwrap()["state_root"].clone();

    // The provider (1,000 blocks, 10,000 logs a request), then a far meaner one
    // (100 blocks, 50 logs), whose refusals the node halves its pages for.
    for (name, max_blocks, max_results) in [("val", 1_000, 10_000), ("val-mean", 100, 50)] {
        let mut filter = capped(max_blocks, max_results);
        let mut provider = Provider::new(&mut l1, &mut filter);
        let mut val = node(
            &dir,
            name,
            Role::Validator,
            &validator,
            &deployment,
            &mut provider,
            None,
        );
        let turn = val.turn(&mut provider, &mut |_| {}).unwrap();
        assert!(turn.alerts.is_empty(), "{:?}", turn.alerts);
        let latest = url(&val).call("hb_latestBatch", json!([])).unwrap();
        assert_eq!(
            (
                latest["batch"].as_u64().unwrap(),
                latest["state_root"].clone()
            ),
            (batches, root.clone())
        );
        eprintln!(
            "{count} deposits, {batches} batches, caps {max_blocks} blocks / {max_results} logs: {} log requests answered, {} refused",
            provider.requests, provider.refused
        );
        if max_results == 50 {
            assert!(
                provider.refused > 0,
                "the caps were hit and the pages halved"
            );
        }
        // A second turn reads only the blocks since the first.
        let before = provider.requests;
        val.turn(&mut provider, &mut |_| {}).unwrap();
        assert!(
            provider.requests - before <= 4,
            "{} requests",
            provider.requests - before
        );
        val.stop();
    }
    seq.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

fn refusal(receipt: verifier::l1::TxReceipt) -> String {
    receipt.outcome.unwrap_err().error
}

/// The inbox's rules for forced transactions and the sequencer's timeout, each refusal by name.
#[test]
fn the_inbox_takes_forced_transactions_and_opens_to_all_after_the_timeout() {
    let (sequencer, user) = (wallet(0x51), wallet(0x53));
    let (dir, mut l1, deployment) = chain("inbox-rules", &sequencer, &[&user]);
    let inbox = deployment.inbox;
    let force = |l1: &mut EmbeddedL1, bytes: Vec<u8>| {
        contracts::send(
            l1,
            &user,
            inbox,
            U256::ZERO,
            Inbox::forceTransactionCall {
                transaction: contracts::bytes(&bytes),
            },
        )
        .unwrap()
    };
    let limit = program::ledger::MAX_FORCED_TRANSACTION_BYTES;
    assert!(refusal(force(&mut l1, vec![])).starts_with("BadForcedTransaction(0)"));
    assert!(refusal(force(&mut l1, vec![7; limit + 1])).starts_with("BadForcedTransaction"));
    // The longest is queued (and, not decoding, will cost only its own receipt).
    force(&mut l1, vec![7; limit]).success().unwrap();
    let bytes = sign_withdraw(&alice(), 77, user.address().into_array(), 1, 0)
        .to_bytes()
        .unwrap();
    let queued = force(&mut l1, bytes.clone()).success().unwrap();
    assert_eq!(view(&mut l1, inbox, Inbox::delayedCountCall {}).unwrap(), 2);
    // When it may be forced, as read back from its accumulator word: its queueing time + delay.
    let (event, _) = contracts::events::<Inbox::TransactionForced>(&queued.logs)
        .pop()
        .unwrap();
    assert_eq!(event.index, 1);
    assert_eq!(
        prover::settlement::forceable_at(&mut l1, &deployment, 1).unwrap(),
        event.timestamp + FORCE_DELAY
    );

    let post = |l1: &mut EmbeddedL1, from: &Wallet, delayed| {
        contracts::send(
            l1,
            from,
            inbox,
            U256::ZERO,
            Inbox::postBatchCall {
                transactions: contracts::bytes(&[0]),
                delayed,
            },
        )
        .unwrap()
    };
    let log = L1Log::read(&mut l1, &deployment).unwrap();
    let pending = pending_delayed(&mut l1, &log, usize::MAX).unwrap();
    assert_eq!(pending.len(), 2);
    // A record that is not what was queued: other bytes, or the two out of order.
    let mut forged = pending.clone();
    forged[1].transaction = contracts::bytes(&bytes[..bytes.len() - 1]);
    assert_eq!(
        refusal(post(&mut l1, &sequencer, forged)),
        "BadDelayedRecords()"
    );
    let swapped = vec![pending[1].clone(), pending[0].clone()];
    assert_eq!(
        refusal(post(&mut l1, &sequencer, swapped)),
        "BadDelayedRecords()"
    );
    // Anyone else is refused until the sequencer has been silent for the timeout.
    let refused = refusal(post(&mut l1, &user, vec![]));
    assert!(refused.starts_with("NotSequencer"), "{refused}");
    // Overdue messages must be consumed, by any poster.
    l1.advance_time(SEQUENCER_TIMEOUT).unwrap();
    let overdue = refusal(post(&mut l1, &user, vec![]));
    assert!(overdue.starts_with("DelayedOverdue(0"), "{overdue}");
    let receipt = post(&mut l1, &user, vec![pending[0].clone()])
        .success()
        .unwrap();
    assert!(contracts::events::<Inbox::BatchData>(&receipt.logs).is_empty());
    // The sequencer posts again: the inbox is its own once more.
    post(&mut l1, &sequencer, vec![pending[1].clone()])
        .success()
        .unwrap();
    let refused = refusal(post(&mut l1, &user, vec![]));
    assert!(refused.starts_with("NotSequencer"), "{refused}");

    // Both batches rebuild from L1 and commit to what the inbox stored.
    let first = prover::settlement::fetch_batch(&mut l1, &deployment, 1).unwrap();
    let second = prover::settlement::fetch_batch(&mut l1, &deployment, 2).unwrap();
    assert_eq!(
        first.delayed,
        vec![program::ledger::DelayedMessage::Transaction(vec![7; limit])]
    );
    assert_eq!(
        second.delayed,
        vec![program::ledger::DelayedMessage::Transaction(bytes)]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A deployment whose batches could not carry the longest forced transaction is refused.
#[test]
fn a_batch_limit_below_the_longest_forced_transaction_is_refused() {
    let sequencer = wallet(0x51);
    let mut l1 = EmbeddedL1::new().unwrap();
    l1.set_balance(sequencer.address(), U256::from(ETHER))
        .unwrap();
    let guest = prover::StfGuest::new(program::STF_WASM).unwrap();
    let opening = prover::settlement::initial_opening(&guest).unwrap();
    let mut config = exits_config()
        .settlement(sequencer.address(), program::EMPTY_ROOT.into(), &opening)
        .unwrap();
    config.max_deposits_per_batch = 10;
    config.max_batch_bytes = 16_449;
    let refused = verifier::settlement::deploy(&mut l1, &sequencer, &config).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("batch bytes below a forced tx"),
        "{refused}"
    );
    config.max_batch_bytes = 16_450;
    verifier::settlement::deploy(&mut l1, &sequencer, &config).unwrap();
}

/// A provider that forges a batch's calldata: the transactions no longer hash to what the inbox
/// logged, so the validator raises an alert and does not follow past the batch before it.
#[test]
fn a_provider_that_forges_calldata_is_caught() {
    let (sequencer, validator, user) = (wallet(0x51), wallet(0x52), wallet(0x53));
    let alice_key = alice();
    let alice = address_of(&alice_key);
    let (dir, mut l1, deployment) = chain("forged-calldata", &sequencer, &[&validator, &user]);
    let mut seq = node(
        &dir,
        "seq",
        Role::Sequencer,
        &sequencer,
        &deployment,
        &mut l1,
        None,
    );
    deposit(&mut l1, &user, &deployment, alice, 5 * ETHER);
    settle(&mut [&mut seq], &mut l1);
    send(
        &url(&seq),
        sign_transfer(&alice_key, 77, [0xB0; 20], ETHER, 0),
    )
    .unwrap();
    settle(&mut [&mut seq], &mut l1);
    assert_eq!(
        view(&mut l1, deployment.inbox, Inbox::batchCountCall {}).unwrap(),
        2
    );

    let mut filter = providers::honest();
    let mut provider = Provider::new(&mut l1, &mut filter);
    provider.forge_calldata = true;
    let mut val = node(
        &dir,
        "val",
        Role::Validator,
        &validator,
        &deployment,
        &mut provider,
        None,
    );
    let turn = val.turn(&mut provider, &mut |_| {}).unwrap();
    let forged = turn
        .alerts
        .iter()
        .any(|a| a.contains("batch 2 cannot be rebuilt"));
    assert!(forged, "{:?}", turn.alerts);
    let latest = url(&val).call("hb_latestBatch", json!([])).unwrap();
    assert_eq!(latest["batch"], 1);
    seq.stop();
    val.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}
