//! The Multi-Link element (IEEE 802.11be-2024 9.4.2.322): Multi-Link Control, Common
//! Info and the Link Info field of subelements, chiefly Per-STA Profiles.
//!
//! ```text
//! 255 | Length | 107 | Multi-Link Control (2) | Common Info (var) | Link Info (var)
//! Multi-Link Control: B0-B2 Type, B3 reserved, B4-B15 Presence Bitmap
//! Common Info:        Common Info Length (1, counts itself) + fields by type/presence
//! Link Info:          subelements; Per-STA Profile = ID 0, Length, STA Control (2),
//!                     STA Info (Length (1) + fields by STA Control), STA Profile
//! ```
//!
//! The element continues in Fragment elements (ID 242) past 255 bytes, and a Per-STA
//! Profile subelement in Fragment subelements (ID 254) past 255 bytes. [`MultiLink`] is a
//! zero-copy view over defragmented element data; [`MultiLinkRepr`] is the decoded form.

use super::bytes::{self, Writer};
use super::element::{emit_fragmented, fragmented_len};
use super::{ext_id, id, ml_subelement, Element, Elements, Error, IeRepr};
use crate::mac::mgmt_subtype;
use crate::MacAddr;

/// The Type subfield of Multi-Link Control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MultiLinkType {
    /// Basic (0): beacons, probe responses, (re)association, authentication.
    Basic,
    /// Probe Request (1).
    ProbeRequest,
    /// Reconfiguration (2).
    Reconfiguration,
    /// Another type (TDLS, Priority Access, reserved): carried as raw bytes.
    Unknown(u8),
}

impl MultiLinkType {
    /// From the 3-bit Type subfield.
    pub fn from_bits(bits: u8) -> MultiLinkType {
        match bits & 0x7 {
            0 => MultiLinkType::Basic,
            1 => MultiLinkType::ProbeRequest,
            2 => MultiLinkType::Reconfiguration,
            n => MultiLinkType::Unknown(n),
        }
    }

    /// The 3-bit Type subfield.
    pub fn bits(self) -> u8 {
        match self {
            MultiLinkType::Basic => 0,
            MultiLinkType::ProbeRequest => 1,
            MultiLinkType::Reconfiguration => 2,
            MultiLinkType::Unknown(n) => n & 0x7,
        }
    }
}

/// Common Info fields, in the order they appear when present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CommonField {
    MldAddr,
    LinkIdInfo,
    BssParamsChangeCount,
    MediumSyncDelay,
    EmlCapabilities,
    MldCapabilities,
    ApMldId,
    ExtMldCapabilities,
}

/// Common Info layout per type: field and presence bitmap bit (`None`: always there).
fn common_layout(kind: MultiLinkType) -> &'static [(CommonField, Option<u8>)] {
    use CommonField::*;
    match kind {
        MultiLinkType::Basic => &[
            (MldAddr, None),
            (LinkIdInfo, Some(0)),
            (BssParamsChangeCount, Some(1)),
            (MediumSyncDelay, Some(2)),
            (EmlCapabilities, Some(3)),
            (MldCapabilities, Some(4)),
            (ApMldId, Some(5)),
            (ExtMldCapabilities, Some(6)),
        ],
        MultiLinkType::ProbeRequest => &[(ApMldId, Some(0)), (ExtMldCapabilities, Some(1))],
        MultiLinkType::Reconfiguration => &[
            (MldAddr, Some(0)),
            (EmlCapabilities, Some(1)),
            (MldCapabilities, Some(2)),
            (ExtMldCapabilities, Some(3)),
        ],
        MultiLinkType::Unknown(_) => &[],
    }
}

/// The Common Info field. Which fields a type carries: Basic — MLD MAC address (always),
/// then the optional rest in declaration order; Probe Request — AP MLD ID, extended MLD
/// capabilities; Reconfiguration — MLD MAC address, EML and MLD capabilities, extended
/// MLD capabilities. Presence bits follow from which fields are `Some`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommonInfo<'a> {
    /// MLD MAC Address.
    pub mld_addr: Option<MacAddr>,
    /// Link ID Info (B0-B3 link ID).
    pub link_id_info: Option<u8>,
    /// BSS Parameters Change Count.
    pub bss_params_change_count: Option<u8>,
    /// Medium Synchronization Delay Information.
    pub medium_sync_delay: Option<u16>,
    /// EML Capabilities.
    pub eml_capabilities: Option<u16>,
    /// MLD Capabilities And Operations.
    pub mld_capabilities: Option<u16>,
    /// AP MLD ID.
    pub ap_mld_id: Option<u8>,
    /// Extended MLD Capabilities And Operations.
    pub ext_mld_capabilities: Option<u16>,
    /// Presence bitmap bits this crate does not know (bit 0 = control bit 4).
    pub other_presence: u16,
    /// Bytes after the known fields, within Common Info Length.
    pub extra: &'a [u8],
}

