//! Real Ethereum clients, with no code of ours on their side, against `rollup devnet` run as a
//! process (an EVM L2 on its `rpc:` URL, its embedded L1 on `l1_rpc:`):
//! - foundry's cast (npm `@foundry-rs/cast`): chain id, a funded balance, an ETH transfer and its
//!   receipt, the `latest`/`safe`/`finalized` blocks;
//! - foundry's forge (npm `@foundry-rs/forge`): `forge create` of DemoToken compiled from its
//!   source, offline, with the pinned solcjs behind `tests/js/solc` (this machine has no native
//!   solc); then cast transfers the token, reads `balanceOf`, its `Transfer` logs, and sees a
//!   transfer beyond the balance revert with the `InsufficientBalance` custom error;
//! - ethers 6 (`tests/js/ethers_devnet.js`): chain id, balance, an ETH transfer waited for, the
//!   forge-deployed token through a human-readable ABI (balanceOf, a transfer, Transfer events,
//!   the custom error decoded);
//! - a withdrawal sent with cast to the system contract, claimed on the devnet's L1 with
//!   `rollup claim` once its assertion is confirmed (the L1 clock sped up), paid to the recipient.
//!
//! A missing tool fails the test (the foundry tools are installed by `npm ci` in
//! verifier/contracts when missing); nothing is skipped.

#[path = "common/anvil.rs"]
mod anvil_node;
#[path = "common/processes.rs"]
mod processes;
#[path = "common/rollup_cli.rs"]
mod rollup_cli;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use processes::{fresh_dir, wait_for, NodeProcess};
use rollup_cli::{field, rollup};
use serde_json::Value;
use verifier::l1::L1;

/// The system contract that takes withdrawals on L2.
const WITHDRAWALS: &str = "0x4842000000000000000000000000000000000001";
const INSUFFICIENT_BALANCE: &str = "InsufficientBalance(address,uint256,uint256)";
const TRANSFER_EVENT: &str = "Transfer(address indexed,address indexed,uint256)";

/// `rollup devnet` on free ports and a fresh data dir, with what it printed at start.
struct Devnet {
    node: NodeProcess,
    /// Kept open so the devnet's stdout never breaks.
    _stdout: BufReader<ChildStdout>,
    printed: String,
    l1_rpc: String,
    deployment: String,
}

impl Devnet {
    fn start(dir: &Path) -> Devnet {
        let log = dir.join("devnet.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_rollup"))
            .args(["devnet", "--data-dir"])
            .arg(dir.join("devnet"))
            .args(["--rpc-port", "0", "--l1-port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("start rollup devnet");
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut lines: Vec<String> = Vec::new();
        while !lines.iter().any(|l| l.starts_with("account 3:")) {
            let mut line = String::new();
            assert!(
                reader.read_line(&mut line).unwrap() > 0,
                "the devnet ended early: {lines:?}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            lines.push(line.trim_end().to_string());
        }
        let printed = lines.join("\n");
        eprintln!("devnet (PID {}):\n{printed}", child.id());
        let node = NodeProcess {
            child,
            args: vec![],
            log,
            rpc: field(&printed, "rpc").expect("rpc:").to_string(),
        };
        let l1_rpc = field(&printed, "l1_rpc").expect("l1_rpc:").to_string();
        let deployment = field(&printed, "deployment")
            .expect("deployment:")
            .to_string();
        assert!(Path::new(&deployment).exists(), "{printed}");
        Devnet {
            node,
            _stdout: reader,
            printed,
            l1_rpc,
            deployment,
        }
    }

    /// Address and key of funded `account N`, as printed: `0x… key 0x… (…)`.
    fn account(&self, n: usize) -> (String, String) {
        let line = field(&self.printed, &format!("account {n}")).expect("an account line");
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[1], "key", "{line}");
        (words[0].to_lowercase(), words[2].to_string())
    }
}

/// `program args...` in `dir` with foundry's network lookups off; killed by its PID if it has not
/// finished within `seconds`. Its exit status, stdout and stderr.
fn run(program: &Path, args: &[&str], dir: &Path, seconds: u64) -> (bool, String, String) {
    // A new name for every run, so that output files never collide.
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let id = format!(
        "{}-{}",
        program.file_name().unwrap().to_string_lossy(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    );
    let (out, err) = (dir.join(format!("{id}.out")), dir.join(format!("{id}.err")));
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("FOUNDRY_OFFLINE", "true")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{} {} did not finish within {seconds} s:\n{}",
                program.display(),
                args.join(" "),
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    let result = (status.success(), read(&out), read(&err));
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&err);
    result
}

/// cast, run in `dir`.
struct Cast {
    binary: PathBuf,
    dir: PathBuf,
}

impl Cast {
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        run(&self.binary, args, &self.dir, 60)
    }

