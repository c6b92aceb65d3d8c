//! Element codecs against frames that real guests' software made: wpa_supplicant 2.11 with
//! Linux 6.12 mac80211 as a non-AP MLD (probe requests, the ML probe request, ML
//! association requests), and hostapd 2.11 / wpa_supplicant 2.11 in the WPA2-PSK and SAE
//! scenarios (beacons, association requests and responses). `tests/data/README.md` says
//! where each fixture came from and how it was cut out.
//!
//! Expected values are tshark's decode of the same frames (Wireshark 4.4.19 in the trixie
//! chroot; the field names are quoted next to each value), hard-coded so the test needs no
//! tshark. Every element the crate has a codec for is also emitted again and must
//! reproduce the guest's bytes exactly. No guest frame here carries EHT Operation, a
//! Reduced Neighbor Report or a Reconfiguration Multi-Link element: only APs send those,
//! and the guests' hostapd runs without 802.11be (the AP MLD is this project's own code).

use hwsim_frame::ie::{
    mgmt_body_elements, mgmt_fixed_len, sta_profile_fixed_len, EhtCapabilitiesRepr, Element,
    ElementId, Elements, IeRepr, MultiLink, MultiLinkRepr, MultiLinkType, NonInheritanceRepr,
    RsnRepr, RsnxRepr, Suite,
};
use hwsim_frame::mac::{mgmt_subtype, Frame, FrameType};
use hwsim_frame::MacAddr;

use ElementId::{EhtCapabilities as EHT, HeCapabilities as HE, NonInheritance as NI};

/// Element IDs without a name in [`ElementId`].
const RATES: ElementId = ElementId::Unknown(1);
const EXT_RATES: ElementId = ElementId::Unknown(50);
const HT_CAPS: ElementId = ElementId::Unknown(45);
const VHT_CAPS: ElementId = ElementId::Unknown(191);
const HE_6GHZ_CAPS: ElementId = ElementId::UnknownExtension(59);

const MLO_PROBE_REQ_SCAN_2G: &[u8] = include_bytes!("data/mlo-probe-req-scan-2g.bin");
const MLO_PROBE_REQ_SCAN_6G: &[u8] = include_bytes!("data/mlo-probe-req-scan-6g.bin");
const MLO_PROBE_REQ_ML: &[u8] = include_bytes!("data/mlo-probe-req-ml.bin");
const MLO_ASSOC_REQ_LINK1: &[u8] = include_bytes!("data/mlo-assoc-req-link1.bin");
const MLO_ASSOC_REQ_LINK2: &[u8] = include_bytes!("data/mlo-assoc-req-link2.bin");
const WPA2_BEACON: &[u8] = include_bytes!("data/wpa2-beacon.bin");
const WPA2_ASSOC_REQ: &[u8] = include_bytes!("data/wpa2-assoc-req.bin");
const WPA2_ASSOC_RESP: &[u8] = include_bytes!("data/wpa2-assoc-resp.bin");
const SAE_BEACON: &[u8] = include_bytes!("data/sae-beacon.bin");
const SAE_ASSOC_REQ: &[u8] = include_bytes!("data/sae-assoc-req.bin");
const SAE_ASSOC_RESP: &[u8] = include_bytes!("data/sae-assoc-resp.bin");

fn mac(s: &str) -> MacAddr {
    s.parse().expect("MAC address literal")
}

/// A management frame, its subtype and the elements of its body.
struct Mgmt<'a> {
    frame: Frame<&'a [u8]>,
    subtype: u8,
    /// Fixed fields before the elements.
    fixed: &'a [u8],
    elements: Vec<Element<'a>>,
}

