//! Deterministic EVM batches for the CLI, the benches and the dispute tests: `n` EIP-1559
//! transactions in one L2 block, either plain ETH transfers or ERC-20 `transfer`s of a token that
//! genesis already holds (code and balances), from keys derived from a seed.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, Signature, TxKind, U256};
use evm_stf::{encode_message, BlockList, GenesisAccount, L2Block};
use ledger::{BatchHeader, Hash};

use crate::builder::derive_keys;
use crate::crypto::{address_of, keccak256, sign_prehash};
use crate::evm::{evm_genesis, EvmStateError};
use crate::store::NodeStore;

/// The chain id of the generated batches.
pub const WORKLOAD_CHAIN_ID: u64 = 901;
/// Where genesis puts the workload's ERC-20.
pub const WORKLOAD_TOKEN: Address = Address::new([0x70; 20]);
/// Genesis time of the generated chains.
pub const WORKLOAD_GENESIS_TIME: u64 = 1_700_000_000;
/// `DemoToken`'s storage slot of `balanceOf` (after `name`, `symbol`, `totalSupply`).
const BALANCE_OF_SLOT: u8 = 3;
const TOTAL_SUPPLY_SLOT: u8 = 2;

/// What the generated block's transactions do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvmWorkloadKind {
    /// Plain ETH transfers (21,000 gas each).
    EthTransfers,
    /// ERC-20 `transfer(to, 1)` calls to [`WORKLOAD_TOKEN`].
    Erc20Transfers,
}

/// A generated batch and the genesis it runs on.
#[derive(Clone, Debug)]
pub struct EvmWorkload {
    /// Batch 1's inbox message.
    pub message: Vec<u8>,
    /// The genesis state's nodes.
    pub store: NodeStore,
    pub genesis_root: Hash,
    /// The signed transactions, in block order (EIP-2718 bytes).
    pub transactions: Vec<Vec<u8>>,
}

/// `DemoToken`'s `balanceOf[owner]` slot.
pub fn token_balance_slot(owner: &Address) -> U256 {
    let mut preimage = [0u8; 64];
    preimage[12..32].copy_from_slice(owner.as_slice());
    preimage[63] = BALANCE_OF_SLOT;
    U256::from_be_bytes(keccak256(&preimage))
}

/// `txs` transactions of `kind` among `accounts` funded accounts from `seed`'s keys. The token's
/// runtime code is `token_code` (DemoToken's deployed bytecode), the withdrawal predeploy's
/// `withdrawals_code`.
pub fn evm_workload(
    kind: EvmWorkloadKind,
    txs: usize,
    accounts: usize,
    seed: u64,
    token_code: &[u8],
    withdrawals_code: &[u8],
) -> Result<EvmWorkload, EvmStateError> {
    let keys = derive_keys(seed, accounts.max(2));
    let addresses: Vec<Address> = keys
        .iter()
        .map(|key| Address::from(address_of(key)))
        .collect();
    let mut genesis: Vec<GenesisAccount> = addresses
        .iter()
        .map(|address| GenesisAccount {
            address: *address,
            balance: U256::from(10u128.pow(24)),
            ..GenesisAccount::default()
        })
        .collect();
    let per_holder = U256::from(10u64.pow(12));
    let mut token_storage: Vec<(U256, U256)> = addresses
        .iter()
        .map(|a| (token_balance_slot(a), per_holder))
        .collect();
    token_storage.push((
        U256::from(TOTAL_SUPPLY_SLOT),
        per_holder * U256::from(addresses.len()),
    ));
    genesis.push(GenesisAccount {
        address: WORKLOAD_TOKEN,
        nonce: 1,
        code: token_code.to_vec(),
        storage: token_storage,
        ..GenesisAccount::default()
    });
    let (root, _, store) = evm_genesis(&genesis, WORKLOAD_GENESIS_TIME, withdrawals_code)?;

    let mut nonces = vec![0u64; keys.len()];
    let mut state = seed ^ 0x5eed;
    let transactions: Vec<Vec<u8>> = (0..txs)
        .map(|i| {
            let from = i % keys.len();
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut to = (state >> 33) as usize % keys.len();
            if to == from {
                to = (to + 1) % keys.len();
            }
            let (call, value, input, gas_limit) = match kind {
                EvmWorkloadKind::EthTransfers => (
                    TxKind::Call(addresses[to]),
                    U256::from(1_000u64),
                    Vec::new(),
                    21_000,
                ),
                EvmWorkloadKind::Erc20Transfers => {
                    let mut input = vec![0xa9, 0x05, 0x9c, 0xbb]; // transfer(address,uint256)
                    input.extend_from_slice(&[0; 12]);
                    input.extend_from_slice(addresses[to].as_slice());
                    input.extend_from_slice(&U256::from(1u64).to_be_bytes::<32>());
                    (TxKind::Call(WORKLOAD_TOKEN), U256::ZERO, input, 60_000)
                }
            };
            let tx = TxEip1559 {
                chain_id: WORKLOAD_CHAIN_ID,
                nonce: nonces[from],
                gas_limit,
                max_fee_per_gas: 2_000_000_000,
                max_priority_fee_per_gas: 1,
                to: call,
                value,
                access_list: Default::default(),
                input: Bytes::from(input),
            };
            nonces[from] += 1;
            sign(&keys[from], tx)
        })
        .collect();
    let header = BatchHeader {
        pre_state_root: root,
        chain_id: WORKLOAD_CHAIN_ID,
        batch_number: 1,
        first_delayed: 0,
        delayed_count: 0,
    };
    let blocks = BlockList(vec![L2Block {
        timestamp: WORKLOAD_GENESIS_TIME + 2,
        fee_recipient: [0xfe; 20],
        delayed: 0,
        transactions: transactions.clone(),
    }]);
    Ok(EvmWorkload {
        message: encode_message(&header, &[], &blocks),
        store,
        genesis_root: root,
        transactions,
    })
}

/// `tx` signed by `key`, as EIP-2718 bytes.
pub fn sign(key: &k256::ecdsa::SigningKey, tx: TxEip1559) -> Vec<u8> {
    let signature = sign_prehash(key, &tx.signature_hash().0);
    let signature = Signature::new(
        U256::from_be_slice(&signature[..32]),
        U256::from_be_slice(&signature[32..64]),
        signature[64] == 1,
    );
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}
