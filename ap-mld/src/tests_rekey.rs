//! Group key rekeying driven by the crate's supplicant: group message 1 under the PTK with
//! the new MLO GTK / IGTK / BIGTK KDEs, the switch to the new keys only after the answer, and
//! the deauthentication of a station that stays silent.

use hwsim_crypto::bip::BipKey;
use hwsim_crypto::ccmp::CcmpKey;
use hwsim_crypto::supplicant::{LinkGroupKeys, Supplicant, SupplicantKeys, SupplicantStep};
use hwsim_frame::mac::{mgmt_subtype, Frame, FrameType};
use hwsim_frame::MacAddr;

use crate::ap::ApMld;
use crate::security;
use crate::tests::{config, STA_LINK, STA_MLD};
use crate::tests_bprot::{associated_supplicant, mmie, protected_from_sta};
use crate::tests_sae::{eapol_up, AP_MLD, PASSPHRASE};
use crate::tests_ttlm::{request_body, ttlm_element};
use crate::Tx;

const S: u64 = 1_000_000;

fn rekeying_ap(interval_s: u32) -> ApMld {
    let mut cfg = config(&format!("sae\"\npassphrase = \"{PASSPHRASE}"));
    cfg.group_rekey_s = interval_s;
    ApMld::new(cfg, 11)
}

/// Decrypts a unicast data or management frame from the AP with the PTK (MLD addresses in
/// the AAD); returns the plaintext frame.
fn open_with_ptk(ap: &ApMld, tk: &CcmpKey, tx: &Tx) -> Vec<u8> {
    let bssid = ap.link_config(tx.link).bssid;
    let mut f = tx.frame.clone();
    assert_ne!(f[1] & 0x40, 0, "protected");
    let aad = security::mld_aad(&f, bssid, AP_MLD, STA_LINK[tx.link], STA_MLD);
    tk.decrypt(&mut f, aad.as_ref())
        .expect("decrypts with the PTK");
    f
}

/// The EAPOL PDU in a (decrypted) data frame.
fn eapol_in(frame: &[u8]) -> Vec<u8> {
    let f = Frame::new_checked(frame).unwrap();
    let (ethertype, pdu) = security::split_msdu(f.payload()).unwrap();
    assert_eq!(ethertype, security::ETHERTYPE_EAPOL);
    pdu.to_vec()
}

/// A broadcast ARP-ish frame from the distribution system.
fn broadcast() -> Vec<u8> {
    let mut b = MacAddr::BROADCAST.0.to_vec();
    b.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x99, 0x08, 0x06, 1, 2, 3]);
    b
}

/// Key ID of a CCMP-protected QoS data frame (after the 26-byte header).
fn ccmp_key_id(frame: &[u8]) -> u8 {
    frame[26 + 3] >> 6
}

/// Runs the group key handshake's first half: the one group message 1 out of `poll`, checked
/// and answered by `sup`; returns group message 2 and the keys to install.
fn group_message_1(
    ap: &ApMld,
    sup: &mut Supplicant,
    tk: &CcmpKey,
    out: &[Tx],
) -> (Vec<u8>, Vec<LinkGroupKeys>) {
    assert_eq!(out.len(), 1, "one group message 1");
    let pdu = eapol_in(&open_with_ptk(ap, tk, &out[0]));
    let SupplicantStep::GroupRekey { msg2, groups } = sup.receive(&pdu).unwrap() else {
        panic!("group message 1 expected")
    };
    (msg2, groups)
}

