//! Simultaneous Authentication of Equals (IEEE 802.11-2020 12.4) for group 19 (NIST P-256)
//! with hash-to-element (H2E) password element derivation only.
//!
//! * [`PasswordToken`]: PT from SSID, password and optional password identifier
//!   (12.4.4.2.3: HKDF, then simplified SWU on two field elements, PT = P1 + P2). The SSWU map
//!   and the wide reduction modulo p are p256's RFC 9380 implementation (Z = -10, the value
//!   802.11 uses for group 19); this module writes the SAE glue around them.
//! * [`Pwe`]: PWE = val * PT, val from the two MAC addresses (12.4.4.2.3).
//! * [`SaeInstance`]: one side's rand/mask, its commit (scalar, element) and, with the peer's
//!   commit, [`SaeKeys`]: KCK, PMK, PMKID and the confirm values (12.4.5.3 - 12.4.5.5).
//! * [`Commit`] / [`Confirm`]: the SAE fields of Authentication frames (9.4.1.x, 9.3.3.11),
//!   with the Rejected Groups and Anti-Clogging Token Container elements of H2E.
//!
//! Every received scalar and element is validated (scalar in [2, r), element on the curve and
//! not the point at infinity); a reflected commit (our own scalar and element) is refused. A
//! hostile peer gets an error value, never a panic.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use p256::elliptic_curve::bigint::U256;
use p256::elliptic_curve::generic_array::GenericArray;
use p256::elliptic_curve::group::Group;
use p256::elliptic_curve::hash2curve::{FromOkm, MapToCurve};
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::elliptic_curve::{Curve, Field, PrimeField};
use p256::{AffinePoint, EncodedPoint, FieldElement, NistP256, ProjectivePoint, Scalar};
use sha2::Sha256;

use crate::error::{need, CryptoError, Result};
use crate::kdf::{hmac_parts, kdf, HashAlg};
use crate::keys::MacAddr;
use crate::rng::KeyRng;

/// The only group implemented: NIST P-256.
pub const SAE_GROUP_P256: u16 = 19;
/// Authentication algorithm number of SAE (9.4.1.1).
pub const AUTH_ALG_SAE: u16 = 3;
/// Status code of an SAE commit that uses hash-to-element (9.4.1.9).
pub const STATUS_SAE_HASH_TO_ELEMENT: u16 = 126;
/// Status code asking the peer to repeat its commit with an anti-clogging token.
pub const STATUS_ANTI_CLOGGING_TOKEN_REQUIRED: u16 = 76;
/// Element ID Extensions of the elements an H2E commit may carry (9.4.2.1).
pub const EXT_PASSWORD_IDENTIFIER: u8 = 33;
pub const EXT_REJECTED_GROUPS: u8 = 92;
pub const EXT_ANTI_CLOGGING_TOKEN: u8 = 93;

const ELEMENT_ID_EXTENSION: u8 = 255;
/// Length of a P-256 scalar / coordinate.
const LEN: usize = 32;
/// HKDF-Expand output for one field element: olen(p) + floor(olen(p) / 2) (12.4.4.2.3).
const PWD_VALUE_LEN: usize = LEN + LEN / 2;

/// The password element token PT of one (SSID, password, identifier) for group 19.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordToken {
    pt: AffinePoint,
}

impl core::fmt::Debug for PasswordToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PasswordToken").finish_non_exhaustive()
    }
}

impl PasswordToken {
    /// pwd-seed = HKDF-Extract(ssid, password [|| identifier]);
    /// u_i = HKDF-Expand(pwd-seed, "SAE Hash to Element u<i> P<i>", 48) mod p;
    /// P_i = SSWU(u_i); PT = P1 + P2.
    pub fn derive(ssid: &[u8], password: &[u8], identifier: Option<&[u8]>) -> PasswordToken {
        let mut ikm = Vec::with_capacity(password.len() + identifier.map_or(0, <[u8]>::len));
        ikm.extend_from_slice(password);
        if let Some(id) = identifier {
            ikm.extend_from_slice(id);
        }
        let (_, hk) = Hkdf::<Sha256>::extract(Some(ssid), &ikm);
        let mut point = ProjectivePoint::IDENTITY;
        for info in [
            &b"SAE Hash to Element u1 P1"[..],
            &b"SAE Hash to Element u2 P2"[..],
        ] {
            let mut okm = [0u8; PWD_VALUE_LEN];
            hk.expand(info, &mut okm)
                .expect("48 bytes is a valid HKDF-SHA-256 length");
            let u = FieldElement::from_okm(GenericArray::from_slice(&okm));
            point += u.map_to_curve();
        }
        PasswordToken {
            pt: point.to_affine(),
        }
    }

