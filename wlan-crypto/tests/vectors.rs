//! Published test vectors, asserted byte for byte.
//!
//! Sources: IEEE Std 802.11-2020 Annex J (J.6.4 CCMP, J.9.1 BIP-CMAC-128, J.3 PRF-SHA-1, as
//! reproduced in hostapd's `wlantest/test_vectors.c` / `crypto_module_tests.c` and the
//! Broadcom/FreeBSD test modules), the CCMP test MPDUs of IEEE P802.11i/D7.0 I.7.4 (those
//! whose AAD rules did not change since: no Order bit in QoS Data frames), RFC 3394 4.1, and
//! the SAE key derivation of IEEE 802.11-2020 J.10 (from IEEE 802.11-18/1104r0; the KCK,
//! PMK and PMKID values also appear in hostapd's `common_module_tests.c`) for KDF-SHA-256.

use hwsim_crypto::bip::BipKey;
use hwsim_crypto::ccmp::{CcmpKey, ReplayCounters};
use hwsim_crypto::error::CryptoError;
use hwsim_crypto::kdf::{kdf, prf_sha1, HashAlg};
use hwsim_crypto::keywrap;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

struct CcmpVector {
    name: &'static str,
    tk: &'static str,
    pn: u64,
    key_id: u8,
    plain: &'static str,
    encrypted: &'static str,
}

const CCMP_VECTORS: &[CcmpVector] = &[
    // IEEE 802.11-2020 J.6.4 (= 802.11i D7.0 test MPDU 1): non-QoS data, Retry set.
    CcmpVector {
        name: "J.6.4 / 802.11i MPDU 1",
        tk: "c97c1f67ce371185514a8a19f2bdd52f",
        pn: 0xB503_9776_E70C,
        key_id: 0,
        plain: "08 48 c3 2c 0f d2 e1 28 a5 7c 50 30 f1 84 44 08 ab ae a5 b8 fc ba 80 33
                f8 ba 1a 55 d0 2f 85 ae 96 7b b6 2f b6 cd a8 eb 7e 78 a0 50",
        encrypted: "08 48 c3 2c 0f d2 e1 28 a5 7c 50 30 f1 84 44 08 ab ae a5 b8 fc ba 80 33
                0c e7 00 20 76 97 03 b5 f3 d0 a2 fe 9a 3d bf 23 42 a6 43 e4 32 46 e8 0c
                3c 04 d0 19 78 45 ce 0b 16 f9 76 23",
    },
    // Data+CF-Ack+CF-Poll with Order set (non-QoS: Order stays in the AAD), key ID 2.
    CcmpVector {
        name: "802.11i MPDU 2",
        tk: "8f7a053fa577a55975292720 97a603d5",
        pn: 0x31F3_CBBA_97EA,
        key_id: 2,
        plain: "38 c0 6a 51 ea 10 0c 84 68 50 ee c1 76 2c 88 de af 2e e9 f4 6a 07 e0 cc
                83 a0 63 4b 5e d7 62 7e b9 df 22 5e 05 74 03 42 de 19 41 17",
        encrypted: "38 c0 6a 51 ea 10 0c 84 68 50 ee c1 76 2c 88 de af 2e e9 f4 6a 07 e0 cc
                ea 97 00 a0 ba cb f3 31 81 4b 69 65 d0 5b f2 b2 ed 38 d4 be b0 69 fe 82
                71 4a 61 0b 54 2f bf 8d a0 6a a4 ae",
    },
    // QoS Data, FromDS, Power Management set, QoS Control 0x6a3d (TID 13, EOSP, ack policy).
    CcmpVector {
        name: "802.11i MPDU 6",
        tk: "f71eea4e1f58804b9717230ad0614641",
        pn: 0x6B81_ECA4_8989,
        key_id: 1,
        plain: "88 52 e1 1f 5a f2 84 30 fd ab bf f9 43 b9 f9 a6 ab 1d 98 c7 fe 73 50 71 3d 6a
                ab fd a2 2d 3a 0b fc 9c c1 fc 07 93 63 c2 fc a1 43 e6 eb 1d",
        encrypted: "88 52 e1 1f 5a f2 84 30 fd ab bf f9 43 b9 f9 a6 ab 1d 98 c7 fe 73 50 71 3d 6a
                89 89 00 60 a4 ec 81 6b 9a 70 9b 60 a3 9d 40 b1 df b6 12 e1 8b 5f 11 4b
                ad b6 cc 86 30 9a 8d 5c 46 6b bb 71",
    },
    // Data+CF-Ack (subtype bits masked), ToDS, Retry + PwrMgt + MoreData set, key ID 3.
    CcmpVector {
        name: "802.11i MPDU 7",
        tk: "1bdb34980e038124a1db1a892bec366a",
        pn: 0x5EEC_4073_E723,
        key_id: 3,
        plain: "18 79 81 46 9b 50 f4 fd 56 f6 ef ec 95 20 16 91 83 57 0c 4c cd ee 20 a0
                98 be ca 86 f4 b3 8d a2 0c fd f2 47 24 c5 8e b8 35 66 53 39",
        encrypted: "18 79 81 46 9b 50 f4 fd 56 f6 ef ec 95 20 16 91 83 57 0c 4c cd ee 20 a0
                23 e7 00 e0 73 40 ec 5e 12 c5 37 eb f3 ab 58 4e f1 fe f9 a1 f3 54 7a 8c
                13 b3 22 5a 2d 09 57 ec fa be 95 b9",
    },
];

