//! Every error names what it is about: a command that talks to a control socket says which
//! socket and what the failure usually means (the daemon is not running, the socket is stale,
//! the path is not a socket); a missing or unreadable file is named with its option and path.
//! Each case runs the binary and checks its exit status and stderr.

mod common;

use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::Output;

use common::*;

fn run(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_vhost-hwsim"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run vhost-hwsim")
}

/// Exit status 1, and stderr holds every one of `wanted`.
fn assert_error(args: &[&str], wanted: &[&str]) {
    let out = run(args);
    let err = strip_ansi(&String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    for w in wanted {
        assert!(err.contains(w), "{args:?}: stderr lacks {w:?}: {err}");
    }
}

/// Every command that talks to a control socket.
fn control_commands(control: &str) -> Vec<Vec<String>> {
    let c = control.to_owned();
    [
        vec!["stats", "--control", &c],
        vec!["reload", "--control", &c],
        vec!["reload", "--control", &c, "--config", "medium.toml"],
        vec!["ap", "--control", &c, "stats"],
        vec!["ap", "--control", &c, "remove-link", "1"],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(str::to_owned).collect())
    .collect()
}

fn run_each(commands: Vec<Vec<String>>, wanted: &[&str]) {
    for command in commands {
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        assert_error(&args, wanted);
    }
}

#[test]
fn a_missing_control_socket_is_named_and_the_daemon_may_not_be_running() {
    let dir = test_dir("errors-no-control");
    let missing = dir.join("nope.sock");
    let missing = missing.to_str().unwrap();
    run_each(
        control_commands(missing),
        &[
            &format!("control socket {missing}"),
            "No such file or directory",
            "is vhost-hwsim running",
        ],
    );
    // A relative path is named as given.
    run_each(
        control_commands("nope.sock"),
        &["control socket nope.sock", "is vhost-hwsim running"],
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_stale_control_socket_says_its_daemon_is_not_running() {
    let dir = test_dir("errors-stale-control");
    let stale = dir.join("control.sock");
    drop(UnixListener::bind(&stale).unwrap());
    let stale = stale.to_str().unwrap();
    run_each(
        control_commands(stale),
        &[
            &format!("control socket {stale}"),
            "Connection refused",
            "not running",
        ],
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_control_path_that_is_not_a_socket_says_so() {
    let dir = test_dir("errors-file-control");
    let file = dir.join("control.sock");
    std::fs::write(&file, b"not a socket").unwrap();
    let file = file.to_str().unwrap();
    run_each(
        control_commands(file),
        &[&format!("control socket {file}"), "not a socket"],
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn missing_files_are_named_with_their_option() {
    let dir = test_dir("errors-files");
    let missing = dir.join("missing.toml");
    let missing = missing.to_str().unwrap();
    let no_dir = dir.join("no-such-dir");
    let in_no_dir = |name: &str| no_dir.join(name).to_str().unwrap().to_owned();
    let (socket, control) = (
        dir.join("hwsim.sock").to_str().unwrap().to_owned(),
        dir.join("control.sock").to_str().unwrap().to_owned(),
    );
    let serve = |extra: &[&str]| {
        let mut v = vec!["--socket", &socket, "--control", &control];
        v.extend_from_slice(extra);
        v.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<String>, String)> = vec![
        (serve(&["--config", missing]), format!("--config {missing}")),
        (
            serve(&["--ap-config", missing]),
            format!("--ap-config {missing}"),
        ),
        (
            serve(&["--capture", &in_no_dir("air.pcapng")]),
            format!("--capture {}", in_no_dir("air.pcapng")),
        ),
        (
            vec!["--socket".into(), in_no_dir("hwsim.sock")],
            format!("socket {}", in_no_dir("hwsim.sock")),
        ),
        (
            vec![
                "--socket".into(),
                socket.clone(),
                "--control".into(),
                in_no_dir("control.sock"),
            ],
            format!("socket {}", in_no_dir("control.sock")),
        ),
        (
            vec!["budget".into(), "--config".into(), missing.into()],
            format!("--config {missing}"),
        ),
        (
            vec!["plot-per".into(), "--out".into(), in_no_dir("per.svg")],
            format!("--out {}", in_no_dir("per.svg")),
        ),
        (
            vec!["demo".into(), "--config".into(), missing.into()],
            format!("--config {missing}"),
        ),
        (
            vec!["demo".into(), "--capture".into(), in_no_dir("demo.pcapng")],
            format!("--capture {}", in_no_dir("demo.pcapng")),
        ),
        (
            vec!["demo".into(), "--socket".into(), in_no_dir("demo.sock")],
            format!("socket {}", in_no_dir("demo.sock")),
        ),
    ];
    for (args, named) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_error(&args, &[&named, "No such file or directory"]);
        // A daemon that did not start leaves no socket behind.
        assert!(!Path::new(&socket).exists() && !Path::new(&control).exists());
    }
    // A directory where a file should be.
    let d = dir.to_str().unwrap();
    assert_error(
        &["budget", "--config", d],
        &[&format!("--config {d}"), "Is a directory"],
    );
    assert_error(
        &serve(&["--capture", d])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &[&format!("--capture {d}"), "Is a directory"],
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn reload_of_a_missing_config_is_refused_with_its_path() {
    let d = Daemon::start("errors-reload-missing");
    let missing = d.dir().join("missing.toml");
    let out = run(&[
        "reload",
        "--control",
        d.control.to_str().unwrap(),
        "--config",
        missing.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("refused") && err.contains(missing.to_str().unwrap()),
        "{err}"
    );
    assert!(err.contains("No such file or directory"), "{err}");
}
