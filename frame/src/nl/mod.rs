//! The `MAC80211_HWSIM` generic-netlink messages carried on the hwsim virtqueues.
//!
//! Each virtqueue buffer holds one message: a 16-byte `nlmsghdr`, a 4-byte `genlmsghdr`
//! and a run of TLV attributes, all integers in native byte order. The message length is
//! `nlmsg_len`, not the buffer length: a guest hands over a whole skb with garbage after
//! the message.
//!
//! [`Message`] is the raw view, [`Attributes`] walks the TLVs, and the `*Repr` types are
//! the decoded forms: [`GuestMessage`] for what a guest sends, [`DeviceMessage`] for what
//! the device sends back. Every `Repr` has `buffer_len` and `emit`, so both sides of the
//! link can be produced and checked with the same code.

use core::ops::Range;

mod codec;
mod device;
mod guest;
#[cfg(test)]
mod tests;

pub use device::{DeviceMessage, RxFrameRepr, TxInfoRepr};
pub use guest::{GuestMessage, MacAddrRepr, PmsrRepr, TxFrameRepr};

/// `enum hwsim_commands`: the genetlink command byte.
pub mod cmd {
    /// Registers a netlink medium (netlink only, never on virtio).
    pub const REGISTER: u8 = 1;
    /// A frame: guest→device = transmitted frame; device→guest = frame received by one radio.
    pub const FRAME: u8 = 2;
    /// Device→guest TX status for one transmitted frame.
    pub const TX_INFO_FRAME: u8 = 3;
    /// Creates a radio (netlink only).
    pub const NEW_RADIO: u8 = 4;
    /// Destroys a radio (netlink only).
    pub const DEL_RADIO: u8 = 5;
    /// Queries radios (netlink only).
    pub const GET_RADIO: u8 = 6;
    /// Guest→device: a radio now also answers to an address.
    pub const ADD_MAC_ADDR: u8 = 7;
    /// Guest→device: a radio no longer answers to an address.
    pub const DEL_MAC_ADDR: u8 = 8;
    /// Guest→device: start a peer-measurement (FTM) request.
    pub const START_PMSR: u8 = 9;
    /// Guest→device: abort the running peer-measurement request.
    pub const ABORT_PMSR: u8 = 10;
    /// Device→guest: peer-measurement results.
    pub const REPORT_PMSR: u8 = 11;
}

/// `enum hwsim_attrs`: attribute types (the low 14 bits of `nla_type`).
pub mod attr {
    /// Radio address of the receiving radio (6 bytes).
    pub const ADDR_RECEIVER: u16 = 1;
    /// Radio address of the transmitting radio (6 bytes).
    pub const ADDR_TRANSMITTER: u16 = 2;
    /// Raw 802.11 frame without FCS (≤ 2304 bytes).
    pub const FRAME: u16 = 3;
    /// `tx_flags` bits (u32).
    pub const FLAGS: u16 = 4;
    /// Legacy rate index of a received frame (u32).
    pub const RX_RATE: u16 = 5;
    /// Signal in dBm, two's complement (u32).
    pub const SIGNAL: u16 = 6;
    /// Up to 4 × [`TxRate`](super::TxRate) (≤ 8 bytes).
    pub const TX_INFO: u16 = 7;
    /// Per-radio frame cookie (u64).
    pub const COOKIE: u16 = 8;
    /// Number of channels (NEW_RADIO).
    pub const CHANNELS: u16 = 9;
    /// Radio index (NEW_RADIO/DEL_RADIO).
    pub const RADIO_ID: u16 = 10;
    /// Regulatory hint alpha2 (NEW_RADIO).
    pub const REG_HINT_ALPHA2: u16 = 11;
    /// Custom regulatory domain index (NEW_RADIO).
    pub const REG_CUSTOM_REG: u16 = 12;
    /// Strict regulatory flag (NEW_RADIO).
    pub const REG_STRICT_REG: u16 = 13;
    /// P2P device support flag (NEW_RADIO).
    pub const SUPPORT_P2P_DEVICE: u16 = 14;
    /// Channel-context flag (NEW_RADIO).
    pub const USE_CHANCTX: u16 = 15;
    /// Destroy-on-close flag (NEW_RADIO).
    pub const DESTROY_RADIO_ON_CLOSE: u16 = 16;
    /// Radio name (NEW_RADIO).
    pub const RADIO_NAME: u16 = 17;
    /// No-vif flag (NEW_RADIO).
    pub const NO_VIF: u16 = 18;
    /// Centre frequency in MHz (u32).
    pub const FREQ: u16 = 19;
    /// 64-bit alignment padding; always skipped.
    pub const PAD: u16 = 20;
    /// 4 × [`TxRateFlag`](super::TxRateFlag) (12 bytes).
    pub const TX_INFO_FLAGS: u16 = 21;
    /// Permanent address (NEW_RADIO).
    pub const PERM_ADDR: u16 = 22;
    /// Supported interface types (NEW_RADIO).
    pub const IFTYPE_SUPPORT: u16 = 23;
    /// Supported ciphers (NEW_RADIO).
    pub const CIPHER_SUPPORT: u16 = 24;
    /// MLO support flag (NEW_RADIO).
    pub const MLO_SUPPORT: u16 = 25;
    /// Peer-measurement capabilities (NEW_RADIO, nested).
    pub const PMSR_SUPPORT: u16 = 26;
    /// Peer-measurement request (nested).
    pub const PMSR_REQUEST: u16 = 27;
    /// Peer-measurement result (nested).
    pub const PMSR_RESULT: u16 = 28;
    /// Multi-radio flag (newer kernels).
    pub const MULTI_RADIO: u16 = 29;
}

