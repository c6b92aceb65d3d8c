//! The element walk (IEEE 802.11-2020 9.4.2.1), fragment grouping (10.28.11) and the
//! fragmenting writer.

use super::{ext_id, id, ml_subelement, Error};

/// Most data one element (or subelement) header can describe.
const MAX_PIECE: usize = 255;

/// An element ID, with the extension ID for extension elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElementId {
    /// SSID (0).
    Ssid,
    /// RSN (48).
    Rsn,
    /// Reduced Neighbor Report (201).
    ReducedNeighborReport,
    /// Vendor Specific (221).
    VendorSpecific,
    /// Fragment (242) not following a 255-byte element.
    Fragment,
    /// RSN Extension (244).
    Rsnx,
    /// HE Capabilities (255/35).
    HeCapabilities,
    /// HE Operation (255/36).
    HeOperation,
    /// Non-Inheritance (255/56).
    NonInheritance,
    /// EHT Operation (255/106).
    EhtOperation,
    /// Multi-Link (255/107).
    MultiLink,
    /// EHT Capabilities (255/108).
    EhtCapabilities,
    /// Another element ID.
    Unknown(u8),
    /// Another extension element (255/n).
    UnknownExtension(u8),
}

impl ElementId {
    /// From the element ID and, for ID 255, the extension ID.
    pub fn from_parts(id: u8, ext: Option<u8>) -> ElementId {
        match (id, ext) {
            (id::SSID, _) => ElementId::Ssid,
            (id::RSN, _) => ElementId::Rsn,
            (id::REDUCED_NEIGHBOR_REPORT, _) => ElementId::ReducedNeighborReport,
            (id::VENDOR_SPECIFIC, _) => ElementId::VendorSpecific,
            (id::FRAGMENT, _) => ElementId::Fragment,
            (id::RSNX, _) => ElementId::Rsnx,
            (id::EXTENSION, Some(ext_id::HE_CAPABILITIES)) => ElementId::HeCapabilities,
            (id::EXTENSION, Some(ext_id::HE_OPERATION)) => ElementId::HeOperation,
            (id::EXTENSION, Some(ext_id::NON_INHERITANCE)) => ElementId::NonInheritance,
            (id::EXTENSION, Some(ext_id::EHT_OPERATION)) => ElementId::EhtOperation,
            (id::EXTENSION, Some(ext_id::MULTI_LINK)) => ElementId::MultiLink,
            (id::EXTENSION, Some(ext_id::EHT_CAPABILITIES)) => ElementId::EhtCapabilities,
            (id::EXTENSION, Some(ext)) => ElementId::UnknownExtension(ext),
            (id, _) => ElementId::Unknown(id),
        }
    }

    /// The element ID and extension ID.
    pub fn to_parts(self) -> (u8, Option<u8>) {
        let ext = |e| (id::EXTENSION, Some(e));
        match self {
            ElementId::Ssid => (id::SSID, None),
            ElementId::Rsn => (id::RSN, None),
            ElementId::ReducedNeighborReport => (id::REDUCED_NEIGHBOR_REPORT, None),
            ElementId::VendorSpecific => (id::VENDOR_SPECIFIC, None),
            ElementId::Fragment => (id::FRAGMENT, None),
            ElementId::Rsnx => (id::RSNX, None),
            ElementId::HeCapabilities => ext(ext_id::HE_CAPABILITIES),
            ElementId::HeOperation => ext(ext_id::HE_OPERATION),
            ElementId::NonInheritance => ext(ext_id::NON_INHERITANCE),
            ElementId::EhtOperation => ext(ext_id::EHT_OPERATION),
            ElementId::MultiLink => ext(ext_id::MULTI_LINK),
            ElementId::EhtCapabilities => ext(ext_id::EHT_CAPABILITIES),
            ElementId::Unknown(id) => (id, None),
            ElementId::UnknownExtension(e) => ext(e),
        }
    }
}

