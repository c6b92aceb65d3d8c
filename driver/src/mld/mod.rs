//! MLD tracking: which (VM, radio, frequency, link address) belongs to which AP MLD or non-AP
//! MLD, under which link ID.
//!
//! # Off the data path
//! The VM worker calls [`MldService::offer`] once per transmission, after the medium decided.
//! It looks at the frame control octet only and returns at once for anything but the
//! management subtypes the tracker reads (beacons, probe responses, (re)association requests
//! and responses, deauthentication, disassociation) and, while some non-AP MLD link has not
//! been seen yet (one atomic flag), data frames from such a link's address. Those are copied
//! into a pooled slot (a bounded free list, allocated lazily up to [`QUEUE_LEN`], then recycled)
//! and pushed on a bounded lock-free queue; when no slot is free the frame is dropped and
//! counted. No lock, no allocation once warm, nothing shared between VMs but the two queues and
//! the published list of unseen link addresses.
//!
//! # The tracker thread
//! A thread per [`crate::core::Core`] drains the queue into [`MldTracker`] (under a mutex only
//! it and tests take), drops links of VMs that left, and on every change publishes an
//! immutable [`MldTable`] (`ArcSwap`) for readers (the control socket's `stats`) and names the
//! changed links' capture interfaces (`ap-mld-<MLD address>/link<ID>` or
//! `sta-mld-<MLD address>/link<ID>`). Beacons repeat: a beacon or probe response whose
//! Multi-Link and RNR elements are the same as its transmitter's last is not parsed again.
//!
//! # What is learned
//! - Beacons and probe responses (AP MLD): the Basic Multi-Link element's MLD MAC address and
//!   link ID give the transmitting link (its radio, frequency and address); per-STA profiles
//!   name the other links (ID, address); RNR entries with AP MLD ID 0 give their BSSIDs and
//!   frequencies.
//! - (Re)association request (non-AP MLD): MLD address and per-STA profiles (link ID, the STA's
//!   address on that link), remembered until the response. A response with status 0 confirms:
//!   the link it went over takes the response's link ID; the other requested links that the
//!   response does not reject join, presumed on the requesting radio (mac80211_hwsim runs an
//!   MLD's links on one radio) and on the AP MLD's frequency for that link, until the first
//!   data frame from the link's address says which radio and frequency really carry it (a
//!   non-AP MLD may also use one radio per link, as the demo's does).
//! - Deauthentication / disassociation from or to any link (or the MLD address) of a non-AP MLD
//!   removes that MLD; a group-addressed one from an AP MLD link removes its non-AP MLDs.
//! - A Reconfiguration Multi-Link element (AP removal, delete link) removes the link from the
//!   AP MLD and from its non-AP MLDs.
//! - Malformed Multi-Link / RNR elements are ignored and counted (once per changed beacon).

pub mod build;
mod tracker;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::thread::Thread;
use std::time::Duration;

use arc_swap::ArcSwap;
use crossbeam_queue::ArrayQueue;
use hwsim_frame::mac::mgmt_subtype;
use hwsim_frame::nl::MAX_FRAME_LEN;
use hwsim_frame::MacAddr;

pub use tracker::{op_class_freq, MldTracker, TrackerCounters};

use crate::capture::CaptureTap;
use crate::core::Core;
use crate::switch::RadioKey;

/// Management frames that may wait for the tracker thread; more are dropped and counted.
pub const QUEUE_LEN: usize = 256;

/// How often the tracker thread looks at the queue when nobody wakes it.
const IDLE_POLL: Duration = Duration::from_millis(100);

/// AP MLD or non-AP MLD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MldKind {
    /// An AP MLD.
    Ap,
    /// A non-AP MLD (station).
    NonAp,
}

impl MldKind {
    /// `ap` / `non-ap`.
    pub fn name(self) -> &'static str {
        match self {
            MldKind::Ap => "ap",
            MldKind::NonAp => "non-ap",
        }
    }

    /// Prefix of the capture interface names of its links.
    pub fn interface_prefix(self) -> &'static str {
        match self {
            MldKind::Ap => "ap-mld",
            MldKind::NonAp => "sta-mld",
        }
    }
}

/// One link of an MLD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    /// Link ID.
    pub link_id: u8,
    /// The affiliated AP's or STA's address on the link.
    pub addr: MacAddr,
    /// The radio carrying it, when known (it transmitted, or presumed for non-AP links).
    pub radio: Option<RadioKey>,
    /// The link's frequency (MHz), when known.
    pub freq: Option<u32>,
    /// A frame from this link address was seen on that radio and frequency.
    pub seen: bool,
}

/// One MLD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MldInfo {
    /// AP or non-AP.
    pub kind: MldKind,
    /// MLD MAC address.
    pub addr: MacAddr,
    /// Non-AP MLDs: the AP MLD it is associated with.
    pub ap_mld: Option<MacAddr>,
    /// Links by ID.
    pub links: Vec<LinkInfo>,
}

