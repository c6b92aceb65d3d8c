//! PHY formats, the MCS table and data rates.
//!
//! Rates are computed, not looked up: `N_DBPS = N_SD · N_BPSCS · R · N_SS`
//! data bits per OFDM symbol and `rate = N_DBPS / T_SYM`, with
//!
//! | format | N_SD at 20/40/80/160/320 MHz | T_SYM |
//! |---|---|---|
//! | legacy OFDM (802.11-2020 cl. 17) | 48 | 3.2 + 0.8 µs |
//! | HT (cl. 19) | 52 / 108 | 3.2 + 0.8 or 0.4 µs |
//! | VHT (cl. 21) | 52 / 108 / 234 / 468 | 3.2 + 0.8 or 0.4 µs |
//! | HE (802.11ax cl. 27) | 234 / 468 / 980 / 1960 | 12.8 + 0.8, 1.6 or 3.2 µs |
//! | EHT (802.11be cl. 36) | 234 / 468 / 980 / 1960 / 3920 | 12.8 + 0.8, 1.6 or 3.2 µs |
//!
//! HE and EHT rate tables list `N_DBPS = floor(N_CBPS · R)` (e.g. 8166 for
//! 980 tones, 1024-QAM 5/6), which is used here. DSSS/CCK rates
//! (802.11-2020 cl. 15/16) follow from the 11 Mchip/s chip rate: Barker
//! (11 chips/symbol) with 1 or 2 bits, CCK (8 chips/symbol) with 4 or 8 bits.
//!
//! EHT MCS 14/15 (BPSK-DCM with duplication) and HT unequal-modulation MCS
//! 33–76 are not modelled. NSS: 802.11be-2024 defines up to 8 streams; 9–16
//! are accepted for EHT as an extrapolation (same per-stream tables).

use serde::{Deserialize, Serialize};

use crate::band::Width;
use crate::RadioError;

/// PHY format of a PPDU, in increasing order of capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhyFormat {
    /// DSSS/CCK (802.11b): 1, 2, 5.5, 11 Mb/s as MCS 0–3.
    Dsss,
    /// Legacy OFDM (802.11a/g): 6 … 54 Mb/s as MCS 0–7.
    Ofdm,
    /// HT (802.11n), per-stream MCS 0–7 (HT MCS index = 8·(NSS−1) + MCS).
    Ht,
    /// VHT (802.11ac), MCS 0–9.
    Vht,
    /// HE (802.11ax), MCS 0–11.
    He,
    /// EHT (802.11be), MCS 0–13.
    Eht,
}

impl core::fmt::Display for PhyFormat {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            PhyFormat::Dsss => "DSSS",
            PhyFormat::Ofdm => "OFDM",
            PhyFormat::Ht => "HT",
            PhyFormat::Vht => "VHT",
            PhyFormat::He => "HE",
            PhyFormat::Eht => "EHT",
        })
    }
}

impl PhyFormat {
    /// All formats, oldest first.
    pub const ALL: [PhyFormat; 6] = [
        PhyFormat::Dsss,
        PhyFormat::Ofdm,
        PhyFormat::Ht,
        PhyFormat::Vht,
        PhyFormat::He,
        PhyFormat::Eht,
    ];

    /// Highest MCS index.
    pub const fn max_mcs(self) -> u8 {
        match self {
            PhyFormat::Dsss => 3,
            PhyFormat::Ofdm | PhyFormat::Ht => 7,
            PhyFormat::Vht => 9,
            PhyFormat::He => 11,
            PhyFormat::Eht => 13,
        }
    }

    /// Highest number of spatial streams.
    pub const fn max_nss(self) -> u8 {
        match self {
            PhyFormat::Dsss | PhyFormat::Ofdm => 1,
            PhyFormat::Ht => 4,
            PhyFormat::Vht | PhyFormat::He => 8,
            PhyFormat::Eht => 16,
        }
    }

    /// Widest PPDU bandwidth.
    pub const fn max_width(self) -> Width {
        match self {
            PhyFormat::Dsss | PhyFormat::Ofdm => Width::W20,
            PhyFormat::Ht => Width::W40,
            PhyFormat::Vht | PhyFormat::He => Width::W160,
            PhyFormat::Eht => Width::W320,
        }
    }

