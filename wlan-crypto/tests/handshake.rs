//! The authenticator against the crate's supplicant, with the PTK, every MIC and the Key Data
//! unwrap recomputed here from the standard with its own code (HMAC/AES-KW straight from the
//! RustCrypto crates), so that both sides agreeing means the frames carry what 12.7.6 says,
//! not that one routine agrees with itself.

use aes_kw::KekAes128;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use hwsim_crypto::eapol::{EapolKey, KeyInfo, MIC_OFFSET};
use hwsim_crypto::handshake::{
    Authenticator, AuthenticatorConfig, HandshakeError, MloLink, MloRejectedLink, MloSetup, State,
    Step,
};
use hwsim_crypto::kde::{parse_key_data, Kde, KeyDataItem};
use hwsim_crypto::keys::{Akm, Cipher, GroupKeys, MacAddr};
use hwsim_crypto::owe::{derive_keys, OweKeyPair};
use hwsim_crypto::rng::SeededRng;
use hwsim_crypto::supplicant::{
    Supplicant, SupplicantConfig, SupplicantError, SupplicantMlo, SupplicantState, SupplicantStep,
};

const AP_MLD: MacAddr = [0x02, 0xaa, 0, 0, 0, 0x10];
const STA_MLD: MacAddr = [0x02, 0x55, 0, 0, 0, 0x20];
/// RSNE of an OWE AP with PMF required: group CCMP, pairwise CCMP, AKM 18, caps MFPR|MFPC.
const AP_RSNE: [u8; 22] = [
    48, 20, 1, 0, 0, 0x0f, 0xac, 4, 1, 0, 0, 0x0f, 0xac, 4, 1, 0, 0, 0x0f, 0xac, 18, 0xc0, 0,
];
/// The STA's RSNE also names the group management cipher (BIP-CMAC-128).
const STA_RSNE: [u8; 28] = [
    48, 26, 1, 0, 0, 0x0f, 0xac, 4, 1, 0, 0, 0x0f, 0xac, 4, 1, 0, 0, 0x0f, 0xac, 18, 0xc0, 0, 0, 0,
    0, 0x0f, 0xac, 6,
];
const RSNXE: [u8; 3] = [244, 1, 0x20];

