//! What a station or AP advertised it can receive, and the PPDUs a pair of them can use.
//!
//! A transmitter may only send what the receiver advertised in its HT/VHT/HE/EHT Capabilities
//! (and, for an AP, what its BSS operates: the Operation elements' channel width), and only
//! what it can send itself. [`PeerCaps`] is one end's advertisement, boiled down to what rate
//! synthesis needs; [`pair_caps`] combines two ends with the medium's own bounds into the
//! [`RateCaps`] of [`crate::adapt::select_rate`] and the receiver's nominal packet padding.
//!
//! Simplifications, each conservative (the result never exceeds either end's maps):
//! - an MCS map is reduced to (streams, top MCS at that many streams): a lower stream count
//!   that supports a higher MCS is not used at it;
//! - the TX half of an MCS map is not read separately; both ends' RX maps bound the pair;
//! - EHT has no LDPC bit of its own: an EHT STA is an HE STA and its HE LDPC bit is taken.
//!   Without LDPC on both ends, HE and EHT PPDUs use BCC, which the standard allows only up
//!   to 20 MHz, MCS 9 and 4 streams (802.11ax 27.3.12.5.1, 802.11be 36.3.13.3).

use crate::adapt::RateCaps;
use crate::airtime::NominalPadding;
use crate::band::{Band, Width};
use crate::rates::{Coding, PhyFormat, TxVector};

/// What one end supports in one PHY format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatCaps {
    /// Spatial streams (1 …).
    pub nss: u8,
    /// Highest MCS at `nss` streams (HT: per-stream MCS 0–7).
    pub max_mcs: u8,
    /// Receives LDPC-coded PPDUs of this format.
    pub ldpc: bool,
}

/// One end's advertised receive capabilities on one link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCaps {
    /// The link's band.
    pub band: Band,
    /// The end is an AP (its operating channel bounds `max_width`).
    pub ap: bool,
    /// HT Capabilities, if sent.
    pub ht: Option<FormatCaps>,
    /// VHT Capabilities, if sent.
    pub vht: Option<FormatCaps>,
    /// HE Capabilities, if sent.
    pub he: Option<FormatCaps>,
    /// EHT Capabilities, if sent.
    pub eht: Option<FormatCaps>,
    /// Widest PPDU: the capabilities' channel widths, for an AP also its operating width.
    pub max_width: Width,
    /// HE nominal packet padding (HE PHY Capabilities B78–B79).
    pub he_padding: NominalPadding,
    /// EHT common nominal packet padding (EHT PHY Capabilities B40–B41).
    pub eht_padding: NominalPadding,
    /// The lowest basic rate of its BSS (from an AP's Supported Rates), if it sent one.
    pub lowest_basic: Option<TxVector>,
}

impl PeerCaps {
    fn format(&self, f: PhyFormat) -> Option<FormatCaps> {
        match f {
            PhyFormat::Ht => self.ht,
            PhyFormat::Vht => self.vht,
            PhyFormat::He => self.he,
            PhyFormat::Eht => self.eht,
            PhyFormat::Dsss | PhyFormat::Ofdm => None,
        }
    }
}

