//! The listening sockets the daemon creates (`--socket`, `--control`, the demo's socket): it
//! never destroys what is not its own.
//!
//! [`SocketFile::bind`] looks at what is at the path before it does anything else:
//! - nothing: the socket is created there;
//! - a socket on which `connect` is refused: a stale socket whose daemon has died; replaced;
//! - a socket that accepts a connection: another daemon serves it; refused
//!   ([`SocketError::InUse`]), the socket left alone;
//! - anything else (regular file, directory, symbolic link, FIFO, device): refused
//!   ([`SocketError::NotASocket`]), left as it is.
//!
//! # Mode, and no moment at another one
//! The socket gets exactly the mode asked for (default [`DEFAULT_MODE`], 0600: only the daemon's
//! user may connect), and nobody can connect before it has it. It is bound in a private
//! directory (mode 0700) created beside the path, given its mode there, and renamed into place,
//! already listening. A temporary umask around `bind` would also give the mode, but the umask
//! belongs to the whole process: by the time a socket is bound the daemon has other threads
//! (and a test binary calling [`crate::server::spawn`] has many), and whatever they create
//! meanwhile would get it too. The umask also can only take permissions away, so `0660` under
//! umask 022 would come out `0640`; `chmod` on the private name does not have that problem.
//!
//! # No replacing what appears meanwhile
//! Something may appear at the path between the look and the rename (another daemon starting at
//! the same moment, say). Over nothing, the rename is `renameat2(RENAME_NOREPLACE)`, which fails
//! if the name exists now; we look again. Over a stale socket it is `RENAME_EXCHANGE`: the two
//! names swap atomically, and what came back into the private directory is checked again — if it
//! is not the stale socket any more (a live one, or a file), the names are swapped back and the
//! start refused. On a file system without those flags (NFS) a hard link stands in for
//! `RENAME_NOREPLACE` (it fails on an existing name too), and a stale socket is removed before
//! it; only there a file created between that check and that removal could be lost.
//!
//! # Removal
//! Dropping the [`SocketFile`] removes the socket — if the path still names the socket this
//! process created (same device and inode), never what someone else has put there since.

