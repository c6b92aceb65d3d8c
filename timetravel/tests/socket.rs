//! The controller over its real Unix socket, against fake participants that speak the protocol
//! the way `arch/um/kernel/time.c` does: every request waits for its ACK, and RUN, FREE_UNTIL
//! and BROADCAST from the controller are ACKed as they arrive.

use std::io::{IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use hwsim_timetravel::controller::Config;
use hwsim_timetravel::server::{LocalEvent, ServerConfig, ServerError, ServerHandle};
use hwsim_timetravel::wire::{Message, Op, FOREVER, MESSAGE_LEN, NO_TIME};
use nix::cmsg_space;
use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};

const PATIENCE: Duration = Duration::from_secs(20);

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("hwsim-tt-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn sock(&self) -> PathBuf {
        self.0.join("time.sock")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Sends START from `fake` and waits until the controller has read it: a START that arrives
/// after the runner's WAIT joins only at the next turn (which is why the rig must name the
/// guests it expects, see `Config::expected`).
fn start_behind(server: &ServerHandle, fake: &mut Fake, id: u64) {
    let before = server.stats().joining;
    fake.send(Op::Start, id);
    let (_, held) = server.wait_for(PATIENCE, |s| s.joining > before);
    assert!(held, "START reached the controller");
}

fn serve(path: &Path, expected: usize) -> ServerHandle {
    let config = ServerConfig {
        controller: Config {
            expected,
            tod_at_zero: 1_000_000_000_000,
            ..Config::default()
        },
        ..ServerConfig::default()
    };
    ServerHandle::spawn(path, config).unwrap()
}

/// A participant that behaves like a UML guest's time-travel code.
struct Fake {
    stream: UnixStream,
    seq: u32,
    /// Controller-initiated messages seen, in order.
    seen: Vec<Message>,
}

impl Fake {
    fn connect(path: &Path) -> Fake {
        let stream = UnixStream::connect(path).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        Fake {
            stream,
            seq: 0,
            seen: Vec::new(),
        }
    }

    fn send(&mut self, op: Op, time: u64) -> u32 {
        self.seq += 1;
        self.stream
            .write_all(&Message::new(op, self.seq, time).emit())
            .unwrap();
        self.seq
    }

    fn recv(&mut self) -> Message {
        let mut buf = [0u8; MESSAGE_LEN];
        self.stream.read_exact(&mut buf).unwrap();
        Message::from_bytes(&buf)
    }

    /// Like the kernel's handling of a message from the controller: ACK what needs one.
    fn handle(&mut self, msg: Message) {
        if matches!(msg.op, Op::Run | Op::FreeUntil | Op::Broadcast) {
            self.seen.push(msg);
            self.stream
                .write_all(&Message::ack(msg.seq, 0).emit())
                .unwrap();
        }
    }

    /// Sends a request and waits for its ACK, handling anything else that arrives first.
    fn call(&mut self, op: Op, time: u64) -> Message {
        let seq = self.send(op, time);
        loop {
            let msg = self.recv();
            if msg.op == Op::Ack {
                assert_eq!(msg.seq, seq, "ACK answers the last request");
                return msg;
            }
            self.handle(msg);
        }
    }

    /// Sends START and reads its ACK with the descriptors it carries.
    fn start(&mut self, id: u64) -> (Message, Vec<OwnedFd>) {
        let seq = self.send(Op::Start, id);
        let (msg, fds) = self.recv_start_ack();
        assert_eq!(msg.seq, seq);
        (msg, fds)
    }

    fn recv_start_ack(&mut self) -> (Message, Vec<OwnedFd>) {
        let mut buf = [0u8; MESSAGE_LEN];
        let mut cmsg = cmsg_space!([std::os::fd::RawFd; 2]);
        let mut fds = Vec::new();
        let got = {
            let mut iov = [IoSliceMut::new(&mut buf)];
            let r = recvmsg::<UnixAddr>(
                self.stream.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::empty(),
            )
            .unwrap();
            for c in r.cmsgs().unwrap() {
                if let ControlMessageOwned::ScmRights(raw) = c {
                    for fd in raw {
                        // SAFETY: SCM_RIGHTS just installed this descriptor in our table and
                        // nothing else owns it.
                        fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
                    }
                }
            }
            r.bytes
        };
        assert_eq!(got, MESSAGE_LEN);
        let msg = Message::from_bytes(&buf);
        assert_eq!(msg.op, Op::Ack);
        (msg, fds)
    }

    /// WAIT, then block until RUN (ACKed like the kernel does); returns the RUN's time.
    fn wait_run(&mut self) -> u64 {
        self.call(Op::Wait, NO_TIME);
        self.await_run()
    }

    fn await_run(&mut self) -> u64 {
        loop {
            let msg = self.recv();
            assert_ne!(msg.op, Op::Ack, "no ACK is due while waiting");
            self.handle(msg);
            if msg.op == Op::Run {
                return msg.time;
            }
        }
    }

    /// The last FREE_UNTIL received.
    fn free_until(&self) -> Option<u64> {
        self.seen
            .iter()
            .rev()
            .find(|m| m.op == Op::FreeUntil)
            .map(|m| m.time)
    }

    /// True if the connection was closed by the controller.
    fn closed(&mut self) -> bool {
        let mut buf = [0u8; 64];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
    }
}

#[test]
fn start_ack_carries_two_descriptors_the_guest_cannot_map_writable() {
    let dir = Dir::new("start");
    let server = serve(&dir.sock(), 0);
    let mut a = Fake::connect(&dir.sock());
    let (ack, fds) = a.start(7);
    assert_eq!(ack.time, 0);
    assert_eq!(
        fds.len(),
        2,
        "Linux 6.12 reads two descriptors from this ACK"
    );
    for fd in fds {
        let seals = fcntl(fd.as_raw_fd(), FcntlArg::F_GET_SEALS).unwrap();
        let seals = SealFlag::from_bits_truncate(seals);
        assert!(
            seals.contains(SealFlag::F_SEAL_WRITE),
            "a shared writable map must fail"
        );
        let file = std::fs::File::from(fd);
        assert_eq!(file.metadata().unwrap().len(), 4096);
        let mut bytes = Vec::new();
        (&file).read_to_end(&mut bytes).unwrap();
        assert!(
            bytes.iter().all(|b| *b == 0),
            "version 0: not the kernel's version 2"
        );
    }
    // It runs first thing: GET says 0, GET_TOD the configured epoch.
    assert_eq!(a.call(Op::Get, NO_TIME).time, 0);
    assert_eq!(a.call(Op::GetTod, NO_TIME).time, 1_000_000_000_000);
    assert_eq!(a.free_until(), Some(FOREVER), "alone it may run freely");
    a.call(Op::Request, 5_000);
    assert_eq!(a.wait_run(), 5_000);
    assert_eq!(server.stats().now, 5_000);
}

/// The three-guest schedule of the controller's unit test, over the socket: connection order
/// c, a, b; admission and every turn by id and request time.
#[test]
fn three_guests_take_turns_by_request_time() {
    let dir = Dir::new("three");
    let server = serve(&dir.sock(), 3);
    let mut a = Fake::connect(&dir.sock());
    let mut b = Fake::connect(&dir.sock());
    let mut c = Fake::connect(&dir.sock());
    a.send(Op::Start, 30);
    c.send(Op::Start, 20);
    b.send(Op::Start, 10);
    // b (id 10) is admitted first, then c, then a, each when the previous one waits.
    b.recv_start_ack();
    b.call(Op::Request, 500);
    b.call(Op::Wait, NO_TIME);
    c.recv_start_ack();
    c.call(Op::Request, 300);
    c.call(Op::Wait, NO_TIME);
    a.recv_start_ack();
    a.call(Op::Request, 400);
    a.call(Op::Wait, NO_TIME);

    assert_eq!(c.await_run(), 300);
    assert_eq!(c.free_until(), Some(400));
    c.call(Op::Request, 700);
    assert_eq!(a.wait_run_after(&mut c), 400);
    assert_eq!(a.free_until(), Some(500));
    a.call(Op::Request, 1_000);
    assert_eq!(b.wait_run_after(&mut a), 500);
    assert_eq!(b.free_until(), Some(700));
    b.call(Op::Request, 2_000);
    assert_eq!(c.wait_run_after(&mut b), 700);
    c.call(Op::Request, FOREVER);
    assert_eq!(a.wait_run_after(&mut c), 1_000);
    let stats = server.stats();
    assert_eq!(stats.now, 1_000);
    assert_eq!(stats.controller.runs, 8, "3 admissions and 5 runs");
}

impl Fake {
    /// `other` (the runner) waits; then this one's RUN arrives.
    fn wait_run_after(&mut self, other: &mut Fake) -> u64 {
        other.call(Op::Wait, NO_TIME);
        self.await_run()
    }
}

/// A local participant's request lowers the running guest's FREE_UNTIL, and `request` returns
/// only after the guest ACKed it: the rule that lets the daemon answer a kick safely.
#[test]
fn a_local_request_returns_after_the_runner_acked_its_new_limit() {
    let dir = Dir::new("local");
    let server = serve(&dir.sock(), 0);
    let medium = server.add_local(0);
    let mut guest = Fake::connect(&dir.sock());
    guest.start(1);
    guest.call(Op::Update, 100);
    let (done_tx, done_rx) = mpsc::channel();
    let asker = std::thread::spawn(move || {
        medium.request(Some(2_000));
        done_tx.send(()).unwrap();
        medium
    });
    // The guest reads the FREE_UNTIL but holds its ACK back for a while.
    let limit = loop {
        let msg = guest.recv();
        if msg.op == Op::FreeUntil && msg.time == 2_000 {
            break msg;
        }
        guest.handle(msg);
    };
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        done_rx.try_recv().is_err(),
        "request() returned before the ACK"
    );
    guest
        .stream
        .write_all(&Message::ack(limit.seq, 0).emit())
        .unwrap();
    done_rx
        .recv_timeout(PATIENCE)
        .expect("request() returns after the ACK");
    let medium = asker.join().unwrap();

    // The guest idles; the medium runs at exactly its request, then nobody has anything to do.
    guest.call(Op::Request, FOREVER);
    guest.call(Op::Wait, NO_TIME);
    assert_eq!(medium.next_run(PATIENCE), Some(2_000));
    medium.request(None);
    medium.done();
    let (stats, idle) = server.wait_for(PATIENCE, |s| s.idle_at.is_some());
    assert!(idle);
    assert_eq!(stats.idle_at, Some(2_000));
    assert_eq!(stats.socket.ack_timeouts, 0);
}

