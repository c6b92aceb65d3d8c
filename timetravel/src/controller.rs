//! The scheduling core of a time-travel controller: pure, deterministic, no I/O.
//!
//! Participants are UML guests (and any other process) speaking the `um_timetravel` protocol
//! over a socket — *remote* participants, fed to [`Controller::receive`] message by message —
//! and *local* participants living in the same process as the controller (the daemon's medium),
//! driven through [`Controller::local_request`] and [`Controller::local_wait`]. What the
//! controller wants done comes back as [`Output`]s, in order, from [`Controller::take_output`].
//!
//! The rules:
//! - At most one participant runs. Simulated time advances only while nobody runs, i.e. when
//!   every participant waits; then the participant with the earliest request runs, at exactly
//!   its request. Ties go to the lower START id, then to the one that connected (or was added)
//!   first — never to whoever's message arrived first.
//! - A remote participant joins with START. Its ACK is held until nobody runs (and, at the
//!   beginning, until [`Config::expected`] participants have sent START, which are then admitted
//!   in id order); the new participant then runs at the current time until its first WAIT.
//! - Times on a remote participant's wire are relative to the moment it joined, so every guest
//!   boots at time 0 as the kernel expects; the controller works in absolute time.
//! - The running remote participant is told with FREE_UNTIL how far it may run without asking:
//!   up to (not including) the earliest request of anybody else, re-sent whenever that changes.
//! - A request in the past is run at the current time and counted; one at or past
//!   [`FOREVER`] (the kernel's "nothing to do", or an overflow) is no request at all.
//! - A participant that goes away is removed; if it was running, the next one runs.
//! - A malformed or out-of-order message is counted. If it leaves the state consistent it is
//!   ACKed so the sender never hangs; if not (anything before START, a second START, RUN or
//!   FREE_UNTIL from a client) the participant is disconnected. Nothing panics.

use std::collections::{BTreeMap, VecDeque};

use crate::wire::{Message, Op, FOREVER};

#[cfg(test)]
mod tests;

/// Simulated time in nanoseconds.
pub type Nanos = u64;

/// Messages sent to one participant that may wait for its ACK before the oldest is forgotten
/// (a client that never ACKs must not grow the controller's memory).
const MAX_UNACKED: usize = 32;

/// The controller's handle for one participant, in order of connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParticipantId(pub u64);

/// How a controller starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Remote participants whose START the controller waits for before anything runs; they are
    /// then admitted in id order, whatever order they connected in. 0: admit as they come.
    pub expected: usize,
    /// Time of day at simulated time 0, nanoseconds since the Unix epoch (answers GET_TOD). A
    /// fixed value keeps guests' wall clocks the same in every run.
    pub tod_at_zero: u64,
    /// Keep every turn granted (id, time) for [`Controller::turns`]; for comparing runs.
    pub record_turns: bool,
}

/// Where a participant is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Connected, START not yet received.
    Connected,
    /// START received, its ACK held until the participant may run.
    Joining,
    /// The one participant that runs.
    Running,
    /// Waiting for a RUN (or idle without a request).
    Waiting,
}

/// Why a remote participant was disconnected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A message other than START before START.
    BeforeStart(Op),
    /// A message while its START was still unanswered (the kernel blocks until the ACK).
    WhileJoining(Op),
    /// START from a participant that has already started.
    SecondStart,
    /// An op only the controller sends (RUN, FREE_UNTIL).
    WrongDirection(Op),
}

/// Something the caller must do, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Write `msg` to remote participant `to`.
    Send {
        /// The recipient.
        to: ParticipantId,
        /// The message.
        msg: Message,
    },
    /// Write the ACK to `to`'s START, with the two shared-memory file descriptors attached
    /// (the kernel 6.12 reads two descriptors from this message and uses them without checking
    /// that any came; the server sends a region it declines, see `server`).
    StartAck {
        /// The recipient.
        to: ParticipantId,
        /// The ACK.
        msg: Message,
    },
    /// Local participant `who` runs now, at `at`; it ends its turn with
    /// [`Controller::local_wait`].
    RunLocal {
        /// The local participant.
        who: ParticipantId,
        /// The current simulated time.
        at: Nanos,
    },
    /// Close `who`'s connection; the controller has already forgotten it.
    Disconnect {
        /// The participant.
        who: ParticipantId,
        /// What it did.
        reason: Violation,
    },
    /// Nobody runs and no started participant has a request: time stands still at `at` until
    /// some input arrives (a guest's interrupt, a local request). Reported once per standstill.
    Idle {
        /// The current simulated time.
        at: Nanos,
    },
}

