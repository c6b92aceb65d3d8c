//! Element tests against byte arrays written from the standard's field layouts.
//!
//! Every vector here is hand-written from the clauses named on each test; the comments map
//! bytes to fields. `frame/tests/real_guest_frames.rs` checks the same codecs against
//! frames real guests' wpa_supplicant, mac80211 and hostapd sent.

use super::*;
use crate::MacAddr;

fn emit_vec<'a, R: IeRepr<'a>>(repr: &R) -> Vec<u8> {
    let mut buf = vec![0u8; repr.element_len()];
    let n = repr.emit_element(&mut buf).unwrap();
    assert_eq!(n, buf.len());
    buf
}

fn only_element(bytes: &[u8]) -> Element<'_> {
    let mut it = Elements::new(bytes);
    let e = it.next().unwrap().unwrap();
    assert!(it.next().is_none(), "one element expected");
    e
}

// ---------------------------------------------------------------- element walk

#[test]
fn walks_elements_and_extension_ids() {
    let body = [
        0x00, 0x03, b'm', b'l', b'o', // SSID "mlo"
        0xff, 0x02, 0x6b, 0xaa, // extension 107 with one data byte
        0xdd, 0x00, // empty vendor specific
    ];
    let items: Vec<_> = Elements::new(&body).collect::<Result<_, _>>().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].element_id(), ElementId::Ssid);
    assert_eq!(items[0].data, b"mlo");
    assert_eq!(items[1].element_id(), ElementId::MultiLink);
    assert_eq!(items[1].data, &[0xaa]);
    assert_eq!(items[1].raw, &body[5..9]);
    assert_eq!(items[2].element_id(), ElementId::VendorSpecific);
    assert!(items[2].is_empty());
    for e in &items {
        let (id, ext) = e.element_id().to_parts();
        assert_eq!((id, ext), (e.id, e.ext));
    }
}

#[test]
fn truncation_yields_one_error_and_stops() {
    // SSID fine, then an element claiming 9 bytes with 2 left.
    let body = [0x00, 0x01, b'x', 0x30, 0x09, 0x01, 0x00];
    let items: Vec<_> = Elements::new(&body).collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert_eq!(items[1], Err(Error::Truncated));
    // A lone ID byte.
    assert_eq!(
        Elements::new(&[0x00]).collect::<Vec<_>>(),
        vec![Err(Error::Truncated)]
    );
    // Extension element of length 0: an error, then the walk goes on.
    let items: Vec<_> = Elements::new(&[0xff, 0x00, 0x00, 0x00]).collect();
    assert_eq!(items[0], Err(Error::MissingExtension));
    assert_eq!(items[1].unwrap().element_id(), ElementId::Ssid);
    // A Fragment element cut short after a full element.
    let mut frag = vec![0xdd, 0xff];
    frag.extend([7u8; 255]);
    frag.extend([0xf2, 0x10, 1, 2]);
    let items: Vec<_> = Elements::new(&frag).collect();
    assert_eq!(items, vec![Err(Error::Truncated)]);
}

#[test]
fn fragment_boundaries_round_trip() {
    // Data lengths around the 255-byte piece size (extension ID included in the first).
    for len in [0usize, 1, 253, 254, 255, 256, 508, 509, 510, 600, 1000] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        for ext in [None, Some(ext_id::MULTI_LINK)] {
            let mut buf = vec![0u8; element_len(ext, len)];
            let eid = if ext.is_some() {
                id::EXTENSION
            } else {
                id::VENDOR_SPECIFIC
            };
            let n = write_element(&mut buf, eid, ext, &data).unwrap();
            assert_eq!(n, buf.len());
            // Followed by another element, which must not be swallowed.
            buf.extend([0x00, 0x00]);
            let items: Vec<_> = Elements::new(&buf).collect::<Result<_, _>>().unwrap();
            assert_eq!(items.len(), 2, "len {len} ext {ext:?}");
            assert_eq!(items[0].ext, ext);
            assert_eq!(items[0].len(), len);
            assert_eq!(items[0].to_vec(), data);
            let mut scratch = vec![0u8; len];
            assert_eq!(items[0].defragment(&mut scratch).unwrap(), &data[..]);
            let body_len = len + usize::from(ext.is_some());
            assert_eq!(items[0].is_fragmented(), body_len > 255);
            assert_eq!(items[1].element_id(), ElementId::Ssid);
        }
    }
}

#[test]
fn fragmented_layout_is_the_standards() {
    // 300 bytes of data in an extension element: first element 255 (ext ID + 254 data),
    // then a Fragment element (242) with the remaining 46.
    let data = [0x5a; 300];
    let mut buf = vec![0u8; element_len(Some(107), 300)];
    write_element(&mut buf, 255, Some(107), &data).unwrap();
    assert_eq!(buf.len(), 2 + 255 + 2 + 46);
    assert_eq!(&buf[..3], &[0xff, 0xff, 0x6b]);
    assert_eq!(&buf[257..259], &[0xf2, 46]);
    assert!(buf[3..257].iter().chain(&buf[259..]).all(|b| *b == 0x5a));
    // Too small a scratch buffer is an error, not a panic.
    let e = only_element(&buf);
    let mut small = [0u8; 10];
    assert_eq!(
        e.defragment(&mut small),
        Err(Error::BufferTooSmall {
            needed: 300,
            available: 10
        })
    );
}

