//! Tests for the 802.11 header view against hand-laid frames.

use super::*;

const A: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0xa1]);
const B: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0xb2]);
const C: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0xc3]);
const D: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0xd4]);

/// Frame control bytes, duration 0x013a, up to four addresses, sequence control.
fn header(fc: [u8; 2], addrs: &[MacAddr], seq: u16) -> Vec<u8> {
    let mut f = vec![fc[0], fc[1], 0x3a, 0x01];
    for (i, a) in addrs.iter().enumerate() {
        f.extend_from_slice(&a.0);
        if i == 2 {
            f.extend_from_slice(&seq.to_le_bytes());
        }
    }
    f
}

#[test]
fn beacon() {
    let mut f = header([0x80, 0x00], &[MacAddr::BROADCAST, B, B], 0x0010);
    let body = [0u8; 12]; // timestamp, interval, capabilities
    f.extend_from_slice(&body);
    f.extend_from_slice(&[0, 4, b't', b'e', b's', b't']); // SSID element
    let fr = Frame::new_checked(&f[..]).unwrap();
    let fc = fr.frame_control();
    assert_eq!(fc.frame_type(), FrameType::Management);
    assert_eq!(fc.subtype(), mgmt_subtype::BEACON);
    assert!(fr.is_beacon() && fr.is_management() && !fr.is_probe_response());
    assert!(fr.is_group_addressed());
    assert_eq!(fr.duration(), 0x013a);
    assert_eq!(fr.receiver(), MacAddr::BROADCAST);
    assert_eq!(fr.transmitter(), Some(B));
    assert_eq!(fr.destination(), MacAddr::BROADCAST);
    assert_eq!(fr.source(), Some(B));
    assert_eq!(fr.bssid(), Some(B));
    assert_eq!(fr.addr4(), None);
    assert_eq!(fr.sequence_number(), Some(1));
    assert_eq!(fr.fragment_number(), Some(0));
    assert_eq!(fr.qos_tid(), None);
    assert_eq!(fr.header_len(), 24);
    assert_eq!(fr.payload().len(), 18);
    assert_eq!(&fr.payload()[12..], &[0, 4, b't', b'e', b's', b't']);
    assert_eq!(fr.as_bytes(), &f[..]);
}

#[test]
fn probe_response_and_request() {
    let f = header([0x50, 0x00], &[A, B, B], 0);
    let fr = Frame::new_checked(&f[..]).unwrap();
    assert!(fr.is_probe_response() && !fr.is_beacon() && !fr.is_group_addressed());
    let f = header(
        [0x40, 0x00],
        &[MacAddr::BROADCAST, A, MacAddr::BROADCAST],
        0,
    );
    assert!(Frame::new_checked(&f[..]).unwrap().is_probe_request());
}

#[test]
fn qos_data_tid() {
    // QoS data, To DS: addr1 = BSSID, addr2 = SA, addr3 = DA.
    let mut f = header([0x88, 0x01], &[B, A, C], 0x1234);
    f.extend_from_slice(&[0x25, 0x00]); // TID 5, EOSP bit 4 set, ack policy 1
    f.extend_from_slice(&[0xaa, 0xaa, 0x03]);
    let fr = Frame::new_checked(&f[..]).unwrap();
    assert!(fr.is_qos_data() && fr.is_data());
    assert_eq!(fr.frame_control().subtype(), data_subtype::QOS_DATA);
    assert_eq!(fr.qos_control(), Some(0x0025));
    assert_eq!(fr.qos_tid(), Some(5));
    assert_eq!(fr.header_len(), 26);
    assert_eq!(fr.payload(), &[0xaa, 0xaa, 0x03]);
    assert_eq!(fr.sequence_control(), Some(0x1234));
    assert_eq!(fr.sequence_number(), Some(0x123));
    assert_eq!(fr.fragment_number(), Some(4));
    assert_eq!(fr.bssid(), Some(B));
    assert_eq!(fr.source(), Some(A));
    assert_eq!(fr.destination(), C);

    // +HTC adds four bytes.
    let mut f = header([0x88, 0x81], &[B, A, C], 0);
    f.extend_from_slice(&[0x07, 0x00, 1, 2, 3, 4]);
    let fr = Frame::new_checked(&f[..]).unwrap();
    assert!(fr.frame_control().order());
    assert_eq!(fr.header_len(), 30);
    assert_eq!(fr.qos_tid(), Some(7));
    assert!(fr.payload().is_empty());

    // QoS Null carries a TID too; a plain data frame does not.
    let mut f = header([0xc8, 0x01], &[B, A, C], 0);
    f.extend_from_slice(&[0x06, 0x00]);
    assert_eq!(Frame::new_checked(&f[..]).unwrap().qos_tid(), Some(6));
    let f = header([0x08, 0x01], &[B, A, C], 0);
    assert_eq!(Frame::new_checked(&f[..]).unwrap().qos_tid(), None);
}

