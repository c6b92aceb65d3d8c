//! Property-style robustness: pseudo-random and mutated inputs must never panic, and
//! whatever parses must survive an emit → parse round trip unchanged.

use crate::mac;
use crate::nl::{
    attr, cmd, DeviceMessage, GuestMessage, MacAddrRepr, Message, PmsrRepr, RxFrameRepr,
    TxFrameRepr, TxInfoRepr, TxRate, TxRateFlag,
};
use crate::MacAddr;

/// xorshift64: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Touches every accessor of a netlink message view.
fn poke_message(buf: &[u8]) {
    let m = Message::new_unchecked(buf);
    let _ = (
        m.nlmsg_len(),
        m.nlmsg_type(),
        m.nlmsg_flags(),
        m.nlmsg_seq(),
    );
    let _ = (
        m.nlmsg_pid(),
        m.cmd(),
        m.version(),
        m.reserved(),
        m.payload(),
    );
    let _ = m.check_len();
    for a in m.attributes().flatten() {
        // Nested walk of whatever the payload holds.
        crate::nl::Attributes::new(a.payload).for_each(drop);
    }
}

/// Parses as both directions; anything that parses must round-trip.
fn check_nl(buf: &[u8]) {
    poke_message(buf);
    if let Ok(msg) = GuestMessage::parse(buf) {
        let mut out = vec![0u8; msg.buffer_len()];
        let n = msg
            .emit(&mut out)
            .expect("re-emit of a parsed guest message");
        assert_eq!(n, out.len());
        assert_eq!(GuestMessage::parse(&out), Ok(msg));
        let _ = msg.radio();
        if let GuestMessage::StartPmsr(p) | GuestMessage::AbortPmsr(p) = msg {
            p.request.map(|r| crate::nl::Attributes::new(r).count());
        }
    }
    if let Ok(msg) = DeviceMessage::parse(buf) {
        let mut out = vec![0u8; msg.buffer_len()];
        let n = msg
            .emit(&mut out)
            .expect("re-emit of a parsed device message");
        assert_eq!(n, out.len());
        assert_eq!(DeviceMessage::parse(&out), Ok(msg));
    }
}

/// Touches every accessor of an 802.11 view, checked or not.
fn check_mac(buf: &[u8]) {
    let views = [
        Some(mac::Frame::new_unchecked(buf)),
        mac::Frame::new_checked(buf).ok(),
    ];
    for (checked, f) in views.into_iter().enumerate() {
        let Some(f) = f else { continue };
        let fc = f.frame_control();
        let _ = (
            fc.frame_type(),
            fc.subtype(),
            fc.to_ds(),
            fc.from_ds(),
            fc.more_fragments(),
        );
        let _ = (
            fc.retry(),
            fc.power_mgmt(),
            fc.more_data(),
            fc.protected(),
            fc.order(),
        );
        let _ = (f.duration(), f.addr1(), f.addr2(), f.addr3(), f.addr4());
        let _ = (
            f.sequence_control(),
            f.sequence_number(),
            f.fragment_number(),
        );
        let _ = (
            f.qos_control(),
            f.qos_tid(),
            f.payload(),
            f.receiver(),
            f.transmitter(),
        );
        let _ = (
            f.destination(),
            f.source(),
            f.bssid(),
            f.is_group_addressed(),
        );
        let _ = (
            f.is_qos_data(),
            f.is_beacon(),
            f.is_probe_response(),
            f.is_ack(),
        );
        if checked == 1 {
            // A checked view has every field its frame control promises.
            assert!(f.header_len() <= buf.len());
            assert_eq!(f.addr2().is_some(), f.header_len() >= 16);
            assert_eq!(f.addr4().is_some(), fc.has_addr4());
            assert_eq!(f.qos_tid().is_some(), fc.is_qos_data());
        }
    }
}

