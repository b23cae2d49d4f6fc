//! `rollup demo`, the L1 part: the rollup's whole life on an embedded Ethereum (revm), with the
//! seed's windows in simulated time and the gas of every transaction.

use std::time::Instant;

use program::ledger::{BatchOutputs, TransactionList, Withdrawal};
use program::{address_of, random_batch, sign_transfer, sign_withdraw, NodeStore, SigningKey};
use std::collections::BTreeMap;

use prover::dispute::onchain::apply_move;
use prover::dispute::tree::{LyingTrace, MoveContext, RunTrace};
use prover::dispute::{
    checkpoint_count, differing_outputs, play_until_decided, Checkpoints, Computation, Contestant,
    Mirror,
};
use prover::settlement::{
    assert_batch, confirm, fetch_batch, finalize_withdrawal, genesis_assertion, initial_opening,
    post_batch, post_batch_blobs, run_claim, stake_value, withdrawal_proof_of, AssertionRecord,
    PostedBatch,
};
use prover::{Engine, StfGuest};
use verifier::bisection::honest::TreeMove;
use verifier::bisection::referee::AssertionStatus;
use verifier::l1::embedded::EmbeddedL1;
use verifier::l1::{Address, TxReceipt, Wallet, B256, L1, U256};
use verifier::settlement::contracts::{self, view, Inbox, Rollup, ETHER};
use verifier::settlement::{deploy, SettlementConfig};

const CHAIN_ID: u64 = 1;
const DAY: u64 = 86_400;

fn eth(wei: u128) -> String {
    format!("{}.{:03} ETH", wei / ETHER, wei % ETHER / (ETHER / 1000))
}

fn short(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{}..", &hex[..12.min(hex.len())])
}

fn ok(receipt: TxReceipt, what: &str) -> Result<TxReceipt, String> {
    match &receipt.outcome {
        Ok(_) => Ok(receipt),
        Err(revert) => Err(format!("{what} was refused: {revert}")),
    }
}

fn refusal(receipt: TxReceipt, what: &str) -> Result<String, String> {
    match receipt.outcome {
        Err(revert) => Ok(revert.error),
        Ok(_) => Err(format!("{what} should have been refused")),
    }
}

fn wallet(byte: u8) -> Result<Wallet, String> {
    Wallet::from_secret(&[byte; 32]).ok_or_else(|| "bad demo key".to_string())
}

