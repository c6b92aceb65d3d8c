//! One load-generating VM: its radios send data frames carrying a CLOCK_MONOTONIC timestamp to
//! radios of the next VM, as fast as the TX ring allows (or at `--rate`), and measure delivery
//! latency on receipt.

use std::path::PathBuf;
use std::time::Duration;

use hwsim_frame::nl::{tx_flags, DeviceMessage, GuestMessage, MacAddrRepr, TxFrameRepr, TxRate};
use hwsim_frame::MacAddr;
use hwsim_guest::{Guest, GuestConfig};

use crate::histogram::Histogram;
use crate::monotonic_ns;

/// Worker options (set by the parent).
#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    #[arg(long)]
    socket: PathBuf,
    #[arg(long)]
    vm: u8,
    #[arg(long)]
    vms: u8,
    #[arg(long)]
    radios: u8,
    #[arg(long)]
    size: usize,
    #[arg(long)]
    seconds: f64,
    #[arg(long)]
    broadcast: u8,
    #[arg(long, default_value_t = 0)]
    vms_per_channel: u8,
    #[arg(long)]
    rate: u64,
    #[arg(long)]
    start_at: u64,
    #[arg(long, value_enum, default_value_t = Frontend::Uml)]
    frontend: Frontend,
}

/// `--frontend`: how the guest declares its memory (see [`hwsim_guest::FrontendStyle`]).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frontend {
    /// As Linux's virtio_uml.
    Uml,
    /// As QEMU and rust-vmm.
    Qemu,
}

impl Frontend {
    /// The option's value, for the workers' command line.
    pub fn as_arg(self) -> &'static str {
        match self {
            Frontend::Uml => "uml",
            Frontend::Qemu => "qemu",
        }
    }

    fn style(self) -> hwsim_guest::FrontendStyle {
        match self {
            Frontend::Uml => hwsim_guest::FrontendStyle::Uml,
            Frontend::Qemu => hwsim_guest::FrontendStyle::Qemu,
        }
    }
}

/// A worker's totals.
#[derive(Default, Debug, Clone, Copy)]
pub struct Report {
    /// Frames queued on the TX ring.
    pub sent: u64,
    /// TX statuses received.
    pub statuses: u64,
    /// Of those, acknowledged.
    pub acked: u64,
    /// Frames received.
    pub received: u64,
    /// Of those, received after the traffic window, while the statuses were collected: a
    /// medium that queues frames delivers them late, and they are not throughput.
    pub received_late: u64,
    /// Bytes of 802.11 frames received within the traffic window.
    pub rx_bytes: u64,
    /// Sends refused because the TX ring was full.
    pub ring_full: u64,
}

impl Report {
    /// Adds another report.
    pub fn add(&mut self, o: &Report) {
        self.sent += o.sent;
        self.statuses += o.statuses;
        self.acked += o.acked;
        self.received += o.received;
        self.received_late += o.received_late;
        self.rx_bytes += o.rx_bytes;
        self.ring_full += o.ring_full;
    }

    /// Frames delivered within the traffic window of `secs` seconds, per second.
    pub fn frames_per_s(&self, secs: f64) -> f64 {
        self.received.saturating_sub(self.received_late) as f64 / secs
    }

    fn line(&self, h: &Histogram) -> String {
        format!(
            "report sent={} statuses={} acked={} received={} received_late={} rx_bytes={} ring_full={} hist={}",
            self.sent,
            self.statuses,
            self.acked,
            self.received,
            self.received_late,
            self.rx_bytes,
            self.ring_full,
            h.encode()
        )
    }

    /// Parses a worker's report line.
    pub fn parse(line: &str) -> Result<(Report, Histogram), String> {
        let mut r = Report::default();
        let mut h = None;
        let mut words = line.split_whitespace();
        if words.next() != Some("report") {
            return Err(format!("not a report: {line:?}"));
        }
        for w in words {
            let (k, v) = w
                .split_once('=')
                .ok_or_else(|| format!("bad field {w:?}"))?;
            if k == "hist" {
                h = Some(Histogram::decode(v)?);
                continue;
            }
            let n: u64 = v.parse().map_err(|_| format!("bad value in {w:?}"))?;
            match k {
                "sent" => r.sent = n,
                "statuses" => r.statuses = n,
                "acked" => r.acked = n,
                "received" => r.received = n,
                "received_late" => r.received_late = n,
                "rx_bytes" => r.rx_bytes = n,
                "ring_full" => r.ring_full = n,
                _ => return Err(format!("unknown field {k:?}")),
            }
        }
        Ok((r, h.ok_or("report without histogram")?))
    }
}

fn wire(vm: u8, r: u8) -> MacAddr {
    MacAddr([0x42, 0, 0, vm + 1, r, 0])
}

/// The interface address of VM `vm`'s radio `r`: the frames' addr1/addr2.
pub fn vif(vm: u8, r: u8) -> MacAddr {
    MacAddr([0x02, 0, 0, vm + 1, r, 0])
}

