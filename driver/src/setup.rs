//! Assembling a daemon from its parts: the medium a config asks for, the built-in AP MLD's
//! attachment, the capture. The command line ([`crate::cli`]) and the demo ([`crate::demo`])
//! both build on these.

use std::sync::Arc;

use hwsim_radio::band::{Band, Width};

use crate::config::ap_links::{bound_by_ap_links, ApLinkWidth};
use crate::config::wmediumd::ConfigFormat;
use crate::config::Config;
use crate::core::Core;
use crate::error::CliError;
use crate::medium::{Medium, PerfectMedium};

/// The medium the arguments ask for: the config's, else the perfect medium.
pub fn medium(
    config: Option<&std::path::Path>,
    signal_dbm: i32,
) -> Result<Arc<dyn Medium>, CliError> {
    medium_with_ap(config, ConfigFormat::Toml, signal_dbm, &[])
}

/// The medium the arguments ask for, its rate synthesis bounded by the built-in AP MLD's
/// link widths (`ap_links`; see [`crate::config::ap_links`]).
pub fn medium_with_ap(
    config: Option<&std::path::Path>,
    format: ConfigFormat,
    signal_dbm: i32,
    ap_links: &[ApLinkWidth],
) -> Result<Arc<dyn Medium>, CliError> {
    match config {
        None => Ok(Arc::new(PerfectMedium {
            signal_dbm,
            ..PerfectMedium::default()
        })),
        Some(path) => Ok(crate::planning::medium_from(
            &load_config(path, format, ap_links)?,
            signal_dbm,
        )),
    }
}

/// Reads the medium config `path` (`--config`, or `--wmediumd-config` in that format), its
/// rates bounded by the AP MLD's links.
pub fn load_config(
    path: &std::path::Path,
    format: ConfigFormat,
    ap_links: &[ApLinkWidth],
) -> Result<Config, CliError> {
    let flag = match format {
        ConfigFormat::Toml => "--config",
        ConfigFormat::Wmediumd => "--wmediumd-config",
    };
    let mut cfg =
        Config::load_as(path, format).map_err(|e| CliError::Config(format!("{flag} {e}")))?;
    bound_by_ap_links(&mut cfg, ap_links);
    Ok(cfg)
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

/// Writes an end-of-run report to stderr; a closed stderr (the terminal hung up) is no reason
/// to fail the shutdown, so errors are ignored.
pub(crate) fn report(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(text.as_bytes());
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
    core.capture.store(Some(Arc::new(capture.tap())));
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