fn kdf_sha256(key: &[u8], label: &[u8], context: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 1u16;
    while out.len() < len {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
        mac.update(&i.to_le_bytes());
        mac.update(label);
        mac.update(context);
        mac.update(&u16::try_from(len * 8).unwrap().to_le_bytes());
        out.extend_from_slice(&mac.finalize().into_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

fn mic(kck: &[u8], pdu: &[u8]) -> [u8; 16] {
    let mut zeroed = pdu.to_vec();
    zeroed[MIC_OFFSET..MIC_OFFSET + 16].fill(0);
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(kck).unwrap();
    mac.update(&zeroed);
    mac.finalize().into_bytes()[..16].try_into().unwrap()
}

/// What the supplicant learnt from message 3, flattened for comparisons.
#[derive(Debug, Default)]
struct Learnt {
    mld_addr: Option<MacAddr>,
    links: Vec<(u8, MacAddr, Vec<u8>)>,
    gtks: Vec<(u8, u8, Vec<u8>)>,
    igtks: Vec<(u8, u16, Vec<u8>)>,
    bigtks: Vec<(u8, u16, Vec<u8>)>,
    rsne: Option<Vec<u8>>,
}

/// The library's supplicant, with every PTK and MIC it produces or accepts recomputed here
/// by hand and every message's Key Information checked against 12.7.6.
struct Sta {
    inner: Supplicant,
    pmk: [u8; 32],
    aa: MacAddr,
    spa: MacAddr,
    mlo: bool,
    /// The PTK computed here from message 1 and message 2's SNonce.
    ptk: Vec<u8>,
}

impl Sta {
    fn new(
        pmk: [u8; 32],
        aa: MacAddr,
        spa: MacAddr,
        other_links: Option<Vec<(u8, MacAddr)>>,
    ) -> Self {
        let mlo = other_links.is_some();
        let cfg = SupplicantConfig {
            akm: Akm::Owe { group: 19 },
            cipher: Cipher::Ccmp128,
            aa,
            spa,
            pmk: pmk.to_vec(),
            sta_rsne: STA_RSNE.to_vec(),
            sta_rsnxe: Some(RSNXE.to_vec()),
            mlo: other_links.map(|other_links| SupplicantMlo {
                assoc_link_id: 0,
                other_links,
            }),
        };
        Sta {
            inner: Supplicant::new(cfg, &mut SeededRng::new(0x5a)),
            pmk,
            aa,
            spa,
            mlo,
            ptk: Vec::new(),
        }
    }

    fn kck(&self) -> &[u8] {
        &self.ptk[..16]
    }
    fn tk(&self) -> &[u8] {
        &self.ptk[32..48]
    }

    fn on_msg1(&mut self, pdu: &[u8]) -> Vec<u8> {
        let m1 = EapolKey::parse(pdu, 16).unwrap();
        assert_eq!(
            m1.key_info.0,
            KeyInfo::PAIRWISE | KeyInfo::ACK,
            "msg1 key info"
        );
        assert_eq!(m1.key_length, 16);
        let mld_kde = parse_key_data(m1.key_data).find_map(|i| match i.unwrap() {
            KeyDataItem::Kde(Kde::MacAddr(m)) => Some(m),
            _ => None,
        });
        let want = self.mlo.then_some(self.aa);
        assert_eq!(mld_kde, want, "AP MLD address KDE in msg1 exactly for MLO");
        let SupplicantStep::Send(m2) = self.inner.receive(pdu).unwrap() else {
            panic!("message 1 is answered with message 2")
        };
        let parsed = EapolKey::parse(&m2, 16).unwrap();
        assert_eq!(parsed.key_info.0, KeyInfo::PAIRWISE | KeyInfo::MIC);
        assert_eq!(parsed.replay_counter, m1.replay_counter);
        let snonce = parsed.nonce;
        let (a_lo, a_hi) = if self.aa < self.spa {
            (self.aa, self.spa)
        } else {
            (self.spa, self.aa)
        };
        let (n_lo, n_hi) = if m1.nonce < snonce {
            (m1.nonce, snonce)
        } else {
            (snonce, m1.nonce)
        };
        let context = [&a_lo[..], &a_hi, &n_lo, &n_hi].concat();
        self.ptk = kdf_sha256(&self.pmk, b"Pairwise key expansion", &context, 48);
        let lib = self.inner.ptk().unwrap();
        assert_eq!(
            [lib.kck(), lib.kek(), lib.tk()].concat(),
            self.ptk,
            "the supplicant's PTK"
        );
        assert_eq!(parsed.mic, mic(self.kck(), &m2), "msg2 MIC");
        m2
    }

    fn on_msg3(&mut self, pdu: &[u8]) -> (Vec<u8>, Learnt) {
        let m3 = EapolKey::parse(pdu, 16).unwrap();
        let want = KeyInfo::PAIRWISE
            | KeyInfo::INSTALL
            | KeyInfo::ACK
            | KeyInfo::MIC
            | KeyInfo::SECURE
            | KeyInfo::ENCRYPTED_KEY_DATA;
        assert_eq!(m3.key_info.0, want, "msg3 key info");
        assert_eq!(m3.mic, mic(self.kck(), pdu), "msg3 MIC");
        // The Key Data unwraps under the KEK computed here.
        let mut plain = vec![0u8; m3.key_data.len() - 8];
        KekAes128::new(self.ptk[16..32].into())
            .unwrap(m3.key_data, &mut plain)
            .unwrap();
        let SupplicantStep::Complete { msg4, keys } = self.inner.receive(pdu).unwrap() else {
            panic!("message 3 completes the handshake")
        };
        let parsed = EapolKey::parse(&msg4, 16).unwrap();
        assert_eq!(
            parsed.key_info.0,
            KeyInfo::PAIRWISE | KeyInfo::MIC | KeyInfo::SECURE
        );
        assert_eq!(parsed.mic, mic(self.kck(), &msg4), "msg4 MIC");
        assert_eq!(keys.ptk.tk(), self.tk());
        let learnt = Learnt {
            mld_addr: keys.ap_mld_addr,
            links: keys
                .ap_links
                .iter()
                .map(|l| (l.link_id, l.mac, l.rsne.clone()))
                .collect(),
            gtks: keys
                .groups
                .iter()
                .map(|g| (g.link_id, g.gtk.key_id, g.gtk.key.to_vec()))
                .collect(),
            igtks: keys
                .groups
                .iter()
                .filter_map(|g| {
                    let k = g.igtk.as_ref()?;
                    Some((g.link_id, u16::from(k.key_id), k.key.to_vec()))
                })
                .collect(),
            bigtks: keys
                .groups
                .iter()
                .filter_map(|g| {
                    let k = g.bigtk.as_ref()?;
                    Some((g.link_id, u16::from(k.key_id), k.key.to_vec()))
                })
                .collect(),
            rsne: keys.ap_rsne.clone(),
        };
        (msg4, learnt)
    }

    /// A message from the STA signed with the KCK computed here.
    fn finish(&self, info: u16, replay: u64, nonce: [u8; 32], key_data: &[u8]) -> Vec<u8> {
        let mut pdu = EapolKey {
            version: 2,
            key_info: KeyInfo(info),
            key_length: 0,
            replay_counter: replay,
            nonce,
            iv: [0; 16],
            rsc: 0,
            mic: &[],
            key_data,
        }
        .emit(16);
        let m = mic(self.kck(), &pdu);
        pdu[MIC_OFFSET..MIC_OFFSET + 16].copy_from_slice(&m);
        pdu
    }
}

fn base_config(pmk: [u8; 32], rng: &mut SeededRng) -> AuthenticatorConfig {
    AuthenticatorConfig {
        akm: Akm::Owe { group: 19 },
        cipher: Cipher::Ccmp128,
        aa: AP_MLD,
        spa: STA_MLD,
        pmk: pmk.to_vec(),
        pmkid: None,
        sta_rsne: STA_RSNE.to_vec(),
        sta_rsnxe: Some(RSNXE.to_vec()),
        ap_rsne: AP_RSNE.to_vec(),
        ap_rsnxe: Some(RSNXE.to_vec()),
        group: GroupKeys::generate(rng, false),
        mlo: None,
    }
}

fn link(id: u8, rng: &mut SeededRng) -> MloLink {
    let mut rsne = AP_RSNE.to_vec();
    rsne[21] = id; // distinct bytes per link, as if capabilities differed
    MloLink {
        link_id: id,
        ap_addr: [0x02, 0xaa, 0, 0, id, 1],
        sta_addr: [0x02, 0x55, 0, 0, id, 2],
        rsne,
        rsnxe: Some(RSNXE.to_vec()),
        group: GroupKeys::generate(rng, true),
    }
}

fn mlo_config(pmk: [u8; 32], rng: &mut SeededRng) -> AuthenticatorConfig {
    let mut cfg = base_config(pmk, rng);
    cfg.mlo = Some(MloSetup {
        assoc_link_id: 0,
        links: vec![link(0, rng), link(1, rng), link(2, rng)],
        rejected_links: Vec::new(),
    });
    cfg
}

fn other_links(cfg: &AuthenticatorConfig) -> Vec<(u8, MacAddr)> {
    let mlo = cfg.mlo.as_ref().unwrap();
    mlo.links
        .iter()
        .filter(|l| l.link_id != mlo.assoc_link_id)
        .map(|l| (l.link_id, l.sta_addr))
        .collect()
}

fn expect_send(step: Result<Step, HandshakeError>) -> Vec<u8> {
    match step.unwrap() {
        Step::Send(pdu) => pdu,
        other => panic!("expected a message to send, got {other:?}"),
    }
}

#[test]
fn single_link_owe_handshake_installs_matching_keys() {
    let mut rng = SeededRng::new(1);
    let pmk = [0x11; 32];
    let cfg = base_config(pmk, &mut rng);
    let group = cfg.group.clone();
    let mut auth = Authenticator::new(cfg, &mut rng, 0);
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, None);

    let m2 = sta.on_msg1(&auth.message_1().unwrap());
    let m3 = expect_send(auth.receive(&m2));
    let (m4, learnt) = sta.on_msg3(&m3);
    let Step::Complete(keys) = auth.receive(&m4).unwrap() else {
        panic!("not complete")
    };

    assert_eq!(auth.state(), State::Done);
    assert_eq!(keys.ptk.tk(), sta.tk());
    assert_eq!(keys.ptk.kck(), sta.kck());
    assert_eq!(learnt.rsne.as_deref(), Some(&AP_RSNE[..]));
    assert_eq!(learnt.gtks, vec![(0, 1, group.gtk.key.to_vec())]);
    assert_eq!(learnt.igtks, vec![(0, 4, group.igtk.key.to_vec())]);
    assert!(learnt.mld_addr.is_none() && learnt.links.is_empty());
}

#[test]
fn mlo_handshake_carries_link_and_per_link_group_kdes() {
    let mut rng = SeededRng::new(2);
    let pmk = [0x22; 32];
    let cfg = mlo_config(pmk, &mut rng);
    let links = cfg.mlo.clone().unwrap().links;
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, Some(other_links(&cfg)));
    let mut auth = Authenticator::new(cfg, &mut rng, 7);

    let m1 = auth.message_1().unwrap();
    assert_eq!(EapolKey::parse(&m1, 16).unwrap().replay_counter, 7);
    let m2 = sta.on_msg1(&m1);
    let m3 = expect_send(auth.receive(&m2));
    let (m4, learnt) = sta.on_msg3(&m3);
    let Step::Complete(keys) = auth.receive(&m4).unwrap() else {
        panic!("not complete")
    };
    assert_eq!(keys.ptk.tk(), sta.tk());

    // No top-level RSNE for MLO; the AP MLD address and one MLO Link KDE per link instead.
    assert_eq!(learnt.rsne, None);
    assert_eq!(learnt.mld_addr, Some(AP_MLD));
    let want_links: Vec<_> = links
        .iter()
        .map(|l| (l.link_id, l.ap_addr, l.rsne.clone()))
        .collect();
    assert_eq!(learnt.links, want_links);
    let want_gtks: Vec<_> = links
        .iter()
        .map(|l| (l.link_id, 1, l.group.gtk.key.to_vec()))
        .collect();
    assert_eq!(learnt.gtks, want_gtks);
    let want_igtks: Vec<_> = links
        .iter()
        .map(|l| (l.link_id, 4, l.group.igtk.key.to_vec()))
        .collect();
    assert_eq!(learnt.igtks, want_igtks);
    let want_bigtks: Vec<_> = links
        .iter()
        .map(|l| (l.link_id, 6, l.group.bigtk.as_ref().unwrap().key.to_vec()))
        .collect();
    assert_eq!(learnt.bigtks, want_bigtks);
}

#[test]
fn retransmitted_message_1_takes_a_new_counter_and_either_answer_is_accepted() {
    let mut rng = SeededRng::new(3);
    let pmk = [0x33; 32];
    let mut auth = Authenticator::new(base_config(pmk, &mut rng), &mut rng, 0);
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, None);
    let first = auth.message_1().unwrap();
    let again = auth.retransmit().unwrap();
    let r1 = EapolKey::parse(&first, 16).unwrap().replay_counter;
    let r2 = EapolKey::parse(&again, 16).unwrap().replay_counter;
    assert_eq!(r2, r1 + 1);
    // The STA answers the first copy: still a message we sent in this step.
    let m2 = sta.on_msg1(&first);
    let m3 = expect_send(auth.receive(&m2));
    assert!(EapolKey::parse(&m3, 16).unwrap().replay_counter > r2);
    // The same message 2 arriving again after message 3 is a harmless duplicate.
    assert!(matches!(auth.receive(&m2).unwrap(), Step::Duplicate));
}

