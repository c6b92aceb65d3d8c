//! Named counters: every TX frame ends in one of them, every drop has a name.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident,)* }) => {
        $(#[$meta])*
        #[derive(Default, Debug)]
        pub struct $name { $($(#[$fmeta])* pub $field: AtomicU64,)* }

        impl $name {
            /// (name, value) pairs in declaration order, for reports.
            pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($field), self.$field.load(Ordering::Relaxed)),)*]
            }
        }
    };
}

counters! {
    /// Counters of one VM connection.
    pub struct VmCounters {
        /// Descriptor chains taken from the TX queue.
        tx_buffers,
        /// TX chains that could not be read (bad address, write-only, too long, chain loop).
        tx_bad_descriptor,
        /// Messages that failed to parse (see `malformed_*`).
        tx_malformed,
        /// FRAME messages accepted.
        tx_frames,
        /// FRAME messages whose 802.11 header was unreadable (status sent, not routed).
        tx_bad_header,
        /// ADD_MAC_ADDR messages.
        add_mac_addr,
        /// DEL_MAC_ADDR messages.
        del_mac_addr,
        /// START_PMSR messages (no measurement support: counted, not answered).
        start_pmsr,
        /// ABORT_PMSR messages.
        abort_pmsr,
        /// Deliveries queued to receivers (any VM).
        deliveries_queued,
        /// Deliveries the medium decided were lost.
        deliveries_lost,
        /// Deliveries dropped: receiver's inbox full.
        dropped_inbox_full,
        /// Deliveries dropped: buffer pool exhausted.
        dropped_pool_empty,
        /// Unicast frames whose receiver address no radio has: flooded, never acknowledged.
        unicast_unknown_receiver,
        /// TX statuses queued for this VM's radios.
        tx_status_queued,
        /// TX statuses dropped because the status queue was full (guest posts no RX buffers).
        tx_status_dropped,
        /// Messages written into this VM's RX buffers (frames and statuses).
        rx_written,
        /// RX chains unusable (read-only, bad address, chain too long): returned with len 0.
        rx_bad_descriptor,
        /// RX buffers smaller than the message: returned with len 0.
        rx_buffer_too_small,
        /// Airtime mode: frames handed to the medium clock.
        air_queued,
        /// Airtime mode: frames dropped (status: not acked) because the clock's queue, the
        /// radio's backlog or the timeline was full.
        air_dropped,
        /// Airtime mode: receptions spoilt by overlapping transmissions (SINR too low).
        air_collisions,
        /// Airtime mode: retries after the addressed receiver lost an attempt to a collision.
        air_retries,
        /// Airtime mode: receivers beyond the per-transmission limit, dropped.
        air_rx_overflow,
        /// Airtime mode: frames that rode in an A-MPDU behind another (not counting its head).
        air_ampdu_followers,
    }
}

/// Malformed-message counters by parse error name (`hwsim_frame::nl::Error::name`).
#[derive(Default, Debug)]
pub struct MalformedCounters {
    values: [AtomicU64; MALFORMED_NAMES.len()],
}

/// Parse error names we count separately; anything else lands in `other`.
pub const MALFORMED_NAMES: [&str; 9] = [
    "truncated",
    "bad_message_length",
    "bad_attribute",
    "missing_attribute",
    "frame_too_long",
    "frame_too_short",
    "unknown_command",
    "buffer_too_small",
    "other",
];

impl MalformedCounters {
    /// Counts one error named `name`.
    pub fn count(&self, name: &str) {
        let last = MALFORMED_NAMES.len() - 1;
        let i = MALFORMED_NAMES[..last]
            .iter()
            .position(|n| *n == name)
            .unwrap_or(last);
        self.values[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Non-zero (name, value) pairs.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        MALFORMED_NAMES
            .iter()
            .zip(&self.values)
            .map(|(n, v)| (*n, v.load(Ordering::Relaxed)))
            .filter(|(_, v)| *v > 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_names_are_counted_and_unknown_go_to_other() {
        let m = MalformedCounters::default();
        m.count("frame_too_long");
        m.count("frame_too_long");
        m.count("something_new");
        assert_eq!(m.snapshot(), vec![("frame_too_long", 2), ("other", 1)]);
    }

    #[test]
    fn vm_counter_snapshot_lists_every_field() {
        let c = VmCounters::default();
        c.tx_frames.fetch_add(3, Ordering::Relaxed);
        let s = c.snapshot();
        assert!(s.contains(&("tx_frames", 3)));
        assert!(s.iter().any(|(n, _)| *n == "rx_buffer_too_small"));
    }
}
