//! `reload` on the control socket and `vhost-hwsim reload`: a new medium config takes effect
//! without restarting the daemon; a broken one is refused with line and column and the medium in
//! force keeps working; reloading while frames flow loses no TX status.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use hwsim_frame::nl::tx_flags;
use hwsim_guest::Guest;

const SETTLE: Duration = Duration::from_millis(150);

/// An AP at the origin and a station `sta_x_m` metres away on 5 GHz.
fn config_text(ap: TestRadio, sta: TestRadio, sta_x_m: u32) -> String {
    format!(
        r#"seed = 3
model = "radio"
path_loss = {{ model = "log_distance", exponent = 3.0 }}
[[node]]
name = "ap"
addresses = ["{}"]
position = [0, 0, 0]
[[node]]
name = "sta"
addresses = ["{}"]
position = [{sta_x_m}, 0, 0]
"#,
        ap.vif, sta.vif
    )
}

/// The same with the station's position cut short: line 11, column 12 is the bad value.
fn broken_config_text(ap: TestRadio, sta: TestRadio) -> String {
    config_text(ap, sta, 3).replace("position = [3, 0, 0]", "position = [3, 0]")
}

fn config_path(dir: &str, name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "vhost-hwsim-reload-{dir}-{name}-{}.toml",
        std::process::id()
    ))
}

fn cli_reload(d: &Daemon, config: Option<&Path>) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_vhost-hwsim"));
    cmd.arg("reload").arg("--control").arg(&d.control);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.output().expect("run vhost-hwsim reload")
}

/// Sends one unicast frame from `ap` to `sta` and returns whether it was acknowledged.
fn unicast_acked(a: &mut Guest, ap: TestRadio, sta: TestRadio, cookie: u64) -> bool {
    let f = data_frame(sta.vif, ap.vif, b"are you there?");
    send_frame(a, ap, &f, 5180, tx_flags::REQ_TX_STATUS, cookie);
    let mine = |g: &Got| matches!(g, Got::Status { cookie: c, .. } if *c == cookie);
    let got = until(a, |g| g.iter().any(mine));
    got.iter().find(|g| mine(g)).is_some_and(Got::acked)
}

fn two_guests(d: &Daemon, ap: TestRadio, sta: TestRadio) -> (Guest, Guest) {
    let mut a = d.guest();
    let mut b = d.guest();
    announce(&mut a, ap, ap.vif);
    announce(&mut b, sta, sta.vif);
    std::thread::sleep(SETTLE);
    (a, b)
}

#[test]
fn reload_moves_a_station_out_of_range_and_refuses_a_broken_config() {
    let (ap, sta) = (TestRadio::new(0, 0), TestRadio::new(1, 0));
    let cfg = config_path("move", "medium");
    std::fs::write(&cfg, config_text(ap, sta, 3)).unwrap();
    let d = Daemon::start_with("reload-move", &["--config", cfg.to_str().unwrap()]);
    let (mut a, _b) = two_guests(&d, ap, sta);
    assert!(unicast_acked(&mut a, ap, sta, 1), "3 m away: acked");

    // A broken file given on the command line is refused with its line and column...
    let broken = config_path("move", "broken");
    std::fs::write(&broken, broken_config_text(ap, sta)).unwrap();
    let out = cli_reload(&d, Some(&broken));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success(), "{stdout} {stderr}");
    assert!(stdout.contains("line 11, column 12"), "{stdout}");
    assert!(stderr.contains("refused") && stderr.contains("line 11, column 12"));
    // ...and the medium in force keeps judging frames.
    assert!(
        unicast_acked(&mut a, ap, sta, 2),
        "old medium still in force"
    );

    // The station moves 10 km away; `reload` without a path re-reads the startup file.
    std::fs::write(&cfg, config_text(ap, sta, 10_000)).unwrap();
    let out = cli_reload(&d, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answer["medium"], "radio", "{answer}");
    assert_eq!(
        answer["reloaded"].as_str().map(Path::new),
        Some(cfg.as_path()),
        "{answer}"
    );
    assert!(!unicast_acked(&mut a, ap, sta, 3), "10 km away: not acked");

    // The same broken text written over the file in force: refused over the socket, the 10 km
    // medium stays.
    std::fs::write(&cfg, broken_config_text(ap, sta)).unwrap();
    let reply = vhost_hwsim::control::request(&d.control, "reload").unwrap();
    let answer: serde_json::Value = serde_json::from_str(&reply).unwrap();
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(error.contains("line 11, column 12"), "{answer}");
    assert!(!unicast_acked(&mut a, ap, sta, 4), "still 10 km away");

    // Back within range through the socket with an explicit path.
    std::fs::write(&cfg, config_text(ap, sta, 3)).unwrap();
    let reply =
        vhost_hwsim::control::request(&d.control, &format!("reload {}", cfg.display())).unwrap();
    assert!(reply.contains("\"reloaded\""), "{reply}");
    assert!(unicast_acked(&mut a, ap, sta, 5), "back within range");
    let _ = std::fs::remove_file(cfg);
    let _ = std::fs::remove_file(broken);
}

