//! The control socket: one request line per connection, one JSON answer.
//!
//! `stats` returns [`crate::stats::Stats`]. Kept deliberately small; later issues add commands.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::core::Core;

/// Serves the control socket at `path` on a background thread.
pub fn spawn(core: Arc<Core>, path: &Path) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    std::thread::Builder::new()
        .name("vhost-hwsim-control".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                let _ = answer(&core, conn);
            }
        })?;
    Ok(())
}

fn answer(core: &Core, conn: UnixStream) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut line = String::new();
    BufReader::new(conn.try_clone()?).take_line(&mut line)?;
    let reply = match line.trim() {
        "stats" => serde_json::to_string(&crate::stats::collect(core))
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")),
        other => format!("{{\"error\":\"unknown command {:?}\"}}", other),
    };
    let mut conn = conn;
    conn.write_all(reply.as_bytes())?;
    conn.write_all(b"\n")
}

trait TakeLine {
    fn take_line(self, out: &mut String) -> std::io::Result<usize>;
}

impl<R: BufRead> TakeLine for R {
    fn take_line(self, out: &mut String) -> std::io::Result<usize> {
        // Bound the request so a client cannot make us buffer without end.
        let mut limited = std::io::Read::take(self, 4096);
        let mut buf = BufReader::new(&mut limited);
        buf.read_line(out)
    }
}

/// Asks a running daemon for its stats (JSON text).
pub fn request(path: &Path, command: &str) -> std::io::Result<String> {
    let mut s = UnixStream::connect(path)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(command.as_bytes())?;
    s.write_all(b"\n")?;
    let mut out = String::new();
    std::io::Read::read_to_string(&mut s, &mut out)?;
    Ok(out)
}
