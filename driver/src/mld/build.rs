//! Builders for the management frames and elements multi-link setup uses: beacons, association
//! requests and responses, deauthentication, and the Basic / Reconfiguration Multi-Link elements
//! and Reduced Neighbor Report they carry. Used by the tests and meant for the demo's built-in
//! MLDs. Every element is written by `hwsim_frame::ie`'s emit functions.

use hwsim_frame::ie::{
    self, sta_control, CommonInfo, IeRepr, LinkInfoRepr, MldParams, MultiLinkRepr, MultiLinkType,
    NeighborApInfoRepr, PerStaProfileRepr, StaControl, StaInfo, TbttInfo,
};
use hwsim_frame::mac::{mgmt_subtype, MgmtBuilder, MgmtHeaderRepr};
use hwsim_frame::MacAddr;

/// Capability Information used in every frame built here (ESS).
pub const CAPABILITY: u16 = 0x0001;

/// A 24-byte management header (no flags) followed by `body`.
pub fn mgmt_frame(
    subtype: u8,
    addr1: MacAddr,
    addr2: MacAddr,
    addr3: MacAddr,
    body: &[u8],
) -> Vec<u8> {
    let header = MgmtHeaderRepr::new(subtype, addr1, addr2, addr3, 1);
    MgmtBuilder::new(&header).bytes(body).finish()
}

fn with_elements(mut fixed: Vec<u8>, elements: &[&[u8]]) -> Vec<u8> {
    for e in elements {
        fixed.extend_from_slice(e);
    }
    fixed
}

/// A beacon from `bssid`: timestamp, interval 100 TU, capability, SSID "mlo", then `elements`.
pub fn beacon(bssid: MacAddr, elements: &[&[u8]]) -> Vec<u8> {
    let mut body = vec![0u8; 8];
    body.extend_from_slice(&100u16.to_le_bytes());
    body.extend_from_slice(&CAPABILITY.to_le_bytes());
    body.extend_from_slice(&[0, 3, b'm', b'l', b'o']);
    let body = with_elements(body, elements);
    mgmt_frame(
        mgmt_subtype::BEACON,
        MacAddr::BROADCAST,
        bssid,
        bssid,
        &body,
    )
}

/// A broadcast probe request from `sta` for any SSID (wildcard SSID element, no others).
pub fn probe_request(sta: MacAddr) -> Vec<u8> {
    mgmt_frame(
        mgmt_subtype::PROBE_REQ,
        MacAddr::BROADCAST,
        sta,
        MacAddr::BROADCAST,
        &[0, 0],
    )
}

/// An association request from `sta` to `bssid`.
pub fn assoc_request(sta: MacAddr, bssid: MacAddr, elements: &[&[u8]]) -> Vec<u8> {
    let mut body = CAPABILITY.to_le_bytes().to_vec();
    body.extend_from_slice(&10u16.to_le_bytes());
    body.extend_from_slice(&[0, 3, b'm', b'l', b'o']);
    let body = with_elements(body, elements);
    mgmt_frame(mgmt_subtype::ASSOC_REQ, bssid, sta, bssid, &body)
}

/// An association response from `bssid` to `sta` with `status` (AID 1).
pub fn assoc_response(bssid: MacAddr, sta: MacAddr, status: u16, elements: &[&[u8]]) -> Vec<u8> {
    let mut body = CAPABILITY.to_le_bytes().to_vec();
    body.extend_from_slice(&status.to_le_bytes());
    body.extend_from_slice(&0xc001u16.to_le_bytes());
    let body = with_elements(body, elements);
    mgmt_frame(mgmt_subtype::ASSOC_RESP, sta, bssid, bssid, &body)
}

/// A deauthentication frame from `from` to `to` in `bssid` (reason 3: leaving).
pub fn deauth(from: MacAddr, to: MacAddr, bssid: MacAddr) -> Vec<u8> {
    mgmt_frame(mgmt_subtype::DEAUTH, to, from, bssid, &3u16.to_le_bytes())
}

fn ml_element(repr: &MultiLinkRepr<'_>) -> Vec<u8> {
    let mut out = vec![0u8; repr.element_len()];
    let n = repr
        .emit_element(&mut out)
        .expect("a Multi-Link element built here is encodable");
    out.truncate(n);
    out
}

/// A Basic Multi-Link element: `mld` (the MLD MAC address), the transmitting link's ID when
/// given (APs), and one complete per-STA profile per `(link ID, link address, profile)`, where
/// `profile` is the STA Profile's fixed fields (Capability Information, plus Status Code in
/// association responses).
pub fn basic_ml(mld: MacAddr, link_id: Option<u8>, others: &[(u8, MacAddr, &[u8])]) -> Vec<u8> {
    let links = others
        .iter()
        .map(|&(id, addr, profile)| {
            LinkInfoRepr::PerStaProfile(PerStaProfileRepr {
                control: StaControl(u16::from(id & 0x0f) | sta_control::COMPLETE_PROFILE),
                info: Some(StaInfo {
                    mac_addr: Some(addr),
                    ..StaInfo::default()
                }),
                profile,
            })
        })
        .collect();
    ml_element(&MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: CommonInfo {
            mld_addr: Some(mld),
            link_id_info: link_id,
            bss_params_change_count: link_id.map(|_| 0),
            mld_capabilities: Some(0x0002),
            ..CommonInfo::default()
        },
        links,
    })
}

