//! The sweep end to end: cases in DynamoDB Local, alerts over SNS on moto's server, read back from an
//! SQS queue subscribed to the topic.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use baton::domain::ids::{Channel, Identity, MessageRef, TeamId};
use baton::domain::signal::{Signal, SignalKind};
use baton::ingest::api::{self, Request};
use baton::ingest::{Inbound, Route};
use baton::notify::sns::{SnsNotifier, local_client};
use baton::replay;
use baton::service::{Baton, Outcome, SweepReport};
use baton::store::dynamo::DynamoStore;
use baton::store::{Schedule, Store};
use common::dynamodb;
use common::moto::{self, Received};
use common::{applied, at, policy};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

fn mail(n: usize, when: Timestamp) -> Inbound {
    let identity = Identity::Email(format!("customer-{n}@example.ch"));
    let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity: identity.clone() };
    Inbound {
        signal: Signal::new(when, format!("ses:mail-{n}"), kind),
        route: Route {
            customer: Some(identity),
            own: vec![MessageRef::email(&format!("<mail-{n}@example.ch>"))],
            team: Some("central".parse::<TeamId>().unwrap()),
            ..Route::default()
        },
    }
}

async fn sns_baton(store: &DynamoStore, topic: &str) -> Baton<DynamoStore, SnsNotifier> {
    Baton::new(store.clone(), SnsNotifier::new(local_client(moto::endpoint()), topic), policy())
}

fn ceil_minute(t: Timestamp) -> Timestamp {
    Timestamp::from_second((t.as_second() + 59).div_euclid(60) * 60).unwrap()
}

/// Sweeps at every minute something is due, up to `until`, as the scheduled sweep would (minutes
/// with nothing due are skipped); returns the reports.
async fn sweep_until<S: Store, N: baton::notify::Notifier>(baton: &Baton<S, N>, until: Timestamp) -> Vec<SweepReport> {
    let mut reports = Vec::new();
    while let Some(due) = baton.store.earliest_due().await.unwrap().filter(|d| *d <= until) {
        let report = baton.sweep(ceil_minute(due)).await.unwrap();
        assert!(report.failed.is_empty() && report.unpublished.is_empty(), "{report:?}");
        reports.push(report);
    }
    reports
}

/// (case, clock, kind, level, at) of an alert as received.
fn identity(r: &Received) -> (String, String, String, u64, String) {
    let a = &r.alert;
    let text = |k: &str| a[k].as_str().unwrap().to_string();
    (text("case_id"), text("clock"), text("kind"), a["level"].as_u64().unwrap(), text("at"))
}