/// An immutable snapshot of every known MLD.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MldTable {
    /// AP MLDs (by address), then non-AP MLDs.
    pub mlds: Vec<MldInfo>,
    /// The tracker's counters when the snapshot was taken.
    pub counters: TrackerCounters,
    /// Malformed elements by error name.
    pub malformed: BTreeMap<&'static str, u64>,
}

impl MldTable {
    /// The MLD with this kind and address.
    pub fn mld(&self, kind: MldKind, addr: MacAddr) -> Option<&MldInfo> {
        self.mlds.iter().find(|m| m.kind == kind && m.addr == addr)
    }
}

/// The data path's counters (atomics, written by VM threads).
#[derive(Debug, Default)]
pub struct OfferCounters {
    /// Management frames queued for the tracker.
    pub queued: AtomicU64,
    /// Dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Cut to 2304 bytes.
    pub truncated: AtomicU64,
}

struct Slot {
    radio: RadioKey,
    freq: u32,
    len: usize,
    data: [u8; MAX_FRAME_LEN],
}

/// The queue to the tracker thread, the tracker, and the published table.
pub struct MldService {
    free: ArrayQueue<Box<Slot>>,
    full: ArrayQueue<Box<Slot>>,
    allocated: AtomicUsize,
    counters: OfferCounters,
    thread: OnceLock<Thread>,
    tracker: Mutex<Worker>,
    table: ArcSwap<MldTable>,
    /// Some non-AP MLD link has not transmitted yet: data frames are worth a look.
    watching: AtomicBool,
    /// Addresses of those links (non-AP MLD links with `seen == false`).
    watch: ArcSwap<Vec<MacAddr>>,
}

/// Tracker-thread state.
struct Worker {
    tracker: MldTracker,
    /// Capture interfaces named so far: (radio, frequency) → name.
    named: HashMap<(RadioKey, u32), String>,
}

impl Default for MldService {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MldService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MldService")
            .field("counters", &self.counters)
            .finish()
    }
}

/// True for the management subtypes the tracker reads.
fn interesting(subtype: u8) -> bool {
    matches!(
        subtype,
        mgmt_subtype::BEACON
            | mgmt_subtype::PROBE_RESP
            | mgmt_subtype::ASSOC_REQ
            | mgmt_subtype::ASSOC_RESP
            | mgmt_subtype::REASSOC_REQ
            | mgmt_subtype::REASSOC_RESP
            | mgmt_subtype::DEAUTH
            | mgmt_subtype::DISASSOC
    )
}

