//! The EVM guest end to end below the node: a batch with ETH transfers, an ERC-20 deployed and
//! used, a revert, a withdrawal, a deposit and a forced transaction, run natively, on wasmtime and
//! on the interpreter with identical outputs; and the guest's hard edges (blob transactions,
//! forged logs, bad signatures, missing state).

#[path = "common/l2.rs"]
mod l2;

use alloy::primitives::TxKind;
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

/// What a sequencer (or anyone posting after the sequencer's timeout) could put in a batch to stop
/// the chain or mint money: none of it traps the guest, each gets its defined outcome, and the
/// three runs agree.
#[test]
fn adversarial_batches_never_trap_the_guest_and_mint_nothing() {
    use program::evm::evm_stf::{encode_message, BlockList};
    use program::{BatchHeader, RejectReason};

    let alice = key(0);
    let (root, store) = genesis(&[alice.address()]);
    let header = BatchHeader {
        pre_state_root: root,
        chain_id: CHAIN_ID,
        batch_number: 1,
        first_delayed: 0,
        delayed_count: 0,
    };
    let with_section = |section: Vec<u8>| {
        let mut message = encode_message(&header, &[], &BlockList::default());
        message.truncate(message.len() - 1); // the empty list's count byte
        message.extend_from_slice(&section);
        message
    };
    let huge = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0x10]; // varint 2^60
    let mut one_block_huge_txs = vec![1, 5];
    one_block_huge_txs.extend_from_slice(&[0xfe; 20]);
    one_block_huge_txs.extend_from_slice(&huge);
    let mut one_tx_huge_len = vec![1, 5];
    one_tx_huge_len.extend_from_slice(&[0xfe; 20]);
    one_tx_huge_len.push(1);
    one_tx_huge_len.extend_from_slice(&huge);

    // A contract that logs the withdrawal event's topics from its own address, and one that
    // delegate-calls the withdrawal contract: neither may make a leaf.
    let forger_init = {
        // runtime: LOG3(0, 32, topic0, caller, caller) with 32 bytes of memory; STOP
        let mut runtime = vec![0x60, 0x01, 0x60, 0x00, 0x52]; // mstore(0, 1)
        runtime.extend_from_slice(&[0x33, 0x33, 0x7f]); // caller caller push32
        runtime.extend_from_slice(program::evm::evm_stf::system::WITHDRAWAL_EVENT.as_slice());
        runtime.extend_from_slice(&[0x60, 0x20, 0x60, 0x00, 0xa3, 0x00]); // push 32, push 0, log3, stop
        let mut init = vec![
            0x60,
            runtime.len() as u8,
            0x80,
            0x60,
            0x0b,
            0x60,
            0x00,
            0x39,
            0x60,
            0x00,
            0xf3,
        ];
        init.extend_from_slice(&runtime);
        init
    };
    let forger = alice.address().create(0);
    let forged = vec![(
        GENESIS_TIME + 2,
        vec![
            sign_1559(&alice, 0, TxKind::Create, U256::ZERO, forger_init, 200_000),
            sign_1559(
                &alice,
                1,
                TxKind::Call(forger),
                U256::from(5u64),
                vec![],
                100_000,
            ),
        ],
    )];
    let blob_like = {
        let mut bytes = sign_1559(
            &alice,
            0,
            TxKind::Call(Address::ZERO),
            U256::ZERO,
            vec![],
            21_000,
        );
        bytes[0] = 3; // an EIP-4844 type byte on a 1559 payload: not a transaction
        bytes
    };

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("2^60 blocks claimed", with_section(huge.to_vec())),
        (
            "2^60 transactions claimed",
            with_section(one_block_huge_txs),
        ),
        (
            "a 2^60-byte transaction claimed",
            with_section(one_tx_huge_len),
        ),
        ("forged withdrawal events", message(root, 1, &[], forged)),
        (
            "a mangled typed transaction",
            message(root, 1, &[], vec![(GENESIS_TIME, vec![blob_like])]),
        ),
    ];
    let guest = StfGuest::new(program::EVM_STF_WASM).unwrap();
    for (what, message) in cases {
        let native = run_evm_native(message.clone(), store.clone(), &Config::default());
        let outputs = &native.execution.outputs;
        match what {
            "forged withdrawal events" => {
                assert_eq!(outputs.status, BatchStatus::Accepted, "{what}");
                let outcomes: Vec<_> = native
                    .execution
                    .receipts
                    .iter()
                    .map(|r| r.outcome)
                    .collect();
                assert_eq!(outcomes, vec![Outcome::Success, Outcome::Success], "{what}");
                assert_eq!(
                    native.execution.receipts[1].logs.len(),
                    1,
                    "the forger logged"
                );
                assert_eq!(
                    outputs.withdrawal_count, 0,
                    "{what}: no leaf from another address"
                );
            }
            "a zero withdrawal" => {
                // L2Withdrawals refuses it (ZeroWithdrawal): gas paid, no leaf.
                let outcomes: Vec<_> = native
                    .execution
                    .receipts
                    .iter()
                    .map(|r| r.outcome)
                    .collect();
                assert_eq!(outcomes, vec![Outcome::Revert], "{what}");
                assert_eq!(outputs.withdrawal_count, 0, "{what}");
            }
            "a mangled typed transaction" => {
                let outcomes: Vec<_> = native
                    .execution
                    .receipts
                    .iter()
                    .map(|r| r.outcome)
                    .collect();
                assert_eq!(
                    outcomes,
                    vec![Outcome::Refused(Refusal::Malformed)],
                    "{what}"
                );
            }
            _ => assert_eq!(
                outputs.status,
                BatchStatus::TransactionsRefused(RejectReason::Malformed),
                "{what}"
            ),
        }
        for engine in [Engine::Native, Engine::Interp] {
            let run = guest
                .run_abi(engine, NativeAbi::new(message.clone(), store.clone()))
                .unwrap_or_else(|e| panic!("{what} on {engine:?}: {e}"));
            assert_eq!(&run.outputs, outputs, "{what} on {engine:?}");
        }
    }

    // A batch over a state the host cannot serve is rejected whole, not trapped on.
    let missing = message([0x42; 32], 1, &[], vec![(GENESIS_TIME, vec![])]);
    let native = run_evm_native(missing.clone(), store.clone(), &Config::default());
    assert_eq!(
        native.execution.outputs.status,
        BatchStatus::Rejected(RejectReason::UnknownPreimage)
    );
    let run = guest
        .run_abi(Engine::Native, NativeAbi::new(missing, store))
        .unwrap();
    assert_eq!(run.outputs, native.execution.outputs);
}

