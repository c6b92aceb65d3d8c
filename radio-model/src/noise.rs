//! Thermal noise, SNR and SINR.

use crate::band::Width;
use crate::math::{db_to_lin, lin_to_db};

/// Thermal noise density kT at T0 = 290 K: 10·log10(1.380649e-23 · 290 ·
/// 1000) = −173.98 dBm/Hz, conventionally −174 dBm/Hz.
pub const THERMAL_NOISE_DBM_PER_HZ: f64 = -174.0;

/// Default receiver noise figure (dB).
///
/// 7 dB: a typical integrated Wi-Fi front end (5–7 dB) and the default of
/// ns-3's `WifiPhy::RxNoiseFigure`. The standard's receiver minimum input
/// sensitivities (e.g. the EHT table of IEEE 802.11be-2024 cl. 36) assume
/// 10 dB NF plus 5 dB implementation margin, so a 7 dB receiver meets them
/// with room to spare.
pub const DEFAULT_NOISE_FIGURE_DB: f64 = 7.0;

/// Noise floor (dBm): −174 dBm/Hz + 10·log10(bandwidth in Hz) + NF.
/// 20 MHz with 7 dB NF gives −93.99 dBm.
pub fn noise_floor_dbm(bandwidth_mhz: f64, noise_figure_db: f64) -> f64 {
    THERMAL_NOISE_DBM_PER_HZ + 10.0 * (bandwidth_mhz * 1e6).log10() + noise_figure_db
}

/// Noise floor (dBm) over a channel width.
pub fn noise_floor_for(width: Width, noise_figure_db: f64) -> f64 {
    noise_floor_dbm(f64::from(width.mhz()), noise_figure_db)
}

/// dBm → mW.
pub fn dbm_to_mw(dbm: f64) -> f64 {
    db_to_lin(dbm)
}

/// mW → dBm (−∞ for 0 mW).
pub fn mw_to_dbm(mw: f64) -> f64 {
    lin_to_db(mw)
}

/// SNR (dB) of a signal over the noise floor.
pub fn snr_db(signal_dbm: f64, noise_dbm: f64) -> f64 {
    signal_dbm - noise_dbm
}

/// SINR (dB): signal over noise plus every interferer, powers summed in mW.
/// Never allocates.
pub fn sinr_db(signal_dbm: f64, noise_dbm: f64, interferers_dbm: &[f64]) -> f64 {
    sinr_db_iter(signal_dbm, noise_dbm, interferers_dbm.iter().copied())
}

/// [`sinr_db`] over any iterator of interferer powers (dBm).
pub fn sinr_db_iter(
    signal_dbm: f64,
    noise_dbm: f64,
    interferers_dbm: impl IntoIterator<Item = f64>,
) -> f64 {
    let i_mw: f64 = interferers_dbm.into_iter().map(dbm_to_mw).sum();
    signal_dbm - mw_to_dbm(dbm_to_mw(noise_dbm) + i_mw)
}

/// SNR at `width` given the SNR over 20 MHz, for a fixed total transmit
/// power: the noise grows by 10·log10(W/20) while the signal power does
/// not.
pub fn snr_at_width(snr_20mhz_db: f64, width: Width) -> f64 {
    snr_20mhz_db - 10.0 * f64::from(width.subchannels()).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_floor_values() {
        // −174 + 10·log10(20e6) = −174 + 73.01 = −100.99 dBm, + 7 dB NF.
        assert!((noise_floor_dbm(20.0, 7.0) - (-93.990)).abs() < 1e-3);
        // 320 MHz: 10·log10(320e6) = 85.05 → −88.95 dBm at 0 dB NF.
        assert!((noise_floor_for(Width::W320, 0.0) - (-88.949)).abs() < 1e-3);
    }

    #[test]
    fn sinr_sums_in_milliwatts() {
        // Two −90 dBm interferers on a −90 dBm floor: 3× the noise power →
        // SINR = S − (−90 + 4.771).
        let s = sinr_db(-60.0, -90.0, &[-90.0, -90.0]);
        assert!((s - (30.0 - 4.771_212_5)).abs() < 1e-6);
        assert_eq!(sinr_db(-60.0, -90.0, &[]), snr_db(-60.0, -90.0));
    }
}
