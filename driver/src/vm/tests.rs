//! Queue handling without a VM: rings built by hand with `virtio_queue::mock::MockSplitQueue`
//! over plain guest memory, then the worker's TX and RX paths run and the used rings and memory
//! are checked.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use hwsim_frame::nl::{tx_flags, DeviceMessage, GuestMessage, MacAddrRepr, TxFrameRepr, TxRate};
use hwsim_frame::MacAddr;
use vhost_user_backend::{VringRwLock, VringT};
use virtio_queue::desc::split::Descriptor as SplitDescriptor;
use virtio_queue::desc::RawDescriptor;
use virtio_queue::mock::MockSplitQueue;
use vm_memory::{Bytes, GuestAddress, GuestMemoryAtomic, GuestMemoryMmap};

use super::worker::{GuestMem, VmWorker};
use crate::core::{Core, Limits};
use crate::medium::PerfectMedium;

const QSIZE: u16 = 16;
const MOCK_LAYOUT: u16 = 64;
const TX_RING: u64 = 0x0;
const RX_RING: u64 = 0x4000;
const TX_BUFS: u64 = 0x10_0000;
const RX_BUFS: u64 = 0x20_0000;
const BUF: u32 = 3776;
const WRITE: u16 = 2;

struct Rig {
    mem: &'static GuestMemoryMmap<()>,
    txq: MockSplitQueue<'static, GuestMemoryMmap<()>>,
    rxq: MockSplitQueue<'static, GuestMemoryMmap<()>>,
    worker: VmWorker,
    core: Arc<Core>,
    vm: Arc<crate::core::VmShared>,
    tx: VringRwLock<GuestMem>,
    rx: VringRwLock<GuestMem>,
    tx_next: u16,
    rx_next: u16,
}

fn vring(gm: &GuestMem, q: &MockSplitQueue<GuestMemoryMmap<()>>) -> VringRwLock<GuestMem> {
    let v = VringRwLock::new(gm.clone(), QSIZE).unwrap();
    v.set_queue_info(q.desc_table_addr().0, q.avail_addr().0, q.used_addr().0)
        .unwrap();
    v.set_queue_size(QSIZE);
    v.set_queue_ready(true);
    v.set_enabled(true);
    v
}

impl Rig {
    fn new() -> Rig {
        Rig::with_limits(Limits::default())
    }

