//! The JSON control API, version 1 (docs/control-api.md): one request object, one response.
//!
//! Every change is checked whole before anything is put in force; a refused request changes
//! nothing. Changes to the radio model (position, tx power) rebuild the medium from the config
//! in force and swap it in ([`crate::core::MediumSlot::replace`]); link impairments publish a
//! new [`Impairments`] snapshot. Either way the data path sees the change from its next frame,
//! without a lock.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::change::{Change, LinkChange, PositionChange, TxPowerChange};
use super::{Control, ControlCounters};
use crate::config::{ModelKind, BANDS};
use crate::medium::impair::{band_label, Impairments, LinkEffect, LinkImpairment, NodeMatch};

/// The protocol version this daemon speaks.
pub const VERSION: u64 = 1;

/// What to do with a request line.
pub enum Outcome {
    /// Send this and keep the connection.
    Answer(String),
    /// Send this and close the connection (the line was not JSON).
    Malformed(String),
}

/// A request, once its envelope (`v`) is checked.
#[derive(Deserialize, Debug)]
#[serde(tag = "cmd", rename_all = "kebab-case", deny_unknown_fields)]
enum Request {
    /// Nodes, radios, MLDs and impaired links.
    List,
    /// The daemon's counters.
    Stats,
    /// Move a node of the radio model.
    SetPosition(PositionChange),
    /// Set a node's tx power on one band (or all).
    SetTxPower(TxPowerChange),
    /// Impair a node's link on a band or frequency (fields not given stay as they are).
    Link(LinkChange),
    /// Start, stop or rotate the capture.
    Capture {
        action: CaptureAction,
        #[serde(default)]
        file: Option<PathBuf>,
    },
    /// Re-read the medium config (or `file`).
    Reload {
        #[serde(default)]
        file: Option<PathBuf>,
    },
}

#[derive(Deserialize, Debug, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum CaptureAction {
    Start,
    Stop,
    Rotate,
}

/// `{"v":1,"ok":false,"error":…}`.
pub fn error_response(message: &str) -> String {
    json!({ "v": VERSION, "ok": false, "error": message }).to_string()
}

fn ok_response(mut body: Map<String, Value>) -> String {
    let mut out = Map::new();
    out.insert("v".into(), json!(VERSION));
    out.insert("ok".into(), json!(true));
    out.append(&mut body);
    Value::Object(out).to_string()
}

/// Answers one request line (it starts with `{`).
pub fn handle(control: &Arc<Control>, line: &[u8]) -> Outcome {
    let counters = &control.core.control;
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => {
            return Outcome::Malformed(error_response(&format!(
                "not JSON ({e}): closing the connection"
            )))
        }
    };
    let answer = parse(value).and_then(|request| {
        let changes = !matches!(request, Request::List | Request::Stats);
        let reload = matches!(request, Request::Reload { .. });
        let body = execute(control, request)?;
        if changes {
            ControlCounters::bump(&counters.changes);
        }
        if reload {
            control.ensure_timeline();
        }
        Ok(body)
    });
    Outcome::Answer(match answer {
        Ok(body) => ok_response(body),
        Err(e) => {
            ControlCounters::bump(&counters.refused);
            error_response(&e)
        }
    })
}

fn parse(value: Value) -> Result<Request, String> {
    let Value::Object(mut object) = value else {
        return Err("a request is a JSON object: {\"v\":1,\"cmd\":…}".into());
    };
    match object.remove("v") {
        Some(v) if v.as_u64() == Some(VERSION) => {}
        Some(v) => return Err(format!("unsupported version {v}: this daemon speaks v 1")),
        None => return Err("missing \"v\": give {\"v\":1,\"cmd\":…}".into()),
    }
    if !object.get("cmd").is_some_and(Value::is_string) {
        return Err(
            "missing \"cmd\" (a string): list, stats, set-position, set-tx-power, \
                    link, capture, reload"
                .into(),
        );
    }
    serde_json::from_value(Value::Object(object)).map_err(|e| e.to_string())
}

