//! The game's parameters, their validation, and the bond split they fix.

use thiserror::Error;

/// Default dissection arity.
///
/// Each round costs two L1 moves of wall-clock latency (posting hashes, picking a part) that the
/// clocks must cover, and posts `(k - 1) * 32` bytes of interior hashes. Rounds / total bytes for
/// a whole game (`rounds_for`, measured by the `arity_table` test):
///
/// | steps | k=2     | k=4     | k=8     | k=16    | k=32    | k=40    | k=64     | k=128    |
/// |-------|---------|---------|---------|---------|---------|---------|----------|----------|
/// | 10^7  | 24/768  | 12/1152 | 8/1792  | 6/2880  | 5/4960  | 5/6240  | 4/8064   | 4/16256  |
/// | 10^8  | 27/864  | 14/1344 | 9/2016  | 7/3360  | 6/5952  | 5/6240  | 5/10080  | 4/16256  |
/// | 10^9  | 30/960  | 15/1440 | 10/2240 | 8/3840  | 6/5952  | 6/7488  | 5/10080  | 5/20320  |
/// | 10^10 | 34/1088 | 17/1632 | 12/2688 | 9/4320  | 7/6944  | 7/8736  | 6/12096  | 5/20320  |
///
/// A signed transfer is ~8M steps, so batches sit at 10^8..10^10. A move's fixed cost (an L1
/// transaction, ~21k gas plus storage) is worth ~100 hashes of calldata (512 gas each), and the
/// total `rounds * (fixed + (k - 1) * hash)` is smallest near `k ln k - k = fixed / hash`, i.e.
/// k ≈ 32..40 (Arbitrum classic used 40). 32 keeps every round under 1 KiB of hashes, needs at
/// most 7 rounds up to 3.4 * 10^10 steps, and matches 40 in rounds at 10^9 and 10^10 with 20%
/// fewer bytes; 64 saves one round for twice the bytes, 16 costs two more rounds.
pub const DEFAULT_ARITY: u32 = 32;

/// Largest arity accepted: a round's hashes must fit one L1 transaction (1023 * 32 bytes ≈ 32 KiB).
pub const MAX_ARITY: u32 = 1024;

/// Default share of the loser's bond that is burned instead of paid to the winner: half.
///
/// Without a burn, a party could dispute itself through a colluding account: whichever side
/// wins, the bond comes back to the same owner, so stalling the confirmation of a claim would
/// cost nothing but gas. Burning makes every such delay cost half a bond. The other half still
/// pays the honest winner for its L1 moves and proving work; Arbitrum classic split the loser's
/// stake the same way.
pub const DEFAULT_BURN_BPS: u16 = 5_000;

/// One basis point is 1/10_000 of a bond.
const BPS_WHOLE: u16 = 10_000;

/// Parameters of one bisection game.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BisectionConfig {
    /// k: the number of sub-segments a segment is split into each round.
    pub arity: u32,
    /// Ticks each party may spend on its own turns over the whole game.
    pub clock_budget: u64,
    /// Bond each party posts; the loser forfeits it.
    pub bond: u128,
    /// Share of the loser's bond that is burned, in basis points (`10_000` = all of it).
    pub burn_bps: u16,
}

/// A configuration the referee refuses to play with.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("arity {arity} cannot shrink a segment; it must be at least 2")]
    ArityTooSmall { arity: u32 },
    #[error("arity {arity} exceeds the maximum {max}: one round's hashes would not fit a move")]
    ArityTooLarge { arity: u32, max: u32 },
    #[error("burn of {burn_bps} basis points is more than the whole bond (10000)")]
    BurnAboveWhole { burn_bps: u16 },
}

impl BisectionConfig {
    /// The default arity and burn with a deployment's bond and clock budget.
    pub fn new(bond: u128, clock_budget: u64) -> Self {
        BisectionConfig {
            arity: DEFAULT_ARITY,
            clock_budget,
            bond,
            burn_bps: DEFAULT_BURN_BPS,
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.arity < 2 {
            return Err(ConfigError::ArityTooSmall { arity: self.arity });
        }
        if self.arity > MAX_ARITY {
            return Err(ConfigError::ArityTooLarge {
                arity: self.arity,
                max: MAX_ARITY,
            });
        }
        if self.burn_bps > BPS_WHOLE {
            return Err(ConfigError::BurnAboveWhole {
                burn_bps: self.burn_bps,
            });
        }
        Ok(())
    }

    /// The loser's bond split into `(paid to the winner, burned)`; the two always sum to the
    /// bond. The burn is `bond * burn_bps / 10_000` rounded down, computed without overflowing
    /// even for `u128::MAX` bonds.
    pub fn split_forfeit(&self) -> (u128, u128) {
        let bps = u128::from(self.burn_bps.min(BPS_WHOLE));
        let whole = u128::from(BPS_WHOLE);
        let burned = self.bond / whole * bps + self.bond % whole * bps / whole;
        (self.bond.saturating_sub(burned), burned)
    }
}
