//! What a peer medium needs to know about this load: a wmediumd configuration naming every
//! radio the workers bring up, so wmediumd (`-u SOCKET -c FILE`) can be driven by the same load
//! as vhost-hwsim (`scripts/bench-peer.sh`).

use std::fmt::Write;

use crate::worker::vif;

/// A wmediumd libconfig text for `vms` × `radios`: `ifaces.ids` lists each radio's interface
/// address (the one its frames carry; wmediumd learns the radio address from the first frame),
/// and `model.links` puts every pair at `snr_db`, in one direction (wmediumd mirrors it).
pub fn wmediumd_config(vms: u8, radios: u8, snr_db: i32) -> String {
    let ids: Vec<String> = (0..vms)
        .flat_map(|v| (0..radios).map(move |r| format!("\"{}\"", vif(v, r))))
        .collect();
    let n = ids.len();
    let mut text = format!(
        "# hwsim-load --vms {vms} --radios {radios}: radio r of VM v is 02:00:00:(v+1):r:00\n\
         ifaces :\n{{\n\tids = [ {} ];\n}};\nmodel :\n{{\n\ttype = \"snr\";\n\tlinks = (\n",
        ids.join(", ")
    );
    let pairs: Vec<String> = (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| format!("\t\t({a}, {b}, {snr_db})")))
        .collect();
    let _ = writeln!(text, "{}\n\t);\n}};", pairs.join(",\n"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_names_every_radio_and_pair_as_vhost_hwsim_reads_it() {
        let text = wmediumd_config(2, 3, 40);
        // vhost-hwsim reads wmediumd files with wmediumd's meanings; its TOML lists the nodes.
        vhost_hwsim::config::Config::parse_wmediumd(&text).expect("a valid wmediumd file");
        let toml = vhost_hwsim::config::wmediumd::to_toml(&text).unwrap();
        for v in 0..2 {
            for r in 0..3 {
                let addr = format!("addresses = [\"{}\"]", vif(v, r));
                assert_eq!(toml.matches(&addr).count(), 1, "{addr} in\n{toml}");
            }
        }
        assert_eq!(toml.matches("[[node]]").count(), 6);
        assert_eq!(
            toml.matches("snr_db = 40.0").count(),
            15,
            "6 choose 2 pairs"
        );
    }

    #[test]
    fn one_radio_gives_a_file_without_links_that_still_parses() {
        let text = wmediumd_config(1, 1, 40);
        vhost_hwsim::config::Config::parse_wmediumd(&text).expect("valid");
        assert!(text.contains("\"02:00:00:01:00:00\""));
    }
}
