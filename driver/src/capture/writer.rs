//! The capture writer thread: drains the queue, keeps the interface table, writes and rotates
//! files, and replays every packet on the live monitor interface.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hwsim_frame::radiotap::{self, ChannelRepr, RadiotapRepr};

use super::pcapng::{self, LINKTYPE_RADIOTAP};
use super::{CaptureConfig, CaptureError, FrameMeta, Record, Shared};
use crate::monitor::Monitor;
use crate::switch::routing::RadioKey;
use hwsim_frame::MacAddr;

/// The interface key of the merged view (`--capture-merged`); no radio has it (VM ids count up
/// from 1 and wire addresses are unicast).
const MERGED: (RadioKey, u32) = (
    RadioKey {
        vm: u32::MAX,
        wire: MacAddr([0xff; 6]),
    },
    0,
);

/// How long the writer sleeps when the queue is empty (the tap wakes it when half full).
const IDLE_POLL: Duration = Duration::from_millis(5);
/// The output buffer is written to the file (one `write` call) once it holds this much.
const OUT_BUF: usize = 1 << 20;
/// Records between two publications of the counters and of the queue head while draining.
const PUBLISH_EVERY: u64 = 1024;
/// Snap length declared in interface blocks.
const SNAPLEN: u32 = 65535;
/// Most records held back while an interface waits for its name; beyond, the oldest waiting
/// interfaces are declared with the names they have.
const MAX_HELD: usize = 65536;
/// Most frame bytes held back.
const MAX_HELD_BYTES: usize = 64 << 20;

struct Interface {
    name: String,
    description: String,
    /// Interface ID in the current file, once declared there.
    id: Option<u32>,
    /// Named by [`super::CaptureTap::name_interface`] (not just the default name).
    named: bool,
    /// When the writer first had a packet for it (`None`: named before any).
    first_seen: Option<Instant>,
}

impl Interface {
    fn new(name: String, description: String, first_seen: Option<Instant>) -> Interface {
        Interface {
            name,
            description,
            id: None,
            named: false,
            first_seen,
        }
    }
}

/// A record copied out of the queue while interfaces wait for their names.
struct Held {
    meta: FrameMeta,
    original_len: usize,
    data: Vec<u8>,
}

pub(super) struct Writer {
    config: CaptureConfig,
    shared: Arc<Shared>,
    file: Option<File>,
    /// The live monitor interface, if any.
    monitor: Option<Monitor>,
    /// Blocks assembled for the current file, written when [`OUT_BUF`] is reached or idle.
    out: Vec<u8>,
    /// Files started so far (the current one is number `files - 1`).
    files: u64,
    file_bytes: u64,
    file_packets: u64,
    next_id: u32,
    interfaces: HashMap<(RadioKey, u32), Interface>,
    /// Records not written yet, in queue order, because the interface of the first (at least)
    /// may still get its name (see [`super::CaptureConfig::name_grace`]).
    held: VecDeque<Held>,
    held_bytes: usize,
    comment: String,
    /// Packets and bytes not yet added to the shared counters.
    unpublished_written: u64,
    unpublished_bytes: u64,
    unpublished_monitor: u64,
}

impl Writer {
    pub(super) fn create(
        config: CaptureConfig,
        shared: Arc<Shared>,
    ) -> Result<Writer, CaptureError> {
        let monitor = config.monitor.as_deref().map(Monitor::create).transpose()?;
        let mut w = Writer {
            config,
            shared,
            file: None,
            monitor,
            out: Vec::with_capacity(OUT_BUF + (64 << 10)),
            files: 0,
            file_bytes: 0,
            file_packets: 0,
            next_id: 0,
            interfaces: HashMap::new(),
            held: VecDeque::new(),
            held_bytes: 0,
            comment: String::with_capacity(32),
            unpublished_written: 0,
            unpublished_bytes: 0,
            unpublished_monitor: 0,
        };
        if let Some(path) = w.config.path.clone() {
            w.open_next()
                .map_err(|source| CaptureError::Create { path, source })?;
        }
        Ok(w)
    }