impl<'a> CommonInfo<'a> {
    /// The link ID from Link ID Info.
    pub fn link_id(&self) -> Option<u8> {
        self.link_id_info.map(|v| v & 0x0f)
    }

    fn is_some(&self, f: CommonField) -> bool {
        match f {
            CommonField::MldAddr => self.mld_addr.is_some(),
            CommonField::LinkIdInfo => self.link_id_info.is_some(),
            CommonField::BssParamsChangeCount => self.bss_params_change_count.is_some(),
            CommonField::MediumSyncDelay => self.medium_sync_delay.is_some(),
            CommonField::EmlCapabilities => self.eml_capabilities.is_some(),
            CommonField::MldCapabilities => self.mld_capabilities.is_some(),
            CommonField::ApMldId => self.ap_mld_id.is_some(),
            CommonField::ExtMldCapabilities => self.ext_mld_capabilities.is_some(),
        }
    }

    fn field_len(f: CommonField) -> usize {
        match f {
            CommonField::MldAddr => 6,
            CommonField::LinkIdInfo | CommonField::BssParamsChangeCount => 1,
            CommonField::ApMldId => 1,
            _ => 2,
        }
    }

    const ALL: [CommonField; 8] = [
        CommonField::MldAddr,
        CommonField::LinkIdInfo,
        CommonField::BssParamsChangeCount,
        CommonField::MediumSyncDelay,
        CommonField::EmlCapabilities,
        CommonField::MldCapabilities,
        CommonField::ApMldId,
        CommonField::ExtMldCapabilities,
    ];

    /// Parses a Common Info field (`raw` starts with its length octet and is exactly
    /// that long) for a type and presence bitmap.
    pub fn parse(kind: MultiLinkType, presence: u16, raw: &'a [u8]) -> Result<Self, Error> {
        let mut cur = raw.get(1..).ok_or(Error::BadLength)?;
        let mut ci = CommonInfo::default();
        let mut known = 0u16;
        for &(f, bit) in common_layout(kind) {
            if let Some(b) = bit {
                known |= 1 << b;
                if presence & (1 << b) == 0 {
                    continue;
                }
            }
            let short = |_| Error::BadLength;
            match f {
                CommonField::MldAddr => {
                    ci.mld_addr = Some(MacAddr(bytes::array(&mut cur).map_err(short)?))
                }
                CommonField::LinkIdInfo => {
                    ci.link_id_info = Some(bytes::u8(&mut cur).map_err(short)?)
                }
                CommonField::BssParamsChangeCount => {
                    ci.bss_params_change_count = Some(bytes::u8(&mut cur).map_err(short)?)
                }
                CommonField::MediumSyncDelay => {
                    ci.medium_sync_delay = Some(bytes::le16(&mut cur).map_err(short)?)
                }
                CommonField::EmlCapabilities => {
                    ci.eml_capabilities = Some(bytes::le16(&mut cur).map_err(short)?)
                }
                CommonField::MldCapabilities => {
                    ci.mld_capabilities = Some(bytes::le16(&mut cur).map_err(short)?)
                }
                CommonField::ApMldId => ci.ap_mld_id = Some(bytes::u8(&mut cur).map_err(short)?),
                CommonField::ExtMldCapabilities => {
                    ci.ext_mld_capabilities = Some(bytes::le16(&mut cur).map_err(short)?)
                }
            }
        }
        ci.other_presence = presence & 0x0fff & !known;
        ci.extra = cur;
        Ok(ci)
    }

    /// Length of the field, its length octet included.
    pub fn buffer_len(&self) -> usize {
        let fields: usize = Self::ALL
            .iter()
            .filter(|f| self.is_some(**f))
            .map(|f| Self::field_len(*f))
            .sum();
        1 + fields + self.extra.len()
    }

    /// The presence bitmap (12 bits) for a type; fails if a field the type does not
    /// carry is set, or a mandatory one is missing.
    pub fn presence(&self, kind: MultiLinkType) -> Result<u16, Error> {
        let layout = common_layout(kind);
        let mut presence = 0u16;
        let mut known = 0u16;
        for &(f, bit) in layout {
            match bit {
                Some(b) => {
                    known |= 1 << b;
                    if self.is_some(f) {
                        presence |= 1 << b;
                    }
                }
                None if !self.is_some(f) => {
                    return Err(Error::Invalid("mandatory common info field missing"))
                }
                None => {}
            }
        }
        for f in Self::ALL {
            if self.is_some(f) && !layout.iter().any(|(g, _)| *g == f) {
                return Err(Error::Invalid("common info field not carried by this type"));
            }
        }
        Ok(presence | (self.other_presence & 0x0fff & !known))
    }

