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
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

mod guest;
mod probe;
mod report;

use guest::SoakReport;
pub use guest::{run as run_guest, SoakGuestArgs};
use probe::sample_settled;

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
    /// Allowed RSS growth from the first sample to the highest later one while guests run,
    /// MiB, less what the daemon's buffer pool grew by (bounded by its --pool, kept by design).
    #[arg(long, default_value_t = 2.0)]
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

/// A guest process and how it is to end. Closing its standard input asks it to disconnect.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    index: u64,
    slot: u8,
    kill: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        // Only reached with the guest still running when the soak gives up early.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    fn start(&mut self, index: u64) -> Result<Running, String> {
        let slot = (index % u64::from(self.args.guests)) as u8;
        let kill =
            self.args.kill_every > 0 && index % self.args.kill_every == self.args.kill_every - 1;
        let mut child = Command::new(&self.me)
            .arg("soak-guest")
            .arg("--socket")
            .arg(&self.socket)
            .args(["--slot", &slot.to_string()])
            .args(["--slots", &self.args.guests.to_string()])
            .args(["--rate", &self.args.rate.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn guest: {e}"))?;
        let stdin = child.stdin.take();
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
            stdin,
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
        drop(g.stdin.take());
        // It collects its TX statuses (for at most 5 s) before it reports.
        let line = read_line(&mut g.stdout, Duration::from_secs(20));
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
    let baseline = sample_settled(pid, control, 0, 0, t0)?;
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
            let s = sample_settled(pid, control, cycle, u64::from(a.guests), t0)?;
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
    // Every guest has ended; the daemon has to notice each disconnection and tear it down, and
    // (airtime mode) finish the frames the VMs left on the air before their totals are final.
    let deadline = Instant::now() + Duration::from_secs(30);
    while probe::stats(control)?
        .departed_vms
        .is_some_and(|n| n < a.cycles)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let last = sample_settled(pid, control, a.cycles, 0, t0)?;
    let view = probe::stats(control)?;
    samples.push(last);

    println!(
        "\nbaseline (no VM yet): rss {:.2} MiB, {} fds, {} threads",
        baseline.rss_kib as f64 / 1024.0,
        baseline.fds,
        baseline.threads
    );
    report::print_table(&samples);
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
    report::check_bounds(a, &baseline, &samples, &view, &mut failures);
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
