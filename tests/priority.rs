//! Priority from each of its three sources, replayed with the shipped policy: a helpdesk's generic
//! webhook (`priority`), the case API (`POST /cases/{case}/priority`), and the policy's
//! `[customers]` list. An urgent case breaches on `[targets.priority.urgent]`'s shorter target; a
//! normal one keeps the default.

use std::sync::Arc;

use baton::domain::clock::ClockKind;
use baton::domain::policy::Policy;
use baton::replay::{self, Options, Published, Report};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

fn zurich(text: &str) -> Timestamp {
    text.parse::<DateTime>().unwrap().to_zoned(TimeZone::get("Europe/Zurich").unwrap()).unwrap().timestamp()
}

/// A generic webhook line: a customer's email, by the helpdesk, owned by `central`.
fn customer(at: Timestamp, n: u32, address: &str, priority: Option<&str>) -> Value {
    let mut body = json!({
        "id": format!("evt-{n}"), "type": "customer_message", "at": at,
        "customer": {"channel": "email", "id": address}, "channel": "email",
        "message": format!("other:msg-{n}"), "team": "central"
    });
    if let Some(priority) = priority {
        body["priority"] = json!(priority);
    }
    json!({"at": at, "source": "webhook", "payload": body})
}

fn replay(lines: &[Value]) -> (Report, String) {
    let policy = Arc::new(Policy::default_policy());
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    let lines = replay::parse(&text.join("\n"), &policy).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let options = Options { until: Some(zurich("2026-04-13T18:00")), ..Options::default() };
    let mut out = Vec::new();
    let report = runtime.block_on(replay::run(&lines, policy, &options, &mut out)).unwrap();
    (report, String::from_utf8(out).unwrap())
}

/// The first-response breach of the case that holds `other:msg-<n>`: (instant, priority).
fn breach(report: &Report, n: u32) -> (Timestamp, String) {
    let reference = format!("other:msg-{n}");
    let case = report.cases.iter().find(|c| c.refs().iter().any(|r| r.to_string() == reference)).unwrap();
    let alerts: Vec<&Published> = report
        .alerts
        .iter()
        .filter(|p| p.alert.case_id == case.id().to_string())
        .filter(|p| p.alert.clock == ClockKind::FirstResponse && p.alert.kind == "breach")
        .collect();
    assert_eq!(alerts.len(), 1, "case {}: {alerts:?}", case.id());
    (alerts[0].alert.at, alerts[0].alert.priority.clone())
}

#[test]
fn an_urgent_case_breaches_on_the_shorter_target_whichever_source_made_it_urgent() {
    let eight = zurich("2026-04-13T08:00");
    let nine = zurich("2026-04-13T09:00");
    let (report, text) = replay(&[
        customer(eight, 1, "max@example.ch", None),
        customer(eight, 2, "lea@example.ch", Some("urgent")),
        customer(eight, 3, "tom@example.ch", None),
        json!({"at": nine, "source": "api", "payload": {
            "method": "POST", "path": "/cases/other:msg-3/priority", "body": {"priority": "urgent"}}}),
        customer(eight, 4, "ceo@key-account.example", None),
    ]);
    // Normal: 8 business hours of central (08:00-17:00).
    assert_eq!(breach(&report, 1), (zurich("2026-04-13T16:00"), "normal".into()));
    // The helpdesk's webhook said urgent: 2 hours.
    assert_eq!(breach(&report, 2), (zurich("2026-04-13T10:00"), "urgent".into()));
    // Made urgent by the API after an hour: the hour used counts against the 2 hours.
    assert_eq!(breach(&report, 3), (zurich("2026-04-13T10:00"), "urgent".into()));
    // The shipped policy lists @key-account.example as urgent: urgent from its first message.
    assert_eq!(breach(&report, 4), (zurich("2026-04-13T10:00"), "urgent".into()));
    // The timeline shows the changes.
    assert_eq!(text.matches("priority changed to urgent").count(), 2, "{text}");
}
