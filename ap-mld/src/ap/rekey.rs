//! Group key rekeying (hostapd's `wpa_group_rekey`): every `group_rekey_s` seconds new GTK /
//! IGTK / BIGTK per link, under the other key ID of each pair, go to every station in the
//! group key handshake (IEEE 802.11-2020 12.7.7; for a non-AP MLD the MLO GTK / IGTK / BIGTK
//! KDEs of all its links in one group message 1 on its association link).
//!
//! As hostapd (GTK_INIT / SETKEYS, `wpa_group_setkeys`): the AP keeps transmitting with the
//! old keys until every station answered or failed, then switches group data, group
//! management frames and beacons to the new keys at once, so no station sees a beacon or
//! group frame under a key it does not have yet. A station that leaves group message 1
//! unanswered after the retries is deauthenticated (protected, reason 16), as hostapd does.
//!
//! Every station records the generation of the group keys it holds; whoever is behind the
//! keys in use or being rolled out (a rekey under way, or a 4-way handshake that handed over
//! keys replaced meanwhile) gets group message 1.

use hwsim_crypto::keys::GroupKeys;
use hwsim_frame::MacAddr;

use super::{ApMld, Tx, EAPOL_RETRIES, EAPOL_TIMEOUT_US};
use crate::security::{LinkGroup, EAPOL_TID};

/// A rekey waiting for the stations' group messages 2.
pub(super) struct GroupRekey {
    /// Generation of the new keys.
    generation: u64,
    /// New group state per link (None where a link has no group keys).
    new: Vec<Option<LinkGroup>>,
}

impl ApMld {
    /// Starts a rekey when due, (re)sends group message 1 where needed, deauthenticates
    /// stations that gave up, and puts the new keys into use once nobody is behind.
    pub(super) fn poll_group_rekey(&mut self, tsf_us: u64) -> Vec<Tx> {
        if self.cfg.group_rekey_s == 0 {
            return Vec::new();
        }
        let interval_us = u64::from(self.cfg.group_rekey_s) * 1_000_000;
        let next = *self.next_rekey_us.get_or_insert(tsf_us + interval_us);
        if self.rekey.is_none() && tsf_us >= next {
            let new = self
                .links
                .iter()
                .map(|l| {
                    l.group
                        .as_ref()
                        .map(|g| LinkGroup::new(g.keys.rekeyed(&mut self.rng)))
                })
                .collect();
            self.rekey = Some(GroupRekey {
                generation: self.group_generation + 1,
                new,
            });
            self.counters.group_rekeys += 1;
            // As hostapd's rekey timer: the interval counts from one rekey's start to the
            // next's.
            self.next_rekey_us = Some(tsf_us + interval_us);
        }
        let target = self
            .rekey
            .as_ref()
            .map_or(self.group_generation, |r| r.generation);
        let behind = self.stations.iter().any(|s| {
            s.keys
                .as_ref()
                .is_some_and(|k| k.ptk.is_some() && k.group_generation < target)
        });
        if !behind {
            self.finish_rekey();
            return Vec::new();
        }
        let keys = self.rollout_keys();
        let mut out = Vec::new();
        let mut gave_up: Vec<usize> = Vec::new();
        for si in 0..self.stations.len() {
            // The EAPOL TID's downlink link: one the station has not switched off with a
            // TID-to-link mapping, and not removed; retries go round its links.
            let (addr, attempt) = {
                let s = &self.stations[si];
                let k = s.keys.as_ref();
                let resend = k.is_some_and(|k| {
                    k.group_target == target
                        && k.auth.as_ref().is_some_and(|a| a.group_rekey_pending())
                });
                let retries = k.map_or(0, |k| u64::from(k.eapol_retries));
                (s.addr, retries + u64::from(resend))
            };
            let Some((main, sta_link)) = self.downlink_link_for_tid(addr, EAPOL_TID, attempt)
            else {
                continue;
            };
            let own_link_id = self.links[main].cfg.id;
            let s = &mut self.stations[si];
            let mlo = s.mlo;
            let Some(k) = s.keys.as_mut() else { continue };
            let Some(auth) = k.auth.as_mut() else {
                continue;
            };
            if k.ptk.is_none() || k.group_generation >= target {
                continue;
            }
            let pdu = if !auth.group_rekey_pending() || k.group_target != target {
                k.group_target = target;
                k.eapol_retries = 0;
                if mlo {
                    auth.group_message_1(&keys).ok()
                } else {
                    // A single-link station gets the keys of the link it is on.
                    let own: Vec<(u8, GroupKeys)> = keys
                        .iter()
                        .filter(|(id, _)| *id == own_link_id)
                        .cloned()
                        .collect();
                    auth.group_message_1(&own).ok()
                }
            } else if tsf_us < k.eapol_sent_at + EAPOL_TIMEOUT_US {
                continue;
            } else if k.eapol_retries >= EAPOL_RETRIES {
                gave_up.push(si);
                continue;
            } else {
                k.eapol_retries += 1;
                self.counters.group_msg_retries += 1;
                auth.retransmit_group()
            };
            let Some(pdu) = pdu else { continue };
            k.eapol_sent_at = tsf_us;
            let tx = self.eapol_frame(main, sta_link, &pdu);
            out.extend(self.protect_for_station(si, tx));
        }
        // Highest index first, so the indices still to go stay valid.
        for &si in gave_up.iter().rev() {
            self.counters.group_handshake_failures += 1;
            out.extend(self.deauth_protected(si, super::reason::GROUP_KEY_TIMEOUT));
        }
        self.finish_rekey();
        out
    }

