//! pcapng capture of everything the medium carries, written off the data path.
//!
//! The data path holds a [`CaptureTap`] and calls [`CaptureTap::record`] once per frame it wants
//! captured. That call never blocks, never waits for the writer and, once warm, never
//! allocates: it takes a record from a free queue (records are allocated on first need, up to
//! the queue length, then recycled), copies the [`FrameMeta`] and the frame's bytes (≤ 2304)
//! into it and pushes it onto the full queue (two `crossbeam_queue::ArrayQueue`s, the pattern
//! of the MLD tracker's queues; no `unsafe`). If every record waits for the writer, the frame is
//! dropped and counted ([`CaptureStats::dropped`]). A writer thread pops the records, builds the
//! radiotap header for each ([`hwsim_frame::radiotap`]) and pcapng blocks ([`pcapng`]) straight
//! into a 1 MiB output buffer, and writes that buffer with one `write` call when it is full or
//! the queue is empty.
//!
//! The writer runs at nice 10 by default ([`CaptureConfig::writer_nice`], `--capture-nice`):
//! under saturation it gets a small share of the CPU and the capture drops rather than slowing
//! the switch; at moderate rates that share is enough to write everything. Nice 0 trades the
//! switch's rate for a complete capture.

//! # Interfaces
//! One pcapng interface per (radio, frequency), link type 127 (802.11 + radiotap), `if_tsresol`
//! 9 (ns timestamps), created in a file on first use: `if_name` `vm1-42:00:00:00:00:00/5180`,
//! `if_description` `5 GHz channel 36 (5180 MHz)`.
//!
//! [`CaptureTap::name_interface`] names the interface of a (radio, frequency), e.g.
//! `ap1/link2` once the MLD tracker knows the link. The tracker learns that from the very frames
//! the interface carries (the link's first beacon, the association), so the name arrives a
//! little after the first packets: the file holds back every packet from the first one of an
//! unnamed interface on, for at most [`CaptureConfig::name_grace`] (2 s by default), and writes
//! them, in order, once that interface is named or its grace is over (a flush, the end of the
//! capture, or more than 65536 packets / 64 MiB held write them at once). A (radio, frequency)
//! that is named within its grace thus has one interface, named right from its first packet.
//!
//! An interface block cannot be changed once written, so a name given later takes effect on the
//! *next* frame of that (radio, frequency): the writer then opens a new interface with the new
//! name and description and uses it from there on; earlier frames stay on the interface that had
//! the old name. After a rotation every interface is re-declared with its current name. The live
//! monitor is fed at once, never held back.
//!
//! # Merged view
//! With [`CaptureConfig::merged`] (`--capture-merged`) every packet goes to one interface per
//! file, `all` (for tools that handle a single interface only), and the packet comment names the
//! link it was on: `radio=vm1-42:00:00:01:00:00 freq=5180 if=NAME (DESCRIPTION)`, where NAME and
//! DESCRIPTION are what the per-link interface would have been called (after the MLD tracker's
//! renames: `ap-mld-…/link2`, `…, link 2 of AP MLD …`), followed by the TX outcome.
//!
//! # Live monitor
//! With [`CaptureConfig::monitor`] (`--monitor NAME`) the writer also sends every packet — the
//! radiotap header and the frame, the bytes an Enhanced Packet Block carries — to a TUN
//! interface of link type 802.11 + radiotap ([`crate::monitor`]), with or without a file. It is
//! fed from the same queue, so it never blocks the switch either: what the queue cannot hold is
//! dropped and counted once for both; failed sends are counted in
//! [`CaptureStats::monitor_errors`].
//!
//! # Files
//! `--capture FILE` writes `FILE`; with a size limit the writer starts `STEM-1.EXT`,
//! `STEM-2.EXT`, … beside it when the next block would take the file over the limit (a file
//! always holds at least one packet). Each file is a complete pcapng section.
//!
//! # TX outcome
//! When [`FrameMeta::tx`] is set, the packet's `opt_comment` says `acked retries=N` or
//! `not acked retries=N` (`frame.comment` in Wireshark).

