//! Randomness for nonces, group keys and ephemeral DH keys, injected so that tests and the
//! simulator are deterministic in their seed.

use crate::kdf::{hmac_parts, HashAlg};

/// A source of random bytes.
pub trait KeyRng {
    fn fill(&mut self, out: &mut [u8]);
}

/// Deterministic generator: block i is HMAC-SHA-256(seed, "hwsim-crypto rng" || i). The
/// same seed gives the same ANonces, GTKs and DH keys, which is what a reproducible
/// simulation wants; seed it from the OS for keys that have to stay secret.
#[derive(Debug, Clone)]
pub struct SeededRng {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&seed.to_le_bytes());
        Self::from_seed(s)
    }

    pub fn from_seed(seed: [u8; 32]) -> Self {
        SeededRng {
            seed,
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }
}

impl KeyRng for SeededRng {
    fn fill(&mut self, out: &mut [u8]) {
        for byte in out {
            if self.used == self.block.len() {
                hmac_parts(
                    HashAlg::Sha256,
                    &self.seed,
                    &[b"hwsim-crypto rng", &self.counter.to_le_bytes()],
                    &mut self.block,
                );
                self.counter += 1;
                self.used = 0;
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
    }
}
