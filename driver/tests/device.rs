//! The daemon as a separate process, driven by guests through the vhost-user frontend.

mod common;

use std::time::Duration;

use common::*;
use hwsim_frame::nl::tx_flags;
use hwsim_frame::MacAddr;

const SETTLE: Duration = Duration::from_millis(150);

/// Two VMs with two radios each; every radio announces its interface address.
struct TwoVms {
    d: Daemon,
    a: hwsim_guest::Guest,
    b: hwsim_guest::Guest,
    a0: TestRadio,
    a1: TestRadio,
    b0: TestRadio,
    b1: TestRadio,
}

fn two_vms(name: &str) -> TwoVms {
    let d = Daemon::start(name);
    let mut a = d.guest();
    let mut b = d.guest();
    // Both VMs use the same wire addresses for their radios on purpose: radios are keyed by
    // (VM, wire address), as every guest's first radio is 42:00:00:00:00:00 by default.
    let (a0, a1) = (TestRadio::new(0, 0), TestRadio::new(0, 1));
    let (mut b0, mut b1) = (TestRadio::new(0, 0), TestRadio::new(0, 1));
    b0.vif = mac([0x02, 0, 0, 1, 0, 0]);
    b1.vif = mac([0x02, 0, 0, 1, 1, 0]);
    for r in [a0, a1] {
        announce(&mut a, r, r.vif);
    }
    for r in [b0, b1] {
        announce(&mut b, r, r.vif);
    }
    std::thread::sleep(SETTLE);
    TwoVms {
        d,
        a,
        b,
        a0,
        a1,
        b0,
        b1,
    }
}

#[test]
fn unicast_between_vms_is_delivered_and_acked_with_cookie() {
    let mut t = two_vms("unicast");
    let f = data_frame(t.b1.vif, t.a0.vif, b"hello");
    send_frame(&mut t.a, t.a0, &f, 5180, tx_flags::REQ_TX_STATUS, 41);
    let got_b = until(&mut t.b, |g| !g.is_empty());
    let got_a = until(&mut t.a, |g| !statuses(g).is_empty());

    let frames = frames_for(&got_b, t.b1);
    assert_eq!(frames.len(), 1, "b1 receives exactly once: {got_b:?}");
    match frames[0] {
        Got::Frame {
            frame,
            freq,
            rx_rate,
            signal,
            ..
        } => {
            assert_eq!(frame, &f);
            assert_eq!(*freq, Some(5180), "FREQ is always sent");
            assert!(*rx_rate < 8, "RX_RATE is a legacy index valid on 5 GHz");
            assert_eq!(*signal, -50);
        }
        _ => unreachable!(),
    }
    assert!(frames_for(&got_b, t.b0).is_empty(), "b0 is not addressed");
    let st = statuses(&got_a);
    assert_eq!(st.len(), 1);
    match st[0] {
        Got::Status {
            transmitter,
            cookie,
            flags,
            tx_info,
            ..
        } => {
            assert_eq!(*transmitter, t.a0.wire);
            assert_eq!(*cookie, 41);
            assert_ne!(flags & tx_flags::STAT_ACK, 0, "acknowledged");
            assert_ne!(flags & tx_flags::REQ_TX_STATUS, 0, "original flags echoed");
            assert_eq!(tx_info[0].idx, 7);
            assert_eq!(tx_info[0].count, 1, "acked at the first attempt");
            assert_eq!(
                tx_info[1].idx, -1,
                "chain terminated after the successful rate"
            );
        }
        _ => unreachable!(),
    }
    // The sender VM's other radio heard nothing addressed to it and the sender not itself.
    assert!(frames_for(&got_a, t.a1).is_empty());
    assert!(frames_for(&got_a, t.a0).is_empty());
}

#[test]
fn broadcast_reaches_every_other_radio_including_same_vm_but_not_sender() {
    let mut t = two_vms("broadcast");
    let f = data_frame(MacAddr::BROADCAST, t.b0.vif, b"to all");
    send_frame(&mut t.b, t.b0, &f, 2412, tx_flags::REQ_TX_STATUS, 7);
    let got_a = until(&mut t.a, |g| g.len() >= 2);
    let got_b = until(&mut t.b, |g| {
        frames_for(g, t.b1).len() == 1 && statuses(g).len() == 1
    });
    assert_eq!(frames_for(&got_a, t.a0).len(), 1);
    assert_eq!(frames_for(&got_a, t.a1).len(), 1);
    assert!(
        frames_for(&got_b, t.b0).is_empty(),
        "never back to the sender"
    );
    let st = statuses(&got_b);
    assert!(st[0].acked(), "group frames are reported sent");
    // No duplicates show up later.
    let late_a = drain(&mut t.a, SETTLE);
    assert!(late_a.is_empty(), "unexpected extra messages: {late_a:?}");
    for g in &got_a {
        if let Got::Frame { freq, rx_rate, .. } = g {
            assert_eq!(*freq, Some(2412));
            assert!(*rx_rate < 12);
        }
    }
}

