use super::*;
use crate::control::change::Change;

const GOOD: &str = r#"
seed = 3
model = "radio"
path_loss = { model = "free_space" }

[defaults.5g]
tx_power_dbm = 23
max_nss = 4

[[node]]
name = "ap"
addresses = ["02:00:00:0a:00:00", "02:00:00:0a:01:00"]
position = [0, 0, 1.5]
6g = { tx_power_dbm = 12, max_width = 160 }

[[node]]
name = "sta"
addresses = ["02:00:00:0b:00:00"]
position = { x = 5, y = 2 }

[[link]]
between = ["ap", "sta"]
extra_loss_db = 6
loss_probability = 0.25
"#;

fn err(text: &str) -> ConfigError {
    Config::parse(text).expect_err("config must be rejected")
}

#[test]
fn a_full_config_resolves_layers() {
    let c = Config::parse(GOOD).unwrap();
    assert_eq!(c.seed, 3);
    assert_eq!(c.model, ModelKind::Radio);
    assert_eq!(c.path_loss, PathLossModel::FreeSpace);
    assert_eq!(c.nodes.len(), 2);
    let ap = &c.nodes[0];
    assert_eq!(ap.addresses[1], MacAddr([2, 0, 0, 0x0a, 1, 0]));
    // built-in ← [defaults.5g] ← node table.
    assert_eq!(ap.bands[1].tx_power_dbm, 23.0);
    assert_eq!(ap.bands[1].caps.max_nss, 4);
    assert_eq!(ap.bands[2].tx_power_dbm, 12.0);
    assert_eq!(ap.bands[2].caps.max_width, Width::W160);
    assert_eq!(ap.bands[0].tx_power_dbm, 20.0);
    // 2.4 GHz caps are bounded by the band.
    assert_eq!(ap.bands[0].caps.max_width, Width::W40);
    assert_eq!(c.nodes[1].position, Position::new(5.0, 2.0, 0.0));
    assert_eq!(c.links[0].between, [0, 1]);
    assert_eq!(c.links[0].loss_probability, 0.25);
}

#[test]
fn the_empty_config_is_the_radio_model_with_defaults() {
    let c = Config::parse("").unwrap();
    assert_eq!(c.model, ModelKind::Radio);
    assert_eq!(c.time_mode, TimeMode::Instant);
    assert!(c.nodes.is_empty());
    assert_eq!(c.default_bands[1].caps.max_width, Width::W160);
}

#[test]
fn syntax_errors_have_line_and_column() {
    let e = err("seed = 1\nmodel = \"radio\"\n[[node]\nname = \"x\"\n");
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.column.is_some(), "{e}");
}

#[test]
fn type_errors_point_at_the_value() {
    let e = err("seed = 1\n\n[[node]]\nname = \"ap\"\nposition = [0, \"north\", 0]\n");
    assert_eq!(e.line, Some(5), "{e}");
    assert_eq!(e.column, Some(12), "{e}");
    let e = err("model = \"magic\"\n");
    assert_eq!((e.line, e.column), (Some(1), Some(9)), "{e}");
    assert!(e.message.contains("perfect"), "names the choices: {e}");
}

#[test]
fn unknown_keys_are_rejected_with_their_place() {
    let e = err("[[node]]\nname = \"ap\"\nposition = [0, 0, 0]\ntx_powr_dbm = 3\n");
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.message.contains("tx_powr_dbm"), "{e}");
}

#[test]
fn links_to_unknown_nodes_are_named() {
    let text = GOOD.replace("between = [\"ap\", \"sta\"]", "between = [\"ap\", \"stb\"]");
    let e = err(&text);
    assert!(e.message.contains("unknown node `stb`"), "{e}");
    let line = text.lines().position(|l| l.contains("stb")).unwrap() + 1;
    assert_eq!(e.line, Some(line), "{e}");
}

