//! 802.11 security building blocks for the built-in AP MLD of vhost-hwsim: the key
//! hierarchy, OWE, EAPOL-Key frames and KDEs, both sides of the 4-way handshake
//! (single link and multi-link), CCMP-128 and BIP-CMAC-128.
//!
//! Pure code: no I/O, no clocks, no global state; randomness comes in through
//! [`rng::KeyRng`] so a seeded run is reproducible. Cryptographic primitives are RustCrypto
//! crates (aes, ccm, cmac, hmac, sha1, sha2, hkdf, aes-kw, p256); this crate only writes the
//! IEEE 802.11 glue around them.
//!
//! | module | what | clauses (IEEE Std 802.11-2020 unless noted) |
//! |---|---|---|
//! | [`kdf`] | KDF-Hash-Length (SHA-256/384), PRF-SHA-1 | 12.7.1.6.2, 12.7.1.6.1 |
//! | [`keys`] | AKM table (OWE 00-0F-AC:18, SAE, PSK-SHA256), PTK = KCK/KEK/TK, group keys | 12.7.1.3, 12.7.3 Table 12-11; 802.11be 12.7.1.3 (MLD addresses as AA/SPA) |
//! | [`owe`] | P-256 ECDH, PMK/PMKID, OWE DH Parameter element (255/32) | RFC 8110 4.4; 12.4 (AKM), 9.4.2.243 |
//! | [`eapol`] | EAPOL header + Key Descriptor parse/emit, Key MIC | 802.1X-2010 11.3; 12.7.2; 12.7.3 |
//! | [`kde`] | RSNE/RSNXE, GTK, IGTK, BIGTK, MAC address, PMKID, MLO Link/GTK/IGTK/BIGTK KDEs | 12.7.2 Table 12-10; 802.11be 12.7.2 |
//! | [`sae`] | SAE group 19 with hash-to-element: PT, PWE, commit, confirm, KCK/PMK/PMKID | 12.4.4.2.3, 12.4.5, 9.4.1.x; RFC 9380 (SSWU) |
//! | [`keywrap`] | Key Data padding and AES key wrap | 12.7.2; RFC 3394 |
//! | [`handshake`] | authenticator 4-way handshake state machine | 12.7.6; 802.11be 12.7.6 |
//! | [`group_key`] | group key handshake messages 1/2 (single link and MLO) | 12.7.7; 802.11be 12.7.7 |
//! | [`supplicant`] | supplicant 4-way handshake state machine (single link and MLO) | 12.7.6; 802.11be 12.7.6 |
//! | [`ccmp`] | CCMP-128 encapsulation/decapsulation, per-TID replay counters | 12.5.3; 802.11be 12.5.2.3.3 |
//! | [`bip`] | BIP-CMAC-128 with the MMIE, beacon protection | 12.5.4; 9.4.2.54 |
//!
//! Test vectors (tests/vectors.rs): Annex J.6.4 CCMP, the 802.11i CCMP test MPDUs whose AAD
//! rules are unchanged, J.9.1 BIP-CMAC-128, J.3 PRF-SHA-1, the J.10 SAE "KCK and PMK" value for
//! KDF-SHA-256, RFC 3394 4.1; tests/sae_vectors.rs: the J.10 SAE
//! hash-to-element PT/PWE vector and the J.10 commit/KCK/PMK/PMKID vector (as in hostapd's
//! `sae_tests`). The handshake (tests/handshake.rs) runs against a supplicant
//! (the [`supplicant`] module) whose PTK and MICs the test recomputes with its own KDF/MIC code.

pub mod bip;
pub mod ccmp;
pub mod eapol;
pub mod error;
pub mod group_key;
pub mod handshake;
pub mod kde;
pub mod kdf;
pub mod keys;
pub mod keywrap;
pub mod owe;
pub mod rng;
pub mod sae;
pub mod supplicant;