#[test]
fn management_body_elements() {
    // Beacon: FC 0x0080, duration, DA, SA, BSSID, seq; 12 fixed bytes; SSID "ap".
    let mut beacon = vec![0x80, 0x00, 0, 0];
    beacon.extend([0xff; 6]);
    beacon.extend([2, 0, 0, 0, 1, 0]);
    beacon.extend([2, 0, 0, 0, 1, 0]);
    beacon.extend([0x10, 0x00]);
    beacon.extend([0; 8]); // timestamp
    beacon.extend([0x64, 0x00]); // beacon interval 100
    beacon.extend([0x31, 0x04]); // capability
    beacon.extend([0x00, 0x02, b'a', b'p']);
    let f = crate::mac::Frame::new_checked(&beacon[..]).unwrap();
    let ssid = mgmt_body_elements(&f)
        .unwrap()
        .find(ElementId::Ssid)
        .unwrap();
    assert_eq!(ssid.data, b"ap");

    // Association request: 4 fixed bytes (capability, listen interval).
    let mut assoc = beacon[..24].to_vec();
    assoc[0] = 0x00;
    assoc.extend([0x31, 0x04, 0x0a, 0x00, 0x00, 0x01, b's']);
    let f = crate::mac::Frame::new_checked(&assoc[..]).unwrap();
    let e = mgmt_body_elements(&f).unwrap().next().unwrap().unwrap();
    assert_eq!(e.data, b"s");

    // Too short for the fixed fields, data frames, action frames: none.
    let f = crate::mac::Frame::new_checked(&beacon[..30]).unwrap();
    assert!(mgmt_body_elements(&f).is_none());
    let mut data = beacon.clone();
    data[0] = 0x08;
    assert!(mgmt_body_elements(&crate::mac::Frame::new_checked(&data[..]).unwrap()).is_none());
    let mut action = beacon.clone();
    action[0] = 0xd0;
    assert!(mgmt_body_elements(&crate::mac::Frame::new_checked(&action[..]).unwrap()).is_none());
    assert_eq!(mgmt_fixed_len(mac::mgmt_subtype::REASSOC_REQ), Some(10));
    assert_eq!(mgmt_fixed_len(mac::mgmt_subtype::ASSOC_RESP), Some(6));
    assert_eq!(mgmt_fixed_len(mac::mgmt_subtype::PROBE_REQ), Some(0));
    assert_eq!(mgmt_fixed_len(mac::mgmt_subtype::AUTH), Some(6));
}

// ---------------------------------------------------------------- Multi-Link

/// Basic Multi-Link element as in a beacon (802.11be-2024 9.4.2.322.2).
pub(crate) const ML_BASIC: [u8; 47] = [
    0xff, 0x2d, // Element ID 255, Length 45
    0x6b, // Element ID Extension 107: Multi-Link
    0x30, 0x01, // Multi-Link Control 0x0130: Type 0 (Basic); presence B0 link ID info,
    //             B1 BSS params change count, B4 MLD capabilities and operations
    0x0b, // Common Info Length 11
    0x02, 0x00, 0x00, 0x00, 0x00, 0x10, // MLD MAC Address 02:00:00:00:00:10
    0x01, // Link ID Info: link 1
    0x05, // BSS Parameters Change Count 5
    0x02, 0x00, // MLD Capabilities: max simultaneous links 2
    // Link Info: Per-STA Profile subelement
    0x00, 0x1d, // Subelement ID 0, Length 29
    0xf2, 0x09, // STA Control 0x09f2: link 2, complete profile, MAC, beacon interval,
    //             TSF offset, DTIM info, BSS params change count present
    0x14, // STA Info Length 20
    0x02, 0x00, 0x00, 0x00, 0x02, 0x00, // STA MAC Address 02:00:00:00:02:00
    0x64, 0x00, // Beacon Interval 100 TU
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // TSF Offset 16
    0x00, 0x01, // DTIM Count 0, DTIM Period 1
    0x03, // BSS Parameters Change Count 3
    0x31, 0x04, // STA Profile: Capability Information 0x0431
    0x00, 0x03, b'm', b'l', b'o', // SSID "mlo"
];

#[test]
fn basic_multi_link_fields() {
    let e = only_element(&ML_BASIC);
    assert_eq!(e.element_id(), ElementId::MultiLink);
    let view = MultiLink::new_checked(e.data).unwrap();
    assert_eq!(view.kind(), MultiLinkType::Basic);
    assert_eq!(view.presence(), 0x013);
    assert_eq!(view.mld_addr(), Some(MacAddr([2, 0, 0, 0, 0, 0x10])));

    let ml = MultiLinkRepr::parse_element(&e).unwrap();
    assert_eq!(ml.kind, MultiLinkType::Basic);
    let c = ml.common;
    assert_eq!(c.mld_addr, Some(MacAddr([2, 0, 0, 0, 0, 0x10])));
    assert_eq!(c.link_id(), Some(1));
    assert_eq!(c.bss_params_change_count, Some(5));
    assert_eq!(c.mld_capabilities, Some(2));
    assert_eq!(
        (c.medium_sync_delay, c.eml_capabilities, c.ap_mld_id),
        (None, None, None)
    );
    assert!(c.extra.is_empty());

    let profiles: Vec<_> = ml.per_sta_profiles().collect();
    assert_eq!(profiles.len(), 1);
    let p = profiles[0];
    assert_eq!(p.link_id(), 2);
    assert!(p.control.complete_profile());
    assert!(!p.control.nstr_link_pair_present());
    let info = p.info.unwrap();
    assert_eq!(p.mac_addr(), Some(MacAddr([2, 0, 0, 0, 2, 0])));
    assert_eq!(info.beacon_interval, Some(100));
    assert_eq!(info.tsf_offset, Some(16));
    assert_eq!(
        info.dtim,
        Some(DtimInfo {
            count: 0,
            period: 1
        })
    );
    assert_eq!(info.bss_params_change_count, Some(3));
    assert_eq!(p.capability_info(), Some(0x0431));
    let fixed = sta_profile_fixed_len(mac::mgmt_subtype::BEACON).unwrap();
    let ssid = p.elements(fixed).find(ElementId::Ssid).unwrap();
    assert_eq!(ssid.data, b"mlo");

    assert_eq!(emit_vec(&ml), ML_BASIC);
}

