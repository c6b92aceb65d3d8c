//! State-machine tests: frames in, frames out, parsed back with `hwsim_frame::ie`.

use hwsim_frame::ie::{
    self, mgmt_body_elements, sta_control, CommonInfo, ElementId, Elements, IeRepr, LinkInfoRepr,
    MultiLinkRepr, MultiLinkType, PerStaProfileRepr, ReducedNeighborReport, RsnRepr, StaControl,
    StaInfo, Suite,
};
use hwsim_frame::mac::{mgmt_subtype, Frame};
use hwsim_frame::MacAddr;

use crate::ap::{status, ApMld, Event};
use crate::config::{ApConfig, Security};
use crate::elements::{eid, Ie};
use hwsim_crypto::owe::{OweDhParam, OweKeyPair};
use hwsim_crypto::rng::SeededRng;

pub(crate) const THREE_LINKS: &str = r#"
ssid = "mlo"
mld_addr = "02:00:00:a0:00:00"
security = "SECURITY"
[[link]]
id = 0
band = "2.4"
channel = 1
bssid = "02:00:00:a0:00:10"
[[link]]
id = 1
band = "5"
channel = 36
bssid = "02:00:00:a0:00:11"
[[link]]
id = 2
band = "6"
channel = 5
bssid = "02:00:00:a0:00:12"
"#;

pub(crate) const STA_MLD: MacAddr = MacAddr([0x02, 0, 0, 0xb0, 0, 0]);
pub(crate) const STA_LINK: [MacAddr; 3] = [
    MacAddr([0x02, 0, 0, 0xb0, 0, 0x10]),
    MacAddr([0x02, 0, 0, 0xb0, 0, 0x11]),
    MacAddr([0x02, 0, 0, 0xb0, 0, 0x12]),
];

pub(crate) fn config(security: &str) -> ApConfig {
    ApConfig::parse(&THREE_LINKS.replace("SECURITY", security)).unwrap()
}

fn open_ap() -> ApMld {
    ApMld::new(config("open"), 1)
}

pub(crate) fn mgmt(subtype: u8, a1: MacAddr, a2: MacAddr, a3: MacAddr, body: &[u8]) -> Vec<u8> {
    let mut f = vec![subtype << 4, 0, 0, 0];
    f.extend_from_slice(&a1.0);
    f.extend_from_slice(&a2.0);
    f.extend_from_slice(&a3.0);
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(body);
    f
}

pub(crate) fn element(id: u8, ext: Option<u8>, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Ie {
        id,
        ext,
        data: data.to_vec(),
    }
    .write(&mut out);
    out
}

pub(crate) fn ml(repr: &MultiLinkRepr<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; repr.element_len()];
    let n = repr.emit_element(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

/// A non-AP MLD's authentication request on `link`.
pub(crate) fn auth_request(ap: &ApMld, link: usize) -> Vec<u8> {
    let bssid = ap.link_config(link).bssid;
    let mut body = vec![0, 0, 1, 0, 0, 0];
    body.extend(ml(&MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: CommonInfo {
            mld_addr: Some(STA_MLD),
            ..CommonInfo::default()
        },
        links: Vec::new(),
    }));
    mgmt(mgmt_subtype::AUTH, bssid, STA_LINK[link], bssid, &body)
}

/// A non-AP MLD's association request on `link` asking for every other link in `others`,
/// with `extra` elements in the main body.
pub(crate) fn assoc_request(ap: &ApMld, link: usize, others: &[usize], extra: &[u8]) -> Vec<u8> {
    let bssid = ap.link_config(link).bssid;
    let mut body = vec![0x11, 0x00, 10, 0];
    body.extend(element(0, None, b"mlo"));
    body.extend(element(1, None, &[0x8c, 0x12, 0x98, 0x24]));
    body.extend_from_slice(extra);
    let cap = [0x11u8, 0x00];
    let links = others
        .iter()
        .map(|&o| {
            LinkInfoRepr::PerStaProfile(PerStaProfileRepr {
                control: StaControl(
                    u16::from(ap.link_config(o).id) | sta_control::COMPLETE_PROFILE,
                ),
                info: Some(StaInfo {
                    mac_addr: Some(STA_LINK[o]),
                    ..StaInfo::default()
                }),
                profile: &cap,
            })
        })
        .collect();
    body.extend(ml(&MultiLinkRepr {
        kind: MultiLinkType::Basic,
        common: CommonInfo {
            mld_addr: Some(STA_MLD),
            mld_capabilities: Some(2),
            ..CommonInfo::default()
        },
        links,
    }));
    mgmt(mgmt_subtype::ASSOC_REQ, bssid, STA_LINK[link], bssid, &body)
}

pub(crate) fn owe_rsne() -> Vec<u8> {
    let mut d = Vec::new();
    d.extend_from_slice(&1u16.to_le_bytes());
    d.extend_from_slice(&Suite::CCMP_128.to_bytes());
    d.extend_from_slice(&1u16.to_le_bytes());
    d.extend_from_slice(&Suite::CCMP_128.to_bytes());
    d.extend_from_slice(&1u16.to_le_bytes());
    d.extend_from_slice(&Suite::AKM_OWE.to_bytes());
    d.extend_from_slice(&(ie::rsn_caps::MFPC | ie::rsn_caps::MFPR).to_le_bytes());
    element(ie::id::RSN, None, &d)
}

/// (ID, ext) of every element in `bytes`.
fn kinds(bytes: &[u8]) -> Vec<(u8, Option<u8>)> {
    Elements::new(bytes)
        .map(|e| e.unwrap())
        .map(|e| (e.id, e.ext))
        .collect()
}

fn has(kinds: &[(u8, Option<u8>)], id: u8, ext: Option<u8>) -> bool {
    kinds.contains(&(id, ext))
}

/// The elements mac80211 sees for a link from an association response: the main body's,
/// minus the per-STA profile's Non-Inheritance list, overridden by the profile's own
/// (`ieee802_11_parse_elems_full` with a link ID).
fn effective_elements(main: &[u8], profile_elems: &[u8]) -> Vec<(u8, Option<u8>)> {
    let prof = kinds(profile_elems);
    let mut ids: Vec<u8> = Vec::new();
    let mut exts: Vec<u8> = Vec::new();
    for e in Elements::new(profile_elems).map(|e| e.unwrap()) {
        if e.id == ie::id::EXTENSION && e.ext == Some(eid::EXT_NON_INHERITANCE) {
            let n = usize::from(e.data[0]);
            ids.extend_from_slice(&e.data[1..1 + n]);
            let m = usize::from(e.data[1 + n]);
            exts.extend_from_slice(&e.data[2 + n..2 + n + m]);
        }
    }
    let mut out: Vec<(u8, Option<u8>)> = kinds(main)
        .into_iter()
        .filter(|&(id, ext)| match ext {
            Some(x) => !exts.contains(&x),
            None => !ids.contains(&id),
        })
        .filter(|k| !prof.contains(k))
        .collect();
    out.extend(prof);
    out
}

