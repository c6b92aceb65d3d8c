//! A read-only view of the IEEE 802.11 MAC header, enough to route a frame: who it is
//! for, who sent it, which BSS, and which TID.
//!
//! 802.11 header fields are little-endian (unlike the netlink layer). Header lengths
//! follow Linux's `ieee80211_hdrlen()`: management 24; data 24, +6 with four addresses,
//! +2 for QoS, +4 HT Control when QoS and Order are set; control 10 for CTS/ACK and 16
//! for the other control frames that carry a transmitter address.

use core::ops::Range;

use crate::MacAddr;

mod mgmt;
#[cfg(test)]
mod tests;

pub use mgmt::{MgmtBuilder, MgmtHeaderRepr, MGMT_HEADER_LEN};

/// Management frame subtypes.
pub mod mgmt_subtype {
    /// Association request.
    pub const ASSOC_REQ: u8 = 0;
    /// Association response.
    pub const ASSOC_RESP: u8 = 1;
    /// Reassociation request.
    pub const REASSOC_REQ: u8 = 2;
    /// Reassociation response.
    pub const REASSOC_RESP: u8 = 3;
    /// Probe request.
    pub const PROBE_REQ: u8 = 4;
    /// Probe response.
    pub const PROBE_RESP: u8 = 5;
    /// Timing advertisement.
    pub const TIMING_ADV: u8 = 6;
    /// Beacon.
    pub const BEACON: u8 = 8;
    /// ATIM.
    pub const ATIM: u8 = 9;
    /// Disassociation.
    pub const DISASSOC: u8 = 10;
    /// Authentication.
    pub const AUTH: u8 = 11;
    /// Deauthentication.
    pub const DEAUTH: u8 = 12;
    /// Action.
    pub const ACTION: u8 = 13;
    /// Action no-ack.
    pub const ACTION_NO_ACK: u8 = 14;
}

/// Control frame subtypes.
pub mod ctrl_subtype {
    /// Trigger.
    pub const TRIGGER: u8 = 2;
    /// TACK.
    pub const TACK: u8 = 3;
    /// Beamforming report poll.
    pub const BFRP: u8 = 4;
    /// VHT/HE NDP announcement.
    pub const NDPA: u8 = 5;
    /// Control frame extension.
    pub const CTRL_EXT: u8 = 6;
    /// Control wrapper.
    pub const CTRL_WRAPPER: u8 = 7;
    /// Block Ack request.
    pub const BLOCK_ACK_REQ: u8 = 8;
    /// Block Ack.
    pub const BLOCK_ACK: u8 = 9;
    /// PS-Poll.
    pub const PS_POLL: u8 = 10;
    /// RTS.
    pub const RTS: u8 = 11;
    /// CTS.
    pub const CTS: u8 = 12;
    /// ACK.
    pub const ACK: u8 = 13;
    /// CF-End.
    pub const CF_END: u8 = 14;
    /// CF-End + CF-Ack.
    pub const CF_END_ACK: u8 = 15;
}

/// Data frame subtypes (bit 3 = QoS, bit 2 = no data).
pub mod data_subtype {
    /// Data.
    pub const DATA: u8 = 0;
    /// Data + CF-Ack.
    pub const DATA_CF_ACK: u8 = 1;
    /// Data + CF-Poll.
    pub const DATA_CF_POLL: u8 = 2;
    /// Data + CF-Ack + CF-Poll.
    pub const DATA_CF_ACK_POLL: u8 = 3;
    /// Null (no data).
    pub const NULL: u8 = 4;
    /// CF-Ack (no data).
    pub const CF_ACK: u8 = 5;
    /// CF-Poll (no data).
    pub const CF_POLL: u8 = 6;
    /// CF-Ack + CF-Poll (no data).
    pub const CF_ACK_POLL: u8 = 7;
    /// QoS Data.
    pub const QOS_DATA: u8 = 8;
    /// QoS Data + CF-Ack.
    pub const QOS_DATA_CF_ACK: u8 = 9;
    /// QoS Data + CF-Poll.
    pub const QOS_DATA_CF_POLL: u8 = 10;
    /// QoS Data + CF-Ack + CF-Poll.
    pub const QOS_DATA_CF_ACK_POLL: u8 = 11;
    /// QoS Null.
    pub const QOS_NULL: u8 = 12;
    /// QoS CF-Poll.
    pub const QOS_CF_POLL: u8 = 14;
    /// QoS CF-Ack + CF-Poll.
    pub const QOS_CF_ACK_POLL: u8 = 15;
    /// The QoS bit of a data subtype.
    pub const QOS_BIT: u8 = 0x08;
}

