//! Driver side of a VIRTIO 1.x split virtqueue living in shared memory.
//!
//! Layout (all fields little-endian): descriptor table (16 bytes per entry), then the available
//! ring `{flags, idx, ring[size], used_event}`, then (4-aligned) the used ring
//! `{flags, idx, ring[size] of {id: u32, len: u32}, avail_event}`.
//!
//! The free-descriptor list and per-chain bookkeeping are private to the driver (like Linux's
//! `desc_extra`), so a device scribbling on the table cannot corrupt them.

use std::sync::atomic::{fence, AtomicU16, Ordering};

use crate::RawDesc;

/// `VIRTQ_USED_F_NO_NOTIFY`: the device asks not to be kicked (used without EVENT_IDX).
const USED_F_NO_NOTIFY: u16 = 1;

/// Token of a chain that carries no driver buffer (hostile helpers).
pub(crate) const RAW_TOKEN: u32 = u32::MAX;

/// Byte offsets of the three parts of a ring, relative to its start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub avail: usize,
    pub used: usize,
    pub total: usize,
}

impl Layout {
    pub(crate) fn new(size: u16) -> Layout {
        let n = usize::from(size);
        let avail = 16 * n;
        let used = (avail + 6 + 2 * n).next_multiple_of(4);
        Layout {
            avail,
            used,
            total: used + 6 + 8 * n,
        }
    }
}

/// One element taken off the used ring.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Used {
    pub head: u16,
    pub len: u32,
    pub token: u32,
    /// Sum of the writable lengths of the chain, `u32::MAX` if unknown (indirect).
    pub cap: u32,
}

/// The device returned an id that is out of range or not in flight.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BadUsed;

#[derive(Clone, Copy, Default)]
struct Chain {
    token: u32,
    count: u16,
    cap: u32,
    in_flight: bool,
}

pub(crate) struct SplitRing {
    base: *mut u8,
    layout: Layout,
    size: u16,
    event_idx: bool,
    free_head: u16,
    num_free: u16,
    next: Vec<u16>,
    chains: Vec<Chain>,
    slots: Vec<u16>,
    in_flight: usize,
    avail_idx: u16,
    kicked_idx: u16,
    last_used: u16,
}

// SAFETY: the ring only holds a pointer into the guest mapping, which is itself `Send`; the ring
// is used through `&mut self` by one owner at a time.
unsafe impl Send for SplitRing {}

impl SplitRing {
    /// # Safety
    /// `base` must point to `Layout::new(size).total` bytes of zeroed memory, 16-byte aligned,
    /// valid for reads and writes for the lifetime of the ring. `size` must be a power of two.
    pub(crate) unsafe fn new(base: *mut u8, size: u16, event_idx: bool) -> SplitRing {
        let n = usize::from(size);
        SplitRing {
            base,
            layout: Layout::new(size),
            size,
            event_idx,
            free_head: 0,
            num_free: size,
            next: (1..=size).collect(),
            chains: vec![Chain::default(); n],
            slots: Vec::with_capacity(n),
            in_flight: 0,
            avail_idx: 0,
            kicked_idx: 0,
            last_used: 0,
        }
    }

    pub(crate) fn num_free(&self) -> u16 {
        self.num_free
    }

    /// Chains made available and not yet returned by the device.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The descriptor the next single-descriptor chain will use as its head.
    pub(crate) fn peek_free(&self) -> Option<u16> {
        (self.num_free > 0).then_some(self.free_head)
    }

    fn at<T>(&self, off: usize) -> *mut T {
        debug_assert!(off + std::mem::size_of::<T>() <= self.layout.total);
        // SAFETY: every caller passes an offset inside the ring's layout, which `new`'s contract
        // guarantees is valid memory.
        unsafe { self.base.add(off).cast::<T>() }
    }

    fn atomic_u16(&self, off: usize) -> &AtomicU16 {
        // SAFETY: the offset is 2-aligned inside the ring (layout fields) and the memory lives as
        // long as `self`; the device accesses it concurrently, hence atomics.
        unsafe { &*self.at::<AtomicU16>(off) }
    }

    fn write_u16(&self, off: usize, v: u16) {
        // SAFETY: in-bounds, 2-aligned field of the ring (see `at`).
        unsafe { self.at::<u16>(off).write_volatile(v.to_le()) }
    }

    fn read_u16(&self, off: usize) -> u16 {
        // SAFETY: in-bounds, 2-aligned field of the ring (see `at`).
        u16::from_le(unsafe { self.at::<u16>(off).read_volatile() })
    }

    fn read_u32(&self, off: usize) -> u32 {
        // SAFETY: in-bounds, 4-aligned field of the used ring (see `at`).
        u32::from_le(unsafe { self.at::<u32>(off).read_volatile() })
    }

