//! EAPOL-Key messages 2 and 4 that real guests' wpa_supplicant 2.11 sent: as a non-AP MLD
//! in the OWE multi-link scenario (MAC address KDE with the MLD address, MLO Link KDEs per
//! link), and as a single-link station in the WPA2-PSK and SAE scenarios. The frames are
//! the fixtures of `frame/tests/data` (README there: where each came from).
//!
//! Expected values are tshark 4.4's decode of the same frames, hard-coded (field names in
//! the comments). The MICs are not verified: OWE's and SAE's PMKs derive from secrets not
//! in the capture; WPA2-PSK's would follow from the scenario's passphrase by PBKDF2, which
//! hwsim-crypto does not implement.

use hwsim_crypto::eapol::{EapolKey, KeyInfo};
use hwsim_crypto::kde::{parse_key_data, Kde, KeyDataItem, ELEMENT_RSN, ELEMENT_RSNX};

const MLO_M2: &[u8] = include_bytes!("../../frame/tests/data/mlo-eapol-m2.bin");
const MLO_M4: &[u8] = include_bytes!("../../frame/tests/data/mlo-eapol-m4.bin");
const WPA2_M2: &[u8] = include_bytes!("../../frame/tests/data/wpa2-eapol-m2.bin");
const WPA2_M4: &[u8] = include_bytes!("../../frame/tests/data/wpa2-eapol-m4.bin");
const SAE_M2: &[u8] = include_bytes!("../../frame/tests/data/sae-eapol-m2.bin");
const SAE_M4: &[u8] = include_bytes!("../../frame/tests/data/sae-eapol-m4.bin");

/// Key MIC length of every AKM here (PSK, SAE, OWE with group 19: 16 bytes).
const MIC_LEN: usize = 16;

const LLC_SNAP_EAPOL: [u8; 8] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x88, 0x8e];

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn mac(s: &str) -> [u8; 6] {
    hex(&s.replace(':', "")).try_into().unwrap()
}

/// The EAPOL PDU inside an unprotected 802.11 data frame (to-DS, no HT Control): after
/// the 24-byte header, the QoS Control field if present, and the LLC/SNAP header.
fn eapol_pdu(frame: &[u8]) -> &[u8] {
    let (fc0, fc1) = (frame[0], frame[1]);
    assert_eq!((fc0 >> 2) & 0x3, 2, "a data frame");
    assert_eq!(fc1 & 0x03, 0x01, "to DS only");
    assert_eq!(fc1 & 0xc0, 0, "neither protected nor with HT Control");
    let header = if fc0 & 0x80 != 0 { 26 } else { 24 };
    assert_eq!(frame[header..header + 8], LLC_SNAP_EAPOL);
    &frame[header + 8..]
}

fn items(key_data: &[u8]) -> Vec<KeyDataItem<'_>> {
    parse_key_data(key_data)
        .collect::<Result<_, _>>()
        .expect("Key Data parses")
}

/// Checks the parse and that emitting it again gives the station's bytes.
fn parse(frame: &[u8]) -> EapolKey<'_> {
    let pdu = eapol_pdu(frame);
    let key = EapolKey::parse(pdu, MIC_LEN).expect("EAPOL-Key parses");
    // 802.1X Authentication, Version: 802.1X-2001 (1) in every message here.
    assert_eq!(key.version, 1);
    assert_eq!(key.emit(MIC_LEN), pdu, "EAPOL-Key does not round-trip");
    assert_eq!((key.key_length, key.rsc, key.iv), (0, 0, [0; 16]));
    key
}

#[test]
fn mlo_message_2_carries_mld_address_and_link_kdes() {
    let key = parse(MLO_M2);
    // Key Information: 0x0108 (pairwise, MIC; descriptor version 0: AKM-defined).
    assert_eq!(key.key_info, KeyInfo(0x0108));
    assert!(key.key_info.has(KeyInfo::PAIRWISE | KeyInfo::MIC));
    assert_eq!(key.key_info.version(), 0);
    assert_eq!(key.replay_counter, 0);
    assert_eq!(
        key.nonce.to_vec(),
        hex("04ab89c010a82129d7eb531a36ac4345bfaab9463e09e56379314f30493ec33a")
    );
    assert_eq!(key.mic, hex("5ea959c4d13e2c287af6b02b4875a30e"));
    // WPA Key Data Length: 66: RSNE (OWE, CCMP, MFPR+MFPC, BIP-CMAC-128), MAC Address
    // KDE 02:00:00:b1:00:00, MLO Link KDEs for link 0 (e2:41:56:f8:b5:bf) and link 2
    // (9a:fe:85:d5:b8:2c) with RSNEInfo/RSNXEInfo false.
    assert_eq!(key.key_data.len(), 66);
    let got = items(key.key_data);
    let rsne = hex("301a0100000fac040100000fac040100000fac12cc000000000fac06");
    assert_eq!(
        got,
        [
            KeyDataItem::Element {
                id: ELEMENT_RSN,
                bytes: &rsne,
            },
            KeyDataItem::Kde(Kde::MacAddr(mac("02:00:00:b1:00:00"))),
            KeyDataItem::Kde(Kde::MloLink {
                link_id: 0,
                mac: mac("e2:41:56:f8:b5:bf"),
                rsne: None,
                rsnxe: None,
            }),
            KeyDataItem::Kde(Kde::MloLink {
                link_id: 2,
                mac: mac("9a:fe:85:d5:b8:2c"),
                rsne: None,
                rsnxe: None,
            }),
        ]
    );
    // The KDEs re-emit to the station's bytes.
    let mut out = rsne.clone();
    for item in &got[1..] {
        let KeyDataItem::Kde(k) = item else {
            unreachable!()
        };
        k.emit(&mut out).unwrap();
    }
    assert_eq!(out, key.key_data);
}

