//! The medium clock: one thread that owns the timeline, starts transmissions when the air lets
//! them, and at each end time delivers frames and TX statuses through the VMs' inboxes.
//!
//! VM threads hand it [`TimedTx`]s through a bounded lock-free queue ([`AirClock::submit`]); a
//! full queue gives the frame back (the caller drops it with a not-acked status and counts it).
//! The thread keeps, per (radio, channel), the burst on the air and a bounded backlog: a radio
//! transmits one frame at a time per channel. Its storage (timeline, in-flight slots, backlogs)
//! is sized once or grows to its high-water mark; steady state allocates nothing.
//!
//! Times are nanoseconds since the clock started, from the monotonic clock ([`WallTime`]) or,
//! under `--time-travel`, from the UML time-travel controller ([`VirtualMediumTime`]): the
//! same scheduler runs on either ([`MediumTime`]). Bursts are placed in that time; on the
//! monotonic clock the thread sleeps until the next end and delivers whatever is due when it
//! wakes, so a late wake-up delays deliveries but never shifts the schedule; on the
//! controller's clock it runs each end in a turn at exactly that simulated time.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use hwsim_frame::nl::{tx_flags, TxInfoRepr, TxRate};
use hwsim_timetravel::server::{LocalEvent, LocalParticipant, LocalWaker};

use super::timeline::{Access, Antenna, Burst, Timeline};
use super::{block_ack_bitmap, AirModel, AirPlan, Nanos, Psdu, CCA_THRESHOLD_DBM, PPDU_MAX_NS};
use crate::core::{Core, VmShared};
use crate::counters::{attempts_in, LinkTx};
use crate::medium::fill_retry_chain;
use crate::medium::impair::{Endpoint, Impairments};
use crate::medium::model::FCS_LEN;
use crate::switch::{Delivery, DeliveryKind, Pushed, Radio, RadioKey};
use crate::vtime::VirtualTime;

/// Receivers one timed transmission carries; more are dropped and counted (`air_rx_overflow`).
pub const MAX_TIMED_RX: usize = 16;

/// Transmissions waiting in the hand-off queue.
pub const QUEUE_CAPACITY: usize = 2048;

/// Frames one radio may have waiting per channel behind the one on the air.
pub const STATION_BACKLOG: usize = 512;

/// Bursts the timeline holds (on the air, waiting to start, or kept for interference).
const TIMELINE_CAPACITY: usize = 4096;

/// How long the idle thread sleeps before checking that the daemon still runs.
pub const IDLE_SLEEP: Duration = Duration::from_millis(100);

/// The largest TX status message.
const STATUS_MSG_LEN: usize = 128;

/// One receiver's pre-built delivery.
pub struct TimedRx {
    /// The RX message, ready for the receiver's inbox.
    pub delivery: Delivery,
    /// The receiving node (the model's index).
    pub node: usize,
    /// The receiving radio's id in the draws.
    pub radio: u64,
    /// The receiving radio and address, as run-time impairments match them.
    pub who: Endpoint,
    /// Received signal (faded), dBm.
    pub signal_dbm: i32,
}

impl TimedRx {
    /// The receiver as the timeline sees it.
    fn antenna(&self) -> Antenna {
        Antenna {
            node: self.node,
            who: self.who,
        }
    }
}

/// The median power (dBm) `from` radiates at `to` on `freq` as carrier sense and interference
/// feel it: the model's, less the run-time attenuation of the links either end is on, or none
/// at all (−∞) through a link that is down. The reception of the frame itself already met the
/// same attenuation when its VM thread judged it.
fn sensed_dbm(
    air: &dyn AirModel,
    impaired: &Impairments,
    from: Antenna,
    to: Antenna,
    freq: u32,
) -> f64 {
    match impaired.energy_attenuation_db(&from.who, &to.who, freq) {
        Some(db) => air.rx_power_dbm(from.node, to.node, freq) - db,
        None => f64::NEG_INFINITY,
    }
}

