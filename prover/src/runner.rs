//! Runs one batch of the STF guest on an engine and returns its outputs and the new trie nodes.

use std::time::{Duration, Instant};

use program::ledger::{Batch, BatchOutputs};
use program::{NativeAbi, NodeStore};
use vm::commit::machine_hash::HashInputs;
use vm::native::{NativeError, NativeInstance, NativeModule};
use vm::{Machine, Module, RunOutcome, Trap, VmError};

use crate::stf_host::StfHost;

/// Which engine executes the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The provable interpreter (counts steps).
    Interp,
    /// wasmtime (fast replay).
    Native,
}

/// Step (fuel) budget for one batch: far above what 1,000 transactions need, small enough that a
/// runaway guest stops.
pub const BATCH_STEP_LIMIT: u64 = 200_000_000_000;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Vm(#[from] VmError),
    #[error("the STF guest trapped: {0}")]
    Trap(Trap),
    #[error("the STF guest wrote no outputs")]
    NoOutputs,
    #[error("the STF guest wrote undecodable outputs: {0}")]
    BadOutputs(String),
}

/// A finished batch.
pub struct BatchRun {
    pub outputs: BatchOutputs,
    /// The node store with every node the guest emitted added.
    pub store: NodeStore,
    /// Interpreter steps (0 on wasmtime).
    pub steps: u64,
    pub elapsed: Duration,
    /// Machine hash after the run (interpreter only).
    pub final_hash: Option<vm::MachineHash>,
    /// What that hash is computed from (interpreter only): L1 opens it when the batch is asserted.
    pub final_state: Option<HashInputs>,
    /// Host calls served, per import (see [`crate::stf_host::IMPORT_NAMES`]).
    pub host_calls: [u64; crate::stf_host::IMPORT_NAMES.len()],
}

fn finish(
    host: StfHost,
    steps: u64,
    elapsed: Duration,
    final_state: Option<HashInputs>,
) -> Result<BatchRun, RunError> {
    let StfHost {
        abi,
        calls: host_calls,
        ..
    } = host;
    let bytes = abi.outputs.clone().ok_or(RunError::NoOutputs)?;
    let outputs =
        BatchOutputs::from_bytes(&bytes).map_err(|e| RunError::BadOutputs(e.to_string()))?;
    Ok(BatchRun {
        outputs,
        store: abi.store,
        steps,
        elapsed,
        final_hash: final_state.as_ref().map(HashInputs::hash),
        final_state,
        host_calls,
    })
}

/// A guest loaded for both engines once (wasmtime compilation dominates a single small batch).
pub struct StfGuest {
    module: std::sync::Arc<Module>,
    native: NativeModule,
}

impl StfGuest {
    pub fn new(wasm: &[u8]) -> Result<StfGuest, RunError> {
        let module = Module::new(wasm)?;
        let native = NativeModule::from_module(module.clone(), wasm)?;
        Ok(StfGuest { module, native })
    }

    /// The interpreter machine and its host at step 0 of `batch` (instantiated, `run` invoked):
    /// the start of a batch claim, to be stepped, proven or disputed.
    pub fn start(&self, batch: &Batch, store: NodeStore) -> Result<(Machine, StfHost), RunError> {
        self.start_message(program::encode_batch(batch), store)
    }

    /// [`StfGuest::start`] on an inbox message as L1 built it (whatever its transactions section
    /// holds, decodable or not).
    pub fn start_message(
        &self,
        message: Vec<u8>,
        store: NodeStore,
    ) -> Result<(Machine, StfHost), RunError> {
        self.start_abi(NativeAbi::new(message, store))
    }

    /// Like [`StfGuest::start_message`], the host serving `abi` (its inbox, trie and signature
    /// cache).
    pub fn start_abi(&self, abi: NativeAbi) -> Result<(Machine, StfHost), RunError> {
        let mut host = StfHost::new(abi);
        let mut machine = Machine::instantiate(self.module.clone(), &mut host, BATCH_STEP_LIMIT)?;
        machine.invoke("run", &[])?;
        Ok((machine, host))
    }

