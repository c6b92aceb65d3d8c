//! The AP MLD under fuzzed frames: a harness that owns the AP and the clock, hands it frames
//! the way its runtime does (`handle`, `poll`, `beacon`, `downlink`, `remove_link`) and
//! checks everything it emits.
//!
//! What every emitted frame must be (what a station's mac80211_hwsim accepts, and what the
//! runtime can put in a `HWSIM_CMD_FRAME`): at most [`MAX_FRAME_LEN`] bytes, at least the
//! 24-byte header mac80211_hwsim wants, a whole 802.11 header, sent on one of the AP's links
//! from that link's BSSID.

use hwsim_ap::ap::DataCounters;
use hwsim_ap::config::ApConfig;
use hwsim_ap::{ApMld, Tx};
use hwsim_frame::mac::Frame;
use hwsim_frame::nl::{MAX_FRAME_LEN, MIN_RX_FRAME_LEN};
use hwsim_frame::MacAddr;

use crate::records::{self, Record};
use crate::station::{Msdu, Security, Station, AP_MLD, STA_LINK, STA_MLD};

/// One beacon interval (100 TU) in µs.
pub const TBTT_US: u64 = 102_400;

/// The AP MLD with its clock.
pub struct Harness {
    /// The AP.
    pub ap: ApMld,
    /// TSF, µs.
    pub now_us: u64,
    bssids: Vec<MacAddr>,
}

impl Harness {
    /// A fresh AP MLD for `cfg` (keys from a fixed seed: runs repeat exactly).
    pub fn new(cfg: ApConfig) -> Harness {
        let bssids = cfg.links.iter().map(|l| l.bssid).collect();
        Harness {
            ap: ApMld::new(cfg, 7),
            now_us: 1_000_000,
            bssids,
        }
    }

    /// Checks what the AP emitted; returns it.
    pub fn check(&self, out: Vec<Tx>) -> Vec<Tx> {
        for tx in &out {
            check_tx(&self.bssids, tx);
        }
        out
    }

    /// A frame heard on `link` (any index; the AP ignores links it does not have). Frames
    /// over [`MAX_FRAME_LEN`] never reach the AP: its runtime gets frames as parsed
    /// `HWSIM_CMD_FRAME` messages, whose parser refuses them (`FrameTooLong`).
    pub fn handle(&mut self, link: usize, frame: &[u8]) -> Vec<Tx> {
        if frame.len() > MAX_FRAME_LEN {
            return Vec::new();
        }
        let out = self.ap.handle(link, frame, self.now_us);
        self.drain();
        self.check(out)
    }

    /// An Ethernet frame from the distribution system.
    pub fn downlink(&mut self, eth: &[u8], counter: u64) -> Vec<Tx> {
        let out = self.ap.downlink(eth, counter);
        self.check(out)
    }

    /// Time passes by `step_us`: the runtime's poll, and a beacon on every link for each
    /// TBTT crossed (at most a few: a long step polls once at its end, as a late loop does).
    pub fn advance(&mut self, step_us: u64) -> Vec<Tx> {
        let before = self.now_us / TBTT_US;
        self.now_us += step_us;
        let tbtts = (self.now_us / TBTT_US - before).min(3);
        let mut out = Vec::new();
        for _ in 0..tbtts {
            for link in 0..self.bssids.len() {
                out.extend(self.ap.beacon(link, self.now_us));
            }
        }
        out.extend(self.ap.poll(self.now_us));
        self.drain();
        self.check(out)
    }

    /// The AP stops.
    pub fn shutdown(&mut self) -> Vec<Tx> {
        let out = self.ap.shutdown();
        self.drain();
        self.check(out)
    }

    /// What the runtime takes after each call: events and frames for the distribution system.
    fn drain(&mut self) {
        let _ = self.ap.take_events();
        for eth in self.ap.take_uplink() {
            assert!(eth.len() >= 14, "an uplink frame has an Ethernet header");
        }
    }
}

/// One emitted frame against the invariants in the module docs.
pub fn check_tx(bssids: &[MacAddr], tx: &Tx) {
    let len = tx.frame.len();
    assert!(
        tx.link < bssids.len(),
        "frame on link {} of {}",
        tx.link,
        bssids.len()
    );
    assert!(
        len <= MAX_FRAME_LEN,
        "the AP emitted a {len}-byte frame on link {} (limit {MAX_FRAME_LEN}): {:02x?}",
        tx.link,
        &tx.frame[..len.min(64)]
    );
    assert!(
        len >= MIN_RX_FRAME_LEN,
        "the AP emitted a {len}-byte frame: {:02x?}",
        tx.frame
    );
    let f = Frame::new_checked(&tx.frame[..]).unwrap_or_else(|e| {
        panic!(
            "the AP emitted a frame without a whole header ({e}): {:02x?}",
            tx.frame
        )
    });
    assert_eq!(
        f.addr2(),
        Some(bssids[tx.link]),
        "a frame on link {} comes from that link's BSSID: {:02x?}",
        tx.link,
        &tx.frame[..len.min(64)]
    );
    crate::mac::check_frame(&tx.frame);
}

/// One frame, on a fresh AP MLD: `input[0]` picks the security (open, OWE, SAE) and whether
/// the AP isolates stations, `input[1]` the link (3 is one the AP does not have), the rest is
/// the frame. Then time runs past every timer the frame may have started.
pub fn one_frame(input: &[u8]) {
    let (Some(&conf), Some(&link), Some(frame)) = (input.first(), input.get(1), input.get(2..))
    else {
        return;
    };
    let mut h = Harness::new(crate::station::ap_config(
        Security::from_byte(conf),
        conf & 0x80 != 0,
    ));
    h.handle(usize::from(link % 4), frame);
    for step in [TBTT_US, 1_100_000, 10_000_000, 12_000_000] {
        h.advance(step);
    }
    h.shutdown();
}