#[test]
fn rekey_hands_new_keys_to_every_link_and_switches_only_after_the_answer() {
    let mut ap = rekeying_ap(2);
    let (mut sup, keys) = associated_supplicant(&mut ap, 71);
    let tk = CcmpKey::new(keys.ptk.tk()).unwrap();
    assert!(
        ap.poll(0).is_empty(),
        "the first rekey is one interval away"
    );
    assert!(ap.poll(S).is_empty());
    let out = ap.poll(2 * S);
    assert_eq!(ap.counters().group_rekeys, 1);
    assert_eq!(out[0].link, 1, "first on the association link");
    let (msg2, groups) = group_message_1(&ap, &mut sup, &tk, &out);
    let mut ids: Vec<u8> = groups.iter().map(|g| g.link_id).collect();
    ids.sort_unstable();
    assert_eq!(ids, [0, 1, 2], "MLO GTK KDEs for every link of the station");
    for g in &groups {
        let old = keys.groups.iter().find(|o| o.link_id == g.link_id).unwrap();
        assert_eq!(g.gtk.key_id, 2);
        assert_eq!(g.igtk.as_ref().unwrap().key_id, 5);
        assert_eq!(g.bigtk.as_ref().unwrap().key_id, 7);
        assert_ne!(g.gtk.key, old.gtk.key);
        assert_eq!(g.gtk.pn, 0, "fresh GTK: receive from PN 1");
    }

    // Before the answer the AP still uses the old keys everywhere.
    for link in 0..3 {
        assert_eq!(mmie(&ap.beacon(link, 2 * S).unwrap().frame).unwrap().0, 6);
    }
    for t in ap.downlink(&broadcast(), 0) {
        assert_eq!(ccmp_key_id(&t.frame), 1);
    }
    // A message 1 resent after a second while unanswered, with the same keys.
    let again = ap.poll(3 * S + 1);
    assert_eq!(ap.counters().group_msg_retries, 1);
    assert_eq!(again[0].link, 0, "the retry on the next link");
    let (msg2_again, groups_again) = group_message_1(&ap, &mut sup, &tk, &again);
    assert_eq!(groups_again, groups);

    // The answer (to either message 1) puts the new keys into use at once.
    assert!(ap.handle(1, &eapol_up(&ap, 1, &msg2), 3 * S).is_empty());
    for link in 0..3u8 {
        let g = groups.iter().find(|g| g.link_id == link).unwrap();
        let bigtk = BipKey::new(&g.bigtk.as_ref().unwrap().key).unwrap();
        let old_bigtk = keys.groups.iter().find(|o| o.link_id == link).unwrap();
        let old_bigtk = BipKey::new(&old_bigtk.bigtk.as_ref().unwrap().key).unwrap();
        let b = ap.beacon(usize::from(link), 3 * S).unwrap();
        assert_eq!(
            mmie(&b.frame).unwrap(),
            (7, 1),
            "BIGTK key ID 7 from BIPN 1"
        );
        assert!(bigtk.verify(&b.frame).is_ok(), "link {link}: the new BIGTK");
        assert!(old_bigtk.verify(&b.frame).is_err());
    }
    // The answer to the other message 1 arrives late: nothing more happens.
    assert!(ap
        .handle(1, &eapol_up(&ap, 1, &msg2_again), 3 * S)
        .is_empty());
    assert_eq!(ap.counters().group_handshake_failures, 0);
    let out = ap.downlink(&broadcast(), 1);
    assert_eq!(out.len(), 3);
    for t in out {
        assert_eq!(ccmp_key_id(&t.frame), 2, "group data under GTK key ID 2");
        let link_id = ap.link_config(t.link).id;
        let g = groups.iter().find(|g| g.link_id == link_id).unwrap();
        let old = keys.groups.iter().find(|o| o.link_id == link_id).unwrap();
        assert!(CcmpKey::new(&old.gtk.key)
            .unwrap()
            .decrypt(&mut t.frame.clone(), None)
            .is_err());
        let mut f = t.frame.clone();
        let rx = CcmpKey::new(&g.gtk.key)
            .unwrap()
            .decrypt(&mut f, None)
            .expect("the new GTK decrypts group data");
        assert_eq!(rx.pn, 1);
        let body = Frame::new_checked(&f[..]).unwrap().payload().to_vec();
        assert_eq!(security::split_msdu(&body).unwrap().1, &[1, 2, 3]);
    }
    // Nothing more to send until the next interval (counted from the rekey's start).
    assert!(ap.poll(3 * S + 500_000).is_empty());
    let out = ap.poll(4 * S);
    assert_eq!(ap.counters().group_rekeys, 2);
    let (_, groups) = group_message_1(&ap, &mut sup, &tk, &out);
    assert!(groups.iter().all(|g| g.gtk.key_id == 1
        && g.igtk.as_ref().unwrap().key_id == 4
        && g.bigtk.as_ref().unwrap().key_id == 6));
    assert_eq!(ap.counters().group_handshake_failures, 0);
}

