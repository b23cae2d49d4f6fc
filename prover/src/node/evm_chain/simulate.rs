//! `eth_call` and `eth_estimateGas`: a request run through [`evm_stf::execution::simulate`] on a
//! snapshot of one block's state, nothing committed; and revm's refusals and halts in geth's words.
//!
//! As geth: a call that names no gas price runs with base fee 0 (so an account without funds can
//! call); without a gas limit it gets the most a transaction may have (the block's gas limit,
//! capped by EIP-7825); the estimate is geth's binary search between the gas the run used and
//! that cap, stopped within 1.5% above the least that succeeds, and a plain transfer to an
//! account without code is 21,000.

use alloy::eips::eip7702::SignedAuthorization;
use alloy::primitives::{Address, Bytes, TxKind, U256};
use alloy::rpc::types::TransactionRequest;
use alloy_sol_types::{Panic, Revert, SolError};
use program::evm::evm_stf::block::BLOCK_GAS_LIMIT;
use program::evm::evm_stf::execution::{simulate, BlockContext, TxRun};
use program::evm::evm_stf::state::BlockHashes;
use program::evm::evm_stf::{Refusal, StateDb, L2_SPEC};
use program::ledger::Hash;
use program::{NativeAbi, NodeStore};
use revm::context::result::{ExecutionResult, HaltReason, InvalidTransaction, ResultGas};
use revm::context::{BlockEnv, TxEnv};
use revm::interpreter::gas::CALL_STIPEND;
use revm::primitives::eip7825;

/// The least gas any transaction takes.
pub const TRANSFER_GAS: u64 = 21_000;
/// The most gas a call or estimate may use: the block's, capped per transaction (EIP-7825).
pub const CALL_GAS_CAP: u64 = if BLOCK_GAS_LIMIT < eip7825::TX_GAS_LIMIT_CAP {
    BLOCK_GAS_LIMIT
} else {
    eip7825::TX_GAS_LIMIT_CAP
};

/// Why a call or estimate gave no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The execution reverted with this data.
    #[error("execution reverted{}", revert_reason(.0).map(|r| format!(": {r}")).unwrap_or_default())]
    Reverted(Bytes),
    /// The execution halted (out of gas, invalid opcode, ...): geth's words.
    #[error("{0}")]
    Halted(String),
    /// revm refused the transaction before running it: geth's words.
    #[error("{0}")]
    Invalid(String),
    /// It fails even with all the gas it may have.
    #[error("gas required exceeds allowance ({0})")]
    GasRequiredExceedsAllowance(u64),
    /// A request no transaction could be (blob fields, authorization lists).
    #[error("{0}")]
    Unsupported(&'static str),
    /// geth's words for a block it does not have.
    #[error("header not found")]
    UnknownBlock,
    #[error("state: {0}")]
    State(String),
}

/// The reason in revert data: an `Error(string)`'s text, or a `Panic(uint256)` described.
pub fn revert_reason(data: &[u8]) -> Option<String> {
    if let Ok(revert) = Revert::abi_decode(data) {
        return Some(revert.reason);
    }
    Panic::abi_decode(data).ok().map(|panic| panic.to_string())
}

