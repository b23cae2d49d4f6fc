//! Assertions and stakes: posting, backing, confirming, voiding; stakes and credits withdrawn.

use alloy_primitives::Address;

use super::{
    root_challenge_key, AssertionClaim, AssertionEntry, AssertionStatus, NodeState, Referee,
    Refusal, Stake,
};

impl Referee {
    /// The stake rule of `assert` and `back`: `Ok(true)` if a new stake is made with `value`.
    pub(super) fn stake_rule(
        &self,
        who: &Address,
        value: u128,
        parent: u64,
    ) -> Result<bool, Refusal> {
        match self.stakes.get(who) {
            None => {
                if value != self.config.stake {
                    return Err(Refusal::WrongBond {
                        sent: value,
                        expected: self.config.stake,
                    });
                }
                Ok(true)
            }
            Some(stake) => {
                if value != 0 {
                    return Err(Refusal::WrongBond {
                        sent: value,
                        expected: 0,
                    });
                }
                let free = self
                    .assertion(stake.latest)
                    .is_some_and(|a| a.status == AssertionStatus::Confirmed);
                if stake.latest != parent && !free {
                    return Err(Refusal::StakedElsewhere(stake.latest));
                }
                Ok(false)
            }
        }
    }

    /// Posts an assertion on `claim.parent` (the contract's `assert`, past its batch checks).
    pub fn assert(
        &mut self,
        now: u64,
        who: Address,
        value: u128,
        claim: AssertionClaim,
    ) -> Result<u64, Refusal> {
        let parent = self.entry(claim.parent)?;
        if parent.status == AssertionStatus::Rejected {
            return Err(Refusal::ParentRejected(claim.parent));
        }
        if let Some(child) = parent.confirmed_child {
            return Err(Refusal::ParentHasConfirmedChild(child));
        }
        if claim.steps == 0 {
            return Err(Refusal::ZeroSteps);
        }
        if let Some(id) = self.id_of(&claim.data_hash) {
            return Err(Refusal::AssertionExists(id));
        }
        let new_stake = self.stake_rule(&who, value, claim.parent)?;
        self.tick(now)?;
        let id = self.assertion_count();
        self.assertions.push(AssertionEntry {
            claim,
            asserter: who,
            created_at: now,
            status: AssertionStatus::Pending,
            confirmed_child: None,
        });
        self.id_of.insert(claim.data_hash, id);
        self.move_stake(who, id, new_stake.then_some(id), value);
        Ok(id)
    }

    pub(super) fn move_stake(
        &mut self,
        who: Address,
        latest: u64,
        new_since: Option<u64>,
        value: u128,
    ) {
        match new_since {
            Some(since) => {
                self.held += value;
                self.stakes.insert(who, Stake { latest, since });
            }
            None => {
                if let Some(stake) = self.stakes.get_mut(&who) {
                    stake.latest = latest;
                }
            }
        }
    }

    /// Moves `who`'s stake (or a new one) onto assertion `id`.
    pub fn back(&mut self, now: u64, who: Address, value: u128, id: u64) -> Result<(), Refusal> {
        let parent = self.pending(id)?.claim.parent;
        if self.stakes.get(&who).is_some_and(|s| s.latest == id) {
            return Err(Refusal::AlreadyBacking(id));
        }
        let new_stake = self.stake_rule(&who, value, parent)?;
        self.tick(now)?;
        let since = self.assertion_count();
        self.move_stake(who, id, new_stake.then_some(since), value);
        Ok(())
    }

    pub fn withdraw_stake(&mut self, now: u64, who: Address) -> Result<u128, Refusal> {
        let stake = self.stakes.get(&who).copied().ok_or(Refusal::NoStake)?;
        let free = self
            .assertion(stake.latest)
            .is_some_and(|a| a.status == AssertionStatus::Confirmed);
        if !free {
            return Err(Refusal::StakeNotFree(stake.latest));
        }
        self.tick(now)?;
        self.stakes.remove(&who);
        self.credit(who, self.config.stake);
        Ok(self.config.stake)
    }

    pub fn confirm(&mut self, now: u64, id: u64) -> Result<(), Refusal> {
        let a = self.pending(id)?;
        let parent_id = a.claim.parent;
        let created_at = a.created_at;
        let parent = self.entry(parent_id)?;
        if parent.status != AssertionStatus::Confirmed {
            return Err(Refusal::ParentNotConfirmed(parent_id));
        }
        if let Some(child) = parent.confirmed_child {
            return Err(Refusal::ParentHasConfirmedChild(child));
        }
        let ends_at = created_at.saturating_add(self.config.challenge_period);
        if now < ends_at {
            return Err(Refusal::ChallengePeriodRunning(ends_at));
        }
        let root = root_challenge_key(id);
        if self
            .nodes
            .get(&root)
            .is_some_and(|n| n.state == NodeState::Open)
        {
            return Err(Refusal::DisputeOpen(root));
        }
        self.tick(now)?;
        self.set_status(id, AssertionStatus::Confirmed);
        if let Some(parent) = self.assertions.get_mut(parent_id as usize) {
            parent.confirmed_child = Some(id);
        }
        self.last_confirmed = id;
        Ok(())
    }

    /// Rejects a pending assertion that can never confirm: reason 1 (its parent is rejected) or
    /// 2 (its parent confirmed another child).
    pub fn reject_voided(&mut self, now: u64, id: u64) -> Result<u8, Refusal> {
        let parent_id = self.pending(id)?.claim.parent;
        let parent = self.entry(parent_id)?;
        let reason = if parent.status == AssertionStatus::Rejected {
            1
        } else if parent.confirmed_child.is_some_and(|c| c != id) {
            2
        } else {
            return Err(Refusal::NotVoided(id));
        };
        self.tick(now)?;
        self.set_status(id, AssertionStatus::Rejected);
        Ok(reason)
    }

    pub fn withdraw_credits(&mut self, now: u64, who: Address) -> Result<u128, Refusal> {
        let amount = self.credits(&who);
        if amount == 0 {
            return Err(Refusal::NoCredits);
        }
        self.tick(now)?;
        self.credits.remove(&who);
        self.held -= amount;
        Ok(amount)
    }
}
