//! The JSON control API (docs/control-api.md) and `vhost-hwsim ctl`, against a daemon process
//! with guests: per-link impairments, positions and tx powers change frames' fates from the
//! next frame; bad requests change nothing; a stalled client does not stall another; malformed
//! input drops the client and is counted; capture rotation leaves two complete files.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use hwsim_frame::nl::tx_flags;
use hwsim_guest::Guest;
use serde_json::{json, Value};

const SETTLE: Duration = Duration::from_millis(150);

fn ctl(d: &Daemon, request: Value) -> Value {
    vhost_hwsim::control::request_json(&d.control, &request).expect("control answers")
}

fn ok(d: &Daemon, request: Value) -> Value {
    let answer = ctl(d, request.clone());
    assert_eq!(answer["ok"], json!(true), "{request} → {answer}");
    assert_eq!(answer["v"], json!(1));
    answer
}

fn refused(d: &Daemon, request: Value) -> String {
    let answer = ctl(d, request.clone());
    assert_eq!(answer["ok"], json!(false), "{request} → {answer}");
    answer["error"]
        .as_str()
        .expect("an error message")
        .to_owned()
}

fn control_counter(d: &Daemon, name: &str) -> u64 {
    d.stats()["control"][name]
        .as_u64()
        .expect("control counter")
}

/// Sends one unicast frame and returns whether it was acknowledged.
fn acked(g: &mut Guest, from: TestRadio, to: TestRadio, freq: u32, cookie: u64) -> bool {
    let f = data_frame(to.vif, from.vif, b"still there?");
    send_frame(g, from, &f, freq, tx_flags::REQ_TX_STATUS, cookie);
    let mine = |x: &Got| matches!(x, Got::Status { cookie: c, .. } if *c == cookie);
    let got = until(g, |x| x.iter().any(mine));
    got.iter().find(|x| mine(x)).is_some_and(Got::acked)
}

/// How many of `n` frames were acknowledged.
fn acked_of(g: &mut Guest, from: TestRadio, to: TestRadio, freq: u32, n: u64, base: u64) -> u64 {
    (0..n)
        .filter(|i| acked(g, from, to, freq, base + i))
        .count() as u64
}

