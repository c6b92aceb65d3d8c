//! hwsim-load's frames as a dissector sees them: a capture of a short run (an in-process
//! daemon, two worker VMs) decodes in tshark with no malformed packet, every data frame an
//! LLC/SNAP frame of EtherType 0x88B5 carrying the `hwsim-ld` tag.
//!
//! Needs a tshark (the one in the chroot `HWSIM_TSHARK_ROOT` names, else the one on `PATH`);
//! without one the test says SKIPPED, except under CI (`CI=true`), where it fails.

use std::sync::Arc;

use hwsim_frame::tshark;
use vhost_hwsim::capture::CaptureConfig;
use vhost_hwsim::core::{Core, Limits};
use vhost_hwsim::medium::PerfectMedium;

#[test]
fn hwsim_load_frames_decode_without_malformed_packets() {
    let Some(root) = tshark::tsharks().pop() else {
        let why = "no tshark (install it, or set HWSIM_TSHARK_ROOT)";
        assert!(!std::env::var("CI").is_ok_and(|v| v == "true"), "{why}");
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED hwsim_load_frames_decode_without_malformed_packets: {why}"
        );
        return;
    };
    let dir = std::env::temp_dir().join(format!("hwsim-load-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (file, socket) = (dir.join("load.pcapng"), dir.join("hwsim.sock"));
    let core = Core::new(Arc::new(PerfectMedium::default()), Limits::default());
    let capture = vhost_hwsim::setup::start_taps(&core, &Some(CaptureConfig::new(&file)))
        .unwrap()
        .expect("a capture");
    let server = vhost_hwsim::server::spawn(Arc::clone(&core), &socket).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hwsim-load"))
        .arg("--socket")
        .arg(&socket)
        .args(["--seconds", "0.3", "--rate", "500", "--broadcast", "10"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.stop();
    let stats = capture.finish();
    assert!(stats.written > 100, "{stats:?}");

    let bytes = std::fs::read(&file).unwrap();
    let (_, rows) = tshark::fields(
        root.as_deref(),
        &bytes,
        &[
            "_ws.malformed",
            "wlan.fc.type",
            "llc.type",
            "data.data",
            "frame.number",
        ],
    );
    assert_eq!(rows.len() as u64, stats.written);
    for r in &rows {
        assert_eq!(r[0], "", "packet {} malformed", r[4]);
        assert_eq!(r[1], "2", "packet {}: a data frame", r[4]);
        assert_eq!(r[2], "0x88b5", "packet {}: LLC/SNAP EtherType", r[4]);
        // `hwsim-ld` in hex leads the payload.
        assert!(
            r[3].replace(':', "").starts_with("687773696d2d6c64"),
            "packet {}: payload {}",
            r[4],
            r[3]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
