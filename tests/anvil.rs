//! The settlement lifecycle and an on-chain game against a real node: anvil (npm
//! `@foundry-rs/anvil`, pinned by `verifier/contracts/package-lock.json`) reached through
//! [`RpcL1`], the JSON-RPC backend of `L1`. The same flows as `tests/settlement.rs` on the
//! embedded chain, with what a real chain adds: gas paid in ether at a non-zero price, wall-clock
//! block times, signed raw transactions, logs and calldata read back over JSON-RPC.
//!
//! Each test starts its own anvil (automining, Osaka rules, EIP-7825's transaction gas cap on) on
//! a free loopback port and kills it by PID when it ends, passed or failed. A missing anvil is
//! installed with `npm ci` in `verifier/contracts`; without npm the tests fail, they never skip.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use program::ledger::{BatchStatus, TransactionList, Withdrawal};
use program::{address_of, sign_transfer, sign_withdraw, NodeStore, SigningKey, EMPTY_ROOT};
use prover::dispute::{checkpoint_count, play_onchain, Checkpoints, Computation, HonestAgent};
use prover::dispute::{Liar, Lie, Player};
use prover::settlement::{
    assert_batch, challenge, confirm, fetch_batch, finalize_withdrawal, genesis_assertion,
    initial_opening, post_batch, run_claim, withdrawal_proof_of, AssertionRecord, BatchClaim,
    PostedBatch,
};
use prover::StfGuest;
use verifier::l1::rpc::RpcL1;
use verifier::l1::{Address, L1Error, Wallet, B256, L1, U256};
use verifier::settlement::contracts::{self, view, Inbox, Rollup, ETHER};
use verifier::settlement::{deploy, Deployment, MachineOpening, SettlementConfig};

const CHAIN_ID: u64 = 42;
/// anvil's default chain id.
const ANVIL_CHAIN_ID: u64 = 31_337;
const PERIOD: u64 = 1_000;

// ---------------------------------------------------------------------------------------------
// anvil

fn contracts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier/contracts")
}

/// The npm package that ships this platform's anvil binary.
fn anvil_binary() -> PathBuf {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let exe = if os == "win32" { "anvil.exe" } else { "anvil" };
    contracts_dir()
        .join("node_modules/@foundry-rs")
        .join(format!("anvil-{os}-{arch}"))
        .join("bin")
        .join(exe)
}

/// The anvil binary, installed with `npm ci` once per test run if missing.
fn anvil() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let binary = anvil_binary();
        if !binary.exists() {
            let dir = contracts_dir();
            println!(
                "{} is missing: running `npm ci` in {}",
                binary.display(),
                dir.display()
            );
            let out = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .output()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot run `npm` ({e}): the anvil tests need Node.js and npm \
                         (Debian: apt-get install nodejs npm)"
                    )
                });
            assert!(
                out.status.success(),
                "`npm ci` failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            binary.exists(),
            "no anvil at {} even after `npm ci` in verifier/contracts: is \
             @foundry-rs/anvil in its package-lock.json, with a package for this platform?",
            binary.display()
        );
        binary
    })
}

/// A running anvil; killed (and reaped) by its PID when dropped.
struct Anvil {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Anvil {
    fn start() -> Anvil {
        // A port the OS says is free right now; anvil binds it a moment later.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let log = std::env::temp_dir().join(format!("anvil-{}-{port}.log", std::process::id()));
        let log_file = File::create(&log).expect("anvil log file");
        let child = Command::new(anvil())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--hardfork", "osaka", "--enable-tx-gas-limit", "--silent"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", anvil().display()));
        let anvil = Anvil {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        eprintln!("anvil (PID {}) on {}", anvil.child.id(), anvil.url);
        anvil
    }

