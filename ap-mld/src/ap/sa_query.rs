//! SA Query (IEEE 802.11-2020 11.13, action frames of 9.6.9) and the association comeback
//! that goes with it.
//!
//! Once a station has a PMF association (the 4-way handshake installed its PTK), an
//! unprotected (re)association request could be forged, so the AP does not tear the
//! association down on it: it answers with status 30 (association rejected temporarily) and
//! a Timeout Interval element of type 3 (association comeback time), and asks the station
//! with a protected SA Query request whether it still holds the SA. A protected SA Query
//! response with the same transaction identifier proves it does, and the association stays.
//! No answer within [`SA_QUERY_MAX_TU`] means the station lost its keys (a reboot, say): the
//! next association then replaces the old one. The timers are hostapd's defaults
//! (`assoc_sa_query_max_timeout`, `assoc_sa_query_retry_timeout`).
//!
//! The AP answers a station's protected SA Query request with a protected SA Query response
//! (wpa_supplicant sends one after an unprotected deauthentication or disassociation, to
//! check that the AP still knows it). Unprotected SA Query frames from a PMF station are
//! ignored: SA Query is a robust action frame.

use hwsim_crypto::rng::KeyRng;
use hwsim_frame::mac::mgmt_subtype;
use hwsim_frame::MacAddr;

use super::{ApMld, Tx};

/// Action category of SA Query frames.
pub const CATEGORY_SA_QUERY: u8 = 8;
/// SA Query Request action.
pub const SA_QUERY_REQUEST: u8 = 0;
/// SA Query Response action.
pub const SA_QUERY_RESPONSE: u8 = 1;
/// Time Units the AP waits for an SA Query response before the old association may go.
pub const SA_QUERY_MAX_TU: u64 = 1000;
/// Time Units between SA Query requests while none is answered.
pub const SA_QUERY_RETRY_TU: u64 = 201;
/// Timeout Interval element ID and its association comeback time type.
pub const ELEMENT_TIMEOUT_INTERVAL: u8 = 56;
/// Timeout Interval type 3: association comeback time, in TUs.
pub const TIMEOUT_ASSOC_COMEBACK: u8 = 3;

const TU_US: u64 = 1024;

/// An SA Query the AP has under way with one station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaQuery {
    /// Link index and the station's address there (where the requests go).
    link: usize,
    sta_link: MacAddr,
    /// Transaction identifiers sent so far (each retry gets a new one; any may be
    /// answered).
    trans_ids: Vec<[u8; 2]>,
    /// TSF when the query started and when the last request went out.
    started_us: u64,
    sent_us: u64,
}

/// What the association of a PMF station comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Comeback {
    /// No PMF association in place (or it failed an SA Query): go ahead.
    Proceed,
    /// Reject with status 30 and this comeback time (TUs).
    After(u32),
}

impl ApMld {
    /// Called for a (re)association request from station `si` on `link`: decides whether
    /// its PMF association stands in the way, and starts the SA Query if so.
    pub(super) fn assoc_comeback(
        &mut self,
        si: usize,
        link: usize,
        sta_link: MacAddr,
        tsf_us: u64,
    ) -> (Comeback, Option<Tx>) {
        let s = &self.stations[si];
        if !s.pmf() || s.sa_query_timed_out {
            return (Comeback::Proceed, None);
        }
        let (started, request) = match &s.sa_query {
            Some(q) => (q.started_us, None),
            None => {
                // Ask on a link the association still has (the request came on `link`).
                let (q_link, q_sta) = if s.link_addr(link) == Some(sta_link) {
                    (link, sta_link)
                } else {
                    match s.links.first() {
                        Some(&l) => l,
                        None => return (Comeback::Proceed, None),
                    }
                };
                let trans_id = self.new_trans_id();
                self.stations[si].sa_query = Some(SaQuery {
                    link: q_link,
                    sta_link: q_sta,
                    trans_ids: vec![trans_id],
                    started_us: tsf_us,
                    sent_us: tsf_us,
                });
                let tx = self.sa_query_frame(si, q_link, q_sta, SA_QUERY_REQUEST, trans_id);
                (tsf_us, tx)
            }
        };
        let elapsed_tu = tsf_us.saturating_sub(started) / TU_US;
        let left = SA_QUERY_MAX_TU.saturating_sub(elapsed_tu).max(1);
        (Comeback::After(left as u32), request)
    }

