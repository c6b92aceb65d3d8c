//! In-band vring notifications for UML guests under time travel (`docs/time-travel.md` §6).
//!
//! With `VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS` (and BACKEND_REQ) UML creates neither kick
//! nor call eventfds: a kick is a `VRING_KICK` (35) message on the main socket that waits for
//! its reply, and the device signals used buffers with `VRING_CALL` (4) on the backend-request
//! channel, also waiting for the reply. `vhost` 0.18 handles neither, so the connection's relay
//! ([`crate::relay`]) translates them into what `vhost-user-backend` already understands:
//!
//! - before the guest enables a vring, the relay hands the library a kick and a call eventfd
//!   of ours for it (SET_VRING_KICK / SET_VRING_CALL, sent without NEED_REPLY, so the library
//!   sends no reply the guest would not expect);
//! - a VRING_KICK becomes a write to that kick eventfd; the relay then waits until the VM's
//!   epoll thread has handled it ([`Inband::kick`]), and answers only after that and after
//!   the rest of the daemon has settled ([`crate::vtime::VirtualTime::settle_rx`]);
//! - when the library signals the call eventfd, the epoll thread itself sends VRING_CALL with
//!   NEED_REPLY and waits for the reply ([`Inband::forward_calls`]), before its event counts
//!   as handled. It never runs on the thread serving the time socket.
//!
//! Without `--time-travel` none of this exists: the feature is not offered, and the relay
//! passes everything through as before.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use super::backend::NUM_QUEUES;
use crate::core::Core;
use crate::relay::InbandHooks;
use crate::vtime::SETTLE_TIMEOUT;

// The eventfd arrays below are written out for two queues.
const _: () = assert!(NUM_QUEUES == 2);

/// `VHOST_USER_PROTOCOL_F_REPLY_ACK`.
pub const PROTOCOL_F_REPLY_ACK: u64 = 1 << 3;
/// `VHOST_USER_PROTOCOL_F_BACKEND_REQ` (SLAVE_REQ).
pub const PROTOCOL_F_BACKEND_REQ: u64 = 1 << 5;
/// `VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS`.
pub const PROTOCOL_F_INBAND_NOTIFICATIONS: u64 = 1 << 14;
/// Backend → frontend request `VHOST_USER_BACKEND_VRING_CALL`.
pub const BACKEND_VRING_CALL: u32 = 4;
/// Header flags: protocol version 1, reply, need-reply.
pub const FLAG_VERSION: u32 = 0x1;
/// A reply.
pub const FLAG_REPLY: u32 = 0x4;
/// The sender waits for a reply.
pub const FLAG_NEED_REPLY: u32 = 0x8;

/// How long a VRING_CALL may wait for the guest's reply before the channel is given up.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// Counters of one connection's in-band notifications.
#[derive(Debug, Default)]
pub struct InbandCounters {
    /// VRING_CALLs sent.
    pub calls: AtomicU64,
    /// VRING_CALLs that got no proper reply (the channel is then given up).
    pub call_failures: AtomicU64,
    /// Kicks translated.
    pub kicks: AtomicU64,
    /// Kicks whose handling did not finish in time (answered anyway).
    pub kick_timeouts: AtomicU64,
    /// Kicks for a queue that does not exist (answered with an error).
    pub bad_kicks: AtomicU64,
}

impl InbandCounters {
    /// Named values, for `stats`.
    pub fn snapshot(&self) -> [(&'static str, u64); 5] {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        [
            ("inband_kicks", get(&self.kicks)),
            ("inband_kick_timeouts", get(&self.kick_timeouts)),
            ("inband_bad_kicks", get(&self.bad_kicks)),
            ("inband_calls", get(&self.calls)),
            ("inband_call_failures", get(&self.call_failures)),
        ]
    }
}

