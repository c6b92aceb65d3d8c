//! What the MLD tracker learned the ends advertise, and the rate tables of their pairs, as the
//! radio medium keeps them: one immutable snapshot, replaced whole by
//! [`Medium::learn_peer_caps`](super::Medium::learn_peer_caps) on the tracker thread and read
//! by the data path with one lock-free load.

use std::collections::HashMap;
use std::sync::Arc;

use hwsim_frame::MacAddr;
use hwsim_radio::adapt::{select_rate, RateCaps, Selection};
use hwsim_radio::airtime::NominalPadding;
use hwsim_radio::band::Band;
use hwsim_radio::peer::{pair_caps, PeerCaps};
use hwsim_radio::rates::TxVector;

use super::super::rate_table::{RateTable, REFERENCE_PSDU_LEN};

/// Pairs tabulated at most (beyond, the config's rates apply): 512 APs × 512 STAs.
const MAX_LEARNED_PAIRS: usize = 1 << 18;

/// What the ends advertised and the rates of their pairs: one immutable snapshot.
#[derive(Default)]
pub(super) struct Learned {
    /// (transmitter address, receiver address) → what the pair uses.
    pairs: HashMap<(MacAddr, MacAddr), LearnedPair>,
    /// Every address that advertised, for pairs whose other end has not (yet).
    ends: HashMap<MacAddr, PeerCaps>,
    tables: Vec<Arc<RateTable>>,
}

#[derive(Clone, Copy)]
pub(super) struct LearnedPair {
    /// The pair's caps (within the config's).
    caps: RateCaps,
    /// Index into [`Learned::tables`]; `None` while the table is being built (the exact
    /// synthesis is used meanwhile).
    table: Option<usize>,
    /// The receiver's nominal packet padding.
    padding: NominalPadding,
    /// The lowest basic rate of the BSS, if its AP said.
    basic: Option<TxVector>,
}

/// Where a transmission's rate comes from.
pub(super) enum RateSource<'a> {
    /// A tabulated caps set (the config's, or a learned pair's).
    Table(&'a RateTable),
    /// Caps without a table yet: [`select_rate`] for each lookup (a few µs, no allocation). Only
    /// between the tracker learning an end and the pair's table being built.
    Exact(RateCaps),
}

impl RateSource<'_> {
    pub(super) fn lookup(&self, snr_20mhz_db: f64) -> Selection {
        match self {
            RateSource::Table(t) => *t.lookup(snr_20mhz_db),
            RateSource::Exact(caps) => select_rate(snr_20mhz_db, REFERENCE_PSDU_LEN, caps),
        }
    }
}

/// What one transmission to one receiver uses: its rates, padding and basic rate.
pub(super) struct PairRates<'a> {
    pub(super) table: RateSource<'a>,
    pub(super) padding: NominalPadding,
    pub(super) basic: TxVector,
}

impl Learned {
    /// The rates of `tx` → `rx` (802.11 addresses) on `band`: the learned pair's if both ends
    /// advertised capabilities; if only one did, `config` bounded by that end (taken as both
    /// ends: the other has told nothing yet); else `config`'s. `lowest` is the band's lowest
    /// rate, the basic rate when no AP said. No allocation.
    pub(super) fn rates<'a>(
        &'a self,
        tx: Option<MacAddr>,
        rx: Option<MacAddr>,
        band: Band,
        config: &'a RateTable,
        lowest: TxVector,
    ) -> PairRates<'a> {
        if let Some(p) = tx.zip(rx).and_then(|k| self.pairs.get(&k)) {
            let table = match p.table.and_then(|i| self.tables.get(i)) {
                Some(t) => RateSource::Table(t),
                None => RateSource::Exact(p.caps),
            };
            return PairRates {
                table,
                padding: p.padding,
                basic: p.basic.unwrap_or(lowest),
            };
        }
        let end = |a: Option<MacAddr>| a.and_then(|a| self.ends.get(&a)).filter(|c| c.band == band);
        let (tx_end, rx_end) = (end(tx), end(rx));
        if let Some(known) = tx_end.or(rx_end) {
            let (caps, padding) = pair_caps(known, known, config.caps());
            return PairRates {
                table: RateSource::Exact(caps),
                padding: rx_end.map_or(NominalPadding::Us16, |_| padding),
                basic: known.lowest_basic.filter(|_| known.ap).unwrap_or(lowest),
            };
        }
        PairRates {
            table: RateSource::Table(config),
            padding: NominalPadding::Us16,
            basic: lowest,
        }
    }

    /// The snapshot for `caps` (every address that advertised): each AP ↔ STA pair of the same
    /// band gets its caps within `bound` (the config's caps of the two addresses' nodes in
    /// that band), and the tables of `old` that fit; [`Learned::complete`] says whether every
    /// pair has one.
    pub(super) fn new(
        caps: &[(MacAddr, PeerCaps)],
        old: &Learned,
        bound: impl Fn(&MacAddr, &MacAddr, Band) -> RateCaps,
    ) -> Learned {
        let mut learned = Learned {
            ends: caps.iter().copied().collect(),
            ..Learned::default()
        };
        'pairs: for (a, ca) in caps {
            for (b, cb) in caps {
                if ca.ap == cb.ap || ca.band != cb.band {
                    continue;
                }
                if learned.pairs.len() >= MAX_LEARNED_PAIRS {
                    tracing::warn!(
                        "radio medium: too many capability pairs, the rest keep the config's rates"
                    );
                    break 'pairs;
                }
                let (pair, padding) = pair_caps(ca, cb, &bound(a, b, ca.band));
                let basic = if ca.ap {
                    ca.lowest_basic
                } else {
                    cb.lowest_basic
                };
                learned.pairs.insert(
                    (*a, *b),
                    LearnedPair {
                        caps: pair,
                        table: None,
                        padding,
                        basic,
                    },
                );
            }
        }
        let Learned { pairs, tables, .. } = &mut learned;
        for p in pairs.values_mut() {
            p.table = tables.iter().position(|x| *x.caps() == p.caps).or_else(|| {
                let t = old.tables.iter().find(|x| *x.caps() == p.caps)?;
                tables.push(Arc::clone(t));
                Some(tables.len() - 1)
            });
        }
        learned
    }

    /// Every pair has its table.
    pub(super) fn complete(&self) -> bool {
        self.pairs.values().all(|p| p.table.is_some())
    }

    /// The same snapshot with the missing tables built (≈ 0.5 ms per distinct caps).
    pub(super) fn with_all_tables(&self) -> Learned {
        let mut built = Learned {
            pairs: self.pairs.clone(),
            ends: self.ends.clone(),
            tables: self.tables.clone(),
        };
        let Learned { pairs, tables, .. } = &mut built;
        for p in pairs.values_mut().filter(|p| p.table.is_none()) {
            p.table = Some(match tables.iter().position(|x| *x.caps() == p.caps) {
                Some(i) => i,
                None => {
                    tables.push(Arc::new(RateTable::new(p.caps)));
                    tables.len() - 1
                }
            });
        }
        built
    }
}
