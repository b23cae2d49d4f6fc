//! Replaying a posted EVM batch: the inbox message L1 holds, run by the EVM guest on wasmtime
//! (what is asserted and disputed) and by the native EVM STF (what gives the blocks, receipts and
//! withdrawals the guest does not output) side by side; the two must write the same outputs, or
//! the node stops rather than serve a state it cannot vouch for. What it returns is what the
//! store and the [`EvmChain`](super::evm_chain::EvmChain) need to follow the batch.
//!
//! [`apply_next`] follows L1 with it. A posted batch's blocks are compared with the soft blocks the
//! node holds at their numbers (a block does not depend on its batch, `evm_stf::block`): equal,
//! as for a sequencer's own batch, they become `safe`; different (another poster's batch, or a
//! validator's first sight of them) they replace the soft blocks from there on, whose
//! transactions go back to the pool.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use program::evm::evm_stf::{BlockList, EvmExecution};
use program::evm::run_evm_native_abi;
use program::ledger::{BatchOutputs, Config, Hash};
use program::{NodeStore, RecoveredSignatures};
use verifier::l1::L1;

use super::eth_rpc::{lock_chain, SharedChain};
use super::evm_chain::{batch_blocks, withdrawals_of, ChainBlock};
use super::follower::Applied;
use super::state::{lock_state, Shared};
use super::store::{BatchCommit, BlockCommit, Head, StoredBatch, StoredWithdrawal};
use super::NodeError;
use crate::runner::Engine;
use crate::settlement::{rebuild_batch, withdrawal_proof_of, L1Log, PostedBatch, SettleError};
use crate::StfGuest;

/// One posted EVM batch replayed.
#[derive(Clone, Debug)]
pub struct EvmReplay {
    pub number: u64,
    /// The inbox message both engines ran.
    pub message: Vec<u8>,
    /// What both engines wrote (the guest's bytes equal the native run's).
    pub outputs: BatchOutputs,
    /// The native run: blocks as sealed, every receipt, the withdrawal leaves.
    pub execution: EvmExecution,
    /// The blocks as the chain serves them (`evm_chain::batch_blocks`).
    pub blocks: Vec<ChainBlock>,
    /// Trie nodes the guest emitted that the store did not hold.
    pub new_nodes: Vec<Vec<u8>>,
    /// Wall time of the two runs side by side.
    pub replay: Duration,
}

/// Runs `batch` on the state under `pre_state_root` (its nodes in `nodes`) with `guest` (the
/// EVM guest, [`program::EVM_STF_WASM`]) on wasmtime and with the native STF, and gathers what
/// it made. `Err(EnginesDisagree)` if their outputs differ in any byte. `signatures` serves the
/// engines' `ecrecover` calls it holds (the results are the same without it).
pub fn replay_evm(
    guest: &StfGuest,
    batch: &PostedBatch,
    pre_state_root: &Hash,
    nodes: &NodeStore,
    signatures: Option<Arc<RecoveredSignatures>>,
) -> Result<EvmReplay, NodeError> {
    // Both engines ask the host for the same senders: recovered once, ahead (`signatures`).
    let abi = batch
        .abi(pre_state_root, nodes.clone())
        .with_signatures(signatures);
    let message = abi.batch_bytes.clone();
    let started = Instant::now();
    let (native, wasm) = rayon::join(
        || run_evm_native_abi(abi.clone(), &Config::default()),
        || guest.run_abi(Engine::Native, abi.clone()),
    );
    let wasm = wasm.map_err(SettleError::from)?;
    let replay = started.elapsed();
    if wasm.outputs.to_bytes() != native.execution.outputs.to_bytes() {
        return Err(NodeError::EnginesDisagree(batch.number));
    }
    // A section that does not decode was refused whole (the outputs say so): no block of it ran.
    let sequenced = BlockList::from_bytes(&batch.section()).unwrap_or_default();
    let blocks = batch_blocks(&batch.delayed, &sequenced.0, &native.execution);
    // The run's clone shares the node's settled store: what it added is the batch's.
    let new_nodes = wasm.store.added_beyond(nodes);
    Ok(EvmReplay {
        number: batch.number,
        message,
        outputs: wasm.outputs,
        execution: native.execution,
        blocks,
        new_nodes,
        replay,
    })
}

