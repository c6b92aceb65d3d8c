//! Beacon protection, BIP on the AP's group addressed deauthentication, and SA Query, driven
//! by the station side of `hwsim_crypto` (SAE, the MLO supplicant, CCMP, BIP).

use hwsim_crypto::bip::{BipKey, MMIE_ELEMENT_ID};
use hwsim_crypto::ccmp::CcmpKey;
use hwsim_crypto::error::CryptoError;
use hwsim_crypto::keys::{Akm, Cipher};
use hwsim_crypto::rng::SeededRng;
use hwsim_crypto::supplicant::{
    Supplicant, SupplicantConfig, SupplicantKeys, SupplicantMlo, SupplicantStep,
};
use hwsim_frame::ie::Elements;
use hwsim_frame::mac::{mgmt_subtype, Frame};
use hwsim_frame::MacAddr;

use crate::ap::{
    status, ApMld, CATEGORY_SA_QUERY, SA_QUERY_MAX_TU, SA_QUERY_REQUEST, SA_QUERY_RESPONSE,
};
use crate::config::ApConfig;
use crate::elements::eid;
use crate::security;
use crate::tests::{assoc_request, element, mgmt, STA_LINK, STA_MLD, THREE_LINKS};
use crate::tests_sae::{
    authenticate, eapol_of, eapol_up, sae_ap, sae_rsne, status_of, SaeSta, AP_MLD, PASSPHRASE,
};
use crate::Tx;

/// The elements of a beacon or probe response body (after the 12 fixed octets).
fn body_elements(frame: &[u8]) -> Vec<(u8, Vec<u8>)> {
    Elements::new(&frame[24 + 12..])
        .map(|e| e.unwrap())
        .map(|e| (e.id, e.data.to_vec()))
        .collect()
}

fn beacon_protection_bit(elems: &[(u8, Vec<u8>)]) -> bool {
    elems
        .iter()
        .find(|(id, _)| *id == eid::EXT_CAP)
        .is_some_and(|(_, d)| d.get(10).is_some_and(|o| o & 0x10 != 0))
}

/// The association request's RSNE and RSNXE (whole elements), as the supplicant needs them.
fn sta_rsn(pmkid: [u8; 16]) -> (Vec<u8>, Vec<u8>) {
    (sae_rsne(Some(pmkid)), element(244, None, &[0x20]))
}

/// SAE, association on link 1 with links 0 and 2, and the MLO 4-way handshake; returns the
/// keys the station installs.
pub(crate) fn associated(ap: &mut ApMld, seed: u64) -> SupplicantKeys {
    associated_supplicant(ap, seed).1
}

/// As [`associated`], also returning the station's supplicant (for the group key handshake).
pub(crate) fn associated_supplicant(ap: &mut ApMld, seed: u64) -> (Supplicant, SupplicantKeys) {
    let sta = SaeSta::new(PASSPHRASE, seed);
    let keys = authenticate(ap, &sta);
    let (rsne, rsnxe) = sta_rsn(keys.pmkid);
    let mut extra = rsne.clone();
    extra.extend_from_slice(&rsnxe);
    let out = ap.handle(1, &assoc_request(ap, 1, &[0, 2], &extra), 0);
    assert_eq!(status_of(&out[0]), status::SUCCESS);
    let assoc_elems: Vec<(u8, Vec<u8>)> = Elements::new(&out[0].frame[24 + 6..])
        .map(|e| e.unwrap())
        .map(|e| (e.id, e.data.to_vec()))
        .collect();
    assert_eq!(
        beacon_protection_bit(&assoc_elems),
        ap.config().beacon_protection,
        "the association response's Extended Capabilities say whether beacons are protected"
    );
    let mut supplicant = Supplicant::new(
        SupplicantConfig {
            akm: Akm::Sae,
            cipher: Cipher::Ccmp128,
            aa: AP_MLD.0,
            spa: STA_MLD.0,
            pmk: keys.pmk.to_vec(),
            sta_rsne: rsne,
            sta_rsnxe: Some(rsnxe),
            mlo: Some(SupplicantMlo {
                assoc_link_id: 1,
                other_links: vec![(0, STA_LINK[0].0), (2, STA_LINK[2].0)],
            }),
        },
        &mut SeededRng::new(seed + 1),
    );
    let SupplicantStep::Send(m2) = supplicant.receive(&eapol_of(&out[1])).unwrap() else {
        panic!("message 2 expected");
    };
    let out = ap.handle(1, &eapol_up(ap, 1, &m2), 0);
    let SupplicantStep::Complete { msg4, keys } = supplicant.receive(&eapol_of(&out[0])).unwrap()
    else {
        panic!("message 4 expected");
    };
    assert!(ap.handle(1, &eapol_up(ap, 1, &msg4), 0).is_empty());
    assert!(ap.station(STA_MLD).unwrap().authorized());
    (supplicant, *keys)
}

