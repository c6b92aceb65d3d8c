//! `--metrics ADDR`: GET /metrics serves the daemon's counters in the OpenMetrics 1.0 text
//! format, per VM, per radio and frequency and per link of each MLD, as they are at scrape time.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use hwsim_frame::nl::tx_flags;

const AP_TOML: &str = r#"
ssid = "metrics"
mld_addr = "02:00:00:a0:00:00"
security = "open"
[[link]]
id = 0
band = "5"
channel = 36
bssid = "02:00:00:a0:00:11"
[[link]]
id = 1
band = "6"
channel = 5
bssid = "02:00:00:a0:00:12"
"#;

fn get(addr: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).expect("connect to --metrics");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut all = String::new();
    s.read_to_string(&mut all).unwrap();
    let (head, body) = all.split_once("\r\n\r\n").expect("an HTTP response");
    (head.to_owned(), body.to_owned())
}

/// The value of the sample whose line starts with `prefix` (name and labels).
fn sample(body: &str, prefix: &str) -> Option<f64> {
    body.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn samples(body: &str, name: &str) -> Vec<(String, f64)> {
    body.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter_map(|l| {
            let (labels, v) = l.rsplit_once(' ')?;
            Some((labels.to_owned(), v.parse().ok()?))
        })
        .collect()
}

/// Parses a sample line's labels, `{k="v",…}`, undoing the escapes OpenMetrics allows in a
/// label value (`\\`, `\"`, `\n`); panics on anything else (an unescaped quote ends the value
/// early and leaves text that is neither `,` nor `}`).
fn labels(line: &str) -> Vec<(String, String)> {
    let Some(rest) = line.split_once('{').map(|(_, r)| r) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut chars = rest.chars();
    loop {
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "{line}");
        let mut value = String::new();
        loop {
            match chars.next().expect("an unterminated label value") {
                '"' => break,
                '\\' => value.push(match chars.next() {
                    Some('\\') => '\\',
                    Some('"') => '"',
                    Some('n') => '\n',
                    other => panic!("bad escape {other:?} in {line}"),
                }),
                c => value.push(c),
            }
        }
        out.push((key, value));
        match chars.next() {
            Some(',') => continue,
            Some('}') => break,
            other => panic!("{other:?} after a label value in {line}"),
        }
    }
    out
}

