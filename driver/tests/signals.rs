//! Every signal that ends the daemon (SIGTERM, SIGINT, SIGQUIT) leaves a complete pcapng: every
//! record it queued written, every block whole, and tshark reads the file without complaint.
//! SIGHUP ends nothing: it reloads the medium config (with `--config`) and flushes the capture,
//! so the file is complete on disk at that moment, and the daemon goes on. In `demo`, a signal
//! ends the traffic early and the demo finishes as usual, its capture complete.
//!
//! Each test runs a served daemon with `--capture` and two guests, one of them sending frames in
//! bursts the whole time, so the capture writer is busy when the signal comes. The file is
//! checked three ways: a walk over its block lengths (the blocks tile the file exactly),
//! `pcap-file`'s reader, and tshark. Without tshark the tests say SKIPPED, except under CI
//! (`CI=true`), where they fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use common::*;
use pcap_file::pcapng::{Block, PcapNgReader};

/// How long a daemon may take to write its capture and exit after a signal.
const EXIT_WAIT: Duration = Duration::from_secs(20);

/// A guest sending 600-byte frames from one radio to another guest's radio, in bursts that fill
/// its TX ring, until stopped; both guests' RX is drained so nothing backs up.
struct Traffic {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<u64>>,
}

impl Traffic {
    fn start(d: &Daemon) -> Traffic {
        let (mut a, mut b) = (d.guest(), d.guest());
        let (ra, rb) = (TestRadio::new(1, 0), TestRadio::new(2, 0));
        announce(&mut a, ra, ra.vif);
        announce(&mut b, rb, rb.vif);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let frame = data_frame(rb.vif, ra.vif, &[0x5a; 600]);
            let mut cookie = 0u64;
            while !stopped.load(Ordering::Relaxed) {
                // A burst fills the TX ring (or stops at 256); once the daemon is gone, sends
                // fail at once and the loop idles until told to stop.
                for _ in 0..256 {
                    cookie += 1;
                    let m = hwsim_frame::nl::GuestMessage::Frame(hwsim_frame::nl::TxFrameRepr {
                        transmitter: ra.wire,
                        frame: &frame,
                        flags: 0,
                        freq: Some(5180),
                        tx_info: RATES,
                        tx_info_flags: None,
                        cookie,
                    });
                    let mut buf = vec![0u8; m.buffer_len()];
                    let n = m.emit(&mut buf).unwrap();
                    if a.send(&buf[..n]).is_err() {
                        break;
                    }
                }
                a.recv_with(|_| {});
                b.recv_with(|_| {});
                std::thread::sleep(Duration::from_millis(2));
            }
            cookie
        });
        Traffic {
            stop,
            thread: Some(thread),
        }
    }

    fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Waits until the daemon has queued at least `n` capture records; returns how many it has.
