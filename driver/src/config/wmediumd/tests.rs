//! Files in wmediumd's own style (written for these tests, in its syntax), the config they
//! become, the SNRs wmediumd's formulas give, and the refusals.

use super::libconfig::{self, Kind};
use super::mapping::{WMEDIUMD_DEFAULT_SNR_DB, WMEDIUMD_NOISE_DBM};
use crate::config::{Config, ConfigError, Fading, TimeMode};
use crate::medium::RadioMedium;
use hwsim_frame::MacAddr;
use hwsim_radio::pathloss::{LogDistance, PathLossModel, Position};

/// wmediumd's channel-1 frequency, at which its path loss is computed whatever the channel.
const WMEDIUMD_FREQ_MHZ: u32 = 2412;

fn parse(text: &str) -> Config {
    Config::parse_wmediumd(text).unwrap_or_else(|e| panic!("must load: {e}"))
}

fn refused(text: &str) -> ConfigError {
    Config::parse_wmediumd(text).expect_err("must be refused")
}

/// The 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle")
        + 1
}

const SNR_MATRIX: &str = r#"
# four stations, SNR per link as in wmediumd's diamond example
ifaces :
{
	ids = [
		"02:00:00:00:00:00",
		"02:00:00:00:01:00",
		"02:00:00:00:02:00",
		"02:00:00:00:03:00"
	];

	links = (
		(0, 1, 10),
		(0, 2, 20),
		(1, 2, 30),
		(3, 1, 5)
	);
};
"#;

fn snr(medium: &RadioMedium, t: usize, r: usize) -> f64 {
    medium.link_budget(t, r, WMEDIUMD_FREQ_MHZ).snr_db
}

#[test]
fn an_snr_matrix_gives_wmediumds_snrs() {
    let cfg = parse(SNR_MATRIX);
    assert_eq!(cfg.nodes.len(), 4);
    assert_eq!(cfg.nodes[2].name, "sta2");
    assert_eq!(cfg.nodes[2].addresses, vec![MacAddr([2, 0, 0, 0, 2, 0])]);
    let m = RadioMedium::new(&cfg);
    // Given pairs in both directions (one direction given is mirrored, as wmediumd does).
    for (a, b, want) in [(0, 1, 10.0), (0, 2, 20.0), (1, 2, 30.0), (1, 3, 5.0)] {
        assert_eq!(snr(&m, a, b), want, "{a} → {b}");
        assert_eq!(snr(&m, b, a), want, "{b} → {a}");
    }
    // Pairs no link names have wmediumd's default, 30 dB.
    assert_eq!(snr(&m, 0, 3), WMEDIUMD_DEFAULT_SNR_DB);
    assert_eq!(snr(&m, 3, 2), WMEDIUMD_DEFAULT_SNR_DB);
    // The signal is the SNR over wmediumd's −91 dBm noise level.
    let b = m.link_budget(0, 2, 5180);
    assert!(
        (b.signal_dbm - (20.0 + WMEDIUMD_NOISE_DBM)).abs() < 1e-9,
        "{b:?}"
    );
    assert_eq!(cfg.links.len(), 6, "every pair is written out");
}

#[test]
fn asymmetric_snr_links_keep_both_directions() {
    // As in wmediumd's README: 0 → 2 is unusable, 2 → 0 has 10 dB.
    let text = SNR_MATRIX.replace("(3, 1, 5)", "(3, 1, 5),\n\t\t(2, 0, -10)");
    let cfg = parse(&text);
    let link = cfg.links.iter().find(|l| l.between == [0, 2]).unwrap();
    assert_eq!(
        (link.snr_db, link.reverse_snr_db),
        (Some(20.0), Some(-10.0))
    );
    let m = RadioMedium::new(&cfg);
    assert_eq!(snr(&m, 0, 2), 20.0);
    assert_eq!(snr(&m, 2, 0), -10.0);
    assert_eq!(snr(&m, 1, 0), 10.0, "others stay symmetric");
    let toml = super::to_toml(&text).unwrap();
    assert!(toml.contains("reverse_snr_db = -10.0"), "{toml}");
}

