//! Tests for the netlink layer: literal wire bytes, round trips and hostile input.

use super::*;
use crate::MacAddr;

const RADIO0: MacAddr = MacAddr([0x42, 0, 0, 0, 0, 0]);
const RADIO1: MacAddr = MacAddr([0x42, 0, 0, 0, 1, 0]);

/// Builds a message by hand (independent of the crate's writer): header with `cmd`,
/// then each `(nla_type, payload)` padded to 4 bytes.
fn build(command: u8, attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let mut m = vec![0u8; HEADER_LEN];
    for (t, p) in attrs {
        m.extend_from_slice(&((p.len() + 4) as u16).to_ne_bytes());
        m.extend_from_slice(&t.to_ne_bytes());
        m.extend_from_slice(p);
        while m.len() % 4 != 0 {
            m.push(0);
        }
    }
    let len = m.len() as u32;
    m[0..4].copy_from_slice(&len.to_ne_bytes());
    m[16] = command;
    m[17] = 1;
    m
}

/// A minimal valid guest FRAME message plus optional extra attributes.
fn guest_frame(frame: &[u8], extra: &[(u16, &[u8])]) -> Vec<u8> {
    let cookie = 7u64.to_ne_bytes();
    let mut attrs: Vec<(u16, &[u8])> = vec![
        (attr::ADDR_TRANSMITTER, &RADIO0.0),
        (attr::FRAME, frame),
        (attr::COOKIE, &cookie),
    ];
    attrs.extend_from_slice(extra);
    build(cmd::FRAME, &attrs)
}

fn data_frame(len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    if len >= 2 {
        f[0] = 0x08; // data
        f[1] = 0x01; // ToDS
    }
    for (i, b) in f.iter_mut().enumerate().skip(2) {
        *b = i as u8;
    }
    f
}

// ---------------------------------------------------------------- literal wire bytes

/// The spec's §2 example RX FRAME message; frame bytes 0x00..0x17.
#[cfg(target_endian = "little")]
fn spec_example() -> Vec<u8> {
    let mut m = vec![
        0x54, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // nlmsg_len 84, type 0, flags 0
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // seq, pid
        0x02, 0x01, 0x00, 0x00, // FRAME, version 1
        0x0a, 0x00, 0x01, 0x00, 0x42, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // RECEIVER
        0x1c, 0x00, 0x03, 0x00, // FRAME, 24 bytes follow
    ];
    m.extend(0u8..24);
    m.extend_from_slice(&[
        0x08, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, // RX_RATE 1
        0x08, 0x00, 0x13, 0x00, 0x6c, 0x09, 0x00, 0x00, // FREQ 2412
        0x08, 0x00, 0x06, 0x00, 0xc3, 0xff, 0xff, 0xff, // SIGNAL -61
    ]);
    assert_eq!(m.len(), 84);
    m
}

#[cfg(target_endian = "little")]
#[test]
fn rx_frame_emit_matches_spec_example() {
    let frame: Vec<u8> = (0u8..24).collect();
    let repr = RxFrameRepr {
        receiver: RADIO1,
        frame: &frame,
        rx_rate: 1,
        freq: Some(2412),
        signal: -61,
    };
    assert_eq!(repr.buffer_len(), 84);
    let mut buf = [0xeeu8; 3776];
    assert_eq!(repr.emit(&mut buf), Ok(84));
    assert_eq!(&buf[..84], &spec_example()[..]);
    assert!(buf[84..].iter().all(|&b| b == 0xee), "wrote past nlmsg_len");
}

#[cfg(target_endian = "little")]
#[test]
fn rx_frame_parse_spec_example() {
    let bytes = spec_example();
    let msg = Message::new_checked(&bytes[..]).unwrap();
    assert_eq!(msg.nlmsg_len(), 84);
    assert_eq!(msg.nlmsg_type(), 0);
    assert_eq!(msg.nlmsg_flags(), 0);
    assert_eq!(msg.cmd(), cmd::FRAME);
    assert_eq!(msg.version(), 1);
    let kinds: Vec<u16> = msg.attributes().map(|a| a.unwrap().kind).collect();
    assert_eq!(
        kinds,
        [
            attr::ADDR_RECEIVER,
            attr::FRAME,
            attr::RX_RATE,
            attr::FREQ,
            attr::SIGNAL
        ]
    );

    let DeviceMessage::Frame(rx) = DeviceMessage::parse(&bytes).unwrap() else {
        panic!("not a frame");
    };
    assert_eq!(rx.receiver, RADIO1);
    assert_eq!(rx.frame, &(0u8..24).collect::<Vec<_>>()[..]);
    assert_eq!(rx.rx_rate, 1);
    assert_eq!(rx.freq, Some(2412));
    assert_eq!(rx.signal, -61);
    assert_eq!(RxFrameRepr::parse(&bytes), Ok(rx));
}

