//! Gas of settlement on L1 (the contracts in revm, Osaka rules), printed as a table: a deposit,
//! posting a batch (per KiB of transactions), a forced inclusion, an assertion (a fresh stake, a
//! moving one), backing, every move of a dispute (`challengeAssertion`, `dissect`, `challenge`,
//! `proveStep` with and without the one-step checker's own gas, `proveHalted`, `resolve`), a
//! confirmation, withdrawing a stake and credits, finalizing a withdrawal (with and without a
//! guardian), the guardian's actions (pause, unpause, hold; 2 of 3 signatures); the honest side's
//! total against 100 sybils (the case `tests/settlement.rs` plays); and a rival dispute over a
//! 1,000-transaction batch played by `play_until_decided` (a watcher against a liar asserting a
//! wrong state root, every move down to the one-step proof). Every dispute here runs with the
//! Rust referee mirroring the contracts (they must agree on every move). Then criterion timings
//! of a deposit in revm.
//!
//! `cargo bench --bench settlement_gas` prints the table, then runs criterion;
//! `cargo test --release --bench settlement_gas -- --nocapture` prints the table without the
//! bench profile's LTO (criterion then runs each benchmark once, as a test).
//!
//! Anchors: Optimism's depositTransaction 68k, proposeL2Output 93k, proveWithdrawalTransaction 156k
//! plus finalize; the seed's 100k per state commitment and 200k per withdrawal. Targets: deposit
//! <= 70k, assertion <= 100k, finalize <= 100k, one dispute move <= 120k (but the proof), whole
//! dispute <= 5M.

#[path = "../tests/common/settlement.rs"]
mod fixture;

use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use fixture::*;
use program::ledger::TransactionList;
use program::{random_batch, random_genesis};
use prover::dispute::onchain::Contestant;
use prover::dispute::tree::RunKnowledge;
use prover::settlement::{fetch_batch, genesis_assertion, post_batch, run_claim};
use verifier::bisection::honest::TreeMove;
use verifier::bisection::referee::AssertionStatus;
use verifier::evm::EvmChecker;
use verifier::l1::{L1, U256};
use verifier::settlement::contracts::{self, Inbox, ETHER};

struct Table(Vec<(String, u64, String)>);

impl Table {
    fn row(&mut self, what: &str, gas: u64, note: String) {
        self.0.push((what.to_string(), gas, note));
    }

    fn print(&self) {
        println!("{:<50} {:>11}  note", "operation", "gas");
        for (what, gas, note) in &self.0 {
            println!("{what:<50} {gas:>11}  {note}");
        }
    }
}

/// The gas of a deposit of `wei` for `to`.
fn deposit_gas(chain: &mut Chain, to: [u8; 20], wei: u128) -> u64 {
    deposit(chain, to, wei).success().unwrap().gas_used
}

/// The gas `who` spent on its last non-move transaction.
fn last_gas(m: &Mirrored, who: verifier::l1::Address, before: u64) -> u64 {
    m.gas[&who] - before
}

fn gas_of(m: &Mirrored, who: verifier::l1::Address) -> u64 {
    m.gas.get(&who).copied().unwrap_or(0)
}

/// The small-batch lifecycle: deposit, post, assert (a fresh stake, then a moving one), back,
/// confirm, withdraw the stake and the credits, finalize the withdrawal.
fn lifecycle(table: &mut Table) {
    let mut chain = chain();
    let first = deposit_gas(&mut chain, [1; 20], ETHER);
    let second = deposit_gas(&mut chain, [2; 20], ETHER);
    table.row("deposit (first / later)", second, format!("first {first}"));
    let (batch, genesis, claim) = first_batch(&mut chain);
    let mut m = mirrored(&mut chain);
    let sequencer = chain.sequencer.clone();
    let who = sequencer.address();
    let assertion = assert_mirrored(&mut chain, &mut m, &sequencer, &genesis, &batch, &claim);
    table.row(
        "assert (fresh stake)",
        gas_of(&m, who),
        format!(
            "batch of {} bytes, {} siblings",
            batch.message(&[0; 32]).len(),
            batch.commitment_opening().unwrap().siblings.len()
        ),
    );
    let (batch2, claim2) = empty_batch(&mut chain, &assertion, claim.store.clone());
    let before = gas_of(&m, who);
    let second = assert_mirrored(&mut chain, &mut m, &sequencer, &assertion, &batch2, &claim2);
    table.row(
        "assert (moving stake)",
        last_gas(&m, who, before),
        "the stake moves from the parent".into(),
    );
    let backer = wallet(0x55);
    back_mirrored(&mut chain, &mut m, &backer, second.id).unwrap();
    table.row(
        "back (fresh stake)",
        gas_of(&m, backer.address()),
        String::new(),
    );
    chain.l1.advance_time(PERIOD).unwrap();
    let before = gas_of(&m, who);
    confirm_mirrored(&mut chain, &mut m, &sequencer, assertion.id).unwrap();
    table.row(
        "confirm",
        last_gas(&m, who, before),
        "with withdrawals".into(),
    );
    let before = gas_of(&m, who);
    confirm_mirrored(&mut chain, &mut m, &sequencer, second.id).unwrap();
    table.row(
        "confirm",
        last_gas(&m, who, before),
        "without withdrawals".into(),
    );
    let before = gas_of(&m, who);
    withdraw_stake_mirrored(&mut chain, &mut m, &sequencer).unwrap();
    table.row("withdrawStake", last_gas(&m, who, before), String::new());
    let before = gas_of(&m, who);
    withdraw_credits_mirrored(&mut chain, &mut m, &sequencer).unwrap();
    table.row(
        "withdrawCredits",
        last_gas(&m, who, before),
        "the stake paid out".into(),
    );
    // The withdrawal delay counts from confirmation.
    chain.l1.advance_time(PERIOD / 2).unwrap();
    let (withdrawal, proof) = first_withdrawal(&batch);
    let receipt = withdraw(&mut chain, &withdrawal, proof).success().unwrap();
    table.row(
        "finalize withdrawal",
        receipt.gas_used,
        "existing recipient, no guardian".into(),
    );
    cash_out(&mut chain, &mut m, &backer);
    rollup_money_is_conserved(&mut chain, &m);
}

