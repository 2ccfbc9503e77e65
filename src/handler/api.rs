//! `case-api`: the case API of DESIGN.md (HTTP API, IAM or JWT authorised). `{case}` is a case id or
//! any message reference the case holds. A `POST` is deduplicated by its `Idempotency-Key` header when
//! given, else by API Gateway's request id.

use http::{Request, Response, StatusCode};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::{MAX_BODY, error, json_response};
use crate::domain::case::Case;
use crate::domain::duration::human;
use crate::domain::engine::Rejection;
use crate::ingest::api::{self, ApiError, Request as ApiRequest};
use crate::notify::Notifier;
use crate::service::{Baton, Outcome};
use crate::store::Store;

pub async fn handle<S: Store, N: Notifier>(
    baton: &Baton<S, N>,
    request: &Request<Vec<u8>>,
    request_id: &str,
    now: Timestamp,
) -> Response<String> {
    let body = request.body();
    if body.len() > MAX_BODY {
        return error(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is {} bytes; at most {MAX_BODY}", body.len()));
    }
    let json: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(json) => json,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("the body is not JSON: {e}")),
        }
    };
    let key = request.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or(request_id);
    let source = format!("api:{key}");
    let method = request.method().as_str();
    let parsed = match api::parse(method, request.uri().path(), &json, source, now, &baton.policy) {
        Ok(parsed) => parsed,
        Err(e @ ApiError::NoRoute(_)) => return error(StatusCode::NOT_FOUND, e),
        Err(e @ ApiError::Method(_)) => return error(StatusCode::METHOD_NOT_ALLOWED, e),
        Err(e @ ApiError::BadBody(_)) => return error(StatusCode::BAD_REQUEST, e),
    };
    match parsed {
        ApiRequest::Get(reference) => match baton.show(&reference).await {
            Ok(Some(case)) => json_response(StatusCode::OK, &view(&case, now)),
            Ok(None) => error(StatusCode::NOT_FOUND, "no such case"),
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        },
        ApiRequest::Erase(identity) => match baton.erase_customer(&identity).await {
            Ok(erasure) => {
                tracing::info!(cases = erasure.cases.len(), identities = erasure.identities.len(), "customer erased");
                json_response(
                    StatusCode::OK,
                    &json!({ "erased": true, "identities": erasure.identities.len(), "cases": erasure.cases }),
                )
            }
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        },
        ApiRequest::Signal(inbound) => match baton.ingest(&inbound).await {
            Ok(Outcome::Applied { case, .. }) => {
                json_response(StatusCode::OK, &json!({ "case": case, "applied": true }))
            }
            Ok(Outcome::Duplicate) => json_response(StatusCode::OK, &json!({ "duplicate": true })),
            Ok(Outcome::UnknownCase) => error(StatusCode::NOT_FOUND, "no such case"),
            Ok(Outcome::Unrouted(why)) => error(StatusCode::NOT_FOUND, why),
            Ok(Outcome::Rejected(rejection)) => error(status_of(&rejection), rejection),
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        },
    }
}

fn status_of(rejection: &Rejection) -> StatusCode {
    match rejection {
        Rejection::UnknownTeam(_) | Rejection::NotAnOpening(_) => StatusCode::BAD_REQUEST,
        Rejection::Closed(_)
        | Rejection::Merged(..)
        | Rejection::AlreadyOwner(_)
        | Rejection::NotHandedTo(_)
        | Rejection::ClockNotRunning(_)
        | Rejection::AlreadyProposed
        | Rejection::TooManyIdentities(_)
        | Rejection::TooLargeToMerge(_) => StatusCode::CONFLICT,
    }
}

/// `GET /cases/{case}`: the case with its whole timeline, and the time each team held it up to now.
pub fn view(case: &Case, now: Timestamp) -> Value {
    let mut value = serde_json::to_value(case).expect("a case serialises");
    let held: serde_json::Map<String, Value> = case
        .time_held(now)
        .into_iter()
        .map(|(team, d)| (team.to_string(), json!({ "seconds": d.as_secs(), "human": human(d.as_secs()) })))
        .collect();
    value["time_held"] = Value::Object(held);
    value["as_of"] = json!(now);
    value
}
