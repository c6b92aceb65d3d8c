//! The capture writer thread: drains the queue, keeps the interface table, writes and rotates
//! files.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hwsim_frame::radiotap::{self, ChannelRepr, RadiotapRepr};

use super::pcapng::{self, LINKTYPE_RADIOTAP};
use super::{CaptureConfig, CaptureError, Shared, Slot};
use crate::switch::routing::RadioKey;

/// How long the writer sleeps when the queue is empty (the tap wakes it when half full).
const IDLE_POLL: Duration = Duration::from_millis(5);
/// Snap length declared in interface blocks.
const SNAPLEN: u32 = 65535;

struct Interface {
    name: String,
    description: String,
    /// Interface ID in the current file, once declared there.
    id: Option<u32>,
}

pub(super) struct Writer {
    config: CaptureConfig,
    shared: Arc<Shared>,
    file: Option<BufWriter<File>>,
    /// Files started so far (the current one is number `files - 1`).
    files: u64,
    file_bytes: u64,
    file_packets: u64,
    next_id: u32,
    interfaces: HashMap<(RadioKey, u32), Interface>,
    /// Blocks being assembled (reused; grows to the largest block once).
    block: Vec<u8>,
    /// An interface block to write before the packet in `block`.
    idb: Vec<u8>,
    comment: String,
    dirty: bool,
}

impl Writer {
    pub(super) fn create(
        config: CaptureConfig,
        shared: Arc<Shared>,
    ) -> Result<Writer, CaptureError> {
        let mut w = Writer {
            config,
            shared,
            file: None,
            files: 0,
            file_bytes: 0,
            file_packets: 0,
            next_id: 0,
            interfaces: HashMap::new(),
            block: Vec::with_capacity(4096),
            idb: Vec::with_capacity(256),
            comment: String::with_capacity(32),
            dirty: false,
        };
        w.open_next().map_err(|source| CaptureError::Create {
            path: w.config.path.clone(),
            source,
        })?;
        Ok(w)
    }

