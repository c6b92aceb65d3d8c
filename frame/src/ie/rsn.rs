//! RSN (IEEE 802.11-2020 9.4.2.24, ID 48) and RSN Extension (9.4.2.241, ID 244).
//!
//! ```text
//! Version (2) | Group Data Cipher Suite (4) | Pairwise Count (2) | Pairwise list (4·m) |
//! AKM Count (2) | AKM list (4·n) | RSN Capabilities (2) | PMKID Count (2) |
//! PMKID List (16·s) | Group Management Cipher Suite (4)
//! ```
//!
//! Every field after Version is optional, but only from the end: a field may be left
//! out only if all after it are too.

use super::bytes::{self, Writer};
use super::{id, Error, IeRepr};

/// A cipher or AKM suite selector: OUI and suite type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Suite {
    /// Organizationally unique identifier.
    pub oui: [u8; 3],
    /// Suite type.
    pub kind: u8,
}

const IEEE: [u8; 3] = [0x00, 0x0f, 0xac];

impl Suite {
    /// A suite with the IEEE 802.11 OUI 00-0F-AC.
    pub const fn ieee(kind: u8) -> Suite {
        Suite { oui: IEEE, kind }
    }

    /// Cipher: TKIP.
    pub const TKIP: Suite = Suite::ieee(2);
    /// Cipher: CCMP-128.
    pub const CCMP_128: Suite = Suite::ieee(4);
    /// Cipher: BIP-CMAC-128.
    pub const BIP_CMAC_128: Suite = Suite::ieee(6);
    /// Cipher: group addressed traffic not allowed.
    pub const GROUP_NOT_ALLOWED: Suite = Suite::ieee(7);
    /// Cipher: GCMP-128.
    pub const GCMP_128: Suite = Suite::ieee(8);
    /// Cipher: GCMP-256.
    pub const GCMP_256: Suite = Suite::ieee(9);
    /// Cipher: CCMP-256.
    pub const CCMP_256: Suite = Suite::ieee(10);
    /// Cipher: BIP-GMAC-128.
    pub const BIP_GMAC_128: Suite = Suite::ieee(11);
    /// Cipher: BIP-GMAC-256.
    pub const BIP_GMAC_256: Suite = Suite::ieee(12);
    /// Cipher: BIP-CMAC-256.
    pub const BIP_CMAC_256: Suite = Suite::ieee(13);
    /// AKM: 802.1X.
    pub const AKM_8021X: Suite = Suite::ieee(1);
    /// AKM: PSK.
    pub const AKM_PSK: Suite = Suite::ieee(2);
    /// AKM: FT over PSK.
    pub const AKM_FT_PSK: Suite = Suite::ieee(4);
    /// AKM: PSK with SHA-256.
    pub const AKM_PSK_SHA256: Suite = Suite::ieee(6);
    /// AKM: SAE.
    pub const AKM_SAE: Suite = Suite::ieee(8);
    /// AKM: FT over SAE.
    pub const AKM_FT_SAE: Suite = Suite::ieee(9);
    /// AKM: OWE.
    pub const AKM_OWE: Suite = Suite::ieee(18);
    /// AKM: SAE with group-dependent hash (SAE-EXT-KEY), as MLO uses.
    pub const AKM_SAE_EXT_KEY: Suite = Suite::ieee(24);
    /// AKM: FT over SAE-EXT-KEY.
    pub const AKM_FT_SAE_EXT_KEY: Suite = Suite::ieee(25);

    /// From the four wire octets.
    pub fn from_bytes(b: [u8; 4]) -> Suite {
        Suite {
            oui: [b[0], b[1], b[2]],
            kind: b[3],
        }
    }

    /// The four wire octets.
    pub fn to_bytes(self) -> [u8; 4] {
        [self.oui[0], self.oui[1], self.oui[2], self.kind]
    }
}

/// A list of suites: as parsed (wire bytes, a multiple of 4) or as given to emit.
#[derive(Clone, Copy, Debug)]
pub enum SuiteList<'a> {
    /// Wire bytes.
    Wire(&'a [u8]),
    /// Suites.
    Suites(&'a [Suite]),
}

impl<'a> SuiteList<'a> {
    /// Number of suites.
    pub fn len(&self) -> usize {
        match self {
            SuiteList::Wire(b) => b.len() / 4,
            SuiteList::Suites(s) => s.len(),
        }
    }

    /// True for an empty list.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The suites.
    pub fn iter(&self) -> impl Iterator<Item = Suite> + 'a {
        let (wire, suites): (&'a [u8], &'a [Suite]) = match *self {
            SuiteList::Wire(b) => (b, &[]),
            SuiteList::Suites(s) => (&[], s),
        };
        wire.chunks_exact(4)
            .map(|c| Suite::from_bytes([c[0], c[1], c[2], c[3]]))
            .chain(suites.iter().copied())
    }

    /// True if the list holds `suite`.
    pub fn contains(&self, suite: Suite) -> bool {
        self.iter().any(|s| s == suite)
    }
}

