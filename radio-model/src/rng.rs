//! Counter-based randomness: every draw is a pure function of
//! (seed, transmitter id, frame counter, purpose, index, lane).
//!
//! A frame's fate therefore depends only on who sent it and which frame it
//! was, never on thread timing or on how many other draws happened before.
//! The mixer is the SplitMix64 finaliser (Steele, Lea & Flood, "Fast
//! Splittable Pseudorandom Number Generators", OOPSLA 2014; constants from
//! Stafford's "Mix13" variant), applied as a keyed hash: each key word is
//! whitened and folded into the running state by another bijective mix, so
//! distinct keys give unrelated outputs.
//!
//! Use `index` to tell apart draws of the same (frame, purpose) — typically
//! the receiver's id. Each distribution uses its own lanes, so e.g.
//! `uniform(i)` and `gaussian(i)` are independent.

/// Suggested purpose values (any u32 works; keep them distinct per use).
pub mod purpose {
    /// Delivery draw compared against the PER.
    pub const DELIVERY: u32 = 1;
    /// Log-normal shadowing (key it with frame 0 and an unordered node pair
    /// for static, reciprocal shadowing).
    pub const SHADOWING: u32 = 2;
    /// Small-scale fading per frame.
    pub const FADING: u32 = 3;
    /// Per-link configured loss probability.
    pub const LOSS: u32 = 4;
    /// Backoff counter draws.
    pub const BACKOFF: u32 = 5;
    /// Whether a reception survives overlapping transmissions (PER at the SINR).
    pub const COLLISION: u32 = 6;
}

const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64 / Mix13 finaliser: a bijection on u64 with full avalanche.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Folds `x` into state `h`; for a fixed `h` distinct `x` give distinct
/// results.
const fn absorb(h: u64, x: u64) -> u64 {
    mix(h ^ mix(x.wrapping_add(GAMMA)))
}

const TWO_POW_M53: f64 = 1.0 / (1u64 << 53) as f64;

// Lane assignment per distribution.
const LANE_UNIFORM: u32 = 0;
const LANE_GAUSS_A: u32 = 1;
const LANE_GAUSS_B: u32 = 2;
const LANE_EXP: u32 = 3;
const LANE_RICE_A: u32 = 4;
const LANE_RICE_B: u32 = 5;
const LANE_BELOW: u32 = 6;

/// The key of one family of draws. Deriving it is a few multiplications;
/// it holds no mutable state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RngKey {
    prefix: u64,
    purpose: u32,
}

impl RngKey {
    /// Key for (`seed`, transmitter id `tx`, frame counter `frame`,
    /// `purpose`).
    pub const fn new(seed: u64, tx: u64, frame: u64, purpose: u32) -> RngKey {
        let h = mix(seed ^ 0x6877_7369_6d2d_7261); // domain separation tag
        let h = absorb(h, tx);
        let h = absorb(h, frame);
        RngKey { prefix: h, purpose }
    }

    /// Raw 64 random bits for (`index`, `lane`).
    pub const fn bits(&self, index: u64, lane: u32) -> u64 {
        let h = absorb(self.prefix, ((self.purpose as u64) << 32) | lane as u64);
        absorb(h, index)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&self, index: u64) -> f64 {
        (self.bits(index, LANE_UNIFORM) >> 11) as f64 * TWO_POW_M53
    }

    /// Uniform in the open interval (0, 1) (safe for logarithms).
    fn open01(&self, index: u64, lane: u32) -> f64 {
        ((self.bits(index, lane) >> 11) as f64 + 0.5) * TWO_POW_M53
    }

    /// Uniform integer in [0, n) (n ≥ 1), by the multiply-shift method
    /// (bias < n/2⁶⁴). E.g. a backoff of `below(i, cw + 1)` slots.
    pub fn below(&self, index: u64, n: u64) -> u64 {
        ((u128::from(self.bits(index, LANE_BELOW)) * u128::from(n.max(1))) >> 64) as u64
    }

