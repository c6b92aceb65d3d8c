//! Driver-side ring logic against a hand-written device in the same process.

use super::*;

/// Ring memory plus a hand-written device side, all in one process.
struct Harness {
    mem: Vec<u128>,
    layout: Layout,
    size: u16,
    /// Device's next avail index.
    next_avail: u16,
    /// Device's used index.
    used_idx: u16,
}

impl Harness {
    fn new(size: u16) -> (Harness, SplitRing) {
        let layout = Layout::new(size);
        let mut mem = vec![0u128; layout.total.div_ceil(16)];
        // SAFETY: `mem` is zeroed, 16-aligned, large enough, and outlives the ring in every
        // test (the harness is dropped last); its heap buffer never moves.
        let ring = unsafe { SplitRing::new(mem.as_mut_ptr().cast(), size, true) };
        let h = Harness {
            mem,
            layout,
            size,
            next_avail: 0,
            used_idx: 0,
        };
        (h, ring)
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: reinterpreting the u128 buffer as bytes; no concurrent access in tests.
        unsafe { std::slice::from_raw_parts(self.mem.as_ptr().cast(), self.mem.len() * 16) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, exclusive through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.mem.as_mut_ptr().cast(), self.mem.len() * 16) }
    }

    fn u16_at(&self, off: usize) -> u16 {
        u16::from_le_bytes(self.bytes()[off..off + 2].try_into().unwrap())
    }

    fn put(&mut self, off: usize, v: &[u8]) {
        self.bytes_mut()[off..off + v.len()].copy_from_slice(v);
    }

    fn desc(&self, i: u16) -> RawDesc {
        let b = &self.bytes()[16 * usize::from(i)..][..16];
        RawDesc {
            addr: u64::from_le_bytes(b[0..8].try_into().unwrap()),
            len: u32::from_le_bytes(b[8..12].try_into().unwrap()),
            flags: u16::from_le_bytes(b[12..14].try_into().unwrap()),
            next: u16::from_le_bytes(b[14..16].try_into().unwrap()),
        }
    }

    /// Pop every available head (device side).
    fn take_avail(&mut self) -> Vec<u16> {
        let idx = self.u16_at(self.layout.avail + 2);
        let mut heads = Vec::new();
        while self.next_avail != idx {
            let pos = usize::from(self.next_avail % self.size);
            heads.push(self.u16_at(self.layout.avail + 4 + 2 * pos));
            self.next_avail = self.next_avail.wrapping_add(1);
        }
        heads
    }

    /// Device side: ask to be kicked at the next avail entry (EVENT_IDX).
    fn set_avail_event(&mut self, v: u16) {
        let off = self.layout.used + 4 + 8 * usize::from(self.size);
        self.put(off, &v.to_le_bytes());
    }

    fn push_used(&mut self, id: u32, len: u32) {
        let off = self.layout.used + 4 + 8 * usize::from(self.used_idx % self.size);
        self.put(off, &id.to_le_bytes());
        self.put(off + 4, &len.to_le_bytes());
        self.used_idx = self.used_idx.wrapping_add(1);
        let idx = self.used_idx;
        self.put(self.layout.used + 2, &idx.to_le_bytes());
    }

    fn used_event(&self) -> u16 {
        self.u16_at(self.layout.avail + 4 + 2 * usize::from(self.size))
    }
}

fn buf(token: u32) -> RawDesc {
    RawDesc {
        addr: 0x1000 * u64::from(token + 1),
        len: 100 + token,
        flags: RawDesc::WRITE,
        next: 0,
    }
}

#[test]
fn indices_wrap_and_descriptors_recycle() {
    const SIZE: u16 = 4;
    let (mut dev, mut ring) = Harness::new(SIZE);
    let mut token = 0u32;
    // 150_000 chains through a 4-entry ring: the 16-bit indices wrap twice.
    for round in 0..60_000u32 {
        let n = 1 + (round % u32::from(SIZE)) as usize;
        let mut expect = Vec::new();
        for _ in 0..n {
            let head = ring.add(&[buf(token)], token).expect("free descriptor");
            expect.push((head, token));
            token += 1;
        }
        assert_eq!(usize::from(ring.num_free()), usize::from(SIZE) - n);
        if n == usize::from(SIZE) {
            assert!(ring.add(&[buf(0)], 0).is_none(), "ring full");
        }
        dev.set_avail_event(dev.next_avail);
        assert!(
            ring.publish(),
            "device asked for a kick at the first new entry"
        );
        assert!(!ring.publish(), "nothing new: no kick");

        let heads = dev.take_avail();
        assert_eq!(heads, expect.iter().map(|e| e.0).collect::<Vec<_>>());
        for &(head, tok) in &expect {
            let d = dev.desc(head);
            assert_eq!((d.addr, d.len, d.flags), (buf(tok).addr, buf(tok).len, 2));
        }
        // Complete out of order: odd rounds in reverse.
        if round % 2 == 1 {
            expect.reverse();
        }
        for &(head, tok) in &expect {
            dev.push_used(u32::from(head), tok);
        }
        for &(head, tok) in &expect {
            let u = ring.pop_used().expect("used element").expect("valid id");
            assert_eq!((u.head, u.token, u.len, u.cap), (head, tok, tok, 100 + tok));
        }
        assert!(ring.pop_used().is_none());
        assert!(!ring.rearm());
        assert_eq!(dev.used_event(), dev.used_idx);
        assert_eq!(ring.num_free(), SIZE);
        assert_eq!(ring.in_flight(), 0);
    }
    assert!(token > 2 * 65536);
    assert_eq!(dev.next_avail, token as u16, "indices wrapped consistently");
}

