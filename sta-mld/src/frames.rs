//! The frames the demo's non-AP MLD sends, built to the standard's layouts so that Wireshark
//! decodes every field: ML probe request, Open System authentication, association request with
//! per-STA profiles, RSNE (OWE) and OWE DH Parameter element, deauthentication. (The AP MLD's
//! frames come from the built-in AP MLD, crate `hwsim-ap`.)
//!
//! Each link has its own set of link-specific elements ([`link_elements`]: rates, HT/VHT/HE/EHT
//! capabilities as the band allows). A per-STA profile for link L reported in a
//! frame sent on link R carries L's elements that differ from R's, and a Non-Inheritance element
//! naming R's elements that L does not have (e.g. the 2.4 GHz profile in a 5 GHz frame must not
//! inherit VHT Capabilities) — the inheritance rules of IEEE 802.11be-2024 35.3.3.4.

use hwsim_frame::ie::{
    self, id, CommonInfo, EhtCapabilitiesRepr, IeRepr, LinkInfoRepr, MultiLinkRepr, MultiLinkType,
    PerStaProfileRepr, PmkidList, RsnRepr, StaControl, StaInfo, Suite, SuiteList,
};
use hwsim_frame::mac::{mgmt_subtype, MgmtBuilder, MgmtHeaderRepr};
use hwsim_frame::MacAddr;

/// A management frame from `addr2` to `addr1` in BSS `addr3` (sequence number 1).
fn mgmt_frame(subtype: u8, addr1: MacAddr, addr2: MacAddr, addr3: MacAddr, body: &[u8]) -> Vec<u8> {
    let header = MgmtHeaderRepr::new(subtype, addr1, addr2, addr3, 1);
    MgmtBuilder::new(&header).bytes(body).finish()
}

/// The demo's SSID.
pub const SSID: &[u8] = b"vhost-hwsim-mlo";

/// Element IDs not named in `hwsim_frame::ie::id`.
mod eid {
    pub const SUPPORTED_RATES: u8 = 1;
    pub const HT_CAPABILITIES: u8 = 45;
    pub const EXT_SUPPORTED_RATES: u8 = 50;
    pub const VHT_CAPABILITIES: u8 = 191;
    /// Extension IDs.
    pub const EXT_NON_INHERITANCE: u8 = 56;
    pub const EXT_HE_6GHZ_BAND_CAPABILITIES: u8 = 59;
}

/// Capability Information bits.
mod capability {
    pub const ESS: u16 = 1 << 0;
    pub const PRIVACY: u16 = 1 << 4;
    pub const SHORT_SLOT_TIME: u16 = 1 << 10;
}

/// Band of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band {
    /// 2.4 GHz, 20 MHz.
    G2,
    /// 5 GHz, 80 MHz.
    G5,
    /// 6 GHz, 80 MHz.
    G6,
}

/// One link of the AP MLD: where it operates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkChannel {
    /// Link ID.
    pub id: u8,
    /// Band.
    pub band: Band,
    /// Primary channel number.
    pub channel: u8,
    /// Primary channel centre frequency, MHz.
    pub freq: u32,
    /// Global operating class of the BSS's width (802.11-2020 Table E-4).
    pub op_class: u8,
    /// Width, MHz.
    pub width_mhz: u32,
}

/// The three links: 2.4 GHz channel 1 (20 MHz), 5 GHz channel 36 (80 MHz, centre 42), 6 GHz
/// channel 37 (80 MHz, centre 39) — as the built-in AP MLD of the demo operates them.
pub const LINKS: [LinkChannel; 3] = [
    LinkChannel {
        id: 0,
        band: Band::G2,
        channel: 1,
        freq: 2412,
        op_class: 81,
        width_mhz: 20,
    },
    LinkChannel {
        id: 1,
        band: Band::G5,
        channel: 36,
        freq: 5180,
        op_class: 128,
        width_mhz: 80,
    },
    LinkChannel {
        id: 2,
        band: Band::G6,
        channel: 37,
        freq: 6135,
        op_class: 133,
        width_mhz: 80,
    },
];

