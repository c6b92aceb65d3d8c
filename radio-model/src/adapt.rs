//! Rate synthesis: the (MCS, NSS, width) a good link adaptation would use.
//!
//! hwsim guests report only legacy/HT/VHT rates and MLO radios none, so the
//! medium asks this module what an ideal rate control would pick at the
//! current SNR: the candidate with the highest expected throughput
//! `rate·(1 − PER)` among those with PER ≤ `caps.max_per` (10 % by default,
//! the criterion the standard's sensitivity figures use), bounded by the
//! link's caps.
//!
//! The SNR is given over 20 MHz; a wider PPDU with the same total transmit
//! power sees 10·log10(W/20) dB less ([`crate::noise::snr_at_width`]).
//!
//! Cost: per (width, NSS) one probe of the top MCS, else a binary search
//! over the MCS (required SNR grows with the MCS index; tested), widest
//! first and pruned by rate dominance: from ~2 PER evaluations on a strong
//! link to a few dozen at mid SNR. No allocation. Callers can cache the
//! result per link while the SNR is unchanged.

use serde::{Deserialize, Serialize};

use crate::band::Width;
use crate::noise::snr_at_width;
use crate::per::{per, per_mcs};
use crate::rates::{mcs_params, Coding, GuardInterval, PhyFormat, TxVector};

/// Per-link capabilities bounding the synthesised rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateCaps {
    /// Most capable PHY format both ends support; candidates use this format.
    pub max_format: PhyFormat,
    /// Widest PPDU (also bounded by the format's maximum).
    pub max_width: Width,
    /// Most spatial streams (min of both ends' antennas).
    pub max_nss: u8,
    /// Highest MCS (also bounded by the format's maximum).
    pub max_mcs: u8,
    /// Guard interval to use; replaced by 0.8 µs where the format does not
    /// define it.
    pub gi: GuardInterval,
    /// FEC; `None` picks the format's default (BCC up to VHT, LDPC for
    /// HE/EHT).
    pub coding: Option<Coding>,
    /// PER ceiling for a candidate (0.1).
    pub max_per: f64,
}

impl Default for RateCaps {
    fn default() -> Self {
        RateCaps {
            max_format: PhyFormat::Eht,
            max_width: Width::W320,
            max_nss: 2,
            max_mcs: 13,
            gi: GuardInterval::Gi0_8,
            coding: None,
            max_per: 0.1,
        }
    }
}

/// A synthesised rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Selection {
    /// The transmit vector.
    pub tx: TxVector,
    /// Its PHY rate (kb/s).
    pub rate_kbps: u32,
    /// Its PER at the given SNR and length.
    pub per: f64,
}

impl Selection {
    /// Expected throughput rate·(1 − PER) in kb/s.
    pub fn goodput_kbps(&self) -> f64 {
        f64::from(self.rate_kbps) * (1.0 - self.per)
    }
}

