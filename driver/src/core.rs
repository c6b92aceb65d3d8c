//! State shared by every VM thread: the routing snapshot, the buffer pool, the medium, and the
//! registry of connected VMs (control plane only; the data path never touches its lock).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, Guard};

use crate::counters::{MalformedCounters, VmCounters};
use crate::medium::Medium;
use crate::switch::{BufferPool, Inbox, Radio, RoutingTable, VmId};

/// Sizes of the bounded queues and pools.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deliveries waiting for one VM's RX buffers.
    pub inbox_capacity: usize,
    /// TX statuses waiting for one VM's RX buffers.
    pub status_capacity: usize,
    /// Message buffers in the whole daemon.
    pub pool_buffers: usize,
    /// TX buffers returned to a guest before it is notified of them (1: after every drain of
    /// its TX queue). See [`crate::vm::worker::VmWorker::process_tx`].
    pub tx_call_batch: usize,
    /// After a drain of a guest's TX queue that found buffers, keep its kicks off and look
    /// again after this long (zero: turn kicks back on at once).
    pub tx_poll: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            inbox_capacity: 4096,
            status_capacity: 1024,
            pool_buffers: 8192,
            tx_call_batch: 1,
            tx_poll: std::time::Duration::ZERO,
        }
    }
}

/// One connected VM as the rest of the daemon sees it.
pub struct VmShared {
    /// Connection-scoped id.
    pub id: VmId,
    /// Where other VMs put deliveries for it.
    pub inbox: Arc<Inbox>,
    /// Its counters.
    pub counters: VmCounters,
    /// Parse errors by name.
    pub malformed: MalformedCounters,
    /// When it connected.
    pub connected_at: Instant,
    /// Its frames for the MLD tracker (drained once the VM is registered).
    pub mld: Arc<crate::mld::MldQueue>,
    /// TX messages it sent that the daemon has fully handled (routed, judged, handed to the
    /// medium clock): virtual time waits on it for the in-process AP MLD.
    pub tx_handled: std::sync::atomic::AtomicU64,
    /// Its in-band notification state (virtual time only), for `stats`.
    pub inband: std::sync::OnceLock<Arc<crate::vm::inband::Inband>>,
    /// Set when it leaves: from then on its counters go to `departed` once nothing refers to
    /// it any more.
    left: AtomicBool,
    departed: Arc<Mutex<crate::stats::Departed>>,
}

impl Drop for VmShared {
    /// A VM that left is summed into the departed VMs' totals only now: frames of its still on
    /// the medium clock (airtime mode) hold it and count their deliveries and TX statuses
    /// against it after it left.
    fn drop(&mut self) {
        if self.left.load(Ordering::Acquire) {
            self.departed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .fold(self);
        }
    }
}

/// The medium in force, swapped atomically by the control plane.
///
/// VM threads take one snapshot per frame with [`MediumSlot::load`]: no lock, no allocation, and
/// a frame is judged entirely by one medium even if a reload lands in the middle of it.
pub struct MediumSlot {
    // `Arc<dyn Medium>` is unsized behind the pointer, and `ArcSwap` needs a sized pointee:
    // hence the extra `Arc` around it.
    current: ArcSwap<Arc<dyn Medium>>,
}

/// How long [`MediumSlot::replace`] waits for frames in flight to let go of the old medium.
const RETIRE_WAIT: Duration = Duration::from_secs(1);

impl MediumSlot {
    /// A slot holding `medium`.
    pub fn new(medium: Arc<dyn Medium>) -> Self {
        MediumSlot {
            current: ArcSwap::from_pointee(medium),
        }
    }

    /// The medium in force; hold it for one frame, not longer (it keeps a replaced medium alive).
    pub fn load(&self) -> Guard<Arc<Arc<dyn Medium>>> {
        self.current.load()
    }