/// Probe Request Multi-Link element (9.4.2.322.3).
pub(crate) const ML_PROBE_REQ: [u8; 11] = [
    0xff, 0x09, 0x6b, // Multi-Link, length 9
    0x11, 0x00, // Control 0x0011: Type 1 (Probe Request), presence B0 AP MLD ID
    0x02, // Common Info Length 2
    0x00, // AP MLD ID 0
    0x00, 0x02, // Per-STA Profile, length 2
    0x11, 0x00, // STA Control: link 1, complete profile requested
];

#[test]
fn probe_request_multi_link() {
    let e = only_element(&ML_PROBE_REQ);
    let ml = MultiLinkRepr::parse_element(&e).unwrap();
    assert_eq!(ml.kind, MultiLinkType::ProbeRequest);
    assert_eq!(ml.common.ap_mld_id, Some(0));
    assert_eq!(ml.common.mld_addr, None);
    let p = ml.per_sta_profiles().next().unwrap();
    assert_eq!(p.link_id(), 1);
    assert!(p.control.complete_profile());
    assert_eq!(p.info, None);
    assert!(p.profile.is_empty());
    assert_eq!(emit_vec(&ml), ML_PROBE_REQ);
}

/// Reconfiguration Multi-Link element (9.4.2.322.4): link 1 to be removed.
pub(crate) const ML_RECONF: [u8; 25] = [
    0xff, 0x17, 0x6b, // Multi-Link, length 23
    0x12, 0x00, // Control 0x0012: Type 2 (Reconfiguration), presence B0 MLD MAC address
    0x07, // Common Info Length 7
    0x02, 0x00, 0x00, 0x00, 0x00, 0x10, // MLD MAC Address
    0x00, 0x0b, // Per-STA Profile, length 11
    0x61, 0x00, // STA Control: link 1, MAC present, AP removal timer present, op type 0
    0x09, // STA Info Length 9
    0x02, 0x00, 0x00, 0x00, 0x01, 0x00, // STA MAC Address
    0x0a, 0x00, // AP Removal Timer 10 TBTTs
];

#[test]
fn reconfiguration_multi_link() {
    let e = only_element(&ML_RECONF);
    let ml = MultiLinkRepr::parse_element(&e).unwrap();
    assert_eq!(ml.kind, MultiLinkType::Reconfiguration);
    assert_eq!(ml.common.mld_addr, Some(MacAddr([2, 0, 0, 0, 0, 0x10])));
    let p = ml.per_sta_profiles().next().unwrap();
    assert_eq!(p.link_id(), 1);
    assert_eq!(p.control.reconf_operation_type(), 0);
    let info = p.info.unwrap();
    assert_eq!(info.mac_addr, Some(MacAddr([2, 0, 0, 0, 1, 0])));
    assert_eq!(info.ap_removal_timer, Some(10));
    assert_eq!(info.beacon_interval, None);
    assert_eq!(emit_vec(&ml), ML_RECONF);
}

#[test]
fn unknown_type_and_bits_survive() {
    // Type 3 (TDLS here, unknown to us): common info and subelements kept raw.
    let bytes = [
        0xff, 0x0b, 0x6b, // Multi-Link, length 11
        0x13, 0x00, // Type 3, presence B0
        0x04, 0xaa, 0xbb, 0xcc, // Common Info Length 4 + 3 opaque bytes
        0x00, 0x02, 0x01, 0x02, // subelement 0 of an unknown type: kept raw
    ];
    let ml = MultiLinkRepr::parse_element(&only_element(&bytes)).unwrap();
    assert_eq!(ml.kind, MultiLinkType::Unknown(3));
    assert_eq!(ml.common.other_presence, 1);
    assert_eq!(ml.common.extra, &[0xaa, 0xbb, 0xcc]);
    assert_eq!(
        ml.links,
        vec![LinkInfoRepr::Other {
            id: 0,
            data: &[1, 2]
        }]
    );
    assert_eq!(emit_vec(&ml), bytes);

    // Basic with an unknown presence bit (B11) and a trailing common info byte.
    let bytes = [
        0xff, 0x0b, 0x6b, 0x00, 0x80, // Type 0, presence B11 (reserved)
        0x08, 2, 0, 0, 0, 0, 0x10, 0x77, // Length 8: MLD MAC + one unknown byte
    ];
    let ml = MultiLinkRepr::parse_element(&only_element(&bytes)).unwrap();
    assert_eq!(ml.common.other_presence, 0x800);
    assert_eq!(ml.common.extra, &[0x77]);
    assert_eq!(emit_vec(&ml), bytes);
}

fn vendor_element(len: usize, fill: u8) -> Vec<u8> {
    let mut e = vec![0xdd, len as u8];
    e.extend(std::iter::repeat_n(fill, len));
    e
}

/// Calls `f` with a Basic element holding three per-STA profiles, too long for one
/// element.
pub(crate) fn with_three_profiles<R>(f: impl FnOnce(MultiLinkRepr<'_>) -> R) -> R {
    // A Basic element with three complete per-STA profiles of ~120 bytes each: the
    // element runs past 255 bytes and continues in Fragment elements.
    let profiles: Vec<Vec<u8>> = (0..3u8)
        .map(|i| {
            let mut p = vec![0x31, 0x04]; // Capability Information
            p.extend(vendor_element(100, i));
            p
        })
        .collect();
    let links = profiles
        .iter()
        .enumerate()
        .map(|(i, p)| {
            LinkInfoRepr::PerStaProfile(PerStaProfileRepr {
                control: StaControl(i as u16 | sta_control::COMPLETE_PROFILE),
                info: Some(StaInfo {
                    mac_addr: Some(MacAddr([2, 0, 0, 0, i as u8, 0])),
                    beacon_interval: Some(100),
                    dtim: Some(DtimInfo {
                        count: 0,
                        period: 2,
                    }),
                    ..StaInfo::default()
                }),
                profile: p,
            })
        })
        .collect();
    let ml = MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: CommonInfo {
            mld_addr: Some(MacAddr([2, 0, 0, 0, 0, 0x10])),
            link_id_info: Some(0),
            bss_params_change_count: Some(1),
            eml_capabilities: Some(0),
            mld_capabilities: Some(2),
            ..CommonInfo::default()
        },
        links,
    };
    f(ml)
}