/// Frequency of channel index `i`: the 20 MHz channels of 5 GHz (36–165), then of 6 GHz
/// (1–233), then 2.4 GHz (1–13), 97 in all, reused from the start beyond that.
pub fn channel_freq(i: usize) -> u32 {
    const G5: [u32; 25] = [
        5180, 5200, 5220, 5240, 5260, 5280, 5300, 5320, 5500, 5520, 5540, 5560, 5580, 5600, 5620,
        5640, 5660, 5680, 5700, 5720, 5745, 5765, 5785, 5805, 5825,
    ];
    let i = i % (G5.len() + 59 + 13);
    match i {
        i if i < G5.len() => G5[i],
        i if i < G5.len() + 59 => 5955 + 20 * (i - G5.len()) as u32,
        i => 2412 + 5 * (i - G5.len() - 59) as u32,
    }
}

const BATCH: usize = 32;
/// The send time's place in the frame body, after LLC/SNAP and the tag.
const TS_OFFSET: usize = crate::payload::DATA_OFFSET;

/// Runs one worker and prints its report line.
pub fn run(a: &WorkerArgs) -> Result<(), String> {
    let mut guest = Guest::connect(&GuestConfig {
        socket: a.socket.clone(),
        style: a.frontend.style(),
        ..GuestConfig::default()
    })
    .map_err(|e| format!("connect: {e}"))?;
    let queue = usize::from(GuestConfig::default().queue_size);
    let mut msg = vec![0u8; 4096];
    for r in 0..a.radios {
        let m = GuestMessage::AddMacAddr(MacAddrRepr {
            radio: wire(a.vm, r),
            addr: vif(a.vm, r),
        });
        let n = m.emit(&mut msg).map_err(|e| e.to_string())?;
        guest.send(&msg[..n]).map_err(|e| e.to_string())?;
    }
    // VMs are in groups of K sharing channels; destination of each radio: the same radio
    // index in the next VM of the group (or the next radio of this VM in a group of one).
    let k = match a.vms_per_channel {
        0 => a.vms,
        k => k.min(a.vms),
    };
    let group = a.vm / k;
    let members = k.min(a.vms - group * k);
    let dests: Vec<MacAddr> = (0..a.radios)
        .map(|r| {
            if members > 1 {
                vif(group * k + (a.vm % k + 1) % members, r)
            } else {
                vif(a.vm, (r + 1) % a.radios)
            }
        })
        .collect();
    // Without groups every radio is on one channel (5180 MHz), as the figures in
    // BENCHMARKS.md were measured.
    let freqs: Vec<u32> = (0..a.radios)
        .map(|r| match a.vms_per_channel {
            0 => channel_freq(0),
            _ => channel_freq(usize::from(group) * usize::from(a.radios) + usize::from(r)),
        })
        .collect();
    let mut frame = vec![0u8; a.size.max(TS_OFFSET + 8)];
    crate::payload::init_frame(&mut frame);
    let mut arena = vec![0u8; BATCH * (a.size + 128)];
    let mut lens = [0usize; BATCH];

    while monotonic_ns() < a.start_at {
        std::thread::sleep(Duration::from_micros(200));
    }
    let end = a.start_at + (a.seconds * 1e9) as u64;
    let mut rep = Report::default();
    let mut hist = Histogram::default();
    let mut cookie = 0u64;
    let mut radio = 0u8;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(a.vm);
    let record = |m: &[u8], rep: &mut Report, hist: &mut Histogram| match DeviceMessage::parse(m) {
        Ok(DeviceMessage::Frame(f)) => {
            rep.received += 1;
            rep.rx_bytes += f.frame.len() as u64;
            if let Some(ts) = f.frame.get(TS_OFFSET..TS_OFFSET + 8) {
                let sent = u64::from_le_bytes(ts.try_into().unwrap_or([0; 8]));
                hist.record(monotonic_ns().saturating_sub(sent));
            }
        }
        Ok(DeviceMessage::TxInfo(s)) => {
            rep.statuses += 1;
            if s.flags & tx_flags::STAT_ACK != 0 {
                rep.acked += 1;
            }
        }
        Err(_) => {}
    };
    loop {
        let now = monotonic_ns();
        if now >= end {
            break;
        }
        // Receive first: a guest that keeps its RX ring stocked is what the device needs to
        // deliver without drops.
        let got = guest.recv_with(|m| record(m, &mut rep, &mut hist));
        guest.reclaim_tx();
        let room = queue.saturating_sub(guest.tx_in_flight());
        let budget = if a.rate == 0 {
            room
        } else {
            let due = (now - a.start_at) as u128 * u128::from(a.rate) / 1_000_000_000;
            room.min(due.saturating_sub(u128::from(rep.sent)) as usize)
        };
        let n = budget.min(BATCH);
        for (i, len) in lens.iter_mut().enumerate().take(n) {
            let r = radio;
            radio = (radio + 1) % a.radios;
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let group = (rng % 100) < u64::from(a.broadcast);
            let dst = if group {
                MacAddr::BROADCAST
            } else {
                dests[usize::from(r)]
            };
            frame[4..10].copy_from_slice(&dst.0);
            frame[10..16].copy_from_slice(&vif(a.vm, r).0);
            frame[16..22].copy_from_slice(&vif(a.vm, r).0);
            frame[TS_OFFSET..TS_OFFSET + 8].copy_from_slice(&monotonic_ns().to_le_bytes());
            cookie += 1;
            let tx = TxFrameRepr {
                transmitter: wire(a.vm, r),
                frame: &frame,
                flags: tx_flags::REQ_TX_STATUS,
                freq: Some(freqs[usize::from(r)]),
                tx_info: [
                    TxRate { idx: 7, count: 1 },
                    TxRate::UNUSED,
                    TxRate::UNUSED,
                    TxRate::UNUSED,
                ],
                tx_info_flags: None,
                cookie,
            };
            let slot = &mut arena[i * (a.size + 128)..(i + 1) * (a.size + 128)];
            *len = tx.emit(slot).map_err(|e| e.to_string())?;
        }
        if n > 0 {
            let stride = a.size + 128;
            let msgs = (0..n).map(|i| &arena[i * stride..i * stride + lens[i]]);
            match guest.send_batch(msgs) {
                Ok(k) => {
                    rep.sent += k as u64;
                    rep.ring_full += (n - k) as u64;
                }
                Err(hwsim_guest::Error::TxRingFull) => rep.ring_full += n as u64,
                Err(e) => return Err(e.to_string()),
            }
        }
        if n == 0 && got == 0 {
            let _ = guest.wait(Duration::from_millis(1));
        }
    }
    // Collect the statuses of what was sent (the frames in flight at the end are still counted).
    // Frames arriving now count as received, late, and not towards frames/s.
    let (in_window, bytes_in_window) = (rep.received, rep.rx_bytes);
    let deadline = monotonic_ns() + 2_000_000_000;
    while rep.statuses < rep.sent && monotonic_ns() < deadline {
        guest.recv_with(|m| record(m, &mut rep, &mut hist));
        let _ = guest.wait(Duration::from_millis(5));
    }
    rep.received_late = rep.received - in_window;
    rep.rx_bytes = bytes_in_window;
    println!("{}", rep.line(&hist));
    guest.disconnect();
    Ok(())
}

