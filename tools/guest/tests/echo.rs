//! End-to-end: a `Guest` against the echo device in `common`.

mod common;

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use common::{message, socket_path, spawn_echo, Quirks, EVENT_IDX, PROTOCOL_FEATURES, VERSION_1};
use hwsim_guest::{Error, Guest, GuestConfig, RawDesc, RX_QUEUE, TX_QUEUE};

fn echo_round_trip(event_idx: bool, queue_size: u16) {
    const TOTAL: u32 = 1000;
    let path = socket_path("echo");
    let device = spawn_echo(&path, Quirks::default());
    let cfg = GuestConfig {
        socket: path.clone(),
        event_idx,
        queue_size,
        rx_prefill: queue_size,
        mem_size: 0,
        ..Default::default()
    };
    let mut guest = Guest::connect(&cfg).expect("connect");
    assert_eq!(guest.event_idx(), event_idx);

    let msgs: Vec<Vec<u8>> = (0..TOTAL).map(message).collect();
    let mut sent = 0usize;
    let mut received = 0u32;
    let deadline = Instant::now() + Duration::from_secs(20);
    while received < TOTAL {
        assert!(
            Instant::now() < deadline,
            "stuck: sent {sent}, received {received}"
        );
        if sent < msgs.len() {
            let batch = msgs[sent..].iter().take(50).map(Vec::as_slice);
            match guest.send_batch(batch) {
                Ok(n) => sent += n,
                Err(hwsim_guest::Error::TxRingFull) => {}
                Err(e) => panic!("send_batch: {e}"),
            }
        }
        let got = guest.recv_with(|m| {
            let seq = u32::from_le_bytes(m[4..8].try_into().unwrap());
            assert_eq!(seq, received, "messages arrive in order");
            assert_eq!(m, msgs[seq as usize].as_slice(), "message {seq} intact");
            received += 1;
        });
        if got == 0 {
            guest.wait(Duration::from_millis(50)).expect("wait");
        }
    }
    // The last TX completions may trail the echoes.
    while guest.reclaim_tx() > 0 || guest.tx_in_flight() > 0 {
        assert!(Instant::now() < deadline, "TX never completed");
        guest.wait(Duration::from_millis(50)).expect("wait");
    }
    let stats = guest.stats();
    assert_eq!(stats.tx_sent, u64::from(TOTAL));
    assert_eq!(stats.tx_completed, u64::from(TOTAL));
    assert_eq!(stats.rx_received, u64::from(TOTAL));
    assert_eq!(stats.rx_len_violations, 0);
    assert_eq!(stats.bad_used_ids, 0);

    guest.disconnect();
    device.join().expect("device thread");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn echo_with_event_idx() {
    echo_round_trip(true, 256);
}

#[test]
fn echo_without_event_idx() {
    echo_round_trip(false, 256);
}

#[test]
fn echo_through_tiny_rings() {
    echo_round_trip(true, 4);
    echo_round_trip(false, 4);
}

fn guest_for(path: &Path, f: impl FnOnce(&mut GuestConfig)) -> Guest {
    let mut cfg = GuestConfig {
        socket: path.to_owned(),
        ..Default::default()
    };
    f(&mut cfg);
    Guest::connect(&cfg).expect("connect")
}

#[test]
fn connect_waits_for_the_socket_to_appear() {
    let path = socket_path("late");
    let p = path.clone();
    let device = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        spawn_echo(&p, Quirks::default()).join().unwrap();
    });
    let mut guest = guest_for(&path, |_| {});
    guest.send(&message(7)).unwrap();
    let got = guest.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(got.as_deref(), Some(message(7).as_slice()));
    guest.disconnect();
    device.join().unwrap();
}

