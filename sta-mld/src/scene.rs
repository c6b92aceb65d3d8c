//! The scene the station plays in: the addresses of the demo's AP MLD and non-AP MLD, the
//! host behind the AP, the radios' wire addresses, and what the station reports.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use hwsim_frame::MacAddr;

use crate::frames::{ApMld, StaMld};
use crate::guest::GuestTally;

/// The AP MLD: MLD address 02:a0:00:00:00:01, link L's BSSID 02:a0:00:00:01:0L.
pub const AP_MLD: ApMld = ApMld {
    mld: MacAddr([0x02, 0xa0, 0, 0, 0, 0x01]),
    links: [
        MacAddr([0x02, 0xa0, 0, 0, 0x01, 0]),
        MacAddr([0x02, 0xa0, 0, 0, 0x01, 1]),
        MacAddr([0x02, 0xa0, 0, 0, 0x01, 2]),
    ],
};

/// The non-AP MLD: MLD address 02:50:00:00:00:01, link L's address 02:50:00:00:01:0L.
pub const STA_MLD: StaMld = StaMld {
    mld: MacAddr([0x02, 0x50, 0, 0, 0, 0x01]),
    links: [
        MacAddr([0x02, 0x50, 0, 0, 0x01, 0]),
        MacAddr([0x02, 0x50, 0, 0, 0x01, 1]),
        MacAddr([0x02, 0x50, 0, 0, 0x01, 2]),
    ],
};

/// The host behind the AP MLD's distribution system that the station exchanges data with.
pub const HOST: MacAddr = MacAddr([0x02, 0xd5, 0, 0, 0, 0x01]);

/// The wire address of VM `vm`'s radio for link `link` (each link is its own radio).
pub fn wire(vm: u8, link: usize) -> MacAddr {
    MacAddr([0x42, 0, 0, vm, link as u8, 0])
}

/// What the station went through, for the demo's report.
#[derive(Debug, Default)]
pub struct StaReport {
    /// What the station's guest sent and received.
    pub tally: GuestTally,
    /// (time since start, what happened).
    pub events: Vec<(Duration, String)>,
    /// The association succeeded.
    pub associated: bool,
    /// The 4-way handshake completed.
    pub secured: bool,
    /// Protected data frames sent per link.
    pub data_tx: [u64; 3],
    /// Protected data frames decrypted per link.
    pub data_rx: [u64; 3],
    /// Data frames that did not decrypt or carried nothing the station wanted.
    pub rx_dropped: u64,
    /// Beacons whose MME verified under the link's BIGTK (after the 4-way handshake), per
    /// link, and beacons that failed (bad MIC, replayed BIPN, no MME).
    pub beacons_verified: [u64; 3],
    /// Beacons that failed the check.
    pub beacons_failed: u64,
}

impl StaReport {
    /// Records `what` at the time since `start`.
    pub fn note(&mut self, start: Instant, what: String) {
        self.events.push((start.elapsed(), what));
    }
}

/// Shared switches between the main thread and the simulated station.
pub struct Phases {
    /// Stop data; the station deauthenticates and leaves.
    pub traffic_done: AtomicBool,
    /// The station finished the 4-way handshake: the host starts sending to it.
    pub secured: AtomicBool,
}
