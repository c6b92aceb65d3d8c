//! The controller on a Unix socket: UML guests started with `time-travel=ext:ID:PATH` connect
//! here, and local participants (the daemon's medium) take part through [`LocalParticipant`].
//!
//! One thread owns the listening socket and every connection; it polls them, feeds what arrives
//! into the [`Controller`] and writes out what the controller answers, all under one lock that
//! local participants take for their calls. The kernel connects with `SOCK_STREAM`
//! (`os_connect_socket`), so messages are reassembled with [`Framer`]. Writes never block: a
//! participant that stops reading is disconnected once [`ServerConfig::max_outbox`] messages
//! wait for it, and `MSG_NOSIGNAL` keeps a closed peer from raising SIGPIPE.
//!
//! The ACK to START carries two file descriptors because Linux 6.12 reads two from it and uses
//! whatever it finds in its (uninitialised) array if none came. Both are the same write-sealed
//! memfd: the kernel's shared `mmap` of it fails, so it closes them and keeps to messages.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ffi::CString;
use std::io::{self, ErrorKind, IoSlice, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
use nix::sys::socket::{send, sendmsg, ControlMessage, MsgFlags, UnixAddr};

use crate::controller::{Config, Controller, Counters, Nanos, Output, ParticipantId};
use crate::wire::{shm, Framer, Message, MESSAGE_LEN};

/// How a server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// The scheduling core's configuration.
    pub controller: Config,
    /// Connections beyond this many are closed at once (counted).
    pub max_participants: usize,
    /// Messages that may wait for one slow reader before it is disconnected.
    pub max_outbox: usize,
    /// How long [`LocalParticipant::request`] waits for the runner's ACK of the FREE_UNTIL it
    /// caused before giving up (counted); only a broken participant takes that long.
    pub ack_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            controller: Config::default(),
            max_participants: 64,
            max_outbox: 1024,
            ack_timeout: Duration::from_secs(5),
        }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Something that is not a socket is in the way; it is left alone.
    #[error("{0}: exists and is not a socket; not replacing it")]
    NotASocket(PathBuf),
    /// A live controller answers on the path.
    #[error("another time-travel controller is serving {0}")]
    InUse(PathBuf),
    /// An I/O error, with what it was about.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: io::Error,
    },
}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> ServerError {
    let what = what.into();
    move |source| ServerError::Io { what, source }
}

/// What the socket side has counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SocketCounters {
    /// Connections accepted.
    pub accepted: u64,
    /// Connections closed at once because `max_participants` were connected.
    pub refused: u64,
    /// Connections that ended in the middle of a message.
    pub truncated: u64,
    /// Participants disconnected because they did not read their messages.
    pub slow_readers: u64,
    /// Participants disconnected for a protocol violation.
    pub violators: u64,
    /// Read or write errors other than the peer closing.
    pub io_errors: u64,
    /// Local requests that gave up waiting for the runner's ACK.
    pub ack_timeouts: u64,
}

/// A snapshot of a running server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Current simulated time.
    pub now: Nanos,
    /// Participants known (remote and local).
    pub participants: usize,
    /// Remote participants connected.
    pub remotes: usize,
    /// Participants whose START waits for its ACK.
    pub joining: usize,
    /// Set while time stands still because nobody has a request: since when.
    pub idle_at: Option<Nanos>,
    /// The controller's counters.
    pub controller: Counters,
    /// The socket side's counters.
    pub socket: SocketCounters,
    /// [`Controller::schedule_digest`].
    pub schedule_digest: u64,
}

struct State {
    controller: Controller,
    /// Turns granted to local participants and not yet taken.
    local_runs: BTreeMap<ParticipantId, Option<Nanos>>,
    socket: SocketCounters,
    idle_at: Option<Nanos>,
    /// Local participants woken by their [`LocalWaker`] and not yet told.
    woken: BTreeSet<ParticipantId>,
}

impl State {
    fn stats(&self) -> Stats {
        Stats {
            now: self.controller.now(),
            participants: self.controller.len(),
            remotes: self.controller.remotes(),
            joining: self.controller.joining(),
            idle_at: self.idle_at,
            controller: *self.controller.counters(),
            socket: self.socket,
            schedule_digest: self.controller.schedule_digest(),
        }
    }
}

