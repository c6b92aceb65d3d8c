//! A relay between a VM's vhost-user connection and its handler that evens out frontend quirks
//! the `vhost` crate rejects.
//!
//! UML's frontend (`arch/um/drivers/virtio_uml.c`) always declares room for two memory regions
//! in SET_MEM_TABLE (`header.size` = 8 + 2 × 32) even when `num` is 1; `vhost` requires the
//! size to match `num` exactly and drops the connection ("invalid message"). The relay trims the
//! payload to what `num` says. Everything else passes through unchanged, file descriptors
//! included. Only the control channel goes through here: the data path is shared memory and
//! eventfds, so the relay costs nothing per frame.
//!
//! Under time travel the relay also carries the guest's in-band notifications
//! ([`InbandHooks`], [`crate::vm::inband`]): it learns the negotiated protocol features and the
//! backend-request channel as they pass, gives the library eventfds of ours for each vring
//! before the guest enables it, and answers VRING_KICK itself once the kick has been handled.
//! Then every kick is a round trip through this thread (a few µs, no allocation: the thread
//! reads every message into the same buffers); without time travel nothing of this runs.

use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

/// vhost-user message header: request, flags, size (all u32, little-endian on x86).
const HEADER_LEN: usize = 12;
/// Largest payload we relay (the protocol's own limit is 4 KiB plus config space).
const MAX_PAYLOAD: usize = 64 * 1024;
/// Most file descriptors one message carries (SET_MEM_TABLE: one per region, ≤ 8).
const MAX_FDS: usize = 16;
const SET_MEM_TABLE: u32 = 5;
const SET_VRING_KICK: u32 = 12;
const SET_VRING_CALL: u32 = 13;
const SET_PROTOCOL_FEATURES: u32 = 16;
const SET_VRING_ENABLE: u32 = 18;
const SET_BACKEND_REQ_FD: u32 = 21;
const VRING_KICK: u32 = 35;
const FLAG_VERSION: u32 = 0x1;
const FLAG_REPLY: u32 = 0x4;
const FLAG_NEED_REPLY: u32 = 0x8;
/// Vrings the relay tracks for in-band notifications (hwsim has 2).
const MAX_VRINGS: usize = 8;
const MEM_REGION_LEN: usize = 32;
const MEM_TABLE_HEADER_LEN: usize = 8;

/// One message and the descriptors that came with it. A relay thread reads every message into
/// the same one, so its buffers are allocated once, not per message (under time travel every
/// frame's kick is a message).
struct Message {
    header: [u8; HEADER_LEN],
    payload: Vec<u8>,
    fds: Vec<OwnedFd>,
    /// Room for the descriptors' control message, when reading.
    cmsg: Vec<u8>,
}

impl Message {
    fn request(&self) -> u32 {
        u32::from_le_bytes([
            self.header[0],
            self.header[1],
            self.header[2],
            self.header[3],
        ])
    }

    fn flags(&self) -> u32 {
        u32::from_le_bytes([
            self.header[4],
            self.header[5],
            self.header[6],
            self.header[7],
        ])
    }

    fn set_size(&mut self, size: usize) {
        self.header[8..12].copy_from_slice(&(size as u32).to_le_bytes());
    }

    /// The payload's first u64 (features, or a vring index with flags), or its first u32
    /// widened (a `vring_state`'s index); `None` if it is shorter.
    fn u64_at_start(&self) -> Option<u64> {
        let b = self.payload.get(..8)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }

    fn u32_at_start(&self) -> Option<u32> {
        let b = self.payload.get(..4)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }

    /// A message to read into.
    fn empty() -> Message {
        Message {
            header: [0; HEADER_LEN],
            payload: Vec::new(),
            fds: Vec::new(),
            cmsg: nix::cmsg_space!([RawFd; MAX_FDS]),
        }
    }

    fn new(request: u32, flags: u32, payload: Vec<u8>, fds: Vec<OwnedFd>) -> Message {
        Message {
            header: header(request, flags, payload.len()),
            payload,
            fds,
            cmsg: Vec::new(),
        }
    }
}

/// A message header.
fn header(request: u32, flags: u32, size: usize) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(&request.to_le_bytes());
    h[4..8].copy_from_slice(&flags.to_le_bytes());
    h[8..12].copy_from_slice(&(size as u32).to_le_bytes());
    h
}

