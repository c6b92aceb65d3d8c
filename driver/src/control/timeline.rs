//! The medium config's timeline (`[[event]]`, see [`crate::config::events`]) played against
//! the daemon: one thread applies each event through the control API's own commands when its
//! time comes, counted from when the config was put in force, and steps attenuation ramps every
//! [`TICK`]. A reload restarts the timeline with the new file's events. Events with
//! `after = "association"` wait for the MLD tracker's count of successful association
//! responses to rise above what it was when the config came in force.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{api, Control, ControlCounters};
use crate::config::events::{Anchor, Event, EventAction};
use crate::medium::impair::LinkBand;

/// How often the timeline looks at the clock (and the granularity of ramps).
pub const TICK: Duration = Duration::from_millis(20);

/// How often it looks for a reload when the timeline has nothing left to do.
const IDLE: Duration = Duration::from_millis(200);

struct Ramp {
    node: String,
    band: String,
    from_db: f64,
    to_db: f64,
    start: Duration,
    length: Duration,
}

/// Starts the timeline thread.
pub fn spawn(control: Arc<Control>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("vhost-hwsim-timeline".into())
        .spawn(move || run(&control))?;
    Ok(())
}

fn run(control: &Control) {
    let mut seen = u64::MAX;
    let mut events: Vec<Event> = Vec::new();
    let mut applied: Vec<bool> = Vec::new();
    let mut since = Instant::now();
    // Associations counted when the config came in force, and when the first one after that
    // was noticed (time since `since`).
    let mut associations_before = 0;
    let mut associated_at: Option<Duration> = None;
    let mut ramps: Vec<Ramp> = Vec::new();
    loop {
        let done = applied.iter().all(|&a| a) && ramps.is_empty();
        std::thread::sleep(if done { IDLE } else { TICK });
        {
            let source = control.source.lock().unwrap_or_else(|e| e.into_inner());
            if source.generation != seen {
                seen = source.generation;
                since = source.in_force_since;
                events = source
                    .loaded
                    .as_ref()
                    .map(|c| c.events.clone())
                    .unwrap_or_default();
                applied = vec![false; events.len()];
                associations_before = control.core.mld.associations();
                associated_at = None;
                ramps.clear();
                if !events.is_empty() {
                    tracing::info!(events = events.len(), "timeline started");
                }
            }
        }
        let now = since.elapsed();
        if associated_at.is_none() && control.core.mld.associations() > associations_before {
            associated_at = Some(now);
            tracing::info!(after = ?now, "timeline: first association");
        }
        // Events due now, in the order of their times (file order among equal ones).
        let mut due: Vec<(Duration, usize)> = events
            .iter()
            .enumerate()
            .filter(|&(i, _)| !applied[i])
            .filter_map(|(i, e)| {
                let start = match e.after {
                    Anchor::InForce => e.at,
                    Anchor::FirstAssociation => associated_at? + e.at,
                };
                (start <= now).then_some((start, i))
            })
            .collect();
        due.sort_unstable();
        for (start, i) in due {
            applied[i] = true;
            let e = &events[i];
            let ramp = match (&e.action, e.ramp) {
                (
                    EventAction::Link {
                        node,
                        band,
                        attenuation_db: Some(to_db),
                        ..
                    },
                    Some(length),
                ) if !length.is_zero() => Some(Ramp {
                    node: node.clone(),
                    band: band.clone(),
                    from_db: attenuation_now(control, node, band),
                    to_db: *to_db,
                    start,
                    length,
                }),
                _ => None,
            };
            // A ramp's first step applies the event's other fields at the starting attenuation.
            let first = ramp.as_ref().map(|r| r.from_db);
            apply(control, e, first);
            ramps.extend(ramp);
        }
        ramps.retain(|r| {
            let done =
                (now.saturating_sub(r.start).as_secs_f64() / r.length.as_secs_f64()).min(1.0);
            let db = r.from_db + (r.to_db - r.from_db) * done;
            let step = EventAction::Link {
                node: r.node.clone(),
                band: r.band.clone(),
                attenuation_db: Some(db),
                loss_probability: None,
                delay_us: None,
                down: None,
                clear: false,
            };
            if let Err(e) = api::apply_event(control, &step) {
                tracing::warn!(node = %r.node, band = %r.band, error = %e, "timeline ramp stopped");
                return false;
            }
            done < 1.0
        });
    }
}

/// The attenuation `node`'s link on `band` has now (0 if it is not impaired).
fn attenuation_now(control: &Control, node: &str, band: &str) -> f64 {
    let Ok(band) = LinkBand::parse(band) else {
        return 0.0;
    };
    control
        .core
        .impairments
        .load()
        .links
        .iter()
        .find(|l| l.same_link(node, band))
        .map_or(0.0, |l| l.effect.attenuation_db)
}

fn apply(control: &Control, e: &Event, attenuation_db: Option<f64>) {
    let mut action = e.action.clone();
    if let (
        EventAction::Link {
            attenuation_db: a, ..
        },
        Some(start),
    ) = (&mut action, attenuation_db)
    {
        *a = Some(start);
    }
    let counters = &control.core.control;
    match api::apply_event(control, &action) {
        Ok(_) => {
            ControlCounters::bump(&counters.changes);
            ControlCounters::bump(&counters.timeline_applied);
            tracing::info!(line = e.line, at = ?e.at, "timeline event applied");
        }
        Err(error) => {
            ControlCounters::bump(&counters.timeline_failed);
            tracing::warn!(line = e.line, at = ?e.at, %error, "timeline event failed");
        }
    }
}
