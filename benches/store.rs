//! What the DynamoDB store costs, on DynamoDB Local (the real AWS jar, as the tests start it):
//!
//! 1. Per applied signal, by kind: requests, read and write capacity units, over the cases of a
//!    synthetic timeline (`benches/make_timeline.py`: emails, tweets, Messenger, case API calls).
//! 2. The sweep against the pattern public Lambda examples use, a `Scan` with a filter on the
//!    deadline: 100,000 open cases of which 100 are due, same table, same run. Requests, capacity
//!    units and wall time for both, and the sweep's reads against reading the due cases alone.
//! 3. A team's cases as its daily digest reads them (the sparse `open` index and a batch read):
//!    1,000 handoffs waiting at support-de among 100,000 open cases (`BATON_BENCH_PARTS=team` runs
//!    this part alone).
//!
//! 4. The Monday-morning burst: 10,000 cases whose warning falls due at the same minute, swept as
//!    the sweep function sweeps (its 60 s timeout less the 10 s margin, 16 cases at a time), with
//!    the alerts published to a standard SNS topic on moto with a queue subscribed, read after each
//!    run; runs repeat a minute apart until nothing is left. Cases per second, requests and units per case, and the
//!    queue counted: every case's warning exactly once (`BATON_BENCH_PARTS=burst`;
//!    `BATON_BENCH_BURST` sets another number of cases).
//!
//! Run: `cargo bench --bench store` (or `scripts/bench`). Seeding 100,000 cases takes a few minutes;
//! `BATON_BENCH_CASES` sets another number.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use baton::domain::ids::{Channel, Identity, MessageRef, TeamId};
use baton::domain::policy::Policy;
use baton::domain::signal::{Signal, SignalKind};
use baton::ingest::{Inbound, Route};
use baton::notify::Collect;
use baton::replay::{self, Input};
use baton::service::{Baton, Outcome};
use baton::store::dynamo::{DynamoStore, Usage};
use baton::store::{Cases, Schedule, Teams};
use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};

const DUE: usize = 100;

#[tokio::main]
async fn main() {
    let policy = Arc::new(Policy::default_policy());
    let parts = std::env::var("BATON_BENCH_PARTS").unwrap_or_else(|_| "signals,sweep,team,burst".into());
    if parts.contains("signals") {
        signal_costs(policy.clone()).await;
    }
    if parts.contains("sweep") {
        sweep_against_scan(policy.clone()).await;
    }
    if parts.contains("team") {
        team_index(policy.clone()).await;
    }
    if parts.contains("burst") {
        burst(policy).await;
    }
}

