//! hwsim-radio: a deterministic Wi-Fi (802.11 legacy … EHT) radio model.
//!
//! Pure functions only: no I/O, no threads, no clocks, no global state. Every
//! random quantity is drawn from the counter-based generator in [`rng`], keyed
//! by (seed, transmitter, frame counter, purpose), so a frame's fate does not
//! depend on thread timing.
//!
//! Modules, in the order a medium uses them per frame:
//!
//! | module | what |
//! |---|---|
//! | [`band`] | bands, channel numbers ↔ centre frequency, widths, primary-20, overlap |
//! | [`pathloss`] | free space, log-distance, TGax residential/enterprise, ITU-R P.1238 |
//! | [`noise`] | thermal noise floor, SNR, SINR |
//! | [`rates`] | PHY formats, MCS table, data rates computed from subcarriers |
//! | [`per`] | AWGN error model: BER per modulation, BCC/LDPC coded BER, PER |
//! | [`airtime`] | PPDU durations, SIFS/slot/AIFS, ACK/Block-Ack durations |
//! | [`adapt`] | rate synthesis: best (MCS, NSS, width) at the current SNR |
//! | [`rng`] | counter-based random draws, fading and shadowing |
//!
//! The hot per-frame functions ([`per::per`], [`airtime::ppdu_duration_ns`],
//! [`adapt::select_rate`], [`pathloss::PathLossModel::loss_db`],
//! [`noise::sinr_db`], the [`rng::RngKey`] draws) never allocate.
//!
//! ```
//! use hwsim_radio::{adapt, airtime, band, noise, pathloss, per, rng};
//!
//! // Link geometry and path loss (5 GHz channel 36).
//! let freq = band::Band::Band5G.channel_to_freq(36).unwrap() as f64;
//! let model = pathloss::PathLossModel::TgaxResidential(Default::default());
//! let key = rng::RngKey::new(42, 1, 0, rng::purpose::SHADOWING);
//! let loss = model.loss_db(
//!     pathloss::Position::new(0.0, 0.0, 1.5),
//!     pathloss::Position::new(8.0, 3.0, 1.5),
//!     freq,
//!     key.gaussian(2), // the receiver's id as draw index
//! );
//! let rx_dbm = pathloss::rx_power_dbm(20.0, 0.0, 0.0, loss, 0.0);
//!
//! // Rate synthesis from the SNR referenced to 20 MHz.
//! let nf = noise::DEFAULT_NOISE_FIGURE_DB;
//! let snr20 = noise::snr_db(rx_dbm, noise::noise_floor_dbm(20.0, nf));
//! let sel = adapt::select_rate(snr20, 1500, &adapt::RateCaps::default());
//!
//! // PER at the chosen width, the delivery draw and the airtime.
//! let snr = noise::snr_db(rx_dbm, noise::noise_floor_dbm(sel.tx.width().mhz() as f64, nf));
//! let p = per::per(snr, &sel.tx, 1500);
//! let delivered = rng::RngKey::new(42, 1, 7, rng::purpose::DELIVERY).uniform(2) >= p;
//! let dur = airtime::ppdu_duration_ns(&sel.tx, 1500, band::Band::Band5G);
//! assert!(dur > 0);
//! let _ = delivered;
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod adapt;
pub mod airtime;
pub mod band;
mod math;
pub mod noise;
pub mod pathloss;
pub mod peer;
pub mod per;
pub mod rates;
pub mod rng;

/// Errors for invalid radio parameters. All variants are `Copy`; building
/// one never allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RadioError {
    /// The channel number does not exist in the band.
    #[error("channel {channel} does not exist in the {band} band")]
    InvalidChannel {
        /// Band the channel was looked up in.
        band: band::Band,
        /// Offending channel number.
        channel: u16,
    },
    /// The frequency (MHz) is not a channel centre in any band.
    #[error("{0} MHz is not a Wi-Fi channel centre frequency")]
    InvalidFrequency(u32),
    /// The (centre, width) block is not a valid channel of the band, or the
    /// primary 20 MHz channel does not lie inside it.
    #[error("no {width} channel centred on {center} with primary {primary} in the {band} band")]
    InvalidChannelBlock {
        /// Band.
        band: band::Band,
        /// Centre channel number of the block.
        center: u16,
        /// Block width.
        width: band::Width,
        /// Primary 20 MHz channel number.
        primary: u16,
    },
    /// A width in MHz that is not one of 20/40/80/160/320.
    #[error("{0} MHz is not a channel width (20, 40, 80, 160 or 320)")]
    InvalidWidthMhz(u32),
    /// A guard interval in µs that is not one of 0.4/0.8/1.6/3.2.
    #[error("guard interval must be 0.4, 0.8, 1.6 or 3.2 µs")]
    InvalidGuardInterval,
    /// The width is not allowed for this PHY format.
    #[error("{width} is not allowed for {format}")]
    WidthNotAllowed {
        /// PHY format.
        format: rates::PhyFormat,
        /// Requested width.
        width: band::Width,
    },
    /// The MCS index is out of range for this PHY format.
    #[error("MCS {mcs} does not exist for {format}")]
    InvalidMcs {
        /// PHY format.
        format: rates::PhyFormat,
        /// Requested MCS.
        mcs: u8,
    },
    /// The number of spatial streams is out of range for this PHY format.
    #[error("{nss} spatial streams are not allowed for {format}")]
    InvalidNss {
        /// PHY format.
        format: rates::PhyFormat,
        /// Requested NSS.
        nss: u8,
    },
    /// The guard interval is not allowed for this PHY format.
    #[error("guard interval {gi} is not allowed for {format}")]
    GuardIntervalNotAllowed {
        /// PHY format.
        format: rates::PhyFormat,
        /// Requested guard interval.
        gi: rates::GuardInterval,
    },
    /// The (MCS, width, NSS) combination is excluded by the standard
    /// (VHT: the data bits per symbol would not be an integer per encoder).
    #[error("{format} MCS {mcs} at {width} with {nss} streams is not a valid combination")]
    InvalidCombination {
        /// PHY format.
        format: rates::PhyFormat,
        /// MCS.
        mcs: u8,
        /// Width.
        width: band::Width,
        /// Spatial streams.
        nss: u8,
    },
    /// A path-loss model parameter is out of its domain.
    #[error("path loss parameter `{0}` is out of range")]
    InvalidModelParameter(&'static str),
}
