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

/// Sends `mv` in game `game_id` from `wallet`: its kind and receipt (a refusal is in the
/// receipt), or `None` for [`Move::Wait`]. `posted` are the hashes the asserter posted last (a
/// choice repeats them for the contract to check).
pub fn send_move(
    l1: &mut dyn L1,
    wallet: &Wallet,
    deployment: &Deployment,
    game_id: u64,
    mv: &Move,
    posted: &[MachineHash],
) -> Result<Option<(&'static str, TxReceipt)>, L1Error> {
    let rollup = deployment.rollup;
    Ok(Some(match mv {
        Move::Wait => return Ok(None),
        Move::Bisect(interior) => (
            "bisect",
            contracts::send(
                l1,
                wallet,
                rollup,
                U256::ZERO,
                Rollup::bisectCall {
                    gameId: game_id,
                    interior: hashes(interior),
                },
            )?,
        ),
        Move::Choose(index) => (
            "choose",
            contracts::send(
                l1,
                wallet,
                rollup,
                U256::ZERO,
                Rollup::chooseCall {
                    gameId: game_id,
                    index: U256::from(*index),
                    hashes: hashes(posted),
                },
            )?,
        ),
        Move::Prove(proof) => (
            "proveStep",
            contracts::send(
                l1,
                wallet,
                rollup,
                U256::ZERO,
                Rollup::proveStepCall {
                    gameId: game_id,
                    proof: contracts::bytes(proof),
                },
            )?,
        ),
    }))
}

/// A party of the game on L1: who plays and from which account.
pub struct Player {
    pub agent: Box<dyn Agent>,
    pub wallet: Wallet,
}

/// What one call of [`OnchainGame::advance`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A transaction was sent.
    Moved,
    /// The party on turn makes no move: its clock runs, this many seconds are left on it.
    Waiting(u64),
    Over,
}

/// One game on L1, its model, and its two players.
pub struct OnchainGame {
    pub game_id: u64,
    pub claim: Claim,
    model: Bisection,
    asserter: Player,
    challenger: Player,
    moves: Vec<OnchainMove>,
    refused_this_turn: u32,
}

impl OnchainGame {
    /// Game `game_id` as L1 holds it, played by `asserter` and `challenger`.
    pub fn open(
        l1: &mut dyn L1,
        deployment: &Deployment,
        game_id: u64,
        asserter: Player,
        challenger: Player,
    ) -> Result<OnchainGame, OnchainError> {
        let (model, claim) = model_of(l1, deployment, game_id)?;
        Ok(OnchainGame {
            game_id,
            claim,
            model,
            asserter,
            challenger,
            moves: Vec::new(),
            refused_this_turn: 0,
        })
    }

    fn wallet(&self, party: Party) -> &Wallet {
        match party {
            Party::Asserter => &self.asserter.wallet,
            Party::Challenger => &self.challenger.wallet,
        }
    }

    /// Makes the next transaction of the game, if a party has one to make now.
    pub fn advance(
        &mut self,
        l1: &mut dyn L1,
        deployment: &Deployment,
    ) -> Result<Progress, OnchainError> {
        if self.model.outcome().is_some() {
            return Ok(Progress::Over);
        }
        let rollup = deployment.rollup;
        let game_id = self.game_id;
        let on_turn = self.model.on_turn().ok_or(DisputeError::Unexpected(
            "undecided game with nobody on turn",
        ))?;
        let (_, now) = l1.head()?;
        if self.model.can_claim_timeout(now) {
            // The waiting party claims it.
            let receipt = contracts::send(
                l1,
                self.wallet(on_turn.opponent()),
                rollup,
                U256::ZERO,
                Rollup::claimTimeoutCall { gameId: game_id },
            )?;
            let model_result = self.model.claim_timeout(now).map(|_| ());
            record(
                &mut self.moves,
                on_turn.opponent(),
                "claimTimeout",
                &receipt,
            );
            agree("claimTimeout", &receipt, &model_result)?;
            return Ok(Progress::Moved);
        }
        let mut mv = Move::Wait;
        let mut mover = on_turn;
        if self.refused_this_turn < MAX_REFUSED_PER_TURN {
            let agent = match on_turn {
                Party::Asserter => &mut self.asserter.agent,
                Party::Challenger => &mut self.challenger.agent,
            };
            mv = agent.act(on_turn, &self.model)?;
            if mv == Move::Wait && self.model.phase() == Phase::OneStep {
                // Anyone may submit the proof: the waiting asserter does if the challenger won't.
                mover = Party::Asserter;
                mv = self.asserter.agent.act(Party::Asserter, &self.model)?;
                if !matches!(mv, Move::Prove(_)) {
                    mv = Move::Wait;
                }
            }
        }
        let wallet = self.wallet(mover).clone();
        let posted = self.model.posted_hashes().unwrap_or_default().to_vec();
        let Some((kind, receipt)) = send_move(l1, &wallet, deployment, game_id, &mv, &posted)?
        else {
            return Ok(Progress::Waiting(self.model.clock_remaining(on_turn, now)));
        };
        let model_result = match &mv {
            Move::Bisect(interior) => self
                .model
                .bisect(mover, interior, now)
                .map_err(|e| e.to_string()),
            Move::Choose(index) => self
                .model
                .choose(mover, *index, now)
                .map_err(|e| e.to_string()),
            Move::Prove(proof) => self
                .model
                .prove_step(&verifier::StfChecker, proof, now)
                .map(|_| ())
                .map_err(|e| match e {
                    MoveError::ProofRejected(why) => format!("proof rejected: {why}"),
                    other => other.to_string(),
                }),
            Move::Wait => Ok(()),
        };
        record(&mut self.moves, mover, kind, &receipt);
        agree(kind, &receipt, &model_result)?;
        if receipt.outcome.is_ok() {
            self.refused_this_turn = 0;
        } else {
            self.refused_this_turn += 1;
        }
        if self.model.outcome().is_some() {
            self.settle_timeout(l1, deployment)?;
        }
        Ok(Progress::Moved)
    }

