//! Writes the seed corpora of the fuzz targets into `fuzz/corpus/<target>/` (or the directory
//! given as the first argument): the real guests' frames of `frame/tests/data` and the frames
//! of the captures in `captures/` and `frame/tests/data/*.pcapng`, cut to what each target
//! reads (whole frames, netlink messages around them, element bodies, element data, EAPOL
//! PDUs, SAE fields, radiotap headers, record sequences), plus the example configs in `docs/`
//! and a few inputs built with the crates' own emitters.
//!
//! `cargo run --release --example seeds` from `fuzz/`. Deterministic: the same tree gives
//! the same files (named by a hash of their bytes).

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use hwsim_frame::ie::{self, ElementId, Elements, IeRepr, TidToLinkMappingRepr, TtlmDirection};
use hwsim_frame::mac::{mgmt_subtype, Frame, FrameType};
use hwsim_frame::nl::{MacAddrRepr, PmsrRepr, RxFrameRepr, TxFrameRepr, TxInfoRepr, TxRate};
use hwsim_frame::radiotap::{self, Bandwidth, Coding, GuardInterval, PhyInfo, RadiotapRepr};
use hwsim_frame::{GuestMessage, MacAddr};
use hwsim_fuzz::records::push;
use hwsim_fuzz::station::{self, Security};

/// One frame of a capture: the interface it was seen on, its radiotap header (if any) and the
/// 802.11 frame.
struct Captured {
    iface: u32,
    radiotap: Vec<u8>,
    frame: Vec<u8>,
}

/// The enhanced packet blocks of a little-endian pcapng file, radiotap split off when the
/// interface's link type is 127.
fn read_pcapng(path: &Path) -> Vec<Captured> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let le32 = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let mut linktypes = Vec::new();
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= bytes.len() {
        let (kind, len) = (le32(at), le32(at + 4) as usize);
        if len < 12 || at + len > bytes.len() {
            break;
        }
        let body = &bytes[at + 8..at + len - 4];
        match kind {
            1 => linktypes.push(u16::from_le_bytes([body[0], body[1]])),
            6 => out.extend(packet(body, &linktypes)),
            _ => {}
        }
        at += len;
    }
    out
}

/// An enhanced packet block's body; None for a radiotap header the reader refuses.
fn packet(body: &[u8], linktypes: &[u16]) -> Option<Captured> {
    let le32 = |at: usize| u32::from_le_bytes(body[at..at + 4].try_into().expect("4 bytes"));
    let (iface, caplen) = (le32(0), le32(12) as usize);
    let data = body.get(20..20 + caplen)?;
    let (radiotap, frame) = match linktypes.get(iface as usize) {
        Some(127) => data.split_at(radiotap::Fields::new(data).ok()?.header_len()),
        _ => (&data[..0], data),
    };
    Some(Captured {
        iface,
        radiotap: radiotap.to_vec(),
        frame: frame.to_vec(),
    })
}