#[test]
fn ack_and_other_control_frames() {
    let ack = [0xd4, 0x00, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0xa1];
    let fr = Frame::new_checked(&ack[..]).unwrap();
    assert!(fr.is_ack() && fr.is_control());
    assert_eq!(fr.frame_control().subtype(), ctrl_subtype::ACK);
    assert_eq!(fr.header_len(), 10);
    assert_eq!(fr.addr1(), A);
    assert_eq!(fr.addr2(), None);
    assert_eq!(fr.addr3(), None);
    assert_eq!(fr.sequence_control(), None);
    assert_eq!(fr.source(), None);
    assert_eq!(fr.bssid(), None);
    assert_eq!(fr.destination(), A);
    assert!(fr.payload().is_empty());

    // RTS: receiver + transmitter, 16 bytes; 10 bytes of it are not enough.
    let mut rts = vec![0xb4, 0x00, 0x10, 0x00];
    rts.extend_from_slice(&A.0);
    rts.extend_from_slice(&B.0);
    let fr = Frame::new_checked(&rts[..]).unwrap();
    assert_eq!(fr.header_len(), 16);
    assert_eq!((fr.receiver(), fr.transmitter()), (A, Some(B)));
    assert_eq!(
        Frame::new_checked(&rts[..10]),
        Err(Error::Truncated {
            needed: 16,
            len: 10
        })
    );
    // CTS is 10 bytes.
    let cts = [0xc4, 0x00, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0xb2];
    assert_eq!(Frame::new_checked(&cts[..]).unwrap().transmitter(), None);
}

#[test]
fn data_addresses_per_ds_bits() {
    // (flags byte, addresses, expected destination, source, bssid)
    let cases = [
        (0x00, [A, B, C], A, Some(B), Some(C)), // IBSS / TDLS: DA, SA, BSSID
        (0x01, [C, B, A], A, Some(B), Some(C)), // To AP: BSSID, SA, DA
        (0x02, [A, C, B], A, Some(B), Some(C)), // From AP: DA, BSSID, SA
    ];
    for (flags, addrs, da, sa, bssid) in cases {
        let f = header([0x08, flags], &addrs, 0);
        let fr = Frame::new_checked(&f[..]).unwrap();
        assert_eq!(fr.header_len(), 24, "flags {flags:#x}");
        assert_eq!(fr.destination(), da, "flags {flags:#x}");
        assert_eq!(fr.source(), sa, "flags {flags:#x}");
        assert_eq!(fr.bssid(), bssid, "flags {flags:#x}");
        assert_eq!(fr.addr4(), None);
        assert_eq!(fr.receiver(), addrs[0]);
        assert_eq!(fr.transmitter(), Some(addrs[1]));
        assert_eq!(fr.frame_control().to_ds(), flags & 1 != 0);
        assert_eq!(fr.frame_control().from_ds(), flags & 2 != 0);
    }
}

