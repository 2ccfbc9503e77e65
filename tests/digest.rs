//! The daily digest end to end: cases and figures in DynamoDB Local, digests over SNS on moto's
//! server read back from an SQS queue. Exactly once per team and day whatever the sweep does (a
//! crash between write and publish, two runs at once, a run that misses the minute), what it lists,
//! and what reading a team's open cases costs.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use baton::domain::ids::{Channel, Identity, MessageRef, TeamId};
use baton::domain::signal::{Signal, SignalKind};
use baton::ingest::api::{self, Request};
use baton::ingest::{Inbound, Route};
use baton::notify::sns::{SnsNotifier, local_client};
use baton::service::Baton;
use baton::store::dynamo::DynamoStore;
use baton::store::{Cases, Teams};
use common::moto::{self, Received};
use common::{applied, at, dynamodb, policy, team};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

fn mail(n: usize, when: Timestamp, to: &str) -> Inbound {
    let identity = Identity::Email(format!("customer-{n}@example.ch"));
    let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity: identity.clone() };
    Inbound {
        signal: Signal::new(when, format!("ses:digest-mail-{n}"), kind),
        route: Route {
            customer: Some(identity),
            own: vec![MessageRef::email(&format!("<digest-mail-{n}@example.ch>"))],
            team: Some(to.parse::<TeamId>().unwrap()),
            ..Route::default()
        },
    }
}

/// A case API call as the case-api function would apply it.
fn call(path: &str, body: serde_json::Value, source: &str, when: Timestamp) -> Inbound {
    match api::parse("POST", path, &body, source.into(), when, &policy()).unwrap() {
        Request::Signal(inbound) => *inbound,
        _ => panic!("{path} is a signal"),
    }
}

async fn sns_baton(store: &DynamoStore, topic: &str) -> Baton<DynamoStore, SnsNotifier> {
    Baton::new(store.clone(), SnsNotifier::new(local_client(moto::endpoint()), topic), policy())
}

fn digests(received: &[Received]) -> Vec<&Received> {
    received.iter().filter(|r| r.alert["schema"] == "baton.digest.v1").collect()
}

/// Digests received per (team, day): each must be 1.
fn per_team_and_day(received: &[Received]) -> BTreeMap<(String, String), usize> {
    let mut count = BTreeMap::new();
    for r in digests(received) {
        let key = (r.alert["team"].as_str().unwrap().to_string(), r.alert["day"].as_str().unwrap().to_string());
        *count.entry(key).or_default() += 1;
    }
    count
}

const TEAMS: [&str; 4] = ["central", "social", "support-ch", "support-de"];

/// Monday 13 April 2026: the teams' digests are due at the start of their business day, 08:00 in
/// Zurich (06:00 UTC) for central, social and support-ch, 09:00 in Berlin (07:00 UTC) for
/// support-de (config/policy.toml). The social desk works every day, weekends too.
fn monday(team: &str) -> (String, String) {
    (team.to_string(), "2026-04-13".to_string())
}

