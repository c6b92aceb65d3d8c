//! `--metrics ADDR`: the daemon's counters for Prometheus, `GET /metrics` over HTTP/1.1 in the
//! OpenMetrics 1.0 text format, encoded by the `prometheus-client` crate (the Prometheus
//! project's Rust client), which owns the format: family descriptors, the `_total` suffix of
//! counters, units, label escaping and the `# EOF` terminator.
//!
//! The counters stay where the data path keeps them. [`CoreCollector`] is the crate's
//! [`Collector`]: at each scrape, on the metrics thread, it reads them through
//! [`crate::stats::collect`] (relaxed atomic loads) and hands them to the encoder as constant
//! samples. The registry is built once, when the thread starts; nothing is registered or
//! updated per frame. Per VM (every named VM counter), per radio (frames, acknowledged,
//! received, lost, dropped), per radio and frequency and per link of each MLD (frames, bytes,
//! airtime, retries, acknowledged, lost, dropped), the control socket and the capture.
//!
//! The HTTP side stays a small responder written here: it answers one fixed path with one
//! body, one connection at a time with short timeouts ([`IO_WAIT`]), so a scraper that stalls
//! delays the next scrape by at most that, never a frame. The small blocking HTTP servers on
//! crates.io (tiny_http and the like) bring a worker pool, keep-alive and chunked bodies that a
//! scrape does not need and set no per-connection deadline of their own; the async ones bring a
//! runtime. Neither would make this shorter or safer.

use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use crate::core::Core;
use crate::counters::LinkStats;
use crate::stats::RadioStats;

/// How long a scraper may take to send its request or read the answer.
pub const IO_WAIT: Duration = Duration::from_secs(2);

/// Longest request head read, bytes.
const MAX_REQUEST: usize = 8192;

/// What `/metrics` answers with (OpenMetrics 1.0 text).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every family name starts with this (and `_`).
const PREFIX: &str = "vhost_hwsim";

/// Serves `listener` on a background thread.
pub fn spawn(core: Arc<Core>, listener: TcpListener) -> std::io::Result<()> {
    let registry = registry(core);
    std::thread::Builder::new()
        .name("vhost-hwsim-metrics".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                let _ = answer(&registry, conn);
            }
        })?;
    Ok(())
}

/// The registry a scrape encodes: one collector over `core`.
pub fn registry(core: Arc<Core>) -> Registry {
    let mut registry = Registry::with_prefix(PREFIX);
    registry.register_collector(Box::new(CoreCollector { core }));
    registry
}

/// The exposition text of every counter now, `# EOF` included.
pub fn render(registry: &Registry) -> Result<String, fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry)?;
    Ok(text)
}