/// A transmission judged against noise, waiting for the air.
pub struct TimedTx {
    /// The sending VM (counters).
    pub vm: Arc<VmShared>,
    /// The sending radio: its inbox gets the status.
    pub sender: Arc<Radio>,
    /// The status as the medium decided it against noise (STAT_ACK set if acked).
    pub status: TxInfoRepr,
    /// The guest's retry chain, to report the attempts actually made.
    pub guest_rates: [TxRate; 4],
    /// Attempt at which the addressed receiver got the frame against noise.
    pub acked_at: Option<u8>,
    /// How it uses the air.
    pub plan: AirPlan,
    /// Receivers that heard it against noise.
    pub rx: [Option<TimedRx>; MAX_TIMED_RX],
    /// Which of `rx` acknowledges (unicast).
    pub acker: Option<usize>,
    /// Index of the receiver added last (the caller picks the acker among them).
    pub last_added: Option<usize>,
    /// Virtual time: the frame's capture record, held until its PPDU gets the air and then
    /// stamped with the PPDU's simulated start ([`HeldCapture`]).
    pub capture: Option<HeldCapture>,
}

/// A capture record the medium clock writes once the frame's PPDU has a start on the air
/// (virtual time only: there the capture shows the schedule exactly). The frame's bytes wait
/// in a pool buffer; frames the medium drops before they get the air are not captured.
pub struct HeldCapture {
    /// Everything but the timestamp, as the VM thread judged the frame.
    pub meta: crate::capture::FrameMeta,
    /// The frame's bytes.
    pub frame: crate::switch::PoolBuf,
}

impl TimedTx {
    /// A transmission with no receivers yet; `status` carries the guest's retry chain until
    /// the medium's status replaces it.
    pub fn new(vm: Arc<VmShared>, sender: Arc<Radio>, status: TxInfoRepr, plan: AirPlan) -> Self {
        TimedTx {
            vm,
            sender,
            guest_rates: status.tx_info,
            status,
            acked_at: None,
            plan,
            rx: std::array::from_fn(|_| None),
            acker: None,
            last_added: None,
            capture: None,
        }
    }

    /// Adds a receiver; gives the delivery back when the transmission carries
    /// [`MAX_TIMED_RX`] already. Returns its index.
    pub fn add(&mut self, rx: TimedRx) -> Result<usize, TimedRx> {
        match self.rx.iter().position(Option::is_none) {
            Some(i) => {
                self.rx[i] = Some(rx);
                self.last_added = Some(i);
                Ok(i)
            }
            None => Err(rx),
        }
    }

    /// Receivers it still carries a delivery for.
    pub fn receivers(&self) -> usize {
        self.rx.iter().filter(|r| r.is_some()).count()
    }
}

/// Where the medium clock takes its time from: one scheduler ([`ClockState`]), two clocks.
///
/// The thread's loop is the same in both modes: take `now`, finish the bursts that ended by
/// then, start what arrived, then [`MediumTime::pass_done`] with the next end and
/// [`MediumTime::sleep`] until it is due or a frame arrives.
pub trait MediumTime: Send {
    /// Nanoseconds since the clock started.
    fn now(&self) -> Nanos;
    /// One pass over the timeline is done and `next` is its earliest end: in virtual time,
    /// ask the controller for it and end the turn if one was running.
    fn pass_done(&mut self, core: &Core, next: Option<Nanos>);
    /// Sleeps until `next` is due, a frame arrives (`arrived()`), or [`IDLE_SLEEP`] passed.
    fn sleep(&mut self, next: Option<Nanos>, arrived: &dyn Fn() -> bool);
}

/// Wall-clock mode (the default): the host's monotonic clock, and `park_timeout`.
pub struct WallTime {
    epoch: Instant,
}

impl WallTime {
    /// A clock starting now.
    pub fn new() -> Self {
        WallTime {
            epoch: Instant::now(),
        }
    }
}

impl Default for WallTime {
    fn default() -> Self {
        Self::new()
    }
}

impl MediumTime for WallTime {
    fn now(&self) -> Nanos {
        self.epoch.elapsed().as_nanos() as Nanos
    }

    fn pass_done(&mut self, _core: &Core, _next: Option<Nanos>) {}

    fn sleep(&mut self, next: Option<Nanos>, arrived: &dyn Fn() -> bool) {
        let sleep = match next {
            Some(end) => Duration::from_nanos(end.saturating_sub(self.now())),
            None => IDLE_SLEEP,
        };
        if !arrived() && !sleep.is_zero() {
            std::thread::park_timeout(sleep.min(IDLE_SLEEP));
        }
    }
}