#[tokio::test]
async fn what_a_lead_reads_each_morning() {
    let store = dynamodb::store("digest-content").await;
    let (topic, queue) = moto::topic_with_queue("digest-content", false).await;
    let baton = sns_baton(&store, &topic).await;
    // Monday 08:00 in Zurich (06:00 UTC): case A to central, which nobody answers.
    let a = applied(baton.ingest(&mail(1, at("2026-04-13T06:00:00Z"), "central")).await.unwrap());
    // 08:30: case B to central, answered at 09:00 (first_response met) and handed to support-ch at 10:00.
    let b = applied(baton.ingest(&mail(2, at("2026-04-13T06:30:00Z"), "central")).await.unwrap());
    let reply = call(&format!("/cases/{b}/reply"), json!({"channel": "email"}), "api:r1", at("2026-04-13T07:00:00Z"));
    baton.ingest(&reply).await.unwrap();
    let handoff =
        call(&format!("/cases/{b}/handoff"), json!({"to_team": "support-ch"}), "api:h1", at("2026-04-13T08:00:00Z"));
    baton.ingest(&handoff).await.unwrap();
    // The sweep runs every minute, through Tuesday 09:00 in Berlin.
    let mut now = at("2026-04-13T06:00:00Z");
    while now <= at("2026-04-14T07:00:00Z") {
        let report = baton.sweep(now).await.unwrap();
        assert!(report.unpublished.is_empty() && report.failed.is_empty(), "{report:?}");
        now += SignedDuration::from_mins(1);
    }
    let received = moto::drain(&queue).await;
    let count = per_team_and_day(&received);
    for team in TEAMS {
        assert_eq!(count.get(&monday(team)), Some(&1), "{count:?}");
        assert_eq!(count.get(&(team.to_string(), "2026-04-14".to_string())), Some(&1), "{count:?}");
    }
    let tuesday = |team: &str| {
        digests(&received)
            .into_iter()
            .find(|r| r.alert["team"] == team && r.alert["day"] == "2026-04-14")
            .unwrap_or_else(|| panic!("no digest of {team}"))
    };

    // central's lead on Tuesday: case A in breach (first_response, 8 business hours: due Monday 16:00
    // Zurich), nothing handed to central, and Monday's figures: B's first_response met, A's
    // breached, B's customer_silence met (the reply ended that run and started the next), and
    // central's hold of B from 08:30 to 10:00 (1h 30m, all in its hours).
    let central = tuesday("central");
    let digest = &central.alert;
    assert_eq!(digest["kind"], "digest");
    assert_eq!(digest["at"], "2026-04-14T06:00:00Z");
    assert_eq!(digest["in_breach"].as_array().unwrap().len(), 1, "{digest}");
    let row = &digest["in_breach"][0];
    assert_eq!((row["case_id"].as_str(), row["clock"].as_str()), (Some(a.as_str()), Some("first_response")));
    assert_eq!((row["level"].as_u64(), row["due_at"].as_str()), (Some(1), Some("2026-04-13T14:00:00Z")));
    assert_eq!(row["customer_waiting_since"], "2026-04-13T06:00:00Z");
    assert_eq!(row["acknowledged"], false);
    assert_eq!(digest["handoffs_waiting"], json!([]));
    assert_eq!(
        digest["previous_day"],
        json!({"day": "2026-04-13", "met": {"first_response": 1, "customer_silence": 1}, "breached": {"first_response": 1},
               "held_s": 5400, "held_business_s": 5400})
    );
    assert_eq!(central.subject, "[Baton] central digest 2026-04-14: 1 in breach, 0 to take up");
    let attributes = &central.attributes;
    assert_eq!(attributes["kind"]["Value"], "digest");
    assert_eq!(attributes["team"]["Value"], "central");
    assert_eq!(attributes["level"], json!({"Type": "Number", "Value": "0"}));
    assert_eq!(attributes["in_breach"], json!({"Type": "Number", "Value": "1"}));

    // support-ch's lead: B handed over Monday 10:00 and not taken up for 22 hours; its
    // handoff_accept breached Monday (4 business hours), so B is in breach too; region CH.
    let support = tuesday("support-ch");
    let digest = &support.alert;
    let waiting = &digest["handoffs_waiting"][0];
    assert_eq!(
        (waiting["case_id"].as_str(), waiting["since"].as_str()),
        (Some(b.as_str()), Some("2026-04-13T08:00:00Z"))
    );
    assert_eq!(waiting["age_s"], 22 * 3600);
    assert_eq!(digest["in_breach"][0]["clock"], "handoff_accept");
    assert_eq!(digest["previous_day"]["breached"], json!({"handoff_accept": 1}));
    assert_eq!(support.attributes["region"]["Value"], "CH");
    // Its summary is one line a lead reads on a lock screen.
    assert!(
        digest["summary"]
            .as_str()
            .unwrap()
            .starts_with("support-ch on Tue 14 Apr: 1 case in breach, 1 handoff waiting (oldest 22h)"),
        "{digest}"
    );
}

