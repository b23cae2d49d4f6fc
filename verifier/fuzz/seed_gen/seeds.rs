//! Writes the seed corpus of `checkers_agree`: one-step proofs of real executions, each prefixed
//! with selector byte 0 (the proof's own pre-state), after checking that the prover's post hash is
//! what both checkers compute (`tests/common/evm.rs`, `both`).
//!
//! * `verifier/tests/op_classes.wat`: every step of `main(7)`, `trap_div(0)`, `trap_oob()`,
//!   `trap_indirect()`, including the identity proof of the halted machine;
//! * the STF guest on a small batch posted in a blob: its first `BLOB_READS` blob reads;
//! * the STF guest on a small batch: every host call, the first steps, and the first few steps
//!   of every other op class met on the run, up to a total of `SEED_LIMIT` files.
//!
//! `cargo run --release --example seeds -- corpus/checkers_agree` (from `verifier/fuzz/`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use prover::runner::StfGuest;
use verifier::stf_host::StfSemantics;
use vm::code::Op;
use vm::proof::{HostSemantics, NoHostSemantics};
use vm::{Host, Machine, Module, NoImports, Status, Value};

#[path = "../../../tests/common/evm.rs"]
mod evm;

/// At most this many seed files in all.
const SEED_LIMIT: usize = 300;
/// STF steps proven from the start of the run, and per op class later on.
const STF_PREFIX: u64 = 20;
const STF_PER_CLASS: usize = 2;
const STF_PER_HOST_IMPORT: usize = 6;
/// The STF guest's host imports (`prover/src/stf_host.rs`): seeds kept back for their calls, which
/// come late in the run (the output, and ecrecover once per transaction).
const STF_HOST_IMPORTS: usize = 7;

struct Writer {
    dir: PathBuf,
    written: usize,
    bytes: usize,
    checked: usize,
    /// Seeds written per (run, pc): steps that repeat an instruction (loop iterations, recursion)
    /// are checked but written at most `PER_PC` times.
    per_pc: BTreeMap<(String, u32), usize>,
    per_pc_cap: usize,
}

/// Seeds per instruction of one run (op_classes.wat: `main(7)` takes 333 steps, mostly loops).
const PER_PC: usize = 2;

impl Writer {
    /// Proves `m`'s next step, checks it with both checkers against the interpreter's post hash,
    /// writes the seed, and takes the step.
    fn prove_and_step<H: Host>(
        &mut self,
        name: &str,
        m: &mut Machine,
        host: &mut H,
        semantics: &dyn HostSemantics,
    ) {
        let step = m.steps();
        let pre = m.hash();
        let op = m.next_op();
        let class = evm::class_of(op);
        let proof = m
            .prove_step(host, semantics)
            .unwrap_or_else(|e| panic!("{name} step {step} ({op:?}): prove: {e}"));
        let pc = proof.machine.pc;
        let proof = proof.encode();
        let post = evm::both(&class, &pre, &proof)
            .unwrap_or_else(|e| panic!("{name} step {step} ({op:?}): rejected: {e}"));
        m.step(host);
        assert_eq!(post, m.hash(), "{name} step {step} ({op:?}): post hash");
        self.checked += 1;
        let repeats = self.per_pc.entry((name.to_string(), pc)).or_default();
        *repeats += 1;
        if *repeats > self.per_pc_cap {
            return;
        }
        let mut seed = Vec::with_capacity(proof.len() + 1);
        seed.push(0u8);
        seed.extend_from_slice(&proof);
        let file = self.dir.join(format!("{name}-{step:07}-{class}"));
        std::fs::write(&file, &seed).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        self.written += 1;
        self.bytes += seed.len();
    }
}

fn op_classes(w: &mut Writer, wat: &Path) {
    let text = std::fs::read(wat).expect("read op_classes.wat");
    let module = Module::from_text_or_binary(&text).expect("op_classes.wat");
    let calls: [(&str, &[Value]); 4] = [
        ("main", &[Value::I32(7)]),
        ("trap_div", &[Value::I32(0)]),
        ("trap_oob", &[]),
        ("trap_indirect", &[]),
    ];
    for (export, args) in calls {
        let mut host = NoImports;
        let mut m = Machine::instantiate(module.clone(), &mut host, u64::MAX).expect("instantiate");
        m.invoke(export, args).expect("invoke");
        while *m.status() == Status::Running {
            w.prove_and_step(export, &mut m, &mut host, &NoHostSemantics);
        }
        // The halted (finished or trapped) machine steps to itself.
        w.prove_and_step(export, &mut m, &mut host, &NoHostSemantics);
    }
}

