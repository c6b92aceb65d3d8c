use super::*;
use crate::wire::NO_TIME;

fn drain(c: &mut Controller) -> Vec<Output> {
    std::iter::from_fn(|| c.take_output()).collect()
}

fn m(op: Op, seq: u32, time: u64) -> Message {
    Message::new(op, seq, time)
}

/// Connects a remote participant and sends its START with this id.
fn join(c: &mut Controller, name: u64) -> ParticipantId {
    let id = c.connect();
    c.receive(id, m(Op::Start, 1, name));
    id
}

fn send(to: ParticipantId, op: Op, time: u64) -> impl Fn(&Output) -> bool {
    move |o| matches!(o, Output::Send { to: t, msg } if *t == to && msg.op == op && msg.time == time)
}

/// The controller-initiated messages (not ACKs) in `outs`, as (recipient, op, time).
fn initiated(outs: &[Output]) -> Vec<(ParticipantId, Op, u64)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Send { to, msg } if msg.op != Op::Ack => Some((*to, msg.op, msg.time)),
            _ => None,
        })
        .collect()
}

/// Who got a turn in `outs` and at which wire time (START ACK = a turn at the participant's 0).
fn turns(outs: &[Output]) -> Vec<(ParticipantId, u64)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::StartAck { to, .. } => Some((*to, 0)),
            Output::Send { to, msg } if msg.op == Op::Run => Some((*to, msg.time)),
            Output::RunLocal { who, at } => Some((*who, *at)),
            _ => None,
        })
        .collect()
}

/// The runner asks for `at` and waits, as the kernel does when it has nothing left before `at`.
fn request_and_wait(c: &mut Controller, who: ParticipantId, at: u64) -> Vec<Output> {
    c.receive(who, m(Op::Request, 10, at));
    c.receive(who, m(Op::Wait, 11, NO_TIME));
    drain(c)
}

#[test]
fn start_is_acked_with_its_seq_and_the_newcomer_runs() {
    let mut c = Controller::new(Config::default());
    let a = c.connect();
    assert!(drain(&mut c).is_empty());
    c.receive(a, m(Op::Start, 77, 5));
    let outs = drain(&mut c);
    assert_eq!(
        outs[0],
        Output::StartAck {
            to: a,
            msg: Message::ack(77, 0)
        }
    );
    // Alone, it may run as far as it likes (up to the kernel's never).
    assert!(send(a, Op::FreeUntil, FOREVER)(&outs[1]));
    assert_eq!(outs.len(), 2);
    assert_eq!(c.running(), Some(a));
    assert_eq!(c.phase(a), Some(Phase::Running));
}

#[test]
fn wait_is_acked_before_the_run_that_follows_it() {
    let mut c = Controller::new(Config::default());
    let a = join(&mut c, 1);
    drain(&mut c);
    c.receive(a, m(Op::Request, 2, 1_000));
    assert_eq!(
        drain(&mut c),
        vec![Output::Send {
            to: a,
            msg: Message::ack(2, 0)
        }]
    );
    c.receive(a, m(Op::Wait, 3, NO_TIME));
    let outs = drain(&mut c);
    assert_eq!(
        outs[0],
        Output::Send {
            to: a,
            msg: Message::ack(3, 0)
        }
    );
    assert!(send(a, Op::FreeUntil, FOREVER)(&outs[1]));
    assert!(send(a, Op::Run, 1_000)(&outs[2]));
    assert_eq!(c.now(), 1_000);
}

