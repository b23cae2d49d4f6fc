//! A deployment's parameters as operators write them: TOML whose keys are the seed's
//! `OptimisticRollupConfig` fields (with its defaults, in seconds) plus what settlement needs.
//!
//! ```toml
//! chain_id = 1                      # the rollup's chain id (signatures commit to it)
//! max_transactions_per_batch = 1000 # at most the STF guest's limit (1000)
//! state_commitment_interval = 300   # the sequencer posts a batch at least this often
//! withdrawal_delay = 86400          # from an assertion's confirmation to its withdrawals being payable
//! fraud_proof_timeout = 604800      # the challenge period
//! force_inclusion_delay = 86400     # a deposit older than this may be forced into a batch
//! max_deposits_per_batch = 1000
//! assertion_bond_wei = "1000000000000000000"
//! challenge_bond_wei = "1000000000000000000"
//! clock_budget = 172800             # each party's chess clock in a game, seconds
//! dissection_arity = 32
//! burn_bps = 5000                   # share of a loser's bond burned
//! # sequencer = "0x..."             # default: the deploying account
//! sequencer_timeout = 172800        # no sequencer batch this long: anyone may post batches
//!
//! # The guardian (m-of-n EIP-712 signatures): it may pause withdrawal and bond payouts (the
//! # pause ends by itself) and hold a confirmed assertion's withdrawals for a bounded window.
//! # It can never move escrow, confirm or reject an assertion, or change code.
//! guardian_signers = []             # e.g. ["0x..", "0x..", "0x.."]; none: no guardian
//! guardian_threshold = 0            # signatures an action needs (0 with no signers)
//! pause_expiry = 7776000            # a pause ends by itself after this (at most 90 days)
//! withdrawal_threshold = "100000000000000000000" # wei; above it a withdrawal waits longer
//! large_withdrawal_delay = 86400    # the extra wait of a large withdrawal
//! guardian_window = 86400           # after confirmation, the guardian may hold withdrawals
//!
//! # The state-transition function: "evm" (revm in the guest; Ethereum transactions, contracts,
//! # the Ethereum JSON-RPC) or "ledger" (the small transfer ledger, kept as a second STF).
//! stf = "evm"
//!
//! # The node's own (not part of the deployment):
//! block_time = 2                    # seconds between the sequencer's L2 blocks (EVM), 0.05..=60
//! data_availability = "auto"        # where batches go: "auto" (the default): the cheaper at L1's
//!                                   # current base and blob base fees (EIP-7623's floor counted;
//!                                   # settlement::availability), or "calldata" or "blobs" (EIP-4844)
//! enable_state_caching = true       # keep the trie's nodes in memory between batches
//! enable_parallel_execution = true  # recover a batch's signatures on every core first
//! ```
//!
//! The node's two switches change how fast it gets to a state, never which: with
//! `enable_state_caching = false` the trie's nodes are read again whole from the store after
//! every batch (`NodeDb::with_state_caching`) instead of the in-memory copy being extended; with
//! `enable_parallel_execution = false` a batch's signatures are recovered one by one inside its
//! replay and its claim's run (`SignatureCache::Off`) instead of on every core first.

use serde::Deserialize;
use verifier::l1::{Address, B256, U256};
use verifier::settlement::contracts::{MAX_GUARDIAN_DELAY, MAX_GUARDIAN_SIGNERS};
use verifier::settlement::{GuardianConfig, MachineOpening, SettlementConfig};

/// The most transactions the STF guest accepts in one batch (`ledger::Config::default()`).
pub const GUEST_MAX_TRANSACTIONS: u32 = 1000;

/// The least challenge period and clock budget, in seconds (`RollupConfigs.MIN_PERIOD`).
pub const MIN_PERIOD: u64 = 36;

/// The least burn share (`RollupConfigs.MIN_BURN_BPS`).
pub const MIN_BURN_BPS: u16 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("config: {0}")]
    Parse(String),
    #[error("config: {0}")]
    Invalid(String),
}

/// Which state-transition function a rollup runs (its guest, genesis and node side).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stf {
    #[default]
    Evm,
    Ledger,
}

