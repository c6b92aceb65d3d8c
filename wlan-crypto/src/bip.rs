//! BIP-CMAC-128 (IEEE 802.11-2020 12.5.4) for group addressed robust management frames.
//!
//! The MIC is AES-128-CMAC over AAD || Management Frame Body (including the MMIE with its
//! MIC field zero), truncated to 64 bits. AAD = FC with Retry, Power Management and More
//! Data masked to 0, then A1, A2, A3 (12.5.4.3). The MMIE (9.4.2.54) is element 76, length
//! 16: Key ID (LE u16), IPN (LE 48 bits), MIC (8). Beacon protection (BIGTK) uses the same
//! construction with the Timestamp field of the Beacon body taken as zero (12.5.4.5,
//! as mac80211 does), since the Timestamp is filled in at transmission.

use cmac::{Cmac, Mac};
use subtle::ConstantTimeEq;

use crate::error::{need, CryptoError, Result};

pub const MMIE_ELEMENT_ID: u8 = 76;
pub const MMIE_LEN: usize = 18;
const FC0_BEACON: u8 = 0x80;

/// An IGTK (or BIGTK) for BIP-CMAC-128.
#[derive(Clone)]
pub struct BipKey {
    key: [u8; 16],
}

impl core::fmt::Debug for BipKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BipKey").finish_non_exhaustive()
    }
}

/// Key ID and IPN read from a verified frame's MMIE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BipRx {
    pub key_id: u16,
    pub ipn: u64,
}

impl BipKey {
    pub fn new(key: &[u8]) -> Result<BipKey> {
        Ok(BipKey {
            key: key
                .try_into()
                .map_err(|_| CryptoError::InvalidKeyLength(key.len()))?,
        })
    }

    fn mic(&self, frame: &[u8]) -> [u8; 8] {
        let mut aad = [0u8; 20];
        aad[0] = frame[0];
        aad[1] = frame[1] & !(0x08 | 0x10 | 0x20);
        aad[2..20].copy_from_slice(&frame[4..22]);
        let mut mac = <Cmac<aes::Aes128> as Mac>::new_from_slice(&self.key).expect("16-byte key");
        mac.update(&aad);
        let body = &frame[24..];
        let mic_at = body.len() - 8;
        if frame[0] == FC0_BEACON {
            mac.update(&[0u8; 8]);
            mac.update(&body[8..mic_at]);
        } else {
            mac.update(&body[..mic_at]);
        }
        mac.update(&[0u8; 8]);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 8];
        out.copy_from_slice(&full[..8]);
        out
    }

    /// Appends the MMIE to the management frame in `frame` (24-byte header + body, no FCS)
    /// and fills its MIC.
    pub fn protect(&self, frame: &mut Vec<u8>, key_id: u16, ipn: u64) -> Result<()> {
        let min_body = if frame.first() == Some(&FC0_BEACON) {
            8
        } else {
            0
        };
        need("management frame", frame, 24 + min_body)?;
        frame.push(MMIE_ELEMENT_ID);
        frame.push(16);
        frame.extend_from_slice(&key_id.to_le_bytes());
        frame.extend_from_slice(&ipn.to_le_bytes()[..6]);
        frame.extend_from_slice(&[0u8; 8]);
        let mic = self.mic(frame);
        let at = frame.len() - 8;
        frame[at..].copy_from_slice(&mic);
        Ok(())
    }

    /// Checks the MMIE at the end of `frame`. The caller compares the IPN with its replay
    /// counter (it must be greater than the last accepted one).
    pub fn verify(&self, frame: &[u8]) -> Result<BipRx> {
        let min_body = if frame.first() == Some(&FC0_BEACON) {
            8
        } else {
            0
        };
        need("BIP-protected frame", frame, 24 + min_body + MMIE_LEN)?;
        let mmie = &frame[frame.len() - MMIE_LEN..];
        if mmie[0] != MMIE_ELEMENT_ID || mmie[1] != 16 {
            return Err(CryptoError::Malformed("MMIE"));
        }
        let expected = self.mic(frame);
        if !bool::from(expected[..].ct_eq(&mmie[10..18])) {
            return Err(CryptoError::MicMismatch);
        }
        let mut ipn = [0u8; 8];
        ipn[..6].copy_from_slice(&mmie[4..10]);
        Ok(BipRx {
            key_id: u16::from_le_bytes([mmie[2], mmie[3]]),
            ipn: u64::from_le_bytes(ipn),
        })
    }
}
