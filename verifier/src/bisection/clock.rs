//! Chess clocks in logical ticks (L1 blocks, say). Each party banks a budget for the whole game
//! and only the party on turn is charged, so a party can delay the game by at most its own budget
//! and can never burn its opponent's time.

use super::Party;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChessClocks {
    asserter: u64,
    challenger: u64,
    /// Tick at which the party now on turn got the move.
    turn_started: u64,
    /// Latest tick the referee accepted; ticks must never go back.
    last_tick: u64,
}

impl ChessClocks {
    pub(crate) fn new(budget: u64, now: u64) -> Self {
        ChessClocks {
            asserter: budget,
            challenger: budget,
            turn_started: now,
            last_tick: now,
        }
    }

    pub(crate) fn last_tick(&self) -> u64 {
        self.last_tick
    }

    /// Ticks `party` has left at `now`, counting the running turn if it is `on_turn`.
    pub(crate) fn remaining(&self, party: Party, on_turn: Option<Party>, now: u64) -> u64 {
        let banked = self.banked(party);
        if on_turn == Some(party) {
            banked.saturating_sub(self.elapsed(now))
        } else {
            banked
        }
    }

    /// Moving on the very tick the budget reaches zero still counts; one tick later it does not.
    pub(crate) fn expired(&self, on_turn: Party, now: u64) -> bool {
        self.elapsed(now) > self.banked(on_turn)
    }

    /// Charges `on_turn` for its turn up to `now` and starts the next turn at `now`. The caller
    /// has checked that `now` is not before `last_tick`.
    pub(crate) fn end_turn(&mut self, on_turn: Party, now: u64) {
        let spent = self.elapsed(now);
        let banked = match on_turn {
            Party::Asserter => &mut self.asserter,
            Party::Challenger => &mut self.challenger,
        };
        *banked = banked.saturating_sub(spent);
        self.turn_started = now;
        self.last_tick = now;
    }

    fn banked(&self, party: Party) -> u64 {
        match party {
            Party::Asserter => self.asserter,
            Party::Challenger => self.challenger,
        }
    }

    fn elapsed(&self, now: u64) -> u64 {
        now.saturating_sub(self.turn_started)
    }
}