#[test]
fn a_silent_station_is_deauthenticated_after_the_retries_and_the_keys_switch() {
    let mut ap = rekeying_ap(2);
    let (_sup, keys) = associated_supplicant(&mut ap, 72);
    let tk = CcmpKey::new(keys.ptk.tk()).unwrap();
    ap.poll(0);
    assert_eq!(ap.poll(2 * S).len(), 1, "group message 1");
    // Resent every second, four times; at the fifth second without an answer the station
    // goes, and the new keys go into use in the same poll.
    let mut deauth = None;
    let mut t = 2 * S;
    while deauth.is_none() && t < 10 * S {
        t += S;
        for tx in ap.poll(t) {
            let f = Frame::new_checked(&tx.frame[..]).unwrap();
            if f.frame_control().frame_type() == FrameType::Management {
                deauth = Some(tx);
            }
        }
    }
    assert_eq!(t, 7 * S);
    assert_eq!(ap.counters().group_msg_retries, 4);
    assert_eq!(ap.counters().group_handshake_failures, 1);
    let deauth = deauth.expect("a deauthentication");
    let plain = open_with_ptk(&ap, &tk, &deauth);
    assert_eq!(plain[0], mgmt_subtype::DEAUTH << 4);
    assert_eq!(
        &plain[24..26],
        &16u16.to_le_bytes(),
        "group key handshake timeout"
    );
    assert!(ap.station(STA_MLD).is_none());
    for link in 0..3 {
        assert_eq!(mmie(&ap.beacon(link, t).unwrap().frame).unwrap().0, 7);
    }
}

#[test]
fn group_message_1_avoids_a_link_the_station_mapped_away_from_the_eapol_tid() {
    let mut ap = rekeying_ap(2);
    let (_sup, keys) = associated_supplicant(&mut ap, 73);
    let tk = CcmpKey::new(keys.ptk.tk()).unwrap();
    // Every TID downlink on links 0 and 2: the association link 1 carries no data for it.
    let body = request_body(5, &ttlm_element(2, [0b101; 8]));
    let f = protected_from_sta(&ap, &tk, 1, mgmt_subtype::ACTION, &body, 1);
    assert_eq!(ap.handle(1, &f, 0).len(), 1);
    ap.poll(0);
    let mut links = Vec::new();
    for t in 2..=6 {
        for tx in ap.poll(t * S) {
            links.push(tx.link);
        }
    }
    assert_eq!(
        links,
        [0, 2, 0, 2, 0],
        "message 1 and its retries on links 0 and 2"
    );
}

/// How a test station's frames are addressed: the second station's frames are the first's
/// with 02:00:00:b0 rewritten to 02:00:00:c0.
#[derive(Clone, Copy)]
struct Addressing {
    second: bool,
}

/// A non-AP MLD on an OWE network and its supplicant.
struct OweSta {
    addr: Addressing,
    sup: Supplicant,
}

impl Addressing {
    fn mld(&self) -> MacAddr {
        if self.second {
            MacAddr([0x02, 0, 0, 0xc0, 0, 0])
        } else {
            STA_MLD
        }
    }

    fn link_addr(&self, link: usize) -> MacAddr {
        let mut a = STA_LINK[link];
        if self.second {
            a.0[3] = 0xc0;
        }
        a
    }

