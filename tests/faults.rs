//! Faults in the middle of a run: DynamoDB Local stopped and started again, and SNS unreachable for a
//! while. The functions' handlers are called as the platforms call them: a failed delivery answers
//! 5xx (the webhook platforms retry), a failed mail or sweep fails its invocation (Lambda's async
//! retry, or the next scheduled run). After recovery nothing is missing and nothing is doubled.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use baton::domain::ids::{Channel, Identity, MessageRef, TeamId};
use baton::domain::signal::{Signal, SignalKind};
use baton::handler;
use baton::ingest::{Inbound, Route, signature};
use baton::notify::Collect;
use baton::notify::mail::CollectMail;
use baton::notify::sns::{SnsNotifier, local_client as sns_client};
use baton::service::Baton;
use baton::store::dynamo::{DynamoStore, local_client, table};
use baton::store::{Cases, Key, Store};
use common::{WEBHOOK_SECRET, dynamodb, fixture, moto, secrets, service};
use common::{at, policy};
use futures::StreamExt;
use http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use lambda_http::aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::{Value, json};

fn scheduled() -> EventBridgeEvent<Value> {
    serde_json::from_value(fixture("eventbridge-scheduled.json")).unwrap()
}

/// A generic webhook delivery (the platform's own id and its JSON body), as a signed POST.
#[derive(Debug, Clone)]
struct Delivery {
    id: String,
    body: Vec<u8>,
    at: Timestamp,
}

/// Customer `n`'s four events: their email, the central team's reply, their follow-up to it, and
/// the handoff to support-ch.
fn customer_events(n: usize, start: Timestamp) -> Vec<Delivery> {
    let first = format!("email:<c{n}-1@example.ch>");
    let reply = format!("email:<c{n}-2@brand.example>");
    let customer = json!({"channel": "email", "id": format!("c{n}@example.ch")});
    let when = |hours: i64| start + SignedDuration::from_mins(n as i64) + SignedDuration::from_hours(hours);
    let events = [
        json!({"type": "customer_message", "customer": customer, "message": first, "team": "central",
               "text": "Where is my parcel?"}),
        json!({"type": "agent_reply", "case": first, "message": reply, "team": "central"}),
        json!({"type": "customer_message", "customer": customer, "in_reply_to": [reply],
               "message": format!("email:<c{n}-3@example.ch>")}),
        json!({"type": "handoff", "case": first, "team": "support-ch"}),
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(i, mut body)| {
            let id = format!("evt_c{n}_{}", i + 1);
            body["id"] = json!(id);
            body["at"] = json!(when(i as i64));
            Delivery { id, body: serde_json::to_vec(&body).unwrap(), at: when(i as i64) }
        })
        .collect()
}

/// Posts a delivery to the webhook function, signed as the platform signs it now.
async fn post<S: Store>(baton: &Baton<S, Collect>, delivery: &Delivery) -> http::Response<String> {
    let now = Timestamp::now();
    let stamp = now.as_second().to_string();
    let signature = signature::sign_standard(WEBHOOK_SECRET, &delivery.id, now.as_second(), &delivery.body).unwrap();
    let request = http::Request::builder()
        .method("POST")
        .uri("/webhooks/generic")
        .header("webhook-id", &delivery.id)
        .header("webhook-timestamp", &stamp)
        .header("webhook-signature", &signature)
        .body(delivery.body.clone())
        .unwrap();
    handler::webhook::handle(&baton.intake(), &secrets(), &request, now).await
}