use std::fs::{DirBuilder, FileType, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The mode listening sockets get unless `--socket-mode` says otherwise: only the daemon's user
/// may connect (a vhost-user peer gets to map guest memory into the daemon).
pub const DEFAULT_MODE: u32 = 0o600;

/// Why a socket could not be created at a path.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// Something that is not a socket is at the path; it was left as it is.
    #[error(
        "{path} is {what}, not a socket: refusing to replace it (remove it or choose another path)"
    )]
    NotASocket {
        /// The path.
        path: PathBuf,
        /// What is there, e.g. "a regular file".
        what: &'static str,
    },
    /// A process accepts connections on the socket at the path.
    #[error("another vhost-hwsim is serving {path} (a process accepts connections on it): stop it or choose another path")]
    InUse {
        /// The path.
        path: PathBuf,
    },
    /// A socket is at the path, but `connect` failed in a way that does not say it is stale.
    #[error("cannot tell whether the socket {path} is in use (connect: {source}): refusing to replace it")]
    Undecided {
        /// The path.
        path: PathBuf,
        /// What `connect` said.
        source: io::Error,
    },
    /// What is at the path could not be looked at.
    #[error("cannot look at {path}: {source}")]
    Inspect {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Creating, binding or renaming the socket failed.
    #[error("cannot create socket {path}: {source}")]
    Create {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// A socket this process created at a path; dropping it removes the socket if it is still
/// there (see the module docs).
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

/// What [`inspect`] found at a path that a socket may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    Nothing,
    StaleSocket,
}

impl SocketFile {
    /// Listens on a new socket at `path` with permissions `mode` (e.g. [`DEFAULT_MODE`]),
    /// replacing a stale socket and refusing anything else that is there.
    pub fn bind(path: &Path, mode: u32) -> Result<(UnixListener, SocketFile), SocketError> {
        // The look comes first: a refusal leaves no trace, not even the private directory.
        let found = inspect(path, path)?;
        SocketFile::put_in_place(path, mode, found)
    }

    /// Creates the socket and puts it at `path`, where the look found `found` (which may have
    /// changed since).
    fn put_in_place(
        path: &Path,
        mode: u32,
        mut found: Found,
    ) -> Result<(UnixListener, SocketFile), SocketError> {
        let create = |source| SocketError::Create {
            path: path.to_owned(),
            source,
        };
        let parent = parent_dir(path);
        let mut private = PrivateDir::create_in(parent).map_err(create)?;
        let staged = private.socket_path();
        let listener = UnixListener::bind(&staged).map_err(create)?;
        std::fs::set_permissions(&staged, Permissions::from_mode(mode & 0o7777)).map_err(create)?;
        let ours = std::fs::symlink_metadata(&staged).map_err(create)?;
        let file = SocketFile {
            path: path.to_owned(),
            dev: ours.dev(),
            ino: ours.ino(),
        };
        // Each round either succeeds, fails for good, or finds the path changed and looks again;
        // three changes in a row mean someone keeps changing it.
        for _ in 0..3 {
            match found {
                Found::Nothing => match rename_noreplace(&staged, path) {
                    Ok(()) => return Ok((listener, file)),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        found = inspect(path, path)?;
                    }
                    Err(e) => return Err(create(e)),
                },
                Found::StaleSocket => match rename_exchange(&staged, path) {
                    // `staged` now names what was at the path an instant ago: if it is still a
                    // stale socket, it goes; if not, it goes back.
                    Ok(()) => match inspect(&staged, path) {
                        Ok(_) => {
                            let _ = std::fs::remove_file(&staged);
                            return Ok((listener, file));
                        }
                        Err(refusal) => {
                            if let Err(e) = rename_exchange(&staged, path) {
                                // Theirs stays in the private directory rather than be lost.
                                private.keep();
                                return Err(create(io::Error::other(format!(
                                    "{refusal}; and putting it back from {} failed: {e}",
                                    staged.display()
                                ))));
                            }
                            // Theirs is back at the path, ours goes with the private directory
                            // (and `file`'s drop sees another inode at the path: it keeps it).
                            return Err(refusal);
                        }
                    },
                    // The stale socket went away meanwhile.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        found = inspect(path, path)?;
                    }
                    Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                        // No RENAME_EXCHANGE on this file system: remove the stale socket,
                        // then take the free name with RENAME_NOREPLACE or a hard link.
                        match std::fs::remove_file(path) {
                            Ok(()) => found = Found::Nothing,
                            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                                found = Found::Nothing;
                            }
                            Err(e) => return Err(create(e)),
                        }
                    }
                    Err(e) => return Err(create(e)),
                },
            }
        }
        Err(create(io::Error::other(
            "what is at the path kept changing while the socket was put there",
        )))
    }

    /// Refuses what [`SocketFile::bind`] would refuse at `path`, without creating anything: for
    /// checking every path before the first socket is made.
    pub fn check(path: &Path) -> Result<(), SocketError> {
        inspect(path, path)?;
        let parent = parent_dir(path);
        match std::fs::metadata(parent) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(io::Error::from_raw_os_error(libc::ENOTDIR)),
            Err(e) => Err(e),
        }
        .map_err(|e| SocketError::Create {
            path: path.to_owned(),
            source: io::Error::new(e.kind(), format!("directory {}: {e}", parent.display())),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let still_ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.dev() == self.dev && m.ino() == self.ino);
        if still_ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The directory `path` is in (`.` for a bare name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// What is at `at`, with errors naming `shown` (the path the user gave).
fn inspect(at: &Path, shown: &Path) -> Result<Found, SocketError> {
    let meta = match std::fs::symlink_metadata(at) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Nothing),
        Err(source) => {
            return Err(SocketError::Inspect {
                path: shown.to_owned(),
                source,
            })
        }
    };
    if !meta.file_type().is_socket() {
        return Err(SocketError::NotASocket {
            path: shown.to_owned(),
            what: describe(meta.file_type()),
        });
    }
    match UnixStream::connect(at) {
        Ok(_) => Err(SocketError::InUse {
            path: shown.to_owned(),
        }),
        Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => Ok(Found::StaleSocket),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Found::Nothing),
        Err(source) => Err(SocketError::Undecided {
            path: shown.to_owned(),
            source,
        }),
    }
}

/// "a regular file", "a directory", … for the refusal message.
fn describe(t: FileType) -> &'static str {
    if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_char_device() {
        "a character device"
    } else {
        "something else"
    }
}

/// Renames `from` to `to` unless `to` exists (then `AlreadyExists`).
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    match renameat2(from, to, RenameFlag::NoReplace) {
        // No RENAME_NOREPLACE here: a hard link fails on an existing name in the same way; the
        // private name then goes with the private directory.
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => std::fs::hard_link(from, to),
        r => r,
    }
}

/// Swaps the names `a` and `b` atomically (both must exist).
fn rename_exchange(a: &Path, b: &Path) -> io::Result<()> {
    renameat2(a, b, RenameFlag::Exchange)
}

