//! Validation against published numbers and hand calculations.
//!
//! Every expected value below is computed in the comment from the formula or
//! quoted from the standard's tables, never from this crate's output.

use hwsim_radio::airtime::{
    ack_duration_ns, aifs_us, block_ack_duration_ns, default_edca, difs_us, ppdu_duration_ns,
    ppdu_duration_ns_with, sifs_us, slot_us, AccessCategory, PpduOptions,
};
use hwsim_radio::band::{band_of, overlaps, Band, Channel, Width};
use hwsim_radio::noise::{noise_floor_for, DEFAULT_NOISE_FIGURE_DB};
use hwsim_radio::pathloss::{
    free_space_db, log_distance_db, p1238_db, tgax_db, ItuP1238, LogDistance, P1238Environment,
    PathLossModel, Position, TgaxEnterprise, TgaxResidential,
};
use hwsim_radio::per::per;
use hwsim_radio::rates::{data_rate_kbps, Coding, GuardInterval, PhyFormat, TxVector};
use hwsim_radio::rng::RngKey;

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} ± {tol}"
    );
}

// ---------------------------------------------------------------- path loss

#[test]
fn free_space_by_hand() {
    // FSPL = 20·log10(4π·d·f/c), c = 299 792 458 m/s.
    // 1 m, 2400 MHz: 4π·2.4e9/c = 100.60 → 20·log10 = 40.05 dB (the TGax
    // constant).
    close(
        free_space_db(1.0, 2400.0),
        40.05,
        0.005,
        "FSPL 1 m 2400 MHz",
    );
    // 1 m, 2412 MHz: 4π·2.412e9/c = 101.10 → 40.09 dB.
    close(
        free_space_db(1.0, 2412.0),
        40.094,
        0.005,
        "FSPL 1 m 2412 MHz",
    );
    // 10 m, 5180 MHz: 4π·10·5.18e9/c = 2171.3 → 66.73 dB.
    close(
        free_space_db(10.0, 5180.0),
        66.734,
        0.005,
        "FSPL 10 m 5180 MHz",
    );
    // 100 m, 5975 MHz (6 GHz ch 5): 4π·100·5.975e9/c = 25 045 → 87.97 dB.
    close(
        free_space_db(100.0, 5975.0),
        87.975,
        0.005,
        "FSPL 100 m 5975 MHz",
    );
}

#[test]
fn log_distance_by_hand() {
    // d0 = 1 m, n = 3.5, f = 5180 MHz, d = 20 m:
    // FSPL(1 m) = 46.734 dB; + 35·log10(20) = 45.536 → 92.270 dB.
    close(
        log_distance_db(20.0, 5180.0, 1.0, 3.5),
        92.270,
        0.005,
        "log-distance 20 m",
    );
    // With σ = 4 dB and a +1.5 standard normal draw: + 6 dB.
    let m = PathLossModel::LogDistance(LogDistance {
        ref_distance_m: 1.0,
        exponent: 3.5,
        shadowing_sigma_db: 4.0,
    });
    let l = m.loss_db(
        Position::new(0.0, 0.0, 0.0),
        Position::new(12.0, 16.0, 0.0),
        5180.0,
        1.5,
    );
    close(l, 98.270, 0.005, "log-distance with shadowing");
}

