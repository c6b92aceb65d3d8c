//! Negotiated TID-to-link mapping: request → response → downlink only on the mapped links →
//! teardown, the refusals, the PMF rule, and the downlink TID classification.

use hwsim_crypto::ccmp::CcmpKey;
use hwsim_frame::mac::{mgmt_subtype, Frame};
use hwsim_frame::MacAddr;

use crate::ap::{
    classify_tid, status, ApMld, NegotiatedTtlm, CATEGORY_PROTECTED_EHT, STATUS_DENIED_TTLM,
    TTLM_REQUEST, TTLM_RESPONSE, TTLM_TEARDOWN,
};
use crate::tests::{assoc_request, auth_request, config, mgmt, STA_LINK, STA_MLD};
use crate::tests_bprot::{associated, decrypt_from_ap, protected_from_sta};
use crate::tests_sae::sae_ap;

const HOST: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x99]);

/// Open network, the station associated on link 1 with links 0 and 2.
pub(crate) fn open_associated() -> ApMld {
    let mut ap = ApMld::new(config("open"), 1);
    ap.handle(1, &auth_request(&ap, 1), 0);
    ap.handle(1, &assoc_request(&ap, 1, &[0, 2], &[]), 0);
    assert!(ap.station(STA_MLD).unwrap().authorized());
    ap
}

/// A TID-To-Link Mapping element as mac80211's ieee80211_neg_ttlm_add_suggested_map writes
/// it: control = direction, presence indicator, a two-octet map per present TID.
pub(crate) fn ttlm_element(direction: u8, maps: [u16; 8]) -> Vec<u8> {
    let mut data = vec![direction, 0];
    for (tid, m) in maps.iter().enumerate() {
        if *m != 0 {
            data[1] |= 1 << tid;
            data.extend_from_slice(&m.to_le_bytes());
        }
    }
    let mut e = vec![255, data.len() as u8 + 1, 109];
    e.extend_from_slice(&data);
    e
}

pub(crate) fn request_body(token: u8, elements: &[u8]) -> Vec<u8> {
    let mut b = vec![CATEGORY_PROTECTED_EHT, TTLM_REQUEST, token];
    b.extend_from_slice(elements);
    b
}

fn action_from_sta(ap: &ApMld, link: usize, body: &[u8]) -> Vec<u8> {
    let bssid = ap.link_config(link).bssid;
    mgmt(mgmt_subtype::ACTION, bssid, STA_LINK[link], bssid, body)
}

/// Sends a request on `link`; returns the response's (dialog token, status).
fn request(ap: &mut ApMld, link: usize, token: u8, elements: &[u8]) -> (u8, u16) {
    let out = ap.handle(
        link,
        &action_from_sta(ap, link, &request_body(token, elements)),
        0,
    );
    assert_eq!(out.len(), 1, "one response");
    assert_eq!(out[0].link, link);
    let f = Frame::new_checked(&out[0].frame[..]).unwrap();
    assert_eq!(f.addr1(), STA_LINK[link]);
    let p = f.payload();
    assert_eq!(&p[..2], &[CATEGORY_PROTECTED_EHT, TTLM_RESPONSE]);
    assert_eq!(p.len(), 5, "no elements in the response");
    (p[2], u16::from_le_bytes([p[3], p[4]]))
}

/// An IPv4 Ethernet frame from the host to the station with this TOS octet.
pub(crate) fn ipv4_to_sta(tos: u8) -> Vec<u8> {
    let mut e = STA_MLD.0.to_vec();
    e.extend_from_slice(&HOST.0);
    e.extend_from_slice(&[0x08, 0x00, 0x45, tos]);
    e.extend_from_slice(&[0; 18]);
    e
}

/// Links and QoS TIDs of `n` downlink frames.
pub(crate) fn downlink_links(ap: &mut ApMld, eth: &[u8], n: u64) -> Vec<(usize, u8)> {
    (0..n)
        .map(|c| {
            let out = ap.downlink(eth, c);
            assert_eq!(out.len(), 1);
            let f = Frame::new_checked(&out[0].frame[..]).unwrap();
            assert_eq!(f.addr1(), STA_LINK[out[0].link]);
            (out[0].link, f.qos_tid().unwrap())
        })
        .collect()
}

