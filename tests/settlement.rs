//! The settlement contracts on the embedded L1, end to end: a deposit escrowed on L1 and credited
//! by the batch that includes it, transfers and a withdrawal on L2, the assertion, its window, its
//! confirmation and the withdrawal paid once on L1; every refusal on the way; and the disputes of
//! the all-against-all protocol played on the contracts, every assertion and move also applied
//! to the Rust referee (`prover::dispute::onchain::Mirror`), which must agree with the contracts
//! on every move, node, status and credit: a rival against every kind of lie, the throw, a race
//! on the honest side, sybils (1, 10 and 100 rivals), a chain of a hundred assertions on one
//! stake, the stake rules and voided assertions, and the config's safety floors. After every
//! dispute the Rollup's money adds up (`rollup_money_is_conserved`) and the honest parties end
//! with at least what they put in. The lifecycle and the rival dispute are the shared flows of
//! `common/settlement.rs`, which `tests/anvil.rs` runs on a real node.
//!
//! Run with `--nocapture` to see the figures (times against the bound, gas, money).

mod common;
#[path = "common/settlement.rs"]
mod fixture;
#[path = "common/l2.rs"]
mod l2;

use std::time::Instant;

use fixture::*;
use program::ledger::{TransactionList, Withdrawal};
use program::NodeStore;
use prover::dispute::onchain::Contestant;
use prover::dispute::tree::LyingTrace;
use prover::settlement::{
    assert_batch, fetch_batch, finalize_withdrawal, genesis_assertion, initial_opening,
    pending_delayed, run_claim, withdrawal_proof_of, BatchClaim, L1Log,
};
use prover::StfGuest;
use verifier::bisection::honest::{segment_is_true, true_dissection, TreeMove};
use verifier::bisection::referee::{
    dissection_key, root_challenge_key, AssertionStatus, NodeKind, NodeState,
};
use verifier::l1::embedded::EmbeddedL1;
use verifier::l1::{L1Error, TxReceipt, Wallet, B256, L1, U256};
use verifier::settlement::contracts::{self, view, Inbox, Rollup, ETHER};
use verifier::settlement::{deploy, SettlementConfig};
use vm::MachineHash;

/// On the embedded chain a refusal is mined: a transaction with its gas counted, and charged
/// nothing.
fn refused_when_mined(chain: &mut Chain, receipt: &TxReceipt) {
    assert_ne!(receipt.hash, B256::ZERO);
    assert!(receipt.gas_used > 0);
    assert_eq!(chain.l1.fee(receipt.hash).unwrap(), U256::ZERO);
}

#[test]
fn deposit_batch_assert_confirm_and_withdraw_once() {
    let mut chain = chain();
    let went_through = lifecycle(&mut chain, refused_when_mined);
    // Gas is free on the embedded chain: the balances moved by exactly the amounts.
    for receipt in &went_through {
        assert_eq!(chain.l1.fee(receipt.hash).unwrap(), U256::ZERO);
    }
    match chain.l1.fee(B256::repeat_byte(7)) {
        Err(L1Error::UnknownTransaction(hash)) => assert_eq!(hash, B256::repeat_byte(7)),
        other => panic!("{other:?}"),
    }
}

/// `claim` on `parent` instead: its outputs' pre-state root is `parent`'s post-state root (a
/// claim L1 takes whatever the parent claimed).
fn rebased(claim: &BatchClaim, parent: &prover::settlement::AssertionRecord) -> BatchClaim {
    let mut claim = claim.clone();
    claim.outputs[16..48].copy_from_slice(&parent.post_state_root().unwrap());
    claim
}

/// The EVM rollup on L1: a block of contract calls (an ERC-20 deployed and used, a revert, a
/// withdrawal) asserted truly and rivalled by a lie, bisected on the contracts down to one
/// instruction inside revm, proven to the Solidity checker; the honest assertion is confirmed.
#[test]
fn an_evm_block_with_contract_calls_is_disputed_on_l1_and_the_honest_party_wins() {
    let new_chain = || {
        let (root, store, transactions, alice) = l2::settlement_batch(user().address());
        let mut chain = chain_for_guest(
            EmbeddedL1::new().expect("L1"),
            program::EVM_STF_WASM,
            root,
            store,
            |_| {},
        );
        chain.first_transactions = transactions;
        chain.first_deposit_to = alice;
        chain
    };
    let steps = {
        let mut chain = new_chain();
        let (batch, _, truth) = first_batch(&mut chain);
        assert_eq!(batch.delayed.len(), 1, "the deposit");
        truth.steps
    };
    // Wrong from the first step, and from the middle of revm's work.
    for lie in [
        Lie::WrongRoot { from: 1 },
        Lie::WrongRoot {
            from: steps / 2 + 7,
        },
    ] {
        let started = Instant::now();
        let mut chain = new_chain();
        let d = rival_dispute(&mut chain, lie);
        println!(
            "EVM rival ({lie}) of a {steps}-step batch: confirmed {} s after posting (bound {} s); \
             honest {} moves, {} gas; liar lost {}; {:.1} s",
            d.report.decided_at - d.report.created_at,
            bound(0, &chain.config),
            d.honest_moves,
            d.honest_gas,
            eth(d.liar_lost),
            started.elapsed().as_secs_f64()
        );
    }
}

#[test]
fn the_honest_party_wins_a_rival_dispute_against_every_lie() {
    let steps = {
        let mut chain = chain();
        first_batch(&mut chain).2.steps
    };
    for lie in lies(steps) {
        let started = Instant::now();
        let mut chain = chain();
        let d = rival_dispute(&mut chain, lie);
        println!(
            "rival ({lie}) of a {steps}-step batch: honest confirmed {} s after posting (bound {} s); \
             honest {} moves, {} gas; liar {} moves ({} refused), {} gas, lost {}; {:.1} s",
            d.report.decided_at - d.report.created_at,
            bound(0, &chain.config),
            d.honest_moves,
            d.honest_gas,
            d.liar_moves,
            d.liar_refused,
            d.liar_gas,
            eth(d.liar_lost),
            started.elapsed().as_secs_f64()
        );
    }
}