/// Three guests connect in one order, are admitted in id order, and then take turns by
/// their requests; each runner's FREE_UNTIL is the earliest other request.
#[test]
fn three_participants_interleave_by_request_time() {
    let mut c = Controller::new(Config {
        expected: 3,
        tod_at_zero: 0,
        ..Config::default()
    });
    let a = join(&mut c, 30);
    let b = join(&mut c, 10);
    assert!(
        turns(&drain(&mut c)).is_empty(),
        "nobody runs before all three are in"
    );
    let cc = join(&mut c, 20);
    let mut all = drain(&mut c);
    assert_eq!(turns(&all), vec![(b, 0)]);

    all.extend(request_and_wait(&mut c, b, 500));
    all.extend(request_and_wait(&mut c, cc, 300));
    all.extend(request_and_wait(&mut c, a, 400));
    let outs = request_and_wait(&mut c, cc, 700);
    assert!(outs.iter().any(send(a, Op::FreeUntil, 500)), "{outs:?}");
    all.extend(outs);
    all.extend(request_and_wait(&mut c, a, 1_000));
    all.extend(request_and_wait(&mut c, b, 2_000));
    all.extend(request_and_wait(&mut c, cc, 3_000));
    assert_eq!(
        turns(&all),
        vec![
            (b, 0),
            (cc, 0),
            (a, 0),
            (cc, 300),
            (a, 400),
            (b, 500),
            (cc, 700),
            (a, 1_000)
        ]
    );
    assert_eq!(c.now(), 1_000);
}

#[test]
fn ties_go_to_the_lower_id_then_to_the_earlier_connection() {
    let mut c = Controller::new(Config::default());
    let high = join(&mut c, 9);
    drain(&mut c);
    // Joined while `high` runs: held until it waits.
    let low = join(&mut c, 2);
    assert!(turns(&drain(&mut c)).is_empty());
    let outs = request_and_wait(&mut c, high, 100);
    assert_eq!(turns(&outs), vec![(low, 0)]);
    let outs = request_and_wait(&mut c, low, 100);
    assert_eq!(
        turns(&outs),
        vec![(low, 100)],
        "same time: id 2 before id 9"
    );

    // Two participants without an id (the kernel's -1): connection order decides.
    let mut c = Controller::new(Config::default());
    let first = join(&mut c, u64::MAX);
    request_and_wait(&mut c, first, FOREVER);
    let second = join(&mut c, u64::MAX);
    drain(&mut c);
    assert_eq!(c.running(), Some(second));
    c.receive(first, m(Op::Request, 6, 50));
    let outs = request_and_wait(&mut c, second, 50);
    assert_eq!(turns(&outs), vec![(first, 50)]);
}

#[test]
fn time_advances_only_when_everybody_waits() {
    let mut c = Controller::new(Config::default());
    let a = join(&mut c, 1);
    let b = join(&mut c, 2);
    drain(&mut c);
    request_and_wait(&mut c, a, 1_000);
    // b was admitted at 0 and runs; a's request waits for it.
    assert_eq!(c.running(), Some(b));
    c.receive(b, m(Op::Update, 20, 400));
    assert_eq!(c.now(), 400, "UPDATE moves the runner's time");
    c.receive(b, m(Op::Request, 21, 5_000));
    assert_eq!(c.now(), 400);
    assert!(turns(&drain(&mut c)).is_empty());
    c.receive(b, m(Op::Wait, 22, NO_TIME));
    assert_eq!(turns(&drain(&mut c)), vec![(a, 1_000)]);
}

#[test]
fn free_until_follows_the_earliest_other_request() {
    let mut c = Controller::new(Config::default());
    let a = join(&mut c, 1);
    let b = join(&mut c, 2);
    drain(&mut c);
    request_and_wait(&mut c, a, FOREVER); // a idles: no request
    assert_eq!(c.running(), Some(b));
    drain(&mut c);
    request_and_wait(&mut c, b, 800);
    assert_eq!(c.running(), Some(b), "b runs again at 800");
    // a wakes up (an interrupt) and asks for 900: b may run until 900.
    c.receive(a, m(Op::Request, 30, 900));
    assert_eq!(initiated(&drain(&mut c)), vec![(b, Op::FreeUntil, 900)]);
    // a overrides its request with an earlier one.
    c.receive(a, m(Op::Request, 31, 850));
    assert_eq!(initiated(&drain(&mut c)), vec![(b, Op::FreeUntil, 850)]);
    // The same limit again sends nothing.
    c.receive(a, m(Op::Request, 32, 850));
    assert!(initiated(&drain(&mut c)).is_empty());
    // A later request raises the limit again.
    c.receive(a, m(Op::Request, 33, 2_000));
    assert_eq!(initiated(&drain(&mut c)), vec![(b, Op::FreeUntil, 2_000)]);
}

