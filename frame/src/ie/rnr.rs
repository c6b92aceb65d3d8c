//! The Reduced Neighbor Report element (IEEE 802.11-2020 9.4.2.170, extended by
//! 802.11be-2024 with the MLD Parameters subfield), ID 201.
//!
//! ```text
//! Neighbor AP Information field, repeated:
//!   TBTT Information Header (2): B0-B1 field type, B2 filtered neighbor AP, B3 reserved,
//!                                B4-B7 TBTT information count - 1, B8-B15 TBTT info length
//!   Operating Class (1) | Channel Number (1) | TBTT Information Set (count × length)
//! TBTT Information field, by length: TBTT offset (1), then per the table in
//!   `tbtt_layout`; 16 = offset, BSSID, short SSID, BSS parameters, 20 MHz PSD,
//!   MLD parameters (3).
//! ```

use super::bytes::{self, Writer};
use super::{id, Error};
use crate::MacAddr;

/// The Short SSID of an SSID (802.11-2020 9.4.2.170.3): its CRC-32, the one the FCS uses
/// (reflected polynomial 0xEDB88320, initial value and final XOR all ones).
pub fn short_ssid(ssid: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &b in ssid {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// BSS Parameters subfield bits of a TBTT Information field.
pub mod bss_params {
    /// OCT Recommended.
    pub const OCT_RECOMMENDED: u8 = 1 << 0;
    /// Same SSID as the reporting AP.
    pub const SAME_SSID: u8 = 1 << 1;
    /// Multiple BSSID.
    pub const MULTIPLE_BSSID: u8 = 1 << 2;
    /// Transmitted BSSID.
    pub const TRANSMITTED_BSSID: u8 = 1 << 3;
    /// Member Of ESS With 2.4/5 GHz Co-Located AP.
    pub const ESS_WITH_COLOCATED_AP: u8 = 1 << 4;
    /// Unsolicited Probe Responses Active.
    pub const UNSOLICITED_PROBE_RESPONSES: u8 = 1 << 5;
    /// Co-Located AP.
    pub const COLOCATED_AP: u8 = 1 << 6;
}

/// MLD Parameters subfield of a TBTT Information field (3 octets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MldParams {
    /// AP MLD ID.
    pub ap_mld_id: u8,
    /// Link ID (4 bits).
    pub link_id: u8,
    /// BSS Parameters Change Count.
    pub bss_params_change_count: u8,
    /// All Updates Included.
    pub all_updates_included: bool,
    /// Disabled Link Indication.
    pub disabled_link: bool,
    /// Reserved bits B22-B23, kept.
    pub reserved: u8,
}

impl MldParams {
    fn parse(b: [u8; 3]) -> MldParams {
        let rest = u16::from_le_bytes([b[1], b[2]]);
        MldParams {
            ap_mld_id: b[0],
            link_id: (rest & 0x0f) as u8,
            bss_params_change_count: (rest >> 4) as u8,
            all_updates_included: rest & (1 << 12) != 0,
            disabled_link: rest & (1 << 13) != 0,
            reserved: (rest >> 14) as u8,
        }
    }

    fn to_bytes(self) -> [u8; 3] {
        let rest = u16::from(self.link_id & 0x0f)
            | u16::from(self.bss_params_change_count) << 4
            | u16::from(self.all_updates_included) << 12
            | u16::from(self.disabled_link) << 13
            | u16::from(self.reserved & 0x3) << 14;
        let [a, b] = rest.to_le_bytes();
        [self.ap_mld_id, a, b]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TbttField {
    Bssid,
    ShortSsid,
    BssParams,
    Psd,
    Mld,
}

/// Fields after the TBTT offset for the longest defined length ≤ `len`, and that length.
/// Longer fields keep the rest as `extra`.
fn tbtt_layout(len: usize) -> (usize, &'static [TbttField]) {
    use TbttField::*;
    match len {
        0 | 1 => (1, &[]),
        2..=4 => (2, &[BssParams]),
        5 => (5, &[ShortSsid]),
        6 => (6, &[ShortSsid, BssParams]),
        7 => (7, &[Bssid]),
        8 => (8, &[Bssid, BssParams]),
        9 | 10 => (9, &[Bssid, BssParams, Psd]),
        11 => (11, &[Bssid, ShortSsid]),
        12 => (12, &[Bssid, ShortSsid, BssParams]),
        13..=15 => (13, &[Bssid, ShortSsid, BssParams, Psd]),
        _ => (16, &[Bssid, ShortSsid, BssParams, Psd, Mld]),
    }
}

/// One TBTT Information field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TbttInfo<'a> {
    /// Neighbor AP TBTT Offset (TUs; 254 = ≥ 254, 255 = unknown).
    pub tbtt_offset: u8,
    /// BSSID.
    pub bssid: Option<MacAddr>,
    /// Short SSID.
    pub short_ssid: Option<u32>,
    /// BSS Parameters.
    pub bss_params: Option<u8>,
    /// 20 MHz PSD (0.5 dBm units).
    pub psd_20mhz: Option<u8>,
    /// MLD Parameters.
    pub mld_params: Option<MldParams>,
    /// Bytes past the defined fields.
    pub extra: &'a [u8],
}

impl<'a> TbttInfo<'a> {
    fn is_some(&self, f: TbttField) -> bool {
        match f {
            TbttField::Bssid => self.bssid.is_some(),
            TbttField::ShortSsid => self.short_ssid.is_some(),
            TbttField::BssParams => self.bss_params.is_some(),
            TbttField::Psd => self.psd_20mhz.is_some(),
            TbttField::Mld => self.mld_params.is_some(),
        }
    }

    /// Parses a TBTT Information field; its length decides the fields.
    pub fn parse(raw: &'a [u8]) -> Result<Self, Error> {
        let (_, layout) = tbtt_layout(raw.len());
        let mut cur = raw;
        let mut t = TbttInfo {
            tbtt_offset: bytes::u8(&mut cur)?,
            ..TbttInfo::default()
        };
        for f in layout {
            match f {
                TbttField::Bssid => t.bssid = Some(MacAddr(bytes::array(&mut cur)?)),
                TbttField::ShortSsid => t.short_ssid = Some(bytes::le32(&mut cur)?),
                TbttField::BssParams => t.bss_params = Some(bytes::u8(&mut cur)?),
                TbttField::Psd => t.psd_20mhz = Some(bytes::u8(&mut cur)?),
                TbttField::Mld => t.mld_params = Some(MldParams::parse(bytes::array(&mut cur)?)),
            }
        }
        t.extra = cur;
        Ok(t)
    }

    /// Length of the field.
    pub fn buffer_len(&self) -> usize {
        let f = |p: bool, n: usize| if p { n } else { 0 };
        1 + f(self.bssid.is_some(), 6)
            + f(self.short_ssid.is_some(), 4)
            + f(self.bss_params.is_some(), 1)
            + f(self.psd_20mhz.is_some(), 1)
            + f(self.mld_params.is_some(), 3)
            + self.extra.len()
    }

    /// Writes the field; fails when the set fields are not a layout the standard
    /// defines for the resulting length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = self.buffer_len();
        let (defined, layout) = tbtt_layout(len);
        let all = [
            TbttField::Bssid,
            TbttField::ShortSsid,
            TbttField::BssParams,
            TbttField::Psd,
            TbttField::Mld,
        ];
        let consistent = len - self.extra.len() == defined
            && all.iter().all(|f| self.is_some(*f) == layout.contains(f));
        if !consistent {
            return Err(Error::Invalid(
                "TBTT information fields are not a defined layout",
            ));
        }
        let mut w = Writer::new(buf);
        w.u8(self.tbtt_offset)?;
        if let Some(a) = self.bssid {
            w.put(&a.0)?;
        }
        if let Some(s) = self.short_ssid {
            w.le32(s)?;
        }
        if let Some(b) = self.bss_params {
            w.u8(b)?;
        }
        if let Some(p) = self.psd_20mhz {
            w.u8(p)?;
        }
        if let Some(m) = self.mld_params {
            w.put(&m.to_bytes())?;
        }
        w.put(self.extra)?;
        Ok(w.pos())
    }
}

/// One Neighbor AP Information field, as parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighborApInfo<'a> {
    /// TBTT Information Header.
    pub header: u16,
    /// Operating Class.
    pub operating_class: u8,
    /// Channel Number.
    pub channel: u8,
    /// TBTT Information Set: `count()` fields of `tbtt_info_len()` bytes.
    pub tbtt_set: &'a [u8],
}

