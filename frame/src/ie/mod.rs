//! Information elements of 802.11 management frames, for what multi-link operation
//! (802.11be MLO) needs: the element walk with fragment reassembly, the Multi-Link
//! element with its per-STA profiles, EHT Capabilities / Operation, the Reduced Neighbor
//! Report with MLD parameters, Non-Inheritance, RSN / RSNXE and TID-To-Link Mapping.
//!
//! Layout follows the smoltcp `wire` habit used in the rest of the crate:
//!
//! * [`Elements`] walks a run of elements (or of Multi-Link subelements) and yields one
//!   [`Element`] per element, with any Fragment elements that continue it grouped in.
//!   Truncation yields one error item and ends the walk; nothing panics.
//! * Each element type has a `*Repr` with `parse(data)` over the element's data (after
//!   the extension ID; defragmented), `buffer_len()` and `emit(buf)`. Through [`IeRepr`]
//!   every `Repr` also writes itself as a whole element, fragmenting when it exceeds
//!   255 bytes ([`IeRepr::emit_element`]).
//! * Wire values the crate does not name survive a round trip (`Unknown(n)` arms,
//!   reserved bits kept, trailing bytes kept).
//!
//! Field layouts are from IEEE 802.11-2020 and 802.11be-2024 (clause numbers on each
//! type). All multi-byte fields are little-endian.

use crate::mac::{self, mgmt_subtype, FrameType};

mod eht;
mod element;
mod multi_link;
mod non_inheritance;
mod rnr;
mod rsn;
#[cfg(test)]
pub(crate) mod tests;
mod ttlm;

pub use eht::{eht_op_params, EhtCapabilitiesRepr, EhtOperationInfo, EhtOperationRepr};
pub use element::{element_len, write_element, Element, ElementId, Elements, Pieces};
pub use multi_link::{
    sta_control, sta_profile_fixed_len, CommonInfo, DtimInfo, LinkInfoRepr, MultiLink,
    MultiLinkRepr, MultiLinkType, PerStaProfileRepr, StaControl, StaInfo,
};
pub use non_inheritance::NonInheritanceRepr;
pub use rnr::{
    bss_params, short_ssid, MldParams, NeighborApInfo, NeighborApInfoRepr, ReducedNeighborReport,
    TbttInfo,
};
pub use rsn::{rsn_caps, PmkidList, RsnRepr, RsnxRepr, Suite, SuiteList};
pub use ttlm::{ttlm_control, TidToLinkMappingRepr, TtlmDirection, TTLM_TIDS};

/// Element IDs (the first octet of an element).
pub mod id {
    /// SSID.
    pub const SSID: u8 = 0;
    /// RSN (RSNE).
    pub const RSN: u8 = 48;
    /// Reduced Neighbor Report.
    pub const REDUCED_NEIGHBOR_REPORT: u8 = 201;
    /// Vendor Specific.
    pub const VENDOR_SPECIFIC: u8 = 221;
    /// Fragment: continues the element before it.
    pub const FRAGMENT: u8 = 242;
    /// RSN Extension (RSNXE).
    pub const RSNX: u8 = 244;
    /// Element ID Extension present: the next octet names the element.
    pub const EXTENSION: u8 = 255;
}

/// Element ID Extensions (the octet after ID 255).
pub mod ext_id {
    /// HE Capabilities.
    pub const HE_CAPABILITIES: u8 = 35;
    /// HE Operation.
    pub const HE_OPERATION: u8 = 36;
    /// Non-Inheritance.
    pub const NON_INHERITANCE: u8 = 56;
    /// EHT Operation.
    pub const EHT_OPERATION: u8 = 106;
    /// Multi-Link.
    pub const MULTI_LINK: u8 = 107;
    /// EHT Capabilities.
    pub const EHT_CAPABILITIES: u8 = 108;
    /// TID-To-Link Mapping.
    pub const TID_TO_LINK_MAPPING: u8 = 109;
}

