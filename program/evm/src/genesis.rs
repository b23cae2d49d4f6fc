//! Building a state from a list of accounts: the rollup's genesis (with its system accounts) and
//! the pre-states of Ethereum's state tests. Run natively by the host; the nodes it emits are the
//! preimages the guest later loads.

use alloc::vec::Vec;

use alloy_primitives::{Address, B256, U256};
use ledger::trie::BinaryTrie;
use ledger::{Abi, Hash, EMPTY_ROOT};

use crate::block::{BlockHeader, Head, BLOCK_GAS_LIMIT, GENESIS_BASE_FEE, HISTORY_LEN};
use crate::state::{account_key, slot_key, store_code, AccountLeaf, SlotValue, StateError};
use crate::system::{BLOCK_HISTORY, WITHDRAWALS};

/// One account of a state to build.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenesisAccount {
    pub address: Address,
    pub nonce: u64,
    pub balance: U256,
    pub code: Vec<u8>,
    /// Slots with a zero value are left out.
    pub storage: Vec<(U256, U256)>,
}

/// Builds the state holding exactly `accounts` (later duplicates win), emitting every node, and
/// returns its root. `Err` for a code longer than the state layout holds.
pub fn build_state<A: Abi + ?Sized>(
    abi: &mut A,
    accounts: &[GenesisAccount],
) -> Result<Hash, StateError> {
    let mut world = BinaryTrie::<AccountLeaf>::new(EMPTY_ROOT);
    for account in accounts {
        let mut storage = BinaryTrie::<SlotValue>::new(EMPTY_ROOT);
        for (slot, value) in &account.storage {
            if !value.is_zero() {
                let key = slot_key(abi, slot);
                storage.insert(abi, &key, SlotValue(*value))?;
            }
        }
        let code_hash = alloy_primitives::keccak256(&account.code);
        let code_root = store_code(abi, &account.code).ok_or(StateError::Code(code_hash))?;
        let leaf = AccountLeaf {
            nonce: account.nonce,
            balance: account.balance,
            code_hash,
            code_root,
            storage_root: storage.commit(abi),
        };
        let key = account_key(abi, &account.address);
        world.insert(abi, &key, leaf)?;
    }
    Ok(world.commit(abi))
}

/// The rollup's genesis: `accounts`, the withdrawal contract with `withdrawals_code`, and the
/// block-history account holding block 0 at `timestamp`.
pub fn rollup_genesis<A: Abi + ?Sized>(
    abi: &mut A,
    timestamp: u64,
    accounts: &[GenesisAccount],
    withdrawals_code: &[u8],
) -> Result<(Hash, Head), StateError> {
    let header = BlockHeader {
        parent_hash: B256::ZERO,
        number: 0,
        timestamp,
        fee_recipient: Address::ZERO,
        gas_limit: BLOCK_GAS_LIMIT,
        // At the target, so that block 1's base fee is the genesis base fee.
        gas_used: BLOCK_GAS_LIMIT / 2,
        base_fee: GENESIS_BASE_FEE,
        receipts_hash: B256::ZERO,
    };
    let head = Head {
        number: 0,
        timestamp,
        hash: header.hash(abi),
        base_fee: header.base_fee,
        gas_used: header.gas_used,
    };
    let history = GenesisAccount {
        address: BLOCK_HISTORY,
        nonce: 1,
        storage: alloc::vec![
            (U256::from(0u64), U256::from_be_bytes(head.hash.0)),
            (U256::from(HISTORY_LEN), U256::from(head.number)),
            (U256::from(HISTORY_LEN + 1), U256::from(head.timestamp)),
            (U256::from(HISTORY_LEN + 2), U256::from(head.base_fee)),
            (U256::from(HISTORY_LEN + 3), U256::from(head.gas_used)),
        ],
        ..GenesisAccount::default()
    };
    let withdrawals = GenesisAccount {
        address: WITHDRAWALS,
        nonce: 1,
        code: withdrawals_code.to_vec(),
        ..GenesisAccount::default()
    };
    let mut all = Vec::with_capacity(accounts.len() + 2);
    all.extend_from_slice(accounts);
    all.push(history);
    all.push(withdrawals);
    Ok((build_state(abi, &all)?, head))
}