/// A guest FRAME as `mac80211_hwsim_tx_frame_nl()` lays it out (with the PAD that
/// 8-aligns the cookie), followed by skb garbage up to a 3776-byte descriptor.
#[cfg(target_endian = "little")]
fn kernel_tx_frame(with_pad: bool) -> Vec<u8> {
    let mut m = vec![
        0x78, 0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x00, // nlmsg_len 120, family 0x22
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // seq, pid
        0x02, 0x01, 0x00, 0x00, // FRAME, version 1
        0x0a, 0x00, 0x02, 0x00, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // TRANSMITTER
        0x1c, 0x00, 0x03, 0x00, // FRAME, 24 bytes follow
    ];
    m.extend_from_slice(&data_frame(24));
    m.extend_from_slice(&[
        0x08, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, // FLAGS REQ_TX_STATUS
        0x08, 0x00, 0x13, 0x00, 0x6c, 0x09, 0x00, 0x00, // FREQ 2412
        0x0c, 0x00, 0x07, 0x00, 0x00, 0x03, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, // TX_INFO
        0x10, 0x00, 0x15, 0x00, // TX_INFO_FLAGS
        0x00, 0x01, 0x00, 0xff, 0x00, 0x00, 0xff, 0x00, 0x00, 0xff, 0x00, 0x00,
    ]);
    if with_pad {
        m.extend_from_slice(&[0x04, 0x00, 0x14, 0x00]); // PAD
    }
    m.extend_from_slice(&[
        0x0c, 0x00, 0x08, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // COOKIE 7
    ]);
    let len = m.len() as u32;
    m[0..4].copy_from_slice(&len.to_ne_bytes());
    assert_eq!(len, if with_pad { 120 } else { 116 });
    // Trailing garbage that looks like another attribute must not be read.
    m.extend_from_slice(&[0x08, 0x00, 0x04, 0x00, 0xff, 0xff, 0xff, 0xff]);
    m.resize(3776, 0xa5);
    m
}

#[cfg(target_endian = "little")]
#[test]
fn guest_frame_in_kernel_layout_parses() {
    for with_pad in [true, false] {
        let bytes = kernel_tx_frame(with_pad);
        let GuestMessage::Frame(tx) = GuestMessage::parse(&bytes).unwrap() else {
            panic!("not a frame");
        };
        assert_eq!(tx.transmitter, RADIO0);
        assert_eq!(tx.frame, &data_frame(24)[..]);
        assert_eq!(tx.flags, tx_flags::REQ_TX_STATUS, "garbage FLAGS was read");
        assert_eq!(tx.freq, Some(2412));
        assert_eq!(
            tx.tx_info,
            [
                TxRate { idx: 0, count: 3 },
                TxRate::UNUSED,
                TxRate::UNUSED,
                TxRate::UNUSED
            ]
        );
        assert_eq!(
            tx.tx_info_flags,
            Some([
                TxRateFlag {
                    idx: 0,
                    flags: rate_flags::USE_RTS_CTS
                },
                TxRateFlag::UNUSED,
                TxRateFlag::UNUSED,
                TxRateFlag::UNUSED
            ])
        );
        assert_eq!(tx.cookie, 7);

        // Our emit writes the kernel's order minus PAD.
        let mut out = vec![0u8; tx.buffer_len()];
        assert_eq!(tx.emit(&mut out), Ok(116));
        let mut expected = kernel_tx_frame(false);
        expected.truncate(116);
        expected[4] = 0; // we emit family id 0
        assert_eq!(out, expected);
    }
}

// ---------------------------------------------------------------- round trips