#[test]
fn message_2_with_unknown_replay_counter_bad_mic_or_other_rsne_is_rejected() {
    let mut rng = SeededRng::new(4);
    let pmk = [0x44; 32];
    let mut auth = Authenticator::new(base_config(pmk, &mut rng), &mut rng, 0);
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, None);
    let m2 = sta.on_msg1(&auth.message_1().unwrap());

    let mut replayed = m2.clone();
    replayed[16] ^= 0x40; // last byte of the Key Replay Counter
    assert!(matches!(
        auth.receive(&replayed),
        Err(HandshakeError::ReplayCounter { .. })
    ));

    let mut bad_mic = m2.clone();
    bad_mic[MIC_OFFSET] ^= 1;
    assert_eq!(auth.receive(&bad_mic).unwrap_err(), HandshakeError::Mic);

    // A STA that puts a different RSNE in message 2 than in its association request.
    let mut other = Sta::new(pmk, AP_MLD, STA_MLD, None);
    let mut auth2 = Authenticator::new(
        AuthenticatorConfig {
            sta_rsne: AP_RSNE.to_vec(),
            ..base_config(pmk, &mut rng)
        },
        &mut rng,
        0,
    );
    let m2b = other.on_msg1(&auth2.message_1().unwrap());
    assert_eq!(
        auth2.receive(&m2b).unwrap_err(),
        HandshakeError::RsneMismatch
    );

    // The untouched message 2 still completes the step.
    assert!(matches!(auth.receive(&m2).unwrap(), Step::Send(_)));
}

