//! PPDU durations, interframe spaces and control-response durations.
//!
//! PPDU TXTIME per format (all times in ns; µs below):
//!
//! * DSSS (802.11-2020 16.2.2/16.3.4): long preamble 144 + PLCP header 48
//!   = 192, short 72 + 24 = 96, then ⌈8·L / rate⌉.
//! * Legacy OFDM (17.4.3): 16 (L-STF + L-LTF) + 4 (SIGNAL) +
//!   4·⌈(16 + 8·L + 6)/N_DBPS⌉; in 2.4 GHz (ERP-OFDM, 18.4.3) plus the 6 µs
//!   signal extension.
//! * HT-mixed (19.4.3): 16 + 4 (L-SIG) + 8 (HT-SIG) + 4 (HT-STF) +
//!   4·N_LTF + data symbols; N_LTF = 1, 2, 4, 4 for 1–4 streams.
//! * VHT (21.4.3): 16 + 4 + 8 (VHT-SIG-A) + 4 (VHT-STF) + 4·N_LTF +
//!   4 (VHT-SIG-B) + data symbols; N_LTF = 1, 2, 4, 4, 6, 6, 8, 8.
//!   For HT and VHT with the 0.4 µs GI the data part is 4·⌈3.6·N_SYM/4⌉.
//!   BCC: N_SYM = ⌈(8·L + 16 + 6·N_ES)/N_DBPS⌉; N_ES (BCC encoders)
//!   approximated as ⌈N_DBPS / 1080⌉ for HT (one encoder per 300 Mb/s) and
//!   ⌈N_DBPS / 2160⌉ for VHT (one per 600 Mb/s).
//! * HE SU (802.11ax-2021 27.4.3): 20 (L-STF, L-LTF, L-SIG) + 4 (RL-SIG) +
//!   8 (HE-SIG-A) + 4 (HE-STF) + N_LTF·T_LTF + N_SYM·(12.8 + GI) + T_PE.
//! * EHT MU PPDU to one user, i.e. EHT SU (802.11be-2024 36.4.3): 20 +
//!   4 (RL-SIG) + 8 (U-SIG) + 4·N_EHT-SIG + 4 (EHT-STF) + N_LTF·T_LTF +
//!   N_SYM·(12.8 + GI) + T_PE. N_EHT-SIG = 2 for a non-OFDMA single-user
//!   PPDU at EHT-SIG MCS 0: common (20 bits) + one user field (22) + CRC (4)
//!   + tail (6) = 52 bits at 26 bits per symbol.
//!
//! HE/EHT: T_LTF = 2×LTF + GI = 7.2 / 8.0 µs for GI 0.8 / 1.6 and
//! 4×LTF + 3.2 = 16 µs for GI 3.2; N_LTF = 1, 2, 4, 4, 6, 6, 8, 8 (above 8
//! streams rounded up to even, an extrapolation). Data symbols and packet
//! extension follow the pre-FEC padding procedure (27.3.12, eq. 27-61 …
//! 27-66): N_SYM = ⌈(8·L + 16 + N_tail)/N_DBPS⌉, a = ⌈N_excess /
//! N_DBPS,short⌉ (4 when the last symbol is full) with N_SD,short = 60, 120,
//! 240, 492, 984 for 20 … 320 MHz; T_PE from the nominal packet padding
//! (Table 27-46): 0 µs → 0; 8 µs → 0, 0, 4, 8 for a = 1 … 4; 16 µs → 4·a.
//! The LDPC extra symbol segment is not modelled (it adds at most one
//! symbol). In 2.4 GHz every OFDM-based PPDU gets the 6 µs signal
//! extension.

use serde::{Deserialize, Serialize};

use crate::band::{Band, Width};
use crate::rates::{Coding, GuardInterval, Modulation, PhyFormat, TxVector};

/// Signal extension appended to OFDM PPDUs in 2.4 GHz (µs).
pub const SIGNAL_EXTENSION_US: u64 = 6;

/// ACK frame length (bytes): FC 2 + Duration 2 + RA 6 + FCS 4.
pub const ACK_LEN: u32 = 14;

/// Compressed Block Ack frame length (bytes) for a bitmap of
/// `bitmap_bits` (64, 256, 512 or 1024): FC 2 + Duration 2 + RA 6 + TA 6 +
/// BA Control 2 + Starting Sequence Control 2 + bitmap + FCS 4.
pub const fn block_ack_len(bitmap_bits: u32) -> u32 {
    24 + bitmap_bits / 8
}

/// HE/EHT nominal packet padding capability (µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NominalPadding {
    /// 0 µs.
    Us0,
    /// 8 µs.
    Us8,
    /// 16 µs.
    #[default]
    Us16,
}