    pub(super) fn run(mut self) {
        loop {
            if self.shared.renames_pending.swap(false, Ordering::Acquire) {
                self.apply_renames();
            }
            let mut did = 0usize;
            while let Some(slot) = self.shared.full.pop() {
                self.write_record(&slot);
                // The free list has room for every slot ever allocated.
                let _ = self.shared.free.push(slot);
                did += 1;
            }
            if did == 0 {
                if self.shared.closed.load(Ordering::Acquire) && self.shared.full.is_empty() {
                    break;
                }
                // Idle: make what was written readable, then poll again.
                self.flush();
                std::thread::park_timeout(IDLE_POLL);
            }
        }
        self.flush();
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
                .or_insert_with(|| Interface {
                    name: String::new(),
                    description: default_description(r.freq_mhz),
                    id: None,
                });
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

    fn write_record(&mut self, slot: &Slot) {
        if self.file.is_none() {
            self.shared
                .counters
                .write_errors
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        let m = &slot.meta;
        let key = (m.radio, m.freq_mhz);
        self.interfaces.entry(key).or_insert_with(|| Interface {
            name: default_name(m.radio, m.freq_mhz),
            description: default_description(m.freq_mhz),
            id: None,
        });

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
        let mut rt_buf = [0u8; radiotap::MAX_LEN];
        let rt_len = match rt.emit(&mut rt_buf) {
            Ok(n) => n,
            // An impossible PHY description: keep the frame, drop the rate field.
            Err(_) => RadiotapRepr { phy: None, ..rt }
                .emit(&mut rt_buf)
                .unwrap_or(0),
        };
        let rt_hdr = &rt_buf[..rt_len];

        let mut comment = std::mem::take(&mut self.comment);
        comment.clear();
        if let Some(tx) = m.tx {
            use std::fmt::Write as _;
            let acked = if tx.acked { "acked" } else { "not acked" };
            let _ = write!(comment, "{acked} retries={}", tx.retries);
        }
        let frame = &slot.data[..slot.len];
        let original = (rt_len + slot.original_len) as u32;
        let c = (!comment.is_empty()).then_some(comment.as_str());
        self.write_packet(key, m.timestamp_ns, &[rt_hdr, frame], original, c);
        self.comment = comment;
    }

    /// Writes one packet (and, first, its interface block if this file has none yet).
    fn write_packet(
        &mut self,
        key: (RadioKey, u32),
        timestamp_ns: u64,
        parts: &[&[u8]],
        original: u32,
        comment: Option<&str>,
    ) {
        // Assemble with the interface ID it will have in this file; if the block does not fit,
        // rotate and assemble again (IDs restart in the new file).
        for attempt in 0..2 {
            let Some(iface) = self.interfaces.get_mut(&key) else {
                break;
            };
            let (id, new_iface) = match iface.id {
                Some(id) => (id, false),
                None => (self.next_id, true),
            };
            self.idb.clear();
            if new_iface {
                pcapng::interface_description(
                    &mut self.idb,
                    LINKTYPE_RADIOTAP,
                    SNAPLEN,
                    &iface.name,
                    &iface.description,
                );
            }
            self.block.clear();
            pcapng::enhanced_packet(&mut self.block, id, timestamp_ns, parts, original, comment);
            let needed = (self.idb.len() + self.block.len()) as u64;
            let over = self
                .config
                .max_file_bytes
                .is_some_and(|max| self.file_bytes + needed > max);
            if attempt == 0 && over && self.file_packets > 0 {
                if self.open_next().is_err() {
                    break;
                }
                continue;
            }
            if new_iface {
                iface.id = Some(id);
                self.next_id += 1;
            }
            let (idb, block) = (
                std::mem::take(&mut self.idb),
                std::mem::take(&mut self.block),
            );
            let ok = self.write_bytes(&idb) && self.write_bytes(&block);
            (self.idb, self.block) = (idb, block);
            if ok {
                self.file_packets += 1;
                self.shared.counters.written.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
        self.shared
            .counters
            .write_errors
            .fetch_add(1, Ordering::Relaxed);
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> bool {
        if bytes.is_empty() {
            return true;
        }
        let Some(f) = self.file.as_mut() else {
            return false;
        };
        match f.write_all(bytes) {
            Ok(()) => {
                self.file_bytes += bytes.len() as u64;
                self.shared
                    .counters
                    .bytes
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                self.dirty = true;
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "capture write failed; capture stopped");
                self.shared
                    .counters
                    .write_errors
                    .fetch_add(1, Ordering::Relaxed);
                self.file = None;
                false
            }
        }
    }

    fn flush(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        if let Some(f) = self.file.as_mut() {
            if let Err(e) = f.flush() {
                tracing::error!(error = %e, "capture flush failed; capture stopped");
                self.shared
                    .counters
                    .write_errors
                    .fetch_add(1, Ordering::Relaxed);
                self.file = None;
            }
        }
    }

    /// Closes the current file (if any) and starts the next one with a section header.
    fn open_next(&mut self) -> std::io::Result<()> {
        self.flush();
        self.file = None;
        let path = file_path(&self.config.path, self.files);
        let file = File::create(&path)?;
        self.file = Some(BufWriter::with_capacity(1 << 16, file));
        self.files += 1;
        self.shared.counters.files.fetch_add(1, Ordering::Relaxed);
        self.file_bytes = 0;
        self.file_packets = 0;
        self.next_id = 0;
        for iface in self.interfaces.values_mut() {
            iface.id = None;
        }
        let mut shb = Vec::with_capacity(64);
        pcapng::section_header(&mut shb, concat!("vhost-hwsim ", env!("CARGO_PKG_VERSION")));
        if !self.write_bytes(&shb) {
            return Err(std::io::Error::other("cannot write section header"));
        }
        Ok(())
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
