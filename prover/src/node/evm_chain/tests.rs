//! The chain on the real EVM STF (and the helpers the RPC's tests share): the pool's every refusal in geth's words, blocks in arrival
//! order with their receipts and logs, what the STF refuses leaving block and pool, tags, calls,
//! estimates and fees.

use alloy::consensus::{SignableTransaction, Signed, TxEip1559, TxEip4844, TxEnvelope, TxLegacy};
use alloy::eips::eip2718::Encodable2718;
use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::{keccak256, Address, Bytes, Signature, TxKind, B256, U256};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy_sol_types::{sol, SolCall, SolError, SolEvent, SolValue};
use program::evm::evm_stf::system::{WITHDRAWALS, WITHDRAWAL_EVENT};
use program::evm::evm_stf::GenesisAccount;
use program::ledger::{DelayedMessage, Deposit};
use program::SigningKey;

use super::*;

sol! {
    function transfer(address to, uint256 value) external returns (bool);
    function balanceOf(address owner) external view returns (uint256);
    function withdraw(address l1Recipient) external payable;
    event Transfer(address indexed from, address indexed to, uint256 value);
}

pub(crate) const CHAIN: u64 = 901;
pub(crate) const ETH: u128 = 1_000_000_000_000_000_000;
pub(crate) const GWEI: u128 = 1_000_000_000;
const GENESIS_TIME: u64 = 1_700_000_000;

pub(crate) fn key(index: u8) -> SigningKey {
    let mut bytes = [0x22u8; 32];
    bytes[31] = index + 1;
    SigningKey::from_slice(&bytes).unwrap()
}

pub(crate) fn address(key: &SigningKey) -> Address {
    Address::from(program::address_of(key))
}

