//! The elements each affiliated AP advertises, built once from the config: rates, HT/VHT
//! (where the band has them), HE (with 6 GHz operation / band capabilities on 6 GHz), EHT,
//! WMM, RSNE/RSNXE; plus the MLD-wide ones that change (Basic Multi-Link, RNR,
//! Reconfiguration Multi-Link).
//!
//! Every link is a one-spatial-stream BSS of 20, 40, 80, 160 (5 and 6 GHz) or 320 MHz (6 GHz).
//! HT/VHT/HE operation describe the channel up to 160 MHz; EHT Operation carries its own EHT
//! Operation Information from 160 MHz on (for 320 MHz it is the only place the channel is
//! named: HE stations see its primary 160 MHz).

use hwsim_frame::ie::{
    self, sta_control, CommonInfo, IeRepr, LinkInfoRepr, MldParams, MultiLinkRepr, MultiLinkType,
    NeighborApInfoRepr, PerStaProfileRepr, RsnRepr, StaControl, StaInfo, Suite, SuiteList,
    TbttInfo,
};
use hwsim_frame::MacAddr;

use crate::config::{Band, LinkConfig, Security};

/// Element IDs used here that `hwsim_frame::ie::id` does not name.
pub mod eid {
    /// Supported Rates.
    pub const SUPP_RATES: u8 = 1;
    /// DS Parameter Set.
    pub const DS_PARAMS: u8 = 3;
    /// TIM.
    pub const TIM: u8 = 5;
    /// ERP (2.4 GHz).
    pub const ERP: u8 = 42;
    /// HT Capabilities.
    pub const HT_CAP: u8 = 45;
    /// Extended Supported Rates.
    pub const EXT_RATES: u8 = 50;
    /// HT Operation.
    pub const HT_OP: u8 = 61;
    /// Extended Capabilities.
    pub const EXT_CAP: u8 = 127;
    /// VHT Capabilities.
    pub const VHT_CAP: u8 = 191;
    /// VHT Operation.
    pub const VHT_OP: u8 = 192;
    /// Extension: OWE Diffie-Hellman Parameter.
    pub const EXT_OWE_DH: u8 = 32;
    /// Extension: Non-Inheritance.
    pub const EXT_NON_INHERITANCE: u8 = 56;
    /// Extension: HE 6 GHz Band Capabilities.
    pub const EXT_HE_6GHZ_CAP: u8 = 59;
}

/// One element: ID, extension ID and data (after the extension ID).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ie {
    /// Element ID.
    pub id: u8,
    /// Element ID Extension (ID 255).
    pub ext: Option<u8>,
    /// Data.
    pub data: Vec<u8>,
}

impl Ie {
    fn new(id: u8, data: &[u8]) -> Ie {
        Ie {
            id,
            ext: None,
            data: data.to_vec(),
        }
    }

    fn ext(ext: u8, data: &[u8]) -> Ie {
        Ie {
            id: ie::id::EXTENSION,
            ext: Some(ext),
            data: data.to_vec(),
        }
    }

    /// Appends the whole element (fragmented if longer than 255 bytes).
    pub fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + ie::element_len(self.ext, self.data.len()), 0);
        let n = ie::write_element(&mut out[start..], self.id, self.ext, &self.data)
            .expect("buffer sized by element_len");
        out.truncate(start + n);
    }

    fn same_kind(&self, other: &Ie) -> bool {
        self.id == other.id && self.ext == other.ext
    }
}

/// Appends every element of `ies`.
pub fn write_all(ies: &[Ie], out: &mut Vec<u8>) {
    for e in ies {
        e.write(out);
    }
}

/// Capability Information of every affiliated AP: ESS, Privacy when secured, Short Slot
/// Time on 2.4 GHz.
pub fn capability(link: &LinkConfig, security: Security) -> u16 {
    let mut cap = 0x0001; // ESS
    if security != Security::Open {
        cap |= 0x0010; // Privacy
    }
    if link.band == Band::G2 {
        cap |= 0x0400; // Short Slot Time
    }
    cap
}

