//! `rollup demo`, the EVM part: the product STF. A Solidity ERC-20 (compiled by the repo's pinned
//! solc) deployed on L2 and called, in a block run natively, on wasmtime and on the provable
//! interpreter with identical outputs; then a wrong state root for that block bisected down to
//! one instruction inside revm and decided by the one-step checker.

use std::time::Instant;

use alloy_primitives::{Address, Bytes, TxKind, U256};
use program::evm::evm_stf::block::Head;
use program::evm::evm_stf::receipts::Outcome;
use program::evm::evm_stf::{encode_message, BlockList, GenesisAccount, L2Block};
use program::evm::{call, evm_genesis, run_evm_native, CallOutcome};
use program::evm_workload::sign;
use program::{BatchHeader, Config, SigningKey};
use prover::dispute::{
    checkpoint_count, run_dispute, Checkpoints, Computation, HonestAgent, Liar, Lie,
};
use prover::{Engine, StfGuest};
use verifier::bisection::{BisectionConfig, Party, DEFAULT_ARITY};

const CHAIN_ID: u64 = 901;
const GENESIS_TIME: u64 = 1_700_000_000;
const ETHER: u128 = 1_000_000_000_000_000_000;

fn key(byte: u8) -> Result<SigningKey, String> {
    SigningKey::from_slice(&[byte; 32]).map_err(|e| e.to_string())
}

fn address(key: &SigningKey) -> Address {
    Address::from(program::address_of(key))
}

fn eip1559(nonce: u64, to: TxKind, input: Vec<u8>, gas_limit: u64) -> alloy_consensus::TxEip1559 {
    alloy_consensus::TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit,
        max_fee_per_gas: 3_000_000_000,
        max_priority_fee_per_gas: 1_000_000,
        to,
        value: U256::ZERO,
        access_list: Default::default(),
        input: Bytes::from(input),
    }
}

/// `selector(signature) ‖ words`.
fn calldata(signature: &str, words: &[[u8; 32]]) -> Vec<u8> {
    let mut data = program::keccak256(signature.as_bytes())[..4].to_vec();
    for word in words {
        data.extend_from_slice(word);
    }
    data
}

fn word_of(address: &Address) -> [u8; 32] {
    let mut word = [0u8; 32];
    word[12..].copy_from_slice(address.as_slice());
    word
}