    /// Writes the field; returns [`CommonInfo::buffer_len`].
    pub fn emit(&self, kind: MultiLinkType, buf: &mut [u8]) -> Result<usize, Error> {
        self.presence(kind)?;
        let len = self.buffer_len();
        let len8 = u8::try_from(len).map_err(|_| Error::Invalid("common info too long"))?;
        let mut w = Writer::new(buf);
        w.u8(len8)?;
        for &(f, _) in common_layout(kind) {
            match f {
                CommonField::MldAddr => {
                    if let Some(a) = self.mld_addr {
                        w.put(&a.0)?
                    }
                }
                CommonField::LinkIdInfo => opt_u8(&mut w, self.link_id_info)?,
                CommonField::BssParamsChangeCount => opt_u8(&mut w, self.bss_params_change_count)?,
                CommonField::MediumSyncDelay => opt_le16(&mut w, self.medium_sync_delay)?,
                CommonField::EmlCapabilities => opt_le16(&mut w, self.eml_capabilities)?,
                CommonField::MldCapabilities => opt_le16(&mut w, self.mld_capabilities)?,
                CommonField::ApMldId => opt_u8(&mut w, self.ap_mld_id)?,
                CommonField::ExtMldCapabilities => opt_le16(&mut w, self.ext_mld_capabilities)?,
            }
        }
        w.put(self.extra)?;
        Ok(w.pos())
    }
}

fn opt_u8(w: &mut Writer<'_>, v: Option<u8>) -> Result<(), Error> {
    v.map_or(Ok(()), |v| w.u8(v))
}

fn opt_le16(w: &mut Writer<'_>, v: Option<u16>) -> Result<(), Error> {
    v.map_or(Ok(()), |v| w.le16(v))
}

/// A view of Multi-Link element data (after the extension ID, defragmented).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultiLink<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> MultiLink<T> {
    /// Wraps data without checks.
    pub fn new_unchecked(buffer: T) -> Self {
        MultiLink { buffer }
    }

    /// Wraps data after checking it holds the control field and the whole Common Info
    /// its length octet claims.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let ml = MultiLink::new_unchecked(buffer);
        ml.check_len()?;
        Ok(ml)
    }

    /// The check [`MultiLink::new_checked`] performs.
    pub fn check_len(&self) -> Result<(), Error> {
        let buf = self.buffer.as_ref();
        let cil = usize::from(*buf.get(2).ok_or(Error::Truncated)?);
        if cil == 0 {
            return Err(Error::BadLength);
        }
        if buf.len() < 2 + cil {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Multi-Link Control.
    pub fn control(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_le_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ])
    }

    /// Type.
    pub fn kind(&self) -> MultiLinkType {
        MultiLinkType::from_bits(self.control() as u8)
    }

    /// Presence Bitmap (12 bits).
    pub fn presence(&self) -> u16 {
        self.control() >> 4
    }

    fn common_end(&self) -> usize {
        let b = self.buffer.as_ref();
        let cil = usize::from(b.get(2).copied().unwrap_or(0)).max(1);
        (2 + cil).min(b.len())
    }

    /// Common Info, its length octet included (empty if the buffer is too short).
    pub fn common_info_bytes(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(2..self.common_end())
            .unwrap_or(&[])
    }

    /// The Link Info field: subelements.
    pub fn link_info_bytes(&self) -> &[u8] {
        self.buffer.as_ref().get(self.common_end()..).unwrap_or(&[])
    }

    /// Decoded Common Info.
    pub fn common_info(&self) -> Result<CommonInfo<'_>, Error> {
        self.check_len()?;
        CommonInfo::parse(self.kind(), self.presence(), self.common_info_bytes())
    }

    /// The MLD MAC address (Basic always, Reconfiguration when present).
    pub fn mld_addr(&self) -> Option<MacAddr> {
        self.common_info().ok()?.mld_addr
    }

    /// The Link Info subelements, Fragment subelements folded in.
    pub fn subelements(&self) -> Elements<'_> {
        Elements::subelements(self.link_info_bytes())
    }
}