#[test]
fn a_request_in_the_past_runs_now_and_is_counted() {
    let mut c = Controller::new(Config::default());
    let a = join(&mut c, 1);
    let b = join(&mut c, 2);
    drain(&mut c);
    request_and_wait(&mut c, a, FOREVER);
    request_and_wait(&mut c, b, 1_000);
    assert_eq!(c.now(), 1_000);
    c.receive(a, m(Op::Request, 40, 200));
    assert_eq!(c.request(a), Some(1_000), "clamped to the current time");
    assert_eq!(c.counters().requests_in_past, 1);
    let outs = request_and_wait(&mut c, b, 3_000);
    assert_eq!(turns(&outs), vec![(a, 1_000)]);
}

#[test]
fn forever_and_overflowing_requests_are_no_request() {
    let mut c = Controller::new(Config::default());
    let a = join(&mut c, 1);
    drain(&mut c);
    request_and_wait(&mut c, a, 7_000);
    c.receive(a, m(Op::Wait, 8, NO_TIME));
    // b joins at 7000: its wire times are offset by 7000.
    let b = join(&mut c, 2);
    drain(&mut c);
    assert_eq!(c.running(), Some(b));
    c.receive(b, m(Op::Request, 2, FOREVER));
    c.receive(b, m(Op::Request, 3, u64::MAX - 10)); // 7000 + this overflows
    assert_eq!(c.request(b), None);
    assert_eq!(c.counters().requests_forever, 2);
    // The runner's limit never exceeds the kernel's never, whatever its offset.
    c.receive(a, m(Op::Request, 9, FOREVER - 1));
    let outs = drain(&mut c);
    assert!(
        outs.iter().any(send(b, Op::FreeUntil, FOREVER - 1 - 7_000)),
        "{outs:?}"
    );
    c.receive(b, m(Op::Wait, 4, NO_TIME));
    assert!(drain(&mut c).iter().any(send(a, Op::Run, FOREVER - 1)));
    // Nobody asks for anything: the controller reports the standstill once.
    let outs = request_and_wait(&mut c, a, FOREVER);
    assert_eq!(outs.last(), Some(&Output::Idle { at: FOREVER - 1 }));
    c.receive(a, m(Op::Request, 12, FOREVER));
    assert!(!drain(&mut c)
        .iter()
        .any(|o| matches!(o, Output::Idle { .. })));
}

#[test]
fn a_late_joiner_sees_time_from_zero() {
    let mut c = Controller::new(Config::default());
    let a = join(&mut c, 1);
    drain(&mut c);
    request_and_wait(&mut c, a, 5_000);
    c.receive(a, m(Op::Request, 50, 9_000));
    let b = join(&mut c, 2);
    assert_eq!(c.running(), Some(a), "b waits for a's turn to end");
    c.receive(a, m(Op::Wait, 51, NO_TIME));
    assert_eq!(turns(&drain(&mut c)), vec![(b, 0)]);
    c.receive(b, m(Op::Get, 2, NO_TIME));
    assert_eq!(
        drain(&mut c),
        vec![Output::Send {
            to: b,
            msg: Message::ack(2, 0)
        }]
    );
    let outs = request_and_wait(&mut c, b, 100);
    assert_eq!(turns(&outs), vec![(b, 100)]);
    assert_eq!(c.now(), 5_100);
    c.receive(b, m(Op::GetTod, 9, NO_TIME));
    assert_eq!(
        drain(&mut c),
        vec![Output::Send {
            to: b,
            msg: Message::ack(9, 5_100)
        }]
    );
}

