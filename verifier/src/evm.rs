//! The Solidity one-step checker run from Rust in an embedded EVM (revm), as L1 would run it.
//!
//! [`EvmChecker::new`] deploys the compiled contracts listed in `contracts/artifacts/deploy.json`
//! (written by `contracts/compile.js`), in order, by real create transactions from a fixed deployer,
//! so every contract lands at the same address on every run. Each constructor takes the addresses
//! of the earlier contracts its `constructorArgs` names, in that order. [`EvmChecker::verify_step`]
//! then calls the entry contract's `verifyStep(pre, proof)` as a transaction from a funded account
//! and reports what that transaction costs; its state changes are dropped, so calls are independent.
//!
//! The chain rules are Osaka's, matching the `evmVersion` the contracts are compiled for, with
//! nothing switched off: the EIP-170 code-size limit ([`CODE_SIZE_LIMIT`]), the EIP-7623 calldata floor and the EIP-7825
//! cap on a transaction's gas all apply.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use alloy_primitives::{hex, Address, Bytes, Selector, B256, U256};
use alloy_sol_types::{Panic, Revert, SolCall, SolError, SolValue};
use revm::context::result::{ExecutionResult, HaltReason, OutOfGasError, ResultGas};
use revm::context::{BlockEnv, Context, TxEnv};
use revm::database::InMemoryDB;
use revm::handler::{MainnetContext, MainnetEvm};
use revm::primitives::hardfork::SpecId;
use revm::state::AccountInfo;
use revm::{ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};
use serde::Deserialize;

alloy_sol_types::sol!(OneStepVerifier, "contracts/artifacts/OneStepVerifier.json");

/// Every artifact in `contracts/artifacts/` but the deploy plan and build info, by contract name.
const ARTIFACTS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));
const DEPLOY_PLAN: &str = include_str!("../contracts/artifacts/deploy.json");

/// The gas each `verifyStep` transaction may use: EIP-7825's cap on one transaction from Osaka on
/// (2^24). A step costing more cannot be checked on L1 at all, so the harness must not allow it.
pub const CALL_GAS_LIMIT: u64 = revm::primitives::eip7825::TX_GAS_LIMIT_CAP;
/// Largest deployed contract the embedded chain accepts: EIP-170's mainnet rule, on purpose (the
/// checker is split into contracts by op class to fit it; compile.js prints every size).
pub const CODE_SIZE_LIMIT: usize = 24_576;
/// Far above any transaction here: the block never limits one call.
pub const BLOCK_GAS_LIMIT: u64 = 1 << 40;
/// What every transaction pays before its calldata and execution.
const TX_BASE_GAS: u64 = 21_000;
/// EIP-2028 calldata cost per byte.
const ZERO_BYTE_GAS: u64 = 4;
const NON_ZERO_BYTE_GAS: u64 = 16;

/// Fixed accounts: the deployer's nonces decide the contract addresses.
const DEPLOYER: Address = Address::new([0xde; 20]);
const CALLER: Address = Address::new([0xca; 20]);
const FUNDS: U256 = U256::from_limbs([0, 0, 1, 0]); // 2^128 wei: fees are never the limit

/// A failure of the harness itself, not a verdict on a proof.
#[derive(Debug, thiserror::Error)]
pub enum EvmError {
    #[error("contract artifact {name}: {reason}")]
    Artifact { name: String, reason: String },
    #[error("deploy.json: {0}")]
    DeployPlan(String),
    #[error("deploying {name} failed: {reason}")]
    Deploy { name: String, reason: String },
    #[error("the EVM refused the transaction: {0}")]
    Transaction(String),
    #[error("verifyStep returned {0} bytes, not one bytes32")]
    BadReturn(usize),
}

/// The checker's answer on one proof and what the transaction asking it cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvmVerdict {
    pub post: Result<vm::MachineHash, EvmRejection>,
    pub gas: GasUse,
}

/// The gas of one `verifyStep` transaction, split as the protocol charges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GasUse {
    /// The transaction's gas used, as its receipt would show.
    pub total: u64,
    /// The calldata's intrinsic cost: 4 gas per zero byte, 16 per other byte (EIP-2028).
    pub calldata: u64,
    /// `total` less the 21,000 base and `calldata`.
    pub execution: u64,
    /// The transaction paid EIP-7623's calldata floor (10 gas per token) rather than its execution:
    /// `execution` is then the floor's excess, not work done.
    pub floored: bool,
}