/// `enum hwsim_tx_control_flags`: bits of the `FLAGS` attribute.
pub mod tx_flags {
    /// The guest wants a TX status for this frame.
    pub const REQ_TX_STATUS: u32 = 1 << 0;
    /// The frame expects no acknowledgement.
    pub const NO_ACK: u32 = 1 << 1;
    /// TX status: the frame was acknowledged.
    pub const STAT_ACK: u32 = 1 << 2;
}

/// `enum hwsim_tx_rate_flags`: bits of [`TxRateFlag::flags`].
pub mod rate_flags {
    /// RTS/CTS protection.
    pub const USE_RTS_CTS: u16 = 1 << 0;
    /// CTS-to-self protection.
    pub const USE_CTS_PROTECT: u16 = 1 << 1;
    /// Short preamble.
    pub const USE_SHORT_PREAMBLE: u16 = 1 << 2;
    /// `idx` is an HT MCS.
    pub const MCS: u16 = 1 << 3;
    /// HT greenfield.
    pub const GREEN_FIELD: u16 = 1 << 4;
    /// 40 MHz.
    pub const WIDTH_40_MHZ: u16 = 1 << 5;
    /// Duplicate data.
    pub const DUP_DATA: u16 = 1 << 6;
    /// Short guard interval.
    pub const SHORT_GI: u16 = 1 << 7;
    /// `idx` is a VHT `Nss << 4 | MCS`.
    pub const VHT_MCS: u16 = 1 << 8;
    /// 80 MHz.
    pub const WIDTH_80_MHZ: u16 = 1 << 9;
    /// 160 MHz.
    pub const WIDTH_160_MHZ: u16 = 1 << 10;
}

/// Length of `nlmsghdr` (16) plus `genlmsghdr` (4); attributes start here.
pub const HEADER_LEN: usize = 20;
/// Longest 802.11 frame the guest accepts or sends (`IEEE80211_MAX_DATA_LEN`).
pub const MAX_FRAME_LEN: usize = 2304;
/// Shortest frame the guest accepts on RX (`sizeof(struct ieee80211_hdr_3addr)`).
pub const MIN_RX_FRAME_LEN: usize = 24;
/// Genetlink family version the driver uses.
pub const GENL_VERSION: u8 = 1;
/// Length of an attribute header (`nla_len` + `nla_type`).
pub const NLA_HDR_LEN: usize = 4;
/// `nla_type` flag: payload is nested attributes.
pub const NLA_F_NESTED: u16 = 1 << 15;
/// `nla_type` flag: payload is in network byte order.
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
/// Mask of the attribute type bits in `nla_type`.
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
/// Wire size of a full `TX_INFO` attribute payload (4 × 2 bytes).
pub const TX_INFO_LEN: usize = 8;
/// Wire size of a full `TX_INFO_FLAGS` attribute payload (4 × 3 bytes).
pub const TX_INFO_FLAGS_LEN: usize = 12;

/// Byte offsets of the fixed header fields.
mod field {
    use core::ops::Range;

    pub const NLMSG_LEN: Range<usize> = 0..4;
    pub const NLMSG_TYPE: Range<usize> = 4..6;
    pub const NLMSG_FLAGS: Range<usize> = 6..8;
    pub const NLMSG_SEQ: Range<usize> = 8..12;
    pub const NLMSG_PID: Range<usize> = 12..16;
    pub const GENL_CMD: usize = 16;
    pub const GENL_VERSION: usize = 17;
    pub const GENL_RESERVED: Range<usize> = 18..20;

    pub const NLA_LEN: Range<usize> = 0..2;
    pub const NLA_TYPE: Range<usize> = 2..4;
}

/// One entry of the rate chain (`struct hwsim_tx_rate`, 2 bytes packed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxRate {
    /// Rate index; -1 ends the chain.
    pub idx: i8,
    /// Attempts at this rate.
    pub count: u8,
}

