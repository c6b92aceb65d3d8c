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

/// The session ops reach what they are for: the station's frames get past the AP's checks
/// (and its CCMP, where there is one), and the station answers a group rekey.
#[test]
fn session_ops_reach_the_relay_sa_query_ttlm_and_the_group_rekey() {
    let mut input = Vec::new();
    // Broadcast data from the station: relayed back into the BSS on every link.
    push(&mut input, 1, 0x01, &[0, 0x08, 0x00, 1, 2, 3]);
    // SA Query request (management, action, protected where PMF is in force).
    push(&mut input, 2, 0x4d, &[8, 0, 0xab, 0xcd]);
    // A negotiated TID-to-link mapping request: every TID on links 0 and 1, both ways.
    let mut ttlm = vec![37, 0, 1, 255, 19, 109, 2, 0xff];
    ttlm.extend_from_slice(&[3, 0].repeat(8));
    push(&mut input, 2, 0x4d, &ttlm);
    // Two seconds: the group rekey starts; the station answers group message 1.
    push(&mut input, 5, 0, &2_100_000u64.to_le_bytes());
    push(&mut input, 7, 0, &[]);
    for security in [Security::Open, Security::Owe, Security::Sae] {
        let c = hwsim_fuzz::ap::session(security, &input);
        assert_eq!(c.relayed, 3, "{security:?}: relayed on three links");
        assert_eq!(c.ttlm.accepted, 1, "{security:?}: the mapping request");
        if security == Security::Open {
            assert_eq!(c.group_rekeys, 0, "no group keys on an open network");
        } else {
            assert_eq!(c.handshakes, 1, "{security:?}: the 4-way handshake");
            assert_eq!(
                c.sa_query_answered, 1,
                "{security:?}: the protected SA Query"
            );
            assert_eq!(c.group_rekeys, 1, "{security:?}: a rekey after two seconds");
            assert_eq!(
                c.group_handshake_failures, 0,
                "{security:?}: the station answered"
            );
            assert_eq!(c.group_msg_retries, 0, "{security:?}: answered at once");
        }
    }
}