    /// PT as x || y (big-endian coordinates).
    pub fn to_bytes(&self) -> [u8; 2 * LEN] {
        point_bytes(&self.pt)
    }

    /// val = HKDF-Extract(0^32, max(a, b) || min(a, b)); val = val mod (r - 1) + 1;
    /// PWE = val * PT.
    pub fn pwe(&self, a: &MacAddr, b: &MacAddr) -> Result<Pwe> {
        let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
        let mut addrs = [0u8; 12];
        addrs[..6].copy_from_slice(hi);
        addrs[6..].copy_from_slice(lo);
        let (prk, _) = Hkdf::<Sha256>::extract(Some(&[0u8; LEN]), &addrs);
        let order_minus_one = NistP256::ORDER.wrapping_sub(&U256::ONE);
        let mut val = U256::from_be_slice(&prk);
        // val < 2^256 < 2 (r - 1), so one subtraction reduces it.
        if val >= order_minus_one {
            val = val.wrapping_sub(&order_minus_one);
        }
        let val = <Scalar as Reduce<U256>>::reduce(val.wrapping_add(&U256::ONE));
        let pwe = ProjectivePoint::from(self.pt) * val;
        if bool::from(pwe.is_identity()) {
            return Err(CryptoError::Malformed("SAE PWE is the point at infinity"));
        }
        Ok(Pwe(pwe))
    }
}

/// The password element of one pair of addresses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Pwe(ProjectivePoint);

impl core::fmt::Debug for Pwe {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pwe").finish_non_exhaustive()
    }
}

impl Pwe {
    /// PWE as x || y.
    pub fn to_bytes(&self) -> [u8; 2 * LEN] {
        point_bytes(&self.0.to_affine())
    }

    /// A PWE given as x || y (checked to be on the curve); for test vectors that give one.
    pub fn from_bytes(bytes: &[u8]) -> Result<Pwe> {
        Ok(Pwe(parse_element(bytes)?.into()))
    }
}

fn point_bytes(p: &AffinePoint) -> [u8; 2 * LEN] {
    let enc = p.to_encoded_point(false);
    let mut out = [0u8; 2 * LEN];
    if let (Some(x), Some(y)) = (enc.x(), enc.y()) {
        out[..LEN].copy_from_slice(x);
        out[LEN..].copy_from_slice(y);
    }
    out
}

/// A finite element from x || y: on the curve and not the point at infinity.
fn parse_element(bytes: &[u8]) -> Result<AffinePoint> {
    if bytes.len() != 2 * LEN {
        return Err(CryptoError::InvalidPublicKey);
    }
    let enc = EncodedPoint::from_affine_coordinates(
        GenericArray::from_slice(&bytes[..LEN]),
        GenericArray::from_slice(&bytes[LEN..]),
        false,
    );
    let point: Option<AffinePoint> = AffinePoint::from_encoded_point(&enc).into();
    point.ok_or(CryptoError::InvalidPublicKey)
}

/// A scalar in [2, r): 0 and 1 are refused as 12.4.5.4 requires.
fn parse_scalar(bytes: &[u8]) -> Result<Scalar> {
    if bytes.len() != LEN {
        return Err(CryptoError::Malformed("SAE scalar length"));
    }
    let s: Option<Scalar> = Scalar::from_repr(*GenericArray::from_slice(bytes)).into();
    match s {
        Some(s) if s != Scalar::ZERO && s != Scalar::ONE => Ok(s),
        _ => Err(CryptoError::Malformed("SAE scalar out of range")),
    }
}

