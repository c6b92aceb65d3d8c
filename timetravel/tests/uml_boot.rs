//! A real UML guest on our controller: `time-travel=ext:7:SOCKET`, no virtio device. It boots,
//! runs `sleep 30` and powers off with its clock driven by us, beside a local participant that
//! ticks every 100 ms of simulated time (the way the medium's beacons will).
//!
//! Needs the rig's kernel and root and root privileges; run it explicitly:
//!
//! ```text
//! HWSIM_UML_KERNEL=~/.cache/vhost-hwsim/linux-6.12.117-1-… \
//! HWSIM_UML_ROOT=~/.cache/vhost-hwsim/root-sid-… \
//!     cargo test -p hwsim-timetravel --test uml_boot -- --ignored --nocapture
//! ```
//!
//! `HWSIM_UML_EXTRA` adds kernel arguments (e.g. to try pinning the guest's randomness).
//! It boots the guest twice and prints, per boot, wall time, simulated time, their ratio and the
//! controller's schedule digest, and whether the two schedules were identical.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hwsim_timetravel::controller::Config;
use hwsim_timetravel::server::{ServerConfig, ServerHandle, Stats};

const SLEEP_S: u64 = 30;
const TICK_NS: u64 = 100_000_000;
/// 2024-01-01T00:00:00Z: the guest's wall clock at simulated time 0.
const EPOCH_S: u64 = 1_704_067_200;
const WALL_LIMIT: Duration = Duration::from_secs(300);

struct Boot {
    turns: Vec<(u64, u64)>,
    wall: Duration,
    stats: Stats,
    ticks: u64,
    console: String,
    guest_date: Option<u64>,
}

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(
        std::env::var_os(name).unwrap_or_else(|| panic!("set {name} (see the file's doc)")),
    )
}

