//! The daemon never destroys what is not its own: whatever is at `--socket` or `--control` that
//! is not a socket makes it refuse and stays as it was; a socket that answers belongs to a
//! running daemon and makes a second one refuse; a stale socket is replaced. Sockets are created
//! 0600 unless `--socket-mode` says otherwise, and on exit the daemon removes only the sockets
//! it created. Every refusal comes before any other side effect.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::*;

fn daemon_cmd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vhost-hwsim"))
}

/// Runs a daemon that is expected to refuse to start; kills it if it runs longer than 10 s.
fn run_refused(args: &[&std::ffi::OsStr]) -> Output {
    let mut child = daemon_cmd()
        .args(args)
        .arg("--log")
        .arg("info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run vhost-hwsim");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the daemon started instead of refusing: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    strip_ansi(&String::from_utf8_lossy(&out.stderr))
}

/// A socket file nobody listens on, as a daemon killed with SIGKILL leaves it.
fn stale_socket(path: &Path) {
    drop(UnixListener::bind(path).unwrap());
    assert!(std::fs::symlink_metadata(path).is_ok());
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

/// A refusal: exit status 1, the message names the path, nothing was started or created (no
/// capture file, no other socket, no log line), and only the given entries are left in the
/// directory.
fn assert_refused_cleanly(out: &Output, dir: &Path, path: &Path, what: &str, left: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&path.display().to_string()),
        "names the path: {err}"
    );
    assert!(err.contains(what), "says what is there ({what}): {err}");
    // The error is all it says: no log line (medium, serving, capture report) before it.
    assert_eq!(err.lines().count(), 1, "nothing logged as started: {err}");
    assert!(err.starts_with("vhost-hwsim: "), "{err}");
    let mut entries: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries, left,
        "no capture file, no socket, no private directory"
    );
}

#[test]
fn a_regular_file_or_directory_at_either_path_is_refused_and_left_alone() {
    let dir = test_dir("sockets-not-ours");
    let file = dir.join("notes.txt");
    std::fs::write(&file, b"precious\n").unwrap();
    let subdir = dir.join("a-directory");
    std::fs::create_dir(&subdir).unwrap();
    std::fs::write(subdir.join("inside"), b"also precious\n").unwrap();
    let fresh = dir.join("fresh.sock");
    let capture = dir.join("air.pcapng");
    let cases: [(&str, &Path, &Path, &str); 4] = [
        ("--socket", &file, &fresh, "is a regular file, not a socket"),
        (
            "--control",
            &file,
            &fresh,
            "is a regular file, not a socket",
        ),
        ("--socket", &subdir, &fresh, "is a directory, not a socket"),
        ("--control", &subdir, &fresh, "is a directory, not a socket"),
    ];
    for (option, taken, other, what) in cases {
        let (socket, control) = if option == "--socket" {
            (taken, other)
        } else {
            (other, taken)
        };
        let out = run_refused(&[
            "--socket".as_ref(),
            socket.as_os_str(),
            "--control".as_ref(),
            control.as_os_str(),
            "--capture".as_ref(),
            capture.as_os_str(),
        ]);
        assert_refused_cleanly(&out, &dir, taken, what, &["a-directory", "notes.txt"]);
        assert_eq!(std::fs::read(&file).unwrap(), b"precious\n", "{option}");
        assert_eq!(
            std::fs::read(subdir.join("inside")).unwrap(),
            b"also precious\n"
        );
    }
    // A symbolic link is not followed, even to a stale socket, and not removed either.
    let target = dir.join("target.sock");
    stale_socket(&target);
    let link = dir.join("link.sock");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = run_refused(&["--socket".as_ref(), link.as_os_str()]);
    assert_refused_cleanly(
        &out,
        &dir,
        &link,
        "is a symbolic link, not a socket",
        &["a-directory", "link.sock", "notes.txt", "target.sock"],
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_socket_a_daemon_serves_makes_a_second_daemon_refuse() {
    let mut first = Daemon::start("sockets-live");
    let dir = test_dir("sockets-live-second");
    let capture = dir.join("air.pcapng");
    // Its vhost-user socket, then its control socket, each with a path of the second's own.
    let own_socket = dir.join("own.sock");
    let own_control = dir.join("own-control.sock");
    let cases = [
        (
            first.socket.clone(),
            own_control.clone(),
            first.socket.clone(),
        ),
        (
            own_socket.clone(),
            first.control.clone(),
            first.control.clone(),
        ),
    ];
    for (socket, control, taken) in cases {
        let out = run_refused(&[
            "--socket".as_ref(),
            socket.as_os_str(),
            "--control".as_ref(),
            control.as_os_str(),
            "--capture".as_ref(),
            capture.as_os_str(),
        ]);
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "another vhost-hwsim is serving {}",
                taken.display()
            )),
            "{err}"
        );
        assert_refused_cleanly(&out, &dir, &taken, "another vhost-hwsim", &[]);
    }
    // The first daemon still serves both sockets.
    assert!(first.alive());
    let _guest = first.guest();
    assert!(first.stats()["vms"].is_array());
    assert!(first.terminate().success());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn stale_sockets_are_replaced_and_the_daemon_serves_them() {
    let dir = test_dir("sockets-stale");
    let socket = dir.join("hwsim.sock");
    let control = dir.join("control.sock");
    stale_socket(&socket);
    stale_socket(&control);
    let mut child = daemon_cmd()
        .arg("--socket")
        .arg(&socket)
        .arg("--control")
        .arg(&control)
        .arg("--log")
        .arg("warn")
        .spawn()
        .unwrap();
    // The stale files are there from the start: wait until the daemon answers on both.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while vhost_hwsim::control::request(&control, "stats").is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "control socket never answered"
        );
        assert!(child.try_wait().unwrap().is_none(), "the daemon exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    let guest = hwsim_guest::Guest::connect(&hwsim_guest::GuestConfig {
        socket: socket.clone(),
        ..hwsim_guest::GuestConfig::default()
    })
    .expect("a guest connects to the replaced socket");
    drop(guest);
    assert_eq!(mode(&socket), 0o600);
    assert_eq!(mode(&control), 0o600);
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());
    assert!(!socket.exists() && !control.exists(), "removed on exit");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sockets_are_0600_by_default() {
    let mut d = Daemon::start("sockets-mode-default");
    assert_eq!(mode(&d.socket), 0o600, "vhost-user socket");
    assert_eq!(mode(&d.control), 0o600, "control socket");
    assert!(d.terminate().success());
}