#[test]
fn tx_frame_round_trip() {
    let frame = data_frame(100);
    for (freq, flags) in [
        (None, None),
        (
            Some(5180),
            Some(
                [TxRateFlag {
                    idx: 7,
                    flags: 0x0123,
                }; 4],
            ),
        ),
    ] {
        let repr = TxFrameRepr {
            transmitter: RADIO1,
            frame: &frame,
            flags: tx_flags::REQ_TX_STATUS | tx_flags::NO_ACK,
            freq,
            tx_info: [
                TxRate { idx: 3, count: 2 },
                TxRate { idx: 1, count: 1 },
                TxRate::UNUSED,
                TxRate::UNUSED,
            ],
            tx_info_flags: flags,
            cookie: 0x0102_0304_0506_0708,
        };
        let mut buf = vec![0u8; 4096];
        let n = repr.emit(&mut buf).unwrap();
        assert_eq!(n, repr.buffer_len());
        assert_eq!(
            Message::new_checked(&buf[..]).unwrap().nlmsg_len() as usize,
            n
        );
        assert_eq!(GuestMessage::parse(&buf), Ok(GuestMessage::Frame(repr)));
        assert_eq!(TxFrameRepr::parse(&buf[..n]), Ok(repr));
    }
}

#[test]
fn mac_addr_and_pmsr_round_trip() {
    let m = MacAddrRepr {
        radio: RADIO0,
        addr: MacAddr([0x02, 0, 0, 0, 0, 0x10]),
    };
    let request = build(0, &[(1, &[1, 2, 3, 4]), (2, &[9; 6])]);
    let request = &request[HEADER_LEN..];
    let p = PmsrRepr {
        radio: RADIO1,
        request: Some(request),
    };
    for msg in [
        GuestMessage::AddMacAddr(m),
        GuestMessage::DelMacAddr(m),
        GuestMessage::StartPmsr(p),
        GuestMessage::AbortPmsr(p),
        GuestMessage::AbortPmsr(PmsrRepr {
            radio: RADIO1,
            request: None,
        }),
    ] {
        let mut buf = vec![0u8; msg.buffer_len()];
        assert_eq!(msg.emit(&mut buf), Ok(buf.len()));
        assert_eq!(Message::new_checked(&buf[..]).unwrap().cmd(), msg.cmd());
        assert_eq!(GuestMessage::parse(&buf), Ok(msg));
        assert_eq!(
            msg.radio(),
            if msg.cmd() <= cmd::DEL_MAC_ADDR {
                RADIO0
            } else {
                RADIO1
            }
        );
    }
    // The plain emits pick ADD / START; the request is marked nested.
    let mut buf = [0u8; 64];
    m.emit(&mut buf).unwrap();
    assert_eq!(GuestMessage::parse(&buf), Ok(GuestMessage::AddMacAddr(m)));
    let mut buf = [0u8; 64];
    let n = p.emit(&mut buf).unwrap();
    assert_eq!(
        GuestMessage::parse(&buf[..n]),
        Ok(GuestMessage::StartPmsr(p))
    );
    let raw = u16::from_ne_bytes([buf[34], buf[35]]);
    assert_eq!(raw, attr::PMSR_REQUEST | NLA_F_NESTED);
    let nested: Vec<_> = Attributes::new(request).map(|a| a.unwrap().kind).collect();
    assert_eq!(nested, [1, 2]);
    assert_eq!(
        m.emit_as(cmd::FRAME, &mut buf),
        Err(Error::UnknownCommand(cmd::FRAME))
    );
    assert_eq!(
        p.emit_as(cmd::ADD_MAC_ADDR, &mut buf),
        Err(Error::UnknownCommand(7))
    );
}

