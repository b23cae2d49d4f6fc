//! One rule at a time: configuration, turns, phases, counts, clocks, bonds, the end.

use super::toy::{bogus, Toy, ToyChecker, ToyError};
use crate::bisection::{
    Bisection, BisectionConfig, Claim, ConfigError, MoveError, MoveKind, Party, Phase, Segment,
    Verdict, DEFAULT_ARITY, DEFAULT_BURN_BPS, MAX_ARITY,
};
use Party::{Asserter, Challenger};

const TOY: Toy = Toy { halt: 1_000 };

fn config(arity: u32) -> BisectionConfig {
    BisectionConfig {
        arity,
        ..BisectionConfig::new(1_000, 100)
    }
}

fn true_claim(steps: u64) -> Claim {
    Claim {
        pre: TOY.hash(0),
        post: TOY.hash(steps),
        steps,
    }
}

fn honest_interior(game: &Bisection) -> Vec<vm::MachineHash> {
    let bounds = game.sub_segment_bounds();
    bounds[1..bounds.len() - 1]
        .iter()
        .map(|&b| TOY.hash(b))
        .collect()
}

#[test]
fn bad_configs_are_refused() {
    let claim = true_claim(10);
    for (arity, burn_bps, expected) in [
        (0, 0, Err(ConfigError::ArityTooSmall { arity: 0 })),
        (1, 0, Err(ConfigError::ArityTooSmall { arity: 1 })),
        (
            MAX_ARITY + 1,
            0,
            Err(ConfigError::ArityTooLarge {
                arity: MAX_ARITY + 1,
                max: MAX_ARITY,
            }),
        ),
        (
            2,
            10_001,
            Err(ConfigError::BurnAboveWhole { burn_bps: 10_001 }),
        ),
        (2, 10_000, Ok(())),
        (MAX_ARITY, 0, Ok(())),
    ] {
        let config = BisectionConfig {
            arity,
            burn_bps,
            ..config(2)
        };
        assert_eq!(config.validate(), expected);
        assert_eq!(Bisection::new(claim, config).map(|_| ()), expected);
    }
    let defaults = BisectionConfig::new(7, 9);
    assert_eq!(
        (defaults.arity, defaults.burn_bps),
        (DEFAULT_ARITY, DEFAULT_BURN_BPS)
    );
    assert_eq!(defaults.validate(), Ok(()));
}

#[test]
fn zero_step_claims_are_decided_at_creation() {
    for (post, winner) in [(TOY.hash(0), Asserter), (TOY.hash(1), Challenger)] {
        let claim = Claim {
            pre: TOY.hash(0),
            post,
            steps: 0,
        };
        let game = Bisection::new(claim, config(4)).unwrap();
        let outcome = game.outcome().unwrap();
        assert_eq!(
            (outcome.winner, outcome.reason),
            (winner, Verdict::ZeroSteps)
        );
        assert_eq!(outcome.payout_to_winner + outcome.burned, 1_000);
        super::games::assert_frozen(&mut game.clone(), TOY, 0);
    }
}

#[test]
fn one_step_claims_start_with_a_proof() {
    let mut game = Bisection::new(true_claim(1), config(4)).unwrap();
    assert_eq!(game.phase(), Phase::OneStep);
    assert_eq!(game.on_turn(), Some(Challenger));
    assert_eq!(game.sub_segment_bounds(), vec![0, 1]);
    assert_eq!(game.parts(), 1);
    let outcome = game
        .prove_step(&ToyChecker(TOY), &Toy::proof(0, &TOY.hash(0)), 3)
        .unwrap();
    assert_eq!(
        (outcome.winner, outcome.reason),
        (Asserter, Verdict::OneStepProof)
    );
    assert_eq!(game.rounds(), 0);
}

#[test]
fn a_round_narrows_to_the_chosen_sub_segment() {
    let claim = Claim {
        pre: TOY.hash(0),
        post: bogus(10, 0),
        steps: 10,
    };
    let mut game = Bisection::new(claim, config(4)).unwrap();
    assert_eq!(
        (game.phase(), game.on_turn()),
        (Phase::Bisect, Some(Asserter))
    );
    assert_eq!(game.sub_segment_bounds(), vec![0, 2, 5, 7, 10]);
    let interior = [TOY.hash(2), bogus(5, 0), bogus(7, 0)];
    game.bisect(Asserter, &interior, 1).unwrap();
    assert_eq!(
        (game.phase(), game.on_turn()),
        (Phase::Choose, Some(Challenger))
    );
    let posted = [
        TOY.hash(0),
        TOY.hash(2),
        bogus(5, 0),
        bogus(7, 0),
        bogus(10, 0),
    ];
    assert_eq!(game.posted_hashes(), Some(&posted[..]));
    game.choose(Challenger, 1, 2).unwrap();
    let expected = Segment {
        start: 2,
        end: 5,
        start_hash: TOY.hash(2),
        end_hash: bogus(5, 0),
    };
    assert_eq!(*game.segment(), expected);
    assert_eq!(
        (game.rounds(), game.phase(), game.posted_hashes()),
        (1, Phase::Bisect, None)
    );
    game.bisect(Asserter, &[TOY.hash(3), TOY.hash(4)], 3)
        .unwrap();
    game.choose(Challenger, 2, 4).unwrap();
    assert_eq!((game.rounds(), game.phase()), (2, Phase::OneStep));
    // The proof is checked against the agreed start hash, not any other.
    let checker = ToyChecker(TOY);
    let wrong_start = Toy::proof(3, &TOY.hash(3));
    assert_eq!(
        game.prove_step(&checker, &wrong_start, 5),
        Err(MoveError::ProofRejected(ToyError::PreMismatch))
    );
    let outcome = game
        .prove_step(&checker, &Toy::proof(4, &TOY.hash(4)), 5)
        .unwrap();
    assert_eq!(
        (outcome.winner, outcome.reason),
        (Challenger, Verdict::OneStepProof)
    );
}