/// One element, whole (header included), with its ID and extension ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ie {
    id: u8,
    ext: Option<u8>,
    bytes: Vec<u8>,
}

impl Ie {
    fn new(id: u8, ext: Option<u8>, data: &[u8]) -> Ie {
        let mut bytes = vec![0u8; ie::element_len(ext, data.len())];
        let n = ie::write_element(&mut bytes, id, ext, data)
            .expect("a buffer of element_len bytes holds the element");
        bytes.truncate(n);
        Ie { id, ext, bytes }
    }

    fn from_repr<'a, R: IeRepr<'a>>(repr: &R) -> Ie {
        let mut bytes = vec![0u8; repr.element_len()];
        let n = repr
            .emit_element(&mut bytes)
            .expect("a buffer of element_len bytes holds the element");
        bytes.truncate(n);
        Ie {
            id: R::ID,
            ext: R::EXT,
            bytes,
        }
    }

    fn same_kind(&self, other: &Ie) -> bool {
        (self.id, self.ext) == (other.id, other.ext)
    }
}

fn concat(ies: &[&Ie]) -> Vec<u8> {
    ies.iter().flat_map(|e| e.bytes.iter().copied()).collect()
}

/// Capability Information of a link.
pub fn capability(link: &LinkChannel) -> u16 {
    let mut c = capability::ESS | capability::PRIVACY;
    if link.band == Band::G2 {
        c |= capability::SHORT_SLOT_TIME;
    }
    c
}

/// HE PHY Capabilities byte 0, Channel Width Set: B1 40 MHz in 2.4 GHz, B2 40/80 MHz in 5/6 GHz,
/// B3 160 MHz in 5/6 GHz.
fn he_phy_widths(band: Band) -> u8 {
    match band {
        Band::G2 => 0x02,
        Band::G5 => 0x04,
        Band::G6 => 0x04 | 0x08,
    }
}

/// The elements specific to a link a non-AP STA of the MLD sends, in frame order: rates,
/// HT/VHT/HE/EHT capabilities as the band allows. Two spatial streams throughout.
pub fn link_elements(link: &LinkChannel) -> Vec<Ie> {
    let mut v = Vec::new();
    match link.band {
        Band::G2 => {
            v.push(Ie::new(
                eid::SUPPORTED_RATES,
                None,
                &[0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24],
            ));
            v.push(Ie::new(
                eid::EXT_SUPPORTED_RATES,
                None,
                &[0x30, 0x48, 0x60, 0x6c],
            ));
        }
        Band::G5 | Band::G6 => v.push(Ie::new(
            eid::SUPPORTED_RATES,
            None,
            &[0x8c, 0x12, 0x98, 0x24, 0xb0, 0x48, 0x60, 0x6c],
        )),
    }
    if link.band != Band::G6 {
        v.push(Ie::new(eid::HT_CAPABILITIES, None, &ht_capabilities()));
    }
    if link.band == Band::G5 {
        // VHT Capabilities Info: RX LDPC, short GI 80, max A-MPDU exponent 7; MCS 0-9 on
        // 2 streams both ways.
        let mut vht = 0x0380_0030u32.to_le_bytes().to_vec();
        vht.extend_from_slice(&[0xfa, 0xff, 0, 0, 0xfa, 0xff, 0, 0]);
        v.push(Ie::new(eid::VHT_CAPABILITIES, None, &vht));
    }
    v.push(Ie::new(
        id::EXTENSION,
        Some(ie::ext_id::HE_CAPABILITIES),
        &he_capabilities(link.band),
    ));
    if link.band == Band::G6 {
        // HE 6 GHz Band Capabilities: min MPDU start spacing 0, max A-MPDU exponent 7,
        // max MPDU 11454, SM power save disabled.
        v.push(Ie::new(
            id::EXTENSION,
            Some(eid::EXT_HE_6GHZ_BAND_CAPABILITIES),
            &[0xb8, 0x06],
        ));
    }
    v.push(eht_capabilities(link.band));
    v
}

