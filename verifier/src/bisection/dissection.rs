//! Where a segment is cut. The referee and every prover must compute the same boundaries, so this
//! arithmetic is consensus: pure, overflow-free, and shared by both sides.

/// Sub-segments a segment of `len` steps is cut into: `arity` of them, or one per step when the
/// segment is shorter, so a short segment reaches one-step proofs in a single round.
pub fn parts(len: u64, arity: u32) -> u64 {
    len.min(u64::from(arity))
}

/// Boundaries of `[start, end]` cut into `parts(end - start, arity)` sub-segments: the step
/// indices `start + len * i / parts` for `i = 0..=parts`, so the first is `start`, the last `end`,
/// and the asserter's interior hashes belong to the ones in between. Sub-segment lengths differ by
/// at most one. A segment of zero or one step is a single part: `[start, end]`.
pub fn boundaries(start: u64, end: u64, arity: u32) -> Vec<u64> {
    let len = end.saturating_sub(start);
    let parts = parts(len, arity).max(1);
    (0..=parts)
        .map(|i| start.saturating_add(offset(len, i, parts)))
        .collect()
}

/// `len * i / parts` in 128 bits: with `len` near 2^64 the product does not fit 64.
fn offset(len: u64, i: u64, parts: u64) -> u64 {
    let offset = u128::from(len) * u128::from(i) / u128::from(parts);
    // `i <= parts`, so the offset never exceeds `len` and always fits.
    u64::try_from(offset).unwrap_or(len)
}

/// Dissection rounds a claim over `steps` steps takes with `arity`-way splits when the challenger
/// always picks a longest sub-segment: `ceil(log_arity(steps))`, and 0 for `steps <= 1`.
///
/// A longest sub-segment of `len` has `ceil(len / parts)` steps and `ceil(ceil(n / a) / b) =
/// ceil(n / (a * b))`, so after `r` rounds the segment has `ceil(steps / arity^r)` steps; it is
/// one step exactly when `arity^r >= steps`. Picking a shorter part can only end the game sooner,
/// so this is also the most rounds any game over `steps` can take: the bound the clocks must
/// cover. An `arity` below 2 never shrinks a segment; the answer is then `u32::MAX` ("never") for
/// `steps > 1` — the referee rejects such configurations before it gets here.
pub fn rounds_for(steps: u64, arity: u32) -> u32 {
    if arity < 2 {
        return if steps > 1 { u32::MAX } else { 0 };
    }
    let arity = u64::from(arity);
    let mut len = steps;
    let mut rounds = 0u32;
    while len > 1 {
        len = len.div_ceil(arity);
        rounds = rounds.saturating_add(1);
    }
    rounds
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::bisection::{DEFAULT_ARITY, MAX_ARITY};

    /// Smallest `r` with `arity^r >= steps`, by brute force in 128 bits.
    fn ceil_log(steps: u64, arity: u32) -> u32 {
        let mut power = 1u128;
        let mut r = 0;
        while power < u128::from(steps) {
            power *= u128::from(arity);
            r += 1;
        }
        r
    }

    #[test]
    fn boundaries_cut_evenly_and_keep_the_ends() {
        assert_eq!(boundaries(0, 10, 4), vec![0, 2, 5, 7, 10]);
        assert_eq!(boundaries(100, 103, 8), vec![100, 101, 102, 103]);
        assert_eq!(boundaries(5, 6, 8), vec![5, 6]);
        assert_eq!(boundaries(5, 5, 8), vec![5, 5]);
        // Hostile bounds do not panic; they collapse to one empty part.
        assert_eq!(boundaries(9, 3, 8), vec![9, 9]);
        let top = boundaries(0, u64::MAX, 1024);
        assert_eq!(top.len(), 1025);
        assert_eq!(top[1024], u64::MAX);
        assert!(top.windows(2).all(|w| w[1] - w[0] >= u64::MAX / 1024));
    }

    #[test]
    fn sub_segment_lengths_differ_by_at_most_one() {
        for len in 1..300u64 {
            for arity in [2u32, 3, 5, 7, 16, 40] {
                let b = boundaries(1000, 1000 + len, arity);
                let lens: Vec<u64> = b.windows(2).map(|w| w[1] - w[0]).collect();
                let (min, max) = (*lens.iter().min().unwrap(), *lens.iter().max().unwrap());
                assert!(
                    min >= 1 && max - min <= 1,
                    "len {len} arity {arity}: {lens:?}"
                );
                assert_eq!(max, len.div_ceil(parts(len, arity)));
            }
        }
    }

    #[test]
    fn rounds_for_is_ceil_log() {
        let mut steps_list = vec![
            0u64,
            1,
            2,
            3,
            1 << 43,
            (1 << 43) + 1,
            u64::MAX,
            u64::MAX - 1,
        ];
        steps_list.extend([10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000]);
        for arity in [2u32, 3, 4, 7, 10, 32, 40, 1000, MAX_ARITY] {
            let mut power = 1u128;
            while power <= u128::from(u64::MAX) {
                let p = power as u64;
                steps_list.extend([p.saturating_sub(1), p, p.saturating_add(1)]);
                power *= u128::from(arity);
            }
        }
        for &steps in &steps_list {
            for arity in [2u32, 3, 4, 7, 10, 32, 40, 1000, MAX_ARITY] {
                assert_eq!(
                    rounds_for(steps, arity),
                    ceil_log(steps, arity),
                    "{steps} {arity}"
                );
            }
        }
        assert_eq!(rounds_for(1 << 43, 2), 43);
        assert_eq!(rounds_for(u64::MAX, 2), 64);
        assert_eq!(rounds_for(5, 1), u32::MAX);
        assert_eq!(rounds_for(1, 0), 0);
    }

    /// Every path through the dissection tree, not just the longest-part one: the deepest path is
    /// `rounds_for` and none is deeper. Depth depends only on the segment's length.
    #[test]
    fn deepest_dissection_path_is_rounds_for() {
        for arity in 2u32..=12 {
            let mut depth = vec![0u32; 601];
            for len in 2..=600u64 {
                let b = boundaries(0, len, arity);
                depth[len as usize] = 1 + b
                    .windows(2)
                    .map(|w| depth[(w[1] - w[0]) as usize])
                    .max()
                    .unwrap();
                assert_eq!(depth[len as usize], rounds_for(len, arity), "{len} {arity}");
            }
        }
    }

    /// The table behind `DEFAULT_ARITY`: rounds and the interior-hash bytes all rounds post.
    #[test]
    fn arity_table() {
        let arities = [2u32, 4, 8, 16, 32, 40, 64, 128];
        let mut table = String::from("steps  ");
        for k in arities {
            table.push_str(&format!("| k={k:<11}"));
        }
        for exp in 7..=10u32 {
            let steps = 10u64.pow(exp);
            table.push_str(&format!("\n10^{exp:<4}"));
            for k in arities {
                let rounds = rounds_for(steps, k);
                let bytes = u64::from(rounds) * (u64::from(k) - 1) * 32;
                table.push_str(&format!("| {rounds:>2} r {bytes:>6} B "));
            }
        }
        println!("{table}");
        assert_eq!(rounds_for(10_000_000_000, DEFAULT_ARITY), 7);
        const { assert!((DEFAULT_ARITY - 1) * 32 <= 1024) };
    }
}