pub(crate) fn signed<T: SignableTransaction<Signature>>(key: &SigningKey, tx: T) -> Vec<u8>
where
    TxEnvelope: From<Signed<T>>,
{
    let sig = program::sign_prehash(key, &tx.signature_hash().0);
    let signature = Signature::new(
        U256::from_be_slice(&sig[..32]),
        U256::from_be_slice(&sig[32..64]),
        sig[64] != 0,
    );
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

/// An EIP-1559 transaction: 20 gwei cap, 1 gwei tip.
pub(crate) fn tx(nonce: u64, to: TxKind, value: u128, input: Vec<u8>, gas: u64) -> TxEip1559 {
    TxEip1559 {
        chain_id: CHAIN,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 20 * GWEI,
        max_priority_fee_per_gas: GWEI,
        to,
        value: U256::from(value),
        access_list: Default::default(),
        input: Bytes::from(input),
    }
}

pub(crate) fn transfer_to(key: &SigningKey, nonce: u64, to: Address, value: u128) -> Vec<u8> {
    signed(key, tx(nonce, TxKind::Call(to), value, vec![], 21_000))
}

pub(crate) fn token_transfer(
    key: &SigningKey,
    nonce: u64,
    token: Address,
    to: Address,
    value: u64,
    gas: u64,
) -> Vec<u8> {
    let input = transferCall {
        to,
        value: U256::from(value),
    }
    .abi_encode();
    signed(key, tx(nonce, TxKind::Call(token), 0, input, gas))
}

pub(crate) fn demo_token(supply: u64) -> Vec<u8> {
    let mut code = verifier::evm::artifact_bytecode("DemoToken").unwrap();
    code.extend_from_slice(
        &("Demo".to_string(), "DMO".to_string(), U256::from(supply)).abi_encode_params(),
    );
    code
}

/// A chain whose keys 0..3 hold 100 ETH and key 9 holds 1,000 wei.
pub(crate) fn chain() -> EvmChain {
    let mut accounts: Vec<GenesisAccount> = (0..3)
        .map(|i| GenesisAccount {
            address: address(&key(i)),
            balance: U256::from(100 * ETH),
            ..GenesisAccount::default()
        })
        .collect();
    accounts.push(GenesisAccount {
        address: address(&key(9)),
        balance: U256::from(1_000u64),
        ..GenesisAccount::default()
    });
    let withdrawals = verifier::evm::artifact_deployed_bytecode("L2Withdrawals").unwrap();
    let (root, head, store) =
        program::evm::evm_genesis(&accounts, GENESIS_TIME, &withdrawals).unwrap();
    EvmChain::new(CHAIN, root, head, store)
}

pub(crate) fn produce(chain: &mut EvmChain, delayed: &[DelayedMessage]) -> SealedBlockInfo {
    let timestamp = GENESIS_TIME + 2 * (chain.block_number() + 1);
    chain
        .produce_block(timestamp, Address::repeat_byte(0xfe), delayed)
        .unwrap()
        .expect("a block")
}

fn refusal(chain: &mut EvmChain, raw: &[u8]) -> String {
    chain.submit(raw).expect_err("refused").to_string()
}

const LATEST: BlockId = BlockId::Number(BlockNumberOrTag::Latest);

fn balance(chain: &EvmChain, who: Address) -> U256 {
    chain
        .account(&who, LATEST)
        .unwrap()
        .map(|leaf| leaf.balance)
        .unwrap_or_default()
}

#[test]
fn the_pool_refuses_with_geths_words() {
    let mut chain = chain();
    let alice = key(0);
    let carol = Address::repeat_byte(0xca);
    let base = |gas, input: Vec<u8>| tx(0, TxKind::Call(carol), 1, input, gas);

    assert!(refusal(&mut chain, &[0x02, 0xc0]).starts_with("rlp: "));
    let limit = pool::MAX_TRANSACTION_BYTES;
    assert_eq!(
        refusal(&mut chain, &vec![0u8; limit + 1]),
        format!(
            "oversized data: transaction size {}, limit {limit}",
            limit + 1
        )
    );
    let other_chain = TxEip1559 {
        chain_id: CHAIN + 1,
        ..base(21_000, vec![])
    };
    assert_eq!(
        refusal(&mut chain, &signed(&alice, other_chain)),
        "invalid chain id for signer: have 902 want 901"
    );
    let unsigned = Signed::new_unchecked(
        base(21_000, vec![]),
        Signature::new(U256::ZERO, U256::from(1), false),
        B256::ZERO,
    );
    assert_eq!(
        refusal(&mut chain, &TxEnvelope::from(unsigned).encoded_2718()),
        "invalid sender"
    );
    let blob = TxEip4844 {
        chain_id: CHAIN,
        gas_limit: 21_000,
        max_fee_per_gas: 20 * GWEI,
        max_fee_per_blob_gas: 1,
        to: carol,
        blob_versioned_hashes: vec![B256::repeat_byte(1)],
        ..TxEip4844::default()
    };
    assert_eq!(
        refusal(&mut chain, &signed(&alice, blob)),
        "transaction type not supported"
    );
    assert_eq!(
        refusal(&mut chain, &signed(&alice, base(60_000_001, vec![]))),
        "exceeds block gas limit"
    );
    assert_eq!(
        refusal(&mut chain, &signed(&alice, base(20_000_000, vec![]))),
        "transaction gas limit too high (cap: 16777216, tx: 20000000)"
    );
    // Three non-zero bytes: 21,000 + 3 × 16 intrinsic, 21,000 + 3 × 4 × 10 floor (EIP-7623).
    assert_eq!(
        refusal(&mut chain, &signed(&alice, base(21_000, vec![1, 2, 3]))),
        "intrinsic gas too low: gas 21000, minimum needed 21048"
    );
    assert_eq!(
        refusal(&mut chain, &signed(&alice, base(21_048, vec![1, 2, 3]))),
        "insufficient gas for floor data gas cost: gas 21048, minimum needed 21120"
    );
    let under_base_fee = TxEip1559 {
        max_fee_per_gas: GWEI - 1,
        max_priority_fee_per_gas: 0,
        ..base(21_000, vec![])
    };
    assert_eq!(
        refusal(&mut chain, &signed(&alice, under_base_fee)),
        format!(
            "max fee per gas less than block base fee: address {}, maxFeePerGas: 999999999, baseFee: 1000000000",
            address(&alice)
        )
    );
    let tip_over_cap = TxEip1559 {
        max_priority_fee_per_gas: 21 * GWEI,
        ..base(21_000, vec![])
    };
    assert_eq!(
        refusal(&mut chain, &signed(&alice, tip_over_cap)),
        "max priority fee per gas higher than max fee per gas"
    );
    let huge_init = tx(0, TxKind::Create, 0, vec![1; 49_153], 16_000_000);
    assert_eq!(
        refusal(&mut chain, &signed(&alice, huge_init)),
        "max initcode size exceeded: code size 49153, limit 49152"
    );
    // Poor: 1,000 wei against 21,000 × 20 gwei + 1.
    let poor = key(9);
    assert_eq!(
        refusal(&mut chain, &transfer_to(&poor, 0, carol, 1)),
        "insufficient funds for gas * price + value: have 1000 want 420000000000001"
    );

    // Admitted once; then known; then mined, and its nonce too low.
    let first = transfer_to(&alice, 0, carol, 1);
    let hash = chain.submit(&first).unwrap();
    assert_eq!(hash, keccak256(&first));
    assert_eq!(refusal(&mut chain, &first), "already known");
    // The waiting transaction's cost counts against the balance of the next.
    let everything = transfer_to(&alice, 1, carol, 100 * ETH);
    assert!(refusal(&mut chain, &everything).starts_with(
        "insufficient funds for gas * price + value: have 100000000000000000000 want "
    ));
    // A same-nonce replacement needs both fees 10% higher.
    let cheap_replacement = signed(
        &alice,
        TxEip1559 {
            value: U256::from(2),
            ..tx(0, TxKind::Call(carol), 1, vec![], 21_000)
        },
    );
    assert_eq!(
        refusal(&mut chain, &cheap_replacement),
        "replacement transaction underpriced"
    );
    let replacement = signed(
        &alice,
        TxEip1559 {
            max_fee_per_gas: 22 * GWEI,
            max_priority_fee_per_gas: GWEI * 11 / 10,
            ..tx(0, TxKind::Call(carol), 2, vec![], 21_000)
        },
    );
    let replaced = chain.submit(&replacement).unwrap();
    assert!(!chain.pool().contains(&hash) && chain.pool().contains(&replaced));
    let block = produce(&mut chain, &[]);
    assert_eq!(block.transactions, vec![replaced]);
    assert_eq!(balance(&chain, carol), U256::from(2));
    assert_eq!(refusal(&mut chain, &replacement), "already known", "mined");
    assert_eq!(
        refusal(&mut chain, &first),
        "nonce too low: next nonce 1, tx nonce 0",
        "replaced, then its nonce used"
    );
}

#[test]
fn the_pool_keeps_gaps_and_bounds() {
    let mut chain = chain().with_pool_limits(PoolLimits {
        per_sender: 3,
        total: 4,
    });
    let (alice, bob, carol) = (key(0), key(1), key(2));
    let to = Address::repeat_byte(0xca);
    let alice_2 = chain.submit(&transfer_to(&alice, 2, to, 1)).unwrap();
    assert_eq!(chain.pending_nonce(&address(&alice)).unwrap(), 0, "a gap");
    assert_eq!(
        refusal(&mut chain, &transfer_to(&alice, 3, to, 1)),
        "nonce too high: next nonce 0, tx nonce 3"
    );
    assert!(
        chain
            .produce_block(GENESIS_TIME + 1, Address::ZERO, &[])
            .unwrap()
            .is_none(),
        "nothing ready"
    );
    let bob_0 = chain.submit(&transfer_to(&bob, 0, to, 1)).unwrap();
    let alice_0 = chain.submit(&transfer_to(&alice, 0, to, 1)).unwrap();
    let alice_1 = chain.submit(&transfer_to(&alice, 1, to, 1)).unwrap();
    assert_eq!(chain.pending_nonce(&address(&alice)).unwrap(), 3);
    assert_eq!(
        refusal(&mut chain, &transfer_to(&carol, 0, to, 1)),
        "txpool is full"
    );
    // Arrival order among senders, nonce order within one: alice's 2 came first but waited for
    // her 0 and 1, which came after bob's 0.
    let block = produce(&mut chain, &[]);
    assert_eq!(block.transactions, vec![bob_0, alice_0, alice_1, alice_2]);
    assert!(chain.pool().is_empty());
    assert_eq!(chain.pending_nonce(&address(&alice)).unwrap(), 3);
    assert!(
        chain.submit(&transfer_to(&carol, 0, to, 1)).is_ok(),
        "room again"
    );
}

#[test]
fn blocks_record_transactions_receipts_logs_and_tags() {
    let mut chain = chain();
    let (alice, bob) = (key(0), key(1));
    let carol = Address::repeat_byte(0xca);
    let genesis_hash = chain.head().hash;
    let token = address(&alice).create(1);

    let pay = chain.submit(&transfer_to(&alice, 0, carol, ETH)).unwrap();
    let deploy = chain
        .submit(&signed(
            &alice,
            tx(1, TxKind::Create, 0, demo_token(1_000), 1_500_000),
        ))
        .unwrap();
    let legacy = TxLegacy {
        chain_id: Some(CHAIN),
        nonce: 0,
        gas_price: 5 * GWEI,
        gas_limit: 100_000,
        to: TxKind::Call(WITHDRAWALS),
        value: U256::from(ETH),
        input: Bytes::from(withdrawCall { l1Recipient: carol }.abi_encode()),
    };
    let withdraw = chain.submit(&signed(&bob, legacy)).unwrap();
    let first = produce(
        &mut chain,
        &[DelayedMessage::Deposit(Deposit {
            to: carol.0 .0,
            amount: 7,
        })],
    );
    assert_eq!(first.number, 1);
    assert_eq!(first.transactions, vec![pay, deploy, withdraw]);
    assert!(first.dropped.is_empty());
    assert_eq!(first.base_fee, 1_000_000_000);

    let block = chain.block(1).unwrap();
    assert_eq!(block.header.parent_hash, genesis_hash);
    assert_eq!(chain.block_by_hash(&first.hash).unwrap().header.number, 1);
    assert_eq!(
        block.deposits,
        vec![DepositEntry {
            to: carol,
            amount: 7,
            credited: true
        }]
    );
    assert_eq!(balance(&chain, carol), U256::from(ETH + 7));
    let receipts: Vec<&ChainTransaction> = block.transactions.iter().collect();
    assert!(receipts.iter().all(|tx| tx.success));
    assert_eq!(receipts[0].gas_used, 21_000);
    assert_eq!(receipts[1].contract_address, Some(token));
    assert_eq!(receipts[2].cumulative_gas_used, block.header.gas_used);
    assert_eq!(receipts[0].effective_gas_price, 2 * GWEI, "base fee + tip");
    assert_eq!(
        receipts[2].effective_gas_price,
        5 * GWEI,
        "legacy: its price"
    );
    // The deploy's Transfer is log 0, the withdrawal's event log 1.
    assert_eq!(receipts[1].first_log_index, 0);
    assert_eq!(receipts[2].first_log_index, 1);
    assert_eq!(receipts[2].logs[0].topics()[0], WITHDRAWAL_EVENT);
    assert_eq!(block.withdrawals.len(), 1);
    assert_eq!(block.withdrawals[0].index, 1 << 32, "block 1 is batch 1");
    let located = chain.receipt(&withdraw).unwrap();
    assert_eq!((located.block.header.number, located.index), (1, 2));
    assert!(chain.transaction(&B256::ZERO).is_none());

    // Block 2: a token transfer; state at each block stays readable.
    let send_tokens = chain
        .submit(&token_transfer(&alice, 2, token, carol, 250, 100_000))
        .unwrap();
    let second = produce(&mut chain, &[]);
    assert_eq!(second.transactions, vec![send_tokens]);
    assert_ne!(second.state_root, first.state_root);
    let call = |chain: &EvmChain, id| {
        let request = TransactionRequest::default()
            .to(token)
            .input(balanceOfCall { owner: carol }.abi_encode().into());
        U256::abi_decode(&chain.call(&request, id).unwrap()).unwrap()
    };
    assert_eq!(call(&chain, LATEST), U256::from(250));
    assert_eq!(call(&chain, BlockId::number(1)), U256::ZERO);
    assert!(chain.code(&token, BlockId::number(0)).unwrap().is_empty());
    assert!(!chain.code(&token, BlockId::number(1)).unwrap().is_empty());
    assert_eq!(chain.state_at(0), Some(chain.block(0).unwrap().state_root));
    assert_eq!(
        chain.block(2).unwrap().head().next_base_fee(),
        chain.next_base_fee()
    );

    // Logs: the token's Transfers over both blocks, by address and topic.
    let transfers = Filter::new()
        .address(token)
        .event_signature(Transfer::SIGNATURE_HASH)
        .from_block(0u64)
        .to_block(BlockNumberOrTag::Latest);
    let logs = chain.logs(&transfers).unwrap();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[1].transaction_hash, Some(send_tokens));
    assert_eq!(
        (logs[1].block_number, logs[1].log_index),
        (Some(2), Some(0))
    );
    assert!(chain
        .logs(&Filter::new().address(carol).from_block(0u64))
        .unwrap()
        .is_empty());
    assert!(matches!(
        chain.logs(&Filter::new().from_block(0u64).to_block(10_000u64)),
        Err(ChainError::LogRangeTooWide)
    ));
    assert!(chain
        .logs(&Filter::new().from_block(0u64).to_block(9_999u64))
        .is_ok());
    assert!(matches!(
        chain.logs(&Filter::new().from_block(2u64).to_block(1u64)),
        Err(ChainError::InvalidRange)
    ));
    assert!(chain
        .logs(
            &Filter::new()
                .from_block(3u64)
                .to_block(BlockNumberOrTag::Latest)
        )
        .unwrap()
        .is_empty());

    // Tags.
    assert_eq!(chain.resolve_tag(BlockNumberOrTag::Safe), Some(0));
    chain.set_safe(1);
    chain.set_finalized(99);
    assert_eq!(chain.resolve_tag(BlockNumberOrTag::Safe), Some(1));
    assert_eq!(
        chain.resolve_tag(BlockNumberOrTag::Finalized),
        Some(2),
        "at most the head"
    );
    assert_eq!(chain.resolve_tag(BlockNumberOrTag::Pending), Some(2));
    assert_eq!(chain.resolve_tag(BlockNumberOrTag::Earliest), Some(0));
    assert_eq!(chain.resolve_tag(BlockNumberOrTag::Number(3)), None);
    assert_eq!(chain.resolve(BlockId::from(first.hash)), Some(1));
    assert!(matches!(
        chain.account(&carol, BlockId::number(3)),
        Err(ChainError::UnknownBlock)
    ));

    // Fees: two blocks' base fees and the next; block 1's tips were 1 gwei (1559) and 4 gwei.
    let history = chain
        .fee_history(2, BlockNumberOrTag::Latest, &[0.0, 100.0])
        .unwrap();
    assert_eq!(history.oldest_block, 1);
    assert_eq!(history.base_fee_per_gas.len(), 3);
    assert_eq!(
        *history.base_fee_per_gas.last().unwrap(),
        u128::from(chain.next_base_fee())
    );
    assert_eq!(history.reward.as_ref().unwrap()[0], vec![GWEI, 4 * GWEI]);
    assert!(chain
        .fee_history(2, BlockNumberOrTag::Latest, &[50.0, 10.0])
        .is_err());
    assert_eq!(
        chain.gas_price(),
        u128::from(chain.next_base_fee()) + SUGGESTED_TIP
    );
}

