//! Ethereum's General State Tests as the referee of an EVM: load the fixtures
//! (`ethereum/tests`, `GeneralStateTests/`), hand every case to an executor, judge what it left.
//!
//! The runner is generic over *who* executes a case ([`CaseExecutor`]): the native revm
//! ([`NativeRevm`]) is the reference, and the EVM running inside the WebAssembly guest plugs in
//! behind the same trait. The types in this file are that contract: a case carries everything an
//! executor needs (the pre-state, the block, the signed transaction bytes, the fork), an executor
//! answers with the whole post-state and the logs hash (or a refusal), and [`judge`] decides by
//! recomputing the Merkle-Patricia root ([`state_root`]) the fixture expects. Executors therefore
//! never compute roots themselves and cannot disagree with the runner about trie encoding.
//!
//! One job per file: [`fixture`] parses the JSON into cases, [`mpt`] computes the state root and
//! the logs hash, [`tx`] decodes and recovers the signed transactions for revm, [`native`] is the
//! revm executor, [`skips`] says which cases no executor runs and why, [`runner`] judges and runs
//! cases in parallel.

use std::collections::BTreeMap;
use std::path::PathBuf;

use alloy_primitives::{Address, Bytes, B256, U256};
/// revm's hardfork id, which a case carries: re-exported so executors need not name revm.
pub use revm::primitives::hardfork::SpecId;

pub mod fixture;
pub mod guest;
pub mod mpt;
pub mod native;
pub mod runner;
pub mod skips;
pub mod tx;

pub use fixture::{load_cases, StateTestError};
pub use guest::GuestExecutor;
pub use mpt::{logs_hash, state_root};
pub use native::NativeRevm;
pub use runner::{judge, run_case, run_cases, Tally};
pub use skips::skip_reason;

/// One case: one fixture name, one fork, one (data, gas, value) index combination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateTestCase {
    /// The fixture file.
    pub file: PathBuf,
    /// The test name inside the file.
    pub name: String,
    /// As in the fixture's `post` key, e.g. `"Cancun"`.
    pub fork: String,
    /// The fork's rules. Meaningful only when [`spec_for_fork`] knows the fork: for a fork revm
    /// has no `SpecId` for (such as `Constantinople`) this holds `SpecId::default()` as a
    /// placeholder, and [`run_cases`] reports the case skipped without handing it to an executor.
    pub spec: SpecId,
    /// Position within `post[fork]`.
    pub index: usize,
    pub pre: BTreeMap<Address, PreAccount>,
    pub env: CaseEnv,
    /// The post entry's signed `txbytes` (EIP-2718 encoding: legacy RLP or type byte + payload).
    pub tx_bytes: Bytes,
    /// The post entry's `expectException`, e.g. `TransactionException.INTRINSIC_GAS_TOO_LOW`.
    pub expect_exception: Option<String>,
    /// The post entry's `hash`.
    pub expected_state_root: B256,
    /// The post entry's `logs`.
    pub expected_logs_hash: B256,
}

impl StateTestCase {
    /// `<file>::<name> [<fork> #<index>]`, how reports name a case.
    pub fn label(&self) -> String {
        format!(
            "{}::{} [{} #{}]",
            self.file.display(),
            self.name,
            self.fork,
            self.index
        )
    }
}

/// An account of a pre- or post-state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreAccount {
    pub nonce: u64,
    pub balance: U256,
    pub code: Bytes,
    /// Slot → value. Zero values are not part of the state (the trie leaves them out).
    pub storage: BTreeMap<U256, U256>,
}

/// The block the transaction runs in (the fixture's `env`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseEnv {
    pub coinbase: Address,
    pub number: u64,
    pub timestamp: u64,
    pub gas_limit: u64,
    /// London on.
    pub base_fee: Option<u64>,
    /// Paris on (`currentRandom`).
    pub prevrandao: Option<B256>,
    /// Before Paris.
    pub difficulty: U256,
    /// Cancun on.
    pub excess_blob_gas: Option<u64>,
}

/// What an executor leaves: the full post-state (every account that exists, with its storage
/// without zero slots) and the logs hash, or the refusal of the transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseResult {
    Executed {
        post: BTreeMap<Address, PreAccount>,
        logs_hash: B256,
    },
    /// The transaction was invalid and not executed (state unchanged); the reason as text.
    Refused(String),
}

/// Who executes a case: the native revm, or the EVM inside the WebAssembly guest.
pub trait CaseExecutor: Sync {
    fn name(&self) -> &str;
    /// Err: the executor could not run the case at all (not a verdict on the EVM).
    fn execute(&self, case: &StateTestCase) -> Result<CaseResult, String>;
    /// Why this executor does not run `case` (beyond the skips every executor shares), if so.
    fn skip_reason(&self, _case: &StateTestCase) -> Option<String> {
        None
    }
}

/// The runner's word on one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed(String),
    Skipped(String),
}

/// revm's rules for a fixture's fork name, or why there are none.
///
/// revm has no `Constantinople`: EIP-1283's net gas metering was withdrawn before it reached
/// mainnet, and Ethereum shipped `ConstantinopleFix` (Petersburg) instead, which revm knows.
/// Transition forks (`…ToHomesteadAt5`) switch rules at block 5, which one `SpecId` cannot say.
pub fn spec_for_fork(fork: &str) -> Result<SpecId, String> {
    Ok(match fork {
        "Frontier" => SpecId::FRONTIER,
        "Homestead" => SpecId::HOMESTEAD,
        "EIP150" | "TangerineWhistle" => SpecId::TANGERINE,
        "EIP158" | "SpuriousDragon" => SpecId::SPURIOUS_DRAGON,
        "Byzantium" => SpecId::BYZANTIUM,
        "ConstantinopleFix" | "Petersburg" => SpecId::PETERSBURG,
        "Istanbul" => SpecId::ISTANBUL,
        "Berlin" => SpecId::BERLIN,
        "London" => SpecId::LONDON,
        "Paris" | "Merge" => SpecId::MERGE,
        "Shanghai" => SpecId::SHANGHAI,
        "Cancun" => SpecId::CANCUN,
        "Prague" => SpecId::PRAGUE,
        "Osaka" => SpecId::OSAKA,
        "Constantinople" => {
            return Err(
                "fork Constantinople: revm has no SpecId for it (EIP-1283 net gas \
                        metering never reached mainnet; ConstantinopleFix/Petersburg replaced it)"
                    .into(),
            )
        }
        other if other.contains("To") && other.contains("At") => {
            return Err(format!(
            "fork {other}: a transition fork switches rules mid-chain, revm has no SpecId for it"
        ))
        }
        other => return Err(format!("fork {other}: revm has no SpecId for it")),
    })
}
