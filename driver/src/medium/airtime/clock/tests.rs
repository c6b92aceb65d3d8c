//! The clock thread's scheduler ([`ClockState`]) driven pass by pass with a fake clock, the way
//! either clock drives it: in virtual time a pass runs at exactly each burst end (the medium's
//! turn) and at each guest kick, which may fall on a burst end; on the wall clock a pass may run
//! late, after several ends. Seeded random cases check after every pass that no committed burst
//! is left behind and that every frame handed over gets exactly one TX status.

use std::collections::HashMap;

use hwsim_frame::nl::{TxInfoRepr, TxRate};
use hwsim_frame::MacAddr;
use hwsim_radio::airtime::{AccessCategory, NominalPadding};
use hwsim_radio::band::{Band, Width};
use hwsim_radio::rates::{GuardInterval, PhyFormat, TxVector};

use super::*;
use crate::core::Limits;
use crate::medium::airtime::ChainEntry;
use crate::medium::impair::LinkEffect;
use crate::medium::PerfectMedium;
use crate::switch::{Delivery, DeliveryKind};

/// Everybody hears everybody at −50 dBm over a −95 dBm floor, except a hidden pair if set.
struct FakeAir {
    hidden: Option<(usize, usize)>,
}

impl AirModel for FakeAir {
    fn seed(&self) -> u64 {
        7
    }

    fn node_of(&self, _addr: Option<MacAddr>, wire: MacAddr) -> usize {
        usize::from(wire.0[5])
    }

    fn plan(&self, _tx: &crate::medium::Transmission<'_>, _node: usize) -> AirPlan {
        unreachable!("the test builds its plans itself")
    }

    fn rx_power_dbm(&self, from: usize, to: usize, _freq: u32) -> f64 {
        match self.hidden {
            Some((a, b)) if (from, to) == (a, b) || (from, to) == (b, a) => -100.0,
            _ => -50.0,
        }
    }

    fn noise_dbm(&self, _node: usize, _freq: u32) -> f64 {
        -95.0
    }
}

/// A small deterministic generator (xorshift64*), so a failing case can be replayed by seed.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What a station sends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// QoS data through at the first attempt: may ride in an A-MPDU.
    Data,
    /// Unicast acknowledged only at attempt `n` (or never, 0), after retries.
    Retried(u8),
    /// Broadcast, no ACK.
    Group,
}

struct Rig {
    core: Arc<Core>,
    vms: Vec<Arc<VmShared>>,
    radios: Vec<Arc<Radio>>,
    submitted: Vec<u64>,
    seq: u64,
}

impl Rig {
    fn new(stations: usize) -> Rig {
        let limits = Limits {
            inbox_capacity: 1 << 15,
            pool_buffers: 1 << 16,
            ..Limits::default()
        };
        let core = Core::new(Arc::new(PerfectMedium::default()), limits);
        let mut vms = Vec::new();
        let mut radios = Vec::new();
        for i in 0..stations {
            let vm = core.new_vm().unwrap();
            core.register_vm(&vm);
            let key = RadioKey {
                vm: vm.id,
                wire: MacAddr([0x42, 0, 0, 0, 0, i as u8]),
            };
            radios.push(core.routing.add_radio(key, &vm.inbox));
            vms.push(vm);
        }
        Rig {
            core,
            vms,
            radios,
            submitted: vec![0; stations],
            seq: 0,
        }
    }

