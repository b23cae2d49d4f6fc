//! Whole games: a driver that plays two plans against each other (injecting malformed moves that
//! must be refused without effect), and randomized tournaments in which the honest party wins.

use super::players::{Action, AsserterPlan, Belief, ChallengerPlan, Pick};
use super::toy::{bogus, SplitMix64, Toy, ToyChecker};
use crate::bisection::{
    rounds_for, Bisection, BisectionConfig, Claim, MoveError, Outcome, Party, Phase, Verdict,
};

/// A finished game and the clock time the driver saw each party spend on its turns.
pub(super) struct Played {
    pub outcome: Outcome,
    pub spent: [u64; 2],
    pub end_tick: u64,
}

fn slot(party: Party) -> usize {
    match party {
        Party::Asserter => 0,
        Party::Challenger => 1,
    }
}

/// Plays `game` to the end from tick `start`. Before a turn, with `noise_percent` chance, some
/// party first sends a malformed move, which must be refused and change nothing.
pub(super) fn play(
    game: &mut Bisection,
    toy: Toy,
    asserter: &AsserterPlan,
    challenger: &ChallengerPlan,
    rng: &mut SplitMix64,
    noise_percent: u64,
    start: u64,
) -> Played {
    let checker = ToyChecker(toy);
    let budget = game.config().clock_budget;
    let mut now = start;
    let mut turn_started = start;
    let mut spent = [0u64; 2];
    // Charges the party on turn up to `now`, as the referee should.
    let charge = |spent: &mut [u64; 2], party: Party, now: u64, turn_started: &mut u64| {
        spent[slot(party)] += now - *turn_started;
        *turn_started = now;
    };
    for _ in 0..100_000 {
        if let Some(outcome) = game.outcome() {
            return Played {
                outcome: *outcome,
                spent,
                end_tick: now,
            };
        }
        let on_turn = game.on_turn().unwrap();
        if game.can_claim_timeout(now) {
            let outcome = game.claim_timeout(now).unwrap();
            assert_eq!(
                (outcome.winner, outcome.reason),
                (on_turn.opponent(), Verdict::Timeout)
            );
            charge(&mut spent, on_turn, now, &mut turn_started);
            continue;
        }
        if rng.percent(noise_percent) {
            inject_noise(game, &checker, now, turn_started, rng);
        }
        let (mut delay, mut action) = match on_turn {
            Party::Asserter => asserter.act(game, &toy, rng),
            Party::Challenger => challenger.act(game, &toy, rng),
        };
        // In the one-step phase the waiting asserter may send the proof itself.
        if matches!(action, Action::Wait) && game.phase() == Phase::OneStep {
            (delay, action) = asserter.act(game, &toy, rng);
        }
        if matches!(action, Action::Wait) {
            now += budget / 3 + 1;
            continue;
        }
        now += delay;
        let mover = on_turn;
        let result = match action {
            Action::Bisect(hashes) => game.bisect(mover, &hashes, now),
            Action::Choose(index) => game.choose(mover, index, now),
            Action::Prove(proof) => match game.prove_step(&checker, &proof, now) {
                Ok(_) => Ok(()),
                Err(MoveError::ClockExpired { party }) => Err(MoveError::ClockExpired { party }),
                Err(other) => panic!("a player's own proof was refused: {other}"),
            },
            Action::Wait => unreachable!(),
        };
        match result {
            Ok(()) => charge(&mut spent, on_turn, now, &mut turn_started),
            Err(MoveError::ClockExpired { party }) => {
                assert_eq!(party, on_turn);
                assert!(now - turn_started > budget - spent[slot(on_turn)]);
                charge(&mut spent, on_turn, now, &mut turn_started);
                let outcome = game.outcome().expect("a late move decides the game");
                assert_eq!(
                    (outcome.winner, outcome.reason),
                    (on_turn.opponent(), Verdict::Timeout)
                );
            }
            Err(other) => panic!("a player's well-formed move was refused: {other}"),
        }
    }
    panic!("game did not end");
}

