use super::*;
use crate::config::Config;
use hwsim_frame::nl::{tx_flags, TxRate};

const AP: MacAddr = MacAddr([2, 0, 0, 0x0a, 0, 0]);
const NEAR: MacAddr = MacAddr([2, 0, 0, 0x0b, 0, 0]);
const FAR: MacAddr = MacAddr([2, 0, 0, 0x0c, 0, 0]);
const EDGE: MacAddr = MacAddr([2, 0, 0, 0x0d, 0, 0]);
const GONE: MacAddr = MacAddr([2, 0, 0, 0x0e, 0, 0]);

/// Distances on 5 GHz (log-distance, n = 3, 20 dBm, NF 7 dB → noise −94 dBm):
/// near 2 m (SNR ≈ 62 dB), far 30 m (≈ 24 dB), edge 105 m (≈ 7.7 dB: MCS 0 with PER well above
/// zero at 1500 B with Rayleigh fading), gone 10 km (nothing).
fn config(seed: u64, fading: &str) -> Config {
    Config::parse(&format!(
        r#"
seed = {seed}
fading = {fading}
[[node]]
name = "ap"
addresses = ["{AP}"]
position = [0, 0, 0]
[[node]]
name = "near"
addresses = ["{NEAR}"]
position = [2, 0, 0]
[[node]]
name = "far"
addresses = ["{FAR}"]
position = [30, 0, 0]
[[node]]
name = "edge"
addresses = ["{EDGE}"]
position = [105, 0, 0]
[[node]]
name = "gone"
addresses = ["{GONE}"]
position = [10000, 0, 0]
"#
    ))
    .unwrap()
}

/// A `len`-byte data frame (all-zero bytes would be an association request, which goes at the
/// basic rate whatever the link).
fn data(len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[0] = 0x08;
    f
}

fn key(vm: u32, last: u8) -> RadioKey {
    RadioKey {
        vm,
        wire: MacAddr([0x42, 0, 0, 0, 0, last]),
    }
}

const CHAIN: [TxRate; 4] = [
    TxRate { idx: 7, count: 2 },
    TxRate { idx: 3, count: 2 },
    TxRate { idx: 0, count: 3 },
    TxRate::UNUSED,
];

fn unicast<'a>(frame: &'a [u8], to: MacAddr, seq: u64) -> Transmission<'a> {
    Transmission {
        from: key(1, 0),
        seq,
        freq: 5180,
        frame,
        receiver: to,
        sender: Some(AP),
        group: false,
        flags: tx_flags::REQ_TX_STATUS,
        rates: CHAIN,
    }
}

fn cand(vm: u32, addr: MacAddr) -> Candidate {
    Candidate {
        radio: key(vm, 9),
        addressed: true,
        on_channel: true,
        rx_addr: Some(addr),
        attenuation_db: 0.0,
    }
}

/// Fates of `n` frames to `to`: the attempt (0 = lost).
fn fates(m: &RadioMedium, to: MacAddr, n: u64) -> Vec<u8> {
    let frame = data(1496);
    (1..=n)
        .map(|seq| {
            m.hear(&unicast(&frame, to, seq), &cand(2, to))
                .map_or(0, |r| r.attempt)
        })
        .collect()
}

#[test]
fn same_seed_same_fates_other_seed_other_fates() {
    let a = RadioMedium::new(&config(1, "\"rayleigh\""));
    let b = RadioMedium::new(&config(1, "\"rayleigh\""));
    let c = RadioMedium::new(&config(2, "\"rayleigh\""));
    let fa = fates(&a, EDGE, 400);
    assert_eq!(fa, fates(&b, EDGE, 400));
    assert_ne!(fa, fates(&c, EDGE, 400));
    // The edge link is really random: some first tries, some retries, some losses.
    assert!(
        fa.contains(&1) && fa.iter().any(|&x| x > 1) && fa.contains(&0),
        "{fa:?}"
    );
    // Asking again (another thread, another order) gives the same answer.
    let frame = data(1496);
    let tx = unicast(&frame, EDGE, 77);
    assert_eq!(a.hear(&tx, &cand(2, EDGE)), a.hear(&tx, &cand(2, EDGE)));
}