#[test]
fn mlo_message_4_carries_the_mld_address() {
    let key = parse(MLO_M4);
    // Key Information: 0x0308 (pairwise, MIC, secure); Replay Counter: 1.
    assert_eq!(key.key_info, KeyInfo(0x0308));
    assert!(key.key_info.has(KeyInfo::SECURE));
    assert_eq!(key.replay_counter, 1);
    assert_eq!(key.nonce, [0; 32]);
    assert_eq!(key.mic, hex("b8be871465b5a2d83abeea3e383a680f"));
    // WPA Key Data: dd0a000fac03020000b10000 (MAC Address KDE).
    assert_eq!(key.key_data, hex("dd0a000fac03020000b10000"));
    assert_eq!(
        items(key.key_data),
        [KeyDataItem::Kde(Kde::MacAddr(mac("02:00:00:b1:00:00")))]
    );
}

#[test]
fn wpa2_psk_messages_2_and_4() {
    let m2 = parse(WPA2_M2);
    // Key Information: 0x010a (descriptor version 2: HMAC-SHA1-128 / AES key wrap).
    assert_eq!(m2.key_info, KeyInfo(0x010a));
    assert_eq!(m2.key_info.version(), 2);
    assert_eq!(m2.replay_counter, 1);
    assert_eq!(
        m2.nonce.to_vec(),
        hex("e6c32ab337b5ee30f0992874813652025de7ffc09b21901f45b874e13a2f237b")
    );
    assert_eq!(m2.mic, hex("9693bb71537e19c0c93bf9ca2320ce2c"));
    // WPA Key Data: the station's RSNE (PSK, CCMP, capabilities 0x000c).
    let rsne = hex("30140100000fac040100000fac040100000fac020c00");
    assert_eq!(
        items(m2.key_data),
        [KeyDataItem::Element {
            id: ELEMENT_RSN,
            bytes: &rsne,
        }]
    );

    let m4 = parse(WPA2_M4);
    assert_eq!(m4.key_info, KeyInfo(0x030a));
    assert_eq!(m4.replay_counter, 2);
    assert_eq!(m4.mic, hex("a19eb871e24f0649584efe6c06f8becd"));
    assert!(m4.key_data.is_empty());
}

#[test]
fn sae_messages_2_and_4() {
    let m2 = parse(SAE_M2);
    assert_eq!(m2.key_info, KeyInfo(0x0108));
    assert_eq!(m2.replay_counter, 1);
    assert_eq!(
        m2.nonce.to_vec(),
        hex("f72bfe997a35ae57ffa5d5e4482ed0c0578c766d478c19c4ac2a4d33e267df38")
    );
    assert_eq!(m2.mic, hex("d5ae46ad2515d176f6ebac78da795f7b"));
    // WPA Key Data Length: 31: RSNE (SAE, MFPR+MFPC, BIP-CMAC-128), then RSNXE 0x20 (H2E).
    let rsne = hex("301a0100000fac040100000fac040100000fac08cc000000000fac06");
    let rsnxe = hex("f40120");
    assert_eq!(
        items(m2.key_data),
        [
            KeyDataItem::Element {
                id: ELEMENT_RSN,
                bytes: &rsne,
            },
            KeyDataItem::Element {
                id: ELEMENT_RSNX,
                bytes: &rsnxe,
            },
        ]
    );

    let m4 = parse(SAE_M4);
    assert_eq!(m4.key_info, KeyInfo(0x0308));
    assert_eq!(m4.replay_counter, 2);
    assert_eq!(m4.mic, hex("93c89df9d66e4523ef040d9412b56204"));
    assert!(m4.key_data.is_empty());
}
