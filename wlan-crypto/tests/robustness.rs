//! Behaviour on hostile or unusual input and the parts the vectors do not reach: KDE and
//! element round trips, truncated input (errors, never panics), MLO address translation in
//! CCMP, CCMP for management frames, OWE element handling, per-AKM key lengths.

use hwsim_crypto::ccmp::{AadAddrs, CcmpKey, MGMT_SLOT};
use hwsim_crypto::eapol::{EapolKey, KeyInfo};
use hwsim_crypto::error::CryptoError;
use hwsim_crypto::kde::{parse_key_data, Kde, KeyDataItem, KeyWithPn};
use hwsim_crypto::keys::{Akm, Cipher, Ptk};
use hwsim_crypto::owe::{OweDhParam, OweKeyPair};
use hwsim_crypto::rng::{KeyRng, SeededRng};

const RSNE: [u8; 22] = [
    48, 20, 1, 0, 0, 0x0f, 0xac, 4, 1, 0, 0, 0x0f, 0xac, 4, 1, 0, 0, 0x0f, 0xac, 18, 0xc0, 0,
];

fn sample_kdes() -> Vec<Kde<'static>> {
    static KEY: [u8; 16] = [0x42; 16];
    vec![
        Kde::Gtk {
            key_id: 2,
            tx: true,
            gtk: &KEY,
        },
        Kde::MacAddr([1, 2, 3, 4, 5, 6]),
        Kde::Pmkid([9; 16]),
        Kde::Igtk(KeyWithPn {
            key_id: 5,
            pn: 0x0102_0304_0506,
            key: &KEY,
        }),
        Kde::Bigtk(KeyWithPn {
            key_id: 7,
            pn: 1,
            key: &KEY,
        }),
        Kde::MloGtk {
            link_id: 14,
            key_id: 1,
            tx: false,
            pn: 0xa0b0_c0d0_e0f0,
            gtk: &KEY,
        },
        Kde::MloIgtk {
            link_id: 3,
            key: KeyWithPn {
                key_id: 4,
                pn: 77,
                key: &KEY,
            },
        },
        Kde::MloBigtk {
            link_id: 2,
            key: KeyWithPn {
                key_id: 6,
                pn: 78,
                key: &KEY,
            },
        },
        Kde::MloLink {
            link_id: 1,
            mac: [7; 6],
            rsne: Some(&RSNE),
            rsnxe: Some(&[244, 1, 0x20]),
        },
        Kde::MloLink {
            link_id: 2,
            mac: [8; 6],
            rsne: None,
            rsnxe: None,
        },
        Kde::Other {
            oui: [0x50, 0x6f, 0x9a],
            data_type: 0x20,
            data: &[1],
        },
    ]
}

