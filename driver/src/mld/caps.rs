//! Reads what a STA or AP advertises it can receive from the elements of its beacons, probe
//! responses and (re)association requests (per-STA profiles included): HT, VHT, HE and EHT
//! Capabilities (streams and top MCS of the RX maps, LDPC, channel widths, nominal packet
//! padding), for an AP also the operating width of its HT/VHT/HE/EHT Operation elements and the
//! lowest basic rate of its Supported Rates. The medium bounds each pair's rates by it
//! ([`hwsim_radio::peer`]). Element layouts: IEEE 802.11-2020 9.4.2.56 (HT), 9.4.2.157 (VHT),
//! 802.11ax 9.4.2.248 (HE), 802.11be 9.4.2.323 (EHT); bit positions as Linux's
//! `include/linux/ieee80211.h` names them.

use hwsim_frame::ie::{EhtCapabilitiesRepr, Element, ElementId, Elements, IeRepr};
use hwsim_radio::airtime::NominalPadding;
use hwsim_radio::band::{Band, Width};
use hwsim_radio::peer::{FormatCaps, PeerCaps};
use hwsim_radio::rates::TxVector;

/// Element IDs read here that `hwsim_frame::ie::id` does not name.
mod eid {
    pub const SUPPORTED_RATES: u8 = 1;
    pub const HT_CAPABILITIES: u8 = 45;
    pub const EXT_SUPPORTED_RATES: u8 = 50;
    pub const HT_OPERATION: u8 = 61;
    pub const VHT_CAPABILITIES: u8 = 191;
    pub const VHT_OPERATION: u8 = 192;
}

/// The elements this module reads, as found (the profile's first, then the frame's).
#[derive(Default, Clone, Copy)]
struct Found<'a> {
    rates: Option<&'a [u8]>,
    ext_rates: Option<&'a [u8]>,
    ht: Option<&'a [u8]>,
    ht_op: Option<&'a [u8]>,
    vht: Option<&'a [u8]>,
    vht_op: Option<&'a [u8]>,
    he: Option<&'a [u8]>,
    he_op: Option<&'a [u8]>,
    eht: Option<&'a [u8]>,
    eht_op: Option<&'a [u8]>,
}

