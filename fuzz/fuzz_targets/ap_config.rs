//! The AP MLD TOML config (`--ap-config`) from arbitrary text, and the AP MLD built from it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        hwsim_fuzz::config::check_ap_config(text);
    }
});
