//! The EVM STF on the host: building states, running batches natively (the reference both VM
//! engines must agree with, and what the node serves blocks and receipts from), and reading the
//! state back out of the node store.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, U256};
use evm_stf::state::{account_key, load_code, slot_key, AccountLeaf, SlotValue};
use evm_stf::{EvmExecution, GenesisAccount};
use ledger::trie::{fetch_trie_node, BinaryTrie, LeafValue, TrieNode};
use ledger::{Config, Hash, EMPTY_ROOT};

use crate::native::NativeAbi;
use crate::store::NodeStore;

pub use evm_stf;

/// Why a state could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum EvmStateError {
    #[error(transparent)]
    State(#[from] evm_stf::StateError),
    #[error("state node: {0}")]
    Trie(#[from] ledger::Error),
    #[error("trie key {0} has no recorded preimage: the state holds an account or slot the host never saw hashed")]
    UnknownKey(B256),
    #[error("the code of {0} is missing from the store")]
    MissingCode(Address),
}

/// A state built from `accounts` and the store holding its nodes.
pub fn build_evm_state(accounts: &[GenesisAccount]) -> Result<(Hash, NodeStore), EvmStateError> {
    let mut abi = NativeAbi::new(Vec::new(), NodeStore::new());
    let root = evm_stf::build_state(&mut abi, accounts)?;
    Ok((root, abi.store))
}

/// The rollup's genesis state (system accounts included) at `timestamp`, its head block and the
/// store holding it.
pub fn evm_genesis(
    accounts: &[GenesisAccount],
    timestamp: u64,
    withdrawals_code: &[u8],
) -> Result<(Hash, evm_stf::block::Head, NodeStore), EvmStateError> {
    let mut abi = NativeAbi::new(Vec::new(), NodeStore::new());
    let (root, head) = evm_stf::rollup_genesis(&mut abi, timestamp, accounts, withdrawals_code)?;
    Ok((root, head, abi.store))
}

/// Everything a native EVM batch produced.
#[derive(Clone, Debug)]
pub struct EvmNativeRun {
    pub execution: EvmExecution,
    /// The input store plus every node the batch emitted.
    pub store: NodeStore,
}

/// Runs the EVM STF natively on the inbox message `message` against `store`, with each block's
/// state root (the outputs are the guest's: the roots cost hashing, not a different result).
pub fn run_evm_native(message: Vec<u8>, store: NodeStore, config: &Config) -> EvmNativeRun {
    run_evm_native_abi(NativeAbi::new(message, store), config)
}

/// [`run_evm_native`] on a prepared host (signature cache, key recording).
pub fn run_evm_native_abi(mut abi: NativeAbi, config: &Config) -> EvmNativeRun {
    let execution =
        evm_stf::batch::execute_with(&mut abi, config, evm_stf::batch::BlockRoots::EveryBlock);
    EvmNativeRun {
        execution,
        store: abi.store,
    }
}

/// Reads accounts, slots and code of the state under `root` from `store`.
pub struct EvmStateReader<'a> {
    abi: NativeAbi,
    root: Hash,
    store: &'a NodeStore,
}

impl<'a> EvmStateReader<'a> {
    pub fn new(store: &'a NodeStore, root: Hash) -> Self {
        // The reader's own ABI serves preimages from a clone that shares the store's base.
        Self {
            abi: NativeAbi::new(Vec::new(), store.clone()),
            root,
            store,
        }
    }

    /// The account's leaf, `None` if it does not exist.
    pub fn account(&mut self, address: &Address) -> Result<Option<AccountLeaf>, EvmStateError> {
        let key = account_key(&mut self.abi, address);
        Ok(BinaryTrie::<AccountLeaf>::new(self.root).get(&mut self.abi, &key)?)
    }

    /// A storage slot (zero if unset or the account does not exist).
    pub fn storage(&mut self, address: &Address, slot: U256) -> Result<U256, EvmStateError> {
        let Some(leaf) = self.account(address)? else {
            return Ok(U256::ZERO);
        };
        let key = slot_key(&mut self.abi, &slot);
        let value = BinaryTrie::<SlotValue>::new(leaf.storage_root).get(&mut self.abi, &key)?;
        Ok(value.map(|value| value.0).unwrap_or_default())
    }

    /// The account's code (empty if none or the account does not exist).
    pub fn code(&mut self, address: &Address) -> Result<Vec<u8>, EvmStateError> {
        let Some(leaf) = self.account(address)? else {
            return Ok(Vec::new());
        };
        load_code(&mut self.abi, &leaf.code_root).ok_or(EvmStateError::MissingCode(*address))
    }

