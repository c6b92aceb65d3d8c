//! The medium: decides who hears a transmission, at what signal and rate, and the TX status.
//!
//! The switch enumerates candidate receivers; the medium judges each one. Implementations must
//! be deterministic in (their seed, the transmitter, its frame counter) so a frame's fate does not
//! depend on thread timing, and must not allocate: they run once per frame per receiver.

pub mod airtime;
pub mod impair;
pub mod model;
pub mod perfect;
mod rate_table;

use hwsim_frame::nl::{tx_flags, TxRate};
use hwsim_frame::MacAddr;
use hwsim_radio::airtime::NominalPadding;
use hwsim_radio::peer::PeerCaps;
use hwsim_radio::rates::TxVector;

use crate::switch::RadioKey;

pub use model::RadioMedium;
pub use perfect::PerfectMedium;

/// One frame on the air, as the medium sees it.
#[derive(Clone, Copy, Debug)]
pub struct Transmission<'a> {
    /// The transmitting radio.
    pub from: RadioKey,
    /// The transmitter's frame counter (starts at 1), for deterministic draws.
    pub seq: u64,
    /// Centre frequency of the primary 20 MHz channel, MHz.
    pub freq: u32,
    /// The 802.11 frame (no FCS).
    pub frame: &'a [u8],
    /// 802.11 receiver address (addr1).
    pub receiver: MacAddr,
    /// The transmitter's 802.11 address: addr2, or for frames without one (CTS, ACK) the
    /// radio's first bound address. Models use it to find the transmitting node, since wire
    /// addresses repeat across VMs.
    pub sender: Option<MacAddr>,
    /// addr1 is a group address.
    pub group: bool,
    /// HWSIM_TX_CTL_* flags from the guest.
    pub flags: u32,
    /// The guest's retry chain.
    pub rates: [TxRate; 4],
}

impl Transmission<'_> {
    /// The guest asked for no acknowledgement.
    pub fn no_ack(&self) -> bool {
        self.flags & tx_flags::NO_ACK != 0
    }
}

/// A receiver the switch offers the medium.
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    /// The receiving radio.
    pub radio: RadioKey,
    /// addr1 is one of this radio's addresses.
    pub addressed: bool,
    /// The radio is believed to be listening on the transmission's frequency.
    pub on_channel: bool,
    /// The receiver's 802.11 address: addr1 when it matched, otherwise (group frames, floods)
    /// the radio's first bound address. `None` if the radio has bound none yet.
    pub rx_addr: Option<MacAddr>,
    /// Extra attenuation on this (frame, receiver) set through the control API, dB (see
    /// [`impair`]); 0 when nothing is impaired.
    pub attenuation_db: f64,
}

/// How a receiver heard a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reception {
    /// Received signal, dBm.
    pub signal_dbm: i32,
    /// Legacy rate index valid for the band (what the guest accepts in RX_RATE).
    pub rx_rate: u32,
    /// 1-based attempt of the retry chain at which the frame got through.
    pub attempt: u8,
    /// The PHY vector that attempt went out with, when the medium models rates (the capture's
    /// radiotap and the per-link airtime use it; the guest only ever sees `rx_rate`).
    pub vector: Option<TxVector>,
    /// The receiver's noise floor over 20 MHz, dBm, when the medium models it.
    pub noise_dbm: Option<i32>,
    /// The HE/EHT nominal packet padding the receiver advertised (airtime of `vector`).
    pub padding: NominalPadding,
}

/// The TX status the medium reports to the transmitter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxStatus {
    /// Acknowledged (unicast) or sent (group).
    pub acked: bool,
    /// The retry chain as attempted.
    pub rates: [TxRate; 4],
    /// ACK signal reported to the guest, dBm.
    pub signal_dbm: i32,
}

/// The decision maker behind the switch.
pub trait Medium: Send + Sync + 'static {
    /// Whether and how `rx` hears `tx`. `None`: lost (or not heard at all).
    fn hear(&self, tx: &Transmission<'_>, rx: &Candidate) -> Option<Reception>;

    /// The status of `tx`; `ack_from` is the addressed, on-channel receiver that heard it.
    fn status(&self, tx: &Transmission<'_>, ack_from: Option<&Reception>) -> TxStatus;

    /// Short name for reports.
    fn name(&self) -> &'static str;

    /// What the MLD tracker learned each link address advertises it can receive (the whole
    /// current list, on every change; called off the data path). Media that synthesise rates
    /// bound each pair's by it; the default ignores it.
    fn learn_peer_caps(&self, _caps: &[(MacAddr, PeerCaps)]) {}

    /// The airtime model, if this medium paces frames on shared channels (`time_mode =
    /// "airtime"`); `None` delivers at once.
    fn air(&self) -> Option<&dyn airtime::AirModel> {
        None
    }
}

/// Whether a real STA sends `frame` at the lowest basic rate in a non-HT PPDU whatever the
/// link could carry: management and control frames (802.11-2020 10.6.6), and EAPOL, which
/// mac80211 sends at its minimum rate (`IEEE80211_TX_CTL_USE_MINRATE` on control-port frames).
pub fn sent_at_basic_rate(frame: &[u8]) -> bool {
    use hwsim_frame::mac::{Frame, FrameType};
    /// LLC/SNAP header and the EAPOL EtherType (0x888E).
    const EAPOL_LLC: [u8; 8] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x88, 0x8e];
    let Ok(f) = Frame::new_checked(frame) else {
        return false;
    };
    let fc = f.frame_control();
    match fc.frame_type() {
        FrameType::Management | FrameType::Control => true,
        FrameType::Data => !fc.protected() && f.payload().starts_with(&EAPOL_LLC),
        _ => false,
    }
}

