//! [`ChainBlock`] to the store's plain-bytes [`StoredBlock`] and back: what a restart rebuilds the
//! chain from without executing anything (the sender is stored, the envelope decoded again, the
//! commitments kept as computed).

use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::{Decodable2718, Encodable2718};
use alloy::primitives::{Address, Bloom, Bytes, Log, LogData, B256};
use program::evm::evm_stf::block::BlockHeader;
use program::ledger::Withdrawal;

use super::{ChainBlock, ChainTransaction, DepositEntry};
use crate::node::store::{StoreError, StoredBlock, StoredDeposit, StoredLog, StoredTx};

impl ChainBlock {
    /// The block as the store keeps it: `batch` and `position_in_batch` say where it is posted,
    /// `refused` the sequenced transactions the STF refused at their index in the posted list.
    pub fn to_stored(
        &self,
        batch: u64,
        position_in_batch: u32,
        refused: Vec<(u32, Vec<u8>)>,
    ) -> StoredBlock {
        let header = &self.header;
        StoredBlock {
            number: header.number,
            hash: self.hash.0,
            parent_hash: header.parent_hash.0,
            timestamp: header.timestamp,
            fee_recipient: header.fee_recipient.0 .0,
            gas_limit: header.gas_limit,
            gas_used: header.gas_used,
            base_fee: header.base_fee,
            receipts_hash: header.receipts_hash.0,
            state_root: self.state_root,
            batch,
            position_in_batch,
            deposits: self
                .deposits
                .iter()
                .map(|deposit| StoredDeposit {
                    to: deposit.to.0 .0,
                    amount: deposit.amount,
                    credited: deposit.credited,
                })
                .collect(),
            transactions: self.transactions.iter().map(stored_tx).collect(),
            refused,
            withdrawals: self
                .withdrawals
                .iter()
                .map(|w| (w.l1_recipient, w.amount, w.index))
                .collect(),
            logs_bloom: self.logs_bloom.0.to_vec(),
            transactions_root: self.transactions_root.0,
            receipts_root: self.receipts_root.0,
            transactions_size: self.transactions_size,
        }
    }

    /// The block back from the store; `Corrupt` if a transaction's bytes no longer decode.
    pub fn from_stored(stored: &StoredBlock) -> Result<ChainBlock, StoreError> {
        let transactions = stored
            .transactions
            .iter()
            .map(chain_tx)
            .collect::<Result<Vec<_>, _>>()?;
        if stored.logs_bloom.len() != 256 {
            return Err(StoreError::Corrupt(format!(
                "block {}: a logs bloom of {} bytes",
                stored.number,
                stored.logs_bloom.len()
            )));
        }
        Ok(ChainBlock {
            header: BlockHeader {
                parent_hash: B256::from(stored.parent_hash),
                number: stored.number,
                timestamp: stored.timestamp,
                fee_recipient: Address::from(stored.fee_recipient),
                gas_limit: stored.gas_limit,
                gas_used: stored.gas_used,
                base_fee: stored.base_fee,
                receipts_hash: B256::from(stored.receipts_hash),
            },
            hash: B256::from(stored.hash),
            state_root: stored.state_root,
            transactions,
            deposits: stored
                .deposits
                .iter()
                .map(|deposit| DepositEntry {
                    to: Address::from(deposit.to),
                    amount: deposit.amount,
                    credited: deposit.credited,
                })
                .collect(),
            withdrawals: stored
                .withdrawals
                .iter()
                .map(|&(l1_recipient, amount, index)| Withdrawal {
                    l1_recipient,
                    amount,
                    index,
                })
                .collect(),
            logs_bloom: Bloom::from_slice(&stored.logs_bloom),
            transactions_root: B256::from(stored.transactions_root),
            receipts_root: B256::from(stored.receipts_root),
            transactions_size: stored.transactions_size,
        })
    }
}

/// The block's sequenced transactions as posted (the refused ones at their place): the
/// `L2Block::transactions` its batch carries.
pub fn posted_transactions(stored: &StoredBlock) -> Vec<Vec<u8>> {
    let mut included = stored
        .transactions
        .iter()
        .filter(|tx| !tx.forced)
        .map(|tx| tx.raw.clone());
    let total = stored.transactions.iter().filter(|tx| !tx.forced).count() + stored.refused.len();
    let mut refused = stored.refused.iter().peekable();
    let mut out = Vec::with_capacity(total);
    for index in 0..total {
        match refused.peek() {
            Some((at, bytes)) if *at as usize == index => {
                out.push(bytes.clone());
                refused.next();
            }
            _ => out.extend(included.next()),
        }
    }
    out
}

fn stored_tx(tx: &ChainTransaction) -> StoredTx {
    StoredTx {
        hash: tx.hash.0,
        raw: tx.envelope.encoded_2718(),
        sender: tx.sender.0 .0,
        forced: tx.forced,
        success: tx.success,
        gas_used: tx.gas_used,
        cumulative_gas_used: tx.cumulative_gas_used,
        effective_gas_price: tx.effective_gas_price,
        contract_address: tx.contract_address.map(|address| address.0 .0),
        logs: tx
            .logs
            .iter()
            .map(|log| StoredLog {
                address: log.address.0 .0,
                topics: log.data.topics().iter().map(|topic| topic.0).collect(),
                data: log.data.data.to_vec(),
            })
            .collect(),
        first_log_index: tx.first_log_index,
        output: tx.output.to_vec(),
    }
}