/// HT Capabilities: LDPC, 20/40 MHz (as the HE capabilities say on 2.4 GHz too), SM power
/// save disabled, short GI; MCS 0-15. (What the BSS operates bounds what is used.)
fn ht_capabilities() -> [u8; 26] {
    let info: u16 = 0x006f;
    let mut d = [0u8; 26];
    d[..2].copy_from_slice(&info.to_le_bytes());
    d[2] = 0x1b; // max A-MPDU 64 KiB, min MPDU start spacing 8 µs
    d[3] = 0xff; // RX MCS bitmask: MCS 0-15
    d[4] = 0xff;
    d[15] = 0x01; // TX MCS set defined
    d
}

/// HE Capabilities: HE MAC capabilities (6), PHY capabilities (11), then HE-MCS maps (MCS 0-11
/// on 2 streams) for ≤ 80 MHz and, with 160 MHz, for 160 MHz.
fn he_capabilities(band: Band) -> Vec<u8> {
    let mut d = vec![0x01, 0, 0, 0, 0, 0]; // +HTC-HE support
    let mut phy = [0u8; 11];
    phy[0] = he_phy_widths(band);
    phy[1] = 0x20; // LDPC coding in payload
    d.extend_from_slice(&phy);
    let map = [0xfa, 0xff, 0xfa, 0xff];
    d.extend_from_slice(&map);
    if band == Band::G6 {
        d.extend_from_slice(&map);
    }
    d
}

/// EHT Capabilities: 320 MHz in 6 GHz; EHT-MCS 0-13 on 2 streams for each width the HE
/// capabilities announce (≤ 80, 160, 320 MHz).
fn eht_capabilities(band: Band) -> Ie {
    let mut phy = [0u8; 9];
    if band == Band::G6 {
        phy[0] = 0x02; // 320 MHz in 6 GHz
    }
    let per_width = [0x22, 0x22, 0x22];
    let widths = if band == Band::G6 { 3 } else { 1 };
    let mcs: Vec<u8> = per_width.repeat(widths);
    Ie::from_repr(&EhtCapabilitiesRepr {
        mac_capabilities: 0,
        phy_capabilities: phy,
        mcs_nss_ppe: &mcs,
    })
}

/// The non-AP MLD's RSNE: OWE (AKM 00-0F-AC:18), CCMP-128, management frame protection
/// required, BIP-CMAC-128 for group management frames. Sent in the association request and,
/// byte for byte, in EAPOL-Key message 2.
pub fn owe_rsne() -> Vec<u8> {
    Ie::from_repr(&RsnRepr {
        version: 1,
        group_cipher: Some(Suite::CCMP_128),
        pairwise: Some(SuiteList::Suites(&[Suite::CCMP_128])),
        akms: Some(SuiteList::Suites(&[Suite::AKM_OWE])),
        capabilities: Some(ie::rsn_caps::MFPC | ie::rsn_caps::MFPR),
        pmkids: Some(PmkidList::Ids(&[])),
        group_mgmt_cipher: Some(Suite::BIP_CMAC_128),
        extra: &[],
    })
    .bytes
}

fn ssid() -> Ie {
    Ie::new(id::SSID, None, SSID)
}

/// The STA Profile of link `l` reported in a frame sent on link `r`: fixed fields, then `l`'s
/// elements that differ from `r`'s, then a Non-Inheritance element naming `r`'s elements that
/// `l` lacks.
fn sta_profile(fixed: &[u8], l: &[Ie], r: &[Ie]) -> Vec<u8> {
    let mut out = fixed.to_vec();
    for e in l {
        if !r.contains(e) {
            out.extend_from_slice(&e.bytes);
        }
    }
    let missing: Vec<&Ie> = r
        .iter()
        .filter(|e| !l.iter().any(|x| x.same_kind(e)))
        .collect();
    if !missing.is_empty() {
        let ids: Vec<u8> = missing
            .iter()
            .filter(|e| e.ext.is_none())
            .map(|e| e.id)
            .collect();
        let exts: Vec<u8> = missing.iter().filter_map(|e| e.ext).collect();
        let mut data = vec![ids.len() as u8];
        data.extend_from_slice(&ids);
        data.push(exts.len() as u8);
        data.extend_from_slice(&exts);
        out.extend_from_slice(&Ie::new(id::EXTENSION, Some(eid::EXT_NON_INHERITANCE), &data).bytes);
    }
    out
}

