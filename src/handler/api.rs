//! `case-api`: the case API of docs/design.md (HTTP API, IAM authorised). `{case}` is a case id or any
//! message reference the case holds. A `POST` is deduplicated by its `Idempotency-Key` header when
//! given, else by API Gateway's request id. Every event a call records names the caller (`by`): the
//! IAM ARN API Gateway put in the request context, never something the body says.

use aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use http::{Request, Response, StatusCode};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::{MAX_BODY, error, json_response};
use std::collections::BTreeSet;

use jiff::SignedDuration;
use serde::Serialize;

use crate::domain::case::{Case, CaseState, CloseReason, Event};
use crate::domain::clock::Clocks;
use crate::domain::duration::human;
use crate::domain::engine::Rejection;
use crate::domain::ids::{CaseId, Channel, Identity, Priority, TeamId};
use crate::domain::policy::Policy;
use crate::domain::signal::SignalKind;
use crate::domain::sorted::{SortedMap, SortedSet};
use crate::ingest::api::{self, ApiError, Request as ApiRequest};
use crate::service::{Ingest, Outcome, erase, query};
use crate::store::{Record, Remove};

/// Who made a case API call: the caller's IAM ARN, from API Gateway's request context (payload 2.0,
/// `requestContext.authorizer.iam.userArn`, set for a SigV4-signed call that IAM allowed). The
/// function puts it in the request's extensions; [`handle`] records it on the call's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

impl Caller {
    /// The caller named by an HTTP API request context, if IAM authorised the call.
    pub fn of(context: &ApiGatewayV2httpRequestContext) -> Option<Self> {
        let arn = context.authorizer.as_ref()?.iam.as_ref()?.user_arn.as_deref()?;
        (!arn.trim().is_empty()).then(|| Self(arn.to_string()))
    }
}

/// Answers one case API call. The caller, if any, is a [`Caller`] in the request's extensions.
pub async fn handle<S: Record + Remove>(
    store: &S,
    policy: &Policy,
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
    let idempotency_key = request.headers().get("idempotency-key").and_then(|v| v.to_str().ok());
    let source = format!("api:{}", idempotency_key.unwrap_or(request_id));
    let method = request.method().as_str();
    let path = request.uri().path();
    let fingerprint = idempotency_key.map(|_| fingerprint(method, path, &json));
    let mut parsed = match api::parse(method, path, &json, source.clone(), now, policy) {
        Ok(parsed) => parsed,
        Err(e @ ApiError::NoRoute(_)) => return error(StatusCode::NOT_FOUND, e),
        Err(e @ ApiError::Method(_)) => return error(StatusCode::METHOD_NOT_ALLOWED, e),
        Err(e @ ApiError::BadBody(_)) => return error(StatusCode::BAD_REQUEST, e),
    };
    if let ApiRequest::Signal(inbound) = &mut parsed {
        inbound.signal.request.clone_from(&fingerprint);
        if let Some(Caller(arn)) = request.extensions().get::<Caller>() {
            inbound.signal.by = Some(arn.clone());
            if let SignalKind::Acknowledge { by, .. } = &mut inbound.signal.kind {
                // Who acknowledged is who signed the call, whatever name the body gave.
                by.clone_from(arn);
            }
        }
    }
    match parsed {
        ApiRequest::Get(reference) => match query::show(store, &reference).await {
            Ok(Some(case)) => json_response(StatusCode::OK, &view(&case, now)),
            Ok(None) => error(StatusCode::NOT_FOUND, "no such case"),
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        },
        ApiRequest::Erase(identity) => match erase::erase_customer(store, &identity).await {
            Ok(erasure) => {
                tracing::info!(cases = erasure.cases.len(), identities = erasure.identities.len(), "customer erased");
                json_response(
                    StatusCode::OK,
                    &json!({ "erased": true, "identities": erasure.identities.len(), "cases": erasure.cases }),
                )
            }
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        },
        ApiRequest::Signal(inbound) => match Ingest::new(store, policy).ingest(&inbound).await {
            Ok(Outcome::Applied { case, measures, .. }) => {
                crate::metrics::print_measures(&measures);
                json_response(StatusCode::OK, &json!({ "case": case, "applied": true }))
            }
            Ok(Outcome::Duplicate) => match (idempotency_key, &fingerprint, inbound.route.case.as_ref()) {
                (Some(key), Some(fingerprint), Some(case)) => {
                    match same_request(store, case, &source, fingerprint).await {
                        Ok(true) => json_response(StatusCode::OK, &json!({ "duplicate": true })),
                        Ok(false) => error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            format!(
                                "the Idempotency-Key `{key}` was used for another request (another case, action \
                                 or body); a new request needs a new key"
                            ),
                        ),
                        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
                    }
                }
                _ => json_response(StatusCode::OK, &json!({ "duplicate": true })),
            },
            Ok(Outcome::UnknownCase) => error(StatusCode::NOT_FOUND, "no such case"),
            Ok(Outcome::Unrouted(why)) => error(StatusCode::NOT_FOUND, why),
            Ok(Outcome::Rejected(rejection)) => error(status_of(&rejection), rejection),
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        },
    }
}

/// The fingerprint an `Idempotency-Key` is bound to: the method, the path (with its case) and the
/// body as JSON (so whitespace does not count, but every field and value does).
fn fingerprint(method: &str, path: &str, body: &Value) -> String {
    let request = format!("{}\n{path}\n{body}", method.to_ascii_uppercase());
    format!("sha256:{}", &crate::hash::sha256_hex(request)[..32])
}