/// What the relay asks of the connection for in-band notifications (time travel).
pub trait InbandHooks: Send + Sync {
    /// The guest's SET_PROTOCOL_FEATURES, as it passes.
    fn negotiated(&self, features: u64);
    /// True once in-band notifications were negotiated.
    fn active(&self) -> bool;
    /// The (call, kick) eventfds to give the library for vring `index`.
    fn vring_fds(&self, index: usize) -> Option<std::io::Result<(OwnedFd, OwnedFd)>>;
    /// The guest's backend-request channel, as it passes (the library gets it too).
    fn backend_channel(&self, fd: &OwnedFd);
    /// A VRING_KICK for vring `index`: returns when the kick may be answered; false for a
    /// vring that does not exist (answered with an error).
    fn kick(&self, index: usize) -> bool;
}

/// Reads one message into `m` (its buffers reused); `Ok(false)` on a clean end of stream.
fn read_message(sock: &mut UnixStream, m: &mut Message) -> std::io::Result<bool> {
    m.fds.clear();
    let mut got = 0;
    if m.cmsg.capacity() == 0 {
        m.cmsg = nix::cmsg_space!([RawFd; MAX_FDS]);
    }
    while got < HEADER_LEN {
        let mut iov = [IoSliceMut::new(&mut m.header[got..])];
        let msg = recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut m.cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .map_err(std::io::Error::from)?;
        if msg.bytes == 0 {
            return Ok(false);
        }
        got += msg.bytes;
        for c in msg.cmsgs().map_err(std::io::Error::from)? {
            if let ControlMessageOwned::ScmRights(list) = c {
                for fd in list {
                    // SAFETY: the kernel just installed `fd` in our table for this message; we
                    // are its only owner.
                    m.fds
                        .push(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) });
                }
            }
        }
    }
    let h = &m.header;
    let size = u32::from_le_bytes([h[8], h[9], h[10], h[11]]) as usize;
    if size > MAX_PAYLOAD {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("vhost-user payload of {size} bytes"),
        ));
    }
    m.payload.clear();
    m.payload.resize(size, 0);
    sock.read_exact(&mut m.payload)?;
    Ok(true)
}

fn write_message(sock: &mut UnixStream, m: &Message) -> std::io::Result<()> {
    write_parts(sock, &m.header, &m.payload, &m.fds)
}

/// Writes a header, its payload and descriptors without allocating.
fn write_parts(
    sock: &mut UnixStream,
    header: &[u8; HEADER_LEN],
    payload: &[u8],
    fds: &[OwnedFd],
) -> std::io::Result<()> {
    let mut raw = [0 as RawFd; MAX_FDS];
    let Some(raw) = raw.get_mut(..fds.len()) else {
        // More than one message may carry (read_message can gather more over several
        // reads): such a frontend is broken, and the connection ends here.
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} descriptors with one vhost-user message", fds.len()),
        ));
    };
    for (r, f) in raw.iter_mut().zip(fds) {
        *r = f.as_raw_fd();
    }
    let iov = [IoSlice::new(header), IoSlice::new(payload)];
    let cmsg = [ControlMessage::ScmRights(raw)];
    let cmsgs: &[ControlMessage<'_>] = if raw.is_empty() { &[] } else { &cmsg };
    let mut skip = sendmsg::<()>(sock.as_raw_fd(), &iov, cmsgs, MsgFlags::empty(), None)
        .map_err(std::io::Error::from)?;
    // The descriptors went with the first byte; the rest is plain data.
    for part in [&header[..], payload] {
        if skip >= part.len() {
            skip -= part.len();
            continue;
        }
        sock.write_all(&part[skip..])?;
        skip = 0;
    }
    Ok(())
}

/// Applies the fix-ups for frontend → backend messages.
fn normalize(m: &mut Message) {
    if m.request() == SET_MEM_TABLE && m.payload.len() >= MEM_TABLE_HEADER_LEN {
        let num =
            u32::from_le_bytes([m.payload[0], m.payload[1], m.payload[2], m.payload[3]]) as usize;
        let exact = MEM_TABLE_HEADER_LEN + num.saturating_mul(MEM_REGION_LEN);
        if exact < m.payload.len() {
            m.payload.truncate(exact);
            m.set_size(exact);
        }
    }
}

/// The relay's in-band state for one connection.
struct Inband {
    hooks: Arc<dyn InbandHooks>,
    /// Vrings whose eventfds the library already has.
    given: [bool; MAX_VRINGS],
}

