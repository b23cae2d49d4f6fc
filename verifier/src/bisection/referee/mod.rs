//! The rollup's dispute protocol as a pure state machine: assertions and stakes, and the tree of
//! challenges and dissections over their claims, all against all. It is the executable model of
//! `contracts/src/AssertionChain.sol` and `Disputes.sol` (the contracts decide; this model must
//! agree with them on every move, which the differential tests check) and the place to read the
//! rules in Rust. `contracts/README.md` states them and argues their properties.
//!
//! What the model leaves out is what L1 checks about batches: an assertion here is given its
//! claim (the step-0 hash `H0`, the final hash, the step count) and the hash of its data, as the
//! contract computes them from a posted batch and the parent's outputs.
//!
//! Every refusal leaves the referee unchanged.

use std::collections::BTreeMap;

use alloy_primitives::{keccak256, Address, B256};
use vm::MachineHash;

use super::{boundaries, parts, OneStepChecker};

mod assertions;
mod disputes;
mod refusal;

pub use refusal::Refusal;

/// A dispute node's key: its content's hash, as the contract keys its storage.
pub type NodeKey = B256;

/// Bytes of the hot part of a machine hash's preimage; the status byte is at [`STATUS_AT`].
pub const HOT_BYTES: usize = 141;
pub const STATUS_AT: usize = 20;
const FINISHED: u8 = 2;
const TRAPPED: u8 = 3;

/// The protocol's parameters (a deployment's `RollupConfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefereeConfig {
    pub arity: u32,
    /// Seconds each side may spend along any path of a dispute tree.
    pub clock_budget: u64,
    /// Seconds an assertion can be challenged, and waits before it can be confirmed.
    pub challenge_period: u64,
    /// Wei of one stake.
    pub stake: u128,
    /// Wei of each challenge and dissection.
    pub bond: u128,
    pub burn_bps: u16,
}

impl RefereeConfig {
    /// `amount` split into (paid to the winner, burned), as `RollupConfigs.burnOf`.
    pub fn split(&self, amount: u128) -> (u128, u128) {
        let bps = u128::from(self.burn_bps.min(10_000));
        let burned = amount / 10_000 * bps + amount % 10_000 * bps / 10_000;
        (amount - burned, burned)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssertionStatus {
    Pending,
    Confirmed,
    Rejected,
}

impl AssertionStatus {
    /// The contract's status code.
    pub fn code(self) -> u8 {
        match self {
            AssertionStatus::Pending => 1,
            AssertionStatus::Confirmed => 2,
            AssertionStatus::Rejected => 3,
        }
    }
}

/// What an assertion claims about its batch's run: the root segment of its disputes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssertionClaim {
    pub parent: u64,
    /// keccak256(abi.encode(AssertionData)): what makes two claims the same.
    pub data_hash: B256,
    /// The step-0 machine hash of the batch on the parent's post-state root.
    pub start_hash: MachineHash,
    pub final_hash: MachineHash,
    pub steps: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionEntry {
    pub claim: AssertionClaim,
    pub asserter: Address,
    pub created_at: u64,
    pub status: AssertionStatus,
    pub confirmed_child: Option<u64>,
}

/// An address's stake: it sits on `latest`; it may be slashed for assertions from `since` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stake {
    pub latest: u64,
    pub since: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// "This segment claim is wrong."
    Challenge,
    /// "These are the hashes at the challenged segment's boundaries."
    Dissection,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    Open,
    /// Its claim stood.
    Held,
    Refuted,
}

impl NodeState {
    pub fn code(self) -> u8 {
        match self {
            NodeState::Open => 1,
            NodeState::Held => 2,
            NodeState::Refuted => 3,
        }
    }
}

/// One challenge or dissection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    pub state: NodeState,
    pub owner: Address,
    pub posted_at: u64,
    /// The segment: the challenged one, or the one a dissection cuts.
    pub lo: u64,
    pub hi: u64,
    pub start_hash: MachineHash,
    pub end_hash: MachineHash,
    /// The segment's end is its assertion's last step.
    pub is_final: bool,
    /// Time this node's side has spent along its path, its own move included.
    pub used: u64,
    /// Time the other side has spent along its path.
    pub other_used: u64,
    pub open_children: u32,
    /// The parent node; zero for a root challenge.
    pub parent: NodeKey,
    pub assertion: u64,
    /// A dissection's hashes: start, interior, end.
    pub hashes: Vec<MachineHash>,
}

impl Node {
    /// The last second a child (or a proof against a dissection) is accepted.
    pub fn deadline(&self, budget: u64) -> u64 {
        self.posted_at
            .saturating_add(budget)
            .saturating_sub(self.other_used)
    }
}

/// The key of assertion `id`'s root challenge: keccak256(abi.encode(uint256(id), bytes32(0))).
pub fn root_challenge_key(id: u64) -> NodeKey {
    let mut bytes = [0u8; 64];
    bytes[24..32].copy_from_slice(&id.to_be_bytes());
    keccak256(bytes)
}

/// The key of the challenge of sub-segment `index` of `dissection`:
/// keccak256(abi.encode(dissection, uint256(index))).
pub fn sub_challenge_key(dissection: &NodeKey, index: u64) -> NodeKey {
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(dissection.as_slice());
    bytes[56..64].copy_from_slice(&index.to_be_bytes());
    keccak256(bytes)
}

/// The key of a dissection of `challenge` posting `hashes`:
/// keccak256(abi.encode(challenge, keccak256(abi.encodePacked(hashes)))).
pub fn dissection_key(challenge: &NodeKey, hashes: &[MachineHash]) -> NodeKey {
    let packed: Vec<u8> = hashes.iter().flat_map(|h| h.0).collect();
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(challenge.as_slice());
    bytes[32..].copy_from_slice(keccak256(packed).as_slice());
    keccak256(bytes)
}

