//! The state-transition function: one inbox message (a [`Batch`](crate::types::Batch)) in, one
//! [`BatchOutputs`] out.
//!
//! 1. `inbox_len() > max_batch_bytes`: reject `TooLarge` before reading.
//! 2. Read the inbox in `MAX_CHUNK` pieces and split it
//!    ([`InboxMessage::split`]); an L1 part cut short or
//!    `batch_number >= 2^32`: reject `Malformed`. (L1 never posts either.)
//! 3. Apply the delayed messages in L1's order. A deposit: `ZeroAmount`
//!    (amount 0), `Overflow` (credit past `u128::MAX`), else `to` is
//!    credited. A forced transaction: as a sequencer's transaction (step 5),
//!    its bytes decoded on their own.
//! 4. Open the sequencer's transactions section ([`crate::section`]: it may be
//!    in blobs, and compressed; `Malformed`, or `TooLarge` past the decompressed
//!    cap; a blob the host does not know rejects the batch, `UnknownPreimage`)
//!    and decode it. If it does not decode or
//!    has trailing bytes (`Malformed`), or holds more than
//!    `max_transactions` transactions (`TooManyTransactions`), none of them
//!    is applied and the status is `TransactionsRefused`: the delayed
//!    messages stand, whatever the sequencer posted.
//! 5. Apply the transactions in order, each to the state its predecessors
//!    left. A transaction that fails a check has no effect and gets the
//!    status of the first check it fails: `BadSignature` (no key recovers),
//!    `BadNonce` (nonce is not the sender's), `ZeroAmount`,
//!    `InsufficientBalance`, `Overflow` (transfer recipient's credit; a
//!    transfer to oneself only advances the nonce); else the sender is
//!    debited and its nonce advanced, and the recipient credited (transfer)
//!    or a withdrawal leaf appended (withdraw) with
//!    `index = (batch_number << 32) | position`, `position` the transaction's
//!    receipt's place in the batch (delayed messages first). A transaction
//!    whose bytes do not decode canonically gets `Malformed`.
//!
//!    If a trie node the batch needs cannot be loaded and verified, the whole
//!    batch is rejected (`UnknownPreimage`) and nothing it did counts.
//! 6. Compute the post-state root (emitting the new trie nodes), the
//!    withdrawals root and the receipts root (delayed messages first, then
//!    transactions), and write the outputs.
//!
//! A rejected batch emits no node; its outputs are described on
//! [`BatchOutputs`].

use alloc::vec::Vec;

use crate::abi::{Abi, MAX_CHUNK};
use crate::commitments::{receipts_root, withdrawals_root};
use crate::error::Error;
use crate::section;
use crate::signing::recover_sender;
use crate::trie::{account_key, PartialTrie};
use crate::types::{
    BatchHeader, BatchOutputs, BatchStatus, Config, DelayedMessage, Hash, InboxMessage,
    ReceiptStatus, RejectReason, Transaction, TransactionList, Withdrawal,
};

/// Everything a batch produced: the outputs the guest writes, and for the
/// host the per-entry statuses and the withdrawals behind the roots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    pub outputs: BatchOutputs,
    /// One status per delayed message, then one per sequencer transaction,
    /// in order; empty for a rejected batch.
    pub receipts: Vec<ReceiptStatus>,
    /// The withdrawals under `outputs.withdrawals_root`, in leaf order.
    pub withdrawals: Vec<Withdrawal>,
    /// Trie nodes fetched from the preimage oracle.
    pub nodes_loaded: u32,
}

/// Runs the batch in the inbox, writes its encoded outputs with
/// [`Abi::write_output`] and returns them. Never panics.
pub fn execute_batch<A: Abi>(abi: &mut A, config: &Config) -> BatchOutputs {
    execute(abi, config).outputs
}

/// [`execute_batch`], also returning receipts and withdrawals for the host.
pub fn execute<A: Abi + ?Sized>(abi: &mut A, config: &Config) -> Execution {
    let execution = match run(abi, config) {
        Ok(execution) => execution,
        Err(rejection) => rejection.into_execution(),
    };
    abi.write_output(&execution.outputs.to_bytes());
    execution
}

struct Rejection {
    reason: RejectReason,
    /// Zero when rejected before the header could be trusted.
    header: BatchHeader,
}

impl Rejection {
    /// Rejected before the header could be trusted: all-zero header.
    fn headless(reason: RejectReason) -> Self {
        Self {
            reason,
            header: BatchHeader::default(),
        }
    }

