//! An 802.11 frame through every accessor of the MAC view, and a management body's elements.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hwsim_fuzz::mac::check_frame(data));