    /// The FEC a typical transmitter uses: BCC up to VHT, LDPC for HE/EHT
    /// (mandatory above 20 MHz / MCS 9 there: 802.11ax 27.3.12.5.1,
    /// 802.11be 36.3.13.3.1).
    pub const fn default_coding(self) -> Coding {
        match self {
            PhyFormat::He | PhyFormat::Eht => Coding::Ldpc,
            _ => Coding::Bcc,
        }
    }

    /// Whether the guard interval is defined for this format.
    pub const fn allows_gi(self, gi: GuardInterval) -> bool {
        match self {
            PhyFormat::Dsss | PhyFormat::Ofdm => matches!(gi, GuardInterval::Gi0_8),
            PhyFormat::Ht | PhyFormat::Vht => {
                matches!(gi, GuardInterval::Gi0_4 | GuardInterval::Gi0_8)
            }
            PhyFormat::He | PhyFormat::Eht => {
                matches!(
                    gi,
                    GuardInterval::Gi0_8 | GuardInterval::Gi1_6 | GuardInterval::Gi3_2
                )
            }
        }
    }
}

/// Guard interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub enum GuardInterval {
    /// 0.4 µs (HT/VHT short GI).
    Gi0_4,
    /// 0.8 µs (legacy, HT/VHT long GI, HE/EHT shortest).
    Gi0_8,
    /// 1.6 µs (HE/EHT).
    Gi1_6,
    /// 3.2 µs (HE/EHT).
    Gi3_2,
}

impl GuardInterval {
    /// Duration in ns.
    pub const fn ns(self) -> u32 {
        match self {
            GuardInterval::Gi0_4 => 400,
            GuardInterval::Gi0_8 => 800,
            GuardInterval::Gi1_6 => 1600,
            GuardInterval::Gi3_2 => 3200,
        }
    }

    /// The guard interval from µs (0.4, 0.8, 1.6, 3.2).
    pub fn from_us(us: f64) -> Result<GuardInterval, RadioError> {
        let ns = (us * 1000.0).round();
        match ns as i64 {
            400 => Ok(GuardInterval::Gi0_4),
            800 => Ok(GuardInterval::Gi0_8),
            1600 => Ok(GuardInterval::Gi1_6),
            3200 => Ok(GuardInterval::Gi3_2),
            _ => Err(RadioError::InvalidGuardInterval),
        }
    }
}

impl TryFrom<f64> for GuardInterval {
    type Error = RadioError;
    fn try_from(us: f64) -> Result<Self, Self::Error> {
        GuardInterval::from_us(us)
    }
}

impl From<GuardInterval> for f64 {
    fn from(gi: GuardInterval) -> f64 {
        f64::from(gi.ns()) / 1000.0
    }
}

impl core::fmt::Display for GuardInterval {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} µs", f64::from(*self))
    }
}

/// Forward error correction code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Coding {
    /// Binary convolutional code, K = 7, generators 133/171 (octal),
    /// punctured to 2/3, 3/4, 5/6.
    Bcc,
    /// Low-density parity check (802.11n-style QC-LDPC, n = 648/1296/1944).
    Ldpc,
}

/// Constellation of an OFDM subcarrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Modulation {
    /// BPSK, 1 bit.
    Bpsk,
    /// QPSK, 2 bits.
    Qpsk,
    /// 16-QAM, 4 bits.
    Qam16,
    /// 64-QAM, 6 bits.
    Qam64,
    /// 256-QAM, 8 bits.
    Qam256,
    /// 1024-QAM, 10 bits.
    Qam1024,
    /// 4096-QAM, 12 bits.
    Qam4096,
}

impl Modulation {
    /// Coded bits per subcarrier per stream, N_BPSCS.
    pub const fn bits(self) -> u32 {
        match self {
            Modulation::Bpsk => 1,
            Modulation::Qpsk => 2,
            Modulation::Qam16 => 4,
            Modulation::Qam64 => 6,
            Modulation::Qam256 => 8,
            Modulation::Qam1024 => 10,
            Modulation::Qam4096 => 12,
        }
    }

