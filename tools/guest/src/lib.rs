//! A vhost-user frontend that plays a Linux guest running `mac80211_hwsim` over virtio.
//!
//! The guest owns one memfd-backed memory region, two split virtqueues (0 = TX, driver→device,
//! 1 = RX, device→driver) and buffers sized like the driver's skbs. It uses them the way the
//! Linux driver does: one read-only descriptor per TX message covering the whole buffer, and a
//! full RX ring of write-only buffers that are reposted as soon as they are consumed.
//! The layout is the Linux driver's (`hwsim_virtio_*` in `mac80211_hwsim.c`); the device side
//! is described in `docs/design.md`.
//!
//! ```no_run
//! # fn main() -> Result<(), hwsim_guest::Error> {
//! use hwsim_guest::{Guest, GuestConfig};
//! let cfg = GuestConfig { socket: "/tmp/hwsim.sock".into(), ..Default::default() };
//! let mut guest = Guest::connect(&cfg)?;
//! guest.send(b"...a netlink message...")?;
//! guest.wait(std::time::Duration::from_millis(100))?;
//! guest.recv_with(|msg| println!("{} bytes", msg.len()));
//! # Ok(()) }
//! ```

mod connect;
mod error;
mod guest;
mod memory;
mod typed;
mod vring;

use std::path::PathBuf;
use std::time::Duration;

pub use error::Error;
pub use guest::Guest;
pub use memory::MEM_BASE;

/// Index of the TX queue (driver → device).
pub const TX_QUEUE: u16 = 0;
/// Index of the RX queue (device → driver).
pub const RX_QUEUE: u16 = 1;
/// `NLMSG_GOODSIZE` on x86_64 with 4 KiB pages: what the driver's skbs hold.
pub const DEFAULT_BUF_LEN: u32 = 3776;
/// Spare guest memory after the buffers, for hand-made descriptors and tables.
pub const SCRATCH_LEN: usize = 64 * 1024;

/// How to connect and how big the guest is.
#[derive(Clone, Debug)]
pub struct GuestConfig {
    /// The device's vhost-user socket.
    pub socket: PathBuf,
    /// Entries per queue; a power of two (the device may cap it at its maximum).
    pub queue_size: u16,
    /// Length of every TX and RX buffer, i.e. of every normal descriptor.
    pub buf_len: u32,
    /// Negotiate VIRTIO_F_RING_EVENT_IDX if offered.
    pub event_idx: bool,
    /// Negotiate VIRTIO_F_RING_INDIRECT_DESC if offered (only the raw helpers use it).
    pub indirect: bool,
    /// Size of guest memory; `0` (or anything too small) means "what the rings and
    /// 2 × `queue_size` buffers need, plus [`SCRATCH_LEN`]".
    pub mem_size: usize,
    /// RX buffers to post at setup (`queue_size` like Linux; fewer leaves room for
    /// [`Guest::post_rx_raw`]; the rest can be posted with [`Guest::post_rx_buffers`]).
    pub rx_prefill: u16,
    /// How long to retry while the socket does not exist or refuses connections.
    pub connect_timeout: Duration,
    /// Which frontend's way of declaring memory to copy.
    pub style: FrontendStyle,
}

/// How a frontend declares its memory to the device. Devices built on usfstl (wmediumd's
/// `-u`) work only with [`FrontendStyle::Uml`], `vhost-user-backend` alone only with
/// [`FrontendStyle::Qemu`]; vhost-hwsim takes both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FrontendStyle {
    /// As QEMU and rust-vmm frontends: SET_MEM_TABLE sized by its one region, and "user"
    /// addresses (the region's and SET_VRING_ADDR's) those of the frontend's own mapping.
    #[default]
    Qemu,
    /// As Linux's `virtio_uml`: SET_MEM_TABLE with `num` = 1 but room for two regions (the
    /// second zero), and user addresses equal to guest physical ones (UML's physical memory is
    /// mapped at its physical addresses). usfstl asserts the size and translates descriptor
    /// addresses through the user address.
    Uml,
}

impl GuestConfig {
    /// Guest memory needed for the rings and buffers of this configuration, plus scratch.
    pub fn needed_mem(&self) -> usize {
        memory_plan(self.queue_size, self.buf_len).total
    }
}

impl Default for GuestConfig {
    fn default() -> Self {
        GuestConfig {
            socket: PathBuf::new(),
            queue_size: 256,
            buf_len: DEFAULT_BUF_LEN,
            event_idx: true,
            indirect: false,
            mem_size: memory_plan(256, DEFAULT_BUF_LEN).total,
            rx_prefill: 256,
            connect_timeout: Duration::from_secs(2),
            style: FrontendStyle::Qemu,
        }
    }
}

/// A descriptor as the raw helpers write it. `addr` is a guest physical address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawDesc {
    pub addr: u64,
    pub len: u32,
    pub flags: u16,
    pub next: u16,
}

impl RawDesc {
    /// `VIRTQ_DESC_F_NEXT`
    pub const NEXT: u16 = 1;
    /// `VIRTQ_DESC_F_WRITE` (device-writable)
    pub const WRITE: u16 = 2;
    /// `VIRTQ_DESC_F_INDIRECT`
    pub const INDIRECT: u16 = 4;

    /// The 16-byte little-endian table entry (for building indirect tables with
    /// [`Guest::write_mem`]).
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0..8].copy_from_slice(&self.addr.to_le_bytes());
        b[8..12].copy_from_slice(&self.len.to_le_bytes());
        b[12..14].copy_from_slice(&self.flags.to_le_bytes());
        b[14..16].copy_from_slice(&self.next.to_le_bytes());
        b
    }
}

/// Counters of what the guest has seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestStats {
    /// Normal TX messages made available.
    pub tx_sent: u64,
    /// Normal TX messages returned by the device.
    pub tx_completed: u64,
    /// Messages received on normal RX buffers.
    pub rx_received: u64,
    /// RX used elements whose length exceeded the buffer (a device bug).
    pub rx_len_violations: u64,
    /// Kick eventfd writes (both queues).
    pub kicks: u64,
    /// Used elements with an id out of range or not in flight (a device bug).
    pub bad_used_ids: u64,
    /// Chains from the raw helpers returned by the device (see [`Guest::take_raw_completions`]).
    pub raw_completed: u64,
}

/// A raw chain the device returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawCompletion {
    /// [`TX_QUEUE`] or [`RX_QUEUE`].
    pub queue: u16,
    /// Head descriptor index of the chain.
    pub head: u16,
    /// `used.len` as the device reported it.
    pub len: u32,
}

/// Where things live in guest memory (offsets from [`MEM_BASE`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct MemoryPlan {
    /// Distance between the two rings.
    pub ring_stride: usize,
    /// Distance between two buffers.
    pub buf_stride: usize,
    pub tx_bufs: usize,
    pub rx_bufs: usize,
    pub scratch: usize,
    pub total: usize,
}

pub(crate) fn memory_plan(queue_size: u16, buf_len: u32) -> MemoryPlan {
    let n = usize::from(queue_size);
    let ring_stride = vring::Layout::new(queue_size).total.next_multiple_of(4096);
    let buf_stride = (buf_len as usize).next_multiple_of(64);
    let tx_bufs = 2 * ring_stride;
    let rx_bufs = tx_bufs + n * buf_stride;
    let scratch = (rx_bufs + n * buf_stride).next_multiple_of(4096);
    MemoryPlan {
        ring_stride,
        buf_stride,
        tx_bufs,
        rx_bufs,
        scratch,
        total: scratch + SCRATCH_LEN,
    }
}