#[test]
fn radios_of_one_vm_reach_each_other_only_through_the_device() {
    let mut t = two_vms("samevm");
    let f = data_frame(t.a1.vif, t.a0.vif, b"loop");
    send_frame(&mut t.a, t.a0, &f, 5180, tx_flags::REQ_TX_STATUS, 1);
    let got = until(&mut t.a, |g| {
        frames_for(g, t.a1).len() == 1 && statuses(g).len() == 1
    });
    assert!(statuses(&got)[0].acked());
    assert!(drain(&mut t.b, SETTLE).is_empty(), "other VM not involved");
}

#[test]
fn no_ack_frames_are_delivered_but_not_acknowledged() {
    let mut t = two_vms("noack");
    let f = data_frame(t.b0.vif, t.a0.vif, b"noack");
    send_frame(
        &mut t.a,
        t.a0,
        &f,
        5180,
        tx_flags::REQ_TX_STATUS | tx_flags::NO_ACK,
        9,
    );
    until(&mut t.b, |g| frames_for(g, t.b0).len() == 1);
    let got = until(&mut t.a, |g| statuses(g).len() == 1);
    match statuses(&got)[0] {
        Got::Status { flags, cookie, .. } => {
            assert_eq!(*cookie, 9);
            assert_eq!(flags & tx_flags::STAT_ACK, 0);
            assert_ne!(flags & tx_flags::NO_ACK, 0);
        }
        _ => unreachable!(),
    }
}

#[test]
fn unknown_receiver_is_not_acknowledged_and_every_attempt_is_reported() {
    let mut t = two_vms("unknown");
    let nobody = mac([0x02, 0xee, 0, 0, 0, 1]);
    let f = data_frame(nobody, t.a0.vif, b"?");
    send_frame(&mut t.a, t.a0, &f, 5180, tx_flags::REQ_TX_STATUS, 3);
    let got = until(&mut t.a, |g| !statuses(g).is_empty());
    match statuses(&got)[0] {
        Got::Status { flags, tx_info, .. } => {
            assert_eq!(flags & tx_flags::STAT_ACK, 0);
            assert_eq!((tx_info[0].idx, tx_info[0].count), (7, 2));
            assert_eq!((tx_info[1].idx, tx_info[1].count), (0, 3));
        }
        _ => unreachable!(),
    }
    assert_eq!(t.d.vm_counter("unicast_unknown_receiver"), 1);
}

#[test]
fn cookies_are_echoed_once_per_frame() {
    let mut t = two_vms("cookies");
    let n = 200u64;
    for c in 1..=n {
        let f = data_frame(t.b0.vif, t.a1.vif, &c.to_le_bytes());
        send_frame(&mut t.a, t.a1, &f, 5180, tx_flags::REQ_TX_STATUS, 1000 + c);
        if c % 50 == 0 {
            // Let completions flow so the 256-entry TX ring never fills.
            let _ = t.a.wait(Duration::from_millis(5));
            t.a.reclaim_tx();
        }
    }
    let got = until(&mut t.a, |g| statuses(g).len() as u64 >= n);
    let mut cookies: Vec<u64> = statuses(&got)
        .iter()
        .map(|s| match s {
            Got::Status { cookie, .. } => *cookie,
            _ => 0,
        })
        .collect();
    cookies.sort_unstable();
    assert_eq!(cookies, (1001..=1000 + n).collect::<Vec<_>>());
    assert!(statuses(&got).iter().all(|s| s.acked()));
    let got_b = until(&mut t.b, |g| frames_for(g, t.b0).len() as u64 >= n);
    assert_eq!(frames_for(&got_b, t.b0).len() as u64, n);
    assert!(
        drain(&mut t.a, SETTLE).is_empty(),
        "no second status for any cookie"
    );
}