fn body(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        other => Map::from_iter([("value".to_owned(), other)]),
    }
}

fn execute(control: &Control, request: Request) -> Result<Map<String, Value>, String> {
    let core = &*control.core;
    match request {
        Request::List => Ok(list(control)),
        Request::Stats => {
            let stats = serde_json::to_value(crate::stats::collect(core))
                .map_err(|e| format!("stats: {e}"))?;
            Ok(body(json!({ "stats": stats })))
        }
        Request::SetPosition(change) => set_position(control, change),
        Request::SetTxPower(change) => set_tx_power(control, change),
        Request::Link(change) => link(control, change),
        Request::Capture { action, file } => capture(control, action, file),
        Request::Reload { file } => {
            let path = super::reload(core, &control.source, file)?;
            Ok(body(json!({
                "reloaded": path.display().to_string(),
                "medium": core.medium.name(),
            })))
        }
    }
}

/// Applies a timeline event (the same checks and effects as the request it stands for).
pub(crate) fn apply_change(
    control: &Control,
    change: &Change,
) -> Result<Map<String, Value>, String> {
    let request = match change.clone() {
        Change::Link(c) => Request::Link(c),
        Change::Position(c) => Request::SetPosition(c),
        Change::TxPower(c) => Request::SetTxPower(c),
    };
    execute(control, request)
}

/// `set-position`: moves a node of the radio model.
fn set_position(control: &Control, change: PositionChange) -> Result<Map<String, Value>, String> {
    change.check()?;
    let PositionChange { node, position } = change;
    change_config(control, &node, |n| {
        n.position = hwsim_radio::pathloss::Position {
            x: position[0],
            y: position[1],
            z: position[2],
        };
        Ok(())
    })?;
    Ok(body(json!({ "node": node, "position": position })))
}

/// `set-tx-power`: a node's tx power on one band or all.
fn set_tx_power(control: &Control, change: TxPowerChange) -> Result<Map<String, Value>, String> {
    let bands = change.check()?;
    let (node, dbm) = (change.node, change.dbm);
    change_config(control, &node, |n| {
        for &b in &bands {
            n.bands[b].tx_power_dbm = dbm;
        }
        Ok(())
    })?;
    let names: Vec<&str> = bands.iter().map(|&b| band_label(BANDS[b])).collect();
    Ok(body(
        json!({ "node": node, "bands": names, "tx_power_dbm": dbm }),
    ))
}

/// Changes one node of the config in force with `f` and puts the rebuilt medium in force.
fn change_config(
    control: &Control,
    node: &str,
    f: impl FnOnce(&mut crate::config::Node) -> Result<(), String>,
) -> Result<(), String> {
    let mut source = control.source.lock().unwrap_or_else(|e| e.into_inner());
    let Some(config) = source.loaded.as_ref() else {
        return Err(
            "the daemon runs the perfect medium (no --config): positions and tx \
                    powers need a medium config with model = \"radio\""
                .into(),
        );
    };
    if config.model != ModelKind::Radio {
        return Err(
            "the medium in force is the perfect medium: positions and tx powers need \
                    model = \"radio\""
                .into(),
        );
    }
    let mut changed = config.clone();
    let Some(n) = changed.nodes.iter_mut().find(|n| n.name == node) else {
        return Err(unknown_node(node, config, false));
    };
    f(n)?;
    let medium = crate::planning::medium_from(&changed, source.signal_dbm);
    super::put_in_force(&control.core, medium);
    source.loaded = Some(changed);
    Ok(())
}

fn unknown_node(node: &str, config: &crate::config::Config, any: bool) -> String {
    let names: Vec<&str> = config.nodes.iter().map(|n| n.name.as_str()).collect();
    let extra = if any { ", ap, vmN" } else { "" };
    format!(
        "unknown node {node:?} (the config's nodes: {}{extra})",
        names.join(", ")
    )
}

