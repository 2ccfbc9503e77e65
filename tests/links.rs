//! `GET` and `POST /l/{token}` through the real handler (`baton::handler::link`) on the in-memory
//! store: the case page never changes anything, the form acknowledges once (a second submit is a
//! duplicate), a view link cannot acknowledge, and a bad, altered, expired or foreign token is a 403
//! page with nothing changed and the token in no log line. The browser end to end, on DynamoDB
//! Local, is in `tests/page.rs`.

#[path = "common/cases.rs"]
mod cases;
#[path = "common/logs.rs"]
mod logs;

use std::sync::Arc;

use baton::domain::case::{Case, EventKind};
use baton::domain::clock::ClockKind;
use baton::domain::ids::{CaseId, Channel, Identity};
use baton::domain::policy::Policy;
use baton::domain::signal::{Signal, SignalKind};
use baton::handler::{self, MAX_BODY};
use baton::ingest::{Inbound, Route};
use baton::link::{Grant, LinkSigner};
use baton::notify::Collect;
use baton::page;
use baton::service::Baton;
use baton::store::Cases;
use baton::store::memory::MemoryStore;
use cases::acknowledgements;
use http::StatusCode;
use jiff::{SignedDuration, Timestamp};

const SECRET: &[u8] = b"the link secret of the tests, 32+ bytes";

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn signer() -> LinkSigner {
    LinkSigner::new(SECRET).unwrap()
}

/// A customer's email to central on Monday morning, swept on Tuesday: `first_response` in breach.
async fn breached() -> (Baton<MemoryStore, Collect>, CaseId, Timestamp) {
    let baton = Baton::new(MemoryStore::new(), Collect::default(), Arc::new(Policy::default_policy()));
    let identity = Identity::Email("max@example.ch".into());
    let signal = Signal::new(
        at("2026-04-13T06:00:00Z"),
        "ses:links-1",
        SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity },
    );
    let route = Route { team: Some("central".parse().unwrap()), ..Route::default() };
    let outcome = baton.ingest(&Inbound { signal, route }).await.unwrap();
    let baton::service::Outcome::Applied { case, .. } = outcome else { panic!("{outcome:?}") };
    let now = at("2026-04-14T12:00:00Z");
    let swept = baton.sweep(now).await.unwrap();
    assert!(swept.alerts.iter().any(|(a, _)| a.kind == "breach"), "{:?}", swept.alerts);
    (baton, case, now)
}

fn request(method: &str, token: &str, body: &[u8]) -> http::Request<Vec<u8>> {
    http::Request::builder()
        .method(method)
        .uri(format!("/l/{token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_vec())
        .unwrap()
}

async fn call(
    baton: &Baton<MemoryStore, Collect>,
    method: &str,
    token: &str,
    body: &[u8],
    now: Timestamp,
) -> http::Response<String> {
    handler::link::handle(&baton.store, &baton.policy, &signer(), &request(method, token, body), now).await
}

async fn case(baton: &Baton<MemoryStore, Collect>, id: &CaseId) -> Case {
    baton.store.load_whole(id).await.unwrap().unwrap().into_case()
}

fn assert_page_headers(response: &http::Response<String>) {
    for (name, value) in page::HEADERS {
        assert_eq!(response.headers()[name], value, "{name}");
    }
}

#[tokio::test]
async fn get_shows_the_case_and_its_form_and_changes_nothing() {
    let (baton, id, now) = breached().await;
    let before = case(&baton, &id).await;
    let token = signer().sign(&Grant::ack(id.clone(), ClockKind::FirstResponse, 1, now));
    for _ in 0..3 {
        let response = call(&baton, "GET", &token, b"", now).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_page_headers(&response);
        let html = response.body();
        assert!(html.contains(&format!("<h1>{id}</h1>")) && html.contains("<form method=\"post\">"));
        assert!(!html.contains(&token), "the page does not quote its token");
    }
    let after = case(&baton, &id).await;
    assert_eq!((after.version(), after.timeline().len()), (before.version(), before.timeline().len()));

    let view = signer().sign(&Grant::view(id.clone(), now));
    let response = call(&baton, "GET", &view, b"", now).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response.body().contains("<form"), "a view link has no form");
}

#[tokio::test]
async fn the_form_acknowledges_once_by_link_and_name_and_a_second_submit_is_a_duplicate() {
    let (baton, id, now) = breached().await;
    let version = case(&baton, &id).await.version();
    let token = signer().sign(&Grant::ack(id.clone(), ClockKind::FirstResponse, 1, now));
    let response = call(&baton, "POST", &token, b"name=Ana+Lead&snooze=week", now).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.body());
    assert_page_headers(&response);
    assert!(
        response
            .body()
            .contains(&format!("Ana Lead acknowledged <code>first_response</code> level 1 of {id}, snoozed 1 week."))
    );
    let acked = case(&baton, &id).await;
    assert_eq!(acked.version(), version + 1);
    assert_eq!(acknowledgements(&acked), [(ClockKind::FirstResponse, 1, "link:Ana Lead".to_string())]);
    let event = acked.timeline().iter().rev().find(|e| matches!(e.kind, EventKind::Signal { .. })).unwrap();
    assert!(event.source.starts_with("link:") && !event.source.contains(&token[..16]), "{}", event.source);
    assert!(acked.clock(ClockKind::FirstResponse).unwrap().snooze.is_some(), "snoozed");

    // The same form again (a double tap, a reload that posts again): the same page, nothing more.
    let again = call(&baton, "POST", &token, b"name=Ana+Lead&snooze=week", now + SignedDuration::from_secs(5)).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert!(again.body().contains("Ana Lead acknowledged"));
    assert_eq!(case(&baton, &id).await.version(), version + 1);
}

