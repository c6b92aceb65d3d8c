//! The multi-link scene (the default `demo`): an AP MLD with three links, one radio each, in
//! simulated VM 1, and a non-AP MLD with three radios in simulated VM 2.
//!
//! The AP MLD beacons every 100 ms on each link (Basic Multi-Link element, RNR naming the
//! other two links, RSNE, EHT Capabilities / Operation) and answers what the station sends.
//! The station scans (beacons on all three radios), sends an ML probe request on its 5 GHz
//! link, authenticates (Open System), associates with per-STA profiles for its 2.4 and 6 GHz
//! links, then sends QoS data on all three links while the AP MLD sends to it on all three.
//! At the end it deauthenticates. Every frame crosses the daemon, so the MLD tracker learns
//! both MLDs and a capture names each link's interface after its MLD.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use hwsim_frame::ie::{self, ElementId, MultiLinkRepr, MultiLinkType};
use hwsim_frame::mac::{self, mgmt_subtype, FrameType};
use hwsim_frame::MacAddr;

use super::mlo_frames::{self as frames, ApMld, StaMld, LINKS};
use super::sim::{GuestTally, Received, SimGuest};
use super::{check_tallies, print_radio_table, Daemon, DemoArgs};
use crate::mld::MldKind;
use crate::stats::MldStats;

/// The AP MLD: MLD address 02:a0:00:00:00:01, link L's BSSID 02:a0:00:00:01:0L.
pub const AP_MLD: ApMld = ApMld {
    mld: MacAddr([0x02, 0xa0, 0, 0, 0, 0x01]),
    links: [
        MacAddr([0x02, 0xa0, 0, 0, 0x01, 0]),
        MacAddr([0x02, 0xa0, 0, 0, 0x01, 1]),
        MacAddr([0x02, 0xa0, 0, 0, 0x01, 2]),
    ],
};

/// The non-AP MLD: MLD address 02:50:00:00:00:01, link L's address 02:50:00:00:01:0L.
pub const STA_MLD: StaMld = StaMld {
    mld: MacAddr([0x02, 0x50, 0, 0, 0, 0x01]),
    links: [
        MacAddr([0x02, 0x50, 0, 0, 0x01, 0]),
        MacAddr([0x02, 0x50, 0, 0, 0x01, 1]),
        MacAddr([0x02, 0x50, 0, 0, 0x01, 2]),
    ],
};

/// The link the station probes, authenticates and associates on (5 GHz).
const SETUP_LINK: usize = 1;

/// Beacon interval.
const BEACON_INTERVAL: Duration = Duration::from_millis(100);

/// How long the station waits for an answer before sending again.
const RETRY: Duration = Duration::from_millis(200);

/// The wire address of VM `vm`'s radio for link `link` (each link is its own radio).
fn wire(vm: u8, link: usize) -> MacAddr {
    MacAddr([0x42, 0, 0, vm, link as u8, 0])
}

/// The link a received frame belongs to: the receiving radio's, if it was sent on that link's
/// channel (a radio only hears its own channel).
fn link_of(vm: u8, rx: &Received) -> Option<usize> {
    (0..LINKS.len()).find(|&l| rx.radio == wire(vm, l) && rx.freq == LINKS[l].freq)
}

/// Management frame subtype, or `None` for other types.
fn mgmt_subtype_of(frame: &[u8]) -> Option<(u8, mac::Frame<&[u8]>)> {
    let f = mac::Frame::new_checked(frame).ok()?;
    let fc = f.frame_control();
    (fc.frame_type() == FrameType::Management).then_some((fc.subtype(), f))
}

/// The Basic Multi-Link element of a management frame: (MLD address, link ID, per-STA
/// profiles as (link ID, address, status code when `status` is set)).
type BasicMl = (
    Option<MacAddr>,
    Option<u8>,
    Vec<(u8, Option<MacAddr>, Option<u16>)>,
);

