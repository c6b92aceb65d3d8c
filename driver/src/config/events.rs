//! `[[event]]`: a timeline of the same changes the control API makes, at times counted from
//! when the config is put in force (daemon start or reload).
//!
//! ```toml
//! [[event]]
//! at = "2s"                                   # "1500ms", "2.5s" or a number of seconds
//! link = { node = "sta", band = "6ghz", attenuation_db = 40 }
//! ramp = "3s"                                 # optional: attenuation goes there linearly
//!
//! [[event]]
//! at = "8s"
//! link = { node = "sta", band = "6ghz", clear = true }
//!
//! [[event]]
//! at = "10s"
//! position = { node = "sta", position = [5, 0, 0] }
//!
//! [[event]]
//! at = "12s"
//! tx_power = { node = "ap", band = "5ghz", dbm = 10 }
//! ```
//!
//! Each event holds exactly one of `link`, `position`, `tx_power`, whose fields are the control
//! API's (docs/control-api.md). A ramp (link attenuation only) starts from the link's
//! attenuation at `at` and reaches the event's at `at + ramp`. Errors name line and column.
//!
//! `after = "association"` counts an event's `at` from the first successful (re)association
//! the medium carries after the config is put in force, instead of from that moment: a
//! scenario whose guests boot slower on a busy machine keeps its timing relative to them.
//!
//! ```toml
//! [[event]]
//! after = "association"
//! at = "3s"                                   # 3 s after the first association
//! link = { node = "ap", band = "6ghz", down = true }
//! ```

use std::collections::HashMap;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::control::change::{Change, LinkChange, PositionChange, TxPowerChange};

/// Longest time an event may be scheduled at or ramp over (a day).
const MAX_TIME: Duration = Duration::from_secs(86_400);

/// An `[[event]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventRepr {
    at: Spanned<toml::Value>,
    #[serde(default)]
    after: Option<Spanned<String>>,
    #[serde(default)]
    ramp: Option<Spanned<toml::Value>>,
    #[serde(default)]
    link: Option<Spanned<LinkChange>>,
    #[serde(default)]
    position: Option<Spanned<PositionChange>>,
    #[serde(default)]
    tx_power: Option<Spanned<TxPowerChange>>,
}

/// What an event's `at` counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Anchor {
    /// The moment the config is put in force (daemon start or reload).
    #[default]
    InForce,
    /// The first successful (re)association response the medium carries after that.
    FirstAssociation,
}

/// One scheduled change.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When, from [`Event::after`].
    pub at: Duration,
    /// What `at` counts from.
    pub after: Anchor,
    /// Link attenuation only: reach the event's value over this long, linearly.
    pub ramp: Option<Duration>,
    /// What changes (as the control API's `link`, `set-position`, `set-tx-power` would).
    pub action: Change,
    /// The line of the file the event's `at` is on (for logs).
    pub line: usize,
}

/// Checks the events against the config's node names; sorted by time (stable).
pub(super) fn resolve(
    repr: &[EventRepr],
    names: &HashMap<String, usize>,
    at: &dyn Fn(Range<usize>, String) -> super::ConfigError,
    line_of: &dyn Fn(usize) -> usize,
) -> Result<Vec<Event>, super::ConfigError> {
    let mut out = Vec::with_capacity(repr.len());
    for e in repr {
        let when = time(&e.at).map_err(|m| at(e.at.span(), format!("event at: {m}")))?;
        let ramp = e
            .ramp
            .as_ref()
            .map(|r| time(r).map_err(|m| at(r.span(), format!("event ramp: {m}"))))
            .transpose()?;
        let after = match e.after.as_ref() {
            None => Anchor::InForce,
            Some(a) => match a.get_ref().as_str() {
                "start" => Anchor::InForce,
                "association" => Anchor::FirstAssociation,
                other => {
                    return Err(at(
                        a.span(),
                        format!("event after {other:?}: give \"start\" or \"association\""),
                    ))
                }
            },
        };
        let whole = e.at.span();
        let config_node = |node: &str, span: Range<usize>| {
            if names.contains_key(node) {
                Ok(())
            } else {
                let mut known: Vec<&str> = names.keys().map(String::as_str).collect();
                known.sort_unstable();
                Err(at(
                    span,
                    format!(
                        "event names unknown node `{node}` (the config's nodes: {})",
                        known.join(", ")
                    ),
                ))
            }
        };
        let action = match (&e.link, &e.position, &e.tx_power) {
            (Some(l), None, None) => {
                let span = l.span();
                let l = l.get_ref();
                if !l.names_a_connection() {
                    config_node(&l.node, span.clone())?;
                }
                l.check().map_err(|m| at(span.clone(), m))?;
                if ramp.is_some() && l.attenuation_db.is_none() {
                    return Err(at(
                        span,
                        "a ramp needs attenuation_db (only attenuation ramps)".into(),
                    ));
                }
                Change::Link(l.clone())
            }
            (None, Some(p), None) => {
                let span = p.span();
                let p = p.get_ref();
                config_node(&p.node, span.clone())?;
                p.check().map_err(|m| at(span, m))?;
                Change::Position(p.clone())
            }
            (None, None, Some(t)) => {
                let span = t.span();
                let t = t.get_ref();
                config_node(&t.node, span.clone())?;
                t.check().map_err(|m| at(span, m))?;
                Change::TxPower(t.clone())
            }
            _ => {
                return Err(at(
                    whole,
                    "an event holds exactly one of link, position, tx_power".into(),
                ))
            }
        };
        if ramp.is_some() && !matches!(action, Change::Link(_)) {
            return Err(at(whole, "only link attenuation ramps".into()));
        }
        out.push(Event {
            at: when,
            after,
            ramp,
            action,
            line: line_of(e.at.span().start),
        });
    }
    out.sort_by_key(|e| (e.after == Anchor::FirstAssociation, e.at));
    Ok(out)
}

/// `"2s"`, `"1500ms"`, `"2.5s"`, or a number of seconds.
fn time(v: &Spanned<toml::Value>) -> Result<Duration, String> {
    let seconds = match v.get_ref() {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        toml::Value::String(s) => {
            let s = s.trim();
            let (number, scale) = if let Some(ms) = s.strip_suffix("ms") {
                (ms, 1e-3)
            } else if let Some(sec) = s.strip_suffix('s') {
                (sec, 1.0)
            } else {
                return Err(format!("{s:?}: give a time such as \"2s\" or \"1500ms\""));
            };
            number
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("{s:?}: give a time such as \"2s\" or \"1500ms\""))?
                * scale
        }
        other => return Err(format!("{other}: give a time such as \"2s\" or \"1500ms\"")),
    };
    if !(seconds.is_finite() && seconds >= 0.0) || seconds > MAX_TIME.as_secs_f64() {
        return Err(format!("{seconds} s is not a time from 0 to a day"));
    }
    Ok(Duration::from_secs_f64(seconds))
}
