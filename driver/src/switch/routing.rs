//! The routing snapshot: every radio of every VM and which 802.11 addresses each answers to.
//!
//! Every VM thread reads it for every frame; it is immutable and swapped atomically
//! (`ArcSwap`). Writers (a VM thread learning a radio or an address, the server removing a VM)
//! build a new snapshot and publish it with a compare-and-swap loop. Changes are rare: a radio
//! appears, an interface comes up, a scan starts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use hwsim_frame::MacAddr;

use super::inbox::Inbox;

/// Connection-scoped VM identifier (a reconnecting VM gets a new one).
pub type VmId = u32;

/// A radio is (VM, wire address): every guest's first radio is 42:00:00:00:00:00 by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RadioKey {
    /// The VM (connection) the radio lives in.
    pub vm: VmId,
    /// The radio's `addresses[1]`, its identity on the wire.
    pub wire: MacAddr,
}

impl std::fmt::Display for RadioKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "vm{}/{}", self.vm, self.wire)
    }
}

/// Per-radio counters. Each field has a single writer thread (the radio's own VM thread),
/// except `rx_dropped`, written by senders.
#[derive(Default, Debug)]
pub struct RadioCounters {
    /// Frames the radio transmitted.
    pub tx_frames: AtomicU64,
    /// Of those, unicast frames acknowledged (or group frames sent).
    pub tx_acked: AtomicU64,
    /// TX statuses written back to the guest.
    pub tx_status_sent: AtomicU64,
    /// TX statuses dropped because the guest posted no RX buffers for too long.
    pub tx_status_dropped: AtomicU64,
    /// Frames written into this radio's guest.
    pub rx_delivered: AtomicU64,
    /// Frames for this radio dropped for back-pressure (inbox full, pool exhausted).
    pub rx_dropped: AtomicU64,
    /// Frames for this radio the medium decided were lost.
    pub rx_lost: AtomicU64,
}

/// A simulated PHY inside some VM.
pub struct Radio {
    /// Identity.
    pub key: RadioKey,
    /// The owning VM's inbox.
    pub inbox: Arc<Inbox>,
    /// Counters.
    pub counters: RadioCounters,
    /// What it sent per (link) frequency: frames, bytes, airtime, retries, acked, lost.
    pub links: crate::counters::LinkCounters,
    /// Transmissions so far: the frame counter that keys the medium's random draws.
    pub tx_seq: AtomicU64,
    /// The first 802.11 address bound to the radio. The medium identifies a radio by its
    /// addresses (wire addresses repeat across VMs); for frames not addressed to it (group
    /// frames, floods) this one stands for the radio.
    pub first_addr: OnceLock<MacAddr>,
}

/// One address a radio answers to.
pub struct AddrBinding {
    /// The radio.
    pub radio: Arc<Radio>,
    /// Centre frequency this address last transmitted on (0: never seen transmitting).
    /// Written only by the owning VM's thread; read by senders to decide ACKs: a receiver is
    /// taken to be on the channel its address last used, which follows scans and MLO links
    /// (each link transmits from its own link address).
    pub last_tx_freq: AtomicU32,
    /// Whether the guest announced it (ADD_MAC_ADDR) rather than us learning it from a frame.
    pub announced: bool,
}

impl AddrBinding {
    /// Whether this address is plausibly listening on `freq`.
    pub fn on_channel(&self, freq: u32) -> bool {
        let last = self.last_tx_freq.load(Ordering::Relaxed);
        last == 0 || last == freq
    }
}

/// Immutable routing state.
#[derive(Default)]
pub struct Routing {
    /// Every radio, in a stable order (by key).
    pub radios: Vec<Arc<Radio>>,
    by_key: HashMap<RadioKey, Arc<Radio>>,
    by_addr: HashMap<MacAddr, Vec<Arc<AddrBinding>>>,
}

