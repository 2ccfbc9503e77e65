//! `case-page`: `GET` and `POST /l/{token}` (docs/design.md, "The lead's side"). The routes are open on
//! the HTTP API (no IAM): the signed token is the credential, checked in constant time before
//! anything else is read ([`LinkSigner::verify`]).
//!
//! - `GET` answers the case page of the case the token names and **never changes anything**: mail
//!   security scanners open every link in a mail.
//! - `POST` (the page's acknowledge form, `application/x-www-form-urlencoded`) acknowledges the
//!   token's clock up to its level through the same parser and ingest as `POST /cases/{case}/ack`,
//!   recorded `by` `link:<the name typed>`, and answers the result page. Its source id is a digest
//!   of the token and the form, so a second submit of the same form (a double tap, a reload) is a
//!   duplicate, not a second acknowledgement.
//! - A bad, altered, expired or unknown token answers the 403 page; nothing is read or changed. The
//!   token itself is never logged, and no page or error quotes it.
//!
//! Every answer is an HTML page sent with [`page::HEADERS`] (its Content-Security-Policy forbids
//! loading anything; no referrer, since the URL holds the token; no caching).

use http::{Method, Request, Response, StatusCode};
use jiff::Timestamp;
use serde_json::json;

use super::MAX_BODY;
use crate::domain::policy::Policy;
use crate::ingest::CaseRef;
use crate::ingest::api::{self, Request as ApiRequest};
use crate::link::{Allows, Grant, LinkSigner};
use crate::page::{self, AckForm, CaseView};
use crate::service::{Ingest, Outcome, query};
use crate::store::Record;

/// What `by` an acknowledgement from a link is recorded under: this prefix and the name typed, so
/// the timeline tells it from a signed case API call (an IAM ARN).
pub const BY_PREFIX: &str = "link:";

/// Answers one `/l/{token}` request at `now`.
pub async fn handle<S: Record>(
    store: &S,
    policy: &Policy,
    signer: &LinkSigner,
    request: &Request<Vec<u8>>,
    now: Timestamp,
) -> Response<String> {
    let Some(token) = request.uri().path().strip_prefix("/l/") else {
        tracing::warn!("not a link route");
        return html(StatusCode::NOT_FOUND, page::forbidden_page());
    };
    let grant = match signer.verify(token, now) {
        Ok(grant) => grant,
        Err(reason) => {
            // The reason (malformed, signature, expiry) and never the token.
            tracing::warn!(%reason, "link refused");
            return html(StatusCode::FORBIDDEN, page::forbidden_page());
        }
    };
    match *request.method() {
        Method::GET => show(store, policy, &grant, now).await,
        Method::POST => acknowledge(store, policy, token, &grant, request.body(), now).await,
        _ => {
            tracing::warn!(method = %request.method(), "method not allowed on a link");
            let mut response = html(StatusCode::METHOD_NOT_ALLOWED, page::forbidden_page());
            response.headers_mut().insert("allow", http::HeaderValue::from_static("GET, POST"));
            response
        }
    }
}

/// `GET`: the case page. Reads only.
async fn show<S: Record>(store: &S, policy: &Policy, grant: &Grant, now: Timestamp) -> Response<String> {
    match query::show(store, &CaseRef::Id(grant.case.clone())).await {
        Ok(Some(case)) => {
            tracing::info!(case = %grant.case, allows = allows(grant), "case page");
            html(StatusCode::OK, page::case_page(&case, policy, now, grant))
        }
        Ok(None) => gone(grant),
        Err(e) => failed(grant, &e),
    }
}

