//! One guest of the soak (`hwsim-load soak-guest`): a VM in slot S of K sends paced data frames
//! from each of its radios to the radios of the other slots (and now and then a broadcast), keeps
//! its RX ring stocked, and counts what it receives. It prints `ready` once its radios are
//! announced and sends until its standard input closes (then it collects its TX statuses,
//! prints a report line and disconnects) or it is killed.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use hwsim_frame::nl::{tx_flags, DeviceMessage, GuestMessage, MacAddrRepr, TxFrameRepr, TxRate};
use hwsim_frame::MacAddr;
use hwsim_guest::{Guest, GuestConfig};

use crate::monotonic_ns;

/// Soak guest options (set by `hwsim-load soak`).
#[derive(clap::Args, Debug)]
pub struct SoakGuestArgs {
    #[arg(long)]
    socket: PathBuf,
    /// This guest's slot, 0..slots.
    #[arg(long)]
    slot: u8,
    #[arg(long)]
    slots: u8,
    #[arg(long, default_value_t = 2)]
    radios: u8,
    /// Frames per second from this VM (all radios together).
    #[arg(long, default_value_t = 4000)]
    rate: u64,
}

/// What a soak guest that ended cleanly saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SoakReport {
    /// Frames queued on the TX ring.
    pub sent: u64,
    /// TX statuses received.
    pub statuses: u64,
    /// Data frames received from other slots' radios.
    pub received: u64,
    /// Longest wait between two received frames while traffic ran, ms (from the first frame).
    pub max_rx_gap_ms: u64,
}

impl SoakReport {
    fn line(&self) -> String {
        format!(
            "report sent={} statuses={} received={} max_rx_gap_ms={}",
            self.sent, self.statuses, self.received, self.max_rx_gap_ms
        )
    }

    /// Parses [`SoakReport::line`].
    pub fn parse(line: &str) -> Result<SoakReport, String> {
        let mut r = SoakReport::default();
        let mut words = line.split_whitespace();
        if words.next() != Some("report") {
            return Err(format!("not a report: {line:?}"));
        }
        for w in words {
            let (k, v) = w.split_once('=').ok_or(format!("bad field {w:?}"))?;
            let n: u64 = v.parse().map_err(|_| format!("bad value in {w:?}"))?;
            match k {
                "sent" => r.sent = n,
                "statuses" => r.statuses = n,
                "received" => r.received = n,
                "max_rx_gap_ms" => r.max_rx_gap_ms = n,
                _ => return Err(format!("unknown field {k:?}")),
            }
        }
        Ok(r)
    }
}

/// Wire address of radio `r` of slot `s`: fixed per slot, so every generation of a slot reuses
/// the addresses of the one before (like a rebooted VM) and its peers need not be told.
fn wire(slot: u8, r: u8) -> MacAddr {
    MacAddr([0x42, 0x50, 0, slot, r, 0])
}

/// The interface address of radio `r` of slot `s`.
fn vif(slot: u8, r: u8) -> MacAddr {
    MacAddr([0x02, 0x50, 0, slot, r, 0])
}

/// Whether standard input has closed (or has something to read): the soak's "disconnect now".
fn stdin_closed() -> bool {
    let mut pfd = libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid pollfd for the duration of the call; timeout 0 never blocks.
    let rc = unsafe { libc::poll(&mut pfd, 1, 0) };
    rc > 0
}

/// Every eighth frame goes to the broadcast address, so group delivery to every VM is exercised.
const BROADCAST_EVERY: u64 = 8;
const FRAME_LEN: usize = 200;

