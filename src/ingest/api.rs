//! The case API as signals: `POST /cases/{case}/<action>` with a small JSON body, and
//! `GET /cases/{case}`. `{case}` is a case id or any message reference the case holds. Beside it,
//! `DELETE /customers/{identity}` erases a customer.

use jiff::Timestamp;
use serde::Deserialize;

use super::{CaseRef, Inbound, Route, redact};
use crate::domain::clock::ClockKind;
use crate::domain::duration::PolicyDuration;
use crate::domain::ids::{Channel, Identity, Priority, TeamId};
use crate::domain::policy::Policy;
use crate::domain::signal::{Signal, SignalKind};

/// A parsed API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A `POST` that becomes a signal on the case.
    Signal(Box<Inbound>),
    /// `GET /cases/{case}`.
    Get(CaseRef),
    /// `DELETE /customers/{identity}`: erase the customer.
    Erase(Identity),
}

/// What is wrong with a request; the function maps each to a status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404
    #[error("no such route: {0}")]
    NoRoute(String),
    /// 405
    #[error("method {0} is not allowed here")]
    Method(String),
    /// 400
    #[error("bad request: {0}")]
    BadBody(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Handoff {
    to_team: String,
    #[serde(default)]
    #[allow(dead_code)] // kept by the API for people; Baton stores no free text
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Accept {
    team: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reply {
    channel: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    awaiting_customer: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Resolve {
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Confirm {
    confirmed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Link {
    channel: String,
    identity: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ack {
    clock: String,
    level: u8,
    /// A name, kept for callers without IAM (the replay, a local run); a signed call is recorded
    /// under the caller's IAM ARN instead.
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    snooze: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Survey {
    channel: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetPriority {
    /// `low`, `normal`, `high` or `urgent`.
    priority: Priority,
}

fn body<'a, T: Deserialize<'a>>(value: &'a serde_json::Value) -> Result<T, ApiError> {
    T::deserialize(value).map_err(|e| ApiError::BadBody(redact(&e.to_string())))
}

fn team(name: &str, policy: &Policy) -> Result<TeamId, ApiError> {
    let id: TeamId =
        name.parse().map_err(|e: crate::domain::ids::IdError| ApiError::BadBody(redact(&e.to_string())))?;
    if policy.team(&id).is_none() {
        return Err(ApiError::BadBody(format!("no team named `{id}` in the policy")));
    }
    Ok(id)
}

fn channel(name: &str) -> Result<Channel, ApiError> {
    name.parse().map_err(|e: crate::domain::ids::IdError| ApiError::BadBody(redact(&e.to_string())))
}

/// The longest snooze an acknowledgement may ask for.
const MAX_SNOOZE_DAYS: i64 = 30;

/// Parses one API call. `source` is the request's own id (for dedupe), `at` when it was made.
pub fn parse(
    method: &str,
    path: &str,
    payload: &serde_json::Value,
    source: String,
    at: Timestamp,
    policy: &Policy,
) -> Result<Request, ApiError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if let ["customers", identity] = segments.as_slice() {
        let method = method.to_ascii_uppercase();
        if method != "DELETE" {
            return Err(ApiError::Method(method));
        }
        let identity = percent_decode(identity);
        return match identity.parse::<Identity>() {
            Ok(Identity::Erased) | Err(_) => Err(ApiError::BadBody(
                "the identity is `<channel>:<id>`: `email:<address>`, `x:<user id>`, `meta:<id>` or `other:<id>`"
                    .into(),
            )),
            Ok(identity) => Ok(Request::Erase(identity)),
        };
    }
    let (case, action) = match segments.as_slice() {
        ["cases", case] => (*case, None),
        ["cases", case, action] => (*case, Some(*action)),
        _ => return Err(ApiError::NoRoute(path.to_string())),
    };
    let case = percent_decode(case);
    let case: CaseRef =
        case.parse().map_err(|e: crate::domain::ids::IdError| ApiError::NoRoute(redact(&e.to_string())))?;
    let method = method.to_ascii_uppercase();
    let Some(action) = action else {
        return if method == "GET" { Ok(Request::Get(case)) } else { Err(ApiError::Method(method)) };
    };
    if method != "POST" {
        return Err(ApiError::Method(method));
    }
    let kind = match action {
        "handoff" => SignalKind::Handoff { to: team(&body::<Handoff>(payload)?.to_team, policy)? },
        "accept" => SignalKind::Accept { team: team(&body::<Accept>(payload)?.team, policy)? },
        "reply" => {
            let r: Reply = body(payload)?;
            let team = r.team.as_deref().map(|t| team(t, policy)).transpose()?;
            SignalKind::AgentReply { channel: channel(&r.channel)?, team, awaiting_customer: r.awaiting_customer }
        }
        "resolve" => {
            body::<Resolve>(payload)?;
            SignalKind::ResolutionProposed
        }
        "confirm" => {
            if body::<Confirm>(payload)?.confirmed {
                SignalKind::CustomerConfirmation
            } else {
                SignalKind::CustomerRejection
            }
        }
        "link" => {
            let l: Link = body(payload)?;
            let identity = Identity::for_channel(&l.channel, &l.identity)
                .map_err(|e| ApiError::BadBody(redact(&e.to_string())))?;
            SignalKind::Link { identity }
        }
        "ack" => {
            let a: Ack = body(payload)?;
            let clock: ClockKind = a.clock.parse().map_err(|e: String| ApiError::BadBody(redact(&e)))?;
            if a.level > 3 {
                return Err(ApiError::BadBody(format!("level {} does not exist: 0 (warning) to 3", a.level)));
            }
            let snooze: PolicyDuration = match a.snooze.as_deref() {
                Some(text) => text
                    .parse()
                    .map_err(|e: crate::domain::duration::DurationError| ApiError::BadBody(format!("snooze: {e}")))?,
                None => policy.ladder.repeat_every.unwrap_or(policy.ladder.level_2_after),
            };
            if snooze.days * 86_400 + snooze.seconds > MAX_SNOOZE_DAYS * 86_400 {
                return Err(ApiError::BadBody(format!("snooze: at most {MAX_SNOOZE_DAYS} days")));
            }
            SignalKind::Acknowledge { clock, level: a.level, by: a.by.unwrap_or_default(), snooze }
        }
        "survey" => SignalKind::SurveyRequested { channel: channel(&body::<Survey>(payload)?.channel)? },
        "priority" => SignalKind::PriorityChange { priority: body::<SetPriority>(payload)?.priority },
        other => return Err(ApiError::NoRoute(format!("/cases/{{case}}/{other}"))),
    };
    let route = Route { case: Some(case), ..Route::default() };
    Ok(Request::Signal(Box::new(Inbound { signal: Signal::new(at, source, kind), route })))
}

/// Decodes `%XX` escapes in a path segment (message ids hold `<`, `>` and `@`).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}
