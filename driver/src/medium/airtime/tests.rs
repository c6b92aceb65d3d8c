//! The airtime logic with a fake clock: times are plain nanoseconds chosen by the test.

use hwsim_radio::airtime::{ack_duration_ns, ppdu_duration_ns, AccessCategory, NominalPadding};
use hwsim_radio::band::Band;
use hwsim_radio::rates::{GuardInterval, PhyFormat, TxVector};

use super::timeline::{Access, Antenna, Burst, Timeline};
use super::*;
use crate::switch::RadioKey;

const SEED: u64 = 42;

/// The radio of node `node` as impairments see it (VM `node`, one radio).
fn endpoint(node: usize) -> Endpoint {
    Endpoint {
        radio: RadioKey {
            vm: node as u32,
            wire: hwsim_frame::MacAddr([0x42, 0, 0, 0, 0, node as u8]),
        },
        addr: None,
    }
}

/// Node `node` as a receiver.
fn antenna(node: usize) -> Antenna {
    Antenna {
        node,
        who: endpoint(node),
    }
}

fn plan(node: usize, radio: u64, seq: u64, freq: u32, vector: TxVector) -> AirPlan {
    let unused = ChainEntry { vector, tries: 0 };
    AirPlan {
        node,
        radio,
        who: endpoint(node),
        seq,
        band: Band::Band5G,
        freq,
        psdu_len: 1504,
        entries: [ChainEntry { vector, tries: 4 }, unused, unused, unused],
        ack: true,
        ac: AccessCategory::BestEffort,
        aggregatable: false,
        padding: NominalPadding::Us16,
    }
}

fn access(p: &AirPlan, ready: Nanos) -> Access {
    let shape = p.burst(SEED, 1, 1, true);
    Access {
        radio: p.radio,
        node: p.node,
        who: p.who,
        freq: p.freq,
        ready,
        aifs: p.aifs_ns(),
        slot: p.slot_ns(),
        backoff_slots: p.backoff_slots(SEED, 1),
        duration: shape.duration,
        ppdu: shape.ppdu,
        owner: p.node,
    }
}

fn ofdm54() -> TxVector {
    TxVector::ofdm(7).unwrap()
}

fn he_mcs11() -> TxVector {
    TxVector::new(PhyFormat::He, 11, Width::W20, 1, GuardInterval::Gi0_8).unwrap()
}

fn overlap(a: &Burst, b: &Burst) -> bool {
    a.start < b.end && b.start < a.end
}

/// Received powers: `hear[i][j]` dBm from node i at node j.
fn powers(hear: [[f64; 3]; 3]) -> impl Fn(Antenna, Antenna, u32) -> f64 {
    move |from, to, _freq| hear[from.node][to.node]
}

#[test]
fn one_attempt_costs_ppdu_sifs_and_ack() {
    let p = plan(0, 1, 1, 5180, ofdm54());
    let ppdu = ppdu_duration_ns(&ofdm54(), 1504, Band::Band5G);
    let shape = p.burst(SEED, 1, 1, true);
    assert_eq!(shape.ppdu, (0, ppdu));
    assert_eq!(
        shape.duration,
        ppdu + 16_000 + ack_duration_ns(&ofdm54(), Band::Band5G)
    );
    // 1504 B at 54 Mb/s: 20 µs preamble + 4·⌈(16 + 12032 + 6)/216⌉ = 56 symbols → 244 µs.
    assert_eq!(ppdu, 244_000);
    // AIFS[BE] = 16 + 3·9 = 43 µs (802.11-2020 Table 9-155 AIFSN 3).
    assert_eq!(p.aifs_ns(), 43_000);
    // Two failed attempts then a success: two ACK timeouts (16 + 9 + 20 µs), one backoff each.
    let three = p.burst(SEED, 1, 3, true);
    let backoffs: u64 = (2..=3)
        .map(|a| 43_000 + 9_000 * u64::from(p.backoff_slots(SEED, a)))
        .sum();
    assert_eq!(
        three.duration,
        3 * ppdu + 2 * 45_000 + backoffs + shape.duration - ppdu
    );
    assert_eq!(three.ppdu.1, three.duration - (shape.duration - ppdu));
}

