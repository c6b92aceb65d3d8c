//! The MLD state machine: fed one management frame at a time (with the radio and frequency it
//! was sent on), it keeps which link belongs to which AP MLD or non-AP MLD. Single-threaded;
//! [`super::MldService`] runs it on the tracker thread.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use hwsim_frame::ie::{self, ElementId, MultiLinkRepr, MultiLinkType, ReducedNeighborReport};
use hwsim_frame::mac::{self, mgmt_subtype, FrameType};
use hwsim_frame::MacAddr;
use hwsim_radio::band::{band_of, Band};
use hwsim_radio::peer::PeerCaps;

use super::{LinkInfo, MldInfo, MldKind, MldTable};
use crate::switch::RadioKey;

/// Associations requested and not yet answered that are remembered (beyond this, new ones are
/// ignored and counted).
const MAX_PENDING: usize = 256;

/// Transmitters whose last beacon / probe response content is remembered for change detection.
const MAX_SEEN: usize = 4096;

/// Link addresses whose advertised capabilities are remembered (beyond this, new ones are
/// ignored: their pairs keep the medium's configured rates).
const MAX_CAPS: usize = 4096;

/// Reconfiguration operation types that take a link away (802.11be-2024 Table 9-417o).
const RECONF_AP_REMOVAL: u8 = 0;
const RECONF_DELETE_LINK: u8 = 3;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Link {
    addr: MacAddr,
    radio: Option<RadioKey>,
    freq: Option<u32>,
    seen: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Mld {
    ap_mld: Option<MacAddr>,
    links: BTreeMap<u8, Link>,
}

#[derive(Clone, Debug)]
struct Pending {
    mld: MacAddr,
    radio: RadioKey,
    freq: u32,
    links: Vec<(u8, MacAddr)>,
}

/// What the tracker did, for the stats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrackerCounters {
    /// Frames looked at.
    pub processed: u64,
    /// Beacons / probe responses skipped because their multi-link content had not changed.
    pub unchanged: u64,
    /// Multi-Link or RNR elements that did not parse (ignored).
    pub malformed: u64,
    /// Association requests not remembered because too many were pending.
    pub pending_overflow: u64,
    /// Times the table changed.
    pub changes: u64,
    /// Successful (status 0) association and reassociation responses seen, MLD or not.
    pub associations: u64,
}

/// The MLD table being built.
#[derive(Debug, Default)]
pub struct MldTracker {
    aps: BTreeMap<MacAddr, Mld>,
    stas: BTreeMap<MacAddr, Mld>,
    pending: HashMap<(MacAddr, MacAddr), Pending>,
    seen: HashMap<(RadioKey, u32, MacAddr), u64>,
    /// What each link address advertised it can receive, and the radio it came from.
    caps: BTreeMap<MacAddr, (RadioKey, PeerCaps)>,
    /// The published capabilities of each address one frame touched, before the frame: a
    /// frame may name one address twice (a station's own and a per-STA profile's), so whether
    /// the table changed is judged once the whole frame is learned.
    caps_before: Vec<(MacAddr, Option<PeerCaps>)>,
    counters: TrackerCounters,
    malformed: BTreeMap<&'static str, u64>,
}

/// What one beacon / probe response / association response says about its AP MLD.
#[derive(Default)]
struct ApView {
    mld: Option<MacAddr>,
    link_id: Option<u8>,
    /// Per-STA profiles: link ID, address, status (association responses).
    profiles: Vec<(u8, Option<MacAddr>, Option<u16>)>,
    /// Reconfiguration: MLD address if given, links removed.
    removals: Vec<(Option<MacAddr>, u8)>,
    /// RNR entries of the same MLD: link ID, BSSID, frequency.
    neighbors: Vec<(u8, MacAddr, Option<u32>)>,
}