/// STA Control bits of a Per-STA Profile (Basic and Reconfiguration variants; Probe
/// Request uses only link ID and complete profile).
pub mod sta_control {
    /// Link ID.
    pub const LINK_ID: u16 = 0x000f;
    /// Complete Profile (Probe Request: Complete Profile Requested).
    pub const COMPLETE_PROFILE: u16 = 0x0010;
    /// STA MAC Address Present.
    pub const MAC_ADDR_PRESENT: u16 = 0x0020;
    /// Basic: Beacon Interval Present.
    pub const BEACON_INTERVAL_PRESENT: u16 = 0x0040;
    /// Basic: TSF Offset Present.
    pub const TSF_OFFSET_PRESENT: u16 = 0x0080;
    /// Basic: DTIM Info Present.
    pub const DTIM_INFO_PRESENT: u16 = 0x0100;
    /// Basic: NSTR Link Pair Present.
    pub const NSTR_LINK_PAIR_PRESENT: u16 = 0x0200;
    /// Basic: NSTR Bitmap Size (set: 2 octets).
    pub const NSTR_BITMAP_SIZE: u16 = 0x0400;
    /// Basic: BSS Parameters Change Count Present.
    pub const BSS_PARAMS_CHANGE_COUNT_PRESENT: u16 = 0x0800;
    /// Reconfiguration: AP Removal Timer Present.
    pub const AP_REMOVAL_TIMER_PRESENT: u16 = 0x0040;
    /// Reconfiguration: Reconfiguration Operation Type (B7-B10).
    pub const RECONF_OPERATION_TYPE: u16 = 0x0780;
    /// Reconfiguration: Operation Parameters Present.
    pub const OPERATION_PARAMS_PRESENT: u16 = 0x0800;
    /// Reconfiguration: NSTR Bitmap Size.
    pub const RECONF_NSTR_BITMAP_SIZE: u16 = 0x1000;
    /// Reconfiguration: NSTR Indication Bitmap Present.
    pub const RECONF_NSTR_BITMAP_PRESENT: u16 = 0x2000;
}

/// The STA Control field of a Per-STA Profile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StaControl(pub u16);

impl StaControl {
    /// Link ID.
    pub fn link_id(self) -> u8 {
        (self.0 & sta_control::LINK_ID) as u8
    }

    /// Complete Profile.
    pub fn complete_profile(self) -> bool {
        self.0 & sta_control::COMPLETE_PROFILE != 0
    }

    /// STA MAC Address Present.
    pub fn mac_addr_present(self) -> bool {
        self.0 & sta_control::MAC_ADDR_PRESENT != 0
    }

    /// Basic: Beacon Interval Present.
    pub fn beacon_interval_present(self) -> bool {
        self.0 & sta_control::BEACON_INTERVAL_PRESENT != 0
    }

    /// Basic: TSF Offset Present.
    pub fn tsf_offset_present(self) -> bool {
        self.0 & sta_control::TSF_OFFSET_PRESENT != 0
    }

    /// Basic: DTIM Info Present.
    pub fn dtim_info_present(self) -> bool {
        self.0 & sta_control::DTIM_INFO_PRESENT != 0
    }

    /// Basic: NSTR Link Pair Present.
    pub fn nstr_link_pair_present(self) -> bool {
        self.0 & sta_control::NSTR_LINK_PAIR_PRESENT != 0
    }

    /// Basic: NSTR Bitmap Size (true: 2 octets).
    pub fn nstr_bitmap_size(self) -> bool {
        self.0 & sta_control::NSTR_BITMAP_SIZE != 0
    }

    /// Basic: BSS Parameters Change Count Present.
    pub fn bss_params_change_count_present(self) -> bool {
        self.0 & sta_control::BSS_PARAMS_CHANGE_COUNT_PRESENT != 0
    }

    /// Reconfiguration: Reconfiguration Operation Type.
    pub fn reconf_operation_type(self) -> u8 {
        ((self.0 & sta_control::RECONF_OPERATION_TYPE) >> 7) as u8
    }
}

/// DTIM Info.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DtimInfo {
    /// DTIM Count.
    pub count: u8,
    /// DTIM Period.
    pub period: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StaField {
    MacAddr,
    BeaconInterval,
    TsfOffset,
    Dtim,
    Nstr,
    BssParamsChangeCount,
    ApRemovalTimer,
    OperationParams,
}

/// STA Info layout per type: field, presence bit, control bits the field also needs.
fn sta_layout(kind: MultiLinkType) -> &'static [(StaField, u16, u16)] {
    use sta_control::*;
    use StaField::*;
    match kind {
        MultiLinkType::Basic => &[
            (MacAddr, MAC_ADDR_PRESENT, 0),
            (BeaconInterval, BEACON_INTERVAL_PRESENT, 0),
            (TsfOffset, TSF_OFFSET_PRESENT, 0),
            (Dtim, DTIM_INFO_PRESENT, 0),
            (Nstr, NSTR_LINK_PAIR_PRESENT, COMPLETE_PROFILE),
            (BssParamsChangeCount, BSS_PARAMS_CHANGE_COUNT_PRESENT, 0),
        ],
        MultiLinkType::Reconfiguration => &[
            (MacAddr, MAC_ADDR_PRESENT, 0),
            (ApRemovalTimer, AP_REMOVAL_TIMER_PRESENT, 0),
            (OperationParams, OPERATION_PARAMS_PRESENT, 0),
            (Nstr, RECONF_NSTR_BITMAP_PRESENT, 0),
        ],
        MultiLinkType::ProbeRequest | MultiLinkType::Unknown(_) => &[],
    }
}

