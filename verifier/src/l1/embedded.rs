//! An L1 chain in process, on revm: one block per transaction, a clock that moves only when told
//! ([`L1::advance_time`]), Osaka rules with EIP-170 on. Everything is deterministic: the genesis
//! time is fixed and transaction hashes are keccak256(sender ‖ nonce), so two runs of the demo
//! print the same addresses, hashes and gas. [`EmbeddedL1::open`] keeps the chain in a file: every
//! change is journaled before it is made and replayed on the next open ([`super::journal`]).
//!
//! Signed transactions from outside ([`EmbeddedL1::send_raw`], what a JSON-RPC front serves as
//! `eth_sendRawTransaction`) run as their recovered sender under their own hash, with geth's
//! refusals (`nonce too low`, `insufficient funds ...`). Gas is counted, never charged: every
//! transaction runs at gas price 0, whatever fees it offers.

use std::collections::BTreeMap;

use alloy::consensus::{SignableTransaction, Signed, Transaction as _, TxEnvelope};
use alloy::eips::Decodable2718;
use alloy::primitives::TxKind;
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use revm::context::result::ExecutionResult;
use revm::context::{BlockEnv, Context, TxEnv};
use revm::database::InMemoryDB;
use revm::handler::{MainnetContext, MainnetEvm};
use revm::primitives::hardfork::SpecId;
use revm::state::AccountInfo;
use revm::{DatabaseRef, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};

use super::journal::{Change, Journal};
use super::{Fees, L1Error, Log, Revert, TxReceipt, Wallet, L1};
use crate::blobs::MAX_BLOBS_PER_TRANSACTION;
use crate::evm::{describe_halt, RevertDecoder, BLOCK_GAS_LIMIT, CALL_GAS_LIMIT, CODE_SIZE_LIMIT};

/// The chain id the embedded chain reports (anvil's default, so deployments look alike).
pub const EMBEDDED_CHAIN_ID: u64 = 31_337;
/// Block 0's timestamp: fixed, so runs are reproducible.
pub const GENESIS_TIME: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

type Evm = MainnetEvm<MainnetContext<InMemoryDB>>;

/// A mined transaction, kept whole: what a JSON-RPC front answers about it.
#[derive(Clone, Debug)]
pub struct MinedTx {
    pub hash: B256,
    pub block: u64,
    pub from: Address,
    /// `None` for a contract creation.
    pub to: Option<Address>,
    pub nonce: u64,
    pub value: U256,
    pub input: Bytes,
    pub gas_limit: u64,
    pub gas_used: u64,
    /// The contract a successful creation made.
    pub created: Option<Address>,
    /// The return data, or the revert.
    pub outcome: Result<Bytes, Revert>,
    /// The run halted exceptionally (out of gas, an invalid opcode): the chain's refusal, not
    /// the contract's.
    pub halted: bool,
    pub logs: Vec<Log>,
    /// The signed transaction as it came in ([`EmbeddedL1::send_raw`]); `None` for one the chain
    /// ran for a [`Wallet`] (its hash is keccak256(sender ‖ nonce), it has no signature).
    pub signed: Option<TxEnvelope>,
    /// The blobs a blob transaction carried, in order (the chain keeps them for good).
    pub blobs: Vec<Vec<u8>>,
}

/// A transaction run on the latest state and thrown away ([`EmbeddedL1::simulate`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Simulated {
    /// Gas spent before refunds (or the EIP-7623 floor): what the transaction needs to run.
    pub gas_needed: u64,
    pub outcome: Result<Bytes, Revert>,
    /// It halted exceptionally (out of gas, an invalid opcode) rather than reverted.
    pub halted: bool,
}

pub struct EmbeddedL1 {
    evm: Evm,
    reverts: RevertDecoder,
    number: u64,
    timestamp: u64,
    logs: Vec<Log>,
    transactions: BTreeMap<B256, MinedTx>,
    /// Every block's timestamp, by number (block 0 is genesis).
    block_times: Vec<u64>,
    /// The transaction of each block that has one.
    block_txs: BTreeMap<u64, B256>,
    /// Where changes are journaled; `None` for a chain that lives in memory only.
    journal: Option<Journal>,
}

