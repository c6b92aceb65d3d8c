//! Virtual time (`docs/time-travel.md`): with `--time-travel SOCKET` the daemon is
//! the UML time-travel controller. Guests started with `time-travel=ext:ID:SOCKET` ask it for
//! time; the medium clock ([`crate::medium::airtime::clock`]) and the built-in AP MLD are local
//! participants of the same controller, so frame timing, beacons and the guests' timers all run
//! on one simulated clock that advances only when everybody waits.
//!
//! Besides the server this module holds the two waits that keep the ordering rules of
//! `docs/time-travel.md` §3 and §6:
//!
//! - [`VirtualTime::settle_rx`]: every VM's epoll thread has written what was pushed into its
//!   inbox and had its in-band VRING_CALL answered. A guest answers that call only after it
//!   has told the controller when it wants to run, so after this wait every guest touched has
//!   its request in.
//! - [`VirtualTime::barrier`]: the running guest has acknowledged every FREE_UNTIL those
//!   requests caused. Only then may a kick be answered.
//!
//! Neither wait runs on the thread that serves the time socket (the `hwsim-timetravel`
//! server's own thread), which must keep answering the guests' GET and REQUEST meanwhile.

use std::os::fd::RawFd;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use hwsim_timetravel::controller::Config;
use hwsim_timetravel::server::{
    LocalEvent, LocalParticipant, ServerConfig, ServerError, ServerHandle, Stats,
};

use crate::core::Core;

/// Nanoseconds of simulated time.
pub type Nanos = u64;

/// The guests' clock of day at simulated time 0 (2026-01-01T00:00:00Z): fixed, so that runs
/// repeat (GET_TOD).
pub const TOD_AT_ZERO_NS: u64 = 1_767_225_600 * 1_000_000_000;

/// Local participant names: ties between equal request times go to the lower name, and
/// guests' START ids (1..N) rank with them. The medium's deliveries at a time come before the
/// AP's beacon and before any guest that runs at the same time.
pub mod names {
    /// The medium clock (airtime mode).
    pub const MEDIUM: u64 = 0;
    /// The built-in AP MLD.
    pub const AP_MLD: u64 = 1 << 32;
    /// The pacer (`--time-travel-pace`).
    pub const PACER: u64 = 1 << 33;
    /// The medium config's timeline (`[[event]]`).
    pub const TIMELINE: u64 = 1 << 34;
    /// The participant used only for barriers; it never asks for a turn.
    pub const SYNC: u64 = u64::MAX;
}

/// How long a settle wait may take (wall time) before it gives up and counts: only a broken
/// or hostile guest that never answers a call takes that long.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a settle wait that gave up on a VM waits once more after waking that VM's epoll
/// thread ([`crate::switch::Inbox::rewake`]): a drain takes microseconds, an answered call
/// milliseconds.
pub const SETTLE_REWAKE_GRACE: Duration = Duration::from_millis(200);

/// Counters of the virtual-time plumbing (in `stats` as `time_travel`).
#[derive(Debug, Default)]
pub struct VtimeCounters {
    /// Settle waits that gave up (a VM did not serve its inbox in time).
    pub settle_timeouts: AtomicU64,
    /// Settle waits that ran out but were met once the VM's epoll thread was woken again: a
    /// wake-up for its inbox had been missed.
    pub settle_rewakes: AtomicU64,
}

/// Wakes the settle waits when a VM's epoll thread or the AP MLD has made progress (an event
/// handled, an inbox served, RX noticed), so they need not poll. Only virtual time bumps it:
/// the wall-clock data path takes no lock for it.
#[derive(Default)]
pub struct Progress {
    bumps: Mutex<u64>,
    changed: Condvar,
}

impl Progress {
    /// Something a settle wait may be waiting for has changed (call it after the change).
    pub fn bump(&self) {
        let mut bumps = self.bumps.lock().unwrap_or_else(|e| e.into_inner());
        *bumps = bumps.wrapping_add(1);
        drop(bumps);
        self.changed.notify_all();
    }

