//! Negotiated TID-to-link mapping (IEEE 802.11be-2024 35.3.7.1) and the downlink TID.
//!
//! A non-AP MLD asks, in a (protected) TID-to-link mapping request of the Protected EHT
//! action category, that each TID's frames use only some of its links: one TID-To-Link
//! Mapping element for both directions, or one for downlink and one for uplink. The AP
//! checks it the way mac80211 checks a request addressed to it
//! (`ieee80211_process_neg_ttlm_req`): no switch time or expected duration, a valid
//! direction, not two elements for the same direction, every TID present mapped to links the
//! station set up; and beyond that, every TID of a direction the request covers mapped to at
//! least one link (a TID left on no link would have nowhere to go). It answers with status 0
//! and applies the mapping, or with status 133 (denied TID-to-link mapping) and keeps the old
//! one. A teardown, or a request that maps every TID to every link of the station both ways,
//! returns the station to the default mapping.
//!
//! Downlink, the frame's TID comes from the Ethernet frame as cfg80211_classify8021d derives
//! it (802.1Q priority, else the IP DSCP with RFC 8325's exceptions); with a negotiated
//! mapping it picks among the links its TID maps to. Uplink frames that arrive on a link
//! their TID is not mapped to are counted, not dropped: mac80211 sends management, EAPOL and
//! null frames on any link.

use hwsim_frame::ie::{self, Elements, IeRepr, TidToLinkMappingRepr, TTLM_TIDS};
use hwsim_frame::mac::mgmt_subtype;
use hwsim_frame::MacAddr;

use super::{health, ApMld, Tx};

/// Action category Protected EHT.
pub const CATEGORY_PROTECTED_EHT: u8 = 37;
/// Protected EHT action: TID-to-link mapping request.
pub const TTLM_REQUEST: u8 = 0;
/// Protected EHT action: TID-to-link mapping response.
pub const TTLM_RESPONSE: u8 = 1;
/// Protected EHT action: TID-to-link mapping teardown.
pub const TTLM_TEARDOWN: u8 = 2;
/// Status: the TID-to-link mapping request is denied.
pub const STATUS_DENIED_TTLM: u16 = 133;

/// A negotiated mapping: per TID, the link IDs (bit n = link ID n) each direction may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NegotiatedTtlm {
    /// AP MLD to station.
    pub downlink: [u16; TTLM_TIDS],
    /// Station to AP MLD.
    pub uplink: [u16; TTLM_TIDS],
}

/// Why a request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TtlmRefusal {
    /// An element does not parse.
    #[error("malformed TID-To-Link Mapping element")]
    Malformed,
    /// No element, more than two, two for one direction, or "both" next to another one.
    #[error("TID-To-Link Mapping elements do not name each direction once")]
    Directions,
    /// Switch time or expected duration in a negotiated request.
    #[error("switch time or expected duration in a negotiated mapping")]
    Timing,
    /// A TID is on no link.
    #[error("TID {0} mapped to no link")]
    UnmappedTid(u8),
    /// A TID names a link the station did not set up.
    #[error("TID {0} mapped to a link the station does not have")]
    UnknownLink(u8),
}

