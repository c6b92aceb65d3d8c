//! A VM's inbox: the bounded lock-free queue other VM threads push deliveries into, and the
//! eventfd that wakes the owning VM's epoll loop (the vhost-device-vsock sibling pattern).
//!
//! When the VM leaves, its inbox is closed and emptied. A sender that still holds an older
//! routing snapshot may push after that; it sees the inbox closed and empties it itself, so no
//! delivery (and no pool buffer, and no reference to the radio that owns this inbox) stays
//! parked in an inbox nobody drains.
//!
//! Every queued delivery holds a buffer of the one pool all VMs share. So an inbox holds at
//! most its VM's share of the pool (the pool divided by the VMs connected, see
//! [`crate::core::Core`]) besides its own capacity: guests that never post RX buffers fill their
//! inboxes up to their shares and no further, and the others keep buffers to receive with.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_queue::ArrayQueue;
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use super::pool::PoolBuf;
use super::routing::Radio;

/// What a queued message is, for the receiving radio's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryKind {
    /// A received frame (`HWSIM_CMD_FRAME`).
    Frame,
    /// The TX status of one of the radio's own frames (`HWSIM_CMD_TX_INFO_FRAME`), sent by the
    /// medium clock when the frame's airtime ends.
    Status,
}

/// One message waiting for a guest RX buffer.
pub struct Delivery {
    /// The complete device→guest message.
    pub msg: PoolBuf,
    /// The radio it is for (for per-radio counters).
    pub to: Arc<Radio>,
    /// Frame or TX status.
    pub kind: DeliveryKind,
}

/// Bounded multi-producer queue of deliveries for one VM plus its wake-up eventfd.
pub struct Inbox {
    queue: ArrayQueue<Delivery>,
    wake: EventFd,
    /// Set by the first producer after the consumer last drained: later producers skip the
    /// eventfd write, so a burst costs one syscall instead of one per frame.
    signalled: AtomicBool,
    /// The owning VM has left: nothing will drain the queue any more.
    closed: AtomicBool,
    /// Wake-ups asked for ([`Inbox::notify`] calls) and the count the consumer had seen when
    /// it last finished serving: virtual time waits for them to meet ([`Inbox::served`]).
    posted: AtomicU64,
    served: AtomicU64,
    /// Most deliveries it may hold now, if shared out (see the module docs).
    share: Option<Arc<AtomicUsize>>,
}

/// What became of a delivery that fit in the inbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Queued for the owning VM.
    Queued,
    /// The VM had left: the inbox was emptied at once, this delivery and `discarded - 1`
    /// others with it.
    Discarded {
        /// Deliveries thrown away (at least this one, unless the closer took it first).
        discarded: usize,
    },
}

impl Inbox {
    /// An inbox holding at most `capacity` deliveries.
    pub fn new(capacity: usize) -> std::io::Result<Arc<Self>> {
        Inbox::build(capacity, None)
    }

    /// An inbox holding at most `capacity` deliveries, and at most `share` at any moment.
    pub fn with_share(capacity: usize, share: Arc<AtomicUsize>) -> std::io::Result<Arc<Self>> {
        Inbox::build(capacity, Some(share))
    }

    fn build(capacity: usize, share: Option<Arc<AtomicUsize>>) -> std::io::Result<Arc<Self>> {
        Ok(Arc::new(Inbox {
            queue: ArrayQueue::new(capacity.max(1)),
            wake: EventFd::new(EFD_NONBLOCK)?,
            signalled: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            posted: AtomicU64::new(0),
            served: AtomicU64::new(0),
            share,
        }))
    }

    /// Queues a delivery; gives it back if the inbox is full (back-pressure: caller counts a
    /// drop). On a closed inbox the delivery is discarded (see [`Pushed::Discarded`]).
    pub fn push(&self, d: Delivery) -> Result<Pushed, Delivery> {
        if let Some(share) = &self.share {
            // Racing producers may overshoot by one each: the share bounds, not exactly.
            if self.queue.len() >= share.load(Ordering::Relaxed) {
                return Err(d);
            }
        }
        self.queue.push(d)?;
        // Pairs with the fence in `close`: either the closer's drain sees this delivery, or we
        // see `closed` and drain it ourselves.
        fence(Ordering::SeqCst);
        if self.closed.load(Ordering::Relaxed) {
            return Ok(Pushed::Discarded {
                discarded: self.discard_all(),
            });
        }
        Ok(Pushed::Queued)
    }

    /// The owning VM has left: marks the inbox closed and discards what waits in it. Returns how
    /// many deliveries were discarded; later pushes discard their own (see [`Inbox::push`]).
    pub fn close(&self) -> usize {
        self.closed.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        self.discard_all()
    }