/// Virtual-time mode (`--time-travel`): the controller's clock. The medium is a local
/// participant whose request is the timeline's next end; a burst's end is handled in the
/// medium's turn at exactly that time, and frames that arrive while a guest runs (inside its
/// kick) are placed at the controller's `now`, which is the kick's time.
pub struct VirtualMediumTime {
    vt: Arc<VirtualTime>,
    me: LocalParticipant,
    /// The turn being run, if any.
    turn: Option<Nanos>,
    /// What was last asked of the controller.
    asked: Option<Option<Nanos>>,
}

impl VirtualMediumTime {
    /// The medium's participant in `vt`.
    pub fn new(vt: Arc<VirtualTime>) -> Self {
        let me = vt.add_local(crate::vtime::names::MEDIUM);
        VirtualMediumTime {
            vt,
            me,
            turn: None,
            asked: None,
        }
    }

    fn waker(&self) -> LocalWaker {
        self.me.waker()
    }
}

impl MediumTime for VirtualMediumTime {
    fn now(&self) -> Nanos {
        self.turn.unwrap_or_else(|| self.me.now())
    }

    fn pass_done(&mut self, core: &Core, next: Option<Nanos>) {
        if self.turn.take().is_some() {
            // What the turn delivered is in the guests' rings and each guest touched has asked
            // to run (it does so before it answers the call): only now may time move on.
            self.vt.settle_rx(core);
            self.me.request(next);
            self.asked = Some(next);
            self.me.done();
        } else if self.asked != Some(next) {
            // A frame arrived inside a kick: the kick is answered after this returns (the
            // runner has ACKed the lower FREE_UNTIL it may cause).
            self.me.request(next);
            self.asked = Some(next);
        }
    }

    fn sleep(&mut self, _next: Option<Nanos>, arrived: &dyn Fn() -> bool) {
        if arrived() {
            return;
        }
        if let LocalEvent::Run(at) = self.me.next_event(IDLE_SLEEP) {
            self.turn = Some(at);
        }
    }
}

/// How the clock thread is woken when a frame arrives.
enum Waker {
    Thread(Thread),
    Local(LocalWaker),
}

/// The hand-off point between VM threads and the clock thread.
pub struct AirClock {
    queue: ArrayQueue<TimedTx>,
    waker: OnceLock<Waker>,
    /// Frames handed over, and (under the lock) how many of them the thread had seen when it
    /// last finished a pass: virtual time waits for the two to meet ([`AirClock::settle`]).
    submitted: AtomicU64,
    taken: Mutex<u64>,
    taken_changed: Condvar,
    /// After each pass: transmissions the thread holds (on the air or waiting behind one), and
    /// bursts on its timeline (for `stats`).
    held: AtomicU64,
    bursts: AtomicU64,
}

impl AirClock {
    /// Starts the clock thread for `core` on the monotonic clock, or on the controller's clock
    /// when the daemon runs in virtual time; it stops when the core is dropped.
    pub fn spawn(core: &Arc<Core>) -> std::io::Result<Arc<AirClock>> {
        let clock = Arc::new(AirClock {
            queue: ArrayQueue::new(QUEUE_CAPACITY),
            waker: OnceLock::new(),
            submitted: AtomicU64::new(0),
            taken: Mutex::new(0),
            taken_changed: Condvar::new(),
            held: AtomicU64::new(0),
            bursts: AtomicU64::new(0),
        });
        let time: Box<dyn MediumTime> = match core.vtime() {
            Some(vt) => {
                let t = VirtualMediumTime::new(Arc::clone(vt));
                let _ = clock.waker.set(Waker::Local(t.waker()));
                Box::new(t)
            }
            None => Box::new(WallTime::new()),
        };
        let weak: Weak<Core> = Arc::downgrade(core);
        let shared = Arc::clone(&clock);
        let handle = std::thread::Builder::new()
            .name("vhost-hwsim-air".into())
            .spawn(move || run(&weak, &shared, time))?;
        let _ = clock.waker.set(Waker::Thread(handle.thread().clone()));
        Ok(clock)
    }

    /// Hands a transmission to the clock; gives it back if the queue is full.
    // Moved by value on purpose: boxing it would allocate per frame.
    #[allow(clippy::result_large_err)]
    pub fn submit(&self, tx: TimedTx) -> Result<(), TimedTx> {
        self.queue.push(tx)?;
        self.submitted.fetch_add(1, Ordering::AcqRel);
        self.wake();
        Ok(())
    }

    fn wake(&self) {
        match self.waker.get() {
            // Cheap when the thread is awake (no syscall); wakes it when it sleeps.
            Some(Waker::Thread(t)) => t.unpark(),
            Some(Waker::Local(w)) => w.wake(),
            None => {}
        }
    }

