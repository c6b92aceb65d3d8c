//! The AP MLD on an open network after a real association, fed a sequence of records (see
//! `hwsim_fuzz::ap::session`).
#![no_main]

use hwsim_fuzz::station::Security;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hwsim_fuzz::ap::session(Security::Open, data);
});