/// `link`: sets (or clears) what is done to `node`'s link on `band`.
fn link(control: &Control, change: LinkChange) -> Result<Map<String, Value>, String> {
    let core = &*control.core;
    let band = change.check()?;
    let node = change.node.as_str();
    if let Some(d) = change.delay_us {
        if d > 0 && core.medium.load().air().is_some() {
            return Err(
                "added delay is not supported in the airtime time mode (the medium \
                        clock times deliveries); nothing changed"
                    .into(),
            );
        }
        if d > 0 && core.vtime().is_some() {
            // The delay line sleeps on the host's clock: under virtual time a held delivery
            // would land at whatever simulated time the host's timing gave it.
            return Err(
                "added delay is not supported with --time-travel (the delay line runs on \
                        the host's clock, not the simulated one); nothing changed"
                    .into(),
            );
        }
    }
    // The lock on the source serialises changes (and keeps the config's nodes still).
    let source = control.source.lock().unwrap_or_else(|e| e.into_inner());
    let matches = resolve_node(core, source.loaded.as_ref(), node)?;
    let current = core.impairments.load_full();
    let mut links = current.links.clone();
    let index = links.iter().position(|l| l.same_link(node, band));
    let mut effect = index.map_or_else(LinkEffect::default, |i| links[i].effect);
    if change.clear {
        effect = LinkEffect::default();
    }
    if let Some(a) = change.attenuation_db {
        effect.attenuation_db = a;
    }
    if let Some(p) = change.loss_probability {
        effect.loss_probability = p;
    }
    if let Some(d) = change.down {
        effect.down = d;
    }
    if let Some(d) = change.delay_us {
        effect.delay_us = d;
    }
    let entry = LinkImpairment::new(node.to_owned(), matches, band, effect);
    match (index, effect.is_clear()) {
        (Some(i), true) => {
            links.remove(i);
        }
        (Some(i), false) => links[i] = entry.clone(),
        (None, true) => {}
        (None, false) => links.push(entry.clone()),
    }
    let seed = source.loaded.as_ref().map_or(0, |c| c.seed);
    core.impairments
        .store(Arc::new(Impairments { seed, links }));
    drop(source);
    tracing::info!(node, band = ?band, ?effect, "link impairment changed");
    let link = serde_json::to_value(&entry).map_err(|e| e.to_string())?;
    Ok(body(json!({ "link": link })))
}

/// Which radios `node` names: a node of the config, `ap` (the built-in AP MLD) or `vmN`.
fn resolve_node(
    core: &crate::core::Core,
    config: Option<&crate::config::Config>,
    node: &str,
) -> Result<NodeMatch, String> {
    if let Some(n) = config.and_then(|c| c.nodes.iter().find(|n| n.name == node)) {
        return Ok(NodeMatch::Addresses(n.addresses.clone()));
    }
    if node == "ap" {
        return core
            .ap_vm
            .get()
            .map(|&vm| NodeMatch::Vm(vm))
            .ok_or_else(|| "no built-in AP MLD is running (node \"ap\")".to_owned());
    }
    if let Some(id) = node.strip_prefix("vm").and_then(|n| n.parse::<u32>().ok()) {
        if core.vms().iter().any(|vm| vm.id == id) {
            return Ok(NodeMatch::Vm(id));
        }
        return Err(format!("no connected VM {id} (node {node:?})"));
    }
    Err(match config {
        Some(c) => unknown_node(node, c, true),
        None => format!("unknown node {node:?} (no medium config: name ap or vmN)"),
    })
}

