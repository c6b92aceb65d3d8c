//! `hwsim-load soak`: VM connect/disconnect cycles against one daemon, watching for leaks.
//!
//! K guest processes (`soak-guest`, one VM each, in slots 0..K) run at once. Every step ends the
//! oldest one (a clean disconnect, or SIGKILL mid-traffic for every `--kill-every`th) and starts
//! its replacement in the same slot, so the others are always sending to it, and receiving from
//! each other, while it goes. A cycle is one VM's whole life. Every `--sample-every` cycles the
//! daemon's resident memory, open descriptors and threads are read from /proc, with its VM count
//! from `stats`; at the end the figures are printed as a table and checked against the bounds
//! stated in the output. The process exits non-zero if any bound or check fails.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::soak_guest::SoakReport;

/// Soak options.
#[derive(clap::Args, Debug)]
pub struct SoakArgs {
    /// VM lives (connect, traffic, disconnect or SIGKILL).
    #[arg(long, default_value_t = 1000)]
    cycles: u64,
    /// Guests running at once (2..=8).
    #[arg(long, default_value_t = 3)]
    guests: u8,
    /// Every Nth guest is killed with SIGKILL mid-traffic instead of disconnecting (0: never).
    #[arg(long, default_value_t = 4)]
    kill_every: u64,
    /// Take a sample every N cycles.
    #[arg(long, default_value_t = 100)]
    sample_every: u64,
    /// Time between two steps, ms (a guest lives about `guests` steps).
    #[arg(long, default_value_t = 40)]
    step_ms: u64,
    /// Frames per second from each guest.
    #[arg(long, default_value_t = 4000)]
    rate: u64,
    /// Allowed RSS growth from the first sample to the last, MiB.
    #[arg(long, default_value_t = 4.0)]
    rss_growth_mib: f64,
    /// Allowed difference in open descriptors and threads: between samples, and between the
    /// daemon before the first VM and after the last.
    #[arg(long, default_value_t = 2)]
    slack: i64,
    /// Only the deterministic checks (descriptors, threads, VM count, frame accounting, relay
    /// sockets, guests' reports), not the RSS bound: for short runs in the test suite.
    #[arg(long)]
    no_rss_bound: bool,
}

/// One reading of the daemon.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    cycle: u64,
    elapsed_s: f64,
    rss_kib: u64,
    fds: i64,
    threads: i64,
    connected_vms: u64,
    listed_vms: u64,
    relay_sockets: i64,
    pool_allocated: u64,
}

/// The daemon's figures that `stats` reports.
#[derive(Debug, Default)]
struct DaemonView {
    connected_vms: u64,
    listed_vms: u64,
    pool_allocated: u64,
    /// Per-VM counters summed over every VM the daemon ever had (listed ones plus the totals of
    /// those it no longer lists).
    totals: std::collections::BTreeMap<String, u64>,
}

impl DaemonView {
    fn get(&self, name: &str) -> u64 {
        self.totals.get(name).copied().unwrap_or(0)
    }
}

fn stats(control: &Path) -> Result<DaemonView, String> {
    use std::io::Write;
    let mut s = std::os::unix::net::UnixStream::connect(control)
        .map_err(|e| format!("control socket {}: {e}", control.display()))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"stats\n").map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text)
        .map_err(|e| format!("stats (daemon hung?): {e}"))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let vms = v["vms"].as_array().cloned().unwrap_or_default();
    let mut view = DaemonView {
        connected_vms: vms.iter().filter(|vm| vm["connected"] == true).count() as u64,
        listed_vms: vms.len() as u64,
        pool_allocated: v["pool_allocated"].as_u64().unwrap_or(0),
        ..DaemonView::default()
    };
    let listed = vms.iter().map(|vm| &vm["counters"]);
    for counters in listed.chain(std::iter::once(&v["departed"]["counters"])) {
        for (k, n) in counters.as_object().into_iter().flatten() {
            *view.totals.entry(k.clone()).or_default() += n.as_u64().unwrap_or(0);
        }
    }
    Ok(view)
}