impl PartialEq for SuiteList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for SuiteList<'_> {}

/// A list of PMKIDs: as parsed (wire bytes, a multiple of 16) or as given to emit.
#[derive(Clone, Copy, Debug)]
pub enum PmkidList<'a> {
    /// Wire bytes.
    Wire(&'a [u8]),
    /// PMKIDs.
    Ids(&'a [[u8; 16]]),
}

impl<'a> PmkidList<'a> {
    /// Number of PMKIDs.
    pub fn len(&self) -> usize {
        match self {
            PmkidList::Wire(b) => b.len() / 16,
            PmkidList::Ids(s) => s.len(),
        }
    }

    /// True for an empty list.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The PMKIDs.
    pub fn iter(&self) -> impl Iterator<Item = [u8; 16]> + 'a {
        let (wire, ids): (&'a [u8], &'a [[u8; 16]]) = match *self {
            PmkidList::Wire(b) => (b, &[]),
            PmkidList::Ids(s) => (&[], s),
        };
        wire.chunks_exact(16)
            .map(|c| {
                let mut id = [0u8; 16];
                id.copy_from_slice(c);
                id
            })
            .chain(ids.iter().copied())
    }
}

impl PartialEq for PmkidList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for PmkidList<'_> {}

/// RSN Capabilities bits.
pub mod rsn_caps {
    /// Preauthentication.
    pub const PREAUTH: u16 = 1 << 0;
    /// No Pairwise.
    pub const NO_PAIRWISE: u16 = 1 << 1;
    /// PTKSA Replay Counter (B2-B3).
    pub const PTKSA_REPLAY_COUNTER: u16 = 0x000c;
    /// GTKSA Replay Counter (B4-B5).
    pub const GTKSA_REPLAY_COUNTER: u16 = 0x0030;
    /// Management Frame Protection Required.
    pub const MFPR: u16 = 1 << 6;
    /// Management Frame Protection Capable.
    pub const MFPC: u16 = 1 << 7;
    /// Joint Multi-Band RSNA.
    pub const JOINT_MULTIBAND_RSNA: u16 = 1 << 8;
    /// PeerKey Enabled.
    pub const PEERKEY: u16 = 1 << 9;
    /// SPP A-MSDU Capable.
    pub const SPP_AMSDU_CAPABLE: u16 = 1 << 10;
    /// SPP A-MSDU Required.
    pub const SPP_AMSDU_REQUIRED: u16 = 1 << 11;
    /// PBAC.
    pub const PBAC: u16 = 1 << 12;
    /// Extended Key ID for Individually Addressed Frames.
    pub const EXTENDED_KEY_ID: u16 = 1 << 13;
    /// OCVC.
    pub const OCVC: u16 = 1 << 14;
}

/// The RSN element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RsnRepr<'a> {
    /// Version (1).
    pub version: u16,
    /// Group Data Cipher Suite.
    pub group_cipher: Option<Suite>,
    /// Pairwise Cipher Suite List.
    pub pairwise: Option<SuiteList<'a>>,
    /// AKM Suite List.
    pub akms: Option<SuiteList<'a>>,
    /// RSN Capabilities (see [`rsn_caps`]).
    pub capabilities: Option<u16>,
    /// PMKID List.
    pub pmkids: Option<PmkidList<'a>>,
    /// Group Management Cipher Suite.
    pub group_mgmt_cipher: Option<Suite>,
    /// Bytes after the group management cipher.
    pub extra: &'a [u8],
}

impl RsnRepr<'_> {
    /// Management frame protection required (MFPR).
    pub fn mfp_required(&self) -> bool {
        self.capabilities.is_some_and(|c| c & rsn_caps::MFPR != 0)
    }

    /// Management frame protection capable (MFPC).
    pub fn mfp_capable(&self) -> bool {
        self.capabilities.is_some_and(|c| c & rsn_caps::MFPC != 0)
    }

    /// How many optional fields are present, checking they are a prefix.
    fn present(&self) -> Result<usize, Error> {
        let flags = [
            self.group_cipher.is_some(),
            self.pairwise.is_some(),
            self.akms.is_some(),
            self.capabilities.is_some(),
            self.pmkids.is_some(),
            self.group_mgmt_cipher.is_some(),
            !self.extra.is_empty(),
        ];
        let n = flags.iter().take_while(|f| **f).count();
        if flags[n..].iter().any(|f| *f) {
            return Err(Error::Invalid(
                "RSN fields may only be left out from the end",
            ));
        }
        Ok(n)
    }
}

fn suite_list<'a>(cur: &mut &'a [u8]) -> Result<SuiteList<'a>, Error> {
    let n = usize::from(bytes::le16(cur)?);
    Ok(SuiteList::Wire(bytes::take(cur, n * 4)?))
}