/// Section 5: deposit, batch, assertion, window, confirmation, withdrawal; then a fraudulent
/// assertion disputed on chain down to the one-step proof the EVM checks.
pub fn settlement_section(
    guest: &StfGuest,
    genesis_root: program::ledger::Hash,
    genesis_store: NodeStore,
) -> Result<(), String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    println!("5. Settlement on L1 (an embedded Ethereum: revm, Osaka rules; the seed's windows, simulated time):");
    let (sequencer, user, watcher) = (wallet(0x51)?, wallet(0x52)?, wallet(0x54)?);
    let (fraudster, accomplice) = (wallet(0x53)?, wallet(0x55)?);
    let mut l1 = EmbeddedL1::new().map_err(|x| e(&x))?;
    for w in [&sequencer, &user, &watcher, &fraudster, &accomplice] {
        l1.set_balance(w.address(), U256::from(100 * ETHER))
            .map_err(|x| e(&x))?;
    }
    let opening = initial_opening(guest).map_err(|x| e(&x))?;
    let config = SettlementConfig::new(
        CHAIN_ID,
        sequencer.address(),
        B256::from(genesis_root),
        B256::from(opening.commitment()),
        B256::from(opening.module_hash()),
    );
    let deployment = deploy(&mut l1, &sequencer, &config).map_err(|x| e(&x))?;
    println!(
        "   deployed: Inbox {}, Rollup {}, one-step checker {}",
        deployment.inbox, deployment.rollup, deployment.one_step_verifier
    );
    println!(
        "   rules: challenge period {} days, withdrawal delay {} day, stake {} (one per chain of assertions), bonds {} per move, clocks {} days per side along any path, k = {}",
        config.challenge_period / DAY,
        config.withdrawal_delay / DAY,
        eth(ETHER),
        eth(ETHER),
        config.clock_budget / DAY,
        config.arity
    );

    // A deposit on L1 for Alice on L2.
    let alice_key = SigningKey::from_slice(&[0xA1; 32]).map_err(|x| e(&x))?;
    let alice = address_of(&alice_key);
    let receipt = contracts::send(
        &mut l1,
        &user,
        deployment.inbox,
        U256::from(3 * ETHER),
        Inbox::depositCall {
            l2Recipient: Address::from(alice),
        },
    )
    .map_err(|x| e(&x))?;
    let receipt = ok(receipt, "the deposit")?;
    println!(
        "   deposit: {} on L1 for L2 account {}: {} gas; the inbox escrows it",
        eth(3 * ETHER),
        short(&alice),
        receipt.gas_used
    );

    // Batch 1: the deposit, Alice's transfer and withdrawal, and 200 transactions of the genesis accounts.
    let (random, _) = random_batch(42, 220, 50, CHAIN_ID, 1, genesis_root);
    let mut transactions = vec![
        sign_transfer(&alice_key, CHAIN_ID, [0xB0; 20], ETHER / 2, 0)
            .to_bytes()
            .map_err(|x| e(&x))?,
        sign_withdraw(&alice_key, CHAIN_ID, user.address().into_array(), ETHER, 1)
            .to_bytes()
            .map_err(|x| e(&x))?,
    ];
    transactions.extend(random.transactions.into_iter().take(200));
    let raw = TransactionList(transactions)
        .to_bytes()
        .map_err(|x| e(&x))?;
    let section = program::compress_section(&raw);
    let (number, receipt) =
        post_batch(&mut l1, &sequencer, &deployment, &section).map_err(|x| e(&x))?;
    let batch = fetch_batch(&mut l1, &deployment, number).map_err(|x| e(&x))?;
    println!(
        "   batch {number} posted: {} deposit + 202 transactions, {} bytes brotli-compressed to {} ({:.0}%) of calldata: {} gas; L1 commits to the message it built",
        batch.delayed.len(),
        raw.len(),
        section.len(),
        100.0 * section.len() as f64 / raw.len() as f64,
        receipt.gas_used
    );

    let genesis = genesis_assertion(&mut l1, &deployment).map_err(|x| e(&x))?;
    let mut mirror = Mirror::new(&mut l1, &deployment, &opening, &genesis).map_err(|x| e(&x))?;
    let started = Instant::now();
    let claim = run_claim(guest, &batch, &genesis, genesis_store.clone()).map_err(|x| e(&x))?;
    let outputs = BatchOutputs::from_bytes(&claim.outputs).map_err(|x| e(&x))?;
    let value = stake_value(&mut l1, &deployment, sequencer.address()).map_err(|x| e(&x))?;
    let (assertion, receipt) =
        assert_batch(&mut l1, &sequencer, &deployment, &genesis, &batch, &claim)
            .map_err(|x| e(&x))?;
    mirror
        .assert(
            &mut l1,
            sequencer.address(),
            value,
            &receipt,
            Some(&assertion),
        )
        .map_err(|x| e(&x))?;
    println!(
        "   honest assertion {}: state root {}, {} withdrawals, {} steps (run in {:.0} ms), stake {}: {} gas",
        assertion.id,
        short(&outputs.post_state_root),
        outputs.withdrawal_count,
        claim.steps,
        started.elapsed().as_secs_f64() * 1e3,
        eth(ETHER),
        receipt.gas_used
    );
    let refused = refusal(
        confirm(&mut l1, &user, &deployment, &assertion).map_err(|x| e(&x))?,
        "an early confirmation",
    )?;
    println!("   confirm at once? refused: {refused}");
    l1.advance_time(config.challenge_period)
        .map_err(|x| e(&x))?;
    let receipt = ok(
        confirm(&mut l1, &user, &deployment, &assertion).map_err(|x| e(&x))?,
        "the confirmation",
    )?;
    let (_, now) = l1.head().map_err(|x| e(&x))?;
    mirror
        .referee
        .confirm(now, assertion.id)
        .map_err(|x| format!("the model refuses the confirmation: {x}"))?;
    println!(
        "   ... {} days pass unchallenged; confirm: {} gas; its withdrawals are claimable {} day later",
        config.challenge_period / DAY,
        receipt.gas_used,
        config.withdrawal_delay / DAY
    );
    // The withdrawal delay counts from confirmation.
    l1.advance_time(config.withdrawal_delay)
        .map_err(|x| e(&x))?;

    // Alice's withdrawal paid on L1, once.
    let withdrawal = Withdrawal {
        l1_recipient: user.address().into_array(),
        amount: ETHER,
        // Its receipt's place: after the delayed messages and Alice's transfer.
        index: (number << 32) | (batch.delayed.len() as u64 + 1),
    };
    let leaves: Vec<Withdrawal> = run_withdrawals(&batch, &genesis, genesis_store)?;
    let position = leaves
        .iter()
        .position(|w| *w == withdrawal)
        .ok_or("Alice's withdrawal is not in the batch")?;
    let proof = withdrawal_proof_of(&leaves, position).ok_or("no withdrawal proof")?;
    let before = l1.balance(user.address()).map_err(|x| e(&x))?;
    let receipt = ok(
        finalize_withdrawal(
            &mut l1,
            &user,
            &deployment,
            assertion.id,
            &withdrawal,
            proof.clone(),
        )
        .map_err(|x| e(&x))?,
        "the withdrawal",
    )?;
    let paid = l1.balance(user.address()).map_err(|x| e(&x))? - before;
    println!(
        "   withdrawal of {} to {}: {} gas, paid {} on L1",
        eth(ETHER),
        short(user.address().as_slice()),
        receipt.gas_used,
        eth(paid.to::<u128>())
    );
    let refused = refusal(
        finalize_withdrawal(
            &mut l1,
            &user,
            &deployment,
            assertion.id,
            &withdrawal,
            proof,
        )
        .map_err(|x| e(&x))?,
        "a second claim",
    )?;
    println!("   the same claim again: refused: {refused}");

    fraud(
        &mut l1,
        &deployment,
        guest,
        &mut mirror,
        &assertion,
        &claim,
        &alice_key,
        (&sequencer, &fraudster, &watcher, &accomplice),
    )?;

    let deposited =
        view(&mut l1, deployment.inbox, Inbox::totalDepositedCall {}).map_err(|x| e(&x))?;
    let released =
        view(&mut l1, deployment.inbox, Inbox::totalReleasedCall {}).map_err(|x| e(&x))?;
    let held = l1.balance(deployment.inbox).map_err(|x| e(&x))?;
    println!(
        "   escrow: deposited {} = held {} + paid out {}",
        eth(deposited),
        eth(held.to::<u128>()),
        eth(released)
    );
    if U256::from(deposited) != held + U256::from(released) {
        return Err("the escrow does not add up".into());
    }
    Ok(())
}

