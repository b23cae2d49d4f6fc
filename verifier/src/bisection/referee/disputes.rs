//! The dispute tree: root challenges, dissections, sub-segment challenges, one-step proofs and
//! resolution, with the per-path clocks.

use alloy_primitives::{keccak256, Address, B256};
use vm::MachineHash;

use super::{
    boundaries, dissection_key, parts, root_challenge_key, sub_challenge_key, Node, NodeKey,
    NodeKind, NodeState, OneStepChecker, Referee, Refusal, SubSegment, FINISHED, HOT_BYTES,
    STATUS_AT, TRAPPED,
};

impl Referee {
    /// Opens the challenge of assertion `id`'s root segment.
    pub fn challenge_assertion(
        &mut self,
        now: u64,
        who: Address,
        value: u128,
        id: u64,
    ) -> Result<NodeKey, Refusal> {
        self.bond(value)?;
        let a = self.pending(id)?;
        let claim = a.claim;
        let ends_at = a.created_at.saturating_add(self.config.challenge_period);
        if now >= ends_at {
            return Err(Refusal::ChallengePeriodOver(ends_at));
        }
        if claim.steps == 1 {
            return Err(Refusal::OneStepSegment);
        }
        let key = root_challenge_key(id);
        if self.nodes.contains_key(&key) {
            return Err(Refusal::AlreadyChallenged(key));
        }
        self.tick(now)?;
        self.held += value;
        self.nodes.insert(
            key,
            Node {
                kind: NodeKind::Challenge,
                state: NodeState::Open,
                owner: who,
                posted_at: now,
                lo: 0,
                hi: claim.steps,
                start_hash: claim.start_hash,
                end_hash: claim.final_hash,
                is_final: true,
                used: 0,
                other_used: 0,
                open_children: 0,
                parent: B256::ZERO,
                assertion: id,
                hashes: Vec::new(),
            },
        );
        Ok(key)
    }

    pub(super) fn bond(&self, value: u128) -> Result<(), Refusal> {
        if value != self.config.bond {
            return Err(Refusal::WrongBond {
                sent: value,
                expected: self.config.bond,
            });
        }
        Ok(())
    }

    /// The open node `key` of `kind`, accepting moves at `now`.
    pub(super) fn open_node(
        &self,
        key: &NodeKey,
        kind: NodeKind,
        now: u64,
    ) -> Result<&Node, Refusal> {
        let node = self.nodes.get(key).ok_or(Refusal::NoSuchNode(*key))?;
        if node.kind != kind {
            return Err(match kind {
                NodeKind::Challenge => Refusal::NotAChallenge(*key),
                NodeKind::Dissection => Refusal::NotADissection(*key),
            });
        }
        if node.state != NodeState::Open {
            return Err(Refusal::NodeResolved(*key));
        }
        let deadline = node.deadline(self.config.clock_budget);
        if now > deadline {
            return Err(Refusal::MoveTooLate(deadline));
        }
        Ok(node)
    }

    pub(super) fn child_clocks(&self, parent: &Node, now: u64) -> (u64, u64) {
        (
            parent
                .other_used
                .saturating_add(now.saturating_sub(parent.posted_at)),
            parent.used,
        )
    }

    /// Posts the hashes at the boundaries of a challenged segment (its start and end included).
    pub fn dissect(
        &mut self,
        now: u64,
        who: Address,
        value: u128,
        challenge: NodeKey,
        hashes: Vec<MachineHash>,
    ) -> Result<NodeKey, Refusal> {
        self.bond(value)?;
        let c = self.open_node(&challenge, NodeKind::Challenge, now)?;
        let parts = parts(c.hi - c.lo, self.config.arity);
        if hashes.len() as u64 != parts + 1 {
            return Err(Refusal::WrongHashCount {
                expected: parts + 1,
                got: hashes.len(),
            });
        }
        if hashes.first() != Some(&c.start_hash) || hashes.last() != Some(&c.end_hash) {
            return Err(Refusal::BadPostedHashes);
        }
        let key = dissection_key(&challenge, &hashes);
        if self.nodes.contains_key(&key) {
            return Err(Refusal::AlreadyPosted(key));
        }
        let (used, other_used) = self.child_clocks(c, now);
        let node = Node {
            kind: NodeKind::Dissection,
            state: NodeState::Open,
            owner: who,
            posted_at: now,
            lo: c.lo,
            hi: c.hi,
            start_hash: c.start_hash,
            end_hash: c.end_hash,
            is_final: c.is_final,
            used,
            other_used,
            open_children: 0,
            parent: challenge,
            assertion: c.assertion,
            hashes,
        };
        self.tick(now)?;
        self.held += value;
        self.nodes.insert(key, node);
        self.child_added(&challenge);
        Ok(key)
    }