#[test]
fn beacon_carries_ml_rnr_rsn_and_eht() {
    let mut ap = ApMld::new(config("owe"), 1);
    let tx = ap.beacon(1, 1234).unwrap();
    let f = Frame::new_checked(&tx.frame[..]).unwrap();
    assert_eq!(f.frame_control().subtype(), mgmt_subtype::BEACON);
    assert_eq!(f.addr2(), Some(MacAddr([0x02, 0, 0, 0xa0, 0, 0x11])));
    let elems: Vec<_> = mgmt_body_elements(&f)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    let find = |id: ElementId| elems.iter().find(|e| e.element_id() == id).unwrap();
    let ml = MultiLinkRepr::parse_element(find(ElementId::MultiLink)).unwrap();
    assert_eq!(ml.kind, MultiLinkType::Basic);
    assert_eq!(ml.common.mld_addr, Some(MacAddr([0x02, 0, 0, 0xa0, 0, 0])));
    assert_eq!(ml.common.link_id(), Some(1));
    assert_eq!(ml.common.bss_params_change_count, Some(0));
    assert_eq!(
        ml.common.mld_capabilities,
        Some(2 | 3 << 5),
        "max simultaneous links - 1, TID-to-link mapping negotiation with per-TID link sets"
    );
    let rsn = RsnRepr::parse_element(find(ElementId::Rsn)).unwrap();
    assert!(rsn.akms.unwrap().contains(Suite::AKM_OWE));
    assert!(rsn.mfp_required() && rsn.mfp_capable());
    assert_eq!(rsn.group_mgmt_cipher, Some(Suite::BIP_CMAC_128));
    let rnr = elems
        .iter()
        .find(|e| e.id == ie::id::REDUCED_NEIGHBOR_REPORT)
        .unwrap();
    let mut listed = Vec::new();
    for info in ReducedNeighborReport::new(rnr.data) {
        let info = info.unwrap();
        assert_eq!(info.tbtt_info_len(), 16);
        for t in info.tbtt_infos() {
            let t = t.unwrap();
            let mld = t.mld_params.unwrap();
            assert_eq!(mld.ap_mld_id, 0);
            listed.push((
                info.operating_class,
                info.channel,
                mld.link_id,
                t.bssid.unwrap(),
            ));
        }
    }
    assert_eq!(
        listed,
        [
            (81, 1, 0, MacAddr([0x02, 0, 0, 0xa0, 0, 0x10])),
            (131, 5, 2, MacAddr([0x02, 0, 0, 0xa0, 0, 0x12]))
        ]
    );
    let k: Vec<_> = elems.iter().map(|e| (e.id, e.ext)).collect();
    for (id, ext) in [
        (eid::HT_CAP, None),
        (eid::VHT_CAP, None),
        (eid::TIM, None),
        (255, Some(ie::ext_id::HE_CAPABILITIES)),
        (255, Some(ie::ext_id::EHT_CAPABILITIES)),
        (255, Some(ie::ext_id::EHT_OPERATION)),
        (ie::id::RSNX, None),
    ] {
        assert!(has(&k, id, ext), "5 GHz beacon lacks {id}/{ext:?}");
    }
    // 6 GHz: no HT/VHT/DS, but the HE 6 GHz band capabilities.
    let tx = ap.beacon(2, 0).unwrap();
    let f = Frame::new_checked(&tx.frame[..]).unwrap();
    let k: Vec<_> = mgmt_body_elements(&f)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.id, e.ext))
        .collect();
    assert!(
        !has(&k, eid::HT_CAP, None)
            && !has(&k, eid::VHT_CAP, None)
            && !has(&k, eid::DS_PARAMS, None)
    );
    assert!(has(&k, 255, Some(eid::EXT_HE_6GHZ_CAP)));
}

