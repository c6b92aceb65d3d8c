//! The classic scene (`demo --classic`): two simulated VMs with two radios each. VM 1 runs an
//! AP on 5 GHz (ch 36) and one on 2.4 GHz (ch 1), VM 2 a station on each band. APs beacon every
//! 100 ms; stations and APs exchange data; one station also sends to an address nobody owns,
//! which shows up as sent but not acknowledged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hwsim_frame::nl::{tx_flags, DeviceMessage, GuestMessage, MacAddrRepr, TxFrameRepr, TxRate};
use hwsim_frame::MacAddr;
use hwsim_guest::{Guest, GuestConfig};

use super::{check_tallies, print_radio_table, Daemon, DemoArgs};
use hwsim_sta::guest::GuestTally;

/// One simulated radio.
#[derive(Clone, Copy, Debug)]
struct SimRadio {
    wire: MacAddr,
    vif: MacAddr,
    freq: u32,
    /// Where its data frames go.
    peer: MacAddr,
    ap: bool,
}

fn mac(vm: u8, radio: u8, local: u8) -> MacAddr {
    MacAddr([local, 0, 0, vm, radio, 0])
}

/// Runs the classic scene and prints the per-radio table.
pub fn run(args: &DemoArgs) -> Result<(), String> {
    let daemon = Daemon::start(args)?;
    let socket = daemon.socket.clone();
    let unknown = MacAddr([0x02, 0xde, 0xad, 0, 0, 1]);
    let ap5 = SimRadio {
        wire: mac(1, 0, 0x42),
        vif: mac(1, 0, 0x02),
        freq: 5180,
        peer: mac(2, 0, 0x02),
        ap: true,
    };
    let ap24 = SimRadio {
        wire: mac(1, 1, 0x42),
        vif: mac(1, 1, 0x02),
        freq: 2412,
        peer: mac(2, 1, 0x02),
        ap: true,
    };
    let sta5 = SimRadio {
        wire: mac(2, 0, 0x42),
        vif: mac(2, 0, 0x02),
        freq: 5180,
        peer: ap5.vif,
        ap: false,
    };
    let sta24 = SimRadio {
        wire: mac(2, 1, 0x42),
        vif: mac(2, 1, 0x02),
        freq: 2412,
        peer: unknown,
        ap: false,
    };
    let vms = [vec![ap5, ap24], vec![sta5, sta24]];

    let stop = Arc::new(AtomicBool::new(false));
    // Traffic starts once every guest has announced its radios, so no first frame goes to an
    // address the switch has not learned yet.
    let announced = Arc::new(std::sync::Barrier::new(vms.len()));
    let mut threads = Vec::new();
    for radios in vms {
        let socket = socket.clone();
        let stop = Arc::clone(&stop);
        let announced = Arc::clone(&announced);
        let rate = args.rate;
        threads.push(std::thread::spawn(move || {
            run_guest(&socket, &radios, rate, &stop, &announced)
        }));
    }
    super::sleep_until(Instant::now() + Duration::from_secs_f64(args.seconds));
    stop.store(true, Ordering::Release);
    let mut tallies = Vec::new();
    for t in threads {
        tallies.push(
            t.join()
                .map_err(|_| "a simulated guest panicked".to_string())??,
        );
    }
    let stats = crate::stats::collect(&daemon.core);
    daemon.stop();

    println!(
        "vhost-hwsim demo --classic: 2 simulated VMs x 2 radios, perfect medium, {:.1} s",
        args.seconds
    );
    println!("  vm1: AP ch36 (5180 MHz), AP ch1 (2412 MHz); vm2: STA ch36, STA ch1 (sends to an absent address)");
    println!();
    print_radio_table(&stats);
    println!();
    check_tallies(&tallies)
}

