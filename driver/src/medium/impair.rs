//! Per-link impairments set at run time through the control API (`link NODE BAND …`): extra
//! attenuation, a loss probability, or the link down, for every frame one end of which is the
//! node's radio on that band (or frequency).
//!
//! They lie over whatever medium is in force (a reload keeps them) and are published as one
//! immutable [`Impairments`] snapshot that the data path loads once per frame, without a lock
//! and without allocating; a change takes effect from the next frame on.
//!
//! A node is named as the control API names it: a node of the medium config (its 802.11
//! addresses), the built-in AP MLD (its connection), or a VM by id. Attenuation reaches the
//! medium as [`super::Candidate::attenuation_db`]: the radio model takes it off the SNR (so
//! the rate and the packet error rate follow), the perfect medium only off the signal it
//! reports. Loss and down are decided here, before the medium is asked; an added delay holds
//! the deliveries in [`crate::switch::delay`] (the TX status is not delayed). In the airtime
//! time mode the medium clock's carrier sense and interference read the same snapshot
//! ([`Impairments::energy_attenuation_db`]), so an attenuated link is also sensed less.

use hwsim_frame::MacAddr;
use hwsim_radio::band::{band_of, Band};
use hwsim_radio::rng::RngKey;
use serde::Serialize;

use super::{Candidate, Transmission};
use crate::switch::{RadioKey, VmId};

/// The draw of an impairment's loss probability (distinct from the medium's own purposes).
const IMPAIRED_LOSS: u32 = 0x1_0004;

/// Which radios a node is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeMatch {
    /// Every radio of this connection (a VM, or the built-in AP MLD).
    Vm(VmId),
    /// Radios that send from or answer to one of these 802.11 (or wire) addresses.
    Addresses(Vec<MacAddr>),
}

/// Which frequencies a link is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkBand {
    /// A whole band.
    Band(#[serde(serialize_with = "band_name")] Band),
    /// One primary channel, MHz.
    Freq(u32),
}

fn band_name<S: serde::Serializer>(b: &Band, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(band_label(*b))
}

/// `2.4ghz`, `5ghz`, `6ghz`.
pub fn band_label(b: Band) -> &'static str {
    match b {
        Band::Band2G4 => "2.4ghz",
        Band::Band5G => "5ghz",
        Band::Band6G => "6ghz",
    }
}

impl LinkBand {
    /// `2.4ghz`/`2g4`/`2.4`, `5ghz`/`5g`/`5`, `6ghz`/`6g`/`6`, or a frequency in MHz.
    pub fn parse(text: &str) -> Result<LinkBand, String> {
        let t = text.trim().to_ascii_lowercase();
        match t.as_str() {
            "2.4ghz" | "2g4" | "2.4" | "2.4g" => return Ok(LinkBand::Band(Band::Band2G4)),
            "5ghz" | "5g" | "5" => return Ok(LinkBand::Band(Band::Band5G)),
            "6ghz" | "6g" | "6" => return Ok(LinkBand::Band(Band::Band6G)),
            _ => {}
        }
        match t.trim_end_matches("mhz").parse::<u32>() {
            Ok(f) if band_of(f).is_some() => Ok(LinkBand::Freq(f)),
            Ok(f) => Err(format!(
                "{f} MHz is in no Wi-Fi band (2400–2500, 4900–7125)"
            )),
            Err(_) => Err(format!(
                "band {text:?}: give 2.4ghz, 5ghz, 6ghz or a frequency in MHz"
            )),
        }
    }

    fn covers(&self, freq: u32) -> bool {
        match *self {
            LinkBand::Band(b) => band_of(freq) == Some(b),
            LinkBand::Freq(f) => f == freq,
        }
    }
}

/// What is done to one link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LinkEffect {
    /// Extra attenuation, dB (0 ‥ 200).
    pub attenuation_db: f64,
    /// Probability that a frame on the link is lost (0 ‥ 1).
    pub loss_probability: f64,
    /// Nothing gets through.
    pub down: bool,
    /// Added delay, µs: deliveries on the link wait this long (not in the airtime time mode).
    pub delay_us: u64,
}

impl LinkEffect {
    /// Nothing changed.
    pub fn is_clear(&self) -> bool {
        *self == LinkEffect::default()
    }
}

/// One impaired link: a node's radio on a band.
#[derive(Clone, Debug, Serialize)]
pub struct LinkImpairment {
    /// The node as the request named it.
    pub node: String,
    /// Band or frequency.
    pub band: LinkBand,
    /// The effect.
    #[serde(flatten)]
    pub effect: LinkEffect,
    #[serde(skip)]
    matches: NodeMatch,
}

impl LinkImpairment {
    /// An impairment of `node` (matching `matches`) on `band`.
    pub fn new(node: String, matches: NodeMatch, band: LinkBand, effect: LinkEffect) -> Self {
        LinkImpairment {
            node,
            band,
            effect,
            matches,
        }
    }

    /// Same node and band.
    pub fn same_link(&self, node: &str, band: LinkBand) -> bool {
        self.node == node && self.band == band
    }

