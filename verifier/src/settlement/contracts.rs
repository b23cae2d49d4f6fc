//! Typed access to the settlement contracts through any [`L1`]: deployment, and every call the
//! rollup's actors make. Bindings come from the committed ABIs (`contracts/artifacts/`), so a
//! changed contract interface fails to compile here.

use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_sol_types::{SolCall, SolEvent, SolValue};

use crate::evm::artifact_bytecode;
use crate::l1::{L1Error, Log, TxReceipt, Wallet, L1};

alloy_sol_types::sol!(
    #[sol(all_derives)]
    Inbox,
    "contracts/artifacts/Inbox.json"
);
// The generated constructors of events with many fields (`ChallengeOpened`) take them all.
#[allow(clippy::too_many_arguments)]
mod rollup_abi {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Rollup,
        "contracts/artifacts/Rollup.json"
    );
}
pub use rollup_abi::Rollup;

pub use Inbox::DelayedRecord;
pub use Rollup::{AssertionData, NodeInfo, WithdrawalProof};

/// The seed's `OptimisticRollupConfig` for settlement, with what the contracts need besides.
/// Times are seconds of L1 time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementConfig {
    pub chain_id: u64,
    pub sequencer: Address,
    pub max_batch_bytes: u32,
    pub max_deposits_per_batch: u32,
    pub force_inclusion_delay: u64,
    /// The seed's `fraud_proof_timeout`.
    pub challenge_period: u64,
    pub withdrawal_delay: u64,
    pub assertion_bond: U256,
    pub challenge_bond: U256,
    pub clock_budget: u64,
    pub arity: u32,
    pub burn_bps: u16,
    pub genesis_state_root: B256,
    /// keccak256 of the STF machine's step-0 opening ([`super::MachineOpening::commitment`]).
    pub initial_state_hash: B256,
    pub module_hash: B256,
    /// Seconds without a sequencer batch after which anyone may post batches.
    pub sequencer_timeout: u64,
    pub guardian: GuardianConfig,
}

/// The guardian: who signs its actions, how many must, and the bounds of what it can do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuardianConfig {
    /// Strictly ascending; empty (with threshold 0) for a guardian-free deployment.
    pub signers: Vec<Address>,
    pub threshold: u8,
    /// Seconds after which a pause ends by itself (at most 90 days).
    pub pause_expiry: u64,
    /// Wei; withdrawals above it wait `large_withdrawal_delay` more.
    pub withdrawal_threshold: U256,
    pub large_withdrawal_delay: u64,
    /// Seconds after confirmation during which an assertion's withdrawals may be held.
    pub window: u64,
}

/// The longest a pause, a hold window or a large withdrawal's extra wait may be
/// (`RollupConfigs.MAX_GUARDIAN_DELAY`).
pub const MAX_GUARDIAN_DELAY: u64 = 90 * 86_400;
/// The most guardian signers (`RollupConfigs.MAX_GUARDIAN_SIGNERS`).
pub const MAX_GUARDIAN_SIGNERS: usize = 32;

/// One ether in wei.
pub const ETHER: u128 = 1_000_000_000_000_000_000;

impl SettlementConfig {
    /// The seed's defaults: 1,000 transactions (256 KiB) per batch, a 7-day challenge period, a
    /// 1-day withdrawal delay and force-inclusion delay; 1 ETH bonds; 2-day chess clocks, so a
    /// challenged honest assertion is confirmed at most 7 + 4 days after it was posted.
    pub fn new(
        chain_id: u64,
        sequencer: Address,
        genesis_state_root: B256,
        initial_state_hash: B256,
        module_hash: B256,
    ) -> SettlementConfig {
        SettlementConfig {
            chain_id,
            sequencer,
            max_batch_bytes: 262_144,
            max_deposits_per_batch: 1000,
            force_inclusion_delay: 86_400,
            challenge_period: 604_800,
            withdrawal_delay: 86_400,
            assertion_bond: U256::from(ETHER),
            challenge_bond: U256::from(ETHER),
            clock_budget: 2 * 86_400,
            arity: crate::bisection::DEFAULT_ARITY,
            burn_bps: crate::bisection::DEFAULT_BURN_BPS,
            genesis_state_root,
            initial_state_hash,
            module_hash,
            sequencer_timeout: 2 * 86_400,
            guardian: GuardianConfig {
                pause_expiry: MAX_GUARDIAN_DELAY,
                ..GuardianConfig::default()
            },
        }
    }