    pub(super) fn child_added(&mut self, key: &NodeKey) {
        if let Some(n) = self.nodes.get_mut(key) {
            n.open_children += 1;
        }
    }

    pub(super) fn child_resolved(&mut self, key: &NodeKey) {
        if let Some(n) = self.nodes.get_mut(key) {
            n.open_children = n.open_children.saturating_sub(1);
        }
    }

    /// The open dissection `key` whose hashes are `hashes`, and its sub-segment `index`.
    pub(super) fn sub_segment(
        &self,
        key: &NodeKey,
        hashes: &[MachineHash],
        index: u64,
        now: u64,
    ) -> Result<(&Node, SubSegment), Refusal> {
        let d = self.open_node(key, NodeKind::Dissection, now)?;
        let parts = parts(d.hi - d.lo, self.config.arity);
        if hashes.len() as u64 != parts + 1 {
            return Err(Refusal::WrongHashCount {
                expected: parts + 1,
                got: hashes.len(),
            });
        }
        if dissection_key(&d.parent, hashes) != *key {
            return Err(Refusal::BadPostedHashes);
        }
        let bounds = boundaries(d.lo, d.hi, self.config.arity);
        let at = |i: u64| {
            let i = usize::try_from(i).ok()?;
            Some((*bounds.get(i)?, *hashes.get(i)?))
        };
        match (at(index), at(index.saturating_add(1))) {
            (Some((lo, start)), Some((hi, end))) if index < parts => Ok((
                d,
                SubSegment {
                    lo,
                    hi,
                    start,
                    end,
                    last: index + 1 == parts,
                },
            )),
            _ => Err(Refusal::IndexOutOfRange { index, parts }),
        }
    }

    /// Challenges sub-segment `index` of a dissection.
    pub fn challenge(
        &mut self,
        now: u64,
        who: Address,
        value: u128,
        dissection: NodeKey,
        hashes: &[MachineHash],
        index: u64,
    ) -> Result<NodeKey, Refusal> {
        self.bond(value)?;
        let (d, sub) = self.sub_segment(&dissection, hashes, index, now)?;
        if sub.hi - sub.lo <= 1 {
            return Err(Refusal::OneStepSegment);
        }
        let key = sub_challenge_key(&dissection, index);
        if self.nodes.contains_key(&key) {
            return Err(Refusal::AlreadyChallenged(key));
        }
        let (used, other_used) = self.child_clocks(d, now);
        let node = Node {
            kind: NodeKind::Challenge,
            state: NodeState::Open,
            owner: who,
            posted_at: now,
            lo: sub.lo,
            hi: sub.hi,
            start_hash: sub.start,
            end_hash: sub.end,
            is_final: d.is_final && sub.last,
            used,
            other_used,
            open_children: 0,
            parent: dissection,
            assertion: d.assertion,
            hashes: Vec::new(),
        };
        self.tick(now)?;
        self.held += value;
        self.nodes.insert(key, node);
        self.child_added(&dissection);
        Ok(key)
    }

    /// Refutes a dissection by proving its one-step sub-segment `index` wrong.
    #[allow(clippy::too_many_arguments)]
    pub fn prove_step<C: OneStepChecker>(
        &mut self,
        now: u64,
        who: Address,
        dissection: NodeKey,
        hashes: &[MachineHash],
        index: u64,
        proof: &[u8],
        checker: &C,
    ) -> Result<(), Refusal> {
        let (_, sub) = self.sub_segment(&dissection, hashes, index, now)?;
        if sub.hi - sub.lo != 1 {
            return Err(Refusal::NotOneStep(sub.hi - sub.lo));
        }
        let post = checker
            .verify_step(&sub.start, proof)
            .map_err(|e| Refusal::ProofRejected(e.to_string()))?;
        if post == sub.end {
            return Err(Refusal::StepHolds);
        }
        self.tick(now)?;
        self.refute_dissection(&dissection, who);
        Ok(())
    }

