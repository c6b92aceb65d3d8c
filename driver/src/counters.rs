//! Named counters: every TX frame ends in one of them, every drop has a name. Per-link counters
//! ([`LinkCounters`]): what each radio sent on each (link) frequency.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;

use hwsim_radio::airtime::{ppdu_duration_ns_with, NominalPadding, PpduOptions};
use hwsim_radio::band::{band_of, Band};
use hwsim_radio::rates::TxVector;
use serde::Serialize;

use crate::medium::{Reception, TxStatus};

macro_rules! counters {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident,)* }) => {
        $(#[$meta])*
        #[derive(Default, Debug)]
        pub struct $name { $($(#[$fmeta])* pub $field: AtomicU64,)* }

        impl $name {
            /// (name, value) pairs in declaration order, for reports.
            pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($field), self.$field.load(Ordering::Relaxed)),)*]
            }
        }
    };
}

counters! {
    /// Counters of one VM connection.
    pub struct VmCounters {
        /// Descriptor chains taken from the TX queue.
        tx_buffers,
        /// TX chains that could not be read (bad address, write-only, too long, chain loop).
        tx_bad_descriptor,
        /// Messages that failed to parse (see `malformed_*`).
        tx_malformed,
        /// FRAME messages accepted.
        tx_frames,
        /// FRAME messages whose 802.11 header was unreadable (status sent, not routed).
        tx_bad_header,
        /// ADD_MAC_ADDR messages.
        add_mac_addr,
        /// DEL_MAC_ADDR messages.
        del_mac_addr,
        /// START_PMSR messages (no measurement support: counted, not answered).
        start_pmsr,
        /// ABORT_PMSR messages.
        abort_pmsr,
        /// Deliveries queued to receivers (any VM).
        deliveries_queued,
        /// Deliveries the medium decided were lost.
        deliveries_lost,
        /// Of the deliveries queued, those held back first for a link's added delay (control
        /// API); the delay line drops them if the receiver's inbox is full when they fall due.
        deliveries_delayed,
        /// Deliveries lost to a link impairment (down, or its loss probability); also counted
        /// in `deliveries_lost`.
        deliveries_impaired,
        /// Deliveries dropped: receiver's inbox full.
        dropped_inbox_full,
        /// Deliveries dropped: buffer pool exhausted.
        dropped_pool_empty,
        /// Unicast frames whose receiver address no radio has: flooded, never acknowledged.
        unicast_unknown_receiver,
        /// TX statuses queued for this VM's radios.
        tx_status_queued,
        /// TX statuses dropped because the status queue was full (guest posts no RX buffers).
        tx_status_dropped,
        /// Messages written into this VM's RX buffers (frames and statuses).
        rx_written,
        /// Messages for this VM (frames and TX statuses) still waiting for its RX buffers when
        /// it left, thrown away.
        rx_discarded_on_departure,
        /// RX chains unusable (read-only, bad address, chain too long): returned with len 0.
        rx_bad_descriptor,
        /// RX buffers smaller than the message: returned with len 0.
        rx_buffer_too_small,
        /// Airtime mode: frames handed to the medium clock.
        air_queued,
        /// Airtime mode: frames dropped (status: not acked) because the clock's queue, the
        /// radio's backlog or the timeline was full.
        air_dropped,
        /// Airtime mode: receptions spoilt by overlapping transmissions (SINR too low).
        air_collisions,
        /// Airtime mode: retries after the addressed receiver lost an attempt to a collision.
        air_retries,
        /// Airtime mode: receivers beyond the per-transmission limit, dropped.
        air_rx_overflow,
        /// Airtime mode: frames that rode in an A-MPDU behind another (not counting its head).
        air_ampdu_followers,
        /// Airtime mode: channel time this VM's transmissions occupied (PPDUs, SIFS, ACKs,
        /// retries), µs of simulated time; unlike wall-clock figures, independent of how
        /// promptly the host runs the clock thread.
        air_busy_us,
    }
}