    fn frame(&mut self, from: usize, to: usize, kind: Kind, psdu_len: u32) -> TimedTx {
        self.seq += 1;
        let vector = TxVector::new(PhyFormat::He, 11, Width::W20, 2, GuardInterval::Gi0_8).unwrap();
        let unused = ChainEntry { vector, tries: 0 };
        let plan = AirPlan {
            node: from,
            radio: from as u64 + 1,
            who: Endpoint {
                radio: self.radios[from].key,
                addr: None,
            },
            seq: self.seq,
            band: Band::Band5G,
            freq: 5180,
            psdu_len,
            entries: [ChainEntry { vector, tries: 4 }, unused, unused, unused],
            ack: kind != Kind::Group,
            ac: if kind == Kind::Group {
                AccessCategory::Voice
            } else {
                AccessCategory::BestEffort
            },
            aggregatable: kind == Kind::Data,
            padding: NominalPadding::Us16,
        };
        let status = TxInfoRepr {
            transmitter: self.radios[from].key.wire,
            flags: 0,
            cookie: self.seq,
            signal: 0,
            tx_info: [
                TxRate { idx: 0, count: 4 },
                TxRate::UNUSED,
                TxRate::UNUSED,
                TxRate::UNUSED,
            ],
            freq: Some(5180),
        };
        let mut tx = TimedTx::new(
            Arc::clone(&self.vms[from]),
            Arc::clone(&self.radios[from]),
            status,
            plan,
        );
        let receivers: Vec<usize> = match kind {
            Kind::Group => (0..self.radios.len()).filter(|&r| r != from).collect(),
            _ => vec![to],
        };
        for r in receivers {
            let rx = TimedRx {
                delivery: Delivery {
                    msg: self.core.pool.take().expect("pool sized for the test"),
                    to: Arc::clone(&self.radios[r]),
                    kind: DeliveryKind::Frame,
                },
                node: r,
                radio: r as u64 + 1,
                who: Endpoint {
                    radio: self.radios[r].key,
                    addr: None,
                },
                signal_dbm: -50,
            };
            let i = tx.add(rx).ok().expect("one receiver fits");
            if kind != Kind::Group {
                tx.acker = Some(i);
            }
        }
        tx.acked_at = match kind {
            Kind::Data => Some(1),
            Kind::Retried(0) | Kind::Group => None,
            Kind::Retried(n) => Some(n),
        };
        self.submitted[from] += 1;
        tx
    }

    /// What guests would have read: empties every inbox (statuses are counted at the push).
    fn drain_inboxes(&self) {
        for vm in &self.vms {
            while vm.inbox.pop().is_some() {}
        }
    }
}

/// The scheduler's bookkeeping is consistent after a pass at `now`.
fn check(state: &ClockState, now: Nanos, case: u64) {
    let unfinished: Vec<&Burst> = state.timeline.bursts().iter().filter(|b| !b.done).collect();
    for b in &unfinished {
        assert!(
            b.end > now,
            "case {case}: burst {b:?} ended at {} but is unfinished after the pass at {now}",
            b.end
        );
        let slot = state.slots.get(b.owner).and_then(Option::as_ref);
        assert!(
            slot.is_some_and(|f| f.burst == b.id),
            "case {case}: burst {} is on the timeline but its slot {} does not hold it",
            b.id,
            b.owner
        );
    }
    let mut on_air: HashMap<(RadioKey, u32), usize> = HashMap::new();
    for (i, f) in state.slots.iter().enumerate() {
        let Some(f) = f else { continue };
        assert!(
            unfinished.iter().any(|b| b.id == f.burst && b.owner == i),
            "case {case}: slot {i} holds a frame whose burst {} is not on the timeline \
             unfinished: it would never end",
            f.burst
        );
        *on_air.entry((f.tx.sender.key, f.tx.plan.freq)).or_default() += 1;
    }
    for (key, n) in &on_air {
        assert_eq!(
            *n, 1,
            "case {case}: {n} frames of one radio on the air at once"
        );
        assert!(
            state.stations.get(key).is_some_and(|s| s.on_air),
            "case {case}: a frame on the air but its station is not marked on the air"
        );
    }
    for (key, s) in &state.stations {
        if s.on_air {
            assert!(
                on_air.contains_key(key),
                "case {case}: a station marked on the air with nothing on the air \
                 (its backlog of {} would wait forever)",
                s.backlog.len()
            );
        } else {
            assert!(
                s.backlog.is_empty(),
                "case {case}: an idle station with {} frames waiting",
                s.backlog.len()
            );
        }
    }
    let mut free = state.free.clone();
    free.sort_unstable();
    free.dedup();
    assert_eq!(
        free.len(),
        state.free.len(),
        "case {case}: a slot freed twice"
    );
    for i in &state.free {
        assert!(
            state.slots[*i].is_none(),
            "case {case}: slot {i} free but in use"
        );
    }
}

