//! The air's timeline: which transmissions (bursts of attempts) occupy which channel when.
//!
//! Pure bookkeeping with times given by the caller, so it is tested with a fake clock.
//!
//! A burst is committed once its transmitter is ready (its previous burst on that channel has
//! ended) and is never moved afterwards. Committing walks the bursts the transmitter senses
//! (on an overlapping channel, received at or above the CCA threshold) from its ready time: it
//! waits for the medium to be idle, then AIFS, then counts down its backoff slots, freezing the
//! count while the medium is busy again (802.11-2020 10.23.2.2, 10.3.4.3). A burst that has
//! counted down but would run into a burst committed before it, or end less than that burst's
//! AIFS before it starts, yields and goes after that one (the earlier committer got the air
//! first; its transmitter must see the medium idle for its AIFS before it starts). Nodes that
//! hear each other therefore never overlap, and every burst starts at least its AIFS after the
//! end of the sensed burst before it; hidden nodes do overlap, and their receivers judge the
//! overlap by SINR.
//!
//! Storage is a vector sized once; a full timeline refuses the burst (the caller drops the
//! frame and counts it). Bursts that ended before every unfinished one started are pruned.

use super::{same_medium, Nanos};
use crate::medium::impair::Endpoint;

/// A radio where energy is radiated or sensed: the model's node (for median powers) and the
/// radio as run-time impairments name it (an attenuated or downed link radiates and senses
/// less, as it receives less).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Antenna {
    /// The model's node.
    pub node: usize,
    /// The radio and its address.
    pub who: Endpoint,
}

/// A request for the air.
#[derive(Clone, Copy, Debug)]
pub struct Access {
    /// Transmitting radio (half duplex: it cannot receive while it sends).
    pub radio: u64,
    /// Transmitting node, for received powers.
    pub node: usize,
    /// Transmitting radio, for run-time impairments.
    pub who: Endpoint,
    /// Primary channel, MHz.
    pub freq: u32,
    /// When the transmitter has the frame and is free to contend.
    pub ready: Nanos,
    /// AIFS of the access category.
    pub aifs: Nanos,
    /// Slot time.
    pub slot: Nanos,
    /// Backoff slots to count down.
    pub backoff_slots: u32,
    /// Length of the burst once it has the air.
    pub duration: Nanos,
    /// The PPDU receivers judge, relative to the burst's start.
    pub ppdu: (Nanos, Nanos),
    /// The caller's handle, echoed in the burst.
    pub owner: usize,
}

/// A committed burst.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Burst {
    /// Identifier, unique over the timeline's life.
    pub id: u64,
    /// Transmitting radio.
    pub radio: u64,
    /// Transmitting node.
    pub node: usize,
    /// Transmitting radio, for run-time impairments.
    pub who: Endpoint,
    /// Primary channel, MHz.
    pub freq: u32,
    /// First attempt's start.
    pub start: Nanos,
    /// End of the last ACK or ACK timeout.
    pub end: Nanos,
    /// The judged PPDU, absolute.
    pub ppdu: (Nanos, Nanos),
    /// The caller's handle.
    pub owner: usize,
    /// The AIFS its transmitter waited: the idle time it needs after any burst before it.
    pub aifs: Nanos,
    /// The caller has processed its end.
    pub done: bool,
}

impl Access {
    /// The transmitter as an antenna.
    pub fn antenna(&self) -> Antenna {
        Antenna {
            node: self.node,
            who: self.who,
        }
    }
}

impl Burst {
    /// The transmitter as an antenna.
    pub fn antenna(&self) -> Antenna {
        Antenna {
            node: self.node,
            who: self.who,
        }
    }
}

/// The timeline is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the air timeline is full")]
pub struct TimelineFull;

/// Every channel's committed and recently ended bursts.
pub struct Timeline {
    bursts: Vec<Burst>,
    capacity: usize,
    next_id: u64,
    cca_dbm: f64,
}

impl Timeline {
    /// A timeline holding at most `capacity` bursts, sensing at `cca_dbm`.
    pub fn new(capacity: usize, cca_dbm: f64) -> Timeline {
        Timeline {
            bursts: Vec::with_capacity(capacity),
            capacity,
            next_id: 1,
            cca_dbm,
        }
    }

    /// Whether `a`'s transmitter senses `b`. `power(from, to, freq)` is the median power the
    /// caller's model gives (with any run-time attenuation).
    fn senses(&self, b: &Burst, a: &Access, power: &impl Fn(Antenna, Antenna, u32) -> f64) -> bool {
        b.radio == a.radio
            || (same_medium(b.freq, a.freq)
                && power(b.antenna(), a.antenna(), b.freq) >= self.cca_dbm)
    }