/// Why a local call was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocalError {
    /// No participant with this id.
    #[error("no participant {0:?}")]
    Unknown(ParticipantId),
    /// The participant is remote: it speaks for itself on its socket.
    #[error("participant {0:?} is not local")]
    NotLocal(ParticipantId),
    /// `local_wait` from a participant that is not running.
    #[error("participant {0:?} is not running")]
    NotRunning(ParticipantId),
}

/// What the controller has seen, for statistics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Messages received from remote participants.
    pub received: u64,
    /// Turns granted (RUN or RunLocal).
    pub runs: u64,
    /// FREE_UNTIL messages sent.
    pub free_untils: u64,
    /// Requests for a time before the current one (run at the current time instead).
    pub requests_in_past: u64,
    /// Requests at or past [`FOREVER`], overflowing ones included (treated as no request).
    pub requests_forever: u64,
    /// ACKs that answer nothing we are waiting for.
    pub acks_unmatched: u64,
    /// Sent messages forgotten unACKed because a participant had too many outstanding.
    pub acks_missing: u64,
    /// WAITs from a participant that was not running (ACKed, ignored).
    pub waits_not_running: u64,
    /// UPDATEs from a participant that was not running (ACKed, ignored).
    pub updates_not_running: u64,
    /// UPDATEs that would move time backwards or to [`FOREVER`] (ACKed, ignored).
    pub updates_refused: u64,
    /// UPDATEs past another participant's request (accepted: the runner's clock is already
    /// there; that participant will run late).
    pub updates_past_others: u64,
    /// Messages with an op this controller does not know (ACKed).
    pub unknown_ops: u64,
    /// Messages from ids the controller does not know (e.g. after a disconnect).
    pub from_unknown: u64,
    /// Participants disconnected for a protocol violation.
    pub violations: u64,
    /// BROADCAST messages relayed (one per recipient).
    pub broadcasts: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Remote,
    Local,
}

#[derive(Clone, Debug)]
struct Participant {
    kind: Kind,
    phase: Phase,
    /// START id (remote) or the caller's id (local); first tie-breaker.
    name: u64,
    /// Connection order; second tie-breaker.
    order: u64,
    /// The START message's seq, echoed by its held ACK.
    start_seq: u32,
    /// Controller time when it joined: wire time = absolute time - offset.
    offset: Nanos,
    /// Next requested run, absolute.
    request: Option<Nanos>,
    /// The FREE_UNTIL (absolute) sent during the current turn, if any.
    free_until_sent: Option<Nanos>,
    /// Seqs of messages sent to it and not ACKed yet.
    unacked: VecDeque<u32>,
}

impl Participant {
    fn started(&self) -> bool {
        matches!(self.phase, Phase::Running | Phase::Waiting)
    }

    fn to_wire(&self, absolute: Nanos) -> u64 {
        absolute.saturating_sub(self.offset).min(FOREVER)
    }
}

/// The scheduling core. See the module documentation for its rules.
#[derive(Debug)]
pub struct Controller {
    config: Config,
    now: Nanos,
    participants: BTreeMap<ParticipantId, Participant>,
    running: Option<ParticipantId>,
    next_id: u64,
    next_order: u64,
    next_seq: u32,
    /// True once the expected participants have all sent START.
    gate_open: bool,
    idle_reported: bool,
    outputs: VecDeque<Output>,
    counters: Counters,
    digest: u64,
    turns: Vec<(u64, Nanos)>,
}

impl Controller {
    /// A controller at time 0 with no participants.
    pub fn new(config: Config) -> Self {
        Controller {
            config,
            now: 0,
            participants: BTreeMap::new(),
            running: None,
            next_id: 0,
            next_order: 0,
            next_seq: 0,
            gate_open: config.expected == 0,
            idle_reported: false,
            outputs: VecDeque::new(),
            counters: Counters::default(),
            digest: FNV_OFFSET,
            turns: Vec::new(),
        }
    }