impl Stf {
    /// The guest the deployment pins and the node replays.
    pub fn wasm(self) -> &'static [u8] {
        match self {
            Stf::Evm => program::EVM_STF_WASM,
            Stf::Ledger => program::STF_WASM,
        }
    }

    /// The state every deployment of this STF starts from (balances all come through the
    /// bridge): the ledger's empty trie; the EVM's system contracts with block 0 at time 0 (the
    /// STF raises block times to the head's, never lowers them, so any later time follows).
    pub fn genesis(self) -> Result<StfGenesis, String> {
        match self {
            Stf::Ledger => Ok(StfGenesis {
                root: program::EMPTY_ROOT,
                store: program::NodeStore::new(),
                head: None,
            }),
            Stf::Evm => {
                let withdrawals = verifier::evm::artifact_deployed_bytecode("L2Withdrawals")
                    .map_err(|e| format!("the L2Withdrawals artifact: {e}"))?;
                let (root, head, store) = program::evm::evm_genesis(&[], 0, &withdrawals)
                    .map_err(|e| format!("the EVM genesis: {e}"))?;
                Ok(StfGenesis {
                    root,
                    store,
                    head: Some(head),
                })
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Stf::Evm => "evm",
            Stf::Ledger => "ledger",
        }
    }
}

/// A rollup's genesis state: its root, its trie nodes, and on the EVM its block 0.
#[derive(Clone, Debug)]
pub struct StfGenesis {
    pub root: program::ledger::Hash,
    pub store: program::NodeStore,
    pub head: Option<program::evm::evm_stf::block::Head>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RollupConfig {
    pub stf: Stf,
    pub chain_id: u64,
    pub max_transactions_per_batch: u32,
    pub state_commitment_interval: u64,
    pub withdrawal_delay: u64,
    pub fraud_proof_timeout: u64,
    pub force_inclusion_delay: u64,
    pub max_deposits_per_batch: u32,
    /// Wei, as a decimal string (TOML integers stop at 2^63).
    pub assertion_bond_wei: String,
    pub challenge_bond_wei: String,
    pub clock_budget: u64,
    pub dissection_arity: u32,
    pub burn_bps: u16,
    pub sequencer: Option<String>,
    pub sequencer_timeout: u64,
    pub guardian_signers: Vec<String>,
    pub guardian_threshold: u8,
    pub pause_expiry: u64,
    /// Wei, as a decimal string.
    pub withdrawal_threshold: String,
    pub large_withdrawal_delay: u64,
    pub guardian_window: u64,
    /// Seconds between L2 blocks on an EVM rollup's sequencer.
    pub block_time: f64,
    /// Where the sequencer posts batches.
    pub data_availability: crate::settlement::DataAvailability,
    pub enable_state_caching: bool,
    pub enable_parallel_execution: bool,
}

impl Default for RollupConfig {
    fn default() -> Self {
        RollupConfig {
            stf: Stf::Evm,
            chain_id: 1,
            max_transactions_per_batch: GUEST_MAX_TRANSACTIONS,
            state_commitment_interval: 300,
            withdrawal_delay: 86_400,
            fraud_proof_timeout: 604_800,
            force_inclusion_delay: 86_400,
            max_deposits_per_batch: 1000,
            assertion_bond_wei: "1000000000000000000".into(),
            challenge_bond_wei: "1000000000000000000".into(),
            clock_budget: 2 * 86_400,
            dissection_arity: verifier::bisection::DEFAULT_ARITY,
            burn_bps: verifier::bisection::DEFAULT_BURN_BPS,
            sequencer: None,
            sequencer_timeout: 2 * 86_400,
            guardian_signers: Vec::new(),
            guardian_threshold: 0,
            pause_expiry: MAX_GUARDIAN_DELAY,
            withdrawal_threshold: "100000000000000000000".into(),
            large_withdrawal_delay: 86_400,
            guardian_window: 86_400,
            block_time: 2.0,
            data_availability: crate::settlement::DataAvailability::Auto,
            enable_state_caching: true,
            enable_parallel_execution: true,
        }
    }
}

fn wei(key: &str, text: &str) -> Result<U256, ConfigError> {
    text.parse::<U256>()
        .map_err(|e| ConfigError::Invalid(format!("{key} = {text:?} is not a wei amount: {e}")))
}

impl RollupConfig {
    /// Parses TOML; keys left out take the defaults, unknown keys are refused.
    pub fn from_toml(text: &str) -> Result<RollupConfig, ConfigError> {
        let config: RollupConfig =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    pub fn load(path: &std::path::Path) -> Result<RollupConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_toml(&text)
    }