    /// Waits until `done()` holds (true) or `deadline` passes (false). `done` is checked
    /// under the lock [`Progress::bump`] takes after every change, so no change is missed.
    pub fn wait_until(&self, deadline: Instant, done: impl Fn() -> bool) -> bool {
        let mut bumps = self.bumps.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if done() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            bumps = self
                .changed
                .wait_timeout(bumps, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// The controller and its helpers, shared by the whole daemon.
pub struct VirtualTime {
    server: ServerHandle,
    sync: LocalParticipant,
    /// The built-in AP MLD runs on [`VirtualApClock`].
    ap_virtual: std::sync::atomic::AtomicBool,
    /// The AP VM's `rx_written` when the AP last asked for a turn to read it.
    ap_noticed: AtomicU64,
    /// Counters.
    pub counters: VtimeCounters,
    /// What the settle waits wait on.
    pub progress: Progress,
}

impl VirtualTime {
    /// Serves the time socket at `path`. With `guests > 0` nothing runs until that many guests
    /// have sent START; they are then admitted in id order, whatever order they connected in.
    pub fn start(path: &Path, guests: usize) -> Result<Arc<VirtualTime>, ServerError> {
        let config = ServerConfig {
            controller: Config {
                expected: guests,
                tod_at_zero: TOD_AT_ZERO_NS,
                record_turns: false,
            },
            ..ServerConfig::default()
        };
        let server = ServerHandle::spawn(path, config)?;
        let sync = server.add_local(names::SYNC);
        Ok(Arc::new(VirtualTime {
            server,
            sync,
            ap_virtual: std::sync::atomic::AtomicBool::new(false),
            ap_noticed: AtomicU64::new(0),
            counters: VtimeCounters::default(),
            progress: Progress::default(),
        }))
    }

    /// A new local participant (the medium clock, the AP MLD).
    pub fn add_local(&self, name: u64) -> LocalParticipant {
        self.server.add_local(name)
    }

    /// Simulated time now.
    pub fn now(&self) -> Nanos {
        self.sync.now()
    }

    /// The controller's time and counters.
    pub fn stats(&self) -> Stats {
        self.server.stats()
    }

    /// Every participant's (name, absolute request, running), for `stats`.
    pub fn schedule_table(&self) -> Vec<(u64, Option<Nanos>, bool)> {
        self.server.schedule_table()
    }

    /// The socket guests connect to.
    pub fn path(&self) -> &Path {
        self.server.path()
    }

    /// Waits until the running guest has acknowledged every message the controller sent it
    /// (see the module documentation).
    pub fn barrier(&self) {
        self.sync.barrier();
    }

    /// Waits until every connected VM has served what was pushed into its inbox so far (frames
    /// and statuses written into its RX ring, the in-band call answered), then for the
    /// [`barrier`](Self::barrier).
    pub fn settle_rx(&self, core: &Core) {
        self.settle(core, true);
    }

    /// [`settle_rx`](Self::settle_rx); with `ap`, also until the built-in AP MLD has asked for
    /// a turn to read what was written into its RX ring (it acts only in its turns).
    fn settle(&self, core: &Core, ap: bool) {
        self.settle_within(core, ap, SETTLE_TIMEOUT);
    }

    fn settle_within(&self, core: &Core, ap: bool, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        for vm in core.vms() {
            // Each VM's epoll thread bumps `progress` after every event it handled.
            if self.progress.wait_until(deadline, || vm.inbox.served()) {
                continue;
            }
            // Woken once more, a VM whose wake-up was lost serves at once, and this wait is met
            // too: the VM's call is answered before time moves on. Without the rewake the guest
            // that runs next pays the whole timeout at each of its kicks, and while it runs
            // nothing else can deliver to that VM and wake it.
            vm.inbox.rewake();
            let grace = Instant::now() + SETTLE_REWAKE_GRACE;
            let met = self.progress.wait_until(grace, || vm.inbox.served());
            let counter = if met {
                &self.counters.settle_rewakes
            } else {
                &self.counters.settle_timeouts
            };
            counter.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                vm = vm.id,
                waiter = std::thread::current().name().unwrap_or("?"),
                waiting = vm.inbox.len(),
                unserved = vm.inbox.unserved(),
                in_kick = vm.inband.get().is_some_and(|i| i.in_kick()),
                now = self.now(),
                served_once_woken = met,
                "time travel: VM did not serve its inbox in time"
            );
        }
        if ap && self.ap_virtual.load(Ordering::Acquire) {
            if let Some(vm) = ap_vm(core) {
                let noticed = || self.ap_noticed.load(Ordering::Acquire) >= rx_written(&vm);
                if !self.progress.wait_until(deadline, noticed) {
                    self.counters
                        .settle_timeouts
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::warn!("time travel: the AP MLD did not notice its RX in time");
                }
            }
        }
        self.barrier();
    }
}

fn ap_vm(core: &Core) -> Option<Arc<crate::core::VmShared>> {
    let id = *core.ap_vm.get()?;
    core.vms().into_iter().find(|vm| vm.id == id)
}

fn rx_written(vm: &crate::core::VmShared) -> u64 {
    vm.counters.rx_written.load(Ordering::Acquire)
}

/// The built-in AP MLD's clock under virtual time: a local participant whose request is the
/// next TBTT. In its turn it beacons at exactly that time and ends the turn once the daemon has
/// handled its frames and every VM has served what they caused. While no guest is connected to
/// the time socket it asks for nothing (beacons alone would spin simulated time forward as
/// fast as the CPU allows) and asks again when one joins.
///
/// It acts only in its turns: RX (or distribution-system input) that arrives during another
/// participant's turn makes it ask for a turn at the current time, and that turn's owner waits
/// until it has asked ([`VirtualTime::settle_rx`]). A guest is never sent a frame by the AP
/// while it runs.
pub struct VirtualApClock {
    vt: Arc<VirtualTime>,
    me: LocalParticipant,
    core: Weak<Core>,
    turn: Option<Nanos>,
    asked: Option<Option<Nanos>>,
    /// The TBTT the loop last named.
    next_tbtt: Nanos,
}

/// How often the AP's wait looks for its turn while it also waits for RX.
const AP_POLL: Duration = Duration::from_millis(1);

/// How often (wall time) the AP's loop gets to answer commands between turns.
const AP_COMMAND_POLL: Duration = Duration::from_millis(20);

impl VirtualApClock {
    /// The AP's participant in `vt`.
    pub fn new(vt: &Arc<VirtualTime>, core: &Arc<Core>) -> Self {
        vt.ap_virtual.store(true, Ordering::Release);
        VirtualApClock {
            me: vt.add_local(names::AP_MLD),
            vt: Arc::clone(vt),
            core: Arc::downgrade(core),
            turn: None,
            asked: None,
            next_tbtt: 0,
        }
    }

    /// Waits until the daemon has handled the AP's first `tx_frames` messages and the medium
    /// and the VMs have settled what they caused.
    fn settle(&self, tx_frames: u64) {
        let Some(core) = self.core.upgrade() else {
            return;
        };
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        if let Some(ap) = ap_vm(&core) {
            let handled = || ap.tx_handled.load(Ordering::Acquire) >= tx_frames;
            if !self.vt.progress.wait_until(deadline, handled) {
                self.vt
                    .counters
                    .settle_timeouts
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        if let Some(air) = core.air_clock_if_started() {
            if !air.settle(SETTLE_TIMEOUT) {
                self.vt
                    .counters
                    .settle_timeouts
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        // Not for itself: this thread is the one that would notice.
        self.vt.settle(&core, false);
    }

    /// What the daemon has written into the AP's RX ring so far.
    fn ap_rx_written(&self) -> u64 {
        self.core
            .upgrade()
            .and_then(|core| ap_vm(&core))
            .map_or(0, |vm| rx_written(&vm))
    }

    /// RX or input arrived outside a turn: ask for one as soon as is safe, then say so. RX is
    /// written only inside another participant's turn or kick, whose owner waits until this
    /// has been asked: the controller's time is exact then. Input from the distribution
    /// system (a host TAP) comes at any wall time, while a guest may run ahead of the
    /// controller's time: it is asked for at that guest's FREE_UNTIL.
    fn ask_now(&mut self, rx: bool) {
        let written = self.ap_rx_written();
        if let Some(at) = self.me.request_asap(rx) {
            self.asked = Some(Some(at));
        }
        self.vt.ap_noticed.fetch_max(written, Ordering::AcqRel);
        self.vt.progress.bump();
    }

    fn wanted(&self, next_tbtt: Nanos) -> Option<Nanos> {
        (self.vt.stats().remotes > 0).then_some(next_tbtt)
    }
}

impl hwsim_ap::runtime::ApClock for VirtualApClock {
    fn now_ns(&mut self) -> u64 {
        self.turn.unwrap_or_else(|| self.me.now())
    }

    fn pass_done(&mut self, tx_frames: u64, next_tbtt_ns: u64) {
        self.next_tbtt = next_tbtt_ns;
        let mut want = self.wanted(next_tbtt_ns);
        if let Some(at) = self.turn.take() {
            self.settle(tx_frames);
            // Statuses of its own frames (and anything else) written during the turn: another
            // turn at the same time reads them.
            let written = self.ap_rx_written();
            if written > self.vt.ap_noticed.load(Ordering::Acquire) {
                self.vt.ap_noticed.fetch_max(written, Ordering::AcqRel);
                self.vt.progress.bump();
                want = Some(at);
            }
            self.me.request(want);
            self.asked = Some(want);
            self.me.done();
        } else if self.asked != Some(want) {
            self.me.request(want);
            self.asked = Some(want);
        }
    }

    fn wait(
        &mut self,
        guest: &hwsim_guest::Guest,
        extra: Option<RawFd>,
        next_tbtt_ns: u64,
    ) -> Result<bool, hwsim_guest::Error> {
        self.next_tbtt = next_tbtt_ns;
        let commands = Instant::now() + AP_COMMAND_POLL;
        loop {
            if let LocalEvent::Run(at) = self.me.next_event(Duration::ZERO) {
                self.turn = Some(at);
                let written = self.ap_rx_written();
                self.vt.ap_noticed.fetch_max(written, Ordering::AcqRel);
                self.vt.progress.bump();
                return Ok(true);
            }
            if Instant::now() >= commands {
                return Ok(false);
            }
            // The ring's notification is not relied on (the frontend may not ask for one):
            // what the daemon has written is compared with what was noticed.
            let readable = guest.wait_also(extra, AP_POLL)?;
            let unseen = self.ap_rx_written() > self.vt.ap_noticed.load(Ordering::Acquire);
            if (readable || unseen) && self.vt.stats().remotes > 0 {
                self.ask_now(unseen);
                continue;
            }
            // A guest joined or all left: ask again (no turn, nothing is sent).
            if self
                .asked
                .is_some_and(|a| a.is_some() != (self.vt.stats().remotes > 0))
            {
                self.pass_done(0, self.next_tbtt);
            }
        }
    }
}

/// Simulated time between two turns of the pacer.
pub const PACE_STEP_NS: Nanos = 10_000_000;

/// Keeps simulated time from running ahead of `ratio` × wall time (`--time-travel-pace`): a
/// local participant that asks for a turn every [`PACE_STEP_NS`] of simulated time and, in
/// it, sleeps until the wall clock has caught up. For rigs where something outside the
/// simulation takes part on wall time (a host TAP, host-side timeouts); time may still run
/// slower than that. The wall reference is taken at the pacer's first turn.
pub fn spawn_pacer(vt: &Arc<VirtualTime>, ratio: f64) -> std::io::Result<()> {
    let me = vt.add_local(names::PACER);
    let vt = Arc::clone(vt);
    std::thread::Builder::new()
        .name("vhost-hwsim-pace".into())
        .spawn(move || {
            let mut origin: Option<(Instant, Nanos)> = None;
            let mut next = PACE_STEP_NS;
            loop {
                // Without guests nothing moves time anyway; do not hold it either.
                let want = (vt.stats().remotes > 0).then_some(next);
                me.request(want);
                let LocalEvent::Run(at) = me.next_event(Duration::from_millis(100)) else {
                    continue;
                };
                let (wall0, sim0) = *origin.get_or_insert((Instant::now(), at));
                let due = wall0 + Duration::from_secs_f64((at - sim0) as f64 / 1e9 / ratio);
                if let Some(left) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(left);
                }
                next = at + PACE_STEP_NS;
                me.request((vt.stats().remotes > 0).then_some(next));
                me.done();
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn a_settle_wait_wakes_on_the_bump_after_a_change_and_gives_up_at_its_deadline() {
        let progress = Arc::new(Progress::default());
        let flag = Arc::new(AtomicBool::new(false));
        let changer = {
            let (progress, flag) = (Arc::clone(&progress), Arc::clone(&flag));
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                flag.store(true, Ordering::Release);
                progress.bump();
            })
        };
        let t0 = Instant::now();
        let done = progress.wait_until(t0 + Duration::from_secs(10), || {
            flag.load(Ordering::Acquire)
        });
        assert!(done);
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "woken by the bump, not by the deadline"
        );
        changer.join().unwrap();
        // Nothing changes: false once the deadline has passed.
        let t0 = Instant::now();
        assert!(!progress.wait_until(t0 + Duration::from_millis(30), || false));
        assert!(t0.elapsed() >= Duration::from_millis(30));
    }

    /// A VM whose inbox wake-up was missed (a notify counted in `posted` that neither wrote
    /// the eventfd nor was seen by a drain, as the race fixed in `Inbox::begin_drain` left it)
    /// stays unserved until something wakes its epoll thread. The wpa2 hang: the guest that
    /// ran next paid the whole settle timeout at every kick, and while it ran nothing could
    /// deliver to that VM. A thread stands in for the VM's epoll loop here.
    #[test]
    fn a_settle_wait_that_gives_up_wakes_the_vm_so_a_missed_wake_up_costs_one_wait() {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "vhost-hwsim-rewake-{}-{stamp}.sock",
            std::process::id()
        ));
        let vt = VirtualTime::start(&path, 0).unwrap();
        let core = Core::new(
            Arc::new(crate::medium::PerfectMedium::default()),
            crate::core::Limits::default(),
        );
        let vm = core.new_vm().unwrap();
        core.register_vm(&vm);
        // The miss: a notify whose eventfd write is gone without a drain having counted it.
        vm.inbox.notify();
        let mut count = [0u8; 8];
        // SAFETY: reads 8 bytes from the inbox's own (non-blocking) eventfd into a local
        // buffer of that size.
        let n = unsafe { libc::read(vm.inbox.wake_fd(), count.as_mut_ptr().cast(), 8) };
        assert_eq!(n, 8);
        assert!(!vm.inbox.served());
        let stop = Arc::new(AtomicBool::new(false));
        let epoll = {
            let (vt, vm, stop) = (Arc::clone(&vt), Arc::clone(&vm), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    let mut fds = [libc::pollfd {
                        fd: vm.inbox.wake_fd(),
                        events: libc::POLLIN,
                        revents: 0,
                    }];
                    // SAFETY: one valid pollfd for the duration of the call.
                    if unsafe { libc::poll(fds.as_mut_ptr(), 1, 10) } == 1 {
                        let upto = vm.inbox.begin_drain();
                        vm.inbox.mark_served(upto);
                        vt.progress.bump();
                    }
                }
            })
        };
        // The first wait runs out, wakes the VM and is met: it returns with the VM served,
        // its call answered before time would move on.
        vt.settle_within(&core, false, Duration::from_millis(100));
        assert!(
            vm.inbox.served(),
            "the first wait returned only once the woken VM had served"
        );
        let c = &vt.counters;
        assert_eq!(
            c.settle_timeouts.load(Ordering::Relaxed),
            0,
            "no wait gave up"
        );
        assert_eq!(c.settle_rewakes.load(Ordering::Relaxed), 1);
        // Later waits find it served at once.
        let t0 = Instant::now();
        vt.settle_within(&core, false, Duration::from_secs(5));
        vt.settle_within(&core, false, Duration::from_secs(5));
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "no later wait ran out"
        );
        assert_eq!(c.settle_timeouts.load(Ordering::Relaxed), 0);
        assert_eq!(c.settle_rewakes.load(Ordering::Relaxed), 1);
        stop.store(true, Ordering::Release);
        epoll.join().unwrap();
    }
}
