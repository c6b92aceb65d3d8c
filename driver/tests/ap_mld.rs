//! The built-in AP MLD (`--ap-config`) seen by a scripted non-AP MLD: a frontend guest whose
//! radio hears the AP's beacons on all three links, authenticates and associates on the
//! 5 GHz link asking for the other two, gets every link accepted, and sees the tracker list
//! both MLDs and the AP's radios labelled `ap-mld`; `ap remove-link` puts a Reconfiguration Multi-Link element in the beacons. With
//! the radio model, a `[[node]]` listing the link addresses places the AP MLD.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hwsim_frame::ie::{
    mgmt_body_elements, ElementId, Elements, IeRepr, MultiLinkRepr, MultiLinkType,
};
use hwsim_frame::mac::{mgmt_subtype, Frame};
use hwsim_frame::MacAddr;
use vhost_hwsim::mld::build::{assoc_request, mgmt_frame, sta_ml};

const AP_TOML: &str = r#"
ssid = "mlo"
mld_addr = "02:00:00:a0:00:00"
security = "open"
[[link]]
id = 0
band = "2.4"
channel = 1
bssid = "02:00:00:a0:00:10"
[[link]]
id = 1
band = "5"
channel = 36
bssid = "02:00:00:a0:00:11"
[[link]]
id = 2
band = "6"
channel = 5
bssid = "02:00:00:a0:00:12"
"#;

const AP_MLD: MacAddr = MacAddr([0x02, 0, 0, 0xa0, 0, 0]);
const STA_MLD: MacAddr = MacAddr([0x02, 0, 0, 0xb0, 0, 0]);

fn ap_link(id: u8) -> MacAddr {
    MacAddr([0x02, 0, 0, 0xa0, 0, 0x10 + id])
}

fn sta_link(id: u8) -> MacAddr {
    MacAddr([0x02, 0, 0, 0xb0, 0, 0x10 + id])
}

/// Frames received (frequency, frame) until `pred` matches one; returns it.
fn wait_frame(g: &mut hwsim_guest::Guest, pred: impl Fn(u32, &[u8]) -> bool) -> (u32, Vec<u8>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "timed out waiting for a frame");
        for got in drain(g, Duration::from_millis(30)) {
            if let Got::Frame { frame, freq, .. } = got {
                let f = freq.unwrap_or(0);
                if pred(f, &frame) {
                    return (f, frame);
                }
            }
        }
    }
}

/// Frames received during `window` (beacons never leave the device quiet long, so
/// `drain` would run to its cap).
fn frames_for(g: &mut hwsim_guest::Guest, window: Duration) -> Vec<Vec<u8>> {
    let end = Instant::now() + window;
    let mut out = Vec::new();
    while Instant::now() < end {
        g.recv_messages(|m| {
            if let Ok(hwsim_frame::DeviceMessage::Frame(f)) = m {
                out.push(f.frame.to_vec());
            }
        });
        let _ = g.wait(Duration::from_millis(10));
    }
    out
}

fn subtype(frame: &[u8]) -> Option<u8> {
    Frame::new_checked(frame)
        .ok()
        .map(|f| f.frame_control().subtype())
}

fn beacon_from(frame: &[u8], bssid: MacAddr) -> bool {
    subtype(frame) == Some(mgmt_subtype::BEACON)
        && Frame::new_checked(frame).unwrap().addr2() == Some(bssid)
}