impl Routing {
    /// The radio with this key.
    pub fn radio(&self, key: &RadioKey) -> Option<&Arc<Radio>> {
        self.by_key.get(key)
    }

    /// The bindings of an 802.11 address (possibly radios of several VMs).
    pub fn bindings(&self, addr: &MacAddr) -> &[Arc<AddrBinding>] {
        self.by_addr.get(addr).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The binding of `addr` to the radio `key`, if any.
    pub fn binding(&self, addr: &MacAddr, key: &RadioKey) -> Option<&Arc<AddrBinding>> {
        self.bindings(addr).iter().find(|b| b.radio.key == *key)
    }

    /// Addresses bound to a radio (for reports).
    pub fn addresses_of(&self, key: &RadioKey) -> Vec<MacAddr> {
        let mut v: Vec<MacAddr> = self
            .by_addr
            .iter()
            .filter(|(_, bs)| bs.iter().any(|b| b.radio.key == *key))
            .map(|(a, _)| *a)
            .collect();
        v.sort();
        v
    }

    fn rebuild(radios: Vec<Arc<Radio>>, by_addr: HashMap<MacAddr, Vec<Arc<AddrBinding>>>) -> Self {
        let mut radios = radios;
        radios.sort_by_key(|r| r.key);
        let by_key = radios.iter().map(|r| (r.key, Arc::clone(r))).collect();
        Routing {
            radios,
            by_key,
            by_addr,
        }
    }
}

/// The published routing snapshot and its writers.
pub struct RoutingTable {
    current: ArcSwap<Routing>,
}

impl Default for RoutingTable {
    fn default() -> Self {
        RoutingTable {
            current: ArcSwap::from_pointee(Routing::default()),
        }
    }
}

impl RoutingTable {
    /// The current snapshot (cheap; no allocation).
    pub fn load(&self) -> arc_swap::Guard<Arc<Routing>> {
        self.current.load()
    }

    /// A full reference to the current snapshot.
    pub fn snapshot(&self) -> Arc<Routing> {
        self.current.load_full()
    }

    fn update(&self, f: impl Fn(&Routing) -> Option<Routing>) {
        self.current.rcu(|cur| match f(cur) {
            Some(new) => Arc::new(new),
            None => Arc::clone(cur),
        });
    }

    /// Adds a radio (no-op if present) and returns it.
    pub fn add_radio(&self, key: RadioKey, inbox: &Arc<Inbox>) -> Arc<Radio> {
        let fresh = Arc::new(Radio {
            key,
            inbox: Arc::clone(inbox),
            counters: RadioCounters::default(),
            links: crate::counters::LinkCounters::default(),
            tx_seq: AtomicU64::new(0),
            first_addr: OnceLock::new(),
        });
        self.update(|cur| {
            if cur.by_key.contains_key(&key) {
                return None;
            }
            let mut radios = cur.radios.clone();
            radios.push(Arc::clone(&fresh));
            Some(Routing::rebuild(radios, cur.by_addr.clone()))
        });
        // Another thread may have published the same radio first; use whichever is current.
        self.load().radio(&key).cloned().unwrap_or(fresh)
    }

    /// Binds `addr` to the radio `key` (which must exist). `announced` marks ADD_MAC_ADDR.
    pub fn bind(&self, key: RadioKey, addr: MacAddr, announced: bool) {
        self.update(|cur| {
            let radio = cur.by_key.get(&key)?;
            // Idempotent, so harmless when the compare-and-swap loop retries.
            let _ = radio.first_addr.set(addr);
            if let Some(b) = cur.binding(&addr, &key) {
                if b.announced || !announced {
                    return None;
                }
            }
            let mut by_addr = cur.by_addr.clone();
            let list = by_addr.entry(addr).or_default();
            let last = list
                .iter()
                .find(|b| b.radio.key == key)
                .map(|b| b.last_tx_freq.load(Ordering::Relaxed))
                .unwrap_or(0);
            list.retain(|b| b.radio.key != key);
            list.push(Arc::new(AddrBinding {
                radio: Arc::clone(radio),
                last_tx_freq: AtomicU32::new(last),
                announced,
            }));
            Some(Routing::rebuild(cur.radios.clone(), by_addr))
        });
    }

