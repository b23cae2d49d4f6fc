//! The dispute protocol's model against a machine whose hashes open like the STF machine's (a
//! 141-byte hot part with the status byte, and an inner hash): the attacks of the protocol's
//! argument played out, with one honest party against any number of adversaries, and the money
//! counted after every tick.

use std::collections::HashMap;

use alloy_primitives::{keccak256, Address, B256};
use thiserror::Error;
use vm::MachineHash;

use crate::bisection::honest::{honest_moves, AssertionView, Trace, TreeMove};
use crate::bisection::referee::{
    root_challenge_key, AssertionClaim, AssertionStatus, NodeKind, NodeState, Referee,
    RefereeConfig, Refusal, HOT_BYTES, STATUS_AT,
};
use crate::bisection::OneStepChecker;

use super::toy::SplitMix64;

/// A machine state at step t of a program (its halting step and a salt), halted from its halt
/// on. The true run is program (HALT, 0); a liar's run follows it up to `diverge` and then shows
/// the states of its own program (`halt`, `salt`).
#[derive(Clone, Copy, Debug)]
struct Run {
    halt: u64,
    diverge: u64,
    salt: u8,
}

fn hot(step: u64, halt: u64, salt: u8) -> [u8; HOT_BYTES] {
    let mut hot = [0u8; HOT_BYTES];
    hot[..8].copy_from_slice(&step.min(halt).to_le_bytes());
    hot[8..16].copy_from_slice(&halt.to_le_bytes());
    hot[STATUS_AT] = if step >= halt { 2 } else { 1 };
    hot[30] = salt;
    hot
}

fn opening(step: u64, halt: u64, salt: u8) -> Vec<u8> {
    let mut bytes = hot(step, halt, salt).to_vec();
    bytes.extend_from_slice(&[0u8; 32]);
    bytes
}

fn state_hash(step: u64, halt: u64, salt: u8) -> MachineHash {
    MachineHash(keccak256(opening(step, halt, salt)).0)
}

impl Run {
    fn truth() -> Run {
        Run {
            halt: HALT,
            diverge: u64::MAX,
            salt: 0,
        }
    }

    /// Claims the halt at `halt` (earlier or later than the truth), true until then.
    fn halting_at(halt: u64) -> Run {
        Run {
            halt,
            diverge: halt.min(HALT),
            salt: 0,
        }
    }

    /// Wrong from step `diverge` on, halting when the truth does.
    fn wrong_from(diverge: u64, salt: u8) -> Run {
        Run {
            halt: HALT,
            diverge,
            salt,
        }
    }

    fn program(&self, step: u64) -> (u64, u8) {
        if step < self.diverge {
            (HALT, 0)
        } else {
            (self.halt, self.salt)
        }
    }

    fn hash(&self, step: u64) -> MachineHash {
        let (halt, salt) = self.program(step);
        state_hash(step, halt, salt)
    }

    fn opening(&self, step: u64) -> Vec<u8> {
        let (halt, salt) = self.program(step);
        opening(step, halt, salt)
    }
}

/// A run as a party knows it: its hashes computed once.
#[derive(Clone, Debug)]
struct Known {
    run: Run,
    hashes: HashMap<u64, MachineHash>,
}

fn known(run: Run) -> Known {
    Known {
        run,
        hashes: HashMap::new(),
    }
}

impl Trace for Known {
    fn hash_at(&mut self, step: u64) -> MachineHash {
        let run = self.run;
        *self.hashes.entry(step).or_insert_with(|| run.hash(step))
    }