    /// Current simulated time (absolute).
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// The participant that runs, if any.
    pub fn running(&self) -> Option<ParticipantId> {
        self.running
    }

    /// Where `who` is, if it is known.
    pub fn phase(&self, who: ParticipantId) -> Option<Phase> {
        self.participants.get(&who).map(|p| p.phase)
    }

    /// `who`'s pending request (absolute), if it has one.
    pub fn request(&self, who: ParticipantId) -> Option<Nanos> {
        self.participants.get(&who).and_then(|p| p.request)
    }

    /// Messages sent to `who` that it has not ACKed yet.
    pub fn unacked(&self, who: ParticipantId) -> usize {
        self.participants.get(&who).map_or(0, |p| p.unacked.len())
    }

    /// The earliest time a new local request may safely name. While a remote participant runs
    /// free it may be anywhere before its FREE_UNTIL without having said so (it sends UPDATE
    /// only before a kick), and running anybody at an earlier time would hand it an interrupt
    /// whose time goes backwards (a guest panics). So: its FREE_UNTIL, unless `runner_synced`
    /// (the caller knows the runner is blocked right after an UPDATE, e.g. inside its kick),
    /// no remote runs, or it holds no FREE_UNTIL yet (then it cannot have run ahead).
    pub fn safe_now(&self, runner_synced: bool) -> Nanos {
        let remote_free_until = self
            .running
            .and_then(|r| self.participants.get(&r))
            .filter(|p| p.kind == Kind::Remote)
            .and_then(|p| p.free_until_sent);
        match remote_free_until {
            Some(limit) if !runner_synced => limit.max(self.now),
            _ => self.now,
        }
    }

    /// Every participant's (name, request, running), for reports: name is the START id of a
    /// remote one (`u64::MAX` before its START), the given name of a local one.
    pub fn schedule_table(&self) -> Vec<(u64, Option<Nanos>, bool)> {
        self.participants
            .iter()
            .map(|(id, p)| {
                let name = if p.kind == Kind::Remote && !p.started() && p.phase != Phase::Joining {
                    u64::MAX
                } else {
                    p.name
                };
                (name, p.request, self.running == Some(*id))
            })
            .collect()
    }

    /// Participants known (connected, joining or started).
    pub fn len(&self) -> usize {
        self.participants.len()
    }

    /// Remote participants connected (in any phase).
    pub fn remotes(&self) -> usize {
        self.participants
            .values()
            .filter(|p| p.kind == Kind::Remote)
            .count()
    }

    /// Participants whose START waits for its ACK.
    pub fn joining(&self) -> usize {
        self.participants
            .values()
            .filter(|p| p.phase == Phase::Joining)
            .count()
    }

    /// True without participants.
    pub fn is_empty(&self) -> bool {
        self.participants.is_empty()
    }

    /// What the controller has counted.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// A digest of every turn granted so far (who, by START id, and when): two runs that
    /// scheduled the same turns at the same times have the same digest.
    pub fn schedule_digest(&self) -> u64 {
        self.digest
    }

    /// Every turn granted so far as (START id or local name, absolute time), if
    /// [`Config::record_turns`] is set.
    pub fn turns(&self) -> &[(u64, Nanos)] {
        &self.turns
    }

    /// The next thing to do, oldest first.
    pub fn take_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// A remote participant connected; it joins when its START arrives.
    pub fn connect(&mut self) -> ParticipantId {
        self.insert(Kind::Remote, Phase::Connected, u64::MAX)
    }

    /// Adds a local participant, started at once: waiting, without a request. `name` breaks
    /// ties like a remote participant's START id.
    pub fn add_local(&mut self, name: u64) -> ParticipantId {
        self.insert(Kind::Local, Phase::Waiting, name)
    }

