//! A simulated guest for the demo: a vhost-user connection (the `hwsim-guest` frontend) with a
//! few radios, that announces their addresses, transmits frames with a TX-status request and
//! hands received frames back, counting what it sent, the statuses it got and what it received.

use std::path::Path;
use std::time::{Duration, Instant};

use hwsim_frame::nl::{tx_flags, DeviceMessage, GuestMessage, MacAddrRepr, TxFrameRepr, TxRate};
use hwsim_frame::MacAddr;
use hwsim_guest::{Guest, GuestConfig};

/// What one simulated guest saw.
#[derive(Default, Debug, Clone, Copy)]
pub struct GuestTally {
    /// Frames sent.
    pub sent: u64,
    /// TX statuses received.
    pub statuses: u64,
    /// Of which acknowledged.
    pub acked: u64,
    /// Frames received.
    pub received: u64,
}

/// A frame one of the guest's radios received.
#[derive(Debug)]
pub struct Received {
    /// The receiving radio's wire address.
    pub radio: MacAddr,
    /// Channel frequency, MHz.
    pub freq: u32,
    /// The 802.11 frame.
    pub frame: Vec<u8>,
}

/// One connected simulated guest.
pub struct SimGuest {
    guest: Guest,
    buf: Vec<u8>,
    cookie: u64,
    pending: u64,
    /// Its counts.
    pub tally: GuestTally,
}

impl SimGuest {
    /// Connects and announces each radio's (wire, interface) address pair; returns once the
    /// device has taken the announcements.
    pub fn connect(socket: &Path, radios: &[(MacAddr, MacAddr)]) -> Result<SimGuest, String> {
        let guest = Guest::connect(&GuestConfig {
            socket: socket.to_owned(),
            ..GuestConfig::default()
        })
        .map_err(|e| format!("connect: {e}"))?;
        let mut g = SimGuest {
            guest,
            buf: vec![0u8; 4096],
            cookie: 0,
            pending: 0,
            tally: GuestTally::default(),
        };
        for &(radio, addr) in radios {
            let m = GuestMessage::AddMacAddr(MacAddrRepr { radio, addr });
            let n = m.emit(&mut g.buf).map_err(|e| e.to_string())?;
            g.guest.send(&g.buf[..n]).map_err(|e| e.to_string())?;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while g.guest.tx_in_flight() > 0 && Instant::now() < deadline {
            let _ = g.guest.wait(Duration::from_millis(10));
            g.guest.reclaim_tx();
        }
        Ok(g)
    }

    /// Transmits `frame` from radio `wire` on `freq` asking for a TX status. Returns false if
    /// the TX ring was full (the frame is not sent).
    pub fn transmit(&mut self, wire: MacAddr, freq: u32, frame: &[u8]) -> Result<bool, String> {
        self.cookie += 1;
        let tx = TxFrameRepr {
            transmitter: wire,
            frame,
            flags: tx_flags::REQ_TX_STATUS,
            freq: Some(freq),
            tx_info: [
                TxRate { idx: 7, count: 2 },
                TxRate { idx: 0, count: 2 },
                TxRate::UNUSED,
                TxRate::UNUSED,
            ],
            tx_info_flags: None,
            cookie: self.cookie,
        };
        let n = tx.emit(&mut self.buf).map_err(|e| e.to_string())?;
        match self.guest.send(&self.buf[..n]) {
            Ok(()) => {
                self.tally.sent += 1;
                self.pending += 1;
                Ok(true)
            }
            Err(hwsim_guest::Error::TxRingFull) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Takes every received message: TX statuses are counted, frames appended to `out`.
    pub fn poll(&mut self, out: &mut Vec<Received>) {
        let tally = &mut self.tally;
        let pending = &mut self.pending;
        self.guest.recv_with(|msg| match DeviceMessage::parse(msg) {
            Ok(DeviceMessage::TxInfo(s)) => {
                tally.statuses += 1;
                *pending = pending.saturating_sub(1);
                if s.flags & tx_flags::STAT_ACK != 0 {
                    tally.acked += 1;
                }
            }
            Ok(DeviceMessage::Frame(f)) => {
                tally.received += 1;
                if let Some(freq) = f.freq {
                    out.push(Received {
                        radio: f.receiver,
                        freq,
                        frame: f.frame.to_vec(),
                    });
                }
            }
            Err(_) => {}
        });
    }

    /// Waits up to `timeout` for the device to signal.
    pub fn wait(&self, timeout: Duration) {
        let _ = self.guest.wait(timeout);
    }

    /// Waits (at most `limit`) until every transmitted frame has its status, then disconnects.
    pub fn finish(mut self, limit: Duration) -> GuestTally {
        let deadline = Instant::now() + limit;
        let mut sink = Vec::new();
        while self.pending > 0 && Instant::now() < deadline {
            self.poll(&mut sink);
            sink.clear();
            self.wait(Duration::from_millis(20));
        }
        self.guest.disconnect();
        self.tally
    }
}