#[test]
fn get_tod_is_the_configured_epoch_plus_now() {
    let mut c = Controller::new(Config {
        expected: 0,
        tod_at_zero: 1_700_000_000_000_000_000,
        ..Config::default()
    });
    let a = join(&mut c, 1);
    drain(&mut c);
    request_and_wait(&mut c, a, 250);
    c.receive(a, m(Op::GetTod, 5, NO_TIME));
    assert_eq!(
        drain(&mut c),
        vec![Output::Send {
            to: a,
            msg: Message::ack(5, 1_700_000_000_000_000_250)
        }]
    );
}

#[test]
fn a_disconnected_runner_does_not_stall_the_others() {
    let mut c = Controller::new(Config::default());
    let a = join(&mut c, 1);
    let b = join(&mut c, 2);
    drain(&mut c);
    request_and_wait(&mut c, a, 300);
    assert_eq!(c.running(), Some(b));
    c.disconnect(b);
    assert_eq!(turns(&drain(&mut c)), vec![(a, 300)]);
    assert_eq!(c.phase(b), None);
    // Messages from the departed are counted and ignored.
    c.receive(b, m(Op::Wait, 1, NO_TIME));
    assert_eq!(c.counters().from_unknown, 1);
    assert!(drain(&mut c).is_empty());
}

#[test]
fn a_departed_waiter_raises_the_runners_limit() {
    let mut c = Controller::new(Config::default());
    let a = join(&mut c, 1);
    let b = join(&mut c, 2);
    drain(&mut c);
    request_and_wait(&mut c, a, 300);
    drain(&mut c);
    c.disconnect(a);
    assert_eq!(initiated(&drain(&mut c)), vec![(b, Op::FreeUntil, FOREVER)]);
}

#[test]
fn messages_before_start_and_wrong_direction_disconnect() {
    let mut c = Controller::new(Config::default());
    let a = c.connect();
    c.receive(a, m(Op::Request, 1, 5));
    assert_eq!(
        drain(&mut c),
        vec![Output::Disconnect {
            who: a,
            reason: Violation::BeforeStart(Op::Request)
        }]
    );
    assert_eq!(c.phase(a), None);

    let b = join(&mut c, 1);
    drain(&mut c);
    c.receive(b, m(Op::Run, 2, 5));
    let outs = drain(&mut c);
    assert_eq!(
        outs[0],
        Output::Disconnect {
            who: b,
            reason: Violation::WrongDirection(Op::Run)
        }
    );
    assert_eq!(c.running(), None);

    let d = join(&mut c, 1);
    drain(&mut c);
    c.receive(d, m(Op::Start, 3, 1));
    assert!(drain(&mut c).contains(&Output::Disconnect {
        who: d,
        reason: Violation::SecondStart
    }));
    assert_eq!(c.counters().violations, 3);
}

#[test]
fn a_joiner_that_talks_before_its_ack_is_disconnected() {
    let mut c = Controller::new(Config {
        expected: 2,
        tod_at_zero: 0,
        ..Config::default()
    });
    let a = join(&mut c, 1);
    c.receive(a, m(Op::Get, 2, NO_TIME));
    assert_eq!(
        drain(&mut c),
        vec![Output::Disconnect {
            who: a,
            reason: Violation::WhileJoining(Op::Get)
        }]
    );
}

