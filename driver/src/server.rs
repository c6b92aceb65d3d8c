//! The socket: every connection is one VM with its own backend, protocol thread and epoll
//! thread. A VM that disconnects is removed; it may connect again as a new VM.

use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use std::os::unix::net::{UnixListener, UnixStream};

use vhost_user_backend::VhostUserDaemon;
use vm_memory::{GuestMemoryAtomic, GuestMemoryMmap};
use vmm_sys_util::epoll::EventSet;

use crate::core::Core;
use crate::socket_file::{PrivateDir, SocketError, SocketFile};
use crate::vm::backend::{INBOX_EVENT, STOP_EVENT, TX_POLL_EVENT};
use crate::vm::VmBackend;

/// Errors starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The socket could not be created, or its path is taken.
    #[error(transparent)]
    Listen(#[from] SocketError),
    /// Setting up a connection failed.
    #[error("cannot set up a VM connection: {0}")]
    Connection(String),
}

/// A running server; [`ServerHandle::stop`] stops accepting (connected VMs keep running until
/// they disconnect). Dropping the handle removes the socket file (if it is still the one the
/// server created).
pub struct ServerHandle {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// The socket's file, when the daemon created it (not for an inherited descriptor).
    socket: Option<SocketFile>,
}

impl ServerHandle {
    /// Stops accepting connections and waits for the accept thread.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        // The accept loop polls with a timeout and sees the flag within 200 ms.
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// The socket path, when the daemon created the socket.
    pub fn path(&self) -> Option<&Path> {
        self.socket.as_ref().map(SocketFile::path)
    }
}

/// Listens on a new socket at `path`, mode 0600 ([`SocketFile::bind`]: a stale socket is
/// replaced, anything else refused), and serves VMs on a background thread.
pub fn spawn(core: Arc<Core>, path: &Path) -> Result<ServerHandle, ServerError> {
    let (listener, socket) = SocketFile::bind(path, crate::socket_file::DEFAULT_MODE)?;
    serve_listener(core, listener, Some(socket))
}

/// Serves VMs connecting to `listener` on a background thread; `socket` is its file when the
/// daemon bound it (removed when the handle goes), `None` for an inherited descriptor.
pub fn serve_listener(
    core: Arc<Core>,
    listener: UnixListener,
    socket: Option<SocketFile>,
) -> Result<ServerHandle, ServerError> {
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("vhost-hwsim-accept".into())
        .spawn(move || accept_loop(core, listener, &stop2))
        .map_err(|e| ServerError::Connection(e.to_string()))?;
    Ok(ServerHandle {
        stop,
        thread: Some(thread),
        socket,
    })
}