#[test]
fn tgax_residential_by_hand() {
    // PL = 40.05 + 20·log10(fc/2.4) + 20·log10(min(d, 5)) + (d>5)·35·log10(d/5)
    //      + 18.3·F^((F+2)/(F+1) − 0.46) + 5·W   (11-14/0980r16)
    // 5 m, 5 GHz: 40.05 + 20·log10(5/2.4) = 6.375 + 20·log10(5) = 13.979
    //   = 60.404 dB (at the breakpoint: no 35·log10 term).
    close(
        tgax_db(5.0, 5000.0, 5.0, 0, 5.0, 0),
        60.404,
        0.005,
        "TGax res 5 m",
    );
    // 20 m, 5 GHz, beyond the breakpoint: 60.404 + 35·log10(4) = 21.072
    //   = 81.476 dB.
    close(
        tgax_db(20.0, 5000.0, 5.0, 0, 5.0, 0),
        81.476,
        0.005,
        "TGax res 20 m",
    );
    // Same with 2 walls (+10) and 1 floor (18.3·1^1.04 = 18.3): 109.776 dB.
    close(
        tgax_db(20.0, 5000.0, 5.0, 2, 5.0, 1),
        109.776,
        0.005,
        "TGax res 20 m, 2 walls, 1 floor",
    );
    // 2 floors: 18.3·2^(4/3 − 0.46) = 18.3·2^0.8733 = 18.3·1.8320 = 33.52 dB.
    close(
        tgax_db(20.0, 5000.0, 5.0, 0, 5.0, 2) - 81.476,
        33.525,
        0.01,
        "TGax 2 floors",
    );
    // Through positions: (1, 1) → (1, 21) on the 10 m apartment grid
    // crosses 2 walls: 81.476 + 10 = 91.476 dB.
    let m = PathLossModel::TgaxResidential(TgaxResidential::default());
    let l = m.median_loss_db(
        Position::new(1.0, 1.0, 1.5),
        Position::new(1.0, 21.0, 1.5),
        5000.0,
    );
    close(l, 91.476, 0.005, "TGax res from positions");
    // d < 1 m is taken as 1 m: 40.05 + 6.375 = 46.425 dB.
    close(
        tgax_db(0.2, 5000.0, 5.0, 0, 5.0, 0),
        46.425,
        0.005,
        "TGax res d clamp",
    );
}

#[test]
fn tgax_enterprise_by_hand() {
    // PL = 40.05 + 20·log10(fc/2.4) + 20·log10(min(d, 10)) + (d>10)·35·log10(d/10) + 7·W
    // 20 m, 5180 MHz, 1 office wall: 40.05 + 6.683 + 20 + 10.536 + 7 = 84.269 dB.
    let m = PathLossModel::TgaxEnterprise(TgaxEnterprise::default());
    let l = m.median_loss_db(
        Position::new(5.0, 5.0, 0.0),
        Position::new(25.0, 5.0, 0.0),
        5180.0,
    );
    close(l, 84.269, 0.005, "TGax enterprise 20 m 1 wall");
    // 8 m, 2437 MHz, no wall: 40.05 + 20·log10(2.437/2.4) = 0.133 + 18.062 = 58.245 dB.
    close(
        tgax_db(8.0, 2437.0, 10.0, 0, 7.0, 0),
        58.245,
        0.005,
        "TGax enterprise 8 m",
    );
}

#[test]
fn itu_p1238_by_hand() {
    // L = 20·log10(f_MHz) + N·log10(d) + Lf(n) − 28 (ITU-R P.1238).
    // Office, 2.4 GHz (N = 30), 10 m, same floor: 67.604 + 30 − 28 = 69.604 dB.
    close(
        p1238_db(10.0, 2400.0, P1238Environment::Office, 0),
        69.604,
        0.005,
        "P.1238 office 2.4",
    );
    // One floor apart (Lf = 14 dB at 2.4 GHz, office): 83.604 dB.
    close(
        p1238_db(10.0, 2400.0, P1238Environment::Office, 1),
        83.604,
        0.005,
        "P.1238 office 2.4 1 floor",
    );
    // Office, 5.2 GHz (N = 31), 20 m: 74.320 + 31·1.30103 = 40.332 − 28 = 86.652 dB.
    close(
        p1238_db(20.0, 5200.0, P1238Environment::Office, 0),
        86.652,
        0.005,
        "P.1238 office 5.2",
    );
    // Residential (apartment) 5.2 GHz (N = 30, Lf(1) = 13), 10 m, 1 floor:
    // 74.320 + 30 + 13 − 28 = 89.320 dB.
    close(
        p1238_db(10.0, 5200.0, P1238Environment::Residential, 1),
        89.320,
        0.005,
        "P.1238 res 5.2",
    );
    // Through positions: z 1 m → 4 m on 3 m floors = 1 floor, d = 10 m
    // (dx = 9.539, dz = 3): 69.604 + 14 = 83.604 dB at 2400 MHz.
    let m = PathLossModel::ItuP1238(ItuP1238::default());
    let dx = (100.0f64 - 9.0).sqrt();
    let l = m.median_loss_db(
        Position::new(0.0, 0.0, 1.0),
        Position::new(dx, 0.0, 4.0),
        2400.0,
    );
    close(l, 83.604, 0.005, "P.1238 from positions");
}

// -------------------------------------------------------------------- rates