    fn discard_all(&self) -> usize {
        let mut n = 0;
        while self.queue.pop().is_some() {
            n += 1;
        }
        n
    }

    /// Wakes the consumer unless a wake-up is already pending.
    pub fn notify(&self) {
        // SeqCst here and in `begin_drain`: see there.
        self.posted.fetch_add(1, Ordering::SeqCst);
        if !self.signalled.swap(true, Ordering::SeqCst) {
            // A failed write means the counter is saturated, i.e. a wake-up is pending anyway.
            let _ = self.wake.write(1);
        }
    }

    /// Wakes the consumer even if a wake-up seems pending: virtual time's way out when a
    /// settle wait for this inbox timed out (a spurious wake-up only costs an empty drain).
    pub fn rewake(&self) {
        let _ = self.wake.write(1);
    }

    /// Consumer side: clears the wake-up before draining, so a push racing with the drain
    /// re-arms it. Returns the wake-ups asked for so far, for [`Inbox::mark_served`].
    pub fn begin_drain(&self) -> u64 {
        let _ = self.wake.read();
        // Read after clearing `signalled`: a notify this count misses found the flag clear
        // and wrote the eventfd, so another drain follows. That needs the clear to be visible
        // before the read, which release/acquire does not give (a store may wait in the CPU's
        // store buffer while a later load goes ahead, x86 included): a notify could then see
        // the flag still set and skip the eventfd, and not be in this count either. Nothing
        // would wake the consumer for it; under virtual time the simulation then stood still
        // (`a_notify_racing_with_the_drain_is_never_lost` saw ~1 in 1,500 rounds lost).
        // SeqCst on both sides puts the four operations in one order, which rules that out.
        self.signalled.swap(false, Ordering::SeqCst);
        self.posted.load(Ordering::SeqCst)
    }

    /// Consumer side: everything `begin_drain` returned `upto` for has been served (written
    /// into the guest's RX ring as far as it had buffers, and its notification answered).
    pub fn mark_served(&self, upto: u64) {
        self.served.fetch_max(upto, Ordering::AcqRel);
    }

    /// True when the consumer has served every wake-up asked for so far (a VM that left counts
    /// as served: nothing will drain it).
    pub fn served(&self) -> bool {
        self.closed.load(Ordering::Acquire)
            || self.served.load(Ordering::Acquire) >= self.posted.load(Ordering::Acquire)
    }

    /// Wake-ups asked for that the consumer has not served yet (for `stats`).
    pub fn unserved(&self) -> u64 {
        self.posted
            .load(Ordering::Acquire)
            .saturating_sub(self.served.load(Ordering::Acquire))
    }

    /// Next queued delivery.
    pub fn pop(&self) -> Option<Delivery> {
        self.queue.pop()
    }

    /// Deliveries waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The eventfd to register with the owning VM's epoll loop.
    pub fn wake_fd(&self) -> RawFd {
        self.wake.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::switch::{BufferPool, RadioKey, RoutingTable};
    use hwsim_frame::MacAddr;

    fn delivery(pool: &Arc<BufferPool>, to: &Arc<Radio>) -> Delivery {
        Delivery {
            msg: pool.take().expect("a free buffer"),
            to: Arc::clone(to),
            kind: DeliveryKind::Frame,
        }
    }

    /// True if the inbox's eventfd holds a wake-up (without consuming it).
    fn wake_pending(inbox: &Inbox) -> bool {
        let mut fds = [libc::pollfd {
            fd: inbox.wake_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        // SAFETY: one valid pollfd for the duration of the call; no timeout.
        unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) == 1 }
    }

    /// The lost-wake-up race: a producer's notify lands while the consumer is between
    /// clearing `signalled` and reading `posted`. Either the consumer's count includes the
    /// notify, or the producer wrote the eventfd; never neither (then nothing wakes the
    /// consumer again, and under virtual time the whole simulation waits for it). The two
    /// sides start each round together, the producer a few spins later each time, so the
    /// notify sweeps across the consumer's drain.
    #[test]
    fn a_notify_racing_with_the_drain_is_never_lost() {
        use std::sync::atomic::AtomicU64;
        const ROUNDS: u64 = 100_000;
        let inbox = Inbox::new(1).unwrap();
        let go = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicU64::new(0));
        let producer = {
            let (inbox, go, done) = (Arc::clone(&inbox), Arc::clone(&go), Arc::clone(&done));
            std::thread::spawn(move || {
                for round in 1..=ROUNDS {
                    while go.load(Ordering::Acquire) != round {
                        std::hint::spin_loop();
                    }
                    for _ in 0..round % 97 {
                        std::hint::spin_loop();
                    }
                    inbox.notify();
                    done.store(round, Ordering::Release);
                }
            })
        };
        let mut lost = 0;
        for round in 1..=ROUNDS {
            // A wake-up is pending, as when the consumer's epoll loop fires.
            inbox.notify();
            go.store(round, Ordering::Release);
            let upto = inbox.begin_drain();
            inbox.mark_served(upto);
            while done.load(Ordering::Acquire) != round {
                std::hint::spin_loop();
            }
            if wake_pending(&inbox) {
                // The consumer would wake again and serve it.
                let upto = inbox.begin_drain();
                inbox.mark_served(upto);
            }
            if !inbox.served() {
                lost += 1;
                // Serve it anyway, so the next round starts clean.
                let upto = inbox.begin_drain();
                inbox.mark_served(upto);
            }
        }
        producer.join().unwrap();
        assert_eq!(
            lost, 0,
            "notifies neither counted by the drain nor signalled"
        );
    }

