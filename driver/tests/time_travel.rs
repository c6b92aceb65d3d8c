//! The daemon under `--time-travel` with `hwsim-guest` frontends (which are no time-travel
//! participants): the medium clock takes its time from the controller, so frames need their
//! airtime in simulated time, the simulated time reached depends on the frames alone (two
//! daemons fed the same frames end at the same nanosecond), the capture is stamped with each
//! PPDU's simulated start, and the in-band notification feature is offered only under
//! `--time-travel`.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use hwsim_frame::nl::tx_flags;
use hwsim_radio::airtime::{ack_duration_ns, aifs_us, ppdu_duration_ns, sifs_us};
use hwsim_radio::band::Band;
use hwsim_radio::rates::TxVector;
use hwsim_timetravel::wire::{Message, Op, MESSAGE_LEN, NO_TIME};
use vhost::vhost_user::message::VhostUserProtocolFeatures;
use vhost::vhost_user::{Frontend, VhostUserFrontend};
use vhost::VhostBackend;

const N: usize = 40;
const PAYLOAD: usize = 1500;

/// As in `airtime.rs`: co-located radios, 40 dB links, legacy OFDM 54 Mb/s.
const CONFIG: &str = r#"
seed = 3
model = "radio"
time_mode = "airtime"
default_snr_db = 40
[defaults.5g]
max_format = "ofdm"
max_nss = 1
max_width = 20
"#;

fn start(name: &str) -> Daemon {
    start_with(name, &[])
}

fn start_with(name: &str, extra: &[&str]) -> Daemon {
    start_config(name, CONFIG, extra).0
}