/// Malformed-message counters by parse error name (`hwsim_frame::nl::Error::name`).
#[derive(Default, Debug)]
pub struct MalformedCounters {
    values: [AtomicU64; MALFORMED_NAMES.len()],
}

/// Parse error names we count separately; anything else lands in `other`.
pub const MALFORMED_NAMES: [&str; 9] = [
    "truncated",
    "bad_message_length",
    "bad_attribute",
    "missing_attribute",
    "frame_too_long",
    "frame_too_short",
    "unknown_command",
    "buffer_too_small",
    "other",
];

impl MalformedCounters {
    /// Counts one error named `name`.
    pub fn count(&self, name: &str) {
        let last = MALFORMED_NAMES.len() - 1;
        let i = MALFORMED_NAMES[..last]
            .iter()
            .position(|n| *n == name)
            .unwrap_or(last);
        self.values[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Non-zero (name, value) pairs.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        MALFORMED_NAMES
            .iter()
            .zip(&self.values)
            .map(|(n, v)| (*n, v.load(Ordering::Relaxed)))
            .filter(|(_, v)| *v > 0)
            .collect()
    }
}

/// Frequencies a radio's [`LinkCounters`] tell apart: more than the 20 MHz channels of all three
/// bands a scan visits (14 + 25 + 59). Further frequencies are counted together under 0.
pub const LINK_SLOTS: usize = 128;

/// FCS bytes the PSDU carries beyond the frame the guest gave us.
const FCS_LEN: u32 = 4;

/// What one radio sent on one frequency. Each lane of [`LinkCounters`] has one writer, read by
/// `stats`.
#[derive(Default, Debug)]
struct LinkSlot {
    /// The frequency (MHz) this slot counts; 0 while free.
    freq: AtomicU32,
    frames: AtomicU64,
    bytes: AtomicU64,
    airtime_ns: AtomicU64,
    retries: AtomicU64,
    acked: AtomicU64,
    lost: AtomicU64,
    dropped: AtomicU64,
}

/// Per-(radio, frequency) transmit counters: frames, bytes, airtime, retries, acknowledged,
/// lost and dropped. Fixed tables in the radio, found by a hash of the frequency with linear
/// probing, filled by compare-and-swap: no lock and no allocation on the data path.
///
/// Two lanes, each with one writer so that its adds need no read-modify-write: the radio's VM
/// thread counts the frames the medium judges at once ([`LinkCounters::record`]), the medium
/// clock those that went through the air in the airtime mode, with the attempts and the fate
/// they really had there ([`LinkCounters::record_aired`]). Reads add the lanes up.
///
/// The clock's lane is allocated the first time it counts (once per radio, in the airtime mode
/// only), so radios of an instant medium carry one table.
#[derive(Debug, Default)]
pub struct LinkCounters {
    judged: Lane,
    aired: OnceLock<Lane>,
}

#[derive(Debug)]
struct Lane {
    slots: Box<[LinkSlot]>,
    /// Frequencies beyond [`LINK_SLOTS`] (and frequency 0).
    other: LinkSlot,
}

impl Default for Lane {
    fn default() -> Self {
        Lane {
            slots: (0..LINK_SLOTS).map(|_| LinkSlot::default()).collect(),
            other: LinkSlot::default(),
        }
    }
}

/// One link's counters, as `stats` reports them.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkStats {
    /// Frequency, MHz (0: frequencies beyond what the table holds).
    pub freq: u32,
    /// Frames sent (each counted once, however many attempts it took).
    pub frames: u64,
    /// Their bytes (802.11 frame without FCS).
    pub bytes: u64,
    /// Time on the air of all attempts, µs.
    pub airtime_us: u64,
    /// Retransmissions (attempts after the first).
    pub retries: u64,
    /// Frames acknowledged (unicast) or sent (group).
    pub acked: u64,
    /// Unicast frames not acknowledged after the whole retry chain.
    pub lost: u64,
    /// Deliveries of these frames dropped for back-pressure: the shared buffer pool empty, a
    /// receiver's inbox full, or (airtime mode) the air's queues full. One per receiver.
    pub dropped: u64,
}

