//! Nodes on the embedded L1 kept in a data dir, driven turn by turn in this process: a
//! sequencer (told to lie once with `Fault::WrongRoot`) and an independent validator, users going
//! through the sequencer's RPC. What must show: the deposit, transfers and a withdrawal; the lie
//! challenged by the validator and lost on chain, the bond moved, the honest chain going on; the
//! assertions confirmed, the withdrawal paid on L1 with the node's proof; and, after both nodes
//! and the L1 are reopened from disk, the same state.

#[path = "common/nodes.rs"]
mod harness;

use harness::*;
use program::{address_of, sign_transfer, sign_withdraw, SigningKey};
use prover::config::RollupConfig;
use prover::node::client::ClientError;
use prover::node::duties::{Action, Fault};
use prover::node::service::{follow_wall_clock, open_embedded, Role};
use prover::settlement::finalize_withdrawal;
use serde_json::json;
use verifier::l1::{L1, U256};
use verifier::settlement::contracts::{self, view, Inbox, Rollup, ETHER};

#[test]
fn a_lie_is_caught_the_chain_goes_on_and_a_withdrawal_is_paid_across_restarts() {
    let dir = fresh_dir("e2e");
    let sequencer = wallet(0x51);
    let validator = wallet(0x52);
    let user = wallet(0x53);
    let alice_key = SigningKey::from_slice(&[0xA1; 32]).unwrap();
    let alice = address_of(&alice_key);
    let bob = [0xB0; 20];

    let (mut l1, deployment) = open_embedded(&dir.join("l1"), &sequencer, &config()).unwrap();
    follow_wall_clock(&mut l1).unwrap();
    l1.set_balance(validator.address(), U256::from(100 * ETHER))
        .unwrap();
    l1.set_balance(user.address(), U256::from(100 * ETHER))
        .unwrap();
    let mut seq = start(
        &dir.join("seq"),
        Role::Sequencer,
        &sequencer,
        &deployment,
        &mut l1,
        Some(Fault::WrongRoot),
    );
    let mut val = start(
        &dir.join("val"),
        Role::Validator,
        &validator,
        &deployment,
        &mut l1,
        None,
    );

    // A deposit makes batch 1; the sequencer's first assertion lies about it.
    contracts::send(
        &mut l1,
        &user,
        deployment.inbox,
        U256::from(5 * ETHER),
        Inbox::depositCall {
            l2Recipient: alice.into(),
        },
    )
    .unwrap()
    .success()
    .unwrap();
    let validator_before = l1.balance(validator.address()).unwrap();
    let done = settle(&mut [&mut seq, &mut val], &mut l1);
    let actions = &done.actions;
    assert!(
        actions.contains(&Action::Asserted {
            id: 1,
            batch: 1,
            lie: true
        }),
        "{actions:?}"
    );
    assert!(
        done.played("challengeAssertion", &validator),
        "{:?}",
        done.played
    );
    // The honest chain goes on: batch 1 asserted again, truthfully, on genesis.
    assert!(
        actions.contains(&Action::Asserted {
            id: 2,
            batch: 1,
            lie: false
        }),
        "{actions:?}"
    );
    let lie = view(&mut l1, deployment.rollup, Rollup::assertionCall { id: 1 }).unwrap();
    assert_eq!(lie.status, 3, "the lie is rejected");
    // The stake moved: the validator got its bonds back and half the liar's stake (it collects
    // its credits itself), while its own stake, if it asserted the truth, backs it; it paid gas
    // for its moves.
    let validator_after = l1.balance(validator.address()).unwrap();
    let staked = view(
        &mut l1,
        deployment.rollup,
        Rollup::stakeOfCall {
            staker: validator.address(),
        },
    )
    .unwrap();
    let stake = if staked.active { ETHER } else { 0 };
    assert!(
        validator_after + U256::from(stake)
            > validator_before + U256::from(ETHER / 2 - ETHER / 100),
        "{validator_before} -> {validator_after}"
    );

    // Users through the sequencer's RPC: a transfer, a withdrawal, and refusals.
    let rpc = url(&seq);
    assert_eq!(balance(&rpc, alice), 5 * ETHER);
    send(&rpc, sign_transfer(&alice_key, 77, bob, ETHER, 0)).unwrap();
    let withdraw = send(
        &rpc,
        sign_withdraw(&alice_key, 77, user.address().into_array(), 2 * ETHER, 1),
    )
    .unwrap();
    let refused = send(&rpc, sign_transfer(&alice_key, 77, bob, 3 * ETHER, 2));
    assert!(
        matches!(refused, Err(ClientError::Rpc { code: -32003, .. })),
        "{refused:?}"
    );
    let replayed = send(&rpc, sign_transfer(&alice_key, 77, bob, ETHER, 0));
    assert!(
        matches!(replayed, Err(ClientError::Rpc { code: -32003, .. })),
        "{replayed:?}"
    );
    let actions = settle(&mut [&mut seq, &mut val], &mut l1).actions;
    assert!(
        actions.contains(&Action::Asserted {
            id: 3,
            batch: 2,
            lie: false
        }),
        "{actions:?}"
    );
    for node in [&rpc, &url(&val)] {
        assert_eq!(balance(node, alice), 2 * ETHER);
        assert_eq!(balance(node, bob), ETHER);
    }
    let found = url(&val)
        .call("hb_getWithdrawal", json!([withdraw]))
        .unwrap();
    assert_eq!(found["batch"], 2);

    // Kill both nodes and the chain, reopen everything from disk.
    let seq_root = url(&seq).call("hb_latestBatch", json!([])).unwrap()["state_root"].clone();
    seq.stop();
    val.stop();
    drop(l1);
    let (mut l1, reopened) = open_embedded(&dir.join("l1"), &sequencer, &config()).unwrap();
    assert_eq!(reopened, deployment);
    let mut seq = start(
        &dir.join("seq"),
        Role::Sequencer,
        &sequencer,
        &deployment,
        &mut l1,
        None,
    );
    let mut val = start(
        &dir.join("val"),
        Role::Validator,
        &validator,
        &deployment,
        &mut l1,
        None,
    );
    for node in [&seq, &val] {
        let latest = url(node).call("hb_latestBatch", json!([])).unwrap();
        assert_eq!(
            (latest["batch"].clone(), latest["state_root"].clone()),
            (json!(2), seq_root.clone())
        );
    }

    // The period passes: the validator confirms both assertions; the claim is paid once.
    l1.advance_time(PERIOD + 1).unwrap();
    let actions = settle(&mut [&mut seq, &mut val], &mut l1).actions;
    assert!(
        actions.contains(&Action::Confirmed(2)) && actions.contains(&Action::Confirmed(3)),
        "{actions:?}"
    );
    for node in [&seq, &val] {
        let latest = url(node).call("hb_latestBatch", json!([])).unwrap();
        assert_eq!(latest["confirmed_batch"], 2, "{latest}");
    }
    let (withdrawal, proof) = withdrawal_claim(&found, user.address().into_array(), 2 * ETHER);
    // The withdrawal delay counts from the confirmation.
    l1.advance_time(PERIOD).unwrap();
    let before = l1.balance(user.address()).unwrap();
    let paid = finalize_withdrawal(
        &mut l1,
        &wallet(0x54),
        &deployment,
        3,
        &withdrawal,
        proof.clone(),
    )
    .unwrap();
    assert!(paid.outcome.is_ok(), "{:?}", paid.outcome);
    assert_eq!(
        l1.balance(user.address()).unwrap(),
        before + U256::from(2 * ETHER)
    );
    let again = finalize_withdrawal(&mut l1, &user, &deployment, 3, &withdrawal, proof).unwrap();
    assert!(again.outcome.unwrap_err().error.starts_with("AlreadyPaid"));
    seq.stop();
    val.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Whole-claim agreement: an assertion whose outputs are right but whose final machine (a byte of
/// its hot part, not its status or module) or step count is not is challenged by an honest node
/// and rejected; the node builds on its own assertion of the same outputs, which confirms.
#[test]
fn right_outputs_with_a_wrong_machine_or_step_count_are_challenged_and_rejected() {
    let dir = fresh_dir("whole-claim");
    let sequencer = wallet(0x51);
    let forger = wallet(0x55);
    let user = wallet(0x53);
    let (mut l1, deployment) = open_embedded(&dir.join("l1"), &sequencer, &config()).unwrap();
    follow_wall_clock(&mut l1).unwrap();
    for who in [&forger, &user] {
        l1.set_balance(who.address(), U256::from(100 * ETHER))
            .unwrap();
    }
    contracts::send(
        &mut l1,
        &user,
        deployment.inbox,
        U256::from(ETHER),
        Inbox::depositCall {
            l2Recipient: [0xA1; 20].into(),
        },
    )
    .unwrap()
    .success()
    .unwrap();
    let guest = prover::StfGuest::new(program::STF_WASM).unwrap();
    prover::settlement::post_batch(&mut l1, &sequencer, &deployment, &[0]).unwrap();
    let batch = prover::settlement::fetch_batch(&mut l1, &deployment, 1).unwrap();
    let genesis = prover::settlement::genesis_assertion(&mut l1, &deployment).unwrap();
    let truth =
        prover::settlement::run_claim(&guest, &batch, &genesis, program::NodeStore::new()).unwrap();
    // Two forgeries with the true outputs: another machine (the pc byte of the hot part), and
    // one step more (the same final machine).
    let mut other_machine = truth.clone();
    other_machine.final_state.hot[30] ^= 1;
    let mut more_steps = truth.clone();
    more_steps.steps += 1;
    let mut forged = Vec::new();
    for (claim, from) in [(&other_machine, &forger), (&more_steps, &wallet(0x56))] {
        l1.set_balance(from.address(), U256::from(100 * ETHER))
            .unwrap();
        let (record, _) =
            prover::settlement::assert_batch(&mut l1, from, &deployment, &genesis, &batch, claim)
                .unwrap();
        assert_eq!(
            record.outputs, truth.outputs,
            "the outputs are the true ones"
        );
        forged.push(record.id);
    }
    let mut node = start(
        &dir.join("seq"),
        Role::Sequencer,
        &sequencer,
        &deployment,
        &mut l1,
        None,
    );
    let done = settle(&mut [&mut node], &mut l1);
    for id in &forged {
        assert!(
            done.played
                .iter()
                .any(|p| p.kind == "challengeAssertion" && p.assertion == *id),
            "assertion {id} not challenged: {:?}",
            done.played
        );
        let state = view(
            &mut l1,
            deployment.rollup,
            Rollup::assertionCall { id: *id },
        )
        .unwrap();
        assert_eq!(state.status, 3, "assertion {id} is rejected");
    }
    // The node asserted the whole truth itself, and it confirms after the period.
    assert!(
        done.actions.contains(&Action::Asserted {
            id: 3,
            batch: 1,
            lie: false
        }),
        "{:?}",
        done.actions
    );
    l1.advance_time(PERIOD + 1).unwrap();
    let done = settle(&mut [&mut node], &mut l1);
    assert!(
        done.actions.contains(&Action::Confirmed(3)),
        "{:?}",
        done.actions
    );
    node.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn state_caching_and_parallel_recovery_off_give_the_same_state_by_the_slow_path() {
    let dir = fresh_dir("switches");
    let sequencer = wallet(0x61);
    let validator = wallet(0x62);
    let user = wallet(0x63);
    let alice_key = SigningKey::from_slice(&[0xA2; 32]).unwrap();
    let alice = address_of(&alice_key);

    let (mut l1, deployment) = open_embedded(&dir.join("l1"), &sequencer, &config()).unwrap();
    follow_wall_clock(&mut l1).unwrap();
    l1.set_balance(validator.address(), U256::from(100 * ETHER))
        .unwrap();
    l1.set_balance(user.address(), U256::from(100 * ETHER))
        .unwrap();
    // The sequencer with the defaults (both on), the validator with both off.
    let mut seq = start(
        &dir.join("seq"),
        Role::Sequencer,
        &sequencer,
        &deployment,
        &mut l1,
        None,
    );
    let mut val = start_with(
        RollupConfig {
            enable_state_caching: false,
            enable_parallel_execution: false,
            ..config()
        },
        &dir.join("val"),
        Role::Validator,
        &validator,
        &deployment,
        &mut l1,
        None,
    );
    contracts::send(
        &mut l1,
        &user,
        deployment.inbox,
        U256::from(5 * ETHER),
        Inbox::depositCall {
            l2Recipient: alice.into(),
        },
    )
    .unwrap()
    .success()
    .unwrap();
    settle(&mut [&mut seq, &mut val], &mut l1);
    let rpc = url(&seq);
    send(&rpc, sign_transfer(&alice_key, 77, [0xB1; 20], ETHER, 0)).unwrap();
    send(&rpc, sign_transfer(&alice_key, 77, [0xB2; 20], ETHER, 1)).unwrap();
    let done = settle(&mut [&mut seq, &mut val], &mut l1);
    assert!(
        done.actions
            .iter()
            .all(|a| !matches!(a, Action::Asserted { lie: true, .. })),
        "{:?}",
        done.actions
    );

    let (seq_head, seq_loads, seq_recovered) = {
        let node = seq.state().lock().unwrap();
        (
            node.db.head().unwrap(),
            node.db.node_loads(),
            node.recovered.is_some(),
        )
    };
    let (val_head, val_loads, val_recovered) = {
        let node = val.state().lock().unwrap();
        (
            node.db.head().unwrap(),
            node.db.node_loads(),
            node.recovered.is_some(),
        )
    };
    assert!(seq_head.batch >= 2, "{seq_head:?}");
    assert_eq!(
        seq_head, val_head,
        "the same batches give the same state root"
    );
    assert_eq!(balance(&url(&val), [0xB2; 20]), ETHER);
    // The paths taken: kept in memory and recovered up front, against read again from disk
    // after every batch (and the genesis head) and recovered one by one inside the run.
    assert_eq!(seq_loads, 1);
    assert_eq!(val_loads, 1 + 1 + seq_head.batch);
    assert!(seq_recovered);
    assert!(!val_recovered);
    seq.stop();
    val.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}
