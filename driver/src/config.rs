//! The medium's TOML configuration: which model, the seed, the path loss model, per-band radio
//! defaults, the nodes (matched to radios by the 802.11 addresses they answer to) and per-link
//! overrides in the style wmediumd users know.
//!
//! ```toml
//! seed = 7
//! model = "radio"                 # or "perfect"
//! time_mode = "instant"           # or "airtime": shared channels, CCA, backoff, collisions
//! path_loss = { model = "log_distance", exponent = 3.0 }
//! fading = "none"                 # or "rayleigh", or { rician_k_db = 6 }
//!
//! [defaults.5g]                   # per band: "2g4", "5g", "6g"
//! tx_power_dbm = 23
//! max_nss = 2
//!
//! [[node]]
//! name = "ap"
//! addresses = ["02:00:00:0a:00:00"]
//! position = [0, 0, 1.5]
//! 6g = { tx_power_dbm = 18 }      # per-node, per-band override
//!
//! [[link]]
//! between = ["ap", "sta"]
//! extra_loss_db = 10
//!
//! [[event]]                       # a timeline: see `events` and docs/control-api.md
//! at = "2s"
//! link = { node = "sta", band = "6ghz", attenuation_db = 30 }
//! ```
//!
//! Parsing reports TOML errors with line and column; the checks after parsing (unknown node
//! names, duplicate addresses, values out of range) point at the offending value too.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use hwsim_frame::MacAddr;
use hwsim_radio::adapt::RateCaps;
use hwsim_radio::band::{Band, Width};
use hwsim_radio::noise::DEFAULT_NOISE_FIGURE_DB;
use hwsim_radio::pathloss::{PathLossModel, Position};
use hwsim_radio::rates::{Coding, GuardInterval, PhyFormat};
use serde::Deserialize;
use toml::Spanned;

/// The bands in the order every per-band array in the medium uses.
pub const BANDS: [Band; 3] = [Band::Band2G4, Band::Band5G, Band::Band6G];

/// Index of `band` in [`BANDS`].
pub const fn band_index(band: Band) -> usize {
    match band {
        Band::Band2G4 => 0,
        Band::Band5G => 1,
        Band::Band6G => 2,
    }
}

/// A configuration error, located in the file where possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based line, when the error points at a value.
    pub line: Option<usize>,
    /// 1-based column (characters), when the error points at a value.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Which medium to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Lossless, constant signal ([`crate::medium::PerfectMedium`]).
    Perfect,
    /// Path loss, fading, PER ([`crate::medium::RadioMedium`]).
    #[default]
    Radio,
}

/// How frames are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TimeMode {
    /// Fates are decided and frames delivered at once (functional tests).
    #[default]
    Instant,
    /// Shared channels with airtime, CCA, backoff and collisions (`medium::airtime`).
    Airtime,
}

/// Small-scale fading drawn per frame and receiver.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Default)]
#[serde(untagged)]
pub enum Fading {
    /// `"none"` or `"rayleigh"`.
    Named(FadingName),
    /// `{ rician_k_db = K }`: Rician with line-of-sight to scattered power ratio K dB.
    Rician {
        /// K-factor, dB.
        rician_k_db: f64,
    },
    /// `{ lognormal_sigma_db = σ }`: per-frame log-normal variation.
    LogNormal {
        /// σ, dB.
        lognormal_sigma_db: f64,
    },
    /// No fading (the default: functional tests want steady links).
    #[default]
    #[serde(skip)]
    Off,
}

/// Named fading models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FadingName {
    /// No fading.
    None,
    /// Rayleigh (no line of sight).
    Rayleigh,
}

/// Radio settings of one band, every field optional so layers can be merged
/// (built-in defaults ← `[defaults.<band>]` ← the node's `<band>` table).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BandSettings {
    /// Transmit power, dBm.
    pub tx_power_dbm: Option<f64>,
    /// Antenna gain, dBi (counted on transmit and receive).
    pub antenna_gain_dbi: Option<f64>,
    /// Receiver noise figure, dB.
    pub noise_figure_db: Option<f64>,
    /// Most capable PHY format ("ofdm", "ht", "vht", "he", "eht").
    pub max_format: Option<PhyFormat>,
    /// Widest PPDU, MHz.
    pub max_width: Option<Width>,
    /// Most spatial streams.
    pub max_nss: Option<u8>,
    /// Highest MCS.
    pub max_mcs: Option<u8>,
    /// Guard interval, µs.
    pub gi: Option<GuardInterval>,
    /// FEC ("bcc" or "ldpc").
    pub coding: Option<Coding>,
    /// PER ceiling for rate synthesis.
    pub max_per: Option<f64>,
}