impl NegotiatedTtlm {
    /// Checks a request's elements (the action frame's body after the dialog token) against
    /// `station_links` (the station's link IDs as a bitmap).
    pub fn from_request(elements: &[u8], station_links: u16) -> Result<Self, TtlmRefusal> {
        let mut m = NegotiatedTtlm {
            downlink: [station_links; TTLM_TIDS],
            uplink: [station_links; TTLM_TIDS],
        };
        let (mut down, mut up, mut count) = (false, false, 0);
        for e in Elements::new(elements) {
            let e = e.map_err(|_| TtlmRefusal::Malformed)?;
            if (e.id, e.ext) != (ie::id::EXTENSION, Some(ie::ext_id::TID_TO_LINK_MAPPING)) {
                continue;
            }
            let t = TidToLinkMappingRepr::parse_element(&e).map_err(|_| TtlmRefusal::Malformed)?;
            count += 1;
            if t.switch_time.is_some() || t.expected_duration.is_some() {
                return Err(TtlmRefusal::Timing);
            }
            let (d, u) = (t.direction.covers_downlink(), t.direction.covers_uplink());
            if (!d && !u) || (d && down) || (u && up) {
                return Err(TtlmRefusal::Directions);
            }
            down |= d;
            up |= u;
            for tid in 0..TTLM_TIDS as u8 {
                let links = if t.default_mapping {
                    station_links
                } else {
                    t.links_of(tid)
                };
                if links == 0 {
                    return Err(TtlmRefusal::UnmappedTid(tid));
                }
                if links & !station_links != 0 {
                    return Err(TtlmRefusal::UnknownLink(tid));
                }
                if d {
                    m.downlink[usize::from(tid)] = links;
                }
                if u {
                    m.uplink[usize::from(tid)] = links;
                }
            }
        }
        if count == 0 || count > 2 {
            return Err(TtlmRefusal::Directions);
        }
        Ok(m)
    }
}

/// The 802.1D user priority (= TID) of an Ethernet frame, as Linux's
/// cfg80211_classify8021d picks it without a QoS Map: a nonzero 802.1Q priority, else the
/// IPv4 / IPv6 DSCP (its three top bits, with RFC 8325's exceptions), the MPLS traffic
/// class, 7 for IEEE 802.21; 0 for anything else or a frame too short to tell.
pub fn classify_tid(eth: &[u8]) -> u8 {
    let Some(&[t0, t1]) = eth.get(12..14) else {
        return 0;
    };
    let (mut ethertype, mut l3) = (u16::from_be_bytes([t0, t1]), 14);
    if ethertype == 0x8100 {
        let Some(&[c0, c1, e0, e1]) = eth.get(14..18) else {
            return 0;
        };
        let pcp = u16::from_be_bytes([c0, c1]) >> 13;
        if pcp > 0 {
            return pcp as u8;
        }
        ethertype = u16::from_be_bytes([e0, e1]);
        l3 = 18;
    }
    let dscp = match ethertype {
        0x0800 => match eth.get(l3 + 1) {
            Some(&tos) => tos & 0xfc,
            None => return 0,
        },
        0x86dd => match eth.get(l3..l3 + 2) {
            Some(&[a, b]) => ((a << 4) | (b >> 4)) & 0xfc,
            _ => return 0,
        },
        0x8847 | 0x8848 => {
            return match eth.get(l3 + 2) {
                // The entry's bits 9-11 (traffic class) sit in its third octet, bits 1-3.
                Some(&b) => (b >> 1) & 0x07,
                None => 0,
            };
        }
        0x8917 => return 7,
        _ => return 0,
    };
    match dscp >> 2 {
        10 | 12 | 14 | 16 => 0,
        18 | 20 | 22 => 3,
        24 | 26 | 28 | 30 => 4,
        44 | 46 => 6,
        48 => 7,
        _ => dscp >> 5,
    }
}

impl ApMld {
    /// The link IDs (bitmap) station `si` set up.
    fn station_link_ids(&self, si: usize) -> u16 {
        self.stations[si]
            .links
            .iter()
            .fold(0, |acc, &(l, _)| acc | 1 << (self.links[l].cfg.id & 0x0f))
    }

