//! The EVM STF over one inbox message: a [`ledger::Batch`]-shaped message in, the same
//! [`BatchOutputs`] out, so settlement, assertions and disputes do not change.
//!
//! # The message
//!
//! Header and delayed records exactly as for the ledger ([`ledger::InboxMessage`]): a deposit
//! credits `to` with the wei the bridge escrowed; a forced transaction is an Ethereum transaction
//! (EIP-2718 bytes). The sequencer section, opened ([`ledger::section`]: it may be in blobs, and
//! compressed; a blob the host does not know rejects the batch, `UnknownPreimage`), is
//! a bincode [`BlockList`]: per L2 block its timestamp,
//! fee recipient, how many of the batch's delayed messages it opens with, and its transactions
//! (each EIP-2718 bytes). If it does not decode, has trailing bytes, more than `max_transactions`
//! transactions, or blocks whose delayed counts do not add up to the batch's delayed messages,
//! none of it is applied (`TransactionsRefused`); the delayed messages stand.
//!
//! # Execution
//!
//! Each block opens with its share of the delayed messages, in L1's order, then runs its
//! transactions; when the sequencer section is empty or refused, the delayed messages get a block
//! of their own. So a batch is any run of blocks: the sequencer places deposits and forced
//! transactions in the block it made when it saw them. Each block follows [`crate::block`]'s rules.
//! A transaction that does not decode, whose signature recovers no key, or that revm refuses
//! (nonce, funds, intrinsic gas, fee cap, chain id) changes nothing and gets a `Refused`
//! receipt; an executed one, successful or not, pays its gas. A successful transaction's logs of
//! the [`WITHDRAWAL_EVENT`] from [`WITHDRAWALS`] become withdrawal leaves, index
//! `(batch_number << 32) | position among the batch's withdrawals`; the withdrawal contract's
//! balance is burned after every transaction. A state node that cannot be loaded rejects the
//! batch (`UnknownPreimage`): nothing it did counts.
//!
//! # Outputs
//!
//! As the ledger's: `post_state_root` is the world trie's root ([`crate::state`]),
//! `receipts_root` the receipts chain ([`crate::receipts`]), `tx_count` the sequencer's
//! transactions over all blocks.

use alloc::vec::Vec;

use alloy_primitives::{Address, B256, U256};
use bincode::{Decode, Encode};
use ledger::commitments::withdrawals_root;
use ledger::{
    Abi, BatchHeader, BatchOutputs, BatchStatus, Config, DelayedMessage, Hash, InboxMessage,
    RejectReason, Withdrawal,
};
use revm::context::result::ExecutionResult;
use revm::context::BlockEnv;
use revm::primitives::hardfork::SpecId;

use crate::block::{BlockHeader, Head, BLOCK_GAS_LIMIT};
use crate::execution::{run_transaction, wei, BlockContext, TxRun};
use crate::receipts::{EntryKind, Outcome, Receipt, ReceiptsChain, Refusal};
use crate::state::{BlockHashes, StateDb, StateError};
use crate::system::{WITHDRAWALS, WITHDRAWAL_EVENT};
use crate::transaction::{decode, Undecodable};

/// The hardfork whose rules the L2 follows.
pub const L2_SPEC: SpecId = SpecId::OSAKA;

/// One L2 block as the sequencer posts it: bincode's layout of the struct (timestamp varint, the
/// 20 bytes, the delayed count varint, then the transactions as `ledger::TransactionList` lays
/// them out: count, then each one's length and bytes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode)]
pub struct L2Block {
    pub timestamp: u64,
    pub fee_recipient: [u8; 20],
    /// How many of the batch's delayed messages (the next ones, in L1's order) open this block.
    pub delayed: u32,
    /// EIP-2718 transactions.
    pub transactions: Vec<Vec<u8>>,
}

/// The sequencer section of an EVM batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode)]
pub struct BlockList(pub Vec<L2Block>);

