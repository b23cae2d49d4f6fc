//! The EVM guest as a state-test executor: the case's pre-state built into the binary trie, the
//! transaction run by the guest's `run_state_test` export on wasmtime or on the interpreter, and
//! the post-state read back out of the nodes it emitted.

use std::collections::BTreeMap;

use alloy_primitives::{Address, Bytes, B256};
use program::evm::evm_stf::state_test::{StateTestInput, StateTestOutput, StateTestVerdict};
use program::evm::evm_stf::GenesisAccount;
use program::evm::EvmStateReader;
use program::{NativeAbi, NodeStore};

use super::{CaseExecutor, CaseResult, PreAccount, SpecId, StateTestCase};
use crate::runner::{Engine, StfGuest};

/// Runs each case through the EVM guest on one engine.
pub struct GuestExecutor {
    guest: StfGuest,
    engine: Engine,
    name: &'static str,
}

impl GuestExecutor {
    pub fn new(engine: Engine) -> Result<GuestExecutor, String> {
        let guest = StfGuest::new(program::EVM_STF_WASM).map_err(|e| e.to_string())?;
        let name = match engine {
            Engine::Native => "guest on wasmtime",
            Engine::Interp => "guest on the interpreter",
        };
        Ok(GuestExecutor {
            guest,
            engine,
            name,
        })
    }
}

/// Cases whose work is far past what a guest run is for: (fixture file stem, why).
const TOO_COSTLY: &[(&str, &str)] = &[(
    "CALLBlake2f_MaxRounds",
    "2^32 - 1 Blake2 rounds: trillions of guest instructions (36 s on native revm)",
)];

impl CaseExecutor for GuestExecutor {
    fn name(&self) -> &str {
        self.name
    }

    fn skip_reason(&self, case: &StateTestCase) -> Option<String> {
        let stem = case.file.file_stem()?.to_str()?;
        TOO_COSTLY
            .iter()
            .find(|(name, _)| *name == stem)
            .map(|(_, why)| format!("not run on the guest: {why}"))
    }

    fn execute(&self, case: &StateTestCase) -> Result<CaseResult, String> {
        super::spec_for_fork(&case.fork)?;
        let accounts: Vec<GenesisAccount> = case
            .pre
            .iter()
            .map(|(address, account)| GenesisAccount {
                address: *address,
                nonce: account.nonce,
                balance: account.balance,
                code: account.code.to_vec(),
                storage: account.storage.iter().map(|(k, v)| (*k, *v)).collect(),
            })
            .collect();
        let mut builder = NativeAbi::new(Vec::new(), NodeStore::new()).recording_keys();
        let pre_root = program::evm::evm_stf::build_state(&mut builder, &accounts)
            .map_err(|e| format!("pre-state: {e}"))?;
        let env = &case.env;
        let input = StateTestInput {
            spec: case.spec as u8,
            pre_state_root: pre_root,
            number: env.number,
            timestamp: env.timestamp,
            coinbase: env.coinbase.0 .0,
            gas_limit: env.gas_limit,
            base_fee: env.base_fee.unwrap_or_default(),
            // PREVRANDAO replaced DIFFICULTY at Paris (EIP-4399).
            prevrandao: env
                .prevrandao
                .filter(|_| case.spec.is_enabled_in(SpecId::MERGE))
                .map(|hash| hash.0),
            difficulty: env.difficulty.to_be_bytes::<32>(),
            excess_blob_gas: env.excess_blob_gas,
            transaction: case.tx_bytes.to_vec(),
        };
        let abi = NativeAbi::new(input.to_bytes(), builder.store).recording_keys();
        let run = self
            .guest
            .run_entry(self.engine, "run_state_test", abi)
            .map_err(|e| format!("the guest failed: {e}"))?;
        let abi = run.host.abi;
        let output = abi
            .outputs
            .as_deref()
            .and_then(StateTestOutput::from_bytes)
            .ok_or("the guest wrote no readable output")?;
        match output.verdict {
            StateTestVerdict::Refused(reason) => Ok(CaseResult::Refused(reason)),
            StateTestVerdict::Failed(reason) => {
                Err(format!("the guest could not run it: {reason}"))
            }
            StateTestVerdict::Executed => {
                let mut preimages = builder.key_preimages.unwrap_or_default();
                preimages.extend(abi.key_preimages.unwrap_or_default());
                let mut reader = EvmStateReader::new(&abi.store, output.post_state_root);
                let dumped = reader.dump(&preimages).map_err(|e| e.to_string())?;
                let post: BTreeMap<Address, PreAccount> = dumped
                    .into_iter()
                    .map(|(address, account)| {
                        (
                            address,
                            PreAccount {
                                nonce: account.leaf.nonce,
                                balance: account.leaf.balance,
                                code: Bytes::from(account.code),
                                storage: account.storage,
                            },
                        )
                    })
                    .collect();
                Ok(CaseResult::Executed {
                    post,
                    logs_hash: B256::from(output.logs_hash),
                })
            }
        }
    }
}
