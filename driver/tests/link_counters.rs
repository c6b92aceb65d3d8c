//! Per-link counters through the daemon: an AP MLD with three links and an associated non-AP MLD
//! exchange frames; `stats` shows, for each link of each MLD, what it sent (frames, bytes,
//! airtime, retries, acked, lost), and each radio's counters per frequency.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hwsim_frame::nl::tx_flags;
use hwsim_frame::MacAddr;
use hwsim_radio::airtime::ppdu_duration_ns;
use hwsim_radio::band::{band_of, Band};
use hwsim_radio::rates::TxVector;
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

/// Airtime (ns) of one attempt of a `len`-byte frame (+ FCS) on `freq` at `v`.
fn attempt_ns(v: TxVector, len: usize, freq: u32) -> u64 {
    let band = band_of(freq).unwrap();
    ppdu_duration_ns(&v, len as u32 + 4, band)
}

/// The band's lowest rate (group frames, unacknowledged frames).
fn lowest(freq: u32) -> TxVector {
    match band_of(freq).unwrap() {
        Band::Band2G4 => TxVector::dsss(0).unwrap(),
        _ => TxVector::ofdm(0).unwrap(),
    }
}

/// 54 Mb/s: the perfect medium's reported rate for acknowledged data frames.
fn ofdm54() -> TxVector {
    TxVector::ofdm(7).unwrap()
}

/// Expected counters of one link, accumulated frame by frame.
#[derive(Default, Debug, PartialEq)]
struct Expect {
    frames: u64,
    bytes: u64,
    airtime_ns: u64,
    retries: u64,
    acked: u64,
    lost: u64,
}

impl Expect {
    fn add(&mut self, len: usize, v: TxVector, freq: u32, attempts: u64, acked: bool) {
        self.frames += 1;
        self.bytes += len as u64;
        self.airtime_ns += attempts * attempt_ns(v, len, freq);
        self.retries += attempts - 1;
        if acked {
            self.acked += 1;
        } else {
            self.lost += 1;
        }
    }

    fn check(&self, what: &str, got: &Value) {
        let n = |k: &str| {
            got[k]
                .as_u64()
                .unwrap_or_else(|| panic!("{what}: no {k} in {got}"))
        };
        assert_eq!(
            (
                n("frames"),
                n("bytes"),
                n("airtime_us"),
                n("retries"),
                n("acked"),
                n("lost")
            ),
            (
                self.frames,
                self.bytes,
                self.airtime_ns / 1000,
                self.retries,
                self.acked,
                self.lost
            ),
            "{what}: {got}"
        );
    }
}

/// Whether the status of the frame with `cookie` has arrived (beacons get statuses too).
fn has_status(got: &[Got], cookie: u64) -> bool {
    got.iter()
        .any(|g| matches!(g, Got::Status { cookie: c, .. } if *c == cookie))
}

fn find_mld<'a>(mlds: &'a [Value], kind: &str, addr: MacAddr) -> Option<&'a Value> {
    mlds.iter()
        .find(|m| m["kind"] == kind && m["mld_addr"] == addr.to_string())
}