#[test]
fn a_barrier_returns_after_the_runner_acked_the_limit_another_guest_caused() {
    let dir = Dir::new("barrier");
    let server = serve(&dir.sock(), 2);
    let medium = server.add_local(0);
    let mut runner = Fake::connect(&dir.sock());
    let mut waiter = Fake::connect(&dir.sock());
    start_behind(&server, &mut waiter, 2);
    runner.start(1);
    // Admission in id order: 1 runs first, 2 stays joined until 1 waits.
    runner.call(Op::Request, 5_000);
    runner.call(Op::Wait, NO_TIME);
    let (_, _) = waiter.recv_start_ack();
    waiter.call(Op::Request, FOREVER);
    waiter.call(Op::Wait, NO_TIME);
    assert_eq!(runner.await_run(), 5_000);
    runner.call(Op::Update, 6_000);
    // The runner is "in a kick": the waiting guest gets an interrupt and asks to run now, as
    // `time_travel_add_irq_event` does. That lowers the runner's limit.
    let got = waiter.call(Op::Get, NO_TIME);
    waiter.call(Op::Request, got.time);
    let (done_tx, done_rx) = mpsc::channel();
    let barrier = std::thread::spawn(move || {
        medium.barrier();
        done_tx.send(()).unwrap();
        medium
    });
    let limit = loop {
        let msg = runner.recv();
        if msg.op == Op::FreeUntil {
            break msg;
        }
        runner.handle(msg);
    };
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        done_rx.try_recv().is_err(),
        "barrier() returned before the ACK"
    );
    runner
        .stream
        .write_all(&Message::ack(limit.seq, 0).emit())
        .unwrap();
    done_rx
        .recv_timeout(PATIENCE)
        .expect("barrier() returns after the ACK");
    drop(barrier.join().unwrap());
    assert_eq!(server.stats().socket.ack_timeouts, 0);
}