/// One element (or Multi-Link subelement) from an [`Elements`] walk, with the Fragment
/// (sub)elements that continue it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Element<'a> {
    /// Element ID.
    pub id: u8,
    /// Element ID Extension (elements with ID 255; never for subelements).
    pub ext: Option<u8>,
    /// Data of the leading element, after the extension ID.
    pub data: &'a [u8],
    /// The Fragment (sub)elements that follow, headers included; empty when the
    /// element is not fragmented.
    pub fragments: &'a [u8],
    /// The whole element as it appeared, fragments included.
    pub raw: &'a [u8],
}

impl<'a> Element<'a> {
    /// The named form of `id` / `ext`.
    pub fn element_id(&self) -> ElementId {
        ElementId::from_parts(self.id, self.ext)
    }

    /// True when Fragment (sub)elements continue this one.
    pub fn is_fragmented(&self) -> bool {
        !self.fragments.is_empty()
    }

    /// The data in pieces: the leading element's, then each fragment's.
    pub fn pieces(&self) -> Pieces<'a> {
        Pieces {
            first: Some(self.data),
            rest: self.fragments,
        }
    }

    /// Total data length, fragments included.
    pub fn len(&self) -> usize {
        self.pieces().map(<[u8]>::len).sum()
    }

    /// True when the element carries no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole data as one slice: the element's own bytes when it is not fragmented,
    /// else the pieces copied into `buf`.
    pub fn defragment<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8], Error>
    where
        'a: 'b,
    {
        if !self.is_fragmented() {
            return Ok(self.data);
        }
        let len = self.len();
        super::bytes::need(buf, len)?;
        let mut at = 0;
        for piece in self.pieces() {
            buf[at..at + piece.len()].copy_from_slice(piece);
            at += piece.len();
        }
        Ok(&buf[..len])
    }

    /// The whole data, defragmented, in a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        self.pieces().flatten().copied().collect()
    }

    /// The data as one slice, when the element is not fragmented.
    pub fn contiguous(&self) -> Option<&'a [u8]> {
        (!self.is_fragmented()).then_some(self.data)
    }
}

/// The data pieces of a possibly fragmented element.
#[derive(Clone, Debug)]
pub struct Pieces<'a> {
    first: Option<&'a [u8]>,
    /// Fragment TLVs, already checked to be complete.
    rest: &'a [u8],
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        let len = usize::from(*self.rest.get(1)?);
        let piece = self.rest.get(2..2 + len)?;
        self.rest = &self.rest[2 + len..];
        Some(piece)
    }
}

/// A walk over a run of elements, or of Multi-Link subelements.
///
/// Yields `Ok(Element)` per element, with Fragment elements (ID 242; subelement ID 254)
/// that follow a 255-byte element folded into it. An element whose length runs past the
/// end yields `Err(Error::Truncated)` and ends the walk; an extension element without
/// an extension ID yields `Err(Error::MissingExtension)` and the walk goes on.
#[derive(Clone, Debug)]
pub struct Elements<'a> {
    buf: &'a [u8],
    /// Subelements: no extension IDs, fragments are ID 254.
    sub: bool,
    done: bool,
}