impl MldService {
    /// A service with an empty table and no thread (see [`MldService::spawn`]).
    pub fn new() -> Self {
        MldService {
            free: ArrayQueue::new(QUEUE_LEN),
            full: ArrayQueue::new(QUEUE_LEN),
            allocated: AtomicUsize::new(0),
            counters: OfferCounters::default(),
            thread: OnceLock::new(),
            tracker: Mutex::new(Worker {
                tracker: MldTracker::new(),
                named: HashMap::new(),
            }),
            table: ArcSwap::from_pointee(MldTable::default()),
            watching: AtomicBool::new(false),
            watch: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// Starts the tracker thread of `core`; it ends once the core is dropped.
    pub fn spawn(core: &Arc<Core>) -> std::io::Result<()> {
        let weak: Weak<Core> = Arc::downgrade(core);
        let handle = std::thread::Builder::new()
            .name("vhost-hwsim-mld".into())
            .spawn(move || loop {
                {
                    let Some(core) = weak.upgrade() else {
                        return;
                    };
                    core.mld.process_pending(&core);
                }
                std::thread::park_timeout(IDLE_POLL);
            })?;
        let _ = core.mld.thread.set(handle.thread().clone());
        Ok(())
    }

    /// The data path's hook: queues a copy of `frame` if it is a management frame the tracker
    /// reads. Never blocks; drops and counts when the queue is full.
    pub fn offer(&self, radio: RadioKey, freq: u32, frame: &[u8]) {
        let Some(&fc0) = frame.first() else {
            return;
        };
        // Frame control: B2-B3 type (0 = management, 2 = data), B4-B7 subtype.
        let wanted = match fc0 & 0x0c {
            0x00 => interesting(fc0 >> 4),
            0x08 => self.watched_sender(frame),
            _ => false,
        };
        if !wanted {
            return;
        }
        let Some(mut slot) = self.free.pop().or_else(|| self.allocate()) else {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let len = frame.len().min(MAX_FRAME_LEN);
        if len < frame.len() {
            self.counters.truncated.fetch_add(1, Ordering::Relaxed);
        }
        slot.radio = radio;
        slot.freq = freq;
        slot.len = len;
        slot.data[..len].copy_from_slice(&frame[..len]);
        if self.full.push(slot).is_err() {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        if let Some(t) = self.thread.get() {
            t.unpark();
        }
    }

    /// True when `frame`'s addr2 is a non-AP MLD link not seen yet. One relaxed load unless
    /// such links exist.
    fn watched_sender(&self, frame: &[u8]) -> bool {
        if !self.watching.load(Ordering::Relaxed) {
            return false;
        }
        let Some(addr2) = frame.get(10..16) else {
            return false;
        };
        self.watch.load().iter().any(|a| a.0[..] == *addr2)
    }

    fn allocate(&self) -> Option<Box<Slot>> {
        let mut n = self.allocated.load(Ordering::Relaxed);
        loop {
            if n >= QUEUE_LEN {
                return None;
            }
            match self.allocated.compare_exchange_weak(
                n,
                n + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => n = now,
            }
        }
        Some(Box::new(Slot {
            radio: RadioKey {
                vm: 0,
                wire: MacAddr::default(),
            },
            freq: 0,
            len: 0,
            data: [0; MAX_FRAME_LEN],
        }))
    }

    /// Drains the queue into the tracker, prunes links of radios `core` no longer routes, and
    /// publishes the table (and names capture interfaces) if it changed. The tracker thread's
    /// loop; tests call it directly.
    pub fn process_pending(&self, core: &Core) {
        let routing = core.routing.snapshot();
        self.process(|key| routing.radio(key).is_some(), core.capture.get());
    }

    /// [`MldService::process_pending`] with the radio check and capture given.
    pub fn process(&self, present: impl Fn(&RadioKey) -> bool, capture: Option<&CaptureTap>) {
        let mut w = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        let mut changed = false;
        let mut looked = false;
        while let Some(slot) = self.full.pop() {
            changed |= w
                .tracker
                .observe(slot.radio, slot.freq, &slot.data[..slot.len]);
            looked = true;
            let _ = self.free.push(slot);
        }
        if !self.table.load().mlds.is_empty() {
            changed |= w.tracker.prune(present);
        }
        if !(changed || looked) {
            return;
        }
        let table = w.tracker.table();
        if let Some(tap) = capture {
            name_links(tap, &table, &mut w.named);
        }
        let unseen: Vec<MacAddr> = table
            .mlds
            .iter()
            .filter(|m| m.kind == MldKind::NonAp)
            .flat_map(|m| m.links.iter().filter(|l| !l.seen).map(|l| l.addr))
            .collect();
        if **self.watch.load() != unseen {
            self.watching.store(!unseen.is_empty(), Ordering::Relaxed);
            self.watch.store(Arc::new(unseen));
        }
        self.table.store(Arc::new(table));
    }

    /// The latest table.
    pub fn table(&self) -> Arc<MldTable> {
        self.table.load_full()
    }

    /// The data path's counters.
    pub fn offer_counters(&self) -> &OfferCounters {
        &self.counters
    }
}

/// Names each link's (radio, frequency) capture interface after its MLD, once per change.
fn name_links(tap: &CaptureTap, table: &MldTable, named: &mut HashMap<(RadioKey, u32), String>) {
    for m in &table.mlds {
        for l in &m.links {
            let (Some(radio), Some(freq)) = (l.radio, l.freq) else {
                continue;
            };
            let name = interface_name(m.kind, m.addr, l.link_id);
            if named.get(&(radio, freq)) == Some(&name) {
                continue;
            }
            let description = interface_description(m.kind, m.addr, l.link_id, freq);
            tap.name_interface(radio, freq, &name, Some(&description));
            named.insert((radio, freq), name);
        }
    }
}

/// `ap-mld-<MLD address>/link<ID>` or `sta-mld-<MLD address>/link<ID>`.
pub fn interface_name(kind: MldKind, mld: MacAddr, link_id: u8) -> String {
    format!("{}-{}/link{}", kind.interface_prefix(), mld, link_id)
}

/// E.g. `5 GHz channel 36 (5180 MHz), link 1 of AP MLD 02:00:00:00:01:00`.
pub fn interface_description(kind: MldKind, mld: MacAddr, link_id: u8, freq: u32) -> String {
    use hwsim_radio::band::{band_of, Band};
    let band = band_of(freq);
    let channel = band.and_then(|b| b.freq_to_channel(freq).ok());
    let band_name = match band {
        Some(Band::Band2G4) => "2.4 GHz",
        Some(Band::Band5G) => "5 GHz",
        Some(Band::Band6G) => "6 GHz",
        None => "unknown band",
    };
    let who = match kind {
        MldKind::Ap => "AP MLD",
        MldKind::NonAp => "non-AP MLD",
    };
    match channel {
        Some(ch) => format!("{band_name} channel {ch} ({freq} MHz), link {link_id} of {who} {mld}"),
        None => format!("{band_name} ({freq} MHz), link {link_id} of {who} {mld}"),
    }
}
