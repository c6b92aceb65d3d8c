//! Reports: the counters of every VM and radio as JSON (control socket) and as a table.
//!
//! Per-link counters ([`crate::counters::LinkCounters`]) appear twice: under each radio for every
//! frequency it sent on (`radios[].links`), and joined with the MLD table, under each MLD link
//! whose radio and frequency are known (`mlds[].links[].counters`): what that link of that MLD
//! sent.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::Serialize;

use crate::capture::CaptureStats;
use crate::core::{Core, VmShared};
use crate::counters::LinkStats;
use crate::switch::{Radio, RadioKey};

/// A radio's figures.
#[derive(Serialize, Debug, Clone)]
pub struct RadioStats {
    /// `vmN/aa:bb:…`.
    pub radio: String,
    /// VM id.
    pub vm: u32,
    /// Wire address.
    pub wire: String,
    /// Its VM is still connected.
    pub connected: bool,
    /// Addresses it answers to.
    pub addresses: Vec<String>,
    /// Frames sent.
    pub tx_frames: u64,
    /// Of those, acknowledged (unicast) or sent (group).
    pub tx_acked: u64,
    /// TX statuses written back.
    pub tx_status_sent: u64,
    /// TX statuses dropped.
    pub tx_status_dropped: u64,
    /// Frames received.
    pub rx_delivered: u64,
    /// Frames for it dropped for back-pressure.
    pub rx_dropped: u64,
    /// Frames for it lost by the medium.
    pub rx_lost: u64,
    /// What it sent per frequency.
    pub links: Vec<LinkStats>,
}

/// A VM's figures.
#[derive(Serialize, Debug, Clone)]
pub struct VmStats {
    /// VM id.
    pub id: u32,
    /// Still connected.
    pub connected: bool,
    /// Seconds since it connected (a VM that has left: how long it was connected).
    pub uptime_s: f64,
    /// Named counters.
    pub counters: std::collections::BTreeMap<&'static str, u64>,
    /// Parse errors by name.
    pub malformed: std::collections::BTreeMap<&'static str, u64>,
}

/// Everything.
#[derive(Serialize, Debug, Clone)]
pub struct Stats {
    /// Medium name.
    pub medium: &'static str,
    /// Pool buffers allocated.
    pub pool_allocated: usize,
    /// Pool buffers free.
    pub pool_free: usize,
    /// VMs: the connected ones, then the last [`DEPARTED_LISTED`] that left (oldest first).
    pub vms: Vec<VmStats>,
    /// Radios of the VMs listed.
    pub radios: Vec<RadioStats>,
    /// Every VM that has left, in total.
    pub departed: DepartedStats,
    /// Known MLDs and their links.
    pub mlds: Vec<MldStats>,
    /// The MLD tracker's counters.
    pub mld_tracker: MldTrackerStats,
    /// The capture (file and/or live monitor interface), if one runs.
    pub capture: Option<CaptureStats>,
    /// Virtual time (`--time-travel`), if on.
    pub time_travel: Option<TimeTravelStats>,
    /// The control socket's counters (requests, changes applied, refusals, dropped clients).
    pub control: crate::control::ControlStats,
    /// The delay line of links with an added delay, once one was used.
    pub delay_line: Option<DelayLineStats>,
}

/// What the delay line did.
#[derive(Serialize, Debug, Clone)]
pub struct DelayLineStats {
    /// Deliveries put in their inbox after their delay.
    pub delivered: u64,
    /// Deliveries dropped: the line was full, or the receiver's inbox when they fell due.
    pub dropped: u64,
}

/// What `stats` says about virtual time.
#[derive(Serialize, Debug, Clone)]
pub struct TimeTravelStats {
    /// Simulated time now, ns.
    pub now_ns: u64,
    /// Guests connected to the time socket.
    pub remotes: usize,
    /// Guests waiting for admission.
    pub joining: usize,
    /// Named counters of the controller, its socket and the daemon's waits.
    pub counters: std::collections::BTreeMap<&'static str, u64>,
    /// Every participant: its name (a guest's time-travel ID; the medium 0, the AP MLD 2^32,
    /// the daemon's barrier helper 2^64-1), its request (absolute ns) and whether it runs.
    pub participants: Vec<TimeTravelParticipant>,
}

/// One participant of the controller.
#[derive(Serialize, Debug, Clone)]
pub struct TimeTravelParticipant {
    /// Its name.
    pub name: u64,
    /// The absolute time it asked to run at.
    pub request_ns: Option<u64>,
    /// It runs now.
    pub running: bool,
}

