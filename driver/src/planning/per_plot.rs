//! `vhost-hwsim plot-per`: PER vs SNR of every EHT MCS as a hand-written SVG (no plotting crate).
//!
//! EHT, 20 MHz, 1 spatial stream, 0.8 µs GI, LDPC (the model's defaults); solid lines for a
//! 1500-byte PSDU, dashed for 4096 bytes. The y axis is logarithmic.

use std::fmt::Write as _;

use hwsim_radio::band::Width;
use hwsim_radio::per::per;
use hwsim_radio::rates::{GuardInterval, PhyFormat, TxVector};

const W: f64 = 920.0;
const H: f64 = 560.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 55.0;
const SNR_RANGE: (f64, f64) = (-5.0, 45.0);
/// log10 of the y range.
const PER_RANGE_LOG: (f64, f64) = (-4.0, 0.0);
const STEP_DB: f64 = 0.1;
const LENGTHS: [(u32, &str); 2] = [(1500, ""), (4096, "6 4")];

/// 14 distinguishable colours (one per MCS).
const COLOURS: [&str; 14] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
];

fn x_of(snr: f64) -> f64 {
    LEFT + (snr - SNR_RANGE.0) / (SNR_RANGE.1 - SNR_RANGE.0) * (W - LEFT - RIGHT)
}

fn y_of(p: f64) -> f64 {
    // Below the axis the line leaves the clipped plot area.
    let l = p.max(1e-12).log10();
    TOP + (PER_RANGE_LOG.1 - l) / (PER_RANGE_LOG.1 - PER_RANGE_LOG.0) * (H - TOP - BOTTOM)
}

/// The figure as SVG text.
pub fn svg() -> String {
    let mut s = String::new();
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<defs><clipPath id="plot"><rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}"/></clipPath></defs>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">PER vs SNR, EHT MCS 0–13, 20 MHz, 1 SS, GI 0.8 µs, LDPC (AWGN model)</text>"#,
        LEFT + pw / 2.0
    );
    // Grid and ticks.
    let mut snr = SNR_RANGE.0;
    while snr <= SNR_RANGE.1 + 1e-9 {
        let x = x_of(snr);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{snr}</text>"##,
            TOP + ph,
            TOP + ph + 16.0
        );
        snr += 5.0;
    }
    for e in (PER_RANGE_LOG.0 as i32)..=(PER_RANGE_LOG.1 as i32) {
        let y = y_of(10f64.powi(e));
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">1e{e}</text>"##,
            LEFT + pw,
            LEFT - 6.0,
            y + 4.0
        );
    }
    let _ = writeln!(
        s,
        r#"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">SNR over the PPDU bandwidth (dB)</text>"#,
        LEFT + pw / 2.0,
        H - 12.0
    );
    let _ = writeln!(
        s,
        r#"<text x="18" y="{:.1}" text-anchor="middle" transform="rotate(-90 18 {:.1})">packet error rate</text>"#,
        TOP + ph / 2.0,
        TOP + ph / 2.0
    );
    // Curves.
    let _ = writeln!(
        s,
        r#"<g clip-path="url(#plot)" fill="none" stroke-width="1.6">"#
    );
    for mcs in 0..=13u8 {
        let Ok(v) = TxVector::new(PhyFormat::Eht, mcs, Width::W20, 1, GuardInterval::Gi0_8) else {
            continue;
        };
        for (len, dash) in LENGTHS {
            let mut points = String::new();
            let steps = ((SNR_RANGE.1 - SNR_RANGE.0) / STEP_DB).round() as u32;
            let floor = 10f64.powf(PER_RANGE_LOG.0);
            for i in 0..=steps {
                let snr = SNR_RANGE.0 + f64::from(i) * STEP_DB;
                let p = per(snr, &v, len);
                // Keep the file small: skip the flat top (PER 1) up to the point where the
                // curve leaves it, and stop once it has left the plot at the bottom.
                let next = per(snr + STEP_DB, &v, len);
                if next >= 0.9999 && i < steps {
                    continue;
                }
                let _ = write!(points, "{:.1},{:.1} ", x_of(snr), y_of(p));
                if p < floor {
                    break;
                }
            }
            let dash_attr = if dash.is_empty() {
                String::new()
            } else {
                format!(r#" stroke-dasharray="{dash}""#)
            };
            let _ = writeln!(
                s,
                r#"<polyline stroke="{}"{dash_attr} points="{}"/>"#,
                COLOURS[usize::from(mcs)],
                points.trim_end()
            );
        }
    }
    let _ = writeln!(s, "</g>");
    // Legend.
    let lx = LEFT + pw + 16.0;
    for (mcs, colour) in COLOURS.iter().enumerate() {
        let y = TOP + 10.0 + 18.0 * mcs as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="2"/><text x="{}" y="{}">MCS {mcs}</text>"#,
            lx + 24.0,
            colour,
            lx + 30.0,
            y + 4.0
        );
    }
    let y = TOP + 10.0 + 18.0 * 15.0;
    let _ = writeln!(
        s,
        r#"<line x1="{lx}" y1="{y}" x2="{}" y2="{y}" stroke="black"/><text x="{}" y="{}">1500 B</text>"#,
        lx + 24.0,
        lx + 30.0,
        y + 4.0
    );
    let y = y + 18.0;
    let _ = writeln!(
        s,
        r#"<line x1="{lx}" y1="{y}" x2="{}" y2="{y}" stroke="black" stroke-dasharray="6 4"/><text x="{}" y="{}">4096 B</text>"#,
        lx + 24.0,
        lx + 30.0,
        y + 4.0
    );
    let _ = writeln!(s, "</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_has_a_curve_per_mcs_and_length() {
        let s = svg();
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert_eq!(s.matches("<polyline").count(), 14 * 2);
    }

    #[test]
    fn axes_map_the_ranges_to_the_plot_area() {
        assert_eq!(x_of(SNR_RANGE.0), LEFT);
        assert_eq!(y_of(1.0), TOP);
        assert!((y_of(1e-4) - (H - BOTTOM)).abs() < 1e-9);
    }
}