    fn to_sol(&self) -> Inbox::RollupConfig {
        Inbox::RollupConfig {
            chainId: self.chain_id,
            sequencer: self.sequencer,
            maxBatchBytes: self.max_batch_bytes,
            maxDepositsPerBatch: self.max_deposits_per_batch,
            forceInclusionDelay: self.force_inclusion_delay,
            challengePeriod: self.challenge_period,
            withdrawalDelay: self.withdrawal_delay,
            assertionBond: self.assertion_bond,
            challengeBond: self.challenge_bond,
            clockBudget: self.clock_budget,
            arity: self.arity,
            burnBps: self.burn_bps,
            genesisStateRoot: self.genesis_state_root,
            initialStateHash: self.initial_state_hash,
            moduleHash: self.module_hash,
            sequencerTimeout: self.sequencer_timeout,
            guardianSigners: self.guardian.signers.clone(),
            guardianThreshold: self.guardian.threshold,
            pauseExpiry: self.guardian.pause_expiry,
            withdrawalThreshold: self.guardian.withdrawal_threshold,
            largeWithdrawalDelay: self.guardian.large_withdrawal_delay,
            guardianWindow: self.guardian.window,
        }
    }
}

/// Where a rollup's contracts live (what `rollup deploy --out` writes, as JSON).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deployment {
    pub l1_chain_id: u64,
    pub inbox: Address,
    pub rollup: Address,
    pub one_step_verifier: Address,
    /// Block of the first deployment transaction: followers read logs from here.
    pub first_block: u64,
}

/// Deploys the one-step checker, the inbox and the rollup, and binds them.
pub fn deploy(
    l1: &mut dyn L1,
    deployer: &Wallet,
    config: &SettlementConfig,
) -> Result<Deployment, L1Error> {
    let (head, _) = l1.head()?;
    let code = |name: &str| {
        artifact_bytecode(name).map_err(|e| L1Error::Artifact {
            name: name.to_string(),
            reason: e.to_string(),
        })
    };
    let mut checkers = Vec::new();
    for name in ["CoreChecker", "BulkChecker", "HostChecker", "ArithChecker"] {
        checkers.push(l1.deploy(deployer, code(name)?)?);
    }
    let mut init = code("OneStepVerifier")?;
    for checker in &checkers {
        init.extend_from_slice(&checker.abi_encode());
    }
    let one_step_verifier = l1.deploy(deployer, init)?;

    let sol_config = config.to_sol();
    let mut init = code("Inbox")?;
    init.extend_from_slice(&(sol_config.clone(),).abi_encode_params());
    let inbox = l1.deploy(deployer, init)?;
    let mut init = code("Rollup")?;
    init.extend_from_slice(&(sol_config, inbox, one_step_verifier).abi_encode_params());
    let rollup = l1.deploy(deployer, init)?;
    l1.send(
        deployer,
        inbox,
        U256::ZERO,
        Inbox::bindRollupCall { rollup_: rollup }.abi_encode(),
    )?
    .success()?;
    Ok(Deployment {
        l1_chain_id: l1.chain_id(),
        inbox,
        rollup,
        one_step_verifier,
        first_block: head + 1,
    })
}

/// Calls a view and decodes its return.
pub fn view<C: SolCall>(l1: &mut dyn L1, to: Address, call: C) -> Result<C::Return, L1Error> {
    let data = l1.call(to, call.abi_encode())?.map_err(L1Error::Reverted)?;
    C::abi_decode_returns(&data).map_err(|_| L1Error::BadReturn(C::SIGNATURE))
}

/// Sends a call; a revert comes back in the receipt.
pub fn send<C: SolCall>(
    l1: &mut dyn L1,
    from: &Wallet,
    to: Address,
    value: U256,
    call: C,
) -> Result<TxReceipt, L1Error> {
    l1.send(from, to, value, call.abi_encode())
}

/// The events of type `E` among `logs`.
pub fn events<E: SolEvent>(logs: &[Log]) -> Vec<(E, Log)> {
    logs.iter()
        .filter(|log| log.topics.first() == Some(&E::SIGNATURE_HASH))
        .filter_map(|log| {
            E::decode_raw_log(log.topics.iter().copied(), &log.data)
                .ok()
                .map(|event| (event, log.clone()))
        })
        .collect()
}

/// The return value of a successful call's receipt.
pub fn returned<C: SolCall>(receipt: &TxReceipt) -> Result<C::Return, L1Error> {
    match &receipt.outcome {
        Ok(data) => C::abi_decode_returns(data).map_err(|_| L1Error::BadReturn(C::SIGNATURE)),
        Err(revert) => Err(L1Error::Reverted(revert.clone())),
    }
}

/// Bytes as `alloy` wants them.
pub fn bytes(data: &[u8]) -> Bytes {
    Bytes::copy_from_slice(data)
}