#[test]
fn ccmp_encrypts_published_mpdus_byte_for_byte() {
    for v in CCMP_VECTORS {
        let key = CcmpKey::new(&hex(v.tk)).unwrap();
        let mut frame = hex(v.plain);
        key.encrypt(&mut frame, v.pn, v.key_id, None).unwrap();
        assert_eq!(frame, hex(v.encrypted), "{}", v.name);
    }
}

#[test]
fn ccmp_decrypts_published_mpdus_and_rejects_tampering() {
    for v in CCMP_VECTORS {
        let key = CcmpKey::new(&hex(v.tk)).unwrap();
        let mut frame = hex(v.encrypted);
        let rx = key.decrypt(&mut frame, None).unwrap();
        assert_eq!((rx.pn, rx.key_id), (v.pn, v.key_id), "{}", v.name);
        // Decryption clears the Protected bit; the vectors' plaintext has it set.
        let mut plain = hex(v.plain);
        plain[1] &= !0x40;
        assert_eq!(frame, plain, "{}", v.name);

        let mut tampered = hex(v.encrypted);
        let last_body_byte = tampered.len() - 9;
        tampered[last_body_byte] ^= 1;
        assert_eq!(
            key.decrypt(&mut tampered, None),
            Err(CryptoError::MicMismatch),
            "{}",
            v.name
        );
    }
}

#[test]
fn ccmp_replay_counters_reject_old_pns_per_tid() {
    let v = &CCMP_VECTORS[2];
    let key = CcmpKey::new(&hex(v.tk)).unwrap();
    let mut frame = hex(v.encrypted);
    let rx = key.decrypt(&mut frame, None).unwrap();
    assert_eq!(rx.replay_slot, 13);
    let mut counters = ReplayCounters::starting_at(0);
    counters.check_and_update(&rx).unwrap();
    assert!(matches!(
        counters.check_and_update(&rx),
        Err(CryptoError::Replay { .. })
    ));
    // Another TID has its own counter.
    let other_tid = hwsim_crypto::ccmp::CcmpRx {
        replay_slot: 5,
        ..rx
    };
    counters.check_and_update(&other_tid).unwrap();
}

#[test]
fn bip_cmac_128_matches_annex_j_9_1() {
    // J.9.1 BIP with broadcast Deauthentication frame: IGTK, key ID 4, IPN 4.
    let igtk = hex("4ea9543e09cf2b1eca66ffc58bdecbcf");
    let plain =
        hex("c0 00 00 00 ff ff ff ff ff ff 02 00 00 00 00 00 02 00 00 00 00 00 09 00 02 00");
    let expected = hex(
        "c0 00 00 00 ff ff ff ff ff ff 02 00 00 00 00 00 02 00 00 00 00 00 09 00 02 00
         4c 10 04 00 04 00 00 00 00 00 48 df bf a7 b8 27 88 72",
    );
    let key = BipKey::new(&igtk).unwrap();
    let mut frame = plain.clone();
    key.protect(&mut frame, 4, 4).unwrap();
    assert_eq!(frame, expected);
    let rx = key.verify(&expected).unwrap();
    assert_eq!((rx.key_id, rx.ipn), (4, 4));
    let mut tampered = expected.clone();
    tampered[24] ^= 1;
    assert_eq!(key.verify(&tampered), Err(CryptoError::MicMismatch));
}