impl TxRate {
    /// An unused chain entry.
    pub const UNUSED: TxRate = TxRate { idx: -1, count: 0 };

    /// Decodes the packed wire form.
    pub fn from_bytes(b: [u8; 2]) -> TxRate {
        TxRate {
            idx: i8::from_ne_bytes([b[0]]),
            count: b[1],
        }
    }

    /// Encodes the packed wire form.
    pub fn to_bytes(self) -> [u8; 2] {
        [self.idx.to_ne_bytes()[0], self.count]
    }
}

/// Flags for one rate-chain entry (`struct hwsim_tx_rate_flag`, 3 bytes packed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxRateFlag {
    /// Rate index; -1 ends the chain.
    pub idx: i8,
    /// [`rate_flags`] bits.
    pub flags: u16,
}

impl TxRateFlag {
    /// An unused entry.
    pub const UNUSED: TxRateFlag = TxRateFlag { idx: -1, flags: 0 };

    /// Decodes the packed wire form (flags native-endian, unaligned).
    pub fn from_bytes(b: [u8; 3]) -> TxRateFlag {
        TxRateFlag {
            idx: i8::from_ne_bytes([b[0]]),
            flags: u16::from_ne_bytes([b[1], b[2]]),
        }
    }

    /// Encodes the packed wire form.
    pub fn to_bytes(self) -> [u8; 3] {
        let f = self.flags.to_ne_bytes();
        [self.idx.to_ne_bytes()[0], f[0], f[1]]
    }
}

/// Why a message could not be parsed or emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The buffer is shorter than the 20-byte header.
    #[error("buffer shorter than the netlink + genetlink header")]
    Truncated,
    /// `nlmsg_len` is below the header length or beyond the buffer.
    #[error("nlmsg_len {nlmsg_len} invalid for a {buf_len}-byte buffer")]
    BadMessageLength {
        /// The `nlmsg_len` field.
        nlmsg_len: u32,
        /// The buffer length.
        buf_len: usize,
    },
    /// An attribute header is malformed (`nla_len` < 4 or past the message end), or a
    /// known attribute has the wrong payload size. `len` is the attribute's `nla_len`
    /// (header included), or the bytes left when not even a header fits.
    #[error("attribute {kind} has invalid length {len}")]
    BadAttribute {
        /// Attribute type (low 14 bits).
        kind: u16,
        /// `nla_len`.
        len: u16,
    },
    /// A required attribute is absent.
    #[error("required attribute {0} missing")]
    MissingAttribute(u16),
    /// A `FRAME` attribute exceeds [`MAX_FRAME_LEN`].
    #[error("frame of {0} bytes exceeds the 2304-byte maximum")]
    FrameTooLong(usize),
    /// A `FRAME` attribute is empty, or shorter than [`MIN_RX_FRAME_LEN`] on RX.
    #[error("frame of {0} bytes is too short")]
    FrameTooShort(usize),
    /// The genetlink command is not valid in this direction.
    #[error("unknown or unexpected command {0}")]
    UnknownCommand(u8),
    /// The output buffer cannot hold the message.
    #[error("buffer too small: need {needed} bytes, have {available}")]
    BufferTooSmall {
        /// Bytes the message needs.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
}

impl Error {
    /// A stable snake_case label per variant, for counters and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Error::Truncated => "truncated",
            Error::BadMessageLength { .. } => "bad_message_length",
            Error::BadAttribute { .. } => "bad_attribute",
            Error::MissingAttribute(_) => "missing_attribute",
            Error::FrameTooLong(_) => "frame_too_long",
            Error::FrameTooShort(_) => "frame_too_short",
            Error::UnknownCommand(_) => "unknown_command",
            Error::BufferTooSmall { .. } => "buffer_too_small",
        }
    }
}

/// Reads `N` bytes at `range`, or `None` if the buffer is too short.
fn read_array<const N: usize>(buf: &[u8], range: Range<usize>) -> Option<[u8; N]> {
    buf.get(range)?.try_into().ok()
}

