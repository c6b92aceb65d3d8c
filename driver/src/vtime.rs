//! Virtual time (issue 12, `docs/time-travel.md`): with `--time-travel SOCKET` the daemon is
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
use std::sync::{Arc, Weak};
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
    /// The participant used only for barriers; it never asks for a turn.
    pub const SYNC: u64 = u64::MAX;
}

/// How long a settle wait may take (wall time) before it gives up and counts: only a broken
/// or hostile guest that never answers a call takes that long.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

/// Counters of the virtual-time plumbing (in `stats` as `time_travel`).
#[derive(Debug, Default)]
pub struct VtimeCounters {
    /// Settle waits that gave up (a VM did not serve its inbox in time).
    pub settle_timeouts: AtomicU64,
}

/// The controller and its helpers, shared by the whole daemon.
pub struct VirtualTime {
    server: ServerHandle,
    sync: LocalParticipant,
    /// Counters.
    pub counters: VtimeCounters,
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
            counters: VtimeCounters::default(),
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
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        for vm in core.vms() {
            while !vm.inbox.served() {
                if Instant::now() >= deadline {
                    self.counters
                        .settle_timeouts
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        vm = vm.id,
                        "time travel: VM did not serve its inbox in time"
                    );
                    break;
                }
                // The VM's epoll thread needs a few µs; a condition variable per inbox would
                // cost the wall-clock data path a lock per delivery.
                std::thread::sleep(Duration::from_micros(20));
            }
        }
        self.barrier();
    }
}

/// The built-in AP MLD's clock under virtual time: a local participant whose request is the
/// next TBTT. In its turn it beacons at exactly that time and ends the turn once the daemon has
/// handled its frames and every VM has served what they caused. While no guest is connected to
/// the time socket it asks for nothing (beacons alone would spin simulated time forward as
/// fast as the CPU allows) and asks again when one joins.
///
/// Frames it answers with outside its turns (to what it received during another
/// participant's turn) go out at the controller's time when its thread gets to them: that is
/// not yet part of the settle waits (`docs/time-travel.md`, "not done").
pub struct VirtualApClock {
    vt: Arc<VirtualTime>,
    me: LocalParticipant,
    core: Weak<Core>,
    turn: Option<Nanos>,
    asked: Option<Option<Nanos>>,
}

/// How often the AP's wait looks for its turn while it also waits for RX.
const AP_POLL: Duration = Duration::from_millis(1);

impl VirtualApClock {
    /// The AP's participant in `vt`.
    pub fn new(vt: &Arc<VirtualTime>, core: &Arc<Core>) -> Self {
        VirtualApClock {
            me: vt.add_local(names::AP_MLD),
            vt: Arc::clone(vt),
            core: Arc::downgrade(core),
            turn: None,
            asked: None,
        }
    }

    /// Waits until the daemon has handled the AP's first `tx_frames` messages and the medium
    /// and the VMs have settled what they caused.
    fn settle(&self, tx_frames: u64) {
        let Some(core) = self.core.upgrade() else {
            return;
        };
        let ap = core
            .ap_vm
            .get()
            .and_then(|id| core.vms().into_iter().find(|vm| vm.id == *id));
        if let Some(ap) = ap {
            let deadline = Instant::now() + SETTLE_TIMEOUT;
            while ap.tx_handled.load(Ordering::Acquire) < tx_frames {
                if Instant::now() >= deadline {
                    self.vt
                        .counters
                        .settle_timeouts
                        .fetch_add(1, Ordering::Relaxed);
                    break;
                }
                std::thread::sleep(Duration::from_micros(20));
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
        self.vt.settle_rx(&core);
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
        let want = self.wanted(next_tbtt_ns);
        if self.turn.take().is_some() {
            self.settle(tx_frames);
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
        _next_tbtt_ns: u64,
    ) -> Result<(), hwsim_guest::Error> {
        loop {
            if let LocalEvent::Run(at) = self.me.next_event(Duration::ZERO) {
                self.turn = Some(at);
                return Ok(());
            }
            if guest.wait_also(extra, AP_POLL)? {
                return Ok(());
            }
            // A guest joined or all left: the next pass asks the controller again.
            if self
                .asked
                .is_some_and(|a| a.is_some() != (self.vt.stats().remotes > 0))
            {
                return Ok(());
            }
        }
    }
}
