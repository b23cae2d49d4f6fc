//! The node's persistent store on redb (embedded, ACID, pure Rust): trie nodes, applied batches
//! with their receipts and withdrawals, the mempool and the L1 sync cursor. Everything one batch
//! changes is written in one transaction ([`NodeDb::commit_batch`]): after a crash the store holds
//! a batch wholly or not at all. A transaction enters the mempool only once its write has
//! committed ([`NodeDb::admit`]), so an acknowledged transaction survives kill -9.
//!
//! The EVM chain's L2 blocks ([`StoredBlock`], with their receipts) are written by
//! [`NodeDb::commit_blocks`], their trie nodes in the same transaction, before a receipt of them
//! is served; [`NodeDb::blocks_from`] is what a restart rebuilds the chain from. A batch applied
//! from L1 records the last block it made (`safe`, and per batch for `finalized`).
//!
//! The trie nodes are also kept in memory (a [`NodeStore`], loaded at open): the guest's preimage
//! oracle reads them there, the store is where they survive. With state caching off (the config's
//! `enable_state_caching = false`) the memory copy is not extended after a batch but read again
//! from the store whole: slower, and the state served is always what the disk holds, as after a
//! restart.

use std::path::Path;

use bincode::{Decode, Encode};
use program::ledger::Hash;
use program::NodeStore;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

/// keccak256(node) → node.
const NODES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trie_nodes");
/// batch number → [`StoredBatch`].
const BATCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("batches");
/// transaction hash → [`TxLocation`].
const RECEIPTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("receipts");
/// transaction hash → [`StoredWithdrawal`].
const WITHDRAWALS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("withdrawals");
/// arrival number → transaction bytes, and hash → arrival number.
const MEMPOOL: TableDefinition<u64, &[u8]> = TableDefinition::new("mempool");
const MEMPOOL_INDEX: TableDefinition<&[u8], u64> = TableDefinition::new("mempool_index");
/// name → value: the head, the L1 cursor, the next arrival number.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// L2 block number → [`StoredBlock`] (the EVM chain's blocks, soft and posted).
const EVM_BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("evm_blocks");
/// L2 block hash → its number.
const EVM_BLOCK_HASHES: TableDefinition<&[u8], u64> = TableDefinition::new("evm_block_hashes");
/// transaction hash → [`BlockTxLocation`] (included transactions only).
const EVM_TXS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("evm_txs");
/// EVM batch number -> the last L2 block it made.
const EVM_BATCH_BLOCKS: TableDefinition<u64, u64> = TableDefinition::new("evm_batch_blocks");

const HEAD: &str = "head";
const L1_CURSOR: &str = "l1_cursor";
const NEXT_ARRIVAL: &str = "next_arrival";
/// The last L2 block stored (the sequencer's soft head; a validator's last replayed block).
const SOFT_HEAD: &str = "soft_head";
/// The last L2 block of the last batch applied from L1 (`safe`).
const SAFE_BLOCK: &str = "safe_block";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store: {0}")]
    Db(String),
    #[error("store: a record does not decode: {0}")]
    Corrupt(String),
}

fn failed<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Db(e.to_string())
}

fn encode<T: Encode>(value: &T) -> Result<Vec<u8>, StoreError> {
    bincode::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn decode<T: Decode<()>>(bytes: &[u8]) -> Result<T, StoreError> {
    bincode::decode_from_slice(bytes, bincode::config::standard())
        .map(|(value, _)| value)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The chain head as the node has applied it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Head {
    pub batch: u64,
    pub state_root: Hash,
}

/// An applied batch: its inbox message (pre-state root included), outputs and statuses.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StoredBatch {
    pub number: u64,
    pub message: Vec<u8>,
    pub outputs: Vec<u8>,
    /// Status codes, deposits first, then the sequencer's transactions.
    pub receipts: Vec<u8>,
    pub l1_block: u64,
    /// The blobs of a batch posted in blobs (a dispute over it reads them again, after L1's
    /// nodes may have pruned them).
    pub blobs: Vec<Vec<u8>>,
}

/// Where a transaction landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct TxLocation {
    pub batch: u64,
    /// Among the sequencer's transactions of the batch.
    pub position: u32,
    pub status: u8,
}

/// A withdrawal with what the outbox proof needs.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StoredWithdrawal {
    pub batch: u64,
    pub l1_recipient: [u8; 20],
    pub amount: u128,
    pub index: u64,
    /// Its leaf position among the batch's withdrawals.
    pub position: u32,
    /// The outbox proof: sibling hashes from the leaf up (rs_merkle's shape).
    pub proof: Vec<[u8; 32]>,
}