/// revm's refusal in geth's words (the txpool's and the state transition's errors).
pub fn invalid_words(invalid: &InvalidTransaction, sender: Address) -> String {
    use InvalidTransaction as I;
    match invalid {
        I::LackOfFundForMaxFee { fee, balance } => {
            format!("insufficient funds for gas * price + value: have {balance} want {fee}")
        }
        I::NonceTooLow { tx, state } => format!("nonce too low: next nonce {state}, tx nonce {tx}"),
        I::NonceTooHigh { tx, state } => {
            format!("nonce too high: next nonce {state}, tx nonce {tx}")
        }
        I::CallGasCostMoreThanGasLimit {
            initial_gas,
            gas_limit,
        } => format!("intrinsic gas too low: gas {gas_limit}, minimum needed {initial_gas}"),
        I::GasFloorMoreThanGasLimit {
            gas_floor,
            gas_limit,
        } => format!(
            "insufficient gas for floor data gas cost: gas {gas_limit}, minimum needed {gas_floor}"
        ),
        I::GasPriceLessThanBasefee => {
            format!("max fee per gas less than block base fee: address {sender}")
        }
        I::PriorityFeeGreaterThanMaxFee => {
            "max priority fee per gas higher than max fee per gas".into()
        }
        I::CallerGasLimitMoreThanBlock => "exceeds block gas limit".into(),
        I::TxGasLimitGreaterThanCap { gas_limit, cap } => {
            format!("transaction gas limit too high (cap: {cap}, tx: {gas_limit})")
        }
        I::InvalidChainId | I::MissingChainId => "invalid chain id for signer".into(),
        I::RejectCallerWithCode => format!("sender not an eoa: address {sender}"),
        I::CreateInitCodeSizeLimit => "max initcode size exceeded".into(),
        I::NonceOverflowInTransaction => "nonce has max value".into(),
        other => other.to_string(),
    }
}

/// Why the STF left a transaction out of its block, in geth's words.
pub fn refusal_words(
    refusal: Refusal,
    detail: Option<&InvalidTransaction>,
    sender: Address,
) -> String {
    match (refusal, detail) {
        (_, Some(invalid)) => invalid_words(invalid, sender),
        (Refusal::BlockGasExhausted, None) => "gas limit reached".into(),
        (Refusal::BlobTransaction, None) => "transaction type not supported".into(),
        (Refusal::BadSignature, None) => "invalid sender".into(),
        (Refusal::Malformed, None) => "rlp: transaction could not be decoded".into(),
        (other, None) => format!("refused by the STF: {other:?}"),
    }
}

fn halt_words(reason: &HaltReason) -> String {
    match reason {
        HaltReason::OutOfGas(_) => "out of gas".into(),
        HaltReason::OpcodeNotFound | HaltReason::InvalidFEOpcode => "invalid opcode".into(),
        HaltReason::StackOverflow => "stack limit reached 1024 (1023)".into(),
        HaltReason::StackUnderflow => "stack underflow".into(),
        HaltReason::InvalidJump => "invalid jump destination".into(),
        HaltReason::CallTooDeep => "max call depth exceeded".into(),
        HaltReason::OutOfFunds => "insufficient balance for transfer".into(),
        HaltReason::CreateCollision => "contract address collision".into(),
        HaltReason::CreateContractSizeLimit => "max code size exceeded".into(),
        HaltReason::StateChangeDuringStaticCall => "write protection".into(),
        other => format!("execution halted: {other:?}"),
    }
}

/// One block's state and context, detached from the chain: calls run on it without the chain's
/// lock (the store's clone shares its nodes).
#[derive(Clone, Debug)]
pub struct CallSnapshot {
    pub store: NodeStore,
    pub root: Hash,
    /// The block the call runs in (as geth: the header of the block whose state it reads).
    pub block: BlockEnv,
    pub chain_id: u64,
}

/// How one run at a given gas limit went, for the estimate's search.
enum Attempt {
    Succeeded(ResultGas),
    Reverted(Bytes),
    Failed(String),
}

impl CallSnapshot {
    /// `eth_call`: the return data.
    pub fn call(&self, request: &TransactionRequest) -> Result<Bytes, CallError> {
        let mut abi = NativeAbi::new(Vec::new(), self.store.clone());
        let mut db = StateDb::new(&mut abi, self.root, L2_SPEC, BlockHashes::History);
        let tx = self.tx_env(&mut db, request)?;
        let gas = tx.gas_limit;
        match self.run(&mut db, tx)? {
            TxRun::Executed(ExecutionResult::Success { output, .. }) => Ok(output.into_data()),
            TxRun::Executed(ExecutionResult::Revert { output, .. }) => {
                Err(CallError::Reverted(output))
            }
            TxRun::Executed(ExecutionResult::Halt {
                reason: HaltReason::OutOfGas(_),
                ..
            }) => Err(CallError::Halted(format!("out of gas: gas {gas}"))),
            TxRun::Executed(ExecutionResult::Halt { reason, .. }) => {
                Err(CallError::Halted(halt_words(&reason)))
            }
            TxRun::Invalid(invalid) => Err(self.refused(invalid.as_ref(), request)),
        }
    }

