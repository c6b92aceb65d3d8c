//! The AP MLD's distribution system: where the Ethernet frames its stations send go, and
//! where the frames for them come from. Two kinds: a host TAP interface
//! ([`crate::tap::Tap`], `--ap-tap NAME`) and [`LocalDs`], an in-process port for a program
//! that embeds the AP (the demo) to exchange Ethernet frames with it without privileges.
//!
//! The runtime polls [`DistributionSystem::fd`] together with its virtqueues, then reads
//! until [`DistributionSystem::recv`] has nothing more.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixDatagram;

/// A source and sink of Ethernet frames (destination, source, EtherType, payload).
pub trait DistributionSystem: Send {
    /// A descriptor that polls readable when a frame is waiting.
    fn fd(&self) -> RawFd;
    /// Reads one Ethernet frame into `buf`; `Ok(None)` when none is waiting.
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>>;
    /// Writes one Ethernet frame.
    fn send(&mut self, frame: &[u8]) -> io::Result<()>;
}

impl DistributionSystem for crate::tap::Tap {
    fn fd(&self) -> RawFd {
        crate::tap::Tap::fd(self)
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        crate::tap::Tap::recv(self, buf)
    }
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        crate::tap::Tap::send(self, frame)
    }
}

/// One end of an in-process distribution system: a non-blocking Unix datagram socket pair,
/// so each Ethernet frame stays one message, nothing is allocated per frame, and the AP's
/// loop can poll it like the TAP. A full queue drops the frame (`send` fails with
/// `WouldBlock`), as a NIC would.
pub struct LocalDs {
    sock: UnixDatagram,
}

impl LocalDs {
    /// Two connected ends: give one to the AP, keep the other.
    pub fn pair() -> io::Result<(LocalDs, LocalDs)> {
        let (a, b) = UnixDatagram::pair()?;
        a.set_nonblocking(true)?;
        b.set_nonblocking(true)?;
        Ok((LocalDs { sock: a }, LocalDs { sock: b }))
    }
}

impl DistributionSystem for LocalDs {
    fn fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match self.sock.recv(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.sock.send(frame).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_pair_carries_whole_frames_both_ways_and_never_blocks() {
        let (mut ap, mut host) = LocalDs::pair().unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(ap.recv(&mut buf).unwrap(), None);
        host.send(&[1; 20]).unwrap();
        host.send(&[2; 30]).unwrap();
        assert_eq!(ap.recv(&mut buf).unwrap(), Some(20));
        assert_eq!(ap.recv(&mut buf).unwrap(), Some(30));
        assert_eq!(buf[..30], [2; 30]);
        ap.send(&[3; 14]).unwrap();
        assert_eq!(host.recv(&mut buf).unwrap(), Some(14));
        assert_eq!(host.recv(&mut buf).unwrap(), None);
    }
}
