//! The AP MLD's security and data path: the 4-way handshake after an OWE association,
//! EAPOL-Key retransmissions, CCMP on unicast and group data, PMF on management frames from
//! stations, and the conversion between 802.11 QoS Data (LLC/SNAP) and Ethernet.

use hwsim_crypto::handshake::{
    Authenticator, AuthenticatorConfig, MloLink, MloRejectedLink, MloSetup, Step,
};
use hwsim_crypto::keys::Cipher;
use hwsim_frame::ie;
use hwsim_frame::mac::Frame;
use hwsim_frame::nl::MAX_FRAME_LEN;
use hwsim_frame::MacAddr;

use super::{ApMld, Event, Station, Tx, EAPOL_RETRIES, EAPOL_TIMEOUT_US};
use crate::config::Security;
use crate::security::{self, EAPOL_TID, ETHERTYPE_EAPOL};

impl ApMld {
    /// Decrypts a protected management frame from the station at `sa` on `link`. Between
    /// MLDs the station protected it with the MLD addresses (before its driver put the link
    /// addresses in), so those go into the AAD and nonce.
    pub(super) fn unprotect_mgmt(
        &mut self,
        link: usize,
        sa: MacAddr,
        frame: &[u8],
    ) -> Option<Vec<u8>> {
        let (bssid, mld) = (self.links[link].cfg.bssid, self.cfg.mld_addr);
        let s = self
            .stations
            .iter_mut()
            .find(|s| s.associated() && s.link_addr(link) == Some(sa))?;
        let aad = if s.mlo {
            security::mld_aad(frame, bssid, mld, sa, s.addr)
        } else {
            None
        };
        let k = s.keys.as_mut()?;
        let ptk = k.ptk.as_ref()?;
        let mut plain = frame.to_vec();
        let rx = ptk.decrypt(&mut plain, aad.as_ref()).ok()?;
        k.replay.check_and_update(&rx).ok()?;
        Some(plain)
    }

    /// Protects a unicast management frame (a robust action frame) to station `si` with its
    /// PTK. Between MLDs the MLD addresses go into the AAD and nonce: the station's mac80211
    /// puts them in place of the link addresses before it decrypts. None without a PTK.
    pub(super) fn protect_for_station(&mut self, si: usize, mut tx: Tx) -> Option<Tx> {
        let (bssid, mld) = (self.links[tx.link].cfg.bssid, self.cfg.mld_addr);
        let s = &mut self.stations[si];
        let sta_link = s.link_addr(tx.link)?;
        let aad = if s.mlo {
            security::mld_aad(&tx.frame, bssid, mld, sta_link, s.addr)
        } else {
            None
        };
        let k = s.keys.as_mut()?;
        let ptk = k.ptk.as_ref()?;
        ptk.encrypt(&mut tx.frame, k.tx_pn, 0, aad.as_ref()).ok()?;
        k.tx_pn += 1;
        Some(tx)
    }

    /// The whole RSNE / RSNXE a link advertises (for the handshake's comparisons).
    pub(super) fn link_rsn(&self, li: usize) -> (Vec<u8>, Option<Vec<u8>>) {
        let mut rsne = Vec::new();
        let mut rsnxe = None;
        for e in &self.links[li].elements {
            if e.id == ie::id::RSN {
                e.write(&mut rsne);
            } else if e.id == ie::id::RSNX {
                let mut v = Vec::new();
                e.write(&mut v);
                rsnxe = Some(v);
            }
        }
        (rsne, rsnxe)
    }