/// Multi-Link subelement IDs.
pub mod ml_subelement {
    /// Per-STA Profile.
    pub const PER_STA_PROFILE: u8 = 0;
    /// Vendor Specific.
    pub const VENDOR_SPECIFIC: u8 = 221;
    /// Fragment: continues the subelement before it.
    pub const FRAGMENT: u8 = 254;
}

/// Why element bytes do not parse, or a `Repr` cannot be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A length runs past the end of the bytes that hold it.
    #[error("element truncated")]
    Truncated,
    /// A length field disagrees with the fields it must cover.
    #[error("element length field is inconsistent with its contents")]
    BadLength,
    /// An extension element (ID 255) with no Element ID Extension octet.
    #[error("extension element without an extension ID")]
    MissingExtension,
    /// The element is not of the type the parser was given.
    #[error("element has an unexpected ID")]
    WrongElement,
    /// Fragmented data handed to a parser that needs it contiguous (defragment first).
    #[error("fragmented element where contiguous data is needed")]
    Fragmented,
    /// The output buffer is too small.
    #[error("buffer of {available} bytes is too small for {needed}")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// A `Repr` that cannot be encoded (a field its type does not carry, a value too
    /// large for its field, inconsistent lengths).
    #[error("representation cannot be encoded: {0}")]
    Invalid(&'static str),
}

impl Error {
    /// A stable snake_case label per variant, for counters.
    pub fn name(&self) -> &'static str {
        match self {
            Error::Truncated => "ie_truncated",
            Error::BadLength => "ie_bad_length",
            Error::MissingExtension => "ie_missing_extension",
            Error::WrongElement => "ie_wrong_element",
            Error::Fragmented => "ie_fragmented",
            Error::BufferTooSmall { .. } => "ie_buffer_too_small",
            Error::Invalid(_) => "ie_invalid_repr",
        }
    }
}

/// An element type with a parse / emit representation.
///
/// `parse` and `emit` work on the element's data: after the Element ID Extension for
/// extension elements, and contiguous (see [`Element::defragment`]).
pub trait IeRepr<'a>: Sized {
    /// Element ID.
    const ID: u8;
    /// Element ID Extension, for extension elements.
    const EXT: Option<u8>;

    /// Parses the element's data.
    fn parse(data: &'a [u8]) -> Result<Self, Error>;

    /// Length of the data [`IeRepr::emit`] writes.
    fn buffer_len(&self) -> usize;

    /// Writes the data; returns its length ([`IeRepr::buffer_len`]).
    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error>;

    /// Parses an [`Element`] of this type whose data is contiguous (not fragmented).
    fn parse_element(element: &Element<'a>) -> Result<Self, Error> {
        if element.id != Self::ID || element.ext != Self::EXT {
            return Err(Error::WrongElement);
        }
        if element.is_fragmented() {
            return Err(Error::Fragmented);
        }
        Self::parse(element.data)
    }

    /// Bytes the whole element takes: headers, extension ID and any Fragment elements.
    fn element_len(&self) -> usize {
        element_len(Self::EXT, self.buffer_len())
    }

    /// Writes the whole element, split into Fragment elements when longer than 255
    /// bytes; returns [`IeRepr::element_len`].
    fn emit_element(&self, buf: &mut [u8]) -> Result<usize, Error> {
        element::emit_fragmented(
            buf,
            Self::ID,
            id::FRAGMENT,
            Self::EXT,
            self.buffer_len(),
            |data| self.emit(data).map(drop),
        )
    }
}

/// Length of the fixed fields before the elements of a management frame body, by
/// subtype; `None` for subtypes whose body is not fixed fields + elements (action
/// frames, ATIM, …). Authentication counts its three fixed fields (6 bytes); SAE and FILS
/// put more non-element fields after them.
pub fn mgmt_fixed_len(subtype: u8) -> Option<usize> {
    Some(match subtype {
        mgmt_subtype::BEACON | mgmt_subtype::PROBE_RESP => 12,
        mgmt_subtype::ASSOC_REQ => 4,
        mgmt_subtype::REASSOC_REQ => 10,
        mgmt_subtype::ASSOC_RESP | mgmt_subtype::REASSOC_RESP => 6,
        mgmt_subtype::PROBE_REQ => 0,
        mgmt_subtype::AUTH => 6,
        mgmt_subtype::DISASSOC | mgmt_subtype::DEAUTH => 2,
        _ => return None,
    })
}

