//! The demo's non-AP MLD: one simulated guest with three radios (one per link) that sets up a
//! protected multi-link association with the built-in AP MLD the way a Wi-Fi 7 station does.
//!
//! Scan (a beacon with the AP MLD's Basic Multi-Link element on each link, RSNE noted), ML
//! probe request on the 5 GHz link, Open System authentication, association request with
//! per-STA profiles for the other two links plus RSNE (OWE, PMF required) and OWE DH
//! Parameter element; OWE gives the PMK; the MLO 4-way handshake runs as supplicant
//! (`hwsim_crypto::supplicant`): the AP's MIC is verified, its GTK/IGTK KDEs unwrapped, and
//! every link's RSNE in its MLO Link KDE compared with that link's beacons. Then CCMP-protected
//! QoS data on all three links (AAD and nonce with the MLD addresses), and at the end a
//! protected deauthentication.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hwsim_crypto::bip::BipKey;
use hwsim_crypto::ccmp::{AadAddrs, CcmpKey, ReplayCounters};
use hwsim_crypto::keys::{Akm, Cipher};
use hwsim_crypto::owe::{OweDhParam, OweKeyPair, OWE_DH_ELEMENT_EXT_ID, OWE_GROUP_P256};
use hwsim_crypto::rng::SeededRng;
use hwsim_crypto::supplicant::{Supplicant, SupplicantConfig, SupplicantMlo, SupplicantStep};
use hwsim_frame::ie::{self, ElementId, IeRepr, MultiLinkRepr, MultiLinkType};
use hwsim_frame::mac::{self, mgmt_subtype, FrameType};
use hwsim_frame::MacAddr;

use crate::frames::{self, LINKS};
use crate::guest::{Received, SimGuest};
use crate::scene::{wire, Phases, StaReport, AP_MLD, HOST, STA_MLD};

/// The link the station probes, authenticates and associates on (5 GHz).
pub const SETUP_LINK: usize = 1;

/// How long the station waits for an answer before sending again.
const RETRY: Duration = Duration::from_millis(200);

/// LLC/SNAP header for an EtherType (RFC 1042).
const LLC_SNAP: [u8; 6] = [0xaa, 0xaa, 0x03, 0, 0, 0];
const ETHERTYPE_EAPOL: u16 = 0x888e;
/// The demo's payload EtherType (local experimental).
pub const ETHERTYPE_DEMO: u16 = 0x88b5;
/// TID of EAPOL frames (voice, as mac80211's control port frames).
const EAPOL_TID: u8 = 7;

/// The VM number of the station's guest (the AP MLD connects first).
const VM: u8 = 2;

/// Where the station is in its setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StaState {
    Scanning,
    Probing,
    Authenticating,
    Associating,
    Handshake,
    Secured,
}

/// The pairwise key in use and its counters.
struct Ptksa {
    key: CcmpKey,
    next_pn: u64,
    replay: ReplayCounters,
}

/// Per-link sequence numbers.
#[derive(Default)]
struct Seqs([u16; 3]);

impl Seqs {
    fn next(&mut self, link: usize) -> u16 {
        self.0[link] = (self.0[link] + 1) & 0x0fff;
        self.0[link]
    }
}

/// The link a received frame belongs to: the receiving radio's, if it was sent on that link's
/// channel (a radio only hears its own channel).
fn link_of(rx: &Received) -> Option<usize> {
    (0..LINKS.len()).find(|&l| rx.radio == wire(VM, l) && rx.freq == LINKS[l].freq)
}

/// The Basic Multi-Link element of a management frame: (MLD address, link ID, per-STA
/// profiles as (link ID, address, status code when `status` is set)).
type BasicMl = (
    Option<MacAddr>,
    Option<u8>,
    Vec<(u8, Option<MacAddr>, Option<u16>)>,
);

fn basic_ml(f: &mac::Frame<&[u8]>, status: bool) -> Option<BasicMl> {
    for e in ie::mgmt_body_elements(f)?.flatten() {
        if e.element_id() != ElementId::MultiLink {
            continue;
        }
        let mut scratch = vec![0u8; e.len()];
        let ml = MultiLinkRepr::parse_defragment(&e, &mut scratch).ok()?;
        if ml.kind != MultiLinkType::Basic {
            continue;
        }
        let profiles = ml
            .per_sta_profiles()
            .map(|p| {
                let s = status
                    .then(|| {
                        p.profile
                            .get(2..4)
                            .map(|s| u16::from_le_bytes([s[0], s[1]]))
                    })
                    .flatten();
                (p.link_id(), p.mac_addr(), s)
            })
            .collect();
        return Some((ml.common.mld_addr, ml.common.link_id(), profiles));
    }
    None
}