    pub(super) fn run(mut self) {
        if let Some(nice) = self.config.writer_nice {
            set_priority(nice);
        }
        let shared = self.shared.clone();
        let queue = &shared.queue;
        let mut head = 0u64;
        loop {
            if shared.renames_pending.swap(false, Ordering::Acquire) {
                self.apply_renames();
            }
            self.release_held(false);
            let mut did = 0u64;
            while let Some(record) = queue.full.pop() {
                self.take_record(&record);
                // Back for the taps; `free` holds every record there is, so this fits.
                let _ = queue.free.push(record);
                head += 1;
                did += 1;
                if did % PUBLISH_EVERY == 0 {
                    queue.head.store(head, Ordering::Relaxed);
                    self.publish();
                    // Under a steady stream the queue may never run empty: serve a flush here.
                    self.serve_flush(head);
                }
            }
            queue.head.store(head, Ordering::Relaxed);
            self.release_held(false);
            self.publish();
            self.serve_flush(head);
            if did > 0 {
                continue;
            }
            if shared.closed.load(Ordering::Acquire) {
                if head == queue.tail.load(Ordering::Acquire) {
                    break;
                }
                // A tap took a record before the close and is still filling it.
                std::thread::yield_now();
                continue;
            }
            // Idle: make what was written readable, then poll again (a tap that finds the
            // queue half full while we are idle unparks us early).
            self.flush();
            shared.writer_idle.store(true, Ordering::SeqCst);
            if queue.full.is_empty() {
                std::thread::park_timeout(IDLE_POLL);
            }
            shared.writer_idle.store(false, Ordering::Relaxed);
        }
        if shared.renames_pending.swap(false, Ordering::Acquire) {
            self.apply_renames();
        }
        self.release_held(true);
        self.flush();
        self.publish();
        self.file = None;
        // Whoever still waits for a flush: everything there will be is written.
        self.serve_flush(u64::MAX);
    }

    /// Serves the pending flush requests ([`super::Capture::flush`]) once every record they
    /// wait for (positions before `upto`) has been written, i.e. `head` has reached it.
    fn serve_flush(&mut self, head: u64) {
        let shared = self.shared.clone();
        let requests = &shared.flush;
        if !requests.pending.load(Ordering::Acquire) {
            return;
        }
        let mut state = requests.state.lock().unwrap_or_else(|e| e.into_inner());
        if head < state.upto {
            return;
        }
        // A flush promises every record queued so far in the file: names or not.
        if self.shared.renames_pending.swap(false, Ordering::Acquire) {
            self.apply_renames();
        }
        self.release_held(true);
        self.flush();
        state.last = super::Flushed {
            path: self
                .file
                .as_ref()
                .and(self.config.path.as_deref())
                .map(|first| file_path(first, self.files.saturating_sub(1))),
            bytes: if self.file.is_some() {
                self.file_bytes
            } else {
                0
            },
        };
        state.served = state.asked;
        requests.pending.store(false, Ordering::Release);
        requests.served.notify_all();
    }

    /// Adds what was written since the last call to the shared counters.
    fn publish(&mut self) {
        let c = &self.shared.writer_counters;
        if self.unpublished_written > 0 {
            c.written
                .fetch_add(self.unpublished_written, Ordering::Relaxed);
            self.unpublished_written = 0;
        }
        if self.unpublished_bytes > 0 {
            c.bytes.fetch_add(self.unpublished_bytes, Ordering::Relaxed);
            self.unpublished_bytes = 0;
        }
        if self.unpublished_monitor > 0 {
            c.monitor_sent
                .fetch_add(self.unpublished_monitor, Ordering::Relaxed);
            self.unpublished_monitor = 0;
        }
    }