#[test]
fn distance_lowers_the_signal_and_far_enough_loses_everything() {
    let m = RadioMedium::new(&config(5, "\"none\""));
    let frame = data(100);
    let near = m.hear(&unicast(&frame, NEAR, 1), &cand(2, NEAR)).unwrap();
    let far = m.hear(&unicast(&frame, FAR, 1), &cand(3, FAR)).unwrap();
    assert!(near.signal_dbm > far.signal_dbm + 30, "{near:?} {far:?}");
    // 20 dBm − (46.7 dB at 1 m + 30·log10(2)) ≈ −35.7 dBm.
    assert_eq!(near.signal_dbm, -36);
    assert_eq!(near.attempt, 1);
    assert!(fates(&m, GONE, 50).iter().all(|&a| a == 0));
    assert!(legacy_rate_index(5180, 1000) == near.rx_rate && near.rx_rate < 8);
}

#[test]
fn group_frames_get_one_attempt_at_a_robust_rate() {
    let m = RadioMedium::new(&config(5, "\"none\""));
    let frame = data(100);
    let mut tx = unicast(&frame, MacAddr::BROADCAST, 1);
    tx.group = true;
    let r = m.hear(&tx, &cand(3, FAR)).unwrap();
    assert_eq!(r.attempt, 1);
    assert_eq!(r.rx_rate, 0, "6 Mb/s");
    assert!(m.hear(&tx, &cand(4, GONE)).is_none());
    assert!(m.status(&tx, None).acked, "group frames are reported sent");
}

#[test]
fn retry_accounting_reports_the_attempt_that_got_through() {
    // Half of all attempts to `near` are lost regardless of SNR, so every attempt number of the
    // 7-attempt chain occurs.
    let mut cfg = config(1, "\"none\"");
    cfg.links.push(crate::config::LinkOverride {
        between: [0, 1],
        snr_db: None,
        reverse_snr_db: None,
        extra_loss_db: 0.0,
        loss_probability: 0.5,
        loss_per_frame: false,
    });
    let m = RadioMedium::new(&cfg);
    let frame = data(1496);
    let mut seen = [0u32; 8];
    for seq in 1..=600 {
        let tx = unicast(&frame, NEAR, seq);
        let rec = m.hear(&tx, &cand(2, NEAR));
        let st = m.status(&tx, rec.as_ref());
        let entries: Vec<(i8, u8)> = st
            .rates
            .iter()
            .take_while(|r| r.idx >= 0)
            .map(|r| (r.idx, r.count))
            .collect();
        let attempt = rec.map_or(0, |r| r.attempt);
        seen[usize::from(attempt)] += 1;
        let expected: &[(i8, u8)] = match attempt {
            0 => &[(7, 2), (3, 2), (0, 3)],
            1 => &[(7, 1)],
            2 => &[(7, 2)],
            3 => &[(7, 2), (3, 1)],
            4 => &[(7, 2), (3, 2)],
            5 => &[(7, 2), (3, 2), (0, 1)],
            6 => &[(7, 2), (3, 2), (0, 2)],
            7 => &[(7, 2), (3, 2), (0, 3)],
            _ => unreachable!(),
        };
        assert_eq!(entries, expected, "seq {seq}, attempt {attempt}");
        assert_eq!(st.acked, attempt > 0);
    }
    assert!(
        seen.iter().all(|&n| n > 0),
        "every attempt number occurs: {seen:?}"
    );
}

#[test]
fn no_ack_frames_get_one_attempt() {
    let m = RadioMedium::new(&config(1, "\"rayleigh\""));
    let frame = data(1496);
    for seq in 1..=200 {
        let mut tx = unicast(&frame, EDGE, seq);
        tx.flags |= tx_flags::NO_ACK;
        if let Some(r) = m.hear(&tx, &cand(2, EDGE)) {
            assert_eq!(r.attempt, 1);
        }
        let st = m.status(&tx, None);
        assert!(!st.acked);
        assert_eq!(st.rates[0].count, 1);
    }
}