fn rate(format: PhyFormat, mcs: u8, width: Width, nss: u8, gi: GuardInterval) -> f64 {
    f64::from(data_rate_kbps(format, mcs, width, nss, gi).unwrap()) / 1000.0
}

#[test]
fn data_rates_match_the_standards_tables() {
    use GuardInterval::*;
    use PhyFormat::*;
    // 802.11be EHT-MCS tables: MCS 13, 320 MHz (3920 tones), 1 SS, 0.8 µs:
    // 3920·12·5/6 = 39 200 bits / 13.6 µs = 2882.4 Mb/s.
    close(
        rate(Eht, 13, Width::W320, 1, Gi0_8),
        2882.4,
        0.05,
        "EHT MCS13 320 1SS",
    );
    // MCS 0, 20 MHz (234 tones), 1 SS, 0.8 µs: 117 / 13.6 = 8.6 Mb/s.
    close(
        rate(Eht, 0, Width::W20, 1, Gi0_8),
        8.6,
        0.05,
        "EHT MCS0 20 1SS",
    );
    // 16 SS headline figure: 16 × 2882.35 = 46 117.6 Mb/s.
    close(
        rate(Eht, 13, Width::W320, 16, Gi0_8),
        46_117.6,
        0.1,
        "EHT MCS13 320 16SS",
    );
    // EHT MCS 12, 160 MHz, 2 SS, 3.2 µs: 1960·12·3/4·2 = 35 280 / 16 = 2205.0.
    close(
        rate(Eht, 12, Width::W160, 2, Gi3_2),
        2205.0,
        0.05,
        "EHT MCS12 160 2SS 3.2",
    );
    // 802.11ax HE-MCS tables: MCS 11, 80 MHz, 2 SS, 0.8 µs: 1201.0 Mb/s;
    // 1 SS: N_DBPS = floor(8166.7) = 8166 → 600.4 Mb/s.
    close(
        rate(He, 11, Width::W80, 2, Gi0_8),
        1201.0,
        0.05,
        "HE MCS11 80 2SS",
    );
    close(
        rate(He, 11, Width::W80, 1, Gi0_8),
        600.4,
        0.05,
        "HE MCS11 80 1SS",
    );
    // HE MCS 0, 20 MHz, 1 SS, 3.2 µs: 117 / 16 = 7.3 Mb/s.
    close(
        rate(He, 0, Width::W20, 1, Gi3_2),
        7.3,
        0.05,
        "HE MCS0 20 3.2",
    );
    // 802.11ac VHT: MCS 9, 80 MHz, 1 SS, short GI: 1560 / 3.6 = 433.3 Mb/s;
    // MCS 9, 160 MHz, 8 SS, short GI: 6933.3 Mb/s.
    close(
        rate(Vht, 9, Width::W80, 1, Gi0_4),
        433.3,
        0.05,
        "VHT MCS9 80 1SS SGI",
    );
    close(
        rate(Vht, 9, Width::W160, 8, Gi0_4),
        6933.3,
        0.05,
        "VHT MCS9 160 8SS SGI",
    );
    // 802.11n HT: MCS 7, 20 MHz, long GI: 260 / 4 = 65.0; short GI: 72.2;
    // MCS 15 (7 × 2 SS), 40 MHz, short GI: 540 / 3.6 = 150 × 2 = 300.0.
    close(
        rate(Ht, 7, Width::W20, 1, Gi0_8),
        65.0,
        1e-9,
        "HT MCS7 20 LGI",
    );
    close(
        rate(Ht, 7, Width::W20, 1, Gi0_4),
        72.2,
        0.05,
        "HT MCS7 20 SGI",
    );
    close(
        rate(Ht, 7, Width::W40, 2, Gi0_4),
        300.0,
        1e-9,
        "HT MCS15 40 SGI",
    );
    // Legacy OFDM: 48·6·3/4 = 216 bits / 4 µs = 54; 48·1·1/2 / 4 = 6.
    close(rate(Ofdm, 7, Width::W20, 1, Gi0_8), 54.0, 1e-9, "OFDM 54");
    close(rate(Ofdm, 0, Width::W20, 1, Gi0_8), 6.0, 1e-9, "OFDM 6");
    // DSSS/CCK: 1, 2, 5.5, 11 Mb/s.
    close(rate(Dsss, 2, Width::W20, 1, Gi0_8), 5.5, 1e-9, "CCK 5.5");
    close(rate(Dsss, 3, Width::W20, 1, Gi0_8), 11.0, 1e-9, "CCK 11");
}

