//! A tiny vhost-user echo device built on vhost-user-backend, for the guest's tests.
//!
//! The device pops every TX message (length from its `nlmsg_len`-style first word), returns the
//! TX buffer with used.len 0, and writes the same bytes into the next RX buffer.

use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::{self, JoinHandle};

use vhost::vhost_user::message::VhostUserProtocolFeatures;
use vhost::vhost_user::Listener;
use vhost_user_backend::{VhostUserBackendMut, VhostUserDaemon, VringRwLock, VringT};
use virtio_queue::QueueT;
use vm_memory::{Bytes, GuestAddressSpace, GuestMemoryAtomic, GuestMemoryMmap};
use vmm_sys_util::epoll::EventSet;
use vmm_sys_util::event::{
    new_event_consumer_and_notifier, EventConsumer, EventFlag, EventNotifier,
};

pub const VERSION_1: u64 = 1 << 32;
pub const EVENT_IDX: u64 = 1 << 29;
pub const PROTOCOL_FEATURES: u64 = 1 << 30;

/// Ways the echo device can be told to misbehave.
#[derive(Clone, Copy, Default)]
pub struct Quirks {
    /// Leave TX buffers on the ring (a stalled device).
    pub hold_tx: bool,
    /// Report this many bytes more than written in RX used.len (a buggy device).
    pub used_len_extra: u32,
    /// Feature bits not to offer.
    pub withhold: u64,
}

#[derive(Default)]
struct Echo {
    quirks: Quirks,
    mem: Option<GuestMemoryAtomic<GuestMemoryMmap>>,
    event_idx: bool,
    pending: VecDeque<Vec<u8>>,
}

impl Echo {
    /// Drain TX into `pending`, then move `pending` into RX buffers.
    fn pump(&mut self, vrings: &[VringRwLock]) -> io::Result<()> {
        let Some(mem) = self.mem.as_ref().map(|m| m.memory()) else {
            return Ok(());
        };
        let (tx, rx) = (&vrings[0], &vrings[1]);
        // Kicks can arrive while the other queue is still being set up.
        if !tx.get_ref().get_queue().ready() || !rx.get_ref().get_queue().ready() {
            return Ok(());
        }
        while !self.quirks.hold_tx {
            if self.event_idx {
                tx.disable_notification().map_err(io::Error::other)?;
            }
            loop {
                let chain = tx
                    .get_mut()
                    .get_queue_mut()
                    .pop_descriptor_chain(mem.clone());
                let Some(chain) = chain else { break };
                let head = chain.head_index();
                if let Some(desc) = chain.clone().find(|d| !d.is_write_only()) {
                    let mut word = [0u8; 4];
                    mem.read_slice(&mut word, desc.addr())
                        .map_err(io::Error::other)?;
                    let len = (u32::from_le_bytes(word).min(desc.len())) as usize;
                    let mut msg = vec![0u8; len];
                    mem.read_slice(&mut msg, desc.addr())
                        .map_err(io::Error::other)?;
                    self.pending.push_back(msg);
                }
                tx.add_used(head, 0).map_err(io::Error::other)?;
            }
            if tx.needs_notification().map_err(io::Error::other)? {
                tx.signal_used_queue()?;
            }
            if !self.event_idx || !tx.enable_notification().map_err(io::Error::other)? {
                break;
            }
        }
        loop {
            while let Some(msg) = self.pending.front() {
                let chain = rx
                    .get_mut()
                    .get_queue_mut()
                    .pop_descriptor_chain(mem.clone());
                let Some(chain) = chain else { break };
                let head = chain.head_index();
                let desc = chain.clone().find(|d| d.is_write_only());
                let len = match desc {
                    Some(d) if d.len() as usize >= msg.len() => {
                        mem.write_slice(msg, d.addr()).map_err(io::Error::other)?;
                        msg.len() as u32 + self.quirks.used_len_extra
                    }
                    _ => 0,
                };
                rx.add_used(head, len).map_err(io::Error::other)?;
                self.pending.pop_front();
            }
            if rx.needs_notification().map_err(io::Error::other)? {
                rx.signal_used_queue()?;
            }
            // Out of RX buffers with messages left: ask to be kicked when more are posted.
            if self.pending.is_empty()
                || !self.event_idx
                || !rx.enable_notification().map_err(io::Error::other)?
            {
                break;
            }
        }
        Ok(())
    }
}

impl VhostUserBackendMut for Echo {
    type Bitmap = ();
    type Vring = VringRwLock;

    fn num_queues(&self) -> usize {
        2
    }

    fn max_queue_size(&self) -> usize {
        256
    }

    fn features(&self) -> u64 {
        (VERSION_1 | EVENT_IDX | PROTOCOL_FEATURES) & !self.quirks.withhold
    }

    fn protocol_features(&self) -> VhostUserProtocolFeatures {
        VhostUserProtocolFeatures::REPLY_ACK | VhostUserProtocolFeatures::MQ
    }

    fn set_event_idx(&mut self, enabled: bool) {
        self.event_idx = enabled;
    }

    fn update_memory(&mut self, mem: GuestMemoryAtomic<GuestMemoryMmap>) -> io::Result<()> {
        self.mem = Some(mem);
        Ok(())
    }

    fn exit_event(&self, _thread_index: usize) -> Option<(EventConsumer, EventNotifier)> {
        // Without it the worker thread never ends and dropping the daemon hangs.
        new_event_consumer_and_notifier(EventFlag::NONBLOCK).ok()
    }

    fn handle_event(
        &mut self,
        _device_event: u16,
        _evset: EventSet,
        vrings: &[VringRwLock],
        _thread_id: usize,
    ) -> io::Result<()> {
        self.pump(vrings)
    }
}

pub fn socket_path(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("hwsim-guest-{tag}-{}-{n}.sock", std::process::id()))
}

/// Start the echo device on a fresh socket; the thread ends when the guest disconnects.
pub fn spawn_echo(path: &PathBuf, quirks: Quirks) -> JoinHandle<()> {
    let _ = std::fs::remove_file(path);
    let mut listener = Listener::new(path, true).expect("listen");
    thread::spawn(move || {
        let echo = Echo {
            quirks,
            ..Default::default()
        };
        let backend = Arc::new(RwLock::new(echo));
        let mem = GuestMemoryAtomic::new(GuestMemoryMmap::<()>::new());
        let mut daemon = VhostUserDaemon::new("echo".into(), backend, mem).expect("daemon");
        daemon.start(&mut listener).expect("start");
        // Ends with an error once the frontend hangs up; that is the normal way out here.
        let _ = daemon.wait();
    })
}

/// Message `i`: 4-byte length, 4-byte sequence number, then a pattern; 8..=3776 bytes.
pub fn message(i: u32) -> Vec<u8> {
    let len = 8 + (i as usize * 37) % (3776 - 8 + 1);
    let mut m: Vec<u8> = (0..len)
        .map(|k| (k as u32 ^ i.wrapping_mul(31)) as u8)
        .collect();
    m[..4].copy_from_slice(&(len as u32).to_le_bytes());
    m[4..8].copy_from_slice(&i.to_le_bytes());
    m
}