impl EmbeddedL1 {
    pub fn new() -> Result<EmbeddedL1, L1Error> {
        let reverts = RevertDecoder::from_artifacts().map_err(|e| L1Error::Artifact {
            name: "all".into(),
            reason: e.to_string(),
        })?;
        let evm = Context::mainnet()
            .with_db(InMemoryDB::default())
            .modify_cfg_chained(|cfg| {
                cfg.set_spec_and_mainnet_gas_params(SpecId::OSAKA);
                cfg.limit_contract_code_size = Some(CODE_SIZE_LIMIT);
                cfg.chain_id = EMBEDDED_CHAIN_ID;
            })
            .with_block(BlockEnv {
                gas_limit: BLOCK_GAS_LIMIT,
                timestamp: U256::from(GENESIS_TIME),
                ..BlockEnv::default()
            })
            .build_mainnet();
        Ok(EmbeddedL1 {
            evm,
            reverts,
            number: 0,
            timestamp: GENESIS_TIME,
            logs: Vec::new(),
            transactions: BTreeMap::new(),
            block_times: vec![GENESIS_TIME],
            block_txs: BTreeMap::new(),
            journal: None,
        })
    }

    /// The chain journaled at `path`: rebuilt by replaying the journal (created if missing), and
    /// journaling every change from now on.
    pub fn open(path: &std::path::Path) -> Result<EmbeddedL1, L1Error> {
        let (journal, changes) = Journal::open(path)?;
        let mut chain = EmbeddedL1::new()?;
        for change in &changes {
            // The same change on the same state gives the same outcome: a refusal replays as one.
            let _ = chain.apply(change);
        }
        chain.journal = Some(journal);
        Ok(chain)
    }

    /// Journals `change` (synced) before it is made.
    fn record(&mut self, change: &Change) -> Result<(), L1Error> {
        match &mut self.journal {
            Some(journal) => journal.append(change),
            None => Ok(()),
        }
    }

    fn apply(&mut self, change: &Change) -> Result<(), L1Error> {
        match change {
            Change::Deploy { from, code } => self.deploy_from(*from, code.clone()).map(|_| ()),
            Change::Send {
                from,
                to,
                value,
                data,
            } => self.send_from(*from, *to, *value, data.clone()).map(|_| ()),
            Change::AdvanceTime(seconds) => {
                self.timestamp = self.timestamp.saturating_add(*seconds);
                self.next_block();
                Ok(())
            }
            Change::Raw(raw) => {
                let (envelope, from) = self.check_raw(raw)?;
                self.run_signed(envelope, from).map(|_| ())
            }
            Change::SendBlobs {
                from,
                to,
                data,
                blobs,
            } => self
                .send_blobs_from(*from, *to, data.clone(), blobs.clone())
                .map(|_| ()),
            Change::SetBalance(who, wei) => {
                let mut info = self.account(*who);
                info.balance = *wei;
                self.evm
                    .ctx
                    .journaled_state
                    .database
                    .insert_account_info(*who, info);
                Ok(())
            }
        }
    }