/// A block's hash, receipts and state do not depend on the batch it is posted in: the sequencer
/// executes soft blocks one at a time and posts them later in batches, and what it served must be
/// what the posted batches make. The mixed batch's two blocks, posted as one batch and as two,
/// give the same block hashes and per-block state roots; the guest agrees on the batch outputs.
#[test]
fn blocks_are_the_same_in_any_batch_grouping() {
    use program::evm::evm_stf::{encode_message, BlockList};
    use program::ledger::{BatchHeader, InboxMessage};
    let MixedBatch { message, store, .. } = MixedBatch::new();
    let whole = run_evm_native(message.clone(), store.clone(), &Config::default());
    assert_eq!(whole.execution.blocks.len(), 2);

    let split = InboxMessage::split(&message).unwrap();
    let BlockList(blocks) = BlockList::from_bytes(split.transactions).unwrap();
    let first_header = split.header;
    let first = encode_message(
        &first_header,
        &split.delayed,
        &BlockList(blocks[..1].to_vec()),
    );
    let first = run_evm_native(first, store.clone(), &Config::default());
    let second_header = BatchHeader {
        pre_state_root: first.execution.outputs.post_state_root,
        batch_number: first_header.batch_number + 1,
        first_delayed: first_header.first_delayed + split.delayed.len() as u64,
        ..first_header
    };
    let second = encode_message(&second_header, &[], &BlockList(blocks[1..].to_vec()));
    let second = run_evm_native(second, first.store.clone(), &Config::default());

    let split_blocks: Vec<_> = first
        .execution
        .blocks
        .iter()
        .chain(&second.execution.blocks)
        .collect();
    assert_eq!(split_blocks.len(), 2);
    for (whole_block, split_block) in whole.execution.blocks.iter().zip(split_blocks) {
        assert_eq!(whole_block.hash, split_block.hash);
        assert_eq!(whole_block.header, split_block.header);
        assert!(whole_block.state_root.is_some());
        assert_eq!(whole_block.state_root, split_block.state_root);
    }
    assert_eq!(
        whole.execution.blocks[1].state_root,
        Some(whole.execution.outputs.post_state_root)
    );
    assert_eq!(
        second.execution.outputs.post_state_root,
        whole.execution.outputs.post_state_root
    );
    // Only the withdrawal's index names its batch (an output, not state).
    assert_eq!(whole.execution.withdrawals[0].index, 1 << 32);
    assert_eq!(second.execution.withdrawals[0].index, 2 << 32);
    // The guest computes only the batch's root, and writes the same outputs.
    let guest = StfGuest::new(program::EVM_STF_WASM).unwrap();
    let run = guest
        .run_abi(Engine::Native, NativeAbi::new(message, store))
        .unwrap();
    assert_eq!(run.outputs, whole.execution.outputs);
}