/// Section 6.
pub fn evm_section() -> Result<(), String> {
    println!("6. The EVM on L2 (revm inside the WebAssembly guest, Osaka rules):");
    let (alice, bob) = (key(0xa1)?, key(0xb0)?);
    let token_init = verifier::evm::artifact_bytecode("DemoToken").map_err(|e| e.to_string())?;
    let withdrawals =
        verifier::evm::artifact_deployed_bytecode("L2Withdrawals").map_err(|e| e.to_string())?;
    let funded = GenesisAccount {
        address: address(&alice),
        balance: U256::from(10 * ETHER),
        ..GenesisAccount::default()
    };
    let (root, head, store) =
        evm_genesis(&[funded], GENESIS_TIME, &withdrawals).map_err(|e| e.to_string())?;
    println!(
        "   genesis: Alice holds 10 ETH; the withdrawal contract at {}",
        program::evm::evm_stf::system::WITHDRAWALS
    );

    // DemoToken("Demo", "DMO", 1,000,000): constructor arguments ABI-encoded after the init code.
    let mut deploy = token_init.clone();
    let mut words = [[0u8; 32]; 7];
    words[0][31] = 0x60; // offset of name
    words[1][31] = 0xa0; // offset of symbol
    words[2] = U256::from(1_000_000u64).to_be_bytes();
    words[3][31] = 4;
    words[4][..4].copy_from_slice(b"Demo");
    words[5][31] = 3;
    words[6][..3].copy_from_slice(b"DMO");
    for word in words {
        deploy.extend_from_slice(&word);
    }
    let token = address(&alice).create(0);
    let transfer = calldata(
        "transfer(address,uint256)",
        &[word_of(&address(&bob)), U256::from(250u64).to_be_bytes()],
    );
    let too_much = calldata(
        "transfer(address,uint256)",
        &[word_of(&address(&alice)), U256::from(1u64).to_be_bytes()],
    );
    let transactions = vec![
        sign(&alice, eip1559(0, TxKind::Create, deploy, 1_500_000)),
        sign(&alice, eip1559(1, TxKind::Call(token), transfer, 100_000)),
        // Bob has no ETH for gas: refused before it runs, as Ethereum would.
        sign(&bob, eip1559(0, TxKind::Call(token), too_much, 100_000)),
    ];
    let header = BatchHeader {
        pre_state_root: root,
        chain_id: CHAIN_ID,
        batch_number: 1,
        first_delayed: 0,
        delayed_count: 0,
    };
    let blocks = BlockList(vec![L2Block {
        timestamp: GENESIS_TIME + 2,
        fee_recipient: [0xfe; 20],
        delayed: 0,
        transactions,
    }]);
    let message = encode_message(&header, &[], &blocks);

    let native = run_evm_native(message.clone(), store.clone(), &Config::default());
    let execution = &native.execution;
    println!(
        "   block 1: {} transactions, base fee {} gwei, hash {}",
        blocks.0[0].transactions.len(),
        execution.blocks.first().map_or(0, |b| b.header.base_fee) / 1_000_000_000,
        execution.blocks.first().map(|b| b.hash).unwrap_or_default()
    );
    for (receipt, what) in execution.receipts.iter().zip([
        "deploy DemoToken (solc 0.8.37)",
        "Alice: transfer(Bob, 250)",
        "Bob: transfer without ETH for gas",
    ]) {
        let created = receipt
            .contract_address
            .map(|a| format!(", contract {a}"))
            .unwrap_or_default();
        println!(
            "   {what:<34} {:?}, {} gas, {} log(s){created}",
            receipt.outcome,
            receipt.gas_used,
            receipt.logs.len()
        );
    }
    if execution
        .receipts
        .iter()
        .map(|r| r.outcome)
        .collect::<Vec<_>>()
        != [
            Outcome::Success,
            Outcome::Success,
            Outcome::Refused(program::evm::evm_stf::Refusal::Invalid),
        ]
    {
        return Err(format!("unexpected receipts: {:?}", execution.receipts));
    }
    let post = execution.outputs.post_state_root;
    let head = execution
        .blocks
        .last()
        .map(|block| Head {
            number: block.header.number,
            timestamp: block.header.timestamp,
            hash: block.hash,
            base_fee: block.header.base_fee,
            gas_used: block.header.gas_used,
        })
        .unwrap_or(head);
    let balance_of = calldata("balanceOf(address)", &[word_of(&address(&bob))]);
    match call(
        &native.store,
        post,
        CHAIN_ID,
        &head,
        address(&bob),
        token,
        balance_of,
    )
    .map_err(|e| e.to_string())?
    {
        CallOutcome::Returned(data) if U256::from_be_slice(&data) == U256::from(250u64) => {
            println!("   eth_call balanceOf(Bob) -> 250")
        }
        other => return Err(format!("balanceOf(Bob): {other:?}")),
    }

    let guest = StfGuest::new(program::EVM_STF_WASM).map_err(|e| e.to_string())?;
    for (label, engine) in [
        ("wasmtime", Engine::Native),
        ("interpreter", Engine::Interp),
    ] {
        let run = guest
            .run_message(engine, message.clone(), store.clone())
            .map_err(|e| e.to_string())?;
        if run.outputs != execution.outputs {
            return Err(format!("{label} disagrees with the native run"));
        }
        let steps = if engine == Engine::Interp {
            format!(", {} steps", run.steps)
        } else {
            String::new()
        };
        println!(
            "   guest on {label:<11}: same outputs, {:.1} ms{steps}",
            run.elapsed.as_secs_f64() * 1e3
        );
    }
    println!(
        "   post-state root 0x{}",
        post.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );

    // A liar claims the block ends elsewhere: wrong from the middle of revm's work.
    let started = Instant::now();
    let computation =
        Computation::stf_message(&guest, message, store).map_err(|e| e.to_string())?;
    let steps = computation
        .run_length(prover::runner::BATCH_STEP_LIMIT)
        .ok_or("the block did not halt")?;
    let trace = Checkpoints::build(computation, steps, checkpoint_count(steps, DEFAULT_ARITY));
    let mut honest = HonestAgent::new(trace.clone());
    let mut liar = Liar::new(trace, Lie::WrongFrom(steps / 2 + 11), 6);
    let config = BisectionConfig::new(1_000_000, 600_000);
    let report = run_dispute(
        liar.claim(),
        &mut liar,
        &mut honest,
        config,
        &verifier::StfChecker,
    )
    .map_err(|e| e.to_string())?;
    let one_step = report
        .one_step
        .as_ref()
        .ok_or("not decided by a one-step proof")?;
    println!(
        "   a liar asserts a wrong state root: {} rounds over {steps} steps down to step {} ({:?}), \
         a {}-byte one-step proof; {:.0} ms",
        report.rounds.len(),
        one_step.step,
        one_step.op,
        one_step.proof_bytes,
        started.elapsed().as_secs_f64() * 1e3
    );
    if report.winner() != Party::Challenger {
        return Err("the liar won the EVM dispute".into());
    }
    println!("   the honest challenger wins");
    Ok(())
}