#[tokio::test]
async fn a_sweep_that_dies_between_recording_and_publishing_a_digest_is_caught_by_the_next() {
    let store = dynamodb::store("digest-crash").await;
    let (topic, queue) = moto::topic_with_queue("digest-crash", false).await;
    let up = sns_baton(&store, &topic).await;
    // The crash: digests recorded in the outbox, and the process dies publishing the first.
    let crashed = Baton::new(store.clone(), Crashing, policy());
    let cut = tokio::time::timeout(std::time::Duration::from_secs(2), crashed.sweep(at("2026-04-13T06:00:00Z"))).await;
    assert!(cut.is_err(), "the sweep died while publishing");
    assert!(moto::drain(&queue).await.is_empty());
    // Within the claim another sweep leaves it alone and records no second one; after it, the next
    // sweep publishes what the crashed one recorded.
    let within = up.sweep(at("2026-04-13T06:00:10Z")).await.unwrap();
    let after = up.sweep(at("2026-04-13T06:01:00Z")).await.unwrap();
    let later = up.sweep(at("2026-04-13T09:00:00Z")).await.unwrap();
    assert_eq!(within.digests.len() + after.digests.len() + later.digests.len(), 4);
    let received = moto::drain(&queue).await;
    let expected: BTreeMap<_, _> = TEAMS.iter().map(|t| (monday(t), 1)).collect();
    assert_eq!(per_team_and_day(&received), expected);
}

/// A notifier standing for a process that dies while publishing: it never returns.
struct Crashing;

