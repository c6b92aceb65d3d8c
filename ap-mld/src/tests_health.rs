//! Link health: a link whose frames go unacknowledged stops carrying a station's downlink,
//! is probed, and carries it again once a probe is acknowledged.

use crate::ap::health::{FAILURES_TO_DOWN, PROBE_EVERY};
use crate::tests::{STA_LINK, STA_MLD};
use crate::tests_ttlm::{downlink_links, ipv4_to_sta, open_associated};

#[test]
fn a_link_without_acknowledgements_is_dropped_probed_and_taken_back() {
    let mut ap = open_associated();
    let eth = ipv4_to_sta(0);
    let per_link = |links: &[(usize, u8)]| {
        let mut n = [0usize; 3];
        for (l, _) in links {
            n[*l] += 1;
        }
        n
    };
    // Healthy: round-robin over the three links.
    assert_eq!(per_link(&downlink_links(&mut ap, &eth, 96)), [32, 32, 32]);

    // Link 2 fades: one failure short of the limit it is still used.
    for _ in 0..FAILURES_TO_DOWN - 1 {
        ap.tx_status(2, STA_LINK[2], false);
    }
    assert!(!ap.link_down_for(STA_MLD, 2));
    ap.tx_status(2, STA_LINK[2], false);
    assert!(ap.link_down_for(STA_MLD, 2));
    assert_eq!(ap.counters().link_health.down, 1);
    assert_eq!(ap.counters().link_health.down_per_link, [0, 0, 1]);

    // Down: links 0 and 1 carry the traffic, link 2 only the probes (one in PROBE_EVERY).
    let n = 4 * PROBE_EVERY;
    let links = downlink_links(&mut ap, &eth, n);
    let counts = per_link(&links);
    assert_eq!(counts[2] as u64, n / PROBE_EVERY, "{counts:?}");
    assert_eq!(counts[0] + counts[1], (n - n / PROBE_EVERY) as usize);
    // The probes take counter values the round-robin would have given one link: off by at most
    // the number of probes.
    assert!(
        counts[0].abs_diff(counts[1]) as u64 <= n / PROBE_EVERY,
        "{counts:?}"
    );
    // A probe's failure keeps it down; another station's address on the link changes nothing.
    ap.tx_status(2, STA_LINK[2], false);
    ap.tx_status(2, STA_LINK[0], true);
    assert!(ap.link_down_for(STA_MLD, 2));

    // An acknowledged probe brings it back.
    ap.tx_status(2, STA_LINK[2], true);
    assert!(!ap.link_down_for(STA_MLD, 2));
    assert_eq!(ap.counters().link_health.recovered, 1);
    assert_eq!(per_link(&downlink_links(&mut ap, &eth, 96)), [32, 32, 32]);
}

#[test]
fn with_every_link_down_all_are_still_used() {
    let mut ap = open_associated();
    for (link, addr) in STA_LINK.iter().enumerate() {
        for _ in 0..FAILURES_TO_DOWN {
            ap.tx_status(link, *addr, false);
        }
        assert!(ap.link_down_for(STA_MLD, link));
    }
    let eth = ipv4_to_sta(0);
    let links = downlink_links(&mut ap, &eth, 30);
    for l in 0..3 {
        assert!(
            links.iter().any(|(x, _)| *x == l),
            "link {l} unused: {links:?}"
        );
    }
}
