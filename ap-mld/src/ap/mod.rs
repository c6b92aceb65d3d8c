//! The AP MLD's management state machine: frames in, frames out, time passed in.
//!
//! Per link it writes beacons; it answers probe requests (with complete per-STA profiles of
//! the requested links for ML probe requests), Open System or SAE authentication (`sae`), and
//! (re)association with a Basic Multi-Link element whose per-STA profiles follow the
//! inheritance rules; it assigns AIDs, forgets stations on deauthentication or
//! disassociation, and removes links with a Reconfiguration Multi-Link element counting
//! down the TBTTs.
//!
//! Addresses: a frame arrives on a link (the radio that heard it); the station is known by
//! its MLD address (non-AP MLD) or its only address (legacy station) and by its address on
//! each link it set up. Frames go out with link addresses in A1/A2/A3.

use hwsim_frame::ie::{
    self, mgmt_body_elements, ElementId, IeRepr, MultiLinkRepr, MultiLinkType, StaInfo,
};
use hwsim_frame::mac::{mgmt_subtype, Frame, FrameType, MgmtBuilder, MgmtHeaderRepr};
use hwsim_frame::MacAddr;

use hwsim_crypto::keys::{Akm, GroupKeys};
use hwsim_crypto::owe::{OweDhParam, OweKeyPair, OWE_GROUP_P256};
use hwsim_crypto::rng::SeededRng;

mod assoc;
mod data;
pub mod health;
mod pmksa;
mod rekey;
mod sa_query;
mod sae;
mod ttlm;

pub use pmksa::{MAX_PMKSA, PMK_LIFETIME_US};
pub use sa_query::{
    comeback_element, CATEGORY_SA_QUERY, SA_QUERY_MAX_TU, SA_QUERY_REQUEST, SA_QUERY_RESPONSE,
    SA_QUERY_RETRY_TU,
};
pub use sae::{MAX_OPEN_SAE, SAE_COMMITTED_TIMEOUT_US};
pub use ttlm::{
    classify_tid, NegotiatedTtlm, TtlmRefusal, CATEGORY_PROTECTED_EHT, STATUS_DENIED_TTLM,
    TTLM_REQUEST, TTLM_RESPONSE, TTLM_TEARDOWN,
};

use crate::config::{ApConfig, LinkConfig, Security};
use crate::elements::{self, eid, Ie, Neighbor, StaProfile};
use crate::security::{LinkGroup, Pmksa, StaKeys};

/// Status codes used here.
pub mod status {
    /// Successful.
    pub const SUCCESS: u16 = 0;
    /// Unspecified failure.
    pub const UNSPECIFIED: u16 = 1;
    /// Authentication algorithm not supported.
    pub const AUTH_ALG_UNSUPPORTED: u16 = 13;
    /// Authentication rejected: the challenge (SAE confirm) failed.
    pub const CHALLENGE_FAIL: u16 = 15;
    /// Association rejected temporarily; try again after the comeback time (SA Query).
    pub const REJECTED_TEMPORARILY: u16 = 30;
    /// Invalid PMKID in the association request.
    pub const INVALID_PMKID: u16 = 53;
    /// SAE password identifier not known.
    pub const UNKNOWN_PASSWORD_IDENTIFIER: u16 = 123;
    /// Association denied: the AP cannot handle more stations.
    pub const TOO_MANY_STATIONS: u16 = 17;
    /// Invalid RSNE / AKM / cipher.
    pub const INVALID_RSNE: u16 = 72;
    /// Finite cyclic group not supported (OWE, SAE).
    pub const UNSUPPORTED_GROUP: u16 = 77;
    /// Denied: the requested link is not accepted.
    pub const LINK_NOT_ACCEPTED: u16 = 1;
}

/// Reason codes used here.
pub mod reason {
    /// Deauthenticated because the station is leaving / the AP stops.
    pub const LEAVING: u16 = 3;
    /// Class 3 frame from a station that is not associated.
    pub const NOT_ASSOCIATED: u16 = 7;
    /// 4-way handshake timeout.
    pub const HANDSHAKE_TIMEOUT: u16 = 15;
    /// Group key handshake timeout.
    pub const GROUP_KEY_TIMEOUT: u16 = 16;
}

/// A frame to transmit on a link (index into the config's links).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tx {
    /// Link index.
    pub link: usize,
    /// The 802.11 frame.
    pub frame: Vec<u8>,
}

/// Something the runtime logs or acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A station associated (MLD address, or its address for a legacy station) with these
    /// links (link index, the station's address on it).
    Associated {
        /// MLD (or station) address.
        sta: MacAddr,
        /// AID.
        aid: u16,
        /// (link index, station link address).
        links: Vec<(usize, MacAddr)>,
    },
    /// A station left.
    Left {
        /// MLD (or station) address.
        sta: MacAddr,
    },
    /// A station finished the 4-way handshake: its data now flows.
    Authorized {
        /// MLD (or station) address.
        sta: MacAddr,
    },
    /// A link stopped (its removal timer ran out).
    LinkRemoved {
        /// Link ID.
        link_id: u8,
    },
}

