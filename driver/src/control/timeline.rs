//! The medium config's timeline (`[[event]]`, see [`crate::config::events`]) played against
//! the daemon: one thread applies each event through the control API's own commands when its
//! time comes, counted from when the config was put in force, and steps attenuation ramps every
//! [`TICK`]. A reload restarts the timeline with the new file's events. Events with
//! `after = "association"` wait for the MLD tracker's count of successful association
//! responses to rise above what it was when the config came in force.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hwsim_timetravel::server::{LocalEvent, LocalParticipant};

use super::change::{Change, LinkChange};
use super::{api, Control, ControlCounters};
use crate::config::events::{Anchor, Event};
use crate::medium::impair::LinkBand;
use crate::vtime::{names, Nanos, VirtualTime};

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

/// The timeline's clock: the host's, or under `--time-travel` the simulation's, in which the
/// timeline is a participant of its own and applies each event in a turn at the event's
/// simulated time (so a run repeats with its events at the same points of the frame sequence).
enum Clock {
    Wall,
    Sim {
        vt: Arc<VirtualTime>,
        me: LocalParticipant,
        /// The turn being run, if any (ended with [`Clock::end_turn`]).
        turn: Option<Nanos>,
    },
}

/// A moment on the timeline's clock.
#[derive(Clone, Copy)]
enum Stamp {
    Wall(Instant),
    Sim(Nanos),
}

impl Clock {
    /// Switches to simulated time once the daemon has it (virtual time starts after the
    /// control plane).
    fn follow(&mut self, control: &Control) {
        if let (Clock::Wall, Some(vt)) = (&*self, control.core.vtime()) {
            *self = Clock::Sim {
                me: vt.add_local(names::TIMELINE),
                vt: Arc::clone(vt),
                turn: None,
            };
        }
    }

    fn now(&self) -> Stamp {
        match self {
            Clock::Wall => Stamp::Wall(Instant::now()),
            Clock::Sim { vt, turn, .. } => Stamp::Sim(turn.unwrap_or_else(|| vt.now())),
        }
    }

    /// Time from `since` to now (zero across a switch of clocks).
    fn since(&self, since: Stamp) -> Duration {
        match (since, self.now()) {
            (Stamp::Wall(a), Stamp::Wall(b)) => b.saturating_duration_since(a),
            (Stamp::Sim(a), Stamp::Sim(b)) => Duration::from_nanos(b.saturating_sub(a)),
            _ => Duration::ZERO,
        }
    }

    /// The absolute simulated time to ask a turn for, to do `due` (from `since`): only while
    /// guests take part (with nobody else the controller would run time forward at once), and
    /// never in the past.
    fn turn_for(vt: &VirtualTime, since: Stamp, due: Option<Duration>) -> Option<Nanos> {
        match (since, due) {
            (Stamp::Sim(base), Some(d)) if vt.stats().remotes > 0 => {
                let at = base.saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
                Some(at.max(vt.now()))
            }
            _ => None,
        }
    }

    /// Waits for the next thing to do: `due` (from `since`) or, with `None`, a while. In
    /// simulated time it asks for a turn at `due` and returns when it runs or after a tick of
    /// wall time, to look for reloads and associations.
    fn wait(&mut self, since: Stamp, due: Option<Duration>, idle: bool) {
        let pause = if idle { IDLE } else { TICK };
        match self {
            Clock::Wall => std::thread::sleep(pause),
            Clock::Sim { vt, me, turn } => {
                me.request(Clock::turn_for(vt, since, due));
                if let LocalEvent::Run(t) = me.next_event(pause) {
                    *turn = Some(t);
                }
            }
        }
    }

    /// Ends the turn being run, if any, having asked for the next one at `due`: asked before
    /// the turn ends, time cannot pass it meanwhile.
    fn end_turn(&mut self, since: Stamp, due: Option<Duration>) {
        if let Clock::Sim { vt, me, turn } = self {
            if turn.take().is_some() {
                me.request(Clock::turn_for(vt, since, due));
                me.done();
            }
        }
    }
}

/// Starts the timeline thread.
pub fn spawn(control: Arc<Control>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("vhost-hwsim-timeline".into())
        .spawn(move || run(&control))?;
    Ok(())
}

fn run(control: &Control) {
    let mut clock = Clock::Wall;
    let mut seen = u64::MAX;
    let mut events: Vec<Event> = Vec::new();
    let mut applied: Vec<bool> = Vec::new();
    let mut since = clock.now();
    // Associations counted when the config came in force, and when the first one after that
    // was noticed (time since `since`).
    let mut associations_before = 0;
    let mut associated_at: Option<Duration> = None;
    let mut ramps: Vec<Ramp> = Vec::new();
    let mut due_next: Option<Duration> = None;
    loop {
        let done = applied.iter().all(|&a| a) && ramps.is_empty();
        clock.wait(since, due_next, done);
        clock.follow(control);
        {
            let source = control.source.lock().unwrap_or_else(|e| e.into_inner());
            if source.generation != seen {
                seen = source.generation;
                since = match clock.now() {
                    Stamp::Wall(_) => Stamp::Wall(source.in_force_since),
                    sim => sim,
                };
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
        if let (Clock::Sim { .. }, Stamp::Wall(_)) = (&clock, since) {
            // Virtual time came up after the config: count from its start.
            since = Stamp::Sim(0);
        }
        let now = clock.since(since);
        if associated_at.is_none() && control.core.mld.associations() > associations_before {
            associated_at = Some(now);
            tracing::info!(after = ?now, "timeline: first association");
        }
        let start_of = |e: &Event| match e.after {
            Anchor::InForce => Some(e.at),
            Anchor::FirstAssociation => associated_at.map(|t| t + e.at),
        };
        // Events due now, in the order of their times (file order among equal ones).
        let mut due: Vec<(Duration, usize)> = events
            .iter()
            .enumerate()
            .filter(|&(i, _)| !applied[i])
            .filter_map(|(i, e)| start_of(e).filter(|&t| t <= now).map(|t| (t, i)))
            .collect();
        due.sort_unstable();
        for (start, i) in due {
            applied[i] = true;
            let e = &events[i];
            let ramp = match (&e.action, e.ramp) {
                (Change::Link(l), Some(length))
                    if !length.is_zero() && l.attenuation_db.is_some() =>
                {
                    Some(Ramp {
                        node: l.node.clone(),
                        band: l.band.clone(),
                        from_db: attenuation_now(control, &l.node, &l.band),
                        to_db: l.attenuation_db.unwrap_or_default(),
                        start,
                        length,
                    })
                }
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
            let step = Change::Link(LinkChange::attenuation(&r.node, &r.band, db));
            if let Err(e) = api::apply_change(control, &step) {
                tracing::warn!(node = %r.node, band = %r.band, error = %e, "timeline ramp stopped");
                return false;
            }
            done < 1.0
        });
        // What to wait for: the next event, or the next ramp step a tick from now.
        due_next = events
            .iter()
            .enumerate()
            .filter(|&(i, _)| !applied[i])
            .filter_map(|(_, e)| start_of(e))
            .chain((!ramps.is_empty()).then_some(now + TICK))
            .min();
        clock.end_turn(since, due_next);
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
    if let (Change::Link(l), Some(start)) = (&mut action, attenuation_db) {
        l.attenuation_db = Some(start);
    }
    let counters = &control.core.control;
    match api::apply_change(control, &action) {
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