    /// Constellation size M = 2^bits.
    pub const fn points(self) -> u32 {
        1 << self.bits()
    }
}

/// Code rate k/n.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeRate {
    /// Numerator (information bits per puncturing period).
    pub num: u8,
    /// Denominator.
    pub den: u8,
}

impl CodeRate {
    /// Rate 1/2 (mother code).
    pub const R1_2: CodeRate = CodeRate { num: 1, den: 2 };
    /// Rate 2/3.
    pub const R2_3: CodeRate = CodeRate { num: 2, den: 3 };
    /// Rate 3/4.
    pub const R3_4: CodeRate = CodeRate { num: 3, den: 4 };
    /// Rate 5/6.
    pub const R5_6: CodeRate = CodeRate { num: 5, den: 6 };

    /// The rate as a real number.
    pub fn value(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }
}

/// Modulation and code rate of an OFDM MCS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct McsParams {
    /// Constellation.
    pub modulation: Modulation,
    /// Code rate.
    pub rate: CodeRate,
}

/// HT/VHT/HE/EHT MCS 0–13 (802.11-2020 Tables 19-27, 21-30; 802.11ax
/// Table 27-55; 802.11be Table 36-74).
const MCS_TABLE: [McsParams; 14] = [
    McsParams {
        modulation: Modulation::Bpsk,
        rate: CodeRate::R1_2,
    },
    McsParams {
        modulation: Modulation::Qpsk,
        rate: CodeRate::R1_2,
    },
    McsParams {
        modulation: Modulation::Qpsk,
        rate: CodeRate::R3_4,
    },
    McsParams {
        modulation: Modulation::Qam16,
        rate: CodeRate::R1_2,
    },
    McsParams {
        modulation: Modulation::Qam16,
        rate: CodeRate::R3_4,
    },
    McsParams {
        modulation: Modulation::Qam64,
        rate: CodeRate::R2_3,
    },
    McsParams {
        modulation: Modulation::Qam64,
        rate: CodeRate::R3_4,
    },
    McsParams {
        modulation: Modulation::Qam64,
        rate: CodeRate::R5_6,
    },
    McsParams {
        modulation: Modulation::Qam256,
        rate: CodeRate::R3_4,
    },
    McsParams {
        modulation: Modulation::Qam256,
        rate: CodeRate::R5_6,
    },
    McsParams {
        modulation: Modulation::Qam1024,
        rate: CodeRate::R3_4,
    },
    McsParams {
        modulation: Modulation::Qam1024,
        rate: CodeRate::R5_6,
    },
    McsParams {
        modulation: Modulation::Qam4096,
        rate: CodeRate::R3_4,
    },
    McsParams {
        modulation: Modulation::Qam4096,
        rate: CodeRate::R5_6,
    },
];

/// Legacy OFDM rates 6, 9, 12, 18, 24, 36, 48, 54 Mb/s
/// (802.11-2020 Table 17-4).
const OFDM_TABLE: [McsParams; 8] = [
    McsParams {
        modulation: Modulation::Bpsk,
        rate: CodeRate::R1_2,
    },
    McsParams {
        modulation: Modulation::Bpsk,
        rate: CodeRate::R3_4,
    },
    McsParams {
        modulation: Modulation::Qpsk,
        rate: CodeRate::R1_2,
    },
    McsParams {
        modulation: Modulation::Qpsk,
        rate: CodeRate::R3_4,
    },
    McsParams {
        modulation: Modulation::Qam16,
        rate: CodeRate::R1_2,
    },
    McsParams {
        modulation: Modulation::Qam16,
        rate: CodeRate::R3_4,
    },
    McsParams {
        modulation: Modulation::Qam64,
        rate: CodeRate::R2_3,
    },
    McsParams {
        modulation: Modulation::Qam64,
        rate: CodeRate::R3_4,
    },
];

