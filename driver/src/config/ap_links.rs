//! The built-in AP MLD's channel widths bound the medium's rate synthesis.
//!
//! The radio medium picks every unicast frame's rate from the link budget and the lesser of
//! both ends' per-band caps (`max_width` and so on). A node's caps say what its radio could
//! do, not how wide the BSS it serves is: an AP link configured at 80 MHz would otherwise be
//! modelled at the band's widest channel. So, once both configs are known, each AP link's
//! width caps its band on the node holding its BSSID; links that are unlisted get a node of
//! their own at the default position with the default band parameters (and, if unlisted
//! radios have a fixed SNR, the same fixed SNR towards every listed node, so nothing else
//! changes). Frames to and from the AP then never use a wider channel than its BSS, and the
//! capture's radiotap says the same width. Done once per config load: the data path is
//! untouched.

use hwsim_frame::MacAddr;
use hwsim_radio::band::{Band, Width};

use super::{band_index, Config, LinkOverride, Node};

/// Name of the node standing for AP links that no `[[node]]` lists.
pub const AP_NODE_NAME: &str = "ap-mld";

/// One link of the built-in AP MLD as the medium needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApLinkWidth {
    /// The affiliated AP's address (its radio's wire address too).
    pub bssid: MacAddr,
    /// Its band.
    pub band: Band,
    /// Its BSS's channel width.
    pub width: Width,
}

/// Caps `cfg`'s nodes by the AP links' widths (see the module documentation). A node holding
/// several AP links of one band is capped at the widest of them.
pub fn bound_by_ap_links(cfg: &mut Config, links: &[ApLinkWidth]) {
    if links.is_empty() {
        return;
    }
    let listed = cfg.nodes.len();
    let mut unlisted: Vec<&ApLinkWidth> = Vec::new();
    // (node, band index) -> widest AP link there.
    let mut widest: Vec<(usize, usize, Width)> = Vec::new();
    for l in links {
        let node = cfg
            .nodes
            .iter()
            .position(|n| n.addresses.contains(&l.bssid));
        let Some(node) = node else {
            unlisted.push(l);
            continue;
        };
        note_widest(&mut widest, node, band_index(l.band), l.width);
    }
    if !unlisted.is_empty() {
        cfg.nodes.push(Node {
            name: AP_NODE_NAME.into(),
            addresses: unlisted.iter().map(|l| l.bssid).collect(),
            position: cfg.default_position,
            bands: cfg.default_bands,
        });
        for l in &unlisted {
            note_widest(&mut widest, listed, band_index(l.band), l.width);
        }
        if let Some(snr) = cfg.default_snr_db {
            for other in 0..listed {
                cfg.links.push(LinkOverride {
                    between: [listed, other],
                    snr_db: Some(snr),
                    reverse_snr_db: None,
                    extra_loss_db: 0.0,
                    loss_probability: 0.0,
                    loss_per_frame: false,
                });
            }
        }
    }
    for (node, band, width) in widest {
        let caps = &mut cfg.nodes[node].bands[band].caps;
        caps.max_width = caps.max_width.min(width);
    }
}