#[test]
fn mlo_message_2_must_list_exactly_the_other_links() {
    let mut rng = SeededRng::new(5);
    let pmk = [0x55; 32];
    let cfg = mlo_config(pmk, &mut rng);
    let mut links = other_links(&cfg);
    links.pop();
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, Some(links));
    let mut auth = Authenticator::new(cfg.clone(), &mut rng, 0);
    let m2 = sta.on_msg1(&auth.message_1().unwrap());
    assert!(matches!(
        auth.receive(&m2),
        Err(HandshakeError::MloLinks(_))
    ));

    let mut wrong_addr = other_links(&cfg);
    wrong_addr[0].1[5] ^= 1;
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, Some(wrong_addr));
    let mut auth = Authenticator::new(cfg, &mut rng, 0);
    let m2 = sta.on_msg1(&auth.message_1().unwrap());
    assert_eq!(
        auth.receive(&m2).unwrap_err(),
        HandshakeError::MloLinks("STA link address")
    );
}

#[test]
fn message_4_needs_the_message_3_counter_and_the_mld_address() {
    let mut rng = SeededRng::new(6);
    let pmk = [0x66; 32];
    let cfg = mlo_config(pmk, &mut rng);
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, Some(other_links(&cfg)));
    let mut auth = Authenticator::new(cfg, &mut rng, 0);
    let m2 = sta.on_msg1(&auth.message_1().unwrap());
    let m3 = expect_send(auth.receive(&m2));
    let (m4, _) = sta.on_msg3(&m3);
    let r3 = EapolKey::parse(&m3, 16).unwrap().replay_counter;

    let stale = sta.finish(
        KeyInfo::PAIRWISE | KeyInfo::MIC | KeyInfo::SECURE,
        r3 - 1,
        [0; 32],
        &{
            let mut kd = Vec::new();
            Kde::MacAddr(STA_MLD).emit(&mut kd).unwrap();
            kd
        },
    );
    assert!(matches!(
        auth.receive(&stale),
        Err(HandshakeError::ReplayCounter { .. })
    ));
    let no_mld = sta.finish(
        KeyInfo::PAIRWISE | KeyInfo::MIC | KeyInfo::SECURE,
        r3,
        [0; 32],
        &[],
    );
    assert_eq!(
        auth.receive(&no_mld).unwrap_err(),
        HandshakeError::MldAddress
    );
    assert_eq!(auth.state(), State::WaitMsg4);
    assert!(matches!(auth.receive(&m4).unwrap(), Step::Complete(_)));
    // Nothing is accepted once done.
    assert!(matches!(
        auth.receive(&m4),
        Err(HandshakeError::Unexpected { .. })
    ));
}