#[test]
fn kicks_follow_avail_event() {
    let (mut dev, mut ring) = Harness::new(8);
    // Device wants a kick only once entry 3 is made available.
    dev.set_avail_event(3);
    for t in 0..3 {
        ring.add(&[buf(t)], t).unwrap();
        assert!(!ring.publish(), "entry {t} is before avail_event");
    }
    ring.add(&[buf(3)], 3).unwrap();
    assert!(ring.publish());
    // Two entries in one publish, event inside the window.
    dev.set_avail_event(5);
    ring.add(&[buf(4)], 4).unwrap();
    ring.add(&[buf(5)], 5).unwrap();
    assert!(ring.publish());
}

#[test]
fn rearm_reports_late_completions() {
    let (mut dev, mut ring) = Harness::new(4);
    for t in 0..2 {
        ring.add(&[buf(t)], t).unwrap();
    }
    ring.publish();
    let heads = dev.take_avail();
    dev.push_used(u32::from(heads[0]), 1);
    assert!(ring.pop_used().is_some());
    dev.push_used(u32::from(heads[1]), 1);
    assert!(
        ring.rearm(),
        "the second completion arrived before rearming"
    );
    assert!(ring.pop_used().is_some());
    assert!(!ring.rearm());
    assert_eq!(dev.used_event(), 2);
}

#[test]
fn raw_chain_links_relative_next_and_frees_whole_chain() {
    let (mut dev, mut ring) = Harness::new(8);
    let chain = [
        RawDesc {
            addr: 0x100,
            len: 10,
            flags: RawDesc::NEXT,
            next: 1,
        },
        RawDesc {
            addr: 0x200,
            len: 20,
            flags: RawDesc::NEXT | RawDesc::WRITE,
            next: 2,
        },
        RawDesc {
            addr: 0x300,
            len: 30,
            flags: RawDesc::WRITE,
            next: 999,
        },
    ];
    // Occupy a descriptor first so the chain does not start at slot 0.
    ring.add(&[buf(0)], 0).unwrap();
    let head = ring.add(&chain, RAW_TOKEN).unwrap();
    ring.publish();
    assert_eq!(dev.take_avail().len(), 2);

    let mut at = head;
    for (k, want) in chain.iter().enumerate() {
        let d = dev.desc(at);
        assert_eq!((d.addr, d.len, d.flags), (want.addr, want.len, want.flags));
        if k + 1 < chain.len() {
            at = d.next;
        } else {
            assert_eq!(d.next, 999, "out-of-chain next is written verbatim");
        }
    }
    assert_eq!(ring.num_free(), 4);
    dev.push_used(u32::from(head), 7);
    let u = ring.pop_used().unwrap().unwrap();
    assert_eq!((u.token, u.cap, u.len), (RAW_TOKEN, 50, 7));
    assert_eq!(ring.num_free(), 7);
}

#[test]
fn bogus_used_ids_are_rejected() {
    let (mut dev, mut ring) = Harness::new(4);
    let head = ring.add(&[buf(0)], 0).unwrap();
    ring.publish();
    dev.push_used(17, 0); // out of range
    dev.push_used(u32::from(head) ^ 1, 0); // in range, not in flight
    dev.push_used(u32::from(head), 0);
    dev.push_used(u32::from(head), 0); // completed twice
    assert!(ring.pop_used().unwrap().is_err());
    assert!(ring.pop_used().unwrap().is_err());
    assert!(ring.pop_used().unwrap().is_ok());
    assert!(ring.pop_used().unwrap().is_err());
    assert_eq!(ring.num_free(), 4);
}

#[test]
fn need_event_wraps() {
    assert!(need_event(0xffff, 0x0001, 0xfffe));
    assert!(need_event(0x0000, 0x0001, 0xfffe));
    assert!(!need_event(0x0001, 0x0001, 0xfffe));
    assert!(!need_event(0xfffd, 0x0001, 0xfffe));
}