#[test]
fn reload_without_a_config_to_read_is_refused_and_the_perfect_medium_stays() {
    let (ap, sta) = (TestRadio::new(0, 0), TestRadio::new(1, 0));
    let d = Daemon::start("reload-none");
    let (mut a, _b) = two_guests(&d, ap, sta);
    let out = cli_reload(&d, None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--config"));
    let missing = config_path("none", "missing");
    let out = cli_reload(&d, Some(&missing));
    assert!(!out.status.success());
    assert_eq!(d.stats()["medium"], "perfect");
    assert!(unicast_acked(&mut a, ap, sta, 1));
}

#[test]
fn reloading_while_frames_flow_gives_every_frame_one_status() {
    const MIN_ROUNDS: u64 = 40;
    const MIN_RELOADS: usize = 6;
    const BURST: u64 = 16;
    let (ap, sta) = (TestRadio::new(0, 0), TestRadio::new(1, 0));
    let (near, far) = (config_path("flow", "near"), config_path("flow", "far"));
    std::fs::write(&near, config_text(ap, sta, 3)).unwrap();
    std::fs::write(&far, config_text(ap, sta, 10_000)).unwrap();
    let d = Daemon::start_with("reload-flow", &["--config", near.to_str().unwrap()]);
    let (mut a, mut b) = two_guests(&d, ap, sta);

    // Alternates far and near until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let reloads = Arc::new(AtomicUsize::new(0));
    let reloader = {
        let (stop, reloads, control) = (Arc::clone(&stop), Arc::clone(&reloads), d.control.clone());
        let files = [far.clone(), near.clone()];
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let file = &files[reloads.load(Ordering::Relaxed) % 2];
                let request = format!("reload {}", file.display());
                let reply = vhost_hwsim::control::request(&control, &request).unwrap();
                assert!(reply.contains("\"reloaded\""), "{reply}");
                reloads.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    let (mut sent, mut acked, mut statuses_seen) = (0u64, 0u64, 0u64);
    let f = data_frame(sta.vif, ap.vif, b"during reloads");
    let deadline = Instant::now() + Duration::from_secs(30);
    while sent < MIN_ROUNDS * BURST || reloads.load(Ordering::Relaxed) < MIN_RELOADS {
        assert!(Instant::now() < deadline, "{sent} frames, reloads stalled");
        for _ in 0..BURST {
            send_frame(&mut a, ap, &f, 5180, tx_flags::REQ_TX_STATUS, sent);
            sent += 1;
        }
        let got = until(&mut a, |g| statuses(g).len() as u64 >= BURST);
        let st = statuses(&got);
        statuses_seen += st.len() as u64;
        acked += st.iter().filter(|s| s.acked()).count() as u64;
        let _ = b.recv_with(|_| {});
    }
    stop.store(true, Ordering::Relaxed);
    reloader.join().expect("reloader");
    statuses_seen += statuses(&drain(&mut a, SETTLE)).len() as u64;

    assert_eq!(statuses_seen, sent, "one status per frame");
    assert!(
        acked > 0 && acked < sent,
        "both mediums judged frames: {acked} of {sent} acked"
    );
    assert!(d.vm_counter("tx_frames") >= sent);
    let _ = std::fs::remove_file(near);
    let _ = std::fs::remove_file(far);
}