#[test]
fn what_the_stf_refuses_leaves_block_and_pool() {
    let mut chain = chain();
    let (alice, carol) = (key(0), key(2));
    let dave = Address::repeat_byte(0xda);
    // Alice's 0 and 1 wait; a forced transaction of hers takes nonce 0 first.
    let alice_0 = chain.submit(&transfer_to(&alice, 0, dave, 1)).unwrap();
    let alice_1 = chain.submit(&transfer_to(&alice, 1, dave, 2)).unwrap();
    let forced = transfer_to(&alice, 0, dave, 10);
    // Carol's 0, 1, 2 wait; a forced transaction of hers spends nearly everything.
    let carol_0 = chain.submit(&transfer_to(&carol, 0, dave, 1)).unwrap();
    let carol_1 = chain.submit(&transfer_to(&carol, 1, dave, ETH)).unwrap();
    let carol_2 = chain.submit(&transfer_to(&carol, 2, dave, 1)).unwrap();
    let drain = transfer_to(&carol, 0, dave, 100 * ETH - 21_000 * 2 * GWEI - ETH / 2);
    let block = produce(
        &mut chain,
        &[
            DelayedMessage::Transaction(forced.clone()),
            DelayedMessage::Transaction(drain.clone()),
        ],
    );
    // The forced ones lead; alice's 1 runs on nonce 1; the rest are refused.
    assert_eq!(
        block.transactions,
        vec![keccak256(&forced), keccak256(&drain), alice_1]
    );
    assert!(chain.block(1).unwrap().transactions[0].forced);
    let dropped: BTreeMap<B256, String> = block.dropped.iter().cloned().collect();
    assert_eq!(dropped[&alice_0], "nonce too low: next nonce 1, tx nonce 0");
    assert_eq!(dropped[&carol_0], "nonce too low: next nonce 1, tx nonce 0");
    assert!(
        dropped[&carol_1].starts_with("insufficient funds for gas * price + value: have "),
        "{}",
        dropped[&carol_1]
    );
    assert_eq!(dropped.len(), 3);
    // Carol's 2 came after a refusal: nonce ahead, kept for when her 1 comes.
    assert!(chain.pool().contains(&carol_2));
    assert_eq!(chain.pool().len(), 1);
    assert_eq!(chain.pending_nonce(&address(&carol)).unwrap(), 1);
    assert_eq!(
        balance(&chain, dave),
        U256::from(10 + 100 * ETH - 21_000 * 2 * GWEI - ETH / 2 + 2)
    );
}