fn stf(w: &mut Writer) {
    let (root, store, _) = program::random_genesis(3, 6);
    let (batch, _) = program::random_batch(3, 3, 6, 1, 1, root);
    let guest = StfGuest::new(program::STF_WASM).expect("STF guest");
    let (mut m, mut host) = guest.start(&batch, store).expect("start the batch");
    let start = m.steps();
    let mut per_class: BTreeMap<String, usize> = BTreeMap::new();
    // The selection below bounds the STF seeds (a host call site runs many times).
    w.per_pc_cap = usize::MAX;
    // At most this many seeds of other steps, so every host call still fits.
    let others = SEED_LIMIT - 1 - STF_HOST_IMPORTS * STF_PER_HOST_IMPORT;
    while *m.status() == Status::Running && w.written < SEED_LIMIT - 1 {
        let op = m.next_op();
        let class = evm::class_of(op);
        let is_host = matches!(op, Some(Op::CallHost { .. }));
        let seen = per_class.entry(class).or_default();
        let limit = if is_host {
            STF_PER_HOST_IMPORT
        } else {
            STF_PER_CLASS
        };
        let room = is_host || w.written < others;
        if room && (m.steps() - start < STF_PREFIX || *seen < limit) {
            *seen += 1;
            w.prove_and_step("stf", &mut m, &mut host, &StfSemantics);
        } else {
            m.step(&mut host);
        }
    }
    while *m.status() == Status::Running {
        m.step(&mut host);
    }
    w.prove_and_step("stf", &mut m, &mut host, &StfSemantics);
    let hosts: Vec<_> = per_class
        .iter()
        .filter(|(c, _)| c.starts_with("CallHost"))
        .collect();
    eprintln!(
        "stf: {} steps, {} op classes, host calls proven per import: {hosts:?}",
        m.steps() - start,
        per_class.len()
    );
}

/// Blob reads proven per seed run: the STF guest on a batch whose compressed section is in a blob
/// (EIP-4844), each `read_blob` a field element with its KZG opening.
const BLOB_READS: usize = 4;

/// The first [`BLOB_READS`] `read_blob` calls of a ledger batch posted in a blob.
fn stf_blobs(w: &mut Writer) {
    use program::ledger::blob::to_blobs;
    use program::ledger::section::BlobReference;
    use program::ledger::InboxMessage;
    use program::NativeAbi;

    let (root, store, _) = program::random_genesis(3, 6);
    let (batch, _) = program::random_batch(3, 3, 6, 1, 1, root);
    let message = program::encode_batch(&batch);
    let split = InboxMessage::split(&message).expect("split the batch");
    let head = message.len() - split.transactions.len();
    let section = program::compress_section(split.transactions);
    let blobs = to_blobs(&section);
    let hashes = verifier::blobs::versioned_hashes(&blobs).expect("versioned hashes");
    let reference = BlobReference {
        len: section.len() as u32,
        versioned_hashes: hashes.iter().map(|hash| hash.0).collect(),
    };
    let in_blobs = [&message[..head], &reference.to_bytes()[..]].concat();
    let blob_store: program::BlobStore =
        std::sync::Arc::new(hashes.iter().map(|hash| hash.0).zip(blobs).collect());
    let abi = NativeAbi::new(in_blobs, store).with_blobs(blob_store);
    let guest = StfGuest::new(program::STF_WASM).expect("STF guest");
    let read_blob = prover::stf_host::IMPORT_NAMES
        .iter()
        .position(|name| *name == "read_blob")
        .expect("the read_blob import");
    // The function index of the guest's read_blob import: the first host call that reads a blob.
    let (mut m, mut host) = guest.start_abi(abi.clone()).expect("start the batch");
    let read_blob_func = loop {
        assert_eq!(*m.status(), Status::Running, "the batch in a blob reads it");
        let op = m.next_op();
        let before = host.calls[read_blob];
        m.step(&mut host);
        if let (Some(Op::CallHost { func }), true) = (op, host.calls[read_blob] > before) {
            break func;
        }
    };
    let (mut m, mut host) = guest.start_abi(abi).expect("start the batch");
    w.per_pc_cap = usize::MAX;
    let blob_read = Some(Op::CallHost {
        func: read_blob_func,
    });
    let mut proven = 0;
    while *m.status() == Status::Running && proven < BLOB_READS {
        if m.next_op() == blob_read {
            w.prove_and_step("stf-blobs", &mut m, &mut host, &StfSemantics);
            proven += 1;
        } else {
            m.step(&mut host);
        }
    }
    assert_eq!(proven, BLOB_READS, "the batch in a blob reads it");
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or("corpus/checkers_agree".into()),
    );
    std::fs::create_dir_all(&dir).expect("create the corpus folder");
    let wat = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/op_classes.wat");
    let mut w = Writer {
        dir,
        written: 0,
        bytes: 0,
        checked: 0,
        per_pc: BTreeMap::new(),
        per_pc_cap: PER_PC,
    };
    op_classes(&mut w, &wat);
    eprintln!(
        "op_classes.wat: {} steps checked, {} seeds",
        w.checked, w.written
    );
    stf_blobs(&mut w);
    stf(&mut w);
    let tally = evm::take_tally();
    eprintln!(
        "{} seeds ({} bytes) in {}; both checkers agreed on all {} steps checked ({} accepted, {} float steps refused by the EVM)",
        w.written,
        w.bytes,
        w.dir.display(),
        w.checked,
        tally.accepted,
        tally.float_refused
    );
}