/// Interoperability check, not a published vector: both OWE ends with the same scalars
/// derive the same PMK and PMKID, and they equal a derivation written out here by hand from
/// RFC 8110 4.4 (HKDF per RFC 5869 with HMAC-SHA-256 directly).
#[test]
fn owe_both_ends_agree_with_a_by_hand_rfc8110_derivation_and_drive_the_handshake() {
    let mut rng = SeededRng::new(7);
    let ap_secret = [0x1e; 32];
    let sta_secret = [0x2d; 32];
    let ap = OweKeyPair::from_secret_bytes(&ap_secret).unwrap();
    let sta = OweKeyPair::from_secret_bytes(&sta_secret).unwrap();
    let ap_keys = ap.ap_derive(&sta.dh_param()).unwrap();
    let sta_keys = sta.sta_derive(&ap.dh_param()).unwrap();
    assert_eq!(ap_keys, sta_keys);

    // By hand: z = x(sta_secret * AP point), with the AP point taken from its full SEC1
    // encoding (p256 computes it from the AP scalar), not from the x-only element.
    let ap_point = p256::SecretKey::from_slice(&ap_secret)
        .unwrap()
        .public_key();
    let sta_sk = p256::SecretKey::from_slice(&sta_secret).unwrap();
    let z = p256::ecdh::diffie_hellman(sta_sk.to_nonzero_scalar(), ap_point.as_affine())
        .raw_secret_bytes()
        .to_vec();
    let salt = [&sta.public_x()[..], ap.public_x(), &19u16.to_le_bytes()].concat();
    let mut ext = <Hmac<Sha256> as Mac>::new_from_slice(&salt).unwrap();
    ext.update(&z);
    let prk = ext.finalize().into_bytes();
    let mut exp = <Hmac<Sha256> as Mac>::new_from_slice(&prk).unwrap();
    exp.update(b"OWE Key Generation");
    exp.update(&[1]);
    let pmk = exp.finalize().into_bytes();
    assert_eq!(&ap_keys.pmk[..], &pmk[..]);
    assert_eq!(derive_keys(sta.public_x(), ap.public_x(), 19, &z), ap_keys);
    let hash = <Sha256 as sha2::Digest>::digest([&sta.public_x()[..], ap.public_x()].concat());
    assert_eq!(&ap_keys.pmkid[..], &hash[..16]);

    // And the PMK keys a full handshake, PMKID KDE in message 1.
    let mut cfg = base_config(ap_keys.pmk, &mut rng);
    cfg.pmkid = Some(ap_keys.pmkid);
    let mut auth = Authenticator::new(cfg, &mut rng, 0);
    let mut supplicant = Sta::new(sta_keys.pmk, AP_MLD, STA_MLD, None);
    let m1 = auth.message_1().unwrap();
    let pmkids: Vec<_> = parse_key_data(EapolKey::parse(&m1, 16).unwrap().key_data)
        .filter_map(|i| match i.unwrap() {
            KeyDataItem::Kde(Kde::Pmkid(p)) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(pmkids, vec![sta_keys.pmkid]);
    let m3 = expect_send(auth.receive(&supplicant.on_msg1(&m1)));
    let (m4, _) = supplicant.on_msg3(&m3);
    assert!(matches!(auth.receive(&m4).unwrap(), Step::Complete(_)));
}

#[test]
fn rejected_links_get_a_link_kde_but_no_group_keys() {
    let mut rng = SeededRng::new(8);
    let pmk = [0x77; 32];
    let mut cfg = mlo_config(pmk, &mut rng);
    let mut requested = other_links(&cfg);
    requested.push((3, [0x02, 0x55, 0, 0, 3, 2]));
    cfg.mlo
        .as_mut()
        .unwrap()
        .rejected_links
        .push(MloRejectedLink {
            link_id: 3,
            ap_addr: [0x02, 0xaa, 0, 0, 3, 1],
            rsne: AP_RSNE.to_vec(),
            rsnxe: None,
        });
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, Some(requested));
    let mut auth = Authenticator::new(cfg, &mut rng, 0);
    let m2 = sta.on_msg1(&auth.message_1().unwrap());
    let m3 = expect_send(auth.receive(&m2));
    let (m4, learnt) = sta.on_msg3(&m3);
    let ids: Vec<u8> = learnt.links.iter().map(|l| l.0).collect();
    assert_eq!(ids, [0, 1, 2, 3]);
    assert_eq!(learnt.links[3].1, [0x02, 0xaa, 0, 0, 3, 1]);
    assert_eq!(learnt.gtks.len(), 3);
    assert!(matches!(auth.receive(&m4).unwrap(), Step::Complete(_)));
}

#[test]
fn supplicant_refuses_a_forged_or_replayed_message_3() {
    let mut rng = SeededRng::new(9);
    let pmk = [0x88; 32];
    let cfg = mlo_config(pmk, &mut rng);
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, Some(other_links(&cfg)));
    let mut auth = Authenticator::new(cfg, &mut rng, 0);
    let m1 = auth.message_1().unwrap();
    let m2 = sta.on_msg1(&m1);
    let m3 = expect_send(auth.receive(&m2));

    // A message 1 with a counter already seen is dropped.
    assert!(matches!(
        sta.inner.receive(&m1),
        Err(SupplicantError::ReplayCounter { .. })
    ));
    // A bit flipped in the MIC, or in the Key Data under the MIC.
    let mut bad_mic = m3.clone();
    bad_mic[MIC_OFFSET + 3] ^= 0x10;
    assert_eq!(
        sta.inner.receive(&bad_mic).unwrap_err(),
        SupplicantError::Mic
    );
    let mut bad_data = m3.clone();
    *bad_data.last_mut().unwrap() ^= 1;
    assert_eq!(
        sta.inner.receive(&bad_data).unwrap_err(),
        SupplicantError::Mic
    );
    assert_eq!(sta.inner.state(), SupplicantState::WaitMsg3);

    let (m4, _) = sta.on_msg3(&m3);
    assert!(matches!(auth.receive(&m4).unwrap(), Step::Complete(_)));
    // The same message 3 again: stale counter.
    assert!(matches!(
        sta.inner.receive(&m3),
        Err(SupplicantError::ReplayCounter { .. })
    ));
}

