//! The MLD tracker seen from outside: a guest's AP MLD beacons on three links, another guest's
//! non-AP MLD associates, and the control socket's `stats` shows both with their links; with a
//! capture running, the links' interfaces are named after their MLDs.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use hwsim_frame::nl::{GuestMessage, TxFrameRepr};
use hwsim_frame::MacAddr;
use hwsim_guest::{Guest, GuestConfig};
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

/// The id of the VM whose radio has wire address `wire`.
fn vm_of(stats: &Value, wire: MacAddr) -> u64 {
    stats["radios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["wire"] == wire.to_string())
        .and_then(|r| r["vm"].as_u64())
        .expect("radio listed")
}

/// Counter `name` of VM `vm`.
fn counter_of(stats: &Value, vm: u64, name: &str) -> u64 {
    stats["vms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == vm)
        .and_then(|v| v["counters"][name].as_u64())
        .expect("VM counter listed")
}

/// Encoded TX messages a hostile guest repeats: beacons of 128 multi-link APs (each its own AP
/// MLD) and probe requests, alternately.
fn flood_messages(radio: TestRadio) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 0..128u8 {
        let bssid = MacAddr([0x02, 0xee, 0, 0, 1, i]);
        let frame = beacon(bssid, &[&ap_ml(MacAddr([0x02, 0xee, 0, 0, 0, i]), 0, &[])]);
        let probe = probe_request(MacAddr([0x02, 0xef, 0, 0, 0, i]));
        for (k, f) in [frame, probe].iter().enumerate() {
            let m = GuestMessage::Frame(TxFrameRepr {
                transmitter: radio.wire,
                frame: f,
                flags: 0,
                freq: Some(2412),
                tx_info: RATES,
                tx_info_flags: None,
                cookie: u64::from(i) * 2 + k as u64,
            });
            let mut buf = vec![0u8; m.buffer_len()];
            let n = m.emit(&mut buf).unwrap();
            buf.truncate(n);
            out.push(buf);
        }
    }
    out
}

#[test]
fn a_guest_flooding_beacons_and_probe_requests_does_not_hide_other_guests_mlds() {
    let d = Daemon::start("mld-flood");
    let mut a = d.guest();
    let mut b = d.guest();
    let (ra, rb, rf) = (
        TestRadio::new(1, 0),
        TestRadio::new(2, 0),
        TestRadio::new(3, 0),
    );
    announce(&mut a, ra, ra.vif);
    announce(&mut b, rb, rb.vif);

    // The hostile guest sends as fast as its TX ring lets it until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let socket = d.socket.clone();
    let flooder = {
        let (stop, sent) = (Arc::clone(&stop), Arc::clone(&sent));
        std::thread::spawn(move || {
            let mut g = Guest::connect(&GuestConfig {
                socket,
                ..GuestConfig::default()
            })
            .expect("flooder connects");
            announce(&mut g, rf, rf.vif);
            let msgs = flood_messages(rf);
            let mut next = 0;
            while !stop.load(Ordering::Relaxed) {
                g.recv_with(|_| {});
                let batch = msgs[next..].iter().take(32).map(|m| &m[..]);
                match g.send_batch(batch) {
                    Ok(n) => {
                        next = (next + n) % msgs.len();
                        sent.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(_) => std::thread::yield_now(),
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while sent.load(Ordering::Relaxed) < 5000 {
        assert!(Instant::now() < deadline, "the flood did not start");
        std::thread::sleep(Duration::from_millis(5));
    }

    // The well-behaved AP MLD beacons once per link, as in a beacon interval.
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
    // Beacon 0 already names all three links, so wait until each link's own beacon was seen.
    let mlds = until_mlds(&d, |m| {
        find(m, "ap", AP_MLD).is_some_and(|ap| {
            ap["links"]
                .as_array()
                .is_some_and(|l| l.len() == 3 && l.iter().all(|l| l["seen"] == true))
        })
    });
    let ap = find(&mlds, "ap", AP_MLD).unwrap();
    assert!(links(ap).iter().all(|l| l.2 == ra.wire.to_string()));

    // The association: the response goes out once the request's TX status says the daemon
    // has handled (and offered) the request.
    let sent_before_association = sent.load(Ordering::Relaxed);
    let req = assoc_request(
        sta_link(0),
        ap_link(0),
        &[&sta_ml(STA_MLD, &[(1, sta_link(1)), (2, sta_link(2))])],
    );
    send_frame(&mut b, rb, &req, 2412, 0, 10);
    until(&mut b, |got| {
        got.iter()
            .any(|g| matches!(g, Got::Status { cookie: 10, .. }))
    });
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
    send_frame(&mut a, ra, &resp, 2412, 0, 11);
    let mlds = until_mlds(&d, |m| find(m, "non-ap", STA_MLD).is_some());
    let sta = find(&mlds, "non-ap", STA_MLD).unwrap();
    assert_eq!(sta["ap_mld"], AP_MLD.to_string());
    let got = links(sta);
    assert_eq!(got.len(), 3, "{sta:#}");
    for (i, l) in got.iter().enumerate() {
        assert_eq!((l.0, &l.2), (i as u64, &rb.wire.to_string()));
        assert_eq!(l.4, sta_link(i as u8).to_string());
    }
    let flooding = sent.load(Ordering::Relaxed) - sent_before_association;
    assert!(flooding > 0, "the flood went on during the association");

    stop.store(true, Ordering::Relaxed);
    flooder.join().unwrap();
    // Let the daemon finish the flood's last kicked frames: the counters then hold still.
    std::thread::sleep(Duration::from_millis(200));
    let stats = d.stats();
    let (vm_a, vm_b, vm_f) = (
        vm_of(&stats, ra.wire),
        vm_of(&stats, rb.wire),
        vm_of(&stats, rf.wire),
    );
    for (vm, queued) in [(vm_a, 4), (vm_b, 1)] {
        assert_eq!(counter_of(&stats, vm, "mld_queued"), queued, "VM {vm}");
        assert_eq!(counter_of(&stats, vm, "mld_dropped"), 0, "VM {vm}");
    }
    let (f_queued, f_dropped) = (
        counter_of(&stats, vm_f, "mld_queued"),
        counter_of(&stats, vm_f, "mld_dropped"),
    );
    assert!(f_queued > 0, "the flooder's beacons reached its queue");
    let tracker = &stats["mld_tracker"];
    assert_eq!(
        tracker["dropped"].as_u64(),
        Some(f_dropped),
        "only the flooder dropped"
    );
    println!(
        "flooder: {} frames sent ({} during the association), {} queued for the tracker, \
         {} dropped; tracker processed {}",
        sent.load(Ordering::Relaxed),
        flooding,
        f_queued,
        f_dropped,
        tracker["processed"]
    );
}