#[test]
fn harmless_mistakes_are_acked_and_counted() {
    let mut c = Controller::new(Config::default());
    let a = join(&mut c, 1);
    let b = join(&mut c, 2);
    drain(&mut c);
    // a runs; b is joining behind it. a: unknown op, then an UPDATE backwards after moving on.
    c.receive(a, m(Op::Unknown(42), 5, 0));
    c.receive(a, m(Op::Update, 6, 100));
    c.receive(a, m(Op::Update, 7, 50));
    assert_eq!(c.now(), 100);
    c.receive(a, m(Op::Ack, 999, 0));
    let outs = drain(&mut c);
    assert_eq!(
        outs,
        vec![
            Output::Send {
                to: a,
                msg: Message::ack(5, 0)
            },
            Output::Send {
                to: a,
                msg: Message::ack(6, 0)
            },
            Output::Send {
                to: a,
                msg: Message::ack(7, 0)
            },
        ]
    );
    request_and_wait(&mut c, a, FOREVER);
    // Now b runs; a (waiting) sends WAIT and UPDATE again.
    c.receive(a, m(Op::Wait, 8, NO_TIME));
    c.receive(a, m(Op::Update, 9, 10_000));
    assert_eq!(c.running(), Some(b));
    assert_eq!(c.now(), 100);
    let k = c.counters();
    assert_eq!(
        (
            k.unknown_ops,
            k.updates_refused,
            k.acks_unmatched,
            k.waits_not_running,
            k.updates_not_running
        ),
        (1, 1, 1, 1, 1)
    );
}

#[test]
fn an_update_past_another_request_is_accepted_and_counted() {
    let mut c = Controller::new(Config::default());
    let a = join(&mut c, 1);
    let b = join(&mut c, 2);
    drain(&mut c);
    request_and_wait(&mut c, a, 300);
    c.receive(b, m(Op::Update, 1, 400));
    assert_eq!(c.now(), 400);
    assert_eq!(c.counters().updates_past_others, 1);
    c.receive(b, m(Op::Wait, 2, NO_TIME));
    assert_eq!(
        turns(&drain(&mut c)),
        vec![(a, 400)],
        "a runs late, never in the past"
    );
}

#[test]
fn local_participant_takes_turns_and_limits_the_remote_runner() {
    let mut c = Controller::new(Config::default());
    let medium = c.add_local(0);
    let guest = join(&mut c, 1);
    drain(&mut c);
    assert_eq!(c.running(), Some(guest));
    // The guest kicks at 100 (UPDATE first); the medium schedules a delivery at 100 + airtime.
    c.receive(guest, m(Op::Update, 2, 100));
    drain(&mut c);
    let before = c.unacked(guest);
    c.local_request(medium, Some(340)).unwrap();
    let outs = drain(&mut c);
    assert_eq!(initiated(&outs), vec![(guest, Op::FreeUntil, 340)]);
    let seq = match outs[0] {
        Output::Send { msg, .. } => msg.seq,
        _ => unreachable!(),
    };
    assert_eq!(
        c.unacked(guest),
        before + 1,
        "the kick may be answered only after this ACK"
    );
    c.receive(guest, Message::ack(seq, 0));
    assert_eq!(c.unacked(guest), before);
    // The guest idles until the delivery; the medium runs at exactly 340.
    let outs = request_and_wait(&mut c, guest, FOREVER);
    assert_eq!(turns(&outs), vec![(medium, 340)]);
    assert_eq!(c.local_wait(guest), Err(LocalError::NotLocal(guest)));
    // While the medium runs, its call makes the guest ask for the same time; then the medium's
    // turn ends and the guest runs.
    c.receive(guest, m(Op::Get, 3, NO_TIME));
    c.receive(guest, m(Op::Request, 4, 340));
    assert_eq!(c.running(), Some(medium));
    c.local_request(medium, None).unwrap();
    c.local_wait(medium).unwrap();
    assert_eq!(turns(&drain(&mut c)), vec![(guest, 340)]);
    assert_eq!(c.local_wait(medium), Err(LocalError::NotRunning(medium)));
    assert_eq!(
        c.local_request(ParticipantId(99), Some(1)),
        Err(LocalError::Unknown(ParticipantId(99)))
    );
}

