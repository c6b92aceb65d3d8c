//! The Non-Inheritance element (IEEE 802.11-2020 9.4.2.240, 255/56): inside a
//! nontransmitted BSSID profile or a Multi-Link Per-STA Profile, it names the elements of
//! the frame around it that the profile does not inherit.
//!
//! ```text
//! 255 | Length | 56 | List Length (1) | Element ID List (n) |
//!                     List Length (1) | Element ID Extension List (m)
//! ```

use super::bytes::{self, Writer};
use super::{ext_id, id, Error, IeRepr};

/// A decoded Non-Inheritance element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonInheritanceRepr<'a> {
    /// Element IDs (other than 255) not inherited.
    pub element_ids: &'a [u8],
    /// Element ID Extensions (of elements with ID 255) not inherited.
    pub ext_ids: &'a [u8],
    /// Bytes after the two lists (none in a well-formed element), kept for the round trip.
    pub extra: &'a [u8],
}

impl NonInheritanceRepr<'_> {
    /// Whether the element (ID, and extension ID for ID 255) is named as not inherited.
    pub fn excludes(&self, element_id: u8, ext: Option<u8>) -> bool {
        match (element_id, ext) {
            (id::EXTENSION, Some(e)) => self.ext_ids.contains(&e),
            (id::EXTENSION, None) => false,
            (i, _) => self.element_ids.contains(&i),
        }
    }
}

fn list<'a>(cur: &mut &'a [u8]) -> Result<&'a [u8], Error> {
    let n = usize::from(bytes::u8(cur)?);
    bytes::take(cur, n)
}

fn put_list(w: &mut Writer<'_>, ids: &[u8]) -> Result<(), Error> {
    let n = u8::try_from(ids.len()).map_err(|_| Error::Invalid("Non-Inheritance list too long"))?;
    w.u8(n)?;
    w.put(ids)
}

impl<'a> IeRepr<'a> for NonInheritanceRepr<'a> {
    const ID: u8 = id::EXTENSION;
    const EXT: Option<u8> = Some(ext_id::NON_INHERITANCE);

    fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let mut cur = data;
        let element_ids = list(&mut cur)?;
        let ext_ids = list(&mut cur)?;
        Ok(NonInheritanceRepr {
            element_ids,
            ext_ids,
            extra: cur,
        })
    }

    fn buffer_len(&self) -> usize {
        2 + self.element_ids.len() + self.ext_ids.len() + self.extra.len()
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::new(buf);
        put_list(&mut w, self.element_ids)?;
        put_list(&mut w, self.ext_ids)?;
        w.put(self.extra)?;
        Ok(w.pos())
    }
}
