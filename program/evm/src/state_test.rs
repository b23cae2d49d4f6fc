//! Ethereum's state tests through the same EVM, state and transaction code as the rollup: one
//! transaction under a fixture's block environment and hardfork, on a pre-state the host built
//! with [`crate::genesis`]. The guest's second entry point (`run_state_test`) runs this; the
//! host compares the post-state it leaves (read back from the emitted nodes) with the fixture.

use alloc::string::String;
use alloc::vec::Vec;

use alloy_primitives::{Address, B256, U256};
use bincode::{Decode, Encode};
use ledger::{Abi, Config, Hash};
use revm::context::result::ExecutionResult;
use revm::context::BlockEnv;
use revm::primitives::hardfork::SpecId;

use crate::execution::{run_transaction, BlockContext, TxRun};
use crate::receipts::logs_hash;
use crate::state::{BlockHashes, StateDb};
use crate::transaction::decode;

/// Ethereum mainnet's chain id, which the fixtures sign for.
pub const STATE_TEST_CHAIN_ID: u64 = 1;

/// One case, as the host puts it in the inbox.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StateTestInput {
    /// revm's `SpecId` as a byte.
    pub spec: u8,
    pub pre_state_root: Hash,
    pub number: u64,
    pub timestamp: u64,
    pub coinbase: [u8; 20],
    pub gas_limit: u64,
    pub base_fee: u64,
    pub prevrandao: Option<[u8; 32]>,
    pub difficulty: [u8; 32],
    pub excess_blob_gas: Option<u64>,
    /// The signed transaction (EIP-2718).
    pub transaction: Vec<u8>,
}

/// What the guest reports.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StateTestOutput {
    pub post_state_root: Hash,
    pub logs_hash: [u8; 32],
    pub gas_used: u64,
    pub verdict: StateTestVerdict,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum StateTestVerdict {
    Executed,
    /// The transaction was refused (state unchanged): why, as text.
    Refused(String),
    /// The input could not be run at all (bad input, unknown spec, missing state).
    Failed(String),
}

impl StateTestOutput {
    pub fn to_bytes(&self) -> Vec<u8> {
        bincode::encode_to_vec(self, bincode::config::standard()).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (output, read) = bincode::decode_from_slice(bytes, bincode::config::standard()).ok()?;
        (read == bytes.len()).then_some(output)
    }
}

impl StateTestInput {
    pub fn to_bytes(&self) -> Vec<u8> {
        bincode::encode_to_vec(self, bincode::config::standard()).unwrap_or_default()
    }
}

/// Runs the case in the inbox and writes its [`StateTestOutput`].
pub fn run_state_test<A: Abi + ?Sized>(abi: &mut A) -> StateTestOutput {
    let output = run(abi).unwrap_or_else(|failure| StateTestOutput {
        post_state_root: [0; 32],
        logs_hash: [0; 32],
        gas_used: 0,
        verdict: StateTestVerdict::Failed(failure),
    });
    let mut bytes = output.to_bytes();
    bytes.truncate(ledger::MAX_CHUNK);
    abi.write_output(&bytes);
    output
}

fn run<A: Abi + ?Sized>(abi: &mut A) -> Result<StateTestOutput, String> {
    // Fixtures carry transactions of up to a few hundred KiB of calldata.
    let config = Config {
        max_batch_bytes: 4 << 20,
        ..Config::default()
    };
    let bytes =
        ledger::stf::read_inbox(abi, &config).map_err(|e| alloc::format!("inbox: {e:?}"))?;
    let (input, read): (StateTestInput, usize) =
        bincode::decode_from_slice(&bytes, bincode::config::standard())
            .map_err(|_| String::from("input does not decode"))?;
    if read != bytes.len() {
        return Err(String::from("trailing input bytes"));
    }
    let spec = SpecId::try_from_u8(input.spec).ok_or_else(|| String::from("unknown spec"))?;
    let mut db = StateDb::new(abi, input.pre_state_root, spec, BlockHashes::StateTest);
    let env = BlockEnv {
        number: U256::from(input.number),
        beneficiary: Address::from(input.coinbase),
        timestamp: U256::from(input.timestamp),
        gas_limit: input.gas_limit,
        basefee: input.base_fee,
        difficulty: U256::from_be_bytes(input.difficulty),
        prevrandao: input.prevrandao.map(B256::from),
        blob_excess_gas_and_price: BlockContext::blob_pricing(
            input.excess_blob_gas.unwrap_or_default(),
            spec,
        ),
        ..BlockEnv::default()
    };
    let block = BlockContext {
        env,
        spec,
        chain_id: STATE_TEST_CHAIN_ID,
    };
    let refused = |reason: String, root| StateTestOutput {
        post_state_root: root,
        logs_hash: logs_hash(&[]).0,
        gas_used: 0,
        verdict: StateTestVerdict::Refused(reason),
    };
    let tx = match decode(db.abi(), &input.transaction, true) {
        Ok(tx) => tx,
        Err(undecodable) => {
            return Ok(refused(
                alloc::format!("{undecodable:?}"),
                input.pre_state_root,
            ))
        }
    };
    let tx_env = tx.tx_env(db.abi());
    let result =
        match run_transaction(&mut db, &block, tx_env).map_err(|e| alloc::format!("{e}"))? {
            TxRun::Executed(result) => result,
            TxRun::Invalid(detail) => {
                return Ok(refused(alloc::format!("{detail:?}"), input.pre_state_root))
            }
        };
    let gas_used = result.gas().tx_gas_used();
    let logs = match &result {
        ExecutionResult::Success { logs, .. }
        | ExecutionResult::Revert { logs, .. }
        | ExecutionResult::Halt { logs, .. } => logs.clone(),
    };
    let post_state_root = db.finish().map_err(|e| alloc::format!("{e}"))?;
    Ok(StateTestOutput {
        post_state_root,
        logs_hash: logs_hash(&logs).0,
        gas_used,
        verdict: StateTestVerdict::Executed,
    })
}
