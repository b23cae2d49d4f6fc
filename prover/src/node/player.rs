//! Plays the node's side of every game it is a party to, unattended: as challenger of the
//! assertions it disputes, as asserter of its own. Each turn the game is rebuilt from L1's events
//! (the referee's model replays the moves L1 applied), so a restarted node resumes any game where
//! L1 has it; only the checkpoints of the disputed run are kept in memory, rebuilt on demand.
//! Clocks are L1's: the player claims a timeout once the opponent's has run out.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use alloy_primitives::U256;
use program::NodeStore;
use verifier::bisection::Party;
use verifier::l1::{TxReceipt, Wallet, L1};
use verifier::settlement::contracts::{self, view, Deployment, GameInfo, Rollup};

use super::chain::{model_of, ChainView, GameState};
use super::NodeError;
use crate::dispute::onchain::send_move;
use crate::dispute::{checkpoint_count, Agent, Checkpoints, Computation, HonestAgent};
use crate::settlement::fetch_batch;
use crate::stf_host::StfHost;
use crate::StfGuest;

/// A move the player sent, and whether L1 took it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Played {
    pub game: u64,
    pub role: Party,
    pub kind: &'static str,
    pub refused: Option<String>,
}

#[derive(Default)]
pub struct Player {
    /// The honest trace of each game's disputed run, by game id.
    agents: BTreeMap<u64, HonestAgent<StfHost>>,
}

impl Player {
    /// Makes this node's move in every undecided game where it is on turn (or may claim a
    /// timeout). `nodes` must hold the trie of the disputed batches' pre-states.
    pub fn play(
        &mut self,
        l1: &mut dyn L1,
        wallet: &Wallet,
        deployment: &Deployment,
        guest: &StfGuest,
        chain: &ChainView,
        nodes: &NodeStore,
    ) -> Result<Vec<Played>, NodeError> {
        let me = wallet.address();
        let mut played = Vec::new();
        for game in chain.games.iter().filter(|g| !g.decided) {
            let info = view(l1, deployment.rollup, Rollup::gameCall { gameId: game.id })?;
            let role = if info.challenger == me {
                Party::Challenger
            } else if info.asserter == me {
                Party::Asserter
            } else {
                continue;
            };
            let on_l1 = OnL1 { info, role };
            if let Some(p) = self.turn(l1, wallet, deployment, guest, chain, nodes, game, on_l1)? {
                played.push(p);
            }
        }
        self.agents
            .retain(|id, _| chain.games.iter().any(|g| g.id == *id && !g.decided));
        Ok(played)
    }

    #[allow(clippy::too_many_arguments)]
    fn turn(
        &mut self,
        l1: &mut dyn L1,
        wallet: &Wallet,
        deployment: &Deployment,
        guest: &StfGuest,
        chain: &ChainView,
        nodes: &NodeStore,
        game: &GameState,
        OnL1 { info, role }: OnL1,
    ) -> Result<Option<Played>, NodeError> {
        let model = model_of(l1, deployment, game)?;
        // The opponent overran its clock: decide the game.
        let elapsed = chain.now.saturating_sub(info.turnStarted);
        let opponent_on_turn = model.on_turn() == Some(role.opponent());
        let banked = match role.opponent() {
            Party::Asserter => info.asserterClock,
            Party::Challenger => info.challengerClock,
        };
        if opponent_on_turn && elapsed > banked {
            let receipt = contracts::send(
                l1,
                wallet,
                deployment.rollup,
                U256::ZERO,
                Rollup::claimTimeoutCall { gameId: game.id },
            )?;
            return Ok(Some(played(game.id, role, "claimTimeout", &receipt)));
        }
        let agent = match self.agents.entry(game.id) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                entry.insert(honest_agent(l1, deployment, guest, chain, nodes, game)?)
            }
        };
        let mv = agent
            .act(role, &model)
            .map_err(|e| NodeError::Game(format!("game {}: {e}", game.id)))?;
        let posted = model.posted_hashes().unwrap_or_default();
        Ok(send_move(l1, wallet, deployment, game.id, &mv, posted)?
            .map(|(kind, receipt)| played(game.id, role, kind, &receipt)))
    }
}

/// The game as the contract shows it, and the node's role in it.
struct OnL1 {
    info: GameInfo,
    role: Party,
}

fn played(game: u64, role: Party, kind: &'static str, receipt: &TxReceipt) -> Played {
    Played {
        game,
        role,
        kind,
        refused: receipt.outcome.as_ref().err().map(|r| r.error.clone()),
    }
}

/// The honest trace of the game's claim: the assertion's batch run on the interpreter from the
/// parent's post-state, for as many steps as the claim says.
fn honest_agent(
    l1: &mut dyn L1,
    deployment: &Deployment,
    guest: &StfGuest,
    chain: &ChainView,
    nodes: &NodeStore,
    game: &GameState,
) -> Result<HonestAgent<StfHost>, NodeError> {
    let assertion = chain
        .assertion(game.assertion_id)
        .ok_or_else(|| NodeError::Game(format!("game {}: no assertion", game.id)))?;
    let parent = chain
        .assertion(assertion.record.data.parentId)
        .ok_or_else(|| NodeError::Game(format!("game {}: no parent assertion", game.id)))?;
    let batch = fetch_batch(l1, deployment, assertion.batch())?;
    let message = batch.message(&parent.record.post_state_root()?);
    let computation = Computation::stf_message(guest, message, nodes.clone())
        .map_err(|e| NodeError::Game(format!("game {}: {e}", game.id)))?;
    let arity = view(l1, deployment.rollup, Rollup::arityCall {})?;
    let steps = game.claim.steps;
    Ok(HonestAgent::new(Checkpoints::build(
        computation,
        steps,
        checkpoint_count(steps, arity),
    )))
}
