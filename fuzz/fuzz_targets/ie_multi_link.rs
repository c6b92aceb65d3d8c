//! Multi-Link element data (255/107): per-STA profiles, fragments, in-place and defragmenting
//! parses, the elements inside profiles (Non-Inheritance among them); also the bytes as a run
//! of elements, for fragmented Multi-Link elements.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hwsim_fuzz::ie::check_multi_link(data);
    hwsim_fuzz::ie::check_elements(data);
});