impl BandSettings {
    /// `self` with the fields `over` sets replaced.
    fn overlay(self, over: &BandSettings) -> BandSettings {
        BandSettings {
            tx_power_dbm: over.tx_power_dbm.or(self.tx_power_dbm),
            antenna_gain_dbi: over.antenna_gain_dbi.or(self.antenna_gain_dbi),
            noise_figure_db: over.noise_figure_db.or(self.noise_figure_db),
            max_format: over.max_format.or(self.max_format),
            max_width: over.max_width.or(self.max_width),
            max_nss: over.max_nss.or(self.max_nss),
            max_mcs: over.max_mcs.or(self.max_mcs),
            gi: over.gi.or(self.gi),
            coding: over.coding.or(self.coding),
            max_per: over.max_per.or(self.max_per),
        }
    }
}

/// One table per band.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PerBand {
    /// 2.4 GHz.
    #[serde(rename = "2g4", alias = "2.4GHz")]
    pub band_2g4: BandSettings,
    /// 5 GHz.
    #[serde(rename = "5g", alias = "5GHz")]
    pub band_5g: BandSettings,
    /// 6 GHz.
    #[serde(rename = "6g", alias = "6GHz")]
    pub band_6g: BandSettings,
}

impl PerBand {
    fn get(&self, band: Band) -> &BandSettings {
        match band {
            Band::Band2G4 => &self.band_2g4,
            Band::Band5G => &self.band_5g,
            Band::Band6G => &self.band_6g,
        }
    }
}

/// A `[[node]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeRepr {
    name: Spanned<String>,
    #[serde(default)]
    addresses: Vec<Spanned<String>>,
    position: Spanned<Position>,
    #[serde(rename = "2g4", alias = "2.4GHz", default)]
    band_2g4: BandSettings,
    #[serde(rename = "5g", alias = "5GHz", default)]
    band_5g: BandSettings,
    #[serde(rename = "6g", alias = "6GHz", default)]
    band_6g: BandSettings,
}

/// A `[[link]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRepr {
    between: Spanned<[String; 2]>,
    snr_db: Option<f64>,
    reverse_snr_db: Option<f64>,
    #[serde(default)]
    extra_loss_db: f64,
    loss_probability: Option<Spanned<f64>>,
    #[serde(default)]
    loss_per_frame: bool,
}

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRepr {
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    model: ModelKind,
    time_mode: Option<Spanned<TimeMode>>,
    path_loss: Option<Spanned<PathLossModel>>,
    fading: Option<Spanned<Fading>>,
    #[serde(default)]
    default_position: Position,
    default_snr_db: Option<f64>,
    #[serde(default)]
    defaults: PerBand,
    #[serde(default)]
    node: Vec<NodeRepr>,
    #[serde(default)]
    link: Vec<LinkRepr>,
    #[serde(default)]
    event: Vec<events::EventRepr>,
}

/// Fully resolved radio parameters of one node in one band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandParams {
    /// Transmit power, dBm.
    pub tx_power_dbm: f64,
    /// Antenna gain, dBi.
    pub antenna_gain_dbi: f64,
    /// Noise figure, dB.
    pub noise_figure_db: f64,
    /// Rate caps of this end (the link uses the lesser of both ends).
    pub caps: RateCaps,
}

/// A node: a radio (or an MLD's radios) at a position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Name used in links and reports.
    pub name: String,
    /// The 802.11 addresses it answers to and transmits from.
    pub addresses: Vec<MacAddr>,
    /// Position, metres.
    pub position: Position,
    /// Parameters per band, indexed as [`BANDS`].
    pub bands: [BandParams; 3],
}

