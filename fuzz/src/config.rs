//! The files the daemon reads: the medium config (`--config`, and `reload`), a wmediumd
//! file in its place (`--wmediumd-config`) and the AP MLD config (`--ap-config`). From arbitrary text, a parse error is the expected
//! answer; a panic is a finding, in the parser or in what the daemon builds from a config
//! that parsed (the radio model, the budget report, the AP MLD and its beacons).

use hwsim_frame::nl::TxRate;
use hwsim_frame::MacAddr;
use hwsim_radio::band::{Band, Width};
use vhost_hwsim::config::ap_links::{bound_by_ap_links, ApLinkWidth};
use vhost_hwsim::config::Config;
use vhost_hwsim::medium::{Candidate, Transmission};
use vhost_hwsim::switch::RadioKey;

use crate::ap::Harness;

/// Frequencies a guest transmits on in the checks: one per band, and one that is none.
const FREQS: [u32; 4] = [2412, 5180, 5975, 0];

/// The medium config: parse; then what the daemon does with it (bound by an AP MLD's links,
/// build the medium, print the budget) and what the medium then does (judge transmissions
/// between the configured nodes and an unlisted radio).
pub fn check_medium_config(text: &str) {
    let Ok(mut cfg) = Config::parse(text) else {
        return;
    };
    let _ = vhost_hwsim::planning::budget::report(&cfg);
    let ap_links = [
        (
            MacAddr([0x02, 0, 0, 0xa0, 0, 0x10]),
            Band::Band2G4,
            Width::W40,
        ),
        (
            MacAddr([0x02, 0, 0, 0xa0, 0, 0x11]),
            Band::Band5G,
            Width::W80,
        ),
        (
            MacAddr([0x02, 0, 0, 0xa0, 0, 0x12]),
            Band::Band6G,
            Width::W320,
        ),
    ]
    .map(|(bssid, band, width)| ApLinkWidth { bssid, band, width });
    bound_by_ap_links(&mut cfg, &ap_links);
    exercise_medium(&cfg);
}

/// A wmediumd file: read it; a file the mapping accepts must give TOML that the medium config
/// parser accepts too (the mapping checks everything against the wmediumd text first, so a
/// refusal of its own output is a finding), and the medium built from it must judge frames.
pub fn check_wmediumd_config(text: &str) {
    let _ = vhost_hwsim::config::wmediumd::libconfig::parse(text);
    let Ok(toml) = vhost_hwsim::config::wmediumd::to_toml(text) else {
        return;
    };
    let cfg = match Config::parse(&toml) {
        Ok(cfg) => cfg,
        Err(e) => panic!("the conversion wrote a config its parser refuses: {e}\n{toml}"),
    };
    exercise_medium(&cfg);
}

/// Every pair among the first nodes (and an unlisted radio), on every band, group and
/// unicast: hear, then the TX status.
fn exercise_medium(cfg: &Config) {
    let medium = vhost_hwsim::planning::medium_from(cfg, -30);
    let _ = (medium.name(), medium.air().is_some());
    let mut radios: Vec<MacAddr> = cfg
        .nodes
        .iter()
        .take(4)
        .filter_map(|n| n.addresses.first().copied())
        .collect();
    radios.push(MacAddr([0x42, 0, 0, 0, 9, 0]));
    let frame = [
        0x08u8, 0x01, 0, 0, 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 2, 0, 0,
    ];
    for (i, &from) in radios.iter().enumerate() {
        for (j, &to) in radios.iter().enumerate() {
            if i == j {
                continue;
            }
            for (k, &freq) in FREQS.iter().enumerate() {
                let group = k % 2 == 1;
                let tx = Transmission {
                    from: RadioKey { vm: 1, wire: from },
                    seq: (i * 16 + j) as u64,
                    freq,
                    frame: &frame,
                    receiver: if group { MacAddr::BROADCAST } else { to },
                    sender: Some(from),
                    group,
                    flags: 0,
                    rates: [
                        TxRate { idx: 0, count: 4 },
                        TxRate::UNUSED,
                        TxRate::UNUSED,
                        TxRate::UNUSED,
                    ],
                };
                let rx = Candidate {
                    radio: RadioKey { vm: 2, wire: to },
                    addressed: !group,
                    on_channel: true,
                    rx_addr: Some(to),
                    attenuation_db: 0.0,
                };
                let heard = medium.hear(&tx, &rx);
                let _ = medium.status(&tx, heard.as_ref());
            }
        }
    }
}

/// The AP MLD config: parse; then the AP MLD built from it, a beacon on every link and the
/// answer to a probe request (each checked like every frame the AP sends), and the medium
/// bounded by its links.
pub fn check_ap_config(text: &str) {
    let Ok(cfg) = hwsim_ap::ApConfig::parse(text) else {
        return;
    };
    let widths = vhost_hwsim::setup::ap_link_widths(&cfg);
    let mut medium = Config::default();
    bound_by_ap_links(&mut medium, &widths);
    let _ = vhost_hwsim::planning::medium_from(&medium, -30);
    let links = cfg.links.len();
    let mut h = Harness::new(cfg);
    h.advance(crate::ap::TBTT_US);
    for link in 0..links {
        let bssid = h.ap.link_config(link).bssid;
        let probe = crate::station::mgmt(
            hwsim_frame::mac::mgmt_subtype::PROBE_REQ,
            MacAddr::BROADCAST,
            crate::station::STA_LINK[0],
            bssid,
            0,
            &[0, 0],
        );
        h.handle(link, &probe);
    }
    if let Some(id) = h.ap.config().links.last().map(|l| l.id) {
        let _ = h.ap.remove_link(id, 1);
    }
    h.advance(2 * crate::ap::TBTT_US);
}