// -------------------------------------------------------------- sensitivity

/// EHT receiver minimum input sensitivity at 20 MHz, MCS 0–13 (dBm), from
/// 802.11be; +3 dB per doubling of the width.
const EHT_SENSITIVITY_20MHZ: [f64; 14] = [
    -82.0, -79.0, -77.0, -74.0, -70.0, -66.0, -65.0, -64.0, -59.0, -57.0, -54.0, -52.0, -49.0,
    -46.0,
];

fn sensitivity(mcs: u8, width: Width) -> f64 {
    let doublings = f64::from(width.subchannels()).log2();
    EHT_SENSITIVITY_20MHZ[usize::from(mcs)] + 3.0 * doublings
}

#[test]
fn sensitivity_rule_holds_for_every_eht_mcs_and_width() {
    // At the minimum sensitivity with the default noise figure (7 dB) a
    // 4096-byte PSDU must have PER ≤ 10 %.
    for width in Width::ALL {
        let noise = noise_floor_for(width, DEFAULT_NOISE_FIGURE_DB);
        for mcs in 0..=13u8 {
            let snr = sensitivity(mcs, width) - noise;
            let tx = TxVector::new(PhyFormat::Eht, mcs, width, 1, GuardInterval::Gi0_8).unwrap();
            let p = per(snr, &tx, 4096);
            assert!(
                p <= 0.1,
                "EHT MCS {mcs} {width}: SNR {snr:.2} dB, PER {p:.3}"
            );
            // EHT allows BCC only up to 20 MHz and MCS 9 (802.11be 36.3.13.3).
            if width == Width::W20 && mcs <= 9 {
                let p = per(snr, &tx.with_coding(Coding::Bcc), 4096);
                assert!(p <= 0.1, "EHT BCC MCS {mcs}: SNR {snr:.2} dB, PER {p:.3}");
            }
        }
    }
}

#[test]
fn ideal_receiver_fits_the_standards_implementation_budget() {
    // The sensitivities assume NF 10 dB plus 5 dB implementation loss, so an
    // ideal AWGN LDPC receiver must reach PER ≤ 10 % at sensitivity − (NF 10
    // + 5 dB) above the thermal floor. Stricter than the rule above.
    for width in Width::ALL {
        let noise = noise_floor_for(width, 10.0) + 5.0;
        for mcs in 0..=13u8 {
            let snr = sensitivity(mcs, width) - noise;
            let tx = TxVector::new(PhyFormat::Eht, mcs, width, 1, GuardInterval::Gi0_8).unwrap();
            let p = per(snr, &tx, 4096);
            assert!(
                p <= 0.1,
                "EHT MCS {mcs} {width}: SNR {snr:.2} dB, PER {p:.3}"
            );
        }
    }
}

#[test]
fn per_is_not_trivially_zero_at_sensitivity_minus_margin() {
    // The rule is not met vacuously: 12 dB below the 20 MHz MCS 13
    // sensitivity (SNR ≈ 36 dB) a 4096-QAM 5/6 frame of 4096 bytes fails.
    let noise = noise_floor_for(Width::W20, DEFAULT_NOISE_FIGURE_DB);
    let tx = TxVector::new(PhyFormat::Eht, 13, Width::W20, 1, GuardInterval::Gi0_8).unwrap();
    assert!(per(sensitivity(13, Width::W20) - 12.0 - noise, &tx, 4096) > 0.5);
    let tx0 = TxVector::new(PhyFormat::Eht, 0, Width::W20, 1, GuardInterval::Gi0_8).unwrap();
    assert!(per(-3.0, &tx0, 4096) > 0.5);
}

// ----------------------------------------------------------- PER monotonicity

fn all_vectors() -> Vec<TxVector> {
    let mut v = Vec::new();
    for mcs in 0..4 {
        v.push(TxVector::dsss(mcs).unwrap());
    }
    for format in [
        PhyFormat::Ofdm,
        PhyFormat::Ht,
        PhyFormat::Vht,
        PhyFormat::He,
        PhyFormat::Eht,
    ] {
        for mcs in 0..=format.max_mcs() {
            for nss in 1..=4u8.min(format.max_nss()) {
                for coding in [Coding::Bcc, Coding::Ldpc] {
                    let w = if format == PhyFormat::Vht {
                        Width::W40
                    } else {
                        Width::W20
                    };
                    if let Ok(t) = TxVector::new(format, mcs, w, nss, GuardInterval::Gi0_8) {
                        v.push(t.with_coding(coding));
                    }
                }
            }
        }
    }
    v
}

