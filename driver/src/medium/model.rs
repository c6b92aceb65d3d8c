//! The radio medium (`model = "radio"`, `instant` time mode): every receiver's fate follows from
//! path loss between the nodes' positions at the transmission's frequency, per-frame fading, the
//! receiver's noise floor and the packet error rate of the rate a good link adaptation would use.
//!
//! Per frame and receiver:
//! 1. Nodes are found by 802.11 address: the transmitter by `Transmission::sender`, the receiver
//!    by `Candidate::rx_addr`; failing that by the radio's wire address. Radios that match no
//!    node are *unlisted*: they sit at the config's `default_position` with the default band
//!    parameters, or, if `default_snr_db` is set, every link touching one has that fixed SNR.
//!    Unlisted radios thus keep working (hwsim guests come up before anyone writes a config
//!    entry for them) without making up a distance.
//! 2. Median SNR over 20 MHz = tx power + both antenna gains − path loss − static shadowing −
//!    extra link loss − noise floor (−174 dBm/Hz + 73 dB + noise figure). A link's fixed
//!    `snr_db` replaces all of it (and fading), as in wmediumd.
//! 3. Fading (if configured) is drawn per (seed, transmitting radio, its frame counter,
//!    receiving radio): the same frame always meets the same fate, whatever the threads do.
//! 4. Unicast: the rate is synthesised from the median SNR (rate control follows the average
//!    link, fading causes the losses), then the guest's retry chain is walked attempt by attempt
//!    with an independent delivery draw each; the frame arrives at the first attempt whose draw
//!    beats the PER (and the link's `loss_probability`). Group-addressed frames get one attempt
//!    at the band's most robust legacy rate (1 Mb/s DSSS on 2.4 GHz, 6 Mb/s OFDM elsewhere).
//!
//! In the `airtime` time mode the same decisions are made against noise, and the medium also
//! serves as the [`AirModel`]: the plan of each transmission (synthesised vectors per retry
//! chain entry, access category) and the received powers and noise floors the medium clock
//! needs for CCA and SINR (see `super::airtime`).
//!
//! # What the two ends advertised
//! Rates are bounded by the config (each node's band `caps`) and, once the MLD tracker has seen
//! them, by what both ends of the pair advertised in their HT/VHT/HE/EHT Capabilities and, for
//! the AP, its Operation elements (streams, top MCS, channel width, LDPC; see
//! [`hwsim_radio::peer`]): [`Medium::learn_peer_caps`] tabulates the rates of every AP ↔ STA
//! pair of the same band off the data path and publishes them as one immutable snapshot, which
//! the data path reads without a lock. Airtime uses the receiver's advertised nominal packet
//! padding.
//!
//! # Frames at the basic rate
//! Management and control frames and EAPOL (see [`super::sent_at_basic_rate`]) go out in a
//! non-HT PPDU at the lowest basic rate of the BSS (from the AP's Supported Rates once known,
//! else the band's: 1 Mb/s DSSS on 2.4 GHz, 6 Mb/s OFDM elsewhere), every attempt.
//!
//! Nothing here allocates per frame: nodes, links (a dense matrix) and rate tables are built at
//! start-up or by `learn_peer_caps`.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use hwsim_frame::MacAddr;
use hwsim_radio::adapt::{select_rate, RateCaps, Selection};
use hwsim_radio::airtime::NominalPadding;
use hwsim_radio::band::{band_of, Band};
use hwsim_radio::noise::{noise_floor_dbm, snr_at_width};
use hwsim_radio::pathloss::{rx_power_dbm, PathLossModel, Position};
use hwsim_radio::peer::PeerCaps;
use hwsim_radio::per::per;
use hwsim_radio::rates::{PhyFormat, TxVector};
use hwsim_radio::rng::{purpose, RngKey};

use super::airtime::{access_category, block_ack_bitmap, AirModel, AirPlan, ChainEntry};
use super::impair::Endpoint;
use super::rate_table::{RateTable, REFERENCE_PSDU_LEN};
use super::{
    fill_retry_chain, legacy_rate_index, sent_at_basic_rate, Candidate, Medium, Reception,
    Transmission, TxStatus,
};
use crate::config::{band_index, BandParams, Config, Fading, FadingName, TimeMode, BANDS};
use crate::switch::RadioKey;
use learned::{Learned, PairRates, RateSource};

