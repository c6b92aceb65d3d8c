//! The `airtime` time mode: every channel is a shared medium with a clock.
//!
//! VM threads judge a frame as in `instant` mode (who hears it against noise, at which attempt
//! of the retry chain) and then, instead of delivering, hand the whole transmission — its
//! pre-built deliveries, its TX status and an [`AirPlan`] — to the medium clock
//! ([`clock::AirClock`]) through a bounded lock-free queue. The clock thread owns the
//! [`timeline::Timeline`]: it decides when each transmission gets the air (deferral while the
//! channel is busy as the transmitter senses it, AIFS and backoff per access category), when it
//! ends (PPDU + SIFS + ACK, or ACK timeout, per attempt), whether overlapping transmissions of
//! hidden nodes spoil a reception (PER at the SINR), and at the end pushes the frames into the
//! receivers' inboxes and the status into the sender's.
//!
//! Decisions (backoff counts, collision draws, retries) come from the counter-based generator
//! keyed by (seed, transmitter, frame counter); which transmissions overlap depends on when the
//! guests send, i.e. on the monotonic clock.

pub mod clock;
pub mod timeline;

use hwsim_frame::MacAddr;
use hwsim_radio::airtime::{
    ack_duration_ns, aifs_us, block_ack_duration_ns, ppdu_duration_ns_with, sifs_us, slot_us,
    AccessCategory, Edca, NominalPadding, PpduOptions,
};
use hwsim_radio::band::{overlaps, Band, Width};
use hwsim_radio::noise::{dbm_to_mw, mw_to_dbm, snr_at_width};
use hwsim_radio::per::per;
use hwsim_radio::rates::{PhyFormat, TxVector};
use hwsim_radio::rng::{purpose, RngKey};

use super::impair::Endpoint;

use super::Transmission;

/// Nanoseconds on the medium clock.
pub type Nanos = u64;

const US: Nanos = 1000;

/// CCA threshold (dBm): a node defers for a transmission it receives at or above this power.
/// The start of a valid 20 MHz OFDM PPDU at −82 dBm must be detected (IEEE 802.11-2020
/// 17.3.10.6 "CCA requirements"); the later PHYs keep −82 dBm on the primary 20 MHz (VHT
/// 21.3.18.5 as INET cites it for 802.11-2024; HE 802.11ax-2021 27.3.20.6 "CCA sensitivity",
/// whose .2 is CCA-ED; EHT 36.3.21.6 as ns-3 cites it for 802.11be D7.0; the HT subclause was
/// not checked). Weaker transmissions are not sensed: their senders are hidden.
pub const CCA_THRESHOLD_DBM: f64 = -82.0;

/// aRxPHYStartDelay (µs) of the PPDU the transmitter waits for — the ACK or Block Ack, which
/// goes out as a non-HT PPDU: 20 µs for OFDM (802.11-2020 Table 17-21; ERP-OFDM Table 18-5, as
/// ns-3 cites them), 192 µs for DSSS with the long preamble (Table 18-5). Part of the ACK
/// timeout.
const RX_PHY_START_DELAY_US: (u64, u64) = (20, 192);

/// What the medium clock needs from the radio model.
pub trait AirModel: Send + Sync {
    /// Seed of every draw.
    fn seed(&self) -> u64;
    /// The node a radio is (by 802.11 address, else wire address).
    fn node_of(&self, addr: Option<MacAddr>, wire: MacAddr) -> usize;
    /// How `tx`, sent by node `node`, uses the air.
    fn plan(&self, tx: &Transmission<'_>, node: usize) -> AirPlan;
    /// Median power (dBm) node `from` produces at node `to` on `freq`, without fading.
    fn rx_power_dbm(&self, from: usize, to: usize, freq: u32) -> f64;
    /// Noise floor (dBm over 20 MHz) of node `node` in the band of `freq`.
    fn noise_dbm(&self, node: usize, freq: u32) -> f64;
}

/// One entry of the retry chain as the air sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChainEntry {
    /// The PHY vector of this entry's attempts.
    pub vector: TxVector,
    /// Attempts at it (0: the entry is unused).
    pub tries: u8,
}

/// How one transmission uses the air: everything the clock needs to time its attempts.
#[derive(Clone, Copy, Debug)]
pub struct AirPlan {
    /// Transmitting node (the model's index).
    pub node: usize,
    /// Transmitting radio's id in the draws.
    pub radio: u64,
    /// The transmitting radio and address, as run-time impairments match them.
    pub who: Endpoint,
    /// The radio's frame counter.
    pub seq: u64,
    /// Band of the transmission.
    pub band: Band,
    /// Primary 20 MHz centre frequency, MHz.
    pub freq: u32,
    /// PSDU length (frame + FCS), bytes.
    pub psdu_len: u32,
    /// The retry chain with the vectors the model synthesised.
    pub entries: [ChainEntry; 4],
    /// An ACK is expected (unicast without NO_ACK).
    pub ack: bool,
    /// Access category.
    pub ac: AccessCategory,
    /// A QoS data frame that may travel in an A-MPDU (unicast, acknowledged, HT or later).
    pub aggregatable: bool,
    /// The HE/EHT nominal packet padding the receiver advertised (the packet extension).
    pub padding: NominalPadding,
}