    /// Whether `e` is one of this node's radios.
    fn is_endpoint(&self, e: &Endpoint) -> bool {
        match &self.matches {
            NodeMatch::Vm(vm) => e.radio.vm == *vm,
            NodeMatch::Addresses(a) => {
                a.contains(&e.radio.wire) || e.addr.is_some_and(|addr| a.contains(&addr))
            }
        }
    }
}

/// One end of a link as the impairments match it: the radio and, when known, the 802.11
/// address it sends from or answers to (an MLD link address, a vif address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The radio.
    pub radio: RadioKey,
    /// Its 802.11 address for this frame.
    pub addr: Option<MacAddr>,
}

impl Endpoint {
    /// The transmitting end of `tx`.
    pub fn transmitter(tx: &Transmission<'_>) -> Endpoint {
        Endpoint {
            radio: tx.from,
            addr: tx.sender,
        }
    }

    /// The receiving end of `rx`.
    pub fn receiver(rx: &Candidate) -> Endpoint {
        Endpoint {
            radio: rx.radio,
            addr: rx.rx_addr,
        }
    }
}

/// What the impairments decide for one (frame, receiver).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// Lost to an impairment (link down or its loss draw).
    Lost,
    /// Ask the medium, with this much extra attenuation (dB).
    Judge {
        /// Sum of the attenuations of both ends' links.
        attenuation_db: f64,
        /// Sum of their added delays, µs.
        delay_us: u64,
    },
}

/// The impairments in force: an immutable snapshot, replaced whole on every change.
#[derive(Clone, Debug, Default)]
pub struct Impairments {
    /// Seed of the loss draws (the daemon's; draws depend on transmitter, frame counter and
    /// receiver only, never on thread timing).
    pub seed: u64,
    /// The impaired links.
    pub links: Vec<LinkImpairment>,
}

impl Impairments {
    /// The fate of `tx` at `rx`. No allocation; nothing to do when no link is impaired.
    pub fn judge(&self, tx: &Transmission<'_>, rx: &Candidate) -> Verdict {
        let (mut attenuation_db, mut delay_us) = (0.0, 0u64);
        let (from, to) = (Endpoint::transmitter(tx), Endpoint::receiver(rx));
        for l in self.links.iter().filter(|l| l.band.covers(tx.freq)) {
            if !(l.is_endpoint(&from) || l.is_endpoint(&to)) {
                continue;
            }
            let e = &l.effect;
            if e.down {
                return Verdict::Lost;
            }
            if e.loss_probability > 0.0 {
                let tx_id = super::model::radio_id(tx.from);
                let rx_id = super::model::radio_id(rx.radio);
                let draw = RngKey::new(self.seed, tx_id, tx.seq, IMPAIRED_LOSS).uniform(rx_id);
                if draw < e.loss_probability {
                    return Verdict::Lost;
                }
            }
            attenuation_db += e.attenuation_db;
            delay_us = delay_us.saturating_add(e.delay_us);
        }
        Verdict::Judge {
            attenuation_db,
            delay_us,
        }
    }