/// A per-link override (symmetric).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkOverride {
    /// Node indices.
    pub between: [usize; 2],
    /// Fixed SNR (20 MHz reference, dB) replacing path loss and fading; from `between[0]` to
    /// `between[1]`, and back unless `reverse_snr_db` is set.
    pub snr_db: Option<f64>,
    /// Fixed SNR from `between[1]` to `between[0]` when it differs (wmediumd's asymmetric
    /// links); only with `snr_db`.
    pub reverse_snr_db: Option<f64>,
    /// Loss added to the path loss, dB.
    pub extra_loss_db: f64,
    /// Probability that an attempt is lost regardless of SNR.
    pub loss_probability: f64,
    /// Draw the loss once per frame for all its attempts (wmediumd's `prob` model: a frame
    /// lost at its first attempt is lost at every retry) instead of once per attempt.
    pub loss_per_frame: bool,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Seed of every random draw.
    pub seed: u64,
    /// Which medium.
    pub model: ModelKind,
    /// Pacing.
    pub time_mode: TimeMode,
    /// Path loss model.
    pub path_loss: PathLossModel,
    /// Per-frame fading.
    pub fading: Fading,
    /// Where radios not listed as nodes are taken to be.
    pub default_position: Position,
    /// If set, links involving an unlisted radio have this fixed SNR instead.
    pub default_snr_db: Option<f64>,
    /// Parameters of unlisted radios, indexed as [`BANDS`].
    pub default_bands: [BandParams; 3],
    /// The nodes.
    pub nodes: Vec<Node>,
    /// Link overrides.
    pub links: Vec<LinkOverride>,
    /// The timeline (`[[event]]`), sorted by time.
    pub events: Vec<events::Event>,
}

/// Built-in per-band settings: 20 dBm (a typical client/AP conducted power, well inside the
/// regulatory EIRP limits of every band), 0 dBi, the model's default noise figure, and EHT up to
/// 2 streams at the band's widest channel.
fn builtin(band: Band) -> BandSettings {
    BandSettings {
        tx_power_dbm: Some(20.0),
        antenna_gain_dbi: Some(0.0),
        noise_figure_db: Some(DEFAULT_NOISE_FIGURE_DB),
        max_format: Some(PhyFormat::Eht),
        max_width: Some(band.max_width()),
        max_nss: Some(2),
        max_mcs: Some(13),
        gi: Some(GuardInterval::Gi0_8),
        coding: None,
        max_per: Some(0.1),
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::parse("").unwrap_or_else(|_| unreachable!("the empty config is valid"))
    }
}

