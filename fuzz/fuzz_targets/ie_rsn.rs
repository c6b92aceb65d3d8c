//! RSN (48) and RSN Extension (244) element data, with the round trips.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hwsim_fuzz::ie::check_rsn(data);
    hwsim_fuzz::ie::check_rsnx(data);
});
