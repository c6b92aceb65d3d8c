//! The daemon's MLD tracker fed what guests transmit: a sequence of frames, each from one of
//! a few radios (in two VMs) on one of a few frequencies, with radios leaving now and then.
//! Besides never panicking: `observe` returns true exactly when the table changed (the
//! tracker thread publishes a new table only then: its MLDs or the capabilities it learned),
//! and every MLD in the table has a link.

use hwsim_frame::MacAddr;
use vhost_hwsim::mld::{MldTable, MldTracker};
use vhost_hwsim::switch::RadioKey;

use crate::records::{self, Record};

/// Radios frames come from: (VM, wire address).
const RADIOS: [RadioKey; 4] = [
    RadioKey {
        vm: 1,
        wire: MacAddr([0x42, 0, 0, 0, 0, 0]),
    },
    RadioKey {
        vm: 1,
        wire: MacAddr([0x42, 0, 0, 0, 1, 0]),
    },
    RadioKey {
        vm: 2,
        wire: MacAddr([0x42, 0, 0, 0, 0, 0]),
    },
    RadioKey {
        vm: 2,
        wire: MacAddr([0x42, 0, 0, 0, 2, 0]),
    },
];
const FREQS: [u32; 4] = [2412, 5180, 5975, 5955];
const MAX_RECORDS: usize = 128;

/// Records: `op` even = a frame (`data`) sent by radio `arg % 4` on frequency `arg >> 2 & 3`;
/// `op` odd = the VM of radio `arg % 4` left (its radios are pruned).
pub fn check_tracker(input: &[u8]) {
    let mut t = MldTracker::new();
    let mut table = t.table();
    for Record { op, arg, data } in records::records(input, MAX_RECORDS) {
        let radio = RADIOS[usize::from(arg % 4)];
        let changed = if op % 2 == 0 {
            t.observe(radio, FREQS[usize::from(arg >> 2 & 3)], data)
        } else {
            t.prune(|r| r.vm != radio.vm)
        };
        let now = t.table();
        assert_eq!(
            changed,
            now.mlds != table.mlds || now.caps != table.caps,
            "observe/prune says {changed} but the table {}",
            if changed { "stayed" } else { "changed" }
        );
        check_table(&now);
        table = now;
    }
    let _ = (t.counters(), t.malformed().len());
}

fn check_table(table: &MldTable) {
    for m in &table.mlds {
        assert!(!m.links.is_empty(), "an MLD without links: {m:?}");
        let mut ids: Vec<u8> = m.links.iter().map(|l| l.link_id).collect();
        ids.dedup();
        assert_eq!(ids.len(), m.links.len(), "one entry per link ID: {m:?}");
    }
}
