use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hwsim_frame::radiotap::{self, Bandwidth, Coding, Field, Fields, GuardInterval, PhyInfo};
use hwsim_frame::MacAddr;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;

use super::writer::{default_description, default_name, file_path};
use super::*;

fn radio(vm: u32, last: u8) -> RadioKey {
    RadioKey {
        vm,
        wire: MacAddr([0x42, 0, 0, 0, last, 0]),
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hwsim-capture-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A null-data frame from `from` (24 bytes, FC 48 01) with `tag` in the sequence number.
fn frame(from: u8, tag: u8) -> Vec<u8> {
    let mut f = vec![0x48, 0x01, 0, 0, 0x42, 0, 0, 0, 9, 0];
    f.extend_from_slice(&[0x42, 0, 0, 0, from, 0, 0x42, 0, 0, 0, 9, 0, tag << 4, 0]);
    f
}

const EHT: PhyInfo = PhyInfo::Eht {
    mcs: 13,
    nss: 2,
    bw: Bandwidth::Mhz320,
    gi: GuardInterval::Ns800,
    coding: Coding::Ldpc,
};
const HE: PhyInfo = PhyInfo::He {
    mcs: 7,
    nss: 1,
    bw: Bandwidth::Mhz80,
    gi: GuardInterval::Ns800,
    coding: Coding::Ldpc,
};

fn meta(radio: RadioKey, freq_mhz: u32, ts: u64, phy: PhyInfo, tx: Option<TxOutcome>) -> FrameMeta {
    FrameMeta {
        timestamp_ns: ts,
        radio,
        freq_mhz,
        signal_dbm: Some(-40),
        noise_dbm: Some(-95),
        phy,
        tx,
    }
}

#[derive(Debug, Default)]
struct Read {
    /// Section headers (the reader consumes the first one itself).
    sections: usize,
    /// (name, description, tsresol, linktype) per interface, in file order.
    interfaces: Vec<(String, String, Option<u8>, DataLink)>,
    /// (interface id, timestamp ns, data, comment).
    packets: Vec<(u32, u128, Vec<u8>, Option<String>)>,
}

fn read(path: &Path) -> Read {
    let mut r = PcapNgReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Read {
        sections: 1,
        ..Read::default()
    };
    while let Some(block) = r.next_block() {
        match block.unwrap() {
            Block::SectionHeader(_) => out.sections += 1,
            Block::InterfaceDescription(idb) => {
                let (mut name, mut desc, mut res) = (String::new(), String::new(), None);
                for o in &idb.options {
                    match o {
                        InterfaceDescriptionOption::IfName(n) => name = n.to_string(),
                        InterfaceDescriptionOption::IfDescription(d) => desc = d.to_string(),
                        InterfaceDescriptionOption::IfTsResol(t) => res = Some(*t),
                        _ => {}
                    }
                }
                out.interfaces.push((name, desc, res, idb.linktype));
            }
            Block::EnhancedPacket(epb) => {
                let comment = epb.options.iter().find_map(|o| match o {
                    EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                    _ => None,
                });
                out.packets.push((
                    epb.interface_id,
                    epb.timestamp.as_nanos(),
                    epb.data.to_vec(),
                    comment,
                ));
            }
            other => panic!("unexpected block {other:?}"),
        }
    }
    out
}

/// Splits a packet into (radiotap fields, 802.11 frame).
fn split(data: &[u8]) -> (Vec<Field<'_>>, &[u8]) {
    let f = Fields::new(data).unwrap();
    let len = f.header_len();
    (f.collect::<Result<_, _>>().unwrap(), &data[len..])
}

fn write_sample(path: &Path) -> CaptureStats {
    let cap = Capture::start(CaptureConfig::new(path)).unwrap();
    let tap = cap.tap();
    let acked = Some(TxOutcome {
        acked: true,
        retries: 1,
    });
    let lost = Some(TxOutcome {
        acked: false,
        retries: 3,
    });
    let legacy = PhyInfo::Legacy { rate_500kbps: 12 };
    assert!(tap.record(
        &meta(radio(1, 0), 5180, 1_000_000_001, HE, acked),
        &frame(0, 1)
    ));
    assert!(tap.record(
        &meta(radio(1, 0), 2412, 1_000_000_002, legacy, None),
        &frame(0, 2)
    ));
    assert!(tap.record(
        &meta(radio(2, 1), 6115, 1_000_000_003, EHT, lost),
        &frame(1, 3)
    ));
    assert!(tap.record(
        &meta(radio(1, 0), 5180, 1_000_000_004, HE, acked),
        &frame(0, 4)
    ));
    cap.finish()
}

#[test]
fn writes_one_interface_per_radio_and_frequency() {
    let dir = temp_dir("basic");
    let path = dir.join("cap.pcapng");
    let stats = write_sample(&path);
    assert_eq!(
        (stats.queued, stats.written, stats.dropped, stats.files),
        (4, 4, 0, 1)
    );
    let r = read(&path);
    assert_eq!(r.sections, 1, "one section header");
    let names: Vec<_> = r
        .interfaces
        .iter()
        .map(|i| (i.0.as_str(), i.1.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("vm1-42:00:00:00:00:00/5180", "5 GHz channel 36 (5180 MHz)"),
            ("vm1-42:00:00:00:00:00/2412", "2.4 GHz channel 1 (2412 MHz)"),
            ("vm2-42:00:00:00:01:00/6115", "6 GHz channel 33 (6115 MHz)"),
        ]
    );
    for i in &r.interfaces {
        assert_eq!(i.2, Some(9), "if_tsresol");
        assert_eq!(i.3, DataLink::IEEE802_11_RADIOTAP);
    }
    let ids: Vec<u32> = r.packets.iter().map(|p| p.0).collect();
    assert_eq!(ids, [0, 1, 2, 0]);
    let ts: Vec<u128> = r.packets.iter().map(|p| p.1).collect();
    assert_eq!(
        ts,
        [1_000_000_001, 1_000_000_002, 1_000_000_003, 1_000_000_004]
    );
    let comments: Vec<_> = r.packets.iter().map(|p| p.3.as_deref()).collect();
    assert_eq!(
        comments,
        [
            Some("acked retries=1"),
            None,
            Some("not acked retries=3"),
            Some("acked retries=1")
        ]
    );

    // Packet 2: radiotap with TSFT, flags, channel, signal, noise, then the EHT TLVs.
    let (fields, body) = split(&r.packets[2].2);
    assert_eq!(body, frame(1, 3));
    let bits: Vec<u32> = fields
        .iter()
        .filter_map(|f| match f {
            Field::Bit { bit, .. } => Some(*bit),
            Field::Tlv { .. } => None,
        })
        .collect();
    assert_eq!(
        bits,
        [
            radiotap::bit::TSFT,
            radiotap::bit::FLAGS,
            radiotap::bit::CHANNEL,
            radiotap::bit::DBM_ANTSIGNAL,
            radiotap::bit::DBM_ANTNOISE
        ]
    );
    assert_eq!(
        fields[0],
        Field::Bit {
            bit: 0,
            ns_index: 0,
            data: &1_000_000u64.to_le_bytes()
        }
    );
    assert!(matches!(
        fields[5],
        Field::Tlv {
            ty: radiotap::tlv::USIG,
            ..
        }
    ));
    assert!(matches!(
        fields[6],
        Field::Tlv {
            ty: radiotap::tlv::EHT,
            ..
        }
    ));
    // Packet 1: legacy rate field, 2.4 GHz OFDM channel flags.
    let (fields, body) = split(&r.packets[1].2);
    assert_eq!(body, frame(0, 2));
    assert!(fields.contains(&Field::Bit {
        bit: radiotap::bit::RATE,
        ns_index: 0,
        data: &[12]
    }));
    assert!(fields.contains(&Field::Bit {
        bit: radiotap::bit::CHANNEL,
        ns_index: 0,
        data: &[0x6c, 0x09, 0xc0, 0x00]
    }));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn rename_declares_a_new_interface_for_later_frames() {
    let dir = temp_dir("rename");
    let path = dir.join("cap.pcapng");
    // No grace: the first packet is written under the default name at once.
    let cap = Capture::start(CaptureConfig {
        name_grace: Duration::ZERO,
        ..CaptureConfig::new(&path)
    })
    .unwrap();
    let tap = cap.tap();
    let ap = radio(1, 0);
    assert!(tap.record(&meta(ap, 5180, 10, HE, None), &frame(0, 1)));
    // Let the writer declare the first name before the rename arrives.
    let deadline = Instant::now() + Duration::from_secs(5);
    while tap.stats().written < 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    tap.name_interface(
        ap,
        5180,
        "ap1/link1",
        Some("5 GHz channel 36, 80 MHz, link 1, MLD 02:00:00:00:00:10"),
    );
    std::thread::sleep(Duration::from_millis(20));
    assert!(tap.record(&meta(ap, 5180, 20, HE, None), &frame(0, 2)));
    // Naming before first use: the first declaration already carries the name.
    tap.name_interface(radio(1, 1), 2412, "ap1/link0", None);
    std::thread::sleep(Duration::from_millis(20));
    assert!(tap.record(&meta(radio(1, 1), 2412, 30, HE, None), &frame(1, 3)));
    cap.finish();
    let r = read(&path);
    let names: Vec<&str> = r.interfaces.iter().map(|i| i.0.as_str()).collect();
    assert_eq!(
        names,
        ["vm1-42:00:00:00:00:00/5180", "ap1/link1", "ap1/link0"]
    );
    assert_eq!(
        r.interfaces[1].1,
        "5 GHz channel 36, 80 MHz, link 1, MLD 02:00:00:00:00:10"
    );
    assert_eq!(r.interfaces[2].1, "2.4 GHz channel 1 (2412 MHz)");
    let ids: Vec<u32> = r.packets.iter().map(|p| p.0).collect();
    assert_eq!(ids, [0, 1, 2]);
    std::fs::remove_dir_all(&dir).ok();
}

/// A name that arrives within the grace period names the interface from its first packet; the
/// packets held meanwhile (of every interface) are written in order; an interface never named
/// gets its default name once its grace is over.
#[test]
fn packets_wait_for_a_name_given_within_the_grace_period() {
    let dir = temp_dir("grace");
    let path = dir.join("cap.pcapng");
    let cap = Capture::start(CaptureConfig {
        name_grace: Duration::from_millis(300),
        ..CaptureConfig::new(&path)
    })
    .unwrap();
    let tap = cap.tap();
    let (ap, sta) = (radio(1, 0), radio(2, 0));
    assert!(tap.record(&meta(ap, 5180, 10, HE, None), &frame(0, 1)));
    assert!(tap.record(&meta(sta, 5180, 20, HE, None), &frame(1, 2)));
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(tap.stats().written, 0, "held while unnamed");
    tap.name_interface(ap, 5180, "ap-mld-x/link1", Some("link 1"));
    assert!(tap.record(&meta(ap, 5180, 30, HE, None), &frame(0, 3)));
    // The station's radio is never named: its grace runs out, and everything is written.
    let deadline = Instant::now() + Duration::from_secs(5);
    while tap.stats().written < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(tap.stats().written, 3);
    cap.finish();
    let r = read(&path);
    let names: Vec<&str> = r.interfaces.iter().map(|i| i.0.as_str()).collect();
    assert_eq!(names, ["ap-mld-x/link1", "vm2-42:00:00:00:00:00/5180"]);
    let ids: Vec<u32> = r.packets.iter().map(|p| p.0).collect();
    assert_eq!(
        ids,
        [0, 1, 0],
        "in ring order, the AP's on its one interface"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn merged_view_writes_one_interface_and_names_the_link_per_packet() {
    let dir = temp_dir("merged");
    let path = dir.join("cap.pcapng");
    let cap = Capture::start(CaptureConfig {
        merged: true,
        ..CaptureConfig::new(&path)
    })
    .unwrap();
    let tap = cap.tap();
    let (ap, sta) = (radio(1, 0), radio(2, 1));
    let acked = Some(TxOutcome {
        acked: true,
        retries: 2,
    });
    assert!(tap.record(&meta(ap, 5180, 10, HE, acked), &frame(0, 1)));
    assert!(tap.record(&meta(sta, 2412, 20, HE, None), &frame(1, 2)));
    let deadline = Instant::now() + Duration::from_secs(5);
    while tap.stats().written < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    // The MLD tracker names the AP's link: later packets carry the new name in their comment.
    tap.name_interface(
        ap,
        5180,
        "ap-mld-02:a0:00:00:00:00/link1",
        Some("5 GHz channel 36 (5180 MHz), link 1 of AP MLD 02:a0:00:00:00:00"),
    );
    std::thread::sleep(Duration::from_millis(20));
    assert!(tap.record(&meta(ap, 5180, 30, EHT, acked), &frame(0, 3)));
    cap.finish();

    let r = read(&path);
    let names: Vec<&str> = r.interfaces.iter().map(|i| i.0.as_str()).collect();
    assert_eq!(names, ["all"], "one interface for everything");
    assert_eq!(r.interfaces[0].3, DataLink::IEEE802_11_RADIOTAP);
    assert!(r.packets.iter().all(|p| p.0 == 0));
    let comments: Vec<&str> = r
        .packets
        .iter()
        .map(|p| p.3.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(
        comments,
        [
            "radio=vm1-42:00:00:00:00:00 freq=5180 if=vm1-42:00:00:00:00:00/5180 \
             (5 GHz channel 36 (5180 MHz)); acked retries=2",
            "radio=vm2-42:00:00:00:01:00 freq=2412 if=vm2-42:00:00:00:01:00/2412 \
             (2.4 GHz channel 1 (2412 MHz))",
            "radio=vm1-42:00:00:00:00:00 freq=5180 if=ap-mld-02:a0:00:00:00:00/link1 \
             (5 GHz channel 36 (5180 MHz), link 1 of AP MLD 02:a0:00:00:00:00); acked retries=2",
        ]
    );
    // Each packet keeps its own radiotap channel.
    let channel = |data: &[u8]| {
        split(data).0.iter().find_map(|f| match f {
            Field::Bit { bit, data, .. } if *bit == radiotap::bit::CHANNEL => {
                Some(u16::from_le_bytes([data[0], data[1]]))
            }
            _ => None,
        })
    };
    let freqs: Vec<_> = r.packets.iter().map(|p| channel(&p.2)).collect();
    assert_eq!(freqs, [Some(5180), Some(2412), Some(5180)]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn merged_view_declares_its_interface_once_per_rotated_file() {
    let dir = temp_dir("merged-rotate");
    let path = dir.join("cap.pcapng");
    let cap = Capture::start(CaptureConfig {
        merged: true,
        max_file_bytes: Some(700),
        ..CaptureConfig::new(&path)
    })
    .unwrap();
    let tap = cap.tap();
    for i in 0..8u8 {
        let (r, f) = if i % 2 == 0 {
            (radio(1, 0), 5180)
        } else {
            (radio(2, 1), 5955)
        };
        assert!(tap.record(&meta(r, f, u64::from(i), HE, None), &frame(i % 2, i)));
    }
    let stats = cap.finish();
    assert!(stats.files > 1, "{stats:?}");
    let mut packets = 0;
    for n in 0..stats.files {
        let r = read(&file_path(&path, n));
        let names: Vec<&str> = r.interfaces.iter().map(|i| i.0.as_str()).collect();
        assert_eq!(names, ["all"], "file {n}");
        assert!(r.packets.iter().all(|p| p.0 == 0));
        packets += r.packets.len();
    }
    assert_eq!(packets, 8);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_capture_without_file_or_monitor_is_refused() {
    let err = Capture::start(CaptureConfig {
        path: None,
        ..CaptureConfig::new("unused")
    })
    .err()
    .unwrap();
    assert!(matches!(err, CaptureError::NoOutput), "{err}");
}

#[test]
fn rotates_by_size_and_each_file_stands_alone() {
    let dir = temp_dir("rotate");
    let path = dir.join("cap.pcapng");
    let cap = Capture::start(CaptureConfig {
        max_file_bytes: Some(600),
        ..CaptureConfig::new(&path)
    })
    .unwrap();
    let tap = cap.tap();
    let n = 20u8;
    for i in 0..n {
        let r = radio(1, i % 2);
        while !tap.record(&meta(r, 5180, u64::from(i), HE, None), &frame(i % 2, i)) {
            std::thread::yield_now();
        }
    }
    let stats = cap.finish();
    assert!(stats.files >= 3, "{stats:?}");
    let mut total = 0;
    for k in 0..stats.files {
        let p = file_path(&path, k);
        let len = std::fs::metadata(&p).unwrap().len();
        let r = read(&p);
        assert_eq!(r.sections, 1, "{p:?}");
        assert!(!r.packets.is_empty(), "{p:?}");
        assert!(len <= 600 || r.packets.len() == 1, "{p:?} is {len} bytes");
        // Interfaces are declared again in each file and IDs restart.
        for pkt in &r.packets {
            assert!((pkt.0 as usize) < r.interfaces.len());
        }
        total += r.packets.len();
    }
    assert_eq!(total, usize::from(n));
    assert_eq!(stats.written, u64::from(n));
    assert!(dir.join("cap-1.pcapng").exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// Two threads push far faster than the writer drains a 16-record queue: every record is
/// either queued or counted as dropped, every queued one is written, and no call blocks.
#[test]
fn flooding_drops_and_counts_without_blocking() {
    let dir = temp_dir("flood");
    let path = dir.join("cap.pcapng");
    let cap = Capture::start(CaptureConfig {
        queue_len: 16,
        ..CaptureConfig::new(&path)
    })
    .unwrap();
    let per_thread = 50_000u32;
    let slowest = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2u8)
            .map(|t| {
                let tap = cap.tap();
                s.spawn(move || {
                    let f = frame(t, 0);
                    let m = meta(radio(1, t), 5180, 0, HE, None);
                    let mut slowest = Duration::ZERO;
                    for _ in 0..per_thread {
                        let start = Instant::now();
                        tap.record(&m, &f);
                        slowest = slowest.max(start.elapsed());
                    }
                    slowest
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .max()
            .unwrap()
    });
    let tap = cap.tap();
    let stats = cap.finish();
    eprintln!("{stats:?}, slowest record() {slowest:?}");
    assert_eq!(stats.queued + stats.dropped, 2 * u64::from(per_thread));
    assert!(stats.dropped > 0, "{stats:?}");
    assert_eq!(stats.written, stats.queued);
    assert!(
        slowest < Duration::from_millis(100),
        "record() took {slowest:?}"
    );
    // After finish the tap still answers, without blocking: it drops and counts.
    assert!(!tap.record(&meta(radio(1, 0), 5180, 0, HE, None), &frame(0, 0)));
    assert_eq!(tap.stats().dropped, stats.dropped + 1);
    assert_eq!(read(&path).packets.len() as u64, stats.written);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn long_frames_are_truncated_and_counted() {
    let dir = temp_dir("long");
    let path = dir.join("cap.pcapng");
    let cap = Capture::start(CaptureConfig::new(&path)).unwrap();
    let long = vec![0x48; MAX_FRAME_LEN + 10];
    assert!(cap
        .tap()
        .record(&meta(radio(1, 0), 5180, 0, HE, None), &long));
    let stats = cap.finish();
    assert_eq!((stats.truncated, stats.written), (1, 1));
    let r = read(&path);
    let (_, body) = split(&r.packets[0].2);
    assert_eq!(body.len(), MAX_FRAME_LEN);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn start_fails_on_a_bad_path() {
    let err = Capture::start(CaptureConfig::new("/nonexistent-dir/x.pcapng"))
        .err()
        .unwrap();
    assert!(matches!(err, CaptureError::Create { .. }), "{err}");
}

#[test]
fn names_descriptions_and_rotation_paths() {
    assert_eq!(
        default_name(radio(3, 7), 5955),
        "vm3-42:00:00:00:07:00/5955"
    );
    assert_eq!(default_description(2484), "2.4 GHz channel 14 (2484 MHz)");
    assert_eq!(default_description(2437), "2.4 GHz channel 6 (2437 MHz)");
    assert_eq!(default_description(5825), "5 GHz channel 165 (5825 MHz)");
    assert_eq!(default_description(5935), "6 GHz channel 2 (5935 MHz)");
    assert_eq!(default_description(7115), "6 GHz channel 233 (7115 MHz)");
    assert_eq!(default_description(900), "900 MHz");
    assert_eq!(
        file_path(Path::new("/t/a.pcapng"), 0),
        Path::new("/t/a.pcapng")
    );
    assert_eq!(
        file_path(Path::new("/t/a.pcapng"), 2),
        Path::new("/t/a-2.pcapng")
    );
    assert_eq!(file_path(Path::new("/t/a"), 1), Path::new("/t/a-1"));
}

#[test]
fn phy_info_from_tx_vector() {
    use hwsim_radio::rates::{self as r, PhyFormat as F};
    let v = |f, mcs, w, nss, gi| TxVector::new(f, mcs, w, nss, gi).unwrap();
    assert_eq!(
        phy_info(&TxVector::dsss(3).unwrap()),
        PhyInfo::Legacy { rate_500kbps: 22 }
    );
    assert_eq!(
        phy_info(&TxVector::ofdm(7).unwrap()),
        PhyInfo::Legacy { rate_500kbps: 108 }
    );
    assert!(matches!(
        phy_info(&v(F::Ht, 5, Width::W40, 2, r::GuardInterval::Gi0_4)),
        PhyInfo::Ht {
            mcs: 13,
            bw: Bandwidth::Mhz40,
            gi: GuardInterval::Ns400,
            ..
        }
    ));
    assert!(matches!(
        phy_info(&v(F::Eht, 13, Width::W320, 2, r::GuardInterval::Gi0_8)),
        PhyInfo::Eht {
            mcs: 13,
            nss: 2,
            bw: Bandwidth::Mhz320,
            gi: GuardInterval::Ns800,
            ..
        }
    ));
    assert!(matches!(
        phy_info(&v(F::He, 11, Width::W160, 4, r::GuardInterval::Gi3_2)),
        PhyInfo::He {
            mcs: 11,
            nss: 4,
            bw: Bandwidth::Mhz160,
            gi: GuardInterval::Ns3200,
            ..
        }
    ));
}

use hwsim_frame::tshark::tsharks;

/// tshark's field rows for a capture file (see `hwsim_frame::tshark`).
fn tshark(root: Option<&Path>, file: &Path, fields: &[&str]) -> ((u32, u32), Vec<Vec<String>>) {
    hwsim_frame::tshark::fields(root, &std::fs::read(file).unwrap(), fields)
}

#[test]
fn tshark_reads_interfaces_channels_and_comments() {
    let tsharks = tsharks();
    if tsharks.is_empty() {
        eprintln!("SKIPPED tshark_reads_interfaces_channels_and_comments: tshark not installed (apt-get install tshark)");
        return;
    }
    let dir = temp_dir("tshark");
    let path = dir.join("cap.pcapng");
    write_sample(&path);
    for root in tsharks {
        let fields = [
            "frame.interface_name",
            "frame.interface_description",
            "radiotap.channel.freq",
            "frame.comment",
            "radiotap.dbm_antsignal",
            "radiotap.dbm_antnoise",
            "wlan.fc.type_subtype",
            "_ws.malformed",
        ];
        let (version, rows) = tshark(root.as_deref(), &path, &fields);
        assert_eq!(rows.len(), 4);
        let want = [
            (
                "vm1-42:00:00:00:00:00/5180",
                "5 GHz channel 36 (5180 MHz)",
                "5180",
                "acked retries=1",
            ),
            (
                "vm1-42:00:00:00:00:00/2412",
                "2.4 GHz channel 1 (2412 MHz)",
                "2412",
                "",
            ),
            (
                "vm2-42:00:00:00:01:00/6115",
                "6 GHz channel 33 (6115 MHz)",
                "6115",
                "not acked retries=3",
            ),
            (
                "vm1-42:00:00:00:00:00/5180",
                "5 GHz channel 36 (5180 MHz)",
                "5180",
                "acked retries=1",
            ),
        ];
        for (i, (row, w)) in rows.iter().zip(want).enumerate() {
            assert_eq!((&*row[0], &*row[1], &*row[2], &*row[3]), w, "row {i}");
            assert_eq!((&*row[4], &*row[5]), ("-40", "-95"), "row {i}");
            // Wireshark before 4.4 cannot parse the radiotap TLV list (row 2 is EHT).
            if i != 2 || version >= (4, 4) {
                assert_eq!(row[6], "0x0024", "row {i}");
                assert_eq!(row[7], "", "row {i} malformed");
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
