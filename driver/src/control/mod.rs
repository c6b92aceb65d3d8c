//! The control socket.
//!
//! Two protocols share it; the first byte of a request line tells them apart.
//!
//! **JSON (version 1)**, see docs/control-api.md: one request object per line, one response
//! object per line, as many as the client likes on one connection: `{"v":1,"cmd":"…",…}` →
//! `{"v":1,"ok":true,…}` or `{"v":1,"ok":false,"error":"…"}`. The commands are in [`api`]:
//! list nodes, radios, MLDs and impaired links; set a node's position or tx power; impair a
//! node's link on a band (attenuation, loss, down/up); start, stop or rotate the capture;
//! reload; stats. A line that is not JSON, or longer than [`MAX_LINE`], gets an error and the
//! connection is closed; both are counted ([`ControlCounters`]).
//!
//! **Plain text** (the first protocol, kept for scripts): one line per connection, one JSON
//! answer, then the daemon closes it.
//! - `stats` returns [`crate::stats::Stats`].
//! - `reload [PATH]` reads a medium config (PATH, else the file the medium in force came from),
//!   builds the medium and puts it in force for the next frame; the answer is
//!   `{"reloaded":PATH,"medium":NAME}`. A config that does not load or validate is refused with
//!   `{"error":"config: PATH: line L, column C: …"}` and the medium in force stays.
//! - `ap remove-link ID [TBTTS]` starts removing a link of the built-in AP MLD; `ap stats`
//!   returns its counters (frames, beacons, data frames per link, TAP).
//!
//! Any other line gets `{"error":…}`.
//!
//! Every connection has its own thread (at most [`MAX_CLIENTS`] at once; more are answered
//! with an error and closed), so a client that stops reading or writing stalls only itself;
//! its writes time out after [`WRITE_WAIT`] and it is dropped. Changes are serialised by the
//! lock on [`MediumSource`], which only control-plane threads take.

pub mod api;
pub mod change;
pub mod timeline;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::config::Config;
use crate::core::Core;

/// Longest request line accepted, bytes (newline excluded).
pub const MAX_LINE: usize = 64 * 1024;

/// Most connections served at once.
pub const MAX_CLIENTS: usize = 64;

/// How long a client may take to read an answer before it is dropped.
pub const WRITE_WAIT: Duration = Duration::from_secs(5);

/// How long a connection may stay silent: a plain-text client must send its line within
/// [`TEXT_WAIT`], a JSON session may idle this long between requests.
const IDLE_WAIT: Duration = Duration::from_secs(600);
const TEXT_WAIT: Duration = Duration::from_secs(5);

/// Where `reload` without a path finds the config, what the perfect medium reports, and the
/// config in force (with the changes made through the control API since it was loaded).
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
    /// The config the medium in force was built from (already bounded by `ap_links`), with
    /// positions and tx powers set since; `None` for the perfect medium of `--signal`.
    pub loaded: Option<Config>,
    /// Counts the configs put in force (start, each reload): the timeline restarts on a change.
    pub generation: u64,
    /// When the config in force was put in force (the timeline's time zero).
    pub in_force_since: std::time::Instant,
}

/// The running capture and what it was started with (rotation keeps the options), and the
/// options a capture started from the control API takes when none runs.
pub struct CaptureSlot {
    running: Mutex<Option<(crate::capture::Capture, crate::capture::CaptureConfig)>>,
    template: crate::capture::CaptureConfig,
}

impl CaptureSlot {
    /// A slot holding `capture` (started with `config`), or empty; `template` holds the
    /// command line's capture options (merged view, rotation, writer nice level) for captures
    /// the control API starts.
    pub fn new(
        capture: Option<(crate::capture::Capture, crate::capture::CaptureConfig)>,
        template: crate::capture::CaptureConfig,
    ) -> Self {
        CaptureSlot {
            running: Mutex::new(capture),
            template,
        }
    }

