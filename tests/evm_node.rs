//! Nodes of an EVM rollup on the embedded L1, driven turn by turn in this process: a sequencer
//! (told to lie once with `Fault::WrongRoot`) and an independent validator, users talking
//! Ethereum JSON-RPC to them. What must show: a deposit soft-confirmed in a block before its batch
//! is posted; a transfer's receipt served at once from a soft block and unchanged once posted
//! (soft == posted: block hash, status, gas); the tags `latest`, `safe`, `finalized` moving in that
//! order; the sequencer's lie about an EVM batch challenged and lost on the EVM guest; a contract
//! deployed and called on both nodes; a withdrawal through the system contract paid on L1; and
//! the soft blocks another poster's batch replaced given up, their transactions included again.

#[path = "common/nodes.rs"]
mod harness;
#[path = "common/l2.rs"]
mod l2;

use std::time::{Duration, Instant};

use alloy::primitives::{Address, TxKind, U256 as U256Alloy};
use alloy_sol_types::SolCall;
use harness::*;
use l2::*;
use program::evm::evm_stf::system::WITHDRAWALS;
use prover::config::{RollupConfig, Stf};
use prover::node::client::NodeClient;
use prover::node::duties::{Action, Fault};
use prover::node::service::{follow_wall_clock, open_embedded, Node, Role};
use prover::settlement::{
    fetch_batch, finalize_withdrawal, force_include_overdue, DataAvailability,
};
use serde_json::{json, Value};
use verifier::l1::{L1, U256};
use verifier::settlement::contracts::{self, Inbox, ETHER};

fn evm_config() -> RollupConfig {
    RollupConfig {
        stf: Stf::Evm,
        chain_id: CHAIN_ID,
        block_time: 0.1,
        ..config()
    }
}

fn quantity(value: &Value) -> u128 {
    let digits = value.as_str().expect("a quantity").trim_start_matches("0x");
    u128::from_str_radix(digits, 16).expect("hex")
}

fn eth_balance(node: &NodeClient, who: Address) -> u128 {
    quantity(&node.call("eth_getBalance", json!([who, "latest"])).unwrap())
}