    fn account(&self, who: Address) -> AccountInfo {
        self.evm
            .ctx
            .journaled_state
            .database
            .basic_ref(who)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Opens the next block: one transaction per block, at the current time.
    fn next_block(&mut self) {
        self.number += 1;
        self.evm.ctx.block.number = U256::from(self.number);
        self.evm.ctx.block.timestamp = U256::from(self.timestamp);
        self.block_times.push(self.timestamp);
    }

    /// The transaction `tx` from `from`, at gas price 0.
    fn tx_env(from: Address, nonce: u64, to: TxKind, value: U256, data: Bytes, gas: u64) -> TxEnv {
        let builder = TxEnv::builder()
            .caller(from)
            .nonce(nonce)
            .chain_id(Some(EMBEDDED_CHAIN_ID))
            .gas_limit(gas)
            .gas_price(0)
            .value(value)
            .data(data);
        match to {
            TxKind::Create => builder.create(),
            TxKind::Call(to) => builder.call(to),
        }
        .build_fill()
    }

    /// Mines `tx` in a block of its own under `hash` (by default keccak256(sender ‖ nonce)).
    fn execute(
        &mut self,
        tx: TxEnv,
        hash: Option<B256>,
        signed: Option<TxEnvelope>,
    ) -> Result<&MinedTx, L1Error> {
        let (from, nonce, to, value, gas_limit) =
            (tx.caller, tx.nonce, tx.kind, tx.value, tx.gas_limit);
        let input = tx.data.clone();
        self.next_block();
        let result = self
            .evm
            .transact_commit(tx)
            .map_err(|e| L1Error::Rejected(e.to_string()))?;
        let hash = hash.unwrap_or_else(|| {
            let mut preimage = from.to_vec();
            preimage.extend_from_slice(&nonce.to_be_bytes());
            keccak256(&preimage)
        });
        let gas_used = result.gas().tx_gas_used();
        let created = result.created_address();
        let halted = matches!(result, ExecutionResult::Halt { .. });
        let (outcome, logs) = match result {
            ExecutionResult::Success { output, logs, .. } => {
                let logs = logs
                    .into_iter()
                    .map(|log| Log {
                        address: log.address,
                        topics: log.data.topics().to_vec(),
                        data: log.data.data.clone(),
                        block: self.number,
                        tx_hash: hash,
                    })
                    .collect::<Vec<_>>();
                (Ok(output.into_data()), logs)
            }
            ExecutionResult::Revert { output, .. } => (Err(self.revert(&output)), Vec::new()),
            ExecutionResult::Halt { reason, .. } => (
                Err(Revert {
                    error: describe_halt(&reason),
                    raw: Bytes::new(),
                }),
                Vec::new(),
            ),
        };
        self.logs.extend(logs.iter().cloned());
        self.block_txs.insert(self.number, hash);
        let mined = MinedTx {
            hash,
            block: self.number,
            from,
            to: to.to().copied(),
            nonce,
            value,
            input,
            gas_limit,
            gas_used,
            created: if outcome.is_ok() { created } else { None },
            outcome,
            halted,
            logs,
            signed,
            blobs: Vec::new(),
        };
        Ok(self.transactions.entry(hash).or_insert(mined))
    }

    fn deploy_from(&mut self, from: Address, init_code: Vec<u8>) -> Result<Address, L1Error> {
        let nonce = self.account(from).nonce;
        let tx = Self::tx_env(
            from,
            nonce,
            TxKind::Create,
            U256::ZERO,
            init_code.into(),
            CALL_GAS_LIMIT,
        );
        let mined = self.execute(tx, None, None)?;
        match &mined.outcome {
            Ok(_) => mined
                .created
                .ok_or_else(|| L1Error::Rejected("the deployment created no contract".into())),
            Err(revert) if mined.halted => Err(L1Error::Rejected(revert.error.clone())),
            Err(revert) => Err(L1Error::Reverted(revert.clone())),
        }
    }

    fn send_from(
        &mut self,
        from: Address,
        to: Address,
        value: U256,
        data: Vec<u8>,
    ) -> Result<TxReceipt, L1Error> {
        let nonce = self.account(from).nonce;
        let tx = Self::tx_env(
            from,
            nonce,
            TxKind::Call(to),
            value,
            data.into(),
            CALL_GAS_LIMIT,
        );
        let mined = self.execute(tx, None, None)?;
        Ok(TxReceipt {
            hash: mined.hash,
            block: mined.block,
            gas_used: mined.gas_used,
            logs: mined.logs.clone(),
            outcome: mined.outcome.clone(),
        })
    }

    /// A blob transaction from `from`: the blobs' versioned hashes in the transaction (what
    /// `BLOBHASH` reads), at the lowest blob gas price, the blobs kept with the mined transaction.
    fn send_blobs_from(
        &mut self,
        from: Address,
        to: Address,
        data: Vec<u8>,
        blobs: Vec<Vec<u8>>,
    ) -> Result<TxReceipt, L1Error> {
        check_blob_count(&blobs)?;
        let hashes = crate::blobs::versioned_hashes(&blobs)
            .map_err(|e| L1Error::Rejected(format!("invalid blob: {e}")))?;
        let nonce = self.account(from).nonce;
        let tx = TxEnv::builder()
            .caller(from)
            .nonce(nonce)
            .chain_id(Some(EMBEDDED_CHAIN_ID))
            .gas_limit(CALL_GAS_LIMIT)
            .gas_price(0)
            .call(to)
            .data(data.into())
            .blob_hashes(hashes)
            .max_fee_per_blob_gas(1)
            .build_fill();
        let mined = self.execute(tx, None, None)?;
        let receipt = TxReceipt {
            hash: mined.hash,
            block: mined.block,
            gas_used: mined.gas_used,
            logs: mined.logs.clone(),
            outcome: mined.outcome.clone(),
        };
        if let Some(mined) = self.transactions.get_mut(&receipt.hash) {
            mined.blobs = blobs;
        }
        Ok(receipt)
    }

    /// Decodes and checks a signed transaction as geth would before its pool takes it: the
    /// envelope and its sender, with the chain's refusals in geth's words.
    fn check_raw(&mut self, raw: &[u8]) -> Result<(TxEnvelope, Address), L1Error> {
        let envelope = TxEnvelope::decode_2718(&mut &raw[..])
            .map_err(|e| L1Error::Rejected(format!("invalid transaction: {e}")))?;
        match envelope {
            TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) | TxEnvelope::Eip1559(_) => {}
            _ => return Err(L1Error::Rejected("transaction type not supported".into())),
        }
        match envelope.chain_id() {
            Some(EMBEDDED_CHAIN_ID) => {}
            Some(_) => return Err(L1Error::Rejected("invalid chain id for signer".into())),
            // geth's default refusal of replayable legacy transactions.
            None => {
                return Err(L1Error::Rejected(
                    "only replay-protected (EIP-155) transactions allowed over RPC".into(),
                ))
            }
        }
        let from =
            sender_of(&envelope).ok_or_else(|| L1Error::Rejected("invalid sender".into()))?;
        if self.transactions.contains_key(envelope.tx_hash()) {
            return Err(L1Error::Rejected("already known".into()));
        }
        let account = self.account(from);
        let nonce = envelope.nonce();
        if nonce < account.nonce {
            return Err(L1Error::Rejected(format!(
                "nonce too low: next nonce {}, tx nonce {nonce}",
                account.nonce
            )));
        }
        // One transaction a block, mined at once: there is no pool to wait in.
        if nonce > account.nonce {
            return Err(L1Error::Rejected(format!(
                "nonce too high: next nonce {}, tx nonce {nonce}",
                account.nonce
            )));
        }
        if envelope.gas_limit() > CALL_GAS_LIMIT {
            return Err(L1Error::Rejected(format!(
                "transaction gas limit too high (cap: {CALL_GAS_LIMIT}, tx: {})",
                envelope.gas_limit()
            )));
        }
        if account.balance < envelope.value() {
            return Err(L1Error::Rejected(format!(
                "insufficient funds for gas * price + value: address {from} have {} want {}",
                account.balance,
                envelope.value()
            )));
        }
        // What else revm refuses (intrinsic gas, ...) is found on a run thrown away, so that a
        // refused transaction leaves no block behind.
        let tx = Self::signed_env(&envelope, from);
        self.evm
            .transact(tx)
            .map_err(|e| L1Error::Rejected(e.to_string()))?;
        Ok((envelope, from))
    }

