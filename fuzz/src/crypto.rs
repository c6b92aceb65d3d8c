//! EAPOL-Key and SAE: the parsers on arbitrary bytes with their emit round trips, and the
//! 4-way handshake's two ends fed the PDU, signed with the right key where the end checks a
//! MIC. A station that ran OWE (unauthenticated) or knows the password holds a valid PMK and
//! can sign anything, so a signed hostile message is a real attacker's capability; signing
//! gets the fuzzer past the MIC to the Key Data checks.

use std::sync::OnceLock;

use hwsim_crypto::eapol::{self, EapolKey, KeyInfo};
use hwsim_crypto::handshake::{Authenticator, AuthenticatorConfig, MloLink, MloSetup, State};
use hwsim_crypto::kde::{parse_key_data, KeyDataItem};
use hwsim_crypto::keys::{Akm, Cipher, GroupKeys, Ptk};
use hwsim_crypto::keywrap;
use hwsim_crypto::rng::SeededRng;
use hwsim_crypto::sae::{Commit, Confirm, PasswordToken, Pwe, SaeInstance, TokenRequest};
use hwsim_crypto::supplicant::{Supplicant, SupplicantConfig, SupplicantMlo};

const AA: [u8; 6] = [0x02, 0, 0, 0xa0, 0, 0];
const SPA: [u8; 6] = [0x02, 0, 0, 0xb0, 0, 0];
const STA_LINKS: [[u8; 6]; 3] = [
    [0x02, 0, 0, 0xb0, 0, 0x10],
    [0x02, 0, 0, 0xb0, 0, 0x11],
    [0x02, 0, 0, 0xb0, 0, 0x12],
];
const AP_LINKS: [[u8; 6]; 3] = [
    [0x02, 0, 0, 0xa0, 0, 0x10],
    [0x02, 0, 0, 0xa0, 0, 0x11],
    [0x02, 0, 0, 0xa0, 0, 0x12],
];
const PMK: [u8; 32] = [0x5a; 32];
/// OWE with group 19, as the AP MLD negotiates it.
const AKM: Akm = Akm::Owe { group: 19 };
/// An RSNE with AKM OWE, CCMP-128, PMF required, BIP-CMAC-128.
const RSNE: [u8; 26] = [
    48, 24, 1, 0, 0x00, 0x0f, 0xac, 4, 1, 0, 0x00, 0x0f, 0xac, 4, 1, 0, 0x00, 0x0f, 0xac, 18, 0xc0,
    0, 0, 0, 0x00, 0x0f,
];

/// An EAPOL PDU through the parser (16- and 24-byte MICs), its round trip, the Key Data walk
/// with each KDE's round trip, and both ends of the handshake.
pub fn check_eapol(pdu: &[u8]) {
    for mic_len in [16, 24] {
        check_parse(pdu, mic_len);
    }
    authenticator(pdu);
    supplicant(pdu);
}

fn check_parse(pdu: &[u8], mic_len: usize) {
    let Ok(k) = EapolKey::parse(pdu, mic_len) else {
        return;
    };
    let _ = (
        k.key_info.version(),
        k.key_info.has(KeyInfo::MIC | KeyInfo::ACK),
    );
    assert_eq!(k.mic.len(), mic_len);
    let out = k.emit(mic_len);
    assert_eq!(
        EapolKey::parse(&out, mic_len).as_ref(),
        Ok(&k),
        "EAPOL-Key round trip"
    );
    check_key_data(k.key_data);
    for alg in [AKM.mic_alg(), Akm::Sae.mic_alg(), Akm::PskSha256.mic_alg()] {
        let _ = eapol::compute_mic(alg, &[0x11; 16], pdu, mic_len);
        let _ = eapol::verify_mic(alg, &[0x11; 16], pdu, mic_len);
    }
}

