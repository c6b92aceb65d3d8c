//! The frames of the multi-link demo, built to the standard's layouts so that Wireshark decodes
//! every field: beacons, ML probe request / response, Open System authentication, association
//! request / response with per-STA profiles, QoS data and deauthentication.
//!
//! Each link has its own set of link-specific elements ([`link_elements`]: rates, HT/VHT/HE/EHT
//! capabilities and operation as the band allows). A per-STA profile for link L reported in a
//! frame sent on link R carries L's elements that differ from R's, and a Non-Inheritance element
//! naming R's elements that L does not have (e.g. the 2.4 GHz profile in a 5 GHz frame must not
//! inherit VHT Capabilities) — the inheritance rules of IEEE 802.11be-2024 35.3.3.4.

use hwsim_frame::ie::{
    self, id, CommonInfo, DtimInfo, EhtCapabilitiesRepr, EhtOperationInfo, EhtOperationRepr,
    IeRepr, LinkInfoRepr, MultiLinkRepr, MultiLinkType, PerStaProfileRepr, RsnRepr, RsnxRepr,
    StaControl, StaInfo, Suite, SuiteList,
};
use hwsim_frame::mac::mgmt_subtype;
use hwsim_frame::MacAddr;

use crate::mld::build::{mgmt_frame, rnr_same_mld_ssid};

/// The demo's SSID.
pub const SSID: &[u8] = b"vhost-hwsim-mlo";

/// Element IDs not named in `hwsim_frame::ie::id`.
mod eid {
    pub const SUPPORTED_RATES: u8 = 1;
    pub const DS_PARAMS: u8 = 3;
    pub const TIM: u8 = 5;
    pub const HT_CAPABILITIES: u8 = 45;
    pub const EXT_SUPPORTED_RATES: u8 = 50;
    pub const HT_OPERATION: u8 = 61;
    pub const VHT_CAPABILITIES: u8 = 191;
    pub const VHT_OPERATION: u8 = 192;
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
    /// 6 GHz, 320 MHz.
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
/// channel 37 (320 MHz channel 320-1, centre 31; its 160 MHz segment centred on 47).
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
        op_class: 137,
        width_mhz: 320,
    },
];

/// Who sends an element set: operation elements come from APs only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// An AP affiliated with the AP MLD.
    Ap,
    /// A non-AP STA affiliated with the non-AP MLD.
    Sta,
}

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