#[test]
fn three_profiles_fragment_the_element() {
    with_three_profiles(check_three_profiles);
}

fn check_three_profiles(ml: MultiLinkRepr<'_>) {
    let bytes = emit_vec(&ml);
    assert!(ml.buffer_len() > 255);
    // ff ff 6b …254 data… f2 ff …255… f2 n …
    assert_eq!(&bytes[..3], &[0xff, 0xff, 0x6b]);
    assert_eq!(bytes[257], id::FRAGMENT);
    // STA Control of the first profile gained the presence bits.
    let first_ctrl = u16::from_le_bytes([bytes[3 + 2 + 13 + 2], bytes[3 + 2 + 13 + 3]]);
    assert_eq!(
        first_ctrl,
        sta_control::COMPLETE_PROFILE
            | sta_control::MAC_ADDR_PRESENT
            | sta_control::BEACON_INTERVAL_PRESENT
            | sta_control::DTIM_INFO_PRESENT
    );

    let e = only_element(&bytes);
    assert!(e.is_fragmented());
    assert_eq!(e.len(), ml.buffer_len());
    // Parsing the fragmented element without reassembly is refused, not garbled.
    assert_eq!(MultiLinkRepr::parse_element(&e), Err(Error::Fragmented));
    let mut scratch = vec![0u8; e.len()];
    let back = MultiLinkRepr::parse_defragment(&e, &mut scratch).unwrap();
    assert_ne!(back, ml, "parsed STA Control carries the presence bits");
    let mut ml = ml;
    ml.normalize().unwrap();
    assert_eq!(back, ml);
    let ids: Vec<_> = back.per_sta_profiles().map(|p| p.link_id()).collect();
    assert_eq!(ids, [0, 1, 2]);
    for (p, i) in back.per_sta_profiles().zip(0u8..) {
        let v = p.elements(2).next().unwrap().unwrap();
        assert_eq!(v.data, &[i; 100][..]);
    }
}

#[test]
fn per_sta_profile_fragments() {
    // One per-STA profile of 400 bytes: subelement 0 (255) + Fragment subelement 254
    // (145), inside a Multi-Link element that is itself fragmented.
    let mut profile = vec![0x31, 0x04];
    profile.extend(vendor_element(200, 0xa1));
    profile.extend(vendor_element(150, 0xb2));
    profile.extend(vendor_element(25, 0xc3)); // 2 + 202 + 152 + 27 = 383 bytes
    let ml = MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: CommonInfo {
            mld_addr: Some(MacAddr([2, 0, 0, 0, 0, 0x20])),
            ..CommonInfo::default()
        },
        links: vec![
            LinkInfoRepr::PerStaProfile(PerStaProfileRepr {
                control: StaControl(1 | sta_control::COMPLETE_PROFILE),
                info: Some(StaInfo {
                    mac_addr: Some(MacAddr([2, 0, 0, 0, 1, 0])),
                    tsf_offset: Some(u64::MAX - 5),
                    ..StaInfo::default()
                }),
                profile: &profile,
            }),
            LinkInfoRepr::Other {
                id: ml_subelement::VENDOR_SPECIFIC,
                data: &[0x00, 0x11, 0x22, 0x01],
            },
        ],
    };
    let mut data = vec![0u8; ml.buffer_len()];
    ml.emit(&mut data).unwrap();
    // Control (2) + common info (7), then the subelement header and its fragment.
    let sta_len = 2 + 1 + 6 + 8 + profile.len();
    assert_eq!(&data[9..11], &[0x00, 0xff]);
    assert_eq!(
        &data[266..268],
        &[ml_subelement::FRAGMENT, (sta_len - 255) as u8]
    );
    // The view walks the fragmented subelement as one item.
    let view = MultiLink::new_checked(&data[..]).unwrap();
    let subs: Vec<_> = view.subelements().collect::<Result<_, _>>().unwrap();
    assert_eq!(subs.len(), 2);
    assert!(subs[0].is_fragmented());
    assert_eq!(subs[0].len(), sta_len);
    let mut scratch = vec![0u8; sta_len];
    let joined = subs[0].defragment(&mut scratch).unwrap();
    let p = PerStaProfileRepr::parse(MultiLinkType::Basic, joined).unwrap();
    assert_eq!(p.profile, &profile[..]);
    assert_eq!(MultiLinkRepr::parse(&data), Err(Error::Fragmented));

    // Whole element: both fragmentation levels, parsed back in place.
    let bytes = emit_vec(&ml);
    let e = only_element(&bytes);
    assert!(e.is_fragmented());
    let mut scratch = vec![0u8; e.len()];
    let mut ml = ml;
    ml.normalize().unwrap();
    assert_eq!(
        MultiLinkRepr::parse_defragment(&e, &mut scratch).unwrap(),
        ml
    );
}