/// Everything one batch changes, written at once.
#[derive(Clone, Debug, Default)]
pub struct BatchCommit {
    pub batch: Option<StoredBatch>,
    pub head: Head,
    pub new_nodes: Vec<Vec<u8>>,
    pub receipts: Vec<(Hash, TxLocation)>,
    pub withdrawals: Vec<(Hash, StoredWithdrawal)>,
    /// Mempool transactions the batch included (or refused for good).
    pub consumed: Vec<Hash>,
    pub l1_cursor: u64,
    /// On the EVM: the last L2 block the batch made (it becomes `safe`).
    pub last_block: Option<u64>,
}

/// An L2 block of the EVM chain as the node keeps it: everything the Ethereum JSON-RPC serves of
/// it (header, transactions with their receipts, deposits, withdrawal leaves) and what its batch
/// posts of it, in plain bytes (the store knows no alloy types; `evm_chain::stored` converts).
/// Written before any receipt of it is served, so what a client saw survives kill -9.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StoredBlock {
    pub number: u64,
    pub hash: [u8; 32],
    pub parent_hash: [u8; 32],
    pub timestamp: u64,
    pub fee_recipient: [u8; 20],
    pub gas_limit: u64,
    pub gas_used: u64,
    pub base_fee: u64,
    /// The receipts commitment over the block's entries (what its hash covers).
    pub receipts_hash: [u8; 32],
    pub state_root: Hash,
    pub deposits: Vec<StoredDeposit>,
    /// Included transactions, in block order, with their receipts.
    pub transactions: Vec<StoredTx>,
    /// What its batch carries of it: the delayed messages it opened with (then it is the first
    /// block of its batch) and every sequenced transaction as executed, refused ones included.
    pub delayed: Vec<StoredDelayed>,
    pub sequenced: Vec<Vec<u8>>,
    /// Withdrawal leaves its transactions started: recipient, wei, index.
    pub withdrawals: Vec<([u8; 20], u128, u64)>,
    pub logs_bloom: Vec<u8>,
    pub transactions_root: [u8; 32],
    pub receipts_root: [u8; 32],
    pub transactions_size: u64,
}

/// A delayed message: a deposit (`transaction` empty) or a forced transaction.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StoredDelayed {
    pub to: [u8; 20],
    pub amount: u128,
    pub transaction: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StoredDeposit {
    pub to: [u8; 20],
    pub amount: u128,
    pub credited: bool,
}

/// An included transaction and its receipt.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StoredTx {
    pub hash: [u8; 32],
    /// EIP-2718 bytes.
    pub raw: Vec<u8>,
    pub sender: [u8; 20],
    pub forced: bool,
    pub success: bool,
    pub gas_used: u64,
    pub cumulative_gas_used: u64,
    pub effective_gas_price: u128,
    pub contract_address: Option<[u8; 20]>,
    pub logs: Vec<StoredLog>,
    pub first_log_index: u64,
    pub output: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StoredLog {
    pub address: [u8; 20],
    pub topics: Vec<[u8; 32]>,
    pub data: Vec<u8>,
}

/// Where an included transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct BlockTxLocation {
    pub block: u64,
    pub index: u32,
}

/// L2 blocks and their trie nodes, written at once.
#[derive(Clone, Debug, Default)]
pub struct BlockCommit {
    pub blocks: Vec<StoredBlock>,
    pub new_nodes: Vec<Vec<u8>>,
}

pub struct NodeDb {
    db: Database,
    /// Every trie node, in memory for the guest's preimage oracle.
    nodes: NodeStore,
    /// Extend `nodes` after a batch (on) or read them all again from disk (off).
    state_caching: bool,
    /// How many times `nodes` was read whole from disk (open included).
    node_loads: u64,
}