/// The corpora being built: target → inputs.
#[derive(Default)]
struct Corpora(BTreeMap<&'static str, Vec<Vec<u8>>>);

impl Corpora {
    fn add(&mut self, target: &'static str, input: impl Into<Vec<u8>>) {
        let input = input.into();
        let v = self.0.entry(target).or_default();
        if !v.contains(&input) {
            v.push(input);
        }
    }

    fn write(&self, root: &Path) {
        for (target, inputs) in &self.0 {
            let dir = root.join(target);
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            for input in inputs {
                let mut h = DefaultHasher::new();
                input.hash(&mut h);
                let path = dir.join(format!("seed-{:016x}", h.finish()));
                std::fs::write(&path, input).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
            println!("{target}: {} seeds", inputs.len());
        }
    }
}

/// Everything one real frame seeds.
fn seed_frame(c: &mut Corpora, frame: &[u8], radiotap_hdr: &[u8]) {
    if frame.len() < 10 || frame.len() > hwsim_frame::nl::MAX_FRAME_LEN {
        return;
    }
    c.add("mac_frame", frame);
    if !radiotap_hdr.is_empty() {
        c.add("radiotap", radiotap_hdr);
    }
    let radio = MacAddr([0x42, 0, 0, 0, 1, 0]);
    let tx = TxFrameRepr {
        transmitter: radio,
        frame,
        flags: 1,
        freq: Some(5180),
        tx_info: [
            TxRate { idx: 0, count: 3 },
            TxRate::UNUSED,
            TxRate::UNUSED,
            TxRate::UNUSED,
        ],
        tx_info_flags: None,
        cookie: 7,
    };
    c.add("nl_guest_message", emit(tx.buffer_len(), |b| tx.emit(b)));
    if frame.len() >= hwsim_frame::nl::MIN_RX_FRAME_LEN {
        let rx = RxFrameRepr {
            receiver: radio,
            frame,
            rx_rate: 4,
            freq: Some(5180),
            signal: -50,
        };
        c.add("nl_device_message", emit(rx.buffer_len(), |b| rx.emit(b)));
    }
    let Ok(f) = Frame::new_checked(frame) else {
        return;
    };
    let fc = f.frame_control();
    if fc.frame_type() == FrameType::Management {
        if let Some(fixed) = ie::mgmt_fixed_len(fc.subtype()) {
            if let Some(body) = f.payload().get(fixed..) {
                c.add("ie_elements", body);
                seed_elements(c, body);
            }
        }
        // Frames a station sends reach the AP MLD.
        if matches!(
            fc.subtype(),
            mgmt_subtype::PROBE_REQ
                | mgmt_subtype::AUTH
                | mgmt_subtype::ASSOC_REQ
                | mgmt_subtype::REASSOC_REQ
                | mgmt_subtype::ACTION
                | mgmt_subtype::DEAUTH
        ) {
            for conf in 0..3u8 {
                let mut input = vec![conf, 1];
                input.extend_from_slice(frame);
                c.add("ap_frame", input);
            }
        }
        if fc.subtype() == mgmt_subtype::AUTH && f.payload().len() > 6 {
            c.add("sae_fields", &f.payload()[6..]);
        }
    }
    if let Some((0x888e, pdu)) = hwsim_ap::security::split_msdu(f.payload()) {
        c.add("eapol_key", pdu);
    }
}

/// Element data by family, recursing into per-STA profiles.
fn seed_elements(c: &mut Corpora, body: &[u8]) {
    for e in Elements::new(body).flatten() {
        let data = e.to_vec();
        let target = match e.element_id() {
            ElementId::MultiLink => {
                c.add("ie_multi_link", e.raw);
                "ie_multi_link"
            }
            ElementId::ReducedNeighborReport => "ie_rnr",
            ElementId::Rsn | ElementId::Rsnx => "ie_rsn",
            ElementId::EhtCapabilities | ElementId::EhtOperation | ElementId::NonInheritance => {
                "ie_eht"
            }
            ElementId::UnknownExtension(ie::ext_id::TID_TO_LINK_MAPPING) => "ie_ttlm",
            _ => continue,
        };
        c.add(target, data);
    }
}

fn emit(len: usize, f: impl Fn(&mut [u8]) -> Result<usize, hwsim_frame::nl::Error>) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let n = f(&mut out).expect("emit a seed message");
    out.truncate(n);
    out
}

/// Inputs the captures do not have, made with the crates' own emitters.
fn seed_built(c: &mut Corpora) {
    let radio = MacAddr([0x42, 0, 0, 0, 1, 0]);
    let addr = MacAddrRepr {
        radio,
        addr: MacAddr([0x02, 0, 0, 0, 0, 9]),
    };
    c.add(
        "nl_guest_message",
        emit(addr.buffer_len(), |b| {
            GuestMessage::AddMacAddr(addr).emit(b)
        }),
    );
    c.add(
        "nl_guest_message",
        emit(addr.buffer_len(), |b| {
            GuestMessage::DelMacAddr(addr).emit(b)
        }),
    );
    let pmsr = PmsrRepr {
        radio,
        request: Some(&[8, 0, 1, 0, 1, 2, 3, 4]),
    };
    c.add(
        "nl_guest_message",
        emit(pmsr.buffer_len(), |b| pmsr.emit(b)),
    );
    let info = TxInfoRepr {
        transmitter: radio,
        flags: 5,
        cookie: 77,
        signal: -50,
        tx_info: [TxRate { idx: 0, count: 1 }; 4],
        freq: Some(2412),
    };
    c.add(
        "nl_device_message",
        emit(info.buffer_len(), |b| info.emit(b)),
    );

    for t in [
        TidToLinkMappingRepr::all_tids(TtlmDirection::Both, 0b101),
        TidToLinkMappingRepr {
            switch_time: Some(0x1234),
            expected_duration: Some(0x00_5678),
            one_octet_maps: true,
            ..TidToLinkMappingRepr::all_tids(TtlmDirection::Downlink, 0b11)
        },
        TidToLinkMappingRepr {
            default_mapping: true,
            ..TidToLinkMappingRepr::all_tids(TtlmDirection::Uplink, 0)
        },
    ] {
        let mut out = vec![0u8; t.buffer_len()];
        t.emit(&mut out).expect("TTLM seed");
        c.add("ie_ttlm", out);
    }

    let phys = [
        PhyInfo::Legacy { rate_500kbps: 12 },
        PhyInfo::Ht {
            mcs: 7,
            bw: Bandwidth::Mhz40,
            gi: GuardInterval::Ns400,
            coding: Coding::Ldpc,
        },
        PhyInfo::Vht {
            mcs: 9,
            nss: 2,
            bw: Bandwidth::Mhz80,
            gi: GuardInterval::Ns800,
            coding: Coding::Bcc,
        },
        PhyInfo::He {
            mcs: 11,
            nss: 2,
            bw: Bandwidth::Mhz160,
            gi: GuardInterval::Ns1600,
            coding: Coding::Ldpc,
        },
        PhyInfo::Eht {
            mcs: 13,
            nss: 2,
            bw: Bandwidth::Mhz320,
            gi: GuardInterval::Ns3200,
            coding: Coding::Ldpc,
        },
    ];
    for phy in phys {
        let mut r = RadiotapRepr::rx(5180, -40, phy);
        r.tsft = Some(123_456);
        r.chains[0] = Some(radiotap::ChainSignal {
            antenna: 0,
            signal_dbm: -41,
        });
        let mut buf = [0u8; radiotap::MAX_LEN];
        let n = r.emit(&mut buf).expect("radiotap seed");
        c.add("radiotap", &buf[..n]);
    }

    // The AP's own configs, one per security.
    for security in [Security::Open, Security::Owe, Security::Sae] {
        c.add("ap_config", station::ap_config_text(security, false));
    }
}

/// The tracker's input from a capture: its management and data frames in order, each from
/// the radio of its interface on the frequency its radiotap header names.
fn seed_tracker(c: &mut Corpora, frames: &[Captured]) {
    let freq_index = |hdr: &[u8]| -> u8 {
        let freq = radiotap::Fields::new(hdr).ok().and_then(|fields| {
            fields.flatten().find_map(|f| match f {
                radiotap::Field::Bit {
                    bit: radiotap::bit::CHANNEL,
                    ns_index: 0,
                    data,
                } => Some(u16::from_le_bytes([data[0], data[1]])),
                _ => None,
            })
        });
        match freq {
            Some(2400..=2500) => 0,
            Some(5000..=5900) => 1,
            Some(5955) => 3,
            _ => 2,
        }
    };
    let interesting: Vec<&Captured> = frames
        .iter()
        .filter(|f| {
            matches!(
                Frame::new_checked(&f.frame[..]).map(|f| f.frame_control().frame_type()),
                Ok(FrameType::Management | FrameType::Data)
            )
        })
        .collect();
    for window in interesting.chunks(100).take(8) {
        let mut input = Vec::new();
        for f in window {
            let arg = (f.iface % 4) as u8 | freq_index(&f.radiotap) << 2;
            push(&mut input, 0, arg, &f.frame);
        }
        push(&mut input, 1, 0, &[]);
        c.add("mld_tracker", input);
    }
}

/// Sessions against the associated AP MLD: a few ops of each kind, with real station frames.
fn seed_sessions(c: &mut Corpora, station_frames: &[Vec<u8>]) {
    let mut base = Vec::new();
    // Data: broadcast ARP-ish, unicast to the AP MLD, to an outside host.
    push(&mut base, 1, 0x01, &[0, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
    push(&mut base, 1, 0x31, &[2, 0x08, 0x00, 0x45, 0, 0, 28]);
    push(&mut base, 1, 0x72, &[4, 0x86, 0xdd, 0x60, 0, 0, 0]);
    // SA Query request, protected; a TID-to-link mapping request, protected.
    push(&mut base, 2, 0x4d, &[8, 0, 0xab, 0xcd]);
    let mut ttlm = vec![37, 0, 1];
    let t = TidToLinkMappingRepr::all_tids(TtlmDirection::Both, 0b011);
    let mut data = vec![0u8; t.buffer_len()];
    t.emit(&mut data).expect("TTLM");
    ttlm.extend_from_slice(&[255, data.len() as u8 + 1, 109]);
    ttlm.extend_from_slice(&data);
    push(&mut base, 2, 0x5d, &ttlm);
    // Downlink from the distribution system, time, a rekey answer, a link removal.
    let mut eth = station::STA_MLD.0.to_vec();
    eth.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x99, 0x08, 0x00, 0x45, 0xb8]);
    eth.extend_from_slice(&[0; 30]);
    push(&mut base, 4, 3, &eth);
    push(&mut base, 4, 4, &[0xff; 60]);
    push(&mut base, 5, 0, &2_100_000u64.to_le_bytes());
    push(&mut base, 7, 0, &[]);
    push(&mut base, 6, 2, &[2]);
    push(&mut base, 5, 0, &400_000u64.to_le_bytes());
    // A deauthentication, protected, at the end.
    push(&mut base, 2, 0x4c, &[3, 0]);
    let mut with_frames = base.clone();
    for f in station_frames.iter().take(16) {
        push(&mut with_frames, 0, 1, f);
    }
    for target in ["ap_session_open", "ap_session_owe", "ap_session_sae"] {
        c.add(target, base.clone());
        c.add(target, with_frames.clone());
    }
}

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let mut c = Corpora::default();
    let data = repo.join("frame/tests/data");
    let mut station_frames = Vec::new();
    let mut bins: Vec<PathBuf> = std::fs::read_dir(&data)
        .expect("frame/tests/data")
        .map(|e| e.expect("dir entry").path())
        .collect();
    bins.sort();
    for p in &bins {
        match p.extension().and_then(|e| e.to_str()) {
            Some("bin") => {
                let frame = std::fs::read(p).expect("fixture");
                seed_frame(&mut c, &frame, &[]);
                station_frames.push(frame);
            }
            Some("pcapng") => {
                for f in read_pcapng(p) {
                    seed_frame(&mut c, &f.frame, &f.radiotap);
                }
            }
            _ => {}
        }
    }
    for name in [
        "demo-mlo.pcapng",
        "demo.pcapng",
        "mlo-owe-three-links.pcapng",
    ] {
        let frames = read_pcapng(&repo.join("captures").join(name));
        for f in &frames {
            seed_frame(&mut c, &f.frame, &f.radiotap);
        }
        seed_tracker(&mut c, &frames);
    }
    for name in ["medium-example.toml", "demo-mlo.toml"] {
        c.add(
            "medium_config",
            std::fs::read(repo.join("docs").join(name)).expect("doc config"),
        );
    }
    c.add(
        "ap_config",
        std::fs::read(repo.join("docs/ap-mld-example.toml")).expect("doc config"),
    );
    c.add(
        "wmediumd_config",
        std::fs::read(repo.join("docs/wmediumd-example.cfg")).expect("doc config"),
    );
    for text in WMEDIUMD_SEEDS {
        c.add("wmediumd_config", text.as_bytes().to_vec());
    }
    seed_built(&mut c);
    seed_sessions(&mut c, &station_frames);
    // Caps keep the corpora small: libFuzzer's merge finds the interesting ones.
    for inputs in c.0.values_mut() {
        inputs.truncate(400);
    }
    c.write(&out);
}

