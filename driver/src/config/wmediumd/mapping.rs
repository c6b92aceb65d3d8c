//! From a parsed wmediumd file to the medium TOML. Each section is checked against what
//! wmediumd reads of it; anything else is refused at its place with the reason.

use std::fmt::Write as _;

use hwsim_frame::MacAddr;

use super::libconfig::{self, Kind, Place, Setting, Value};
use crate::config::{parse_mac, ConfigError};

/// Most interfaces a file may list (the medium's link table is n² entries).
pub const MAX_IDS: usize = 1024;
/// Most interfaces when every pair is written out as a `[[link]]` (fixed SNRs, or a loss added
/// to every pair): n·(n − 1)/2 links, each checked against the others when the TOML is parsed.
pub const MAX_IDS_WITH_PAIRS: usize = 128;

/// wmediumd's SNR of every pair no link names (`SNR_DEFAULT`), dB.
pub const WMEDIUMD_DEFAULT_SNR_DB: f64 = 30.0;
/// wmediumd's noise level (`NOISE_LEVEL`), dBm.
pub const WMEDIUMD_NOISE_DBM: f64 = -91.0;
/// The thermal noise over 20 MHz the medium adds the noise figure to, dBm
/// (−174 dBm/Hz + 10·log10(20 MHz)).
fn thermal_noise_20mhz_dbm() -> f64 {
    -174.0 + 10.0 * 20e6_f64.log10()
}

fn refuse(at: Place, message: impl Into<String>) -> ConfigError {
    ConfigError {
        line: Some(at.line),
        column: Some(at.column),
        message: message.into(),
    }
}

fn get<'a>(group: &'a [Setting], name: &str) -> Option<&'a Setting> {
    group.iter().find(|s| s.name == name)
}

/// Refuses every setting of `group` not in `known` (wmediumd would skip it silently).
fn only(group: &[Setting], known: &[&str], section: &str) -> Result<(), ConfigError> {
    match group.iter().find(|s| !known.contains(&s.name.as_str())) {
        Some(s) => Err(refuse(
            s.at,
            format!(
                "wmediumd does not read `{section}{}` (it reads {}); refused rather than ignored",
                s.name,
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        None => Ok(()),
    }
}

fn as_group(s: &Setting) -> Result<&[Setting], ConfigError> {
    match &s.value.kind {
        Kind::Group(g) => Ok(g),
        k => Err(refuse(
            s.value.at,
            format!("`{}` must be a group {{ … }}, not {}", s.name, k.describe()),
        )),
    }
}

/// The elements of an array or list.
fn as_seq<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], ConfigError> {
    match &v.kind {
        Kind::Array(items) | Kind::List(items) => Ok(items),
        k => Err(refuse(
            v.at,
            format!(
                "{what} must be a list ( … ) or an array [ … ], not {}",
                k.describe()
            ),
        )),
    }
}

/// An integer where wmediumd reads one (libconfig, as wmediumd sets it up, does not convert a
/// float to an integer: it reads 0 or reports the setting missing).
fn int(v: &Value, what: &str) -> Result<i64, ConfigError> {
    match v.kind {
        Kind::Int(i) => Ok(i),
        Kind::Float(f) => Err(refuse(
            v.at,
            format!(
                "{what} is read by wmediumd as an integer and libconfig does not convert {f}: \
                 write an integer"
            ),
        )),
        ref k => Err(refuse(
            v.at,
            format!("{what} must be an integer, not {}", k.describe()),
        )),
    }
}

/// A float where wmediumd reads one (an integer there reads as 0.0 or as missing).
fn float(v: &Value, what: &str) -> Result<f64, ConfigError> {
    match v.kind {
        Kind::Float(f) => Ok(f),
        Kind::Int(i) => Err(refuse(
            v.at,
            format!(
                "{what} is read by wmediumd as a float and libconfig does not convert the \
                 integer {i} (wmediumd would read 0.0 or nothing): write {i}.0"
            ),
        )),
        ref k => Err(refuse(
            v.at,
            format!("{what} must be a float, not {}", k.describe()),
        )),
    }
}

fn string<'a>(v: &'a Value, what: &str) -> Result<&'a str, ConfigError> {
    match &v.kind {
        Kind::Str(s) => Ok(s),
        k => Err(refuse(
            v.at,
            format!("{what} must be a string, not {}", k.describe()),
        )),
    }
}