impl baton::notify::Notifier for Crashing {
    async fn publish(&self, _: &baton::notify::Outbound) -> Result<(), baton::notify::NotifyError> {
        std::future::pending().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sweeps_at_once_publish_each_digest_once() {
    let store = dynamodb::store("digest-two").await;
    // A standard topic: no FIFO deduplication to hide a double publish.
    let (topic, queue) = moto::topic_with_queue("digest-two", false).await;
    let one = Arc::new(sns_baton(&store, &topic).await);
    let other = Arc::new(sns_baton(&store, &topic).await);
    for n in 0..6 {
        one.ingest(&mail(n, at("2026-04-10T08:00:00Z"), TEAMS[n % 4])).await.unwrap();
    }
    // Both run every minute around Monday's digest times, at the same moment.
    for (from, to) in
        [("2026-04-13T05:58:00Z", "2026-04-13T06:03:00Z"), ("2026-04-13T06:58:00Z", "2026-04-13T07:03:00Z")]
    {
        let mut now = at(from);
        while now <= at(to) {
            let (a, b) = tokio::join!(one.sweep(now), other.sweep(now));
            assert!(a.unwrap().unpublished.is_empty() && b.unwrap().unpublished.is_empty());
            now += SignedDuration::from_mins(1);
        }
    }
    let received = moto::drain(&queue).await;
    let expected: BTreeMap<_, _> = TEAMS.iter().map(|t| (monday(t), 1)).collect();
    assert_eq!(per_team_and_day(&received), expected);
}

#[tokio::test]
async fn a_sweep_that_misses_the_minute_sends_the_digest_late_once_and_none_on_a_day_off() {
    let store = dynamodb::store("digest-late").await;
    let (topic, queue) = moto::topic_with_queue("digest-late", false).await;
    let baton = sns_baton(&store, &topic).await;
    // Saturday 11 and Sunday 12 April: a business day of the social desk only.
    for day in ["2026-04-11", "2026-04-12"] {
        let report = baton.sweep(at(&format!("{day}T10:00:00Z"))).await.unwrap();
        let teams: Vec<&str> = report.digests.iter().map(|d| d.team.as_str()).collect();
        assert_eq!(teams, ["social"], "{day}");
    }
    // Monday: the schedule skipped 08:00 to 08:16 in Zurich; the run at 08:17 sends the three
    // digests due at 08:00, dated 08:00, and support-de's follows at its own 09:00 in Berlin.
    let late = baton.sweep(at("2026-04-13T06:17:00Z")).await.unwrap();
    let teams: Vec<&str> = late.digests.iter().map(|d| d.team.as_str()).collect();
    assert_eq!(teams, ["central", "social", "support-ch"]);
    assert!(late.digests.iter().all(|d| d.at == at("2026-04-13T06:00:00Z")));
    let berlin = baton.sweep(at("2026-04-13T07:00:00Z")).await.unwrap();
    assert_eq!(berlin.digests.iter().map(|d| d.team.as_str()).collect::<Vec<_>>(), ["support-de"]);
    // Later runs that day find them recorded.
    for minute in ["07:01", "09:00", "21:59"] {
        assert!(baton.sweep(at(&format!("2026-04-13T{minute}:00Z"))).await.unwrap().digests.is_empty());
    }
    let received = moto::drain(&queue).await;
    let mut expected: BTreeMap<_, _> = TEAMS.iter().map(|t| (monday(t), 1)).collect();
    expected.insert(("social".into(), "2026-04-11".into()), 1);
    expected.insert(("social".into(), "2026-04-12".into()), 1);
    assert_eq!(per_team_and_day(&received), expected);
}

#[tokio::test]
async fn a_digest_reads_the_team_s_cases_that_need_its_lead_not_the_table() {
    // Given 150 quiet open cases of central, 40 of support-de handed over from central and
    // waiting to be taken up, and 10 more handed over and then closed.
    let store = dynamodb::store("digest-open").await;
    let baton = Baton::new(store.clone(), baton::notify::Discard, policy());
    let start = at("2026-04-13T07:00:00Z");
    for n in 0..150 {
        baton.ingest(&mail(1000 + n, start, "central")).await.unwrap();
    }
    let mut handed = Vec::new();
    for n in 0..50 {
        let id = applied(baton.ingest(&mail(2000 + n, start, "central")).await.unwrap());
        let minute = |m: i64| start + SignedDuration::from_mins(m);
        let handoff =
            call(&format!("/cases/{id}/handoff"), json!({"to_team": "support-de"}), &format!("api:h-{n}"), minute(1));
        applied(baton.ingest(&handoff).await.unwrap());
        handed.push(id);
    }
    for (n, id) in handed.iter().take(10).enumerate() {
        let minute = |m: i64| start + SignedDuration::from_mins(m);
        let resolve = call(&format!("/cases/{id}/resolve"), json!({}), &format!("api:res-{n}"), minute(2));
        applied(baton.ingest(&resolve).await.unwrap());
        let confirm = json!({"confirmed": true});
        let close = call(&format!("/cases/{id}/confirm"), confirm, &format!("api:conf-{n}"), minute(3));
        applied(baton.ingest(&close).await.unwrap());
        assert!(store.load(id).await.unwrap().unwrap().is_closed());
    }
    // When support-de's digest reads its cases.
    let before = store.usage();
    let listed = store.attention_cases(&team("support-de")).await.unwrap();
    let used = store.usage() - before;
    // Then it gets exactly the 40 handoffs waiting, in one index query and one batch read: no scan.
    let mut expected: Vec<String> = handed[10..].iter().map(ToString::to_string).collect();
    expected.sort();
    let got: Vec<String> = listed.iter().map(|c| c.id().to_string()).collect();
    assert_eq!(got, expected);
    println!("support-de's cases to list (40 among 190 open): {used:?}");
    assert_eq!(used.requests, 2, "{used:?}");
    // A consistent read of 40 case items of a few KB each; the table's 190 would be far more.
    assert!(used.read_units < 100.0, "{used:?}");
    // And central's 150 quiet cases are not read at all: its half of the index is empty.
    let before = store.usage();
    assert!(store.attention_cases(&team("central")).await.unwrap().is_empty());
    let used = store.usage() - before;
    assert_eq!((used.requests, used.read_units), (1, 0.0), "{used:?}");
}