#[test]
fn multi_link_association_follows_inheritance_rules() {
    let mut ap = open_ap();
    // Authenticate on the 5 GHz link.
    let out = ap.handle(1, &auth_request(&ap, 1), 0);
    assert_eq!(out.len(), 1);
    let f = Frame::new_checked(&out[0].frame[..]).unwrap();
    assert_eq!(f.addr1(), STA_LINK[1]);
    assert_eq!(
        &f.payload()[..6],
        &[0, 0, 2, 0, 0, 0],
        "open system, seq 2, success"
    );
    // Associate, asking for the 2.4 and 6 GHz links too.
    let out = ap.handle(1, &assoc_request(&ap, 1, &[0, 2], &[]), 0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].link, 1);
    let f = Frame::new_checked(&out[0].frame[..]).unwrap();
    assert_eq!(f.frame_control().subtype(), mgmt_subtype::ASSOC_RESP);
    assert_eq!(f.addr1(), STA_LINK[1]);
    let body = f.payload();
    assert_eq!(u16::from_le_bytes([body[2], body[3]]), status::SUCCESS);
    let aid = u16::from_le_bytes([body[4], body[5]]);
    assert_eq!(aid, 0xc001);
    let main = &body[6..];
    let main_kinds = kinds(main);
    assert!(has(&main_kinds, eid::VHT_CAP, None) && has(&main_kinds, eid::HT_OP, None));
    assert!(has(&main_kinds, eid::SUPP_RATES, None));
    let ml_elem = Elements::new(main)
        .map(|e| e.unwrap())
        .find(|e| e.element_id() == ElementId::MultiLink)
        .unwrap();
    let mut scratch = vec![0u8; ml_elem.len()];
    let ml = MultiLinkRepr::parse_defragment(&ml_elem, &mut scratch).unwrap();
    assert_eq!(ml.common.mld_addr, Some(MacAddr([0x02, 0, 0, 0xa0, 0, 0])));
    assert_eq!(ml.common.link_id(), Some(1));
    let profiles: Vec<_> = ml.per_sta_profiles().collect();
    assert_eq!(profiles.len(), 2);
    for p in &profiles {
        assert!(p.control.complete_profile());
        assert!(
            p.control.bss_params_change_count_present(),
            "mac80211 drops profiles without BPCC"
        );
        let info = p.info.unwrap();
        assert_eq!(
            info.mac_addr,
            Some(ap.link_config(p.link_id() as usize).bssid)
        );
        assert_eq!(
            u16::from_le_bytes([p.profile[2], p.profile[3]]),
            status::SUCCESS
        );
        let eff = effective_elements(main, &p.profile[4..]);
        match p.link_id() {
            0 => {
                // 2.4 GHz: HT yes, VHT must not be inherited from the 5 GHz main body.
                assert!(has(&eff, eid::HT_CAP, None) && has(&eff, eid::EXT_RATES, None));
                assert!(
                    !has(&eff, eid::VHT_CAP, None) && !has(&eff, eid::VHT_OP, None),
                    "{eff:?}"
                );
            }
            2 => {
                // 6 GHz: no HT, no VHT; HE 6 GHz capabilities and HE/EHT present.
                assert!(
                    !has(&eff, eid::HT_CAP, None) && !has(&eff, eid::HT_OP, None),
                    "{eff:?}"
                );
                assert!(!has(&eff, eid::VHT_CAP, None) && !has(&eff, eid::VHT_OP, None));
                assert!(has(&eff, 255, Some(eid::EXT_HE_6GHZ_CAP)));
                assert!(has(&eff, 255, Some(ie::ext_id::EHT_OPERATION)));
            }
            other => panic!("unexpected profile for link {other}"),
        }
    }
    let s = ap.station(STA_MLD).unwrap();
    assert_eq!(s.aid, 1);
    assert_eq!(
        s.links,
        vec![(1, STA_LINK[1]), (0, STA_LINK[0]), (2, STA_LINK[2])]
    );
    assert!(matches!(
        ap.take_events()[..],
        [Event::Associated {
            sta: STA_MLD,
            aid: 1,
            ..
        }]
    ));
    // Downlink round-robin visits every link.
    let picks: Vec<usize> = (0..3)
        .map(|c| ap.downlink_link(STA_MLD, c).unwrap().0)
        .collect();
    assert_eq!(picks, [1, 0, 2]);
}

#[test]
fn association_on_2g4_disinherits_nothing_it_keeps_and_6ghz_drops_ht() {
    let mut ap = open_ap();
    ap.handle(0, &auth_request(&ap, 0), 0);
    let out = ap.handle(0, &assoc_request(&ap, 0, &[1, 2], &[]), 0);
    let f = Frame::new_checked(&out[0].frame[..]).unwrap();
    let main = &f.payload()[6..];
    let ml_elem = Elements::new(main)
        .map(|e| e.unwrap())
        .find(|e| e.element_id() == ElementId::MultiLink)
        .unwrap();
    let mut scratch = vec![0u8; ml_elem.len()];
    let ml = MultiLinkRepr::parse_defragment(&ml_elem, &mut scratch).unwrap();
    for p in ml.per_sta_profiles() {
        let eff = effective_elements(main, &p.profile[4..]);
        match p.link_id() {
            1 => {
                assert!(
                    has(&eff, eid::VHT_CAP, None),
                    "5 GHz profile carries its own VHT"
                );
                assert!(
                    !has(&eff, eid::EXT_RATES, None),
                    "2.4 GHz extended rates disinherited"
                );
            }
            2 => assert!(!has(&eff, eid::HT_CAP, None) && !has(&eff, eid::EXT_RATES, None)),
            _ => panic!(),
        }
    }
}

#[test]
fn association_without_authentication_is_refused_and_deauth_forgets() {
    let mut ap = open_ap();
    let out = ap.handle(1, &assoc_request(&ap, 1, &[0], &[]), 0);
    let f = Frame::new_checked(&out[0].frame[..]).unwrap();
    assert_eq!(f.frame_control().subtype(), mgmt_subtype::DEAUTH);
    ap.handle(1, &auth_request(&ap, 1), 0);
    ap.handle(1, &assoc_request(&ap, 1, &[0], &[]), 0);
    assert!(ap.station(STA_MLD).unwrap().associated());
    let bssid = ap.link_config(0).bssid;
    // Deauthentication from the station's 2.4 GHz link address, on that link.
    let deauth = mgmt(
        mgmt_subtype::DEAUTH,
        bssid,
        STA_LINK[0],
        bssid,
        &3u16.to_le_bytes(),
    );
    ap.handle(0, &deauth, 0);
    assert!(ap.station(STA_MLD).is_none());
}

/// The MLD's authentication on `link` heard from `addr` (a link address of this attempt).
fn auth_from(ap: &ApMld, link: usize, addr: MacAddr) -> Vec<u8> {
    let mut f = auth_request(ap, link);
    f[10..16].copy_from_slice(&addr.0);
    f
}

fn assoc_status(tx: &crate::Tx) -> u16 {
    let f = Frame::new_checked(&tx.frame[..]).unwrap();
    assert_eq!(f.frame_control().subtype(), mgmt_subtype::ASSOC_RESP);
    u16::from_le_bytes([f.payload()[2], f.payload()[3]])
}

#[test]
fn a_late_frame_of_an_abandoned_attempt_on_another_link_does_not_undo_the_new_one() {
    // The station's attempt on the 2.4 GHz link timed out on its side; it authenticated on
    // the 6 GHz link; then the medium delivers a retry of the old attempt's authentication
    // and its deauthentication (other channel, other queue). Its association request on
    // 6 GHz must still find the 6 GHz authentication (it was refused as a class 2 frame
    // from a non-authenticated station when one record per MLD address was overwritten).
    let old_attempt = MacAddr([0x02, 0, 0, 0xb0, 0, 0x20]);
    let bssid0 = open_ap().link_config(0).bssid;
    for late_deauth in [false, true] {
        let mut ap = open_ap();
        ap.handle(0, &auth_from(&ap, 0, old_attempt), 0);
        ap.handle(2, &auth_request(&ap, 2), 1_000);
        ap.handle(0, &auth_from(&ap, 0, old_attempt), 2_000);
        if late_deauth {
            let deauth = mgmt(
                mgmt_subtype::DEAUTH,
                bssid0,
                old_attempt,
                bssid0,
                &3u16.to_le_bytes(),
            );
            ap.handle(0, &deauth, 3_000);
            assert!(ap.station(STA_MLD).is_some(), "the 6 GHz attempt stands");
        }
        let out = ap.handle(2, &assoc_request(&ap, 2, &[0, 1], &[]), 4_000);
        assert_eq!(out.len(), 1);
        assert_eq!(
            assoc_status(&out[0]),
            status::SUCCESS,
            "late deauth: {late_deauth}"
        );
        let s = ap.station(STA_MLD).unwrap();
        assert_eq!(s.links[0], (2, STA_LINK[2]), "associated on 6 GHz");
        assert_eq!(s.links.len(), 3);
        // The old attempt is gone with the association: its association request now
        // gets the class 2 deauthentication.
        let mut stale = assoc_request(&ap, 0, &[], &[]);
        stale[10..16].copy_from_slice(&old_attempt.0);
        let out = ap.handle(0, &stale, 5_000);
        let f = Frame::new_checked(&out[0].frame[..]).unwrap();
        assert_eq!(f.frame_control().subtype(), mgmt_subtype::DEAUTH);
        assert!(ap.station(STA_MLD).unwrap().associated());
    }
}