    fn into_execution(self) -> Execution {
        let BatchHeader {
            chain_id,
            batch_number,
            pre_state_root,
            ..
        } = self.header;
        Execution {
            outputs: BatchOutputs {
                batch_number,
                chain_id,
                pre_state_root,
                post_state_root: pre_state_root,
                withdrawals_root: [0; 32],
                receipts_root: [0; 32],
                delayed_count: 0,
                tx_count: 0,
                withdrawal_count: 0,
                status: BatchStatus::Rejected(self.reason),
            },
            receipts: Vec::new(),
            withdrawals: Vec::new(),
            nodes_loaded: 0,
        }
    }
}

fn run<A: Abi + ?Sized>(abi: &mut A, config: &Config) -> Result<Execution, Rejection> {
    let bytes = read_inbox(abi, config).map_err(Rejection::headless)?;
    let message =
        InboxMessage::split(&bytes).ok_or(Rejection::headless(RejectReason::Malformed))?;
    let header = message.header;
    // Withdrawal indices put the batch number in the top 32 bits.
    if header.batch_number > u64::from(u32::MAX) {
        return Err(Rejection::headless(RejectReason::Malformed));
    }
    let unknown_preimage = |_| Rejection {
        reason: RejectReason::UnknownPreimage,
        header,
    };

    let mut state = BatchState {
        trie: PartialTrie::new(header.pre_state_root),
        chain_id: header.chain_id,
        batch_number: header.batch_number,
        withdrawals: Vec::new(),
    };
    let mut receipts = Vec::with_capacity(message.delayed.len());
    for delayed in &message.delayed {
        let status = match delayed {
            DelayedMessage::Deposit(deposit) => state.deposit(abi, &deposit.to, deposit.amount),
            DelayedMessage::Transaction(bytes) => {
                state.decode_and_apply(abi, receipts.len(), bytes)
            }
        };
        receipts.push(status.map_err(unknown_preimage)?);
    }

    let section = match section::open_posted(abi, message.transactions) {
        Err(RejectReason::UnknownPreimage) => {
            return Err(Rejection {
                reason: RejectReason::UnknownPreimage,
                header,
            })
        }
        opened => opened,
    };
    let listed = section.map(|encoding| {
        crate::types::decode::<TransactionList>(&encoding).map_err(|_| RejectReason::Malformed)
    });
    let (transactions, status) = match listed.and_then(|list| list) {
        Err(reason) => (Vec::new(), BatchStatus::TransactionsRefused(reason)),
        Ok(TransactionList(list)) if list.len() > config.max_transactions as usize => (
            Vec::new(),
            BatchStatus::TransactionsRefused(RejectReason::TooManyTransactions),
        ),
        Ok(TransactionList(list)) => (list, BatchStatus::Accepted),
    };
    drop(bytes);
    for tx_bytes in &transactions {
        let status = state
            .decode_and_apply(abi, receipts.len(), tx_bytes)
            .map_err(unknown_preimage)?;
        receipts.push(status);
    }

    let post_state_root = state.trie.commit(abi);
    let leaves: Vec<Hash> = state
        .withdrawals
        .iter()
        .map(|withdrawal| withdrawal.leaf_hash(abi))
        .collect();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(Execution {
        outputs: BatchOutputs {
            batch_number: header.batch_number,
            chain_id: header.chain_id,
            pre_state_root: header.pre_state_root,
            post_state_root,
            withdrawals_root: withdrawals_root(abi, &leaves),
            receipts_root: receipts_root(abi, &receipts),
            delayed_count: header.delayed_count,
            tx_count: count(transactions.len()),
            withdrawal_count: count(state.withdrawals.len()),
            status,
        },
        receipts,
        withdrawals: state.withdrawals,
        nodes_loaded: state.trie.loaded_nodes(),
    })
}

/// Reads the whole inbox message, refusing it unread if it is too long.
pub fn read_inbox<A: Abi + ?Sized>(abi: &mut A, config: &Config) -> Result<Vec<u8>, RejectReason> {
    let len = abi.inbox_len();
    if len > config.max_batch_bytes {
        return Err(RejectReason::TooLarge);
    }
    let len = usize::try_from(len).map_err(|_| RejectReason::TooLarge)?;
    let mut bytes = alloc::vec![0u8; len];
    let mut offset = 0usize;
    while offset < len {
        let end = offset.saturating_add(MAX_CHUNK).min(len);
        let (Some(window), Ok(offset_u32)) = (bytes.get_mut(offset..end), u32::try_from(offset))
        else {
            return Err(RejectReason::Malformed);
        };
        let want = window.len();
        let read = usize::try_from(abi.read_inbox(offset_u32, window)).unwrap_or(usize::MAX);
        // A host that stops early (or claims to have copied more than it
        // could) gets the same answer as a truncated batch.
        if read == 0 || read > want {
            return Err(RejectReason::Malformed);
        }
        offset = offset.saturating_add(read);
    }
    Ok(bytes)
}

/// The state a batch builds up while its transactions are applied.
struct BatchState {
    trie: PartialTrie,
    chain_id: u64,
    batch_number: u64,
    withdrawals: Vec<Withdrawal>,
}