    /// The model records a late move as the timeout it is; the contract refuses the move and
    /// waits for `claimTimeout`.
    fn settle_timeout(
        &mut self,
        l1: &mut dyn L1,
        deployment: &Deployment,
    ) -> Result<(), OnchainError> {
        let info = view(
            l1,
            deployment.rollup,
            Rollup::gameCall {
                gameId: self.game_id,
            },
        )?;
        let timed_out = self
            .model
            .outcome()
            .is_some_and(|o| o.reason == verifier::bisection::Verdict::Timeout);
        if info.phase != 3 && timed_out {
            let receipt = contracts::send(
                l1,
                &self.asserter.wallet.clone(),
                deployment.rollup,
                U256::ZERO,
                Rollup::claimTimeoutCall {
                    gameId: self.game_id,
                },
            )?;
            record(&mut self.moves, Party::Asserter, "claimTimeout", &receipt);
        }
        Ok(())
    }

    /// The decided game; the contract's verdict must be the model's.
    pub fn report(
        &self,
        l1: &mut dyn L1,
        deployment: &Deployment,
    ) -> Result<OnchainReport, OnchainError> {
        let outcome = *self
            .model
            .outcome()
            .ok_or(DisputeError::Unexpected("the game is not decided"))?;
        let info = view(
            l1,
            deployment.rollup,
            Rollup::gameCall {
                gameId: self.game_id,
            },
        )?;
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
        Ok(OnchainReport {
            game_id: self.game_id,
            claim: self.claim,
            moves: self.moves.clone(),
            rounds: self.model.rounds(),
            outcome,
            gas: self.moves.iter().map(|m| m.gas).sum(),
        })
    }
}

/// Plays `games` side by side, as parties with several games must: a move in every game that
/// has one, and L1 time moves on only when every undecided game waits on a stalling party.
pub fn play_all(
    l1: &mut dyn L1,
    deployment: &Deployment,
    games: &mut [OnchainGame],
) -> Result<Vec<OnchainReport>, OnchainError> {
    for _ in 0..MAX_MOVES {
        let mut moved = false;
        let mut wait = u64::MAX;
        let mut open = false;
        for game in games.iter_mut() {
            match game.advance(l1, deployment)? {
                Progress::Moved => {
                    moved = true;
                    open = true;
                }
                Progress::Waiting(remaining) => {
                    wait = wait.min(remaining);
                    open = true;
                }
                Progress::Over => {}
            }
        }
        if !open {
            return games.iter().map(|g| g.report(l1, deployment)).collect();
        }
        if !moved {
            l1.advance_time(wait.saturating_add(1))?;
        }
    }
    Err(DisputeError::TooManyMoves(MAX_MOVES).into())
}

/// Plays game `game_id` to its end between `asserter` and `challenger`.
pub fn play_onchain(
    l1: &mut dyn L1,
    deployment: &Deployment,
    game_id: u64,
    asserter: Player,
    challenger: Player,
) -> Result<OnchainReport, OnchainError> {
    let game = OnchainGame::open(l1, deployment, game_id, asserter, challenger)?;
    let mut games = [game];
    let mut reports = play_all(l1, deployment, &mut games)?;
    reports
        .pop()
        .ok_or(OnchainError::Dispute(DisputeError::Unexpected("no report")))
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