/// One transmission as the link counters count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkTx {
    /// Frequency, MHz.
    pub freq: u32,
    /// Frame length (no FCS).
    pub bytes: u32,
    /// Time on the air of all attempts, ns.
    pub airtime_ns: u64,
    /// Attempts after the first.
    pub retries: u32,
    /// Acknowledged (or a group frame, sent).
    pub acked: bool,
}

/// Attempts a reported retry chain made (at least 1): the counts of its entries up to the first
/// unused one.
pub fn attempts_in(chain: &[hwsim_frame::nl::TxRate]) -> u32 {
    chain
        .iter()
        .take_while(|r| r.idx >= 0)
        .map(|r| u32::from(r.count))
        .sum::<u32>()
        .max(1)
}

impl LinkTx {
    /// The transmission of a `len`-byte frame on `freq` as the medium judged it: its status
    /// (acknowledged, the retry chain as attempted) and the addressed receiver's reception, whose
    /// rate is the one the medium used (see [`tx_vector`]).
    pub fn judged(freq: u32, len: usize, heard: Option<&Reception>, status: &TxStatus) -> LinkTx {
        let attempts = attempts_in(&status.rates);
        let bytes = u32::try_from(len).unwrap_or(u32::MAX);
        let band = band_of(freq).unwrap_or(if freq < 4000 {
            Band::Band2G4
        } else {
            Band::Band5G
        });
        let opts = PpduOptions {
            nominal_padding: heard.map_or(NominalPadding::Us0, |r| r.padding),
            ..PpduOptions::default()
        };
        let per_attempt = ppdu_duration_ns_with(
            &tx_vector(band, heard),
            bytes.saturating_add(FCS_LEN),
            band,
            &opts,
        );
        LinkTx {
            freq,
            bytes,
            airtime_ns: per_attempt.saturating_mul(u64::from(attempts)),
            retries: attempts - 1,
            acked: status.acked,
        }
    }
}

/// The vector a frame went out with, as far as the medium tells: the legacy rate it reported to
/// the receiver (`rx_rate`, an index into the band's legacy table: 2.4 GHz 1, 2, 5.5, 11 Mb/s
/// DSSS then 6…54 Mb/s OFDM; 5 and 6 GHz 6…54 Mb/s); unheard frames (and group frames, which the
/// medium sends at the most robust rate) the band's lowest rate.
pub fn tx_vector(band: Band, heard: Option<&Reception>) -> TxVector {
    if let Some(v) = heard.and_then(|r| r.vector) {
        return v;
    }
    let idx = heard.map_or(0, |r| r.rx_rate.min(11) as u8);
    let v = match band {
        Band::Band2G4 if idx < 4 => TxVector::dsss(idx),
        Band::Band2G4 => TxVector::ofdm(idx - 4),
        _ => TxVector::ofdm(idx.min(7)),
    };
    v.unwrap_or_else(|_| unreachable!("DSSS 0-3 and OFDM 0-7 are valid vectors"))
}

impl LinkCounters {
    /// Counts one transmission the medium judged at once (on the radio's VM thread). Never
    /// blocks, never allocates.
    pub fn record(&self, tx: &LinkTx) {
        self.judged.record(tx);
    }

    /// Counts one transmission the medium clock put through the air (airtime mode; on the
    /// clock's thread).
    pub fn record_aired(&self, tx: &LinkTx) {
        self.aired.get_or_init(Lane::default).record(tx);
    }

