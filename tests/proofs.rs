//! Completeness of one-step proofs: for steps of real executions, the checker's post hash equals
//! the interpreter's hash after the step, and the Solidity checker (in revm) gives the same answer
//! on every proof (`common/evm.rs`). (a) The STF guest on a 60-transaction batch: every step
//! of a prefix, every host call, and a random sample across the run. (b) wasm-smith modules:
//! every step of every exported function call (bounded). The spec suite is in `spec.rs`'s proof
//! mode (`spec_suite_steps_prove`).

mod common;
#[path = "common/evm.rs"]
mod evm;
#[path = "common/l2.rs"]
mod l2;

use std::sync::Arc;

use common::SplitMix;
use program::{random_genesis, NativeAbi};
use prover::runner::StfGuest;
use verifier::stf_host::StfSemantics;
use vm::code::Op;
use vm::proof::{HostSemantics, NoHostSemantics};
use vm::{Host, Machine, Module, NoImports, Status};

/// Proves the machine's next step, checks it with both checkers, takes the step and compares hashes.
/// `with_evm` asks the Solidity checker too.
fn prove_and_step<H: Host>(
    m: &mut Machine,
    host: &mut H,
    semantics: &dyn HostSemantics,
    with_evm: bool,
) -> usize {
    let pre = m.hash();
    let op = m.next_op();
    let proof = m
        .prove_step(host, semantics)
        .unwrap_or_else(|e| panic!("step {} ({op:?}): prove: {e}", m.steps()));
    let bytes = proof.encode();
    let post = evm::check(&evm::class_of(op), &pre, &bytes, with_evm)
        .unwrap_or_else(|e| panic!("step {} ({op:?}): rejected: {e}", m.steps()));
    m.step(host);
    assert_eq!(post, m.hash(), "step {} ({op:?}): post hash", m.steps() - 1);
    bytes.len()
}

/// Prints what the two checkers were compared on.
fn report(tally: evm::Tally) {
    let classes: Vec<&String> = tally.gas.keys().collect();
    let mut gas: Vec<u64> = tally
        .gas
        .values()
        .flatten()
        .map(|(total, _)| *total)
        .collect();
    gas.sort_unstable();
    if let (Some(median), Some(max)) = (gas.get(gas.len() / 2), gas.last()) {
        println!("verifyStep transaction gas: median {median}, max {max}");
    }
    println!(
        "checkers agree on {} proofs ({} accepted, {} float steps refused by the EVM); op classes: {classes:?}",
        tally.compared, tally.accepted, tally.float_refused
    );
    assert!(tally.compared > 0);
}

#[test]
fn stf_batch_steps_prove() {
    let (root, store, _) = random_genesis(5, 40);
    let (batch, _) = program::random_batch(5, 60, 40, 1, 1, root);
    let guest = StfGuest::new(program::STF_WASM).unwrap();
    let message = program::encode_batch(&batch);
    let prefix = common::env_or("PROOF_PREFIX_STEPS", 20_000);
    let samples = common::env_or("PROOF_SAMPLES", 10_000);
    let host_calls = prove_batch(
        "stf",
        &guest,
        NativeAbi::new(message, store),
        prefix,
        samples,
    );
    assert!(host_calls > 300, "every host call is proven");
}

/// The EVM guest on a batch with ETH transfers, an ERC-20 deployed and used, a revert and a
/// withdrawal: the steps inside revm prove like any other.
#[test]
fn evm_stf_batch_steps_prove() {
    let (message, store) = l2::mixed_batch();
    let guest = StfGuest::new(program::EVM_STF_WASM).unwrap();
    let prefix = common::env_or("PROOF_PREFIX_STEPS", 20_000) / 4;
    let samples = common::env_or("PROOF_SAMPLES", 10_000) / 3;
    let host_calls = prove_batch(
        "evm",
        &guest,
        NativeAbi::new(message, store),
        prefix,
        samples,
    );
    assert!(host_calls > 100, "every host call is proven ({host_calls})");
}