/// DSSS/CCK rate in kb/s for MCS 0–3, from the 11 Mchip/s chip rate.
pub const fn dsss_rate_kbps(mcs: u8) -> Option<u32> {
    const CHIP_KCPS: u32 = 11_000;
    match mcs {
        0 => Some(CHIP_KCPS / 11),     // Barker, DBPSK, 1 bit/symbol
        1 => Some(CHIP_KCPS / 11 * 2), // Barker, DQPSK, 2 bits/symbol
        2 => Some(CHIP_KCPS / 8 * 4),  // CCK, 4 bits/symbol
        3 => Some(CHIP_KCPS / 8 * 8),  // CCK, 8 bits/symbol
        _ => None,
    }
}

/// Modulation and code rate of an OFDM-based MCS (`None` for DSSS or an
/// MCS out of range).
pub fn mcs_params(format: PhyFormat, mcs: u8) -> Option<McsParams> {
    if mcs > format.max_mcs() {
        return None;
    }
    match format {
        PhyFormat::Dsss => None,
        PhyFormat::Ofdm => Some(OFDM_TABLE[usize::from(mcs)]),
        _ => Some(MCS_TABLE[usize::from(mcs)]),
    }
}

/// Data subcarriers N_SD per stream for an OFDM-based format and width.
pub fn data_subcarriers(format: PhyFormat, width: Width) -> Result<u32, RadioError> {
    let n = match (format, width) {
        (PhyFormat::Ofdm, Width::W20) => 48,
        (PhyFormat::Ht | PhyFormat::Vht, Width::W20) => 52,
        (PhyFormat::Ht | PhyFormat::Vht, Width::W40) => 108,
        (PhyFormat::Vht, Width::W80) => 234,
        (PhyFormat::Vht, Width::W160) => 468,
        (PhyFormat::He | PhyFormat::Eht, Width::W20) => 234,
        (PhyFormat::He | PhyFormat::Eht, Width::W40) => 468,
        (PhyFormat::He | PhyFormat::Eht, Width::W80) => 980,
        (PhyFormat::He | PhyFormat::Eht, Width::W160) => 1960,
        (PhyFormat::Eht, Width::W320) => 3920,
        _ => return Err(RadioError::WidthNotAllowed { format, width }),
    };
    Ok(n)
}

/// OFDM symbol duration including the guard interval (ns). DSSS has no
/// OFDM symbol; 0 is returned.
pub const fn symbol_ns(format: PhyFormat, gi: GuardInterval) -> u32 {
    match format {
        PhyFormat::Dsss => 0,
        PhyFormat::Ofdm => 4000,
        PhyFormat::Ht | PhyFormat::Vht => 3200 + gi.ns(),
        PhyFormat::He | PhyFormat::Eht => 12_800 + gi.ns(),
    }
}

/// VHT (MCS, width, NSS) combinations excluded by 802.11-2020 Tables
/// 21-30 … 21-61 (N_DBPS or N_CBPS not divisible by the number of BCC
/// encoders).
const fn vht_excluded(mcs: u8, width: Width, nss: u8) -> bool {
    matches!(
        (width, mcs, nss),
        (Width::W20, 9, 1 | 2 | 4 | 5 | 7 | 8)
            | (Width::W80, 6, 3 | 7)
            | (Width::W80, 9, 6)
            | (Width::W160, 9, 3)
    )
}

fn check(
    format: PhyFormat,
    mcs: u8,
    width: Width,
    nss: u8,
    gi: GuardInterval,
) -> Result<(), RadioError> {
    if mcs > format.max_mcs() {
        return Err(RadioError::InvalidMcs { format, mcs });
    }
    if nss == 0 || nss > format.max_nss() {
        return Err(RadioError::InvalidNss { format, nss });
    }
    if width > format.max_width() {
        return Err(RadioError::WidthNotAllowed { format, width });
    }
    if !format.allows_gi(gi) {
        return Err(RadioError::GuardIntervalNotAllowed { format, gi });
    }
    if format == PhyFormat::Vht && vht_excluded(mcs, width, nss) {
        return Err(RadioError::InvalidCombination {
            format,
            mcs,
            width,
            nss,
        });
    }
    Ok(())
}