    fn new_trans_id(&mut self) -> [u8; 2] {
        let mut id = [0u8; 2];
        self.rng.fill(&mut id);
        id
    }

    /// An SA Query action frame to station `si`, protected with its PTK.
    fn sa_query_frame(
        &mut self,
        si: usize,
        link: usize,
        sta_link: MacAddr,
        action: u8,
        trans_id: [u8; 2],
    ) -> Option<Tx> {
        let body = [CATEGORY_SA_QUERY, action, trans_id[0], trans_id[1]];
        let tx = self.mgmt(link, mgmt_subtype::ACTION, sta_link, &body);
        self.protect_for_station(si, tx)
    }

    /// A (decrypted) SA Query action frame body from `sa` on `link`.
    pub(super) fn on_sa_query(
        &mut self,
        link: usize,
        sa: MacAddr,
        body: &[u8],
        protected: bool,
    ) -> Vec<Tx> {
        let (Some(&action), Some(trans_id)) = (body.get(1), body.get(2..4)) else {
            return Vec::new();
        };
        let trans_id = [trans_id[0], trans_id[1]];
        let Some(si) = self
            .stations
            .iter()
            .position(|s| s.associated() && s.link_addr(link) == Some(sa))
        else {
            return Vec::new();
        };
        // A robust action frame: only its protected form counts once the PTK is in place.
        if !protected {
            return Vec::new();
        }
        match action {
            SA_QUERY_REQUEST => {
                self.counters.sa_query_answered += 1;
                self.sa_query_frame(si, link, sa, SA_QUERY_RESPONSE, trans_id)
                    .into_iter()
                    .collect()
            }
            SA_QUERY_RESPONSE => {
                let s = &mut self.stations[si];
                if s.sa_query
                    .as_ref()
                    .is_some_and(|q| q.trans_ids.contains(&trans_id))
                {
                    // The station holds the SA: its association stays.
                    s.sa_query = None;
                    self.counters.sa_query_confirmed += 1;
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Retries unanswered SA Queries every [`SA_QUERY_RETRY_TU`] and gives up after
    /// [`SA_QUERY_MAX_TU`]: the station's next association then replaces the old one.
    pub(super) fn poll_sa_queries(&mut self, tsf_us: u64) -> Vec<Tx> {
        let mut out = Vec::new();
        for si in 0..self.stations.len() {
            let Some(q) = self.stations[si].sa_query.clone() else {
                continue;
            };
            if tsf_us >= q.started_us + SA_QUERY_MAX_TU * TU_US {
                let s = &mut self.stations[si];
                s.sa_query = None;
                s.sa_query_timed_out = true;
                self.counters.sa_query_timeouts += 1;
                continue;
            }
            if tsf_us >= q.sent_us + SA_QUERY_RETRY_TU * TU_US {
                let trans_id = self.new_trans_id();
                if let Some(q) = self.stations[si].sa_query.as_mut() {
                    q.trans_ids.push(trans_id);
                    q.sent_us = tsf_us;
                }
                out.extend(self.sa_query_frame(si, q.link, q.sta_link, SA_QUERY_REQUEST, trans_id));
            }
        }
        out
    }
}

/// The Timeout Interval element with an association comeback time (TUs).
pub fn comeback_element(tu: u32) -> [u8; 7] {
    let v = tu.to_le_bytes();
    [
        ELEMENT_TIMEOUT_INTERVAL,
        5,
        TIMEOUT_ASSOC_COMEBACK,
        v[0],
        v[1],
        v[2],
        v[3],
    ]
}