fn time_travel_stats(core: &Core, vt: &crate::vtime::VirtualTime) -> TimeTravelStats {
    use std::sync::atomic::Ordering::Relaxed;
    // What the medium clock holds after its last pass: with no guest running and nothing
    // requested by the medium, anything held here is stuck.
    let air = core.air_clock_if_started().map_or((0, 0), |a| a.held());
    let s = vt.stats();
    let c = &s.controller;
    let d = &vt.counters;
    let counters = [
        ("messages_received", c.received),
        ("runs", c.runs),
        ("free_untils", c.free_untils),
        ("requests_in_past", c.requests_in_past),
        ("updates_past_others", c.updates_past_others),
        ("updates_refused", c.updates_refused),
        ("acks_unmatched", c.acks_unmatched),
        ("violations", c.violations),
        ("unknown_ops", c.unknown_ops),
        // A guest that runs while the controller thinks it waits shows here.
        ("updates_not_running", c.updates_not_running),
        ("waits_not_running", c.waits_not_running),
        ("requests_forever", c.requests_forever),
        ("acks_missing", c.acks_missing),
        ("ack_timeouts", s.socket.ack_timeouts),
        ("socket_refused", s.socket.refused),
        ("slow_readers", s.socket.slow_readers),
        ("settle_timeouts", d.settle_timeouts.load(Relaxed)),
        ("settle_rewakes", d.settle_rewakes.load(Relaxed)),
        ("air_held", air.0),
        ("air_bursts", air.1),
    ]
    .into_iter()
    .collect();
    TimeTravelStats {
        now_ns: s.now,
        remotes: s.remotes,
        joining: s.joining,
        counters,
        participants: vt
            .schedule_table()
            .into_iter()
            .map(|(name, request_ns, running)| TimeTravelParticipant {
                name,
                request_ns,
                running,
            })
            .collect(),
    }
}

/// How many of the VMs that left `stats` still lists one by one, with their radios. A daemon
/// serving VMs that come and go for weeks keeps this many records, not one per connection; the
/// totals in [`DepartedStats`] cover them all.
pub const DEPARTED_LISTED: usize = 32;

/// What `stats` says about the VMs that have left.
#[derive(Serialize, Debug, Clone, Default)]
pub struct DepartedStats {
    /// VMs that have disconnected and whose last frames are done with (in airtime mode a VM's
    /// frames may still be on the air for a while after it leaves).
    pub vms: u64,
    /// Radios of VMs that have disconnected.
    pub radios: u64,
    /// The counters of those `vms` summed (the listed ones included), plus deliveries for VMs
    /// that had left discarded in their inboxes (`rx_discarded_on_departure`). Once every VM
    /// that left is in `vms`, connected VMs' counters plus these are everything the daemon
    /// counted.
    pub counters: BTreeMap<&'static str, u64>,
    /// Their parse errors by name, summed.
    pub malformed: BTreeMap<&'static str, u64>,
}

/// The VMs that have left: totals, and the last few as they were when they left.
#[derive(Debug, Default)]
pub struct Departed {
    totals: DepartedStats,
    recent: VecDeque<(VmStats, Vec<RadioStats>)>,
}

impl Departed {
    /// Lists VM `vm`, which has left with `radios`, as it is now (its own threads have ended).
    pub fn add(&mut self, vm: &VmShared, radios: &[Arc<Radio>]) {
        let stats = vm_stats(vm, false);
        self.totals.radios += radios.len() as u64;
        let radios = radios
            .iter()
            .map(|r| radio_stats(r, Vec::new(), false))
            .collect();
        if self.recent.len() == DEPARTED_LISTED {
            self.recent.pop_front();
        }
        self.recent.push_back((stats, radios));
    }

    /// Adds the final figures of a VM that left (nothing refers to it any more).
    pub fn fold(&mut self, vm: &VmShared) {
        let stats = vm_stats(vm, false);
        let t = &mut self.totals;
        t.vms += 1;
        for (k, v) in &stats.counters {
            *t.counters.entry(*k).or_default() += v;
        }
        for (k, v) in &stats.malformed {
            *t.malformed.entry(*k).or_default() += v;
        }
    }

    /// Counts `n` deliveries discarded in the inbox of a VM that had left.
    pub fn count_discarded(&mut self, n: usize) {
        *self
            .totals
            .counters
            .entry("rx_discarded_on_departure")
            .or_default() += n as u64;
    }

    /// The totals.
    pub fn totals(&self) -> &DepartedStats {
        &self.totals
    }