#[test]
fn either_pending_attempt_may_associate_and_a_flood_keeps_the_newest() {
    let mut ap = open_ap();
    ap.handle(2, &auth_request(&ap, 2), 0);
    ap.handle(0, &auth_request(&ap, 0), 0);
    let out = ap.handle(2, &assoc_request(&ap, 2, &[0], &[]), 0);
    assert_eq!(assoc_status(&out[0]), status::SUCCESS);

    // Five authentications from five addresses: the oldest falls out.
    let mut ap = open_ap();
    let addr = |i: u8| MacAddr([0x02, 0, 0, 0xb0, 1, i]);
    for i in 0..5 {
        ap.handle(1, &auth_from(&ap, 1, addr(i)), 0);
    }
    for (i, expect) in [(0u8, None), (4, Some(status::SUCCESS))] {
        let mut req = assoc_request(&ap, 1, &[], &[]);
        req[10..16].copy_from_slice(&addr(i).0);
        let out = ap.handle(1, &req, 0);
        let f = Frame::new_checked(&out[0].frame[..]).unwrap();
        match expect {
            None => assert_eq!(f.frame_control().subtype(), mgmt_subtype::DEAUTH),
            Some(code) => assert_eq!(assoc_status(&out[0]), code),
        }
    }
}

#[test]
fn deauthentication_of_the_only_pending_attempt_forgets_the_station_without_a_departure() {
    let mut ap = open_ap();
    ap.handle(1, &auth_request(&ap, 1), 0);
    let bssid = ap.link_config(1).bssid;
    let deauth = mgmt(
        mgmt_subtype::DEAUTH,
        bssid,
        STA_LINK[1],
        bssid,
        &3u16.to_le_bytes(),
    );
    ap.handle(1, &deauth, 0);
    assert!(ap.station(STA_MLD).is_none());
    assert_eq!(ap.counters().departures, 0);
    let out = ap.handle(1, &assoc_request(&ap, 1, &[], &[]), 0);
    let f = Frame::new_checked(&out[0].frame[..]).unwrap();
    assert_eq!(f.frame_control().subtype(), mgmt_subtype::DEAUTH);
}

#[test]
fn ml_probe_response_has_complete_profiles_with_tsf_and_beacon_interval() {
    let mut ap = open_ap();
    let bssid = ap.link_config(1).bssid;
    let mut body = element(0, None, b"mlo");
    body.extend(ml(&MultiLinkRepr {
        kind: MultiLinkType::ProbeRequest,
        common: CommonInfo {
            ap_mld_id: Some(0),
            ..CommonInfo::default()
        },
        links: Vec::new(),
    }));
    let req = mgmt(mgmt_subtype::PROBE_REQ, bssid, STA_LINK[1], bssid, &body);
    let out = ap.handle(1, &req, 0);
    let f = Frame::new_checked(&out[0].frame[..]).unwrap();
    assert_eq!(f.frame_control().subtype(), mgmt_subtype::PROBE_RESP);
    let elems: Vec<_> = mgmt_body_elements(&f)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    let ml_elem = elems
        .iter()
        .find(|e| e.element_id() == ElementId::MultiLink)
        .unwrap();
    let mut scratch = vec![0u8; ml_elem.len()];
    let ml = MultiLinkRepr::parse_defragment(ml_elem, &mut scratch).unwrap();
    let ids: Vec<u8> = ml.per_sta_profiles().map(|p| p.link_id()).collect();
    assert_eq!(ids, [0, 2]);
    for p in ml.per_sta_profiles() {
        let info = p.info.unwrap();
        assert!(p.control.complete_profile());
        assert_eq!(info.beacon_interval, Some(100));
        assert_eq!(info.tsf_offset, Some(0));
        assert!(info.mac_addr.is_some());
        let k = kinds(&p.profile[2..]);
        assert!(has(&k, 255, Some(ie::ext_id::EHT_CAPABILITIES)));
    }
    // A probe for another SSID gets no answer.
    let other = mgmt(
        mgmt_subtype::PROBE_REQ,
        MacAddr::BROADCAST,
        STA_LINK[1],
        MacAddr::BROADCAST,
        &element(0, None, b"x"),
    );
    assert!(ap.handle(1, &other, 0).is_empty());
}

#[test]
fn link_removal_counts_down_in_every_beacon_then_stops_the_link() {
    let mut ap = open_ap();
    ap.handle(1, &auth_request(&ap, 1), 0);
    ap.handle(1, &assoc_request(&ap, 1, &[0, 2], &[]), 0);
    ap.take_events();
    ap.remove_link(2, 3).unwrap();
    assert!(ap.remove_link(2, 3).is_err());
    let mut timers = Vec::new();
    for _ in 0..4 {
        let mut per_tbtt = Vec::new();
        for link in 0..3 {
            let Some(tx) = ap.beacon(link, 0) else {
                per_tbtt.push(None);
                continue;
            };
            let f = Frame::new_checked(&tx.frame[..]).unwrap();
            let reconf = mgmt_body_elements(&f)
                .unwrap()
                .map(|e| e.unwrap())
                .filter(|e| e.element_id() == ElementId::MultiLink)
                .find_map(|e| {
                    let m = MultiLinkRepr::parse_element(&e).ok()?;
                    (m.kind == MultiLinkType::Reconfiguration).then(|| {
                        let p = *m.per_sta_profiles().next().unwrap();
                        (p.link_id(), p.info.unwrap().ap_removal_timer)
                    })
                });
            per_tbtt.push(reconf);
        }
        timers.push(per_tbtt);
    }
    assert_eq!(timers[0], [Some((2, Some(2))); 3]);
    assert_eq!(timers[1], [Some((2, Some(1))); 3]);
    // Removed: link 2 is silent; the others still say so with timer 0.
    assert_eq!(timers[2], [Some((2, Some(0))), Some((2, Some(0))), None]);
    assert!(ap
        .take_events()
        .contains(&Event::LinkRemoved { link_id: 2 }));
    let s = ap.station(STA_MLD).unwrap();
    assert_eq!(s.links, vec![(1, STA_LINK[1]), (0, STA_LINK[0])]);
    assert!(ap.remove_link(0, 1).is_ok());
    assert!(ap.remove_link(1, 1).is_err(), "the last link stays");
}

