//! Command line: `vhost-hwsim --socket PATH` serves guests; `vhost-hwsim demo` runs without a VM;
//! `vhost-hwsim stats --control PATH` asks a running daemon for its counters; `vhost-hwsim reload
//! --control PATH [--config FILE]` puts a new medium config in force; `budget`, `rates` and
//! `plot-per` help plan a topology.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use hwsim_radio::band::Width;
use hwsim_radio::rates::{GuardInterval, PhyFormat};

use crate::config::Config;
use crate::core::{Core, Limits};
pub use crate::error::CliError;
use crate::setup::{
    ap_link_widths, attach_builtin_ap, finish_capture, load_config, medium_with_ap, report,
    start_taps,
};
use crate::socket_file::SocketFile;

/// `--help` heading of the options for serving guests.
const SERVING: &str = "Serving";
/// `--help` heading of the medium's options.
const MEDIUM: &str = "Medium";
/// `--help` heading of the capture options.
const CAPTURE: &str = "Capture";
/// `--help` heading of the built-in AP MLD's options.
const AP: &str = "Built-in AP MLD";
/// `--help` heading of the virtual-time options.
const VIRTUAL_TIME: &str = "Virtual time (UML time travel)";

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
    #[arg(short = 's', long, visible_alias = "socket-path", value_name = "PATH",
          help_heading = SERVING, conflicts_with = "socket_fd")]
    pub socket: Option<PathBuf>,
    /// Serve the listening vhost-user socket inherited as descriptor FD (a Unix stream socket
    /// after listen(2)); its file is left to whoever made it. Without --socket and
    /// --socket-fd, systemd socket activation (LISTEN_FDS) is used if present: see
    /// docs/systemd/.
    #[arg(long, value_name = "FD", help_heading = SERVING)]
    pub socket_fd: Option<i32>,
    /// Control socket answering `stats`, `reload` and `ap` with JSON (same rules as
    /// --socket). Under socket activation, the socket named `control`
    /// (FileDescriptorName=control).
    #[arg(long, value_name = "PATH", help_heading = SERVING)]
    pub control: Option<PathBuf>,
    /// Serve the counters for Prometheus at http://ADDR/metrics (e.g. 127.0.0.1:9101; port 0
    /// picks a free port, which the log names).
    #[arg(long, value_name = "ADDR", help_heading = SERVING)]
    pub metrics: Option<std::net::SocketAddr>,
    /// Permissions of the sockets the daemon creates (--socket, --control), octal. The
    /// default lets only the daemon's user connect; e.g. 0660 lets its group's VMMs in too.
    #[arg(long, value_name = "MODE", default_value = "0600", value_parser = parse_mode,
          help_heading = SERVING)]
    pub socket_mode: u32,
    /// Deliveries waiting per VM for RX buffers before frames are dropped (at least 1).
    #[arg(long, value_name = "N", default_value_t = Limits::default().inbox_capacity,
          value_parser = at_least_one, help_heading = SERVING)]
    pub inbox: usize,
    /// Message buffers in the daemon (at least 1).
    #[arg(long, value_name = "N", default_value_t = Limits::default().pool_buffers,
          value_parser = at_least_one, help_heading = SERVING)]
    pub pool: usize,
    /// Notify a guest of returned TX buffers only once N are waiting (at most a quarter of its
    /// TX ring; 1: after every drain). Linux's hwsim only frees its copies then, and every
    /// notification costs a UML guest a SIGIO; a frontend that waits for each TX completion
    /// needs 1. Wall-clock mode only.
    #[arg(long, value_name = "N", default_value_t = Limits::default().tx_call_batch,
          value_parser = at_least_one, help_heading = SERVING)]
    pub tx_call_batch: usize,
    /// After a drain of a guest's TX queue that found buffers, leave its kicks off and poll the
    /// queue again after US microseconds, until a poll finds nothing (0: never poll). Saves a
    /// sending guest a host syscall and a cross-CPU wake-up per burst; adds up to US to the
    /// frames of a burst. Wall-clock mode only.
    #[arg(long, value_name = "US", default_value_t = 0, help_heading = SERVING)]
    pub tx_poll_us: u64,
    /// Medium configuration (TOML: model, seed, path loss, nodes, links); default: the perfect
    /// medium.
    #[arg(long, value_name = "FILE", help_heading = MEDIUM)]
    pub config: Option<PathBuf>,
    /// Medium configuration in wmediumd's libconfig format (ifaces.ids, links, model types
    /// snr/prob/path_loss), used like --config; what cannot be mapped is refused with its line
    /// (docs/wmediumd.md). `reload` then reads wmediumd files too. `convert` shows the TOML.
    #[arg(long, value_name = "FILE", help_heading = MEDIUM, conflicts_with = "config")]
    pub wmediumd_config: Option<PathBuf>,
    /// Signal reported by the perfect medium, dBm.
    #[arg(long, value_name = "DBM", default_value_t = -50, allow_hyphen_values = true,
          help_heading = MEDIUM)]
    pub signal: i32,
    /// Write every transmission to this pcapng file (802.11 + radiotap, one interface per
    /// link or radio and frequency, TX outcome as packet comment); `-` writes it to standard
    /// output, e.g. `vhost-hwsim --capture - … | wireshark -k -i -`.
    #[arg(long, value_name = "FILE", help_heading = CAPTURE)]
    pub capture: Option<PathBuf>,
    /// Start a new capture file (STEM-1.EXT, STEM-2.EXT, … beside FILE) when the current one would exceed this
    /// many bytes.
    #[arg(long, value_name = "BYTES", help_heading = CAPTURE)]
    pub capture_max_bytes: Option<u64>,
    /// With --capture-max-bytes: keep at most this many capture files, deleting the oldest
    /// rotated file when a new one starts (default: keep all).
    #[arg(long, value_name = "N", requires = "capture_max_bytes",
          value_parser = at_least_one, help_heading = CAPTURE)]
    pub capture_max_files: Option<usize>,
    /// Nice level of the capture writer thread (0..=19). The default 10 lets the switch win
    /// under saturation (the capture then drops, counted); 0 keeps the capture complete as far
    /// as CPU and file system allow, at the switch's expense.
    #[arg(long, value_name = "N", default_value_t = crate::capture::DEFAULT_WRITER_NICE,
          value_parser = clap::value_parser!(i32).range(0..=19), help_heading = CAPTURE)]
    pub capture_nice: i32,
    /// Write all packets of the capture to one pcapng interface (for tools that handle only
    /// one), the radio, frequency and link of each in its packet comment.
    #[arg(long, help_heading = CAPTURE)]
    pub capture_merged: bool,
    /// Create live monitor interface NAME (TUN, 802.11 + radiotap) showing every transmission,
    /// for `tcpdump -i NAME` or Wireshark; with or without --capture. Needs CAP_NET_ADMIN.
    #[arg(long, value_name = "NAME", help_heading = CAPTURE)]
    pub monitor: Option<String>,
    /// Run the built-in AP MLD described by this TOML file (SSID, MLD address, security,
    /// links); its link radios attach to the daemon's own socket like one more VM.
    #[arg(long, value_name = "FILE", help_heading = AP)]
    pub ap_config: Option<PathBuf>,
    /// Create host TAP interface NAME as the built-in AP MLD's distribution system: Ethernet
    /// frames from associated stations come out of it, frames written to it go to them.
    /// Needs CAP_NET_ADMIN.
    #[arg(long, value_name = "NAME", requires = "ap_config", help_heading = AP)]
    pub ap_tap: Option<String>,
    /// Run in virtual time as the UML time-travel controller on this socket: guests boot with
    /// `time-travel=ext:ID:SOCKET` (distinct IDs), and the medium clock, the built-in AP MLD
    /// and the guests share one simulated clock that advances only when all of them wait.
    /// Without it the daemon runs on the host's clock, as always (docs/time-travel.md).
    #[arg(long, value_name = "SOCKET", help_heading = VIRTUAL_TIME)]
    pub time_travel: Option<PathBuf>,
    /// With --time-travel: let nothing run until this many guests have connected to the time
    /// socket, then admit them in ID order (deterministic start; 0: admit each as it comes).
    #[arg(long, value_name = "N", default_value_t = 0, requires = "time_travel",
          help_heading = VIRTUAL_TIME)]
    pub time_travel_guests: usize,
    /// With --time-travel: never let simulated time run more than RATIO times as fast as the
    /// wall clock (1: never ahead of it), for rigs where something outside the simulation (a
    /// host TAP, host-side timeouts) runs on wall time. 0 (default): as fast as it goes.
    #[arg(long, value_name = "RATIO", default_value_t = 0.0, requires = "time_travel",
          help_heading = VIRTUAL_TIME)]
    pub time_travel_pace: f64,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info`, `debug`,
    /// `vhost_hwsim::medium=trace`. Default: RUST_LOG if set, else `info` (`warn` for
    /// subcommands). An invalid filter is an error.
    #[arg(long, value_name = "FILTER")]
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
    /// Change a running daemon's air and capture through its control API (docs/control-api.md):
    /// positions, tx powers, per-link attenuation/loss/down, capture start/stop/rotate.
    Ctl(crate::ctl::CtlArgs),
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
    /// Print the medium TOML equivalent to a wmediumd libconfig file (to keep and edit).
    Convert {
        /// The wmediumd configuration.
        file: PathBuf,
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
    /// Print a shell completion script, e.g. `vhost-hwsim completions bash >
    /// /etc/bash_completion.d/vhost-hwsim`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `vhost-hwsim man > vhost-hwsim.1; man -l vhost-hwsim.1`.
    Man,
    /// Write the PER-vs-SNR figure of every EHT MCS as SVG.
    PlotPer {
        /// Output file (the repository's copy is docs/per-vs-snr.svg).
        #[arg(long, value_name = "FILE", default_value = "per-vs-snr.svg")]
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

impl Args {
    /// The medium config file and its format (`--config` or `--wmediumd-config`, which
    /// conflict).
    pub fn medium_config(
        &self,
    ) -> (
        Option<&std::path::Path>,
        crate::config::wmediumd::ConfigFormat,
    ) {
        use crate::config::wmediumd::ConfigFormat;
        match (&self.config, &self.wmediumd_config) {
            (_, Some(w)) => (Some(w.as_path()), ConfigFormat::Wmediumd),
            (c, None) => (c.as_deref(), ConfigFormat::Toml),
        }
    }

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
            tx_call_batch: self.tx_call_batch,
            tx_poll: std::time::Duration::from_micros(self.tx_poll_us),
        })
    }
}