fn valid_messages() -> Vec<Vec<u8>> {
    let frame: Vec<u8> = (0u8..40).map(|i| i.wrapping_mul(37)).collect();
    let radio = MacAddr([0x42, 0, 0, 0, 1, 0]);
    let tx = TxFrameRepr {
        transmitter: radio,
        frame: &frame,
        flags: 1,
        freq: Some(2412),
        tx_info: [
            TxRate { idx: 0, count: 3 },
            TxRate::UNUSED,
            TxRate::UNUSED,
            TxRate::UNUSED,
        ],
        tx_info_flags: Some([TxRateFlag::UNUSED; 4]),
        cookie: 77,
    };
    let pmsr_req = [8u8, 0, 1, 0, 1, 2, 3, 4];
    let emit = |f: &dyn Fn(&mut [u8]) -> Result<usize, crate::nl::Error>| {
        let mut b = vec![0u8; 3000];
        let n = f(&mut b).unwrap();
        b.truncate(n);
        b
    };
    vec![
        emit(&|b| tx.emit(b)),
        emit(&|b| {
            GuestMessage::DelMacAddr(MacAddrRepr {
                radio,
                addr: MacAddr([2, 0, 0, 0, 0, 9]),
            })
            .emit(b)
        }),
        emit(&|b| {
            PmsrRepr {
                radio,
                request: Some(&pmsr_req),
            }
            .emit(b)
        }),
        emit(&|b| {
            RxFrameRepr {
                receiver: radio,
                frame: &frame,
                rx_rate: 1,
                freq: Some(2412),
                signal: -61,
            }
            .emit(b)
        }),
        emit(&|b| {
            TxInfoRepr {
                transmitter: radio,
                flags: 5,
                cookie: 77,
                signal: -50,
                tx_info: [TxRate { idx: 0, count: 1 }; 4],
                freq: None,
            }
            .emit(b)
        }),
    ]
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..20_000 {
        let len = rng.below(if i % 4 == 0 { 3000 } else { 120 });
        let mut buf = rng.bytes(len);
        // Half the time make the header plausible so attribute parsing is reached.
        if i % 2 == 0 && buf.len() >= 20 {
            let nlmsg_len = 20 + rng.below(buf.len() - 19) as u32;
            buf[0..4].copy_from_slice(&nlmsg_len.to_ne_bytes());
            buf[16] = [
                cmd::FRAME,
                cmd::TX_INFO_FRAME,
                cmd::ADD_MAC_ADDR,
                cmd::START_PMSR,
            ][i % 4];
        }
        check_nl(&buf);
        check_mac(&buf);
    }
}

#[test]
fn mutated_valid_messages_never_panic() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let seeds = valid_messages();
    for seed in &seeds {
        check_nl(seed);
        assert!(
            GuestMessage::parse(seed).is_ok() || DeviceMessage::parse(seed).is_ok(),
            "seed must be valid"
        );
    }
    let mut parsed = 0;
    for _ in 0..30_000 {
        let mut buf = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(buf.len());
            match rng.below(6) {
                0 => buf[at] = rng.next() as u8,
                1 => buf[at] ^= 1 << rng.below(8),
                // Overwrite a 16-bit field (nla_len / nla_type) with something edgy.
                2 if at + 2 <= buf.len() => {
                    let v = [0u16, 3, 4, 5, 0x7fff, 0xffff, attr::PAD][rng.below(7)];
                    buf[at..at + 2].copy_from_slice(&v.to_ne_bytes());
                }
                3 => buf.truncate(at),
                4 => {
                    let extra = rng.below(64);
                    buf.extend(rng.bytes(extra));
                }
                _ if buf.len() >= 4 => {
                    let v = rng.below(buf.len() + 8) as u32;
                    buf[0..4].copy_from_slice(&v.to_ne_bytes());
                }
                _ => {}
            }
            if buf.is_empty() {
                break;
            }
        }
        if GuestMessage::parse(&buf).is_ok() || DeviceMessage::parse(&buf).is_ok() {
            parsed += 1;
        }
        check_nl(&buf);
        if let Some(frame) = buf.get(24..) {
            check_mac(frame);
        }
    }
    // The mutations must leave a fair share valid, or the round-trip check is idle.
    assert!(parsed > 1_000, "only {parsed} mutants parsed");
}

#[test]
fn all_frame_controls_never_panic() {
    let mut rng = Rng(42);
    for fc in 0..=u16::MAX {
        let len = rng.below(40);
        let mut buf = rng.bytes(len);
        if buf.len() >= 2 {
            buf[0..2].copy_from_slice(&fc.to_le_bytes());
        }
        check_mac(&buf);
    }
}

// ---------------------------------------------------------------- information elements

use crate::ie::{
    self, EhtCapabilitiesRepr, EhtOperationRepr, IeRepr, MultiLink, MultiLinkRepr, MultiLinkType,
    NeighborApInfoRepr, NonInheritanceRepr, PerStaProfileRepr, ReducedNeighborReport, RsnRepr,
    RsnxRepr,
};