/// Most attempts walked per frame: the retry chain's counts are guest-controlled (4 × 255), and
/// the attempt number must fit the `u8` mac80211 reports.
const MAX_ATTEMPTS: u32 = u8::MAX as u32;

/// SNR margin (dB) each later retry-chain entry adds when choosing its rate.
const FALLBACK_MARGIN_DB: f64 = 3.0;

/// 802.11 FCS, part of the PSDU but not of the frame the guest hands us.
pub(crate) const FCS_LEN: u32 = 4;

/// Signal range reported to guests (mac80211 keeps it in an `s8`).
const SIGNAL_RANGE_DBM: (f64, f64) = (-127.0, 30.0);

/// A node as the medium uses it.
struct NodeState {
    name: String,
    position: Position,
    bands: [BandParams; 3],
    /// Noise over 20 MHz, dBm, per band.
    noise_floor_dbm: [f64; 3],
}

/// A directed link (transmitter row, receiver column).
#[derive(Clone, Copy)]
struct Link {
    fixed_snr_db: Option<f64>,
    /// Extra loss plus static shadowing, dB.
    static_loss_db: f64,
    loss_probability: f64,
    /// One loss draw for all attempts of a frame (else one per attempt).
    loss_per_frame: bool,
    /// Index into `RadioMedium::tables` per band.
    table: [usize; 3],
}

/// The link budget of one directed link at one frequency, without fading.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkBudget {
    /// 3-D distance, m.
    pub distance_m: f64,
    /// Path loss including shadowing and the link's extra loss, dB.
    pub path_loss_db: f64,
    /// Received signal, dBm.
    pub signal_dbm: f64,
    /// SNR over 20 MHz, dB.
    pub snr_db: f64,
    /// The caps of the link (lesser of both ends).
    pub caps: RateCaps,
}

/// The radio medium.
pub struct RadioMedium {
    seed: u64,
    time_mode: TimeMode,
    path_loss: PathLossModel,
    fading: Fading,
    /// Configured nodes, then one entry standing for every unlisted radio.
    nodes: Vec<NodeState>,
    by_addr: HashMap<MacAddr, usize>,
    /// `nodes.len()²` links, row = transmitter.
    links: Vec<Link>,
    tables: Vec<RateTable>,
    learned: ArcSwap<Learned>,
}

impl RadioMedium {
    /// Builds the medium from a validated config (tabulates rates: a few ms).
    pub fn new(cfg: &Config) -> RadioMedium {
        let mut nodes: Vec<NodeState> = cfg
            .nodes
            .iter()
            .map(|n| NodeState::new(n.name.clone(), n.position, n.bands))
            .collect();
        nodes.push(NodeState::new(
            "(unlisted)".into(),
            cfg.default_position,
            cfg.default_bands,
        ));
        let unlisted = nodes.len() - 1;
        let by_addr = cfg
            .nodes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| n.addresses.iter().map(move |a| (*a, i)))
            .collect();