#[test]
fn per_is_monotone_in_snr_and_length() {
    let lengths = [1u32, 14, 100, 1500, 4096, 65_535, 1_000_000];
    for tx in all_vectors() {
        let mut prev_by_len = [f64::INFINITY; 7];
        let mut snr = -15.0;
        while snr <= 60.0 {
            let mut prev_len = -1.0;
            for (i, &len) in lengths.iter().enumerate() {
                let p = per(snr, &tx, len);
                assert!((0.0..=1.0).contains(&p), "{tx:?} {snr} {len}: {p}");
                assert!(
                    p >= prev_len,
                    "not monotone in length: {tx:?} at {snr} dB, {len} B"
                );
                assert!(
                    p <= prev_by_len[i],
                    "not monotone in SNR: {tx:?} at {snr} dB, {len} B"
                );
                prev_len = p;
                prev_by_len[i] = p;
            }
            snr += 0.1;
        }
    }
}

#[test]
fn required_snr_grows_with_mcs() {
    // Rate synthesis relies on this ordering.
    use hwsim_radio::per::required_snr_db;
    for format in [
        PhyFormat::Dsss,
        PhyFormat::Ofdm,
        PhyFormat::Vht,
        PhyFormat::Eht,
    ] {
        for coding in [Coding::Bcc, Coding::Ldpc] {
            for len in [14, 1500, 65_535] {
                let mut prev = f64::NEG_INFINITY;
                for mcs in 0..=format.max_mcs() {
                    let w = if format == PhyFormat::Vht {
                        Width::W40
                    } else {
                        Width::W20
                    };
                    let tx = TxVector::new(format, mcs, w, 1, GuardInterval::Gi0_8)
                        .unwrap()
                        .with_coding(coding);
                    let s = required_snr_db(&tx, len, 0.1);
                    assert!(
                        s > prev,
                        "{format} {coding:?} {len} B MCS {mcs}: {s} ≤ {prev}"
                    );
                    prev = s;
                }
            }
        }
    }
}

// ------------------------------------------------------------------ airtime

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

#[test]
fn legacy_airtime_by_hand() {
    let r54 = TxVector::ofdm(7).unwrap();
    // OFDM: 16 + 4 + 4·⌈(16 + 8L + 6)/N_DBPS⌉, N_DBPS = 216 at 54 Mb/s.
    // L = 1500: ⌈12 022/216⌉ = ⌈55.66⌉ = 56 → 20 + 224 = 244 µs.
    assert_eq!(us(ppdu_duration_ns(&r54, 1500, Band::Band5G)), 244.0);
    // L = 1536 (1500-byte MSDU + 24 MAC header + 8 LLC/SNAP + 4 FCS):
    // ⌈12 310/216⌉ = ⌈56.99⌉ = 57 → 248 µs; in 2.4 GHz + 6 µs signal extension.
    assert_eq!(us(ppdu_duration_ns(&r54, 1536, Band::Band5G)), 248.0);
    assert_eq!(us(ppdu_duration_ns(&r54, 1536, Band::Band2G4)), 254.0);
    // ACK (14 B) at 6 Mb/s: ⌈134/24⌉ = 6 → 44 µs; at 24 Mb/s ⌈134/96⌉ = 2 → 28 µs.
    assert_eq!(
        us(ppdu_duration_ns(
            &TxVector::ofdm(0).unwrap(),
            14,
            Band::Band5G
        )),
        44.0
    );
    assert_eq!(us(ack_duration_ns(&r54, Band::Band5G)), 28.0);
    // DSSS long preamble 192 µs + ⌈8·1500/11⌉ = 1091 → 1283 µs;
    // 1 Mb/s: 192 + 12 000 = 12 192 µs; 2 Mb/s short preamble: 96 + 6000.
    assert_eq!(
        us(ppdu_duration_ns(
            &TxVector::dsss(3).unwrap(),
            1500,
            Band::Band2G4
        )),
        1283.0
    );
    assert_eq!(
        us(ppdu_duration_ns(
            &TxVector::dsss(0).unwrap(),
            1500,
            Band::Band2G4
        )),
        12_192.0
    );
    let short = PpduOptions {
        dsss_short_preamble: true,
        ..PpduOptions::default()
    };
    assert_eq!(
        us(ppdu_duration_ns_with(
            &TxVector::dsss(1).unwrap(),
            1500,
            Band::Band2G4,
            &short
        )),
        6096.0
    );
    // ACK to an 11 Mb/s frame goes at 2 Mb/s: 192 + 56 = 248 µs.
    assert_eq!(
        us(ack_duration_ns(&TxVector::dsss(3).unwrap(), Band::Band2G4)),
        248.0
    );
}

