//! EHT Capabilities (IEEE 802.11be-2024 9.4.2.323, 255/108) and EHT Operation
//! (9.4.2.324, 255/106).

use super::bytes::{self, Writer};
use super::{ext_id, id, Error, IeRepr};

/// HE PHY Capabilities byte 0, Channel Width Set bits that are not "20 MHz only".
const HE_PHY0_WIDTHS: u8 = 0x02 | 0x04 | 0x08 | 0x10;
/// HE PHY Capabilities byte 0: 160 MHz in 5 / 6 GHz.
const HE_PHY0_160MHZ: u8 = 0x08;
/// EHT PHY Capabilities byte 0: 320 MHz in 6 GHz (B1).
const EHT_PHY0_320MHZ: u8 = 0x02;
/// EHT PHY Capabilities B43: PPE Thresholds Present (byte 5, bit 3; Linux's
/// `IEEE80211_EHT_PHY_CAP5_PPE_THRESHOLD_PRESENT`, tshark 4.4 agree). B41 is Tx 1024-QAM
/// And 4096-QAM < 242-tone RU Support: real guests' EHT Capabilities set both.
const EHT_PHY5_PPE_PRESENT: u8 = 0x08;

/// EHT Capabilities:
///
/// ```text
/// EHT MAC Capabilities Information (2) | EHT PHY Capabilities Information (9) |
/// Supported EHT-MCS And NSS Set (4, or 3/6/9 per widths) | EHT PPE Thresholds (opt)
/// ```
///
/// The MCS/NSS set's length depends on the HE Capabilities element next to it, so the
/// parse keeps everything after the PHY capabilities in `mcs_nss_ppe`;
/// [`EhtCapabilitiesRepr::split_mcs_nss`] splits it once the HE PHY capabilities are
/// known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EhtCapabilitiesRepr<'a> {
    /// EHT MAC Capabilities Information.
    pub mac_capabilities: u16,
    /// EHT PHY Capabilities Information.
    pub phy_capabilities: [u8; 9],
    /// Supported EHT-MCS And NSS Set, then the PPE Thresholds if present.
    pub mcs_nss_ppe: &'a [u8],
}

impl<'a> EhtCapabilitiesRepr<'a> {
    /// Whether the PHY capabilities announce 320 MHz in 6 GHz.
    pub fn supports_320mhz(&self) -> bool {
        self.phy_capabilities[0] & EHT_PHY0_320MHZ != 0
    }

    /// Whether the EHT PPE Thresholds field follows the MCS/NSS set.
    pub fn ppe_thresholds_present(&self) -> bool {
        self.phy_capabilities[5] & EHT_PHY5_PPE_PRESENT != 0
    }

    /// Length of the Supported EHT-MCS And NSS Set given the HE PHY Capabilities'
    /// first byte: 4 for a 20 MHz-only non-AP STA (3 from an AP), else 3 (≤ 80 MHz)
    /// + 3 for 160 MHz + 3 for 320 MHz.
    pub fn mcs_nss_len(&self, he_phy_cap0: u8, from_ap: bool) -> usize {
        if he_phy_cap0 & HE_PHY0_WIDTHS == 0 {
            return if from_ap { 3 } else { 4 };
        }
        let mut len = 3;
        if he_phy_cap0 & HE_PHY0_160MHZ != 0 {
            len += 3;
        }
        if self.supports_320mhz() {
            len += 3;
        }
        len
    }

    /// The MCS/NSS set and the PPE thresholds; `None` if the element is too short.
    pub fn split_mcs_nss(&self, he_phy_cap0: u8, from_ap: bool) -> Option<(&'a [u8], &'a [u8])> {
        let n = self.mcs_nss_len(he_phy_cap0, from_ap);
        (self.mcs_nss_ppe.len() >= n).then(|| self.mcs_nss_ppe.split_at(n))
    }
}

impl<'a> IeRepr<'a> for EhtCapabilitiesRepr<'a> {
    const ID: u8 = id::EXTENSION;
    const EXT: Option<u8> = Some(ext_id::EHT_CAPABILITIES);

    fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let mut cur = data;
        let mac_capabilities = bytes::le16(&mut cur)?;
        let phy_capabilities = bytes::array(&mut cur)?;
        // At least the smallest MCS/NSS set.
        if cur.len() < 3 {
            return Err(Error::Truncated);
        }
        Ok(EhtCapabilitiesRepr {
            mac_capabilities,
            phy_capabilities,
            mcs_nss_ppe: cur,
        })
    }

    fn buffer_len(&self) -> usize {
        11 + self.mcs_nss_ppe.len()
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.mcs_nss_ppe.len() < 3 {
            return Err(Error::Invalid("EHT-MCS/NSS set shorter than 3 bytes"));
        }
        let mut w = Writer::new(buf);
        w.le16(self.mac_capabilities)?;
        w.put(&self.phy_capabilities)?;
        w.put(self.mcs_nss_ppe)?;
        Ok(w.pos())
    }
}