#[test]
fn device_messages_round_trip() {
    let frame = data_frame(MAX_FRAME_LEN);
    let msgs = [
        DeviceMessage::Frame(RxFrameRepr {
            receiver: RADIO0,
            frame: &frame,
            rx_rate: 11,
            freq: Some(2484),
            signal: -95,
        }),
        DeviceMessage::Frame(RxFrameRepr {
            receiver: RADIO0,
            frame: &frame[..MIN_RX_FRAME_LEN],
            rx_rate: 0,
            freq: None,
            signal: 0,
        }),
        DeviceMessage::TxInfo(TxInfoRepr {
            transmitter: RADIO1,
            flags: tx_flags::REQ_TX_STATUS | tx_flags::STAT_ACK,
            cookie: u64::MAX - 1,
            signal: -40,
            tx_info: [
                TxRate { idx: 0, count: 1 },
                TxRate {
                    idx: -1,
                    count: 0xff,
                },
                TxRate::UNUSED,
                TxRate::UNUSED,
            ],
            freq: Some(5955),
        }),
        DeviceMessage::TxInfo(TxInfoRepr {
            transmitter: RADIO1,
            flags: 0,
            cookie: 1,
            signal: -1,
            tx_info: [TxRate::UNUSED; 4],
            freq: None,
        }),
    ];
    for msg in msgs {
        let mut buf = vec![0x5au8; 3776];
        let n = msg.emit(&mut buf).unwrap();
        assert_eq!(n, msg.buffer_len());
        assert_eq!(n % 4, 0);
        assert_eq!(DeviceMessage::parse(&buf), Ok(msg));
    }
}

#[test]
fn tx_info_is_always_eight_bytes() {
    let r = TxInfoRepr {
        transmitter: RADIO1,
        flags: 0,
        cookie: 9,
        signal: -50,
        tx_info: [TxRate::UNUSED; 4],
        freq: None,
    };
    let mut buf = [0u8; 128];
    let n = r.emit(&mut buf).unwrap();
    let m = Message::new_checked(&buf[..n]).unwrap();
    let tx_info = m
        .attributes()
        .map(Result::unwrap)
        .find(|a| a.kind == attr::TX_INFO)
        .unwrap();
    assert_eq!(tx_info.payload, [0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0]);
    assert_eq!(m.cmd(), cmd::TX_INFO_FRAME);
    assert_eq!(TxInfoRepr::parse(&buf[..n]), Ok(r));
    assert_eq!(
        RxFrameRepr::parse(&buf[..n]),
        Err(Error::UnknownCommand(cmd::TX_INFO_FRAME))
    );
}

#[test]
fn emit_checks_buffer_and_frame_size() {
    let frame = data_frame(30);
    let rx = RxFrameRepr {
        receiver: RADIO0,
        frame: &frame,
        rx_rate: 1,
        freq: Some(2412),
        signal: -61,
    };
    let needed = rx.buffer_len();
    let mut small = vec![0u8; needed - 1];
    assert_eq!(
        rx.emit(&mut small),
        Err(Error::BufferTooSmall {
            needed,
            available: needed - 1
        })
    );
    let mut buf = vec![0u8; 4096];
    let short = RxFrameRepr {
        frame: &frame[..23],
        ..rx
    };
    assert_eq!(short.emit(&mut buf), Err(Error::FrameTooShort(23)));
    let big = data_frame(MAX_FRAME_LEN + 1);
    let long = RxFrameRepr { frame: &big, ..rx };
    assert_eq!(long.emit(&mut buf), Err(Error::FrameTooLong(2305)));
    let tx = TxFrameRepr {
        transmitter: RADIO0,
        frame: &[],
        flags: 0,
        freq: None,
        tx_info: [TxRate::UNUSED; 4],
        tx_info_flags: None,
        cookie: 1,
    };
    assert_eq!(tx.emit(&mut buf), Err(Error::FrameTooShort(0)));
    assert_eq!(
        TxFrameRepr { frame: &big, ..tx }.emit(&mut buf),
        Err(Error::FrameTooLong(2305))
    );
    // A 10-byte ACK is a valid guest TX frame.
    assert!(TxFrameRepr {
        frame: &frame[..10],
        ..tx
    }
    .emit(&mut buf)
    .is_ok());
}

// ---------------------------------------------------------------- liberal parsing

