//! Shared harness: the daemon as a separate process, guests through the frontend, and owned
//! copies of what the device sent.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hwsim_frame::nl::{tx_flags, DeviceMessage, GuestMessage, MacAddrRepr, TxFrameRepr, TxRate};
use hwsim_frame::MacAddr;
use hwsim_guest::{Guest, GuestConfig};

/// The daemon under test; killed on drop.
pub struct Daemon {
    child: Child,
    pub socket: PathBuf,
    pub control: PathBuf,
    dir: PathBuf,
}

impl Daemon {
    pub fn start(name: &str) -> Daemon {
        Self::start_with(name, &[])
    }

    pub fn start_with(name: &str, extra: &[&str]) -> Daemon {
        Self::spawn(name, extra, "warn", Stdio::inherit())
    }

    /// A daemon logging at `info`, with what it writes to stderr collected (and echoed).
    pub fn start_logged(name: &str, extra: &[&str]) -> (Daemon, DaemonLog) {
        let mut d = Self::spawn(name, extra, "info", Stdio::piped());
        let log = DaemonLog::follow(d.child.stderr.take().expect("piped stderr"));
        (d, log)
    }

    /// A fresh directory for a test's files, removed when the daemon is dropped.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn spawn(name: &str, extra: &[&str], log: &str, stderr: Stdio) -> Daemon {
        let dir = test_dir(name);
        let socket = dir.join("hwsim.sock");
        let control = dir.join("control.sock");
        let child = Command::new(env!("CARGO_BIN_EXE_vhost-hwsim"))
            .arg("--socket")
            .arg(&socket)
            .arg("--control")
            .arg(&control)
            .arg("--log")
            .arg(log)
            .args(extra)
            .stdin(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start vhost-hwsim");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !(socket.exists() && control.exists()) {
            assert!(
                Instant::now() < deadline,
                "daemon did not create its sockets"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Daemon {
            child,
            socket,
            control,
            dir,
        }
    }

    pub fn guest(&self) -> Guest {
        Guest::connect(&GuestConfig {
            socket: self.socket.clone(),
            ..GuestConfig::default()
        })
        .expect("guest connects")
    }

    pub fn guest_with(&self, f: impl FnOnce(&mut GuestConfig)) -> Guest {
        let mut cfg = GuestConfig {
            socket: self.socket.clone(),
            ..GuestConfig::default()
        };
        f(&mut cfg);
        Guest::connect(&cfg).expect("guest connects")
    }

    /// The daemon's counters as JSON.
    pub fn stats(&self) -> serde_json::Value {
        let text = vhost_hwsim::control::request(&self.control, "stats").expect("stats");
        serde_json::from_str(&text).expect("stats is JSON")
    }

    /// Sum of a VM counter over all VMs (connected or not).
    pub fn vm_counter(&self, name: &str) -> u64 {
        self.stats()["vms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["counters"][name].as_u64().unwrap_or(0))
            .sum()
    }

    /// Sum of a malformed-message counter over all VMs.
    pub fn malformed(&self, name: &str) -> u64 {
        self.stats()["vms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["malformed"][name].as_u64().unwrap_or(0))
            .sum()
    }

    /// Stops the daemon the way an operator does (SIGTERM) and waits for it to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal(libc::SIGTERM);
        self.child.wait().expect("daemon exits")
    }

    /// The daemon's process id (for its /proc entries).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to the daemon.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    /// Waits up to `timeout` for the daemon to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh, empty directory for test `name` under the temp directory.
pub fn test_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("vhost-hwsim-test-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The lines a daemon writes to stderr, collected by a thread as they come (and echoed to the
/// test's stderr), ANSI colours removed.
#[derive(Clone)]
pub struct DaemonLog {
    lines: std::sync::Arc<(std::sync::Mutex<Vec<String>>, std::sync::Condvar)>,
}

impl DaemonLog {
    fn follow(stderr: std::process::ChildStderr) -> DaemonLog {
        use std::io::BufRead;
        let log = DaemonLog {
            lines: Default::default(),
        };
        let lines = std::sync::Arc::clone(&log.lines);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let line = strip_ansi(&line);
                eprintln!("daemon: {line}");
                lines.0.lock().unwrap().push(line);
                lines.1.notify_all();
            }
        });
        log
    }

    /// The first line containing `needle`, waiting up to `timeout` for it.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> Option<String> {
        let (lines, more) = &*self.lines;
        let deadline = Instant::now() + timeout;
        let mut lines = lines.lock().unwrap();
        loop {
            if let Some(l) = lines.iter().find(|l| l.contains(needle)) {
                return Some(l.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            lines = more.wait_timeout(lines, left).unwrap().0;
        }
    }

    /// Everything so far.
    pub fn text(&self) -> String {
        self.lines.0.lock().unwrap().join("\n")
    }
}

/// `text` without ANSI escape sequences (tracing colours its output).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub fn mac(bytes: [u8; 6]) -> MacAddr {
    MacAddr(bytes)
}

/// A radio of a test guest: wire address (addresses[1]) and interface address.
#[derive(Clone, Copy, Debug)]
pub struct TestRadio {
    pub wire: MacAddr,
    pub vif: MacAddr,
}

impl TestRadio {
    pub fn new(vm: u8, idx: u8) -> Self {
        TestRadio {
            wire: MacAddr([0x42, 0, 0, vm, idx, 0]),
            vif: MacAddr([0x02, 0, 0, vm, idx, 0]),
        }
    }
}

/// What the device sent, owned.
#[derive(Clone, Debug, PartialEq)]
pub enum Got {
    Frame {
        receiver: MacAddr,
        frame: Vec<u8>,
        rx_rate: u32,
        freq: Option<u32>,
        signal: i32,
    },
    Status {
        transmitter: MacAddr,
        flags: u32,
        cookie: u64,
        signal: i32,
        tx_info: [TxRate; 4],
    },
    Garbage(Vec<u8>),
}

impl Got {
    pub fn acked(&self) -> bool {
        matches!(self, Got::Status { flags, .. } if flags & tx_flags::STAT_ACK != 0)
    }
}

/// Everything the device sends within `window` after the last message (or `max` in all).
pub fn drain(g: &mut Guest, window: Duration) -> Vec<Got> {
    let mut out = Vec::new();
    let hard = Instant::now() + Duration::from_secs(10);
    let mut quiet_since = Instant::now();
    loop {
        let n = g.recv_with(|m| out.push(own(m)));
        if n > 0 {
            quiet_since = Instant::now();
        }
        if quiet_since.elapsed() >= window || Instant::now() > hard {
            break;
        }
        let _ = g.wait(Duration::from_millis(20));
    }
    out
}

/// Waits until `pred` holds over everything received so far.
pub fn until(g: &mut Guest, pred: impl Fn(&[Got]) -> bool) -> Vec<Got> {
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pred(&out) {
        assert!(Instant::now() < deadline, "timed out; got so far: {out:?}");
        g.recv_with(|m| out.push(own(m)));
        if !pred(&out) {
            let _ = g.wait(Duration::from_millis(20));
        }
    }
    out
}

pub fn own(m: &[u8]) -> Got {
    match DeviceMessage::parse(m) {
        Ok(DeviceMessage::Frame(f)) => Got::Frame {
            receiver: f.receiver,
            frame: f.frame.to_vec(),
            rx_rate: f.rx_rate,
            freq: f.freq,
            signal: f.signal,
        },
        Ok(DeviceMessage::TxInfo(s)) => Got::Status {
            transmitter: s.transmitter,
            flags: s.flags,
            cookie: s.cookie,
            signal: s.signal,
            tx_info: s.tx_info,
        },
        Err(_) => Got::Garbage(m.to_vec()),
    }
}

pub fn announce(g: &mut Guest, r: TestRadio, addr: MacAddr) {
    let m = GuestMessage::AddMacAddr(MacAddrRepr {
        radio: r.wire,
        addr,
    });
    send_msg(g, &m);
}

pub fn withdraw(g: &mut Guest, r: TestRadio, addr: MacAddr) {
    let m = GuestMessage::DelMacAddr(MacAddrRepr {
        radio: r.wire,
        addr,
    });
    send_msg(g, &m);
}

pub fn send_msg(g: &mut Guest, m: &GuestMessage<'_>) {
    let mut buf = vec![0u8; m.buffer_len()];
    let n = m.emit(&mut buf).unwrap();
    g.send(&buf[..n]).unwrap();
}

/// A data frame from `src` (addr2) to `dst` (addr1), ToDS clear, FromDS clear.
pub fn data_frame(dst: MacAddr, src: MacAddr, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x08, 0x00, 0, 0];
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&[0x10, 0x00]);
    f.extend_from_slice(payload);
    f
}

pub const RATES: [TxRate; 4] = [
    TxRate { idx: 7, count: 2 },
    TxRate { idx: 0, count: 3 },
    TxRate { idx: -1, count: 0 },
    TxRate { idx: -1, count: 0 },
];

pub fn send_frame(
    g: &mut Guest,
    from: TestRadio,
    frame: &[u8],
    freq: u32,
    flags: u32,
    cookie: u64,
) {
    let m = GuestMessage::Frame(TxFrameRepr {
        transmitter: from.wire,
        frame,
        flags,
        freq: Some(freq),
        tx_info: RATES,
        tx_info_flags: None,
        cookie,
    });
    send_msg(g, &m);
}

pub fn statuses(got: &[Got]) -> Vec<&Got> {
    got.iter()
        .filter(|g| matches!(g, Got::Status { .. }))
        .collect()
}

pub fn frames_for(got: &[Got], radio: TestRadio) -> Vec<&Got> {
    got.iter()
        .filter(|g| matches!(g, Got::Frame { receiver, .. } if *receiver == radio.wire))
        .collect()
}

pub fn wait_for_path(p: &Path) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !p.exists() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
}