/// Sends one malformed move and checks it is refused with the right error and no effect.
/// `last_tick` is the tick of the last accepted move.
fn inject_noise(
    game: &mut Bisection,
    checker: &ToyChecker,
    now: u64,
    last_tick: u64,
    rng: &mut SplitMix64,
) {
    use Party::{Asserter, Challenger};
    let before = game.clone();
    let parts = game.parts();
    let junk = |n: u64| vec![bogus(0, 0); n as usize];
    let description = match (game.phase(), rng.below(6)) {
        (Phase::Bisect, 0) => {
            let n = if rng.percent(50) {
                parts - 2
            } else {
                parts + rng.below(3)
            };
            let err = game.bisect(Asserter, &junk(n), now).unwrap_err();
            assert!(matches!(err, MoveError::WrongHashCount { .. }), "{err:?}");
            "wrong hash count"
        }
        (Phase::Bisect, 1) => {
            let err = game.bisect(Challenger, &junk(parts - 1), now).unwrap_err();
            assert!(matches!(err, MoveError::NotYourTurn { .. }), "{err:?}");
            "bisect out of turn"
        }
        (Phase::Choose, 0) => {
            let index = if rng.percent(20) {
                usize::MAX
            } else {
                (parts + rng.below(5)) as usize
            };
            let err = game.choose(Challenger, index, now).unwrap_err();
            assert_eq!(err, MoveError::IndexOutOfRange { index, parts });
            "index out of range"
        }
        (Phase::Choose, 1) => {
            let err = game.choose(Asserter, 0, now).unwrap_err();
            assert!(matches!(err, MoveError::NotYourTurn { .. }), "{err:?}");
            "choose out of turn"
        }
        (Phase::OneStep, 0 | 1) => {
            // Bad bytes: wrong length, or a proof starting from a hash nobody agreed to.
            let proof = if rng.percent(50) {
                (0..rng.below(80)).map(|_| rng.next_u64() as u8).collect()
            } else {
                Toy::proof(game.segment().start, &bogus(1, rng.next_u64()))
            };
            let err = game.prove_step(checker, &proof, now).unwrap_err();
            assert!(matches!(err, MoveError::ProofRejected(_)), "{err:?}");
            "bad proof bytes"
        }
        (_, 2) => {
            // A move of a kind the phase does not wait for.
            let err = match game.phase() {
                Phase::Bisect => game.choose(Challenger, 0, now).unwrap_err(),
                _ => game.bisect(Asserter, &junk(1), now).unwrap_err(),
            };
            assert!(matches!(err, MoveError::WrongPhase { .. }), "{err:?}");
            "wrong phase"
        }
        (Phase::Bisect | Phase::Choose, 3) => {
            let proof = Toy::proof(0, &game.segment().start_hash);
            let err = game.prove_step(checker, &proof, now).unwrap_err();
            assert!(matches!(err, MoveError::WrongPhase { .. }), "{err:?}");
            "proof before one step"
        }
        (_, 4) if last_tick > 0 => {
            let err = game.claim_timeout(last_tick - 1).unwrap_err();
            assert_eq!(
                err,
                MoveError::TimeWentBackwards {
                    last: last_tick,
                    now: last_tick - 1
                }
            );
            "time went backwards"
        }
        _ => {
            let err = game.claim_timeout(now).unwrap_err();
            assert!(matches!(err, MoveError::ClockRunning { .. }), "{err:?}");
            "early timeout claim"
        }
    };
    assert_eq!(*game, before, "{description} changed the game");
}

/// Every entry point refuses to move a decided game, and nothing changes.
pub(super) fn assert_frozen(game: &mut Bisection, toy: Toy, now: u64) {
    let before = game.clone();
    let seg = *game.segment();
    assert_eq!(
        game.bisect(Party::Asserter, &[], now),
        Err(MoveError::GameOver)
    );
    assert_eq!(
        game.choose(Party::Challenger, 0, now),
        Err(MoveError::GameOver)
    );
    let proof = Toy::proof(seg.start, &seg.start_hash);
    assert_eq!(
        game.prove_step(&ToyChecker(toy), &proof, now),
        Err(MoveError::GameOver)
    );
    assert_eq!(
        game.claim_timeout(now.saturating_add(1 << 40)),
        Err(MoveError::GameOver)
    );
    assert_eq!(game.on_turn(), None);
    assert_eq!(game.phase(), Phase::Over);
    assert_eq!(*game, before);
}