/// One-way wake-up latency through an eventfd between two threads, `n` samples (ns).
pub fn eventfd_baseline(n: usize) -> Result<Histogram, String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use vmm_sys_util::eventfd::EventFd;

    let ping = Arc::new(EventFd::new(0).map_err(|e| e.to_string())?);
    let pong = Arc::new(EventFd::new(0).map_err(|e| e.to_string())?);
    let stamp = Arc::new(AtomicU64::new(0));
    let (p2, q2, s2) = (Arc::clone(&ping), Arc::clone(&pong), Arc::clone(&stamp));
    let t = std::thread::spawn(move || {
        let mut h = Histogram::default();
        for _ in 0..n {
            if p2.read().is_err() {
                break;
            }
            h.record(monotonic_ns().saturating_sub(s2.load(Ordering::Acquire)));
            let _ = q2.write(1);
        }
        h
    });
    for _ in 0..n {
        stamp.store(monotonic_ns(), Ordering::Release);
        ping.write(1).map_err(|e| e.to_string())?;
        pong.read().map_err(|e| e.to_string())?;
    }
    t.join().map_err(|_| "baseline thread panicked".to_string())
}

#[cfg(test)]
mod tests {
    use super::{channel_freq, Histogram, Report};

    #[test]
    fn late_frames_survive_the_report_line_and_are_not_throughput() {
        let r = Report {
            sent: 1000,
            statuses: 900,
            acked: 900,
            received: 800,
            received_late: 300,
            rx_bytes: 204_800,
            ring_full: 7,
        };
        let mut h = Histogram::default();
        h.record(1_000);
        let (back, _) = Report::parse(&r.line(&h)).unwrap();
        assert_eq!(back.received, 800);
        assert_eq!(back.received_late, 300);
        assert_eq!(back.ring_full, 7);
        // 500 frames inside a 2-second window.
        assert_eq!(back.frames_per_s(2.0), 250.0);
        let mut sum = Report::default();
        sum.add(&back);
        sum.add(&back);
        assert_eq!((sum.received, sum.received_late), (1600, 600));
    }

    #[test]
    fn the_97_channels_are_distinct_20_mhz_channels_then_repeat() {
        let f: Vec<u32> = (0..97).map(channel_freq).collect();
        let mut sorted = f.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 97);
        assert_eq!(
            (f[0], f[24], f[25], f[83], f[84], f[96]),
            (5180, 5825, 5955, 7115, 2412, 2472)
        );
        assert_eq!(channel_freq(97), 5180);
    }
}