impl Inband {
    /// Handles `m` if it is in-band business; true if it still goes to the handler, after
    /// writing whatever must precede it to `handler` and whatever answers it to `vm`.
    fn intercept(
        &mut self,
        m: &Message,
        handler: &mut UnixStream,
        vm: &Mutex<UnixStream>,
    ) -> std::io::Result<bool> {
        match m.request() {
            SET_PROTOCOL_FEATURES => {
                if let Some(f) = m.u64_at_start() {
                    self.hooks.negotiated(f);
                }
            }
            SET_BACKEND_REQ_FD => {
                if let Some(fd) = m.fds.first() {
                    self.hooks.backend_channel(fd);
                }
            }
            SET_VRING_ENABLE if self.hooks.active() => {
                let index = m.u32_at_start().map_or(usize::MAX, |i| i as usize);
                if index < MAX_VRINGS && !self.given[index] {
                    if let Some(fds) = self.hooks.vring_fds(index) {
                        let (call, kick) = fds?;
                        // No NEED_REPLY: the library answers nothing the guest would not
                        // expect. The call fd first: the kick fd starts the vring.
                        let payload = (index as u64).to_le_bytes().to_vec();
                        let set_call =
                            Message::new(SET_VRING_CALL, FLAG_VERSION, payload.clone(), vec![call]);
                        write_message(handler, &set_call)?;
                        let set_kick =
                            Message::new(SET_VRING_KICK, FLAG_VERSION, payload, vec![kick]);
                        write_message(handler, &set_kick)?;
                        self.given[index] = true;
                    }
                }
            }
            VRING_KICK if self.hooks.active() => {
                let ok = m
                    .u32_at_start()
                    .is_some_and(|index| self.hooks.kick(index as usize));
                if m.flags() & FLAG_NEED_REPLY != 0 {
                    let status: u64 = if ok { 0 } else { 1 };
                    let header = header(VRING_KICK, FLAG_VERSION | FLAG_REPLY, 8);
                    let mut vm = vm.lock().unwrap_or_else(|e| e.into_inner());
                    write_parts(&mut vm, &header, &status.to_le_bytes(), &[])?;
                }
                return Ok(false);
            }
            _ => {}
        }
        Ok(true)
    }
}

/// Copies messages from the frontend to the handler, normalizing them and (with `inband`)
/// handling in-band notifications; shuts both down at the end.
fn pump_in(
    mut from: UnixStream,
    mut to: UnixStream,
    vm: Arc<Mutex<UnixStream>>,
    mut inband: Option<Inband>,
) {
    let mut m = Message::empty();
    while let Ok(true) = read_message(&mut from, &mut m) {
        normalize(&mut m);
        let forward = match inband.as_mut() {
            Some(i) => match i.intercept(&m, &mut to, &vm) {
                Ok(forward) => forward,
                Err(_) => break,
            },
            None => true,
        };
        if forward && write_message(&mut to, &m).is_err() {
            break;
        }
    }
    let _ = from.shutdown(std::net::Shutdown::Both);
    let _ = to.shutdown(std::net::Shutdown::Both);
}

/// Copies the handler's replies to the frontend; shuts both down at the end.
fn pump_out(mut from: UnixStream, to: Arc<Mutex<UnixStream>>) {
    let mut m = Message::empty();
    while let Ok(true) = read_message(&mut from, &mut m) {
        let mut vm = to.lock().unwrap_or_else(|e| e.into_inner());
        if write_message(&mut vm, &m).is_err() {
            break;
        }
    }
    let _ = from.shutdown(std::net::Shutdown::Both);
    let vm = to.lock().unwrap_or_else(|e| e.into_inner());
    let _ = vm.shutdown(std::net::Shutdown::Both);
}

/// Relays between `vm` (the frontend's connection) and `handler` (our backend's end) on two
/// threads until either side closes.
pub fn spawn(vm: UnixStream, handler: UnixStream, name: &str) -> std::io::Result<()> {
    spawn_with(vm, handler, name, None)
}