fn wait_queued(d: &Daemon, n: u64) -> u64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let queued = d.stats()["capture"]["queued"].as_u64().unwrap_or(0);
        if queued >= n {
            return queued;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {queued} frames captured"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Walks the blocks of a pcapng byte string by their length fields: each is a whole block
/// (length ≥ 12, a multiple of 4, the trailing copy equal) and together they tile `bytes`
/// exactly. Returns the number of Enhanced Packet Blocks.
fn whole_blocks(bytes: &[u8], what: &str) -> usize {
    assert!(
        bytes.len() >= 28,
        "{what}: {} bytes, no section header",
        bytes.len()
    );
    assert_eq!(
        &bytes[..4],
        &0x0A0D_0D0Au32.to_le_bytes(),
        "{what}: starts with a section header"
    );
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let (mut at, mut packets) = (0usize, 0usize);
    while at < bytes.len() {
        assert!(
            bytes.len() - at >= 12,
            "{what}: {} bytes left at offset {at}, less than a block",
            bytes.len() - at
        );
        let (kind, len) = (word(at), word(at + 4) as usize);
        assert!(
            len >= 12 && len % 4 == 0,
            "{what}: block at {at} has length {len}"
        );
        assert!(
            at + len <= bytes.len(),
            "{what}: block at {at} ({len} bytes) cut short: the file ends at {}",
            bytes.len()
        );
        assert_eq!(
            word(at + len - 4) as usize,
            len,
            "{what}: block at {at}: trailing length"
        );
        if kind == 6 {
            packets += 1;
        }
        at += len;
    }
    packets
}

/// `pcap-file` reads every block without error; returns the number of packets.
fn parsed_packets(bytes: &[u8], what: &str) -> usize {
    let mut reader = PcapNgReader::new(bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut packets = 0;
    while let Some(block) = reader.next_block() {
        match block.unwrap_or_else(|e| panic!("{what}: block after {packets} packets: {e}")) {
            Block::EnhancedPacket(_) => packets += 1,
            Block::InterfaceDescription(idb) => assert_eq!(u32::from(idb.linktype), 127),
            _ => {}
        }
    }
    packets
}

/// Every tshark to check with (the one on PATH, the `HWSIM_TSHARK_ROOT` chroot's); empty after
/// saying SKIPPED if there is none, a failure under CI.
fn tsharks(test: &str) -> Vec<Option<PathBuf>> {
    let found = hwsim_frame::tshark::tsharks();
    if found.is_empty() {
        let why = "tshark not installed (apt-get install tshark; scripts/test-all.sh does)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test}: {why}");
        }
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED {test} (tshark part): {why}");
    }
    found
}

/// tshark reads `bytes` (`tshark -r FILE`, inside `root` if given): exit status 0, nothing on
/// stderr about a cut-short or damaged file, one line per packet. Returns the packet count.
fn tshark_reads(root: Option<&Path>, bytes: &[u8], what: &str) -> usize {
    let name = format!(
        "vhost-hwsim-signals-{}-{:?}.pcapng",
        std::process::id(),
        std::thread::current().id()
    )
    .replace(['(', ')'], "");
    let (mut cmd, host_path) = match root {
        Some(r) => {
            let mut c = Command::new("chroot");
            c.arg(r)
                .arg("tshark")
                .arg("-r")
                .arg(Path::new("/tmp").join(&name));
            (c, r.join("tmp").join(&name))
        }
        None => {
            let p = std::env::temp_dir().join(&name);
            let mut c = Command::new("tshark");
            c.arg("-r").arg(&p);
            (c, p)
        }
    };
    std::fs::write(&host_path, bytes).unwrap();
    let out = cmd.args(["-T", "fields", "-e", "frame.number"]).output();
    std::fs::remove_file(&host_path).ok();
    let out = out.expect("run tshark");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what}: tshark ({root:?}) exit {:?}: {err}",
        out.status
    );
    for complaint in ["cut short", "damaged", "corrupt", "truncated"] {
        assert!(
            !err.contains(complaint),
            "{what}: tshark ({root:?}) says: {err}"
        );
    }
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// All three readings of `bytes` agree on the packet count, which is returned.
fn complete_capture(bytes: &[u8], tsharks: &[Option<PathBuf>], what: &str) -> usize {
    let packets = whole_blocks(bytes, what);
    assert_eq!(parsed_packets(bytes, what), packets, "{what}: pcap-file");
    for root in tsharks {
        assert_eq!(
            tshark_reads(root.as_deref(), bytes, what),
            packets,
            "{what}: tshark ({root:?}) packet count"
        );
    }
    packets
}

/// The figure after `label` in the daemon's end-of-run capture line, e.g. "frames written".
fn capture_report(log: &DaemonLog, label: &str) -> u64 {
    let line = log
        .wait_for("capture: ", Duration::from_secs(5))
        .expect("the daemon reports its capture on exit");
    let before = line
        .split(label)
        .next()
        .filter(|b| b.len() < line.len())
        .unwrap_or_else(|| panic!("no `{label}` in {line:?}"));
    before
        .split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no figure before `{label}` in {line:?}"))
}