    fn apply_renames(&mut self) {
        let renames = std::mem::take(
            &mut *self
                .shared
                .renames
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for r in renames {
            let entry = self
                .interfaces
                .entry((r.radio, r.freq_mhz))
                .or_insert_with(|| {
                    Interface::new(String::new(), default_description(r.freq_mhz), None)
                });
            entry.named = true;
            if entry.name != r.name
                || r.description
                    .as_ref()
                    .is_some_and(|d| *d != entry.description)
            {
                entry.name = r.name;
                if let Some(d) = r.description {
                    entry.description = d;
                }
                // A declared interface cannot be renamed: the next packet declares a new one.
                entry.id = None;
            }
        }
    }

    /// One record from the queue: to the monitor now, to the file now or, while some
    /// interface waits for its name, held back.
    fn take_record(&mut self, slot: &Record) {
        let frame = &slot.data[..slot.len];
        if self.monitor.is_some() {
            let mut rt_buf = [0u8; radiotap::MAX_LEN];
            let rt_len = radiotap_header(&slot.meta, &mut rt_buf);
            self.send_monitor(&rt_buf[..rt_len], frame);
        }
        if self.config.path.is_none() {
            return;
        }
        let link = (slot.meta.radio, slot.meta.freq_mhz);
        self.interfaces.entry(link).or_insert_with(|| {
            Interface::new(
                default_name(link.0, link.1),
                default_description(link.1),
                Some(Instant::now()),
            )
        });
        if !self.held.is_empty() || self.awaits_name(link) {
            if self.held.len() >= MAX_HELD || self.held_bytes + frame.len() > MAX_HELD_BYTES {
                self.release_held(true);
            } else {
                self.held_bytes += frame.len();
                self.held.push_back(Held {
                    meta: slot.meta,
                    original_len: slot.original_len,
                    data: frame.to_vec(),
                });
                return;
            }
        }
        self.write_record(&slot.meta, frame, slot.original_len);
    }

    /// Whether the interface of `link` is within its grace period for a name.
    fn awaits_name(&self, link: (RadioKey, u32)) -> bool {
        let grace = self.config.name_grace;
        self.interfaces.get(&link).is_some_and(|i| {
            !i.named && !grace.is_zero() && i.first_seen.is_some_and(|t| t.elapsed() < grace)
        })
    }

    /// Writes the held records from the oldest on, up to the first whose interface still
    /// awaits its name; all of them if `all`, after which no interface declared so far waits
    /// any longer (its packets are out under its current name: a later name makes a new one).
    fn release_held(&mut self, all: bool) {
        if all {
            for i in self.interfaces.values_mut() {
                i.first_seen = None;
            }
        }
        while let Some(h) = self.held.front() {
            if !all && self.awaits_name((h.meta.radio, h.meta.freq_mhz)) {
                return;
            }
            let Some(h) = self.held.pop_front() else {
                return;
            };
            self.held_bytes -= h.data.len();
            self.write_record(&h.meta, &h.data, h.original_len);
        }
    }

    fn send_monitor(&mut self, rt_hdr: &[u8], frame: &[u8]) {
        if let Some(monitor) = &self.monitor {
            match monitor.send([rt_hdr, frame]) {
                Ok(()) => self.unpublished_monitor += 1,
                Err(e) => {
                    let errors = &self.shared.writer_counters.monitor_errors;
                    if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                        tracing::warn!(error = %e, interface = monitor.name(), "monitor send failed");
                    }
                }
            }
        }
    }