#[test]
fn ht_vht_airtime_by_hand() {
    // HT-mixed MCS 7, 20 MHz, 1500 B: preamble 16 + 4 + 8 + 4 + 4·1 = 36;
    // N_SYM = ⌈(12 000 + 16 + 6)/260⌉ = ⌈46.24⌉ = 47.
    // Long GI: 36 + 188 = 224 µs; short GI: 36 + 4·⌈3.6·47/4⌉ = 36 + 4·43 = 208 µs.
    let ht = |gi| TxVector::new(PhyFormat::Ht, 7, Width::W20, 1, gi).unwrap();
    assert_eq!(
        us(ppdu_duration_ns(
            &ht(GuardInterval::Gi0_8),
            1500,
            Band::Band5G
        )),
        224.0
    );
    assert_eq!(
        us(ppdu_duration_ns(
            &ht(GuardInterval::Gi0_4),
            1500,
            Band::Band5G
        )),
        208.0
    );
    // VHT MCS 9, 80 MHz, 1 SS, short GI, 1500 B: preamble 16 + 4 + 8 + 4 + 4
    // + 4 (SIG-B) = 40; N_SYM = ⌈12 022/1560⌉ = 8; data 4·⌈28.8/4⌉ = 32 → 72 µs.
    let vht = TxVector::new(PhyFormat::Vht, 9, Width::W80, 1, GuardInterval::Gi0_4).unwrap();
    assert_eq!(us(ppdu_duration_ns(&vht, 1500, Band::Band5G)), 72.0);
}

#[test]
fn he_eht_airtime_by_hand() {
    // HE SU MCS 11, 80 MHz, 2 SS, 0.8 µs, 1500 B, 16 µs nominal padding:
    // preamble 20 + 4 + 8 + 4 + 2·(6.4 + 0.8) = 50.4 µs;
    // N_DBPS = floor(980·10·2·5/6) = 16 333, 8·1500 + 16 = 12 016 bits → 1 symbol
    // (13.6 µs); N_excess = 12 016, N_DBPS,short = 240·10·2·5/6 = 4000 →
    // a = min(⌈3.004⌉, 4) = 4 → T_PE = 16 µs. Total 80.0 µs.
    let he = TxVector::new(PhyFormat::He, 11, Width::W80, 2, GuardInterval::Gi0_8).unwrap();
    close(
        us(ppdu_duration_ns(&he, 1500, Band::Band5G)),
        80.0,
        1e-9,
        "HE SU",
    );
    // EHT SU MCS 13, 320 MHz, 1 SS, 0.8 µs, 1500 B: preamble 20 + 4 + 8
    // (U-SIG) + 8 (2 EHT-SIG) + 4 + 7.2 = 51.2; N_DBPS = 39 200 → 1 symbol;
    // N_DBPS,short = 984·12·5/6 = 9840 → a = ⌈12 016/9840⌉ = 2 → T_PE = 8.
    // Total 51.2 + 13.6 + 8 = 72.8 µs.
    let eht = TxVector::new(PhyFormat::Eht, 13, Width::W320, 1, GuardInterval::Gi0_8).unwrap();
    close(
        us(ppdu_duration_ns(&eht, 1500, Band::Band6G)),
        72.8,
        1e-9,
        "EHT SU 320",
    );
    // EHT MCS 0, 20 MHz, 1 SS, 100 B: N_DBPS = 117, 816 bits → ⌈6.97⌉ = 7
    // symbols = 95.2 µs; N_excess = 816 − 702 = 114, N_DBPS,short = 30 →
    // a = 4 → 16 µs. Total 51.2 + 95.2 + 16 = 162.4 µs.
    let eht0 = TxVector::new(PhyFormat::Eht, 0, Width::W20, 1, GuardInterval::Gi0_8).unwrap();
    close(
        us(ppdu_duration_ns(&eht0, 100, Band::Band6G)),
        162.4,
        1e-9,
        "EHT SU MCS0",
    );
    // Block Ack (32 B, 64-bit bitmap) at 24 Mb/s: ⌈(16 + 256 + 6)/96⌉ = 3 → 32 µs.
    close(
        us(block_ack_duration_ns(&eht, 64, Band::Band6G)),
        32.0,
        1e-9,
        "BA",
    );
}

