//! The soak's table and the bounds it states and checks.

use super::probe::{DaemonView, Sample};
use super::SoakArgs;

/// Bytes one buffer of the daemon's pool holds resident: `MsgBuf` in driver/src/switch/pool.rs
/// (2432 bytes of message and its length), allocated once and recycled for ever.
const POOL_BUF_BYTES: i64 = 2440;

pub(super) fn print_table(samples: &[Sample]) {
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

/// States and checks the bounds; pushes what is broken onto `failures`.
pub(super) fn check_bounds(
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
    if let Some(n) = end.departed_vms {
        println!("  VMs the daemon saw leave = cycles: {n} = {}", a.cycles);
        if n != a.cycles {
            failures.push(format!(
                "the daemon saw {n} VMs leave, {} cycles ran",
                a.cycles
            ));
        }
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
    // Memory is compared while guests run (the last sample has none, and less resident): the
    // highest sample after the first, against the first, which comes after the warm-up
    // (allocator arenas, the pool buffers the traffic needs).
    let busy = &samples[..samples.len() - 1];
    let growth_kib = |s: &Sample| {
        let pool = s.pool_allocated as i64 - first.pool_allocated as i64;
        s.rss_kib as i64 - first.rss_kib as i64 - pool * POOL_BUF_BYTES / 1024
    };
    let peak = busy
        .iter()
        .skip(1)
        .max_by_key(|s| growth_kib(s))
        .unwrap_or(first);
    let growth = growth_kib(peak) as f64 / 1024.0;
    let what = format!(
        "RSS growth from cycle {} to the highest later sample (cycle {}), less the buffer pool's growth ({:+} buffers)",
        first.cycle,
        peak.cycle,
        peak.pool_allocated as i64 - first.pool_allocated as i64
    );
    if a.no_rss_bound {
        println!("  {what}: {growth:+.2} MiB (not checked)");
    } else {
        println!("  {what} ≤ {} MiB: {growth:+.2} MiB", a.rss_growth_mib);
        if growth > a.rss_growth_mib {
            failures.push(format!(
                "RSS grew {growth:.2} MiB (bound {} MiB)",
                a.rss_growth_mib
            ));
        }
    }
    println!(
        "  RSS at the end, no VM: {:.2} MiB (baseline {:.2} MiB, not bounded: the allocator keeps freed pages)",
        last.rss_kib as f64 / 1024.0,
        baseline.rss_kib as f64 / 1024.0
    );
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