/// EHT Operation Parameters bits.
pub mod eht_op_params {
    /// EHT Operation Information Present.
    pub const INFO_PRESENT: u8 = 0x01;
    /// Disabled Subchannel Bitmap Present.
    pub const DISABLED_SUBCHANNEL_BITMAP_PRESENT: u8 = 0x02;
    /// EHT Default PE Duration.
    pub const DEFAULT_PE_DURATION: u8 = 0x04;
    /// Group Addressed BU Indication Limit.
    pub const GROUP_ADDRESSED_BU_INDICATION_LIMIT: u8 = 0x08;
    /// Group Addressed BU Indication Exponent (B4-B5).
    pub const GROUP_ADDRESSED_BU_INDICATION_EXPONENT: u8 = 0x30;
}

/// The optional EHT Operation Information field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EhtOperationInfo {
    /// Control (B0-B2 channel width: 0 = 20, 1 = 40, 2 = 80, 3 = 160, 4 = 320 MHz).
    pub control: u8,
    /// CCFS0.
    pub ccfs0: u8,
    /// CCFS1.
    pub ccfs1: u8,
    /// Disabled Subchannel Bitmap.
    pub disabled_subchannels: Option<u16>,
}

impl EhtOperationInfo {
    /// Channel width code (Control B0-B2).
    pub fn channel_width(&self) -> u8 {
        self.control & 0x7
    }
}

/// EHT Operation:
///
/// ```text
/// EHT Operation Parameters (1) | Basic EHT-MCS And NSS Set (4) |
/// EHT Operation Information (0 or 3, + 2 with the disabled subchannel bitmap)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EhtOperationRepr<'a> {
    /// EHT Operation Parameters, without the two presence bits (B0, B1), which follow
    /// from `info`.
    pub params: u8,
    /// Basic EHT-MCS And NSS Set.
    pub basic_mcs_nss: [u8; 4],
    /// EHT Operation Information.
    pub info: Option<EhtOperationInfo>,
    /// Bytes after the known fields.
    pub extra: &'a [u8],
}

impl<'a> IeRepr<'a> for EhtOperationRepr<'a> {
    const ID: u8 = id::EXTENSION;
    const EXT: Option<u8> = Some(ext_id::EHT_OPERATION);

    fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let mut cur = data;
        let raw = bytes::u8(&mut cur)?;
        let basic_mcs_nss = bytes::array(&mut cur)?;
        let info = if raw & eht_op_params::INFO_PRESENT != 0 {
            let [control, ccfs0, ccfs1] = bytes::array(&mut cur)?;
            let present = raw & eht_op_params::DISABLED_SUBCHANNEL_BITMAP_PRESENT != 0;
            let disabled_subchannels = if present {
                Some(bytes::le16(&mut cur)?)
            } else {
                None
            };
            Some(EhtOperationInfo {
                control,
                ccfs0,
                ccfs1,
                disabled_subchannels,
            })
        } else {
            None
        };
        Ok(EhtOperationRepr {
            params: raw & !0x03,
            basic_mcs_nss,
            info,
            extra: cur,
        })
    }

    fn buffer_len(&self) -> usize {
        let info = self
            .info
            .map_or(0, |i| 3 + 2 * usize::from(i.disabled_subchannels.is_some()));
        5 + info + self.extra.len()
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let mut params = self.params & !0x03;
        if let Some(info) = self.info {
            params |= eht_op_params::INFO_PRESENT;
            if info.disabled_subchannels.is_some() {
                params |= eht_op_params::DISABLED_SUBCHANNEL_BITMAP_PRESENT;
            }
        }
        let mut w = Writer::new(buf);
        w.u8(params)?;
        w.put(&self.basic_mcs_nss)?;
        if let Some(info) = self.info {
            w.put(&[info.control, info.ccfs0, info.ccfs1])?;
            if let Some(d) = info.disabled_subchannels {
                w.le16(d)?;
            }
        }
        w.put(self.extra)?;
        Ok(w.pos())
    }
}