        let n = nodes.len();
        let sigma = cfg.path_loss.shadowing_sigma_db();
        let mut tables: Vec<RateTable> = Vec::new();
        let mut links = Vec::with_capacity(n * n);
        for t in 0..n {
            for r in 0..n {
                let over = cfg
                    .links
                    .iter()
                    .find(|l| l.between == [t, r] || l.between == [r, t]);
                // Static, reciprocal shadowing: keyed by the unordered pair, frame 0.
                let (lo, hi) = (t.min(r) as u64, t.max(r) as u64);
                let shadow = sigma * RngKey::new(cfg.seed, lo, 0, purpose::SHADOWING).gaussian(hi);
                let mut table = [0; 3];
                for (b, band) in BANDS.into_iter().enumerate() {
                    let caps = link_caps(band, &nodes[t].bands[b].caps, &nodes[r].bands[b].caps);
                    table[b] = match tables.iter().position(|x| *x.caps() == caps) {
                        Some(i) => i,
                        None => {
                            tables.push(RateTable::new(caps));
                            tables.len() - 1
                        }
                    };
                }
                let default_snr = (t == unlisted || r == unlisted)
                    .then_some(cfg.default_snr_db)
                    .flatten();
                // An override written the other way round gives its reverse SNR, if any.
                let reverse = over.is_some_and(|l| l.between == [r, t]);
                let fixed = over.and_then(|l| {
                    if reverse {
                        l.reverse_snr_db.or(l.snr_db)
                    } else {
                        l.snr_db
                    }
                });
                links.push(Link {
                    fixed_snr_db: fixed.or(default_snr),
                    static_loss_db: shadow + over.map_or(0.0, |l| l.extra_loss_db),
                    loss_probability: over.map_or(0.0, |l| l.loss_probability),
                    loss_per_frame: over.is_some_and(|l| l.loss_per_frame),
                    table,
                });
            }
        }
        RadioMedium {
            seed: cfg.seed,
            time_mode: cfg.time_mode,
            path_loss: cfg.path_loss,
            fading: cfg.fading,
            nodes,
            by_addr,
            links,
            tables,
            learned: ArcSwap::from_pointee(Learned::default()),
        }
    }

    /// Number of configured nodes (the unlisted entry excluded).
    pub fn node_count(&self) -> usize {
        self.nodes.len() - 1
    }

    /// A node's name.
    pub fn node_name(&self, node: usize) -> &str {
        self.nodes.get(node).map_or("?", |n| n.name.as_str())
    }

    /// The node a radio is: by its 802.11 address, else its wire address, else unlisted.
    pub fn node_of(&self, addr: Option<MacAddr>, wire: MacAddr) -> usize {
        addr.and_then(|a| self.by_addr.get(&a))
            .or_else(|| self.by_addr.get(&wire))
            .copied()
            .unwrap_or(self.nodes.len() - 1)
    }

    /// The median link budget from node `tx` to node `rx` at `freq` MHz. Indices out of range
    /// stand for unlisted radios.
    pub fn link_budget(&self, tx: usize, rx: usize, freq: u32) -> LinkBudget {
        let last = self.nodes.len() - 1;
        let (t, r) = (tx.min(last), rx.min(last));
        let (band, freq_mhz) = band_for(freq);
        let b = band_index(band);
        let link = &self.links[t * self.nodes.len() + r];
        let (tn, rn) = (&self.nodes[t], &self.nodes[r]);
        let distance_m = tn.position.distance(&rn.position);
        let noise = rn.noise_floor_dbm[b];
        let (path_loss_db, signal_dbm, snr_db) = match link.fixed_snr_db {
            Some(snr) => {
                let signal = noise + snr;
                let loss = tn.bands[b].tx_power_dbm
                    + tn.bands[b].antenna_gain_dbi
                    + rn.bands[b].antenna_gain_dbi
                    - signal;
                (loss, signal, snr)
            }
            None => {
                let loss = self
                    .path_loss
                    .median_loss_db(tn.position, rn.position, freq_mhz)
                    + link.static_loss_db;
                let signal = rx_power_dbm(
                    tn.bands[b].tx_power_dbm,
                    tn.bands[b].antenna_gain_dbi,
                    rn.bands[b].antenna_gain_dbi,
                    loss,
                    0.0,
                );
                (loss, signal, signal - noise)
            }
        };
        LinkBudget {
            distance_m,
            path_loss_db,
            signal_dbm,
            snr_db,
            caps: *self.tables[link.table[b]].caps(),
        }
    }

    /// The link between nodes `t` and `r` (indices out of range stand for unlisted radios).
    fn link(&self, t: usize, r: usize) -> &Link {
        let last = self.nodes.len() - 1;
        &self.links[t.min(last) * self.nodes.len() + r.min(last)]
    }

    /// Calls `f` with the rates of `tx` → `rx` (802.11 addresses) between nodes `t` and `r` on
    /// `band`: the learned pair's if both ends advertised capabilities; if only one did, the
    /// config's bounded by that end (taken as both ends: the other has told nothing yet);
    /// else the config's. One lock-free load of the learned snapshot; no allocation.
    fn with_pair<R>(
        &self,
        tx: Option<MacAddr>,
        rx: Option<MacAddr>,
        (t, r): (usize, usize),
        band: Band,
        f: impl FnOnce(PairRates<'_>) -> R,
    ) -> R {
        let learned = self.learned.load();
        let config = &self.tables[self.link(t, r).table[band_index(band)]];
        f(learned.rates(tx, rx, band, config, robust_vector(band)))
    }

    /// The exact rate synthesis for a link budget (for reports; the data path uses the table).
    pub fn synthesise(budget: &LinkBudget, psdu_len: u32) -> Selection {
        select_rate(budget.snr_db, psdu_len, &budget.caps)
    }

    /// Small-scale fading for one frame at one receiver, dB (mean linear power 1).
    fn fading_db(&self, tx_id: u64, seq: u64, rx_id: u64) -> f64 {
        let key = RngKey::new(self.seed, tx_id, seq, purpose::FADING);
        let db = match self.fading {
            Fading::Off | Fading::Named(FadingName::None) => 0.0,
            Fading::Named(FadingName::Rayleigh) => key.rayleigh_db(rx_id),
            Fading::Rician { rician_k_db } => key.rician_db(rx_id, rician_k_db),
            Fading::LogNormal { lognormal_sigma_db } => key.lognormal_db(rx_id, lognormal_sigma_db),
        };
        // A deep fade is a loss either way; bounding it keeps the arithmetic finite.
        db.max(-200.0)
    }
}