#[test]
fn backoff_draws_are_deterministic_and_the_window_doubles() {
    let p = plan(0, 7, 1, 5180, ofdm54());
    let q = plan(0, 7, 1, 5180, ofdm54());
    for attempt in 1..=6 {
        assert_eq!(
            p.backoff_slots(SEED, attempt),
            q.backoff_slots(SEED, attempt)
        );
    }
    let draws = |attempt: u32| -> Vec<u32> {
        (1..=2000)
            .map(|seq| plan(0, 7, seq, 5180, ofdm54()).backoff_slots(SEED, attempt))
            .collect()
    };
    // CWmin = 15 for BE, 31 after one retry, capped at CWmax = 1023.
    let (first, second, late) = (draws(1), draws(2), draws(11));
    assert_eq!(*first.iter().max().unwrap(), 15);
    assert_eq!(*first.iter().min().unwrap(), 0);
    assert_eq!(*second.iter().max().unwrap(), 31);
    assert!(*late.iter().max().unwrap() <= 1023 && *late.iter().max().unwrap() > 511);
    // Different frames draw differently.
    assert_ne!(draws(1), (1..=2000).map(|_| first[0]).collect::<Vec<_>>());
    // Voice has a smaller window: CWmin 3.
    let mut vo = plan(0, 7, 1, 5180, ofdm54());
    vo.ac = AccessCategory::Voice;
    assert!((1..500).all(|seq| {
        vo.seq = seq;
        vo.backoff_slots(SEED, 1) <= 3
    }));
}

#[test]
fn nodes_that_hear_each_other_never_overlap() {
    let power = powers([
        [0.0, -50.0, -50.0],
        [-50.0, 0.0, -50.0],
        [-50.0, -50.0, 0.0],
    ]);
    let mut t = Timeline::new(1024, CCA_THRESHOLD_DBM);
    let mut bursts = Vec::new();
    // Three saturated senders: each commits its next frame when its previous one ends, the
    // others' frames arriving meanwhile.
    let mut ready = [0u64; 3];
    for round in 0..60u64 {
        for (node, ready) in ready.iter_mut().enumerate() {
            let p = plan(node, node as u64 + 1, round + 1, 5180, ofdm54());
            let b = t.commit(&access(&p, *ready), &power).unwrap();
            *ready = b.end;
            bursts.push(b);
        }
    }
    for (i, a) in bursts.iter().enumerate() {
        for b in &bursts[i + 1..] {
            assert!(!overlap(a, b), "{a:?} overlaps {b:?}");
        }
    }
    // And every sender got about a third of the air.
    let end = bursts.iter().map(|b| b.end).max().unwrap();
    let per_node = |n: usize| {
        bursts
            .iter()
            .filter(|b| b.node == n && b.end <= end / 2)
            .count()
    };
    let counts = [per_node(0), per_node(1), per_node(2)];
    assert!(counts.iter().all(|&c| (20..=40).contains(&c)), "{counts:?}");
}

#[test]
fn a_sender_defers_for_a_busy_channel_then_waits_aifs() {
    let power = powers([
        [0.0, -70.0, -50.0],
        [-70.0, 0.0, -50.0],
        [-50.0, -50.0, 0.0],
    ]);
    let mut t = Timeline::new(16, CCA_THRESHOLD_DBM);
    let a = plan(0, 1, 1, 5180, ofdm54());
    let first = t.commit(&access(&a, 0), &power).unwrap();
    let b = plan(1, 2, 1, 5180, ofdm54());
    // Ready while the first is on the air: it waits for the end, AIFS, then its whole count.
    let second = t.commit(&access(&b, first.start + 1_000), &power).unwrap();
    assert!(
        second.start >= first.end + b.aifs_ns(),
        "{first:?} {second:?}"
    );
    assert_eq!(
        second.start,
        first.end + b.aifs_ns() + u64::from(b.backoff_slots(SEED, 1)) * 9_000
    );
    // Ready before the first starts: the idle slots of every gap count (freezing while the
    // medium is busy), the rest after the last burst.
    let c = plan(1, 2, 2, 5180, ofdm54());
    let mut early = access(&c, 0);
    early.backoff_slots = 1000;
    let third = t.commit(&early, &power).unwrap();
    let counted =
        (first.start - c.aifs_ns()) / 9_000 + (second.start - first.end - c.aifs_ns()) / 9_000;
    assert_eq!(
        third.start,
        second.end + c.aifs_ns() + (1000 - counted) * 9_000
    );
}