    /// The last VMs that left, oldest first, each with its radios.
    pub fn recent(&self) -> impl DoubleEndedIterator<Item = &(VmStats, Vec<RadioStats>)> {
        self.recent.iter()
    }
}

/// One link of an MLD.
#[derive(Serialize, Debug, Clone)]
pub struct MldLinkStats {
    /// Link ID.
    pub link_id: u8,
    /// VM of the radio carrying it, when known.
    pub vm: Option<u32>,
    /// That radio's wire address.
    pub radio: Option<String>,
    /// Frequency (MHz), when known.
    pub freq: Option<u32>,
    /// The link address (affiliated AP's BSSID or STA's address on the link).
    pub addr: String,
    /// A frame from this link address was seen on that radio and frequency (else learned from
    /// another link's per-STA profile or RNR, or presumed).
    pub seen: bool,
    /// What the link's radio sent on the link's frequency, once it has sent there.
    pub counters: Option<LinkStats>,
}

/// One MLD.
#[derive(Serialize, Debug, Clone)]
pub struct MldStats {
    /// `ap` or `non-ap`.
    pub kind: &'static str,
    /// MLD MAC address.
    pub mld_addr: String,
    /// Non-AP MLDs: the AP MLD they are associated with.
    pub ap_mld: Option<String>,
    /// Links by ID.
    pub links: Vec<MldLinkStats>,
}

/// The MLD tracker's counters.
#[derive(Serialize, Debug, Clone)]
pub struct MldTrackerStats {
    /// Frames the data path queued for the tracker (all VMs; per VM: `mld_queued`).
    pub queued: u64,
    /// Dropped because the transmitting VM's queue to the tracker was full (all VMs; per VM:
    /// `mld_dropped`).
    pub dropped: u64,
    /// Cut to 2304 bytes (all VMs; per VM: `mld_truncated`).
    pub truncated: u64,
    /// Frames the tracker looked at.
    pub processed: u64,
    /// Beacons / probe responses with unchanged multi-link content, skipped.
    pub unchanged: u64,
    /// Multi-Link / RNR elements that did not parse (ignored).
    pub malformed: u64,
    /// Malformed elements by error name.
    pub malformed_by_error: std::collections::BTreeMap<&'static str, u64>,
    /// Changes to the table.
    pub changes: u64,
    /// Successful (re)association responses seen (what `after = "association"` waits for).
    pub associations: u64,
}

/// The MLD table, each link with its counters, and the tracker counters.
pub fn mld_stats(core: &Core) -> (Vec<MldStats>, MldTrackerStats) {
    let routing = core.routing.snapshot();
    let departed = core.departed();
    // What a radio sent on `freq`: a connected radio's counters now, a departed one's as they
    // were when its VM left.
    let link = |key: &RadioKey, freq: u32| match routing.radio(key) {
        Some(r) => r.links.get(freq),
        None => {
            let wire = key.wire.to_string();
            departed
                .recent()
                .flat_map(|(_, radios)| radios)
                .rev()
                .find(|r| r.vm == key.vm && r.wire == wire)
                .and_then(|r| r.links.iter().find(|l| l.freq == freq).copied())
        }
    };
    let table = core.mld.table();
    let mlds = table
        .mlds
        .iter()
        .map(|m| MldStats {
            kind: m.kind.name(),
            mld_addr: m.addr.to_string(),
            ap_mld: m.ap_mld.map(|a| a.to_string()),
            links: m
                .links
                .iter()
                .map(|l| MldLinkStats {
                    link_id: l.link_id,
                    vm: l.radio.map(|r| r.vm),
                    radio: l.radio.map(|r| r.wire.to_string()),
                    freq: l.freq,
                    addr: l.addr.to_string(),
                    seen: l.seen,
                    counters: match (l.radio, l.freq) {
                        (Some(key), Some(freq)) => link(&key, freq),
                        _ => None,
                    },
                })
                .collect(),
        })
        .collect();
    let gone = |name: &str| departed.totals().counters.get(name).copied().unwrap_or(0);
    let (mut queued, mut dropped, mut truncated) = (
        gone("mld_queued"),
        gone("mld_dropped"),
        gone("mld_truncated"),
    );
    drop(departed);
    for vm in core.vms() {
        let oc = vm.mld.counters();
        queued += oc.queued.load(Ordering::Relaxed);
        dropped += oc.dropped.load(Ordering::Relaxed);
        truncated += oc.truncated.load(Ordering::Relaxed);
    }
    let c = table.counters;
    let tracker = MldTrackerStats {
        queued,
        dropped,
        truncated,
        processed: c.processed,
        unchanged: c.unchanged,
        malformed: c.malformed,
        malformed_by_error: table.malformed.clone(),
        changes: c.changes,
        associations: core.mld.associations(),
    };
    (mlds, tracker)
}

