//! `vhost-hwsim budget`: the median link budget between every ordered pair of nodes per band.

use std::fmt::Write as _;

use hwsim_radio::band::Band;
use hwsim_radio::noise::snr_at_width;
use hwsim_radio::per::per;

use crate::config::Config;
use crate::medium::RadioMedium;

/// Frequency each band is evaluated at: a mid-band 20 MHz channel (2.4 GHz ch 6, 5 GHz ch 100,
/// 6 GHz ch 117); path loss varies by about 1 dB across a band.
pub const REFERENCE_FREQS: [(Band, u16, u32); 3] = [
    (Band::Band2G4, 6, 2437),
    (Band::Band5G, 100, 5500),
    (Band::Band6G, 117, 6535),
];

/// PSDU length the PER column is given for.
pub const BUDGET_PSDU_LEN: u32 = 1500;

/// The budget report of a config.
pub fn report(cfg: &Config) -> String {
    let medium = RadioMedium::new(cfg);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "path loss: {:?}; fading: {:?}; PER for {BUDGET_PSDU_LEN} B; rate synthesised for PER ≤ 10 %",
        cfg.path_loss, cfg.fading
    );
    if medium.node_count() < 2 {
        let _ = writeln!(out, "(fewer than two nodes: no links)");
    }
    for (band, ch, freq) in REFERENCE_FREQS {
        let _ = writeln!(out, "\n{band} (ch {ch}, {freq} MHz)");
        let _ = writeln!(
            out,
            "{:<12} {:<12} {:>8} {:>8} {:>8} {:>7}  {:<4} {:>3} {:>4} {:>5} {:>9} {:>9}",
            "from",
            "to",
            "dist m",
            "loss dB",
            "sig dBm",
            "SNR dB",
            "PHY",
            "MCS",
            "NSS",
            "MHz",
            "rate Mb/s",
            "PER"
        );
        for t in 0..medium.node_count() {
            for r in (0..medium.node_count()).filter(|&r| r != t) {
                let b = medium.link_budget(t, r, freq);
                let sel = RadioMedium::synthesise(&b, BUDGET_PSDU_LEN);
                let p = per(
                    snr_at_width(b.snr_db, sel.tx.width()),
                    &sel.tx,
                    BUDGET_PSDU_LEN,
                );
                // Below 1e-9 the exact value means nothing to a planner.
                let per_text = if p < 1e-9 {
                    "<1e-9".to_string()
                } else {
                    format!("{p:.2e}")
                };
                let _ = writeln!(
                    out,
                    "{:<12} {:<12} {:>8.1} {:>8.1} {:>8.1} {:>7.1}  {:<4} {:>3} {:>4} {:>5} {:>9.1} {:>9}",
                    medium.node_name(t),
                    medium.node_name(r),
                    b.distance_m,
                    b.path_loss_db,
                    b.signal_dbm,
                    b.snr_db,
                    sel.tx.format().to_string(),
                    sel.tx.mcs(),
                    sel.tx.nss(),
                    sel.tx.width().mhz(),
                    f64::from(sel.rate_kbps) / 1000.0,
                    per_text
                );
            }
        }
    }
    out
}
