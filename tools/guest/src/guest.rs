//! The guest: two queues over shared memory, driven like `mac80211_hwsim`'s virtio code.

use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use vhost::vhost_user::Frontend;
use vhost::VhostUserMemoryRegionInfo;
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::connect::{self, VringSetup, VHOST_USER_F_PROTOCOL_FEATURES, VIRTIO_F_RING_EVENT_IDX};
use crate::memory::{GuestMemory, MEM_BASE};
use crate::vring::{Layout, SplitRing, RAW_TOKEN};
use crate::{
    memory_plan, Error, FrontendStyle, GuestConfig, GuestStats, MemoryPlan, RawCompletion, RawDesc,
    RX_QUEUE, TX_QUEUE,
};

struct Queue {
    ring: SplitRing,
    kick: EventFd,
    call: EventFd,
}

impl Queue {
    /// Publish what was added and kick if the device asked for it.
    fn publish(&mut self, stats: &mut GuestStats) -> Result<(), Error> {
        if self.ring.publish() {
            self.kick.write(1).map_err(Error::io("kick eventfd"))?;
            stats.kicks += 1;
        }
        Ok(())
    }
}

/// A connected guest. Dropping it (or [`Guest::disconnect`]) closes the socket.
pub struct Guest {
    frontend: Frontend,
    tx: Queue,
    rx: Queue,
    mem: GuestMemory,
    plan: MemoryPlan,
    queue_size: u16,
    buf_len: u32,
    features: u64,
    /// RX buffers handed to the device so far (tokens `0..rx_posted`).
    rx_posted: u16,
    /// Private copy of a received message, so callbacks never see memory the device may touch.
    bounce: Vec<u8>,
    /// Where typed messages are emitted before being copied to a TX buffer.
    tx_bounce: Vec<u8>,
    stats: GuestStats,
    raw: Vec<RawCompletion>,
}

impl Guest {
    /// Connect to the device and bring both queues up like the Linux driver, then post
    /// `cfg.rx_prefill` RX buffers and kick RX.
    pub fn connect(cfg: &GuestConfig) -> Result<Guest, Error> {
        Guest::start(cfg, || {
            connect::connect_socket(&cfg.socket, cfg.connect_timeout)
        })
    }

    /// Like [`Guest::connect`], over an already connected stream (`cfg.socket` unused): for
    /// a device in the same process that hands its frontend one end of a socket pair.
    pub fn connect_stream(cfg: &GuestConfig, stream: UnixStream) -> Result<Guest, Error> {
        Guest::start(cfg, || Ok(stream))
    }

    fn start(
        cfg: &GuestConfig,
        open: impl FnOnce() -> Result<UnixStream, Error>,
    ) -> Result<Guest, Error> {
        let size = cfg.queue_size;
        if !size.is_power_of_two() || size > 32768 {
            return Err(Error::Config(format!(
                "queue_size {size} is not a power of two ≤ 32768"
            )));
        }
        if cfg.buf_len == 0 {
            return Err(Error::Config("buf_len is 0".into()));
        }
        let plan = memory_plan(size, cfg.buf_len);
        let mem = GuestMemory::new(cfg.mem_size.max(plan.total))?;
        // The driver's skbs are never cleared: make the bytes after each message visible junk.
        mem.fill(
            MEM_BASE + plan.tx_bufs as u64,
            usize::from(size) * plan.buf_stride,
            0xA5,
        )?;

        let stream = open()?;
        let raw = stream
            .try_clone()
            .map_err(Error::io("dup vhost-user socket"))?;
        let mut frontend = connect::from_stream(stream);
        let negotiated = connect::negotiate(&mut frontend, cfg.event_idx, cfg.indirect)?;
        let features = negotiated.features;
        let event_idx = features & VIRTIO_F_RING_EVENT_IDX != 0;
        // The address space of the region's user address and of SET_VRING_ADDR.
        let user_addr = |gpa: u64| match cfg.style {
            FrontendStyle::Qemu => mem.user_addr(gpa),
            FrontendStyle::Uml => gpa,
        };
        let region = VhostUserMemoryRegionInfo {
            userspace_addr: user_addr(MEM_BASE),
            ..mem.region_info()
        };
        connect::set_mem_table(&frontend, &raw, cfg.style, negotiated.reply_ack, region)?;
        drop(raw);

        let layout = Layout::new(size);
        let mut queues = Vec::with_capacity(2);
        for index in [TX_QUEUE, RX_QUEUE] {
            let gpa = MEM_BASE + (usize::from(index) * plan.ring_stride) as u64;
            let host = mem.host_ptr(gpa, layout.total).ok_or(Error::OutOfMemory {
                addr: gpa,
                len: layout.total,
            })?;
            let new_efd = || EventFd::new(EFD_NONBLOCK).map_err(Error::io("eventfd"));
            let q = Queue {
                // SAFETY: `host` points to `layout.total` zeroed bytes of the mapping, page
                // aligned, reserved for this ring by the plan; `mem` outlives the ring (both
                // live in the returned `Guest`); `size` is a power of two (checked above).
                ring: unsafe { SplitRing::new(host, size, event_idx) },
                kick: new_efd()?,
                call: new_efd()?,
            };
            connect::setup_vring(
                &mut frontend,
                &VringSetup {
                    index: usize::from(index),
                    size,
                    desc: user_addr(gpa),
                    avail: user_addr(gpa + layout.avail as u64),
                    used: user_addr(gpa + layout.used as u64),
                    call: &q.call,
                    kick: &q.kick,
                    enable: features & VHOST_USER_F_PROTOCOL_FEATURES != 0,
                },
            )?;
            queues.push(q);
        }
        let rx = queues.pop().expect("two queues were created");
        let tx = queues.pop().expect("two queues were created");

        let mut guest = Guest {
            frontend,
            tx,
            rx,
            mem,
            plan,
            queue_size: size,
            buf_len: cfg.buf_len,
            features,
            rx_posted: 0,
            bounce: vec![0; cfg.buf_len as usize],
            tx_bounce: vec![0; cfg.buf_len as usize],
            stats: GuestStats::default(),
            raw: Vec::new(),
        };
        guest.post_rx_buffers(cfg.rx_prefill.min(size))?;
        Ok(guest)
    }