    #[test]
    fn rewake_wakes_a_consumer_whose_wake_up_was_lost() {
        let inbox = Inbox::new(1).unwrap();
        inbox.notify();
        // The eventfd's count vanishes (as a lost wake-up would leave it): `signalled` still
        // says a wake-up is pending, so further notifies write nothing either.
        let mut count = [0u8; 8];
        // SAFETY: reads 8 bytes into a buffer of 8 from a non-blocking eventfd.
        let n = unsafe { libc::read(inbox.wake_fd(), count.as_mut_ptr().cast(), 8) };
        assert_eq!(n, 8);
        inbox.notify();
        assert!(!wake_pending(&inbox) && !inbox.served());
        inbox.rewake();
        assert!(wake_pending(&inbox));
        let upto = inbox.begin_drain();
        inbox.mark_served(upto);
        assert!(inbox.served());
    }

    #[test]
    fn a_closed_inbox_keeps_no_delivery_and_no_buffer() {
        let pool = BufferPool::new(8);
        let inbox = Inbox::new(4).unwrap();
        let routing = RoutingTable::default();
        let key = RadioKey {
            vm: 1,
            wire: MacAddr([0x42, 0, 0, 0, 0, 0]),
        };
        let radio = routing.add_radio(key, &inbox);
        assert_eq!(
            inbox.push(delivery(&pool, &radio)).ok(),
            Some(Pushed::Queued)
        );
        assert_eq!(
            inbox.push(delivery(&pool, &radio)).ok(),
            Some(Pushed::Queued)
        );
        assert_eq!(pool.free(), 0, "two buffers in flight, none returned yet");
        assert_eq!(inbox.close(), 2, "what waited is discarded and counted");
        // A sender with a stale routing snapshot pushes after the close.
        assert_eq!(
            inbox.push(delivery(&pool, &radio)).ok(),
            Some(Pushed::Discarded { discarded: 1 })
        );
        assert!(inbox.is_empty());
        assert_eq!(
            pool.free(),
            pool.allocated(),
            "every buffer is back in the pool"
        );
        // Nothing in the inbox refers to the radio any more: only the routing table and this
        // test hold it, so the inbox goes when they let go.
        drop(routing);
        assert_eq!(Arc::strong_count(&radio), 1);
        assert_eq!(Arc::strong_count(&inbox), 2, "this test and the radio");
    }

    #[test]
    fn an_inbox_holds_no_more_than_its_share_of_the_pool() {
        let pool = BufferPool::new(8);
        let share = Arc::new(AtomicUsize::new(2));
        let inbox = Inbox::with_share(8, Arc::clone(&share)).unwrap();
        let routing = RoutingTable::default();
        let key = RadioKey {
            vm: 1,
            wire: MacAddr([0x42, 0, 0, 0, 0, 1]),
        };
        let radio = routing.add_radio(key, &inbox);
        assert!(inbox.push(delivery(&pool, &radio)).is_ok());
        assert!(inbox.push(delivery(&pool, &radio)).is_ok());
        let refused = inbox.push(delivery(&pool, &radio));
        assert!(refused.is_err(), "a third beyond a share of 2");
        drop(refused);
        assert_eq!(pool.free(), 1, "the refused delivery's buffer is back");
        // Fewer VMs, a larger share.
        share.store(3, Ordering::Relaxed);
        assert!(inbox.push(delivery(&pool, &radio)).is_ok());
        assert_eq!(inbox.len(), 3);
    }
}