/// A proof the contract rejected: its revert decoded, and the raw revert data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvmRejection {
    /// The custom error as `Name(arg, ...)` with bytes32 reasons as text, or what else stopped the
    /// call: `Error("...")`, `panic 0x11`, `out of gas`, `revert without data`, ...
    pub error: String,
    pub raw: Vec<u8>,
}

impl std::fmt::Display for EvmRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeployPlan {
    entry: String,
    contracts: Vec<PlannedContract>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PlannedContract {
    name: String,
    constructor_args: Vec<String>,
}

#[derive(Deserialize)]
struct Artifact {
    bytecode: Bytes,
    #[serde(rename = "deployedBytecode")]
    deployed_bytecode: Bytes,
}

#[derive(Deserialize)]
struct AbiArtifact {
    abi: alloy_json_abi::JsonAbi,
}

/// The Solidity checker deployed in an in-memory chain.
pub struct EvmChecker {
    evm: Evm,
    verifier: Address,
    reverts: RevertDecoder,
}

impl EvmChecker {
    pub fn new() -> Result<EvmChecker, EvmError> {
        let plan: DeployPlan =
            serde_json::from_str(DEPLOY_PLAN).map_err(|e| EvmError::DeployPlan(e.to_string()))?;
        let reverts = RevertDecoder::from_artifacts()?;
        let mut db = InMemoryDB::default();
        for account in [DEPLOYER, CALLER] {
            db.insert_account_info(account, AccountInfo::from_balance(FUNDS));
        }
        let mut evm = Context::mainnet()
            .with_db(db)
            .modify_cfg_chained(|cfg| {
                cfg.set_spec_and_mainnet_gas_params(SpecId::OSAKA);
                cfg.limit_contract_code_size = Some(CODE_SIZE_LIMIT);
            })
            .with_block(BlockEnv {
                gas_limit: BLOCK_GAS_LIMIT,
                ..BlockEnv::default()
            })
            .build_mainnet();

        let mut deployed: Vec<(&str, Address)> = Vec::new();
        for (nonce, contract) in (0u64..).zip(&plan.contracts) {
            let name = contract.name.as_str();
            let mut code = artifact_bytecode(name)?;
            for arg in &contract.constructor_args {
                let Some(&(_, address)) = deployed.iter().find(|(n, _)| n == arg) else {
                    return Err(EvmError::DeployPlan(format!(
                        "{name} takes the address of {arg}, which is not deployed before it"
                    )));
                };
                code.extend_from_slice(&address.abi_encode());
            }
            deployed.push((name, deploy(&mut evm, &reverts, name, nonce, code)?));
        }
        let Some(&(_, verifier)) = deployed.iter().find(|(n, _)| *n == plan.entry) else {
            return Err(EvmError::DeployPlan(format!(
                "the entry {} is not deployed",
                plan.entry
            )));
        };
        Ok(EvmChecker {
            evm,
            verifier,
            reverts,
        })
    }

    /// Where the entry contract, `OneStepVerifier`, is deployed.
    pub fn verifier_address(&self) -> Address {
        self.verifier
    }

    /// Asks the deployed checker about one step, as a transaction on L1 would.
    pub fn verify_step(
        &mut self,
        pre: &vm::MachineHash,
        proof: &[u8],
    ) -> Result<EvmVerdict, EvmError> {
        let calldata = OneStepVerifier::verifyStepCall {
            pre: B256::from(pre.0),
            proof: Bytes::copy_from_slice(proof),
        }
        .abi_encode();
        let calldata_gas = calldata_gas(&calldata);
        let result = self.call(self.verifier, calldata)?;
        let gas = gas_use(result.gas(), calldata_gas);
        let post = match result {
            ExecutionResult::Success { output, .. } => {
                let data = output.into_data();
                let post = OneStepVerifier::verifyStepCall::abi_decode_returns_validate(&data)
                    .map_err(|_| EvmError::BadReturn(data.len()))?;
                Ok(vm::MachineHash(post.0))
            }
            ExecutionResult::Revert { output, .. } => Err(EvmRejection {
                error: self.reverts.describe(&output),
                raw: output.to_vec(),
            }),
            ExecutionResult::Halt { reason, .. } => Err(EvmRejection {
                error: describe_halt(&reason),
                raw: Vec::new(),
            }),
        };
        Ok(EvmVerdict { post, gas })
    }