struct Shared {
    state: Mutex<State>,
    /// Signalled after every batch the server thread handled (ACKs, turns).
    changed: Condvar,
    /// Wakes the server thread: outputs to write, or stop.
    wake: EventFd,
    stop: AtomicBool,
    ack_timeout: Duration,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves plain data behind; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake(&self) {
        // The counter cannot overflow in practice; a failed write only delays the wake-up
        // until the next socket event.
        let _ = self.wake.write(1);
    }
}

/// A running controller. Dropping it stops the thread and removes the socket file.
pub struct ServerHandle {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    path: PathBuf,
}

impl ServerHandle {
    /// Binds `path` (replacing a stale socket, refusing anything else) and starts serving.
    pub fn spawn(path: &Path, config: ServerConfig) -> Result<ServerHandle, ServerError> {
        let listener = bind(path)?;
        listener
            .set_nonblocking(true)
            .map_err(io_error(format!("{}: set non-blocking", path.display())))?;
        let declined_shm = declined_shared_memory()?;
        let wake = EventFd::from_value_and_flags(0, EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)
            .map_err(|e| io_error("eventfd")(e.into()))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                controller: Controller::new(config.controller),
                local_runs: BTreeMap::new(),
                socket: SocketCounters::default(),
                idle_at: None,
                woken: BTreeSet::new(),
            }),
            changed: Condvar::new(),
            wake,
            stop: AtomicBool::new(false),
            ack_timeout: config.ack_timeout,
        });
        let mut worker = Worker {
            shared: shared.clone(),
            listener,
            conns: BTreeMap::new(),
            declined_shm,
            config,
        };
        let thread = std::thread::Builder::new()
            .name("time-travel".into())
            .spawn(move || worker.run())
            .map_err(io_error("spawn the time-travel thread"))?;
        Ok(ServerHandle {
            shared,
            thread: Some(thread),
            path: path.to_owned(),
        })
    }

    /// The socket path guests connect to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds a local participant (see [`Controller::add_local`]).
    pub fn add_local(&self, name: u64) -> LocalParticipant {
        let mut state = self.shared.lock();
        let id = state.controller.add_local(name);
        state.local_runs.insert(id, None);
        drop(state);
        self.shared.wake();
        LocalParticipant {
            shared: self.shared.clone(),
            id,
        }
    }

    /// A snapshot of time and counters.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats()
    }

    /// Every participant's (name, absolute request, running) (see
    /// [`Controller::schedule_table`]).
    pub fn schedule_table(&self) -> Vec<(u64, Option<Nanos>, bool)> {
        self.shared.lock().controller.schedule_table()
    }

    /// Every turn granted so far (see [`Config::record_turns`]).
    pub fn turns(&self) -> Vec<(u64, Nanos)> {
        self.shared.lock().controller.turns().to_vec()
    }

    /// Waits up to `timeout` until `done` holds for the stats (checked after every batch the
    /// server handles); returns the last snapshot and whether it held.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&Stats) -> bool) -> (Stats, bool) {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            let stats = state.stats();
            let left = deadline.saturating_duration_since(Instant::now());
            if done(&stats) || left.is_zero() {
                let held = done(&stats);
                return (stats, held);
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Stops serving, closes every connection and removes the socket file.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A participant that lives in this process (the medium): it asks for turns and is told when
/// it runs.
pub struct LocalParticipant {
    shared: Arc<Shared>,
    id: ParticipantId,
}

impl LocalParticipant {
    /// The controller's id for it.
    pub fn id(&self) -> ParticipantId {
        self.id
    }

    /// Current simulated time.
    pub fn now(&self) -> Nanos {
        self.shared.lock().controller.now()
    }

    /// A snapshot of the server's time and counters (e.g. whether any guest is still there).
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats()
    }

    /// Sets (`Some`, absolute) or withdraws its next turn. Returns once the running guest, if
    /// it had to be told (a lower FREE_UNTIL), has acknowledged: a guest blocked in a kick may
    /// then be answered and cannot run past this request.
    pub fn request(&self, at: Option<Nanos>) {
        let mut state = self.shared.lock();
        if state.controller.local_request(self.id, at).is_err() {
            return;
        }
        self.shared.wake();
        self.wait_acked(state);
    }

    /// Asks for a turn as soon as it is safe ([`Controller::safe_now`]) and returns the time
    /// asked for (`None` if that is no time: a runner alone holds FREE_UNTIL = FOREVER).
    /// Returns like [`LocalParticipant::request`].
    pub fn request_asap(&self, runner_synced: bool) -> Option<Nanos> {
        let mut state = self.shared.lock();
        let at = state.controller.safe_now(runner_synced);
        if at >= crate::wire::FOREVER {
            return None;
        }
        if state.controller.local_request(self.id, Some(at)).is_err() {
            return None;
        }
        self.shared.wake();
        self.wait_acked(state);
        Some(at)
    }

    /// Returns once the running participant (if another one) has acknowledged every message
    /// sent to it, e.g. the lower FREE_UNTIL a waiting guest's REQUEST caused: what has been
    /// requested so far is then known to the runner, and a guest blocked in a kick may be
    /// answered. Gives up after [`ServerConfig::ack_timeout`] (counted).
    pub fn barrier(&self) {
        let state = self.shared.lock();
        self.wait_acked(state);
    }

    fn wait_acked(&self, mut state: MutexGuard<'_, State>) {
        let deadline = Instant::now() + self.shared.ack_timeout;
        loop {
            let runner = state.controller.running();
            let pending = runner.is_some_and(|r| r != self.id && state.controller.unacked(r) > 0);
            if !pending {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                state.socket.ack_timeouts += 1;
                return;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// A handle other threads use to interrupt [`LocalParticipant::next_event`] (e.g. "work
    /// arrived for you while somebody else runs").
    pub fn waker(&self) -> LocalWaker {
        LocalWaker {
            shared: self.shared.clone(),
            id: self.id,
        }
    }

    /// Waits up to `timeout` for its turn or for its [`LocalWaker`]. A turn granted is reported
    /// before a wake-up; a wake-up that came before the call is reported at once.
    pub fn next_event(&self, timeout: Duration) -> LocalEvent {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if let Some(at) = state.local_runs.get_mut(&self.id).and_then(Option::take) {
                return LocalEvent::Run(at);
            }
            if state.woken.remove(&self.id) {
                return LocalEvent::Woken;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return LocalEvent::Timeout;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits up to `timeout` for its turn; `Some(now)` when it runs. It must end the turn with
    /// [`LocalParticipant::done`].
    pub fn next_run(&self, timeout: Duration) -> Option<Nanos> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if let Some(at) = state.local_runs.get_mut(&self.id).and_then(Option::take) {
                return Some(at);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Ends its turn (set the next request first).
    pub fn done(&self) {
        let mut state = self.shared.lock();
        let _ = state.controller.local_wait(self.id);
        drop(state);
        self.shared.wake();
    }
}

impl Drop for LocalParticipant {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.controller.disconnect(self.id);
        state.local_runs.remove(&self.id);
        state.woken.remove(&self.id);
        drop(state);
        self.shared.wake();
    }
}

/// What ended [`LocalParticipant::next_event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalEvent {
    /// Its turn, at this time; end it with [`LocalParticipant::done`].
    Run(Nanos),
    /// Its [`LocalWaker`] was used.
    Woken,
    /// Neither happened within the timeout.
    Timeout,
}

/// Wakes one local participant's [`LocalParticipant::next_event`] from another thread.
#[derive(Clone)]
pub struct LocalWaker {
    shared: Arc<Shared>,
    id: ParticipantId,
}

impl LocalWaker {
    /// Makes the participant's current or next [`LocalParticipant::next_event`] return
    /// [`LocalEvent::Woken`] (several wake-ups before it looks count as one).
    pub fn wake(&self) {
        let mut state = self.shared.lock();
        state.woken.insert(self.id);
        drop(state);
        self.shared.changed.notify_all();
    }
}

/// One message waiting to be written, and how much of it went out already.
struct Outgoing {
    bytes: [u8; MESSAGE_LEN],
    written: usize,
    with_fds: bool,
}

struct Conn {
    stream: UnixStream,
    framer: Framer,
    outbox: VecDeque<Outgoing>,
    dead: bool,
}

struct Worker {
    shared: Arc<Shared>,
    listener: UnixListener,
    conns: BTreeMap<ParticipantId, Conn>,
    declined_shm: OwnedFd,
    config: ServerConfig,
}

impl Worker {
    fn run(&mut self) {
        while !self.shared.stop.load(Ordering::SeqCst) {
            let ready = self.poll_once();
            let shared = self.shared.clone();
            let mut state = shared.lock();
            self.handle(&mut state, &ready);
            self.pump(&mut state);
            drop(state);
            shared.changed.notify_all();
        }
    }

    /// Waits for any socket; returns (listener, wake, per-connection (id, readable, writable)).
    fn poll_once(&self) -> Ready {
        let mut fds = Vec::with_capacity(self.conns.len() + 2);
        fds.push(PollFd::new(self.listener.as_fd(), PollFlags::POLLIN));
        fds.push(PollFd::new(self.shared.wake.as_fd(), PollFlags::POLLIN));
        let mut ids = Vec::with_capacity(self.conns.len());
        for (id, conn) in &self.conns {
            let mut flags = PollFlags::POLLIN;
            if !conn.outbox.is_empty() {
                flags |= PollFlags::POLLOUT;
            }
            fds.push(PollFd::new(conn.stream.as_fd(), flags));
            ids.push(*id);
        }
        let mut ready = Ready::default();
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(Errno::EINTR) => return ready,
            Err(_) => {
                // Nothing sensible to do but try again; avoid spinning.
                std::thread::sleep(Duration::from_millis(10));
                return ready;
            }
        }
        let revents = |fd: &PollFd| fd.revents().unwrap_or(PollFlags::empty());
        ready.accept = !revents(&fds[0]).is_empty();
        ready.wake = !revents(&fds[1]).is_empty();
        for (fd, id) in fds[2..].iter().zip(ids) {
            let ev = revents(fd);
            let readable =
                ev.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR);
            ready
                .conns
                .push((id, readable, ev.contains(PollFlags::POLLOUT)));
        }
        ready
    }

    fn handle(&mut self, state: &mut State, ready: &Ready) {
        if ready.wake {
            let _ = self.shared.wake.read();
        }
        if ready.accept {
            self.accept(state);
        }
        for &(id, readable, writable) in &ready.conns {
            if readable {
                self.read(state, id);
            }
            if writable {
                if let Some(conn) = self.conns.get_mut(&id) {
                    flush_conn(conn, &self.declined_shm, &mut state.socket);
                }
            }
        }
    }

    fn accept(&mut self, state: &mut State) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if self.conns.len() >= self.config.max_participants
                        || stream.set_nonblocking(true).is_err()
                    {
                        state.socket.refused += 1;
                        continue;
                    }
                    state.socket.accepted += 1;
                    let id = state.controller.connect();
                    self.conns.insert(
                        id,
                        Conn {
                            stream,
                            framer: Framer::new(),
                            outbox: VecDeque::new(),
                            dead: false,
                        },
                    );
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    // E.g. out of descriptors: the listener stays readable, so do not spin.
                    state.socket.io_errors += 1;
                    std::thread::sleep(Duration::from_millis(10));
                    return;
                }
            }
        }
    }

    fn read(&mut self, state: &mut State, id: ParticipantId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let mut buf = [0u8; 4096];
        loop {
            match conn.stream.read(&mut buf) {
                Ok(0) => {
                    if conn.framer.pending() > 0 {
                        state.socket.truncated += 1;
                    }
                    conn.dead = true;
                    return;
                }
                Ok(n) => {
                    let mut rest = &buf[..n];
                    while let Some(msg) = conn.framer.next_message(&mut rest) {
                        tracing::trace!(?id, op = ?msg.op, seq = msg.seq, time = msg.time, "in");
                        state.controller.receive(id, msg);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    state.socket.io_errors += 1;
                    conn.dead = true;
                    return;
                }
            }
        }
    }

    /// Applies the controller's outputs and reaps dead connections until nothing is left.
    fn pump(&mut self, state: &mut State) {
        loop {
            let mut progressed = false;
            while let Some(out) = state.controller.take_output() {
                progressed = true;
                self.apply(state, out);
            }
            let dead: Vec<ParticipantId> = self
                .conns
                .iter()
                .filter(|(_, c)| c.dead)
                .map(|(id, _)| *id)
                .collect();
            for id in dead {
                progressed = true;
                self.conns.remove(&id);
                state.controller.disconnect(id);
            }
            if !progressed {
                return;
            }
        }
    }

    fn apply(&mut self, state: &mut State, out: Output) {
        match out {
            Output::Send { to, msg } => {
                if msg.op == crate::wire::Op::Run {
                    state.idle_at = None;
                }
                self.queue(state, to, msg, false);
            }
            Output::StartAck { to, msg } => {
                state.idle_at = None;
                self.queue(state, to, msg, true);
            }
            Output::RunLocal { who, at } => {
                state.idle_at = None;
                if let Some(slot) = state.local_runs.get_mut(&who) {
                    *slot = Some(at);
                }
            }
            Output::Disconnect { who, .. } => {
                state.socket.violators += 1;
                if let Some(conn) = self.conns.get_mut(&who) {
                    conn.dead = true;
                }
            }
            Output::Idle { at } => state.idle_at = Some(at),
        }
    }

    fn queue(&mut self, state: &mut State, to: ParticipantId, msg: Message, with_fds: bool) {
        let Some(conn) = self.conns.get_mut(&to) else {
            return;
        };
        if conn.dead {
            return;
        }
        if conn.outbox.len() >= self.config.max_outbox {
            state.socket.slow_readers += 1;
            conn.dead = true;
            return;
        }
        tracing::trace!(id = ?to, op = ?msg.op, seq = msg.seq, time = msg.time, "out");
        conn.outbox.push_back(Outgoing {
            bytes: msg.emit(),
            written: 0,
            with_fds,
        });
        flush_conn(conn, &self.declined_shm, &mut state.socket);
    }
}

