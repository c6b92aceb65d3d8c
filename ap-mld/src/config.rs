//! The AP MLD's TOML configuration (`--ap-config FILE`): SSID, MLD address, security, beacon
//! interval and its links. Errors name the line and column.
//!
//! ```toml
//! ssid = "vhost-hwsim-mlo"
//! mld_addr = "02:00:00:a0:00:00"
//! security = "owe"            # or "sae" (with passphrase = "...") or "open"
//! beacon_interval_tu = 100
//! ap_isolate = false          # true: stations' frames to each other are not relayed
//! beacon_protection = true    # default with owe/sae: BIGTK per link, MME in beacons
//! group_rekey_s = 0           # owe/sae: new GTK/IGTK/BIGTK every N s (>= 2; 0 = never)
//! # key_seed = 7              # reproducible keys and nonces (insecure); default: from the OS
//!
//! [[link]]
//! id = 0
//! band = "5"                  # "2.4", "5" or "6" (GHz)
//! channel = 36
//! width = 80                  # MHz: 20 (default), 40; 80, 160 on 5 and 6 GHz; 320 on 6 GHz
//! # center_channel = 63       # optional: picks which 320 MHz channel (320MHz-1, the default
//! #                           # where both hold the primary, or 320MHz-2); else must match
//! bssid = "02:00:00:a0:00:10"
//! ```
//!
//! Where the AP stands and how loud it is are the medium's business: list the link BSSIDs
//! in a `[[node]]` of the medium config (`--config`) to place it.

use std::ops::Range;
use std::path::Path;

use hwsim_frame::MacAddr;
use serde::Deserialize;
use toml::Spanned;

/// A frequency band.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band {
    /// 2.4 GHz.
    G2,
    /// 5 GHz.
    G5,
    /// 6 GHz.
    G6,
}

impl Band {
    /// Centre frequency of a 20 MHz channel, MHz; `None` if the channel is not one this
    /// AP can use in the band.
    pub fn channel_freq(self, channel: u8) -> Option<u32> {
        let ch = u32::from(channel);
        match self {
            Band::G2 if (1..=13).contains(&channel) => Some(2407 + 5 * ch),
            Band::G5 if is_5ghz_channel(channel) => Some(5000 + 5 * ch),
            Band::G6 if (1..=233).contains(&channel) && channel % 4 == 1 => Some(5950 + 5 * ch),
            _ => None,
        }
    }

    /// Global operating class of a 20 MHz channel (IEEE 802.11-2020 Table E-4).
    pub fn operating_class(self, channel: u8) -> u8 {
        match self {
            Band::G2 => 81,
            Band::G5 => match channel {
                36..=48 => 115,
                52..=64 => 118,
                100..=144 => 121,
                _ => 125,
            },
            Band::G6 => 131,
        }
    }

    /// The first channel numbers of the `width` MHz channels of the band (IEEE 802.11-2020
    /// Annex E, Table E-4; 802.11be adds 320 MHz, op class 137, in two overlapping sets:
    /// 320MHz-1 from channel 1, 65, 129 and 320MHz-2 from 33, 97, 161).
    fn block_starts(self, width: u16) -> &'static [u8] {
        match (self, width) {
            (Band::G5, 40) => &[
                36, 44, 52, 60, 100, 108, 116, 124, 132, 140, 149, 157, 165, 173,
            ],
            (Band::G5, 80) => &[36, 52, 100, 116, 132, 149, 165],
            (Band::G5, 160) => &[36, 100, 149],
            (Band::G6, 40) => &SIX_GHZ_40,
            (Band::G6, 80) => &SIX_GHZ_80,
            (Band::G6, 160) => &[1, 33, 65, 97, 129, 161, 193],
            (Band::G6, 320) => &[1, 65, 129, 33, 97, 161],
            _ => &[],
        }
    }

    /// The first channel number of the `width` MHz block that holds 20 MHz channel `channel`
    /// (the 320MHz-1 block where both 320 MHz sets have one; None if the band has none).
    fn block_start(self, channel: u8, width: u16) -> Option<u8> {
        self.block_starts(width)
            .iter()
            .copied()
            .find(|&s| block_holds(s, width, channel))
    }

    /// Name as written in the config.
    pub fn name(self) -> &'static str {
        match self {
            Band::G2 => "2.4",
            Band::G5 => "5",
            Band::G6 => "6",
        }
    }
}

