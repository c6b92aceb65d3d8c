//! EAPOL-Key frames: the IEEE 802.1X-2010 EAPOL header (11.3) around the IEEE 802.11-2020
//! Key Descriptor (12.7.2, Figure 12-32), and the Key MIC (12.7.3 Table 12-11).
//!
//! Layout after the 4-byte EAPOL header (version, type 3 = Key, body length BE):
//! descriptor type (2 = RSN), Key Information (BE u16), Key Length (BE u16), Key Replay
//! Counter (BE u64), Key Nonce (32), EAPOL-Key IV (16), Key RSC (8, LE packet number),
//! reserved (8), Key MIC (length by AKM), Key Data Length (BE u16), Key Data.

use cmac::Cmac;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384};
use subtle::ConstantTimeEq;

use crate::error::{need, CryptoError, Result};
use crate::keys::MicAlg;

/// EAPOL packet type of EAPOL-Key frames.
pub const EAPOL_TYPE_KEY: u8 = 3;
/// Descriptor type of RSN EAPOL-Key frames.
pub const DESCRIPTOR_RSN: u8 = 2;
/// Protocol version we send (802.1X-2004, what hostapd sends by default).
pub const EAPOL_VERSION: u8 = 2;
/// Bytes from the start of the EAPOL header to the Key MIC field.
pub const MIC_OFFSET: usize = 4 + 1 + 2 + 2 + 8 + 32 + 16 + 8 + 8;

/// Key Information field (12.7.2 Figure 12-33).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyInfo(pub u16);

impl KeyInfo {
    pub const VERSION_MASK: u16 = 0x0007;
    pub const PAIRWISE: u16 = 1 << 3;
    pub const INSTALL: u16 = 1 << 6;
    pub const ACK: u16 = 1 << 7;
    pub const MIC: u16 = 1 << 8;
    pub const SECURE: u16 = 1 << 9;
    pub const ERROR: u16 = 1 << 10;
    pub const REQUEST: u16 = 1 << 11;
    pub const ENCRYPTED_KEY_DATA: u16 = 1 << 12;

    pub fn has(self, bits: u16) -> bool {
        self.0 & bits == bits
    }

    pub fn version(self) -> u16 {
        self.0 & Self::VERSION_MASK
    }
}

/// A parsed (or to-be-emitted) EAPOL-Key frame; `mic` and `key_data` borrow the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EapolKey<'a> {
    pub version: u8,
    pub key_info: KeyInfo,
    pub key_length: u16,
    pub replay_counter: u64,
    pub nonce: [u8; 32],
    pub iv: [u8; 16],
    /// Key RSC as the little-endian number it encodes (the PN of the GTK).
    pub rsc: u64,
    pub mic: &'a [u8],
    pub key_data: &'a [u8],
}