    /// Virtual time: waits until the clock thread has placed every frame submitted so far and
    /// told the controller its next end (at most `timeout`); false if it did not in time.
    pub fn settle(&self, timeout: Duration) -> bool {
        let want = self.submitted.load(Ordering::Acquire);
        let deadline = Instant::now() + timeout;
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        while *taken < want {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            taken = self
                .taken_changed
                .wait_timeout(taken, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// (transmissions held, bursts on the timeline) after the thread's last pass.
    pub fn held(&self) -> (u64, u64) {
        (
            self.held.load(Ordering::Relaxed),
            self.bursts.load(Ordering::Relaxed),
        )
    }

    fn mark_taken(&self, upto: u64) {
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        if upto > *taken {
            *taken = upto;
            self.taken_changed.notify_all();
        }
    }
}

fn run(core: &Weak<Core>, clock: &AirClock, mut time: Box<dyn MediumTime>) {
    // Wake-ups are due at PPDU granularity (tens of µs); the default 50 µs timer slack would
    // make every delivery late by that much.
    // SAFETY: prctl(PR_SET_TIMERSLACK) only changes this thread's timer slack.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1000 as libc::c_ulong, 0, 0, 0) };
    let mut state = ClockState::new();
    loop {
        let next = {
            let Some(core) = core.upgrade() else {
                return;
            };
            let medium = core.medium.load();
            let air = medium.air();
            if air.is_none() {
                state.flush(&core);
            }
            let now = time.now();
            let seen = clock.submitted.load(Ordering::Acquire);
            let next = state.pass(&core, air, now, || clock.queue.pop());
            clock.held.store(state.held(), Ordering::Relaxed);
            clock
                .bursts
                .store(state.timeline.len() as u64, Ordering::Relaxed);
            time.pass_done(&core, next);
            clock.mark_taken(seen);
            next
        };
        time.sleep(next, &|| !clock.queue.is_empty());
    }
}

/// A radio on one channel: transmits one frame at a time.
#[derive(Default)]
struct Station {
    on_air: bool,
    backlog: VecDeque<(Nanos, TimedTx)>,
}

/// A transmission on the air (or committed to start).
struct InFlight {
    tx: TimedTx,
    burst: u64,
    /// Last attempt of the current burst.
    last: u32,
    /// The addressed receiver got the last attempt against noise.
    success: bool,
    /// Frames at the front of the station's backlog riding in this burst's A-MPDU.
    followers: usize,
    /// What the PPDU carries.
    psdu: Psdu,
}

/// The clock thread's state.
struct ClockState {
    timeline: Timeline,
    slots: Vec<Option<InFlight>>,
    free: Vec<usize>,
    stations: HashMap<(RadioKey, u32), Station>,
}

impl ClockState {
    fn new() -> Self {
        ClockState {
            timeline: Timeline::new(TIMELINE_CAPACITY, CCA_THRESHOLD_DBM),
            slots: Vec::with_capacity(TIMELINE_CAPACITY),
            free: Vec::with_capacity(TIMELINE_CAPACITY),
            stations: HashMap::new(),
        }
    }

    /// One pass of the clock thread at `now`: finishes every burst that ended by then, then
    /// places what arrived (`arrived` until it returns `None`). Returns the next end.
    fn pass(
        &mut self,
        core: &Core,
        air: Option<&dyn AirModel>,
        now: Nanos,
        mut arrived: impl FnMut() -> Option<TimedTx>,
    ) -> Option<Nanos> {
        while let Some(b) = self.timeline.next_end().filter(|b| b.end <= now) {
            self.on_end(core, air, b);
        }
        while let Some(tx) = arrived() {
            self.arrive(core, air, tx, now);
        }
        self.timeline.next_end().map(|b| b.end)
    }

    /// Transmissions held: in a slot (on the air) or in a station's backlog.
    fn held(&self) -> u64 {
        let in_slots = self.slots.iter().filter(|s| s.is_some()).count();
        let waiting: usize = self.stations.values().map(|s| s.backlog.len()).sum();
        (in_slots + waiting) as u64
    }

    /// The medium in force has no airtime (a reload replaced it): whatever waits goes out now,
    /// with the status the medium decided against noise.
    fn flush(&mut self, core: &Core) {
        if self.timeline.is_empty() && self.stations.is_empty() {
            return;
        }
        for f in self.slots.iter_mut().filter_map(Option::take) {
            finish(core, f.tx, Outcome::Untimed);
        }
        self.free.clear();
        self.free.extend(0..self.slots.len());
        for (_, mut station) in self.stations.drain() {
            for (_, tx) in station.backlog.drain(..) {
                finish(core, tx, Outcome::Untimed);
            }
        }
        self.timeline.clear();
    }

    /// A transmission arrived at `now`: start it if its radio is free on that channel,
    /// otherwise queue it behind.
    fn arrive(&mut self, core: &Core, air: Option<&dyn AirModel>, tx: TimedTx, now: Nanos) {
        let Some(air) = air else {
            // The medium in force has no airtime (a reload replaced it): deliver at once.
            return finish(core, tx, Outcome::Untimed);
        };
        let key = (tx.sender.key, tx.plan.freq);
        let station = self.stations.entry(key).or_default();
        if station.on_air {
            if station.backlog.len() >= STATION_BACKLOG {
                tx.vm.counters.air_dropped.fetch_add(1, Ordering::Relaxed);
                return finish(core, tx, Outcome::Dropped);
            }
            station.backlog.push_back((now, tx));
            return;
        }
        self.start(core, air, tx, now);
    }

    /// Commits the first burst of `tx` with the radio free from `ready`, aggregating the
    /// frames waiting behind it that may share its A-MPDU.
    fn start(&mut self, core: &Core, air: &dyn AirModel, mut tx: TimedTx, ready: Nanos) {
        let (last, success) = if tx.plan.ack {
            match tx.acked_at {
                Some(k) => (u32::from(k), true),
                None => (tx.plan.max_attempts(), false),
            }
        } else {
            (1, true)
        };
        let key = (tx.sender.key, tx.plan.freq);
        let (followers, psdu) = self.aggregate(&tx, &key);
        let slot = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let impaired = core.impairments.load();
        match self.commit(
            air,
            &impaired,
            &tx.plan,
            slot,
            ready,
            (1, last),
            success,
            psdu,
        ) {
            Some((burst, busy, on_air)) => {
                add_busy(&tx.vm, busy);
                stamp_capture(core, &mut tx, on_air);
                if let Some(s) = self.stations.get_mut(&key) {
                    // The A-MPDU's other frames are in the same PPDU.
                    for (_, m) in s.backlog.iter_mut().take(followers) {
                        stamp_capture(core, m, on_air);
                    }
                }
                self.slots[slot] = Some(InFlight {
                    tx,
                    burst,
                    last,
                    success,
                    followers,
                    psdu,
                });
                if let Some(s) = self.stations.get_mut(&key) {
                    s.on_air = true;
                }
            }
            None => {
                self.free.push(slot);
                tx.vm.counters.air_dropped.fetch_add(1, Ordering::Relaxed);
                finish(core, tx, Outcome::Dropped);
            }
        }
    }

    /// How many frames waiting behind `head` join its A-MPDU, and the PSDU they make: QoS data
    /// for the same receiver at the same rate and access category, each through at its first
    /// attempt against noise (a frame needing retries goes alone with its own chain), within
    /// the Block Ack window and aPPDUMaxTime. Real stations aggregate whatever waits in the
    /// queue; hwsim guests cannot say, so the medium does it for them.
    fn aggregate(&self, head: &TimedTx, key: &(RadioKey, u32)) -> (usize, Psdu) {
        let single = (0, Psdu::single(head.plan.psdu_len));
        let plan = &head.plan;
        let v = plan.entries[0].vector;
        let receiver = |t: &TimedTx| {
            t.acker
                .and_then(|i| t.rx[i].as_ref())
                .map(|r| r.delivery.to.key)
        };
        let Some(to) = receiver(head) else {
            return single;
        };
        if !plan.aggregatable || head.acked_at != Some(1) {
            return single;
        }
        let Some(station) = self.stations.get(key) else {
            return single;
        };
        let window = block_ack_bitmap(&v) as usize;
        let mut len = Psdu::subframe_len(plan.psdu_len);
        let mut followers = 0;
        for (_, m) in &station.backlog {
            if followers + 1 >= window
                || !m.plan.aggregatable
                || m.acked_at != Some(1)
                || m.plan.entries[0].vector != v
                || m.plan.ac != plan.ac
                || receiver(m) != Some(to)
            {
                break;
            }
            let next = len + Psdu::subframe_len(m.plan.psdu_len);
            if plan.ppdu_ns(&v, next) > PPDU_MAX_NS {
                break;
            }
            len = next;
            followers += 1;
        }
        if followers == 0 {
            return single;
        }
        (
            followers,
            Psdu {
                len,
                mpdus: followers as u32 + 1,
            },
        )
    }

    /// Places attempts `first..=last` of a PPDU carrying `psdu` on the timeline: (burst id,
    /// its length, its start). `None`: the timeline is full.
    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        air: &dyn AirModel,
        impaired: &Impairments,
        plan: &AirPlan,
        owner: usize,
        ready: Nanos,
        (first, last): (u32, u32),
        success: bool,
        psdu: Psdu,
    ) -> Option<(u64, Nanos, Nanos)> {
        let seed = air.seed();
        let shape = plan.burst_of(seed, first, last, success, psdu);
        let access = Access {
            radio: plan.radio,
            node: plan.node,
            who: plan.who,
            freq: plan.freq,
            ready,
            aifs: plan.aifs_ns(),
            slot: plan.slot_ns(),
            backoff_slots: plan.backoff_slots(seed, first),
            duration: shape.duration,
            ppdu: shape.ppdu,
            owner,
        };
        let power = |f: Antenna, t: Antenna, freq: u32| sensed_dbm(air, impaired, f, t, freq);
        self.timeline
            .commit(&access, &power)
            .ok()
            .map(|b| (b.id, shape.duration, b.start))
    }

    /// Burst `b` ended: judge its receptions, retry or finish, start the radio's next frame.
    fn on_end(&mut self, core: &Core, air: Option<&dyn AirModel>, b: Burst) {
        let Some(mut f) = self.slots.get_mut(b.owner).and_then(Option::take) else {
            self.timeline.finish(b.id);
            return;
        };
        if f.burst != b.id {
            // Not this slot's current burst (cannot happen; keep the slot as it was).
            self.slots[b.owner] = Some(f);
            self.timeline.finish(b.id);
            return;
        }
        let mut acked_at = (f.tx.plan.ack && f.success).then_some(f.last as u8);
        if let Some(air) = air {
            let seed = air.seed();
            let impaired = core.impairments.load();
            let power = |f: Antenna, t: Antenna, freq: u32| sensed_dbm(air, &impaired, f, t, freq);
            let plan = f.tx.plan;
            if let Some(i) = f.tx.acker.filter(|_| !f.success) {
                // Retries after a collision all failed against noise.
                if let Some(rx) = f.tx.rx[i].take() {
                    rx.delivery
                        .to
                        .counters
                        .rx_lost
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
            let mut judged = [true; MAX_TIMED_RX];
            for (i, slot) in f.tx.rx.iter().enumerate() {
                let Some(rx) = slot else { continue };
                let survives =
                    match self
                        .timeline
                        .interference_mw(b.id, rx.antenna(), rx.radio, &power)
                    {
                        None => false,
                        Some(mw) => plan.survives_interference(
                            seed,
                            rx.radio,
                            f.last,
                            f64::from(rx.signal_dbm),
                            air.noise_dbm(rx.node, plan.freq),
                            mw,
                        ),
                    };
                judged[i] = survives;
            }
            for (i, ok) in judged.iter().enumerate() {
                if !ok {
                    f.tx.vm
                        .counters
                        .air_collisions
                        .fetch_add(1, Ordering::Relaxed);
                    if f.tx.acker != Some(i) {
                        if let Some(rx) = f.tx.rx[i].take() {
                            rx.delivery
                                .to
                                .counters
                                .rx_lost
                                .fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            if let Some(i) = f.tx.acker.filter(|&i| f.success && !judged[i]) {
                // The addressed receiver lost the attempt: the sender retries while its chain
                // allows, each retry meeting noise as the model draws it.
                if f.last < plan.max_attempts() {
                    let rx = f.tx.rx[i].as_ref().map(|r| (r.radio, r.node, r.signal_dbm));
                    if let Some((radio, node, signal)) = rx {
                        let snr20 = f64::from(signal) - air.noise_dbm(node, plan.freq);
                        let first = f.last + 1;
                        let next = (first..=plan.max_attempts())
                            .find(|&k| plan.survives_noise(seed, radio, k, snr20));
                        let last = next.unwrap_or(plan.max_attempts());
                        self.timeline.finish(b.id);
                        let owner = b.owner;
                        let psdu = f.psdu;
                        if let Some((id, busy, _)) = self.commit(
                            air,
                            &impaired,
                            &plan,
                            owner,
                            b.end,
                            (first, last),
                            next.is_some(),
                            psdu,
                        ) {
                            f.tx.vm.counters.air_retries.fetch_add(1, Ordering::Relaxed);
                            add_busy(&f.tx.vm, busy);
                            f.burst = id;
                            f.last = last;
                            f.success = next.is_some();
                            self.slots[owner] = Some(f);
                            return;
                        }
                    }
                }
                acked_at = None;
                if let Some(rx) = f.tx.rx[i].take() {
                    rx.delivery
                        .to
                        .counters
                        .rx_lost
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        self.timeline.finish(b.id);
        self.free.push(b.owner);
        let key = (f.tx.sender.key, f.tx.plan.freq);
        let followers = f.followers;
        finish(core, f.tx, Outcome::Aired { acked_at });
        // The A-MPDU's other frames share the head's fate: one PPDU, one Block Ack.
        for _ in 0..followers {
            let Some((_, mut m)) = self
                .stations
                .get_mut(&key)
                .and_then(|s| s.backlog.pop_front())
            else {
                break;
            };
            m.vm.counters
                .air_ampdu_followers
                .fetch_add(1, Ordering::Relaxed);
            if acked_at.is_none() {
                for rx in m.rx.iter_mut().filter_map(Option::take) {
                    rx.delivery
                        .to
                        .counters
                        .rx_lost
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
            let outcome = match air {
                Some(_) => Outcome::Aired { acked_at },
                None => Outcome::Untimed,
            };
            finish(core, m, outcome);
        }
        let next = self.stations.get_mut(&key).and_then(|s| {
            s.on_air = false;
            s.backlog.pop_front()
        });
        if next.is_none() {
            // Idle stations are forgotten, so guest-chosen frequencies cannot grow the map.
            self.stations.remove(&key);
        }
        if let Some((arrived, tx)) = next {
            match air {
                Some(air) => self.start(core, air, tx, arrived.max(b.end)),
                None => finish(core, tx, Outcome::Untimed),
            }
        }
    }
}

/// How a transmission ended.
#[derive(Clone, Copy, Debug)]
enum Outcome {
    /// Dropped before it got the air (back-pressure): not acked, one attempt reported.
    Dropped,
    /// Never timed (the medium in force has no airtime): the medium's status as it was.
    Untimed,
    /// Went through the air: acknowledged at that attempt, or not.
    Aired { acked_at: Option<u8> },
}

/// Writes the capture record `tx` holds (virtual time), stamped with its PPDU's simulated
/// start `on_air` on the guests' clock of day.
fn stamp_capture(core: &Core, tx: &mut TimedTx, on_air: Nanos) {
    let Some(held) = tx.capture.take() else {
        return;
    };
    if let Some(tap) = core.capture.load().as_ref() {
        let mut meta = held.meta;
        meta.timestamp_ns = crate::vtime::TOD_AT_ZERO_NS + on_air;
        tap.record(&meta, held.frame.message());
    }
}

/// Counts `busy` of simulated channel time against the sending VM.
fn add_busy(vm: &VmShared, busy: Nanos) {
    vm.counters
        .air_busy_us
        .fetch_add(busy / 1_000, Ordering::Relaxed);
}

/// Delivers what survived and sends the status.
fn finish(core: &Core, mut tx: TimedTx, outcome: Outcome) {
    if matches!(outcome, Outcome::Untimed) {
        // No airtime (a reload replaced the medium): it went out now.
        let now = core.vtime().map_or(0, |vt| vt.now());
        stamp_capture(core, &mut tx, now);
    }
    let routing = core.routing.load();
    let mut dropped = 0u64;
    if matches!(outcome, Outcome::Dropped) {
        dropped = tx.receivers() as u64;
    } else {
        for rx in tx.rx.iter_mut().filter_map(Option::take) {
            let to = Arc::clone(&rx.delivery.to);
            // A radio whose VM left has a closed inbox: the push discards and counts it.
            match to.inbox.push(rx.delivery) {
                Ok(Pushed::Queued) => {
                    tx.vm
                        .counters
                        .deliveries_queued
                        .fetch_add(1, Ordering::Relaxed);
                    to.inbox.notify();
                }
                Ok(Pushed::Discarded { discarded }) => {
                    tx.vm
                        .counters
                        .deliveries_queued
                        .fetch_add(1, Ordering::Relaxed);
                    core.count_discarded_after_departure(discarded);
                }
                Err(_) => {
                    tx.vm
                        .counters
                        .dropped_inbox_full
                        .fetch_add(1, Ordering::Relaxed);
                    to.counters.rx_dropped.fetch_add(1, Ordering::Relaxed);
                    dropped += 1;
                }
            }
        }
    }
    tx.sender.links.count_dropped(tx.plan.freq, dropped);
    let mut status = tx.status;
    let acked = match outcome {
        Outcome::Dropped => {
            status.tx_info = fill_retry_chain(tx.guest_rates, Some(1));
            false
        }
        Outcome::Untimed => status.flags & tx_flags::STAT_ACK != 0,
        Outcome::Aired { acked_at } if tx.plan.ack => {
            status.tx_info = fill_retry_chain(tx.guest_rates, acked_at);
            acked_at.is_some()
        }
        Outcome::Aired { .. } => status.flags & tx_flags::STAT_ACK != 0,
    };
    if acked {
        status.flags |= tx_flags::STAT_ACK;
        tx.sender.counters.tx_acked.fetch_add(1, Ordering::Relaxed);
    } else {
        status.flags &= !tx_flags::STAT_ACK;
    }
    let attempts = match outcome {
        Outcome::Dropped => 0,
        Outcome::Aired { acked_at } if tx.plan.ack => {
            acked_at.map_or(tx.plan.max_attempts(), u32::from)
        }
        Outcome::Aired { .. } => 1,
        Outcome::Untimed => attempts_in(&status.tx_info),
    };
    tx.sender
        .links
        .record_aired(&aired(&tx.plan, attempts, acked));
    let live = routing.radio(&tx.sender.key).is_some();
    send_status(core, &tx.vm, &tx.sender, &status, live);
}

/// A transmission as the link counters count it, with the attempts it really made on the air:
/// each attempt's PPDU at its entry's vector (as if the frame went alone: an A-MPDU's frames
/// each count their own), none for a frame dropped before it got the air.
fn aired(plan: &AirPlan, attempts: u32, acked: bool) -> LinkTx {
    // One PPDU duration per chain entry used, times the attempts made at it (attempts beyond
    // the chain stay at its last vector, as `AirPlan::vector` has them).
    let mut airtime_ns: Nanos = 0;
    let mut left = attempts;
    let mut last = plan.entries[0].vector;
    for e in plan.entries.iter().filter(|e| e.tries > 0) {
        if left == 0 {
            break;
        }
        let here = left.min(u32::from(e.tries));
        airtime_ns += u64::from(here) * plan.ppdu_ns(&e.vector, plan.psdu_len);
        left -= here;
        last = e.vector;
    }
    if left > 0 {
        airtime_ns += u64::from(left) * plan.ppdu_ns(&last, plan.psdu_len);
    }
    LinkTx {
        freq: plan.freq,
        bytes: plan.psdu_len.saturating_sub(FCS_LEN),
        airtime_ns,
        retries: attempts.saturating_sub(1),
        acked,
    }
}

fn send_status(core: &Core, vm: &VmShared, sender: &Arc<Radio>, status: &TxInfoRepr, live: bool) {
    let dropped = || {
        vm.counters
            .tx_status_dropped
            .fetch_add(1, Ordering::Relaxed);
        sender
            .counters
            .tx_status_dropped
            .fetch_add(1, Ordering::Relaxed);
    };
    if !live {
        return dropped();
    }
    let Some(mut buf) = core.pool.take() else {
        return dropped();
    };
    match status.emit(&mut buf.space()[..STATUS_MSG_LEN]) {
        Ok(n) => buf.set_len(n),
        Err(_) => return dropped(),
    }
    let d = Delivery {
        msg: buf,
        to: Arc::clone(sender),
        kind: DeliveryKind::Status,
    };
    match sender.inbox.push(d) {
        Ok(Pushed::Queued) => {
            vm.counters.tx_status_queued.fetch_add(1, Ordering::Relaxed);
            sender.inbox.notify();
        }
        Ok(Pushed::Discarded { discarded }) => {
            vm.counters.tx_status_queued.fetch_add(1, Ordering::Relaxed);
            core.count_discarded_after_departure(discarded);
        }
        Err(_) => dropped(),
    }
}

#[cfg(test)]
mod tests;