/// The caps of the pair `tx` → `rx` within the medium's `bound` (its per-node config), and the
/// nominal packet padding the receiver asked for. The format is the most capable one both ends
/// advertised and `bound` allows (non-HT OFDM if none); streams, MCS, width and coding are the
/// lesser of both ends'.
pub fn pair_caps(tx: &PeerCaps, rx: &PeerCaps, bound: &RateCaps) -> (RateCaps, NominalPadding) {
    let formats = [PhyFormat::Eht, PhyFormat::He, PhyFormat::Vht, PhyFormat::Ht];
    let common = formats
        .into_iter()
        .filter(|f| *f <= bound.max_format)
        .find_map(|f| Some((f, tx.format(f)?, rx.format(f)?)));
    let width = tx.max_width.min(rx.max_width).min(bound.max_width);
    let Some((format, a, b)) = common else {
        let caps = RateCaps {
            max_format: PhyFormat::Ofdm.min(bound.max_format),
            max_width: Width::W20,
            max_nss: 1,
            ..*bound
        };
        return (caps, NominalPadding::Us0);
    };
    let ldpc = a.ldpc && b.ldpc;
    let mut caps = RateCaps {
        max_format: format,
        max_width: width,
        max_nss: a.nss.min(b.nss).min(bound.max_nss).max(1),
        max_mcs: a.max_mcs.min(b.max_mcs).min(bound.max_mcs),
        coding: Some(if ldpc { Coding::Ldpc } else { Coding::Bcc }),
        ..*bound
    };
    if !ldpc && matches!(format, PhyFormat::He | PhyFormat::Eht) {
        caps.max_width = caps.max_width.min(Width::W20);
        caps.max_mcs = caps.max_mcs.min(9);
        caps.max_nss = caps.max_nss.min(4);
    }
    let padding = match format {
        PhyFormat::He => rx.he_padding,
        PhyFormat::Eht => rx.eht_padding,
        // No packet extension before HE.
        _ => NominalPadding::Us0,
    };
    (caps, padding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(nss: u8, max_mcs: u8, ldpc: bool) -> Option<FormatCaps> {
        Some(FormatCaps { nss, max_mcs, ldpc })
    }

    fn eht_end(nss: u8, ldpc: bool, width: Width) -> PeerCaps {
        PeerCaps {
            band: Band::Band5G,
            ap: false,
            ht: f(nss, 7, ldpc),
            vht: f(nss, 9, ldpc),
            he: f(nss, 11, ldpc),
            eht: f(nss, 13, ldpc),
            max_width: width,
            he_padding: NominalPadding::Us16,
            eht_padding: NominalPadding::Us0,
            lowest_basic: None,
        }
    }

    #[test]
    fn the_pair_gets_the_lesser_end() {
        let (caps, pad) = pair_caps(
            &eht_end(2, true, Width::W160),
            &eht_end(1, true, Width::W80),
            &RateCaps::default(),
        );
        assert_eq!(caps.max_format, PhyFormat::Eht);
        assert_eq!(caps.max_nss, 1);
        assert_eq!(caps.max_width, Width::W80);
        assert_eq!(caps.max_mcs, 13);
        assert_eq!(caps.coding, Some(Coding::Ldpc));
        assert_eq!(pad, NominalPadding::Us0, "the receiver's EHT padding");
    }

    #[test]
    fn without_ldpc_he_and_eht_keep_to_bcc_limits() {
        let (caps, _) = pair_caps(
            &eht_end(2, true, Width::W80),
            &eht_end(2, false, Width::W80),
            &RateCaps::default(),
        );
        assert_eq!(caps.coding, Some(Coding::Bcc));
        assert_eq!(caps.max_width, Width::W20);
        assert_eq!(caps.max_mcs, 9);
    }

    #[test]
    fn the_common_format_and_the_config_bound() {
        let mut he_only = eht_end(2, true, Width::W80);
        he_only.eht = None;
        let bound = RateCaps {
            max_nss: 1,
            ..RateCaps::default()
        };
        let (caps, pad) = pair_caps(&eht_end(2, true, Width::W80), &he_only, &bound);
        assert_eq!(caps.max_format, PhyFormat::He);
        assert_eq!((caps.max_nss, caps.max_mcs), (1, 11));
        assert_eq!(pad, NominalPadding::Us16, "the receiver's HE padding");
        let legacy = PeerCaps {
            ht: None,
            vht: None,
            he: None,
            eht: None,
            ..he_only
        };
        let (caps, pad) = pair_caps(&eht_end(2, true, Width::W80), &legacy, &bound);
        assert_eq!(caps.max_format, PhyFormat::Ofdm);
        assert_eq!((caps.max_width, pad), (Width::W20, NominalPadding::Us0));
    }
}
