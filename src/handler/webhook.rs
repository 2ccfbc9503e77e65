//! `webhook-ingest`: `GET`/`POST /webhooks/meta`, `GET`/`POST /webhooks/x`, `POST /webhooks/generic`
//! (API Gateway HTTP API). Every POST is checked against its platform's signature over the raw body
//! before anything is parsed; each entry of a delivery becomes its own signal, deduplicated by its
//! source id, so a retried delivery has no second effect.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use http::{Request, Response, StatusCode};
use jiff::Timestamp;
use serde_json::json;

use super::{MAX_BODY, Tally, error, json_response};
use crate::ingest::signature::{self, StandardHeaders};
use crate::ingest::{self, Parsed};

use crate::service::Ingest;
use crate::store::Record;

/// The webhook secrets: read at start from the Secrets Manager secret `BATON_SECRET_ARN`, or from
/// their environment variables for local runs and tests (see `config::webhook_secret_source`).
#[derive(Clone)]
pub struct Secrets {
    pub meta_app_secret: String,
    pub meta_verify_token: String,
    pub x_consumer_secret: String,
    /// Standard Webhooks: `whsec_` and base64.
    pub webhook_secret: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

#[derive(Debug, Clone, Copy)]
enum Platform {
    Meta,
    X,
    Generic,
}

/// How long a delivery's entries are applied before the rest is left to the platform's retry: under
/// the function's 15-second timeout, with room for the answer.
pub const BUDGET: Duration = Duration::from_secs(10);

pub async fn handle<S: Record>(
    service: &Ingest<'_, S>,
    secrets: &Secrets,
    request: &Request<Vec<u8>>,
    now: Timestamp,
) -> Response<String> {
    handle_within(service, secrets, request, now, BUDGET).await
}

/// [`handle`], applying a delivery's entries for at most `budget`. A delivery that takes longer (a
/// backlog of thousands of entries) is answered 503 with what was done: the platform delivers it
/// again, and what was applied already is deduplicated by its source ids, so nothing is applied
/// twice and nothing is lost.
pub async fn handle_within<S: Record>(
    service: &Ingest<'_, S>,
    secrets: &Secrets,
    request: &Request<Vec<u8>>,
    now: Timestamp,
    budget: Duration,
) -> Response<String> {
    let deadline = Instant::now() + budget;
    let query: HashMap<String, String> =
        form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes()).into_owned().collect();
    match (request.method().as_str(), request.uri().path()) {
        ("GET", "/webhooks/meta") => meta_verification(secrets, &query),
        ("GET", "/webhooks/x") => match query.get("crc_token") {
            Some(token) => match signature::x_crc_response(&secrets.x_consumer_secret, token) {
                Some(answer) => json_response(StatusCode::OK, &json!({ "response_token": answer })),
                None => error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "the crc_token is not one X sends (at most {} characters of base64)",
                        signature::MAX_CRC_TOKEN
                    ),
                ),
            },
            None => error(StatusCode::BAD_REQUEST, "the crc_token parameter is missing"),
        },
        ("POST", "/webhooks/meta") => delivery(service, secrets, request, now, deadline, Platform::Meta).await,
        ("POST", "/webhooks/x") => delivery(service, secrets, request, now, deadline, Platform::X).await,
        ("POST", "/webhooks/generic") => delivery(service, secrets, request, now, deadline, Platform::Generic).await,
        (method, "/webhooks/meta" | "/webhooks/x" | "/webhooks/generic") => {
            error(StatusCode::METHOD_NOT_ALLOWED, format!("method {method} is not allowed here"))
        }
        (_, path) => error(StatusCode::NOT_FOUND, format!("no such route: {path}")),
    }
}

/// Meta's subscription check: echo `hub.challenge` when the verify token matches.
fn meta_verification(secrets: &Secrets, query: &HashMap<String, String>) -> Response<String> {
    let (Some(mode), Some(token), Some(challenge)) =
        (query.get("hub.mode"), query.get("hub.verify_token"), query.get("hub.challenge"))
    else {
        return error(StatusCode::BAD_REQUEST, "hub.mode, hub.verify_token and hub.challenge are required");
    };
    if mode != "subscribe" || !signature::same_secret(token, &secrets.meta_verify_token) {
        return error(StatusCode::FORBIDDEN, "the verify token does not match");
    }
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/plain")
        .body(challenge.clone())
        .expect("a valid response")
}

async fn delivery<S: Record>(
    service: &Ingest<'_, S>,
    secrets: &Secrets,
    request: &Request<Vec<u8>>,
    now: Timestamp,
    deadline: Instant,
    platform: Platform,
) -> Response<String> {
    let body = request.body();
    if body.len() > MAX_BODY {
        return error(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is {} bytes; at most {MAX_BODY}", body.len()));
    }
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let verified = match platform {
        Platform::Meta => signature::verify_meta(&secrets.meta_app_secret, header("x-hub-signature-256"), body),
        Platform::X => signature::verify_x(&secrets.x_consumer_secret, header("x-twitter-webhooks-signature"), body),
        Platform::Generic => {
            let headers = StandardHeaders {
                id: header("webhook-id"),
                timestamp: header("webhook-timestamp"),
                signature: header("webhook-signature"),
            };
            signature::verify_standard(&secrets.webhook_secret, headers, body, now).map(drop)
        }
    };
    if let Err(e) = verified {
        return error(StatusCode::UNAUTHORIZED, e);
    }
    let json: serde_json::Value = match serde_json::from_slice(body) {
        Ok(json) => json,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("the body is not JSON: {e}")),
    };
    let parsed = match platform {
        Platform::Meta => ingest::meta::parse(&json, service.policy()),
        Platform::X => ingest::x::parse(&json, service.policy()),
        Platform::Generic => ingest::webhook::parse(&json, service.policy()),
    };
    // A body in the wrong shape is refused (the generic webhook's one event); the platforms' bodies
    // are read entry by entry, and an entry that cannot be read is skipped and counted instead.
    let Parsed { inbound, skipped, deleted } = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let mut tally = Tally::default();
    tally.skipped(&skipped);
    for entry in &inbound {
        if Instant::now() >= deadline {
            return unfinished(platform, &tally);
        }
        match service.ingest(entry).await {
            Ok(outcome) => tally.outcome(&outcome),
            // The platform retries the delivery; what was applied already is deduplicated.
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
        }
    }
    for reference in &deleted {
        if Instant::now() >= deadline {
            return unfinished(platform, &tally);
        }
        match service.forget_message(reference).await {
            Ok(changed) => tally.erased += usize::from(changed.is_some()),
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
        }
    }
    tracing::info!(platform = ?platform, ?tally, "delivery handled");
    json_response(StatusCode::OK, &serde_json::to_value(&tally).expect("a tally serialises"))
}

/// A delivery left unfinished at the deadline: 503, so that the platform delivers it again.
fn unfinished(platform: Platform, tally: &Tally) -> Response<String> {
    tracing::warn!(platform = ?platform, ?tally, "delivery not finished within the budget: left for the platform's retry");
    let mut response = json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({ "error": "the delivery was not finished in time; deliver it again", "done": tally }),
    );
    response.headers_mut().insert("retry-after", http::HeaderValue::from_static("1"));
    response
}
