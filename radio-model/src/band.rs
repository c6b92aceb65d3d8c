//! Bands, channel numbering, widths, primary-20 relations and overlap.
//!
//! Channel numbering (IEEE 802.11-2020 Annex E, Table E-4, as ns-3 cites
//! it, and IEEE 802.11ax 27.3.23.2 for 6 GHz, as Linux cites it for D6.1):
//!
//! * 2.4 GHz: centre = 2407 + 5·ch MHz for ch 1–13, ch 14 = 2484 MHz.
//! * 5 GHz: centre = 5000 + 5·ch MHz (operating classes 115–130).
//! * 6 GHz: centre = 5950 + 5·ch MHz for ch 1–233 (operating classes
//!   131–137); ch 2 is the special 20 MHz channel at 5935 MHz (class 136).
//!
//! Channel blocks wider than 20 MHz in 5 and 6 GHz are aligned to the band's
//! channelisation (5 GHz: 36, 40 … 144 and 149 … 177; 6 GHz: 1, 5 … 233). A
//! block of `k` 20 MHz channels starts at `base + 4·k·i` and its centre
//! channel number is `start + 2·(k − 1)`. So 5 GHz 80 MHz centres are 42,
//! 58, 106, 122, 138, 155, 171 and 160 MHz centres 50, 114, 163; 6 GHz
//! 320 MHz centres are 31, 95, 159 ("320 MHz-1") and 63, 127, 191
//! ("320 MHz-2", blocks starting at 33 + 64·i; IEEE 802.11be-2024 clause 36,
//! subclause number not checked).
//! 2.4 GHz 40 MHz channels are HT40 pairs: primary p with the secondary at
//! p + 4 or p − 4, centre p ± 2 (802.11-2020 clause 19 channel numbering;
//! subclause number not checked).

use serde::{Deserialize, Serialize};

use crate::RadioError;

/// A Wi-Fi frequency band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Band {
    /// 2.4 GHz ISM band (2400–2500 MHz).
    #[serde(rename = "2.4GHz", alias = "2.4", alias = "2g4", alias = "2.4ghz")]
    Band2G4,
    /// 5 GHz band (4900–5925 MHz).
    #[serde(rename = "5GHz", alias = "5", alias = "5g", alias = "5ghz")]
    Band5G,
    /// 6 GHz band (5925–7125 MHz).
    #[serde(rename = "6GHz", alias = "6", alias = "6g", alias = "6ghz")]
    Band6G,
}

impl core::fmt::Display for Band {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Band::Band2G4 => "2.4 GHz",
            Band::Band5G => "5 GHz",
            Band::Band6G => "6 GHz",
        })
    }
}

/// A channel (or PPDU) bandwidth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub enum Width {
    /// 20 MHz.
    W20,
    /// 40 MHz.
    W40,
    /// 80 MHz.
    W80,
    /// 160 MHz.
    W160,
    /// 320 MHz (EHT, 6 GHz only).
    W320,
}

impl Width {
    /// All widths, narrowest first.
    pub const ALL: [Width; 5] = [Width::W20, Width::W40, Width::W80, Width::W160, Width::W320];

    /// Width in MHz.
    pub const fn mhz(self) -> u32 {
        match self {
            Width::W20 => 20,
            Width::W40 => 40,
            Width::W80 => 80,
            Width::W160 => 160,
            Width::W320 => 320,
        }
    }

    /// Number of 20 MHz subchannels.
    pub const fn subchannels(self) -> u32 {
        self.mhz() / 20
    }

    /// The width from MHz.
    pub const fn from_mhz(mhz: u32) -> Result<Width, RadioError> {
        match mhz {
            20 => Ok(Width::W20),
            40 => Ok(Width::W40),
            80 => Ok(Width::W80),
            160 => Ok(Width::W160),
            320 => Ok(Width::W320),
            other => Err(RadioError::InvalidWidthMhz(other)),
        }
    }
}

impl TryFrom<u32> for Width {
    type Error = RadioError;
    fn try_from(mhz: u32) -> Result<Self, Self::Error> {
        Width::from_mhz(mhz)
    }
}

impl From<Width> for u32 {
    fn from(w: Width) -> u32 {
        w.mhz()
    }
}

impl core::fmt::Display for Width {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} MHz", self.mhz())
    }
}