pub mod pcapng;
mod writer;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::{JoinHandle, Thread};

use crossbeam_queue::ArrayQueue;
use hwsim_frame::nl::MAX_FRAME_LEN;
use hwsim_frame::radiotap::{Bandwidth, Coding, GuardInterval, PhyInfo};
use hwsim_radio::band::Width;
use hwsim_radio::rates::{self, PhyFormat, TxVector};

use crate::switch::routing::RadioKey;

/// Default number of records that may wait for the writer.
pub const DEFAULT_QUEUE_LEN: usize = 16384;

/// What a capture writes and how much it may buffer.
#[derive(Clone, Debug)]
pub struct CaptureConfig {
    /// The (first) output file, if a file is written.
    pub path: Option<PathBuf>,
    /// Write all packets to one interface, the link in each packet's comment (`--capture-merged`).
    pub merged: bool,
    /// Also send every packet to this live monitor interface (`--monitor NAME`).
    pub monitor: Option<String>,
    /// Rotate to a new file before one would grow past this many bytes (`--capture-max-bytes`).
    pub max_file_bytes: Option<u64>,
    /// With rotation, keep at most this many files: starting one more deletes the oldest
    /// (`--capture-max-files`).
    pub max_files: Option<usize>,
    /// Records that may wait for the writer; more are dropped and counted.
    pub queue_len: usize,
    /// The writer thread's nice level (`--capture-nice`), or `None` to keep the daemon's.
    /// [`DEFAULT_WRITER_NICE`] (10): under saturation the writer yields the CPU to the switch
    /// and the capture drops instead; 0: the capture keeps up as far as the CPU and the file
    /// system allow, and the switch pays for it (figures in BENCHMARKS.md).
    pub writer_nice: Option<i32>,
    /// How long the file holds back the packets of a (radio, frequency) that has no name yet
    /// (see "Interfaces" in the module docs); zero writes them at once.
    pub name_grace: std::time::Duration,
}

/// Default [`CaptureConfig::writer_nice`]. Measured (2 cores, `hwsim-load`, 256 B):
/// `SCHED_IDLE` or nice 19 starve the writer even at moderate rates; nice 0 costs the switch a
/// quarter to a half of its maximum rate; nice 10 costs little at the maximum rate (the writer
/// keeps a third to a half of the frames) and drops nothing at 200 k frames/s on a quiet
/// machine (see BENCHMARKS.md for the rates on a busy one).
pub const DEFAULT_WRITER_NICE: i32 = 10;

/// The capture path that means standard output (`--capture -`).
pub const STDOUT_PATH: &str = "-";

/// Default [`CaptureConfig::name_grace`]: the MLD tracker names a link within milliseconds of
/// the beacon or association that tells it; a station's scan before it associates takes longer
/// and keeps its radio's own interfaces.
pub const DEFAULT_NAME_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

impl CaptureConfig {
    /// A capture to `path`, no rotation, [`DEFAULT_QUEUE_LEN`].
    pub fn new(path: impl Into<PathBuf>) -> CaptureConfig {
        CaptureConfig {
            path: Some(path.into()),
            merged: false,
            monitor: None,
            max_file_bytes: None,
            max_files: None,
            queue_len: DEFAULT_QUEUE_LEN,
            writer_nice: Some(DEFAULT_WRITER_NICE),
            name_grace: DEFAULT_NAME_GRACE,
        }
    }

    /// Only a live monitor interface `name`, no file.
    pub fn monitor_only(name: &str) -> CaptureConfig {
        CaptureConfig {
            path: None,
            monitor: Some(name.to_owned()),
            ..CaptureConfig::new("")
        }
    }
}