/// The path loss model a `path_loss` file names, in the medium's terms.
#[derive(Debug, Clone, Copy, PartialEq)]
enum PathLoss {
    FreeSpace,
    LogDistance { exponent: f64 },
}

/// What the air between stations is.
enum Air {
    /// A fixed SNR and loss probability per unordered pair (index i < j).
    Fixed(Vec<PairFixed>),
    /// Path loss from positions; `extra_loss_db` on every pair.
    PathLoss {
        model: PathLoss,
        extra_loss_db: f64,
        positions: Vec<[f64; 3]>,
        tx_powers: Vec<f64>,
        noise_dbm: f64,
    },
}

struct PairFixed {
    a: usize,
    b: usize,
    /// From `a` to `b`.
    snr_db: f64,
    /// From `b` to `a`, when it differs.
    reverse_snr_db: Option<f64>,
    /// `prob` links: drawn once per frame, as wmediumd does.
    loss_probability: Option<f64>,
}

/// Maps a wmediumd libconfig text to the equivalent medium TOML.
pub fn to_toml(text: &str) -> Result<String, ConfigError> {
    let top = libconfig::parse(text).map_err(|e| refuse(e.at, e.message))?;
    only(&top, &["ifaces", "model"], "")?;
    let end = Place {
        line: text.lines().count().max(1),
        column: 1,
    };
    let ifaces_setting = get(&top, "ifaces")
        .ok_or_else(|| refuse(end, "no `ifaces` group: wmediumd needs ifaces.ids"))?;
    let ifaces = as_group(ifaces_setting)?;
    only(
        ifaces,
        &["ids", "links", "enable_interference", "count"],
        "ifaces.",
    )?;
    let addresses = ids(ifaces, ifaces_setting.at)?;
    let n = addresses.len();
    if let Some(c) = get(ifaces, "count") {
        // Old files carry `count`; wmediumd no longer reads it, so it must at least agree.
        let count = int(&c.value, "ifaces.count")?;
        if count != n as i64 {
            return Err(refuse(
                c.value.at,
                format!("ifaces.count = {count} but ids lists {n} interfaces"),
            ));
        }
    }
    let airtime = match get(ifaces, "enable_interference") {
        Some(s) => match s.value.kind {
            Kind::Bool(b) => b,
            ref k => {
                return Err(refuse(
                    s.value.at,
                    format!(
                        "enable_interference must be a boolean, not {}",
                        k.describe()
                    ),
                ))
            }
        },
        None => false,
    };

    let model_setting = get(&top, "model");
    let model = model_setting.map(as_group).transpose()?.unwrap_or(&[]);
    let fading_sigma_db = fading(model)?;
    let air = if let Some(links) = get(ifaces, "links") {
        // wmediumd then reads no model type at all: only fading and the noise level.
        if let Some(s) = model
            .iter()
            .find(|s| !["fading_coefficient"].contains(&s.name.as_str()))
        {
            return Err(refuse(
                s.at,
                format!(
                    "wmediumd ignores model.{} when ifaces.links is given; remove one of them",
                    s.name
                ),
            ));
        }
        Air::Fixed(fixed_pairs(Some(links), n, false, None)?)
    } else {
        match model.iter().find(|s| s.name == "type") {
            None => {
                if let Some(s) = model.iter().find(|s| s.name != "fading_coefficient") {
                    return Err(refuse(
                        s.at,
                        format!(
                            "model.{} without model.type: wmediumd reads none of it",
                            s.name
                        ),
                    ));
                }
                Air::Fixed(fixed_pairs(None, n, false, None)?)
            }
            Some(t) => match string(&t.value, "model.type")? {
                "snr" => {
                    only(model, &["type", "links", "fading_coefficient"], "model.")?;
                    Air::Fixed(fixed_pairs(get(model, "links"), n, false, None)?)
                }
                "prob" => {
                    only(
                        model,
                        &["type", "links", "default_prob", "fading_coefficient"],
                        "model.",
                    )?;
                    let default = get(model, "default_prob")
                        .map(|s| probability(&s.value, "model.default_prob"))
                        .transpose()?;
                    Air::Fixed(fixed_pairs(get(model, "links"), n, true, default)?)
                }
                "path_loss" => path_loss(model, model_setting.map_or(end, |s| s.at), n)?,
                other => {
                    return Err(refuse(
                        t.value.at,
                        format!(
                            "model.type \"{other}\" is not one of wmediumd's: \"snr\", \"prob\", \
                             \"path_loss\""
                        ),
                    ))
                }
            },
        }
    };
    if let (Some(sigma), Air::Fixed(_)) = (fading_sigma_db, &air) {
        let at = get(model, "fading_coefficient").map_or(end, |s| s.value.at);
        return Err(refuse(
            at,
            format!(
                "fading_coefficient = {sigma} on fixed SNR links: here a fixed SNR replaces path \
                 loss and fading, so the fading cannot be kept; use type = \"path_loss\" or \
                 remove it"
            ),
        ));
    }
    let pairs_written = match &air {
        Air::Fixed(_) => true,
        Air::PathLoss { extra_loss_db, .. } => *extra_loss_db > 0.0,
    };
    if pairs_written && n > MAX_IDS_WITH_PAIRS {
        return Err(refuse(
            ifaces_setting.at,
            format!(
                "{n} interfaces with fixed SNRs or a loss on every pair: the medium would list \
                 all {} pairs; at most {MAX_IDS_WITH_PAIRS} interfaces here (a path loss model \
                 with xg = 0.0 has no such limit)",
                n * (n - 1) / 2
            ),
        ));
    }
    Ok(emit(&addresses, &air, fading_sigma_db, airtime))
}