#[test]
fn interframe_spaces() {
    // 5/6 GHz: SIFS 16, slot 9, DIFS 34, AIFS[BE] = 16 + 3·9 = 43, AIFS[BK] = 79.
    assert_eq!(sifs_us(Band::Band6G), 16);
    assert_eq!(slot_us(Band::Band5G, false), 9);
    assert_eq!(difs_us(Band::Band5G, false), 34);
    let be = default_edca(AccessCategory::BestEffort, false);
    assert_eq!(aifs_us(Band::Band5G, false, be.aifsn), 43);
    let bk = default_edca(AccessCategory::Background, false);
    assert_eq!(aifs_us(Band::Band6G, true, bk.aifsn), 79);
    // 2.4 GHz: SIFS 10, long slot 20 → DIFS 50; short slot 9 → DIFS 28.
    assert_eq!(sifs_us(Band::Band2G4), 10);
    assert_eq!(difs_us(Band::Band2G4, false), 50);
    assert_eq!(difs_us(Band::Band2G4, true), 28);
}

// ---------------------------------------------------------------------- rng

#[test]
fn rng_is_deterministic_and_uniform() {
    let key = RngKey::new(0xC0FFEE, 3, 12_345, 1);
    assert_eq!(
        key.uniform(7),
        RngKey::new(0xC0FFEE, 3, 12_345, 1).uniform(7)
    );
    assert_ne!(
        key.uniform(7),
        RngKey::new(0xC0FFEE, 3, 12_346, 1).uniform(7)
    );
    let n = 400_000u64;
    let (mut s, mut s2, mut lag) = (0.0, 0.0, 0.0);
    let mut bins = [0u32; 16];
    let mut prev = key.uniform(0);
    for i in 0..n {
        // Successive frames of one transmitter, as a medium draws them.
        let u = RngKey::new(0xC0FFEE, 3, i, 1).uniform(0);
        assert!((0.0..1.0).contains(&u));
        s += u;
        s2 += u * u;
        lag += (u - 0.5) * (prev - 0.5);
        prev = u;
        bins[(u * 16.0) as usize] += 1;
    }
    let nf = n as f64;
    let mean = s / nf;
    let var = s2 / nf - mean * mean;
    // Mean 1/2 (s.e. √(1/12/n) = 4.6e-4), variance 1/12 = 0.08333 (s.e. 1.2e-4),
    // lag-1 autocorrelation 0 (s.e. 1/(12√n) = 1.3e-4). 5 s.e. bounds.
    assert!((mean - 0.5).abs() < 0.0023, "mean {mean}");
    assert!((var - 1.0 / 12.0).abs() < 0.0006, "variance {var}");
    assert!((lag / nf).abs() < 0.0007, "lag-1 {}", lag / nf);
    // χ² over 16 bins, 15 d.o.f.: 99.9 % quantile 37.7.
    let e = nf / 16.0;
    let chi2: f64 = bins.iter().map(|&b| (f64::from(b) - e).powi(2) / e).sum();
    assert!(chi2 < 37.7, "chi2 {chi2}");
}

// ----------------------------------------------------------------- channels

#[test]
fn channel_numbering() {
    assert_eq!(Band::Band2G4.channel_to_freq(1).unwrap(), 2412);
    assert_eq!(Band::Band2G4.channel_to_freq(14).unwrap(), 2484);
    assert_eq!(Band::Band5G.channel_to_freq(36).unwrap(), 5180);
    assert_eq!(Band::Band5G.channel_to_freq(177).unwrap(), 5885);
    assert_eq!(Band::Band6G.channel_to_freq(1).unwrap(), 5955);
    assert_eq!(Band::Band6G.channel_to_freq(2).unwrap(), 5935);
    assert_eq!(Band::Band6G.channel_to_freq(233).unwrap(), 7115);
    assert_eq!(Band::Band6G.freq_to_channel(6105).unwrap(), 31);
    assert_eq!(band_of(5935), Some(Band::Band6G));
    assert_eq!(band_of(5885), Some(Band::Band5G));
    assert_eq!(band_of(2484), Some(Band::Band2G4));
    assert_eq!(band_of(3600), None);
}

