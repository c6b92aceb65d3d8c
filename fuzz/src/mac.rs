//! The 802.11 MAC header view: every accessor on arbitrary bytes, checked or not, and what
//! a checked view promises about the fields its frame control announces.

use hwsim_frame::ie;
use hwsim_frame::mac::{Frame, FrameType};

/// Every accessor, on an unchecked and (when it checks) a checked view; then the body's
/// elements of a management frame through the element checks.
pub fn check_frame(buf: &[u8]) {
    poke(&Frame::new_unchecked(buf));
    let Ok(f) = Frame::new_checked(buf) else {
        return;
    };
    poke(&f);
    let fc = f.frame_control();
    let data_or_mgmt = matches!(fc.frame_type(), FrameType::Management | FrameType::Data);
    assert!(
        f.header_len() <= buf.len(),
        "a checked view holds its header"
    );
    assert_eq!(f.header_len(), fc.header_len());
    assert_eq!(f.payload(), &buf[f.header_len()..]);
    assert_eq!(f.as_bytes(), buf);
    assert_eq!(f.addr3().is_some(), data_or_mgmt);
    assert_eq!(f.sequence_control().is_some(), data_or_mgmt);
    assert_eq!(f.addr4().is_some(), fc.has_addr4());
    assert_eq!(f.qos_control().is_some(), fc.is_qos_data());
    assert_eq!(f.qos_tid().is_some(), fc.is_qos_data());
    assert!(f.qos_tid().is_none_or(|t| t < 16));
    assert!(f.fragment_number().is_none_or(|n| n < 16));
    assert!(f.sequence_number().is_none_or(|n| n < 4096));
    if data_or_mgmt {
        assert!(
            f.addr2().is_some(),
            "data and management frames have a transmitter"
        );
    }
    assert_eq!(f.receiver(), f.addr1());
    assert_eq!(f.transmitter(), f.addr2());
    if let Some(elements) = ie::mgmt_body_elements(&f) {
        assert!(fc.frame_type() == FrameType::Management && !fc.protected());
        for e in elements.take(256) {
            let Ok(e) = e else { break };
            crate::ie::check_element(&e);
        }
    }
}

fn poke(f: &Frame<&[u8]>) {
    let fc = f.frame_control();
    let _ = (
        fc.protocol_version(),
        fc.frame_type(),
        fc.subtype(),
        fc.to_ds(),
    );
    let _ = (
        fc.from_ds(),
        fc.more_fragments(),
        fc.retry(),
        fc.power_mgmt(),
    );
    let _ = (fc.more_data(), fc.protected(), fc.order(), fc.is_qos_data());
    let _ = (fc.has_addr4(), fc.header_len(), f.check_len());
    let _ = (f.duration(), f.addr1(), f.addr2(), f.addr3(), f.addr4());
    let _ = (
        f.sequence_control(),
        f.sequence_number(),
        f.fragment_number(),
    );
    let _ = (f.qos_control(), f.qos_tid(), f.header_len(), f.payload());
    let _ = (f.receiver(), f.transmitter(), f.destination(), f.source());
    let _ = (
        f.bssid(),
        f.is_group_addressed(),
        f.is_qos_data(),
        f.is_beacon(),
    );
    let _ = (
        f.is_probe_response(),
        f.is_probe_request(),
        f.is_management(),
    );
    let _ = (f.is_control(), f.is_data(), f.is_ack());
}