#[test]
fn a_local_participant_is_woken_by_its_waker_and_by_its_turn() {
    let dir = Dir::new("waker");
    let server = serve(&dir.sock(), 0);
    let medium = server.add_local(0);
    assert_eq!(
        medium.next_event(Duration::from_millis(50)),
        LocalEvent::Timeout
    );
    let waker = medium.waker();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        waker.wake();
        waker.wake();
    });
    assert_eq!(medium.next_event(PATIENCE), LocalEvent::Woken);
    t.join().unwrap();
    // Wake-ups before it looks count as one.
    let _ = medium.next_event(Duration::ZERO);
    medium.waker().wake();
    medium.waker().wake();
    assert_eq!(medium.next_event(PATIENCE), LocalEvent::Woken);
    assert_eq!(
        medium.next_event(Duration::from_millis(50)),
        LocalEvent::Timeout
    );
    medium.request(Some(7_000));
    assert_eq!(medium.next_event(PATIENCE), LocalEvent::Run(7_000));
    assert_eq!(medium.now(), 7_000);
    medium.request(None);
    medium.done();
}

#[test]
fn a_departed_runner_lets_the_next_one_run() {
    let dir = Dir::new("depart");
    let server = serve(&dir.sock(), 0);
    let mut a = Fake::connect(&dir.sock());
    a.start(1);
    let mut b = Fake::connect(&dir.sock());
    start_behind(&server, &mut b, 2);
    a.call(Op::Request, 300);
    a.call(Op::Wait, NO_TIME);
    b.recv_start_ack();
    b.call(Op::Request, 900);
    b.call(Op::Wait, NO_TIME);
    assert_eq!(a.await_run(), 300);
    drop(a); // the runner goes away mid-turn
    assert_eq!(b.await_run(), 900);
    let (stats, _) = server.wait_for(PATIENCE, |s| s.participants == 1);
    assert_eq!(stats.participants, 1);
}