impl NodeDb {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<NodeDb, StoreError> {
        std::fs::create_dir_all(dir).map_err(failed)?;
        let db = Database::create(dir.join("node.redb")).map_err(failed)?;
        let write = db.begin_write().map_err(failed)?;
        // Create every table, so reads never meet a missing one.
        write.open_table(NODES).map_err(failed)?;
        write.open_table(BATCHES).map_err(failed)?;
        write.open_table(RECEIPTS).map_err(failed)?;
        write.open_table(WITHDRAWALS).map_err(failed)?;
        write.open_table(MEMPOOL).map_err(failed)?;
        write.open_table(MEMPOOL_INDEX).map_err(failed)?;
        write.open_table(META).map_err(failed)?;
        write.open_table(EVM_BLOCKS).map_err(failed)?;
        write.open_table(EVM_BLOCK_HASHES).map_err(failed)?;
        write.open_table(EVM_TXS).map_err(failed)?;
        write.open_table(EVM_BATCH_BLOCKS).map_err(failed)?;
        write.commit().map_err(failed)?;
        let mut store = NodeDb {
            db,
            nodes: NodeStore::new(),
            state_caching: true,
            node_loads: 0,
        };
        store.load_nodes()?;
        Ok(store)
    }

    /// Whether the trie's nodes are kept in memory between batches (the default) or read again
    /// from disk after each one.
    pub fn with_state_caching(mut self, on: bool) -> NodeDb {
        self.state_caching = on;
        self
    }

    /// How many times the trie's nodes were read whole from disk: once at open, and after every
    /// batch with state caching off.
    pub fn node_loads(&self) -> u64 {
        self.node_loads
    }

    fn load_nodes(&mut self) -> Result<(), StoreError> {
        let mut nodes = NodeStore::new();
        {
            let read = self.db.begin_read().map_err(failed)?;
            let table = read.open_table(NODES).map_err(failed)?;
            for entry in table.iter().map_err(failed)? {
                let (_, node) = entry.map_err(failed)?;
                nodes.insert(node.value());
            }
        }
        nodes.settle();
        self.nodes = nodes;
        self.node_loads += 1;
        Ok(())
    }

    /// The trie nodes, for the guest's preimage oracle.
    pub fn nodes(&self) -> &NodeStore {
        &self.nodes
    }