#[test]
fn aes_key_wrap_matches_rfc3394_4_1() {
    let kek = hex("000102030405060708090A0B0C0D0E0F");
    let plain = hex("00112233445566778899AABBCCDDEEFF");
    let wrapped = hex("1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5");
    assert_eq!(keywrap::wrap(&kek, &plain).unwrap(), wrapped);
    assert_eq!(keywrap::unwrap(&kek, &wrapped).unwrap(), plain);
    let mut bad = wrapped.clone();
    bad[0] ^= 1;
    assert_eq!(keywrap::unwrap(&kek, &bad), Err(CryptoError::KeyUnwrap));
}

#[test]
fn key_data_padding_follows_12_7_2() {
    let mut short = vec![1u8; 5];
    keywrap::pad_key_data(&mut short);
    assert_eq!(short, [1, 1, 1, 1, 1, 0xdd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut odd = vec![2u8; 17];
    keywrap::pad_key_data(&mut odd);
    assert_eq!(odd.len(), 24);
    assert_eq!(&odd[17..], &[0xdd, 0, 0, 0, 0, 0, 0]);
    let mut aligned = vec![3u8; 24];
    keywrap::pad_key_data(&mut aligned);
    assert_eq!(aligned.len(), 24);
}

#[test]
fn prf_sha1_matches_annex_j_3_vectors() {
    let mut out = [0u8; 64];
    prf_sha1(&[0x0b; 20], b"prefix", b"Hi There", &mut out);
    assert_eq!(
        out.to_vec(),
        hex(
            "bcd4c650b30b9684951829e0d75f9d54b862175ed9f00606e17d8da35402ffee
             75df78c3d31e0f889f012120c0862beb67753e7439ae242edb8373698356cf5a"
        )
    );
    prf_sha1(
        b"Jefe",
        b"prefix",
        b"what do ya want for nothing?",
        &mut out,
    );
    assert_eq!(
        out.to_vec(),
        hex(
            "51f4de5b33f249adf81aeb713a3c20f4fe631446fabdfa58244759ae58ef9009
             a99abf4eac2ca5fa87e692c440eb40023e7babb206d61de7b92f41529092b8fc"
        )
    );
    prf_sha1(&[0xaa; 20], b"prefix", &[0xdd; 50], &mut out);
    assert_eq!(
        out.to_vec(),
        hex(
            "e1ac546ec4cb636f9976487be5c86be17a0252ca5d8d8df12cfb0473525249ce
             9dd8d177ead710bc9b590547239107aef7b4abd43d87f0a68f1cbd9e2b6f7607"
        )
    );
}

#[test]
fn kdf_sha256_matches_the_sae_kck_and_pmk_vector_of_annex_j_10() {
    // keyseed and context = (commit-scalar + peer-commit-scalar) mod r from J.10;
    // KCK || PMK = KDF-SHA-256-512(keyseed, "SAE KCK and PMK", context).
    let keyseed = hex("7457a00754dcc4e3dc2850c124d6bb8fa1699d7fa33bb0667d9c34eeb513deb9");
    let context = hex("40a09b6017cebf0072843b5352aa2b4fb1a84a84c0fe5c235896466a2d3418b1");
    let mut out = [0u8; 64];
    kdf(
        HashAlg::Sha256,
        &keyseed,
        b"SAE KCK and PMK",
        &context,
        &mut out,
    );
    assert_eq!(
        out[..32].to_vec(),
        hex("599d6f1e27548be8499dceed2feccf94818ce1c79f1b4eb3d6a53228a09bf3ed"),
        "KCK"
    );
    assert_eq!(
        out[32..].to_vec(),
        hex("7aead86fba4c3221fc437f5f14d70d854ea5d5aac1690116793081eda4d557c5"),
        "PMK"
    );
}
