//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod cases;
pub mod dynamodb;
pub mod http;
pub mod logs;
pub mod mail;
pub mod moto;
pub mod service;

use baton::handler::webhook::Secrets;
use serde_json::Value;

/// The generic webhooks' Standard Webhooks secret in the tests.
pub const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The webhook function's secrets in the tests.
pub fn secrets() -> Secrets {
    Secrets {
        meta_app_secret: "meta-app-secret".into(),
        meta_verify_token: "verify-me".into(),
        x_consumer_secret: "x-consumer-secret".into(),
        webhook_secret: WEBHOOK_SECRET.into(),
    }
}

/// A payload from `tests/fixtures/`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

/// How many replies to the customer a case's loaded timeline holds.
pub fn agent_replies(case: &baton::domain::case::Case) -> usize {
    use baton::domain::case::EventKind;
    use baton::domain::signal::SignalKind;
    case.timeline()
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Signal { signal: SignalKind::AgentReply { .. } }))
        .count()
}

/// An instant written in RFC 3339 (`2026-04-13T08:00:00Z`).
pub fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// A wall-clock time in Zurich (`2026-04-13T08:00`), where the shipped policy's teams work.
pub fn zurich(text: &str) -> jiff::Timestamp {
    let civil: jiff::civil::DateTime = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
    civil.to_zoned(jiff::tz::TimeZone::get("Europe/Zurich").unwrap()).unwrap().timestamp()
}

pub fn team(name: &str) -> baton::domain::ids::TeamId {
    name.parse().unwrap()
}

/// The shipped policy.
pub fn policy() -> std::sync::Arc<baton::domain::policy::Policy> {
    std::sync::Arc::new(baton::domain::policy::Policy::default_policy())
}

/// The case a signal was applied to, opened by it or not.
pub fn applied(outcome: baton::service::Outcome) -> baton::domain::ids::CaseId {
    match outcome {
        baton::service::Outcome::Applied { case, .. } => case,
        other => panic!("expected the signal to be applied, got {other:?}"),
    }
}

/// The case a signal opened.
pub fn opened(outcome: baton::service::Outcome) -> baton::domain::ids::CaseId {
    match outcome {
        baton::service::Outcome::Applied { case, opened: true, .. } => case,
        other => panic!("expected a new case, got {other:?}"),
    }
}