/// An AP node and a station node 3 m apart, each with a 5 GHz and a 6 GHz radio.
fn two_band_config(dir: &Path, ap: [TestRadio; 2], sta: [TestRadio; 2], sta_x: f64) -> String {
    let text = format!(
        r#"seed = 5
model = "radio"
path_loss = {{ model = "log_distance", exponent = 3.0 }}
[[node]]
name = "apn"
addresses = ["{}", "{}"]
position = [0, 0, 0]
[[node]]
name = "sta"
addresses = ["{}", "{}"]
position = [{sta_x:.1}, 0, 0]
"#,
        ap[0].vif, ap[1].vif, sta[0].vif, sta[1].vif
    );
    let path = dir.join("medium.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

struct Pair {
    a: Guest,
    b: Guest,
    ap: [TestRadio; 2],
    sta: [TestRadio; 2],
}

fn pair(d: &Daemon, ap: [TestRadio; 2], sta: [TestRadio; 2]) -> Pair {
    let mut a = d.guest();
    let mut b = d.guest();
    for r in ap {
        announce(&mut a, r, r.vif);
    }
    for r in sta {
        announce(&mut b, r, r.vif);
    }
    std::thread::sleep(SETTLE);
    Pair { a, b, ap, sta }
}

fn radios() -> ([TestRadio; 2], [TestRadio; 2]) {
    (
        [TestRadio::new(1, 0), TestRadio::new(1, 1)],
        [TestRadio::new(2, 0), TestRadio::new(2, 1)],
    )
}

#[test]
fn attenuation_on_one_link_loses_its_frames_while_the_other_link_delivers() {
    let (ap, sta) = radios();
    let dir = test_dir("ctl-atten");
    let cfg = two_band_config(&dir, ap, sta, 3.0);
    let d = Daemon::start_with("ctl-atten-d", &["--config", &cfg]);
    let mut p = pair(&d, ap, sta);
    assert_eq!(acked_of(&mut p.a, p.ap[0], p.sta[0], 5180, 10, 0), 10);
    assert_eq!(acked_of(&mut p.a, p.ap[1], p.sta[1], 5955, 10, 100), 10);
    let changes = control_counter(&d, "changes");

    let answer = ok(
        &d,
        json!({"v":1,"cmd":"link","node":"sta","band":"6ghz","attenuation_db":150}),
    );
    assert_eq!(answer["link"]["attenuation_db"], json!(150.0));
    assert_eq!(control_counter(&d, "changes"), changes + 1);
    assert_eq!(
        acked_of(&mut p.a, p.ap[1], p.sta[1], 5955, 10, 200),
        0,
        "6 GHz attenuated by 150 dB"
    );
    assert_eq!(
        acked_of(&mut p.a, p.ap[0], p.sta[0], 5180, 10, 300),
        10,
        "5 GHz of the same node untouched"
    );
    let listed = ok(&d, json!({"v":1,"cmd":"list"}));
    assert_eq!(listed["links"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["links"][0]["node"], json!("sta"));
    let names: Vec<&str> = listed["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["name"].as_str())
        .collect();
    assert!(
        names.contains(&"apn") && names.contains(&"sta"),
        "{names:?}"
    );
    assert!(listed["radios"].as_array().unwrap().len() >= 2, "{listed}");

    // A small attenuation leaves a 3 m link working; clearing removes the entry.
    ok(
        &d,
        json!({"v":1,"cmd":"link","node":"sta","band":"6ghz","attenuation_db":3}),
    );
    assert_eq!(acked_of(&mut p.a, p.ap[1], p.sta[1], 5955, 5, 400), 5);
    ok(
        &d,
        json!({"v":1,"cmd":"link","node":"sta","band":"6ghz","clear":true}),
    );
    assert!(ok(&d, json!({"v":1,"cmd":"list"}))["links"]
        .as_array()
        .unwrap()
        .is_empty());
    let _ = &mut p.b;
}

#[test]
fn a_link_goes_down_and_up_and_loses_a_share_of_frames_on_a_vm_node() {
    let d = Daemon::start("ctl-down");
    let (ap, sta) = radios();
    let mut p = pair(&d, ap, sta);
    let vm_b = ok(&d, json!({"v":1,"cmd":"list"}))["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["vm"].as_u64())
        .max()
        .expect("two VMs listed");
    let node = format!("vm{vm_b}");
    ok(
        &d,
        json!({"v":1,"cmd":"link","node":node,"band":"5180","down":true}),
    );
    assert_eq!(acked_of(&mut p.a, p.ap[0], p.sta[0], 5180, 5, 0), 0, "down");
    assert_eq!(
        acked_of(&mut p.a, p.ap[0], p.sta[0], 5200, 5, 10),
        5,
        "another channel"
    );
    ok(
        &d,
        json!({"v":1,"cmd":"link","node":node,"band":"5180","down":false,"loss_probability":0.3}),
    );
    let n = 200;
    let got = acked_of(&mut p.a, p.ap[0], p.sta[0], 5180, n, 100);
    assert!(
        (120..=160).contains(&got),
        "{got} of {n} acknowledged at loss 0.3"
    );
    ok(
        &d,
        json!({"v":1,"cmd":"link","node":node,"band":"5180","loss_probability":0}),
    );
    assert_eq!(acked_of(&mut p.a, p.ap[0], p.sta[0], 5180, 5, 400), 5, "up");
    let _ = &mut p.b;
}

#[test]
fn position_and_tx_power_move_a_link_out_of_range_and_back() {
    let (ap, sta) = radios();
    let dir = test_dir("ctl-move");
    let cfg = two_band_config(&dir, ap, sta, 20.0);
    let d = Daemon::start_with("ctl-move-d", &["--config", &cfg]);
    let mut p = pair(&d, ap, sta);
    assert_eq!(acked_of(&mut p.a, p.ap[0], p.sta[0], 5180, 5, 0), 5);

    ok(
        &d,
        json!({"v":1,"cmd":"set-position","node":"sta","position":[20000, 0, 0]}),
    );
    assert_eq!(
        acked_of(&mut p.a, p.ap[0], p.sta[0], 5180, 5, 10),
        0,
        "20 km"
    );
    ok(
        &d,
        json!({"v":1,"cmd":"set-position","node":"sta","position":[20, 0, -0.5]}),
    );
    assert_eq!(
        acked_of(&mut p.a, p.ap[0], p.sta[0], 5180, 5, 20),
        5,
        "back"
    );
    let listed = ok(&d, json!({"v":1,"cmd":"list"}));
    let sta_node = listed["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == json!("sta"))
        .cloned()
        .unwrap();
    assert_eq!(sta_node["position"], json!([20.0, 0.0, -0.5]));

    ok(
        &d,
        json!({"v":1,"cmd":"set-tx-power","node":"apn","band":"5ghz","dbm":-30}),
    );
    assert_eq!(
        acked_of(&mut p.a, p.ap[0], p.sta[0], 5180, 5, 30),
        0,
        "-30 dBm at 20 m"
    );
    assert_eq!(
        acked_of(&mut p.a, p.ap[1], p.sta[1], 5955, 5, 40),
        5,
        "6 GHz keeps its power"
    );
    ok(
        &d,
        json!({"v":1,"cmd":"set-tx-power","node":"apn","dbm":20}),
    );
    assert_eq!(acked_of(&mut p.a, p.ap[0], p.sta[0], 5180, 5, 50), 5);
    let _ = &mut p.b;
}

#[test]
fn bad_requests_are_refused_with_a_reason_and_change_nothing() {
    let (ap, sta) = radios();
    let dir = test_dir("ctl-bad");
    let cfg = two_band_config(&dir, ap, sta, 3.0);
    let d = Daemon::start_with("ctl-bad-d", &["--config", &cfg]);
    let before = ok(&d, json!({"v":1,"cmd":"list"}));
    let changes = control_counter(&d, "changes");
    let refusals = control_counter(&d, "refused");
    let cases = [
        (json!({"v":1,"cmd":"teleport"}), "unknown variant"),
        (json!({"cmd":"list"}), "missing \"v\""),
        (json!({"v":2,"cmd":"list"}), "unsupported version"),
        (json!({"v":1}), "missing \"cmd\""),
        (json!([1, 2]), "JSON object"),
        (
            json!({"v":1,"cmd":"link","node":"nobody","band":"5ghz","down":true}),
            "unknown node \"nobody\"",
        ),
        (
            json!({"v":1,"cmd":"link","node":"sta","band":"7ghz","down":true}),
            "band \"7ghz\"",
        ),
        (
            json!({"v":1,"cmd":"link","node":"sta","band":"5ghz","attenuation_db":-1}),
            "outside 0",
        ),
        (
            json!({"v":1,"cmd":"link","node":"sta","band":"5ghz","loss_probability":1.5}),
            "outside 0 ‥ 1",
        ),
        (
            json!({"v":1,"cmd":"link","node":"sta","band":"5ghz","delay_us":2_000_000}),
            "is over 1000000 µs",
        ),
        (
            json!({"v":1,"cmd":"link","node":"sta","band":"5ghz","colour":"red"}),
            "unknown field",
        ),
        (
            json!({"v":1,"cmd":"set-position","node":"sta","position":[1, 2]}),
            "",
        ),
        (
            json!({"v":1,"cmd":"set-position","node":"ghost","position":[1, 2, 3]}),
            "unknown node \"ghost\"",
        ),
        (
            json!({"v":1,"cmd":"set-position","node":"sta","position":[1e9, 0, 0]}),
            "finite number",
        ),
        (
            json!({"v":1,"cmd":"set-tx-power","node":"sta","dbm":99}),
            "outside",
        ),
        (
            json!({"v":1,"cmd":"capture","action":"stop"}),
            "no capture is running",
        ),
        (
            json!({"v":1,"cmd":"capture","action":"rotate","file":"/tmp/x.pcapng"}),
            "no capture is running",
        ),
        (
            json!({"v":1,"cmd":"capture","action":"start","file":"/nonexistent/dir/x.pcapng"}),
            "capture /nonexistent/dir/x.pcapng",
        ),
        (
            json!({"v":1,"cmd":"reload","file":"/nonexistent.toml"}),
            "config",
        ),
    ];
    for (request, expect) in &cases {
        let e = refused(&d, request.clone());
        assert!(e.contains(expect), "{request}: {e:?} lacks {expect:?}");
    }
    assert_eq!(control_counter(&d, "changes"), changes, "nothing changed");
    assert_eq!(
        control_counter(&d, "refused"),
        refusals + cases.len() as u64
    );
    let after = ok(&d, json!({"v":1,"cmd":"list"}));
    assert_eq!(before["nodes"], after["nodes"]);
    assert_eq!(after["links"], json!([]));
    assert!(d.stats()["capture"].is_null(), "no capture was started");

    // The perfect medium has no positions.
    let p = Daemon::start("ctl-bad-perfect");
    let e = refused(
        &p,
        json!({"v":1,"cmd":"set-position","node":"sta","position":[1, 2, 3]}),
    );
    assert!(e.contains("perfect medium"), "{e}");
}

#[test]
fn a_stalled_client_does_not_stall_another_and_one_session_serves_many_requests() {
    let d = Daemon::start("ctl-stall");
    // Half a request, never finished, never read: its thread waits; nobody else does.
    let mut stalled = UnixStream::connect(&d.control).unwrap();
    stalled.write_all(br#"{"v":1,"cmd":"sta"#).unwrap();
    // And one that sends requests but never reads its answers.
    let mut deaf = UnixStream::connect(&d.control).unwrap();
    for _ in 0..200 {
        deaf.write_all(b"{\"v\":1,\"cmd\":\"list\"}\n").unwrap();
    }
    let started = Instant::now();
    let s = UnixStream::connect(&d.control).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    for i in 0..3 {
        (&s).write_all(b"{\"v\":1,\"cmd\":\"stats\"}\n").unwrap();
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .expect("answer while others stall");
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["ok"], json!(true), "request {i}: {line}");
        assert!(v["stats"]["control"]["active"].as_u64().unwrap() >= 3);
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "served in {:?}",
        started.elapsed()
    );
    // The plain-text protocol still answers one line and closes.
    let text = vhost_hwsim::control::request(&d.control, "stats").unwrap();
    assert!(serde_json::from_str::<Value>(&text).unwrap()["radios"].is_array());
    drop(stalled);

    // A client that asks for far more than the socket buffers and never reads is dropped
    // once a write to it has waited 5 s; the others go on meanwhile.
    let flood = std::thread::spawn(move || {
        deaf.set_write_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        for _ in 0..20_000 {
            if deaf.write_all(b"{\"v\":1,\"cmd\":\"stats\"}\n").is_err() {
                break;
            }
        }
        deaf
    });
    eventually("the deaf client is dropped", || {
        control_counter(&d, "dropped_stalled") == 1
    });
    drop(flood.join().unwrap());
}

#[test]
fn malformed_json_and_overlong_lines_drop_the_client_and_are_counted() {
    let d = Daemon::start("ctl-malformed");
    let answer_then_eof = |bytes: &[u8]| -> Value {
        let s = UnixStream::connect(&d.control).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        (&s).write_all(bytes).unwrap();
        let mut all = String::new();
        (&s).read_to_string(&mut all)
            .expect("closed after the answer");
        let mut lines = all.lines();
        let v: Value = serde_json::from_str(lines.next().expect("an answer")).unwrap();
        assert!(lines.next().is_none(), "one answer, then closed: {all}");
        v
    };
    let v = answer_then_eof(b"{\"v\":1, \"cmd\": oops}\n{\"v\":1,\"cmd\":\"list\"}\n");
    assert_eq!(v["ok"], json!(false));
    assert!(v["error"].as_str().unwrap().contains("not JSON"), "{v}");
    let mut long = vec![b'{'];
    long.resize(70 * 1024, b' ');
    long.push(b'\n');
    let v = answer_then_eof(&long);
    assert!(v["error"].as_str().unwrap().contains("longer than"), "{v}");
    let c = &d.stats()["control"];
    assert_eq!(c["dropped_malformed"], json!(1), "{c}");
    assert_eq!(c["dropped_too_long"], json!(1), "{c}");
    // The daemon keeps serving.
    assert_eq!(
        ok(&d, json!({"v":1,"cmd":"list"}))["medium"],
        json!("perfect")
    );
}

fn pcapng_packets(path: &Path) -> usize {
    use pcap_file::pcapng::{Block, PcapNgReader};
    let bytes = std::fs::read(path).expect("capture file");
    let mut reader = PcapNgReader::new(&bytes[..]).expect("a pcapng section");
    let mut packets = 0;
    while let Some(block) = reader.next_block() {
        if let Block::EnhancedPacket(_) = block.expect("every block whole") {
            packets += 1;
        }
    }
    packets
}

#[test]
fn capture_starts_rotates_and_stops_leaving_complete_files() {
    let d = Daemon::start("ctl-capture");
    let (ap, sta) = radios();
    let mut p = pair(&d, ap, sta);
    let first = d.dir().join("first.pcapng");
    let second = d.dir().join("second.pcapng");
    let answer = ok(
        &d,
        json!({"v":1,"cmd":"capture","action":"start","file":first}),
    );
    assert_eq!(answer["started"], json!(first.display().to_string()));
    assert_eq!(acked_of(&mut p.a, p.ap[0], p.sta[0], 5180, 4, 0), 4);
    let answer = ok(
        &d,
        json!({"v":1,"cmd":"capture","action":"rotate","file":second}),
    );
    assert_eq!(answer["previous"]["written"], json!(4), "{answer}");
    assert_eq!(acked_of(&mut p.a, p.ap[0], p.sta[0], 5180, 6, 10), 6);
    let answer = ok(&d, json!({"v":1,"cmd":"capture","action":"stop"}));
    assert_eq!(answer["stopped"]["written"], json!(6), "{answer}");
    assert_eq!(pcapng_packets(&first), 4);
    assert_eq!(pcapng_packets(&second), 6);
    assert!(d.stats()["capture"].is_null(), "stopped");
    // Frames after the stop go nowhere; a new start works again.
    assert_eq!(acked_of(&mut p.a, p.ap[0], p.sta[0], 5180, 2, 20), 2);
    assert_eq!(pcapng_packets(&second), 6);
    let _ = &mut p.b;
}

fn run_ctl(d: &Daemon, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_vhost-hwsim"))
        .arg("ctl")
        .arg("--control")
        .arg(&d.control)
        .args(args)
        .output()
        .expect("run vhost-hwsim ctl")
}

#[test]
fn ctl_cli_sets_links_prints_tables_or_json_and_fails_with_the_daemons_reason() {
    let (ap, sta) = radios();
    let dir = test_dir("ctl-cli");
    let cfg = two_band_config(&dir, ap, sta, 3.0);
    let d = Daemon::start_with("ctl-cli-d", &["--config", &cfg]);
    let out = run_ctl(&d, &["link", "sta", "6ghz", "--attenuation", "20"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("sta 6ghz: attenuation 20.0 dB"), "{text}");
    let out = run_ctl(&d, &["link", "sta", "6ghz", "--down"]);
    assert!(out.status.success(), "{out:?}");

    let out = run_ctl(&d, &["--json", "list"]);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_eq!(v["links"][0]["attenuation_db"], json!(20.0));
    assert_eq!(v["links"][0]["down"], json!(true));

    let out = run_ctl(&d, &["list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("medium: radio"), "{text}");
    assert!(text.contains("impaired links: 1"), "{text}");
    assert!(
        text.contains("sta 6ghz: attenuation 20.0 dB, loss 0.0, delay 0 µs, down"),
        "{text}"
    );

    let out = run_ctl(&d, &["set-position", "sta", "-3", "0", "1.5"]);
    assert!(out.status.success(), "{out:?}");
    let out = run_ctl(&d, &["stats"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("control:"));

    let out = run_ctl(&d, &["link", "nobody", "5ghz", "--up"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown node \"nobody\""), "{err}");
    let out = run_ctl(&d, &["set-tx-power", "sta", "100"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

const AP_TOML: &str = r#"
ssid = "ctl"
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

/// Frames received per frequency during `window`.
fn heard_per_freq(g: &mut Guest, window: Duration) -> std::collections::BTreeMap<u32, usize> {
    let end = Instant::now() + window;
    let mut out = std::collections::BTreeMap::new();
    while Instant::now() < end {
        g.recv_messages(|m| {
            if let Ok(hwsim_frame::DeviceMessage::Frame(f)) = m {
                *out.entry(f.freq.unwrap_or(0)).or_insert(0) += 1;
            }
        });
        let _ = g.wait(Duration::from_millis(10));
    }
    out
}

#[test]
fn the_ap_mlds_6ghz_link_goes_down_while_its_5ghz_link_beacons_on() {
    let dir = test_dir("ctl-ap");
    let ap = dir.join("ap.toml");
    std::fs::write(&ap, AP_TOML).unwrap();
    let d = Daemon::start_with("ctl-ap-d", &["--ap-config", ap.to_str().unwrap()]);
    let mut g = d.guest();
    let r = TestRadio::new(3, 0);
    announce(&mut g, r, r.vif);
    let window = Duration::from_millis(600);
    let before = heard_per_freq(&mut g, window);
    assert!(before.get(&5180).is_some_and(|&n| n >= 2), "{before:?}");
    assert!(before.get(&5975).is_some_and(|&n| n >= 2), "{before:?}");
    ok(
        &d,
        json!({"v":1,"cmd":"link","node":"ap","band":"6ghz","down":true}),
    );
    let _ = heard_per_freq(&mut g, Duration::from_millis(50));
    let down = heard_per_freq(&mut g, window);
    assert!(down.get(&5180).is_some_and(|&n| n >= 2), "{down:?}");
    assert_eq!(down.get(&5975), None, "6 GHz link down: {down:?}");
    ok(
        &d,
        json!({"v":1,"cmd":"link","node":"ap","band":"6ghz","down":false}),
    );
    let up = heard_per_freq(&mut g, window);
    assert!(up.get(&5975).is_some_and(|&n| n >= 2), "{up:?}");
}

#[test]
fn an_added_delay_holds_deliveries_on_the_link_but_not_the_tx_status() {
    let d = Daemon::start("ctl-delay");
    let (ap, sta) = radios();
    let mut p = pair(&d, ap, sta);
    let vm_b = ok(&d, json!({"v":1,"cmd":"list"}))["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["vm"].as_u64())
        .max()
        .unwrap();
    let node = format!("vm{vm_b}");
    let answer = ok(
        &d,
        json!({"v":1,"cmd":"link","node":node,"band":"5ghz","delay_us":250_000}),
    );
    assert_eq!(answer["link"]["delay_us"], json!(250_000));
    let arrival = |p: &mut Pair, cookie: u64| {
        let f = data_frame(p.sta[0].vif, p.ap[0].vif, b"late?");
        let sent = Instant::now();
        send_frame(&mut p.a, p.ap[0], &f, 5180, tx_flags::REQ_TX_STATUS, cookie);
        let status = until(&mut p.a, |g| !statuses(g).is_empty());
        assert!(statuses(&status)[0].acked());
        let status_after = sent.elapsed();
        until(&mut p.b, |g| !frames_for(g, p.sta[0]).is_empty());
        (status_after, sent.elapsed())
    };
    let (status, frame) = arrival(&mut p, 1);
    assert!(
        status < Duration::from_millis(200),
        "status after {status:?}"
    );
    assert!(frame >= Duration::from_millis(250), "frame after {frame:?}");
    assert_eq!(d.vm_counter("deliveries_delayed"), 1);
    assert_eq!(d.stats()["delay_line"]["delivered"], json!(1));
    ok(
        &d,
        json!({"v":1,"cmd":"link","node":node,"band":"5ghz","delay_us":0}),
    );
    let (_, frame) = arrival(&mut p, 2);
    assert!(
        frame < Duration::from_millis(200),
        "undelayed frame after {frame:?}"
    );
}

/// Polls `what` until it holds (10 s at most).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_timeline_in_the_config_steps_and_ramps_a_link_and_restarts_on_reload() {
    let (ap, sta) = radios();
    let dir = test_dir("ctl-timeline");
    let base = two_band_config(&dir, ap, sta, 3.0);
    let mut text = std::fs::read_to_string(&base).unwrap();
    text.push_str(
        r#"
[[event]]
at = "1s"
link = { node = "sta", band = "6ghz", attenuation_db = 150 }
[[event]]
at = "2s"
link = { node = "sta", band = "6ghz", clear = true }
[[event]]
at = "2.5s"
link = { node = "sta", band = "5ghz", attenuation_db = 100 }
ramp = "1.5s"
"#,
    );
    let cfg = dir.join("timeline.toml");
    std::fs::write(&cfg, &text).unwrap();
    let d = Daemon::start_with("ctl-timeline-d", &["--config", cfg.to_str().unwrap()]);
    let mut p = pair(&d, ap, sta);
    let applied = |d: &Daemon| control_counter(d, "timeline_applied");
    let attenuation = |d: &Daemon, band: &str| {
        ok(d, json!({"v":1,"cmd":"list"}))["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["band"]["band"] == json!(band))
            .map(|l| l["attenuation_db"].as_f64().unwrap())
    };
    if applied(&d) == 0 {
        assert_eq!(
            acked_of(&mut p.a, p.ap[1], p.sta[1], 5955, 3, 0),
            3,
            "before"
        );
    }
    eventually("the first event", || applied(&d) >= 1);
    if applied(&d) == 1 {
        assert_eq!(attenuation(&d, "6ghz"), Some(150.0));
        assert_eq!(
            acked_of(&mut p.a, p.ap[1], p.sta[1], 5955, 3, 10),
            0,
            "150 dB"
        );
    }
    eventually("the clear", || applied(&d) >= 2);
    assert_eq!(attenuation(&d, "6ghz"), None, "cleared");
    assert_eq!(
        acked_of(&mut p.a, p.ap[1], p.sta[1], 5955, 3, 20),
        3,
        "after"
    );
    // The ramp passes through values between its ends, then rests at its end.
    let mut seen = Vec::new();
    eventually("the ramp's end", || {
        let a = attenuation(&d, "5ghz");
        seen.extend(a);
        a == Some(100.0)
    });
    assert!(
        seen.iter().any(|&a| a > 5.0 && a < 95.0),
        "intermediate values: {seen:?}"
    );
    assert_eq!(control_counter(&d, "timeline_failed"), 0);
    // A reload restarts the timeline from zero with the file's events.
    let before = applied(&d);
    ok(&d, json!({"v":1,"cmd":"reload"}));
    eventually("the timeline again", || applied(&d) > before);
    let _ = &mut p.b;
}

#[test]
fn a_timeline_event_after_association_waits_for_the_first_successful_association() {
    use vhost_hwsim::mld::build::assoc_response;
    let (ap, sta) = radios();
    let dir = test_dir("ctl-after-assoc");
    let base = two_band_config(&dir, ap, sta, 3.0);
    let mut text = std::fs::read_to_string(&base).unwrap();
    text.push_str(
        r#"
[[event]]
after = "association"
at = "300ms"
link = { node = "sta", band = "6ghz", attenuation_db = 150 }
"#,
    );
    let cfg = dir.join("after-assoc.toml");
    std::fs::write(&cfg, &text).unwrap();
    let d = Daemon::start_with("ctl-after-assoc-d", &["--config", cfg.to_str().unwrap()]);
    let mut p = pair(&d, ap, sta);
    let applied = |d: &Daemon| control_counter(d, "timeline_applied");
    let associations = |d: &Daemon| d.stats()["mld_tracker"]["associations"].as_u64().unwrap();
    // Traffic and a refused association (status 17) are no association.
    assert_eq!(acked_of(&mut p.a, p.ap[1], p.sta[1], 5955, 3, 0), 3);
    let refused = assoc_response(p.ap[0].vif, p.sta[0].vif, 17, &[]);
    send_frame(&mut p.a, p.ap[0], &refused, 5180, 0, 100);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(associations(&d), 0);
    assert_eq!(applied(&d), 0, "nothing before an association");
    let accepted = assoc_response(p.ap[0].vif, p.sta[0].vif, 0, &[]);
    let sent = Instant::now();
    send_frame(&mut p.a, p.ap[0], &accepted, 5180, 0, 101);
    eventually("the association", || associations(&d) == 1);
    eventually("the event", || applied(&d) == 1);
    assert!(
        sent.elapsed() >= Duration::from_millis(300),
        "applied {:?} after the association, before its 300 ms",
        sent.elapsed()
    );
    assert_eq!(
        acked_of(&mut p.a, p.ap[1], p.sta[1], 5955, 3, 10),
        0,
        "150 dB"
    );
    let _ = &mut p.b;
}