/// The Monday-morning burst (see the module): runs of the sweep a minute apart until every due case
/// was swept, then the queue counted.
async fn burst(policy: Arc<Policy>) {
    use baton::notify::sns::{SnsNotifier, local_client};
    use baton::service::SweepOptions;
    let cases: usize = std::env::var("BATON_BENCH_BURST").ok().map_or(10_000, |n| n.parse().expect("a number"));
    let store = common::dynamodb::store("bench-burst").await;
    let (topic, queue) = common::moto::topic_with_queue("bench-burst", false).await;
    let notifier = SnsNotifier::new(local_client(common::moto::endpoint()), &topic);
    let baton = Baton::new(store.clone(), notifier, policy);
    // Monday 13 April 2026, 14:00 in Zurich: every case opened at 08:00 reaches its warning (6 of
    // its 8 business hours) now.
    let now: Timestamp = "2026-04-13T12:00:00Z".parse().expect("an instant");
    let seeding = Instant::now();
    futures::stream::iter(0..cases)
        .map(|n| {
            let baton = &baton;
            async move {
                let mail = customer_mail(800_000 + n, now - SignedDuration::from_hours(6), "central");
                assert!(matches!(baton.ingest(&mail).await.expect("ingests"), Outcome::Applied { opened: true, .. }));
            }
        })
        .buffer_unordered(32)
        .count()
        .await;
    assert_eq!(store.due(now).await.expect("the due query").len(), cases, "every case is due at once");
    println!(
        "Monday-morning burst: {cases} cases due at the same minute (seeded in {:.0} s); the sweep function's \
         budget per run: 60 s less a 10 s margin, {} cases at a time",
        seeding.elapsed().as_secs_f64(),
        SweepOptions::default().concurrency
    );
    println!(
        "{:<5} {:>7} {:>7} {:>7} {:>8} {:>8} {:>10} {:>10} {:>10}",
        "run", "due", "swept", "left", "alerts", "wall s", "cases/s", "req/case", "WU/case"
    );
    let (mut at, mut run, mut swept_all, mut time_all) = (now, 1, 0, 0.0);
    let mut warnings: BTreeMap<String, usize> = BTreeMap::new();
    loop {
        let before = store.usage();
        let clock = Instant::now();
        let options = SweepOptions {
            stop_at: Some(tokio::time::Instant::now() + std::time::Duration::from_secs(50)),
            ..SweepOptions::default()
        };
        let report = baton.sweeper().sweep_with(at, &options).await.expect("sweeps");
        let (time, used) = (clock.elapsed().as_secs_f64(), store.usage() - before);
        let swept = report.cases_due - report.left_for_next_run;
        assert!(report.failed.is_empty() && report.unpublished.is_empty(), "{:?}", report.failed.first());
        println!(
            "{run:<5} {:>7} {swept:>7} {:>7} {:>8} {time:>8.1} {:>10.0} {:>10.2} {:>10.2}",
            report.cases_due,
            report.left_for_next_run,
            report.alerts.len() + report.recovered.len(),
            swept as f64 / time,
            used.requests as f64 / swept.max(1) as f64,
            used.write_units / swept.max(1) as f64
        );
        swept_all += swept;
        time_all += time;
        // The subscriber reads what arrived, as a real one does between runs (moto, a single Python
        // process, slows down as a queue grows: left to pile up, it, not the sweep, sets the pace).
        for r in common::moto::drain_alerts(&queue).await.iter().filter(|r| r.alert["kind"] == "warning") {
            *warnings.entry(r.alert["case_id"].as_str().expect("a case id").to_string()).or_default() += 1;
        }
        if report.left_for_next_run == 0 && report.alerts_left_for_next_run == 0 {
            break;
        }
        at += SignedDuration::from_mins(1);
        run += 1;
    }
    let doubled = warnings.values().filter(|n| **n > 1).count();
    println!(
        "all runs: {swept_all} cases in {time_all:.1} s, {:.0} cases/s; warnings received: {} cases of {cases} \
         (lost {}), doubled {doubled}",
        swept_all as f64 / time_all,
        warnings.len(),
        cases - warnings.len()
    );
}