#[test]
fn hidden_nodes_overlap_and_sinr_decides_the_collision() {
    // Nodes 0 and 1 cannot hear each other (−95 dBm < −82 dBm CCA); both reach node 2.
    let power = powers([
        [0.0, -95.0, -50.0],
        [-95.0, 0.0, -53.0],
        [-50.0, -53.0, 0.0],
    ]);
    let mut t = Timeline::new(16, CCA_THRESHOLD_DBM);
    let a = plan(0, 1, 1, 5180, he_mcs11());
    let b = plan(1, 2, 1, 5180, he_mcs11());
    let ba = t.commit(&access(&a, 0), &power).unwrap();
    let bb = t.commit(&access(&b, 0), &power).unwrap();
    assert!(overlap(&ba, &bb), "hidden nodes defer to nobody");
    // At node 2 the frame from 0 (−50 dBm) meets −53 dBm from node 1: SINR ≈ 3 dB, far below
    // what HE MCS 11 needs.
    let noise = -94.0;
    let mw = t.interference_mw(ba.id, antenna(2), 3, &power).unwrap();
    assert!((mw - 10f64.powf(-5.3)).abs() < 1e-9, "{mw}");
    assert!(!a.survives_interference(SEED, 3, 1, -50.0, noise, mw));
    // A weak interferer (SINR ≈ 40 dB) spoils nothing.
    let weak = 10f64.powf(-9.0);
    assert!(a.survives_interference(SEED, 3, 1, -50.0, noise, weak));
    // BPSK ½ at 20 MHz survives SINR 3 dB.
    let robust = plan(0, 1, 1, 5180, TxVector::ofdm(0).unwrap());
    assert!(robust.survives_interference(SEED, 3, 1, -50.0, noise, mw));
    // The transmitter of the overlapping burst cannot receive meanwhile (half duplex).
    assert_eq!(t.interference_mw(ba.id, antenna(1), 2, &power), None);
}

#[test]
fn different_channels_do_not_contend() {
    let power = powers([
        [0.0, -40.0, -40.0],
        [-40.0, 0.0, -40.0],
        [-40.0, -40.0, 0.0],
    ]);
    let mut t = Timeline::new(16, CCA_THRESHOLD_DBM);
    let a = plan(0, 1, 1, 5180, ofdm54());
    let b = plan(1, 2, 1, 5240, ofdm54());
    let ba = t.commit(&access(&a, 0), &power).unwrap();
    let bb = t.commit(&access(&b, 0), &power).unwrap();
    assert!(overlap(&ba, &bb));
    assert_eq!(t.interference_mw(ba.id, antenna(2), 3, &power), Some(0.0));
    // 2.4 GHz channels 1 and 3 share spectrum; 1 and 6 do not.
    assert!(same_medium(2412, 2422));
    assert!(!same_medium(2412, 2437));
}

#[test]
fn a_finished_count_yields_to_a_burst_committed_earlier() {
    let power = powers([
        [0.0, -50.0, -50.0],
        [-50.0, 0.0, -50.0],
        [-50.0, -50.0, 0.0],
    ]);
    let mut t = Timeline::new(16, CCA_THRESHOLD_DBM);
    let a = plan(0, 1, 1, 5180, ofdm54());
    // Node 0 committed to start in the future (its count runs from 100 µs).
    let ba = t.commit(&access(&a, 100_000), &power).unwrap();
    // Node 1 is ready at 0; its count ends before ba starts but its frame would run into ba.
    let mut b = plan(1, 2, 1, 5180, ofdm54());
    let bb = t.commit(&access(&b, 0), &power).unwrap();
    assert!(!overlap(&ba, &bb));
    assert!(bb.start >= ba.end, "{ba:?} {bb:?}");
    assert_eq!(bb.start, ba.end + b.aifs_ns());
    // A short frame that fits before ba, with ba's AIFS after it, goes first.
    b.psdu_len = 14;
    b.seq = 99;
    let mut early = access(&b, 0);
    early.backoff_slots = 0;
    let bc = t.commit(&early, &power).unwrap();
    assert!(bc.end + a.aifs_ns() <= ba.start, "{bc:?} {ba:?}");
}

#[test]
fn a_burst_that_would_end_inside_the_next_ones_aifs_goes_after_it() {
    let power = powers([
        [0.0, -50.0, -50.0],
        [-50.0, 0.0, -50.0],
        [-50.0, -50.0, 0.0],
    ]);
    let mut t = Timeline::new(16, CCA_THRESHOLD_DBM);
    let a = plan(0, 1, 1, 5180, ofdm54());
    let ba = t.commit(&access(&a, 1_000_000), &power).unwrap();
    // Node 1's frame, counted down with no backoff, ready so that it would end 1 µs before ba
    // starts: it fits in the gap, but ba's transmitter would not have seen its AIFS of idle
    // medium after it (the spacing the capture check of `tests/vm/tt-airtime-spacing.py`
    // found violated).
    let b = plan(1, 2, 1, 5180, ofdm54());
    let mut squeezed = access(&b, 0);
    squeezed.backoff_slots = 0;
    squeezed.ready = ba.start - 1_000 - squeezed.duration - squeezed.aifs;
    let bb = t.commit(&squeezed, &power).unwrap();
    assert!(bb.start >= ba.end + b.aifs_ns(), "{ba:?} {bb:?}");
    // With ba's AIFS to spare it goes first.
    let mut b2 = plan(1, 2, 2, 5180, ofdm54());
    b2.psdu_len = 14;
    let mut fits = access(&b2, 0);
    fits.backoff_slots = 0;
    fits.ready = ba.start - a.aifs_ns() - fits.duration - fits.aifs;
    let bc = t.commit(&fits, &power).unwrap();
    assert_eq!(bc.end + a.aifs_ns(), ba.start, "{bc:?} {ba:?}");
}