/// The per-link capability and operation elements carried in beacons, probe responses and
/// association responses (and compared for inheritance in per-STA profiles).
pub fn link_elements(link: &LinkConfig, security: Security, beacon_protection: bool) -> Vec<Ie> {
    let mut v = Vec::new();
    // In frame order (802.11-2020 Table 9-32): Supported Rates, DS Parameter Set (the beacon's
    // TIM follows it), ERP, Extended Supported Rates, RSNE, …
    match link.band {
        Band::G2 => {
            v.push(Ie::new(
                eid::SUPP_RATES,
                &[0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24],
            ));
            v.push(Ie::new(eid::DS_PARAMS, &[link.channel]));
            // ERP: no non-ERP station present, no protection, short preambles allowed. Every
            // 2.4 GHz BSS that offers ERP-OFDM rates advertises it (10.22.2).
            v.push(Ie::new(eid::ERP, &[0x00]));
            v.push(Ie::new(eid::EXT_RATES, &[0x30, 0x48, 0x60, 0x6c]));
        }
        Band::G5 => {
            v.push(Ie::new(
                eid::SUPP_RATES,
                &[0x8c, 0x12, 0x98, 0x24, 0xb0, 0x48, 0x60, 0x6c],
            ));
            v.push(Ie::new(eid::DS_PARAMS, &[link.channel]));
        }
        Band::G6 => {
            v.push(Ie::new(
                eid::SUPP_RATES,
                &[0x8c, 0x12, 0x98, 0x24, 0xb0, 0x48, 0x60, 0x6c],
            ));
        }
    }
    if let Some(akm) = akm(security) {
        v.push(Ie::new(ie::id::RSN, &rsne(akm)));
    }
    if link.band != Band::G6 {
        v.push(Ie::new(eid::HT_CAP, &ht_capabilities(link.width >= 40)));
        v.push(Ie::new(eid::HT_OP, &ht_operation(link)));
    }
    // Extended Capabilities: bit 62 (octet 7 bit 6, Opmode Notification) as before; with
    // beacon protection bit 84 (octet 10 bit 4, Beacon Protection Enabled, IEEE 802.11-2020
    // Table 9-153), which is why the element then grows to 11 octets.
    let mut ext_cap = vec![0, 0, 0, 0, 0, 0, 0, 0x40];
    if beacon_protection {
        ext_cap.extend_from_slice(&[0, 0, EXT_CAP_BEACON_PROTECTION_OCTET10]);
    }
    v.push(Ie::new(eid::EXT_CAP, &ext_cap));
    if link.band == Band::G5 {
        v.push(Ie::new(eid::VHT_CAP, &vht_capabilities(link.width >= 160)));
        v.push(Ie::new(eid::VHT_OP, &vht_operation(link)));
    }
    v.push(Ie::new(ie::id::VENDOR_SPECIFIC, &wmm_parameters()));
    v.push(Ie::ext(
        ie::ext_id::HE_CAPABILITIES,
        &he_capabilities(link.band, link.width),
    ));
    v.push(Ie::ext(ie::ext_id::HE_OPERATION, &he_operation(link)));
    if link.band == Band::G6 {
        // Min MPDU start spacing 0, max A-MPDU exponent 7, max MPDU 11454, SM PS disabled.
        v.push(Ie::ext(eid::EXT_HE_6GHZ_CAP, &0x06b8u16.to_le_bytes()));
    }
    v.push(Ie::ext(ie::ext_id::EHT_OPERATION, &eht_operation(link)));
    v.push(Ie::ext(
        ie::ext_id::EHT_CAPABILITIES,
        &eht_capabilities(link.width >= 160, link.width >= 320),
    ));
    match security {
        // RSNXE: field length 0 (one octet), no capabilities.
        Security::Owe => v.push(Ie::new(ie::id::RSNX, &[0x00])),
        // RSNXE: field length 0, SAE hash-to-element (bit 5): the only PWE method offered.
        Security::Sae => v.push(Ie::new(ie::id::RSNX, &[RSNX_SAE_H2E])),
        Security::Open => {}
    }
    v
}

/// Extended Capabilities octet 10: bit 84 (Beacon Protection Enabled) is its bit 4.
pub const EXT_CAP_BEACON_PROTECTION_OCTET10: u8 = 0x10;

