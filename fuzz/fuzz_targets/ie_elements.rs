//! A run of elements (a management frame body): the walk, fragments, and every element parser
//! by ID.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hwsim_fuzz::ie::check_elements(data));