impl Config {
    /// Reads and parses a file; errors carry the path.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Config::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses and validates a configuration text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let repr: FileRepr = toml::from_str(text).map_err(|e| ConfigError {
            line: e.span().map(|s| locate(text, s.start).0),
            column: e.span().map(|s| locate(text, s.start).1),
            message: explain(e.message().trim_end()),
        })?;
        // An empty span means the value was not written (a default) or has no position.
        let at = |span: Range<usize>, message: String| {
            let place = (!span.is_empty()).then(|| locate(text, span.start));
            ConfigError {
                line: place.map(|p| p.0),
                column: place.map(|p| p.1),
                message,
            }
        };
        let (time_mode, time_mode_span) = unspan(repr.time_mode);
        if time_mode == TimeMode::Airtime && repr.model == ModelKind::Perfect {
            return Err(at(
                time_mode_span,
                "time_mode = \"airtime\" needs model = \"radio\" (airtime, CCA and collisions \
                 come from the radio model)"
                    .into(),
            ));
        }
        let (path_loss, path_loss_span) = unspan(repr.path_loss);
        if let Err(e) = path_loss.validate() {
            return Err(at(path_loss_span, format!("path_loss: {e}")));
        }
        let (fading, fading_span) = unspan(repr.fading);
        match fading {
            Fading::Rician { rician_k_db: k } if !k.is_finite() => {
                return Err(at(fading_span, "rician_k_db must be finite".into()));
            }
            Fading::LogNormal {
                lognormal_sigma_db: s,
            } if !(s.is_finite() && s >= 0.0) => {
                return Err(at(fading_span, "lognormal_sigma_db must be ≥ 0".into()));
            }
            _ => {}
        }
        check_position(&repr.default_position)
            .map_err(|m| at(0..0, format!("default_position: {m}")))?;
        if let Some(s) = repr.default_snr_db {
            if !s.is_finite() {
                return Err(at(0..0, "default_snr_db must be finite".into()));
            }
        }

        let default_bands = resolve_node(&repr.defaults, &PerBand::default())
            .map_err(|m| at(0..0, format!("defaults: {m}")))?;
        let mut nodes = Vec::with_capacity(repr.node.len());
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut owners: HashMap<MacAddr, String> = HashMap::new();
        for n in &repr.node {
            let name = n.name.get_ref().clone();
            if name.is_empty() {
                return Err(at(n.name.span(), "node name must not be empty".into()));
            }
            if names.insert(name.clone(), nodes.len()).is_some() {
                return Err(at(n.name.span(), format!("duplicate node name `{name}`")));
            }
            let mut addresses = Vec::with_capacity(n.addresses.len());
            for a in &n.addresses {
                let addr = parse_mac(a.get_ref()).ok_or_else(|| {
                    at(
                        a.span(),
                        format!("`{}` is not a MAC address (aa:bb:cc:dd:ee:ff)", a.get_ref()),
                    )
                })?;
                if addr.is_group() {
                    return Err(at(
                        a.span(),
                        format!("{addr} is a group address; nodes answer to unicast addresses"),
                    ));
                }
                if let Some(other) = owners.insert(addr, name.clone()) {
                    return Err(at(
                        a.span(),
                        format!("address {addr} is listed for both `{other}` and `{name}`"),
                    ));
                }
                addresses.push(addr);
            }
            check_position(n.position.get_ref())
                .map_err(|m| at(n.position.span(), format!("node `{name}`: position: {m}")))?;
            let per_band = PerBand {
                band_2g4: n.band_2g4,
                band_5g: n.band_5g,
                band_6g: n.band_6g,
            };
            let bands = resolve_node(&repr.defaults, &per_band)
                .map_err(|m| at(n.name.span(), format!("node `{name}`: {m}")))?;
            nodes.push(Node {
                name,
                addresses,
                position: *n.position.get_ref(),
                bands,
            });
        }

        let mut links = Vec::with_capacity(repr.link.len());
        for l in &repr.link {
            let [a, b] = l.between.get_ref();
            let find = |n: &str| {
                names
                    .get(n)
                    .copied()
                    .ok_or_else(|| at(l.between.span(), format!("link names unknown node `{n}`")))
            };
            let (ia, ib) = (find(a)?, find(b)?);
            if ia == ib {
                return Err(at(l.between.span(), format!("link joins `{a}` to itself")));
            }
            if let Some(s) = l.snr_db {
                if !s.is_finite() {
                    return Err(at(l.between.span(), "snr_db must be finite".into()));
                }
            }
            match (l.snr_db, l.reverse_snr_db) {
                (_, Some(r)) if !r.is_finite() => {
                    return Err(at(l.between.span(), "reverse_snr_db must be finite".into()));
                }
                (None, Some(_)) => {
                    return Err(at(
                        l.between.span(),
                        "reverse_snr_db needs snr_db (the SNR the other way)".into(),
                    ));
                }
                _ => {}
            }
            if !(l.extra_loss_db.is_finite() && l.extra_loss_db >= 0.0) {
                return Err(at(l.between.span(), "extra_loss_db must be ≥ 0".into()));
            }
            let (p, p_span) = unspan(l.loss_probability.clone());
            if !(0.0..=1.0).contains(&p) {
                return Err(at(p_span, format!("loss_probability {p} is not in [0, 1]")));
            }
            if links
                .iter()
                .any(|o: &LinkOverride| o.between == [ia, ib] || o.between == [ib, ia])
            {
                return Err(at(
                    l.between.span(),
                    format!("a link between `{a}` and `{b}` is already configured"),
                ));
            }
            links.push(LinkOverride {
                between: [ia, ib],
                snr_db: l.snr_db,
                reverse_snr_db: l.reverse_snr_db,
                extra_loss_db: l.extra_loss_db,
                loss_probability: p,
                loss_per_frame: l.loss_per_frame,
            });
        }

        let events = events::resolve(&repr.event, &names, &at, &|offset| locate(text, offset).0)?;

        Ok(Config {
            seed: repr.seed,
            model: repr.model,
            time_mode,
            path_loss,
            fading: match fading {
                Fading::Named(FadingName::None) => Fading::Off,
                f => f,
            },
            default_position: repr.default_position,
            default_snr_db: repr.default_snr_db,
            default_bands,
            nodes,
            links,
            events,
        })
    }
}