/// Applies the next batch `log` holds after the store's head, if there is one (module docs).
/// The replay runs outside the locks; the reconciliation takes the node's, then the chain's.
/// Returns also the alert to raise when soft blocks were replaced.
pub fn apply_next(
    state: &Shared,
    chain: &SharedChain,
    l1: &mut dyn L1,
    log: &L1Log,
    guest: &StfGuest,
) -> Result<Option<(Applied, Option<String>)>, NodeError> {
    let (head, nodes, safe) = {
        let node = lock_state(state);
        (
            node.db.head()?,
            node.db.nodes().clone(),
            node.db.safe_block()?,
        )
    };
    if head.batch >= log.batch_count() {
        return Ok(None);
    }
    let number = head.batch + 1;
    let batch =
        rebuild_batch(l1, log, number).map_err(|e| NodeError::Unreadable(number, e.to_string()))?;
    // The senders of the soft blocks are known; the rest is recovered on every core, once.
    let known: HashMap<Hash, program::ledger::Address> = {
        let chain = lock_chain(chain);
        (safe + 1..=chain.block_number())
            .filter_map(|n| chain.block(n))
            .flat_map(|block| block.transactions.iter())
            .map(|tx| (tx.hash.0, tx.sender.0 .0))
            .collect()
    };
    let signatures = RecoveredSignatures::of_evm_section_known(&batch.section(), |hash| {
        known.get(hash).copied()
    });
    let replay = replay_evm(
        guest,
        &batch,
        &head.state_root,
        &nodes,
        Some(Arc::new(signatures)),
    )?;
    // The store's nodes are shared with this clone until it goes: adding the batch's nodes
    // while it lives would copy them all.
    drop(nodes);
    let withdrawals = stored_withdrawals(&replay);
    let last_block = safe + replay.blocks.len() as u64;
    let consumed: Vec<Hash> = replay
        .blocks
        .iter()
        .flat_map(|block| block.transactions.iter().map(|tx| tx.hash.0))
        .collect();
    let transactions = replay
        .blocks
        .iter()
        .map(|block| block.transactions.len())
        .sum();

    let mut node = lock_state(state);
    let mut chain = lock_chain(chain);
    let agrees = replay
        .blocks
        .iter()
        .zip(safe + 1..)
        .all(|(block, at)| chain.block(at).map(|soft| soft.hash) == Some(block.hash));
    let mut alert = None;
    let mut returning = Vec::new();
    if !agrees {
        if chain.block_number() > safe {
            alert = Some(format!(
                "batch {number} replaced soft blocks {}..={}: their transactions go back to the pool",
                safe + 1,
                chain.block_number()
            ));
        }
        for at in safe + 1..=chain.block_number() {
            if let Some(block) = chain.block(at) {
                returning.extend(block.posted.sequenced.iter().cloned());
            }
        }
        chain.truncate(safe + 1);
        node.db.drop_blocks_from(safe + 1)?;
        // The blocks with the state they end in: what a restart serves them from.
        node.db.commit_blocks(BlockCommit {
            blocks: replay.blocks.iter().map(ChainBlock::to_stored).collect(),
            new_nodes: replay.new_nodes.clone(),
        })?;
        let mut new_nodes = replay.new_nodes.as_slice();
        for block in replay.blocks.iter().cloned() {
            chain.import_with_nodes(block, new_nodes).map_err(|e| {
                NodeError::Blocks(format!("importing batch {number}'s blocks: {e}"))
            })?;
            new_nodes = &[];
        }
    }
    let has_post_state = node.db.nodes().contains(&replay.outputs.post_state_root);
    node.db.commit_batch(BatchCommit {
        batch: Some(StoredBatch {
            number,
            message: replay.message,
            outputs: replay.outputs.to_bytes().to_vec(),
            receipts: replay
                .execution
                .receipts
                .iter()
                .map(|r| r.outcome.code())
                .collect(),
            l1_block: batch.l1_block,
            blobs: batch.blobs.clone(),
        }),
        head: Head {
            batch: number,
            state_root: replay.outputs.post_state_root,
        },
        // Written with the blocks when they replaced soft ones; else the soft blocks wrote them:
        // the last one's finish stored every node of the state the batch ends in (the store is
        // checked for its root, in case).
        new_nodes: if has_post_state {
            Vec::new()
        } else {
            replay.new_nodes
        },
        receipts: Vec::new(),
        withdrawals,
        consumed,
        l1_cursor: batch.l1_block,
        last_block: Some(last_block),
    })?;
    chain.set_safe(last_block);
    for raw in returning {
        // Whatever the new state still takes; the rest is gone as it would be on any chain.
        let _ = chain.submit(&raw);
    }
    Ok(Some((
        Applied {
            number,
            delayed: batch.delayed.len(),
            transactions,
            state_root: replay.outputs.post_state_root,
            replay: replay.replay,
        },
        alert,
    )))
}

