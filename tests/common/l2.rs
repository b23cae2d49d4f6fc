//! L2 (EVM guest) helpers: keys, signed Ethereum transactions, genesis states and inbox messages.
#![allow(dead_code)] // each test binary uses its own part of these helpers

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

/// The settlement fixtures' chain id (`common/settlement.rs`), so the same signed transactions serve both.
pub const CHAIN_ID: u64 = 42;
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
            .enumerate()
            .map(|(position, (timestamp, transactions))| L2Block {
                timestamp,
                fee_recipient: [0xfe; 20],
                // The delayed messages open the first block.
                delayed: if position == 0 {
                    delayed.len() as u32
                } else {
                    0
                },
                transactions,
            })
            .collect(),
    );
    encode_message(&header, delayed, &blocks)
}

/// The scenario of `evm_stf.rs` and `proofs.rs`: a deposit and a forced transaction, then two
/// blocks with an ETH transfer, an ERC-20 deployed and used, a revert, a withdrawal and a replayed
/// nonce. Returns the message of batch 1 and the genesis store.
pub fn mixed_batch() -> (Vec<u8>, NodeStore) {
    let scenario = MixedBatch::new();
    (scenario.message, scenario.store)
}

/// [`mixed_batch`] with the actors, for assertions.
pub struct MixedBatch {
    pub message: Vec<u8>,
    pub store: NodeStore,
    pub alice: PrivateKeySigner,
    pub bob: PrivateKeySigner,
    pub carol: Address,
    pub l1_recipient: Address,
    pub token: Address,
}

impl MixedBatch {
    pub fn new() -> MixedBatch {
        use program::evm::evm_stf::system::WITHDRAWALS;
        use program::Deposit;
        let alice = key(0);
        let bob = key(1);
        let carol = Address::repeat_byte(0xca);
        let l1_recipient = Address::repeat_byte(0x11);
        let (root, store) = genesis(&[alice.address(), bob.address()]);
        let token = alice.address().create(1);
        // Delayed messages lead the batch: the forced transaction takes Bob's nonce 0.
        let delayed = vec![
            DelayedMessage::Deposit(Deposit {
                to: carol.0 .0,
                amount: 7,
            }),
            DelayedMessage::Transaction(sign_1559(
                &bob,
                0,
                TxKind::Call(carol),
                U256::from(5u64),
                vec![],
                21_000,
            )),
        ];
        let blocks = vec![
            (
                GENESIS_TIME + 2,
                vec![
                    sign_1559(
                        &alice,
                        0,
                        TxKind::Call(carol),
                        U256::from(ONE_ETH),
                        vec![],
                        21_000,
                    ),
                    sign_1559(
                        &alice,
                        1,
                        TxKind::Create,
                        U256::ZERO,
                        demo_token_deploy(1_000_000),
                        1_500_000,
                    ),
                    sign_legacy(
                        &alice,
                        2,
                        TxKind::Call(token),
                        U256::ZERO,
                        erc20_transfer(carol, 250),
                        100_000,
                    ),
                ],
            ),
            (
                GENESIS_TIME + 4,
                vec![
                    // Bob holds no tokens: reverts with InsufficientBalance.
                    sign_1559(
                        &bob,
                        1,
                        TxKind::Call(token),
                        U256::ZERO,
                        erc20_transfer(carol, 1),
                        100_000,
                    ),
                    sign_1559(
                        &bob,
                        2,
                        TxKind::Call(WITHDRAWALS),
                        U256::from(2 * ONE_ETH),
                        withdraw_call(l1_recipient),
                        100_000,
                    ),
                    // A replayed nonce: refused, changes nothing.
                    sign_1559(
                        &bob,
                        2,
                        TxKind::Call(carol),
                        U256::from(1u64),
                        vec![],
                        21_000,
                    ),
                ],
            ),
        ];
        MixedBatch {
            message: message(root, 1, &delayed, blocks),
            store,
            alice,
            bob,
            carol,
            l1_recipient,
            token,
        }
    }
}

/// An EVM rollup's batch 1 for the settlement flows: the genesis (Alice and Bob funded) and the
/// sequencer section of two blocks with an ETH transfer, an ERC-20 deployed and used, a revert
/// and a withdrawal to `l1_recipient`. Returns (genesis root, store, section, Alice's address for
/// the batch's deposit).
pub fn settlement_batch(l1_recipient: Address) -> (Hash, NodeStore, Vec<u8>, [u8; 20]) {
    use program::evm::evm_stf::system::WITHDRAWALS;
    let alice = key(0);
    let bob = key(1);
    let carol = Address::repeat_byte(0xca);
    let (root, store) = genesis(&[alice.address(), bob.address()]);
    let token = alice.address().create(1);
    let blocks = BlockList(vec![
        L2Block {
            timestamp: GENESIS_TIME + 2,
            fee_recipient: [0xfe; 20],
            // The settlement flows deposit for Alice first: it opens the first block.
            delayed: 1,
            transactions: vec![
                sign_1559(
                    &alice,
                    0,
                    TxKind::Call(carol),
                    U256::from(ONE_ETH),
                    vec![],
                    21_000,
                ),
                sign_1559(
                    &alice,
                    1,
                    TxKind::Create,
                    U256::ZERO,
                    demo_token_deploy(1_000_000),
                    1_500_000,
                ),
                sign_1559(
                    &alice,
                    2,
                    TxKind::Call(token),
                    U256::ZERO,
                    erc20_transfer(carol, 250),
                    100_000,
                ),
            ],
        },
        L2Block {
            timestamp: GENESIS_TIME + 4,
            fee_recipient: [0xfe; 20],
            delayed: 0,
            transactions: vec![
                sign_1559(
                    &bob,
                    0,
                    TxKind::Call(token),
                    U256::ZERO,
                    erc20_transfer(carol, 1),
                    100_000,
                ),
                sign_1559(
                    &bob,
                    1,
                    TxKind::Call(WITHDRAWALS),
                    U256::from(ONE_ETH),
                    withdraw_call(l1_recipient),
                    100_000,
                ),
            ],
        },
    ]);
    (root, store, blocks.to_bytes(), alice.address().0 .0)
}