    /// Writes one packet to the file.
    fn write_record(&mut self, m: &FrameMeta, frame: &[u8], original_len: usize) {
        if self.file.is_none() {
            self.shared
                .writer_counters
                .write_errors
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut rt_buf = [0u8; radiotap::MAX_LEN];
        let rt_len = radiotap_header(m, &mut rt_buf);
        let rt_hdr = &rt_buf[..rt_len];
        let link = (m.radio, m.freq_mhz);
        self.interfaces.entry(link).or_insert_with(|| {
            Interface::new(
                default_name(m.radio, m.freq_mhz),
                default_description(m.freq_mhz),
                Some(Instant::now()),
            )
        });
        let mut comment = std::mem::take(&mut self.comment);
        comment.clear();
        let key = if self.config.merged {
            self.interfaces.entry(MERGED).or_insert_with(|| Interface {
                named: true,
                ..Interface::new(
                    "all".to_owned(),
                    "every radio and link (merged view)".to_owned(),
                    None,
                )
            });
            if let Some(iface) = self.interfaces.get(&link) {
                link_comment(&mut comment, m.radio, m.freq_mhz, iface);
            }
            MERGED
        } else {
            link
        };
        if let Some(tx) = m.tx {
            use std::fmt::Write as _;
            let acked = if tx.acked { "acked" } else { "not acked" };
            let sep = if comment.is_empty() { "" } else { "; " };
            let _ = write!(comment, "{sep}{acked} retries={}", tx.retries);
        }
        let original = (rt_len + original_len) as u32;
        let c = (!comment.is_empty()).then_some(comment.as_str());
        self.write_packet(key, m.timestamp_ns, &[rt_hdr, frame], original, c);
        self.comment = comment;
    }

    /// Appends one packet (and, first, its interface block if this file has none yet) to the
    /// output buffer, and writes the buffer out once it is full.
    fn write_packet(
        &mut self,
        key: (RadioKey, u32),
        timestamp_ns: u64,
        parts: &[&[u8]],
        original: u32,
        comment: Option<&str>,
    ) {
        // Assemble with the interface ID it will have in this file; if the blocks do not fit,
        // take them back, rotate and assemble again (IDs restart in the new file).
        for attempt in 0..2 {
            let Some(iface) = self.interfaces.get_mut(&key) else {
                break;
            };
            let (id, new_iface) = match iface.id {
                Some(id) => (id, false),
                None => (self.next_id, true),
            };
            let mark = self.out.len();
            if new_iface {
                pcapng::interface_description(
                    &mut self.out,
                    LINKTYPE_RADIOTAP,
                    SNAPLEN,
                    &iface.name,
                    &iface.description,
                );
            }
            pcapng::enhanced_packet(&mut self.out, id, timestamp_ns, parts, original, comment);
            let needed = (self.out.len() - mark) as u64;
            let over = self
                .config
                .max_file_bytes
                .is_some_and(|max| self.file_bytes + needed > max);
            if attempt == 0 && over && self.file_packets > 0 {
                self.out.truncate(mark);
                if let Err(e) = self.open_next() {
                    if let Some(first) = &self.config.path {
                        tracing::error!(
                            "capture: cannot create {}: {e}; capture stopped",
                            file_path(first, self.files).display()
                        );
                    }
                    break;
                }
                continue;
            }
            if new_iface {
                iface.id = Some(id);
                self.next_id += 1;
            }
            self.file_bytes += needed;
            self.file_packets += 1;
            self.unpublished_bytes += needed;
            self.unpublished_written += 1;
            if self.out.len() >= OUT_BUF {
                self.flush();
            }
            return;
        }
        self.shared
            .writer_counters
            .write_errors
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Writes the output buffer to the file.
    fn flush(&mut self) {
        if self.out.is_empty() {
            return;
        }
        if let Some(f) = self.file.as_mut() {
            if let Err(e) = f.write_all(&self.out) {
                if let Some(first) = &self.config.path {
                    tracing::error!(
                        "capture: writing {} failed: {e}; capture stopped",
                        file_path(first, self.files.saturating_sub(1)).display()
                    );
                }
                self.shared
                    .writer_counters
                    .write_errors
                    .fetch_add(1, Ordering::Relaxed);
                self.file = None;
            }
        }
        self.out.clear();
    }

    /// Closes the current file (if any) and starts the next one with a section header.
    fn open_next(&mut self) -> std::io::Result<()> {
        self.flush();
        self.file = None;
        let Some(first) = &self.config.path else {
            return Ok(());
        };
        let path = file_path(first, self.files);
        self.file = Some(if first.as_os_str() == super::STDOUT_PATH {
            // Rotation is refused for standard output (`Capture::start`), so this is the
            // only file.
            File::from(std::io::stdout().as_fd().try_clone_to_owned()?)
        } else {
            File::create(&path)?
        });
        self.files += 1;
        if let Some(keep) = self.config.max_files {
            // Files are numbered from 0; the one `keep` files back goes.
            if let Some(oldest) = self.files.checked_sub(keep as u64 + 1) {
                let old = file_path(first, oldest);
                if let Err(e) = std::fs::remove_file(&old) {
                    tracing::warn!("capture: cannot remove {}: {e}", old.display());
                }
            }
        }
        self.shared
            .writer_counters
            .files
            .fetch_add(1, Ordering::Relaxed);
        self.file_packets = 0;
        self.next_id = 0;
        for iface in self.interfaces.values_mut() {
            iface.id = None;
        }
        let mark = self.out.len();
        pcapng::section_header(
            &mut self.out,
            concat!("vhost-hwsim ", env!("CARGO_PKG_VERSION")),
        );
        let n = (self.out.len() - mark) as u64;
        self.file_bytes = n;
        self.unpublished_bytes += n;
        Ok(())
    }
}

/// The radiotap header of a record into `buf`; its length.
fn radiotap_header(m: &FrameMeta, buf: &mut [u8; radiotap::MAX_LEN]) -> usize {
    let freq = u16::try_from(m.freq_mhz).unwrap_or(0);
    let rt = RadiotapRepr {
        tsft: Some(m.timestamp_ns / 1000),
        flags: Some(0),
        channel: Some(ChannelRepr::for_phy(freq, Some(&m.phy))),
        antenna_signal_dbm: m.signal_dbm,
        antenna_noise_dbm: m.noise_dbm,
        phy: Some(m.phy),
        ..RadiotapRepr::default()
    };
    match rt.emit(buf) {
        Ok(n) => n,
        // An impossible PHY description: keep the frame, drop the rate field.
        Err(_) => RadiotapRepr { phy: None, ..rt }.emit(buf).unwrap_or(0),
    }
}

/// Sets the calling thread's nice level (a level below the daemon's needs CAP_SYS_NICE).
fn set_priority(nice: i32) {
    // SAFETY: a plain system call; on Linux `who` 0 is the calling thread.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS as _, 0, nice) } != 0 {
        tracing::warn!(
            nice,
            error = %std::io::Error::last_os_error(),
            "capture writer keeps its priority"
        );
    }
}

/// `FILE` for the first file, `STEM-N.EXT` after N rotations.
pub(super) fn file_path(first: &Path, index: u64) -> PathBuf {
    if index == 0 {
        return first.to_path_buf();
    }
    let stem = first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match first.extension() {
        Some(ext) => format!("{stem}-{index}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{index}"),
    };
    first.with_file_name(name)
}

/// The merged view's packet comment prefix: which link the packet was on.
/// `radio=vm1-42:00:00:01:00:00 freq=5180 if=NAME (DESCRIPTION)`.
fn link_comment(out: &mut String, radio: RadioKey, freq_mhz: u32, iface: &Interface) {
    use std::fmt::Write as _;
    let _ = write!(
        out,
        "radio=vm{}-{} freq={freq_mhz} if={} ({})",
        radio.vm, radio.wire, iface.name, iface.description
    );
}

/// `vm1-42:00:00:00:00:00/5180`.
pub(super) fn default_name(radio: RadioKey, freq_mhz: u32) -> String {
    format!("vm{}-{}/{}", radio.vm, radio.wire, freq_mhz)
}

/// `5 GHz channel 36 (5180 MHz)`.
pub(super) fn default_description(freq_mhz: u32) -> String {
    let (band, channel) = match freq_mhz {
        2484 => ("2.4 GHz", Some(14)),
        2407..=2483 => ("2.4 GHz", Some((freq_mhz - 2407) / 5)),
        5000..=5924 => ("5 GHz", Some((freq_mhz - 5000) / 5)),
        5935 => ("6 GHz", Some(2)),
        5950..=7125 => ("6 GHz", Some((freq_mhz - 5950) / 5)),
        _ => ("", None),
    };
    match channel {
        Some(c) => format!("{band} channel {c} ({freq_mhz} MHz)"),
        None => format!("{freq_mhz} MHz"),
    }
}
