//! The few pcapng blocks a capture needs, appended to a reusable byte buffer.
//!
//! Our own writer rather than `pcap-file`'s: that crate builds every Enhanced Packet Block from
//! a `Vec` of owned options and a `Cow` of the packet, so the radiotap header and the frame would
//! first be joined into one allocation per packet; here a block is assembled in a buffer the
//! writer thread keeps, from borrowed parts, and the format needs only three block types.
//! Tests read the files back with `pcap-file` (an independent implementation) and tshark.
//!
//! Every block: `u32 type, u32 total length, body, options, u32 total length`, little-endian
//! here (the Section Header's byte-order magic says so), bodies and options padded to 4 bytes.

/// Section Header Block type.
pub const SHB: u32 = 0x0A0D_0D0A;
/// Interface Description Block type.
pub const IDB: u32 = 0x0000_0001;
/// Enhanced Packet Block type.
pub const EPB: u32 = 0x0000_0006;
/// `LINKTYPE_IEEE802_11_RADIOTAP`.
pub const LINKTYPE_RADIOTAP: u16 = 127;

const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const SHB_USERAPPL: u16 = 4;
const IF_NAME: u16 = 2;
const IF_DESCRIPTION: u16 = 3;
const IF_TSRESOL: u16 = 9;

fn pad4(n: usize) -> usize {
    n.next_multiple_of(4)
}

/// Starts a block; returns its offset for [`end_block`].
fn begin_block(out: &mut Vec<u8>, ty: u32) -> usize {
    let at = out.len();
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    at
}

/// Writes the end-of-options marker when options were written, then both length fields.
fn end_block(out: &mut Vec<u8>, at: usize, had_options: bool) {
    if had_options {
        put_option(out, OPT_END, &[]);
    }
    let total = (out.len() - at + 4) as u32;
    out[at + 4..at + 8].copy_from_slice(&total.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
}

fn put_option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
    out.resize(out.len() + pad4(value.len()) - value.len(), 0);
}

/// Option values are at most 65535 bytes; longer strings are cut at a character boundary.
fn clip(s: &str) -> &str {
    let mut end = s.len().min(u16::MAX as usize - 3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Section Header Block, version 1.0, section length unknown, with `shb_userappl`.
pub fn section_header(out: &mut Vec<u8>, application: &str) {
    let at = begin_block(out, SHB);
    out.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&u64::MAX.to_le_bytes());
    put_option(out, SHB_USERAPPL, clip(application).as_bytes());
    end_block(out, at, true);
}

/// Interface Description Block with `if_name`, `if_description` and `if_tsresol` = 10^-9 s.
pub fn interface_description(
    out: &mut Vec<u8>,
    linktype: u16,
    snaplen: u32,
    name: &str,
    description: &str,
) {
    let at = begin_block(out, IDB);
    out.extend_from_slice(&linktype.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&snaplen.to_le_bytes());
    put_option(out, IF_NAME, clip(name).as_bytes());
    if !description.is_empty() {
        put_option(out, IF_DESCRIPTION, clip(description).as_bytes());
    }
    put_option(out, IF_TSRESOL, &[9]);
    end_block(out, at, true);
}

/// Enhanced Packet Block; the packet is the concatenation of `parts`; timestamp in ns (the
/// interface's `if_tsresol`); optional `opt_comment`.
pub fn enhanced_packet(
    out: &mut Vec<u8>,
    interface: u32,
    timestamp_ns: u64,
    parts: &[&[u8]],
    original_len: u32,
    comment: Option<&str>,
) {
    let at = begin_block(out, EPB);
    let captured: usize = parts.iter().map(|p| p.len()).sum();
    out.extend_from_slice(&interface.to_le_bytes());
    out.extend_from_slice(&((timestamp_ns >> 32) as u32).to_le_bytes());
    out.extend_from_slice(&(timestamp_ns as u32).to_le_bytes());
    out.extend_from_slice(&(captured as u32).to_le_bytes());
    out.extend_from_slice(&original_len.max(captured as u32).to_le_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
    out.resize(out.len() + pad4(captured) - captured, 0);
    if let Some(c) = comment {
        put_option(out, OPT_COMMENT, clip(c).as_bytes());
    }
    end_block(out, at, comment.is_some());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-computed EPB: interface 1, ts 0x1_0000_0002 ns, 5 bytes of data, comment "ok".
    #[test]
    fn epb_layout() {
        let mut out = Vec::new();
        enhanced_packet(
            &mut out,
            1,
            0x1_0000_0002,
            &[&[1, 2], &[3, 4, 5]],
            5,
            Some("ok"),
        );
        #[rustfmt::skip]
        let expected = [
            6, 0, 0, 0, 52, 0, 0, 0,    // type, total length 52
            1, 0, 0, 0,                 // interface 1
            1, 0, 0, 0, 2, 0, 0, 0,     // timestamp high, low
            5, 0, 0, 0, 5, 0, 0, 0,     // captured, original
            1, 2, 3, 4, 5, 0, 0, 0,     // data + 3 pad
            1, 0, 2, 0, b'o', b'k', 0, 0, // opt_comment
            0, 0, 0, 0,                 // opt_endofopt
            52, 0, 0, 0,
        ];
        assert_eq!(out, expected);
    }

    /// IDB: link type 127, snaplen 65535, if_name "a", if_tsresol 9, no description.
    #[test]
    fn idb_layout() {
        let mut out = Vec::new();
        interface_description(&mut out, LINKTYPE_RADIOTAP, 65535, "a", "");
        #[rustfmt::skip]
        let expected = [
            1, 0, 0, 0, 40, 0, 0, 0,
            127, 0, 0, 0, 0xff, 0xff, 0, 0,
            2, 0, 1, 0, b'a', 0, 0, 0,
            9, 0, 1, 0, 9, 0, 0, 0,
            0, 0, 0, 0,
            40, 0, 0, 0,
        ];
        assert_eq!(out, expected);
    }

    #[test]
    fn shb_layout() {
        let mut out = Vec::new();
        section_header(&mut out, "x");
        #[rustfmt::skip]
        let expected = [
            0x0a, 0x0d, 0x0d, 0x0a, 40, 0, 0, 0,
            0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            4, 0, 1, 0, b'x', 0, 0, 0,
            0, 0, 0, 0,
            40, 0, 0, 0,
        ];
        assert_eq!(out, expected);
    }
}