    /// Builds the authenticator for a station that just associated and sends message 1.
    pub(super) fn start_handshake(
        &mut self,
        si: usize,
        rejected: &[usize],
        tsf_us: u64,
    ) -> Option<Tx> {
        let s = &self.stations[si];
        let (main, main_sta_addr) = *s.links.first()?;
        let keys = s.keys.as_ref()?;
        let (ap_rsne, ap_rsnxe) = self.link_rsn(main);
        let mlo = s.mlo.then(|| MloSetup {
            assoc_link_id: self.links[main].cfg.id,
            links: s
                .links
                .iter()
                .map(|&(li, sta_addr)| {
                    let (rsne, rsnxe) = self.link_rsn(li);
                    MloLink {
                        link_id: self.links[li].cfg.id,
                        ap_addr: self.links[li].cfg.bssid.0,
                        sta_addr: sta_addr.0,
                        rsne,
                        rsnxe,
                        group: self.links[li]
                            .group
                            .as_ref()
                            .map(|g| g.handover())
                            .expect("secured links have group keys"),
                    }
                })
                .collect(),
            rejected_links: rejected
                .iter()
                .map(|&li| {
                    let (rsne, rsnxe) = self.link_rsn(li);
                    MloRejectedLink {
                        link_id: self.links[li].cfg.id,
                        ap_addr: self.links[li].cfg.bssid.0,
                        rsne,
                        rsnxe,
                    }
                })
                .collect(),
        });
        let aa = if s.mlo {
            self.cfg.mld_addr
        } else {
            self.links[main].cfg.bssid
        };
        let config = AuthenticatorConfig {
            akm: keys.akm,
            cipher: Cipher::Ccmp128,
            aa: aa.0,
            spa: s.addr.0,
            pmk: keys.pmksa.pmk.to_vec(),
            pmkid: Some(keys.pmksa.pmkid),
            sta_rsne: keys.sta_rsne.clone(),
            sta_rsnxe: keys.sta_rsnxe.clone(),
            ap_rsne,
            ap_rsnxe,
            group: self.links[main].group.as_ref()?.handover(),
            mlo,
        };
        let mut auth = Authenticator::new(config, &mut self.rng, 0);
        let msg1 = auth.message_1().ok()?;
        let sta = &mut self.stations[si];
        let keys = sta.keys.as_mut()?;
        keys.auth = Some(auth);
        keys.group_generation = self.group_generation;
        keys.eapol_sent_at = tsf_us;
        keys.eapol_retries = 0;
        Some(self.eapol_frame(main, main_sta_addr, &msg1))
    }

    /// An EAPOL PDU to a station as an unprotected QoS Data frame on `link`.
    pub(super) fn eapol_frame(&mut self, link: usize, sta_link: MacAddr, pdu: &[u8]) -> Tx {
        let seq = self.next_seq(link);
        let bssid = self.links[link].cfg.bssid;
        let sa = if self
            .stations
            .iter()
            .any(|s| s.mlo && s.link_addr(link) == Some(sta_link))
        {
            self.cfg.mld_addr
        } else {
            bssid
        };
        let mut f = security::qos_data_header(0x02, sta_link, bssid, sa, seq, EAPOL_TID);
        security::put_msdu(&mut f, ETHERTYPE_EAPOL, pdu);
        self.counters.tx[link] += 1;
        Tx { link, frame: f }
    }

    /// Resends unanswered EAPOL-Key messages; call now and then with the current TSF.
    pub fn poll(&mut self, tsf_us: u64) -> Vec<Tx> {
        let mut out = Vec::new();
        let mut gave_up = Vec::new();
        for si in 0..self.stations.len() {
            let s = &mut self.stations[si];
            let Some(&(main, sta_link)) = s.links.first() else {
                continue;
            };
            let Some(k) = s.keys.as_mut() else { continue };
            if k.ptk.is_some() || tsf_us < k.eapol_sent_at + EAPOL_TIMEOUT_US {
                continue;
            }
            let Some(auth) = k.auth.as_mut() else {
                continue;
            };
            if k.eapol_retries >= EAPOL_RETRIES {
                gave_up.push((main, sta_link));
                continue;
            }
            if let Some(pdu) = auth.retransmit() {
                k.eapol_retries += 1;
                k.eapol_sent_at = tsf_us;
                out.push(self.eapol_frame(main, sta_link, &pdu));
            }
        }
        // The handshake timed out: deauthenticate (reason 15) and forget the station.
        for (link, sta_link) in gave_up {
            let reason = super::reason::HANDSHAKE_TIMEOUT.to_le_bytes();
            out.push(self.mgmt(
                link,
                hwsim_frame::mac::mgmt_subtype::DEAUTH,
                sta_link,
                &reason,
            ));
            self.forget(link, sta_link);
        }
        out.extend(self.poll_sa_queries(tsf_us));
        out.extend(self.poll_group_rekey(tsf_us));
        out
    }