/// Proves every step of a prefix, every host call and `samples` random steps of the batch in
/// `abi` (its message, trie and blobs) on `guest`, each through both checkers; returns the host
/// calls proven.
fn prove_batch(name: &str, guest: &StfGuest, abi: NativeAbi, prefix: u64, samples: u64) -> u64 {
    // A first pass counts the steps, so the sample spreads over the whole run.
    let (mut probe, mut probe_host) = guest.start_abi(abi.clone()).unwrap();
    probe.run(&mut probe_host, u64::MAX);
    let total = probe.steps();
    assert_eq!(*probe.status(), Status::Finished);

    let (mut m, mut host) = guest.start_abi(abi).unwrap();
    let start = m.steps();
    let total = total - start;
    let prefix = prefix.min(total);
    let mut rng = SplitMix(7);
    let mut sampled: Vec<u64> = (0..samples)
        .map(|_| prefix + rng.next() % (total - prefix))
        .collect();
    sampled.sort_unstable();
    sampled.dedup();
    let (mut proven, mut host_calls, mut max_bytes) = (0u64, 0u64, 0usize);
    let mut next_sample = sampled.iter().peekable();
    while *m.status() == Status::Running {
        let i = m.steps() - start;
        let is_host = matches!(m.next_op(), Some(Op::CallHost { .. }));
        let sample = next_sample.peek() == Some(&&i);
        if sample {
            next_sample.next();
        }
        if i < prefix || is_host || sample {
            max_bytes = max_bytes.max(prove_and_step(&mut m, &mut host, &StfSemantics, true));
            proven += 1;
            host_calls += is_host as u64;
        } else {
            m.step(&mut host);
        }
    }
    // The halted machine's proof is the identity.
    prove_and_step(&mut m, &mut host, &StfSemantics, true);
    report(evm::take_tally());
    println!(
        "{name}: {total} steps, {proven} proven ({host_calls} host calls, {} sampled), largest proof {max_bytes} bytes",
        sampled.len()
    );
    // Sampled steps lie past the prefix and are distinct, so each is proven once on top of it.
    assert!(
        sampled.len() as u64 >= samples * 95 / 100,
        "sample collapsed"
    );
    assert!(proven >= prefix + sampled.len() as u64);
    host_calls
}

/// A ledger batch whose compressed section is in a blob (EIP-4844): it runs to the outputs of
/// the same batch in calldata; every `read_blob` (one field element with its KZG opening) proves
/// on both checkers, the Solidity one through the point-evaluation precompile; an opening with a
/// byte changed in its value, commitment or proof is refused by both; and without the blob the
/// batch cannot run (rejected, `UnknownPreimage`).
#[test]
fn a_batch_in_blobs_proves_its_blob_reads() {
    use program::ledger::blob::to_blobs;
    use program::ledger::section::BlobReference;
    use program::ledger::{BatchStatus, InboxMessage, RejectReason};
    use prover::runner::Engine;

    let (root, store, _) = random_genesis(5, 40);
    let (batch, _) = program::random_batch(5, 30, 40, 1, 1, root);
    let message = program::encode_batch(&batch);
    let split = InboxMessage::split(&message).unwrap();
    let head = message.len() - split.transactions.len();
    let section = program::compress_section(split.transactions);
    let blobs = to_blobs(&section);
    let hashes = verifier::blobs::versioned_hashes(&blobs).unwrap();
    let reference = BlobReference {
        len: section.len() as u32,
        versioned_hashes: hashes.iter().map(|hash| hash.0).collect(),
    };
    let in_blobs = [&message[..head], &reference.to_bytes()[..]].concat();
    let blob_store: program::BlobStore =
        Arc::new(hashes.iter().map(|hash| hash.0).zip(blobs).collect());
    let abi = NativeAbi::new(in_blobs.clone(), store.clone()).with_blobs(blob_store);

    let guest = StfGuest::new(program::STF_WASM).unwrap();
    let in_calldata = guest
        .run_message(Engine::Native, message, store.clone())
        .unwrap();
    assert_eq!(in_calldata.outputs.status, BatchStatus::Accepted);
    let run = guest.run_abi(Engine::Interp, abi.clone()).unwrap();
    assert_eq!(run.outputs, in_calldata.outputs);
    let read_blob = prover::stf_host::IMPORT_NAMES
        .iter()
        .position(|name| *name == "read_blob")
        .unwrap();
    assert_eq!(run.host_calls[read_blob], section.len().div_ceil(31) as u64);
    let unknown = guest
        .run_message(Engine::Native, in_blobs, store.clone())
        .unwrap();
    assert_eq!(
        unknown.outputs.status,
        BatchStatus::Rejected(RejectReason::UnknownPreimage)
    );

    let host_calls = prove_batch("blobs", &guest, abi.clone(), 0, 100);
    assert!(host_calls as usize > section.len() / 31);

    // The first blob read's proof, mutated in its witness: refused by both checkers.
    let (mut m, mut host) = guest.start_abi(abi).unwrap();
    let proof = loop {
        assert_eq!(*m.status(), Status::Running, "no blob read");
        let before = host.calls[read_blob];
        let proof = matches!(m.next_op(), Some(Op::CallHost { .. }))
            .then(|| m.prove_step(&host, &StfSemantics).unwrap().encode());
        let pre = m.hash();
        m.step(&mut host);
        if host.calls[read_blob] > before {
            break (pre, proof.unwrap());
        }
    };
    let (pre, bytes) = proof;
    let commitment =
        verifier::blobs::commitment(&host.abi.blobs.values().next().unwrap()[..]).unwrap();
    let at = bytes
        .windows(48)
        .position(|window| window == commitment)
        .expect("the witness carries the commitment");
    assert!(evm::both("CallHost#read_blob", &pre, &bytes).is_ok());
    for offset in [at - 32, at - 1, at, at + 47, at + 48, at + 95] {
        let mut mutated = bytes.clone();
        mutated[offset] ^= 0x01;
        assert!(
            evm::both("CallHost#read_blob mutated", &pre, &mutated).is_err(),
            "byte {offset} of the opening changed"
        );
    }
}

