//! Writing management frames: the 24-byte header as a `Repr` ([`MgmtHeaderRepr`]), and a small
//! builder ([`MgmtBuilder`]) that appends fixed fields and elements after it. The AP MLD, the
//! demo's station and the tests all build their frames with these, not with their own pushes.

use super::{Error, Frame, FrameType};
use crate::ie::{self, IeRepr};
use crate::MacAddr;

/// Length of a management frame's MAC header (no HT Control field).
pub const MGMT_HEADER_LEN: usize = 24;

/// A management frame's MAC header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MgmtHeaderRepr {
    /// Subtype ([`super::mgmt_subtype`]).
    pub subtype: u8,
    /// The flags byte of Frame Control (retry, power management, more data, protected,
    /// order); 0 for most frames.
    pub flags: u8,
    /// Duration/ID.
    pub duration: u16,
    /// Receiver (addr1).
    pub addr1: MacAddr,
    /// Transmitter (addr2).
    pub addr2: MacAddr,
    /// BSSID (addr3).
    pub addr3: MacAddr,
    /// Sequence number (12 bits; higher bits are dropped).
    pub seq: u16,
    /// Fragment number (4 bits).
    pub frag: u8,
}

impl MgmtHeaderRepr {
    /// A header from `addr2` to `addr1` in BSS `addr3`, no flags, duration 0, fragment 0.
    pub fn new(subtype: u8, addr1: MacAddr, addr2: MacAddr, addr3: MacAddr, seq: u16) -> Self {
        MgmtHeaderRepr {
            subtype,
            flags: 0,
            duration: 0,
            addr1,
            addr2,
            addr3,
            seq,
            frag: 0,
        }
    }

    /// The header of `frame`, which must be a management frame.
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Result<Self, Error> {
        frame.check_len()?;
        let fc = frame.frame_control();
        let bytes = frame.as_bytes();
        let (Some(addr2), Some(addr3), Some(sc)) =
            (frame.addr2(), frame.addr3(), frame.sequence_control())
        else {
            return Err(Error::Truncated {
                needed: MGMT_HEADER_LEN,
                len: bytes.len(),
            });
        };
        if fc.frame_type() != FrameType::Management {
            return Err(Error::NotManagement);
        }
        Ok(MgmtHeaderRepr {
            subtype: fc.subtype(),
            flags: (fc.0 >> 8) as u8,
            duration: frame.duration(),
            addr1: frame.addr1(),
            addr2,
            addr3,
            seq: sc >> 4,
            frag: (sc & 0xf) as u8,
        })
    }

    /// Bytes [`MgmtHeaderRepr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        MGMT_HEADER_LEN
    }

    /// Writes the header into the first [`MGMT_HEADER_LEN`] bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let Some(out) = buf.get_mut(..MGMT_HEADER_LEN) else {
            return Err(Error::Truncated {
                needed: MGMT_HEADER_LEN,
                len: buf.len(),
            });
        };
        // Frame Control: version 0, type 0 (management), subtype in bits 4–7.
        out[0] = (self.subtype & 0x0f) << 4;
        out[1] = self.flags;
        out[2..4].copy_from_slice(&self.duration.to_le_bytes());
        out[4..10].copy_from_slice(&self.addr1.0);
        out[10..16].copy_from_slice(&self.addr2.0);
        out[16..22].copy_from_slice(&self.addr3.0);
        let sc = (self.seq << 4) | u16::from(self.frag & 0x0f);
        out[22..24].copy_from_slice(&sc.to_le_bytes());
        Ok(MGMT_HEADER_LEN)
    }
}

/// A management frame being built: the header, then fixed fields and elements in the order
/// they are appended. Management frames are built off the data path, so this owns a `Vec`.
#[derive(Clone, Debug)]
pub struct MgmtBuilder {
    frame: Vec<u8>,
}

impl MgmtBuilder {
    /// Starts a frame with `header`.
    pub fn new(header: &MgmtHeaderRepr) -> MgmtBuilder {
        let mut frame = vec![0u8; MGMT_HEADER_LEN];
        header
            .emit(&mut frame)
            .expect("the buffer holds exactly one header");
        MgmtBuilder { frame }
    }