/// Runs what the arguments say.
pub fn run(args: Args) -> Result<(), CliError> {
    let quiet = args.command.is_some();
    init_logging(
        args.log.as_deref(),
        std::env::var("RUST_LOG").ok().as_deref(),
        if quiet { "warn" } else { "info" },
    )?;
    match &args.command {
        Some(Command::Demo(d)) => {
            let d = demo_args(&args, d)?;
            crate::signals::stop_demo_on_signals();
            let result = crate::demo::run(&d).map_err(CliError::Demo);
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
        Some(Command::Ctl(ctl)) => crate::ctl::run(ctl),
        Some(Command::Ap { control, action }) => {
            let request = match action {
                ApAction::RemoveLink { id, tbtts } => format!("ap remove-link {id} {tbtts}"),
                ApAction::Stats => "ap stats".to_string(),
            };
            let answer = crate::control::request(control, &request)?;
            print!("{answer}");
            refusal(&answer)
        }
        Some(Command::Convert { file }) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| CliError::Config(format!("{}: {e}", file.display())))?;
            let toml = crate::config::wmediumd::to_toml(&text)
                .map_err(|e| CliError::Config(format!("{}: {e}", file.display())))?;
            print!("{toml}");
            Ok(())
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
        Some(Command::Completions { shell }) => {
            let mut cmd = <Args as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "vhost-hwsim", &mut std::io::stdout());
            Ok(())
        }
        Some(Command::Man) => {
            let cmd = <Args as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map_err(|source| CliError::Io {
                    what: "man page to standard output".into(),
                    source,
                })
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

fn serve(args: &Args) -> Result<(), CliError> {
    // Taken before any thread exists, so that every thread inherits the blocked mask and only
    // the `sigwait` below receives them.
    let signals = crate::signals::take();
    // An inherited socket comes from --socket-fd or, with neither that nor --socket, from
    // systemd socket activation.
    let activated = match (&args.socket, args.socket_fd) {
        (None, None) => crate::listen_fd::systemd(std::process::id())?,
        _ => None,
    };
    let vhost_fd = match (
        args.socket_fd,
        activated.as_ref().and_then(|a| a.vhost_user),
    ) {
        (Some(fd), _) => Some((fd, "--socket-fd")),
        (None, Some(fd)) => Some((fd, "socket activation (LISTEN_FDS)")),
        (None, None) => None,
    };
    if args.socket.is_none() && vhost_fd.is_none() {
        return Err(CliError::Usage(
            "--socket PATH is required, or --socket-fd FD, or systemd socket activation (or \
             try `vhost-hwsim demo`)"
                .into(),
        ));
    }
    let control_fd = match &args.control {
        Some(_) => None,
        None => activated.as_ref().and_then(|a| a.control),
    };
    if let (Some(c), Some(socket)) = (&args.control, &args.socket) {
        if absolute("--control", c)? == absolute("--socket", socket)? {
            return Err(CliError::Usage(format!(
                "--socket and --control are the same path ({})",
                socket.display()
            )));
        }
    }
    if let (Some(tt), Some(socket)) = (&args.time_travel, &args.socket) {
        if absolute("--time-travel", tt)? == absolute("--socket", socket)? {
            return Err(CliError::Usage(format!(
                "--socket and --time-travel are the same path ({})",
                socket.display()
            )));
        }
    }
    if !(args.time_travel_pace >= 0.0 && args.time_travel_pace.is_finite()) {
        return Err(CliError::Usage(format!(
            "--time-travel-pace {} is not a ratio ≥ 0",
            args.time_travel_pace
        )));
    }
    let limits = args.limits()?;
    // Every file is read and both sockets are checked before anything else happens: a bad
    // file or a path that is not ours stops the daemon with nothing created, started or logged.
    // The AP's config is read first: its link widths bound the medium's rate synthesis.
    let ap_config = args
        .ap_config
        .as_deref()
        .map(hwsim_ap::ApConfig::load)
        .transpose()
        .map_err(|e| CliError::Config(format!("--ap-config {e}")))?;
    let ap_links = ap_config.as_ref().map(ap_link_widths).unwrap_or_default();
    let (config, format) = args.medium_config();
    let loaded = config
        .map(|path| load_config(path, format, &ap_links))
        .transpose()?;
    let medium = match &loaded {
        Some(cfg) => crate::planning::medium_from(cfg, args.signal),
        None => medium_with_ap(None, format, args.signal, &ap_links)?,
    };
    let source = crate::control::MediumSource {
        loaded,
        generation: 1,
        in_force_since: std::time::Instant::now(),
        config: config.map(|c| absolute("--config", c)).transpose()?,
        format,
        signal_dbm: args.signal,
        ap_links,
    };
    if let Some(socket) = &args.socket {
        SocketFile::check(socket)?;
    }
    if let Some(c) = &args.control {
        SocketFile::check(c)?;
    }
    // Inherited descriptors are checked (and taken) before any path is bound.
    let inherited = vhost_fd
        .map(|(fd, what)| crate::listen_fd::take(fd, what))
        .transpose()?;
    let inherited_control = control_fd
        .map(|fd| crate::listen_fd::take(fd, "socket activation (control)"))
        .transpose()?;
    let metrics = args
        .metrics
        .map(|addr| {
            std::net::TcpListener::bind(addr).map_err(|source| CliError::Io {
                what: format!("--metrics {addr}"),
                source,
            })
        })
        .transpose()?;

    tracing::info!(medium = medium.name(), "medium");
    let core = Core::new(medium, limits);
    if let Some(path) = &args.time_travel {
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
    if let Some(listener) = metrics {
        let addr = listener.local_addr().map_err(|source| CliError::Io {
            what: "--metrics".into(),
            source,
        })?;
        crate::metrics::spawn(Arc::clone(&core), listener).map_err(|source| CliError::Io {
            what: format!("--metrics {addr}: metrics thread"),
            source,
        })?;
        tracing::info!("metrics: http://{addr}/metrics");
    }
    let capture_config = capture_config(args);
    let capture = start_taps(&core, &capture_config)?;
    let capture = Arc::new(crate::control::CaptureSlot::new(
        capture.zip(capture_config),
        capture_options(args),
    ));
    // The sockets appear last, when everything they lead to (capture, monitor interface,
    // metrics, virtual time) is up: whoever waits for them to exist may use the daemon at once.
    let (listener, socket_file) = match (&args.socket, inherited) {
        (Some(path), _) => {
            let (listener, file) = SocketFile::bind(path, args.socket_mode)?;
            (listener, Some(file))
        }
        (None, Some(listener)) => (listener, None),
        (None, None) => unreachable!("checked above: a path or a descriptor"),
    };
    let serving = match (&args.socket, vhost_fd) {
        (Some(path), _) => path.display().to_string(),
        (None, Some((fd, what))) => format!("descriptor {fd} ({what})"),
        (None, None) => String::new(),
    };
    let control = match (&args.control, inherited_control) {
        (Some(c), _) => {
            let (listener, file) = SocketFile::bind(c, args.socket_mode)?;
            Some((listener, Some(file), c.display().to_string()))
        }
        (None, Some(listener)) => Some((listener, None, "socket activation".to_owned())),
        (None, None) => None,
    };

    let control_state =
        crate::control::Control::new(Arc::clone(&core), Arc::clone(&source), Arc::clone(&capture));
    control_state.ensure_timeline();
    // The control socket's file stays with `serve` and goes when it returns.
    let _control_file = match control {
        Some((listener, file, name)) => {
            crate::control::spawn(Arc::clone(&control_state), listener).map_err(|source| {
                CliError::Io {
                    what: format!("--control {name}: control thread"),
                    source,
                }
            })?;
            file
        }
        None => None,
    };
    let server = crate::server::serve_listener(Arc::clone(&core), listener, socket_file)?;
    tracing::info!(socket = %serving, "serving");
    if let Some(cfg) = ap_config {
        start_ap(&core, cfg, args.ap_tap.as_deref())?;
    }
    loop {
        match signals.wait() {
            Ok(nix::sys::signal::Signal::SIGHUP) => {
                let running = capture.lock();
                crate::signals::on_hangup(&core, &source, running.as_ref().map(|(c, _)| c));
                drop(running);
                control_state.ensure_timeline();
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
    // Names for the last frames' links reach the capture before it closes.
    for _ in 0..64 {
        if !core.mld.process_pending(&core) {
            break;
        }
    }
    core.capture.store(None);
    finish_capture(capture.lock().take().map(|(c, _)| c));
    Ok(())
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

/// The demo's arguments with the daemon's capture options folded in (`vhost-hwsim
/// --capture-merged demo --capture F` is the demo's `--capture F --capture-merged`). Daemon
/// options the demo cannot honour are refused rather than ignored.
fn demo_args(args: &Args, demo: &crate::demo::DemoArgs) -> Result<crate::demo::DemoArgs, CliError> {
    let mut d = demo.clone();
    if let Some(path) = &args.capture {
        if d.capture.as_ref().is_some_and(|p| p != path) {
            return Err(CliError::Usage(
                "--capture given both before and after `demo`, with different files".into(),
            ));
        }
        d.capture = Some(path.clone());
    }
    d.capture_merged |= args.capture_merged;
    d.capture_max_bytes = d.capture_max_bytes.or(args.capture_max_bytes);
    if (d.capture_merged || d.capture_max_bytes.is_some()) && d.capture.is_none() {
        return Err(CliError::Usage(
            "--capture-merged and --capture-max-bytes need --capture FILE".into(),
        ));
    }
    if args.monitor.is_some() {
        return Err(CliError::Usage(
            "--monitor is not supported by `demo`".into(),
        ));
    }
    if args.capture_max_files.is_some() {
        return Err(CliError::Usage(
            "--capture-max-files is not supported by `demo`".into(),
        ));
    }
    // The demo prints its report on standard output, which a capture there would garble.
    if d.capture
        .as_ref()
        .is_some_and(|p| p.as_os_str() == crate::capture::STDOUT_PATH)
    {
        return Err(CliError::Usage(
            "`demo` prints to standard output: give --capture a file, not `-`".into(),
        ));
    }
    Ok(d)
}

/// The capture the arguments ask for (file, merged view, monitor interface), if any.
pub fn capture_config(args: &Args) -> Option<crate::capture::CaptureConfig> {
    if args.capture.is_none() && args.monitor.is_none() {
        return None;
    }
    Some(crate::capture::CaptureConfig {
        path: args.capture.clone(),
        monitor: args.monitor.clone(),
        ..capture_options(args)
    })
}

/// The arguments' capture options without a file or monitor interface: what a capture the
/// control API starts uses.
pub fn capture_options(args: &Args) -> crate::capture::CaptureConfig {
    crate::capture::CaptureConfig {
        path: None,
        merged: args.capture_merged,
        max_file_bytes: args.capture_max_bytes,
        max_files: args.capture_max_files,
        writer_nice: Some(args.capture_nice),
        ..crate::capture::CaptureConfig::new("")
    }
}

/// The log filter: `--log` wins, then a non-empty RUST_LOG, then `default`. An invalid
/// filter is an error naming where it came from.
pub fn log_filter(
    flag: Option<&str>,
    rust_log: Option<&str>,
    default: &str,
) -> Result<tracing_subscriber::EnvFilter, CliError> {
    let (origin, text) = match (flag, rust_log) {
        (Some(f), _) => ("--log", f),
        (None, Some(env)) if !env.trim().is_empty() => ("RUST_LOG", env),
        _ => ("default", default),
    };
    tracing_subscriber::EnvFilter::builder()
        .parse(text)
        .map_err(|e| CliError::Usage(format!("{origin} `{text}` is not a valid log filter: {e}")))
}

fn init_logging(flag: Option<&str>, rust_log: Option<&str>, default: &str) -> Result<(), CliError> {
    use std::io::IsTerminal;
    let filter = log_filter(flag, rust_log, default)?;
    // Colour only for a person at a terminal; logs captured by systemd, CI or a file get
    // plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    Ok(())
}

/// clap value parser for counts that must be at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("must be at least 1".into()),
        Err(e) => Err(e.to_string()),
    }
}