/// The throw: a correct assertion whose asserter's accomplice challenges its root shortly before
/// the period ends and never plays (nor does the asserter); an honest third party defends it,
/// and it is confirmed within the period plus both clocks (plus a block).
#[test]
fn the_throw_fails_when_a_third_party_defends() {
    let mut chain = chain();
    let (batch, genesis, truth) = first_batch(&mut chain);
    let mut m = mirrored(&mut chain);
    let (thrower, accomplice, defender) = (wallet(0x53), wallet(0x55), wallet(0x54));
    let honest = assert_mirrored(&mut chain, &mut m, &thrower, &genesis, &batch, &truth);
    let created = m.mirror.referee.assertion(honest.id).unwrap().created_at;
    let late = created + PERIOD - 2 * TICK;
    let at = now(&mut chain);
    chain.l1.advance_time(late - at).unwrap();
    let run = trace(&chain, &batch, &genesis, truth.steps);
    let silent = |w: &Wallet| Contestant {
        plays: false,
        ..Contestant::new(w.clone(), cached(run.clone()))
    };
    let mut accomplice_party = silent(&accomplice);
    let receipt = send_move(
        &mut chain,
        &mut m,
        &mut accomplice_party,
        &TreeMove::ChallengeAssertion { id: honest.id },
    );
    assert!(receipt.outcome.is_ok(), "{receipt:?}");
    let mut contestants = vec![
        Contestant::new(defender.clone(), cached(run.clone())),
        accomplice_party,
        silent(&thrower),
    ];
    let report = play(&mut chain, &mut m, 0, honest.id, &mut contestants);
    let limit = bound(created, &chain.config);
    println!(
        "the throw: challenged {} s after posting, {} s before the period ends; the defender ({} moves, {} gas) \
         has it confirmed {} s after posting (bound: period {PERIOD} + 2 x clock {BUDGET} + a block {TICK} = {} s)",
        late - created,
        created + PERIOD - late,
        contestants[0].moves,
        contestants[0].gas,
        report.decided_at - created,
        limit - created
    );
    assert_eq!(report.status, AssertionStatus::Confirmed);
    assert!(
        report.decided_at <= limit,
        "{} > {limit}",
        report.decided_at
    );
    let root = m
        .mirror
        .referee
        .node(&root_challenge_key(honest.id))
        .unwrap();
    assert_eq!(root.state, NodeState::Refuted);
    rollup_money_is_conserved(&mut chain, &m);
    for w in [&defender, &thrower, &accomplice] {
        cash_out(&mut chain, &mut m, w);
    }
    rollup_money_is_conserved(&mut chain, &m);
    let (put, got) = (
        put_in(&mut chain, &m, defender.address()),
        got_out(&m, defender.address()),
    );
    assert!(
        got > put,
        "the defender wins the challenge bond: {got} of {put}"
    );
    assert_eq!(
        got_out(&m, accomplice.address()),
        0,
        "the accomplice's bond is lost"
    );
    assert_eq!(
        got_out(&m, thrower.address()),
        put_in(&mut chain, &m, thrower.address()),
        "the asserter's stake is back"
    );
    escrow_is_conserved(&mut chain);
}

/// A race on the honest side: an adversary challenges a correct assertion and, every block before
/// the honest party moves, posts a wrong dissection (the true start and end, wrong interior
/// hashes) under every challenge the honest party would defend, and plays its wrong run
/// besides. Wrong dissections do not displace the true one (dissections are keyed by content):
/// the honest outcome stands.
#[test]
fn wrong_dissections_sent_first_on_the_honest_side_do_not_hurt() {
    let mut chain = chain();
    let (batch, genesis, truth) = first_batch(&mut chain);
    let mut m = mirrored(&mut chain);
    let (honest_wallet, adversary) = (wallet(0x54), wallet(0x55));
    let honest = assert_mirrored(&mut chain, &mut m, &honest_wallet, &genesis, &batch, &truth);
    let run = trace(&chain, &batch, &genesis, truth.steps);
    let final_hash = MachineHash(honest.data.finalMachineHash.0);
    // The adversary's run: the true start and end, nothing true in between.
    let lie = LyingTrace {
        truth: run.clone(),
        from: 1,
        steps: truth.steps,
        final_hash,
    };
    let mut attacker = Contestant {
        plays: false,
        plays_in: Some(vec![honest.id]),
        ..Contestant::new(adversary.clone(), cached(lie))
    };
    chain.l1.advance_time(TICK).unwrap();
    let opened = send_move(
        &mut chain,
        &mut m,
        &mut attacker,
        &TreeMove::ChallengeAssertion { id: honest.id },
    );
    assert!(opened.outcome.is_ok());
    let mut contestants = vec![
        attacker,
        Contestant::new(honest_wallet.clone(), cached(run.clone())),
    ];
    let mut truth_run = cached(run);
    let arity = chain.config.arity;
    let mut wrong = 0;
    let decided = play_in_order(
        &mut chain,
        &mut m,
        0,
        honest.id,
        &mut contestants,
        |chain, m, cs| {
            // The adversary's own moves, then its wrong dissections, all before the honest party.
            let mut moved = play_turn(chain, m, 0, &mut cs[0]);
            let at = now(chain);
            let budget = m.mirror.referee.config().clock_budget;
            let open: Vec<_> = m
                .mirror
                .referee
                .nodes()
                .iter()
                .filter(|(_, n)| n.kind == NodeKind::Challenge && n.state == NodeState::Open)
                .filter(|(_, n)| at <= n.deadline(budget))
                .map(|(k, n)| (*k, n.clone()))
                .collect();
            for (key, node) in open {
                let defended = segment_is_true(
                    truth_run.as_mut(),
                    node.lo,
                    node.hi,
                    &node.start_hash,
                    &node.end_hash,
                    node.is_final,
                );
                if !defended {
                    continue;
                }
                let mut hashes = true_dissection(cs[0].run.as_mut(), node.lo, node.hi, arity);
                let last = hashes.len() - 1;
                hashes[0] = node.start_hash;
                hashes[last] = node.end_hash;
                if m.mirror
                    .referee
                    .node(&dissection_key(&key, &hashes))
                    .is_some()
                {
                    continue;
                }
                let truth_hashes = true_dissection(truth_run.as_mut(), node.lo, node.hi, arity);
                assert_ne!(hashes, truth_hashes, "the adversary's dissection is wrong");
                let receipt = send_move(
                    chain,
                    m,
                    &mut cs[0],
                    &TreeMove::Dissect {
                        challenge: key,
                        hashes,
                    },
                );
                assert!(receipt.outcome.is_ok(), "{receipt:?}");
                wrong += 1;
                moved = true;
            }
            moved
        },
        20 * (PERIOD + 2 * BUDGET),
    );
    let limit = bound(decided.created_at, &chain.config);
    let posted_wrong = m
        .mirror
        .referee
        .nodes()
        .values()
        .filter(|n| n.kind == NodeKind::Dissection && n.owner == adversary.address())
        .count();
    println!(
        "race on the honest side: under the root and {wrong} more challenges of the honest side a wrong dissection sent \
         in the block of the honest answer, before it; {posted_wrong} dissections by the adversary in all, every one \
         refuted; the assertion is {:?} {} s after posting (bound {} s); honest {} moves, {} gas; adversary {} moves, \
         {} gas",
        decided.status,
        decided.decided_at - decided.created_at,
        limit - decided.created_at,
        contestants[1].moves,
        contestants[1].gas,
        contestants[0].moves,
        contestants[0].gas
    );
    assert!(
        wrong >= 2,
        "the adversary raced more than the root: {wrong}"
    );
    // Under the root and under each of those challenges, a wrong and the true dissection were
    // posted in the same block.
    let nodes = m.mirror.referee.nodes();
    let raced = nodes
        .iter()
        .filter(|(_, c)| c.kind == NodeKind::Challenge)
        .filter(|(key, _)| {
            let children: Vec<_> = nodes.values().filter(|d| d.parent == **key).collect();
            children.iter().any(|d| d.owner == adversary.address())
                && children.iter().any(|d| {
                    d.owner == honest_wallet.address()
                        && children
                            .iter()
                            .any(|w| w.owner == adversary.address() && w.posted_at == d.posted_at)
                })
        })
        .count();
    assert_eq!(raced, wrong + 1, "races in the same block");
    assert_eq!(decided.status, AssertionStatus::Confirmed);
    assert!(decided.decided_at <= limit);
    // Every dissection the adversary posted was refuted; every one the honest party posted held.
    for node in m.mirror.referee.nodes().values() {
        if node.kind == NodeKind::Dissection {
            let expected = if node.owner == adversary.address() {
                NodeState::Refuted
            } else {
                NodeState::Held
            };
            assert_eq!(node.state, expected, "{node:?}");
        }
    }
    for w in [&honest_wallet, &adversary] {
        cash_out(&mut chain, &mut m, w);
    }
    rollup_money_is_conserved(&mut chain, &m);
    let (put, got) = (
        put_in(&mut chain, &m, honest_wallet.address()),
        got_out(&m, honest_wallet.address()),
    );
    assert!(got >= put, "the honest party got {got} of {put}");
    escrow_is_conserved(&mut chain);
}

