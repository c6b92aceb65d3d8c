//! The delay line: deliveries held back for a link's added delay (control API `link …
//! delay_us`), then put in their receiver's inbox.
//!
//! The data path hands a delivery over with [`DelayLine::submit`]: one push onto a bounded
//! lock-free queue (full: the delivery is refused, the caller counts the drop) and, when the
//! line's thread sleeps, an unpark. The thread orders what it took by due time in a heap
//! allocated once at start, and delivers each when due. The TX status is not delayed: the
//! transmitter learns the frame's fate when it is judged, as with the instant medium.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::Thread;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

use super::{Delivery, Pushed};

/// Deliveries the line holds at most (queued plus waiting in the heap).
pub const CAPACITY: usize = 4096;

struct Held {
    due: Instant,
    order: u64,
    delivery: Delivery,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.order) == (other.due, other.order)
    }
}

impl Eq for Held {}

impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl Ord for Held {
    /// Reversed: the heap's top is the delivery due first (then the one submitted first).
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.due, other.order).cmp(&(self.due, self.order))
    }
}

/// The line.
pub struct DelayLine {
    queue: ArrayQueue<Held>,
    held: AtomicUsize,
    order: AtomicU64,
    sleeping: AtomicBool,
    thread: std::sync::OnceLock<Thread>,
    /// Deliveries put in an inbox after their delay.
    pub delivered: AtomicU64,
    /// Deliveries dropped: the line was full, or the receiver's inbox was when they fell due.
    pub dropped: AtomicU64,
}

impl DelayLine {
    /// Starts the line's thread.
    pub fn spawn() -> std::io::Result<Arc<DelayLine>> {
        let line = Arc::new(DelayLine {
            queue: ArrayQueue::new(CAPACITY),
            held: AtomicUsize::new(0),
            order: AtomicU64::new(0),
            sleeping: AtomicBool::new(false),
            thread: std::sync::OnceLock::new(),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        let run = Arc::clone(&line);
        let handle = std::thread::Builder::new()
            .name("vhost-hwsim-delay".into())
            .spawn(move || run.run())?;
        let _ = line.thread.set(handle.thread().clone());
        Ok(line)
    }

    /// Holds `delivery` for `delay`. Gives it back if the line is full.
    pub fn submit(&self, delivery: Delivery, delay: Duration) -> Result<(), Delivery> {
        if self.held.fetch_add(1, Ordering::AcqRel) >= CAPACITY {
            self.held.fetch_sub(1, Ordering::AcqRel);
            return Err(delivery);
        }
        let held = Held {
            due: Instant::now() + delay,
            order: self.order.fetch_add(1, Ordering::Relaxed),
            delivery,
        };
        if let Err(h) = self.queue.push(held) {
            self.held.fetch_sub(1, Ordering::AcqRel);
            return Err(h.delivery);
        }
        // Pairs with the fence in `run`: either the thread sees this delivery in the queue
        // before it parks, or we see it sleeping and wake it.
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.sleeping.load(Ordering::SeqCst) {
            if let Some(t) = self.thread.get() {
                t.unpark();
            }
        }
        Ok(())
    }

    fn run(&self) {
        let mut heap: BinaryHeap<Held> = BinaryHeap::with_capacity(CAPACITY);
        loop {
            while let Some(h) = self.queue.pop() {
                heap.push(h);
            }
            let now = Instant::now();
            while heap.peek().is_some_and(|h| h.due <= now) {
                let Some(h) = heap.pop() else { break };
                self.held.fetch_sub(1, Ordering::AcqRel);
                self.deliver(h.delivery);
            }
            self.sleeping.store(true, Ordering::SeqCst);
            std::sync::atomic::fence(Ordering::SeqCst);
            // A submit between the last pop and `sleeping` is seen here, not slept through.
            if self.queue.is_empty() {
                match heap.peek() {
                    Some(h) => std::thread::park_timeout(h.due.saturating_duration_since(now)),
                    None => std::thread::park(),
                }
            }
            self.sleeping.store(false, Ordering::SeqCst);
        }
    }

    fn deliver(&self, d: Delivery) {
        let to = Arc::clone(&d.to);
        match to.inbox.push(d) {
            Ok(Pushed::Queued) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
                to.inbox.notify();
            }
            // The receiver left meanwhile: its inbox threw the delivery away.
            Ok(Pushed::Discarded { .. }) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                to.counters.rx_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