fn nstr_two_octets(kind: MultiLinkType, control: StaControl) -> bool {
    let bit = match kind {
        MultiLinkType::Reconfiguration => sta_control::RECONF_NSTR_BITMAP_SIZE,
        _ => sta_control::NSTR_BITMAP_SIZE,
    };
    control.0 & bit != 0
}

/// The STA Info field of a Per-STA Profile (Basic and Reconfiguration variants).
/// Presence bits in STA Control follow from which fields are `Some`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StaInfo<'a> {
    /// STA MAC Address.
    pub mac_addr: Option<MacAddr>,
    /// Basic: Beacon Interval (TUs).
    pub beacon_interval: Option<u16>,
    /// Basic: TSF Offset (two's complement, µs).
    pub tsf_offset: Option<u64>,
    /// Basic: DTIM Info.
    pub dtim: Option<DtimInfo>,
    /// NSTR Indication Bitmap (1 or 2 octets per the NSTR Bitmap Size bit).
    pub nstr_bitmap: Option<u16>,
    /// Basic: BSS Parameters Change Count.
    pub bss_params_change_count: Option<u8>,
    /// Reconfiguration: AP Removal Timer (TBTTs).
    pub ap_removal_timer: Option<u16>,
    /// Reconfiguration: Operation Parameters.
    pub operation_params: Option<[u8; 3]>,
    /// Bytes after the known fields, within STA Info Length.
    pub extra: &'a [u8],
}

impl<'a> StaInfo<'a> {
    fn is_some(&self, f: StaField) -> bool {
        match f {
            StaField::MacAddr => self.mac_addr.is_some(),
            StaField::BeaconInterval => self.beacon_interval.is_some(),
            StaField::TsfOffset => self.tsf_offset.is_some(),
            StaField::Dtim => self.dtim.is_some(),
            StaField::Nstr => self.nstr_bitmap.is_some(),
            StaField::BssParamsChangeCount => self.bss_params_change_count.is_some(),
            StaField::ApRemovalTimer => self.ap_removal_timer.is_some(),
            StaField::OperationParams => self.operation_params.is_some(),
        }
    }

    const ALL: [StaField; 8] = [
        StaField::MacAddr,
        StaField::BeaconInterval,
        StaField::TsfOffset,
        StaField::Dtim,
        StaField::Nstr,
        StaField::BssParamsChangeCount,
        StaField::ApRemovalTimer,
        StaField::OperationParams,
    ];

    fn field_len(f: StaField, nstr2: bool) -> usize {
        match f {
            StaField::MacAddr => 6,
            StaField::TsfOffset => 8,
            StaField::BssParamsChangeCount => 1,
            StaField::OperationParams => 3,
            StaField::Nstr => 1 + usize::from(nstr2),
            _ => 2,
        }
    }

    fn parse(kind: MultiLinkType, control: StaControl, raw: &'a [u8]) -> Result<Self, Error> {
        let mut cur = raw.get(1..).ok_or(Error::BadLength)?;
        let mut si = StaInfo::default();
        let short = |_| Error::BadLength;
        for &(f, bit, needs) in sta_layout(kind) {
            if control.0 & bit == 0 || control.0 & needs != needs {
                continue;
            }
            match f {
                StaField::MacAddr => {
                    si.mac_addr = Some(MacAddr(bytes::array(&mut cur).map_err(short)?))
                }
                StaField::BeaconInterval => {
                    si.beacon_interval = Some(bytes::le16(&mut cur).map_err(short)?)
                }
                StaField::TsfOffset => si.tsf_offset = Some(bytes::le64(&mut cur).map_err(short)?),
                StaField::Dtim => {
                    let [count, period] = bytes::array(&mut cur).map_err(short)?;
                    si.dtim = Some(DtimInfo { count, period })
                }
                StaField::Nstr => {
                    si.nstr_bitmap = Some(if nstr_two_octets(kind, control) {
                        bytes::le16(&mut cur).map_err(short)?
                    } else {
                        u16::from(bytes::u8(&mut cur).map_err(short)?)
                    })
                }
                StaField::BssParamsChangeCount => {
                    si.bss_params_change_count = Some(bytes::u8(&mut cur).map_err(short)?)
                }
                StaField::ApRemovalTimer => {
                    si.ap_removal_timer = Some(bytes::le16(&mut cur).map_err(short)?)
                }
                StaField::OperationParams => {
                    si.operation_params = Some(bytes::array(&mut cur).map_err(short)?)
                }
            }
        }
        si.extra = cur;
        Ok(si)
    }

    fn buffer_len(&self, kind: MultiLinkType, control: StaControl) -> usize {
        let nstr2 = nstr_two_octets(kind, control);
        let fields: usize = Self::ALL
            .iter()
            .filter(|f| self.is_some(**f))
            .map(|f| Self::field_len(*f, nstr2))
            .sum();
        1 + fields + self.extra.len()
    }