#[test]
fn duplicate_addresses_and_names_are_rejected() {
    let text = GOOD.replace("02:00:00:0b:00:00", "02:00:00:0a:01:00");
    let e = err(&text);
    assert!(e.message.contains("both `ap` and `sta`"), "{e}");
    let text = GOOD.replace("name = \"sta\"", "name = \"ap\"");
    assert!(err(&text).message.contains("duplicate node name"));
}

#[test]
fn semantic_range_errors_are_explained() {
    let e = err(&GOOD.replace("loss_probability = 0.25", "loss_probability = 1.5"));
    assert!(e.message.contains("not in [0, 1]"), "{e}");
    assert!(e.line.is_some());
    let e = err(&GOOD.replace("extra_loss_db = 6", "extra_loss_db = -6"));
    assert!(e.message.contains("extra_loss_db"), "{e}");
    let e = err("path_loss = { model = \"log_distance\", exponent = -2 }\n");
    assert!(e.message.contains("exponent"), "{e}");
    assert_eq!(e.line, Some(1));
    let e = err(&GOOD.replace("\"02:00:00:0b:00:00\"", "\"02:00:00:0b:00\""));
    assert!(e.message.contains("not a MAC address"), "{e}");
    let e = err(&GOOD.replace("02:00:00:0b:00:00", "ff:ff:ff:ff:ff:ff"));
    assert!(e.message.contains("group address"), "{e}");
    let e = err("[defaults.5g]\nmax_nss = 0\n");
    assert!(e.message.contains("max_nss"), "{e}");
    let e = err("[defaults.5g]\nmax_width = 30\n");
    assert_eq!(e.line, Some(2), "{e}");
}

#[test]
fn airtime_mode_needs_the_radio_model() {
    let c = Config::parse("time_mode = \"airtime\"\n").unwrap();
    assert_eq!(c.time_mode, TimeMode::Airtime);
    let e = err("model = \"perfect\"\ntime_mode = \"airtime\"\n");
    assert!(e.message.contains("needs model = \"radio\""), "{e}");
    assert_eq!(e.line, Some(2));
}

#[test]
fn fading_forms() {
    let f = |t: &str| Config::parse(t).unwrap().fading;
    assert_eq!(f("fading = \"none\""), Fading::Off);
    assert_eq!(
        f("fading = \"rayleigh\""),
        Fading::Named(FadingName::Rayleigh)
    );
    assert_eq!(
        f("fading = { rician_k_db = 6 }"),
        Fading::Rician { rician_k_db: 6.0 }
    );
    assert!(Config::parse("fading = { lognormal_sigma_db = -1 }").is_err());
}

#[test]
fn mac_addresses_parse_strictly() {
    assert_eq!(
        parse_mac("02:00:00:0A:00:ff"),
        Some(MacAddr([2, 0, 0, 0x0a, 0, 0xff]))
    );
    assert_eq!(
        parse_mac("02-00-00-0a-00-ff"),
        parse_mac("02:00:00:0a:00:ff")
    );
    assert_eq!(parse_mac("02:00:00:0a:00"), None);
    assert_eq!(parse_mac("02:00:00:0a:00:ff:00"), None);
    assert_eq!(parse_mac("2:00:00:0a:00:ff"), None);
}

const TWO_NODES: &str = r#"
[[node]]
name = "ap"
addresses = ["02:00:00:0a:00:00"]
position = [0, 0, 0]
[[node]]
name = "sta"
addresses = ["02:00:00:0b:00:00"]
position = [3, 0, 0]
"#;