    /// Refutes a final dissection whose last one-step sub-segment starts from a halted machine:
    /// `opening` is its hot part (141 bytes) and inner hash (32).
    pub fn prove_halted(
        &mut self,
        now: u64,
        who: Address,
        dissection: NodeKey,
        hashes: &[MachineHash],
        opening: &[u8],
    ) -> Result<(), Refusal> {
        let last = (hashes.len() as u64).saturating_sub(2);
        let (d, sub) = self.sub_segment(&dissection, hashes, last, now)?;
        if sub.hi - sub.lo != 1 {
            return Err(Refusal::NotOneStep(sub.hi - sub.lo));
        }
        if !d.is_final {
            return Err(Refusal::NotFinal);
        }
        if opening.len() != HOT_BYTES + 32 {
            return Err(Refusal::BadLength);
        }
        if MachineHash(keccak256(opening).0) != sub.start {
            return Err(Refusal::BadHaltedState);
        }
        if !matches!(opening.get(STATUS_AT), Some(&FINISHED | &TRAPPED)) {
            return Err(Refusal::NotHalted);
        }
        self.tick(now)?;
        self.refute_dissection(&dissection, who);
        Ok(())
    }

    /// Rejects a one-step assertion by proving its step wrong.
    pub fn prove_assertion_step<C: OneStepChecker>(
        &mut self,
        now: u64,
        who: Address,
        id: u64,
        proof: &[u8],
        checker: &C,
    ) -> Result<(), Refusal> {
        let a = self.pending(id)?;
        let claim = a.claim;
        let ends_at = a.created_at.saturating_add(self.config.challenge_period);
        if now >= ends_at {
            return Err(Refusal::ChallengePeriodOver(ends_at));
        }
        if claim.steps != 1 {
            return Err(Refusal::NotOneStep(claim.steps));
        }
        let post = checker
            .verify_step(&claim.start_hash, proof)
            .map_err(|e| Refusal::ProofRejected(e.to_string()))?;
        if post == claim.final_hash {
            return Err(Refusal::StepHolds);
        }
        self.tick(now)?;
        self.lose_dispute(id, who);
        Ok(())
    }

    /// Resolves a node after its deadline once its children are resolved: a challenge with no
    /// dissection left holds, a dissection with no challenge held holds.
    pub fn resolve(&mut self, now: u64, key: NodeKey) -> Result<NodeState, Refusal> {
        let node = self.nodes.get(&key).ok_or(Refusal::NoSuchNode(key))?;
        if node.state != NodeState::Open {
            return Err(Refusal::NodeResolved(key));
        }
        let deadline = node.deadline(self.config.clock_budget);
        if now <= deadline {
            return Err(Refusal::MoveWindowOpen(deadline));
        }
        if node.open_children > 0 {
            return Err(Refusal::ChildrenOpen(node.open_children));
        }
        let (kind, owner, parent, assertion) = (node.kind, node.owner, node.parent, node.assertion);
        self.tick(now)?;
        self.set_node_state(&key, NodeState::Held);
        self.credit(owner, self.config.bond);
        // A resolved node always leaves its parent's count of open children, whatever it did to
        // the parent: the counts stay exact, so a node resolves only after all its children.
        if parent != B256::ZERO {
            self.child_resolved(&parent);
        }
        let parent_open = self.node_state(&parent) == Some(NodeState::Open);
        match kind {
            NodeKind::Challenge if parent == B256::ZERO => self.lose_dispute(assertion, owner),
            NodeKind::Challenge if parent_open => self.refute_dissection(&parent, owner),
            NodeKind::Dissection if parent_open => {
                self.set_node_state(&parent, NodeState::Refuted);
                let challenge = self.nodes.get(&parent).map(|c| (c.parent, c.owner));
                let grandparent = challenge.map(|(g, _)| g).filter(|g| *g != B256::ZERO);
                if let Some(g) = grandparent {
                    self.child_resolved(&g);
                }
                // A challenge under a dissection already refuted disputed nothing left to
                // decide: its owner need not have defended it, and gets its bond back.
                match (grandparent, challenge) {
                    (Some(g), Some((_, challenger)))
                        if self.node_state(&g) == Some(NodeState::Refuted) =>
                    {
                        self.credit(challenger, self.config.bond)
                    }
                    _ => self.forfeit(self.config.bond, owner),
                }
            }
            _ => {}
        }
        Ok(NodeState::Held)
    }
}