/// Why a capture could not start.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The first file could not be created.
    #[error("cannot create capture file {path}: {source}")]
    Create {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Neither a file nor a monitor interface was asked for.
    #[error("a capture needs a file or a monitor interface")]
    NoOutput,
    /// Rotation asked for a capture on standard output, which cannot start a new file.
    #[error("a capture to standard output (`-`) cannot rotate (drop --capture-max-bytes)")]
    RotateStdout,
    /// The live monitor interface could not be created.
    #[error(transparent)]
    Monitor(#[from] crate::monitor::MonitorError),
    /// The writer thread could not be started.
    #[error("cannot start the capture writer thread: {0}")]
    Thread(std::io::Error),
}

/// The outcome of a transmission, as its TX status reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxOutcome {
    /// Whether the frame was acknowledged.
    pub acked: bool,
    /// Retransmissions after the first attempt.
    pub retries: u8,
}

/// Everything about one captured frame except its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameMeta {
    /// Nanoseconds since the Unix epoch ([`now_ns`]); becomes the packet timestamp and, in µs,
    /// the radiotap TSFT.
    pub timestamp_ns: u64,
    /// The radio whose interface the packet goes to (normally the transmitter).
    pub radio: RadioKey,
    /// Frequency of the (link) channel in MHz: with `radio`, names the interface.
    pub freq_mhz: u32,
    /// Signal in dBm, as the medium computed it.
    pub signal_dbm: Option<i8>,
    /// Noise floor in dBm.
    pub noise_dbm: Option<i8>,
    /// The PHY the medium used.
    pub phy: PhyInfo,
    /// TX outcome, written as the packet comment.
    pub tx: Option<TxOutcome>,
}

/// Counters of a capture (monotonic).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CaptureStats {
    /// Records accepted into the queue.
    pub queued: u64,
    /// Records dropped: queue full, or capture closed.
    pub dropped: u64,
    /// Frames longer than a slot, captured truncated (original length kept).
    pub truncated: u64,
    /// Packets written.
    pub written: u64,
    /// Records lost to write errors (the writer stops writing after the first error).
    pub write_errors: u64,
    /// Files started.
    pub files: u64,
    /// Bytes written over all files.
    pub bytes: u64,
    /// Packets sent to the live monitor interface.
    pub monitor_sent: u64,
    /// Packets the monitor interface refused (send errors).
    pub monitor_errors: u64,
}

/// A value on cache lines of its own (two 64-byte lines: adjacent-line prefetch), so that what
/// the taps change and what the writer changes do not share a line.
#[repr(align(128))]
#[derive(Default)]
struct CachePadded<T>(T);

