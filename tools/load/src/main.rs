//! `hwsim-load`: drives a vhost-hwsim daemon from separate guest processes and reports
//! throughput, latency (TX kick to RX delivery) and the daemon's peak memory.
//!
//! The parent starts the daemon (unless `--socket` names a running one), spawns one worker
//! process per VM, starts them at the same instant and merges their reports. Latency is measured
//! with CLOCK_MONOTONIC timestamps carried in the frames, so it spans processes.

mod histogram;
mod payload;
mod soak;
mod worker;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use histogram::Histogram;

/// Load generator for vhost-hwsim.
#[derive(Parser, Debug)]
#[command(name = "hwsim-load", version)]
struct Args {
    /// Socket of a running daemon (default: start one).
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Daemon binary to start when no --socket is given (default: vhost-hwsim next to this binary).
    #[arg(long)]
    daemon: Option<PathBuf>,
    /// Number of VMs (worker processes).
    #[arg(long, default_value_t = 2)]
    vms: u8,
    /// Radios per VM.
    #[arg(long, default_value_t = 2)]
    radios: u8,
    /// 802.11 frame size in bytes (48..=2304: header, LLC/SNAP, tag and send time).
    #[arg(long, default_value_t = 256)]
    size: usize,
    /// Seconds of traffic.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// VMs that share a set of channels: VM v's radio r is on channel (v / K) * radios + r, and
    /// sends to radio r of the next VM of its group of K. Receivers per channel then stay K as
    /// --vms grows. 0 (default): all VMs share, radio r of every VM on channel r.
    #[arg(long, default_value_t = 0)]
    vms_per_channel: u8,
    /// Percentage of frames sent to the broadcast address.
    #[arg(long, default_value_t = 0)]
    broadcast: u8,
    /// Frames per second per VM (0: as fast as possible).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Also measure a bare eventfd ping-pong between two threads (the wake-up baseline).
    #[arg(long)]
    baseline: bool,
    /// Extra argument for the daemon this tool starts (repeatable), e.g.
    /// `--daemon-arg=--config=docs/medium-example.toml`.
    #[arg(long = "daemon-arg", allow_hyphen_values = true)]
    daemon_args: Vec<String>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// One VM (internal: the parent spawns these).
    #[command(hide = true)]
    Worker(worker::WorkerArgs),
    /// VM connect/disconnect cycles against one daemon (some guests SIGKILLed mid-traffic),
    /// the daemon's memory, descriptors and threads sampled; exits non-zero on a leak.
    Soak(soak::SoakArgs),
    /// One soak VM (internal: `soak` spawns these).
    #[command(hide = true)]
    SoakGuest(soak::SoakGuestArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

fn main() {
    let args = Args::parse();
    let result = match &args.command {
        Some(Cmd::Worker(w)) => worker::run(w),
        Some(Cmd::SoakGuest(g)) => soak::run_guest(g),
        Some(Cmd::Soak(s)) => run_soak(&args, s),
        Some(Cmd::Completions { shell }) => {
            let mut cmd = <Args as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "hwsim-load", &mut std::io::stdout());
            Ok(())
        }
        Some(Cmd::Man) => clap_mangen::Man::new(<Args as clap::CommandFactory>::command())
            .render(&mut std::io::stdout())
            .map_err(|e| format!("man page to standard output: {e}")),
        None => run(&args),
    };
    if let Err(e) = result {
        eprintln!("hwsim-load: {e}");
        std::process::exit(1);
    }
}

/// CLOCK_MONOTONIC in nanoseconds; the same clock in every process on the machine.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC is always available on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

struct DaemonProc {
    child: Child,
    dir: PathBuf,
}

impl Drop for DaemonProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the daemon (`--daemon`, else the one next to this binary) on sockets in a fresh
/// temporary directory, with `--daemon-arg`s; its stderr goes to `stderr`.
fn start_daemon(args: &Args, stderr: Stdio) -> Result<(DaemonProc, PathBuf, PathBuf), String> {
    let bin = match &args.daemon {
        Some(p) => p.clone(),
        None => {
            let me = std::env::current_exe().map_err(|e| e.to_string())?;
            me.with_file_name("vhost-hwsim")
        }
    };
    if !bin.exists() {
        return Err(format!(
            "daemon binary {} not found (build it with `cargo build --release -p vhost-hwsim`, or pass --daemon/--socket)",
            bin.display()
        ));
    }
    let dir = std::env::temp_dir().join(format!("hwsim-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let socket = dir.join("hwsim.sock");
    let control = dir.join("control.sock");
    let child = Command::new(&bin)
        .arg("--socket")
        .arg(&socket)
        .arg("--control")
        .arg(&control)
        .arg("--log")
        .arg("warn")
        .args(&args.daemon_args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("start {}: {e}", bin.display()))?;
    let d = DaemonProc { child, dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(socket.exists() && control.exists()) {
        if Instant::now() > deadline {
            return Err("daemon did not create its socket".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok((d, socket, control))
}

/// The soak always runs against a daemon of its own, so that it can read its /proc entries and
/// knows nothing else connects. The daemon's log (warnings only) is kept beside the sockets
/// while it runs and its lines are counted at the end.
fn run_soak(args: &Args, soak_args: &soak::SoakArgs) -> Result<(), String> {
    if args.socket.is_some() {
        return Err("soak starts a daemon of its own; drop --socket".into());
    }
    let log_path = std::env::temp_dir().join(format!("hwsim-soak-{}.log", std::process::id()));
    let log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let (mut daemon, socket, control) = start_daemon(args, Stdio::from(log))?;
    let pid = daemon.child.id();
    let result = soak::run(soak_args, pid, &socket, &control);
    let alive = matches!(daemon.child.try_wait(), Ok(None));
    drop(daemon);
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    let panics = text.lines().filter(|l| l.contains("panicked")).count();
    println!(
        "daemon log: {} lines ({} warnings, {} errors, {} panics)",
        text.lines().count(),
        text.lines().filter(|l| l.contains("WARN")).count(),
        text.lines().filter(|l| l.contains("ERROR")).count(),
        panics
    );
    for l in text.lines().filter(|l| !l.contains("WARN")).take(10) {
        println!("  {l}");
    }
    if !alive {
        return Err("the daemon died during the soak".into());
    }
    if panics > 0 {
        return Err("the daemon panicked during the soak".into());
    }
    result
}

/// Sums the daemon's per-VM counters named in `names` (from its control socket); a name
/// `capture_X` is the capture's counter `X` instead (0 without a capture).
fn daemon_counters(
    control: &std::path::Path,
    names: &[&str],
) -> Result<Vec<(String, u64)>, String> {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(control).map_err(|e| e.to_string())?;
    s.write_all(b"stats\n").map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let vms = v["vms"].as_array().cloned().unwrap_or_default();
    Ok(names
        .iter()
        .map(|n| {
            let sum = match n.strip_prefix("capture_") {
                Some(c) => v["capture"][c].as_u64().unwrap_or(0),
                None => vms
                    .iter()
                    .map(|vm| vm["counters"][*n].as_u64().unwrap_or(0))
                    .sum(),
            };
            (n.to_string(), sum)
        })
        .collect())
}

/// User + system CPU time of a process so far, seconds (from /proc/PID/stat).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then(|| ticks as f64 / hz as f64)
}

/// Peak resident set (VmHWM) of a process, KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Resident anonymous memory (RssAnon) of a process, KiB: the daemon's own heap and stacks,
/// without the guests' shared memory it maps (which VmHWM counts once touched).
fn anon_rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("RssAnon:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Smallest `--size`: the frame body holds LLC/SNAP, the tag and the 8-byte send time.
const MIN_SIZE: usize = payload::DATA_OFFSET + 8;

fn run(args: &Args) -> Result<(), String> {
    if !(MIN_SIZE..=2304).contains(&args.size) {
        return Err(format!(
            "--size must be within {MIN_SIZE}..=2304 (an 802.11 frame the guest could send, \
             with room for the LLC/SNAP header, tag and send time)"
        ));
    }
    if args.vms == 0 || args.radios == 0 || args.broadcast > 100 {
        return Err("--vms and --radios must be ≥ 1, --broadcast ≤ 100".into());
    }
    if args.vms == u8::MAX {
        return Err("--vms must be at most 254".into());
    }
    if args.seconds.is_nan() || args.seconds <= 0.0 {
        return Err("--seconds must be positive".into());
    }
    let baseline = if args.baseline {
        Some(worker::eventfd_baseline(20_000)?)
    } else {
        None
    };
    let (daemon, socket, control) = match &args.socket {
        Some(s) => (None, s.clone(), None),
        None => {
            let (d, s, c) = start_daemon(args, Stdio::inherit())?;
            (Some(d), s, Some(c))
        }
    };
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let start_at = monotonic_ns() + 700_000_000;
    let cpu_at_start = daemon.as_ref().and_then(|d| cpu_seconds(d.child.id()));
    let mut workers = Vec::new();
    for vm in 0..args.vms {
        let child = Command::new(&me)
            .arg("worker")
            .arg("--socket")
            .arg(&socket)
            .args(["--vm", &vm.to_string()])
            .args(["--vms", &args.vms.to_string()])
            .args(["--radios", &args.radios.to_string()])
            .args(["--size", &args.size.to_string()])
            .args(["--seconds", &args.seconds.to_string()])
            .args(["--broadcast", &args.broadcast.to_string()])
            .args(["--vms-per-channel", &args.vms_per_channel.to_string()])
            .args(["--rate", &args.rate.to_string()])
            .args(["--start-at", &start_at.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn worker: {e}"))?;
        workers.push(child);
    }
    let mut total = worker::Report::default();
    let mut hist = Histogram::default();
    let mut failures = Vec::new();
    for (vm, w) in workers.into_iter().enumerate() {
        let out = w.wait_with_output().map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout);
        match text.lines().last().map(worker::Report::parse) {
            Some(Ok((r, h))) if out.status.success() => {
                total.add(&r);
                hist.merge(&h);
            }
            Some(Err(e)) => failures.push(format!("vm{vm}: {e}")),
            _ => failures.push(format!("vm{vm}: exited with {}", out.status)),
        }
    }
    let rss = daemon.as_ref().and_then(|d| peak_rss_kib(d.child.id()));
    let anon = daemon.as_ref().and_then(|d| anon_rss_kib(d.child.id()));
    let cpu = daemon
        .as_ref()
        .and_then(|d| Some(cpu_seconds(d.child.id())? - cpu_at_start?));
    let counters = match &control {
        Some(c) => daemon_counters(
            c,
            &[
                "tx_frames",
                "deliveries_queued",
                "rx_written",
                "dropped_inbox_full",
                "dropped_pool_empty",
                "deliveries_lost",
                "tx_status_dropped",
                "capture_queued",
                "capture_dropped",
            ],
        )
        .ok(),
        None => None,
    };
    drop(daemon);
    if !failures.is_empty() {
        return Err(failures.join("; "));
    }
    let secs = args.seconds;
    let fps = total.received as f64 / secs;
    let gbps = total.rx_bytes as f64 * 8.0 / secs / 1e9;
    println!(
        "vms={} radios={} vms_per_channel={} size={} broadcast={}% rate={} seconds={}",
        args.vms, args.radios, args.vms_per_channel, args.size, args.broadcast, args.rate, secs
    );
    println!(
        "sent={} tx_statuses={} acked={} received={} tx_ring_full={} lost={}",
        total.sent,
        total.statuses,
        total.acked,
        total.received,
        total.ring_full,
        total.sent.saturating_sub(total.statuses)
    );
    if let Some(c) = &counters {
        let line: Vec<String> = c.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("daemon: {}", line.join(" "));
    }
    if let Some(b) = &baseline {
        println!(
            "baseline eventfd wake-up (thread to thread): p50_us={:.1} p99_us={:.1} p999_us={:.1}",
            b.quantile(0.5) as f64 / 1e3,
            b.quantile(0.99) as f64 / 1e3,
            b.quantile(0.999) as f64 / 1e3
        );
    }
    let mut last = format!(
        "frames_per_s={:.0} gbit_per_s={:.3} p50_us={:.1} p99_us={:.1} p999_us={:.1}",
        fps,
        gbps,
        hist.quantile(0.5) as f64 / 1e3,
        hist.quantile(0.99) as f64 / 1e3,
        hist.quantile(0.999) as f64 / 1e3
    );
    if let Some(b) = &baseline {
        last.push_str(&format!(
            " baseline_p99_us={:.1}",
            b.quantile(0.99) as f64 / 1e3
        ));
    }
    if let Some(kib) = rss {
        last.push_str(&format!(" daemon_peak_rss_mib={:.1}", kib as f64 / 1024.0));
    }
    if let Some(kib) = anon {
        last.push_str(&format!(" daemon_anon_rss_mib={:.1}", kib as f64 / 1024.0));
    }
    if let Some(cpu) = cpu {
        // CPU time over the run (set-up included), as a share of one core over the traffic
        // time, and per frame delivered.
        last.push_str(&format!(
            " daemon_cpu_pct={:.0} daemon_cpu_ns_per_frame={:.0}",
            cpu / secs * 100.0,
            if total.received > 0 {
                cpu * 1e9 / total.received as f64
            } else {
                0.0
            }
        ));
        // Per frame the daemon took from a TX ring, delivered or not: under overload frames
        // dropped for back-pressure cost work too.
        if let Some(tx) = counters
            .as_ref()
            .and_then(|c| c.iter().find(|(k, _)| *k == "tx_frames"))
            .map(|(_, v)| *v)
            .filter(|&v| v > 0)
        {
            last.push_str(&format!(
                " daemon_cpu_ns_per_tx={:.0}",
                cpu * 1e9 / tx as f64
            ));
        }
    }
    println!("{last}");
    Ok(())
}