#[test]
fn link_overrides_apply() {
    let mut cfg = config(1, "\"none\"");
    cfg.links.push(crate::config::LinkOverride {
        between: [0, 4],
        snr_db: Some(30.0),
        reverse_snr_db: None,
        extra_loss_db: 0.0,
        loss_probability: 0.0,
        loss_per_frame: false,
    });
    cfg.links.push(crate::config::LinkOverride {
        between: [0, 1],
        snr_db: None,
        reverse_snr_db: None,
        extra_loss_db: 0.0,
        loss_probability: 0.5,
        loss_per_frame: false,
    });
    let m = RadioMedium::new(&cfg);
    let frame = data(100);
    // 10 km away, but a fixed 30 dB SNR: noise −94 dBm + 30.
    let r = m.hear(&unicast(&frame, GONE, 1), &cand(2, GONE)).unwrap();
    assert_eq!(r.signal_dbm, -64);
    // Half of all attempts to `near` are lost: with 7 attempts nearly every frame arrives, but
    // not all at the first.
    let f = fates(&m, NEAR, 400);
    let first = f.iter().filter(|&&a| a == 1).count();
    assert!((150..250).contains(&first), "{first}");
}

#[test]
fn a_reverse_snr_and_a_per_frame_loss_apply() {
    let mut cfg = config(1, "\"none\"");
    cfg.links.push(crate::config::LinkOverride {
        between: [0, 4],
        snr_db: Some(30.0),
        reverse_snr_db: Some(5.0),
        extra_loss_db: 0.0,
        loss_probability: 0.0,
        loss_per_frame: false,
    });
    cfg.links.push(crate::config::LinkOverride {
        between: [0, 1],
        snr_db: None,
        reverse_snr_db: None,
        extra_loss_db: 0.0,
        loss_probability: 0.5,
        loss_per_frame: true,
    });
    let m = RadioMedium::new(&cfg);
    assert_eq!(m.link_budget(0, 4, 5180).snr_db, 30.0);
    assert_eq!(m.link_budget(4, 0, 5180).snr_db, 5.0, "the other way");
    // One draw per frame: about half the frames are lost whatever the retries, and a frame
    // that arrives does so at its first attempt (the near link has no PER to speak of).
    let f = fates(&m, NEAR, 400);
    let lost = f.iter().filter(|&&a| a == 0).count();
    assert!((150..250).contains(&lost), "{lost}");
    assert!(f.iter().all(|&a| a <= 1), "{f:?}");
}

#[test]
fn unlisted_radios_sit_at_the_default_position_or_get_the_default_snr() {
    let m = RadioMedium::new(&config(1, "\"none\""));
    let frame = data(100);
    let stranger = MacAddr([2, 9, 9, 9, 9, 9]);
    // Co-located with the AP at the origin: a strong signal.
    let r = m
        .hear(&unicast(&frame, stranger, 1), &cand(2, stranger))
        .unwrap();
    assert!(r.signal_dbm > -40, "{r:?}");
    let mut cfg = config(1, "\"none\"");
    cfg.default_snr_db = Some(10.0);
    let m = RadioMedium::new(&cfg);
    let r = m
        .hear(&unicast(&frame, stranger, 1), &cand(2, stranger))
        .unwrap();
    assert_eq!(r.signal_dbm, -84);
}

#[test]
fn hostile_inputs_do_not_panic() {
    let m = RadioMedium::new(&config(1, "\"rayleigh\""));
    let frame = data(2304);
    for freq in [0, 1, 2412, 4000, 5924, 5925, 9000, u32::MAX] {
        let mut tx = unicast(&frame, NEAR, 1);
        tx.freq = freq;
        tx.rates = [TxRate {
            idx: 127,
            count: 255,
        }; 4];
        let r = m.hear(&tx, &cand(2, NEAR));
        let _ = m.status(&tx, r.as_ref());
        tx.sender = None;
        tx.frame = &[];
        let _ = m.hear(&tx, &cand(2, GONE));
    }
}

mod advertised {
    use super::*;
    use hwsim_radio::band::{Band, Width};
    use hwsim_radio::peer::FormatCaps;
    use hwsim_radio::rates::Coding;

    fn end(ap: bool, nss: u8, ldpc: bool, width: Width) -> PeerCaps {
        let f = |max_mcs| Some(FormatCaps { nss, max_mcs, ldpc });
        PeerCaps {
            band: Band::Band5G,
            ap,
            ht: f(7),
            vht: f(9),
            he: f(11),
            eht: f(13),
            max_width: width,
            he_padding: NominalPadding::Us16,
            eht_padding: NominalPadding::Us0,
            lowest_basic: ap.then(|| TxVector::ofdm(2).unwrap()),
        }
    }