    /// The rules the contracts and the guest would refuse anyway, caught with their names.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |why: String| Err(ConfigError::Invalid(why));
        if !(0.05..=60.0).contains(&self.block_time) {
            return invalid(format!(
                "block_time = {} must be 0.05..=60 seconds",
                self.block_time
            ));
        }
        if self.max_transactions_per_batch == 0
            || self.max_transactions_per_batch > GUEST_MAX_TRANSACTIONS
        {
            return invalid(format!(
                "max_transactions_per_batch = {} must be 1..={GUEST_MAX_TRANSACTIONS} (the STF guest's limit)",
                self.max_transactions_per_batch
            ));
        }
        for (key, value) in [
            ("state_commitment_interval", self.state_commitment_interval),
            ("fraud_proof_timeout", self.fraud_proof_timeout),
            ("force_inclusion_delay", self.force_inclusion_delay),
            ("clock_budget", self.clock_budget),
            ("chain_id", self.chain_id),
        ] {
            if value == 0 {
                return invalid(format!("{key} must not be 0"));
            }
        }
        // The contracts' safety floors (`RollupConfigs.validate`), refused here by their keys.
        for (key, value) in [
            ("fraud_proof_timeout", self.fraud_proof_timeout),
            ("clock_budget", self.clock_budget),
        ] {
            if value < MIN_PERIOD {
                return invalid(format!(
                    "{key} = {value} is below {MIN_PERIOD} s (three L1 slots: a move sent in one block must have two more to be included before its deadline)"
                ));
            }
        }
        if self.clock_budget > u64::from(u32::MAX) {
            return invalid(format!(
                "clock_budget = {} is above 2^32 - 1 seconds",
                self.clock_budget
            ));
        }
        if self.burn_bps < MIN_BURN_BPS {
            return invalid(format!(
                "burn_bps = {} is below {MIN_BURN_BPS}: losing to oneself (an asserter challenging its own claim from another key) must cost something",
                self.burn_bps
            ));
        }
        if !(2..=verifier::bisection::MAX_ARITY).contains(&self.dissection_arity) {
            return invalid(format!(
                "dissection_arity = {} must be 2..={}",
                self.dissection_arity,
                verifier::bisection::MAX_ARITY
            ));
        }
        if self.burn_bps > 10_000 {
            return invalid(format!("burn_bps = {} is above 10000", self.burn_bps));
        }
        for (key, text) in [
            ("assertion_bond_wei", &self.assertion_bond_wei),
            ("challenge_bond_wei", &self.challenge_bond_wei),
        ] {
            if wei(key, text)?.is_zero() {
                return invalid(format!("{key} must not be 0"));
            }
        }
        self.sequencer_address()?;
        if self.sequencer_timeout == 0 {
            return invalid("sequencer_timeout must not be 0".into());
        }
        self.guardian()?;
        Ok(())
    }

    /// The guardian's part, checked as `RollupConfigs.validate` checks it (signers are sorted
    /// here, so the file may list them in any order).
    pub fn guardian(&self) -> Result<GuardianConfig, ConfigError> {
        let invalid = |why: String| Err(ConfigError::Invalid(why));
        let mut signers = Vec::with_capacity(self.guardian_signers.len());
        for text in &self.guardian_signers {
            let signer = text.parse::<Address>().map_err(|e| {
                ConfigError::Invalid(format!("guardian_signers: {text:?} is not an address: {e}"))
            })?;
            if signer.is_zero() {
                return invalid("guardian_signers: the zero address cannot sign".into());
            }
            signers.push(signer);
        }
        signers.sort();
        if signers.windows(2).any(|pair| pair[0] == pair[1]) {
            return invalid("guardian_signers: a signer is listed twice".into());
        }
        if signers.len() > MAX_GUARDIAN_SIGNERS {
            return invalid(format!(
                "guardian_signers: {} signers, at most {MAX_GUARDIAN_SIGNERS}",
                signers.len()
            ));
        }
        let threshold = usize::from(self.guardian_threshold);
        if threshold > signers.len() {
            return invalid(format!(
                "guardian_threshold = {threshold} is above the {} guardian_signers",
                signers.len()
            ));
        }
        if threshold == 0 && !signers.is_empty() {
            return invalid(
                "guardian_threshold = 0 with guardian_signers: set a threshold, or list no signers for no guardian".into(),
            );
        }
        for (key, value) in [
            ("pause_expiry", self.pause_expiry),
            ("large_withdrawal_delay", self.large_withdrawal_delay),
            ("guardian_window", self.guardian_window),
        ] {
            if value > MAX_GUARDIAN_DELAY {
                return invalid(format!(
                    "{key} = {value} is above 90 days ({MAX_GUARDIAN_DELAY} s): the guardian's power must be bounded"
                ));
            }
        }
        if threshold > 0 && self.pause_expiry == 0 {
            return invalid("pause_expiry must not be 0 with a guardian".into());
        }
        Ok(GuardianConfig {
            signers,
            threshold: self.guardian_threshold,
            pause_expiry: self.pause_expiry,
            withdrawal_threshold: wei("withdrawal_threshold", &self.withdrawal_threshold)?,
            large_withdrawal_delay: self.large_withdrawal_delay,
            window: self.guardian_window,
        })
    }