/// RSNXE capability bit: SAE hash-to-element (IEEE 802.11-2020 9.4.2.241).
pub const RSNX_SAE_H2E: u8 = 0x20;

/// The AKM suite advertised for a security setting (None: no RSN).
pub fn akm(security: Security) -> Option<Suite> {
    match security {
        Security::Open => None,
        Security::Owe => Some(Suite::AKM_OWE),
        Security::Sae => Some(Suite::AKM_SAE),
    }
}

/// RSNE: version 1, group CCMP-128, pairwise CCMP-128, the one AKM, MFPR+MFPC, no PMKIDs,
/// group management cipher BIP-CMAC-128.
pub fn rsne(akm: Suite) -> Vec<u8> {
    let pairwise = [Suite::CCMP_128];
    let akms = [akm];
    let repr = RsnRepr {
        version: 1,
        group_cipher: Some(Suite::CCMP_128),
        pairwise: Some(SuiteList::Suites(&pairwise)),
        akms: Some(SuiteList::Suites(&akms)),
        capabilities: Some(ie::rsn_caps::MFPR | ie::rsn_caps::MFPC),
        pmkids: Some(ie::PmkidList::Ids(&[])),
        group_mgmt_cipher: Some(Suite::BIP_CMAC_128),
        extra: &[],
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    let n = repr.emit(&mut buf).expect("RSNE built here is encodable");
    buf.truncate(n);
    buf
}

fn ht_capabilities(forty: bool) -> [u8; 26] {
    let mut d = [0u8; 26];
    // HT Capability Information: LDPC (B0, as every EHT AP: LDPC is mandatory in EHT), SM
    // power save disabled (3 << 2), short GI for 20 MHz; with a 40 MHz channel also 20/40 MHz
    // support and short GI for 40 MHz.
    let cap: u16 = if forty { 0x006f } else { 0x002d };
    d[0..2].copy_from_slice(&cap.to_le_bytes());
    // A-MPDU parameters: max length exponent 3, min spacing 0.
    d[2] = 0x03;
    // Supported MCS set: RX MCS 0-7, TX set defined and equal to RX.
    d[3] = 0xff;
    d[15] = 0x01;
    d
}

fn ht_operation(link: &LinkConfig) -> [u8; 22] {
    let mut d = [0u8; 22];
    d[0] = link.channel; // primary channel; no protection
    if link.width >= 40 {
        // Secondary channel offset (1 above, 3 below) and STA channel width "any".
        d[1] = if link.secondary_above { 0x01 } else { 0x03 } | 0x04;
    }
    d
}

fn vht_capabilities(wide160: bool) -> [u8; 12] {
    let mut d = [0u8; 12];
    // VHT Capabilities Information: max MPDU 3895, RX LDPC (B4); on a 160 MHz link
    // Supported Channel Width Set 1 (160 MHz, B2-B3).
    // RX/TX VHT-MCS map: 1 SS MCS 0-9 (2), others not supported (3).
    d[0] = 0x10;
    if wide160 {
        d[0] |= 0x04;
    }
    d[4..6].copy_from_slice(&0xfffeu16.to_le_bytes());
    d[8..10].copy_from_slice(&0xfffeu16.to_le_bytes());
    d
}

/// VHT Operation: channel width 0 (20/40 MHz, taken from HT) or 1 (80 MHz and up) with CCFS0
/// the centre of the primary 80 MHz and, for 160 MHz, CCFS1 the centre of the whole channel
/// (the encoding of IEEE 802.11-2020 Table 9-274 that replaced widths 2 and 3); basic
/// VHT-MCS set: 1 SS MCS 0-7.
fn vht_operation(link: &LinkConfig) -> [u8; 5] {
    let (width, ccfs0, ccfs1) = match link.width {
        ..=40 => (0, 0, 0),
        80 => (1, link.center_channel, 0),
        _ => (1, link.segment_center(80), link.segment_center(160)),
    };
    [width, ccfs0, ccfs1, 0xfc, 0xff]
}

/// WMM Parameter element (vendor 00:50:f2 type 2 subtype 1) with the usual EDCA values.
fn wmm_parameters() -> [u8; 24] {
    [
        0x00, 0x50, 0xf2, 0x02, 0x01, 0x01, // OUI, type, subtype, version
        0x00, 0x00, // QoS info, reserved
        0x03, 0xa4, 0x00, 0x00, // AC_BE: AIFSN 3, CWmin 15, CWmax 1023
        0x27, 0xa4, 0x00, 0x00, // AC_BK: AIFSN 7
        0x42, 0x43, 0x5e, 0x00, // AC_VI: AIFSN 2, CW 7..15, TXOP 3.008 ms
        0x62, 0x32, 0x2f, 0x00, // AC_VO: AIFSN 2, CW 3..7, TXOP 1.504 ms
    ]
}

fn he_capabilities(band: Band, width: u16) -> Vec<u8> {
    let wide160 = width >= 160;
    let mut d = vec![0u8; 6 + 11];
    // HE MAC capabilities: none optional. HE PHY capabilities byte 0: channel width set
    // (B1 40 MHz in 2.4 GHz, only on a 40 MHz link so that HT and HE agree / B2 40 and 80 MHz
    // in 5 and 6 GHz, plus B3 160 MHz on a link that wide). Byte 1 B13: LDPC coding in
    // payload. Nominal packet padding (byte 9 B6-B7) 0 µs.
    d[6] = match (band, wide160) {
        (Band::G2, _) if width >= 40 => 0x02,
        (Band::G2, _) => 0x00,
        (_, false) => 0x04,
        (_, true) => 0x04 | 0x08,
    };
    d[7] = 0x20;
    // HE-MCS maps, RX then TX, for <= 80 MHz and (B3) 160 MHz: 1 SS MCS 0-11 (2), others
    // not supported (3).
    for _ in 0..if wide160 { 2 } else { 1 } {
        d.extend_from_slice(&0xfffeu16.to_le_bytes());
        d.extend_from_slice(&0xfffeu16.to_le_bytes());
    }
    d
}

fn he_operation(link: &LinkConfig) -> Vec<u8> {
    // HE Operation Parameters (24 bits): TXOP duration RTS threshold 1023 (disabled); bit 17
    // "6 GHz Operation Information Present" on 6 GHz. BSS Color Information: color 1.
    let mut params: u32 = 0x3ff << 4;
    if link.band == Band::G6 {
        params |= 1 << 17;
    }
    let color: u32 = 1;
    let word = params | (color << 24);
    let mut d = word.to_le_bytes().to_vec();
    // Basic HE-MCS and NSS set: 1 SS MCS 0-7.
    d.extend_from_slice(&0xfffcu16.to_le_bytes());
    if link.band == Band::G6 {
        // 6 GHz Operation Information: primary channel, control (channel width 0/1/2/3 for
        // 20/40/80/160 MHz, regulatory info 0 = indoor AP), CCFS0, CCFS1, min rate 6 Mb/s.
        // 160 MHz: CCFS0 the primary 80 MHz, CCFS1 the 160 MHz channel. HE has no 320 MHz:
        // a 320 MHz BSS shows HE stations its primary 160 MHz.
        let (width_code, ccfs0, ccfs1) = match link.width {
            20 => (0, link.channel, 0),
            40 => (1, link.center_channel, 0),
            80 => (2, link.center_channel, 0),
            _ => (3, link.segment_center(80), link.segment_center(160)),
        };
        d.extend_from_slice(&[link.channel, width_code, ccfs0, ccfs1, 6]);
    }
    d
}

/// EHT Operation: parameters, basic EHT-MCS and NSS set (1 SS for MCS 0-7) and, from 160 MHz
/// on, the EHT Operation Information (IEEE 802.11be 9.4.2.311): channel width 3 (160 MHz) or
/// 4 (320 MHz), CCFS0 the centre of the primary 80 MHz (160) or 160 MHz (320), CCFS1 the
/// centre of the whole channel; no disabled subchannels. Narrower links leave the channel to
/// HT/VHT/HE, as hostapd does.
fn eht_operation(link: &LinkConfig) -> Vec<u8> {
    let mut d = vec![0x00, 0x11, 0x00, 0x00, 0x00];
    let info = match link.width {
        ..=80 => None,
        160 => Some((3, link.segment_center(80), link.center_channel)),
        _ => Some((4, link.segment_center(160), link.center_channel)),
    };
    if let Some((width_code, ccfs0, ccfs1)) = info {
        d[0] |= ie::eht_op_params::INFO_PRESENT;
        d.extend_from_slice(&[width_code, ccfs0, ccfs1]);
    }
    d
}

/// EHT PHY Capabilities B1: Support For 320 MHz In 6 GHz.
const EHT_PHY_CAP0_320MHZ_IN_6GHZ: u8 = 0x02;

/// EHT Capabilities: MAC and PHY capabilities, nothing optional but "320 MHz in 6 GHz" (PHY
/// B1) on a 320 MHz link; Supported EHT-MCS And NSS Set in the AP's format: one map (RX and
/// TX NSS for MCS 0-9, 10-11, 12-13) for BW <= 80 MHz, another for 160 MHz when the HE
/// capabilities announce 160 MHz, another for 320 MHz with the 320 MHz bit; 1 SS each.
fn eht_capabilities(wide160: bool, wide320: bool) -> Vec<u8> {
    let mut d = vec![0u8; 11];
    if wide320 {
        d[2] |= EHT_PHY_CAP0_320MHZ_IN_6GHZ;
    }
    let maps = 1 + usize::from(wide160) + usize::from(wide320);
    for _ in 0..maps {
        d.extend_from_slice(&[0x11, 0x11, 0x11]);
    }
    d
}

/// Short SSID: the CRC-32 (IEEE 802.3) of the SSID.
pub fn short_ssid(ssid: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in ssid {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// TID-To-Link Mapping Negotiation Support (MLD Capabilities B5-B6) = 3: any TID may map to
/// any link set, TIDs need not share one. mac80211 sends a request only to an AP MLD whose
/// association response says nonzero here.
pub const MLD_CAP_TTLM_NEGOTIATION_ANY: u16 = 3 << 5;

/// MLD Capabilities And Operations: Maximum Number Of Simultaneous Links (B0-B3) = links - 1;
/// SRS not supported; TID-to-link mapping negotiation supported with per-TID link sets.
pub fn mld_capabilities(links: usize) -> u16 {
    ((links.saturating_sub(1) as u16) & 0x000f) | MLD_CAP_TTLM_NEGOTIATION_ANY
}

fn ml_element(repr: &MultiLinkRepr<'_>) -> Ie {
    let mut data = vec![0u8; repr.buffer_len()];
    let n = repr
        .emit(&mut data)
        .expect("Multi-Link element built here is encodable");
    data.truncate(n);
    Ie::ext(ie::ext_id::MULTI_LINK, &data)
}

/// The Basic Multi-Link element of beacons and plain probe responses: MLD address, the
/// transmitting link's ID, its BSS parameters change count and the MLD capabilities.
pub fn basic_ml_beacon(mld: MacAddr, link_id: u8, bpcc: u8, links: usize) -> Ie {
    ml_element(&MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: CommonInfo {
            mld_addr: Some(mld),
            link_id_info: Some(link_id),
            bss_params_change_count: Some(bpcc),
            mld_capabilities: Some(mld_capabilities(links)),
            ..CommonInfo::default()
        },
        links: Vec::new(),
    })
}

/// A complete per-STA profile for a response: STA Info and the profile bytes (fixed
/// fields, then elements).
pub struct StaProfile {
    /// Link ID.
    pub link_id: u8,
    /// STA Info fields.
    pub info: StaInfo<'static>,
    /// Fixed fields then elements.
    pub body: Vec<u8>,
}

/// A Basic Multi-Link element carrying complete per-STA profiles (ML probe responses,
/// association responses).
pub fn basic_ml_with_profiles(
    mld: MacAddr,
    link_id: u8,
    bpcc: u8,
    links: usize,
    profiles: &[StaProfile],
) -> Ie {
    let subs = profiles
        .iter()
        .map(|p| {
            LinkInfoRepr::PerStaProfile(PerStaProfileRepr {
                control: StaControl(u16::from(p.link_id & 0x0f) | sta_control::COMPLETE_PROFILE),
                info: Some(p.info),
                profile: &p.body,
            })
        })
        .collect();
    ml_element(&MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: CommonInfo {
            mld_addr: Some(mld),
            link_id_info: Some(link_id),
            bss_params_change_count: Some(bpcc),
            mld_capabilities: Some(mld_capabilities(links)),
            ..CommonInfo::default()
        },
        links: subs,
    })
}

/// A Reconfiguration Multi-Link element announcing that `removals` (link ID, TBTTs until
/// the affiliated AP goes) are being removed.
pub fn reconf_ml_removal(mld: MacAddr, removals: &[(u8, u16)]) -> Ie {
    let subs = removals
        .iter()
        .map(|&(id, tbtts)| {
            LinkInfoRepr::PerStaProfile(PerStaProfileRepr {
                control: StaControl(u16::from(id & 0x0f)),
                info: Some(StaInfo {
                    ap_removal_timer: Some(tbtts),
                    ..StaInfo::default()
                }),
                profile: &[],
            })
        })
        .collect();
    ml_element(&MultiLinkRepr {
        kind: MultiLinkType::Reconfiguration,
        common: CommonInfo {
            mld_addr: Some(mld),
            ..CommonInfo::default()
        },
        links: subs,
    })
}

/// An RNR entry for one other affiliated AP of the same MLD.
pub struct Neighbor {
    /// The link.
    pub link: LinkConfig,
    /// Its BSS parameters change count.
    pub bpcc: u8,
}

/// Reduced Neighbor Report listing the other affiliated APs (AP MLD ID 0, same SSID,
/// co-located), one Neighbor AP Information field each with a 16-octet TBTT Information
/// field (BSSID, short SSID, BSS parameters, PSD, MLD parameters).
pub fn rnr(ssid: &str, neighbors: &[Neighbor]) -> Option<Ie> {
    if neighbors.is_empty() {
        return None;
    }
    let short = short_ssid(ssid.as_bytes());
    let mut data = Vec::new();
    for n in neighbors {
        let tbtt = [TbttInfo {
            tbtt_offset: 255,
            bssid: Some(n.link.bssid),
            short_ssid: Some(short),
            // BSS parameters: same SSID (B1), co-located AP (B6).
            bss_params: Some(0x02 | 0x40),
            psd_20mhz: Some(0x7f), // no limit indicated
            mld_params: Some(MldParams {
                ap_mld_id: 0,
                link_id: n.link.id,
                bss_params_change_count: n.bpcc,
                ..MldParams::default()
            }),
            extra: &[],
        }];
        let info = NeighborApInfoRepr {
            field_type: 0,
            filtered: false,
            operating_class: n.link.operating_class(),
            channel: n.link.channel,
            tbtt_infos: &tbtt,
        };
        let start = data.len();
        data.resize(start + info.buffer_len(), 0);
        let w = info
            .emit(&mut data[start..])
            .expect("RNR field built here is encodable");
        data.truncate(start + w);
    }
    Some(Ie::new(ie::id::REDUCED_NEIGHBOR_REPORT, &data))
}

/// The elements of a per-STA profile for a link whose own elements are `link` while the
/// frame's main body carries `main`: all of the link's elements (a complete profile), then a
/// Non-Inheritance element naming every element of the main body the link does not have, so
/// that nothing of the reporting link leaks into it (IEEE 802.11be 35.3.3.4). Both lists hold
/// only per-link elements; the MLD-wide ones (SSID, Multi-Link, RNR, OWE) are not compared.
pub fn profile_elements(link: &[Ie], main: &[Ie]) -> Vec<Ie> {
    let mut out: Vec<Ie> = link.to_vec();
    let mut ids = Vec::new();
    let mut ext_ids = Vec::new();
    for m in main {
        if link.iter().any(|l| l.same_kind(m)) {
            continue;
        }
        match m.ext {
            Some(x) if !ext_ids.contains(&x) => ext_ids.push(x),
            None if !ids.contains(&m.id) => ids.push(m.id),
            _ => {}
        }
    }
    if !ids.is_empty() || !ext_ids.is_empty() {
        let mut data = vec![ids.len() as u8];
        data.extend_from_slice(&ids);
        data.push(ext_ids.len() as u8);
        data.extend_from_slice(&ext_ids);
        out.push(Ie::ext(eid::EXT_NON_INHERITANCE, &data));
    }
    out
}