#[test]
fn owe_association_needs_rsne_and_dh_element_then_starts_the_4way_handshake() {
    let mut ap = ApMld::new(config("owe"), 7);
    assert_eq!(ap.config().security, Security::Owe);
    ap.handle(1, &auth_request(&ap, 1), 0);
    let status_of = |out: &[crate::Tx]| {
        let f = Frame::new_checked(&out[0].frame[..]).unwrap();
        u16::from_le_bytes([f.payload()[2], f.payload()[3]])
    };
    // No RSNE: refused.
    let out = ap.handle(1, &assoc_request(&ap, 1, &[0], &[]), 0);
    assert_eq!(status_of(&out), status::INVALID_RSNE);
    // RSNE but no DH parameter: refused.
    let out = ap.handle(1, &assoc_request(&ap, 1, &[0], &owe_rsne()), 0);
    assert_eq!(status_of(&out), status::UNSUPPORTED_GROUP);
    // With our DH public key: accepted, the AP's key comes back and both ends derive the
    // same PMK (checked through the PMKID the AP puts in message 1).
    let mut rng = SeededRng::new(99);
    let pair = OweKeyPair::generate(&mut rng);
    let mut extra = owe_rsne();
    pair.dh_param().emit_element(&mut extra);
    let out = ap.handle(1, &assoc_request(&ap, 1, &[0, 2], &extra), 0);
    assert_eq!(status_of(&out), status::SUCCESS);
    let f = Frame::new_checked(&out[0].frame[..]).unwrap();
    let dh_reply = Elements::new(&f.payload()[6..])
        .map(|e| e.unwrap())
        .find(|e| e.ext == Some(eid::EXT_OWE_DH))
        .unwrap();
    let ap_param = OweDhParam::parse_body(dh_reply.data).unwrap();
    assert_eq!(ap_param.group, 19);
    let sta_keys = pair.sta_derive(&ap_param).unwrap();
    // Message 1 of the 4-way handshake follows on the association link: QoS Data from the
    // AP MLD to the station's link address, LLC/SNAP EtherType 0x888e, PMKID KDE inside.
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].link, 1);
    let m1 = Frame::new_checked(&out[1].frame[..]).unwrap();
    assert!(m1.frame_control().is_qos_data() && m1.frame_control().from_ds());
    assert!(!m1.frame_control().protected());
    assert_eq!(m1.addr1(), STA_LINK[1]);
    assert_eq!(m1.addr3(), Some(MacAddr([0x02, 0, 0, 0xa0, 0, 0])));
    let body = m1.payload();
    assert_eq!(&body[..8], &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x88, 0x8e]);
    let pdu = &body[8..];
    assert!(
        pdu.windows(16).any(|w| w == sta_keys.pmkid),
        "message 1 carries the PMKID both ends derived"
    );
    // Data does not flow before the handshake completes.
    let mut eth = STA_MLD.0.to_vec();
    eth.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x99, 0x08, 0x00]);
    eth.extend_from_slice(&[0u8; 28]);
    assert!(ap.downlink(&eth, 0).is_empty());
    // Unanswered, message 1 is sent again after a second, four times; then the station is
    // deauthenticated (reason 15) and forgotten.
    assert!(ap.poll(500_000).is_empty());
    for i in 1..=4u64 {
        let out = ap.poll(i * 1_100_000);
        assert_eq!(out.len(), 1);
        assert!(Frame::new_checked(&out[0].frame[..])
            .unwrap()
            .frame_control()
            .is_qos_data());
    }
    let out = ap.poll(6_000_000);
    assert_eq!(out.len(), 1);
    let f = Frame::new_checked(&out[0].frame[..]).unwrap();
    assert_eq!(f.frame_control().subtype(), mgmt_subtype::DEAUTH);
    assert_eq!(f.payload(), &15u16.to_le_bytes());
    assert!(ap.station(STA_MLD).is_none());
}

/// The AP's OWE public key in its association response to a fixed station.
fn owe_reply_key(mut ap: ApMld) -> Vec<u8> {
    ap.handle(1, &auth_request(&ap, 1), 0);
    let pair = OweKeyPair::generate(&mut SeededRng::new(99));
    let mut extra = owe_rsne();
    pair.dh_param().emit_element(&mut extra);
    let out = ap.handle(1, &assoc_request(&ap, 1, &[0, 2], &extra), 0);
    let f = Frame::new_checked(&out[0].frame[..]).unwrap();
    let dh = Elements::new(&f.payload()[6..])
        .map(|e| e.unwrap())
        .find(|e| e.ext == Some(eid::EXT_OWE_DH))
        .expect("a DH Parameter element");
    dh.data.to_vec()
}

#[test]
fn keys_come_from_the_os_unless_a_seed_fixes_them() {
    let os = || owe_reply_key(ApMld::with_os_entropy(config("owe")).unwrap());
    assert_ne!(os(), os(), "two OS-seeded APs draw different DH keys");
    let seeded = || owe_reply_key(ApMld::new(config("owe"), 7));
    assert_eq!(seeded(), seeded(), "the same seed, the same keys");
    let cfg = ApConfig::parse(&format!(
        "key_seed = 7\n{}",
        THREE_LINKS.replace("SECURITY", "owe")
    ))
    .unwrap();
    assert_eq!(cfg.key_seed, Some(7));
    assert_eq!(config("owe").key_seed, None);
}