    /// Connects once `eth_chainId` answers.
    fn connect(&mut self) -> RpcL1 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match RpcL1::connect(&self.url) {
                Ok(l1) => return l1,
                Err(e) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        panic!(
                            "anvil exited ({status}) before answering: {}",
                            self.output()
                        );
                    }
                    assert!(
                        Instant::now() < deadline,
                        "anvil did not answer eth_chainId within 20 s ({e}): {}",
                        self.output()
                    );
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

// ---------------------------------------------------------------------------------------------
// The rollup on anvil

fn wallet(byte: u8) -> Wallet {
    Wallet::from_secret(&[byte; 32]).expect("valid key")
}

struct Chain {
    l1: RpcL1,
    deployment: Deployment,
    guest: StfGuest,
    initial: MachineOpening,
    sequencer: Wallet,
    // Last: anvil is killed after everything else is dropped.
    _anvil: Anvil,
}

/// A fresh anvil with the rollup deployed; wallets 0x51 (the sequencer and deployer) to 0x54
/// hold 1,000 ETH.
fn chain() -> Chain {
    let mut anvil = Anvil::start();
    let mut l1 = anvil.connect();
    assert_eq!(l1.chain_id(), ANVIL_CHAIN_ID);
    let guest = StfGuest::new(program::STF_WASM).expect("guest");
    let opening = initial_opening(&guest).expect("step 0");
    let sequencer = wallet(0x51);
    for byte in [0x51, 0x52, 0x53, 0x54] {
        l1.set_balance(wallet(byte).address(), U256::from(1000 * ETHER))
            .expect("fund");
        assert_eq!(
            l1.balance(wallet(byte).address()).unwrap(),
            U256::from(1000 * ETHER)
        );
    }
    let mut config = SettlementConfig::new(
        CHAIN_ID,
        sequencer.address(),
        B256::from(EMPTY_ROOT),
        B256::from(opening.commitment()),
        B256::from(opening.module_hash()),
    );
    config.challenge_period = PERIOD;
    config.withdrawal_delay = PERIOD / 2;
    config.force_inclusion_delay = PERIOD;
    config.clock_budget = 10 * PERIOD;
    let deployment = deploy(&mut l1, &sequencer, &config).expect("deploy");
    assert_eq!(deployment.l1_chain_id, ANVIL_CHAIN_ID);
    Chain {
        l1,
        deployment,
        guest,
        initial: opening,
        sequencer,
        _anvil: anvil,
    }
}

fn escrow_is_conserved(chain: &mut Chain) {
    let inbox = chain.deployment.inbox;
    let deposited = view(&mut chain.l1, inbox, Inbox::totalDepositedCall {}).unwrap();
    let released = view(&mut chain.l1, inbox, Inbox::totalReleasedCall {}).unwrap();
    let balance = chain.l1.balance(inbox).unwrap();
    assert_eq!(U256::from(deposited), balance + U256::from(released));
}

/// A refusal at gas estimation: nothing was mined, nothing was paid.
fn refused_for_free(chain: &mut Chain, receipt: &verifier::l1::TxReceipt) -> String {
    assert_eq!(receipt.hash, B256::ZERO);
    assert_eq!(receipt.gas_used, 0);
    assert!(receipt.logs.is_empty());
    let (head, _) = chain.l1.head().unwrap();
    assert_eq!(receipt.block, head);
    receipt.outcome.clone().unwrap_err().error
}

#[test]
fn deposit_batch_assert_confirm_and_withdraw_once_on_anvil() {
    let started = Instant::now();
    let mut chain = chain();
    let user = wallet(0x52);
    let alice_key = SigningKey::from_slice(&[0xA1; 32]).unwrap();
    let alice = address_of(&alice_key);
    let bob = [0xB0; 20];

    // 3 ETH deposited on L1 for Alice on L2: the user pays the deposit and the gas.
    let before = chain.l1.balance(user.address()).unwrap();
    let receipt = contracts::send(
        &mut chain.l1,
        &user,
        chain.deployment.inbox,
        U256::from(3 * ETHER),
        Inbox::depositCall {
            l2Recipient: Address::from(alice),
        },
    )
    .unwrap()
    .success()
    .unwrap();
    assert_ne!(receipt.hash, B256::ZERO);
    assert!(receipt.gas_used > 21_000);
    let fee = chain.l1.fee(receipt.hash).unwrap();
    assert!(fee > U256::ZERO, "anvil charges gas");
    assert_eq!(
        chain.l1.balance(user.address()).unwrap(),
        before - U256::from(3 * ETHER) - fee
    );
    assert_eq!(
        chain.l1.balance(chain.deployment.inbox).unwrap(),
        U256::from(3 * ETHER)
    );
    let queued = contracts::events::<Inbox::DepositQueued>(&receipt.logs);
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].1.tx_hash, receipt.hash);
    assert_eq!(queued[0].1.block, receipt.block);
    eprintln!("deposit: {} gas", receipt.gas_used);
    escrow_is_conserved(&mut chain);

    // Batch 1: the deposit, then Alice sends Bob 0.5 ETH and withdraws 1 ETH to the user's L1 account.
    let withdrawal_amount = ETHER;
    let transactions = TransactionList(vec![
        sign_transfer(&alice_key, CHAIN_ID, bob, ETHER / 2, 0)
            .to_bytes()
            .unwrap(),
        sign_withdraw(
            &alice_key,
            CHAIN_ID,
            user.address().into_array(),
            withdrawal_amount,
            1,
        )
        .to_bytes()
        .unwrap(),
    ])
    .to_bytes()
    .unwrap();
    let (number, receipt) = post_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &transactions,
    )
    .unwrap();
    assert_eq!(number, 1);
    eprintln!(
        "post batch ({} bytes): {} gas",
        transactions.len(),
        receipt.gas_used
    );

    // Rebuilt from L1 alone (logs and calldata over JSON-RPC), the batch commits to what the
    // inbox stored.
    let batch = fetch_batch(&mut chain.l1, &chain.deployment, 1).unwrap();
    assert_eq!(batch.deposits.len(), 1);
    assert_eq!(batch.deposits[0].amount, 3 * ETHER);
    assert_eq!(batch.transactions, transactions);
    batch.commitment_opening().unwrap();

    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();
    let claim = run_claim(&chain.guest, &batch, &genesis, NodeStore::new()).unwrap();
    let outputs = program::ledger::BatchOutputs::from_bytes(&claim.outputs).unwrap();
    assert_eq!(outputs.status, BatchStatus::Accepted);
    assert_eq!(
        (
            outputs.deposit_count,
            outputs.tx_count,
            outputs.withdrawal_count
        ),
        (1, 2, 1)
    );
    let (assertion, receipt) = assert_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &genesis,
        &batch,
        &claim,
    )
    .unwrap();
    eprintln!("assert: {} gas", receipt.gas_used);
    assert_eq!(assertion.id, 1);

    // Not before the challenge period is over; refused at estimation, so free.
    let before = chain.l1.balance(user.address()).unwrap();
    let early = confirm(&mut chain.l1, &user, &chain.deployment, &assertion).unwrap();
    let refusal = refused_for_free(&mut chain, &early);
    assert!(refusal.starts_with("ChallengePeriodRunning"), "{refusal}");
    let withdrawal = Withdrawal {
        l1_recipient: user.address().into_array(),
        amount: withdrawal_amount,
        index: 1 << 32 | 1,
    };
    let proof = withdrawal_proof_of(&[withdrawal], 0).unwrap();
    let early = finalize_withdrawal(
        &mut chain.l1,
        &user,
        &chain.deployment,
        1,
        &withdrawal,
        proof.clone(),
    )
    .unwrap();
    let refusal = refused_for_free(&mut chain, &early);
    assert!(refusal.starts_with("NotConfirmed"), "{refusal}");
    assert_eq!(chain.l1.balance(user.address()).unwrap(), before);

    // A read-only call reverts the same way.
    let reverted = match view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::confirmCall {
            id: assertion.id,
            data: assertion.data.clone(),
            outputs: contracts::bytes(&assertion.outputs),
        },
    ) {
        Err(L1Error::Reverted(revert)) => revert,
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("confirm before the period as a call did not revert"),
    };
    assert!(
        reverted.error.starts_with("ChallengePeriodRunning"),
        "{reverted:?}"
    );
    assert!(!reverted.raw.is_empty());

    let (_, before_time) = chain.l1.head().unwrap();
    chain.l1.advance_time(PERIOD).unwrap();
    let (_, after_time) = chain.l1.head().unwrap();
    assert!(
        after_time >= before_time + PERIOD,
        "{before_time} -> {after_time}"
    );
    let receipt = confirm(&mut chain.l1, &user, &chain.deployment, &assertion)
        .unwrap()
        .success()
        .unwrap();
    eprintln!("confirm: {} gas", receipt.gas_used);
    assert_eq!(
        view(
            &mut chain.l1,
            chain.deployment.rollup,
            Rollup::lastConfirmedIdCall {}
        )
        .unwrap(),
        1
    );

    // A forged proof (another amount) is refused; the real one pays once.
    let forged = Withdrawal {
        amount: 2 * ETHER,
        ..withdrawal
    };
    let refused = finalize_withdrawal(
        &mut chain.l1,
        &user,
        &chain.deployment,
        1,
        &forged,
        proof.clone(),
    )
    .unwrap();
    let refusal = refused_for_free(&mut chain, &refused);
    assert!(refusal.starts_with("BadWithdrawalProof"), "{refusal}");

    let before = chain.l1.balance(user.address()).unwrap();
    let receipt = finalize_withdrawal(
        &mut chain.l1,
        &user,
        &chain.deployment,
        1,
        &withdrawal,
        proof.clone(),
    )
    .unwrap()
    .success()
    .unwrap();
    eprintln!("finalize withdrawal: {} gas", receipt.gas_used);
    let fee = chain.l1.fee(receipt.hash).unwrap();
    assert_eq!(
        chain.l1.balance(user.address()).unwrap(),
        before + U256::from(withdrawal_amount) - fee
    );
    let finalized = contracts::events::<Rollup::WithdrawalFinalized>(&receipt.logs);
    assert_eq!(finalized.len(), 1);
    let twice = finalize_withdrawal(
        &mut chain.l1,
        &user,
        &chain.deployment,
        1,
        &withdrawal,
        proof,
    )
    .unwrap();
    let refusal = refused_for_free(&mut chain, &twice);
    assert!(refusal.starts_with("AlreadyPaid"), "{refusal}");
    assert_eq!(
        chain.l1.balance(chain.deployment.inbox).unwrap(),
        U256::from(2 * ETHER)
    );
    escrow_is_conserved(&mut chain);
    eprintln!(
        "lifecycle on anvil: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// A deposit for Alice and batch 1 with two of her transactions, posted; the batch as L1 holds it,
/// genesis, and the true claim about the batch.
fn first_batch(chain: &mut Chain) -> (PostedBatch, AssertionRecord, BatchClaim) {
    let user = wallet(0x52);
    let alice_key = SigningKey::from_slice(&[0xA1; 32]).unwrap();
    contracts::send(
        &mut chain.l1,
        &user,
        chain.deployment.inbox,
        U256::from(3 * ETHER),
        Inbox::depositCall {
            l2Recipient: Address::from(address_of(&alice_key)),
        },
    )
    .unwrap()
    .success()
    .unwrap();
    let transactions = TransactionList(vec![
        sign_transfer(&alice_key, CHAIN_ID, [0xB0; 20], ETHER / 2, 0)
            .to_bytes()
            .unwrap(),
        sign_withdraw(&alice_key, CHAIN_ID, user.address().into_array(), ETHER, 1)
            .to_bytes()
            .unwrap(),
    ])
    .to_bytes()
    .unwrap();
    post_batch(
        &mut chain.l1,
        &chain.sequencer,
        &chain.deployment,
        &transactions,
    )
    .unwrap();
    let batch = fetch_batch(&mut chain.l1, &chain.deployment, 1).unwrap();
    let genesis = genesis_assertion(&mut chain.l1, &chain.deployment).unwrap();
    let claim = run_claim(&chain.guest, &batch, &genesis, NodeStore::new()).unwrap();
    (batch, genesis, claim)
}

/// The honest trace of `batch` on `parent`, for agents.
fn trace(
    chain: &Chain,
    batch: &PostedBatch,
    parent: &AssertionRecord,
    steps: u64,
) -> Checkpoints<prover::StfHost> {
    let message = batch.message(&parent.post_state_root().unwrap());
    let computation = Computation::stf_message(&chain.guest, message, NodeStore::new()).unwrap();
    Checkpoints::build(computation, steps, checkpoint_count(steps, 32))
}

fn credits(chain: &mut Chain, who: &Wallet) -> U256 {
    view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::creditsCall(who.address()),
    )
    .unwrap()
}