impl AirPlan {
    /// The PPDU duration of `psdu_len` bytes at `v`, with the receiver's packet padding.
    pub fn ppdu_ns(&self, v: &TxVector, psdu_len: u32) -> Nanos {
        let opts = PpduOptions {
            nominal_padding: self.padding,
            ..PpduOptions::default()
        };
        ppdu_duration_ns_with(v, psdu_len, self.band, &opts)
    }

    /// Attempts the chain allows in all (at least 1, at most 255).
    pub fn max_attempts(&self) -> u32 {
        let n: u32 = self.entries.iter().map(|e| u32::from(e.tries)).sum();
        n.clamp(1, u32::from(u8::MAX))
    }

    /// The vector of 1-based `attempt`.
    pub fn vector(&self, attempt: u32) -> TxVector {
        let mut before = 0u32;
        let mut last = self.entries[0].vector;
        for e in self.entries.iter().filter(|e| e.tries > 0) {
            before += u32::from(e.tries);
            last = e.vector;
            if attempt <= before {
                break;
            }
        }
        last
    }

    fn dsss(&self) -> bool {
        self.entries[0].vector.format() == PhyFormat::Dsss
    }

    /// EDCA parameters of the access category (802.11-2020 Table 9-155 defaults, as ns-3 cites
    /// them).
    pub fn edca(&self) -> Edca {
        hwsim_radio::airtime::default_edca(self.ac, self.dsss())
    }

    /// Slot time: 9 µs, 20 µs for DSSS in 2.4 GHz (long slot).
    pub fn slot_ns(&self) -> Nanos {
        slot_us(self.band, !self.dsss()) * US
    }

    /// SIFS: 16 µs in 5/6 GHz, 10 µs in 2.4 GHz.
    pub fn sifs_ns(&self) -> Nanos {
        sifs_us(self.band) * US
    }

    /// AIFS[AC] = SIFS + AIFSN·slot.
    pub fn aifs_ns(&self) -> Nanos {
        aifs_us(self.band, !self.dsss(), self.edca().aifsn) * US
    }

    /// ACK timeout = aSIFSTime + aSlotTime + aRxPHYStartDelay ("Acknowledgment procedure":
    /// 10.3.2.9 in 802.11-2016 per ns-3, 10.3.2.11 in 802.11-2024 per a project that read it).
    pub fn ack_timeout_ns(&self) -> Nanos {
        let delay = if self.dsss() {
            RX_PHY_START_DELAY_US.1
        } else {
            RX_PHY_START_DELAY_US.0
        };
        self.sifs_ns() + self.slot_ns() + delay * US
    }

    /// Backoff slots drawn before 1-based `attempt`: uniform in [0, CW], CW doubling from CWmin
    /// per retry up to CWmax (802.11-2020 10.23.2.2, as ns-3 cites it), keyed by (seed,
    /// transmitter, frame counter, attempt).
    pub fn backoff_slots(&self, seed: u64, attempt: u32) -> u32 {
        let edca = self.edca();
        let retries = attempt.saturating_sub(1).min(10);
        let cw = ((u32::from(edca.cw_min) + 1) << retries)
            .saturating_sub(1)
            .min(u32::from(edca.cw_max));
        RngKey::new(seed, self.radio, self.seq, purpose::BACKOFF)
            .below(u64::from(attempt), u64::from(cw) + 1) as u32
    }

    /// The shape of a burst of attempts `first..=last` of this frame alone.
    pub fn burst(&self, seed: u64, first: u32, last: u32, acked: bool) -> BurstShape {
        self.burst_of(seed, first, last, acked, Psdu::single(self.psdu_len))
    }

    /// The shape of a burst of attempts `first..=last` that starts when `first` gets the air,
    /// carrying `psdu` (this frame, or an A-MPDU led by it): each attempt is its PPDU then
    /// SIFS + ACK (Block Ack for an A-MPDU) if `acked` and it is the last, or the ACK timeout;
    /// later attempts wait AIFS + their backoff first. Frames without an ACK are their PPDU.
    /// Returns the burst's length and the window of the last attempt's PPDU, both relative to
    /// the burst's start.
    pub fn burst_of(
        &self,
        seed: u64,
        first: u32,
        last: u32,
        acked: bool,
        psdu: Psdu,
    ) -> BurstShape {
        let mut t: Nanos = 0;
        let mut ppdu = (0, 0);
        for attempt in first..=last.max(first) {
            if attempt > first {
                t += self.aifs_ns()
                    + Nanos::from(self.backoff_slots(seed, attempt)) * self.slot_ns();
            }
            let v = self.vector(attempt);
            let start = t;
            t += self.ppdu_ns(&v, psdu.len);
            ppdu = (start, t);
            if self.ack {
                t += if acked && attempt == last {
                    let response = if psdu.mpdus > 1 {
                        block_ack_duration_ns(&v, block_ack_bitmap(&v), self.band)
                    } else {
                        ack_duration_ns(&v, self.band)
                    };
                    self.sifs_ns() + response
                } else {
                    self.ack_timeout_ns()
                };
            }
        }
        BurstShape { duration: t, ppdu }
    }

