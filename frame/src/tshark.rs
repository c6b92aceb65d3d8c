//! Test support: decode a capture with tshark and return the fields it printed, so tests can
//! check our bytes with a real dissector. Only built for tests (`test-support` feature).
//!
//! Besides the tshark on `PATH`, `HWSIM_TSHARK_ROOT` may name a root file system with a newer
//! one (e.g. a Debian trixie chroot made with `mmdebstrap --variant=apt --include=tshark trixie
//! DIR`), run through `chroot`: Debian bookworm's 4.0 cannot parse radiotap TLVs (EHT, U-SIG).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Every tshark to check with: `None` for the one on `PATH`, `Some(root)` for a chroot.
pub fn tsharks() -> Vec<Option<PathBuf>> {
    let mut v = Vec::new();
    if Command::new("tshark").arg("--version").output().is_ok() {
        v.push(None);
    }
    if let Some(root) = std::env::var_os("HWSIM_TSHARK_ROOT") {
        v.push(Some(root.into()));
    }
    v
}

/// Runs tshark (inside `root` if given) on a capture file's `bytes`; returns its version as
/// (major, minor) and one row of `fields` per packet. Panics if tshark fails: for tests only.
pub fn fields(
    root: Option<&Path>,
    bytes: &[u8],
    fields: &[&str],
) -> ((u32, u32), Vec<Vec<String>>) {
    let name = format!(
        "hwsim-tshark-{}-{:?}.cap",
        std::process::id(),
        std::thread::current().id()
    )
    .replace(['(', ')'], "");
    let (mut cmd, host_path, path) = match root {
        Some(r) => {
            let mut c = Command::new("chroot");
            c.arg(r).arg("tshark");
            (
                c,
                r.join("tmp").join(&name),
                PathBuf::from("/tmp").join(&name),
            )
        }
        None => {
            let p = std::env::temp_dir().join(&name);
            (Command::new("tshark"), p.clone(), p)
        }
    };
    std::fs::write(&host_path, bytes).expect("write the capture for tshark");
    let mut version = Command::new(cmd.get_program());
    version.args(cmd.get_args()).arg("--version");
    let text =
        String::from_utf8_lossy(&version.output().expect("tshark --version").stdout).into_owned();
    let v: Vec<u32> = text
        .split_whitespace()
        .nth(2)
        .unwrap_or("0.0")
        .split('.')
        .take(2)
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    cmd.arg("-r")
        .arg(&path)
        .args(["-T", "fields", "-E", "separator=|", "-E", "aggregator=,"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    std::fs::remove_file(&host_path).ok();
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("tshark {v:?}:\n{text}");
    let rows = text
        .lines()
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect();
    ((v[0], v.get(1).copied().unwrap_or(0)), rows)
}