/// Runs one soak guest.
pub fn run(a: &SoakGuestArgs) -> Result<(), String> {
    if a.slots < 2 || a.slot >= a.slots || a.radios == 0 || a.rate == 0 {
        return Err(
            "soak-guest: need --slots ≥ 2, --slot < --slots, --radios ≥ 1, --rate ≥ 1".into(),
        );
    }
    let mut guest = Guest::connect(&GuestConfig {
        socket: a.socket.clone(),
        connect_timeout: Duration::from_secs(10),
        ..GuestConfig::default()
    })
    .map_err(|e| format!("connect: {e}"))?;
    let mut msg = vec![0u8; 512];
    for r in 0..a.radios {
        let m = GuestMessage::AddMacAddr(MacAddrRepr {
            radio: wire(a.slot, r),
            addr: vif(a.slot, r),
        });
        let n = m.emit(&mut msg).map_err(|e| e.to_string())?;
        guest.send(&msg[..n]).map_err(|e| e.to_string())?;
    }
    let peers: Vec<MacAddr> = (0..a.slots)
        .filter(|s| *s != a.slot)
        .flat_map(|s| (0..a.radios).map(move |r| vif(s, r)))
        .collect();
    println!("ready");
    std::io::stdout().flush().map_err(|e| e.to_string())?;

    let start = monotonic_ns();
    let mut rep = SoakReport::default();
    let mut last_rx: Option<u64> = None;
    let mut frame = [0u8; FRAME_LEN];
    crate::payload::init_frame(&mut frame);
    let count =
        |m: &[u8], rep: &mut SoakReport, last_rx: &mut Option<u64>| match DeviceMessage::parse(m) {
            Ok(DeviceMessage::Frame(f)) => {
                // Only other slots' frames: addr2 carries the sender's slot in octet 3.
                if f.frame.get(10..12) == Some(&[0x02, 0x50][..])
                    && f.frame.get(13) != Some(&a.slot)
                {
                    rep.received += 1;
                    let now = monotonic_ns();
                    if let Some(prev) = last_rx.replace(now) {
                        rep.max_rx_gap_ms = rep.max_rx_gap_ms.max((now - prev) / 1_000_000);
                    }
                }
            }
            Ok(DeviceMessage::TxInfo(_)) => rep.statuses += 1,
            Err(_) => {}
        };
    let mut cookie = 0u64;
    loop {
        let now = monotonic_ns();
        if stdin_closed() {
            break;
        }
        let got = guest.recv_with(|m| count(m, &mut rep, &mut last_rx));
        guest.reclaim_tx();
        let due = (now - start) as u128 * u128::from(a.rate) / 1_000_000_000;
        let mut budget = due.saturating_sub(u128::from(cookie)).min(32) as usize;
        while budget > 0 {
            let r = (cookie % u64::from(a.radios)) as u8;
            let dst = if cookie % BROADCAST_EVERY == 0 {
                MacAddr::BROADCAST
            } else {
                peers[(cookie / u64::from(a.radios)) as usize % peers.len()]
            };
            frame[4..10].copy_from_slice(&dst.0);
            frame[10..16].copy_from_slice(&vif(a.slot, r).0);
            frame[16..22].copy_from_slice(&vif(a.slot, r).0);
            let tx = TxFrameRepr {
                transmitter: wire(a.slot, r),
                frame: &frame,
                flags: tx_flags::REQ_TX_STATUS,
                freq: Some(5180),
                tx_info: [
                    TxRate { idx: 7, count: 1 },
                    TxRate::UNUSED,
                    TxRate::UNUSED,
                    TxRate::UNUSED,
                ],
                tx_info_flags: None,
                cookie: cookie + 1,
            };
            let n = tx.emit(&mut msg).map_err(|e| e.to_string())?;
            match guest.send(&msg[..n]) {
                Ok(()) => {
                    rep.sent += 1;
                    cookie += 1;
                    budget -= 1;
                }
                // Ring full: the device is behind; try again after the next wait.
                Err(hwsim_guest::Error::TxRingFull) => break,
                Err(e) => return Err(format!("send: {e}")),
            }
        }
        if got == 0 {
            let _ = guest.wait(Duration::from_millis(1));
        }
    }
    // A clean end: collect the statuses of everything sent, then disconnect.
    let deadline = monotonic_ns() + 5_000_000_000;
    while rep.statuses < rep.sent && monotonic_ns() < deadline {
        guest.recv_with(|m| count(m, &mut rep, &mut last_rx));
        let _ = guest.wait(Duration::from_millis(5));
    }
    println!("{}", rep.line());
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    guest.disconnect();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_round_trips() {
        let r = SoakReport {
            sent: 12,
            statuses: 11,
            received: 40,
            max_rx_gap_ms: 3,
        };
        assert_eq!(SoakReport::parse(&r.line()), Ok(r));
        assert!(SoakReport::parse("ready").is_err());
        assert!(SoakReport::parse("report sent=x").is_err());
    }
}
