//! The live monitor interface: a TUN device of link type 802.11 + radiotap
//! (`ARPHRD_IEEE80211_RADIOTAP`) on which the capture writer replays every frame, so that
//! `tcpdump -i NAME` or Wireshark on the host see the air live, as `hwsim0` shows it inside a
//! guest.
//!
//! Each packet written is the 4-byte TUN packet information (`struct tun_pi`) followed by the
//! radiotap header and the 802.11 frame — the same bytes an Enhanced Packet Block of the pcapng
//! capture holds. The packet information is needed: a TUN device opened with `IFF_NO_PI` accepts
//! only packets whose first nibble is an IP version and rejects the rest with `EINVAL`, and a
//! radiotap header starts with version 0. With it, the kernel takes the protocol from us
//! (`ETH_P_802_2`, what mac80211 gives monitor frames), packet sockets (tcpdump) see the frame
//! and the stack drops it after them.
//!
//! The device exists while the [`Monitor`] lives (not persistent): closing the descriptor
//! removes it.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::IoSlice;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

/// `TUNSETIFF` flag: a TUN (layer 3) device; without `IFF_NO_PI` (see the module docs).
const TUN_FLAGS: libc::c_short = libc::IFF_TUN as libc::c_short;

/// Why the monitor interface could not be created.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The name cannot be an interface name.
    #[error("monitor interface name {0:?} is invalid: 1 to 15 bytes, no '/', ':', whitespace")]
    BadName(String),
    /// An interface of that name exists; we do not take over someone else's interface.
    #[error("network interface {0} exists already; choose another --monitor name or delete it (ip link del {0})")]
    Exists(String),
    /// `/dev/net/tun` cannot be opened.
    #[error("cannot open /dev/net/tun ({0}); the monitor interface needs the tun module and CAP_NET_ADMIN")]
    NoTun(std::io::Error),
    /// One of the set-up steps failed.
    #[error("cannot set up monitor interface {name}: {step}: {source}")]
    Setup {
        /// The interface.
        name: String,
        /// What we were doing.
        step: &'static str,
        /// The cause.
        source: std::io::Error,
    },
}

/// An open monitor interface.
#[derive(Debug)]
pub struct Monitor {
    tun: File,
    name: String,
}

impl Monitor {
    /// Creates TUN device `name`, sets its link type to 802.11 + radiotap and brings it up.
    pub fn create(name: &str) -> Result<Monitor, MonitorError> {
        let bad = name.is_empty()
            || name.len() >= libc::IFNAMSIZ
            || name == "."
            || name == ".."
            || name
                .bytes()
                .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || b == 0);
        if bad {
            return Err(MonitorError::BadName(name.to_owned()));
        }
        if std::path::Path::new("/sys/class/net").join(name).exists() {
            return Err(MonitorError::Exists(name.to_owned()));
        }
        let tun = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/dev/net/tun")
            .map_err(MonitorError::NoTun)?;
        let setup = |step, source| MonitorError::Setup {
            name: name.to_owned(),
            step,
            source,
        };

        let mut req = ifreq(name);
        req.ifr_ifru.ifru_flags = TUN_FLAGS;
        // SAFETY: TUNSETIFF reads a `struct ifreq` we own and may write the name back into it.
        if unsafe { libc::ioctl(tun.as_raw_fd(), libc::TUNSETIFF, &mut req) } < 0 {
            let e = std::io::Error::last_os_error();
            // EBUSY: someone created the name between our check and here.
            return Err(match e.raw_os_error() {
                Some(libc::EBUSY) | Some(libc::EEXIST) => MonitorError::Exists(name.to_owned()),
                _ => setup("TUNSETIFF", e),
            });
        }
        // The link type can only change while the device is down, which it is until we raise it.
        let link = libc::c_ulong::from(libc::ARPHRD_IEEE80211_RADIOTAP);
        // SAFETY: TUNSETLINK takes its argument by value.
        if unsafe { libc::ioctl(tun.as_raw_fd(), libc::TUNSETLINK, link) } < 0 {
            return Err(setup("TUNSETLINK", std::io::Error::last_os_error()));
        }
        bring_up(name).map_err(|e| setup("SIOCSIFFLAGS (up)", e))?;
        Ok(Monitor {
            tun,
            name: name.to_owned(),
        })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends one packet, the concatenation of `parts` (radiotap header, frame), with one
    /// `writev`. Never blocks (non-blocking descriptor; TUN writes do not wait anyway).
    pub fn send(&self, parts: [&[u8]; 2]) -> std::io::Result<()> {
        // struct tun_pi: flags 0, protocol in network byte order.
        let proto = (libc::ETH_P_802_2 as u16).to_be_bytes();
        let pi = [0, 0, proto[0], proto[1]];
        let iov = [
            IoSlice::new(&pi),
            IoSlice::new(parts[0]),
            IoSlice::new(parts[1]),
        ];
        // SAFETY: `IoSlice` is ABI-compatible with `struct iovec`; the buffers outlive the call.
        let n = unsafe {
            libc::writev(
                self.tun.as_raw_fd(),
                iov.as_ptr().cast::<libc::iovec>(),
                iov.len() as libc::c_int,
            )
        };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

/// A zeroed `struct ifreq` naming `name` (checked shorter than `IFNAMSIZ`).
fn ifreq(name: &str) -> libc::ifreq {
    // SAFETY: `ifreq` is plain data (a name array and a union of plain fields): all-zero is valid.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    req
}

/// Sets `IFF_UP` on `name` through an ordinary socket's `SIOCSIFFLAGS`.
fn bring_up(name: &str) -> std::io::Result<()> {
    // Reject interior NULs once more (the caller checked); the name goes into a C array.
    let _ = CString::new(name).map_err(std::io::Error::other)?;
    // SAFETY: plain socket(2); the descriptor is owned right away.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut req = ifreq(name);
    // SAFETY: SIOCGIFFLAGS fills the flags of the `ifreq` we own.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel has just written `ifru_flags`.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    req.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    // SAFETY: SIOCSIFFLAGS reads the `ifreq` we own.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_are_refused_before_touching_the_system() {
        for name in ["", "a/b", "has space", "x:1", "sixteen-chars-xx", ".."] {
            assert!(
                matches!(Monitor::create(name), Err(MonitorError::BadName(_))),
                "{name:?}"
            );
        }
    }

    #[test]
    fn an_existing_interface_is_refused() {
        // `lo` exists on every Linux system.
        let e = Monitor::create("lo").unwrap_err();
        assert!(matches!(e, MonitorError::Exists(ref n) if n == "lo"), "{e}");
        assert!(e.to_string().contains("exists already"));
    }
}