/// 6 GHz 40 MHz channels start at 1, 9, …, 225; 80 MHz ones at 1, 17, …, 209.
const SIX_GHZ_40: [u8; 29] = {
    let mut a = [0u8; 29];
    let mut i = 0;
    while i < a.len() {
        a[i] = 1 + 8 * i as u8;
        i += 1;
    }
    a
};
const SIX_GHZ_80: [u8; 14] = {
    let mut a = [0u8; 14];
    let mut i = 0;
    while i < a.len() {
        a[i] = 1 + 16 * i as u8;
        i += 1;
    }
    a
};

/// Whether the `width` MHz block starting at channel `start` holds channel `channel`.
fn block_holds(start: u8, width: u16, channel: u8) -> bool {
    let span = u16::from(start) + 4 * (width / 20 - 1);
    channel >= start && u16::from(channel) <= span
}

/// Centre channel number of the `width` MHz block starting at channel `start`.
fn block_center(start: u8, width: u16) -> u8 {
    // 2 channel numbers (10 MHz) per 20 MHz channel beyond the first; width <= 320.
    start + (2 * (width / 20 - 1)) as u8
}

fn is_5ghz_channel(ch: u8) -> bool {
    let upper = ch % 4 == 1 && (149..=177).contains(&ch);
    let lower = ch % 4 == 0 && ((36..=64).contains(&ch) || (100..=144).contains(&ch));
    lower || upper
}

/// Security of the BSSs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// No RSN. wpa_supplicant will not use MLO with it (it requires PMF and a non-PSK AKM),
    /// but scripted stations and mac80211 can.
    Open,
    /// Opportunistic Wireless Encryption (group 19), PMF required.
    Owe,
    /// WPA3-Personal: SAE (AKM 8) group 19, hash-to-element only, PMF required; needs a
    /// `passphrase`.
    Sae,
}

/// One affiliated AP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    /// Link ID (0..=14).
    pub id: u8,
    /// Band.
    pub band: Band,
    /// Primary 20 MHz channel number.
    pub channel: u8,
    /// Centre frequency of the primary channel, MHz.
    pub freq: u32,
    /// Channel width, MHz: 20, 40 (2.4/5/6 GHz), 80 or 160 (5/6 GHz) or 320 (6 GHz).
    pub width: u16,
    /// Centre of the whole channel, as a channel number (the primary channel at 20 MHz).
    pub center_channel: u8,
    /// For 40 MHz and wider: the secondary 20 MHz channel is above the primary.
    pub secondary_above: bool,
    /// The affiliated AP's address (BSSID); also its radio's wire address.
    pub bssid: MacAddr,
}

impl LinkConfig {
    /// Global operating class of the link's channel and width (IEEE 802.11-2020 Table E-4).
    pub fn operating_class(&self) -> u8 {
        let above = self.secondary_above;
        match (self.band, self.width) {
            (band, 20) => band.operating_class(self.channel),
            (Band::G2, _) => {
                if above {
                    83
                } else {
                    84
                }
            }
            (Band::G5, 40) => match (self.channel, above) {
                (36..=48, true) => 116,
                (36..=48, false) => 117,
                (52..=64, true) => 119,
                (52..=64, false) => 120,
                (100..=144, true) => 122,
                (100..=144, false) => 123,
                (_, true) => 126,
                (_, false) => 127,
            },
            (Band::G5, 80) => 128,
            (Band::G5, _) => 129,
            (Band::G6, 40) => 132,
            (Band::G6, 80) => 133,
            (Band::G6, 160) => 134,
            (Band::G6, _) => 137,
        }
    }

    /// Centre channel of the `width` MHz part of the link's channel that holds the primary
    /// (`width` up to the link's own width): the primary 80 MHz of a 160 MHz channel, say,
    /// which CCFS0 names.
    pub fn segment_center(&self, width: u16) -> u8 {
        if width >= self.width {
            return self.center_channel;
        }
        match self.band.block_start(self.channel, width) {
            Some(start) if width > 20 => block_center(start, width),
            _ => self.channel,
        }
    }
}