    /// The keys stations should hold as group message 1 hands them over: (link ID, keys) per
    /// link still up.
    fn rollout_keys(&self) -> Vec<(u8, GroupKeys)> {
        let keys = |g: &[Option<&LinkGroup>]| -> Vec<(u8, GroupKeys)> {
            self.links
                .iter()
                .zip(g)
                .filter(|(l, _)| !l.removed)
                .filter_map(|(l, g)| g.map(|g| (l.cfg.id, g.handover())))
                .collect()
        };
        match &self.rekey {
            Some(r) => {
                let g: Vec<Option<&LinkGroup>> = r.new.iter().map(Option::as_ref).collect();
                keys(&g)
            }
            None => {
                let g: Vec<Option<&LinkGroup>> =
                    self.links.iter().map(|l| l.group.as_ref()).collect();
                keys(&g)
            }
        }
    }

    /// Puts the new keys into use once no station is behind them: neither an authorized
    /// one nor one still in its 4-way handshake. The latter was handed the keys in use when
    /// its handshake began; switching before it finishes (and then gets group message 1)
    /// would leave it with beacons and group frames under a key it does not have. A
    /// handshake that never finishes ends in the station's deauthentication, so this waits a
    /// bounded time.
    fn finish_rekey(&mut self) {
        let Some(r) = &self.rekey else { return };
        let waiting = self.stations.iter().any(|s| {
            s.keys.as_ref().is_some_and(|k| {
                (k.ptk.is_some() || k.auth.is_some()) && k.group_generation < r.generation
            })
        });
        if waiting {
            return;
        }
        let r = self.rekey.take().expect("checked above");
        for (l, new) in self.links.iter_mut().zip(r.new) {
            if new.is_some() {
                l.group = new;
            }
        }
        self.group_generation = r.generation;
    }

    /// Group message 2 accepted from station `si`: it holds the keys it was sent.
    pub(super) fn group_rekey_answered(&mut self, si: usize) {
        if let Some(k) = self.stations[si].keys.as_mut() {
            k.group_generation = k.group_target;
            k.eapol_retries = 0;
        }
        self.finish_rekey();
    }

    /// Deauthenticates station `si` (protected with its PTK) and forgets it.
    fn deauth_protected(&mut self, si: usize, reason: u16) -> Option<Tx> {
        let links = &self.links;
        let &(link, sta_link): &(usize, MacAddr) = self.stations[si]
            .links
            .iter()
            .find(|(li, _)| !links[*li].removed)?;
        let tx = self.mgmt(
            link,
            hwsim_frame::mac::mgmt_subtype::DEAUTH,
            sta_link,
            &reason.to_le_bytes(),
        );
        let tx = self.protect_for_station(si, tx);
        self.forget(link, sta_link);
        tx
    }
}