#[test]
fn full_tx_ring_is_reported_not_blocked_on() {
    let path = socket_path("stall");
    let device = spawn_echo(
        &path,
        Quirks {
            hold_tx: true,
            ..Default::default()
        },
    );
    let mut guest = guest_for(&path, |c| {
        c.queue_size = 8;
        c.rx_prefill = 8;
        c.mem_size = 0;
    });
    let m = message(1);
    let msgs = [m.as_slice(); 12];
    assert_eq!(guest.send_batch(msgs).unwrap(), 8);
    assert!(matches!(guest.send(&m), Err(Error::TxRingFull)));
    assert!(matches!(guest.send_batch(msgs), Err(Error::TxRingFull)));
    assert_eq!(guest.tx_in_flight(), 8);
    assert_eq!(guest.stats().tx_sent, 8);
    guest.disconnect();
    device.join().unwrap();
}

#[test]
fn oversized_used_len_is_counted_and_capped() {
    let path = socket_path("liar");
    let device = spawn_echo(
        &path,
        Quirks {
            used_len_extra: 1000,
            ..Default::default()
        },
    );
    let mut guest = guest_for(&path, |_| {});
    let small = message(0); // 8 bytes: 1008 still fits the 3776-byte buffer
    let big = message(3000 / 37); // 3004 bytes: 4004 does not
    assert!(big.len() + 1000 > guest.buf_len() as usize);
    guest
        .send_batch([small.as_slice(), big.as_slice()])
        .unwrap();
    let mut lens = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while lens.len() < 2 && Instant::now() < deadline {
        guest.recv_with(|m| lens.push(m.len()));
        guest.wait(Duration::from_millis(50)).unwrap();
    }
    assert_eq!(lens, [small.len() + 1000, guest.buf_len() as usize]);
    assert_eq!(guest.stats().rx_len_violations, 1);
    guest.disconnect();
    device.join().unwrap();
}

#[test]
fn raw_chains_go_through_and_are_recorded() {
    let path = socket_path("raw");
    let device = spawn_echo(&path, Quirks::default());
    let mut guest = guest_for(&path, |c| c.rx_prefill = 0);
    let (scratch, scratch_len) = guest.scratch();
    assert!(scratch_len >= 8192);
    assert!(
        scratch >= guest.mem_base() && scratch + scratch_len <= guest.mem_base() + guest.mem_size()
    );

    // A 16-byte RX buffer: the 100-byte echo cannot fit, this device answers with used.len 0.
    let tiny = RawDesc {
        addr: scratch + 4096,
        len: 16,
        flags: RawDesc::WRITE,
        next: 0,
    };
    guest.post_rx_raw(&[tiny]).unwrap();
    // A hand-made TX chain: message in scratch, two descriptors, only the first is read.
    let msg = message(92 / 37 + 1);
    guest.write_mem(scratch, &msg).unwrap();
    let tx = [
        RawDesc {
            addr: scratch,
            len: msg.len() as u32,
            flags: RawDesc::NEXT,
            next: 1,
        },
        RawDesc {
            addr: scratch + 2048,
            len: 64,
            flags: 0,
            next: 0,
        },
    ];
    guest.send_raw_descriptors(&tx).unwrap();

    let deadline = Instant::now() + Duration::from_secs(5);
    let mut done = Vec::new();
    while done.len() < 2 && Instant::now() < deadline {
        guest.reclaim_tx();
        assert_eq!(
            guest.recv_with(|_| panic!("no normal RX buffer was posted")),
            0
        );
        done.extend(guest.take_raw_completions());
        guest.wait(Duration::from_millis(50)).unwrap();
    }
    done.sort_by_key(|c| c.queue);
    assert_eq!(done.len(), 2, "{done:?}");
    assert_eq!((done[0].queue, done[0].len), (TX_QUEUE, 0));
    assert_eq!((done[1].queue, done[1].len), (RX_QUEUE, 0));
    assert_eq!(guest.stats().raw_completed, 2);
    assert_eq!(guest.stats().rx_len_violations, 0);

    // Normal buffers posted later work as usual.
    assert_eq!(guest.post_rx_buffers(u16::MAX).unwrap(), guest.queue_size());
    guest.send(&msg).unwrap();
    let got = guest.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(got.as_deref(), Some(msg.as_slice()));
    guest.disconnect();
    device.join().unwrap();
}