#[test]
fn hostile_multi_link() {
    let mut scratch = [0u8; 64];
    let bad: &[&[u8]] = &[
        // Common Info Length 0.
        &[0x30, 0x01, 0x00],
        // Common Info Length past the end.
        &[0x00, 0x00, 0x20, 2, 0, 0],
        // Presence bits claim Link ID, change count and MLD caps; length covers MAC only.
        &[0x30, 0x01, 0x07, 2, 0, 0, 0, 0, 0x10],
        // STA Info Length 20 with 3 bytes left.
        &[
            0x00, 0x00, 0x07, 2, 0, 0, 0, 0, 0x10, 0x00, 0x04, 0x20, 0x00, 0x14, 0x01,
        ],
        // STA Control claims a MAC address, STA Info Length 1 covers none.
        &[
            0x00, 0x00, 0x07, 2, 0, 0, 0, 0, 0x10, 0x00, 0x03, 0x20, 0x00, 0x01,
        ],
        // STA Info Length 0.
        &[
            0x00, 0x00, 0x07, 2, 0, 0, 0, 0, 0x10, 0x00, 0x03, 0x00, 0x00, 0x00,
        ],
        // Subelement length past the end.
        &[0x00, 0x00, 0x07, 2, 0, 0, 0, 0, 0x10, 0x00, 0x30, 0x00],
        // Control only.
        &[0x00, 0x00],
        &[],
    ];
    for (i, data) in bad.iter().enumerate() {
        assert!(MultiLinkRepr::parse(data).is_err(), "vector {i}");
        let n = data.len();
        scratch[..n].copy_from_slice(data);
        assert!(
            MultiLinkRepr::parse_in_place(&mut scratch[..n]).is_err(),
            "vector {i}"
        );
        let v = MultiLink::new_unchecked(*data);
        let _ = (v.control(), v.kind(), v.common_info(), v.mld_addr());
        let _ = (
            v.common_info_bytes(),
            v.link_info_bytes(),
            v.subelements().count(),
        );
    }
    // Emitting fields a type does not carry is refused.
    let ml = MultiLinkRepr {
        kind: MultiLinkType::ProbeRequest,
        common: CommonInfo {
            mld_addr: Some(MacAddr::BROADCAST),
            ..CommonInfo::default()
        },
        links: vec![],
    };
    let mut out = [0u8; 64];
    assert!(matches!(ml.emit(&mut out), Err(Error::Invalid(_))));
    let basic_without_mac = MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: CommonInfo::default(),
        links: vec![],
    };
    assert!(matches!(
        basic_without_mac.emit(&mut out),
        Err(Error::Invalid(_))
    ));
    // NSTR bitmap without a complete profile cannot be encoded.
    let p = PerStaProfileRepr {
        control: StaControl(0),
        info: Some(StaInfo {
            nstr_bitmap: Some(1),
            ..StaInfo::default()
        }),
        profile: &[],
    };
    assert!(matches!(
        p.emit(MultiLinkType::Basic, &mut out),
        Err(Error::Invalid(_))
    ));
    // Too small an output buffer.
    let ml = MultiLinkRepr::parse_element(&only_element(&ML_BASIC)).unwrap();
    assert!(matches!(
        ml.emit_element(&mut out[..20]),
        Err(Error::BufferTooSmall { .. })
    ));
}

#[test]
fn nstr_bitmap_sizes() {
    for (size_bit, bitmap) in [(0, 0x05u16), (sta_control::NSTR_BITMAP_SIZE, 0x0105)] {
        let p = PerStaProfileRepr {
            control: StaControl(3 | sta_control::COMPLETE_PROFILE | size_bit),
            info: Some(StaInfo {
                nstr_bitmap: Some(bitmap),
                bss_params_change_count: Some(9),
                ..StaInfo::default()
            }),
            profile: &[0x01, 0x00],
        };
        let mut out = vec![0u8; p.buffer_len(MultiLinkType::Basic)];
        p.emit(MultiLinkType::Basic, &mut out).unwrap();
        let extra = usize::from(size_bit != 0);
        // STA Info Length: 1 + bitmap (1 or 2) + change count.
        assert_eq!(out[2], 3 + extra as u8);
        let back = PerStaProfileRepr::parse(MultiLinkType::Basic, &out).unwrap();
        assert!(back.control.nstr_link_pair_present());
        assert_eq!(back.info.unwrap().nstr_bitmap, Some(bitmap));
        assert_eq!(back.info.unwrap().bss_params_change_count, Some(9));
    }
}

// ---------------------------------------------------------------- EHT

/// EHT Capabilities (9.4.2.323) of an 80/160 MHz AP.
pub(crate) const EHT_CAPS: [u8; 20] = [
    0xff, 0x12, 0x6c, // EHT Capabilities, length 18
    0x82, 0x00, // EHT MAC Capabilities Information
    0x00, 0x22, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // EHT PHY Capabilities (9)
    0x44, 0x44, 0x44, // EHT-MCS Map (BW <= 80 MHz): NSS 4 for MCS 0-9, 10-11, 12-13
    0x44, 0x44, 0x44, // EHT-MCS Map (BW = 160 MHz)
];

#[test]
fn eht_capabilities() {
    let e = only_element(&EHT_CAPS);
    assert_eq!(e.element_id(), ElementId::EhtCapabilities);
    let caps = EhtCapabilitiesRepr::parse_element(&e).unwrap();
    assert_eq!(caps.mac_capabilities, 0x0082);
    assert_eq!(caps.phy_capabilities[1], 0x22);
    assert!(!caps.supports_320mhz());
    assert!(!caps.ppe_thresholds_present());
    // HE PHY cap byte 0 0x0c: 40/80 and 160 MHz in 5 GHz → two 3-byte maps.
    assert_eq!(caps.mcs_nss_len(0x0c, true), 6);
    let (mcs, ppe) = caps.split_mcs_nss(0x0c, true).unwrap();
    assert_eq!((mcs.len(), ppe.len()), (6, 0));
    // 20 MHz-only non-AP STA: one 4-byte map.
    assert_eq!(caps.mcs_nss_len(0x00, false), 4);
    assert_eq!(caps.mcs_nss_len(0x00, true), 3);
    assert_eq!(emit_vec(&caps), EHT_CAPS);
    assert_eq!(
        EhtCapabilitiesRepr::parse(&EHT_CAPS[3..10]),
        Err(Error::Truncated)
    );
    assert_eq!(
        EhtCapabilitiesRepr::parse_element(&only_element(&ML_PROBE_REQ)),
        Err(Error::WrongElement)
    );
}

