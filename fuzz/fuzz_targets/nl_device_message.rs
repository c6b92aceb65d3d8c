//! A buffer of a guest's RX queue, as the built-in AP MLD's runtime and the guest frontend
//! parse it (`DeviceMessage`), with the round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hwsim_fuzz::nl::check_device_message(data));