#[test]
fn supplicant_answers_a_retransmitted_message_3_with_message_4_only() {
    let mut rng = SeededRng::new(10);
    let pmk = [0x99; 32];
    let mut auth = Authenticator::new(base_config(pmk, &mut rng), &mut rng, 0);
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, None);
    let m2 = sta.on_msg1(&auth.message_1().unwrap());
    let first = expect_send(auth.receive(&m2));
    let (_lost_m4, _) = sta.on_msg3(&first);
    let again = auth.retransmit().unwrap();
    let SupplicantStep::Send(m4) = sta.inner.receive(&again).unwrap() else {
        panic!("a retransmitted message 3 hands out no keys again")
    };
    assert!(matches!(auth.receive(&m4).unwrap(), Step::Complete(_)));
}

#[test]
fn mlo_supplicant_needs_the_ap_mld_address_in_message_1() {
    let mut rng = SeededRng::new(11);
    let pmk = [0xaa; 32];
    // Single-link authenticator: no MAC address KDE in message 1.
    let mut auth = Authenticator::new(base_config(pmk, &mut rng), &mut rng, 0);
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, Some(vec![(1, [2, 0x55, 0, 0, 1, 2])]));
    assert_eq!(
        sta.inner.receive(&auth.message_1().unwrap()).unwrap_err(),
        SupplicantError::ApMldAddress
    );
    // And another AP MLD's address is refused as well.
    let cfg = mlo_config(pmk, &mut rng);
    let mut auth = Authenticator::new(cfg.clone(), &mut rng, 0);
    let mut sta = Sta::new(
        pmk,
        [2, 0xaa, 0, 0, 0, 0x99],
        STA_MLD,
        Some(other_links(&cfg)),
    );
    assert_eq!(
        sta.inner.receive(&auth.message_1().unwrap()).unwrap_err(),
        SupplicantError::ApMldAddress
    );
}