#[test]
fn finished_bursts_are_pruned() {
    let power = powers([
        [0.0, -50.0, -50.0],
        [-50.0, 0.0, -50.0],
        [-50.0, -50.0, 0.0],
    ]);
    let mut t = Timeline::new(4, CCA_THRESHOLD_DBM);
    let mut ready = 0;
    for seq in 1..=100 {
        let p = plan(0, 1, seq, 5180, ofdm54());
        let b = t.commit(&access(&p, ready), &power).unwrap();
        assert_eq!(t.next_end().map(|n| n.id), Some(b.id));
        t.finish(b.id);
        ready = b.end;
    }
    assert!(t.is_empty());
    // A full timeline refuses.
    for seq in 1..=4 {
        let p = plan(seq as usize % 3, seq, seq, 5180, ofdm54());
        t.commit(&access(&p, 0), &power).unwrap();
    }
    let p = plan(0, 9, 9, 5180, ofdm54());
    assert!(t.commit(&access(&p, 0), &power).is_err());
}

#[test]
fn retries_use_the_chain_vectors_and_the_access_category_follows_the_frame() {
    let robust = TxVector::ofdm(0).unwrap();
    let mut p = plan(0, 1, 1, 5180, ofdm54());
    p.entries[0].tries = 2;
    p.entries[1] = ChainEntry {
        vector: robust,
        tries: 3,
    };
    assert_eq!(p.max_attempts(), 5);
    assert_eq!(p.vector(2), ofdm54());
    assert_eq!(p.vector(3), robust);
    assert_eq!(p.vector(9), robust);
    // QoS data TID 6 → voice; non-QoS data → best effort; a beacon → voice.
    let mut qos = vec![0x88, 0x00, 0, 0];
    qos.extend_from_slice(&[0u8; 18]);
    qos.extend_from_slice(&[0, 0, 6, 0]);
    assert_eq!(access_category(&qos), AccessCategory::Voice);
    qos[24] = 1;
    assert_eq!(access_category(&qos), AccessCategory::Background);
    let mut data = vec![0x08, 0x00, 0, 0];
    data.extend_from_slice(&[0u8; 20]);
    assert_eq!(access_category(&data), AccessCategory::BestEffort);
    let mut beacon = vec![0x80, 0x00, 0, 0];
    beacon.extend_from_slice(&[0u8; 20]);
    assert_eq!(access_category(&beacon), AccessCategory::Voice);
}

#[test]
fn an_ampdu_is_one_ppdu_and_one_block_ack() {
    let ht = TxVector::new(PhyFormat::Ht, 7, Width::W20, 1, GuardInterval::Gi0_8).unwrap();
    let p = plan(0, 1, 1, 5180, ht);
    // Subframes: 4-byte delimiter, padded to 4 bytes.
    assert_eq!(Psdu::subframe_len(1504), 1508);
    assert_eq!(Psdu::subframe_len(1501), 1508);
    let ten = Psdu {
        len: 10 * Psdu::subframe_len(1504),
        mpdus: 10,
    };
    let shape = p.burst_of(SEED, 1, 1, true, ten);
    let ppdu = ppdu_duration_ns(&ht, ten.len, Band::Band5G);
    let ba = hwsim_radio::airtime::block_ack_duration_ns(&ht, 64, Band::Band5G);
    assert_eq!(shape.duration, ppdu + 16_000 + ba);
    // Ten MPDUs in one PPDU save nine preambles and nine SIFS + ACK (and, on the air, nine
    // channel accesses).
    let single = p.burst(SEED, 1, 1, true).duration;
    let ack = 16_000 + ack_duration_ns(&ht, Band::Band5G);
    assert!(shape.duration + 9 * (ack + 36_000) <= 10 * single + 9 * 1_000);
    assert_eq!(block_ack_bitmap(&ht), 64);
    assert_eq!(block_ack_bitmap(&he_mcs11()), 256);
    assert_eq!(block_ack_bitmap(&ofdm54()), 0);
}
