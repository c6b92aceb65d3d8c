//! The multi-link demo checked with a real dissector: a fresh capture of `demo` and the committed
//! `captures/demo-mlo.pcapng` must both decode in Wireshark 4.4 (tshark) with one interface per
//! link named after its MLD, Multi-Link elements with per-STA profiles, the four EAPOL-Key
//! messages of the MLO 4-way handshake, CCMP-protected data on all three links both ways, a
//! protected deauthentication and no malformed packet.
//!
//! Needs a tshark ≥ 4.4 (Debian bookworm's 4.0 does not decode Multi-Link elements): the one in
//! the chroot `HWSIM_TSHARK_ROOT` names (`scripts/test-all.sh` builds it), else the one on `PATH`.
//! Without one the tests say SKIPPED, except under CI (`CI=true`), where they fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hwsim_frame::tshark;
use vhost_hwsim::demo::DemoArgs;

const AP_MLD: &str = "02:a0:00:00:00:01";
const STA_MLD: &str = "02:50:00:00:00:01";
const AP_LINKS: [&str; 3] = [
    "02:a0:00:00:01:00",
    "02:a0:00:00:01:01",
    "02:a0:00:00:01:02",
];
const STA_LINKS: [&str; 3] = [
    "02:50:00:00:01:00",
    "02:50:00:00:01:01",
    "02:50:00:00:01:02",
];
/// Band and channel each link's interface description starts with.
const LINK_CHANNELS: [&str; 3] = [
    "2.4 GHz channel 1 (2412 MHz)",
    "5 GHz channel 36 (5180 MHz)",
    "6 GHz channel 37 (6135 MHz)",
];

/// A tshark new enough to decode Multi-Link elements: `Some(None)` for the one on `PATH`,
/// `Some(Some(root))` for a chroot; `None` (after saying SKIPPED) when there is none outside CI.
fn tshark_4_4(test: &str) -> Option<Option<PathBuf>> {
    for t in tshark::tsharks().into_iter().rev() {
        let (version, _) = tshark::fields(t.as_deref(), &minimal_pcap(), &["frame.number"]);
        if version >= (4, 4) {
            return Some(t);
        }
    }
    let why = "no tshark >= 4.4 (set HWSIM_TSHARK_ROOT to a Debian trixie chroot with tshark, \
               as scripts/test-all.sh does)";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {why}");
    }
    // Straight to the stderr handle, past the test harness's output capture: a skip must show.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    None
}

/// An empty classic pcap file (802.11 link type), to ask tshark its version.
fn minimal_pcap() -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    p.extend_from_slice(&2u16.to_le_bytes());
    p.extend_from_slice(&4u16.to_le_bytes());
    p.extend_from_slice(&[0; 8]);
    p.extend_from_slice(&65535u32.to_le_bytes());
    p.extend_from_slice(&105u32.to_le_bytes());
    p
}

/// The fields every check reads, in row order.
const FIELDS: [&str; 17] = [
    "frame.interface_name",
    "frame.interface_description",
    "wlan.fc.type_subtype",
    "wlan.ta",
    "wlan.eht.multi_link.control.type",
    "wlan.eht.multi_link.common_info.mld_mac_address",
    "wlan.eht.multi_link.sta_profile.sta_control.link_id",
    "wlan.eht.multi_link.sta_profile.sta_info.sta_mac_addr",
    "_ws.malformed",
    "_ws.expert.severity",
    "radiotap.channel.freq",
    "wlan.fc.protected",
    "wlan_rsna_eapol.keydes.key_info",
    "eapol.keydes.replay_counter",
    "wlan.mmie.keyid",
    "wlan.mmie.ipn",
    "wlan.extcap.b84",
];

struct Row<'a>(&'a [String]);

impl Row<'_> {
    fn get(&self, field: &str) -> &str {
        let i = FIELDS
            .iter()
            .position(|f| *f == field)
            .expect("a known field");
        self.0.get(i).map_or("", String::as_str)
    }

    fn subtype(&self) -> &str {
        self.get("wlan.fc.type_subtype")
    }

    /// The Protected Frame bit (tshark 4.4 prints booleans as True/False, older ones 1/0).
    fn protected(&self) -> bool {
        matches!(self.get("wlan.fc.protected"), "1" | "True")
    }
}

/// Wireshark's expert severities (epan/proto.h): warning and error.
const PI_WARN: u32 = 0x0060_0000;