/// A read-only view of one generic-netlink message at the start of a buffer.
///
/// Accessors never panic; on a buffer that [`Message::new_checked`] accepted they return
/// the wire values, on a shorter unchecked buffer they return 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Message<T> {
    /// Wraps a buffer without any check.
    pub fn new_unchecked(buffer: T) -> Message<T> {
        Message { buffer }
    }

    /// Wraps a buffer after checking `HEADER_LEN <= nlmsg_len <= buffer.len()`.
    /// Bytes after `nlmsg_len` are ignored.
    pub fn new_checked(buffer: T) -> Result<Message<T>, Error> {
        let msg = Message::new_unchecked(buffer);
        msg.check_len()?;
        Ok(msg)
    }

    /// The check [`Message::new_checked`] performs.
    pub fn check_len(&self) -> Result<(), Error> {
        let buf_len = self.buffer.as_ref().len();
        if buf_len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let nlmsg_len = self.nlmsg_len();
        match usize::try_from(nlmsg_len) {
            Ok(n) if (HEADER_LEN..=buf_len).contains(&n) => Ok(()),
            _ => Err(Error::BadMessageLength { nlmsg_len, buf_len }),
        }
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn u16_at(&self, range: Range<usize>) -> u16 {
        read_array(self.buffer.as_ref(), range).map_or(0, u16::from_ne_bytes)
    }

    fn u32_at(&self, range: Range<usize>) -> u32 {
        read_array(self.buffer.as_ref(), range).map_or(0, u32::from_ne_bytes)
    }

    fn u8_at(&self, at: usize) -> u8 {
        self.buffer.as_ref().get(at).copied().unwrap_or(0)
    }

    /// `nlmsg_len`: the message length including the header.
    pub fn nlmsg_len(&self) -> u32 {
        self.u32_at(field::NLMSG_LEN)
    }

    /// `nlmsg_type`: the genetlink family id (dynamic; ignored by both ends on virtio).
    pub fn nlmsg_type(&self) -> u16 {
        self.u16_at(field::NLMSG_TYPE)
    }

    /// `nlmsg_flags`.
    pub fn nlmsg_flags(&self) -> u16 {
        self.u16_at(field::NLMSG_FLAGS)
    }

    /// `nlmsg_seq`.
    pub fn nlmsg_seq(&self) -> u32 {
        self.u32_at(field::NLMSG_SEQ)
    }

    /// `nlmsg_pid`.
    pub fn nlmsg_pid(&self) -> u32 {
        self.u32_at(field::NLMSG_PID)
    }

    /// Genetlink command ([`cmd`]).
    pub fn cmd(&self) -> u8 {
        self.u8_at(field::GENL_CMD)
    }

    /// Genetlink family version.
    pub fn version(&self) -> u8 {
        self.u8_at(field::GENL_VERSION)
    }

    /// The genetlink reserved field.
    pub fn reserved(&self) -> u16 {
        self.u16_at(field::GENL_RESERVED)
    }

    /// The attribute bytes: `[HEADER_LEN, nlmsg_len)`, clamped to the buffer.
    pub fn payload(&self) -> &[u8] {
        let buf = self.buffer.as_ref();
        let end = usize::try_from(self.nlmsg_len())
            .unwrap_or(usize::MAX)
            .min(buf.len());
        buf.get(HEADER_LEN..end).unwrap_or(&[])
    }

    /// Iterates over the top-level attributes.
    pub fn attributes(&self) -> Attributes<'_> {
        Attributes::new(self.payload())
    }
}

/// One netlink attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr<'a> {
    /// Attribute type: the low 14 bits of `nla_type` (flags stripped).
    pub kind: u16,
    /// The payload (`nla_len - 4` bytes, padding excluded).
    pub payload: &'a [u8],
}

/// Iterator over a run of netlink attributes (top-level or nested).
///
/// Yields `Err(BadAttribute)` once and then stops when an attribute header is malformed
/// or runs past the end.
#[derive(Clone, Debug)]
pub struct Attributes<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Attributes<'a> {
    /// Iterates over the attributes packed in `bytes` (e.g. a nested attribute's payload).
    pub fn new(bytes: &'a [u8]) -> Attributes<'a> {
        Attributes {
            rest: bytes,
            failed: false,
        }
    }

    fn fail(&mut self, kind: u16, len: u16) -> Option<Result<Attr<'a>, Error>> {
        self.failed = true;
        self.rest = &[];
        Some(Err(Error::BadAttribute { kind, len }))
    }
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<Attr<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        let (Some(len), Some(raw_type)) = (
            read_array(rest, field::NLA_LEN).map(u16::from_ne_bytes),
            read_array(rest, field::NLA_TYPE).map(u16::from_ne_bytes),
        ) else {
            // Not even a header fits in what is left.
            let left = u16::try_from(rest.len()).unwrap_or(u16::MAX);
            return self.fail(0, left);
        };
        let kind = raw_type & NLA_TYPE_MASK;
        let nla_len = usize::from(len);
        if nla_len < NLA_HDR_LEN || nla_len > rest.len() {
            return self.fail(kind, len);
        }
        let payload = rest.get(NLA_HDR_LEN..nla_len).unwrap_or(&[]);
        // The final attribute's padding may lie beyond the end; that is fine.
        let next = codec::align4(nla_len).min(rest.len());
        self.rest = rest.get(next..).unwrap_or(&[]);
        Some(Ok(Attr { kind, payload }))
    }
}

impl core::iter::FusedIterator for Attributes<'_> {}