    /// STA Control with presence bits set from this STA Info.
    fn control(&self, kind: MultiLinkType, control: StaControl) -> Result<StaControl, Error> {
        let layout = sta_layout(kind);
        let mut c = control.0;
        for &(f, bit, needs) in layout {
            if self.is_some(f) {
                if c & needs != needs {
                    return Err(Error::Invalid("NSTR bitmap needs a complete profile"));
                }
                c |= bit;
            } else if c & needs == needs {
                c &= !bit;
            }
        }
        for f in Self::ALL {
            if self.is_some(f) && !layout.iter().any(|(g, _, _)| *g == f) {
                return Err(Error::Invalid("STA info field not carried by this type"));
            }
        }
        if !nstr_two_octets(kind, control) && self.nstr_bitmap.is_some_and(|b| b > 0xff) {
            return Err(Error::Invalid("NSTR bitmap does not fit one octet"));
        }
        Ok(StaControl(c))
    }

    fn emit(&self, kind: MultiLinkType, control: StaControl, w: &mut Writer) -> Result<(), Error> {
        let len = u8::try_from(self.buffer_len(kind, control))
            .map_err(|_| Error::Invalid("STA info too long"))?;
        w.u8(len)?;
        for &(f, _, _) in sta_layout(kind) {
            match f {
                StaField::MacAddr => {
                    if let Some(a) = self.mac_addr {
                        w.put(&a.0)?
                    }
                }
                StaField::BeaconInterval => opt_le16(w, self.beacon_interval)?,
                StaField::TsfOffset => {
                    if let Some(v) = self.tsf_offset {
                        w.le64(v)?
                    }
                }
                StaField::Dtim => {
                    if let Some(d) = self.dtim {
                        w.put(&[d.count, d.period])?
                    }
                }
                StaField::Nstr => match self.nstr_bitmap {
                    Some(b) if nstr_two_octets(kind, control) => w.le16(b)?,
                    Some(b) => w.u8(b as u8)?,
                    None => {}
                },
                StaField::BssParamsChangeCount => opt_u8(w, self.bss_params_change_count)?,
                StaField::ApRemovalTimer => opt_le16(w, self.ap_removal_timer)?,
                StaField::OperationParams => {
                    if let Some(p) = self.operation_params {
                        w.put(&p)?
                    }
                }
            }
        }
        w.put(self.extra)
    }
}

/// Fixed fields at the start of a STA Profile, by the management subtype the Multi-Link
/// element travels in: Capability Information (2), plus Status Code (2) in
/// (re)association responses; none in probe requests.
pub fn sta_profile_fixed_len(subtype: u8) -> Option<usize> {
    Some(match subtype {
        mgmt_subtype::BEACON
        | mgmt_subtype::PROBE_RESP
        | mgmt_subtype::ASSOC_REQ
        | mgmt_subtype::REASSOC_REQ => 2,
        mgmt_subtype::ASSOC_RESP | mgmt_subtype::REASSOC_RESP => 4,
        mgmt_subtype::PROBE_REQ => 0,
        _ => return None,
    })
}

/// A Per-STA Profile subelement's data (subelement ID 0), defragmented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerStaProfileRepr<'a> {
    /// STA Control. Presence bits are recomputed from `info` on emit.
    pub control: StaControl,
    /// STA Info; `None` in the Probe Request variant, which has none.
    pub info: Option<StaInfo<'a>>,
    /// STA Profile: fixed fields of the frame for that link, then elements.
    pub profile: &'a [u8],
}

impl<'a> PerStaProfileRepr<'a> {
    /// Parses subelement data for a Multi-Link element of type `kind` (Basic, Probe
    /// Request or Reconfiguration).
    pub fn parse(kind: MultiLinkType, data: &'a [u8]) -> Result<Self, Error> {
        let mut cur = data;
        let control = StaControl(bytes::le16(&mut cur)?);
        let info = match kind {
            MultiLinkType::Basic | MultiLinkType::Reconfiguration => {
                let len = usize::from(*cur.first().ok_or(Error::Truncated)?);
                let raw = bytes::take(&mut cur, len)?;
                Some(StaInfo::parse(kind, control, raw)?)
            }
            MultiLinkType::ProbeRequest => None,
            MultiLinkType::Unknown(_) => return Err(Error::WrongElement),
        };
        Ok(PerStaProfileRepr {
            control,
            info,
            profile: cur,
        })
    }

    /// The link this profile describes.
    pub fn link_id(&self) -> u8 {
        self.control.link_id()
    }

    /// The STA's MAC address on that link, when present.
    pub fn mac_addr(&self) -> Option<MacAddr> {
        self.info.and_then(|i| i.mac_addr)
    }