/// The SAE fields of a commit (Authentication transaction 1), borrowed from a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit<'a> {
    pub group: u16,
    pub scalar: &'a [u8],
    pub element: &'a [u8],
    /// Body of the Password Identifier element (unsupported here; reported so the caller
    /// can refuse it).
    pub password_id: Option<&'a [u8]>,
    /// Rejected Groups element body: the groups the peer tried before, LE u16 each.
    pub rejected_groups: Option<&'a [u8]>,
    /// Anti-Clogging Token Container element body.
    pub token: Option<&'a [u8]>,
}

impl<'a> Commit<'a> {
    /// Parses the SAE fields of an H2E commit: what follows the status code (group, scalar,
    /// element, then elements; unknown elements, such as a Multi-Link element, are skipped).
    /// A group other than 19 is [`CryptoError::Unsupported`] so the caller can answer with
    /// status 77.
    pub fn parse(fields: &'a [u8]) -> Result<Commit<'a>> {
        need("SAE commit", fields, 2)?;
        let group = u16::from_le_bytes([fields[0], fields[1]]);
        if group != SAE_GROUP_P256 {
            return Err(CryptoError::Unsupported {
                what: "SAE group",
                value: group.into(),
            });
        }
        need("SAE commit", fields, 2 + 3 * LEN)?;
        let mut commit = Commit {
            group,
            scalar: &fields[2..2 + LEN],
            element: &fields[2 + LEN..2 + 3 * LEN],
            password_id: None,
            rejected_groups: None,
            token: None,
        };
        let mut rest = &fields[2 + 3 * LEN..];
        while !rest.is_empty() {
            need("SAE commit element", rest, 2)?;
            let len = usize::from(rest[1]);
            need("SAE commit element", rest, 2 + len)?;
            let (id, body) = (rest[0], &rest[2..2 + len]);
            if id == ELEMENT_ID_EXTENSION && !body.is_empty() {
                let data = &body[1..];
                match body[0] {
                    EXT_PASSWORD_IDENTIFIER => commit.password_id = Some(data),
                    EXT_REJECTED_GROUPS => {
                        if data.is_empty() || data.len() % 2 != 0 {
                            return Err(CryptoError::Malformed("SAE Rejected Groups"));
                        }
                        commit.rejected_groups = Some(data);
                    }
                    EXT_ANTI_CLOGGING_TOKEN => commit.token = Some(data),
                    _ => {}
                }
            }
            rest = &rest[2 + len..];
        }
        Ok(commit)
    }

    /// Groups listed in the Rejected Groups element.
    pub fn rejected_group_list(&self) -> impl Iterator<Item = u16> + 'a {
        self.rejected_groups
            .unwrap_or(&[])
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
    }

    /// Appends the SAE fields (group, scalar, element, Rejected Groups, Anti-Clogging Token
    /// Container).
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.group.to_le_bytes());
        out.extend_from_slice(self.scalar);
        out.extend_from_slice(self.element);
        for (ext, data) in [
            (EXT_PASSWORD_IDENTIFIER, self.password_id),
            (EXT_REJECTED_GROUPS, self.rejected_groups),
            (EXT_ANTI_CLOGGING_TOKEN, self.token),
        ] {
            if let Some(d) = data {
                out.push(ELEMENT_ID_EXTENSION);
                out.push(u8::try_from(1 + d.len()).expect("SAE element fits"));
                out.push(ext);
                out.extend_from_slice(d);
            }
        }
    }
}

/// An anti-clogging token request (status 76): the group and the token to echo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest<'a> {
    pub group: u16,
    pub token: &'a [u8],
}

