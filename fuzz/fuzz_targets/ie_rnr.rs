//! Reduced Neighbor Report data (201): Neighbor AP Information and TBTT Information fields,
//! with the re-emit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hwsim_fuzz::ie::check_rnr(data));