/// Garbage, truncation and a participant that never reads: each is disconnected and counted,
/// and a well-behaved guest keeps its schedule.
#[test]
fn hostile_participants_are_dropped_and_the_others_go_on() {
    let dir = Dir::new("hostile");
    let config = ServerConfig {
        max_outbox: 4,
        ..ServerConfig::default()
    };
    let server = ServerHandle::spawn(&dir.sock(), config).unwrap();
    let mut good = Fake::connect(&dir.sock());
    good.start(1);
    good.call(Op::Request, 1_000);
    good.call(Op::Wait, NO_TIME);
    assert_eq!(good.await_run(), 1_000);

    // A message before START, and RUN from a client.
    let mut early = Fake::connect(&dir.sock());
    early.send(Op::Request, 5);
    assert!(early.closed());
    let mut backwards = Fake::connect(&dir.sock());
    start_behind(&server, &mut backwards, 9);
    good.call(Op::Request, 2_000);
    good.call(Op::Wait, NO_TIME);
    backwards.recv_start_ack();
    backwards.send(Op::Run, 5);
    assert!(backwards.closed());
    assert_eq!(good.await_run(), 2_000);

    // Half a message, then gone.
    let mut torn = Fake::connect(&dir.sock());
    torn.stream.write_all(&[1, 0, 0, 0, 5, 0, 0]).unwrap();
    drop(torn);

    // A participant that floods GETs and never reads their ACKs. Its START must be in before
    // the good guest waits, so that it is admitted (and runs) next.
    let mut flood = UnixStream::connect(dir.sock()).unwrap();
    flood
        .write_all(&Message::new(Op::Start, 1, 50).emit())
        .unwrap();
    let (_, held) = server.wait_for(PATIENCE, |s| s.joining == 1);
    assert!(held);
    let writer = std::thread::spawn(move || {
        let mut ack = [0u8; MESSAGE_LEN];
        flood.read_exact(&mut ack).unwrap();
        let get = Message::new(Op::Get, 2, NO_TIME).emit();
        for _ in 0..200_000 {
            if flood.write_all(&get).is_err() {
                return;
            }
        }
    });
    good.call(Op::Request, 3_000);
    good.call(Op::Wait, NO_TIME);
    let (stats, held) = server.wait_for(PATIENCE, |s| {
        s.socket.slow_readers == 1 && s.socket.truncated == 1 && s.socket.violators == 2
    });
    assert!(held, "{stats:?}");
    writer.join().unwrap();
    assert_eq!(good.await_run(), 3_000);
    good.call(Op::Request, 4_000);
    assert_eq!(good.wait_run(), 4_000);
}

#[test]
fn the_socket_path_is_guarded() {
    let dir = Dir::new("path");
    let file = dir.0.join("not-a-socket");
    std::fs::write(&file, b"keep me").unwrap();
    match ServerHandle::spawn(&file, ServerConfig::default()) {
        Err(ServerError::NotASocket(p)) => assert_eq!(p, file),
        other => panic!("expected NotASocket, got {:?}", other.err()),
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");

    let first = serve(&dir.sock(), 0);
    match ServerHandle::spawn(&dir.sock(), ServerConfig::default()) {
        Err(ServerError::InUse(p)) => assert_eq!(p, dir.sock()),
        other => panic!("expected InUse, got {:?}", other.err()),
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.sock()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    drop(first);

    // A stale socket (nobody listening) is replaced.
    let stale = std::os::unix::net::UnixListener::bind(dir.sock()).unwrap();
    drop(stale);
    assert!(dir.sock().exists());
    let again = serve(&dir.sock(), 0);
    let mut a = Fake::connect(&dir.sock());
    a.start(1);
    drop(again);
}