impl<T> CachePadded<T> {
    fn new(t: T) -> CachePadded<T> {
        CachePadded(t)
    }
}

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Counters only the data path changes (on drops; `queued` is the queue's tail count).
#[derive(Default)]
struct TapCounters {
    dropped: AtomicU64,
    truncated: AtomicU64,
}

/// Counters only the writer changes (published once per batch, not per packet).
#[derive(Default)]
struct WriterCounters {
    written: AtomicU64,
    write_errors: AtomicU64,
    files: AtomicU64,
    bytes: AtomicU64,
    monitor_sent: AtomicU64,
    monitor_errors: AtomicU64,
}

/// One captured frame, as the tap left it.
struct Record {
    meta: FrameMeta,
    original_len: usize,
    len: usize,
    data: [u8; MAX_FRAME_LEN],
}

/// The records between the taps (many producers) and the writer (one consumer), in the pattern
/// of the MLD tracker's queues (`crate::mld::queue`): boxed records, allocated on first need up
/// to `capacity` and then recycled through `free`; `full` holds them in the order taps finished
/// them. Two lock-free bounded queues and no `unsafe`: once warm, a record is a pop, a copy and
/// a push, and nothing is allocated.
struct RecordQueue {
    free: ArrayQueue<Box<Record>>,
    full: ArrayQueue<Box<Record>>,
    capacity: usize,
    /// Records allocated so far (at most `capacity`).
    allocated: AtomicUsize,
    /// Records taps took so far (= queued; a record is counted before it is filled, so the
    /// writer knows one is still on its way).
    tail: CachePadded<AtomicU64>,
    /// Records the writer has finished, published once per batch (only for wake-ups).
    head: CachePadded<AtomicU64>,
}

impl RecordQueue {
    fn new(capacity: usize) -> RecordQueue {
        RecordQueue {
            free: ArrayQueue::new(capacity),
            full: ArrayQueue::new(capacity),
            capacity,
            allocated: AtomicUsize::new(0),
            tail: CachePadded::new(AtomicU64::new(0)),
            head: CachePadded::new(AtomicU64::new(0)),
        }
    }

    fn capacity(&self) -> u64 {
        self.capacity as u64
    }

    /// A record to fill: a recycled one, or a new one while fewer than `capacity` exist;
    /// `None` when all of them wait for the writer (the queue is full). Never waits.
    /// (`meta` fills a new record; the caller overwrites every field anyway.)
    fn take_free(&self, meta: &FrameMeta) -> Option<Box<Record>> {
        if let Some(r) = self.free.pop() {
            return Some(r);
        }
        let mut n = self.allocated.load(Ordering::Relaxed);
        loop {
            if n >= self.capacity {
                // Another tap may have just returned one (or the writer recycled one).
                return self.free.pop();
            }
            match self.allocated.compare_exchange_weak(
                n,
                n + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    return Some(Box::new(Record {
                        meta: *meta,
                        original_len: 0,
                        len: 0,
                        data: [0; MAX_FRAME_LEN],
                    }))
                }
                Err(now) => n = now,
            }
        }
    }
}

/// A request to rename an interface.
struct Rename {
    radio: RadioKey,
    freq_mhz: u32,
    name: String,
    description: Option<String>,
}

/// Requests to make everything queued so far readable in the file ([`Capture::flush`]).
#[derive(Default)]
struct FlushRequests {
    /// Set while a request waits; the writer looks at it once per batch.
    pending: AtomicBool,
    state: Mutex<FlushState>,
    served: Condvar,
}

#[derive(Default)]
struct FlushState {
    /// The count of records taken up to which all must be written before the requests are served.
    upto: u64,
    /// Requests made so far.
    asked: u64,
    /// Requests served so far.
    served: u64,
    /// What the last served request left on disk.
    last: Flushed,
}

/// The file a [`Capture::flush`] completed, and how long it was then.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flushed {
    /// The file being written (`None` if there is none: monitor only, or a write error).
    pub path: Option<PathBuf>,
    /// Its length once flushed: a complete pcapng, every block whole.
    pub bytes: u64,
}

struct Shared {
    queue: RecordQueue,
    closed: AtomicBool,
    flush: FlushRequests,
    renames: Mutex<Vec<Rename>>,
    renames_pending: AtomicBool,
    writer: OnceLock<Thread>,
    /// The writer is about to park or parked: a tap that finds the queue half full unparks it.
    writer_idle: AtomicBool,
    tap_counters: CachePadded<TapCounters>,
    writer_counters: CachePadded<WriterCounters>,
}

/// The data path's handle on a capture: cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct CaptureTap {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CaptureTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureTap")
            .field("stats", &self.stats())
            .finish()
    }
}

