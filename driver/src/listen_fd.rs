//! Listening sockets handed to the daemon instead of paths: `--socket-fd N` (a VMM or a
//! supervisor opened the socket and passes it down) and systemd socket activation
//! (`LISTEN_PID`, `LISTEN_FDS`, `LISTEN_FDNAMES`, descriptors from 3 on, as sd_listen_fds(3)
//! describes them).
//!
//! An inherited descriptor is checked before it is used: it must be an open, listening
//! `AF_UNIX` stream socket. Its file belongs to whoever created it, so the daemon never
//! removes it.

use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::net::UnixListener;

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
pub const LISTEN_FDS_START: RawFd = 3;

/// The `FileDescriptorName=` that marks the control socket among activated sockets.
pub const CONTROL_NAME: &str = "control";

/// Why an inherited descriptor cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ListenFdError {
    /// The descriptor is not open, or not a socket.
    #[error("{what} {fd}: not an open socket ({source})")]
    NotASocket {
        /// Where the descriptor came from, e.g. `--socket-fd`.
        what: &'static str,
        /// The descriptor.
        fd: RawFd,
        /// The cause.
        source: std::io::Error,
    },
    /// The socket is not what a vhost-user device listens on.
    #[error("{what} {fd}: {reason}")]
    Unsuitable {
        /// Where the descriptor came from.
        what: &'static str,
        /// The descriptor.
        fd: RawFd,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The systemd variables are malformed.
    #[error("socket activation: {0}")]
    Environment(String),
}

/// Takes ownership of the inherited listening socket `fd` after checking it.
///
/// The caller promises that nothing else in the process owns `fd` (it came from the command
/// line or from systemd's variables, which are read once).
pub fn take(fd: RawFd, what: &'static str) -> Result<UnixListener, ListenFdError> {
    if fd < 0 {
        return Err(ListenFdError::Unsuitable {
            what,
            fd,
            reason: "not a descriptor",
        });
    }
    let int_opt = |opt: libc::c_int| -> Result<libc::c_int, ListenFdError> {
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `value` and `len` are valid for writes of the sizes given; getsockopt does
        // not keep the pointers, and on a descriptor that is not a socket it fails cleanly.
        let r = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if r == 0 {
            Ok(value)
        } else {
            Err(ListenFdError::NotASocket {
                what,
                fd,
                source: std::io::Error::last_os_error(),
            })
        }
    };
    let unsuitable = |reason| ListenFdError::Unsuitable { what, fd, reason };
    if int_opt(libc::SO_DOMAIN)? != libc::AF_UNIX {
        return Err(unsuitable("not a Unix-domain socket"));
    }
    if int_opt(libc::SO_TYPE)? != libc::SOCK_STREAM {
        return Err(unsuitable("not a stream socket"));
    }
    if int_opt(libc::SO_ACCEPTCONN)? == 0 {
        return Err(unsuitable("not listening (call listen(2) on it first)"));
    }
    // Guests are served by threads that fork nothing, but a VMM the daemon may start later
    // (tests do) must not inherit the listening socket.
    // SAFETY: F_SETFD on a descriptor just checked to be an open socket.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
        return Err(ListenFdError::NotASocket {
            what,
            fd,
            source: std::io::Error::last_os_error(),
        });
    }
    // SAFETY: `fd` is an open listening Unix stream socket (checked above) that nothing else
    // in the process owns (the caller's promise), so the listener may close it.
    Ok(unsafe { UnixListener::from_raw_fd(fd) })
}

/// Sockets systemd activated the daemon with, by role.
#[derive(Debug, Default)]
pub struct Activated {
    /// The vhost-user socket: the first descriptor not named [`CONTROL_NAME`].
    pub vhost_user: Option<RawFd>,
    /// The control socket: the descriptor named [`CONTROL_NAME`].
    pub control: Option<RawFd>,
}

/// Reads the socket-activation variables of this process (`pid`) and removes them, so that
/// processes the daemon starts do not take them for their own. `None` when the process was not
/// socket-activated (no `LISTEN_PID`, or one naming another process).
pub fn systemd(pid: u32) -> Result<Option<Activated>, ListenFdError> {
    let var = |name: &str| std::env::var(name).ok();
    let found = parse_activation(
        pid,
        var("LISTEN_PID").as_deref(),
        var("LISTEN_FDS").as_deref(),
        var("LISTEN_FDNAMES").as_deref(),
    );
    if matches!(found, Ok(Some(_))) {
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
            std::env::remove_var(name);
        }
    }
    found
}