fn uplink_ipv4(ap: &ApMld, link: usize, tid: u8) -> Vec<u8> {
    let bssid = ap.link_config(link).bssid;
    let mut up = vec![0x88, 0x01, 0, 0];
    up.extend_from_slice(&bssid.0);
    up.extend_from_slice(&STA_LINK[link].0);
    up.extend_from_slice(&HOST.0);
    up.extend_from_slice(&[0, 0, tid, 0]);
    up.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45, 0]);
    up
}

#[test]
fn request_response_downlink_on_mapped_links_then_teardown() {
    let mut ap = open_associated();
    // Without a mapping: round-robin over all three links.
    let before: Vec<usize> = downlink_links(&mut ap, &ipv4_to_sta(0), 3)
        .iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(before, [1, 0, 2]);

    // Every TID to links 0 and 2, both directions (one element, as mac80211 sends when its downlink and uplink
    // maps agree): accepted.
    let both = ttlm_element(2, [0b101; 8]);
    assert_eq!(request(&mut ap, 1, 7, &both), (7, status::SUCCESS));
    assert_eq!(
        ap.station(STA_MLD).unwrap().ttlm,
        Some(NegotiatedTtlm {
            downlink: [0b101; 8],
            uplink: [0b101; 8],
        })
    );
    let tx_before = ap.counters().tx.clone();
    // Best effort (TOS 0, TID 0) and EF (DSCP 46, TID 6): only links 0 and 2, alternating.
    for (tos, tid) in [(0x00, 0), (0xb8, 6)] {
        let seen = downlink_links(&mut ap, &ipv4_to_sta(tos), 20);
        assert!(seen.iter().all(|&(l, t)| l != 1 && t == tid), "{seen:?}");
        assert_eq!(seen.iter().filter(|x| x.0 == 0).count(), 10);
    }
    let c = ap.counters();
    assert_eq!(c.tx[1], tx_before[1], "nothing went out on link 1");
    assert_eq!((c.tx[0] - tx_before[0], c.tx[2] - tx_before[2]), (20, 20));
    assert_eq!(c.ttlm_steered, [20, 0, 20]);

    // Uplink on link 1 (not mapped): counted, still bridged. On link 2: not counted.
    assert!(ap.handle(1, &uplink_ipv4(&ap, 1, 0), 0).is_empty());
    assert!(ap.handle(2, &uplink_ipv4(&ap, 2, 0), 0).is_empty());
    assert_eq!(ap.take_uplink().len(), 2);
    assert_eq!(ap.counters().ttlm.uplink_off_mapping, 1);

    // Teardown: back to all three links.
    let teardown = [CATEGORY_PROTECTED_EHT, TTLM_TEARDOWN];
    assert!(ap
        .handle(0, &action_from_sta(&ap, 0, &teardown), 0)
        .is_empty());
    assert_eq!(ap.station(STA_MLD).unwrap().ttlm, None);
    assert_eq!(ap.counters().ttlm.teardowns, 1);
    let after: Vec<usize> = downlink_links(&mut ap, &ipv4_to_sta(0), 3)
        .iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(after, [1, 0, 2]);
    assert!(ap.handle(1, &uplink_ipv4(&ap, 1, 0), 0).is_empty());
    assert_eq!(ap.counters().ttlm.uplink_off_mapping, 1);
    assert_eq!(ap.counters().ttlm_steered, [20, 0, 20]);
    // A second teardown has nothing to tear down.
    ap.handle(0, &action_from_sta(&ap, 0, &teardown), 0);
    assert_eq!(ap.counters().ttlm.teardowns, 1);

    // mac80211's way back (no user-triggered teardown): map again, then every TID to every
    // link, which is the default mapping.
    assert_eq!(request(&mut ap, 0, 8, &both), (8, status::SUCCESS));
    assert!(ap.station(STA_MLD).unwrap().ttlm.is_some());
    let all = ttlm_element(2, [0b111; 8]);
    assert_eq!(request(&mut ap, 2, 9, &all), (9, status::SUCCESS));
    assert_eq!(ap.station(STA_MLD).unwrap().ttlm, None);
    assert_eq!(ap.counters().ttlm.accepted, 3);
}

