//! Operating habits from the ecosystem: rust-vmm's `--socket-path` spelling, an inherited
//! listening descriptor (`--socket-fd`, systemd socket activation), RUST_LOG, plain logs when
//! stderr is no terminal, option checks before side effects, and a capture on stdout.
//! Each case runs the binary.

mod common;

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use hwsim_frame::nl::tx_flags;
use hwsim_guest::{Guest, GuestConfig};

fn daemon() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vhost-hwsim"));
    c.stdin(Stdio::null()).env_remove("RUST_LOG");
    c
}

/// Waits until `path` exists (the daemon's control socket), or panics.
fn wait_path(path: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// SIGTERM, then the exit status and everything the daemon wrote to stderr.
fn stop(mut child: Child) -> (std::process::ExitStatus, String) {
    // SAFETY: a plain kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status, err)
}

/// A guest connects over `socket` and gets its radio registered: the daemon serves there.
fn a_guest_is_served(socket: &std::path::Path) {
    let g = Guest::connect(&GuestConfig {
        socket: socket.to_owned(),
        ..GuestConfig::default()
    })
    .expect("guest connects");
    drop(g);
}

/// Makes each `(fd, target)`'s `fd` the child's descriptor `target` (without close-on-exec)
/// before it runs. The sources are first moved above any target, so that one `dup2` cannot
/// overwrite a source another still needs.
fn pass_fds(cmd: &mut Command, fds: &[(i32, i32)]) {
    assert!(fds.len() <= 8);
    let fds = fds.to_vec();
    // SAFETY: fcntl and dup2 are async-signal-safe, and pre_exec runs them in the child only.
    unsafe {
        cmd.pre_exec(move || {
            // No allocation between fork and exec: a fixed array.
            let mut high = [(0, 0); 8];
            for (slot, &(fd, target)) in high.iter_mut().zip(&fds) {
                let moved = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 100);
                if moved < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                *slot = (moved, target);
            }
            for &(moved, target) in &high[..fds.len()] {
                if libc::dup2(moved, target) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// A guest with two radios sends `n` frames of `payload` bytes from one to the other and waits
/// for their TX statuses.
fn send_acked_frames(socket: &std::path::Path, n: u8, payload: usize) {
    let mut g = Guest::connect(&GuestConfig {
        socket: socket.to_owned(),
        ..GuestConfig::default()
    })
    .unwrap();
    let (a, b) = (TestRadio::new(1, 0), TestRadio::new(1, 1));
    announce(&mut g, a, a.vif);
    announce(&mut g, b, b.vif);
    for i in 0..n {
        let frame = data_frame(b.vif, a.vif, &vec![i; payload]);
        send_frame(&mut g, a, &frame, 2412, tx_flags::REQ_TX_STATUS, i.into());
    }
    until(&mut g, |got| statuses(got).len() >= usize::from(n));
}

#[test]
fn socket_path_is_an_alias_of_socket_and_s_its_short_form() {
    for spelling in ["--socket-path", "-s"] {
        let dir = test_dir(&format!("ops-alias{spelling}"));
        let socket = dir.join("hwsim.sock");
        let control = dir.join("control.sock");
        let child = daemon()
            .arg(spelling)
            .arg(&socket)
            .arg("--control")
            .arg(&control)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_path(&control);
        a_guest_is_served(&socket);
        let (status, err) = stop(child);
        assert!(status.success(), "{spelling}: {err}");
        assert!(
            !socket.exists(),
            "{spelling}: the daemon's own socket file is removed"
        );
    }
}

#[test]
fn an_inherited_listening_socket_is_served_and_its_file_left_alone() {
    let dir = test_dir("ops-socket-fd");
    let socket = dir.join("vmm-made.sock");
    let control = dir.join("control.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let mut cmd = daemon();
    pass_fds(&mut cmd, &[(listener.as_raw_fd(), 5)]);
    let child = cmd
        .args(["--socket-fd", "5", "--control"])
        .arg(&control)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(listener);
    wait_path(&control);
    a_guest_is_served(&socket);
    let (status, err) = stop(child);
    assert!(status.success(), "{err}");
    assert!(err.contains("descriptor 5 (--socket-fd)"), "{err}");
    assert!(
        socket.exists(),
        "the file belongs to whoever made the socket"
    );
}

#[test]
fn systemd_socket_activation_gives_both_sockets_by_name() {
    let dir = test_dir("ops-activation");
    let socket = dir.join("activated.sock");
    let control = dir.join("activated-control.sock");
    let vhost = UnixListener::bind(&socket).unwrap();
    let ctl = UnixListener::bind(&control).unwrap();
    // Descriptors 3 and 4, in the order LISTEN_FDNAMES names them. LISTEN_PID must be the
    // daemon's own pid, known only in the child: a shell sets it and execs the daemon.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=control:vhost-user exec \"$0\"",
        env!("CARGO_BIN_EXE_vhost-hwsim"),
    ]);
    pass_fds(&mut cmd, &[(ctl.as_raw_fd(), 3), (vhost.as_raw_fd(), 4)]);
    let child = cmd
        .stdin(Stdio::null())
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop((vhost, ctl));
    // The listeners exist already: the guest's handshake waits until the daemon accepts.
    a_guest_is_served(&socket);
    // The control socket answers: the activated one named `control`.
    let stats = vhost_hwsim::control::request(&control, "stats").expect("stats");
    assert!(stats.contains("\"vms\""), "{stats}");
    let (status, err) = stop(child);
    assert!(status.success(), "{err}");
    assert!(err.contains("socket activation"), "{err}");
}

#[test]
fn rust_log_is_honoured_the_flag_wins_and_logs_are_plain() {
    let dir = test_dir("ops-log");
    let run = |rust_log: Option<&str>, flag: Option<&str>| {
        let socket = dir.join("hwsim.sock");
        let control = dir.join("control.sock");
        let mut cmd = daemon();
        cmd.arg("--socket")
            .arg(&socket)
            .arg("--control")
            .arg(&control)
            .stderr(Stdio::piped());
        if let Some(r) = rust_log {
            cmd.env("RUST_LOG", r);
        }
        if let Some(f) = flag {
            cmd.args(["--log", f]);
        }
        let child = cmd.spawn().unwrap();
        wait_path(&control);
        // "serving" is logged at info after both sockets exist.
        std::thread::sleep(Duration::from_millis(200));
        let (status, err) = stop(child);
        assert!(status.success(), "{err}");
        err
    };
    let default = run(None, None);
    assert!(default.contains("serving"), "{default}");
    assert!(
        !default.contains('\u{1b}'),
        "no colour on a pipe: {default:?}"
    );
    let quiet = run(Some("error"), None);
    assert!(!quiet.contains("serving"), "RUST_LOG=error: {quiet}");
    let flag_wins = run(Some("error"), Some("info"));
    assert!(
        flag_wins.contains("serving"),
        "--log info wins: {flag_wins}"
    );
}

#[test]
fn an_invalid_log_filter_is_an_error_naming_its_origin() {
    let dir = test_dir("ops-bad-log");
    let socket = dir.join("hwsim.sock");
    for (flag, env, origin) in [
        (Some("vhost_hwsim=loud"), None, "--log"),
        (None, Some("vhost_hwsim=loud"), "RUST_LOG"),
    ] {
        let mut cmd = daemon();
        cmd.arg("--socket").arg(&socket);
        if let Some(f) = flag {
            cmd.args(["--log", f]);
        }
        if let Some(e) = env {
            cmd.env("RUST_LOG", e);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains(origin) && err.contains("not a valid log filter"),
            "{err}"
        );
        assert!(!socket.exists(), "nothing is created before the check");
    }
}

#[test]
fn bad_counts_fail_before_anything_is_logged_or_created() {
    let dir = test_dir("ops-counts");
    let socket = dir.join("hwsim.sock");
    let capture = dir.join("cap.pcapng");
    for bad in [
        ["--inbox", "0"],
        ["--pool", "0"],
        ["--capture-max-files", "0"],
    ] {
        let out = daemon()
            .arg("--socket")
            .arg(&socket)
            .arg("--capture")
            .arg(&capture)
            .args(["--capture-max-bytes", "100000"])
            .args(bad)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "a usage error: {err}");
        assert!(err.contains(bad[0]) && err.contains("at least 1"), "{err}");
        assert!(!err.contains("INFO"), "nothing logged: {err}");
        assert!(!socket.exists() && !capture.exists(), "nothing created");
    }
}

#[test]
fn a_capture_on_stdout_is_a_pcapng_stream_and_cannot_rotate() {
    let dir = test_dir("ops-stdout");
    let socket = dir.join("hwsim.sock");
    let control = dir.join("control.sock");
    let mut child = daemon()
        .arg("--socket")
        .arg(&socket)
        .arg("--control")
        .arg(&control)
        .args(["--capture", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_path(&control);
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut stdout = stdout;
        stdout.read_to_end(&mut bytes).unwrap();
        bytes
    });
    send_acked_frames(&socket, 5, 40);
    let (status, err) = stop(child);
    assert!(status.success(), "{err}");
    let bytes = reader.join().unwrap();
    // A pcapng section header block first, then 5 frames somewhere after.
    assert_eq!(&bytes[..4], &[0x0a, 0x0d, 0x0d, 0x0a], "pcapng on stdout");
    let mut r = pcap_file::pcapng::PcapNgReader::new(&bytes[..]).expect("readable pcapng");
    let mut packets = 0;
    while let Some(block) = r.next_block() {
        if matches!(
            block.expect("block"),
            pcap_file::pcapng::Block::EnhancedPacket(_)
        ) {
            packets += 1;
        }
    }
    assert!(packets >= 5, "{packets} packets");

    let out = daemon()
        .arg("--socket")
        .arg(&socket)
        .args(["--capture", "-", "--capture-max-bytes", "100000"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot rotate"), "{err}");
    assert!(!socket.exists());
}

#[test]
fn rotation_keeps_at_most_max_files() {
    let dir = test_dir("ops-max-files");
    let socket = dir.join("hwsim.sock");
    let control = dir.join("control.sock");
    let capture = dir.join("cap.pcapng");
    let child = daemon()
        .arg("--socket")
        .arg(&socket)
        .arg("--control")
        .arg(&control)
        .arg("--capture")
        .arg(&capture)
        .args(["--capture-max-bytes", "2000", "--capture-max-files", "2"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_path(&control);
    send_acked_frames(&socket, 40, 200);
    let (status, err) = stop(child);
    assert!(status.success(), "{err}");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("cap"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?} ({err})");
    // 40 frames of ~300 bytes in 2000-byte files make at least 6 files; the first are gone.
    assert!(!files.contains(&"cap.pcapng".to_owned()), "{files:?}");
}

#[test]
fn man_page_and_completions_come_from_the_command_line_definition() {
    let out = daemon().arg("man").output().unwrap();
    assert!(out.status.success());
    let man = String::from_utf8(out.stdout).unwrap();
    assert!(man.contains(".TH vhost-hwsim 1"), "{man}");
    // Options added to clap appear without anyone editing the page.
    for option in ["socket\\-fd", "capture\\-max\\-files", "ap\\-config"] {
        assert!(man.contains(option), "man page lacks {option}");
    }
    for (shell, needle) in [
        ("bash", "--socket-path"),
        ("zsh", "--socket-path"),
        ("fish", "socket-fd"),
    ] {
        let out = daemon().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(needle), "{shell} completion lacks {needle}");
    }
    let out = daemon().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn demo_refuses_a_capture_on_stdout_it_would_garble() {
    for args in [
        &["--capture", "-", "demo"][..],
        &["demo", "--capture", "-"][..],
    ] {
        let out = daemon().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("standard output"), "{err}");
    }
}

/// The nice level of the daemon's thread named `name` (field 19 of its stat line).
fn thread_nice(pid: u32, name: &str) -> Option<i64> {
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let dir = task.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
        if comm.trim() == name {
            let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
            let rest = &stat[stat.rfind(')')? + 2..];
            // After the name: state is field 3 of the line, nice field 19.
            return rest.split_whitespace().nth(16)?.parse().ok();
        }
    }
    None
}

/// The capture writer's nice level, polled for up to 2 s until it is `want`: the writer sets
/// its level right after it starts, so wait for the level, not for the thread.
fn writer_nice_once_set(pid: u32, want: i64) -> Option<i64> {
    let mut seen = None;
    for _ in 0..100 {
        seen = thread_nice(pid, "capture-writer");
        if seen == Some(want) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    seen
}

#[test]
fn capture_nice_sets_the_writer_threads_priority_and_refuses_out_of_range() {
    let dir = test_dir("ops-capture-nice");
    let socket = dir.join("hwsim.sock");
    let capture = dir.join("cap.pcapng");
    for (nice, want) in [(None, 10), (Some("3"), 3)] {
        let mut cmd = daemon();
        cmd.arg("--socket")
            .arg(&socket)
            .arg("--capture")
            .arg(&capture)
            .stderr(Stdio::piped());
        if let Some(n) = nice {
            cmd.args(["--capture-nice", n]);
        }
        let child = cmd.spawn().unwrap();
        wait_path(&socket);
        let seen = writer_nice_once_set(child.id(), want);
        let (status, err) = stop(child);
        assert!(status.success(), "{err}");
        assert_eq!(seen, Some(want), "writer nice with {nice:?}");
    }
    let out = daemon()
        .arg("--socket")
        .arg(&socket)
        .arg("--capture")
        .arg(&capture)
        .args(["--capture-nice", "20"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "a usage error: {err}");
    assert!(err.contains("--capture-nice"), "{err}");
}

#[test]
fn a_capture_started_through_the_control_api_takes_the_command_lines_nice_level() {
    let dir = test_dir("ops-ctl-capture-nice");
    let socket = dir.join("hwsim.sock");
    let control = dir.join("control.sock");
    let capture = dir.join("cap.pcapng");
    let child = daemon()
        .arg("--socket")
        .arg(&socket)
        .arg("--control")
        .arg(&control)
        .args(["--capture-nice", "4"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_path(&control);
    assert_eq!(
        thread_nice(child.id(), "capture-writer"),
        None,
        "no capture yet"
    );
    let out = daemon()
        .arg("ctl")
        .arg("--control")
        .arg(&control)
        .args(["capture", "start"])
        .arg(&capture)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = writer_nice_once_set(child.id(), 4);
    let (status, err) = stop(child);
    assert!(status.success(), "{err}");
    assert_eq!(seen, Some(4), "the control API's capture writer");
    assert!(capture.exists());
}