    /// cast's trimmed stdout, which must succeed.
    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args);
        assert!(ok, "cast {} failed:\n{out}\n{err}", args.join(" "));
        out.trim().to_string()
    }

    /// `cast send --json` from `key` on `url`: its receipt, which must say success.
    fn send(&self, url: &str, key: &str, args: &[&str]) -> Value {
        let mut all = vec!["send", "--rpc-url", url, "--json", "--private-key", key];
        all.extend_from_slice(args);
        let receipt = json_of(&self.ok(&all));
        assert_eq!(receipt["status"], "0x1", "{receipt}");
        receipt
    }

    /// The number of the block `tag` names.
    fn block_number(&self, url: &str, tag: &str) -> u64 {
        let number = self.ok(&["block", "--rpc-url", url, tag, "--field", "number"]);
        number
            .parse()
            .unwrap_or_else(|e| panic!("block {tag}: {number:?} ({e})"))
    }
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A `0x` quantity as cast's JSON gives it.
fn quantity(value: &Value) -> u64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a quantity: {value}"));
    u64::from_str_radix(text.trim_start_matches("0x"), 16).unwrap()
}

fn lower(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_lowercase()
}

/// A 32-byte topic holding `address`.
fn topic_of(address: &str) -> String {
    format!("0x{:0>64}", address.trim_start_matches("0x").to_lowercase())
}

/// `cast call ... (uint256)` prints big numbers as `1000000 [1e6]`: the number alone.
fn number_of(printed: &str) -> &str {
    printed.split_whitespace().next().unwrap_or_default()
}

