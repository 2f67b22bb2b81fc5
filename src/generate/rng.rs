//! The generator's random numbers: xoshiro256** seeded through SplitMix64, and the few
//! distributions the data is drawn from. Implemented here rather than taken from a crate so a
//! seed yields the same stream in every future build.

use std::f64::consts::TAU;

/// The purposes that draw random numbers. Each gets its own stream, so adding draws to one
/// part of the generator leaves every other part's data unchanged.
#[derive(Debug, Clone, Copy)]
pub(super) enum Stream {
    Cis = 1,
    Incidents = 2,
    Changes = 3,
    Relocation = 4,
    Problems = 5,
    Outages = 6,
    Assignments = 7,
}

pub(super) struct Rng {
    state: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// The stream for `purpose` and `index` (e.g. a chunk number) under `seed`. Parallel chunks
    /// each take their own stream, so the data does not depend on how work is scheduled.
    pub(super) fn stream(seed: u64, purpose: Stream, index: u64) -> Rng {
        let mut mix = seed;
        let mut key = splitmix64(&mut mix) ^ (purpose as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        key = splitmix64(&mut key) ^ index.wrapping_mul(0xA076_1D64_78BD_642F);
        let mut state = [0; 4];
        for word in &mut state {
            *word = splitmix64(&mut key);
        }
        Rng { state }
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)`, with 53 random bits.
    pub(super) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub(super) fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform in `0..n`; `n` must be positive. The multiply-shift bias is below 2^-32 for any
    /// `n` the generator uses.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform integer in `lo..=hi`.
    pub(super) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    pub(super) fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Standard normal by Box–Muller; the second variate is dropped so each draw costs a fixed
    /// two numbers from the stream.
    pub(super) fn normal(&mut self) -> f64 {
        let radius = (-2.0 * (1.0 - self.uniform()).ln()).sqrt();
        radius * (TAU * self.uniform()).cos()
    }

    pub(super) fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    pub(super) fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }

    /// Failures before the first success, each trial succeeding with `p`: mean `(1 - p) / p`.
    pub(super) fn geometric(&mut self, p: f64, cap: u32) -> u32 {
        let mut failures = 0;
        while failures < cap && !self.bernoulli(p) {
            failures += 1;
        }
        failures
    }

    /// An index drawn with probability proportional to its weight.
    pub(super) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.uniform() * total;
        for (i, w) in weights.iter().enumerate() {
            if target < *w {
                return i;
            }
            target -= w;
        }
        weights.len().saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_stable_and_independent() {
        let first: Vec<u64> = {
            let mut rng = Rng::stream(42, Stream::Incidents, 0);
            (0..4).map(|_| rng.next_u64()).collect()
        };
        let again: Vec<u64> = {
            let mut rng = Rng::stream(42, Stream::Incidents, 0);
            (0..4).map(|_| rng.next_u64()).collect()
        };
        assert_eq!(first, again);
        let mut other_chunk = Rng::stream(42, Stream::Incidents, 1);
        let mut other_purpose = Rng::stream(42, Stream::Changes, 0);
        assert_ne!(first[0], other_chunk.next_u64());
        assert_ne!(first[0], other_purpose.next_u64());
    }

    #[test]
    fn distributions_have_their_stated_moments() {
        let mut rng = Rng::stream(7, Stream::Cis, 0);
        let n = 200_000;
        let mean = |f: &mut dyn FnMut() -> f64| (0..n).map(|_| f()).sum::<f64>() / n as f64;
        assert!((mean(&mut || rng.uniform()) - 0.5).abs() < 0.01);
        assert!(mean(&mut || rng.normal()).abs() < 0.01);
        assert!((mean(&mut || rng.exponential(2.0)) - 2.0).abs() < 0.03);
        assert!((mean(&mut || f64::from(rng.geometric(1.0 / 2.2, 100))) - 1.2).abs() < 0.03);
        let mut below_median = 0;
        for _ in 0..n {
            below_median += usize::from(rng.lognormal(3.0, 0.9) < 3.0);
        }
        assert!((below_median as f64 / n as f64 - 0.5).abs() < 0.01);
        let mut counts = [0usize; 3];
        for _ in 0..n {
            counts[rng.weighted(&[1.0, 2.0, 7.0])] += 1;
        }
        assert!((counts[2] as f64 / n as f64 - 0.7).abs() < 0.01);
    }
}