/// wmediumd files of the other model types (the doc example is a path-loss one).
const WMEDIUMD_SEEDS: [&str; 3] = [
    "ifaces :\n{\n\tids = [ \"02:00:00:00:00:00\", \"02:00:00:00:01:00\", \"02:00:00:00:02:00\" ];\n\
     \tlinks = (\n\t\t(0, 1, 10),\n\t\t(1, 0, 12),\n\t\t(0, 2, 20)\n\t);\n};\n",
    "ifaces : { ids = [ \"02:00:00:00:00:00\", \"02:00:00:00:01:00\" ]; };\n\
     model:\n{\n\ttype = \"prob\";\n\tdefault_prob = 1.0;\n\tlinks = ( (0, 1, 0.25) );\n};\n",
    "ifaces : { ids = [ \"02:00:00:00:00:00\", \"02:00:00:00:01:00\" ]; enable_interference = true; };\n\
     model :\n{\n\ttype = \"path_loss\";\n\tpositions = ( (0.0, 0.0, 1.0), (5.0, 5.0, 1.0) );\n\
     \ttx_powers = ( 15.0, 18.0 );\n\tmodel_name = \"free_space\";\n\tsL = 2;\n\
     \tnoise_threshold = -90;\n\tfading_coefficient = 2;\n};\n",
];