    fn send(&self, ap: &mut ApMld, link: usize, frame: &[u8], at: u64) -> Vec<Tx> {
        let f = if self.second {
            crate::tests::from_second_station(frame)
        } else {
            frame.to_vec()
        };
        ap.handle(link, &f, at)
    }

    /// An EAPOL PDU up to the AP on `link`.
    fn send_eapol(self, ap: &mut ApMld, link: usize, pdu: &[u8], at: u64) -> Vec<Tx> {
        let f = eapol_up(ap, link, pdu);
        self.send(ap, link, &f, at)
    }

    /// Decrypts a frame the AP sent this station under `tk`; returns its EAPOL PDU.
    fn eapol_from_ap(&self, ap: &ApMld, tk: &CcmpKey, tx: &Tx) -> Vec<u8> {
        let bssid = ap.link_config(tx.link).bssid;
        let mut f = tx.frame.clone();
        assert_eq!(
            Frame::new_checked(&f[..]).unwrap().addr1(),
            self.link_addr(tx.link)
        );
        let aad = security::mld_aad(&f, bssid, AP_MLD, self.link_addr(tx.link), self.mld());
        tk.decrypt(&mut f, aad.as_ref())
            .expect("decrypts with the PTK");
        eapol_in(&f)
    }
}

/// Authenticates and associates an OWE station on link 1 and runs the 4-way handshake up to
/// message 3; returns the station and its message 4, not yet sent.
fn owe_until_message_4(
    ap: &mut ApMld,
    second: bool,
    seed: u64,
    at: u64,
) -> (OweSta, Vec<u8>, SupplicantKeys) {
    use crate::tests::{assoc_request, auth_request, owe_rsne};
    use hwsim_crypto::keys::{Akm, Cipher};
    use hwsim_crypto::owe::{OweDhParam, OweKeyPair};
    use hwsim_crypto::rng::SeededRng;
    use hwsim_crypto::supplicant::{SupplicantConfig, SupplicantMlo};
    use hwsim_frame::ie::Elements;

    let sta0 = Addressing { second };
    sta0.send(ap, 1, &auth_request(ap, 1), at);
    let pair = OweKeyPair::generate(&mut SeededRng::new(seed));
    let mut extra = owe_rsne();
    pair.dh_param().emit_element(&mut extra);
    let out = sta0.send(ap, 1, &assoc_request(ap, 1, &[0, 2], &extra), at);
    assert_eq!(out.len(), 2, "association response and message 1");
    let f = Frame::new_checked(&out[0].frame[..]).unwrap();
    assert_eq!(u16::from_le_bytes([f.payload()[2], f.payload()[3]]), 0);
    let dh = Elements::new(&f.payload()[6..])
        .map(|e| e.unwrap())
        .find(|e| e.ext == Some(crate::elements::eid::EXT_OWE_DH))
        .expect("the AP's DH element");
    let owe = pair
        .sta_derive(&OweDhParam::parse_body(dh.data).unwrap())
        .unwrap();
    let mut sta = OweSta {
        addr: sta0,
        sup: Supplicant::new(
            SupplicantConfig {
                akm: Akm::Owe { group: 19 },
                cipher: Cipher::Ccmp128,
                aa: AP_MLD.0,
                spa: sta0.mld().0,
                pmk: owe.pmk.to_vec(),
                sta_rsne: owe_rsne(),
                sta_rsnxe: None,
                mlo: Some(SupplicantMlo {
                    assoc_link_id: 1,
                    other_links: vec![(0, sta0.link_addr(0).0), (2, sta0.link_addr(2).0)],
                }),
            },
            &mut SeededRng::new(seed + 1),
        ),
    };
    let SupplicantStep::Send(m2) = sta
        .sup
        .receive(&crate::tests_sae::eapol_of(&out[1]))
        .unwrap()
    else {
        panic!("message 2 expected")
    };
    let out = sta.addr.send(ap, 1, &eapol_up(ap, 1, &m2), at);
    let SupplicantStep::Complete { msg4, keys } = sta
        .sup
        .receive(&crate::tests_sae::eapol_of(&out[0]))
        .unwrap()
    else {
        panic!("message 4 expected")
    };
    (sta, msg4, *keys)
}