impl NodeState {
    fn new(name: String, position: Position, bands: [BandParams; 3]) -> NodeState {
        NodeState {
            name,
            position,
            noise_floor_dbm: bands.map(|b| noise_floor_dbm(20.0, b.noise_figure_db)),
            bands,
        }
    }
}

/// The lesser of both ends' capabilities, bounded by the band.
fn link_caps(band: Band, a: &RateCaps, b: &RateCaps) -> RateCaps {
    RateCaps {
        max_format: a.max_format.min(b.max_format),
        max_width: a.max_width.min(b.max_width).min(band.max_width()),
        max_nss: a.max_nss.min(b.max_nss),
        max_mcs: a.max_mcs.min(b.max_mcs),
        gi: a.gi,
        coding: a.coding,
        max_per: a.max_per.min(b.max_per),
    }
}

/// The band of a guest-supplied frequency and the frequency used for path loss. Nonsense
/// frequencies (a hostile or buggy guest) are mapped to the nearest band edge, never rejected:
/// the frame still gets its status.
fn band_for(freq: u32) -> (Band, f64) {
    match band_of(freq) {
        Some(b) => (b, f64::from(freq)),
        None if freq < 4000 => (Band::Band2G4, f64::from(freq.clamp(2400, 2500))),
        None if freq < 5925 => (Band::Band5G, f64::from(freq.clamp(4900, 5924))),
        None => (Band::Band6G, f64::from(freq.clamp(5925, 7125))),
    }
}

/// The most robust rate of a band, used for group-addressed frames.
fn robust_vector(band: Band) -> TxVector {
    let v = match band {
        Band::Band2G4 => TxVector::dsss(0),
        _ => TxVector::ofdm(0),
    };
    v.unwrap_or_else(|_| unreachable!("1 Mb/s DSSS and 6 Mb/s OFDM are valid vectors"))
}

/// A radio's id in the random draws: its VM and wire address (unique among live radios).
pub(crate) fn radio_id(key: RadioKey) -> u64 {
    let w = key.wire.0;
    let wire = u64::from_be_bytes([0, 0, w[0], w[1], w[2], w[3], w[4], w[5]]);
    (u64::from(key.vm) << 48) ^ wire
}

impl RadioMedium {
    /// The vectors and attempts of the guest's retry chain: entry `i` uses the rate synthesised
    /// for the median SNR less `i`·[`FALLBACK_MARGIN_DB`], the last entry of a multi-entry chain
    /// the most robust rate (rate control falls back to sturdier rates down the chain; the
    /// guest's own indices mean nothing for EHT links and MLO radios give none). A count of 0
    /// is one attempt, an empty chain one attempt.
    fn chain_entries(
        tx: &Transmission<'_>,
        table: &RateSource<'_>,
        median_snr_db: f64,
    ) -> [ChainEntry; 4] {
        let entries = tx.rates.iter().take_while(|r| r.idx >= 0).count().max(1);
        let mut out = [ChainEntry {
            vector: table.lookup(median_snr_db).tx,
            tries: 0,
        }; 4];
        for (i, r) in tx.rates.iter().take(entries).enumerate() {
            // The last entry of a multi-rate chain is the sturdiest rate, as minstrel ends its
            // chain with its most reliable rate.
            let margin = if entries > 1 && i + 1 == entries {
                f64::INFINITY
            } else {
                FALLBACK_MARGIN_DB * i as f64
            };
            out[i] = ChainEntry {
                vector: table.lookup(median_snr_db - margin).tx,
                tries: if r.idx >= 0 { r.count.max(1) } else { 1 },
            };
        }
        out
    }

