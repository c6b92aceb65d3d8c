//! The AP MLD (open, OWE or SAE by the first byte) fed one frame on a link (second byte), then
//! its timers; every frame it sends is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hwsim_fuzz::ap::one_frame(data));