    /// `eth_estimateGas`: the least gas limit (within 1.5%) with which the request succeeds.
    pub fn estimate_gas(&self, request: &TransactionRequest) -> Result<u64, CallError> {
        let mut abi = NativeAbi::new(Vec::new(), self.store.clone());
        let mut db = StateDb::new(&mut abi, self.root, L2_SPEC, BlockHashes::History);
        let template = self.tx_env(&mut db, request)?;
        let mut hi = request
            .gas
            .filter(|gas| *gas >= TRANSFER_GAS)
            .unwrap_or(CALL_GAS_CAP)
            .min(CALL_GAS_CAP);
        // As geth: with a gas price, no more gas than the balance pays for.
        if template.gas_price > 0 {
            let balance = db
                .account(&template.caller)
                .map_err(|e| CallError::State(e.to_string()))?
                .map(|leaf| leaf.balance)
                .unwrap_or_default();
            let available = balance
                .checked_sub(template.value)
                .ok_or_else(|| CallError::Invalid("insufficient funds for transfer".into()))?;
            let allowance = available / U256::from(template.gas_price);
            hi = hi.min(allowance.saturating_to());
        }
        let mut attempt = |gas: u64| -> Result<Attempt, CallError> {
            let tx = TxEnv {
                gas_limit: gas,
                ..template.clone()
            };
            Ok(match self.run(&mut db, tx)? {
                TxRun::Executed(result @ ExecutionResult::Success { .. }) => {
                    Attempt::Succeeded(*result.gas())
                }
                TxRun::Executed(ExecutionResult::Revert { output, .. }) => {
                    Attempt::Reverted(output)
                }
                TxRun::Executed(ExecutionResult::Halt { reason, .. }) => {
                    Attempt::Failed(halt_words(&reason))
                }
                TxRun::Invalid(Some(
                    invalid @ (InvalidTransaction::CallGasCostMoreThanGasLimit { .. }
                    | InvalidTransaction::GasFloorMoreThanGasLimit { .. }),
                )) => Attempt::Failed(invalid_words(&invalid, template.caller)),
                TxRun::Invalid(other) => return Err(self.refused(other.as_ref(), request)),
            })
        };

        let plain_transfer = matches!(template.kind, TxKind::Call(_))
            && template.data.is_empty()
            && template.access_list.is_empty();
        let used = match attempt(hi)? {
            Attempt::Succeeded(gas) => gas,
            Attempt::Reverted(data) => return Err(CallError::Reverted(data)),
            Attempt::Failed(words) if hi < TRANSFER_GAS => return Err(CallError::Invalid(words)),
            Attempt::Failed(_) => return Err(CallError::GasRequiredExceedsAllowance(hi)),
        };
        if plain_transfer && used.tx_gas_used() == TRANSFER_GAS {
            // A transfer to an account without code: exactly its intrinsic gas, as geth.
            if let Attempt::Succeeded(_) = attempt(TRANSFER_GAS)? {
                return Ok(TRANSFER_GAS);
            }
        }
        // Every run below what the successful one used after refunds fails.
        let mut lo = used.tx_gas_used().saturating_sub(1);
        // Most calls need little over what they spent; 63/64 of the gas reaches a sub-call.
        let optimistic = (used.total_gas_spent() + CALL_STIPEND).saturating_mul(64) / 63;
        if optimistic < hi {
            match attempt(optimistic)? {
                Attempt::Succeeded(_) => hi = optimistic,
                _ => lo = optimistic,
            }
        }
        // geth stops within 1.5% of the answer.
        while lo + 1 < hi && (hi - lo).saturating_mul(1000) >= hi.saturating_mul(15) {
            let mid = (lo + (hi - lo) / 2).min(lo.saturating_mul(2));
            match attempt(mid)? {
                Attempt::Succeeded(_) => hi = mid,
                _ => lo = mid,
            }
        }
        Ok(hi)
    }

