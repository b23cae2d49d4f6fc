//! `rollup demo`, the L1 part: the rollup's whole life on an embedded Ethereum (revm), with the
//! seed's windows in simulated time and the gas of every transaction.

use std::time::Instant;

use program::ledger::{BatchOutputs, TransactionList, Withdrawal};
use program::{address_of, random_batch, sign_transfer, sign_withdraw, NodeStore, SigningKey};
use prover::dispute::{
    checkpoint_count, differing_outputs, play_onchain, Checkpoints, Computation, HonestAgent, Liar,
    Lie, Player,
};
use prover::settlement::{
    assert_batch, challenge, confirm, fetch_batch, finalize_withdrawal, genesis_assertion,
    initial_opening, post_batch, run_claim, withdrawal_proof_of, AssertionRecord, PostedBatch,
};
use prover::{Engine, StfGuest};
use verifier::bisection::Party;
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
    let fraudster = wallet(0x53)?;
    let mut l1 = EmbeddedL1::new().map_err(|x| e(&x))?;
    for w in [&sequencer, &user, &watcher, &fraudster] {
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
        "   rules: challenge period {} days, withdrawal delay {} day, bonds {}, chess clocks {} days each, k = {}",
        config.challenge_period / DAY,
        config.withdrawal_delay / DAY,
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
    let section = TransactionList(transactions)
        .to_bytes()
        .map_err(|x| e(&x))?;
    let (number, receipt) =
        post_batch(&mut l1, &sequencer, &deployment, &section).map_err(|x| e(&x))?;
    let batch = fetch_batch(&mut l1, &deployment, number).map_err(|x| e(&x))?;
    println!(
        "   batch {number} posted: {} deposit + 202 transactions, {} bytes of calldata: {} gas; L1 commits to the message it built",
        batch.deposits.len(),
        section.len(),
        receipt.gas_used
    );

    let genesis = genesis_assertion(&mut l1, &deployment).map_err(|x| e(&x))?;
    let started = Instant::now();
    let claim = run_claim(guest, &batch, &genesis, genesis_store.clone()).map_err(|x| e(&x))?;
    let outputs = BatchOutputs::from_bytes(&claim.outputs).map_err(|x| e(&x))?;
    let (assertion, receipt) =
        assert_batch(&mut l1, &sequencer, &deployment, &genesis, &batch, &claim)
            .map_err(|x| e(&x))?;
    println!(
        "   honest assertion {}: state root {}, {} withdrawals, {} steps (run in {:.0} ms), bond {}: {} gas",
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
    println!(
        "   ... {} days pass unchallenged; confirm: {} gas; its withdrawals root is now claimable",
        config.challenge_period / DAY,
        receipt.gas_used
    );

    // Alice's withdrawal paid on L1, once.
    let withdrawal = Withdrawal {
        l1_recipient: user.address().into_array(),
        amount: ETHER,
        index: (number << 32) | 1,
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
        &assertion,
        &claim,
        &alice_key,
        (&sequencer, &fraudster, &watcher),
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

/// Batch 2 with a fraudulent assertion; a watcher's replay disagrees; the game on chain.
fn fraud(
    l1: &mut EmbeddedL1,
    deployment: &verifier::settlement::Deployment,
    guest: &StfGuest,
    parent: &AssertionRecord,
    parent_claim: &prover::settlement::BatchClaim,
    alice_key: &SigningKey,
    (sequencer, fraudster, watcher): (&Wallet, &Wallet, &Wallet),
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
    let (number, _) = post_batch(l1, sequencer, deployment, &section).map_err(|x| e(&x))?;
    let batch = fetch_batch(l1, deployment, number).map_err(|x| e(&x))?;
    let store = parent_claim.store.clone();
    let truth = run_claim(guest, &batch, parent, store.clone()).map_err(|x| e(&x))?;
    let mut lie = truth.clone();
    lie.outputs[48..80].copy_from_slice(&program::keccak256(b"mint me a million"));
    let (assertion, receipt) =
        assert_batch(l1, fraudster, deployment, parent, &batch, &lie).map_err(|x| e(&x))?;
    let claimed = BatchOutputs::from_bytes(&lie.outputs).map_err(|x| e(&x))?;
    println!(
        "   batch {number} (3 transfers) posted; a fraudulent assertion {} claims state root {}: {} gas",
        assertion.id,
        short(&claimed.post_state_root),
        receipt.gas_used
    );
    let message = batch.message(&parent.post_state_root().map_err(|x| e(&x))?);
    let replay = guest
        .run_message(Engine::Native, message.clone(), store.clone())
        .map_err(|x| e(&x))?;
    println!(
        "   a watcher replays batch {number} on wasmtime ({:.1} ms): it disagrees on {}: challenge!",
        replay.elapsed.as_secs_f64() * 1e3,
        differing_outputs(&claimed, &replay.outputs).join(", ")
    );
    let initial = initial_opening(guest).map_err(|x| e(&x))?;
    let (game, receipt) =
        challenge(l1, watcher, deployment, &assertion, &initial).map_err(|x| e(&x))?;
    println!(
        "   challenge (bond {}; L1 derives the step-0 machine hash from the batch and the parent's root): {} gas",
        eth(ETHER),
        receipt.gas_used
    );
    let computation = Computation::stf_message(guest, message, store).map_err(|x| e(&x))?;
    let trace = Checkpoints::build(computation, truth.steps, checkpoint_count(truth.steps, 32));
    let report = play_onchain(
        l1,
        deployment,
        game,
        Player {
            agent: Box::new(Liar::new(
                trace.clone(),
                Lie::WrongFrom(truth.steps / 2 + 1),
                42,
            )),
            wallet: fraudster.clone(),
        },
        Player {
            agent: Box::new(HonestAgent::new(trace)),
            wallet: watcher.clone(),
        },
    )
    .map_err(|x| e(&x))?;
    let mut round = 0;
    let mut line = String::new();
    for m in &report.moves {
        match m.kind {
            "bisect" => {
                round += 1;
                line = format!(
                    "   round {round}: [ the asserter posts its interior hashes: {} gas",
                    m.gas
                );
            }
            "choose" => {
                println!(
                    "{line}; the challenger picks the part it disputes: {} gas ]",
                    m.gas
                );
            }
            "proveStep" => println!(
                "   one step left: the one-step proof is checked by the EVM checker on L1: {} gas",
                m.gas
            ),
            other => println!("   {other}: {} gas", m.gas),
        }
    }
    let outcome = report.outcome;
    let credits = view(
        l1,
        deployment.rollup,
        Rollup::creditsCall(watcher.address()),
    )
    .map_err(|x| e(&x))?;
    let burned = view(l1, deployment.rollup, Rollup::totalBurnedCall {}).map_err(|x| e(&x))?;
    let status = view(
        l1,
        deployment.rollup,
        Rollup::assertionCall { id: assertion.id },
    )
    .map_err(|x| e(&x))?
    .status;
    println!(
        "   verdict: {:?} over {} steps in {} rounds; the {} wins; assertion {} is {} (the contract agreed with the Rust referee on every move)",
        outcome.reason,
        truth.steps,
        report.rounds,
        outcome.winner,
        assertion.id,
        if status == 3 { "rejected" } else { "NOT rejected" }
    );
    println!(
        "   bonds: the challenger is credited {} (its bond and half the asserter's); {} burned; the game's {} moves cost {} gas",
        eth(credits.to::<u128>()),
        eth(burned.to::<u128>()),
        report.moves.len(),
        report.gas
    );
    if outcome.winner != Party::Challenger || status != 3 {
        return Err("the fraudulent assertion survived its dispute".into());
    }
    Ok(())
}