/// How many sybils: 1, 10 and 100 (`HAUPTBUCH_SYBILS=n` for one other count).
fn sybil_counts() -> Vec<u64> {
    match std::env::var("HAUPTBUCH_SYBILS") {
        Ok(n) => vec![n.parse().expect("HAUPTBUCH_SYBILS is a count")],
        Err(_) => vec![1, 10, 100],
    }
}

/// Sybils: N wrong rivals of one correct assertion, each posted from its own wallet with its own
/// stake, every kind of lie among them (a wrong post-state root with the run wrong from various
/// steps, more steps than the run, fewer steps); each liar plays its own lie in its own
/// assertion and in the correct one; one honest party asserts the truth and plays. The correct
/// assertion is confirmed within the bound, every rival rejected and slashed; the honest party
/// ends with more than it put in. An empty batch (766 steps) and arity 8 keep N = 100 quick
/// (about 3 s in release), so every run, CI included, plays N = 1, 10 and 100
/// ([`sybil_attack`] in `common/settlement.rs`).
#[test]
fn sybils_lose_to_one_honest_party() {
    for n in sybil_counts() {
        sybils(n);
    }
}

fn sybils(n: u64) {
    let started = Instant::now();
    let r = sybil_attack(n, 8);
    println!(
        "sybils n={n} ({} wrong roots, {} more steps, {} fewer steps; {}-step batch, arity {}): \
         confirmed {} s after posting (bound {} s); honest {} moves, {} gas, net {}; \
         adversaries {} moves ({} refused), {} gas, lost {} ({n} stakes + {} of bonds); {} nodes; {:.1} s",
        r.kinds[0],
        r.kinds[1],
        r.kinds[2],
        r.steps,
        r.arity,
        r.confirmed_after,
        r.bound_after,
        r.honest_moves,
        r.honest_gas,
        eth(r.honest_net),
        r.adversary_moves,
        r.adversary_refused,
        r.adversary_gas,
        eth(r.lost),
        eth(r.lost - r.stakes_lost),
        r.nodes,
        started.elapsed().as_secs_f64()
    );
}

fn wei_of(value: U256) -> u128 {
    u128::try_from(value).unwrap()
}

/// One staker asserts 100 consecutive batches with one stake: the Rollup holds one stake all
/// along; after the period all confirm and the stake comes out, leaving nothing behind.
#[test]
fn one_stake_covers_a_chain_of_a_hundred_assertions() {
    let started = Instant::now();
    let mut chain = chain();
    let mut m = mirrored(&mut chain);
    let staker = wallet(0x54);
    let stake = wei_of(chain.config.assertion_bond);
    let mut parent = m.assertions[&0].clone();
    let mut store = chain.genesis_store.clone();
    let mut gas = Vec::new();
    for n in 1..=100u64 {
        let (batch, claim) = empty_batch(&mut chain, &parent, store.clone());
        if n == 2 {
            // A second stake is refused while the first is held.
            let refused = try_assert_with(
                &mut chain,
                &mut m,
                &staker,
                Some(U256::from(stake)),
                &parent,
                &batch,
                &claim,
            )
            .unwrap_err();
            assert_eq!(refused, format!("WrongBond({stake}, 0)"));
        }
        let before = m.gas.get(&staker.address()).copied().unwrap_or(0);
        let record = assert_mirrored(&mut chain, &mut m, &staker, &parent, &batch, &claim);
        gas.push(m.gas[&staker.address()] - before);
        assert_eq!(record.id, n);
        let balance = wei_of(chain.l1.balance(chain.deployment.rollup).unwrap());
        assert_eq!(balance, stake, "bonded capital stays one stake");
        let s = view(
            &mut chain.l1,
            chain.deployment.rollup,
            Rollup::stakeOfCall {
                staker: staker.address(),
            },
        )
        .unwrap();
        assert_eq!((s.active, s.latest, s.since), (true, n, 1));
        parent = record;
        store = claim.store;
        chain.l1.advance_time(1).unwrap();
    }
    assert_eq!(
        withdraw_stake_mirrored(&mut chain, &mut m, &staker).unwrap_err(),
        "StakeNotFree(100)"
    );
    chain.l1.advance_time(PERIOD).unwrap();
    for id in 1..=100 {
        confirm_mirrored(&mut chain, &mut m, &staker, id).unwrap();
        if id == 50 {
            assert_eq!(
                withdraw_stake_mirrored(&mut chain, &mut m, &staker).unwrap_err(),
                "StakeNotFree(100)"
            );
        }
    }
    assert_eq!(
        view(
            &mut chain.l1,
            chain.deployment.rollup,
            Rollup::lastConfirmedIdCall {}
        )
        .unwrap(),
        100
    );
    assert_eq!(
        withdraw_stake_mirrored(&mut chain, &mut m, &staker),
        Ok(stake)
    );
    assert_eq!(
        withdraw_credits_mirrored(&mut chain, &mut m, &staker),
        Ok(stake)
    );
    assert_eq!(
        chain.l1.balance(chain.deployment.rollup).unwrap(),
        U256::ZERO
    );
    rollup_money_is_conserved(&mut chain, &m);
    assert_eq!(
        got_out(&m, staker.address()),
        put_in(&mut chain, &m, staker.address())
    );
    escrow_is_conserved(&mut chain);
    println!(
        "a chain of 100 assertions on one stake: assert gas {} (fresh stake), {}..{} (moving stake); {:.1} s",
        gas[0],
        gas[1..].iter().min().unwrap(),
        gas[1..].iter().max().unwrap(),
        started.elapsed().as_secs_f64()
    );
}

/// Each safety floor of the config is enforced at deploy time: `BadConfig(why)` naming the rule,
/// and the edges themselves accepted.
#[test]
fn every_unsafe_config_is_refused_at_deploy() {
    let mut l1 = EmbeddedL1::new().unwrap();
    let guest = StfGuest::new(program::STF_WASM).unwrap();
    let opening = initial_opening(&guest).unwrap();
    let deployer = wallet(0x51);
    l1.set_balance(deployer.address(), U256::from(1000 * ETHER))
        .unwrap();
    let base = test_config(deployer.address(), program::EMPTY_ROOT, &opening);
    type Tweak = fn(&mut SettlementConfig);
    let refused: [(&str, Tweak); 10] = [
        ("burn below 1000 bps", |c| c.burn_bps = 999),
        ("challenge period is zero", |c| c.challenge_period = 0),
        ("challenge period below 36 s", |c| c.challenge_period = 35),
        ("clock budget is zero", |c| c.clock_budget = 0),
        ("clock budget below 36 s", |c| c.clock_budget = 35),
        ("clock budget above 2^32 - 1", |c| c.clock_budget = 1 << 32),
        ("batch bytes above the STF limit", |c| {
            c.max_batch_bytes = 262_145
        }),
        ("assertion bond is zero", |c| c.assertion_bond = U256::ZERO),
        ("challenge bond is zero", |c| c.challenge_bond = U256::ZERO),
        ("arity below 2", |c| c.arity = 1),
    ];
    for (reason, tweak) in refused {
        let mut config = base.clone();
        tweak(&mut config);
        match deploy(&mut l1, &deployer, &config) {
            Err(L1Error::Reverted(revert)) => {
                assert_eq!(revert.error, format!("BadConfig({reason})"), "{config:?}")
            }
            other => panic!("{reason}: {other:?}"),
        }
    }
    let edges: [Tweak; 5] = [
        |c| c.burn_bps = 1000,
        |c| c.challenge_period = 36,
        |c| c.clock_budget = 36,
        |c| c.clock_budget = u64::from(u32::MAX),
        |c| c.max_batch_bytes = 262_144,
    ];
    for tweak in edges {
        let mut config = base.clone();
        tweak(&mut config);
        deploy(&mut l1, &deployer, &config).unwrap_or_else(|e| panic!("{config:?}: {e}"));
    }
}