// Decoded by hand, never by bincode's derive: a derived `Vec` decoder reserves room for as many
// elements as the input claims (an adversary's sequencer section could claim 2^60 blocks and
// abort the guest), and how much it would reserve depends on the target's type sizes (a batch
// near a limit would decode natively and not in the guest). These decoders grow only with what
// they have read, so any claim past the input's end is an error.
impl<Context> Decode<Context> for L2Block {
    fn decode<D: bincode::de::Decoder<Context = Context>>(
        decoder: &mut D,
    ) -> Result<Self, bincode::error::DecodeError> {
        Ok(L2Block {
            timestamp: u64::decode(decoder)?,
            fee_recipient: <[u8; 20]>::decode(decoder)?,
            delayed: u32::decode(decoder)?,
            transactions: ledger::TransactionList::decode(decoder)?.0,
        })
    }
}
bincode::impl_borrow_decode!(L2Block);

impl<Context> Decode<Context> for BlockList {
    fn decode<D: bincode::de::Decoder<Context = Context>>(
        decoder: &mut D,
    ) -> Result<Self, bincode::error::DecodeError> {
        let count = u64::decode(decoder)?;
        let mut blocks = Vec::with_capacity(usize::try_from(count.min(64)).unwrap_or(0));
        // Terminates within the input: every block consumes at least 23 bytes of it.
        for _ in 0..count {
            blocks.push(L2Block::decode(decoder)?);
        }
        Ok(BlockList(blocks))
    }
}
bincode::impl_borrow_decode!(BlockList);

impl BlockList {
    /// The section posted uncompressed ([`ledger::section::raw`]); the host's
    /// `program::compress_section` compresses it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let encoding =
            bincode::encode_to_vec(self, bincode::config::standard()).unwrap_or_default();
        ledger::section::raw(&encoding)
    }

    /// Opens a posted section: `TooLarge` if it decompresses past the cap, `Malformed` unless it
    /// opens to exactly one encoded list. Lengths are bounded by the bytes there are: the decoders
    /// allocate per element read, never from a claimed length alone.
    pub fn open(posted: &[u8]) -> Result<BlockList, RejectReason> {
        BlockList::from_encoding(&ledger::section::open(posted)?)
    }

    /// A section's encoding, opened: `Malformed` unless it is exactly one encoded list.
    pub fn from_encoding(encoding: &[u8]) -> Result<BlockList, RejectReason> {
        let (list, read) = bincode::decode_from_slice(encoding, bincode::config::standard())
            .map_err(|_| RejectReason::Malformed)?;
        (read == encoding.len())
            .then_some(list)
            .ok_or(RejectReason::Malformed)
    }

    /// [`BlockList::open`], `None` for any refusal.
    pub fn from_bytes(posted: &[u8]) -> Option<BlockList> {
        BlockList::open(posted).ok()
    }

    pub fn transaction_count(&self) -> usize {
        self.0.iter().map(|block| block.transactions.len()).sum()
    }

    /// The delayed messages its blocks open with, together.
    pub fn delayed_count(&self) -> u64 {
        self.0.iter().map(|block| u64::from(block.delayed)).sum()
    }
}

/// A block the batch made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedBlock {
    pub header: BlockHeader,
    pub hash: B256,
    /// The state root after it, when the run computed one ([`BlockRoots::EveryBlock`]).
    pub state_root: Option<Hash>,
    /// Its entries: `receipts[first_receipt .. first_receipt + receipt_count]` of the batch.
    pub first_receipt: usize,
    pub receipt_count: usize,
}

/// Everything a batch produced: the outputs, and for the host its blocks and receipts.
#[derive(Clone, Debug, PartialEq)]
pub struct EvmExecution {
    pub outputs: BatchOutputs,
    pub blocks: Vec<SealedBlock>,
    pub receipts: Vec<Receipt>,
    pub withdrawals: Vec<Withdrawal>,
}

/// Runs the batch in the inbox, writes its outputs and returns everything. Never panics.
pub fn execute<A: Abi + ?Sized>(abi: &mut A, config: &Config) -> EvmExecution {
    execute_with(abi, config, BlockRoots::Batch)
}

/// Which state roots a run computes: the batch's only (the guest: fewer steps), or also each
/// block's (the host: what `eth_getBlock*` and reads at a block serve). The trie's root depends
/// only on its content, so both give the same batch outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockRoots {
    Batch,
    EveryBlock,
}

/// [`execute`], computing the state roots `block_roots` asks for.
pub fn execute_with<A: Abi + ?Sized>(
    abi: &mut A,
    config: &Config,
    block_roots: BlockRoots,
) -> EvmExecution {
    let execution = match run(abi, config, block_roots) {
        Ok(execution) => execution,
        Err((reason, header)) => rejected(reason, header),
    };
    abi.write_output(&execution.outputs.to_bytes());
    execution
}