/// Key Data items: what parses as a KDE emits back to the same item. (A malformed KDE is an
/// error item and the walk goes on; a length past the end is one and the walk ends.)
pub fn check_key_data(data: &[u8]) {
    let mut items = 0;
    for item in parse_key_data(data).take(256) {
        items += 1;
        match item {
            Ok(KeyDataItem::Kde(kde)) => {
                let mut out = Vec::new();
                kde.emit(&mut out).expect("a parsed KDE fits one element");
                let back: Vec<_> = parse_key_data(&out).collect();
                assert_eq!(back, [Ok(KeyDataItem::Kde(kde))], "KDE round trip");
            }
            Ok(KeyDataItem::Element { id, bytes }) => {
                assert_eq!(bytes.first(), Some(&id));
                assert_eq!(bytes.len(), 2 + usize::from(bytes[1]));
            }
            Err(_) => {}
        }
    }
    assert!(
        items <= data.len() / 2 + 1,
        "each item takes at least two bytes"
    );
}

fn authenticator_config() -> AuthenticatorConfig {
    let mut rng = SeededRng::new(3);
    let links = (0..3u8)
        .map(|l| MloLink {
            link_id: l,
            ap_addr: AP_LINKS[usize::from(l)],
            sta_addr: STA_LINKS[usize::from(l)],
            rsne: RSNE.to_vec(),
            rsnxe: None,
            group: GroupKeys::generate(&mut rng, true),
        })
        .collect();
    AuthenticatorConfig {
        akm: AKM,
        cipher: Cipher::Ccmp128,
        aa: AA,
        spa: SPA,
        pmk: PMK.to_vec(),
        pmkid: Some([0x33; 16]),
        sta_rsne: RSNE.to_vec(),
        sta_rsnxe: None,
        ap_rsne: RSNE.to_vec(),
        ap_rsnxe: None,
        group: GroupKeys::generate(&mut rng, true),
        mlo: Some(MloSetup {
            assoc_link_id: 1,
            links,
            rejected_links: Vec::new(),
        }),
    }
}

/// The AP's end after message 1: the PDU as it came, then signed as message 2 under the PTK
/// its SNonce gives; once that is accepted, the PDU signed as message 4.
fn authenticator(pdu: &[u8]) {
    let mut auth = Authenticator::new(authenticator_config(), &mut SeededRng::new(4), 0);
    let _ = auth.message_1().expect("message 1");
    let _ = auth.receive(pdu);
    let mut auth = Authenticator::new(authenticator_config(), &mut SeededRng::new(4), 0);
    let _ = auth.message_1().expect("message 1");
    let anonce = *auth.anonce();
    let mic_len = AKM.mic_len();
    let Ok(k) = EapolKey::parse(pdu, mic_len) else {
        return;
    };
    let Ok(ptk) = Ptk::derive(AKM, Cipher::Ccmp128, &PMK, &AA, &SPA, &anonce, &k.nonce) else {
        return;
    };
    let Some(msg2) = signed(pdu, &ptk, None, None) else {
        return;
    };
    if auth.receive(&msg2).is_err() || auth.state() != State::WaitMsg4 {
        return;
    }
    let replay = auth.next_replay_counter().wrapping_sub(1);
    if let Some(msg4) = signed(pdu, &ptk, Some(KeyInfo::SECURE), Some(replay)) {
        let _ = auth.receive(&msg4);
    }
    let _ = auth.retransmit();
}