fn put_suites(w: &mut Writer<'_>, list: &SuiteList<'_>) -> Result<(), Error> {
    let n = u16::try_from(list.len()).map_err(|_| Error::Invalid("too many suites"))?;
    w.le16(n)?;
    list.iter().try_for_each(|s| w.put(&s.to_bytes()))
}

impl<'a> IeRepr<'a> for RsnRepr<'a> {
    const ID: u8 = id::RSN;
    const EXT: Option<u8> = None;

    fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let mut cur = data;
        let mut rsn = RsnRepr {
            version: bytes::le16(&mut cur)?,
            group_cipher: None,
            pairwise: None,
            akms: None,
            capabilities: None,
            pmkids: None,
            group_mgmt_cipher: None,
            extra: &[],
        };
        if cur.is_empty() {
            return Ok(rsn);
        }
        rsn.group_cipher = Some(Suite::from_bytes(bytes::array(&mut cur)?));
        if cur.is_empty() {
            return Ok(rsn);
        }
        rsn.pairwise = Some(suite_list(&mut cur)?);
        if cur.is_empty() {
            return Ok(rsn);
        }
        rsn.akms = Some(suite_list(&mut cur)?);
        if cur.is_empty() {
            return Ok(rsn);
        }
        rsn.capabilities = Some(bytes::le16(&mut cur)?);
        if cur.is_empty() {
            return Ok(rsn);
        }
        let n = usize::from(bytes::le16(&mut cur)?);
        rsn.pmkids = Some(PmkidList::Wire(bytes::take(&mut cur, n * 16)?));
        if cur.is_empty() {
            return Ok(rsn);
        }
        rsn.group_mgmt_cipher = Some(Suite::from_bytes(bytes::array(&mut cur)?));
        rsn.extra = cur;
        Ok(rsn)
    }

    fn buffer_len(&self) -> usize {
        2 + self.group_cipher.map_or(0, |_| 4)
            + self.pairwise.map_or(0, |l| 2 + 4 * l.len())
            + self.akms.map_or(0, |l| 2 + 4 * l.len())
            + self.capabilities.map_or(0, |_| 2)
            + self.pmkids.map_or(0, |l| 2 + 16 * l.len())
            + self.group_mgmt_cipher.map_or(0, |_| 4)
            + self.extra.len()
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.present()?;
        let mut w = Writer::new(buf);
        w.le16(self.version)?;
        if let Some(s) = self.group_cipher {
            w.put(&s.to_bytes())?;
        }
        if let Some(l) = &self.pairwise {
            put_suites(&mut w, l)?;
        }
        if let Some(l) = &self.akms {
            put_suites(&mut w, l)?;
        }
        if let Some(c) = self.capabilities {
            w.le16(c)?;
        }
        if let Some(l) = &self.pmkids {
            let n = u16::try_from(l.len()).map_err(|_| Error::Invalid("too many PMKIDs"))?;
            w.le16(n)?;
            l.iter().try_for_each(|id| w.put(&id))?;
        }
        if let Some(s) = self.group_mgmt_cipher {
            w.put(&s.to_bytes())?;
        }
        w.put(self.extra)?;
        Ok(w.pos())
    }
}

/// The RSN Extension element: the Extended RSN Capabilities field, whose first four
/// bits give its length in octets minus one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RsnxRepr<'a> {
    /// The field's octets, length subfield included.
    pub capabilities: &'a [u8],
}

impl RsnxRepr<'_> {
    /// Bit `n` of the field (false past its end).
    pub fn bit(&self, n: usize) -> bool {
        self.capabilities
            .get(n / 8)
            .is_some_and(|b| b & (1 << (n % 8)) != 0)
    }

    /// Field Length subfield: octets in the field minus one.
    pub fn field_length(&self) -> u8 {
        self.capabilities.first().map_or(0, |b| b & 0x0f)
    }

    /// Protected TWT Operations Support (B4).
    pub fn protected_twt(&self) -> bool {
        self.bit(4)
    }

    /// SAE Hash-to-Element (B5).
    pub fn sae_h2e(&self) -> bool {
        self.bit(5)
    }

    /// SAE-PK (B6).
    pub fn sae_pk(&self) -> bool {
        self.bit(6)
    }
}

impl<'a> IeRepr<'a> for RsnxRepr<'a> {
    const ID: u8 = id::RSNX;
    const EXT: Option<u8> = None;

    fn parse(data: &'a [u8]) -> Result<Self, Error> {
        if data.is_empty() {
            return Err(Error::Truncated);
        }
        Ok(RsnxRepr { capabilities: data })
    }

    fn buffer_len(&self) -> usize {
        self.capabilities.len()
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.capabilities.is_empty() {
            return Err(Error::Invalid("RSNXE needs at least one octet"));
        }
        let mut w = Writer::new(buf);
        w.put(self.capabilities)?;
        Ok(w.pos())
    }
}