impl<'a> Found<'a> {
    fn scan(elements: &'a [u8]) -> Found<'a> {
        let mut f = Found::default();
        for e in Elements::new(elements).map_while(Result::ok) {
            let slot = match e.element_id() {
                ElementId::Unknown(eid::SUPPORTED_RATES) => &mut f.rates,
                ElementId::Unknown(eid::EXT_SUPPORTED_RATES) => &mut f.ext_rates,
                ElementId::Unknown(eid::HT_CAPABILITIES) => &mut f.ht,
                ElementId::Unknown(eid::HT_OPERATION) => &mut f.ht_op,
                ElementId::Unknown(eid::VHT_CAPABILITIES) => &mut f.vht,
                ElementId::Unknown(eid::VHT_OPERATION) => &mut f.vht_op,
                ElementId::HeCapabilities => &mut f.he,
                ElementId::HeOperation => &mut f.he_op,
                ElementId::EhtCapabilities => &mut f.eht,
                ElementId::EhtOperation => &mut f.eht_op,
                _ => continue,
            };
            slot.get_or_insert(e.data);
        }
        f
    }

    /// `self` with what it lacks taken from `outer` (per-STA profile inheritance).
    fn or(self, outer: Found<'a>) -> Found<'a> {
        Found {
            rates: self.rates.or(outer.rates),
            ext_rates: self.ext_rates.or(outer.ext_rates),
            ht: self.ht.or(outer.ht),
            ht_op: self.ht_op.or(outer.ht_op),
            vht: self.vht.or(outer.vht),
            vht_op: self.vht_op.or(outer.vht_op),
            he: self.he.or(outer.he),
            he_op: self.he_op.or(outer.he_op),
            eht: self.eht.or(outer.eht),
            eht_op: self.eht_op.or(outer.eht_op),
        }
    }
}

/// The capabilities advertised by the elements `elements` (a frame body after its fixed fields)
/// for a link in `band`; `ap` for an AP's frame (operation elements bound the width, the EHT
/// MCS map has the AP's layout). `None` when no capability element is there at all.
pub fn advertised(elements: &[u8], band: Band, ap: bool) -> Option<PeerCaps> {
    from_found(Found::scan(elements), band, ap)
}

/// The capabilities of the link a per-STA profile describes: the profile's elements, and the
/// enclosing frame's (`outer`) for those it does not carry. Elements of another band's PHY are
/// ignored (a 6 GHz profile inherits the frame's HT Capabilities, which do not apply there).
pub fn advertised_in_profile(
    profile_elements: &[u8],
    outer: &[u8],
    band: Band,
    ap: bool,
) -> Option<PeerCaps> {
    from_found(
        Found::scan(profile_elements).or(Found::scan(outer)),
        band,
        ap,
    )
}

fn from_found(f: Found<'_>, band: Band, ap: bool) -> Option<PeerCaps> {
    let ht = f.ht.filter(|_| band != Band::Band6G).and_then(ht_caps);
    let vht = f.vht.filter(|_| band == Band::Band5G).and_then(vht_caps);
    let he = f.he.and_then(|d| he_caps(d, band));
    let eht = match (f.eht, f.he) {
        (Some(e), Some(h)) => eht_caps(e, h, band, ap, he.is_some_and(|h| h.0.ldpc)),
        _ => None,
    };
    if ht.is_none() && vht.is_none() && he.is_none() && eht.is_none() {
        return None;
    }
    // The widest channel any of the capabilities allows in this band.
    let mut width = Width::W20;
    if let Some((_, w)) = ht {
        width = width.max(w);
    }
    if vht.is_some() {
        width = width.max(vht.map_or(Width::W80, |(_, w)| w));
    }
    if let Some((_, w, _)) = he {
        width = width.max(w);
    }
    if let Some((_, w, _)) = eht {
        width = width.max(w);
    }
    if ap {
        width = width.min(operating_width(&f, band));
    }
    Some(PeerCaps {
        band,
        ap,
        ht: ht.map(|h| h.0),
        vht: vht.map(|v| v.0),
        he: he.map(|h| h.0),
        eht: eht.map(|e| e.0),
        max_width: width,
        he_padding: he.map_or(NominalPadding::Us0, |h| h.2),
        eht_padding: eht.map_or(NominalPadding::Us0, |e| e.2),
        lowest_basic: if ap { lowest_basic(&f, band) } else { None },
    })
}

/// HT Capabilities: Capability Information B0 LDPC, B1 20/40 MHz; RX MCS bitmask, one octet
/// per stream (MCS 0–7 of stream 1, …).
fn ht_caps(d: &[u8]) -> Option<(FormatCaps, Width)> {
    let info = u16::from_le_bytes([*d.first()?, *d.get(1)?]);
    let mask = d.get(3..7)?;
    let nss = mask.iter().take_while(|m| **m == 0xff).count() as u8;
    if nss == 0 {
        return None;
    }
    let width = if info & 0x0002 != 0 {
        Width::W40
    } else {
        Width::W20
    };
    let ldpc = info & 0x0001 != 0;
    Some((
        FormatCaps {
            nss,
            max_mcs: 7,
            ldpc,
        },
        width,
    ))
}

/// Streams and top MCS of a 16-bit VHT/HE map (2 bits per stream, 3 = none): `top` maps a
/// code 0–2 to the top MCS.
fn map_caps(map: u16, top: [u8; 3]) -> Option<(u8, u8)> {
    let code = |streams: u8| (map >> (2 * (streams - 1))) & 3;
    let nss = (1..=8).take_while(|n| code(*n) != 3).count() as u8;
    if nss == 0 {
        return None;
    }
    Some((nss, top[usize::from(code(nss))]))
}

/// VHT Capabilities: Information B2–B3 Supported Channel Width Set (0: 80 MHz, 1–2: 160),
/// B4 RX LDPC; RX VHT-MCS map at octet 4.
fn vht_caps(d: &[u8]) -> Option<(FormatCaps, Width)> {
    let info = u32::from_le_bytes(d.get(0..4)?.try_into().ok()?);
    let map = u16::from_le_bytes([*d.get(4)?, *d.get(5)?]);
    let (nss, max_mcs) = map_caps(map, [7, 8, 9])?;
    let width = if (info >> 2) & 3 != 0 {
        Width::W160
    } else {
        Width::W80
    };
    let ldpc = info & 0x10 != 0;
    Some((FormatCaps { nss, max_mcs, ldpc }, width))
}

/// HE Capabilities: MAC (6), PHY (11: octet 0 the Channel Width Set — B1 40 MHz in 2.4 GHz,
/// B2 40/80 MHz and B3 160 MHz in 5/6 GHz —, octet 1 bit 5 LDPC in payload, octet 9 bits 6–7
/// the nominal packet padding), then the RX HE-MCS map for ≤ 80 MHz.
fn he_caps(d: &[u8], band: Band) -> Option<(FormatCaps, Width, NominalPadding)> {
    let phy = d.get(6..17)?;
    let map = u16::from_le_bytes([*d.get(17)?, *d.get(18)?]);
    let (nss, max_mcs) = map_caps(map, [7, 9, 11])?;
    let widths = phy[0];
    let width = match band {
        Band::Band2G4 if widths & 0x02 != 0 => Width::W40,
        Band::Band2G4 => Width::W20,
        _ if widths & 0x08 != 0 => Width::W160,
        _ if widths & 0x04 != 0 => Width::W80,
        _ => Width::W20,
    };
    let ldpc = phy[1] & 0x20 != 0;
    let padding = match phy[9] >> 6 {
        0 => NominalPadding::Us0,
        1 => NominalPadding::Us8,
        // 2 is 16 µs; 3 is reserved: the longest there is.
        _ => NominalPadding::Us16,
    };
    Some((FormatCaps { nss, max_mcs, ldpc }, width, padding))
}

/// EHT Capabilities: PHY octet 0 B1 320 MHz in 6 GHz, octet 5 bits 0–1 the common nominal
/// packet padding; the first Supported EHT-MCS And NSS Set: for a 20 MHz-only non-AP STA four
/// octets (RX/TX streams for MCS 0–7, 8–9, 10–11, 12–13), otherwise three (0–9, 10–11, 12–13),
/// RX streams in the low nibble. The top MCS is that of the highest group with the most
/// streams. LDPC is mandatory in EHT but has no bit: `he_ldpc` stands for it.
fn eht_caps(
    d: &[u8],
    he: &[u8],
    band: Band,
    ap: bool,
    he_ldpc: bool,
) -> Option<(FormatCaps, Width, NominalPadding)> {
    let repr = EhtCapabilitiesRepr::parse(d).ok()?;
    let he_phy0 = *he.get(6)?;
    let (maps, _) = repr.split_mcs_nss(he_phy0, ap)?;
    let twenty_only = he_phy0 & 0x1e == 0 && !ap;
    let (groups, tops): (&[u8], &[u8]) = if twenty_only {
        (maps.get(..4)?, &[7, 9, 11, 13])
    } else {
        (maps.get(..3)?, &[9, 11, 13])
    };
    // 9-15 streams are reserved values: read as the most there are, 8.
    let rx: Vec<u8> = groups.iter().map(|g| (g & 0x0f).min(8)).collect();
    let nss = rx.iter().copied().max()?;
    if nss == 0 {
        return None;
    }
    let max_mcs = rx
        .iter()
        .zip(tops)
        .filter(|(n, _)| **n == nss)
        .map(|(_, t)| *t)
        .max()?;
    let width = match band {
        Band::Band6G if repr.supports_320mhz() => Width::W320,
        Band::Band2G4 if he_phy0 & 0x02 != 0 => Width::W40,
        Band::Band2G4 => Width::W20,
        _ if he_phy0 & 0x08 != 0 => Width::W160,
        _ if he_phy0 & 0x04 != 0 => Width::W80,
        _ => Width::W20,
    };
    let padding = match repr.phy_capabilities[5] & 0x03 {
        0 => NominalPadding::Us0,
        1 => NominalPadding::Us8,
        // 2 is 16 µs, 3 is 20 µs (not modelled: 16 µs is the closest).
        _ => NominalPadding::Us16,
    };
    Some((
        FormatCaps {
            nss,
            max_mcs,
            ldpc: he_ldpc,
        },
        width,
        padding,
    ))
}

/// The widest channel an AP's Operation elements put its BSS on: HT Operation B2 of octet 1
/// (STA channel width) gives 40 MHz; VHT Operation width 1 gives 80 MHz (160 with a CCFS1
/// 8 channels from CCFS0); on 6 GHz the HE Operation's 6 GHz Operation Information; an EHT
/// Operation Information field overrides them all. 20 MHz if none says more.
fn operating_width(f: &Found<'_>, band: Band) -> Width {
    if let Some(w) = f.eht_op.and_then(eht_op_width) {
        return w;
    }
    let mut width = Width::W20;
    if let Some(op) = f.ht_op {
        if op.get(1).is_some_and(|b| b & 0x04 != 0) {
            width = Width::W40;
        }
    }
    if let Some(op) = f.vht_op.filter(|_| band == Band::Band5G) {
        if op.first() == Some(&1) {
            let (c0, c1) = (op.get(1).copied(), op.get(2).copied());
            width = match (c0, c1) {
                (Some(c0), Some(c1)) if c1 != 0 && c0.abs_diff(c1) == 8 => Width::W160,
                _ => Width::W80,
            };
        }
    }
    if band == Band::Band6G {
        if let Some(w) = f.he_op.and_then(he_op_6ghz_width) {
            width = w;
        }
    }
    width
}

/// HE Operation: parameters (3 octets; B14 VHT Operation Information Present, B15 Co-Hosted
/// BSS, B17 6 GHz Operation Information Present), BSS color (1), basic HE-MCS set (2), then the
/// optional fields; the 6 GHz Operation Information's control octet B0–B1 is the width.
fn he_op_6ghz_width(d: &[u8]) -> Option<Width> {
    let params = u32::from_le_bytes([*d.first()?, *d.get(1)?, *d.get(2)?, 0]);
    if params & (1 << 17) == 0 {
        return None;
    }
    let mut at = 6;
    if params & (1 << 14) != 0 {
        at += 3;
    }
    if params & (1 << 15) != 0 {
        at += 1;
    }
    Some(match d.get(at + 1)? & 0x03 {
        0 => Width::W20,
        1 => Width::W40,
        2 => Width::W80,
        _ => Width::W160,
    })
}

/// EHT Operation: parameters (B0 information present), basic EHT-MCS set (4), then the
/// information field whose first octet B0–B2 is the width (0 … 4: 20 … 320 MHz).
fn eht_op_width(d: &[u8]) -> Option<Width> {
    if d.first()? & hwsim_frame::ie::eht_op_params::INFO_PRESENT == 0 {
        return None;
    }
    Some(match d.get(5)? & 0x07 {
        0 => Width::W20,
        1 => Width::W40,
        2 => Width::W80,
        3 => Width::W160,
        _ => Width::W320,
    })
}

/// The lowest rate flagged basic (B7) in Supported Rates / Extended Supported Rates, as the
/// vector a frame at that rate goes out with (DSSS or non-HT OFDM). Rates the model has no
/// vector for (22, 33 Mb/s PBCC, BSS membership selectors) are skipped.
fn lowest_basic(f: &Found<'_>, band: Band) -> Option<TxVector> {
    let rates = f.rates.into_iter().chain(f.ext_rates).flatten();
    rates
        .filter(|r| *r & 0x80 != 0)
        .filter_map(|r| rate_vector(r & 0x7f, band))
        .min_by_key(|v| v.data_rate_kbps())
}

/// The vector of a legacy rate in 500 kb/s units.
fn rate_vector(units: u8, band: Band) -> Option<TxVector> {
    const OFDM: [u8; 8] = [12, 18, 24, 36, 48, 72, 96, 108];
    const DSSS: [u8; 4] = [2, 4, 11, 22];
    if let Some(i) = OFDM.iter().position(|r| *r == units) {
        return TxVector::ofdm(i as u8).ok();
    }
    match DSSS.iter().position(|r| *r == units) {
        Some(i) if band == Band::Band2G4 => TxVector::dsss(i as u8).ok(),
        _ => None,
    }
}

/// Whether `e` is one of the elements read here (for change detection of repeated beacons).
pub fn is_read(e: &Element<'_>) -> bool {
    matches!(
        e.element_id(),
        ElementId::Unknown(
            eid::SUPPORTED_RATES
                | eid::EXT_SUPPORTED_RATES
                | eid::HT_CAPABILITIES
                | eid::HT_OPERATION
                | eid::VHT_CAPABILITIES
                | eid::VHT_OPERATION
        ) | ElementId::HeCapabilities
            | ElementId::HeOperation
            | ElementId::EhtCapabilities
            | ElementId::EhtOperation
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AP's own elements for the demo's 5 GHz link, whole.
    fn ap_elements() -> Vec<u8> {
        let cfg = hwsim_ap::ApConfig::parse(crate::demo::mlo::AP_CONFIG).unwrap();
        let ies = hwsim_ap::elements::link_elements(&cfg.links[1], cfg.security, true);
        let mut out = Vec::new();
        hwsim_ap::elements::write_all(&ies, &mut out);
        out
    }

    #[test]
    fn the_demo_ap_advertises_one_stream_ldpc_and_its_80_mhz_channel() {
        let c = advertised(&ap_elements(), Band::Band5G, true).unwrap();
        assert_eq!(c.max_width, Width::W80);
        assert_eq!(
            c.vht.map(|v| (v.nss, v.max_mcs, v.ldpc)),
            Some((1, 9, true))
        );
        assert_eq!(
            c.he.map(|v| (v.nss, v.max_mcs, v.ldpc)),
            Some((1, 11, true))
        );
        assert_eq!(c.eht.map(|v| (v.nss, v.max_mcs)), Some((1, 13)));
        assert_eq!(c.lowest_basic, TxVector::ofdm(0).ok());
        // Without its operation elements' bound, the capabilities alone say 80 MHz too (VHT
        // and HE: 40/80); as a non-AP the operation elements are not read.
        assert_eq!(
            advertised(&ap_elements(), Band::Band5G, false)
                .unwrap()
                .max_width,
            Width::W80
        );
    }

    /// Truncated and corrupted elements never panic; what parses stays within the maps' range.
    #[test]
    fn hostile_elements_never_panic() {
        let good = ap_elements();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for cut in 0..good.len() {
            for band in [Band::Band2G4, Band::Band5G, Band::Band6G] {
                let _ = advertised(&good[..cut], band, true);
                let _ = advertised_in_profile(&good[cut..], &good[..cut], band, false);
            }
            let mut bad = good.clone();
            for _ in 0..8 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let i = (rng as usize) % bad.len();
                bad[i] = (rng >> 32) as u8;
            }
            if let Some(c) = advertised(&bad, Band::Band5G, true) {
                for f in [c.ht, c.vht, c.he, c.eht].into_iter().flatten() {
                    assert!((1..=8).contains(&f.nss) && f.max_mcs <= 13, "{c:?}");
                }
            }
        }
    }
}