#[test]
fn open_network_bridges_ethernet_and_802_11_data_round_robin() {
    let mut ap = open_ap();
    ap.handle(1, &auth_request(&ap, 1), 0);
    ap.handle(1, &assoc_request(&ap, 1, &[0, 2], &[]), 0);
    // Downlink: one frame per link in turn, A1 the station's link address, LLC/SNAP inside.
    let host = MacAddr([0x02, 0, 0, 0, 0, 0x99]);
    let mut eth = STA_MLD.0.to_vec();
    eth.extend_from_slice(&host.0);
    eth.extend_from_slice(&[0x08, 0x00]);
    eth.extend_from_slice(b"an IPv4 payload");
    let mut seen = Vec::new();
    for c in 0..3 {
        let out = ap.downlink(&eth, c);
        assert_eq!(out.len(), 1);
        let f = Frame::new_checked(&out[0].frame[..]).unwrap();
        assert_eq!(f.addr1(), STA_LINK[out[0].link]);
        assert_eq!(f.addr2(), Some(ap.link_config(out[0].link).bssid));
        assert_eq!(f.addr3(), Some(host));
        assert_eq!(&f.payload()[6..8], &[0x08, 0x00]);
        assert_eq!(&f.payload()[8..], b"an IPv4 payload");
        seen.push(out[0].link);
    }
    seen.sort();
    assert_eq!(seen, [0, 1, 2]);
    // Uplink on the 6 GHz link: ToDS QoS data → Ethernet with the MLD address as source.
    let bssid = ap.link_config(2).bssid;
    let mut up = vec![0x88, 0x01, 0, 0];
    up.extend_from_slice(&bssid.0);
    up.extend_from_slice(&STA_LINK[2].0);
    up.extend_from_slice(&host.0);
    up.extend_from_slice(&[0, 0, 0, 0]);
    up.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06]);
    up.extend_from_slice(b"arp");
    assert!(ap.handle(2, &up, 0).is_empty());
    let eth_up = ap.take_uplink();
    assert_eq!(eth_up.len(), 1);
    assert_eq!(&eth_up[0][..6], &host.0);
    assert_eq!(&eth_up[0][6..12], &STA_MLD.0);
    assert_eq!(&eth_up[0][12..], &[0x08, 0x06, b'a', b'r', b'p']);
    assert_eq!(ap.counters().rx, [0, 0, 1]);
    // From an unknown station: dropped.
    let mut stranger = up.clone();
    stranger[10] = 0x06;
    ap.handle(2, &stranger, 0);
    assert!(ap.take_uplink().is_empty());
    assert_eq!(ap.counters().rx_dropped, 1);
    // Broadcast from the host goes out on every link with one sequence number.
    let mut bcast = MacAddr::BROADCAST.0.to_vec();
    bcast.extend_from_slice(&host.0);
    bcast.extend_from_slice(&[0x08, 0x06, 1, 2, 3]);
    let out = ap.downlink(&bcast, 0);
    let links: Vec<usize> = out.iter().map(|t| t.link).collect();
    assert_eq!(links, [0, 1, 2]);
    let seqs: Vec<_> = out
        .iter()
        .map(|t| Frame::new_checked(&t.frame[..]).unwrap().sequence_number())
        .collect();
    assert!(seqs.iter().all(|s| *s == seqs[0]));
}

/// mac80211 (a non-AP MLD station) drops a group-addressed data frame whose sequence number
/// is not after the last group frame's (`mcast_seq_last` in `ieee80211_rx_h_check_dup`): the
/// group frames' numbers must step by one however much unicast went out in between.
#[test]
fn group_frames_number_on_their_own_whatever_unicast_goes_between() {
    let mut ap = open_ap();
    ap.handle(1, &auth_request(&ap, 1), 0);
    ap.handle(1, &assoc_request(&ap, 1, &[0, 2], &[]), 0);
    let host = MacAddr([0x02, 0, 0, 0, 0, 0x99]);
    let eth = |da: MacAddr| {
        let mut e = da.0.to_vec();
        e.extend_from_slice(&host.0);
        e.extend_from_slice(&[0x08, 0x06, 1, 2, 3]);
        e
    };
    let group_seq = |ap: &mut ApMld| {
        let out = ap.downlink(&eth(MacAddr::BROADCAST), 0);
        assert_eq!(out.len(), 3);
        Frame::new_checked(&out[0].frame[..])
            .unwrap()
            .sequence_number()
            .unwrap()
    };
    let first = group_seq(&mut ap);
    // 3000 unicast frames (a few hundred ms of iperf3) on the three links: more than half the
    // 4096 sequence numbers of link 0.
    for c in 0..3000 {
        assert_eq!(ap.downlink(&eth(STA_MLD), c).len(), 1);
    }
    let second = group_seq(&mut ap);
    assert_eq!(second, (first + 1) & 0x0fff);
}

/// The same frame from a second station: every address of the first (02:00:00:b0:…) moved to
/// 02:00:00:c0:….
pub(crate) fn from_second_station(frame: &[u8]) -> Vec<u8> {
    let mut f = frame.to_vec();
    for i in 0..f.len().saturating_sub(3) {
        if f[i..i + 4] == [0x02, 0, 0, 0xb0] {
            f[i + 3] = 0xc0;
        }
    }
    f
}

/// An unprotected ToDS QoS data frame from `sta_link` on `link` to `da`, LLC/SNAP + IPv4.
fn uplink_data(ap: &ApMld, link: usize, sta_link: MacAddr, da: MacAddr, payload: &[u8]) -> Vec<u8> {
    let bssid = ap.link_config(link).bssid;
    let mut up = vec![0x88, 0x01, 0, 0];
    up.extend_from_slice(&bssid.0);
    up.extend_from_slice(&sta_link.0);
    up.extend_from_slice(&da.0);
    up.extend_from_slice(&[0, 0, 0, 0]);
    up.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
    up.extend_from_slice(payload);
    up
}

