//! The EVM guest end to end below the node: a batch with ETH transfers, an ERC-20 deployed and
//! used, a revert, a withdrawal, a deposit and a forced transaction, run natively, on wasmtime and
//! on the interpreter with identical outputs; and the guest's hard edges (blob transactions,
//! forged logs, bad signatures, missing state).

#[path = "common/l2.rs"]
mod l2;

use alloy::primitives::{keccak256, Address, U256};
use l2::*;
use program::evm::evm_stf::receipts::{Outcome, Refusal};
use program::evm::evm_stf::system::WITHDRAWALS;
use program::evm::{run_evm_native, EvmStateReader};
use program::{BatchStatus, Config, NativeAbi};
use prover::{Engine, StfGuest};

fn token_balance_slot(owner: Address) -> U256 {
    // balanceOf is DemoToken's fifth storage variable (slot 3: name, symbol, totalSupply first;
    // decimals is a constant).
    let mut preimage = [0u8; 64];
    preimage[12..32].copy_from_slice(owner.as_slice());
    preimage[63] = 3;
    U256::from_be_bytes(keccak256(preimage).0)
}

#[test]
fn a_batch_of_contract_calls_runs_alike_on_every_engine() {
    let MixedBatch {
        message,
        store,
        alice,
        carol,
        l1_recipient,
        token,
        ..
    } = MixedBatch::new();
    let native = run_evm_native(message.clone(), store.clone(), &Config::default());
    let execution = &native.execution;
    assert_eq!(execution.outputs.status, BatchStatus::Accepted);
    let outcomes: Vec<Outcome> = execution.receipts.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            Outcome::Success, // deposit
            Outcome::Success, // forced transfer
            Outcome::Success, // ETH transfer
            Outcome::Success, // deploy
            Outcome::Success, // token transfer
            Outcome::Revert,  // transfer without balance
            Outcome::Success, // withdraw
            Outcome::Refused(Refusal::Invalid),
        ],
        "{:#?}",
        execution.receipts
    );
    assert_eq!(execution.receipts[3].contract_address, Some(token));
    assert_eq!(execution.blocks.len(), 2);
    assert_eq!(
        execution.blocks[1].header.parent_hash,
        execution.blocks[0].hash
    );
    assert_eq!(execution.withdrawals.len(), 1);
    assert_eq!(execution.withdrawals[0].l1_recipient, l1_recipient.0 .0);
    assert_eq!(execution.withdrawals[0].amount, 2 * ONE_ETH);
    assert_eq!(execution.withdrawals[0].index, 1 << 32);

    let post = execution.outputs.post_state_root;
    let mut state = EvmStateReader::new(&native.store, post);
    let carol_account = state.account(&carol).unwrap().unwrap();
    assert_eq!(carol_account.balance, U256::from(ONE_ETH + 7 + 5));
    assert_eq!(
        state.storage(&token, token_balance_slot(carol)).unwrap(),
        U256::from(250u64)
    );
    assert_eq!(
        state
            .storage(&token, token_balance_slot(alice.address()))
            .unwrap(),
        U256::from(1_000_000u64 - 250)
    );
    assert_eq!(
        state.account(&WITHDRAWALS).unwrap().unwrap().balance,
        U256::ZERO,
        "withdrawals are burned"
    );
    assert!(!state.code(&token).unwrap().is_empty());

    let guest = StfGuest::new(program::EVM_STF_WASM).unwrap();
    for engine in [Engine::Native, Engine::Interp] {
        let run = guest
            .run_abi(engine, NativeAbi::new(message.clone(), store.clone()))
            .unwrap();
        assert_eq!(run.outputs, execution.outputs, "{engine:?}");
        if engine == Engine::Interp {
            println!(
                "interpreter: {} steps for {} entries",
                run.steps,
                execution.receipts.len()
            );
        }
    }
}