/// Byte offsets of header fields.
mod field {
    use core::ops::Range;

    pub const FRAME_CONTROL: Range<usize> = 0..2;
    pub const DURATION: Range<usize> = 2..4;
    pub const ADDR1: Range<usize> = 4..10;
    pub const ADDR2: Range<usize> = 10..16;
    pub const ADDR3: Range<usize> = 16..22;
    pub const SEQ_CTRL: Range<usize> = 22..24;
    pub const ADDR4: Range<usize> = 24..30;
    /// QoS Control of a 3-address frame; +6 with four addresses.
    pub const QOS_CTRL_3ADDR: usize = 24;
    pub const QOS_CTRL_4ADDR: usize = 30;
}

/// Shortest 802.11 frame (CTS / ACK): frame control, duration, addr1.
pub const MIN_HEADER_LEN: usize = 10;

/// Why a buffer is not an 802.11 frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The buffer is shorter than the header its frame control implies.
    #[error("802.11 frame of {len} bytes is shorter than its {needed}-byte header")]
    Truncated {
        /// Header length the frame control implies (at least 10).
        needed: usize,
        /// Buffer length.
        len: usize,
    },
    /// A management frame was expected.
    #[error("not a management frame")]
    NotManagement,
}

impl Error {
    /// A stable snake_case label per variant, for counters.
    pub fn name(&self) -> &'static str {
        match self {
            Error::Truncated { .. } => "mac_truncated",
            Error::NotManagement => "mac_not_management",
        }
    }
}

/// The two-bit frame type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// Management (0).
    Management,
    /// Control (1).
    Control,
    /// Data (2).
    Data,
    /// Extension (3), e.g. DMG / S1G beacons.
    Extension,
}

/// The 16-bit Frame Control field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameControl(pub u16);

impl FrameControl {
    fn bit(self, n: u16) -> bool {
        self.0 & (1 << n) != 0
    }

    /// Protocol version (0 for everything but S1G PV1).
    pub fn protocol_version(self) -> u8 {
        (self.0 & 0x3) as u8
    }

    /// Frame type.
    pub fn frame_type(self) -> FrameType {
        match (self.0 >> 2) & 0x3 {
            0 => FrameType::Management,
            1 => FrameType::Control,
            2 => FrameType::Data,
            _ => FrameType::Extension,
        }
    }

    /// Subtype (0..=15); see [`mgmt_subtype`], [`ctrl_subtype`], [`data_subtype`].
    pub fn subtype(self) -> u8 {
        ((self.0 >> 4) & 0xf) as u8
    }

    /// To DS.
    pub fn to_ds(self) -> bool {
        self.bit(8)
    }

    /// From DS.
    pub fn from_ds(self) -> bool {
        self.bit(9)
    }

    /// More Fragments.
    pub fn more_fragments(self) -> bool {
        self.bit(10)
    }

    /// Retry.
    pub fn retry(self) -> bool {
        self.bit(11)
    }

    /// Power Management.
    pub fn power_mgmt(self) -> bool {
        self.bit(12)
    }

    /// More Data.
    pub fn more_data(self) -> bool {
        self.bit(13)
    }

    /// Protected Frame.
    pub fn protected(self) -> bool {
        self.bit(14)
    }

    /// +HTC / Order.
    pub fn order(self) -> bool {
        self.bit(15)
    }

    /// Data frame with the QoS subtype bit (QoS Data, QoS Null, …).
    pub fn is_qos_data(self) -> bool {
        self.frame_type() == FrameType::Data && self.subtype() & data_subtype::QOS_BIT != 0
    }

    /// Data frame with both DS bits: four addresses.
    pub fn has_addr4(self) -> bool {
        self.frame_type() == FrameType::Data && self.to_ds() && self.from_ds()
    }