/// An AP MLD's Basic Multi-Link element as carried in its beacons: the transmitting link and
/// per-STA profiles for `others` (link ID, link address).
pub fn ap_ml(mld: MacAddr, link_id: u8, others: &[(u8, MacAddr)]) -> Vec<u8> {
    let cap = CAPABILITY.to_le_bytes();
    let others: Vec<(u8, MacAddr, &[u8])> = others.iter().map(|&(i, a)| (i, a, &cap[..])).collect();
    basic_ml(mld, Some(link_id), &others)
}

/// A non-AP MLD's Basic Multi-Link element for an association request: its MLD address and a
/// per-STA profile per other link (link ID, the STA's address on that link).
pub fn sta_ml(mld: MacAddr, others: &[(u8, MacAddr)]) -> Vec<u8> {
    let cap = CAPABILITY.to_le_bytes();
    let others: Vec<(u8, MacAddr, &[u8])> = others.iter().map(|&(i, a)| (i, a, &cap[..])).collect();
    basic_ml(mld, None, &others)
}

/// The AP MLD's Basic Multi-Link element for an association response: per other link, the
/// AP's address on it and that link's status code.
pub fn assoc_response_ml(mld: MacAddr, link_id: u8, others: &[(u8, MacAddr, u16)]) -> Vec<u8> {
    let profiles: Vec<(u8, MacAddr, [u8; 4])> = others
        .iter()
        .map(|&(i, a, status)| {
            let c = CAPABILITY.to_le_bytes();
            let s = status.to_le_bytes();
            (i, a, [c[0], c[1], s[0], s[1]])
        })
        .collect();
    let others: Vec<(u8, MacAddr, &[u8])> =
        profiles.iter().map(|(i, a, p)| (*i, *a, &p[..])).collect();
    basic_ml(mld, Some(link_id), &others)
}

/// A Reconfiguration Multi-Link element announcing the removal of `links` (operation type
/// AP Removal, removal timer 5 TBTTs).
pub fn reconf_removal(mld: Option<MacAddr>, links: &[u8]) -> Vec<u8> {
    let links = links
        .iter()
        .map(|&id| {
            LinkInfoRepr::PerStaProfile(PerStaProfileRepr {
                control: StaControl(u16::from(id & 0x0f)),
                info: Some(StaInfo {
                    ap_removal_timer: Some(5),
                    ..StaInfo::default()
                }),
                profile: &[],
            })
        })
        .collect();
    ml_element(&MultiLinkRepr {
        kind: MultiLinkType::Reconfiguration,
        common: CommonInfo {
            mld_addr: mld,
            ..CommonInfo::default()
        },
        links,
    })
}

/// A Reduced Neighbor Report naming APs of the same MLD (AP MLD ID 0): per entry the operating
/// class, channel, BSSID and link ID.
pub fn rnr_same_mld(entries: &[(u8, u8, MacAddr, u8)]) -> Vec<u8> {
    rnr_same_mld_ssid(entries, None)
}

/// [`rnr_same_mld`] with, when `ssid` is given, its Short SSID in every entry and the BSS
/// Parameters "same SSID" and "co-located AP" (the MLD's APs share the SSID and the device).
pub fn rnr_same_mld_ssid(entries: &[(u8, u8, MacAddr, u8)], ssid: Option<&[u8]>) -> Vec<u8> {
    let (short_ssid, bss_params) = match ssid {
        Some(s) => (
            ie::short_ssid(s),
            ie::bss_params::SAME_SSID | ie::bss_params::COLOCATED_AP,
        ),
        None => (0, 0),
    };
    let mut data = Vec::new();
    for &(operating_class, channel, bssid, link_id) in entries {
        let tbtt = [TbttInfo {
            tbtt_offset: 255,
            bssid: Some(bssid),
            short_ssid: Some(short_ssid),
            bss_params: Some(bss_params),
            psd_20mhz: Some(0),
            mld_params: Some(MldParams {
                ap_mld_id: 0,
                link_id,
                ..MldParams::default()
            }),
            extra: &[],
        }];
        let info = NeighborApInfoRepr {
            field_type: 0,
            filtered: false,
            operating_class,
            channel,
            tbtt_infos: &tbtt,
        };
        let mut buf = vec![0u8; info.buffer_len()];
        let n = info
            .emit(&mut buf)
            .expect("an RNR field built here is encodable");
        data.extend_from_slice(&buf[..n]);
    }
    let mut out = vec![0u8; ie::element_len(None, data.len())];
    let n = ie::write_element(&mut out, ie::id::REDUCED_NEIGHBOR_REPORT, None, &data)
        .expect("an RNR built here fits one element");
    out.truncate(n);
    out
}
