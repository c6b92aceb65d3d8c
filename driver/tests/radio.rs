//! The radio model through the daemon binary: `--config` places radios, distance shows in the
//! signal guests see, and an out-of-range receiver neither hears nor acknowledges.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use hwsim_frame::nl::tx_flags;
use hwsim_frame::MacAddr;

const SETTLE: Duration = Duration::from_millis(150);

fn write_config(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!(
        "vhost-hwsim-radio-{name}-{}.toml",
        std::process::id()
    ));
    std::fs::write(&p, text).unwrap();
    p
}

fn signal_of(g: &Got) -> i32 {
    match g {
        Got::Frame { signal, .. } => *signal,
        _ => unreachable!(),
    }
}

#[test]
fn distance_sets_signal_and_out_of_range_frames_are_not_acked() {
    let ap = TestRadio::new(0, 0);
    let (near, far, gone) = (
        TestRadio::new(1, 0),
        TestRadio::new(1, 1),
        TestRadio::new(1, 2),
    );
    let cfg = write_config(
        "distance",
        &format!(
            r#"
seed = 11
model = "radio"
path_loss = {{ model = "log_distance", exponent = 3.0 }}
[[node]]
name = "ap"
addresses = ["{}"]
position = [0, 0, 0]
[[node]]
name = "near"
addresses = ["{}"]
position = [2, 0, 0]
[[node]]
name = "far"
addresses = ["{}"]
position = [30, 0, 0]
[[node]]
name = "gone"
addresses = ["{}"]
position = [10000, 0, 0]
"#,
            ap.vif, near.vif, far.vif, gone.vif
        ),
    );
    let d = Daemon::start_with("radio-distance", &["--config", cfg.to_str().unwrap()]);
    let mut a = d.guest();
    let mut b = d.guest();
    announce(&mut a, ap, ap.vif);
    for r in [near, far, gone] {
        announce(&mut b, r, r.vif);
    }
    std::thread::sleep(SETTLE);

    // A broadcast reaches near and far at different signals, and not the radio 10 km away.
    let f = data_frame(MacAddr::BROADCAST, ap.vif, b"beacon-ish");
    send_frame(&mut a, ap, &f, 5180, tx_flags::REQ_TX_STATUS, 1);
    let got_b = until(&mut b, |g| g.len() >= 2);
    let got_b = [got_b, drain(&mut b, SETTLE)].concat();
    let (n, fr) = (frames_for(&got_b, near), frames_for(&got_b, far));
    assert_eq!((n.len(), fr.len()), (1, 1), "{got_b:?}");
    let (sn, sf) = (signal_of(n[0]), signal_of(fr[0]));
    // log-distance n = 3 from 2 m to 30 m: 30·log10(15) ≈ 35 dB.
    assert!((sn - sf - 35).abs() <= 1, "near {sn} dBm, far {sf} dBm");
    assert!(sn > -45 && sf < -65, "near {sn} dBm, far {sf} dBm");
    assert!(
        frames_for(&got_b, gone).is_empty(),
        "out of range hears nothing"
    );
    until(&mut a, |g| !statuses(g).is_empty());

    // Unicast to the far station is acknowledged; to the one out of range it is not, and every
    // attempt of the chain is reported used.
    let to_far = data_frame(far.vif, ap.vif, b"hello far");
    send_frame(&mut a, ap, &to_far, 5180, tx_flags::REQ_TX_STATUS, 2);
    let to_gone = data_frame(gone.vif, ap.vif, b"hello gone");
    send_frame(&mut a, ap, &to_gone, 5180, tx_flags::REQ_TX_STATUS, 3);
    let got_a = until(&mut a, |g| statuses(g).len() >= 2);
    let status = |cookie: u64| {
        got_a
            .iter()
            .find(|g| matches!(g, Got::Status { cookie: c, .. } if *c == cookie))
            .unwrap_or_else(|| panic!("status {cookie}: {got_a:?}"))
    };
    assert!(status(2).acked(), "{:?}", status(2));
    assert!(!status(3).acked(), "{:?}", status(3));
    match status(3) {
        Got::Status { tx_info, .. } => {
            assert_eq!((tx_info[0].count, tx_info[1].count), (2, 3), "{tx_info:?}")
        }
        _ => unreachable!(),
    }
    let got_b = drain(&mut b, SETTLE);
    assert!(frames_for(&got_b, gone).is_empty(), "{got_b:?}");
    assert_eq!(frames_for(&got_b, far).len(), 1, "{got_b:?}");
    let _ = std::fs::remove_file(cfg);
}

#[test]
fn a_bad_config_stops_the_daemon_with_line_and_column() {
    let cfg = write_config(
        "bad",
        "seed = 1\n[[node]]\nname = \"ap\"\nposition = [0, 0]\n",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vhost-hwsim"))
        .args(["--socket", "/nonexistent/x.sock", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 4, column 12"), "{err}");
    let _ = std::fs::remove_file(cfg);
}
