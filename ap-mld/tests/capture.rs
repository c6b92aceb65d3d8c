//! The committed capture of the `mlo` scenario (`captures/mlo-owe-three-links.pcapng`), decoded
//! by tshark: each association response carries complete per-STA profiles for the two other
//! links, an ML probe response carries them too, and CCMP-protected data flows on all three
//! link interfaces in both directions for both non-AP MLDs.
//! Runs with every tshark found (`PATH`, `HWSIM_TSHARK_ROOT`); the Multi-Link fields need
//! tshark ≥ 4.2.

use std::collections::BTreeMap;

use hwsim_frame::tshark::{fields, tsharks};

const CAPTURE: &[u8] = include_bytes!("../../captures/mlo-owe-three-links.pcapng");

#[test]
fn mlo_capture_shows_ml_association_and_protected_data_on_three_links() {
    let all = tsharks();
    if all.is_empty() {
        eprintln!("no tshark: nothing to check");
        return;
    }
    for root in all {
        let (version, rows) = fields(
            root.as_deref(),
            CAPTURE,
            &[
                "frame.interface_name",
                "wlan.fc.type_subtype",
                "wlan.fc.protected",
            ],
        );
        let mut protected: BTreeMap<String, usize> = BTreeMap::new();
        for r in &rows {
            // tshark 4.0 prints booleans as 1/0, 4.4 as True/False.
            if r.len() > 2 && r[1] == "0x0028" && matches!(r[2].as_str(), "1" | "True") {
                *protected.entry(r[0].clone()).or_default() += 1;
            }
        }
        for who in [
            "ap-mld-02:00:00:a0:00:00",
            "sta-mld-02:00:00:b0:00:00",
            "sta-mld-02:00:00:b1:00:00",
        ] {
            for link in 0..3 {
                let name = format!("{who}/link{link}");
                assert!(
                    protected.get(&name).is_some_and(|n| *n > 0),
                    "no protected QoS data on {name}: {protected:?}"
                );
            }
        }
        if version < (4, 2) {
            continue;
        }
        let (_, rows) = fields(
            root.as_deref(),
            CAPTURE,
            &[
                "wlan.fc.type_subtype",
                "wlan.fixed.status_code",
                "wlan.eht.multi_link.sta_profile.sta_control.link_id",
                "wlan.eht.multi_link.sta_profile.sta_control.complete_profile",
            ],
        );
        let assoc: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "0x0001").collect();
        // One per non-AP MLD, and one for the station that reconnects through PMKSA caching.
        assert_eq!(assoc.len(), 3, "the association responses");
        for r in assoc {
            assert_eq!(
                r[1].split(',').next(),
                Some("0x0000"),
                "association accepted"
            );
            let links: Vec<&str> = r[2].split(',').collect();
            assert_eq!(
                links.len(),
                2,
                "per-STA profiles for the two other links: {r:?}"
            );
            assert!(
                r[3].split(',').all(|c| c == "1" || c == "True"),
                "complete profiles: {r:?}"
            );
        }
        // The ML probe response to the station that scanned one channel.
        let ml_probe = rows
            .iter()
            .filter(|r| r[0] == "0x0005" && !r[2].is_empty())
            .count();
        assert!(ml_probe >= 1, "an ML probe response with per-STA profiles");
    }
}