#[test]
fn attribute_order_unknown_types_and_flags_are_tolerated() {
    let frame = data_frame(40);
    let cookie = 0xdead_beef_u64.to_ne_bytes();
    let freq = 2437u32.to_ne_bytes();
    let flags = tx_flags::NO_ACK.to_ne_bytes();
    let bytes = build(
        cmd::FRAME,
        &[
            (attr::COOKIE, &cookie),
            (200, &[1, 2, 3]),                         // beyond any known type
            (attr::PAD, &[]),                          // padding
            (attr::MULTI_RADIO, &[0xff; 5]),           // known elsewhere, not ours: unchecked
            (attr::FREQ | NLA_F_NET_BYTEORDER, &freq), // flag bits are stripped
            (attr::FRAME, &frame),
            (attr::FLAGS, &flags),
            (attr::ADDR_TRANSMITTER, &RADIO1.0),
        ],
    );
    let GuestMessage::Frame(tx) = GuestMessage::parse(&bytes).unwrap() else {
        panic!("not a frame");
    };
    assert_eq!(tx.cookie, 0xdead_beef);
    assert_eq!(tx.freq, Some(2437));
    assert_eq!(tx.flags, tx_flags::NO_ACK);
    assert_eq!(tx.frame, &frame[..]);
    assert_eq!(tx.transmitter, RADIO1);
    assert_eq!(tx.tx_info, [TxRate::UNUSED; 4]);
    assert_eq!(tx.tx_info_flags, None);
}

#[test]
fn short_tx_info_fills_unused_and_duplicates_take_last() {
    let frame = data_frame(24);
    let bytes = guest_frame(
        &frame,
        &[
            (attr::TX_INFO, &[5, 1]),
            (attr::FREQ, &2412u32.to_ne_bytes()),
            (attr::FREQ, &2462u32.to_ne_bytes()),
        ],
    );
    let GuestMessage::Frame(tx) = GuestMessage::parse(&bytes).unwrap() else {
        panic!("not a frame");
    };
    assert_eq!(tx.tx_info[0], TxRate { idx: 5, count: 1 });
    assert_eq!(tx.tx_info[1..], [TxRate::UNUSED; 3]);
    assert_eq!(tx.freq, Some(2462));
}

#[test]
fn attribute_padding_past_message_end_is_fine() {
    // nlmsg_len ends right after an unpadded 10-byte attribute.
    let mut bytes = build(
        cmd::ADD_MAC_ADDR,
        &[
            (attr::ADDR_TRANSMITTER, &RADIO0.0),
            (attr::ADDR_RECEIVER, &RADIO1.0),
        ],
    );
    bytes.truncate(bytes.len() - 2);
    let len = bytes.len() as u32;
    bytes[0..4].copy_from_slice(&len.to_ne_bytes());
    assert_eq!(
        GuestMessage::parse(&bytes),
        Ok(GuestMessage::AddMacAddr(MacAddrRepr {
            radio: RADIO0,
            addr: RADIO1
        }))
    );
}

// ---------------------------------------------------------------- hostile input

fn set_len(bytes: &mut [u8], len: u32) {
    bytes[0..4].copy_from_slice(&len.to_ne_bytes());
}

#[test]
fn bad_message_lengths() {
    let good = guest_frame(&data_frame(24), &[]);
    assert_eq!(GuestMessage::parse(&good[..19]), Err(Error::Truncated));
    assert_eq!(DeviceMessage::parse(&[]), Err(Error::Truncated));
    for bad in [0u32, 4, 19] {
        let mut b = good.clone();
        set_len(&mut b, bad);
        assert_eq!(
            GuestMessage::parse(&b),
            Err(Error::BadMessageLength {
                nlmsg_len: bad,
                buf_len: good.len()
            })
        );
    }
    for bad in [good.len() as u32 + 1, u32::MAX] {
        let mut b = good.clone();
        set_len(&mut b, bad);
        assert_eq!(
            DeviceMessage::parse(&b),
            Err(Error::BadMessageLength {
                nlmsg_len: bad,
                buf_len: good.len()
            })
        );
    }
    // Exactly a header: a valid message with no attributes.
    let mut b = good.clone();
    set_len(&mut b, 20);
    assert_eq!(
        GuestMessage::parse(&b),
        Err(Error::MissingAttribute(attr::ADDR_TRANSMITTER))
    );
}

#[test]
fn attribute_running_past_nlmsg_len() {
    let mut b = guest_frame(&data_frame(24), &[]);
    let n = b.len();
    // Cut the message inside the COOKIE attribute; its bytes still sit in the buffer.
    set_len(&mut b, n as u32 - 4);
    assert_eq!(
        GuestMessage::parse(&b),
        Err(Error::BadAttribute {
            kind: attr::COOKIE,
            len: 12
        })
    );
    // A header that does not fit in the remaining 2 bytes.
    let mut b = guest_frame(&data_frame(24), &[]);
    b.extend_from_slice(&[0x08, 0x00]);
    set_len(&mut b, n as u32 + 2);
    assert_eq!(
        GuestMessage::parse(&b),
        Err(Error::BadAttribute { kind: 0, len: 2 })
    );
}

