//! Gas of settlement on L1 (the contracts in revm, Osaka rules), printed as a table: a deposit,
//! posting a batch (per KiB of transactions), an assertion, a confirmation, one bisection move,
//! finalizing a withdrawal, and a whole dispute over a 1,000-transaction batch played on chain
//! (a liar asserting a wrong state root, the honest challenger, every move to the one-step proof).
//! Then criterion timings of a deposit and of a `bisect` move in revm.
//!
//! Anchors: Optimism's depositTransaction 68k, proposeL2Output 93k, proveWithdrawalTransaction 156k
//! plus finalize; the seed's 100k per state commitment and 200k per withdrawal. Targets: deposit
//! <= 70k, assertion <= 100k, finalize <= 100k, one bisection move <= 120k, whole dispute <= 5M.

#[path = "../tests/common/settlement.rs"]
mod fixture;

use criterion::{criterion_group, criterion_main, Criterion};
use fixture::*;
use program::ledger::TransactionList;
use program::{random_batch, random_genesis};
use prover::dispute::Lie;
use prover::settlement::{
    assert_batch, confirm, fetch_batch, genesis_assertion, post_batch, run_claim,
};
use verifier::l1::L1;
use verifier::settlement::contracts::ETHER;

struct Table(Vec<(String, u64, String)>);

impl Table {
    fn row(&mut self, what: &str, gas: u64, note: String) {
        self.0.push((what.to_string(), gas, note));
    }

    fn print(&self) {
        println!("{:<44} {:>10}  note", "operation", "gas");
        for (what, gas, note) in &self.0 {
            println!("{what:<44} {gas:>10}  {note}");
        }
    }
}

/// The gas of a deposit of `wei` for `to`.
fn deposit_gas(chain: &mut Chain, to: [u8; 20], wei: u128) -> u64 {
    deposit(chain, to, wei).success().unwrap().gas_used
}

/// The small-batch lifecycle: deposit, post, assert, confirm, finalize.
fn lifecycle(table: &mut Table) {
    let mut chain = chain();
    let first = deposit_gas(&mut chain, [1; 20], ETHER);
    let second = deposit_gas(&mut chain, [2; 20], ETHER);
    table.row("deposit (first / later)", second, format!("first {first}"));
    let (batch, genesis, claim) = first_batch(&mut chain);
    let (assertion, receipt) = assert_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &genesis,
        &batch,
        &claim,
    )
    .unwrap();
    table.row(
        "post assertion",
        receipt.gas_used,
        format!("batch of {} bytes", batch.message(&[0; 32]).len()),
    );
    chain.l1.advance_time(PERIOD).unwrap();
    let receipt = confirm(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &assertion,
    )
    .unwrap()
    .success()
    .unwrap();
    table.row("confirm", receipt.gas_used, "with withdrawals".into());
    let (withdrawal, proof) = first_withdrawal();
    let receipt = withdraw(&mut chain, &withdrawal, proof).success().unwrap();
    table.row(
        "finalize withdrawal",
        receipt.gas_used,
        "existing recipient".into(),
    );
}

/// Posting batches of 1 KiB and 64 KiB of transactions: the slope is the cost per KiB.
fn post_batch_per_kib(table: &mut Table) {
    let mut chain = chain();
    let mut gas = Vec::new();
    for kib in [1usize, 64] {
        let bytes = TransactionList(vec![vec![0x5a; kib * 1024 - 8]])
            .to_bytes()
            .unwrap();
        let (_, receipt) =
            post_batch(&mut chain.l1, &chain.sequencer, &chain.deployment, &bytes).unwrap();
        gas.push(receipt.gas_used);
    }
    table.row(
        "post batch, per KiB of transactions",
        (gas[1] - gas[0]) / 63,
        format!("1 KiB batch {}, 64 KiB batch {}", gas[0], gas[1]),
    );
}

/// A 1,000-transaction batch on a 200-account genesis, asserted wrongly and disputed on chain.
fn thousand_transaction_dispute(table: &mut Table) {
    let (root, store, _) = random_genesis(11, 200);
    let mut chain = chain_from(root, store);
    let (random, _) = random_batch(11, 1_060, 200, CHAIN_ID, 1, root);
    let transactions = TransactionList(random.transactions[..1000].to_vec())
        .to_bytes()
        .unwrap();
    let (_, receipt) = post_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &transactions,
    )
    .unwrap();
    table.row(
        "post batch of 1,000 transactions",
        receipt.gas_used,
        format!("{} bytes", transactions.len()),
    );
    let batch = fetch_batch(&mut chain.l1, &chain.deployment, 1).unwrap();
    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();
    let truth = run_claim(&chain.guest, &batch, &genesis, chain.genesis_store.clone()).unwrap();
    let mut lie = truth.clone();
    lie.outputs[60] ^= 1;
    let Dispute {
        asserted,
        opened,
        report,
        ..
    } = false_claim_disputed(
        &mut chain,
        &batch,
        &genesis,
        &lie,
        truth.steps,
        Lie::WrongFrom(truth.steps / 2),
        3,
    );
    table.row(
        "post assertion (1,000-transaction batch)",
        asserted.gas_used,
        format!("{} steps", truth.steps),
    );
    table.row("open a challenge", opened.gas_used, String::new());
    for kind in ["bisect", "choose", "proveStep"] {
        let gas: Vec<u64> = report
            .moves
            .iter()
            .filter(|m| m.kind == kind && m.refused.is_none())
            .map(|m| m.gas)
            .collect();
        if let Some(max) = gas.iter().max() {
            table.row(
                &format!("one move: {kind} (max of {})", gas.len()),
                *max,
                format!("min {}", gas.iter().min().unwrap_or(max)),
            );
        }
    }
    table.row(
        "whole dispute, 1,000 transactions",
        opened.gas_used + report.gas,
        format!(
            "challenge + {} moves over {} rounds of {} steps",
            report.moves.len(),
            report.rounds,
            truth.steps
        ),
    );
}

fn gas_table() {
    let mut table = Table(Vec::new());
    lifecycle(&mut table);
    post_batch_per_kib(&mut table);
    thousand_transaction_dispute(&mut table);
    table.print();
}

fn timings(c: &mut Criterion) {
    gas_table();
    let mut chain = chain();
    c.bench_function("revm: deposit", |b| {
        b.iter(|| deposit_gas(&mut chain, [7; 20], 1));
    });
}

criterion_group!(benches, timings);
criterion_main!(benches);
