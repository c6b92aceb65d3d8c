//! VMs that leave, cleanly or not, leave nothing behind: no descriptor, thread or per-VM record
//! grows with the number of connections, and every message queued for a VM that left is
//! accounted for. (`hwsim-load soak` does the same over 1,000 connections and prints figures.)

mod common;

use std::time::{Duration, Instant};

use common::*;
use hwsim_frame::nl::tx_flags;

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count()
}

/// Waits until the daemon's accept and control threads run: they start just after their
/// sockets appear, so a count taken at once may miss them (seen on a loaded machine).
fn wait_for_serving_threads(pid: u32) {
    let names = || -> Vec<String> {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
            .map(|n| n.trim().to_owned())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    // Thread names are cut to 15 bytes: vhost-hwsim-accept, vhost-hwsim-control.
    while !["vhost-hwsim-acc", "vhost-hwsim-con"]
        .iter()
        .all(|want| names().iter().any(|n| n == want))
    {
        assert!(Instant::now() < deadline, "threads: {:?}", names());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Polls until `read` gives `want` (a VM's teardown ends on its own thread, just after the VM
/// leaves the stats) and returns the last reading.
fn settles_at(want: usize, read: impl Fn() -> usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = read();
        if got == want || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// VMs whose final figures are in the departed totals.
fn departed_vms(d: &Daemon) -> usize {
    d.stats()["departed"]["vms"].as_u64().unwrap_or(0) as usize
}

fn connected_vms(d: &Daemon) -> usize {
    d.stats()["vms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["connected"] == true)
        .count()
}

#[test]
fn vms_that_come_and_go_leave_no_descriptor_thread_or_record_behind() {
    const CONNECTIONS: u64 = 40;
    let d = Daemon::start("departure-fds");
    let pid = d.pid();
    wait_for_serving_threads(pid);
    let (fds0, threads0) = (open_fds(pid), threads(pid));
    let stay = TestRadio::new(1, 0);
    let mut peer = d.guest();
    announce(&mut peer, stay, stay.vif);
    for i in 0..CONNECTIONS {
        let mut g = d.guest();
        let r = TestRadio::new(2, 0);
        announce(&mut g, r, r.vif);
        send_frame(&mut g, r, &data_frame(stay.vif, r.vif, b"hi"), 5180, 0, i);
        {
            let mut out = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(10);
            while frames_for(&out, stay).len() != 1 {
                if Instant::now() > deadline {
                    panic!(
                        "connection {i}: its frame never came; stats {:#}",
                        d.stats()
                    );
                }
                peer.recv_with(|m| out.push(own(m)));
                let _ = peer.wait(Duration::from_millis(20));
            }
        }
        g.disconnect();
    }
    drop(peer);
    assert_eq!(settles_at(0, || connected_vms(&d)), 0);
    assert_eq!(
        settles_at(fds0, || open_fds(pid)),
        fds0,
        "open descriptors back to what the daemon had before the first VM"
    );
    assert_eq!(settles_at(threads0, || threads(pid)), threads0);
    let all = CONNECTIONS as usize + 1;
    assert_eq!(settles_at(all, || departed_vms(&d)), all);
    let stats = d.stats();
    assert_eq!(stats["departed"]["radios"], CONNECTIONS + 1);
    assert_eq!(
        stats["departed"]["counters"]["tx_frames"], CONNECTIONS,
        "the totals keep what every VM that left did"
    );
    let listed = stats["vms"].as_array().unwrap().len();
    assert!(
        listed <= vhost_hwsim::stats::DEPARTED_LISTED,
        "{listed} VMs listed: the record of departed VMs is bounded"
    );
    let relay_sockets = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| {
            // The VM handlers' private sockets: .vhost-hwsim-PID-N/s (server.rs).
            e.file_name()
                .to_string_lossy()
                .trim_start_matches('.')
                .starts_with(&format!("vhost-hwsim-{pid}-"))
        })
        .count();
    assert_eq!(relay_sockets, 0, "no private relay socket is left in /tmp");
}

#[test]
fn messages_waiting_for_a_vm_that_leaves_are_discarded_and_counted() {
    let d = Daemon::start("departure-count");
    let (a0, b0) = (TestRadio::new(1, 0), TestRadio::new(2, 0));
    let mut a = d.guest();
    announce(&mut a, a0, a0.vif);
    // B posts 8 RX buffers and never reads them: what A sends it beyond those waits in its
    // inbox, and the TX statuses of its own frames wait in its status queue.
    let mut b = d.guest_with(|c| c.rx_prefill = 8);
    announce(&mut b, b0, b0.vif);
    std::thread::sleep(Duration::from_millis(100));
    for c in 1..=40u64 {
        send_frame(
            &mut b,
            b0,
            &data_frame(a0.vif, b0.vif, b"to a"),
            5180,
            tx_flags::REQ_TX_STATUS,
            c,
        );
    }
    for c in 1..=40u64 {
        send_frame(
            &mut a,
            a0,
            &data_frame(b0.vif, a0.vif, b"to b"),
            5180,
            tx_flags::REQ_TX_STATUS,
            c,
        );
    }
    // A has its 40 statuses and B's 40 frames: everything for B is in the daemon by now.
    until(&mut a, |got| {
        statuses(got).len() == 40 && frames_for(got, a0).len() == 40
    });
    b.disconnect();
    a.disconnect();
    assert_eq!(settles_at(0, || connected_vms(&d)), 0);
    assert_eq!(settles_at(2, || departed_vms(&d)), 2);
    let stats = d.stats();
    let c = &stats["departed"]["counters"];
    let n = |k: &str| c[k].as_u64().unwrap_or(0);
    // B's 8 buffers took 8 messages; the other 72 (40 frames from A, 40 statuses of B's own
    // frames, less those 8) were waiting when it left.
    assert_eq!(n("tx_frames"), 80);
    assert_eq!(n("rx_discarded_on_departure"), 72, "{c}");
    assert_eq!(
        n("deliveries_queued") + n("tx_status_queued"),
        n("rx_written") + n("rx_discarded_on_departure"),
        "every message queued for a guest was written or discarded: {c}"
    );
}

#[test]
fn frames_still_on_the_air_when_their_vm_leaves_are_counted_against_it() {
    // Airtime mode at 54 Mb/s: 200 frames of 2000 bytes take about 70 ms of air, so most are
    // still on the medium clock when A disconnects right after sending them.
    let cfg = std::env::temp_dir().join(format!("departure-air-{}.toml", std::process::id()));
    std::fs::write(
        &cfg,
        "model = \"radio\"\ntime_mode = \"airtime\"\ndefault_snr_db = 40\n\
         [defaults.5g]\nmax_format = \"ofdm\"\nmax_nss = 1\nmax_width = 20\n",
    )
    .unwrap();
    let d = Daemon::start_with("departure-air", &["--config", cfg.to_str().unwrap()]);
    let (a0, b0) = (TestRadio::new(1, 0), TestRadio::new(2, 0));
    let mut b = d.guest();
    announce(&mut b, b0, b0.vif);
    let mut a = d.guest();
    announce(&mut a, a0, a0.vif);
    std::thread::sleep(Duration::from_millis(100));
    let frame = data_frame(b0.vif, a0.vif, &[0x5a; 1976]);
    for c in 1..=200u64 {
        send_frame(&mut a, a0, &frame, 5180, tx_flags::REQ_TX_STATUS, c);
    }
    std::thread::sleep(Duration::from_millis(5));
    a.disconnect();
    // B keeps reading while A's frames land.
    let _ = drain(&mut b, Duration::from_millis(300));
    b.disconnect();
    assert_eq!(settles_at(2, || departed_vms(&d)), 2);
    let stats = d.stats();
    let c = &stats["departed"]["counters"];
    let n = |k: &str| c[k].as_u64().unwrap_or(0);
    assert!(n("tx_frames") > 0, "{c}");
    assert_eq!(
        n("tx_frames"),
        n("tx_status_queued") + n("tx_status_dropped"),
        "every frame has its TX status or a counted drop, also those that ended after A left: {c}"
    );
    assert_eq!(
        n("deliveries_queued") + n("tx_status_queued"),
        n("rx_written") + n("rx_discarded_on_departure"),
        "{c}"
    );
    let _ = std::fs::remove_file(&cfg);
}
