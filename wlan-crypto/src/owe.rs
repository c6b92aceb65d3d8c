//! Opportunistic Wireless Encryption (RFC 8110; IEEE 802.11-2020 12.4.1 for the AKM and
//! 9.4.2.243 for the OWE Diffie-Hellman Parameter element).
//!
//! Interoperability notes, checked against hostapd (`owe_process_assoc_req`) and iwd
//! (`owe_compute_keys`): the public keys C (client) and A (AP) are exchanged and hashed as the
//! bare x-coordinate; the receiver recovers a point from x alone (either y gives the same
//! shared x-coordinate); z is the x-coordinate of the ECDH result; the group is appended to
//! the salt as a little-endian u16.

use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{NonZeroScalar, PublicKey};
use sha2::{Digest, Sha256};

use crate::error::{need, CryptoError, Result};
use crate::rng::KeyRng;

/// The only group implemented: NIST P-256.
pub const OWE_GROUP_P256: u16 = 19;
/// Element ID Extension of the OWE Diffie-Hellman Parameter element (ID 255).
pub const OWE_DH_ELEMENT_EXT_ID: u8 = 32;
const ELEMENT_ID_EXTENSION: u8 = 255;

/// OWE DH Parameter element body: group (LE u16) and the public key (x-coordinate for ECC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OweDhParam<'a> {
    pub group: u16,
    pub public_key: &'a [u8],
}

impl<'a> OweDhParam<'a> {
    /// Parses a whole element (ID 255, length, extension ID 32, group, key).
    pub fn parse_element(element: &'a [u8]) -> Result<Self> {
        need("OWE DH element", element, 5)?;
        if element[0] != ELEMENT_ID_EXTENSION || element[2] != OWE_DH_ELEMENT_EXT_ID {
            return Err(CryptoError::Malformed("OWE DH element ID"));
        }
        let len = usize::from(element[1]);
        need("OWE DH element", element, 2 + len)?;
        Self::parse_body(&element[3..2 + len])
    }

    /// Parses the element body after the extension ID.
    pub fn parse_body(body: &'a [u8]) -> Result<Self> {
        need("OWE DH parameter", body, 3)?;
        Ok(OweDhParam {
            group: u16::from_le_bytes([body[0], body[1]]),
            public_key: &body[2..],
        })
    }

    /// Appends the whole element.
    pub fn emit_element(&self, out: &mut Vec<u8>) {
        out.push(ELEMENT_ID_EXTENSION);
        out.push(u8::try_from(3 + self.public_key.len()).expect("public key fits an element"));
        out.push(OWE_DH_ELEMENT_EXT_ID);
        out.extend_from_slice(&self.group.to_le_bytes());
        out.extend_from_slice(self.public_key);
    }
}

/// An ephemeral P-256 key pair for one OWE association.
pub struct OweKeyPair {
    secret: NonZeroScalar,
    public_x: [u8; 32],
}

impl core::fmt::Debug for OweKeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OweKeyPair")
            .field("public_x", &self.public_x)
            .finish_non_exhaustive()
    }
}

/// PMK and PMKID established by OWE.
#[derive(Clone, PartialEq, Eq)]
pub struct OweKeys {
    pub pmk: [u8; 32],
    pub pmkid: [u8; 16],
}

impl core::fmt::Debug for OweKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OweKeys")
            .field("pmkid", &self.pmkid)
            .finish_non_exhaustive()
    }
}

impl OweKeyPair {
    /// Draws a private scalar from `rng` (retrying the negligible out-of-range case).
    pub fn generate(rng: &mut dyn KeyRng) -> OweKeyPair {
        loop {
            let mut bytes = [0u8; 32];
            rng.fill(&mut bytes);
            if let Ok(pair) = Self::from_secret_bytes(&bytes) {
                return pair;
            }
        }
    }

    /// A key pair from a big-endian private scalar in [1, n-1].
    pub fn from_secret_bytes(bytes: &[u8; 32]) -> Result<OweKeyPair> {
        let secret: Option<NonZeroScalar> = NonZeroScalar::from_repr((*bytes).into()).into();
        let secret = secret.ok_or(CryptoError::Malformed("P-256 private scalar"))?;
        let point = PublicKey::from_secret_scalar(&secret).to_encoded_point(false);
        let mut public_x = [0u8; 32];
        public_x.copy_from_slice(point.x().expect("uncompressed point has x"));
        Ok(OweKeyPair { secret, public_x })
    }

    /// Our public key as carried in the OWE DH Parameter element (x-coordinate).
    pub fn public_x(&self) -> &[u8; 32] {
        &self.public_x
    }

    /// The element advertising our public key (for the (Re)Association Request/Response).
    pub fn dh_param(&self) -> OweDhParam<'_> {
        OweDhParam {
            group: OWE_GROUP_P256,
            public_key: &self.public_x,
        }
    }

    /// z = x-coordinate of our secret times the peer's point.
    fn shared_x(&self, peer_x: &[u8]) -> Result<[u8; 32]> {
        if peer_x.len() != 32 {
            return Err(CryptoError::InvalidPublicKey);
        }
        let mut compressed = [0u8; 33];
        compressed[0] = 0x02;
        compressed[1..].copy_from_slice(peer_x);
        let peer =
            PublicKey::from_sec1_bytes(&compressed).map_err(|_| CryptoError::InvalidPublicKey)?;
        let shared = p256::ecdh::diffie_hellman(self.secret, peer.as_affine());
        let mut z = [0u8; 32];
        z.copy_from_slice(shared.raw_secret_bytes());
        Ok(z)
    }

    /// The AP side: `client` is the public key from the STA's association request.
    pub fn ap_derive(&self, client: &OweDhParam<'_>) -> Result<OweKeys> {
        check_group(client.group)?;
        let z = self.shared_x(client.public_key)?;
        Ok(derive_keys(
            client.public_key,
            &self.public_x,
            client.group,
            &z,
        ))
    }

    /// The STA side: `ap` is the public key from the association response.
    pub fn sta_derive(&self, ap: &OweDhParam<'_>) -> Result<OweKeys> {
        check_group(ap.group)?;
        let z = self.shared_x(ap.public_key)?;
        Ok(derive_keys(&self.public_x, ap.public_key, ap.group, &z))
    }
}

fn check_group(group: u16) -> Result<()> {
    if group != OWE_GROUP_P256 {
        return Err(CryptoError::Unsupported {
            what: "OWE group",
            value: group.into(),
        });
    }
    Ok(())
}

/// RFC 8110 4.4: prk = HKDF-Extract(C | A | group, z); PMK = HKDF-Expand(prk, "OWE Key
/// Generation", 32); PMKID = Truncate-128(SHA-256(C | A)).
pub fn derive_keys(c: &[u8], a: &[u8], group: u16, z: &[u8]) -> OweKeys {
    let mut salt = Vec::with_capacity(c.len() + a.len() + 2);
    salt.extend_from_slice(c);
    salt.extend_from_slice(a);
    salt.extend_from_slice(&group.to_le_bytes());
    let hk = Hkdf::<Sha256>::new(Some(&salt), z);
    let mut pmk = [0u8; 32];
    hk.expand(b"OWE Key Generation", &mut pmk)
        .expect("32 bytes is a valid HKDF-SHA-256 length");
    let digest = Sha256::new().chain_update(c).chain_update(a).finalize();
    let mut pmkid = [0u8; 16];
    pmkid.copy_from_slice(&digest[..16]);
    OweKeys { pmk, pmkid }
}