    /// A data frame heard on `link`: decrypted when protected, EAPOL to the handshake,
    /// everything else to the distribution system as Ethernet.
    pub(super) fn handle_data(&mut self, link: usize, frame: &[u8]) -> Vec<Tx> {
        let Ok(f) = Frame::new_checked(frame) else {
            return Vec::new();
        };
        let fc = f.frame_control();
        let bssid = self.links[link].cfg.bssid;
        let (Some(sta_link), Some(da)) = (f.addr2(), f.addr3()) else {
            return Vec::new();
        };
        if !fc.to_ds() || fc.from_ds() || f.addr1() != bssid {
            return Vec::new();
        }
        // Null / QoS Null frames carry nothing.
        if fc.subtype() & 0x04 != 0 {
            return Vec::new();
        }
        let Some(si) = self
            .stations
            .iter()
            .position(|s| s.associated() && s.link_addr(link) == Some(sta_link))
        else {
            self.counters.rx_dropped += 1;
            return Vec::new();
        };
        let mld = self.cfg.mld_addr;
        let s = &mut self.stations[si];
        let sta_addr = s.addr;
        let mlo = s.mlo;
        let mut plain = frame.to_vec();
        if fc.protected() {
            let Some(k) = s.keys.as_mut() else {
                self.counters.rx_dropped += 1;
                return Vec::new();
            };
            let Some(ptk) = k.ptk.as_ref() else {
                self.counters.rx_dropped += 1;
                return Vec::new();
            };
            let aad = if mlo {
                security::mld_aad(frame, bssid, mld, sta_link, sta_addr)
            } else {
                None
            };
            let ok = ptk
                .decrypt(&mut plain, aad.as_ref())
                .ok()
                .filter(|rx| k.replay.check_and_update(rx).is_ok());
            if ok.is_none() {
                self.counters.rx_dropped += 1;
                return Vec::new();
            }
        }
        let hdr = Frame::new_checked(&plain[..])
            .map(|f| f.header_len())
            .unwrap_or(plain.len());
        let Some((ethertype, payload)) = plain.get(hdr..).and_then(security::split_msdu) else {
            self.counters.rx_dropped += 1;
            return Vec::new();
        };
        self.counters.rx[link] += 1;
        if let Some(tid) = f.qos_tid() {
            self.check_uplink_mapping(si, link, tid);
        }
        if ethertype == ETHERTYPE_EAPOL {
            return self.on_eapol(si, payload);
        }
        let s = &self.stations[si];
        if !s.authorized() || fc.protected() != s.keys.is_some() {
            self.counters.rx_dropped += 1;
            return Vec::new();
        }
        let mut eth = Vec::with_capacity(14 + payload.len());
        eth.extend_from_slice(&da.0);
        eth.extend_from_slice(&sta_addr.0);
        eth.extend_from_slice(&ethertype.to_be_bytes());
        eth.extend_from_slice(payload);
        self.relay_within_bss(eth)
    }

    /// Where an MSDU from a station goes, as an AP's bridge forwards it: to another associated
    /// station directly (never to the distribution system); group-addressed, to the
    /// distribution system and back into the BSS (the sender's own copy is dropped by its
    /// address filter, as on real APs); otherwise to the distribution system. With
    /// `ap_isolate` everything goes to the distribution system only.
    fn relay_within_bss(&mut self, eth: Vec<u8>) -> Vec<Tx> {
        let da = MacAddr::from_bytes(&eth[0..6]).unwrap_or_default();
        if self.cfg.ap_isolate {
            self.uplink.push(eth);
            return Vec::new();
        }
        self.relay_counter = self.relay_counter.wrapping_add(1);
        if da.is_group() {
            let out = self.downlink(&eth, self.relay_counter);
            self.counters.relayed += out.len() as u64;
            self.uplink.push(eth);
            return out;
        }
        let to_station = self
            .stations
            .iter()
            .any(|s| s.authorized() && (s.addr == da || s.links.iter().any(|l| l.1 == da)));
        if to_station {
            let out = self.downlink(&eth, self.relay_counter);
            self.counters.relayed += out.len() as u64;
            return out;
        }
        self.uplink.push(eth);
        Vec::new()
    }

    pub(super) fn on_eapol(&mut self, si: usize, pdu: &[u8]) -> Vec<Tx> {
        let s = &mut self.stations[si];
        let Some(&(main, sta_link)) = s.links.first() else {
            return Vec::new();
        };
        let sta_addr = s.addr;
        let Some(k) = s.keys.as_mut() else {
            return Vec::new();
        };
        let Some(auth) = k.auth.as_mut() else {
            return Vec::new();
        };
        match auth.receive(pdu) {
            Ok(Step::Send(msg3)) => {
                k.eapol_retries = 0;
                vec![self.eapol_frame(main, sta_link, &msg3)]
            }
            Ok(Step::Complete(installed)) => {
                match hwsim_crypto::ccmp::CcmpKey::new(installed.ptk.tk()) {
                    Ok(key) => {
                        k.ptk = Some(key);
                        self.counters.handshakes += 1;
                        self.events.push(Event::Authorized { sta: sta_addr });
                    }
                    Err(e) => tracing::warn!(error = %e, "AP MLD: cannot install the PTK"),
                }
                Vec::new()
            }
            Ok(Step::Duplicate) => Vec::new(),
            Ok(Step::GroupComplete) => {
                self.group_rekey_answered(si);
                Vec::new()
            }
            Err(e) => {
                tracing::debug!(%sta_addr, error = %e, "AP MLD: EAPOL-Key refused");
                Vec::new()
            }
        }
    }