    /// Appends a little-endian 16-bit field (capability, status, AID, reason, …).
    pub fn le16(mut self, value: u16) -> MgmtBuilder {
        self.frame.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// Appends a little-endian 64-bit field (timestamp).
    pub fn le64(mut self, value: u64) -> MgmtBuilder {
        self.frame.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// Appends raw bytes (fields without a helper, or elements already written).
    pub fn bytes(mut self, bytes: &[u8]) -> MgmtBuilder {
        self.frame.extend_from_slice(bytes);
        self
    }

    /// Appends an element with this ID (and extension ID) and data, fragmented when longer
    /// than 255 bytes.
    pub fn element(mut self, id: u8, ext: Option<u8>, data: &[u8]) -> MgmtBuilder {
        let at = self.frame.len();
        self.frame.resize(at + ie::element_len(ext, data.len()), 0);
        ie::write_element(&mut self.frame[at..], id, ext, data)
            .expect("the buffer was sized for the element");
        self
    }

    /// Appends a typed element.
    pub fn ie<'a, R: IeRepr<'a>>(mut self, repr: &R) -> MgmtBuilder {
        let at = self.frame.len();
        self.frame.resize(at + repr.element_len(), 0);
        let n = repr
            .emit_element(&mut self.frame[at..])
            .expect("the buffer was sized for the element");
        self.frame.truncate(at + n);
        self
    }

    /// Bytes so far.
    pub fn len(&self) -> usize {
        self.frame.len()
    }

    /// Whether nothing but the header is there yet (never: a builder starts with one).
    pub fn is_empty(&self) -> bool {
        self.frame.is_empty()
    }

    /// The frame.
    pub fn finish(self) -> Vec<u8> {
        self.frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mac::mgmt_subtype;

    const A: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const B: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);

    #[test]
    fn the_header_is_the_standards_layout() {
        let mut h = MgmtHeaderRepr::new(mgmt_subtype::DEAUTH, A, B, B, 0x123);
        h.frag = 5;
        h.duration = 0x0102;
        let mut buf = [0u8; MGMT_HEADER_LEN];
        assert_eq!(h.emit(&mut buf), Ok(24));
        assert_eq!(
            buf,
            [
                0xc0, 0x00, 0x02, 0x01, 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 2, 0x35,
                0x12
            ]
        );
        let f = Frame::new_checked(&buf[..]).unwrap();
        assert_eq!(MgmtHeaderRepr::parse(&f), Ok(h));
        assert!(h.emit(&mut [0u8; 23]).is_err());
    }

    #[test]
    fn parse_refuses_what_is_not_a_management_header() {
        let ack = [0xd4, 0, 0, 0, 2, 0, 0, 0, 0, 1];
        let f = Frame::new_checked(&ack[..]).unwrap();
        assert!(MgmtHeaderRepr::parse(&f).is_err());
        let mut data = [0u8; 24];
        data[0] = 0x08;
        let f = Frame::new_checked(&data[..]).unwrap();
        assert_eq!(MgmtHeaderRepr::parse(&f), Err(Error::NotManagement));
    }

    #[test]
    fn the_builder_appends_fields_and_elements_in_order() {
        let h = MgmtHeaderRepr::new(mgmt_subtype::ASSOC_RESP, A, B, B, 7);
        let long = [0xabu8; 300];
        let frame = MgmtBuilder::new(&h)
            .le16(0x0011)
            .le16(0)
            .le16(0xc001)
            .element(ie::id::SSID, None, b"mlo")
            .element(ie::id::VENDOR_SPECIFIC, None, &long)
            .finish();
        assert_eq!(&frame[24..30], &[0x11, 0, 0, 0, 0x01, 0xc0]);
        assert_eq!(&frame[30..35], &[0, 3, b'm', b'l', b'o']);
        // 300 bytes: a 255-byte element and a Fragment element of 45.
        assert_eq!(&frame[35..37], &[ie::id::VENDOR_SPECIFIC, 255]);
        assert_eq!(&frame[292..294], &[ie::id::FRAGMENT, 45]);
        assert_eq!(frame.len(), 35 + 2 + 255 + 2 + 45);
        let f = Frame::new_checked(&frame[..]).unwrap();
        let body = ie::mgmt_body_elements(&f).unwrap();
        let ids: Vec<u8> = body.map(|e| e.unwrap().id).collect();
        assert_eq!(ids, [ie::id::SSID, ie::id::VENDOR_SPECIFIC]);
    }
}
