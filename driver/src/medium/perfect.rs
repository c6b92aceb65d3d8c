//! The perfect medium: everyone on the channel hears everything at a fixed signal.
//!
//! Delivery happens on the transmitting frequency; the guest drops frames for channels its radio
//! is not on. A unicast frame is acknowledged when an addressed radio that is on the channel heard
//! it; group-addressed frames are reported sent (as wmediumd does). Data frames are reported at
//! the configured legacy rate; management, control and EAPOL frames at the band's lowest rate
//! (1 Mb/s on 2.4 GHz, 6 Mb/s elsewhere), as real stations send them.

use super::{
    fill_retry_chain, legacy_rate_index, sent_at_basic_rate, Candidate, Medium, Reception,
    Transmission, TxStatus,
};

/// Lossless medium with a constant signal.
#[derive(Clone, Debug)]
pub struct PerfectMedium {
    /// Signal every receiver reports, dBm.
    pub signal_dbm: i32,
    /// Legacy rate (Mb/s) reported in RX_RATE, mapped to the band's index.
    pub rx_rate_mbps: u32,
}

impl Default for PerfectMedium {
    fn default() -> Self {
        PerfectMedium {
            signal_dbm: -50,
            rx_rate_mbps: 54,
        }
    }
}

impl Medium for PerfectMedium {
    fn hear(&self, tx: &Transmission<'_>, rx: &Candidate) -> Option<Reception> {
        // Attenuation only lowers the reported signal: this medium loses nothing.
        let attenuated = f64::from(self.signal_dbm) - rx.attenuation_db;
        Some(Reception {
            signal_dbm: attenuated.clamp(-127.0, 30.0).round() as i32,
            // Index 0: the band's lowest rate.
            rx_rate: if sent_at_basic_rate(tx.frame) {
                0
            } else {
                legacy_rate_index(tx.freq, self.rx_rate_mbps)
            },
            attempt: 1,
            vector: None,
            noise_dbm: None,
            padding: hwsim_radio::airtime::NominalPadding::Us0,
        })
    }

    fn status(&self, tx: &Transmission<'_>, ack_from: Option<&Reception>) -> TxStatus {
        let acked = if tx.group {
            true
        } else {
            ack_from.is_some() && !tx.no_ack()
        };
        let rates = fill_retry_chain(tx.rates, if acked || tx.no_ack() { Some(1) } else { None });
        TxStatus {
            acked,
            rates,
            signal_dbm: ack_from.map_or(self.signal_dbm, |r| r.signal_dbm),
        }
    }

    fn name(&self) -> &'static str {
        "perfect"
    }
}