    /// The guest's retry chain with every entry at `vector` (frames sent at the basic rate).
    fn fixed_chain(tx: &Transmission<'_>, vector: TxVector) -> [ChainEntry; 4] {
        let entries = tx.rates.iter().take_while(|r| r.idx >= 0).count().max(1);
        let mut out = [ChainEntry { vector, tries: 0 }; 4];
        for (i, r) in tx.rates.iter().take(entries).enumerate() {
            out[i].tries = if r.idx >= 0 { r.count.max(1) } else { 1 };
        }
        out
    }

    /// Walks the retry chain attempt by attempt (at most [`MAX_ATTEMPTS`] in all). Returns the
    /// 1-based attempt that got through and its vector.
    fn walk_chain(
        &self,
        entries: &[ChainEntry; 4],
        fails: &impl Fn(&TxVector) -> f64,
        delivered: &impl Fn(u32, f64) -> bool,
    ) -> Option<(u32, TxVector)> {
        let mut attempt = 0u32;
        for e in entries.iter().filter(|e| e.tries > 0) {
            let p = fails(&e.vector);
            for _ in 0..e.tries {
                if attempt == MAX_ATTEMPTS {
                    return None;
                }
                attempt += 1;
                if delivered(attempt, p) {
                    return Some((attempt, e.vector));
                }
            }
        }
        None
    }
}

impl AirModel for RadioMedium {
    fn seed(&self) -> u64 {
        self.seed
    }

    fn node_of(&self, addr: Option<MacAddr>, wire: MacAddr) -> usize {
        RadioMedium::node_of(self, addr, wire)
    }

    fn plan(&self, tx: &Transmission<'_>, node: usize) -> AirPlan {
        let band = band_for(tx.freq).0;
        let psdu_len = (tx.frame.len() as u32).saturating_add(FCS_LEN);
        let one = |vector| {
            let mut e = [ChainEntry { vector, tries: 0 }; 4];
            e[0].tries = 1;
            e
        };
        let basic_only = sent_at_basic_rate(tx.frame);
        let (entries, ack, padding) = if tx.group {
            (one(robust_vector(band)), false, NominalPadding::Us0)
        } else {
            let r = self.node_of(Some(tx.receiver), tx.receiver);
            let budget = self.link_budget(node, r, tx.freq);
            self.with_pair(tx.sender, Some(tx.receiver), (node, r), band, |p| {
                let entries = match (basic_only, tx.no_ack()) {
                    (true, true) => one(p.basic),
                    (true, false) => Self::fixed_chain(tx, p.basic),
                    (false, true) => one(p.table.lookup(budget.snr_db).tx),
                    (false, false) => Self::chain_entries(tx, &p.table, budget.snr_db),
                };
                (entries, !tx.no_ack(), p.padding)
            })
        };
        AirPlan {
            node,
            radio: radio_id(tx.from),
            who: Endpoint::transmitter(tx),
            seq: tx.seq,
            band,
            freq: tx.freq,
            psdu_len,
            entries,
            ack,
            ac: access_category(tx.frame),
            aggregatable: ack
                && !basic_only
                && block_ack_bitmap(&entries[0].vector) > 0
                && hwsim_frame::mac::Frame::new_checked(tx.frame).is_ok_and(|f| f.is_qos_data()),
            padding,
        }
    }

    fn rx_power_dbm(&self, from: usize, to: usize, freq: u32) -> f64 {
        self.link_budget(from, to, freq).signal_dbm
    }

    fn noise_dbm(&self, node: usize, freq: u32) -> f64 {
        let n = &self.nodes[node.min(self.nodes.len() - 1)];
        n.noise_floor_dbm[band_index(band_for(freq).0)]
    }
}

