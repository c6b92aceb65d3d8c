//! Key hierarchy: AKM parameters, PTK derivation and group keys
//! (IEEE 802.11-2020 12.7.1.3, 12.7.1.4, 12.7.3 Table 12-11; 802.11be 12.7.1.3 for MLO).

use crate::error::{CryptoError, Result};
use crate::kdf::{kdf, HashAlg};
use crate::rng::KeyRng;

pub type MacAddr = [u8; 6];

/// OUI of the IEEE 802.11 suite selectors (00-0F-AC).
pub const IEEE80211_OUI: [u8; 3] = [0x00, 0x0f, 0xac];

/// The AKM suites whose key hierarchy this crate implements (suite type of 00-0F-AC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Akm {
    /// 00-0F-AC:6, PSK with SHA-256.
    PskSha256,
    /// 00-0F-AC:8, SAE with the fixed SHA-256 key hierarchy.
    Sae,
    /// 00-0F-AC:18, OWE; the key hierarchy depends on the DH group (RFC 8110 4.4).
    Owe { group: u16 },
}

/// How the EAPOL-Key MIC is computed (12.7.3 Table 12-11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MicAlg {
    /// AES-128-CMAC, 16 octets.
    AesCmac128,
    /// HMAC-SHA-256 truncated to 128 bits.
    HmacSha256_128,
    /// HMAC-SHA-384 truncated to 192 bits.
    HmacSha384_192,
}

impl Akm {
    /// The AKM suite type within 00-0F-AC.
    pub fn suite_type(self) -> u8 {
        match self {
            Akm::PskSha256 => 6,
            Akm::Sae => 8,
            Akm::Owe { .. } => 18,
        }
    }

    /// The full suite selector as it appears in an RSNE.
    pub fn selector(self) -> [u8; 4] {
        [0x00, 0x0f, 0xac, self.suite_type()]
    }

    fn check(self) -> Result<()> {
        match self {
            Akm::Owe { group } if group != 19 && group != 20 => Err(CryptoError::Unsupported {
                what: "OWE group",
                value: group.into(),
            }),
            _ => Ok(()),
        }
    }

    /// Hash of the KDF (12.7.1.3; RFC 8110 4.4 for OWE: group 19 -> SHA-256, 20 -> SHA-384).
    pub fn hash(self) -> HashAlg {
        match self {
            Akm::Owe { group: 20 } => HashAlg::Sha384,
            _ => HashAlg::Sha256,
        }
    }

    /// KCK length in octets (Table 12-11).
    pub fn kck_len(self) -> usize {
        match self.hash() {
            HashAlg::Sha256 => 16,
            HashAlg::Sha384 => 24,
        }
    }

    /// KEK length in octets (Table 12-11).
    pub fn kek_len(self) -> usize {
        match self.hash() {
            HashAlg::Sha256 => 16,
            HashAlg::Sha384 => 32,
        }
    }

    /// Length of the Key MIC field of EAPOL-Key frames (Table 12-11).
    pub fn mic_len(self) -> usize {
        self.kck_len()
    }

    pub fn mic_alg(self) -> MicAlg {
        match self {
            Akm::PskSha256 | Akm::Sae => MicAlg::AesCmac128,
            Akm::Owe { .. } => match self.hash() {
                HashAlg::Sha256 => MicAlg::HmacSha256_128,
                HashAlg::Sha384 => MicAlg::HmacSha384_192,
            },
        }
    }

    /// Key Descriptor Version of the Key Information field (12.7.2): 3 for AKM 6, 0
    /// ("AKM-defined") for SAE and OWE.
    pub fn key_descriptor_version(self) -> u16 {
        match self {
            Akm::PskSha256 => 3,
            Akm::Sae | Akm::Owe { .. } => 0,
        }
    }

    /// PMK length in octets.
    pub fn pmk_len(self) -> usize {
        self.hash().len()
    }
}

/// Pairwise cipher suites (00-0F-AC:n); only CCMP-128 is implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    Ccmp128,
}

impl Cipher {
    pub fn suite_type(self) -> u8 {
        4
    }

    /// Temporal key length in octets.
    pub fn tk_len(self) -> usize {
        16
    }
}

/// Pairwise transient key split into KCK, KEK and TK (12.7.1.3).
#[derive(Clone, PartialEq, Eq)]
pub struct Ptk {
    bytes: [u8; 96],
    kck_len: usize,
    kek_len: usize,
    tk_len: usize,
}

impl core::fmt::Debug for Ptk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ptk")
            .field("kck_len", &self.kck_len)
            .field("kek_len", &self.kek_len)
            .field("tk_len", &self.tk_len)
            .finish_non_exhaustive()
    }
}

