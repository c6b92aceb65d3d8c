//! The AP MLD's TOML configuration (`--ap-config FILE`): SSID, MLD address, security, beacon
//! interval and its links. Errors name the line and column.
//!
//! ```toml
//! ssid = "vhost-hwsim-mlo"
//! mld_addr = "02:00:00:a0:00:00"
//! security = "owe"            # or "sae" (with passphrase = "...") or "open"
//! beacon_interval_tu = 100
//! beacon_protection = true    # default with owe/sae: BIGTK per link, MME in beacons
//!
//! [[link]]
//! id = 0
//! band = "5"                  # "2.4", "5" or "6" (GHz)
//! channel = 36
//! width = 80                  # MHz: 20 (default), 40; 80 on 5 and 6 GHz
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

    /// The first channel number of the `width` MHz block that holds 20 MHz channel `channel`
    /// (None if the band has no such block there).
    fn block_start(self, channel: u8, width: u16) -> Option<u8> {
        let n = u8::try_from(width / 20).ok()?; // 20 MHz channels in the block
        let step = 4 * n; // channel numbers the block spans
        match self {
            Band::G2 => None,
            Band::G5 => {
                let base = match channel {
                    36..=64 => 36,
                    100..=144 => 100,
                    149..=177 => 149,
                    _ => return None,
                };
                let start = base + (channel - base) / step * step;
                let last = start + 4 * (n - 1);
                (self.channel_freq(last).is_some() && last <= 177).then_some(start)
            }
            Band::G6 => {
                let start = 1 + (channel - 1) / step * step;
                self.channel_freq(start + 4 * (n - 1)).map(|_| start)
            }
        }
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
    /// Channel width, MHz: 20, 40 (2.4/5/6 GHz) or 80 (5/6 GHz).
    pub width: u16,
    /// Channel center frequency segment 0, as a channel number (the primary channel at 20 MHz).
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
            (Band::G5, _) => 128,
            (Band::G6, 40) => 132,
            (Band::G6, _) => 133,
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
    /// Beacon protection (IEEE 802.11-2020 12.5.7): a BIGTK per link, handed over in the
    /// 4-way handshake, and a BIP-protected MME in every beacon. Default on with OWE and SAE;
    /// not available on an open network.
    pub beacon_protection: bool,
    /// Links, in the order written.
    pub links: Vec<LinkConfig>,
}

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
            let (center_channel, secondary_above) =
                geometry(band, channel, width).map_err(|m| at(width_span, m))?;
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
            beacon_protection,
            links,
        })
    }
}

/// Center channel and secondary-above flag of a `width` MHz channel with primary `channel`.
fn geometry(band: Band, channel: u8, width: u16) -> Result<(u8, bool), String> {
    match (band, width) {
        (_, 20) => Ok((channel, false)),
        // 2.4 GHz 40 MHz: secondary above up to channel 7, below from channel 5 on.
        (Band::G2, 40) if channel <= 7 => Ok((channel + 2, true)),
        (Band::G2, 40) if channel >= 5 => Ok((channel - 2, false)),
        (Band::G5 | Band::G6, 40 | 80) => {
            let start = band
                .block_start(channel, width)
                .ok_or_else(|| format!("channel {channel} has no {width} MHz channel around it"))?;
            let center = start + 2 * (u8::try_from(width / 20).unwrap_or(1) - 1);
            // The 40 MHz pair holding the primary: secondary above if the primary is its lower half.
            let pair = band.block_start(channel, 40).unwrap_or(start);
            Ok((center, channel == pair))
        }
        _ => Err(format!(
            "width {width} MHz is not supported in the {} GHz band (20, 40; 80 on 5 and 6 GHz)",
            band.name()
        )),
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

    pub(crate) const THREE_LINKS: &str = r#"
ssid = "mlo"
mld_addr = "02:00:00:a0:00:00"
[[link]]
id = 0
band = "2.4"
channel = 1
bssid = "02:00:00:a0:00:10"
[[link]]
id = 1
band = "5"
channel = 36
bssid = "02:00:00:a0:00:11"
[[link]]
id = 2
band = "6"
channel = 5
bssid = "02:00:00:a0:00:12"
"#;

    #[test]
    fn three_links_parse_with_frequencies() {
        let c = ApConfig::parse(THREE_LINKS).unwrap();
        assert_eq!(c.security, Security::Owe);
        assert_eq!(c.beacon_interval_tu, 100);
        let f: Vec<u32> = c.links.iter().map(|l| l.freq).collect();
        assert_eq!(f, [2412, 5180, 5975]);
    }

    #[test]
    fn wide_channels_have_the_right_center_and_secondary() {
        let with = |band: &str, ch: u8, w: u16| {
            let t = THREE_LINKS.replace(
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
        assert!(with("5", 36, 160).is_err());
        assert_eq!(with("5", 64, 80), Ok((58, false)));
        assert!(with("5", 36, 30).is_err());
        assert!(with("2.4", 6, 80).is_err());
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
        let bad = THREE_LINKS.replace("channel = 36", "channel = 37");
        let e = ApConfig::parse(&bad).unwrap_err();
        assert_eq!((e.line, e.column), (Some(12), Some(11)), "{e}");
        assert!(e.message.contains("channel 37"), "{e}");
        let dup = THREE_LINKS.replace("id = 2", "id = 1");
        let e = ApConfig::parse(&dup).unwrap_err();
        assert!(e.message.contains("duplicate link id 1"), "{e}");
        let e = ApConfig::parse(&THREE_LINKS.replace("\"6\"", "\"7\"")).unwrap_err();
        assert!(e.message.contains("band `7`"), "{e}");
        let e = ApConfig::parse(&THREE_LINKS.replace("mld_addr", "mld_adr")).unwrap_err();
        assert!(e.line.is_some(), "{e}");
    }

    #[test]
    fn sae_needs_a_passphrase_of_8_to_63_characters() {
        let with = |extra: &str| ApConfig::parse(&format!("{extra}\n{THREE_LINKS}"));
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
        let with = |extra: &str| ApConfig::parse(&format!("{extra}\n{THREE_LINKS}"));
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
}