/// The band a centre frequency (MHz) belongs to.
///
/// 2400–2500 MHz → 2.4 GHz; 4900–5924 MHz → 5 GHz; 5925–7125 MHz → 6 GHz
/// (the 6 GHz band starts at 5925 MHz; its lowest centre is ch 2 at 5935).
pub const fn band_of(freq_mhz: u32) -> Option<Band> {
    match freq_mhz {
        2400..=2500 => Some(Band::Band2G4),
        4900..=5924 => Some(Band::Band5G),
        5925..=7125 => Some(Band::Band6G),
        _ => None,
    }
}

/// Valid 20 MHz channel numbers of the 5 GHz band used here: 36–64,
/// 100–144 (multiples of 4) and 149–177 (≡ 1 mod 4).
fn is_5g_20(ch: u16) -> bool {
    ((36..=64).contains(&ch) || (100..=144).contains(&ch)) && ch % 4 == 0
        || (149..=177).contains(&ch) && ch % 4 == 1
}

/// Valid 20 MHz channel numbers of the 6 GHz band: 1–233, ≡ 1 mod 4.
fn is_6g_20(ch: u16) -> bool {
    (1..=233).contains(&ch) && ch % 4 == 1
}

impl Band {
    /// The widest channel the band allows (2.4 GHz: 40 MHz; 5 GHz: 160 MHz;
    /// 6 GHz: 320 MHz).
    pub const fn max_width(self) -> Width {
        match self {
            Band::Band2G4 => Width::W40,
            Band::Band5G => Width::W160,
            Band::Band6G => Width::W320,
        }
    }

    /// Whether `ch` is a 20 MHz channel of this band.
    pub fn is_20mhz_channel(self, ch: u16) -> bool {
        match self {
            Band::Band2G4 => (1..=14).contains(&ch),
            Band::Band5G => is_5g_20(ch),
            Band::Band6G => is_6g_20(ch) || ch == 2,
        }
    }

    /// Centre frequency (MHz) of channel number `ch` (a 20 MHz channel or the
    /// centre channel number of a wider block).
    pub fn channel_to_freq(self, ch: u16) -> Result<u32, RadioError> {
        let err = RadioError::InvalidChannel {
            band: self,
            channel: ch,
        };
        let ch32 = u32::from(ch);
        match self {
            Band::Band2G4 => match ch {
                1..=13 => Ok(2407 + 5 * ch32),
                14 => Ok(2484),
                _ => Err(err),
            },
            Band::Band5G => {
                if (32..=177).contains(&ch) {
                    Ok(5000 + 5 * ch32)
                } else {
                    Err(err)
                }
            }
            Band::Band6G => match ch {
                2 => Ok(5935),
                1..=233 => Ok(5950 + 5 * ch32),
                _ => Err(err),
            },
        }
    }

    /// Channel number of a centre frequency (MHz) in this band.
    pub fn freq_to_channel(self, freq_mhz: u32) -> Result<u16, RadioError> {
        let err = RadioError::InvalidFrequency(freq_mhz);
        let ch = match self {
            Band::Band2G4 => match freq_mhz {
                2484 => 14,
                2412..=2472 if (freq_mhz - 2407) % 5 == 0 => (freq_mhz - 2407) / 5,
                _ => return Err(err),
            },
            Band::Band5G => match freq_mhz {
                5160..=5885 if freq_mhz % 5 == 0 => (freq_mhz - 5000) / 5,
                _ => return Err(err),
            },
            Band::Band6G => match freq_mhz {
                5935 => 2,
                5955..=7115 if freq_mhz % 5 == 0 => (freq_mhz - 5950) / 5,
                _ => return Err(err),
            },
        };
        Ok(ch as u16)
    }

    /// Centre channel numbers of every valid `width` block that contains the
    /// 20 MHz channel `primary`. At most two exist: 2.4 GHz 40 MHz (HT40+
    /// and HT40−) and 6 GHz 320 MHz (320 MHz-1 and -2); elsewhere one.
    /// Unused slots are `None`. Never allocates.
    pub fn block_centers(self, primary: u16, width: Width) -> [Option<u16>; 2] {
        let mut out = [None, None];
        if !self.is_20mhz_channel(primary) {
            return out;
        }
        if width == Width::W20 {
            out[0] = Some(primary);
            return out;
        }
        match self {
            Band::Band2G4 => {
                if width == Width::W40 && primary <= 13 {
                    // HT40+: secondary above (needs p + 4 ≤ 13); HT40−: below.
                    let mut i = 0;
                    if primary + 4 <= 13 {
                        out[i] = Some(primary + 2);
                        i += 1;
                    }
                    if primary >= 5 {
                        out[i] = Some(primary - 2);
                    }
                }
            }
            Band::Band5G | Band::Band6G => {
                let k = width.subchannels() as u16;
                let span = 4 * k;
                let mut i = 0;
                for base in self.block_bases(width) {
                    let Some(base) = base else { continue };
                    if primary < base || (primary - base) % 4 != 0 {
                        continue;
                    }
                    let start = base + span * ((primary - base) / span);
                    let center = start + 2 * (k - 1);
                    let valid = (0..k).all(|j| self.is_20mhz_channel(start + 4 * j));
                    if valid {
                        out[i] = Some(center);
                        i += 1;
                    }
                }
            }
        }
        out
    }