/// Whether the request this key was first used for is this one: its event is on this case, with
/// the same fingerprint. A key first used on another case, or with another body, is not a retry.
async fn same_request<S: Record>(
    store: &S,
    case: &crate::ingest::CaseRef,
    source: &str,
    fingerprint: &str,
) -> Result<bool, crate::store::StoreError> {
    let Some(case) = query::show(store, case).await? else { return Ok(false) };
    Ok(case.timeline().iter().any(|e| &*e.source == source && e.request() == Some(fingerprint)))
}

fn status_of(rejection: &Rejection) -> StatusCode {
    match rejection {
        // The ingest loads the case whole and applies again: never an answer.
        Rejection::NeedsHistory(_) => StatusCode::INTERNAL_SERVER_ERROR,
        Rejection::UnknownTeam(_) | Rejection::NotAnOpening(_) => StatusCode::BAD_REQUEST,
        Rejection::Closed(_)
        | Rejection::Merged(..)
        | Rejection::AlreadyOwner(_)
        | Rejection::NotHandedTo(_)
        | Rejection::ClockNotRunning(_)
        | Rejection::AlreadyProposed
        | Rejection::TooManyIdentities(_)
        | Rejection::TooLargeToMerge(_)
        | Rejection::AlreadyPriority(_) => StatusCode::CONFLICT,
    }
}

/// `GET /cases/{case}`: the case with its whole timeline, and the time each team held it up to now.
pub fn view(case: &Case, now: Timestamp) -> Value {
    let mut value = serde_json::to_value(CaseView::of(case)).expect("a case serialises");
    let held: serde_json::Map<String, Value> = case
        .time_held(now)
        .into_iter()
        .map(|(team, d)| (team.to_string(), json!({ "seconds": d.as_secs(), "human": human(d.as_secs()) })))
        .collect();
    value["time_held"] = Value::Object(held);
    value["as_of"] = json!(now);
    value
}

/// `GET /cases/{case}`'s case: the API's own view of a case (a contract: docs/design.md's case API), so
/// that the domain's [`Case`] and its stored record can change without changing what callers read.
#[derive(Debug, Serialize)]
pub struct CaseView<'a> {
    id: &'a CaseId,
    /// Bumped by every write; the store's optimistic lock.
    version: u64,
    state: CaseState,
    #[serde(skip_serializing_if = "Option::is_none")]
    close_reason: Option<CloseReason>,
    priority: Priority,
    /// The priority the case opened with (needed to rebuild it; a change is on the timeline).
    #[serde(skip_serializing_if = "Option::is_none")]
    first_priority: Option<Priority>,
    /// The team that owned the case when it opened (needed to rebuild it).
    first_owner: &'a TeamId,
    owner: &'a TeamId,
    owner_since: Timestamp,
    opened_at: Timestamp,
    channels: &'a BTreeSet<Channel>,
    identities: &'a SortedSet<Identity>,
    /// Time each team held the case before the current owner took it (calendar time).
    held: &'a SortedMap<TeamId, SignedDuration>,
    clocks: &'a Clocks,
    first_response_done: bool,
    /// The earliest customer message that has no answer yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    waiting_since: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_customer_channel: Option<Channel>,
    /// Whether the customer's last message was public (targets follow it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    last_customer_public: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_reply_at: Option<Timestamp>,
    follow_ups: u32,
    channel_hops: u32,
    public_posts: u32,
    /// Closures already warned about, by their start.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    closure_warnings: &'a BTreeSet<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merged_into: Option<&'a CaseId>,
    /// The case this one went on in when it was full.
    #[serde(skip_serializing_if = "Option::is_none")]
    continued_in: Option<&'a CaseId>,
    /// The full case this one continues.
    #[serde(skip_serializing_if = "Option::is_none")]
    continues: Option<&'a CaseId>,
    /// When the engine next has something to do for this case (the due index).
    #[serde(skip_serializing_if = "Option::is_none")]
    next_due: Option<Timestamp>,
    /// The whole timeline, in order (see [`Event::order`]).
    timeline: &'a [Event],
    /// The version whose write replaced the whole stored timeline (an erasure), if any: the store
    /// ignores timeline items written before it.
    #[serde(skip_serializing_if = "is_zero")]
    timeline_from: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl<'a> CaseView<'a> {
    pub fn of(case: &'a Case) -> Self {
        Self {
            id: case.id(),
            version: case.version(),
            state: case.state(),
            close_reason: case.close_reason(),
            priority: case.priority(),
            first_priority: case.first_priority(),
            first_owner: case.first_owner(),
            owner: case.owner(),
            owner_since: case.owner_since(),
            opened_at: case.opened_at(),
            channels: case.channels(),
            identities: case.identities(),
            held: case.held(),
            clocks: case.clocks(),
            first_response_done: case.first_response_done(),
            waiting_since: case.waiting_since(),
            last_customer_channel: case.last_customer_channel(),
            last_customer_public: case.last_customer_public(),
            last_reply_at: case.last_reply_at(),
            follow_ups: case.follow_ups(),
            channel_hops: case.channel_hops(),
            public_posts: case.public_posts(),
            closure_warnings: case.closure_warnings(),
            merged_into: case.merged_into(),
            continued_in: case.continued_in(),
            continues: case.continues(),
            next_due: case.next_due(),
            timeline: case.timeline(),
            timeline_from: case.timeline_from(),
        }
    }
}