fn ids(ifaces: &[Setting], at: Place) -> Result<Vec<MacAddr>, ConfigError> {
    let ids = get(ifaces, "ids").ok_or_else(|| refuse(at, "ifaces has no `ids`"))?;
    let items = as_seq(&ids.value, "ifaces.ids")?;
    if items.is_empty() {
        return Err(refuse(ids.value.at, "ifaces.ids lists no interface"));
    }
    if items.len() > MAX_IDS {
        return Err(refuse(
            ids.value.at,
            format!(
                "ifaces.ids lists {} interfaces; at most {MAX_IDS}",
                items.len()
            ),
        ));
    }
    let mut out: Vec<MacAddr> = Vec::with_capacity(items.len());
    for v in items {
        let s = string(v, "an interface id")?;
        let addr = parse_mac(s).ok_or_else(|| {
            refuse(
                v.at,
                format!("\"{s}\" is not a MAC address (aa:bb:cc:dd:ee:ff)"),
            )
        })?;
        if addr.is_group() {
            return Err(refuse(
                v.at,
                format!("{addr} is a group address; interfaces have unicast addresses"),
            ));
        }
        if let Some(i) = out.iter().position(|a| *a == addr) {
            return Err(refuse(
                v.at,
                format!("{addr} is listed twice (also as id {i})"),
            ));
        }
        out.push(addr);
    }
    Ok(out)
}

fn probability(v: &Value, what: &str) -> Result<f64, ConfigError> {
    let p = float(v, what)?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(refuse(v.at, format!("{what} {p} is not in [0, 1]")))
    }
}

/// `fading_coefficient`: wmediumd adds coefficient × a standard normal draw (dB) per frame.
fn fading(model: &[Setting]) -> Result<Option<f64>, ConfigError> {
    match get(model, "fading_coefficient") {
        None => Ok(None),
        Some(s) => {
            let c = int(&s.value, "model.fading_coefficient")?;
            // wmediumd turns fading on only for a positive coefficient.
            Ok((c > 0).then_some(c as f64))
        }
    }
}