    fn heard(m: &RadioMedium, frame: &[u8]) -> Reception {
        m.hear(&unicast(frame, NEAR, 1), &cand(2, NEAR)).unwrap()
    }

    #[test]
    fn the_pair_never_exceeds_what_either_end_advertised() {
        let m = RadioMedium::new(&config(5, "\"none\""));
        let frame = data(1000);
        // Before anything is learned: the config's caps (2 streams, the band's widest).
        let v = heard(&m, &frame).vector.unwrap();
        assert_eq!((v.nss(), v.width()), (2, Width::W160));

        m.learn_peer_caps(&[
            (AP, end(true, 1, true, Width::W80)),
            (NEAR, end(false, 2, true, Width::W160)),
        ]);
        let r = heard(&m, &frame);
        let v = r.vector.unwrap();
        assert_eq!(v.format(), PhyFormat::Eht);
        assert_eq!((v.nss(), v.width(), v.mcs()), (1, Width::W80, 13));
        assert_eq!(v.coding(), Coding::Ldpc);
        assert_eq!(r.padding, NominalPadding::Us0, "the receiver's EHT padding");
        // The airtime plan uses the same vectors and padding on every chain entry.
        let plan = m.plan(&unicast(&frame, NEAR, 1), 0);
        assert_eq!(plan.padding, NominalPadding::Us0);
        for e in plan.entries.iter().filter(|e| e.tries > 0) {
            assert!(e.vector.nss() == 1 && e.vector.width() <= Width::W80);
        }

        // An end without LDPC: BCC, which HE/EHT allow only up to 20 MHz and MCS 9.
        m.learn_peer_caps(&[
            (AP, end(true, 1, false, Width::W80)),
            (NEAR, end(false, 2, true, Width::W160)),
        ]);
        let v = heard(&m, &frame).vector.unwrap();
        assert_eq!(
            (v.coding(), v.width(), v.mcs()),
            (Coding::Bcc, Width::W20, 9)
        );

        // Only one end known (the other has not associated yet): bounded by that one.
        m.learn_peer_caps(&[(AP, end(true, 1, true, Width::W80))]);
        let v = heard(&m, &frame).vector.unwrap();
        assert_eq!((v.nss(), v.width()), (1, Width::W80));

        // Forgotten ends: back to the config.
        m.learn_peer_caps(&[]);
        assert_eq!(heard(&m, &frame).vector.unwrap().nss(), 2);
    }

    #[test]
    fn management_and_eapol_go_at_the_bss_lowest_basic_rate_every_attempt() {
        let m = RadioMedium::new(&config(5, "\"none\""));
        // An association request (all-zero frame control) from the AP's address.
        let mgmt = [0u8; 200];
        let v = heard(&m, &mgmt).vector.unwrap();
        assert_eq!(
            v,
            TxVector::ofdm(0).unwrap(),
            "the band's lowest rate when unknown"
        );
        m.learn_peer_caps(&[
            (AP, end(true, 1, true, Width::W80)),
            (NEAR, end(false, 2, true, Width::W160)),
        ]);
        let r = heard(&m, &mgmt);
        assert_eq!(
            r.vector,
            TxVector::ofdm(2).ok(),
            "the AP's lowest basic rate"
        );
        assert_eq!(r.rx_rate, legacy_rate_index(5180, 12));
        let plan = m.plan(&unicast(&mgmt, NEAR, 1), 0);
        assert!(!plan.aggregatable);
        for e in plan.entries.iter().filter(|e| e.tries > 0) {
            assert_eq!(e.vector, TxVector::ofdm(2).unwrap());
        }
        // EAPOL in a QoS data frame: the same; other data at the synthesised rate.
        let mut eapol = vec![0x88, 0x02, 0, 0];
        eapol.extend_from_slice(&[2; 20]);
        eapol.extend_from_slice(&[0, 0]);
        eapol.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x88, 0x8e]);
        eapol.resize(200, 0);
        assert_eq!(heard(&m, &eapol).vector, TxVector::ofdm(2).ok());
        eapol[32] = 0x08;
        eapol[33] = 0x00;
        assert_eq!(heard(&m, &eapol).vector.unwrap().format(), PhyFormat::Eht);
    }
}