impl<'a> TokenRequest<'a> {
    /// Parses the fields after the status code: group, then the token in an Anti-Clogging
    /// Token Container element (H2E) or bare (hunting-and-pecking peers).
    pub fn parse(fields: &'a [u8]) -> Result<TokenRequest<'a>> {
        need("SAE token request", fields, 3)?;
        let group = u16::from_le_bytes([fields[0], fields[1]]);
        let rest = &fields[2..];
        if rest.len() >= 3 && rest[0] == ELEMENT_ID_EXTENSION && rest[2] == EXT_ANTI_CLOGGING_TOKEN
        {
            let len = usize::from(rest[1]);
            need("Anti-Clogging Token Container", rest, 2 + len)?;
            if len == 0 {
                // The length covers the extension ID the container starts with.
                return Err(CryptoError::Malformed(
                    "Anti-Clogging Token Container length",
                ));
            }
            return Ok(TokenRequest {
                group,
                token: &rest[3..2 + len],
            });
        }
        Ok(TokenRequest { group, token: rest })
    }
}

/// The SAE fields of a confirm (Authentication transaction 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confirm {
    pub send_confirm: u16,
    pub confirm: [u8; LEN],
}

impl Confirm {
    /// Parses send-confirm and confirm; anything after them (a Multi-Link element) is the
    /// caller's.
    pub fn parse(fields: &[u8]) -> Result<Confirm> {
        need("SAE confirm", fields, 2 + LEN)?;
        let mut confirm = [0u8; LEN];
        confirm.copy_from_slice(&fields[2..2 + LEN]);
        Ok(Confirm {
            send_confirm: u16::from_le_bytes([fields[0], fields[1]]),
            confirm,
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.send_confirm.to_le_bytes());
        out.extend_from_slice(&self.confirm);
    }
}

/// One side of an SAE exchange: its secret rand and its commit (scalar, element).
pub struct SaeInstance {
    pwe: ProjectivePoint,
    rand: Scalar,
    scalar: [u8; LEN],
    element: [u8; 2 * LEN],
    /// Our Rejected Groups element body, if we tried other groups first.
    rejected_groups: Option<Vec<u8>>,
}

impl core::fmt::Debug for SaeInstance {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SaeInstance")
            .field("scalar", &self.scalar)
            .finish_non_exhaustive()
    }
}

impl SaeInstance {
    /// Draws rand and mask in [2, r) until the scalar (rand + mask) mod r is at least 2.
    pub fn new(pwe: &Pwe, rng: &mut dyn KeyRng) -> SaeInstance {
        loop {
            let rand = random_scalar(rng);
            let mask = random_scalar(rng);
            if let Ok(me) = Self::from_rand_mask(pwe, rand, mask) {
                return me;
            }
        }
    }

    /// scalar = (rand + mask) mod r, element = inverse(mask * PWE); fails if the scalar is 0
    /// or 1 (draw again).
    fn from_rand_mask(pwe: &Pwe, rand: Scalar, mask: Scalar) -> Result<SaeInstance> {
        let scalar = rand + mask;
        if scalar == Scalar::ZERO || scalar == Scalar::ONE {
            return Err(CryptoError::Malformed("SAE commit scalar below 2"));
        }
        let element = -(pwe.0 * mask);
        Ok(SaeInstance {
            pwe: pwe.0,
            rand,
            scalar: scalar.to_repr().into(),
            element: point_bytes(&element.to_affine()),
            rejected_groups: None,
        })
    }

    /// An instance from given rand and mask (big-endian, each in [1, r)); for test vectors.
    pub fn from_rand_mask_bytes(pwe: &Pwe, rand: &[u8], mask: &[u8]) -> Result<SaeInstance> {
        let parse = |b: &[u8]| -> Result<Scalar> {
            if b.len() != LEN {
                return Err(CryptoError::Malformed("SAE rand/mask length"));
            }
            let s: Option<Scalar> = Scalar::from_repr(*GenericArray::from_slice(b)).into();
            s.filter(|s| *s != Scalar::ZERO)
                .ok_or(CryptoError::Malformed("SAE rand/mask out of range"))
        };
        Self::from_rand_mask(pwe, parse(rand)?, parse(mask)?)
    }

    /// Lists groups we tried before this one (sent in our commit, salt of the key seed).
    pub fn set_rejected_groups(&mut self, groups: &[u16]) {
        self.rejected_groups =
            (!groups.is_empty()).then(|| groups.iter().flat_map(|g| g.to_le_bytes()).collect());
    }

