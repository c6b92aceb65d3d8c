//! `--metrics ADDR`: the daemon's counters for Prometheus, `GET /metrics` over HTTP/1.1 in the
//! text exposition format (version 0.0.4, which OpenMetrics scrapers accept too).
//!
//! A scrape reads the counters the data path already keeps (relaxed atomic loads through
//! [`crate::stats::collect`]) on the metrics thread; nothing is added to the data path. Per VM
//! (every named VM counter), per radio (frames, acknowledged, received, lost, dropped), per
//! radio and frequency and per link of each MLD (frames, bytes, airtime, retries, acknowledged,
//! lost), the control socket and the capture.
//!
//! The responder is written here rather than taken from a crate: it answers one fixed path
//! with one text body, and the counters live in the daemon's own atomics, read at scrape time,
//! which a metrics library's registry of its own metric objects would only wrap. Connections
//! are served one at a time with short timeouts ([`IO_WAIT`]): a scraper that stalls delays the
//! next scrape by at most that, never a frame.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::core::Core;

/// How long a scraper may take to send its request or read the answer.
pub const IO_WAIT: Duration = Duration::from_secs(2);

/// Longest request head read, bytes.
const MAX_REQUEST: usize = 8192;

/// Serves `listener` on a background thread.
pub fn spawn(core: Arc<Core>, listener: TcpListener) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("vhost-hwsim-metrics".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                let _ = answer(&core, conn);
            }
        })?;
    Ok(())
}

fn answer(core: &Core, mut conn: TcpStream) -> std::io::Result<()> {
    conn.set_read_timeout(Some(IO_WAIT))?;
    conn.set_write_timeout(Some(IO_WAIT))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_REQUEST {
            return respond(
                &mut conn,
                "431 Request Header Fields Too Large",
                "text/plain",
                "",
            );
        }
    }
    let request_line = String::from_utf8_lossy(&head);
    let mut words = request_line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET", "/metrics") => respond(
            &mut conn,
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            &render(core),
        ),
        ("GET", _) => respond(&mut conn, "404 Not Found", "text/plain", "try /metrics\n"),
        _ => respond(&mut conn, "405 Method Not Allowed", "text/plain", ""),
    }
}

fn respond(conn: &mut TcpStream, status: &str, kind: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes())?;
    conn.write_all(body.as_bytes())
}

/// Metric families by name: type, help, samples (labels, value).
#[derive(Default)]
struct Families {
    by_name: BTreeMap<String, Family>,
}

struct Family {
    kind: &'static str,
    help: String,
    samples: Vec<(String, f64)>,
}

