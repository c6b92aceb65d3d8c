//! Command line: `vhost-hwsim --socket PATH` serves guests; `vhost-hwsim demo` runs without a VM;
//! `vhost-hwsim stats --control PATH` asks a running daemon for its counters.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::core::{Core, Limits};
use crate::medium::PerfectMedium;

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(
    name = "vhost-hwsim",
    version,
    about = "Wi-Fi medium for mac80211_hwsim guests (vhost-user, virtio ID 29)"
)]
pub struct Args {
    /// vhost-user socket to serve; every connection is one VM.
    #[arg(long, global = false)]
    pub socket: Option<PathBuf>,
    /// Control socket answering `stats` with JSON.
    #[arg(long)]
    pub control: Option<PathBuf>,
    /// Signal reported by the perfect medium, dBm.
    #[arg(long, default_value_t = -50, allow_hyphen_values = true)]
    pub signal: i32,
    /// Deliveries waiting per VM for RX buffers before frames are dropped.
    #[arg(long, default_value_t = Limits::default().inbox_capacity)]
    pub inbox: usize,
    /// Message buffers in the daemon.
    #[arg(long, default_value_t = Limits::default().pool_buffers)]
    pub pool: usize,
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
    /// I/O.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The demo failed.
    #[error("demo: {0}")]
    Demo(String),
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
    let quiet = matches!(args.command, Some(Command::Demo(_)));
    init_logging(
        args.log
            .as_deref()
            .unwrap_or(if quiet { "warn" } else { "info" }),
    );
    match &args.command {
        Some(Command::Demo(d)) => crate::demo::run(d).map_err(CliError::Demo),
        Some(Command::Stats { control }) => {
            print!("{}", crate::control::request(control, "stats")?);
            Ok(())
        }
        None => serve(&args),
    }
}

fn serve(args: &Args) -> Result<(), CliError> {
    let socket = args.socket.clone().ok_or_else(|| {
        CliError::Usage("--socket PATH is required (or try `vhost-hwsim demo`)".into())
    })?;
    let medium = PerfectMedium {
        signal_dbm: args.signal,
        ..PerfectMedium::default()
    };
    // Block SIGINT/SIGTERM before any thread exists so every thread inherits the mask and only
    // `sigwait` below receives them.
    let signals = termination_signals();
    let _ = signals.thread_block();
    let core = Core::new(Arc::new(medium), args.limits()?);
    if let Some(c) = &args.control {
        crate::control::spawn(Arc::clone(&core), c)?;
    }
    let _server = crate::server::spawn(Arc::clone(&core), &socket)?;
    tracing::info!(socket = %socket.display(), "serving");
    let _ = signals.wait();
    tracing::info!("shutting down");
    eprint!(
        "{}",
        crate::stats::radio_table(&crate::stats::collect(&core).radios)
    );
    let _ = std::fs::remove_file(&socket);
    if let Some(c) = &args.control {
        let _ = std::fs::remove_file(c);
    }
    Ok(())
}

fn termination_signals() -> nix::sys::signal::SigSet {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