impl<'a> EapolKey<'a> {
    /// Parses an EAPOL PDU (starting with the EAPOL header) whose Key MIC field has
    /// `mic_len` bytes. Trailing bytes beyond the EAPOL body length are ignored (padding of
    /// short Ethernet frames).
    pub fn parse(pdu: &'a [u8], mic_len: usize) -> Result<Self> {
        need("EAPOL header", pdu, 4)?;
        if pdu[1] != EAPOL_TYPE_KEY {
            return Err(CryptoError::Unsupported {
                what: "EAPOL packet type",
                value: pdu[1].into(),
            });
        }
        let body_len = usize::from(u16::from_be_bytes([pdu[2], pdu[3]]));
        need("EAPOL body", &pdu[4..], body_len)?;
        let pdu = &pdu[..4 + body_len];
        need("EAPOL-Key frame", pdu, MIC_OFFSET + mic_len + 2)?;
        if pdu[4] != DESCRIPTOR_RSN {
            return Err(CryptoError::Unsupported {
                what: "EAPOL-Key descriptor type",
                value: pdu[4].into(),
            });
        }
        let data_len_at = MIC_OFFSET + mic_len;
        let data_len = usize::from(u16::from_be_bytes([pdu[data_len_at], pdu[data_len_at + 1]]));
        let key_data = pdu
            .get(data_len_at + 2..data_len_at + 2 + data_len)
            .ok_or(CryptoError::Malformed("Key Data Length beyond frame"))?;
        let mut nonce = [0u8; 32];
        nonce.copy_from_slice(&pdu[17..49]);
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&pdu[49..65]);
        Ok(EapolKey {
            version: pdu[0],
            key_info: KeyInfo(u16::from_be_bytes([pdu[5], pdu[6]])),
            key_length: u16::from_be_bytes([pdu[7], pdu[8]]),
            replay_counter: u64::from_be_bytes(pdu[9..17].try_into().expect("8 bytes")),
            nonce,
            iv,
            rsc: u64::from_le_bytes(pdu[65..73].try_into().expect("8 bytes")),
            mic: &pdu[MIC_OFFSET..MIC_OFFSET + mic_len],
            key_data,
        })
    }

    /// Writes the PDU with the given MIC length; the MIC field is written as `self.mic`
    /// (zeros when empty, ready for [`write_mic`]).
    pub fn emit(&self, mic_len: usize) -> Vec<u8> {
        let body_len = MIC_OFFSET - 4 + mic_len + 2 + self.key_data.len();
        let mut out = Vec::with_capacity(4 + body_len);
        out.push(self.version);
        out.push(EAPOL_TYPE_KEY);
        out.extend_from_slice(
            &u16::try_from(body_len)
                .expect("EAPOL body fits u16")
                .to_be_bytes(),
        );
        out.push(DESCRIPTOR_RSN);
        out.extend_from_slice(&self.key_info.0.to_be_bytes());
        out.extend_from_slice(&self.key_length.to_be_bytes());
        out.extend_from_slice(&self.replay_counter.to_be_bytes());
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.iv);
        out.extend_from_slice(&self.rsc.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        let mut mic = vec![0u8; mic_len];
        let n = self.mic.len().min(mic_len);
        mic[..n].copy_from_slice(&self.mic[..n]);
        out.extend_from_slice(&mic);
        out.extend_from_slice(
            &u16::try_from(self.key_data.len())
                .expect("Key Data fits u16")
                .to_be_bytes(),
        );
        out.extend_from_slice(self.key_data);
        out
    }
}

/// The Key MIC over the whole EAPOL PDU with its MIC field taken as zero.
pub fn compute_mic(alg: MicAlg, kck: &[u8], pdu: &[u8], mic_len: usize) -> Result<Vec<u8>> {
    need("EAPOL-Key frame", pdu, MIC_OFFSET + mic_len)?;
    let zeros = [0u8; 32];
    let parts: [&[u8]; 3] = [
        &pdu[..MIC_OFFSET],
        &zeros[..mic_len],
        &pdu[MIC_OFFSET + mic_len..],
    ];
    let full = match alg {
        MicAlg::HmacSha256_128 => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(kck)
                .map_err(|_| CryptoError::InvalidKeyLength(kck.len()))?;
            parts.iter().for_each(|p| mac.update(p));
            mac.finalize().into_bytes().to_vec()
        }
        MicAlg::HmacSha384_192 => {
            let mut mac = <Hmac<Sha384> as Mac>::new_from_slice(kck)
                .map_err(|_| CryptoError::InvalidKeyLength(kck.len()))?;
            parts.iter().for_each(|p| mac.update(p));
            mac.finalize().into_bytes().to_vec()
        }
        MicAlg::AesCmac128 => {
            let mut mac = <Cmac<aes::Aes128> as Mac>::new_from_slice(kck)
                .map_err(|_| CryptoError::InvalidKeyLength(kck.len()))?;
            parts.iter().for_each(|p| mac.update(p));
            mac.finalize().into_bytes().to_vec()
        }
    };
    if full.len() < mic_len {
        return Err(CryptoError::InvalidKeyLength(mic_len));
    }
    Ok(full[..mic_len].to_vec())
}

/// Computes the MIC of `pdu` and writes it into its MIC field.
pub fn write_mic(alg: MicAlg, kck: &[u8], pdu: &mut [u8], mic_len: usize) -> Result<()> {
    let mic = compute_mic(alg, kck, pdu, mic_len)?;
    pdu[MIC_OFFSET..MIC_OFFSET + mic_len].copy_from_slice(&mic);
    Ok(())
}

/// Checks the MIC field of `pdu` in constant time.
pub fn verify_mic(alg: MicAlg, kck: &[u8], pdu: &[u8], mic_len: usize) -> Result<()> {
    let expected = compute_mic(alg, kck, pdu, mic_len)?;
    let got = &pdu[MIC_OFFSET..MIC_OFFSET + mic_len];
    if !bool::from(expected[..].ct_eq(got)) {
        return Err(CryptoError::MicMismatch);
    }
    Ok(())
}