#[test]
fn per_tid_downlink_mapping_with_uplink_left_default() {
    let mut ap = open_associated();
    // Downlink: TIDs 0-3 on link 1, TIDs 4-7 on links 0 and 2. Uplink: default mapping.
    let mut elems = ttlm_element(0, [0b010, 0b010, 0b010, 0b010, 0b101, 0b101, 0b101, 0b101]);
    elems.extend_from_slice(&[255, 2, 109, 0x01 | 0x04]);
    assert_eq!(request(&mut ap, 1, 1, &elems), (1, status::SUCCESS));
    let be = downlink_links(&mut ap, &ipv4_to_sta(0), 6);
    assert!(be.iter().all(|&x| x == (1, 0)), "{be:?}");
    // CS5 (DSCP 40): TID 5.
    let cs5 = downlink_links(&mut ap, &ipv4_to_sta(0xa0), 6);
    assert!(cs5.iter().all(|&(l, t)| l != 1 && t == 5), "{cs5:?}");
    // Uplink keeps every link.
    ap.handle(0, &uplink_ipv4(&ap, 0, 0), 0);
    ap.handle(1, &uplink_ipv4(&ap, 1, 6), 0);
    assert_eq!(ap.counters().ttlm.uplink_off_mapping, 0);
}

#[test]
fn bad_requests_get_status_133_and_keep_the_mapping() {
    let mut ap = open_associated();
    let good = ttlm_element(2, [0b011; 8]);
    assert_eq!(request(&mut ap, 1, 1, &good), (1, status::SUCCESS));
    let kept = ap.station(STA_MLD).unwrap().ttlm;
    let mut two_both = ttlm_element(2, [0b001; 8]);
    two_both.extend_from_slice(&ttlm_element(2, [0b001; 8]));
    let mut two_down = ttlm_element(0, [0b001; 8]);
    two_down.extend_from_slice(&ttlm_element(0, [0b001; 8]));
    let refused: [(&str, Vec<u8>); 8] = [
        ("link 3 is not the station's", ttlm_element(2, [0b1001; 8])),
        (
            "TID 7 on no link",
            ttlm_element(2, [1, 1, 1, 1, 1, 1, 1, 0]),
        ),
        (
            "switch time in a negotiated mapping",
            vec![255, 5, 109, 0x02 | 0x08, 0x00, 0x10, 0x00],
        ),
        ("direction 3", ttlm_element(3, [0b001; 8])),
        ("two for both", two_both),
        ("two for downlink", two_down),
        ("no element", vec![]),
        ("truncated element", vec![255, 4, 109, 0x02, 0xff, 0x01]),
    ];
    for (i, (why, elems)) in refused.iter().enumerate() {
        let token = 10 + i as u8;
        assert_eq!(
            request(&mut ap, 0, token, elems),
            (token, STATUS_DENIED_TTLM),
            "{why}"
        );
        assert_eq!(ap.station(STA_MLD).unwrap().ttlm, kept, "{why}");
    }
    assert_eq!(ap.counters().ttlm.refused, refused.len() as u64);
    assert_eq!(ap.counters().ttlm.accepted, 1);
    // No dialog token, an unknown action, a stranger: no answer at all.
    let mut short = action_from_sta(&ap, 1, &[CATEGORY_PROTECTED_EHT, TTLM_REQUEST]);
    assert!(ap.handle(1, &short, 0).is_empty());
    short.truncate(24 + 1);
    assert!(ap.handle(1, &short, 0).is_empty());
    let unknown = [CATEGORY_PROTECTED_EHT, 9, 1, 2, 3];
    assert!(ap
        .handle(1, &action_from_sta(&ap, 1, &unknown), 0)
        .is_empty());
    let mut stranger = action_from_sta(&ap, 1, &request_body(1, &good));
    stranger[10 + 3] = 0xee;
    assert!(ap.handle(1, &stranger, 0).is_empty());
    // A new association starts from the default mapping.
    ap.handle(1, &auth_request(&ap, 1), 0);
    ap.handle(1, &assoc_request(&ap, 1, &[0, 2], &[]), 0);
    assert_eq!(ap.station(STA_MLD).unwrap().ttlm, None);
}

#[test]
fn with_pmf_only_a_protected_request_counts_and_the_response_is_protected() {
    let mut ap = sae_ap();
    let keys = associated(&mut ap, 61);
    let tk = CcmpKey::new(keys.ptk.tk()).unwrap();
    let body = request_body(3, &ttlm_element(2, [0b110; 8]));
    assert!(ap.handle(2, &action_from_sta(&ap, 2, &body), 0).is_empty());
    assert_eq!(ap.station(STA_MLD).unwrap().ttlm, None);
    let f = protected_from_sta(&ap, &tk, 2, mgmt_subtype::ACTION, &body, 1);
    let out = ap.handle(2, &f, 0);
    assert_eq!(out.len(), 1);
    assert_eq!(
        decrypt_from_ap(&ap, &tk, &out[0]),
        [CATEGORY_PROTECTED_EHT, TTLM_RESPONSE, 3, 0, 0]
    );
    assert_eq!(
        ap.station(STA_MLD).unwrap().ttlm.map(|m| m.downlink),
        Some([0b110; 8])
    );
}