async fn signal_costs(policy: Arc<Policy>) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/make_timeline.py");
    let output =
        Command::new("python3").args([script, "--events", "3000", "--seed", "7"]).output().expect("runs python3");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines = replay::read(&output.stdout[..], &policy).expect("the timeline parses");
    let store = common::dynamodb::store("bench-signals").await;
    let baton = Baton::new(store.clone(), Collect::default(), policy);
    let mut costs: BTreeMap<String, (u64, Usage)> = BTreeMap::new();
    for line in &lines {
        let Input::Signals { inbound, .. } = &line.input else { continue };
        for inbound in inbound {
            let before = store.usage();
            let outcome = baton.ingest(inbound).await.expect("ingests");
            let used = store.usage() - before;
            let Outcome::Applied { opened, .. } = outcome else { panic!("line {}: {outcome:?}", line.number) };
            let kind = match (&inbound.signal.kind, opened) {
                (SignalKind::CustomerMessage { channel, .. }, true) => format!("new case ({channel})"),
                (SignalKind::CustomerMessage { channel, .. }, false) => format!("customer message ({channel})"),
                (SignalKind::AgentReply { channel, .. }, _) if inbound.signal.source.starts_with("api:") => {
                    format!("reply via case API ({channel})")
                }
                (SignalKind::AgentReply { channel, .. }, _) => format!("agent reply ({channel})"),
                (other, _) => format!("{} via case API", other.name()),
            };
            let entry = costs.entry(kind).or_default();
            entry.0 += 1;
            entry.1 = entry.1 + used;
        }
    }
    println!("Signal cost on DynamoDB Local ({} timeline lines), mean per applied signal:", lines.len());
    println!(
        "(write units as DynamoDB Local reports them, of them the index entries; billed: by DynamoDB's rule, \
         2 units per KB of each item rounded up one by one, plus the index units)"
    );
    println!(
        "{:<40} {:>7} {:>9} {:>11} {:>11} {:>14} {:>8}",
        "signal", "count", "requests", "read units", "write units", "of them index", "billed"
    );
    for (kind, (count, usage)) in &costs {
        let n = *count as f64;
        println!(
            "{kind:<40} {count:>7} {:>9.2} {:>11.2} {:>11.2} {:>14.2} {:>8.2}",
            usage.requests as f64 / n,
            usage.read_units / n,
            usage.write_units / n,
            usage.index_write_units / n,
            usage.billed_write_units / n
        );
    }
    println!();
    println!(
        "Items each applied signal writes, mean per signal kind (every item of a transaction costs at least 2 units):"
    );
    println!(
        "{:<40} {:>6} {:>6} {:>7} {:>10} {:>10} {:>8} {:>6}",
        "signal", "case", "event", "dedupe", "reference", "cust.index", "figures", "all"
    );
    for (kind, (count, usage)) in &costs {
        let n = *count as f64;
        let i = usage.items;
        let mean = |v: u64| v as f64 / n;
        println!(
            "{kind:<40} {:>6.2} {:>6.2} {:>7.2} {:>10.2} {:>10.2} {:>8.2} {:>6.2}",
            mean(i.case),
            mean(i.timeline),
            mean(i.dedupe),
            mean(i.reference),
            mean(i.customer_index),
            mean(i.figures),
            mean(i.total())
        );
    }
    println!();
    item_sizes(&store).await;
}

/// The table's items by kind (partition and sort key up to their first `#`), with their sizes as
/// DynamoDB bills them: a transactional write costs 2 units per KB of each item it writes.
async fn item_sizes(store: &DynamoStore) {
    let mut sizes: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut pages = store.client().scan().table_name(store.table()).into_paginator().items().send();
    while let Some(item) = pages.next().await {
        let item = item.expect("scans the table");
        let prefix = |key| match item.get(key) {
            Some(AttributeValue::S(s)) => s.split('#').next().unwrap_or_default().to_string(),
            _ => "?".into(),
        };
        let kind = format!("{} {}", prefix("PK"), prefix("SK"));
        sizes.entry(kind).or_default().push(baton::store::dynamo::item_size(&item));
    }
    println!("Items after the timeline, by sort key, in bytes as DynamoDB sizes them:");
    println!("{:<12} {:>7} {:>7} {:>7} {:>7} {:>7}", "item (PK SK)", "count", "mean", "median", "p90", "max");
    for (kind, mut sizes) in sizes {
        sizes.sort_unstable();
        let at = |p: usize| sizes[(sizes.len() * p / 100).min(sizes.len() - 1)];
        let mean = sizes.iter().sum::<usize>() / sizes.len();
        println!("{kind:<12} {:>7} {mean:>7} {:>7} {:>7} {:>7}", sizes.len(), at(50), at(90), sizes[sizes.len() - 1]);
    }
    println!();
}