#[test]
fn eht_ppe_thresholds_present_is_phy_bit_43() {
    // EHT PHY Capabilities byte 5: B40 non-triggered CQI, B41 Tx 1024/4096-QAM < 242-tone
    // RU, B42 the Rx one, B43 PPE Thresholds Present (what Linux and tshark read too).
    let mut bytes = EHT_CAPS;
    for (byte5, present) in [(0x08, true), (0x07, false), (0x02, false), (0xff, true)] {
        bytes[3 + 2 + 5] = byte5;
        let caps = EhtCapabilitiesRepr::parse_element(&only_element(&bytes)).unwrap();
        assert_eq!(
            caps.ppe_thresholds_present(),
            present,
            "byte 5 = {byte5:#04x}"
        );
    }
}

/// Non-Inheritance (802.11-2020 9.4.2.240) naming HT and VHT Capabilities (45, 191) and
/// the HE Capabilities extension (35).
const NON_INHERITANCE: [u8; 8] = [
    0xff, 0x06, 0x38, // Non-Inheritance, length 6
    0x02, 0x2d, 0xbf, // Element ID List: length 2, IDs 45 and 191
    0x01, 0x23, // Element ID Extension List: length 1, extension ID 35
];

#[test]
fn non_inheritance() {
    let e = only_element(&NON_INHERITANCE);
    assert_eq!(e.element_id(), ElementId::NonInheritance);
    let n = NonInheritanceRepr::parse_element(&e).unwrap();
    assert_eq!(n.element_ids, [45, 191]);
    assert_eq!(n.ext_ids, [35]);
    assert!(n.extra.is_empty());
    assert!(n.excludes(45, None) && n.excludes(191, None));
    assert!(n.excludes(id::EXTENSION, Some(ext_id::HE_CAPABILITIES)));
    assert!(!n.excludes(id::RSN, None));
    assert!(!n.excludes(id::EXTENSION, Some(ext_id::EHT_CAPABILITIES)));
    assert!(!n.excludes(id::EXTENSION, None));
    assert_eq!(emit_vec(&n), NON_INHERITANCE);
    // A list running past the element, and a missing second list.
    assert_eq!(
        NonInheritanceRepr::parse(&[0x03, 0x2d, 0xbf]),
        Err(Error::Truncated)
    );
    assert_eq!(
        NonInheritanceRepr::parse(&[0x01, 0x2d]),
        Err(Error::Truncated)
    );
    // Empty lists are valid.
    let empty = NonInheritanceRepr::parse(&[0x00, 0x00]).unwrap();
    assert_eq!((empty.element_ids.len(), empty.ext_ids.len()), (0, 0));
}

/// EHT Operation (9.4.2.324) of a 320 MHz BSS with one disabled subchannel.
pub(crate) const EHT_OP: [u8; 13] = [
    0xff, 0x0b, 0x6a, // EHT Operation, length 11
    0x03, // Parameters: operation information present, disabled subchannel bitmap present
    0x11, 0x11, 0x11, 0x11, // Basic EHT-MCS And NSS Set
    0x04, // Control: channel width 4 (320 MHz)
    0x0f, // CCFS0: channel 15
    0x1f, // CCFS1: channel 31
    0x02, 0x00, // Disabled Subchannel Bitmap: second 20 MHz subchannel
];

#[test]
fn eht_operation() {
    let op = EhtOperationRepr::parse_element(&only_element(&EHT_OP)).unwrap();
    assert_eq!(op.params, 0);
    assert_eq!(op.basic_mcs_nss, [0x11; 4]);
    let info = op.info.unwrap();
    assert_eq!(info.channel_width(), 4);
    assert_eq!((info.ccfs0, info.ccfs1), (15, 31));
    assert_eq!(info.disabled_subchannels, Some(2));
    assert_eq!(emit_vec(&op), EHT_OP);

    // Without operation information: 5 bytes; a presence bit claiming info past the end
    // is an error.
    let bare = [0x04, 0x22, 0x22, 0x22, 0x22];
    let op = EhtOperationRepr::parse(&bare).unwrap();
    assert_eq!(op.params, eht_op_params::DEFAULT_PE_DURATION);
    assert_eq!(op.info, None);
    let mut out = [0u8; 5];
    assert_eq!(op.emit(&mut out), Ok(5));
    assert_eq!(out, bare);
    assert_eq!(
        EhtOperationRepr::parse(&[0x01, 0, 0, 0, 0, 4]),
        Err(Error::Truncated)
    );
    assert_eq!(
        EhtOperationRepr::parse(&[0x03, 0, 0, 0, 0, 4, 1, 2, 0]),
        Err(Error::Truncated)
    );
}

// ---------------------------------------------------------------- RNR

/// Reduced Neighbor Report (9.4.2.170) as a 5 GHz affiliated AP advertises its 6 GHz
/// sibling (16-byte TBTT information with MLD parameters), plus a second neighbor with
/// two 13-byte fields.
pub(crate) const RNR: [u8; 52] = [
    0xc9, 0x32, // Reduced Neighbor Report, length 50
    // Neighbor AP Information 1
    0x00, 0x10, // TBTT Info Header: type 0, not filtered, count 1, length 16
    0x83, // Operating Class 131 (6 GHz, 20 MHz)
    0x25, // Channel 37
    0xff, // TBTT offset: unknown
    0x02, 0x00, 0x00, 0x00, 0x03, 0x00, // BSSID
    0x78, 0x56, 0x34, 0x12, // Short SSID 0x12345678
    0x42, // BSS Parameters: same SSID, co-located AP
    0x14, // 20 MHz PSD
    0x00, 0x52, 0x00, // MLD Parameters: AP MLD ID 0, link 2, change count 5
    // Neighbor AP Information 2
    0x14, 0x0d, // TBTT Info Header: type 0, filtered, count 2, length 13
    0x51, 0x01, // Operating Class 81, channel 1
    0x10, 0x02, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x7f, 0x20, 0x02, 0x00,
    0x00, 0x00, 0x05, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x7f,
];