#[test]
fn nla_len_below_header() {
    for nla_len in [0u16, 1, 3] {
        let mut b = guest_frame(&data_frame(24), &[]);
        b[20..22].copy_from_slice(&nla_len.to_ne_bytes());
        assert_eq!(
            GuestMessage::parse(&b),
            Err(Error::BadAttribute {
                kind: attr::ADDR_TRANSMITTER,
                len: nla_len
            })
        );
        let msg = Message::new_checked(&b[..]).unwrap();
        let mut it = msg.attributes();
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none(), "iterator must stop after an error");
    }
}

#[test]
fn wrong_sizes_of_known_attributes() {
    let frame = data_frame(24);
    let cases: [(u16, &[u8]); 6] = [
        (attr::ADDR_TRANSMITTER, &[0x42, 0, 0, 0, 0, 0, 0]),
        (attr::FLAGS, &[1, 0, 0]),
        (attr::FREQ, &[0x6c, 0x09, 0, 0, 0]),
        (attr::COOKIE, &[1, 0, 0, 0]),
        (attr::TX_INFO, &[0; 10]),
        (attr::TX_INFO_FLAGS, &[0; 13]),
    ];
    for (kind, payload) in cases {
        let b = guest_frame(&frame, &[(kind, payload)]);
        assert_eq!(
            GuestMessage::parse(&b),
            Err(Error::BadAttribute {
                kind,
                len: payload.len() as u16 + 4
            }),
            "kind {kind}"
        );
    }
    // A 7-byte receiver in a device message.
    let b = build(
        cmd::FRAME,
        &[(attr::ADDR_RECEIVER, &[0x42, 0, 0, 0, 1, 0, 0])],
    );
    assert_eq!(
        DeviceMessage::parse(&b),
        Err(Error::BadAttribute { kind: 1, len: 11 })
    );
}

#[test]
fn frame_size_limits() {
    assert_eq!(
        GuestMessage::parse(&guest_frame(&data_frame(2305), &[])),
        Err(Error::FrameTooLong(2305))
    );
    assert!(GuestMessage::parse(&guest_frame(&data_frame(2304), &[])).is_ok());
    assert_eq!(
        GuestMessage::parse(&guest_frame(&[], &[])),
        Err(Error::FrameTooShort(0))
    );
    assert!(GuestMessage::parse(&guest_frame(&[0xd4], &[])).is_ok());

    let rx = |len: usize| {
        build(
            cmd::FRAME,
            &[
                (attr::ADDR_RECEIVER, &RADIO0.0),
                (attr::FRAME, &data_frame(len)),
                (attr::RX_RATE, &1u32.to_ne_bytes()),
                (attr::SIGNAL, &(-30i32).to_ne_bytes()),
            ],
        )
    };
    assert_eq!(DeviceMessage::parse(&rx(23)), Err(Error::FrameTooShort(23)));
    assert_eq!(
        DeviceMessage::parse(&rx(2305)),
        Err(Error::FrameTooLong(2305))
    );
    assert!(
        matches!(DeviceMessage::parse(&rx(24)), Ok(DeviceMessage::Frame(r)) if r.freq.is_none())
    );
}