impl<'a> NeighborApInfo<'a> {
    /// TBTT Information Field Type.
    pub fn field_type(&self) -> u8 {
        (self.header & 0x3) as u8
    }

    /// Filtered Neighbor AP.
    pub fn filtered(&self) -> bool {
        self.header & 0x4 != 0
    }

    /// TBTT Information Count (fields in the set).
    pub fn count(&self) -> usize {
        usize::from((self.header >> 4) & 0xf) + 1
    }

    /// TBTT Information Length.
    pub fn tbtt_info_len(&self) -> usize {
        usize::from(self.header >> 8)
    }

    /// The TBTT Information fields.
    pub fn tbtt_infos(&self) -> impl Iterator<Item = Result<TbttInfo<'a>, Error>> + 'a {
        let len = self.tbtt_info_len();
        let set = self.tbtt_set;
        (0..self.count()).map(move |i| {
            let raw = set.get(i * len..(i + 1) * len).ok_or(Error::Truncated)?;
            TbttInfo::parse(raw)
        })
    }
}

/// A walk over the Neighbor AP Information fields of a Reduced Neighbor Report's data.
/// A field that runs past the end yields `Err(Error::Truncated)` and ends the walk.
#[derive(Clone, Debug)]
pub struct ReducedNeighborReport<'a> {
    buf: &'a [u8],
}