/// The elements specific to a link, in frame order, for an AP (with operation elements) or a
/// non-AP STA. Two spatial streams throughout.
pub fn link_elements(link: &LinkChannel, role: Role) -> Vec<Ie> {
    let ap = role == Role::Ap;
    let mut v = Vec::new();
    match link.band {
        Band::G2 => {
            v.push(Ie::new(
                eid::SUPPORTED_RATES,
                None,
                &[0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24],
            ));
            if ap {
                v.push(Ie::new(eid::DS_PARAMS, None, &[link.channel]));
            }
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
        v.push(Ie::new(eid::HT_CAPABILITIES, None, &ht_capabilities(link)));
        if ap {
            v.push(Ie::new(eid::HT_OPERATION, None, &ht_operation(link)));
        }
    }
    if link.band == Band::G5 {
        // VHT Capabilities Info: RX LDPC, short GI 80, max A-MPDU exponent 7; MCS 0-9 on
        // 2 streams both ways.
        let mut vht = 0x0380_0030u32.to_le_bytes().to_vec();
        vht.extend_from_slice(&[0xfa, 0xff, 0, 0, 0xfa, 0xff, 0, 0]);
        v.push(Ie::new(eid::VHT_CAPABILITIES, None, &vht));
        if ap {
            // 80 MHz, centre channel 42; basic MCS 0-7 on one stream.
            v.push(Ie::new(eid::VHT_OPERATION, None, &[1, 42, 0, 0xfc, 0xff]));
        }
    }
    v.push(Ie::new(
        id::EXTENSION,
        Some(ie::ext_id::HE_CAPABILITIES),
        &he_capabilities(link.band),
    ));
    if ap {
        v.push(Ie::new(
            id::EXTENSION,
            Some(ie::ext_id::HE_OPERATION),
            &he_operation(link),
        ));
    }
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
    if ap {
        v.push(eht_operation(link));
    }
    v
}

/// HT Capabilities: LDPC, SM power save disabled, short GI, 40 MHz on 5 GHz; MCS 0-15.
fn ht_capabilities(link: &LinkChannel) -> [u8; 26] {
    let info: u16 = if link.band == Band::G2 {
        0x006d
    } else {
        0x006f
    };
    let mut d = [0u8; 26];
    d[..2].copy_from_slice(&info.to_le_bytes());
    d[2] = 0x1b; // max A-MPDU 64 KiB, min MPDU start spacing 8 µs
    d[3] = 0xff; // RX MCS bitmask: MCS 0-15
    d[4] = 0xff;
    d[15] = 0x01; // TX MCS set defined
    d
}

/// HT Operation: primary channel; on 5 GHz a secondary channel above and any width.
fn ht_operation(link: &LinkChannel) -> [u8; 22] {
    let mut d = [0u8; 22];
    d[0] = link.channel;
    d[1] = if link.band == Band::G5 { 0x05 } else { 0x00 };
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

/// HE Operation: default PE 0, TXOP RTS threshold disabled (1023), BSS color 1, basic HE-MCS
/// 0-7 on one stream; on 6 GHz the 6 GHz Operation Information (160 MHz: CCFS0 the 80 MHz
/// segment of the primary channel, CCFS1 the 160 MHz channel).
fn he_operation(link: &LinkChannel) -> Vec<u8> {
    let six = link.band == Band::G6;
    let params: u32 = 0x3ff << 4 | u32::from(six) << 17;
    let p = params.to_le_bytes();
    let mut d = vec![p[0], p[1], p[2], 0x01, 0xfc, 0xff];
    if six {
        // Primary channel, control (width 3 = 160 MHz), CCFS0 39, CCFS1 47, min rate 6 Mb/s.
        d.extend_from_slice(&[link.channel, 0x03, 39, 47, 6]);
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

/// EHT Operation: basic EHT-MCS 0-7 on one stream; on 6 GHz the EHT Operation Information for
/// 320 MHz (CCFS0 the 160 MHz segment of the primary channel, CCFS1 the 320 MHz channel).
fn eht_operation(link: &LinkChannel) -> Ie {
    let info = (link.band == Band::G6).then_some(EhtOperationInfo {
        control: 4,
        ccfs0: 47,
        ccfs1: 31,
        disabled_subchannels: None,
    });
    Ie::from_repr(&EhtOperationRepr {
        params: 0,
        basic_mcs_nss: [0x11, 0, 0, 0],
        info,
        extra: &[],
    })
}

fn ssid() -> Ie {
    Ie::new(id::SSID, None, SSID)
}

/// RSNE: CCMP-128, SAE, management frame protection capable.
fn rsne() -> Ie {
    Ie::from_repr(&RsnRepr {
        version: 1,
        group_cipher: Some(Suite::CCMP_128),
        pairwise: Some(SuiteList::Suites(&[Suite::CCMP_128])),
        akms: Some(SuiteList::Suites(&[Suite::AKM_SAE])),
        capabilities: Some(ie::rsn_caps::MFPC),
        pmkids: None,
        group_mgmt_cipher: None,
        extra: &[],
    })
}

/// RSNXE: SAE hash-to-element (bit 5; length subfield 0 = one octet).
fn rsnxe() -> Ie {
    Ie::from_repr(&RsnxRepr {
        capabilities: &[0x20],
    })
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

/// A per-STA profile of an AP (complete profile): its address, beacon interval, TSF offset,
/// DTIM info and BSS parameters change count, then `profile`.
fn ap_profile(link_id: u8, addr: MacAddr, profile: &[u8]) -> LinkInfoRepr<'_> {
    LinkInfoRepr::PerStaProfile(PerStaProfileRepr {
        control: StaControl(u16::from(link_id) | ie::sta_control::COMPLETE_PROFILE),
        info: Some(StaInfo {
            mac_addr: Some(addr),
            beacon_interval: Some(100),
            tsf_offset: Some(0),
            dtim: Some(DtimInfo {
                count: 0,
                period: 1,
            }),
            bss_params_change_count: Some(0),
            ..StaInfo::default()
        }),
        profile,
    })
}

/// The AP MLD's Basic Multi-Link common info as sent on link `link_id`.
fn ap_common(mld: MacAddr, link_id: u8) -> CommonInfo<'static> {
    CommonInfo {
        mld_addr: Some(mld),
        link_id_info: Some(link_id),
        bss_params_change_count: Some(0),
        mld_capabilities: Some(MLD_CAPABILITIES),
        ..CommonInfo::default()
    }
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

fn beacon_like_body(tsf_us: u64, link: &LinkChannel) -> Vec<u8> {
    let mut b = tsf_us.to_le_bytes().to_vec();
    b.extend_from_slice(&100u16.to_le_bytes());
    b.extend_from_slice(&capability(link).to_le_bytes());
    b
}

/// RNR naming the AP MLD's other links (AP MLD ID 0: the same MLD).
fn rnr(ap: &ApMld, except: u8) -> Vec<u8> {
    let entries: Vec<(u8, u8, MacAddr, u8)> = LINKS
        .iter()
        .filter(|l| l.id != except)
        .map(|l| (l.op_class, l.channel, ap.links[usize::from(l.id)], l.id))
        .collect();
    rnr_same_mld_ssid(&entries, Some(SSID))
}

/// Appends the elements a beacon and a probe response share, in the order of 802.11-2020
/// Table 9-32; `tim` goes after the link's DS Parameter Set, `ml` after the HE elements.
fn ap_elements(out: &mut Vec<u8>, ap: &ApMld, link: &LinkChannel, tim: bool, ml: &Ie) {
    let own = link_elements(link, Role::Ap);
    let kinds = |ids: &[u8]| -> Vec<&Ie> {
        own.iter()
            .filter(|e| e.ext.is_none() && ids.contains(&e.id))
            .collect()
    };
    out.extend_from_slice(&ssid().bytes);
    out.extend(concat(&kinds(&[eid::SUPPORTED_RATES, eid::DS_PARAMS])));
    if tim {
        // DTIM count 0, period 1, no buffered traffic.
        out.extend_from_slice(&Ie::new(eid::TIM, None, &[0, 1, 0, 0]).bytes);
    }
    out.extend(concat(&kinds(&[eid::EXT_SUPPORTED_RATES])));
    out.extend_from_slice(&rsne().bytes);
    out.extend(concat(&kinds(&[eid::HT_CAPABILITIES, eid::HT_OPERATION])));
    out.extend_from_slice(&rnr(ap, link.id));
    out.extend(concat(&kinds(&[eid::VHT_CAPABILITIES, eid::VHT_OPERATION])));
    out.extend_from_slice(&rsnxe().bytes);
    let ext: Vec<&Ie> = own.iter().filter(|e| e.ext.is_some()).collect();
    let (eht, he): (Vec<&Ie>, Vec<&Ie>) = ext.into_iter().partition(|e| {
        matches!(
            e.ext,
            Some(ie::ext_id::EHT_CAPABILITIES | ie::ext_id::EHT_OPERATION)
        )
    });
    out.extend(concat(&he));
    out.extend_from_slice(&ml.bytes);
    out.extend(concat(&eht));
}

/// A beacon of link `link`: Basic Multi-Link element with the common info only, RNR for the
/// other two links.
pub fn beacon(ap: &ApMld, link: &LinkChannel, tsf_us: u64, seq: u16) -> Vec<u8> {
    let bssid = ap.links[usize::from(link.id)];
    let ml = ml_element(&MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: ap_common(ap.mld, link.id),
        links: Vec::new(),
    });
    let mut body = beacon_like_body(tsf_us, link);
    ap_elements(&mut body, ap, link, true, &ml);
    with_seq(
        mgmt_frame(
            mgmt_subtype::BEACON,
            MacAddr::BROADCAST,
            bssid,
            bssid,
            &body,
        ),
        seq,
    )
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
    let own = link_elements(link, Role::Sta);
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

/// The probe response to an ML probe request: complete per-STA profiles for the other links.
pub fn ml_probe_response(
    ap: &ApMld,
    link: &LinkChannel,
    to: MacAddr,
    tsf_us: u64,
    seq: u16,
) -> Vec<u8> {
    let own = link_elements(link, Role::Ap);
    let profiles: Vec<(u8, Vec<u8>)> = LINKS
        .iter()
        .filter(|l| l.id != link.id)
        .map(|l| {
            let fixed = capability(l).to_le_bytes();
            (l.id, sta_profile(&fixed, &link_elements(l, Role::Ap), &own))
        })
        .collect();
    let ml = ml_element(&MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: ap_common(ap.mld, link.id),
        links: profiles
            .iter()
            .map(|(id, p)| ap_profile(*id, ap.links[usize::from(*id)], p))
            .collect(),
    });
    let mut body = beacon_like_body(tsf_us, link);
    ap_elements(&mut body, ap, link, false, &ml);
    let bssid = ap.links[usize::from(link.id)];
    with_seq(
        mgmt_frame(mgmt_subtype::PROBE_RESP, to, bssid, bssid, &body),
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
/// own capabilities there) for the other two links.
pub fn assoc_request(ap: &ApMld, sta: &StaMld, link: &LinkChannel, seq: u16) -> Vec<u8> {
    let own = link_elements(link, Role::Sta);
    let profiles: Vec<(u8, Vec<u8>)> = LINKS
        .iter()
        .filter(|l| l.id != link.id)
        .map(|l| {
            let fixed = capability(l).to_le_bytes();
            (
                l.id,
                sta_profile(&fixed, &link_elements(l, Role::Sta), &own),
            )
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
    insert_ml_after_he(&mut body, &own, &ml);
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

/// The association response on `link`: status 0, AID 1, per-STA profiles with each other
/// link's AP address, capabilities and status 0.
pub fn assoc_response(ap: &ApMld, sta_addr: MacAddr, link: &LinkChannel, seq: u16) -> Vec<u8> {
    let own = link_elements(link, Role::Ap);
    let profiles: Vec<(u8, Vec<u8>)> = LINKS
        .iter()
        .filter(|l| l.id != link.id)
        .map(|l| {
            let mut fixed = capability(l).to_le_bytes().to_vec();
            fixed.extend_from_slice(&0u16.to_le_bytes()); // status: success
            (l.id, sta_profile(&fixed, &link_elements(l, Role::Ap), &own))
        })
        .collect();
    let ml = ml_element(&MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: ap_common(ap.mld, link.id),
        links: profiles
            .iter()
            .map(|(id, p)| ap_profile(*id, ap.links[usize::from(*id)], p))
            .collect(),
    });
    let mut body = capability(link).to_le_bytes().to_vec();
    body.extend_from_slice(&0u16.to_le_bytes()); // status: success
    body.extend_from_slice(&0xc001u16.to_le_bytes()); // AID 1
    insert_ml_after_he(&mut body, &own, &ml);
    let bssid = ap.links[usize::from(link.id)];
    with_seq(
        mgmt_frame(mgmt_subtype::ASSOC_RESP, sta_addr, bssid, bssid, &body),
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

/// Deauthentication (reason 3: leaving).
pub fn deauthentication(from: MacAddr, to: MacAddr, bssid: MacAddr, seq: u16) -> Vec<u8> {
    with_seq(
        mgmt_frame(mgmt_subtype::DEAUTH, to, from, bssid, &3u16.to_le_bytes()),
        seq,
    )
}

/// A QoS data frame (TID 0) with an LLC/SNAP header and a short payload (EtherType 0x88b5,
/// local experimental). `to_ds`: STA to AP (addr1 BSSID, addr3 destination); else AP to STA
/// (addr1 destination, addr2 BSSID, addr3 source).
pub fn qos_data(a1: MacAddr, a2: MacAddr, a3: MacAddr, to_ds: bool, seq: u16) -> Vec<u8> {
    let mut f = vec![0x88, if to_ds { 0x01 } else { 0x02 }, 0, 0];
    f.extend_from_slice(&a1.0);
    f.extend_from_slice(&a2.0);
    f.extend_from_slice(&a3.0);
    f.extend_from_slice(&(seq << 4).to_le_bytes());
    f.extend_from_slice(&[0, 0]); // QoS Control: TID 0
    f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x88, 0xb5]);
    f.extend_from_slice(b"vhost-hwsim multi-link demo");
    f
}

fn with_seq(mut frame: Vec<u8>, seq: u16) -> Vec<u8> {
    frame[22..24].copy_from_slice(&(seq << 4).to_le_bytes());
    frame
}

#[cfg(test)]
mod tests {
    use hwsim_frame::ie::{sta_profile_fixed_len, Elements, ReducedNeighborReport};
    use hwsim_frame::mac::Frame;

    use super::*;
    use crate::mld::op_class_freq;

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
        let req = assoc_request(&AP, &STA, &LINKS[1], 1);
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
                // 2.4 GHz: its own rates and HT; no VHT, and the 5 GHz VHT must not be inherited.
                assert!(has((eid::SUPPORTED_RATES, None)) && has((eid::HT_CAPABILITIES, None)));
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
    fn association_response_profiles_give_each_link_status_0() {
        let resp = assoc_response(&AP, STA.links[1], &LINKS[1], 1);
        let (common, profiles) = ml_of(&resp);
        assert_eq!((common.mld_addr, common.link_id()), (Some(AP.mld), Some(1)));
        assert_eq!(profiles.len(), 2);
        for (id, addr, profile) in profiles {
            assert_eq!(addr, Some(AP.links[usize::from(id)]));
            assert_eq!(profile[2..4], [0, 0], "status code of link {id}");
            // Elements parse after capability and status.
            kinds(&profile[4..]);
        }
    }

    #[test]
    fn beacons_name_the_other_links_in_the_rnr_with_their_frequencies() {
        for link in &LINKS {
            let b = beacon(&AP, link, 0, 1);
            let (common, profiles) = ml_of(&b);
            assert_eq!(common.mld_addr, Some(AP.mld));
            assert_eq!(common.link_id(), Some(link.id));
            assert_eq!(common.bss_params_change_count, Some(0));
            assert!(profiles.is_empty(), "beacons carry the common info only");
            let f = Frame::new_checked(&b[..]).unwrap();
            let rnr = ie::mgmt_body_elements(&f)
                .unwrap()
                .flatten()
                .find(|e| e.id == id::REDUCED_NEIGHBOR_REPORT)
                .expect("an RNR");
            let mut named = Vec::new();
            for info in ReducedNeighborReport::new(rnr.data) {
                let info = info.unwrap();
                for t in info.tbtt_infos() {
                    let t = t.unwrap();
                    let m = t.mld_params.unwrap();
                    assert_eq!(m.ap_mld_id, 0, "same MLD");
                    assert_eq!(t.bssid, Some(AP.links[usize::from(m.link_id)]));
                    assert_eq!(t.short_ssid, Some(ie::short_ssid(SSID)));
                    let freq = op_class_freq(info.operating_class, info.channel);
                    named.push((m.link_id, freq));
                }
            }
            let want: Vec<(u8, Option<u32>)> = LINKS
                .iter()
                .filter(|l| l.id != link.id)
                .map(|l| (l.id, Some(l.freq)))
                .collect();
            assert_eq!(named, want);
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