/// Every check on one capture file.
fn check_capture(root: Option<&Path>, bytes: &[u8], what: &str) {
    let (version, rows) = tshark::fields(root, bytes, &FIELDS);
    assert!(version >= (4, 4), "{what}: tshark {version:?}");
    let rows: Vec<Row> = rows.iter().map(|r| Row(r)).collect();
    assert!(rows.len() > 50, "{what}: only {} packets", rows.len());

    // No packet malformed, no expert warning or error.
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(
            r.get("_ws.malformed"),
            "",
            "{what}: packet {} malformed",
            i + 1
        );
        for s in r
            .get("_ws.expert.severity")
            .split(',')
            .filter(|s| !s.is_empty())
        {
            let s: u32 = s.parse().unwrap_or(u32::MAX);
            assert!(
                s < PI_WARN,
                "{what}: packet {} has expert severity {s:#x}",
                i + 1
            );
        }
    }

    // One interface per link and MLD, named after the MLD, with band and channel.
    let interfaces: BTreeSet<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.get("frame.interface_name"),
                r.get("frame.interface_description"),
            )
        })
        .collect();
    for (prefix, mld, who) in [
        ("ap-mld", AP_MLD, "AP MLD"),
        ("sta-mld", STA_MLD, "non-AP MLD"),
    ] {
        for (id, channel) in LINK_CHANNELS.iter().enumerate() {
            let name = format!("{prefix}-{mld}/link{id}");
            let description = interfaces
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| *d)
                .unwrap_or_else(|| panic!("{what}: no interface {name} in {interfaces:?}"));
            assert_eq!(
                description,
                format!("{channel}, link {id} of {who} {mld}"),
                "{what}: {name}"
            );
        }
    }

    // Beacons on each link carry a Basic Multi-Link element with the AP MLD's address.
    let beacons: Vec<&Row> = rows.iter().filter(|r| r.subtype() == "0x0008").collect();
    assert!(beacons.len() >= 3, "{what}: {} beacons", beacons.len());
    for b in &beacons {
        assert_eq!(
            b.get("wlan.eht.multi_link.control.type"),
            "0",
            "{what}: beacon ML type"
        );
        assert_eq!(
            b.get("wlan.eht.multi_link.common_info.mld_mac_address"),
            AP_MLD
        );
    }
    // Beacon protection: Extended Capabilities bit 84, and every beacon ends with a
    // Management MIC element under BIGTK key ID 6 whose IPN (BIPN) rises on each link.
    let mut last_bipn: BTreeMap<&str, u64> = BTreeMap::new();
    for b in &beacons {
        assert!(
            matches!(b.get("wlan.extcap.b84"), "1" | "True"),
            "{what}: beacon protection bit"
        );
        assert_eq!(b.get("wlan.mmie.keyid"), "6", "{what}: beacon MME key ID");
        let ipn = b.get("wlan.mmie.ipn").replace(':', "");
        let bytes: Vec<u8> = (0..ipn.len() / 2)
            .filter_map(|i| u8::from_str_radix(&ipn[2 * i..2 * i + 2], 16).ok())
            .collect();
        assert_eq!(bytes.len(), 6, "{what}: BIPN {ipn:?}");
        let bipn = bytes
            .iter()
            .rev()
            .fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        let prev = last_bipn.insert(b.get("wlan.ta"), bipn);
        assert!(
            prev.is_none_or(|p| bipn > p),
            "{what}: BIPN {bipn} after {prev:?} on {}",
            b.get("wlan.ta")
        );
    }
    let beacon_links: BTreeSet<&str> = beacons.iter().map(|b| b.get("wlan.ta")).collect();
    assert_eq!(
        beacon_links,
        AP_LINKS.into_iter().collect(),
        "{what}: beacons per link"
    );

    // The setup on link 1: ML probe request (type 1) asking for links 0 and 2; probe and
    // association responses with the AP's per-STA profiles; the association request with the
    // station's, each with its link address.
    let one = |subtype: &str| -> &Row {
        rows.iter()
            .find(|r| r.subtype() == subtype)
            .unwrap_or_else(|| panic!("{what}: no frame of type/subtype {subtype}"))
    };
    let probe = one("0x0004");
    assert_eq!(probe.get("wlan.eht.multi_link.control.type"), "1", "{what}");
    assert_eq!(
        probe.get("wlan.eht.multi_link.sta_profile.sta_control.link_id"),
        "0x0000,0x0002"
    );
    for (subtype, mld, links) in [
        ("0x0005", AP_MLD, AP_LINKS),
        ("0x0000", STA_MLD, STA_LINKS),
        ("0x0001", AP_MLD, AP_LINKS),
    ] {
        let f = one(subtype);
        assert_eq!(
            f.get("wlan.eht.multi_link.control.type"),
            "0",
            "{what} {subtype}"
        );
        assert_eq!(
            f.get("wlan.eht.multi_link.common_info.mld_mac_address"),
            mld,
            "{what} {subtype}: MLD MAC address"
        );
        assert_eq!(
            f.get("wlan.eht.multi_link.sta_profile.sta_control.link_id"),
            "0x0000,0x0002",
            "{what} {subtype}: per-STA profiles"
        );
        assert_eq!(
            f.get("wlan.eht.multi_link.sta_profile.sta_info.sta_mac_addr"),
            format!("{},{}", links[0], links[2]),
            "{what} {subtype}: link addresses in the profiles"
        );
    }
    // Authentication both ways carries the sender's MLD address; the station leaves with a
    // deauthentication.
    let auths: Vec<&str> = rows
        .iter()
        .filter(|r| r.subtype() == "0x000b")
        .map(|r| r.get("wlan.eht.multi_link.common_info.mld_mac_address"))
        .collect();
    assert_eq!(auths, [STA_MLD, AP_MLD], "{what}: authentication");
    let deauth = one("0x000c");
    assert_eq!(
        deauth.get("wlan.ta"),
        STA_LINKS[1],
        "{what}: deauthentication"
    );
    assert!(
        deauth.protected(),
        "{what}: the deauthentication is protected (PMF)"
    );

    // The MLO 4-way handshake on link 1: messages 1 and 3 from the AP, 2 and 4 from the
    // station, each answer echoing the replay counter of the message it answers.
    let eapol: Vec<(&str, u16, &str)> = rows
        .iter()
        .filter(|r| !r.get("wlan_rsna_eapol.keydes.key_info").is_empty())
        .map(|r| {
            let info = r
                .get("wlan_rsna_eapol.keydes.key_info")
                .trim_start_matches("0x");
            (
                r.get("wlan.ta"),
                u16::from_str_radix(info, 16).expect("hex key info"),
                r.get("eapol.keydes.replay_counter"),
            )
        })
        .collect();
    assert_eq!(eapol.len(), 4, "{what}: EAPOL-Key frames {eapol:?}");
    // Key Information bits: Pairwise 0x0008, Install 0x0040, Ack 0x0080, MIC 0x0100, Secure
    // 0x0200, Encrypted Key Data 0x1000 (the OWE AKM: descriptor version 0).
    let want: [(&str, u16); 4] = [
        (AP_LINKS[1], 0x0088),
        (STA_LINKS[1], 0x0108),
        (AP_LINKS[1], 0x13c8),
        (STA_LINKS[1], 0x0308),
    ];
    for (i, ((ta, info, _), (want_ta, want_info))) in eapol.iter().zip(want).enumerate() {
        assert_eq!(
            (*ta, *info),
            (want_ta, want_info),
            "{what}: EAPOL-Key {}/4",
            i + 1
        );
    }
    assert_eq!(
        eapol[0].2, eapol[1].2,
        "{what}: message 2 echoes message 1's counter"
    );
    assert_eq!(
        eapol[2].2, eapol[3].2,
        "{what}: message 4 echoes message 3's counter"
    );

    // CCMP-protected QoS data both ways on all three links, on the links' channels; only the
    // EAPOL-Key frames go unprotected.
    for (id, freq) in ["2412", "5180", "6135"].into_iter().enumerate() {
        for (prefix, mld, ta) in [
            ("ap-mld", AP_MLD, AP_LINKS[id]),
            ("sta-mld", STA_MLD, STA_LINKS[id]),
        ] {
            let name = format!("{prefix}-{mld}/link{id}");
            let n = rows
                .iter()
                .filter(|r| {
                    r.subtype() == "0x0028"
                        && r.protected()
                        && r.get("frame.interface_name") == name
                        && r.get("wlan.ta") == ta
                        && r.get("radiotap.channel.freq") == freq
                })
                .count();
            assert!(
                n >= 10,
                "{what}: {n} protected QoS data frames on {name} ({freq} MHz)"
            );
        }
    }
    let unprotected = rows
        .iter()
        .filter(|r| r.subtype() == "0x0028" && !r.protected())
        .count();
    assert_eq!(
        unprotected, 4,
        "{what}: unprotected QoS data besides EAPOL-Key"
    );
}

