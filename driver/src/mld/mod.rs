//! MLD tracking: which (VM, radio, frequency, link address) belongs to which AP MLD or non-AP
//! MLD, under which link ID.
//!
//! # Off the data path
//! The VM worker calls [`MldService::offer`] once per transmission, after the medium decided.
//! It looks at the frame control octet only and returns at once for anything but the
//! management subtypes the tracker reads (beacons, probe responses, (re)association requests
//! and responses, deauthentication, disassociation; not probe requests, actions or
//! authentication) and, while some non-AP MLD link has not been seen yet (one atomic flag),
//! data frames from such a link's address. Those are copied into the transmitting VM's own
//! bounded queue ([`MldQueue`], pooled slots, see [`queue`]); when it is full the frame is
//! dropped and counted for that VM. A guest flooding beacons fills only its own queue: the
//! frames of other VMs still reach the tracker. No lock, no allocation once warm; shared
//! between VMs are only a sequence counter (one atomic add per queued frame) and the published
//! list of unseen link addresses.
//!
//! # The tracker thread
//! A thread per [`crate::core::Core`] drains the registered VMs' queues into [`MldTracker`]
//! (under a mutex only it and tests take) in offer order: it holds the oldest frame of each
//! queue and reads the one with the lowest sequence number, so a response is never read before
//! the request another VM sent first, and each pass reads at most [`VM_QUEUE_LEN`] frames per
//! queue before it publishes. It drops links of VMs that left, and on every change publishes an
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
//! - What each link address advertises it can receive ([`caps`]): from beacons and probe
//!   responses (any AP, MLD or not) and (re)association requests, per-STA profiles included;
//!   published in [`MldTable::caps`] and handed to the medium (`Medium::learn_peer_caps`), which
//!   bounds each pair's rates by it. Dropped with the radio that sent it.

pub mod build;
pub mod caps;
pub mod queue;
mod tracker;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::thread::Thread;
use std::time::Duration;

use arc_swap::ArcSwap;
use hwsim_frame::mac::mgmt_subtype;
use hwsim_frame::MacAddr;
use hwsim_radio::peer::PeerCaps;

pub use queue::{MldQueue, OfferCounters, VM_QUEUE_LEN};
pub use tracker::{op_class_freq, MldTracker, TrackerCounters};

use crate::capture::CaptureTap;
use crate::core::Core;
use crate::switch::{RadioKey, VmId};
use queue::Slot;

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
    /// What each link address advertised it can receive (from beacons, probe responses and
    /// association requests, of MLDs or not), by address; shared, as the medium keeps it.
    pub caps: Arc<Vec<(MacAddr, PeerCaps)>>,
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

/// The VMs' queues to the tracker thread, the tracker, and the published table.
pub struct MldService {
    /// The queues the tracker thread drains; replaced (control plane) when a VM comes or goes.
    queues: ArcSwap<Vec<Arc<MldQueue>>>,
    /// Offer order across VMs (see [`queue::Slot`]).
    seq: AtomicU64,
    thread: OnceLock<Thread>,
    tracker: Mutex<Worker>,
    table: ArcSwap<MldTable>,
    /// Some non-AP MLD link has not transmitted yet: data frames are worth a look.
    watching: AtomicBool,
    /// Addresses of those links (non-AP MLD links with `seen == false`).
    watch: ArcSwap<Vec<MacAddr>>,
    /// [`TrackerCounters::associations`], for the timeline (`after = "association"`).
    associations: AtomicU64,
}

/// Tracker-thread state.
struct Worker {
    tracker: MldTracker,
    /// The registered queues as last seen, each with the oldest frame taken from it, if any.
    heads: Vec<Head>,
    /// The list `heads` was built from.
    heads_of: Arc<Vec<Arc<MldQueue>>>,
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
            .field("queues", &self.queues.load().len())
            .finish()
    }
}

