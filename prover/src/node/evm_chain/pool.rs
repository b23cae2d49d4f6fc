//! The pending pool: what `eth_sendRawTransaction` admits, checked against the latest state the
//! way geth's txpool checks it and refused with geth's words (wallets and tools parse them), and
//! what the next block takes.
//!
//! # Order
//!
//! First come, first served: each sender's transactions in nonce order, and among senders the
//! one whose next transaction arrived first goes first. The tip buys no place (as in Arbitrum's
//! sequencer): the base fee prices block space, arrival orders it, and the order cannot be bid
//! for. A transaction whose nonce is ahead of its sender's next waits (a gap) until the ones
//! before it arrive; one whose fee cap is under the block's base fee waits for the base fee to
//! fall.
//!
//! # Bounds
//!
//! [`PoolLimits`]: how far ahead of its next nonce a sender's transaction may be (which bounds
//! how many it has waiting) and transactions in all; a full pool refuses with `txpool is full` rather than evict. A same-nonce transaction
//! replaces a waiting one only with both fees raised by [`REPLACEMENT_BUMP_PERCENT`] (geth's rule).

use std::collections::{BTreeMap, HashMap};

use alloy::consensus::{Transaction as _, TxEnvelope};
use alloy::primitives::{Address, B256, U256};
use program::evm::evm_stf::block::BLOCK_GAS_LIMIT;
use program::evm::evm_stf::transaction::{decode, DecodedTransaction, Undecodable};
use program::evm::evm_stf::L2_SPEC;
use program::NativeAbi;
use revm::interpreter::gas::calculate_initial_tx_gas_for_tx;
use revm::primitives::{eip3860, eip7825};

/// geth's largest pooled transaction (4 slots of 32 KiB).
pub const MAX_TRANSACTION_BYTES: usize = 128 * 1024;
/// A replacement must raise both the fee cap and the tip by this much (geth's `PriceBump`).
pub const REPLACEMENT_BUMP_PERCENT: u128 = 10;

/// How much the pool holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolLimits {
    /// Transactions one sender may have waiting; also how far past its next nonce one may be.
    pub per_sender: usize,
    /// Transactions waiting in all.
    pub total: usize,
}

impl Default for PoolLimits {
    fn default() -> Self {
        // geth's account queue and global slots, roughly.
        Self {
            per_sender: 64,
            total: 4096,
        }
    }
}

/// Why the pool refused a transaction: geth's words, which tools match on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("oversized data: transaction size {size}, limit {limit}")]
    Oversized { size: usize, limit: usize },
    /// Not an EIP-2718 transaction, or trailing bytes.
    #[error("rlp: transaction could not be decoded")]
    Malformed,
    /// Blob transactions: an L2 has no blobs to carry.
    #[error("transaction type not supported")]
    TypeNotSupported,
    /// No key recovers from the signature (or its `s` is high).
    #[error("invalid sender")]
    InvalidSender,
    #[error("invalid chain id for signer: have {have} want {want}")]
    InvalidChainId { have: u64, want: u64 },
    #[error("max initcode size exceeded: code size {size}, limit {limit}")]
    InitCodeTooLarge { size: usize, limit: usize },
    #[error("exceeds block gas limit")]
    ExceedsBlockGasLimit,
    #[error("transaction gas limit too high (cap: {cap}, tx: {gas})")]
    GasLimitTooHigh { gas: u64, cap: u64 },
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    #[error("intrinsic gas too low: gas {gas}, minimum needed {needed}")]
    IntrinsicGas { gas: u64, needed: u64 },
    #[error("insufficient gas for floor data gas cost: gas {gas}, minimum needed {needed}")]
    FloorDataGas { gas: u64, needed: u64 },
    #[error("max fee per gas less than block base fee: address {sender}, maxFeePerGas: {max_fee}, baseFee: {base_fee}")]
    FeeCapTooLow {
        sender: Address,
        max_fee: u128,
        base_fee: u64,
    },
    #[error("already known")]
    AlreadyKnown,
    #[error("nonce too low: next nonce {next}, tx nonce {tx}")]
    NonceTooLow { next: u64, tx: u64 },
    /// Further ahead of the sender's next nonce than the pool keeps for one sender
    /// ([`PoolLimits::per_sender`]).
    #[error("nonce too high: next nonce {next}, tx nonce {tx}")]
    NonceTooHigh { next: u64, tx: u64 },
    /// The balance does not cover this transaction's cost plus the sender's waiting ones'.
    #[error("insufficient funds for gas * price + value: have {have} want {want}")]
    InsufficientFunds { have: U256, want: U256 },
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    #[error("txpool is full")]
    PoolFull,
    /// The latest state could not be read (a node missing from the store).
    #[error("state: {0}")]
    State(String),
}

/// A sender's account in the latest state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SenderAccount {
    pub nonce: u64,
    pub balance: U256,
}

