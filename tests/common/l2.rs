//! L2 (EVM guest) helpers: keys, signed Ethereum transactions, genesis states and inbox messages.
#![allow(dead_code)]

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, Bytes, TxKind, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy_sol_types::{sol, SolCall};
use program::evm::evm_stf::block::Head;
use program::evm::evm_stf::{encode_message, BlockList, GenesisAccount, L2Block};
use program::{BatchHeader, DelayedMessage, Hash, NodeStore};

sol! {
    function transfer(address to, uint256 value) external returns (bool);
    function balanceOf(address owner) external view returns (uint256);
    function withdraw(address l1Recipient) external payable;
}

pub const CHAIN_ID: u64 = 901;
pub const ONE_ETH: u128 = 1_000_000_000_000_000_000;
pub const GENESIS_TIME: u64 = 1_700_000_000;

/// A deterministic key per index.
pub fn key(index: u8) -> PrivateKeySigner {
    let mut bytes = [0x11u8; 32];
    bytes[31] = index.wrapping_add(1);
    PrivateKeySigner::from_slice(&bytes).expect("a valid key")
}

/// An EIP-1559 transaction signed by `signer`, as EIP-2718 bytes.
pub fn sign_1559(
    signer: &PrivateKeySigner,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Vec<u8>,
    gas_limit: u64,
) -> Vec<u8> {
    let mut tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit,
        max_fee_per_gas: 20_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value,
        access_list: Default::default(),
        input: Bytes::from(input),
    };
    let signature = signer.sign_transaction_sync(&mut tx).expect("signing");
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

/// A legacy (EIP-155) transaction signed by `signer`.
pub fn sign_legacy(
    signer: &PrivateKeySigner,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Vec<u8>,
    gas_limit: u64,
) -> Vec<u8> {
    let mut tx = TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce,
        gas_price: 5_000_000_000,
        gas_limit,
        to,
        value,
        input: Bytes::from(input),
    };
    let signature = signer.sign_transaction_sync(&mut tx).expect("signing");
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

pub fn erc20_transfer(to: Address, value: u64) -> Vec<u8> {
    transferCall {
        to,
        value: U256::from(value),
    }
    .abi_encode()
}

pub fn withdraw_call(l1_recipient: Address) -> Vec<u8> {
    withdrawCall {
        l1Recipient: l1_recipient,
    }
    .abi_encode()
}

/// DemoToken's init code with constructor arguments (name, symbol, supply).
pub fn demo_token_deploy(supply: u64) -> Vec<u8> {
    let mut code = verifier::evm::artifact_bytecode("DemoToken").expect("DemoToken artifact");
    code.extend_from_slice(&alloy_sol_types::SolValue::abi_encode_params(&(
        "Demo".to_string(),
        "DMO".to_string(),
        U256::from(supply),
    )));
    code
}

/// The rollup genesis with `funded` accounts holding 100 ETH each; its root and store.
pub fn genesis(funded: &[Address]) -> (Hash, NodeStore) {
    let (root, _, store) = genesis_with_head(funded);
    (root, store)
}

/// [`genesis`] with its head block (what a chain built on it starts from).
pub fn genesis_with_head(funded: &[Address]) -> (Hash, Head, NodeStore) {
    let accounts: Vec<GenesisAccount> = funded
        .iter()
        .map(|address| GenesisAccount {
            address: *address,
            balance: U256::from(100 * ONE_ETH),
            ..GenesisAccount::default()
        })
        .collect();
    let withdrawals = verifier::evm::artifact_deployed_bytecode("L2Withdrawals").expect("artifact");
    program::evm::evm_genesis(&accounts, GENESIS_TIME, &withdrawals).expect("genesis")
}

/// The inbox message of batch `number` over `pre_state_root`.
pub fn message(
    pre_state_root: Hash,
    number: u64,
    delayed: &[DelayedMessage],
    blocks: Vec<(u64, Vec<Vec<u8>>)>,
) -> Vec<u8> {
    let header = BatchHeader {
        pre_state_root,
        chain_id: CHAIN_ID,
        batch_number: number,
        first_delayed: 0,
        delayed_count: 0,
    };
    let blocks = BlockList(
        blocks
            .into_iter()
            .map(|(timestamp, transactions)| L2Block {
                timestamp,
                fee_recipient: [0xfe; 20],
                transactions,
            })
            .collect(),
    );
    encode_message(&header, delayed, &blocks)
}