    /// The configured sequencer, if any.
    pub fn sequencer_address(&self) -> Result<Option<Address>, ConfigError> {
        self.sequencer
            .as_deref()
            .map(|text| {
                text.parse::<Address>().map_err(|e| {
                    ConfigError::Invalid(format!("sequencer = {text:?} is not an address: {e}"))
                })
            })
            .transpose()
    }

    /// The L1 part, for a rollup whose STF machine starts as `initial` from `genesis_state_root`.
    pub fn settlement(
        &self,
        sequencer: Address,
        genesis_state_root: B256,
        initial: &MachineOpening,
    ) -> Result<SettlementConfig, ConfigError> {
        let mut config = SettlementConfig::new(
            self.chain_id,
            self.sequencer_address()?.unwrap_or(sequencer),
            genesis_state_root,
            B256::from(initial.commitment()),
            B256::from(initial.module_hash()),
        );
        config.max_batch_bytes = program::ledger::Config::default().max_batch_bytes;
        config.max_deposits_per_batch = self.max_deposits_per_batch;
        config.force_inclusion_delay = self.force_inclusion_delay;
        config.challenge_period = self.fraud_proof_timeout;
        config.withdrawal_delay = self.withdrawal_delay;
        config.assertion_bond = wei("assertion_bond_wei", &self.assertion_bond_wei)?;
        config.challenge_bond = wei("challenge_bond_wei", &self.challenge_bond_wei)?;
        config.clock_budget = self.clock_budget;
        config.arity = self.dissection_arity;
        config.burn_bps = self.burn_bps;
        config.sequencer_timeout = self.sequencer_timeout;
        config.guardian = self.guardian()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_seeds() {
        let config = RollupConfig::from_toml("").unwrap();
        assert_eq!(config, RollupConfig::default());
        assert_eq!(
            (
                config.max_transactions_per_batch,
                config.state_commitment_interval,
                config.withdrawal_delay,
                config.fraud_proof_timeout
            ),
            (1000, 300, 86_400, 604_800)
        );
    }

    #[test]
    fn keys_override_and_bad_values_are_refused_by_name() {
        let config = RollupConfig::from_toml(
            "fraud_proof_timeout = 60\nassertion_bond_wei = \"5\"\nsequencer = \"0x00000000000000000000000000000000000000aa\"",
        )
        .unwrap();
        assert_eq!(config.fraud_proof_timeout, 60);
        assert_eq!(
            config.sequencer_address().unwrap(),
            Some(Address::with_last_byte(0xaa))
        );
        for (text, needle) in [
            (
                "max_transactions_per_batch = 1001",
                "max_transactions_per_batch",
            ),
            ("fraud_proof_timeout = 0", "fraud_proof_timeout"),
            ("dissection_arity = 1", "dissection_arity"),
            ("burn_bps = 10001", "burn_bps"),
            ("burn_bps = 999", "burn_bps = 999 is below 1000"),
            (
                "fraud_proof_timeout = 35",
                "fraud_proof_timeout = 35 is below 36",
            ),
            ("clock_budget = 35", "clock_budget = 35 is below 36"),
            (
                "clock_budget = 4294967296",
                "clock_budget = 4294967296 is above",
            ),
            ("assertion_bond_wei = \"ten\"", "assertion_bond_wei"),
            ("sequencer = \"0x12\"", "sequencer"),
            ("max_transaction_per_batch = 5", "unknown field"),
            ("sequencer_timeout = 0", "sequencer_timeout"),
            ("guardian_threshold = 1", "guardian_threshold = 1 is above the 0"),
            (
                "guardian_signers = [\"0x00000000000000000000000000000000000000aa\"]",
                "guardian_threshold = 0 with guardian_signers",
            ),
            (
                "guardian_threshold = 1\nguardian_signers = [\"0x00000000000000000000000000000000000000aa\", \"0x00000000000000000000000000000000000000AA\"]",
                "listed twice",
            ),
            ("pause_expiry = 7776001", "pause_expiry = 7776001 is above 90 days"),
            ("guardian_window = 9999999", "guardian_window"),
            ("withdrawal_threshold = \"-1\"", "withdrawal_threshold"),
            ("fraud_proof_timeout = \"soon\"", "fraud_proof_timeout"),
        ] {
            let error = RollupConfig::from_toml(text).unwrap_err().to_string();
            assert!(error.contains(needle), "{text}: {error}");
        }
    }
}