    /// Sets (`Some`, absolute time) or withdraws (`None`) a local participant's request. While a
    /// remote participant runs this may lower its FREE_UNTIL: the caller must let that message
    /// reach it (and be ACKed, see [`Controller::unacked`]) before the runner continues.
    pub fn local_request(
        &mut self,
        who: ParticipantId,
        at: Option<Nanos>,
    ) -> Result<(), LocalError> {
        self.local(who)?;
        let request = at.and_then(|t| self.admit_request(t));
        if let Some(p) = self.participants.get_mut(&who) {
            p.request = request;
        }
        self.after_request();
        Ok(())
    }

    /// A running local participant ends its turn (set its next request first).
    pub fn local_wait(&mut self, who: ParticipantId) -> Result<(), LocalError> {
        self.local(who)?;
        if self.running != Some(who) {
            return Err(LocalError::NotRunning(who));
        }
        self.stop_running(who);
        self.schedule();
        Ok(())
    }

    /// `who`'s connection is gone (or a local participant leaves).
    pub fn disconnect(&mut self, who: ParticipantId) {
        if self.participants.remove(&who).is_none() {
            return;
        }
        if self.running == Some(who) {
            self.running = None;
        }
        self.open_gate_if_ready();
        self.refresh_free_until();
        self.schedule();
    }

    /// A message from remote participant `from`.
    pub fn receive(&mut self, from: ParticipantId, msg: Message) {
        let Some(p) = self.participants.get(&from) else {
            self.counters.from_unknown += 1;
            return;
        };
        if p.kind != Kind::Remote {
            self.counters.from_unknown += 1;
            return;
        }
        self.counters.received += 1;
        match p.phase {
            Phase::Connected => self.before_start(from, msg),
            Phase::Joining => self.violation(from, Violation::WhileJoining(msg.op)),
            Phase::Running | Phase::Waiting => self.started_message(from, msg),
        }
    }

    fn before_start(&mut self, from: ParticipantId, msg: Message) {
        if msg.op != Op::Start {
            self.violation(from, Violation::BeforeStart(msg.op));
            return;
        }
        if let Some(p) = self.participants.get_mut(&from) {
            p.phase = Phase::Joining;
            p.name = msg.time;
            p.start_seq = msg.seq;
        }
        self.open_gate_if_ready();
        // A runner that holds FREE_UNTIL = FOREVER would never wait again and the joiner would
        // never get in: its limit drops to now (see `earliest_other_request`).
        self.refresh_free_until();
        self.schedule();
    }

    fn started_message(&mut self, from: ParticipantId, msg: Message) {
        match msg.op {
            Op::Ack => self.acked(from, msg.seq),
            Op::Start => self.violation(from, Violation::SecondStart),
            Op::Run | Op::FreeUntil => self.violation(from, Violation::WrongDirection(msg.op)),
            Op::Request => {
                let request = match self.wire_to_absolute(from, msg.time) {
                    Some(at) => self.admit_request(at),
                    None => {
                        self.counters.requests_forever += 1;
                        None
                    }
                };
                if let Some(p) = self.participants.get_mut(&from) {
                    p.request = request;
                }
                self.ack(from, msg.seq, 0);
                self.after_request();
            }
            Op::Wait => {
                self.ack(from, msg.seq, 0);
                if self.running == Some(from) {
                    self.stop_running(from);
                    self.schedule();
                } else {
                    self.counters.waits_not_running += 1;
                }
            }
            Op::Get => {
                let time = self.wire_time(from, self.now);
                self.ack(from, msg.seq, time);
            }
            Op::Update => {
                if self.running == Some(from) {
                    self.update(from, msg.time);
                } else {
                    self.counters.updates_not_running += 1;
                }
                self.ack(from, msg.seq, 0);
            }
            Op::GetTod => {
                let tod = self.config.tod_at_zero.saturating_add(self.now);
                self.ack(from, msg.seq, tod);
            }
            Op::Broadcast => {
                let others: Vec<ParticipantId> = self
                    .participants
                    .iter()
                    .filter(|(id, p)| **id != from && p.kind == Kind::Remote && p.started())
                    .map(|(id, _)| *id)
                    .collect();
                for to in others {
                    self.send(to, Op::Broadcast, msg.time);
                    self.counters.broadcasts += 1;
                }
                self.ack(from, msg.seq, 0);
            }
            Op::Unknown(_) => {
                self.counters.unknown_ops += 1;
                self.ack(from, msg.seq, 0);
            }
        }
    }