#[test]
fn the_snr_type_in_model_reads_the_same_as_ifaces_links() {
    let text = r#"
ifaces : { ids = [ "02:00:00:00:00:00", "02:00:00:00:01:00", "02:00:00:00:02:00" ]; };
model :
{
	type = "snr";
	links = ( (0, 1, 12), (2, 0, -3) );
};
"#;
    let m = RadioMedium::new(&parse(text));
    assert_eq!(snr(&m, 1, 0), 12.0);
    assert_eq!(snr(&m, 0, 2), -3.0);
    assert_eq!(snr(&m, 1, 2), 30.0);
}

#[test]
fn only_ids_is_wmediumds_default_snr_everywhere() {
    let cfg = parse(
        "ifaces :\n{\n\tcount = 2;\n\tids = [\"42:00:00:00:00:00\", \"42:00:00:00:01:00\" ];\n};\n",
    );
    assert_eq!(cfg.links.len(), 1);
    assert_eq!(cfg.links[0].snr_db, Some(30.0));
    assert_eq!(cfg.links[0].loss_probability, 0.0);
    assert_eq!(cfg.time_mode, TimeMode::Instant);
}

#[test]
fn prob_links_become_loss_probabilities_at_the_default_snr() {
    let text = r#"
ifaces :
{
	ids = [
		"02:00:00:00:00:00",
		"02:00:00:00:01:00",
		"02:00:00:00:02:00",
		"02:00:00:00:03:00"
	];
};

model:
{
	type = "prob";

	default_prob = 1.0;
	links = (
		(0, 2, 0.000000),
		(2, 3, 0.25)
	);
};
"#;
    let cfg = parse(text);
    let p = |a: usize, b: usize| {
        let l = cfg
            .links
            .iter()
            .find(|l| l.between == [a, b])
            .expect("pair written");
        assert_eq!(l.snr_db, Some(30.0));
        assert!(l.loss_per_frame, "wmediumd draws a frame's fate once");
        l.loss_probability
    };
    assert_eq!(p(0, 2), 0.0);
    assert_eq!(p(2, 3), 0.25);
    assert_eq!(p(0, 1), 1.0, "default_prob");
    assert_eq!(p(1, 3), 1.0, "default_prob");
}

const LOG_DISTANCE: &str = r#"
ifaces :
{
	ids = [
		"02:00:00:00:00:00",
		"02:00:00:00:01:00",
		"02:00:00:00:02:00",
		"02:00:00:00:03:00"
	];
	enable_interference = true;
};

model :
{
	type = "path_loss";
	positions = (
		(-50.0,   0.0),
		(  0.0,  10.0),
		(  0.0,   0.0),
		( 50.0,   0.0)
	);
	directions = (
		(  0.0,   0.0),
		(  0.0,   0.0),
		(  0.0,   0.0),
		(  0.0,   0.0)
	);
	tx_powers = (15.0, 15.0, 20.0, 15.0);

	model_name = "log_distance";
	path_loss_exp = 3.5;
	xg = 2.0;
	fading_coefficient = 3;
};
"#;

/// wmediumd's SNR from `sender` to a receiver `d` metres away (config.c, recalc_path_loss and
/// calc_path_loss_log_distance): the loss at 1 m in free space at 2.412 GHz, plus
/// 10·n·log10(d) + Xg, truncated to an integer dB; SNR = sender's power − loss − (−91).
fn wmediumd_log_distance_snr(tx_power: f64, d: f64, exponent: f64, xg: f64) -> f64 {
    let pl0 = 20.0 * (4.0 * std::f64::consts::PI * 1.0 * 2.412e9 / 2.997_924_58e8).log10();
    let pl = (pl0 + 10.0 * exponent * d.log10() + xg).trunc();
    (tx_power - pl - WMEDIUMD_NOISE_DBM).trunc()
}