    /// Counts `n` deliveries of a frame on `freq` dropped for back-pressure. Written by the
    /// radio's VM thread and by the medium clock, so an atomic add (drops are not the steady
    /// state).
    pub fn count_dropped(&self, freq: u32, n: u64) {
        if n > 0 {
            self.judged
                .slot_for(freq)
                .dropped
                .fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The counters of `freq`, if the radio sent anything there.
    pub fn get(&self, freq: u32) -> Option<LinkStats> {
        self.snapshot().into_iter().find(|l| l.freq == freq)
    }

    /// Every frequency the radio sent on, by frequency (0, the overflow, last if used).
    pub fn snapshot(&self) -> Vec<LinkStats> {
        let mut out = self.judged.snapshot();
        for a in self.aired.get().map(Lane::snapshot).unwrap_or_default() {
            match out.iter_mut().find(|l| l.freq == a.freq) {
                Some(l) => {
                    l.frames += a.frames;
                    l.bytes += a.bytes;
                    l.airtime_us += a.airtime_us;
                    l.retries += a.retries;
                    l.acked += a.acked;
                    l.lost += a.lost;
                    l.dropped += a.dropped;
                }
                None => out.push(a),
            }
        }
        out.retain(|l| l.frames > 0);
        out.sort_by_key(|l| (l.freq == 0, l.freq));
        out
    }
}

impl Lane {
    fn record(&self, tx: &LinkTx) {
        let slot = self.slot_for(tx.freq);
        // One writer per lane: plain adds, no read-modify-write.
        let add = |a: &AtomicU64, v: u64| a.store(a.load(Ordering::Relaxed) + v, Ordering::Relaxed);
        add(&slot.frames, 1);
        add(&slot.bytes, u64::from(tx.bytes));
        add(&slot.airtime_ns, tx.airtime_ns);
        add(&slot.retries, u64::from(tx.retries));
        if tx.acked {
            add(&slot.acked, 1);
        } else {
            add(&slot.lost, 1);
        }
    }

    /// The slot counting `freq`, claiming a free one on first use.
    fn slot_for(&self, freq: u32) -> &LinkSlot {
        if freq == 0 {
            return &self.other;
        }
        // Channels are 5 MHz apart; spread them over the table.
        let start = (freq / 5).wrapping_mul(0x9E37_79B1) as usize % LINK_SLOTS;
        for i in 0..LINK_SLOTS {
            let slot = &self.slots[(start + i) % LINK_SLOTS];
            match slot.freq.load(Ordering::Acquire) {
                f if f == freq => return slot,
                0 => match slot
                    .freq
                    .compare_exchange(0, freq, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => return slot,
                    Err(f) if f == freq => return slot,
                    Err(_) => continue,
                },
                _ => continue,
            }
        }
        &self.other
    }

    /// Every frequency with a slot (the overflow as 0, if used).
    fn snapshot(&self) -> Vec<LinkStats> {
        let read = |s: &LinkSlot, freq: u32| LinkStats {
            freq,
            frames: s.frames.load(Ordering::Relaxed),
            bytes: s.bytes.load(Ordering::Relaxed),
            airtime_us: s.airtime_ns.load(Ordering::Relaxed) / 1000,
            retries: s.retries.load(Ordering::Relaxed),
            acked: s.acked.load(Ordering::Relaxed),
            lost: s.lost.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
        };
        let mut out: Vec<LinkStats> = self
            .slots
            .iter()
            .filter_map(|s| {
                let f = s.freq.load(Ordering::Acquire);
                (f != 0).then(|| read(s, f))
            })
            .collect();
        let other = read(&self.other, 0);
        if other.frames > 0 || other.dropped > 0 {
            out.push(other);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hwsim_frame::nl::TxRate;

    fn status(acked: bool, counts: &[u8]) -> TxStatus {
        let mut rates = [TxRate { idx: -1, count: 0 }; 4];
        for (r, c) in rates.iter_mut().zip(counts) {
            *r = TxRate { idx: 0, count: *c };
        }
        TxStatus {
            acked,
            rates,
            signal_dbm: -50,
        }
    }

    #[test]
    fn link_counters_count_per_frequency() {
        let c = LinkCounters::default();
        c.record(&LinkTx {
            freq: 5180,
            bytes: 100,
            airtime_ns: 50_000,
            retries: 2,
            acked: true,
        });
        c.record(&LinkTx {
            freq: 5180,
            bytes: 50,
            airtime_ns: 1_500,
            retries: 0,
            acked: false,
        });
        c.record(&LinkTx {
            freq: 2412,
            bytes: 10,
            airtime_ns: 999,
            retries: 0,
            acked: true,
        });
        c.count_dropped(5180, 2);
        c.count_dropped(5180, 1);
        c.count_dropped(2412, 0);
        let s = c.snapshot();
        assert_eq!(
            s,
            vec![
                LinkStats {
                    freq: 2412,
                    frames: 1,
                    bytes: 10,
                    airtime_us: 0,
                    retries: 0,
                    acked: 1,
                    lost: 0,
                    dropped: 0
                },
                LinkStats {
                    freq: 5180,
                    frames: 2,
                    bytes: 150,
                    airtime_us: 51,
                    retries: 2,
                    acked: 1,
                    lost: 1,
                    dropped: 3
                },
            ]
        );
        assert_eq!(c.get(5180).unwrap().frames, 2);
        assert_eq!(c.get(5955), None);
    }

    #[test]
    fn more_frequencies_than_slots_go_to_other() {
        let c = LinkCounters::default();
        for i in 0..LINK_SLOTS as u32 + 10 {
            c.record(&LinkTx {
                freq: 2000 + 5 * i,
                bytes: 1,
                airtime_ns: 0,
                retries: 0,
                acked: true,
            });
        }
        let s = c.snapshot();
        assert_eq!(s.len(), LINK_SLOTS + 1);
        assert_eq!(s.last().unwrap().freq, 0);
        assert_eq!(s.last().unwrap().frames, 10);
        assert_eq!(
            s.iter().map(|l| l.frames).sum::<u64>(),
            LINK_SLOTS as u64 + 10
        );
    }

    /// Airtime follows the rate the medium reported and multiplies by the attempts.
    #[test]
    fn judged_airtime_uses_the_reported_rate_and_attempts() {
        let heard = |rx_rate| Reception {
            signal_dbm: -50,
            rx_rate,
            attempt: 1,
            vector: None,
            noise_dbm: None,
            padding: hwsim_radio::airtime::NominalPadding::Us0,
        };
        // 5 GHz, 54 Mb/s (index 7), 96 + 4 bytes, one attempt: 20 µs preamble + ceil((16 + 800
        // + 6) / 216) = 4 symbols of 4 µs = 36 µs.
        let t = LinkTx::judged(5180, 96, Some(&heard(7)), &status(true, &[1]));
        assert_eq!((t.airtime_ns, t.retries, t.acked), (36_000, 0, true));
        // Lost after 2 + 3 attempts at the lowest rate (6 Mb/s): 5 × (20 µs + ceil(822 / 24) =
        // 35 symbols of 4 µs).
        let t = LinkTx::judged(5180, 96, None, &status(false, &[2, 3]));
        assert_eq!(t.retries, 4);
        assert!(!t.acked);
        assert_eq!(t.airtime_ns, 5 * (20_000 + 35 * 4_000));
        // 2.4 GHz index 0 is 1 Mb/s DSSS: 192 µs long preamble + 800 µs.
        let t = LinkTx::judged(2412, 96, Some(&heard(0)), &status(true, &[1]));
        assert_eq!(t.airtime_ns, 992_000);
    }

    #[test]
    fn malformed_names_are_counted_and_unknown_go_to_other() {
        let m = MalformedCounters::default();
        m.count("frame_too_long");
        m.count("frame_too_long");
        m.count("something_new");
        assert_eq!(m.snapshot(), vec![("frame_too_long", 2), ("other", 1)]);
    }

    #[test]
    fn vm_counter_snapshot_lists_every_field() {
        let c = VmCounters::default();
        c.tx_frames.fetch_add(3, Ordering::Relaxed);
        let s = c.snapshot();
        assert!(s.contains(&("tx_frames", 3)));
        assert!(s.iter().any(|(n, _)| *n == "rx_buffer_too_small"));
    }
}
