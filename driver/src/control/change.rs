//! The changes an operator makes to the air while guests run — a link's impairments, a node's
//! position, a node's tx power — as the JSON control API receives them and as a medium
//! config's `[[event]]` timeline writes them. One type and one set of checks serve both, so a
//! value the API refuses is refused in a config too, with the same words.
//!
//! The checks here need nothing but the change itself; what needs the daemon (does the node
//! exist, is the medium in the airtime mode) is checked where the change is applied.

use serde::Deserialize;

use crate::config::{band_index, BANDS};
use crate::medium::impair::LinkBand;

/// Most attenuation a link may be given, dB (more is "down").
pub const MAX_ATTENUATION_DB: f64 = 200.0;

/// Longest added delay, µs (1 s).
pub const MAX_DELAY_US: u64 = 1_000_000;

/// Tx power range accepted, dBm.
pub const TX_POWER_RANGE_DBM: (f64, f64) = (-30.0, 40.0);

/// Largest coordinate accepted, m.
pub const MAX_COORDINATE_M: f64 = 1.0e6;

/// One change.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// `link`: impair a node's link on a band or frequency.
    Link(LinkChange),
    /// `set-position`: move a node of the radio model.
    Position(PositionChange),
    /// `set-tx-power`: a node's tx power on one band or all.
    TxPower(TxPowerChange),
}

/// What is done to one node's link; fields not given keep their value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkChange {
    /// A config node, `ap` or `vmN`.
    pub node: String,
    /// Band or frequency, as written.
    pub band: String,
    /// Extra attenuation, dB.
    #[serde(default)]
    pub attenuation_db: Option<f64>,
    /// Loss probability.
    #[serde(default)]
    pub loss_probability: Option<f64>,
    /// Added delay, µs.
    #[serde(default)]
    pub delay_us: Option<u64>,
    /// Down (true) or up (false).
    #[serde(default)]
    pub down: Option<bool>,
    /// Reset the link first.
    #[serde(default)]
    pub clear: bool,
}

impl LinkChange {
    /// The link's band, once every value given is in range.
    pub fn check(&self) -> Result<LinkBand, String> {
        let band = LinkBand::parse(&self.band)?;
        if let Some(a) = self.attenuation_db {
            if !(0.0..=MAX_ATTENUATION_DB).contains(&a) {
                return Err(format!(
                    "attenuation {a} dB is outside 0 ‥ {MAX_ATTENUATION_DB} dB (use down for a \
                     dead link)"
                ));
            }
        }
        if let Some(p) = self.loss_probability {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("loss probability {p} is outside 0 ‥ 1"));
            }
        }
        if let Some(d) = self.delay_us {
            if d > MAX_DELAY_US {
                return Err(format!("delay {d} µs is over {MAX_DELAY_US} µs"));
            }
        }
        Ok(band)
    }

    /// Only the attenuation of `node`'s link on `band` (a ramp's step).
    pub fn attenuation(node: &str, band: &str, db: f64) -> LinkChange {
        LinkChange {
            node: node.to_owned(),
            band: band.to_owned(),
            attenuation_db: Some(db),
            loss_probability: None,
            delay_us: None,
            down: None,
            clear: false,
        }
    }

    /// The node names a VM or the built-in AP MLD rather than a config node.
    pub fn names_a_connection(&self) -> bool {
        self.node == "ap"
            || self
                .node
                .strip_prefix("vm")
                .is_some_and(|n| n.parse::<u32>().is_ok())
    }
}

/// A node's new position.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionChange {
    /// A config node.
    pub node: String,
    /// Metres.
    pub position: [f64; 3],
}

impl PositionChange {
    /// Every coordinate is finite and within [`MAX_COORDINATE_M`].
    pub fn check(&self) -> Result<(), String> {
        if self
            .position
            .iter()
            .any(|c| !c.is_finite() || c.abs() > MAX_COORDINATE_M)
        {
            return Err(format!(
                "position {:?}: each coordinate must be a finite number of metres within \
                 ±{MAX_COORDINATE_M}",
                self.position
            ));
        }
        Ok(())
    }
}

/// A node's new tx power.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxPowerChange {
    /// A config node.
    pub node: String,
    /// A band as written (none: every band).
    #[serde(default)]
    pub band: Option<String>,
    /// dBm.
    pub dbm: f64,
}

impl TxPowerChange {
    /// The indices (into [`BANDS`]) of the bands it sets, once the power is in range.
    pub fn check(&self) -> Result<Vec<usize>, String> {
        let (lo, hi) = TX_POWER_RANGE_DBM;
        if !(lo..=hi).contains(&self.dbm) {
            return Err(format!(
                "tx power {} dBm is outside {lo} ‥ {hi} dBm",
                self.dbm
            ));
        }
        match self.band.as_deref().map(LinkBand::parse).transpose()? {
            None => Ok((0..BANDS.len()).collect()),
            Some(LinkBand::Band(b)) => Ok(vec![band_index(b)]),
            Some(LinkBand::Freq(_)) => {
                Err("tx power is set per band: give 2.4ghz, 5ghz or 6ghz".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(json: &str) -> Result<LinkBand, String> {
        serde_json::from_str::<LinkChange>(json)
            .map_err(|e| e.to_string())?
            .check()
    }

    #[test]
    fn link_values_out_of_range_are_refused_by_name() {
        assert!(link(r#"{"node":"a","band":"5ghz","attenuation_db":20}"#).is_ok());
        for (json, words) in [
            (
                r#"{"node":"a","band":"5ghz","attenuation_db":-1}"#,
                "attenuation -1 dB",
            ),
            (
                r#"{"node":"a","band":"5ghz","attenuation_db":201}"#,
                "attenuation 201 dB",
            ),
            (
                r#"{"node":"a","band":"5ghz","loss_probability":1.5}"#,
                "loss probability 1.5",
            ),
            (
                r#"{"node":"a","band":"5ghz","delay_us":1000001}"#,
                "delay 1000001 µs",
            ),
            (r#"{"node":"a","band":"7ghz"}"#, "band \"7ghz\""),
            (
                r#"{"node":"a","band":"5ghz","jitter":1}"#,
                "unknown field `jitter`",
            ),
        ] {
            let e = link(json).expect_err(json);
            assert!(e.contains(words), "{json}: {e}");
        }
    }

    #[test]
    fn positions_and_tx_powers_are_checked() {
        let at = |position| PositionChange {
            node: "a".into(),
            position,
        };
        assert!(at([1.0, -2.0, 3.0]).check().is_ok());
        assert!(at([f64::NAN, 0.0, 0.0]).check().is_err());
        assert!(at([0.0, 2.0e6, 0.0]).check().is_err());
        let power = |band: Option<&str>, dbm| TxPowerChange {
            node: "a".into(),
            band: band.map(str::to_owned),
            dbm,
        };
        assert_eq!(power(None, 20.0).check(), Ok((0..BANDS.len()).collect()));
        assert_eq!(power(Some("6ghz"), 20.0).check().map(|b| b.len()), Ok(1));
        assert!(power(Some("5180"), 20.0)
            .check()
            .unwrap_err()
            .contains("per band"));
        assert!(power(None, 41.0).check().unwrap_err().contains("outside"));
    }

    #[test]
    fn connections_are_named_ap_or_vm_and_a_number() {
        let named = |node: &str| LinkChange::attenuation(node, "5ghz", 1.0).names_a_connection();
        assert!(named("ap") && named("vm3"));
        assert!(!named("vmx") && !named("sta") && !named("vm"));
    }
}
