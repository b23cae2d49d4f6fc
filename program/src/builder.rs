//! Building batches whose transactions are valid when applied in order, by
//! hand ([`BatchBuilder`]) or pseudo-randomly from a seed ([`random_batch`]).
//!
//! Everything is deterministic: keys, recipients, amounts and the mix of
//! transaction kinds depend only on the seed (no OS randomness), so the same
//! seed always gives the same batch bytes and the same outputs.

use std::collections::BTreeMap;

use k256::ecdsa::SigningKey;
use ledger::{Account, Address, Batch, DelayedMessage, Deposit, Hash, Transaction};

use crate::crypto::{address_of, keccak256, sign_transfer, sign_withdraw};
use crate::error::Error;
use crate::native::encode_batch;
use crate::store::{genesis, NodeStore};

/// Balance of every account in [`random_genesis`].
pub const GENESIS_BALANCE: u128 = 1_000_000_000;

/// Assembles a batch, keeping a model of the state so that each checked
/// transaction (`deposit`, `transfer`, `withdraw`) is valid when the STF
/// applies it after the ones before it, with the right nonce.
#[derive(Clone, Debug)]
pub struct BatchBuilder {
    chain_id: u64,
    batch_number: u64,
    pre_state_root: Hash,
    /// L1 index of the first deposit.
    first_deposit: u64,
    deposits: Vec<Deposit>,
    transactions: Vec<Vec<u8>>,
    /// The state as the batch so far leaves it (accounts touched or given).
    accounts: BTreeMap<Address, Account>,
}

impl BatchBuilder {
    /// A builder for a batch on `pre_state_root`, whose accounts the model
    /// learns from [`BatchBuilder::with_accounts`] (absent ones are zero).
    pub fn new(chain_id: u64, batch_number: u64, pre_state_root: Hash) -> Self {
        Self {
            chain_id,
            batch_number,
            pre_state_root,
            first_deposit: 0,
            deposits: Vec::new(),
            transactions: Vec::new(),
            accounts: BTreeMap::new(),
        }
    }

    /// Numbers the batch's deposits from `first_deposit` (the bridge's index), not 0.
    pub fn with_first_deposit(mut self, first_deposit: u64) -> Self {
        self.first_deposit = first_deposit;
        self
    }

    /// Tells the model the pre-state's accounts.
    pub fn with_accounts(mut self, accounts: impl IntoIterator<Item = (Address, Account)>) -> Self {
        self.accounts.extend(accounts);
        self
    }

    /// The modelled account of `address` after the transactions so far.
    pub fn account(&self, address: &Address) -> Account {
        self.accounts.get(address).copied().unwrap_or_default()
    }