    /// The medium's short name.
    pub fn name(&self) -> &'static str {
        self.current.load().name()
    }

    /// Puts `medium` in force. Frames already being judged finish with the old one; the old one
    /// is freed here, once they let go, so a VM thread never pays for freeing a medium.
    pub fn replace(&self, medium: Arc<dyn Medium>) {
        let mut old = self.current.swap(Arc::new(medium));
        let deadline = Instant::now() + RETIRE_WAIT;
        loop {
            match Arc::try_unwrap(old) {
                Ok(last) => return drop(last),
                // A VM thread stalled mid-frame (unlikely): it frees the old medium itself.
                Err(_) if Instant::now() >= deadline => return,
                Err(shared) => old = shared,
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The daemon's shared state.
pub struct Core {
    /// Routing snapshot.
    pub routing: RoutingTable,
    /// Message buffers.
    pub pool: Arc<BufferPool>,
    /// The medium deciding every frame's fate; `reload` replaces it while frames flow.
    pub medium: MediumSlot,
    /// Queue sizes.
    pub limits: Limits,
    /// Where every transmission is recorded, if a capture is running (the control API starts,
    /// stops and rotates it; the data path loads it once per frame).
    pub capture: arc_swap::ArcSwapOption<crate::capture::CaptureTap>,
    /// Per-link impairments set through the control API, over whatever medium is in force.
    pub impairments: ArcSwap<crate::medium::impair::Impairments>,
    /// The control socket's counters.
    pub control: crate::control::ControlCounters,
    /// Deliveries held back for a link's added delay, started by the first one (`None`
    /// inside: its thread could not start, frames are delivered at once).
    delay: std::sync::OnceLock<Option<Arc<crate::switch::delay::DelayLine>>>,
    /// The MLD tracker: the data path queues management frames to it, readers get its table.
    pub mld: crate::mld::MldService,
    /// The built-in AP MLD (`--ap-config`), if running.
    pub ap: std::sync::OnceLock<hwsim_ap::runtime::ApHandle>,
    /// The connection of the built-in AP MLD (tables label its radios `ap-mld`).
    pub ap_vm: std::sync::OnceLock<VmId>,
    /// The medium clock of the airtime mode, started by the first timed frame (`None` inside:
    /// its thread could not start, frames are delivered at once).
    air: std::sync::OnceLock<Option<Arc<crate::medium::airtime::clock::AirClock>>>,
    /// The time-travel controller (`--time-travel`): set once before any VM connects.
    vtime: std::sync::OnceLock<Arc<crate::vtime::VirtualTime>>,
    vms: Mutex<BTreeMap<VmId, Arc<VmShared>>>,
    /// What the VMs that disconnected did: totals, and the last few as they were when they left
    /// (for reports). Their inboxes, radios and memory are freed. Each VM holds it too, to add
    /// its final figures when it goes.
    departed: Arc<Mutex<crate::stats::Departed>>,
    next_vm: AtomicU32,
    /// Deliveries each VM's inbox may hold: the pool divided by the VMs connected (at most
    /// the inbox capacity), so that no group of guests can hold every buffer.
    inbox_share: Arc<std::sync::atomic::AtomicUsize>,
}

impl Core {
    /// A core with the given medium and limits.
    pub fn new(medium: Arc<dyn Medium>, limits: Limits) -> Arc<Self> {
        let core = Arc::new(Core {
            routing: RoutingTable::default(),
            pool: BufferPool::new(limits.pool_buffers),
            medium: MediumSlot::new(medium),
            limits,
            capture: arc_swap::ArcSwapOption::empty(),
            impairments: ArcSwap::default(),
            control: crate::control::ControlCounters::default(),
            delay: std::sync::OnceLock::new(),
            mld: crate::mld::MldService::new(),
            ap: std::sync::OnceLock::new(),
            ap_vm: std::sync::OnceLock::new(),
            air: std::sync::OnceLock::new(),
            vtime: std::sync::OnceLock::new(),
            vms: Mutex::new(BTreeMap::new()),
            departed: Arc::default(),
            next_vm: AtomicU32::new(1),
            inbox_share: Arc::new(std::sync::atomic::AtomicUsize::new(
                limits.inbox_capacity.min(limits.pool_buffers).max(1),
            )),
        });
        if let Err(e) = crate::mld::MldService::spawn(&core) {
            tracing::warn!(error = %e, "no MLD tracker thread: MLDs will not be tracked");
        }
        core
    }

    /// The medium clock, started on first use.
    pub fn air_clock(self: &Arc<Self>) -> Option<&Arc<crate::medium::airtime::clock::AirClock>> {
        self.air
            .get_or_init(
                || match crate::medium::airtime::clock::AirClock::spawn(self) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "no medium clock thread: frames are not paced");
                        None
                    }
                },
            )
            .as_ref()
    }

    /// Runs the daemon in virtual time: call once, before serving any VM and before the first
    /// timed frame (the medium clock picks its clock when it starts). False if already set.
    pub fn set_vtime(&self, vt: Arc<crate::vtime::VirtualTime>) -> bool {
        self.vtime.set(vt).is_ok()
    }

    /// The time-travel controller, in virtual-time mode.
    pub fn vtime(&self) -> Option<&Arc<crate::vtime::VirtualTime>> {
        self.vtime.get()
    }

    /// The medium clock if it has started (nothing is started here).
    pub fn air_clock_if_started(&self) -> Option<&Arc<crate::medium::airtime::clock::AirClock>> {
        self.air.get().and_then(Option::as_ref)
    }

    /// The delay line, started on first use.
    pub fn delay_line(&self) -> Option<&Arc<crate::switch::delay::DelayLine>> {
        self.delay
            .get_or_init(|| match crate::switch::delay::DelayLine::spawn() {
                Ok(line) => Some(line),
                Err(e) => {
                    tracing::warn!(error = %e, "no delay line thread: link delays are not applied");
                    None
                }
            })
            .as_ref()
    }

    /// The delay line's counters (delivered, dropped), if it ever started.
    pub fn delay_counters(&self) -> Option<(u64, u64)> {
        let line = self.delay.get()?.as_ref()?;
        Some((
            line.delivered.load(Ordering::Relaxed),
            line.dropped.load(Ordering::Relaxed),
        ))
    }

    /// State for a VM about to connect (not yet listed).
    pub fn new_vm(&self) -> std::io::Result<Arc<VmShared>> {
        let id = self.next_vm.fetch_add(1, Ordering::Relaxed);
        Ok(Arc::new(VmShared {
            id,
            inbox: Inbox::with_share(self.limits.inbox_capacity, Arc::clone(&self.inbox_share))?,
            counters: VmCounters::default(),
            malformed: MalformedCounters::default(),
            connected_at: Instant::now(),
            mld: Arc::new(crate::mld::MldQueue::new(id)),
            tx_handled: std::sync::atomic::AtomicU64::new(0),
            inband: std::sync::OnceLock::new(),
            left: AtomicBool::new(false),
            departed: Arc::clone(&self.departed),
        }))
    }

    /// Lists a connected VM.
    pub fn register_vm(&self, vm: &Arc<VmShared>) {
        self.mld.register(&vm.mld);
        let mut vms = self.vms.lock().unwrap_or_else(|e| e.into_inner());
        vms.insert(vm.id, Arc::clone(vm));
        self.share_pool(vms.len());
    }

    /// Sets every inbox's share of the pool for `vms` connected VMs.
    fn share_pool(&self, vms: usize) {
        let share = (self.limits.pool_buffers / vms.max(1))
            .min(self.limits.inbox_capacity)
            .max(1);
        self.inbox_share.store(share, Ordering::Relaxed);
    }

    /// Forgets a VM (its threads have ended): its radios leave the routing table, what waited in
    /// its inbox is discarded and counted, and its figures go to the departed VMs' record.
    pub fn remove_vm(&self, id: VmId) {
        let leaving: Vec<Arc<Radio>> = self
            .routing
            .load()
            .radios
            .iter()
            .filter(|r| r.key.vm == id)
            .cloned()
            .collect();
        self.routing.remove_vm(id);
        self.mld.unregister(id);
        let vm = {
            let mut vms = self.vms.lock().unwrap_or_else(|e| e.into_inner());
            let vm = vms.remove(&id);
            self.share_pool(vms.len());
            vm
        };
        if let Some(vm) = vm {
            let discarded = vm.inbox.close();
            vm.counters
                .rx_discarded_on_departure
                .fetch_add(discarded as u64, Ordering::Relaxed);
            self.departed().add(&vm, &leaving);
            vm.left.store(true, Ordering::Release);
            // A settle wait on its inbox is over (a closed inbox counts as served).
            if let Some(vt) = self.vtime() {
                vt.progress.bump();
            }
        }
    }

    /// Counts deliveries that reached a VM's inbox after it left (a sender held an older
    /// routing snapshot) and were discarded there.
    pub fn count_discarded_after_departure(&self, n: usize) {
        self.departed().count_discarded(n);
    }

    /// Connected VMs.
    pub fn vms(&self) -> Vec<Arc<VmShared>> {
        self.vms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// The VMs that have disconnected (for reports).
    pub fn departed(&self) -> std::sync::MutexGuard<'_, crate::stats::Departed> {
        self.departed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medium::PerfectMedium;

    fn perfect(signal_dbm: i32) -> Arc<dyn Medium> {
        Arc::new(PerfectMedium {
            signal_dbm,
            ..PerfectMedium::default()
        })
    }

    fn signal(medium: &dyn Medium) -> i32 {
        let tx = crate::medium::Transmission {
            from: crate::switch::RadioKey {
                vm: 1,
                wire: hwsim_frame::MacAddr([0x42, 0, 0, 1, 0, 0]),
            },
            seq: 1,
            freq: 5180,
            frame: &[],
            receiver: hwsim_frame::MacAddr::BROADCAST,
            sender: None,
            group: true,
            flags: 0,
            rates: [hwsim_frame::nl::TxRate { idx: 0, count: 1 }; 4],
        };
        medium.status(&tx, None).signal_dbm
    }

    #[test]
    fn a_frame_in_flight_keeps_its_medium_and_the_next_frame_gets_the_new_one() {
        let slot = Arc::new(MediumSlot::new(perfect(-40)));
        let in_flight = slot.load();
        let replacer = {
            let slot = Arc::clone(&slot);
            std::thread::spawn(move || slot.replace(perfect(-70)))
        };
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(signal(&***in_flight), -40);
        drop(in_flight);
        replacer.join().unwrap();
        assert_eq!(signal(&***slot.load()), -70);
    }
}