    /// Alignment bases of the band's block grid for `width`.
    fn block_bases(self, width: Width) -> [Option<u16>; 2] {
        match (self, width) {
            (Band::Band5G, Width::W320) => [None, None],
            (Band::Band5G, _) => [Some(36), Some(149)],
            // 320 MHz-1 blocks start at 1 + 64·i, 320 MHz-2 at 33 + 64·i.
            (Band::Band6G, Width::W320) => [Some(1), Some(33)],
            (Band::Band6G, _) => [Some(1), None],
            (Band::Band2G4, _) => [None, None],
        }
    }
}

/// A channel: band, block centre channel number, width and primary 20 MHz
/// channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Channel {
    band: Band,
    center: u16,
    width: Width,
    primary: u16,
}

impl Channel {
    /// A validated channel: `center` must be the centre channel number of a
    /// valid `width` block (for 20 MHz, the channel itself) and `primary` one
    /// of its 20 MHz subchannels.
    pub fn new(band: Band, center: u16, width: Width, primary: u16) -> Result<Channel, RadioError> {
        let err = RadioError::InvalidChannelBlock {
            band,
            center,
            width,
            primary,
        };
        if band.block_centers(primary, width).contains(&Some(center)) {
            Ok(Channel {
                band,
                center,
                width,
                primary,
            })
        } else {
            Err(err)
        }
    }

    /// A channel from its primary 20 MHz channel and width, taking the first
    /// block that contains the primary (2.4 GHz: HT40+ when possible; 6 GHz
    /// 320 MHz: 320 MHz-1 when possible).
    pub fn from_primary(band: Band, primary: u16, width: Width) -> Result<Channel, RadioError> {
        match band.block_centers(primary, width)[0] {
            Some(center) => Ok(Channel {
                band,
                center,
                width,
                primary,
            }),
            None => Err(RadioError::InvalidChannelBlock {
                band,
                center: primary,
                width,
                primary,
            }),
        }
    }

    /// The band.
    pub const fn band(&self) -> Band {
        self.band
    }
    /// Centre channel number of the block.
    pub const fn center(&self) -> u16 {
        self.center
    }
    /// Width of the block.
    pub const fn width(&self) -> Width {
        self.width
    }
    /// Primary 20 MHz channel number.
    pub const fn primary(&self) -> u16 {
        self.primary
    }

    /// Centre frequency of the whole block (MHz).
    pub fn center_freq_mhz(&self) -> u32 {
        // Validated at construction; centre numbers always map.
        self.band.channel_to_freq(self.center).unwrap_or(0)
    }

    /// Centre frequency of the primary 20 MHz channel (MHz).
    pub fn primary_freq_mhz(&self) -> u32 {
        self.band.channel_to_freq(self.primary).unwrap_or(0)
    }

    /// Centre frequency (MHz) of the `sub`-wide part of this channel that
    /// contains the primary 20 MHz channel (primary 40/80/160). `None` if
    /// `sub` is wider than the channel.
    pub fn primary_sub_freq_mhz(&self, sub: Width) -> Option<u32> {
        primary_sub_freq(
            self.center_freq_mhz(),
            self.width,
            self.primary_freq_mhz(),
            sub,
        )
    }

    /// Centre frequency (MHz) of the secondary `sub` channel: the half of the
    /// primary `2·sub` block that does not hold the primary 20 MHz. `None`
    /// if `sub` is not narrower than the channel.
    pub fn secondary_sub_freq_mhz(&self, sub: Width) -> Option<u32> {
        if sub >= self.width {
            return None;
        }
        let p = self.primary_sub_freq_mhz(sub)?;
        let twice = Width::from_mhz(sub.mhz() * 2).ok()?;
        let parent = self.primary_sub_freq_mhz(twice)?;
        Some(if p < parent {
            p + sub.mhz()
        } else {
            p - sub.mhz()
        })
    }