/// Reads `(i, j, value)` links and fills every unordered pair: given values (one direction is
/// mirrored, as wmediumd does), else the default. `prob` links carry a loss probability at
/// wmediumd's default SNR.
fn fixed_pairs(
    links: Option<&Setting>,
    n: usize,
    prob: bool,
    default_prob: Option<f64>,
) -> Result<Vec<PairFixed>, ConfigError> {
    // Directed values with the place they were written.
    let mut given: Vec<Option<(f64, Place)>> = vec![None; n * n];
    let what = if prob {
        "a probability link (int, int, float)"
    } else {
        "an SNR link (int, int, int)"
    };
    for link in links.map_or(Ok(&[][..]), |s| as_seq(&s.value, "links"))? {
        let parts = as_seq(link, what)?;
        let [i, j, v] = parts else {
            return Err(refuse(
                link.at,
                format!("{what} has 3 elements, this one {}", parts.len()),
            ));
        };
        let index = |v: &Value| -> Result<usize, ConfigError> {
            let i = int(v, "a link's station index")?;
            usize::try_from(i).ok().filter(|&i| i < n).ok_or_else(|| {
                refuse(
                    v.at,
                    format!("station index {i} is out of range (ids lists {n})"),
                )
            })
        };
        let (a, b) = (index(i)?, index(j)?);
        if a == b {
            return Err(refuse(link.at, format!("link joins station {a} to itself")));
        }
        let value = if prob {
            probability(v, "a link's loss probability")?
        } else {
            int(v, "a link's SNR (dB)")? as f64
        };
        if let Some((_, first)) = given[a * n + b] {
            return Err(refuse(
                link.at,
                format!(
                    "link {a} → {b} is given twice (first at line {}); wmediumd would keep the last",
                    first.line
                ),
            ));
        }
        given[a * n + b] = Some((value, link.at));
    }
    let default = if prob {
        default_prob.unwrap_or(0.0)
    } else {
        WMEDIUMD_DEFAULT_SNR_DB
    };
    let mut pairs = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for a in 0..n {
        for b in a + 1..n {
            let (value, reverse) = match (given[a * n + b], given[b * n + a]) {
                (Some((x, _)), Some((y, at))) if x != y && prob => {
                    return Err(refuse(
                        at,
                        format!(
                            "asymmetric loss: {a} → {b} is {x}, {b} → {a} is {y}; a link's loss \
                             probability here is the same both ways, give both one value"
                        ),
                    ))
                }
                (Some((x, _)), Some((y, _))) if x != y => (x, Some(y)),
                (Some((x, _)), _) | (None, Some((x, _))) => (x, None),
                (None, None) => (default, None),
            };
            pairs.push(if prob {
                PairFixed {
                    a,
                    b,
                    snr_db: WMEDIUMD_DEFAULT_SNR_DB,
                    reverse_snr_db: None,
                    loss_probability: Some(value),
                }
            } else {
                PairFixed {
                    a,
                    b,
                    snr_db: value,
                    reverse_snr_db: reverse,
                    loss_probability: None,
                }
            });
        }
    }
    Ok(pairs)
}