/// One VM connection's in-band state, shared by its relay and its backend.
pub struct Inband {
    kicks: [EventFd; NUM_QUEUES],
    calls: [EventFd; NUM_QUEUES],
    /// The guest acked INBAND_NOTIFICATIONS (with BACKEND_REQ).
    active: AtomicBool,
    /// The guest acked REPLY_ACK: calls carry NEED_REPLY and wait for the reply.
    reply_ack: AtomicBool,
    /// The guest is blocked in a kick: its calls wait for the kick's safe point
    /// ([`InbandLink::kick`]).
    in_kick: AtomicBool,
    /// Our copy of the backend-request channel.
    channel: Mutex<Option<UnixStream>>,
    /// Kick events the epoll thread finished, per queue.
    handled: Mutex<[u64; NUM_QUEUES]>,
    handled_changed: Condvar,
    /// Counters.
    pub counters: InbandCounters,
}

impl Inband {
    /// Fresh eventfds; nothing is active until the guest negotiates the feature.
    pub fn new() -> std::io::Result<Inband> {
        Ok(Inband {
            kicks: [EventFd::new(EFD_NONBLOCK)?, EventFd::new(EFD_NONBLOCK)?],
            calls: [EventFd::new(EFD_NONBLOCK)?, EventFd::new(EFD_NONBLOCK)?],
            active: AtomicBool::new(false),
            reply_ack: AtomicBool::new(false),
            in_kick: AtomicBool::new(false),
            channel: Mutex::new(None),
            handled: Mutex::new([0; NUM_QUEUES]),
            handled_changed: Condvar::new(),
            counters: InbandCounters::default(),
        })
    }

    /// The guest's SET_PROTOCOL_FEATURES.
    pub fn negotiated(&self, features: u64) {
        let both = PROTOCOL_F_INBAND_NOTIFICATIONS | PROTOCOL_F_BACKEND_REQ;
        self.active
            .store(features & both == both, Ordering::Release);
        self.reply_ack
            .store(features & PROTOCOL_F_REPLY_ACK != 0, Ordering::Release);
    }

    /// True once in-band notifications were negotiated.
    pub fn active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    /// Copies of queue `index`'s (call, kick) eventfds for the library; `None` for a queue
    /// that does not exist.
    pub fn vring_fds(&self, index: usize) -> Option<std::io::Result<(OwnedFd, OwnedFd)>> {
        let (call, kick) = (self.calls.get(index)?, self.kicks.get(index)?);
        Some(dup(call).and_then(|c| Ok((c, dup(kick)?))))
    }

    /// The guest's backend-request channel (SET_BACKEND_REQ_FD): we keep a copy to send
    /// VRING_CALL on; the library gets the original.
    pub fn set_channel(&self, fd: &OwnedFd) -> std::io::Result<()> {
        let stream = UnixStream::from(fd.try_clone()?);
        stream.set_read_timeout(Some(CALL_TIMEOUT))?;
        stream.set_write_timeout(Some(CALL_TIMEOUT))?;
        *self.channel.lock().unwrap_or_else(|e| e.into_inner()) = Some(stream);
        Ok(())
    }

