//! The daemon's MLD tracker fed a sequence of frames from several radios and frequencies
//! (records, see `hwsim_fuzz::records`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hwsim_fuzz::tracker::check_tracker(data));