fn answer(registry: &Registry, mut conn: TcpStream) -> std::io::Result<()> {
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
        ("GET", "/metrics") => match render(registry) {
            Ok(body) => respond(&mut conn, "200 OK", CONTENT_TYPE, &body),
            Err(fmt::Error) => respond(&mut conn, "500 Internal Server Error", "text/plain", ""),
        },
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

/// The entries of `stats` `vms[].counters` that are levels, not running totals (what waits in
/// the VM's inbox now, wake-ups not yet served): gauges, sampled without `_total`, so that a
/// `rate()` over them is not taken for meaningful.
const VM_GAUGES: [&str; 2] = ["inbox_waiting", "inbox_unserved"];

/// A sample's labels: (name, value) pairs, in the order they are written.
type Labels<const N: usize> = [(&'static str, String); N];

/// The label set of a family without labels.
const NO_LABELS: &[(&str, String)] = &[];

/// Reads the daemon's counters at each scrape and encodes them as constant samples.
pub struct CoreCollector {
    core: Arc<Core>,
}

impl fmt::Debug for CoreCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CoreCollector")
    }
}

impl Collector for CoreCollector {
    fn encode(&self, mut out: DescriptorEncoder) -> fmt::Result {
        let stats = crate::stats::collect(&self.core);
        let out = &mut out;
        let ap_vm = self.core.ap_vm.get().copied();
        let vms: Vec<_> = stats
            .vms
            .iter()
            .filter(|v| v.connected)
            .map(|vm| {
                let name = if Some(vm.id) == ap_vm {
                    "ap-mld".to_owned()
                } else {
                    format!("vm{}", vm.id)
                };
                let labels: Labels<2> = [("vm", vm.id.to_string()), ("name", name)];
                (labels, vm)
            })
            .collect();
        family(
            out,
            "vms_connected",
            "VM connections being served (the built-in AP MLD counts as one)",
            None,
            [(NO_LABELS, ConstGauge::new(vms.len() as u64))],
        )?;
        family(
            out,
            "vms_departed",
            "VM connections that have ended",
            None,
            [(NO_LABELS, ConstCounter::new(stats.departed.vms))],
        )?;
        // Every VM has the same named counters; a family per name, a sample per VM.
        let names: std::collections::BTreeSet<&str> = vms
            .iter()
            .flat_map(|(_, vm)| vm.counters.keys().copied())
            .collect();
        for name in names {
            let values = vms.iter().filter_map(|(labels, vm)| {
                let v = *vm.counters.get(name)?;
                Some((labels.as_slice(), v))
            });
            let family_name = format!("vm_{name}");
            if VM_GAUGES.contains(&name) {
                let help = format!("VM gauge {name} (see `stats`)");
                let samples = values.map(|(l, v)| (l, ConstGauge::new(v)));
                family(out, &family_name, &help, None, samples)?;
            } else {
                let help = format!("VM counter {name} (see `stats`)");
                let samples = values.map(|(l, v)| (l, ConstCounter::new(v)));
                family(out, &family_name, &help, None, samples)?;
            }
        }
        family(
            out,
            "vm_malformed",
            "Messages from the guest that did not parse (dropped)",
            None,
            vms.iter().map(|(labels, vm)| {
                let malformed: u64 = vm.malformed.values().sum();
                (labels.as_slice(), ConstCounter::new(malformed))
            }),
        )?;

        let radios: Vec<_> = stats
            .radios
            .iter()
            .filter(|r| r.connected)
            .map(|r| {
                let labels: Labels<2> = [("vm", r.vm.to_string()), ("radio", r.wire.clone())];
                (labels, r)
            })
            .collect();
        type PerRadio = (&'static str, &'static str, fn(&RadioStats) -> u64);
        let per_radio: [PerRadio; 6] = [
            ("radio_tx_frames", "Frames the radio sent", |r| r.tx_frames),
            (
                "radio_tx_acked",
                "Frames the radio sent that were acknowledged (unicast) or sent (group)",
                |r| r.tx_acked,
            ),
            (
                "radio_tx_status_dropped",
                "TX statuses for the radio dropped (its VM did not take them)",
                |r| r.tx_status_dropped,
            ),
            ("radio_rx_delivered", "Frames delivered to the radio", |r| {
                r.rx_delivered
            }),
            (
                "radio_rx_lost",
                "Frames for the radio lost on the medium",
                |r| r.rx_lost,
            ),
            (
                "radio_rx_dropped",
                "Frames for the radio dropped for back-pressure",
                |r| r.rx_dropped,
            ),
        ];
        for (name, help, value) in per_radio {
            family(
                out,
                name,
                help,
                None,
                radios
                    .iter()
                    .map(|(labels, r)| (labels.as_slice(), ConstCounter::new(value(r)))),
            )?;
        }
        let radio_links: Vec<_> = radios
            .iter()
            .flat_map(|(_, r)| r.links.iter().map(move |l| (r, l)))
            .map(|(r, l)| {
                let labels: Labels<3> = [
                    ("vm", r.vm.to_string()),
                    ("radio", r.wire.clone()),
                    ("freq", l.freq.to_string()),
                ];
                (labels, l)
            })
            .collect();
        link_families(
            out,
            "radio_link",
            "by this radio on this frequency",
            &radio_links,
        )?;
        let mld_links: Vec<_> = stats
            .mlds
            .iter()
            .flat_map(|mld| mld.links.iter().map(move |l| (mld, l)))
            .filter_map(|(mld, l)| {
                let counters = l.counters.as_ref()?;
                let labels: Labels<5> = [
                    ("kind", mld.kind.to_owned()),
                    ("mld", mld.mld_addr.clone()),
                    ("link_id", l.link_id.to_string()),
                    ("addr", l.addr.clone()),
                    ("freq", l.freq.map(|f| f.to_string()).unwrap_or_default()),
                ];
                Some((labels, counters))
            })
            .collect();
        link_families(out, "mld_link", "on this MLD link", &mld_links)?;

        let c = &stats.control;
        let control: [(&str, &str, u64); 6] = [
            ("control_requests", "Control requests answered", c.requests),
            (
                "control_changes",
                "Changes put in force through the control socket",
                c.changes,
            ),
            ("control_refused", "Control requests refused", c.refused),
            (
                "control_dropped_malformed",
                "Control clients dropped for a line that is not JSON",
                c.dropped_malformed,
            ),
            (
                "control_dropped_too_long",
                "Control clients dropped for a line over 64 KiB",
                c.dropped_too_long,
            ),
            (
                "control_dropped_stalled",
                "Control clients dropped for not reading their answers",
                c.dropped_stalled,
            ),
        ];
        for (name, help, v) in control {
            family(out, name, help, None, [(NO_LABELS, ConstCounter::new(v))])?;
        }
        if let Some(cap) = &stats.capture {
            family(
                out,
                "capture_written",
                "Packets written by the capture",
                None,
                [(NO_LABELS, ConstCounter::new(cap.written))],
            )?;
            family(
                out,
                "capture_dropped",
                "Packets the capture dropped (queue full)",
                None,
                [(NO_LABELS, ConstCounter::new(cap.dropped))],
            )?;
        }
        family(
            out,
            "pool_free_buffers",
            "Message buffers free in the pool",
            None,
            [(NO_LABELS, ConstGauge::new(stats.pool_free as u64))],
        )
    }
}

/// One family: its descriptor, then one sample per label set. A family with no sample is left
/// out (OpenMetrics allows an empty family, but an absent one reads the same to a scraper and
/// keeps the page short).
fn family<L: EncodeLabelSet, M: EncodeMetric>(
    out: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    samples: impl IntoIterator<Item = (L, M)>,
) -> fmt::Result {
    let mut samples = samples.into_iter().peekable();
    let Some((_, first)) = samples.peek() else {
        return Ok(());
    };
    let mut metric = out.encode_descriptor(name, help, unit, first.metric_type())?;
    for (labels, value) in samples {
        value.encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

/// The seven per-link families, `{prefix}_frames` … `{prefix}_dropped`, a sample per entry.
fn link_families<const N: usize>(
    out: &mut DescriptorEncoder,
    prefix: &str,
    what: &str,
    links: &[(Labels<N>, &LinkStats)],
) -> fmt::Result {
    type PerLink = (&'static str, String, fn(&LinkStats) -> u64);
    let counters: [PerLink; 6] = [
        ("frames", format!("Frames sent {what}"), |l| l.frames),
        (
            "bytes",
            format!("Bytes (802.11, no FCS) sent {what}"),
            |l| l.bytes,
        ),
        ("retries", format!("Retransmissions {what}"), |l| l.retries),
        (
            "acked",
            format!("Frames acknowledged (unicast) or sent (group) {what}"),
            |l| l.acked,
        ),
        (
            "lost",
            format!("Unicast frames not acknowledged after the whole retry chain {what}"),
            |l| l.lost,
        ),
        (
            "dropped",
            format!("Deliveries of frames sent {what} dropped for back-pressure, one per receiver"),
            |l| l.dropped,
        ),
    ];
    for (name, help, value) in counters {
        family(
            out,
            &format!("{prefix}_{name}"),
            &help,
            None,
            links
                .iter()
                .map(|(labels, l)| (labels.as_slice(), ConstCounter::new(value(l)))),
        )?;
    }
    // Seconds as a float counter: the encoder appends the unit, `_seconds_total`.
    family(
        out,
        &format!("{prefix}_airtime"),
        &format!("Time on the air of every attempt sent {what}"),
        Some(&Unit::Seconds),
        links.iter().map(|(labels, l)| {
            (
                labels.as_slice(),
                ConstCounter::new(l.airtime_us as f64 / 1e6),
            )
        }),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::core::Limits;
    use crate::medium::PerfectMedium;

    /// The OpenMetrics rules a scraper relies on: one `# EOF`, last; each family's descriptor
    /// once, its samples right after it (never interleaved with another family's), counters
    /// sampled as `_total`.
    fn assert_well_formed(text: &str) {
        assert!(text.ends_with("\n# EOF\n"), "{text}");
        assert_eq!(text.matches("# EOF").count(), 1, "{text}");
        let mut seen = std::collections::BTreeSet::new();
        let mut current: Option<(String, String)> = None;
        for line in text.lines().filter(|l| *l != "# EOF") {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
                assert!(
                    seen.insert(name.to_owned()),
                    "{name} described twice:\n{text}"
                );
                current = Some((name.to_owned(), kind.to_owned()));
            } else if !line.starts_with('#') {
                let (name, kind) = current.as_ref().expect("a sample before any # TYPE");
                let sample = line.split(['{', ' ']).next().unwrap();
                let want = if kind == "counter" {
                    format!("{name}_total")
                } else {
                    name.clone()
                };
                assert_eq!(sample, want, "a sample outside its family:\n{text}");
            }
        }
    }

    #[test]
    fn a_scrape_reads_the_vm_counters_as_they_are_then_in_openmetrics_text() {
        let core = Core::new(Arc::new(PerfectMedium::default()), Limits::default());
        let (guest, ap) = (core.new_vm().unwrap(), core.new_vm().unwrap());
        core.register_vm(&guest);
        core.register_vm(&ap);
        core.ap_vm.set(ap.id).unwrap();
        guest.counters.tx_frames.store(5, Ordering::Relaxed);
        let registry = registry(Arc::clone(&core));

        let text = render(&registry).unwrap();
        assert_well_formed(&text);
        let (g, a) = (guest.id, ap.id);
        assert!(
            text.contains("# TYPE vhost_hwsim_vm_tx_frames counter\n"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "vhost_hwsim_vm_tx_frames_total{{vm=\"{g}\",name=\"vm{g}\"}} 5\n"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "vhost_hwsim_vm_tx_frames_total{{vm=\"{a}\",name=\"ap-mld\"}} 0\n"
            )),
            "{text}"
        );
        assert!(
            text.contains("# TYPE vhost_hwsim_vm_inbox_waiting gauge\n"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "vhost_hwsim_vm_inbox_waiting{{vm=\"{g}\",name=\"vm{g}\"}} 0\n"
            )),
            "{text}"
        );
        assert!(text.contains("# TYPE vhost_hwsim_vm_inbox_unserved gauge\n"));
        assert!(text.contains("\nvhost_hwsim_vms_connected 2\n"), "{text}");
        assert!(
            text.contains("\nvhost_hwsim_vms_departed_total 0\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE vhost_hwsim_pool_free_buffers gauge\n"));
        assert!(text.contains(&format!(
            "\nvhost_hwsim_pool_free_buffers {}\n",
            core.pool.free()
        )));
        // No capture runs: its families are absent, not zero.
        assert!(!text.contains("capture_"), "{text}");

        // Nothing was cached: the next scrape sees the counter move.
        guest.counters.tx_frames.store(9, Ordering::Relaxed);
        let text = render(&registry).unwrap();
        assert!(
            text.contains(&format!(
                "vhost_hwsim_vm_tx_frames_total{{vm=\"{g}\",name=\"vm{g}\"}} 9\n"
            )),
            "{text}"
        );
    }

    /// Encodes [`link_families`] for one link, and a family whose label value needs escaping.
    #[derive(Debug)]
    struct Fixed;

    impl Collector for Fixed {
        fn encode(&self, mut out: DescriptorEncoder) -> fmt::Result {
            let link = LinkStats {
                freq: 5180,
                frames: 3,
                bytes: 300,
                airtime_us: 1_500_000,
                retries: 1,
                acked: 2,
                lost: 1,
                dropped: 4,
            };
            let labels: Labels<1> = [("freq", "5180".to_owned())];
            link_families(&mut out, "test_link", "in the test", &[(labels, &link)])?;
            let hostile: Labels<1> = [("name", "a\"b\\c\nd".to_owned())];
            family(
                &mut out,
                "test_escaped",
                "A label value with a quote, a backslash and a newline",
                None,
                [(hostile.as_slice(), ConstCounter::new(1u64))],
            )
        }
    }

    #[test]
    fn link_families_count_airtime_in_seconds_and_label_values_are_escaped() {
        let mut registry = Registry::with_prefix(PREFIX);
        registry.register_collector(Box::new(Fixed));
        let text = render(&registry).unwrap();
        assert_well_formed(&text);
        for (name, v) in [
            ("frames", "3"),
            ("bytes", "300"),
            ("retries", "1"),
            ("acked", "2"),
            ("lost", "1"),
            ("dropped", "4"),
        ] {
            let line = format!("vhost_hwsim_test_link_{name}_total{{freq=\"5180\"}} {v}\n");
            assert!(text.contains(&line), "{line}in\n{text}");
        }
        assert!(text.contains("# TYPE vhost_hwsim_test_link_airtime_seconds counter\n"));
        assert!(text.contains("# UNIT vhost_hwsim_test_link_airtime_seconds seconds\n"));
        assert!(
            text.contains("vhost_hwsim_test_link_airtime_seconds_total{freq=\"5180\"} 1.5\n"),
            "{text}"
        );
        assert!(
            text.contains(r#"vhost_hwsim_test_escaped_total{name="a\"b\\c\nd"} 1"#),
            "{text}"
        );
    }
}
