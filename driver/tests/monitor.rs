//! `--monitor NAME`: a live TUN interface of link type 802.11 + radiotap on which tcpdump sees
//! every transmission. Recorded with `tcpdump -i NAME -w FILE -U` and read back.
//!
//! Needs root (CAP_NET_ADMIN), /dev/net/tun and tcpdump; without them it says why and passes.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use hwsim_frame::nl::tx_flags;
use hwsim_frame::radiotap::{self, Field, Fields};
use pcap_file::pcap::PcapReader;
use pcap_file::DataLink;

/// Why this machine cannot run the test, if it cannot.
fn unsupported() -> Option<String> {
    // SAFETY: geteuid(2) has no arguments and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root: creating a TUN interface needs CAP_NET_ADMIN".into());
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun".into());
    }
    let tcpdump = Command::new("tcpdump").arg("--version").output();
    if !tcpdump.is_ok_and(|o| o.status.success()) {
        return Some("no tcpdump (apt-get install tcpdump)".into());
    }
    None
}

/// tcpdump writing `NAME` to `file`, started and listening.
struct Tcpdump(Child);

impl Tcpdump {
    fn start(interface: &str, file: &std::path::Path) -> Tcpdump {
        let mut child = Command::new("tcpdump")
            .args(["-i", interface, "-U", "--immediate-mode", "-n", "-w"])
            .arg(file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tcpdump");
        // tcpdump says "listening on NAME, link-type …" once its capture runs.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains("listening on") => {
                    assert!(
                        line.contains("IEEE802_11_RADIO"),
                        "tcpdump sees link type 802.11 + radiotap: {line}"
                    );
                    break;
                }
                Ok(line) => seen.push(line),
                Err(_) => panic!("tcpdump did not start listening: {seen:?}"),
            }
        }
        Tcpdump(child)
    }

    /// Stops tcpdump as an operator does (SIGINT), so it closes the file properly.
    fn stop(mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGINT) };
        let _ = self.0.wait();
    }
}

impl Drop for Tcpdump {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Complete packets in a pcap file tcpdump may still be writing.
fn packets_in(file: &std::path::Path) -> usize {
    let Ok(bytes) = std::fs::read(file) else {
        return 0;
    };
    let Ok(mut reader) = PcapReader::new(&bytes[..]) else {
        return 0;
    };
    let mut n = 0;
    while let Some(Ok(_)) = reader.next_packet() {
        n += 1;
    }
    n
}

#[test]
fn tcpdump_on_the_monitor_interface_sees_every_transmission() {
    if let Some(why) = unsupported() {
        eprintln!("SKIPPED tcpdump_on_the_monitor_interface_sees_every_transmission: {why}");
        return;
    }
    let name = format!("hwsmon{}", std::process::id() % 100_000);
    let dir = std::env::temp_dir().join(format!("vhost-hwsim-monitor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("live.pcap");
    let mut d = Daemon::start_with("monitor", &["--monitor", &name]);
    let tcpdump = Tcpdump::start(&name, &file);

    let mut a = d.guest();
    let mut b = d.guest();
    let (ra, rb) = (TestRadio::new(1, 0), TestRadio::new(2, 0));
    // A's second radio never transmits, so it is taken to listen on any channel and acks B's
    // frames on channel 1 (ra's address is on channel 36 once it has sent there).
    let ra2 = TestRadio::new(1, 1);
    announce(&mut a, ra, ra.vif);
    announce(&mut a, ra2, ra2.vif);
    announce(&mut b, rb, rb.vif);
    std::thread::sleep(Duration::from_millis(100));
    for c in 0..5u64 {
        let payload = format!("live-5g-{c}");
        let frame = data_frame(rb.vif, ra.vif, payload.as_bytes());
        send_frame(&mut a, ra, &frame, 5180, tx_flags::REQ_TX_STATUS, c);
    }
    // rb's address moves to channel 1 once it sends there: let A's frames be acked first.
    until(&mut a, |g| statuses(g).len() == 5);
    for c in 0..3u64 {
        let payload = format!("live-2g-{c}");
        let frame = data_frame(ra2.vif, rb.vif, payload.as_bytes());
        send_frame(&mut b, rb, &frame, 2412, tx_flags::REQ_TX_STATUS, 100 + c);
    }
    until(&mut b, |g| statuses(g).len() == 3);
    // The writer sends asynchronously; wait for its counter, then give tcpdump its moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.stats()["capture"]["monitor_sent"].as_u64() != Some(8) {
        assert!(
            Instant::now() < deadline,
            "monitor_sent: {:#}",
            d.stats()["capture"]
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // tcpdump writes each packet as it reads it (-U): stop it once all are in its file.
    let deadline = Instant::now() + Duration::from_secs(10);
    while packets_in(&file) < 8 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    tcpdump.stop();
    let capture = d.stats()["capture"].clone();
    assert_eq!(capture["dropped"], 0, "{capture:#}");
    assert_eq!(capture["monitor_errors"], 0, "{capture:#}");
    assert!(d.terminate().success());
    // The interface goes away with the daemon.
    assert!(!std::path::Path::new("/sys/class/net").join(&name).exists());

    let bytes = std::fs::read(&file).expect("tcpdump wrote its file");
    let mut reader = PcapReader::new(&bytes[..]).expect("a pcap file");
    assert_eq!(reader.header().datalink, DataLink::IEEE802_11_RADIOTAP);
    let mut seen = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.expect("well-formed packet");
        let data = &packet.data;
        let fields = Fields::new(data).expect("a radiotap header");
        let rt_len = fields.header_len();
        let mut freq = None;
        let mut signal = None;
        for f in fields {
            if let Field::Bit { bit, data, .. } = f.expect("radiotap field") {
                match bit {
                    radiotap::bit::CHANNEL => freq = Some(u16::from_le_bytes([data[0], data[1]])),
                    radiotap::bit::DBM_ANTSIGNAL => signal = Some(data[0] as i8),
                    _ => {}
                }
            }
        }
        let frame = &data[rt_len..];
        let payload = String::from_utf8_lossy(&frame[24..]).into_owned();
        seen.push((payload, freq, signal));
    }
    // The perfect medium: every frame heard at -50 dBm (its default signal).
    let mut expected: Vec<_> = (0..5)
        .map(|c| (format!("live-5g-{c}"), Some(5180), Some(-50)))
        .chain((0..3).map(|c| (format!("live-2g-{c}"), Some(2412), Some(-50))))
        .collect();
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_existing_interface_name_is_a_clear_error() {
    if let Some(why) = unsupported() {
        eprintln!("SKIPPED an_existing_interface_name_is_a_clear_error: {why}");
        return;
    }
    // The socket path is checked and claimed first; the monitor's failure then removes it.
    let dir = std::env::temp_dir().join(format!("vhost-hwsim-monitor-lo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("never-served.sock");
    let out = Command::new(env!("CARGO_BIN_EXE_vhost-hwsim"))
        .arg("--socket")
        .arg(&socket)
        .args(["--monitor", "lo"])
        .output()
        .expect("run vhost-hwsim");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--monitor") && stderr.contains("lo exists already"),
        "{stderr}"
    );
    assert!(!socket.exists(), "the socket goes with the failed start");
    let _ = std::fs::remove_dir_all(&dir);
}
