//! Link health: the AP MLD stops using a link on which a station no longer acknowledges its
//! frames, keeps probing that link, and uses it again once a probe is acknowledged, as a real
//! AP MLD does when one band fades.
//!
//! Policy (per station and link, driven by the TX statuses of unicast frames):
//! - [`FAILURES_TO_DOWN`] unacknowledged frames in a row (each already retried by the medium)
//!   mark the link *down* for that station;
//! - while a link is down, downlink traffic goes over the station's other live links; one
//!   downlink frame in [`PROBE_EVERY`] goes over the down link instead, as a probe;
//! - an acknowledged frame on a down link marks it *up* again;
//! - if every link of a station is down, all of them are used (nothing else is left).
//!
//! Counting frames rather than time keeps the decision deterministic for a given traffic.

use hwsim_frame::MacAddr;

use super::ApMld;

/// Unacknowledged unicast frames in a row that mark a link down for a station.
pub const FAILURES_TO_DOWN: u32 = 16;

/// While a station has a down link, one downlink frame in this many (by the downlink counter)
/// goes over that link as a probe.
pub const PROBE_EVERY: u64 = 32;

/// One station's view of one link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkHealth {
    /// Unacknowledged frames since the last acknowledged one.
    pub failures: u32,
    /// Marked down (see the module docs).
    pub down: bool,
}

impl ApMld {
    /// The TX status of a unicast frame the AP sent on `link` to `receiver`.
    pub fn tx_status(&mut self, link: usize, receiver: MacAddr, acked: bool) {
        let Some(si) = self
            .stations
            .iter()
            .position(|s| s.associated() && s.link_addr(link) == Some(receiver))
        else {
            return;
        };
        let health = &mut self.stations[si].health;
        if health.len() <= link {
            health.resize(link + 1, LinkHealth::default());
        }
        let h = &mut health[link];
        if acked {
            if h.down {
                self.counters.link_health.recovered += 1;
                if let Some(c) = self.counters.link_health.recovered_per_link.get_mut(link) {
                    *c += 1;
                }
            }
            *h = LinkHealth::default();
            return;
        }
        h.failures = h.failures.saturating_add(1);
        if !h.down && h.failures >= FAILURES_TO_DOWN {
            h.down = true;
            self.counters.link_health.down += 1;
            if let Some(c) = self.counters.link_health.down_per_link.get_mut(link) {
                *c += 1;
            }
        }
    }

    /// Whether `link` is down for the station whose MLD (or only) address is `sta`.
    pub fn link_down_for(&self, sta: MacAddr, link: usize) -> bool {
        self.station(sta)
            .and_then(|s| s.health.get(link))
            .is_some_and(|h| h.down)
    }
}

/// Link health counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LinkHealthCounters {
    /// Times a link was marked down for a station.
    pub down: u64,
    /// Times a down link came back (a probe or another frame on it was acknowledged).
    pub recovered: u64,
    /// `down`, per link index.
    #[serde(skip)]
    pub down_per_link: Vec<u64>,
    /// `recovered`, per link index.
    #[serde(skip)]
    pub recovered_per_link: Vec<u64>,
}
