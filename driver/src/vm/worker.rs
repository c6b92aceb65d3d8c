//! One VM's data path: drain its TX queue (parse, route, decide, queue statuses and deliveries)
//! and fill its RX queue (statuses first, then frames from its inbox).
//!
//! Runs only on the VM's own epoll thread. Nothing here allocates per frame: the TX scratch
//! buffer, the status queue and the list of inboxes to wake are sized once.
//!
//! In the `airtime` time mode the deliveries and the status of a frame are not queued here:
//! they travel with the frame to the medium clock (`medium::airtime::clock`), which pushes them
//! into the inboxes when the frame's airtime ends; the status then arrives through this VM's
//! own inbox as a status delivery.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use hwsim_frame::mac;
use hwsim_frame::nl::{tx_flags, GuestMessage, RxFrameRepr, TxFrameRepr, TxInfoRepr};
use hwsim_frame::MacAddr;
use vhost_user_backend::{VringRwLock, VringState, VringT};
use virtio_queue::QueueT;
use vm_memory::{GuestAddressSpace, GuestMemoryAtomic, GuestMemoryMmap};

use super::chain::{ChainError, Segments};
use crate::capture::FrameMeta;
use crate::core::{Core, VmShared};
use crate::counters::LinkTx;
use crate::medium::airtime::clock::{HeldCapture, TimedRx, TimedTx};
use crate::medium::impair::Verdict;
use crate::medium::{Candidate, Medium, Reception, Transmission};
use crate::switch::{Delivery, DeliveryKind, Inbox, Pushed, Radio, RadioKey, Routing};

/// Guest memory as the vhost-user handler hands it to us.
pub type GuestMem = GuestMemoryAtomic<GuestMemoryMmap<()>>;

/// Largest TX message accepted. The guest's skbs are ≈3.7 KiB on 4 KiB pages and ≈7.7 KiB on
/// larger pages; anything bigger than this is not a message the driver can produce.
pub const MAX_TX_MESSAGE: usize = 16 * 1024;

/// Largest TX status message (header + 6 small attributes).
const STATUS_MSG_LEN: usize = 128;

const INBOXES_TO_WAKE: usize = 64;

/// The VM's data-path state.
pub struct VmWorker {
    core: Arc<Core>,
    vm: Arc<VmShared>,
    mem: Option<GuestMem>,
    scratch: Box<[u8]>,
    statuses: VecDeque<(TxInfoRepr, Arc<Radio>)>,
    stash: Option<Delivery>,
    wake: Vec<Arc<Inbox>>,
    /// TX buffers returned since the guest was last notified (see `tx_call_batch`).
    tx_unsignalled: usize,
    /// Returned TX buffers that make a notification ([`crate::core::Limits::tx_call_batch`]).
    tx_call_batch: usize,
    /// Leave TX notifications off after a drain that found buffers; the backend polls the
    /// queue on a timer instead ([`crate::core::Limits::tx_poll`]).
    tx_poll: bool,
    /// The last [`VmWorker::process_tx`] left TX notifications off: poll again.
    tx_polling: bool,
    /// Deliveries of the frame being handled dropped for back-pressure, for its link counters.
    frame_dropped: u64,
}

impl VmWorker {
    /// A worker for `vm`.
    pub fn new(core: Arc<Core>, vm: Arc<VmShared>) -> Self {
        let status_capacity = core.limits.status_capacity;
        VmWorker {
            vm,
            mem: None,
            scratch: vec![0u8; MAX_TX_MESSAGE].into_boxed_slice(),
            statuses: VecDeque::with_capacity(status_capacity),
            stash: None,
            wake: Vec::with_capacity(INBOXES_TO_WAKE),
            tx_unsignalled: 0,
            tx_call_batch: core.limits.tx_call_batch.max(1),
            tx_poll: !core.limits.tx_poll.is_zero(),
            tx_polling: false,
            frame_dropped: 0,
            core,
        }
    }

