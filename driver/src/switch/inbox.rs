//! A VM's inbox: the bounded lock-free queue other VM threads push deliveries into, and the
//! eventfd that wakes the owning VM's epoll loop (the vhost-device-vsock sibling pattern).

use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
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
}

impl Inbox {
    /// An inbox holding at most `capacity` deliveries.
    pub fn new(capacity: usize) -> std::io::Result<Arc<Self>> {
        Ok(Arc::new(Inbox {
            queue: ArrayQueue::new(capacity.max(1)),
            wake: EventFd::new(EFD_NONBLOCK)?,
            signalled: AtomicBool::new(false),
        }))
    }

    /// Queues a delivery; gives it back if the inbox is full (back-pressure: caller counts a drop).
    pub fn push(&self, d: Delivery) -> Result<(), Delivery> {
        self.queue.push(d)
    }

    /// Wakes the consumer unless a wake-up is already pending.
    pub fn notify(&self) {
        if !self.signalled.swap(true, Ordering::AcqRel) {
            // A failed write means the counter is saturated, i.e. a wake-up is pending anyway.
            let _ = self.wake.write(1);
        }
    }

    /// Consumer side: clears the wake-up before draining, so a push racing with the drain
    /// re-arms it.
    pub fn begin_drain(&self) {
        let _ = self.wake.read();
        self.signalled.store(false, Ordering::Release);
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