#[tokio::test]
async fn a_breach_produces_exactly_one_alert_per_level_with_attributes_to_filter_on() {
    let store = dynamodb::store("ladder").await;
    let (topic, queue) = moto::topic_with_queue("ladder", true).await;
    let baton = sns_baton(&store, &topic).await;
    // Monday 13 April 2026, 08:00 in Zurich.
    let id = applied(baton.ingest(&mail(1, at("2026-04-13T06:00:00Z"))).await.unwrap());
    // Every due minute, and each of them twice: the second sweep finds nothing new.
    let mut now = at("2026-04-13T06:00:00Z");
    let until = at("2026-04-22T00:00:00Z");
    while let Some(due) = store.earliest_due().await.unwrap().filter(|d| *d <= until) {
        now = ceil_minute(due);
        baton.sweep(now).await.unwrap();
        let again = baton.sweep(now).await.unwrap();
        assert!(again.alerts.is_empty(), "{again:?}");
    }
    assert!(now > at("2026-04-20T00:00:00Z"));

    let received = moto::drain_alerts(&queue).await;
    let first_response: Vec<&Received> = received.iter().filter(|r| r.alert["clock"] == "first_response").collect();
    let mut per_step: BTreeMap<(String, u64), usize> = BTreeMap::new();
    for r in &first_response {
        *per_step
            .entry((r.alert["kind"].as_str().unwrap().to_string(), r.alert["level"].as_u64().unwrap()))
            .or_default() += 1;
    }
    assert_eq!(per_step.remove(&("warning".into(), 0)), Some(1));
    assert_eq!(per_step.remove(&("breach".into(), 1)), Some(1));
    assert_eq!(per_step.remove(&("escalation".into(), 2)), Some(1));
    assert_eq!(per_step.remove(&("escalation".into(), 3)), Some(1));
    // And no reminder: by default the daily digest carries a case in breach.
    assert!(per_step.is_empty(), "{per_step:?}");
    let unique: BTreeSet<_> = received.iter().map(identity).collect();
    assert_eq!(unique.len(), received.len(), "no alert arrives twice");

    // The breach as a lead receives it: subject, attributes for filter policies, the v1 body.
    let breach = first_response.iter().find(|r| r.alert["kind"] == "breach").unwrap();
    assert_eq!(breach.subject, format!("[Baton] {id} central: breach, first_response"));
    assert!(breach.subject.len() < 100);
    let attributes = &breach.attributes;
    assert_eq!(attributes["level"], json!({"Type": "Number", "Value": "1"}));
    assert_eq!(attributes["team"]["Value"], "central");
    assert_eq!(attributes["clock"]["Value"], "first_response");
    assert_eq!(attributes["kind"]["Value"], "breach");
    assert!(attributes.get("region").is_none(), "central has no region: {attributes}");
    let alert = &breach.alert;
    assert_eq!(alert["schema"], "baton.alert.v1");
    assert_eq!(alert["case_id"], id.to_string());
    // 8 business hours from Monday 08:00 in Zurich: Monday 16:00, 14:00 UTC.
    assert_eq!(alert["due_at"], "2026-04-13T14:00:00Z");
    assert_eq!(alert["customer_waiting_since"], "2026-04-13T06:00:00Z");
    assert!(alert["summary"].as_str().unwrap().starts_with("Breach: central has not answered"), "{alert}");
    assert_eq!(alert["timeline"][0]["event"], "customer_message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sweeps_at_once_publish_each_alert_once() {
    let store = dynamodb::store("two-sweeps").await;
    // A standard topic: no FIFO deduplication to hide a double publish.
    let (topic, queue) = moto::topic_with_queue("two-sweeps", false).await;
    let one = Arc::new(sns_baton(&store, &topic).await);
    let other = Arc::new(sns_baton(&store, &topic).await);
    for n in 0..20 {
        one.ingest(&mail(n, at("2026-04-13T06:00:00Z") + SignedDuration::from_mins(n as i64))).await.unwrap();
    }
    let mut raised = 0;
    let until = at("2026-04-15T00:00:00Z");
    while let Some(due) = store.earliest_due().await.unwrap().filter(|d| *d <= until) {
        let now = ceil_minute(due);
        let (a, b) = (one.clone(), other.clone());
        let (ra, rb) = tokio::join!(
            tokio::spawn(async move { a.sweep(now).await.unwrap() }),
            tokio::spawn(async move { b.sweep(now).await.unwrap() })
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert!(ra.unpublished.is_empty() && rb.unpublished.is_empty());
        raised += ra.alerts.len() + rb.alerts.len() + ra.recovered.len() + rb.recovered.len();
    }
    let received = moto::drain_alerts(&queue).await;
    let unique: BTreeSet<_> = received.iter().map(identity).collect();
    // By Wednesday: the warning, the breach and level 2 of first_response for each of the 20 cases.
    assert_eq!(raised, 20 * 3);
    assert_eq!(received.len(), raised, "each alert raised is published once");
    assert_eq!(unique.len(), received.len(), "and none twice");
}

#[tokio::test]
async fn sns_failing_on_the_first_try_loses_no_alert() {
    let store = dynamodb::store("sns-down").await;
    let (topic, queue) = moto::topic_with_queue("sns-down", true).await;
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = Baton::new(
        store.clone(),
        SnsNotifier::new(local_client(&format!("http://127.0.0.1:{closed}")), &topic),
        policy(),
    );
    let up = sns_baton(&store, &topic).await;
    down.ingest(&mail(1, at("2026-04-13T06:00:00Z"))).await.unwrap();

    // The warning is due at 12:00 UTC: raised and recorded, but SNS is down.
    let failed = down.sweep(at("2026-04-13T12:00:00Z")).await.unwrap();
    assert_eq!(failed.alerts.len(), 1, "{failed:?}");
    // With the four teams' daily digests of that Monday, recorded and not published either.
    assert_eq!(failed.unpublished.len(), 5, "{failed:?}");
    assert!(moto::drain(&queue).await.is_empty());
    // The step is recorded: sweeping again does not raise it a second time...
    let next = up.sweep(at("2026-04-13T12:01:00Z")).await.unwrap();
    assert!(next.alerts.is_empty(), "{next:?}");
    // ...and the outbox hands it to the next sweep, which publishes it.
    assert_eq!(next.recovered.len(), 1, "{next:?}");
    assert_eq!(next.recovered[0].kind, "warning");
    assert_eq!(next.digests.len(), 4, "{next:?}");
    let received = moto::drain_alerts(&queue).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].alert["kind"], "warning");
    assert_eq!(received[0].alert, serde_json::to_value(&failed.alerts[0].0).unwrap());
    // Nothing is left in the outbox, and no digest goes out twice.
    let last = up.sweep(at("2026-04-13T12:02:00Z")).await.unwrap();
    assert!(last.recovered.is_empty() && last.digests.is_empty(), "{last:?}");
    assert!(moto::drain(&queue).await.is_empty());
}