fn send_raw(node: &NodeClient, raw: &[u8]) -> String {
    node.call("eth_sendRawTransaction", json!([hex(raw)]))
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

/// The receipt once a block holds the transaction (the producer makes one every 0.1 s).
fn receipt(node: &NodeClient, hash: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let receipt = node
            .call("eth_getTransactionReceipt", json!([hash]))
            .unwrap();
        if !receipt.is_null() {
            return receipt;
        }
        assert!(Instant::now() < deadline, "{hash} never mined");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn block_number(node: &NodeClient, tag: &str) -> u64 {
    let block = node
        .call("eth_getBlockByNumber", json!([tag, false]))
        .unwrap();
    quantity(&block["number"]) as u64
}

fn deposit(l1: &mut dyn L1, from: &verifier::l1::Wallet, inbox: Address, to: Address, wei: u128) {
    contracts::send(
        l1,
        from,
        inbox,
        U256::from(wei),
        Inbox::depositCall { l2Recipient: to },
    )
    .unwrap()
    .success()
    .unwrap();
}

fn turns(nodes: &mut [&mut Node], l1: &mut dyn L1, count: usize) -> Vec<String> {
    let mut alerts = Vec::new();
    for _ in 0..count {
        for node in nodes.iter_mut() {
            alerts.extend(node.turn(l1, &mut |_| {}).unwrap().alerts);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    alerts
}

#[test]
fn soft_blocks_are_what_l1_settles_a_lie_about_an_evm_batch_loses_and_a_withdrawal_is_paid() {
    end_to_end(DataAvailability::Calldata);
}

/// The same with every batch posted in blobs (EIP-4844): the validator reads them back from L1,
/// the lie over a blob batch loses, and the withdrawal from a blob batch is paid.
#[test]
fn the_same_with_every_batch_in_blobs() {
    end_to_end(DataAvailability::Blobs);
}

fn end_to_end(availability: DataAvailability) {
    let evm_config = || RollupConfig {
        data_availability: availability,
        ..evm_config()
    };
    let dir = fresh_dir(&format!("evm-e2e-{availability:?}"));
    let sequencer = wallet(0x51);
    let validator = wallet(0x52);
    let user = wallet(0x53);
    let alice = key(0);
    let bob = Address::repeat_byte(0xb0);
    let l1_recipient = Address::repeat_byte(0xe1);

    let (mut l1, deployment) = open_embedded(&dir.join("l1"), &sequencer, &evm_config()).unwrap();
    follow_wall_clock(&mut l1).unwrap();
    for who in [&validator, &user] {
        l1.set_balance(who.address(), U256::from(100 * ETHER))
            .unwrap();
    }
    let start_evm = |dir: &std::path::Path, role, who, fault, l1: &mut dyn L1| {
        start_with(evm_config(), dir, role, who, &deployment, l1, fault)
    };
    let mut seq = start_evm(
        &dir.join("seq"),
        Role::Sequencer,
        &sequencer,
        Some(Fault::WrongRoot),
        &mut l1,
    );
    let mut val = start_evm(&dir.join("val"), Role::Validator, &validator, None, &mut l1);
    let (seq_rpc, val_rpc) = (url(&seq), url(&val));
    let chain_id = seq_rpc.call("eth_chainId", json!([])).unwrap();
    assert_eq!(quantity(&chain_id), CHAIN_ID as u128);

    // The deposit: in a soft block at the sequencer's next turn, before any batch is on L1.
    deposit(&mut l1, &user, deployment.inbox, alice.address(), 5 * ETHER);
    let first = seq.turn(&mut l1, &mut |_| {}).unwrap();
    assert_eq!(eth_balance(&seq_rpc, alice.address()), 5 * ETHER);

    // The first assertion lies about batch 1; the validator challenges and wins on the EVM guest.
    let mut done = settle(&mut [&mut seq, &mut val], &mut l1);
    done.actions.extend(first.actions);
    assert!(
        done.actions
            .iter()
            .any(|a| matches!(a, Action::Asserted { lie: true, .. })),
        "{:?}",
        done.actions
    );
    assert!(
        done.actions
            .iter()
            .any(|a| matches!(a, Action::Asserted { lie: false, .. })),
        "the honest claim is made: {:?}",
        done.actions
    );
    assert!(
        done.played.iter().any(|p| p.kind.contains("prove")),
        "the game reached a one-step proof: {:?}",
        done.played.iter().map(|p| &p.kind).collect::<Vec<_>>()
    );
    assert_eq!(eth_balance(&val_rpc, alice.address()), 5 * ETHER);
    let lie = verifier::settlement::contracts::view(
        &mut l1,
        deployment.rollup,
        verifier::settlement::contracts::Rollup::assertionCall { id: 1 },
    )
    .unwrap();
    assert_eq!(lie.status, 3, "the lie is rejected");

    // A transfer: its receipt comes from a soft block at once, and is the same once posted.
    let transfer = sign_1559(
        &alice,
        0,
        TxKind::Call(bob),
        U256Alloy::from(ETHER),
        vec![],
        21_000,
    );
    let hash = send_raw(&seq_rpc, &transfer);
    let soft = receipt(&seq_rpc, &hash);
    let soft_block = quantity(&soft["blockNumber"]) as u64;
    assert!(
        block_number(&seq_rpc, "safe") < soft_block,
        "not posted yet"
    );
    assert_eq!(eth_balance(&seq_rpc, bob), ETHER);
    settle(&mut [&mut seq, &mut val], &mut l1);
    let posted = receipt(&seq_rpc, &hash);
    for field in [
        "blockHash",
        "blockNumber",
        "status",
        "gasUsed",
        "transactionIndex",
    ] {
        assert_eq!(soft[field], posted[field], "{field}");
    }
    assert!(block_number(&seq_rpc, "safe") >= soft_block);
    let on_validator = receipt(&val_rpc, &hash);
    assert_eq!(on_validator["blockHash"], soft["blockHash"]);
    assert_eq!(eth_balance(&val_rpc, bob), ETHER);

    // A contract: deployed, used, read with eth_call on the validator.
    let token = alice.address().create(1);
    let deploy = sign_1559(
        &alice,
        1,
        TxKind::Create,
        U256Alloy::ZERO,
        demo_token_deploy(1_000),
        1_500_000,
    );
    let pay = sign_1559(
        &alice,
        2,
        TxKind::Call(token),
        U256Alloy::ZERO,
        erc20_transfer(bob, 250),
        100_000,
    );
    let deployed = send_raw(&seq_rpc, &deploy);
    let paid = send_raw(&seq_rpc, &pay);
    assert_eq!(
        receipt(&seq_rpc, &deployed)["contractAddress"],
        json!(token)
    );
    assert_eq!(receipt(&seq_rpc, &paid)["status"], json!("0x1"));

    // A withdrawal through the system contract.
    let withdraw = sign_1559(
        &alice,
        3,
        TxKind::Call(WITHDRAWALS),
        U256Alloy::from(2 * ETHER),
        withdraw_call(l1_recipient),
        100_000,
    );
    let withdrawn = send_raw(&seq_rpc, &withdraw);
    assert_eq!(receipt(&seq_rpc, &withdrawn)["status"], json!("0x1"));
    settle(&mut [&mut seq, &mut val], &mut l1);
    let call = json!({"to": token, "data": hex(&balanceOfCall { owner: bob }.abi_encode())});
    let balance = val_rpc.call("eth_call", json!([call, "latest"])).unwrap();
    assert_eq!(quantity(&balance), 250);

    // Past the challenge period and the withdrawal delay the assertion is confirmed (finalized
    // moves) and the withdrawal is paid on L1 with the node's proof.
    let found = seq_rpc
        .call("hb_getWithdrawal", json!([withdrawn]))
        .unwrap();
    assert!(!found.is_null(), "the withdrawal's batch is on L1");
    assert_eq!(found["withdrawals"].as_array().unwrap().len(), 1);
    l1.advance_time(2 * PERIOD + 10).unwrap();
    let mut done = settle(&mut [&mut seq, &mut val], &mut l1);
    l1.advance_time(PERIOD + 10).unwrap();
    done.actions
        .extend(settle(&mut [&mut seq, &mut val], &mut l1).actions);
    let batch = found["batch"].as_u64().unwrap();
    assert!(
        done.actions
            .iter()
            .any(|a| matches!(a, Action::Confirmed(_))),
        "{:?}",
        done.actions
    );
    let latest = seq_rpc.call("hb_latestBatch", json!([])).unwrap();
    assert!(latest["confirmed_batch"].as_u64().unwrap() >= batch);
    let id = latest["confirmed_assertion"].as_u64().unwrap();
    let finalized = block_number(&seq_rpc, "finalized");
    assert!(finalized >= soft_block, "finalized {finalized}");
    assert!(finalized <= block_number(&seq_rpc, "safe"));
    let (withdrawal, proof) = withdrawal_claim(&found, l1_recipient.0 .0, 2 * ETHER);
    finalize_withdrawal(&mut l1, &user, &deployment, id, &withdrawal, proof)
        .unwrap()
        .success()
        .unwrap();
    assert_eq!(l1.balance(l1_recipient).unwrap(), U256::from(2 * ETHER));
    // Every batch went where the config says.
    let count = contracts::view(&mut l1, deployment.inbox, Inbox::batchCountCall {}).unwrap();
    assert!(count >= 3);
    for number in 1..=count {
        let posted = fetch_batch(&mut l1, &deployment, number).unwrap();
        let in_blobs = !posted.blobs.is_empty();
        assert_eq!(
            in_blobs,
            availability == DataAvailability::Blobs,
            "batch {number}"
        );
    }
    seq.stop();
    val.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A sequencer that made soft blocks but did not post them, when a batch from someone else (here
/// delayed messages forced in after the inclusion delay) takes their place on L1: it gives its
/// soft blocks up (an alert says so), serves the posted blocks, and includes the transactions
/// of the lost blocks again.
#[test]
fn soft_blocks_another_batch_replaced_are_given_up_and_their_transactions_come_back() {
    let dir = fresh_dir("evm-reorg");
    let sequencer = wallet(0x61);
    let user = wallet(0x63);
    let alice = key(0);
    let bob = Address::repeat_byte(0xb0);
    let config = RollupConfig {
        // The sequencer never posts on its own within the test.
        state_commitment_interval: 3_600,
        force_inclusion_delay: 60,
        ..evm_config()
    };
    let (mut l1, deployment) = open_embedded(&dir.join("l1"), &sequencer, &config).unwrap();
    follow_wall_clock(&mut l1).unwrap();
    l1.set_balance(user.address(), U256::from(100 * ETHER))
        .unwrap();
    let mut seq = start_with(
        config,
        &dir.join("seq"),
        Role::Sequencer,
        &sequencer,
        &deployment,
        &mut l1,
        None,
    );
    let rpc = url(&seq);
    deposit(&mut l1, &user, deployment.inbox, alice.address(), 5 * ETHER);
    seq.turn(&mut l1, &mut |_| {}).unwrap();
    let transfer = sign_1559(
        &alice,
        0,
        TxKind::Call(bob),
        U256Alloy::from(ETHER),
        vec![],
        21_000,
    );
    let hash = send_raw(&rpc, &transfer);
    let soft = receipt(&rpc, &hash);
    assert_eq!(eth_balance(&rpc, bob), ETHER);

    // Nobody posted: after the delay anyone may force the deposit in, in a block of its own.
    l1.advance_time(120).unwrap();
    let forced = force_include_overdue(&mut l1, &user, &deployment).unwrap();
    assert_eq!(forced.len(), 1);
    let alerts = turns(&mut [&mut seq], &mut l1, 3);
    assert!(
        alerts.iter().any(|a| a.contains("replaced soft blocks")),
        "{alerts:?}"
    );
    // The deposit stands (L1 put it in); the transfer is back in the pool and mined again.
    assert!(eth_balance(&rpc, alice.address()) > 3 * ETHER);
    let again = receipt(&rpc, &hash);
    assert_ne!(
        again["blockHash"], soft["blockHash"],
        "a new block holds it"
    );
    assert_eq!(again["status"], json!("0x1"));
    assert_eq!(eth_balance(&rpc, bob), ETHER);
    seq.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}