/// The stake rules through the contract, each also refused (or taken) by the model: the same
/// claim twice, a stake moving off its chain, a second stake, backing then asserting with the
/// backing stake, voided assertions rejected for either reason (nothing slashed), and stakes
/// withdrawn only once their latest assertion is confirmed (a stake left on a rejected one is
/// frozen).
#[test]
fn stakes_move_only_along_their_chain_and_voided_assertions_are_rejected() {
    let mut chain = chain();
    let (batch, genesis, truth) = first_batch(&mut chain);
    let mut m = mirrored(&mut chain);
    let (a, b, c, d) = (wallet(0x53), wallet(0x54), wallet(0x55), wallet(0x56));
    let x = assert_mirrored(&mut chain, &mut m, &a, &genesis, &batch, &truth);
    let lie = lying_claim(&truth, Lie::WrongRoot { from: 1 }, 7);
    let y = assert_mirrored(&mut chain, &mut m, &b, &genesis, &batch, &lie);
    assert_eq!((x.id, y.id), (1, 2));
    // The same claim twice is refused: back it instead.
    let again = try_assert(&mut chain, &mut m, &c, &genesis, &batch, &truth).unwrap_err();
    assert_eq!(again, "AssertionExists(1)");

    let (batch2, claim2) = empty_batch(&mut chain, &x, truth.store.clone());
    // b's stake sits on y: it backs neither x (a sibling) nor asserts on x.
    assert_eq!(
        back_mirrored(&mut chain, &mut m, &b, x.id).unwrap_err(),
        "StakedElsewhere(2)"
    );
    let off_chain = try_assert(&mut chain, &mut m, &b, &x, &batch2, &claim2).unwrap_err();
    assert_eq!(off_chain, "StakedElsewhere(2)");
    // A staked party sends no second stake.
    let on_y = rebased(&claim2, &y);
    let second = try_assert_with(
        &mut chain,
        &mut m,
        &b,
        Some(U256::from(ETHER)),
        &y,
        &batch2,
        &on_y,
    )
    .unwrap_err();
    assert_eq!(second, format!("WrongBond({ETHER}, 0)"));
    // c backs x with a new stake (once), then asserts x's child with that stake.
    back_mirrored(&mut chain, &mut m, &c, x.id).unwrap();
    assert_eq!(
        back_mirrored(&mut chain, &mut m, &c, x.id).unwrap_err(),
        "AlreadyBacking(1)"
    );
    let x2 = assert_mirrored(&mut chain, &mut m, &c, &x, &batch2, &claim2);
    let stake_of = |chain: &mut Chain, w: &Wallet| {
        let s = view(
            &mut chain.l1,
            chain.deployment.rollup,
            Rollup::stakeOfCall {
                staker: w.address(),
            },
        )
        .unwrap();
        (s.active, s.latest, s.since)
    };
    assert_eq!(
        stake_of(&mut chain, &c),
        (true, x2.id, 3),
        "slashable only from its backing on"
    );
    // b's stake moves down its own chain: y's child w.
    let w = assert_mirrored(&mut chain, &mut m, &b, &y, &batch2, &on_y);
    assert_eq!((x2.id, w.id), (3, 4));
    assert_eq!(stake_of(&mut chain, &b), (true, w.id, y.id));
    // A stake on a pending assertion is not free.
    assert_eq!(
        withdraw_stake_mirrored(&mut chain, &mut m, &a).unwrap_err(),
        "StakeNotFree(1)"
    );
    let early = confirm_mirrored(&mut chain, &mut m, &a, x.id).unwrap_err();
    assert!(early.starts_with("ChallengePeriodRunning"), "{early}");

    chain.l1.advance_time(PERIOD).unwrap();
    confirm_mirrored(&mut chain, &mut m, &a, x.id).unwrap();
    assert_eq!(
        confirm_mirrored(&mut chain, &mut m, &a, y.id).unwrap_err(),
        "ParentHasConfirmedChild(1)"
    );
    let late_rival = lying_claim(&truth, Lie::WrongRoot { from: 1 }, 9);
    let refused = try_assert(&mut chain, &mut m, &d, &genesis, &batch, &late_rival).unwrap_err();
    assert_eq!(refused, "ParentHasConfirmedChild(1)");
    // y is voided by its confirmed sibling (reason 2), w by its rejected parent (reason 1); x2 is
    // not voided.
    assert_eq!(
        reject_voided_mirrored(&mut chain, &mut m, &d, x2.id).unwrap_err(),
        "NotVoided(3)"
    );
    assert_eq!(
        reject_voided_mirrored(&mut chain, &mut m, &d, w.id).unwrap_err(),
        "NotVoided(4)"
    );
    assert_eq!(reject_voided_mirrored(&mut chain, &mut m, &d, y.id), Ok(2));
    assert_eq!(
        confirm_mirrored(&mut chain, &mut m, &d, w.id).unwrap_err(),
        "ParentNotConfirmed(2)"
    );
    let on_rejected =
        try_assert(&mut chain, &mut m, &d, &y, &batch2, &rebased(&claim2, &y)).unwrap_err();
    assert_eq!(on_rejected, "ParentRejected(2)");
    assert_eq!(reject_voided_mirrored(&mut chain, &mut m, &d, w.id), Ok(1));
    assert_eq!(
        reject_voided_mirrored(&mut chain, &mut m, &d, w.id).unwrap_err(),
        "NotPending(4, 3)"
    );
    assert_eq!(
        back_mirrored(&mut chain, &mut m, &d, y.id).unwrap_err(),
        "NotPending(2, 3)"
    );

    // a's stake is free; b's sits on a rejected assertion for good (nothing slashed it: nobody
    // disputed y); c's is free once x2 confirms.
    assert_eq!(withdraw_stake_mirrored(&mut chain, &mut m, &a), Ok(ETHER));
    assert_eq!(
        withdraw_stake_mirrored(&mut chain, &mut m, &b).unwrap_err(),
        "StakeNotFree(4)"
    );
    assert_eq!(
        withdraw_stake_mirrored(&mut chain, &mut m, &c).unwrap_err(),
        "StakeNotFree(3)"
    );
    confirm_mirrored(&mut chain, &mut m, &c, x2.id).unwrap();
    assert_eq!(withdraw_stake_mirrored(&mut chain, &mut m, &c), Ok(ETHER));
    assert_eq!(
        withdraw_stake_mirrored(&mut chain, &mut m, &c).unwrap_err(),
        "NoStake()"
    );
    for w in [&a, &b, &c] {
        cash_out(&mut chain, &mut m, w);
    }
    assert_eq!(
        withdraw_credits_mirrored(&mut chain, &mut m, &d).unwrap_err(),
        "NoCredits()"
    );
    rollup_money_is_conserved(&mut chain, &m);
    assert_eq!(
        chain.l1.balance(chain.deployment.rollup).unwrap(),
        U256::from(ETHER),
        "b's frozen stake is all the Rollup holds"
    );
    for w in [&a, &c] {
        assert_eq!(
            got_out(&m, w.address()),
            put_in(&mut chain, &m, w.address())
        );
    }
    escrow_is_conserved(&mut chain);
}

