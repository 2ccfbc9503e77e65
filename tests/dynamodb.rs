//! The DynamoDB store on the real DynamoDB Local (see `common/dynamodb.rs`): every item kind, lost
//! updates, dedupe, long timelines, the due index and its cost. Each test has a table of its own.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use baton::domain::case::{Case, EventKind};
use baton::domain::engine;
use baton::domain::ids::{CaseId, Channel, Identity, MessageRef};
use baton::domain::policy::Policy;
use baton::domain::signal::{Signal, SignalKind};
use baton::ingest::{CaseRef, Inbound, Route};
use baton::notify::Collect;
use baton::replay;
use baton::service::{Baton, Outcome};
use baton::store::dynamo::{DynamoStore, Items, Usage, local_client, table};
use baton::store::memory::MemoryStore;
use baton::store::{Cases, Change, Key, Record, Schedule, Store, Write};
use common::dynamodb;
use common::{applied, at, policy, team};
use jiff::{SignedDuration, Timestamp};

fn customer() -> Identity {
    Identity::Email("max@example.ch".into())
}

/// A customer's email that opens or joins their case.
fn customer_mail(source: &str, when: Timestamp) -> Inbound {
    let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity: customer() };
    Inbound {
        signal: Signal::new(when, source, kind),
        route: Route {
            customer: Some(customer()),
            own: vec![MessageRef::email(&format!("<{source}@example.ch>"))],
            team: Some(team("central")),
            ..Route::default()
        },
    }
}

/// A signal for the case named `case` (as the case API sends them).
fn on_case(case: &CaseId, source: &str, when: Timestamp, kind: SignalKind) -> Inbound {
    Inbound {
        signal: Signal::new(when, source, kind),
        route: Route { case: Some(CaseRef::Id(case.clone())), ..Route::default() },
    }
}

fn note() -> SignalKind {
    SignalKind::InternalNote { team: None }
}

/// The story as a list of signals: an email, a handoff, a reply on X, a follow-up, an ack, a
/// resolution: every kind of event and item the store keeps.
fn story(id: Option<&CaseId>) -> Vec<Inbound> {
    let Some(id) = id else { return vec![customer_mail("mail-1", at("2026-04-13T08:00:00Z"))] };
    let x = Identity::X("4242".into());
    vec![
        on_case(id, "api-1", at("2026-04-13T09:00:00Z"), SignalKind::Handoff { to: team("support-ch") }),
        on_case(id, "api-2", at("2026-04-13T09:30:00Z"), SignalKind::Link { identity: x }),
        customer_mail("mail-2", at("2026-04-14T10:00:00Z")),
        on_case(
            id,
            "api-3",
            at("2026-04-14T11:00:00Z"),
            SignalKind::AgentReply { channel: Channel::X, team: Some(team("support-ch")), awaiting_customer: false },
        ),
        on_case(id, "api-4", at("2026-04-14T11:30:00Z"), note()),
        on_case(id, "api-5", at("2026-04-15T08:00:00Z"), SignalKind::ResolutionProposed),
    ]
}

/// Runs the story on a store, with a sweep a day after each signal; returns the case id.
async fn play<S: Store>(baton: &Baton<S, Collect>) -> CaseId {
    let first = &story(None)[0];
    let id = applied(baton.ingest(first).await.unwrap());
    let mut now = first.signal.at;
    for inbound in story(Some(&id)) {
        baton.sweep(inbound.signal.at).await.unwrap();
        assert!(matches!(baton.ingest(&inbound).await.unwrap(), Outcome::Applied { .. }), "{inbound:?}");
        now = inbound.signal.at;
    }
    baton.sweep(now + SignedDuration::from_hours(24 * 3)).await.unwrap();
    id
}