    /// Our commit; `token` is echoed from an anti-clogging token request.
    pub fn commit<'a>(&'a self, token: Option<&'a [u8]>) -> Commit<'a> {
        Commit {
            group: SAE_GROUP_P256,
            scalar: &self.scalar,
            element: &self.element,
            password_id: None,
            rejected_groups: self.rejected_groups.as_deref(),
            token,
        }
    }

    /// Our commit scalar.
    pub fn scalar(&self) -> &[u8; LEN] {
        &self.scalar
    }

    /// Our commit element (x || y).
    pub fn element(&self) -> &[u8; 2 * LEN] {
        &self.element
    }

    /// Validates the peer's commit and derives the keys (12.4.5.4):
    /// K = rand * (peer-scalar * PWE + peer-element), k = x(K),
    /// keyseed = HMAC-SHA-256(salt, k) with salt = the Rejected Groups list (ours, else the
    /// peer's) or 32 zero octets, KCK || PMK = KDF-SHA-256-512(keyseed, "SAE KCK and PMK",
    /// (scalar + peer-scalar) mod r), PMKID = the first 16 octets of that sum.
    pub fn process_commit(&self, peer: &Commit<'_>) -> Result<SaeKeys> {
        if peer.group != SAE_GROUP_P256 {
            return Err(CryptoError::Unsupported {
                what: "SAE group",
                value: peer.group.into(),
            });
        }
        let peer_scalar = parse_scalar(peer.scalar)?;
        let peer_element = parse_element(peer.element)?;
        if peer.scalar == self.scalar && peer.element == self.element {
            return Err(CryptoError::SaeReflection);
        }
        let k = (self.pwe * peer_scalar + ProjectivePoint::from(peer_element)) * self.rand;
        if bool::from(k.is_identity()) {
            return Err(CryptoError::InvalidPublicKey);
        }
        let k_x: [u8; LEN] = k.to_affine().x().into();
        let zeros = [0u8; LEN];
        let salt: &[u8] = match (&self.rejected_groups, peer.rejected_groups) {
            (Some(own), _) => own,
            (None, Some(theirs)) => theirs,
            (None, None) => &zeros,
        };
        let mut keyseed = [0u8; LEN];
        hmac_parts(HashAlg::Sha256, salt, &[&k_x], &mut keyseed);
        let own_scalar = parse_scalar(&self.scalar)?;
        let sum: [u8; LEN] = (own_scalar + peer_scalar).to_repr().into();
        let mut kck_pmk = [0u8; 2 * LEN];
        kdf(
            HashAlg::Sha256,
            &keyseed,
            b"SAE KCK and PMK",
            &sum,
            &mut kck_pmk,
        );
        let mut keys = SaeKeys {
            kck: [0; LEN],
            pmk: [0; LEN],
            pmkid: [0; 16],
            own: [0; 3 * LEN],
            peer: [0; 3 * LEN],
        };
        keys.kck.copy_from_slice(&kck_pmk[..LEN]);
        keys.pmk.copy_from_slice(&kck_pmk[LEN..]);
        keys.pmkid.copy_from_slice(&sum[..16]);
        keys.own[..LEN].copy_from_slice(&self.scalar);
        keys.own[LEN..].copy_from_slice(&self.element);
        keys.peer[..LEN].copy_from_slice(peer.scalar);
        keys.peer[LEN..].copy_from_slice(peer.element);
        Ok(keys)
    }
}

fn random_scalar(rng: &mut dyn KeyRng) -> Scalar {
    loop {
        let mut bytes = [0u8; LEN];
        rng.fill(&mut bytes);
        let s: Option<Scalar> = Scalar::from_repr(bytes.into()).into();
        if let Some(s) = s.filter(|s| !bool::from(s.is_zero()) && *s != Scalar::ONE) {
            return s;
        }
    }
}