fn chain_tx(tx: &StoredTx) -> Result<ChainTransaction, StoreError> {
    let envelope = TxEnvelope::decode_2718(&mut tx.raw.as_slice())
        .map_err(|e| StoreError::Corrupt(format!("transaction {}: {e}", B256::from(tx.hash))))?;
    Ok(ChainTransaction {
        hash: B256::from(tx.hash),
        envelope,
        sender: Address::from(tx.sender),
        forced: tx.forced,
        success: tx.success,
        gas_used: tx.gas_used,
        cumulative_gas_used: tx.cumulative_gas_used,
        effective_gas_price: tx.effective_gas_price,
        contract_address: tx.contract_address.map(Address::from),
        logs: tx
            .logs
            .iter()
            .map(|log| Log {
                address: Address::from(log.address),
                data: LogData::new_unchecked(
                    log.topics.iter().map(|topic| B256::from(*topic)).collect(),
                    Bytes::from(log.data.clone()),
                ),
            })
            .collect(),
        first_log_index: tx.first_log_index,
        output: Bytes::from(tx.output.clone()),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use alloy::primitives::TxKind;

    use super::*;
    use crate::node::evm_chain::tests::{
        address, chain, demo_token, key, produce, signed, transfer_to, tx, ETH,
    };
    use crate::node::store::{BlockCommit, BlockTxLocation, NodeDb};

    #[test]
    fn blocks_survive_the_store_and_come_back_alike() {
        let mut chain = chain();
        let alice = key(0);
        let bob = address(&key(1));
        chain.submit(&transfer_to(&alice, 0, bob, ETH)).unwrap();
        chain
            .submit(&signed(
                &alice,
                tx(1, TxKind::Create, 0, demo_token(1_000), 1_500_000),
            ))
            .unwrap();
        produce(&mut chain, &[]);
        chain.submit(&transfer_to(&alice, 2, bob, 1)).unwrap();
        produce(&mut chain, &[]);
        assert!(
            chain.blocks[1]
                .transactions
                .iter()
                .any(|tx| !tx.logs.is_empty()),
            "the token's mint logged"
        );
        let stored: Vec<StoredBlock> = chain.blocks[1..]
            .iter()
            .enumerate()
            .map(|(position, block)| block.to_stored(1, position as u32, vec![]))
            .collect();

        let dir = std::env::temp_dir().join(format!("evm-blocks-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let mut db = NodeDb::open(&dir).unwrap();
            db.commit_blocks(BlockCommit {
                blocks: stored.clone(),
                new_nodes: vec![],
            })
            .unwrap();
        }
        let mut db = NodeDb::open(&dir).unwrap();
        assert_eq!(db.soft_head().unwrap(), 2);
        let read = db.blocks_from(1).unwrap();
        assert_eq!(read, stored);
        for (original, stored) in chain.blocks[1..].iter().zip(&read) {
            let back = ChainBlock::from_stored(stored).unwrap();
            assert_eq!(back.hash, original.hash);
            assert_eq!(back.state_root, original.state_root);
            assert_eq!(back.head(), original.head());
            assert_eq!(back.logs_bloom, original.logs_bloom);
            for (a, b) in back.transactions.iter().zip(&original.transactions) {
                assert_eq!((a.hash, a.sender, &a.logs), (b.hash, b.sender, &b.logs));
                assert_eq!(a.envelope.tx_hash(), b.envelope.tx_hash());
            }
            assert_eq!(
                back.to_stored(stored.batch, stored.position_in_batch, vec![]),
                *stored
            );
        }
        let last = chain.blocks[2].transactions[0].hash;
        assert_eq!(
            db.block_tx(&last.0).unwrap(),
            Some(BlockTxLocation { block: 2, index: 0 })
        );
        assert_eq!(db.block_number(&chain.blocks[1].hash.0).unwrap(), Some(1));

        db.drop_blocks_from(2).unwrap();
        assert_eq!(db.soft_head().unwrap(), 1);
        assert_eq!(db.block(2).unwrap(), None);
        assert_eq!(db.block_tx(&last.0).unwrap(), None);
        assert_eq!(db.block_number(&chain.blocks[2].hash.0).unwrap(), None);
        assert!(db.block(1).unwrap().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_posted_block_is_rebuilt_with_its_refused_transactions_in_place() {
        let mut chain = chain();
        let alice = key(0);
        let bob = address(&key(1));
        chain.submit(&transfer_to(&alice, 0, bob, ETH)).unwrap();
        chain.submit(&transfer_to(&alice, 1, bob, ETH)).unwrap();
        produce(&mut chain, &[]);
        let raw: Vec<Vec<u8>> = chain.blocks[1]
            .transactions
            .iter()
            .map(|tx| tx.envelope.encoded_2718())
            .collect();
        let stored = chain.blocks[1].to_stored(1, 0, vec![(0, vec![0xaa]), (2, vec![0xbb])]);
        assert_eq!(
            posted_transactions(&stored),
            vec![vec![0xaa], raw[0].clone(), vec![0xbb], raw[1].clone()]
        );
    }
}