    fn with_limits(limits: Limits) -> Rig {
        // Leaked so the mock rings (which borrow it) can live in the rig; a test's worth.
        let mem: &'static GuestMemoryMmap<()> = Box::leak(Box::new(
            GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0x40_0000)]).unwrap(),
        ));
        let gm = GuestMemoryAtomic::new(mem.clone());
        // The mock lays out its used ring too close to its avail ring (in virtio-queue 0.18 they
        // overlap from entry len/2 on), so the mock rings are laid out for MOCK_LAYOUT entries
        // while the device queue uses QSIZE: no test puts more than QSIZE entries on a ring.
        let txq = MockSplitQueue::create(mem, GuestAddress(TX_RING), MOCK_LAYOUT);
        let rxq = MockSplitQueue::create(mem, GuestAddress(RX_RING), MOCK_LAYOUT);
        let (tx, rx) = (vring(&gm, &txq), vring(&gm, &rxq));
        let core = Core::new(Arc::new(PerfectMedium::default()), limits);
        let vm = core.new_vm().unwrap();
        core.register_vm(&vm);
        let mut worker = VmWorker::new(Arc::clone(&core), Arc::clone(&vm));
        worker.set_memory(gm);
        Rig {
            mem,
            txq,
            rxq,
            worker,
            core,
            vm,
            tx,
            rx,
            tx_next: 0,
            rx_next: 0,
        }
    }

    /// Puts a message on the TX ring the way Linux does: one read-only descriptor covering a
    /// whole 3776-byte buffer whose tail is garbage.
    fn push_tx(&mut self, msg: &[u8]) {
        let addr = TX_BUFS + u64::from(self.tx_next) * 0x1000;
        self.mem
            .write_slice(&[0xa5; BUF as usize], GuestAddress(addr))
            .unwrap();
        self.mem.write_slice(msg, GuestAddress(addr)).unwrap();
        self.push_tx_desc(&[SplitDescriptor::new(addr, BUF, 0, 0)]);
    }

    fn push_tx_desc(&mut self, descs: &[SplitDescriptor]) {
        let raw: Vec<RawDescriptor> = descs.iter().map(|d| RawDescriptor::from(*d)).collect();
        self.txq.add_desc_chains(&raw, self.tx_next).unwrap();
        self.tx_next += descs.len() as u16;
    }

    fn post_rx(&mut self, len: u32, flags: u16) {
        let addr = RX_BUFS + u64::from(self.rx_next) * 0x1000;
        let d = RawDescriptor::from(SplitDescriptor::new(addr, len, flags, 0));
        self.rxq.add_desc_chains(&[d], self.rx_next).unwrap();
        self.rx_next += 1;
    }

    fn run(&mut self) {
        while self.worker.process_tx(&self.tx, 2) {
            self.worker.flush_rx(&self.rx);
        }
        self.worker.flush_rx(&self.rx);
    }

    /// (used len, message bytes) of RX used-ring entries so far.
    fn rx_used(&self) -> Vec<(u32, Vec<u8>)> {
        let q = &self.rxq;
        let n = q.used().idx().load();
        (0..n)
            .map(|i| {
                let e = q.used().ring().ref_at(usize::from(i)).unwrap().load();
                let addr = RX_BUFS + u64::from(e.id()) * 0x1000;
                let mut buf = vec![0u8; e.len() as usize];
                self.mem.read_slice(&mut buf, GuestAddress(addr)).unwrap();
                (e.len(), buf)
            })
            .collect()
    }

    /// The TX queue's call: the read end counts the device's notifications (8 bytes each).
    fn tx_call(&self) -> std::os::unix::net::UnixStream {
        let (ours, device) = std::os::unix::net::UnixStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        self.tx
            .set_call(Some(std::fs::File::from(std::os::fd::OwnedFd::from(
                device,
            ))));
        ours
    }

    /// VRING_USED_F_NO_NOTIFY in the TX used ring: the device wants no kicks.
    fn tx_kicks_off(&self) -> bool {
        let flags: u16 = self.mem.read_obj(self.txq.used_addr()).unwrap();
        flags & 1 != 0
    }

    fn tx_used(&self) -> Vec<(u32, u32)> {
        let q = &self.txq;
        let n = q.used().idx().load();
        (0..n)
            .map(|i| {
                let e = q.used().ring().ref_at(usize::from(i)).unwrap().load();
                (e.id(), e.len())
            })
            .collect()
    }
}

fn radio(i: u8) -> (MacAddr, MacAddr) {
    (
        MacAddr([0x42, 0, 0, 0, i, 0]),
        MacAddr([0x02, 0, 0, 0, i, 0]),
    )
}

fn emit(m: &GuestMessage<'_>) -> Vec<u8> {
    let mut b = vec![0u8; m.buffer_len()];
    let n = m.emit(&mut b).unwrap();
    b.truncate(n);
    b
}

fn frame_msg(from: MacAddr, frame: &[u8], cookie: u64) -> Vec<u8> {
    emit(&GuestMessage::Frame(TxFrameRepr {
        transmitter: from,
        frame,
        flags: tx_flags::REQ_TX_STATUS,
        freq: Some(2437),
        tx_info: [
            TxRate { idx: 4, count: 1 },
            TxRate::UNUSED,
            TxRate::UNUSED,
            TxRate::UNUSED,
        ],
        tx_info_flags: None,
        cookie,
    }))
}

fn data(dst: MacAddr, src: MacAddr) -> Vec<u8> {
    let mut f = vec![0x08, 0, 0, 0];
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&[0, 0, 1, 2, 3, 4]);
    f
}

#[test]
fn frame_between_radios_of_one_vm_then_status() {
    let mut rig = Rig::new();
    let (a_wire, a_vif) = radio(0);
    let (b_wire, b_vif) = radio(1);
    rig.push_tx(&emit(&GuestMessage::AddMacAddr(MacAddrRepr {
        radio: b_wire,
        addr: b_vif,
    })));
    let f = data(b_vif, a_vif);
    rig.push_tx(&frame_msg(a_wire, &f, 77));
    for _ in 0..4 {
        rig.post_rx(BUF, WRITE);
    }
    rig.run();

    // Both TX buffers returned, with length 0.
    assert_eq!(rig.tx_used(), vec![(0, 0), (1, 0)]);
    let used = rig.rx_used();
    assert_eq!(used.len(), 2, "one status and one frame");
    // Status first.
    match DeviceMessage::parse(&used[0].1).unwrap() {
        DeviceMessage::TxInfo(s) => {
            assert_eq!(s.transmitter, a_wire);
            assert_eq!(s.cookie, 77);
            assert_ne!(s.flags & tx_flags::STAT_ACK, 0);
            assert_eq!(s.tx_info[0], TxRate { idx: 4, count: 1 });
        }
        other => panic!("expected a status, got {other:?}"),
    }
    match DeviceMessage::parse(&used[1].1).unwrap() {
        DeviceMessage::Frame(r) => {
            assert_eq!(r.receiver, b_wire);
            assert_eq!(r.frame, &f[..]);
            assert_eq!(r.freq, Some(2437));
        }
        other => panic!("expected a frame, got {other:?}"),
    }
    // used.len is exactly the message length (the guest trusts it).
    for (len, msg) in &used {
        assert_eq!(*len as usize, msg.len());
        let nlmsg_len = u32::from_ne_bytes(msg[0..4].try_into().unwrap());
        assert_eq!(nlmsg_len, *len);
    }
    assert_eq!(rig.vm.counters.rx_written.load(Ordering::Relaxed), 2);
}

