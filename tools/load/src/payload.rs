//! The body of every data frame hwsim-load sends, laid out so a dissector reads it: after the
//! 24-byte 802.11 header, an LLC/SNAP header (RFC 1042) with the IEEE local experimental
//! EtherType 0x88B5, then the tag `hwsim-ld`, then whatever the sender puts there (the
//! worker's CLOCK_MONOTONIC send time). Without the LLC/SNAP header Wireshark took the first
//! payload bytes for one and reported every frame malformed.

/// Length of the 802.11 data header (no QoS, no addr4).
const MAC_HEADER_LEN: usize = 24;

/// LLC/SNAP for an EtherType-encapsulated payload: DSAP/SSAP 0xAA, UI, OUI 00-00-00.
const LLC_SNAP: [u8; 6] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00];

/// IEEE 802 local experimental EtherType 1: ours to use, and Wireshark shows it as such.
pub const ETHERTYPE: u16 = 0x88b5;

/// The tag that says a frame is hwsim-load's.
pub const TAG: &[u8; 8] = b"hwsim-ld";

/// Where the sender's own bytes start (after header, LLC/SNAP + EtherType and tag).
pub const DATA_OFFSET: usize = MAC_HEADER_LEN + LLC_SNAP.len() + 2 + TAG.len();

/// Writes the data frame control (ToDS = FromDS = 0), LLC/SNAP, EtherType and tag into
/// `frame` (at least [`DATA_OFFSET`] bytes); the addresses are the caller's.
pub fn init_frame(frame: &mut [u8]) {
    frame[0] = 0x08;
    frame[1] = 0;
    let llc = MAC_HEADER_LEN..MAC_HEADER_LEN + LLC_SNAP.len();
    frame[llc.clone()].copy_from_slice(&LLC_SNAP);
    frame[llc.end..llc.end + 2].copy_from_slice(&ETHERTYPE.to_be_bytes());
    frame[llc.end + 2..DATA_OFFSET].copy_from_slice(TAG);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_llc_snap_with_the_experimental_ethertype_and_tag() {
        let mut f = [0u8; DATA_OFFSET + 8];
        init_frame(&mut f);
        assert_eq!(f[0], 0x08);
        assert_eq!(&f[24..32], &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x88, 0xb5]);
        assert_eq!(&f[32..40], b"hwsim-ld");
        assert_eq!(DATA_OFFSET, 40);
    }
}