    /// Deposits and transactions added so far.
    pub fn len(&self) -> usize {
        self.deposits.len() + self.transactions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a deposit from L1 (the bridge puts deposits before the sequencer's transactions,
    /// so the model credits it at once).
    pub fn deposit(&mut self, to: Address, amount: u128) -> Result<&mut Self, Error> {
        if amount == 0 {
            return Err(Error::ZeroAmount);
        }
        let mut account = self.account(&to);
        account.balance = account.balance.checked_add(amount).ok_or(Error::Overflow {
            address: to,
            amount,
        })?;
        self.accounts.insert(to, account);
        self.deposits.push(Deposit { to, amount });
        Ok(self)
    }

    /// Adds a transfer signed by `key` with its current nonce.
    pub fn transfer(
        &mut self,
        key: &SigningKey,
        to: Address,
        amount: u128,
    ) -> Result<&mut Self, Error> {
        let from = address_of(key);
        let mut sender = self.debit(&from, amount)?;
        if to != from {
            let mut recipient = self.account(&to);
            recipient.balance = recipient
                .balance
                .checked_add(amount)
                .ok_or(Error::Overflow {
                    address: to,
                    amount,
                })?;
            self.accounts.insert(to, recipient);
        } else {
            sender.balance += amount;
        }
        let tx = sign_transfer(key, self.chain_id, to, amount, sender.nonce);
        sender.nonce += 1;
        self.accounts.insert(from, sender);
        Ok(self.push(&tx))
    }

    /// Adds a withdrawal signed by `key` with its current nonce.
    pub fn withdraw(
        &mut self,
        key: &SigningKey,
        l1_recipient: Address,
        amount: u128,
    ) -> Result<&mut Self, Error> {
        let from = address_of(key);
        let mut sender = self.debit(&from, amount)?;
        let tx = sign_withdraw(key, self.chain_id, l1_recipient, amount, sender.nonce);
        sender.nonce += 1;
        self.accounts.insert(from, sender);
        Ok(self.push(&tx))
    }

    /// The sender's account with `amount` taken off (nonce not advanced).
    fn debit(&self, from: &Address, amount: u128) -> Result<Account, Error> {
        if amount == 0 {
            return Err(Error::ZeroAmount);
        }
        let mut sender = self.account(from);
        sender.balance = sender
            .balance
            .checked_sub(amount)
            .ok_or(Error::InsufficientBalance {
                address: *from,
                balance: sender.balance,
                amount,
            })?;
        Ok(sender)
    }

    /// Adds `tx` as it is, valid or not; the model is not updated.
    pub fn push(&mut self, tx: &Transaction) -> &mut Self {
        // Encoding into a Vec cannot fail for a Transaction.
        self.transactions
            .push(tx.to_bytes().expect("encoding a Transaction into a Vec"));
        self
    }

    /// Adds raw transaction bytes (for malformed transactions).
    pub fn push_bytes(&mut self, bytes: Vec<u8>) -> &mut Self {
        self.transactions.push(bytes);
        self
    }

    /// The batch so far.
    pub fn build(&self) -> Batch {
        Batch {
            chain_id: self.chain_id,
            batch_number: self.batch_number,
            pre_state_root: self.pre_state_root,
            first_delayed: self.first_deposit,
            delayed: self
                .deposits
                .iter()
                .map(|d| DelayedMessage::Deposit(*d))
                .collect(),
            transactions: self.transactions.clone(),
        }
    }

    /// The encoded batch so far (the inbox message).
    pub fn build_bytes(&self) -> Vec<u8> {
        encode_batch(&self.build())
    }
}

/// `n` signing keys derived from `seed`: key `i` is the secp256k1 scalar
/// `keccak256(seed LE || i LE)` (re-hashed in the ~2^-128 case that it is
/// zero or not below the group order).
pub fn derive_keys(seed: u64, n: usize) -> Vec<SigningKey> {
    (0..n as u64)
        .map(|i| {
            let mut material = [0u8; 16];
            material[..8].copy_from_slice(&seed.to_le_bytes());
            material[8..].copy_from_slice(&i.to_le_bytes());
            let mut candidate = keccak256(&material);
            loop {
                if let Ok(key) = SigningKey::from_slice(&candidate) {
                    return key;
                }
                candidate = keccak256(&candidate);
            }
        })
        .collect()
}

/// The genesis [`random_batch`] expects: the `n_accounts` keys of
/// [`derive_keys`]`(seed, n_accounts)`, each holding [`GENESIS_BALANCE`].
pub fn random_genesis(seed: u64, n_accounts: usize) -> (Hash, NodeStore, Vec<SigningKey>) {
    let keys = derive_keys(seed, n_accounts);
    let accounts: Vec<(Address, u128)> = keys
        .iter()
        .map(|key| (address_of(key), GENESIS_BALANCE))
        .collect();
    let (root, store) = genesis(&accounts);
    (root, store, keys)
}

/// A batch of `n_txs` transactions, all valid when applied in order to the
/// state of [`random_genesis`]`(seed, n_accounts)` (whose root the caller
/// passes as `pre_root`): about 70% transfers between the accounts, 25%
/// withdrawals to seed-derived L1 addresses and 5% deposits (half to
/// accounts that are not in the genesis). Returns the batch and the keys.
pub fn random_batch(
    seed: u64,
    n_txs: usize,
    n_accounts: usize,
    chain_id: u64,
    batch_number: u64,
    pre_root: Hash,
) -> (Batch, Vec<SigningKey>) {
    let keys = derive_keys(seed, n_accounts);
    let addresses: Vec<Address> = keys.iter().map(address_of).collect();
    let genesis_accounts = addresses.iter().map(|address| {
        (
            *address,
            Account {
                balance: GENESIS_BALANCE,
                nonce: 0,
            },
        )
    });
    let mut builder =
        BatchBuilder::new(chain_id, batch_number, pre_root).with_accounts(genesis_accounts);
    let mut rng = SplitMix64(seed ^ 0x6861_7570_7462_7563);
    while builder.len() < n_txs {
        let roll = rng.below(100);
        let added = if keys.is_empty() || roll < 5 {
            let to = if keys.is_empty() || rng.below(2) == 0 {
                rng.address()
            } else {
                addresses[rng.below(addresses.len() as u64) as usize]
            };
            builder.deposit(to, u128::from(1 + rng.below(100_000)))
        } else {
            let sender = &keys[rng.below(keys.len() as u64) as usize];
            let amount = u128::from(1 + rng.below(1_000));
            if roll < 30 {
                builder.withdraw(sender, rng.address(), amount)
            } else {
                let to = addresses[rng.below(addresses.len() as u64) as usize];
                builder.transfer(sender, to, amount)
            }
        };
        // With GENESIS_BALANCE and amounts of at most 1,000 a refusal would
        // take a million transactions from one account; the loop just rolls
        // again if it happens.
        let _ = added;
    }
    (builder.build(), keys)
}

/// splitmix64: a tiny, well-mixed, seedable generator (no OS randomness).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` for test data (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn address(&mut self) -> Address {
        let mut address = [0u8; 20];
        for chunk in address.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        address
    }
}