#[tokio::test]
async fn a_form_missing_a_field_shows_the_page_again_and_changes_nothing() {
    let (baton, id, now) = breached().await;
    let version = case(&baton, &id).await.version();
    let token = signer().sign(&Grant::ack(id.clone(), ClockKind::FirstResponse, 1, now));
    let response = call(&baton, "POST", &token, b"name=+&snooze=week", now).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.body().contains("please give your name") && response.body().contains("<form"));
    let large = vec![b'a'; MAX_BODY + 1];
    assert_eq!(call(&baton, "POST", &token, &large, now).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(call(&baton, "DELETE", &token, b"", now).await.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(case(&baton, &id).await.version(), version);
}

#[tokio::test]
async fn a_clock_that_is_not_running_is_not_acknowledged_and_the_page_says_why() {
    let (baton, id, now) = breached().await;
    let version = case(&baton, &id).await.version();
    let token = signer().sign(&Grant::ack(id.clone(), ClockKind::HandoffAccept, 1, now));
    let response = call(&baton, "POST", &token, b"name=Ana&snooze=day", now).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.body().contains("Not acknowledged") && response.body().contains("Nothing was changed"));
    assert_eq!(case(&baton, &id).await.version(), version);
}

#[tokio::test]
async fn bad_links_get_the_403_page_change_nothing_and_are_never_logged() {
    let logs = logs::capture();

    let (baton, id, now) = breached().await;
    let before = case(&baton, &id).await;
    let ack = Grant::ack(id.clone(), ClockKind::FirstResponse, 1, now);
    let good = signer().sign(&ack);
    let mut altered = good.clone().into_bytes();
    altered[12] = if altered[12] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let expired = signer().sign(&Grant { expires: now - SignedDuration::from_secs(1), ..ack.clone() });
    let foreign = LinkSigner::new(b"another secret, also 32 bytes or more").unwrap().sign(&ack);
    let unknown_case = signer().sign(&Grant::ack("BTN-ZZZZZZ".parse().unwrap(), ClockKind::FirstResponse, 1, now));
    let view = signer().sign(&Grant::view(id.clone(), now));
    let tokens = [&altered, &expired, &foreign, &good[..good.len() - 3].to_string(), &"x".repeat(40), &view];
    for token in tokens {
        for method in ["GET", "POST"] {
            if token == &view && method == "GET" {
                continue;
            }
            let response = call(&baton, method, token, b"name=Mallory&snooze=stop", now).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method}");
            assert_page_headers(&response);
            assert!(response.body().contains("This link does not work") && !response.body().contains(token.as_str()));
        }
    }
    let response = call(&baton, "POST", &unknown_case, b"name=Mallory&snooze=stop", now).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // A good token that reached its expiry is refused from then on.
    assert_eq!(call(&baton, "GET", &good, b"", ack.expires).await.status(), StatusCode::FORBIDDEN);
    let after = case(&baton, &id).await;
    assert_eq!((after.version(), after.timeline().len()), (before.version(), before.timeline().len()));
    assert!(acknowledgements(&after).is_empty());

    // A good one too, so the log has every path; then no token, nor any 16 characters of one.
    assert_eq!(call(&baton, "POST", &good, b"name=Ana&snooze=day", now).await.status(), StatusCode::OK);
    let log = logs.text();
    assert!(log.contains("link refused") && log.contains("acknowledged from a link"), "{log}");
    for token in [&good, &altered, &expired, &foreign, &unknown_case, &view] {
        for window in token.as_bytes().windows(16).step_by(8) {
            let piece = std::str::from_utf8(window).unwrap();
            assert!(!log.contains(piece), "the log holds {piece} of a token:\n{log}");
        }
    }
}