    /// Every account with its storage, the addresses and slots found through `preimages` (the
    /// keys' keccak preimages a recording [`NativeAbi`] collected).
    pub fn dump(
        &mut self,
        preimages: &BTreeMap<Hash, Vec<u8>>,
    ) -> Result<BTreeMap<Address, DumpedAccount>, EvmStateError> {
        let mut accounts = BTreeMap::new();
        for (key, leaf) in leaves::<AccountLeaf>(&mut self.abi, self.root)? {
            let address = preimages
                .get(&key)
                .filter(|bytes| bytes.len() == 20)
                .map(|bytes| Address::from_slice(bytes))
                .ok_or(EvmStateError::UnknownKey(B256::from(key)))?;
            let mut storage = BTreeMap::new();
            for (key, value) in leaves::<SlotValue>(&mut self.abi, leaf.storage_root)? {
                let slot = preimages
                    .get(&key)
                    .filter(|bytes| bytes.len() == 32)
                    .map(|bytes| U256::from_be_slice(bytes))
                    .ok_or(EvmStateError::UnknownKey(B256::from(key)))?;
                storage.insert(slot, value.0);
            }
            let code = load_code(&mut self.abi, &leaf.code_root)
                .ok_or(EvmStateError::MissingCode(address))?;
            accounts.insert(
                address,
                DumpedAccount {
                    leaf,
                    code,
                    storage,
                },
            );
        }
        Ok(accounts)
    }

    /// The store read from.
    pub fn store(&self) -> &NodeStore {
        self.store
    }
}

/// One account of a [`EvmStateReader::dump`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpedAccount {
    pub leaf: AccountLeaf,
    pub code: Vec<u8>,
    pub storage: BTreeMap<U256, U256>,
}

/// Every (key, value) of the trie under `root`.
fn leaves<V: LeafValue>(abi: &mut NativeAbi, root: Hash) -> Result<Vec<(Hash, V)>, ledger::Error> {
    let mut found = Vec::new();
    let mut pending = vec![root];
    while let Some(hash) = pending.pop() {
        if hash == EMPTY_ROOT {
            continue;
        }
        match fetch_trie_node::<NativeAbi, V>(abi, &hash)? {
            TrieNode::Empty => {}
            TrieNode::Leaf { key, value } => found.push((key, value)),
            TrieNode::Branch { left, right } => pending.extend([right, left]),
        }
    }
    Ok(found)
}

/// What a read-only call returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// The return data.
    Returned(Vec<u8>),
    /// The revert data.
    Reverted(Vec<u8>),
    /// Halted (out of gas, invalid opcode, ...) or refused before running.
    Failed(String),
}

/// `eth_call` on the state under `root`: `from` calls `to` with `data` at gas price zero, in a
/// block after `head`, and nothing is kept.
pub fn call(
    store: &NodeStore,
    root: Hash,
    chain_id: u64,
    head: &evm_stf::block::Head,
    from: Address,
    to: Address,
    data: Vec<u8>,
) -> Result<CallOutcome, EvmStateError> {
    use evm_stf::execution::{simulate, BlockContext, TxRun};
    use evm_stf::state::{BlockHashes, StateDb};
    use revm::context::result::ExecutionResult;
    use revm::context::{BlockEnv, TxEnv};

    let mut abi = NativeAbi::new(Vec::new(), store.clone());
    let mut db = StateDb::new(&mut abi, root, evm_stf::L2_SPEC, BlockHashes::History);
    let block = BlockContext {
        env: BlockEnv {
            number: U256::from(head.number + 1),
            timestamp: U256::from(head.timestamp),
            gas_limit: evm_stf::block::BLOCK_GAS_LIMIT,
            // A call pays nothing, as geth's eth_call with no gas price.
            basefee: 0,
            prevrandao: Some(head.hash),
            blob_excess_gas_and_price: BlockContext::blob_pricing(0, evm_stf::L2_SPEC),
            ..BlockEnv::default()
        },
        spec: evm_stf::L2_SPEC,
        chain_id,
    };
    let tx = TxEnv {
        caller: from,
        kind: revm::primitives::TxKind::Call(to),
        data: data.into(),
        // EIP-7825's cap on one transaction's gas (Osaka).
        gas_limit: 1 << 24,
        gas_price: 0,
        chain_id: Some(chain_id),
        tx_type: 2,
        gas_priority_fee: Some(0),
        ..TxEnv::default()
    };
    Ok(match simulate(&mut db, &block, tx)? {
        TxRun::Executed(ExecutionResult::Success { output, .. }) => {
            CallOutcome::Returned(output.into_data().to_vec())
        }
        TxRun::Executed(ExecutionResult::Revert { output, .. }) => {
            CallOutcome::Reverted(output.to_vec())
        }
        TxRun::Executed(ExecutionResult::Halt { reason, .. }) => {
            CallOutcome::Failed(format!("halted: {reason:?}"))
        }
        TxRun::Invalid(detail) => CallOutcome::Failed(format!("refused: {detail:?}")),
    })
}