fn vm_stats(vm: &VmShared, connected: bool) -> VmStats {
    VmStats {
        id: vm.id,
        connected,
        uptime_s: vm.connected_at.elapsed().as_secs_f64(),
        counters: vm
            .counters
            .snapshot()
            .into_iter()
            .chain(vm.mld.counters().snapshot())
            .chain(
                vm.inband
                    .get()
                    .map(|i| i.counters.snapshot())
                    .into_iter()
                    .flatten(),
            )
            .chain(
                // Gauges of a connected VM: what waits for the guest's RX buffers now, and
                // inbox wake-ups its thread has not served (virtual time waits for those).
                [
                    ("inbox_waiting", vm.inbox.len() as u64),
                    ("inbox_unserved", vm.inbox.unserved()),
                ]
                .into_iter()
                .filter(|_| connected),
            )
            .collect(),
        malformed: vm.malformed.snapshot().into_iter().collect(),
    }
}

/// Radio figures.
pub fn radio_stats(r: &Arc<Radio>, addresses: Vec<String>, connected: bool) -> RadioStats {
    let c = &r.counters;
    RadioStats {
        radio: r.key.to_string(),
        vm: r.key.vm,
        wire: r.key.wire.to_string(),
        connected,
        addresses,
        tx_frames: c.tx_frames.load(Ordering::Relaxed),
        tx_acked: c.tx_acked.load(Ordering::Relaxed),
        tx_status_sent: c.tx_status_sent.load(Ordering::Relaxed),
        tx_status_dropped: c.tx_status_dropped.load(Ordering::Relaxed),
        rx_delivered: c.rx_delivered.load(Ordering::Relaxed),
        rx_dropped: c.rx_dropped.load(Ordering::Relaxed),
        rx_lost: c.rx_lost.load(Ordering::Relaxed),
        links: r.links.snapshot(),
    }
}

/// Collects the daemon's figures.
pub fn collect(core: &Core) -> Stats {
    let routing = core.routing.snapshot();
    let mut vms: Vec<VmStats> = core.vms().iter().map(|v| vm_stats(v, true)).collect();
    let (departed, gone_radios) = {
        let d = core.departed();
        vms.extend(d.recent().map(|(v, _)| v.clone()));
        let radios: Vec<RadioStats> = d.recent().flat_map(|(_, r)| r.iter().cloned()).collect();
        (d.totals().clone(), radios)
    };
    let mut radios: Vec<RadioStats> = routing
        .radios
        .iter()
        .map(|r| {
            let addrs = routing
                .addresses_of(&r.key)
                .iter()
                .map(|a| a.to_string())
                .collect();
            radio_stats(r, addrs, true)
        })
        .collect();
    // A VM leaving between the snapshot and this read has its radios in both lists: keep the
    // snapshot's.
    radios.extend(
        gone_radios
            .into_iter()
            .filter(|r| !routing.radios.iter().any(|c| c.key.vm == r.vm)),
    );
    radios.sort_by(|a, b| (a.vm, &a.wire).cmp(&(b.vm, &b.wire)));
    if let Some(&ap) = core.ap_vm.get() {
        for r in radios.iter_mut().filter(|r| r.vm == ap) {
            r.radio = format!("ap-mld/{}", r.wire);
        }
    }
    let (mlds, mld_tracker) = mld_stats(core);
    Stats {
        medium: core.medium.name(),
        pool_allocated: core.pool.allocated(),
        pool_free: core.pool.free(),
        vms,
        radios,
        departed,
        mlds,
        mld_tracker,
        capture: core.capture.load().as_ref().map(|t| t.stats()),
        time_travel: core.vtime().map(|vt| time_travel_stats(core, vt)),
        control: core.control.snapshot(),
        delay_line: core
            .delay_counters()
            .map(|(delivered, dropped)| DelayLineStats { delivered, dropped }),
    }
}

/// A per-radio table.
pub fn radio_table(radios: &[RadioStats]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<26} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "radio", "sent", "acked", "delivered", "dropped", "lost"
    );
    for r in radios {
        let _ = writeln!(
            s,
            "{:<26} {:>9} {:>9} {:>9} {:>9} {:>9}",
            r.radio, r.tx_frames, r.tx_acked, r.rx_delivered, r.rx_dropped, r.rx_lost
        );
    }
    s
}