    fn meta<T: Decode<()>>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let read = self.db.begin_read().map_err(failed)?;
        let table = read.open_table(META).map_err(failed)?;
        match table.get(key).map_err(failed)? {
            Some(bytes) => Ok(Some(decode(bytes.value())?)),
            None => Ok(None),
        }
    }

    pub fn head(&self) -> Result<Head, StoreError> {
        Ok(self.meta(HEAD)?.unwrap_or_default())
    }

    pub fn l1_cursor(&self) -> Result<u64, StoreError> {
        Ok(self.meta(L1_CURSOR)?.unwrap_or(0))
    }

    /// Sets the head without a batch (a fresh store starts at the deployment's genesis root).
    pub fn set_head(&mut self, head: Head) -> Result<(), StoreError> {
        let l1_cursor = self.l1_cursor()?;
        self.commit_batch(BatchCommit {
            head,
            l1_cursor,
            ..BatchCommit::default()
        })
    }

    /// Writes a batch's every effect in one transaction; then adds its nodes to memory.
    pub fn commit_batch(&mut self, commit: BatchCommit) -> Result<(), StoreError> {
        let write = self.db.begin_write().map_err(failed)?;
        {
            write_nodes(&write, &commit.new_nodes)?;
            if let Some(batch) = &commit.batch {
                let mut batches = write.open_table(BATCHES).map_err(failed)?;
                batches
                    .insert(batch.number, encode(batch)?.as_slice())
                    .map_err(failed)?;
            }
            let mut receipts = write.open_table(RECEIPTS).map_err(failed)?;
            for (hash, location) in &commit.receipts {
                receipts
                    .insert(hash.as_slice(), encode(location)?.as_slice())
                    .map_err(failed)?;
            }
            let mut withdrawals = write.open_table(WITHDRAWALS).map_err(failed)?;
            for (hash, withdrawal) in &commit.withdrawals {
                withdrawals
                    .insert(hash.as_slice(), encode(withdrawal)?.as_slice())
                    .map_err(failed)?;
            }
            remove_waiting(&write, &commit.consumed)?;
            let mut meta = write.open_table(META).map_err(failed)?;
            meta.insert(HEAD, encode(&commit.head)?.as_slice())
                .map_err(failed)?;
            if let (Some(last), Some(batch)) = (commit.last_block, &commit.batch) {
                meta.insert(SAFE_BLOCK, encode(&last)?.as_slice())
                    .map_err(failed)?;
                let mut ends = write.open_table(EVM_BATCH_BLOCKS).map_err(failed)?;
                ends.insert(batch.number, last).map_err(failed)?;
            }
            meta.insert(L1_CURSOR, encode(&commit.l1_cursor)?.as_slice())
                .map_err(failed)?;
        }
        write.commit().map_err(failed)?;
        self.remember_nodes(&commit.new_nodes)
    }

    /// Adds written nodes to memory (or reads them all again, with state caching off).
    fn remember_nodes(&mut self, nodes: &[Vec<u8>]) -> Result<(), StoreError> {
        if !self.state_caching {
            return self.load_nodes();
        }
        for node in nodes {
            self.nodes.insert(node);
        }
        // Runs clone the store: keep their clones cheap (what they share is the base).
        self.nodes.settle();
        Ok(())
    }

    /// Writes L2 blocks (they follow the soft head, in order) with their trie nodes and index
    /// entries in one transaction; then adds the nodes to memory. The soft head becomes the last.
    pub fn commit_blocks(&mut self, commit: BlockCommit) -> Result<(), StoreError> {
        let Some(last) = commit.blocks.last().map(|block| block.number) else {
            return Ok(());
        };
        let write = self.db.begin_write().map_err(failed)?;
        {
            write_nodes(&write, &commit.new_nodes)?;
            let mut blocks = write.open_table(EVM_BLOCKS).map_err(failed)?;
            let mut hashes = write.open_table(EVM_BLOCK_HASHES).map_err(failed)?;
            let mut txs = write.open_table(EVM_TXS).map_err(failed)?;
            for block in &commit.blocks {
                blocks
                    .insert(block.number, encode(block)?.as_slice())
                    .map_err(failed)?;
                hashes
                    .insert(block.hash.as_slice(), block.number)
                    .map_err(failed)?;
                for (index, tx) in block.transactions.iter().enumerate() {
                    let location = BlockTxLocation {
                        block: block.number,
                        index: index as u32,
                    };
                    txs.insert(tx.hash.as_slice(), encode(&location)?.as_slice())
                        .map_err(failed)?;
                }
            }
            let mut meta = write.open_table(META).map_err(failed)?;
            meta.insert(SOFT_HEAD, encode(&last)?.as_slice())
                .map_err(failed)?;
        }
        write.commit().map_err(failed)?;
        self.remember_nodes(&commit.new_nodes)
    }

    /// Removes the blocks from `first` on (soft blocks another poster's batch replaced) and their
    /// index entries; the soft head becomes `first - 1`. Trie nodes stay (they are content
    /// addressed and may be shared).
    pub fn drop_blocks_from(&mut self, first: u64) -> Result<(), StoreError> {
        let write = self.db.begin_write().map_err(failed)?;
        {
            let mut blocks = write.open_table(EVM_BLOCKS).map_err(failed)?;
            let mut hashes = write.open_table(EVM_BLOCK_HASHES).map_err(failed)?;
            let mut txs = write.open_table(EVM_TXS).map_err(failed)?;
            let doomed: Vec<StoredBlock> = blocks
                .range(first..)
                .map_err(failed)?
                .map(|entry| {
                    let (_, bytes) = entry.map_err(failed)?;
                    decode(bytes.value())
                })
                .collect::<Result<_, _>>()?;
            for block in &doomed {
                blocks.remove(block.number).map_err(failed)?;
                hashes.remove(block.hash.as_slice()).map_err(failed)?;
                for tx in &block.transactions {
                    txs.remove(tx.hash.as_slice()).map_err(failed)?;
                }
            }
            let mut meta = write.open_table(META).map_err(failed)?;
            meta.insert(SOFT_HEAD, encode(&first.saturating_sub(1))?.as_slice())
                .map_err(failed)?;
        }
        write.commit().map_err(failed)
    }

    /// The last L2 block of the last batch applied (0 before any).
    pub fn safe_block(&self) -> Result<u64, StoreError> {
        Ok(self.meta(SAFE_BLOCK)?.unwrap_or(0))
    }

    /// The last L2 block EVM batch `batch` made, once applied.
    pub fn batch_last_block(&self, batch: u64) -> Result<Option<u64>, StoreError> {
        let read = self.db.begin_read().map_err(failed)?;
        let table = read.open_table(EVM_BATCH_BLOCKS).map_err(failed)?;
        Ok(table.get(batch).map_err(failed)?.map(|last| last.value()))
    }

    /// The last L2 block stored (0, genesis, before any).
    pub fn soft_head(&self) -> Result<u64, StoreError> {
        Ok(self.meta(SOFT_HEAD)?.unwrap_or(0))
    }

    pub fn block(&self, number: u64) -> Result<Option<StoredBlock>, StoreError> {
        let read = self.db.begin_read().map_err(failed)?;
        let table = read.open_table(EVM_BLOCKS).map_err(failed)?;
        table
            .get(number)
            .map_err(failed)?
            .map(|bytes| decode(bytes.value()))
            .transpose()
    }

    /// Blocks `first..` in order (what a restart rebuilds the chain from).
    pub fn blocks_from(&self, first: u64) -> Result<Vec<StoredBlock>, StoreError> {
        let read = self.db.begin_read().map_err(failed)?;
        let table = read.open_table(EVM_BLOCKS).map_err(failed)?;
        let mut out = Vec::new();
        for entry in table.range(first..).map_err(failed)? {
            let (_, bytes) = entry.map_err(failed)?;
            out.push(decode(bytes.value())?);
        }
        Ok(out)
    }

    pub fn block_number(&self, hash: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        let read = self.db.begin_read().map_err(failed)?;
        let table = read.open_table(EVM_BLOCK_HASHES).map_err(failed)?;
        Ok(table
            .get(hash.as_slice())
            .map_err(failed)?
            .map(|n| n.value()))
    }

    pub fn block_tx(&self, hash: &[u8; 32]) -> Result<Option<BlockTxLocation>, StoreError> {
        let read = self.db.begin_read().map_err(failed)?;
        let table = read.open_table(EVM_TXS).map_err(failed)?;
        table
            .get(hash.as_slice())
            .map_err(failed)?
            .map(|bytes| decode(bytes.value()))
            .transpose()
    }

    pub fn batch(&self, number: u64) -> Result<Option<StoredBatch>, StoreError> {
        let read = self.db.begin_read().map_err(failed)?;
        let table = read.open_table(BATCHES).map_err(failed)?;
        table
            .get(number)
            .map_err(failed)?
            .map(|bytes| decode(bytes.value()))
            .transpose()
    }

    pub fn receipt(&self, tx: &Hash) -> Result<Option<TxLocation>, StoreError> {
        let read = self.db.begin_read().map_err(failed)?;
        let table = read.open_table(RECEIPTS).map_err(failed)?;
        table
            .get(tx.as_slice())
            .map_err(failed)?
            .map(|bytes| decode(bytes.value()))
            .transpose()
    }

    pub fn withdrawal(&self, tx: &Hash) -> Result<Option<StoredWithdrawal>, StoreError> {
        let read = self.db.begin_read().map_err(failed)?;
        let table = read.open_table(WITHDRAWALS).map_err(failed)?;
        table
            .get(tx.as_slice())
            .map_err(failed)?
            .map(|bytes| decode(bytes.value()))
            .transpose()
    }

    /// Adds a transaction to the mempool; when this returns `Ok(true)` it is on disk. `Ok(false)`:
    /// it was already there.
    pub fn admit(&mut self, tx: &Hash, bytes: &[u8]) -> Result<bool, StoreError> {
        let write = self.db.begin_write().map_err(failed)?;
        {
            let mut index = write.open_table(MEMPOOL_INDEX).map_err(failed)?;
            if index.get(tx.as_slice()).map_err(failed)?.is_some() {
                return Ok(false);
            }
            let mut meta = write.open_table(META).map_err(failed)?;
            let arrival: u64 = match meta.get(NEXT_ARRIVAL).map_err(failed)? {
                Some(bytes) => decode(bytes.value())?,
                None => 0,
            };
            meta.insert(NEXT_ARRIVAL, encode(&(arrival + 1))?.as_slice())
                .map_err(failed)?;
            index.insert(tx.as_slice(), arrival).map_err(failed)?;
            let mut pool = write.open_table(MEMPOOL).map_err(failed)?;
            pool.insert(arrival, bytes).map_err(failed)?;
        }
        write.commit().map_err(failed)?;
        Ok(true)
    }

    /// Adds transactions to the mempool in one store transaction (one disk sync); the ones already
    /// there are skipped. When this returns they are all on disk.
    pub fn admit_all(&mut self, txs: &[(Hash, Vec<u8>)]) -> Result<(), StoreError> {
        if txs.is_empty() {
            return Ok(());
        }
        let write = self.db.begin_write().map_err(failed)?;
        {
            let mut index = write.open_table(MEMPOOL_INDEX).map_err(failed)?;
            let mut pool = write.open_table(MEMPOOL).map_err(failed)?;
            let mut meta = write.open_table(META).map_err(failed)?;
            let mut arrival: u64 = match meta.get(NEXT_ARRIVAL).map_err(failed)? {
                Some(bytes) => decode(bytes.value())?,
                None => 0,
            };
            for (hash, bytes) in txs {
                if index.get(hash.as_slice()).map_err(failed)?.is_some() {
                    continue;
                }
                index.insert(hash.as_slice(), arrival).map_err(failed)?;
                pool.insert(arrival, bytes.as_slice()).map_err(failed)?;
                arrival += 1;
            }
            meta.insert(NEXT_ARRIVAL, encode(&arrival)?.as_slice())
                .map_err(failed)?;
        }
        write.commit().map_err(failed)
    }

    /// Up to `limit` mempool transactions, oldest first.
    pub fn pending(&self, limit: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let read = self.db.begin_read().map_err(failed)?;
        let table = read.open_table(MEMPOOL).map_err(failed)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(failed)?.take(limit) {
            let (_, bytes) = entry.map_err(failed)?;
            out.push(bytes.value().to_vec());
        }
        Ok(out)
    }

    pub fn mempool_len(&self) -> Result<u64, StoreError> {
        let read = self.db.begin_read().map_err(failed)?;
        let table = read.open_table(MEMPOOL).map_err(failed)?;
        table.len().map_err(failed)
    }

    /// Takes transactions out of the mempool that will never go in (refused for good).
    pub fn forget(&mut self, txs: &[Hash]) -> Result<(), StoreError> {
        if txs.is_empty() {
            return Ok(());
        }
        let write = self.db.begin_write().map_err(failed)?;
        remove_waiting(&write, txs)?;
        write.commit().map_err(failed)
    }
}