#[test]
fn a_log_distance_file_gives_wmediumds_snrs() {
    let cfg = parse(LOG_DISTANCE);
    assert_eq!(
        cfg.path_loss,
        PathLossModel::LogDistance(LogDistance {
            ref_distance_m: 1.0,
            exponent: 3.5,
            shadowing_sigma_db: 0.0
        })
    );
    assert_eq!(cfg.nodes[1].position, Position::new(0.0, 10.0, 0.0));
    assert_eq!(cfg.nodes[2].bands[0].tx_power_dbm, 20.0);
    assert_eq!(cfg.nodes[2].bands[2].tx_power_dbm, 20.0);
    assert_eq!(
        cfg.fading,
        Fading::LogNormal {
            lognormal_sigma_db: 3.0
        }
    );
    assert_eq!(cfg.time_mode, TimeMode::Airtime);
    assert!(cfg
        .links
        .iter()
        .all(|l| l.extra_loss_db == 2.0 && l.snr_db.is_none()));
    assert_eq!(cfg.links.len(), 6);
    let m = RadioMedium::new(&cfg);
    let tx = [15.0, 15.0, 20.0, 15.0];
    let mut checked = 0;
    for (t, &tx_power) in tx.iter().enumerate() {
        for r in (0..4).filter(|&r| r != t) {
            let b = m.link_budget(t, r, WMEDIUMD_FREQ_MHZ);
            let want = wmediumd_log_distance_snr(tx_power, b.distance_m, 3.5, 2.0);
            // wmediumd truncates the loss to whole dB (so its SNR is at most 1 dB higher);
            // the medium keeps the fraction.
            assert!(
                b.snr_db <= want + 1e-6 && b.snr_db > want - 1.0 - 1e-6,
                "{t} → {r}: medium {} dB, wmediumd {want} dB",
                b.snr_db
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 12);
    // Directional: the 20 dBm station is heard 5 dB better than it hears.
    assert!((snr(&m, 2, 0) - snr(&m, 0, 2) - 5.0).abs() < 1e-9);
    // Spot value: 0 → 2 is 50 m: 40.09 + 59.46 + 2 = 101.55 dB, SNR 15 − 101.55 + 91.
    assert!((snr(&m, 0, 2) - 4.45).abs() < 0.01, "{}", snr(&m, 0, 2));
}

#[test]
fn free_space_with_3d_positions_and_a_system_loss() {
    let text = r#"
ifaces : { ids = [ "02:00:00:00:00:00", "02:00:00:00:01:00" ]; };
model :
{
	type = "path_loss";
	positions = ( (0.0, 0.0, 0.0), (3.0, 4.0, 12.0) );
	tx_powers = ( 10.0, 10.0 );
	model_name = "free_space";
	sL = 10;
	noise_threshold = -95;
};
"#;
    let cfg = parse(text);
    assert_eq!(cfg.path_loss, PathLossModel::FreeSpace);
    assert_eq!(cfg.nodes[1].position, Position::new(3.0, 4.0, 12.0));
    assert_eq!(cfg.links[0].extra_loss_db, 10.0);
    let m = RadioMedium::new(&cfg);
    let b = m.link_budget(0, 1, WMEDIUMD_FREQ_MHZ);
    assert!((b.distance_m - 13.0).abs() < 1e-12);
    // 10·log10((4π·d/λ)²·sL) at 2.412 GHz, noise −95 dBm.
    let lambda = 2.997_924_58e8 / 2.412e9;
    let pl = 10.0 * ((4.0 * std::f64::consts::PI * 13.0 / lambda).powi(2) * 10.0).log10();
    assert!((b.snr_db - (10.0 - pl + 95.0)).abs() < 1e-6, "{b:?}");
}

#[test]
fn convert_writes_toml_that_loads_to_the_same_config() {
    for text in [SNR_MATRIX, LOG_DISTANCE] {
        let toml = super::to_toml(text).unwrap();
        assert!(toml.starts_with("# Converted from a wmediumd"), "{toml}");
        assert_eq!(Config::parse(&toml).unwrap(), parse(text));
    }
}

#[test]
fn refusals_name_the_line_and_the_reason() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "model_name = \"log_distance\";",
            "model_name = \"itu\";\n\tnFLOORS = 1;\n\tLF = 15;",
            "itu",
        ),
        ("\t\t(  0.0,   0.0),\n\t\t(  0.0,   0.0),\n\t\t(  0.0,   0.0),\n\t\t(  0.0,   0.0)\n\t);\n\ttx", "\t\t(  0.0,   0.0),\n\t\t(  0.0,  1.0),\n\t\t(  0.0,   0.0),\n\t\t(  0.0,   0.0)\n\t);\n\ttx", "movement is not modelled"),
        ("path_loss_exp = 3.5;", "path_loss_exp = 3;", "write 3.0"),
        ("xg = 2.0;", "xg = 2.0;\n\tshadow = 1.0;", "does not read `model.shadow`"),
        ("xg = 2.0;", "xg = -2.0;", "negative"),
        ("(15.0, 15.0, 20.0, 15.0)", "(15.0, 15.0, 20.0)", "tx_powers has 3 entries"),
        ("\"02:00:00:00:03:00\"", "\"02:00:00:00:03\"", "not a MAC address"),
        ("type = \"path_loss\";", "type = \"pathloss\";", "not one of wmediumd's"),
    ];
    for (from, to, says) in cases {
        assert!(LOG_DISTANCE.contains(from), "{from}");
        let text = LOG_DISTANCE.replacen(from, to, 1);
        let e = refused(&text);
        assert!(e.message.contains(says), "{says}: {e}");
        let changed = to
            .lines()
            .find(|l| !from.lines().any(|f| f == *l))
            .unwrap_or(to);
        let want = line_of(&text, changed.trim());
        assert_eq!(e.line, Some(want), "{says}: {e}");
        assert!(e.column.is_some(), "{e}");
    }
}