/// The station's end: the PDU as message 1; then, after a real message 1, the PDU signed
/// (and its Key Data wrapped) as message 3.
fn supplicant(pdu: &[u8]) {
    let config = || SupplicantConfig {
        akm: AKM,
        cipher: Cipher::Ccmp128,
        aa: AA,
        spa: SPA,
        pmk: PMK.to_vec(),
        sta_rsne: RSNE.to_vec(),
        sta_rsnxe: None,
        mlo: Some(SupplicantMlo {
            assoc_link_id: 1,
            other_links: vec![(0, STA_LINKS[0]), (2, STA_LINKS[2])],
        }),
    };
    let mut sup = Supplicant::new(config(), &mut SeededRng::new(5));
    let _ = sup.receive(pdu);
    // A real message 1 from the authenticator, then the fuzzed message 3.
    let mut auth = Authenticator::new(authenticator_config(), &mut SeededRng::new(4), 0);
    let m1 = auth.message_1().expect("message 1");
    let mut sup = Supplicant::new(config(), &mut SeededRng::new(5));
    if sup.receive(&m1).is_err() {
        panic!("the supplicant refuses a real message 1");
    }
    let Ok(ptk) = Ptk::derive(
        AKM,
        Cipher::Ccmp128,
        &PMK,
        &AA,
        &SPA,
        auth.anonce(),
        sup.snonce(),
    ) else {
        return;
    };
    let Ok(k) = EapolKey::parse(pdu, AKM.mic_len()) else {
        return;
    };
    let mut wrapped_data = k.key_data.to_vec();
    if k.key_info.has(KeyInfo::ENCRYPTED_KEY_DATA) {
        keywrap::pad_key_data(&mut wrapped_data);
        let Ok(w) = keywrap::wrap(ptk.kek(), &wrapped_data) else {
            return;
        };
        wrapped_data = w;
    }
    if wrapped_data.len() > 2000 {
        return;
    }
    let mut m3 = EapolKey {
        key_data: &wrapped_data,
        ..k.clone()
    };
    m3.replay_counter = m3.replay_counter.max(1);
    let mut out = m3.emit(AKM.mic_len());
    if eapol::write_mic(AKM.mic_alg(), ptk.kck(), &mut out, AKM.mic_len()).is_ok() {
        let _ = sup.receive(&out);
    }
}

/// `pdu` re-emitted (its Key Info with `set` bits added, its replay counter replaced if
/// given) with a valid MIC under `ptk`.
fn signed(pdu: &[u8], ptk: &Ptk, set: Option<u16>, replay: Option<u64>) -> Option<Vec<u8>> {
    let mic_len = AKM.mic_len();
    let mut k = EapolKey::parse(pdu, mic_len).ok()?;
    if let Some(bits) = set {
        k.key_info = KeyInfo(k.key_info.0 | bits);
    }
    if let Some(r) = replay {
        k.replay_counter = r;
    }
    let mut out = k.emit(mic_len);
    eapol::write_mic(AKM.mic_alg(), ptk.kck(), &mut out, mic_len).ok()?;
    Some(out)
}

/// The SAE peer every fuzzed commit and confirm meets (derived once: hash-to-curve and a
/// scalar multiplication cost more than the rest of an execution).
fn sae_peer() -> &'static SaeInstance {
    static PEER: OnceLock<SaeInstance> = OnceLock::new();
    PEER.get_or_init(|| {
        let pwe = PasswordToken::derive(b"mlo", b"correct horse battery", None)
            .pwe(&AA, &SPA)
            .expect("PWE");
        SaeInstance::new(&pwe, &mut SeededRng::new(6))
    })
}

/// SAE fields (what follows an Authentication frame's status code) as a commit, an
/// anti-clogging token request and a confirm; what parses round-trips, and a commit goes
/// through the peer's key derivation and the confirm check.
pub fn check_sae(fields: &[u8]) {
    let _ = TokenRequest::parse(fields);
    let _ = Pwe::from_bytes(fields);
    if let Ok(c) = Confirm::parse(fields) {
        let mut out = Vec::new();
        c.emit(&mut out);
        assert_eq!(out, fields[..out.len()], "confirm round trip");
        assert_eq!(Confirm::parse(&out), Ok(c));
    }
    let Ok(commit) = Commit::parse(fields) else {
        return;
    };
    let _ = commit.rejected_group_list().count();
    let mut out = Vec::new();
    commit.emit(&mut out);
    assert_eq!(
        Commit::parse(&out).as_ref(),
        Ok(&commit),
        "commit round trip"
    );
    let peer = sae_peer();
    if let Ok(keys) = peer.process_commit(&commit) {
        // Our own confirm never passes for the peer's: the hash covers both commits in
        // order, and a commit equal to ours was refused as a reflection.
        assert!(
            keys.verify_confirm(&keys.confirm(1)).is_err(),
            "own confirm accepted"
        );
        if let Ok(theirs) = Confirm::parse(&fields[fields.len().saturating_sub(34)..]) {
            let _ = keys.verify_confirm(&theirs);
        }
    }
}