fn resolve_node(defaults: &PerBand, node: &PerBand) -> Result<[BandParams; 3], String> {
    let mut out = [None; 3];
    for (i, band) in BANDS.into_iter().enumerate() {
        let s = builtin(band)
            .overlay(defaults.get(band))
            .overlay(node.get(band));
        out[i] = Some(finish(band, &s)?);
    }
    Ok(out.map(|b| b.unwrap_or_else(|| unreachable!("every band resolved"))))
}

/// The value (or its default) and where it was written (0..0 when absent).
fn unspan<T: Default>(v: Option<Spanned<T>>) -> (T, Range<usize>) {
    match v {
        Some(s) => {
            let span = s.span();
            (s.into_inner(), span)
        }
        None => (T::default(), 0..0),
    }
}

/// Checks a merged band table and turns it into parameters.
fn finish(band: Band, s: &BandSettings) -> Result<BandParams, String> {
    let get = |v: Option<f64>, what: &str| {
        v.filter(|x| x.is_finite())
            .ok_or_else(|| format!("{band}: {what} must be a finite number"))
    };
    let tx_power_dbm = get(s.tx_power_dbm, "tx_power_dbm")?;
    let antenna_gain_dbi = get(s.antenna_gain_dbi, "antenna_gain_dbi")?;
    let noise_figure_db = get(s.noise_figure_db, "noise_figure_db")?;
    if noise_figure_db < 0.0 {
        return Err(format!("{band}: noise_figure_db must be ≥ 0"));
    }
    let max_per = get(s.max_per, "max_per")?;
    if !(max_per > 0.0 && max_per < 1.0) {
        return Err(format!("{band}: max_per must be in (0, 1)"));
    }
    let max_format = s.max_format.unwrap_or(PhyFormat::Eht);
    if max_format == PhyFormat::Dsss {
        return Err(format!("{band}: max_format must be an OFDM format"));
    }
    let max_nss = s.max_nss.unwrap_or(1);
    if max_nss == 0 || max_nss > max_format.max_nss() {
        return Err(format!(
            "{band}: max_nss must be 1…{} for {max_format}",
            max_format.max_nss()
        ));
    }
    let max_width = s
        .max_width
        .unwrap_or(Width::W20)
        .min(band.max_width())
        .min(max_format.max_width());
    Ok(BandParams {
        tx_power_dbm,
        antenna_gain_dbi,
        noise_figure_db,
        caps: RateCaps {
            max_format,
            max_width,
            max_nss,
            max_mcs: s.max_mcs.unwrap_or(0).min(max_format.max_mcs()),
            gi: s.gi.unwrap_or(GuardInterval::Gi0_8),
            coding: s.coding,
            max_per,
        },
    })
}

fn check_position(p: &Position) -> Result<(), String> {
    if [p.x, p.y, p.z].iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err("coordinates must be finite numbers (metres)".into())
    }
}

/// Parses `aa:bb:cc:dd:ee:ff` (or with `-`).
pub fn parse_mac(s: &str) -> Option<MacAddr> {
    let mut out = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for b in &mut out {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(MacAddr(out))
}

/// Replaces serde's wording for the forms it cannot name.
fn explain(message: &str) -> String {
    if message.contains("PositionRepr") {
        "expected a position in metres: [x, y, z] or { x = …, y = …, z = … }".into()
    } else {
        message.to_string()
    }
}

/// 1-based (line, column in characters) of a byte offset.
fn locate(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

pub mod ap_links;
pub mod events;
#[cfg(test)]
mod tests;
pub mod wmediumd;