fn basic_ml(f: &mac::Frame<&[u8]>, status: bool) -> Option<BasicMl> {
    for e in ie::mgmt_body_elements(f)?.flatten() {
        if e.element_id() != ElementId::MultiLink {
            continue;
        }
        let mut scratch = vec![0u8; e.len()];
        let ml = MultiLinkRepr::parse_defragment(&e, &mut scratch).ok()?;
        if ml.kind != MultiLinkType::Basic {
            continue;
        }
        let profiles = ml
            .per_sta_profiles()
            .map(|p| {
                let s = status
                    .then(|| {
                        p.profile
                            .get(2..4)
                            .map(|s| u16::from_le_bytes([s[0], s[1]]))
                    })
                    .flatten();
                (p.link_id(), p.mac_addr(), s)
            })
            .collect();
        return Some((ml.common.mld_addr, ml.common.link_id(), profiles));
    }
    None
}

/// The Status Code at byte `at` of a management frame body (2 in association responses).
fn status_at(f: &mac::Frame<&[u8]>, at: usize) -> Option<u16> {
    let s = f.payload().get(at..at + 2)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

/// Microseconds since `start`, as the TSF.
fn tsf(start: Instant) -> u64 {
    start.elapsed().as_micros() as u64
}

/// What the station went through, for the demo's report.
#[derive(Debug, Default)]
struct StaReport {
    tally: GuestTally,
    /// (time since start, what happened).
    events: Vec<(Duration, String)>,
    associated: bool,
}

/// Shared switches between the main thread and the two simulated guests.
struct Phases {
    /// Stop data; the station deauthenticates and leaves.
    traffic_done: AtomicBool,
    /// The AP MLD stops (after the station has left).
    ap_done: AtomicBool,
    /// Both guests have announced their radios.
    ready: Barrier,
}

/// Runs the scene and prints the setup, the MLD table and the per-radio table.
pub fn run(args: &DemoArgs) -> Result<(), String> {
    let daemon = Daemon::start(args)?;
    let phases = Arc::new(Phases {
        traffic_done: AtomicBool::new(false),
        ap_done: AtomicBool::new(false),
        ready: Barrier::new(2),
    });
    let gap = Duration::from_secs_f64(1.0 / f64::from(args.rate));
    // The AP MLD connects first, so that it is VM 1 (VM numbers follow the connections).
    let (connected_tx, connected) = std::sync::mpsc::channel();
    let ap = {
        let (socket, phases) = (daemon.socket.clone(), Arc::clone(&phases));
        std::thread::spawn(move || run_ap(&socket, &phases, gap, connected_tx))
    };
    let _ = connected.recv();
    let sta = {
        let (socket, phases) = (daemon.socket.clone(), Arc::clone(&phases));
        std::thread::spawn(move || run_sta(&socket, &phases, gap))
    };
    std::thread::sleep(Duration::from_secs_f64(args.seconds));
    // The table while associated; deauthentication removes the non-AP MLD.
    daemon.core.mld.process_pending(&daemon.core);
    let (during, _) = crate::stats::mld_stats(&daemon.core);
    phases.traffic_done.store(true, Ordering::Release);
    let sta = sta
        .join()
        .map_err(|_| "the non-AP MLD panicked".to_string());
    phases.ap_done.store(true, Ordering::Release);
    let ap = ap.join().map_err(|_| "the AP MLD panicked".to_string());
    daemon.core.mld.process_pending(&daemon.core);
    let after = daemon.core.mld.table();
    let stats = crate::stats::collect(&daemon.core);
    daemon.stop();
    let (sta, ap) = (sta??, ap??);

    println!(
        "vhost-hwsim demo: multi-link operation, 2 simulated VMs x 3 radios, {} medium, {:.1} s",
        stats.medium, args.seconds
    );
    println!(
        "  vm1: AP MLD {} — link 0 2.4 GHz ch 1, link 1 5 GHz ch 36 (80 MHz), link 2 6 GHz ch 37 (320 MHz)",
        AP_MLD.mld
    );
    println!("  vm2: non-AP MLD {} — one radio per link", STA_MLD.mld);
    println!();
    for (t, what) in &sta.events {
        println!("  {:>8.1} ms  {what}", t.as_secs_f64() * 1e3);
    }
    println!();
    println!("MLDs the daemon's tracker learned, with what each link sent (while associated):");
    print!("{}", mld_table(&during));
    let gone = after.mld(MldKind::NonAp, STA_MLD.mld).is_none();
    println!(
        "  after deauthentication: non-AP MLD {}",
        if gone { "removed" } else { "still listed" }
    );
    println!();
    print_radio_table(&stats);
    println!();
    check_tallies(&[ap, sta.tally])?;
    if !sta.associated {
        return Err("the non-AP MLD did not associate".into());
    }
    Ok(())
}

/// One row per MLD link: MLD, kind, link ID, frequency, link address, radio, and the link's
/// counters (frames sent on it, of which acknowledged, airtime).
fn mld_table(mlds: &[MldStats]) -> String {
    use std::fmt::Write;
    let mut s = format!(
        "{:<18} {:<6} {:>4} {:>5}  {:<18} {:<26} {:>6} {:>6} {:>9}\n",
        "mld", "kind", "link", "MHz", "link address", "radio", "sent", "acked", "airtime"
    );
    for m in mlds {
        for l in &m.links {
            let radio = match (l.vm, &l.radio) {
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

/// Per-link sequence numbers.
#[derive(Default)]
struct Seqs([u16; 3]);

impl Seqs {
    fn next(&mut self, link: usize) -> u16 {
        self.0[link] = (self.0[link] + 1) & 0x0fff;
        self.0[link]
    }
}

/// The AP MLD guest: beacons, answers probes, authentication and association, and sends data
/// to the associated non-AP MLD on every link.
fn run_ap(
    socket: &std::path::Path,
    phases: &Phases,
    gap: Duration,
    connected: std::sync::mpsc::Sender<()>,
) -> Result<GuestTally, String> {
    let radios: Vec<(MacAddr, MacAddr)> = (0..3).map(|l| (wire(1, l), AP_MLD.links[l])).collect();
    let g = SimGuest::connect(socket, &radios);
    let _ = connected.send(());
    // Wait for the other guest even on failure, so that it never waits forever.
    phases.ready.wait();
    let mut g = g?;
    let start = Instant::now();
    let mut seqs = Seqs::default();
    let mut next_beacon = start;
    let mut next_data = start;
    // The associated station's link addresses.
    let mut peer: Option<[MacAddr; 3]> = None;
    let mut rx = Vec::new();
    while !phases.ap_done.load(Ordering::Acquire) {
        let now = Instant::now();
        if now >= next_beacon {
            for (l, link) in LINKS.iter().enumerate() {
                let b = frames::beacon(&AP_MLD, link, tsf(start), seqs.next(l));
                g.transmit(wire(1, l), link.freq, &b)?;
            }
            next_beacon += BEACON_INTERVAL;
        }
        if now >= next_data {
            if let (Some(sta), false) = (peer, phases.traffic_done.load(Ordering::Acquire)) {
                for (l, link) in LINKS.iter().enumerate() {
                    let d =
                        frames::qos_data(sta[l], AP_MLD.links[l], AP_MLD.mld, false, seqs.next(l));
                    g.transmit(wire(1, l), link.freq, &d)?;
                }
            }
            next_data += gap;
        }
        g.poll(&mut rx);
        for r in rx.drain(..) {
            let Some(l) = link_of(1, &r) else {
                continue;
            };
            ap_receive(&mut g, &mut seqs, &mut peer, l, &r.frame, start)?;
        }
        let wake = next_beacon.min(next_data);
        g.wait(
            wake.saturating_duration_since(Instant::now())
                .min(Duration::from_millis(10)),
        );
    }
    Ok(g.finish(Duration::from_secs(2)))
}

/// The AP MLD's answer to one frame received on link `l`.
fn ap_receive(
    g: &mut SimGuest,
    seqs: &mut Seqs,
    peer: &mut Option<[MacAddr; 3]>,
    l: usize,
    frame: &[u8],
    start: Instant,
) -> Result<(), String> {
    let Some((subtype, f)) = mgmt_subtype_of(frame) else {
        return Ok(());
    };
    let bssid = AP_MLD.links[l];
    let (Some(from), to) = (f.addr2(), f.addr1()) else {
        return Ok(());
    };
    if to != bssid && !to.is_broadcast() {
        return Ok(());
    }
    let link = &LINKS[l];
    let reply = match subtype {
        mgmt_subtype::PROBE_REQ => Some(frames::ml_probe_response(
            &AP_MLD,
            link,
            from,
            tsf(start),
            seqs.next(l),
        )),
        // Open System, transaction 1.
        mgmt_subtype::AUTH if f.payload().get(..4) == Some(&[0, 0, 1, 0]) => Some(
            frames::authentication(bssid, from, bssid, AP_MLD.mld, 2, seqs.next(l)),
        ),
        mgmt_subtype::ASSOC_REQ => {
            let Some((Some(_mld), _, profiles)) = basic_ml(&f, false) else {
                return Ok(());
            };
            let mut links = [from; 3];
            for (id, addr, _) in profiles {
                if let (Some(slot), Some(a)) = (links.get_mut(usize::from(id)), addr) {
                    *slot = a;
                }
            }
            *peer = Some(links);
            Some(frames::assoc_response(&AP_MLD, from, link, seqs.next(l)))
        }
        mgmt_subtype::DEAUTH | mgmt_subtype::DISASSOC => {
            if peer.is_some_and(|p| p.contains(&from)) {
                *peer = None;
            }
            None
        }
        _ => None,
    };
    if let Some(reply) = reply {
        g.transmit(wire(1, l), link.freq, &reply)?;
    }
    Ok(())
}

/// Where the station is in its setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StaState {
    Scanning,
    Probing,
    Authenticating,
    Associating,
    Associated,
}

/// The non-AP MLD guest: scan, ML probe, authenticate, associate, data on every link, then
/// deauthenticate.
fn run_sta(socket: &std::path::Path, phases: &Phases, gap: Duration) -> Result<StaReport, String> {
    let radios: Vec<(MacAddr, MacAddr)> = (0..3).map(|l| (wire(2, l), STA_MLD.links[l])).collect();
    let g = SimGuest::connect(socket, &radios);
    // Wait for the other guest even on failure, so that it never waits forever.
    phases.ready.wait();
    let mut g = g?;
    let start = Instant::now();
    let mut report = StaReport::default();
    let events = &mut report.events;
    let mut note = |what: String| events.push((start.elapsed(), what));
    let mut associated = false;
    let mut seqs = Seqs::default();
    let mut state = StaState::Scanning;
    let mut beacons: [Option<MacAddr>; 3] = [None; 3];
    let mut sent_at = start;
    let mut next_data = start;
    let setup = &LINKS[SETUP_LINK];
    let setup_wire = wire(2, SETUP_LINK);
    let ap_setup = AP_MLD.links[SETUP_LINK];
    let sta_setup = STA_MLD.links[SETUP_LINK];
    let mut rx = Vec::new();
    while !phases.traffic_done.load(Ordering::Acquire) {
        let now = Instant::now();
        // (Re)send the request of the current step when due.
        let request = match state {
            StaState::Probing => Some(frames::ml_probe_request(
                &AP_MLD,
                &STA_MLD,
                setup,
                seqs.next(SETUP_LINK),
            )),
            StaState::Authenticating => Some(frames::authentication(
                sta_setup,
                ap_setup,
                ap_setup,
                STA_MLD.mld,
                1,
                seqs.next(SETUP_LINK),
            )),
            StaState::Associating => Some(frames::assoc_request(
                &AP_MLD,
                &STA_MLD,
                setup,
                seqs.next(SETUP_LINK),
            )),
            _ => None,
        };
        if let Some(req) = request.filter(|_| now >= sent_at) {
            g.transmit(setup_wire, setup.freq, &req)?;
            sent_at = now + RETRY;
        }
        if state == StaState::Associated && now >= next_data {
            for (l, link) in LINKS.iter().enumerate() {
                let d = frames::qos_data(
                    AP_MLD.links[l],
                    STA_MLD.links[l],
                    AP_MLD.mld,
                    true,
                    seqs.next(l),
                );
                g.transmit(wire(2, l), link.freq, &d)?;
            }
            next_data += gap;
        }
        g.poll(&mut rx);
        for r in rx.drain(..) {
            let Some(l) = link_of(2, &r) else {
                continue;
            };
            let Some((subtype, f)) = mgmt_subtype_of(&r.frame) else {
                continue;
            };
            let for_us = f.addr1() == STA_MLD.links[l];
            let before = state;
            match (state, subtype) {
                (StaState::Scanning, mgmt_subtype::BEACON) => {
                    if let Some((Some(mld), Some(id), _)) = basic_ml(&f, false) {
                        if mld == AP_MLD.mld && usize::from(id) == l && beacons[l].is_none() {
                            beacons[l] = f.addr2();
                            note(format!(
                                "scan: beacon on {} MHz from {} (AP MLD {mld}, link {id})",
                                r.freq,
                                beacons[l].unwrap_or_default()
                            ));
                        }
                    }
                    if beacons.iter().all(Option::is_some) {
                        state = StaState::Probing;
                    }
                }
                (StaState::Probing, mgmt_subtype::PROBE_RESP) if for_us && l == SETUP_LINK => {
                    if let Some((_, _, profiles)) = basic_ml(&f, false) {
                        let links: Vec<String> = profiles
                            .iter()
                            .map(|(id, a, _)| format!("link {id} {}", a.unwrap_or_default()))
                            .collect();
                        note(format!(
                            "ML probe response with per-STA profiles: {}",
                            links.join(", ")
                        ));
                        state = StaState::Authenticating;
                    }
                }
                // Open System, transaction 2, success.
                (StaState::Authenticating, mgmt_subtype::AUTH)
                    if for_us && f.payload().get(..6) == Some(&[0, 0, 2, 0, 0, 0]) =>
                {
                    note("authenticated (Open System)".into());
                    state = StaState::Associating;
                }
                (StaState::Associating, mgmt_subtype::ASSOC_RESP) if for_us => {
                    let status = status_at(&f, 2);
                    let profiles = basic_ml(&f, true).map(|(_, _, p)| p).unwrap_or_default();
                    let all_ok = profiles.len() == 2 && profiles.iter().all(|p| p.2 == Some(0));
                    if status == Some(0) && all_ok {
                        note(format!(
                            "associated on links 0, 1, 2 (status 0 on link {SETUP_LINK}, per-STA profiles: {})",
                            profiles
                                .iter()
                                .map(|(id, _, s)| format!("link {id} status {}", s.unwrap_or(0)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                        state = StaState::Associated;
                        associated = true;
                        next_data = Instant::now();
                    }
                }
                _ => {}
            }
            if state != before {
                sent_at = Instant::now();
                match state {
                    StaState::Probing => note(format!(
                        "ML probe request on link {SETUP_LINK} ({} MHz) for links 0 and 2",
                        setup.freq
                    )),
                    StaState::Authenticating => note("authentication request".into()),
                    StaState::Associating => {
                        note("association request with per-STA profiles for links 0 and 2".into())
                    }
                    StaState::Associated => note("QoS data on all three links, both ways".into()),
                    StaState::Scanning => {}
                }
            }
        }
        let wake = if state == StaState::Associated {
            next_data
        } else {
            sent_at
        };
        g.wait(
            wake.saturating_duration_since(Instant::now())
                .min(Duration::from_millis(10)),
        );
    }
    if associated {
        let d = frames::deauthentication(sta_setup, ap_setup, ap_setup, seqs.next(SETUP_LINK));
        g.transmit(setup_wire, setup.freq, &d)?;
        note("deauthentication (reason 3, leaving): the whole MLD leaves".into());
    }
    report.associated = associated;
    report.tally = g.finish(Duration::from_secs(2));
    Ok(report)
}
