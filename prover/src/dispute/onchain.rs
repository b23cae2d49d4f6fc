//! Plays a bisection game on L1: the moves of two agents sent to the rollup contract's game, in L1
//! time, each also played on the Rust referee ([`Bisection`]) as the model. The contract decides;
//! the model must agree with every acceptance, every refusal and the verdict, or the driver stops
//! with [`OnchainError::Disagreement`]. So every game played here is a differential test of
//! `Challenges.sol` against `verifier::bisection`.

use alloy_primitives::{B256, U256};
use verifier::bisection::{Bisection, BisectionConfig, Claim, MoveError, Outcome, Party, Phase};
use verifier::l1::{L1Error, TxReceipt, Wallet, L1};
use verifier::settlement::contracts::{self, events, view, Deployment, Rollup};
use vm::MachineHash;

use super::agent::{Agent, Move};
use super::DisputeError;
use crate::dispute::driver::MAX_REFUSED_PER_TURN;

/// Transactions after which the driver gives up: far more than any game needs.
const MAX_MOVES: u32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum OnchainError {
    #[error(transparent)]
    L1(#[from] L1Error),
    #[error(transparent)]
    Dispute(#[from] DisputeError),
    #[error("the contract and the Rust referee disagree on {what}: contract {contract}, referee {model}")]
    Disagreement {
        what: String,
        contract: String,
        model: String,
    },
    #[error("game {0} does not exist on L1")]
    NoGame(u64),
}

/// One transaction of the game.
#[derive(Clone, Debug)]
pub struct OnchainMove {
    pub party: Party,
    /// `bisect`, `choose`, `proveStep` or `claimTimeout`.
    pub kind: &'static str,
    pub gas: u64,
    /// The contract's refusal, if it refused.
    pub refused: Option<String>,
}

#[derive(Clone, Debug)]
pub struct OnchainReport {
    pub game_id: u64,
    pub claim: Claim,
    pub moves: Vec<OnchainMove>,
    pub rounds: u32,
    pub outcome: Outcome,
    /// Gas of every transaction of the game, refused ones included.
    pub gas: u64,
}

/// A party of the game on L1: who plays and from which account.
pub struct Player<'a> {
    pub agent: &'a mut dyn Agent,
    pub wallet: &'a Wallet,
}

/// The claim and rules of game `game_id` as the contract holds them, and the model referee
/// started at the same L1 second.
fn model_of(
    l1: &mut dyn L1,
    deployment: &Deployment,
    game_id: u64,
) -> Result<(Bisection, Claim), OnchainError> {
    let (head, _) = l1.head()?;
    let logs = l1.logs(deployment.rollup, deployment.first_block, head)?;
    let (opened, _) = events::<Rollup::ChallengeOpened>(&logs)
        .into_iter()
        .find(|(event, _)| event.gameId == game_id)
        .ok_or(OnchainError::NoGame(game_id))?;
    let info = view(l1, deployment.rollup, Rollup::gameCall { gameId: game_id })?;
    let claim = Claim {
        pre: MachineHash(opened.pre.0),
        post: MachineHash(opened.post.0),
        steps: opened.steps,
    };
    let rollup = deployment.rollup;
    let config = BisectionConfig {
        arity: view(l1, rollup, Rollup::arityCall {})?,
        clock_budget: view(l1, rollup, Rollup::clockBudgetCall {})?,
        bond: u128::try_from(view(l1, rollup, Rollup::challengeBondCall {})?).unwrap_or(u128::MAX),
        burn_bps: view(l1, rollup, Rollup::burnBpsCall {})?,
    };
    let model = Bisection::starting_at(claim, config, info.turnStarted)
        .map_err(|e| OnchainError::Dispute(e.into()))?;
    Ok((model, claim))
}

fn hashes(list: &[MachineHash]) -> Vec<B256> {
    list.iter().map(|h| B256::from(h.0)).collect()
}

/// Plays game `game_id` to its end between `asserter` and `challenger`.
pub fn play_onchain(
    l1: &mut dyn L1,
    deployment: &Deployment,
    game_id: u64,
    asserter: Player<'_>,
    challenger: Player<'_>,
) -> Result<OnchainReport, OnchainError> {
    let (mut model, claim) = model_of(l1, deployment, game_id)?;
    let mut moves = Vec::new();
    let mut refused_this_turn = 0u32;
    let rollup = deployment.rollup;
    let Player {
        agent: asserter_agent,
        wallet: asserter_wallet,
    } = asserter;
    let Player {
        agent: challenger_agent,
        wallet: challenger_wallet,
    } = challenger;

    for _ in 0..MAX_MOVES {
        if model.outcome().is_some() {
            break;
        }
        let on_turn = model.on_turn().ok_or(DisputeError::Unexpected(
            "undecided game with nobody on turn",
        ))?;
        let (_, now) = l1.head()?;
        if model.can_claim_timeout(now) {
            // The waiting party claims it.
            let wallet = match on_turn {
                Party::Asserter => challenger_wallet,
                Party::Challenger => asserter_wallet,
            };
            let receipt = contracts::send(
                l1,
                wallet,
                rollup,
                U256::ZERO,
                Rollup::claimTimeoutCall { gameId: game_id },
            )?;
            let model_result = model.claim_timeout(now).map(|_| ());
            record(&mut moves, on_turn.opponent(), "claimTimeout", &receipt);
            agree("claimTimeout", &receipt, &model_result)?;
            break;
        }
        let mut mv = Move::Wait;
        let mut mover = on_turn;
        if refused_this_turn < MAX_REFUSED_PER_TURN {
            let agent: &mut dyn Agent = match on_turn {
                Party::Asserter => &mut *asserter_agent,
                Party::Challenger => &mut *challenger_agent,
            };
            mv = agent.act(on_turn, &model)?;
            if mv == Move::Wait && model.phase() == Phase::OneStep {
                // Anyone may submit the proof: the waiting asserter does if the challenger won't.
                mover = Party::Asserter;
                mv = asserter_agent.act(Party::Asserter, &model)?;
                if !matches!(mv, Move::Prove(_)) {
                    mv = Move::Wait;
                }
            }
        }
        if mv == Move::Wait {
            // Stalling: L1 time passes until the clock of the party on turn runs out.
            let remaining = model.clock_remaining(on_turn, now);
            l1.advance_time(remaining.saturating_add(1))?;
            continue;
        }
        let wallet = match mover {
            Party::Asserter => asserter_wallet,
            Party::Challenger => challenger_wallet,
        };
        let (kind, receipt, model_result) = match &mv {
            Move::Bisect(interior) => {
                let receipt = contracts::send(
                    l1,
                    wallet,
                    rollup,
                    U256::ZERO,
                    Rollup::bisectCall {
                        gameId: game_id,
                        interior: hashes(interior),
                    },
                )?;
                let result = model.bisect(mover, interior, now);
                ("bisect", receipt, result.map_err(|e| e.to_string()))
            }
            Move::Choose(index) => {
                let posted = model.posted_hashes().map(hashes).unwrap_or_default();
                let receipt = contracts::send(
                    l1,
                    wallet,
                    rollup,
                    U256::ZERO,
                    Rollup::chooseCall {
                        gameId: game_id,
                        index: U256::from(*index),
                        hashes: posted,
                    },
                )?;
                let result = model.choose(mover, *index, now);
                ("choose", receipt, result.map_err(|e| e.to_string()))
            }
            Move::Prove(proof) => {
                let receipt = contracts::send(
                    l1,
                    wallet,
                    rollup,
                    U256::ZERO,
                    Rollup::proveStepCall {
                        gameId: game_id,
                        proof: contracts::bytes(proof),
                    },
                )?;
                let result = model
                    .prove_step(&verifier::StfChecker, proof, now)
                    .map(|_| ())
                    .map_err(|e| match e {
                        MoveError::ProofRejected(why) => format!("proof rejected: {why}"),
                        other => other.to_string(),
                    });
                ("proveStep", receipt, result)
            }
            Move::Wait => continue,
        };
        record(&mut moves, mover, kind, &receipt);
        agree(kind, &receipt, &model_result)?;
        if receipt.outcome.is_ok() {
            refused_this_turn = 0;
        } else {
            refused_this_turn += 1;
        }
    }

    let outcome = *model
        .outcome()
        .ok_or(DisputeError::TooManyMoves(MAX_MOVES))?;
    let mut info = view(l1, rollup, Rollup::gameCall { gameId: game_id })?;
    if info.phase != 3 && outcome.reason == verifier::bisection::Verdict::Timeout {
        // The model records a late move as the timeout it is; the contract refused the move and
        // waits for `claimTimeout`.
        let receipt = contracts::send(
            l1,
            asserter_wallet,
            rollup,
            U256::ZERO,
            Rollup::claimTimeoutCall { gameId: game_id },
        )?;
        record(&mut moves, Party::Asserter, "claimTimeout", &receipt);
        info = view(l1, rollup, Rollup::gameCall { gameId: game_id })?;
    }
    let winner = match outcome.winner {
        Party::Asserter => 0,
        Party::Challenger => 1,
    };
    if info.phase != 3 || info.winner != winner {
        return Err(OnchainError::Disagreement {
            what: "the verdict".into(),
            contract: format!("phase {} winner {}", info.phase, info.winner),
            model: format!("winner {}", outcome.winner),
        });
    }
    let gas = moves.iter().map(|m: &OnchainMove| m.gas).sum();
    Ok(OnchainReport {
        game_id,
        claim,
        moves,
        rounds: model.rounds(),
        outcome,
        gas,
    })
}

fn record(moves: &mut Vec<OnchainMove>, party: Party, kind: &'static str, receipt: &TxReceipt) {
    moves.push(OnchainMove {
        party,
        kind,
        gas: receipt.gas_used,
        refused: receipt.outcome.as_ref().err().map(|r| r.error.clone()),
    });
}

/// The contract accepted the move iff the model did.
fn agree(
    what: &str,
    receipt: &TxReceipt,
    model: &Result<(), impl ToString>,
) -> Result<(), OnchainError> {
    match (&receipt.outcome, model) {
        (Ok(_), Ok(())) | (Err(_), Err(_)) => Ok(()),
        (contract, model) => Err(OnchainError::Disagreement {
            what: what.to_string(),
            contract: match contract {
                Ok(_) => "accepted".into(),
                Err(revert) => format!("refused: {revert}"),
            },
            model: match model {
                Ok(()) => "accepted".into(),
                Err(e) => format!("refused: {}", e.to_string()),
            },
        }),
    }
}