/// The MMIE of a frame: (key ID, IPN), or None if its last element is not one.
pub(crate) fn mmie(frame: &[u8]) -> Option<(u16, u64)> {
    let m = frame.get(frame.len().checked_sub(18)?..)?;
    if m[0] != MMIE_ELEMENT_ID || m[1] != 16 {
        return None;
    }
    let mut ipn = [0u8; 8];
    ipn[..6].copy_from_slice(&m[4..10]);
    Some((u16::from_le_bytes([m[2], m[3]]), u64::from_le_bytes(ipn)))
}

#[test]
fn bigtk_per_link_in_message_3_and_every_beacon_carries_an_mme_that_verifies_with_it() {
    let mut ap = sae_ap();
    assert!(ap.config().beacon_protection, "on by default with SAE");
    // Beacons before anyone associates already carry the MME, and bit 84.
    for tsf in 0..5 {
        for link in 0..3 {
            let b = ap.beacon(link, tsf * 102_400).unwrap();
            assert_eq!(mmie(&b.frame).map(|m| m.0), Some(6), "BIGTK key ID 6");
            assert!(beacon_protection_bit(&body_elements(&b.frame)));
        }
    }
    let keys = associated(&mut ap, 31);
    assert_eq!(keys.groups.len(), 3);
    let mut bigtks = Vec::new();
    for g in &keys.groups {
        let b = g.bigtk.as_ref().expect("an MLO BIGTK KDE for every link");
        assert_eq!(b.key_id, 6);
        assert_eq!(
            b.pn, 5,
            "the receive start is the last BIPN used on the link"
        );
        assert_eq!(g.igtk.as_ref().unwrap().key_id, 4);
        bigtks.push((g.link_id, BipKey::new(&b.key).unwrap(), b.pn));
    }
    bigtks.sort_by_key(|b| b.0);
    assert_eq!(bigtks.iter().map(|b| b.0).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(
        bigtks[0].1.verify(&ap.beacon(1, 1).unwrap().frame).is_err()
            && bigtks[1].1.verify(&ap.beacon(0, 1).unwrap().frame).is_err(),
        "each link has its own BIGTK"
    );
    for (link_id, bigtk, start) in &bigtks {
        let link = usize::from(*link_id);
        // Links 0 and 1 sent one beacon more for the cross check above.
        let mut last = if link < 2 { *start + 1 } else { *start };
        for n in 0..4u64 {
            let b = ap.beacon(link, 1_000_000 + n * 102_400).unwrap();
            let rx = bigtk.verify(&b.frame).expect("the MME verifies");
            assert_eq!(rx.key_id, 6);
            assert_eq!(rx.ipn, last + 1, "the BIPN goes up by one per beacon");
            last = rx.ipn;
            // The Timestamp is masked in the MIC: the MME still verifies with another.
            let mut restamped = b.frame.clone();
            restamped[24..32].copy_from_slice(&0x1234_5678u64.to_le_bytes());
            assert!(bigtk.verify(&restamped).is_ok());
            // Any other byte of the body counts: the SSID, the beacon interval, an address.
            for at in [24 + 8, 24 + 14, 10, b.frame.len() - 20] {
                let mut bad = b.frame.clone();
                bad[at] ^= 0x01;
                assert!(
                    matches!(bigtk.verify(&bad), Err(CryptoError::MicMismatch)),
                    "byte {at} flipped"
                );
            }
            // The Retry bit is masked in the AAD (a retransmission still verifies).
            let mut retry = b.frame.clone();
            retry[1] |= 0x08;
            assert!(bigtk.verify(&retry).is_ok());
        }
    }
}

#[test]
fn without_beacon_protection_no_bigtk_no_mme_no_bit_84() {
    let text = THREE_LINKS.replace("SECURITY", &format!("sae\"\npassphrase = \"{PASSPHRASE}"));
    let cfg = ApConfig::parse(&format!("beacon_protection = false\n{text}")).unwrap();
    assert!(!cfg.beacon_protection);
    let mut ap = ApMld::new(cfg, 11);
    let b = ap.beacon(1, 0).unwrap();
    assert_eq!(mmie(&b.frame), None);
    assert!(!beacon_protection_bit(&body_elements(&b.frame)));
    let keys = associated(&mut ap, 41);
    assert!(keys
        .groups
        .iter()
        .all(|g| g.bigtk.is_none() && g.igtk.is_some()));
}

/// A protected management frame from the station's link address on `link` (MLD addresses
/// in the AAD, as mac80211 protects them before it puts the link addresses in).
pub(crate) fn protected_from_sta(
    ap: &ApMld,
    tk: &CcmpKey,
    link: usize,
    subtype: u8,
    body: &[u8],
    pn: u64,
) -> Vec<u8> {
    let bssid = ap.link_config(link).bssid;
    let mut f = mgmt(subtype, bssid, STA_LINK[link], bssid, body);
    let aad = security::mld_aad(&f, bssid, AP_MLD, STA_LINK[link], STA_MLD);
    tk.encrypt(&mut f, pn, 0, aad.as_ref()).unwrap();
    f
}

/// Decrypts a protected management frame from the AP to the station (MLD addresses in the
/// AAD); returns its body.
pub(crate) fn decrypt_from_ap(ap: &ApMld, tk: &CcmpKey, tx: &Tx) -> Vec<u8> {
    let bssid = ap.link_config(tx.link).bssid;
    let mut f = tx.frame.clone();
    assert_ne!(f[1] & 0x40, 0, "protected");
    let aad = security::mld_aad(&f, bssid, AP_MLD, STA_LINK[tx.link], STA_MLD);
    tk.decrypt(&mut f, aad.as_ref())
        .expect("decrypts with the PTK");
    f[24..].to_vec()
}

#[test]
fn sa_query_requests_from_the_station_get_protected_responses() {
    let mut ap = sae_ap();
    let keys = associated(&mut ap, 51);
    let tk = CcmpKey::new(keys.ptk.tk()).unwrap();
    // Unprotected: a robust action frame that is ignored once the PTK is in place.
    let body = [CATEGORY_SA_QUERY, SA_QUERY_REQUEST, 0xab, 0xcd];
    let bssid = ap.link_config(2).bssid;
    assert!(ap
        .handle(
            2,
            &mgmt(mgmt_subtype::ACTION, bssid, STA_LINK[2], bssid, &body),
            0
        )
        .is_empty());
    for (pn, link) in [(1u64, 2usize), (2, 0)] {
        let f = protected_from_sta(&ap, &tk, link, mgmt_subtype::ACTION, &body, pn);
        let out = ap.handle(link, &f, 0);
        assert_eq!(out.len(), 1, "an SA Query response");
        assert_eq!(out[0].link, link, "on the link the request came on");
        let fr = Frame::new_checked(&out[0].frame[..]).unwrap();
        assert_eq!(fr.frame_control().subtype(), mgmt_subtype::ACTION);
        assert_eq!(fr.addr1(), STA_LINK[link]);
        assert_eq!(
            decrypt_from_ap(&ap, &tk, &out[0]),
            [CATEGORY_SA_QUERY, SA_QUERY_RESPONSE, 0xab, 0xcd]
        );
        // A replay of the same request is dropped.
        assert!(ap.handle(link, &f, 0).is_empty());
    }
    assert_eq!(ap.counters().sa_query_answered, 2);
}

/// The association comeback time of a status-30 association response.
fn comeback_tu(tx: &Tx) -> u32 {
    let e = Elements::new(&tx.frame[24 + 6..])
        .map(|e| e.unwrap())
        .find(|e| e.id == 56)
        .expect("a Timeout Interval element");
    assert_eq!(e.data[0], 3, "type 3: association comeback time");
    u32::from_le_bytes(e.data[1..5].try_into().unwrap())
}

#[test]
fn association_while_pmf_associated_gets_status_30_and_an_sa_query() {
    let mut ap = sae_ap();
    let keys = associated(&mut ap, 61);
    let tk = CcmpKey::new(keys.ptk.tk()).unwrap();
    let aid = ap.station(STA_MLD).unwrap().aid;
    // A forged (or real) new SAE authentication and association request: the association
    // stands, the answer is status 30 and an SA Query request goes to the station.
    let sta = SaeSta::new(PASSPHRASE, 62);
    let again = authenticate(&mut ap, &sta);
    assert!(
        ap.station(STA_MLD).unwrap().authorized(),
        "authentication does not tear down"
    );
    let (rsne, rsnxe) = sta_rsn(again.pmkid);
    let mut extra = rsne;
    extra.extend_from_slice(&rsnxe);
    let out = ap.handle(1, &assoc_request(&ap, 1, &[0, 2], &extra), 0);
    assert_eq!(out.len(), 2, "association response and SA Query request");
    assert_eq!(status_of(&out[0]), status::REJECTED_TEMPORARILY);
    assert_eq!(comeback_tu(&out[0]), SA_QUERY_MAX_TU as u32);
    let req = decrypt_from_ap(&ap, &tk, &out[1]);
    assert_eq!(req[..2], [CATEGORY_SA_QUERY, SA_QUERY_REQUEST]);
    assert!(ap.station(STA_MLD).unwrap().authorized());
    assert_eq!(ap.station(STA_MLD).unwrap().aid, aid);
    // Unprotected deauthentication and disassociation are ignored under PMF.
    let bssid = ap.link_config(1).bssid;
    for subtype in [mgmt_subtype::DEAUTH, mgmt_subtype::DISASSOC] {
        let f = mgmt(subtype, bssid, STA_LINK[1], bssid, &3u16.to_le_bytes());
        assert!(ap.handle(1, &f, 0).is_empty());
    }
    assert!(ap.station(STA_MLD).unwrap().authorized());
    // A second request 300 ms later: still status 30, with the time left, no new query.
    let out = ap.handle(1, &assoc_request(&ap, 1, &[0, 2], &extra), 300 * 1024);
    assert_eq!(out.len(), 1);
    assert_eq!(comeback_tu(&out[0]), 700);
    // The station answers: the association stays.
    let resp = [CATEGORY_SA_QUERY, SA_QUERY_RESPONSE, req[2], req[3]];
    let wrong = [CATEGORY_SA_QUERY, SA_QUERY_RESPONSE, !req[2], req[3]];
    ap.handle(
        1,
        &protected_from_sta(&ap, &tk, 1, mgmt_subtype::ACTION, &wrong, 1),
        0,
    );
    assert_eq!(
        ap.counters().sa_query_confirmed,
        0,
        "another transaction ID"
    );
    ap.handle(
        1,
        &protected_from_sta(&ap, &tk, 1, mgmt_subtype::ACTION, &resp, 2),
        0,
    );
    assert_eq!(ap.counters().sa_query_confirmed, 1);
    assert!(ap.poll(2_000_000).is_empty(), "nothing left to retry");
    assert!(ap.station(STA_MLD).unwrap().authorized());

    // This time the station does not answer (it lost its keys): requests are retried every
    // 201 TU, and after 1000 TU the next association replaces the old one.
    let t0 = 3_000_000;
    let out = ap.handle(1, &assoc_request(&ap, 1, &[0, 2], &extra), t0);
    assert_eq!(status_of(&out[0]), status::REJECTED_TEMPORARILY);
    let mut retries = 0;
    for step in 1..=12u64 {
        for tx in ap.poll(t0 + step * 100 * 1024) {
            let body = decrypt_from_ap(&ap, &tk, &tx);
            assert_eq!(body[..2], [CATEGORY_SA_QUERY, SA_QUERY_REQUEST]);
            retries += 1;
        }
    }
    // Polled every 100 TU: a retry once 201 TU passed since the last request, at 300, 600
    // and 900 TU; at 1000 TU the query has timed out.
    assert_eq!(retries, 3);
    assert_eq!(ap.counters().sa_query_timeouts, 1);
    let out = ap.handle(1, &assoc_request(&ap, 1, &[0, 2], &extra), t0 + 1_300_000);
    assert_eq!(status_of(&out[0]), status::SUCCESS);
    assert_eq!(out.len(), 2, "and a new 4-way handshake");
    assert!(
        !ap.station(STA_MLD).unwrap().authorized(),
        "new keys to come"
    );
    assert_eq!(ap.counters().assoc_comebacks, 3);
}

#[test]
fn shutdown_sends_a_bip_protected_broadcast_deauthentication_per_link() {
    let mut ap = sae_ap();
    let keys = associated(&mut ap, 71);
    let out = ap.shutdown();
    assert_eq!(out.len(), 3);
    for tx in &out {
        let f = Frame::new_checked(&tx.frame[..]).unwrap();
        assert_eq!(f.frame_control().subtype(), mgmt_subtype::DEAUTH);
        assert_eq!(f.addr1(), MacAddr::BROADCAST);
        assert!(!f.frame_control().protected(), "BIP: integrity only");
        assert_eq!(f.payload()[..2], 3u16.to_le_bytes());
        let link_id = ap.link_config(tx.link).id;
        let g = keys.groups.iter().find(|g| g.link_id == link_id).unwrap();
        let igtk = g.igtk.as_ref().unwrap();
        let rx = BipKey::new(&igtk.key).unwrap().verify(&tx.frame).unwrap();
        assert_eq!(rx.key_id, 4);
        assert!(rx.ipn > igtk.pn);
        let mut bad = tx.frame.clone();
        bad[24] ^= 1;
        assert!(BipKey::new(&igtk.key).unwrap().verify(&bad).is_err());
    }
    assert!(ap.station(STA_MLD).is_none());
    assert!(ap.shutdown().is_empty(), "nobody left to tell");
}

#[test]
fn a_station_joining_later_gets_each_links_last_group_pn_as_its_receive_start() {
    let mut ap = sae_ap();
    let keys = associated(&mut ap, 61);
    for g in &keys.groups {
        assert_eq!(g.gtk.pn, 0, "no group data sent yet");
    }
    // Seven group frames from the distribution system: PN 1..=7 under each link's GTK.
    let mut bcast = MacAddr::BROADCAST.0.to_vec();
    bcast.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x99, 0x08, 0x06, 1, 2, 3]);
    for c in 0..7 {
        assert_eq!(ap.downlink(&bcast, c).len(), 3);
    }
    // The station leaves (protected deauthentication) and associates again: the GTK receive
    // start is the last PN used, so the seven frames cannot be replayed to it.
    let tk = CcmpKey::new(keys.ptk.tk()).unwrap();
    let deauth = protected_from_sta(&ap, &tk, 1, mgmt_subtype::DEAUTH, &3u16.to_le_bytes(), 1);
    ap.handle(1, &deauth, 0);
    assert!(ap.station(STA_MLD).is_none(), "left");
    let keys = associated(&mut ap, 62);
    assert_eq!(keys.groups.len(), 3);
    for g in &keys.groups {
        assert_eq!(g.gtk.pn, 7, "link {}: the GTK's receive start", g.link_id);
    }
    // And the next group frame carries PN 8.
    let out = ap.downlink(&bcast, 7);
    for t in &out {
        assert_eq!(
            &t.frame[26..28],
            &[8, 0],
            "PN0/PN1 of the CCMP header after the QoS header"
        );
    }
}