    /// UPDATE from the runner: its clock is at `wire` now.
    fn update(&mut self, from: ParticipantId, wire: u64) {
        let Some(at) = self
            .wire_to_absolute(from, wire)
            .filter(|at| *at >= self.now)
        else {
            self.counters.updates_refused += 1;
            return;
        };
        if self
            .earliest_other_request(from)
            .is_some_and(|other| at > other)
        {
            self.counters.updates_past_others += 1;
        }
        self.now = at;
    }

    fn acked(&mut self, from: ParticipantId, seq: u32) {
        let Some(p) = self.participants.get_mut(&from) else {
            return;
        };
        match p.unacked.iter().position(|s| *s == seq) {
            Some(i) => {
                p.unacked.remove(i);
            }
            None => self.counters.acks_unmatched += 1,
        }
    }

    fn violation(&mut self, who: ParticipantId, reason: Violation) {
        self.counters.violations += 1;
        self.outputs.push_back(Output::Disconnect { who, reason });
        self.disconnect(who);
    }

    fn local(&self, who: ParticipantId) -> Result<(), LocalError> {
        match self.participants.get(&who) {
            None => Err(LocalError::Unknown(who)),
            Some(p) if p.kind != Kind::Local => Err(LocalError::NotLocal(who)),
            Some(_) => Ok(()),
        }
    }

    fn insert(&mut self, kind: Kind, phase: Phase, name: u64) -> ParticipantId {
        let id = ParticipantId(self.next_id);
        self.next_id += 1;
        let order = self.next_order;
        self.next_order += 1;
        self.participants.insert(
            id,
            Participant {
                kind,
                phase,
                name,
                order,
                start_seq: 0,
                offset: 0,
                request: None,
                free_until_sent: None,
                unacked: VecDeque::new(),
            },
        );
        id
    }

    /// `wire` in `from`'s time as absolute time; `None` if it is the kernel's "never" or
    /// overflows.
    fn wire_to_absolute(&self, from: ParticipantId, wire: u64) -> Option<Nanos> {
        let offset = self.participants.get(&from).map_or(0, |p| p.offset);
        offset.checked_add(wire).filter(|_| wire < FOREVER)
    }

    fn wire_time(&self, to: ParticipantId, absolute: Nanos) -> u64 {
        self.participants
            .get(&to)
            .map_or(0, |p| p.to_wire(absolute))
    }

    /// Applies the past/forever rules to a requested absolute time.
    fn admit_request(&mut self, at: Nanos) -> Option<Nanos> {
        if at >= FOREVER {
            self.counters.requests_forever += 1;
            return None;
        }
        if at < self.now {
            self.counters.requests_in_past += 1;
            return Some(self.now);
        }
        Some(at)
    }

    fn after_request(&mut self) {
        self.refresh_free_until();
        self.schedule();
    }

    /// The earliest request of the others. A participant waiting for admission (once the gate
    /// is open) counts as a request at `now`: it joins at the current time, and only while
    /// nobody runs, so the runner must not run past now without asking. Without this a guest
    /// alone with FREE_UNTIL = FOREVER runs its whole timeline and the next guest joins at its
    /// end.
    fn earliest_other_request(&self, except: ParticipantId) -> Option<Nanos> {
        let requested = self
            .participants
            .iter()
            .filter(|(id, p)| **id != except && p.started())
            .filter_map(|(_, p)| p.request)
            .min();
        let joiner = self.gate_open
            && self
                .participants
                .iter()
                .any(|(id, p)| *id != except && p.phase == Phase::Joining);
        match (requested, joiner) {
            (Some(r), true) => Some(r.min(self.now)),
            (None, true) => Some(self.now),
            (r, false) => r,
        }
    }

    /// Tells a running remote participant how far it may run, if that changed.
    fn refresh_free_until(&mut self) {
        let Some(runner) = self.running else {
            return;
        };
        let limit = self.earliest_other_request(runner).unwrap_or(FOREVER);
        let Some(p) = self.participants.get_mut(&runner) else {
            return;
        };
        if p.kind != Kind::Remote || p.free_until_sent == Some(limit) {
            return;
        }
        p.free_until_sent = Some(limit);
        let wire = p.to_wire(limit);
        self.counters.free_untils += 1;
        self.send(runner, Op::FreeUntil, wire);
    }