/// What one completed commit exchange established.
#[derive(Clone, PartialEq, Eq)]
pub struct SaeKeys {
    pub kck: [u8; LEN],
    pub pmk: [u8; LEN],
    pub pmkid: [u8; 16],
    /// Our scalar || element and the peer's, as the confirm hashes them.
    own: [u8; 3 * LEN],
    peer: [u8; 3 * LEN],
}

impl core::fmt::Debug for SaeKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SaeKeys")
            .field("pmkid", &self.pmkid)
            .finish_non_exhaustive()
    }
}

impl SaeKeys {
    /// Our confirm: HMAC-SHA-256(KCK, send-confirm || scalar || element || peer-scalar ||
    /// peer-element).
    pub fn confirm(&self, send_confirm: u16) -> Confirm {
        let mut confirm = [0u8; LEN];
        hmac_parts(
            HashAlg::Sha256,
            &self.kck,
            &[&send_confirm.to_le_bytes(), &self.own, &self.peer],
            &mut confirm,
        );
        Confirm {
            send_confirm,
            confirm,
        }
    }

    /// Checks the peer's confirm (the same hash with the roles swapped), in constant time.
    pub fn verify_confirm(&self, peer: &Confirm) -> Result<()> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.kck).expect("HMAC takes any key");
        mac.update(&peer.send_confirm.to_le_bytes());
        mac.update(&self.peer);
        mac.update(&self.own);
        mac.verify_slice(&peer.confirm)
            .map_err(|_| CryptoError::SaeConfirmMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;
    use p256::elliptic_curve::bigint::{Encoding, Limb};

    #[test]
    fn one_subtraction_reduces_val_modulo_r_minus_1() {
        // Holds because 2^256 < 2 (r - 1): adding r - 1 to itself carries out of 256 bits.
        let r_minus_one = NistP256::ORDER.wrapping_sub(&U256::ONE);
        let (_, carry) = r_minus_one.adc(&r_minus_one, Limb::ZERO);
        assert_eq!(carry, Limb::ONE);
    }

    #[test]
    fn both_ends_agree_and_a_wrong_password_fails_the_confirm() {
        let a = [2, 0, 0, 0, 0, 1];
        let b = [2, 0, 0, 0, 0, 2];
        let pt = PasswordToken::derive(b"ssid", b"correct horse", None);
        let pwe = pt.pwe(&a, &b).unwrap();
        assert_eq!(
            pwe,
            pt.pwe(&b, &a).unwrap(),
            "PWE is symmetric in the addresses"
        );
        let mut rng = SeededRng::new(1);
        let sa = SaeInstance::new(&pwe, &mut rng);
        let sb = SaeInstance::new(&pwe, &mut rng);
        let ka = sa.process_commit(&sa_commit(&sb)).unwrap();
        let kb = sb.process_commit(&sa_commit(&sa)).unwrap();
        assert_eq!(ka.pmk, kb.pmk);
        assert_eq!(ka.kck, kb.kck);
        assert_eq!(ka.pmkid, kb.pmkid);
        kb.verify_confirm(&ka.confirm(1)).unwrap();
        ka.verify_confirm(&kb.confirm(7)).unwrap();
        let mut forged = ka.confirm(1);
        forged.send_confirm = 2;
        assert_eq!(
            kb.verify_confirm(&forged),
            Err(CryptoError::SaeConfirmMismatch)
        );

        let wrong = PasswordToken::derive(b"ssid", b"wrong horse", None)
            .pwe(&a, &b)
            .unwrap();
        let sw = SaeInstance::new(&wrong, &mut rng);
        let kw = sw.process_commit(&sa_commit(&sb)).unwrap();
        let kb2 = sb.process_commit(&sa_commit(&sw)).unwrap();
        assert_ne!(kw.pmk, kb2.pmk);
        assert_eq!(
            kb2.verify_confirm(&kw.confirm(1)),
            Err(CryptoError::SaeConfirmMismatch)
        );
    }

    fn sa_commit(s: &SaeInstance) -> Commit<'_> {
        s.commit(None)
    }

    #[test]
    fn hostile_commits_get_errors() {
        let pwe = PasswordToken::derive(b"s", b"password", None)
            .pwe(&[0; 6], &[1; 6])
            .unwrap();
        let me = SaeInstance::new(&pwe, &mut SeededRng::new(3));
        let other = SaeInstance::new(&pwe, &mut SeededRng::new(4));
        let good = other.commit(None);
        // Reflection of our own commit.
        assert_eq!(
            me.process_commit(&me.commit(None)),
            Err(CryptoError::SaeReflection)
        );
        // Scalars 0, 1 and r (out of range).
        let order: [u8; 32] = NistP256::ORDER.to_be_bytes();
        let one = {
            let mut b = [0u8; 32];
            b[31] = 1;
            b
        };
        for bad in [[0u8; 32], one, order, [0xff; 32]] {
            let c = Commit {
                scalar: &bad,
                ..good.clone()
            };
            assert!(me.process_commit(&c).is_err());
        }
        // Elements off the curve, all zero (the infinity encoding), wrong length.
        let mut off = *other.element();
        off[63] ^= 1;
        for bad in [&off[..], &[0u8; 64][..], &off[..63]] {
            let c = Commit {
                element: bad,
                ..good.clone()
            };
            assert_eq!(me.process_commit(&c), Err(CryptoError::InvalidPublicKey));
        }
        // Another group.
        let c = Commit {
            group: 20,
            ..good.clone()
        };
        assert!(matches!(
            me.process_commit(&c),
            Err(CryptoError::Unsupported { .. })
        ));
        me.process_commit(&good).unwrap();
    }

    #[test]
    fn commit_fields_round_trip_and_truncations_are_errors() {
        let pwe = PasswordToken::derive(b"s", b"password", None)
            .pwe(&[0; 6], &[1; 6])
            .unwrap();
        let mut me = SaeInstance::new(&pwe, &mut SeededRng::new(5));
        me.set_rejected_groups(&[20, 21]);
        let mut buf = Vec::new();
        me.commit(Some(b"token")).emit(&mut buf);
        // A Multi-Link element after the SAE elements is skipped.
        buf.extend_from_slice(&[255, 3, 107, 0, 0]);
        let c = Commit::parse(&buf).unwrap();
        assert_eq!(c, me.commit(Some(b"token")));
        assert_eq!(c.rejected_group_list().collect::<Vec<_>>(), vec![20, 21]);
        for n in 0..buf.len() {
            if n == 98 || n == 98 + 7 || n == 98 + 7 + 8 {
                continue; // element boundaries
            }
            assert!(Commit::parse(&buf[..n]).is_err(), "truncated at {n}");
        }
        let mut g20 = buf.clone();
        g20[0] = 20;
        assert!(matches!(
            Commit::parse(&g20),
            Err(CryptoError::Unsupported { value: 20, .. })
        ));
        // Token requests, H2E (container element) and bare.
        let req = [19, 0, 255, 4, 93, 1, 2, 3];
        assert_eq!(
            TokenRequest::parse(&req).unwrap(),
            TokenRequest {
                group: 19,
                token: &[1, 2, 3]
            }
        );
        assert_eq!(TokenRequest::parse(&[19, 0, 9, 9]).unwrap().token, &[9, 9]);
        assert!(TokenRequest::parse(&[19, 0, 255, 9, 93, 1]).is_err());
        assert!(Confirm::parse(&[0; 33]).is_err());
    }

    #[test]
    fn a_token_container_too_short_for_its_extension_id_is_an_error() {
        // Found by the sae_fields fuzz target: length 0 leaves no room for the extension ID
        // that follows it (fuzz/regressions/sae_fields/token-container-length-0).
        assert!(TokenRequest::parse(&[0x80, 0xff, 0xff, 0x00, 0x5d]).is_err());
        assert!(TokenRequest::parse(&[19, 0, 255, 0, 93, 1, 2]).is_err());
        // Length 1 is the extension ID alone: an empty token.
        assert_eq!(
            TokenRequest::parse(&[19, 0, 255, 1, 93]).unwrap().token,
            &[] as &[u8]
        );
    }
}
