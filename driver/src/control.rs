//! The control socket: one request line per connection, one JSON answer.
//!
//! - `stats` returns [`crate::stats::Stats`].
//! - `reload [PATH]` reads a medium config (PATH, else the file the medium in force came from),
//!   builds the medium and puts it in force for the next frame; the answer is
//!   `{"reloaded":PATH,"medium":NAME}`. A config that does not load or validate is refused with
//!   `{"error":"config: PATH: line L, column C: …"}` and the medium in force stays.
//!
//! - `ap remove-link ID [TBTTS]` starts removing a link of the built-in AP MLD; `ap stats`
//!   returns its counters (frames, beacons, data frames per link, TAP).
//!
//! Any other line gets `{"error":…}`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::Config;
use crate::core::Core;

/// Where `reload` without a path finds the config, and what the perfect medium reports.
#[derive(Clone, Debug)]
pub struct MediumSource {
    /// The config file of the medium in force (`--config`, then each successful reload's file).
    pub config: Option<PathBuf>,
    /// The format of every file reloaded (TOML, or wmediumd's with `--wmediumd-config`).
    pub format: crate::config::wmediumd::ConfigFormat,
    /// `--signal`: the perfect medium's constant signal, dBm.
    pub signal_dbm: i32,
    /// The built-in AP MLD's links, whose widths bound every reloaded medium too.
    pub ap_links: Vec<crate::config::ap_links::ApLinkWidth>,
}

/// Answers the control socket `listener` (bound with [`crate::socket_file::SocketFile::bind`])
/// on a background thread. `source` is shared with the daemon's SIGHUP reload.
pub fn spawn(
    core: Arc<Core>,
    listener: UnixListener,
    source: Arc<Mutex<MediumSource>>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("vhost-hwsim-control".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                let _ = answer(&core, &source, conn);
            }
        })?;
    Ok(())
}

fn answer(core: &Core, source: &Mutex<MediumSource>, conn: UnixStream) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut line = String::new();
    BufReader::new(conn.try_clone()?).take_line(&mut line)?;
    let request = line.trim();
    let (command, argument) = match request.split_once(char::is_whitespace) {
        Some((c, a)) => (c, Some(a.trim())),
        None => (request, None),
    };
    let reply = match (command, argument) {
        ("stats", None) => serde_json::to_string(&crate::stats::collect(core))
            .unwrap_or_else(|e| error_json(&e.to_string())),
        ("reload", path) => match reload(core, source, path.map(PathBuf::from)) {
            Ok(path) => serde_json::json!({
                "reloaded": path.display().to_string(),
                "medium": core.medium.name(),
            })
            .to_string(),
            Err(e) => error_json(&e),
        },
        ("ap", Some(args)) => ap_command(core, args),
        _ => error_json(&format!("unknown command {request:?}")),
    };
    let mut conn = conn;
    conn.write_all(reply.as_bytes())?;
    conn.write_all(b"\n")
}

/// Loads `path` (or the file the medium in force came from), builds its medium and puts it in
/// force; returns the file loaded. The lock on `source` makes reloads (control socket, SIGHUP)
/// one at a time, so they never race each other.
pub fn reload(
    core: &Core,
    source: &Mutex<MediumSource>,
    path: Option<PathBuf>,
) -> Result<PathBuf, String> {
    let mut source = source.lock().unwrap_or_else(|e| e.into_inner());
    let path = path
        .or_else(|| source.config.clone())
        .ok_or("no config to reload: the daemon started without --config; give one: reload PATH")?;
    let mut config = Config::load_as(&path, source.format).map_err(|e| format!("config: {e}"))?;
    crate::config::ap_links::bound_by_ap_links(&mut config, &source.ap_links);
    let medium = crate::planning::medium_from(&config, source.signal_dbm);
    // What the ends advertised carries over (a change landing between these two lines reaches
    // the old medium only, until the next one).
    medium.learn_peer_caps(&core.mld.table().caps);
    core.medium.replace(medium);
    tracing::info!(config = %path.display(), medium = core.medium.name(), "medium reloaded");
    source.config = Some(path.clone());
    Ok(path)
}