#[test]
fn reduced_neighbor_report() {
    let e = only_element(&RNR);
    assert_eq!(e.element_id(), ElementId::ReducedNeighborReport);
    let aps: Vec<_> = ReducedNeighborReport::new(e.data)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(aps.len(), 2);
    assert_eq!((aps[0].operating_class, aps[0].channel), (131, 37));
    assert_eq!((aps[0].count(), aps[0].tbtt_info_len()), (1, 16));
    let t = aps[0].tbtt_infos().next().unwrap().unwrap();
    assert_eq!(t.tbtt_offset, 255);
    assert_eq!(t.bssid, Some(MacAddr([2, 0, 0, 0, 3, 0])));
    assert_eq!(t.short_ssid, Some(0x1234_5678));
    assert_eq!(t.bss_params, Some(0x42));
    assert_eq!(t.psd_20mhz, Some(0x14));
    assert_eq!(
        t.mld_params,
        Some(MldParams {
            ap_mld_id: 0,
            link_id: 2,
            bss_params_change_count: 5,
            all_updates_included: false,
            disabled_link: false,
            reserved: 0,
        })
    );
    assert!(aps[1].filtered());
    let second: Vec<_> = aps[1].tbtt_infos().collect::<Result<_, _>>().unwrap();
    assert_eq!(second.len(), 2);
    assert_eq!(second[1].short_ssid, Some(2));
    assert_eq!(second[1].mld_params, None);

    // Emit both back.
    let first = [t];
    let reprs = [
        NeighborApInfoRepr {
            field_type: 0,
            filtered: false,
            operating_class: 131,
            channel: 37,
            tbtt_infos: &first,
        },
        NeighborApInfoRepr {
            field_type: 0,
            filtered: true,
            operating_class: 81,
            channel: 1,
            tbtt_infos: &second,
        },
    ];
    let mut data = vec![0u8; reprs.iter().map(|r| r.buffer_len()).sum()];
    let mut at = 0;
    for r in &reprs {
        at += r.emit(&mut data[at..]).unwrap();
    }
    assert_eq!(data, &RNR[2..]);

    // Disabled link and all-updates bits.
    let mut bytes = RNR;
    bytes[21] |= 0x30; // B20, B21 of the MLD parameters
    let aps: Vec<_> = ReducedNeighborReport::new(&bytes[2..]).flatten().collect();
    let m = aps[0]
        .tbtt_infos()
        .next()
        .unwrap()
        .unwrap()
        .mld_params
        .unwrap();
    assert!(m.all_updates_included && m.disabled_link);

    // Truncated set: one error, then nothing.
    let items: Vec<_> = ReducedNeighborReport::new(&RNR[2..40]).collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1], Err(Error::Truncated));
    // Fields that are no defined layout are refused on emit.
    let odd = TbttInfo {
        psd_20mhz: Some(1),
        ..TbttInfo::default()
    };
    assert!(matches!(odd.emit(&mut [0u8; 8]), Err(Error::Invalid(_))));
}

// ---------------------------------------------------------------- RSN

/// RSNE of a WPA3-Personal (SAE) BSS with management frame protection required
/// (9.4.2.24).
pub(crate) const RSN_SAE: [u8; 28] = [
    0x30, 0x1a, // RSN, length 26
    0x01, 0x00, // Version 1
    0x00, 0x0f, 0xac, 0x04, // Group Data Cipher: CCMP-128
    0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, // 1 pairwise: CCMP-128
    0x02, 0x00, 0x00, 0x0f, 0xac, 0x08, // 2 AKMs: SAE …
    0x00, 0x0f, 0xac, 0x18, // … and SAE-EXT-KEY
    0xc0, 0x00, // RSN Capabilities: MFPR, MFPC
    0x00, 0x00, // PMKID Count 0
];

#[test]
fn rsn_sae() {
    // The vector stops after the PMKID count (no group management cipher): legal.
    let short = RsnRepr::parse_element(&only_element(&RSN_SAE)).unwrap();
    assert_eq!(short.pmkids.map(|p| p.len()), Some(0));
    assert_eq!(short.group_mgmt_cipher, None);
    assert_eq!(emit_vec(&short), RSN_SAE);
    let mut fixed = RSN_SAE.to_vec();
    fixed[1] = 0x1e; // length 30
    fixed.extend([0x00, 0x0f, 0xac, 0x06]); // Group Management Cipher: BIP-CMAC-128
    let rsn = RsnRepr::parse_element(&only_element(&fixed)).unwrap();
    assert_eq!(rsn.version, 1);
    assert_eq!(rsn.group_cipher, Some(Suite::CCMP_128));
    let pairwise = rsn.pairwise.unwrap();
    assert_eq!(pairwise.iter().collect::<Vec<_>>(), [Suite::CCMP_128]);
    let akms = rsn.akms.unwrap();
    assert!(akms.contains(Suite::AKM_SAE) && akms.contains(Suite::AKM_SAE_EXT_KEY));
    assert!(rsn.mfp_required() && rsn.mfp_capable());
    assert_eq!(rsn.pmkids.map(|p| p.len()), Some(0));
    assert_eq!(rsn.group_mgmt_cipher, Some(Suite::BIP_CMAC_128));
    assert_eq!(emit_vec(&rsn), fixed);

    // Built from suites, compared with the parsed form.
    let akm_list = [Suite::AKM_SAE, Suite::AKM_SAE_EXT_KEY];
    let built = RsnRepr {
        version: 1,
        group_cipher: Some(Suite::CCMP_128),
        pairwise: Some(SuiteList::Suites(&[Suite::CCMP_128])),
        akms: Some(SuiteList::Suites(&akm_list)),
        capabilities: Some(rsn_caps::MFPR | rsn_caps::MFPC),
        pmkids: Some(PmkidList::Ids(&[])),
        group_mgmt_cipher: Some(Suite::BIP_CMAC_128),
        extra: &[],
    };
    assert_eq!(built, rsn);
    assert_eq!(emit_vec(&built), fixed);
}

