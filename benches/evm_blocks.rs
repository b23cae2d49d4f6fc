//! A block of 1,000 ETH transfers and one of 1,000 ERC-20 transfers (EIP-1559, 200 accounts, the
//! token already in genesis), side by side on:
//!
//! - `native revm`: revm on the host over an in-memory database (revm's `CacheDB`), the same
//!   transaction decoding and sender recovery (k256 on the host): the baseline;
//! - `native stf`: the EVM STF compiled for the host, over the binary trie and node store
//!   (what the node runs to serve blocks);
//! - `guest wasmtime` and `guest interp`: the EVM guest on the replay engine and on the provable
//!   interpreter, as validators and disputes run it.
//!
//! Throughput is in transactions (criterion's `elem/s` is tx/s). Before measuring, one run on
//! the interpreter prints the steps per transaction and one native run the gas.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use program::evm::evm_stf::transaction::decode;
use std::collections::BTreeSet;

use program::evm::{run_evm_native, EvmStateReader};
use program::evm_workload::{
    evm_workload, token_balance_slot, EvmWorkload, EvmWorkloadKind, WORKLOAD_CHAIN_ID,
    WORKLOAD_TOKEN,
};
use program::{Config, NativeAbi, NodeStore};
use prover::{Engine, StfGuest};
use revm::context::{BlockEnv, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, U256};
use revm::state::{AccountInfo, Bytecode};
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext};

const TXS: usize = 1000;
const ACCOUNTS: usize = 200;

fn workload(kind: EvmWorkloadKind) -> EvmWorkload {
    let token = verifier::evm::artifact_deployed_bytecode("DemoToken").unwrap();
    let withdrawals = verifier::evm::artifact_deployed_bytecode("L2Withdrawals").unwrap();
    evm_workload(kind, TXS, ACCOUNTS, 5, &token, &withdrawals).unwrap()
}

/// The workload's genesis as revm's in-memory database: the senders (every account: the block
/// goes round the accounts) and the token with their balances, read back from the node store.
fn cache_db(workload: &EvmWorkload) -> CacheDB<EmptyDB> {
    let mut abi = NativeAbi::new(Vec::new(), NodeStore::new());
    let senders: BTreeSet<Address> = workload
        .transactions
        .iter()
        .map(|tx| decode(&mut abi, tx, false).unwrap().sender)
        .collect();
    let mut reader = EvmStateReader::new(&workload.store, workload.genesis_root);
    let mut db = CacheDB::new(EmptyDB::default());
    for address in senders.iter().chain([&WORKLOAD_TOKEN]) {
        let leaf = reader.account(address).unwrap().unwrap();
        let code = reader.code(address).unwrap();
        let info = AccountInfo::new(
            leaf.balance,
            leaf.nonce,
            leaf.code_hash,
            Bytecode::new_legacy(code.into()),
        );
        db.insert_account_info(*address, info);
    }
    for sender in &senders {
        let slot = token_balance_slot(sender);
        let value = reader.storage(&WORKLOAD_TOKEN, slot).unwrap();
        db.insert_account_storage(WORKLOAD_TOKEN, slot, value)
            .unwrap();
    }
    db
}

/// The block on plain revm: decode, recover, execute, commit.
fn native_revm(workload: &EvmWorkload, db: CacheDB<EmptyDB>) -> u64 {
    let mut evm = Context::mainnet()
        .with_db(db)
        .modify_cfg_chained(|cfg| {
            cfg.set_spec_and_mainnet_gas_params(SpecId::OSAKA);
            cfg.chain_id = WORKLOAD_CHAIN_ID;
        })
        .with_block(BlockEnv {
            number: U256::from(1),
            gas_limit: 60_000_000,
            basefee: 1_000_000_000,
            ..BlockEnv::default()
        })
        .build_mainnet();
    let mut abi = NativeAbi::new(Vec::new(), NodeStore::new());
    let mut gas = 0;
    for tx in &workload.transactions {
        let decoded = decode(&mut abi, tx, false).unwrap();
        let env: TxEnv = decoded.tx_env(&mut abi);
        let result = evm.transact_commit(env).unwrap();
        assert!(result.is_success());
        gas += result.gas().tx_gas_used();
    }
    gas
}

fn blocks(c: &mut Criterion) {
    let guest = StfGuest::new(program::EVM_STF_WASM).unwrap();
    for (name, kind) in [
        (
            "evm block 1000 eth transfers",
            EvmWorkloadKind::EthTransfers,
        ),
        (
            "evm block 1000 erc20 transfers",
            EvmWorkloadKind::Erc20Transfers,
        ),
    ] {
        let workload = workload(kind);
        let db = cache_db(&workload);
        let gas = native_revm(&workload, db.clone());
        let native = run_evm_native(
            workload.message.clone(),
            workload.store.clone(),
            &Config::default(),
        );
        let included = native
            .execution
            .receipts
            .iter()
            .filter(|r| r.outcome.included())
            .count();
        assert_eq!(included, TXS, "every transaction executes");
        let interp = guest
            .run_message(
                Engine::Interp,
                workload.message.clone(),
                workload.store.clone(),
            )
            .unwrap();
        assert_eq!(interp.outputs, native.execution.outputs);
        println!(
            "{name}: {gas} gas, {} interpreter steps ({} per transaction)",
            interp.steps,
            interp.steps / TXS as u64
        );

        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.throughput(Throughput::Elements(TXS as u64));
        group.bench_function("native revm", |b| {
            b.iter_batched(
                || db.clone(),
                |db| native_revm(&workload, db),
                BatchSize::LargeInput,
            )
        });
        group.bench_function("native stf", |b| {
            b.iter_batched(
                || workload.store.clone(),
                |store| run_evm_native(workload.message.clone(), store, &Config::default()),
                BatchSize::LargeInput,
            )
        });
        for (label, engine) in [
            ("guest wasmtime", Engine::Native),
            ("guest interp", Engine::Interp),
        ] {
            group.bench_function(label, |b| {
                b.iter_batched(
                    || workload.store.clone(),
                    |store| {
                        guest
                            .run_message(engine, workload.message.clone(), store)
                            .unwrap()
                    },
                    BatchSize::LargeInput,
                )
            });
        }
        group.finish();
    }
}

criterion_group!(benches, blocks);
criterion_main!(benches);
