//! The multi-link scene (the default `demo`): the built-in AP MLD (crate `hwsim-ap`, three
//! links, one radio each, attached to the daemon like a VM) and a simulated VM with a non-AP
//! MLD of three radios ([`hwsim_sta::station`]) that sets up a protected multi-link association
//! with it: scan, ML probe, Open System authentication, ML association with OWE, the MLO 4-way
//! handshake, CCMP-protected QoS data on all three links both ways, protected
//! deauthentication.
//!
//! The AP MLD's distribution system is an in-process port ([`hwsim_ap::ds::LocalDs`]): the
//! demo plays a host behind the AP, sending Ethernet frames to the station (the AP spreads
//! them over the links, round-robin) and receiving the station's. Every frame crosses the
//! daemon, so the MLD tracker learns both MLDs and a capture names each link's interface
//! after its MLD.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hwsim_ap::ds::{DistributionSystem, LocalDs};

use super::{check_tallies, print_radio_table, Daemon, DemoArgs};
use crate::mld::MldKind;
use crate::stats::MldStats;
use hwsim_sta::frames::LINKS;
use hwsim_sta::scene::{Phases, AP_MLD, HOST, STA_MLD};
use hwsim_sta::station::{run_sta, ETHERTYPE_DEMO};

/// The built-in AP MLD of the demo: OWE with PMF required, links 2.4 GHz channel 1 (20 MHz),
/// 5 GHz channel 36 (80 MHz), 6 GHz channel 37 (80 MHz); the addresses of [`AP_MLD`].
pub(crate) const AP_CONFIG: &str = r#"
ssid = "vhost-hwsim-mlo"
mld_addr = "02:a0:00:00:00:01"
security = "owe"
beacon_interval_tu = 100

[[link]]
id = 0
band = "2.4"
channel = 1
bssid = "02:a0:00:00:01:00"

[[link]]
id = 1
band = "5"
channel = 36
width = 80
bssid = "02:a0:00:00:01:01"

[[link]]
id = 2
band = "6"
channel = 37
width = 80
bssid = "02:a0:00:00:01:02"
"#;

/// Seed of the AP MLD's keys and nonces (the demo is reproducible).
const AP_SEED: u64 = 0xa9;

/// What the host behind the AP MLD's distribution system sent and received.
#[derive(Debug, Default, Clone, Copy)]
struct HostTally {
    sent: u64,
    send_errors: u64,
    received: u64,
}

/// Runs the scene and prints the setup, the MLD table, the per-radio table and the AP MLD's
/// counters.
pub fn run(args: &DemoArgs) -> Result<(), String> {
    let daemon = Daemon::start(args)?;
    let cfg = hwsim_ap::ApConfig::parse(AP_CONFIG).map_err(|e| format!("demo AP MLD: {e}"))?;
    let (ap_end, mut host) = LocalDs::pair().map_err(|e| format!("AP MLD port: {e}"))?;
    // The AP MLD connects first, so that the station is VM 2 (VM numbers follow the
    // connections).
    let ap = crate::setup::attach_builtin_ap(
        &daemon.core,
        hwsim_ap::ApMld::new(cfg, AP_SEED),
        Some(Box::new(ap_end)),
    )?;
    let phases = Arc::new(Phases {
        traffic_done: AtomicBool::new(false),
        secured: AtomicBool::new(false),
    });
    let gap = Duration::from_secs_f64(1.0 / f64::from(args.rate));
    let sta = {
        let (socket, phases) = (daemon.socket.clone(), Arc::clone(&phases));
        std::thread::spawn(move || run_sta(&socket, &phases, gap))
    };
    let host_tally = run_host(&mut host, &phases, args.seconds, gap);
    // The table while associated; deauthentication removes the non-AP MLD.
    daemon.core.mld.process_pending(&daemon.core);
    let (during, _) = crate::stats::mld_stats(&daemon.core);
    phases.traffic_done.store(true, Ordering::Release);
    let sta = sta
        .join()
        .map_err(|_| "the non-AP MLD panicked".to_string());
    // Let the AP MLD take the deauthentication before it stops.
    let left = Instant::now() + Duration::from_millis(500);
    let mut ap_counters = ap.counters();
    while Instant::now() < left && ap_counters.as_ref().is_some_and(|c| c.1.departures == 0) {
        std::thread::sleep(Duration::from_millis(10));
        ap_counters = ap.counters();
    }
    let ap_stats = ap.stop();
    daemon.core.mld.process_pending(&daemon.core);
    let after = daemon.core.mld.table();
    let stats = crate::stats::collect(&daemon.core);
    let daemon_ap_vm = daemon.core.ap_vm.get().copied();
    daemon.stop();
    let sta = sta??;

    println!(
        "vhost-hwsim demo: multi-link operation, built-in AP MLD + 1 simulated VM x 3 radios, {} medium, {:.1} s",
        stats.medium, args.seconds
    );
    println!(
        "  ap-mld: AP MLD {} (OWE, PMF required) — link 0 2.4 GHz ch 1, link 1 5 GHz ch 36 (80 MHz), link 2 6 GHz ch 37 (80 MHz)",
        AP_MLD.mld
    );
    println!("  vm2: non-AP MLD {} — one radio per link", STA_MLD.mld);
    println!();
    for (t, what) in &sta.events {
        println!("  {:>8.1} ms  {what}", t.as_secs_f64() * 1e3);
    }
    println!();
    println!(
        "protected data (non-AP MLD): sent per link {:?}, decrypted per link {:?}, dropped {}",
        sta.data_tx, sta.data_rx, sta.rx_dropped
    );
    println!(
        "beacon protection (non-AP MLD): beacons verified per link {:?} (BIP-CMAC-128 under each link's BIGTK, BIPN rising), failed {}",
        sta.beacons_verified, sta.beacons_failed
    );
    println!(
        "host behind the AP MLD: sent {} Ethernet frames to the station ({} refused), received {} from it",
        host_tally.sent, host_tally.send_errors, host_tally.received
    );
    println!();
    println!("MLDs the daemon's tracker learned, with what each link sent (while associated):");
    print!("{}", mld_table(&during, daemon_ap_vm));
    let gone = after.mld(MldKind::NonAp, STA_MLD.mld).is_none();
    println!(
        "  after deauthentication: non-AP MLD {}",
        if gone { "removed" } else { "still listed" }
    );
    println!();
    print_radio_table(&stats);
    println!();
    if let Some((_, data, ids)) = &ap_counters {
        println!(
            "AP MLD (built in): {} beacons, {} frames sent ({} errors), {} received, {} malformed",
            ap_stats.beacons,
            ap_stats.tx_frames,
            ap_stats.tx_errors,
            ap_stats.rx_frames,
            ap_stats.rx_malformed
        );
        for (i, id) in ids.iter().enumerate() {
            println!(
                "  link {id}: data sent {} (EAPOL included), received {}",
                data.tx.get(i).copied().unwrap_or(0),
                data.rx.get(i).copied().unwrap_or(0)
            );
        }
        println!(
            "  4-way handshakes {}, departures {}, data dropped {}; distribution system: {} frames in, {} out",
            data.handshakes, data.departures, data.rx_dropped, ap_stats.tap_rx, ap_stats.tap_tx
        );
    }
    check_tallies(&[sta.tally])?;
    if !sta.associated {
        return Err("the non-AP MLD did not associate".into());
    }
    if !sta.secured {
        return Err("the 4-way handshake did not complete".into());
    }
    if sta.beacons_failed > 0 || sta.beacons_verified.contains(&0) {
        return Err(format!(
            "beacon protection: {:?} beacons verified per link, {} failed",
            sta.beacons_verified, sta.beacons_failed
        ));
    }
    Ok(())
}