    /// Whether this channel shares spectrum with `other`.
    pub fn overlaps(&self, other: &Channel) -> bool {
        overlaps(
            (self.center_freq_mhz(), self.width),
            (other.center_freq_mhz(), other.width),
        )
    }
}

/// Centre frequency of the `sub`-wide sub-block of the channel
/// (`center_mhz`, `width`) that contains the 20 MHz channel centred on
/// `primary_mhz`. Sub-blocks partition the channel from its lower edge.
pub fn primary_sub_freq(
    center_mhz: u32,
    width: Width,
    primary_mhz: u32,
    sub: Width,
) -> Option<u32> {
    if sub > width {
        return None;
    }
    let lo = center_mhz.checked_sub(width.mhz() / 2)?;
    if primary_mhz < lo || primary_mhz >= lo + width.mhz() {
        return None;
    }
    let idx = (primary_mhz - lo) / sub.mhz();
    Some(lo + idx * sub.mhz() + sub.mhz() / 2)
}

/// Whether two channels given as (centre frequency MHz, width) share
/// spectrum: their nominal occupied intervals `[fc − W/2, fc + W/2]`
/// intersect with non-zero length. Channels that only touch at an edge
/// (e.g. 2.4 GHz ch 1 and ch 5, 20 MHz each) do not overlap.
pub const fn overlaps(a: (u32, Width), b: (u32, Width)) -> bool {
    let (fa, wa) = a;
    let (fb, wb) = b;
    let diff = fa.abs_diff(fb);
    // |fa − fb| < (wa + wb)/2, doubled to stay in integers.
    2 * diff < wa.mhz() + wb.mhz()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_round_trips() {
        for band in [Band::Band2G4, Band::Band5G, Band::Band6G] {
            for ch in 1..=233u16 {
                if band.is_20mhz_channel(ch) {
                    let f = band.channel_to_freq(ch).unwrap();
                    assert_eq!(band.freq_to_channel(f).unwrap(), ch, "{band} ch {ch}");
                    assert_eq!(band_of(f), Some(band), "{band} ch {ch} at {f}");
                }
            }
        }
    }

    #[test]
    fn block_centres_match_the_channel_plans() {
        let c = |b: Band, p, w| b.block_centers(p, w);
        assert_eq!(c(Band::Band5G, 36, Width::W80), [Some(42), None]);
        assert_eq!(c(Band::Band5G, 48, Width::W160), [Some(50), None]);
        assert_eq!(c(Band::Band5G, 144, Width::W80), [Some(138), None]);
        assert_eq!(c(Band::Band5G, 144, Width::W160), [None, None]);
        assert_eq!(c(Band::Band5G, 149, Width::W40), [Some(151), None]);
        assert_eq!(c(Band::Band5G, 165, Width::W160), [Some(163), None]);
        assert_eq!(c(Band::Band6G, 1, Width::W320), [Some(31), None]);
        assert_eq!(c(Band::Band6G, 37, Width::W320), [Some(31), Some(63)]);
        assert_eq!(c(Band::Band6G, 229, Width::W80), [None, None]);
        assert_eq!(c(Band::Band6G, 2, Width::W40), [None, None]);
        assert_eq!(c(Band::Band2G4, 6, Width::W40), [Some(8), Some(4)]);
        assert_eq!(c(Band::Band2G4, 1, Width::W40), [Some(3), None]);
        assert_eq!(c(Band::Band2G4, 13, Width::W40), [Some(11), None]);
    }

    #[test]
    fn primary_and_secondary_subchannels() {
        // 5 GHz 80 MHz at 42 (5210 MHz, channels 36–48) with primary 44
        // (5220 MHz): the primary 40 is the pair 44/48 centred on 46
        // (5230 MHz), the secondary 20 is 48 (5240 MHz) and the secondary 40
        // is the pair 36/40 centred on 38 (5190 MHz).
        let ch = Channel::new(Band::Band5G, 42, Width::W80, 44).unwrap();
        assert_eq!(ch.primary_sub_freq_mhz(Width::W20), Some(5220));
        assert_eq!(ch.primary_sub_freq_mhz(Width::W40), Some(5230));
        assert_eq!(ch.secondary_sub_freq_mhz(Width::W20), Some(5240));
        assert_eq!(ch.secondary_sub_freq_mhz(Width::W40), Some(5190));
        assert_eq!(ch.secondary_sub_freq_mhz(Width::W80), None);
        assert!(Channel::new(Band::Band5G, 42, Width::W80, 52).is_err());
    }
}