impl CaptureTap {
    /// Queues one frame for the capture. Never blocks; returns false if the frame was dropped
    /// (queue full or capture finished), which is counted. Frames longer than 2304 bytes are
    /// cut to that length.
    pub fn record(&self, meta: &FrameMeta, frame: &[u8]) -> bool {
        let s = &*self.shared;
        if s.closed.load(Ordering::Relaxed) {
            s.tap_counters.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let Some(mut record) = s.queue.take_free(meta) else {
            s.tap_counters.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        let pos = s.queue.tail.fetch_add(1, Ordering::AcqRel);
        let len = frame.len().min(MAX_FRAME_LEN);
        if len < frame.len() {
            s.tap_counters.truncated.fetch_add(1, Ordering::Relaxed);
        }
        record.meta = *meta;
        record.original_len = frame.len();
        record.len = len;
        record.data[..len].copy_from_slice(&frame[..len]);
        // There are never more records than the queue holds, so the push cannot fail.
        if s.queue.full.push(record).is_err() {
            s.tap_counters.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        // Wake the writer early when the queue is half full and it is idle; otherwise it polls.
        // Both loads are of lines the writer changes once per batch, not per record.
        if s.writer_idle.load(Ordering::Relaxed)
            && (pos + 1).saturating_sub(s.queue.head.load(Ordering::Relaxed)) * 2
                >= s.queue.capacity()
        {
            if let Some(t) = s.writer.get() {
                t.unpark();
            }
        }
        true
    }

    /// Counts a frame the caller could not hand to [`CaptureTap::record`] (no buffer to hold
    /// it until its PPDU's start was known) as dropped.
    pub fn count_dropped(&self) {
        self.shared
            .tap_counters
            .dropped
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Names the interface of (radio, frequency), e.g. `ap1/link2`, with an optional
    /// description (band, channel, width, link ID, MLD address). Takes effect at that
    /// interface's next packet, on a new interface block (see the module docs). Takes a lock
    /// shared only with the writer thread: call it when the MLD picture changes, not per frame.
    pub fn name_interface(
        &self,
        radio: RadioKey,
        freq_mhz: u32,
        name: &str,
        description: Option<&str>,
    ) {
        let s = &*self.shared;
        let mut renames = s.renames.lock().unwrap_or_else(|e| e.into_inner());
        renames.push(Rename {
            radio,
            freq_mhz,
            name: name.to_owned(),
            description: description.map(str::to_owned),
        });
        s.renames_pending.store(true, Ordering::Release);
    }

    /// The capture's counters.
    pub fn stats(&self) -> CaptureStats {
        let s = &*self.shared;
        let (t, w) = (&s.tap_counters, &s.writer_counters);
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CaptureStats {
            queued: get(&s.queue.tail),
            dropped: get(&t.dropped),
            truncated: get(&t.truncated),
            written: get(&w.written),
            write_errors: get(&w.write_errors),
            files: get(&w.files),
            bytes: get(&w.bytes),
            monitor_sent: get(&w.monitor_sent),
            monitor_errors: get(&w.monitor_errors),
        }
    }
}

/// A running capture: the writer thread and the tap it serves. Dropping it finishes the
/// capture (drains the queue, flushes, joins the thread), like [`Capture::finish`].
pub struct Capture {
    tap: CaptureTap,
    thread: Option<JoinHandle<()>>,
}

impl Capture {
    /// Creates the first file and the monitor interface (so a bad path or name fails here) and
    /// starts the writer thread.
    pub fn start(config: CaptureConfig) -> Result<Capture, CaptureError> {
        if config.path.is_none() && config.monitor.is_none() {
            return Err(CaptureError::NoOutput);
        }
        let to_stdout = config
            .path
            .as_ref()
            .is_some_and(|p| p.as_os_str() == STDOUT_PATH);
        if to_stdout && config.max_file_bytes.is_some() {
            return Err(CaptureError::RotateStdout);
        }
        let capacity = config.queue_len.max(1);
        let shared = Arc::new(Shared {
            queue: RecordQueue::new(capacity),
            closed: AtomicBool::new(false),
            flush: FlushRequests::default(),
            renames: Mutex::new(Vec::new()),
            renames_pending: AtomicBool::new(false),
            writer: OnceLock::new(),
            writer_idle: AtomicBool::new(false),
            tap_counters: CachePadded::new(TapCounters::default()),
            writer_counters: CachePadded::new(WriterCounters::default()),
        });
        let writer = writer::Writer::create(config, shared.clone())?;
        let thread = std::thread::Builder::new()
            .name("capture-writer".into())
            .spawn(move || writer.run())
            .map_err(CaptureError::Thread)?;
        let _ = shared.writer.set(thread.thread().clone());
        Ok(Capture {
            tap: CaptureTap { shared },
            thread: Some(thread),
        })
    }

    /// A handle for the data path.
    pub fn tap(&self) -> CaptureTap {
        self.tap.clone()
    }

    /// Writes every record queued before the call to the file, so that the file's first
    /// [`Flushed::bytes`] bytes are a complete pcapng holding all of them; the capture goes on
    /// (later writes append whole blocks). Waits at most `timeout` for the writer: `None` if it
    /// was not done by then. (The data goes to the file, for any reader; there is no fsync.)
    pub fn flush(&self, timeout: std::time::Duration) -> Option<Flushed> {
        let shared = &*self.tap.shared;
        let mut state = shared.flush.state.lock().unwrap_or_else(|e| e.into_inner());
        state.asked += 1;
        let ticket = state.asked;
        state.upto = state.upto.max(shared.queue.tail.load(Ordering::Acquire));
        shared.flush.pending.store(true, Ordering::Release);
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
        let (state, wait) = shared
            .flush
            .served
            .wait_timeout_while(state, timeout, |s| s.served < ticket)
            .unwrap_or_else(|e| e.into_inner());
        (!wait.timed_out()).then(|| state.last.clone())
    }

    /// Stops accepting records, writes everything queued, flushes and closes the file.
    pub fn finish(mut self) -> CaptureStats {
        self.shutdown();
        self.tap.stats()
    }

    fn shutdown(&mut self) {
        self.tap.shared.closed.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            if t.join().is_err() {
                tracing::error!("capture writer thread panicked");
            }
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Nanoseconds since the Unix epoch (the clock pcapng timestamps use).
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The radiotap PHY description of a radio-model transmit vector.
pub fn phy_info(v: &TxVector) -> PhyInfo {
    let bw = match v.width() {
        Width::W20 => Bandwidth::Mhz20,
        Width::W40 => Bandwidth::Mhz40,
        Width::W80 => Bandwidth::Mhz80,
        Width::W160 => Bandwidth::Mhz160,
        Width::W320 => Bandwidth::Mhz320,
    };
    let gi = match v.gi() {
        rates::GuardInterval::Gi0_4 => GuardInterval::Ns400,
        rates::GuardInterval::Gi0_8 => GuardInterval::Ns800,
        rates::GuardInterval::Gi1_6 => GuardInterval::Ns1600,
        rates::GuardInterval::Gi3_2 => GuardInterval::Ns3200,
    };
    let coding = match v.coding() {
        rates::Coding::Bcc => Coding::Bcc,
        rates::Coding::Ldpc => Coding::Ldpc,
    };
    let (mcs, nss) = (v.mcs(), v.nss());
    match v.format() {
        PhyFormat::Dsss => PhyInfo::Legacy {
            rate_500kbps: [2, 4, 11, 22][usize::from(mcs.min(3))],
        },
        PhyFormat::Ofdm => PhyInfo::Legacy {
            rate_500kbps: [12, 18, 24, 36, 48, 72, 96, 108][usize::from(mcs.min(7))],
        },
        PhyFormat::Ht => PhyInfo::Ht {
            mcs: 8 * nss.saturating_sub(1) + mcs,
            bw,
            gi,
            coding,
        },
        PhyFormat::Vht => PhyInfo::Vht {
            mcs,
            nss,
            bw,
            gi,
            coding,
        },
        PhyFormat::He => PhyInfo::He {
            mcs,
            nss,
            bw,
            gi,
            coding,
        },
        PhyFormat::Eht => PhyInfo::Eht {
            mcs,
            nss,
            bw,
            gi,
            coding,
        },
    }
}
