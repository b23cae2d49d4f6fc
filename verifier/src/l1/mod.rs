//! The one interface the rollup's actors use to reach L1: deploy, send, call, read logs, read the
//! clock. Two backends implement it: [`embedded::EmbeddedL1`], an in-process chain on revm (the
//! default, so the demo and fast tests need nothing else), and [`rpc::RpcL1`], a JSON-RPC client
//! for a real node (anvil in the end-to-end tests, or any Ethereum chain).
//!
//! Contract refusals are not errors of the interface: a transaction that reverts is mined, pays
//! its gas and comes back as a [`TxReceipt`] whose `outcome` holds the decoded revert. [`L1Error`]
//! is for the chain itself failing (unreachable node, a transaction the chain does not accept).
//! One difference between the backends: on a JSON-RPC chain a call whose gas estimation reverts
//! is not sent at all, so its refusal costs nothing and has no transaction hash (see [`rpc`]).

pub mod beacon;
pub mod embedded;
pub mod journal;
pub mod rpc;

pub use alloy_primitives::{Address, Bytes, B256, U256};
use k256::ecdsa::SigningKey;

/// An L1 account that can sign: its key and its address.
#[derive(Clone)]
pub struct Wallet {
    key: SigningKey,
    address: Address,
}

impl Wallet {
    pub fn new(key: SigningKey) -> Wallet {
        let address = Address::from(program::address_of(&key));
        Wallet { key, address }
    }

    /// The wallet of a 32-byte secret key; `None` if it is not a valid secp256k1 scalar.
    pub fn from_secret(secret: &[u8; 32]) -> Option<Wallet> {
        SigningKey::from_slice(secret).ok().map(Wallet::new)
    }

    pub fn address(&self) -> Address {
        self.address
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        write!(f, "Wallet({})", self.address)
    }
}

/// An event a contract emitted, with where it was mined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Bytes,
    pub block: u64,
    pub tx_hash: B256,
}

/// A contract's refusal: the custom error rendered as `Name(args)`, and the raw revert data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revert {
    pub error: String,
    pub raw: Bytes,
}

impl std::fmt::Display for Revert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

/// A mined transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxReceipt {
    pub hash: B256,
    pub block: u64,
    /// Gas used, as the receipt shows it (refunds and the EIP-7623 floor applied).
    pub gas_used: u64,
    pub logs: Vec<Log>,
    /// The call's return data, or its revert.
    pub outcome: Result<Bytes, Revert>,
}

impl TxReceipt {
    /// The return data, or the revert as an error.
    pub fn success(self) -> Result<TxReceipt, L1Error> {
        match &self.outcome {
            Ok(_) => Ok(self),
            Err(revert) => Err(L1Error::Reverted(revert.clone())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    #[error("the L1 node failed: {0}")]
    Node(String),
    #[error("L1 refused the transaction: {0}")]
    Rejected(String),
    #[error("the contract reverted: {0}")]
    Reverted(Revert),
    #[error("{0} is only available on a development chain")]
    DevOnly(&'static str),
    #[error("contract artifact {name}: {reason}")]
    Artifact { name: String, reason: String },
    #[error("unexpected return data from {0}")]
    BadReturn(&'static str),
    #[error("no transaction {0}")]
    UnknownTransaction(B256),
}

/// What the rollup needs from an L1 chain.
pub trait L1 {
    fn chain_id(&self) -> u64;

    /// The latest block's number and timestamp (seconds).
    fn head(&mut self) -> Result<(u64, u64), L1Error>;

    fn balance(&mut self, who: Address) -> Result<U256, L1Error>;

    /// Deploys `init_code` (constructor arguments appended) from `from`; the new address.
    fn deploy(&mut self, from: &Wallet, init_code: Vec<u8>) -> Result<Address, L1Error>;

    /// Sends a transaction and waits for it to be mined. A revert is a receipt, not an error.
    fn send(
        &mut self,
        from: &Wallet,
        to: Address,
        value: U256,
        data: Vec<u8>,
    ) -> Result<TxReceipt, L1Error>;

    /// A read-only call against the latest state: the return data or the revert.
    fn call(&mut self, to: Address, data: Vec<u8>) -> Result<Result<Bytes, Revert>, L1Error>;

    /// Logs `address` emitted in blocks `from_block..=to_block`, in chain order.
    fn logs(
        &mut self,
        address: Address,
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<Log>, L1Error>;

    /// The calldata of a mined transaction (batches are read back from it).
    fn transaction_input(&mut self, hash: B256) -> Result<Bytes, L1Error>;

    /// The wei the sender of mined transaction `hash` paid for it: gas used × effective gas price
    /// (0 on the embedded chain, whose gas price is 0). A call refused at gas estimation on a
    /// JSON-RPC chain is never sent and paid nothing: its receipt's hash is `B256::ZERO`, and
    /// `fee(B256::ZERO)` is 0 there.
    fn fee(&mut self, hash: B256) -> Result<U256, L1Error>;

    /// Development chains only: moves the clock forward and mines a block.
    fn advance_time(&mut self, seconds: u64) -> Result<(), L1Error>;

    /// Development chains only: sets an account's balance.
    fn set_balance(&mut self, who: Address, wei: U256) -> Result<(), L1Error>;

    /// Sends a blob transaction (EIP-4844, type 3) calling `to` with `data` and carrying `blobs`
    /// (each `ledger::blob::BYTES_PER_BLOB` long; the call reads their versioned hashes with
    /// `BLOBHASH`), and waits for it to be mined. A revert is a receipt, not an error.
    fn send_blobs(
        &mut self,
        _from: &Wallet,
        _to: Address,
        _data: Vec<u8>,
        _blobs: Vec<Vec<u8>>,
    ) -> Result<TxReceipt, L1Error> {
        Err(L1Error::Rejected(
            "this L1 backend does not send blob transactions".into(),
        ))
    }

    /// The blobs mined transaction `hash` carried, in order, as the chain serves them. Callers
    /// check them against the versioned hashes L1 logged (`crate::blobs::check_blobs`).
    fn blobs(&mut self, hash: B256) -> Result<Vec<Vec<u8>>, L1Error> {
        Err(L1Error::Node(format!(
            "this L1 backend serves no blobs (transaction {hash})"
        )))
    }

    /// The next block's base fee and blob base fee, in wei: what posting in calldata or in blobs
    /// costs now.
    fn fees(&mut self) -> Result<Fees, L1Error> {
        Ok(Fees::default())
    }
}

/// What gas and blob gas cost in the next block, in wei.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fees {
    pub base_fee: u128,
    pub blob_base_fee: u128,
}
