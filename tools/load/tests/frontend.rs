//! hwsim-load's workers come up against vhost-hwsim in either frontend style: as virtio_uml
//! (the default, which wmediumd's usfstl device requires; through the daemon's quirk relay) and
//! as QEMU. A short rate-limited run each; frames must flow both ways.

use std::sync::Arc;

use vhost_hwsim::core::{Core, Limits};
use vhost_hwsim::medium::PerfectMedium;

fn field(out: &str, key: &str) -> u64 {
    out.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= in {out}"))
        .parse()
        .unwrap()
}

fn run_with(style: &str) {
    let dir = std::env::temp_dir().join(format!(
        "hwsim-load-frontend-{style}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("hwsim.sock");
    let core = Core::new(Arc::new(PerfectMedium::default()), Limits::default());
    let server = vhost_hwsim::server::spawn(Arc::clone(&core), &socket).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hwsim-load"))
        .arg("--socket")
        .arg(&socket)
        .args(["--seconds", "1", "--rate", "200", "--frontend", style])
        .output()
        .unwrap();
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{style}: {}{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Frames were delivered and acknowledged. Not how many: on a busy machine the workers
    // (debug builds) may come up well into the 1-second window.
    assert!(field(&text, "received") > 0, "{style}: {text}");
    assert!(field(&text, "acked") > 0, "{style}: {text}");
}

#[test]
fn workers_come_up_as_a_uml_frontend() {
    run_with("uml");
}

#[test]
fn workers_come_up_as_a_qemu_frontend() {
    run_with("qemu");
}
