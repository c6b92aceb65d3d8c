//! Group key rekeying driven by the crate's supplicant: group message 1 under the PTK with
//! the new MLO GTK / IGTK / BIGTK KDEs, the switch to the new keys only after the answer, and
//! the deauthentication of a station that stays silent.

use hwsim_crypto::bip::BipKey;
use hwsim_crypto::ccmp::CcmpKey;
use hwsim_crypto::supplicant::{LinkGroupKeys, Supplicant, SupplicantStep};
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