/// The daemon ends on `signal` with traffic flowing and leaves a complete capture holding every
/// frame it says it wrote, at least as many as it had queued before the signal.
fn ends_with_a_complete_capture(signal: i32, name: &str) {
    let tsharks = tsharks(name);
    let capture_dir = test_dir(&format!("{name}-capture"));
    let file = capture_dir.join("air.pcapng");
    let (mut d, log) = Daemon::start_logged(name, &["--capture", file.to_str().unwrap()]);
    let traffic = Traffic::start(&d);
    let queued_before = wait_queued(&d, 2000);
    d.signal(signal);
    let status = d
        .wait_exit(EXIT_WAIT)
        .expect("the daemon exits on the signal");
    traffic.stop();
    assert!(status.success(), "{name}: exit {status:?}\n{}", log.text());
    assert!(
        log.wait_for("shutting down", Duration::from_secs(1))
            .is_some(),
        "{}",
        log.text()
    );
    let written = capture_report(&log, "frames written");
    let bytes = std::fs::read(&file).expect("the capture file");
    let packets = complete_capture(&bytes, &tsharks, name);
    assert_eq!(
        packets as u64, written,
        "{name}: every frame written is in the file"
    );
    assert!(
        written >= queued_before,
        "{name}: {written} written, {queued_before} queued before the signal"
    );
    assert_eq!(
        capture_report(&log, "bytes,"),
        bytes.len() as u64,
        "{name}: the file is as long as the daemon says"
    );
    std::fs::remove_dir_all(&capture_dir).ok();
}

#[test]
fn sigterm_leaves_a_complete_capture() {
    ends_with_a_complete_capture(libc::SIGTERM, "signal-term");
}

#[test]
fn sigint_leaves_a_complete_capture() {
    ends_with_a_complete_capture(libc::SIGINT, "signal-int");
}

#[test]
fn sigquit_leaves_a_complete_capture() {
    ends_with_a_complete_capture(libc::SIGQUIT, "signal-quit");
}

/// A medium config the test guests' addresses can be heard under (they stand 3 m apart).
fn medium_config(path: &Path) {
    let (a, b) = (TestRadio::new(1, 0), TestRadio::new(2, 0));
    std::fs::write(
        path,
        format!(
            "seed = 3\nmodel = \"radio\"\n\
             path_loss = {{ model = \"log_distance\", exponent = 3.0 }}\n\
             [[node]]\nname = \"a\"\naddresses = [\"{}\"]\nposition = [0, 0, 0]\n\
             [[node]]\nname = \"b\"\naddresses = [\"{}\"]\nposition = [3, 0, 0]\n",
            a.vif, b.vif
        ),
    )
    .unwrap();
}