#[test]
fn a_deposit_the_sequencer_ignores_is_forced_in() {
    let mut chain = chain();
    let carol = [0xCA; 20];
    deposit(&mut chain, carol, ETHER).success().unwrap();
    let empty = TransactionList(vec![]).to_bytes().unwrap();
    // The sequencer leaves the deposit out; the inbox accepts that only while it is young.
    let skip = |chain: &mut Chain| {
        contracts::send(
            &mut chain.l1,
            &chain.sequencer.clone(),
            chain.deployment.inbox,
            U256::ZERO,
            Inbox::postBatchCall {
                transactions: contracts::bytes(&empty),
                delayed: vec![],
            },
        )
        .unwrap()
    };
    skip(&mut chain).success().unwrap();
    let force = |chain: &mut Chain| {
        let log = L1Log::read(&mut chain.l1, &chain.deployment).unwrap();
        let records = pending_delayed(&mut chain.l1, &log, usize::MAX).unwrap();
        contracts::send(
            &mut chain.l1,
            &wallet(0x53),
            chain.deployment.inbox,
            U256::ZERO,
            Inbox::forceIncludeCall { delayed: records },
        )
        .unwrap()
    };
    let early = force(&mut chain).outcome.unwrap_err().error;
    assert!(early.starts_with("NotYetForceable"), "{early}");

    chain.l1.advance_time(PERIOD).unwrap();
    let refused = skip(&mut chain).outcome.unwrap_err().error;
    assert!(refused.starts_with("DelayedOverdue"), "{refused}");
    let receipt = force(&mut chain).success().unwrap();
    eprintln!("force inclusion: {} gas", receipt.gas_used);

    // Batch 2 is the forced one; asserted on top of batch 1, it credits Carol.
    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();
    let first = fetch_batch(&mut chain.l1, &chain.deployment, 1).unwrap();
    assert!(first.delayed.is_empty());
    let claim = run_claim(&chain.guest, &first, &genesis, NodeStore::new()).unwrap();
    let (one, _) = assert_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &genesis,
        &first,
        &claim,
    )
    .unwrap();
    let forced = fetch_batch(&mut chain.l1, &chain.deployment, 2).unwrap();
    assert_eq!(forced.transactions, vec![0]);
    assert_eq!(forced.delayed.len(), 1);
    let claim = run_claim(&chain.guest, &forced, &one, claim.store).unwrap();
    let outputs = program::ledger::BatchOutputs::from_bytes(&claim.outputs).unwrap();
    assert_eq!((outputs.delayed_count, outputs.tx_count), (1, 0));
    let carol_account = program::ledger::PartialTrie::new(outputs.post_state_root)
        .account(
            &mut program::NativeAbi::new(vec![], claim.store.clone()),
            &carol,
        )
        .unwrap();
    assert_eq!(carol_account.balance, ETHER);
    // The sequencer's one stake moves from assertion 1 to its child.
    assert_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &one,
        &forced,
        &claim,
    )
    .unwrap();
    assert_eq!(
        chain.l1.balance(chain.deployment.rollup).unwrap(),
        U256::from(ETHER),
        "one stake"
    );
    escrow_is_conserved(&mut chain);
}

#[test]
fn a_withdrawal_from_a_rejected_assertion_is_never_paid() {
    let mut chain = chain();
    let (batch, genesis, truth) = first_batch(&mut chain);
    let mut m = mirrored(&mut chain);
    // A liar asserts the batch with a withdrawal of its own added to the outputs' root.
    let liar = wallet(0x53);
    let stolen = Withdrawal {
        l1_recipient: liar.address().into_array(),
        amount: 3 * ETHER,
        index: 1 << 32 | 5,
    };
    let mut claim = truth.clone();
    claim.outputs[80..112].copy_from_slice(&program::keccak256(&stolen.leaf_bytes()));
    claim.outputs[152..156].copy_from_slice(&1u32.to_be_bytes());
    let assertion = assert_mirrored(&mut chain, &mut m, &liar, &genesis, &batch, &claim);
    // A watcher (with the true run) disputes it; the liar defends its lie.
    let watcher = wallet(0x54);
    let run = trace(&chain, &batch, &genesis, truth.steps);
    let lie = lying_trace(&run, Lie::WrongRoot { from: truth.steps }, &assertion);
    let mut contestants = vec![
        Contestant::new(watcher.clone(), cached(run)),
        Contestant::new(liar.clone(), cached(lie)),
    ];
    let report = play(&mut chain, &mut m, 0, assertion.id, &mut contestants);
    assert_eq!(report.status, AssertionStatus::Rejected);
    chain.l1.advance_time(PERIOD).unwrap();
    let refused = confirm_mirrored(&mut chain, &mut m, &liar, assertion.id).unwrap_err();
    assert_eq!(refused, format!("NotPending({}, 3)", assertion.id));
    let proof = withdrawal_proof_of(&[stolen], 0).unwrap();
    let refused = finalize_withdrawal(
        &mut chain.l1,
        &liar,
        &chain.deployment,
        assertion.id,
        &stolen,
        proof,
    )
    .unwrap()
    .outcome
    .unwrap_err()
    .error;
    assert!(refused.starts_with("RejectedAssertion"), "{refused}");
    for w in [&watcher, &liar] {
        cash_out(&mut chain, &mut m, w);
    }
    rollup_money_is_conserved(&mut chain, &m);
    assert!(got_out(&m, watcher.address()) > put_in(&mut chain, &m, watcher.address()));
    escrow_is_conserved(&mut chain);
}

fn refused(receipt: TxReceipt) -> String {
    receipt.outcome.expect_err("refused").error
}

