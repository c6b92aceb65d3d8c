//! What the soak reads of the daemon: its /proc entries and its `stats`.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

/// One reading of the daemon.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Sample {
    pub(super) cycle: u64,
    pub(super) elapsed_s: f64,
    pub(super) rss_kib: u64,
    pub(super) fds: i64,
    pub(super) threads: i64,
    pub(super) connected_vms: u64,
    pub(super) listed_vms: u64,
    pub(super) relay_sockets: i64,
    pub(super) pool_allocated: u64,
}

/// The daemon's figures that `stats` reports.
#[derive(Debug, Default)]
pub(super) struct DaemonView {
    pub(super) connected_vms: u64,
    pub(super) listed_vms: u64,
    pub(super) pool_allocated: u64,
    /// VMs that have left, as the daemon counts them.
    pub(super) departed_vms: Option<u64>,
    /// Per-VM counters summed over every VM the daemon ever had.
    pub(super) totals: std::collections::BTreeMap<String, u64>,
}

impl DaemonView {
    pub(super) fn get(&self, name: &str) -> u64 {
        self.totals.get(name).copied().unwrap_or(0)
    }
}

pub(super) fn stats(control: &Path) -> Result<DaemonView, String> {
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
    // Connected VMs plus the departed VMs' totals; a daemon without those totals lists every VM
    // it ever had.
    let departed = &v["departed"];
    view.departed_vms = departed["vms"].as_u64();
    let listed = vms
        .iter()
        .filter(|vm| departed.is_null() || vm["connected"] == true)
        .map(|vm| &vm["counters"]);
    for counters in listed.chain(std::iter::once(&departed["counters"])) {
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

/// Entries of `path` whose name starts with `prefix`, a leading dot aside.
fn count_dir(path: impl AsRef<Path>, prefix: &str) -> i64 {
    std::fs::read_dir(path).map_or(-1, |d| {
        d.flatten()
            .filter(|e| {
                let name = e.file_name();
                name.to_string_lossy()
                    .trim_start_matches('.')
                    .starts_with(prefix)
            })
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
        // The private sockets the daemon's VM handlers dial (server.rs; in a directory
        // `.vhost-hwsim-PID-N` of their own): none should outlive the connection's setup.
        relay_sockets: count_dir(std::env::temp_dir(), &format!("vhost-hwsim-{pid}-")),
        pool_allocated: view.pool_allocated,
    })
}

/// A sample once the daemon has `vms` VMs connected and its descriptor and thread counts hold
/// still over 50 ms: a VM's teardown ends on threads of its own, a moment after the guest has
/// gone. Gives up after 10 s (a hang) and returns the last reading, which the bounds then judge.
pub(super) fn sample_settled(
    pid: u32,
    control: &Path,
    cycle: u64,
    vms: u64,
    t0: Instant,
) -> Result<Sample, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut prev: Option<Sample> = None;
    loop {
        let s = sample(pid, control, cycle, t0)?;
        let still = prev.is_some_and(|p| p.fds == s.fds && p.threads == s.threads);
        if (still && s.connected_vms == vms) || Instant::now() > deadline {
            return Ok(s);
        }
        prev = Some(s);
        std::thread::sleep(Duration::from_millis(50));
    }
}