/// A 2-of-3 guardian's actions (pause, unpause, hold, each with two signatures) and a
/// withdrawal's finalization under a guardian (one more storage read: the pause).
fn guardian_actions(table: &mut Table) {
    use program::{NodeStore, SigningKey, EMPTY_ROOT};
    use prover::settlement::{assert_batch, confirm};
    use verifier::l1::embedded::EmbeddedL1;
    use verifier::settlement::guardian::{
        action_digest, sign_digest, submit_action, GuardianAction,
    };
    use verifier::settlement::GuardianConfig;

    let mut keys: Vec<SigningKey> = [0x61u8, 0x62, 0x63]
        .iter()
        .map(|b| SigningKey::from_slice(&[*b; 32]).unwrap())
        .collect();
    keys.sort_by_key(program::address_of);
    let signers = keys
        .iter()
        .map(|k| verifier::l1::Address::from(program::address_of(k)))
        .collect();
    let mut chain = chain_configured(
        EmbeddedL1::new().unwrap(),
        EMPTY_ROOT,
        NodeStore::new(),
        |c| {
            c.guardian = GuardianConfig {
                signers,
                threshold: 2,
                pause_expiry: 3_000,
                withdrawal_threshold: U256::from(10 * ETHER),
                large_withdrawal_delay: 1_000,
                window: 1_000,
            }
        },
    );
    let (batch, genesis, claim) = first_batch(&mut chain);
    let (assertion, _) = assert_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &genesis,
        &batch,
        &claim,
    )
    .unwrap();
    chain.l1.advance_time(PERIOD).unwrap();
    confirm(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &assertion,
    )
    .unwrap()
    .success()
    .unwrap();
    let payer = wallet(0x55);
    let act = |chain: &mut Chain, action: GuardianAction, nonce: u64| {
        let digest = action_digest(chain.l1.chain_id(), chain.deployment.rollup, action, nonce);
        let signatures = [
            sign_digest(&keys[0], &digest),
            sign_digest(&keys[2], &digest),
        ];
        submit_action(
            &mut chain.l1,
            &payer,
            &chain.deployment,
            action,
            &signatures,
        )
        .unwrap()
        .success()
        .unwrap()
        .gas_used
    };
    let pause = act(&mut chain, GuardianAction::Pause, 0);
    table.row("guardianAct: pause", pause, "2 of 3 signatures".into());
    let unpause = act(&mut chain, GuardianAction::Unpause, 1);
    table.row("guardianAct: unpause", unpause, "2 of 3 signatures".into());
    let hold = act(&mut chain, GuardianAction::Hold(assertion.id), 2);
    table.row("guardianAct: hold", hold, "2 of 3 signatures".into());
    chain.l1.advance_time(1_000).unwrap();
    let (withdrawal, proof) = first_withdrawal(&batch);
    let receipt = withdraw(&mut chain, &withdrawal, proof).success().unwrap();
    table.row(
        "finalize withdrawal",
        receipt.gas_used,
        "existing recipient, with a guardian (held, not paused)".into(),
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

/// A deposit and a signed withdrawal the sequencer leaves out, forced in after the delay; and a
/// batch posted by anyone once the sequencer has been silent past its timeout.
fn force_inclusion(table: &mut Table) {
    let mut chain = chain();
    deposit(&mut chain, [0xCA; 20], ETHER).success().unwrap();
    chain.l1.advance_time(PERIOD).unwrap();
    let force = |chain: &mut Chain| {
        let log = prover::settlement::L1Log::read(&mut chain.l1, &chain.deployment).unwrap();
        let records = prover::settlement::pending_delayed(&mut chain.l1, &log, usize::MAX).unwrap();
        contracts::send(
            &mut chain.l1,
            &wallet(0x53),
            chain.deployment.inbox,
            U256::ZERO,
            Inbox::forceIncludeCall { delayed: records },
        )
        .unwrap()
        .success()
        .unwrap()
    };
    let receipt = force(&mut chain);
    table.row("forceInclude", receipt.gas_used, "1 deposit".into());

    let withdraw = program::sign_withdraw(&alice(), CHAIN_ID, [0xCA; 20], 1, 0)
        .to_bytes()
        .unwrap();
    let (_, receipt) = prover::settlement::force_transaction(
        &mut chain.l1,
        &wallet(0x53),
        &chain.deployment,
        &withdraw,
    )
    .unwrap();
    table.row(
        "forceTransaction",
        receipt.gas_used,
        format!("a {}-byte withdrawal", withdraw.len()),
    );
    chain.l1.advance_time(PERIOD).unwrap();
    let receipt = force(&mut chain);
    table.row(
        "forceInclude",
        receipt.gas_used,
        "1 forced transaction".into(),
    );

    let timeout = contracts::view(
        &mut chain.l1,
        chain.deployment.inbox,
        Inbox::sequencerTimeoutCall {},
    )
    .unwrap();
    chain.l1.advance_time(timeout).unwrap();
    let (_, receipt) = post_batch(
        &mut chain.l1,
        &wallet(0x53),
        &chain.deployment,
        &empty_transactions(),
    )
    .unwrap();
    table.row(
        "postBatch by anyone",
        receipt.gas_used,
        "sequencer silent past its timeout".into(),
    );
}

/// Every kind of move, from a dispute over batch 1 (8,548 steps, arity 32) between the honest
/// asserter and two rivals: a wrong state root (to the `proveStep`) and a claim of one step more
/// than the run (to the `proveHalted`).
fn dispute_moves(table: &mut Table) {
    let mut chain = chain();
    let (batch, genesis, truth) = first_batch(&mut chain);
    let mut m = mirrored(&mut chain);
    let honest_wallet = wallet(0x54);
    let honest = assert_mirrored(&mut chain, &mut m, &honest_wallet, &genesis, &batch, &truth);
    let run = trace(&chain, &batch, &genesis, truth.steps);
    let mut contestants = Vec::new();
    for (byte, lie) in [
        (
            0x53,
            Lie::WrongRoot {
                from: truth.steps / 2,
            },
        ),
        (0x55, Lie::MoreSteps { by: 1 }),
    ] {
        let liar = wallet(byte);
        let rival = assert_mirrored(
            &mut chain,
            &mut m,
            &liar,
            &genesis,
            &batch,
            &lying_claim(&truth, lie, 1),
        );
        contestants.push(Contestant {
            plays_in: Some(vec![rival.id, honest.id]),
            ..Contestant::new(liar, cached(lying_trace(&run, lie, &rival)))
        });
    }
    contestants.push(Contestant::new(honest_wallet.clone(), cached(run.clone())));
    let decided = play_in_order(
        &mut chain,
        &mut m,
        0,
        honest.id,
        &mut contestants,
        |_, _, _| false,
        100 * PERIOD,
    );
    assert_eq!(decided.status, AssertionStatus::Confirmed);
    let accepted = |kind: &str| -> Vec<&MoveLog> {
        m.log
            .iter()
            .filter(|l| l.kind == kind && l.refused.is_none())
            .collect()
    };
    let hashes = |mv: &TreeMove| match mv {
        TreeMove::Dissect { hashes, .. }
        | TreeMove::Challenge { hashes, .. }
        | TreeMove::ProveStep { hashes, .. }
        | TreeMove::ProveHalted { hashes, .. } => hashes.len(),
        _ => 0,
    };
    for kind in [
        "challengeAssertion",
        "dissect",
        "challenge",
        "proveHalted",
        "resolve",
    ] {
        let moves = accepted(kind);
        let Some(widest) = moves.iter().max_by_key(|l| (hashes(&l.mv), l.gas)) else {
            panic!("no {kind} was played");
        };
        let gas: Vec<u64> = moves.iter().map(|l| l.gas).collect();
        let what = match hashes(&widest.mv) {
            0 => kind.to_string(),
            n => format!("{kind} ({n} hashes)"),
        };
        table.row(
            &what,
            widest.gas,
            format!(
                "{} played: min {}, max {}",
                moves.len(),
                gas.iter().min().unwrap(),
                gas.iter().max().unwrap()
            ),
        );
    }
    let mut checker = EvmChecker::new().unwrap();
    for proven in accepted("proveStep") {
        let TreeMove::ProveStep {
            hashes,
            index,
            step,
            ..
        } = &proven.mv
        else {
            unreachable!()
        };
        let proof = run.proof_at(*step).unwrap();
        let verdict = checker
            .verify_step(&hashes[*index as usize], &proof)
            .unwrap();
        assert_ne!(verdict.post.unwrap(), hashes[*index as usize + 1]);
        table.row(
            &format!("proveStep ({} hashes), without the checker", hashes.len()),
            proven.gas - verdict.gas.execution,
            format!(
                "with it {}; the checker's execution {} (a standalone verifyStep), proof {} bytes",
                proven.gas,
                verdict.gas.execution,
                proof.len()
            ),
        );
    }
    for c in &contestants {
        cash_out(&mut chain, &mut m, &c.wallet);
    }
    rollup_money_is_conserved(&mut chain, &m);
}

/// The honest side's total against 100 sybils (`tests/settlement.rs` plays the same case).
fn hundred_sybils(table: &mut Table) {
    let started = Instant::now();
    let r = sybil_attack(100, 8);
    table.row(
        "honest side's total, 100 sybils",
        r.honest_gas,
        format!(
            "{} moves over a {}-step batch, arity {}; adversaries {} gas ({} moves, {} refused) and lost {}; \
             confirmed {} s after posting (bound {} s); {:.1} s",
            r.honest_moves,
            r.steps,
            r.arity,
            r.adversary_gas,
            r.adversary_moves,
            r.adversary_refused,
            eth(r.lost),
            r.confirmed_after,
            r.bound_after,
            started.elapsed().as_secs_f64()
        ),
    );
}

/// A 1,000-transaction batch on a 200-account genesis, asserted truly by a watcher and wrongly by
/// a liar; the rival dispute played by `play_until_decided` down to the one-step proof.
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
    let mut m = mirrored(&mut chain);
    let (watcher, liar) = (wallet(0x54), wallet(0x53));
    let honest = assert_mirrored(&mut chain, &mut m, &watcher, &genesis, &batch, &truth);
    table.row(
        "assert (1,000-transaction batch, fresh stake)",
        gas_of(&m, watcher.address()),
        format!("{} steps", truth.steps),
    );
    let lie = Lie::WrongRoot {
        from: truth.steps / 2,
    };
    let rival = assert_mirrored(
        &mut chain,
        &mut m,
        &liar,
        &genesis,
        &batch,
        &lying_claim(&truth, lie, 1),
    );
    let started = Instant::now();
    let run = trace(&chain, &batch, &genesis, truth.steps);
    let built = started.elapsed();
    let mut contestants = vec![
        Contestant::new(watcher.clone(), cached(run.clone())),
        Contestant {
            plays_in: Some(vec![rival.id, honest.id]),
            ..Contestant::new(liar.clone(), cached(lying_trace(&run, lie, &rival)))
        },
    ];
    let report = play(&mut chain, &mut m, 0, rival.id, &mut contestants);
    assert_eq!(report.status, AssertionStatus::Rejected);
    let (w, l) = (&contestants[0], &contestants[1]);
    table.row(
        "rival dispute, 1,000 transactions: watcher",
        w.gas,
        format!(
            "{} moves (the rival challenged down to a one-step proof, its own assertion defended, \
             resolutions); rival rejected {} s after posting; \
             {:.1} s wall ({:.1} s checkpoints)",
            w.moves,
            report.decided_at - report.created_at,
            started.elapsed().as_secs_f64(),
            built.as_secs_f64()
        ),
    );
    table.row(
        "rival dispute, 1,000 transactions: liar",
        l.gas,
        format!(
            "{} moves, {} of them refused (mined, gas counted)",
            l.moves, l.refused
        ),
    );
    let created = m.mirror.referee.assertion(honest.id).unwrap().created_at;
    let at = now(&mut chain);
    if at < created + PERIOD {
        chain.l1.advance_time(created + PERIOD - at).unwrap();
    }
    confirm_mirrored(&mut chain, &mut m, &watcher, honest.id).unwrap();
    for w in [&watcher, &liar] {
        cash_out(&mut chain, &mut m, w);
    }
    rollup_money_is_conserved(&mut chain, &m);
}

fn gas_table() {
    let mut table = Table(Vec::new());
    lifecycle(&mut table);
    guardian_actions(&mut table);
    post_batch_per_kib(&mut table);
    force_inclusion(&mut table);
    dispute_moves(&mut table);
    hundred_sybils(&mut table);
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
