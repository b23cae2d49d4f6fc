//! What a transaction costs on L1, by where its batch goes: a 1,000-transaction sequencer section
//! posted raw in calldata, compressed in calldata, and compressed in blobs (EIP-4844), on the
//! embedded L1 (revm, Osaka rules, the rollup's contracts), each as the second batch of its rollup
//! (the first one's one-time storage costs left out). One row per workload and mode: the
//! section's bytes before and after compression, the blobs, the L1 gas of the posting transaction
//! (EIP-7623's floor included), the blob gas, and their sum per transaction (one blob gas counted
//! as one gas). Then what decompressing costs the guest: each compressed batch run on the
//! interpreter against its raw twin (same outputs), and criterion timings of compressing and
//! opening the ERC-20 section.
//!
//! Workloads: the ledger's 1,000 signed transfers and withdrawals (`random_batch`), the EVM
//! guest's 1,000 ETH transfers and 1,000 ERC-20 transfers (EIP-1559, 200 accounts).
//!
//! `cargo bench --bench batch_cost` prints the tables, then runs criterion.

#[path = "../tests/common/settlement.rs"]
mod fixture;

use criterion::{criterion_group, criterion_main, Criterion};
use fixture::*;
use program::evm_workload::{evm_workload, EvmWorkloadKind};
use program::ledger::blob::BYTES_PER_BLOB;
use program::ledger::InboxMessage;
use prover::settlement::{post_batch, post_batch_blobs};
use prover::{Engine, StfGuest};

const TXS: usize = 1000;

/// One workload's sequencer section (raw), its inbox message and what runs it.
struct Workload {
    name: &'static str,
    message: Vec<u8>,
    store: program::NodeStore,
    guest: &'static [u8],
}

impl Workload {
    fn section(&self) -> &[u8] {
        InboxMessage::split(&self.message)
            .expect("a message")
            .transactions
    }

    /// The message with its section compressed.
    fn compressed_message(&self) -> Vec<u8> {
        let section = self.section();
        let head = self.message.len() - section.len();
        let mut message = self.message[..head].to_vec();
        message.extend(program::compress_section(section));
        message
    }
}

fn workloads() -> Vec<Workload> {
    let (root, store, _) = program::random_genesis(11, 200);
    let (batch, _) = program::random_batch(11, TXS, 200, CHAIN_ID, 1, root);
    let ledger = Workload {
        name: "ledger transfers",
        message: program::encode_batch(&batch),
        store,
        guest: program::STF_WASM,
    };
    let token = verifier::evm::artifact_deployed_bytecode("DemoToken").unwrap();
    let withdrawals = verifier::evm::artifact_deployed_bytecode("L2Withdrawals").unwrap();
    let evm = |name, kind| {
        let w = evm_workload(kind, TXS, 200, 5, &token, &withdrawals).unwrap();
        Workload {
            name,
            message: w.message,
            store: w.store,
            guest: program::EVM_STF_WASM,
        }
    };
    vec![
        ledger,
        evm("EVM ETH transfers", EvmWorkloadKind::EthTransfers),
        evm("EVM ERC-20 transfers", EvmWorkloadKind::Erc20Transfers),
    ]
}

/// Posts `section` as the next batch of a rollup that has posted one already (its counters are
/// no longer zero: the steady state, not the one-time cost of the first batch), in calldata or in
/// blobs; (gas, blobs).
fn post(section: &[u8], in_blobs: bool) -> (u64, usize) {
    let mut chain = chain();
    post_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &empty_transactions(),
    )
    .unwrap();
    if in_blobs {
        let (_, receipt, blobs) = post_batch_blobs(
            &mut chain.l1,
            &chain.sequencer,
            &chain.deployment,
            section,
            Vec::new(),
        )
        .unwrap();
        (receipt.gas_used, blobs)
    } else {
        let (_, receipt) =
            post_batch(&mut chain.l1, &chain.sequencer, &chain.deployment, section).unwrap();
        (receipt.gas_used, 0)
    }
}

fn cost_table(workloads: &[Workload]) {
    println!(
        "{:<22} {:<22} {:>9} {:>9} {:>6} {:>11} {:>10} {:>9}",
        "batch of 1,000", "mode", "raw B", "posted B", "blobs", "L1 gas", "blob gas", "per tx"
    );
    for w in workloads {
        let raw = w.section();
        let compressed = program::compress_section(raw);
        for (mode, posted, in_blobs) in [
            ("calldata, raw", raw, false),
            ("calldata, brotli", &compressed[..], false),
            ("blobs, brotli", &compressed[..], true),
        ] {
            let (gas, blobs) = post(posted, in_blobs);
            let blob_gas = (blobs * BYTES_PER_BLOB) as u64;
            println!(
                "{:<22} {:<22} {:>9} {:>9} {:>6} {:>11} {:>10} {:>9.1}",
                w.name,
                mode,
                raw.len(),
                posted.len(),
                blobs,
                gas,
                blob_gas,
                (gas + blob_gas) as f64 / TXS as f64
            );
        }
    }
}

fn decompression_steps(workloads: &[Workload]) {
    for w in workloads {
        let guest = StfGuest::new(w.guest).unwrap();
        let raw = guest
            .run_message(Engine::Interp, w.message.clone(), w.store.clone())
            .unwrap();
        let compressed_message = w.compressed_message();
        let compressed = guest
            .run_message(Engine::Interp, compressed_message.clone(), w.store.clone())
            .unwrap();
        assert_eq!(raw.outputs, compressed.outputs, "{}", w.name);
        println!(
            "{}: message {} -> {} bytes; interpreter steps {} -> {} (decompression +{}, {:+.1}%)",
            w.name,
            w.message.len(),
            compressed_message.len(),
            raw.steps,
            compressed.steps,
            compressed.steps - raw.steps,
            100.0 * (compressed.steps as f64 - raw.steps as f64) / raw.steps as f64
        );
    }
}

fn bench(c: &mut Criterion) {
    let workloads = workloads();
    cost_table(&workloads);
    decompression_steps(&workloads);
    let erc20 = workloads.last().unwrap();
    let raw = erc20.section().to_vec();
    let compressed = program::compress_section(&raw);
    let mut group = c.benchmark_group("section of 1,000 ERC-20 transfers");
    group.sample_size(20);
    group.bench_function("compress (brotli 9)", |b| {
        b.iter(|| program::compress_section(&raw))
    });
    group.bench_function("open (decompress)", |b| {
        b.iter(|| program::ledger::section::open(&compressed).unwrap().len())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