#[test]
fn add_and_del_mac_addr_steer_delivery() {
    let mut t = two_vms("macaddr");
    // A scan address: announced, used, withdrawn.
    let scan = mac([0x06, 0x11, 0x22, 0x33, 0x44, 0x55]);
    announce(&mut t.b, t.b1, scan);
    std::thread::sleep(SETTLE);
    let f = data_frame(scan, t.a0.vif, b"probe resp");
    send_frame(&mut t.a, t.a0, &f, 2412, tx_flags::REQ_TX_STATUS, 1);
    until(&mut t.b, |g| frames_for(g, t.b1).len() == 1);
    assert!(until(&mut t.a, |g| statuses(g).len() == 1)[0].acked());

    withdraw(&mut t.b, t.b1, scan);
    std::thread::sleep(SETTLE);
    send_frame(&mut t.a, t.a0, &f, 2412, tx_flags::REQ_TX_STATUS, 2);
    let got = until(&mut t.a, |g| statuses(g).len() == 1);
    assert!(!got[0].acked(), "withdrawn address is not acknowledged");
    assert_eq!(t.d.vm_counter("add_mac_addr"), 5);
    assert_eq!(t.d.vm_counter("del_mac_addr"), 1);
}

#[test]
fn receiver_on_another_channel_gets_the_frame_but_does_not_ack() {
    let mut t = two_vms("offchannel");
    // b1 transmits on channel 1: it is now known to listen there.
    let f = data_frame(MacAddr::BROADCAST, t.b1.vif, b"hi");
    send_frame(&mut t.b, t.b1, &f, 2412, tx_flags::REQ_TX_STATUS, 1);
    until(&mut t.b, |g| statuses(g).len() == 1);
    drain(&mut t.a, SETTLE);
    let f = data_frame(t.b1.vif, t.a0.vif, b"wrong channel");
    send_frame(&mut t.a, t.a0, &f, 5180, tx_flags::REQ_TX_STATUS, 2);
    let got = until(&mut t.a, |g| statuses(g).len() == 1);
    assert!(!statuses(&got)[0].acked());
    let got_b = until(&mut t.b, |g| frames_for(g, t.b1).len() == 1);
    match frames_for(&got_b, t.b1)[0] {
        Got::Frame { freq, .. } => assert_eq!(*freq, Some(5180), "the guest decides to drop it"),
        _ => unreachable!(),
    }
    // On the right channel it is acknowledged.
    let f = data_frame(t.b1.vif, t.a0.vif, b"right channel");
    send_frame(&mut t.a, t.a0, &f, 2412, tx_flags::REQ_TX_STATUS, 3);
    let got = until(&mut t.a, |g| statuses(g).len() == 1);
    assert!(got[0].acked());
}

#[test]
fn a_vm_that_disconnects_is_removed_and_can_reconnect() {
    let mut t = two_vms("reconnect");
    let TwoVms {
        d, a, b, a0, b0, ..
    } = &mut t;
    let b_old = std::mem::replace(b, d.guest());
    b_old.disconnect();
    std::thread::sleep(Duration::from_millis(300));
    let f = data_frame(b0.vif, a0.vif, b"anyone?");
    send_frame(a, *a0, &f, 5180, tx_flags::REQ_TX_STATUS, 1);
    let got = until(a, |g| statuses(g).len() == 1);
    assert!(!got[0].acked(), "the old VM's radios are gone");

    // The replacement VM (new connection) announces the same radio and is reachable.
    announce(b, *b0, b0.vif);
    std::thread::sleep(SETTLE);
    send_frame(a, *a0, &f, 5180, tx_flags::REQ_TX_STATUS, 2);
    let got = until(a, |g| statuses(g).len() == 1);
    assert!(got[0].acked());
    until(b, |g| frames_for(g, *b0).len() == 1);
    let stats = d.stats();
    let vms = stats["vms"].as_array().unwrap();
    assert_eq!(vms.iter().filter(|v| v["connected"] == true).count(), 2);
    assert_eq!(vms.iter().filter(|v| v["connected"] == false).count(), 1);
    assert!(d.alive());
}

#[test]
fn statuses_wait_for_rx_buffers_instead_of_being_lost() {
    // A guest that posts only 4 RX buffers and sends 32 frames before reading anything:
    // statuses queue in the device and all arrive once buffers are recycled.
    let d = Daemon::start("backlog");
    let mut a = d.guest_with(|c| c.queue_size = 4);
    let r = TestRadio::new(5, 0);
    for c in 1..=32u64 {
        let f = data_frame(MacAddr::BROADCAST, r.vif, b"x");
        loop {
            a.reclaim_tx();
            if a.tx_in_flight() < 4 {
                break;
            }
            let _ = a.wait(Duration::from_millis(5));
        }
        send_frame(&mut a, r, &f, 2412, tx_flags::REQ_TX_STATUS, c);
    }
    let got = until(&mut a, |g| statuses(g).len() == 32);
    assert_eq!(statuses(&got).len(), 32);
    assert_eq!(d.vm_counter("tx_status_dropped"), 0);
}