/// One simulated guest: announces its radios, then beacons and sends data until `stop`.
fn run_guest(
    socket: &std::path::Path,
    radios: &[SimRadio],
    rate: u32,
    stop: &AtomicBool,
    announced: &std::sync::Barrier,
) -> Result<GuestTally, String> {
    let mut guest = Guest::connect(&GuestConfig {
        socket: socket.to_owned(),
        ..GuestConfig::default()
    })
    .map_err(|e| format!("connect: {e}"))?;
    let mut tally = GuestTally::default();
    let mut buf = vec![0u8; 4096];
    let mut frame = vec![0u8; 256];
    for r in radios {
        let m = GuestMessage::AddMacAddr(MacAddrRepr {
            radio: r.wire,
            addr: r.vif,
        });
        let n = m.emit(&mut buf).map_err(|e| e.to_string())?;
        guest.send(&buf[..n]).map_err(|e| e.to_string())?;
    }
    // Wait until the device has taken our announcements (TX buffers back), then for the others.
    let deadline = Instant::now() + Duration::from_secs(5);
    while guest.tx_in_flight() > 0 && Instant::now() < deadline {
        let _ = guest.wait(Duration::from_millis(10));
        guest.reclaim_tx();
    }
    announced.wait();
    let start = Instant::now();
    let mut cookie = 0u64;
    let mut next_beacon = start;
    let mut next_data = start;
    let data_gap = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let mut seq = 0u16;
    let mut pending = 0u64;
    loop {
        let now = Instant::now();
        let stopping = stop.load(Ordering::Acquire);
        if !stopping {
            for r in radios {
                let mut kinds = [None, None];
                if r.ap && now >= next_beacon {
                    kinds[0] = Some(true);
                }
                if now >= next_data {
                    kinds[1] = Some(false);
                }
                for beacon in kinds.into_iter().flatten() {
                    seq = seq.wrapping_add(1);
                    let len = if beacon {
                        build_beacon(&mut frame, r.vif, seq)
                    } else {
                        build_data(
                            &mut frame,
                            r.peer,
                            r.vif,
                            if r.ap { r.vif } else { r.peer },
                            seq,
                            r.ap,
                        )
                    };
                    cookie += 1;
                    let tx = TxFrameRepr {
                        transmitter: r.wire,
                        frame: &frame[..len],
                        flags: tx_flags::REQ_TX_STATUS,
                        freq: Some(r.freq),
                        tx_info: [
                            TxRate { idx: 7, count: 2 },
                            TxRate { idx: 0, count: 2 },
                            TxRate::UNUSED,
                            TxRate::UNUSED,
                        ],
                        tx_info_flags: None,
                        cookie,
                    };
                    let n = tx.emit(&mut buf).map_err(|e| e.to_string())?;
                    match guest.send(&buf[..n]) {
                        Ok(()) => {
                            tally.sent += 1;
                            pending += 1;
                        }
                        Err(hwsim_guest::Error::TxRingFull) => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
            }
            if now >= next_beacon {
                next_beacon += Duration::from_millis(100);
            }
            if now >= next_data {
                next_data += data_gap;
            }
        }
        guest.recv_with(|msg| match DeviceMessage::parse(msg) {
            Ok(DeviceMessage::TxInfo(s)) => {
                tally.statuses += 1;
                pending = pending.saturating_sub(1);
                if s.flags & tx_flags::STAT_ACK != 0 {
                    tally.acked += 1;
                }
            }
            Ok(DeviceMessage::Frame(_)) => tally.received += 1,
            Err(_) => {}
        });
        if stopping && (pending == 0 || now.duration_since(start) > Duration::from_secs(3600)) {
            break;
        }
        if stopping {
            // Give outstanding statuses a moment, but never hang.
            if !guest
                .wait(Duration::from_millis(500))
                .map_err(|e| e.to_string())?
            {
                break;
            }
            continue;
        }
        let wait = next_data
            .min(next_beacon)
            .saturating_duration_since(Instant::now());
        let _ = guest.wait(wait.min(Duration::from_millis(10)));
    }
    guest.disconnect();
    Ok(tally)
}

/// Beacon: FC 0x0080, broadcast, SA = BSSID = `bssid`, fixed fields, SSID "vhost-hwsim".
fn build_beacon(out: &mut [u8], bssid: MacAddr, seq: u16) -> usize {
    let ssid = b"vhost-hwsim";
    let mut h = header(out, [0x80, 0x00], MacAddr::BROADCAST, bssid, bssid, seq);
    out[h..h + 8].fill(0); // timestamp
    out[h + 8..h + 10].copy_from_slice(&100u16.to_le_bytes()); // beacon interval, TU
    out[h + 10..h + 12].copy_from_slice(&0x0401u16.to_le_bytes()); // ESS, short slot
    h += 12;
    out[h] = 0;
    out[h + 1] = ssid.len() as u8;
    out[h + 2..h + 2 + ssid.len()].copy_from_slice(ssid);
    h + 2 + ssid.len()
}

/// Data frame with a small LLC/SNAP payload; `from_ap` picks FromDS, else ToDS.
fn build_data(
    out: &mut [u8],
    dst: MacAddr,
    src: MacAddr,
    bssid: MacAddr,
    seq: u16,
    from_ap: bool,
) -> usize {
    let fc = if from_ap { [0x08, 0x02] } else { [0x08, 0x01] };
    let (a1, a2, a3) = if from_ap {
        (dst, bssid, src)
    } else {
        (bssid, src, dst)
    };
    let h = header(out, fc, a1, a2, a3, seq);
    let payload = [
        0xaa, 0xaa, 0x03, 0, 0, 0, 0x88, 0xb5, b'd', b'e', b'm', b'o',
    ];
    out[h..h + payload.len()].copy_from_slice(&payload);
    h + payload.len()
}

fn header(out: &mut [u8], fc: [u8; 2], a1: MacAddr, a2: MacAddr, a3: MacAddr, seq: u16) -> usize {
    out[0..2].copy_from_slice(&fc);
    out[2..4].fill(0);
    out[4..10].copy_from_slice(&a1.0);
    out[10..16].copy_from_slice(&a2.0);
    out[16..22].copy_from_slice(&a3.0);
    out[22..24].copy_from_slice(&(seq << 4).to_le_bytes());
    24
}
