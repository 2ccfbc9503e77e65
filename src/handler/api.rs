//! `case-api`: the case API of DESIGN.md (HTTP API, IAM authorised). `{case}` is a case id or any
//! message reference the case holds. A `POST` is deduplicated by its `Idempotency-Key` header when
//! given, else by API Gateway's request id. Every event a call records names the caller (`by`): the
//! IAM ARN API Gateway put in the request context, never something the body says.

use aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use http::{Request, Response, StatusCode};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::{MAX_BODY, error, json_response};
use crate::domain::case::Case;
use crate::domain::duration::human;
use crate::domain::engine::Rejection;
use crate::domain::policy::Policy;
use crate::domain::signal::SignalKind;
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
            Ok(Outcome::Applied { case, .. }) => {
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
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(method.to_ascii_uppercase())
        .chain_update(b"\n")
        .chain_update(path)
        .chain_update(b"\n")
        .chain_update(body.to_string())
        .finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
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
    Ok(case.timeline.iter().any(|e| e.source == source && e.request.as_deref() == Some(fingerprint)))
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
        | Rejection::TooLargeToMerge(_)
        | Rejection::AlreadyPriority(_) => StatusCode::CONFLICT,
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
