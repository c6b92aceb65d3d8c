//! One error type for the whole crate: every malformed input is a named variant.

use thiserror::Error;

/// What went wrong while parsing, deriving, protecting or checking.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CryptoError {
    #[error("{what} too short: need {need} bytes, have {have}")]
    TooShort {
        what: &'static str,
        need: usize,
        have: usize,
    },
    #[error("{0}: malformed")]
    Malformed(&'static str),
    #[error("unsupported {what} {value}")]
    Unsupported { what: &'static str, value: u32 },
    #[error("invalid elliptic-curve public key")]
    InvalidPublicKey,
    #[error("invalid key length {0}")]
    InvalidKeyLength(usize),
    #[error("AES key unwrap failed integrity check")]
    KeyUnwrap,
    #[error("message integrity check failed")]
    MicMismatch,
    #[error("replayed or out-of-order packet number {pn} (last accepted {last})")]
    Replay { pn: u64, last: u64 },
    #[error("frame is not protected (Protected Frame bit clear)")]
    NotProtected,
    #[error("packet number space exhausted")]
    PnExhausted,
    #[error("SAE commit reflects our own scalar and element")]
    SaeReflection,
    #[error("SAE confirm does not verify (wrong password?)")]
    SaeConfirmMismatch,
}

pub type Result<T> = core::result::Result<T, CryptoError>;

/// Fails with [`CryptoError::TooShort`] unless `buf` has at least `need` bytes.
pub(crate) fn need(what: &'static str, buf: &[u8], need: usize) -> Result<()> {
    if buf.len() < need {
        return Err(CryptoError::TooShort {
            what,
            need,
            have: buf.len(),
        });
    }
    Ok(())
}