fn proc_status_field(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn count_dir(path: impl AsRef<Path>, prefix: &str) -> i64 {
    std::fs::read_dir(path).map_or(-1, |d| {
        d.flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
            .count() as i64
    })
}

fn sample(pid: u32, control: &Path, cycle: u64, t0: Instant) -> Result<Sample, String> {
    let view = stats(control)?;
    Ok(Sample {
        cycle,
        elapsed_s: t0.elapsed().as_secs_f64(),
        rss_kib: proc_status_field(pid, "VmRSS:").ok_or("daemon gone")?,
        fds: count_dir(format!("/proc/{pid}/fd"), ""),
        threads: proc_status_field(pid, "Threads:").ok_or("daemon gone")? as i64,
        connected_vms: view.connected_vms,
        listed_vms: view.listed_vms,
        // The private sockets the daemon's VM handlers dial (server.rs): none should outlive
        // the connection's setup.
        relay_sockets: count_dir(std::env::temp_dir(), &format!("vhost-hwsim-{pid}-")),
        pool_allocated: view.pool_allocated,
    })
}

/// A guest process and what it was told.
struct Running {
    child: Child,
    stdout: ChildStdout,
    index: u64,
    slot: u8,
    kill: bool,
}

/// Reads one line from `out` within `timeout` (a guest that does not answer is a hang).
fn read_line(out: &mut ChildStdout, timeout: Duration) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut pfd = libc::pollfd {
            fd: out.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid pollfd for the duration of the call.
        let rc = unsafe { libc::poll(&mut pfd, 1, left.as_millis() as i32) };
        if rc == 0 {
            return Err(format!("no answer within {timeout:?}"));
        }
        match out.read(&mut byte) {
            Ok(0) => return Err("closed its output".into()),
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(String::from_utf8_lossy(&line).trim().to_string())
}

struct Soak<'a> {
    args: &'a SoakArgs,
    me: PathBuf,
    socket: PathBuf,
    failures: Vec<String>,
    clean: u64,
    killed: u64,
    guest_sent: u64,
    guest_received: u64,
    worst_gap_ms: u64,
}

impl Soak<'_> {
    fn lifetime_s(&self) -> f64 {
        (u64::from(self.args.guests) * self.args.step_ms) as f64 / 1000.0
    }

    fn start(&mut self, index: u64) -> Result<Running, String> {
        let slot = (index % u64::from(self.args.guests)) as u8;
        let kill =
            self.args.kill_every > 0 && index % self.args.kill_every == self.args.kill_every - 1;
        let seconds = if kill { 0.0 } else { self.lifetime_s() };
        let mut child = Command::new(&self.me)
            .arg("soak-guest")
            .arg("--socket")
            .arg(&self.socket)
            .args(["--slot", &slot.to_string()])
            .args(["--slots", &self.args.guests.to_string()])
            .args(["--rate", &self.args.rate.to_string()])
            .args(["--seconds", &seconds.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn guest: {e}"))?;
        let mut stdout = child.stdout.take().ok_or("guest without stdout")?;
        match read_line(&mut stdout, Duration::from_secs(20)) {
            Ok(l) if l == "ready" => {}
            other => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "guest {index} (slot {slot}) did not get ready: {other:?}"
                ));
            }
        }
        Ok(Running {
            child,
            stdout,
            index,
            slot,
            kill,
        })
    }

    fn end(&mut self, mut g: Running) -> Result<(), String> {
        let what = format!("guest {} (slot {})", g.index, g.slot);
        if g.kill {
            g.child.kill().map_err(|e| format!("kill {what}: {e}"))?;
            let _ = g.child.wait();
            self.killed += 1;
            return Ok(());
        }
        let timeout = Duration::from_secs_f64(self.lifetime_s() + 20.0);
        let line = read_line(&mut g.stdout, timeout);
        let status = g.child.wait().map_err(|e| e.to_string())?;
        self.clean += 1;
        let report = line
            .and_then(|l| SoakReport::parse(&l))
            .map_err(|e| format!("{what}: {e} (exit {status})"))?;
        self.guest_sent += report.sent;
        self.guest_received += report.received;
        self.worst_gap_ms = self.worst_gap_ms.max(report.max_rx_gap_ms);
        if !status.success() {
            self.failures.push(format!("{what} exited with {status}"));
        }
        if report.statuses != report.sent {
            self.failures.push(format!(
                "{what}: {} TX statuses for {} frames sent",
                report.statuses, report.sent
            ));
        }
        if report.received == 0 {
            self.failures
                .push(format!("{what} received no frame from its peers"));
        }
        if report.max_rx_gap_ms > MAX_RX_GAP_MS {
            self.failures.push(format!(
                "{what} went {} ms without a frame while its peers sent",
                report.max_rx_gap_ms
            ));
        }
        Ok(())
    }
}