#[path = "common/smith.rs"]
mod smith;

/// wasm-smith modules (the generator of `differential.rs`), every step of each export call.
#[test]
fn generated_module_steps_prove() {
    let cases = common::scaled_count("PROOF_MODULES", 200, 300);
    // The EVM checker sees a sample of these steps (every tenth under CI), all of them with
    // EVM_CHECK_EVERY=1.
    let evm_every = evm::every(3, 10);
    let (mut modules, mut calls, mut steps) = (0u64, 0u64, 0u64);
    let mut case = 0u64;
    while modules < cases {
        case += 1;
        let Some(bytes) = smith::generate(case) else {
            continue;
        };
        let Ok(module) = Module::new(&bytes) else {
            continue;
        };
        let module: Arc<Module> = module;
        let Ok(mut m) = Machine::instantiate(module.clone(), &mut NoImports, 10_000) else {
            continue;
        };
        modules += 1;
        let mut rng = SplitMix(case);
        let exports: Vec<(String, vm::FuncType)> = module
            .exports()
            .filter_map(|(name, _)| {
                Some((name.to_string(), module.func_type_of_export(name)?.clone()))
            })
            .collect();
        for (name, ty) in exports {
            let args = smith::arguments(&ty.params, &mut rng, 0);
            if m.invoke(&name, &args).is_err() {
                continue;
            }
            calls += 1;
            for _ in 0..2_000 {
                let running = *m.status() == Status::Running;
                prove_and_step(
                    &mut m,
                    &mut NoImports,
                    &NoHostSemantics,
                    steps % evm_every == 0,
                );
                steps += 1;
                if !running {
                    break;
                }
            }
            // Leave the machine re-invocable (a step-limited call stays running).
            if *m.status() == Status::Running {
                m = match Machine::instantiate(module.clone(), &mut NoImports, 10_000) {
                    Ok(fresh) => fresh,
                    Err(_) => break,
                };
            }
        }
    }
    report(evm::take_tally());
    println!("generated: {modules} modules, {calls} calls, {steps} steps proven");
    assert!(modules >= 200 && steps > 10_000);
}

/// The opcodes the Solidity checker refuses as float arithmetic (`Numeric.isFloat`).
fn evm_refuses(code: u8) -> bool {
    matches!(code, 0x5b..=0x66 | 0x8d..=0x97 | 0x9b..=0xa5 | 0xa8..=0xab | 0xae..=0xbb | 0xc5..=0xcc)
}

/// The EVM checker may refuse float arithmetic only because the committed STF guest has none:
/// no op of its lowered code is one the EVM refuses (and the refused set is exactly the float
/// arithmetic the agreement rule of `common/evm.rs` allows).
#[test]
fn stf_guests_have_no_float_arithmetic() {
    for code in 0..=255u8 {
        assert_eq!(
            evm_refuses(code),
            evm::is_float_arithmetic(code),
            "opcode {code:#04x}"
        );
    }
    for (name, wasm) in [
        ("ledger", program::STF_WASM),
        ("EVM", program::EVM_STF_WASM),
    ] {
        let module = Module::new(wasm).unwrap();
        let mut counted = 0;
        for pc in 0..module.code_len() as u32 {
            let (leaf, _) = module.code_proof(pc).unwrap();
            let half = (pc as usize % 2) * vm::code::OP_BYTES;
            let op = Op::decode(leaf[half..half + vm::code::OP_BYTES].try_into().unwrap()).unwrap();
            assert!(
                !evm_refuses(op.encode()[0]),
                "the {name} STF guest has float arithmetic at pc {pc}: {op:?}"
            );
            counted += 1;
        }
        assert!(counted > 5_000, "{name}: {counted} ops");
    }
}