#[test]
fn stations_reach_each_other_through_the_ap_unless_isolated() {
    let sta2_mld = MacAddr([0x02, 0, 0, 0xc0, 0, 0]);
    for isolate in [false, true] {
        let mut cfg = config("open");
        cfg.ap_isolate = isolate;
        let mut ap = ApMld::new(cfg, 1);
        for f in [auth_request(&ap, 1), assoc_request(&ap, 1, &[0, 2], &[])] {
            ap.handle(1, &f, 0);
            ap.handle(1, &from_second_station(&f), 0);
        }
        assert!(ap.station(STA_MLD).is_some_and(|s| s.authorized()));
        assert!(ap.station(sta2_mld).is_some_and(|s| s.authorized()));

        // Unicast from station 1 (on the 6 GHz link) to station 2's MLD address.
        let out = ap.handle(
            2,
            &uplink_data(&ap, 2, STA_LINK[2], sta2_mld, b"to sta2"),
            0,
        );
        if isolate {
            assert!(out.is_empty());
            let up = ap.take_uplink();
            assert_eq!(up.len(), 1, "isolated: to the distribution system");
            assert_eq!(&up[0][..6], &sta2_mld.0);
            continue;
        }
        assert_eq!(out.len(), 1);
        let f = Frame::new_checked(&out[0].frame[..]).unwrap();
        let a1 = f.addr1();
        assert_eq!(
            a1.0[..4],
            [0x02, 0, 0, 0xc0],
            "to a link of station 2, got {a1}"
        );
        assert_eq!(f.addr2(), Some(ap.link_config(out[0].link).bssid));
        assert_eq!(f.addr3(), Some(STA_MLD), "SA is the sender's MLD address");
        assert_eq!(&f.payload()[8..], b"to sta2");
        assert!(
            ap.take_uplink().is_empty(),
            "not sent to the distribution system"
        );
        assert_eq!(ap.counters().relayed, 1);

        // Broadcast from station 2: into the BSS on every link and to the distribution system.
        let bcast = uplink_data(
            &ap,
            0,
            MacAddr([0x02, 0, 0, 0xc0, 0, 0x10]),
            MacAddr::BROADCAST,
            b"arp?",
        );
        let out = ap.handle(0, &bcast, 0);
        let links: Vec<usize> = out.iter().map(|t| t.link).collect();
        assert_eq!(links, [0, 1, 2]);
        for t in &out {
            let f = Frame::new_checked(&t.frame[..]).unwrap();
            assert_eq!(f.addr1(), MacAddr::BROADCAST);
            assert_eq!(f.addr3(), Some(sta2_mld));
        }
        let up = ap.take_uplink();
        assert_eq!(up.len(), 1);
        assert_eq!(&up[0][6..12], &sta2_mld.0);
        assert_eq!(ap.counters().relayed, 4);

        // To a host behind the distribution system: not relayed.
        let host = MacAddr([0x02, 0, 0, 0, 0, 0x99]);
        assert!(ap
            .handle(1, &uplink_data(&ap, 1, STA_LINK[1], host, b"x"), 0)
            .is_empty());
        assert_eq!(ap.take_uplink().len(), 1);
    }
}

#[test]
fn no_relayed_or_downlink_frame_exceeds_what_hwsim_accepts() {
    let mut ap = open_ap();
    for f in [auth_request(&ap, 1), assoc_request(&ap, 1, &[0, 2], &[])] {
        ap.handle(1, &f, 0);
        ap.handle(1, &from_second_station(&f), 0);
    }
    let sta2_link0 = MacAddr([0x02, 0, 0, 0xc0, 0, 0x10]);
    let max = hwsim_frame::nl::MAX_FRAME_LEN;
    // Header (26) + LLC/SNAP (8) + payload: the largest group frame that still fits.
    let fits = vec![0x5a; max - 34];
    let out = ap.handle(
        0,
        &uplink_data(&ap, 0, sta2_link0, MacAddr::BROADCAST, &fits),
        0,
    );
    assert_eq!(out.len(), 3, "relayed on every link");
    assert!(out.iter().all(|t| t.frame.len() == max));
    assert_eq!(ap.counters().tx_oversize, 0);
    ap.take_uplink();

    // A station's group frame one byte larger (the medium hands the AP whatever a guest
    // sent): into the distribution system, but never back into the BSS, where every
    // receiver's mac80211_hwsim would drop it.
    let big = vec![0x5a; max - 33];
    let out = ap.handle(
        0,
        &uplink_data(&ap, 0, sta2_link0, MacAddr::BROADCAST, &big),
        0,
    );
    assert!(
        out.is_empty(),
        "{:?}",
        out.iter().map(|t| t.frame.len()).collect::<Vec<_>>()
    );
    assert_eq!(ap.counters().tx_oversize, 1);
    assert_eq!(
        ap.take_uplink().len(),
        1,
        "the distribution system still gets it"
    );

    // Unicast from station 2 to station 1, and from the distribution system: the same.
    let out = ap.handle(0, &uplink_data(&ap, 0, sta2_link0, STA_MLD, &big), 0);
    assert!(out.is_empty());
    let mut eth = Vec::new();
    eth.extend_from_slice(&STA_MLD.0);
    eth.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x99]);
    eth.extend_from_slice(&0x0800u16.to_be_bytes());
    eth.extend_from_slice(&big);
    assert!(ap.downlink(&eth, 0).is_empty());
    assert_eq!(ap.counters().tx_oversize, 3);
    eth.truncate(eth.len() - 1);
    let out = ap.downlink(&eth, 0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].frame.len(), max);
}

#[test]
fn secured_downlink_counts_the_ccmp_overhead() {
    let mut ap = ApMld::new(config("owe"), 3);
    // Nobody is authorized, so nothing goes out; the size check comes first and counts.
    let mut eth = vec![0xff; 6];
    eth.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x99]);
    eth.extend_from_slice(&0x0800u16.to_be_bytes());
    eth.extend(vec![0u8; hwsim_frame::nl::MAX_FRAME_LEN - 34 - 16 + 1]);
    assert!(ap.downlink(&eth, 0).is_empty());
    assert_eq!(ap.counters().tx_oversize, 1);
    eth.pop();
    assert!(ap.downlink(&eth, 0).is_empty());
    assert_eq!(
        ap.counters().tx_oversize,
        1,
        "fits once CCMP's 16 bytes are added"
    );
}