fn accept_loop(core: Arc<Core>, listener: UnixListener, stop: &AtomicBool) {
    while !stop.load(Ordering::Acquire) {
        if !wait_readable(listener.as_raw_fd(), Duration::from_millis(200)) {
            continue;
        }
        if stop.load(Ordering::Acquire) {
            break;
        }
        let conn = match listener.accept() {
            Ok((conn, _)) => conn,
            Err(e) => {
                tracing::warn!("accept: {e}");
                continue;
            }
        };
        if let Err(e) = serve(&core, conn) {
            tracing::error!("{e}");
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

/// Connects the VM's handler to `conn` through the quirk relay (see [`crate::relay`]): the
/// handler dials a socket whose other end the relay holds. The handler only dials paths, so the
/// socket is bound in a fresh directory only we may enter: nobody else can connect to it, and
/// nothing that was there before is touched.
fn attach(
    daemon: &mut VhostUserDaemon<Arc<VmBackend>>,
    conn: UnixStream,
    vm: u32,
    inband: Option<Arc<dyn crate::relay::InbandHooks>>,
) -> std::io::Result<()> {
    let private = PrivateDir::create_in(&std::env::temp_dir())?;
    let socket = private.socket_path();
    let inner = UnixListener::bind(&socket)?;
    // Accept only once the handler has dialled: if it failed to, nobody ever will.
    daemon
        .start_client(&socket.to_string_lossy())
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let (handler_end, _) = inner.accept()?;
    drop(private);
    crate::relay::spawn_with(conn, handler_end, &format!("vhost-hwsim-vm{vm}"), inband)
}

/// Serves the built-in AP MLD of this process over `conn` (one end of a socket pair; its
/// runtime holds the other), remembering its connection so tables can name it.
pub fn serve_builtin_ap(core: &Arc<Core>, conn: UnixStream) -> Result<(), ServerError> {
    serve_as(core, conn, true)
}

/// Starts the threads of one accepted VM connection.
fn serve(core: &Arc<Core>, conn: UnixStream) -> Result<(), ServerError> {
    serve_as(core, conn, false)
}

/// One VM's vhost-user handler with its backend. Dropping it ends the VM's epoll thread first
/// (the library joins it when the handler goes, and only our stop event wakes it), then discards
/// what still waited for the guest.
struct VmConnection {
    daemon: Option<VhostUserDaemon<Arc<VmBackend>>>,
    backend: Arc<VmBackend>,
}

impl VmConnection {
    fn daemon(&mut self) -> &mut VhostUserDaemon<Arc<VmBackend>> {
        self.daemon.as_mut().expect("present until dropped")
    }
}

impl Drop for VmConnection {
    fn drop(&mut self) {
        self.backend.stop_thread();
        drop(self.daemon.take());
        self.backend.retire();
    }
}

fn serve_as(core: &Arc<Core>, conn: UnixStream, builtin_ap: bool) -> Result<(), ServerError> {
    let vm = core
        .new_vm()
        .map_err(|e| ServerError::Connection(format!("inbox: {e}")))?;
    if builtin_ap {
        let _ = core.ap_vm.set(vm.id);
    }
    // Virtual time: UML guests get in-band notifications (the built-in AP's frontend in this
    // process keeps its eventfds; it does not negotiate them anyway).
    let inband = match core.vtime() {
        Some(_) if !builtin_ap => {
            Some(Arc::new(crate::vm::inband::Inband::new().map_err(|e| {
                ServerError::Connection(format!("in-band eventfds: {e}"))
            })?))
        }
        _ => None,
    };
    if let Some(i) = &inband {
        let _ = vm.inband.set(Arc::clone(i));
    }
    let hooks = inband.as_ref().map(|inband| {
        Arc::new(crate::vm::inband::InbandLink {
            inband: Arc::clone(inband),
            core: Arc::downgrade(core),
        }) as Arc<dyn crate::relay::InbandHooks>
    });
    let backend = Arc::new(
        VmBackend::with_inband(Arc::clone(core), Arc::clone(&vm), inband)
            .map_err(|e| ServerError::Connection(format!("stop event: {e}")))?,
    );
    let mem = GuestMemoryAtomic::new(GuestMemoryMmap::new());
    let daemon = VhostUserDaemon::new(
        format!("vhost-hwsim-vm{}", vm.id),
        Arc::clone(&backend),
        mem,
    )
    .map_err(|e| ServerError::Connection(format!("daemon: {e}")))?;
    for handler in daemon.get_epoll_handlers() {
        if let Err(e) =
            handler.register_listener(backend.stop_fd(), EventSet::IN, u64::from(STOP_EVENT))
        {
            // Nothing could end its epoll thread, and dropping the handler would wait for it:
            // leave both behind rather than hang the accept loop.
            std::mem::forget(daemon);
            return Err(ServerError::Connection(format!("epoll: {e}")));
        }
    }
    let mut connection = VmConnection {
        daemon: Some(daemon),
        backend,
    };
    for handler in connection.daemon().get_epoll_handlers() {
        handler
            .register_listener(vm.inbox.wake_fd(), EventSet::IN, u64::from(INBOX_EVENT))
            .map_err(|e| ServerError::Connection(format!("epoll: {e}")))?;
        if let Some(fd) = connection.backend.tx_poll_fd() {
            handler
                .register_listener(fd, EventSet::IN, u64::from(TX_POLL_EVENT))
                .map_err(|e| ServerError::Connection(format!("epoll: {e}")))?;
        }
    }
    attach(connection.daemon(), conn, vm.id, hooks)
        .map_err(|e| ServerError::Connection(format!("attach: {e}")))?;
    core.register_vm(&vm);
    tracing::info!(vm = vm.id, "VM connected");
    let id = vm.id;
    let teardown_core = Arc::clone(core);
    std::thread::Builder::new()
        .name(format!("vhost-hwsim-vm{id}-wait"))
        .spawn(move || {
            match connection.daemon().wait() {
                Ok(())
                | Err(vhost_user_backend::Error::HandleRequest(
                    vhost::vhost_user::Error::Disconnected
                    | vhost::vhost_user::Error::PartialMessage,
                )) => tracing::info!(vm = vm.id, "VM disconnected"),
                Err(e) => tracing::warn!(vm = vm.id, "VM connection ended: {e}"),
            }
            // Ending the connection joins the VM's epoll thread; only then can no frame of this
            // VM re-register a radio after we remove them.
            drop(connection);
            teardown_core.remove_vm(vm.id);
        })
        .map_err(|e| {
            // The closure, and the connection in it, are gone already.
            core.remove_vm(id);
            ServerError::Connection(e.to_string())
        })?;
    Ok(())
}
