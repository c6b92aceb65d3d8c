//! Rate synthesis looked up rather than searched per frame.
//!
//! `adapt::select_rate` costs up to a few microseconds; a link's synthesised rate depends only on
//! its caps and its median SNR, so the selection is tabulated once per distinct caps on a 0.5 dB
//! grid. Lookups round the SNR *down* to the grid, so the chosen rate still meets the PER ceiling
//! at the true SNR (PER is monotone in SNR).

use hwsim_radio::adapt::{select_rate, RateCaps, Selection};

/// Lowest tabulated SNR (dB, 20 MHz reference); below it the most robust rate is used.
const SNR_MIN_DB: f64 = -10.0;
/// Grid step, dB.
const SNR_STEP_DB: f64 = 0.5;
/// Grid points: −10 … 80 dB, above which every caps set has reached its top rate.
const STEPS: usize = 181;
/// PSDU length the rate is chosen for: a full-size Ethernet payload, what rate control
/// optimises for; the PER of each frame is then computed at its own length.
pub const REFERENCE_PSDU_LEN: u32 = 1500;

/// The selections of one caps set over the SNR grid.
pub struct RateTable {
    caps: RateCaps,
    entries: Box<[Selection]>,
}

impl RateTable {
    /// Tabulates `caps` (≈ 0.5 ms).
    pub fn new(caps: RateCaps) -> RateTable {
        let entries = (0..STEPS)
            .map(|i| select_rate(grid_snr(i), REFERENCE_PSDU_LEN, &caps))
            .collect();
        RateTable { caps, entries }
    }

    /// The caps this table was built for.
    pub fn caps(&self) -> &RateCaps {
        &self.caps
    }

    /// The selection for `snr_20mhz_db`, rounded down to the grid. No allocation.
    pub fn lookup(&self, snr_20mhz_db: f64) -> &Selection {
        let pos = ((snr_20mhz_db - SNR_MIN_DB) / SNR_STEP_DB).floor();
        // NaN and anything below the grid take the most robust entry.
        let i = if pos >= 0.0 { pos as usize } else { 0 };
        &self.entries[i.min(self.entries.len() - 1)]
    }
}

fn grid_snr(i: usize) -> f64 {
    SNR_MIN_DB + SNR_STEP_DB * i as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use hwsim_radio::noise::snr_at_width;
    use hwsim_radio::per::per;

    #[test]
    fn lookup_meets_the_per_ceiling_at_the_true_snr() {
        let t = RateTable::new(RateCaps::default());
        let mut snr = -3.0;
        while snr < 75.0 {
            let s = t.lookup(snr);
            let p = per(snr_at_width(snr, s.tx.width()), &s.tx, REFERENCE_PSDU_LEN);
            if s.tx.mcs() > 0 || s.tx.nss() > 1 {
                assert!(p <= 0.1, "{snr} dB: {s:?} has PER {p}");
            }
            snr += 0.13;
        }
    }

    #[test]
    fn out_of_grid_and_nan_are_clamped() {
        let t = RateTable::new(RateCaps::default());
        assert_eq!(t.lookup(f64::NAN), t.lookup(-50.0));
        assert_eq!(t.lookup(1e9).tx.mcs(), 13);
        assert_eq!(t.lookup(-1e9).tx.mcs(), 0);
    }
}