async fn sweep_against_scan(policy: Arc<Policy>) {
    let cases: usize = std::env::var("BATON_BENCH_CASES").ok().map_or(100_000, |n| n.parse().expect("a number"));
    let store = common::dynamodb::store("bench-sweep").await;
    let baton = Baton::new(store.clone(), Collect::default(), policy);
    // Monday 13 April 2026, 14:00 in Zurich: a case that opened at 08:00 is past its warning (6 of
    // its 8 business hours); one opened a minute ago is not.
    let now: Timestamp = "2026-04-13T12:00:00Z".parse().expect("an instant");
    let seeding = Instant::now();
    let opened = futures::stream::iter(0..cases)
        .map(|n| {
            let baton = &baton;
            async move {
                let at = if n < DUE { now - SignedDuration::from_hours(6) } else { now - SignedDuration::from_mins(1) };
                let outcome = baton.ingest(&customer_mail(n, at, "central")).await.expect("ingests");
                assert!(matches!(outcome, Outcome::Applied { opened: true, .. }), "{outcome:?}");
                if n % 10_000 == 9_999 {
                    eprintln!("  seeded {} cases", n + 1);
                }
            }
        })
        .buffer_unordered(32)
        .count()
        .await;
    println!(
        "Sweep against Scan with a filter: {opened} open cases, {DUE} due (seeded in {:.0} s)",
        seeding.elapsed().as_secs_f64()
    );

    let due = store.due(now).await.expect("the due query");
    assert_eq!(due.len(), DUE, "the due index holds the due cases");
    let before = store.usage();
    for id in &due {
        store.load(id).await.expect("loads");
    }
    let alone = store.usage() - before;

    // The Scan first: the sweep moves the due cases' deadlines on.
    let (scan, scan_time, found) = scan_with_filter(&store, now).await;
    assert_eq!(found, DUE, "the scan finds the same due cases");

    let before = store.usage();
    let clock = Instant::now();
    let report = baton.sweep(now).await.expect("sweeps");
    let sweep_time = clock.elapsed();
    let sweep = store.usage() - before;
    assert_eq!(report.cases_due, DUE);

    println!("{:<36} {:>9} {:>11} {:>11} {:>10}", "", "requests", "read units", "write units", "wall time");
    let row = |what: &str, u: &Usage, t: Option<std::time::Duration>| {
        let t = t.map_or(String::new(), |t| format!("{:.2} s", t.as_secs_f64()));
        println!("{what:<36} {:>9} {:>11.1} {:>11.1} {t:>10}", u.requests, u.read_units, u.write_units);
    };
    row("reading the due cases alone", &alone, None);
    row("sweep (due index, load, write, alert)", &sweep, Some(sweep_time));
    row("Scan with FilterExpression due_at", &scan, Some(scan_time));
    println!(
        "sweep reads / due cases alone: {:.2}x; Scan reads / sweep reads: {:.0}x; Scan time / sweep time: {:.0}x",
        sweep.read_units / alone.read_units,
        scan.read_units / sweep.read_units,
        scan_time.as_secs_f64() / sweep_time.as_secs_f64()
    );
    println!(
        "(the sweep publishes {} alerts; the Scan only finds the cases, and would still have to load and write them)",
        report.alerts.len()
    );
}