    fn signed_env(envelope: &TxEnvelope, from: Address) -> TxEnv {
        Self::tx_env(
            from,
            envelope.nonce(),
            envelope.kind(),
            envelope.value(),
            envelope.input().clone(),
            envelope.gas_limit(),
        )
    }

    fn run_signed(&mut self, envelope: TxEnvelope, from: Address) -> Result<B256, L1Error> {
        let tx = Self::signed_env(&envelope, from);
        let hash = *envelope.tx_hash();
        self.execute(tx, Some(hash), Some(envelope))
            .map(|mined| mined.hash)
    }

    /// Runs a signed transaction (EIP-2718 bytes: legacy with EIP-155, EIP-2930 or EIP-1559) as
    /// its recovered sender, mined at once under its own hash. Refusals (a bad signature, another
    /// chain's id, a nonce not the sender's next, funds short of the value) change nothing.
    pub fn send_raw(&mut self, raw: &[u8]) -> Result<B256, L1Error> {
        let (envelope, from) = self.check_raw(raw)?;
        self.record(&Change::Raw(raw.to_vec()))?;
        self.run_signed(envelope, from)
    }

    /// Runs a transaction from `from` (no signature needed) on the latest state and throws its
    /// changes away: `eth_call` and `eth_estimateGas` with a sender.
    pub fn simulate(
        &mut self,
        from: Address,
        to: TxKind,
        value: U256,
        data: Bytes,
        gas_limit: Option<u64>,
    ) -> Result<Simulated, L1Error> {
        let account = self.account(from);
        if account.balance < value {
            return Err(L1Error::Rejected(format!(
                "insufficient funds for gas * price + value: address {from} have {} want {value}",
                account.balance
            )));
        }
        let gas = gas_limit.unwrap_or(CALL_GAS_LIMIT).min(CALL_GAS_LIMIT);
        let tx = Self::tx_env(from, account.nonce, to, value, data, gas);
        let outcome = self
            .evm
            .transact(tx)
            .map_err(|e| L1Error::Rejected(e.to_string()))?;
        let spent = outcome.result.gas();
        let gas_needed = spent.total_gas_spent().max(spent.floor_gas());
        let halted = matches!(outcome.result, ExecutionResult::Halt { .. });
        let outcome = match outcome.result {
            ExecutionResult::Success { output, .. } => Ok(output.into_data()),
            ExecutionResult::Revert { output, .. } => Err(self.revert(&output)),
            ExecutionResult::Halt { reason, .. } => Err(Revert {
                error: describe_halt(&reason),
                raw: Bytes::new(),
            }),
        };
        Ok(Simulated {
            gas_needed,
            outcome,
            halted,
        })
    }

