//! `--capture`: every transmission lands in a pcapng file, one interface per radio and frequency,
//! with the TX outcome as packet comment.

mod common;

use common::*;
use hwsim_frame::nl::tx_flags;
use hwsim_frame::MacAddr;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};

#[test]
fn transmissions_are_captured_per_radio_and_frequency() {
    let dir = std::env::temp_dir().join(format!("vhost-hwsim-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("air.pcapng");
    let mut d = Daemon::start_with("capture", &["--capture", file.to_str().unwrap()]);
    let mut a = d.guest();
    let mut b = d.guest();
    let (ra, rb) = (TestRadio::new(1, 0), TestRadio::new(2, 0));
    announce(&mut a, ra, ra.vif);
    announce(&mut b, rb, rb.vif);
    std::thread::sleep(std::time::Duration::from_millis(100));
    for c in 0..5u64 {
        send_frame(
            &mut a,
            ra,
            &data_frame(rb.vif, ra.vif, b"acked"),
            5180,
            tx_flags::REQ_TX_STATUS,
            c,
        );
    }
    // A second radio of B sends on channel 1 to an address nobody has (a frame from rb itself
    // on 2412 would move rb's address to channel 1, and A's frames on 36 would not be acked).
    let rb2 = TestRadio::new(2, 1);
    let nobody = MacAddr([0x02, 0xee, 0, 0, 0, 9]);
    for c in 0..3u64 {
        send_frame(
            &mut b,
            rb2,
            &data_frame(nobody, rb2.vif, b"lost"),
            2412,
            tx_flags::REQ_TX_STATUS,
            100 + c,
        );
    }
    until(&mut a, |g| statuses(g).len() == 5);
    until(&mut b, |g| statuses(g).len() == 3);
    assert!(d.terminate().success());

    let bytes = std::fs::read(&file).expect("capture written");
    let mut reader = PcapNgReader::new(&bytes[..]).expect("a pcapng section");
    let mut names = Vec::new();
    let mut packets = Vec::new();
    while let Some(block) = reader.next_block() {
        match block.expect("well-formed block") {
            Block::InterfaceDescription(idb) => {
                assert_eq!(u32::from(idb.linktype), 127, "802.11 + radiotap");
                for o in &idb.options {
                    if let InterfaceDescriptionOption::IfName(n) = o {
                        names.push(n.to_string());
                    }
                }
            }
            Block::EnhancedPacket(epb) => {
                let comment = epb.options.iter().find_map(|o| match o {
                    EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                    _ => None,
                });
                packets.push((
                    epb.interface_id,
                    epb.data.to_vec(),
                    comment.unwrap_or_default(),
                ));
            }
            _ => {}
        }
    }
    assert_eq!(
        names.len(),
        2,
        "one interface per (radio, frequency): {names:?}"
    );
    assert!(names.iter().any(|n| n.ends_with("/5180")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("/2412")), "{names:?}");
    assert_eq!(packets.len(), 8);
    let acked = packets.iter().filter(|p| p.2.starts_with("acked")).count();
    let lost = packets
        .iter()
        .filter(|p| p.2.starts_with("not acked"))
        .count();
    assert_eq!((acked, lost), (5, 3));
    // Each packet is a radiotap header followed by the 802.11 frame we sent.
    for (_, data, _) in &packets {
        let rt_len = u16::from_le_bytes([data[2], data[3]]) as usize;
        assert!(data[rt_len..].ends_with(b"acked") || data[rt_len..].ends_with(b"lost"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn capture_merged_writes_one_interface_with_the_link_in_each_comment() {
    let dir = std::env::temp_dir().join(format!("vhost-hwsim-merged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("merged.pcapng");
    let mut d = Daemon::start_with(
        "capture-merged",
        &["--capture", file.to_str().unwrap(), "--capture-merged"],
    );
    let mut a = d.guest();
    let mut b = d.guest();
    let (ra, rb) = (TestRadio::new(1, 0), TestRadio::new(2, 0));
    announce(&mut a, ra, ra.vif);
    announce(&mut b, rb, rb.vif);
    std::thread::sleep(std::time::Duration::from_millis(100));
    send_frame(&mut a, ra, &data_frame(rb.vif, ra.vif, b"one"), 5180, 0, 1);
    until(&mut a, |g| statuses(g).len() == 1);
    let nobody = MacAddr([0x02, 0xee, 0, 0, 0, 9]);
    send_frame(&mut b, rb, &data_frame(nobody, rb.vif, b"two"), 2412, 0, 2);
    until(&mut b, |g| statuses(g).len() == 1);
    let capture = d.stats()["capture"].clone();
    assert!(d.terminate().success());
    assert_eq!(capture["dropped"], 0, "{capture:#}");

    let bytes = std::fs::read(&file).expect("capture written");
    let mut reader = PcapNgReader::new(&bytes[..]).expect("a pcapng section");
    let mut names = Vec::new();
    let mut comments = Vec::new();
    while let Some(block) = reader.next_block() {
        match block.expect("well-formed block") {
            Block::InterfaceDescription(idb) => {
                for o in &idb.options {
                    if let InterfaceDescriptionOption::IfName(n) = o {
                        names.push(n.to_string());
                    }
                }
            }
            Block::EnhancedPacket(epb) => {
                assert_eq!(epb.interface_id, 0);
                comments.extend(epb.options.iter().filter_map(|o| match o {
                    EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                    _ => None,
                }));
            }
            _ => {}
        }
    }
    assert_eq!(names, ["all"]);
    let vm_a = format!("radio=vm1-{}", ra.wire);
    let vm_b = format!("radio=vm2-{}", rb.wire);
    assert_eq!(comments.len(), 2, "{comments:?}");
    assert!(
        comments[0].starts_with(&format!("{vm_a} freq=5180 if=vm1-{}/5180 (5 GHz", ra.wire))
            && comments[0].ends_with("; acked retries=0"),
        "{comments:?}"
    );
    assert!(
        comments[1].starts_with(&format!(
            "{vm_b} freq=2412 if=vm2-{}/2412 (2.4 GHz",
            rb.wire
        )) && comments[1].ends_with("; not acked retries=4"),
        "{comments:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
