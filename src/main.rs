//! `rollup`: the command-line front end of the Hauptbuch rollup.
//!
//! Commands: `exec` runs one exported function of a module on the provable interpreter or on the
//! wasmtime replay engine; `run-batch` runs an STF batch; `prove` / `verify-step` write and check
//! one-step proofs; `dispute` plays the bisection game over a batch between an honest party and a
//! liar; `demo` tells the whole story; `wallet`, `deploy`, `deposit` and `assertions` talk to an
//! L1 node; `node` and `devnet` run the rollup; `send`, `withdraw`, `balance`, `status` and
//! `claim` are its users' commands, `force-tx` and `force-include` their way out without the
//! operator; `guardian sign` and `guardian submit` its guardian's; `state-test` runs Ethereum's
//! General State Tests on an EVM executor.

mod cli_batch;
mod cli_dispute;
mod cli_exec;
mod cli_exit;
mod cli_guardian;
mod cli_l1;
mod cli_node;
mod cli_prove;
mod cli_state_test;
mod cli_user;
mod demo;
mod demo_evm;
mod demo_l1;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "rollup",
    version,
    about = "Hauptbuch optimistic rollup: provable WebAssembly VM and tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an exported function of a .wasm or .wat module and print its results.
    Exec(cli_exec::ExecArgs),
    /// Build a deterministic genesis and signed batch, run it on one engine, print the outputs.
    RunBatch(cli_batch::RunBatchArgs),
    /// Write the one-step proof of step N of an invocation (or of an STF batch with --batch) and
    /// print the pre- and post-state hashes.
    Prove(cli_prove::ProveArgs),
    /// Check a one-step proof against an agreed pre-state hash; print the post-state hash.
    VerifyStep(cli_prove::VerifyStepArgs),
    /// Dispute a fresh batch between an honest party and a liar: bisection rounds, the one-step
    /// proof, the verdict and the bond.
    Dispute(cli_dispute::DisputeArgs),
    /// The VM, the STF and the rollup's life on an embedded L1: deposit, batch, assertion,
    /// confirmation, withdrawal, and a fraudulent assertion disputed on chain.
    Demo,
    /// Make or read an L1/L2 key file.
    #[command(subcommand)]
    Wallet(cli_l1::WalletCommand),
    /// Deploy the rollup's contracts on an L1 node and write the deployment file.
    Deploy(cli_l1::DeployArgs),
    /// Deposit wei on L1 for an L2 account.
    Deposit(cli_l1::DepositArgs),
    /// List the assertions, read from L1 alone.
    Assertions(cli_l1::AssertionsArgs),
    /// Run a node: a sequencer or a validator, on an L1 node or on an embedded L1 in its data dir.
    Node(cli_node::NodeArgs),
    /// A local rollup in one command: embedded L1, a sequencer, a validator, funded accounts.
    Devnet(cli_node::DevnetArgs),
    /// Send wei to an L2 account (through a sequencer's RPC).
    Send(cli_user::TransferArgs),
    /// Withdraw wei to an L1 account (claim it on L1 with `claim` once confirmed).
    Withdraw(cli_user::TransferArgs),
    /// An L2 account's balance and nonce.
    Balance(cli_user::BalanceArgs),
    /// A node's head, its latest assertion and the confirmed batch.
    Status(cli_user::StatusArgs),
    /// Finalize a withdrawal on L1 with the node's proof.
    Claim(cli_user::ClaimArgs),
    /// Put a signed L2 transfer or withdrawal in the L1 inbox's delayed queue: the sequencer must
    /// include it once it has waited the force-inclusion delay, and anyone may force it in then.
    ForceTx(cli_exit::ForceTxArgs),
    /// Post every overdue delayed message (deposits and forced transactions) as batches.
    ForceInclude(cli_exit::ForceIncludeArgs),
    /// The m-of-n guardian: sign an action (pause, unpause, hold), or submit the signatures.
    #[command(subcommand)]
    Guardian(cli_guardian::GuardianCommand),
    /// Run Ethereum's General State Tests (fixture files or folders) on one EVM executor.
    StateTest(cli_state_test::StateTestArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Exec(args) => cli_exec::run(args),
        Command::RunBatch(args) => cli_batch::run(args),
        Command::Prove(args) => cli_prove::prove(args),
        Command::VerifyStep(args) => cli_prove::verify_step(args),
        Command::Dispute(args) => cli_dispute::run(args),
        Command::Demo => demo::run(),
        Command::Wallet(command) => cli_l1::wallet(command),
        Command::Deploy(args) => cli_l1::deploy_command(args),
        Command::Deposit(args) => cli_l1::deposit(args),
        Command::Assertions(args) => cli_l1::assertions(args),
        Command::Node(args) => cli_node::node(args),
        Command::Devnet(args) => cli_node::devnet(args),
        Command::Send(args) => cli_user::send(args),
        Command::Withdraw(args) => cli_user::withdraw(args),
        Command::Balance(args) => cli_user::balance(args),
        Command::Status(args) => cli_user::status(args),
        Command::Claim(args) => cli_user::claim(args),
        Command::ForceTx(args) => cli_exit::force_tx(args),
        Command::ForceInclude(args) => cli_exit::force_include(args),
        Command::Guardian(command) => cli_guardian::guardian(command),
        Command::StateTest(args) => cli_state_test::run(args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