#[test]
fn snr_file_refusals() {
    let prob = "ifaces : { ids = [ \"02:00:00:00:00:00\", \"02:00:00:00:01:00\" ]; };\n\
                model : { type = \"prob\"; links = ( (0, 1, 0.5),\n (1, 0, 0.25) ); };\n";
    let e = refused(prob);
    assert!(
        e.message
            .contains("asymmetric loss: 0 → 1 is 0.5, 1 → 0 is 0.25"),
        "{e}"
    );
    assert_eq!((e.line, e.column), (Some(3), Some(2)), "{e}");
    let e = refused(&SNR_MATRIX.replace("(3, 1, 5)", "(3, 4, 5)"));
    assert!(e.message.contains("index 4 is out of range"), "{e}");
    let e = refused(&SNR_MATRIX.replace("(3, 1, 5)", "(3, 1, 5.5)"));
    assert!(e.message.contains("as an integer"), "{e}");
    let e = refused(&SNR_MATRIX.replace("(3, 1, 5)", "(3, 3, 5)"));
    assert!(e.message.contains("to itself"), "{e}");
    let e = refused(&SNR_MATRIX.replace("(3, 1, 5)", "(0, 1, 5)"));
    assert!(e.message.contains("given twice"), "{e}");
    let with_model = format!("{SNR_MATRIX}\nmodel : {{ type = \"snr\"; }};\n");
    let e = refused(&with_model);
    assert!(
        e.message.contains("ignores model.type when ifaces.links"),
        "{e}"
    );
    let faded = format!("{SNR_MATRIX}\nmodel : {{ fading_coefficient = 2; }};\n");
    let e = refused(&faded);
    assert!(e.message.contains("fading"), "{e}");
    assert_eq!(e.line, Some(line_of(&faded, "fading_coefficient")));
    // A coefficient of 0 is wmediumd's "off": accepted.
    parse(&format!(
        "{SNR_MATRIX}\nmodel : {{ fading_coefficient = 0; }};\n"
    ));
    let e = refused("ifaces : { ids = [ \"02:00:00:00:00:00\" ]; };\nlinks = ();\n");
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.message.contains("does not read `links`"), "{e}");
}