#[test]
fn events_parse_with_their_times_and_are_sorted() {
    let text = format!(
        r#"{TWO_NODES}
[[event]]
at = "2s"
link = {{ node = "sta", band = "6ghz", attenuation_db = 40 }}
ramp = "1500ms"
[[event]]
at = 0.5
position = {{ node = "sta", position = [9, 0, 0] }}
[[event]]
at = "3s"
tx_power = {{ node = "ap", band = "5ghz", dbm = 10 }}
[[event]]
at = "4s"
link = {{ node = "vm3", band = "5180", down = true }}
"#
    );
    let cfg = Config::parse(&text).unwrap();
    let at: Vec<f64> = cfg.events.iter().map(|e| e.at.as_secs_f64()).collect();
    assert_eq!(at, [0.5, 2.0, 3.0, 4.0]);
    assert_eq!(
        cfg.events[1].ramp,
        Some(std::time::Duration::from_millis(1500))
    );
    assert_eq!(cfg.events[1].line, 12);
    assert!(matches!(
        &cfg.events[0].action,
        Change::Position(p) if p.node == "sta" && p.position[0] == 9.0
    ));
    assert!(matches!(
        &cfg.events[3].action,
        Change::Link(l) if l.down == Some(true)
    ));
}

#[test]
fn an_event_may_count_from_the_first_association() {
    let text = format!(
        r#"{TWO_NODES}
[[event]]
after = "association"
at = "1s"
link = {{ node = "sta", band = "6ghz", down = true }}
[[event]]
at = "5s"
after = "start"
position = {{ node = "sta", position = [9, 0, 0] }}
"#
    );
    let cfg = Config::parse(&text).unwrap();
    let got: Vec<(events::Anchor, f64)> = cfg
        .events
        .iter()
        .map(|e| (e.after, e.at.as_secs_f64()))
        .collect();
    assert_eq!(
        got,
        [
            (events::Anchor::InForce, 5.0),
            (events::Anchor::FirstAssociation, 1.0)
        ]
    );
    let e = err(&format!(
        "{TWO_NODES}[[event]]\nat = \"1s\"\nafter = \"boot\"\nlink = {{ node = \"sta\", band = \"5ghz\", down = true }}\n"
    ));
    assert_eq!((e.line, e.column), (Some(12), Some(9)), "{e}");
    assert!(e.message.contains("\"boot\""), "{e}");
}

#[test]
fn bad_events_are_refused_with_line_and_column() {
    let case = |event: &str| err(&format!("{TWO_NODES}[[event]]\n{event}\n"));
    let e = case(
        r#"at = "soon"
link = { node = "sta", band = "5ghz", down = true }"#,
    );
    assert_eq!((e.line, e.column), (Some(11), Some(6)), "{e}");
    assert!(e.message.contains("\"soon\""), "{e}");
    let e = case(
        r#"at = "1s"
link = { node = "ghost", band = "5ghz", down = true }"#,
    );
    assert_eq!((e.line, e.column), (Some(12), Some(8)), "{e}");
    assert!(e.message.contains("unknown node `ghost`"), "{e}");
    let e = case(
        r#"at = "1s"
position = { node = "sta", position = [1, 2, 3] }
tx_power = { node = "sta", dbm = 3 }"#,
    );
    assert!(e.message.contains("exactly one of"), "{e}");
    assert_eq!(e.line, Some(11));
    let e = case(
        r#"at = "1s"
ramp = "2s"
link = { node = "sta", band = "5ghz", down = true }"#,
    );
    assert!(e.message.contains("ramp needs attenuation_db"), "{e}");
    let e = case(
        r#"at = "1s"
link = { node = "sta", band = "5ghz", loss_probability = 2 }"#,
    );
    // The same words as the control API's refusal (one check serves both).
    assert!(
        e.message.contains("loss probability 2 is outside 0 ‥ 1"),
        "{e}"
    );
    let e = case(
        r#"at = "1s"
link = { node = "sta", band = "9ghz", down = true }"#,
    );
    assert!(e.message.contains("band \"9ghz\""), "{e}");
    let e = case(
        r#"at = "-1s"
tx_power = { node = "sta", dbm = 3 }"#,
    );
    assert!(e.message.contains("not a time"), "{e}");
    let e = case(
        r#"at = "1s"
link = { node = "sta", band = "5ghz", colour = "red" }"#,
    );
    assert!(e.message.contains("colour"), "{e}");
}