async fn raw(store: &DynamoStore, pk: &str, sk: &str) -> Option<std::collections::HashMap<String, AttributeValue>> {
    let client = local_client(dynamodb::endpoint());
    let out = client
        .get_item()
        .table_name(store.table())
        .key("PK", AttributeValue::S(pk.into()))
        .key("SK", AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    out.item
}

#[tokio::test]
async fn every_item_kind_round_trips_and_matches_the_memory_store() {
    let store = dynamodb::store("round-trip").await;
    let on_dynamo = Baton::new(store.clone(), Collect::default(), policy());
    let in_memory = Baton::new(MemoryStore::new(), Collect::default(), policy());
    let id = play(&on_dynamo).await;
    assert_eq!(play(&in_memory).await, id);

    let whole = store.load_whole(&id).await.unwrap().expect("the case");
    assert_eq!(Some(&whole), in_memory.store.load_whole(&id).await.unwrap().as_ref());
    assert_eq!(store.load(&id).await.unwrap(), in_memory.store.load(&id).await.unwrap());
    assert!(whole.timeline().iter().any(|e| matches!(e.kind, EventKind::Alerted { .. })), "the sweep alerted");
    assert_eq!(whole.event_count(), whole.timeline().len() as u64);

    // The partial load carries the recent events and counts the rest.
    let partial = store.load(&id).await.unwrap().unwrap();
    assert_eq!(partial.timeline(), whole.recent());
    assert_eq!(partial.event_count(), whole.event_count());

    // References: its message ids and both identities point at the case.
    for key in [
        Key::Message(MessageRef::email("<mail-1@example.ch>")),
        Key::Message(MessageRef::email("<mail-2@example.ch>")),
        Key::Customer(customer()),
        Key::Customer(Identity::X("4242".into())),
    ] {
        assert_eq!(store.lookup(&key).await.unwrap(), Some(id.clone()), "{key:?}");
    }
    assert_eq!(store.lookup(&Key::Customer(Identity::X("9".into()))).await.unwrap(), None);

    // Dedupe items carry a TTL in the future; the case item carries the due keys while due.
    let seen = raw(&store, "SEEN#mail-1", "SEEN").await.expect("the dedupe item");
    let expires: u64 = seen["expires_at"].as_n().unwrap().parse().unwrap();
    assert!(expires > jiff::Timestamp::now().as_second() as u64);
    let item = raw(&store, &format!("CASE#{id}"), "CASE").await.unwrap();
    assert_eq!(item["version"].as_n().unwrap(), &whole.version().to_string());
    match whole.next_due() {
        Some(due) => {
            assert_eq!(item["due_at"].as_s().unwrap(), &baton::store::dynamo::instant(due));
            assert!(item["due_shard"].as_s().unwrap().starts_with("DUE#"));
        }
        None => assert!(!item.contains_key("due_at") && !item.contains_key("due_shard")),
    }
    let first = &whole.timeline()[0];
    let event_sk = format!("EV#{}#{}#signal", baton::store::dynamo::instant(first.at), first.source);
    assert!(raw(&store, &format!("CASE#{id}"), &event_sk).await.is_some(), "{event_sk}");
}

/// A closed case has no clock left: it is due once more, when its retention (90 days) is over.
#[tokio::test]
async fn a_closed_case_is_due_only_for_its_deletion() {
    let store = dynamodb::store("closed").await;
    let baton = Baton::new(store.clone(), Collect::default(), policy());
    let id = applied(baton.ingest(&customer_mail("m", at("2026-04-13T08:00:00Z"))).await.unwrap());
    assert_eq!(store.due(at("2026-05-01T00:00:00Z")).await.unwrap(), vec![id.clone()]);
    let propose = on_case(&id, "a1", at("2026-04-13T09:00:00Z"), SignalKind::ResolutionProposed);
    baton.ingest(&propose).await.unwrap();
    let confirm = on_case(&id, "a2", at("2026-04-13T10:00:00Z"), SignalKind::CustomerConfirmation);
    baton.ingest(&confirm).await.unwrap();
    assert!(store.load(&id).await.unwrap().unwrap().is_closed());
    let deletion = at("2026-04-13T10:00:00Z") + SignedDuration::from_hours(90 * 24);
    assert_eq!(store.due(deletion - SignedDuration::from_secs(1)).await.unwrap(), Vec::<CaseId>::new());
    assert_eq!(store.earliest_due().await.unwrap(), Some(deletion));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_signals_on_one_case_all_land_in_order() {
    let store = dynamodb::store("concurrent").await;
    let baton = Arc::new(Baton::new(store.clone(), Collect::default(), policy()));
    let start = at("2026-04-13T08:00:00Z");
    let id = applied(baton.ingest(&customer_mail("open", start)).await.unwrap());

    // Sent in an order unlike their instants, so that many arrive late and rebuild the case.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50i64 {
        let baton = baton.clone();
        let when = start + SignedDuration::from_mins(1 + (i * 37) % 50);
        let inbound = on_case(&id, &format!("note-{i}"), when, note());
        tasks.spawn(async move { baton.ingest(&inbound).await });
    }
    while let Some(result) = tasks.join_next().await {
        let outcome = result.unwrap().expect("every writer gets through");
        assert!(matches!(outcome, Outcome::Applied { .. }), "{outcome:?}");
    }

    let case = store.load_whole(&id).await.unwrap().unwrap();
    assert_eq!(case.version(), 51, "one version per signal: no write was lost or doubled");
    assert_eq!(case.timeline().len(), 51);
    let sources: BTreeSet<&str> = case.timeline().iter().map(|e| &*e.source).collect();
    assert_eq!(sources.len(), 51);
    assert!(case.timeline().windows(2).all(|w| w[0].order() < w[1].order()), "the timeline is in order");
    let minutes: Vec<i64> = case.timeline().iter().map(|e| (e.at.as_second() - start.as_second()) / 60).collect();
    assert_eq!(minutes, (0..=50).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_signal_delivered_ten_times_has_one_effect() {
    let store = dynamodb::store("dedupe").await;
    let baton = Arc::new(Baton::new(store.clone(), Collect::default(), policy()));
    let id = applied(baton.ingest(&customer_mail("open", at("2026-04-13T08:00:00Z"))).await.unwrap());
    let reply = on_case(
        &id,
        "reply-1",
        at("2026-04-13T09:00:00Z"),
        SignalKind::AgentReply { channel: Channel::Email, team: None, awaiting_customer: false },
    );
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (baton, reply) = (baton.clone(), reply.clone());
        tasks.spawn(async move { baton.ingest(&reply).await.unwrap() });
    }
    let mut outcomes = Vec::new();
    while let Some(result) = tasks.join_next().await {
        outcomes.push(result.unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| matches!(o, Outcome::Applied { .. })).count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == Outcome::Duplicate).count(), 9, "{outcomes:?}");
    // And once more, later, in sequence.
    assert_eq!(baton.ingest(&reply).await.unwrap(), Outcome::Duplicate);
    let case = store.load_whole(&id).await.unwrap().unwrap();
    assert_eq!(case.version(), 2);
    assert_eq!(case.timeline().iter().filter(|e| &*e.source == "reply-1").count(), 1);
    // A duplicate of the opening message opens no second case.
    assert_eq!(baton.ingest(&customer_mail("open", at("2026-04-13T08:00:00Z"))).await.unwrap(), Outcome::Duplicate);
}

/// A case of `n` events built by the engine: an email, then internal notes a minute apart.
fn long_case(n: usize, policy: &Policy) -> Case {
    let start = at("2026-04-13T08:00:00Z");
    let first = customer_mail("open", start).signal;
    let mut case = engine::open(CaseId::derive("BTN", "long", 0), team("central"), first, policy).unwrap();
    for i in 1..n {
        let signal = Signal::new(start + SignedDuration::from_mins(i as i64), format!("note-{i}"), note());
        engine::apply(&mut case, signal, policy).unwrap();
    }
    case
}

async fn save(store: &DynamoStore, before: Option<&Case>, after: &Case) {
    let change = Change::new(before, after);
    store.save(Write { cases: vec![change], ..Write::default() }).await.unwrap();
}

#[tokio::test]
async fn a_case_with_5000_events_reads_back_whole() {
    let policy = policy();
    let store = dynamodb::store("long").await;
    let case = long_case(5_000, &policy);

    // Written in writes of 90 events, one item per event: the partition is read in many pages.
    let mut stored: Option<Case> = None;
    for end in (90..5_000).step_by(90).chain([5_000]) {
        let part = case
            .with_timeline(case.timeline()[..end].to_vec(), 0)
            .with_version(stored.as_ref().map_or(0, |s| s.version()));
        save(&store, stored.as_ref(), &part).await;
        stored = Some(part.clone().with_version(part.version() + 1));
    }
    let read = store.load_whole(case.id()).await.unwrap().unwrap();
    assert_eq!(read.timeline().len(), 5_000);
    assert_eq!(read.timeline(), case.timeline());

    // A late handoff at the start changes the owner of every later event: 5,000 changes in one
    // atomic write, more than a transaction's 100 items, so they go in segments.
    let before = read.into_case();
    let mut after = before.clone();
    let handoff =
        Signal::new(at("2026-04-13T08:00:30Z"), "late-handoff", SignalKind::Handoff { to: team("support-ch") });
    engine::apply(&mut after, handoff, &policy).unwrap();
    let change = Change::new(Some(&before), &after);
    assert!(change.events.len() > 4_990, "{} events changed", change.events.len());
    save(&store, Some(&before), &after).await;
    let read = store.load_whole(after.id()).await.unwrap().unwrap();
    assert_eq!(read.timeline().len(), 5_001);
    assert_eq!(read.timeline(), after.timeline());
    assert!(read.timeline()[2..].iter().all(|e| e.owner == team("support-ch")));

    // The next ordinary signal: the case is past the bound of 2,000 events (it was written before
    // there was one), so the signal goes to a continuation, and the case gets one item on top of
    // the segments, that it goes on there.
    let baton = Baton::new(store.clone(), Collect::default(), policy.clone());
    let last = on_case(after.id(), "after-all", at("2026-04-20T08:00:00Z"), note());
    let Outcome::Applied { case: next, .. } = baton.ingest(&last).await.unwrap() else { panic!("not applied") };
    assert_ne!(&next, after.id());
    let read = store.load_whole(after.id()).await.unwrap().unwrap();
    assert_eq!(read.timeline().len(), 5_002);
    assert_eq!(read.timeline().last().unwrap().kind, EventKind::ContinuedIn { case: next.clone() });
    assert_eq!(store.load(after.id()).await.unwrap().unwrap().event_count(), 5_002);
    let next = store.load_whole(&next).await.unwrap().unwrap();
    assert_eq!(&*next.timeline().last().unwrap().source, "after-all");
    assert_eq!(next.owner(), &team("support-ch"));
}

#[tokio::test]
async fn the_due_query_returns_exactly_the_due_cases_and_reads_only_those() {
    let policy = policy();
    let store = dynamodb::store("due").await;
    // 10,000 open cases: 100 wrote on Monday morning and are due by Tuesday; the others wrote on
    // Tuesday evening and are due later.
    let monday = at("2026-04-13T06:00:00Z");
    let tuesday = at("2026-04-14T18:00:00Z");
    let now = at("2026-04-14T20:00:00Z");
    let cases: Vec<Case> = (0..10_000)
        .map(|i| {
            let when = if i % 100 == 7 { monday } else { tuesday } + SignedDuration::from_secs(i);
            let signal = customer_mail(&format!("mail-{i}"), when).signal;
            engine::open(CaseId::derive("BTN", &format!("due-{i}"), 0), team("central"), signal, &policy).unwrap()
        })
        .collect();
    let due: BTreeSet<CaseId> =
        cases.iter().filter(|c| c.next_due().is_some_and(|d| d <= now)).map(|c| c.id().clone()).collect();
    assert_eq!(due.len(), 100);

    let cases = Arc::new(cases);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..16 {
        let (store, cases) = (store.clone(), cases.clone());
        tasks.spawn(async move {
            for case in cases.iter().skip(worker).step_by(16) {
                save(&store, None, case).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }

    let before = store.usage();
    let found: BTreeSet<CaseId> = store.due(now).await.unwrap().into_iter().collect();
    let cost = store.usage() - before;
    assert_eq!(found, due);

    let before = store.usage();
    let everything = store.due(at("2026-06-01T00:00:00Z")).await.unwrap();
    let cost_all = store.usage() - before;
    assert_eq!(everything.len(), 10_000);
    println!(
        "due query: {} of 10000 due: {} requests, {:.1} read units; all 10000 due: {} requests, {:.1} read units",
        found.len(),
        cost.requests,
        cost.read_units,
        cost_all.requests,
        cost_all.read_units
    );
    assert!(cost_all.read_units > 0.0, "DynamoDB Local reports consumed capacity");
    // A query is billed in steps of 4 KB read (half a unit, eventually consistent), at least one
    // step: the due query may cost one step per shard plus the size of the due keys (under 100
    // bytes each), and nothing for the 9,900 cases that are not due.
    let shards = f64::from(table::DUE_SHARDS);
    let bound = 0.5 * (shards + (100.0 * 100.0 / 4096.0_f64).ceil());
    assert_eq!(cost.requests, u64::from(table::DUE_SHARDS));
    assert!(cost.read_units <= bound, "{cost:?}: more than {bound} units");
    assert!(cost_all.read_units > 5.0 * bound, "{cost_all:?}: reading every key costs more");
}

#[tokio::test]
async fn costs_per_signal_and_per_due_case() {
    let store = dynamodb::store("costs").await;
    let baton = Baton::new(store.clone(), Collect::default(), policy());
    let measure = |before: Usage| store.usage() - before;

    let u = store.usage();
    let id = applied(baton.ingest(&customer_mail("open", at("2026-04-13T08:00:00Z"))).await.unwrap());
    let open = measure(u);

    let u = store.usage();
    baton.ingest(&on_case(&id, "n1", at("2026-04-13T08:05:00Z"), note())).await.unwrap();
    let named = measure(u);

    let u = store.usage();
    let mut mail = customer_mail("mail-2", at("2026-04-13T08:10:00Z"));
    mail.route.thread = vec![MessageRef::email("<open@example.ch>")];
    baton.ingest(&mail).await.unwrap();
    let threaded = measure(u);

    let u = store.usage();
    assert_eq!(baton.ingest(&mail).await.unwrap(), Outcome::Duplicate);
    let duplicate = measure(u);

    // The four teams' daily digests of Monday (due at 08:00 local): a sweep before anything is due.
    let u = store.usage();
    let report = baton.sweep(at("2026-04-13T08:11:00Z")).await.unwrap();
    let digests = measure(u);
    assert_eq!((report.cases_due, report.digests.len()), (0, 4));

    let u = store.usage();
    let report = baton.sweep(at("2026-04-13T15:00:00Z")).await.unwrap();
    let sweep = measure(u);
    assert_eq!(report.cases_due, 1);
    assert!(!report.alerts.is_empty());

    for (what, usage) in [
        ("new case", open),
        ("signal naming its case", named),
        ("signal found by its thread", threaded),
        ("duplicate delivery", duplicate),
        ("sweep of one due case", sweep),
        ("sweep recording 4 teams' daily digests (1 quiet open case)", digests),
    ] {
        println!(
            "{what}: {} requests, {:.1} read units, {:.1} write units ({:.1} of them index entries; billed by DynamoDB's rule: {:.1}); items {:?}",
            usage.requests,
            usage.read_units,
            usage.write_units,
            usage.index_write_units,
            usage.billed_write_units,
            usage.items
        );
    }
    // What each write is made of (the write bill, README "Performance"): a new case writes the
    // case, its event, the dedupe item, the message's and the customer's references and the
    // customer index entry; a signal naming its case, the case, its event and the dedupe item.
    let items = |case, timeline, dedupe, reference, customer_index, figures| Items {
        case,
        timeline,
        dedupe,
        reference,
        customer_index,
        figures,
        ..Items::default()
    };
    assert_eq!(open.items, items(1, 1, 1, 2, 1, 0), "{open:?}");
    assert_eq!(named.items, items(1, 1, 1, 0, 0, 0), "{named:?}");
    // The floor (three small items at 2 units each), reached by a note: it stops no clock
    // and leaves the due time where it was.
    assert_eq!((named.billed_write_units, named.index_write_units), (6.0, 0.0), "{named:?}");
    assert_eq!(threaded.items, items(1, 1, 1, 1, 0, 0), "{threaded:?}");
    assert_eq!(duplicate.items, Items::default(), "{duplicate:?}");
    // New case: a reference lookup (customer) and the transaction. Named: one read, one transaction.
    assert_eq!(open.requests, 2, "{open:?}");
    assert_eq!(named.requests, 2, "{named:?}");
    assert_eq!(threaded.requests, 3, "{threaded:?}");
    // The sweep: the outbox query, the shards, the case, the transaction, the outbox entry's delete,
    // and per team one read finding its digest of the day recorded.
    assert_eq!(sweep.requests, 1 + u64::from(table::DUE_SHARDS) + 3 + 4, "{sweep:?}");
    // Per team: the record read, the open-index query, the previous day's figures, the transaction,
    // the outbox entry's delete. The one open case is quiet (nothing in breach yet): no batch read.
    assert_eq!(digests.requests, 1 + u64::from(table::DUE_SHARDS) + 4 * 5, "{digests:?}");
}

/// The sample's output, readable and JSON, from the replay in memory and on DynamoDB Local.
async fn replay_both(sample: &str, json: bool) -> (String, String) {
    let policy = policy();
    let text = std::fs::read_to_string(format!("{}/samples/{sample}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let lines = replay::parse(&text, &policy).unwrap();
    let options = replay::Options { json, ..replay::Options::default() };
    let (mut in_memory, mut on_dynamo) = (Vec::new(), Vec::new());
    replay::run(&lines, policy.clone(), &options, &mut in_memory).await.unwrap();
    let store = dynamodb::store(&format!("replay-{}", sample.replace('.', "-"))).await;
    replay::run_on(Baton::new(store, Collect::default(), policy), &lines, &options, &mut on_dynamo).await.unwrap();
    (String::from_utf8(in_memory).unwrap(), String::from_utf8(on_dynamo).unwrap())
}

#[tokio::test]
async fn the_velcro_replay_reads_the_same_on_dynamodb() {
    for json in [false, true] {
        let (in_memory, on_dynamo) = replay_both("velcro.jsonl", json).await;
        // One reminder per case per business day (issue 17) made the velcro output 79 JSON lines, not 134.
        assert!(in_memory.lines().count() > 50, "{in_memory}");
        assert_eq!(on_dynamo, in_memory, "json: {json}");
    }
    let (in_memory, on_dynamo) = replay_both("retailer.jsonl", false).await;
    assert_eq!(on_dynamo, in_memory);
}

#[test]
fn the_command_replays_on_dynamodb_and_creates_tables() {
    let baton = || std::process::Command::new(env!("CARGO_BIN_EXE_baton"));
    let sample = format!("{}/samples/velcro.jsonl", env!("CARGO_MANIFEST_DIR"));
    let in_memory = baton().args(["replay", &sample]).output().unwrap();
    let on_dynamo = baton().args(["replay", &sample, "--dynamodb-endpoint", dynamodb::endpoint()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&on_dynamo.stderr);
    assert!(on_dynamo.status.success(), "{stderr}");
    assert!(stderr.contains("capacity units"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&on_dynamo.stdout), String::from_utf8_lossy(&in_memory.stdout));

    let name = format!("baton-cli-{}", std::process::id());
    let created =
        baton().args(["create-table", "--table", &name, "--dynamodb-endpoint", dynamodb::endpoint()]).output().unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let again =
        baton().args(["create-table", "--table", &name, "--dynamodb-endpoint", dynamodb::endpoint()]).output().unwrap();
    assert!(!again.status.success());
    let error = String::from_utf8_lossy(&again.stderr);
    assert!(error.contains(&name) && error.to_lowercase().contains("exist"), "{error}");
}

/// Load: 20,000 signals over 1,000 cases from 16 concurrent tasks, 10% of the deliveries duplicated
/// and everything after the openings out of order. Afterwards every timeline holds exactly its
/// distinct signals in time order, and sweeps, two of them at once, publish each due alert once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_thousand_signals_duplicated_and_out_of_order_lose_nothing_and_double_nothing() {
    const CASES: usize = 1_000;
    const PER_CASE: usize = 20;
    let store = dynamodb::store("load").await;
    let baton = Arc::new(Baton::new(store.clone(), Collect::default(), policy()));
    let start = at("2026-04-13T06:00:00Z");
    let mut rng = fastrand::Rng::with_seed(20_000);

    let opening = |case: usize| {
        let identity = Identity::Email(format!("customer{case}@example.net"));
        let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity: identity.clone() };
        Inbound {
            signal: Signal::new(start + SignedDuration::from_secs(case as i64), format!("open-{case}"), kind),
            route: Route {
                customer: Some(identity),
                own: vec![MessageRef::email(&format!("<open-{case}@example.net>"))],
                team: Some(team("central")),
                ..Route::default()
            },
        }
    };
    // The rest of each case, found by its first message: notes, and a reply now and then.
    let follow = |case: usize, n: usize| {
        let kind = if n.is_multiple_of(5) {
            SignalKind::AgentReply { channel: Channel::Email, team: Some(team("central")), awaiting_customer: false }
        } else {
            note()
        };
        let when = start + SignedDuration::from_mins(10 * n as i64) + SignedDuration::from_secs(case as i64);
        Inbound {
            signal: Signal::new(when, format!("case{case}-signal{n}"), kind),
            route: Route {
                case: Some(CaseRef::Message(MessageRef::email(&format!("<open-{case}@example.net>")))),
                ..Route::default()
            },
        }
    };
    let openings: Vec<Inbound> = (0..CASES).map(opening).collect();
    let mut rest: Vec<Inbound> =
        (0..CASES).flat_map(|c| (1..PER_CASE).map(move |n| (c, n))).map(|(c, n)| follow(c, n)).collect();
    rng.shuffle(&mut rest);
    let mut deliveries: Vec<Inbound> = openings.iter().chain(&rest).cloned().collect();
    for _ in 0..deliveries.len() / 10 {
        let copy = deliveries[rng.usize(..deliveries.len())].clone();
        deliveries.insert(rng.usize(CASES..=deliveries.len()), copy);
    }
    assert_eq!(deliveries.len(), CASES * PER_CASE * 11 / 10);

    // The openings first (a note cannot arrive before its case exists), then 16 tasks.
    let deliver = |batch: Vec<Inbound>| {
        let baton = baton.clone();
        async move {
            let mut outcomes = Vec::new();
            for inbound in batch {
                outcomes.push(baton.ingest(&inbound).await.expect("every delivery gets through"));
            }
            outcomes
        }
    };
    let rest = deliveries.split_off(CASES);
    let mut outcomes = Vec::new();
    for phase in [deliveries, rest] {
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in phase.chunks(phase.len().div_ceil(16)) {
            tasks.spawn(deliver(chunk.to_vec()));
        }
        while let Some(result) = tasks.join_next().await {
            outcomes.extend(result.unwrap());
        }
    }
    let applied = outcomes.iter().filter(|o| matches!(o, Outcome::Applied { .. })).count();
    let duplicates = outcomes.iter().filter(|o| **o == Outcome::Duplicate).count();
    assert_eq!(applied, CASES * PER_CASE, "every distinct signal applied once");
    assert_eq!(duplicates, CASES * PER_CASE / 10, "every repeated delivery seen as a duplicate");

    for case in 0..CASES {
        let id = store.lookup(&Key::Message(MessageRef::email(&format!("<open-{case}@example.net>")))).await.unwrap();
        let whole = store.load_whole(&id.expect("the case exists")).await.unwrap().unwrap();
        let sources: BTreeSet<String> = whole.timeline().iter().map(|e| e.source.to_string()).collect();
        let expected: BTreeSet<String> = std::iter::once(format!("open-{case}"))
            .chain((1..PER_CASE).map(|n| format!("case{case}-signal{n}")))
            .collect();
        assert_eq!(sources, expected, "case {case}: exactly its distinct signals");
        assert_eq!(whole.timeline().len(), PER_CASE, "case {case}: none twice");
        assert!(whole.timeline().windows(2).all(|w| w[0].order() < w[1].order()), "case {case}: in time order");
        assert_eq!(whole.version(), PER_CASE as u64, "case {case}: one write per signal");
    }

    // Two sweeps at once, as overlapping invocations would, then one more at the same instant.
    let now = at("2026-04-14T16:00:00Z");
    let (a, b) = tokio::join!(baton.sweep(now), baton.sweep(now));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.failed.is_empty() && b.failed.is_empty(), "{:?} {:?}", a.failed, b.failed);
    let again = baton.sweep(now).await.unwrap();
    let published = baton.notifier.drain();
    let ids: BTreeSet<&str> = published.iter().map(|m| m.id.as_str()).collect();
    assert!(published.len() >= CASES, "every case has a clock past due: {} alerts", published.len());
    assert_eq!(ids.len(), published.len(), "no alert published twice");
    assert!(again.alerts.is_empty() && again.recovered.is_empty(), "the third sweep finds nothing left to publish");
}

/// The write bill (issue 19): a transactional write costs 2 units per KB of each item, so a case
/// item kept under 1 KB costs the floor of 2. After the velcro and retailer replays every case
/// item holds its record compact, is under 1 KB by DynamoDB's sizing, and loads.
#[tokio::test]
async fn case_items_are_compact_and_under_a_kilobyte() {
    let policy = policy();
    for sample in ["velcro.jsonl", "retailer.jsonl"] {
        let text = std::fs::read_to_string(format!("{}/samples/{sample}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let lines = replay::parse(&text, &policy).unwrap();
        let store = dynamodb::store(&format!("compact-{}", sample.replace('.', "-"))).await;
        let baton = Baton::new(store.clone(), Collect::default(), policy.clone());
        let report = replay::run_on(baton, &lines, &replay::Options::default(), &mut std::io::sink()).await.unwrap();
        assert!(!report.cases.is_empty());
        for case in &report.cases {
            let item = raw(&store, &format!("CASE#{}", case.id()), "CASE").await.expect("the case item");
            assert!(matches!(item.get("c"), Some(AttributeValue::B(_))), "{sample}: {} is not compact", case.id());
            let size = baton::store::dynamo::item_size(&item);
            assert!(size < 1024, "{sample}: the item of {} ({} events) is {size} bytes", case.id(), case.event_count());
            let loaded = store.load(case.id()).await.unwrap().expect("loads");
            assert_eq!((loaded.version(), loaded.event_count()), (case.version(), case.event_count()));
        }
    }
}

/// A case item whose compact record is damaged or in an unknown format is an error that names the
/// case, not a panic or an empty case.
#[tokio::test]
async fn a_damaged_compact_case_item_is_a_corrupt_item_error() {
    let store = dynamodb::store("damaged").await;
    let baton = Baton::new(store.clone(), Collect::default(), policy());
    let id = applied(baton.ingest(&customer_mail("damaged", at("2026-04-13T08:00:00Z"))).await.unwrap());
    let pk = format!("CASE#{id}");
    let item = raw(&store, &pk, "CASE").await.unwrap();
    let Some(AttributeValue::B(compact)) = item.get("c") else { panic!("not compact: {item:?}") };
    let mut cut = compact.as_ref().to_vec();
    cut.truncate(cut.len() / 2);
    let mut unknown = compact.as_ref().to_vec();
    unknown[0] = 9;
    for (bytes, reason) in [(cut, "inflating the compact record"), (unknown, "unknown compact record format")] {
        let mut damaged = item.clone();
        damaged.insert("c".into(), AttributeValue::B(bytes.into()));
        let client = local_client(dynamodb::endpoint());
        client.put_item().table_name(store.table()).set_item(Some(damaged)).send().await.unwrap();
        let error = store.load(&id).await.expect_err("a damaged item does not load").to_string();
        assert!(error.contains(&pk) && error.contains(reason), "{error}");
    }
}