#[test]
fn cast_forge_and_ethers_use_the_devnet_and_a_cast_withdrawal_is_claimed_on_its_l1() {
    let started = Instant::now();
    let cast = Cast {
        binary: anvil_node::foundry_tool("cast"),
        dir: fresh_dir("devnet-clients"),
    };
    let forge = anvil_node::foundry_tool("forge");
    let dir = cast.dir.clone();
    let devnet = Devnet::start(&dir);
    let (rpc, l1_rpc) = (devnet.node.rpc.clone(), devnet.l1_rpc.clone());
    let (alice, alice_key) = devnet.account(0);
    let (_, l1_payer_key) = devnet.account(1);
    let (bob, bob_key) = devnet.account(2);
    let carol = "0x00000000000000000000000000000000000000c1";
    let dave = "0x00000000000000000000000000000000000000d1";
    let l1_recipient = "0x00000000000000000000000000000000000000e1";

    // The funding deposits make batch 1: then the accounts hold their 100 ETH on L2.
    wait_for(&devnet.node, 60, "the funding deposits applied", |latest| {
        latest["batch"].as_u64() >= Some(1)
    });

    // cast: chain id, balance, an ETH transfer, its receipt.
    let chain_id = cast.ok(&["chain-id", "--rpc-url", &rpc]);
    assert_eq!(chain_id, "1", "the devnet's default chain id");
    let funded = "100000000000000000000";
    assert_eq!(cast.ok(&["balance", "--rpc-url", &rpc, &alice]), funded);
    let paid = cast.send(&rpc, &alice_key, &[carol, "--value", "1.5ether"]);
    let paid_hash = paid["transactionHash"]
        .as_str()
        .expect("a hash")
        .to_string();
    assert_eq!(
        cast.ok(&["balance", "--rpc-url", &rpc, carol]),
        "1500000000000000000"
    );
    let receipt = json_of(&cast.ok(&["receipt", "--rpc-url", &rpc, "--json", &paid_hash]));
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(receipt["transactionHash"], paid_hash.as_str(), "{receipt}");
    assert_eq!(lower(&receipt["from"]), alice, "{receipt}");
    assert_eq!(lower(&receipt["to"]), carol, "{receipt}");
    assert_eq!(receipt["blockNumber"], paid["blockNumber"], "{receipt}");
    let paid_block = quantity(&receipt["blockNumber"]);
    assert!(paid_block >= 1, "{receipt}");
    let tx = json_of(&cast.ok(&["tx", "--rpc-url", &rpc, "--json", &paid_hash]));
    assert_eq!(tx["value"], "0x14d1120d7b160000", "1.5 ETH: {tx}");

    // The tags: safe (posted to L1) and finalized (confirmed there) never pass latest; the
    // transfer's block becomes safe once its batch is posted.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Read in this order, as each only grows: finalized <= safe <= latest must hold.
        let finalized = cast.block_number(&rpc, "finalized");
        let safe = cast.block_number(&rpc, "safe");
        let latest = cast.block_number(&rpc, "latest");
        assert!(
            finalized <= safe && safe <= latest,
            "latest {latest}, safe {safe}, finalized {finalized}"
        );
        if safe >= paid_block {
            eprintln!("tags: latest {latest}, safe {safe}, finalized {finalized}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "block {paid_block} never safe (latest {latest}, safe {safe}):\n{}",
            devnet.node.output()
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // forge: DemoToken compiled from its source, offline, by solcjs behind tests/js/solc, and
    // created on the devnet.
    let project = dir.join("forge");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::copy(
        anvil_node::contracts_dir().join("src/l2/DemoToken.sol"),
        project.join("src/DemoToken.sol"),
    )
    .unwrap();
    std::fs::write(
        project.join("foundry.toml"),
        "[profile.default]\nsrc = \"src\"\nout = \"out\"\ncache_path = \"cache\"\nlibs = []\nevm_version = \"osaka\"\n",
    )
    .unwrap();
    let solc = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/solc");
    let (ok, out, err) = run(&solc, &["--version"], &project, 30);
    assert!(ok && out.contains("Version: 0.8.37+commit."), "{out}{err}");
    let project_str = project.to_str().unwrap();
    let forge_args = [
        "create",
        "src/DemoToken.sol:DemoToken",
        "--root",
        project_str,
        "--use",
        solc.to_str().unwrap(),
        "--offline",
        "--json",
        "--rpc-url",
        &rpc,
        "--private-key",
        &alice_key,
        "--broadcast",
        // Last: it takes every argument after it.
        "--constructor-args",
        "Demo",
        "DMO",
        "1000000",
    ];
    let (ok, out, err) = run(&forge, &forge_args, &project, 120);
    assert!(ok, "forge create failed:\n{out}\n{err}");
    eprintln!("forge create: {}", out.trim());
    // The JSON object, after whatever forge says of its compilation.
    let created = json_of(&out[out.find('{').unwrap_or(0)..]);
    let token = lower(&created["deployedTo"]);
    assert!(token.starts_with("0x") && token.len() == 42, "{created}");
    assert_eq!(lower(&created["deployer"]), alice, "{created}");
    let created_hash = created["transactionHash"]
        .as_str()
        .expect("a hash")
        .to_string();
    let created_receipt =
        json_of(&cast.ok(&["receipt", "--rpc-url", &rpc, "--json", &created_hash]));
    assert_eq!(created_receipt["status"], "0x1", "{created_receipt}");
    assert_eq!(lower(&created_receipt["contractAddress"]), token);
    let code = cast.ok(&["code", "--rpc-url", &rpc, &token]);
    assert!(code.len() > 100, "no code at {token}: {code}");
    // What is on chain is what forge compiled, with the pinned compiler behind the wrapper.
    let compiled = json_of(
        &std::fs::read_to_string(project.join("out/DemoToken.sol/DemoToken.json"))
            .expect("forge's artifact"),
    );
    assert_eq!(
        compiled["metadata"]["compiler"]["version"]
            .as_str()
            .unwrap_or_default()
            .split("+commit.")
            .next(),
        Some("0.8.37"),
        "{}",
        compiled["metadata"]
    );
    assert_eq!(
        lower(&compiled["deployedBytecode"]["object"]),
        code.to_lowercase()
    );
    let call = |signature: &str, args: &[&str]| {
        let mut all = vec!["call", "--rpc-url", rpc.as_str(), token.as_str(), signature];
        all.extend_from_slice(args);
        cast.ok(&all)
    };
    assert_eq!(call("symbol()(string)", &[]).trim_matches('"'), "DMO");
    assert_eq!(number_of(&call("totalSupply()(uint256)", &[])), "1000000");

    // cast: a token transfer, balanceOf, the Transfer logs.
    let moved = cast.send(
        &rpc,
        &alice_key,
        &[&token, "transfer(address,uint256)", &bob, "250"],
    );
    let balance_of = "balanceOf(address)(uint256)";
    assert_eq!(number_of(&call(balance_of, &[&bob])), "250");
    assert_eq!(number_of(&call(balance_of, &[&alice])), "999750");
    let logs = json_of(&cast.ok(&[
        "logs",
        "--rpc-url",
        &rpc,
        "--json",
        "--from-block",
        "0",
        "--address",
        &token,
        TRANSFER_EVENT,
    ]));
    let logs = logs.as_array().expect("a list of logs");
    assert_eq!(logs.len(), 2, "the mint and the transfer: {logs:?}");
    assert_eq!(
        logs[0]["transactionHash"],
        created_hash.as_str(),
        "{logs:?}"
    );
    assert_eq!(logs[0]["topics"][1], topic_of("0x0"), "{logs:?}");
    assert_eq!(logs[0]["topics"][2], topic_of(&alice), "{logs:?}");
    assert_eq!(
        logs[1]["transactionHash"], moved["transactionHash"],
        "{logs:?}"
    );
    assert_eq!(logs[1]["topics"][1], topic_of(&alice), "{logs:?}");
    assert_eq!(logs[1]["topics"][2], topic_of(&bob), "{logs:?}");
    assert_eq!(quantity(&logs[1]["data"]), 250, "{logs:?}");

    // A transfer beyond the balance: cast call and cast send both show the revert with the
    // custom error's data, which cast decodes given the error's signature.
    let selector = cast.ok(&["sig", INSUFFICIENT_BALANCE]);
    assert_eq!(selector, "0xdb42144d");
    let (ok, out, err) = cast.run(&[
        "call",
        "--rpc-url",
        &rpc,
        "--from",
        &bob,
        &token,
        "transfer(address,uint256)",
        carol,
        "251",
    ]);
    eprintln!("cast call's revert: {}", err.trim());
    assert!(!ok, "a transfer beyond the balance went through: {out}");
    assert!(err.contains("execution reverted"), "{err}");
    let data = err
        .split('"')
        .find(|part| part.starts_with(&selector))
        .unwrap_or_else(|| panic!("no InsufficientBalance data in: {err}"))
        .to_string();
    let decoded = cast.ok(&["decode-error", "--sig", INSUFFICIENT_BALANCE, &data]);
    let decoded: Vec<&str> = decoded.lines().map(number_of).collect();
    assert_eq!(decoded.len(), 3, "{decoded:?}");
    assert_eq!(decoded[0].to_lowercase(), bob);
    assert_eq!((decoded[1], decoded[2]), ("250", "251"));
    let (ok, out, err) = cast.run(&[
        "send",
        "--rpc-url",
        &rpc,
        "--private-key",
        &bob_key,
        &token,
        "transfer(address,uint256)",
        carol,
        "251",
    ]);
    eprintln!("cast send's revert: {}", err.trim());
    assert!(!ok, "a transfer beyond the balance was sent: {out}");
    assert!(
        err.contains("execution reverted") && err.contains(&selector),
        "{err}"
    );
    assert_eq!(number_of(&call(balance_of, &[&bob])), "250");

    // ethers: bob's ETH and tokens, through tests/js/ethers_devnet.js.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/ethers_devnet.js");
    let node = PathBuf::from("node");
    let _ = Command::new(&node)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): the ethers part needs Node.js"));
    let (ok, out, err) = run(
        &node,
        &[script.to_str().unwrap(), &rpc, &bob_key, dave, &token],
        &dir,
        90,
    );
    assert!(ok, "ethers failed:\n{out}\n{err}");
    let seen = json_of(&out);
    eprintln!("ethers saw: {seen}");
    assert_eq!(seen["chainId"], chain_id, "{seen}");
    assert_eq!(seen["balanceBefore"], funded, "{seen}");
    assert_eq!(seen["transferStatus"], 1, "{seen}");
    assert_eq!(seen["recipientBalance"], "31337", "{seen}");
    assert_eq!(seen["symbol"], "DMO", "{seen}");
    assert_eq!(seen["totalSupply"], "1000000", "{seen}");
    assert_eq!(seen["ownTokensBefore"], "250", "{seen}");
    assert_eq!(seen["tokenTransferStatus"], 1, "{seen}");
    assert_eq!(seen["recipientTokens"], "7", "{seen}");
    let events = seen["transferEvents"].as_array().expect("events");
    assert_eq!(
        events.len(),
        3,
        "mint, cast's and ethers' transfers: {seen}"
    );
    assert_eq!(events[1]["tx"], moved["transactionHash"], "{seen}");
    assert_eq!(lower(&events[2]["from"]), bob, "{seen}");
    assert_eq!(lower(&events[2]["to"]), dave, "{seen}");
    assert_eq!(events[2]["value"], "7", "{seen}");
    assert_eq!(
        seen["revert"].as_str().unwrap_or_default().to_lowercase(),
        format!("insufficientbalance({bob},243,1000000000000000000000000000000)"),
        "{seen}"
    );
    assert_eq!(cast.ok(&["balance", "--rpc-url", &rpc, dave]), "31337");
    assert_eq!(number_of(&call(balance_of, &[dave])), "7");

    // A withdrawal through the system contract with cast, claimed on the devnet's L1.
    let amount = "1000000000000000"; // 0.001 ETH
    assert_eq!(
        cast.ok(&["balance", "--rpc-url", &l1_rpc, l1_recipient]),
        "0"
    );
    let withdrawn = cast.send(
        &rpc,
        &alice_key,
        &[
            WITHDRAWALS,
            "withdraw(address)",
            l1_recipient,
            "--value",
            amount,
        ],
    );
    let withdraw_hash = withdrawn["transactionHash"].as_str().unwrap().to_string();
    let withdraw_block = quantity(&withdrawn["blockNumber"]);
    let event = &withdrawn["logs"][0];
    assert_eq!(lower(&event["address"]), WITHDRAWALS, "{withdrawn}");
    assert_eq!(event["topics"][2], topic_of(l1_recipient), "{withdrawn}");
    let mut l1 = verifier::l1::rpc::RpcL1::connect(&l1_rpc).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let claimed = loop {
        let (code, out, err) = rollup(&[
            "claim",
            "--rpc",
            &rpc,
            "--l1-rpc",
            &l1_rpc,
            "--deployment",
            &devnet.deployment,
            "--key",
            &l1_payer_key,
            "--tx",
            &withdraw_hash,
        ]);
        if code == 0 {
            break out;
        }
        assert!(
            Instant::now() < deadline,
            "never claimable: {out}{err}\n{}",
            devnet.node.output()
        );
        // The challenge period and then the withdrawal delay, skipped on the L1 clock.
        l1.advance_time(3600).unwrap();
        std::thread::sleep(Duration::from_millis(500));
    };
    eprintln!("rollup claim:\n{claimed}");
    assert_eq!(field(&claimed, "paid"), Some(amount), "{claimed}");
    assert_eq!(
        field(&claimed, "recipient")
            .map(str::to_lowercase)
            .as_deref(),
        Some(l1_recipient)
    );
    assert_eq!(
        cast.ok(&["balance", "--rpc-url", &l1_rpc, l1_recipient]),
        amount
    );

    // Its assertion confirmed, the withdrawal's block becomes finalized; the tags stay in order.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Read in this order, as each only grows: finalized <= safe <= latest must hold.
        let finalized = cast.block_number(&rpc, "finalized");
        let safe = cast.block_number(&rpc, "safe");
        let latest = cast.block_number(&rpc, "latest");
        assert!(
            finalized <= safe && safe <= latest,
            "latest {latest}, safe {safe}, finalized {finalized}"
        );
        if finalized >= withdraw_block {
            eprintln!("tags: latest {latest}, safe {safe}, finalized {finalized}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "block {withdraw_block} never finalized (latest {latest}, finalized {finalized}):\n{}",
            devnet.node.output()
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    devnet.node.terminate();
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
}