    /// Whether a control frame of this subtype carries a transmitter address.
    fn ctrl_has_addr2(self) -> bool {
        !matches!(
            self.subtype(),
            0 | 1 | ctrl_subtype::CTS | ctrl_subtype::ACK | ctrl_subtype::CTRL_EXT
        )
    }

    /// The header length this frame control implies (see the module docs). Unknown
    /// layouts (extension frames, control extension, reserved subtypes) give 10.
    pub fn header_len(self) -> usize {
        match self.frame_type() {
            FrameType::Management => 24,
            FrameType::Data => {
                let mut len = 24;
                if self.has_addr4() {
                    len += 6;
                }
                if self.is_qos_data() {
                    len += 2;
                    if self.order() {
                        len += 4;
                    }
                }
                len
            }
            FrameType::Control if self.ctrl_has_addr2() => 16,
            FrameType::Control | FrameType::Extension => MIN_HEADER_LEN,
        }
    }

    fn has_addr2(self) -> bool {
        match self.frame_type() {
            FrameType::Management | FrameType::Data => true,
            FrameType::Control => self.ctrl_has_addr2(),
            FrameType::Extension => false,
        }
    }

    fn has_addr3(self) -> bool {
        matches!(self.frame_type(), FrameType::Management | FrameType::Data)
    }
}

/// A view of an 802.11 frame (without FCS) in a buffer.
///
/// Accessors never panic. On a buffer [`Frame::new_checked`] accepted, every field the
/// frame control implies is present; on a shorter unchecked buffer missing fields read
/// as zero / `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