/// `list`: the nodes (config nodes, the AP MLD, VMs), radios, MLDs and impaired links.
fn list(control: &Control) -> Map<String, Value> {
    let core = &*control.core;
    let source = control.source.lock().unwrap_or_else(|e| e.into_inner());
    let mut nodes = Vec::new();
    if let Some(cfg) = &source.loaded {
        for n in &cfg.nodes {
            let power: Map<String, Value> = BANDS
                .iter()
                .enumerate()
                .map(|(i, b)| (band_label(*b).to_owned(), json!(n.bands[i].tx_power_dbm)))
                .collect();
            nodes.push(json!({
                "name": n.name,
                "kind": "config",
                "addresses": n.addresses.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "position": [n.position.x, n.position.y, n.position.z],
                "tx_power_dbm": power,
            }));
        }
    }
    drop(source);
    let ap_vm = core.ap_vm.get().copied();
    if let Some(vm) = ap_vm {
        nodes.push(json!({ "name": "ap", "kind": "ap-mld", "vm": vm }));
    }
    for vm in core.vms() {
        if Some(vm.id) != ap_vm {
            nodes.push(json!({ "name": format!("vm{}", vm.id), "kind": "vm", "vm": vm.id }));
        }
    }
    let stats = crate::stats::collect(core);
    let radios: Vec<Value> = stats
        .radios
        .iter()
        .filter(|r| r.connected)
        .map(|r| {
            json!({
                "radio": r.radio,
                "vm": r.vm,
                "wire": r.wire,
                "addresses": r.addresses,
                "freqs": r.links.iter().map(|l| l.freq).collect::<Vec<_>>(),
            })
        })
        .collect();
    let links = serde_json::to_value(&core.impairments.load().links).unwrap_or(Value::Null);
    body(json!({
        "medium": core.medium.name(),
        "nodes": nodes,
        "radios": radios,
        "mlds": stats.mlds,
        "links": links,
    }))
}

/// `capture start FILE | stop | rotate FILE`.
fn capture(
    control: &Control,
    action: CaptureAction,
    file: Option<PathBuf>,
) -> Result<Map<String, Value>, String> {
    let core = &*control.core;
    let mut running = control.capture.lock();
    let absolute = |f: PathBuf| {
        std::path::absolute(&f).map_err(|e| format!("capture file {}: {e}", f.display()))
    };
    match (action, file) {
        (CaptureAction::Stop, Some(_)) => Err("capture stop takes no file".into()),
        (CaptureAction::Stop, None) => {
            let Some((old, _)) = running.take() else {
                return Err("no capture is running".into());
            };
            core.capture.store(None);
            let stats = old.finish();
            Ok(body(json!({ "stopped": stats })))
        }
        (_, None) => Err("give the capture file: \"file\":PATH".into()),
        (CaptureAction::Rotate, Some(_)) if running.is_none() => {
            Err("no capture is running: start one".into())
        }
        (CaptureAction::Start, Some(_)) if running.is_some() => {
            Err("a capture is running: stop it, or rotate to a new file".into())
        }
        (action, Some(file)) => {
            let file = absolute(file)?;
            if file.as_os_str() == crate::capture::STDOUT_PATH {
                return Err("the control API writes captures to files, not standard output".into());
            }
            // Rotation keeps the running capture's options (merged view, size limit); a new
            // capture takes the command line's. The monitor interface stays with the capture
            // that opened it.
            let config = match running.as_ref() {
                Some((_, c)) => crate::capture::CaptureConfig {
                    path: Some(file.clone()),
                    monitor: None,
                    ..c.clone()
                },
                None => control.capture.config_for(&file),
            };
            let new = crate::capture::Capture::start(config.clone())
                .map_err(|e| format!("capture {}: {e}", file.display()))?;
            let tap = new.tap();
            // The new file names the MLD links it already knows about, as the old one did.
            crate::mld::name_links(
                &tap,
                &core.mld.table(),
                &mut std::collections::HashMap::new(),
            );
            core.capture.store(Some(Arc::new(tap)));
            let previous = running.replace((new, config)).map(|(old, _)| old.finish());
            let key = match action {
                CaptureAction::Rotate => "rotated_to",
                _ => "started",
            };
            Ok(body(json!({
                key: file.display().to_string(),
                "previous": previous,
            })))
        }
    }
}