#[derive(Default)]
struct Ready {
    accept: bool,
    wake: bool,
    conns: Vec<(ParticipantId, bool, bool)>,
}

/// Writes as much of the outbox as the socket takes now.
fn flush_conn(conn: &mut Conn, declined_shm: &OwnedFd, counters: &mut SocketCounters) {
    let fd = conn.stream.as_raw_fd();
    while let Some(front) = conn.outbox.front_mut() {
        let result = if front.with_fds && front.written == 0 {
            let shm_fd = declined_shm.as_raw_fd();
            let fds = [shm_fd, shm_fd];
            let cmsgs = [ControlMessage::ScmRights(&fds)];
            let iov = [IoSlice::new(&front.bytes)];
            sendmsg::<UnixAddr>(fd, &iov, &cmsgs, MsgFlags::MSG_NOSIGNAL, None)
        } else {
            send(fd, &front.bytes[front.written..], MsgFlags::MSG_NOSIGNAL)
        };
        match result {
            Ok(n) => {
                front.written += n;
                if front.written == MESSAGE_LEN {
                    conn.outbox.pop_front();
                }
            }
            Err(Errno::EAGAIN) => return,
            Err(Errno::EINTR) => continue,
            Err(Errno::EPIPE | Errno::ECONNRESET) => {
                conn.dead = true;
                return;
            }
            Err(_) => {
                counters.io_errors += 1;
                conn.dead = true;
                return;
            }
        }
    }
}

