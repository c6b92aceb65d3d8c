//! An EAPOL PDU: the EAPOL-Key parser and the Key Data (KDE) walk with their round trips, and
//! both ends of the 4-way handshake (signed where they check a MIC).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hwsim_fuzz::crypto::check_eapol(data));