/// The whole element `id` (extension `ext`) of a management frame.
fn element(f: &mac::Frame<&[u8]>, id: u8, ext: Option<u8>) -> Option<Vec<u8>> {
    ie::mgmt_body_elements(f)?.flatten().find_map(|e| {
        if e.id != id || e.ext != ext {
            return None;
        }
        let data = e.contiguous()?;
        let mut whole = vec![0u8; ie::element_len(ext, data.len())];
        let n = ie::write_element(&mut whole, id, ext, data).ok()?;
        whole.truncate(n);
        Some(whole)
    })
}

/// A QoS Data frame header: `to_ds` from the STA (A1 BSSID, A2 STA, A3 DA), else to it.
fn data_header(a1: MacAddr, a2: MacAddr, a3: MacAddr, to_ds: bool, seq: u16, tid: u8) -> Vec<u8> {
    let mut f = Vec::with_capacity(26 + 8 + 64 + 16);
    f.extend_from_slice(&[0x88, if to_ds { 0x01 } else { 0x02 }, 0, 0]);
    f.extend_from_slice(&a1.0);
    f.extend_from_slice(&a2.0);
    f.extend_from_slice(&a3.0);
    f.extend_from_slice(&(seq << 4).to_le_bytes());
    f.extend_from_slice(&[tid, 0]);
    f
}

fn put_msdu(f: &mut Vec<u8>, ethertype: u16, payload: &[u8]) {
    f.extend_from_slice(&LLC_SNAP);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
}

/// CCMP AAD addresses between the two MLDs on link `l` (12.5.2.3.3 of 802.11be: the MLD
/// addresses stand for the link addresses).
fn aad(frame: &[u8], l: usize) -> Option<AadAddrs> {
    AadAddrs::mld_data(
        frame,
        &AP_MLD.links[l].0,
        &AP_MLD.mld.0,
        &STA_MLD.links[l].0,
        &STA_MLD.mld.0,
    )
}