    /// Notify the guest after every drain of its TX queue, whatever the limits say (virtual
    /// time: every notification is an event the controller orders).
    pub fn notify_every_tx(&mut self) {
        self.tx_call_batch = 1;
        self.tx_poll = false;
    }

    /// Whether the last [`VmWorker::process_tx`] left the guest's TX notifications off: its
    /// next buffers kick nobody, so the caller must poll (call `process_tx` again) soon.
    pub fn tx_polling(&self) -> bool {
        self.tx_polling
    }

    /// New guest memory map (SET_MEM_TABLE).
    pub fn set_memory(&mut self, mem: GuestMem) {
        self.mem = Some(mem);
    }

    /// Processes up to `budget` TX buffers. Returns true when the budget ran out with buffers
    /// possibly left: the caller flushes RX and calls again, so a guest that transmits without
    /// pause cannot starve its own RX queue (its received frames and TX statuses).
    pub fn process_tx(&mut self, vring: &VringRwLock<GuestMem>, budget: usize) -> bool {
        let Some(mem) = self.mem.clone() else {
            return false;
        };
        let mem = mem.memory();
        let mut done = 0usize;
        let mut more = false;
        self.tx_polling = false;
        'outer: loop {
            let mut state = vring.get_mut();
            let _ = state.disable_notification();
            loop {
                if done == budget {
                    more = true;
                    self.signal_tx_used(&mut state, done);
                    break 'outer;
                }
                let Some(chain) = state.get_queue_mut().pop_descriptor_chain(&*mem) else {
                    break;
                };
                done += 1;
                self.vm.counters.tx_buffers.fetch_add(1, Ordering::Relaxed);
                let head = chain.head_index();
                let read = Segments::collect(&*mem, chain, false)
                    .and_then(|segs| read_message(&mem, &segs, &mut self.scratch));
                // Return the buffer at once: the guest frees its skb only here, and a full TX
                // ring makes it drop frames.
                let _ = state.add_used(head, 0);
                match read {
                    Ok(len) => {
                        drop(state);
                        self.handle_message(len);
                        state = vring.get_mut();
                    }
                    Err(_) => {
                        self.vm
                            .counters
                            .tx_bad_descriptor
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            if self.tx_poll && done > 0 {
                // The guest is sending: rather than have it kick for its next buffer (a host
                // syscall and a cross-CPU wake-up of this thread, a fifth of a UML guest's time
                // in an iperf3 run), leave notifications off and look again on the timer. A
                // poll that finds nothing turns them back on.
                self.tx_polling = true;
                self.signal_tx_used(&mut state, done);
                break;
            }
            match state.enable_notification() {
                Ok(true) => continue,
                _ => {
                    self.signal_tx_used(&mut state, done);
                    break;
                }
            }
        }
        self.wake_receivers();
        // Only now, with the receivers woken: virtual time ends the sender's turn on this count,
        // and a receiver woken after the turn ended could be run before it serves the frame.
        self.vm.tx_handled.fetch_add(done as u64, Ordering::Release);
        more
    }

    /// Notifies the guest of the `returned` TX buffers just put on the used ring, unless fewer
    /// than `tx_call_batch` (at most a quarter of the ring) have waited since the last
    /// notification. Linux's hwsim learns nothing from a TX completion (the frame's outcome
    /// comes as a status message on RX): it frees its copy of the message, and a ring with three
    /// quarters free never makes it drop a frame.
    fn signal_tx_used(&mut self, state: &mut VringState<GuestMem>, returned: usize) {
        self.tx_unsignalled += returned;
        let batch = self
            .tx_call_batch
            .min(usize::from(state.get_queue().size()) / 4)
            .max(1);
        if self.tx_unsignalled < batch {
            return;
        }
        self.tx_unsignalled = 0;
        if state.needs_notification().unwrap_or(true) {
            let _ = state.signal_used_queue();
        }
    }

    fn handle_message(&mut self, len: usize) {
        let scratch = std::mem::take(&mut self.scratch);
        match GuestMessage::parse(&scratch[..len]) {
            Err(e) => {
                self.vm
                    .counters
                    .tx_malformed
                    .fetch_add(1, Ordering::Relaxed);
                self.vm.malformed.count(e.name());
            }
            Ok(GuestMessage::Frame(f)) => self.handle_frame(&f),
            Ok(GuestMessage::AddMacAddr(m)) => {
                self.vm
                    .counters
                    .add_mac_addr
                    .fetch_add(1, Ordering::Relaxed);
                let key = self.key(m.radio);
                self.ensure_radio(key);
                self.core.routing.bind(key, m.addr, true);
            }
            Ok(GuestMessage::DelMacAddr(m)) => {
                self.vm
                    .counters
                    .del_mac_addr
                    .fetch_add(1, Ordering::Relaxed);
                self.core.routing.unbind(self.key(m.radio), m.addr);
            }
            Ok(GuestMessage::StartPmsr(_)) => {
                self.vm.counters.start_pmsr.fetch_add(1, Ordering::Relaxed);
            }
            Ok(GuestMessage::AbortPmsr(_)) => {
                self.vm.counters.abort_pmsr.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.scratch = scratch;
    }

    fn key(&self, wire: MacAddr) -> RadioKey {
        RadioKey {
            vm: self.vm.id,
            wire,
        }
    }

    fn ensure_radio(&self, key: RadioKey) -> Arc<Radio> {
        if let Some(r) = self.core.routing.load().radio(&key) {
            return Arc::clone(r);
        }
        self.core.routing.add_radio(key, &self.vm.inbox)
    }

    fn handle_frame(&mut self, f: &TxFrameRepr<'_>) {
        let counters = &self.vm.counters;
        counters.tx_frames.fetch_add(1, Ordering::Relaxed);
        let key = self.key(f.transmitter);
        let radio = self.ensure_radio(key);
        radio.counters.tx_frames.fetch_add(1, Ordering::Relaxed);
        let seq = radio.tx_seq.fetch_add(1, Ordering::Relaxed) + 1;
        let freq = f.freq.unwrap_or(2412);

        let header = match mac::Frame::new_checked(f.frame) {
            Ok(h) => h,
            Err(_) => {
                counters.tx_bad_header.fetch_add(1, Ordering::Relaxed);
                self.queue_status(f, &radio, freq, false, None);
                return;
            }
        };
        let receiver = header.addr1();
        let addr2 = header.addr2().filter(|a| !a.is_group());
        self.frame_dropped = 0;
        self.learn_transmitter(key, addr2, freq);

        let routing = self.core.routing.load();
        // One medium judges the whole frame, even if a reload swaps it meanwhile.
        let medium_guard = self.core.medium.load();
        let medium: &dyn Medium = &***medium_guard;
        let tx = Transmission {
            from: key,
            seq,
            freq,
            frame: f.frame,
            receiver,
            sender: addr2.or_else(|| radio.first_addr.get().copied()),
            group: receiver.is_group(),
            flags: f.flags,
            rates: f.tx_info,
        };
        // Airtime mode: the deliveries and the status wait in a timed transmission for the
        // medium clock instead of going out now.
        let mut timed = medium.air().map(|air| {
            let placeholder = TxInfoRepr {
                transmitter: f.transmitter,
                flags: f.flags,
                cookie: f.cookie,
                signal: 0,
                tx_info: f.tx_info,
                freq: Some(freq),
            };
            let plan = air.plan(&tx, air.node_of(tx.sender, key.wire));
            TimedTx::new(Arc::clone(&self.vm), Arc::clone(&radio), placeholder, plan)
        });
        let mut ack_from: Option<Reception> = None;
        if tx.group {
            self.offer_to_all(medium, &tx, &routing, true, &mut timed);
        } else {
            let bindings = routing.bindings(&receiver);
            if bindings.iter().all(|b| b.radio.key == key) {
                // Nobody answers to addr1: flood the channel (monitors see it), no ACK.
                counters
                    .unicast_unknown_receiver
                    .fetch_add(1, Ordering::Relaxed);
                self.offer_to_all(medium, &tx, &routing, false, &mut timed);
            } else {
                for b in bindings.iter().filter(|b| b.radio.key != key) {
                    let cand = Candidate {
                        radio: b.radio.key,
                        addressed: true,
                        on_channel: b.on_channel(freq),
                        rx_addr: Some(receiver),
                        attenuation_db: 0.0,
                    };
                    if let Some(t) = timed.as_mut() {
                        t.last_added = None;
                    }
                    if let Some(rec) = self.offer(medium, &tx, &b.radio, &cand, &mut timed) {
                        if cand.on_channel && ack_from.is_none() {
                            ack_from = Some(rec);
                            if let Some(t) = timed.as_mut() {
                                t.acker = t.last_added;
                            }
                        }
                    }
                }
            }
        }
        drop(routing);
        let status = medium.status(&tx, ack_from.as_ref());
        drop(medium_guard);
        if timed.is_none() {
            // In the airtime mode the medium clock counts the frame once it knows what the air
            // did to it.
            let link_tx = LinkTx::judged(freq, f.frame.len(), ack_from.as_ref(), &status);
            radio.links.record(&link_tx);
        }
        radio.links.count_dropped(freq, self.frame_dropped);
        if let Some(tap) = self.core.capture.load().as_ref() {
            let meta = transmission_meta(&tx, ack_from.as_ref(), &status);
            match (self.core.vtime(), timed.as_mut()) {
                // Virtual time, airtime: the medium clock writes the record when the PPDU gets
                // the air, stamped with its simulated start, so the capture shows the schedule.
                (Some(_), Some(t)) => match self.core.pool.take() {
                    Some(mut frame) => {
                        let n = tx.frame.len().min(frame.space().len());
                        frame.space()[..n].copy_from_slice(&tx.frame[..n]);
                        frame.set_len(n);
                        t.capture = Some(HeldCapture { meta, frame });
                    }
                    None => tap.count_dropped(),
                },
                // Virtual time without airtime: the kick's time is exact. On the guests' clock
                // of day, so a run repeats with its timestamps.
                (Some(vt), None) => {
                    let timestamp_ns = crate::vtime::TOD_AT_ZERO_NS + vt.now();
                    tap.record(
                        &FrameMeta {
                            timestamp_ns,
                            ..meta
                        },
                        tx.frame,
                    );
                }
                (None, _) => {
                    let timestamp_ns = crate::capture::now_ns();
                    tap.record(
                        &FrameMeta {
                            timestamp_ns,
                            ..meta
                        },
                        tx.frame,
                    );
                }
            }
        }
        // Management frames only (checked on the frame control octet), copied to this VM's
        // bounded queue to the MLD tracker; never blocks.
        self.core.mld.offer(&self.vm.mld, key, freq, f.frame);
        if let Some(mut t) = timed {
            t.status = status_repr(f, freq, status.acked, Some(&status));
            t.acked_at = ack_from.filter(|_| status.acked).map(|r| r.attempt);
            let refused = match self.core.air_clock() {
                Some(clock) => clock.submit(t).err(),
                None => Some(t),
            };
            match refused {
                None => {
                    self.vm.counters.air_queued.fetch_add(1, Ordering::Relaxed);
                }
                Some(t) => {
                    // Back-pressure: the clock is behind. Drop the frame (its pool buffers go
                    // back with `t`) and report it not acknowledged.
                    radio.links.count_dropped(freq, t.receivers() as u64);
                    radio.links.record(&LinkTx {
                        freq,
                        bytes: u32::try_from(f.frame.len()).unwrap_or(u32::MAX),
                        airtime_ns: 0,
                        retries: 0,
                        acked: false,
                    });
                    drop(t);
                    self.vm.counters.air_dropped.fetch_add(1, Ordering::Relaxed);
                    self.queue_status(f, &radio, freq, false, None);
                }
            }
            return;
        }
        if status.acked {
            radio.counters.tx_acked.fetch_add(1, Ordering::Relaxed);
        }
        self.queue_status(f, &radio, freq, status.acked, Some(&status));
    }

    /// Offers `tx` to every radio but its sender: group frames (`addressed`: each radio is a
    /// receiver of the group address, on the channel as far as we know) and unicast frames
    /// nobody answers to (not addressed, never acknowledged).
    fn offer_to_all(
        &mut self,
        medium: &dyn Medium,
        tx: &Transmission<'_>,
        routing: &Routing,
        addressed: bool,
        timed: &mut Option<TimedTx>,
    ) {
        for r in routing.radios.iter().filter(|r| r.key != tx.from) {
            let cand = Candidate {
                radio: r.key,
                addressed,
                on_channel: addressed,
                rx_addr: r.first_addr.get().copied(),
                attenuation_db: 0.0,
            };
            self.offer(medium, tx, r, &cand, timed);
        }
    }

    /// Learns that `addr2` belongs to the transmitting radio and is on `freq`.
    fn learn_transmitter(&self, key: RadioKey, addr2: Option<MacAddr>, freq: u32) {
        let Some(a2) = addr2.filter(|a| !a.is_group()) else {
            return;
        };
        let routing = self.core.routing.load();
        match routing.binding(&a2, &key) {
            Some(b) => {
                if b.last_tx_freq.load(Ordering::Relaxed) != freq {
                    b.last_tx_freq.store(freq, Ordering::Relaxed);
                }
            }
            None => {
                drop(routing);
                self.core.routing.bind(key, a2, false);
                if let Some(b) = self.core.routing.load().binding(&a2, &key) {
                    b.last_tx_freq.store(freq, Ordering::Relaxed);
                }
            }
        }
    }

    /// Asks the medium whether `to` hears `tx`; queues the delivery if so (into `timed` in
    /// airtime mode, for the medium clock to deliver when the airtime ends).
    fn offer(
        &mut self,
        medium: &dyn Medium,
        tx: &Transmission<'_>,
        to: &Arc<Radio>,
        cand: &Candidate,
        timed: &mut Option<TimedTx>,
    ) -> Option<Reception> {
        let counters = &self.vm.counters;
        let (judged, delay_us) = match self.core.impairments.load().judge(tx, cand) {
            Verdict::Lost => {
                counters.deliveries_impaired.fetch_add(1, Ordering::Relaxed);
                (None, 0)
            }
            Verdict::Judge {
                attenuation_db: 0.0,
                delay_us,
            } => (medium.hear(tx, cand), delay_us),
            Verdict::Judge {
                attenuation_db,
                delay_us,
            } => {
                let cand = Candidate {
                    attenuation_db,
                    ..*cand
                };
                (medium.hear(tx, &cand), delay_us)
            }
        };
        let Some(rec) = judged else {
            counters.deliveries_lost.fetch_add(1, Ordering::Relaxed);
            to.counters.rx_lost.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let Some(mut buf) = self.core.pool.take() else {
            counters.dropped_pool_empty.fetch_add(1, Ordering::Relaxed);
            to.counters.rx_dropped.fetch_add(1, Ordering::Relaxed);
            self.frame_dropped += 1;
            return Some(rec);
        };
        let repr = RxFrameRepr {
            receiver: to.key.wire,
            frame: tx.frame,
            rx_rate: rec.rx_rate,
            freq: Some(tx.freq),
            signal: rec.signal_dbm,
        };
        match repr.emit(buf.space()) {
            Ok(n) => buf.set_len(n),
            Err(_) => {
                // Cannot happen for a parsed frame (≤ 2304 bytes); counted rather than trusted.
                counters.dropped_pool_empty.fetch_add(1, Ordering::Relaxed);
                return Some(rec);
            }
        }
        let delivery = Delivery {
            msg: buf,
            to: Arc::clone(to),
            kind: DeliveryKind::Frame,
        };
        if let (Some(t), Some(air)) = (timed.as_mut(), medium.air()) {
            let rx = TimedRx {
                delivery,
                node: air.node_of(cand.rx_addr, cand.radio.wire),
                radio: crate::medium::model::radio_id(cand.radio),
                who: crate::medium::impair::Endpoint::receiver(cand),
                signal_dbm: rec.signal_dbm,
            };
            if t.add(rx).is_err() {
                counters.air_rx_overflow.fetch_add(1, Ordering::Relaxed);
                to.counters.rx_dropped.fetch_add(1, Ordering::Relaxed);
                self.frame_dropped += 1;
            }
            return Some(rec);
        }
        // A link's added delay (instant mode only: the control API refuses it with airtime).
        let line = if delay_us > 0 {
            self.core.delay_line()
        } else {
            None
        };
        let delivery = match line {
            None => delivery,
            Some(line) => match line.submit(delivery, std::time::Duration::from_micros(delay_us)) {
                Ok(()) => {
                    counters.deliveries_queued.fetch_add(1, Ordering::Relaxed);
                    counters.deliveries_delayed.fetch_add(1, Ordering::Relaxed);
                    return Some(rec);
                }
                Err(_) => {
                    counters.dropped_inbox_full.fetch_add(1, Ordering::Relaxed);
                    to.counters.rx_dropped.fetch_add(1, Ordering::Relaxed);
                    self.frame_dropped += 1;
                    return Some(rec);
                }
            },
        };
        match to.inbox.push(delivery) {
            Ok(Pushed::Queued) => {}
            Ok(Pushed::Discarded { discarded }) => {
                // The receiver left while we held an older routing snapshot.
                counters.deliveries_queued.fetch_add(1, Ordering::Relaxed);
                self.core.count_discarded_after_departure(discarded);
                return Some(rec);
            }
            Err(_) => {
                counters.dropped_inbox_full.fetch_add(1, Ordering::Relaxed);
                to.counters.rx_dropped.fetch_add(1, Ordering::Relaxed);
                self.frame_dropped += 1;
                return Some(rec);
            }
        }
        counters.deliveries_queued.fetch_add(1, Ordering::Relaxed);
        if to.key.vm != self.vm.id && !self.wake.iter().any(|i| Arc::ptr_eq(i, &to.inbox)) {
            if self.wake.len() < INBOXES_TO_WAKE {
                self.wake.push(Arc::clone(&to.inbox));
            } else {
                to.inbox.notify();
            }
        }
        Some(rec)
    }

    fn queue_status(
        &mut self,
        f: &TxFrameRepr<'_>,
        radio: &Arc<Radio>,
        freq: u32,
        acked: bool,
        status: Option<&crate::medium::TxStatus>,
    ) {
        let repr = status_repr(f, freq, acked, status);
        if self.statuses.len() >= self.core.limits.status_capacity {
            self.vm
                .counters
                .tx_status_dropped
                .fetch_add(1, Ordering::Relaxed);
            radio
                .counters
                .tx_status_dropped
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.vm
            .counters
            .tx_status_queued
            .fetch_add(1, Ordering::Relaxed);
        self.statuses.push_back((repr, Arc::clone(radio)));
    }

    fn wake_receivers(&mut self) {
        for inbox in self.wake.drain(..) {
            inbox.notify();
        }
    }

    /// The inbox eventfd fired.
    /// Returns the inbox's wake-up count for [`crate::switch::Inbox::mark_served`].
    pub fn inbox_signalled(&mut self) -> u64 {
        self.vm.inbox.begin_drain()
    }

    /// Writes pending statuses and inbox deliveries into the guest's RX buffers.
    pub fn flush_rx(&mut self, vring: &VringRwLock<GuestMem>) {
        let Some(mem) = self.mem.clone() else {
            return;
        };
        let mem = mem.memory();
        let mut state = vring.get_mut();
        let mut used = false;
        let mut status_buf = [0u8; STATUS_MSG_LEN];
        loop {
            // Pick the next message without removing it: statuses first, so a sender is never
            // starved of TX completions by a flood of received frames.
            let pending = if let Some((s, _)) = self.statuses.front() {
                match s.emit(&mut status_buf) {
                    Ok(n) => Pending::Status(n),
                    Err(_) => {
                        self.statuses.pop_front();
                        continue;
                    }
                }
            } else {
                if self.stash.is_none() {
                    self.stash = self.vm.inbox.pop();
                }
                match &self.stash {
                    Some(_) => Pending::Delivery,
                    None => break,
                }
            };
            let msg: &[u8] = match pending {
                Pending::Status(n) => &status_buf[..n],
                Pending::Delivery => match &self.stash {
                    Some(d) => d.msg.message(),
                    None => break,
                },
            };
            let Some(chain) = next_rx_chain(&mut state, &mem) else {
                break;
            };
            let head = chain.head_index();
            match Segments::collect(&*mem, chain, true) {
                Ok(segs) if segs.total_len() < msg.len() as u64 => {
                    let _ = state.add_used(head, 0);
                    used = true;
                    self.vm
                        .counters
                        .rx_buffer_too_small
                        .fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                Ok(segs) => match segs.write(&*mem, 0, msg) {
                    Ok(()) => {
                        let _ = state.add_used(head, msg.len() as u32);
                        used = true;
                    }
                    Err(_) => {
                        let _ = state.add_used(head, 0);
                        used = true;
                        self.vm
                            .counters
                            .rx_bad_descriptor
                            .fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                },
                Err(_) => {
                    let _ = state.add_used(head, 0);
                    used = true;
                    self.vm
                        .counters
                        .rx_bad_descriptor
                        .fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
            self.vm.counters.rx_written.fetch_add(1, Ordering::Relaxed);
            match pending {
                Pending::Status(_) => {
                    if let Some((_, r)) = self.statuses.pop_front() {
                        r.counters.tx_status_sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Pending::Delivery => {
                    if let Some(d) = self.stash.take() {
                        let c = &d.to.counters;
                        match d.kind {
                            DeliveryKind::Frame => c.rx_delivered.fetch_add(1, Ordering::Relaxed),
                            DeliveryKind::Status => {
                                c.tx_status_sent.fetch_add(1, Ordering::Relaxed)
                            }
                        };
                    }
                }
            }
        }
        if used && state.needs_notification().unwrap_or(true) {
            let _ = state.signal_used_queue();
        }
    }

    /// The VM has left: its pending TX statuses and the delivery taken from its inbox are
    /// thrown away and counted, and its guest memory is let go.
    pub fn retire(&mut self) {
        let waiting = self.statuses.len() + usize::from(self.stash.is_some());
        self.statuses.clear();
        self.stash = None;
        self.mem = None;
        self.vm
            .counters
            .rx_discarded_on_departure
            .fetch_add(waiting as u64, Ordering::Relaxed);
    }

    /// Messages still waiting for RX buffers.
    pub fn backlog(&self) -> usize {
        self.statuses.len() + usize::from(self.stash.is_some()) + self.vm.inbox.len()
    }
}

/// The TX status message for `f`: its flags with STAT_ACK as decided, the medium's retry chain
/// (every attempt used when there is no medium status).
fn status_repr(
    f: &TxFrameRepr<'_>,
    freq: u32,
    acked: bool,
    status: Option<&crate::medium::TxStatus>,
) -> TxInfoRepr {
    let flags = if acked {
        f.flags | tx_flags::STAT_ACK
    } else {
        f.flags & !tx_flags::STAT_ACK
    };
    let rates = status
        .map(|s| s.rates)
        .unwrap_or_else(|| crate::medium::fill_retry_chain(f.tx_info, None));
    TxInfoRepr {
        transmitter: f.transmitter,
        flags,
        cookie: f.cookie,
        signal: status.map_or(0, |s| s.signal_dbm),
        tx_info: rates,
        freq: Some(freq),
    }
}

enum Pending {
    Status(usize),
    Delivery,
}

/// Next RX buffer; with notifications re-enabled when the ring is empty, so the guest's next
/// refill kicks us.
fn next_rx_chain<'m>(
    state: &mut VringState<GuestMem>,
    mem: &'m GuestMemoryMmap<()>,
) -> Option<virtio_queue::DescriptorChain<&'m GuestMemoryMmap<()>>> {
    if let Some(c) = state.get_queue_mut().pop_descriptor_chain(mem) {
        return Some(c);
    }
    match state.enable_notification() {
        Ok(true) => {
            let c = state.get_queue_mut().pop_descriptor_chain(mem);
            if c.is_some() {
                let _ = state.disable_notification();
            }
            c
        }
        _ => None,
    }
}

/// Reads the netlink message at the start of a TX chain into `scratch`; returns its length.
/// The chain covers the guest's whole skb; the message length is `nlmsg_len`.
fn read_message(
    mem: &GuestMemoryMmap<()>,
    segs: &Segments,
    scratch: &mut [u8],
) -> Result<usize, ChainError> {
    let avail = segs.total_len().min(scratch.len() as u64) as usize;
    if avail < 4 {
        // Too short to hold a length: let the parser name it.
        segs.read(mem, 0, &mut scratch[..avail])?;
        return Ok(avail);
    }
    segs.read(mem, 0, &mut scratch[..4])?;
    let nlmsg_len = u32::from_ne_bytes([scratch[0], scratch[1], scratch[2], scratch[3]]) as usize;
    // A length beyond the chain is malformed; read what there is and let the parser reject it.
    let len = nlmsg_len.clamp(4, avail);
    segs.read(mem, 4, &mut scratch[4..len])?;
    Ok(len)
}

/// The capture record of one transmission, on its transmitter's (radio, frequency) interface,
/// with the signal at the addressed receiver and the TX outcome; the caller sets the timestamp.
fn transmission_meta(
    tx: &Transmission<'_>,
    heard: Option<&Reception>,
    status: &crate::medium::TxStatus,
) -> FrameMeta {
    use hwsim_frame::radiotap::PhyInfo;
    // The guests only see legacy RX rates; the capture says what they were told.
    const RATES_500K_5G: [u8; 8] = [12, 18, 24, 36, 48, 72, 96, 108];
    const RATES_500K_2G: [u8; 12] = [2, 4, 11, 22, 12, 18, 24, 36, 48, 72, 96, 108];
    let table: &[u8] = if (2400..2500).contains(&tx.freq) {
        &RATES_500K_2G
    } else {
        &RATES_500K_5G
    };
    let rate_500kbps = heard
        .and_then(|r| table.get(r.rx_rate as usize).copied())
        .unwrap_or(table[0]);
    let attempts: u32 = status
        .rates
        .iter()
        .take_while(|r| r.idx >= 0)
        .map(|r| u32::from(r.count))
        .sum();
    FrameMeta {
        timestamp_ns: 0,
        radio: tx.from,
        freq_mhz: tx.freq,
        signal_dbm: heard.map(|r| r.signal_dbm.clamp(-128, 127) as i8),
        noise_dbm: heard
            .and_then(|r| r.noise_dbm)
            .map(|n| n.clamp(-128, 127) as i8),
        // The rate the medium used when it models one (EHT and all), else what the guest
        // was told.
        phy: match heard.and_then(|r| r.vector) {
            Some(v) => crate::capture::phy_info(&v),
            None => PhyInfo::Legacy { rate_500kbps },
        },
        tx: Some(crate::capture::TxOutcome {
            acked: status.acked,
            retries: attempts.saturating_sub(1).min(255) as u8,
        }),
    }
}
