//! One VM's bounded queue of frames for the MLD tracker.
//!
//! Each VM owns one ([`crate::core::VmShared::mld`]): its worker thread fills it, the tracker
//! thread drains it. A guest that transmits beacons or association frames faster than the
//! tracker reads them fills only its own queue and loses only its own frames; nothing here is
//! shared with another VM. Slots are allocated lazily up to [`VM_QUEUE_LEN`] and then recycled
//! through a free list, so a warm queue never allocates.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crossbeam_queue::ArrayQueue;
use hwsim_frame::nl::MAX_FRAME_LEN;
use hwsim_frame::MacAddr;

use crate::switch::{RadioKey, VmId};

/// Frames of one VM that may wait for the tracker thread; more are dropped and counted. A VM's
/// association exchange or a beacon round of a few multi-link APs takes a handful.
pub const VM_QUEUE_LEN: usize = 64;

/// One VM's offer counters (atomics, written by its worker thread).
#[derive(Debug, Default)]
pub struct OfferCounters {
    /// Frames queued for the tracker.
    pub queued: AtomicU64,
    /// Dropped because this VM's queue was full.
    pub dropped: AtomicU64,
    /// Cut to 2304 bytes.
    pub truncated: AtomicU64,
}

impl OfferCounters {
    /// (name, value) pairs as they appear among a VM's counters in reports.
    pub fn snapshot(&self) -> [(&'static str, u64); 3] {
        [
            ("mld_queued", self.queued.load(Ordering::Relaxed)),
            ("mld_dropped", self.dropped.load(Ordering::Relaxed)),
            ("mld_truncated", self.truncated.load(Ordering::Relaxed)),
        ]
    }
}

/// A copied frame waiting for the tracker.
pub(super) struct Slot {
    /// Order of offers across all VMs: the tracker reads frames in this order, so an
    /// association response from one VM is never read before the request another VM sent first.
    pub(super) seq: u64,
    pub(super) radio: RadioKey,
    pub(super) freq: u32,
    pub(super) len: usize,
    pub(super) data: [u8; MAX_FRAME_LEN],
}

impl Slot {
    pub(super) fn frame(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

/// One VM's queue to the tracker thread.
pub struct MldQueue {
    vm: VmId,
    free: ArrayQueue<Box<Slot>>,
    full: ArrayQueue<Box<Slot>>,
    allocated: AtomicUsize,
    counters: OfferCounters,
}

impl std::fmt::Debug for MldQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MldQueue")
            .field("vm", &self.vm)
            .field("waiting", &self.full.len())
            .field("counters", &self.counters)
            .finish()
    }
}

impl MldQueue {
    /// An empty queue for VM `vm` (no slot allocated yet).
    pub fn new(vm: VmId) -> Self {
        MldQueue {
            vm,
            free: ArrayQueue::new(VM_QUEUE_LEN),
            full: ArrayQueue::new(VM_QUEUE_LEN),
            allocated: AtomicUsize::new(0),
            counters: OfferCounters::default(),
        }
    }

    /// The VM it belongs to.
    pub fn vm(&self) -> VmId {
        self.vm
    }

    /// Its counters.
    pub fn counters(&self) -> &OfferCounters {
        &self.counters
    }

    /// Copies `frame` into a slot and queues it; false (counted) when this VM's queue is full.
    pub(super) fn push(&self, seq: u64, radio: RadioKey, freq: u32, frame: &[u8]) -> bool {
        let Some(mut slot) = self.free.pop().or_else(|| self.allocate()) else {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        let len = frame.len().min(MAX_FRAME_LEN);
        if len < frame.len() {
            self.counters.truncated.fetch_add(1, Ordering::Relaxed);
        }
        slot.seq = seq;
        slot.radio = radio;
        slot.freq = freq;
        slot.len = len;
        slot.data[..len].copy_from_slice(&frame[..len]);
        if self.full.push(slot).is_err() {
            // Cannot happen (at most VM_QUEUE_LEN slots exist); counted all the same.
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// The oldest queued frame (tracker thread).
    pub(super) fn pop(&self) -> Option<Box<Slot>> {
        self.full.pop()
    }

    /// Gives a read slot back for reuse (tracker thread).
    pub(super) fn recycle(&self, slot: Box<Slot>) {
        let _ = self.free.push(slot);
    }

    /// Frees every slot and allocates no more: the VM has left, only its counters stay.
    pub fn retire(&self) {
        self.allocated.store(VM_QUEUE_LEN, Ordering::Relaxed);
        while self.full.pop().is_some() {}
        while self.free.pop().is_some() {}
    }

    fn allocate(&self) -> Option<Box<Slot>> {
        let mut n = self.allocated.load(Ordering::Relaxed);
        loop {
            if n >= VM_QUEUE_LEN {
                return None;
            }
            match self.allocated.compare_exchange_weak(
                n,
                n + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => n = now,
            }
        }
        Some(Box::new(Slot {
            seq: 0,
            radio: RadioKey {
                vm: 0,
                wire: MacAddr::default(),
            },
            freq: 0,
            len: 0,
            data: [0; MAX_FRAME_LEN],
        }))
    }
}