/// The validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApConfig {
    /// SSID (1..=32 bytes).
    pub ssid: String,
    /// AP MLD MAC address.
    pub mld_addr: MacAddr,
    /// Security.
    pub security: Security,
    /// The SAE password (8 to 63 characters), present exactly when `security` is SAE.
    pub passphrase: Option<String>,
    /// Beacon interval, TU (1 TU = 1.024 ms).
    pub beacon_interval_tu: u16,
    /// Do not relay frames between associated stations (hostapd's `ap_isolate`); by default
    /// the AP forwards unicast between its stations and relays their group frames into the BSS.
    pub ap_isolate: bool,
    /// Beacon protection (IEEE 802.11-2020 12.5.7): a BIGTK per link, handed over in the
    /// 4-way handshake, and a BIP-protected MME in every beacon. Default on with OWE and SAE;
    /// not available on an open network.
    pub beacon_protection: bool,
    /// Seconds between group key rekeys (hostapd's `wpa_group_rekey`): new GTK / IGTK /
    /// BIGTK per link, handed to every station in the group key handshake. 0 = never;
    /// otherwise at least [`MIN_GROUP_REKEY_S`], and only with OWE or SAE.
    pub group_rekey_s: u32,
    /// Seed of the AP's keys, nonces and DH keys, for a run that repeats exactly. Anyone who
    /// knows it derives every key of the run; None (the default) seeds from the OS.
    pub key_seed: Option<u64>,
    /// Links, in the order written.
    pub links: Vec<LinkConfig>,
}

/// Shortest group rekey interval: a rekey waits for every station's answer (up to five
/// EAPOL-Key tries a second apart) before the new keys go into use.
pub const MIN_GROUP_REKEY_S: u32 = 2;