/// Emits a parsed `Repr` as data and as a whole element; both must parse back equal.
macro_rules! ie_round_trip {
    ($ty:ident, $repr:expr) => {{
        let repr = $repr;
        let mut out = vec![0u8; repr.buffer_len()];
        let n = IeRepr::emit(&repr, &mut out).expect(concat!("re-emit ", stringify!($ty)));
        assert_eq!(n, out.len());
        assert_eq!(<$ty as IeRepr>::parse(&out).as_ref(), Ok(&repr));
        let mut whole = vec![0u8; repr.element_len()];
        assert_eq!(repr.emit_element(&mut whole), Ok(whole.len()));
        let e = ie::Elements::new(&whole).next().unwrap().unwrap();
        assert!(ie::Elements::new(&whole).nth(1).is_none());
        assert_eq!(e.to_vec(), out);
    }};
}

/// Every element parser on `data` as an element's data: no panics, and whatever parses
/// round-trips.
fn check_ie_data(data: &[u8]) {
    // Multi-Link: view, strict parse, in-place parse.
    let view = MultiLink::new_unchecked(data);
    let _ = (
        view.control(),
        view.kind(),
        view.presence(),
        view.mld_addr(),
    );
    let _ = (
        view.common_info(),
        view.common_info_bytes(),
        view.link_info_bytes(),
    );
    let mut scratch = vec![0u8; data.len()];
    for sub in view.subelements().take(64).flatten() {
        let _ = (sub.len(), sub.pieces().count(), sub.element_id());
        if let Ok(joined) = sub.defragment(&mut scratch) {
            for kind in [
                MultiLinkType::Basic,
                MultiLinkType::ProbeRequest,
                MultiLinkType::Reconfiguration,
                MultiLinkType::Unknown(5),
            ] {
                if let Ok(p) = PerStaProfileRepr::parse(kind, joined) {
                    let _ = (p.link_id(), p.mac_addr(), p.capability_info());
                    p.elements(2).take(64).for_each(drop);
                    let mut out = vec![0u8; p.buffer_len(kind)];
                    let n = p.emit(kind, &mut out).expect("re-emit per-STA profile");
                    assert_eq!(n, out.len());
                    assert_eq!(PerStaProfileRepr::parse(kind, &out), Ok(p));
                }
            }
        }
    }
    if let Ok(ml) = MultiLinkRepr::parse(data) {
        ml.per_sta_profiles().count();
        ie_round_trip!(MultiLinkRepr, ml.clone());
    }
    let mut copy = data.to_vec();
    if let Ok(ml) = MultiLinkRepr::parse_in_place(&mut copy) {
        // Fragmented subelements come back fragmented the same way.
        let mut out = vec![0u8; ml.buffer_len()];
        assert_eq!(ml.emit(&mut out), Ok(out.len()));
        let mut again = out.clone();
        assert_eq!(MultiLinkRepr::parse_in_place(&mut again).as_ref(), Ok(&ml));
        let mut whole = vec![0u8; ml.element_len()];
        assert_eq!(ml.emit_element(&mut whole), Ok(whole.len()));
        let e = ie::Elements::new(&whole).next().unwrap().unwrap();
        let mut scratch = vec![0u8; e.len()];
        assert_eq!(MultiLinkRepr::parse_defragment(&e, &mut scratch), Ok(ml));
    }

    if let Ok(caps) = EhtCapabilitiesRepr::parse(data) {
        let _ = (caps.supports_320mhz(), caps.ppe_thresholds_present());
        for he0 in [0x00, 0x04, 0x0c, 0xff] {
            let _ = (
                caps.split_mcs_nss(he0, true),
                caps.split_mcs_nss(he0, false),
            );
        }
        ie_round_trip!(EhtCapabilitiesRepr, caps);
    }
    if let Ok(op) = EhtOperationRepr::parse(data) {
        ie_round_trip!(EhtOperationRepr, op);
    }
    if let Ok(rsn) = RsnRepr::parse(data) {
        let _ = (rsn.mfp_capable(), rsn.mfp_required());
        ie_round_trip!(RsnRepr, rsn);
    }
    if let Ok(x) = RsnxRepr::parse(data) {
        let _ = (x.sae_h2e(), x.sae_pk(), x.field_length(), x.bit(100));
        ie_round_trip!(RsnxRepr, x);
    }
    if let Ok(n) = NonInheritanceRepr::parse(data) {
        let _ = (n.excludes(ie::id::EXTENSION, None), n.excludes(45, None));
        ie_round_trip!(NonInheritanceRepr, n);
    }

    // Reduced Neighbor Report: what parses re-emits to the same bytes (bar the
    // reserved header bit).
    let mut at = 0;
    for ap in ReducedNeighborReport::new(data).take(64) {
        let Ok(ap) = ap else { break };
        let field_len = 4 + ap.tbtt_set.len();
        let infos: Result<Vec<_>, _> = ap.tbtt_infos().collect();
        if let Ok(infos) = infos {
            let repr = NeighborApInfoRepr {
                field_type: ap.field_type(),
                filtered: ap.filtered(),
                operating_class: ap.operating_class,
                channel: ap.channel,
                tbtt_infos: &infos,
            };
            let mut out = vec![0u8; repr.buffer_len()];
            assert_eq!(repr.emit(&mut out), Ok(field_len));
            let mut orig = data[at..at + field_len].to_vec();
            orig[0] &= !0x08;
            assert_eq!(out, orig);
        }
        at += field_len;
    }
}

