//! [`ChainBlock`] to the store's plain-bytes [`StoredBlock`] and back: what a restart rebuilds the
//! chain from without executing anything (the sender is stored, the envelope decoded again, the
//! commitments kept as computed).

use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::{Decodable2718, Encodable2718};
use alloy::primitives::{Address, Bloom, Bytes, Log, LogData, B256};
use program::evm::evm_stf::block::BlockHeader;
use program::ledger::{DelayedMessage, Deposit, Withdrawal};

use super::{ChainBlock, ChainTransaction, DepositEntry, PostedBlock};
use crate::node::store::{
    StoreError, StoredBlock, StoredDelayed, StoredDeposit, StoredLog, StoredTx,
};

impl ChainBlock {
    /// The block as the store keeps it.
    pub fn to_stored(&self) -> StoredBlock {
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
            delayed: self
                .posted
                .delayed
                .iter()
                .map(|message| match message {
                    DelayedMessage::Deposit(deposit) => StoredDelayed {
                        to: deposit.to,
                        amount: deposit.amount,
                        transaction: Vec::new(),
                    },
                    DelayedMessage::Transaction(bytes) => StoredDelayed {
                        to: [0; 20],
                        amount: 0,
                        transaction: bytes.clone(),
                    },
                })
                .collect(),
            sequenced: self.posted.sequenced.clone(),
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
            posted: PostedBlock {
                delayed: stored
                    .delayed
                    .iter()
                    .map(|record| {
                        if record.transaction.is_empty() {
                            DelayedMessage::Deposit(Deposit {
                                to: record.to,
                                amount: record.amount,
                            })
                        } else {
                            DelayedMessage::Transaction(record.transaction.clone())
                        }
                    })
                    .collect(),
                sequenced: stored.sequenced.clone(),
            },
        })
    }
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
            .map(|block| block.to_stored())
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
            assert_eq!(back.to_stored(), *stored);
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
}