/// MLD Capabilities And Operations: Maximum Number Of Simultaneous Links 2 (i.e. three).
const MLD_CAPABILITIES: u16 = 0x0002;

fn ml_element(repr: &MultiLinkRepr<'_>) -> Ie {
    Ie::from_repr(repr)
}

/// The addresses of the AP MLD: its MLD address and one BSSID per link (index = link ID).
#[derive(Clone, Copy, Debug)]
pub struct ApMld {
    /// MLD MAC address.
    pub mld: MacAddr,
    /// Affiliated APs' addresses (BSSIDs).
    pub links: [MacAddr; 3],
}

/// The addresses of the non-AP MLD.
#[derive(Clone, Copy, Debug)]
pub struct StaMld {
    /// MLD MAC address.
    pub mld: MacAddr,
    /// Affiliated STAs' addresses.
    pub links: [MacAddr; 3],
}

/// An ML probe request from the STA on `link` to that link's AP, requesting complete profiles
/// of the other links.
pub fn ml_probe_request(ap: &ApMld, sta: &StaMld, link: &LinkChannel, seq: u16) -> Vec<u8> {
    let links = LINKS
        .iter()
        .filter(|l| l.id != link.id)
        .map(|l| {
            LinkInfoRepr::PerStaProfile(PerStaProfileRepr {
                control: StaControl(u16::from(l.id) | ie::sta_control::COMPLETE_PROFILE),
                info: None,
                profile: &[],
            })
        })
        .collect();
    let ml = ml_element(&MultiLinkRepr {
        kind: MultiLinkType::ProbeRequest,
        common: CommonInfo::default(),
        links,
    });
    let own = link_elements(link);
    let mut body = ssid().bytes;
    body.extend(concat(&own.iter().collect::<Vec<_>>()));
    body.extend_from_slice(&ml.bytes);
    let bssid = ap.links[usize::from(link.id)];
    with_seq(
        mgmt_frame(
            mgmt_subtype::PROBE_REQ,
            bssid,
            sta.links[usize::from(link.id)],
            bssid,
            &body,
        ),
        seq,
    )
}

/// Open System authentication, transaction `seq_no` (1 request, 2 response), with a Basic
/// Multi-Link element carrying the sender's MLD address (802.11be-2024 35.3.5.2).
pub fn authentication(
    from: MacAddr,
    to: MacAddr,
    bssid: MacAddr,
    sender_mld: MacAddr,
    seq_no: u16,
    seq: u16,
) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&0u16.to_le_bytes()); // Open System
    body.extend_from_slice(&seq_no.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes()); // status: success
    let ml = ml_element(&MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: CommonInfo {
            mld_addr: Some(sender_mld),
            ..CommonInfo::default()
        },
        links: Vec::new(),
    });
    body.extend_from_slice(&ml.bytes);
    with_seq(mgmt_frame(mgmt_subtype::AUTH, to, from, bssid, &body), seq)
}