#[test]
fn every_refusal_of_the_inbox_and_the_assertion_chain() {
    let mut chain = chain();
    let user = user();
    let inbox = chain.deployment.inbox;
    let rollup = chain.deployment.rollup;
    let zero = deposit(&mut chain, [1; 20], 0);
    assert!(refused(zero).starts_with("ZeroDeposit"));
    let one_tx = TransactionList(vec![vec![1]]).to_bytes().unwrap();
    let post = |chain: &mut Chain, from: &Wallet, bytes: Vec<u8>| {
        contracts::send(
            &mut chain.l1,
            from,
            inbox,
            U256::ZERO,
            Inbox::postBatchCall {
                transactions: contracts::bytes(&bytes),
                delayed: vec![],
            },
        )
        .unwrap()
    };
    assert!(refused(post(&mut chain, &user, one_tx.clone())).starts_with("NotSequencer"));
    let sequencer = chain.sequencer.clone();
    assert!(refused(post(&mut chain, &sequencer, vec![])).starts_with("NoTransactions"));
    assert!(refused(post(&mut chain, &sequencer, vec![0; 262_144])).starts_with("BatchTooLarge"));

    let (batch, genesis, truth) = first_batch(&mut chain);
    let mut m = mirrored(&mut chain);
    // A bond other than the configured one is refused (by the model too).
    let wrong_bond = try_assert_with(
        &mut chain,
        &mut m,
        &user,
        Some(U256::from(1)),
        &genesis,
        &batch,
        &truth,
    );
    assert_eq!(wrong_bond.unwrap_err(), format!("WrongBond(1, {ETHER})"));
    // Outputs that are not the batch's (another chain id) are refused at assertion time: L1's
    // batch checks, which the model leaves out.
    let opening = batch.commitment_opening().unwrap();
    let mut other_chain = truth.outputs.clone();
    other_chain[15] ^= 1;
    let call = Rollup::assertCall {
        parent: genesis.data.clone(),
        parentOutputs: contracts::bytes(&genesis.outputs),
        outputs: contracts::bytes(&other_chain),
        finalHot: contracts::bytes(&truth.final_state.hot),
        finalCold: contracts::bytes(&truth.final_state.cold),
        steps: truth.steps,
        messageLength: opening.length,
        batchSiblings: opening.siblings.iter().map(|s| (*s).into()).collect(),
    };
    let receipt = contracts::send(
        &mut chain.l1,
        &user,
        rollup,
        U256::from(ETHER),
        call.clone(),
    )
    .unwrap();
    assert_eq!(refused(receipt), "BadOutputs(chain id)");

    // The user asserts a wrong state root for batch 1, and batch 2 on top of it.
    let lie = lying_claim(&truth, Lie::WrongRoot { from: 1 }, 3);
    let one = assert_mirrored(&mut chain, &mut m, &user, &genesis, &batch, &lie);
    let (batch2, claim2) = empty_batch(&mut chain, &one, truth.store.clone());
    let two = assert_mirrored(
        &mut chain,
        &mut m,
        &user,
        &one,
        &batch2,
        &rebased(&claim2, &one),
    );
    // Batch 3 is not posted yet.
    let call = Rollup::assertCall {
        parent: two.data.clone(),
        parentOutputs: contracts::bytes(&two.outputs),
        ..call
    };
    let receipt = contracts::send(
        &mut chain.l1,
        &wallet(0x55),
        rollup,
        U256::from(ETHER),
        call,
    )
    .unwrap();
    assert_eq!(refused(receipt), "BatchNotPosted(3)");

    // A challenge keeps assertion 1 from being confirmed after its period; a late one is
    // refused.
    let honest = wallet(0x54);
    let run = trace(&chain, &batch, &genesis, truth.steps);
    let mut watcher = Contestant::new(honest.clone(), cached(run.clone()));
    chain.l1.advance_time(TICK).unwrap();
    let opened = send_move(
        &mut chain,
        &mut m,
        &mut watcher,
        &TreeMove::ChallengeAssertion { id: one.id },
    );
    assert!(opened.outcome.is_ok());
    let mut latecomer = Contestant::new(wallet(0x55), cached(run.clone()));
    let again = send_move(
        &mut chain,
        &mut m,
        &mut latecomer,
        &TreeMove::ChallengeAssertion { id: one.id },
    );
    assert!(refused(again).starts_with("AlreadyChallenged"));
    chain.l1.advance_time(PERIOD).unwrap();
    let late = send_move(
        &mut chain,
        &mut m,
        &mut latecomer,
        &TreeMove::ChallengeAssertion { id: two.id },
    );
    assert!(refused(late).starts_with("ChallengePeriodOver"));
    let open = confirm_mirrored(&mut chain, &mut m, &user, one.id).unwrap_err();
    assert_eq!(open, format!("DisputeOpen({})", root_challenge_key(one.id)));

    // The user never answers: the challenge holds, 1 is rejected (its stake slashed), 2 voided.
    let mut contestants = vec![
        watcher,
        Contestant {
            plays: false,
            ..Contestant::new(user.clone(), cached(run))
        },
    ];
    let report = play(&mut chain, &mut m, 0, one.id, &mut contestants);
    assert_eq!(report.status, AssertionStatus::Rejected);
    let voided = confirm_mirrored(&mut chain, &mut m, &user, two.id).unwrap_err();
    assert_eq!(voided, "ParentNotConfirmed(1)");
    assert_eq!(
        reject_voided_mirrored(&mut chain, &mut m, &honest, two.id),
        Ok(1)
    );
    let slashed = view(
        &mut chain.l1,
        rollup,
        Rollup::stakeOfCall {
            staker: user.address(),
        },
    )
    .unwrap();
    assert!(!slashed.active);
    // The truth about batch 1 is asserted anew, and confirmed.
    let truth_record = assert_mirrored(&mut chain, &mut m, &honest, &genesis, &batch, &truth);
    chain.l1.advance_time(PERIOD).unwrap();
    confirm_mirrored(&mut chain, &mut m, &honest, truth_record.id).unwrap();
    for w in [&honest, &user] {
        cash_out(&mut chain, &mut m, w);
    }
    rollup_money_is_conserved(&mut chain, &m);
    assert!(got_out(&m, honest.address()) > put_in(&mut chain, &m, honest.address()));
    escrow_is_conserved(&mut chain);
}