fn until_stats(d: &Daemon, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = d.stats();
        if pred(&stats) {
            return stats;
        }
        assert!(Instant::now() < deadline, "timed out; stats: {stats:#}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn stats_join_each_mld_link_with_what_it_sent() {
    let d = Daemon::start("link-counters");
    let mut a = d.guest();
    let mut b = d.guest();
    let (ra, rb) = (TestRadio::new(1, 0), TestRadio::new(2, 0));
    announce(&mut a, ra, ra.vif);
    announce(&mut b, rb, rb.vif);
    let mut ap = [Expect::default(), Expect::default(), Expect::default()];
    let mut sta = [Expect::default(), Expect::default(), Expect::default()];

    // The AP MLD beacons on its three links (group frames: sent once, at the lowest rate).
    for id in 0..3u8 {
        let i = usize::from(id);
        let f = ap_beacon(id);
        send_frame(&mut a, ra, &f, FREQS[i], 0, u64::from(id));
        ap[i].add(f.len(), lowest(FREQS[i]), FREQS[i], 1, true);
    }
    until_stats(&d, |s| {
        find_mld(s["mlds"].as_array().unwrap(), "ap", AP_MLD)
            .is_some_and(|m| m["links"].as_array().unwrap().len() == 3)
    });

    // The non-AP MLD associates over link 0 for links 0-2 (acknowledged; management frames at
    // the band's lowest rate).
    let req = assoc_request(
        sta_link(0),
        ap_link(0),
        &[&sta_ml(STA_MLD, &[(1, sta_link(1)), (2, sta_link(2))])],
    );
    send_frame(&mut b, rb, &req, FREQS[0], tx_flags::REQ_TX_STATUS, 10);
    sta[0].add(req.len(), lowest(FREQS[0]), FREQS[0], 1, true);
    until(&mut b, |g| statuses(g).len() == 1);
    std::thread::sleep(Duration::from_millis(300));
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
    send_frame(&mut a, ra, &resp, FREQS[0], tx_flags::REQ_TX_STATUS, 11);
    ap[0].add(resp.len(), lowest(FREQS[0]), FREQS[0], 1, true);
    until(&mut a, |g| has_status(g, 11));

    // Data on every link: i + 1 frames of 10·(i + 1) bytes of payload, all acknowledged.
    let mut sent = 0;
    for id in 0..3u8 {
        let i = usize::from(id);
        for k in 0..=i {
            let f = data_frame(ap_link(id), sta_link(id), &vec![0xab; 10 * (i + 1)]);
            send_frame(
                &mut b,
                rb,
                &f,
                FREQS[i],
                tx_flags::REQ_TX_STATUS,
                20 + k as u64,
            );
            sta[i].add(f.len(), ofdm54(), FREQS[i], 1, true);
            sent += 1;
        }
    }
    let got = until(&mut b, |g| statuses(g).len() == sent);
    assert!(got.iter().filter(|g| g.acked()).count() == sent, "{got:?}");
    // The AP sends on link 1 to an address nobody has: every attempt of the chain (2 + 3)
    // at the lowest rate, not acknowledged.
    let nobody = MacAddr([0x02, 0xee, 0, 0, 0, 1]);
    let f = data_frame(nobody, ap_link(1), b"into the void");
    send_frame(&mut a, ra, &f, FREQS[1], tx_flags::REQ_TX_STATUS, 30);
    ap[1].add(f.len(), lowest(FREQS[1]), FREQS[1], 5, false);
    until(&mut a, |g| has_status(g, 30));

    let stats = until_stats(&d, |s| {
        find_mld(s["mlds"].as_array().unwrap(), "non-ap", STA_MLD).is_some_and(|m| {
            m["links"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["counters"]["frames"].as_u64().is_some())
        })
    });
    let mlds = stats["mlds"].as_array().unwrap();
    for (kind, addr, expect, link_addr) in [
        ("ap", AP_MLD, &ap, ap_link as fn(u8) -> MacAddr),
        ("non-ap", STA_MLD, &sta, sta_link as fn(u8) -> MacAddr),
    ] {
        let m = find_mld(mlds, kind, addr).unwrap_or_else(|| panic!("{kind} MLD in {stats:#}"));
        let links = m["links"].as_array().unwrap();
        assert_eq!(links.len(), 3, "{m:#}");
        for (i, l) in links.iter().enumerate() {
            assert_eq!(l["link_id"], i as u64);
            assert_eq!(l["addr"], link_addr(i as u8).to_string());
            assert_eq!(l["freq"], FREQS[i]);
            expect[i].check(&format!("{kind} link {i}"), &l["counters"]);
        }
    }
    // The same figures per radio and frequency.
    let radio = |wire: MacAddr| {
        stats["radios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["wire"] == wire.to_string())
            .unwrap()
            .clone()
    };
    for (wire, expect) in [(ra.wire, &ap), (rb.wire, &sta)] {
        let r = radio(wire);
        let links = r["links"].as_array().unwrap();
        let freqs: Vec<u64> = links.iter().map(|l| l["freq"].as_u64().unwrap()).collect();
        assert_eq!(freqs, FREQS.map(u64::from), "{r:#}");
        for (i, l) in links.iter().enumerate() {
            expect[i].check(&format!("radio {wire} {}", FREQS[i]), l);
        }
    }
}