/// `type = "path_loss"`: positions, tx powers and a named model.
fn path_loss(model: &[Setting], model_at: Place, n: usize) -> Result<Air, ConfigError> {
    const COMMON: &[&str] = &[
        "type",
        "positions",
        "directions",
        "tx_powers",
        "isnodeaps",
        "model_name",
        "fading_coefficient",
        "noise_threshold",
    ];
    let name_setting = get(model, "model_name")
        .ok_or_else(|| refuse(model_at, "type = \"path_loss\" needs model_name"))?;
    let name = string(&name_setting.value, "model.model_name")?;
    let (params, refused): (&[&str], Option<&str>) = match name {
        "log_distance" => (&["path_loss_exp", "xg"], None),
        "free_space" => (&["sL"], None),
        "itu" => (
            &["nFLOORS", "LF", "lF", "pL"],
            Some(
                "wmediumd's itu model (20·log10 of the frequency in Hz, N = 28 switching to 38 \
                 beyond 16 m, LF × nFLOORS) has no counterpart here: the medium's itu_p1238 takes \
                 N and the floor loss from the building type and counts floors from the \
                 positions; write the medium in TOML with path_loss = { model = \"itu_p1238\" }",
            ),
        ),
        "log_normal_shadowing" => (
            &["sL", "path_loss_exp"],
            Some(
                "log_normal_shadowing takes its shadowing term from mininet-wifi at run time \
                 (gRandom), not from this file, so its losses cannot be known here; use \
                 log_distance, or TOML's log_distance with shadowing_sigma_db",
            ),
        ),
        "two_ray_ground" => (
            &["sL"],
            Some(
                "wmediumd's two_ray_ground returns a linear power ratio where a loss in dB is \
                 expected (at a fixed 20 MHz), which no model here reproduces; use free_space or \
                 log_distance",
            ),
        ),
        other => {
            return Err(refuse(
                name_setting.value.at,
                format!(
                    "model_name \"{other}\" is not a wmediumd path loss model (log_distance, \
                     free_space, itu, log_normal_shadowing, two_ray_ground)"
                ),
            ))
        }
    };
    if let Some(reason) = refused {
        return Err(refuse(
            name_setting.value.at,
            format!("model_name \"{name}\" is refused: {reason}"),
        ));
    }
    let known: Vec<&str> = COMMON.iter().chain(params).copied().collect();
    only(model, &known, "model.")?;
    let need = |key: &str| {
        get(model, key)
            .ok_or_else(|| refuse(model_at, format!("model_name \"{name}\" needs model.{key}")))
    };
    let (pl, extra_loss_db) = match name {
        "log_distance" => {
            let e = need("path_loss_exp")?;
            let exponent = float(&e.value, "path_loss_exp")?;
            if exponent <= 0.0 {
                return Err(refuse(e.value.at, "path_loss_exp must be > 0"));
            }
            let xg = need("xg")?;
            let xg_db = float(&xg.value, "xg")?;
            if xg_db < 0.0 {
                return Err(refuse(
                    xg.value.at,
                    format!("xg = {xg_db}: a negative constant loss (a gain) cannot be added here"),
                ));
            }
            (PathLoss::LogDistance { exponent }, xg_db)
        }
        _ => {
            // free_space; the mininet-wifi fork multiplies the loss by a system loss factor sL.
            let extra = match get(model, "sL") {
                None => 0.0,
                Some(s) => {
                    let sl = int(&s.value, "sL")?;
                    if sl < 1 {
                        return Err(refuse(
                            s.value.at,
                            format!("sL = {sl}: the system loss factor must be ≥ 1"),
                        ));
                    }
                    10.0 * (sl as f64).log10()
                }
            };
            (PathLoss::FreeSpace, extra)
        }
    };

    let positions_s = need("positions")?;
    let items = counted(positions_s, n, "positions")?;
    let mut positions = Vec::with_capacity(n);
    for p in items {
        let xyz = as_seq(p, "a position")?;
        if !(2..=3).contains(&xyz.len()) {
            return Err(refuse(
                p.at,
                format!(
                    "a position has 2 (x, y) or 3 (x, y, z) coordinates, not {}",
                    xyz.len()
                ),
            ));
        }
        let mut out = [0.0; 3];
        for (o, v) in out.iter_mut().zip(xyz) {
            *o = float(v, "a coordinate")?;
        }
        positions.push(out);
    }
    if let Some(d) = get(model, "directions") {
        for v in counted(d, n, "directions")? {
            let dxy = as_seq(v, "a direction")?;
            let mut moving = dxy.len() != 2;
            for c in dxy {
                moving |= float(c, "a direction")? != 0.0;
            }
            if moving {
                return Err(refuse(
                    v.at,
                    "directions move stations every 3 s in wmediumd; movement is not modelled \
                     here (set positions over the control socket instead): only (0.0, 0.0) is \
                     accepted",
                ));
            }
        }
    }
    let tx = need("tx_powers")?;
    let mut tx_powers = Vec::with_capacity(n);
    for v in counted(tx, n, "tx_powers")? {
        tx_powers.push(float(v, "a tx power (dBm)")?);
    }
    if let Some(aps) = get(model, "isnodeaps") {
        // The mininet-wifi fork uses an AP's power in both directions of its links; with equal
        // powers that changes nothing, otherwise it cannot be expressed per transmitter.
        for v in counted(aps, n, "isnodeaps")? {
            if int(v, "an isnodeaps flag")? == 1 && tx_powers.iter().any(|p| *p != tx_powers[0]) {
                return Err(refuse(
                    v.at,
                    "isnodeaps makes an AP's tx power count in both directions; here each \
                     transmitter uses its own power, so this holds only with equal tx_powers",
                ));
            }
        }
    }
    let noise_dbm = match get(model, "noise_threshold") {
        None => WMEDIUMD_NOISE_DBM,
        Some(s) => {
            let v = int(&s.value, "noise_threshold")? as f64;
            if v >= 0.0 {
                return Err(refuse(
                    s.value.at,
                    "noise_threshold is a negative noise level in dBm (wmediumd ignores others)",
                ));
            }
            if v < thermal_noise_20mhz_dbm() {
                return Err(refuse(
                    s.value.at,
                    format!(
                        "noise_threshold {v} dBm is below the thermal noise over 20 MHz ({:.1} \
                         dBm)",
                        thermal_noise_20mhz_dbm()
                    ),
                ));
            }
            v
        }
    };
    Ok(Air::PathLoss {
        model: pl,
        extra_loss_db,
        positions,
        tx_powers,
        noise_dbm,
    })
}

