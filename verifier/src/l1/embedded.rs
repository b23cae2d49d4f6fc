//! An L1 chain in process, on revm: one block per transaction, a clock that moves only when told
//! ([`L1::advance_time`]), Osaka rules with EIP-170 on. Everything is deterministic: the genesis
//! time is fixed and transaction hashes are keccak256(sender ‖ nonce), so two runs of the demo
//! print the same addresses, hashes and gas. [`EmbeddedL1::open`] keeps the chain in a file: every
//! change is journaled before it is made and replayed on the next open ([`super::journal`]).

use std::collections::BTreeMap;

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use revm::context::result::ExecutionResult;
use revm::context::{BlockEnv, Context, TxEnv};
use revm::database::InMemoryDB;
use revm::handler::{MainnetContext, MainnetEvm};
use revm::primitives::hardfork::SpecId;
use revm::state::AccountInfo;
use revm::{DatabaseRef, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};

use super::journal::{Change, Journal};
use super::{L1Error, Log, Revert, TxReceipt, Wallet, L1};
use crate::evm::{describe_halt, RevertDecoder, BLOCK_GAS_LIMIT, CALL_GAS_LIMIT, CODE_SIZE_LIMIT};

/// The chain id the embedded chain reports (anvil's default, so deployments look alike).
pub const EMBEDDED_CHAIN_ID: u64 = 31_337;
/// Block 0's timestamp: fixed, so runs are reproducible.
pub const GENESIS_TIME: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

type Evm = MainnetEvm<MainnetContext<InMemoryDB>>;

struct MinedTx {
    input: Bytes,
}

pub struct EmbeddedL1 {
    evm: Evm,
    reverts: RevertDecoder,
    number: u64,
    timestamp: u64,
    logs: Vec<Log>,
    transactions: BTreeMap<B256, MinedTx>,
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
    }

    fn execute(&mut self, from: Address, tx: TxEnv) -> Result<(B256, ExecutionResult), L1Error> {
        let nonce = tx.nonce;
        let input = tx.data.clone();
        self.next_block();
        let result = self
            .evm
            .transact_commit(tx)
            .map_err(|e| L1Error::Rejected(e.to_string()))?;
        let mut preimage = from.to_vec();
        preimage.extend_from_slice(&nonce.to_be_bytes());
        let hash = keccak256(&preimage);
        self.transactions.insert(hash, MinedTx { input });
        Ok((hash, result))
    }

    fn deploy_from(&mut self, from: Address, init_code: Vec<u8>) -> Result<Address, L1Error> {
        let nonce = self.account(from).nonce;
        let tx = TxEnv::builder()
            .caller(from)
            .nonce(nonce)
            .chain_id(Some(EMBEDDED_CHAIN_ID))
            .gas_limit(CALL_GAS_LIMIT)
            .create()
            .data(init_code.into())
            .build_fill();
        let (_, result) = self.execute(from, tx)?;
        match result {
            ExecutionResult::Success { .. } => result
                .created_address()
                .ok_or_else(|| L1Error::Rejected("the deployment created no contract".into())),
            ExecutionResult::Revert { output, .. } => Err(L1Error::Reverted(self.revert(&output))),
            ExecutionResult::Halt { reason, .. } => Err(L1Error::Rejected(describe_halt(&reason))),
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
        let tx = TxEnv::builder()
            .caller(from)
            .nonce(nonce)
            .chain_id(Some(EMBEDDED_CHAIN_ID))
            .gas_limit(CALL_GAS_LIMIT)
            .call(to)
            .value(value)
            .data(data.into())
            .build_fill();
        let (hash, result) = self.execute(from, tx)?;
        let gas_used = result.gas().tx_gas_used();
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
        Ok(TxReceipt {
            hash,
            block: self.number,
            gas_used,
            logs,
            outcome,
        })
    }

    fn revert(&self, output: &[u8]) -> Revert {
        Revert {
            error: self.reverts.describe(output),
            raw: Bytes::copy_from_slice(output),
        }
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
}
