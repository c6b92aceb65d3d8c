//! The vhost-user protocol side of one VM connection: features, queues, events. What a message
//! means is the worker's business.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex};

use vhost::vhost_user::message::{VhostUserProtocolFeatures, VhostUserVirtioFeatures};
use vhost::vhost_user::Backend;
use vhost_user_backend::{VhostUserBackend, VringRwLock, VringT};
use virtio_bindings::virtio_config::{VIRTIO_F_NOTIFY_ON_EMPTY, VIRTIO_F_VERSION_1};
use virtio_bindings::virtio_ring::{VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC};
use virtio_queue::QueueT;
use vmm_sys_util::epoll::EventSet;
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};
use vmm_sys_util::timerfd::TimerFd;

use super::inband::Inband;
use super::worker::{GuestMem, VmWorker};
use crate::core::{Core, VmShared};

/// Queue indices (`enum hwsim_vqs`).
pub const TX_QUEUE: u16 = 0;
/// Device→driver queue.
pub const RX_QUEUE: u16 = 1;
/// Number of queues.
pub const NUM_QUEUES: usize = 2;
/// Largest ring we accept (UML uses 256, QEMU 64; allow room).
pub const MAX_QUEUE_SIZE: usize = 1024;
/// TX buffers processed before the VM's RX queue gets a turn.
pub const TX_BUDGET: usize = 64;
/// epoll id of the inbox eventfd (ids up to NUM_QUEUES are the library's).
pub const INBOX_EVENT: u16 = NUM_QUEUES as u16 + 1;
/// epoll id of the eventfd that ends the VM's epoll thread ([`VmBackend::stop_thread`]).
pub const STOP_EVENT: u16 = NUM_QUEUES as u16 + 2;
/// epoll id of the timer that polls the TX queue while its kicks are off
/// ([`crate::core::Limits::tx_poll`]).
pub const TX_POLL_EVENT: u16 = NUM_QUEUES as u16 + 3;

/// One VM's vhost-user backend.
///
/// Its epoll thread is ended through an eventfd of ours ([`STOP_EVENT`]) rather than the
/// library's exit event: `vhost-user-backend` 0.24 registers the consumer end of the exit event
/// with `into_raw_fd` and never closes it, one leaked descriptor per VM connection. Our eventfd
/// is closed with the backend.
pub struct VmBackend {
    vm: Arc<VmShared>,
    worker: Mutex<VmWorker>,
    /// The backend-request channel. We send nothing on it, but it must stay open for the
    /// connection's lifetime: UML treats its closing as a broken device and silently
    /// unregisters it (hwsim then falls back to its in-kernel medium).
    backend_req: Mutex<Option<Backend>>,
    stop: EventFd,
    /// The TX poll timer, when polling is on (wall-clock mode, `tx_poll` > 0).
    tx_poll: Option<Mutex<TimerFd>>,
    /// In-band notifications (virtual time only; see [`crate::vm::inband`]).
    inband: Option<Arc<Inband>>,
    core: Arc<Core>,
}

impl VmBackend {
    /// A backend for `vm`.
    pub fn new(core: Arc<Core>, vm: Arc<VmShared>) -> std::io::Result<Self> {
        Self::with_inband(core, vm, None)
    }

    /// A backend for `vm` that offers in-band notifications through `inband` (virtual time).
    pub fn with_inband(
        core: Arc<Core>,
        vm: Arc<VmShared>,
        inband: Option<Arc<Inband>>,
    ) -> std::io::Result<Self> {
        let mut worker = VmWorker::new(Arc::clone(&core), Arc::clone(&vm));
        if inband.is_some() {
            worker.notify_every_tx();
        }
        let tx_poll = if inband.is_none() && !core.limits.tx_poll.is_zero() {
            Some(Mutex::new(TimerFd::new()?))
        } else {
            None
        };
        Ok(VmBackend {
            worker: Mutex::new(worker),
            vm,
            backend_req: Mutex::new(None),
            stop: EventFd::new(EFD_NONBLOCK)?,
            tx_poll,
            inband,
            core,
        })
    }

    /// The eventfd to register, as [`STOP_EVENT`], with the VM's epoll thread.
    pub fn stop_fd(&self) -> RawFd {
        self.stop.as_raw_fd()
    }

    /// The timer to register, as [`TX_POLL_EVENT`], with the VM's epoll thread (if polling).
    pub fn tx_poll_fd(&self) -> Option<RawFd> {
        self.tx_poll
            .as_ref()
            .map(|t| t.lock().unwrap_or_else(|e| e.into_inner()).as_raw_fd())
    }

    /// Arms (or clears, `on` false) the TX poll timer.
    fn set_tx_poll(&self, on: bool) {
        let Some(timer) = &self.tx_poll else { return };
        let mut timer = timer.lock().unwrap_or_else(|e| e.into_inner());
        // A timer that cannot be set would leave the guest's kicks off for good: fall back to
        // kicks (the next drain turns them on) by firing at once.
        let result = if on {
            timer.reset(self.core.limits.tx_poll, None)
        } else {
            timer.clear()
        };
        if result.is_err() {
            let _ = timer.reset(std::time::Duration::from_nanos(1), None);
        }
    }

    /// Makes the VM's epoll thread return at its next wake-up. Call it before the handler is
    /// dropped: dropping it joins that thread.
    pub fn stop_thread(&self) {
        // A failed write means the counter is saturated: the thread is woken anyway.
        let _ = self.stop.write(1);
    }