#[test]
fn rsn_optional_tail_and_pmkids() {
    // WPA2-PSK RSNE ending after the capabilities.
    let wpa2 = [
        0x30, 0x14, 0x01, 0x00, // RSN, length 20, version 1
        0x00, 0x0f, 0xac, 0x04, // group CCMP-128
        0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, // pairwise CCMP-128
        0x01, 0x00, 0x00, 0x0f, 0xac, 0x02, // AKM PSK
        0x0c, 0x00, // capabilities: 16 PTKSA replay counters, no MFP
    ];
    let rsn = RsnRepr::parse_element(&only_element(&wpa2)).unwrap();
    assert_eq!(rsn.akms.unwrap().iter().next(), Some(Suite::AKM_PSK));
    assert!(!rsn.mfp_capable());
    assert_eq!((rsn.pmkids, rsn.group_mgmt_cipher), (None, None));
    assert_eq!(emit_vec(&rsn), wpa2);

    // One PMKID in a reassociation-style RSNE.
    let pmkid = [0xab; 16];
    let with_pmkid = RsnRepr {
        pmkids: Some(PmkidList::Ids(&[pmkid])),
        capabilities: Some(0),
        ..rsn
    };
    let bytes = emit_vec(&with_pmkid);
    assert_eq!(bytes[1] as usize, 20 + 2 + 16);
    let back = RsnRepr::parse_element(&only_element(&bytes)).unwrap();
    assert_eq!(back.pmkids.unwrap().iter().next(), Some(pmkid));
    assert_eq!(back, with_pmkid);

    // Counts that lie.
    assert_eq!(
        RsnRepr::parse(&[0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, 0x05, 0x00, 1, 2]),
        Err(Error::Truncated)
    );
    assert_eq!(RsnRepr::parse(&[0x01]), Err(Error::Truncated));
    // A hole in the optional fields cannot be encoded.
    let holey = RsnRepr {
        group_cipher: None,
        ..rsn
    };
    assert!(matches!(holey.emit(&mut [0u8; 64]), Err(Error::Invalid(_))));
}

#[test]
fn rsnx() {
    // RSNXE, length 1: field length 0 (one octet), SAE hash-to-element (B5).
    let bytes = [0xf4, 0x01, 0x20];
    let e = only_element(&bytes);
    assert_eq!(e.element_id(), ElementId::Rsnx);
    let x = RsnxRepr::parse_element(&e).unwrap();
    assert!(x.sae_h2e() && !x.sae_pk() && !x.protected_twt());
    assert_eq!(x.field_length(), 0);
    assert!(!x.bit(40));
    assert_eq!(emit_vec(&x), bytes);
    assert_eq!(RsnxRepr::parse(&[]), Err(Error::Truncated));
}

/// Short SSID is the FCS CRC-32 (802.11-2020 9.4.2.170.3): the standard check value of
/// "123456789" is 0xCBF43926, the empty string gives 0.
#[test]
fn short_ssid_is_the_crc32_of_the_ssid() {
    assert_eq!(short_ssid(b"123456789"), 0xcbf4_3926);
    assert_eq!(short_ssid(b""), 0);
    assert_ne!(short_ssid(b"vhost-hwsim"), short_ssid(b"vhost-hwsin"));
}

#[test]
fn a_fragment_subelement_that_continues_nothing_is_refused() {
    // Unknown type 7, no presence bits, Common Info length 1; then a vendor subelement
    // whose data is 255 bytes and a zero-length Fragment that ends it, then a Fragment
    // subelement standing alone. Kept, the lone Fragment would be emitted right after a
    // 255-byte piece and read back as part of the vendor subelement (found by fuzzing).
    let mut data = vec![0x07, 0x00, 0x01];
    data.extend([ml_subelement::VENDOR_SPECIFIC, 255]);
    data.extend([0xaa; 255]);
    data.extend([ml_subelement::FRAGMENT, 0]);
    data.extend([ml_subelement::FRAGMENT, 3, 1, 2, 3]);
    let mut copy = data.clone();
    assert_eq!(
        MultiLinkRepr::parse_in_place(&mut copy),
        Err(Error::Invalid(
            "Fragment subelement that continues no subelement"
        ))
    );
    // Without the stray Fragment the element parses, the zero-length Fragment joined.
    let mut copy = data[..data.len() - 5].to_vec();
    let ml = MultiLinkRepr::parse_in_place(&mut copy).unwrap();
    assert_eq!(ml.links.len(), 1);
    assert_eq!(
        ml.links[0],
        LinkInfoRepr::Other {
            id: ml_subelement::VENDOR_SPECIFIC,
            data: &[0xaa; 255][..],
        }
    );
    // A lone Fragment subelement at the start is refused by the contiguous parse too.
    let lone = [0x07, 0x00, 0x01, ml_subelement::FRAGMENT, 1, 9];
    assert!(matches!(
        MultiLinkRepr::parse(&lone),
        Err(Error::Invalid(_))
    ));
}
