//! A guest's TX-queue buffer, as the daemon parses it (`GuestMessage`), with the round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hwsim_fuzz::nl::check_guest_message(data));
