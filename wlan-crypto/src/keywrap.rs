//! EAPOL-Key Key Data encryption with AES Key Wrap (RFC 3394; IEEE 802.11-2020 12.7.2 j).

use aes_kw::{KekAes128, KekAes256};

use crate::error::{CryptoError, Result};

/// Pads Key Data as 12.7.2 requires before wrapping: when its length is not a multiple of
/// 8 or less than 16, append 0xdd and then zeros up to the next multiple of 8 (at least 16).
pub fn pad_key_data(data: &mut Vec<u8>) {
    if data.len() % 8 != 0 || data.len() < 16 {
        data.push(0xdd);
        while data.len() % 8 != 0 || data.len() < 16 {
            data.push(0);
        }
    }
}

/// AES key wrap of `plain` (a multiple of 8, at least 16 bytes) under a 16- or 32-byte KEK.
pub fn wrap(kek: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
    if plain.len() % 8 != 0 || plain.len() < 16 {
        return Err(CryptoError::Malformed("key wrap input length"));
    }
    let mut out = vec![0u8; plain.len() + 8];
    let res = match kek.len() {
        16 => KekAes128::new(kek.into()).wrap(plain, &mut out),
        32 => KekAes256::new(kek.into()).wrap(plain, &mut out),
        n => return Err(CryptoError::InvalidKeyLength(n)),
    };
    res.map_err(|_| CryptoError::Malformed("key wrap input length"))?;
    Ok(out)
}

/// Inverse of [`wrap`]; fails when the integrity check value does not match.
pub fn unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Vec<u8>> {
    if wrapped.len() % 8 != 0 || wrapped.len() < 24 {
        return Err(CryptoError::Malformed("wrapped key data length"));
    }
    let mut out = vec![0u8; wrapped.len() - 8];
    let res = match kek.len() {
        16 => KekAes128::new(kek.into()).unwrap(wrapped, &mut out),
        32 => KekAes256::new(kek.into()).unwrap(wrapped, &mut out),
        n => return Err(CryptoError::InvalidKeyLength(n)),
    };
    res.map_err(|_| CryptoError::KeyUnwrap)?;
    Ok(out)
}