    /// A mined transaction by hash.
    pub fn transaction(&self, hash: &B256) -> Option<&MinedTx> {
        self.transactions.get(hash)
    }

    /// Block `number`'s timestamp and the hash of its transaction (if it has one); `None` past
    /// the head.
    pub fn block(&self, number: u64) -> Option<(u64, Option<B256>)> {
        let time = *self.block_times.get(usize::try_from(number).ok()?)?;
        Some((time, self.block_txs.get(&number).copied()))
    }

    /// The transactions mined in blocks `from..=to`, in chain order.
    pub fn transactions_in(&self, from: u64, to: u64) -> impl Iterator<Item = &MinedTx> {
        // `range` panics on a reversed range: a reversed one holds nothing.
        (from <= to)
            .then(|| self.block_txs.range(from..=to))
            .into_iter()
            .flatten()
            .filter_map(|(_, hash)| self.transactions.get(hash))
    }

    /// The account's next nonce.
    pub fn nonce(&self, who: Address) -> u64 {
        self.account(who).nonce
    }

    /// The account's code (empty for none).
    pub fn code(&self, who: Address) -> Bytes {
        let info = self.account(who);
        match info.code {
            Some(code) => code.original_bytes(),
            None => self
                .evm
                .ctx
                .journaled_state
                .database
                .code_by_hash_ref(info.code_hash)
                .map(|code| code.original_bytes())
                .unwrap_or_default(),
        }
    }

    fn revert(&self, output: &[u8]) -> Revert {
        Revert {
            error: self.reverts.describe(output),
            raw: Bytes::copy_from_slice(output),
        }
    }
}

/// The signer of a transaction: EIP-2's low s, k256's recovery (which verifies the signature).
/// A blob transaction carries 1 to [`MAX_BLOBS_PER_TRANSACTION`] blobs.
fn check_blob_count(blobs: &[Vec<u8>]) -> Result<(), L1Error> {
    if blobs.is_empty() || blobs.len() > MAX_BLOBS_PER_TRANSACTION {
        return Err(L1Error::Rejected(format!(
            "a blob transaction carries 1 to {MAX_BLOBS_PER_TRANSACTION} blobs, not {}",
            blobs.len()
        )));
    }
    Ok(())
}

fn sender_of(envelope: &TxEnvelope) -> Option<Address> {
    fn recover<T: SignableTransaction<alloy::primitives::Signature>>(
        signed: &Signed<T>,
    ) -> Option<Address> {
        let signature = signed.signature();
        let mut sig = [0u8; 65];
        sig[..32].copy_from_slice(&signature.r().to_be_bytes::<32>());
        sig[32..64].copy_from_slice(&signature.s().to_be_bytes::<32>());
        sig[64] = u8::from(signature.v());
        let hash = signed.signature_hash();
        program::crypto::ecrecover_reference(&hash.0, &sig).map(Address::from)
    }
    match envelope {
        TxEnvelope::Legacy(signed) => recover(signed),
        TxEnvelope::Eip2930(signed) => recover(signed),
        TxEnvelope::Eip1559(signed) => recover(signed),
        _ => None,
    }
}

impl L1 for EmbeddedL1 {
    fn chain_id(&self) -> u64 {
        EMBEDDED_CHAIN_ID
    }