    /// The options of a capture to `file` started while none runs: the template's, with no
    /// monitor interface (that stays with the capture that opened it).
    pub fn config_for(&self, file: &std::path::Path) -> crate::capture::CaptureConfig {
        crate::capture::CaptureConfig {
            path: Some(file.to_path_buf()),
            monitor: None,
            ..self.template.clone()
        }
    }

    /// The running capture, locked (SIGHUP flushes it; shutdown takes it).
    pub fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<(crate::capture::Capture, crate::capture::CaptureConfig)>>
    {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What the control socket counted.
#[derive(Debug, Default)]
pub struct ControlCounters {
    connections: AtomicU64,
    requests: AtomicU64,
    changes: AtomicU64,
    refused: AtomicU64,
    dropped_malformed: AtomicU64,
    dropped_too_long: AtomicU64,
    dropped_stalled: AtomicU64,
    dropped_busy: AtomicU64,
    pub(crate) timeline_applied: AtomicU64,
    pub(crate) timeline_failed: AtomicU64,
    active: AtomicUsize,
}

/// [`ControlCounters`] as `stats` reports them.
#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct ControlStats {
    /// Connections accepted.
    pub connections: u64,
    /// Requests answered (both protocols).
    pub requests: u64,
    /// Changes put in force (position, tx power, link, capture, reload).
    pub changes: u64,
    /// Requests refused with an error (nothing changed).
    pub refused: u64,
    /// Connections closed for a line that is not JSON.
    pub dropped_malformed: u64,
    /// Connections closed for a line longer than 64 KiB.
    pub dropped_too_long: u64,
    /// Connections closed because they did not read their answer.
    pub dropped_stalled: u64,
    /// Connections refused because [`MAX_CLIENTS`] were being served.
    pub dropped_busy: u64,
    /// Connections being served now.
    pub active: u64,
    /// Timeline events applied (`[[event]]` in the medium config; also counted in `changes`).
    pub timeline_applied: u64,
    /// Timeline events that failed (e.g. `ap` with no AP MLD running); logged.
    pub timeline_failed: u64,
}

impl ControlCounters {
    /// The counters now.
    pub fn snapshot(&self) -> ControlStats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ControlStats {
            connections: get(&self.connections),
            requests: get(&self.requests),
            changes: get(&self.changes),
            refused: get(&self.refused),
            dropped_malformed: get(&self.dropped_malformed),
            dropped_too_long: get(&self.dropped_too_long),
            dropped_stalled: get(&self.dropped_stalled),
            dropped_busy: get(&self.dropped_busy),
            timeline_applied: get(&self.timeline_applied),
            timeline_failed: get(&self.timeline_failed),
            active: self.active.load(Ordering::Relaxed) as u64,
        }
    }

    pub(crate) fn bump(a: &AtomicU64) {
        a.fetch_add(1, Ordering::Relaxed);
    }
}

/// What every connection's thread needs.
pub struct Control {
    /// The daemon.
    pub core: Arc<Core>,
    /// The medium's source; its lock serialises every change.
    pub source: Arc<Mutex<MediumSource>>,
    /// The capture the control API starts, stops and rotates.
    pub capture: Arc<CaptureSlot>,
    /// Set once the timeline thread runs (it starts with the first config that has events).
    timeline: std::sync::OnceLock<()>,
}

impl Control {
    /// The control plane of `core`.
    pub fn new(
        core: Arc<Core>,
        source: Arc<Mutex<MediumSource>>,
        capture: Arc<CaptureSlot>,
    ) -> Arc<Control> {
        Arc::new(Control {
            core,
            source,
            capture,
            timeline: std::sync::OnceLock::new(),
        })
    }

    /// Starts the timeline thread if the config in force has events and it is not running yet
    /// (call after start-up and after every reload; a daemon without events runs no thread).
    pub fn ensure_timeline(self: &Arc<Self>) {
        let has_events = self
            .source
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .loaded
            .as_ref()
            .is_some_and(|c| !c.events.is_empty());
        if has_events {
            self.timeline.get_or_init(|| {
                if let Err(e) = timeline::spawn(Arc::clone(self)) {
                    tracing::warn!(error = %e, "no timeline thread: [[event]]s are not applied");
                }
            });
        }
    }
}