/// A sub-segment of a dissection: its steps and the hashes posted at its ends.
#[derive(Clone, Copy, Debug)]
struct SubSegment {
    lo: u64,
    hi: u64,
    start: MachineHash,
    end: MachineHash,
    /// The dissection's last part.
    last: bool,
}

/// The whole protocol state of one rollup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referee {
    config: RefereeConfig,
    last_tick: u64,
    assertions: Vec<AssertionEntry>,
    id_of: BTreeMap<B256, u64>,
    stakes: BTreeMap<Address, Stake>,
    nodes: BTreeMap<NodeKey, Node>,
    credits: BTreeMap<Address, u128>,
    burned: u128,
    last_confirmed: u64,
    /// Wei the referee holds: stakes, bonds and credits not paid, and the burn.
    held: u128,
}

impl Referee {
    /// A rollup whose genesis (id 0, confirmed) has data hash `genesis_hash`, from tick `now`.
    pub fn new(config: RefereeConfig, genesis_hash: B256, now: u64) -> Referee {
        let genesis = AssertionEntry {
            claim: AssertionClaim {
                parent: 0,
                data_hash: genesis_hash,
                start_hash: MachineHash([0; 32]),
                final_hash: MachineHash([0; 32]),
                steps: 0,
            },
            asserter: Address::ZERO,
            created_at: now,
            status: AssertionStatus::Confirmed,
            confirmed_child: None,
        };
        Referee {
            config,
            last_tick: now,
            assertions: vec![genesis],
            id_of: BTreeMap::from([(genesis_hash, 0)]),
            stakes: BTreeMap::new(),
            nodes: BTreeMap::new(),
            credits: BTreeMap::new(),
            burned: 0,
            last_confirmed: 0,
            held: 0,
        }
    }

    pub fn config(&self) -> &RefereeConfig {
        &self.config
    }

    pub fn assertion(&self, id: u64) -> Option<&AssertionEntry> {
        self.assertions.get(usize::try_from(id).ok()?)
    }

    pub fn assertion_count(&self) -> u64 {
        self.assertions.len() as u64
    }

    pub fn id_of(&self, data_hash: &B256) -> Option<u64> {
        self.id_of.get(data_hash).copied()
    }

    pub fn stake_of(&self, who: &Address) -> Option<Stake> {
        self.stakes.get(who).copied()
    }

    pub fn node(&self, key: &NodeKey) -> Option<&Node> {
        self.nodes.get(key)
    }

    pub fn nodes(&self) -> &BTreeMap<NodeKey, Node> {
        &self.nodes
    }

    pub fn credits(&self, who: &Address) -> u128 {
        self.credits.get(who).copied().unwrap_or(0)
    }

    pub fn burned(&self) -> u128 {
        self.burned
    }

    /// Wei held: what was staked and bonded and not yet withdrawn (the burn included).
    pub fn held(&self) -> u128 {
        self.held
    }

    pub fn last_confirmed(&self) -> u64 {
        self.last_confirmed
    }

    fn tick(&mut self, now: u64) -> Result<(), Refusal> {
        if now < self.last_tick {
            return Err(Refusal::TimeWentBackwards {
                last: self.last_tick,
                now,
            });
        }
        self.last_tick = now;
        Ok(())
    }

    fn entry(&self, id: u64) -> Result<&AssertionEntry, Refusal> {
        self.assertion(id).ok_or(Refusal::UnknownAssertion)
    }

    fn pending(&self, id: u64) -> Result<&AssertionEntry, Refusal> {
        let a = self.entry(id)?;
        if a.status != AssertionStatus::Pending {
            return Err(Refusal::NotPending {
                id,
                status: a.status.code(),
            });
        }
        Ok(a)
    }

    fn node_state(&self, key: &NodeKey) -> Option<NodeState> {
        self.nodes.get(key).map(|n| n.state)
    }

    fn set_node_state(&mut self, key: &NodeKey, state: NodeState) {
        if let Some(n) = self.nodes.get_mut(key) {
            n.state = state;
        }
    }

    fn set_status(&mut self, id: u64, status: AssertionStatus) {
        if let Some(a) = self.assertions.get_mut(id as usize) {
            a.status = status;
        }
    }

    /// An open dissection refuted by `winner` (a held challenge's owner or a prover).
    fn refute_dissection(&mut self, key: &NodeKey, winner: Address) {
        self.set_node_state(key, NodeState::Refuted);
        self.forfeit(self.config.bond, winner);
        if let Some(parent) = self.nodes.get(key).map(|d| d.parent) {
            self.child_resolved(&parent);
        }
    }

    /// Assertion `id` lost its dispute to `winner`: rejected, its asserter's stake slashed if
    /// that stake posted it.
    fn lose_dispute(&mut self, id: u64, winner: Address) {
        self.set_status(id, AssertionStatus::Rejected);
        let Some(asserter) = self.assertion(id).map(|a| a.asserter) else {
            return;
        };
        if self.stakes.get(&asserter).is_some_and(|s| s.since <= id) {
            self.stakes.remove(&asserter);
            self.forfeit(self.config.stake, winner);
        }
    }

    fn credit(&mut self, who: Address, amount: u128) {
        *self.credits.entry(who).or_default() += amount;
    }

    fn forfeit(&mut self, amount: u128, winner: Address) {
        let (paid, burned) = self.config.split(amount);
        self.burned += burned;
        self.credit(winner, paid);
    }
}