    /// One call transaction from the funded caller, its state changes dropped.
    fn call(&mut self, to: Address, calldata: Vec<u8>) -> Result<ExecutionResult, EvmError> {
        // Nothing is committed, so the caller's nonce never moves.
        let tx = TxEnv::builder()
            .caller(CALLER)
            .nonce(0)
            .gas_limit(CALL_GAS_LIMIT)
            .call(to)
            .data(calldata.into())
            .build_fill();
        let outcome = self
            .evm
            .transact(tx)
            .map_err(|e| EvmError::Transaction(e.to_string()))?;
        Ok(outcome.result)
    }
}

type Evm = MainnetEvm<MainnetContext<InMemoryDB>>;

/// The deployer's create transaction number `nonce`, committed; the new contract's address.
fn deploy(
    evm: &mut Evm,
    reverts: &RevertDecoder,
    name: &str,
    nonce: u64,
    init_code: Vec<u8>,
) -> Result<Address, EvmError> {
    let tx = TxEnv::builder()
        .caller(DEPLOYER)
        .nonce(nonce)
        .gas_limit(CALL_GAS_LIMIT)
        .create()
        .data(init_code.into())
        .build_fill();
    let deploy_error = |reason: String| EvmError::Deploy {
        name: name.to_string(),
        reason,
    };
    let result = evm
        .transact_commit(tx)
        .map_err(|e| deploy_error(e.to_string()))?;
    let expected = DEPLOYER.create(nonce);
    match result {
        ExecutionResult::Success { .. } if result.created_address() == Some(expected) => {
            Ok(expected)
        }
        ExecutionResult::Success { .. } => Err(deploy_error("created no contract".into())),
        ExecutionResult::Revert { output, .. } => Err(deploy_error(format!(
            "constructor reverted: {}",
            reverts.describe(&output)
        ))),
        ExecutionResult::Halt { reason, .. } => Err(deploy_error(describe_halt(&reason))),
    }
}

/// The init code of the compiled contract `name` (an artifact in `contracts/artifacts/`).
pub fn artifact_bytecode(name: &str) -> Result<Vec<u8>, EvmError> {
    Ok(artifact(name)?.bytecode.to_vec())
}

/// The runtime code of the compiled contract `name`: what a predeploy holds (the L2 withdrawal
/// contract in the EVM rollup's genesis).
pub fn artifact_deployed_bytecode(name: &str) -> Result<Vec<u8>, EvmError> {
    Ok(artifact(name)?.deployed_bytecode.to_vec())
}

fn artifact(name: &str) -> Result<Artifact, EvmError> {
    let artifact_error = |reason: String| EvmError::Artifact {
        name: name.to_string(),
        reason,
    };
    let Some(&(_, text)) = ARTIFACTS.iter().find(|(n, _)| *n == name) else {
        return Err(artifact_error("not in contracts/artifacts".into()));
    };
    let artifact: Artifact =
        serde_json::from_str(text).map_err(|e| artifact_error(e.to_string()))?;
    if artifact.bytecode.is_empty() {
        return Err(artifact_error("has no bytecode to deploy".into()));
    }
    Ok(artifact)
}

fn calldata_gas(calldata: &[u8]) -> u64 {
    calldata
        .iter()
        .map(|&b| {
            if b == 0 {
                ZERO_BYTE_GAS
            } else {
                NON_ZERO_BYTE_GAS
            }
        })
        .sum()
}

fn gas_use(gas: &ResultGas, calldata: u64) -> GasUse {
    let total = gas.tx_gas_used();
    GasUse {
        total,
        calldata,
        execution: total.saturating_sub(TX_BASE_GAS + calldata),
        floored: gas.floor_gas() > gas.spent_sub_refunded(),
    }
}

/// Every custom error the compiled contracts declare, by selector, to render revert data. It
/// takes the union over all artifacts because the entry contract forwards the reverts of the
/// contracts it calls: its own ABI need not list them.
pub(crate) struct RevertDecoder {
    errors: BTreeMap<Selector, alloy_json_abi::Error>,
}

impl RevertDecoder {
    pub(crate) fn from_artifacts() -> Result<RevertDecoder, EvmError> {
        let mut errors = BTreeMap::new();
        for &(name, text) in ARTIFACTS {
            let artifact: AbiArtifact =
                serde_json::from_str(text).map_err(|e| EvmError::Artifact {
                    name: name.to_string(),
                    reason: e.to_string(),
                })?;
            for error in artifact.abi.errors() {
                errors
                    .entry(error.selector())
                    .or_insert_with(|| error.clone());
            }
        }
        Ok(RevertDecoder { errors })
    }