#[test]
fn the_embedded_chain_is_rebuilt_from_its_journal_after_a_restart() {
    let path = std::env::temp_dir().join(format!("l1-journal-{}.bin", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let (deployment, head, logs, assertion) = {
        let mut chain = chain_on(EmbeddedL1::open(&path).unwrap());
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
        let head = chain.l1.head().unwrap();
        let logs = chain.l1.logs(chain.deployment.rollup, 0, head.0).unwrap();
        (chain.deployment.clone(), head, logs, assertion)
        // The process ends here as far as the chain knows: nothing is flushed on drop.
    };
    let mut l1 = EmbeddedL1::open(&path).unwrap();
    assert_eq!(l1.head().unwrap(), head);
    assert_eq!(l1.logs(deployment.rollup, 0, head.0).unwrap(), logs);
    let batch = fetch_batch(&mut l1, &deployment, 1).unwrap();
    batch.commitment_opening().unwrap();
    // The window passed before the restart: the assertion confirms now, and that is journaled too.
    prover::settlement::confirm(&mut l1, &user(), &deployment, &assertion)
        .unwrap()
        .success()
        .unwrap();
    drop(l1);
    let mut l1 = EmbeddedL1::open(&path).unwrap();
    assert_eq!(
        view(&mut l1, deployment.rollup, Rollup::lastConfirmedIdCall {}).unwrap(),
        assertion.id
    );
    std::fs::remove_file(&path).unwrap();
}

/// Moves drawn at random, valid and not, by six parties over the disputes of one batch with
/// three rivals (the truth, a wrong root, more steps), with time jumping by random amounts: the
/// contracts and the Rust referee must agree on every acceptance and refusal (by name), and
/// after each move on every node's state and clocks, every assertion's status, every credit and
/// the burn; the Rollup's money adds up throughout. Three seeds (printed);
/// `HAUPTBUCH_RANDOM_MOVES` sets the count per seed (3,000 by default, 800 with `CI`).
#[test]
fn random_moves_agree_with_the_model() {
    let moves = common::scaled_count("HAUPTBUCH_RANDOM_MOVES", 800, 3000);
    for seed in [0x5eed_2026_u64, 7, 1 << 40] {
        random_moves(seed, moves);
    }
}

fn random_moves(seed: u64, moves: u64) {
    println!("random moves: {moves}, seed {seed:#x}");
    let mut rng = SplitMix(seed);
    let mut chain = chain_configured(
        EmbeddedL1::new().unwrap(),
        program::EMPTY_ROOT,
        NodeStore::new(),
        |c| {
            c.arity = 4;
        },
    );
    let mut m = mirrored(&mut chain);
    let genesis = m.assertions[&0].clone();
    let (batch, truth) = empty_batch(&mut chain, &genesis, NodeStore::new());
    let run = run_trace(&chain, &batch, &genesis, NodeStore::new(), truth.steps);
    let parties: Vec<Wallet> = (0x51..=0x56).map(wallet).collect();
    assert_mirrored(&mut chain, &mut m, &parties[0], &genesis, &batch, &truth);
    let wrong_root = lying_claim(&truth, Lie::WrongRoot { from: 1 }, 1);
    assert_mirrored(
        &mut chain,
        &mut m,
        &parties[1],
        &genesis,
        &batch,
        &wrong_root,
    );
    let more_steps = lying_claim(&truth, Lie::MoreSteps { by: 3 }, 2);
    assert_mirrored(
        &mut chain,
        &mut m,
        &parties[2],
        &genesis,
        &batch,
        &more_steps,
    );
    let mut contestants: Vec<Contestant> = parties
        .iter()
        .map(|w| Contestant::new(w.clone(), cached(run.clone())))
        .collect();
    let arity = chain.config.arity;
    let addresses: Vec<_> = parties.iter().map(|w| w.address()).collect();
    let mut truth_trace = run.clone();
    for i in 0..moves {
        let who = rng.below(parties.len() as u64) as usize;
        let nodes: Vec<_> = m
            .mirror
            .referee
            .nodes()
            .iter()
            .map(|(k, n)| (*k, n.clone()))
            .collect();
        let pick = |rng: &mut SplitMix, kind: Option<NodeKind>| {
            let of_kind: Vec<_> = nodes
                .iter()
                .filter(|(_, n)| kind.is_none_or(|k| n.kind == k))
                .collect();
            (!of_kind.is_empty()).then(|| of_kind[rng.below(of_kind.len() as u64) as usize].clone())
        };
        let mv = match rng.below(12) {
            // Time moves in small jumps, now and then past a deadline.
            0 if rng.below(3) == 0 => {
                chain.l1.advance_time(rng.below(BUDGET / 4)).unwrap();
                None
            }
            0 => None,
            1 => Some(TreeMove::ChallengeAssertion {
                id: 1 + rng.below(3),
            }),
            2 | 3 => pick(&mut rng, Some(NodeKind::Challenge)).map(|(key, c)| {
                let mut hashes = true_dissection(&mut truth_trace, c.lo, c.hi, arity);
                let last = hashes.len() - 1;
                match rng.below(5) {
                    // The true dissection, or one of a liar, or a wrong count.
                    0 | 1 => {}
                    2 if last > 1 => {
                        hashes[1 + rng.below(last as u64 - 1) as usize] = noise(&mut rng)
                    }
                    3 => {
                        hashes[0] = c.start_hash;
                        hashes[last] = c.end_hash;
                        if last > 1 {
                            hashes[last - 1] = noise(&mut rng);
                        }
                    }
                    _ => {
                        hashes.pop();
                    }
                }
                TreeMove::Dissect {
                    challenge: key,
                    hashes,
                }
            }),
            4 | 5 => pick(&mut rng, Some(NodeKind::Dissection)).map(|(key, d)| {
                let mut hashes = d.hashes.clone();
                if rng.below(10) == 0 {
                    hashes[0] = noise(&mut rng);
                }
                TreeMove::Challenge {
                    dissection: key,
                    index: rng.below(hashes.len() as u64),
                    hashes,
                }
            }),
            6 | 7 => pick(&mut rng, Some(NodeKind::Dissection)).map(|(key, d)| {
                let bounds = verifier::bisection::boundaries(d.lo, d.hi, arity);
                let index = rng.below(bounds.len() as u64 - 1);
                TreeMove::ProveStep {
                    dissection: key,
                    hashes: d.hashes.clone(),
                    index,
                    step: bounds[index as usize],
                }
            }),
            8 => pick(&mut rng, Some(NodeKind::Dissection)).map(|(key, d)| {
                let bounds = verifier::bisection::boundaries(d.lo, d.hi, arity);
                TreeMove::ProveHalted {
                    dissection: key,
                    hashes: d.hashes.clone(),
                    step: bounds[bounds.len() - 2],
                }
            }),
            9 | 10 => pick(&mut rng, None).map(|(key, _)| TreeMove::Resolve { key }),
            _ => {
                let id = 1 + rng.below(3);
                let party = &parties[who];
                let _ = match rng.below(4) {
                    0 => confirm_mirrored(&mut chain, &mut m, party, id),
                    1 => reject_voided_mirrored(&mut chain, &mut m, party, id).map(|_| ()),
                    2 => back_mirrored(&mut chain, &mut m, party, id),
                    _ => {
                        cash_out(&mut chain, &mut m, party);
                        Ok(())
                    }
                };
                None
            }
        };
        if let Some(mv) = mv {
            send_move(&mut chain, &mut m, &mut contestants[who], &mv);
        }
        prover::dispute::onchain::compare(&mut chain.l1, &chain.deployment, &m.mirror, &addresses)
            .unwrap_or_else(|e| panic!("after move {i}: {e}"));
        if i % 25 == 0 {
            rollup_money_is_conserved(&mut chain, &m);
        }
    }
    rollup_money_is_conserved(&mut chain, &m);
    let decided = (1..=3)
        .filter(|id| m.mirror.referee.assertion(*id).unwrap().status != AssertionStatus::Pending)
        .count();
    println!(
        "{} dispute nodes, {decided} of 3 assertions decided, {} moves sent",
        m.mirror.referee.nodes().len(),
        m.log.len()
    );
}

/// A hash of no machine.
fn noise(rng: &mut SplitMix) -> MachineHash {
    MachineHash(program::keccak256(&rng.next().to_be_bytes()))
}

/// A batch posted in blobs (EIP-4844): the inbox writes the blobs' versioned hashes (`BLOBHASH`)
/// into the message in place of the section, and a node reads the blobs back checked against
/// them. Refused: a blob count the length does not need, a poster that is not the sequencer, a
/// zero length; a chain serving other blobs than the ones posted is caught when reading back.
#[test]
fn a_batch_in_blobs_is_bound_to_its_versioned_hashes() {
    use alloy_sol_types::SolCall;
    use program::ledger::blob::{from_blobs, to_blobs, DATA_PER_BLOB};
    use program::ledger::section::BlobReference;
    use prover::settlement::post_batch_blobs;
    use verifier::blobs::versioned_hashes;

    let mut chain = chain();
    deposit(&mut chain, [0x77; 20], ETHER);
    let log = L1Log::read(&mut chain.l1, &chain.deployment).unwrap();
    let delayed = pending_delayed(&mut chain.l1, &log, usize::MAX).unwrap();
    let section = program::compress_section(&first_transactions());
    let (number, receipt, blobs) = post_batch_blobs(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &section,
        delayed,
    )
    .unwrap();
    assert_eq!((number, blobs), (1, 1));
    println!(
        "batch in 1 blob ({} section bytes, 1 deposit): {} gas, 131072 blob gas",
        section.len(),
        receipt.gas_used
    );
    let batch = fetch_batch(&mut chain.l1, &chain.deployment, number).unwrap();
    let reference = BlobReference::of(&batch.transactions).expect("the inbox's blob reference");
    assert_eq!(reference.len as usize, section.len());
    let posted_blobs = to_blobs(&section);
    assert_eq!(
        reference.versioned_hashes,
        versioned_hashes(&posted_blobs)
            .unwrap()
            .iter()
            .map(|hash| hash.0)
            .collect::<Vec<_>>()
    );
    assert_eq!(batch.blobs, posted_blobs);
    let refs: Vec<&[u8]> = batch.blobs.iter().map(Vec::as_slice).collect();
    assert_eq!(from_blobs(&refs, section.len()).unwrap(), section);
    assert_eq!(batch.delayed.len(), 1);

    // Two blobs for a length one blob holds; one blob for a length that needs two; no length.
    let call = |len: u32| {
        Inbox::postBatchBlobsCall {
            dataLength: len,
            delayed: vec![],
        }
        .abi_encode()
    };
    let two = to_blobs(&vec![7u8; DATA_PER_BLOB + 1]);
    let inbox = chain.deployment.inbox;
    for (len, blobs, error) in [
        (100, two.clone(), "BadBlobCount(2, 1)"),
        (
            DATA_PER_BLOB as u32 + 1,
            two[..1].to_vec(),
            "BadBlobCount(1, 2)",
        ),
        (0, two[..1].to_vec(), "BadBlobCount(1, 0)"),
    ] {
        let receipt = chain
            .l1
            .send_blobs(&chain.sequencer, inbox, call(len), blobs)
            .unwrap();
        assert_eq!(receipt.outcome.unwrap_err().error, error);
    }
    let stranger = wallet(0x56);
    let receipt = chain
        .l1
        .send_blobs(&stranger, inbox, call(100), two[..1].to_vec())
        .unwrap();
    assert!(
        receipt
            .outcome
            .unwrap_err()
            .error
            .starts_with("NotSequencer"),
        "only the sequencer posts"
    );
    // A sequencer censoring deposits through blobs: once the oldest pending one has waited the
    // force-inclusion delay, a blob batch that consumes none is refused, as a calldata one is.
    deposit(&mut chain, [0x78; 20], ETHER);
    chain.l1.advance_time(PERIOD).unwrap();
    let receipt = chain
        .l1
        .send_blobs(&chain.sequencer, inbox, call(100), two[..1].to_vec())
        .unwrap();
    let refused = receipt.outcome.unwrap_err().error;
    assert!(refused.starts_with("DelayedOverdue"), "{refused}");
    assert_eq!(
        view(&mut chain.l1, inbox, Inbox::batchCountCall {}).unwrap(),
        1
    );

    // A chain (or a beacon node) that serves another blob for the batch is caught.
    struct OtherBlobs<'a>(&'a mut EmbeddedL1);
    impl L1 for OtherBlobs<'_> {
        fn chain_id(&self) -> u64 {
            self.0.chain_id()
        }
        fn head(&mut self) -> Result<(u64, u64), L1Error> {
            self.0.head()
        }
        fn balance(&mut self, who: verifier::l1::Address) -> Result<U256, L1Error> {
            self.0.balance(who)
        }
        fn deploy(
            &mut self,
            from: &Wallet,
            code: Vec<u8>,
        ) -> Result<verifier::l1::Address, L1Error> {
            self.0.deploy(from, code)
        }
        fn send(
            &mut self,
            from: &Wallet,
            to: verifier::l1::Address,
            value: U256,
            data: Vec<u8>,
        ) -> Result<TxReceipt, L1Error> {
            self.0.send(from, to, value, data)
        }
        fn call(
            &mut self,
            to: verifier::l1::Address,
            data: Vec<u8>,
        ) -> Result<Result<verifier::l1::Bytes, verifier::l1::Revert>, L1Error> {
            self.0.call(to, data)
        }
        fn logs(
            &mut self,
            address: verifier::l1::Address,
            from: u64,
            to: u64,
        ) -> Result<Vec<verifier::l1::Log>, L1Error> {
            self.0.logs(address, from, to)
        }
        fn transaction_input(&mut self, hash: B256) -> Result<verifier::l1::Bytes, L1Error> {
            self.0.transaction_input(hash)
        }
        fn fee(&mut self, hash: B256) -> Result<U256, L1Error> {
            self.0.fee(hash)
        }
        fn advance_time(&mut self, seconds: u64) -> Result<(), L1Error> {
            self.0.advance_time(seconds)
        }
        fn set_balance(&mut self, who: verifier::l1::Address, wei: U256) -> Result<(), L1Error> {
            self.0.set_balance(who, wei)
        }
        fn blobs(&mut self, hash: B256) -> Result<Vec<Vec<u8>>, L1Error> {
            let mut blobs = self.0.blobs(hash)?;
            blobs[0][1] ^= 1;
            Ok(blobs)
        }
    }
    let forged = fetch_batch(&mut OtherBlobs(&mut chain.l1), &chain.deployment, number);
    assert!(
        forged
            .as_ref()
            .is_err_and(|e| e.to_string().contains("does not match its versioned hash")),
        "{forged:?}"
    );
}

