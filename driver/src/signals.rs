//! The signals the daemon handles itself. SIGINT, SIGTERM and SIGQUIT end it through its one
//! clean path (capture drained, flushed and closed; sockets removed); SIGHUP does not end it: it
//! re-reads the medium config as the control socket's `reload` does and flushes the capture
//! ([`on_hangup`]). The main thread takes them with `sigwait` ([`take`]); no handler runs in
//! signal context. In `demo` the first one ends the traffic early ([`stop_demo_on_signals`]).

use crate::core::Core;

/// The signals the daemon handles itself: SIGINT, SIGTERM and SIGQUIT end it cleanly (the
/// capture complete on disk), SIGHUP reloads the medium config and flushes the capture.
const DAEMON_SIGNALS: [nix::sys::signal::Signal; 4] = {
    use nix::sys::signal::Signal;
    [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGQUIT,
        Signal::SIGHUP,
    ]
};

/// Blocks [`DAEMON_SIGNALS`] in the calling thread (threads started later inherit that) and
/// returns them as a set to `sigwait` on. Their disposition is then reset to the default: a
/// non-interactive shell starts a background command (`vhost-hwsim … &`) with SIGINT and
/// SIGQUIT ignored, and POSIX leaves it open whether an ignored signal that is blocked stays
/// pending for `sigwait` or is discarded (Linux keeps it; the reset makes it certain).
/// Blocked, the default action never runs.
pub(crate) fn take() -> nix::sys::signal::SigSet {
    use nix::sys::signal::{SigHandler, SigSet};
    let mut set = SigSet::empty();
    for s in DAEMON_SIGNALS {
        set.add(s);
    }
    if set.thread_block().is_err() {
        tracing::warn!("cannot block SIGINT/SIGTERM/SIGQUIT/SIGHUP: they act as by default");
        return set;
    }
    for s in DAEMON_SIGNALS {
        // SAFETY: installs no handler (SIG_DFL), so no code of ours runs in signal context.
        let _ = unsafe { nix::sys::signal::signal(s, SigHandler::SigDfl) };
    }
    set
}

/// How long SIGHUP waits for the capture writer to flush.
const HANGUP_FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// SIGHUP: re-reads the medium config as `reload` does (if the daemon has one) and makes the
/// capture file complete on disk as of now; the daemon keeps running.
pub(crate) fn on_hangup(
    core: &Core,
    source: &std::sync::Mutex<crate::control::MediumSource>,
    capture: Option<&crate::capture::Capture>,
) {
    let has_config = source
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .config
        .is_some();
    if has_config {
        match crate::control::reload(core, source, None) {
            Ok(path) => tracing::info!(config = %path.display(), "SIGHUP: medium config reloaded"),
            Err(e) => tracing::warn!("SIGHUP: reload refused, the medium in force stays: {e}"),
        }
    } else {
        tracing::info!("SIGHUP: nothing to reload (the daemon runs without --config)");
    }
    match capture.map(|c| c.flush(HANGUP_FLUSH_WAIT)) {
        None => {}
        Some(Some(crate::capture::Flushed {
            path: Some(path),
            bytes,
        })) => tracing::info!(
            "SIGHUP: capture flushed: {} is complete up to {bytes} bytes",
            path.display()
        ),
        Some(Some(_)) => tracing::info!("SIGHUP: capture flushed (no file is being written)"),
        Some(None) => tracing::warn!(
            "SIGHUP: the capture writer did not flush within {} s",
            HANGUP_FLUSH_WAIT.as_secs()
        ),
    }
}

/// In the demo, the first of the daemon's signals ends the traffic early and the demo finishes
/// as it does after `--seconds` (so that a `--capture` is complete); a second one ends the
/// process at once. Called before any thread exists, so that all inherit the blocked mask.
pub(crate) fn stop_demo_on_signals() {
    let signals = take();
    let waiter = std::thread::Builder::new()
        .name("demo-signals".into())
        .spawn(move || {
            if let Ok(signal) = signals.wait() {
                tracing::warn!(%signal, "stopping the demo early");
                crate::demo::stop_early();
            }
            if let Ok(signal) = signals.wait() {
                std::process::exit(128 + signal as i32);
            }
        });
    if waiter.is_err() {
        // Nobody would take the signals: let them act as if not blocked.
        let _ = signals.thread_unblock();
    }
}