/// The elements of a management frame's body (after its fixed fields); `None` if the
/// frame is not a management frame with a known layout, is protected, or is shorter than
/// its fixed fields.
pub fn mgmt_body_elements<T: AsRef<[u8]>>(frame: &mac::Frame<T>) -> Option<Elements<'_>> {
    let fc = frame.frame_control();
    if fc.frame_type() != FrameType::Management || fc.protected() {
        return None;
    }
    let fixed = mgmt_fixed_len(fc.subtype())?;
    frame.payload().get(fixed..).map(Elements::new)
}

/// Little-endian reads and writes on slices, never panicking.
pub(crate) mod bytes {
    use super::Error;

    /// `n` bytes at the front of `*buf`, advancing it.
    pub fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], Error> {
        if buf.len() < n {
            return Err(Error::Truncated);
        }
        let (head, tail) = buf.split_at(n);
        *buf = tail;
        Ok(head)
    }

    pub fn array<const N: usize>(buf: &mut &[u8]) -> Result<[u8; N], Error> {
        let head = take(buf, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(head);
        Ok(out)
    }

    pub fn u8(buf: &mut &[u8]) -> Result<u8, Error> {
        array::<1>(buf).map(|a| a[0])
    }

    pub fn le16(buf: &mut &[u8]) -> Result<u16, Error> {
        array(buf).map(u16::from_le_bytes)
    }

    pub fn le32(buf: &mut &[u8]) -> Result<u32, Error> {
        array(buf).map(u32::from_le_bytes)
    }

    pub fn le64(buf: &mut &[u8]) -> Result<u64, Error> {
        array(buf).map(u64::from_le_bytes)
    }

    /// A cursor writing into a mutable buffer.
    pub struct Writer<'b> {
        buf: &'b mut [u8],
        pos: usize,
    }

    impl<'b> Writer<'b> {
        pub fn new(buf: &'b mut [u8]) -> Self {
            Writer { buf, pos: 0 }
        }

        pub fn put(&mut self, data: &[u8]) -> Result<(), Error> {
            let end = self.pos + data.len();
            let available = self.buf.len();
            let dst = self
                .buf
                .get_mut(self.pos..end)
                .ok_or(Error::BufferTooSmall {
                    needed: end,
                    available,
                })?;
            dst.copy_from_slice(data);
            self.pos = end;
            Ok(())
        }

        pub fn u8(&mut self, v: u8) -> Result<(), Error> {
            self.put(&[v])
        }

        pub fn le16(&mut self, v: u16) -> Result<(), Error> {
            self.put(&v.to_le_bytes())
        }

        pub fn le32(&mut self, v: u32) -> Result<(), Error> {
            self.put(&v.to_le_bytes())
        }

        pub fn le64(&mut self, v: u64) -> Result<(), Error> {
            self.put(&v.to_le_bytes())
        }

        /// The rest of the buffer, for a nested writer; call [`Writer::advance`] after.
        pub fn rest(&mut self) -> &mut [u8] {
            let pos = self.pos.min(self.buf.len());
            &mut self.buf[pos..]
        }

        pub fn advance(&mut self, n: usize) {
            self.pos += n;
        }

        pub fn pos(&self) -> usize {
            self.pos
        }
    }

    /// Checks `buf` holds `needed` bytes.
    pub fn need(buf: &[u8], needed: usize) -> Result<(), Error> {
        if buf.len() < needed {
            Err(Error::BufferTooSmall {
                needed,
                available: buf.len(),
            })
        } else {
            Ok(())
        }
    }
}