fn rejected(reason: RejectReason, header: BatchHeader) -> EvmExecution {
    EvmExecution {
        outputs: BatchOutputs {
            batch_number: header.batch_number,
            chain_id: header.chain_id,
            pre_state_root: header.pre_state_root,
            post_state_root: header.pre_state_root,
            withdrawals_root: [0; 32],
            receipts_root: [0; 32],
            delayed_count: 0,
            tx_count: 0,
            withdrawal_count: 0,
            status: BatchStatus::Rejected(reason),
        },
        blocks: Vec::new(),
        receipts: Vec::new(),
        withdrawals: Vec::new(),
    }
}

type Rejection = (RejectReason, BatchHeader);

fn run<A: Abi + ?Sized>(
    abi: &mut A,
    config: &Config,
    block_roots: BlockRoots,
) -> Result<EvmExecution, Rejection> {
    let headless = |reason| (reason, BatchHeader::default());
    let bytes = ledger::stf::read_inbox(abi, config).map_err(headless)?;
    let message = InboxMessage::split(&bytes).ok_or(headless(RejectReason::Malformed))?;
    let header = message.header;
    if header.batch_number > u64::from(u32::MAX) {
        return Err(headless(RejectReason::Malformed));
    }
    let listed = match ledger::section::open_posted(abi, message.transactions) {
        // A blob the host does not know: the batch cannot be run (as for a missing trie node).
        Err(RejectReason::UnknownPreimage) => return Err((RejectReason::UnknownPreimage, header)),
        opened => opened.and_then(|encoding| BlockList::from_encoding(&encoding)),
    };
    let (mut blocks, status) = match listed {
        Err(reason) => (Vec::new(), BatchStatus::TransactionsRefused(reason)),
        Ok(list) if list.transaction_count() > config.max_transactions as usize => (
            Vec::new(),
            BatchStatus::TransactionsRefused(RejectReason::TooManyTransactions),
        ),
        Ok(list) if list.delayed_count() != message.delayed.len() as u64 => (
            Vec::new(),
            BatchStatus::TransactionsRefused(RejectReason::Malformed),
        ),
        Ok(BlockList(blocks)) => (blocks, BatchStatus::Accepted),
    };
    let tx_count = blocks
        .iter()
        .map(|block| block.transactions.len())
        .sum::<usize>();
    let unknown = |_: StateError| (RejectReason::UnknownPreimage, header);

    let mut db = StateDb::new(abi, header.pre_state_root, L2_SPEC, BlockHashes::History);
    let mut run = BatchRun {
        head: Head::read(&mut db).map_err(unknown)?,
        db,
        header,
        block_roots,
        chain: ReceiptsChain::default(),
        block_chain: ReceiptsChain::default(),
        receipts: Vec::new(),
        blocks: Vec::new(),
        withdrawals: Vec::new(),
    };
    if blocks.is_empty() && !message.delayed.is_empty() {
        blocks.push(L2Block {
            timestamp: run.head.timestamp,
            fee_recipient: [0; 20],
            delayed: u32::try_from(message.delayed.len()).unwrap_or(u32::MAX),
            transactions: Vec::new(),
        });
    }
    // The counts add up to the delayed messages (checked above): each block takes its share.
    let mut delayed = message.delayed.iter();
    for block in &blocks {
        let mut open = run.open_block(block);
        for message in delayed.by_ref().take(block.delayed as usize) {
            match message {
                DelayedMessage::Deposit(deposit) => {
                    run.deposit(&mut open, &Address::from(deposit.to), deposit.amount)
                }
                DelayedMessage::Transaction(bytes) => {
                    run.transaction(&mut open, EntryKind::ForcedTransaction, bytes)
                }
            }
            .map_err(unknown)?;
        }
        for bytes in &block.transactions {
            run.transaction(&mut open, EntryKind::Transaction, bytes)
                .map_err(unknown)?;
        }
        run.seal_block(open).map_err(unknown)?;
    }
    drop(bytes);

    let post_state_root = run.db.finish().map_err(unknown)?;
    let BatchRun {
        db,
        chain,
        receipts,
        blocks,
        withdrawals,
        ..
    } = run;
    drop(db);
    let leaves: Vec<Hash> = withdrawals
        .iter()
        .map(|withdrawal| withdrawal.leaf_hash(abi))
        .collect();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(EvmExecution {
        outputs: BatchOutputs {
            batch_number: header.batch_number,
            chain_id: header.chain_id,
            pre_state_root: header.pre_state_root,
            post_state_root,
            withdrawals_root: withdrawals_root(abi, &leaves),
            receipts_root: chain.0 .0,
            delayed_count: header.delayed_count,
            tx_count: count(tx_count),
            withdrawal_count: count(withdrawals.len()),
            status,
        },
        blocks,
        receipts,
        withdrawals,
    })
}