fn dishonest_asserter(
    rng: &mut SplitMix64,
    steps: u64,
    max_rounds: u32,
    budget: u64,
) -> (AsserterPlan, &'static str) {
    let fork = Belief::ForkAt(rng.between(1, steps));
    let some_round = |rng: &mut SplitMix64| Some(rng.below(u64::from(max_rounds.max(1))) as u32);
    let mut plan = AsserterPlan::honest(budget / 64);
    let kind = match rng.below(7) {
        0 => {
            plan.belief = Belief::ForkAt(steps);
            "asserter: wrong final hash"
        }
        1 => {
            plan.belief = fork;
            "asserter: buggy machine"
        }
        2 if steps >= 2 => {
            plan.lie_at_round = Some(0);
            "asserter: true claim, wrong interior hash"
        }
        3 => {
            plan.belief = fork;
            plan.lie_at_round = some_round(rng);
            "asserter: lies at a random round"
        }
        4 => {
            plan.belief = Belief::ForkAt(steps);
            plan.flip_at_round = some_round(rng);
            "asserter: agrees then flips"
        }
        5 => {
            plan.belief = fork;
            plan.stall_from_round = Some(rng.below(u64::from(max_rounds) + 1) as u32);
            "asserter: stalls"
        }
        _ => {
            plan.belief = fork;
            plan.max_delay = budget / 2;
            "asserter: dawdles"
        }
    };
    (plan, kind)
}

fn dishonest_challenger(
    rng: &mut SplitMix64,
    steps: u64,
    max_rounds: u32,
    budget: u64,
) -> (ChallengerPlan, &'static str) {
    let mut plan = ChallengerPlan::honest(budget / 64);
    plan.belief = Belief::ForkAt(rng.between(1, steps));
    let kind = match rng.below(5) {
        0 => {
            plan.pick = Pick::Random;
            "challenger: picks at random"
        }
        1 => "challenger: buggy machine",
        2 => {
            plan.random_from_round = Some(rng.below(u64::from(max_rounds.max(1))) as u32);
            "challenger: agrees then flips"
        }
        3 => {
            plan.stall_from_round = Some(rng.below(u64::from(max_rounds) + 1) as u32);
            "challenger: stalls"
        }
        _ => {
            plan.max_delay = budget / 2;
            "challenger: dawdles"
        }
    };
    (plan, kind)
}

#[test]
fn honest_party_wins_randomized_games() {
    let mut rng = SplitMix64::new(0x4841_5550_5442_5543);
    let mut tally = std::collections::BTreeMap::<(&str, &str), u32>::new();
    for game_no in 0..600 {
        let steps = match rng.below(4) {
            0 => rng.between(1, 4),
            1 => rng.between(2, 300),
            2 => rng.between(300, 1 << 24),
            _ => rng.between(1 << 24, 1 << 43),
        };
        let arity = if rng.percent(50) {
            rng.pick(&[2u32, 3, 4, 8, 16, 32, 40, 1024])
        } else {
            rng.between(2, 64) as u32
        };
        // The machine halts before, at or after the claim's end: halting is part of the trace.
        let toy = Toy {
            halt: match rng.below(3) {
                0 => rng.below(steps + 1),
                1 => steps,
                _ => steps.saturating_mul(2),
            },
        };
        let max_rounds = rounds_for(steps, arity);
        let budget = 1_000_000;
        // Honest players move fast enough never to exhaust their budget.
        let honest_delay = budget / (2 * (u64::from(max_rounds) + 2));
        let config = BisectionConfig {
            arity,
            clock_budget: budget,
            bond: if rng.percent(10) {
                u128::MAX
            } else {
                u128::from(rng.next_u64())
            },
            burn_bps: rng.below(10_001) as u16,
        };
        let honest = if rng.percent(50) {
            Party::Asserter
        } else {
            Party::Challenger
        };
        let (asserter, challenger, kind) = match honest {
            Party::Asserter => {
                let (c, kind) = dishonest_challenger(&mut rng, steps, max_rounds, budget);
                (AsserterPlan::honest(honest_delay), c, kind)
            }
            Party::Challenger => {
                let (a, kind) = dishonest_asserter(&mut rng, steps, max_rounds, budget);
                (a, ChallengerPlan::honest(honest_delay), kind)
            }
        };
        let claim = Claim {
            pre: toy.hash(0),
            post: asserter.claimed_post(&toy, steps),
            steps,
        };
        let start = rng.below(1 << 20);
        let mut game = Bisection::starting_at(claim, config, start).unwrap();
        let played = play(&mut game, toy, &asserter, &challenger, &mut rng, 30, start);
        let outcome = played.outcome;
        let context = format!(
            "game {game_no}: {kind} vs honest {honest}, steps {steps}, k {arity}, {outcome:?}"
        );

        assert_eq!(outcome.winner, honest, "{context}");
        assert!(game.rounds() <= max_rounds, "{context}");
        if outcome.reason == Verdict::OneStepProof {
            assert_eq!(game.segment().len(), 1, "{context}");
        }
        // Clocks: each party was charged exactly the time it spent on turn, and the honest party
        // never ran out.
        for party in [Party::Asserter, Party::Challenger] {
            let left = game.clock_remaining(party, played.end_tick + 12345);
            assert_eq!(
                left,
                budget.saturating_sub(played.spent[slot(party)]),
                "{context}"
            );
        }
        assert!(played.spent[slot(honest)] <= budget, "{context}");
        // Bonds: what the winner gets and what burns is exactly the loser's bond.
        assert_eq!(
            outcome.payout_to_winner + outcome.burned,
            config.bond,
            "{context}"
        );
        if config.bond <= u128::from(u64::MAX) {
            assert_eq!(
                outcome.burned,
                config.bond * u128::from(config.burn_bps) / 10_000
            );
        }
        assert_frozen(&mut game, toy, played.end_tick);

        let verdict = match outcome.reason {
            Verdict::OneStepProof => "one-step proof",
            Verdict::Timeout => "timeout",
            Verdict::ZeroSteps => "zero steps",
        };
        *tally.entry((kind, verdict)).or_default() += 1;
    }
    println!("{tally:#?}");
    for kind in [
        "asserter: wrong final hash",
        "asserter: buggy machine",
        "asserter: true claim, wrong interior hash",
        "asserter: lies at a random round",
        "asserter: agrees then flips",
        "asserter: stalls",
        "asserter: dawdles",
        "challenger: picks at random",
        "challenger: buggy machine",
        "challenger: agrees then flips",
        "challenger: stalls",
        "challenger: dawdles",
    ] {
        let games: u32 = tally
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|(_, n)| n)
            .sum();
        assert!(games >= 10, "only {games} games of kind {kind}");
    }
    let by_verdict = |v: &str| -> u32 {
        tally
            .iter()
            .filter(|((_, w), _)| *w == v)
            .map(|(_, n)| n)
            .sum()
    };
    assert!(
        by_verdict("one-step proof") >= 200 && by_verdict("timeout") >= 50,
        "{tally:?}"
    );
}