    /// Capability Information at the start of the STA Profile (beacons, probe
    /// responses, association frames).
    pub fn capability_info(&self) -> Option<u16> {
        let b = self.profile.get(..2)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }

    /// The elements of the STA Profile after `fixed_len` bytes of fixed fields (see
    /// [`sta_profile_fixed_len`]); empty when the profile is shorter.
    pub fn elements(&self, fixed_len: usize) -> Elements<'a> {
        Elements::new(self.profile.get(fixed_len..).unwrap_or(&[]))
    }

    /// Length of the subelement data.
    pub fn buffer_len(&self, kind: MultiLinkType) -> usize {
        2 + self.info.map_or(0, |i| i.buffer_len(kind, self.control)) + self.profile.len()
    }

    /// Writes the subelement data; returns [`PerStaProfileRepr::buffer_len`].
    pub fn emit(&self, kind: MultiLinkType, buf: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::new(buf);
        match (kind, self.info) {
            (MultiLinkType::Basic | MultiLinkType::Reconfiguration, Some(info)) => {
                let control = info.control(kind, self.control)?;
                w.le16(control.0)?;
                info.emit(kind, self.control, &mut w)?;
            }
            (MultiLinkType::ProbeRequest, None) => w.le16(self.control.0)?,
            _ => return Err(Error::Invalid("per-STA profile does not match the type")),
        }
        w.put(self.profile)?;
        Ok(w.pos())
    }
}

/// One Link Info subelement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkInfoRepr<'a> {
    /// Per-STA Profile (ID 0) of a Basic, Probe Request or Reconfiguration element.
    PerStaProfile(PerStaProfileRepr<'a>),
    /// Any other subelement (vendor specific, reserved, or any subelement of an
    /// unknown type), data kept as is.
    Other {
        /// Subelement ID.
        id: u8,
        /// Defragmented data.
        data: &'a [u8],
    },
}

impl LinkInfoRepr<'_> {
    fn id(&self) -> u8 {
        match self {
            LinkInfoRepr::PerStaProfile(_) => ml_subelement::PER_STA_PROFILE,
            LinkInfoRepr::Other { id, .. } => *id,
        }
    }

    fn data_len(&self, kind: MultiLinkType) -> usize {
        match self {
            LinkInfoRepr::PerStaProfile(p) => p.buffer_len(kind),
            LinkInfoRepr::Other { data, .. } => data.len(),
        }
    }
}

/// A decoded Multi-Link element.
///
/// Parsing needs every subelement contiguous: [`MultiLinkRepr::parse`] rejects
/// fragmented subelements, [`MultiLinkRepr::parse_in_place`] reassembles them inside the
/// caller's buffer, and [`MultiLinkRepr::parse_defragment`] takes an [`Element`] and a
/// scratch buffer and does both levels. Emit fragments as needed at both levels:
/// the element into Fragment elements, long subelements into Fragment subelements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiLinkRepr<'a> {
    /// Type.
    pub kind: MultiLinkType,
    /// Common Info.
    pub common: CommonInfo<'a>,
    /// Link Info subelements, in order.
    pub links: Vec<LinkInfoRepr<'a>>,
}

