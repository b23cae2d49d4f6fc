//! The settlement lifecycle and a rival dispute against a real node: anvil (npm
//! `@foundry-rs/anvil`, pinned by `verifier/contracts/package-lock.json`) reached through
//! [`RpcL1`], the JSON-RPC backend of `L1`. The same flows as `tests/settlement.rs` on the
//! embedded chain (the shared ones of `common/settlement.rs`), with what a real chain adds: gas
//! paid in ether at a non-zero price, refusals decided at gas estimation and never sent,
//! wall-clock block times, signed raw transactions, logs and calldata read back over JSON-RPC.
//!
//! Each test starts its own anvil (automining, Osaka rules, EIP-7825's transaction gas cap on) on
//! a free loopback port and kills it by PID when it ends, passed or failed. A missing anvil is
//! installed with `npm ci` in `verifier/contracts`; without npm the tests fail, they never skip.

#[path = "common/anvil.rs"]
mod anvil_node;
#[path = "common/settlement.rs"]
mod fixture;
#[path = "common/l2.rs"]
mod l2;
#[path = "common/rollup_cli.rs"]
mod rollup_cli;

use std::time::Instant;

use anvil_node::Anvil;
use fixture::{
    chain_for_guest, chain_on, got_out, lifecycle, put_in, rival_dispute, user, wallet, Chain, Lie,
};
use rollup_cli::{field, rollup};
use verifier::l1::rpc::RpcL1;
use verifier::l1::{L1Error, TxReceipt, B256, L1, U256};
use verifier::settlement::contracts::ETHER;

/// anvil's default chain id.
const ANVIL_CHAIN_ID: u64 = 31_337;

// ---------------------------------------------------------------------------------------------
// The rollup on anvil

/// The rollup deployed on `anvil`, reached through [`RpcL1`]. Declare the anvil first, so that
/// it is killed after the chain is dropped.
fn chain(anvil: &mut Anvil) -> Chain<RpcL1> {
    let l1 = anvil.connect();
    assert_eq!(l1.chain_id(), ANVIL_CHAIN_ID);
    let chain = chain_on(l1);
    assert_eq!(chain.deployment.l1_chain_id, ANVIL_CHAIN_ID);
    chain
}

/// A refusal at gas estimation: nothing was sent, nothing mined, nothing paid.
fn refused_for_free(_: &mut Chain<RpcL1>, receipt: &TxReceipt) {
    assert_eq!(receipt.hash, B256::ZERO);
    assert_eq!(receipt.gas_used, 0);
}