/// Posts deliveries ten at a time; their statuses, in order.
async fn post_all<S: Store>(baton: &Baton<S, Collect>, deliveries: &[Delivery]) -> Vec<(StatusCode, String)> {
    futures::stream::iter(deliveries)
        .map(|d| async move {
            let response = post(baton, d).await;
            (response.status(), response.body().clone())
        })
        .buffered(10)
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_stopped_and_started_again_mid_run_loses_nothing_and_doubles_nothing() {
    const CUSTOMERS: usize = 30;
    let data = tempfile::tempdir().unwrap();
    let port = service::free_port();
    let running = dynamodb::start_on_disk(data.path(), port);
    let client = local_client(&running.endpoint);
    table::create(&client, "baton-faults").await.expect("creating the table");
    let baton = Baton::new(DynamoStore::new(client, "baton-faults"), Collect::default(), policy());

    let start = at("2026-04-13T06:00:00Z");
    let mut deliveries: Vec<Delivery> = (0..CUSTOMERS).flat_map(|n| customer_events(n, start)).collect();
    deliveries.sort_by_key(|d| d.at);
    let (before, rest) = deliveries.split_at(50);
    let (during, after) = rest.split_at(30);

    for (status, body) in post_all(&baton, before).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // DynamoDB stops. Every delivery fails with a status the platform retries, the mail and the
    // sweep fail their invocations, and nothing answers 2xx.
    service::stop(running);
    let outage = Instant::now();
    for (status, body) in post_all(&baton, during).await {
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert!(body.contains("the store failed"), "{body}");
    }
    let mail = fixture("ses-customer.json");
    let mailer = CollectMail::default();
    let failed_mail = handler::email::handle(&baton.intake(), &mailer, &mail).await;
    assert!(failed_mail.is_err(), "the mail's invocation fails, so Lambda retries it");
    let failed_sweep = handler::sweep::handle(&baton.sweeper(), &scheduled(), start, Duration::from_secs(60)).await;
    assert!(failed_sweep.is_err(), "the sweep's invocation fails; the next scheduled run does its work");
    let failed_in = outage.elapsed();

    // DynamoDB starts again on the same files. The platforms retry what failed, deliver the rest,
    // and deliver 10% of everything a second time.
    let running = dynamodb::start_on_disk(data.path(), port);
    let down_for = outage.elapsed();
    for (status, body) in post_all(&baton, during).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    handler::email::handle(&baton.intake(), &mailer, &mail).await.expect("the retried mail");
    for (status, body) in post_all(&baton, after).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let mut again: Vec<Delivery> = deliveries.clone();
    fastrand::seed(8);
    fastrand::shuffle(&mut again);
    again.truncate(deliveries.len() / 10);
    for (status, body) in post_all(&baton, &again).await {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["duplicates"], 1, "{body}");
    }

    // Every customer has one case holding exactly their four events, in order, written four times.
    let mut cases = BTreeSet::new();
    for n in 0..CUSTOMERS {
        let identity = Identity::Email(format!("c{n}@example.ch"));
        let id = baton.store.lookup(&Key::Customer(identity)).await.unwrap().expect("the customer's case");
        let case = baton.store.load_whole(&id).await.unwrap().unwrap();
        let sources: Vec<&str> = case.timeline().iter().map(|e| &*e.source).collect();
        let expected: Vec<String> = (1..=4).map(|i| format!("webhook:evt_c{n}_{i}")).collect();
        assert_eq!(sources, expected, "customer {n}");
        assert_eq!(case.version(), 4, "customer {n}: one write per event");
        assert_eq!(case.owner().as_str(), "support-ch");
        cases.insert(id);
    }
    assert_eq!(cases.len(), CUSTOMERS);
    let lea = Key::Customer(Identity::Email("lea.kunde@example.ch".into()));
    let lea = baton.store.lookup(&lea).await.unwrap().expect("the retried mail's case");
    assert_eq!(baton.store.load_whole(&lea).await.unwrap().unwrap().timeline().len(), 1);
    // And the sweep that failed is done by the next run.
    let swept = handler::sweep::handle(
        &baton.sweeper(),
        &scheduled(),
        start + SignedDuration::from_hours(12),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert!(!swept.incomplete, "{}", swept.summary);
    println!(
        "faults: DynamoDB Local down for {:.1} s; {} deliveries, 1 mail and 1 sweep failed in {:.1} s and were retried; \
         {} deliveries and {} duplicates in all; {} cases, none missing or doubled",
        down_for.as_secs_f64(),
        during.len(),
        failed_in.as_secs_f64(),
        deliveries.len(),
        again.len(),
        cases.len() + 1
    );
    drop(running);
}

/// A TCP gate in front of a service: while open it forwards every connection; shut, it cuts the
/// open ones and hangs up on new ones at once, as an unreachable service does.
struct Gate {
    endpoint: String,
    open: tokio::sync::watch::Sender<bool>,
}

impl Gate {
    async fn to(target: &str) -> Gate {
        let target = target.trim_start_matches("http://").to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (open, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut watch = watch.clone();
                if !*watch.borrow() {
                    continue; // dropped: the caller sees the connection closed
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|open| !open) => {}
                    }
                });
            }
        });
        Gate { endpoint, open }
    }

    fn set(&self, open: bool) {
        self.open.send_replace(open);
    }
}

