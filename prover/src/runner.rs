//! Runs one batch of the STF guest on an engine and returns its outputs and the new trie nodes.

use std::time::{Duration, Instant};

use program::ledger::{Batch, BatchOutputs};
use program::{NativeAbi, NodeStore};
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
}

fn finish(
    abi: NativeAbi,
    steps: u64,
    elapsed: Duration,
    final_hash: Option<vm::MachineHash>,
) -> Result<BatchRun, RunError> {
    let bytes = abi.outputs.clone().ok_or(RunError::NoOutputs)?;
    let outputs =
        BatchOutputs::from_bytes(&bytes).map_err(|e| RunError::BadOutputs(e.to_string()))?;
    Ok(BatchRun {
        outputs,
        store: abi.store,
        steps,
        elapsed,
        final_hash,
    })
}

/// Runs `batch` against the trie in `store` on `engine`, with the embedded STF guest `wasm`.
pub fn run_batch(
    engine: Engine,
    wasm: &[u8],
    batch: &Batch,
    store: NodeStore,
) -> Result<BatchRun, RunError> {
    let abi = NativeAbi::new(program::encode_batch(batch), store);
    let mut host = StfHost::new(abi);
    let started = Instant::now();
    match engine {
        Engine::Interp => {
            let module = Module::new(wasm)?;
            let mut machine = Machine::instantiate(module, &mut host, BATCH_STEP_LIMIT)?;
            machine.invoke("run", &[])?;
            match machine.run(&mut host, BATCH_STEP_LIMIT) {
                RunOutcome::Finished(_) => {}
                RunOutcome::Trapped(trap) => return Err(RunError::Trap(trap)),
                RunOutcome::StepLimit => return Err(RunError::Trap(Trap::StepLimitReached)),
                RunOutcome::Idle => return Err(RunError::NoOutputs),
            }
            let elapsed = started.elapsed();
            let hash = machine.hash();
            finish(host.abi, machine.steps(), elapsed, Some(hash))
        }
        Engine::Native => {
            let module = NativeModule::new(wasm)?;
            let mut instance = NativeInstance::new(&module, host, BATCH_STEP_LIMIT)?;
            match instance.invoke("run", &[], BATCH_STEP_LIMIT) {
                Ok(_) => {}
                Err(NativeError::Trap(trap)) => return Err(RunError::Trap(trap)),
                Err(NativeError::Vm(e)) => return Err(RunError::Vm(e)),
            }
            let elapsed = started.elapsed();
            finish(instance.into_host().abi, 0, elapsed, None)
        }
    }
}