    /// Two independent standard normals from one Box–Muller pair.
    fn normal_pair(&self, index: u64, lane_a: u32, lane_b: u32) -> (f64, f64) {
        let u1 = self.open01(index, lane_a);
        let u2 = self.open01(index, lane_b);
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (core::f64::consts::TAU * u2).sin_cos();
        (r * c, r * s)
    }

    /// Standard normal draw (Box–Muller).
    pub fn gaussian(&self, index: u64) -> f64 {
        self.normal_pair(index, LANE_GAUSS_A, LANE_GAUSS_B).0
    }

    /// Log-normal shadowing/fading term in dB: N(0, σ²).
    pub fn lognormal_db(&self, index: u64, sigma_db: f64) -> f64 {
        sigma_db * self.gaussian(index)
    }

    /// Rayleigh fading power gain in dB: 10·log10(|h|²) with |h|²
    /// exponential of mean 1 (0 dB mean in linear power).
    pub fn rayleigh_db(&self, index: u64) -> f64 {
        let power = -self.open01(index, LANE_EXP).ln();
        10.0 * power.log10()
    }

    /// Rician fading power gain in dB with K-factor `k_factor_db` (ratio of
    /// line-of-sight to scattered power); mean linear power 1. K → −∞ dB is
    /// Rayleigh.
    pub fn rician_db(&self, index: u64, k_factor_db: f64) -> f64 {
        let k = 10f64.powf(k_factor_db / 10.0);
        let (g1, g2) = self.normal_pair(index, LANE_RICE_A, LANE_RICE_B);
        let los = (k / (k + 1.0)).sqrt();
        let s = (1.0 / (2.0 * (k + 1.0))).sqrt();
        let (re, im) = (los + s * g1, s * g2);
        10.0 * (re * re + im * im).log10()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate() {
        let a = RngKey::new(1, 2, 3, 4);
        assert_eq!(a.bits(5, 0), RngKey::new(1, 2, 3, 4).bits(5, 0));
        let others = [
            RngKey::new(2, 2, 3, 4),
            RngKey::new(1, 3, 3, 4),
            RngKey::new(1, 2, 4, 4),
            RngKey::new(1, 2, 3, 5),
        ];
        for o in others {
            assert_ne!(a.bits(5, 0), o.bits(5, 0));
        }
        assert_ne!(a.bits(5, 0), a.bits(6, 0));
        assert_ne!(a.bits(5, 0), a.bits(5, 1));
        // Swapping tx and frame must not collide.
        assert_ne!(
            RngKey::new(1, 2, 3, 4).bits(0, 0),
            RngKey::new(1, 3, 2, 4).bits(0, 0)
        );
    }

    #[test]
    fn below_stays_in_range() {
        let k = RngKey::new(9, 9, 9, purpose::BACKOFF);
        let mut seen = [false; 16];
        for i in 0..1000 {
            let v = k.below(i, 16);
            assert!(v < 16);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn gaussian_and_fading_moments() {
        let n = 200_000u64;
        let k = RngKey::new(7, 1, 0, purpose::FADING);
        let (mut s, mut s2, mut ray, mut rice) = (0.0, 0.0, 0.0, 0.0);
        for i in 0..n {
            let g = k.gaussian(i);
            s += g;
            s2 += g * g;
            ray += 10f64.powf(k.rayleigh_db(i) / 10.0);
            rice += 10f64.powf(k.rician_db(i, 6.0) / 10.0);
        }
        let nf = n as f64;
        let mean = s / nf;
        let var = s2 / nf - mean * mean;
        // Standard errors: mean 1/√n = 0.0022, variance √(2/n) = 0.0032.
        assert!(mean.abs() < 0.011, "{mean}");
        assert!((var - 1.0).abs() < 0.016, "{var}");
        // Mean linear power 1; Exp(1) s.e. 0.0022.
        assert!((ray / nf - 1.0).abs() < 0.011, "{}", ray / nf);
        assert!((rice / nf - 1.0).abs() < 0.011, "{}", rice / nf);
    }
}