fn boot(kernel: &Path, root: &Path, dir: &Path) -> Boot {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("init.sh"),
        format!(
            "echo \"tt: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)\"\n\
             echo \"tt: before $(cut -d' ' -f1 /proc/uptime)\"\n\
             sleep {SLEEP_S}\n\
             echo \"tt: after $(cut -d' ' -f1 /proc/uptime)\"\n\
             date +%s >/scratch/date\n"
        ),
    )
    .unwrap();
    let sock = dir.join("time.sock");
    let server = ServerHandle::spawn(
        &sock,
        ServerConfig {
            controller: Config {
                expected: 1,
                tod_at_zero: EPOCH_S * 1_000_000_000,
                record_turns: true,
            },
            ..ServerConfig::default()
        },
    )
    .unwrap();

    // The medium stand-in: a turn every 100 ms of simulated time, each at exactly its request.
    let medium = server.add_local(0);
    medium.request(Some(TICK_NS));
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut ticks = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let Some(at) = medium.next_run(Duration::from_millis(50)) else {
                    continue;
                };
                ticks += 1;
                assert_eq!(
                    at,
                    ticks * TICK_NS,
                    "tick {ticks} ran at its requested time"
                );
                // Alone, the medium would spin simulated time forward as fast as it can.
                if medium.stats().remotes > 0 {
                    medium.request(Some(at + TICK_NS));
                } else {
                    medium.request(None);
                }
                medium.done();
            }
            ticks
        })
    };

    let console = std::fs::File::create(dir.join("console.log")).unwrap();
    let started = Instant::now();
    let mut guest = Command::new(kernel)
        .args([
            "mem=256M".to_string(),
            "rootfstype=hostfs".to_string(),
            format!("rootflags={}", root.display()),
            "ro".to_string(),
            "init=/sbin/vhost-hwsim-init".to_string(),
            format!("vmscratch={}", dir.display()),
            "vmname=tt".to_string(),
            "mac80211_hwsim.radios=0".to_string(),
            "con=null".to_string(),
            "con0=null,fd:1".to_string(),
            "ssl=null".to_string(),
            format!("uml_dir={}", dir.join("uml").display()),
            format!("time-travel=ext:7:{}", sock.display()),
        ])
        .args(
            std::env::var("HWSIM_UML_EXTRA")
                .unwrap_or_default()
                .split_whitespace(),
        )
        .stdin(Stdio::null())
        .stdout(console.try_clone().unwrap())
        .stderr(console)
        .process_group(0)
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = guest.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > WALL_LIMIT {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", guest.id())])
                .status();
            let _ = guest.wait();
            panic!(
                "guest did not power off in {WALL_LIMIT:?}; console:\n{}",
                std::fs::read_to_string(dir.join("console.log")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let wall = started.elapsed();
    // UML's helpers must not outlive it.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", guest.id())])
        .stderr(Stdio::null())
        .status();
    stop.store(true, Ordering::SeqCst);
    let ticks = ticker.join().unwrap();
    let stats = server.stats();
    let turns = server.turns();
    drop(server);
    let console = std::fs::read_to_string(dir.join("console.log")).unwrap_or_default();
    assert!(
        status.success(),
        "guest exit {status:?}; console:\n{console}"
    );
    let guest_date = std::fs::read_to_string(dir.join("date"))
        .ok()
        .and_then(|s| s.trim().parse().ok());
    Boot {
        turns,
        wall,
        stats,
        ticks,
        console,
        guest_date,
    }
}

fn uptime(console: &str, key: &str) -> Option<f64> {
    console
        .lines()
        .find_map(|l| l.strip_prefix(&format!("tt: {key} ")))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
#[ignore = "boots a real UML guest; needs HWSIM_UML_KERNEL, HWSIM_UML_ROOT and root"]
fn a_uml_guest_boots_sleeps_and_powers_off_on_simulated_time() {
    let kernel = env_path("HWSIM_UML_KERNEL");
    let root = env_path("HWSIM_UML_ROOT");
    let base = std::env::temp_dir().join(format!("hwsim-tt-uml-{}", std::process::id()));
    let mut digests = Vec::new();
    for run in 1..=2 {
        let dir = base.join(format!("boot{run}"));
        let b = boot(&kernel, &root, &dir);
        let sim_s = b.stats.now as f64 / 1e9;
        let wall_s = b.wall.as_secs_f64();
        println!(
            "uml-boot {run}: wall {wall_s:.2} s, simulated {sim_s:.3} s, simulated/wall {:.2}, \
             turns {}, medium ticks {}, messages in {}, digest {:016x}",
            sim_s / wall_s,
            b.stats.controller.runs,
            b.ticks,
            b.stats.controller.received,
            b.stats.schedule_digest
        );
        println!("uml-boot {run}: {:?}", b.stats.controller);
        println!("uml-boot {run}: {:?}", b.stats.socket);
        assert!(
            b.console
                .contains("tt: clocksource time-travel-clock-external"),
            "console:\n{}",
            b.console
        );
        let slept = uptime(&b.console, "after").unwrap() - uptime(&b.console, "before").unwrap();
        assert!(slept >= SLEEP_S as f64, "guest slept {slept} s");
        assert!(sim_s >= SLEEP_S as f64, "controller time {sim_s} s");
        // The guest's clock of day comes from GET_TOD: the epoch plus simulated time.
        let date = b.guest_date.expect("guest wrote its date");
        assert!(
            (EPOCH_S..=EPOCH_S + b.stats.now / 1_000_000_000 + 1).contains(&date),
            "guest date {date}"
        );
        // One medium turn per 100 ms of simulated time while the guest was there.
        assert!(b.ticks + 2 >= b.stats.now / TICK_NS, "ticks {}", b.ticks);
        let c = b.stats.controller;
        assert_eq!(
            (
                c.violations,
                c.requests_in_past,
                c.updates_past_others,
                c.acks_unmatched
            ),
            (0, 0, 0, 0)
        );
        assert_eq!(b.stats.socket.io_errors, 0);
        assert_eq!(b.stats.socket.ack_timeouts, 0);
        assert!(
            wall_s < sim_s,
            "a guest that mostly sleeps finishes faster than its simulated time"
        );
        for line in b
            .console
            .lines()
            .filter(|l| l.starts_with("tt:") || l.contains("vhost-hwsim-init"))
        {
            println!("uml-boot {run}: console: {line}");
        }
        digests.push(b.turns);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (a, b) = (&digests[0], &digests[1]);
    println!(
        "uml-boot: schedules identical across the two boots: {}",
        a == b
    );
    if let Some(i) = (0..a.len().min(b.len())).find(|i| a[*i] != b[*i]) {
        println!(
            "uml-boot: first difference at turn {i}: {:?} vs {:?} (previous {:?})",
            a[i],
            b[i],
            a.get(i.wrapping_sub(1))
        );
    }
    let _ = std::fs::remove_dir_all(&base);
}