/// Runs the 4-way handshake to completion.
fn completed(auth: &mut Authenticator, sta: &mut Sta) {
    let m2 = sta.on_msg1(&auth.message_1().unwrap());
    let m3 = expect_send(auth.receive(&m2));
    let (m4, _) = sta.on_msg3(&m3);
    assert!(matches!(auth.receive(&m4).unwrap(), Step::Complete(_)));
}

/// Group message 1 checked by hand (Key Information, MIC under the KCK computed here, Key
/// Data unwrapped under the KEK computed here); returns the plaintext Key Data.
fn check_group_msg1(sta: &Sta, pdu: &[u8]) -> Vec<u8> {
    let m = EapolKey::parse(pdu, 16).unwrap();
    assert_eq!(
        m.key_info.0,
        KeyInfo::SECURE | KeyInfo::MIC | KeyInfo::ACK | KeyInfo::ENCRYPTED_KEY_DATA,
        "group msg 1 key info: no Pairwise, no Install"
    );
    assert_eq!(m.key_length, 0);
    assert_eq!(m.mic, mic(sta.kck(), pdu));
    let mut plain = vec![0u8; m.key_data.len() - 8];
    KekAes128::new(sta.ptk[16..32].into())
        .unwrap(m.key_data, &mut plain)
        .unwrap();
    plain
}

#[test]
fn mlo_group_rekey_hands_every_link_new_keys_under_the_other_key_ids() {
    let mut rng = SeededRng::new(9);
    let pmk = [0x99; 32];
    let cfg = mlo_config(pmk, &mut rng);
    let links = cfg.mlo.clone().unwrap().links;
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, Some(other_links(&cfg)));
    let mut auth = Authenticator::new(cfg, &mut rng, 0);
    completed(&mut auth, &mut sta);

    // New keys for the station's three links and for a link it is not on (3).
    let mut new: Vec<(u8, GroupKeys)> = links
        .iter()
        .map(|l| (l.link_id, l.group.rekeyed(&mut rng)))
        .collect();
    new.push((3, links[0].group.rekeyed(&mut rng)));
    new[1].1.gtk.pn = 41;
    let g1 = auth.group_message_1(&new).unwrap();
    assert!(auth.group_rekey_pending());
    let plain = check_group_msg1(&sta, &g1);
    let mut gtk_links = Vec::new();
    for item in parse_key_data(&plain) {
        match item.unwrap() {
            KeyDataItem::Kde(Kde::MloGtk {
                link_id, key_id, ..
            }) => {
                assert_eq!(key_id, 2);
                gtk_links.push(link_id);
            }
            KeyDataItem::Kde(Kde::MloIgtk { key, .. }) => assert_eq!(key.key_id, 5),
            KeyDataItem::Kde(Kde::MloBigtk { key, .. }) => assert_eq!(key.key_id, 7),
            KeyDataItem::Kde(Kde::Gtk { .. } | Kde::Igtk(_)) => panic!("non-MLO KDE for MLO"),
            _ => {}
        }
    }
    assert_eq!(gtk_links, vec![0, 1, 2], "only the station's links");

    let SupplicantStep::GroupRekey { msg2, groups } = sta.inner.receive(&g1).unwrap() else {
        panic!("no group message 2")
    };
    assert_eq!(groups.len(), 3);
    for (g, (id, keys)) in groups.iter().zip(&new) {
        assert_eq!(g.link_id, *id);
        assert_eq!(&g.gtk, &keys.gtk);
        assert_eq!(g.igtk.as_ref(), Some(&keys.igtk));
        assert_eq!(g.bigtk.as_ref(), keys.bigtk.as_ref());
    }
    assert_eq!(
        groups[1].gtk.pn, 41,
        "per-link receive start from the MLO GTK KDE"
    );
    let m2 = EapolKey::parse(&msg2, 16).unwrap();
    assert_eq!(m2.key_info.0, KeyInfo::SECURE | KeyInfo::MIC);
    assert_eq!(
        m2.replay_counter,
        EapolKey::parse(&g1, 16).unwrap().replay_counter
    );
    assert!(m2.key_data.is_empty());
    assert_eq!(m2.mic, mic(sta.kck(), &msg2));
    assert!(matches!(auth.receive(&msg2).unwrap(), Step::GroupComplete));
    assert!(!auth.group_rekey_pending());
    // Answered once: the same message 2 again is not a second completion.
    assert!(auth.receive(&msg2).is_err());
}