/// Data bits per OFDM symbol, N_DBPS = N_SD·N_BPSCS·N_SS·R (floored for
/// HE/EHT as their tables do). Assumes a validated combination; 0 for DSSS.
fn n_dbps_unchecked(format: PhyFormat, mcs: u8, width: Width, nss: u8) -> u32 {
    let (Some(p), Ok(n_sd)) = (mcs_params(format, mcs), data_subcarriers(format, width)) else {
        return 0;
    };
    let n_cbps = n_sd * p.modulation.bits() * u32::from(nss);
    n_cbps * u32::from(p.rate.num) / u32::from(p.rate.den)
}

/// Data bits per OFDM symbol N_DBPS for a format/MCS/width/NSS.
pub fn n_dbps(format: PhyFormat, mcs: u8, width: Width, nss: u8) -> Result<u32, RadioError> {
    if format == PhyFormat::Dsss {
        // DSSS has no OFDM symbols.
        return Err(RadioError::InvalidCombination {
            format,
            mcs,
            width,
            nss,
        });
    }
    // 0.8 µs is valid for every format and does not change N_DBPS.
    check(format, mcs, width, nss, GuardInterval::Gi0_8)?;
    Ok(n_dbps_unchecked(format, mcs, width, nss))
}

fn rate_kbps_unchecked(
    format: PhyFormat,
    mcs: u8,
    width: Width,
    nss: u8,
    gi: GuardInterval,
) -> u32 {
    if format == PhyFormat::Dsss {
        return dsss_rate_kbps(mcs).unwrap_or(0);
    }
    let bits = u64::from(n_dbps_unchecked(format, mcs, width, nss));
    let t = u64::from(symbol_ns(format, gi));
    // bits/ns = Gb/s; × 1e6 → kb/s, rounded to nearest.
    ((bits * 1_000_000 + t / 2) / t) as u32
}

/// PHY data rate in kb/s, computed from subcarriers, bits per subcarrier,
/// code rate, streams and symbol time (rounded to the nearest kb/s).
pub fn data_rate_kbps(
    format: PhyFormat,
    mcs: u8,
    width: Width,
    nss: u8,
    gi: GuardInterval,
) -> Result<u32, RadioError> {
    check(format, mcs, width, nss, gi)?;
    Ok(rate_kbps_unchecked(format, mcs, width, nss, gi))
}

/// Splits an HT MCS index 0–31 into (per-stream MCS 0–7, NSS 1–4).
pub const fn ht_mcs_split(index: u8) -> Option<(u8, u8)> {
    if index > 31 {
        None
    } else {
        Some((index % 8, index / 8 + 1))
    }
}

/// A validated transmit vector: everything the error model and airtime
/// need to know about one PPDU's modulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TxVector {
    format: PhyFormat,
    mcs: u8,
    width: Width,
    nss: u8,
    gi: GuardInterval,
    coding: Coding,
}

impl TxVector {
    /// A transmit vector with the format's default coding
    /// ([`PhyFormat::default_coding`]).
    pub fn new(
        format: PhyFormat,
        mcs: u8,
        width: Width,
        nss: u8,
        gi: GuardInterval,
    ) -> Result<TxVector, RadioError> {
        check(format, mcs, width, nss, gi)?;
        Ok(TxVector {
            format,
            mcs,
            width,
            nss,
            gi,
            coding: format.default_coding(),
        })
    }

    /// A legacy OFDM vector (MCS 0–7 = 6 … 54 Mb/s), 20 MHz.
    pub fn ofdm(mcs: u8) -> Result<TxVector, RadioError> {
        TxVector::new(PhyFormat::Ofdm, mcs, Width::W20, 1, GuardInterval::Gi0_8)
    }

    /// A DSSS/CCK vector (MCS 0–3 = 1, 2, 5.5, 11 Mb/s), 20 MHz.
    pub fn dsss(mcs: u8) -> Result<TxVector, RadioError> {
        TxVector::new(PhyFormat::Dsss, mcs, Width::W20, 1, GuardInterval::Gi0_8)
    }