/// `POST`: the acknowledge form.
async fn acknowledge<S: Record>(
    store: &S,
    policy: &Policy,
    token: &str,
    grant: &Grant,
    body: &[u8],
    now: Timestamp,
) -> Response<String> {
    let Allows::Ack { clock, level } = grant.allows else {
        // A view link has no form; a post to it acknowledges nothing.
        tracing::warn!(case = %grant.case, "a form posted to a view link");
        return html(StatusCode::FORBIDDEN, page::forbidden_page());
    };
    let case_id = grant.case.as_str();
    if body.len() > MAX_BODY {
        tracing::warn!(case = %grant.case, bytes = body.len(), "form too large");
        return html(
            StatusCode::PAYLOAD_TOO_LARGE,
            page::ack_refused_page(case_id, &format!("The form is {} bytes; at most {MAX_BODY}.", body.len())),
        );
    }
    let form = match AckForm::parse(body) {
        Ok(form) => form,
        Err(problem) => {
            tracing::info!(case = %grant.case, %problem, "form incomplete");
            // The page again, with the problem above the form.
            return match query::show(store, &CaseRef::Id(grant.case.clone())).await {
                Ok(Some(case)) => html(
                    StatusCode::BAD_REQUEST,
                    page::render_case(&CaseView::of(&case, policy, now), grant, Some(&problem)),
                ),
                Ok(None) => gone(grant),
                Err(e) => failed(grant, &e),
            };
        }
    };
    let by = format!("{BY_PREFIX}{}", form.name);
    let ack = json!({ "clock": clock.as_str(), "level": level, "by": by, "snooze": form.snooze.api_value() });
    let path = format!("/cases/{case_id}/ack");
    let parsed = api::parse("POST", &path, &ack, source_id(token, &form), now, policy);
    let mut inbound = match parsed {
        Ok(ApiRequest::Signal(inbound)) => inbound,
        // The body is built here from a verified grant and a parsed form: a refusal is a bug.
        Ok(_) | Err(_) => {
            tracing::error!(case = %grant.case, "the acknowledgement of a verified link did not parse");
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                page::ack_refused_page(case_id, "Baton could not read this acknowledgement."),
            );
        }
    };
    inbound.signal.by = Some(by);
    match Ingest::new(store, policy).ingest(&inbound).await {
        Ok(Outcome::Applied { .. }) => {
            tracing::info!(case = %grant.case, clock = %clock, level, "acknowledged from a link");
            html(StatusCode::OK, page::ack_done_page(case_id, clock, level, &form))
        }
        Ok(Outcome::Duplicate) => {
            tracing::info!(case = %grant.case, clock = %clock, level, "the same form again: already acknowledged");
            html(StatusCode::OK, page::ack_done_page(case_id, clock, level, &form))
        }
        Ok(Outcome::Rejected(rejection)) => {
            tracing::info!(case = %grant.case, %rejection, "acknowledgement refused");
            html(StatusCode::CONFLICT, page::ack_refused_page(case_id, &rejection.to_string()))
        }
        Ok(Outcome::UnknownCase | Outcome::Unrouted(_)) => gone(grant),
        Err(e) => failed(grant, &e),
    }
}

/// The source id of an acknowledgement from a link: a digest of the token and the form as read, so
/// the same submit again is a duplicate. The token itself is not stored (only this digest).
fn source_id(token: &str, form: &AckForm) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"baton link ack\n")
        .chain_update(token)
        .chain_update(b"\n")
        .chain_update(&form.name)
        .chain_update(b"\n")
        .chain_update(form.snooze.form_value())
        .finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("link:{hex}")
}

fn allows(grant: &Grant) -> &'static str {
    match grant.allows {
        Allows::View => "view",
        Allows::Ack { .. } => "ack",
    }
}

/// The case the token names is no longer stored (erased, or deleted after its retention).
fn gone(grant: &Grant) -> Response<String> {
    tracing::info!(case = %grant.case, "the link's case is gone");
    html(
        StatusCode::NOT_FOUND,
        page::ack_refused_page(grant.case.as_str(), "This case is no longer kept: it was closed and deleted."),
    )
}

fn failed(grant: &Grant, error: &dyn std::error::Error) -> Response<String> {
    tracing::error!(case = %grant.case, %error, "case page failed");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        page::ack_refused_page(grant.case.as_str(), "Baton could not reach the case just now; please try again."),
    )
}

fn html(status: StatusCode, body: String) -> Response<String> {
    let mut response = Response::builder().status(status);
    for (name, value) in page::HEADERS {
        response = response.header(name, value);
    }
    response.body(body).expect("a valid response")
}
