//! PMKSA caching on the AP MLD, driven by the station side of `hwsim_crypto`: a station that
//! ran SAE (or OWE) leaves and comes back with Open System authentication (or without a new
//! DH) naming its PMKID; the 4-way handshake runs on the cached PMK and gives a new PTK. A
//! PMKID the AP does not hold (wrong, expired, another station's) gets status 53 on SAE and a
//! full DH on OWE.

use hwsim_crypto::ccmp::CcmpKey;
use hwsim_crypto::keys::{Akm, Cipher};
use hwsim_crypto::owe::{OweDhParam, OweKeyPair, OWE_GROUP_P256};
use hwsim_crypto::rng::SeededRng;
use hwsim_crypto::supplicant::{
    Supplicant, SupplicantConfig, SupplicantKeys, SupplicantMlo, SupplicantStep,
};
use hwsim_frame::ie::{Elements, IeRepr, RsnRepr, Suite};
use hwsim_frame::mac::{mgmt_subtype, Frame};

use crate::ap::{status, ApMld, PMK_LIFETIME_US};
use crate::elements::eid;
use crate::security;
use crate::tests::{assoc_request, auth_request, config, element, mgmt, STA_LINK, STA_MLD};
use crate::tests_sae::{
    authenticate, eapol_of, eapol_up, sae_ap, sae_rsne, sta_rsne, status_of, SaeSta, AP_MLD,
    PASSPHRASE,
};
use crate::Tx;

fn rsnxe() -> Vec<u8> {
    element(244, None, &[0x20])
}

fn owe_rsne(pmkid: Option<[u8; 16]>) -> Vec<u8> {
    sta_rsne(Suite::AKM_OWE, pmkid)
}

/// The association response's status, after checking the EAPOL-Key message 1 that follows
/// carries `pmkid` (PMKID KDE).
fn accepted_with(out: &[Tx], pmkid: [u8; 16]) {
    assert_eq!(status_of(&out[0]), status::SUCCESS);
    assert_eq!(out.len(), 2, "association response and message 1");
    assert!(
        eapol_of(&out[1]).windows(16).any(|w| w == pmkid),
        "message 1 names the PMKSA in use"
    );
}

/// The MLO 4-way handshake after an accepted association (`out`: response and message 1),
/// the station on `pmk`; returns the keys it installs.
fn four_way(
    ap: &mut ApMld,
    out: &[Tx],
    akm: Akm,
    pmk: &[u8],
    rsne: Vec<u8>,
    seed: u64,
) -> SupplicantKeys {
    let sta_rsnxe = (akm == Akm::Sae).then(rsnxe);
    let mut supplicant = Supplicant::new(
        SupplicantConfig {
            akm,
            cipher: Cipher::Ccmp128,
            aa: AP_MLD.0,
            spa: STA_MLD.0,
            pmk: pmk.to_vec(),
            sta_rsne: rsne,
            sta_rsnxe,
            mlo: Some(SupplicantMlo {
                assoc_link_id: 1,
                other_links: vec![(0, STA_LINK[0].0), (2, STA_LINK[2].0)],
            }),
        },
        &mut SeededRng::new(seed),
    );
    let SupplicantStep::Send(m2) = supplicant.receive(&eapol_of(&out[1])).unwrap() else {
        panic!("message 2 expected");
    };
    let out = ap.handle(1, &eapol_up(ap, 1, &m2), 0);
    let SupplicantStep::Complete { msg4, keys } = supplicant.receive(&eapol_of(&out[0])).unwrap()
    else {
        panic!("message 4 expected: the AP's MIC verifies under the station's PMK");
    };
    assert!(ap.handle(1, &eapol_up(ap, 1, &msg4), 0).is_empty());
    assert!(ap.station(STA_MLD).unwrap().authorized());
    assert_eq!(keys.groups.len(), 3);
    *keys
}

/// The station leaves with a deauthentication protected under its PTK.
fn leave(ap: &mut ApMld, keys: &SupplicantKeys) {
    let tk = CcmpKey::new(keys.ptk.tk()).unwrap();
    let bssid = ap.link_config(1).bssid;
    let mut f = mgmt(
        mgmt_subtype::DEAUTH,
        bssid,
        STA_LINK[1],
        bssid,
        &3u16.to_le_bytes(),
    );
    let aad = security::mld_aad(&f, bssid, AP_MLD, STA_LINK[1], STA_MLD);
    tk.encrypt(&mut f, 1, 0, aad.as_ref()).unwrap();
    ap.handle(1, &f, 0);
    assert!(ap.station(STA_MLD).is_none(), "left");
}