    /// An Ethernet frame from the distribution system: to the station it is for (unicast,
    /// on the link round-robin picks with `counter`), or as a group-addressed frame on every
    /// active link (protected with that link's GTK). Returns the frames to send.
    pub fn downlink(&mut self, eth: &[u8], counter: u64) -> Vec<Tx> {
        if eth.len() < 14 {
            return Vec::new();
        }
        let da = MacAddr::from_bytes(&eth[0..6]).unwrap_or_default();
        let sa = MacAddr::from_bytes(&eth[6..12]).unwrap_or_default();
        let ethertype = u16::from_be_bytes([eth[12], eth[13]]);
        let payload = &eth[14..];
        // The largest frame this MSDU becomes: QoS Data header, LLC/SNAP, payload and, on a
        // secured network, the CCMP header and MIC. No fragmentation: group-addressed MSDUs
        // are never fragmented (IEEE 802.11-2020 10.4), and a station's mac80211_hwsim drops
        // any received frame over IEEE80211_MAX_DATA_LEN, so one that big is dropped here,
        // counted, before it costs a sequence number or a PN.
        let secured = self.cfg.security != Security::Open;
        let frame_len = security::QOS_DATA_HEADER_LEN
            + security::LLC_SNAP_LEN
            + payload.len()
            + if secured { security::CCMP_OVERHEAD } else { 0 };
        if frame_len > MAX_FRAME_LEN {
            self.counters.tx_oversize += 1;
            return Vec::new();
        }
        if da.is_group() {
            if !self.stations.iter().any(Station::authorized) {
                return Vec::new();
            }
            // Every active link carries it, with one sequence number from the MLD's own
            // group counter (which links a non-AP MLD listens on is its own business).
            self.group_seq = (self.group_seq + 1) & 0x0fff;
            let seq = self.group_seq;
            let mut out = Vec::new();
            for link in 0..self.links.len() {
                if self.links[link].removed {
                    continue;
                }
                let bssid = self.links[link].cfg.bssid;
                let mut f = security::qos_data_header(0x02, da, bssid, sa, seq, 0);
                security::put_msdu(&mut f, ethertype, payload);
                if let Some(g) = self.links[link].group.as_mut() {
                    let key_id = g.keys.gtk.key_id;
                    if g.gtk.encrypt(&mut f, g.pn, key_id, None).is_err() {
                        continue;
                    }
                    g.pn += 1;
                }
                self.counters.tx[link] += 1;
                out.push(Tx { link, frame: f });
            }
            return out;
        }
        let tid = super::classify_tid(eth);
        let Some((link, sta_link)) = self.downlink_link_for_tid(da, tid, counter) else {
            return Vec::new();
        };
        let Some(si) = self
            .stations
            .iter()
            .position(|s| s.addr == da || s.link_addr(link) == Some(da))
        else {
            return Vec::new();
        };
        if !self.stations[si].authorized() {
            return Vec::new();
        }
        let bssid = self.links[link].cfg.bssid;
        let mld = self.cfg.mld_addr;
        let seq = self.next_seq(link);
        let mut f = security::qos_data_header(0x02, sta_link, bssid, sa, seq, tid);
        security::put_msdu(&mut f, ethertype, payload);
        let s = &mut self.stations[si];
        let (sta_addr, mlo, steered) = (s.addr, s.mlo, s.ttlm.is_some());
        if let Some(k) = s.keys.as_mut() {
            let Some(ptk) = k.ptk.as_ref() else {
                return Vec::new();
            };
            let aad = if mlo {
                security::mld_aad(&f, bssid, mld, sta_link, sta_addr)
            } else {
                None
            };
            if ptk.encrypt(&mut f, k.tx_pn, 0, aad.as_ref()).is_err() {
                return Vec::new();
            }
            k.tx_pn += 1;
        }
        self.counters.tx[link] += 1;
        if steered {
            self.counters.ttlm_steered[link] += 1;
        }
        vec![Tx { link, frame: f }]
    }
}
