//! pcapng capture of everything the medium carries, written off the data path.
//!
//! The data path holds a [`CaptureTap`] and calls [`CaptureTap::record`] once per frame it wants
//! captured. That call never blocks and never allocates once warmed up: it takes a fixed-size
//! slot from a bounded free list (allocated lazily up to `queue_len`, then recycled), copies the
//! frame (≤ 2304 bytes) and the [`FrameMeta`] into it, and pushes it onto a bounded queue. If no
//! slot is free the frame is dropped and counted ([`CaptureStats::dropped`]). A writer thread
//! drains the queue, builds the radiotap header for each record ([`hwsim_frame::radiotap`]) and
//! writes pcapng ([`pcapng`]).
//!
//! # Interfaces
//! One pcapng interface per (radio, frequency), link type 127 (802.11 + radiotap), `if_tsresol`
//! 9 (ns timestamps), created in a file on first use: `if_name` `vm1-42:00:00:00:00:00/5180`,
//! `if_description` `5 GHz channel 36 (5180 MHz)`.
//!
//! An interface block cannot be changed once written, so [`CaptureTap::name_interface`] (e.g.
//! `ap1/link2` once the MLD tracker knows the link) takes effect on the *next* frame of that
//! (radio, frequency): the writer then opens a new interface with the new name and description
//! and uses it from there on; earlier frames stay on the interface that had the old name. After a
//! rotation every interface is re-declared with its current name.
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
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{JoinHandle, Thread};

use crossbeam_queue::ArrayQueue;
use hwsim_frame::nl::MAX_FRAME_LEN;
use hwsim_frame::radiotap::{Bandwidth, Coding, GuardInterval, PhyInfo};
use hwsim_radio::band::Width;
use hwsim_radio::rates::{self, PhyFormat, TxVector};

use crate::switch::routing::RadioKey;

/// Default number of records that may wait for the writer.
pub const DEFAULT_QUEUE_LEN: usize = 4096;

/// What a capture writes and how much it may buffer.
#[derive(Clone, Debug)]
pub struct CaptureConfig {
    /// The (first) output file.
    pub path: PathBuf,
    /// Rotate to a new file before one would grow past this many bytes (`--capture-max-bytes`).
    pub max_file_bytes: Option<u64>,
    /// Records that may wait for the writer; more are dropped and counted.
    pub queue_len: usize,
}

impl CaptureConfig {
    /// A capture to `path`, no rotation, [`DEFAULT_QUEUE_LEN`].
    pub fn new(path: impl Into<PathBuf>) -> CaptureConfig {
        CaptureConfig {
            path: path.into(),
            max_file_bytes: None,
            queue_len: DEFAULT_QUEUE_LEN,
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
}

#[derive(Default)]
struct Counters {
    queued: AtomicU64,
    dropped: AtomicU64,
    truncated: AtomicU64,
    written: AtomicU64,
    write_errors: AtomicU64,
    files: AtomicU64,
    bytes: AtomicU64,
}

/// One queued frame: fixed size, recycled.
struct Slot {
    meta: FrameMeta,
    original_len: usize,
    len: usize,
    data: [u8; MAX_FRAME_LEN],
}

/// A request to rename an interface.
struct Rename {
    radio: RadioKey,
    freq_mhz: u32,
    name: String,
    description: Option<String>,
}

struct Shared {
    free: ArrayQueue<Box<Slot>>,
    full: ArrayQueue<Box<Slot>>,
    allocated: AtomicUsize,
    capacity: usize,
    closed: AtomicBool,
    renames: Mutex<Vec<Rename>>,
    renames_pending: AtomicBool,
    writer: OnceLock<Thread>,
    counters: Counters,
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
            s.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let Some(mut slot) = s.free.pop().or_else(|| self.allocate()) else {
            s.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        let len = frame.len().min(MAX_FRAME_LEN);
        if len < frame.len() {
            s.counters.truncated.fetch_add(1, Ordering::Relaxed);
        }
        slot.meta = *meta;
        slot.original_len = frame.len();
        slot.len = len;
        slot.data[..len].copy_from_slice(&frame[..len]);
        // There are never more slots than the queue holds, so this cannot fail; if it did,
        // the slot is simply freed.
        if s.full.push(slot).is_err() {
            s.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        s.counters.queued.fetch_add(1, Ordering::Relaxed);
        // Wake the writer early when the queue fills up; otherwise it polls. `unpark` is an
        // atomic swap unless the writer is actually parked.
        if s.full.len() * 2 >= s.capacity {
            if let Some(t) = s.writer.get() {
                t.unpark();
            }
        }
        true
    }

    fn allocate(&self) -> Option<Box<Slot>> {
        let s = &*self.shared;
        let mut n = s.allocated.load(Ordering::Relaxed);
        loop {
            if n >= s.capacity {
                return None;
            }
            match s
                .allocated
                .compare_exchange_weak(n, n + 1, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => n = now,
            }
        }
        Some(Box::new(Slot {
            meta: FrameMeta {
                timestamp_ns: 0,
                radio: RadioKey {
                    vm: 0,
                    wire: hwsim_frame::MacAddr::default(),
                },
                freq_mhz: 0,
                signal_dbm: None,
                noise_dbm: None,
                phy: PhyInfo::Legacy { rate_500kbps: 2 },
                tx: None,
            },
            original_len: 0,
            len: 0,
            data: [0; MAX_FRAME_LEN],
        }))
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
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CaptureStats {
            queued: get(&c.queued),
            dropped: get(&c.dropped),
            truncated: get(&c.truncated),
            written: get(&c.written),
            write_errors: get(&c.write_errors),
            files: get(&c.files),
            bytes: get(&c.bytes),
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
    /// Creates the first file (so a bad path fails here) and starts the writer thread.
    pub fn start(config: CaptureConfig) -> Result<Capture, CaptureError> {
        let capacity = config.queue_len.max(1);
        let shared = Arc::new(Shared {
            free: ArrayQueue::new(capacity),
            full: ArrayQueue::new(capacity),
            allocated: AtomicUsize::new(0),
            capacity,
            closed: AtomicBool::new(false),
            renames: Mutex::new(Vec::new()),
            renames_pending: AtomicBool::new(false),
            writer: OnceLock::new(),
            counters: Counters::default(),
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