/// The batch's withdrawals with their outbox proofs, keyed by the transaction that started them:
/// a transaction's first under its hash, its `k`-th (from 1) under `keccak256(hash ‖ k)`
/// ([`withdrawal_key`]).
fn stored_withdrawals(replay: &EvmReplay) -> Vec<(Hash, StoredWithdrawal)> {
    let execution = &replay.execution;
    let mut started: Vec<(B256, usize)> = Vec::new();
    for receipt in &execution.receipts {
        for k in 0..withdrawals_of(receipt) {
            started.push((receipt.tx_hash, k));
        }
    }
    execution
        .withdrawals
        .iter()
        .zip(started)
        .enumerate()
        .filter_map(|(position, (w, (tx, k)))| {
            let proof = withdrawal_proof_of(&execution.withdrawals, position)?;
            Some((
                withdrawal_key(&tx.0, k),
                StoredWithdrawal {
                    batch: replay.number,
                    l1_recipient: w.l1_recipient,
                    amount: w.amount,
                    index: w.index,
                    position: position as u32,
                    proof: proof.siblings.iter().map(|s| s.0).collect(),
                },
            ))
        })
        .collect()
}

/// Where the store keeps the `k`-th (from 0) withdrawal transaction `tx` started.
pub fn withdrawal_key(tx: &Hash, k: usize) -> Hash {
    if k == 0 {
        return *tx;
    }
    let mut preimage = tx.to_vec();
    preimage.extend_from_slice(&(k as u64).to_be_bytes());
    program::keccak256(&preimage)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use alloy::eips::{BlockId, BlockNumberOrTag};
    use alloy::primitives::{Address, TxKind, B256, U256};
    use alloy_sol_types::SolCall;
    use program::evm::evm_stf::block::Head;
    use program::evm::evm_stf::system::WITHDRAWALS;
    use program::evm::evm_stf::{GenesisAccount, L2Block};
    use program::ledger::{BatchStatus, DelayedMessage, Deposit, RejectReason};

    use super::*;
    use crate::node::evm_chain::tests::CHAIN;
    use crate::node::evm_chain::tests::{address, key, signed, transfer_to, tx, withdrawCall, ETH};
    use crate::node::evm_chain::{ChainError, EvmChain};

    fn balance(chain: &EvmChain, who: Address) -> U256 {
        chain
            .account(&who, BlockId::Number(BlockNumberOrTag::Latest))
            .unwrap()
            .map(|leaf| leaf.balance)
            .unwrap_or_default()
    }

    const GENESIS_TIME: u64 = 1_700_000_000;

    fn genesis() -> (Hash, NodeStore) {
        let (root, _, store) = genesis_with_head();
        (root, store)
    }

    fn genesis_with_head() -> (Hash, Head, NodeStore) {
        let accounts: Vec<GenesisAccount> = (0..2)
            .map(|i| GenesisAccount {
                address: address(&key(i)),
                balance: U256::from(100 * ETH),
                ..GenesisAccount::default()
            })
            .collect();
        let withdrawals = verifier::evm::artifact_deployed_bytecode("L2Withdrawals").unwrap();
        program::evm::evm_genesis(&accounts, GENESIS_TIME, &withdrawals).unwrap()
    }

    fn posted(delayed: Vec<DelayedMessage>, transactions: Vec<u8>) -> PostedBatch {
        PostedBatch {
            number: 1,
            chain_id: CHAIN,
            first_delayed: 0,
            delayed,
            transactions,
            commitment: B256::ZERO,
            l1_block: 1,
            blobs: Vec::new(),
        }
    }

    #[test]
    fn a_posted_batch_of_two_blocks_replays_alike_on_both_engines_into_its_blocks() {
        let (root, genesis_head, store) = genesis_with_head();
        let guest = StfGuest::new(program::EVM_STF_WASM).unwrap();
        let (alice, bob) = (key(0), address(&key(1)));
        let carol = Address::repeat_byte(0xca);
        let l1_recipient = Address::repeat_byte(0x11);
        let withdraw = signed(
            &alice,
            tx(
                1,
                TxKind::Call(WITHDRAWALS),
                ETH,
                withdrawCall {
                    l1Recipient: l1_recipient,
                }
                .abi_encode(),
                100_000,
            ),
        );
        let blocks = BlockList(vec![
            L2Block {
                timestamp: GENESIS_TIME + 2,
                fee_recipient: [0xfe; 20],
                delayed: 1,
                transactions: vec![transfer_to(&alice, 0, bob, 3 * ETH)],
            },
            L2Block {
                timestamp: GENESIS_TIME + 4,
                fee_recipient: [0xfe; 20],
                delayed: 0,
                // The withdrawal, then a nonce already used: refused, not in the block.
                transactions: vec![withdraw.clone(), transfer_to(&alice, 0, bob, 1)],
            },
        ]);
        let deposit = DelayedMessage::Deposit(Deposit {
            to: carol.0 .0,
            amount: 5 * ETH,
        });
        let batch = posted(vec![deposit], blocks.to_bytes());

        let replay = replay_evm(&guest, &batch, &root, &store, None).unwrap();
        assert_eq!(replay.outputs.status, BatchStatus::Accepted);
        assert_eq!(replay.outputs.tx_count, 3);
        assert_eq!(replay.outputs.withdrawal_count, 1);
        assert_eq!(replay.blocks.len(), 2);
        let (first, second) = (&replay.blocks[0], &replay.blocks[1]);
        assert_eq!(first.deposits.len(), 1, "the deposit leads the first block");
        assert!(first.deposits[0].credited);
        assert_eq!(first.transactions.len(), 1);
        assert!(first.withdrawals.is_empty());
        assert_eq!(second.deposits.len(), 0);
        assert_eq!(
            second.transactions.len(),
            1,
            "the refused transaction is no transaction of the block"
        );
        assert_eq!(
            second.transactions[0].hash,
            alloy::primitives::keccak256(&withdraw)
        );
        assert_eq!(second.withdrawals.len(), 1);
        assert_eq!(second.withdrawals[0].index, 1 << 32);
        assert_eq!(second.withdrawals[0].l1_recipient, l1_recipient.0 .0);
        assert_eq!(second.header.parent_hash, first.hash);
        assert_eq!(second.header.number, first.header.number + 1);
        assert_eq!(second.state_root, replay.outputs.post_state_root);
        assert_eq!(
            replay.blocks.iter().map(|b| b.hash).collect::<Vec<_>>(),
            replay
                .execution
                .blocks
                .iter()
                .map(|b| b.hash)
                .collect::<Vec<_>>()
        );
        // The post-state is in the store once the new nodes are added: the next batch can run.
        let mut after = store.clone();
        for node in &replay.new_nodes {
            after.insert(node);
        }
        after.settle();
        assert!(after.contains(&replay.outputs.post_state_root));
        let next = PostedBatch {
            number: 2,
            first_delayed: 1,
            ..posted(
                vec![],
                BlockList(vec![L2Block {
                    timestamp: GENESIS_TIME + 6,
                    fee_recipient: [0xfe; 20],
                    delayed: 0,
                    transactions: vec![transfer_to(&alice, 2, carol, 1)],
                }])
                .to_bytes(),
            )
        };
        let replay_next =
            replay_evm(&guest, &next, &replay.outputs.post_state_root, &after, None).unwrap();
        assert_eq!(replay_next.outputs.status, BatchStatus::Accepted);
        assert_eq!(replay_next.blocks.len(), 1);
        assert_eq!(replay_next.blocks[0].header.parent_hash, second.hash);
        assert_eq!(replay_next.blocks[0].transactions.len(), 1);

        // A follower's chain takes the replayed blocks as they are and serves their state.
        let mut chain = EvmChain::new(CHAIN, root, genesis_head, store.clone());
        chain
            .import_with_nodes(replay.blocks[0].clone(), &replay.new_nodes)
            .unwrap();
        assert!(matches!(
            chain.import(replay_next.blocks[0].clone()),
            Err(ChainError::NotTheNext { number: 3, .. })
        ));
        chain.import(replay.blocks[1].clone()).unwrap();
        assert_eq!(balance(&chain, bob), U256::from(103 * ETH));
        assert_eq!(balance(&chain, carol), U256::from(5 * ETH));
        chain
            .import_with_nodes(replay_next.blocks[0].clone(), &replay_next.new_nodes)
            .unwrap();
        assert_eq!(chain.block_number(), 3);
        assert_eq!(balance(&chain, carol), U256::from(5 * ETH + 1));
        // Soft blocks replaced: the chain falls back and takes another block 3.
        chain.truncate(3);
        assert_eq!(chain.block_number(), 2);
        assert_eq!(balance(&chain, carol), U256::from(5 * ETH));
        assert!(chain.block(3).is_none());
        chain.import(replay_next.blocks[0].clone()).unwrap();
        assert_eq!(chain.block_number(), 3);
    }

    #[test]
    fn a_section_that_does_not_decode_leaves_the_delayed_messages_a_block_of_their_own() {
        let (root, store) = genesis();
        let guest = StfGuest::new(program::EVM_STF_WASM).unwrap();
        let deposit = DelayedMessage::Deposit(Deposit {
            to: [0xca; 20],
            amount: ETH,
        });
        let replay = replay_evm(
            &guest,
            &posted(vec![deposit], vec![0xff]),
            &root,
            &store,
            None,
        )
        .unwrap();
        assert_eq!(
            replay.outputs.status,
            BatchStatus::TransactionsRefused(RejectReason::Malformed)
        );
        assert_eq!(replay.blocks.len(), 1);
        assert_eq!(replay.blocks[0].deposits.len(), 1);
        assert!(replay.blocks[0].transactions.is_empty());
    }
}