enum RenameFlag {
    NoReplace,
    Exchange,
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn renameat2(from: &Path, to: &Path, flag: RenameFlag) -> io::Result<()> {
    use nix::fcntl::RenameFlags;
    let flags = match flag {
        RenameFlag::NoReplace => RenameFlags::RENAME_NOREPLACE,
        RenameFlag::Exchange => RenameFlags::RENAME_EXCHANGE,
    };
    nix::fcntl::renameat2(None, from, None, to, flags).map_err(io::Error::from)
}

/// Without `renameat2` the callers take their fallbacks (hard link, remove then link).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn renameat2(_: &Path, _: &Path, _: RenameFlag) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::EINVAL))
}

/// A directory only this process's user may enter (mode 0700), removed on drop with the one
/// socket it may hold: where sockets are bound before anyone may connect to them.
pub(crate) struct PrivateDir {
    path: PathBuf,
    keep: bool,
}

impl PrivateDir {
    /// A new private directory in `parent`.
    pub(crate) fn create_in(parent: &Path) -> io::Result<PrivateDir> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        // `mkdir` never follows or reuses an existing name, so a name someone else took first
        // only costs a retry.
        for _ in 0..64 {
            let name = format!(
                ".vhost-hwsim-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            );
            let path = parent.join(name);
            match DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(PrivateDir { path, keep: false }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("directory {}: {e}", parent.display()),
                    ))
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("no free private directory name in {}", parent.display()),
        ))
    }

    /// Where the directory's one socket goes (the only entry drop removes).
    pub(crate) fn socket_path(&self) -> PathBuf {
        self.path.join("s")
    }

    /// Leaves the directory and what it holds in place.
    fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let _ = std::fs::remove_file(self.socket_path());
        let _ = std::fs::remove_dir(&self.path);
    }
}

#[cfg(test)]
mod tests {
    //! What happens when the path changes between the look and the rename: `put_in_place` is
    //! called with what an earlier look found, and the path holds something else by now.

    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "vhost-hwsim-socket-file-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn entries(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_file_that_appears_where_there_was_nothing_is_kept() {
        let d = dir("appears");
        let path = d.join("s.sock");
        std::fs::write(&path, b"theirs").unwrap();
        for found in [Found::Nothing, Found::StaleSocket] {
            let err = SocketFile::put_in_place(&path, DEFAULT_MODE, found).unwrap_err();
            assert!(
                matches!(
                    err,
                    SocketError::NotASocket {
                        what: "a regular file",
                        ..
                    }
                ),
                "{found:?}: {err}"
            );
            assert_eq!(std::fs::read(&path).unwrap(), b"theirs", "{found:?}");
            assert_eq!(
                entries(&d),
                ["s.sock"],
                "{found:?}: no private directory left"
            );
        }
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn a_stale_socket_that_came_alive_is_swapped_back_and_keeps_serving() {
        let d = dir("alive");
        let path = d.join("s.sock");
        let theirs = UnixListener::bind(&path).unwrap();
        let err = SocketFile::put_in_place(&path, DEFAULT_MODE, Found::StaleSocket).unwrap_err();
        assert!(matches!(err, SocketError::InUse { .. }), "{err}");
        assert!(err.to_string().contains(&format!(
            "another vhost-hwsim is serving {}",
            path.display()
        )));
        assert_eq!(entries(&d), ["s.sock"]);
        // The socket at the path is still theirs: a client reaches their listener.
        theirs.set_nonblocking(true).unwrap();
        while theirs.accept().is_ok() {} // the check's own connection
        let _client = UnixStream::connect(&path).unwrap();
        assert!(theirs.accept().is_ok(), "their listener got the connection");
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn the_path_changing_between_nothing_and_stale_still_ends_with_our_socket() {
        let d = dir("changing");
        // Nothing was there, now a stale socket is: replaced.
        let path = d.join("a.sock");
        drop(UnixListener::bind(&path).unwrap());
        let (listener, file) = SocketFile::put_in_place(&path, 0o640, Found::Nothing).unwrap();
        let _client = UnixStream::connect(&path).unwrap();
        assert!(listener.accept().is_ok());
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);
        assert_eq!(entries(&d), ["a.sock"]);
        drop(file);
        assert_eq!(entries(&d), Vec::<String>::new(), "drop removes our socket");
        // A stale socket was there, now nothing is: created.
        let path = d.join("b.sock");
        let (_listener, file) =
            SocketFile::put_in_place(&path, DEFAULT_MODE, Found::StaleSocket).unwrap();
        assert!(UnixStream::connect(&path).is_ok());
        drop(file);
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn drop_keeps_what_replaced_our_socket() {
        let d = dir("replaced");
        let path = d.join("s.sock");
        let (_listener, file) = SocketFile::bind(&path, DEFAULT_MODE).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"theirs").unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), b"theirs");
        std::fs::remove_dir_all(&d).ok();
    }
}
