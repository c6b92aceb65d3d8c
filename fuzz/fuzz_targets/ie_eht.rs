//! EHT Capabilities (255/108) and EHT Operation (255/106) element data, with the round trips;
//! Non-Inheritance (255/56) data too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hwsim_fuzz::ie::check_eht_capabilities(data);
    hwsim_fuzz::ie::check_eht_operation(data);
    hwsim_fuzz::ie::check_non_inheritance(data);
});