/// [`spawn`], with in-band notifications handled through `hooks` if the guest negotiates them.
pub fn spawn_with(
    vm: UnixStream,
    handler: UnixStream,
    name: &str,
    hooks: Option<Arc<dyn InbandHooks>>,
) -> std::io::Result<()> {
    let (vm_out, handler2) = (Arc::new(Mutex::new(vm.try_clone()?)), handler.try_clone()?);
    let inband = hooks.map(|hooks| Inband {
        hooks,
        given: [false; MAX_VRINGS],
    });
    let vm_for_in = Arc::clone(&vm_out);
    std::thread::Builder::new()
        .name(format!("{name}-relay-in"))
        .spawn(move || pump_in(vm, handler, vm_for_in, inband))?;
    std::thread::Builder::new()
        .name(format!("{name}-relay-out"))
        .spawn(move || pump_out(handler2, vm_out))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One message read from `sock`, `None` at its end.
    fn read_one(sock: &mut UnixStream) -> std::io::Result<Option<Message>> {
        let mut m = Message::empty();
        Ok(read_message(sock, &mut m)?.then_some(m))
    }

    fn msg(request: u32, payload: Vec<u8>) -> Message {
        Message::new(request, 1, payload, Vec::new())
    }

    #[test]
    fn uml_mem_table_is_trimmed_to_its_region_count() {
        // num = 1, padding, then room for two regions: what virtio_uml.c sends.
        let mut p = vec![0u8; 8 + 2 * 32];
        p[0] = 1;
        p[8..16].copy_from_slice(&0x851000u64.to_le_bytes());
        let mut m = msg(SET_MEM_TABLE, p.clone());
        normalize(&mut m);
        assert_eq!(m.payload.len(), 40);
        assert_eq!(&m.header[8..12], &40u32.to_le_bytes());
        assert_eq!(&m.payload[..], &p[..40]);
    }

    #[test]
    fn exact_mem_table_and_other_messages_pass_unchanged() {
        let mut p = vec![0u8; 8 + 2 * 32];
        p[0] = 2;
        let mut m = msg(SET_MEM_TABLE, p.clone());
        normalize(&mut m);
        assert_eq!(m.payload, p);
        // A lying num larger than the payload is left for the handler to reject.
        let mut q = vec![0u8; 8 + 32];
        q[0] = 3;
        let mut m = msg(SET_MEM_TABLE, q.clone());
        normalize(&mut m);
        assert_eq!(m.payload, q);
        let mut m = msg(1, vec![]);
        normalize(&mut m);
        assert!(m.payload.is_empty());
    }

    #[test]
    fn messages_and_descriptors_cross_the_relay() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let (c, mut d) = UnixStream::pair().unwrap();
        spawn(b, c, "test").unwrap();
        let file = std::fs::File::open("/dev/null").unwrap();
        let mut p = vec![0u8; 8 + 2 * 32];
        p[0] = 1;
        let mut m = msg(SET_MEM_TABLE, p);
        m.fds.push(OwnedFd::from(file));
        write_message(&mut a, &m).unwrap();
        let got = read_one(&mut d).unwrap().unwrap();
        assert_eq!(got.request(), SET_MEM_TABLE);
        assert_eq!(got.payload.len(), 40, "trimmed on the way in");
        assert_eq!(got.fds.len(), 1, "the region's fd went along");
        // Replies travel back unchanged.
        write_message(&mut d, &msg(1, 0x1234u64.to_le_bytes().to_vec())).unwrap();
        let back = read_one(&mut a).unwrap().unwrap();
        assert_eq!(back.payload, 0x1234u64.to_le_bytes());
        drop(a);
        assert!(
            read_one(&mut d).unwrap().is_none(),
            "closing one side closes the other"
        );
    }

    /// Hooks that record what the relay told them; kicks block until the test releases them.
    struct FakeHooks {
        negotiated: Mutex<Option<u64>>,
        channel: Mutex<bool>,
        release: Mutex<std::sync::mpsc::Receiver<()>>,
        kicked: Mutex<Vec<usize>>,
    }

    impl InbandHooks for FakeHooks {
        fn negotiated(&self, features: u64) {
            *self.negotiated.lock().unwrap() = Some(features);
        }
        fn active(&self) -> bool {
            self.negotiated
                .lock()
                .unwrap()
                .is_some_and(|f| f & (1 << 14) != 0)
        }
        fn vring_fds(&self, index: usize) -> Option<std::io::Result<(OwnedFd, OwnedFd)>> {
            (index < 2).then(|| {
                let a = std::fs::File::open("/dev/null")?;
                let b = std::fs::File::open("/dev/null")?;
                Ok((OwnedFd::from(a), OwnedFd::from(b)))
            })
        }
        fn backend_channel(&self, _fd: &OwnedFd) {
            *self.channel.lock().unwrap() = true;
        }
        fn kick(&self, index: usize) -> bool {
            self.kicked.lock().unwrap().push(index);
            let _ = self.release.lock().unwrap().recv();
            index < 2
        }
    }

    fn with_flags(request: u32, flags: u32, payload: Vec<u8>) -> Message {
        Message::new(request, flags, payload, Vec::new())
    }

    fn vring_state(index: u32, num: u32) -> Vec<u8> {
        let mut p = index.to_le_bytes().to_vec();
        p.extend_from_slice(&num.to_le_bytes());
        p
    }

    #[test]
    fn in_band_kicks_are_answered_by_the_relay_after_the_hook_and_vrings_get_our_eventfds() {
        let (mut guest, b) = UnixStream::pair().unwrap();
        let (c, mut handler) = UnixStream::pair().unwrap();
        let (release, rx) = std::sync::mpsc::channel();
        let hooks = Arc::new(FakeHooks {
            negotiated: Mutex::new(None),
            channel: Mutex::new(false),
            release: Mutex::new(rx),
            kicked: Mutex::new(Vec::new()),
        });
        spawn_with(b, c, "test", Some(hooks.clone() as Arc<dyn InbandHooks>)).unwrap();

        let features: u64 = (1 << 14) | (1 << 5) | (1 << 3);
        write_message(
            &mut guest,
            &with_flags(SET_PROTOCOL_FEATURES, 0x9, features.to_le_bytes().to_vec()),
        )
        .unwrap();
        let got = read_one(&mut handler).unwrap().unwrap();
        assert_eq!(got.request(), SET_PROTOCOL_FEATURES, "passed on");
        assert_eq!(*hooks.negotiated.lock().unwrap(), Some(features));

        let mut req = with_flags(SET_BACKEND_REQ_FD, 0x9, Vec::new());
        req.fds
            .push(OwnedFd::from(std::fs::File::open("/dev/null").unwrap()));
        write_message(&mut guest, &req).unwrap();
        let got = read_one(&mut handler).unwrap().unwrap();
        assert_eq!((got.request(), got.fds.len()), (SET_BACKEND_REQ_FD, 1));
        assert!(*hooks.channel.lock().unwrap());

        // Enabling vring 1: the library first gets our call and kick fds, without NEED_REPLY.
        write_message(
            &mut guest,
            &with_flags(SET_VRING_ENABLE, 0x9, vring_state(1, 1)),
        )
        .unwrap();
        for want in [SET_VRING_CALL, SET_VRING_KICK] {
            let got = read_one(&mut handler).unwrap().unwrap();
            assert_eq!(got.request(), want);
            assert_eq!(got.flags(), FLAG_VERSION, "no reply asked for");
            assert_eq!(got.u64_at_start(), Some(1));
            assert_eq!(got.fds.len(), 1);
        }
        assert_eq!(
            read_one(&mut handler).unwrap().unwrap().request(),
            SET_VRING_ENABLE
        );
        // Only once per vring.
        write_message(
            &mut guest,
            &with_flags(SET_VRING_ENABLE, 0x9, vring_state(1, 1)),
        )
        .unwrap();
        assert_eq!(
            read_one(&mut handler).unwrap().unwrap().request(),
            SET_VRING_ENABLE
        );

        // A kick is not passed on; its reply waits for the hook.
        write_message(&mut guest, &with_flags(VRING_KICK, 0x9, vring_state(0, 0))).unwrap();
        guest
            .set_read_timeout(Some(std::time::Duration::from_millis(200)))
            .unwrap();
        let mut byte = [0u8; 1];
        assert!(
            guest.read(&mut byte).is_err(),
            "no reply before the kick was handled"
        );
        release.send(()).unwrap();
        guest.set_read_timeout(None).unwrap();
        let reply = read_one(&mut guest).unwrap().unwrap();
        assert_eq!(reply.request(), VRING_KICK);
        assert_eq!(reply.flags(), FLAG_VERSION | FLAG_REPLY);
        assert_eq!(reply.u64_at_start(), Some(0));
        // A kick for a vring that does not exist is answered with an error.
        write_message(&mut guest, &with_flags(VRING_KICK, 0x9, vring_state(9, 0))).unwrap();
        release.send(()).unwrap();
        assert_eq!(
            read_one(&mut guest).unwrap().unwrap().u64_at_start(),
            Some(1)
        );
        assert_eq!(*hooks.kicked.lock().unwrap(), vec![0, 9]);
        // Nothing of the kicks reached the handler: the next message is the guest's next one.
        write_message(&mut guest, &with_flags(1, 0x1, Vec::new())).unwrap();
        assert_eq!(read_one(&mut handler).unwrap().unwrap().request(), 1);
    }

    #[test]
    fn without_in_band_negotiated_kicks_and_enables_pass_unchanged() {
        let (mut guest, b) = UnixStream::pair().unwrap();
        let (c, mut handler) = UnixStream::pair().unwrap();
        let (_release, rx) = std::sync::mpsc::channel();
        let hooks = Arc::new(FakeHooks {
            negotiated: Mutex::new(None),
            channel: Mutex::new(false),
            release: Mutex::new(rx),
            kicked: Mutex::new(Vec::new()),
        });
        spawn_with(b, c, "test", Some(hooks.clone() as Arc<dyn InbandHooks>)).unwrap();
        write_message(
            &mut guest,
            &with_flags(
                SET_PROTOCOL_FEATURES,
                0x9,
                (1u64 << 3).to_le_bytes().to_vec(),
            ),
        )
        .unwrap();
        read_one(&mut handler).unwrap().unwrap();
        write_message(
            &mut guest,
            &with_flags(SET_VRING_ENABLE, 0x9, vring_state(0, 1)),
        )
        .unwrap();
        assert_eq!(
            read_one(&mut handler).unwrap().unwrap().request(),
            SET_VRING_ENABLE
        );
        write_message(&mut guest, &with_flags(VRING_KICK, 0x9, vring_state(0, 0))).unwrap();
        assert_eq!(
            read_one(&mut handler).unwrap().unwrap().request(),
            VRING_KICK
        );
        assert!(hooks.kicked.lock().unwrap().is_empty());
    }

    /// Hooks that answer every kick at once and allocate nothing.
    struct QuietHooks;

    impl InbandHooks for QuietHooks {
        fn negotiated(&self, _features: u64) {}
        fn active(&self) -> bool {
            true
        }
        fn vring_fds(&self, _index: usize) -> Option<std::io::Result<(OwnedFd, OwnedFd)>> {
            None
        }
        fn backend_channel(&self, _fd: &OwnedFd) {}
        fn kick(&self, index: usize) -> bool {
            index < 2
        }
    }

    /// Heap allocations of one `pump_in` run (on this thread) that relays `kicks` kicks.
    fn allocations_for(kicks: usize) -> u64 {
        let (guest, vm) = UnixStream::pair().unwrap();
        let (to, _handler) = UnixStream::pair().unwrap();
        // The guest writes and reads on threads of its own (their allocations are not
        // counted): small messages fill a socket's buffer after a few hundred.
        let mut writer = guest.try_clone().unwrap();
        let writing = std::thread::spawn(move || {
            let kick = with_flags(VRING_KICK, 0x9, vring_state(0, 0));
            for _ in 0..kicks {
                write_message(&mut writer, &kick).unwrap();
            }
            writer.shutdown(std::net::Shutdown::Write).unwrap();
        });
        let mut reader = guest;
        let reading = std::thread::spawn(move || {
            let mut replies = 0;
            while let Some(m) = read_one(&mut reader).unwrap() {
                assert_eq!((m.request(), m.u64_at_start()), (VRING_KICK, Some(0)));
                replies += 1;
            }
            replies
        });
        let vm_out = Arc::new(Mutex::new(vm.try_clone().unwrap()));
        let inband = Some(Inband {
            hooks: Arc::new(QuietHooks),
            given: [false; MAX_VRINGS],
        });
        let before = crate::vm::tests::alloc_count::count();
        pump_in(vm, to, vm_out, inband);
        let spent = crate::vm::tests::alloc_count::count() - before;
        writing.join().unwrap();
        assert_eq!(reading.join().unwrap(), kicks, "every kick was answered");
        spent
    }

    #[test]
    fn relaying_kicks_allocates_nothing_per_kick() {
        // The same allocations (the one message's buffers) for 1 kick as for 500.
        assert_eq!(allocations_for(500), allocations_for(1));
    }
}