/// Legacy rate index for 54 Mb/s in the band of `freq` (the guest's `bitrates` table: 2.4 GHz
/// has 4 DSSS rates first, 12 in all; 5 and 6 GHz start at 6 Mb/s, 8 in all).
pub fn legacy_rate_index(freq: u32, mbps: u32) -> u32 {
    const OFDM: [u32; 8] = [6, 9, 12, 18, 24, 36, 48, 54];
    const DSSS: [u32; 4] = [1, 2, 5, 11];
    let ofdm = OFDM.iter().rposition(|&r| r <= mbps).map(|i| i as u32);
    if is_2ghz(freq) {
        match ofdm {
            Some(i) if mbps >= 6 => 4 + i,
            _ => DSSS.iter().rposition(|&r| r <= mbps).unwrap_or(0) as u32,
        }
    } else {
        ofdm.unwrap_or(0)
    }
}

/// Number of legacy rates the guest knows for the band of `freq`.
pub fn legacy_rate_count(freq: u32) -> u32 {
    if is_2ghz(freq) {
        12
    } else {
        8
    }
}

fn is_2ghz(freq: u32) -> bool {
    (2400..2500).contains(&freq)
}

/// Fills a retry chain the way mac80211 expects in a TX status: if acknowledged at attempt `n`
/// (1-based, counted across the chain), the entry holding that attempt gets the number of tries
/// made at its rate and later entries are terminated; otherwise every attempt was used. A count of
/// 0 (MLO radios, scan probes) is one attempt.
pub fn fill_retry_chain(rates: [TxRate; 4], acked_at: Option<u8>) -> [TxRate; 4] {
    let mut out = [TxRate::UNUSED; 4];
    let mut before = 0u32;
    for (i, r) in rates.iter().enumerate() {
        if r.idx < 0 {
            break;
        }
        let tries = u32::from(r.count.max(1));
        match acked_at {
            Some(n) if u32::from(n) <= before + tries => {
                out[i] = TxRate {
                    idx: r.idx,
                    count: (u32::from(n) - before).max(1) as u8,
                };
                return out;
            }
            _ => {
                out[i] = TxRate {
                    idx: r.idx,
                    count: tries as u8,
                };
                before += tries;
            }
        }
    }
    if out[0].idx < 0 {
        // An empty chain: report one attempt at the lowest rate so rate control sees something.
        out[0] = TxRate { idx: 0, count: 1 };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(idx: i8, count: u8) -> TxRate {
        TxRate { idx, count }
    }

    #[test]
    fn management_control_and_eapol_go_at_basic_rates() {
        let mut data = vec![0x88, 0x02, 0, 0];
        data.extend_from_slice(&[2; 18]);
        data.extend_from_slice(&[0, 0, 0, 0]); // sequence control, QoS control
        data.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x88, 0x8e, 2, 3, 0, 0x5f]);
        assert!(sent_at_basic_rate(&data), "EAPOL in QoS data");
        let mut ip = data.clone();
        ip[32..34].copy_from_slice(&[0x08, 0x00]);
        assert!(!sent_at_basic_rate(&ip), "IPv4 data");
        let mut protected = data.clone();
        protected[1] |= 0x40;
        assert!(!sent_at_basic_rate(&protected), "protected data");
        let mut beacon = vec![0x80, 0, 0, 0];
        beacon.extend_from_slice(&[0xff; 20]);
        assert!(sent_at_basic_rate(&beacon));
        let bar = [0x84, 0, 0, 0, 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        assert!(sent_at_basic_rate(&bar), "block ack request");
        assert!(!sent_at_basic_rate(&[0x08]), "too short to be anything");
    }

    #[test]
    fn rate_index_is_valid_for_band() {
        assert_eq!(legacy_rate_index(2412, 54), 11);
        assert_eq!(legacy_rate_index(2412, 1), 0);
        assert_eq!(legacy_rate_index(2412, 6), 4);
        assert_eq!(legacy_rate_index(5180, 54), 7);
        assert_eq!(legacy_rate_index(5955, 6), 0);
        assert!(legacy_rate_index(5180, 1000) < legacy_rate_count(5180));
        assert!(legacy_rate_index(2484, 1000) < legacy_rate_count(2484));
    }

    #[test]
    fn chain_acked_first_try() {
        let out = fill_retry_chain([r(7, 3), r(5, 2), r(0, 1), r(-1, 0)], Some(1));
        assert_eq!(
            out,
            [r(7, 1), TxRate::UNUSED, TxRate::UNUSED, TxRate::UNUSED]
        );
    }

    #[test]
    fn chain_acked_in_second_entry() {
        let out = fill_retry_chain([r(7, 3), r(5, 2), r(0, 1), r(-1, 0)], Some(5));
        assert_eq!(out, [r(7, 3), r(5, 2), TxRate::UNUSED, TxRate::UNUSED]);
        let out = fill_retry_chain([r(7, 3), r(5, 2), r(0, 1), r(-1, 0)], Some(4));
        assert_eq!(out, [r(7, 3), r(5, 1), TxRate::UNUSED, TxRate::UNUSED]);
    }

    #[test]
    fn chain_failed_uses_every_attempt_and_zero_counts_once() {
        let out = fill_retry_chain([r(3, 0), r(1, 2), r(-1, 0), r(-1, 0)], None);
        assert_eq!(out, [r(3, 1), r(1, 2), TxRate::UNUSED, TxRate::UNUSED]);
    }

    #[test]
    fn empty_chain_reports_one_attempt() {
        let out = fill_retry_chain([TxRate::UNUSED; 4], Some(1));
        assert_eq!(out[0], r(0, 1));
    }
}