/// The host behind the AP MLD for `seconds`: once the station is secured, three Ethernet
/// frames to it per `gap` (the AP MLD spreads them over its three links) and every frame the
/// station sends it counted.
fn run_host(host: &mut LocalDs, phases: &Phases, seconds: f64, gap: Duration) -> HostTally {
    let mut tally = HostTally::default();
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    // Set when the station is first seen secured, so that no backlog is sent in a burst.
    let mut next: Option<Instant> = None;
    let mut eth = Vec::with_capacity(64);
    eth.extend_from_slice(&STA_MLD.mld.0);
    eth.extend_from_slice(&HOST.0);
    eth.extend_from_slice(&ETHERTYPE_DEMO.to_be_bytes());
    eth.extend_from_slice(b"vhost-hwsim demo: downlink");
    let mut buf = [0u8; 2048];
    while Instant::now() < end && !super::stopped_early() {
        if next.is_none() && phases.secured.load(Ordering::Acquire) {
            next = Some(Instant::now());
        }
        if let Some(due) = next.as_mut().filter(|d| Instant::now() >= **d) {
            for _ in 0..LINKS.len() {
                match host.send(&eth) {
                    Ok(()) => tally.sent += 1,
                    Err(_) => tally.send_errors += 1,
                }
            }
            *due += gap;
        }
        while let Ok(Some(n)) = host.recv(&mut buf) {
            if n >= 14 && buf[..6] == HOST.0 {
                tally.received += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    tally
}

/// One row per MLD link: MLD, kind, link ID, frequency, link address, radio, and the link's
/// counters (frames sent on it, of which acknowledged, airtime).
/// The built-in AP MLD's connection (`ap_vm`) is shown as `ap-mld`.
fn mld_table(mlds: &[MldStats], ap_vm: Option<u32>) -> String {
    use std::fmt::Write;
    let mut s = format!(
        "{:<18} {:<6} {:>4} {:>5}  {:<18} {:<26} {:>6} {:>6} {:>9}\n",
        "mld", "kind", "link", "MHz", "link address", "radio", "sent", "acked", "airtime"
    );
    for m in mlds {
        for l in &m.links {
            let radio = match (l.vm, &l.radio) {
                (Some(vm), Some(wire)) if Some(vm) == ap_vm => format!("ap-mld/{wire}"),
                (Some(vm), Some(wire)) => format!("vm{vm}/{wire}"),
                _ => "?".into(),
            };
            let (sent, acked, airtime) =
                l.counters
                    .as_ref()
                    .map_or(("-".into(), "-".into(), "-".into()), |c| {
                        (
                            c.frames.to_string(),
                            c.acked.to_string(),
                            format!("{:.1} ms", c.airtime_us as f64 / 1e3),
                        )
                    });
            let _ = writeln!(
                s,
                "{:<18} {:<6} {:>4} {:>5}  {:<18} {:<26} {:>6} {:>6} {:>9}",
                m.mld_addr,
                m.kind,
                l.link_id,
                l.freq.map_or("?".into(), |f| f.to_string()),
                l.addr,
                radio,
                sent,
                acked,
                airtime,
            );
        }
    }
    s
}