fn status(chain: &mut Chain, id: u64) -> u8 {
    view(
        &mut chain.l1,
        chain.deployment.rollup,
        Rollup::assertionCall { id },
    )
    .unwrap()
    .status
}

#[test]
fn a_lying_asserter_loses_the_game_on_anvil() {
    let started = Instant::now();
    let mut chain = chain();
    let (batch, genesis, truth) = first_batch(&mut chain);
    let lie = Lie::WrongFrom(truth.steps / 2);
    let honest_trace = trace(&chain, &batch, &genesis, truth.steps);
    let liar = Liar::new(honest_trace.clone(), lie, 7);
    let honest = HonestAgent::new(honest_trace);
    let (liar_wallet, honest_wallet) = (wallet(0x53), wallet(0x54));

    // The liar asserts outputs with another post-state root.
    let mut claim = truth.clone();
    claim.outputs[60] ^= 1;
    let (assertion, _) = assert_batch(
        &mut chain.l1,
        &liar_wallet,
        &chain.deployment,
        &genesis,
        &batch,
        &claim,
    )
    .unwrap();
    let initial = chain.initial.clone();
    let (game, _) = challenge(
        &mut chain.l1,
        &honest_wallet,
        &chain.deployment,
        &assertion,
        &initial,
    )
    .unwrap();
    let report = play_onchain(
        &mut chain.l1,
        &chain.deployment,
        game,
        Player {
            agent: Box::new(liar),
            wallet: liar_wallet.clone(),
        },
        Player {
            agent: Box::new(honest),
            wallet: honest_wallet.clone(),
        },
    )
    .unwrap_or_else(|e| panic!("{lie}: {e}"));
    // The contract derived the step-0 hash the honest trace starts from.
    assert_eq!(
        report.claim.pre,
        trace(&chain, &batch, &genesis, 1).start_hash()
    );
    assert_eq!(
        report.outcome.winner,
        verifier::bisection::Party::Challenger,
        "{report:?}"
    );
    // Every accepted move was mined and paid for; a refused one was refused at estimation.
    for m in &report.moves {
        assert_eq!(m.gas == 0, m.refused.is_some(), "{m:?}");
    }
    let bond = U256::from(ETHER);
    let burn = bond / U256::from(2);
    assert_eq!(status(&mut chain, assertion.id), 3, "rejected");
    assert_eq!(credits(&mut chain, &honest_wallet), bond + bond - burn);
    assert_eq!(credits(&mut chain, &liar_wallet), U256::ZERO);
    escrow_is_conserved(&mut chain);
    eprintln!(
        "{lie} as asserter on anvil: {} rounds, {} transactions, {} gas, {:.1} s",
        report.rounds,
        report.moves.len(),
        report.gas,
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
