//! The TID-To-Link Mapping element (IEEE 802.11be-2024 9.4.2.314, 255/109): which links
//! each TID's frames may use, per direction. A non-AP MLD carries it in a negotiated
//! TID-to-link mapping request (35.3.7.1); an AP MLD advertises one in beacons.
//!
//! ```text
//! 255 | Length | 109 | Control (1) | Link Mapping Presence Indicator (0 or 1) |
//!     Mapping Switch Time (0 or 2) | Expected Duration (0 or 3) |
//!     Link Mapping Of TID n (0, 1 or 2 octets each, for every TID whose presence bit is set)
//!
//! Control: B0-B1 Direction (0 downlink, 1 uplink, 2 both), B2 Default Link Mapping,
//!          B3 Mapping Switch Time Present, B4 Expected Duration Present,
//!          B5 Link Mapping Size (1: one octet per map, 0: two), B6-B7 reserved
//! ```
//!
//! The presence indicator is there only when Default Link Mapping is 0 (then no maps
//! follow at all). Each map is a bitmap of link IDs.

use super::bytes::{self, Writer};
use super::{ext_id, id, Error, IeRepr};

/// Number of TIDs a mapping covers.
pub const TTLM_TIDS: usize = 8;

/// Bits of the Control octet.
pub mod ttlm_control {
    /// Direction (two bits).
    pub const DIRECTION: u8 = 0x03;
    /// Default Link Mapping: every TID on every link; no presence indicator, no maps.
    pub const DEFAULT_LINK_MAPPING: u8 = 0x04;
    /// Mapping Switch Time present.
    pub const SWITCH_TIME_PRESENT: u8 = 0x08;
    /// Expected Duration present.
    pub const EXPECTED_DURATION_PRESENT: u8 = 0x10;
    /// Link Mapping Size: 1 = one-octet maps, 0 = two-octet maps.
    pub const LINK_MAPPING_SIZE: u8 = 0x20;
    /// Reserved bits (kept for the round trip).
    pub const RESERVED: u8 = 0xc0;
}

/// Which direction a mapping governs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtlmDirection {
    /// AP MLD to non-AP MLD.
    Downlink,
    /// Non-AP MLD to AP MLD.
    Uplink,
    /// Both.
    Both,
    /// The reserved value 3.
    Reserved,
}

impl TtlmDirection {
    fn from_bits(v: u8) -> Self {
        match v & ttlm_control::DIRECTION {
            0 => TtlmDirection::Downlink,
            1 => TtlmDirection::Uplink,
            2 => TtlmDirection::Both,
            _ => TtlmDirection::Reserved,
        }
    }

    fn bits(self) -> u8 {
        match self {
            TtlmDirection::Downlink => 0,
            TtlmDirection::Uplink => 1,
            TtlmDirection::Both => 2,
            TtlmDirection::Reserved => 3,
        }
    }

    /// Whether the mapping applies to downlink frames.
    pub fn covers_downlink(self) -> bool {
        matches!(self, TtlmDirection::Downlink | TtlmDirection::Both)
    }

    /// Whether the mapping applies to uplink frames.
    pub fn covers_uplink(self) -> bool {
        matches!(self, TtlmDirection::Uplink | TtlmDirection::Both)
    }
}

/// A decoded TID-To-Link Mapping element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TidToLinkMappingRepr<'a> {
    /// Direction the mapping governs.
    pub direction: TtlmDirection,
    /// Default Link Mapping: every TID maps to every link (`maps` and `presence` unused).
    pub default_mapping: bool,
    /// Mapping Switch Time (TSF bits 10-25), when present.
    pub switch_time: Option<u16>,
    /// Expected Duration (TUs, 24 bits), when present.
    pub expected_duration: Option<u32>,
    /// Link Mapping Size: one-octet maps (links 0-7) instead of two-octet.
    pub one_octet_maps: bool,
    /// Link Mapping Presence Indicator: bit n set = TID n's map follows.
    pub presence: u8,
    /// Link ID bitmap per TID; only TIDs with their presence bit set are on the wire.
    pub maps: [u16; TTLM_TIDS],
    /// Reserved control bits B6-B7, kept as received.
    pub reserved: u8,
    /// Bytes after the last map (none in a well-formed element), kept for the round trip.
    pub extra: &'a [u8],
}

