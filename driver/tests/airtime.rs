//! The airtime mode through the daemon binary: one link's throughput is bounded by its
//! synthesised rate's airtime, two senders on one channel share it, senders on different
//! channels do not slow each other.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hwsim_frame::nl::tx_flags;
use hwsim_frame::MacAddr;
use hwsim_radio::airtime::ppdu_duration_ns;
use hwsim_radio::band::Band;
use hwsim_radio::rates::TxVector;

/// Frames per sender and phase.
const N: usize = 150;
const PAYLOAD: usize = 1500;

/// Every radio is unlisted: co-located, every link at a fixed 40 dB SNR, capped at legacy OFDM
/// so the rate is 54 Mb/s and a frame's airtime is long enough to measure.
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

fn sender_of(g: &Got) -> Option<MacAddr> {
    match g {
        Got::Frame { frame, .. } if frame.len() >= 16 => {
            let mut a = [0u8; 6];
            a.copy_from_slice(&frame[10..16]);
            Some(MacAddr(a))
        }
        _ => None,
    }
}

/// A QoS data frame (TID 0) from `src` to `dst`.
fn qos_data_frame(dst: MacAddr, src: MacAddr, payload: &[u8]) -> Vec<u8> {
    let mut f = data_frame(dst, src, &[]);
    f[0] = 0x88;
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

/// Sends `N` frames from each (guest, radio, freq), interleaved, all to `to`; waits until `to`
/// received them all and every sender has its statuses. Returns the elapsed time and the order
/// in which `to` received frames (by sender address).
fn run_phase(
    senders: &mut [(&mut hwsim_guest::Guest, TestRadio, u32)],
    rx: &mut hwsim_guest::Guest,
    to: TestRadio,
    cookie_base: u64,
) -> (Duration, Vec<MacAddr>) {
    run_frames(senders, rx, to, cookie_base, data_frame)
}

fn run_frames(
    senders: &mut [(&mut hwsim_guest::Guest, TestRadio, u32)],
    rx: &mut hwsim_guest::Guest,
    to: TestRadio,
    cookie_base: u64,
    make: fn(MacAddr, MacAddr, &[u8]) -> Vec<u8>,
) -> (Duration, Vec<MacAddr>) {
    let payload = vec![0x5au8; PAYLOAD];
    let start = Instant::now();
    for i in 0..N {
        for (g, r, freq) in senders.iter_mut() {
            let f = make(to.vif, r.vif, &payload);
            send_frame(
                g,
                *r,
                &f,
                *freq,
                tx_flags::REQ_TX_STATUS,
                cookie_base + i as u64,
            );
        }
    }
    let total = N * senders.len();
    let got = until(rx, |g| frames_for(g, to).len() >= total);
    let elapsed = start.elapsed();
    for (g, _, _) in senders.iter_mut() {
        let st = until(g, |g| statuses(g).len() >= N);
        let acked = statuses(&st).iter().filter(|s| s.acked()).count();
        assert_eq!(acked, N, "every frame acknowledged on a clean link");
    }
    let order = got.iter().filter_map(sender_of).collect();
    (elapsed, order)
}

#[test]
fn airtime_bounds_and_shares_throughput() {
    let cfg = std::env::temp_dir().join(format!("vhost-hwsim-airtime-{}.toml", std::process::id()));
    std::fs::write(&cfg, CONFIG).unwrap();
    let d = Daemon::start_with("airtime", &["--config", cfg.to_str().unwrap()]);
    let (a, b, r) = (
        TestRadio::new(1, 0),
        TestRadio::new(2, 0),
        TestRadio::new(3, 0),
    );
    let mut ga = d.guest();
    let mut gb = d.guest();
    let mut gr = d.guest();
    announce(&mut ga, a, a.vif);
    announce(&mut gb, b, b.vif);
    announce(&mut gr, r, r.vif);
    std::thread::sleep(Duration::from_millis(150));

    // 24 B header + 1500 B + FCS at 54 Mb/s.
    let psdu = 24 + PAYLOAD as u32 + 4;
    let ppdu = Duration::from_nanos(ppdu_duration_ns(
        &TxVector::ofdm(7).unwrap(),
        psdu,
        Band::Band5G,
    ));

    // One sender: N frames cannot take less than N PPDUs.
    let (alone, _) = run_phase(&mut [(&mut ga, a, 5180)], &mut gr, r, 1_000);
    assert!(
        alone >= ppdu * N as u32,
        "{N} frames in {alone:?}, PPDU {ppdu:?}"
    );

    // Two senders on one channel hear each other and share it: together they take at least
    // 2N PPDUs, and while both have frames each gets about half.
    let busy_before = d.vm_counter("air_busy_us");
    let (same, order) = run_phase(
        &mut [(&mut ga, a, 5180), (&mut gb, b, 5180)],
        &mut gr,
        r,
        2_000,
    );
    // Simulated channel time both senders used, back to back on the one channel.
    let same_busy = Duration::from_micros(d.vm_counter("air_busy_us") - busy_before);
    assert!(same >= same_busy, "{same:?} wall, {same_busy:?} on air");
    assert!(same >= ppdu * 2 * N as u32, "{same:?}");
    let first_half_from_a = order[..N].iter().filter(|s| **s == a.vif).count();
    assert!(
        (N * 3 / 10..=N * 7 / 10).contains(&first_half_from_a),
        "{first_half_from_a} of the first {N} frames from one sender"
    );

    // On different channels (36 and 48) they do not wait for each other: the same frames take
    // clearly less time than on one channel. Wall-clock, so the best of three runs (a loaded
    // host only ever makes a run slower, which for `same` only widens the gap).
    let apart = (0..3)
        .map(|i| {
            run_phase(
                &mut [(&mut ga, a, 5180), (&mut gb, b, 5240)],
                &mut gr,
                r,
                3_000 + 1_000 * i,
            )
            .0
        })
        .min()
        .unwrap();
    assert!(
        apart * 4 < same * 3,
        "different channels {apart:?}, one channel {same:?} ({same_busy:?} on air), alone {alone:?}"
    );
    eprintln!(
        "airtime: PPDU {ppdu:?}; {N} frames alone {alone:?}, 2×{N} on one channel {same:?} \
         ({first_half_from_a} of the first {N} from one sender), on two channels {apart:?}"
    );
    assert_eq!(d.vm_counter("air_dropped"), 0);
    assert_eq!(d.vm_counter("air_queued") as usize, 9 * N);
    let _ = std::fs::remove_file(cfg);
}

/// With an HT link, QoS data frames waiting behind one another leave in A-MPDUs (one preamble,
/// one Block Ack): the same frames go much faster than as single MPDUs, and still no faster
/// than their data symbols allow.
#[test]
fn queued_qos_data_is_aggregated() {
    let cfg = std::env::temp_dir().join(format!(
        "vhost-hwsim-airtime-ampdu-{}.toml",
        std::process::id()
    ));
    std::fs::write(
        &cfg,
        CONFIG
            .replace("\"ofdm\"", "\"ht\"")
            .replace("time_mode", "# HT MCS 7, 20 MHz, 1 SS: 65 Mb/s\ntime_mode"),
    )
    .unwrap();
    let d = Daemon::start_with("airtime-ampdu", &["--config", cfg.to_str().unwrap()]);
    let (a, r) = (TestRadio::new(1, 0), TestRadio::new(3, 0));
    let mut ga = d.guest();
    let mut gr = d.guest();
    announce(&mut ga, a, a.vif);
    announce(&mut gr, r, r.vif);
    std::thread::sleep(Duration::from_millis(150));

    // Simulated channel time, read from the daemon: wall-clock figures would depend on how
    // promptly a loaded host runs the clock thread.
    let busy = |d: &Daemon| Duration::from_micros(d.vm_counter("air_busy_us"));
    let before = busy(&d);
    let (single_wall, _) = run_frames(&mut [(&mut ga, a, 5180)], &mut gr, r, 1_000, data_frame);
    let single = busy(&d) - before;
    assert_eq!(
        d.vm_counter("air_ampdu_followers"),
        0,
        "non-QoS data is never aggregated"
    );
    let before = busy(&d);
    let (aggregated_wall, _) =
        run_frames(&mut [(&mut ga, a, 5180)], &mut gr, r, 2_000, qos_data_frame);
    let aggregated = busy(&d) - before;
    let followers = d.vm_counter("air_ampdu_followers");
    // No faster than the MPDUs' bits at 65 Mb/s: 8 × 1530 / 65 µs each.
    let data_bits = Duration::from_nanos(8 * 1530 * 1_000 / 65);
    eprintln!(
        "A-MPDU: {N} single MPDUs {single:?} on air ({single_wall:?} wall), {N} QoS MPDUs \
         {aggregated:?} on air ({aggregated_wall:?} wall), {followers} rode behind another"
    );
    assert!(followers as usize > N / 2, "{followers} of {N} aggregated");
    assert!(aggregated >= data_bits * N as u32, "{aggregated:?}");
    assert!(
        aggregated_wall >= data_bits * N as u32,
        "{aggregated_wall:?}"
    );
    // One preamble and one Block Ack per A-MPDU instead of a preamble, SIFS and ACK per MPDU.
    assert!(
        aggregated * 10 < single * 8,
        "aggregated {aggregated:?} vs single {single:?}"
    );
    let _ = std::fs::remove_file(cfg);
}

/// Reloading an instant config while frames wait for the air lets them all out at once, each
/// with exactly one TX status.
#[test]
fn reload_to_instant_releases_waiting_frames() {
    let dir = std::env::temp_dir();
    let slow = dir.join(format!(
        "vhost-hwsim-airtime-slow-{}.toml",
        std::process::id()
    ));
    let fast = dir.join(format!(
        "vhost-hwsim-airtime-fast-{}.toml",
        std::process::id()
    ));
    // 6 Mb/s: about 2 ms of air per 1500 B frame, so N frames need ≥ 0.3 s.
    std::fs::write(
        &slow,
        CONFIG.replace(
            "max_format = \"ofdm\"",
            "max_format = \"ofdm\"\nmax_mcs = 0",
        ),
    )
    .unwrap();
    std::fs::write(
        &fast,
        CONFIG.replace("time_mode = \"airtime\"", "time_mode = \"instant\""),
    )
    .unwrap();
    let d = Daemon::start_with("airtime-reload", &["--config", slow.to_str().unwrap()]);
    let (a, r) = (TestRadio::new(1, 0), TestRadio::new(3, 0));
    let mut ga = d.guest();
    let mut gr = d.guest();
    announce(&mut ga, a, a.vif);
    announce(&mut gr, r, r.vif);
    std::thread::sleep(Duration::from_millis(150));
    let payload = vec![0x11u8; PAYLOAD];
    for i in 0..N {
        let f = data_frame(r.vif, a.vif, &payload);
        send_frame(&mut ga, a, &f, 5180, tx_flags::REQ_TX_STATUS, i as u64);
    }
    std::thread::sleep(Duration::from_millis(20));
    let text = vhost_hwsim::control::request(&d.control, &format!("reload {}", fast.display()))
        .expect("reload");
    assert!(text.contains("reloaded"), "{text}");
    let released = Instant::now();
    let got = until(&mut ga, |g| statuses(g).len() >= N);
    let early = released.elapsed();
    let got = [got, drain(&mut ga, Duration::from_millis(200))].concat();
    let mut cookies: Vec<u64> = got
        .iter()
        .filter_map(|g| match g {
            Got::Status { cookie, .. } => Some(*cookie),
            _ => None,
        })
        .collect();
    cookies.sort_unstable();
    assert_eq!(
        cookies,
        (0..N as u64).collect::<Vec<_>>(),
        "one status per frame"
    );
    assert!(
        early < Duration::from_millis(250),
        "waiting frames released at once, took {early:?}"
    );
    let _ = (std::fs::remove_file(slow), std::fs::remove_file(fast));
}

/// Two senders that cannot hear each other (hidden nodes) overlap at a receiver between them:
/// receptions are lost to collisions and retried, every frame still gets one status. The same
/// senders hearing each other never collide.
#[test]
fn hidden_nodes_collide_at_the_receiver() {
    let (collisions, retries) = two_senders_around_a_receiver(40.0, None);
    assert!(collisions > 0 && retries > 0, "{collisions} {retries}");
    assert_eq!(two_senders_around_a_receiver(0.0, None), (0, 0));
}

/// Attenuation set at run time through the control API reaches carrier sense too: 10 dB on
/// one sender's 5 GHz link puts the pair (which hear each other at about −80 dBm) below the
/// −82 dBm CCA threshold, so they become hidden from each other and collide at the receiver.
#[test]
fn a_link_attenuated_at_run_time_is_sensed_less() {
    let (collisions, retries) = two_senders_around_a_receiver(0.0, Some(10.0));
    assert!(
        collisions > 0 && retries > 0,
        "b's link 10 dB down, yet the senders still defer to each other: {collisions} \
         collisions, {retries} retries"
    );
}

/// Senders 30 m either side of a receiver, `extra_loss_db` between them: at 60 m with path loss
/// exponent 3 they hear each other at about −80 dBm, just above the −82 dBm CCA threshold; 40 dB
/// more makes them hidden. `runtime_db`: attenuation of sender b's 5 GHz link, set through the
/// control API once the guests are up. Returns (collisions, retries).
fn two_senders_around_a_receiver(extra_loss_db: f64, runtime_db: Option<f64>) -> (u64, u64) {
    let (a, b, r) = (
        TestRadio::new(1, 0),
        TestRadio::new(2, 0),
        TestRadio::new(3, 0),
    );
    let cfg = std::env::temp_dir().join(format!(
        "vhost-hwsim-airtime-hidden-{extra_loss_db}-{runtime_db:?}-{}.toml",
        std::process::id()
    ));
    std::fs::write(
        &cfg,
        format!(
            r#"
seed = 5
model = "radio"
time_mode = "airtime"
path_loss = {{ model = "log_distance", exponent = 3.0 }}
[defaults.5g]
max_format = "ofdm"
max_nss = 1
max_width = 20
[[node]]
name = "a"
addresses = ["{}"]
position = [0, 0, 0]
[[node]]
name = "r"
addresses = ["{}"]
position = [30, 0, 0]
[[node]]
name = "b"
addresses = ["{}"]
position = [60, 0, 0]
[[link]]
between = ["a", "b"]
extra_loss_db = {extra_loss_db}
"#,
            a.vif, r.vif, b.vif
        ),
    )
    .unwrap();
    let d = Daemon::start_with(
        &format!("airtime-hidden-{extra_loss_db}-{runtime_db:?}"),
        &["--config", cfg.to_str().unwrap()],
    );
    let mut ga = d.guest();
    let mut gb = d.guest();
    let mut gr = d.guest();
    announce(&mut ga, a, a.vif);
    announce(&mut gb, b, b.vif);
    announce(&mut gr, r, r.vif);
    std::thread::sleep(Duration::from_millis(150));
    if let Some(db) = runtime_db {
        let answer = vhost_hwsim::control::request_json(
            &d.control,
            &serde_json::json!({"v": 1, "cmd": "link", "node": "b", "band": "5ghz",
                "attenuation_db": db}),
        )
        .expect("control request");
        assert_eq!(answer["ok"], true, "{answer}");
    }
    let payload = vec![0x22u8; PAYLOAD];
    const FRAMES: usize = 40;
    for i in 0..FRAMES {
        for (g, s) in [(&mut ga, a), (&mut gb, b)] {
            let f = data_frame(r.vif, s.vif, &payload);
            send_frame(g, s, &f, 5180, tx_flags::REQ_TX_STATUS, i as u64);
        }
    }
    let mut acked_statuses = 0;
    let mut attempts_reported = 0;
    for g in [&mut ga, &mut gb] {
        let got = until(g, |g| statuses(g).len() >= FRAMES);
        let got = [got, drain(g, Duration::from_millis(100))].concat();
        assert_eq!(statuses(&got).len(), FRAMES, "one status per frame");
        acked_statuses += statuses(&got).iter().filter(|s| s.acked()).count() as u64;
        attempts_reported += statuses(&got)
            .iter()
            .map(|s| match s {
                Got::Status { tx_info, .. } => tx_info
                    .iter()
                    .take_while(|r| r.idx >= 0)
                    .map(|r| u64::from(r.count))
                    .sum::<u64>(),
                _ => 0,
            })
            .sum::<u64>();
    }
    let (collisions, retries) = (d.vm_counter("air_collisions"), d.vm_counter("air_retries"));
    // The senders' link counters tell what the air did: every frame once, acknowledged as
    // the statuses say, with the attempts the statuses report.
    let stats = d.stats();
    let links: Vec<&serde_json::Value> = stats["radios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["links"].as_array().unwrap())
        .collect();
    let sum = |field: &str| {
        links
            .iter()
            .map(|l| l[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum("frames"), 2 * FRAMES as u64, "{stats}");
    assert_eq!(sum("acked"), acked_statuses, "{stats}");
    assert_eq!(sum("acked") + sum("lost"), 2 * FRAMES as u64, "{stats}");
    assert_eq!(
        sum("frames") + sum("retries"),
        attempts_reported,
        "attempts counted on the links vs reported to the guests: {stats}"
    );
    eprintln!(
        "senders {extra_loss_db} dB apart, b's link {runtime_db:?} dB down: {collisions} \
         receptions lost to collisions, {retries} retries"
    );
    let _ = std::fs::remove_file(cfg);
    (collisions, retries)
}