#[test]
fn the_gate_holds_local_participants_too() {
    let mut c = Controller::new(Config {
        expected: 1,
        tod_at_zero: 0,
        ..Config::default()
    });
    let medium = c.add_local(0);
    c.local_request(medium, Some(10)).unwrap();
    assert!(turns(&drain(&mut c)).is_empty());
    let a = join(&mut c, 1);
    assert_eq!(turns(&drain(&mut c)), vec![(a, 0)]);
    let outs = request_and_wait(&mut c, a, 20);
    assert_eq!(turns(&outs), vec![(medium, 10)]);
}

#[test]
fn idle_is_reported_once_per_standstill() {
    let mut c = Controller::new(Config::default());
    let a = join(&mut c, 1);
    drain(&mut c);
    let outs = request_and_wait(&mut c, a, FOREVER);
    assert_eq!(
        outs.iter()
            .filter(|o| matches!(o, Output::Idle { .. }))
            .count(),
        1
    );
    c.receive(a, m(Op::Get, 9, NO_TIME));
    assert!(!drain(&mut c)
        .iter()
        .any(|o| matches!(o, Output::Idle { .. })));
    c.receive(a, m(Op::Request, 10, 5));
    assert_eq!(turns(&drain(&mut c)), vec![(a, 5)]);
    let outs = request_and_wait(&mut c, a, FOREVER);
    assert_eq!(outs.last(), Some(&Output::Idle { at: 5 }));
}

#[test]
fn broadcast_goes_to_every_other_started_participant() {
    let mut c = Controller::new(Config::default());
    let a = join(&mut c, 1);
    drain(&mut c);
    request_and_wait(&mut c, a, FOREVER);
    let b = join(&mut c, 2);
    let joining = join(&mut c, 3);
    drain(&mut c);
    c.receive(b, m(Op::Broadcast, 7, 0xabc));
    let outs = drain(&mut c);
    assert_eq!(initiated(&outs), vec![(a, Op::Broadcast, 0xabc)]);
    assert!(outs.contains(&Output::Send {
        to: b,
        msg: Message::ack(7, 0)
    }));
    assert_eq!(c.unacked(joining), 0);
    assert_eq!(c.counters().broadcasts, 1);
}

#[test]
fn a_participant_that_never_acks_does_not_grow_memory() {
    let mut c = Controller::new(Config::default());
    let a = join(&mut c, 1);
    let b = join(&mut c, 2);
    drain(&mut c);
    request_and_wait(&mut c, a, FOREVER);
    for i in 0..100 {
        c.receive(a, m(Op::Request, 100 + i, 1_000 + u64::from(i)));
    }
    assert_eq!(c.unacked(b), MAX_UNACKED);
    assert!(c.counters().acks_missing > 0);
}

#[test]
fn the_schedule_digest_tells_schedules_apart() {
    let run = |second_request: u64| {
        let mut c = Controller::new(Config::default());
        let a = join(&mut c, 1);
        request_and_wait(&mut c, a, 100);
        request_and_wait(&mut c, a, second_request);
        c.schedule_digest()
    };
    assert_eq!(run(200), run(200));
    assert_ne!(run(200), run(201));
}

