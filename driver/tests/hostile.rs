//! A hostile guest: malformed messages and bad descriptors are counted and dropped; the daemon
//! keeps serving the other VM.

mod common;

use std::time::Duration;

use common::*;
use hwsim_frame::nl::{tx_flags, GuestMessage, TxFrameRepr};
use hwsim_frame::MacAddr;
use hwsim_guest::RawDesc;

const VIRTQ_DESC_F_NEXT: u16 = 1;
const VIRTQ_DESC_F_WRITE: u16 = 2;

fn frame_msg(from: TestRadio, frame: &[u8], cookie: u64) -> Vec<u8> {
    let m = GuestMessage::Frame(TxFrameRepr {
        transmitter: from.wire,
        frame,
        flags: tx_flags::REQ_TX_STATUS,
        freq: Some(2412),
        tx_info: RATES,
        tx_info_flags: None,
        cookie,
    });
    let mut buf = vec![0u8; m.buffer_len()];
    let n = m.emit(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

/// A FRAME message built attribute by attribute, so it can break the rules the emitter keeps.
fn raw_frame_msg(from: TestRadio, frame_len: usize) -> Vec<u8> {
    fn nla(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
        out.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(payload);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    let mut m = vec![0u8; 16];
    m.extend_from_slice(&[2, 1, 0, 0]);
    nla(&mut m, 2, &from.wire.0);
    nla(&mut m, 3, &vec![0x08; frame_len]);
    nla(&mut m, 4, &0u32.to_ne_bytes());
    nla(&mut m, 8, &5u64.to_ne_bytes());
    let len = m.len() as u32;
    m[0..4].copy_from_slice(&len.to_ne_bytes());
    m
}

/// The good VMs still talk after whatever the bad one did.
fn assert_still_serving(
    good_a: &mut hwsim_guest::Guest,
    good_b: &mut hwsim_guest::Guest,
    cookie: u64,
) {
    let (ra, rb) = (TestRadio::new(1, 0), TestRadio::new(2, 0));
    let f = data_frame(rb.vif, ra.vif, b"still there?");
    send_frame(good_a, ra, &f, 2412, tx_flags::REQ_TX_STATUS, cookie);
    let mine = |s: &Got| matches!(s, Got::Status { cookie: c, .. } if *c == cookie);
    let got = until(good_a, |g| g.iter().any(mine));
    assert!(got.iter().filter(|s| mine(s)).all(Got::acked), "{got:?}");
    until(good_b, |g| !frames_for(g, rb).is_empty());
}

fn setup(
    name: &str,
) -> (
    Daemon,
    hwsim_guest::Guest,
    hwsim_guest::Guest,
    hwsim_guest::Guest,
) {
    let d = Daemon::start(name);
    let mut a = d.guest();
    let mut b = d.guest();
    announce(&mut a, TestRadio::new(1, 0), TestRadio::new(1, 0).vif);
    announce(&mut b, TestRadio::new(2, 0), TestRadio::new(2, 0).vif);
    let evil = d.guest();
    std::thread::sleep(Duration::from_millis(100));
    (d, a, b, evil)
}

#[test]
fn malformed_messages_are_counted_and_dropped() {
    let (mut d, mut a, mut b, mut evil) = setup("malformed");
    let r = TestRadio::new(9, 0);
    let good = frame_msg(r, &data_frame(MacAddr::BROADCAST, r.vif, b"x"), 1);

    // nlmsg_len below the header.
    let mut m = good.clone();
    m[0..4].copy_from_slice(&10u32.to_ne_bytes());
    evil.send(&m).unwrap();
    // nlmsg_len beyond the descriptor (the descriptor is the guest's whole buffer).
    let mut m = good.clone();
    m[0..4].copy_from_slice(&100_000u32.to_ne_bytes());
    evil.send(&m).unwrap();
    // An attribute whose length runs past the message.
    let mut m = good.clone();
    m[20..22].copy_from_slice(&0xfff0u16.to_ne_bytes());
    evil.send(&m).unwrap();
    // A transmitter address of 7 bytes: first attribute is ADDR_TRANSMITTER with nla_len 10.
    let mut m = good.clone();
    m[20..22].copy_from_slice(&11u16.to_ne_bytes());
    evil.send(&m).unwrap();
    // Unknown command.
    let mut m = good.clone();
    m[16] = 99;
    evil.send(&m).unwrap();
    // Oversized frame (2305 bytes).
    evil.send(&raw_frame_msg(r, 2305)).unwrap();
    // A message of 3 bytes.
    evil.send(&[1, 2, 3]).unwrap();
    // A valid frame whose 802.11 header is too short to route: counted, still gets a status.
    evil.send(&frame_msg(r, &[0x08, 0x00, 0, 0], 3)).unwrap();

    std::thread::sleep(Duration::from_millis(200));
    assert_still_serving(&mut a, &mut b, 77);
    assert!(d.alive());
    assert_eq!(d.vm_counter("tx_malformed"), 7, "{}", d.stats());
    assert!(d.malformed("unknown_command") >= 1);
    assert!(d.malformed("frame_too_long") >= 1);
    assert_eq!(d.vm_counter("tx_bad_header"), 1);
    let got = until(&mut evil, |g| !statuses(g).is_empty());
    assert!(
        statuses(&got)
            .iter()
            .any(|s| matches!(s, Got::Status { cookie: 3, .. })),
        "even an unroutable frame gets its status"
    );
}

#[test]
fn bad_descriptors_are_counted_and_dropped() {
    let (mut d, mut a, mut b, mut evil) = setup("descriptors");
    let end = evil.mem_base() + evil.mem_size();
    // TX descriptor pointing outside guest memory.
    evil.send_raw_descriptors(&[RawDesc {
        addr: end + 0x10_0000,
        len: 256,
        flags: 0,
        next: 0,
    }])
    .unwrap();
    // TX descriptor straddling the end of guest memory.
    evil.send_raw_descriptors(&[RawDesc {
        addr: end - 8,
        len: 64,
        flags: 0,
        next: 0,
    }])
    .unwrap();
    // A write-only descriptor on the TX queue.
    evil.send_raw_descriptors(&[RawDesc {
        addr: evil.mem_base(),
        len: 64,
        flags: VIRTQ_DESC_F_WRITE,
        next: 0,
    }])
    .unwrap();
    // A chain that loops on itself.
    evil.send_raw_descriptors(&[RawDesc {
        addr: evil.mem_base(),
        len: 64,
        flags: VIRTQ_DESC_F_NEXT,
        next: 0,
    }])
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_still_serving(&mut a, &mut b, 78);
    assert!(d.alive());
    assert!(d.vm_counter("tx_bad_descriptor") >= 3, "{}", d.stats());
}

#[test]
fn too_small_and_bad_rx_buffers_are_returned_empty() {
    let d = Daemon::start("rxbufs");
    let mut a = d.guest();
    let mut b = d.guest();
    // The hostile guest posts no normal RX buffers at setup: first a 16-byte buffer, a
    // read-only one and one outside its memory, then a single good one.
    let mut evil = d.guest_with(|c| {
        c.queue_size = 8;
        c.rx_prefill = 0;
    });
    announce(&mut a, TestRadio::new(1, 0), TestRadio::new(1, 0).vif);
    announce(&mut b, TestRadio::new(2, 0), TestRadio::new(2, 0).vif);
    // A radio becomes known to the switch when it first sends something.
    announce(&mut evil, TestRadio::new(3, 0), TestRadio::new(3, 0).vif);
    let (base, end) = (evil.mem_base(), evil.mem_base() + evil.mem_size());
    evil.post_rx_raw(&[RawDesc {
        addr: base,
        len: 16,
        flags: VIRTQ_DESC_F_WRITE,
        next: 0,
    }])
    .unwrap();
    evil.post_rx_raw(&[RawDesc {
        addr: base,
        len: 4096,
        flags: 0,
        next: 0,
    }])
    .unwrap();
    evil.post_rx_raw(&[RawDesc {
        addr: end + 4096,
        len: 4096,
        flags: VIRTQ_DESC_F_WRITE,
        next: 0,
    }])
    .unwrap();
    evil.post_rx_buffers(1).unwrap();
    std::thread::sleep(Duration::from_millis(100));

    let ra = TestRadio::new(1, 0);
    send_frame(
        &mut a,
        ra,
        &data_frame(MacAddr::BROADCAST, ra.vif, b"to everyone"),
        2412,
        0,
        200,
    );
    let got = until(&mut evil, |g| !g.is_empty());
    assert!(
        matches!(&got[0], Got::Frame { frame, .. } if frame.ends_with(b"to everyone")),
        "{got:?}"
    );
    let done = evil.take_raw_completions();
    assert_eq!(done.len(), 3, "the three bad buffers come back: {done:?}");
    assert!(done.iter().all(|c| c.len == 0), "returned empty: {done:?}");
    assert_eq!(d.vm_counter("rx_buffer_too_small"), 1, "{}", d.stats());
    assert_eq!(d.vm_counter("rx_bad_descriptor"), 2, "{}", d.stats());
    assert_eq!(
        evil.stats().rx_len_violations,
        0,
        "never report used.len above the buffer"
    );
    assert_still_serving(&mut a, &mut b, 79);
}

#[test]
fn guests_that_never_post_rx_buffers_cannot_starve_the_others_of_buffers() {
    let (d, mut a, mut b, _evil) = setup("rx-hoarders");
    // Three guests that post no RX buffer at all flood one another: every delivery and every
    // TX status for them waits in their inboxes, holding a pooled buffer.
    let hoarders: Vec<(hwsim_guest::Guest, TestRadio)> = (0..3)
        .map(|i| {
            let mut g = d.guest_with(|c| c.rx_prefill = 0);
            let r = TestRadio::new(20 + i, 0);
            announce(&mut g, r, r.vif);
            (g, r)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let radios: Vec<TestRadio> = hoarders.iter().map(|(_, r)| *r).collect();
    let mut cookie = 1000;
    // They stay connected, never reading, until the test ends.
    let mut kept = Vec::new();
    for (mut g, from) in hoarders {
        for to in radios.iter().filter(|r| r.wire != from.wire) {
            for _ in 0..3000 {
                // The daemon takes TX frames whatever happens to their deliveries: wait for
                // ring space only.
                while g.tx_free() == 0 {
                    g.reclaim_tx();
                    std::thread::yield_now();
                }
                let f = data_frame(to.vif, from.vif, &[0u8; 64]);
                send_frame(&mut g, from, &f, 2412, tx_flags::REQ_TX_STATUS, cookie);
                cookie += 1;
            }
        }
        kept.push(g);
    }
    std::thread::sleep(Duration::from_millis(300));
    let pool_free = d.stats()["pool_free"].as_u64().unwrap();
    let pool_allocated = d.stats()["pool_allocated"].as_u64().unwrap();
    eprintln!("pool: {pool_allocated} allocated, {pool_free} free");
    // 6 VMs share 8192 buffers: the hoarders hold their three shares and no more; what did
    // not fit was dropped and counted.
    assert!(
        pool_allocated <= 3 * (8192 / 6) + 64,
        "{pool_allocated} buffers taken"
    );
    assert!(d.vm_counter("dropped_inbox_full") > 0);
    // Each dropped delivery is also counted on the sender's link (radio and frequency).
    let stats = d.stats();
    let radios = stats["radios"].as_array().expect("radios");
    let sum = |f: &dyn Fn(&serde_json::Value) -> u64| radios.iter().map(f).sum::<u64>();
    let rx_dropped = sum(&|r| r["rx_dropped"].as_u64().unwrap_or(0));
    let link_dropped = sum(&|r| {
        r["links"].as_array().map_or(0, |l| {
            l.iter().map(|l| l["dropped"].as_u64().unwrap_or(0)).sum()
        })
    });
    assert!(rx_dropped > 0);
    assert_eq!(
        link_dropped, rx_dropped,
        "deliveries dropped at receivers vs counted on the senders' links"
    );
    // The well-behaved pair still gets its frames through, acknowledged.
    for i in 0..20 {
        assert_still_serving(&mut a, &mut b, 1 + i);
    }
    drop(kept);
}