/// Answers the control socket `listener` (bound with [`crate::socket_file::SocketFile::bind`])
/// on a background thread, each connection on its own. `source` is shared with the daemon's
/// SIGHUP reload, `capture` with its shutdown.
pub fn spawn(control: Arc<Control>, listener: UnixListener) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("vhost-hwsim-control".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                accept(&control, conn);
            }
        })?;
    Ok(())
}

fn accept(control: &Arc<Control>, conn: UnixStream) {
    let counters = &control.core.control;
    ControlCounters::bump(&counters.connections);
    if counters.active.fetch_add(1, Ordering::AcqRel) >= MAX_CLIENTS {
        counters.active.fetch_sub(1, Ordering::AcqRel);
        ControlCounters::bump(&counters.dropped_busy);
        let _ = conn.set_write_timeout(Some(Duration::from_millis(100)));
        let _ = (&conn).write_all(
            format!(
                "{}\n",
                api::error_response(&format!("busy: {MAX_CLIENTS} clients are connected"))
            )
            .as_bytes(),
        );
        return;
    }
    let session = Arc::clone(control);
    let spawned = std::thread::Builder::new()
        .name("vhost-hwsim-ctl-client".into())
        .spawn(move || {
            let _ = serve_client(&session, conn);
            session.core.control.active.fetch_sub(1, Ordering::AcqRel);
        });
    if spawned.is_err() {
        counters.active.fetch_sub(1, Ordering::AcqRel);
        ControlCounters::bump(&counters.dropped_busy);
    }
}

/// One connection: JSON requests until it closes (or misbehaves), or one plain-text request.
fn serve_client(control: &Arc<Control>, conn: UnixStream) -> std::io::Result<()> {
    let counters = &control.core.control;
    conn.set_write_timeout(Some(WRITE_WAIT))?;
    conn.set_read_timeout(Some(TEXT_WAIT))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut writer = conn;
    let mut send = |text: &str| -> std::io::Result<()> {
        let sent = writer
            .write_all(text.as_bytes())
            .and_then(|()| writer.write_all(b"\n"));
        if let Err(e) = &sent {
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                ControlCounters::bump(&counters.dropped_stalled);
            }
        }
        sent
    };
    let mut line = Vec::new();
    let mut first = true;
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(());
        }
        if line.last() != Some(&b'\n') && line.len() > MAX_LINE {
            ControlCounters::bump(&counters.dropped_too_long);
            ControlCounters::bump(&counters.refused);
            return send(&api::error_response(&format!(
                "request line longer than {MAX_LINE} bytes: closing the connection"
            )));
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        ControlCounters::bump(&counters.requests);
        // `{` (or `[`, a confused JSON client) starts a JSON request; a word, plain text.
        if !matches!(text.first(), Some(b'{' | b'[')) {
            if !first {
                // A JSON session that sends something else is confused: say so and close.
                ControlCounters::bump(&counters.dropped_malformed);
                ControlCounters::bump(&counters.refused);
                return send(&api::error_response(
                    "not a JSON object: closing the connection",
                ));
            }
            let answer = plain_text(control, &String::from_utf8_lossy(text));
            return send(&answer);
        }
        if first {
            first = false;
            // A session may idle between requests; a plain-text client may not.
            reader.get_ref().set_read_timeout(Some(IDLE_WAIT))?;
        }
        match api::handle(control, text) {
            api::Outcome::Answer(answer) => send(&answer)?,
            api::Outcome::Malformed(answer) => {
                ControlCounters::bump(&counters.dropped_malformed);
                ControlCounters::bump(&counters.refused);
                return send(&answer);
            }
        }
    }
}

