//! The reference executor: revm run natively, the way revm's own `revme statetest` runs a case.
//!
//! The pre-state goes into revm's `State` database over `EmptyDB`, not into a bare `CacheDB`:
//! `State` applies the account rules a block executor applies after a transaction — EIP-161
//! removes touched empty accounts (and revm's journal keeps them before Spurious Dragon),
//! self-destructed accounts are gone, created accounts start with fresh storage — so its cache
//! after the commit *is* the post-state, including the pre-state's accounts the transaction never
//! touched. `EmptyDB` answers BLOCKHASH with keccak256 of the block number's decimal text, the
//! convention the fixtures were filled with.

use std::collections::BTreeMap;

use alloy_primitives::{keccak256, Address, Bytes, KECCAK256_EMPTY};
use revm::bytecode::Bytecode;
use revm::context::result::EVMError;
use revm::context::{BlockEnv, CfgEnv, Context};
use revm::database::{CacheState, State};
use revm::primitives::hardfork::SpecId;
use revm::primitives::U256;
use revm::state::AccountInfo;
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};

use super::mpt::logs_hash;
use super::tx::decode_tx;
use super::{spec_for_fork, CaseEnv, CaseExecutor, CaseResult, PreAccount, StateTestCase};

/// revm 43 on this machine, in memory, one fresh database per case.
#[derive(Clone, Copy, Debug, Default)]
pub struct NativeRevm;

/// The chain id every state test is filled with.
pub const CHAIN_ID: u64 = 1;

impl CaseExecutor for NativeRevm {
    fn name(&self) -> &str {
        "revm"
    }

    fn execute(&self, case: &StateTestCase) -> Result<CaseResult, String> {
        // A case of a fork revm does not know carries a placeholder spec: never run it as that.
        spec_for_fork(&case.fork)?;
        let spec = case.spec;
        let tx = match decode_tx(&case.tx_bytes, spec) {
            Ok(tx) => tx,
            Err(reason) => return Ok(CaseResult::Refused(reason)),
        };
        let mut cfg = CfgEnv::new_with_spec(spec);
        cfg.chain_id = CHAIN_ID;
        if let Some(max) = max_blobs_per_tx(spec) {
            cfg.set_max_blobs_per_tx(max);
        }
        let block = block_env(&case.env, &cfg);
        let mut db = State::builder()
            .with_cached_prestate(prestate(&case.pre, spec))
            .build();
        let outcome = Context::mainnet()
            .with_block(block)
            .with_cfg(cfg)
            .with_db(&mut db)
            .build_mainnet()
            .transact_commit(tx);
        match outcome {
            Ok(result) => Ok(CaseResult::Executed {
                post: post_state(&db.cache)?,
                logs_hash: logs_hash(result.logs()),
            }),
            Err(EVMError::Transaction(invalid)) => Ok(CaseResult::Refused(invalid.to_string())),
            Err(EVMError::Header(invalid)) => {
                Ok(CaseResult::Refused(format!("invalid block: {invalid}")))
            }
            Err(other) => Err(format!("revm failed: {other}")),
        }
    }
}

/// The most blobs one transaction may carry. revm leaves the limit to whoever builds blocks
/// (none by default); in a block a transaction can carry at most the block's maximum: 6 in Cancun
/// (EIP-4844), 9 in Prague (EIP-7691); Osaka caps one transaction at 6 (EIP-7594).
fn max_blobs_per_tx(spec: SpecId) -> Option<u64> {
    use revm::primitives::eip4844::{
        MAX_BLOB_NUMBER_PER_BLOCK_CANCUN, MAX_BLOB_NUMBER_PER_BLOCK_PRAGUE,
    };
    if spec.is_enabled_in(SpecId::OSAKA) {
        Some(6)
    } else if spec.is_enabled_in(SpecId::PRAGUE) {
        Some(MAX_BLOB_NUMBER_PER_BLOCK_PRAGUE)
    } else if spec.is_enabled_in(SpecId::CANCUN) {
        Some(MAX_BLOB_NUMBER_PER_BLOCK_CANCUN)
    } else {
        None
    }
}

/// The block fields revm reads, under `cfg`'s spec.
fn block_env(env: &CaseEnv, cfg: &CfgEnv) -> BlockEnv {
    let spec = cfg.spec;
    let mut block = BlockEnv {
        number: U256::from(env.number),
        beneficiary: env.coinbase,
        timestamp: U256::from(env.timestamp),
        gas_limit: env.gas_limit,
        basefee: env.base_fee.unwrap_or_default(),
        difficulty: env.difficulty,
        // PREVRANDAO replaced DIFFICULTY at Paris (EIP-4399); revm refuses a Paris block
        // without it, so a fixture lacking it is refused, not silently given zero.
        prevrandao: env.prevrandao.filter(|_| spec.is_enabled_in(SpecId::MERGE)),
        blob_excess_gas_and_price: None,
        ..BlockEnv::default()
    };
    if let Some(excess) = env.excess_blob_gas {
        // EIP-4844's blob base fee, with the update fraction of the spec (Prague changed it).
        block.set_blob_excess_gas_and_price(excess, cfg.blob_base_fee_update_fraction());
    }
    block
}

/// The pre-state as revm's cache: accounts with their code and storage.
fn prestate(pre: &BTreeMap<Address, PreAccount>, spec: SpecId) -> CacheState {
    let mut cache = CacheState::new();
    for (address, account) in pre {
        let code_hash = keccak256(&account.code);
        let code = bytecode(account.code.clone(), spec);
        if !account.code.is_empty() {
            cache.contracts.insert(code_hash, code.clone());
        }
        let info = AccountInfo::new(account.balance, account.nonce, code_hash, code);
        let storage = account.storage.iter().map(|(k, v)| (*k, *v)).collect();
        cache.insert_account_with_storage(*address, info, storage);
    }
    cache
}

/// Code as revm runs it. Before Prague, code starting 0xef0100 is ordinary (if undeployable)
/// legacy code; from Prague on it is an EIP-7702 delegation.
fn bytecode(code: Bytes, spec: SpecId) -> Bytecode {
    if spec.is_enabled_in(SpecId::PRAGUE) {
        Bytecode::new_raw_checked(code.clone()).unwrap_or_else(|_| Bytecode::new_legacy(code))
    } else {
        Bytecode::new_legacy(code)
    }
}

/// Every account that exists after the commit, storage without zero slots.
fn post_state(cache: &CacheState) -> Result<BTreeMap<Address, PreAccount>, String> {
    let mut post = BTreeMap::new();
    for (address, account) in cache.trie_account() {
        let info = &account.info;
        let code = match &info.code {
            Some(code) => code.original_bytes(),
            None if info.code_hash == KECCAK256_EMPTY => Bytes::new(),
            None => cache
                .contracts
                .get(&info.code_hash)
                .map(Bytecode::original_bytes)
                .ok_or_else(|| format!("{address}: no code for hash {}", info.code_hash))?,
        };
        let storage = account
            .storage
            .iter()
            .filter(|(_, value)| !value.is_zero())
            .map(|(slot, value)| (*slot, *value))
            .collect();
        post.insert(
            address,
            PreAccount {
                nonce: info.nonce,
                balance: info.balance,
                code,
                storage,
            },
        );
    }
    Ok(post)
}