/// `(steps, arity)` pairs around powers of the arity, the smallest and a huge claim.
fn round_count_cases() -> Vec<(u64, u32)> {
    let mut cases = Vec::new();
    for arity in [2u32, 3, 4, 7, 10, 16, 32, 40, 1024] {
        let k = u64::from(arity);
        let mut interesting = vec![
            1,
            2,
            3,
            k - 1,
            k,
            k + 1,
            1 << 43,
            (1 << 43) - 1,
            (1 << 43) + 1,
        ];
        for power in [k * k, k * k * k, k.pow(4)] {
            interesting.extend([power - 1, power, power + 1]);
        }
        cases.extend(
            interesting
                .into_iter()
                .filter(|&s| s >= 1)
                .map(|s| (s, arity)),
        );
    }
    let mut rng = SplitMix64::new(43);
    for _ in 0..100 {
        cases.push((
            {
                let top = 1 << rng.between(1, 43);
                rng.between(1, top)
            },
            rng.between(2, 200) as u32,
        ));
    }
    cases
}

/// The deepest game, with the challenger always on a longest sub-segment, takes exactly
/// `rounds_for` rounds; any other choices take no more.
#[test]
fn games_take_rounds_for_rounds() {
    let mut rng = SplitMix64::new(7);
    for (steps, arity) in round_count_cases() {
        for pick in [Pick::Longest, Pick::Random] {
            let toy = Toy { halt: steps / 2 };
            let config = BisectionConfig {
                arity,
                ..BisectionConfig::new(100, 1 << 20)
            };
            let claim = Claim {
                pre: toy.hash(0),
                post: toy.hash(steps),
                steps,
            };
            let mut game = Bisection::new(claim, config).unwrap();
            let asserter = AsserterPlan::honest(0);
            let challenger = ChallengerPlan {
                pick,
                ..ChallengerPlan::honest(0)
            };
            let played = play(&mut game, toy, &asserter, &challenger, &mut rng, 0, 0);
            let expected = rounds_for(steps, arity);
            match pick {
                Pick::Longest => assert_eq!(game.rounds(), expected, "steps {steps} k {arity}"),
                _ => assert!(game.rounds() <= expected, "steps {steps} k {arity}"),
            }
            assert_eq!(
                (played.outcome.winner, played.outcome.reason),
                (Party::Asserter, Verdict::OneStepProof)
            );
        }
    }
}