/// A daemon under `--time-travel` with medium config `config`, once its time socket (the
/// path returned) exists.
fn start_config(name: &str, config: &str, extra: &[&str]) -> (Daemon, PathBuf) {
    let dir = test_dir(&format!("{name}-files"));
    let cfg = dir.join("medium.toml");
    std::fs::write(&cfg, config).unwrap();
    let time = dir.join("time.sock");
    let mut args = vec![
        "--config",
        cfg.to_str().unwrap(),
        "--time-travel",
        time.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let d = Daemon::start_with(name, &args);
    wait_for_path(&time);
    (d, time)
}

fn simulated_now(d: &Daemon) -> u64 {
    d.stats()["time_travel"]["now_ns"]
        .as_u64()
        .expect("stats has time_travel.now_ns")
}

/// Sends N frames from one radio to another and waits for all of them and their statuses;
/// returns the simulated time reached.
fn send_n(d: &Daemon) -> u64 {
    let (a, r) = (TestRadio::new(1, 0), TestRadio::new(2, 0));
    let mut ga = d.guest();
    let mut gr = d.guest();
    announce(&mut ga, a, a.vif);
    announce(&mut gr, r, r.vif);
    std::thread::sleep(Duration::from_millis(100));
    let before = simulated_now(d);
    assert_eq!(before, 0, "nothing timed yet: simulated time stands at 0");
    let payload = vec![0x5au8; PAYLOAD];
    for i in 0..N {
        let f = data_frame(r.vif, a.vif, &payload);
        send_frame(
            &mut ga,
            a,
            &f,
            5180,
            tx_flags::REQ_TX_STATUS,
            100 + i as u64,
        );
    }
    let got = until(&mut gr, |g| frames_for(g, r).len() >= N);
    assert_eq!(frames_for(&got, r).len(), N);
    let st = until(&mut ga, |g| statuses(g).len() >= N);
    assert_eq!(statuses(&st).iter().filter(|s| s.acked()).count(), N);
    simulated_now(d)
}

#[test]
fn frames_take_their_airtime_in_simulated_time_and_the_same_frames_end_at_the_same_time() {
    let d1 = start("tt-airtime-1");
    let t1 = send_n(&d1);
    let ppdu = ppdu_duration_ns(
        &TxVector::ofdm(7).unwrap(),
        24 + PAYLOAD as u32 + 4,
        Band::Band5G,
    );
    // N frames back to back cannot take less than N PPDUs; each also waits AIFS, backoff,
    // SIFS and the ACK (16 + 34 µs + ≤ 15 slots of 9 µs + 16 µs + ACK ≈ 44 µs): far below 2×.
    assert!(t1 >= N as u64 * ppdu, "{t1} ns for {N} PPDUs of {ppdu} ns");
    assert!(
        t1 < 2 * N as u64 * ppdu,
        "{t1} ns for {N} PPDUs of {ppdu} ns"
    );
    // Nothing else is scheduled: time stands still once the last status is out.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(simulated_now(&d1), t1, "time moved without events");
    // A second daemon, the same frames: the same simulated end, to the nanosecond (on the
    // host's clock the end would follow the wall time the frames happened to arrive at).
    let d2 = start("tt-airtime-2");
    let t2 = send_n(&d2);
    assert_eq!(t1, t2);
    for d in [&d1, &d2] {
        let c = &d.stats()["time_travel"]["counters"];
        assert_eq!(c["settle_timeouts"], 0, "no wait gave up");
        assert_eq!(c["violations"], 0);
    }
    eprintln!("time travel: {N} frames of PPDU {ppdu} ns ended at {t1} ns simulated");
}

#[test]
fn the_capture_is_stamped_with_each_ppdu_start_in_simulated_time() {
    use pcap_file::pcapng::{Block, PcapNgReader};
    let file = test_dir("tt-capture-out").join("air.pcapng");
    let mut d = start_with("tt-capture", &["--capture", file.to_str().unwrap()]);
    let end = send_n(&d);
    assert!(d.terminate().success());
    let bytes = std::fs::read(&file).expect("capture written");
    let mut reader = PcapNgReader::new(&bytes[..]).expect("a pcapng section");
    let mut starts = Vec::new();
    while let Some(block) = reader.next_block() {
        if let Block::EnhancedPacket(epb) = block.expect("well-formed block") {
            starts.push(epb.timestamp.as_nanos() as u64);
        }
    }
    assert_eq!(starts.len(), N, "one packet per frame");
    let v = TxVector::ofdm(7).unwrap();
    let ppdu = ppdu_duration_ns(&v, 24 + PAYLOAD as u32 + 4, Band::Band5G);
    // One sender: each PPDU waits for the previous one's ACK, then at least AIFS (AIFSN 2 is
    // the shortest, the voice and video categories; data without QoS waits AIFSN 3).
    let sifs = sifs_us(Band::Band5G) * 1000;
    let exchange = ppdu + sifs + ack_duration_ns(&v, Band::Band5G);
    let aifs_min = aifs_us(Band::Band5G, true, 2) * 1000;
    let tod = 1_767_225_600 * 1_000_000_000u64;
    for w in starts.windows(2) {
        assert!(
            w[1] >= w[0] + exchange + aifs_min,
            "PPDU at {} ns starts {} ns after the one at {} ns; the exchange takes {exchange} ns \
             and AIFS at least {aifs_min} ns",
            w[1] - tod,
            w[1] - w[0],
            w[0] - tod
        );
    }
    // The last exchange ends at the simulated time reached (its status is the last event).
    let last = *starts.last().unwrap() - tod;
    assert_eq!(
        last + exchange,
        end,
        "the last PPDU's exchange ends when time stops"
    );
}

fn offered_protocol_features(socket: &Path) -> VhostUserProtocolFeatures {
    let stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
    let mut fe = Frontend::from_stream(stream, 2);
    fe.set_owner().unwrap();
    let _ = fe.get_features().unwrap();
    fe.get_protocol_features().unwrap()
}

#[test]
fn in_band_notifications_are_offered_only_under_time_travel() {
    let wall = Daemon::start("tt-features-wall");
    let f = offered_protocol_features(&wall.socket);
    assert!(
        f.contains(VhostUserProtocolFeatures::REPLY_ACK | VhostUserProtocolFeatures::BACKEND_REQ)
    );
    assert!(!f.contains(VhostUserProtocolFeatures::INBAND_NOTIFICATIONS));
    let tt = start("tt-features-tt");
    let f = offered_protocol_features(&tt.socket);
    assert!(f.contains(VhostUserProtocolFeatures::INBAND_NOTIFICATIONS));
}

/// A time-travel participant that speaks like `arch/um/kernel/time.c` (every request waits
/// for its ACK; RUN, FREE_UNTIL and BROADCAST are ACKed as they arrive), without shared memory.
struct FakeGuest {
    stream: std::os::unix::net::UnixStream,
    seq: u32,
}

impl FakeGuest {
    fn start(path: &Path, id: u64) -> FakeGuest {
        let stream = std::os::unix::net::UnixStream::connect(path).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut g = FakeGuest { stream, seq: 0 };
        // The START ACK carries the shared-memory descriptors; reading it without ancillary
        // space discards them: this guest does not use shared memory.
        g.call(Op::Start, id);
        g
    }

    fn recv(&mut self) -> Message {
        let mut buf = [0u8; MESSAGE_LEN];
        self.stream.read_exact(&mut buf).unwrap();
        Message::from_bytes(&buf)
    }

    fn ack_if_due(&mut self, msg: Message) {
        if matches!(msg.op, Op::Run | Op::FreeUntil | Op::Broadcast) {
            self.stream
                .write_all(&Message::ack(msg.seq, 0).emit())
                .unwrap();
        }
    }

    fn call(&mut self, op: Op, time: u64) {
        self.seq += 1;
        let seq = self.seq;
        self.stream
            .write_all(&Message::new(op, seq, time).emit())
            .unwrap();
        loop {
            let msg = self.recv();
            if msg.op == Op::Ack && msg.seq == seq {
                return;
            }
            self.ack_if_due(msg);
        }
    }

    /// Sleeps until `at` (simulated): REQUEST, WAIT, then the RUN; returns the RUN's time.
    fn sleep_until(&mut self, at: u64) -> u64 {
        self.call(Op::Request, at);
        self.call(Op::Wait, NO_TIME);
        loop {
            let msg = self.recv();
            self.ack_if_due(msg);
            if msg.op == Op::Run {
                return msg.time;
            }
        }
    }
}

#[test]
fn timeline_events_fire_at_their_simulated_times_under_time_travel() {
    let config = format!(
        "{CONFIG}
[[node]]
name = \"sta\"
addresses = [\"02:00:00:0b:00:00\"]
position = [0, 0, 0]
[[event]]
at = \"1s\"
link = {{ node = \"sta\", band = \"5ghz\", attenuation_db = 10 }}
[[event]]
at = \"5s\"
link = {{ node = \"sta\", band = \"5ghz\", attenuation_db = 20 }}
"
    );
    let (d, time) = start_config("tt-timeline", &config, &[]);
    let applied = |d: &Daemon| d.stats()["control"]["timeline_applied"].as_u64().unwrap();
    let wall = std::time::Instant::now();
    let mut guest = FakeGuest::start(&time, 1);
    // The timeline asks for its turns once a guest takes part: give it a moment (wall time;
    // simulated time stands while this guest runs without waiting).
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(guest.sleep_until(3_000_000_000), 3_000_000_000);
    assert_eq!(applied(&d), 1, "the 1 s event, not yet the 5 s one");
    assert_eq!(guest.sleep_until(6_000_000_000), 6_000_000_000);
    assert_eq!(applied(&d), 2, "both events by 6 s");
    // On the host's clock the 5 s event could not have fired yet.
    assert!(
        wall.elapsed() < Duration::from_secs(4),
        "{:?}",
        wall.elapsed()
    );
    assert_eq!(d.stats()["control"]["timeline_failed"], 0);
}

/// The delay line runs on the host's clock, so under virtual time an added delay is refused
/// (clearly, and nothing changes); the other link impairments are accepted.
#[test]
fn an_added_delay_is_refused_under_time_travel() {
    let instant = CONFIG.replace("time_mode = \"airtime\"\n", "");
    let config = format!(
        "{instant}[[node]]\nname = \"sta\"\naddresses = [\"02:00:00:0b:00:00\"]\n\
         position = [0, 0, 0]\n"
    );
    let (d, _time) = start_config("tt-delay", &config, &[]);
    let ask = |req: serde_json::Value| {
        vhost_hwsim::control::request_json(&d.control, &req).expect("control request")
    };
    let refused = ask(
        serde_json::json!({"v": 1, "cmd": "link", "node": "sta", "band": "5ghz",
        "delay_us": 2000}),
    );
    assert_eq!(refused["ok"], false, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap_or("")
            .contains("--time-travel"),
        "{refused}"
    );
    let list = ask(serde_json::json!({"v": 1, "cmd": "list"}));
    assert_eq!(
        list["links"],
        serde_json::json!([]),
        "nothing changed: {list}"
    );
    let ok = ask(
        serde_json::json!({"v": 1, "cmd": "link", "node": "sta", "band": "5ghz",
        "attenuation_db": 10}),
    );
    assert_eq!(ok["ok"], true, "{ok}");
}
