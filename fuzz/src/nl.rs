//! The generic-netlink messages of the hwsim virtqueues, both directions: what a guest
//! writes on its TX queue (the daemon parses it as [`GuestMessage`]) and what the device
//! writes on a guest's RX queue (the built-in AP MLD's runtime and the guest frontend parse
//! it as [`DeviceMessage`]).

use hwsim_frame::nl::{self, Attributes, DeviceMessage, GuestMessage, Message, HEADER_LEN};

/// Every accessor of the raw view, the attribute walk and a nested walk of every payload.
pub fn poke_message(buf: &[u8]) {
    let m = Message::new_unchecked(buf);
    let _ = (
        m.nlmsg_len(),
        m.nlmsg_type(),
        m.nlmsg_flags(),
        m.nlmsg_seq(),
    );
    let _ = (m.nlmsg_pid(), m.cmd(), m.version(), m.reserved());
    if m.check_len().is_ok() {
        let len = usize::try_from(m.nlmsg_len()).expect("checked length fits usize");
        assert_eq!(
            m.payload(),
            &buf[HEADER_LEN..len],
            "payload is [20, nlmsg_len)"
        );
        assert!(Message::new_checked(buf).is_ok());
    } else {
        assert!(Message::new_checked(buf).is_err());
    }
    let mut walked = 0;
    for a in m.attributes() {
        match a {
            Ok(a) => {
                walked += 4 + a.payload.len();
                Attributes::new(a.payload).for_each(drop);
            }
            // The walk ends after its one error item.
            Err(_) => break,
        }
    }
    assert!(
        walked <= m.payload().len(),
        "attributes stay inside the payload"
    );
}

/// A guest's TX-queue buffer: parsed as the daemon does; what parses is emitted again and
/// must parse back to the same message, and the frame it carries goes through the MAC view.
pub fn check_guest_message(buf: &[u8]) {
    poke_message(buf);
    let Ok(msg) = GuestMessage::parse(buf) else {
        return;
    };
    assert_eq!(msg.cmd(), Message::new_unchecked(buf).cmd());
    let _ = msg.radio();
    let out = emit_exact(msg.buffer_len(), |b| msg.emit(b));
    assert_eq!(
        GuestMessage::parse(&out),
        Ok(msg),
        "guest message round trip"
    );
    match msg {
        GuestMessage::Frame(tx) => {
            assert_eq!(nl::TxFrameRepr::parse(buf), Ok(tx));
            crate::mac::check_frame(tx.frame);
        }
        GuestMessage::StartPmsr(p) | GuestMessage::AbortPmsr(p) => {
            if let Some(r) = p.request {
                Attributes::new(r).for_each(drop);
            }
        }
        GuestMessage::AddMacAddr(_) | GuestMessage::DelMacAddr(_) => {}
    }
}

/// A buffer of a guest's RX queue: parsed as the AP runtime and the guest frontend do, with
/// the same round trip.
pub fn check_device_message(buf: &[u8]) {
    poke_message(buf);
    let Ok(msg) = DeviceMessage::parse(buf) else {
        return;
    };
    assert_eq!(msg.cmd(), Message::new_unchecked(buf).cmd());
    let out = emit_exact(msg.buffer_len(), |b| msg.emit(b));
    assert_eq!(
        DeviceMessage::parse(&out),
        Ok(msg),
        "device message round trip"
    );
    match msg {
        DeviceMessage::Frame(rx) => {
            assert_eq!(nl::RxFrameRepr::parse(buf), Ok(rx));
            crate::mac::check_frame(rx.frame);
        }
        DeviceMessage::TxInfo(t) => assert_eq!(nl::TxInfoRepr::parse(buf), Ok(t)),
    }
}

/// Emits into a buffer of exactly `len` bytes (must succeed and fill it) and into one byte
/// less (must fail with `BufferTooSmall`, not panic).
fn emit_exact(len: usize, emit: impl Fn(&mut [u8]) -> Result<usize, nl::Error>) -> Vec<u8> {
    let mut out = vec![0u8; len];
    assert_eq!(emit(&mut out), Ok(len), "emit fills buffer_len bytes");
    let mut short = vec![0u8; len - 1];
    assert!(matches!(
        emit(&mut short),
        Err(nl::Error::BufferTooSmall { .. })
    ));
    out
}
