//! One transaction through revm against the state: the only place the EVM is built.

use alloy_primitives::U256;
use ledger::Abi;
use revm::context::result::{EVMError, ExecutionResult, InvalidTransaction};
use revm::context::{BlockEnv, CfgEnv, TxEnv};
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::primitives::hardfork::SpecId;
use revm::{Context, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};

use crate::state::{StateDb, StateError};

/// The block a transaction runs in, as revm needs it.
#[derive(Clone, Debug)]
pub struct BlockContext {
    pub env: BlockEnv,
    pub spec: SpecId,
    pub chain_id: u64,
}

impl BlockContext {
    /// Blob gas priced from `excess_blob_gas` under `spec`'s update fraction (required from
    /// Cancun on, even where blobs are refused).
    pub fn blob_pricing(excess_blob_gas: u64, spec: SpecId) -> Option<BlobExcessGasAndPrice> {
        spec.is_enabled_in(SpecId::CANCUN)
            .then(|| BlobExcessGasAndPrice::new_with_spec(excess_blob_gas, spec))
    }

    pub fn number(&self) -> u64 {
        self.env.number.saturating_to()
    }

    pub fn base_fee(&self) -> u64 {
        self.env.basefee
    }
}

/// How revm took a transaction.
pub enum TxRun {
    Executed(ExecutionResult),
    /// Refused before execution (nothing changed); `None` for a refusal about the block
    /// rather than the transaction.
    Invalid(Option<InvalidTransaction>),
}

/// Executes `tx` in `block` and commits its changes to `db`. `Err` only when the state could not
/// be read (the batch is then rejected).
pub fn run_transaction<A: Abi + ?Sized>(
    db: &mut StateDb<'_, A>,
    block: &BlockContext,
    tx: TxEnv,
) -> Result<TxRun, StateError> {
    execute(db, block, tx, true)
}

/// Executes `tx` in `block` and throws its changes away: `eth_call` and `eth_estimateGas`. The
/// nonce is not checked (a call has none to check); everything else is as for a transaction.
pub fn simulate<A: Abi + ?Sized>(
    db: &mut StateDb<'_, A>,
    block: &BlockContext,
    tx: TxEnv,
) -> Result<TxRun, StateError> {
    execute(db, block, tx, false)
}

/// The one place the EVM is built: a transaction committed, or simulated without its nonce check.
fn execute<A: Abi + ?Sized>(
    db: &mut StateDb<'_, A>,
    block: &BlockContext,
    tx: TxEnv,
    commit: bool,
) -> Result<TxRun, StateError> {
    let (spec, chain_id) = (block.spec, block.chain_id);
    let mut evm = Context::mainnet()
        .with_db(&mut *db)
        .with_block(block.env.clone())
        .modify_cfg_chained(|cfg| {
            configure(cfg, spec, chain_id);
            cfg.disable_nonce_check = !commit;
        })
        .build_mainnet();
    let result = if commit {
        evm.transact_commit(tx)
    } else {
        evm.transact(tx).map(|outcome| outcome.result)
    };
    match result {
        Ok(result) => Ok(TxRun::Executed(result)),
        Err(EVMError::Database(error)) => Err(error),
        Err(EVMError::Transaction(invalid)) => Ok(TxRun::Invalid(Some(invalid))),
        Err(_) => Ok(TxRun::Invalid(None)),
    }
}

/// The chain's rules: `spec`'s, the chain id, and the per-transaction blob limit a block builder
/// applies (revm leaves it unset): 6 in Cancun (EIP-4844), 9 in Prague (EIP-7691), 6 from Osaka
/// (EIP-7594). The L2 refuses blob transactions before revm sees them; state tests need the limit.
fn configure(cfg: &mut CfgEnv, spec: SpecId, chain_id: u64) {
    cfg.set_spec_and_mainnet_gas_params(spec);
    cfg.chain_id = chain_id;
    let max_blobs = if spec.is_enabled_in(SpecId::OSAKA) {
        Some(6)
    } else if spec.is_enabled_in(SpecId::PRAGUE) {
        Some(9)
    } else if spec.is_enabled_in(SpecId::CANCUN) {
        Some(6)
    } else {
        None
    };
    if let Some(max) = max_blobs {
        cfg.set_max_blobs_per_tx(max);
    }
}

/// `U256` from a `u128` amount.
pub fn wei(amount: u128) -> U256 {
    U256::from(amount)
}