/// A waiting transaction.
#[derive(Clone, Debug)]
pub struct PooledTx {
    pub hash: B256,
    pub raw: Vec<u8>,
    pub envelope: TxEnvelope,
    pub sender: Address,
    pub nonce: u64,
    pub gas_limit: u64,
    /// The fee cap (a legacy transaction's gas price).
    pub max_fee: u128,
    /// The priority fee cap (a legacy transaction's gas price).
    pub tip: u128,
    /// gas limit × fee cap + value: what the sender must hold.
    pub cost: U256,
    /// Arrival order: the ordering key among senders.
    arrival: u64,
}

/// What the chain admits against: its id and the next block's base fee.
#[derive(Clone, Copy, Debug)]
pub struct Admission {
    pub chain_id: u64,
    pub base_fee: u64,
}

/// The pending pool (module docs).
#[derive(Debug, Default)]
pub struct TxPool {
    limits: PoolLimits,
    senders: BTreeMap<Address, BTreeMap<u64, PooledTx>>,
    by_hash: HashMap<B256, (Address, u64)>,
    arrivals: u64,
}

impl TxPool {
    pub fn new(limits: PoolLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    pub fn contains(&self, hash: &B256) -> bool {
        self.by_hash.contains_key(hash)
    }

    pub fn get(&self, hash: &B256) -> Option<&PooledTx> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.senders.get(sender)?.get(nonce)
    }

    /// The senders with waiting transactions.
    pub fn senders(&self) -> impl Iterator<Item = &Address> {
        self.senders.keys()
    }

    /// The nonce after `sender`'s run of waiting transactions from `state_nonce` on (gaps end
    /// the run): what `eth_getTransactionCount(.., "pending")` answers.
    pub fn pending_nonce(&self, sender: &Address, state_nonce: u64) -> u64 {
        let mut next = state_nonce;
        if let Some(waiting) = self.senders.get(sender) {
            while waiting.contains_key(&next) {
                next += 1;
            }
        }
        next
    }

    /// Checks `raw` (geth's order of checks) and admits it; its hash. `account` reads the
    /// sender's account in the latest state.
    pub fn submit(
        &mut self,
        raw: &[u8],
        admission: Admission,
        account: impl FnOnce(&Address) -> Result<SenderAccount, String>,
    ) -> Result<B256, SubmitError> {
        if raw.len() > MAX_TRANSACTION_BYTES {
            return Err(SubmitError::Oversized {
                size: raw.len(),
                limit: MAX_TRANSACTION_BYTES,
            });
        }
        let tx = recover(raw)?;
        if self.by_hash.contains_key(&tx.hash) {
            return Err(SubmitError::AlreadyKnown);
        }
        let pooled = check_stateless(&tx, raw, admission)?;
        let state = account(&pooled.sender).map_err(SubmitError::State)?;
        self.check_against(&pooled, state)?;
        self.insert(pooled)
    }

    /// Nonce, funds and room, with the sender's waiting transactions counted.
    fn check_against(&self, tx: &PooledTx, state: SenderAccount) -> Result<(), SubmitError> {
        if tx.nonce < state.nonce {
            return Err(SubmitError::NonceTooLow {
                next: state.nonce,
                tx: tx.nonce,
            });
        }
        if tx.nonce - state.nonce >= self.limits.per_sender as u64 {
            return Err(SubmitError::NonceTooHigh {
                next: state.nonce,
                tx: tx.nonce,
            });
        }
        let waiting = self.senders.get(&tx.sender);
        // What the sender's other waiting transactions may spend (a replaced one is not counted).
        let committed = waiting
            .into_iter()
            .flat_map(|waiting| waiting.values())
            .filter(|other| other.nonce != tx.nonce)
            .fold(U256::ZERO, |sum, other| sum.saturating_add(other.cost));
        let want = committed.saturating_add(tx.cost);
        if state.balance < want {
            return Err(SubmitError::InsufficientFunds {
                have: state.balance,
                want,
            });
        }
        Ok(())
    }

    fn insert(&mut self, mut tx: PooledTx) -> Result<B256, SubmitError> {
        let waiting = self.senders.get(&tx.sender);
        match waiting.and_then(|waiting| waiting.get(&tx.nonce)) {
            Some(old) => {
                let bumped = |old: u128| old.saturating_mul(100 + REPLACEMENT_BUMP_PERCENT) / 100;
                if tx.max_fee < bumped(old.max_fee) || tx.tip < bumped(old.tip) {
                    return Err(SubmitError::ReplacementUnderpriced);
                }
                // The replacement keeps its predecessor's place in line.
                tx.arrival = old.arrival;
                self.by_hash.remove(&old.hash);
            }
            None => {
                // A sender's nonces lie in a window of `per_sender` (checked before): that bounds
                // its count too.
                if self.by_hash.len() >= self.limits.total {
                    return Err(SubmitError::PoolFull);
                }
                tx.arrival = self.arrivals;
                self.arrivals += 1;
            }
        }
        let hash = tx.hash;
        self.by_hash.insert(hash, (tx.sender, tx.nonce));
        self.senders
            .entry(tx.sender)
            .or_default()
            .insert(tx.nonce, tx);
        Ok(hash)
    }