#[test]
fn every_kde_round_trips_through_key_data_with_padding() {
    let mut data = RSNE.to_vec();
    for kde in sample_kdes() {
        kde.emit(&mut data).unwrap();
    }
    hwsim_crypto::keywrap::pad_key_data(&mut data);
    let items: Vec<_> = parse_key_data(&data).map(Result::unwrap).collect();
    assert_eq!(
        items[0],
        KeyDataItem::Element {
            id: 48,
            bytes: &RSNE
        }
    );
    let kdes: Vec<_> = items[1..]
        .iter()
        .map(|i| match i {
            KeyDataItem::Kde(k) => k.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(kdes, sample_kdes());
}

#[test]
fn mlo_kde_bytes_follow_the_wpa_supplicant_layout() {
    let mut out = Vec::new();
    Kde::MloGtk {
        link_id: 2,
        key_id: 1,
        tx: false,
        pn: 5,
        gtk: &[0xee; 16],
    }
    .emit(&mut out)
    .unwrap();
    // dd len | 00 0f ac 16 | key id 1 | link 2 << 4 | PN LE (6) | GTK
    assert_eq!(
        &out[..13],
        &[0xdd, 27, 0, 0x0f, 0xac, 16, 0x21, 5, 0, 0, 0, 0, 0]
    );
    out.clear();
    Kde::MloLink {
        link_id: 3,
        mac: [0xaa; 6],
        rsne: Some(&RSNE),
        rsnxe: None,
    }
    .emit(&mut out)
    .unwrap();
    assert_eq!(&out[..7], &[0xdd, 4 + 7 + 22, 0, 0x0f, 0xac, 19, 0x13]);
    out.clear();
    Kde::MloIgtk {
        link_id: 1,
        key: KeyWithPn {
            key_id: 4,
            pn: 2,
            key: &[0; 16],
        },
    }
    .emit(&mut out)
    .unwrap();
    assert_eq!(
        &out[..15],
        &[0xdd, 29, 0, 0x0f, 0xac, 17, 4, 0, 2, 0, 0, 0, 0, 0, 0x10]
    );
}

#[test]
fn oversized_kde_is_an_error_and_leaves_the_buffer_alone() {
    let big = [48u8; 260];
    let mut out = vec![1, 2, 3];
    let res = Kde::MloLink {
        link_id: 0,
        mac: [0; 6],
        rsne: Some(&big),
        rsnxe: None,
    }
    .emit(&mut out);
    assert!(res.is_err());
    assert_eq!(out, [1, 2, 3]);
}

#[test]
fn truncated_key_data_and_frames_are_errors_not_panics() {
    let mut data = RSNE.to_vec();
    for kde in sample_kdes() {
        kde.emit(&mut data).unwrap();
    }
    for cut in 0..data.len() {
        let _ = parse_key_data(&data[..cut]).count();
        // Flip every length byte position too.
        let mut bent = data.clone();
        bent[cut] = bent[cut].wrapping_add(7);
        let _ = parse_key_data(&bent).count();
    }
    let pdu = EapolKey {
        version: 2,
        key_info: KeyInfo(KeyInfo::PAIRWISE | KeyInfo::MIC),
        key_length: 16,
        replay_counter: 1,
        nonce: [3; 32],
        iv: [0; 16],
        rsc: 0,
        mic: &[],
        key_data: &data,
    }
    .emit(16);
    assert_eq!(EapolKey::parse(&pdu, 16).unwrap().key_data, &data[..]);
    for cut in 0..pdu.len() {
        assert!(EapolKey::parse(&pdu[..cut], 16).is_err(), "cut at {cut}");
    }
    let mut lying = pdu.clone();
    let at = pdu.len() - data.len() - 2;
    lying[at] = 0xff; // Key Data Length beyond the body
    assert_eq!(
        EapolKey::parse(&lying, 16),
        Err(CryptoError::Malformed("Key Data Length beyond frame"))
    );

    let key = CcmpKey::new(&[1; 16]).unwrap();
    let mut frame = vec![0x88, 0x41, 0, 0];
    frame.extend_from_slice(&[0xab; 40]);
    key.encrypt(&mut frame, 9, 0, None).unwrap();
    for cut in 0..frame.len() {
        let mut short = frame[..cut].to_vec();
        assert!(key.decrypt(&mut short, None).is_err(), "cut at {cut}");
    }
    assert!(OweDhParam::parse_element(&[255, 1, 32]).is_err());
    assert!(hwsim_crypto::bip::BipKey::new(&[0; 16])
        .unwrap()
        .verify(&[0; 30])
        .is_err());
}

#[test]
fn mlo_frames_are_protected_with_mld_addresses_whatever_link_carries_them() {
    let key = CcmpKey::new(&[5; 16]).unwrap();
    let ap_mld = [0x02, 0xaa, 0, 0, 0, 1];
    let sta_mld = [0x02, 0x55, 0, 0, 0, 1];
    let mld = AadAddrs {
        a1: sta_mld,
        a2: ap_mld,
        a3: Some(ap_mld),
    };
    let link1 = [0x02, 0xaa, 0, 0, 1, 1];
    let sta1 = [0x02, 0x55, 0, 0, 1, 2];
    // QoS Data FromDS on link 1: link addresses in the header.
    let mut frame = vec![0x88, 0x02, 0, 0];
    frame.extend_from_slice(&[0x02, 0x55, 0, 0, 1, 2]); // A1: STA link 1
    frame.extend_from_slice(&[0x02, 0xaa, 0, 0, 1, 1]); // A2: AP link 1
    frame.extend_from_slice(&[0x02, 0xaa, 0, 0, 1, 1]); // A3: BSSID of link 1
    frame.extend_from_slice(&[0x10, 0x00, 0x05, 0x00]); // seq, QoS TID 5
    frame.extend_from_slice(b"payload over the air");
    let plain = frame.clone();
    key.encrypt(&mut frame, 1, 0, Some(&mld)).unwrap();

    // Received on another link: only the header addresses differ, the AAD does not.
    let mut on_link_2 = frame.clone();
    on_link_2[4..10].copy_from_slice(&[0x02, 0x55, 0, 0, 2, 2]);
    on_link_2[10..16].copy_from_slice(&[0x02, 0xaa, 0, 0, 2, 1]);
    on_link_2[16..22].copy_from_slice(&[0x02, 0xaa, 0, 0, 2, 1]);
    let link2_map = AadAddrs::mld_data(
        &on_link_2,
        &[0x02, 0xaa, 0, 0, 2, 1],
        &ap_mld,
        &[0x02, 0x55, 0, 0, 2, 2],
        &sta_mld,
    )
    .unwrap();
    assert_eq!(link2_map, mld);
    let rx = key.decrypt(&mut on_link_2, Some(&link2_map)).unwrap();
    assert_eq!((rx.pn, rx.replay_slot), (1, 5));
    assert_eq!(on_link_2[24..], plain[24..]);

    assert_eq!(
        AadAddrs::mld_data(&frame, &link1, &ap_mld, &sta1, &sta_mld),
        Some(mld)
    );
    // An SA beyond the AP in A3 stays as it is.
    let mut relayed = frame.clone();
    relayed[16..22].copy_from_slice(&[0x0e; 6]);
    let map = AadAddrs::mld_data(&relayed, &link1, &ap_mld, &sta1, &sta_mld).unwrap();
    assert_eq!(map.a3, Some([0x0e; 6]));
    assert_eq!(
        AadAddrs::mld_data(&frame[..20], &link1, &ap_mld, &sta1, &sta_mld),
        None
    );
    // Without translation the link addresses go into the AAD and nonce: MIC failure.
    let mut untranslated = frame.clone();
    assert_eq!(
        key.decrypt(&mut untranslated, None),
        Err(CryptoError::MicMismatch)
    );
}

#[test]
fn robust_management_frames_use_the_management_nonce_flag() {
    let key = CcmpKey::new(&[6; 16]).unwrap();
    // Deauthentication, reason 7.
    let mut mgmt = vec![0xc0, 0x00, 0, 0];
    mgmt.extend_from_slice(&[1; 6]);
    mgmt.extend_from_slice(&[2; 6]);
    mgmt.extend_from_slice(&[1; 6]);
    mgmt.extend_from_slice(&[0x20, 0x00, 7, 0]);
    let plain = mgmt.clone();
    key.encrypt(&mut mgmt, 3, 0, None).unwrap();
    assert_eq!(mgmt[1] & 0x40, 0x40);
    // Same header bytes as a non-QoS data frame (type bits differ only) must not decrypt
    // to the same result: the nonce flag and the unmasked subtype separate them.
    let mut as_data = mgmt.clone();
    as_data[0] = 0x08;
    assert!(key.decrypt(&mut as_data, None).is_err());
    let rx = key.decrypt(&mut mgmt, None).unwrap();
    assert_eq!(rx.replay_slot, MGMT_SLOT);
    assert_eq!(mgmt[2..], plain[2..]);
}

#[test]
fn owe_element_round_trips_and_bad_keys_are_rejected() {
    let mut rng = SeededRng::new(11);
    let pair = OweKeyPair::generate(&mut rng);
    let mut el = Vec::new();
    pair.dh_param().emit_element(&mut el);
    assert_eq!(&el[..5], &[255, 35, 32, 19, 0]);
    let parsed = OweDhParam::parse_element(&el).unwrap();
    assert_eq!(parsed, pair.dh_param());
    // x = p (not a field element) and a wrong group.
    let not_on_curve = OweDhParam {
        group: 19,
        public_key: &[0xff; 32],
    };
    assert_eq!(
        pair.ap_derive(&not_on_curve),
        Err(CryptoError::InvalidPublicKey)
    );
    let other_group = OweDhParam {
        group: 20,
        public_key: pair.public_x(),
    };
    assert!(matches!(
        pair.ap_derive(&other_group),
        Err(CryptoError::Unsupported { .. })
    ));
}

#[test]
fn key_lengths_follow_the_akm_table() {
    let anonce = [1; 32];
    let snonce = [2; 32];
    let owe19 = Ptk::derive(
        Akm::Owe { group: 19 },
        Cipher::Ccmp128,
        &[7; 32],
        &[1; 6],
        &[2; 6],
        &anonce,
        &snonce,
    )
    .unwrap();
    assert_eq!(
        (owe19.kck().len(), owe19.kek().len(), owe19.tk().len()),
        (16, 16, 16)
    );
    let owe20 = Ptk::derive(
        Akm::Owe { group: 20 },
        Cipher::Ccmp128,
        &[7; 48],
        &[1; 6],
        &[2; 6],
        &anonce,
        &snonce,
    )
    .unwrap();
    assert_eq!(
        (owe20.kck().len(), owe20.kek().len(), owe20.tk().len()),
        (24, 32, 16)
    );
    assert_eq!(Akm::Owe { group: 19 }.mic_len(), 16);
    assert_eq!(Akm::Owe { group: 19 }.key_descriptor_version(), 0);
    assert_eq!(Akm::Owe { group: 20 }.mic_len(), 24);
    // Addresses and nonces enter sorted, so both ends derive the same PTK.
    let swapped = Ptk::derive(
        Akm::Owe { group: 19 },
        Cipher::Ccmp128,
        &[7; 32],
        &[2; 6],
        &[1; 6],
        &snonce,
        &anonce,
    )
    .unwrap();
    assert_eq!(owe19, swapped);
    assert_eq!(
        Ptk::derive(
            Akm::Owe { group: 21 },
            Cipher::Ccmp128,
            &[7; 32],
            &[1; 6],
            &[2; 6],
            &anonce,
            &snonce
        ),
        Err(CryptoError::Unsupported {
            what: "OWE group",
            value: 21
        })
    );
    assert_eq!(
        Ptk::derive(
            Akm::Sae,
            Cipher::Ccmp128,
            &[7; 31],
            &[1; 6],
            &[2; 6],
            &anonce,
            &snonce
        ),
        Err(CryptoError::InvalidKeyLength(31))
    );
}

#[test]
fn seeded_rng_is_deterministic_per_seed() {
    let draw = |seed| {
        let mut r = SeededRng::new(seed);
        let mut a = [0u8; 50];
        r.fill(&mut a[..7]);
        r.fill(&mut a[7..]);
        a
    };
    assert_eq!(draw(1), draw(1));
    assert_ne!(draw(1), draw(2));
    let mut whole = [0u8; 50];
    SeededRng::new(1).fill(&mut whole);
    assert_eq!(whole, draw(1));
}

#[test]
fn beacon_protection_ignores_the_timestamp() {
    let key = hwsim_crypto::bip::BipKey::new(&[9; 16]).unwrap();
    let mut beacon = vec![0x80, 0, 0, 0];
    beacon.extend_from_slice(&[0xff; 6]);
    beacon.extend_from_slice(&[2; 6]);
    beacon.extend_from_slice(&[2; 6]);
    beacon.extend_from_slice(&[0, 0]);
    beacon.extend_from_slice(&[0; 8]); // timestamp, filled at transmission
    beacon.extend_from_slice(&[100, 0, 0x11, 0x04, 0, 3, b'm', b'l', b'o']);
    key.protect(&mut beacon, 6, 1).unwrap();
    beacon[24..32].copy_from_slice(&0x1234_5678u64.to_le_bytes());
    assert_eq!(key.verify(&beacon).unwrap().key_id, 6);
    beacon[33] ^= 1; // beacon interval
    assert_eq!(key.verify(&beacon), Err(CryptoError::MicMismatch));
    // A deauthentication frame's first body bytes are covered.
    let mut deauth = vec![0xc0, 0, 0, 0];
    deauth.extend_from_slice(&[0xff; 6]);
    deauth.extend_from_slice(&[2; 12]);
    deauth.extend_from_slice(&[0, 0, 3, 0]);
    key.protect(&mut deauth, 4, 1).unwrap();
    deauth[24] ^= 1;
    assert_eq!(key.verify(&deauth), Err(CryptoError::MicMismatch));
}