/// Starts a daemon with `--socket-mode` under umask 077: the mode is what the option says, not
/// what a umask would leave of it.
fn daemon_with_mode(dir: &Path, mode_arg: &str) -> (std::process::Child, PathBuf, PathBuf) {
    let socket = dir.join("hwsim.sock");
    let control = dir.join("control.sock");
    let mut cmd = daemon_cmd();
    cmd.arg("--socket")
        .arg(&socket)
        .arg("--control")
        .arg(&control)
        .arg("--socket-mode")
        .arg(mode_arg)
        .arg("--log")
        .arg("warn");
    // SAFETY: umask(2) is async-signal-safe and touches no memory; it runs in the child
    // between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o077);
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    wait_for_path(&socket);
    wait_for_path(&control);
    (child, socket, control)
}

#[test]
fn socket_mode_sets_the_permissions_of_both_sockets() {
    let dir = test_dir("sockets-mode-option");
    for (arg, want) in [("0660", 0o660), ("666", 0o666), ("0640", 0o640)] {
        let (mut child, socket, control) = daemon_with_mode(&dir, arg);
        assert_eq!(
            mode(&socket),
            want,
            "--socket-mode {arg}: vhost-user socket"
        );
        assert_eq!(mode(&control), want, "--socket-mode {arg}: control socket");
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        assert!(child.wait().unwrap().success());
    }
    for bad in ["0800", "1777", "rw", ""] {
        let out = daemon_cmd()
            .args(["--socket", "/nonexistent/never.sock", "--socket-mode", bad])
            .output()
            .unwrap();
        assert!(!out.status.success(), "--socket-mode {bad:?} accepted");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--socket-mode"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn on_exit_the_daemon_removes_its_own_sockets_only() {
    let mut d = Daemon::start("sockets-exit");
    // Someone replaces the daemon's socket with a file of theirs while it runs.
    std::fs::remove_file(&d.socket).unwrap();
    std::fs::write(&d.socket, b"not the daemon's\n").unwrap();
    assert!(d.terminate().success());
    assert_eq!(
        std::fs::read(&d.socket).unwrap(),
        b"not the daemon's\n",
        "a file that is not its socket stays"
    );
    assert!(!d.control.exists(), "its own control socket is removed");
}