#[test]
fn four_address_frames() {
    // WDS / mesh: RA, TA, DA, SA.
    let mut f = header([0x08, 0x03], &[A, B, C, D], 0x0020);
    f.push(0x42);
    let fr = Frame::new_checked(&f[..]).unwrap();
    assert!(fr.frame_control().has_addr4());
    assert_eq!(fr.header_len(), 30);
    assert_eq!(fr.receiver(), A);
    assert_eq!(fr.transmitter(), Some(B));
    assert_eq!(fr.destination(), C);
    assert_eq!(fr.source(), Some(D));
    assert_eq!(fr.addr4(), Some(D));
    assert_eq!(fr.bssid(), None);
    assert_eq!(fr.sequence_number(), Some(2));
    assert_eq!(fr.payload(), &[0x42]);

    // QoS with four addresses: QoS Control after addr4.
    let mut f = header([0x88, 0x03], &[A, B, C, D], 0);
    f.extend_from_slice(&[0x03, 0x00]);
    let fr = Frame::new_checked(&f[..]).unwrap();
    assert_eq!(fr.header_len(), 32);
    assert_eq!(fr.qos_tid(), Some(3));
    assert_eq!(
        Frame::new_checked(&f[..31]),
        Err(Error::Truncated {
            needed: 32,
            len: 31
        })
    );
}

#[test]
fn truncated_headers_are_rejected() {
    let beacon = header([0x80, 0x00], &[MacAddr::BROADCAST, B, B], 0);
    let four = header([0x08, 0x03], &[A, B, C, D], 0);
    let mut qos = header([0x88, 0x01], &[B, A, C], 0);
    qos.extend_from_slice(&[0, 0]);
    for (bytes, needed) in [(&beacon, 24), (&four, 30), (&qos, 26)] {
        assert!(Frame::new_checked(&bytes[..]).is_ok());
        assert_eq!(
            Frame::new_checked(&bytes[..needed - 1]),
            Err(Error::Truncated {
                needed,
                len: needed - 1
            })
        );
    }
    for len in 0..10 {
        assert_eq!(
            Frame::new_checked(&beacon[..len]),
            Err(Error::Truncated { needed: 10, len })
        );
    }
    assert_eq!(
        Error::Truncated { needed: 10, len: 0 }.name(),
        "mac_truncated"
    );
}

#[test]
fn frame_control_bits() {
    type Getter = fn(FrameControl) -> bool;
    let names: [(u16, Getter); 8] = [
        (8, FrameControl::to_ds),
        (9, FrameControl::from_ds),
        (10, FrameControl::more_fragments),
        (11, FrameControl::retry),
        (12, FrameControl::power_mgmt),
        (13, FrameControl::more_data),
        (14, FrameControl::protected),
        (15, FrameControl::order),
    ];
    for (bit, get) in names {
        for (other, _) in names {
            assert_eq!(
                get(FrameControl(1 << other)),
                bit == other,
                "bit {bit} vs {other}"
            );
        }
    }
    let fc = FrameControl(u16::from_le_bytes([0xd4, 0x00]));
    assert_eq!(
        (fc.frame_type(), fc.subtype(), fc.protocol_version()),
        (FrameType::Control, 13, 0)
    );
    assert_eq!(FrameControl(0x000c).frame_type(), FrameType::Extension);
    assert_eq!(FrameControl(0x000c).header_len(), 10);
}

#[test]
fn unchecked_short_buffer_reads_defaults() {
    let fr = Frame::new_unchecked(&[0x88u8, 0x03, 0x00][..]);
    assert_eq!(fr.addr1(), MacAddr::default());
    assert_eq!(fr.addr2(), None);
    assert_eq!(fr.addr4(), None);
    assert_eq!(fr.qos_tid(), None);
    assert_eq!(fr.duration(), 0);
    assert!(fr.payload().is_empty());
    assert_eq!(fr.destination(), MacAddr::default());
}