#[test]
fn scripted_non_ap_mld_associates_on_three_links_and_sees_link_removal() {
    let dir = std::env::temp_dir().join(format!("vhost-hwsim-ap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ap_path = dir.join("ap.toml");
    std::fs::write(&ap_path, AP_TOML).unwrap();
    let d = Daemon::start_with("ap-mld", &["--ap-config", ap_path.to_str().unwrap()]);
    let mut g = d.guest();
    let radio = TestRadio {
        wire: sta_link(1),
        vif: sta_link(1),
    };
    for id in 0..3 {
        announce(&mut g, radio, sta_link(id));
    }
    // Beacons on every link, each on its own frequency.
    for (id, freq) in [(0u8, 2412u32), (1, 5180), (2, 5975)] {
        let (f, _) = wait_frame(&mut g, |f, fr| beacon_from(fr, ap_link(id)) && f == freq);
        assert_eq!(f, freq);
    }
    // Open System authentication on the 5 GHz link, with our MLD address.
    let mut auth_body = vec![0, 0, 1, 0, 0, 0];
    auth_body.extend(sta_ml(STA_MLD, &[]));
    let auth = mgmt_frame(
        mgmt_subtype::AUTH,
        ap_link(1),
        sta_link(1),
        ap_link(1),
        &auth_body,
    );
    send_frame(&mut g, radio, &auth, 5180, 1, 1);
    let (_, resp) = wait_frame(&mut g, |_, fr| subtype(fr) == Some(mgmt_subtype::AUTH));
    let resp = Frame::new_checked(&resp[..]).unwrap();
    assert_eq!(resp.addr1(), sta_link(1));
    assert_eq!(&resp.payload()[..6], &[0, 0, 2, 0, 0, 0]);
    // Association asking for links 0 and 2 as well.
    let ml = sta_ml(STA_MLD, &[(0, sta_link(0)), (2, sta_link(2))]);
    let req = assoc_request(sta_link(1), ap_link(1), &[&ml]);
    send_frame(&mut g, radio, &req, 5180, 1, 2);
    let (freq, resp) = wait_frame(&mut g, |_, fr| {
        subtype(fr) == Some(mgmt_subtype::ASSOC_RESP)
    });
    assert_eq!(freq, 5180);
    let resp = Frame::new_checked(&resp[..]).unwrap();
    let body = resp.payload();
    assert_eq!(u16::from_le_bytes([body[2], body[3]]), 0, "status");
    assert_eq!(u16::from_le_bytes([body[4], body[5]]) & 0x3fff, 1, "AID");
    let ml = Elements::new(&body[6..])
        .map(|e| e.unwrap())
        .find(|e| e.element_id() == ElementId::MultiLink)
        .unwrap();
    let mut scratch = vec![0u8; ml.len()];
    let ml = MultiLinkRepr::parse_defragment(&ml, &mut scratch).unwrap();
    assert_eq!(ml.common.mld_addr, Some(AP_MLD));
    let accepted: Vec<(u8, Option<MacAddr>, u16)> = ml
        .per_sta_profiles()
        .map(|p| {
            (
                p.link_id(),
                p.mac_addr(),
                u16::from_le_bytes([p.profile[2], p.profile[3]]),
            )
        })
        .collect();
    assert_eq!(
        accepted,
        [(0, Some(ap_link(0)), 0), (2, Some(ap_link(2)), 0)]
    );

    // The tracker learned the AP MLD from its beacons and our association.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = d.stats();
        let mlds = s["mlds"].as_array().cloned().unwrap_or_default();
        let ap = mlds
            .iter()
            .find(|m| m["kind"] == "ap" && m["mld_addr"] == AP_MLD.to_string());
        if ap.is_some_and(|ap| ap["links"].as_array().is_some_and(|l| l.len() == 3)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "tracker never saw the AP MLD: {s:#}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The daemon knows the built-in AP's connection: its radios are labelled `ap-mld`, the
    // test guest's by its VM number.
    let s = d.stats();
    let labels: Vec<String> = s["radios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["radio"].as_str().unwrap().to_string())
        .collect();
    for id in 0..3 {
        let want = format!("ap-mld/{}", ap_link(id));
        assert!(labels.contains(&want), "{want} in {labels:?}");
    }
    assert!(
        labels
            .iter()
            .any(|l| l.starts_with("vm") && l.ends_with(&sta_link(1).to_string())),
        "the test guest's radio: {labels:?}"
    );

    // Removing link 2 through the control socket: beacons announce it, then it stops.
    let answer = vhost_hwsim::control::request(&d.control, "ap remove-link 2 3").unwrap();
    assert!(answer.contains("\"removing_link\":2"), "{answer}");
    let (_, b) = wait_frame(&mut g, |_, fr| {
        beacon_from(fr, ap_link(1))
            && mgmt_body_elements(&Frame::new_checked(fr).unwrap())
                .unwrap()
                .flatten()
                .filter(|e| e.element_id() == ElementId::MultiLink)
                .any(|e| {
                    MultiLinkRepr::parse_element(&e)
                        .is_ok_and(|m| m.kind == MultiLinkType::Reconfiguration)
                })
    });
    assert!(!b.is_empty());
    // After the timer, no more beacons from link 2 (allow for ones already queued).
    frames_for(&mut g, Duration::from_millis(600));
    let got = frames_for(&mut g, Duration::from_millis(400));
    let from_2 = got.iter().filter(|f| beacon_from(f, ap_link(2))).count();
    let from_1 = got.iter().filter(|f| beacon_from(f, ap_link(1))).count();
    assert_eq!(from_2, 0);
    assert!(from_1 >= 2, "link 1 keeps beaconing ({from_1})");
    let answer = vhost_hwsim::control::request(&d.control, "ap remove-link 9").unwrap();
    assert!(answer.contains("no link 9"), "{answer}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The AP MLD's beacons on link `id` heard by the test guest within `window`, with signals.
fn beacon_signals(g: &mut hwsim_guest::Guest, id: u8, window: Duration) -> Vec<i32> {
    let end = Instant::now() + window;
    let mut out = Vec::new();
    while Instant::now() < end {
        g.recv_messages(|m| {
            if let Ok(hwsim_frame::DeviceMessage::Frame(f)) = m {
                if beacon_from(f.frame, ap_link(id)) {
                    out.push(f.signal);
                }
            }
        });
        let _ = g.wait(Duration::from_millis(10));
    }
    out
}

#[test]
fn the_radio_model_places_the_ap_mld_by_its_link_addresses() {
    let dir = std::env::temp_dir().join(format!("vhost-hwsim-ap-radio-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ap_path = dir.join("ap.toml");
    std::fs::write(&ap_path, AP_TOML).unwrap();
    let medium = |sta_x: f64| {
        format!(
            r#"
seed = 3
model = "radio"
path_loss = {{ model = "log_distance", exponent = 3.0 }}
[[node]]
name = "ap-mld"
addresses = ["{}", "{}", "{}"]
position = [0, 0, 0]
[[node]]
name = "sta"
addresses = ["{}"]
position = [{sta_x}, 0, 0]
"#,
            ap_link(0),
            ap_link(1),
            ap_link(2),
            sta_link(1)
        )
    };
    let medium_path = dir.join("medium.toml");
    std::fs::write(&medium_path, medium(3.0)).unwrap();
    let d = Daemon::start_with(
        "ap-mld-radio",
        &[
            "--ap-config",
            ap_path.to_str().unwrap(),
            "--config",
            medium_path.to_str().unwrap(),
        ],
    );
    let mut g = d.guest();
    let radio = TestRadio {
        wire: sta_link(1),
        vif: sta_link(1),
    };
    announce(&mut g, radio, sta_link(1));
    let near = beacon_signals(&mut g, 1, Duration::from_millis(600));
    assert!(
        near.len() >= 3,
        "3 m away the 5 GHz beacons arrive: {near:?}"
    );
    // 5 km away the AP is out of range; a 30 m station hears it weaker than a 3 m one.
    std::fs::write(&medium_path, medium(5000.0)).unwrap();
    let answer = vhost_hwsim::control::request(&d.control, "reload").unwrap();
    assert!(answer.contains("reloaded"), "{answer}");
    beacon_signals(&mut g, 1, Duration::from_millis(200));
    let gone = beacon_signals(&mut g, 1, Duration::from_millis(600));
    assert!(gone.is_empty(), "5 km away nothing arrives: {gone:?}");
    std::fs::write(&medium_path, medium(30.0)).unwrap();
    vhost_hwsim::control::request(&d.control, "reload").unwrap();
    beacon_signals(&mut g, 1, Duration::from_millis(200));
    let far = beacon_signals(&mut g, 1, Duration::from_millis(600));
    assert!(!far.is_empty());
    let (near_max, far_max) = (near.iter().max().unwrap(), far.iter().max().unwrap());
    assert!(
        near_max - far_max >= 20,
        "3 m {near_max} dBm vs 30 m {far_max} dBm"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