/// A wrong root over a batch posted in blobs, lying from the step right after the guest's first
/// `read_blob`: the dispute ends in a one-step proof of that blob read, played on L1 (the
/// Solidity checker verifies the KZG opening with the point-evaluation precompile), and the liar
/// is rejected.
#[test]
fn a_lie_over_a_blob_batch_loses_to_a_one_step_proof_of_a_blob_read() {
    use verifier::settlement::contracts::events;
    let mut chain = chain();
    chain.first_in_blobs = true;
    chain.first_transactions = program::compress_section(&first_transactions());
    // Where the first blob read is: the step the proof will be of.
    let blob_read_step = first_blob_read_step(&chain.first_transactions);
    let lie = Lie::WrongRoot {
        from: blob_read_step + 1,
    };
    let d = rival_dispute(&mut chain, lie);
    assert_eq!(d.report.status, AssertionStatus::Confirmed);
    // The step proven on L1 carries the blob's KZG commitment: it is the blob read.
    let batch = fetch_batch(&mut chain.l1, &chain.deployment, 1).unwrap();
    let commitment = verifier::blobs::commitment(&batch.blobs[0]).unwrap();
    let proven: Vec<_> = events::<Rollup::StepProven>(&rollup_logs(&mut chain))
        .into_iter()
        .map(|(_, log)| log.tx_hash)
        .collect();
    assert_eq!(proven.len(), 1, "one one-step proof decided it");
    let input = chain.l1.transaction_input(proven[0]).unwrap();
    assert!(
        input.windows(48).any(|window| window == commitment),
        "the proof played on L1 is of the blob read (step {blob_read_step})"
    );
    println!(
        "blob batch dispute (lie from step {}): honest {} moves, {} gas; liar lost {}",
        blob_read_step + 1,
        d.honest_moves,
        d.honest_gas,
        eth(d.liar_lost)
    );
}