fn read_array<const N: usize>(buf: &[u8], range: Range<usize>) -> Option<[u8; N]> {
    buf.get(range)?.try_into().ok()
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without any check.
    pub fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// Wraps a buffer after checking it holds at least 10 bytes and the whole header
    /// its frame control implies.
    pub fn new_checked(buffer: T) -> Result<Frame<T>, Error> {
        let frame = Frame::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// The check [`Frame::new_checked`] performs.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        let needed = if len < MIN_HEADER_LEN {
            MIN_HEADER_LEN
        } else {
            self.header_len()
        };
        if len < needed {
            Err(Error::Truncated { needed, len })
        } else {
            Ok(())
        }
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole frame.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn le16(&self, range: Range<usize>) -> Option<u16> {
        read_array(self.buffer.as_ref(), range).map(u16::from_le_bytes)
    }

    fn addr(&self, range: Range<usize>) -> Option<MacAddr> {
        read_array(self.buffer.as_ref(), range).map(MacAddr)
    }

    /// Frame Control.
    pub fn frame_control(&self) -> FrameControl {
        FrameControl(self.le16(field::FRAME_CONTROL).unwrap_or(0))
    }

    /// Duration / ID.
    pub fn duration(&self) -> u16 {
        self.le16(field::DURATION).unwrap_or(0)
    }

    /// Address 1: the receiver (RA).
    pub fn addr1(&self) -> MacAddr {
        self.addr(field::ADDR1).unwrap_or_default()
    }

    /// Address 2: the transmitter (TA); `None` for CTS / ACK and other frames without it.
    pub fn addr2(&self) -> Option<MacAddr> {
        if self.frame_control().has_addr2() {
            self.addr(field::ADDR2)
        } else {
            None
        }
    }

    /// Address 3 (management and data frames).
    pub fn addr3(&self) -> Option<MacAddr> {
        if self.frame_control().has_addr3() {
            self.addr(field::ADDR3)
        } else {
            None
        }
    }

    /// Address 4 (data frames with both DS bits).
    pub fn addr4(&self) -> Option<MacAddr> {
        if self.frame_control().has_addr4() {
            self.addr(field::ADDR4)
        } else {
            None
        }
    }

    /// Sequence Control (management and data frames).
    pub fn sequence_control(&self) -> Option<u16> {
        if self.frame_control().has_addr3() {
            self.le16(field::SEQ_CTRL)
        } else {
            None
        }
    }

    /// Sequence number (upper 12 bits of Sequence Control).
    pub fn sequence_number(&self) -> Option<u16> {
        self.sequence_control().map(|s| s >> 4)
    }

    /// Fragment number (lower 4 bits of Sequence Control).
    pub fn fragment_number(&self) -> Option<u8> {
        self.sequence_control().map(|s| (s & 0xf) as u8)
    }

    /// QoS Control field of a QoS data frame.
    pub fn qos_control(&self) -> Option<u16> {
        let fc = self.frame_control();
        if !fc.is_qos_data() {
            return None;
        }
        let at = if fc.has_addr4() {
            field::QOS_CTRL_4ADDR
        } else {
            field::QOS_CTRL_3ADDR
        };
        self.le16(at..at + 2)
    }

    /// Traffic identifier (QoS Control bits 0..=3) of a QoS data frame.
    pub fn qos_tid(&self) -> Option<u8> {
        self.qos_control().map(|qc| (qc & 0xf) as u8)
    }

    /// Header length implied by the frame control (see [`FrameControl::header_len`]).
    pub fn header_len(&self) -> usize {
        self.frame_control().header_len()
    }

    /// The bytes after the header (empty if the buffer ends there or earlier).
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }

    /// The receiver address (= addr1).
    pub fn receiver(&self) -> MacAddr {
        self.addr1()
    }

    /// The transmitter address (= addr2).
    pub fn transmitter(&self) -> Option<MacAddr> {
        self.addr2()
    }

    /// The final destination (DA): addr3 for data frames with To DS set, else addr1.
    pub fn destination(&self) -> MacAddr {
        let fc = self.frame_control();
        if fc.frame_type() == FrameType::Data && fc.to_ds() {
            self.addr3().unwrap_or_default()
        } else {
            self.addr1()
        }
    }

    /// The original source (SA): addr4 for four-address data frames, addr3 for data
    /// frames with only From DS, else addr2 (`None` when absent).
    pub fn source(&self) -> Option<MacAddr> {
        let fc = self.frame_control();
        if fc.frame_type() != FrameType::Data {
            return self.addr2();
        }
        match (fc.to_ds(), fc.from_ds()) {
            (true, true) => self.addr4(),
            (false, true) => self.addr3(),
            _ => self.addr2(),
        }
    }

    /// The BSSID: per the DS bits for data frames (none with four addresses), addr3
    /// for management frames, none for control and extension frames.
    pub fn bssid(&self) -> Option<MacAddr> {
        let fc = self.frame_control();
        match fc.frame_type() {
            FrameType::Management => self.addr3(),
            FrameType::Data => match (fc.to_ds(), fc.from_ds()) {
                (false, false) => self.addr3(),
                (false, true) => self.addr2(),
                (true, false) => Some(self.addr1()),
                (true, true) => None,
            },
            FrameType::Control | FrameType::Extension => None,
        }
    }

    /// True when addr1 is a group (multicast / broadcast) address.
    pub fn is_group_addressed(&self) -> bool {
        self.addr1().is_group()
    }

    /// True for data frames with the QoS subtype bit.
    pub fn is_qos_data(&self) -> bool {
        self.frame_control().is_qos_data()
    }

    fn is(&self, ty: FrameType, subtype: u8) -> bool {
        let fc = self.frame_control();
        fc.frame_type() == ty && fc.subtype() == subtype
    }

    /// True for management beacons.
    pub fn is_beacon(&self) -> bool {
        self.is(FrameType::Management, mgmt_subtype::BEACON)
    }

    /// True for probe responses.
    pub fn is_probe_response(&self) -> bool {
        self.is(FrameType::Management, mgmt_subtype::PROBE_RESP)
    }

    /// True for probe requests.
    pub fn is_probe_request(&self) -> bool {
        self.is(FrameType::Management, mgmt_subtype::PROBE_REQ)
    }

    /// True for management frames.
    pub fn is_management(&self) -> bool {
        self.frame_control().frame_type() == FrameType::Management
    }

    /// True for control frames.
    pub fn is_control(&self) -> bool {
        self.frame_control().frame_type() == FrameType::Control
    }

    /// True for data frames (any subtype).
    pub fn is_data(&self) -> bool {
        self.frame_control().frame_type() == FrameType::Data
    }

    /// True for ACK control frames.
    pub fn is_ack(&self) -> bool {
        self.is(FrameType::Control, ctrl_subtype::ACK)
    }
}
