//! wmediumd's libconfig files (`--wmediumd-config`, `convert`) from arbitrary text: the
//! reader, the mapping, the TOML it writes and the medium built from it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        hwsim_fuzz::config::check_wmediumd_config(text);
    }
});
