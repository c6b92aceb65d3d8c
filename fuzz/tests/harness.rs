//! The harnesses' own preconditions, run as plain tests: every station setup succeeds
//! against the real AP MLD, and each check accepts a known-good input.

use hwsim_fuzz::records::push;
use hwsim_fuzz::station::Security;

#[test]
fn a_station_associates_under_every_security_and_an_empty_session_ends_cleanly() {
    for security in [Security::Open, Security::Owe, Security::Sae] {
        hwsim_fuzz::ap::session(security, &[]);
    }
}

#[test]
fn a_session_with_data_time_and_rekey_answers_runs() {
    let mut input = Vec::new();
    // Broadcast data from the station (relayed back into the BSS), then two seconds: the
    // group rekey starts, the station answers it.
    push(&mut input, 1, 0x01, &[0, 0x08, 0x00, 1, 2, 3]);
    push(&mut input, 5, 0, &2_100_000u64.to_le_bytes());
    push(&mut input, 7, 0, &[]);
    push(&mut input, 4, 0, &[0xff; 64]);
    for security in [Security::Open, Security::Owe, Security::Sae] {
        hwsim_fuzz::ap::session(security, &input);
    }
}