/// The non-AP MLD guest: set up, exchange protected data until told to stop, deauthenticate.
pub fn run_sta(
    socket: &std::path::Path,
    phases: &Phases,
    gap: Duration,
) -> Result<StaReport, String> {
    let radios: Vec<(MacAddr, MacAddr)> = (0..3).map(|l| (wire(VM, l), STA_MLD.links[l])).collect();
    let mut g = SimGuest::connect(socket, &radios)?;
    let start = Instant::now();
    let mut report = StaReport::default();
    let mut rng = SeededRng::new(0x57a);
    let owe = OweKeyPair::generate(&mut rng);
    let mut owe_dh = Vec::new();
    owe.dh_param().emit_element(&mut owe_dh);
    let rsne = frames::owe_rsne();
    let mut seqs = Seqs::default();
    let mut state = StaState::Scanning;
    // Each link's RSNE as its beacons advertise it.
    let mut beacon_rsne: [Option<Vec<u8>>; 3] = [None, None, None];
    let mut supplicant: Option<Supplicant> = None;
    let mut ptksa: Option<Ptksa> = None;
    // Beacon protection: each link's BIGTK from message 3 and the last BIPN accepted.
    let mut bigtks: [Option<(BipKey, u64)>; 3] = [None, None, None];
    let mut sent_at = start;
    let mut next_data = start;
    let setup = &LINKS[SETUP_LINK];
    let setup_wire = wire(VM, SETUP_LINK);
    let ap_setup = AP_MLD.links[SETUP_LINK];
    let sta_setup = STA_MLD.links[SETUP_LINK];
    let mut rx = Vec::new();
    while !phases.traffic_done.load(Ordering::Acquire) {
        let now = Instant::now();
        let request = match state {
            StaState::Probing => Some(frames::ml_probe_request(
                &AP_MLD,
                &STA_MLD,
                setup,
                seqs.next(SETUP_LINK),
            )),
            StaState::Authenticating => Some(frames::authentication(
                sta_setup,
                ap_setup,
                ap_setup,
                STA_MLD.mld,
                1,
                seqs.next(SETUP_LINK),
            )),
            StaState::Associating => Some(frames::assoc_request(
                &AP_MLD,
                &STA_MLD,
                setup,
                &rsne,
                &owe_dh,
                seqs.next(SETUP_LINK),
            )),
            _ => None,
        };
        if let Some(req) = request.filter(|_| now >= sent_at) {
            g.transmit(setup_wire, setup.freq, &req)?;
            sent_at = now + RETRY;
        }
        if let (StaState::Secured, Some(k)) = (state, ptksa.as_mut()) {
            if now >= next_data {
                for (l, link) in LINKS.iter().enumerate() {
                    let mut f = data_header(
                        AP_MLD.links[l],
                        STA_MLD.links[l],
                        HOST,
                        true,
                        seqs.next(l),
                        0,
                    );
                    put_msdu(&mut f, ETHERTYPE_DEMO, b"vhost-hwsim demo: uplink");
                    let a = aad(&f, l);
                    k.key
                        .encrypt(&mut f, k.next_pn, 0, a.as_ref())
                        .map_err(|e| format!("CCMP: {e}"))?;
                    if report.data_tx.iter().all(|n| *n == 0) && l == 0 {
                        report.note(
                            start,
                            format!(
                                "first protected QoS data sent (CCMP, PN {}), all three links",
                                k.next_pn
                            ),
                        );
                    }
                    k.next_pn += 1;
                    if g.transmit(wire(VM, l), link.freq, &f)? {
                        report.data_tx[l] += 1;
                    }
                }
                next_data += gap;
            }
        }
        g.poll(&mut rx);
        for r in rx.drain(..) {
            let Some(l) = link_of(&r) else {
                continue;
            };
            let Ok(f) = mac::Frame::new_checked(&r.frame[..]) else {
                continue;
            };
            let fc = f.frame_control();
            let for_us = f.addr1() == STA_MLD.links[l];
            if fc.frame_type() == FrameType::Data {
                if !for_us || !fc.from_ds() || fc.to_ds() {
                    continue;
                }
                let mut plain = r.frame.clone();
                if fc.protected() {
                    let Some(k) = ptksa.as_mut() else {
                        report.rx_dropped += 1;
                        continue;
                    };
                    let a = aad(&plain, l);
                    let ok = k
                        .key
                        .decrypt(&mut plain, a.as_ref())
                        .ok()
                        .filter(|rx| k.replay.check_and_update(rx).is_ok());
                    let Some(ok) = ok else {
                        report.rx_dropped += 1;
                        continue;
                    };
                    if report.data_rx.iter().all(|n| *n == 0) {
                        report.note(
                            start,
                            format!(
                                "first protected QoS data from the AP MLD decrypted (link {l}, PN {})",
                                ok.pn
                            ),
                        );
                    }
                }
                let hdr =
                    mac::Frame::new_checked(&plain[..]).map_or(plain.len(), |f| f.header_len());
                let body = &plain[hdr.min(plain.len())..];
                if body.len() < 8 || body[..6] != LLC_SNAP {
                    report.rx_dropped += 1;
                    continue;
                }
                let ethertype = u16::from_be_bytes([body[6], body[7]]);
                if ethertype == ETHERTYPE_EAPOL {
                    let Some(s) = supplicant.as_mut() else {
                        continue;
                    };
                    match s.receive(&body[8..]) {
                        Ok(SupplicantStep::Send(reply)) => {
                            report.note(start, eapol_note(reply_kind(&reply)));
                            let mut f = data_header(
                                ap_setup,
                                sta_setup,
                                AP_MLD.mld,
                                true,
                                seqs.next(SETUP_LINK),
                                EAPOL_TID,
                            );
                            put_msdu(&mut f, ETHERTYPE_EAPOL, &reply);
                            g.transmit(setup_wire, setup.freq, &f)?;
                        }
                        Ok(SupplicantStep::Complete { msg4, keys }) => {
                            report.note(
                                start,
                                "EAPOL-Key 3/4: MIC verified, Key Data unwrapped".into(),
                            );
                            let mut f = data_header(
                                ap_setup,
                                sta_setup,
                                AP_MLD.mld,
                                true,
                                seqs.next(SETUP_LINK),
                                EAPOL_TID,
                            );
                            put_msdu(&mut f, ETHERTYPE_EAPOL, &msg4);
                            g.transmit(setup_wire, setup.freq, &f)?;
                            report.note(start, "EAPOL-Key 4/4 sent".into());
                            let rsne_match = keys.ap_links.iter().all(|al| {
                                usize::from(al.link_id) < 3
                                    && beacon_rsne[usize::from(al.link_id)].as_deref()
                                        == Some(&al.rsne[..])
                            });
                            if !rsne_match {
                                return Err(
                                    "the MLO Link KDEs' RSNEs differ from the beacons'".into()
                                );
                            }
                            let key = CcmpKey::new(keys.ptk.tk()).map_err(|e| e.to_string())?;
                            ptksa = Some(Ptksa {
                                key,
                                next_pn: 1,
                                replay: ReplayCounters::default(),
                            });
                            let groups: Vec<String> = keys
                                .groups
                                .iter()
                                .map(|gk| {
                                    format!(
                                        "link {} GTK id {}{}{}",
                                        gk.link_id,
                                        gk.gtk.key_id,
                                        gk.igtk.as_ref().map_or(String::new(), |i| format!(
                                            " IGTK id {}",
                                            i.key_id
                                        )),
                                        gk.bigtk.as_ref().map_or(String::new(), |b| format!(
                                            " BIGTK id {}",
                                            b.key_id
                                        ))
                                    )
                                })
                                .collect();
                            for gk in &keys.groups {
                                let l = usize::from(gk.link_id);
                                if let (Some(b), Some(slot)) = (&gk.bigtk, bigtks.get_mut(l)) {
                                    let key = BipKey::new(&b.key).map_err(|e| e.to_string())?;
                                    *slot = Some((key, b.pn));
                                }
                            }
                            report.note(
                                start,
                                format!(
                                    "4-way handshake complete, PTK/GTK installed ({}; link RSNEs match the beacons)",
                                    groups.join(", ")
                                ),
                            );
                            report.secured = true;
                            phases.secured.store(true, Ordering::Release);
                            state = StaState::Secured;
                            next_data = Instant::now();
                        }
                        // The demo's AP MLD runs without group rekeying.
                        Ok(SupplicantStep::GroupRekey { .. }) => report.note(
                            start,
                            "EAPOL-Key group 1/2 unexpected (no rekeying in the demo)".into(),
                        ),
                        Err(e) => report.note(start, format!("EAPOL-Key refused: {e}")),
                    }
                } else if ethertype == ETHERTYPE_DEMO && fc.protected() {
                    report.data_rx[l] += 1;
                } else {
                    report.rx_dropped += 1;
                }
                continue;
            }
            if fc.frame_type() != FrameType::Management {
                continue;
            }
            let subtype = fc.subtype();
            let before = state;
            match (state, subtype) {
                (StaState::Scanning, mgmt_subtype::BEACON) => {
                    if let Some((Some(mld), Some(id), _)) = basic_ml(&f, false) {
                        if mld == AP_MLD.mld && usize::from(id) == l && beacon_rsne[l].is_none() {
                            beacon_rsne[l] = element(&f, ie::id::RSN, None);
                            let akm_owe = beacon_rsne[l].as_deref().is_some_and(|r| {
                                ie::RsnRepr::parse(&r[2..]).is_ok_and(|r| {
                                    r.akms.is_some_and(|a| a.contains(ie::Suite::AKM_OWE))
                                })
                            });
                            report.note(
                                start,
                                format!(
                                    "scan: beacon on {} MHz from {} (AP MLD {mld}, link {id}{})",
                                    r.freq,
                                    f.addr2().unwrap_or_default(),
                                    if akm_owe { ", RSN: OWE" } else { "" }
                                ),
                            );
                        }
                    }
                    if beacon_rsne.iter().all(Option::is_some) {
                        state = StaState::Probing;
                    }
                }
                // Beacon protection, as mac80211 checks it: the MME must verify under the
                // link's BIGTK with a BIPN above the last one accepted.
                (StaState::Secured, mgmt_subtype::BEACON) => {
                    if let Some((bigtk, last)) = bigtks[l].as_mut() {
                        match bigtk.verify(&r.frame) {
                            Ok(rx) if rx.ipn > *last => {
                                *last = rx.ipn;
                                report.beacons_verified[l] += 1;
                            }
                            _ => report.beacons_failed += 1,
                        }
                    }
                }
                (StaState::Probing, mgmt_subtype::PROBE_RESP) if for_us && l == SETUP_LINK => {
                    if let Some((_, _, profiles)) = basic_ml(&f, false) {
                        let links: Vec<String> = profiles
                            .iter()
                            .map(|(id, a, _)| format!("link {id} {}", a.unwrap_or_default()))
                            .collect();
                        report.note(
                            start,
                            format!(
                                "ML probe response with per-STA profiles: {}",
                                links.join(", ")
                            ),
                        );
                        state = StaState::Authenticating;
                    }
                }
                // Open System, transaction 2, success.
                (StaState::Authenticating, mgmt_subtype::AUTH)
                    if for_us && f.payload().get(..6) == Some(&[0, 0, 2, 0, 0, 0]) =>
                {
                    report.note(start, "authenticated (Open System)".into());
                    state = StaState::Associating;
                }
                (StaState::Associating, mgmt_subtype::ASSOC_RESP) if for_us => {
                    let status = f
                        .payload()
                        .get(2..4)
                        .map(|s| u16::from_le_bytes([s[0], s[1]]));
                    let profiles = basic_ml(&f, true).map(|(_, _, p)| p).unwrap_or_default();
                    let all_ok = profiles.len() == 2 && profiles.iter().all(|p| p.2 == Some(0));
                    let dh = element(&f, ie::id::EXTENSION, Some(OWE_DH_ELEMENT_EXT_ID));
                    if status != Some(0) || !all_ok {
                        return Err(format!(
                            "association refused: status {status:?}, per-STA profiles {profiles:?}"
                        ));
                    }
                    let param = dh
                        .as_deref()
                        .and_then(|d| OweDhParam::parse_element(d).ok())
                        .filter(|p| p.group == OWE_GROUP_P256)
                        .ok_or("the association response has no OWE DH Parameter element")?;
                    let owe_keys = owe.sta_derive(&param).map_err(|e| format!("OWE: {e}"))?;
                    report.note(
                        start,
                        format!(
                            "associated on links 0, 1, 2 (status 0 on link {SETUP_LINK}, per-STA profiles: {}); OWE: PMK derived (group 19)",
                            profiles
                                .iter()
                                .map(|(id, _, s)| format!("link {id} status {}", s.unwrap_or(0)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    report.associated = true;
                    supplicant = Some(Supplicant::new(
                        SupplicantConfig {
                            akm: Akm::Owe {
                                group: OWE_GROUP_P256,
                            },
                            cipher: Cipher::Ccmp128,
                            aa: AP_MLD.mld.0,
                            spa: STA_MLD.mld.0,
                            pmk: owe_keys.pmk.to_vec(),
                            sta_rsne: rsne.clone(),
                            sta_rsnxe: None,
                            mlo: Some(SupplicantMlo {
                                assoc_link_id: LINKS[SETUP_LINK].id,
                                other_links: LINKS
                                    .iter()
                                    .filter(|o| o.id != LINKS[SETUP_LINK].id)
                                    .map(|o| (o.id, STA_MLD.links[usize::from(o.id)].0))
                                    .collect(),
                            }),
                        },
                        &mut rng,
                    ));
                    state = StaState::Handshake;
                }
                _ => {}
            }
            if state != before {
                sent_at = Instant::now();
                let what = match state {
                    StaState::Probing => format!(
                        "ML probe request on link {SETUP_LINK} ({} MHz) for links 0 and 2",
                        setup.freq
                    ),
                    StaState::Authenticating => "authentication request".into(),
                    StaState::Associating => "association request: per-STA profiles for links 0 and 2, RSNE (OWE, PMF required), OWE DH Parameter".into(),
                    _ => continue,
                };
                report.note(start, what);
            }
        }
        let wake = match state {
            StaState::Secured => next_data,
            StaState::Handshake => now + Duration::from_millis(10),
            _ => sent_at,
        };
        g.wait(
            wake.saturating_duration_since(Instant::now())
                .min(Duration::from_millis(10)),
        );
    }
    if let Some(k) = ptksa.as_mut() {
        // A robust management frame under PMF: CCMP with the MLD addresses in the AAD.
        let mut d = frames::deauthentication(sta_setup, ap_setup, ap_setup, seqs.next(SETUP_LINK));
        let a = aad(&d, SETUP_LINK);
        k.key
            .encrypt(&mut d, k.next_pn, 0, a.as_ref())
            .map_err(|e| format!("CCMP: {e}"))?;
        k.next_pn += 1;
        g.transmit(setup_wire, setup.freq, &d)?;
        report.note(
            start,
            "protected deauthentication (reason 3, leaving, CCMP): the whole MLD leaves".into(),
        );
    }
    report.tally = g.finish(Duration::from_secs(2));
    Ok(report)
}

/// Which EAPOL-Key message the supplicant answered with (2 or 4), from its Key Information.
fn reply_kind(pdu: &[u8]) -> u8 {
    let info = pdu
        .get(5..7)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    if info & hwsim_crypto::eapol::KeyInfo::SECURE != 0 {
        4
    } else {
        2
    }
}

fn eapol_note(kind: u8) -> String {
    match kind {
        2 => "EAPOL-Key 1/4 (ANonce, AP MLD address KDE) -> 2/4 (SNonce, RSNE, MLD address and MLO Link KDEs)".into(),
        _ => "EAPOL-Key 3/4 again -> 4/4 again".into(),
    }
}