#[test]
fn metrics_serve_vm_radio_link_and_mld_link_counters_as_they_are_now() {
    let dir = test_dir("metrics-ap");
    let ap = dir.join("ap.toml");
    std::fs::write(&ap, AP_TOML).unwrap();
    let (d, log) = Daemon::start_logged(
        "metrics",
        &[
            "--metrics",
            "127.0.0.1:0",
            "--ap-config",
            ap.to_str().unwrap(),
        ],
    );
    let line = log
        .wait_for("metrics: http://", Duration::from_secs(10))
        .expect("the log names the metrics address");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("an address")
        .to_owned();

    let mut a = d.guest();
    let mut b = d.guest();
    let (ra, rb) = (TestRadio::new(1, 0), TestRadio::new(2, 0));
    announce(&mut a, ra, ra.vif);
    announce(&mut b, rb, rb.vif);
    std::thread::sleep(Duration::from_millis(150));
    for c in 0..7u64 {
        let f = data_frame(rb.vif, ra.vif, b"counted");
        send_frame(&mut a, ra, &f, 5180, tx_flags::REQ_TX_STATUS, c);
    }
    until(&mut a, |g| statuses(g).len() == 7);

    // The statuses reach A before B's thread has written every delivery into B's RX ring:
    // scrape until B's deliveries are all counted (or 5 s pass and the checks below fail).
    let rb_label = format!("radio=\"{}\"", rb.wire);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let (head, body) = loop {
        let (head, body) = get(&addr, "/metrics");
        let done = samples(&body, "vhost_hwsim_radio_rx_delivered_total")
            .iter()
            .any(|(l, v)| l.contains(&rb_label) && *v >= 7.0);
        if done || std::time::Instant::now() > deadline {
            break (head, body);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.contains("Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{head}"
    );
    // OpenMetrics ends the exposition with `# EOF`, once; a scraper that misses it takes the
    // page for truncated.
    assert!(body.ends_with("\n# EOF\n"), "{body}");
    assert_eq!(body.matches("# EOF").count(), 1, "{body}");
    // No label carries guest or operator text (VM names are `vmN`/`ap-mld`, radios and MLDs
    // addresses the daemon formats); every label of every sample still parses as quoted and
    // escaped (the escaping itself: the unit test in src/metrics.rs).
    let mut names = std::collections::BTreeSet::new();
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        let labels = labels(line);
        let get = |k: &str| labels.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if let Some(name) = get("name") {
            let vm = get("vm").expect("a VM's name comes with its id");
            assert!(name == "ap-mld" || name == format!("vm{vm}"), "{line}");
            names.insert(name.to_owned());
        }
    }
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains("ap-mld"), "{names:?}");
    let radio = format!("radio=\"{}\"", ra.wire);
    let tx = samples(&body, "vhost_hwsim_radio_tx_frames_total");
    let mine: Vec<_> = tx.iter().filter(|(l, _)| l.contains(&radio)).collect();
    assert_eq!(mine.len(), 1, "{tx:?}");
    assert_eq!(mine[0].1, 7.0);
    let link = samples(&body, "vhost_hwsim_radio_link_frames_total");
    assert!(
        link.iter()
            .any(|(l, v)| l.contains(&radio) && l.contains("freq=\"5180\"") && *v == 7.0),
        "{link:?}"
    );
    let bytes = samples(&body, "vhost_hwsim_radio_link_bytes_total");
    let frame_len = data_frame(rb.vif, ra.vif, b"counted").len() as f64;
    assert!(
        bytes
            .iter()
            .any(|(l, v)| l.contains(&radio) && *v == 7.0 * frame_len),
        "{bytes:?}"
    );
    let delivered = samples(&body, "vhost_hwsim_radio_rx_delivered_total");
    assert!(
        delivered
            .iter()
            .any(|(l, v)| l.contains(&format!("radio=\"{}\"", rb.wire)) && *v >= 7.0),
        "{delivered:?}"
    );
    assert!(samples(&body, "vhost_hwsim_vm_tx_frames_total")
        .iter()
        .any(|(l, v)| l.contains("name=\"ap-mld\"") && *v > 0.0));
    // OpenMetrics names the family without `_total` and its samples with it.
    assert!(body.contains("# TYPE vhost_hwsim_radio_tx_frames counter\n"));
    assert!(body.contains("# TYPE vhost_hwsim_mld_link_airtime_seconds counter\n"));
    assert!(body.contains("# UNIT vhost_hwsim_mld_link_airtime_seconds seconds\n"));
    assert_eq!(sample(&body, "vhost_hwsim_vms_connected "), Some(3.0));

    // The AP MLD's links carry its beacons; the counters grow between scrapes.
    let deadline = Instant::now() + Duration::from_secs(10);
    let beaconing = |body: &str| {
        let links = samples(body, "vhost_hwsim_mld_link_frames_total");
        let on = |id: &str| {
            links
                .iter()
                .find(|(l, _)| {
                    l.contains("kind=\"ap\"") && l.contains(&format!("link_id=\"{id}\""))
                })
                .map(|(_, v)| *v)
        };
        (on("0"), on("1"))
    };
    let first = loop {
        let (_, body) = get(&addr, "/metrics");
        if let (Some(l0), Some(l1)) = beaconing(&body) {
            break (l0, l1);
        }
        assert!(Instant::now() < deadline, "no AP MLD link counters: {body}");
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_millis(400));
    let (_, body) = get(&addr, "/metrics");
    let (l0, l1) = beaconing(&body);
    assert!(
        l0.unwrap() > first.0 && l1.unwrap() > first.1,
        "{first:?} → {l0:?} {l1:?}"
    );
    assert!(samples(&body, "vhost_hwsim_mld_link_airtime_seconds_total")
        .iter()
        .any(|(l, v)| l.contains("kind=\"ap\"") && *v > 0.0));
    assert!(samples(&body, "vhost_hwsim_mld_link_dropped_total")
        .iter()
        .any(|(l, _)| l.contains("kind=\"ap\"") && l.contains("link_id=\"1\"")));

    let (head, _) = get(&addr, "/nothing");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(s, "POST /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    let _ = &mut b;
}