/// Open System authentication on link 1: the status the AP answers.
fn open_auth(ap: &mut ApMld) -> u16 {
    let out = ap.handle(1, &auth_request(ap, 1), 0);
    let f = Frame::new_checked(&out[0].frame[..]).unwrap();
    let b = f.payload();
    assert_eq!(&b[..4], &[0, 0, 2, 0], "Open System, transaction 2");
    u16::from_le_bytes([b[4], b[5]])
}

fn sae_assoc(ap: &mut ApMld, pmkid: Option<[u8; 16]>, tsf_us: u64) -> Vec<Tx> {
    let mut extra = sae_rsne(pmkid);
    extra.extend(rsnxe());
    ap.handle(1, &assoc_request(ap, 1, &[0, 2], &extra), tsf_us)
}

#[test]
fn sae_station_comes_back_with_open_system_and_its_pmkid_and_gets_a_new_ptk_on_the_same_pmk() {
    let mut ap = sae_ap();
    let sae_keys = authenticate(&mut ap, &SaeSta::new(PASSPHRASE, 41));
    let out = sae_assoc(&mut ap, Some(sae_keys.pmkid), 0);
    accepted_with(&out, sae_keys.pmkid);
    let first = four_way(
        &mut ap,
        &out,
        Akm::Sae,
        &sae_keys.pmk,
        sae_rsne(Some(sae_keys.pmkid)),
        1,
    );
    assert_eq!(ap.counters().pmksa_cache_hits, 0);
    leave(&mut ap, &first);

    // Back with Open System: the authentication is accepted, the association decides.
    assert_eq!(open_auth(&mut ap), status::SUCCESS);
    // No PMKID, or one the AP does not hold: status 53 (the station must run SAE).
    for pmkid in [None, Some([0x5a; 16])] {
        assert_eq!(
            status_of(&sae_assoc(&mut ap, pmkid, 1_000)[0]),
            status::INVALID_PMKID
        );
    }
    // Its PMKID: accepted, message 1 names it, the handshake runs on the cached PMK.
    let out = sae_assoc(&mut ap, Some(sae_keys.pmkid), 2_000);
    accepted_with(&out, sae_keys.pmkid);
    let second = four_way(
        &mut ap,
        &out,
        Akm::Sae,
        &sae_keys.pmk,
        sae_rsne(Some(sae_keys.pmkid)),
        2,
    );
    assert_ne!(first.ptk.tk(), second.ptk.tk(), "new nonces, new PTK");
    assert_eq!(ap.counters().pmksa_cache_hits, 1);
    assert_eq!(ap.counters().sae_accepted, 1, "no second SAE exchange");
    leave(&mut ap, &second);

    // A new SAE exchange replaces the cached PMKSA: the old PMKID is no longer good.
    let new_keys = authenticate(&mut ap, &SaeSta::new(PASSPHRASE, 42));
    let out = sae_assoc(&mut ap, Some(new_keys.pmkid), 3_000);
    let third = four_way(
        &mut ap,
        &out,
        Akm::Sae,
        &new_keys.pmk,
        sae_rsne(Some(new_keys.pmkid)),
        3,
    );
    leave(&mut ap, &third);
    assert_eq!(open_auth(&mut ap), status::SUCCESS);
    let stale = sae_assoc(&mut ap, Some(sae_keys.pmkid), 4_000);
    assert_eq!(status_of(&stale[0]), status::INVALID_PMKID);
    accepted_with(
        &sae_assoc(&mut ap, Some(new_keys.pmkid), 5_000),
        new_keys.pmkid,
    );
    assert_eq!(ap.counters().pmksa_cache_hits, 2);
}

#[test]
fn a_cached_sae_pmksa_expires_after_the_pmk_lifetime() {
    let mut ap = sae_ap();
    let sae_keys = authenticate(&mut ap, &SaeSta::new(PASSPHRASE, 43));
    let out = sae_assoc(&mut ap, Some(sae_keys.pmkid), 0);
    let keys = four_way(
        &mut ap,
        &out,
        Akm::Sae,
        &sae_keys.pmk,
        sae_rsne(Some(sae_keys.pmkid)),
        4,
    );
    leave(&mut ap, &keys);
    assert_eq!(open_auth(&mut ap), status::SUCCESS);
    let out = sae_assoc(&mut ap, Some(sae_keys.pmkid), PMK_LIFETIME_US);
    assert_eq!(status_of(&out[0]), status::INVALID_PMKID);
    assert_eq!(ap.counters().pmksa_cache_hits, 0);
}

