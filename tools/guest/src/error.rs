//! Errors of the guest frontend.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while playing a guest.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The vhost-user socket could not be connected in time.
    #[error("cannot connect to {path}: {source}")]
    Connect {
        /// Socket path.
        path: PathBuf,
        /// Last error seen while retrying.
        source: io::Error,
    },
    /// A vhost-user request failed (socket closed, backend refused, bad reply).
    #[error("vhost-user request {request} failed: {source}")]
    Protocol {
        /// The request that failed, e.g. "SET_MEM_TABLE".
        request: &'static str,
        /// The error reported by the `vhost` crate.
        source: vhost::Error,
    },
    /// The device does not offer something the guest needs.
    #[error("device does not offer {0}")]
    NotOffered(&'static str),
    /// The configuration cannot work (e.g. memory too small, queue size not a power of two).
    #[error("bad guest configuration: {0}")]
    Config(String),
    /// Every TX descriptor is in flight; reclaim or wait for the device.
    #[error("TX ring full")]
    TxRingFull,
    /// Not enough free descriptors for a raw chain on the RX queue.
    #[error("RX ring full")]
    RxRingFull,
    /// A message does not fit a buffer.
    #[error("message of {len} bytes exceeds the buffer length {buf_len}")]
    TooLong {
        /// Message length.
        len: usize,
        /// Buffer length.
        buf_len: u32,
    },
    /// A guest physical range lies outside the shared memory region.
    #[error("guest range {addr:#x}+{len} is outside guest memory")]
    OutOfMemory {
        /// Guest physical address.
        addr: u64,
        /// Length in bytes.
        len: usize,
    },
    /// A descriptor chain is empty or longer than the queue.
    #[error("invalid raw descriptor chain: {0}")]
    BadChain(&'static str),
    /// A typed message could not be emitted (see [`crate::Guest::send_message`]).
    #[error("cannot emit message: {0}")]
    Frame(#[from] hwsim_frame::Error),
    /// System call failure (memfd, mmap, eventfd, poll).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn protocol(request: &'static str) -> impl FnOnce(vhost::Error) -> Error {
        move |source| Error::Protocol { request, source }
    }

    pub(crate) fn io(what: &'static str) -> impl FnOnce(io::Error) -> Error {
        move |source| Error::Io { what, source }
    }
}