    /// Revert data as text: a custom error with its arguments, `Error(string)`, `Panic(uint256)`,
    /// or the selector of an error no artifact declares.
    pub(crate) fn describe(&self, data: &[u8]) -> String {
        if data.is_empty() {
            return "revert without data".into();
        }
        if let Ok(revert) = Revert::abi_decode(data) {
            return format!("Error({:?})", revert.reason);
        }
        if let Ok(panic) = Panic::abi_decode(data) {
            return format!("panic {:#x}", panic.code);
        }
        let Some((selector, args)) = data.split_first_chunk::<4>() else {
            return format!("revert data 0x{}", hex::encode(data));
        };
        match self.errors.get(&Selector::from(*selector)) {
            Some(error) => describe_custom_error(error, args),
            None => format!(
                "unknown error 0x{} with {} bytes of arguments",
                hex::encode(selector),
                args.len()
            ),
        }
    }
}

/// `Name(arg, ...)`. The checker's errors take static arguments only (one word each); anything
/// else, or arguments cut short, is shown as the remaining encoding in hex.
fn describe_custom_error(error: &alloy_json_abi::Error, args: &[u8]) -> String {
    let mut text = format!("{}(", error.name);
    for (i, param) in error.inputs.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        let rest = &args[(32 * i).min(args.len())..];
        match rest.first_chunk::<32>() {
            Some(word) if is_static_word(&param.ty) => {
                text.push_str(&describe_word(&param.ty, word))
            }
            _ => {
                let _ = write!(text, "{} 0x{}", param.ty, hex::encode(rest));
                break;
            }
        }
    }
    text.push(')');
    text
}

fn is_static_word(ty: &str) -> bool {
    ty == "address"
        || ty == "bool"
        || ty.starts_with("uint")
        || ty.starts_with("int")
        || (ty.starts_with("bytes") && ty.len() > "bytes".len() && !ty.contains('['))
}

fn describe_word(ty: &str, word: &[u8]) -> String {
    let value = U256::from_be_slice(word);
    match ty {
        "bool" => (!value.is_zero()).to_string(),
        "address" => Address::from_slice(&word[12..]).to_checksum(None),
        "bytes32" => bytes32_text(word),
        _ if ty.starts_with("uint") => value.to_string(),
        _ if ty.starts_with("int") => alloy_primitives::I256::from_raw(value).to_string(),
        _ => format!("0x{}", hex::encode(word)),
    }
}

/// A short ASCII reason, zero-padded on the right, as text; any other value in hex.
fn bytes32_text(word: &[u8]) -> String {
    let len = word.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let text = &word[..len];
    if len > 0 && text.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        String::from_utf8_lossy(text).into_owned()
    } else {
        format!("0x{}", hex::encode(word))
    }
}