impl<'a> Elements<'a> {
    /// Walks elements.
    pub fn new(buf: &'a [u8]) -> Elements<'a> {
        Elements {
            buf,
            sub: false,
            done: false,
        }
    }

    /// Walks Multi-Link subelements (the Link Info field).
    pub fn subelements(buf: &'a [u8]) -> Elements<'a> {
        Elements {
            buf,
            sub: true,
            done: false,
        }
    }

    /// The first element with this ID (errors skipped; a truncated tail ends the search).
    pub fn find(self, id: ElementId) -> Option<Element<'a>> {
        self.flatten().find(|e| e.element_id() == id)
    }

    fn fragment_id(&self) -> u8 {
        if self.sub {
            ml_subelement::FRAGMENT
        } else {
            id::FRAGMENT
        }
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<Element<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.buf.is_empty() {
            return None;
        }
        let buf = self.buf;
        let (Some(&eid), Some(&len)) = (buf.first(), buf.get(1)) else {
            self.done = true;
            return Some(Err(Error::Truncated));
        };
        let len = usize::from(len);
        let Some(body) = buf.get(2..2 + len) else {
            self.done = true;
            return Some(Err(Error::Truncated));
        };
        // Fragments follow while the previous piece was full.
        let frag_id = self.fragment_id();
        let mut end = 2 + len;
        let mut last = len;
        while last == MAX_PIECE && buf.get(end) == Some(&frag_id) {
            let Some(&flen) = buf.get(end + 1) else {
                self.done = true;
                return Some(Err(Error::Truncated));
            };
            let flen = usize::from(flen);
            if buf.len() < end + 2 + flen {
                self.done = true;
                return Some(Err(Error::Truncated));
            }
            end += 2 + flen;
            last = flen;
        }
        self.buf = &buf[end..];
        let fragments = &buf[2 + len..end];
        let raw = &buf[..end];
        if eid == id::EXTENSION && !self.sub {
            let Some((&ext, data)) = body.split_first() else {
                return Some(Err(Error::MissingExtension));
            };
            return Some(Ok(Element {
                id: eid,
                ext: Some(ext),
                data,
                fragments,
                raw,
            }));
        }
        Some(Ok(Element {
            id: eid,
            ext: None,
            data: body,
            fragments,
            raw,
        }))
    }
}

/// Bytes an element with `data_len` bytes of data takes, headers, extension ID and
/// Fragment elements included.
pub fn element_len(ext: Option<u8>, data_len: usize) -> usize {
    fragmented_len(data_len + usize::from(ext.is_some()))
}

/// Bytes a (sub)element body of `body_len` bytes takes once split into 255-byte pieces.
pub(crate) fn fragmented_len(body_len: usize) -> usize {
    let pieces = body_len.div_ceil(MAX_PIECE).max(1);
    body_len + 2 * pieces
}

/// Writes an element with the given data, fragmenting as needed; returns its length.
pub fn write_element(buf: &mut [u8], id: u8, ext: Option<u8>, data: &[u8]) -> Result<usize, Error> {
    emit_fragmented(buf, id, super::id::FRAGMENT, ext, data.len(), |out| {
        out.copy_from_slice(data);
        Ok(())
    })
}

/// Writes a (sub)element: `write` fills exactly `data_len` bytes of data, which are then
/// spread over the leading (sub)element and `frag_id` fragments in place. Returns the
/// bytes written.
pub(crate) fn emit_fragmented(
    buf: &mut [u8],
    id: u8,
    frag_id: u8,
    ext: Option<u8>,
    data_len: usize,
    write: impl FnOnce(&mut [u8]) -> Result<(), Error>,
) -> Result<usize, Error> {
    let ext_len = usize::from(ext.is_some());
    let body_len = data_len + ext_len;
    let total = fragmented_len(body_len);
    super::bytes::need(buf, total)?;
    if let Some(ext) = ext {
        buf[2] = ext;
    }
    write(&mut buf[2 + ext_len..2 + body_len])?;
    let pieces = body_len.div_ceil(MAX_PIECE).max(1);
    // Move pieces to their final places, last first: each moves right by 2 bytes per
    // earlier piece, so a piece never lands on one not yet moved.
    for i in (1..pieces).rev() {
        let src = 2 + i * MAX_PIECE;
        let len = (body_len - i * MAX_PIECE).min(MAX_PIECE);
        let dst = 2 + i * (MAX_PIECE + 2);
        buf.copy_within(src..src + len, dst);
        buf[dst - 2] = frag_id;
        buf[dst - 1] = len as u8;
    }
    buf[0] = id;
    buf[1] = body_len.min(MAX_PIECE) as u8;
    Ok(total)
}