fn mgmt(bytes: &[u8]) -> Mgmt<'_> {
    let frame = Frame::new_checked(bytes).expect("a whole 802.11 header");
    let fc = frame.frame_control();
    assert_eq!(fc.frame_type(), FrameType::Management);
    let subtype = fc.subtype();
    let fixed_len = mgmt_fixed_len(subtype).expect("a subtype with fixed fields + elements");
    let body = &bytes[frame.header_len()..];
    let elements: Vec<Element<'_>> = Elements::new(&body[fixed_len..])
        .collect::<Result<_, _>>()
        .expect("every element well formed");
    // The crate's own body walk sees the same elements.
    let walked = mgmt_body_elements(&frame)
        .expect("a management body")
        .count();
    assert_eq!(walked, elements.len());
    Mgmt {
        frame,
        subtype,
        fixed: &body[..fixed_len],
        elements,
    }
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// Emits `R` parsed from `e` as a whole element and checks it reproduces `e` byte for byte.
fn round_trip<'a, R: IeRepr<'a>>(e: &Element<'a>) -> R {
    let repr = R::parse_element(e).expect("element parses");
    let mut out = vec![0u8; repr.element_len()];
    assert_eq!(repr.emit_element(&mut out), Ok(out.len()));
    assert_eq!(out, e.raw, "{:?} does not round-trip", e.element_id());
    repr
}

/// Parses a Multi-Link element (fragmented or not) and checks the emit reproduces it.
fn round_trip_ml<'s>(e: &Element<'_>, scratch: &'s mut Vec<u8>) -> MultiLinkRepr<'s> {
    scratch.clear();
    scratch.resize(e.len(), 0);
    let ml = MultiLinkRepr::parse_defragment(e, scratch).expect("Multi-Link element parses");
    let mut out = vec![0u8; ml.element_len()];
    assert_eq!(ml.emit_element(&mut out), Ok(out.len()));
    assert_eq!(out, e.raw, "Multi-Link element does not round-trip");
    ml
}

/// Counts of elements round-tripped through each codec.
#[derive(Debug, Default, PartialEq, Eq)]
struct RoundTrips {
    rsn: usize,
    rsnx: usize,
    eht_caps: usize,
    multi_link: usize,
    non_inheritance: usize,
}

/// The element IDs in document order with a Multi-Link element's per-STA profile
/// elements right after it, as tshark lists `wlan.tag.number` (IDs other than 255) and
/// `wlan.ext_tag.number` (extension IDs); round-trips every element with a codec.
fn walk(
    elements: &[Element<'_>],
    subtype: u8,
    tags: &mut Vec<u8>,
    exts: &mut Vec<u8>,
    rt: &mut RoundTrips,
) {
    for e in elements {
        match e.ext {
            Some(x) => exts.push(x),
            None => tags.push(e.id),
        }
        match e.element_id() {
            ElementId::Rsn => {
                round_trip::<RsnRepr>(e);
                rt.rsn += 1;
            }
            ElementId::Rsnx => {
                round_trip::<RsnxRepr>(e);
                rt.rsnx += 1;
            }
            ElementId::EhtCapabilities => {
                round_trip::<EhtCapabilitiesRepr>(e);
                rt.eht_caps += 1;
            }
            ElementId::NonInheritance => {
                round_trip::<NonInheritanceRepr>(e);
                rt.non_inheritance += 1;
            }
            ElementId::MultiLink => {
                let mut scratch = Vec::new();
                let ml = round_trip_ml(e, &mut scratch);
                rt.multi_link += 1;
                let fixed = sta_profile_fixed_len(subtype).expect("a subtype with STA profiles");
                for p in ml.per_sta_profiles() {
                    let inner: Vec<Element<'_>> = p
                        .elements(fixed)
                        .collect::<Result<_, _>>()
                        .expect("profile elements well formed");
                    walk(&inner, subtype, tags, exts, rt);
                }
            }
            _ => {}
        }
    }
}

fn element_ids(m: &Mgmt<'_>) -> (Vec<u8>, Vec<u8>, RoundTrips) {
    let (mut tags, mut exts, mut rt) = (Vec::new(), Vec::new(), RoundTrips::default());
    walk(&m.elements, m.subtype, &mut tags, &mut exts, &mut rt);
    (tags, exts, rt)
}

fn find<'a>(elements: &[Element<'a>], id: ElementId) -> Vec<Element<'a>> {
    elements
        .iter()
        .filter(|e| e.element_id() == id)
        .copied()
        .collect()
}