    /// Takes `hash` out of the pool.
    pub fn remove(&mut self, hash: &B256) -> Option<PooledTx> {
        let (sender, nonce) = self.by_hash.remove(hash)?;
        let waiting = self.senders.get_mut(&sender)?;
        let tx = waiting.remove(&nonce);
        if waiting.is_empty() {
            self.senders.remove(&sender);
        }
        tx
    }

    /// Drops `sender`'s transactions below `state_nonce` (mined, or their nonce taken by a forced
    /// transaction); their hashes.
    pub fn prune(&mut self, sender: &Address, state_nonce: u64) -> Vec<B256> {
        let stale: Vec<B256> = self
            .senders
            .get(sender)
            .into_iter()
            .flat_map(|waiting| waiting.range(..state_nonce))
            .map(|(_, tx)| tx.hash)
            .collect();
        for hash in &stale {
            self.remove(hash);
        }
        stale
    }

    /// The transactions for the next block, in order (module docs): per sender the run from its
    /// state nonce (`nonces`; senders missing from it have none ready), each with a fee cap of at
    /// least `base_fee`, taken while `fits` accepts them (it sees each candidate once; a sender
    /// whose candidate does not fit is done for this block).
    pub fn select(
        &self,
        nonces: &BTreeMap<Address, u64>,
        base_fee: u64,
        mut fits: impl FnMut(&PooledTx) -> bool,
    ) -> Vec<&PooledTx> {
        // The next candidate of each sender, keyed by its arrival.
        let mut heads: BTreeMap<u64, &PooledTx> = BTreeMap::new();
        let ready = |sender: &Address, nonce: u64| {
            self.senders
                .get(sender)
                .and_then(|waiting| waiting.get(&nonce))
                .filter(|tx| tx.max_fee >= u128::from(base_fee))
        };
        for (sender, nonce) in nonces {
            if let Some(tx) = ready(sender, *nonce) {
                heads.insert(tx.arrival, tx);
            }
        }
        let mut chosen = Vec::new();
        while let Some((_, tx)) = heads.pop_first() {
            if !fits(tx) {
                continue;
            }
            chosen.push(tx);
            if let Some(next) = tx.nonce.checked_add(1).and_then(|n| ready(&tx.sender, n)) {
                heads.insert(next.arrival, next);
            }
        }
        chosen
    }
}

/// Decodes and recovers as the STF does (same acceptance: EIP-2 low `s`, no blobs).
fn recover(raw: &[u8]) -> Result<DecodedTransaction, SubmitError> {
    decode(&mut NativeAbi::default(), raw, false).map_err(|undecodable| match undecodable {
        Undecodable::Malformed => SubmitError::Malformed,
        Undecodable::BlobTransaction => SubmitError::TypeNotSupported,
        Undecodable::BadSignature => SubmitError::InvalidSender,
    })
}

/// The checks that need no state, in geth's order.
fn check_stateless(
    tx: &DecodedTransaction,
    raw: &[u8],
    admission: Admission,
) -> Result<PooledTx, SubmitError> {
    let envelope = &tx.envelope;
    if envelope.is_create() && envelope.input().len() > eip3860::MAX_INITCODE_SIZE {
        return Err(SubmitError::InitCodeTooLarge {
            size: envelope.input().len(),
            limit: eip3860::MAX_INITCODE_SIZE,
        });
    }
    let gas = envelope.gas_limit();
    if gas > BLOCK_GAS_LIMIT {
        return Err(SubmitError::ExceedsBlockGasLimit);
    }
    if gas > eip7825::TX_GAS_LIMIT_CAP {
        return Err(SubmitError::GasLimitTooHigh {
            gas,
            cap: eip7825::TX_GAS_LIMIT_CAP,
        });
    }
    let max_fee = envelope.max_fee_per_gas();
    let tip = envelope.max_priority_fee_per_gas().unwrap_or(max_fee);
    if tip > max_fee {
        return Err(SubmitError::TipAboveFeeCap);
    }
    if let Some(have) = envelope.chain_id() {
        if have != admission.chain_id {
            return Err(SubmitError::InvalidChainId {
                have,
                want: admission.chain_id,
            });
        }
    }
    let initial =
        calculate_initial_tx_gas_for_tx(tx.tx_env(&mut NativeAbi::default()), L2_SPEC, None);
    let needed = initial.initial_total_gas();
    if gas < needed {
        return Err(SubmitError::IntrinsicGas { gas, needed });
    }
    if gas < initial.floor_gas() {
        return Err(SubmitError::FloorDataGas {
            gas,
            needed: initial.floor_gas(),
        });
    }
    if max_fee < u128::from(admission.base_fee) {
        return Err(SubmitError::FeeCapTooLow {
            sender: tx.sender,
            max_fee,
            base_fee: admission.base_fee,
        });
    }
    let cost = U256::from(gas)
        .saturating_mul(U256::from(max_fee))
        .saturating_add(envelope.value());
    Ok(PooledTx {
        hash: tx.hash,
        raw: raw.to_vec(),
        envelope: envelope.clone(),
        sender: tx.sender,
        nonce: envelope.nonce(),
        gas_limit: gas,
        max_fee,
        tip,
        cost,
        arrival: 0,
    })
}