/// A configuration error, with where it is when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", place(*line, *column))]
pub struct ConfigError {
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

fn place(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}: "),
        _ => String::new(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRepr {
    ssid: Spanned<String>,
    mld_addr: Spanned<String>,
    security: Option<Spanned<Security>>,
    passphrase: Option<Spanned<String>>,
    beacon_interval_tu: Option<Spanned<u16>>,
    beacon_protection: Option<Spanned<bool>>,
    group_rekey_s: Option<Spanned<u32>>,
    key_seed: Option<u64>,
    #[serde(default)]
    ap_isolate: bool,
    #[serde(default)]
    link: Vec<LinkRepr>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRepr {
    id: Spanned<u8>,
    band: Spanned<String>,
    channel: Spanned<u8>,
    width: Option<Spanned<u16>>,
    center_channel: Option<Spanned<u8>>,
    bssid: Spanned<String>,
}

impl ApConfig {
    /// Reads and parses a file; errors carry the path.
    pub fn load(path: &Path) -> Result<ApConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        ApConfig::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses and validates a configuration text.
    pub fn parse(text: &str) -> Result<ApConfig, ConfigError> {
        let at = |span: Range<usize>, message: String| {
            let (line, column) = locate(text, span.start);
            ConfigError {
                line: Some(line),
                column: Some(column),
                message,
            }
        };
        let repr: FileRepr = toml::from_str(text).map_err(|e| {
            let place = e.span().map(|s| locate(text, s.start));
            ConfigError {
                line: place.map(|p| p.0),
                column: place.map(|p| p.1),
                message: e.message().trim_end().to_string(),
            }
        })?;
        let ssid = repr.ssid.get_ref().clone();
        if ssid.is_empty() || ssid.len() > 32 {
            return Err(at(repr.ssid.span(), "ssid must be 1 to 32 bytes".into()));
        }
        let mld_addr = unicast(&repr.mld_addr).map_err(|m| at(repr.mld_addr.span(), m))?;
        let security = repr
            .security
            .as_ref()
            .map_or(Security::Owe, |s| *s.get_ref());
        let passphrase = match (&repr.passphrase, security) {
            (None, Security::Sae) => {
                let span = repr.security.as_ref().map_or(0..0, |s| s.span());
                return Err(at(span, "security = \"sae\" needs a passphrase".into()));
            }
            (Some(p), Security::Sae) => {
                let n = p.get_ref().chars().count();
                if !(8..=63).contains(&n) {
                    return Err(at(
                        p.span(),
                        format!("passphrase must be 8 to 63 characters (has {n})"),
                    ));
                }
                Some(p.get_ref().clone())
            }
            (Some(p), _) => {
                return Err(at(
                    p.span(),
                    "passphrase is only used with security = \"sae\"".into(),
                ))
            }
            (None, _) => None,
        };
        let beacon_interval_tu = match &repr.beacon_interval_tu {
            None => 100,
            Some(b) if (10..=1000).contains(b.get_ref()) => *b.get_ref(),
            Some(b) => return Err(at(b.span(), "beacon_interval_tu must be 10 to 1000".into())),
        };
        let beacon_protection = match (&repr.beacon_protection, security) {
            (None, Security::Open) => false,
            (None, _) => true,
            (Some(b), Security::Open) if *b.get_ref() => {
                return Err(at(
                    b.span(),
                    "beacon_protection needs security = \"owe\" or \"sae\"".into(),
                ))
            }
            (Some(b), _) => *b.get_ref(),
        };
        let group_rekey_s = match &repr.group_rekey_s {
            None => 0,
            Some(r) if *r.get_ref() == 0 => 0,
            Some(r) if security == Security::Open => {
                return Err(at(
                    r.span(),
                    "group_rekey_s needs security = \"owe\" or \"sae\"".into(),
                ))
            }
            Some(r) if *r.get_ref() < MIN_GROUP_REKEY_S => {
                return Err(at(
                    r.span(),
                    format!("group_rekey_s must be 0 (off) or at least {MIN_GROUP_REKEY_S}"),
                ))
            }
            Some(r) => *r.get_ref(),
        };
        if repr.link.is_empty() {
            return Err(ConfigError {
                line: None,
                column: None,
                message: "an AP MLD needs at least one [[link]]".into(),
            });
        }
        if repr.link.len() > 15 {
            return Err(at(repr.link[15].id.span(), "at most 15 links".into()));
        }
        let mut links: Vec<LinkConfig> = Vec::with_capacity(repr.link.len());
        for l in &repr.link {
            let id = *l.id.get_ref();
            if id > 14 {
                return Err(at(l.id.span(), "link id must be 0 to 14".into()));
            }
            if links.iter().any(|o| o.id == id) {
                return Err(at(l.id.span(), format!("duplicate link id {id}")));
            }
            let band = match l.band.get_ref().as_str() {
                "2.4" | "2g4" => Band::G2,
                "5" | "5g" => Band::G5,
                "6" | "6g" => Band::G6,
                other => {
                    return Err(at(
                        l.band.span(),
                        format!("band `{other}`: expected \"2.4\", \"5\" or \"6\""),
                    ))
                }
            };
            let channel = *l.channel.get_ref();
            let freq = band.channel_freq(channel).ok_or_else(|| {
                at(
                    l.channel.span(),
                    format!(
                        "channel {channel} is not a 20 MHz channel of the {} GHz band",
                        band.name()
                    ),
                )
            })?;
            if let Some(o) = links.iter().find(|o| o.freq == freq) {
                return Err(at(
                    l.channel.span(),
                    format!(
                        "link {} already uses {freq} MHz; links need distinct channels",
                        o.id
                    ),
                ));
            }
            let width = l.width.as_ref().map_or(20, |w| *w.get_ref());
            let width_span = l.width.as_ref().map_or(0..0, |w| w.span());
            let wanted = l.center_channel.as_ref().map(|c| *c.get_ref());
            let (center_channel, secondary_above) = geometry(band, channel, width, wanted)
                .map_err(|m| {
                    let span = match &l.center_channel {
                        Some(c) if m.starts_with("center_channel") => c.span(),
                        _ => width_span.clone(),
                    };
                    at(span, m)
                })?;
            let bssid = unicast(&l.bssid).map_err(|m| at(l.bssid.span(), m))?;
            if bssid == mld_addr || links.iter().any(|o| o.bssid == bssid) {
                return Err(at(
                    l.bssid.span(),
                    format!(
                        "bssid {bssid} is used twice (links and the MLD need distinct addresses)"
                    ),
                ));
            }
            links.push(LinkConfig {
                id,
                band,
                channel,
                freq,
                width,
                center_channel,
                secondary_above,
                bssid,
            });
        }
        Ok(ApConfig {
            ssid,
            mld_addr,
            security,
            passphrase,
            beacon_interval_tu,
            ap_isolate: repr.ap_isolate,
            beacon_protection,
            group_rekey_s,
            key_seed: repr.key_seed,
            links,
        })
    }
}

/// Centre channel and secondary-above flag of a `width` MHz channel with primary `channel`;
/// `wanted` is the config's `center_channel`, which picks one of the two 320 MHz channels
/// holding a primary (by default the 320MHz-1 one where there is a choice).
fn geometry(band: Band, channel: u8, width: u16, wanted: Option<u8>) -> Result<(u8, bool), String> {
    let (center, above) = match (band, width) {
        (_, 20) => (channel, false),
        // 2.4 GHz 40 MHz: secondary above up to channel 7, below from channel 5 on.
        (Band::G2, 40) if channel <= 7 && wanted != Some(channel.wrapping_sub(2)) => {
            (channel + 2, true)
        }
        (Band::G2, 40) if channel >= 5 => (channel - 2, false),
        (Band::G2, 40) => (channel + 2, true),
        (Band::G5 | Band::G6, 40 | 80 | 160) | (Band::G6, 320) => {
            let centers: Vec<u8> = band
                .block_starts(width)
                .iter()
                .filter(|&&s| block_holds(s, width, channel))
                .map(|&s| block_center(s, width))
                .collect();
            let center = match (wanted, centers.first()) {
                (_, None) => {
                    return Err(format!(
                        "channel {channel} is in no {width} MHz channel of the {} GHz band",
                        band.name()
                    ))
                }
                (Some(w), Some(_)) if centers.contains(&w) => w,
                (Some(w), Some(_)) => {
                    return Err(format!(
                        "center_channel {w} is not the centre of a {width} MHz channel holding \
                         channel {channel} (possible: {centers:?})"
                    ))
                }
                (None, Some(&c)) => c,
            };
            // The 40 MHz pair holding the primary: secondary above if the primary is its lower half.
            let pair = band.block_start(channel, 40).unwrap_or(channel);
            (center, channel == pair)
        }
        _ => {
            return Err(format!(
                "width {width} MHz is not supported in the {} GHz band (20, 40; 80 and 160 on 5 \
                 and 6 GHz; 320 on 6 GHz)",
                band.name()
            ))
        }
    };
    match wanted {
        Some(w) if w != center => Err(format!(
            "center_channel {w} does not match the {width} MHz channel around channel {channel} \
             (its centre is {center})"
        )),
        _ => Ok((center, above)),
    }
}

fn unicast(s: &Spanned<String>) -> Result<MacAddr, String> {
    let addr: MacAddr = s
        .get_ref()
        .parse()
        .map_err(|_| format!("`{}` is not a MAC address (aa:bb:cc:dd:ee:ff)", s.get_ref()))?;
    if addr.is_group() {
        return Err(format!("{addr} is a group address"));
    }
    Ok(addr)
}

/// 1-based (line, column) of a byte offset.
fn locate(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crate's three-link fixture without a security line (OWE by default).
    fn three_links() -> String {
        crate::tests::THREE_LINKS.replace("security = \"SECURITY\"\n", "")
    }

    #[test]
    fn three_links_parse_with_frequencies() {
        let c = ApConfig::parse(&three_links()).unwrap();
        assert_eq!(c.security, Security::Owe);
        assert_eq!(c.beacon_interval_tu, 100);
        let f: Vec<u32> = c.links.iter().map(|l| l.freq).collect();
        assert_eq!(f, [2412, 5180, 5975]);
    }

    #[test]
    fn wide_channels_have_the_right_center_and_secondary() {
        let with = |band: &str, ch: u8, w: u16| {
            let t = three_links().replace(
                "band = \"5\"\nchannel = 36",
                &format!("band = \"{band}\"\nchannel = {ch}\nwidth = {w}"),
            );
            ApConfig::parse(&t).map(|c| (c.links[1].center_channel, c.links[1].secondary_above))
        };
        assert_eq!(with("5", 36, 80), Ok((42, true)));
        assert_eq!(with("5", 44, 80), Ok((42, true)));
        assert_eq!(with("5", 48, 80), Ok((42, false)));
        assert_eq!(with("5", 40, 40), Ok((38, false)));
        assert_eq!(with("5", 149, 80), Ok((155, true)));
        assert_eq!(with("6", 37, 80), Ok((39, false)));
        assert_eq!(with("6", 41, 40), Ok((43, true)));
        assert_eq!(with("2.4", 11, 40), Ok((9, false)));
        assert_eq!(with("5", 36, 160), Ok((50, true)));
        assert_eq!(
            with("5", 132, 160).map_err(|e| e.message.contains("no 160 MHz")),
            Err(true)
        );
        assert_eq!(with("5", 64, 80), Ok((58, false)));
        assert!(with("5", 36, 30).is_err());
        assert!(with("2.4", 6, 80).is_err());
    }

    /// Parses the three-link fixture with link 1 replaced by `link` (band, channel, width...).
    fn with_link1(link: &str) -> Result<LinkConfig, ConfigError> {
        let t = three_links().replace("band = \"5\"\nchannel = 36", link);
        ApConfig::parse(&t).map(|c| c.links[1].clone())
    }

    /// The centre channels of every channel of `width` MHz in `band`, as the config
    /// computes them for each primary (deduplicated, in order).
    fn centers(band: &str, width: u16, first: u8, last: u8, step: u8) -> Vec<u8> {
        let mut out = Vec::new();
        for ch in (first..=last).step_by(step.into()) {
            let link = format!("band = \"{band}\"\nchannel = {ch}\nwidth = {width}");
            if let Ok(l) = with_link1(&link) {
                if !out.contains(&l.center_channel) {
                    out.push(l.center_channel);
                }
            }
        }
        out
    }

    #[test]
    fn wide_channels_follow_the_standard_channel_tables() {
        // IEEE 802.11-2020 Table E-4: op class 128 (5 GHz 80 MHz), 129 (160 MHz), 133 and
        // 134 (6 GHz 80 / 160 MHz); 802.11be: 137 (6 GHz 320 MHz, 320MHz-1 by default).
        assert_eq!(
            centers("5", 80, 36, 177, 1),
            [42, 58, 106, 122, 138, 155, 171]
        );
        assert_eq!(centers("5", 160, 36, 177, 1), [50, 114, 163]);
        assert_eq!(
            centers("6", 80, 1, 233, 4),
            [7, 23, 39, 55, 71, 87, 103, 119, 135, 151, 167, 183, 199, 215]
        );
        assert_eq!(
            centers("6", 160, 1, 233, 4),
            [15, 47, 79, 111, 143, 175, 207]
        );
        // 320MHz-1 (31, 95, 159) wherever it holds the primary; 320MHz-2's 191 above it.
        assert_eq!(centers("6", 320, 1, 233, 4), [31, 95, 159, 191]);
        let l = with_link1("band = \"6\"\nchannel = 37\nwidth = 320").unwrap();
        assert_eq!((l.center_channel, l.operating_class()), (31, 137));
        assert_eq!((l.segment_center(160), l.segment_center(80)), (47, 39));
        assert_eq!((l.segment_center(40), l.secondary_above), (35, false));
        let l = with_link1("band = \"6\"\nchannel = 37\nwidth = 320\ncenter_channel = 63");
        let l = l.unwrap();
        assert_eq!((l.center_channel, l.segment_center(160)), (63, 47));
        let l = with_link1("band = \"5\"\nchannel = 100\nwidth = 160").unwrap();
        assert_eq!(
            (l.center_channel, l.segment_center(80), l.operating_class()),
            (114, 106, 129)
        );
        let l = with_link1("band = \"5\"\nchannel = 153\nwidth = 160").unwrap();
        assert_eq!(
            (l.center_channel, l.segment_center(80), l.secondary_above),
            (163, 155, false)
        );
        let l = with_link1("band = \"6\"\nchannel = 61\nwidth = 160").unwrap();
        assert_eq!(
            (l.center_channel, l.segment_center(80), l.operating_class()),
            (47, 55, 134)
        );
    }

    #[test]
    fn impossible_wide_channels_are_refused_where_written() {
        let e = with_link1("band = \"5\"\nchannel = 36\nwidth = 320").unwrap_err();
        assert!(
            e.message
                .contains("width 320 MHz is not supported in the 5 GHz"),
            "{e}"
        );
        assert_eq!((e.line, e.column), (Some(13), Some(9)), "{e}");
        let e = with_link1("band = \"6\"\nchannel = 197\nwidth = 320\ncenter_channel = 159");
        let e = e.unwrap_err();
        assert!(e.message.contains("possible: [191]"), "{e}");
        assert_eq!((e.line, e.column), (Some(14), Some(18)), "{e}");
        let e = with_link1("band = \"6\"\nchannel = 229\nwidth = 160").unwrap_err();
        assert!(e.message.contains("channel 229 is in no 160 MHz"), "{e}");
        let e = with_link1("band = \"5\"\nchannel = 36\nwidth = 160\ncenter_channel = 42");
        assert!(e.unwrap_err().message.contains("possible: [50]"));
        let e = with_link1("band = \"6\"\nchannel = 5\ncenter_channel = 7").unwrap_err();
        assert!(e.message.contains("its centre is 5"), "{e}");
        assert!(with_link1("band = \"2.4\"\nchannel = 6\nwidth = 160").is_err());
    }

    #[test]
    fn the_documented_example_parses() {
        let text = include_str!("../../docs/ap-mld-example.toml");
        let c = ApConfig::parse(text).unwrap();
        assert_eq!(c.links.len(), 3);
        assert_eq!(c.security, Security::Owe);
    }

    #[test]
    fn errors_name_line_and_column() {
        let bad = three_links().replace("channel = 36", "channel = 37");
        let e = ApConfig::parse(&bad).unwrap_err();
        assert_eq!((e.line, e.column), (Some(12), Some(11)), "{e}");
        assert!(e.message.contains("channel 37"), "{e}");
        let dup = three_links().replace("id = 2", "id = 1");
        let e = ApConfig::parse(&dup).unwrap_err();
        assert!(e.message.contains("duplicate link id 1"), "{e}");
        let e = ApConfig::parse(&three_links().replace("\"6\"", "\"7\"")).unwrap_err();
        assert!(e.message.contains("band `7`"), "{e}");
        let e = ApConfig::parse(&three_links().replace("mld_addr", "mld_adr")).unwrap_err();
        assert!(e.line.is_some(), "{e}");
    }

    #[test]
    fn sae_needs_a_passphrase_of_8_to_63_characters() {
        let with = |extra: &str| ApConfig::parse(&format!("{extra}\n{}", three_links()));
        let c = with("security = \"sae\"\npassphrase = \"correct horse\"").unwrap();
        assert_eq!(c.security, Security::Sae);
        assert_eq!(c.passphrase.as_deref(), Some("correct horse"));
        let e = with("security = \"sae\"").unwrap_err();
        assert!(e.message.contains("needs a passphrase"), "{e}");
        assert_eq!(e.line, Some(1), "{e}");
        let e = with("security = \"sae\"\npassphrase = \"short\"").unwrap_err();
        assert!(e.message.contains("8 to 63 characters (has 5)"), "{e}");
        assert_eq!((e.line, e.column), (Some(2), Some(14)), "{e}");
        let long = "x".repeat(64);
        let e = with(&format!("security = \"sae\"\npassphrase = \"{long}\"")).unwrap_err();
        assert!(e.message.contains("(has 64)"), "{e}");
        let e = with("security = \"owe\"\npassphrase = \"correct horse\"").unwrap_err();
        assert!(e.message.contains("only used with"), "{e}");
    }

    #[test]
    fn beacon_protection_defaults_on_with_owe_and_sae_and_needs_them() {
        let with = |extra: &str| ApConfig::parse(&format!("{extra}\n{}", three_links()));
        assert!(with("").unwrap().beacon_protection);
        assert!(
            with("security = \"sae\"\npassphrase = \"correct horse\"")
                .unwrap()
                .beacon_protection
        );
        assert!(!with("beacon_protection = false").unwrap().beacon_protection);
        assert!(!with("security = \"open\"").unwrap().beacon_protection);
        let e = with("security = \"open\"\nbeacon_protection = true").unwrap_err();
        assert!(e.message.contains("needs security"), "{e}");
        assert_eq!(e.line, Some(2), "{e}");
    }

    #[test]
    fn group_rekey_is_off_by_default_at_least_two_seconds_and_needs_security() {
        let with = |extra: &str| ApConfig::parse(&format!("{extra}\n{}", three_links()));
        assert_eq!(with("").unwrap().group_rekey_s, 0);
        assert_eq!(with("group_rekey_s = 0").unwrap().group_rekey_s, 0);
        assert_eq!(with("group_rekey_s = 4").unwrap().group_rekey_s, 4);
        let e = with("group_rekey_s = 1").unwrap_err();
        assert!(e.message.contains("at least 2"), "{e}");
        assert_eq!(e.line, Some(1), "{e}");
        let e = with("security = \"open\"\ngroup_rekey_s = 4").unwrap_err();
        assert!(e.message.contains("needs security"), "{e}");
        assert!(with("group_rekey_s = -1").is_err());
    }
}