#[tokio::test]
async fn a_sweep_that_crashed_before_publishing_is_caught_by_the_next() {
    // The crash: the ladder step and its outbox entry are written, and the process dies before
    // publishing. Modelled by a sweep whose notifier hangs up and whose claim is never released.
    let store = dynamodb::store("crash").await;
    let (topic, queue) = moto::topic_with_queue("crash", false).await;
    let up = sns_baton(&store, &topic).await;
    up.ingest(&mail(1, at("2026-04-13T06:00:00Z"))).await.unwrap();
    let crashed = Baton::new(store.clone(), Crashing, policy());
    let sweep = crashed.sweep(at("2026-04-13T12:00:00Z"));
    let cut = tokio::time::timeout(std::time::Duration::from_secs(2), sweep).await;
    assert!(cut.is_err(), "the sweep died while publishing");
    assert!(moto::drain_alerts(&queue).await.is_empty());
    // Within the claim, another sweep leaves it alone; after it, the next sweep publishes it.
    assert!(up.sweep(at("2026-04-13T12:00:10Z")).await.unwrap().recovered.is_empty());
    assert_eq!(up.sweep(at("2026-04-13T12:01:00Z")).await.unwrap().recovered.len(), 1);
    assert_eq!(moto::drain_alerts(&queue).await.len(), 1);
}

/// A notifier standing for a process that dies while publishing: it never returns.
struct Crashing;