impl<'a> ReducedNeighborReport<'a> {
    /// Element ID.
    pub const ID: u8 = id::REDUCED_NEIGHBOR_REPORT;

    /// Walks the element's data.
    pub fn new(data: &'a [u8]) -> Self {
        ReducedNeighborReport { buf: data }
    }
}

impl<'a> Iterator for ReducedNeighborReport<'a> {
    type Item = Result<NeighborApInfo<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        let mut cur = self.buf;
        let item = (|| {
            let header = bytes::le16(&mut cur)?;
            let operating_class = bytes::u8(&mut cur)?;
            let channel = bytes::u8(&mut cur)?;
            let mut info = NeighborApInfo {
                header,
                operating_class,
                channel,
                tbtt_set: &[],
            };
            info.tbtt_set = bytes::take(&mut cur, info.count() * info.tbtt_info_len())?;
            Ok(info)
        })();
        self.buf = if item.is_ok() { cur } else { &[] };
        Some(item)
    }
}

/// A Neighbor AP Information field to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighborApInfoRepr<'r, 'a> {
    /// TBTT Information Field Type (0 for all defined layouts).
    pub field_type: u8,
    /// Filtered Neighbor AP.
    pub filtered: bool,
    /// Operating Class.
    pub operating_class: u8,
    /// Channel Number.
    pub channel: u8,
    /// TBTT Information fields: 1 to 16, all of one length.
    pub tbtt_infos: &'r [TbttInfo<'a>],
}

impl NeighborApInfoRepr<'_, '_> {
    /// Length of the field.
    pub fn buffer_len(&self) -> usize {
        4 + self
            .tbtt_infos
            .iter()
            .map(TbttInfo::buffer_len)
            .sum::<usize>()
    }

    /// Writes the field.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let first = self
            .tbtt_infos
            .first()
            .ok_or(Error::Invalid("no TBTT information"))?;
        let len = first.buffer_len();
        if self.tbtt_infos.len() > 16
            || len > 255
            || self.tbtt_infos.iter().any(|t| t.buffer_len() != len)
        {
            return Err(Error::Invalid("TBTT information fields differ or too many"));
        }
        let header = u16::from(self.field_type & 0x3)
            | u16::from(self.filtered) << 2
            | ((self.tbtt_infos.len() - 1) as u16) << 4
            | (len as u16) << 8;
        let mut w = Writer::new(buf);
        w.le16(header)?;
        w.put(&[self.operating_class, self.channel])?;
        for t in self.tbtt_infos {
            let n = t.emit(w.rest())?;
            w.advance(n);
        }
        Ok(w.pos())
    }
}
