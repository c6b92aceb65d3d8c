//! The SAE fields of an Authentication frame: commit, token request and confirm parsers with
//! their round trips, and a peer's key derivation from the commit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hwsim_fuzz::crypto::check_sae(data));
