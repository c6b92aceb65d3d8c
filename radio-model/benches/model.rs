//! Cost of the radio model per frame: PER, PPDU airtime, rate synthesis, backoff draws.
//!
//! `cargo bench -p hwsim-radio --bench model` prints ns per call for each piece and for the
//! per-frame work of the medium (one PER and one airtime per attempt; rate synthesis is
//! tabulated in the medium, `select_rate` is what a table entry costs to build).

use std::hint::black_box;
use std::time::Instant;

use hwsim_radio::adapt::{select_rate, RateCaps};
use hwsim_radio::airtime::{ack_duration_ns, ppdu_duration_ns};
use hwsim_radio::band::{Band, Width};
use hwsim_radio::noise::snr_at_width;
use hwsim_radio::per::per;
use hwsim_radio::rates::{GuardInterval, PhyFormat, TxVector};
use hwsim_radio::rng::{purpose, RngKey};

/// Runs `f` for about half a second after a warm-up and prints ns per call.
fn bench(name: &str, mut f: impl FnMut(u64) -> f64) {
    let mut sink = 0.0;
    for i in 0..10_000 {
        sink += f(i);
    }
    let mut n = 10_000u64;
    loop {
        let t = Instant::now();
        for i in 0..n {
            sink += f(i);
        }
        let el = t.elapsed();
        if el.as_millis() >= 500 {
            println!("{name:<48} {:>9.1} ns", el.as_nanos() as f64 / n as f64);
            break;
        }
        n *= 2;
    }
    black_box(sink);
}

fn main() {
    let eht = |mcs, width, nss| {
        TxVector::new(PhyFormat::Eht, mcs, width, nss, GuardInterval::Gi0_8).unwrap()
    };
    let v13 = eht(13, Width::W320, 2);
    let v7 = eht(7, Width::W80, 2);
    let ofdm = TxVector::ofdm(7).unwrap();
    let snr = |i: u64| 20.0 + (i % 32) as f64;

    bench("per: EHT MCS 13, 320 MHz, 2 SS, 1500 B", |i| {
        per(snr_at_width(snr(i), Width::W320), &v13, 1500)
    });
    bench("per: EHT MCS 7, 80 MHz, 2 SS, 1500 B", |i| {
        per(snr_at_width(snr(i), Width::W80), &v7, 1500)
    });
    bench("per: OFDM 54 Mb/s, 1500 B", |i| per(snr(i), &ofdm, 1500));
    bench("airtime: EHT MCS 13 320 MHz PPDU, 1500 B", |i| {
        ppdu_duration_ns(&v13, 1400 + (i % 200) as u32, Band::Band6G) as f64
    });
    bench("airtime: OFDM 54 Mb/s PPDU, 1500 B", |i| {
        ppdu_duration_ns(&ofdm, 1400 + (i % 200) as u32, Band::Band5G) as f64
    });
    bench("airtime: ACK after EHT", |_| {
        ack_duration_ns(&v13, Band::Band6G) as f64
    });
    bench("backoff draw (RngKey::below)", |i| {
        RngKey::new(7, 3, i, purpose::BACKOFF).below(1, 16) as f64
    });
    bench("per frame: PER + PPDU + ACK (one attempt, EHT)", |i| {
        let p = per(snr_at_width(snr(i), Width::W320), &v13, 1504);
        let d = ppdu_duration_ns(&v13, 1504, Band::Band6G) + ack_duration_ns(&v13, Band::Band6G);
        p + d as f64
    });
    let caps = RateCaps::default();
    bench("rate synthesis: select_rate (EHT caps, untabulated)", |i| {
        select_rate(snr(i), 1500, &caps).tx.mcs() as f64
    });
}