impl Medium for RadioMedium {
    fn hear(&self, tx: &Transmission<'_>, rx: &Candidate) -> Option<Reception> {
        let t = self.node_of(tx.sender, tx.from.wire);
        let r = self.node_of(rx.rx_addr, rx.radio.wire);
        let budget = self.link_budget(t, r, tx.freq);
        let link = &self.links[t * self.nodes.len() + r];
        let (tx_id, rx_id) = (radio_id(tx.from), radio_id(rx.radio));
        let fading = if link.fixed_snr_db.is_some() {
            0.0
        } else {
            self.fading_db(tx_id, tx.seq, rx_id)
        };
        // Run-time attenuation (control API) lowers the SNR like path loss: the synthesised
        // rate and the packet error rate follow it.
        let median_snr = budget.snr_db - rx.attenuation_db;
        let snr20 = median_snr + fading;
        let signal = budget.signal_dbm - rx.attenuation_db + fading;
        let psdu_len = (tx.frame.len() as u32).saturating_add(FCS_LEN);
        let band = band_for(tx.freq).0;
        let fails = |v: &TxVector| per(snr_at_width(snr20, v.width()), v, psdu_len);
        let delivered = |attempt: u32, p: f64| {
            let draw = |what: u32, attempt: u32| {
                RngKey::new(self.seed, tx_id, tx.seq, what | (attempt << 8)).uniform(rx_id)
            };
            // Per frame, every attempt reuses the draw keyed as attempt 0.
            let loss_attempt = if link.loss_per_frame { 0 } else { attempt };
            draw(purpose::DELIVERY, attempt) >= p
                && (link.loss_probability <= 0.0
                    || draw(purpose::LOSS, loss_attempt) >= link.loss_probability)
        };
        let basic_only = sent_at_basic_rate(tx.frame);
        let (attempt, vector, padding) =
            self.with_pair(tx.sender, rx.rx_addr, (t, r), band, |p| {
                let (attempt, vector) = if tx.group || tx.no_ack() {
                    // One attempt: group frames at the band's most robust rate, NO_ACK frames
                    // at the basic or the synthesised one.
                    let v = if tx.group {
                        robust_vector(band)
                    } else if basic_only {
                        p.basic
                    } else {
                        p.table.lookup(median_snr).tx
                    };
                    (delivered(1, fails(&v)).then_some(1)?, v)
                } else {
                    let entries = if basic_only {
                        Self::fixed_chain(tx, p.basic)
                    } else {
                        Self::chain_entries(tx, &p.table, median_snr)
                    };
                    self.walk_chain(&entries, &fails, &delivered)?
                };
                let padding = if tx.group {
                    NominalPadding::Us0
                } else {
                    p.padding
                };
                Some((attempt, vector, padding))
            })?;
        let attempt = attempt as u8;
        let (lo, hi) = SIGNAL_RANGE_DBM;
        Some(Reception {
            signal_dbm: signal.clamp(lo, hi).round() as i32,
            rx_rate: legacy_rate_index(tx.freq, rate_mbps(&vector)),
            attempt,
            vector: Some(vector),
            noise_dbm: Some(self.noise_dbm(r, tx.freq).clamp(lo, hi).round() as i32),
            padding,
        })
    }

    fn status(&self, tx: &Transmission<'_>, ack_from: Option<&Reception>) -> TxStatus {
        let acked = tx.group || (!tx.no_ack() && ack_from.is_some());
        let acked_at = if tx.group || tx.no_ack() {
            Some(1)
        } else {
            ack_from.map(|r| r.attempt)
        };
        TxStatus {
            acked,
            rates: fill_retry_chain(tx.rates, acked_at),
            // The ACK travels the reverse link; its signal is taken as the frame's (reciprocal
            // path loss; tx powers usually equal).
            signal_dbm: ack_from.map_or(0, |r| r.signal_dbm),
        }
    }

    fn name(&self) -> &'static str {
        "radio"
    }

    fn learn_peer_caps(&self, caps: &[(MacAddr, PeerCaps)]) {
        // First every pair's caps with the tables there are already (the data path uses the
        // exact synthesis for the others meanwhile), then the missing tables (≈ 0.5 ms each,
        // more in a debug build).
        let bound = |a: &MacAddr, b: &MacAddr, band: Band| {
            let (t, r) = (self.node_of(Some(*a), *a), self.node_of(Some(*b), *b));
            *self.tables[self.link(t, r).table[band_index(band)]].caps()
        };
        let learned = Learned::new(caps, &self.learned.load(), bound);
        if learned.complete() {
            self.learned.store(Arc::new(learned));
            return;
        }
        let built = learned.with_all_tables();
        self.learned.store(Arc::new(learned));
        self.learned.store(Arc::new(built));
    }

    fn air(&self) -> Option<&dyn AirModel> {
        (self.time_mode == TimeMode::Airtime).then_some(self as &dyn AirModel)
    }
}

/// A vector's rate in whole Mb/s, for mapping to the guest's legacy rate table.
fn rate_mbps(v: &TxVector) -> u32 {
    if v.format() == PhyFormat::Dsss && v.mcs() == 2 {
        return 5; // 5.5 Mb/s
    }
    v.data_rate_kbps() / 1000
}

/// The reference length rate synthesis uses (re-exported for reports).
pub const RATE_REFERENCE_LEN: u32 = REFERENCE_PSDU_LEN;

mod learned;
#[cfg(test)]
mod tests;