    /// Removes the binding of `addr` to `key`.
    pub fn unbind(&self, key: RadioKey, addr: MacAddr) {
        self.update(|cur| {
            cur.binding(&addr, &key)?;
            let mut by_addr = cur.by_addr.clone();
            if let Some(list) = by_addr.get_mut(&addr) {
                list.retain(|b| b.radio.key != key);
                if list.is_empty() {
                    by_addr.remove(&addr);
                }
            }
            Some(Routing::rebuild(cur.radios.clone(), by_addr))
        });
    }

    /// Removes every radio of a VM and its addresses (the VM disconnected).
    pub fn remove_vm(&self, vm: VmId) {
        self.update(|cur| {
            if !cur.radios.iter().any(|r| r.key.vm == vm) {
                return None;
            }
            let radios = cur
                .radios
                .iter()
                .filter(|r| r.key.vm != vm)
                .cloned()
                .collect();
            let mut by_addr = cur.by_addr.clone();
            by_addr.retain(|_, list| {
                list.retain(|b| b.radio.key.vm != vm);
                !list.is_empty()
            });
            Some(Routing::rebuild(radios, by_addr))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(last: u8) -> MacAddr {
        MacAddr([2, 0, 0, 0, 0, last])
    }

    #[test]
    fn radios_are_keyed_by_vm_and_address() {
        let t = RoutingTable::default();
        let inbox = Inbox::new(4).unwrap();
        let wire = MacAddr([0x42, 0, 0, 0, 0, 0]);
        let a = t.add_radio(RadioKey { vm: 1, wire }, &inbox);
        let b = t.add_radio(RadioKey { vm: 2, wire }, &inbox);
        assert_ne!(a.key, b.key);
        assert_eq!(t.load().radios.len(), 2);
        // Adding again returns the same radio.
        let a2 = t.add_radio(RadioKey { vm: 1, wire }, &inbox);
        assert!(Arc::ptr_eq(&a, &a2));
    }

    #[test]
    fn bind_unbind_and_remove_vm() {
        let t = RoutingTable::default();
        let inbox = Inbox::new(4).unwrap();
        let k1 = RadioKey {
            vm: 1,
            wire: mac(0x40),
        };
        let k2 = RadioKey {
            vm: 2,
            wire: mac(0x41),
        };
        t.add_radio(k1, &inbox);
        t.add_radio(k2, &inbox);
        t.bind(k1, mac(1), true);
        t.bind(k2, mac(1), false);
        assert_eq!(t.load().bindings(&mac(1)).len(), 2);
        t.unbind(k1, mac(1));
        assert_eq!(t.load().bindings(&mac(1)).len(), 1);
        t.remove_vm(2);
        assert!(t.load().bindings(&mac(1)).is_empty());
        assert_eq!(t.load().radios.len(), 1);
        assert_eq!(t.load().addresses_of(&k1), Vec::<MacAddr>::new());
    }

    #[test]
    fn learned_binding_keeps_last_frequency_when_announced() {
        let t = RoutingTable::default();
        let inbox = Inbox::new(4).unwrap();
        let k = RadioKey {
            vm: 1,
            wire: mac(0x40),
        };
        t.add_radio(k, &inbox);
        t.bind(k, mac(7), false);
        t.load()
            .binding(&mac(7), &k)
            .unwrap()
            .last_tx_freq
            .store(5180, Ordering::Relaxed);
        t.bind(k, mac(7), true);
        let snap = t.load();
        let b = snap.binding(&mac(7), &k).unwrap();
        assert!(b.announced);
        assert!(b.on_channel(5180));
        assert!(!b.on_channel(2412));
    }
}
