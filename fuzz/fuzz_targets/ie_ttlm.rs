//! TID-To-Link Mapping element data (255/109), with the round trip and the AP MLD's check of a
//! negotiated request.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hwsim_fuzz::ie::check_ttlm(data));
