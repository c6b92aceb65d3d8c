//! `vhost-hwsim rates`: a PHY format's MCS table with data rates.

use std::fmt::Write as _;

use hwsim_radio::band::Width;
use hwsim_radio::rates::{data_rate_kbps, GuardInterval, Modulation, PhyFormat};

/// The MCS table of `format` at `width`, `nss` streams and guard interval `gi`, one line per
/// MCS (combinations the standard excludes are marked).
pub fn table(format: PhyFormat, width: Width, nss: u8, gi: GuardInterval) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{format}, {width}, {nss} SS, GI {gi}");
    let _ = writeln!(
        out,
        "{:>4}  {:<10} {:>5}  {:>10}",
        "MCS", "modulation", "code", "Mb/s"
    );
    for mcs in 0..=format.max_mcs() {
        let (modulation, code) = match hwsim_radio::rates::mcs_params(format, mcs) {
            Some(p) => (
                modulation_name(p.modulation),
                format!("{}/{}", p.rate.num, p.rate.den),
            ),
            None => ("DSSS/CCK", "-".to_string()),
        };
        let rate = match data_rate_kbps(format, mcs, width, nss, gi) {
            Ok(kbps) => format!("{:.1}", f64::from(kbps) / 1000.0),
            Err(_) => "n/a".to_string(),
        };
        let _ = writeln!(out, "{mcs:>4}  {modulation:<10} {code:>5}  {rate:>10}");
    }
    out
}

/// Short name of a constellation.
pub fn modulation_name(m: Modulation) -> &'static str {
    match m {
        Modulation::Bpsk => "BPSK",
        Modulation::Qpsk => "QPSK",
        Modulation::Qam16 => "16-QAM",
        Modulation::Qam64 => "64-QAM",
        Modulation::Qam256 => "256-QAM",
        Modulation::Qam1024 => "1024-QAM",
        Modulation::Qam4096 => "4096-QAM",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eht_320_table_has_the_standard_top_rate() {
        let t = table(PhyFormat::Eht, Width::W320, 1, GuardInterval::Gi0_8);
        // 802.11be: MCS 13, 320 MHz, 1 SS, 0.8 µs GI = 2882.4 Mb/s.
        assert!(
            t.lines()
                .any(|l| l.trim_start().starts_with("13") && l.ends_with("2882.4")),
            "{t}"
        );
        assert!(t
            .lines()
            .any(|l| l.trim_start().starts_with("0 ") && l.contains("BPSK")));
    }

    #[test]
    fn excluded_combinations_are_marked() {
        let t = table(PhyFormat::Vht, Width::W20, 1, GuardInterval::Gi0_8);
        assert!(
            t.lines()
                .any(|l| l.trim_start().starts_with("9") && l.ends_with("n/a")),
            "{t}"
        );
    }
}
