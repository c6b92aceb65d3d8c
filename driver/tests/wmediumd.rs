//! wmediumd's libconfig files through the daemon binary: `--wmediumd-config` sets the SNR
//! guests see, `convert` prints TOML that loads to the same config, a refused file stops the
//! daemon with its line, and `reload` keeps reading wmediumd files.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use hwsim_frame::nl::tx_flags;
use hwsim_frame::MacAddr;
use vhost_hwsim::config::Config;

const SETTLE: Duration = Duration::from_millis(150);

fn write_file(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!(
        "vhost-hwsim-wmediumd-{name}-{}.cfg",
        std::process::id()
    ));
    std::fs::write(&p, text).unwrap();
    p
}

fn binary(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vhost-hwsim"))
        .args(args)
        .stdin(Stdio::null())
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// An AP and two stations; SNR 40 dB to the near one, 10 dB to the far one.
fn snr_file(ap: MacAddr, near: MacAddr, far: MacAddr) -> String {
    format!(
        "ifaces :\n{{\n\tids = [ \"{ap}\", \"{near}\", \"{far}\" ];\n\tlinks = (\n\t\t(0, 1, 40),\n\t\t(0, 2, 10)\n\t);\n}};\n"
    )
}

#[test]
fn an_snr_matrix_sets_the_signal_guests_see() {
    let ap = TestRadio::new(0, 0);
    let (near, far) = (TestRadio::new(1, 0), TestRadio::new(1, 1));
    let cfg = write_file("snr", &snr_file(ap.vif, near.vif, far.vif));
    let d = Daemon::start_with(
        "wmediumd-snr",
        &["--wmediumd-config", cfg.to_str().unwrap()],
    );
    let mut a = d.guest();
    let mut b = d.guest();
    announce(&mut a, ap, ap.vif);
    announce(&mut b, near, near.vif);
    announce(&mut b, far, far.vif);
    std::thread::sleep(SETTLE);
    let f = data_frame(MacAddr::BROADCAST, ap.vif, b"beacon-ish");
    send_frame(&mut a, ap, &f, 5180, tx_flags::REQ_TX_STATUS, 1);
    let got = until(&mut b, |g| g.len() >= 2);
    let signal = |r: TestRadio| match frames_for(&got, r)[..] {
        [Got::Frame { signal, .. }] => *signal,
        ref other => panic!("{other:?}"),
    };
    // wmediumd reports SNR + its −91 dBm noise level.
    assert_eq!(signal(near), 40 - 91, "{got:?}");
    assert_eq!(signal(far), 10 - 91, "{got:?}");

    // reload reads the wmediumd format again: the far link now has 25 dB.
    let edited = snr_file(ap.vif, near.vif, far.vif).replace("(0, 2, 10)", "(0, 2, 25)");
    std::fs::write(&cfg, &edited).unwrap();
    let out = binary(&["reload", "--control", d.control.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    // A refused file keeps the medium in force.
    std::fs::write(&cfg, edited.replace("(0, 2, 25)", "(0, 2, 2.5)")).unwrap();
    let out = binary(&["reload", "--control", d.control.to_str().unwrap()]);
    assert!(!out.status.success());
    let answer = String::from_utf8_lossy(&out.stdout);
    assert!(answer.contains("line 6, column 10"), "{answer}");
    send_frame(&mut a, ap, &f, 5180, tx_flags::REQ_TX_STATUS, 2);
    let got = until(&mut b, |g| g.len() >= 2);
    let far_signal = match frames_for(&got, far)[..] {
        [Got::Frame { signal, .. }] => *signal,
        ref other => panic!("{other:?}"),
    };
    assert_eq!(far_signal, 25 - 91, "{got:?}");
    let _ = std::fs::remove_file(cfg);
}

#[test]
fn convert_prints_toml_that_loads_to_the_same_config() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/wmediumd-example.cfg");
    let out = binary(&["convert", example]);
    assert!(out.status.success(), "{out:?}");
    let toml = String::from_utf8(out.stdout).unwrap();
    let from_toml = Config::parse(&toml).unwrap();
    let text = std::fs::read_to_string(example).unwrap();
    assert_eq!(from_toml, Config::parse_wmediumd(&text).unwrap());
    assert_eq!(from_toml.nodes.len(), 3);
}

#[test]
fn a_refused_file_stops_the_daemon_with_its_line() {
    let cfg = write_file(
        "refused",
        "ifaces : { ids = [ \"02:00:00:00:00:00\", \"02:00:00:00:01:00\" ]; };\nmodel :\n{\n\ttype = \"path_loss\";\n\tmodel_name = \"two_ray_ground\";\n};\n",
    );
    let dir = test_dir("wmediumd-refused");
    let socket = dir.join("s.sock");
    let out = binary(&[
        "--socket",
        socket.to_str().unwrap(),
        "--wmediumd-config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 5, column 15"), "{err}");
    assert!(err.contains("two_ray_ground"), "{err}");
    assert!(!socket.exists(), "nothing is created for a refused file");
    let out = binary(&["convert", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_file(cfg);
}