/// PPDU construction options that are not part of the rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PpduOptions {
    /// DSSS short preamble (not allowed at 1 Mb/s; the caller decides).
    pub dsss_short_preamble: bool,
    /// HE/EHT nominal packet padding.
    pub nominal_padding: NominalPadding,
    /// Number of EHT-SIG symbols (2 for EHT SU at EHT-SIG MCS 0).
    pub eht_sig_symbols: u8,
}

impl Default for PpduOptions {
    fn default() -> Self {
        PpduOptions {
            dsss_short_preamble: false,
            nominal_padding: NominalPadding::Us16,
            eht_sig_symbols: 2,
        }
    }
}

const US: u64 = 1000;

fn div_ceil(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

/// N_LTF for HT (1, 2, 4, 4).
fn ht_ltf(nss: u8) -> u64 {
    match nss {
        1 => 1,
        2 => 2,
        _ => 4,
    }
}

/// N_LTF for VHT/HE/EHT (1, 2, 4, 4, 6, 6, 8, 8, then even).
fn vht_ltf(nss: u8) -> u64 {
    match nss {
        1 => 1,
        2 => 2,
        n => u64::from(n + n % 2),
    }
}

/// HE/EHT LTF symbol duration with its GI (ns).
fn he_ltf_ns(gi: GuardInterval) -> u64 {
    match gi {
        GuardInterval::Gi3_2 => 12_800 + 3_200,
        g => 6_400 + u64::from(g.ns()),
    }
}

/// N_SD,short per HE/EHT bandwidth: 242-, 484-, 996-, 2×996-tone RUs from
/// 802.11ax-2021 27.3.12.3 (Table 27-33); 4×996 (320 MHz) = 2 × 492 as in
/// 802.11be-2024 36.3.13.
fn n_sd_short(width: Width) -> u64 {
    match width {
        Width::W20 => 60,
        Width::W40 => 120,
        Width::W80 => 240,
        Width::W160 => 492,
        Width::W320 => 984,
    }
}

/// HT/VHT data part (ns) for `n_sym` symbols, honouring the short-GI
/// rounding to 4 µs.
fn ht_vht_data_ns(n_sym: u64, gi: GuardInterval) -> u64 {
    match gi {
        GuardInterval::Gi0_4 => 4 * US * div_ceil(3_600 * n_sym, 4_000),
        _ => 4 * US * n_sym,
    }
}

/// HE/EHT data symbols plus packet extension (ns).
fn he_data_and_pe_ns(tx: &TxVector, psdu_len: u32, padding: NominalPadding) -> u64 {
    let n_dbps = u64::from(tx.n_dbps()).max(1);
    let n_tail = if tx.coding() == Coding::Bcc { 6 } else { 0 };
    let bits = 8 * u64::from(psdu_len) + 16 + n_tail;
    let n_sym = div_ceil(bits, n_dbps);
    let n_excess = bits % n_dbps;
    let a = if n_excess == 0 {
        4
    } else {
        let p = tx
            .params()
            .map(|p| p.rate)
            .unwrap_or(crate::rates::CodeRate::R1_2);
        let bpscs = tx.params().map(|p| p.modulation.bits()).unwrap_or(1);
        let n_cbps_short = n_sd_short(tx.width()) * u64::from(bpscs) * u64::from(tx.nss());
        let n_dbps_short = (n_cbps_short * u64::from(p.num) / u64::from(p.den)).max(1);
        div_ceil(n_excess, n_dbps_short).min(4)
    };
    let pe_us = match padding {
        NominalPadding::Us0 => 0,
        NominalPadding::Us8 => a.saturating_sub(2) * 4,
        NominalPadding::Us16 => 4 * a,
    };
    n_sym * u64::from(tx.symbol_ns()) + pe_us * US
}

/// PPDU duration (ns) of a `psdu_len`-byte PSDU with default options.
/// Per-frame entry point; never allocates.
pub fn ppdu_duration_ns(tx: &TxVector, psdu_len: u32, band: Band) -> u64 {
    ppdu_duration_ns_with(tx, psdu_len, band, &PpduOptions::default())
}

/// PPDU duration (ns) with explicit [`PpduOptions`].
pub fn ppdu_duration_ns_with(tx: &TxVector, psdu_len: u32, band: Band, opts: &PpduOptions) -> u64 {
    let se = if band == Band::Band2G4 {
        SIGNAL_EXTENSION_US * US
    } else {
        0
    };
    let bits = 8 * u64::from(psdu_len);
    match tx.format() {
        PhyFormat::Dsss => {
            let pre = if opts.dsss_short_preamble { 96 } else { 192 };
            let rate = u64::from(tx.data_rate_kbps()).max(1);
            (pre + div_ceil(bits * 1000, rate)) * US
        }
        PhyFormat::Ofdm => {
            let n_sym = div_ceil(16 + bits + 6, u64::from(tx.n_dbps()).max(1));
            (20 + 4 * n_sym) * US + se
        }
        PhyFormat::Ht | PhyFormat::Vht => {
            let n_dbps = u64::from(tx.n_dbps()).max(1);
            let (pre_us, per_encoder) = if tx.format() == PhyFormat::Ht {
                (16 + 4 + 8 + 4 + 4 * ht_ltf(tx.nss()), 1080)
            } else {
                (16 + 4 + 8 + 4 + 4 * vht_ltf(tx.nss()) + 4, 2160)
            };
            let tail = match tx.coding() {
                Coding::Bcc => 6 * div_ceil(n_dbps, per_encoder),
                Coding::Ldpc => 0,
            };
            let n_sym = div_ceil(bits + 16 + tail, n_dbps);
            pre_us * US + ht_vht_data_ns(n_sym, tx.gi()) + se
        }
        PhyFormat::He | PhyFormat::Eht => {
            let sig_us = if tx.format() == PhyFormat::He {
                8 // HE-SIG-A, 2 symbols
            } else {
                8 + 4 * u64::from(opts.eht_sig_symbols) // U-SIG + EHT-SIG
            };
            let pre_ns = (20 + 4 + sig_us + 4) * US + vht_ltf(tx.nss()) * he_ltf_ns(tx.gi());
            pre_ns + he_data_and_pe_ns(tx, psdu_len, opts.nominal_padding) + se
        }
    }
}

/// Rate of the control response (ACK, Block Ack, CTS) to a frame sent with
/// `data` (10.6.6.5.2 as INET cites it for 802.11-2024; the 802.11-2020
/// number was not checked): the highest mandatory rate not above
/// the data frame's (non-HT reference) rate. OFDM: from {6, 12, 24} Mb/s
/// (BPSK → 6, QPSK → 12, 16-QAM and above → 24), 20 MHz. DSSS: from
/// {1, 2} Mb/s, the usual basic rate set of 2.4 GHz BSSs.
pub fn control_response_rate(data: &TxVector) -> TxVector {
    let mcs = match data.format() {
        PhyFormat::Dsss => return TxVector::dsss(data.mcs().min(1)).unwrap_or(*data),
        _ => match data.params().map(|p| p.modulation) {
            Some(Modulation::Bpsk) | None => 0,
            Some(Modulation::Qpsk) => 2,
            Some(_) => 4,
        },
    };
    TxVector::ofdm(mcs).unwrap_or(*data)
}

/// ACK duration (ns) in response to a frame sent with `data`.
pub fn ack_duration_ns(data: &TxVector, band: Band) -> u64 {
    ppdu_duration_ns(&control_response_rate(data), ACK_LEN, band)
}

/// Compressed Block Ack duration (ns) in response to an A-MPDU sent with
/// `data`, for a `bitmap_bits` bitmap (64 for HT/VHT, 256 for HE, up to
/// 1024 for EHT).
pub fn block_ack_duration_ns(data: &TxVector, bitmap_bits: u32, band: Band) -> u64 {
    ppdu_duration_ns(
        &control_response_rate(data),
        block_ack_len(bitmap_bits),
        band,
    )
}

/// SIFS (µs): 10 in 2.4 GHz (DSSS/ERP/HT/HE), 16 in 5 and 6 GHz (OFDM)
/// (802.11-2020 Tables 17-21, 18-5, 19-25 as ns-3 cites them; ns-3's
/// `DSSS_SIFS_TIME` is 10 µs, the DSSS table number was not checked).
pub const fn sifs_us(band: Band) -> u64 {
    match band {
        Band::Band2G4 => 10,
        Band::Band5G | Band::Band6G => 16,
    }
}

/// Slot time (µs): 9 in 5/6 GHz; 2.4 GHz 9 with short slot (ERP-only BSS),
/// 20 otherwise (DSSS/long slot).
pub const fn slot_us(band: Band, short_slot: bool) -> u64 {
    match band {
        Band::Band2G4 if !short_slot => 20,
        _ => 9,
    }
}

/// EDCA access category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessCategory {
    /// AC_BK.
    Background,
    /// AC_BE.
    BestEffort,
    /// AC_VI.
    Video,
    /// AC_VO.
    Voice,
}