/// How a station is attached.
pub struct Station {
    /// MLD address for a non-AP MLD, else the station's address.
    pub addr: MacAddr,
    /// True if it set up a multi-link association.
    pub mlo: bool,
    /// AID (0 until associated).
    pub aid: u16,
    /// (link index, station address on that link) of every link set up; the first is the
    /// link it associated on.
    pub links: Vec<(usize, MacAddr)>,
    /// Authentications not yet followed by an association, one per (link, link address)
    /// they were heard on, oldest first (at most [`MAX_PENDING_AUTHS`]).
    pending: Vec<PendingAuth>,
    /// Security association (OWE, SAE) once associated.
    keys: Option<StaKeys>,
    /// The SA Query under way because the station asked to associate again while its PMF
    /// association stands.
    sa_query: Option<sa_query::SaQuery>,
    /// The last SA Query went unanswered: the next association replaces the old one.
    sa_query_timed_out: bool,
    /// The negotiated TID-to-link mapping; None = default (every TID on every link).
    pub ttlm: Option<NegotiatedTtlm>,
    /// Health of each link (by link index) as this station's acknowledgements show it.
    health: Vec<health::LinkHealth>,
}

/// One authentication of a station, waiting for the association request on the same link
/// from the same address.
///
/// Kept per (link, link address) and not one per station because a non-AP MLD's frames on
/// different links take different paths: when an attempt on one link times out and the
/// station authenticates on another, a retry or deauthentication of the old attempt may
/// still arrive after the new authentication. Keyed by MLD address alone, it would undo the
/// new attempt and the station's association request would be refused as class 2.
struct PendingAuth {
    link: usize,
    addr: MacAddr,
    /// The PMKSA an SAE authentication established, for the association to use.
    pmksa: Option<(Akm, Pmksa)>,
}

/// Authentication attempts kept per station; a further one drops the oldest. A real non-AP
/// MLD has one under way at a time, a slow medium a few: more is a flood.
const MAX_PENDING_AUTHS: usize = 4;

impl Station {
    /// The pending authentication heard as `addr` on `link`.
    fn pending_auth(&self, link: usize, addr: MacAddr) -> Option<&PendingAuth> {
        self.pending
            .iter()
            .find(|p| p.link == link && p.addr == addr)
    }

    /// Records an authentication heard as `addr` on `link`, replacing an earlier one there.
    fn add_pending_auth(&mut self, link: usize, addr: MacAddr, pmksa: Option<(Akm, Pmksa)>) {
        self.pending.retain(|p| !(p.link == link && p.addr == addr));
        if self.pending.len() >= MAX_PENDING_AUTHS {
            self.pending.remove(0);
        }
        self.pending.push(PendingAuth { link, addr, pmksa });
    }

    /// Associated (has an AID).
    pub fn associated(&self) -> bool {
        self.aid != 0
    }

    /// Data may flow: associated, and on a secured network the 4-way handshake is done.
    pub fn authorized(&self) -> bool {
        self.associated() && self.keys.as_ref().is_none_or(|k| k.ptk.is_some())
    }

    /// Associated with the PTK in place: management frames are protected (PMF).
    fn pmf(&self) -> bool {
        self.associated() && self.keys.as_ref().is_some_and(|k| k.ptk.is_some())
    }

    /// The station's address on `link`, if it set that link up.
    pub fn link_addr(&self, link: usize) -> Option<MacAddr> {
        self.links.iter().find(|(l, _)| *l == link).map(|(_, a)| *a)
    }
}

/// Data-path counters, per link index. Serialized as `ap stats` shows them: the per-link
/// vectors are left out here and shown per link by [`crate::runtime::ApStats`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DataCounters {
    /// Data frames (MSDUs) sent per link, EAPOL included.
    #[serde(skip)]
    pub tx: Vec<u64>,
    /// Data frames received per link.
    #[serde(skip)]
    pub rx: Vec<u64>,
    /// Received data frames dropped (not associated, no key, MIC failure, replay, no
    /// LLC/SNAP).
    #[serde(rename = "data_rx_dropped")]
    pub rx_dropped: u64,
    /// 4-way handshakes completed.
    pub handshakes: u64,
    /// Group key rekeys started (`group_rekey_s`).
    pub group_rekeys: u64,
    /// Group messages 1 sent again after no answer.
    pub group_msg_retries: u64,
    /// Stations deauthenticated for leaving the group key handshake unanswered.
    pub group_handshake_failures: u64,
    /// Stations that left (deauthentication / disassociation).
    pub departures: u64,
    /// SAE authentications completed (both confirms verified).
    pub sae_accepted: u64,
    /// SAE frames refused (bad commit, wrong password, unsupported group, token needed,
    /// reflection).
    pub sae_rejected: u64,
    /// Data frames sent on behalf of one station to others (intra-BSS relay, group frames
    /// counted once per link).
    pub relayed: u64,
    /// (Re)association requests answered with status 30 while an SA Query ran.
    pub assoc_comebacks: u64,
    /// SA Queries the station answered (its association stayed).
    pub sa_query_confirmed: u64,
    /// SA Queries that went unanswered (the next association replaced the old one).
    pub sa_query_timeouts: u64,
    /// SA Query requests from stations answered.
    pub sa_query_answered: u64,
    /// Negotiated TID-to-link mapping.
    pub ttlm: TtlmCounters,
    /// Links marked down and recovered ([`health`]).
    pub link_health: health::LinkHealthCounters,
    /// Unicast downlink data frames whose link a negotiated mapping chose, per link.
    #[serde(skip)]
    pub ttlm_steered: Vec<u64>,
    /// Associations that used a cached PMKSA (no SAE exchange, no OWE DH).
    pub pmksa_cache_hits: u64,
    /// Downlink or relayed MSDUs dropped because their frame would exceed the 2304 bytes a
    /// station's mac80211_hwsim accepts.
    pub tx_oversize: u64,
}

