//! `vhost-hwsim ctl`: the JSON control API (docs/control-api.md) from the command line. Each
//! subcommand sends one request; the answer is printed as a table or a line (`--json`: the
//! response as the daemon sent it). A refusal exits with status 1 and the daemon's message.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::cli::CliError;

/// `ctl` arguments.
#[derive(Args, Debug)]
pub struct CtlArgs {
    /// The daemon's control socket.
    #[arg(long)]
    pub control: PathBuf,
    /// Print the daemon's JSON response instead of a table.
    #[arg(long)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub action: CtlAction,
}

/// `ctl` subcommands.
#[derive(Subcommand, Debug)]
pub enum CtlAction {
    /// List nodes, radios, MLDs and impaired links.
    List,
    /// Print the daemon's counters.
    Stats,
    /// Move a node of the radio model to X Y Z (metres).
    #[command(allow_negative_numbers = true)]
    SetPosition {
        /// A node of the medium config.
        node: String,
        /// x, m.
        x: f64,
        /// y, m.
        y: f64,
        /// z, m.
        z: f64,
    },
    /// Set a node's tx power (dBm) on one band, or on all.
    #[command(allow_negative_numbers = true)]
    SetTxPower {
        /// A node of the medium config.
        node: String,
        /// Tx power, dBm.
        dbm: f64,
        /// 2.4ghz, 5ghz or 6ghz (default: every band).
        #[arg(long)]
        band: Option<String>,
    },
    /// Impair a node's link on a band or frequency: NODE is a node of the medium config, `ap`
    /// (the built-in AP MLD) or `vmN`; BAND is 2.4ghz, 5ghz, 6ghz or a frequency in MHz.
    /// Options not given stay as they were.
    Link {
        /// The node.
        node: String,
        /// The band or frequency.
        band: String,
        /// Extra attenuation, dB (0 ‥ 200).
        #[arg(long, value_name = "DB")]
        attenuation: Option<f64>,
        /// Probability that a frame on the link is lost (0 ‥ 1).
        #[arg(long, value_name = "P")]
        loss: Option<f64>,
        /// Added delay of deliveries on the link, µs (0 ‥ 1 000 000; not in the airtime
        /// time mode).
        #[arg(long, value_name = "US")]
        delay_us: Option<u64>,
        /// Take the link down: nothing gets through.
        #[arg(long, conflicts_with = "up")]
        down: bool,
        /// Bring the link back up.
        #[arg(long)]
        up: bool,
        /// Remove every impairment of the link (then apply the other options).
        #[arg(long)]
        clear: bool,
    },
    /// Start, stop or rotate the capture.
    Capture {
        /// What to do.
        #[command(subcommand)]
        action: CaptureCmd,
    },
    /// Re-read the medium config (or FILE) and put it in force.
    Reload {
        /// Config to load instead of the one the medium in force came from.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// `ctl capture` subcommands.
#[derive(Subcommand, Debug)]
pub enum CaptureCmd {
    /// Start capturing to FILE (pcapng).
    Start {
        /// The file.
        file: PathBuf,
    },
    /// Stop the capture: the file is complete.
    Stop,
    /// Finish the current file and go on in FILE.
    Rotate {
        /// The new file.
        file: PathBuf,
    },
}

/// The request a subcommand sends.
pub fn request(action: &CtlAction) -> Value {
    let absolute = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
    match action {
        CtlAction::List => json!({ "v": 1, "cmd": "list" }),
        CtlAction::Stats => json!({ "v": 1, "cmd": "stats" }),
        CtlAction::SetPosition { node, x, y, z } => {
            json!({ "v": 1, "cmd": "set-position", "node": node, "position": [x, y, z] })
        }
        CtlAction::SetTxPower { node, dbm, band } => {
            json!({ "v": 1, "cmd": "set-tx-power", "node": node, "band": band, "dbm": dbm })
        }
        CtlAction::Link {
            node,
            band,
            attenuation,
            loss,
            delay_us,
            down,
            up,
            clear,
        } => {
            let mut r = json!({ "v": 1, "cmd": "link", "node": node, "band": band });
            if let Some(a) = attenuation {
                r["attenuation_db"] = json!(a);
            }
            if let Some(p) = loss {
                r["loss_probability"] = json!(p);
            }
            if let Some(d) = delay_us {
                r["delay_us"] = json!(d);
            }
            if *down || *up {
                r["down"] = json!(*down);
            }
            if *clear {
                r["clear"] = json!(true);
            }
            r
        }
        CtlAction::Capture { action } => match action {
            CaptureCmd::Start { file } => {
                json!({ "v": 1, "cmd": "capture", "action": "start", "file": absolute(file) })
            }
            CaptureCmd::Stop => json!({ "v": 1, "cmd": "capture", "action": "stop" }),
            CaptureCmd::Rotate { file } => {
                json!({ "v": 1, "cmd": "capture", "action": "rotate", "file": absolute(file) })
            }
        },
        CtlAction::Reload { config } => {
            json!({ "v": 1, "cmd": "reload", "file": config.as_ref().map(absolute) })
        }
    }
}

/// Runs `ctl`: sends the request, prints the answer, fails with the daemon's refusal.
pub fn run(args: &CtlArgs) -> Result<(), CliError> {
    let answer = crate::control::request_json(&args.control, &request(&args.action))?;
    if answer["ok"] != json!(true) {
        if args.json {
            println!("{answer}");
        }
        let message = answer["error"].as_str().unwrap_or("no reason given");
        return Err(CliError::Refused(message.to_owned()));
    }
    if args.json {
        println!("{answer}");
    } else {
        print!("{}", human(&args.action, &answer));
    }
    Ok(())
}

/// The answer for a person.
pub fn human(action: &CtlAction, answer: &Value) -> String {
    let mut out = String::new();
    match action {
        CtlAction::List => list_tables(answer, &mut out),
        CtlAction::Stats => stats_table(&answer["stats"], &mut out),
        CtlAction::Link { .. } => {
            let l = &answer["link"];
            let _ = writeln!(
                out,
                "{} {}: attenuation {} dB, loss {}, delay {} µs, {}",
                l["node"].as_str().unwrap_or("?"),
                band_text(&l["band"]),
                l["attenuation_db"],
                l["loss_probability"],
                l["delay_us"],
                if l["down"] == json!(true) {
                    "down"
                } else {
                    "up"
                }
            );
        }
        _ => {
            let mut fields = answer.as_object().cloned().unwrap_or_default();
            fields.remove("v");
            fields.remove("ok");
            for (k, v) in fields {
                let _ = writeln!(out, "{k}: {v}");
            }
        }
    }
    out
}

fn band_text(band: &Value) -> String {
    match (band.get("band"), band.get("freq")) {
        (Some(b), _) => b.as_str().unwrap_or("?").to_owned(),
        (None, Some(f)) => format!("{f} MHz"),
        _ => band.to_string(),
    }
}

fn list_tables(answer: &Value, out: &mut String) {
    let empty = Vec::new();
    let arr = |v: &Value| v.as_array().unwrap_or(&empty).clone();
    let _ = writeln!(out, "medium: {}", answer["medium"].as_str().unwrap_or("?"));
    let _ = writeln!(
        out,
        "{:<16} {:<8} {:<24} addresses",
        "node", "kind", "position"
    );
    for n in arr(&answer["nodes"]) {
        let position = match n["position"].as_array() {
            Some(p) => p
                .iter()
                .map(|c| format!("{:.1}", c.as_f64().unwrap_or(0.0)))
                .collect::<Vec<_>>()
                .join(" "),
            None => n["vm"].as_u64().map_or("-".into(), |vm| format!("vm {vm}")),
        };
        let addresses: Vec<String> = arr(&n["addresses"])
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        let _ = writeln!(
            out,
            "{:<16} {:<8} {:<24} {}",
            n["name"].as_str().unwrap_or("?"),
            n["kind"].as_str().unwrap_or("?"),
            position,
            addresses.join(",")
        );
    }
    let _ = writeln!(out, "\n{:<28} {:<18} addresses", "radio", "freqs");
    for r in arr(&answer["radios"]) {
        let freqs: Vec<String> = arr(&r["freqs"]).iter().map(Value::to_string).collect();
        let addresses: Vec<String> = arr(&r["addresses"])
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
        let _ = writeln!(
            out,
            "{:<28} {:<18} {}",
            r["radio"].as_str().unwrap_or("?"),
            freqs.join(","),
            addresses.join(",")
        );
    }
    let mlds = arr(&answer["mlds"]);
    if !mlds.is_empty() {
        let _ = writeln!(out, "\n{:<8} {:<18} links", "mld", "address");
        for m in mlds {
            let links: Vec<String> = arr(&m["links"])
                .iter()
                .map(|l| format!("{}@{}", l["link_id"], l["freq"]))
                .collect();
            let _ = writeln!(
                out,
                "{:<8} {:<18} {}",
                m["kind"].as_str().unwrap_or("?"),
                m["mld_addr"].as_str().unwrap_or("?"),
                links.join(" ")
            );
        }
    }
    let links = arr(&answer["links"]);
    let _ = writeln!(out, "\nimpaired links: {}", links.len());
    for l in links {
        let _ = writeln!(
            out,
            "  {} {}: attenuation {} dB, loss {}, delay {} µs, {}",
            l["node"].as_str().unwrap_or("?"),
            band_text(&l["band"]),
            l["attenuation_db"],
            l["loss_probability"],
            l["delay_us"],
            if l["down"] == json!(true) {
                "down"
            } else {
                "up"
            }
        );
    }
}

fn stats_table(stats: &Value, out: &mut String) {
    let _ = writeln!(out, "medium: {}", stats["medium"].as_str().unwrap_or("?"));
    let _ = writeln!(
        out,
        "{:<28} {:>10} {:>10} {:>10} {:>8} {:>8}",
        "radio", "tx", "acked", "rx", "lost", "dropped"
    );
    for r in stats["radios"].as_array().into_iter().flatten() {
        let n = |k: &str| r[k].as_u64().unwrap_or(0);
        let _ = writeln!(
            out,
            "{:<28} {:>10} {:>10} {:>10} {:>8} {:>8}",
            r["radio"].as_str().unwrap_or("?"),
            n("tx_frames"),
            n("tx_acked"),
            n("rx_delivered"),
            n("rx_lost"),
            n("rx_dropped")
        );
    }
    let c = &stats["control"];
    let _ = writeln!(
        out,
        "control: {} requests, {} changes, {} refused",
        c["requests"], c["changes"], c["refused"]
    );
}