#[test]
fn tx_buffers_carry_the_message_then_junk() {
    let path = socket_path("junk");
    let device = spawn_echo(
        &path,
        Quirks {
            hold_tx: true,
            ..Default::default()
        },
    );
    let mut guest = guest_for(&path, |_| {});
    guest.send(&message(0)).unwrap();
    // Buffer 0 is the first TX buffer, right after the two rings; find it via the plan's
    // public effect: scan guest memory for the message followed by 0xA5 filler.
    let mut mem = vec![0u8; guest.mem_size() as usize];
    guest.read_mem(guest.mem_base(), &mut mem).unwrap();
    let m = message(0);
    let at = mem
        .windows(m.len())
        .position(|w| w == m.as_slice())
        .expect("message in guest memory");
    assert!(mem[at + m.len()..at + guest.buf_len() as usize]
        .iter()
        .all(|&b| b == 0xA5));
    guest.disconnect();
    device.join().unwrap();
}

#[test]
fn works_without_protocol_features_or_event_idx() {
    let path = socket_path("plain");
    let device = spawn_echo(
        &path,
        Quirks {
            withhold: PROTOCOL_FEATURES | EVENT_IDX,
            ..Default::default()
        },
    );
    let mut guest = guest_for(&path, |_| {});
    assert_eq!(guest.features(), VERSION_1);
    assert!(!guest.event_idx());
    for i in 0..300 {
        guest.send(&message(i)).unwrap();
        let got = guest.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(got.as_deref(), Some(message(i).as_slice()));
    }
    guest.disconnect();
    device.join().unwrap();
}

#[test]
fn a_legacy_device_without_version_1_is_served_as_virtio_uml_does() {
    let path = socket_path("legacy");
    let device = spawn_echo(
        &path,
        Quirks {
            withhold: VERSION_1,
            ..Default::default()
        },
    );
    let mut guest = guest_for(&path, |_| {});
    assert_eq!(guest.features() & VERSION_1, 0, "VERSION_1 is not acked");
    for i in 0..300 {
        guest.send(&message(i)).unwrap();
        let got = guest.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(got.as_deref(), Some(message(i).as_slice()));
    }
    guest.disconnect();
    device.join().unwrap();
}

#[test]
fn typed_messages_round_trip() {
    use hwsim_frame::nl::{TxFrameRepr, TxRate};
    use hwsim_frame::{GuestMessage, MacAddr};

    let path = socket_path("typed");
    let device = spawn_echo(&path, Quirks::default());
    let mut guest = guest_for(&path, |_| {});
    let frame = [
        0x08u8, 0x00, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 1, 0,
    ];
    let mut frame = frame.to_vec();
    frame.resize(60, 0x5a);
    let repr = TxFrameRepr {
        transmitter: MacAddr([0x42, 0, 0, 0, 1, 0]),
        frame: &frame,
        flags: 0,
        freq: Some(2412),
        tx_info: [
            TxRate { idx: 0, count: 2 },
            TxRate::UNUSED,
            TxRate::UNUSED,
            TxRate::UNUSED,
        ],
        tx_info_flags: None,
        cookie: 0x1122_3344_5566_7788,
    };
    guest.send_message(&GuestMessage::Frame(repr)).unwrap();
    let bytes = guest
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .expect("echo");
    match GuestMessage::parse(&bytes).expect("parses") {
        GuestMessage::Frame(back) => assert_eq!(back, repr),
        other => panic!("unexpected {other:?}"),
    }
    guest.disconnect();
    device.join().unwrap();
}

#[test]
fn guest_moves_between_threads() {
    fn is_send<T: Send>() {}
    is_send::<Guest>();
}