/// Negotiated TID-to-link mapping counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TtlmCounters {
    /// Requests accepted.
    pub accepted: u64,
    /// Requests refused (status 133).
    pub refused: u64,
    /// Mappings torn down by the station.
    pub teardowns: u64,
    /// Uplink data frames that came on a link their TID is not mapped to (counted, kept).
    pub uplink_off_mapping: u64,
}

struct LinkState {
    cfg: LinkConfig,
    elements: Vec<Ie>,
    bpcc: u8,
    seq: u16,
    /// TBTTs left until removal (Some while counting down).
    removal: Option<u16>,
    /// Stopped: no beacons, no frames.
    removed: bool,
    /// TBTTs the Reconfiguration element is still carried after removal.
    reconf_tail: u16,
    /// Group keys (secured networks).
    group: Option<LinkGroup>,
}

/// The AP MLD.
pub struct ApMld {
    cfg: ApConfig,
    links: Vec<LinkState>,
    stations: Vec<Station>,
    rng: SeededRng,
    events: Vec<Event>,
    /// Ethernet frames from stations, for the distribution system (TAP).
    uplink: Vec<Vec<u8>>,
    /// Round-robin counter for frames relayed between stations.
    relay_counter: u64,
    /// Sequence number of group-addressed data, one space for the whole MLD: a non-AP MLD
    /// drops a group frame whose number is not after the last one's (mac80211's MLO multicast
    /// duplicate detection), so unicast traffic must not advance it.
    group_seq: u16,
    counters: DataCounters,
    /// SAE password token and per-peer exchanges (security = "sae").
    sae: Option<sae::SaeAp>,
    /// PMKSAs of stations, for their next association.
    pmksa_cache: pmksa::PmksaCache,
    /// Generation of the group keys in use (each rekey adds one).
    group_generation: u64,
    /// The group rekey under way, waiting for the stations.
    rekey: Option<rekey::GroupRekey>,
    /// TSF (µs) the next group rekey is due at (set on the first poll).
    next_rekey_us: Option<u64>,
}

/// Microseconds before an unanswered EAPOL-Key message is sent again, and how often.
const EAPOL_TIMEOUT_US: u64 = 1_000_000;
const EAPOL_RETRIES: u8 = 4;

/// TBTTs the Reconfiguration Multi-Link element stays in beacons after the link is gone, with
/// timer 0, so a station that missed the countdown still drops the link.
const RECONF_TAIL_TBTTS: u16 = 20;
/// Highest AID handed out.
const MAX_AID: u16 = 2007;

impl ApMld {
    /// An AP MLD for `cfg` whose keys, nonces and DH keys all follow from `seed`: the same
    /// seed gives the same run, and anyone who knows it can derive every key. For tests and
    /// reproducible runs (`key_seed`); [`ApMld::with_os_entropy`] otherwise.
    pub fn new(cfg: ApConfig, seed: u64) -> ApMld {
        Self::with_rng(cfg, SeededRng::new(seed))
    }