    /// Post up to `n` more of the RX buffers that were not posted at setup; returns how many.
    pub fn post_rx_buffers(&mut self, n: u16) -> Result<u16, Error> {
        let mut posted = 0;
        while posted < n && self.rx_posted < self.queue_size {
            if !self.add_rx_buffer(u32::from(self.rx_posted)) {
                break;
            }
            self.rx_posted += 1;
            posted += 1;
        }
        if posted > 0 {
            self.rx.publish(&mut self.stats)?;
        }
        Ok(posted)
    }

    fn buf_gpa(&self, base: usize, token: u32) -> u64 {
        MEM_BASE + (base + token as usize * self.plan.buf_stride) as u64
    }

    /// Make RX buffer `token` available (not yet published).
    fn add_rx_buffer(&mut self, token: u32) -> bool {
        let desc = RawDesc {
            addr: self.buf_gpa(self.plan.rx_bufs, token),
            len: self.buf_len,
            flags: RawDesc::WRITE,
            next: 0,
        };
        self.rx.ring.add(&[desc], token).is_some()
    }

    /// Queue one message on TX (not yet published).
    fn add_tx(&mut self, msg: &[u8]) -> Result<(), Error> {
        if msg.len() > self.buf_len as usize {
            return Err(Error::TooLong {
                len: msg.len(),
                buf_len: self.buf_len,
            });
        }
        // A normal TX chain uses the buffer numbered like its head descriptor.
        let Some(head) = self.tx.ring.peek_free() else {
            return Err(Error::TxRingFull);
        };
        let addr = self.buf_gpa(self.plan.tx_bufs, u32::from(head));
        self.mem.write(addr, msg)?;
        let desc = RawDesc {
            addr,
            len: self.buf_len,
            flags: 0,
            next: 0,
        };
        let added = self.tx.ring.add(&[desc], u32::from(head));
        debug_assert_eq!(added, Some(head));
        self.stats.tx_sent += 1;
        Ok(())
    }

    /// Send one message: it goes to offset 0 of a free TX buffer whose whole length is the
    /// descriptor. Never blocks: [`Error::TxRingFull`] if all TX buffers are in flight.
    pub fn send(&mut self, msg: &[u8]) -> Result<(), Error> {
        self.reclaim_tx();
        self.add_tx(msg)?;
        self.tx.publish(&mut self.stats)
    }

    /// Send the `len` bytes `fill` writes into a private buffer of `buf_len` bytes.
    pub(crate) fn send_filled(
        &mut self,
        fill: impl FnOnce(&mut [u8]) -> Result<usize, Error>,
    ) -> Result<(), Error> {
        let mut buf = std::mem::take(&mut self.tx_bounce);
        let result = fill(&mut buf).and_then(|len| self.send(&buf[..len]));
        self.tx_bounce = buf;
        result
    }