impl TidToLinkMappingRepr<'_> {
    /// A mapping of every TID to the link set `links` (a link ID bitmap) in `direction`,
    /// with two-octet maps and no timing fields (what a negotiated request carries).
    pub fn all_tids(direction: TtlmDirection, links: u16) -> TidToLinkMappingRepr<'static> {
        TidToLinkMappingRepr {
            direction,
            default_mapping: false,
            switch_time: None,
            expected_duration: None,
            one_octet_maps: false,
            presence: 0xff,
            maps: [links; TTLM_TIDS],
            reserved: 0,
            extra: &[],
        }
    }

    /// The link ID bitmap TID `tid` maps to: every link (`0xffff`) under the default
    /// mapping, none for a TID whose presence bit is clear or a TID beyond 7.
    pub fn links_of(&self, tid: u8) -> u16 {
        if self.default_mapping {
            return 0xffff;
        }
        match self.maps.get(usize::from(tid)) {
            Some(&m) if self.presence & (1 << tid) != 0 => m,
            _ => 0,
        }
    }

    fn control(&self) -> u8 {
        let mut c = self.direction.bits() | (self.reserved & ttlm_control::RESERVED);
        if self.default_mapping {
            c |= ttlm_control::DEFAULT_LINK_MAPPING;
        }
        if self.switch_time.is_some() {
            c |= ttlm_control::SWITCH_TIME_PRESENT;
        }
        if self.expected_duration.is_some() {
            c |= ttlm_control::EXPECTED_DURATION_PRESENT;
        }
        if self.one_octet_maps {
            c |= ttlm_control::LINK_MAPPING_SIZE;
        }
        c
    }

    fn map_len(&self) -> usize {
        if self.one_octet_maps {
            1
        } else {
            2
        }
    }
}

