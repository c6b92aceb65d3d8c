//! Per-frame cost of the mediums: `hear` for one receiver plus `status`, timed over many frames
//! (not a `cargo bench`; run with `cargo run --release -p vhost-hwsim --example model_cost`).

use std::hint::black_box;
use std::time::Instant;

use hwsim_frame::nl::{tx_flags, TxRate};
use hwsim_frame::MacAddr;
use vhost_hwsim::config::Config;
use vhost_hwsim::medium::{Candidate, Medium, PerfectMedium, RadioMedium, Transmission};
use vhost_hwsim::switch::RadioKey;

const FRAMES: u64 = 2_000_000;

fn time(name: &str, m: &dyn Medium, to: MacAddr, group: bool) {
    let frame = [0u8; 1500];
    let from = RadioKey {
        vm: 1,
        wire: MacAddr([0x42, 0, 0, 0, 0, 0]),
    };
    let cand = Candidate {
        radio: RadioKey {
            vm: 2,
            wire: MacAddr([0x42, 0, 0, 1, 0, 0]),
        },
        addressed: true,
        on_channel: true,
        rx_addr: Some(to),
        attenuation_db: 0.0,
    };
    let rates = [
        TxRate { idx: 7, count: 3 },
        TxRate { idx: 3, count: 3 },
        TxRate { idx: 0, count: 2 },
        TxRate::UNUSED,
    ];
    let start = Instant::now();
    let mut delivered = 0u64;
    for seq in 1..=FRAMES {
        let tx = Transmission {
            from,
            seq,
            freq: 5180,
            frame: &frame,
            receiver: if group { MacAddr::BROADCAST } else { to },
            sender: Some(MacAddr([2, 0, 0, 0, 0, 0])),
            group,
            flags: tx_flags::REQ_TX_STATUS,
            rates,
        };
        let r = m.hear(black_box(&tx), black_box(&cand));
        delivered += u64::from(r.is_some());
        black_box(m.status(&tx, r.as_ref()));
    }
    let ns = start.elapsed().as_nanos() as f64 / FRAMES as f64;
    println!("{name:<40} {ns:>7.0} ns/frame  (delivered {delivered}/{FRAMES})");
}

fn main() {
    let cfg = Config::parse(
        r#"
seed = 1
fading = "rayleigh"
path_loss = { model = "tgax_residential" }
[[node]]
name = "ap"
addresses = ["02:00:00:00:00:00"]
position = [0, 0, 1.5]
[[node]]
name = "near"
addresses = ["02:00:00:01:00:00"]
position = [4, 3, 1]
[[node]]
name = "edge"
addresses = ["02:00:00:02:00:00"]
position = [30, 10, 1]
"#,
    )
    .expect("valid config");
    let built = Instant::now();
    let radio = RadioMedium::new(&cfg);
    println!("RadioMedium::new: {:?}", built.elapsed());
    let perfect = PerfectMedium::default();
    time(
        "perfect, unicast",
        &perfect,
        MacAddr([2, 0, 0, 1, 0, 0]),
        false,
    );
    time(
        "radio, unicast near",
        &radio,
        MacAddr([2, 0, 0, 1, 0, 0]),
        false,
    );
    time(
        "radio, unicast edge (retries)",
        &radio,
        MacAddr([2, 0, 0, 2, 0, 0]),
        false,
    );
    time(
        "radio, broadcast",
        &radio,
        MacAddr([2, 0, 0, 1, 0, 0]),
        true,
    );
    time(
        "radio, unlisted receiver",
        &radio,
        MacAddr([2, 9, 9, 9, 9, 9]),
        false,
    );
}
