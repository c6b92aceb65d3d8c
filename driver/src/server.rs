//! The socket: every connection is one VM with its own backend, protocol thread and epoll
//! thread. A VM that disconnects is removed; it may connect again as a new VM.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use vhost::vhost_user::Listener;
use vhost_user_backend::VhostUserDaemon;
use vm_memory::{GuestMemoryAtomic, GuestMemoryMmap};
use vmm_sys_util::epoll::EventSet;

use crate::core::Core;
use crate::vm::backend::INBOX_EVENT;
use crate::vm::VmBackend;

/// Errors starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The socket could not be created.
    #[error("cannot listen on {path}: {source}")]
    Listen {
        /// Socket path.
        path: PathBuf,
        /// Cause.
        source: vhost::vhost_user::Error,
    },
    /// Setting up a connection failed.
    #[error("cannot set up a VM connection: {0}")]
    Connection(String),
}

/// A running server; dropping the handle does not stop it, [`ServerHandle::stop`] does.
pub struct ServerHandle {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    path: PathBuf,
}

impl ServerHandle {
    /// Stops accepting connections and waits for the accept thread.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake a blocking accept with a throwaway connection.
        let _ = std::os::unix::net::UnixStream::connect(&self.path);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Listens on `path` (replacing a stale socket file) and serves VMs on a background thread.
pub fn spawn(core: Arc<Core>, path: &Path) -> Result<ServerHandle, ServerError> {
    let listener = Listener::new(path, true).map_err(|source| ServerError::Listen {
        path: path.to_owned(),
        source,
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("vhost-hwsim-accept".into())
        .spawn(move || accept_loop(core, listener, &stop2))
        .map_err(|e| ServerError::Connection(e.to_string()))?;
    Ok(ServerHandle {
        stop,
        thread: Some(thread),
        path: path.to_owned(),
    })
}

fn accept_loop(core: Arc<Core>, mut listener: Listener, stop: &AtomicBool) {
    while !stop.load(Ordering::Acquire) {
        if !wait_readable(listener.as_raw_fd(), Duration::from_millis(200)) {
            continue;
        }
        if stop.load(Ordering::Acquire) {
            break;
        }
        if let Err(e) = serve_next(&core, &mut listener) {
            tracing::error!("{e}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn wait_readable(fd: i32, timeout: Duration) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` is a valid pollfd for the duration of the call and nfds is 1.
    let r = unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as i32) };
    r > 0 && pfd.revents & libc::POLLIN != 0
}

/// Accepts one connection and starts its threads.
fn serve_next(core: &Arc<Core>, listener: &mut Listener) -> Result<(), ServerError> {
    let vm = core
        .new_vm()
        .map_err(|e| ServerError::Connection(format!("inbox: {e}")))?;
    let backend = Arc::new(VmBackend::new(Arc::clone(core), Arc::clone(&vm)));
    let mem = GuestMemoryAtomic::new(GuestMemoryMmap::new());
    let mut daemon = VhostUserDaemon::new(format!("vhost-hwsim-vm{}", vm.id), backend, mem)
        .map_err(|e| ServerError::Connection(format!("daemon: {e}")))?;
    for handler in daemon.get_epoll_handlers() {
        handler
            .register_listener(vm.inbox.wake_fd(), EventSet::IN, u64::from(INBOX_EVENT))
            .map_err(|e| ServerError::Connection(format!("epoll: {e}")))?;
    }
    daemon
        .start(listener)
        .map_err(|e| ServerError::Connection(format!("accept: {e}")))?;
    core.register_vm(&vm);
    tracing::info!(vm = vm.id, "VM connected");
    let core = Arc::clone(core);
    std::thread::Builder::new()
        .name(format!("vhost-hwsim-vm{}-wait", vm.id))
        .spawn(move || {
            match daemon.wait() {
                Ok(())
                | Err(vhost_user_backend::Error::HandleRequest(
                    vhost::vhost_user::Error::Disconnected
                    | vhost::vhost_user::Error::PartialMessage,
                )) => tracing::info!(vm = vm.id, "VM disconnected"),
                Err(e) => tracing::warn!(vm = vm.id, "VM connection ended: {e}"),
            }
            core.remove_vm(vm.id);
            // Dropping the daemon stops and joins the VM's epoll thread.
            drop(daemon);
        })
        .map_err(|e| ServerError::Connection(e.to_string()))?;
    Ok(())
}