impl BatchState {
    /// Applies the transaction in `bytes`, whose receipt is the batch's `position`-th
    /// (`Malformed` if they do not decode canonically).
    fn decode_and_apply<A: Abi + ?Sized>(
        &mut self,
        abi: &mut A,
        position: usize,
        bytes: &[u8],
    ) -> Result<ReceiptStatus, Error> {
        // A batch holds far fewer than 2^32 receipts (it is at most 256 KiB).
        let (Ok(tx), Ok(position)) = (Transaction::from_bytes(bytes), u32::try_from(position))
        else {
            return Ok(ReceiptStatus::Malformed);
        };
        self.apply(abi, position, &tx)
    }

    /// Applies one decoded transaction. `Err` only if the trie could not be
    /// loaded (the batch is then rejected); every other failure is a status.
    fn apply<A: Abi + ?Sized>(
        &mut self,
        abi: &mut A,
        position: u32,
        tx: &Transaction,
    ) -> Result<ReceiptStatus, Error> {
        match tx {
            Transaction::Transfer {
                to, amount, nonce, ..
            } => self.signed(abi, tx, *nonce, *amount, Effect::Credit(to)),
            Transaction::Withdraw {
                l1_recipient,
                amount,
                nonce,
                ..
            } => self.signed(
                abi,
                tx,
                *nonce,
                *amount,
                Effect::Withdraw {
                    l1_recipient,
                    position,
                },
            ),
        }
    }

    fn deposit<A: Abi + ?Sized>(
        &mut self,
        abi: &mut A,
        to: &[u8; 20],
        amount: u128,
    ) -> Result<ReceiptStatus, Error> {
        if amount == 0 {
            return Ok(ReceiptStatus::ZeroAmount);
        }
        let key = account_key(abi, to);
        let mut account = self.trie.get(abi, &key)?.unwrap_or_default();
        let Some(balance) = account.balance.checked_add(amount) else {
            return Ok(ReceiptStatus::Overflow);
        };
        account.balance = balance;
        self.trie.insert(abi, &key, account)?;
        Ok(ReceiptStatus::Ok)
    }

    /// The checks and effects shared by transfers and withdrawals.
    fn signed<A: Abi + ?Sized>(
        &mut self,
        abi: &mut A,
        tx: &Transaction,
        nonce: u64,
        amount: u128,
        effect: Effect<'_>,
    ) -> Result<ReceiptStatus, Error> {
        let Some(sender) = recover_sender(abi, self.chain_id, tx) else {
            return Ok(ReceiptStatus::BadSignature);
        };
        let sender_key = account_key(abi, &sender);
        let mut from = self.trie.get(abi, &sender_key)?.unwrap_or_default();
        // checked_add: an account that has sent 2^64 - 1 transactions can
        // send no more (no nonce would be valid after it).
        let (true, Some(next_nonce)) = (nonce == from.nonce, from.nonce.checked_add(1)) else {
            return Ok(ReceiptStatus::BadNonce);
        };
        if amount == 0 {
            return Ok(ReceiptStatus::ZeroAmount);
        }
        let Some(remaining) = from.balance.checked_sub(amount) else {
            return Ok(ReceiptStatus::InsufficientBalance);
        };
        match effect {
            Effect::Credit(to) if *to == sender => {
                from.nonce = next_nonce;
                self.trie.insert(abi, &sender_key, from)?;
            }
            Effect::Credit(to) => {
                let to_key = account_key(abi, to);
                let mut recipient = self.trie.get(abi, &to_key)?.unwrap_or_default();
                let Some(credited) = recipient.balance.checked_add(amount) else {
                    return Ok(ReceiptStatus::Overflow);
                };
                recipient.balance = credited;
                from.balance = remaining;
                from.nonce = next_nonce;
                self.trie.insert(abi, &sender_key, from)?;
                self.trie.insert(abi, &to_key, recipient)?;
            }
            Effect::Withdraw {
                l1_recipient,
                position,
            } => {
                from.balance = remaining;
                from.nonce = next_nonce;
                self.trie.insert(abi, &sender_key, from)?;
                self.withdrawals.push(Withdrawal {
                    l1_recipient: *l1_recipient,
                    amount,
                    index: (self.batch_number << 32) | u64::from(position),
                });
            }
        }
        Ok(ReceiptStatus::Ok)
    }
}

/// What a valid signed transaction does besides debiting its sender.
enum Effect<'a> {
    /// Transfer: credit this account.
    Credit(&'a [u8; 20]),
    /// Withdraw: append a withdrawal leaf.
    Withdraw {
        l1_recipient: &'a [u8; 20],
        position: u32,
    },
}

#[cfg(test)]
mod tests;
