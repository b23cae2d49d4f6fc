//! Admission into the sequencer's mempool with group commit. A transaction is acknowledged only
//! once it is on disk, and a disk sync costs milliseconds; so one thread, the committer, takes
//! every transaction that arrived while the previous sync ran, checks them in arrival order
//! against the head state and what waits (under the node's lock, so the mempool and its effects
//! change together), writes the admitted ones in one store transaction, and only then answers
//! each. Under load a sync serves many transactions; alone, one is as fast as before. On an EVM
//! rollup the check is the L2 chain's pool ([`EvmChain::submit`](super::evm_chain::EvmChain::submit),
//! geth's rules and words), and a transaction the store could not write leaves the pool again.

use std::sync::mpsc;
use std::thread::JoinHandle;

use program::ledger::Hash;

use super::eth_rpc::{lock_chain, SharedChain};
use super::evm_chain::SubmitError;
use super::mempool::{self, Refusal};
use super::state::{lock_state, NodeState, Shared};
use super::StoreError;

/// At most this many transactions in one store transaction.
const MAX_GROUP: usize = 4096;

/// Why a transaction was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum NotAdmitted {
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The EVM pool's refusal, in geth's words.
    #[error(transparent)]
    Pool(#[from] SubmitError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the node is stopping")]
    Stopping,
}

type Reply = tokio::sync::oneshot::Sender<Result<Hash, NotAdmitted>>;

/// The handle the RPC hands transactions to; the committer stops when the last handle is dropped.
#[derive(Clone)]
pub struct Admissions {
    queue: mpsc::Sender<(Vec<u8>, Reply)>,
}

impl Admissions {
    /// Starts the committer for `state` (and on an EVM rollup, `chain`'s pool).
    pub fn start(
        state: Shared,
        chain: Option<SharedChain>,
    ) -> std::io::Result<(Admissions, JoinHandle<()>)> {
        let (queue, arrivals) = mpsc::channel();
        let committer = std::thread::Builder::new()
            .name("mempool-committer".into())
            .spawn(move || commit_loop(&state, chain.as_ref(), &arrivals))?;
        Ok((Admissions { queue }, committer))
    }

    /// Admits `bytes`: its hash once it is durable, or why not.
    pub async fn admit(&self, bytes: Vec<u8>) -> Result<Hash, NotAdmitted> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue
            .send((bytes, reply))
            .map_err(|_| NotAdmitted::Stopping)?;
        answer.await.unwrap_or(Err(NotAdmitted::Stopping))
    }
}

fn commit_loop(
    state: &Shared,
    chain: Option<&SharedChain>,
    arrivals: &mpsc::Receiver<(Vec<u8>, Reply)>,
) {
    while let Ok(first) = arrivals.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match arrivals.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let mut node = lock_state(state);
        if let Some(chain) = chain {
            admit_to_pool(&mut node, chain, group);
            continue;
        }
        let head = match node.db.head() {
            Ok(head) => head,
            Err(e) => {
                let why = e.to_string();
                for (_, reply) in group {
                    let _ = reply.send(Err(StoreError::Db(why.clone()).into()));
                }
                continue;
            }
        };
        // Checked in arrival order, each on top of the ones before it.
        let mut pending = node.pending.clone();
        let mut admitted = Vec::new();
        let mut senders = Vec::new();
        let mut answers = Vec::new();
        for (bytes, reply) in group {
            match mempool::check(
                &bytes,
                node.chain_id,
                node.db.nodes(),
                &head.state_root,
                &pending,
            ) {
                Ok(tx) => {
                    pending.add(&tx);
                    senders.push((tx.hash, tx.sender));
                    admitted.push((tx.hash, bytes));
                    answers.push((reply, Ok(tx.hash)));
                }
                Err(refusal) => answers.push((reply, Err(NotAdmitted::Refused(refusal)))),
            }
        }
        match node.db.admit_all(&admitted) {
            Ok(()) => {
                node.pending = pending;
                node.senders.extend(senders);
                drop(node);
                for (reply, answer) in answers {
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                drop(node);
                let why = e.to_string();
                for (reply, answer) in answers {
                    let _ = reply.send(answer.and(Err(StoreError::Db(why.clone()).into())));
                }
            }
        }
    }
}

/// An EVM rollup's group: each into the chain's pool in arrival order, the admitted ones to disk
/// at once, then the answers; if the write fails they leave the pool (never acknowledged).
fn admit_to_pool(node: &mut NodeState, chain: &SharedChain, group: Vec<(Vec<u8>, Reply)>) {
    let mut admitted = Vec::new();
    let mut answers = Vec::new();
    {
        let mut chain = lock_chain(chain);
        for (bytes, reply) in group {
            match chain.submit(&bytes) {
                Ok(hash) => {
                    admitted.push((hash.0, bytes));
                    answers.push((reply, Ok(hash.0)));
                }
                Err(refusal) => answers.push((reply, Err(NotAdmitted::Pool(refusal)))),
            }
        }
    }
    if let Err(e) = node.db.admit_all(&admitted) {
        let mut chain = lock_chain(chain);
        for (hash, _) in &admitted {
            chain.pool_remove(&alloy::primitives::B256::from(*hash));
        }
        let why = e.to_string();
        for (reply, answer) in answers {
            let _ = reply.send(answer.and(Err(StoreError::Db(why.clone()).into())));
        }
        return;
    }
    for (reply, answer) in answers {
        let _ = reply.send(answer);
    }
}