/// The association request the STA sends on `link`: per-STA profiles (with its address and its
/// own capabilities there) for the other two links, `rsne` after the rates and `owe_dh` (the
/// whole OWE DH Parameter element) last.
pub fn assoc_request(
    ap: &ApMld,
    sta: &StaMld,
    link: &LinkChannel,
    rsne: &[u8],
    owe_dh: &[u8],
    seq: u16,
) -> Vec<u8> {
    let own = link_elements(link);
    let profiles: Vec<(u8, Vec<u8>)> = LINKS
        .iter()
        .filter(|l| l.id != link.id)
        .map(|l| {
            let fixed = capability(l).to_le_bytes();
            (l.id, sta_profile(&fixed, &link_elements(l), &own))
        })
        .collect();
    let ml = ml_element(&MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: CommonInfo {
            mld_addr: Some(sta.mld),
            mld_capabilities: Some(MLD_CAPABILITIES),
            ..CommonInfo::default()
        },
        links: profiles
            .iter()
            .map(|(id, p)| {
                LinkInfoRepr::PerStaProfile(PerStaProfileRepr {
                    control: StaControl(u16::from(*id) | ie::sta_control::COMPLETE_PROFILE),
                    info: Some(StaInfo {
                        mac_addr: Some(sta.links[usize::from(*id)]),
                        ..StaInfo::default()
                    }),
                    profile: p,
                })
            })
            .collect(),
    });
    let mut body = capability(link).to_le_bytes().to_vec();
    body.extend_from_slice(&10u16.to_le_bytes()); // listen interval
    body.extend_from_slice(&ssid().bytes);
    let (rates, rest): (Vec<Ie>, Vec<Ie>) = own
        .into_iter()
        .partition(|e| matches!(e.id, eid::SUPPORTED_RATES | eid::EXT_SUPPORTED_RATES));
    body.extend(concat(&rates.iter().collect::<Vec<_>>()));
    body.extend_from_slice(rsne);
    insert_ml_after_he(&mut body, &rest, &ml);
    body.extend_from_slice(owe_dh);
    let bssid = ap.links[usize::from(link.id)];
    with_seq(
        mgmt_frame(
            mgmt_subtype::ASSOC_REQ,
            bssid,
            sta.links[usize::from(link.id)],
            bssid,
            &body,
        ),
        seq,
    )
}

/// Appends `own`'s elements with the Multi-Link element between the HE and the EHT ones.
fn insert_ml_after_he(body: &mut Vec<u8>, own: &[Ie], ml: &Ie) {
    let is_eht = |e: &&Ie| {
        matches!(
            e.ext,
            Some(ie::ext_id::EHT_CAPABILITIES | ie::ext_id::EHT_OPERATION)
        )
    };
    let (eht, rest): (Vec<&Ie>, Vec<&Ie>) = own.iter().partition(is_eht);
    body.extend(concat(&rest));
    body.extend_from_slice(&ml.bytes);
    body.extend(concat(&eht));
}

/// Deauthentication (reason 3: leaving), unprotected; the caller protects it under PMF.
pub fn deauthentication(from: MacAddr, to: MacAddr, bssid: MacAddr, seq: u16) -> Vec<u8> {
    with_seq(
        mgmt_frame(mgmt_subtype::DEAUTH, to, from, bssid, &3u16.to_le_bytes()),
        seq,
    )
}

fn with_seq(mut frame: Vec<u8>, seq: u16) -> Vec<u8> {
    frame[22..24].copy_from_slice(&(seq << 4).to_le_bytes());
    frame
}

#[cfg(test)]
mod tests {
    use hwsim_frame::ie::{sta_profile_fixed_len, Elements};
    use hwsim_frame::mac::Frame;

    use super::*;

    const AP: ApMld = ApMld {
        mld: MacAddr([2, 0xa0, 0, 0, 0, 1]),
        links: [
            MacAddr([2, 0xa0, 0, 0, 1, 0]),
            MacAddr([2, 0xa0, 0, 0, 1, 1]),
            MacAddr([2, 0xa0, 0, 0, 1, 2]),
        ],
    };
    const STA: StaMld = StaMld {
        mld: MacAddr([2, 0x50, 0, 0, 0, 1]),
        links: [
            MacAddr([2, 0x50, 0, 0, 1, 0]),
            MacAddr([2, 0x50, 0, 0, 1, 1]),
            MacAddr([2, 0x50, 0, 0, 1, 2]),
        ],
    };

    /// (element ID, extension ID) of each element in `bytes`; every element must parse.
    fn kinds(bytes: &[u8]) -> Vec<(u8, Option<u8>)> {
        Elements::new(bytes)
            .map(|e| {
                let e = e.expect("well-formed elements");
                (e.id, e.ext)
            })
            .collect()
    }

    /// The Non-Inheritance element's (element IDs, extension IDs) among `bytes`.
    fn non_inheritance(bytes: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        let e = Elements::new(bytes)
            .flatten()
            .find(|e| e.ext == Some(eid::EXT_NON_INHERITANCE))?;
        let n = usize::from(e.data[0]);
        let ids = e.data[1..1 + n].to_vec();
        let m = usize::from(e.data[1 + n]);
        Some((ids, e.data[2 + n..2 + n + m].to_vec()))
    }

