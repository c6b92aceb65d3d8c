//! Radiotap: the reader on the bytes as a header, and the writer's header for a description
//! drawn from the same bytes, read back.
#![no_main]

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hwsim_fuzz::radiotap::check_read(data);
    if let Ok(repr) = hwsim_fuzz::radiotap::arbitrary_repr(&mut Unstructured::new(data)) {
        hwsim_fuzz::radiotap::check_write(&repr);
    }
});