/// A team's cases as its daily digest reads them (the `1#` half of its partition of the `open`
/// index, then a batch read): support-de's 1,000 open cases, each a handoff waiting to be taken up,
/// applied through the real ingest, among 100,000 open case items. The 99,000 others stand in as
/// the index sees them (an open case item's keys, `open_team` of another team or support-de's quiet
/// ones as `0#`), written directly: the query never reads them, which is the point being measured.
async fn team_index(policy: Arc<Policy>) {
    const TEAM_CASES: usize = 1_000;
    const OTHERS: usize = 99_000;
    let store = common::dynamodb::store("bench-team-index").await;
    let baton = Baton::new(store.clone(), Collect::default(), policy);
    let now: Timestamp = "2026-04-13T12:00:00Z".parse().expect("an instant");
    let seeding = Instant::now();
    futures::stream::iter(0..TEAM_CASES)
        .map(|n| {
            let baton = &baton;
            async move {
                let Outcome::Applied { case, .. } = baton
                    .ingest(&customer_mail(500_000 + n, now - SignedDuration::from_hours(2), "central"))
                    .await
                    .expect("ingests")
                else {
                    panic!("not applied")
                };
                let handoff = Inbound {
                    signal: Signal::new(
                        now - SignedDuration::from_hours(1),
                        format!("api:bench-handoff-{n}"),
                        SignalKind::Handoff { to: "support-de".parse().expect("a team") },
                    ),
                    route: Route { case: Some(baton::ingest::CaseRef::Id(case)), ..Route::default() },
                };
                assert!(matches!(baton.ingest(&handoff).await.expect("ingests"), Outcome::Applied { .. }));
            }
        })
        .buffer_unordered(16)
        .count()
        .await;
    let teams = ["central", "social", "support-ch", "support-de"];
    let mut written = 0;
    for chunk in (0..OTHERS).collect::<Vec<_>>().chunks(25) {
        let requests = chunk
            .iter()
            .map(|n| {
                let team = teams[n % teams.len()];
                let listed = if team != "support-de" && n % 10 == 0 { 1 } else { 0 };
                let item = std::collections::HashMap::from([
                    ("PK".to_string(), AttributeValue::S(format!("CASE#BTN-FILL{n:06}"))),
                    ("SK".to_string(), AttributeValue::S("CASE".into())),
                    ("open_team".to_string(), AttributeValue::S(team.into())),
                    ("attention".to_string(), AttributeValue::S(format!("{listed}#BTN-FILL{n:06}"))),
                ]);
                let put = aws_sdk_dynamodb::types::PutRequest::builder().set_item(Some(item)).build().expect("a put");
                aws_sdk_dynamodb::types::WriteRequest::builder().put_request(put).build()
            })
            .collect::<Vec<_>>();
        let mut pending = Some(requests);
        while let Some(requests) = pending.take() {
            let out =
                store.client().batch_write_item().request_items(store.table(), requests).send().await.expect("writes");
            pending = out.unprocessed_items.and_then(|mut u| u.remove(store.table())).filter(|r| !r.is_empty());
        }
        written += chunk.len();
        if written % 20_000 < 25 {
            eprintln!("  wrote {written} other case items");
        }
    }
    println!(
        "A team's cases for its digest: {TEAM_CASES} of support-de waiting to be taken up, among {} open (seeded in {:.0} s)",
        TEAM_CASES + OTHERS,
        seeding.elapsed().as_secs_f64()
    );
    let team: TeamId = "support-de".parse().expect("a team");
    let before = store.usage();
    let clock = Instant::now();
    let listed = store.attention_cases(&team).await.expect("the open index");
    let (time, used) = (clock.elapsed(), store.usage() - before);
    assert_eq!(listed.len(), TEAM_CASES, "the index lists the team's cases");
    println!(
        "open index query + BatchGetItem: {} requests, {:.1} read units, {:.2} s ({:.2} read units per case)",
        used.requests,
        used.read_units,
        time.as_secs_f64(),
        used.read_units / TEAM_CASES as f64
    );
}

/// The pattern of public examples: scan the whole table for items whose deadline has passed.
async fn scan_with_filter(store: &DynamoStore, now: Timestamp) -> (Usage, std::time::Duration, usize) {
    let clock = Instant::now();
    let mut usage = Usage::default();
    let mut found = 0;
    let mut start = None;
    loop {
        let page = store
            .client()
            .scan()
            .table_name(store.table())
            .filter_expression("due_at <= :now")
            .expression_attribute_values(":now", AttributeValue::S(baton::store::dynamo::instant(now)))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scans");
        usage.requests += 1;
        usage.read_units += page.consumed_capacity().and_then(|c| c.capacity_units()).unwrap_or(0.0);
        found += page.items().len();
        if usage.requests % 100 == 0 {
            eprintln!("  scanned {} pages in {:.0} s", usage.requests, clock.elapsed().as_secs_f64());
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return (usage, clock.elapsed(), found);
        }
    }
}

fn customer_mail(n: usize, at: Timestamp, team: &str) -> Inbound {
    let identity = Identity::Email(format!("customer{n}@example.net"));
    let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity: identity.clone() };
    Inbound {
        signal: Signal::new(at, format!("ses:bench{n}"), kind),
        route: Route {
            customer: Some(identity),
            own: vec![MessageRef::email(&format!("<bench{n}@example.net>"))],
            team: Some(team.parse::<TeamId>().expect("a team")),
            ..Route::default()
        },
    }
}
