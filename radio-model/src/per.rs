//! AWGN packet error model.
//!
//! Pipeline for OFDM formats (legacy, HT, VHT, HE, EHT):
//!
//! 1. Per-stream SNR: the caller's SNR (total received power over noise in
//!    the PPDU bandwidth) minus 10·log10(NSS): with spatial multiplexing
//!    the transmit power is split evenly over the streams and an ideal
//!    (orthogonal-channel) receiver separates them.
//! 2. Per-coded-bit SNR (Ec/N0) of the equivalent BPSK channel each
//!    Gray-mapped bit sees: BPSK Es/N0, QPSK Es/(2N0), square M-QAM
//!    3·Es/(2(M−1)N0) — the minimum-distance term of the standard Gray QAM
//!    bit error approximation (Proakis, "Digital Communications", 5th ed.,
//!    §4.3). Equivalently Ec/N0 = c_M·k·R·Eb/N0 with c_M = 3/(2(M−1)).
//! 3. Coded BER of the BCC (K = 7, generators 133/171, punctured per
//!    802.11-2020 17.3.5.6) from the soft-decision union bound
//!    P_b ≤ (1/k)·Σ_d β_d·Q(√(2·d·Ec/N0)) over the code's information weight
//!    spectrum β_d (d_free … d_free + 9), k = information bits per
//!    puncturing period (Viterbi & Omura, "Principles of Digital
//!    Communication and Coding", §4.4; Proakis §8.2). Spectra: the published
//!    ones for the (133,171) mother code (d_free 10) and its punctured
//!    rate-2/3 (d_free 6), 3/4 (d_free 5) and 5/6 (d_free 4) codes
//!    (Haccoun & Bégin, IEEE Trans. Commun. 37(11), 1989) — the same tables
//!    wmediumd's per.c and ns-3's NIST model use. They use hard decisions;
//!    real receivers run soft-decision Viterbi, ≈2 dB better, which is
//!    modelled here.
//! 4. LDPC: the BCC bound at the same rate evaluated at Ec/N0 +
//!    [`LDPC_GAIN_DB`]: the 802.11n LDPC codes (n = 1944) gain about 2 dB
//!    over BCC in AWGN at PER ≈ 10⁻² (TGn proposal simulations, as
//!    summarised in Perahia & Stacey, "Next Generation Wireless LANs";
//!    an approximation — the real waterfall is steeper).
//! 5. PER = 1 − (1 − BER)^(8·L) for an L-byte PSDU.
//!
//! DSSS/CCK (802.11b): Eb/N0 = SNR·B/R_b with B the 20 MHz noise bandwidth;
//! 1 Mb/s DBPSK P_b = ½·e^(−Eb/N0); 2 Mb/s DQPSK, 5.5 and 11 Mb/s CCK as
//! Gray DQPSK, i.e. coherent QPSK with the 2.3 dB differential-detection
//! penalty: P_b = Q(√(2·Eb/N0 / 10^0.23)) (approximation; CCK's codeword
//! decoding is not modelled separately).
//!
//! Every step is monotone, so PER is non-increasing in SNR and
//! non-decreasing in length.
//!
//! SNR (dB) at which this model reaches PER = 10 % for a 4096-byte PSDU,
//! 1 stream (LDPC for HE/EHT as used by default; BCC for legacy/HT/VHT);
//! checked by the `required_snr_table` test:
//!
//! | MCS | modulation | rate | BCC | LDPC | standard's 20 MHz sensitivity − (−101 + 15) |
//! |---|---|---|---|---|---|
//! | 0 | BPSK | 1/2 | 1.5 | -0.5 | 4 |
//! | 1 | QPSK | 1/2 | 4.5 | 2.5 | 7 |
//! | 2 | QPSK | 3/4 | 7.2 | 5.2 | 9 |
//! | 3 | 16-QAM | 1/2 | 11.5 | 9.5 | 12 |
//! | 4 | 16-QAM | 3/4 | 14.2 | 12.2 | 16 |
//! | 5 | 64-QAM | 2/3 | 19.4 | 17.4 | 20 |
//! | 6 | 64-QAM | 3/4 | 20.4 | 18.4 | 21 |
//! | 7 | 64-QAM | 5/6 | 21.4 | 19.4 | 22 |
//! | 8 | 256-QAM | 3/4 | 26.5 | 24.5 | 27 |
//! | 9 | 256-QAM | 5/6 | 27.5 | 25.5 | 29 |
//! | 10 | 1024-QAM | 3/4 | 32.5 | 30.5 | 32 |
//! | 11 | 1024-QAM | 5/6 | 33.5 | 31.5 | 34 |
//! | 12 | 4096-QAM | 3/4 | 38.6 | 36.6 | 37 |
//! | 13 | 4096-QAM | 5/6 | 39.6 | 37.6 | 40 |
//!
//! The last column is the SNR the standard's receiver minimum input
//! sensitivity (the EHT table of 802.11be-2024 cl. 36; MCS 0–11 have the
//! same values in the HE and VHT tables of 802.11ax cl. 27 and 802.11-2020
//! cl. 21) leaves after its assumed 10 dB noise figure and 5 dB
//! implementation margin: an ideal AWGN receiver should need no more. BCC
//! is not allowed above MCS 9 in HE/EHT; that part of the BCC column is
//! hypothetical.