/// Binds the listening socket: a stale socket file is replaced, a live one or a non-socket is
/// refused and left alone; the socket is made 0600.
fn bind(path: &Path) -> Result<UnixListener, ServerError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => {
            return Err(ServerError::NotASocket(path.to_owned()))
        }
        Ok(_) => {
            if UnixStream::connect(path).is_ok() {
                return Err(ServerError::InUse(path.to_owned()));
            }
            std::fs::remove_file(path)
                .map_err(io_error(format!("{}: remove stale socket", path.display())))?;
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(format!("{}", path.display()))(e)),
    }
    let listener =
        UnixListener::bind(path).map_err(io_error(format!("{}: bind", path.display())))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(io_error(format!("{}: chmod 0600", path.display())))?;
    Ok(listener)
}

/// A memfd the kernel cannot map writable (sealed against writes), one page long and all
/// zeros: version 0 even if something did map it.
fn declined_shared_memory() -> Result<OwnedFd, ServerError> {
    let name = CString::new("um-timetravel-declined").unwrap_or_default();
    let fd = memfd_create(
        &name,
        MemFdCreateFlag::MFD_CLOEXEC | MemFdCreateFlag::MFD_ALLOW_SEALING,
    )
    .map_err(|e| io_error("memfd_create")(e.into()))?;
    nix::unistd::ftruncate(&fd, shm::HEADER_LEN as i64)
        .map_err(|e| io_error("ftruncate memfd")(e.into()))?;
    let seals = SealFlag::F_SEAL_WRITE
        | SealFlag::F_SEAL_GROW
        | SealFlag::F_SEAL_SHRINK
        | SealFlag::F_SEAL_SEAL;
    fcntl(fd.as_raw_fd(), FcntlArg::F_ADD_SEALS(seals))
        .map_err(|e| io_error("seal memfd")(e.into()))?;
    Ok(fd)
}