#[test]
fn too_small_rx_buffer_is_returned_empty_and_the_message_waits() {
    let mut rig = Rig::new();
    let (a_wire, a_vif) = radio(0);
    rig.push_tx(&frame_msg(a_wire, &data(MacAddr::BROADCAST, a_vif), 1));
    rig.post_rx(16, WRITE);
    rig.post_rx(BUF, WRITE);
    rig.run();
    let used = rig.rx_used();
    assert_eq!(used.len(), 2);
    assert_eq!(used[0].0, 0, "too small: returned with length 0");
    assert!(matches!(
        DeviceMessage::parse(&used[1].1),
        Ok(DeviceMessage::TxInfo(_))
    ));
    assert_eq!(
        rig.vm.counters.rx_buffer_too_small.load(Ordering::Relaxed),
        1
    );
}

#[test]
fn read_only_rx_buffer_is_refused() {
    let mut rig = Rig::new();
    let (a_wire, a_vif) = radio(0);
    rig.push_tx(&frame_msg(a_wire, &data(MacAddr::BROADCAST, a_vif), 1));
    rig.post_rx(BUF, 0);
    rig.run();
    let used = rig.rx_used();
    assert_eq!(used, vec![(0, vec![])]);
    assert_eq!(rig.vm.counters.rx_bad_descriptor.load(Ordering::Relaxed), 1);
    assert_eq!(
        rig.worker.backlog(),
        1,
        "the status still waits for a good buffer"
    );
    rig.post_rx(BUF, WRITE);
    rig.worker.flush_rx(&rig.rx);
    assert_eq!(rig.rx_used().len(), 2);
    assert_eq!(rig.worker.backlog(), 0);
}

#[test]
fn bad_tx_descriptors_are_returned_and_counted() {
    let mut rig = Rig::new();
    // Write-only descriptor on TX.
    rig.push_tx_desc(&[SplitDescriptor::new(TX_BUFS, 64, WRITE, 0)]);
    // Outside guest memory.
    rig.push_tx_desc(&[SplitDescriptor::new(0x1000_0000, 64, 0, 0)]);
    // Straddling the end of guest memory.
    rig.push_tx_desc(&[SplitDescriptor::new(0x40_0000 - 8, 64, 0, 0)]);
    rig.run();
    assert_eq!(rig.tx_used().len(), 3, "every chain is returned");
    assert_eq!(rig.vm.counters.tx_bad_descriptor.load(Ordering::Relaxed), 3);
    assert_eq!(rig.vm.counters.tx_frames.load(Ordering::Relaxed), 0);
}