impl<'a> MultiLinkRepr<'a> {
    /// The Per-STA Profiles.
    pub fn per_sta_profiles(&self) -> impl Iterator<Item = &PerStaProfileRepr<'a>> {
        self.links.iter().filter_map(|l| match l {
            LinkInfoRepr::PerStaProfile(p) => Some(p),
            LinkInfoRepr::Other { .. } => None,
        })
    }

    fn link(kind: MultiLinkType, id: u8, data: &'a [u8]) -> Result<LinkInfoRepr<'a>, Error> {
        // A Fragment subelement only continues a 255-byte piece before it. One that starts
        // a subelement of its own is malformed, and keeping it would make the element
        // ambiguous: emitted after a subelement whose data is a multiple of 255 bytes, it
        // would read back as that subelement's continuation.
        if id == ml_subelement::FRAGMENT {
            return Err(Error::Invalid(
                "Fragment subelement that continues no subelement",
            ));
        }
        Ok(match kind {
            MultiLinkType::Unknown(_) => LinkInfoRepr::Other { id, data },
            _ if id == ml_subelement::PER_STA_PROFILE => {
                LinkInfoRepr::PerStaProfile(PerStaProfileRepr::parse(kind, data)?)
            }
            _ => LinkInfoRepr::Other { id, data },
        })
    }

    /// Parses element data whose subelements are not fragmented, and whose element is
    /// not either (or was defragmented).
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let ml = MultiLink::new_checked(data)?;
        let kind = ml.kind();
        let common = CommonInfo::parse(kind, ml.presence(), &data[2..ml.common_end()])?;
        let mut links = Vec::new();
        for sub in Elements::subelements(&data[ml.common_end()..]) {
            let sub = sub?;
            let data = sub.contiguous().ok_or(Error::Fragmented)?;
            links.push(Self::link(kind, sub.id, data)?);
        }
        Ok(MultiLinkRepr {
            kind,
            common,
            links,
        })
    }

    /// Parses element data (element-level fragments already removed), first joining
    /// fragmented subelements in place: `buf` is rearranged.
    pub fn parse_in_place(buf: &'a mut [u8]) -> Result<Self, Error> {
        let common_end = {
            let ml = MultiLink::new_checked(&*buf)?;
            ml.common_end()
        };
        // (subelement ID, data start, data length after joining).
        let mut spans = Vec::new();
        let mut pos = common_end;
        for sub in Elements::subelements(&buf[common_end..]) {
            let sub = sub?;
            spans.push((sub.id, pos + 2, sub.data.len(), sub.fragments.len()));
            pos += sub.raw.len();
        }
        let mut joined = Vec::with_capacity(spans.len());
        for (id, start, first, frag_len) in spans {
            let mut write = start + first;
            let mut read = write;
            let end = read + frag_len;
            while read + 2 <= end {
                let len = usize::from(buf[read + 1]);
                buf.copy_within(read + 2..read + 2 + len, write);
                write += len;
                read += 2 + len;
            }
            joined.push((id, start, write - start));
        }
        let buf: &'a [u8] = buf;
        let ml = MultiLink::new_unchecked(buf);
        let kind = ml.kind();
        let common = CommonInfo::parse(kind, ml.presence(), &buf[2..common_end])?;
        let links = joined
            .into_iter()
            .map(|(id, start, len)| Self::link(kind, id, &buf[start..start + len]))
            .collect::<Result<_, _>>()?;
        Ok(MultiLinkRepr {
            kind,
            common,
            links,
        })
    }

    /// Parses a Multi-Link [`Element`], fragmented or not, reassembling it (and its
    /// subelements) in `scratch`, which must hold [`Element::len`] bytes.
    pub fn parse_defragment(element: &Element<'_>, scratch: &'a mut [u8]) -> Result<Self, Error> {
        if element.id != id::EXTENSION || element.ext != Some(ext_id::MULTI_LINK) {
            return Err(Error::WrongElement);
        }
        let len = element.len();
        bytes::need(scratch, len)?;
        let mut at = 0;
        for piece in element.pieces() {
            scratch[at..at + piece.len()].copy_from_slice(piece);
            at += piece.len();
        }
        Self::parse_in_place(&mut scratch[..len])
    }

    /// Sets the presence bits of every Per-STA Profile's STA Control as
    /// [`MultiLinkRepr::emit`] writes them, so a built `Repr` compares equal to its
    /// emitted-and-parsed form (parsing keeps STA Control as received).
    pub fn normalize(&mut self) -> Result<(), Error> {
        for link in &mut self.links {
            if let LinkInfoRepr::PerStaProfile(p) = link {
                if let Some(info) = p.info {
                    p.control = info.control(self.kind, p.control)?;
                }
            }
        }
        Ok(())
    }

    /// Length of the element data (after the extension ID), subelement fragment headers
    /// included.
    pub fn buffer_len(&self) -> usize {
        2 + self.common.buffer_len()
            + self
                .links
                .iter()
                .map(|l| fragmented_len(l.data_len(self.kind)))
                .sum::<usize>()
    }

    /// Writes the element data; subelements longer than 255 bytes are split into
    /// Fragment subelements.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let presence = self.common.presence(self.kind)?;
        let mut w = Writer::new(buf);
        w.le16(u16::from(self.kind.bits()) | presence << 4)?;
        let n = self.common.emit(self.kind, w.rest())?;
        w.advance(n);
        for link in &self.links {
            let n = emit_fragmented(
                w.rest(),
                link.id(),
                ml_subelement::FRAGMENT,
                None,
                link.data_len(self.kind),
                |b| match link {
                    LinkInfoRepr::PerStaProfile(p) => p.emit(self.kind, b).map(drop),
                    LinkInfoRepr::Other { data, .. } => {
                        b.copy_from_slice(data);
                        Ok(())
                    }
                },
            )?;
            w.advance(n);
        }
        Ok(w.pos())
    }
}

impl<'a> IeRepr<'a> for MultiLinkRepr<'a> {
    const ID: u8 = id::EXTENSION;
    const EXT: Option<u8> = Some(ext_id::MULTI_LINK);

    fn parse(data: &'a [u8]) -> Result<Self, Error> {
        MultiLinkRepr::parse(data)
    }

    fn buffer_len(&self) -> usize {
        MultiLinkRepr::buffer_len(self)
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        MultiLinkRepr::emit(self, buf)
    }
}