#[test]
fn downlink_tid_follows_cfg80211_classify8021d() {
    let ipv6 = |tc: u8| {
        let mut e = STA_MLD.0.to_vec();
        e.extend_from_slice(&HOST.0);
        e.extend_from_slice(&[0x86, 0xdd, 0x60 | tc >> 4, tc << 4, 0, 0]);
        e
    };
    let tagged = |tci: u16, inner: &[u8]| {
        let mut e = inner[..12].to_vec();
        e.extend_from_slice(&[0x81, 0x00]);
        e.extend_from_slice(&tci.to_be_bytes());
        e.extend_from_slice(&inner[12..]);
        e
    };
    let with_type = |t: [u8; 2], rest: &[u8]| {
        let mut e = vec![0; 12];
        e.extend_from_slice(&t);
        e.extend_from_slice(rest);
        e
    };
    // (TOS octet, TID): DF, CS1, AF11, CS2, AF21, CS3, AF31, CS4, AF41, CS5, VA, EF, CS6, CS7.
    for (tos, tid) in [
        (0x00, 0),
        (0x20, 1),
        (0x28, 0),
        (0x40, 0),
        (0x48, 3),
        (0x60, 4),
        (0x68, 4),
        (0x80, 4),
        (0x88, 4),
        (0xa0, 5),
        (0xb0, 6),
        (0xb8, 6),
        (0xc0, 7),
        (0xe0, 7),
        (0xbb, 6),
    ] {
        assert_eq!(classify_tid(&ipv4_to_sta(tos)), tid, "IPv4 TOS {tos:#x}");
        assert_eq!(classify_tid(&ipv6(tos)), tid, "IPv6 traffic class {tos:#x}");
    }
    assert_eq!(classify_tid(&tagged(5 << 13 | 12, &ipv4_to_sta(0))), 5);
    assert_eq!(classify_tid(&tagged(12, &ipv4_to_sta(0xb8))), 6);
    assert_eq!(classify_tid(&with_type([0x08, 0x06], &[0; 28])), 0, "ARP");
    assert_eq!(classify_tid(&with_type([0x89, 0x17], &[])), 7, "802.21");
    assert_eq!(
        classify_tid(&with_type([0x88, 0x47], &[0, 0x01, 3 << 1 | 1, 64])),
        3,
        "MPLS TC 3"
    );
    for short in [&[][..], &[0; 13], &ipv4_to_sta(0xb8)[..15]] {
        assert_eq!(classify_tid(short), 0);
    }
}

#[test]
fn hostile_protected_eht_frames_never_panic_and_refusals_answer() {
    let mut ap = open_associated();
    let good = request_body(4, &ttlm_element(2, [0b011; 8]));
    // Every prefix of a good request: short ones get no answer, whole-element ones an answer.
    for n in 0..=good.len() {
        let out = ap.handle(1, &action_from_sta(&ap, 1, &good[..n]), 0);
        assert!(out.len() <= 1);
    }
    // Pseudo-random bodies after the category and action octets.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let before = ap.counters().ttlm.refused + ap.counters().ttlm.accepted;
    let mut answers = 0;
    for round in 0..2000 {
        let len = round % 40;
        let mut body = vec![CATEGORY_PROTECTED_EHT, (round % 4) as u8];
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            body.push(x as u8);
        }
        if round % 3 == 0 && body.len() > 5 {
            // Make it look like a TTLM element so the element parser sees it.
            body[3] = 255;
            body[5] = 109;
        }
        for out in ap.handle(1, &action_from_sta(&ap, 1, &body), 0) {
            let f = Frame::new_checked(&out.frame[..]).unwrap();
            assert_eq!(f.payload()[1], TTLM_RESPONSE);
            answers += 1;
        }
    }
    assert!(answers > 0, "garbled requests are answered (refused)");
    let c = ap.counters();
    assert_eq!(
        answers,
        c.ttlm.refused + c.ttlm.accepted - before,
        "one answer per request that had a dialog token"
    );
    assert!(ap.station(STA_MLD).unwrap().associated());
}