/// Walks `buf` as elements and as subelements, parsing each as its type.
fn check_ie(buf: &[u8]) {
    let mut scratch = vec![0u8; buf.len()];
    for e in ie::Elements::new(buf).take(256).flatten() {
        let _ = (e.element_id(), e.len(), e.is_fragmented(), e.contiguous());
        if e.element_id() == ie::ElementId::MultiLink {
            let mut s = vec![0u8; e.len()];
            if let Ok(ml) = MultiLinkRepr::parse_defragment(&e, &mut s) {
                ml.per_sta_profiles().count();
            }
        }
        if let Ok(data) = e.defragment(&mut scratch) {
            check_ie_data(data);
        }
    }
    ie::Elements::subelements(buf).take(256).for_each(drop);
    check_ie_data(buf);
}

fn ie_seeds() -> Vec<Vec<u8>> {
    use crate::ie::tests as v;
    let mut seeds: Vec<Vec<u8>> = vec![
        v::ML_BASIC.to_vec(),
        v::ML_PROBE_REQ.to_vec(),
        v::ML_RECONF.to_vec(),
        v::EHT_CAPS.to_vec(),
        v::EHT_OP.to_vec(),
        v::RNR.to_vec(),
        v::RSN_SAE.to_vec(),
    ];
    seeds.push(v::with_three_profiles(|ml| {
        let mut out = vec![0u8; ml.element_len()];
        ml.emit_element(&mut out).unwrap();
        out
    }));
    let all: Vec<u8> = seeds.concat();
    seeds.push(all);
    seeds
}

#[test]
fn ie_random_bytes_never_panic() {
    let mut rng = Rng(0x5eed_1e11_0000_0001);
    for i in 0..20_000 {
        let len = rng.below(if i % 8 == 0 { 700 } else { 80 });
        let mut buf = rng.bytes(len);
        // Often make it look like Multi-Link data: a known type, a plausible common
        // info length, and a per-STA profile subelement header.
        if i % 2 == 0 && buf.len() >= 12 {
            buf[0] &= 0xf3;
            buf[2] = (1 + rng.below((buf.len() - 4).min(254))) as u8;
            let at = 2 + usize::from(buf[2]);
            if at + 2 <= buf.len() {
                buf[at] = if i % 4 == 0 { 0 } else { 254 };
                buf[at + 1] = rng.below((buf.len() - at).min(256)) as u8;
            }
        }
        check_ie(&buf);
        check_ie_data(&buf);
    }
}

#[test]
fn ie_mutated_vectors_never_panic() {
    let mut rng = Rng(0x1e_2e3e_4e5e);
    let seeds = ie_seeds();
    for seed in &seeds {
        check_ie(seed);
    }
    let mut parsed = 0;
    for _ in 0..20_000 {
        let mut buf = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(3) {
            if buf.is_empty() {
                break;
            }
            let at = rng.below(buf.len());
            match rng.below(6) {
                0 => buf[at] = rng.next() as u8,
                1 => buf[at] ^= 1 << rng.below(8),
                // Lengths that lie: edgy values anywhere.
                2 => buf[at] = [0u8, 1, 2, 0xfe, 0xff][rng.below(5)],
                3 => buf.truncate(at),
                4 => {
                    let extra = rng.below(32);
                    buf.extend(rng.bytes(extra));
                }
                _ => buf[at] = ie::ml_subelement::FRAGMENT,
            }
        }
        let ok = ie::Elements::new(&buf).all(|e| e.is_ok());
        if ok {
            parsed += 1;
        }
        check_ie(&buf);
        if let Some(data) = buf.get(3..) {
            check_ie_data(data);
        }
    }
    assert!(parsed > 2_000, "only {parsed} mutants walked cleanly");
}