    /// A VRING_KICK for queue `index`: wakes the library's handler for it and waits (at most
    /// `timeout`) until the epoll thread has handled it, calls included. False for a queue
    /// that does not exist.
    pub fn kick(&self, index: usize, timeout: Duration) -> bool {
        let Some(fd) = self.kicks.get(index) else {
            self.counters.bad_kicks.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        self.counters.kicks.fetch_add(1, Ordering::Relaxed);
        let mut handled = self.handled.lock().unwrap_or_else(|e| e.into_inner());
        let before = handled[index];
        // A failed write means the counter is saturated: an event is pending anyway.
        let _ = fd.write(1);
        let deadline = Instant::now() + timeout;
        while handled[index] == before {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.counters.kick_timeouts.fetch_add(1, Ordering::Relaxed);
                break;
            }
            handled = self
                .handled_changed
                .wait_timeout(handled, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// The epoll thread finished handling a kick of queue `index` (after
    /// [`Inband::forward_calls`]).
    pub fn kick_handled(&self, index: usize) {
        let mut handled = self.handled.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = handled.get_mut(index) {
            *h += 1;
        }
        drop(handled);
        self.handled_changed.notify_all();
    }

    /// Sends VRING_CALL for every queue whose call eventfd the library signalled, each waiting
    /// for the guest's reply (REPLY_ACK). Runs on the VM's epoll thread; does nothing while the
    /// guest is blocked in a kick (the kick sends them, see [`Inband::forward_calls_in_kick`]).
    pub fn forward_calls(&self) {
        if !self.active() || self.in_kick.load(Ordering::Acquire) {
            return;
        }
        self.send_signalled();
    }

    /// The kick's safe point: sends the calls that waited; true if any was sent.
    ///
    /// Why they wait: a guest blocked in a kick polls its vhost-user socket and its time socket,
    /// and reads the time socket when the poll says so (`__time_travel_wait_readable`). A call
    /// runs its interrupt handler from SIGIO in between, and that handler's GET reads every
    /// message up to its ACK. If a FREE_UNTIL was what made the poll return, the handler takes
    /// it, and the kick's read then blocks forever on an empty socket (seen with Linux 6.12).
    /// So the kicker is called only once the controller has nothing outstanding for it.
    pub fn forward_calls_in_kick(&self) -> bool {
        self.active() && self.send_signalled()
    }

    fn send_signalled(&self) -> bool {
        let mut sent = false;
        for (index, call) in self.calls.iter().enumerate() {
            if matches!(call.read(), Ok(n) if n > 0) {
                self.send_call(index as u32);
                sent = true;
            }
        }
        sent
    }

    /// True while the guest is blocked in a kick (for diagnostics).
    pub fn in_kick(&self) -> bool {
        self.in_kick.load(Ordering::Acquire)
    }

    /// The guest is (no longer) blocked in a kick.
    pub fn set_in_kick(&self, on: bool) {
        self.in_kick.store(on, Ordering::Release);
    }

    fn send_call(&self, index: u32) {
        let mut channel = self.channel.lock().unwrap_or_else(|e| e.into_inner());
        let Some(stream) = channel.as_mut() else {
            return;
        };
        self.counters.calls.fetch_add(1, Ordering::Relaxed);
        let need_reply = self.reply_ack.load(Ordering::Acquire);
        let message = call_message(index, need_reply);
        let ok = stream.write_all(&message).is_ok() && (!need_reply || read_reply(stream));
        if !ok {
            // A guest that does not answer is broken: do not make every later event wait for
            // it too. Its rings stop being signalled; the connection's end cleans up.
            self.counters.call_failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                index,
                "time travel: VRING_CALL not answered; channel given up"
            );
            *channel = None;
        }
    }
}

/// The relay's hooks for one VM connection under virtual time: a kick is answered once the
/// VM's epoll thread handled it and every VM has served what that caused (its calls answered,
/// the runner's FREE_UNTIL ACKed).
pub struct InbandLink {
    /// The connection's state.
    pub inband: Arc<Inband>,
    /// The daemon (weak: the relay must not keep it alive).
    pub core: Weak<Core>,
}

impl InbandHooks for InbandLink {
    fn negotiated(&self, features: u64) {
        self.inband.negotiated(features);
    }

    fn active(&self) -> bool {
        self.inband.active()
    }

    fn vring_fds(&self, index: usize) -> Option<std::io::Result<(OwnedFd, OwnedFd)>> {
        self.inband.vring_fds(index)
    }

    fn backend_channel(&self, fd: &OwnedFd) {
        if let Err(e) = self.inband.set_channel(fd) {
            tracing::warn!(error = %e, "time travel: cannot keep the backend-request channel");
        }
    }

    fn kick(&self, index: usize) -> bool {
        self.inband.set_in_kick(true);
        let ok = self.inband.kick(index, SETTLE_TIMEOUT);
        if ok {
            if let Some(core) = self.core.upgrade() {
                if let Some(vt) = core.vtime() {
                    // Everybody else first: their calls answered, the FREE_UNTILs their
                    // requests caused ACKed by this guest. Then this guest's own calls, with
                    // nothing else outstanding for it (see `forward_calls_in_kick`).
                    vt.settle_rx(&core);
                    while self.inband.forward_calls_in_kick() {
                        vt.settle_rx(&core);
                    }
                    // An event of this VM that ran after the last look skipped its call (it saw
                    // `in_kick`) and left it signalled: send it now, while the guest still
                    // sits in its kick, or it would wait for the VM's next event, perhaps
                    // forever (the guest idles, waiting for exactly that interrupt).
                    self.inband.set_in_kick(false);
                    if self.inband.forward_calls_in_kick() {
                        vt.settle_rx(&core);
                    }
                }
            }
        }
        self.inband.set_in_kick(false);
        ok
    }
}

/// The 20 bytes of a VRING_CALL for queue `index`: header (request, flags, size 8) and a
/// `vring_state { index, num: 0 }`.
pub fn call_message(index: u32, need_reply: bool) -> [u8; 20] {
    let flags = FLAG_VERSION | if need_reply { FLAG_NEED_REPLY } else { 0 };
    let mut m = [0u8; 20];
    m[0..4].copy_from_slice(&BACKEND_VRING_CALL.to_le_bytes());
    m[4..8].copy_from_slice(&flags.to_le_bytes());
    m[8..12].copy_from_slice(&8u32.to_le_bytes());
    m[12..16].copy_from_slice(&index.to_le_bytes());
    m
}

/// Reads the reply to a VRING_CALL: a reply header for request 4 with a u64 status of 0.
fn read_reply(stream: &mut UnixStream) -> bool {
    let mut header = [0u8; 12];
    if stream.read_exact(&mut header).is_err() {
        return false;
    }
    let word =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let (request, flags, size) = (word(0), word(4), word(8));
    if request != BACKEND_VRING_CALL || flags & FLAG_REPLY == 0 || size != 8 {
        return false;
    }
    let mut status = [0u8; 8];
    stream.read_exact(&mut status).is_ok() && u64::from_le_bytes(status) == 0
}

fn dup(fd: &EventFd) -> std::io::Result<OwnedFd> {
    // SAFETY: `fd` owns this descriptor and outlives the borrow, which only duplicates it.
    unsafe { BorrowedFd::borrow_raw(fd.as_raw_fd()) }.try_clone_to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{FromRawFd, IntoRawFd};

    fn eventfd(fd: OwnedFd) -> EventFd {
        // SAFETY: `fd` is an eventfd we own; ownership moves into the EventFd.
        unsafe { EventFd::from_raw_fd(fd.into_raw_fd()) }
    }

    fn active() -> Arc<Inband> {
        let inband = Arc::new(Inband::new().unwrap());
        inband.negotiated(
            PROTOCOL_F_INBAND_NOTIFICATIONS | PROTOCOL_F_BACKEND_REQ | PROTOCOL_F_REPLY_ACK,
        );
        inband
    }

    #[test]
    fn only_inband_with_backend_req_activates() {
        let inband = Inband::new().unwrap();
        assert!(!inband.active());
        inband.negotiated(PROTOCOL_F_INBAND_NOTIFICATIONS | PROTOCOL_F_REPLY_ACK);
        assert!(!inband.active(), "no backend channel, no in-band calls");
        inband.negotiated(PROTOCOL_F_INBAND_NOTIFICATIONS | PROTOCOL_F_BACKEND_REQ);
        assert!(inband.active());
    }

    #[test]
    fn a_signalled_call_becomes_a_vring_call_that_waits_for_its_reply() {
        let inband = active();
        let (ours, mut guest) = UnixStream::pair().unwrap();
        inband.set_channel(&OwnedFd::from(ours)).unwrap();
        let (call, _kick) = inband.vring_fds(1).unwrap().unwrap();
        // What the library does on signal_used_queue.
        eventfd(call).write(1).unwrap();
        let sender = {
            let inband = Arc::clone(&inband);
            std::thread::spawn(move || {
                inband.forward_calls();
                inband
            })
        };
        let mut got = [0u8; 20];
        guest.read_exact(&mut got).unwrap();
        assert_eq!(got, call_message(1, true));
        assert_eq!(&got[4..8], &(FLAG_VERSION | FLAG_NEED_REPLY).to_le_bytes());
        std::thread::sleep(Duration::from_millis(100));
        assert!(!sender.is_finished(), "the sender waits for the reply");
        let mut reply = [0u8; 20];
        reply[0..4].copy_from_slice(&BACKEND_VRING_CALL.to_le_bytes());
        reply[4..8].copy_from_slice(&(FLAG_VERSION | FLAG_REPLY).to_le_bytes());
        reply[8..12].copy_from_slice(&8u32.to_le_bytes());
        guest.write_all(&reply).unwrap();
        let inband = sender.join().unwrap();
        assert_eq!(inband.counters.calls.load(Ordering::Relaxed), 1);
        assert_eq!(inband.counters.call_failures.load(Ordering::Relaxed), 0);
        // Nothing signalled: nothing sent.
        inband.forward_calls();
        assert_eq!(inband.counters.calls.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn calls_wait_while_the_guest_is_in_a_kick() {
        let inband = active();
        let (ours, mut guest) = UnixStream::pair().unwrap();
        inband.set_channel(&OwnedFd::from(ours)).unwrap();
        let (call, _kick) = inband.vring_fds(0).unwrap().unwrap();
        let call = eventfd(call);
        inband.set_in_kick(true);
        call.write(1).unwrap();
        inband.forward_calls();
        assert_eq!(
            inband.counters.calls.load(Ordering::Relaxed),
            0,
            "held back"
        );
        let answer = std::thread::spawn(move || {
            let mut got = [0u8; 20];
            guest.read_exact(&mut got).unwrap();
            let mut reply = [0u8; 20];
            reply[0..4].copy_from_slice(&BACKEND_VRING_CALL.to_le_bytes());
            reply[4..8].copy_from_slice(&(FLAG_VERSION | FLAG_REPLY).to_le_bytes());
            reply[8..12].copy_from_slice(&8u32.to_le_bytes());
            guest.write_all(&reply).unwrap();
            got
        });
        assert!(inband.forward_calls_in_kick(), "sent at the safe point");
        assert_eq!(answer.join().unwrap(), call_message(0, true));
        assert!(!inband.forward_calls_in_kick(), "nothing left");
        inband.set_in_kick(false);
        assert_eq!(inband.counters.calls.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_wrong_reply_gives_the_channel_up_without_panicking() {
        let inband = active();
        let (ours, mut guest) = UnixStream::pair().unwrap();
        inband.set_channel(&OwnedFd::from(ours)).unwrap();
        let (call, _kick) = inband.vring_fds(0).unwrap().unwrap();
        let call = eventfd(call);
        call.write(1).unwrap();
        guest.write_all(&[0xff; 20]).unwrap();
        inband.forward_calls();
        assert_eq!(inband.counters.call_failures.load(Ordering::Relaxed), 1);
        // Given up: later calls are not sent (and do not wait).
        call.write(1).unwrap();
        inband.forward_calls();
        assert_eq!(inband.counters.calls.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_kick_returns_once_the_epoll_thread_handled_it() {
        let inband = active();
        let (_call, kick) = inband.vring_fds(0).unwrap().unwrap();
        let kick = eventfd(kick);
        let epoll = {
            let inband = Arc::clone(&inband);
            std::thread::spawn(move || {
                // The library's epoll thread: wait for the eventfd, handle, report.
                loop {
                    if matches!(kick.read(), Ok(n) if n > 0) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                std::thread::sleep(Duration::from_millis(100));
                inband.kick_handled(0);
            })
        };
        let t0 = Instant::now();
        assert!(inband.kick(0, Duration::from_secs(10)));
        assert!(
            t0.elapsed() >= Duration::from_millis(100),
            "waited for the handler"
        );
        epoll.join().unwrap();
        assert_eq!(inband.counters.kick_timeouts.load(Ordering::Relaxed), 0);
        // A handler that never comes: the kick gives up and counts it.
        assert!(inband.kick(1, Duration::from_millis(50)));
        assert_eq!(inband.counters.kick_timeouts.load(Ordering::Relaxed), 1);
        assert!(!inband.kick(7, Duration::from_millis(50)), "no queue 7");
        assert_eq!(inband.counters.bad_kicks.load(Ordering::Relaxed), 1);
    }
}