#[test]
fn malformed_moves_are_refused_without_effect() {
    let mut game = Bisection::new(true_claim(100), config(8)).unwrap();
    let checker = ToyChecker(TOY);
    let before = game.clone();
    let interior = honest_interior(&game);
    assert_eq!(interior.len(), 7);
    let refused: Vec<MoveError<ToyError>> = vec![
        game.bisect(Asserter, &interior[1..], 1)
            .unwrap_err()
            .with_proof_error(),
        game.bisect(Asserter, &[interior.clone(), vec![TOY.hash(1)]].concat(), 1)
            .unwrap_err()
            .with_proof_error(),
        game.bisect(Challenger, &interior, 1)
            .unwrap_err()
            .with_proof_error(),
        game.choose(Challenger, 0, 1)
            .unwrap_err()
            .with_proof_error(),
        game.prove_step(&checker, &Toy::proof(0, &TOY.hash(0)), 1)
            .unwrap_err(),
        game.claim_timeout(1).unwrap_err().with_proof_error(),
    ];
    assert_eq!(
        refused,
        vec![
            MoveError::WrongHashCount {
                expected: 7,
                got: 6
            },
            MoveError::WrongHashCount {
                expected: 7,
                got: 8
            },
            MoveError::NotYourTurn {
                mover: Challenger,
                on_turn: Asserter
            },
            MoveError::WrongPhase {
                phase: Phase::Bisect,
                attempted: MoveKind::Choose
            },
            MoveError::WrongPhase {
                phase: Phase::Bisect,
                attempted: MoveKind::OneStepProof
            },
            MoveError::ClockRunning {
                party: Asserter,
                remaining: 99
            },
        ]
    );
    assert_eq!(game, before);

    game.bisect(Asserter, &interior, 10).unwrap();
    let before = game.clone();
    assert_eq!(
        game.choose(Challenger, 8, 11),
        Err(MoveError::IndexOutOfRange { index: 8, parts: 8 })
    );
    assert_eq!(
        game.choose(Challenger, usize::MAX, 11),
        Err(MoveError::IndexOutOfRange {
            index: usize::MAX,
            parts: 8
        })
    );
    assert_eq!(
        game.choose(Asserter, 0, 11),
        Err(MoveError::NotYourTurn {
            mover: Asserter,
            on_turn: Challenger
        })
    );
    assert_eq!(
        game.bisect(Asserter, &interior, 11),
        Err(MoveError::WrongPhase {
            phase: Phase::Choose,
            attempted: MoveKind::Bisect
        })
    );
    assert_eq!(
        game.choose(Challenger, 0, 9),
        Err(MoveError::TimeWentBackwards { last: 10, now: 9 })
    );
    assert_eq!(game, before);
}

#[test]
fn a_rejected_proof_leaves_the_clock_running() {
    let mut game = Bisection::starting_at(true_claim(1), config(2), 50).unwrap();
    let checker = ToyChecker(TOY);
    let before = game.clone();
    for (proof, error) in [
        (vec![], ToyError::Length(0)),
        (vec![0; 39], ToyError::Length(39)),
        (Toy::proof(0, &TOY.hash(1)), ToyError::PreMismatch),
        (Toy::proof(5, &TOY.hash(0)), ToyError::NotOnTrace),
    ] {
        assert_eq!(
            game.prove_step(&checker, &proof, 90),
            Err(MoveError::ProofRejected(error))
        );
        assert_eq!(game, before);
    }
    assert_eq!(game.clock_remaining(Challenger, 90), 60);
    assert_eq!(
        game.claim_timeout(150),
        Err(MoveError::ClockRunning {
            party: Challenger,
            remaining: 0
        })
    );
    let outcome = game.claim_timeout(151).unwrap();
    assert_eq!(
        (outcome.winner, outcome.reason),
        (Asserter, Verdict::Timeout)
    );
}