/// The batch as it is being executed.
struct BatchRun<'a, A: Abi + ?Sized> {
    db: StateDb<'a, A>,
    header: BatchHeader,
    block_roots: BlockRoots,
    head: Head,
    /// The batch's receipts commitment (its outputs).
    chain: ReceiptsChain,
    /// The open block's receipts commitment (its hash).
    block_chain: ReceiptsChain,
    receipts: Vec<Receipt>,
    blocks: Vec<SealedBlock>,
    withdrawals: Vec<Withdrawal>,
}

/// The block being filled.
struct OpenBlock {
    context: BlockContext,
    gas_used: u64,
    first_receipt: usize,
}

impl<A: Abi + ?Sized> BatchRun<'_, A> {
    fn open_block(&mut self, block: &L2Block) -> OpenBlock {
        self.block_chain = ReceiptsChain::default();
        let env = BlockEnv {
            number: U256::from(self.head.number + 1),
            beneficiary: Address::from(block.fee_recipient),
            timestamp: U256::from(block.timestamp.max(self.head.timestamp)),
            gas_limit: BLOCK_GAS_LIMIT,
            basefee: self.head.next_base_fee(),
            difficulty: U256::ZERO,
            prevrandao: Some(self.head.hash),
            blob_excess_gas_and_price: BlockContext::blob_pricing(0, L2_SPEC),
            ..BlockEnv::default()
        };
        OpenBlock {
            context: BlockContext {
                env,
                spec: L2_SPEC,
                chain_id: self.header.chain_id,
            },
            gas_used: 0,
            first_receipt: self.receipts.len(),
        }
    }

    fn seal_block(&mut self, block: OpenBlock) -> Result<(), StateError> {
        let header = BlockHeader {
            parent_hash: self.head.hash,
            number: block.context.number(),
            timestamp: block.context.env.timestamp.saturating_to(),
            fee_recipient: block.context.env.beneficiary,
            gas_limit: BLOCK_GAS_LIMIT,
            gas_used: block.gas_used,
            base_fee: block.context.base_fee(),
            receipts_hash: self.block_chain.0,
        };
        let hash = header.hash(self.db.abi());
        self.head = Head {
            number: header.number,
            timestamp: header.timestamp,
            hash,
            base_fee: header.base_fee,
            gas_used: header.gas_used,
        };
        self.head.write(&mut self.db)?;
        let state_root = match self.block_roots {
            BlockRoots::EveryBlock => Some(self.db.finish()?),
            BlockRoots::Batch => None,
        };
        self.blocks.push(SealedBlock {
            header,
            hash,
            state_root,
            first_receipt: block.first_receipt,
            receipt_count: self.receipts.len() - block.first_receipt,
        });
        Ok(())
    }

    fn push(&mut self, receipt: Receipt) {
        self.chain.push(self.db.abi(), &receipt);
        self.block_chain.push(self.db.abi(), &receipt);
        self.receipts.push(receipt);
    }

    fn deposit(
        &mut self,
        block: &mut OpenBlock,
        to: &Address,
        amount: u128,
    ) -> Result<(), StateError> {
        let outcome = if amount == 0 {
            Outcome::Refused(Refusal::ZeroDeposit)
        } else if self.db.credit(to, wei(amount))? {
            Outcome::Success
        } else {
            Outcome::Refused(Refusal::DepositOverflow)
        };
        self.push(Receipt {
            kind: EntryKind::Deposit,
            outcome,
            block_number: block.context.number(),
            tx_hash: B256::ZERO,
            from: Address::ZERO,
            gas_used: 0,
            effective_gas_price: 0,
            logs: Vec::new(),
            contract_address: None,
            output: Default::default(),
            detail: None,
        });
        Ok(())
    }

    fn transaction(
        &mut self,
        block: &mut OpenBlock,
        kind: EntryKind,
        bytes: &[u8],
    ) -> Result<(), StateError> {
        let refused = |refusal, hash, from, detail| Receipt {
            kind,
            outcome: Outcome::Refused(refusal),
            block_number: block.context.number(),
            tx_hash: hash,
            from,
            gas_used: 0,
            effective_gas_price: 0,
            logs: Vec::new(),
            contract_address: None,
            output: Default::default(),
            detail,
        };
        let tx = match decode(self.db.abi(), bytes, false) {
            Ok(tx) => tx,
            Err(undecodable) => {
                let refusal = match undecodable {
                    Undecodable::Malformed => Refusal::Malformed,
                    Undecodable::BlobTransaction => Refusal::BlobTransaction,
                    Undecodable::BadSignature => Refusal::BadSignature,
                };
                let hash = alloy_primitives::keccak256(bytes);
                self.push(refused(refusal, hash, Address::ZERO, None));
                return Ok(());
            }
        };
        let tx_env = tx.tx_env(self.db.abi());
        if tx_env.gas_limit > BLOCK_GAS_LIMIT - block.gas_used {
            self.push(refused(
                Refusal::BlockGasExhausted,
                tx.hash,
                tx.sender,
                None,
            ));
            return Ok(());
        }
        let base_fee = u128::from(block.context.base_fee());
        let effective_gas_price = match tx_env.gas_priority_fee {
            Some(tip) => tx_env.gas_price.min(base_fee.saturating_add(tip)),
            None => tx_env.gas_price,
        };
        let result = match run_transaction(&mut self.db, &block.context, tx_env)? {
            TxRun::Executed(result) => result,
            TxRun::Invalid(detail) => {
                self.push(refused(Refusal::Invalid, tx.hash, tx.sender, detail));
                return Ok(());
            }
        };
        let gas_used = result.gas().tx_gas_used();
        block.gas_used = block.gas_used.saturating_add(gas_used);
        let contract_address = result.created_address();
        let (outcome, logs, output) = match result {
            ExecutionResult::Success { logs, output, .. } => {
                (Outcome::Success, logs, output.into_data())
            }
            ExecutionResult::Revert { output, logs, .. } => (Outcome::Revert, logs, output),
            ExecutionResult::Halt { logs, .. } => (Outcome::Halt, logs, Default::default()),
        };
        if outcome == Outcome::Success {
            self.take_withdrawals(&logs);
        }
        self.db.set_balance(&WITHDRAWALS, U256::ZERO)?;
        self.push(Receipt {
            kind,
            outcome,
            block_number: block.context.number(),
            tx_hash: tx.hash,
            from: tx.sender,
            gas_used,
            effective_gas_price,
            logs,
            contract_address,
            output,
            detail: None,
        });
        Ok(())
    }

    /// Withdrawal leaves for the withdrawal contract's events among `logs`.
    fn take_withdrawals(&mut self, logs: &[alloy_primitives::Log]) {
        for log in logs {
            let topics = log.data.topics();
            let (Some(event), Some(recipient)) = (topics.first(), topics.get(2)) else {
                continue;
            };
            if log.address != WITHDRAWALS || *event != WITHDRAWAL_EVENT || topics.len() != 3 {
                continue;
            }
            let Ok(amount) = U256::try_from_be_slice(&log.data.data)
                .ok_or(())
                .and_then(|amount| u128::try_from(amount).map_err(|_| ()))
            else {
                continue;
            };
            let position = self.withdrawals.len() as u64;
            self.withdrawals.push(Withdrawal {
                l1_recipient: Address::from_word(*recipient).0 .0,
                amount,
                index: (self.header.batch_number << 32) | position,
            });
        }
    }
}

/// The inbox message L1 builds for `header` (its `delayed_count` set to `delayed.len()`), the
/// delayed messages and the sequencer's `blocks`: what tests, tools and the node's sequencer
/// hand the STF.
pub fn encode_message(
    header: &BatchHeader,
    delayed: &[DelayedMessage],
    blocks: &BlockList,
) -> Vec<u8> {
    let header = BatchHeader {
        delayed_count: u32::try_from(delayed.len()).unwrap_or(u32::MAX),
        ..*header
    };
    let mut message = Vec::new();
    header.write(&mut message);
    for record in delayed {
        record.write_record(&mut message);
    }
    message.extend_from_slice(&blocks.to_bytes());
    message
}