    /// The same vector with another FEC. DSSS and legacy OFDM always use
    /// their own coding; the request is ignored for them.
    pub fn with_coding(mut self, coding: Coding) -> TxVector {
        if !matches!(self.format, PhyFormat::Dsss | PhyFormat::Ofdm) {
            self.coding = coding;
        }
        self
    }

    /// PHY format.
    pub const fn format(&self) -> PhyFormat {
        self.format
    }
    /// MCS index (per-stream for HT).
    pub const fn mcs(&self) -> u8 {
        self.mcs
    }
    /// Bandwidth.
    pub const fn width(&self) -> Width {
        self.width
    }
    /// Spatial streams.
    pub const fn nss(&self) -> u8 {
        self.nss
    }
    /// Guard interval.
    pub const fn gi(&self) -> GuardInterval {
        self.gi
    }
    /// FEC.
    pub const fn coding(&self) -> Coding {
        self.coding
    }
    /// Modulation and code rate (`None` for DSSS).
    pub fn params(&self) -> Option<McsParams> {
        mcs_params(self.format, self.mcs)
    }
    /// Data bits per OFDM symbol (0 for DSSS).
    pub fn n_dbps(&self) -> u32 {
        n_dbps_unchecked(self.format, self.mcs, self.width, self.nss)
    }
    /// Coded bits per OFDM symbol N_CBPS (0 for DSSS).
    pub fn n_cbps(&self) -> u32 {
        match (self.params(), data_subcarriers(self.format, self.width)) {
            (Some(p), Ok(n_sd)) => n_sd * p.modulation.bits() * u32::from(self.nss),
            _ => 0,
        }
    }
    /// Symbol duration with GI (ns; 0 for DSSS).
    pub const fn symbol_ns(&self) -> u32 {
        symbol_ns(self.format, self.gi)
    }
    /// PHY data rate (kb/s).
    pub fn data_rate_kbps(&self) -> u32 {
        rate_kbps_unchecked(self.format, self.mcs, self.width, self.nss, self.gi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_vectors_are_rejected() {
        use PhyFormat::*;
        let gi = GuardInterval::Gi0_8;
        assert!(TxVector::new(Ht, 0, Width::W80, 1, gi).is_err());
        assert!(TxVector::new(He, 12, Width::W20, 1, gi).is_err());
        assert!(TxVector::new(Vht, 9, Width::W20, 1, gi).is_err());
        assert!(TxVector::new(Vht, 9, Width::W20, 3, gi).is_ok());
        assert!(TxVector::new(He, 0, Width::W20, 1, GuardInterval::Gi0_4).is_err());
        assert!(TxVector::new(Eht, 0, Width::W320, 0, gi).is_err());
        assert!(TxVector::new(Eht, 0, Width::W320, 16, gi).is_ok());
        assert!(TxVector::new(Ofdm, 8, Width::W20, 1, gi).is_err());
    }

    #[test]
    fn rates_increase_with_mcs() {
        for f in PhyFormat::ALL {
            let mut prev = 0;
            for mcs in 0..=f.max_mcs() {
                // VHT MCS 9 at 20 MHz needs 3 streams; compare per stream.
                let nss = if f == PhyFormat::Vht { 3 } else { 1 };
                let r = data_rate_kbps(f, mcs, Width::W20, nss, GuardInterval::Gi0_8).unwrap();
                assert!(r > prev, "{f} MCS {mcs}");
                prev = r;
            }
        }
    }

    #[test]
    fn ht_index_split() {
        assert_eq!(ht_mcs_split(15), Some((7, 2)));
        assert_eq!(ht_mcs_split(0), Some((0, 1)));
        assert_eq!(ht_mcs_split(32), None);
    }

    #[test]
    fn gi_parses_from_microseconds() {
        assert_eq!(GuardInterval::from_us(0.8), Ok(GuardInterval::Gi0_8));
        assert_eq!(GuardInterval::from_us(3.2), Ok(GuardInterval::Gi3_2));
        assert!(GuardInterval::from_us(1.0).is_err());
    }
}
