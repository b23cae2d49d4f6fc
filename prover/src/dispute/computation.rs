//! The disputed computation: a machine at step 0 of a claim, the host it runs against, and the
//! provable meaning of that host's imports (what proofs are built and checked with).

use std::sync::Arc;

use program::ledger::Batch;
use program::NodeStore;
use verifier::bisection::OneStepChecker;
use verifier::stf_host::StfSemantics;
use verifier::ProofError;
use vm::proof::{HostSemantics, NoHostSemantics};
use vm::{Host, Machine, MachineHash, Module, NoImports, RunOutcome, Value};

use super::DisputeError;
use crate::runner::StfGuest;
use crate::stf_host::StfHost;

/// Provable host semantics that can be shared by the threads computing hashes in parallel.
pub type Semantics = &'static (dyn HostSemantics + Sync);

/// Step 0 of an execution claim. Snapshots of it (a machine and a host clone) are what
/// [`super::Checkpoints`] keep, so `H` must be cheap enough to clone a few dozen times.
#[derive(Clone)]
pub struct Computation<H> {
    pub machine: Machine,
    pub host: H,
    pub semantics: Semantics,
}

impl<H: Host + Clone + Send + Sync> Computation<H> {
    pub fn new(machine: Machine, host: H, semantics: Semantics) -> Self {
        Computation {
            machine,
            host,
            semantics,
        }
    }

    /// Steps from step 0 until the machine halts (finishes or traps), if it does within `limit`:
    /// the step count of the claim over the whole run. Runs a snapshot; `self` does not move.
    pub fn run_length(&self, limit: u64) -> Option<u64> {
        let (mut machine, mut host) = (self.machine.clone(), self.host.clone());
        let origin = machine.steps();
        match machine.run(&mut host, limit) {
            RunOutcome::StepLimit => None,
            _ => Some(machine.steps() - origin),
        }
    }

    /// The referee's one-step checker for this computation's host.
    pub fn checker(&self) -> SemanticsChecker {
        SemanticsChecker(self.semantics)
    }
}

impl Computation<StfHost> {
    /// One STF batch against the trie in `store`: the machine right after `run` is invoked.
    pub fn stf(guest: &StfGuest, batch: &Batch, store: NodeStore) -> Result<Self, DisputeError> {
        let (machine, host) = guest.start(batch, store)?;
        Ok(Computation::new(machine, host, &StfSemantics))
    }

    /// One inbox message as L1 built it (what an assertion on L1 is about).
    pub fn stf_message(
        guest: &StfGuest,
        message: Vec<u8>,
        store: NodeStore,
    ) -> Result<Self, DisputeError> {
        Self::stf_abi(guest, program::NativeAbi::new(message, store))
    }

    /// The batch in `abi` (its message, trie and blobs), as [`Computation::stf_message`].
    pub fn stf_abi(guest: &StfGuest, abi: program::NativeAbi) -> Result<Self, DisputeError> {
        let (machine, host) = guest.start_abi(abi)?;
        Ok(Computation::new(machine, host, &StfSemantics))
    }
}

impl Computation<NoImports> {
    /// A call of export `name` of a module without imports (after its start function, if any,
    /// has run within `start_limit` steps).
    pub fn call(
        wasm: &[u8],
        name: &str,
        args: &[Value],
        start_limit: u64,
    ) -> Result<Self, DisputeError> {
        Self::call_module(Module::new(wasm)?, name, args, start_limit)
    }

    /// Like [`Computation::call`] on a module already loaded (load once, dispute many calls).
    pub fn call_module(
        module: Arc<Module>,
        name: &str,
        args: &[Value],
        start_limit: u64,
    ) -> Result<Self, DisputeError> {
        let mut machine = Machine::instantiate(module, &mut NoImports, start_limit)?;
        machine.invoke(name, args)?;
        Ok(Computation::new(machine, NoImports, &NoHostSemantics))
    }
}

/// The stateless one-step checker under some host semantics: [`verifier::verify_step_with`] as
/// the bisection referee calls it. With [`StfSemantics`] it is [`verifier::StfChecker`].
#[derive(Clone, Copy)]
pub struct SemanticsChecker(pub Semantics);

impl OneStepChecker for SemanticsChecker {
    type Error = ProofError;

    fn verify_step(&self, pre: &MachineHash, proof: &[u8]) -> Result<MachineHash, ProofError> {
        verifier::verify_step_with(pre, proof, self.0)
    }
}