#[test]
fn a_rekey_waits_for_a_station_whose_4way_handshake_is_under_way() {
    // Station A is behind on a rekey when station B starts its 4-way handshake, which hands
    // B the keys in use. A answers before B's message 4 arrives: switching then would put
    // beacons under a BIGTK B does not have (mac80211 reports UNPROT_BEACON), so the AP
    // waits for B, gives it the new keys in group message 1, and switches after its answer.
    let mut cfg = config("owe");
    cfg.group_rekey_s = 2;
    let mut ap = ApMld::new(cfg, 5);
    let (mut a, a_msg4, a_keys) = owe_until_message_4(&mut ap, false, 40, 0);
    assert!(a.addr.send_eapol(&mut ap, 1, &a_msg4, 0).is_empty());
    let a_tk = CcmpKey::new(a_keys.ptk.tk()).unwrap();
    assert!(
        ap.poll(0).is_empty(),
        "the first rekey is one interval away"
    );
    assert!(ap.poll(S).is_empty());
    let out = ap.poll(2 * S);
    assert_eq!(ap.counters().group_rekeys, 1);
    assert_eq!(out.len(), 1, "group message 1 to A");
    let SupplicantStep::GroupRekey { msg2: a_msg2, .. } = a
        .sup
        .receive(&a.addr.eapol_from_ap(&ap, &a_tk, &out[0]))
        .unwrap()
    else {
        panic!("group message 1 expected")
    };

    let (mut b, b_msg4, b_keys) = owe_until_message_4(&mut ap, true, 50, 2 * S + 10_000);
    let old_bigtk = |link: u8| {
        let k = b_keys.groups.iter().find(|g| g.link_id == link).unwrap();
        BipKey::new(&k.bigtk.as_ref().unwrap().key).unwrap()
    };
    assert!(a
        .addr
        .send_eapol(&mut ap, 1, &a_msg2, 2 * S + 20_000)
        .is_empty());
    for link in 0..3u8 {
        let beacon = ap.beacon(usize::from(link), 2 * S + 30_000).unwrap();
        assert!(
            old_bigtk(link).verify(&beacon.frame).is_ok(),
            "link {link}: still the BIGTK B holds while its handshake runs"
        );
    }

    // B finishes: it is behind, gets group message 1, answers, and only then do the keys change.
    assert!(b
        .addr
        .send_eapol(&mut ap, 1, &b_msg4, 2 * S + 40_000)
        .is_empty());
    let b_tk = CcmpKey::new(b_keys.ptk.tk()).unwrap();
    let out = ap.poll(2 * S + 50_000);
    assert_eq!(out.len(), 1, "group message 1 to B");
    let SupplicantStep::GroupRekey {
        msg2: b_msg2,
        groups,
    } = b
        .sup
        .receive(&b.addr.eapol_from_ap(&ap, &b_tk, &out[0]))
        .unwrap()
    else {
        panic!("group message 1 expected")
    };
    let beacon = ap.beacon(0, 2 * S + 55_000).unwrap();
    assert!(
        old_bigtk(0).verify(&beacon.frame).is_ok(),
        "not before B answered"
    );
    assert!(b
        .addr
        .send_eapol(&mut ap, 1, &b_msg2, 2 * S + 60_000)
        .is_empty());
    for link in 0..3u8 {
        let g = groups.iter().find(|g| g.link_id == link).unwrap();
        let new_bigtk = BipKey::new(&g.bigtk.as_ref().unwrap().key).unwrap();
        let beacon = ap.beacon(usize::from(link), 2 * S + 70_000).unwrap();
        assert!(
            new_bigtk.verify(&beacon.frame).is_ok(),
            "link {link}: the new BIGTK"
        );
    }
    assert_eq!(ap.counters().group_handshake_failures, 0);
}