    /// An AP MLD for `cfg` whose randomness is seeded with 256 bits from the operating system
    /// (getrandom): its keys cannot be derived from anything outside the process.
    pub fn with_os_entropy(cfg: ApConfig) -> std::io::Result<ApMld> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(std::io::Error::from)?;
        Ok(Self::with_rng(cfg, SeededRng::from_seed(seed)))
    }

    fn with_rng(cfg: ApConfig, mut rng: SeededRng) -> ApMld {
        let links: Vec<LinkState> = cfg
            .links
            .iter()
            .map(|l| LinkState {
                cfg: l.clone(),
                elements: elements::link_elements(l, cfg.security, cfg.beacon_protection),
                bpcc: 0,
                seq: 0,
                removal: None,
                removed: false,
                reconf_tail: 0,
                group: (cfg.security != Security::Open)
                    .then(|| LinkGroup::new(GroupKeys::generate(&mut rng, cfg.beacon_protection))),
            })
            .collect();
        let n = links.len();
        let sae = match (cfg.security, cfg.passphrase.as_deref()) {
            (Security::Sae, Some(pass)) => Some(sae::SaeAp::new(&cfg.ssid, pass, &mut rng)),
            _ => None,
        };
        ApMld {
            cfg,
            links,
            stations: Vec::new(),
            rng,
            events: Vec::new(),
            uplink: Vec::new(),
            relay_counter: 0,
            group_seq: 0,
            counters: DataCounters {
                tx: vec![0; n],
                rx: vec![0; n],
                ttlm_steered: vec![0; n],
                link_health: health::LinkHealthCounters {
                    down_per_link: vec![0; n],
                    recovered_per_link: vec![0; n],
                    ..Default::default()
                },
                ..DataCounters::default()
            },
            sae,
            pmksa_cache: pmksa::PmksaCache::default(),
            group_generation: 0,
            rekey: None,
            next_rekey_us: None,
        }
    }

    /// Data-path counters.
    pub fn counters(&self) -> &DataCounters {
        &self.counters
    }

    /// Ethernet frames received from stations since the last call.
    pub fn take_uplink(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.uplink)
    }

    /// The configuration.
    pub fn config(&self) -> &ApConfig {
        &self.cfg
    }

    /// Stations known (authenticated or associated).
    pub fn stations(&self) -> &[Station] {
        &self.stations
    }

    /// Events since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// True if the link (index) still operates.
    pub fn link_active(&self, link: usize) -> bool {
        self.links.get(link).is_some_and(|l| !l.removed)
    }

    /// Index of the link that has `bssid`, if any.
    pub fn link_by_bssid(&self, bssid: MacAddr) -> Option<usize> {
        self.links.iter().position(|l| l.cfg.bssid == bssid)
    }

    fn active_links(&self) -> usize {
        self.links.iter().filter(|l| !l.removed).count()
    }

    /// Starts removing link `link_id` in `tbtts` beacon intervals (at least 1).
    pub fn remove_link(&mut self, link_id: u8, tbtts: u16) -> Result<(), String> {
        let staying = self
            .links
            .iter()
            .filter(|l| !l.removed && l.removal.is_none())
            .count();
        let l = self
            .links
            .iter_mut()
            .find(|l| l.cfg.id == link_id)
            .ok_or_else(|| format!("no link {link_id}"))?;
        if l.removed || l.removal.is_some() {
            return Err(format!("link {link_id} is already being removed"));
        }
        if staying <= 1 {
            return Err("cannot remove the last link".into());
        }
        l.removal = Some(tbtts.max(1));
        Ok(())
    }

    fn next_seq(&mut self, link: usize) -> u16 {
        let l = &mut self.links[link];
        l.seq = (l.seq + 1) & 0x0fff;
        l.seq
    }

    fn mgmt(&mut self, link: usize, subtype: u8, a1: MacAddr, body: &[u8]) -> Tx {
        let bssid = self.links[link].cfg.bssid;
        let seq = self.next_seq(link);
        let header = MgmtHeaderRepr::new(subtype, a1, bssid, bssid, seq);
        Tx {
            link,
            frame: MgmtBuilder::new(&header).bytes(body).finish(),
        }
    }

    fn neighbors(&self, of: usize) -> Vec<Neighbor> {
        self.links
            .iter()
            .enumerate()
            .filter(|(i, l)| *i != of && !l.removed)
            .map(|(_, l)| Neighbor {
                link: l.cfg.clone(),
                bpcc: l.bpcc,
            })
            .collect()
    }

    fn reconf_element(&self) -> Option<Ie> {
        let removals: Vec<(u8, u16)> = self
            .links
            .iter()
            .filter_map(|l| match (l.removal, l.removed && l.reconf_tail > 0) {
                (Some(t), _) => Some((l.cfg.id, t)),
                (None, true) => Some((l.cfg.id, 0)),
                _ => None,
            })
            .collect();
        (!removals.is_empty()).then(|| elements::reconf_ml_removal(self.cfg.mld_addr, &removals))
    }

    /// Fixed fields of a beacon / probe response: timestamp, beacon interval, capability.
    fn beacon_fixed(&self, link: usize, tsf_us: u64) -> Vec<u8> {
        let mut b = tsf_us.to_le_bytes().to_vec();
        b.extend_from_slice(&self.cfg.beacon_interval_tu.to_le_bytes());
        b.extend_from_slice(
            &elements::capability(&self.links[link].cfg, self.cfg.security).to_le_bytes(),
        );
        b
    }

    fn ssid_ie(&self) -> Ie {
        Ie {
            id: ie::id::SSID,
            ext: None,
            data: self.cfg.ssid.as_bytes().to_vec(),
        }
    }

    /// The body elements of a beacon or probe response on `link`, with `ml` as its Basic
    /// Multi-Link element.
    fn bss_body(&self, link: usize, tsf_us: u64, beacon: bool, ml: Ie) -> Vec<u8> {
        let mut body = self.beacon_fixed(link, tsf_us);
        self.ssid_ie().write(&mut body);
        let l = &self.links[link];
        for e in &l.elements {
            e.write(&mut body);
            if beacon && e.id == eid::DS_PARAMS
                || beacon && l.cfg.band == crate::config::Band::G6 && e.id == eid::SUPP_RATES
            {
                // TIM after DS Parameter Set (or after the rates on 6 GHz): DTIM count 0,
                // period 1, no buffered traffic.
                Ie {
                    id: eid::TIM,
                    ext: None,
                    data: vec![0, 1, 0, 0],
                }
                .write(&mut body);
            }
        }
        if let Some(rnr) = elements::rnr(&self.cfg.ssid, &self.neighbors(link)) {
            rnr.write(&mut body);
        }
        ml.write(&mut body);
        if let Some(r) = self.reconf_element() {
            r.write(&mut body);
        }
        body
    }

    /// The beacon for `link` at TSF `tsf_us`, and advances the link-removal countdowns when
    /// `link` is the first active link (one TBTT per beacon interval). `None` if the link
    /// is removed.
    pub fn beacon(&mut self, link: usize, tsf_us: u64) -> Option<Tx> {
        if link == self.first_active_link() {
            self.tick_removals();
        }
        let l = self.links.get(link)?;
        if l.removed {
            return None;
        }
        let ml =
            elements::basic_ml_beacon(self.cfg.mld_addr, l.cfg.id, l.bpcc, self.active_links());
        let body = self.bss_body(link, tsf_us, true, ml);
        let mut tx = self.mgmt(link, mgmt_subtype::BEACON, MacAddr::BROADCAST, &body);
        if let Some(g) = self.links[link].group.as_mut() {
            g.protect_beacon(&mut tx.frame);
        }
        Some(tx)
    }

    fn first_active_link(&self) -> usize {
        self.links.iter().position(|l| !l.removed).unwrap_or(0)
    }

    fn tick_removals(&mut self) {
        for i in 0..self.links.len() {
            let l = &mut self.links[i];
            if l.removed && l.reconf_tail > 0 {
                l.reconf_tail -= 1;
            }
            match l.removal {
                Some(t) if t > 1 => l.removal = Some(t - 1),
                Some(_) => {
                    l.removal = None;
                    l.removed = true;
                    l.reconf_tail = RECONF_TAIL_TBTTS;
                    let id = l.cfg.id;
                    for s in &mut self.stations {
                        s.links.retain(|(li, _)| *li != i);
                    }
                    self.events.push(Event::LinkRemoved { link_id: id });
                }
                None => {}
            }
        }
    }

    /// Handles a frame heard on `link`; returns the frames to send.
    pub fn handle(&mut self, link: usize, frame: &[u8], tsf_us: u64) -> Vec<Tx> {
        if !self.link_active(link) {
            return Vec::new();
        }
        let Ok(f) = Frame::new_checked(frame) else {
            return Vec::new();
        };
        let fc = f.frame_control();
        if fc.frame_type() == FrameType::Data {
            return self.handle_data(link, frame);
        }
        if fc.frame_type() != FrameType::Management {
            return Vec::new();
        }
        let Some(sa) = f.addr2() else {
            return Vec::new();
        };
        if fc.protected() {
            // A robust management frame under the station's PTK (PMF): act on it only if it
            // decrypts and is not a replay.
            return match self.unprotect_mgmt(link, sa, frame) {
                Some(plain) => self.handle_mgmt(link, sa, &plain, tsf_us, true),
                None => {
                    self.counters.rx_dropped += 1;
                    Vec::new()
                }
            };
        }
        self.handle_mgmt(link, sa, frame, tsf_us, false)
    }

    fn handle_mgmt(
        &mut self,
        link: usize,
        sa: MacAddr,
        frame: &[u8],
        tsf_us: u64,
        protected: bool,
    ) -> Vec<Tx> {
        let Ok(f) = Frame::new_checked(frame) else {
            return Vec::new();
        };
        let fc = f.frame_control();
        let bssid = self.links[link].cfg.bssid;
        let da = f.addr1();
        let for_us = da == bssid || da == self.cfg.mld_addr;
        match fc.subtype() {
            mgmt_subtype::PROBE_REQ if da.is_group() || for_us => self
                .probe_response(link, sa, &f, tsf_us)
                .into_iter()
                .collect(),
            mgmt_subtype::AUTH if for_us => self.authenticate(link, sa, f.payload(), tsf_us),
            mgmt_subtype::ASSOC_REQ | mgmt_subtype::REASSOC_REQ if for_us => self.associate(
                link,
                sa,
                &f,
                fc.subtype() == mgmt_subtype::REASSOC_REQ,
                tsf_us,
            ),
            mgmt_subtype::ACTION if for_us => match f.payload().first() {
                Some(&CATEGORY_SA_QUERY) => self.on_sa_query(link, sa, f.payload(), protected),
                Some(&CATEGORY_PROTECTED_EHT) => {
                    self.on_protected_eht(link, sa, f.payload(), protected)
                }
                _ => Vec::new(),
            },
            mgmt_subtype::DEAUTH | mgmt_subtype::DISASSOC if for_us => {
                // With PMF in force an unprotected one could be forged: ignore it. (A
                // station that really lost its keys associates again, which the SA Query
                // of `sa_query` sorts out.) One from an address that only authenticated
                // since ends that attempt, not the association. Before association it ends
                // the attempt it was heard on; the station goes once none is left.
                match self.station_index(link, sa) {
                    Some(i) if !protected && self.stations[i].pmf() => {
                        let s = &mut self.stations[i];
                        if s.link_addr(link) != Some(sa) {
                            s.pending.retain(|p| !(p.link == link && p.addr == sa));
                        }
                    }
                    Some(i) if !self.stations[i].associated() => {
                        let s = &mut self.stations[i];
                        s.pending.retain(|p| !(p.link == link && p.addr == sa));
                        if s.pending.is_empty() {
                            // Never associated: nothing departs.
                            let s = self.stations.remove(i);
                            self.sae_forget(s.addr);
                        }
                    }
                    Some(_) => self.forget(link, sa),
                    None => {}
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The AP stops: a broadcast deauthentication (reason 3, leaving) on every link that has
    /// associated stations, protected with BIP-CMAC-128 under the link's IGTK on a secured
    /// network (a group addressed robust management frame, IEEE 802.11-2020 12.5.4), and
    /// every station is forgotten.
    pub fn shutdown(&mut self) -> Vec<Tx> {
        let mut out = Vec::new();
        for link in 0..self.links.len() {
            let used = self
                .stations
                .iter()
                .any(|s| s.associated() && s.link_addr(link).is_some());
            if !self.link_active(link) || !used {
                continue;
            }
            let reason = reason::LEAVING.to_le_bytes();
            let mut tx = self.mgmt(link, mgmt_subtype::DEAUTH, MacAddr::BROADCAST, &reason);
            if let Some(g) = self.links[link].group.as_mut() {
                g.protect_group_mgmt(&mut tx.frame);
            }
            out.push(tx);
        }
        for s in std::mem::take(&mut self.stations) {
            if s.associated() {
                self.counters.departures += 1;
                self.events.push(Event::Left { sta: s.addr });
            }
        }
        out
    }

    /// The station whose address on `link` (or MLD address) is `addr`.
    fn station_index(&self, link: usize, addr: MacAddr) -> Option<usize> {
        self.stations.iter().position(|s| {
            s.addr == addr
                || s.links.iter().any(|&(l, a)| l == link && a == addr)
                || s.pending_auth(link, addr).is_some()
        })
    }

    /// The station (associated or not) by any of its addresses.
    pub fn station(&self, addr: MacAddr) -> Option<&Station> {
        self.stations
            .iter()
            .find(|s| s.addr == addr || s.links.iter().any(|&(_, a)| a == addr))
    }

    fn forget(&mut self, link: usize, sa: MacAddr) {
        if let Some(i) = self.station_index(link, sa) {
            let s = self.stations.remove(i);
            self.sae_forget(s.addr);
            self.counters.departures += 1;
            self.events.push(Event::Left { sta: s.addr });
        }
    }

    fn probe_response(
        &mut self,
        link: usize,
        sa: MacAddr,
        f: &Frame<&[u8]>,
        tsf_us: u64,
    ) -> Option<Tx> {
        let elems = mgmt_body_elements(f)?;
        let mut ssid_ok = false;
        let mut ml_request: Option<Vec<u8>> = None;
        for e in elems {
            let Ok(e) = e else { return None };
            match e.element_id() {
                ElementId::Ssid => {
                    ssid_ok = e.data.is_empty() || e.data == self.cfg.ssid.as_bytes();
                }
                ElementId::MultiLink => {
                    let mut scratch = vec![0u8; e.len()];
                    if let Ok(m) = MultiLinkRepr::parse_defragment(&e, &mut scratch) {
                        if m.kind == MultiLinkType::ProbeRequest
                            && m.common.ap_mld_id.unwrap_or(0) == 0
                        {
                            let mut ids: Vec<u8> =
                                m.per_sta_profiles().map(|p| p.link_id()).collect();
                            if ids.is_empty() {
                                ids = self
                                    .links
                                    .iter()
                                    .filter(|l| !l.removed)
                                    .map(|l| l.cfg.id)
                                    .collect();
                            }
                            ml_request = Some(ids);
                        }
                    }
                }
                _ => {}
            }
        }
        if !ssid_ok {
            return None;
        }
        let l = &self.links[link];
        let ml = match &ml_request {
            None => {
                elements::basic_ml_beacon(self.cfg.mld_addr, l.cfg.id, l.bpcc, self.active_links())
            }
            Some(ids) => {
                let profiles: Vec<StaProfile> = self
                    .links
                    .iter()
                    .filter(|o| o.cfg.id != l.cfg.id && !o.removed && ids.contains(&o.cfg.id))
                    .map(|o| {
                        let mut body = elements::capability(&o.cfg, self.cfg.security)
                            .to_le_bytes()
                            .to_vec();
                        elements::write_all(
                            &elements::profile_elements(&o.elements, &l.elements),
                            &mut body,
                        );
                        StaProfile {
                            link_id: o.cfg.id,
                            info: self.sta_info(o),
                            body,
                        }
                    })
                    .collect();
                elements::basic_ml_with_profiles(
                    self.cfg.mld_addr,
                    l.cfg.id,
                    l.bpcc,
                    self.active_links(),
                    &profiles,
                )
            }
        };
        let body = self.bss_body(link, tsf_us, false, ml);
        Some(self.mgmt(link, mgmt_subtype::PROBE_RESP, sa, &body))
    }

    /// STA Info of an affiliated AP in a complete per-STA profile.
    fn sta_info(&self, l: &LinkState) -> StaInfo<'static> {
        StaInfo {
            mac_addr: Some(l.cfg.bssid),
            beacon_interval: Some(self.cfg.beacon_interval_tu),
            // All links share one TSF here.
            tsf_offset: Some(0),
            dtim: Some(ie::DtimInfo {
                count: 0,
                period: 1,
            }),
            bss_params_change_count: Some(l.bpcc),
            ..StaInfo::default()
        }
    }

    fn authenticate(&mut self, link: usize, sa: MacAddr, body: &[u8], tsf_us: u64) -> Vec<Tx> {
        let (Some(alg), Some(seq)) = (le16(body, 0), le16(body, 2)) else {
            return Vec::new();
        };
        if alg == hwsim_crypto::sae::AUTH_ALG_SAE {
            let Some(frame) = sae::split(body, tsf_us) else {
                return Vec::new();
            };
            // The elements follow the SAE fields: group, scalar and element of an H2E commit,
            // send-confirm and confirm of a confirm.
            let fixed = if seq == 1 { 2 + 32 + 64 } else { 2 + 32 };
            let sta_mld = basic_ml_mld_addr(frame.fields.get(fixed..).unwrap_or(&[]));
            return self.sae_auth(link, sa, frame, sta_mld);
        }
        if seq != 1 {
            return Vec::new();
        }
        // An MLO authentication carries a Basic Multi-Link element with the MLD address.
        let sta_mld = basic_ml_mld_addr(body.get(6..).unwrap_or(&[]));
        // Open System, also on SAE: a station with a cached PMKSA comes back this way, and
        // its association request must then name that PMKSA (hostapd accepts the
        // authentication and refuses the association with status 53 if none is cached).
        let status_code = if alg == 0 {
            status::SUCCESS
        } else {
            status::AUTH_ALG_UNSUPPORTED
        };
        if status_code == status::SUCCESS {
            self.authenticated(sta_mld.unwrap_or(sa), sta_mld.is_some(), link, sa, None);
        }
        vec![self.auth_reply(link, sa, alg, 2, status_code, &[], sta_mld.is_some())]
    }

    /// Records a successful authentication of `addr` (heard as `sa` on `link`). It replaces
    /// an association the station had, except a PMF association: that one stays until the
    /// station's next association request has been through the SA Query (an unprotected
    /// Authentication frame may be forged). Before association it joins the station's other
    /// pending attempts (see [`PendingAuth`]): whichever the association request names wins.
    fn authenticated(
        &mut self,
        addr: MacAddr,
        mlo: bool,
        link: usize,
        sa: MacAddr,
        pmksa: Option<(Akm, Pmksa)>,
    ) {
        if let Some(i) = self.stations.iter().position(|s| s.addr == addr) {
            let s = &mut self.stations[i];
            if !s.associated() || s.pmf() && !s.sa_query_timed_out {
                s.add_pending_auth(link, sa, pmksa);
                return;
            }
            self.stations.remove(i);
        }
        self.stations.push(Station {
            addr,
            mlo,
            aid: 0,
            links: Vec::new(),
            pending: vec![PendingAuth {
                link,
                addr: sa,
                pmksa,
            }],
            keys: None,
            sa_query: None,
            sa_query_timed_out: false,
            ttlm: None,
            health: Vec::new(),
        });
    }

    /// An Authentication frame to `sa`: algorithm, transaction, status, `fields`, and for a
    /// multi-link setup a Basic Multi-Link element with only our MLD address.
    #[allow(clippy::too_many_arguments)]
    fn auth_reply(
        &mut self,
        link: usize,
        sa: MacAddr,
        alg: u16,
        seq: u16,
        status_code: u16,
        fields: &[u8],
        mlo: bool,
    ) -> Tx {
        let mut reply = Vec::with_capacity(6 + fields.len() + 16);
        reply.extend_from_slice(&alg.to_le_bytes());
        reply.extend_from_slice(&seq.to_le_bytes());
        reply.extend_from_slice(&status_code.to_le_bytes());
        reply.extend_from_slice(fields);
        if mlo {
            let ml = MultiLinkRepr {
                kind: MultiLinkType::Basic,
                common: ie::CommonInfo {
                    mld_addr: Some(self.cfg.mld_addr),
                    ..ie::CommonInfo::default()
                },
                links: Vec::new(),
            };
            let mut buf = vec![0u8; ml.element_len()];
            let n = ml.emit_element(&mut buf).expect("encodable");
            reply.extend_from_slice(&buf[..n]);
        }
        self.mgmt(link, mgmt_subtype::AUTH, sa, &reply)
    }

    /// The cached PMKSA of `sta` (identity: MLD address or address) that one of `pmkids`
    /// names, for this network's AKM.
    fn cached_pmksa(
        &mut self,
        sta: MacAddr,
        pmkids: &[[u8; 16]],
        now_us: u64,
    ) -> Option<(Akm, Pmksa)> {
        if pmkids.is_empty() {
            return None;
        }
        let security = self.cfg.security;
        self.pmksa_cache.find(
            sta,
            pmkids,
            |akm| match security {
                Security::Sae => akm == Akm::Sae,
                Security::Owe => matches!(akm, Akm::Owe { .. }),
                Security::Open => false,
            },
            now_us,
        )
    }

    fn next_aid(&self) -> Option<u16> {
        (1..=MAX_AID).find(|a| !self.stations.iter().any(|s| s.aid == *a))
    }

    /// A complete per-STA profile for link `li` in an association response sent on `main`.
    fn assoc_profile(&self, li: usize, main: usize, link_status: u16) -> StaProfile {
        let o = &self.links[li];
        let mut body = elements::capability(&o.cfg, self.cfg.security)
            .to_le_bytes()
            .to_vec();
        body.extend_from_slice(&link_status.to_le_bytes());
        if link_status == status::SUCCESS {
            let own = assoc_resp_elements(&o.elements);
            let main_set = assoc_resp_elements(&self.links[main].elements);
            elements::write_all(&elements::profile_elements(&own, &main_set), &mut body);
        }
        StaProfile {
            link_id: o.cfg.id,
            info: self.sta_info(o),
            body,
        }
    }

    /// The link a station's downlink frame of TID 0 goes out on and the station's address
    /// there (see [`ApMld::downlink_link_for_tid`]): without a negotiated mapping,
    /// round-robin over the station's links that still operate, advanced by `counter`.
    pub fn downlink_link(&self, sta: MacAddr, counter: u64) -> Option<(usize, MacAddr)> {
        self.downlink_link_for_tid(sta, 0, counter)
    }

    /// The link's configuration.
    pub fn link_config(&self, link: usize) -> &LinkConfig {
        &self.links[link].cfg
    }

    /// Next sequence number on a link (for data frames the runtime writes).
    pub fn take_seq(&mut self, link: usize) -> u16 {
        self.next_seq(link)
    }
}

/// The elements of an association response: the link's elements without the DS Parameter
/// Set, ERP, RSNE and RSNXE (which belong to beacons and probe responses).
pub(crate) fn assoc_resp_elements(link: &[Ie]) -> Vec<Ie> {
    link.iter()
        .filter(|e| !matches!(e.id, eid::DS_PARAMS | eid::ERP | ie::id::RSN | ie::id::RSNX))
        .cloned()
        .collect()
}

/// The link's RSNE (among its elements) with `pmkid` as its PMKID List, as a whole element.
fn rsne_with_pmkid(link: &[Ie], pmkid: [u8; 16]) -> Vec<u8> {
    let Some(r) = link
        .iter()
        .find(|e| e.id == ie::id::RSN)
        .and_then(|e| ie::RsnRepr::parse(&e.data).ok())
    else {
        return Vec::new();
    };
    let ids = [pmkid];
    let with = ie::RsnRepr {
        pmkids: Some(ie::PmkidList::Ids(&ids)),
        ..r
    };
    let mut buf = vec![0u8; with.buffer_len()];
    match with.emit(&mut buf) {
        Ok(n) => whole_element(ie::id::RSN, None, &buf[..n]),
        Err(_) => Vec::new(),
    }
}

fn whole_element(id: u8, ext: Option<u8>, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    Ie {
        id,
        ext,
        data: data.to_vec(),
    }
    .write(&mut v);
    v
}

/// The MLD address of the Basic Multi-Link element among `elements`, if there is one.
fn basic_ml_mld_addr(elements: &[u8]) -> Option<MacAddr> {
    let mut sta_mld = None;
    for e in ie::Elements::new(elements).flatten() {
        if e.element_id() == ElementId::MultiLink {
            let mut scratch = vec![0u8; e.len()];
            if let Ok(m) = MultiLinkRepr::parse_defragment(&e, &mut scratch) {
                if m.kind == MultiLinkType::Basic {
                    sta_mld = m.common.mld_addr;
                }
            }
        }
    }
    sta_mld
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}