#[test]
fn message_split_across_descriptors_is_reassembled() {
    let mut rig = Rig::new();
    let (a_wire, a_vif) = radio(0);
    let msg = frame_msg(a_wire, &data(MacAddr::BROADCAST, a_vif), 5);
    let (first, second) = msg.split_at(7);
    rig.mem.write_slice(first, GuestAddress(TX_BUFS)).unwrap();
    rig.mem
        .write_slice(second, GuestAddress(TX_BUFS + 0x1000))
        .unwrap();
    rig.push_tx_desc(&[
        SplitDescriptor::new(TX_BUFS, first.len() as u32, 1, 1),
        SplitDescriptor::new(TX_BUFS + 0x1000, 2000, 0, 0),
    ]);
    rig.post_rx(BUF, WRITE);
    rig.run();
    let used = rig.rx_used();
    match DeviceMessage::parse(&used[0].1) {
        Ok(DeviceMessage::TxInfo(s)) => assert_eq!(s.cookie, 5),
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_message_is_counted_by_name() {
    let mut rig = Rig::new();
    let (a_wire, a_vif) = radio(0);
    let mut msg = frame_msg(a_wire, &data(MacAddr::BROADCAST, a_vif), 5);
    msg[16] = 42; // unknown command
    rig.push_tx(&msg);
    rig.run();
    assert_eq!(rig.vm.counters.tx_malformed.load(Ordering::Relaxed), 1);
    assert_eq!(rig.vm.malformed.snapshot(), vec![("unknown_command", 1)]);
    assert_eq!(rig.core.routing.load().radios.len(), 0);
}

/// Counts heap allocations made by the current thread, so a test can assert that the data path
/// allocates nothing per frame once warmed up.
pub(crate) mod alloc_count {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    // SAFETY: forwards every call to the system allocator unchanged; only counts.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            COUNT.with(|c| c.set(c.get() + 1));
            // SAFETY: same contract as our caller's.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: same contract as our caller's.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
            COUNT.with(|c| c.set(c.get() + 1));
            // SAFETY: same contract as our caller's.
            unsafe { System.realloc(ptr, layout, new) }
        }
    }

    pub fn count() -> u64 {
        COUNT.with(|c| c.get())
    }
}

#[global_allocator]
static ALLOCATOR: alloc_count::Counting = alloc_count::Counting;

#[test]
fn steady_state_data_path_allocates_nothing() {
    let mut rig = Rig::new();
    let (a_wire, a_vif) = radio(0);
    let (b_wire, b_vif) = radio(1);
    rig.push_tx(&emit(&GuestMessage::AddMacAddr(MacAddrRepr {
        radio: b_wire,
        addr: b_vif,
    })));
    let unicast = frame_msg(a_wire, &data(b_vif, a_vif), 1);
    let broadcast = frame_msg(a_wire, &data(MacAddr::BROADCAST, a_vif), 2);
    // Warm up: radios and addresses learned, pool buffers allocated, thread-locals set up.
    // (The mock rings do not wrap, so 16 entries hold one warm-up and one measured round.)
    let round = |rig: &mut Rig| {
        for m in [&unicast, &broadcast, &unicast] {
            rig.push_tx(m);
        }
        for _ in 0..8 {
            rig.post_rx(BUF, WRITE);
        }
    };
    round(&mut rig);
    rig.run();
    let warm = rig.vm.counters.rx_written.load(Ordering::Relaxed);
    // The test's own ring building allocates; measure the worker alone.
    round(&mut rig);
    let before = alloc_count::count();
    rig.run();
    let allocations = alloc_count::count() - before;
    let written = rig.vm.counters.rx_written.load(Ordering::Relaxed) - warm;
    // 3 statuses, 2 unicast deliveries, 1 broadcast delivery to the other radio.
    assert_eq!(written, 6, "frames and statuses flowed");
    assert_eq!(
        allocations, 0,
        "the TX→RX path allocated {allocations} times for 3 frames"
    );
}