impl Families {
    fn add(&mut self, name: &str, kind: &'static str, help: &str, labels: &[(&str, &str)], v: f64) {
        let family = self
            .by_name
            .entry(format!("vhost_hwsim_{name}"))
            .or_insert_with(|| Family {
                kind,
                help: help.to_owned(),
                samples: Vec::new(),
            });
        let mut text = String::new();
        for (i, (k, val)) in labels.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(text, "{sep}{k}=\"{}\"", escape(val));
        }
        family.samples.push((text, v));
    }

    fn counter(&mut self, name: &str, help: &str, labels: &[(&str, &str)], v: u64) {
        self.add(name, "counter", help, labels, v as f64);
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for (name, f) in &self.by_name {
            let _ = writeln!(out, "# HELP {name} {}", f.help);
            let _ = writeln!(out, "# TYPE {name} {}", f.kind);
            for (labels, v) in &f.samples {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {v}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {v}");
                }
            }
        }
        out
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition text of every counter now.
pub fn render(core: &Core) -> String {
    let stats = crate::stats::collect(core);
    let mut m = Families::default();
    let ap_vm = core.ap_vm.get().copied();
    let vm_name = |id: u32| {
        if Some(id) == ap_vm {
            "ap-mld".to_owned()
        } else {
            format!("vm{id}")
        }
    };
    m.add(
        "vms_connected",
        "gauge",
        "VM connections being served (the built-in AP MLD counts as one)",
        &[],
        stats.vms.iter().filter(|v| v.connected).count() as f64,
    );
    m.counter(
        "vms_departed_total",
        "VM connections that have ended",
        &[],
        stats.departed.vms,
    );
    for vm in stats.vms.iter().filter(|v| v.connected) {
        let (id, name) = (vm.id.to_string(), vm_name(vm.id));
        let labels = [("vm", id.as_str()), ("name", name.as_str())];
        for (counter, v) in &vm.counters {
            m.counter(
                &format!("vm_{counter}_total"),
                &format!("VM counter {counter} (see `stats`)"),
                &labels,
                *v,
            );
        }
        let malformed: u64 = vm.malformed.values().sum();
        m.counter(
            "vm_malformed_total",
            "Messages from the guest that did not parse (dropped)",
            &labels,
            malformed,
        );
    }
    for r in stats.radios.iter().filter(|r| r.connected) {
        let vm = r.vm.to_string();
        let labels = [("vm", vm.as_str()), ("radio", r.wire.as_str())];
        let per_radio: [(&str, &str, u64); 6] = [
            (
                "radio_tx_frames_total",
                "Frames the radio sent",
                r.tx_frames,
            ),
            (
                "radio_tx_acked_total",
                "Frames the radio sent that were acknowledged (unicast) or sent (group)",
                r.tx_acked,
            ),
            (
                "radio_tx_status_dropped_total",
                "TX statuses for the radio dropped (its VM did not take them)",
                r.tx_status_dropped,
            ),
            (
                "radio_rx_delivered_total",
                "Frames delivered to the radio",
                r.rx_delivered,
            ),
            (
                "radio_rx_lost_total",
                "Frames for the radio lost on the medium",
                r.rx_lost,
            ),
            (
                "radio_rx_dropped_total",
                "Frames for the radio dropped for back-pressure",
                r.rx_dropped,
            ),
        ];
        for (name, help, v) in per_radio {
            m.counter(name, help, &labels, v);
        }
        for l in &r.links {
            let freq = l.freq.to_string();
            let labels = [
                ("vm", vm.as_str()),
                ("radio", r.wire.as_str()),
                ("freq", freq.as_str()),
            ];
            link_counters(&mut m, "radio_link", &labels, l);
        }
    }
    for mld in &stats.mlds {
        for l in &mld.links {
            let Some(c) = &l.counters else { continue };
            let link_id = l.link_id.to_string();
            let freq = l.freq.map(|f| f.to_string()).unwrap_or_default();
            let labels = [
                ("kind", mld.kind),
                ("mld", mld.mld_addr.as_str()),
                ("link_id", link_id.as_str()),
                ("addr", l.addr.as_str()),
                ("freq", freq.as_str()),
            ];
            link_counters(&mut m, "mld_link", &labels, c);
        }
    }
    let c = &stats.control;
    let control: [(&str, &str, u64); 6] = [
        (
            "control_requests_total",
            "Control requests answered",
            c.requests,
        ),
        (
            "control_changes_total",
            "Changes put in force through the control socket",
            c.changes,
        ),
        (
            "control_refused_total",
            "Control requests refused",
            c.refused,
        ),
        (
            "control_dropped_malformed_total",
            "Control clients dropped for a line that is not JSON",
            c.dropped_malformed,
        ),
        (
            "control_dropped_too_long_total",
            "Control clients dropped for a line over 64 KiB",
            c.dropped_too_long,
        ),
        (
            "control_dropped_stalled_total",
            "Control clients dropped for not reading their answers",
            c.dropped_stalled,
        ),
    ];
    for (name, help, v) in control {
        m.counter(name, help, &[], v);
    }
    if let Some(cap) = &stats.capture {
        m.counter(
            "capture_written_total",
            "Packets written by the capture",
            &[],
            cap.written,
        );
        m.counter(
            "capture_dropped_total",
            "Packets the capture dropped (queue full)",
            &[],
            cap.dropped,
        );
    }
    m.add(
        "pool_free_buffers",
        "gauge",
        "Message buffers free in the pool",
        &[],
        stats.pool_free as f64,
    );
    m.render()
}

fn link_counters(
    m: &mut Families,
    prefix: &str,
    labels: &[(&str, &str)],
    l: &crate::counters::LinkStats,
) {
    let what = if prefix == "mld_link" {
        "on this MLD link"
    } else {
        "by this radio on this frequency"
    };
    m.counter(
        &format!("{prefix}_frames_total"),
        &format!("Frames sent {what}"),
        labels,
        l.frames,
    );
    m.counter(
        &format!("{prefix}_bytes_total"),
        &format!("Bytes (802.11, no FCS) sent {what}"),
        labels,
        l.bytes,
    );
    m.add(
        &format!("{prefix}_airtime_seconds_total"),
        "counter",
        &format!("Time on the air of every attempt sent {what}"),
        labels,
        l.airtime_us as f64 / 1e6,
    );
    m.counter(
        &format!("{prefix}_retries_total"),
        &format!("Retransmissions {what}"),
        labels,
        l.retries,
    );
    m.counter(
        &format!("{prefix}_acked_total"),
        &format!("Frames acknowledged (unicast) or sent (group) {what}"),
        labels,
        l.acked,
    );
    m.counter(
        &format!("{prefix}_lost_total"),
        &format!("Unicast frames not acknowledged after the whole retry chain {what}"),
        labels,
        l.lost,
    );
}