#[test]
fn calls_and_estimates_as_geth() {
    let mut chain = chain();
    let (alice, bob) = (key(0), key(1));
    let carol = Address::repeat_byte(0xca);
    let token = address(&alice).create(0);
    let deploy = TransactionRequest::default()
        .from(address(&alice))
        .input(demo_token(1_000).into());
    let deploy_estimate = chain.estimate_gas(&deploy, LATEST).unwrap();
    chain
        .submit(&signed(
            &alice,
            tx(0, TxKind::Create, 0, demo_token(1_000), deploy_estimate),
        ))
        .unwrap();
    produce(&mut chain, &[]);
    let deployed = chain.block(1).unwrap();
    assert!(deployed.transactions[0].success);
    let used = deployed.transactions[0].gas_used;
    assert!(
        deploy_estimate >= used && deploy_estimate <= used + used / 10,
        "{deploy_estimate} for {used}"
    );

    // A plain transfer is 21,000 exactly; one to a contract costs more.
    let pay = TransactionRequest::default()
        .from(address(&bob))
        .to(carol)
        .value(U256::from(1));
    assert_eq!(chain.estimate_gas(&pay, LATEST).unwrap(), 21_000);
    let send = TransactionRequest::default()
        .from(address(&alice))
        .to(token)
        .input(
            transferCall {
                to: carol,
                value: U256::from(5),
            }
            .abi_encode()
            .into(),
        );
    let estimate = chain.estimate_gas(&send, LATEST).unwrap();
    assert!(estimate > 21_000 && estimate < 100_000, "{estimate}");
    // The estimate is enough, and 10% less is not (the search stops within 1.5%).
    let exact = chain
        .submit(&token_transfer(&alice, 1, token, carol, 5, estimate))
        .unwrap();
    let short = TransactionRequest {
        gas: Some(estimate * 9 / 10),
        ..send.clone()
    };
    assert_eq!(
        chain.call(&short, LATEST),
        Err(CallError::Halted(format!(
            "out of gas: gas {}",
            estimate * 9 / 10
        )))
    );
    produce(&mut chain, &[]);
    assert!(chain.receipt(&exact).unwrap().tx.success);

    // Reverts: a custom error's data, an Error(string)'s reason.
    let broke = TransactionRequest {
        from: Some(address(&bob)),
        ..send.clone()
    };
    let Err(CallError::Reverted(data)) = chain.call(&broke, LATEST) else {
        panic!("a revert")
    };
    assert_eq!(
        &data[..4],
        &keccak256("InsufficientBalance(address,uint256,uint256)")[..4]
    );
    assert_eq!(
        chain.estimate_gas(&broke, LATEST),
        Err(CallError::Reverted(data))
    );
    let nothing = TransactionRequest::default()
        .to(WITHDRAWALS)
        .input(withdrawCall { l1Recipient: carol }.abi_encode().into());
    assert_eq!(
        chain.call(&nothing, LATEST),
        Err(CallError::Reverted(
            keccak256("ZeroWithdrawal()")[..4].to_vec().into()
        ))
    );
    let reason = alloy_sol_types::Revert::from("hauptbuch says no").abi_encode();
    assert_eq!(
        CallError::Reverted(reason.into()).to_string(),
        "execution reverted: hauptbuch says no"
    );
    let panic = alloy_sol_types::Panic::from(0x11).abi_encode();
    assert_eq!(
        simulate::revert_reason(&panic).as_deref(),
        Some("panic: arithmetic underflow or overflow (0x11)")
    );
    assert_eq!(simulate::revert_reason(&[1, 2, 3]), None);

    // No gas price: base fee 0, an empty account can call; with a price, funds count.
    let nobody = Address::repeat_byte(0x77);
    let free = TransactionRequest::default()
        .from(nobody)
        .to(token)
        .input(balanceOfCall { owner: carol }.abi_encode().into());
    assert_eq!(
        U256::abi_decode(&chain.call(&free, LATEST).unwrap()).unwrap(),
        U256::from(5)
    );
    let priced = TransactionRequest {
        max_fee_per_gas: Some(2 * GWEI),
        ..free.clone()
    };
    assert!(chain
        .call(&priced, LATEST)
        .unwrap_err()
        .to_string()
        .starts_with("insufficient funds for gas * price + value: have 0 want "));
    let overdrawn = TransactionRequest::default()
        .from(address(&bob))
        .to(carol)
        .value(U256::from(1000 * ETH))
        .gas_price(2 * GWEI);
    assert_eq!(
        chain.estimate_gas(&overdrawn, LATEST),
        Err(CallError::Invalid("insufficient funds for transfer".into()))
    );
    assert_eq!(
        chain.call(&free, BlockId::number(9)),
        Err(CallError::UnknownBlock)
    );
}