impl Ptk {
    /// PTK = KDF-Hash-Length(PMK, "Pairwise key expansion", Min(AA, SPA) || Max(AA, SPA) ||
    /// Min(ANonce, SNonce) || Max(ANonce, SNonce)) with Length = KCK + KEK + TK bits.
    ///
    /// For a multi-link association (802.11be 12.7.1.3) AA is the AP MLD MAC address and SPA
    /// the non-AP MLD MAC address, never a link address.
    pub fn derive(
        akm: Akm,
        cipher: Cipher,
        pmk: &[u8],
        aa: &MacAddr,
        spa: &MacAddr,
        anonce: &[u8; 32],
        snonce: &[u8; 32],
    ) -> Result<Ptk> {
        akm.check()?;
        if pmk.len() != akm.pmk_len() {
            return Err(CryptoError::InvalidKeyLength(pmk.len()));
        }
        let (a_lo, a_hi) = if aa <= spa { (aa, spa) } else { (spa, aa) };
        let (n_lo, n_hi) = if anonce <= snonce {
            (anonce, snonce)
        } else {
            (snonce, anonce)
        };
        let mut context = [0u8; 6 + 6 + 32 + 32];
        context[..6].copy_from_slice(a_lo);
        context[6..12].copy_from_slice(a_hi);
        context[12..44].copy_from_slice(n_lo);
        context[44..].copy_from_slice(n_hi);
        let (kck_len, kek_len, tk_len) = (akm.kck_len(), akm.kek_len(), cipher.tk_len());
        let mut bytes = [0u8; 96];
        kdf(
            akm.hash(),
            pmk,
            b"Pairwise key expansion",
            &context,
            &mut bytes[..kck_len + kek_len + tk_len],
        );
        Ok(Ptk {
            bytes,
            kck_len,
            kek_len,
            tk_len,
        })
    }

    /// EAPOL-Key confirmation key (MIC key).
    pub fn kck(&self) -> &[u8] {
        &self.bytes[..self.kck_len]
    }

    /// EAPOL-Key encryption key (AES key wrap of the Key Data).
    pub fn kek(&self) -> &[u8] {
        &self.bytes[self.kck_len..self.kck_len + self.kek_len]
    }

    /// Temporal key for the pairwise cipher.
    pub fn tk(&self) -> &[u8] {
        let start = self.kck_len + self.kek_len;
        &self.bytes[start..start + self.tk_len]
    }
}

/// A group key with its key ID and the packet number of the next frame it protects
/// (GTK: 1-2, IGTK: 4-5, BIGTK: 6-7; 12.7.1.4, 12.7.1.5).
#[derive(Clone, PartialEq, Eq)]
pub struct GroupKey {
    pub key_id: u8,
    pub key: [u8; 16],
    /// Next PN / IPN / BIPN the transmitter uses; sent in the KDEs as the receive start.
    pub pn: u64,
}

impl core::fmt::Debug for GroupKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GroupKey")
            .field("key_id", &self.key_id)
            .field("pn", &self.pn)
            .finish_non_exhaustive()
    }
}

impl GroupKey {
    pub fn generate(rng: &mut dyn KeyRng, key_id: u8) -> GroupKey {
        let mut key = [0u8; 16];
        rng.fill(&mut key);
        GroupKey { key_id, key, pn: 0 }
    }

    /// The other key ID of this key's pair (GTK 1<->2, IGTK 4<->5, BIGTK 6<->7): a rekey
    /// installs the new key next to the old one, so receivers keep both for a while.
    pub fn other_key_id(&self) -> u8 {
        match self.key_id {
            1 => 2,
            2 => 1,
            4 => 5,
            5 => 4,
            6 => 7,
            7 => 6,
            other => other,
        }
    }
}

/// The group keys of one BSS (one affiliated AP of an AP MLD): GTK for CCMP-128 group
/// data, IGTK for BIP-CMAC-128 and, with beacon protection, BIGTK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupKeys {
    pub gtk: GroupKey,
    pub igtk: GroupKey,
    pub bigtk: Option<GroupKey>,
}

impl GroupKeys {
    /// Fresh keys with the first key IDs (GTK 1, IGTK 4, BIGTK 6) and PNs at zero.
    pub fn generate(rng: &mut dyn KeyRng, beacon_protection: bool) -> GroupKeys {
        GroupKeys {
            gtk: GroupKey::generate(rng, 1),
            igtk: GroupKey::generate(rng, 4),
            bigtk: beacon_protection.then(|| GroupKey::generate(rng, 6)),
        }
    }

    /// Fresh keys for a group rekey: each under the other key ID of its pair, PNs at zero.
    pub fn rekeyed(&self, rng: &mut dyn KeyRng) -> GroupKeys {
        GroupKeys {
            gtk: GroupKey::generate(rng, self.gtk.other_key_id()),
            igtk: GroupKey::generate(rng, self.igtk.other_key_id()),
            bigtk: self
                .bigtk
                .as_ref()
                .map(|b| GroupKey::generate(rng, b.other_key_id())),
        }
    }
}