impl MldTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tracker's counters.
    pub fn counters(&self) -> TrackerCounters {
        self.counters
    }

    /// Malformed elements by error name.
    pub fn malformed(&self) -> &BTreeMap<&'static str, u64> {
        &self.malformed
    }

    /// Learns from one frame `radio` sent on `freq`. Returns true if the table changed.
    pub fn observe(&mut self, radio: RadioKey, freq: u32, bytes: &[u8]) -> bool {
        let Ok(frame) = mac::Frame::new_checked(bytes) else {
            return false;
        };
        let fc = frame.frame_control();
        let changed = match fc.frame_type() {
            FrameType::Management => {
                self.counters.processed += 1;
                self.management(radio, freq, &frame)
            }
            FrameType::Data => {
                self.counters.processed += 1;
                frame
                    .addr2()
                    .is_some_and(|a| self.link_transmitted(radio, freq, a))
            }
            _ => false,
        };
        let changed = self.caps_changed() | changed;
        if changed {
            self.counters.changes += 1;
        }
        changed
    }

    /// Whether the capabilities of the addresses the frame touched differ from before it (see
    /// `caps_before`); forgets them.
    fn caps_changed(&mut self) -> bool {
        let changed = self
            .caps_before
            .iter()
            .any(|(a, old)| self.caps.get(a).map(|(_, c)| *c) != *old);
        self.caps_before.clear();
        changed
    }

    fn management(&mut self, radio: RadioKey, freq: u32, frame: &mac::Frame<&[u8]>) -> bool {
        let fc = frame.frame_control();
        match fc.subtype() {
            mgmt_subtype::BEACON | mgmt_subtype::PROBE_RESP => self.ap_frame(radio, freq, frame),
            mgmt_subtype::ASSOC_REQ | mgmt_subtype::REASSOC_REQ => {
                self.assoc_request(radio, freq, frame)
            }
            mgmt_subtype::ASSOC_RESP | mgmt_subtype::REASSOC_RESP => {
                self.assoc_response(radio, freq, frame)
            }
            // Robust management frames are protected under PMF: only the header is read.
            mgmt_subtype::DEAUTH | mgmt_subtype::DISASSOC => self.teardown(frame),
            _ => false,
        }
    }

    /// A data frame from `addr`: if that is a non-AP MLD link not seen yet, it now has its
    /// radio and frequency (a presumption until then).
    fn link_transmitted(&mut self, radio: RadioKey, freq: u32, addr: MacAddr) -> bool {
        let Some(link) = self
            .stas
            .values_mut()
            .flat_map(|m| m.links.values_mut())
            .find(|l| l.addr == addr && !l.seen)
        else {
            return false;
        };
        link.radio = Some(radio);
        link.freq = Some(freq);
        link.seen = true;
        true
    }

    /// Drops links on radios that `present` says no longer exist (their VM left), then MLDs
    /// left without any link on a known radio. Returns true if the table changed.
    pub fn prune(&mut self, present: impl Fn(&RadioKey) -> bool) -> bool {
        let mut changed = false;
        for map in [&mut self.aps, &mut self.stas] {
            map.retain(|_, mld| {
                let before = mld.links.len();
                mld.links
                    .retain(|_, l| l.radio.as_ref().is_none_or(&present));
                changed |= mld.links.len() != before;
                let keep = mld.links.values().any(|l| l.radio.is_some());
                changed |= !keep;
                keep
            });
        }
        self.pending.retain(|_, p| present(&p.radio));
        self.seen.retain(|(r, _, _), _| present(r));
        let caps_before = self.caps.len();
        self.caps.retain(|_, (r, _)| present(r));
        changed |= self.caps.len() != caps_before;
        if changed {
            self.counters.changes += 1;
        }
        changed
    }

    fn count_malformed(&mut self, name: &'static str) {
        self.counters.malformed += 1;
        *self.malformed.entry(name).or_default() += 1;
    }

    /// Reads the Multi-Link elements and RNR of a management frame body.
    fn ap_view(&mut self, frame: &mac::Frame<&[u8]>, want_status: bool) -> ApView {
        let mut view = ApView::default();
        let Some(elements) = ie::mgmt_body_elements(frame) else {
            return view;
        };
        let mut scratch = Vec::new();
        for e in elements {
            let Ok(e) = e else {
                self.count_malformed("ie_truncated");
                break;
            };
            match e.element_id() {
                ElementId::MultiLink => {
                    scratch.clear();
                    scratch.resize(e.len(), 0);
                    let ml = match MultiLinkRepr::parse_defragment(&e, &mut scratch) {
                        Ok(ml) => ml,
                        Err(err) => {
                            self.count_malformed(err.name());
                            continue;
                        }
                    };
                    match ml.kind {
                        MultiLinkType::Basic if view.mld.is_none() => {
                            view.mld = ml.common.mld_addr;
                            view.link_id = ml.common.link_id();
                            for p in ml.per_sta_profiles() {
                                let status = if want_status {
                                    p.profile
                                        .get(2..4)
                                        .map(|s| u16::from_le_bytes([s[0], s[1]]))
                                } else {
                                    None
                                };
                                view.profiles.push((p.link_id(), p.mac_addr(), status));
                            }
                        }
                        MultiLinkType::Reconfiguration => {
                            for p in ml.per_sta_profiles() {
                                let op = p.control.reconf_operation_type();
                                if op == RECONF_AP_REMOVAL || op == RECONF_DELETE_LINK {
                                    view.removals.push((ml.common.mld_addr, p.link_id()));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                ElementId::ReducedNeighborReport => {
                    for info in ReducedNeighborReport::new(e.data) {
                        let Ok(info) = info else {
                            self.count_malformed("rnr_truncated");
                            break;
                        };
                        let freq = op_class_freq(info.operating_class, info.channel);
                        for t in info.tbtt_infos() {
                            let Ok(t) = t else {
                                self.count_malformed("rnr_truncated");
                                break;
                            };
                            if let (Some(bssid), Some(m)) = (t.bssid, t.mld_params) {
                                if m.ap_mld_id == 0 {
                                    view.neighbors.push((m.link_id, bssid, freq));
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        view
    }

    fn ap_frame(&mut self, radio: RadioKey, freq: u32, frame: &mac::Frame<&[u8]>) -> bool {
        let Some(bssid) = frame.addr2().filter(|a| !a.is_group()) else {
            return false;
        };
        // Beacons repeat: act only when the multi-link content changed.
        let mut h = DefaultHasher::new();
        if let Some(elements) = ie::mgmt_body_elements(frame) {
            for e in elements.flatten() {
                if matches!(
                    e.element_id(),
                    ElementId::MultiLink | ElementId::ReducedNeighborReport
                ) || super::caps::is_read(&e)
                {
                    e.raw.hash(&mut h);
                }
            }
        }
        let digest = h.finish();
        let key = (radio, freq, bssid);
        if self.seen.get(&key) == Some(&digest) {
            self.counters.unchanged += 1;
            return false;
        }
        if self.seen.len() >= MAX_SEEN && !self.seen.contains_key(&key) {
            self.seen.clear();
        }
        self.seen.insert(key, digest);
        let learned = self.learn_caps(radio, freq, bssid, frame, true);
        let view = self.ap_view(frame, false);
        self.apply_ap_view(radio, freq, bssid, &view) | learned
    }

    /// Remembers what `addr` advertised in `frame`'s body elements on `freq`. Returns true if
    /// that changed.
    fn learn_caps(
        &mut self,
        radio: RadioKey,
        freq: u32,
        addr: MacAddr,
        frame: &mac::Frame<&[u8]>,
        ap: bool,
    ) -> bool {
        let (Some(band), Some(body)) = (band_of(freq), body_elements(frame)) else {
            return false;
        };
        let caps = super::caps::advertised(body, band, ap);
        self.set_caps(addr, radio, caps)
    }

    /// Records what `addr` advertised. The change, if any, is judged per frame
    /// (`caps_changed`), so this says false.
    fn set_caps(&mut self, addr: MacAddr, radio: RadioKey, caps: Option<PeerCaps>) -> bool {
        if !self.caps_before.iter().any(|(a, _)| *a == addr) {
            let old = self.caps.get(&addr).map(|(_, c)| *c);
            self.caps_before.push((addr, old));
        }
        match caps {
            None => {
                self.caps.remove(&addr);
            }
            Some(caps) => {
                if self.caps.len() < MAX_CAPS || self.caps.contains_key(&addr) {
                    // The radio is kept only to forget the caps when its VM leaves.
                    self.caps.insert(addr, (radio, caps));
                }
            }
        }
        false
    }

    /// The (re)association request's per-STA profiles: each names a link address of the
    /// non-AP MLD and carries that link's capability elements (or inherits the frame's). The
    /// link's band is that of the AP MLD's link with the same ID.
    fn learn_profile_caps(&mut self, radio: RadioKey, frame: &mac::Frame<&[u8]>) -> bool {
        let (Some(body), subtype) = (body_elements(frame), frame.frame_control().subtype()) else {
            return false;
        };
        let Some(fixed) = ie::sta_profile_fixed_len(subtype) else {
            return false;
        };
        let Some(ap_mld) = self.ap_of_link(frame.addr1()) else {
            return false;
        };
        let mut learned = Vec::new();
        let mut scratch = Vec::new();
        for e in ie::Elements::new(body).map_while(Result::ok) {
            if e.element_id() != ElementId::MultiLink {
                continue;
            }
            scratch.clear();
            scratch.resize(e.len(), 0);
            let Ok(ml) = MultiLinkRepr::parse_defragment(&e, &mut scratch) else {
                continue;
            };
            if ml.kind != MultiLinkType::Basic {
                continue;
            }
            for p in ml.per_sta_profiles() {
                let (Some(addr), Some(elements)) = (p.mac_addr(), p.profile.get(fixed..)) else {
                    continue;
                };
                let freq = self
                    .aps
                    .get(&ap_mld)
                    .and_then(|m| m.links.get(&p.link_id()))
                    .and_then(|l| l.freq);
                let Some(band) = freq.and_then(band_of) else {
                    continue;
                };
                let caps = super::caps::advertised_in_profile(elements, body, band, false);
                learned.push((addr, caps));
            }
        }
        let mut changed = false;
        for (addr, caps) in learned {
            changed |= self.set_caps(addr, radio, caps);
        }
        changed
    }

    /// Applies what an AP sent about its MLD; returns true if the table changed.
    fn apply_ap_view(&mut self, radio: RadioKey, freq: u32, bssid: MacAddr, v: &ApView) -> bool {
        let before = (self.aps.clone(), self.stas.clone());
        if let Some(mld_addr) = v.mld {
            if let Some(link_id) = v.link_id {
                self.set_link(
                    MldKind::Ap,
                    mld_addr,
                    link_id,
                    Link {
                        addr: bssid,
                        radio: Some(radio),
                        freq: Some(freq),
                        seen: true,
                    },
                );
            }
            for &(link_id, addr, _) in &v.profiles {
                if let Some(addr) = addr {
                    self.note_link(MldKind::Ap, mld_addr, link_id, addr, None);
                }
            }
            for &(link_id, addr, f) in &v.neighbors {
                self.note_link(MldKind::Ap, mld_addr, link_id, addr, f);
            }
        }
        for &(mld, link_id) in &v.removals {
            if let Some(mld) = mld.or(v.mld) {
                self.remove_link(mld, link_id);
            }
        }
        before != (self.aps.clone(), self.stas.clone())
    }

    fn assoc_request(&mut self, radio: RadioKey, freq: u32, frame: &mac::Frame<&[u8]>) -> bool {
        let (Some(sta), ap) = (frame.addr2(), frame.addr1()) else {
            return false;
        };
        let learned =
            self.learn_caps(radio, freq, sta, frame, false) | self.learn_profile_caps(radio, frame);
        self.assoc_pending(radio, freq, frame, sta, ap);
        learned
    }

    fn assoc_pending(
        &mut self,
        radio: RadioKey,
        freq: u32,
        frame: &mac::Frame<&[u8]>,
        sta: MacAddr,
        ap: MacAddr,
    ) {
        let view = self.ap_view(frame, false);
        let key = (sta, ap);
        let Some(mld) = view.mld else {
            self.pending.remove(&key);
            return;
        };
        if self.pending.len() >= MAX_PENDING && !self.pending.contains_key(&key) {
            self.counters.pending_overflow += 1;
            return;
        }
        let links = view
            .profiles
            .iter()
            .filter_map(|&(id, a, _)| a.map(|a| (id, a)))
            .collect();
        self.pending.insert(
            key,
            Pending {
                mld,
                radio,
                freq,
                links,
            },
        );
    }

    fn assoc_response(&mut self, radio: RadioKey, freq: u32, frame: &mac::Frame<&[u8]>) -> bool {
        let (Some(ap), sta) = (frame.addr2(), frame.addr1()) else {
            return false;
        };
        let status = frame
            .payload()
            .get(2..4)
            .map(|s| u16::from_le_bytes([s[0], s[1]]));
        if status == Some(0) {
            self.counters.associations += 1;
        }
        let view = self.ap_view(frame, true);
        let pending = self.pending.remove(&(sta, ap));
        let before = (self.aps.clone(), self.stas.clone());
        // The response also describes the AP MLD (its links' addresses).
        self.apply_ap_view(radio, freq, ap, &view);
        if let (Some(p), Some(ap_mld), Some(link_id), Some(0)) =
            (pending, view.mld, view.link_id, status)
        {
            let rejected = |id: u8| {
                view.profiles
                    .iter()
                    .any(|&(l, _, s)| l == id && s.is_some_and(|s| s != 0))
            };
            let mut mld = Mld {
                ap_mld: Some(ap_mld),
                links: BTreeMap::new(),
            };
            mld.links.insert(
                link_id,
                Link {
                    addr: sta,
                    radio: Some(p.radio),
                    freq: Some(p.freq),
                    seen: true,
                },
            );
            for &(id, addr) in p.links.iter().filter(|(id, _)| !rejected(*id)) {
                if id == link_id {
                    continue;
                }
                // mac80211_hwsim runs every link of an MLD on one radio: presume the
                // requesting radio; the frequency is the AP MLD's on that link.
                mld.links.insert(
                    id,
                    Link {
                        addr,
                        radio: Some(p.radio),
                        freq: None,
                        seen: false,
                    },
                );
            }
            for l in mld.links.values() {
                self.release_addr(l.addr, None);
            }
            self.stas.remove(&p.mld);
            self.stas.insert(p.mld, mld);
        }
        before != (self.aps.clone(), self.stas.clone())
    }

    fn teardown(&mut self, frame: &mac::Frame<&[u8]>) -> bool {
        let to = frame.addr1();
        let Some(from) = frame.addr2() else {
            return false;
        };
        self.pending
            .retain(|(sta, _), _| *sta != from && *sta != to);
        let before = self.stas.len();
        let from_ap = self.ap_of_link(from);
        self.stas.retain(|mld_addr, mld| {
            let involved = |a: MacAddr| *mld_addr == a || mld.links.values().any(|l| l.addr == a);
            let to_all = to.is_group() && from_ap.is_some() && mld.ap_mld == from_ap;
            !(involved(from) || involved(to) || to_all)
        });
        before != self.stas.len()
    }

    fn ap_of_link(&self, addr: MacAddr) -> Option<MacAddr> {
        self.aps
            .iter()
            .find(|(_, m)| m.links.values().any(|l| l.addr == addr))
            .map(|(a, _)| *a)
    }

    fn map(&mut self, kind: MldKind) -> &mut BTreeMap<MacAddr, Mld> {
        match kind {
            MldKind::Ap => &mut self.aps,
            MldKind::NonAp => &mut self.stas,
        }
    }

    /// Forgets `addr` as a link of any MLD but `keep` (MLD address, link ID): a link address
    /// belongs to one MLD at a time.
    fn release_addr(&mut self, addr: MacAddr, keep: Option<(MldKind, MacAddr, u8)>) {
        for kind in [MldKind::Ap, MldKind::NonAp] {
            for (mld_addr, mld) in self.map(kind).iter_mut() {
                mld.links
                    .retain(|id, l| l.addr != addr || keep == Some((kind, *mld_addr, *id)));
            }
            self.map(kind).retain(|_, m| !m.links.is_empty());
        }
    }

    /// Puts a link whose radio and frequency are known (it transmitted).
    fn set_link(&mut self, kind: MldKind, mld_addr: MacAddr, link_id: u8, link: Link) {
        self.release_addr(link.addr, Some((kind, mld_addr, link_id)));
        let mld = self.map(kind).entry(mld_addr).or_insert_with(|| Mld {
            ap_mld: None,
            links: BTreeMap::new(),
        });
        mld.links.insert(link_id, link);
    }

    /// Notes a link named by another link (per-STA profile, RNR): keeps what is known about
    /// it when the address is the same.
    fn note_link(
        &mut self,
        kind: MldKind,
        mld_addr: MacAddr,
        link_id: u8,
        addr: MacAddr,
        freq: Option<u32>,
    ) {
        let known = self
            .map(kind)
            .get(&mld_addr)
            .and_then(|m| m.links.get(&link_id))
            .filter(|l| l.addr == addr)
            .cloned();
        match known {
            Some(mut l) => {
                if l.freq.is_none() {
                    l.freq = freq;
                }
                self.set_link(kind, mld_addr, link_id, l);
            }
            None => self.set_link(
                kind,
                mld_addr,
                link_id,
                Link {
                    addr,
                    radio: None,
                    freq,
                    seen: false,
                },
            ),
        }
    }

    /// An AP MLD drops a link: so do the non-AP MLDs associated with it.
    fn remove_link(&mut self, ap_mld: MacAddr, link_id: u8) {
        if let Some(m) = self.aps.get_mut(&ap_mld) {
            m.links.remove(&link_id);
        }
        self.aps.retain(|_, m| !m.links.is_empty());
        for m in self.stas.values_mut().filter(|m| m.ap_mld == Some(ap_mld)) {
            m.links.remove(&link_id);
        }
        self.stas.retain(|_, m| !m.links.is_empty());
    }

    /// The table as readers see it. A non-AP MLD link whose frequency is unknown takes the
    /// frequency of its AP MLD's link with the same ID.
    pub fn table(&self) -> MldTable {
        let link_info = |id: u8, l: &Link, freq: Option<u32>| LinkInfo {
            link_id: id,
            addr: l.addr,
            radio: l.radio,
            freq: l.freq.or(freq),
            seen: l.seen,
        };
        let mut mlds = Vec::new();
        for (addr, m) in &self.aps {
            mlds.push(MldInfo {
                kind: MldKind::Ap,
                addr: *addr,
                ap_mld: None,
                links: m
                    .links
                    .iter()
                    .map(|(id, l)| link_info(*id, l, None))
                    .collect(),
            });
        }
        for (addr, m) in &self.stas {
            let ap = m.ap_mld.and_then(|a| self.aps.get(&a));
            mlds.push(MldInfo {
                kind: MldKind::NonAp,
                addr: *addr,
                ap_mld: m.ap_mld,
                links: m
                    .links
                    .iter()
                    .map(|(id, l)| {
                        let f = ap.and_then(|ap| ap.links.get(id)).and_then(|a| a.freq);
                        link_info(*id, l, f)
                    })
                    .collect(),
            });
        }
        MldTable {
            mlds,
            caps: std::sync::Arc::new(self.caps.iter().map(|(a, (_, c))| (*a, *c)).collect()),
            counters: self.counters,
            malformed: self.malformed.clone(),
        }
    }
}

/// The elements of a management frame body after its fixed fields (unprotected frames only).
fn body_elements<'a>(frame: &mac::Frame<&'a [u8]>) -> Option<&'a [u8]> {
    let fc = frame.frame_control();
    if fc.frame_type() != FrameType::Management || fc.protected() {
        return None;
    }
    let fixed = ie::mgmt_fixed_len(fc.subtype())?;
    let bytes: &'a [u8] = (*frame).into_inner();
    bytes.get(frame.header_len() + fixed..)
}

/// Frequency (MHz) of a channel in a global operating class (802.11-2020 Annex E-4): 81–84
/// 2.4 GHz, 115–130 5 GHz, 131–137 6 GHz.
pub fn op_class_freq(operating_class: u8, channel: u8) -> Option<u32> {
    let band = match operating_class {
        81..=84 => Band::Band2G4,
        115..=130 => Band::Band5G,
        131..=137 => Band::Band6G,
        _ => return None,
    };
    band.channel_to_freq(u16::from(channel)).ok()
}