fn write_nodes(write: &redb::WriteTransaction, nodes: &[Vec<u8>]) -> Result<(), StoreError> {
    let mut table = write.open_table(NODES).map_err(failed)?;
    for node in nodes {
        table
            .insert(program::keccak256(node).as_slice(), node.as_slice())
            .map_err(failed)?;
    }
    Ok(())
}

/// Takes `txs` out of the mempool (those that are in it).
fn remove_waiting(write: &redb::WriteTransaction, txs: &[Hash]) -> Result<(), StoreError> {
    let mut pool = write.open_table(MEMPOOL).map_err(failed)?;
    let mut index = write.open_table(MEMPOOL_INDEX).map_err(failed)?;
    for hash in txs {
        if let Some(arrival) = index.remove(hash.as_slice()).map_err(failed)? {
            pool.remove(arrival.value()).map_err(failed)?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("node-db-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_batch_and_the_mempool_survive_reopening() {
        let path = dir("reopen");
        let tx = program::keccak256(b"tx");
        {
            let mut store = NodeDb::open(&path).unwrap();
            assert_eq!(store.head().unwrap(), Head::default());
            assert!(store.admit(&tx, b"signed bytes").unwrap());
            assert!(!store.admit(&tx, b"signed bytes").unwrap(), "once");
            assert!(store
                .admit(&program::keccak256(b"other"), b"later")
                .unwrap());
            let node = vec![7u8; 57];
            store
                .commit_batch(BatchCommit {
                    batch: Some(StoredBatch {
                        number: 1,
                        message: vec![1, 2, 3],
                        outputs: vec![4; 158],
                        receipts: vec![0],
                        l1_block: 9,
                        blobs: Vec::new(),
                    }),
                    head: Head {
                        batch: 1,
                        state_root: program::keccak256(&node),
                    },
                    new_nodes: vec![node],
                    receipts: vec![(
                        tx,
                        TxLocation {
                            batch: 1,
                            position: 0,
                            status: 0,
                        },
                    )],
                    withdrawals: vec![],
                    consumed: vec![tx],
                    l1_cursor: 9,
                    last_block: Some(4),
                })
                .unwrap();
        }
        let store = NodeDb::open(&path).unwrap();
        assert_eq!(store.head().unwrap().batch, 1);
        assert_eq!(store.l1_cursor().unwrap(), 9);
        assert_eq!(store.nodes().len(), 1);
        assert_eq!(store.batch(1).unwrap().unwrap().l1_block, 9);
        assert_eq!(store.receipt(&tx).unwrap().unwrap().batch, 1);
        assert_eq!(store.pending(10).unwrap(), vec![b"later".to_vec()]);
        assert_eq!(store.mempool_len().unwrap(), 1);
        assert_eq!(store.safe_block().unwrap(), 4);
        assert_eq!(store.batch_last_block(1).unwrap(), Some(4));
        assert_eq!(store.batch_last_block(2).unwrap(), None);
        std::fs::remove_dir_all(&path).unwrap();
    }
}