#[test]
fn single_link_group_rekey_uses_gtk_kdes_and_the_key_rsc() {
    let mut rng = SeededRng::new(10);
    let pmk = [0xab; 32];
    let cfg = base_config(pmk, &mut rng);
    let old = cfg.group.clone();
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, None);
    let mut auth = Authenticator::new(cfg, &mut rng, 0);
    completed(&mut auth, &mut sta);
    let mut new = old.rekeyed(&mut rng);
    new.gtk.pn = 17;
    let g1 = auth.group_message_1(&[(0, new.clone())]).unwrap();
    let plain = check_group_msg1(&sta, &g1);
    assert_eq!(EapolKey::parse(&g1, 16).unwrap().rsc, 17);
    assert!(parse_key_data(&plain)
        .any(|i| matches!(i.unwrap(), KeyDataItem::Kde(Kde::Gtk { key_id: 2, .. }))));
    let SupplicantStep::GroupRekey { msg2, groups } = sta.inner.receive(&g1).unwrap() else {
        panic!("no group message 2")
    };
    assert_eq!(groups[0].gtk, new.gtk);
    assert_eq!(groups[0].igtk.as_ref(), Some(&new.igtk));
    assert!(matches!(auth.receive(&msg2).unwrap(), Step::GroupComplete));
}

#[test]
fn group_rekey_retransmits_with_new_counters_and_rejects_forgeries_and_replays() {
    let mut rng = SeededRng::new(11);
    let pmk = [0xcd; 32];
    let cfg = mlo_config(pmk, &mut rng);
    let links = cfg.mlo.clone().unwrap().links;
    let mut sta = Sta::new(pmk, AP_MLD, STA_MLD, Some(other_links(&cfg)));
    let mut auth = Authenticator::new(cfg, &mut rng, 0);
    assert!(auth.retransmit_group().is_none());
    let new: Vec<(u8, GroupKeys)> = links
        .iter()
        .map(|l| (l.link_id, l.group.rekeyed(&mut rng)))
        .collect();
    assert!(
        auth.group_message_1(&new).is_err(),
        "no group handshake before the 4-way handshake"
    );
    completed(&mut auth, &mut sta);

    let first = auth.group_message_1(&new).unwrap();
    let again = auth.retransmit_group().unwrap();
    let (r1, r2) = (
        EapolKey::parse(&first, 16).unwrap().replay_counter,
        EapolKey::parse(&again, 16).unwrap().replay_counter,
    );
    assert!(r2 > r1);

    // A forged MIC is refused by the station.
    let mut forged = again.clone();
    forged[MIC_OFFSET] ^= 1;
    assert_eq!(
        sta.inner.receive(&forged).unwrap_err(),
        SupplicantError::Mic
    );
    // The station answers the retransmission; the first message is then a replay.
    let SupplicantStep::GroupRekey { msg2, .. } = sta.inner.receive(&again).unwrap() else {
        panic!("no group message 2")
    };
    assert!(matches!(
        sta.inner.receive(&first).unwrap_err(),
        SupplicantError::ReplayCounter { .. }
    ));
    // A message 2 with a bad MIC is refused; the right one completes.
    let mut bad = msg2.clone();
    bad[MIC_OFFSET + 3] ^= 0x80;
    assert_eq!(auth.receive(&bad).unwrap_err(), HandshakeError::Mic);
    assert!(auth.group_rekey_pending());
    assert!(matches!(auth.receive(&msg2).unwrap(), Step::GroupComplete));
}
