//! The MLD tracker seen from outside: a guest's AP MLD beacons on three links, another guest's
//! non-AP MLD associates, and the control socket's `stats` shows both with their links; with a
//! capture running, the links' interfaces are named after their MLDs.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hwsim_frame::MacAddr;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use serde_json::Value;
use vhost_hwsim::mld::build::*;

const AP_MLD: MacAddr = MacAddr([0x02, 0xa0, 0, 0, 0, 0]);
const STA_MLD: MacAddr = MacAddr([0x02, 0x50, 0, 0, 0, 0]);
const FREQS: [u32; 3] = [2412, 5180, 5955];

fn ap_link(id: u8) -> MacAddr {
    MacAddr([0x02, 0xa0, 0, 0, 1, id])
}

fn sta_link(id: u8) -> MacAddr {
    MacAddr([0x02, 0x50, 0, 0, 1, id])
}

fn ap_beacon(id: u8) -> Vec<u8> {
    let others: Vec<(u8, MacAddr)> = (0..3)
        .filter(|&i| i != id)
        .map(|i| (i, ap_link(i)))
        .collect();
    beacon(ap_link(id), &[&ap_ml(AP_MLD, id, &others)])
}

/// Polls `stats` until `pred` holds on its `mlds` array.
fn until_mlds(d: &Daemon, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = d.stats();
        let mlds = stats["mlds"].as_array().cloned().unwrap_or_default();
        if pred(&mlds) {
            return mlds;
        }
        assert!(Instant::now() < deadline, "timed out; stats: {stats:#}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn find<'a>(mlds: &'a [Value], kind: &str, addr: MacAddr) -> Option<&'a Value> {
    mlds.iter()
        .find(|m| m["kind"] == kind && m["mld_addr"] == addr.to_string())
}

fn links(m: &Value) -> Vec<(u64, u64, String, u64, String)> {
    m["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["link_id"].as_u64().unwrap(),
                l["vm"].as_u64().unwrap_or(0),
                l["radio"].as_str().unwrap_or("").to_string(),
                l["freq"].as_u64().unwrap_or(0),
                l["addr"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn stats_show_the_ap_mld_and_the_associated_non_ap_mld_with_their_links() {
    let d = Daemon::start("mld");
    let mut a = d.guest();
    let mut b = d.guest();
    let (ra, rb) = (TestRadio::new(1, 0), TestRadio::new(2, 0));
    announce(&mut a, ra, ra.vif);
    announce(&mut b, rb, rb.vif);
    for id in 0..3u8 {
        send_frame(
            &mut a,
            ra,
            &ap_beacon(id),
            FREQS[id as usize],
            0,
            u64::from(id),
        );
    }
    let mlds = until_mlds(&d, |m| {
        find(m, "ap", AP_MLD).is_some_and(|ap| {
            ap["links"]
                .as_array()
                .is_some_and(|l| l.len() == 3 && l.iter().all(|l| l["seen"] == true))
        })
    });
    let ap = find(&mlds, "ap", AP_MLD).unwrap();
    let vm_a = d.stats()["vms"][0]["id"].as_u64().unwrap();
    let expected: Vec<_> = (0..3u8)
        .map(|id| {
            (
                u64::from(id),
                vm_a,
                ra.wire.to_string(),
                u64::from(FREQS[id as usize]),
                ap_link(id).to_string(),
            )
        })
        .collect();
    assert_eq!(links(ap), expected);

    // The non-AP MLD in the other guest associates over link 0, asking for links 1 and 2.
    let req = assoc_request(
        sta_link(0),
        ap_link(0),
        &[&sta_ml(STA_MLD, &[(1, sta_link(1)), (2, sta_link(2))])],
    );
    send_frame(&mut b, rb, &req, 2412, 0, 10);
    let resp = assoc_response(
        ap_link(0),
        sta_link(0),
        0,
        &[&assoc_response_ml(
            AP_MLD,
            0,
            &[(1, ap_link(1), 0), (2, ap_link(2), 0)],
        )],
    );
    // The response must come after the request has reached the tracker.
    std::thread::sleep(Duration::from_millis(300));
    send_frame(&mut a, ra, &resp, 2412, 0, 11);
    let mlds = until_mlds(&d, |m| find(m, "non-ap", STA_MLD).is_some());
    let sta = find(&mlds, "non-ap", STA_MLD).unwrap();
    assert_eq!(sta["ap_mld"], AP_MLD.to_string());
    let got = links(sta);
    assert_eq!(got.len(), 3, "{sta:#}");
    for (i, l) in got.iter().enumerate() {
        assert_eq!(l.0, i as u64);
        assert_eq!(l.2, rb.wire.to_string());
        assert_eq!(l.3, u64::from(FREQS[i]));
        assert_eq!(l.4, sta_link(i as u8).to_string());
    }
    let tracker = &d.stats()["mld_tracker"];
    assert_eq!(tracker["dropped"], 0);
    assert_eq!(tracker["malformed"], 0);

    // Deauthentication from the station ends its MLD; the AP MLD stays.
    send_frame(
        &mut b,
        rb,
        &deauth(sta_link(0), ap_link(0), ap_link(0)),
        2412,
        0,
        12,
    );
    let mlds = until_mlds(&d, |m| find(m, "non-ap", STA_MLD).is_none());
    assert!(find(&mlds, "ap", AP_MLD).is_some());
}

#[test]
fn a_running_capture_names_link_interfaces_after_the_ap_mld() {
    let dir = std::env::temp_dir().join(format!("vhost-hwsim-mld-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mlo.pcapng");
    let mut d = Daemon::start_with("mld-capture", &["--capture", file.to_str().unwrap()]);
    let mut a = d.guest();
    let ra = TestRadio::new(1, 0);
    announce(&mut a, ra, ra.vif);
    for id in 0..3u8 {
        send_frame(
            &mut a,
            ra,
            &ap_beacon(id),
            FREQS[id as usize],
            0,
            u64::from(id),
        );
    }
    until_mlds(&d, |m| {
        find(m, "ap", AP_MLD).is_some_and(|ap| ap["links"].as_array().is_some_and(|l| l.len() == 3))
    });
    // A name takes effect at the interface's next frame.
    for id in 0..3u8 {
        send_frame(
            &mut a,
            ra,
            &ap_beacon(id),
            FREQS[id as usize],
            0,
            10 + u64::from(id),
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(d.terminate().success());

    let bytes = std::fs::read(&file).expect("capture written");
    let mut reader = PcapNgReader::new(&bytes[..]).expect("a pcapng section");
    let mut names = Vec::new();
    let mut descriptions = Vec::new();
    while let Some(block) = reader.next_block() {
        if let Block::InterfaceDescription(idb) = block.expect("well-formed block") {
            for o in &idb.options {
                match o {
                    InterfaceDescriptionOption::IfName(n) => names.push(n.to_string()),
                    InterfaceDescriptionOption::IfDescription(s) => {
                        descriptions.push(s.to_string())
                    }
                    _ => {}
                }
            }
        }
    }
    for id in 0..3 {
        let name = format!("ap-mld-{AP_MLD}/link{id}");
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert!(
        descriptions
            .iter()
            .any(|s| s == &format!("6 GHz channel 1 (5955 MHz), link 2 of AP MLD {AP_MLD}")),
        "{descriptions:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
