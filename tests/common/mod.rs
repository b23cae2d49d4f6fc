//! Helpers shared by the integration tests.

// Every test binary includes this module and uses a part of it.
#![allow(dead_code)]

/// splitmix64: a tiny deterministic generator, so every random test case reproduces from its seed.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The environment variable `name` as a number, else `default`.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// A test's workload count: the environment variable `var` if it is set to a number, else `ci`
/// under CI (`CI` set) and `local` otherwise.
pub fn scaled_count(var: &str, ci: u64, local: u64) -> u64 {
    env_or(
        var,
        if std::env::var_os("CI").is_some() {
            ci
        } else {
            local
        },
    )
}
