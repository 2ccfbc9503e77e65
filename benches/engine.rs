//! Engine throughput with criterion: signals applied per second (a case's life of eight signals,
//! from the customer's first email to the confirmation) and clocks evaluated per second (the sweep's
//! `evaluate` and `next_due` on a handed-off case with its clocks running).
//! Run: `cargo bench --bench engine` (criterion prints time and throughput per group).

use std::hint::black_box;

use baton::domain::case::Case;
use baton::domain::engine;
use baton::domain::ids::{CaseId, Channel, Identity, TeamId};
use baton::domain::policy::Policy;
use baton::domain::signal::{Signal, SignalKind};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};

fn team(name: &str) -> TeamId {
    name.parse().expect("a team name")
}

/// The life of a case: (minutes after the first email, signal).
fn life() -> Vec<(i64, SignalKind)> {
    let customer = SignalKind::CustomerMessage {
        channel: Channel::Email,
        public: false,
        identity: Identity::Email("max@example.ch".into()),
    };
    let reply =
        |by: &str| SignalKind::AgentReply { channel: Channel::Email, team: Some(team(by)), awaiting_customer: false };
    vec![
        (0, customer.clone()),
        (90, reply("central")),
        (240, SignalKind::Handoff { to: team("support-ch") }),
        (600, SignalKind::Accept { team: team("support-ch") }),
        (1500, customer),
        (1700, reply("support-ch")),
        (3000, SignalKind::ResolutionProposed),
        (4500, SignalKind::CustomerConfirmation),
    ]
}

fn lived(policy: &Policy, signals: &[(i64, SignalKind)]) -> Case {
    let start: Timestamp = "2026-04-13T08:00:00Z".parse().expect("an instant");
    let mut case: Option<Case> = None;
    for (n, (minutes, kind)) in signals.iter().enumerate() {
        let signal = Signal::new(start + SignedDuration::from_mins(*minutes), format!("bench:{n}"), kind.clone());
        match &mut case {
            None => {
                case = Some(
                    engine::open(CaseId::derive("BTN", "bench", 0), team("central"), signal, policy).expect("opens"),
                )
            }
            Some(case) => engine::apply(case, signal, policy).expect("applies"),
        }
    }
    case.expect("at least one signal")
}

fn signals(c: &mut Criterion) {
    let policy = Policy::default_policy();
    let life = life();
    let mut group = c.benchmark_group("engine/signals");
    group.throughput(Throughput::Elements(life.len() as u64));
    group.bench_function("a case's life (8 signals)", |b| b.iter(|| lived(&policy, black_box(&life))));
    group.finish();
}

fn clocks(c: &mut Criterion) {
    let policy = Policy::default_policy();
    // Handed to the region, not yet accepted: the customer's clocks and the handoff clock run.
    let case = lived(&policy, &life()[..3]);
    let running = case.clocks().len() as u64;
    let now = case.next_due().expect("a running clock is due some time");
    let mut group = c.benchmark_group("engine/clocks");
    group.throughput(Throughput::Elements(running));
    group.bench_function(format!("evaluate and next_due ({running} running clocks)"), |b| {
        b.iter(|| {
            let events = engine::evaluate(black_box(&case), black_box(now), &policy);
            (events, engine::next_due(black_box(&case)))
        })
    });
    group.finish();
}

criterion_group!(benches, signals, clocks);
criterion_main!(benches);