/// Picks the highest-throughput (MCS, NSS, width) with PER ≤ `caps.max_per`
/// at `snr_20mhz_db` for a `psdu_len`-byte PSDU. When nothing qualifies the
/// most robust candidate (MCS 0, 1 stream, 20 MHz) is returned with its
/// (high) PER. Per-frame entry point; never allocates.
pub fn select_rate(snr_20mhz_db: f64, psdu_len: u32, caps: &RateCaps) -> Selection {
    let format = caps.max_format;
    let gi = if format.allows_gi(caps.gi) {
        caps.gi
    } else {
        GuardInterval::Gi0_8
    };
    let coding = caps.coding.unwrap_or(format.default_coding());
    let max_width = caps.max_width.min(format.max_width());
    let max_nss = caps.max_nss.clamp(1, format.max_nss());
    let max_mcs = caps.max_mcs.min(format.max_mcs());
    let ok_per = caps.max_per;

    let make = |mcs: u8, width: Width, nss: u8| {
        TxVector::new(format, mcs, width, nss, gi)
            .ok()
            .map(|t| t.with_coding(coding))
    };
    // PER of an MCS at (width, nss) regardless of whether the exact VHT
    // combination exists (PER does not depend on the width for OFDM).
    let per_of = |mcs: u8, width: Width, nss: u8, snr: f64| -> f64 {
        match mcs_params(format, mcs) {
            Some(p) => per_mcs(p, coding, nss, snr, psdu_len),
            None => make(mcs, width, nss).map_or(1.0, |t| per(snr, &t, psdu_len)),
        }
    };

    // Highest valid MCS ≤ m at (width, nss) (VHT excludes a few
    // combinations) with its vector.
    let valid_at_or_below = |mut m: u8, width: Width, nss: u8| loop {
        if let Some(t) = make(m, width, nss) {
            return Some((m, t));
        }
        if m == 0 {
            return None;
        }
        m -= 1;
    };

    let mut best: Option<(Selection, f64)> = None;
    let mut consider = |tx: TxVector, p: f64| {
        let sel = Selection {
            tx,
            rate_kbps: tx.data_rate_kbps(),
            per: p,
        };
        let g = sel.goodput_kbps();
        if best.as_ref().is_none_or(|(_, bg)| g > *bg) {
            best = Some((sel, g));
        }
        best.as_ref().map_or(0.0, |(_, bg)| *bg)
    };
    let mut best_goodput = 0.0;
    // Widest first: at high SNR the widest PPDU wins and prunes the rest.
    // The highest passing MCS per NSS at a wider width also passes at a
    // narrower one (more SNR), so it lower-bounds the next search.
    let mut lb_by_nss: [Option<u8>; 16] = [None; 16];
    for width in Width::ALL.into_iter().rev().filter(|w| *w <= max_width) {
        let snr = snr_at_width(snr_20mhz_db, width);
        for nss in 1..=max_nss {
            let slot = usize::from(nss - 1);
            let Some((_, top_tx)) = valid_at_or_below(max_mcs, width, nss) else {
                continue;
            };
            // Prune: not even the top MCS here could beat the best so far.
            if f64::from(top_tx.data_rate_kbps()) <= best_goodput {
                continue;
            }
            // Highest MCS with PER ≤ max_per: probe the top first (the
            // common case on good links), then binary search between the
            // known-passing lower bound and the failing top.
            let p_max = per_of(max_mcs, width, nss, snr);
            let (top, p_top) = if p_max <= ok_per {
                (max_mcs, Some(p_max))
            } else {
                let (mut lo, mut lo_p) = (lb_by_nss[slot].map_or(-1i16, i16::from), None);
                let mut hi = i16::from(max_mcs);
                while hi - lo > 1 {
                    let mid = (lo + hi).div_euclid(2);
                    let p = per_of(mid as u8, width, nss, snr);
                    if p <= ok_per {
                        (lo, lo_p) = (mid, Some(p));
                    } else {
                        hi = mid;
                    }
                }
                if lo < 0 {
                    // Nothing passes; more streams only lower the
                    // per-stream SNR.
                    break;
                }
                (lo as u8, lo_p)
            };
            lb_by_nss[slot] = Some(top);
            // The top valid passing MCS, and the one below it when its
            // rate could still beat the top's expected throughput (PER up
            // to 10 % vs a rate step as small as 8/9, MCS 11 → 12).
            let Some((m1, tx1)) = valid_at_or_below(top, width, nss) else {
                continue;
            };
            let p1 = match p_top {
                Some(p) if m1 == top => p,
                _ => per_of(m1, width, nss, snr),
            };
            best_goodput = consider(tx1, p1);
            if m1 == 0 {
                continue;
            }
            if let Some((m2, tx2)) = valid_at_or_below(m1 - 1, width, nss) {
                if f64::from(tx2.data_rate_kbps()) > f64::from(tx1.data_rate_kbps()) * (1.0 - p1) {
                    best_goodput = consider(tx2, per_of(m2, width, nss, snr));
                }
            }
        }
    }
    if let Some((sel, _)) = best {
        return sel;
    }
    let tx = make(0, Width::W20, 1).unwrap_or_else(|| {
        // Every format allows MCS 0, 1 stream, 20 MHz, 0.8 µs GI.
        TxVector::ofdm(0).unwrap_or_else(|_| unreachable!("6 Mb/s OFDM is always valid"))
    });
    let snr = snr_at_width(snr_20mhz_db, Width::W20);
    Selection {
        tx,
        rate_kbps: tx.data_rate_kbps(),
        per: per(snr, &tx, psdu_len),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_snr_never_lowers_the_rate() {
        for format in [
            PhyFormat::Ofdm,
            PhyFormat::Ht,
            PhyFormat::Vht,
            PhyFormat::He,
            PhyFormat::Eht,
        ] {
            let caps = RateCaps {
                max_format: format,
                max_nss: 4,
                ..RateCaps::default()
            };
            let mut prev = 0.0;
            let mut snr = -5.0;
            while snr < 70.0 {
                let s = select_rate(snr, 1500, &caps);
                assert!(
                    s.goodput_kbps() + 1e-6 >= prev,
                    "{format} at {snr} dB: {:?}",
                    s
                );
                prev = s.goodput_kbps();
                snr += 0.25;
            }
        }
    }

    #[test]
    fn chosen_rate_meets_the_per_ceiling_and_caps() {
        let caps = RateCaps {
            max_width: Width::W160,
            max_nss: 3,
            max_mcs: 11,
            ..RateCaps::default()
        };
        for snr10 in 0..600 {
            let snr = f64::from(snr10) / 10.0;
            let s = select_rate(snr, 4096, &caps);
            if s.tx.mcs() > 0 || s.tx.nss() > 1 || s.tx.width() > Width::W20 {
                assert!(s.per <= 0.1, "{snr}: {s:?}");
            }
            assert!(s.tx.width() <= Width::W160 && s.tx.nss() <= 3 && s.tx.mcs() <= 11);
        }
    }

    #[test]
    fn exhaustive_search_agrees() {
        // Compare with brute force over every candidate, for every format
        // and a few packet lengths.
        for format in PhyFormat::ALL {
            let caps = RateCaps {
                max_format: format,
                max_nss: 4,
                ..RateCaps::default()
            };
            for len in [14, 1500, 65_535] {
                for snr10 in (-100..700).step_by(7) {
                    let snr20 = f64::from(snr10) / 10.0;
                    let got = select_rate(snr20, len, &caps);
                    let mut best = 0.0;
                    for w in Width::ALL {
                        for nss in 1..=4 {
                            for mcs in 0..=format.max_mcs() {
                                let Ok(t) =
                                    TxVector::new(format, mcs, w, nss, GuardInterval::Gi0_8)
                                else {
                                    continue;
                                };
                                let p = per(snr_at_width(snr20, w), &t, len);
                                let g = f64::from(t.data_rate_kbps()) * (1.0 - p);
                                if p <= 0.1 && g > best {
                                    best = g;
                                }
                            }
                        }
                    }
                    if best > 0.0 {
                        assert!(
                            (got.goodput_kbps() - best).abs() < 1e-6 * best,
                            "{format} {len} B at {snr20} dB: {got:?} vs {best}"
                        );
                    } else {
                        assert!(got.per > 0.1, "{format} {len} B at {snr20} dB: {got:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn low_snr_falls_back_to_the_most_robust_rate() {
        let s = select_rate(-20.0, 1500, &RateCaps::default());
        assert_eq!((s.tx.mcs(), s.tx.nss(), s.tx.width()), (0, 1, Width::W20));
        assert!(s.per > 0.9);
    }
}
