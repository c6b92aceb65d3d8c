//! A relay between a VM's vhost-user connection and its handler that evens out frontend quirks
//! the `vhost` crate rejects.
//!
//! UML's frontend (`arch/um/drivers/virtio_uml.c`) always declares room for two memory regions
//! in SET_MEM_TABLE (`header.size` = 8 + 2 × 32) even when `num` is 1; `vhost` requires the
//! size to match `num` exactly and drops the connection ("invalid message"). The relay trims the
//! payload to what `num` says. Everything else passes through unchanged, file descriptors
//! included. Only the control channel goes through here: the data path is shared memory and
//! eventfds, so the relay costs nothing per frame.

use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

/// vhost-user message header: request, flags, size (all u32, little-endian on x86).
const HEADER_LEN: usize = 12;
/// Largest payload we relay (the protocol's own limit is 4 KiB plus config space).
const MAX_PAYLOAD: usize = 64 * 1024;
/// Most file descriptors one message carries (SET_MEM_TABLE: one per region, ≤ 8).
const MAX_FDS: usize = 16;
const SET_MEM_TABLE: u32 = 5;
const MEM_REGION_LEN: usize = 32;
const MEM_TABLE_HEADER_LEN: usize = 8;

/// One message and the descriptors that came with it.
struct Message {
    header: [u8; HEADER_LEN],
    payload: Vec<u8>,
    fds: Vec<OwnedFd>,
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

    fn set_size(&mut self, size: usize) {
        self.header[8..12].copy_from_slice(&(size as u32).to_le_bytes());
    }
}

/// Reads one message; `Ok(None)` on a clean end of stream.
fn read_message(sock: &mut UnixStream) -> std::io::Result<Option<Message>> {
    let mut header = [0u8; HEADER_LEN];
    let mut fds = Vec::new();
    let mut got = 0;
    while got < HEADER_LEN {
        let mut cmsg = nix::cmsg_space!([RawFd; MAX_FDS]);
        let mut iov = [IoSliceMut::new(&mut header[got..])];
        let msg = recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .map_err(std::io::Error::from)?;
        if msg.bytes == 0 {
            return Ok(None);
        }
        got += msg.bytes;
        for c in msg.cmsgs().map_err(std::io::Error::from)? {
            if let ControlMessageOwned::ScmRights(list) = c {
                for fd in list {
                    // SAFETY: the kernel just installed `fd` in our table for this message; we
                    // are its only owner.
                    fds.push(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) });
                }
            }
        }
    }
    let size = u32::from_le_bytes([header[8], header[9], header[10], header[11]]) as usize;
    if size > MAX_PAYLOAD {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("vhost-user payload of {size} bytes"),
        ));
    }
    let mut payload = vec![0u8; size];
    sock.read_exact(&mut payload)?;
    Ok(Some(Message {
        header,
        payload,
        fds,
    }))
}

fn write_message(sock: &mut UnixStream, m: &Message) -> std::io::Result<()> {
    let raw: Vec<RawFd> = m.fds.iter().map(|f| f.as_raw_fd()).collect();
    let iov = [IoSlice::new(&m.header), IoSlice::new(&m.payload)];
    let cmsg = [ControlMessage::ScmRights(&raw)];
    let cmsgs: &[ControlMessage<'_>] = if raw.is_empty() { &[] } else { &cmsg };
    let sent = sendmsg::<()>(sock.as_raw_fd(), &iov, cmsgs, MsgFlags::empty(), None)
        .map_err(std::io::Error::from)?;
    let total = HEADER_LEN + m.payload.len();
    if sent < total {
        // The descriptors went with the first byte; the rest is plain data.
        let mut all = Vec::with_capacity(total);
        all.extend_from_slice(&m.header);
        all.extend_from_slice(&m.payload);
        sock.write_all(&all[sent..])?;
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

/// Copies messages from `from` to `to`, normalizing if `fix`; shuts both down at the end.
fn pump(mut from: UnixStream, mut to: UnixStream, fix: bool) {
    while let Ok(Some(mut m)) = read_message(&mut from) {
        if fix {
            normalize(&mut m);
        }
        if write_message(&mut to, &m).is_err() {
            break;
        }
    }
    let _ = from.shutdown(std::net::Shutdown::Both);
    let _ = to.shutdown(std::net::Shutdown::Both);
}

/// Relays between `vm` (the frontend's connection) and `handler` (our backend's end) on two
/// threads until either side closes.
pub fn spawn(vm: UnixStream, handler: UnixStream, name: &str) -> std::io::Result<()> {
    let (vm2, handler2) = (vm.try_clone()?, handler.try_clone()?);
    std::thread::Builder::new()
        .name(format!("{name}-relay-in"))
        .spawn(move || pump(vm, handler, true))?;
    std::thread::Builder::new()
        .name(format!("{name}-relay-out"))
        .spawn(move || pump(handler2, vm2, false))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(request: u32, payload: Vec<u8>) -> Message {
        let mut header = [0u8; HEADER_LEN];
        header[0..4].copy_from_slice(&request.to_le_bytes());
        header[4..8].copy_from_slice(&1u32.to_le_bytes());
        let mut m = Message {
            header,
            payload,
            fds: Vec::new(),
        };
        let n = m.payload.len();
        m.set_size(n);
        m
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
        let got = read_message(&mut d).unwrap().unwrap();
        assert_eq!(got.request(), SET_MEM_TABLE);
        assert_eq!(got.payload.len(), 40, "trimmed on the way in");
        assert_eq!(got.fds.len(), 1, "the region's fd went along");
        // Replies travel back unchanged.
        write_message(&mut d, &msg(1, 0x1234u64.to_le_bytes().to_vec())).unwrap();
        let back = read_message(&mut a).unwrap().unwrap();
        assert_eq!(back.payload, 0x1234u64.to_le_bytes());
        drop(a);
        assert!(
            read_message(&mut d).unwrap().is_none(),
            "closing one side closes the other"
        );
    }
}