impl AccessCategory {
    /// The access category of an 802.1D user priority 0–7.
    pub const fn from_priority(up: u8) -> AccessCategory {
        match up & 7 {
            1 | 2 => AccessCategory::Background,
            0 | 3 => AccessCategory::BestEffort,
            4 | 5 => AccessCategory::Video,
            _ => AccessCategory::Voice,
        }
    }
}

/// EDCA parameters of one access category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edca {
    /// AIFSN.
    pub aifsn: u8,
    /// CWmin.
    pub cw_min: u16,
    /// CWmax.
    pub cw_max: u16,
}

/// Default EDCA parameter set for a non-AP STA (802.11-2020 Table 9-155,
/// as ns-3's `WifiMac::ConfigureDcf` cites it, with the same values),
/// with aCWmin = 15 (OFDM) or 31 (DSSS) and aCWmax = 1023:
/// BK 7/aCWmin/aCWmax, BE 3/aCWmin/aCWmax, VI 2/(aCWmin+1)/2−1/aCWmin,
/// VO 2/(aCWmin+1)/4−1/(aCWmin+1)/2−1.
pub const fn default_edca(ac: AccessCategory, dsss: bool) -> Edca {
    let cw_min: u16 = if dsss { 31 } else { 15 };
    let cw_max: u16 = 1023;
    // aCWmin = 2^k − 1, so (aCWmin + 1)/2 − 1 = aCWmin/2 and
    // (aCWmin + 1)/4 − 1 = aCWmin/4 in integer arithmetic.
    let half = cw_min / 2;
    let quarter = cw_min / 4;
    match ac {
        AccessCategory::Background => Edca {
            aifsn: 7,
            cw_min,
            cw_max,
        },
        AccessCategory::BestEffort => Edca {
            aifsn: 3,
            cw_min,
            cw_max,
        },
        AccessCategory::Video => Edca {
            aifsn: 2,
            cw_min: half,
            cw_max: cw_min,
        },
        AccessCategory::Voice => Edca {
            aifsn: 2,
            cw_min: quarter,
            cw_max: half,
        },
    }
}