use crate::math::{db_to_lin, q};
use crate::rates::{CodeRate, Coding, McsParams, Modulation, TxVector};

/// LDPC coding gain over soft-decision BCC at equal rate (dB).
pub const LDPC_GAIN_DB: f64 = 2.0;

/// Differential-detection penalty of DQPSK over coherent QPSK (dB) at
/// BER ≈ 10⁻⁵ (Proakis §4.5; Sklar, "Digital Communications", §4.5.2).
pub const DQPSK_PENALTY_DB: f64 = 2.3;

/// A BCC information weight spectrum: (d, β_d) from d_free upward, and the
/// number of information bits per puncturing period.
struct Spectrum {
    k: f64,
    terms: &'static [(u32, f64)],
}

/// K = 7 (133, 171) rate 1/2: d_free = 10; odd distances have β_d = 0.
const SPECTRUM_1_2: Spectrum = Spectrum {
    k: 1.0,
    terms: &[
        (10, 36.0),
        (12, 211.0),
        (14, 1_404.0),
        (16, 11_633.0),
        (18, 77_433.0),
        (20, 502_690.0),
        (22, 3_322_763.0),
        (24, 21_292_910.0),
        (26, 134_365_911.0),
    ],
};

/// Punctured rate 2/3: d_free = 6.
const SPECTRUM_2_3: Spectrum = Spectrum {
    k: 2.0,
    terms: &[
        (6, 3.0),
        (7, 70.0),
        (8, 285.0),
        (9, 1_276.0),
        (10, 6_160.0),
        (11, 27_128.0),
        (12, 117_019.0),
        (13, 498_860.0),
        (14, 2_103_891.0),
        (15, 8_784_123.0),
    ],
};

/// Punctured rate 3/4: d_free = 5.
const SPECTRUM_3_4: Spectrum = Spectrum {
    k: 3.0,
    terms: &[
        (5, 42.0),
        (6, 201.0),
        (7, 1_492.0),
        (8, 10_469.0),
        (9, 62_935.0),
        (10, 379_644.0),
        (11, 2_253_373.0),
        (12, 13_073_811.0),
        (13, 75_152_755.0),
        (14, 428_005_675.0),
    ],
};

/// Punctured rate 5/6: d_free = 4.
const SPECTRUM_5_6: Spectrum = Spectrum {
    k: 5.0,
    terms: &[
        (4, 92.0),
        (5, 528.0),
        (6, 8_694.0),
        (7, 79_453.0),
        (8, 792_114.0),
        (9, 7_375_573.0),
        (10, 67_884_974.0),
        (11, 610_875_423.0),
        (12, 5_427_275_376.0),
        (13, 47_664_215_639.0),
    ],
};

fn spectrum(rate: CodeRate) -> &'static Spectrum {
    match (rate.num, rate.den) {
        (2, 3) => &SPECTRUM_2_3,
        (3, 4) => &SPECTRUM_3_4,
        (5, 6) => &SPECTRUM_5_6,
        _ => &SPECTRUM_1_2,
    }
}

/// Uncoded Gray-mapped bit error rate at symbol SNR Es/N0 (linear):
/// BPSK Q(√(2γ)), QPSK Q(√γ), square M-QAM
/// (4/k)(1 − 1/√M)·Q(√(3γ/(M−1))) (Proakis §4.3), capped at ½.
pub fn uncoded_ber(modulation: Modulation, snr_linear: f64) -> f64 {
    let g = snr_linear.max(0.0);
    let b = match modulation {
        Modulation::Bpsk => q((2.0 * g).sqrt()),
        Modulation::Qpsk => q(g.sqrt()),
        m => {
            let mm = f64::from(m.points());
            let k = f64::from(m.bits());
            4.0 / k * (1.0 - 1.0 / mm.sqrt()) * q((3.0 * g / (mm - 1.0)).sqrt())
        }
    };
    b.min(0.5)
}