    /// Gives `a` the air: the earliest start its sensing and backoff allow. Returns the burst.
    pub fn commit(
        &mut self,
        a: &Access,
        power: &impl Fn(Antenna, Antenna, u32) -> f64,
    ) -> Result<Burst, TimelineFull> {
        if self.bursts.len() >= self.capacity {
            return Err(TimelineFull);
        }
        let mut t = a.ready;
        let mut remaining = u64::from(a.backoff_slots);
        let start = loop {
            // Busy now: wait for the end of every sensed burst covering t.
            let covering = self
                .bursts
                .iter()
                .filter(|b| b.start <= t && b.end > t && self.senses(b, a, power))
                .map(|b| b.end)
                .max();
            if let Some(end) = covering {
                t = end;
                continue;
            }
            // The next sensed burst committed before this one, and the idle time its
            // transmitter needs after whatever goes before it.
            let (next_busy, next_aifs) = self
                .bursts
                .iter()
                .filter(|b| b.start > t && self.senses(b, a, power))
                .map(|b| (b.start, b.aifs))
                .min()
                .unwrap_or((Nanos::MAX, 0));
            let access = t + a.aifs + remaining * a.slot;
            if access.saturating_add(a.duration).saturating_add(next_aifs) <= next_busy {
                break access;
            }
            // The medium turns busy first: keep the slots counted in the idle gap (AIFS must
            // pass before any counts), or, if the count would finish but the burst not fit,
            // yield to the burst committed earlier and go right after it.
            if access <= next_busy {
                remaining = 0;
            } else if next_busy > t + a.aifs {
                remaining -= ((next_busy - t - a.aifs) / a.slot.max(1)).min(remaining);
            }
            t = next_busy;
        };
        let burst = Burst {
            id: self.next_id,
            radio: a.radio,
            node: a.node,
            who: a.who,
            freq: a.freq,
            start,
            end: start + a.duration,
            ppdu: (start + a.ppdu.0, start + a.ppdu.1),
            owner: a.owner,
            aifs: a.aifs,
            done: false,
        };
        self.next_id += 1;
        self.bursts.push(burst);
        Ok(burst)
    }

    /// The unfinished burst that ends first.
    pub fn next_end(&self) -> Option<Burst> {
        self.bursts
            .iter()
            .filter(|b| !b.done)
            .min_by_key(|b| (b.end, b.id))
            .copied()
    }

    /// Marks a burst processed and forgets bursts no unfinished burst can overlap any more.
    pub fn finish(&mut self, id: u64) {
        if let Some(b) = self.bursts.iter_mut().find(|b| b.id == id) {
            b.done = true;
        }
        let horizon = self
            .bursts
            .iter()
            .filter(|b| !b.done)
            .map(|b| b.start)
            .min();
        let processed = self
            .bursts
            .iter()
            .filter(|b| b.done)
            .map(|b| b.end)
            .max()
            .unwrap_or(0);
        let keep_after = horizon.unwrap_or(processed).min(processed);
        self.bursts.retain(|b| !b.done || b.end > keep_after);
    }

    /// Interference (mW) at `rx` during burst `id`'s judged PPDU from every other burst on an
    /// overlapping channel that overlaps it in time. `None` if radio `rx_radio` was itself
    /// transmitting then (half duplex) or the burst is unknown.
    pub fn interference_mw(
        &self,
        id: u64,
        rx: Antenna,
        rx_radio: u64,
        power: &impl Fn(Antenna, Antenna, u32) -> f64,
    ) -> Option<f64> {
        let me = self.bursts.iter().find(|b| b.id == id)?;
        let (from, to) = me.ppdu;
        let mut mw = 0.0;
        for b in self.bursts.iter().filter(|b| {
            b.id != id
                && b.radio != me.radio
                && b.start < to
                && b.end > from
                && same_medium(b.freq, me.freq)
        }) {
            if b.radio == rx_radio {
                return None;
            }
            mw += 10f64.powf(power(b.antenna(), rx, b.freq) / 10.0);
        }
        Some(mw)
    }

    /// Forgets every burst.
    pub fn clear(&mut self) {
        self.bursts.clear();
    }

    /// Bursts held (committed or kept for interference).
    pub fn len(&self) -> usize {
        self.bursts.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.bursts.is_empty()
    }

    /// The bursts held, for tests and reports.
    pub fn bursts(&self) -> &[Burst] {
        &self.bursts
    }
}