    /// The extra attenuation (dB) of the energy `from` radiates at `to` on `freq`, as carrier
    /// sense and interference feel it in the airtime time mode: the attenuations of the links
    /// either end is on add up, as for a frame. `None` when one of those links is down:
    /// nothing of it reaches the other end. Loss probabilities are drawn per frame and leave
    /// the energy as it is.
    pub fn energy_attenuation_db(&self, from: &Endpoint, to: &Endpoint, freq: u32) -> Option<f64> {
        let mut db = 0.0;
        for l in self.links.iter().filter(|l| l.band.covers(freq)) {
            if !(l.is_endpoint(from) || l.is_endpoint(to)) {
                continue;
            }
            if l.effect.down {
                return None;
            }
            db += l.effect.attenuation_db;
        }
        Some(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hwsim_frame::nl::TxRate;

    fn key(vm: u32, last: u8) -> RadioKey {
        RadioKey {
            vm,
            wire: MacAddr([0x42, 0, 0, 0, 0, last]),
        }
    }

    fn tx(from: RadioKey, seq: u64, freq: u32) -> Transmission<'static> {
        Transmission {
            from,
            seq,
            freq,
            frame: &[],
            receiver: MacAddr([2, 0, 0, 0, 0, 9]),
            sender: Some(MacAddr([2, 0, 0, 0, 0, from.wire.0[5]])),
            group: false,
            flags: 0,
            rates: [TxRate { idx: 0, count: 1 }; 4],
        }
    }

    fn rx(radio: RadioKey) -> Candidate {
        Candidate {
            radio,
            addressed: true,
            on_channel: true,
            rx_addr: Some(MacAddr([2, 0, 0, 0, 0, 9])),
            attenuation_db: 0.0,
        }
    }

    fn one(matches: NodeMatch, band: LinkBand, effect: LinkEffect) -> Impairments {
        Impairments {
            seed: 7,
            links: vec![LinkImpairment::new("n".into(), matches, band, effect)],
        }
    }

    #[test]
    fn a_down_link_loses_only_frames_on_its_band_either_way() {
        let imp = one(
            NodeMatch::Vm(1),
            LinkBand::parse("6ghz").unwrap(),
            LinkEffect {
                down: true,
                ..LinkEffect::default()
            },
        );
        assert_eq!(
            imp.judge(&tx(key(1, 1), 1, 5955), &rx(key(2, 2))),
            Verdict::Lost
        );
        assert_eq!(
            imp.judge(&tx(key(2, 2), 1, 5955), &rx(key(1, 1))),
            Verdict::Lost
        );
        let other_band = imp.judge(&tx(key(1, 1), 1, 5180), &rx(key(2, 2)));
        assert_eq!(
            other_band,
            Verdict::Judge {
                attenuation_db: 0.0,
                delay_us: 0
            }
        );
        let other_vms = imp.judge(&tx(key(3, 3), 1, 5955), &rx(key(2, 2)));
        assert_eq!(
            other_vms,
            Verdict::Judge {
                attenuation_db: 0.0,
                delay_us: 0
            }
        );
    }

    #[test]
    fn loss_probability_is_drawn_per_frame_deterministically() {
        let imp = one(
            NodeMatch::Addresses(vec![MacAddr([2, 0, 0, 0, 0, 9])]),
            LinkBand::Freq(5180),
            LinkEffect {
                loss_probability: 0.3,
                ..LinkEffect::default()
            },
        );
        let lost = |seq| imp.judge(&tx(key(1, 1), seq, 5180), &rx(key(2, 2))) == Verdict::Lost;
        let n = (1..=10_000).filter(|&s| lost(s)).count();
        assert!((2700..3300).contains(&n), "{n} of 10000 lost at p = 0.3");
        assert!((1..=100).all(|s| lost(s) == lost(s)));
        assert_eq!(
            imp.judge(&tx(key(1, 1), 1, 5200), &rx(key(2, 2))),
            Verdict::Judge {
                attenuation_db: 0.0,
                delay_us: 0
            },
            "another channel of the band"
        );
    }

    #[test]
    fn attenuations_of_both_ends_add_up() {
        let mut imp = one(
            NodeMatch::Vm(1),
            LinkBand::Band(Band::Band5G),
            LinkEffect {
                attenuation_db: 10.0,
                ..LinkEffect::default()
            },
        );
        imp.links.push(LinkImpairment::new(
            "m".into(),
            NodeMatch::Vm(2),
            LinkBand::Band(Band::Band5G),
            LinkEffect {
                attenuation_db: 5.0,
                ..LinkEffect::default()
            },
        ));
        let v = imp.judge(&tx(key(1, 1), 1, 5180), &rx(key(2, 2)));
        assert_eq!(
            v,
            Verdict::Judge {
                attenuation_db: 15.0,
                delay_us: 0
            }
        );
    }

    #[test]
    fn energy_meets_the_same_attenuation_as_frames_and_none_through_a_downed_link() {
        let mut imp = one(
            NodeMatch::Vm(1),
            LinkBand::Band(Band::Band5G),
            LinkEffect {
                attenuation_db: 10.0,
                loss_probability: 0.5,
                ..LinkEffect::default()
            },
        );
        let end = |k: RadioKey| Endpoint {
            radio: k,
            addr: None,
        };
        let (a, b, c) = (end(key(1, 1)), end(key(2, 2)), end(key(3, 3)));
        assert_eq!(imp.energy_attenuation_db(&a, &b, 5180), Some(10.0));
        assert_eq!(imp.energy_attenuation_db(&b, &a, 5180), Some(10.0));
        assert_eq!(imp.energy_attenuation_db(&b, &c, 5180), Some(0.0));
        assert_eq!(imp.energy_attenuation_db(&a, &b, 2412), Some(0.0));
        imp.links.push(LinkImpairment::new(
            "by address".into(),
            NodeMatch::Addresses(vec![MacAddr([2, 0, 0, 0, 0, 3])]),
            LinkBand::Freq(5180),
            LinkEffect {
                down: true,
                ..LinkEffect::default()
            },
        ));
        let c_addressed = Endpoint {
            addr: Some(MacAddr([2, 0, 0, 0, 0, 3])),
            ..c
        };
        assert_eq!(imp.energy_attenuation_db(&b, &c_addressed, 5180), None);
        assert_eq!(imp.energy_attenuation_db(&c_addressed, &a, 5180), None);
        assert_eq!(imp.energy_attenuation_db(&b, &c_addressed, 5200), Some(0.0));
    }

    #[test]
    fn bands_parse_by_name_or_frequency() {
        assert_eq!(LinkBand::parse("2.4GHz"), Ok(LinkBand::Band(Band::Band2G4)));
        assert_eq!(LinkBand::parse("5955"), Ok(LinkBand::Freq(5955)));
        assert!(LinkBand::parse("3000").is_err());
        assert!(LinkBand::parse("7ghz").is_err());
    }
}