/// AIFS of an access category = SIFS + AIFSN·slot (µs).
pub const fn aifs_us(band: Band, short_slot: bool, aifsn: u8) -> u64 {
    sifs_us(band) + aifsn as u64 * slot_us(band, short_slot)
}

/// DIFS = SIFS + 2·slot (µs): 34 in 5/6 GHz, 28 or 50 in 2.4 GHz.
pub const fn difs_us(band: Band, short_slot: bool) -> u64 {
    aifs_us(band, short_slot, 2)
}

/// EIFS = SIFS + DIFS + ACK duration at `lowest` (the lowest basic rate),
/// in ns (EIFS: 10.3.2.3.7 as one public simulator cites it for 802.11-2024,
/// another places the relation in 10.3.7; not checked).
pub fn eifs_ns(band: Band, short_slot: bool, lowest: &TxVector) -> u64 {
    (sifs_us(band) + difs_us(band, short_slot)) * US + ppdu_duration_ns(lowest, ACK_LEN, band)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_grows_with_length() {
        let v = TxVector::new(PhyFormat::Eht, 13, Width::W320, 2, GuardInterval::Gi0_8).unwrap();
        let mut prev = 0;
        for len in (0..20_000).step_by(97) {
            let d = ppdu_duration_ns(&v, len, Band::Band6G);
            assert!(d >= prev);
            prev = d;
        }
    }

    #[test]
    fn edca_defaults() {
        assert_eq!(
            default_edca(AccessCategory::Voice, false),
            Edca {
                aifsn: 2,
                cw_min: 3,
                cw_max: 7
            }
        );
        assert_eq!(
            default_edca(AccessCategory::Video, true),
            Edca {
                aifsn: 2,
                cw_min: 15,
                cw_max: 31
            }
        );
        assert_eq!(AccessCategory::from_priority(6), AccessCategory::Voice);
        assert_eq!(AccessCategory::from_priority(0), AccessCategory::BestEffort);
    }

    #[test]
    fn control_response_rates() {
        let eht =
            |m| TxVector::new(PhyFormat::Eht, m, Width::W80, 1, GuardInterval::Gi0_8).unwrap();
        assert_eq!(control_response_rate(&eht(0)).data_rate_kbps(), 6_000);
        assert_eq!(control_response_rate(&eht(2)).data_rate_kbps(), 12_000);
        assert_eq!(control_response_rate(&eht(13)).data_rate_kbps(), 24_000);
        assert_eq!(
            control_response_rate(&TxVector::dsss(3).unwrap()).data_rate_kbps(),
            2_000
        );
    }
}