#[test]
fn open_system_to_an_sae_network_without_a_pmksa_is_refused_at_association() {
    // A PMKID from an SAE exchange on another AP does not help either.
    let other = authenticate(&mut sae_ap(), &SaeSta::new(PASSPHRASE, 44));
    let mut ap = sae_ap();
    assert_eq!(open_auth(&mut ap), status::SUCCESS);
    for pmkid in [None, Some(other.pmkid)] {
        let out = sae_assoc(&mut ap, pmkid, 0);
        assert_eq!(status_of(&out[0]), status::INVALID_PMKID);
        assert_eq!(out.len(), 1, "no handshake");
    }
    assert!(!ap.station(STA_MLD).unwrap().associated());
}

/// An OWE association request with our DH key and the RSNE naming `pmkid`.
fn owe_assoc(ap: &mut ApMld, pair: &OweKeyPair, pmkid: Option<[u8; 16]>) -> Vec<Tx> {
    let mut extra = owe_rsne(pmkid);
    pair.dh_param().emit_element(&mut extra);
    ap.handle(1, &assoc_request(ap, 1, &[0, 2], &extra), 0)
}

/// The OWE DH Parameter element of an association response, if any.
fn dh_reply(tx: &Tx) -> Option<Vec<u8>> {
    let f = Frame::new_checked(&tx.frame[..]).unwrap();
    Elements::new(&f.payload()[6..])
        .map(|e| e.unwrap())
        .find(|e| e.ext == Some(eid::EXT_OWE_DH))
        .map(|e| e.data.to_vec())
}

/// The PMKIDs of the RSNE in an association response (none without an RSNE).
fn resp_pmkids(tx: &Tx) -> Vec<[u8; 16]> {
    let f = Frame::new_checked(&tx.frame[..]).unwrap();
    Elements::new(&f.payload()[6..])
        .map(|e| e.unwrap())
        .find(|e| e.id == 48)
        .map(|e| {
            let r = RsnRepr::parse(e.data).unwrap();
            assert!(r.akms.unwrap().contains(Suite::AKM_OWE));
            r.pmkids.map(|l| l.iter().collect()).unwrap_or_default()
        })
        .unwrap_or_default()
}

#[test]
fn owe_station_with_a_cached_pmkid_gets_no_dh_element_and_the_cached_pmk() {
    let mut ap = ApMld::new(config("owe"), 8);
    let owe = Akm::Owe {
        group: OWE_GROUP_P256,
    };
    let mut rng = SeededRng::new(51);
    assert_eq!(open_auth(&mut ap), status::SUCCESS);
    let pair = OweKeyPair::generate(&mut rng);
    let out = owe_assoc(&mut ap, &pair, None);
    let ap_dh = dh_reply(&out[0]).expect("full OWE: the AP's DH key");
    let pmksa = pair
        .sta_derive(&OweDhParam::parse_body(&ap_dh).unwrap())
        .unwrap();
    accepted_with(&out, pmksa.pmkid);
    let first = four_way(&mut ap, &out, owe, &pmksa.pmk, owe_rsne(None), 5);
    leave(&mut ap, &first);

    // Back with the PMKID (and a fresh DH key, as RFC 8110 4.2 has the station send): the AP
    // uses the cached PMK and leaves its DH Parameter element out.
    assert_eq!(open_auth(&mut ap), status::SUCCESS);
    let pair2 = OweKeyPair::generate(&mut rng);
    let out = owe_assoc(&mut ap, &pair2, Some(pmksa.pmkid));
    accepted_with(&out, pmksa.pmkid);
    assert!(dh_reply(&out[0]).is_none(), "PMKSA caching: no DH element");
    assert_eq!(
        resp_pmkids(&out[0]),
        vec![pmksa.pmkid],
        "the response's RSNE names the PMKID taken"
    );
    let second = four_way(
        &mut ap,
        &out,
        owe,
        &pmksa.pmk,
        owe_rsne(Some(pmksa.pmkid)),
        6,
    );
    assert_ne!(first.ptk.tk(), second.ptk.tk());
    assert_eq!(ap.counters().pmksa_cache_hits, 1);
    leave(&mut ap, &second);

    // A PMKID the AP does not hold: full OWE with the new key, a new PMKSA.
    assert_eq!(open_auth(&mut ap), status::SUCCESS);
    let out = owe_assoc(&mut ap, &pair2, Some([0x33; 16]));
    let ap_dh = dh_reply(&out[0]).expect("unknown PMKID: full OWE");
    assert!(resp_pmkids(&out[0]).is_empty());
    let fresh = pair2
        .sta_derive(&OweDhParam::parse_body(&ap_dh).unwrap())
        .unwrap();
    assert_ne!(fresh.pmkid, pmksa.pmkid);
    accepted_with(&out, fresh.pmkid);
    four_way(
        &mut ap,
        &out,
        owe,
        &fresh.pmk,
        owe_rsne(Some([0x33; 16])),
        7,
    );
    assert_eq!(ap.counters().pmksa_cache_hits, 1);
}