/// The host's signature cache for EVM batches is keyed exactly as the STF asks: the same batch
/// run with the senders recovered ahead gives the same outputs, and a cache that names another
/// sender (what `known` must never do) shows in the result, so the entries are the ones consulted.
#[test]
fn senders_recovered_ahead_serve_the_stf_ecrecover_calls() {
    use program::ledger::InboxMessage;
    use program::RecoveredSignatures;
    use std::sync::Arc;
    let MixedBatch { message, store, .. } = MixedBatch::new();
    let plain = run_evm_native(message.clone(), store.clone(), &Config::default());
    let section = InboxMessage::split(&message).unwrap().transactions.to_vec();

    let ahead = RecoveredSignatures::of_evm_section_known(&section, |_| None);
    assert_eq!(ahead.len(), 6, "every sequenced transaction of the batch");
    let cached = program::evm::run_evm_native_abi(
        NativeAbi::new(message.clone(), store.clone()).with_signatures(Some(Arc::new(ahead))),
        &Config::default(),
    );
    assert_eq!(cached.execution.outputs, plain.execution.outputs);

    let forged = RecoveredSignatures::of_evm_section_known(&section, |_| Some([0x66; 20]));
    let misled = program::evm::run_evm_native_abi(
        NativeAbi::new(message, store).with_signatures(Some(Arc::new(forged))),
        &Config::default(),
    );
    assert_ne!(
        misled.execution.outputs.post_state_root,
        plain.execution.outputs.post_state_root
    );
}

/// A compressed sequencer section runs as its raw twin on every engine; one that decompresses
/// past the cap (a bomb) or does not decompress costs the sequencer's blocks only: the deposit and
/// the forced transaction stand, in a block of their own.
#[test]
fn compressed_sections_run_alike_and_bombs_cost_only_the_sequencer() {
    use program::ledger::section::{BROTLI, MAX_SECTION_BYTES};
    use program::ledger::{InboxMessage, RejectReason};
    use std::io::Write;
    let MixedBatch { message, store, .. } = MixedBatch::new();
    let split = InboxMessage::split(&message).unwrap();
    let head = message.len() - split.transactions.len();
    let delayed = split.delayed.len();
    let with_section = |section: &[u8]| [&message[..head], section].concat();
    let guest = StfGuest::new(program::EVM_STF_WASM).unwrap();
    let raw = run_evm_native(message.clone(), store.clone(), &Config::default());

    let compressed = program::compress_section(split.transactions);
    assert_eq!(compressed[0], BROTLI);
    assert!(compressed.len() < split.transactions.len());
    let compressed = with_section(&compressed);
    let native = run_evm_native(compressed.clone(), store.clone(), &Config::default());
    assert_eq!(native.execution.outputs, raw.execution.outputs);
    assert_eq!(native.execution.receipts, raw.execution.receipts);
    for engine in [Engine::Native, Engine::Interp] {
        let run = guest
            .run_message(engine, compressed.clone(), store.clone())
            .unwrap();
        assert_eq!(run.outputs, raw.execution.outputs, "{engine:?}");
    }

    let brotli = |encoding: &[u8]| {
        let mut posted = vec![BROTLI];
        {
            let mut writer = brotli::CompressorWriter::new(&mut posted, 4096, 9, 22);
            writer.write_all(encoding).unwrap();
        }
        posted
    };
    let bomb = brotli(&vec![0u8; MAX_SECTION_BYTES + 1]);
    let mut broken = brotli(&split.transactions[1..]);
    broken.truncate(broken.len() - 3);
    for (section, reason) in [
        (bomb, RejectReason::TooLarge),
        (broken, RejectReason::Malformed),
    ] {
        let message = with_section(&section);
        let native = run_evm_native(message.clone(), store.clone(), &Config::default());
        let outputs = &native.execution.outputs;
        assert_eq!(outputs.status, BatchStatus::TransactionsRefused(reason));
        assert_eq!(outputs.tx_count, 0);
        assert_eq!(native.execution.receipts.len(), delayed);
        assert!(native
            .execution
            .receipts
            .iter()
            .all(|r| r.outcome == Outcome::Success));
        assert_eq!(
            native.execution.blocks.len(),
            1,
            "the delayed messages' own block"
        );
        let wasm = guest
            .run_message(Engine::Native, message, store.clone())
            .unwrap();
        assert_eq!(&wasm.outputs, outputs);
    }
}