/// HE PHY Capabilities Information byte 0 (HE Capabilities: extension ID, 6 bytes of HE
/// MAC capabilities, then the PHY capabilities).
fn he_phy_cap0(elements: &[Element<'_>]) -> u8 {
    let he = find(elements, ElementId::HeCapabilities);
    assert_eq!(he.len(), 1, "one HE Capabilities element");
    he[0].data[6]
}

/// EHT Capabilities as tshark 4.4 prints them: `wlan.eht.mac_capabilities_info` and
/// `wlan.eht.phy_capabilities.bits_0_15` / `bits_16_31` / `bits_32_39` / `bits_40_63`
/// (little-endian numbers over those bytes); PHY byte 8 is the low byte of tshark's
/// `bits_64_71` (which prints three bytes, running into the MCS map: `0x888800` → 0x00).
struct EhtExpect {
    mac: u16,
    phy_0_15: u16,
    phy_16_31: u16,
    phy_32_39: u8,
    phy_40_63: u32,
    phy_64_71: u8,
}

impl EhtExpect {
    fn phy(&self) -> [u8; 9] {
        let [a, b] = self.phy_0_15.to_le_bytes();
        let [c, d] = self.phy_16_31.to_le_bytes();
        let [f, g, h, _] = self.phy_40_63.to_le_bytes();
        [a, b, c, d, self.phy_32_39, f, g, h, self.phy_64_71]
    }
}

/// Checks the one EHT Capabilities element in `elements` (a frame body or a STA profile)
/// and returns (EHT-MCS/NSS set length, PPE Thresholds length) as the HE PHY capabilities
/// next to it imply for a non-AP STA.
fn check_eht(elements: &[Element<'_>], want: &EhtExpect) -> (usize, usize) {
    let eht = find(elements, ElementId::EhtCapabilities);
    assert_eq!(eht.len(), 1, "one EHT Capabilities element");
    let caps = EhtCapabilitiesRepr::parse_element(&eht[0]).unwrap();
    assert_eq!(caps.mac_capabilities, want.mac);
    assert_eq!(caps.phy_capabilities, want.phy());
    // tshark: "PPE Thresholds Present: Present" (B43) in every guest EHT element.
    assert!(caps.ppe_thresholds_present());
    let (mcs, ppe) = caps
        .split_mcs_nss(he_phy_cap0(elements), false)
        .expect("MCS/NSS set fits");
    (mcs.len(), ppe.len())
}

struct ProfileExpect {
    /// `wlan.eht.multi_link.sta_profile.sta_control`.
    control: u16,
    /// `wlan.eht.multi_link.sta_profile.sta_info.sta_mac_addr`.
    sta_mac: &'static str,
    /// `wlan.eht.multi_link.sta_profile.subelt_len`.
    subelement_len: usize,
    /// `wlan.fixed.capabilities` inside the profile.
    capability_info: u16,
    /// The profile's elements in order (tshark's `-V` tree under "Per-STA Profile").
    elements: &'static [ElementId],
    /// `wlan.ext_tag.non_inheritance.element_id_list.element_id` / `..._ext_list.element_id_ext`;
    /// `None`: no Non-Inheritance element.
    non_inheritance: Option<(&'static [u8], &'static [u8])>,
    eht: EhtExpect,
    /// EHT-MCS/NSS set and PPE Thresholds lengths the standard's rules give.
    mcs_ppe_len: (usize, usize),
}

fn check_basic_ml(m: &Mgmt<'_>, mld: &str, profiles: &[ProfileExpect]) {
    let ml_elements = find(&m.elements, ElementId::MultiLink);
    assert_eq!(ml_elements.len(), 1);
    let e = ml_elements[0];
    assert!(!e.is_fragmented());
    let view = MultiLink::new_checked(e.data).unwrap();
    // wlan.eht.multi_link.control = 0x0100: Basic, MLD Capabilities Present.
    assert_eq!(view.control(), 0x0100);
    assert_eq!(view.kind(), MultiLinkType::Basic);
    assert_eq!(view.mld_addr(), Some(mac(mld)));
    // wlan.eht.multi_link.common_info.length = 9.
    assert_eq!(view.common_info_bytes()[0], 9);
    let mut scratch = Vec::new();
    let ml = round_trip_ml(&e, &mut scratch);
    assert_eq!(ml.kind, MultiLinkType::Basic);
    let c = &ml.common;
    assert_eq!(c.mld_addr, Some(mac(mld)));
    // wlan.eht.multi_link.common_info.mld_capabilities = 0x0000.
    assert_eq!(c.mld_capabilities, Some(0));
    assert_eq!(
        (
            c.link_id_info,
            c.bss_params_change_count,
            c.medium_sync_delay
        ),
        (None, None, None)
    );
    assert_eq!(
        (c.eml_capabilities, c.ap_mld_id, c.ext_mld_capabilities),
        (None, None, None)
    );
    assert!(c.extra.is_empty());
    let got: Vec<_> = ml.per_sta_profiles().collect();
    assert_eq!(got.len(), profiles.len());
    let fixed = sta_profile_fixed_len(mgmt_subtype::ASSOC_REQ).unwrap();
    for (p, want) in got.iter().zip(profiles) {
        assert_eq!(p.control.0, want.control);
        assert_eq!(p.link_id(), (want.control & 0xf) as u8);
        assert!(p.control.complete_profile() && p.control.mac_addr_present());
        assert_eq!(p.mac_addr(), Some(mac(want.sta_mac)));
        let info = p.info.expect("STA Info");
        assert_eq!(
            (info.beacon_interval, info.tsf_offset, info.dtim),
            (None, None, None)
        );
        assert_eq!(p.buffer_len(MultiLinkType::Basic), want.subelement_len);
        assert_eq!(p.capability_info(), Some(want.capability_info));
        let inner: Vec<Element<'_>> = p.elements(fixed).collect::<Result<_, _>>().unwrap();
        let ids: Vec<ElementId> = inner.iter().map(Element::element_id).collect();
        assert_eq!(
            ids,
            want.elements,
            "elements of the link {} profile",
            p.link_id()
        );
        let ni = find(&inner, ElementId::NonInheritance);
        match want.non_inheritance {
            Some((ids, exts)) => {
                assert_eq!(ni.len(), 1);
                let n = NonInheritanceRepr::parse_element(&ni[0]).unwrap();
                assert_eq!((n.element_ids, n.ext_ids), (ids, exts));
                assert!(n.extra.is_empty());
                for &id in ids {
                    assert!(n.excludes(id, None));
                    // What the profile does not inherit it does not carry either.
                    assert!(inner.iter().all(|e| e.id != id));
                }
            }
            None => assert!(ni.is_empty()),
        }
        assert_eq!(check_eht(&inner, &want.eht), want.mcs_ppe_len);
    }
}

/// The fields tshark prints for every RSNE here.
struct RsnExpect {
    /// `wlan.rsn.akms.type`.
    akm: Suite,
    /// `wlan.rsn.capabilities`.
    capabilities: u16,
    /// `wlan.rsn.pmkid.count` and `wlan.rsn.gmcs.type`, when tshark shows them.
    pmkid_and_group_mgmt: Option<Suite>,
}

fn check_rsn(m: &Mgmt<'_>, want: &RsnExpect) {
    let rsn = find(&m.elements, ElementId::Rsn);
    assert_eq!(rsn.len(), 1);
    let r = RsnRepr::parse_element(&rsn[0]).unwrap();
    // wlan.rsn.version = 1; wlan.rsn.gcs.type = 4; wlan.rsn.pcs.type = 4.
    assert_eq!(r.version, 1);
    assert_eq!(r.group_cipher, Some(Suite::CCMP_128));
    let pairwise: Vec<Suite> = r.pairwise.unwrap().iter().collect();
    assert_eq!(pairwise, [Suite::CCMP_128]);
    let akms: Vec<Suite> = r.akms.unwrap().iter().collect();
    assert_eq!(akms, [want.akm]);
    assert_eq!(r.capabilities, Some(want.capabilities));
    // MFPR is capabilities bit 6, MFPC bit 7.
    assert_eq!(r.mfp_required(), want.capabilities & 0x40 != 0);
    assert_eq!(r.mfp_capable(), want.capabilities & 0x80 != 0);
    match want.pmkid_and_group_mgmt {
        Some(g) => {
            assert_eq!(r.pmkids.map(|p| p.len()), Some(0));
            assert_eq!(r.group_mgmt_cipher, Some(g));
        }
        None => assert_eq!((r.pmkids.is_none(), r.group_mgmt_cipher), (true, None)),
    }
    assert!(r.extra.is_empty());
}

/// RSNXE as tshark shows it: `wlan.rsnx = 0x20`, `wlan.rsnx.length = 0`,
/// `wlan.rsnx.sae_hash_to_element = True`, `sae_pk = False`,
/// `protected_twt_operations_support = False` (every RSNXE in these frames).
fn check_rsnx_h2e(m: &Mgmt<'_>) {
    let rsnx = find(&m.elements, ElementId::Rsnx);
    assert_eq!(rsnx.len(), 1);
    let r = RsnxRepr::parse_element(&rsnx[0]).unwrap();
    assert_eq!(r.capabilities, [0x20]);
    assert_eq!(r.field_length(), 0);
    assert!(r.sae_h2e());
    assert!(!r.sae_pk());
    assert!(!r.protected_twt());
}

#[test]
fn ml_probe_request_from_wpa_supplicant() {
    let m = mgmt(MLO_PROBE_REQ_ML);
    assert_eq!(m.subtype, mgmt_subtype::PROBE_REQ);
    assert_eq!(m.frame.addr2(), Some(mac("02:00:00:b1:00:00")));
    assert_eq!(m.frame.addr1(), mac("02:00:00:a0:00:11"));
    let (tags, exts, rt) = element_ids(&m);
    assert_eq!(tags, [0, 1]);
    assert_eq!(exts, [107]);
    assert_eq!(rt.multi_link, 1);

    let e = find(&m.elements, ElementId::MultiLink)[0];
    // wlan.eht.multi_link.control = 0x0011: Probe Request, AP MLD ID Present.
    let view = MultiLink::new_checked(e.data).unwrap();
    assert_eq!(view.control(), 0x0011);
    assert_eq!(view.kind(), MultiLinkType::ProbeRequest);
    assert_eq!(view.presence(), 0x001);
    let mut scratch = Vec::new();
    let ml = round_trip_ml(&e, &mut scratch);
    // wlan.eht.multi_link.common_info.length = 2; wlan.eht.multi_link.common_info.mld_id = 0.
    assert_eq!(ml.common.ap_mld_id, Some(0));
    assert_eq!(ml.common.mld_addr, None);
    assert_eq!(ml.common.buffer_len(), 2);
    // wlan.eht.multi_link.sta_profile.sta_control = 0x0010,0x0012 (Complete Profile, links
    // 0 and 2); subelt_len = 2,2: STA Control only, no STA Info, empty STA Profile.
    let profiles: Vec<_> = ml.per_sta_profiles().collect();
    assert_eq!(profiles.len(), 2);
    for (p, (control, link)) in profiles.iter().zip([(0x0010, 0), (0x0012, 2)]) {
        assert_eq!(p.control.0, control);
        assert_eq!(p.link_id(), link);
        assert!(p.control.complete_profile());
        assert_eq!(p.info, None);
        assert!(p.profile.is_empty());
        assert_eq!(p.buffer_len(MultiLinkType::ProbeRequest), 2);
    }
}

#[test]
fn scan_probe_requests_from_wpa_supplicant_carry_eht_capabilities() {
    // 2.4 GHz channel 1 (capture frame 20).
    let m = mgmt(MLO_PROBE_REQ_SCAN_2G);
    assert_eq!(m.subtype, mgmt_subtype::PROBE_REQ);
    assert_eq!(m.frame.addr1(), MacAddr::BROADCAST);
    assert_eq!(m.frame.addr2(), Some(mac("02:00:00:b0:00:00")));
    let (tags, exts, rt) = element_ids(&m);
    assert_eq!(tags, [0, 1, 50, 45, 127, 221, 221, 114, 221]);
    assert_eq!(exts, [35, 108, 59]);
    assert_eq!(rt.eht_caps, 1);
    // wlan.ext_tag.he_phy_cap.fbytes = 0x01 (Channel Width Set = 40 MHz in 2.4 GHz).
    assert_eq!(he_phy_cap0(&m.elements), 0x01 << 1);
    let eht = EhtExpect {
        mac: 0x0007,
        phy_0_15: 0x007c,
        phy_16_31: 0xfe00,
        phy_32_39: 0xff,
        phy_40_63: 0x017fff,
        phy_64_71: 0x00,
    };
    // ≤ 80 MHz map only (3 bytes), then 2 bytes of PPE Thresholds.
    assert_eq!(check_eht(&m.elements, &eht), (3, 2));

    // 6 GHz (capture frame 163): 320 MHz capable, so three MCS maps.
    let m = mgmt(MLO_PROBE_REQ_SCAN_6G);
    let (tags, exts, rt) = element_ids(&m);
    assert_eq!(tags, [0, 1, 127, 221, 221, 114, 221]);
    assert_eq!(exts, [35, 108, 59]);
    assert_eq!(rt.eht_caps, 1);
    // wlan.ext_tag.he_phy_cap.fbytes = 0x0e: 40/80, 160, 80+80 MHz in 5/6 GHz.
    assert_eq!(he_phy_cap0(&m.elements), 0x0e << 1);
    let eht = EhtExpect {
        mac: 0x0007,
        phy_0_15: 0xfffe,
        phy_16_31: 0xfeff,
        phy_32_39: 0xff,
        phy_40_63: 0x7fffff,
        phy_64_71: 0x00,
    };
    let caps =
        EhtCapabilitiesRepr::parse_element(&find(&m.elements, ElementId::EhtCapabilities)[0])
            .unwrap();
    // "Support For 320 MHz in 6 GHz: Supported".
    assert!(caps.supports_320mhz());
    assert_eq!(check_eht(&m.elements, &eht), (9, 2));
}

#[test]
fn ml_association_request_on_5ghz_from_wpa_supplicant() {
    let m = mgmt(MLO_ASSOC_REQ_LINK1);
    assert_eq!(m.subtype, mgmt_subtype::ASSOC_REQ);
    assert_eq!(m.frame.addr2(), Some(mac("26:fa:b6:f7:93:39")));
    assert_eq!(m.frame.addr1(), mac("02:00:00:a0:00:11"));
    // wlan.fixed.capabilities = 0x0010 (first of the list), listen interval 5.
    assert_eq!((le16(m.fixed, 0), le16(m.fixed, 2)), (0x0010, 5));
    let (tags, exts, rt) = element_ids(&m);
    assert_eq!(tags, [0, 1, 48, 45, 127, 191, 1, 50, 45, 1, 59, 221]);
    assert_eq!(exts, [35, 107, 35, 108, 56, 35, 59, 108, 56, 108, 32]);
    let want_rt = RoundTrips {
        rsn: 1,
        rsnx: 0,
        eht_caps: 3,
        multi_link: 1,
        non_inheritance: 2,
    };
    assert_eq!(rt, want_rt);
    check_rsn(
        &m,
        &RsnExpect {
            akm: Suite::AKM_OWE,
            capabilities: 0x00cc,
            pmkid_and_group_mgmt: Some(Suite::BIP_CMAC_128),
        },
    );
    check_basic_ml(
        &m,
        "02:00:00:b1:00:00",
        &[
            ProfileExpect {
                control: 0x0030,
                sta_mac: "e2:41:56:f8:b5:bf",
                subelement_len: 104,
                capability_info: 0x0430,
                elements: &[RATES, EXT_RATES, HT_CAPS, HE, EHT, NI],
                // The 2.4 GHz link drops the 5 GHz frame's VHT Capabilities.
                non_inheritance: Some((&[191], &[])),
                eht: EhtExpect {
                    mac: 0x0007,
                    phy_0_15: 0x007c,
                    phy_16_31: 0xfe00,
                    phy_32_39: 0xff,
                    phy_40_63: 0x0107ff,
                    phy_64_71: 0x00,
                },
                mcs_ppe_len: (3, 2),
            },
            ProfileExpect {
                control: 0x0032,
                sta_mac: "9a:fe:85:d5:b8:2c",
                subelement_len: 90,
                capability_info: 0x0430,
                elements: &[RATES, HE, HE_6GHZ_CAPS, EHT, NI],
                // The 6 GHz link drops HT and VHT Capabilities.
                non_inheritance: Some((&[45, 191], &[])),
                eht: EhtExpect {
                    mac: 0x0007,
                    phy_0_15: 0xfffe,
                    phy_16_31: 0xfeff,
                    phy_32_39: 0xff,
                    phy_40_63: 0x7fffff,
                    phy_64_71: 0x00,
                },
                mcs_ppe_len: (9, 2),
            },
        ],
    );
    // The frame's own EHT Capabilities (5 GHz link 1): 80 and 160 MHz maps, then the PPE
    // Thresholds tshark prints as "EHT PPE Thresholds: 0000".
    let top = EhtExpect {
        mac: 0x0007,
        phy_0_15: 0x1ffc,
        phy_16_31: 0xfe3f,
        phy_32_39: 0xff,
        phy_40_63: 0x373fff,
        phy_64_71: 0x00,
    };
    assert_eq!(check_eht(&m.elements, &top), (6, 2));
    let caps =
        EhtCapabilitiesRepr::parse_element(&find(&m.elements, ElementId::EhtCapabilities)[0])
            .unwrap();
    let (mcs, ppe) = caps.split_mcs_nss(he_phy_cap0(&m.elements), false).unwrap();
    assert_eq!(mcs, [0x88; 6]);
    assert_eq!(ppe, [0x00, 0x00]);
}

#[test]
fn ml_association_request_on_6ghz_from_wpa_supplicant() {
    let m = mgmt(MLO_ASSOC_REQ_LINK2);
    assert_eq!(m.subtype, mgmt_subtype::ASSOC_REQ);
    assert_eq!(m.frame.addr2(), Some(mac("e2:de:cc:5b:ac:78")));
    assert_eq!(m.frame.addr1(), mac("02:00:00:a0:00:12"));
    assert_eq!((le16(m.fixed, 0), le16(m.fixed, 2)), (0x0010, 5));
    let (tags, exts, rt) = element_ids(&m);
    assert_eq!(tags, [0, 1, 48, 127, 1, 50, 45, 1, 45, 191, 59, 221]);
    assert_eq!(exts, [35, 59, 107, 35, 108, 35, 108, 108, 32]);
    let want_rt = RoundTrips {
        rsn: 1,
        rsnx: 0,
        eht_caps: 3,
        multi_link: 1,
        non_inheritance: 0,
    };
    assert_eq!(rt, want_rt);
    check_rsn(
        &m,
        &RsnExpect {
            akm: Suite::AKM_OWE,
            capabilities: 0x00cc,
            pmkid_and_group_mgmt: Some(Suite::BIP_CMAC_128),
        },
    );
    // Sent on 6 GHz, whose frame has no HT/VHT elements to drop: mac80211 adds no
    // Non-Inheritance element to either profile.
    check_basic_ml(
        &m,
        "02:00:00:b0:00:00",
        &[
            ProfileExpect {
                control: 0x0030,
                sta_mac: "06:73:dc:9b:c1:a3",
                subelement_len: 98,
                capability_info: 0x0430,
                elements: &[RATES, EXT_RATES, HT_CAPS, HE, EHT],
                non_inheritance: None,
                eht: EhtExpect {
                    mac: 0x0007,
                    phy_0_15: 0x007c,
                    phy_16_31: 0xfe00,
                    phy_32_39: 0xff,
                    phy_40_63: 0x0107ff,
                    phy_64_71: 0x00,
                },
                mcs_ppe_len: (3, 2),
            },
            ProfileExpect {
                control: 0x0031,
                sta_mac: "c6:82:40:91:e7:2d",
                subelement_len: 117,
                capability_info: 0x0430,
                elements: &[RATES, HT_CAPS, VHT_CAPS, HE, EHT],
                non_inheritance: None,
                eht: EhtExpect {
                    mac: 0x0007,
                    phy_0_15: 0x1ffc,
                    phy_16_31: 0xfe3f,
                    phy_32_39: 0xff,
                    phy_40_63: 0x373fff,
                    phy_64_71: 0x00,
                },
                mcs_ppe_len: (6, 2),
            },
        ],
    );
    let top = EhtExpect {
        mac: 0x0007,
        phy_0_15: 0xfffe,
        phy_16_31: 0xfeff,
        phy_32_39: 0xff,
        phy_40_63: 0x7fffff,
        phy_64_71: 0x00,
    };
    assert_eq!(check_eht(&m.elements, &top), (9, 2));
}

#[test]
fn hostapd_wpa2_beacon_and_association() {
    let m = mgmt(WPA2_BEACON);
    assert_eq!(m.subtype, mgmt_subtype::BEACON);
    assert_eq!(m.frame.addr3(), Some(mac("02:00:00:0a:00:00")));
    // Fixed fields: timestamp (8), beacon interval 100 TU, wlan.fixed.capabilities 0x0011.
    assert_eq!((le16(m.fixed, 8), le16(m.fixed, 10)), (100, 0x0011));
    let (tags, exts, rt) = element_ids(&m);
    assert_eq!(tags, [0, 1, 5, 48, 59, 45, 61, 127, 191, 192, 195, 221]);
    assert_eq!(exts, [35, 36]);
    assert_eq!((rt.rsn, rt.rsnx), (1, 0));
    assert_eq!(m.elements[0].data, b"vhost-hwsim");
    // RSN ends after the capabilities: tshark shows no PMKID Count or group management suite.
    let psk = RsnExpect {
        akm: Suite::AKM_PSK,
        capabilities: 0x000c,
        pmkid_and_group_mgmt: None,
    };
    check_rsn(&m, &psk);

    let m = mgmt(WPA2_ASSOC_REQ);
    assert_eq!(m.subtype, mgmt_subtype::ASSOC_REQ);
    assert_eq!(m.frame.addr2(), Some(mac("02:00:00:0b:00:00")));
    assert_eq!((le16(m.fixed, 0), le16(m.fixed, 2)), (0x0011, 5));
    let (tags, exts, rt) = element_ids(&m);
    assert_eq!(tags, [0, 1, 48, 45, 127, 191, 59, 221]);
    assert_eq!(exts, [35]);
    assert_eq!(rt.rsn, 1);
    check_rsn(&m, &psk);

    let m = mgmt(WPA2_ASSOC_RESP);
    assert_eq!(m.subtype, mgmt_subtype::ASSOC_RESP);
    // wlan.fixed.capabilities = 0x0011, status_code = 0, aid = 1 (AID field's two top bits set).
    assert_eq!(le16(m.fixed, 0), 0x0011);
    assert_eq!(le16(m.fixed, 2), 0);
    assert_eq!(le16(m.fixed, 4) & 0x3fff, 1);
    let (tags, exts, rt) = element_ids(&m);
    assert_eq!(tags, [1, 45, 61, 191, 192, 127, 90, 221]);
    assert_eq!(exts, [35, 36]);
    assert_eq!(rt, RoundTrips::default());
}

#[test]
fn hostapd_sae_beacon_and_association_carry_rsnxe() {
    let sae_ap = RsnExpect {
        akm: Suite::AKM_SAE,
        capabilities: 0x00cc,
        pmkid_and_group_mgmt: None,
    };
    let m = mgmt(SAE_BEACON);
    assert_eq!(m.subtype, mgmt_subtype::BEACON);
    assert_eq!(le16(m.fixed, 10), 0x0011);
    let (tags, exts, rt) = element_ids(&m);
    assert_eq!(
        tags,
        [0, 1, 5, 48, 59, 45, 61, 127, 191, 192, 195, 244, 221]
    );
    assert_eq!(exts, [35, 36]);
    assert_eq!((rt.rsn, rt.rsnx), (1, 1));
    check_rsn(&m, &sae_ap);
    check_rsnx_h2e(&m);

    // wpa_supplicant's request adds PMKID Count 0 and BIP-CMAC-128 (wlan.rsn.gmcs.type = 6).
    let m = mgmt(SAE_ASSOC_REQ);
    assert_eq!(m.subtype, mgmt_subtype::ASSOC_REQ);
    let (tags, exts, rt) = element_ids(&m);
    assert_eq!(tags, [0, 1, 48, 45, 127, 191, 59, 244, 221]);
    assert_eq!(exts, [35]);
    assert_eq!((rt.rsn, rt.rsnx), (1, 1));
    check_rsn(
        &m,
        &RsnExpect {
            pmkid_and_group_mgmt: Some(Suite::BIP_CMAC_128),
            ..sae_ap
        },
    );
    check_rsnx_h2e(&m);

    let m = mgmt(SAE_ASSOC_RESP);
    assert_eq!(m.subtype, mgmt_subtype::ASSOC_RESP);
    assert_eq!((le16(m.fixed, 0), le16(m.fixed, 2)), (0x0011, 0));
    assert_eq!(le16(m.fixed, 4) & 0x3fff, 1);
    let (tags, exts, rt) = element_ids(&m);
    assert_eq!(tags, [1, 45, 61, 191, 192, 127, 90, 244, 221]);
    assert_eq!(exts, [35, 36]);
    assert_eq!((rt.rsn, rt.rsnx), (0, 1));
    check_rsnx_h2e(&m);
}