#[test]
fn missing_required_attributes() {
    let frame = data_frame(24);
    let cookie = 1u64.to_ne_bytes();
    let no_cookie = build(
        cmd::FRAME,
        &[(attr::ADDR_TRANSMITTER, &RADIO0.0), (attr::FRAME, &frame)],
    );
    assert_eq!(
        GuestMessage::parse(&no_cookie),
        Err(Error::MissingAttribute(attr::COOKIE))
    );
    let no_frame = build(
        cmd::FRAME,
        &[(attr::ADDR_TRANSMITTER, &RADIO0.0), (attr::COOKIE, &cookie)],
    );
    assert_eq!(
        GuestMessage::parse(&no_frame),
        Err(Error::MissingAttribute(attr::FRAME))
    );
    let no_addr = build(cmd::DEL_MAC_ADDR, &[(attr::ADDR_TRANSMITTER, &RADIO0.0)]);
    assert_eq!(
        GuestMessage::parse(&no_addr),
        Err(Error::MissingAttribute(attr::ADDR_RECEIVER))
    );
    let no_radio = build(cmd::START_PMSR, &[]);
    assert_eq!(
        GuestMessage::parse(&no_radio),
        Err(Error::MissingAttribute(attr::ADDR_TRANSMITTER))
    );

    let rx_no_signal = build(
        cmd::FRAME,
        &[
            (attr::ADDR_RECEIVER, &RADIO0.0),
            (attr::FRAME, &frame),
            (attr::RX_RATE, &[0; 4]),
        ],
    );
    assert_eq!(
        DeviceMessage::parse(&rx_no_signal),
        Err(Error::MissingAttribute(attr::SIGNAL))
    );
    let txi_no_info = build(
        cmd::TX_INFO_FRAME,
        &[
            (attr::ADDR_TRANSMITTER, &RADIO0.0),
            (attr::FLAGS, &[0; 4]),
            (attr::COOKIE, &cookie),
            (attr::SIGNAL, &[0; 4]),
        ],
    );
    assert_eq!(
        DeviceMessage::parse(&txi_no_info),
        Err(Error::MissingAttribute(attr::TX_INFO))
    );
}

#[test]
fn unknown_commands() {
    let frame = data_frame(24);
    let mut b = guest_frame(&frame, &[]);
    b[16] = 99;
    assert_eq!(GuestMessage::parse(&b), Err(Error::UnknownCommand(99)));
    assert_eq!(DeviceMessage::parse(&b), Err(Error::UnknownCommand(99)));
    // Direction matters: TX_INFO_FRAME is not a guest command, ADD_MAC_ADDR not a device one.
    b[16] = cmd::TX_INFO_FRAME;
    assert_eq!(
        GuestMessage::parse(&b),
        Err(Error::UnknownCommand(cmd::TX_INFO_FRAME))
    );
    b[16] = cmd::ADD_MAC_ADDR;
    assert_eq!(
        DeviceMessage::parse(&b),
        Err(Error::UnknownCommand(cmd::ADD_MAC_ADDR))
    );
    b[16] = cmd::REPORT_PMSR;
    assert_eq!(
        DeviceMessage::parse(&b),
        Err(Error::UnknownCommand(cmd::REPORT_PMSR))
    );
}

#[test]
fn unchecked_view_on_short_buffer_reads_zero() {
    let m = Message::new_unchecked(&[0x30u8, 0, 0][..]);
    assert_eq!(m.nlmsg_len(), 0);
    assert_eq!(m.cmd(), 0);
    assert_eq!(m.attributes().count(), 0);
    assert_eq!(m.check_len(), Err(Error::Truncated));
}

#[test]
fn rate_structs_wire_form() {
    let r = TxRate {
        idx: -1,
        count: 0xff,
    };
    assert_eq!(r.to_bytes(), [0xff, 0xff]);
    assert_eq!(
        TxRate::from_bytes([0x05, 0x02]),
        TxRate { idx: 5, count: 2 }
    );
    let f = TxRateFlag {
        idx: -1,
        flags: 0x0201,
    };
    assert_eq!(
        f.to_bytes(),
        [0xff, 0x0201u16.to_ne_bytes()[0], 0x0201u16.to_ne_bytes()[1]]
    );
    assert_eq!(TxRateFlag::from_bytes(f.to_bytes()), f);
}

#[test]
fn error_names_are_distinct() {
    let all = [
        Error::Truncated,
        Error::BadMessageLength {
            nlmsg_len: 0,
            buf_len: 0,
        },
        Error::BadAttribute { kind: 0, len: 0 },
        Error::MissingAttribute(0),
        Error::FrameTooLong(0),
        Error::FrameTooShort(0),
        Error::UnknownCommand(0),
        Error::BufferTooSmall {
            needed: 0,
            available: 0,
        },
    ];
    let mut names: Vec<_> = all.iter().map(Error::name).collect();
    assert!(names
        .iter()
        .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
    names.sort();
    names.dedup();
    assert_eq!(names.len(), all.len());
    assert_eq!(Error::UnknownCommand(99).name(), "unknown_command");
}