/// The roles of the activated descriptors the variables describe (see [`systemd`]).
pub fn parse_activation(
    pid: u32,
    listen_pid: Option<&str>,
    listen_fds: Option<&str>,
    names: Option<&str>,
) -> Result<Option<Activated>, ListenFdError> {
    let Some(listen_pid) = listen_pid else {
        return Ok(None);
    };
    let for_pid: u32 = listen_pid
        .trim()
        .parse()
        .map_err(|_| ListenFdError::Environment(format!("LISTEN_PID `{listen_pid}`")))?;
    if for_pid != pid {
        return Ok(None);
    }
    let count: i32 = listen_fds
        .ok_or_else(|| ListenFdError::Environment("LISTEN_PID without LISTEN_FDS".into()))?
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=64).contains(n))
        .ok_or_else(|| {
            ListenFdError::Environment(format!(
                "LISTEN_FDS `{}` (expected 1 to 64 sockets)",
                listen_fds.unwrap_or_default()
            ))
        })?;
    let names: Vec<&str> = names.map(|n| n.split(':').collect()).unwrap_or_default();
    let mut activated = Activated::default();
    for i in 0..count {
        let fd = LISTEN_FDS_START + i;
        let name = names.get(i as usize).copied().unwrap_or("");
        let slot = if name == CONTROL_NAME {
            &mut activated.control
        } else {
            &mut activated.vhost_user
        };
        if slot.is_some() {
            return Err(ListenFdError::Environment(format!(
                "more than one socket for the {} role (descriptor {fd}, name `{name}`); name \
                 the control socket `{CONTROL_NAME}` with FileDescriptorName=",
                if name == CONTROL_NAME {
                    "control"
                } else {
                    "vhost-user"
                }
            )));
        }
        *slot = Some(fd);
    }
    Ok(Some(activated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::IntoRawFd;

    #[test]
    fn activation_for_another_process_or_none_is_ignored() {
        assert!(parse_activation(10, None, Some("1"), None)
            .unwrap()
            .is_none());
        assert!(parse_activation(10, Some("11"), Some("1"), None)
            .unwrap()
            .is_none());
    }

    #[test]
    fn activated_sockets_get_their_roles_by_name() {
        let one = parse_activation(7, Some("7"), Some("1"), None)
            .unwrap()
            .unwrap();
        assert_eq!((one.vhost_user, one.control), (Some(3), None));
        let two = parse_activation(7, Some("7"), Some("2"), Some("control:vhost-user"))
            .unwrap()
            .unwrap();
        assert_eq!((two.vhost_user, two.control), (Some(4), Some(3)));
    }

    #[test]
    fn malformed_activation_is_an_error() {
        for (pid, fds, names) in [
            ("x", Some("1"), None),
            ("7", None, None),
            ("7", Some("0"), None),
            ("7", Some("many"), None),
            ("7", Some("2"), None),
            ("7", Some("2"), Some("control:control")),
        ] {
            assert!(
                parse_activation(7, Some(pid), fds, names).is_err(),
                "{pid} {fds:?} {names:?}"
            );
        }
    }

    #[test]
    fn only_a_listening_unix_stream_socket_is_taken() {
        let dir = std::env::temp_dir().join(format!("hwsim-listen-fd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let fd = listener.into_raw_fd();
        let taken = take(fd, "--socket-fd").unwrap();
        // The listener works: a client connects and is accepted.
        let _client = std::os::unix::net::UnixStream::connect(&path).unwrap();
        assert!(taken.accept().is_ok());

        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let err = take(a.into_raw_fd(), "--socket-fd").unwrap_err();
        assert!(err.to_string().contains("not listening"), "{err}");

        let dgram = std::os::unix::net::UnixDatagram::unbound().unwrap();
        let err = take(dgram.into_raw_fd(), "--socket-fd").unwrap_err();
        assert!(err.to_string().contains("not a stream socket"), "{err}");

        let file = std::fs::File::open("/dev/null").unwrap();
        let err = take(file.into_raw_fd(), "--socket-fd").unwrap_err();
        assert!(err.to_string().contains("not an open socket"), "{err}");

        assert!(take(-1, "--socket-fd").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