/// SNS is unreachable from the warnings until after the breaches: the alerts raised meanwhile wait
/// in the outbox, the sweep's invocations fail, and once SNS answers again each alert arrives once
/// (on a standard topic, which does not deduplicate).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sns_unreachable_for_hours_delays_alerts_but_loses_and_doubles_none() {
    const CASES: usize = 10;
    let store = dynamodb::store("faults-sns").await;
    let (topic, queue) = moto::topic_with_queue("faults-sns", false).await;
    let gate = Gate::to(moto::endpoint()).await;
    let baton = Baton::new(store, SnsNotifier::new(sns_client(&gate.endpoint), &topic), policy());
    for n in 0..CASES {
        let identity = Identity::Email(format!("s{n}@example.ch"));
        let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity: identity.clone() };
        let inbound = Inbound {
            signal: Signal::new(at("2026-04-13T06:00:00Z"), format!("ses:s{n}"), kind),
            route: Route {
                customer: Some(identity),
                own: vec![MessageRef::email(&format!("<s{n}@example.ch>"))],
                team: Some("central".parse::<TeamId>().unwrap()),
                ..Route::default()
            },
        };
        baton.ingest(&inbound).await.unwrap();
    }

    // Hourly sweeps through Monday; SNS is unreachable for the sweeps at 12:00, 13:00 and 14:00 (the
    // warnings fall due at 12:00, the breaches at 14:00).
    let mut raised = Vec::new();
    let mut failed_runs = 0;
    let mut published_late = 0;
    let started = Instant::now();
    for hour in 7..=20 {
        let now = at("2026-04-13T00:00:00Z") + SignedDuration::from_hours(hour);
        let sns_down = (12..=14).contains(&hour);
        gate.set(!sns_down);
        let run = handler::sweep::handle(&baton.sweeper(), &scheduled(), now, Duration::from_secs(60)).await.unwrap();
        if sns_down {
            assert!(run.incomplete, "{hour}:00 {}", run.summary);
            failed_runs += 1;
        } else {
            assert!(!run.incomplete, "{hour}:00 {}", run.summary);
            published_late += run.summary["recovered"].as_u64().unwrap();
        }
        let summary = &run.summary;
        raised.extend((0..summary["alerts"].as_u64().unwrap()).map(|_| hour));
    }
    let (received, digests): (Vec<_>, Vec<_>) =
        moto::drain(&queue).await.into_iter().partition(|r| r.alert["schema"] == "baton.alert.v1");
    // The four teams' daily digests of Monday went out once each (at 07:00, before the outage).
    assert_eq!(digests.len(), 4, "{digests:?}");
    let unique: BTreeSet<(String, String, u64, String, String)> = received
        .iter()
        .map(|r| {
            let a = &r.alert;
            let field = |k: &str| a[k].as_str().unwrap_or_default().to_string();
            (field("case_id"), field("clock"), a["level"].as_u64().unwrap(), field("kind"), field("due_at"))
        })
        .collect();
    let during: usize = raised.iter().filter(|h| (12..=14).contains(*h)).count();
    assert!(during >= 2 * CASES, "the warnings and breaches were raised while SNS was down: {raised:?}");
    assert_eq!(published_late as usize, during, "the outbox published every alert of the outage after it");
    assert_eq!(received.len(), raised.len(), "every alert raised arrived");
    assert_eq!(unique.len(), received.len(), "none twice");
    let kinds: BTreeSet<&str> = received.iter().map(|r| r.alert["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains("warning") && kinds.contains("breach"), "{kinds:?}");
    println!(
        "faults: SNS unreachable for 3 of 14 hourly sweeps ({failed_runs} failed runs); {} alerts raised, {during} \
         during the outage, {} received, {} distinct; {:.1} s",
        raised.len(),
        received.len(),
        unique.len(),
        started.elapsed().as_secs_f64()
    );
}