    /// Runs `batch` against the trie in `store` on `engine`.
    pub fn run(
        &self,
        engine: Engine,
        batch: &Batch,
        store: NodeStore,
    ) -> Result<BatchRun, RunError> {
        self.run_message(engine, program::encode_batch(batch), store)
    }

    /// Runs an inbox message as L1 built it against the trie in `store` on `engine`.
    pub fn run_message(
        &self,
        engine: Engine,
        message: Vec<u8>,
        store: NodeStore,
    ) -> Result<BatchRun, RunError> {
        self.run_abi(engine, NativeAbi::new(message, store))
    }

    /// Runs the message in `abi` against its trie on `engine`, `ecrecover` served from its
    /// signature cache where it has one.
    pub fn run_abi(&self, engine: Engine, abi: NativeAbi) -> Result<BatchRun, RunError> {
        let run = self.run_entry(engine, "run", abi)?;
        finish(run.host, run.steps, run.elapsed, run.final_state)
    }

    /// Runs the guest's export `entry` (`run`, or the EVM guest's `run_state_test`) on `engine`
    /// to the end, its host serving `abi`; what the guest wrote is in the returned host.
    pub fn run_entry(
        &self,
        engine: Engine,
        entry: &str,
        abi: NativeAbi,
    ) -> Result<EntryRun, RunError> {
        let started = Instant::now();
        match engine {
            Engine::Interp => {
                let mut host = StfHost::new(abi);
                let mut machine =
                    Machine::instantiate(self.module.clone(), &mut host, BATCH_STEP_LIMIT)?;
                machine.invoke(entry, &[])?;
                // Steps of the claim: from the machine `start_message` returns, as disputes count them.
                let origin = machine.steps();
                match machine.run(&mut host, BATCH_STEP_LIMIT) {
                    RunOutcome::Finished(_) => {}
                    RunOutcome::Trapped(trap) => return Err(RunError::Trap(trap)),
                    RunOutcome::StepLimit => return Err(RunError::Trap(Trap::StepLimitReached)),
                    RunOutcome::Idle => return Err(RunError::NoOutputs),
                }
                Ok(EntryRun {
                    steps: machine.steps() - origin,
                    elapsed: started.elapsed(),
                    final_state: Some(machine.hash_inputs()),
                    host,
                })
            }
            Engine::Native => {
                let host = StfHost::new(abi);
                let mut instance = NativeInstance::new(&self.native, host, BATCH_STEP_LIMIT)?;
                match instance.invoke(entry, &[], BATCH_STEP_LIMIT) {
                    Ok(_) => {}
                    Err(NativeError::Trap(trap)) => return Err(RunError::Trap(trap)),
                    Err(NativeError::Vm(e)) => return Err(RunError::Vm(e)),
                }
                Ok(EntryRun {
                    steps: 0,
                    elapsed: started.elapsed(),
                    final_state: None,
                    host: instance.into_host(),
                })
            }
        }
    }
}

/// A finished run of one guest export.
pub struct EntryRun {
    /// The host after the run: its `abi` holds the outputs, the store with the emitted nodes and
    /// any recorded key preimages.
    pub host: StfHost,
    /// Interpreter steps (0 on wasmtime).
    pub steps: u64,
    pub elapsed: Duration,
    /// What the final machine hash is computed from (interpreter only).
    pub final_state: Option<HashInputs>,
}

/// Runs `batch` against the trie in `store` on `engine`, with the STF guest `wasm` (loaded for
/// this one run; keep a [`StfGuest`] to run many batches).
pub fn run_batch(
    engine: Engine,
    wasm: &[u8],
    batch: &Batch,
    store: NodeStore,
) -> Result<BatchRun, RunError> {
    StfGuest::new(wasm)?.run(engine, batch, store)
}