#[test]
fn mutated_messages_never_panic_and_every_accepted_frame_gets_one_status() {
    let (a_wire, a_vif) = radio(0);
    let (_, b_vif) = radio(1);
    let base = [
        frame_msg(a_wire, &data(b_vif, a_vif), 1),
        frame_msg(a_wire, &data(MacAddr::BROADCAST, a_vif), 2),
        emit(&GuestMessage::AddMacAddr(MacAddrRepr {
            radio: a_wire,
            addr: a_vif,
        })),
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..40 {
        let mut rig = Rig::new();
        let mut sent_frames = 0u64;
        for _ in 0..QSIZE {
            let mut m = base[(next() % 3) as usize].clone();
            match next() % 4 {
                0 => {
                    // Flip a few bytes anywhere, header included.
                    for _ in 0..(next() % 4 + 1) {
                        let i = (next() as usize) % m.len();
                        m[i] ^= (next() % 255 + 1) as u8;
                    }
                }
                1 => m.truncate((next() as usize) % m.len()),
                2 => {
                    let i = 20 + (next() as usize) % (m.len() - 20);
                    m[i] = 0xff;
                }
                _ => {}
            }
            // The device sees the guest's whole buffer: the message, then 0xa5 filler. A
            // truncated message can become valid again with filler bytes, so judge the bytes the
            // device will read.
            let mut seen = m.clone();
            seen.resize(BUF as usize, 0xa5);
            if matches!(GuestMessage::parse(&seen), Ok(GuestMessage::Frame(_))) {
                sent_frames += 1;
            }
            rig.push_tx(&m);
        }
        for _ in 0..QSIZE {
            rig.post_rx(BUF, WRITE);
        }
        rig.run();
        let statuses = rig
            .rx_used()
            .iter()
            .filter(|(_, m)| matches!(DeviceMessage::parse(m), Ok(DeviceMessage::TxInfo(_))))
            .count() as u64;
        let queued = rig.vm.counters.tx_status_queued.load(Ordering::Relaxed);
        assert_eq!(
            queued,
            sent_frames,
            "one status per accepted frame: {:?} {:?}",
            rig.vm
                .counters
                .snapshot()
                .into_iter()
                .filter(|(_, v)| *v > 0)
                .collect::<Vec<_>>(),
            rig.vm.malformed.snapshot()
        );
        // Statuses are written before deliveries and there are as many RX buffers as messages.
        assert_eq!(statuses, queued, "every status written");
        assert_eq!(
            rig.tx_used().len(),
            usize::from(QSIZE),
            "every TX buffer returned"
        );
    }
}

/// Notifications read so far from a call socket.
fn notifications(call: &mut std::os::unix::net::UnixStream) -> usize {
    use std::io::Read;
    let mut buf = [0u8; 64];
    let mut n = 0;
    while let Ok(len) = call.read(&mut buf) {
        if len == 0 {
            break;
        }
        n += len;
    }
    n / 8
}

#[test]
fn tx_completions_are_notified_in_batches_of_at_most_a_quarter_ring() {
    // Asked for 32, but QSIZE 16 caps the batch at 4.
    let mut rig = Rig::with_limits(Limits {
        tx_call_batch: 32,
        ..Limits::default()
    });
    let mut call = rig.tx_call();
    let (a_wire, a_vif) = radio(0);
    let f = data(radio(1).1, a_vif);
    for _ in 0..8 {
        rig.post_rx(BUF, WRITE);
    }
    for cookie in 0..3 {
        rig.push_tx(&frame_msg(a_wire, &f, cookie));
        rig.run();
    }
    assert_eq!(rig.tx_used().len(), 3, "every buffer returned at once");
    assert_eq!(
        notifications(&mut call),
        0,
        "3 < 4 returned: not yet notified"
    );
    rig.push_tx(&frame_msg(a_wire, &f, 3));
    rig.run();
    assert_eq!(
        notifications(&mut call),
        1,
        "the 4th makes one notification"
    );
    rig.push_tx(&frame_msg(a_wire, &f, 4));
    rig.run();
    assert_eq!(notifications(&mut call), 0, "the count starts again");
}

#[test]
fn tx_completions_are_notified_after_every_drain_by_default() {
    let mut rig = Rig::new();
    let mut call = rig.tx_call();
    let (a_wire, a_vif) = radio(0);
    let f = data(radio(1).1, a_vif);
    for _ in 0..4 {
        rig.post_rx(BUF, WRITE);
    }
    for cookie in 0..2 {
        rig.push_tx(&frame_msg(a_wire, &f, cookie));
        rig.run();
        assert_eq!(notifications(&mut call), 1);
    }
}

#[test]
fn tx_polling_keeps_kicks_off_while_buffers_come_and_turns_them_on_when_idle() {
    let mut rig = Rig::with_limits(Limits {
        tx_poll: std::time::Duration::from_micros(100),
        ..Limits::default()
    });
    let (a_wire, a_vif) = radio(0);
    let f = data(radio(1).1, a_vif);
    for _ in 0..4 {
        rig.post_rx(BUF, WRITE);
    }
    assert!(!rig.worker.process_tx(&rig.tx, 64));
    assert!(!rig.worker.tx_polling(), "an empty queue: no polling");
    assert!(!rig.tx_kicks_off());

    rig.push_tx(&frame_msg(a_wire, &f, 1));
    rig.run();
    assert_eq!(rig.tx_used().len(), 1);
    assert!(rig.worker.tx_polling(), "buffers found: poll again");
    assert!(rig.tx_kicks_off(), "and the guest is asked not to kick");

    // A buffer added meanwhile is picked up by the poll.
    rig.push_tx(&frame_msg(a_wire, &f, 2));
    rig.run();
    assert_eq!(rig.tx_used().len(), 2);
    assert!(rig.worker.tx_polling());

    // A poll that finds nothing turns kicks back on.
    rig.run();
    assert!(!rig.worker.tx_polling());
    assert!(!rig.tx_kicks_off());
}