/// A surviving guest must not go longer than this without receiving (peers send every ms).
const MAX_RX_GAP_MS: u64 = 2000;

fn print_table(samples: &[Sample]) {
    println!(
        "{:>6} {:>8} {:>8} {:>8} {:>9} {:>5} {:>7} {:>12} {:>9} {:>8}",
        "cycle",
        "time_s",
        "vms_now",
        "vms_list",
        "rss_mib",
        "fds",
        "threads",
        "tmp_sockets",
        "pool_buf",
        "cyc/s"
    );
    let mut prev: Option<&Sample> = None;
    for s in samples {
        let rate = prev
            .filter(|p| s.elapsed_s > p.elapsed_s)
            .map_or(String::from("-"), |p| {
                format!(
                    "{:.1}",
                    (s.cycle - p.cycle) as f64 / (s.elapsed_s - p.elapsed_s)
                )
            });
        println!(
            "{:>6} {:>8.1} {:>8} {:>8} {:>9.2} {:>5} {:>7} {:>12} {:>9} {:>8}",
            s.cycle,
            s.elapsed_s,
            s.connected_vms,
            s.listed_vms,
            s.rss_kib as f64 / 1024.0,
            s.fds,
            s.threads,
            s.relay_sockets,
            s.pool_allocated,
            rate
        );
        prev = Some(s);
    }
}