    /// Whether 1-based `attempt` gets through noise alone at `snr20_db` (20 MHz reference):
    /// the same draw the radio model makes in `instant` mode, so a retry after a collision meets
    /// the fate the model would have given it.
    pub fn survives_noise(&self, seed: u64, rx_radio: u64, attempt: u32, snr20_db: f64) -> bool {
        let v = self.vector(attempt);
        let p = per(snr_at_width(snr20_db, v.width()), &v, self.psdu_len);
        let draw = RngKey::new(
            seed,
            self.radio,
            self.seq,
            purpose::DELIVERY | (attempt << 8),
        )
        .uniform(rx_radio);
        draw >= p
    }

    /// Whether a reception at `signal_dbm` over `noise_dbm` (20 MHz) survives `interference_mw`
    /// from overlapping transmissions during `attempt`: a draw against the PER at the SINR.
    pub fn survives_interference(
        &self,
        seed: u64,
        rx_radio: u64,
        attempt: u32,
        signal_dbm: f64,
        noise_dbm: f64,
        interference_mw: f64,
    ) -> bool {
        if interference_mw <= 0.0 {
            return true;
        }
        let v = self.vector(attempt);
        let sinr = signal_dbm - mw_to_dbm(dbm_to_mw(noise_dbm) + interference_mw);
        let p = per(snr_at_width(sinr, v.width()), &v, self.psdu_len);
        let draw = RngKey::new(
            seed,
            self.radio,
            self.seq,
            purpose::COLLISION | (attempt << 8),
        )
        .uniform(rx_radio);
        draw >= p
    }
}

/// What one PPDU carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Psdu {
    /// PSDU length, bytes (an A-MPDU's subframes with their delimiters and padding).
    pub len: u32,
    /// MPDUs in it (1: a single MPDU, acknowledged by an ACK; more: an A-MPDU, by a Block Ack).
    pub mpdus: u32,
}

impl Psdu {
    /// One MPDU of `len` bytes.
    pub const fn single(len: u32) -> Psdu {
        Psdu { len, mpdus: 1 }
    }

    /// A-MPDU subframe of an MPDU: 4-byte delimiter, the MPDU, padding to 4 bytes
    /// (802.11-2020 9.7.1).
    pub const fn subframe_len(mpdu_len: u32) -> u32 {
        (4 + mpdu_len + 3) & !3
    }
}

/// The longest PPDU an A-MPDU may fill: aPPDUMaxTime, 5.484 ms for VHT, HE and EHT (and the
/// longest an HT-mixed PPDU's L-SIG can announce).
pub const PPDU_MAX_NS: Nanos = 5_484_000;

/// Block Ack bitmap (MPDUs per A-MPDU) by format: 64 for HT/VHT, 256 for HE, 1024 for EHT
/// (802.11-2020 9.3.1.8; 802.11ax-2021 and 802.11be-2024 extended compressed bitmaps).
/// 0 for formats without aggregation.
pub fn block_ack_bitmap(v: &TxVector) -> u32 {
    match v.format() {
        PhyFormat::Dsss | PhyFormat::Ofdm => 0,
        PhyFormat::Ht | PhyFormat::Vht => 64,
        PhyFormat::He => 256,
        PhyFormat::Eht => 1024,
    }
}

/// A burst's length and the window of its last PPDU (relative to its start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BurstShape {
    /// From the first attempt's start to the end of the last ACK or ACK timeout.
    pub duration: Nanos,
    /// The last attempt's PPDU, the one receivers judge.
    pub ppdu: (Nanos, Nanos),
}

/// Whether transmissions on primary channels `a` and `b` (MHz) contend: their primary 20 MHz
/// channels share spectrum. Guests report only the primary channel, so a wide PPDU is taken to
/// occupy its primary 20 MHz for contention and interference.
pub fn same_medium(a: u32, b: u32) -> bool {
    overlaps((a, Width::W20), (b, Width::W20))
}

/// The access category of an 802.11 frame: QoS data by its TID, other data best effort,
/// management and control frames voice (mac80211 queues them on AC_VO).
pub fn access_category(frame: &[u8]) -> AccessCategory {
    match hwsim_frame::mac::Frame::new_checked(frame) {
        Ok(f) => match f.qos_tid() {
            Some(tid) => AccessCategory::from_priority(tid),
            None if f.frame_control().frame_type() == hwsim_frame::mac::FrameType::Data => {
                AccessCategory::BestEffort
            }
            None => AccessCategory::Voice,
        },
        Err(_) => AccessCategory::BestEffort,
    }
}

#[cfg(test)]
mod tests;