    fn head(&mut self) -> Result<(u64, u64), L1Error> {
        Ok((self.number, self.timestamp))
    }

    fn balance(&mut self, who: Address) -> Result<U256, L1Error> {
        Ok(self.account(who).balance)
    }

    fn deploy(&mut self, from: &Wallet, init_code: Vec<u8>) -> Result<Address, L1Error> {
        self.record(&Change::Deploy {
            from: from.address(),
            code: init_code.clone(),
        })?;
        self.deploy_from(from.address(), init_code)
    }

    fn send(
        &mut self,
        from: &Wallet,
        to: Address,
        value: U256,
        data: Vec<u8>,
    ) -> Result<TxReceipt, L1Error> {
        self.record(&Change::Send {
            from: from.address(),
            to,
            value,
            data: data.clone(),
        })?;
        self.send_from(from.address(), to, value, data)
    }

    fn call(&mut self, to: Address, data: Vec<u8>) -> Result<Result<Bytes, Revert>, L1Error> {
        // A view from the zero address, nothing committed.
        let tx = TxEnv::builder()
            .caller(Address::ZERO)
            .nonce(self.account(Address::ZERO).nonce)
            .chain_id(Some(EMBEDDED_CHAIN_ID))
            .gas_limit(CALL_GAS_LIMIT)
            .gas_price(0)
            .call(to)
            .data(data.into())
            .build_fill();
        let outcome = self
            .evm
            .transact(tx)
            .map_err(|e| L1Error::Rejected(e.to_string()))?;
        Ok(match outcome.result {
            ExecutionResult::Success { output, .. } => Ok(output.into_data()),
            ExecutionResult::Revert { output, .. } => Err(self.revert(&output)),
            ExecutionResult::Halt { reason, .. } => Err(Revert {
                error: describe_halt(&reason),
                raw: Bytes::new(),
            }),
        })
    }

    fn logs(
        &mut self,
        address: Address,
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<Log>, L1Error> {
        Ok(self
            .logs
            .iter()
            .filter(|log| log.address == address && (from_block..=to_block).contains(&log.block))
            .cloned()
            .collect())
    }

    fn transaction_input(&mut self, hash: B256) -> Result<Bytes, L1Error> {
        self.transactions
            .get(&hash)
            .map(|tx| tx.input.clone())
            .ok_or(L1Error::UnknownTransaction(hash))
    }

    fn fee(&mut self, hash: B256) -> Result<U256, L1Error> {
        // Every transaction is sent at gas price 0: gas is counted, never charged.
        if self.transactions.contains_key(&hash) {
            Ok(U256::ZERO)
        } else {
            Err(L1Error::UnknownTransaction(hash))
        }
    }

    fn advance_time(&mut self, seconds: u64) -> Result<(), L1Error> {
        let change = Change::AdvanceTime(seconds);
        self.record(&change)?;
        self.apply(&change)
    }

    fn set_balance(&mut self, who: Address, wei: U256) -> Result<(), L1Error> {
        let change = Change::SetBalance(who, wei);
        self.record(&change)?;
        self.apply(&change)
    }

    fn send_blobs(
        &mut self,
        from: &Wallet,
        to: Address,
        data: Vec<u8>,
        blobs: Vec<Vec<u8>>,
    ) -> Result<TxReceipt, L1Error> {
        // Checked before it is journaled, so that a refusal leaves nothing to replay.
        check_blob_count(&blobs)?;
        crate::blobs::versioned_hashes(&blobs)
            .map_err(|e| L1Error::Rejected(format!("invalid blob: {e}")))?;
        let change = Change::SendBlobs {
            from: from.address(),
            to,
            data: data.clone(),
            blobs: blobs.clone(),
        };
        self.record(&change)?;
        self.send_blobs_from(from.address(), to, data, blobs)
    }

    fn blobs(&mut self, hash: B256) -> Result<Vec<Vec<u8>>, L1Error> {
        self.transactions
            .get(&hash)
            .map(|tx| tx.blobs.clone())
            .ok_or(L1Error::UnknownTransaction(hash))
    }

    fn fees(&mut self) -> Result<Fees, L1Error> {
        // Gas is counted, never charged; blob gas at the protocol's lowest price (1 wei).
        Ok(Fees {
            base_fee: 0,
            blob_base_fee: 1,
        })
    }
}