/// The elements of a per-station list, which must have one per interface.
fn counted<'a>(s: &'a Setting, n: usize, what: &str) -> Result<&'a [Value], ConfigError> {
    let items = as_seq(&s.value, what)?;
    if items.len() != n {
        return Err(refuse(
            s.value.at,
            format!("{what} has {} entries; ifaces.ids lists {n}", items.len()),
        ));
    }
    Ok(items)
}

/// A float as TOML writes it (always with a `.` or an exponent, so it stays a float).
fn num(v: f64) -> String {
    format!("{v:?}")
}

fn emit(addresses: &[MacAddr], air: &Air, fading_sigma_db: Option<f64>, airtime: bool) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Converted from a wmediumd configuration by `vhost-hwsim convert` (docs/wmediumd.md)."
    );
    let _ = writeln!(t, "model = \"radio\"");
    let _ = writeln!(
        t,
        "time_mode = \"{}\"{}",
        if airtime { "airtime" } else { "instant" },
        if airtime {
            "   # ifaces.enable_interference: shared channels and collisions"
        } else {
            ""
        }
    );
    let noise_dbm = match air {
        Air::PathLoss {
            model, noise_dbm, ..
        } => {
            let _ = match model {
                PathLoss::FreeSpace => writeln!(t, "path_loss = {{ model = \"free_space\" }}"),
                PathLoss::LogDistance { exponent } => writeln!(
                    t,
                    "path_loss = {{ model = \"log_distance\", ref_distance_m = 1.0, exponent = {} }}",
                    num(*exponent)
                ),
            };
            *noise_dbm
        }
        Air::Fixed(_) => {
            let _ = writeln!(
                t,
                "# Every pair has a fixed SNR below (wmediumd's default is 30 dB): no path loss."
            );
            WMEDIUMD_NOISE_DBM
        }
    };
    if let Some(sigma) = fading_sigma_db {
        let _ = writeln!(
            t,
            "fading = {{ lognormal_sigma_db = {} }}   # fading_coefficient",
            num(sigma)
        );
    }
    let nf = noise_dbm - thermal_noise_20mhz_dbm();
    for band in ["2g4", "5g", "6g"] {
        let _ = writeln!(t, "\n[defaults.{band}]");
        let _ = writeln!(
            t,
            "noise_figure_db = {}   # noise floor {} dBm over 20 MHz, as wmediumd's",
            num(nf),
            noise_dbm
        );
    }
    let name = |i: usize| format!("sta{i}");
    for (i, addr) in addresses.iter().enumerate() {
        let _ = writeln!(t, "\n[[node]]\nname = \"{}\"", name(i));
        let _ = writeln!(t, "addresses = [\"{addr}\"]");
        match air {
            Air::PathLoss {
                positions,
                tx_powers,
                ..
            } => {
                let [x, y, z] = positions[i];
                let _ = writeln!(t, "position = [{}, {}, {}]", num(x), num(y), num(z));
                for band in ["2g4", "5g", "6g"] {
                    let _ = writeln!(t, "{band} = {{ tx_power_dbm = {} }}", num(tx_powers[i]));
                }
            }
            Air::Fixed(_) => {
                let _ = writeln!(t, "position = [0.0, 0.0, 0.0]");
            }
        }
    }
    match air {
        Air::Fixed(pairs) => {
            for p in pairs {
                let _ = write!(
                    t,
                    "\n[[link]]\nbetween = [\"{}\", \"{}\"]\nsnr_db = {}\n",
                    name(p.a),
                    name(p.b),
                    num(p.snr_db)
                );
                if let Some(r) = p.reverse_snr_db {
                    let _ = writeln!(
                        t,
                        "reverse_snr_db = {}   # {} → {}",
                        num(r),
                        name(p.b),
                        name(p.a)
                    );
                }
                if let Some(q) = p.loss_probability {
                    let _ = writeln!(t, "loss_probability = {}\nloss_per_frame = true", num(q));
                }
            }
        }
        Air::PathLoss { extra_loss_db, .. } if *extra_loss_db > 0.0 => {
            let n = addresses.len();
            for a in 0..n {
                for b in a + 1..n {
                    let _ = write!(
                        t,
                        "\n[[link]]\nbetween = [\"{}\", \"{}\"]\nextra_loss_db = {}   # xg / sL\n",
                        name(a),
                        name(b),
                        num(*extra_loss_db)
                    );
                }
            }
        }
        Air::PathLoss { .. } => {}
    }
    t
}
