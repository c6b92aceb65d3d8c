//! `vhost-hwsim demo`: the daemon plus built-in simulated guests, no VM needed.
//!
//! The default scene ([`mlo`]) is multi-link: the built-in AP MLD (three links: 2.4, 5 and
//! 6 GHz, one radio each; OWE) and a simulated VM with a non-AP MLD of three radios that
//! scans, probes, authenticates, associates on all links with OWE, runs the MLO 4-way
//! handshake and exchanges CCMP-protected QoS data on all links. `--classic`
//! runs the earlier two-VM scene ([`classic`]): single-link APs and stations on channels 36
//! and 1. Both connect over a real vhost-user socket through the frontend the tests use. The
//! simulated stations are crate `hwsim-sta`; this module runs the daemon around them and
//! reports.

mod classic;
pub(crate) mod mlo;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args as ClapArgs;

use crate::core::{Core, Limits};
use crate::medium::PerfectMedium;

/// Demo options.
#[derive(ClapArgs, Debug, Clone)]
pub struct DemoArgs {
    /// How long to exchange traffic, seconds.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Data frames per second each radio sends.
    #[arg(long, default_value_t = 200)]
    pub rate: u32,
    /// Socket path (default: a fresh one under the temp directory).
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// Medium configuration. Default: for the multi-link scene the embedded radio model of
    /// `docs/demo-mlo.toml` (so frames carry the EHT rates the model synthesises per link), for
    /// `--classic` the lossless medium.
    #[arg(long, conflicts_with = "perfect")]
    pub config: Option<PathBuf>,
    /// Use the lossless medium (every frame heard at -50 dBm, legacy rates).
    #[arg(long)]
    pub perfect: bool,
    /// Write every frame of the demo to this pcapng file.
    #[arg(long)]
    pub capture: Option<PathBuf>,
    /// Write the capture's packets to one pcapng interface, the link of each in its packet
    /// comment (as the daemon's `--capture-merged`, which also reaches the demo).
    #[arg(long)]
    pub capture_merged: bool,
    /// Start a new capture file when the current one would exceed this many bytes (as the
    /// daemon's `--capture-max-bytes`, which also reaches the demo).
    #[arg(long)]
    pub capture_max_bytes: Option<u64>,
    /// The single-link scene (two VMs, APs and stations on channels 36 and 1) instead of the
    /// multi-link one.
    #[arg(long)]
    pub classic: bool,
}

impl DemoArgs {
    /// The defaults of the command line, for running the demo from code.
    pub fn new(seconds: f64) -> DemoArgs {
        DemoArgs {
            seconds,
            rate: 200,
            socket: None,
            config: None,
            perfect: false,
            capture: None,
            capture_merged: false,
            capture_max_bytes: None,
            classic: false,
        }
    }
}

/// The multi-link demo's default medium: the radio model with both MLDs placed 6 m apart.
const MLO_MEDIUM: &str = include_str!("../../../docs/demo-mlo.toml");

/// Runs the demo and prints its tables.
pub fn run(args: &DemoArgs) -> Result<(), String> {
    if args.seconds.is_nan() || args.seconds <= 0.0 || args.seconds > 3600.0 {
        return Err("--seconds must be in (0, 3600]".into());
    }
    if args.rate == 0 || args.rate > 100_000 {
        return Err("--rate must be in [1, 100000]".into());
    }
    if args.classic {
        classic::run(args)
    } else {
        mlo::run(args)
    }
}

/// Set by [`stop_early`]: the traffic phase ends now instead of after `--seconds`.
static STOP_EARLY: AtomicBool = AtomicBool::new(false);

/// Ends the demo's traffic phase now (the binary calls it on SIGINT, SIGTERM, SIGQUIT or
/// SIGHUP); the demo then finishes as it does after `--seconds`: the station leaves, the tables
/// are printed and a `--capture` is closed complete.
pub fn stop_early() {
    STOP_EARLY.store(true, Ordering::Release);
}

/// Whether [`stop_early`] was called.
pub fn stopped_early() -> bool {
    STOP_EARLY.load(Ordering::Acquire)
}

/// Sleeps until `end`, or less if the demo is stopped early.
fn sleep_until(end: Instant) {
    while !stopped_early() {
        let Some(left) = end.checked_duration_since(Instant::now()) else {
            return;
        };
        std::thread::sleep(left.min(Duration::from_millis(10)));
    }
}

/// The daemon side of a demo: core, capture and vhost-user server on a socket.
struct Daemon {
    core: Arc<Core>,
    socket: PathBuf,
    server: crate::server::ServerHandle,
    capture: Option<crate::capture::Capture>,
}

impl Daemon {
    fn start(args: &DemoArgs) -> Result<Daemon, String> {
        let socket = args.socket.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("vhost-hwsim-demo-{}.sock", std::process::id()))
        });
        let signal = PerfectMedium::default().signal_dbm;
        let medium = if args.config.is_none() && !args.perfect && !args.classic {
            let cfg = crate::config::Config::parse(MLO_MEDIUM)
                .map_err(|e| format!("embedded docs/demo-mlo.toml: {e}"))?;
            crate::planning::medium_from(&cfg, signal)
        } else {
            crate::setup::medium(args.config.as_deref(), signal).map_err(|e| e.to_string())?
        };
        let core = Core::new(medium, Limits::default());
        let config = args
            .capture
            .as_ref()
            .map(|p| crate::capture::CaptureConfig {
                merged: args.capture_merged,
                max_file_bytes: args.capture_max_bytes,
                ..crate::capture::CaptureConfig::new(p)
            });
        let capture = crate::setup::start_taps(&core, &config).map_err(|e| e.to_string())?;
        let server = crate::server::spawn(Arc::clone(&core), &socket).map_err(|e| e.to_string())?;
        Ok(Daemon {
            core,
            socket,
            server,
            capture,
        })
    }

    /// Stops serving (which removes the socket) and flushes the capture (reporting it on
    /// stderr).
    fn stop(self) {
        self.server.stop();
        // Names for the last frames' links reach the capture before it closes.
        for _ in 0..64 {
            if !self.core.mld.process_pending(&self.core) {
                break;
            }
        }
        crate::setup::finish_capture(self.capture);
    }
}

/// Prints the per-radio table with its legend.
fn print_radio_table(stats: &crate::stats::Stats) {
    print!("{}", crate::stats::radio_table(&stats.radios));
    println!(
        "  sent: frames the radio transmitted; acked: acknowledged (group frames count as sent);"
    );
    println!(
        "  delivered: frames written into the radio's guest; dropped: back-pressure; lost: medium"
    );
}

/// Prints one line per guest and fails if a frame got no TX status.
fn check_tallies(tallies: &[hwsim_sta::guest::GuestTally]) -> Result<(), String> {
    for (i, t) in tallies.iter().enumerate() {
        println!(
            "guest {}: sent {} frames, got {} TX statuses ({} acked), received {} frames",
            i + 1,
            t.sent,
            t.statuses,
            t.acked,
            t.received
        );
    }
    let lost_status: u64 = tallies
        .iter()
        .map(|t| t.sent - t.statuses.min(t.sent))
        .sum();
    if lost_status > 0 {
        return Err(format!("{lost_status} frames got no TX status"));
    }
    Ok(())
}