#[test]
fn sighup_reloads_the_config_flushes_the_capture_and_the_daemon_goes_on() {
    let name = "signal-hup";
    let tsharks = tsharks(name);
    let capture_dir = test_dir(&format!("{name}-capture"));
    let (file, config) = (
        capture_dir.join("air.pcapng"),
        capture_dir.join("medium.toml"),
    );
    medium_config(&config);
    let (mut d, log) = Daemon::start_logged(
        name,
        &[
            "--capture",
            file.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let traffic = Traffic::start(&d);
    let queued_before = wait_queued(&d, 2000);
    d.signal(libc::SIGHUP);
    let reloaded = log
        .wait_for("SIGHUP: medium config reloaded", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no reload logged:\n{}", log.text()));
    assert!(reloaded.contains(config.to_str().unwrap()), "{reloaded}");
    let flushed = log
        .wait_for("SIGHUP: capture flushed", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no flush logged:\n{}", log.text()));
    // "… FILE is complete up to N bytes": those N bytes are a whole pcapng with every frame
    // queued before the signal, while the daemon goes on appending to the file.
    let flushed_bytes: usize = flushed
        .split("complete up to ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no byte count in {flushed:?}"));
    let snapshot = std::fs::read(&file).unwrap();
    assert!(snapshot.len() >= flushed_bytes);
    let at_hangup = complete_capture(&snapshot[..flushed_bytes], &tsharks, "at SIGHUP");
    assert!(
        at_hangup as u64 >= queued_before,
        "{at_hangup} packets on disk after SIGHUP, {queued_before} queued before it"
    );
    assert!(d.alive(), "SIGHUP does not end the daemon");
    let more = wait_queued(&d, queued_before + 1000);
    assert!(more > queued_before, "frames still flow and are captured");

    d.signal(libc::SIGTERM);
    let status = d.wait_exit(EXIT_WAIT).expect("the daemon exits on SIGTERM");
    traffic.stop();
    assert!(status.success(), "{status:?}");
    let bytes = std::fs::read(&file).unwrap();
    let packets = complete_capture(&bytes, &tsharks, "after SIGTERM");
    assert_eq!(packets as u64, capture_report(&log, "frames written"));
    assert!(packets > at_hangup);
    std::fs::remove_dir_all(&capture_dir).ok();
}

#[test]
fn sighup_without_a_config_says_there_is_nothing_to_reload_and_goes_on() {
    let (mut d, log) = Daemon::start_logged("signal-hup-no-config", &[]);
    d.signal(libc::SIGHUP);
    assert!(
        log.wait_for("SIGHUP: nothing to reload", Duration::from_secs(10))
            .is_some(),
        "{}",
        log.text()
    );
    assert!(d.alive());
    assert!(
        d.stats()["vms"].is_array(),
        "still answers on its control socket"
    );
    let _guest = d.guest();
    assert!(d.terminate().success());
}

#[test]
fn a_signal_ends_the_demo_early_with_a_complete_capture() {
    let name = "signal-demo";
    let tsharks = tsharks(name);
    let dir = test_dir(name);
    let file = dir.join("demo.pcapng");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_vhost-hwsim"))
        .args(["demo", "--seconds", "60", "--capture"])
        .arg(&file)
        .arg("--socket")
        .arg(dir.join("demo.sock"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Data flows once the station is secured: wait for the capture to grow past the setup.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&file).map_or(0, |m| m.len()) < 100_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the demo captured little"
        );
        assert!(
            demo.try_wait().unwrap().is_none(),
            "the demo ended by itself"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(demo.id() as i32, libc::SIGINT) };
    let started = std::time::Instant::now();
    let out = demo.wait_with_output().unwrap();
    let err = strip_ansi(&String::from_utf8_lossy(&out.stderr));
    assert!(
        started.elapsed() < EXIT_WAIT,
        "took {:?} to stop",
        started.elapsed()
    );
    assert!(out.status.success(), "{:?}: {err}", out.status);
    assert!(err.contains("stopped early by a signal"), "{err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("after deauthentication"), "{stdout}");
    let line = err
        .lines()
        .find(|l| l.starts_with("capture: "))
        .unwrap_or_else(|| panic!("no capture report: {err}"));
    let written: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(complete_capture(&bytes, &tsharks, name), written, "{line}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sigint_and_sigquit_end_the_daemon_even_when_it_started_with_them_ignored() {
    // A non-interactive shell starts `vhost-hwsim … &` with SIGINT and SIGQUIT ignored. (Linux
    // keeps a blocked signal pending even while it is ignored, so there this holds even without
    // the daemon's reset to the default disposition; POSIX does not promise it.)
    use std::os::unix::process::CommandExt;
    for signal in [libc::SIGINT, libc::SIGQUIT] {
        let dir = test_dir(&format!("signal-ignored-{signal}"));
        let (socket, control) = (dir.join("hwsim.sock"), dir.join("control.sock"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vhost-hwsim"));
        cmd.arg("--socket")
            .arg(&socket)
            .arg("--control")
            .arg(&control)
            .args(["--log", "warn"]);
        // SAFETY: signal(2) with SIG_IGN is async-signal-safe and runs no code of ours later;
        // it runs in the child between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_IGN);
                libc::signal(libc::SIGQUIT, libc::SIG_IGN);
                Ok(())
            });
        }
        let mut child = cmd.spawn().unwrap();
        wait_for_path(&socket);
        wait_for_path(&control);
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, signal) };
        let deadline = std::time::Instant::now() + EXIT_WAIT;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("signal {signal} did not end a daemon that started with it ignored");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(status.success(), "signal {signal}: {status:?}");
        assert!(!socket.exists(), "it shut down cleanly: socket removed");
        std::fs::remove_dir_all(&dir).ok();
    }
}