    /// Send many messages with at most one kick. Stops at the first message that does not fit
    /// (ring full); returns how many were queued. An error is returned only if none was.
    pub fn send_batch<'m>(
        &mut self,
        msgs: impl IntoIterator<Item = &'m [u8]>,
    ) -> Result<usize, Error> {
        self.reclaim_tx();
        let mut queued = 0;
        let mut failure = None;
        for msg in msgs {
            match self.add_tx(msg) {
                Ok(()) => queued += 1,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        self.tx.publish(&mut self.stats)?;
        match failure {
            Some(e) if queued == 0 => Err(e),
            _ => Ok(queued),
        }
    }

    /// Take every returned TX buffer back; returns how many normal messages completed.
    pub fn reclaim_tx(&mut self) -> usize {
        let mut done = 0;
        loop {
            while let Some(used) = self.tx.ring.pop_used() {
                match used {
                    Err(_) => self.stats.bad_used_ids += 1,
                    Ok(u) if u.token == RAW_TOKEN => {
                        self.stats.raw_completed += 1;
                        self.raw.push(RawCompletion {
                            queue: TX_QUEUE,
                            head: u.head,
                            len: u.len,
                        });
                    }
                    Ok(_) => done += 1,
                }
            }
            if !self.tx.ring.rearm() {
                break;
            }
        }
        self.stats.tx_completed += done as u64;
        done
    }

    /// TX chains the device has not returned yet (normal and raw).
    pub fn tx_in_flight(&self) -> usize {
        self.tx.ring.in_flight()
    }

    /// Deliver every received message to `f` (exactly `used.len` bytes, capped at `buf_len`),
    /// repost the buffers and kick RX once. Non-blocking; returns the number delivered.
    pub fn recv_with<F: FnMut(&[u8])>(&mut self, f: F) -> usize {
        self.recv_up_to(usize::MAX, f)
    }

    /// Like [`Guest::recv_with`] but delivers at most `max` messages.
    pub fn recv_up_to<F: FnMut(&[u8])>(&mut self, max: usize, mut f: F) -> usize {
        let mut delivered = 0;
        let mut reposted = false;
        'drain: loop {
            while delivered < max {
                let Some(used) = self.rx.ring.pop_used() else {
                    break;
                };
                let u = match used {
                    Err(_) => {
                        self.stats.bad_used_ids += 1;
                        continue;
                    }
                    Ok(u) => u,
                };
                if u.token == RAW_TOKEN {
                    if u.len > u.cap {
                        self.stats.rx_len_violations += 1;
                    }
                    self.stats.raw_completed += 1;
                    self.raw.push(RawCompletion {
                        queue: RX_QUEUE,
                        head: u.head,
                        len: u.len,
                    });
                    continue;
                }
                let len = if u.len > self.buf_len {
                    self.stats.rx_len_violations += 1;
                    self.buf_len
                } else {
                    u.len
                } as usize;
                let addr = self.buf_gpa(self.plan.rx_bufs, u.token);
                let msg = &mut self.bounce[..len];
                self.mem
                    .read(addr, msg)
                    .expect("RX buffers lie inside guest memory");
                f(msg);
                delivered += 1;
                self.stats.rx_received += 1;
                reposted |= self.add_rx_buffer(u.token);
            }
            if delivered >= max || !self.rx.ring.rearm() {
                break 'drain;
            }
        }
        if reposted {
            // A failed kick means the device is gone; the next wait/recv will show it.
            let _ = self.rx.publish(&mut self.stats);
        }
        delivered
    }

    /// Wait until the device signals either queue or `timeout` passes; clears the signals.
    /// Returns whether there was a signal.
    pub fn wait(&self, timeout: Duration) -> Result<bool, Error> {
        self.wait_also(None, timeout)
    }

    /// [`Guest::wait`], also waking when `extra` (a file descriptor of the caller's, e.g. a
    /// TAP device) becomes readable; `extra` itself is not read.
    pub fn wait_also(&self, extra: Option<RawFd>, timeout: Duration) -> Result<bool, Error> {
        let mut fds = [
            self.rx.call.as_raw_fd(),
            self.tx.call.as_raw_fd(),
            extra.unwrap_or(-1),
        ]
        .map(|fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        });
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: `fds` is a valid array of three pollfd entries for the duration of the call
        // (poll ignores entries with a negative fd).
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                return Ok(false);
            }
            return Err(Error::io("poll")(e));
        }
        for q in [&self.rx, &self.tx] {
            // Non-blocking read: clears the counter, or fails with EAGAIN if unsignalled.
            let _ = q.call.read();
        }
        Ok(rc > 0)
    }

    /// Wait up to `timeout` for one message and return a copy of it (for tests).
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Vec<u8>>, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut out = None;
            self.recv_up_to(1, |m| out = Some(m.to_vec()));
            if out.is_some() {
                return Ok(out);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            self.wait(deadline - now)?;
        }
    }

    /// Counters so far (TX completions are counted when reclaimed).
    pub fn stats(&self) -> GuestStats {
        self.stats
    }

    /// Put an arbitrary descriptor chain on the TX queue and kick. `descs[0]` is the head;
    /// a `next` below `descs.len()` is an index into `descs` (translated to the table slot),
    /// anything else is written verbatim. Nothing is validated: that is the point.
    pub fn send_raw_descriptors(&mut self, descs: &[RawDesc]) -> Result<(), Error> {
        self.reclaim_tx();
        self.add_raw(TX_QUEUE, descs)
    }

    /// Same as [`Guest::send_raw_descriptors`] on the RX queue. When the device returns such a
    /// chain it is recorded (see [`Guest::take_raw_completions`]), checked against the sum of its
    /// writable lengths, and not reposted.
    pub fn post_rx_raw(&mut self, descs: &[RawDesc]) -> Result<(), Error> {
        self.add_raw(RX_QUEUE, descs)
    }

    fn add_raw(&mut self, queue: u16, descs: &[RawDesc]) -> Result<(), Error> {
        if descs.is_empty() || descs.len() > usize::from(self.queue_size) {
            return Err(Error::BadChain("length must be 1..=queue_size"));
        }
        let (q, full) = match queue {
            TX_QUEUE => (&mut self.tx, Error::TxRingFull),
            _ => (&mut self.rx, Error::RxRingFull),
        };
        q.ring.add(descs, RAW_TOKEN).ok_or(full)?;
        q.publish(&mut self.stats)
    }

    /// Raw chains returned so far, oldest first; clears the record.
    pub fn take_raw_completions(&mut self) -> Vec<RawCompletion> {
        std::mem::take(&mut self.raw)
    }

    /// Copy `data` into guest memory (e.g. an indirect table in [`Guest::scratch`]).
    pub fn write_mem(&self, gpa: u64, data: &[u8]) -> Result<(), Error> {
        self.mem.write(gpa, data)
    }

    /// Copy guest memory into `out`.
    pub fn read_mem(&self, gpa: u64, out: &mut [u8]) -> Result<(), Error> {
        self.mem.read(gpa, out)
    }

    /// Guest physical range `(addr, len)` that the guest never uses itself.
    pub fn scratch(&self) -> (u64, u64) {
        let start = MEM_BASE + self.plan.scratch as u64;
        (start, self.mem_base() + self.mem_size() - start)
    }

    /// Guest physical address of the memory region.
    pub fn mem_base(&self) -> u64 {
        MEM_BASE
    }

    /// Size of the memory region in bytes.
    pub fn mem_size(&self) -> u64 {
        self.mem.size() as u64
    }

    /// Virtio features acked with SET_FEATURES.
    pub fn features(&self) -> u64 {
        self.features
    }

    /// Whether VIRTIO_F_RING_EVENT_IDX was negotiated.
    pub fn event_idx(&self) -> bool {
        self.features & VIRTIO_F_RING_EVENT_IDX != 0
    }

    /// Entries per queue.
    pub fn queue_size(&self) -> u16 {
        self.queue_size
    }

    /// Length of every normal buffer.
    pub fn buf_len(&self) -> u32 {
        self.buf_len
    }

    /// Free TX descriptors right now (without reclaiming).
    pub fn tx_free(&self) -> u16 {
        self.tx.ring.num_free()
    }

    /// The vhost-user connection, for tests that send further requests by hand
    /// (e.g. GET_VRING_BASE to stop a ring).
    pub fn frontend(&mut self) -> &mut Frontend {
        &mut self.frontend
    }

    /// Close the socket; the device must clean up this guest.
    pub fn disconnect(self) {
        drop(self);
    }
}

impl std::fmt::Debug for Guest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guest")
            .field("queue_size", &self.queue_size)
            .field("buf_len", &self.buf_len)
            .field("features", &format_args!("{:#x}", self.features))
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