/// One random case: stations send bursts of frames at kicks whose times fall on, just
/// before, or between burst ends, as guests do in virtual time; with `late`, some passes run
/// late, after several ends, as on a busy host's wall clock.
fn run_case(case: u64, late: bool) {
    let mut draw = Draw(case.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let stations = 2 + draw.below(2) as usize;
    let air = FakeAir {
        hidden: draw.chance(20).then_some((0, 1)),
    };
    let mut rig = Rig::new(stations);
    let mut state = ClockState::new();
    let core = Arc::clone(&rig.core);
    let mut now: Nanos = 0;
    let mut next: Option<Nanos> = None;
    let mut arrivals: VecDeque<TimedTx> = VecDeque::new();
    for _ in 0..400 {
        // Where the next guest kick falls.
        let kick_at = match (draw.below(6), next) {
            (0, _) => now,
            (1, Some(end)) => end,
            (2, Some(end)) => end.saturating_sub(1).max(now),
            (3, Some(end)) => end + 1,
            _ => now + draw.below(3_000_000),
        };
        // The medium's turns come first, at each end up to and including the kick's time (its
        // name wins ties): on the wall clock a late pass may skip over several.
        while let Some(end) = next.filter(|&e| e <= kick_at) {
            now = if late && draw.chance(30) {
                (end + draw.below(2_000_000)).min(kick_at)
            } else {
                end
            };
            next = state.pass(&core, Some(&air), now, || None);
            check(&state, now, case);
        }
        now = kick_at.max(now);
        let from = draw.below(stations as u64) as usize;
        let to = (from + 1 + draw.below(stations as u64 - 1) as usize) % stations;
        let most = if draw.chance(30) { 120 } else { 4 };
        for _ in 0..1 + draw.below(most) {
            let kind = match draw.below(20) {
                0 => Kind::Group,
                1 => Kind::Retried(draw.below(5) as u8),
                _ => Kind::Data,
            };
            let len = if draw.chance(20) { 100 } else { 1504 };
            arrivals.push_back(rig.frame(from, to, kind, len));
        }
        next = state.pass(&core, Some(&air), now, || arrivals.pop_front());
        check(&state, now, case);
        rig.drain_inboxes();
    }
    // Time runs on until nothing is left on the air.
    while let Some(end) = next {
        now = end;
        next = state.pass(&core, Some(&air), now, || None);
        check(&state, now, case);
    }
    rig.drain_inboxes();
    assert_eq!(
        state.held(),
        0,
        "case {case}: frames held after the last end"
    );
    for (i, vm) in rig.vms.iter().enumerate() {
        let c = &vm.counters;
        let statuses = c.tx_status_queued.load(Ordering::Relaxed);
        let dropped = c.tx_status_dropped.load(Ordering::Relaxed);
        let air_dropped = c.air_dropped.load(Ordering::Relaxed);
        assert_eq!(
            statuses + dropped,
            rig.submitted[i],
            "case {case}: station {i} handed over {} frames and got {statuses} statuses \
             ({dropped} dropped, {air_dropped} refused by the air)",
            rig.submitted[i]
        );
    }
}

#[test]
fn every_frame_gets_one_status_when_passes_run_at_each_end_and_kicks_fall_on_ends() {
    for case in 0..150 {
        run_case(case, false);
    }
}

#[test]
fn every_frame_gets_one_status_when_passes_run_late() {
    for case in 1000..1150 {
        run_case(case, true);
    }
}

/// Impairs station `i`'s 5 GHz link in the rig's core.
fn impair(rig: &Rig, i: usize, effect: LinkEffect) {
    use crate::medium::impair::{LinkBand, LinkImpairment, NodeMatch};
    let link = LinkImpairment::new(
        format!("vm{}", rig.vms[i].id),
        NodeMatch::Vm(rig.vms[i].id),
        LinkBand::Band(Band::Band5G),
        effect,
    );
    rig.core.impairments.store(Arc::new(Impairments {
        seed: 7,
        links: vec![link],
    }));
}

/// Stations 0 and 1 each hand over one data frame for station 2 at time 0: the two bursts.
fn two_senders_at_once(rig: &mut Rig, air: &FakeAir) -> (Burst, Burst) {
    let mut state = ClockState::new();
    let core = Arc::clone(&rig.core);
    let mut arrivals: VecDeque<TimedTx> = VecDeque::new();
    arrivals.push_back(rig.frame(0, 2, Kind::Data, 1504));
    arrivals.push_back(rig.frame(1, 2, Kind::Data, 1504));
    let mut next = state.pass(&core, Some(air), 0, || arrivals.pop_front());
    let bursts = state.timeline.bursts().to_vec();
    assert_eq!(bursts.len(), 2, "both frames are on the timeline");
    while let Some(end) = next {
        next = state.pass(&core, Some(air), end, || None);
    }
    rig.drain_inboxes();
    assert_eq!(state.held(), 0);
    (bursts[0], bursts[1])
}

fn overlap(a: &Burst, b: &Burst) -> bool {
    a.start < b.end && b.start < a.end
}

#[test]
fn an_attenuated_link_is_sensed_less_and_a_downed_one_not_at_all() {
    let air = FakeAir { hidden: None };
    // Everybody hears everybody at −50 dBm: the second sender defers for the first.
    let mut rig = Rig::new(3);
    let (a, b) = two_senders_at_once(&mut rig, &air);
    assert!(!overlap(&a, &b), "{a:?} and {b:?} overlap");
    // 20 dB more: −70 dBm is still above the −82 dBm CCA threshold.
    let mut rig = Rig::new(3);
    impair(
        &rig,
        1,
        LinkEffect {
            attenuation_db: 20.0,
            ..LinkEffect::default()
        },
    );
    let (a, b) = two_senders_at_once(&mut rig, &air);
    assert!(
        !overlap(&a, &b),
        "sensed at −70 dBm, yet {a:?} and {b:?} overlap"
    );
    // 40 dB more: −90 dBm is below it, and neither sender senses the other.
    for effect in [
        LinkEffect {
            attenuation_db: 40.0,
            ..LinkEffect::default()
        },
        LinkEffect {
            down: true,
            ..LinkEffect::default()
        },
    ] {
        let mut rig = Rig::new(3);
        impair(&rig, 1, effect);
        let (a, b) = two_senders_at_once(&mut rig, &air);
        assert!(
            overlap(&a, &b),
            "{effect:?}: station 1 should no longer be sensed; {a:?} and {b:?} do not overlap"
        );
    }
}

#[test]
fn a_downed_link_no_longer_interferes() {
    // Stations 0 and 1 are hidden from each other and both reach station 2 at −50 dBm: their
    // simultaneous frames collide there.
    let air = FakeAir {
        hidden: Some((0, 1)),
    };
    let collisions =
        |rig: &Rig, i: usize| rig.vms[i].counters.air_collisions.load(Ordering::Relaxed);
    let mut rig = Rig::new(3);
    let (a, b) = two_senders_at_once(&mut rig, &air);
    assert!(overlap(&a, &b));
    assert!(
        collisions(&rig, 0) > 0,
        "station 0's frame should collide with station 1's at station 2"
    );
    // Station 1's link down: its energy reaches nobody, and station 0's frame gets through.
    let mut rig = Rig::new(3);
    impair(
        &rig,
        1,
        LinkEffect {
            down: true,
            ..LinkEffect::default()
        },
    );
    let (a, b) = two_senders_at_once(&mut rig, &air);
    assert!(overlap(&a, &b));
    assert_eq!(
        collisions(&rig, 0),
        0,
        "station 1's link is down, yet it spoiled station 0's frame"
    );
}

#[test]
fn an_aired_frame_counts_each_attempt_at_its_chain_entry() {
    let mut rig = Rig::new(2);
    let mut plan = rig.frame(0, 1, Kind::Data, 1504).plan;
    let fast = plan.entries[0].vector;
    let slow = TxVector::ofdm(0).unwrap();
    plan.entries[0].tries = 2;
    plan.entries[1] = ChainEntry {
        vector: slow,
        tries: 2,
    };
    let (f, s) = (plan.ppdu_ns(&fast, 1504), plan.ppdu_ns(&slow, 1504));
    assert!(s > f);
    // Per attempt, as `AirPlan::vector` gives the vector of each attempt.
    for attempts in 0..=6u32 {
        let by_attempt: Nanos = (1..=attempts)
            .map(|k| plan.ppdu_ns(&plan.vector(k), 1504))
            .sum();
        let t = aired(&plan, attempts, false);
        assert_eq!(t.airtime_ns, by_attempt, "{attempts} attempts");
        assert_eq!(t.retries, attempts.saturating_sub(1));
        assert_eq!(t.bytes, 1500);
    }
    assert_eq!(aired(&plan, 3, true).airtime_ns, 2 * f + s);
    rig.drain_inboxes();
}