/// The plain-text protocol: one line, one JSON answer.
fn plain_text(control: &Arc<Control>, request: &str) -> String {
    let (core, source) = (&*control.core, &*control.source);
    let request = request.trim();
    let (command, argument) = match request.split_once(char::is_whitespace) {
        Some((c, a)) => (c, Some(a.trim())),
        None => (request, None),
    };
    let reply = match (command, argument) {
        ("stats", None) => {
            serde_json::to_string(&crate::stats::collect(core)).map_err(|e| e.to_string())
        }
        ("reload", path) => match reload(core, source, path.map(PathBuf::from)) {
            Ok(path) => {
                ControlCounters::bump(&core.control.changes);
                control.ensure_timeline();
                Ok(serde_json::json!({
                    "reloaded": path.display().to_string(),
                    "medium": core.medium.name(),
                })
                .to_string())
            }
            Err(e) => Err(e),
        },
        ("ap", Some(args)) => ap_command(core, args),
        _ => Err(format!("unknown command {request:?}")),
    };
    reply.unwrap_or_else(|e| {
        ControlCounters::bump(&core.control.refused);
        error_json(&e)
    })
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
    put_in_force(core, medium);
    tracing::info!(config = %path.display(), medium = core.medium.name(), "medium reloaded");
    source.config = Some(path.clone());
    source.loaded = Some(config);
    source.generation += 1;
    source.in_force_since = std::time::Instant::now();
    Ok(path)
}

/// Puts `medium` in force for the next frame, with what the ends advertised carried over.
pub(crate) fn put_in_force(core: &Core, medium: Arc<dyn crate::medium::Medium>) {
    // What the ends advertised carries over (a change landing between these two lines reaches
    // the old medium only, until the next one).
    medium.learn_peer_caps(&core.mld.table().caps);
    core.medium.replace(medium);
}

/// `ap remove-link ID [TBTTS]`: starts removing a link of the built-in AP MLD.
fn ap_command(core: &Core, args: &str) -> Result<String, String> {
    let Some(ap) = core.ap.get() else {
        return Err("no built-in AP MLD is running (start the daemon with --ap-config)".into());
    };
    let words: Vec<&str> = args.split_whitespace().collect();
    match words[..] {
        ["remove-link", id, ref rest @ ..] if rest.len() <= 1 => {
            let Ok(id) = id.parse::<u8>() else {
                return Err(format!("link ID {id:?} is not a number"));
            };
            let tbtts = match rest.first().map(|t| t.parse::<u16>()) {
                None => 10,
                Some(Ok(t)) => t,
                Some(Err(_)) => return Err("TBTTS must be a number".into()),
            };
            ap.remove_link(id, tbtts)?;
            ControlCounters::bump(&core.control.changes);
            Ok(serde_json::json!({ "removing_link": id, "tbtts": tbtts }).to_string())
        }
        ["stats"] => match ap.counters() {
            Some((rt, data, ids)) => {
                let stats = hwsim_ap::runtime::ApStats::new(rt, data, &ids);
                serde_json::to_string(&stats).map_err(|e| format!("AP counters: {e}"))
            }
            None => Err("the AP MLD did not answer".into()),
        },
        _ => Err("usage: ap remove-link ID [TBTTS] | ap stats".into()),
    }
}

fn error_json(message: &str) -> String {
    serde_json::json!({ "error": message }).to_string()
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

/// Sends one JSON request (`{"v":1,"cmd":…}`) to a running daemon and returns its one-line
/// response, parsed.
pub fn request_json(
    path: &Path,
    request: &serde_json::Value,
) -> Result<serde_json::Value, RequestError> {
    let s = UnixStream::connect(path).map_err(|e| RequestError::connect(path, e))?;
    let exchange = |source| RequestError::Exchange {
        path: path.to_owned(),
        source,
    };
    s.set_read_timeout(Some(ANSWER_WAIT)).map_err(exchange)?;
    (&s).write_all(format!("{request}\n").as_bytes())
        .map_err(exchange)?;
    let mut line = String::new();
    BufReader::new(&s)
        .take(16 << 20)
        .read_line(&mut line)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                exchange(std::io::Error::new(
                    e.kind(),
                    format!("no answer within {} s", ANSWER_WAIT.as_secs()),
                ))
            }
            _ => exchange(e),
        })?;
    serde_json::from_str(&line).map_err(|e| {
        exchange(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the answer is not JSON ({e}): {:?}", line.trim()),
        ))
    })
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
