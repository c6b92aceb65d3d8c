//! Command line: `vhost-hwsim --socket PATH` serves guests; `vhost-hwsim demo` runs without a VM;
//! `vhost-hwsim stats --control PATH` asks a running daemon for its counters; `vhost-hwsim reload
//! --control PATH [--config FILE]` puts a new medium config in force; `budget`, `rates` and
//! `plot-per` help plan a topology.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use hwsim_radio::band::{Band, Width};
use hwsim_radio::rates::{GuardInterval, PhyFormat};

use crate::config::ap_links::{bound_by_ap_links, ApLinkWidth};
use crate::config::Config;
use crate::core::{Core, Limits};
use crate::medium::{Medium, PerfectMedium};
use crate::socket_file::SocketFile;

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(
    name = "vhost-hwsim",
    version,
    about = "Wi-Fi medium for mac80211_hwsim guests (vhost-user, virtio ID 29)",
    after_help = "Signals (serving): SIGINT, SIGTERM and SIGQUIT end the daemon cleanly: \
        the capture is drained and closed, a complete pcapng. SIGHUP does not end it: it \
        re-reads the --config file (as `reload` does; without --config it logs that there is \
        nothing to reload) and flushes the capture, so the file on disk is complete at that \
        moment."
)]
pub struct Args {
    /// vhost-user socket to serve; every connection is one VM. A stale socket at the path is
    /// replaced; anything else (another daemon's live socket, a file, a directory) makes the
    /// daemon refuse to start and is left as it is.
    #[arg(long, global = false)]
    pub socket: Option<PathBuf>,
    /// Control socket answering `stats` and `reload` with JSON (same rules as --socket).
    #[arg(long)]
    pub control: Option<PathBuf>,
    /// Permissions of the sockets the daemon listens on (--socket, --control), octal. The
    /// default lets only the daemon's user connect; e.g. 0660 lets its group's VMMs in too.
    #[arg(long, value_name = "MODE", default_value = "0600", value_parser = parse_mode)]
    pub socket_mode: u32,
    /// Medium configuration (TOML: model, seed, path loss, nodes, links); default: the perfect
    /// medium.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Signal reported by the perfect medium, dBm.
    #[arg(long, default_value_t = -50, allow_hyphen_values = true)]
    pub signal: i32,
    /// Deliveries waiting per VM for RX buffers before frames are dropped.
    #[arg(long, default_value_t = Limits::default().inbox_capacity)]
    pub inbox: usize,
    /// Message buffers in the daemon.
    #[arg(long, default_value_t = Limits::default().pool_buffers)]
    pub pool: usize,
    /// Write every transmission to this pcapng file (802.11 + radiotap, one interface per
    /// radio and frequency, TX outcome as packet comment).
    #[arg(long)]
    pub capture: Option<PathBuf>,
    /// Start a new capture file when the current one would exceed this many bytes.
    #[arg(long)]
    pub capture_max_bytes: Option<u64>,
    /// Run the built-in AP MLD described by this TOML file (SSID, MLD address, security,
    /// links); its link radios attach to the daemon's own socket like one more VM.
    #[arg(long)]
    pub ap_config: Option<PathBuf>,
    /// Create host TAP interface NAME as the built-in AP MLD's distribution system: Ethernet
    /// frames from associated stations come out of it, frames written to it go to them.
    /// Needs CAP_NET_ADMIN.
    #[arg(long, value_name = "NAME", requires = "ap_config")]
    pub ap_tap: Option<String>,
    /// Write all packets of the capture to one pcapng interface (for tools that handle only
    /// one), the radio, frequency and link of each in its packet comment.
    #[arg(long)]
    pub capture_merged: bool,
    /// Create live monitor interface NAME (TUN, 802.11 + radiotap) showing every transmission,
    /// for `tcpdump -i NAME` or Wireshark; with or without --capture. Needs CAP_NET_ADMIN.
    #[arg(long, value_name = "NAME")]
    pub monitor: Option<String>,
    /// Run in virtual time as the UML time-travel controller on this socket: guests boot with
    /// `time-travel=ext:ID:SOCKET` (distinct IDs), and the medium clock, the built-in AP MLD
    /// and the guests share one simulated clock that advances only when all of them wait.
    /// Without it the daemon runs on the host's clock, as always (docs/time-travel.md).
    #[arg(long, value_name = "SOCKET")]
    pub time_travel: Option<PathBuf>,
    /// With --time-travel: let nothing run until this many guests have connected to the time
    /// socket, then admit them in ID order (deterministic start; 0: admit each as it comes).
    #[arg(long, value_name = "N", default_value_t = 0, requires = "time_travel")]
    pub time_travel_guests: usize,
    /// With --time-travel: never let simulated time run more than RATIO times as fast as the
    /// wall clock (1: never ahead of it), for rigs where something outside the simulation (a
    /// host TAP, host-side timeouts) runs on wall time. 0 (default): as fast as it goes.
    #[arg(
        long,
        value_name = "RATIO",
        default_value_t = 0.0,
        requires = "time_travel"
    )]
    pub time_travel_pace: f64,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info`, `debug` (default: `info`; `warn`
    /// for `demo`).
    #[arg(long)]
    pub log: Option<String>,
    /// Subcommand (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the daemon with built-in simulated radios (no VM needed) and print a per-radio table.
    Demo(crate::demo::DemoArgs),
    /// Print a running daemon's counters (JSON) from its control socket.
    Stats {
        /// The daemon's control socket.
        #[arg(long)]
        control: PathBuf,
    },
    /// Make a running daemon re-read its medium config (or FILE) and put it in force; the old
    /// medium stays if the config is invalid (exit status 1).
    Reload {
        /// The daemon's control socket.
        #[arg(long)]
        control: PathBuf,
        /// Config to load instead of the one the medium in force came from.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Commands for the built-in AP MLD of a running daemon.
    Ap {
        /// The daemon's control socket.
        #[arg(long)]
        control: PathBuf,
        /// What to do.
        #[command(subcommand)]
        action: ApAction,
    },
    /// Print the link budget between every pair of nodes of a config, per band.
    Budget {
        /// The medium configuration.
        #[arg(long)]
        config: PathBuf,
    },
    /// Print a PHY format's MCS table with data rates.
    Rates {
        /// PHY format: ofdm, ht, vht, he or eht (dsss for 802.11b).
        #[arg(long, default_value = "eht")]
        phy: String,
        /// Channel width, MHz.
        #[arg(long, default_value_t = 20)]
        width: u32,
        /// Spatial streams.
        #[arg(long, default_value_t = 1)]
        nss: u8,
        /// Guard interval, µs.
        #[arg(long, default_value_t = 0.8)]
        gi: f64,
    },
    /// Write the PER-vs-SNR figure of every EHT MCS as SVG.
    PlotPer {
        /// Output file.
        #[arg(long, default_value = "docs/per-vs-snr.svg")]
        out: PathBuf,
    },
}

/// Built-in AP MLD commands.
#[derive(Subcommand, Debug)]
pub enum ApAction {
    /// Remove a link: beacons announce it with a Reconfiguration Multi-Link element and an AP
    /// removal timer of TBTTS beacon intervals, then the link stops.
    RemoveLink {
        /// Link ID.
        id: u8,
        /// AP removal timer, in beacon intervals.
        #[arg(long, default_value_t = 10)]
        tbtts: u16,
    },
    /// Print the AP MLD's counters (JSON): frames, beacons, data frames per link, TAP.
    Stats,
}

/// Errors the binary reports.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// The server failed.
    #[error(transparent)]
    Server(#[from] crate::server::ServerError),
    /// A socket the daemon would listen on is taken or cannot be created.
    #[error(transparent)]
    Socket(#[from] crate::socket_file::SocketError),
    /// A request to a running daemon's control socket failed.
    #[error(transparent)]
    Control(#[from] crate::control::RequestError),
    /// I/O on the file or socket the message names.
    #[error("{what}: {source}")]
    Io {
        /// The option and path, e.g. `--out docs/per-vs-snr.svg`.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The demo failed.
    #[error("demo: {0}")]
    Demo(String),
    /// A configuration file is missing or invalid; the message starts with its option and
    /// path (`--config FILE: line 3, column 1: …`).
    #[error("{0}")]
    Config(String),
    /// The daemon refused a request.
    #[error("refused: {0}")]
    Refused(String),
}

impl Args {
    /// Queue limits from the arguments.
    pub fn limits(&self) -> Result<Limits, CliError> {
        if self.inbox == 0 || self.pool == 0 {
            return Err(CliError::Usage(
                "--inbox and --pool must be at least 1".into(),
            ));
        }
        Ok(Limits {
            inbox_capacity: self.inbox,
            status_capacity: Limits::default().status_capacity,
            pool_buffers: self.pool,
        })
    }
}

/// Runs what the arguments say.
pub fn run(args: Args) -> Result<(), CliError> {
    let quiet = args.command.is_some();
    init_logging(
        args.log
            .as_deref()
            .unwrap_or(if quiet { "warn" } else { "info" }),
    );
    match &args.command {
        Some(Command::Demo(d)) => {
            crate::signals::stop_demo_on_signals();
            let result = crate::demo::run(d).map_err(CliError::Demo);
            if crate::demo::stopped_early() {
                report("vhost-hwsim demo: stopped early by a signal, before --seconds were up\n");
            }
            result
        }
        Some(Command::Stats { control }) => {
            print!("{}", crate::control::request(control, "stats")?);
            Ok(())
        }
        Some(Command::Reload { control, config }) => reload(control, config.as_deref()),
        Some(Command::Ap { control, action }) => {
            let request = match action {
                ApAction::RemoveLink { id, tbtts } => format!("ap remove-link {id} {tbtts}"),
                ApAction::Stats => "ap stats".to_string(),
            };
            let answer = crate::control::request(control, &request)?;
            print!("{answer}");
            refusal(&answer)
        }
        Some(Command::Budget { config }) => {
            let cfg =
                Config::load(config).map_err(|e| CliError::Config(format!("--config {e}")))?;
            print!("{}", crate::planning::budget::report(&cfg));
            Ok(())
        }
        Some(Command::Rates {
            phy,
            width,
            nss,
            gi,
        }) => {
            let format = parse_phy(phy)?;
            let width = Width::from_mhz(*width).map_err(|e| CliError::Usage(e.to_string()))?;
            let gi = GuardInterval::from_us(*gi).map_err(|e| CliError::Usage(e.to_string()))?;
            if *nss == 0 || *nss > format.max_nss() {
                return Err(CliError::Usage(format!(
                    "--nss must be 1…{} for {format}",
                    format.max_nss()
                )));
            }
            print!("{}", crate::planning::rates::table(format, width, *nss, gi));
            Ok(())
        }
        Some(Command::PlotPer { out }) => {
            std::fs::write(out, crate::planning::per_plot::svg()).map_err(|source| {
                CliError::Io {
                    what: format!("--out {}", out.display()),
                    source,
                }
            })?;
            println!("wrote {}", out.display());
            Ok(())
        }
        None => serve(&args),
    }
}

/// Sends `reload [FILE]`, prints the daemon's answer, fails if it refused.
fn reload(control: &std::path::Path, config: Option<&std::path::Path>) -> Result<(), CliError> {
    let request = match config {
        // The daemon resolves paths from its own working directory, not ours.
        Some(path) => format!("reload {}", absolute("--config", path)?.display()),
        None => "reload".to_owned(),
    };
    let reply = crate::control::request(control, &request)?;
    print!("{reply}");
    refusal(&reply)
}

/// The daemon's answer `reply` as a result: its `error`, if it has one, is a refusal.
fn refusal(reply: &str) -> Result<(), CliError> {
    let answer: serde_json::Value = serde_json::from_str(reply)
        .map_err(|e| CliError::Refused(format!("unreadable answer ({e})")))?;
    match answer.get("error") {
        Some(e) => Err(CliError::Refused(e.as_str().unwrap_or_default().to_owned())),
        None => Ok(()),
    }
}

fn parse_phy(name: &str) -> Result<PhyFormat, CliError> {
    PhyFormat::ALL
        .into_iter()
        .find(|f| {
            f.to_string().eq_ignore_ascii_case(name) || (name == "legacy" && *f == PhyFormat::Ofdm)
        })
        .ok_or_else(|| {
            CliError::Usage(format!(
                "unknown --phy `{name}` (dsss, ofdm/legacy, ht, vht, he, eht)"
            ))
        })
}

/// The medium the arguments ask for: the config's, else the perfect medium.
pub fn medium(
    config: Option<&std::path::Path>,
    signal_dbm: i32,
) -> Result<Arc<dyn Medium>, CliError> {
    medium_with_ap(config, signal_dbm, &[])
}

/// The medium the arguments ask for, its rate synthesis bounded by the built-in AP MLD's
/// link widths (`ap_links`; see [`crate::config::ap_links`]).
pub fn medium_with_ap(
    config: Option<&std::path::Path>,
    signal_dbm: i32,
    ap_links: &[ApLinkWidth],
) -> Result<Arc<dyn Medium>, CliError> {
    match config {
        None => Ok(Arc::new(PerfectMedium {
            signal_dbm,
            ..PerfectMedium::default()
        })),
        Some(path) => {
            let mut cfg =
                Config::load(path).map_err(|e| CliError::Config(format!("--config {e}")))?;
            bound_by_ap_links(&mut cfg, ap_links);
            Ok(crate::planning::medium_from(&cfg, signal_dbm))
        }
    }
}

/// The medium's view of the AP MLD's links: address, band and BSS width.
pub fn ap_link_widths(cfg: &hwsim_ap::ApConfig) -> Vec<ApLinkWidth> {
    cfg.links
        .iter()
        .filter_map(|l| {
            let band = match l.band {
                hwsim_ap::Band::G2 => Band::Band2G4,
                hwsim_ap::Band::G5 => Band::Band5G,
                hwsim_ap::Band::G6 => Band::Band6G,
            };
            let width = Width::from_mhz(u32::from(l.width)).ok()?;
            Some(ApLinkWidth {
                bssid: l.bssid,
                band,
                width,
            })
        })
        .collect()
}

fn serve(args: &Args) -> Result<(), CliError> {
    // Taken before any thread exists, so that every thread inherits the blocked mask and only
    // the `sigwait` below receives them.
    let signals = crate::signals::take();
    let socket = args.socket.clone().ok_or_else(|| {
        CliError::Usage("--socket PATH is required (or try `vhost-hwsim demo`)".into())
    })?;
    if let Some(c) = &args.control {
        if absolute("--control", c)? == absolute("--socket", &socket)? {
            return Err(CliError::Usage(format!(
                "--socket and --control are the same path ({})",
                socket.display()
            )));
        }
    }
    let limits = args.limits()?;
    // Every file is read and both socket paths are claimed before anything else happens: a bad
    // file or a path that is not ours stops the daemon with nothing created, started or logged.
    // The AP's config is read first: its link widths bound the medium's rate synthesis.
    let ap_config = args
        .ap_config
        .as_deref()
        .map(hwsim_ap::ApConfig::load)
        .transpose()
        .map_err(|e| CliError::Config(format!("--ap-config {e}")))?;
    let ap_links = ap_config.as_ref().map(ap_link_widths).unwrap_or_default();
    let medium = medium_with_ap(args.config.as_deref(), args.signal, &ap_links)?;
    let source = crate::control::MediumSource {
        config: args
            .config
            .as_deref()
            .map(|c| absolute("--config", c))
            .transpose()?,
        signal_dbm: args.signal,
        ap_links,
    };
    SocketFile::check(&socket)?;
    if let Some(c) = &args.control {
        SocketFile::check(c)?;
    }
    let (listener, socket_file) = SocketFile::bind(&socket, args.socket_mode)?;
    let control = args
        .control
        .as_deref()
        .map(|c| SocketFile::bind(c, args.socket_mode))
        .transpose()?;

    tracing::info!(medium = medium.name(), "medium");
    let core = Core::new(medium, limits);
    if let Some(path) = &args.time_travel {
        if absolute("--time-travel", path)? == absolute("--socket", &socket)? {
            return Err(CliError::Usage(format!(
                "--socket and --time-travel are the same path ({})",
                socket.display()
            )));
        }
        let vt = crate::vtime::VirtualTime::start(path, args.time_travel_guests).map_err(|e| {
            CliError::Io {
                what: format!("--time-travel {}", path.display()),
                source: std::io::Error::other(e.to_string()),
            }
        })?;
        tracing::info!(
            socket = %path.display(),
            guests = args.time_travel_guests,
            "virtual time: serving the time-travel controller"
        );
        if !(args.time_travel_pace >= 0.0 && args.time_travel_pace.is_finite()) {
            return Err(CliError::Usage(format!(
                "--time-travel-pace {} is not a ratio ≥ 0",
                args.time_travel_pace
            )));
        }
        if args.time_travel_pace > 0.0 {
            crate::vtime::spawn_pacer(&vt, args.time_travel_pace).map_err(|source| {
                CliError::Io {
                    what: "--time-travel-pace: pacer thread".into(),
                    source,
                }
            })?;
        }
        core.set_vtime(vt);
        // The medium clock joins the controller now, so that it takes part from time 0.
        if core.medium.load().air().is_some() {
            let _ = core.air_clock();
        }
    }
    let source = Arc::new(std::sync::Mutex::new(source));
    // The control socket's file stays with `serve` and goes when it returns.
    let _control_file = match control {
        Some((listener, file)) => {
            crate::control::spawn(Arc::clone(&core), listener, Arc::clone(&source)).map_err(
                |source| CliError::Io {
                    what: format!("--control {}: control thread", file.path().display()),
                    source,
                },
            )?;
            Some(file)
        }
        None => None,
    };
    let capture = start_taps(&core, &capture_config(args))?;
    let server = crate::server::serve_listener(Arc::clone(&core), listener, socket_file)?;
    tracing::info!(socket = %socket.display(), "serving");
    if let Some(cfg) = ap_config {
        start_ap(&core, cfg, args.ap_tap.as_deref())?;
    }
    loop {
        match signals.wait() {
            Ok(nix::sys::signal::Signal::SIGHUP) => {
                crate::signals::on_hangup(&core, &source, capture.as_ref())
            }
            Ok(signal) => {
                tracing::info!(%signal, "shutting down");
                break;
            }
            Err(e) => {
                tracing::error!(error = %e, "sigwait failed: shutting down");
                break;
            }
        }
    }
    report(&crate::stats::radio_table(
        &crate::stats::collect(&core).radios,
    ));
    drop(server);
    finish_capture(capture);
    Ok(())
}

/// Writes an end-of-run report to stderr; a closed stderr (the terminal hung up) is no reason
/// to fail the shutdown, so errors are ignored.
pub(crate) fn report(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// `path` made absolute, or an error naming `option` and the path.
fn absolute(option: &str, path: &std::path::Path) -> Result<PathBuf, CliError> {
    std::path::absolute(path).map_err(|source| CliError::Io {
        what: format!("{option} {}", path.display()),
        source,
    })
}

/// `--socket-mode`: octal permissions, at most 0777.
fn parse_mode(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    match u32::from_str_radix(digits, 8) {
        Ok(mode) if mode <= 0o777 && !digits.is_empty() => Ok(mode),
        _ => Err(format!(
            "`{text}` is not an octal mode from 0 to 0777 (e.g. 0600, 0660)"
        )),
    }
}

/// Starts the built-in AP MLD, attached to the daemon over an in-process socket pair.
fn start_ap(core: &Arc<Core>, cfg: hwsim_ap::ApConfig, tap: Option<&str>) -> Result<(), CliError> {
    let tap = tap
        .map(|name| {
            hwsim_ap::tap::Tap::open(name)
                .map(|t| Box::new(t) as Box<dyn hwsim_ap::ds::DistributionSystem>)
                .map_err(|e| CliError::Usage(format!("--ap-tap {name}: {e}")))
        })
        .transpose()?;
    // Keys and nonces come from the OS unless the AP config fixes their seed for a run that
    // repeats exactly; then every key can be derived from the file, which the log says.
    let ap = match cfg.key_seed {
        Some(seed) => {
            tracing::warn!(
                key_seed = seed,
                "AP MLD: keys and nonces follow from key_seed in the AP config: reproducible, \
                 and NOT secret (anyone with the file derives every key of this run)"
            );
            hwsim_ap::ApMld::new(cfg, seed)
        }
        None => hwsim_ap::ApMld::with_os_entropy(cfg)
            .map_err(|e| CliError::Usage(format!("AP MLD: no randomness from the OS: {e}")))?,
    };
    let handle = attach_builtin_ap(core, ap, tap).map_err(CliError::Usage)?;
    let _ = core.ap.set(handle);
    Ok(())
}

/// Serves `ap` on one end of a socket pair and runs it on the other, so that the daemon knows
/// the connection (`ap-mld` in its tables).
pub fn attach_builtin_ap(
    core: &Arc<Core>,
    ap: hwsim_ap::ApMld,
    ds: hwsim_ap::runtime::Ds,
) -> Result<hwsim_ap::runtime::ApHandle, String> {
    let (device_end, guest_end) = std::os::unix::net::UnixStream::pair()
        .map_err(|e| format!("built-in AP MLD socket pair: {e}"))?;
    crate::server::serve_builtin_ap(core, device_end).map_err(|e| e.to_string())?;
    let clock: Box<dyn hwsim_ap::runtime::ApClock> = match core.vtime() {
        Some(vt) => Box::new(crate::vtime::VirtualApClock::new(vt, core)),
        None => Box::new(hwsim_ap::runtime::HostClock::new()),
    };
    hwsim_ap::runtime::spawn_on_stream_with(ap, guest_end, ds, clock).map_err(|e| e.to_string())
}

/// The capture the arguments ask for (file, merged view, monitor interface), if any.
pub fn capture_config(args: &Args) -> Option<crate::capture::CaptureConfig> {
    if args.capture.is_none() && args.monitor.is_none() {
        return None;
    }
    Some(crate::capture::CaptureConfig {
        path: args.capture.clone(),
        merged: args.capture_merged,
        monitor: args.monitor.clone(),
        max_file_bytes: args.capture_max_bytes,
        ..crate::capture::CaptureConfig::new("")
    })
}

/// Starts the capture writer and hands its tap to the data path.
pub fn start_capture(
    core: &Core,
    path: Option<&std::path::Path>,
    max_file_bytes: Option<u64>,
) -> Result<Option<crate::capture::Capture>, CliError> {
    let config = path.map(|p| crate::capture::CaptureConfig {
        max_file_bytes,
        ..crate::capture::CaptureConfig::new(p)
    });
    start_taps(core, &config)
}

/// Starts the capture writer (file and/or monitor interface) of `config` and hands its tap to
/// the data path.
pub fn start_taps(
    core: &Core,
    config: &Option<crate::capture::CaptureConfig>,
) -> Result<Option<crate::capture::Capture>, CliError> {
    let Some(config) = config else {
        return Ok(None);
    };
    let what = match (&config.path, &config.monitor) {
        (Some(p), _) => format!("--capture {}", p.display()),
        (None, Some(m)) => format!("--monitor {m}"),
        (None, None) => "capture".to_owned(),
    };
    let capture = crate::capture::Capture::start(config.clone()).map_err(|e| match e {
        crate::capture::CaptureError::Monitor(m) => CliError::Usage(format!("--monitor: {m}")),
        crate::capture::CaptureError::Create { path, source } => CliError::Io {
            what: format!("--capture {}: cannot create the file", path.display()),
            source,
        },
        e => CliError::Usage(format!("{what}: {e}")),
    })?;
    if let Some(m) = &config.monitor {
        tracing::info!(interface = %m, "monitor interface up: tcpdump -i {m}");
    }
    let _ = core.capture.set(capture.tap());
    Ok(Some(capture))
}

/// Flushes the capture and reports what it wrote and dropped.
pub fn finish_capture(capture: Option<crate::capture::Capture>) {
    if let Some(c) = capture {
        let s = c.finish();
        report(&format!(
            "capture: {} frames written, {} dropped (queue full), {} files, {} bytes, {} sent to the monitor interface\n",
            s.written, s.dropped, s.files, s.bytes, s.monitor_sent
        ));
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
