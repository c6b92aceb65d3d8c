//! The AP's PMKSA cache (IEEE 802.11-2020 12.6.10.3): the PMKs that SAE or OWE established,
//! kept after the station leaves so that it can come back without a new SAE exchange or DH
//! (Open System authentication and its PMKID in the RSNE on SAE; the PMKID in the RSNE and no
//! OWE DH Parameter element in the response on OWE, RFC 8110 4.2).
//!
//! An entry belongs to the station's identity (its MLD address in a multi-link setup, else
//! its address), as in hostapd, whose MLO PMKSA is keyed by the non-AP MLD address: the PMK
//! came from an exchange between the two MLDs, so it is only good for that pair. Entries
//! expire after [`PMK_LIFETIME_US`] (hostapd's dot11RSNAConfigPMKLifetime default), one per
//! station is kept, and the cache holds at most [`MAX_PMKSA`]: a guest that cycles through
//! addresses pushes out its own oldest entries, nothing grows.

use hwsim_crypto::keys::Akm;
use hwsim_frame::MacAddr;

use crate::security::Pmksa;

/// PMKSA lifetime (µs): 43200 s, hostapd's default dot11RSNAConfigPMKLifetime.
pub const PMK_LIFETIME_US: u64 = 43_200 * 1_000_000;
/// Entries the cache holds at most; the oldest goes first.
pub const MAX_PMKSA: usize = 64;

struct Entry {
    sta: MacAddr,
    akm: Akm,
    pmksa: Pmksa,
    expires_at_us: u64,
}

/// PMKSAs by station, oldest first.
#[derive(Default)]
pub(super) struct PmksaCache {
    entries: Vec<Entry>,
}

impl PmksaCache {
    /// Caches the PMKSA `sta` established at `now_us`, replacing the one it had.
    pub(super) fn insert(&mut self, sta: MacAddr, akm: Akm, pmksa: Pmksa, now_us: u64) {
        self.entries.retain(|e| e.sta != sta);
        if self.entries.len() >= MAX_PMKSA {
            self.entries.remove(0);
        }
        self.entries.push(Entry {
            sta,
            akm,
            pmksa,
            expires_at_us: now_us.saturating_add(PMK_LIFETIME_US),
        });
    }

    /// The unexpired PMKSA of `sta` whose PMKID is among `pmkids` and whose AKM is what
    /// `akm_ok` accepts.
    pub(super) fn find(
        &mut self,
        sta: MacAddr,
        pmkids: &[[u8; 16]],
        akm_ok: impl Fn(Akm) -> bool,
        now_us: u64,
    ) -> Option<(Akm, Pmksa)> {
        self.entries.retain(|e| now_us < e.expires_at_us);
        self.entries
            .iter()
            .find(|e| e.sta == sta && akm_ok(e.akm) && pmkids.contains(&e.pmksa.pmkid))
            .map(|e| (e.akm, e.pmksa.clone()))
    }

    /// Entries held.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pmksa(b: u8) -> Pmksa {
        Pmksa {
            pmk: [b; 32],
            pmkid: [b; 16],
        }
    }

    #[test]
    fn entries_expire_are_replaced_per_station_and_the_cache_is_bounded() {
        let mut c = PmksaCache::default();
        let a = MacAddr([2, 0, 0, 0, 0, 1]);
        c.insert(a, Akm::Sae, pmksa(1), 0);
        let any = |_| true;
        assert_eq!(c.find(a, &[[1; 16]], any, 5).map(|x| x.1), Some(pmksa(1)));
        assert!(c.find(a, &[[2; 16]], any, 5).is_none(), "other PMKID");
        assert!(c
            .find(MacAddr([2, 0, 0, 0, 0, 2]), &[[1; 16]], any, 5)
            .is_none());
        assert!(c.find(a, &[[1; 16]], |k| k != Akm::Sae, 5).is_none());
        // A new PMKSA for the station replaces the old.
        c.insert(a, Akm::Sae, pmksa(2), 10);
        assert_eq!(c.len(), 1);
        assert!(c.find(a, &[[1; 16]], any, 11).is_none());
        assert!(c
            .find(a, &[[2; 16]], any, 10 + PMK_LIFETIME_US - 1)
            .is_some());
        assert!(c.find(a, &[[2; 16]], any, 10 + PMK_LIFETIME_US).is_none());
        assert_eq!(c.len(), 0, "expired entries are dropped");
        // Many stations: the oldest are evicted, the count stays bounded.
        for i in 0..(MAX_PMKSA as u16 + 10) {
            let [hi, lo] = i.to_be_bytes();
            c.insert(MacAddr([2, 0, 0, 1, hi, lo]), Akm::Sae, pmksa(3), 0);
        }
        assert_eq!(c.len(), MAX_PMKSA);
        assert!(c
            .find(MacAddr([2, 0, 0, 1, 0, 0]), &[[3; 16]], any, 1)
            .is_none());
        let last = MAX_PMKSA as u16 + 9;
        let [hi, lo] = last.to_be_bytes();
        assert!(c
            .find(MacAddr([2, 0, 0, 1, hi, lo]), &[[3; 16]], any, 1)
            .is_some());
    }
}