#[test]
fn clocks_charge_only_the_party_on_turn() {
    let mut game = Bisection::starting_at(true_claim(16), config(2), 1_000).unwrap();
    let c = |game: &Bisection, now| {
        (
            game.clock_remaining(Asserter, now),
            game.clock_remaining(Challenger, now),
        )
    };
    assert_eq!(c(&game, 1_030), (70, 100));
    game.bisect(Asserter, &honest_interior(&game), 1_030)
        .unwrap();
    assert_eq!(c(&game, 1_030), (70, 100));
    assert_eq!(c(&game, 1_050), (70, 80));
    game.choose(Challenger, 0, 1_050).unwrap();
    // Moving on the very last tick of a budget is in time.
    game.bisect(Asserter, &honest_interior(&game), 1_120)
        .unwrap();
    assert_eq!(c(&game, 1_120), (0, 80));
    game.choose(Challenger, 1, 1_125).unwrap();
    assert_eq!(c(&game, 1_125), (0, 75));
    // The asserter has no time left: the next tick it may not move, and its move decides it.
    assert!(!game.can_claim_timeout(1_125));
    assert!(game.can_claim_timeout(1_126));
    let before = game.clone();
    assert_eq!(
        game.bisect(Asserter, &honest_interior(&game), 1_124),
        Err(MoveError::TimeWentBackwards {
            last: 1_125,
            now: 1_124
        })
    );
    assert_eq!(game, before);
    assert_eq!(
        game.bisect(Asserter, &honest_interior(&before), 1_126),
        Err(MoveError::ClockExpired { party: Asserter })
    );
    let outcome = *game.outcome().unwrap();
    assert_eq!(
        (outcome.winner, outcome.reason),
        (Challenger, Verdict::Timeout)
    );
    assert_eq!(c(&game, 5_000), (0, 75));
}

#[test]
fn a_late_move_by_the_waiting_party_ends_the_game_for_it() {
    let mut game = Bisection::new(true_claim(16), config(2)).unwrap();
    assert_eq!(
        game.choose(Challenger, 0, 101),
        Err(MoveError::ClockExpired { party: Asserter })
    );
    assert_eq!(
        game.outcome().map(|o| (o.winner, o.reason)),
        Some((Challenger, Verdict::Timeout))
    );
}

#[test]
fn the_forfeit_splits_into_payout_and_burn() {
    for bond in [
        0u128,
        1,
        3,
        9_999,
        10_000,
        12_345_678,
        u128::from(u64::MAX),
        u128::MAX - 1,
        u128::MAX,
    ] {
        for burn_bps in [0u16, 1, 2_500, DEFAULT_BURN_BPS, 9_999, 10_000] {
            let config = BisectionConfig {
                bond,
                burn_bps,
                ..config(2)
            };
            let (payout, burned) = config.split_forfeit();
            assert_eq!(payout + burned, bond, "{bond} {burn_bps}");
            if bond <= u128::from(u64::MAX) {
                assert_eq!(burned, bond * u128::from(burn_bps) / 10_000);
            }
        }
    }
    let half = BisectionConfig {
        bond: u128::MAX,
        burn_bps: 5_000,
        ..config(2)
    }
    .split_forfeit();
    assert_eq!(half, (u128::MAX / 2 + 1, u128::MAX / 2));
    let mut game = Bisection::new(
        true_claim(1),
        BisectionConfig {
            bond: 1_001,
            ..config(2)
        },
    )
    .unwrap();
    let outcome = game
        .prove_step(&ToyChecker(TOY), &Toy::proof(0, &TOY.hash(0)), 0)
        .unwrap();
    assert_eq!(
        (outcome.payout_to_winner, outcome.burned, outcome.loser()),
        (501, 500, Challenger)
    );
}

#[test]
fn moves_after_the_end_are_refused() {
    let mut game = Bisection::new(true_claim(1), config(2)).unwrap();
    game.prove_step(&ToyChecker(TOY), &Toy::proof(0, &TOY.hash(0)), 0)
        .unwrap();
    super::games::assert_frozen(&mut game, TOY, 0);
    let mut game = Bisection::new(true_claim(5), config(2)).unwrap();
    game.claim_timeout(101).unwrap();
    super::games::assert_frozen(&mut game, TOY, 101);
}

#[test]
fn errors_read_well() {
    let err: MoveError = MoveError::NotYourTurn {
        mover: Challenger,
        on_turn: Asserter,
    };
    assert_eq!(
        err.to_string(),
        "the challenger moved but it is the asserter's turn"
    );
    let err: MoveError = MoveError::WrongPhase {
        phase: Phase::Choose,
        attempted: MoveKind::Bisect,
    };
    assert_eq!(
        err.to_string(),
        "got interior hashes while waiting for a sub-segment choice"
    );
    let err = MoveError::ProofRejected(ToyError::PreMismatch);
    assert!(std::error::Error::source(&err).is_some());
}