#[test]
fn hostile_frames_never_panic() {
    let mut ap = ApMld::new(config("owe"), 3);
    let mut open = open_ap();
    let mut pair_rng = SeededRng::new(5);
    let pair = OweKeyPair::generate(&mut pair_rng);
    let mut extra = owe_rsne();
    pair.dh_param().emit_element(&mut extra);
    let valid = [
        auth_request(&ap, 1),
        assoc_request(&ap, 1, &[0, 2], &extra),
        assoc_request(&ap, 0, &[1, 2], &[]),
        mgmt(
            mgmt_subtype::PROBE_REQ,
            MacAddr::BROADCAST,
            STA_LINK[0],
            MacAddr::BROADCAST,
            &element(0, None, b"mlo"),
        ),
    ];
    // Every truncation of every valid frame, then the frames with bytes flipped.
    let mut seed = 0x1234_5678u32;
    for f in &valid {
        for n in 0..=f.len() {
            for a in [&mut ap, &mut open] {
                a.handle(1, &f[..n], 0);
                a.handle(0, &f[..n], 0);
            }
        }
        for _ in 0..300 {
            let mut g = f.clone();
            for _ in 0..4 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let i = (seed >> 8) as usize % g.len();
                g[i] ^= (seed >> 24) as u8 | 1;
            }
            for a in [&mut ap, &mut open] {
                a.handle(1, &g, 0);
                a.handle(2, &g, 0);
                a.downlink(&g, u64::from(seed));
            }
        }
    }
    // Data frames with any header from anyone, and short Ethernet frames.
    for n in 0..40 {
        let junk: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
        let mut data = vec![0x88, 0x41];
        data.extend_from_slice(&junk);
        for a in [&mut ap, &mut open] {
            a.handle(0, &data, 0);
            a.downlink(&junk, 0);
        }
    }
}

#[test]
fn wide_links_describe_their_channel_in_ht_vht_and_he_operation() {
    let text = THREE_LINKS
        .replace("SECURITY", "owe")
        .replace("channel = 1\n", "channel = 1\nwidth = 40\n")
        .replace("channel = 36\n", "channel = 36\nwidth = 80\n")
        .replace("channel = 5\n", "channel = 5\nwidth = 80\n");
    let mut ap = ApMld::new(ApConfig::parse(&text).unwrap(), 1);
    let element = |ap: &mut ApMld, link: usize, id: u8, ext: Option<u8>| -> Vec<u8> {
        let tx = ap.beacon(link, 0).unwrap();
        let f = Frame::new_checked(&tx.frame[..]).unwrap();
        let e = mgmt_body_elements(&f)
            .unwrap()
            .map(|e| e.unwrap())
            .find(|e| e.id == id && e.ext == ext)
            .unwrap();
        e.data.to_vec()
    };
    // 2.4 GHz ch 1, 40 MHz: secondary above, any width; HT capabilities say 20/40.
    assert_eq!(element(&mut ap, 0, eid::HT_OP, None)[..2], [1, 0x05]);
    assert_eq!(element(&mut ap, 0, eid::HT_CAP, None)[0] & 0x02, 0x02);
    // 5 GHz ch 36, 80 MHz: HT secondary above, VHT width 1 centred on 42.
    assert_eq!(element(&mut ap, 1, eid::HT_OP, None)[..2], [36, 0x05]);
    assert_eq!(element(&mut ap, 1, eid::VHT_OP, None)[..3], [1, 42, 0]);
    // 6 GHz ch 5, 80 MHz: HE 6 GHz Operation Information (primary, width 2, CCFS0 7).
    let he = element(&mut ap, 2, 255, Some(ie::ext_id::HE_OPERATION));
    assert_eq!(he[6..10], [5, 2, 7, 0]);
    // The RNR names the wide channels' operating classes (2.4 GHz 40 MHz above: 83; 6 GHz
    // 80 MHz: 133).
    let rnr = element(&mut ap, 1, ie::id::REDUCED_NEIGHBOR_REPORT, None);
    let classes: Vec<u8> = ReducedNeighborReport::new(&rnr)
        .map(|i| i.unwrap().operating_class)
        .collect();
    assert_eq!(classes, [83, 133]);
}

/// The 2.4 GHz link's beacon: ERP between the TIM and the Extended Supported Rates, and HT and
/// HE capabilities that agree on the channel widths (20 MHz only on a 20 MHz link, 20/40 on a
/// 40 MHz one); LDPC advertised in HT, VHT and HE. Association responses carry no ERP.
#[test]
fn the_2g4_link_has_erp_and_ht_he_widths_that_agree() {
    for (width, forty) in [(None, false), (Some(40), true)] {
        let text = match width {
            Some(w) => THREE_LINKS.replace("channel = 1\n", &format!("channel = 1\nwidth = {w}\n")),
            None => THREE_LINKS.to_owned(),
        }
        .replace("SECURITY", "open");
        let mut ap = ApMld::new(ApConfig::parse(&text).unwrap(), 1);
        let tx = ap.beacon(0, 0).unwrap();
        let f = Frame::new_checked(&tx.frame[..]).unwrap();
        let elems: Vec<_> = mgmt_body_elements(&f)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        let pos = |id: u8| elems.iter().position(|e| e.id == id && e.ext.is_none());
        let erp = pos(eid::ERP).expect("an ERP element on 2.4 GHz");
        assert_eq!(elems[erp].data, [0x00]);
        assert!(pos(eid::TIM).unwrap() < erp && erp < pos(eid::EXT_RATES).unwrap());
        let ht = elems[pos(eid::HT_CAP).unwrap()].data;
        let ht_op = elems[pos(eid::HT_OP).unwrap()].data;
        let he = elems
            .iter()
            .find(|e| e.ext == Some(ie::ext_id::HE_CAPABILITIES))
            .unwrap()
            .data;
        assert_eq!(ht[0] & 0x02 != 0, forty, "HT 20/40, width {width:?}");
        assert_eq!(
            he[6] & 0x02 != 0,
            forty,
            "HE 40 MHz in 2.4 GHz, width {width:?}"
        );
        assert_eq!(
            ht_op[1] & 0x04 != 0,
            forty,
            "HT operation width, width {width:?}"
        );
        assert_eq!(ht[0] & 0x01, 0x01, "HT LDPC");
        assert_eq!(he[7] & 0x20, 0x20, "HE LDPC in payload");
        // No ERP on 5 GHz.
        let tx = ap.beacon(1, 0).unwrap();
        let f = Frame::new_checked(&tx.frame[..]).unwrap();
        let five: Vec<_> = mgmt_body_elements(&f)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        assert!(!five.iter().any(|e| e.id == eid::ERP));
        let vht = five.iter().find(|e| e.id == eid::VHT_CAP).unwrap().data;
        assert_eq!(vht[0] & 0x10, 0x10, "VHT RX LDPC");
    }
    let elements = crate::elements::link_elements(&config("open").links[0], Security::Open, false);
    assert!(elements.iter().any(|e| e.id == eid::ERP));
    assert!(!super::ap::assoc_resp_elements(&elements)
        .iter()
        .any(|e| e.id == eid::ERP));
}