    /// A per-STA profile: link ID, address, profile bytes.
    type Profile = (u8, Option<MacAddr>, Vec<u8>);

    /// The Basic Multi-Link element of a management frame, and its per-STA profiles.
    fn ml_of(frame: &[u8]) -> (CommonInfo<'static>, Vec<Profile>) {
        let f = Frame::new_checked(frame).unwrap();
        let e = ie::mgmt_body_elements(&f)
            .unwrap()
            .map(|e| e.expect("well-formed elements"))
            .find(|e| e.ext == Some(ie::ext_id::MULTI_LINK))
            .expect("a Multi-Link element");
        let mut scratch = vec![0u8; e.len()];
        let ml = MultiLinkRepr::parse_defragment(&e, &mut scratch).unwrap();
        let common = CommonInfo {
            extra: &[],
            ..ml.common
        };
        let profiles = ml
            .per_sta_profiles()
            .map(|p| (p.link_id(), p.mac_addr(), p.profile.to_vec()))
            .collect();
        (common, profiles)
    }

    #[test]
    fn association_request_profiles_carry_link_capabilities_and_non_inheritance() {
        let req = assoc_request(&AP, &STA, &LINKS[1], &owe_rsne(), &[], 1);
        let (common, profiles) = ml_of(&req);
        assert_eq!(common.mld_addr, Some(STA.mld));
        assert_eq!(common.link_id_info, None, "a non-AP MLD names no link");
        let fixed = sta_profile_fixed_len(mgmt_subtype::ASSOC_REQ).unwrap();
        let ids: Vec<u8> = profiles.iter().map(|p| p.0).collect();
        assert_eq!(ids, [0, 2]);
        for (id, addr, profile) in &profiles {
            assert_eq!(*addr, Some(STA.links[usize::from(*id)]));
            let link = &LINKS[usize::from(*id)];
            assert_eq!(profile[..2], capability(link).to_le_bytes());
            let kinds = kinds(&profile[fixed..]);
            let has = |k: (u8, Option<u8>)| kinds.contains(&k);
            let (ids, exts) =
                non_inheritance(&profile[fixed..]).expect("a Non-Inheritance element");
            assert!(exts.is_empty());
            if *id == 0 {
                // 2.4 GHz: its own rates (HT is the same as on 5 GHz: inherited); no VHT, and
                // the 5 GHz VHT must not be inherited.
                assert!(has((eid::SUPPORTED_RATES, None)) && !has((eid::HT_CAPABILITIES, None)));
                assert!(!has((eid::VHT_CAPABILITIES, None)));
                assert_eq!(ids, [eid::VHT_CAPABILITIES]);
            } else {
                // 6 GHz: HE 6 GHz band capabilities; neither HT nor VHT inherited.
                assert!(has((
                    id::EXTENSION,
                    Some(eid::EXT_HE_6GHZ_BAND_CAPABILITIES)
                )));
                assert!(!has((eid::HT_CAPABILITIES, None)));
                assert_eq!(ids, [eid::HT_CAPABILITIES, eid::VHT_CAPABILITIES]);
            }
        }
    }

    #[test]
    fn probe_request_asks_for_the_other_links_complete_profiles() {
        let p = ml_probe_request(&AP, &STA, &LINKS[1], 1);
        let f = Frame::new_checked(&p[..]).unwrap();
        let e = ie::mgmt_body_elements(&f)
            .unwrap()
            .flatten()
            .find(|e| e.ext == Some(ie::ext_id::MULTI_LINK))
            .unwrap();
        let ml = MultiLinkRepr::parse(e.data).unwrap();
        assert_eq!(ml.kind, MultiLinkType::ProbeRequest);
        let asked: Vec<(u8, bool)> = ml
            .per_sta_profiles()
            .map(|p| (p.link_id(), p.control.complete_profile()))
            .collect();
        assert_eq!(asked, [(0, true), (2, true)]);
    }
}
