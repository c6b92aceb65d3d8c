//! Pseudo-random functions of the key hierarchy (IEEE 802.11-2020 12.7.1.6).
//!
//! * [`kdf`]: KDF-Hash-Length (12.7.1.6.2), used by every AKM whose key derivation is
//!   SHA-256 or SHA-384 based (OWE, SAE, PSK-SHA256, ...).
//! * [`prf_sha1`]: PRF-Length (12.7.1.6.1), the legacy HMAC-SHA-1 PRF (AKM 1/2).

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384};

/// The hash behind a KDF, HMAC or HKDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Sha256,
    Sha384,
}

impl HashAlg {
    /// Digest length in bytes.
    pub fn len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
        }
    }

    /// Never true; present for clippy's `len_without_is_empty`.
    pub fn is_empty(self) -> bool {
        false
    }
}

/// HMAC over the concatenation of `parts`, written to the first `hash.len()` bytes of `out`.
pub(crate) fn hmac_parts(hash: HashAlg, key: &[u8], parts: &[&[u8]], out: &mut [u8]) {
    match hash {
        HashAlg::Sha256 => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
            for p in parts {
                mac.update(p);
            }
            out[..32].copy_from_slice(&mac.finalize().into_bytes());
        }
        HashAlg::Sha384 => {
            let mut mac = <Hmac<Sha384> as Mac>::new_from_slice(key).expect("HMAC takes any key");
            for p in parts {
                mac.update(p);
            }
            out[..48].copy_from_slice(&mac.finalize().into_bytes());
        }
    }
}

/// KDF-Hash-Length(K, Label, Context) of 12.7.1.6.2, with Length = `out.len() * 8` bits:
/// the concatenation of HMAC-Hash(K, i || Label || Context || Length) for i = 1, 2, ...
/// with i and Length as little-endian 16-bit integers, truncated to Length bits.
pub fn kdf(hash: HashAlg, key: &[u8], label: &[u8], context: &[u8], out: &mut [u8]) {
    let length_bits = u16::try_from(out.len() * 8).expect("KDF output is at most 8191 bytes");
    let mut block = [0u8; 48];
    let hlen = hash.len();
    for (i, chunk) in out.chunks_mut(hlen).enumerate() {
        let counter = u16::try_from(i + 1).expect("bounded by length_bits");
        hmac_parts(
            hash,
            key,
            &[
                &counter.to_le_bytes(),
                label,
                context,
                &length_bits.to_le_bytes(),
            ],
            &mut block,
        );
        chunk.copy_from_slice(&block[..chunk.len()]);
    }
}

/// PRF-Length(K, A, B) of 12.7.1.6.1 with Length = `out.len() * 8`: the concatenation of
/// HMAC-SHA-1(K, A || 0 || B || i) for the single-octet counter i = 0, 1, ...
pub fn prf_sha1(key: &[u8], label: &[u8], data: &[u8], out: &mut [u8]) {
    for (i, chunk) in out.chunks_mut(20).enumerate() {
        let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC takes any key");
        mac.update(label);
        mac.update(&[0]);
        mac.update(data);
        mac.update(&[u8::try_from(i).expect("PRF output is at most 5100 bytes")]);
        let block = mac.finalize().into_bytes();
        chunk.copy_from_slice(&block[..chunk.len()]);
    }
}