/// Ec/N0 (linear) of the equivalent BPSK channel a Gray-mapped coded bit
/// sees at symbol SNR Es/N0 = `snr_linear`.
pub fn coded_bit_snr(modulation: Modulation, snr_linear: f64) -> f64 {
    let g = snr_linear.max(0.0);
    match modulation {
        Modulation::Bpsk => g,
        Modulation::Qpsk => g / 2.0,
        m => 3.0 * g / (2.0 * (f64::from(m.points()) - 1.0)),
    }
}

/// Soft-decision union bound on the BCC decoded bit error rate at coded-bit
/// Ec/N0 (linear), capped at ½.
pub fn bcc_ber(rate: CodeRate, ec_n0: f64) -> f64 {
    let s = spectrum(rate);
    let mut sum = 0.0;
    for &(d, beta) in s.terms {
        sum += beta * q((2.0 * f64::from(d) * ec_n0).sqrt());
        if sum >= 0.5 * s.k {
            return 0.5;
        }
    }
    (sum / s.k).min(0.5)
}

/// LDPC decoded bit error rate: the BCC bound shifted by
/// [`LDPC_GAIN_DB`].
pub fn ldpc_ber(rate: CodeRate, ec_n0: f64) -> f64 {
    bcc_ber(rate, ec_n0 * db_to_lin(LDPC_GAIN_DB))
}

/// DSSS/CCK bit error rate at SNR (linear, over `noise_bw_mhz`).
fn dsss_ber(mcs: u8, snr_linear: f64, noise_bw_mhz: f64) -> f64 {
    let rate_mbps = match mcs {
        0 => 1.0,
        1 => 2.0,
        2 => 5.5,
        _ => 11.0,
    };
    let eb_n0 = snr_linear.max(0.0) * noise_bw_mhz / rate_mbps;
    let b = if mcs == 0 {
        0.5 * (-eb_n0).exp()
    } else {
        q((2.0 * eb_n0 / db_to_lin(DQPSK_PENALTY_DB)).sqrt())
    };
    b.min(0.5)
}

/// Decoded bit error rate of an OFDM MCS (`params`, `coding`) with `nss`
/// streams at total SNR `snr_db`.
pub fn ber_mcs(params: McsParams, coding: Coding, nss: u8, snr_db: f64) -> f64 {
    if snr_db.is_nan() {
        return 0.5;
    }
    let per_stream = db_to_lin(snr_db) / f64::from(nss.max(1));
    let ec = coded_bit_snr(params.modulation, per_stream);
    match coding {
        Coding::Bcc => bcc_ber(params.rate, ec),
        Coding::Ldpc => ldpc_ber(params.rate, ec),
    }
}

/// Decoded bit error rate of a PPDU at `snr_db` (total SNR over the PPDU
/// bandwidth; see the module docs).
pub fn ber(snr_db: f64, tx: &TxVector) -> f64 {
    if snr_db.is_nan() {
        return 0.5;
    }
    match tx.params() {
        None => dsss_ber(tx.mcs(), db_to_lin(snr_db), f64::from(tx.width().mhz())),
        Some(p) => ber_mcs(p, tx.coding(), tx.nss(), snr_db),
    }
}

/// PER of `len_bytes` bytes with independent bit errors at `ber`:
/// 1 − (1 − BER)^(8·L).
pub fn per_from_ber(ber: f64, len_bytes: u32) -> f64 {
    if len_bytes == 0 || ber <= 0.0 {
        return 0.0;
    }
    let bits = 8.0 * f64::from(len_bytes);
    -(bits * (-ber.min(1.0)).ln_1p()).exp_m1()
}

/// PER of an OFDM MCS without building a [`TxVector`] (the width does not
/// matter for OFDM formats).
pub fn per_mcs(params: McsParams, coding: Coding, nss: u8, snr_db: f64, psdu_len: u32) -> f64 {
    if snr_db.is_nan() {
        return 1.0;
    }
    per_from_ber(ber_mcs(params, coding, nss, snr_db), psdu_len)
}

/// Packet error rate of a `psdu_len`-byte PSDU sent with `tx` at `snr_db`
/// (total received power over the noise in the PPDU bandwidth, dB).
/// Per-frame entry point; never allocates. NaN SNR gives PER 1.
pub fn per(snr_db: f64, tx: &TxVector, psdu_len: u32) -> f64 {
    if snr_db.is_nan() {
        return 1.0;
    }
    per_from_ber(ber(snr_db, tx), psdu_len)
}