#[test]
fn deposit_batch_assert_confirm_and_withdraw_once_on_anvil() {
    let started = Instant::now();
    let mut anvil = Anvil::start();
    let mut chain = chain(&mut anvil);
    let went_through = lifecycle(&mut chain, refused_for_free);
    for receipt in &went_through {
        let fee = chain.l1.fee(receipt.hash).unwrap();
        assert!(fee > U256::ZERO, "anvil charges gas: {receipt:?}");
    }
    eprintln!(
        "lifecycle on anvil: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// A rival dispute played on anvil with `play_until_decided` (the same flow as on the embedded
/// chain: every move also applied to the Rust referee, which must agree with the contracts on
/// every node, status and credit): a liar's wrong post-state root against the honest assertion
/// of batch 1. The honest one is confirmed, the rival rejected, the money adds up.
#[test]
fn a_rival_dispute_on_anvil() {
    let started = Instant::now();
    let mut anvil = Anvil::start();
    let mut chain = chain(&mut anvil);
    let lie = Lie::WrongRoot { from: 4_000 };
    let d = rival_dispute(&mut chain, lie);
    // The honest party's wallet moved by what it took out less what it put in, less the fees
    // of its transactions: anvil charges gas.
    let honest = wallet(0x54).address();
    let net = got_out(&d.m, honest) - put_in(&mut chain, &d.m, honest);
    let balance = chain.l1.balance(honest).unwrap();
    assert!(
        balance < U256::from(1000 * ETHER + net),
        "fees paid: {balance}"
    );
    assert!(
        balance > U256::from(999 * ETHER + net),
        "fees paid: {balance}"
    );
    eprintln!(
        "rival ({lie}) on anvil: assertion {} confirmed {} s after posting, rival {} rejected; honest {} moves, \
         {} gas; liar {} moves ({} refused at estimation), {} gas; {:.1} s",
        d.honest.id,
        d.report.decided_at - d.report.created_at,
        d.rival.id,
        d.honest_moves,
        d.honest_gas,
        d.liar_moves,
        d.liar_refused,
        d.liar_gas,
        started.elapsed().as_secs_f64()
    );
}

/// The EVM rollup's block of contract calls disputed on anvil: the lie sits in the middle of
/// revm's work inside the guest; the Solidity checker decides the one step.
#[test]
fn an_evm_rival_dispute_on_anvil() {
    let started = Instant::now();
    let mut anvil = Anvil::start();
    let l1 = anvil.connect();
    let (root, store, transactions, alice) = l2::settlement_batch(user().address());
    let mut chain = chain_for_guest(l1, program::EVM_STF_WASM, root, store, |_| {});
    chain.first_transactions = transactions;
    chain.first_deposit_to = alice;
    let lie = Lie::WrongRoot { from: 300_007 };
    let d = rival_dispute(&mut chain, lie);
    eprintln!(
        "EVM rival ({lie}) on anvil: assertion {} confirmed {} s after posting, rival {} rejected; \
         honest {} moves, {} gas; {:.1} s",
        d.honest.id,
        d.report.decided_at - d.report.created_at,
        d.rival.id,
        d.honest_moves,
        d.honest_gas,
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn the_json_rpc_backend_maps_what_the_node_says() {
    let mut anvil = Anvil::start();
    let mut l1 = anvil.connect();
    assert_eq!(l1.chain_id(), ANVIL_CHAIN_ID);
    let (block, time) = l1.head().unwrap();
    assert_eq!(block, 0);

    // The clock moves only forward, by at least what was asked, and mines a block.
    l1.advance_time(3_600).unwrap();
    let (next, later) = l1.head().unwrap();
    assert_eq!(next, 1);
    assert!(later >= time + 3_600, "{time} -> {later}");

    // A transfer the sender cannot pay for is the chain's refusal, not a contract's.
    let poor = wallet(0x99);
    assert_eq!(l1.balance(poor.address()).unwrap(), U256::ZERO);
    match l1.send(&poor, wallet(0x98).address(), U256::from(ETHER), vec![]) {
        Err(L1Error::Rejected(message)) => eprintln!("unfunded transfer: {message}"),
        other => panic!("{other:?}"),
    }

    // Funded, it is mined: a plain transfer, 21,000 gas, paid at the block's price.
    l1.set_balance(poor.address(), U256::from(2 * ETHER))
        .unwrap();
    let receipt = l1
        .send(&poor, wallet(0x98).address(), U256::from(ETHER), vec![0xAB])
        .unwrap()
        .success()
        .unwrap();
    assert!(receipt.gas_used >= 21_000);
    assert_eq!(receipt.block, 2);
    assert_eq!(receipt.outcome, Ok(Default::default()));
    let fee = l1.fee(receipt.hash).unwrap();
    assert_eq!(l1.balance(poor.address()).unwrap(), U256::from(ETHER) - fee);
    assert_eq!(
        l1.balance(wallet(0x98).address()).unwrap(),
        U256::from(ETHER)
    );
    assert_eq!(
        l1.transaction_input(receipt.hash).unwrap().to_vec(),
        vec![0xAB]
    );
    match l1.transaction_input(B256::repeat_byte(7)) {
        Err(L1Error::UnknownTransaction(hash)) => assert_eq!(hash, B256::repeat_byte(7)),
        other => panic!("{other:?}"),
    }
    match l1.fee(B256::repeat_byte(7)) {
        Err(L1Error::UnknownTransaction(hash)) => assert_eq!(hash, B256::repeat_byte(7)),
        other => panic!("{other:?}"),
    }
    // The receipt of a call refused at estimation (never sent) has no hash: it paid nothing.
    assert_eq!(l1.fee(B256::ZERO).unwrap(), U256::ZERO);
    assert!(l1.logs(poor.address(), 0, 2).unwrap().is_empty());
    assert!(l1.logs(poor.address(), 5, 2).unwrap().is_empty());

    // A deployment whose constructor reverts is the contract's refusal.
    // PUSH1 0 PUSH1 0 REVERT
    match l1.deploy(&poor, vec![0x60, 0x00, 0x60, 0x00, 0xFD]) {
        Err(L1Error::Reverted(_)) => {}
        other => panic!("{other:?}"),
    }
    // A contract that returns 32 bytes of 0x2A from every call: the return data of a mined
    // transaction is its replay's, and a call's.
    // runtime: PUSH1 0x2A PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
    let runtime = [0x60, 0x2A, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xF3];
    // init: copy the runtime (10 bytes at offset 12) to memory and return it.
    let mut init = vec![
        0x60, 0x0A, 0x60, 0x0C, 0x60, 0x00, 0x39, 0x60, 0x0A, 0x60, 0x00, 0xF3,
    ];
    init.extend_from_slice(&runtime);
    let answer = l1.deploy(&poor, init).unwrap();
    let mut expected = [0u8; 32];
    expected[31] = 0x2A;
    assert_eq!(l1.call(answer, vec![]).unwrap().unwrap().to_vec(), expected);
    let receipt = l1.send(&poor, answer, U256::ZERO, vec![1, 2, 3]).unwrap();
    assert_eq!(receipt.outcome.unwrap().to_vec(), expected);
}

/// anvil's first funded development account (its well-known default mnemonic).
const ANVIL_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

#[test]
fn cli_wallet_deploy_deposit_and_assertions_against_anvil() {
    let mut anvil = Anvil::start();
    let _ = anvil.connect();
    let url = anvil.url.clone();
    let dir = std::env::temp_dir().join(format!("rollup-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let _ = std::fs::remove_file(path("user.key"));
    let _ = std::fs::remove_file(path("deployment.json"));

    // A wallet file, its address, and no silent overwrite.
    let (code, out, err) = rollup(&["wallet", "new", "--out", &path("user.key")]);
    assert_eq!(code, 0, "{err}");
    let address = field(&out, "address").expect("address line").to_string();
    let (code, out, _) = rollup(&["wallet", "address", &path("user.key")]);
    assert_eq!((code, field(&out, "address")), (0, Some(address.as_str())));
    let (code, _, err) = rollup(&["wallet", "new", "--out", &path("user.key")]);
    assert_ne!(code, 0);
    assert!(err.contains("error:"), "{err}");

    // Deploy with a config file (short windows), then deposit and list the assertions.
    std::fs::write(
        path("rollup.toml"),
        "chain_id = 7\nfraud_proof_timeout = 60\n",
    )
    .unwrap();
    let (code, out, err) = rollup(&[
        "deploy",
        "--l1-rpc",
        &url,
        "--key",
        ANVIL_KEY,
        "--config",
        &path("rollup.toml"),
        "--out",
        &path("deployment.json"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(field(&out, "chain_id"), Some("7"));
    assert_eq!(
        field(&out, "l1_chain_id"),
        Some(ANVIL_CHAIN_ID.to_string().as_str())
    );
    assert!(field(&out, "rollup").is_some_and(|a| a.starts_with("0x")));
    let (code, _, err) = rollup(&[
        "deploy",
        "--l1-rpc",
        &url,
        "--key",
        ANVIL_KEY,
        "--out",
        &path("deployment.json"),
    ]);
    assert_ne!(code, 0, "an existing deployment file is not overwritten");
    assert!(err.contains("exists"), "{err}");

    let deposit = |amount: &str| {
        rollup(&[
            "deposit",
            "--l1-rpc",
            &url,
            "--deployment",
            &path("deployment.json"),
            "--key",
            ANVIL_KEY,
            "--to",
            &address,
            "--amount",
            amount,
        ])
    };
    let (code, out, err) = deposit("1000000000000000000");
    assert_eq!(code, 0, "{err}");
    assert!(field(&out, "tx").is_some_and(|t| t.len() == 66), "{out}");
    assert_eq!(field(&out, "deposit_index"), Some("0"));
    let (code, out, _) = deposit("0");
    assert_eq!(code, 1);
    assert!(out.contains("refused: ZeroDeposit"), "{out}");
    let (code, _, err) = deposit("lots");
    assert_eq!(code, 2);
    assert!(err.contains("--amount"), "{err}");
    // A 64-byte key that is not ASCII hex: refused, not a panic.
    let odd_key = format!("0xa{}b", "é".repeat(31));
    let (code, _, err) = rollup(&[
        "deposit",
        "--l1-rpc",
        &url,
        "--deployment",
        &path("deployment.json"),
        "--key",
        &odd_key,
        "--to",
        &address,
        "--amount",
        "1",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("error: --key"), "{err}");

    let (code, out, err) = rollup(&[
        "assertions",
        "--l1-rpc",
        &url,
        "--deployment",
        &path("deployment.json"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(field(&out, "assertions"), Some("1"));
    assert!(out.contains("assertion 0: confirmed batch 0"), "{out}");

    // A node that is not there: a readable error, not a panic.
    let (code, _, err) = rollup(&[
        "assertions",
        "--l1-rpc",
        "http://127.0.0.1:1",
        "--deployment",
        &path("deployment.json"),
    ]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error:"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `rollup guardian sign` by two of three signers (one offline with `--nonce`), `submit` in any
/// order from a payer that is no signer; 1-of-3 and a replay refused by name; bad input exits 2.
#[test]
fn cli_guardian_sign_and_submit_against_anvil() {
    let mut anvil = Anvil::start();
    let _ = anvil.connect();
    let url = anvil.url.clone();
    let dir = std::env::temp_dir().join(format!("rollup-guardian-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let _ = std::fs::remove_file(path("deployment.json"));
    let keys: Vec<String> = (1..=3u8)
        .map(|b| format!("0x{}", format!("{b:02x}").repeat(32)))
        .collect();
    let mut signers: Vec<String> = keys
        .iter()
        .map(|k| {
            let secret: [u8; 32] = k.parse::<B256>().unwrap().0;
            verifier::l1::Wallet::from_secret(&secret)
                .unwrap()
                .address()
                .to_string()
        })
        .collect();
    signers.sort_by_key(|a| a.to_lowercase());
    let list = signers
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(
        path("rollup.toml"),
        format!("chain_id = 7\nguardian_signers = [{list}]\nguardian_threshold = 2\npause_expiry = 600\n"),
    )
    .unwrap();
    let (code, _, err) = rollup(&[
        "deploy",
        "--l1-rpc",
        &url,
        "--key",
        ANVIL_KEY,
        "--config",
        &path("rollup.toml"),
        "--out",
        &path("deployment.json"),
    ]);
    assert_eq!(code, 0, "{err}");
    let deployment = path("deployment.json");
    let sign = |key: &str, extra: &[&str]| {
        let mut args = vec![
            "guardian",
            "sign",
            "--key",
            key,
            "--action",
            "pause",
            "--deployment",
            &deployment,
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = rollup(&args);
        assert_eq!(code, 0, "{err}");
        assert_eq!(field(&out, "nonce"), Some("0"));
        field(&out, "signature").unwrap().to_string()
    };
    let online = sign(&keys[0], &["--l1-rpc", &url]);
    let offline = sign(&keys[2], &["--nonce", "0"]);
    assert_eq!(online.len(), 2 + 130);
    let submit = |sigs: &str| {
        rollup(&[
            "guardian",
            "submit",
            "--l1-rpc",
            &url,
            "--deployment",
            &deployment,
            "--key",
            ANVIL_KEY,
            "--action",
            "pause",
            "--sigs",
            sigs,
        ])
    };
    let (code, out, err) = submit(&online);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("refused: TooFewSignatures(1, 2)"), "{out}");
    let (code, out, err) = submit(&format!("{offline},{online}"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(field(&out, "l1_tx").is_some_and(|t| t.len() == 66), "{out}");
    assert!(field(&out, "paused_until").is_some(), "{out}");
    assert_eq!(field(&out, "nonce"), Some("1"));
    // The same signatures again: their nonce is spent.
    let (code, out, _) = submit(&format!("{online},{offline}"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("refused: NotGuardianSigner("), "{out}");
    // Bad input: an error line and exit 2, never a panic.
    for args in [
        vec![
            "guardian",
            "sign",
            "--key",
            &keys[0],
            "--action",
            "hold",
            "--deployment",
            &deployment,
            "--nonce",
            "1",
        ],
        vec![
            "guardian",
            "sign",
            "--key",
            "0x12",
            "--action",
            "pause",
            "--deployment",
            &deployment,
            "--nonce",
            "1",
        ],
        vec![
            "guardian",
            "sign",
            "--key",
            &keys[0],
            "--action",
            "pause",
            "--deployment",
            &deployment,
        ],
        vec![
            "guardian",
            "submit",
            "--l1-rpc",
            &url,
            "--deployment",
            &deployment,
            "--key",
            ANVIL_KEY,
            "--action",
            "unpause",
            "--sigs",
            "0xzz",
        ],
    ] {
        let (code, _, err) = rollup(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.starts_with("error:"), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A batch in a blob on anvil: posted as an EIP-4844 transaction with its EIP-7594 sidecar
/// through [`RpcL1`], its blob read back with `anvil_getBlobsByTransactionHash` and checked
/// against the versioned hash the inbox logged; then a lie from the step after the guest's first
/// blob read, refuted by a one-step proof of that read on anvil (whose point-evaluation
/// precompile is c-kzg, not the embedded chain's arkworks).
#[test]
fn a_batch_in_blobs_and_a_lie_about_it_on_anvil() {
    let started = Instant::now();
    let mut anvil = Anvil::start();
    let mut chain = chain(&mut anvil);
    chain.first_in_blobs = true;
    chain.first_transactions = program::compress_section(&chain.first_transactions);
    let step = fixture::first_blob_read_step(&chain.first_transactions);
    let d = rival_dispute(&mut chain, Lie::WrongRoot { from: step + 1 });
    let batch = prover::settlement::fetch_batch(&mut chain.l1, &chain.deployment, 1).unwrap();
    assert_eq!(batch.blobs.len(), 1, "read back from anvil");
    let commitment = verifier::blobs::commitment(&batch.blobs[0]).unwrap();
    let proven: Vec<_> = verifier::settlement::contracts::events::<
        verifier::settlement::contracts::Rollup::StepProven,
    >(&fixture::rollup_logs(&mut chain))
    .into_iter()
    .map(|(_, log)| log.tx_hash)
    .collect();
    assert_eq!(proven.len(), 1);
    let input = chain.l1.transaction_input(proven[0]).unwrap();
    assert!(input.windows(48).any(|window| window == commitment));
    println!(
        "anvil: blob batch disputed at its blob read (step {step}): honest {} moves, {} gas; {:.1} s",
        d.honest_moves,
        d.honest_gas,
        started.elapsed().as_secs_f64()
    );
}