/// Runs the soak against a daemon this process started (`pid`, `socket`, `control`).
pub fn run(a: &SoakArgs, pid: u32, socket: &Path, control: &Path) -> Result<(), String> {
    if !(2..=8).contains(&a.guests) || a.cycles < u64::from(a.guests) || a.sample_every == 0 {
        return Err("soak: --guests 2..=8, --cycles ≥ --guests, --sample-every ≥ 1".into());
    }
    let mut soak = Soak {
        args: a,
        me: std::env::current_exe().map_err(|e| e.to_string())?,
        socket: socket.to_owned(),
        failures: Vec::new(),
        clean: 0,
        killed: 0,
        guest_sent: 0,
        guest_received: 0,
        worst_gap_ms: 0,
    };
    let t0 = Instant::now();
    println!(
        "soak: {} cycles, {} guests at once, every {} killed with SIGKILL mid-traffic, {} frames/s per guest, step {} ms",
        a.cycles, a.guests, a.kill_every, a.rate, a.step_ms
    );
    let baseline = sample(pid, control, 0, t0)?;
    let mut samples = Vec::new();
    let mut running = std::collections::VecDeque::new();
    for i in 0..u64::from(a.guests) {
        running.push_back(soak.start(i)?);
        std::thread::sleep(Duration::from_millis(a.step_ms));
    }
    let mut next = u64::from(a.guests);
    for cycle in 1..=a.cycles {
        let oldest = running.pop_front().ok_or("no guest running")?;
        soak.end(oldest)?;
        if next < a.cycles {
            running.push_back(soak.start(next)?);
            next += 1;
        }
        // Samples are compared with each other: take them only while all slots are busy.
        if cycle % a.sample_every == 0 && running.len() == usize::from(a.guests) {
            let s = sample(pid, control, cycle, t0)?;
            eprintln!(
                "soak: cycle {cycle}: rss {:.1} MiB, {} fds, {} threads",
                s.rss_kib as f64 / 1024.0,
                s.fds,
                s.threads
            );
            samples.push(s);
        }
        std::thread::sleep(Duration::from_millis(a.step_ms));
    }
    let elapsed = t0.elapsed().as_secs_f64();
    // Every guest has ended; the daemon has to notice each disconnection and tear it down.
    let deadline = Instant::now() + Duration::from_secs(10);
    let view = loop {
        let v = stats(control)?;
        if v.connected_vms == 0 || Instant::now() > deadline {
            break v;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let last = sample(pid, control, a.cycles, t0)?;
    samples.push(last);

    println!(
        "\nbaseline (no VM yet): rss {:.2} MiB, {} fds, {} threads",
        baseline.rss_kib as f64 / 1024.0,
        baseline.fds,
        baseline.threads
    );
    print_table(&samples);
    println!(
        "guests: {} disconnected cleanly, {} killed; {} cycles in {:.1} s ({:.1} cycles/s); clean guests sent {} frames, received {}, longest gap {} ms",
        soak.clean,
        soak.killed,
        a.cycles,
        elapsed,
        a.cycles as f64 / elapsed,
        soak.guest_sent,
        soak.guest_received,
        soak.worst_gap_ms
    );
    let mut failures = std::mem::take(&mut soak.failures);
    check_bounds(a, &baseline, &samples, &view, &mut failures);
    if failures.is_empty() {
        println!("soak: PASS");
        Ok(())
    } else {
        for f in &failures {
            println!("soak: FAIL: {f}");
        }
        Err(format!("{} soak check(s) failed", failures.len()))
    }
}

/// States and checks the bounds; pushes what is broken onto `failures`.
fn check_bounds(
    a: &SoakArgs,
    baseline: &Sample,
    samples: &[Sample],
    end: &DaemonView,
    failures: &mut Vec<String>,
) {
    let Some(last) = samples.last() else {
        return;
    };
    let first = &samples[0];
    let k = a.slack;
    println!("bounds:");
    println!("  VMs connected at the end = 0: {}", last.connected_vms);
    if end.connected_vms != 0 {
        failures.push(format!(
            "{} VMs still connected at the end",
            end.connected_vms
        ));
    }
    println!(
        "  fds at the end = baseline ± {k}: {} vs {}; every sample within ± {k} of cycle {}'s ({})",
        last.fds, baseline.fds, first.cycle, first.fds
    );
    if (last.fds - baseline.fds).abs() > k {
        failures.push(format!(
            "fds: {} at the end, {} before the first VM",
            last.fds, baseline.fds
        ));
    }
    println!(
        "  threads at the end = baseline ± {k}: {} vs {}; every sample within ± {k} of cycle {}'s ({})",
        last.threads, baseline.threads, first.cycle, first.threads
    );
    if (last.threads - baseline.threads).abs() > k {
        failures.push(format!(
            "threads: {} at the end, {} before the first VM",
            last.threads, baseline.threads
        ));
    }
    // The last sample has no guest running; the others have `guests` of them.
    for s in &samples[..samples.len() - 1] {
        if (s.fds - first.fds).abs() > k || (s.threads - first.threads).abs() > k {
            failures.push(format!(
                "cycle {}: {} fds, {} threads (cycle {}: {}, {})",
                s.cycle, s.fds, s.threads, first.cycle, first.fds, first.threads
            ));
        }
    }
    println!(
        "  relay sockets left in {} = 0: {}",
        std::env::temp_dir().display(),
        last.relay_sockets
    );
    if last.relay_sockets != 0 {
        failures.push(format!(
            "{} private relay sockets left behind",
            last.relay_sockets
        ));
    }
    let growth = (last.rss_kib as f64 - first.rss_kib as f64) / 1024.0;
    if a.no_rss_bound {
        println!(
            "  RSS growth from cycle {} to the end: {growth:+.2} MiB (not checked)",
            first.cycle
        );
    } else {
        println!(
            "  RSS growth from cycle {} to the end ≤ {} MiB: {growth:+.2} MiB",
            first.cycle, a.rss_growth_mib
        );
        if growth > a.rss_growth_mib {
            failures.push(format!(
                "RSS grew {growth:.2} MiB (bound {} MiB)",
                a.rss_growth_mib
            ));
        }
    }
    // Every frame a guest sent has a TX status or a named drop; every message queued for a
    // guest was written into its RX ring or discarded, counted, when it left.
    let statused = end.get("tx_status_queued") + end.get("tx_status_dropped");
    println!(
        "  frames sent = statuses queued + dropped: {} = {}",
        end.get("tx_frames"),
        statused
    );
    if end.get("tx_frames") != statused {
        failures.push(format!(
            "{} frames sent, {} TX statuses queued or dropped",
            end.get("tx_frames"),
            statused
        ));
    }
    let queued = end.get("deliveries_queued") + end.get("tx_status_queued");
    let ended = end.get("rx_written") + end.get("rx_discarded_on_departure");
    println!(
        "  messages queued for guests = written + discarded on departure: {queued} = {ended} ({} + {})",
        end.get("rx_written"),
        end.get("rx_discarded_on_departure")
    );
    if queued != ended {
        failures.push(format!(
            "{queued} messages queued for guests, {ended} written or discarded: {} unaccounted for",
            queued as i128 - ended as i128
        ));
    }
}