    fn open_gate_if_ready(&mut self) {
        if self.gate_open {
            return;
        }
        if self.joining() >= self.config.expected {
            self.gate_open = true;
        }
    }

    fn stop_running(&mut self, who: ParticipantId) {
        if let Some(p) = self.participants.get_mut(&who) {
            p.phase = Phase::Waiting;
            p.free_until_sent = None;
        }
        if self.running == Some(who) {
            self.running = None;
        }
    }

    /// Grants the next turn if nobody runs: first to a joining participant (at the current
    /// time), else to the earliest request.
    fn schedule(&mut self) {
        if self.running.is_some() || !self.gate_open {
            return;
        }
        let joiner = self
            .participants
            .iter()
            .filter(|(_, p)| p.phase == Phase::Joining)
            .min_by_key(|(_, p)| (p.name, p.order))
            .map(|(id, _)| *id);
        if let Some(id) = joiner {
            self.admit(id);
            return;
        }
        let next = self
            .participants
            .iter()
            .filter(|(_, p)| p.phase == Phase::Waiting)
            .filter_map(|(id, p)| p.request.map(|t| (t, p.name, p.order, *id)))
            .min();
        let Some((at, _, _, id)) = next else {
            let anybody = self.participants.values().any(|p| p.started());
            if anybody && !self.idle_reported {
                self.idle_reported = true;
                self.outputs.push_back(Output::Idle { at: self.now });
            }
            return;
        };
        self.idle_reported = false;
        self.now = self.now.max(at);
        self.grant(id);
    }

    fn admit(&mut self, id: ParticipantId) {
        let now = self.now;
        let Some(p) = self.participants.get_mut(&id) else {
            return;
        };
        p.phase = Phase::Running;
        p.offset = now;
        let msg = Message::ack(p.start_seq, 0);
        self.running = Some(id);
        self.idle_reported = false;
        self.outputs.push_back(Output::StartAck { to: id, msg });
        self.note_turn(id);
        // The new participant has no FREE_UNTIL yet; give it one so it need not ask for every
        // nanosecond while it boots. It reads it with its next request's ACK.
        self.refresh_free_until();
    }

    fn grant(&mut self, id: ParticipantId) {
        let now = self.now;
        let Some(p) = self.participants.get_mut(&id) else {
            return;
        };
        p.phase = Phase::Running;
        p.request = None;
        p.free_until_sent = None;
        let kind = p.kind;
        self.running = Some(id);
        self.note_turn(id);
        match kind {
            Kind::Local => self
                .outputs
                .push_back(Output::RunLocal { who: id, at: now }),
            Kind::Remote => {
                // FREE_UNTIL first: the kernel forgets its limit when it waits and must have
                // the new one before RUN lets it go.
                self.refresh_free_until();
                let wire = self.wire_time(id, now);
                self.send(id, Op::Run, wire);
            }
        }
    }

    fn note_turn(&mut self, id: ParticipantId) {
        self.counters.runs += 1;
        let name = self.participants.get(&id).map_or(0, |p| p.name);
        if self.config.record_turns {
            self.turns.push((name, self.now));
        }
        for word in [name, self.now] {
            for byte in word.to_le_bytes() {
                self.digest = (self.digest ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
            }
        }
    }

    fn ack(&mut self, to: ParticipantId, seq: u32, time: u64) {
        self.outputs.push_back(Output::Send {
            to,
            msg: Message::ack(seq, time),
        });
    }

    /// Sends a controller-initiated message, which the participant ACKs.
    fn send(&mut self, to: ParticipantId, op: Op, time: u64) {
        self.next_seq = self.next_seq.wrapping_add(1);
        let seq = self.next_seq;
        if let Some(p) = self.participants.get_mut(&to) {
            if p.unacked.len() >= MAX_UNACKED {
                p.unacked.pop_front();
                self.counters.acks_missing += 1;
            }
            p.unacked.push_back(seq);
        }
        self.outputs.push_back(Output::Send {
            to,
            msg: Message::new(op, seq, time),
        });
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