#[test]
fn overlap_cases() {
    let f = |b: Band, ch| b.channel_to_freq(ch).unwrap();
    // 5 GHz ch 36 (20 MHz) lies inside the 80 MHz block centred on 42.
    assert!(overlaps(
        (f(Band::Band5G, 36), Width::W20),
        (f(Band::Band5G, 42), Width::W80)
    ));
    // 5 GHz ch 52 is outside 42/80 (5170–5250 vs 5250–5270: touching only).
    assert!(!overlaps(
        (f(Band::Band5G, 52), Width::W20),
        (f(Band::Band5G, 42), Width::W80)
    ));
    // 2.4 GHz, 20 MHz: ch 1 (2402–2422) and ch 3 (2412–2432) overlap; ch 1 and
    // ch 6 (2427–2447) do not — 1/6/11 is the classic non-overlapping set;
    // ch 1 and ch 5 only touch at 2422 MHz; ch 1 and ch 11 are far apart.
    let g = |ch| (f(Band::Band2G4, ch), Width::W20);
    assert!(overlaps(g(1), g(3)));
    assert!(!overlaps(g(1), g(5)));
    assert!(!overlaps(g(1), g(6)));
    assert!(!overlaps(g(1), g(11)));
    // 2.4 GHz HT40 on 6 (centre 8, 2427–2467) overlaps ch 11 (2452–2472).
    assert!(overlaps((f(Band::Band2G4, 8), Width::W40), g(11)));
    // 6 GHz: ch 1 (20 MHz, 5945–5965) lies in the 320 MHz-1 block 31
    // (5945–6265); the 320 MHz-2 block 63 (6105–6425) overlaps block 31 but
    // not ch 1; ch 2 (5925–5945) only touches block 31.
    let s = |ch, w| (f(Band::Band6G, ch), w);
    assert!(overlaps(s(1, Width::W20), s(31, Width::W320)));
    assert!(overlaps(s(63, Width::W320), s(31, Width::W320)));
    assert!(!overlaps(s(1, Width::W20), s(63, Width::W320)));
    assert!(!overlaps(s(2, Width::W20), s(31, Width::W320)));
    // Channel type: 320 MHz-1 on primary 1 against 20 MHz ch 33 (inside).
    let wide = Channel::from_primary(Band::Band6G, 1, Width::W320).unwrap();
    assert_eq!(wide.center(), 31);
    assert!(wide.overlaps(&Channel::from_primary(Band::Band6G, 33, Width::W20).unwrap()));
    assert!(!wide.overlaps(&Channel::from_primary(Band::Band6G, 65, Width::W20).unwrap()));
}

// ------------------------------------------------------------------- config

#[test]
fn config_types_deserialize_from_toml() {
    #[derive(serde::Deserialize)]
    struct Cfg {
        pathloss: PathLossModel,
        caps: hwsim_radio::adapt::RateCaps,
        at: Position,
    }
    let cfg: Cfg = toml::from_str(
        r#"
        at = [1.0, 2.0, 3.0]
        [pathloss]
        model = "tgax_residential"
        wall_loss_db = 6.0
        [caps]
        max_format = "he"
        max_width = 80
        max_nss = 2
        gi = 1.6
        "#,
    )
    .unwrap();
    match cfg.pathloss {
        PathLossModel::TgaxResidential(p) => {
            assert_eq!(p.wall_loss_db, 6.0);
            assert_eq!(p.breakpoint_m, 5.0);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(cfg.caps.max_width, Width::W80);
    assert_eq!(cfg.caps.gi, GuardInterval::Gi1_6);
    assert_eq!(cfg.at, Position::new(1.0, 2.0, 3.0));
    assert!(toml::from_str::<Cfg>(
        "at = [0.0,0.0,0.0]\n[pathloss]\nmodel = \"free_space\"\n[caps]\nmax_width = 30\n"
    )
    .is_err());
    assert!(toml::from_str::<PathLossModel>("model = \"log_distance\"\nexponant = 3.0\n").is_err());
}