/// The withdrawals of `batch` (what a node keeps to serve proofs), from the native ledger.
fn run_withdrawals(
    batch: &PostedBatch,
    parent: &AssertionRecord,
    store: NodeStore,
) -> Result<Vec<Withdrawal>, String> {
    let message = batch.message(&parent.post_state_root().map_err(|e| e.to_string())?);
    let mut abi = program::NativeAbi::new(message, store);
    Ok(program::ledger::execute(&mut abi, &program::ledger::Config::default()).withdrawals)
}

#[allow(clippy::too_many_arguments)]
/// Batch 2: a correct assertion and a fraudulent rival. A watcher's replay disagrees with the
/// rival: its dispute on chain, down to the one-step proof the EVM checks. Then the throw: the
/// correct assertion's own camp challenges it just before its period ends and walks away; the
/// watcher defends it, and it confirms within the bound.
fn fraud(
    l1: &mut EmbeddedL1,
    deployment: &verifier::settlement::Deployment,
    guest: &StfGuest,
    mirror: &mut Mirror,
    parent: &AssertionRecord,
    parent_claim: &prover::settlement::BatchClaim,
    alice_key: &SigningKey,
    (sequencer, fraudster, watcher, accomplice): (&Wallet, &Wallet, &Wallet, &Wallet),
) -> Result<(), String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let section = TransactionList(
        (0..3)
            .map(|i| {
                sign_transfer(alice_key, CHAIN_ID, [0xB0; 20], ETHER / 10, 2 + i)
                    .to_bytes()
                    .map_err(|x| e(&x))
            })
            .collect::<Result<_, _>>()?,
    )
    .to_bytes()
    .map_err(|x| e(&x))?;
    let section = program::compress_section(&section);
    let (number, receipt, blobs) =
        post_batch_blobs(l1, sequencer, deployment, &section, Vec::new()).map_err(|x| e(&x))?;
    let batch = fetch_batch(l1, deployment, number).map_err(|x| e(&x))?;
    println!(
        "   batch {number} posted in {blobs} blob (EIP-4844): {} section bytes; {} gas + {} blob gas; the inbox binds the blob's versioned hash (BLOBHASH), and the guest reads it back one KZG-opened field element a step",
        section.len(),
        receipt.gas_used,
        blobs * program::ledger::blob::BYTES_PER_BLOB
    );
    let in_calldata = prover::settlement::availability::calldata_gas(&section);
    println!(
        "   (in calldata the same bytes would cost about {in_calldata} gas; a batch of 1,000 transfers fills about 60% of a blob and costs 193 gas a transaction in blobs, against 2,930-3,050 compressed in calldata: cargo bench --bench batch_cost)"
    );
    let store = parent_claim.store.clone();
    let truth = run_claim(guest, &batch, parent, store.clone()).map_err(|x| e(&x))?;
    let honest = assert_mirrored(l1, deployment, mirror, sequencer, parent, &batch, &truth)?;
    println!(
        "   batch {number} (3 transfers) posted; the sequencer asserts it (assertion {}; its one stake moves forward from assertion {})",
        honest.id, parent.id
    );
    let mut lie = truth.clone();
    lie.outputs[48..80].copy_from_slice(&program::keccak256(b"mint me a million"));
    let rival = assert_mirrored(l1, deployment, mirror, fraudster, parent, &batch, &lie)?;
    let claimed = BatchOutputs::from_bytes(&lie.outputs).map_err(|x| e(&x))?;
    println!(
        "   a fraudster posts a rival, assertion {}, claiming state root {} (with a stake of its own)",
        rival.id,
        short(&claimed.post_state_root)
    );
    let abi = batch.abi(&parent.post_state_root().map_err(|x| e(&x))?, store.clone());
    let replay = guest
        .run_abi(Engine::Native, abi.clone())
        .map_err(|x| e(&x))?;
    println!(
        "   a watcher replays batch {number} on wasmtime ({:.1} ms): it disagrees with assertion {} on {}",
        replay.elapsed.as_secs_f64() * 1e3,
        rival.id,
        differing_outputs(&claimed, &replay.outputs).join(", ")
    );
    let initial = initial_opening(guest).map_err(|x| e(&x))?;
    let computation = Computation::stf_abi(guest, abi).map_err(|x| e(&x))?;
    let run = RunTrace::new(Checkpoints::build(
        computation,
        truth.steps,
        checkpoint_count(truth.steps, 32),
    ));
    let assertions: BTreeMap<u64, AssertionRecord> = [
        (parent.id, parent.clone()),
        (honest.id, honest.clone()),
        (rival.id, rival.clone()),
    ]
    .into();
    let liar = LyingTrace {
        truth: run.clone(),
        from: truth.steps / 2 + 1,
        steps: truth.steps,
        final_hash: vm::MachineHash(rival.data.finalMachineHash.0),
    };
    let mut contestants = vec![
        Contestant::new(watcher.clone(), Box::new(run.clone())),
        Contestant {
            plays_in: Some(vec![rival.id]),
            ..Contestant::new(fraudster.clone(), Box::new(liar))
        },
    ];
    let report = play_until_decided(
        l1,
        deployment,
        mirror,
        &initial,
        &assertions,
        parent.id,
        rival.id,
        &mut contestants,
        12,
        30 * DAY,
    )
    .map_err(|x| e(&x))?;
    let (w, f) = (&contestants[0], &contestants[1]);
    println!(
        "   the dispute: the watcher challenges, the fraudster dissects ({} moves, {} gas), the watcher refutes the first wrong part each time, down to one step proven on L1's checker ({} moves, {} gas)",
        f.moves, f.gas, w.moves, w.gas
    );
    println!(
        "   assertion {} is {:?} after {:.1} days (the contract agreed with the Rust referee on every move, node and credit)",
        rival.id,
        report.status,
        (report.decided_at - report.created_at) as f64 / DAY as f64
    );
    if report.status != AssertionStatus::Rejected {
        return Err("the fraudulent assertion survived its dispute".into());
    }

    // The throw: the correct assertion challenged by its own camp just before its period ends.
    let period = view(l1, deployment.rollup, Rollup::challengePeriodCall {}).map_err(|x| e(&x))?;
    let budget = view(l1, deployment.rollup, Rollup::clockBudgetCall {}).map_err(|x| e(&x))?;
    let created = mirror
        .referee
        .assertion(honest.id)
        .map(|a| a.created_at)
        .unwrap_or(0);
    let (_, now) = l1.head().map_err(|x| e(&x))?;
    l1.advance_time((created + period).saturating_sub(now + 120))
        .map_err(|x| e(&x))?;
    let cx = MoveContext {
        deployment,
        initial: &initial,
        assertions: &assertions,
    };
    let mut thrower = Contestant {
        plays: false,
        ..Contestant::new(accomplice.clone(), Box::new(run.clone()))
    };
    let receipt = apply_move(
        l1,
        mirror,
        &cx,
        &mut thrower,
        &TreeMove::ChallengeAssertion { id: honest.id },
    )
    .map_err(|x| e(&x))?;
    println!(
        "   the throw: 2 minutes before assertion {}'s period ends, an accomplice of its asserter challenges it ({} gas) and walks away",
        honest.id, receipt.gas_used
    );
    let mut contestants = vec![Contestant::new(watcher.clone(), Box::new(run)), thrower];
    let report = play_until_decided(
        l1,
        deployment,
        mirror,
        &initial,
        &assertions,
        parent.id,
        honest.id,
        &mut contestants,
        12,
        30 * DAY,
    )
    .map_err(|x| e(&x))?;
    let days = |s: u64| s as f64 / DAY as f64;
    println!(
        "   the watcher, a third party, defends it ({} moves, {} gas); assertion {} is {:?} {:.2} days after it was posted (bound: period + 2 clocks = {:.0} days)",
        contestants[0].moves,
        contestants[0].gas,
        honest.id,
        report.status,
        days(report.decided_at - report.created_at),
        days(period + 2 * budget)
    );
    if report.status != AssertionStatus::Confirmed
        || report.decided_at - report.created_at > period + 2 * budget + 60
    {
        return Err("the thrown assertion was not confirmed within the bound".into());
    }
    let credits = view(
        l1,
        deployment.rollup,
        Rollup::creditsCall(watcher.address()),
    )
    .map_err(|x| e(&x))?;
    let burned = view(l1, deployment.rollup, Rollup::totalBurnedCall {}).map_err(|x| e(&x))?;
    println!(
        "   the watcher is credited {} (its bonds back, the fraudster's stake and the losers' bonds less the burn); {} burned",
        eth(credits.to::<u128>()),
        eth(burned.to::<u128>())
    );
    Ok(())
}

/// Asserts `claim` on `parent` from `who` and mirrors it in the model.
fn assert_mirrored(
    l1: &mut EmbeddedL1,
    deployment: &verifier::settlement::Deployment,
    mirror: &mut Mirror,
    who: &Wallet,
    parent: &AssertionRecord,
    batch: &PostedBatch,
    claim: &prover::settlement::BatchClaim,
) -> Result<AssertionRecord, String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let value = stake_value(l1, deployment, who.address()).map_err(|x| e(&x))?;
    let (record, receipt) =
        assert_batch(l1, who, deployment, parent, batch, claim).map_err(|x| e(&x))?;
    mirror
        .assert(l1, who.address(), value, &receipt, Some(&record))
        .map_err(|x| e(&x))?;
    Ok(record)
}