    fn write_desc(&self, i: u16, d: &RawDesc) {
        let off = 16 * usize::from(i);
        // SAFETY: `i < size`, so the 16-byte entry lies in the descriptor table; the fields are
        // naturally aligned because the table is 16-aligned.
        unsafe {
            self.at::<u64>(off).write_volatile(d.addr.to_le());
            self.at::<u32>(off + 8).write_volatile(d.len.to_le());
            self.at::<u16>(off + 12).write_volatile(d.flags.to_le());
            self.at::<u16>(off + 14).write_volatile(d.next.to_le());
        }
    }

    /// Write `descs` into free table entries and make the chain available (not yet visible to
    /// the device: call [`SplitRing::publish`]). `next` fields below `descs.len()` are indices
    /// into `descs` and are translated to table slots; larger values are written verbatim.
    /// Returns the head, or `None` if there are not enough free descriptors.
    pub(crate) fn add(&mut self, descs: &[RawDesc], token: u32) -> Option<u16> {
        let n = descs.len();
        if n == 0 || n > usize::from(self.num_free) {
            return None;
        }
        self.slots.clear();
        let mut slot = self.free_head;
        for _ in 0..n {
            self.slots.push(slot);
            slot = self.next[usize::from(slot)];
        }
        self.free_head = slot;
        self.num_free -= n as u16;

        let mut cap = 0u32;
        for (k, d) in descs.iter().enumerate() {
            let next = match self.slots.get(usize::from(d.next)) {
                Some(&s) => s,
                None => d.next,
            };
            if d.flags & RawDesc::INDIRECT != 0 {
                cap = u32::MAX;
            } else if d.flags & RawDesc::WRITE != 0 {
                cap = cap.saturating_add(d.len);
            }
            let slot = self.slots[k];
            self.write_desc(slot, &RawDesc { next, ..*d });
            if k + 1 < n {
                self.next[usize::from(slot)] = self.slots[k + 1];
            }
        }
        let head = self.slots[0];
        self.chains[usize::from(head)] = Chain {
            token,
            count: n as u16,
            cap,
            in_flight: true,
        };
        self.in_flight += 1;

        let pos = self.layout.avail + 4 + 2 * usize::from(self.avail_idx & (self.size - 1));
        self.write_u16(pos, head);
        self.avail_idx = self.avail_idx.wrapping_add(1);
        Some(head)
    }

    /// Publish the new avail idx and tell whether the device wants a kick for what was added
    /// since the last call.
    pub(crate) fn publish(&mut self) -> bool {
        let new = self.avail_idx;
        let old = self.kicked_idx;
        if new == old {
            return false;
        }
        // Descriptors and ring entries must be visible before the index that exposes them.
        fence(Ordering::Release);
        self.atomic_u16(self.layout.avail + 2)
            .store(new.to_le(), Ordering::Relaxed);
        // The idx store must be ordered before reading the device's suppression state, or the
        // device could go to sleep having seen neither.
        fence(Ordering::SeqCst);
        self.kicked_idx = new;
        if self.event_idx {
            let event = self.read_u16(self.layout.used + 4 + 8 * usize::from(self.size));
            need_event(event, new, old)
        } else {
            self.read_u16(self.layout.used) & USED_F_NO_NOTIFY == 0
        }
    }

    fn used_idx(&self) -> u16 {
        u16::from_le(
            self.atomic_u16(self.layout.used + 2)
                .load(Ordering::Acquire),
        )
    }

    /// Take one element off the used ring and free its descriptors.
    pub(crate) fn pop_used(&mut self) -> Option<Result<Used, BadUsed>> {
        if self.used_idx() == self.last_used {
            return None;
        }
        let off = self.layout.used + 4 + 8 * usize::from(self.last_used & (self.size - 1));
        let id = self.read_u32(off);
        let len = self.read_u32(off + 4);
        self.last_used = self.last_used.wrapping_add(1);

        let Some(chain) = self.chains.get_mut(id as usize).filter(|c| c.in_flight) else {
            return Some(Err(BadUsed));
        };
        let c = *chain;
        chain.in_flight = false;
        self.in_flight -= 1;
        let head = id as u16;
        let mut tail = head;
        for _ in 1..c.count {
            tail = self.next[usize::from(tail)];
        }
        self.next[usize::from(tail)] = self.free_head;
        self.free_head = head;
        self.num_free += c.count;
        Some(Ok(Used {
            head,
            len,
            token: c.token,
            cap: c.cap,
        }))
    }

    /// After draining: ask for an interrupt at the next used element (EVENT_IDX) and tell
    /// whether more elements arrived meanwhile (then drain again, or a signal may be lost).
    pub(crate) fn rearm(&mut self) -> bool {
        if !self.event_idx {
            return false;
        }
        self.write_u16(
            self.layout.avail + 4 + 2 * usize::from(self.size),
            self.last_used,
        );
        fence(Ordering::SeqCst);
        self.used_idx() != self.last_used
    }
}

/// `vring_need_event`: kick if `event` lies in the window `[old, new)` of newly added entries.
pub(crate) fn need_event(event: u16, new: u16, old: u16) -> bool {
    new.wrapping_sub(event).wrapping_sub(1) < new.wrapping_sub(old)
}

#[cfg(test)]
#[path = "vring_tests.rs"]
mod tests;