    /// A (decrypted) Protected EHT action frame body from `sa` on `link`.
    pub(super) fn on_protected_eht(
        &mut self,
        link: usize,
        sa: MacAddr,
        body: &[u8],
        protected: bool,
    ) -> Vec<Tx> {
        let Some(&action) = body.get(1) else {
            return Vec::new();
        };
        let Some(si) = self
            .stations
            .iter()
            .position(|s| s.associated() && (s.link_addr(link) == Some(sa) || s.addr == sa))
        else {
            return Vec::new();
        };
        // Protected EHT frames are robust: with PMF in force only the protected form counts.
        if !protected && self.stations[si].pmf() {
            return Vec::new();
        }
        match action {
            TTLM_REQUEST => {
                let Some(&token) = body.get(2) else {
                    return Vec::new();
                };
                let links = self.station_link_ids(si);
                let status = match NegotiatedTtlm::from_request(&body[3..], links) {
                    Ok(m) => {
                        // Every TID on every link both ways is the default mapping (mac80211
                        // has no teardown a user can ask for: it requests this instead).
                        let default = m.downlink == [links; TTLM_TIDS] && m.uplink == m.downlink;
                        self.stations[si].ttlm = (!default).then_some(m);
                        self.counters.ttlm.accepted += 1;
                        super::status::SUCCESS
                    }
                    Err(_) => {
                        self.counters.ttlm.refused += 1;
                        STATUS_DENIED_TTLM
                    }
                };
                let s = &self.stations[si];
                let to = s.link_addr(link).unwrap_or(sa);
                let [s0, s1] = status.to_le_bytes();
                let reply = [CATEGORY_PROTECTED_EHT, TTLM_RESPONSE, token, s0, s1];
                let tx = self.mgmt(link, mgmt_subtype::ACTION, to, &reply);
                if self.stations[si].pmf() {
                    self.protect_for_station(si, tx).into_iter().collect()
                } else {
                    vec![tx]
                }
            }
            TTLM_TEARDOWN => {
                if self.stations[si].ttlm.take().is_some() {
                    self.counters.ttlm.teardowns += 1;
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Counts an uplink data frame of `tid` from station `si` on `link` whose TID is not
    /// mapped to that link.
    pub(super) fn check_uplink_mapping(&mut self, si: usize, link: usize, tid: u8) {
        let Some(m) = self.stations[si].ttlm else {
            return;
        };
        let id = self.links[link].cfg.id & 0x0f;
        let allowed = m.uplink.get(usize::from(tid)).copied().unwrap_or(0xffff);
        if allowed & (1 << id) == 0 {
            self.counters.ttlm.uplink_off_mapping += 1;
        }
    }

    /// The link a downlink frame of `tid` for `sta` goes out on and the station's address
    /// there: round-robin (advanced by `counter`) over the station's operating links that
    /// its negotiated mapping allows for `tid`, or over all its operating links without a
    /// mapping (or if every allowed link has stopped).
    pub fn downlink_link_for_tid(
        &self,
        sta: MacAddr,
        tid: u8,
        counter: u64,
    ) -> Option<(usize, MacAddr)> {
        let s = self.station(sta).filter(|s| s.associated())?;
        let allowed = s
            .ttlm
            .and_then(|m| m.downlink.get(usize::from(tid)).copied())
            .unwrap_or(0xffff);
        let on = |l: usize| allowed & (1 << (self.links[l].cfg.id & 0x0f)) != 0;
        // The candidates: the operating links the mapping allows, or every operating link if
        // it allows none of them. Iterators walked a few times rather than collected: this
        // runs for every downlink frame and allocates nothing.
        let operating = || {
            s.links
                .iter()
                .copied()
                .filter(|(l, _)| self.link_active(*l))
        };
        let any_mapped = operating().any(|(l, _)| on(l));
        let candidates = || operating().filter(move |(l, _)| !any_mapped || on(*l));
        // Link health (see `health`): now and then a probe on a down link; otherwise the
        // links that are up, or all candidates if none is.
        let down = |l: usize| s.health.get(l).is_some_and(|h| h.down);
        if counter % health::PROBE_EVERY == 0 {
            if let Some(probe) = candidates().find(|(l, _)| down(*l)) {
                return Some(probe);
            }
        }
        let any_up = candidates().any(|(l, _)| !down(l));
        let live = || candidates().filter(move |(l, _)| !any_up || !down(*l));
        let n = live().count();
        if n == 0 {
            return None;
        }
        live().nth((counter % n as u64) as usize)
    }
}