    fn halt_step(&self) -> u64 {
        if self.run.diverge <= self.run.halt {
            self.run.halt
        } else {
            HALT
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
enum RunError {
    #[error("not an opening of the pre-state")]
    NotTheState,
}

/// Opens the pre-state (hot ‖ inner) and steps it: a running machine's step count goes up by
/// one, a halted one stays.
struct RunChecker;

impl OneStepChecker for RunChecker {
    type Error = RunError;

    fn verify_step(&self, pre: &MachineHash, proof: &[u8]) -> Result<MachineHash, RunError> {
        if proof.len() != HOT_BYTES + 32 || keccak256(proof).0 != pre.0 {
            return Err(RunError::NotTheState);
        }
        let step = u64::from_le_bytes(proof[..8].try_into().unwrap());
        let halt = u64::from_le_bytes(proof[8..16].try_into().unwrap());
        if proof[STATUS_AT] != 1 {
            return Ok(*pre);
        }
        Ok(state_hash(step + 1, halt, proof[30]))
    }
}

const STAKE: u128 = 1_000;
const BOND: u128 = 100;
const PERIOD: u64 = 1_000;
const BUDGET: u64 = 600;
/// Seconds between two turns (an L1 block).
const TICK: u64 = 12;

fn config() -> RefereeConfig {
    RefereeConfig {
        arity: 4,
        clock_budget: BUDGET,
        challenge_period: PERIOD,
        stake: STAKE,
        bond: BOND,
        burn_bps: 5_000,
    }
}

fn account(n: u64) -> Address {
    let mut bytes = [0u8; 20];
    bytes[..8].copy_from_slice(&n.to_be_bytes());
    bytes[19] = 0xaa;
    Address::from(bytes)
}

fn data_hash(parent: u64, run: &Run, steps: u64) -> B256 {
    let mut bytes = parent.to_be_bytes().to_vec();
    bytes.extend_from_slice(&run.hash(steps).0);
    bytes.extend_from_slice(&steps.to_be_bytes());
    keccak256(bytes)
}

fn claim_of(parent: u64, run: &Run, start: MachineHash) -> AssertionClaim {
    AssertionClaim {
        parent,
        data_hash: data_hash(parent, run, run.halt),
        start_hash: start,
        final_hash: run.hash(run.halt),
        steps: run.halt,
    }
}

/// A party: its run of the batch (the truth, or a lie) and what it has paid in and out.
struct Party {
    who: Address,
    run: Known,
    /// Plays its run's side (a liar defends its lie); a silent party only posts.
    plays: bool,
    /// The assertions it plays (all when empty): a sybil plays its own and the one it attacks.
    plays_in: Vec<u64>,
    paid_in: u128,
    paid_out: u128,
    moves: u64,
}

impl Party {
    fn new(n: u64, run: Run, plays: bool) -> Party {
        Party {
            who: account(n),
            run: known(run),
            plays,
            plays_in: Vec::new(),
            paid_in: 0,
            paid_out: 0,
            moves: 0,
        }
    }
}

/// The referee and its parties over one batch (every assertion a child of genesis).
struct World {
    referee: Referee,
    now: u64,
    start: MachineHash,
}

impl World {
    fn new() -> World {
        World {
            referee: Referee::new(config(), B256::repeat_byte(7), 0),
            now: 0,
            start: Run::truth().hash(0),
        }
    }

    fn views(&self) -> Vec<AssertionView> {
        (1..self.referee.assertion_count())
            .filter_map(|id| {
                let a = self.referee.assertion(id)?;
                Some(AssertionView {
                    id,
                    final_hash: a.claim.final_hash,
                    steps: a.claim.steps,
                    pending: a.status == AssertionStatus::Pending,
                    challengeable: self.now < a.created_at + PERIOD,
                })
            })
            .collect()
    }

    fn assert(&mut self, party: &mut Party) -> u64 {
        let value = if self.referee.stake_of(&party.who).is_some() {
            0
        } else {
            STAKE
        };
        let claim = claim_of(0, &party.run.run, self.start);
        let id = self
            .referee
            .assert(self.now, party.who, value, claim)
            .unwrap();
        party.paid_in += value;
        party.moves += 1;
        id
    }

    /// Applies one move of `party`; a refusal (someone else was first) changes nothing.
    fn apply(&mut self, party: &mut Party, mv: &TreeMove) -> Result<(), Refusal> {
        let (now, who) = (self.now, party.who);
        let r = &mut self.referee;
        let bonded = match mv {
            TreeMove::ChallengeAssertion { id } => {
                r.challenge_assertion(now, who, BOND, *id).map(|_| true)
            }
            TreeMove::ProveAssertionStep { id } => r
                .prove_assertion_step(now, who, *id, &party.run.run.opening(0), &RunChecker)
                .map(|_| false),
            TreeMove::Dissect { challenge, hashes } => r
                .dissect(now, who, BOND, *challenge, hashes.clone())
                .map(|_| true),
            TreeMove::Challenge {
                dissection,
                hashes,
                index,
            } => r
                .challenge(now, who, BOND, *dissection, hashes, *index)
                .map(|_| true),
            TreeMove::ProveStep {
                dissection,
                hashes,
                index,
                step,
            } => r
                .prove_step(
                    now,
                    who,
                    *dissection,
                    hashes,
                    *index,
                    &party.run.run.opening(*step),
                    &RunChecker,
                )
                .map(|_| false),
            TreeMove::ProveHalted {
                dissection,
                hashes,
                step,
            } => r
                .prove_halted(now, who, *dissection, hashes, &party.run.run.opening(*step))
                .map(|_| false),
            TreeMove::Resolve { key } => r.resolve(now, *key).map(|_| false),
        }?;
        if bonded {
            party.paid_in += BOND;
        }
        party.moves += 1;
        Ok(())
    }

    /// One block: every playing party's moves, in an order that changes from block to block.
    fn turn(&mut self, parties: &mut [Party], rng: &mut SplitMix64) {
        let mut order: Vec<usize> = (0..parties.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for i in order {
            if !parties[i].plays {
                continue;
            }
            let mut views = self.views();
            if !parties[i].plays_in.is_empty() {
                views.retain(|v| parties[i].plays_in.contains(&v.id));
            }
            let moves = honest_moves(
                &mut parties[i].run,
                &views,
                self.referee.nodes(),
                config().arity,
                BUDGET,
                self.now,
            );
            for mv in moves {
                let _ = self.apply(&mut parties[i], &mv);
            }
        }
        self.check_money(parties);
    }

    /// Every wei in is held or was paid out: stakes, open bonds, credits and the burn.
    fn check_money(&self, parties: &[Party]) {
        let r = &self.referee;
        let stakes = parties
            .iter()
            .filter(|p| r.stake_of(&p.who).is_some())
            .count() as u128
            * STAKE;
        let open = r
            .nodes()
            .values()
            .filter(|n| n.state == NodeState::Open)
            .count() as u128
            * BOND;
        let credits: u128 = parties.iter().map(|p| r.credits(&p.who)).sum();
        assert_eq!(r.held(), stakes + open + credits + r.burned());
        let paid_in: u128 = parties.iter().map(|p| p.paid_in).sum();
        let paid_out: u128 = parties.iter().map(|p| p.paid_out).sum();
        assert_eq!(paid_in, r.held() + paid_out);
    }

    /// Runs blocks until `id` is decided (and everything ripe is resolved), confirming it when
    /// it may; returns the time it was decided.
    fn run_until_decided(&mut self, id: u64, parties: &mut [Party], rng: &mut SplitMix64) -> u64 {
        loop {
            self.now += TICK;
            self.turn(parties, rng);
            let _ = self.referee.confirm(self.now, id);
            if self.referee.assertion(id).unwrap().status != AssertionStatus::Pending {
                let decided = self.now;
                // Let the rest of the tree resolve, so every bond is paid.
                for _ in 0..(2 * BUDGET / TICK + 4) {
                    self.now += TICK;
                    self.turn(parties, rng);
                }
                return decided;
            }
            assert!(self.now < 10 * (PERIOD + 2 * BUDGET), "never decided");
        }
    }

    /// Everyone takes what it can: credits, and free stakes.
    fn cash_out(&mut self, parties: &mut [Party]) {
        for p in parties.iter_mut() {
            if self.referee.withdraw_stake(self.now, p.who).is_ok() {
                p.moves += 1;
            }
            if let Ok(amount) = self.referee.withdraw_credits(self.now, p.who) {
                p.paid_out += amount;
            }
        }
        self.check_money(parties);
    }
}

/// The bound on a correct assertion's confirmation: its period, both sides' budgets, and the
/// blocks honest resolutions take.
fn bound(created: u64) -> u64 {
    created + PERIOD + 2 * BUDGET + 4 * TICK
}

const HALT: u64 = 1_000;

#[test]
fn the_throw_fails_when_a_third_party_defends() {
    let mut rng = SplitMix64::new(1);
    let mut w = World::new();
    // The thrower posts the correct claim, its accomplice challenges it at the end of the period
    // and neither plays; an honest third party defends.
    let mut thrower = Party::new(1, Run::truth(), false);
    let mut accomplice = Party::new(2, Run::truth(), false);
    let id = w.assert(&mut thrower);
    w.now = PERIOD - 1;
    w.apply(&mut accomplice, &TreeMove::ChallengeAssertion { id })
        .unwrap();
    let mut parties = vec![thrower, accomplice, Party::new(3, Run::truth(), true)];
    let decided = w.run_until_decided(id, &mut parties, &mut rng);
    let a = w.referee.assertion(id).unwrap();
    assert_eq!(a.status, AssertionStatus::Confirmed);
    assert!(decided <= bound(0), "{decided}");
    assert_eq!(
        w.referee.node(&root_challenge_key(id)).unwrap().state,
        NodeState::Refuted
    );
    w.cash_out(&mut parties);
    let honest = &parties[2];
    assert!(
        honest.paid_out > honest.paid_in,
        "the defender wins the challenge bond"
    );
    assert_eq!(parties[1].paid_out, 0, "the accomplice's bond is lost");
}

/// N adversaries each post a wrong rival (every kind of lie: a wrong state from some step on, a
/// halt claimed early, a halt claimed late) and play their side; one honest party asserts the
/// truth and plays.
fn sybils(n: u64, seed: u64) -> (u64, Vec<Party>) {
    let mut rng = SplitMix64::new(seed);
    let mut w = World::new();
    let mut parties = vec![Party::new(0, Run::truth(), true)];
    let id = w.assert(&mut parties[0]);
    for k in 1..=n {
        let run = match k % 3 {
            0 => Run::wrong_from(rng.between(1, HALT), k as u8 | 1),
            1 => Run::halting_at(rng.between(2, HALT - 1)),
            _ => Run::halting_at(rng.between(HALT + 1, 3 * HALT)),
        };
        let mut liar = Party::new(k, run, true);
        w.now += rng.below(3) * TICK;
        let own = w.assert(&mut liar);
        liar.plays_in = vec![id, own];
        parties.push(liar);
    }
    let decided = w.run_until_decided(id, &mut parties, &mut rng);
    assert_eq!(
        w.referee.assertion(id).unwrap().status,
        AssertionStatus::Confirmed
    );
    for rival in 2..w.referee.assertion_count() {
        let status = w.referee.assertion(rival).unwrap().status;
        assert_eq!(status, AssertionStatus::Rejected, "rival {rival}");
    }
    // Every rival's stake was slashed; the honest stake is free.
    assert!(parties[1..]
        .iter()
        .all(|p| w.referee.stake_of(&p.who).is_none()));
    w.cash_out(&mut parties);
    (decided, parties)
}

#[test]
fn sybils_lose_to_one_honest_party() {
    for (n, seed) in [(1, 10), (10, 11), (100, 12)] {
        let (decided, parties) = sybils(n, seed);
        let honest_moves: u64 = parties[0].moves;
        let adversary_moves: u64 = parties[1..].iter().map(|p| p.moves).sum();
        println!("sybils n={n}: decided at {decided} s (bound {}), honest moves {honest_moves}, adversary moves {adversary_moves}", bound(0));
        assert!(decided <= bound(0), "n={n}: {decided}");
        let honest = &parties[0];
        assert!(
            honest.paid_out >= honest.paid_in,
            "n={n}: the honest party lost money"
        );
        let adversaries_in: u128 = parties[1..].iter().map(|p| p.paid_in).sum();
        let adversaries_out: u128 = parties[1..].iter().map(|p| p.paid_out).sum();
        assert!(
            adversaries_in - adversaries_out >= n as u128 * STAKE / 2,
            "n={n}"
        );
    }
}

#[test]
fn a_wrong_move_sent_first_on_the_honest_side_does_not_hurt() {
    let mut rng = SplitMix64::new(3);
    let mut w = World::new();
    let mut honest = Party::new(1, Run::truth(), true);
    let id = w.assert(&mut honest);
    let mut attacker = Party::new(2, Run::wrong_from(500, 9), false);
    w.now += TICK;
    w.apply(&mut attacker, &TreeMove::ChallengeAssertion { id })
        .unwrap();
    // The attacker defends the honest claim first with wrong interior hashes, every block.
    let mut parties = vec![honest, attacker];
    loop {
        w.now += TICK;
        let nodes: Vec<_> = w
            .referee
            .nodes()
            .iter()
            .map(|(k, n)| (*k, n.clone()))
            .collect();
        for (key, node) in nodes {
            if node.kind == NodeKind::Challenge && node.state == NodeState::Open {
                let mut hashes = crate::bisection::honest::true_dissection(
                    &mut parties[1].run.clone(),
                    node.lo,
                    node.hi,
                    4,
                );
                let last = hashes.len() - 1;
                hashes[0] = node.start_hash;
                hashes[last] = node.end_hash;
                let mv = TreeMove::Dissect {
                    challenge: key,
                    hashes,
                };
                let _ = w.apply(&mut parties[1], &mv);
            }
        }
        w.turn(&mut parties, &mut rng);
        let _ = w.referee.confirm(w.now, id);
        if w.referee.assertion(id).unwrap().status != AssertionStatus::Pending {
            break;
        }
    }
    assert_eq!(
        w.referee.assertion(id).unwrap().status,
        AssertionStatus::Confirmed
    );
}

#[test]
fn a_claim_that_halts_earlier_than_it_says_is_refuted_at_its_last_step() {
    let mut rng = SplitMix64::new(4);
    let mut w = World::new();
    // Same final state, more steps: every hash it posts is true, only the halt rule refutes it.
    let late = Run::truth();
    let mut liar = Party::new(2, late, true);
    let claim = AssertionClaim {
        parent: 0,
        data_hash: data_hash(0, &late, HALT + 37),
        start_hash: w.start,
        final_hash: late.hash(HALT + 37),
        steps: HALT + 37,
    };
    let lie = w.referee.assert(0, liar.who, STAKE, claim).unwrap();
    liar.paid_in += STAKE;
    let mut honest = Party::new(1, Run::truth(), true);
    let id = w.assert(&mut honest);
    let mut parties = vec![honest, liar];
    w.run_until_decided(id, &mut parties, &mut rng);
    assert_eq!(
        w.referee.assertion(lie).unwrap().status,
        AssertionStatus::Rejected
    );
    assert_eq!(
        w.referee.assertion(id).unwrap().status,
        AssertionStatus::Confirmed
    );
}

#[test]
fn one_stake_covers_a_chain_of_a_hundred_assertions() {
    let mut w = World::new();
    let staker = account(1);
    let run = Run::halting_at(5);
    let mut parent = 0;
    for n in 1..=100u64 {
        let claim = AssertionClaim {
            parent,
            data_hash: data_hash(parent, &run, 5),
            start_hash: run.hash(0),
            final_hash: run.hash(5),
            steps: 5,
        };
        let value = if n == 1 { STAKE } else { 0 };
        // A second stake is refused while the first is held.
        if n == 2 {
            assert!(matches!(
                w.referee.assert(w.now, staker, STAKE, claim),
                Err(Refusal::WrongBond { .. })
            ));
        }
        parent = w.referee.assert(w.now, staker, value, claim).unwrap();
        assert_eq!(w.referee.held(), STAKE, "bonded capital stays one stake");
        w.now += 60;
    }
    assert_eq!(
        w.referee.withdraw_stake(w.now, staker),
        Err(Refusal::StakeNotFree(100))
    );
    w.now += PERIOD;
    for id in 1..=100 {
        w.referee.confirm(w.now, id).unwrap();
    }
    assert_eq!(w.referee.withdraw_stake(w.now, staker), Ok(STAKE));
    assert_eq!(w.referee.withdraw_credits(w.now, staker), Ok(STAKE));
    assert_eq!(w.referee.held(), 0);
}

#[test]
fn stakes_move_only_along_their_chain() {
    let mut w = World::new();
    let run = Run::halting_at(5);
    let other = Run::wrong_from(2, 3);
    let (a, b) = (account(1), account(2));
    let x = w
        .referee
        .assert(0, a, STAKE, claim_of(0, &run, w.start))
        .unwrap();
    let y = w
        .referee
        .assert(0, b, STAKE, claim_of(0, &other, w.start))
        .unwrap();
    // The same claim twice is refused; back it instead.
    assert_eq!(
        w.referee
            .assert(1, account(3), STAKE, claim_of(0, &run, w.start)),
        Err(Refusal::AssertionExists(x))
    );
    // b's stake sits on y: it cannot back x (a sibling), nor a child of x.
    assert_eq!(w.referee.back(1, b, 0, x), Err(Refusal::StakedElsewhere(y)));
    let child = AssertionClaim {
        parent: x,
        ..claim_of(x, &run, w.start)
    };
    assert_eq!(
        w.referee.assert(1, b, 0, child),
        Err(Refusal::StakedElsewhere(y))
    );
    // A new staker backs x with a stake, then asserts x's child with the same stake.
    let c = account(3);
    w.referee.back(2, c, STAKE, x).unwrap();
    assert_eq!(w.referee.back(2, c, 0, x), Err(Refusal::AlreadyBacking(x)));
    let x2 = w.referee.assert(3, c, 0, child).unwrap();
    assert_eq!(w.referee.stake_of(&c).unwrap().latest, x2);
    // x's child waits for x; y is voided once x confirms.
    w.now = 3 + PERIOD;
    assert_eq!(
        w.referee.confirm(w.now, x2),
        Err(Refusal::ParentNotConfirmed(x))
    );
    w.referee.confirm(w.now, x).unwrap();
    assert_eq!(
        w.referee.confirm(w.now, y),
        Err(Refusal::ParentHasConfirmedChild(x))
    );
    assert_eq!(w.referee.reject_voided(w.now, y), Ok(2));
    assert_eq!(
        w.referee.reject_voided(w.now, x2),
        Err(Refusal::NotVoided(x2))
    );
    // a's stake is free (its latest is confirmed); b's sits on a rejected assertion for good.
    assert_eq!(w.referee.withdraw_stake(w.now, a), Ok(STAKE));
    assert_eq!(
        w.referee.withdraw_stake(w.now, b),
        Err(Refusal::StakeNotFree(y))
    );
}

#[test]
fn moves_after_a_deadline_are_refused_and_resolution_waits_for_children() {
    let mut w = World::new();
    let truth = Run::truth();
    let lie = Run::wrong_from(10, 5);
    let id = w
        .referee
        .assert(0, account(1), STAKE, claim_of(0, &lie, w.start))
        .unwrap();
    let root = w
        .referee
        .challenge_assertion(10, account(2), BOND, id)
        .unwrap();
    assert_eq!(
        w.referee.challenge_assertion(11, account(3), BOND, id),
        Err(Refusal::AlreadyChallenged(root))
    );
    assert_eq!(
        w.referee.resolve(10 + BUDGET, root),
        Err(Refusal::MoveWindowOpen(10 + BUDGET))
    );
    // The liar dissects at the last second of its budget.
    let hashes = crate::bisection::honest::true_dissection(&mut known(lie), 0, HALT, 4);
    let d = w
        .referee
        .dissect(10 + BUDGET, account(1), BOND, root, hashes.clone())
        .unwrap();
    assert_eq!(
        w.referee
            .dissect(11 + BUDGET, account(4), BOND, root, hashes.clone()),
        Err(Refusal::MoveTooLate(10 + BUDGET))
    );
    assert_eq!(
        w.referee.resolve(11 + BUDGET, root),
        Err(Refusal::ChildrenOpen(1))
    );
    // The challenger's clock is its own: it still has its whole budget for the dissection.
    let node = w.referee.node(&d).unwrap().clone();
    assert_eq!((node.used, node.other_used), (BUDGET, 0));
    assert_eq!(node.deadline(BUDGET), 10 + 2 * BUDGET);
    let sub = w
        .referee
        .challenge(10 + 2 * BUDGET, account(2), BOND, d, &hashes, 0)
        .unwrap();
    let _ = truth;
    // Nobody dissects the sub-challenge: it holds after the liar's remaining budget (none).
    let sub_node = w.referee.node(&sub).unwrap().clone();
    assert_eq!(sub_node.deadline(BUDGET), 10 + 2 * BUDGET);
    assert_eq!(
        w.referee.resolve(11 + 2 * BUDGET, d),
        Err(Refusal::ChildrenOpen(1))
    );
    assert_eq!(w.referee.resolve(11 + 2 * BUDGET, sub), Ok(NodeState::Held));
    assert_eq!(w.referee.node(&d).unwrap().state, NodeState::Refuted);
    assert_eq!(
        w.referee.resolve(11 + 2 * BUDGET, root),
        Ok(NodeState::Held)
    );
    assert_eq!(
        w.referee.assertion(id).unwrap().status,
        AssertionStatus::Rejected
    );
    // The challenger got both bonds back, half the dissection's and half the stake.
    assert_eq!(
        w.referee.credits(&account(2)),
        2 * BOND + BOND / 2 + STAKE / 2
    );
}
