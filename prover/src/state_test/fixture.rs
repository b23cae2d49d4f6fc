//! The fixtures' JSON turned into [`StateTestCase`]s, one per `post[fork][index]` entry.
//!
//! A fixture file maps test names to `{ env, pre, transaction, post }`. The `transaction` part
//! (arrays of data/gas/value and a secret key) is how the filler built the transaction; we do not
//! read it: every post entry carries the signed result, `txbytes`, and an executor has to decode
//! and recover that like a block's transaction. So a case's transaction is exactly what a node
//! would see, and a case whose bytes do not even decode is a refusal, not a loader error.
//!
//! Order is deterministic: paths sorted, then test names and forks in byte order (the files'
//! JSON objects are read into ordered maps), then the index within the fork. Files are parsed in
//! parallel; a file that cannot be read or parsed is an error naming it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use alloy_primitives::{Address, Bytes, B256, U256};
use rayon::prelude::*;
use serde::Deserialize;

use super::{spec_for_fork, CaseEnv, PreAccount, StateTestCase};

/// Why fixtures could not be loaded. Every variant names the path.
#[derive(Debug, thiserror::Error)]
pub enum StateTestError {
    #[error("{}: no such file or directory", .0.display())]
    Missing(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: malformed fixture: {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{}: malformed fixture: {reason}", path.display())]
    Malformed { path: PathBuf, reason: String },
    #[error("{}: no .json fixtures", .0.display())]
    Empty(PathBuf),
}

/// The cases of every fixture in `paths`: files, or folders searched recursively for `*.json`.
pub fn load_cases(paths: &[PathBuf]) -> Result<Vec<StateTestCase>, StateTestError> {
    let mut files = Vec::new();
    for path in paths {
        let before = files.len();
        collect_files(path, &mut files)?;
        if files.len() == before {
            return Err(StateTestError::Empty(path.clone()));
        }
    }
    files.sort();
    files.dedup();
    let per_file: Vec<Vec<StateTestCase>> = files
        .par_iter()
        .map(|file| load_file(file))
        .collect::<Result<_, _>>()?;
    Ok(per_file.into_iter().flatten().collect())
}

/// `path` itself if it is a file (whatever its extension: the user named it), else every
/// `*.json` below it.
fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), StateTestError> {
    let io = |source| StateTestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => StateTestError::Missing(path.to_path_buf()),
        _ => io(e),
    })?;
    if !meta.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(io)? {
        let entry = entry.map_err(io)?;
        let child = entry.path();
        if entry.file_type().map_err(io)?.is_dir() {
            collect_files(&child, files)?;
        } else if child.extension().is_some_and(|e| e == "json") {
            files.push(child);
        }
    }
    Ok(())
}

/// The cases of one fixture file.
pub fn load_file(path: &Path) -> Result<Vec<StateTestCase>, StateTestError> {
    let text = std::fs::read(path).map_err(|source| StateTestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let units: BTreeMap<String, Unit> =
        serde_json::from_slice(&text).map_err(|source| StateTestError::Json {
            path: path.to_path_buf(),
            source,
        })?;
    let malformed = |reason: String| StateTestError::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    let mut cases = Vec::new();
    for (name, unit) in units {
        let env = unit
            .env
            .to_case_env()
            .map_err(|e| malformed(format!("{name}: env: {e}")))?;
        let pre = unit
            .pre
            .into_iter()
            .map(|(address, account)| {
                let nonce = to_u64(account.nonce)
                    .map_err(|e| malformed(format!("{name}: pre {address} nonce: {e}")))?;
                let storage = account
                    .storage
                    .into_iter()
                    .filter(|(_, value)| !value.is_zero())
                    .collect();
                let account = PreAccount {
                    nonce,
                    balance: account.balance,
                    code: account.code,
                    storage,
                };
                Ok((address, account))
            })
            .collect::<Result<BTreeMap<_, _>, StateTestError>>()?;
        for (fork, entries) in unit.post {
            let spec = spec_for_fork(&fork).unwrap_or_default();
            for (index, entry) in entries.into_iter().enumerate() {
                cases.push(StateTestCase {
                    file: path.to_path_buf(),
                    name: name.clone(),
                    fork: fork.clone(),
                    spec,
                    index,
                    pre: pre.clone(),
                    env: env.clone(),
                    tx_bytes: entry.txbytes,
                    expect_exception: entry.expect_exception,
                    expected_state_root: entry.hash,
                    expected_logs_hash: entry.logs,
                });
            }
        }
    }
    Ok(cases)
}

/// One test of a fixture file. `transaction` and `_info` are not read (see the module docs).
#[derive(Deserialize)]
struct Unit {
    env: Env,
    pre: BTreeMap<Address, Account>,
    post: BTreeMap<String, Vec<PostEntry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Env {
    current_coinbase: Address,
    current_number: U256,
    current_timestamp: U256,
    current_gas_limit: U256,
    #[serde(default)]
    current_difficulty: U256,
    current_base_fee: Option<U256>,
    current_random: Option<B256>,
    current_excess_blob_gas: Option<U256>,
}

impl Env {
    fn to_case_env(&self) -> Result<CaseEnv, String> {
        let field = |name: &str, value: U256| to_u64(value).map_err(|e| format!("{name}: {e}"));
        let optional = |name: &str, value: Option<U256>| value.map(|v| field(name, v)).transpose();
        Ok(CaseEnv {
            coinbase: self.current_coinbase,
            number: field("currentNumber", self.current_number)?,
            timestamp: field("currentTimestamp", self.current_timestamp)?,
            gas_limit: field("currentGasLimit", self.current_gas_limit)?,
            base_fee: optional("currentBaseFee", self.current_base_fee)?,
            prevrandao: self.current_random,
            difficulty: self.current_difficulty,
            excess_blob_gas: optional("currentExcessBlobGas", self.current_excess_blob_gas)?,
        })
    }
}

#[derive(Deserialize)]
struct Account {
    nonce: U256,
    balance: U256,
    code: Bytes,
    #[serde(default)]
    storage: BTreeMap<U256, U256>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostEntry {
    hash: B256,
    logs: B256,
    txbytes: Bytes,
    expect_exception: Option<String>,
}

fn to_u64(value: U256) -> Result<u64, String> {
    u64::try_from(value).map_err(|_| format!("{value} does not fit in 64 bits"))
}