pub(crate) fn describe_halt(reason: &HaltReason) -> String {
    match reason {
        HaltReason::OutOfGas(OutOfGasError::Memory | OutOfGasError::MemoryLimit) => {
            "out of gas (memory)".into()
        }
        HaltReason::OutOfGas(_) => "out of gas".into(),
        HaltReason::CreateContractSizeLimit => {
            format!("code size over the EIP-170 limit of {CODE_SIZE_LIMIT} bytes")
        }
        HaltReason::CreateInitCodeSizeLimit => {
            "init code over the EIP-3860 limit of 49,152 bytes".into()
        }
        other => format!("halted: {other:?}"),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    /// The checker recovers signers through the precompile at 0x01; without C crypto revm
    /// computes it with k256. The vector is go-ethereum's for ecrecover.
    #[test]
    fn ecrecover_precompile_recovers_a_signer() {
        let mut checker = EvmChecker::new().expect("deploy");
        let input = hex::decode(concat!(
            "456e9aea5e197a1f1af7a3e85a3212fa4049a3ba34c2289b4c860fc0b0c64ef3",
            "000000000000000000000000000000000000000000000000000000000000001c",
            "9242685bf161793cc25603c231bc2f568eb630ea16aa137d2664ac8038825608",
            "4f8ae3bd7535248d0bd448298cc2e2071e56992d0774dc340c368ae950852ada",
        ))
        .expect("hex");
        let result = checker
            .call(Address::with_last_byte(1), input.clone())
            .expect("call");
        let mut expected = [0u8; 32];
        expected[12..].copy_from_slice(
            &hex::decode("7156526fbd7a3c72969b54f64e42c10fbb768c8a").expect("hex"),
        );
        assert!(result.is_success(), "{result:?}");
        assert_eq!(result.output().map(|o| o.to_vec()), Some(expected.to_vec()));

        // A flipped bit in s recovers some other key or none: never the signer.
        let mut forged = input;
        forged[127] ^= 1;
        let result = checker
            .call(Address::with_last_byte(1), forged)
            .expect("call");
        assert_ne!(result.output().map(|o| o.to_vec()), Some(expected.to_vec()));
    }

    /// EIP-170 stays on: a contract one byte over 24,576 is refused with a clear reason.
    #[test]
    fn deploying_code_over_the_size_limit_fails() {
        let mut checker = EvmChecker::new().expect("deploy");
        // Init code returning `size` zero bytes: PUSH3 size, PUSH1 0, RETURN.
        let init = |size: u32| {
            let [_, a, b, c] = size.to_be_bytes();
            vec![0x62, a, b, c, 0x60, 0x00, 0xf3]
        };
        // The deployer's nonces 0.. went to the contracts in deploy.json.
        let nonce = checker.evm.ctx.journaled_state.database.cache.accounts[&DEPLOYER]
            .info
            .nonce;
        assert!(deploy(
            &mut checker.evm,
            &checker.reverts,
            "at the limit",
            nonce,
            init(CODE_SIZE_LIMIT as u32)
        )
        .is_ok());
        let error = deploy(
            &mut checker.evm,
            &checker.reverts,
            "too big",
            nonce + 1,
            init(CODE_SIZE_LIMIT as u32 + 1),
        )
        .expect_err("over the limit");
        assert_eq!(
            error.to_string(),
            format!(
                "deploying too big failed: code size over the EIP-170 limit of {CODE_SIZE_LIMIT} bytes"
            )
        );
    }

    #[test]
    fn bytes32_reasons_render_as_text() {
        let mut word = [0u8; 32];
        word[..11].copy_from_slice(b"value stack");
        assert_eq!(bytes32_text(&word), "value stack");
        word[31] = 1;
        assert!(bytes32_text(&word).starts_with("0x7661"));
        assert_eq!(bytes32_text(&[0; 32]), format!("0x{}", "00".repeat(32)));
    }

    #[test]
    fn calldata_gas_is_4_per_zero_and_16_per_other_byte() {
        assert_eq!(calldata_gas(&[0, 0, 1, 0xff]), 4 + 4 + 16 + 16);
    }

    alloy_sol_types::sol! {
        error NotOpened(bytes32 what);
        error Malformed(uint256 offset);
        error Unheard(uint256 x);
    }

    #[test]
    fn reverts_render_with_their_arguments() {
        let reverts = RevertDecoder::from_artifacts().expect("artifacts");
        let mut what = [0u8; 32];
        what[..11].copy_from_slice(b"value stack");
        let data = NotOpened { what: what.into() }.abi_encode();
        assert_eq!(reverts.describe(&data), "NotOpened(value stack)");
        let data = Malformed {
            offset: U256::from(17),
        }
        .abi_encode();
        assert_eq!(reverts.describe(&data), "Malformed(17)");
        assert_eq!(
            reverts.describe(&data[..20]),
            format!("Malformed(uint256 0x{})", "00".repeat(16))
        );
        let data = Unheard { x: U256::from(1) }.abi_encode();
        assert_eq!(
            reverts.describe(&data),
            format!(
                "unknown error 0x{} with 32 bytes of arguments",
                hex::encode(&data[..4])
            )
        );
        let data = Panic {
            code: U256::from(0x11),
        }
        .abi_encode();
        assert_eq!(reverts.describe(&data), "panic 0x11");
        let data = Revert {
            reason: "no".into(),
        }
        .abi_encode();
        assert_eq!(reverts.describe(&data), "Error(\"no\")");
        assert_eq!(reverts.describe(&[0xde, 0xad]), "revert data 0xdead");
        assert_eq!(reverts.describe(&[]), "revert without data");
    }
}