/// Without tshark: the demo associates (it fails otherwise) and its capture declares one
/// interface per link of each MLD, named and described by the daemon's MLD tracker.
#[test]
fn the_demo_names_an_interface_per_link_after_each_mld() {
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
    use pcap_file::pcapng::{Block, PcapNgReader};

    let dir = std::env::temp_dir().join(format!("vhost-hwsim-mlo-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("demo-mlo.pcapng");
    let mut args = DemoArgs::new(0.5);
    args.rate = 50;
    args.capture = Some(file.clone());
    args.socket = Some(dir.join("demo.sock"));
    vhost_hwsim::demo::run(&args)
        .expect("the demo runs and the non-AP MLD associates and completes the handshake");
    let bytes = std::fs::read(&file).unwrap();
    let mut reader = PcapNgReader::new(&bytes[..]).expect("a pcapng section");
    let mut interfaces = Vec::new();
    while let Some(block) = reader.next_block() {
        if let Block::InterfaceDescription(idb) = block.expect("well-formed block") {
            let (mut name, mut description) = (String::new(), String::new());
            for o in &idb.options {
                match o {
                    InterfaceDescriptionOption::IfName(n) => name = n.to_string(),
                    InterfaceDescriptionOption::IfDescription(d) => description = d.to_string(),
                    _ => {}
                }
            }
            interfaces.push((name, description));
        }
    }
    for (prefix, mld, who) in [
        ("ap-mld", AP_MLD, "AP MLD"),
        ("sta-mld", STA_MLD, "non-AP MLD"),
    ] {
        for (id, channel) in LINK_CHANNELS.iter().enumerate() {
            let name = format!("{prefix}-{mld}/link{id}");
            let want = format!("{channel}, link {id} of {who} {mld}");
            assert!(
                interfaces.iter().any(|(n, d)| *n == name && *d == want),
                "{name} ({want}) in {interfaces:?}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without tshark: with the radio model of `docs/demo-mlo.toml` the demo still associates, and
/// each link's data frames carry their band's signal in radiotap — strongest on 2.4 GHz, weakest
/// on 6 GHz (path loss grows with frequency; the 6 GHz transmit power is lower too).
#[test]
fn with_the_radio_model_each_link_has_its_band_signal() {
    use hwsim_frame::radiotap::{bit, Field, Fields};
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
    use pcap_file::pcapng::{Block, PcapNgReader};

    let dir = std::env::temp_dir().join(format!("vhost-hwsim-mlo-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("demo-mlo.pcapng");
    let mut args = DemoArgs::new(0.5);
    args.rate = 50;
    args.capture = Some(file.clone());
    args.socket = Some(dir.join("demo.sock"));
    args.config = Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/demo-mlo.toml"));
    vhost_hwsim::demo::run(&args)
        .expect("the demo runs and the non-AP MLD associates and completes the handshake");
    let bytes = std::fs::read(&file).unwrap();
    let mut reader = PcapNgReader::new(&bytes[..]).expect("a pcapng section");
    let mut names = Vec::new();
    // (interface name, signal dBm) of every QoS data frame.
    let mut data = Vec::new();
    while let Some(block) = reader.next_block() {
        match block.expect("well-formed block") {
            Block::InterfaceDescription(idb) => names.push(
                idb.options
                    .iter()
                    .find_map(|o| match o {
                        InterfaceDescriptionOption::IfName(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .unwrap_or_default(),
            ),
            Block::EnhancedPacket(epb) => {
                let rt_len = usize::from(u16::from_le_bytes([epb.data[2], epb.data[3]]));
                if epb.data.get(rt_len) != Some(&0x88) {
                    continue;
                }
                let signal = Fields::new(&epb.data)
                    .unwrap()
                    .find_map(|f| match f {
                        Ok(Field::Bit {
                            bit: b,
                            ns_index: 0,
                            data,
                        }) if b == bit::DBM_ANTSIGNAL => Some(data[0] as i8),
                        _ => None,
                    })
                    .expect("a signal on an acknowledged data frame");
                data.push((names[epb.interface_id as usize].clone(), signal));
            }
            _ => {}
        }
    }
    for (prefix, mld) in [("ap-mld", AP_MLD), ("sta-mld", STA_MLD)] {
        let signal = |id: usize| {
            let name = format!("{prefix}-{mld}/link{id}");
            let s: Vec<i8> = data.iter().filter(|d| d.0 == name).map(|d| d.1).collect();
            assert!(s.len() >= 5, "{} data frames on {name}", s.len());
            s[0]
        };
        let (s0, s1, s2) = (signal(0), signal(1), signal(2));
        assert!(
            s0 > s1 && s1 > s2,
            "{prefix}: signals {s0} / {s1} / {s2} dBm on 2.4 / 5 / 6 GHz"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fresh_demo_capture_decodes_with_mld_interfaces_and_per_sta_profiles() {
    let Some(root) =
        tshark_4_4("a_fresh_demo_capture_decodes_with_mld_interfaces_and_per_sta_profiles")
    else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("vhost-hwsim-mlo-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("demo-mlo.pcapng");
    let mut args = DemoArgs::new(1.0);
    args.rate = 50;
    args.capture = Some(file.clone());
    args.socket = Some(dir.join("demo.sock"));
    vhost_hwsim::demo::run(&args).expect("the demo runs");
    let bytes = std::fs::read(&file).expect("the demo wrote its capture");
    check_capture(root.as_deref(), &bytes, "fresh capture");
    check_phy_truth(root.as_deref(), &bytes, "fresh capture");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_committed_demo_capture_decodes_with_mld_interfaces_and_per_sta_profiles() {
    let Some(root) =
        tshark_4_4("the_committed_demo_capture_decodes_with_mld_interfaces_and_per_sta_profiles")
    else {
        return;
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../captures/demo-mlo.pcapng");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.len() < 512 * 1024,
        "keep the sample small: {} bytes",
        bytes.len()
    );
    check_capture(root.as_deref(), &bytes, "captures/demo-mlo.pcapng");
    check_eht_radiotap(root.as_deref(), &bytes);
    check_phy_truth(root.as_deref(), &bytes, "captures/demo-mlo.pcapng");
}

/// The EHT radiotap fields (U-SIG and EHT TLVs) on the demo's data frames, over the radio model
/// (`docs/demo-mlo.toml`: EHT on every band), whose rate synthesis picks an EHT transmit vector.
/// The medium reports that vector in its `Reception` and the worker records it.
#[test]
fn demo_data_frames_carry_eht_radiotap_fields() {
    let Some(root) = tshark_4_4("demo_data_frames_carry_eht_radiotap_fields") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("vhost-hwsim-mlo-eht-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("demo-mlo.pcapng");
    let mut args = DemoArgs::new(0.5);
    args.rate = 50;
    args.capture = Some(file.clone());
    args.socket = Some(dir.join("demo.sock"));
    args.config = Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/demo-mlo.toml"));
    vhost_hwsim::demo::run(&args).expect("the demo runs");
    let bytes = std::fs::read(&file).unwrap();
    check_eht_radiotap(root.as_deref(), &bytes);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every QoS data frame but EAPOL carries the U-SIG and EHT radiotap fields, with the width of its link
/// (U-SIG BW 0 = 20 MHz on 2.4 GHz, 2 = 80 MHz on 5 and 6 GHz, as the AP MLD's links operate).
fn check_eht_radiotap(root: Option<&Path>, bytes: &[u8]) {
    let (_, rows) = tshark::fields(
        root,
        bytes,
        &[
            "wlan.fc.type_subtype",
            "radiotap.u_sig.common.bw",
            "radiotap.eht.user_info.mcs",
            "radiotap.channel.freq",
            "eapol.version",
        ],
    );
    // EAPOL goes at the basic rate (see `check_phy_truth`).
    let data: Vec<_> = rows
        .iter()
        .filter(|r| r[0] == "0x0028" && r[4].is_empty())
        .collect();
    assert!(!data.is_empty());
    for r in &data {
        assert!(
            !r[1].is_empty() && !r[2].is_empty(),
            "no EHT radiotap: {r:?}"
        );
    }
    let widths: BTreeSet<(&str, &str)> = data
        .iter()
        .map(|r| (r[3].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        widths,
        [
            ("2412", "0x00000000"),
            ("5180", "0x00000002"),
            ("6135", "0x00000002")
        ]
        .into_iter()
        .collect(),
        "(MHz, U-SIG bandwidth) of the data frames"
    );
}

/// The fields [`check_phy_truth`] reads, in row order.
const PHY_FIELDS: [&str; 23] = [
    "wlan.fc.type",
    "wlan.fc.type_subtype",
    "wlan.ta",
    "wlan.ra",
    "eapol.version",
    "radiotap.channel.freq",
    "radiotap.datarate",
    "radiotap.present.mcs",
    "radiotap.present.vht",
    "radiotap.present.he",
    "radiotap.eht.user_info.nss",
    "radiotap.eht.user_info.mcs",
    "radiotap.eht.user_info.coding",
    "radiotap.u_sig.common.bw",
    // What the transmitter advertises (beacons, association requests with their profiles).
    "wlan.ext_tag.he_phy_cap.ldpc_coding_in_payload",
    "wlan.eht.supported_eht_mcs_bss_set.le_80.rx_max_nss_supports_eht_mcs_0_9",
    "wlan.eht.supported_eht_mcs_bss_set.le_80.rx_max_nss_supports_eht_mcs_10_11",
    "wlan.eht.supported_eht_mcs_bss_set.le_80.rx_max_nss_supports_eht_mcs_12_13",
    // The AP's operating width: HT (2.4 GHz), VHT (5 GHz), HE 6 GHz Operation Information.
    "wlan.ht.info.chanwidth",
    "wlan.vht.op.channelwidth",
    "wlan.ext_tag.he_operation.6ghz.control.channel_width",
    "frame.number",
    // The link addresses an association request's per-STA profiles name.
    "wlan.eht.multi_link.sta_profile.sta_info.sta_mac_addr",
];

/// What one link address advertised, as tshark decodes it.
#[derive(Debug, Default, Clone)]
struct Advertised {
    /// HE LDPC in payload, in every HE Capabilities it sent (per-STA profiles too).
    ldpc: bool,
    /// RX streams for EHT-MCS 0-9, 10-11, 12-13 (≤ 80 MHz map; the least over its elements).
    nss: [u32; 3],
    /// An AP: its operating width in MHz.
    width_mhz: Option<u32>,
}

impl Advertised {
    /// The highest MCS advertised at `nss` streams.
    fn top_mcs(&self, nss: u32) -> Option<u32> {
        [(2, 13), (1, 11), (0, 9)]
            .into_iter()
            .find(|(i, _)| self.nss[*i] >= nss)
            .map(|(_, m)| m)
    }
}

/// Parses tshark's number forms (`2`, `0x00000002`).
fn num(s: &str) -> Option<u32> {
    match s.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Nothing in the capture a real PHY would not have sent: management, control and EAPOL frames
/// in non-HT PPDUs at the lowest basic rate (1 Mb/s on 2.4 GHz, 6 Mb/s on 5 and 6 GHz, as the
/// AP's Supported Rates flag them), and no data PPDU with more streams, a higher MCS, LDPC or a
/// wider channel than both ends advertised (the AP in its beacons, the station in its
/// association request, whose values are taken for all its links).
fn check_phy_truth(root: Option<&Path>, bytes: &[u8], what: &str) {
    let (_, rows) = tshark::fields(root, bytes, &PHY_FIELDS);
    let col = |r: &[String], f: &str| -> String {
        let i = PHY_FIELDS
            .iter()
            .position(|x| *x == f)
            .expect("a known field");
        r.get(i).cloned().unwrap_or_default()
    };
    let yes = |v: &str| matches!(v, "1" | "True");
    // What each address advertised.
    let mut adv: BTreeMap<String, Advertised> = BTreeMap::new();
    for r in &rows {
        let subtype = col(r, "wlan.fc.type_subtype");
        if !matches!(subtype.as_str(), "0x0008" | "0x0000" | "0x0002") {
            continue;
        }
        let ldpc = col(r, "wlan.ext_tag.he_phy_cap.ldpc_coding_in_payload");
        let groups = [
            "wlan.eht.supported_eht_mcs_bss_set.le_80.rx_max_nss_supports_eht_mcs_0_9",
            "wlan.eht.supported_eht_mcs_bss_set.le_80.rx_max_nss_supports_eht_mcs_10_11",
            "wlan.eht.supported_eht_mcs_bss_set.le_80.rx_max_nss_supports_eht_mcs_12_13",
        ]
        .map(|f| {
            col(r, f)
                .split(',')
                .filter_map(num)
                .min()
                .unwrap_or_else(|| panic!("{what}: no {f} in frame {}", col(r, "frame.number")))
        });
        let width_mhz = (subtype == "0x0008").then(|| {
            let six = col(r, "wlan.ext_tag.he_operation.6ghz.control.channel_width");
            let vht = col(r, "wlan.vht.op.channelwidth");
            let ht = col(r, "wlan.ht.info.chanwidth");
            if let Some(w) = num(&six) {
                20 << w.min(3)
            } else if num(&vht).is_some_and(|w| w >= 1) {
                80
            } else if yes(&ht) {
                40
            } else {
                20
            }
        });
        let a = Advertised {
            ldpc: !ldpc.is_empty() && ldpc.split(',').all(yes),
            nss: groups,
            width_mhz,
        };
        // An association request speaks for the station's links its profiles name too.
        let profiles = col(r, "wlan.eht.multi_link.sta_profile.sta_info.sta_mac_addr");
        let profiles = profiles
            .split(',')
            .filter(|p| subtype != "0x0008" && !p.is_empty());
        for addr in std::iter::once(col(r, "wlan.ta")).chain(profiles.map(str::to_owned)) {
            adv.insert(addr, a.clone());
        }
    }
    let aps = adv.values().filter(|a| a.width_mhz.is_some()).count();
    assert!(
        aps >= 1 && adv.len() > aps,
        "{what}: an AP and a station advertised: {adv:?}"
    );

    let (mut basic, mut data) = (0, 0);
    for r in &rows {
        let n = col(r, "frame.number");
        let ht_or_later = [
            "radiotap.present.mcs",
            "radiotap.present.vht",
            "radiotap.present.he",
        ]
        .iter()
        .any(|f| yes(&col(r, f)))
            || !col(r, "radiotap.u_sig.common.bw").is_empty()
            || !col(r, "radiotap.eht.user_info.mcs").is_empty();
        let kind = col(r, "wlan.fc.type");
        let eapol = !col(r, "eapol.version").is_empty();
        let freq = col(r, "radiotap.channel.freq");
        if kind == "0" || kind == "1" || eapol {
            assert!(
                !ht_or_later,
                "{what}: frame {n} (management, control or EAPOL) in an HT or later PPDU"
            );
            let want = if num(&freq).is_some_and(|f| f < 3000) {
                "1"
            } else {
                "6"
            };
            assert_eq!(
                col(r, "radiotap.datarate"),
                want,
                "{what}: frame {n} not at the lowest basic rate on {freq} MHz"
            );
            basic += 1;
            continue;
        }
        if kind != "2" || col(r, "radiotap.eht.user_info.mcs").is_empty() {
            continue;
        }
        let (ta, ra) = (col(r, "wlan.ta"), col(r, "wlan.ra"));
        let (Some(t), Some(rx)) = (adv.get(&ta), adv.get(&ra)) else {
            panic!("{what}: frame {n} between {ta} and {ra}, which advertised nothing");
        };
        let nss = num(&col(r, "radiotap.eht.user_info.nss")).expect("EHT NSS") + 1;
        let mcs = num(&col(r, "radiotap.eht.user_info.mcs")).expect("EHT MCS");
        let ldpc = num(&col(r, "radiotap.eht.user_info.coding")) == Some(1);
        let bw = num(&col(r, "radiotap.u_sig.common.bw")).expect("U-SIG BW");
        let width_mhz = 20 << bw.min(4);
        assert!(
            nss <= t.nss[0].min(rx.nss[0]),
            "{what}: frame {n} {ta} -> {ra} at {nss} streams, advertised {t:?} / {rx:?}"
        );
        assert!(
            t.top_mcs(nss).is_some_and(|m| mcs <= m) && rx.top_mcs(nss).is_some_and(|m| mcs <= m),
            "{what}: frame {n} {ta} -> {ra} at MCS {mcs}, advertised {t:?} / {rx:?}"
        );
        assert!(
            !ldpc || (t.ldpc && rx.ldpc),
            "{what}: frame {n} {ta} -> {ra} LDPC, advertised {t:?} / {rx:?}"
        );
        let bss = t.width_mhz.or(rx.width_mhz).expect("one end is the AP");
        assert!(
            width_mhz <= bss,
            "{what}: frame {n} {ta} -> {ra} at {width_mhz} MHz in a {bss} MHz BSS"
        );
        data += 1;
    }
    assert!(
        basic >= 20 && data >= 20,
        "{what}: checked {basic} basic-rate and {data} data frames"
    );
}

/// Exactly one interface per (MLD, link), named from the first packet, in 20 demo runs out of
/// 20 (the MLD tracker names a link a little after its first frames; the capture holds them
/// back until it does).
#[test]
fn twenty_demo_runs_have_exactly_one_interface_per_mld_link() {
    let dir = std::env::temp_dir().join(format!("vhost-hwsim-mlo-20-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let want: BTreeSet<String> = [("ap-mld", AP_MLD), ("sta-mld", STA_MLD)]
        .iter()
        .flat_map(|(p, m)| (0..3).map(move |id| format!("{p}-{m}/link{id}")))
        .collect();
    for run in 0..20 {
        let file = dir.join(format!("demo-{run}.pcapng"));
        let mut args = DemoArgs::new(0.5);
        args.rate = 50;
        args.capture = Some(file.clone());
        args.socket = Some(dir.join(format!("demo-{run}.sock")));
        vhost_hwsim::demo::run(&args).expect("the demo runs");
        let names = interface_names(&std::fs::read(&file).unwrap());
        assert_eq!(names.len(), 6, "run {run}: {names:?}");
        assert_eq!(
            names.iter().cloned().collect::<BTreeSet<_>>(),
            want,
            "run {run}"
        );
        let _ = std::fs::remove_file(&file);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `if_name` of every interface block, in file order.
fn interface_names(bytes: &[u8]) -> Vec<String> {
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
    use pcap_file::pcapng::{Block, PcapNgReader};
    let mut reader = PcapNgReader::new(bytes).expect("a pcapng section");
    let mut names = Vec::new();
    while let Some(block) = reader.next_block() {
        if let Block::InterfaceDescription(idb) = block.expect("well-formed block") {
            names.push(
                idb.options
                    .iter()
                    .find_map(|o| match o {
                        InterfaceDescriptionOption::IfName(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .unwrap_or_default(),
            );
        }
    }
    names
}

/// `vhost-hwsim --capture-merged demo --capture FILE` (the daemon's option before the
/// subcommand, as the README writes it) writes one interface, `all`, every packet's comment
/// naming the MLD link it was on.
#[test]
fn capture_merged_reaches_the_demo() {
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
    use pcap_file::pcapng::{Block, PcapNgReader};

    let dir = std::env::temp_dir().join(format!("vhost-hwsim-mlo-merged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("merged.pcapng");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vhost-hwsim"))
        .arg("--capture-merged")
        .args(["demo", "--seconds", "0.3", "--rate", "50", "--capture"])
        .arg(&file)
        .arg("--socket")
        .arg(dir.join("demo.sock"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(interface_names(&bytes), ["all"]);
    let mut reader = PcapNgReader::new(&bytes[..]).unwrap();
    let mut links = BTreeSet::new();
    while let Some(block) = reader.next_block() {
        if let Block::EnhancedPacket(epb) = block.unwrap() {
            let comment = epb
                .options
                .iter()
                .find_map(|o| match o {
                    EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                    _ => None,
                })
                .expect("every merged packet names its link");
            let name = comment
                .split(" if=")
                .nth(1)
                .and_then(|s| s.split(' ').next())
                .unwrap_or_default()
                .to_owned();
            links.insert(name);
        }
    }
    assert_eq!(links.len(), 6, "{links:?}");
    assert!(links.iter().all(|l| l.contains("-mld-")), "{links:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A capture made elsewhere (a real-guest run: `CAPTURE=DIR MEDIUM=docs/… tests/vm/run mlo`),
/// named by `HWSIM_CHECK_CAPTURE`, passes the same PHY checks as the demo's. Says SKIPPED
/// without one.
#[test]
fn a_given_capture_tells_the_phy_truth() {
    let Some(path) = std::env::var_os("HWSIM_CHECK_CAPTURE") else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED a_given_capture_tells_the_phy_truth: set HWSIM_CHECK_CAPTURE=FILE"
        );
        return;
    };
    let Some(root) = tshark_4_4("a_given_capture_tells_the_phy_truth") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    check_phy_truth(root.as_deref(), &bytes, &path.to_string_lossy());
}

/// The committed real-guest capture (`captures/mlo-owe-three-links.pcapng`: the `mlo` scenario,
/// two wpa_supplicant non-AP MLDs and the built-in AP MLD over the radio model) passes the same
/// PHY checks, and declares each (MLD, link) interface once.
#[test]
fn the_committed_real_guest_capture_tells_the_phy_truth() {
    let Some(root) = tshark_4_4("the_committed_real_guest_capture_tells_the_phy_truth") else {
        return;
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../captures/mlo-owe-three-links.pcapng");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    check_phy_truth(
        root.as_deref(),
        &bytes,
        "captures/mlo-owe-three-links.pcapng",
    );
    let names = interface_names(&bytes);
    let links: Vec<&String> = names.iter().filter(|n| n.contains("-mld-")).collect();
    let unique: BTreeSet<&String> = links.iter().copied().collect();
    assert_eq!(
        links.len(),
        unique.len(),
        "an (MLD, link) declared twice: {names:?}"
    );
    assert_eq!(
        unique.len(),
        9,
        "three MLDs with three links each: {names:?}"
    );
}