impl baton::notify::Notifier for Crashing {
    async fn publish(&self, _: &baton::notify::Outbound) -> Result<(), baton::notify::NotifyError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn an_acknowledged_level_stays_quiet_until_its_snooze_ends() {
    let store = dynamodb::store("ack").await;
    let (topic, queue) = moto::topic_with_queue("ack", true).await;
    let baton = sns_baton(&store, &topic).await;
    let id = applied(baton.ingest(&mail(1, at("2026-04-13T06:00:00Z"))).await.unwrap());
    // Warning at 12:00, breach at 14:00 UTC on Monday.
    sweep_until(&baton, at("2026-04-13T14:00:00Z")).await;
    assert_eq!(moto::drain_alerts(&queue).await.len(), 2);

    // The lead acknowledges level 1 for two business days (two of central's 9-hour days).
    let body = json!({"clock": "first_response", "level": 1, "by": "lead-ch", "snooze": "2d"});
    let Request::Signal(ack) = api::parse(
        "POST",
        &format!("/cases/{id}/ack"),
        &body,
        "api:ack-1".into(),
        at("2026-04-13T14:05:00Z"),
        &policy(),
    )
    .unwrap() else {
        panic!("an ack is a signal")
    };
    assert!(matches!(baton.ingest(&ack).await.unwrap(), Outcome::Applied { .. }));

    // Level 2 was due Tuesday 14:00 UTC; the snooze runs to Wednesday 16:05 Zurich (14:05 UTC).
    sweep_until(&baton, at("2026-04-15T14:04:00Z")).await;
    let quiet = moto::drain_alerts(&queue).await;
    assert!(quiet.is_empty(), "quiet while snoozed: {quiet:?}");
    sweep_until(&baton, at("2026-04-15T14:06:00Z")).await;
    let after = moto::drain_alerts(&queue).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!((after[0].alert["kind"].as_str(), after[0].alert["level"].as_u64()), (Some("escalation"), Some(2)));
    assert_eq!(after[0].alert["at"], "2026-04-15T14:05:00Z");
}

#[tokio::test]
async fn the_velcro_replay_prints_what_sns_delivers() {
    let store = dynamodb::store("velcro-sns").await;
    let (topic, queue) = moto::topic_with_queue("velcro-sns", true).await;
    let baton = sns_baton(&store, &topic).await;
    let text = std::fs::read_to_string(format!("{}/samples/velcro.jsonl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let lines = replay::parse(&text, &baton.policy).unwrap();
    let mut out = Vec::new();
    let options = replay::Options { json: true, ..replay::Options::default() };
    replay::run_on(baton, &lines, &options, &mut out).await.unwrap();

    let mut printed: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let mut alert: serde_json::Value = serde_json::from_str(l).unwrap();
            alert.as_object_mut().unwrap().remove("published_at").expect("published_at");
            alert
        })
        .collect();
    // The alerts and the daily digests alike.
    let mut delivered: Vec<serde_json::Value> = moto::drain(&queue).await.into_iter().map(|r| r.alert).collect();
    let schemas: BTreeSet<&str> = printed.iter().filter_map(|m| m["schema"].as_str()).collect();
    assert_eq!(schemas, BTreeSet::from(["baton.alert.v1", "baton.digest.v1"]));
    assert!(printed.len() > 50, "{} messages", printed.len());
    let key = |a: &serde_json::Value| a.to_string();
    printed.sort_by_key(key);
    delivered.sort_by_key(key);
    assert_eq!(delivered, printed);
}

#[tokio::test]
async fn the_readme_filter_policy_delivers_only_what_the_lead_asked_for() {
    let store = dynamodb::store("filter").await;
    let (topic, everything) = moto::topic_with_queue("filter", false).await;
    // The README's policy: escalations of level 2 and up in region CH.
    let policy = r#"{"region": ["CH"], "level": [{"numeric": [">=", 2]}]}"#;
    let lead = moto::subscribe_queue(&topic, &format!("lead-ch-{}", std::process::id()), false, Some(policy)).await;
    let baton = sns_baton(&store, &topic).await;
    // One case in support-ch (region CH), one in central (no region).
    let mut swiss = mail(1, at("2026-04-13T06:00:00Z"));
    swiss.route.team = Some("support-ch".parse().unwrap());
    baton.ingest(&swiss).await.unwrap();
    baton.ingest(&mail(2, at("2026-04-13T06:00:00Z"))).await.unwrap();
    sweep_until(&baton, at("2026-04-20T00:00:00Z")).await;

    let all = moto::drain(&everything).await;
    let wanted: BTreeSet<_> = all
        .iter()
        .filter(|r| r.alert["region"] == "CH" && r.alert["level"].as_u64() >= Some(2))
        .map(identity)
        .collect();
    let got: BTreeSet<_> = moto::drain(&lead).await.iter().map(identity).collect();
    assert!(all.iter().any(|r| r.alert["region"].is_null()), "central's alerts went to the topic too");
    assert!(wanted.len() >= 2, "{wanted:?}");
    assert_eq!(got, wanted);
}

#[tokio::test]
async fn the_sweep_handler_runs_on_the_scheduled_event() {
    use baton::handler::sweep;
    use lambda_http::aws_lambda_events::eventbridge::EventBridgeEvent;
    let path = format!("{}/tests/fixtures/eventbridge-scheduled.json", env!("CARGO_MANIFEST_DIR"));
    let event: EventBridgeEvent<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let store = dynamodb::store("sweep-handler").await;
    let (topic, queue) = moto::topic_with_queue("sweep-handler", true).await;
    let baton = sns_baton(&store, &topic).await;
    baton.ingest(&mail(1, at("2026-04-13T06:00:00Z"))).await.unwrap();
    let now = at("2026-04-13T12:00:00Z");

    // Less time left than the margin: nothing is started, the case stays due.
    let short = sweep::handle(&baton.sweeper(), &event, now, std::time::Duration::from_secs(5)).await.unwrap();
    assert_eq!((short.summary["cases_due"].as_u64(), short.summary["left_for_next_run"].as_u64()), (Some(1), Some(1)));
    assert!(!short.incomplete);

    let run = sweep::handle(&baton.sweeper(), &event, now, std::time::Duration::from_secs(60)).await.unwrap();
    assert_eq!(run.summary["alerts"], 1, "{}", run.summary);
    assert!(!run.incomplete);
    let metrics: serde_json::Value = serde_json::from_str(&run.metrics[0]).unwrap();
    assert_eq!(metrics["AlertsSent"], 1.0);
    assert_eq!(moto::drain_alerts(&queue).await.len(), 1);

    // SNS unreachable: the run says it is incomplete (the function then fails the invocation).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = Baton::new(
        store.clone(),
        SnsNotifier::new(local_client(&format!("http://127.0.0.1:{closed}")), &topic),
        policy(),
    );
    let failed = sweep::handle(&down.sweeper(), &event, at("2026-04-13T14:00:00Z"), std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert!(failed.incomplete, "{}", failed.summary);
    assert_eq!(failed.summary["unpublished"], 1);
}