/// Lowest SNR (dB, ±0.01 dB) at which `per` ≤ `target_per`, searched in
/// [−20, 80] dB (returns the bound if outside). For tables and link budgets,
/// not for the per-frame path.
pub fn required_snr_db(tx: &TxVector, psdu_len: u32, target_per: f64) -> f64 {
    let (mut lo, mut hi) = (-20.0, 80.0);
    if per(lo, tx, psdu_len) <= target_per {
        return lo;
    }
    if per(hi, tx, psdu_len) > target_per {
        return hi;
    }
    while hi - lo > 0.005 {
        let mid = 0.5 * (lo + hi);
        if per(mid, tx, psdu_len) <= target_per {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::band::Width;
    use crate::rates::{GuardInterval, PhyFormat};

    fn vector(format: PhyFormat, mcs: u8, coding: Coding) -> TxVector {
        TxVector::new(format, mcs, Width::W20, 1, GuardInterval::Gi0_8)
            .unwrap()
            .with_coding(coding)
    }

    #[test]
    fn uncoded_bpsk_reference_point() {
        // BPSK BER 1e-5 needs Eb/N0 = 9.59 dB (Proakis Fig. 4.2-x; Q(4.2649) = 1e-5).
        let b = uncoded_ber(Modulation::Bpsk, db_to_lin(9.5879));
        assert!((b / 1e-5 - 1.0).abs() < 0.01, "{b}");
    }

    #[test]
    fn bcc_rate_half_reference_point() {
        // Soft-decision K=7 rate 1/2 Viterbi: BER 1e-5 at Eb/N0 ≈ 4.2–4.4 dB
        // (Heller & Jacobs 1971). Ec/N0 = R·Eb/N0 = Eb/N0 − 3.01 dB.
        // The union bound is slightly pessimistic: accept 4.0–4.8 dB.
        let at = |ebn0_db: f64| bcc_ber(CodeRate::R1_2, db_to_lin(ebn0_db - 3.0103));
        assert!(at(4.0) > 1e-5, "{}", at(4.0));
        assert!(at(4.8) < 1e-5, "{}", at(4.8));
    }

    #[test]
    fn required_snr_table() {
        // Keeps the table in the module docs honest (±0.1 dB).
        let table: [(f64, f64); 14] = [
            (1.5, -0.5),
            (4.5, 2.5),
            (7.2, 5.2),
            (11.5, 9.5),
            (14.2, 12.2),
            (19.4, 17.4),
            (20.4, 18.4),
            (21.4, 19.4),
            (26.5, 24.5),
            (27.5, 25.5),
            (32.5, 30.5),
            (33.5, 31.5),
            (38.6, 36.6),
            (39.6, 37.6),
        ];
        for (mcs, (bcc, ldpc)) in table.iter().enumerate() {
            let m = mcs as u8;
            let got_bcc = required_snr_db(&vector(PhyFormat::Eht, m, Coding::Bcc), 4096, 0.1);
            let got_ldpc = required_snr_db(&vector(PhyFormat::Eht, m, Coding::Ldpc), 4096, 0.1);
            assert!((got_bcc - bcc).abs() < 0.1, "MCS {mcs} BCC: {got_bcc:.2}");
            assert!(
                (got_ldpc - ldpc).abs() < 0.1,
                "MCS {mcs} LDPC: {got_ldpc:.2}"
            );
        }
    }

    #[test]
    fn more_streams_need_more_snr() {
        let one = TxVector::new(PhyFormat::He, 7, Width::W80, 1, GuardInterval::Gi0_8).unwrap();
        let two = TxVector::new(PhyFormat::He, 7, Width::W80, 2, GuardInterval::Gi0_8).unwrap();
        let d = required_snr_db(&two, 1500, 0.1) - required_snr_db(&one, 1500, 0.1);
        assert!((d - 3.01).abs() < 0.05, "{d}");
    }

    #[test]
    fn dsss_thresholds_are_ordered_and_plausible() {
        // 802.11b sensitivity at 11 Mb/s is −76 dBm for 8 % FER at 1024 B
        // (802.11-2020 16.3.8.2); −76 − (−101 + 10) = 15 dB SNR budget.
        let mut prev = f64::NEG_INFINITY;
        for mcs in 0..4 {
            let s = required_snr_db(&TxVector::dsss(mcs).unwrap(), 1024, 0.08);
            assert!(s > prev);
            assert!(s < 15.0, "DSSS MCS {mcs}: {s}");
            prev = s;
        }
    }

    #[test]
    fn zero_length_and_nan() {
        let v = vector(PhyFormat::Ofdm, 0, Coding::Bcc);
        assert_eq!(per(-50.0, &v, 0), 0.0);
        assert_eq!(per(f64::NAN, &v, 100), 1.0);
        assert_eq!(per(f64::INFINITY, &v, 100), 0.0);
    }
}