/// `ap remove-link ID [TBTTS]`: starts removing a link of the built-in AP MLD.
fn ap_command(core: &Core, args: &str) -> String {
    let Some(ap) = core.ap.get() else {
        return error_json("no built-in AP MLD is running (start the daemon with --ap-config)");
    };
    let words: Vec<&str> = args.split_whitespace().collect();
    match words[..] {
        ["remove-link", id, ref rest @ ..] if rest.len() <= 1 => {
            let Ok(id) = id.parse::<u8>() else {
                return error_json(&format!("link ID {id:?} is not a number"));
            };
            let tbtts = match rest.first().map(|t| t.parse::<u16>()) {
                None => 10,
                Some(Ok(t)) => t,
                Some(Err(_)) => return error_json("TBTTS must be a number"),
            };
            match ap.remove_link(id, tbtts) {
                Ok(()) => serde_json::json!({ "removing_link": id, "tbtts": tbtts }).to_string(),
                Err(e) => error_json(&e),
            }
        }
        ["stats"] => match ap.counters() {
            Some((rt, data, ids)) => {
                let stats = hwsim_ap::runtime::ApStats::new(rt, data, &ids);
                serde_json::to_string(&stats)
                    .unwrap_or_else(|e| error_json(&format!("AP counters: {e}")))
            }
            None => error_json("the AP MLD did not answer"),
        },
        _ => error_json("usage: ap remove-link ID [TBTTS] | ap stats"),
    }
}

fn error_json(message: &str) -> String {
    serde_json::json!({ "error": message }).to_string()
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

/// How long a client waits for the daemon's answer.
const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// Sends one request line to a running daemon and returns its answer (JSON text).
pub fn request(path: &Path, command: &str) -> Result<String, RequestError> {
    let mut s = UnixStream::connect(path).map_err(|e| RequestError::connect(path, e))?;
    let exchange = |source| RequestError::Exchange {
        path: path.to_owned(),
        source,
    };
    s.set_read_timeout(Some(ANSWER_WAIT)).map_err(exchange)?;
    s.write_all(command.as_bytes()).map_err(exchange)?;
    s.write_all(b"\n").map_err(exchange)?;
    let mut out = String::new();
    std::io::Read::read_to_string(&mut s, &mut out).map_err(|e| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            exchange(std::io::Error::new(
                e.kind(),
                format!("no answer within {} s", ANSWER_WAIT.as_secs()),
            ))
        }
        _ => exchange(e),
    })?;
    Ok(out)
}

/// Why a request to a daemon's control socket failed; the message names the socket and, when
/// `connect` failed, what that usually means.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// `connect` failed.
    #[error("cannot connect to control socket {path}: {source}{hint}")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// What `connect` said.
        source: std::io::Error,
        /// What that means, e.g. that the daemon may not be running.
        hint: String,
    },
    /// Sending the request or reading the answer failed.
    #[error("control socket {path}: {source}")]
    Exchange {
        /// The socket.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl RequestError {
    fn connect(path: &Path, source: std::io::Error) -> RequestError {
        use std::os::unix::fs::FileTypeExt;
        let not_a_socket = std::fs::symlink_metadata(path)
            .ok()
            .filter(|m| !m.file_type().is_socket());
        let hint = match (source.kind(), not_a_socket) {
            (_, Some(_)) => " (that is not a socket; give the daemon's --control path)".to_owned(),
            (std::io::ErrorKind::NotFound, None) => format!(
                " (is vhost-hwsim running, started with --control {}?)",
                path.display()
            ),
            (std::io::ErrorKind::ConnectionRefused, None) => {
                " (nobody listens on it: the daemon that created it is not running any more)"
                    .to_owned()
            }
            (std::io::ErrorKind::PermissionDenied, None) => {
                " (the daemon makes its sockets mode 0600 unless --socket-mode says otherwise: \
                 run as the daemon's user)"
                    .to_owned()
            }
            _ => String::new(),
        };
        RequestError::Connect {
            path: path.to_owned(),
            source,
            hint,
        }
    }
}