/// Ops of a session (record `op` modulo their count).
mod op {
    pub const RAW: u8 = 0;
    pub const DATA: u8 = 1;
    pub const MGMT: u8 = 2;
    pub const EAPOL: u8 = 3;
    pub const DOWNLINK: u8 = 4;
    pub const TIME: u8 = 5;
    pub const REMOVE_LINK: u8 = 6;
    pub const ANSWER: u8 = 7;
    pub const COUNT: u8 = 8;
}

/// Most records one input is cut into (beyond, the rest is ignored: bounded run time).
pub const MAX_RECORDS: usize = 64;
/// The longest time step one record asks for (the SAE committed timeout and the EAPOL
/// retries all fall within it).
const MAX_STEP_US: u64 = 12_000_000;

/// Associates a station under `security`, then plays `input`'s records against the AP:
///
/// | op | record |
/// |----|--------|
/// | 0 raw | `data` is a frame heard on link `arg` |
/// | 1 data | a QoS Data frame from the station on link `arg % 3`, TID `arg >> 4 & 7`, protected unless `arg & 0x80`: `data` = destination selector, EtherType (2), payload |
/// | 2 mgmt | a management frame from the station on link `(arg >> 4 & 3) % 3`, subtype `arg & 15`, body `data`, protected if `arg & 0x40` |
/// | 3 eapol | `data` as an EAPOL PDU from the station on link `arg % 3`, protected if `arg & 0x80` |
/// | 4 downlink | `data` as an Ethernet frame from the distribution system, counter `arg` |
/// | 5 time | time advances by `data` (LE, modulo 12 s) µs: beacons, poll |
/// | 6 remove link | link ID `arg % 4`, `data[0]` TBTTs |
/// | 7 answer | the station answers the EAPOL-Key message of the AP's last output, if any |
///
/// Returns the AP's data-path counters before it stopped (for the harness's own tests).
pub fn session(security: Security, input: &[u8]) -> DataCounters {
    let mut h = Harness::new(crate::station::ap_config(security, false));
    let now = h.now_us;
    let mut sta = Station::associate(&mut h.ap, security, 99, now);
    // The runtime polls all the time; the first poll starts the rekey clock.
    h.advance(0);
    let mut last = Vec::new();
    for Record { op, arg, data } in records::records(input, MAX_RECORDS) {
        let link = usize::from(arg % 3);
        let out = match op % op::COUNT {
            op::RAW => h.handle(usize::from(arg % 4), data),
            op::DATA => {
                let msdu = Msdu {
                    da: destination(data.first().copied().unwrap_or(0), data.get(1..7)),
                    ethertype: data
                        .get(1..3)
                        .map_or(0x0800, |b| u16::from_be_bytes([b[0], b[1]])),
                    payload: data.get(3..).unwrap_or(&[]),
                };
                let f = sta.data(&h.ap, link, arg >> 4 & 7, &msdu, arg & 0x80 == 0);
                h.handle(link, &f)
            }
            op::MGMT => {
                let link = usize::from((arg >> 4 & 3) % 3);
                let f = sta.management(&h.ap, link, arg & 0x0f, data, arg & 0x40 != 0);
                h.handle(link, &f)
            }
            op::EAPOL => {
                let bssid = h.ap.link_config(link).bssid;
                let seq = 0;
                let mut f = hwsim_ap::security::qos_data_header(
                    0x01,
                    bssid,
                    STA_LINK[link],
                    AP_MLD,
                    seq,
                    7,
                );
                hwsim_ap::security::put_msdu(&mut f, hwsim_ap::security::ETHERTYPE_EAPOL, data);
                let f = sta.maybe_protect(&h.ap, link, f, arg & 0x80 != 0);
                h.handle(link, &f)
            }
            op::DOWNLINK => h.downlink(data, u64::from(arg)),
            op::TIME => h.advance(records::number(data) % MAX_STEP_US),
            op::REMOVE_LINK => {
                let _ =
                    h.ap.remove_link(arg % 4, u16::from(data.first().copied().unwrap_or(1)));
                Vec::new()
            }
            op::ANSWER => match sta.answer_eapol(&h.ap, &last) {
                Some((link, f)) => h.handle(link, &f),
                None => Vec::new(),
            },
            _ => unreachable!("ops are taken modulo their count"),
        };
        if !out.is_empty() {
            last = out;
        }
    }
    // Whatever happened, time goes on (every timer fires) and the AP stops cleanly.
    let counters = h.ap.counters().clone();
    for _ in 0..3 {
        h.advance(MAX_STEP_US);
    }
    h.shutdown();
    counters
}

/// A destination for a station's data frame: broadcast, a multicast group, the AP MLD, the
/// station itself, or an address from the record.
fn destination(selector: u8, bytes: Option<&[u8]>) -> MacAddr {
    match selector % 6 {
        0 => MacAddr::BROADCAST,
        1 => MacAddr([0x01, 0x00, 0x5e, 0, 0, 1]),
        2 => AP_MLD,
        3 => STA_MLD,
        4 => MacAddr([0x02, 0, 0, 0, 0, 0x99]),
        _ => bytes.and_then(MacAddr::from_bytes).unwrap_or_default(),
    }
}
