//! The replay's floor on one core, measured on the benchmark's timeline: each part of what a replay
//! must do, alone, so the replay can be read as a multiple of it (`bash scripts/bench replay`, which
//! pins this to one core and then times the replay command itself).
//!
//! - read: the lines read, nothing else;
//! - parse: every line parsed into its typed payload (`replay::parse_line`), nothing else;
//! - engine, synthetic: as many signals as the timeline holds, applied by the engine to cases in a
//!   plain vector (a case's life of eight signals, as in `benches/engine.rs`): no store, no routing;
//! - engine, on the timeline: the domain's own calls inside the replay below, each timed where the
//!   services make it (`baton::probe`): signals applied and cases opened, what is due evaluated and
//!   committed, alerts and digests built, measures taken. The timer's own cost, measured on empty
//!   calls, is taken off. This is the engine's work on the timeline's real cases (longer timelines,
//!   calendars, closures ahead, every alert and digest), which the synthetic life leaves out;
//! - output: the alerts and digests the replay publishes, written as its `--json` lines to a sink;
//! - the replay without its output: the in-memory service on the streamed lines, printing nothing.
//!
//! Run: `cargo bench --bench replay_floor -- [TIMELINE]` (default target/bench/timeline-1m.jsonl).

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton::domain::case::Case;
use baton::domain::engine;
use baton::domain::ids::{CaseId, Channel, Identity, TeamId};
use baton::domain::policy::Policy;
use baton::domain::signal::{Signal, SignalKind};
use baton::probe;
use baton::replay::{self, Input, Options};
use jiff::{SignedDuration, Timestamp};

fn team(name: &str) -> TeamId {
    name.parse().expect("a team name")
}

fn main() {
    let path =
        std::env::args().skip(1).find(|a| !a.starts_with("--")).unwrap_or("target/bench/timeline-1m.jsonl".into());
    let policy = Arc::new(Policy::default_policy());
    let open = || {
        BufReader::with_capacity(
            1 << 16,
            std::fs::File::open(&path).expect("the timeline (make it with benches/make_timeline.py)"),
        )
    };

    let start = Instant::now();
    let (mut lines, mut bytes, mut text) = (0usize, 0usize, String::new());
    let mut reader = open();
    while reader.read_line(&mut text).expect("readable") > 0 {
        lines += 1;
        bytes += text.len();
        text.clear();
    }
    let read = start.elapsed().as_secs_f64();
    println!("timeline: {lines} lines, {:.0} MB", bytes as f64 / 1e6);
    println!("read only:   {read:.2} s");

    let start = Instant::now();
    let mut signals = 0usize;
    for line in replay::lines(open(), &policy) {
        if let Input::Signals { inbound, .. } = &line.expect("a good timeline").input {
            signals += inbound.len();
        }
    }
    let parse = start.elapsed().as_secs_f64();
    println!("parse only:  {parse:.2} s ({signals} signals)");

    let engine = engine_alone(&policy, signals);
    println!("engine only, synthetic: {engine:.2} s ({signals} signals applied, no store)");

    // The replay printing nothing, keeping what it published for the output measure below.
    let options = Options { json: true, ..Options::default() };
    let baton =
        baton::service::Baton::new(baton::store::memory::MemoryStore::new(), baton::notify::Discard, policy.clone());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let overhead = timer_overhead();
    let start = Instant::now();
    probe::start();
    let report = runtime
        .block_on(replay::stream_on(&baton, replay::lines(open(), &policy), &options, &mut std::io::sink()))
        .expect("the replay runs");
    let spent = probe::stop();
    let silent = start.elapsed().as_secs_f64();
    // Outside the time, as the command leaves the store to the process's exit.
    drop(baton);
    let part = |(time, calls): (Duration, u64)| (time.as_secs_f64() - overhead * calls as f64).max(0.0);
    let (applied, built, measured) = (part(spent.engine), part(spent.build), part(spent.measure));
    let on_timeline = applied + built + measured;
    println!(
        "engine only, on the timeline: {on_timeline:.2} s (engine {applied:.2} s in {} calls, alerts and digests built \
         {built:.2} s in {}, measures {measured:.2} s in {}; the timer's {:.0} ns a call taken off)",
        spent.engine.1,
        spent.build.1,
        spent.measure.1,
        overhead * 1e9
    );

    let start = Instant::now();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::sink());
    for published in &report.alerts {
        serde_json::to_writer(&mut out, &published.to_json_line()).expect("written");
        out.write_all(b"\n").expect("written");
    }
    for digest in &report.digests {
        serde_json::to_writer(&mut out, digest).expect("written");
        out.write_all(b"\n").expect("written");
    }
    out.flush().expect("written");
    let output = start.elapsed().as_secs_f64();
    println!(
        "output only: {output:.2} s ({} alerts, {} digests as JSON lines)",
        report.alerts.len(),
        report.digests.len()
    );
    let floor = parse + engine + output;
    let floor_on_timeline = parse + on_timeline + output;
    println!("floor, synthetic engine (parse + engine + output): {floor:.2} s");
    println!("floor, engine on the timeline (parse + engine + output): {floor_on_timeline:.2} s");
    println!(
        "replay printing nothing: {silent:.2} s ({:.1}x the floor without output, engine on the timeline; the timer \
         adds about {:.2} s)",
        silent / (parse + on_timeline),
        2.0 * overhead * spent.calls() as f64
    );
    // For scripts/bench, which times the command and divides by these.
    println!("FLOOR {floor:.3} {floor_on_timeline:.3}");
}

/// What the probe's timer adds to each timed call: the time it records for an empty call.
fn timer_overhead() -> f64 {
    const CALLS: u32 = 1_000_000;
    probe::start();
    for _ in 0..CALLS {
        probe::time(probe::Part::Engine, || black_box(()));
    }
    probe::stop().engine.0.as_secs_f64() / f64::from(CALLS)
}

/// `signals` signals applied by the engine alone: cases living the eight-signal life of
/// `benches/engine.rs`, one after another.
fn engine_alone(policy: &Policy, signals: usize) -> f64 {
    let customer = SignalKind::CustomerMessage {
        channel: Channel::Email,
        public: false,
        identity: Identity::Email("max@example.ch".into()),
    };
    let reply =
        |by: &str| SignalKind::AgentReply { channel: Channel::Email, team: Some(team(by)), awaiting_customer: false };
    let life = [
        (0, customer.clone()),
        (90, reply("central")),
        (240, SignalKind::Handoff { to: team("support-ch") }),
        (600, SignalKind::Accept { team: team("support-ch") }),
        (1500, customer),
        (1700, reply("support-ch")),
        (3000, SignalKind::ResolutionProposed),
        (4500, SignalKind::CustomerConfirmation),
    ];
    let first: Timestamp = "2026-04-13T08:00:00Z".parse().expect("an instant");
    let start = Instant::now();
    let mut case: Option<Case> = None;
    for n in 0..signals {
        let (minutes, kind) = &life[n % life.len()];
        let signal = Signal::new(first + SignedDuration::from_mins(*minutes), format!("bench:{n}"), kind.clone());
        match (&mut case, n % life.len()) {
            (_, 0) | (None, _) => {
                let id = CaseId::derive("BTN", &format!("bench:{n}"), 0);
                black_box(case.replace(engine::open(id, team("central"), signal, policy).expect("opens")));
            }
            (Some(case), _) => engine::apply(case, signal, policy).expect("applies"),
        }
    }
    black_box(case);
    start.elapsed().as_secs_f64()
}