    /// The connection has ended and its threads are joined: discards (and counts) the messages
    /// that were waiting for the guest's RX buffers, lets go of the guest's memory and closes the
    /// backend-request channel.
    pub fn retire(&self) {
        self.worker().retire();
        *self.backend_req.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The VM this backend serves.
    pub fn vm(&self) -> &Arc<VmShared> {
        &self.vm
    }

    fn worker(&self) -> std::sync::MutexGuard<'_, VmWorker> {
        // The lock is per VM (its epoll thread and its protocol thread), never shared with
        // another VM; a poisoned lock only means a previous event panicked — keep serving.
        self.worker.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl VhostUserBackend for VmBackend {
    type Bitmap = ();
    type Vring = VringRwLock<GuestMem>;

    fn num_queues(&self) -> usize {
        NUM_QUEUES
    }

    fn max_queue_size(&self) -> usize {
        MAX_QUEUE_SIZE
    }

    fn features(&self) -> u64 {
        (1 << VIRTIO_F_VERSION_1)
            | (1 << VIRTIO_F_NOTIFY_ON_EMPTY)
            | (1 << VIRTIO_RING_F_EVENT_IDX)
            | (1 << VIRTIO_RING_F_INDIRECT_DESC)
            | VhostUserVirtioFeatures::PROTOCOL_FEATURES.bits()
    }

    fn protocol_features(&self) -> VhostUserProtocolFeatures {
        // BACKEND_REQ (SLAVE_REQ) is required by UML: virtio_uml.c allocates the device's IRQ
        // only while setting up the backend request channel, and without it every vring IRQ
        // lands on IRQ 0 and the probe fails with -EBUSY. We never send on that channel.
        let base = VhostUserProtocolFeatures::MQ
            | VhostUserProtocolFeatures::REPLY_ACK
            | VhostUserProtocolFeatures::BACKEND_REQ;
        // Under time travel only: kicks and calls become messages the relay and the epoll
        // thread order against the controller (`crate::vm::inband`).
        if self.inband.is_some() {
            base | VhostUserProtocolFeatures::INBAND_NOTIFICATIONS
        } else {
            base
        }
    }

    fn acked_features(&self, features: u64) {
        tracing::debug!(vm = self.vm.id, "features acked: {features:#x}");
    }

    fn set_event_idx(&self, _enabled: bool) {
        // virtio-queue tracks EVENT_IDX per queue; the worker's loops work either way.
    }

    fn set_backend_req_fd(&self, backend: Backend) {
        *self.backend_req.lock().unwrap_or_else(|e| e.into_inner()) = Some(backend);
    }

    fn update_memory(&self, mem: GuestMem) -> std::io::Result<()> {
        self.worker().set_memory(mem);
        Ok(())
    }

    fn handle_event(
        &self,
        device_event: u16,
        evset: EventSet,
        vrings: &[Self::Vring],
        _thread_id: usize,
    ) -> std::io::Result<()> {
        tracing::trace!(vm = self.vm.id, device_event, ?evset, "event");
        if device_event == STOP_EVENT {
            // The library's event loop ends on an error from us (and ignores what it says).
            return Err(std::io::Error::other("VM connection closed"));
        }
        if evset != EventSet::IN {
            return Ok(());
        }
        let (Some(tx), Some(rx)) = (
            vrings.get(usize::from(TX_QUEUE)),
            vrings.get(usize::from(RX_QUEUE)),
        ) else {
            return Ok(());
        };
        let mut worker = self.worker();
        let mut served = None;
        match device_event {
            TX_QUEUE | TX_POLL_EVENT => {
                if device_event == TX_POLL_EVENT {
                    if let Some(timer) = &self.tx_poll {
                        // Readable: the read does not block, and clears the expiry.
                        let _ = timer.lock().unwrap_or_else(|e| e.into_inner()).wait();
                    }
                }
                if tracing::enabled!(tracing::Level::TRACE) {
                    let st = tx.get_ref();
                    let q = st.get_queue();
                    tracing::trace!(
                        vm = self.vm.id,
                        next_avail = q.next_avail(),
                        next_used = q.next_used(),
                        ready = q.ready(),
                        size = q.size(),
                        event_idx = q.event_idx_enabled(),
                        "tx kick"
                    );
                }
                while worker.process_tx(tx, TX_BUDGET) {
                    worker.flush_rx(rx);
                }
                self.set_tx_poll(worker.tx_polling());
                if self.inband.as_ref().is_some_and(|i| i.active()) {
                    // Virtual time, a guest blocked in its in-band kick (so no turn of the
                    // medium runs meanwhile): the medium clock has placed this kick's frames
                    // (and told the controller) before the kick may be answered. A frontend
                    // without in-band kicks is no participant; its frames are placed whenever
                    // the clock thread gets to them.
                    if let Some(air) = self.core.air_clock_if_started() {
                        if !air.settle(crate::vtime::SETTLE_TIMEOUT) {
                            tracing::warn!(vm = self.vm.id, "time travel: medium clock late");
                        }
                    }
                }
            }
            RX_QUEUE => {}
            INBOX_EVENT => served = Some(worker.inbox_signalled()),
            _ => return Ok(()),
        }
        worker.flush_rx(rx);
        drop(worker);
        if let Some(inband) = &self.inband {
            inband.forward_calls();
            if device_event == TX_QUEUE || device_event == RX_QUEUE {
                inband.kick_handled(usize::from(device_event));
            }
        }
        if let Some(upto) = served {
            self.vm.inbox.mark_served(upto);
        }
        // Virtual time: settle waits look at what this event changed (inbox served, TX handled,
        // RX written), the built-in AP MLD's VM included.
        if let Some(vt) = self.core.vtime() {
            vt.progress.bump();
        }
        Ok(())
    }
}