fn note_widest(widest: &mut Vec<(usize, usize, Width)>, node: usize, band: usize, width: Width) {
    match widest.iter_mut().find(|w| w.0 == node && w.1 == band) {
        Some(w) => w.2 = w.2.max(width),
        None => widest.push((node, band, width)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(last: u8) -> MacAddr {
        MacAddr([0x02, 0, 0, 0xa0, 0, last])
    }

    fn links() -> [ApLinkWidth; 3] {
        [
            ApLinkWidth {
                bssid: addr(0x10),
                band: Band::Band2G4,
                width: Width::W40,
            },
            ApLinkWidth {
                bssid: addr(0x11),
                band: Band::Band5G,
                width: Width::W80,
            },
            ApLinkWidth {
                bssid: addr(0x12),
                band: Band::Band6G,
                width: Width::W320,
            },
        ]
    }

    fn widths(n: &Node) -> [Width; 3] {
        n.bands.map(|b| b.caps.max_width)
    }

    #[test]
    fn a_listed_ap_node_is_capped_per_band_by_its_links() {
        let mut cfg = Config::parse(
            "model = \"radio\"\n[[node]]\nname = \"ap\"\naddresses = [\"02:00:00:a0:00:10\", \
             \"02:00:00:a0:00:11\", \"02:00:00:a0:00:12\"]\nposition = [0, 0, 0]\n\
             [node.5g]\nmax_width = 160\n[node.6g]\nmax_width = 160\n",
        )
        .unwrap();
        bound_by_ap_links(&mut cfg, &links());
        assert_eq!(cfg.nodes.len(), 1);
        // 6 GHz stays at the node's own 160 MHz: the AP's 320 MHz BSS cannot widen a radio.
        assert_eq!(widths(&cfg.nodes[0]), [Width::W40, Width::W80, Width::W160]);
    }

    #[test]
    fn unlisted_ap_links_get_their_own_node_with_the_default_snr() {
        let mut cfg = Config::parse(
            "model = \"radio\"\ndefault_snr_db = 30\n[[node]]\nname = \"sta\"\n\
             addresses = [\"02:00:00:b0:00:00\"]\nposition = [5, 0, 0]\n",
        )
        .unwrap();
        let before = cfg.default_bands.map(|b| b.caps.max_width);
        bound_by_ap_links(&mut cfg, &links());
        assert_eq!(cfg.nodes.len(), 2);
        let ap = &cfg.nodes[1];
        assert_eq!(ap.name, AP_NODE_NAME);
        assert_eq!(ap.addresses, [addr(0x10), addr(0x11), addr(0x12)]);
        assert_eq!(ap.position, cfg.default_position);
        assert_eq!(widths(ap), [Width::W40, Width::W80, Width::W320]);
        // Unlisted radios (the guests) keep the defaults.
        assert_eq!(cfg.default_bands.map(|b| b.caps.max_width), before);
        assert_eq!(cfg.links.len(), 1);
        assert_eq!(cfg.links[0].between, [1, 0]);
        assert_eq!(cfg.links[0].snr_db, Some(30.0));
    }

    #[test]
    fn two_links_in_one_band_cap_at_the_wider() {
        let mut cfg = Config::parse("model = \"radio\"\n").unwrap();
        let mut l = links();
        l[0] = ApLinkWidth {
            bssid: addr(0x13),
            band: Band::Band5G,
            width: Width::W160,
        };
        bound_by_ap_links(&mut cfg, &l);
        assert_eq!(widths(&cfg.nodes[0])[1], Width::W160);
    }

    #[test]
    fn the_radio_medium_synthesises_ap_frames_at_the_bss_width() {
        use crate::medium::model::RadioMedium;
        let text = "model = \"radio\"\n[[node]]\nname = \"sta\"\n\
                    addresses = [\"02:00:00:b0:00:00\"]\nposition = [3, 0, 0]\n";
        let sta = MacAddr([0x02, 0, 0, 0xb0, 0, 0]);
        for (six_ghz, want) in [(Width::W320, Width::W320), (Width::W80, Width::W80)] {
            let mut cfg = Config::parse(text).unwrap();
            let mut l = links();
            l[2].width = six_ghz;
            bound_by_ap_links(&mut cfg, &l);
            let m = RadioMedium::new(&cfg);
            let ap = m.node_of(Some(addr(0x12)), addr(0x12));
            let st = m.node_of(Some(sta), sta);
            assert_eq!(m.node_name(ap), AP_NODE_NAME);
            for (tx, rx) in [(ap, st), (st, ap)] {
                let b = m.link_budget(tx, rx, 5975);
                assert_eq!(b.caps.max_width, want);
                // 3 m: the SNR affords the widest channel the caps allow.
                let sel = RadioMedium::synthesise(&b, 1500);
                assert_eq!(sel.tx.width(), want, "{tx}->{rx}");
            }
            // 5 GHz: the AP's 80 MHz link bounds the 160 MHz the radios could do.
            assert_eq!(m.link_budget(ap, st, 5180).caps.max_width, Width::W80);
        }
    }
}