impl<'a> IeRepr<'a> for TidToLinkMappingRepr<'a> {
    const ID: u8 = id::EXTENSION;
    const EXT: Option<u8> = Some(ext_id::TID_TO_LINK_MAPPING);

    fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let mut cur = data;
        let control = bytes::u8(&mut cur)?;
        let default_mapping = control & ttlm_control::DEFAULT_LINK_MAPPING != 0;
        let presence = if default_mapping {
            0
        } else {
            bytes::u8(&mut cur)?
        };
        let switch_time = if control & ttlm_control::SWITCH_TIME_PRESENT != 0 {
            Some(bytes::le16(&mut cur)?)
        } else {
            None
        };
        let expected_duration = if control & ttlm_control::EXPECTED_DURATION_PRESENT != 0 {
            let d = bytes::array::<3>(&mut cur)?;
            Some(u32::from_le_bytes([d[0], d[1], d[2], 0]))
        } else {
            None
        };
        let one_octet_maps = control & ttlm_control::LINK_MAPPING_SIZE != 0;
        let mut maps = [0u16; TTLM_TIDS];
        for (tid, map) in maps.iter_mut().enumerate() {
            if presence & (1 << tid) != 0 {
                *map = if one_octet_maps {
                    u16::from(bytes::u8(&mut cur)?)
                } else {
                    bytes::le16(&mut cur)?
                };
            }
        }
        Ok(TidToLinkMappingRepr {
            direction: TtlmDirection::from_bits(control),
            default_mapping,
            switch_time,
            expected_duration,
            one_octet_maps,
            presence,
            maps,
            reserved: control & ttlm_control::RESERVED,
            extra: cur,
        })
    }

    fn buffer_len(&self) -> usize {
        let maps = if self.default_mapping {
            0
        } else {
            1 + self.presence.count_ones() as usize * self.map_len()
        };
        1 + maps
            + self.switch_time.map_or(0, |_| 2)
            + self.expected_duration.map_or(0, |_| 3)
            + self.extra.len()
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        bytes::need(buf, self.buffer_len())?;
        if self.expected_duration.is_some_and(|d| d > 0x00ff_ffff) {
            return Err(Error::Invalid("Expected Duration exceeds 24 bits"));
        }
        let mut w = Writer::new(buf);
        w.u8(self.control())?;
        if !self.default_mapping {
            w.u8(self.presence)?;
        }
        if let Some(t) = self.switch_time {
            w.le16(t)?;
        }
        if let Some(d) = self.expected_duration {
            w.put(&d.to_le_bytes()[..3])?;
        }
        if !self.default_mapping {
            for (tid, &map) in self.maps.iter().enumerate() {
                if self.presence & (1 << tid) == 0 {
                    continue;
                }
                if self.one_octet_maps {
                    let m = u8::try_from(map)
                        .map_err(|_| Error::Invalid("link map above link 7 in one octet"))?;
                    w.u8(m)?;
                } else {
                    w.le16(map)?;
                }
            }
        }
        w.put(self.extra)?;
        Ok(w.pos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What mac80211's negotiated request carries: direction both, every TID to links 0
    /// and 2 (0x0005), two-octet maps.
    const BOTH_LINKS_0_2: [u8; 18] = [
        0x02, // control: direction 2 (both), no default, no times, two-octet maps
        0xff, // presence: TIDs 0-7
        0x05, 0x00, 0x05, 0x00, 0x05, 0x00, 0x05, 0x00, // TIDs 0-3
        0x05, 0x00, 0x05, 0x00, 0x05, 0x00, 0x05, 0x00, // TIDs 4-7
    ];

    #[test]
    fn parses_a_negotiated_request_mapping() {
        let r = TidToLinkMappingRepr::parse(&BOTH_LINKS_0_2).unwrap();
        assert_eq!(r.direction, TtlmDirection::Both);
        assert!(!r.default_mapping && !r.one_octet_maps);
        assert_eq!(r.presence, 0xff);
        assert_eq!(r.maps, [0x0005; 8]);
        assert_eq!((r.switch_time, r.expected_duration), (None, None));
        assert_eq!(r, TidToLinkMappingRepr::all_tids(TtlmDirection::Both, 5));
        let mut out = [0u8; 18];
        assert_eq!(r.emit(&mut out), Ok(18));
        assert_eq!(out, BOTH_LINKS_0_2);
    }

    #[test]
    fn one_octet_maps_with_switch_time_and_duration() {
        // Uplink, switch time and duration present, one-octet maps, TIDs 1 and 6 only.
        let data = [
            0x01 | 0x08 | 0x10 | 0x20, // control
            0b0100_0010,               // presence: TIDs 1 and 6
            0x34,
            0x12, // switch time 0x1234
            0x03,
            0x02,
            0x01, // expected duration 0x010203
            0x02, // TID 1: link 1
            0x06, // TID 6: links 1, 2
        ];
        let r = TidToLinkMappingRepr::parse(&data).unwrap();
        assert_eq!(r.direction, TtlmDirection::Uplink);
        assert!(r.one_octet_maps);
        assert_eq!(r.switch_time, Some(0x1234));
        assert_eq!(r.expected_duration, Some(0x0001_0203));
        assert_eq!((r.links_of(1), r.links_of(6), r.links_of(0)), (2, 6, 0));
        assert_eq!(r.buffer_len(), data.len());
        let mut out = [0u8; 9];
        r.emit(&mut out).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn default_mapping_has_no_presence_octet() {
        // Downlink default mapping: one octet only (the presence indicator is absent).
        let r = TidToLinkMappingRepr::parse(&[0x04]).unwrap();
        assert!(r.default_mapping);
        assert_eq!(r.direction, TtlmDirection::Downlink);
        assert_eq!(r.links_of(7), 0xffff);
        let mut out = [0u8; 1];
        assert_eq!(r.emit(&mut out), Ok(1));
        assert_eq!(out, [0x04]);
    }

    #[test]
    fn whole_element_header() {
        let r = TidToLinkMappingRepr::all_tids(TtlmDirection::Both, 5);
        let mut out = [0u8; 21];
        assert_eq!(r.emit_element(&mut out), Ok(21));
        assert_eq!(&out[..3], &[255, 19, 109]);
        assert_eq!(&out[3..], &BOTH_LINKS_0_2);
    }

    #[test]
    fn reserved_bits_and_trailing_bytes_survive() {
        let data = [0xc2, 0x01, 0x03, 0x00, 0xaa];
        let r = TidToLinkMappingRepr::parse(&data).unwrap();
        assert_eq!((r.reserved, r.extra), (0xc0, &[0xaa][..]));
        let mut out = [0u8; 5];
        r.emit(&mut out).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        assert_eq!(TidToLinkMappingRepr::parse(&[]), Err(Error::Truncated));
        // No presence indicator although the default mapping bit is clear.
        assert_eq!(TidToLinkMappingRepr::parse(&[0x02]), Err(Error::Truncated));
        // Eight maps announced, one given.
        assert_eq!(
            TidToLinkMappingRepr::parse(&[0x02, 0xff, 0x01, 0x00]),
            Err(Error::Truncated)
        );
        // Switch time announced, one octet left.
        assert_eq!(
            TidToLinkMappingRepr::parse(&[0x0c, 0x01]),
            Err(Error::Truncated)
        );
        // Every prefix of every control value parses or fails cleanly.
        for control in 0..=255u8 {
            let mut data = vec![control, 0xff];
            data.extend_from_slice(&[0x11; 24]);
            for n in 0..data.len() {
                let _ = TidToLinkMappingRepr::parse(&data[..n]);
            }
        }
    }

    #[test]
    fn emit_refuses_what_the_fields_cannot_carry() {
        let mut r = TidToLinkMappingRepr::all_tids(TtlmDirection::Both, 0x0100);
        r.one_octet_maps = true;
        let mut out = [0u8; 32];
        assert!(matches!(r.emit(&mut out), Err(Error::Invalid(_))));
        let mut r = TidToLinkMappingRepr::all_tids(TtlmDirection::Both, 1);
        r.expected_duration = Some(0x0100_0000);
        assert!(matches!(r.emit(&mut out), Err(Error::Invalid(_))));
        let r = TidToLinkMappingRepr::all_tids(TtlmDirection::Both, 1);
        assert!(matches!(
            r.emit(&mut out[..5]),
            Err(Error::BufferTooSmall { .. })
        ));
    }
}