/// Random traffic from several participants: nothing panics, at most one runs, time never goes
/// backwards, and every RUN carries the current time.
#[test]
fn random_traffic_keeps_the_invariants() {
    let mut state = 0x1234_5678_9abc_def0_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..50 {
        let mut c = Controller::new(Config {
            expected: (round % 3) as usize,
            tod_at_zero: 0,
            ..Config::default()
        });
        let mut ids: Vec<ParticipantId> = Vec::new();
        let local = c.add_local(7);
        let mut last_now = 0;
        for _ in 0..2_000 {
            let r = next();
            match r % 10 {
                0 => ids.push(c.connect()),
                1 if !ids.is_empty() => {
                    let who = ids.remove((r >> 8) as usize % ids.len());
                    c.disconnect(who);
                }
                2 => {
                    // A local participant's turn: set the next request, then wait.
                    let was_running = c.running() == Some(local);
                    c.local_request(local, Some(c.now() + (r >> 40))).unwrap();
                    if was_running {
                        c.local_wait(local).unwrap();
                    }
                }
                _ if !ids.is_empty() => {
                    let who = ids[(r >> 8) as usize % ids.len()];
                    let op = Op::from(((r >> 16) % 11) as u32);
                    let time = match (r >> 24) % 4 {
                        0 => NO_TIME,
                        1 => FOREVER,
                        _ => c.now().saturating_sub(500) + ((r >> 32) % 5_000),
                    };
                    c.receive(who, m(op, (r >> 20) as u32, time));
                }
                _ => ids.push(c.connect()),
            }
            let running = ids
                .iter()
                .chain([&local])
                .filter(|i| c.phase(**i) == Some(Phase::Running))
                .count();
            assert!(running <= 1);
            assert!(c.now() >= last_now);
            last_now = c.now();
            while let Some(o) = c.take_output() {
                match o {
                    Output::Send { to, msg } if msg.op == Op::Run => {
                        let offset = c.participants[&to].offset;
                        assert_eq!(msg.time, c.now() - offset, "RUN carries the current time");
                        assert_eq!(c.running(), Some(to));
                    }
                    Output::RunLocal { who, at } => {
                        assert_eq!(at, c.now());
                        assert_eq!(c.running(), Some(who));
                    }
                    _ => {}
                }
            }
        }
    }
}

#[test]
fn a_joiner_holds_the_runner_at_the_current_time_until_it_is_admitted() {
    let mut c = Controller::new(Config {
        expected: 2,
        ..Config::default()
    });
    let a = join(&mut c, 1);
    let b = join(&mut c, 2);
    let outs = drain(&mut c);
    // a runs first; b waits for admission, so a may not run past now (0) without asking.
    assert_eq!(turns(&outs), vec![(a, 0)]);
    assert_eq!(initiated(&outs), vec![(a, Op::FreeUntil, 0)]);
    // a's first timer: it must ask, and waiting lets b in at the current time.
    let outs = request_and_wait(&mut c, a, 1_000_000);
    assert_eq!(turns(&outs), vec![(b, 0)]);
    assert_eq!(c.now(), 0);
    // Once admitted, b is limited by a's request as usual.
    assert!(outs.iter().any(send(b, Op::FreeUntil, 1_000_000)));
    // A third guest (a reboot) connecting while b runs lowers b's limit to now.
    let c3 = join(&mut c, 3);
    assert_eq!(initiated(&drain(&mut c)), vec![(b, Op::FreeUntil, 0)]);
    let outs = request_and_wait(&mut c, b, FOREVER);
    assert_eq!(turns(&outs), vec![(c3, 0)]);
}

#[test]
fn safe_now_is_the_free_running_guests_limit_unless_it_is_synced() {
    let mut c = Controller::new(Config::default());
    let ap = c.add_local(7);
    let a = join(&mut c, 1);
    drain(&mut c);
    // Alone, a holds no useful limit yet; the local asks for 5_000, which becomes a's limit.
    c.local_request(ap, Some(5_000)).unwrap();
    drain(&mut c);
    c.receive(a, m(Op::Update, 20, 1_000));
    assert_eq!(c.now(), 1_000);
    // a may be anywhere before 5_000 without having said so: not now (1_000), but 5_000.
    assert_eq!(c.safe_now(false), 5_000);
    // Blocked in a kick right after its UPDATE, a is exactly at now.
    assert_eq!(c.safe_now(true), 1_000);
    // With a local runner the controller's time is exact.
    request_and_wait(&mut c, a, FOREVER);
    assert_eq!(c.running(), Some(ap));
    assert_eq!(c.safe_now(false), 5_000);
    assert_eq!(c.now(), 5_000);
}