    fn run(&self, db: &mut StateDb<'_, NativeAbi>, tx: TxEnv) -> Result<TxRun, CallError> {
        // A call that pays nothing runs as if the block's base fee were 0 (geth's NoBaseFee).
        let basefee = match tx.gas_price {
            0 => 0,
            _ => self.block.basefee,
        };
        let context = BlockContext {
            env: BlockEnv {
                basefee,
                ..self.block.clone()
            },
            spec: L2_SPEC,
            chain_id: self.chain_id,
        };
        simulate(db, &context, tx).map_err(|e| CallError::State(e.to_string()))
    }

    fn refused(
        &self,
        invalid: Option<&InvalidTransaction>,
        request: &TransactionRequest,
    ) -> CallError {
        let sender = request.from.unwrap_or_default();
        CallError::Invalid(match invalid {
            Some(invalid) => invalid_words(invalid, sender),
            None => "the block refused the transaction".into(),
        })
    }

    /// The request as a transaction: its sender's next nonce, the fields it names, geth's
    /// defaults for the rest.
    fn tx_env(
        &self,
        db: &mut StateDb<'_, NativeAbi>,
        request: &TransactionRequest,
    ) -> Result<TxEnv, CallError> {
        if request.max_fee_per_blob_gas.is_some()
            || request.blob_versioned_hashes.is_some()
            || request.sidecar.is_some()
        {
            return Err(CallError::Unsupported("transaction type not supported"));
        }
        if request
            .authorization_list
            .as_ref()
            .is_some_and(|list: &Vec<SignedAuthorization>| !list.is_empty())
        {
            return Err(CallError::Unsupported(
                "authorization lists are not supported in calls",
            ));
        }
        let dynamic =
            request.max_fee_per_gas.is_some() || request.max_priority_fee_per_gas.is_some();
        if dynamic && request.gas_price.is_some() {
            return Err(CallError::Unsupported(
                "both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified",
            ));
        }
        let caller = request.from.unwrap_or_default();
        let nonce = match request.nonce {
            Some(nonce) => nonce,
            None => db
                .account(&caller)
                .map_err(|e| CallError::State(e.to_string()))?
                .map(|leaf| leaf.nonce)
                .unwrap_or_default(),
        };
        let (tx_type, gas_price, gas_priority_fee) = if dynamic {
            let max_fee = request.max_fee_per_gas.unwrap_or_default();
            let tip = request.max_priority_fee_per_gas.unwrap_or_default();
            (2, max_fee, Some(tip.min(max_fee)))
        } else {
            let tx_type = if request.access_list.is_some() { 1 } else { 0 };
            (tx_type, request.gas_price.unwrap_or_default(), None)
        };
        Ok(TxEnv {
            tx_type,
            caller,
            gas_limit: request.gas.unwrap_or(CALL_GAS_CAP).min(CALL_GAS_CAP),
            gas_price,
            kind: request.to.unwrap_or(TxKind::Create),
            value: request.value.unwrap_or_default(),
            data: request.input.input().cloned().unwrap_or_default(),
            nonce,
            chain_id: Some(request.chain_id.unwrap_or(self.chain_id)),
            access_list: request.access_list.clone().unwrap_or_default(),
            gas_priority_fee,
            blob_hashes: Vec::new(),
            max_fee_per_blob_gas: 0,
            authorization_list: Vec::new(),
        })
    }
}