#[test]
fn syntax_errors_have_line_and_column() {
    let e = refused("ifaces :\n{\n\tids = [ \"02:00:00:00:00:00\", 3 ];\n};\n");
    assert_eq!((e.line, e.column), (Some(3), Some(31)), "{e}");
    assert!(e.message.contains("share one type"), "{e}");
    let e = refused("ifaces :\n{\n\tids = [ \"02:00:00:00:00:00\" ]\n");
    assert!(e.message.contains("missing `}`"), "{e}");
    let e = refused("ifaces : { ids = [ \"02:00:00:00:00:00\" ]; };\n/* open");
    assert_eq!(e.line, Some(2), "{e}");
    let e = refused("@include \"other.cfg\"\n");
    assert!(e.message.contains("@include"), "{e}");
    let e = refused("ifaces = { ids = [\"a\"; };");
    assert_eq!(e.column, Some(22), "{e}");
}

#[test]
fn the_reader_handles_libconfig_forms() {
    let s = libconfig::parse(
        "// comment\na = 0x1F; b = -0b101, c : 12L\n# hash\nd = 1.5e-3; e = .5; f = TRUE;\n\
         g = \"x\\t\" \"y\\x41\"; /* block\n */ h = ( 1, [ 2, 3 ], { i = 4; }, );\n",
    )
    .unwrap();
    let v: Vec<&Kind> = s.iter().map(|s| &s.value.kind).collect();
    assert_eq!(v[0], &Kind::Int(31));
    assert_eq!(v[1], &Kind::Int(-5));
    assert_eq!(v[2], &Kind::Int(12));
    assert_eq!(v[3], &Kind::Float(1.5e-3));
    assert_eq!(v[4], &Kind::Float(0.5));
    assert_eq!(v[5], &Kind::Bool(true));
    assert_eq!(v[6], &Kind::Str("x\tyA".into()));
    let Kind::List(items) = v[7] else {
        panic!("list")
    };
    assert_eq!(items.len(), 3);
    assert_eq!((s[7].at.line, s[7].at.column), (6, 5));
    assert!(libconfig::parse("a = 99999999999999999999;").is_err());
    assert!(libconfig::parse("a = 1; a = 2;")
        .unwrap_err()
        .message
        .contains("duplicate"));
}

#[test]
fn the_number_of_interfaces_is_bounded() {
    let ids = |n: usize| {
        (0..n)
            .map(|i| format!("\"02:00:00:00:{:02x}:{:02x}\"", i >> 8, i & 0xff))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fixed = |n: usize| format!("ifaces : {{ ids = [ {} ]; }};\n", ids(n));
    assert_eq!(parse(&fixed(128)).links.len(), 128 * 127 / 2);
    let e = refused(&fixed(129));
    assert!(e.message.contains("at most 128"), "{e}");
    // Path loss without a loss on every pair writes no links.
    let path_loss = |n: usize| {
        let list = |item: &str| vec![item; n].join(", ");
        format!(
            "ifaces : {{ ids = [ {} ]; }};\nmodel : {{ type = \"path_loss\"; positions = ( {} );\n\
             tx_powers = ( {} ); model_name = \"free_space\"; }};\n",
            ids(n),
            list("(1.0, 2.0)"),
            list("15.0")
        )
    };
    assert_eq!(parse(&path_loss(300)).nodes.len(), 300);
    assert!(refused(&path_loss(1025)).message.contains("at most 1024"));
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    let deep = format!("a = {}{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(libconfig::parse(&deep)
        .unwrap_err()
        .message
        .contains("nested deeper"));
    // Every prefix of a valid file, and bytes spliced in, fail or parse without panicking;
    // whatever the mapping accepts, the medium config parser accepts too.
    let check = |text: &str| {
        if let Ok(toml) = super::to_toml(text) {
            if let Err(e) = Config::parse(&toml) {
                panic!("accepted {text:?} but wrote invalid TOML: {e}\n{toml}");
            }
        }
    };
    let mut accepted = 0;
    for text in [SNR_MATRIX, LOG_DISTANCE] {
        for cut in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
            check(&text[..cut]);
            for junk in ["\"", "(", "}", "é", "0x", "-", "@", "/*", "1", ";"] {
                let spliced = format!("{}{junk}{}", &text[..cut], &text[cut..]);
                accepted += usize::from(super::to_toml(&spliced).is_ok());
                check(&spliced);
            }
        }
    }
    assert!(
        accepted > 0,
        "some splices (e.g. a digit into a number) still load"
    );
}