/// A VM's queue and the frame taken from it that waits for its turn.
struct Head {
    queue: Arc<MldQueue>,
    slot: Option<Box<Slot>>,
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
        let queues = Arc::new(Vec::new());
        MldService {
            queues: ArcSwap::new(Arc::clone(&queues)),
            seq: AtomicU64::new(0),
            thread: OnceLock::new(),
            tracker: Mutex::new(Worker {
                tracker: MldTracker::new(),
                heads: Vec::new(),
                heads_of: queues,
                named: HashMap::new(),
            }),
            table: ArcSwap::from_pointee(MldTable::default()),
            watching: AtomicBool::new(false),
            watch: ArcSwap::from_pointee(Vec::new()),
            associations: AtomicU64::new(0),
        }
    }

    /// Starts the tracker thread of `core`; it ends once the core is dropped.
    pub fn spawn(core: &Arc<Core>) -> std::io::Result<()> {
        let weak: Weak<Core> = Arc::downgrade(core);
        let handle = std::thread::Builder::new()
            .name("vhost-hwsim-mld".into())
            .spawn(move || loop {
                let more = {
                    let Some(core) = weak.upgrade() else {
                        return;
                    };
                    core.mld.process_pending(&core)
                };
                if !more {
                    std::thread::park_timeout(IDLE_POLL);
                }
            })?;
        let _ = core.mld.thread.set(handle.thread().clone());
        Ok(())
    }

    /// Lets the tracker thread drain `queue` (control plane, when a VM connects).
    pub fn register(&self, queue: &Arc<MldQueue>) {
        self.queues.rcu(|list| {
            let mut list = Vec::clone(list);
            list.retain(|q| !Arc::ptr_eq(q, queue));
            list.push(Arc::clone(queue));
            list
        });
    }

    /// Stops draining VM `vm`'s queue and frees its slots (control plane, when the VM leaves).
    pub fn unregister(&self, vm: VmId) {
        let mut gone = Vec::new();
        self.queues.rcu(|list| {
            gone = list.iter().filter(|q| q.vm() == vm).cloned().collect();
            list.iter()
                .filter(|q| q.vm() != vm)
                .cloned()
                .collect::<Vec<_>>()
        });
        for q in gone {
            q.retire();
        }
    }

    /// The data path's hook: if `frame` is one the tracker reads, queues a copy on `queue` (the
    /// transmitting VM's). Never blocks; drops and counts when that queue is full.
    pub fn offer(&self, queue: &MldQueue, radio: RadioKey, freq: u32, frame: &[u8]) {
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
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        if queue.push(seq, radio, freq, frame) {
            if let Some(t) = self.thread.get() {
                t.unpark();
            }
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

    /// Drains the queues into the tracker, prunes links of radios `core` no longer routes, and
    /// publishes the table (and names capture interfaces) if it changed. The tracker thread's
    /// loop; tests call it directly. Returns true if frames are still waiting.
    pub fn process_pending(&self, core: &Core) -> bool {
        let routing = core.routing.snapshot();
        let before = Arc::clone(&self.table.load().caps);
        let capture = core.capture.load();
        let more = self.process(|key| routing.radio(key).is_some(), capture.as_deref());
        let after = Arc::clone(&self.table.load().caps);
        if !Arc::ptr_eq(&before, &after) && before != after {
            // Off the data path: the medium tabulates the new pairs' rates here.
            core.medium.load().learn_peer_caps(&after);
        }
        more
    }

    /// [`MldService::process_pending`] with the radio check and capture given.
    pub fn process(
        &self,
        present: impl Fn(&RadioKey) -> bool,
        capture: Option<&CaptureTap>,
    ) -> bool {
        let mut guard = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        let w = &mut *guard;
        w.sync_heads(self.queues.load_full());
        let mut changed = false;
        let mut looked = false;
        // Bounded, so that a queue refilled as fast as it is read cannot hold the table back.
        for _ in 0..w.heads.len() * VM_QUEUE_LEN {
            let Some(head) = oldest(&mut w.heads) else {
                break;
            };
            let Some(slot) = head.slot.take() else {
                break;
            };
            changed |= w.tracker.observe(slot.radio, slot.freq, slot.frame());
            looked = true;
            head.queue.recycle(slot);
        }
        self.associations
            .store(w.tracker.counters().associations, Ordering::Relaxed);
        let more = w.heads.iter().any(|h| h.slot.is_some());
        if !self.table.load().mlds.is_empty() {
            changed |= w.tracker.prune(present);
        }
        if !(changed || looked) {
            return more;
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
        more
    }

    /// Successful association responses the tracker has seen so far.
    pub fn associations(&self) -> u64 {
        self.associations.load(Ordering::Relaxed)
    }

    /// The latest table.
    pub fn table(&self) -> Arc<MldTable> {
        self.table.load_full()
    }
}

impl Worker {
    /// Follows the registered list: keeps the waiting frame of each queue still listed.
    fn sync_heads(&mut self, queues: Arc<Vec<Arc<MldQueue>>>) {
        if Arc::ptr_eq(&queues, &self.heads_of) {
            return;
        }
        let mut old = std::mem::take(&mut self.heads);
        self.heads = queues
            .iter()
            .map(|q| Head {
                queue: Arc::clone(q),
                slot: old
                    .iter_mut()
                    .find(|h| Arc::ptr_eq(&h.queue, q))
                    .and_then(|h| h.slot.take()),
            })
            .collect();
        self.heads_of = queues;
    }
}

/// The queue whose waiting frame was offered first, after taking the front frame of each
/// queue that had none waiting.
fn oldest(heads: &mut [Head]) -> Option<&mut Head> {
    let mut best: Option<(u64, usize)> = None;
    for (i, h) in heads.iter_mut().enumerate() {
        if h.slot.is_none() {
            h.slot = h.queue.pop();
        }
        if let Some(s) = &h.slot {
            if best.is_none_or(|(seq, _)| s.seq < seq) {
                best = Some((s.seq, i));
            }
        }
    }
    heads.get_mut(best?.1)
}

/// Names each link's (radio, frequency) capture interface after its MLD, once per change.
pub(crate) fn name_links(
    tap: &CaptureTap,
    table: &MldTable,
    named: &mut HashMap<(RadioKey, u32), String>,
) {
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
