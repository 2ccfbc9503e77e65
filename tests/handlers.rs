//! The functions' handlers, called directly with real-shaped payloads: SES events, Meta and X bodies,
//! API Gateway HTTP API requests (turned into `http` requests by lambda_http itself, as the runtime
//! does). Bad input is refused with the right status and stores nothing. The last test runs the
//! whole email-to-social story on DynamoDB Local.

mod common;

use std::sync::Arc;

use baton::domain::ids::{Identity, MessageRef};
use baton::domain::policy::Policy;
use baton::handler;
use baton::ingest::signature;
use baton::notify::Collect;
use baton::notify::mail::CollectMail;
use baton::service::Baton;
use baton::store::memory::MemoryStore;
use baton::store::{Cases, Key, Schedule, Store};
use common::http::{apigw, body_json, post_generic, post_meta, post_x};
use common::{WEBHOOK_SECRET, fixture, secrets};
use common::{dynamodb, logs};
use http::StatusCode;
use jiff::Timestamp;
use serde_json::{Value, json};

fn memory() -> Baton<MemoryStore, Collect> {
    Baton::new(MemoryStore::new(), Collect::default(), Arc::new(Policy::default_policy()))
}

async fn api<S: Store>(baton: &Baton<S, Collect>, method: &str, path: &str, body: Value) -> http::Response<String> {
    let raw = if body.is_null() { Vec::new() } else { serde_json::to_vec(&body).unwrap() };
    let (request, request_id) = apigw(method, path, &[], &raw);
    handler::api::handle(&baton.store, &baton.policy, &request, &request_id, Timestamp::now()).await
}

#[tokio::test]
async fn meta_verification_echoes_the_challenge_only_for_the_right_token() {
    let baton = memory();
    let get = |query: &str| apigw("GET", &format!("/webhooks/meta?{query}"), &[], b"").0;
    let ok = handler::webhook::handle(
        &baton.intake(),
        &secrets(),
        &get("hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444"),
        Timestamp::now(),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.body(), "1158201444");
    let wrong = handler::webhook::handle(
        &baton.intake(),
        &secrets(),
        &get("hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"),
        Timestamp::now(),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let missing =
        handler::webhook::handle(&baton.intake(), &secrets(), &get("hub.mode=subscribe"), Timestamp::now()).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn x_crc_answers_with_the_hmac_of_the_token() {
    let baton = memory();
    let (request, _) = apigw("GET", "/webhooks/x?crc_token=abc%2B123", &[], b"");
    let response = handler::webhook::handle(&baton.intake(), &secrets(), &request, Timestamp::now()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        body_json(&response)["response_token"],
        signature::x_crc_response("x-consumer-secret", "abc+123").unwrap()
    );
    let (request, _) = apigw("GET", "/webhooks/x", &[], b"");
    assert_eq!(
        handler::webhook::handle(&baton.intake(), &secrets(), &request, Timestamp::now()).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn meta_messages_echoes_and_comments_become_signals_once() {
    let baton = memory();
    let message = post_meta(&baton, &fixture("meta-message.json")).await;
    assert_eq!(message.status(), StatusCode::OK, "{}", message.body());
    assert_eq!(body_json(&message), json!({"applied": 1, "opened": 1, "duplicates": 0, "ignored": 0}));
    let echo = post_meta(&baton, &fixture("meta-echo.json")).await;
    assert_eq!(body_json(&echo)["applied"], 1, "{}", echo.body());
    let comment = post_meta(&baton, &fixture("meta-feed-comment.json")).await;
    assert_eq!(body_json(&comment)["applied"], 1, "{}", comment.body());
    // The same delivery again: no second effect.
    let again = post_meta(&baton, &fixture("meta-message.json")).await;
    assert_eq!(body_json(&again), json!({"applied": 0, "opened": 0, "duplicates": 1, "ignored": 0}));

    let id = baton.store.lookup(&Key::Customer(Identity::Meta("7711223344556677".into()))).await.unwrap().unwrap();
    let case = baton.store.load_whole(&id).await.unwrap().unwrap();
    assert_eq!(case.timeline().len(), 3, "{:#?}", case.timeline());
    let excerpts: Vec<Option<&str>> = case.timeline().iter().map(|e| e.excerpt()).collect();
    assert!(excerpts.contains(&Some("Hello, about my jacket")), "{excerpts:?}");
    assert!(excerpts.contains(&Some("Still waiting for an answer about my jacket!")), "{excerpts:?}");
    assert_eq!(case.owner().as_str(), "social");
    assert_eq!(case.public_posts(), 1, "the feed comment is public");
}

#[tokio::test]
async fn x_tweets_and_direct_messages_become_signals() {
    let baton = memory();
    let tweet = post_x(&baton, &fixture("x-tweet.json")).await;
    assert_eq!(body_json(&tweet)["opened"], 1, "{}", tweet.body());
    let dm = post_x(&baton, &fixture("x-dm.json")).await;
    assert_eq!(body_json(&dm)["applied"], 1, "{}", dm.body());
    let id = baton.store.lookup(&Key::Customer(Identity::X("3344556677".into()))).await.unwrap().unwrap();
    let case = baton.store.load_whole(&id).await.unwrap().unwrap();
    assert_eq!(case.timeline().len(), 2, "the DM joins the tweet's case");
    let excerpts: Vec<Option<&str>> = case.timeline().iter().map(|e| e.excerpt()).collect();
    assert_eq!(excerpts, [Some("@brand my zipper case, any news?"), Some("Here is my order number")]);
}

#[tokio::test]
async fn bad_signatures_stale_timestamps_bad_json_and_big_bodies_are_refused_and_store_nothing() {
    let baton = memory();
    let body = serde_json::to_vec(&fixture("meta-message.json")).unwrap();
    let now = Timestamp::now();
    let cases: Vec<(&str, http::Request<Vec<u8>>, StatusCode, &str)> = vec![
        ("no signature", apigw("POST", "/webhooks/meta", &[], &body).0, StatusCode::UNAUTHORIZED, "missing"),
        (
            "wrong signature",
            apigw("POST", "/webhooks/meta", &[("X-Hub-Signature-256", &signature::sign_meta("other", &body))], &body).0,
            StatusCode::UNAUTHORIZED,
            "does not match",
        ),
        (
            "X body with Meta's signature",
            apigw(
                "POST",
                "/webhooks/x",
                &[("x-twitter-webhooks-signature", &signature::sign_meta("x-consumer-secret", &body))],
                &body,
            )
            .0,
            StatusCode::UNAUTHORIZED,
            "does not match",
        ),
        (
            "malformed JSON",
            apigw(
                "POST",
                "/webhooks/meta",
                &[("X-Hub-Signature-256", &signature::sign_meta("meta-app-secret", b"{\"object\":"))],
                b"{\"object\":",
            )
            .0,
            StatusCode::BAD_REQUEST,
            "not JSON",
        ),
        (
            "too large",
            apigw("POST", "/webhooks/meta", &[], &vec![b' '; handler::MAX_BODY + 1]).0,
            StatusCode::PAYLOAD_TOO_LARGE,
            "at most",
        ),
        ("wrong method", apigw("PUT", "/webhooks/meta", &[], b"").0, StatusCode::METHOD_NOT_ALLOWED, "PUT"),
        ("unknown path", apigw("POST", "/webhooks/other", &[], b"").0, StatusCode::NOT_FOUND, "no such route"),
    ];
    for (what, request, status, reason) in cases {
        let response = handler::webhook::handle(&baton.intake(), &secrets(), &request, now).await;
        assert_eq!(response.status(), status, "{what}: {}", response.body());
        assert!(body_json(&response)["error"].as_str().unwrap().contains(reason), "{what}: {}", response.body());
    }
    // Standard Webhooks: stale, from the future, replayed with another body.
    let generic = br#"{"id":"evt_1","type":"customer_message","at":"2026-04-13T08:00:00Z","customer":{"channel":"chat","id":"v-1"},"channel":"chat"}"#;
    let stale = post_generic(&baton, generic, "msg_1", now.as_second() - 301, now).await;
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    assert!(stale.body().contains("away from now"), "{}", stale.body());
    let future = post_generic(&baton, generic, "msg_1", now.as_second() + 400, now).await;
    assert_eq!(future.status(), StatusCode::UNAUTHORIZED);
    let signature = signature::sign_standard(WEBHOOK_SECRET, "msg_1", now.as_second(), generic).unwrap();
    let stamp = now.as_second().to_string();
    let tampered = br#"{"id":"evt_1","type":"customer_message","at":"2026-04-13T08:00:00Z","customer":{"channel":"chat","id":"v-2"},"channel":"chat"}"#;
    let headers =
        [("webhook-id", "msg_1"), ("webhook-timestamp", stamp.as_str()), ("webhook-signature", signature.as_str())];
    let replayed = handler::webhook::handle(
        &baton.intake(),
        &secrets(),
        &apigw("POST", "/webhooks/generic", &headers, tampered).0,
        now,
    )
    .await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);

    // Nothing was stored: no case is due, and the deliveries count as new when they come right.
    assert_eq!(baton.store.earliest_due().await.unwrap(), None);
    assert_eq!(body_json(&post_meta(&baton, &fixture("meta-message.json")).await)["applied"], 1);
    let accepted = post_generic(&baton, generic, "msg_1", now.as_second(), now).await;
    assert_eq!(body_json(&accepted)["opened"], 1, "{}", accepted.body());
    let again = post_generic(&baton, generic, "msg_2", now.as_second(), now).await;
    assert_eq!(body_json(&again)["duplicates"], 1, "the same event id delivered again: {}", again.body());
}

#[tokio::test]
async fn unknown_event_types_are_acknowledged_and_counted() {
    let baton = memory();
    let body = json!({"for_user_id": "1000000000000000001", "favorite_events": [{"id": "x"}]});
    let response = post_x(&baton, &body).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.body());
    let generic = br#"{"id":"evt_9","type":"ticket_tagged","at":"2026-04-13T08:00:00Z"}"#;
    let now = Timestamp::now();
    let tagged = post_generic(&baton, generic, "msg_9", now.as_second(), now).await;
    assert_eq!(tagged.status(), StatusCode::OK);
    assert_eq!(body_json(&tagged), json!({"applied": 0, "opened": 0, "duplicates": 0, "ignored": 1}));
}

#[tokio::test]
async fn email_spoof_spam_auto_replies_and_odd_headers() {
    let baton = memory();
    let mail = CollectMail::default();
    let run = |name: &'static str| {
        let event = fixture(name);
        let baton = &baton;
        let mail = &mail;
        async move { handler::email::handle(&baton.intake(), mail, &event).await.unwrap() }
    };
    // A spoofed agent address with DMARC FAIL stays a customer message: it opens a case.
    let (answer, tally) = run("ses-spoofed-agent.json").await;
    assert_eq!(answer, json!({"disposition": "CONTINUE"}));
    assert_eq!(tally.opened, 1);
    let spoofer = baton.store.lookup(&Key::Customer(Identity::Email("agent@brand.example".into()))).await.unwrap();
    assert!(spoofer.is_some(), "the spoof is a customer's case");
    // Spam is dropped and counted; an automatic reply moves nothing.
    assert_eq!(run("ses-spam.json").await.1.ignored, 1);
    assert_eq!(run("ses-auto-submitted.json").await.1.ignored, 1);
    // An encoded, folded subject, no Message-ID and truncated headers: still a case, threadable by
    // SES's id.
    let (_, tally) = run("ses-encoded-truncated.json").await;
    assert_eq!(tally.opened, 1);
    let id = baton.store.lookup(&Key::Message(MessageRef::email("g7odd@ses"))).await.unwrap();
    assert!(id.is_some());
    // Both opened cases were written to talk-to-us@ (central asks for acknowledgements), but only
    // the authenticated customer's is acknowledged: the spoof (DMARC FAIL) gets none from the brand.
    let acks = mail.drain();
    assert_eq!(acks.len(), 1, "{acks:?}");
    assert_eq!(acks[0].to, "juerg@example.ch");
    assert!(acks.iter().all(|a| a.from == "talk-to-us@brand.example" && a.subject().starts_with("[BTN-")));
}

#[tokio::test]
async fn case_api_statuses() {
    let baton = memory();
    handler::email::handle(&baton.intake(), &CollectMail::default(), &fixture("ses-customer.json")).await.unwrap();
    let case = "/cases/email:%3CCAFlea1-x9%40mail.example.ch%3E";
    let get = api(&baton, "GET", case, Value::Null).await;
    assert_eq!(get.status(), StatusCode::OK, "{}", get.body());
    let id = body_json(&get)["id"].as_str().unwrap().to_string();

    let handoff = api(&baton, "POST", &format!("/cases/{id}/handoff"), json!({"to_team": "support-ch"})).await;
    assert_eq!(handoff.status(), StatusCode::OK, "{}", handoff.body());
    for (method, path, body, status) in [
        ("POST", format!("/cases/{id}/handoff"), json!({"to_team": "support-ch"}), StatusCode::CONFLICT),
        ("POST", format!("/cases/{id}/handoff"), json!({"to_team": "nowhere"}), StatusCode::BAD_REQUEST),
        ("POST", format!("/cases/{id}/accept"), json!({"team": "support-de"}), StatusCode::CONFLICT),
        ("POST", format!("/cases/{id}/handoff"), json!({"to": "support-de"}), StatusCode::BAD_REQUEST),
        ("POST", "/cases/BTN-000000/accept".to_string(), json!({"team": "support-ch"}), StatusCode::NOT_FOUND),
        ("GET", "/cases/BTN-000000".to_string(), Value::Null, StatusCode::NOT_FOUND),
        ("POST", format!("/cases/{id}/fly"), json!({}), StatusCode::NOT_FOUND),
        ("DELETE", format!("/cases/{id}"), Value::Null, StatusCode::METHOD_NOT_ALLOWED),
        ("GET", "/customers/email:lea%40example.ch".to_string(), Value::Null, StatusCode::METHOD_NOT_ALLOWED),
        ("DELETE", "/customers/lea%40example.ch".to_string(), Value::Null, StatusCode::BAD_REQUEST),
        ("DELETE", "/customers/erased".to_string(), Value::Null, StatusCode::BAD_REQUEST),
        ("DELETE", "/customers".to_string(), Value::Null, StatusCode::NOT_FOUND),
    ] {
        let response = api(&baton, method, &path, body).await;
        assert_eq!(response.status(), status, "{method} {path}: {}", response.body());
        assert!(body_json(&response)["error"].is_string());
    }
    let (request, request_id) = apigw("POST", &format!("/cases/{id}/accept"), &[], b"{\"team\":");
    let bad = handler::api::handle(&baton.store, &baton.policy, &request, &request_id, Timestamp::now()).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let (request, request_id) = apigw("POST", &format!("/cases/{id}/accept"), &[], &vec![b' '; handler::MAX_BODY + 1]);
    assert_eq!(
        handler::api::handle(&baton.store, &baton.policy, &request, &request_id, Timestamp::now()).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // An Idempotency-Key makes a retried call a duplicate.
    let accept = serde_json::to_vec(&json!({"team": "support-ch"})).unwrap();
    let path = format!("/cases/{id}/accept");
    let (first, rid) = apigw("POST", &path, &[("Idempotency-Key", "k-1")], &accept);
    let accepted = handler::api::handle(&baton.store, &baton.policy, &first, &rid, Timestamp::now()).await;
    assert_eq!(body_json(&accepted)["applied"], true, "{}", accepted.body());
    let (second, rid) = apigw("POST", &path, &[("Idempotency-Key", "k-1")], &accept);
    assert_eq!(
        body_json(&handler::api::handle(&baton.store, &baton.policy, &second, &rid, Timestamp::now()).await)["duplicate"],
        true
    );

    // The customer asks to be forgotten: the case stays, anonymous, and no reference leads to it.
    let from = fixture("ses-customer.json")["Records"][0]["ses"]["mail"]["source"].as_str().unwrap().to_string();
    let erased = api(&baton, "DELETE", &format!("/customers/email:{}", from.replace('@', "%40")), Value::Null).await;
    assert_eq!(erased.status(), StatusCode::OK, "{}", erased.body());
    assert_eq!(body_json(&erased), json!({"erased": true, "identities": 1, "cases": [id]}));
    assert_eq!(api(&baton, "GET", case, Value::Null).await.status(), StatusCode::NOT_FOUND);
    let anonymous = body_json(&api(&baton, "GET", &format!("/cases/{id}"), Value::Null).await);
    assert_eq!(anonymous["identities"], json!([]));
    assert_eq!(anonymous["state"], "open");
    assert!(!anonymous.to_string().contains(&from) && !anonymous.to_string().contains("zipper"), "{anonymous}");
}

#[tokio::test]
async fn the_email_to_social_story_end_to_end_on_dynamodb() {
    let store = dynamodb::store("handlers-story").await;
    let baton = Baton::new(store.clone(), Collect::default(), Arc::new(Policy::default_policy()));
    let mail = CollectMail::default();
    for name in ["ses-customer.json", "ses-brand-reply.json", "ses-forward.json"] {
        let (answer, tally) = handler::email::handle(&baton.intake(), &mail, &fixture(name)).await.unwrap();
        assert_eq!(answer["disposition"], "CONTINUE");
        assert!(tally.applied >= 1, "{name}: {tally:?}");
    }
    assert_eq!(mail.drain().len(), 1, "one acknowledgement, for the opening mail");
    let tweet = post_x(&baton, &fixture("x-tweet.json")).await;
    assert_eq!(body_json(&tweet)["opened"], 1);
    let case = "/cases/email:%3CCAFlea1-x9%40mail.example.ch%3E";
    let link = api(&baton, "POST", &format!("{case}/link"), json!({"channel": "x", "identity": "3344556677"})).await;
    assert_eq!(link.status(), StatusCode::OK, "{}", link.body());

    let got = api(&baton, "GET", case, Value::Null).await;
    assert_eq!(got.status(), StatusCode::OK);
    let view = body_json(&got);
    let events: Vec<&str> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["signal"]["type"].as_str().unwrap_or_else(|| e["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        events,
        ["customer_message", "agent_reply", "handoff", "customer_message", "absorbed", "link"],
        "{:#}",
        view["timeline"]
    );
    assert_eq!(view["owner"], "support-ch");
    assert_eq!(view["state"], "handed_off");
    assert_eq!(view["channels"], json!(["email", "x"]));
    assert!(view["time_held"]["central"]["seconds"].as_i64() == Some(9000), "{}", view["time_held"]);
    assert!(view["time_held"]["support-ch"]["seconds"].as_i64().unwrap() > 0);
    // The tweet's own case is closed as merged, and its id leads to the same case.
    let tweet_case = api(&baton, "GET", "/cases/x:1912000000000000001", Value::Null).await;
    assert_eq!(body_json(&tweet_case)["id"], view["id"]);
}

/// GET on moto's own API: everything it holds, as JSON.
fn moto_data() -> Value {
    use std::io::{Read, Write};
    let address = common::moto::endpoint().trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(stream, "GET /moto-api/data.json HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (_, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    serde_json::from_str(body).unwrap()
}

#[tokio::test]
async fn the_acknowledgement_goes_out_through_ses_v2() {
    use baton::notify::mail::{Mailer, SesMailer, acknowledgement};
    let client = aws_sdk_sesv2::Client::new(&baton::config::local_aws(common::moto::endpoint()));
    client.create_email_identity().email_identity("brand.example").send().await.unwrap();

    let policy = Policy::default_policy();
    let parsed = baton::ingest::email::parse(&fixture("ses-customer.json"), &policy).unwrap();
    let case = "BTN-7K3QF9".parse().unwrap();
    let ack = acknowledgement(&parsed.inbound[0], &case, &policy).expect("central acknowledges");
    SesMailer::new(client).send(&ack).await.unwrap();

    let sent = moto_data()["ses"]["Message"].as_array().unwrap().clone();
    let ours = sent.iter().find(|m| m["subject"] == "[BTN-7K3QF9] We have your message").expect("sent");
    assert_eq!(ours["source"], "talk-to-us@brand.example");
    assert_eq!(ours["destinations"]["ToAddresses"], json!(["lea.kunde@example.ch"]));
    assert!(ours["body"].as_str().unwrap().contains("[BTN-7K3QF9]"));
}

/// Everything the fixtures hold that is personal or message content: addresses and message ids (any
/// token with an `@` and a dot), names, screen names, subjects and message texts.
fn personal_data(value: &Value, key: &str, found: &mut Vec<String>) {
    match value {
        // A mail header: its name is no one's data, its value may be.
        Value::Object(map) if map.contains_key("name") && map.contains_key("value") => {
            personal_data(&map["value"], "value", found)
        }
        Value::Object(map) => map.iter().for_each(|(k, v)| personal_data(v, k, found)),
        Value::Array(items) => items.iter().for_each(|v| personal_data(v, key, found)),
        Value::String(text) => {
            if matches!(key, "text" | "message" | "subject" | "name" | "screen_name") && text.len() > 3 {
                found.push(text.clone());
            }
            let address = |c: char| c.is_ascii_alphanumeric() || "._%+-@".contains(c);
            for token in text.split(|c| !address(c)) {
                if let Some((local, domain)) = token.split_once('@')
                    && !local.is_empty()
                    && domain.contains('.')
                {
                    found.push(token.to_string());
                }
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_logs_of_a_full_run_hold_no_bodies_addresses_or_secrets() {
    let logs = logs::capture();

    let baton = memory();
    let mail = CollectMail::default();
    let mut personal = Vec::new();
    for name in [
        "ses-customer.json",
        "ses-brand-reply.json",
        "ses-forward.json",
        "ses-spoofed-agent.json",
        "ses-spam.json",
        "ses-auto-submitted.json",
        "ses-encoded-truncated.json",
    ] {
        let event = fixture(name);
        personal_data(&event, "", &mut personal);
        handler::email::handle(&baton.intake(), &mail, &event).await.unwrap();
    }
    for name in ["meta-message.json", "meta-echo.json", "meta-feed-comment.json"] {
        let body = fixture(name);
        personal_data(&body, "", &mut personal);
        assert_eq!(post_meta(&baton, &body).await.status(), StatusCode::OK, "{name}");
    }
    for name in ["x-tweet.json", "x-dm.json"] {
        let body = fixture(name);
        personal_data(&body, "", &mut personal);
        assert_eq!(post_x(&baton, &body).await.status(), StatusCode::OK, "{name}");
    }
    // Refused deliveries log why, not what: a bad signature, and a body that is not JSON.
    let body = serde_json::to_vec(&fixture("meta-message.json")).unwrap();
    let (request, _) = apigw("POST", "/webhooks/meta", &[("X-Hub-Signature-256", "sha256=00")], &body);
    let refused = handler::webhook::handle(&baton.intake(), &secrets(), &request, Timestamp::now()).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let now = Timestamp::now().as_second();
    let secret_text = b"{\"text\": \"my card number is 4111 1111 1111 1111\"";
    post_generic(&baton, secret_text, "msg_log1", now, Timestamp::now()).await;
    personal.push("4111 1111 1111 1111".into());
    // The case API, by a message reference, with an identity to link and a note.
    let case = "/cases/meta:m_lea1";
    api(&baton, "POST", &format!("{case}/handoff"), json!({"to_team": "support-ch", "note": "customer lives in Bern"}))
        .await;
    api(&baton, "POST", &format!("{case}/link"), json!({"channel": "email", "identity": "lea.kunde@example.ch"})).await;
    api(&baton, "POST", &format!("{case}/link"), json!({"channel": "email", "identity": "not an address"})).await;
    api(&baton, "GET", case, Value::Null).await;
    let erased = api(&baton, "DELETE", "/customers/email:lea.kunde%40example.ch", Value::Null).await;
    assert_eq!(body_json(&erased)["erased"], true, "{}", erased.body());
    personal.extend(["customer lives in Bern".into(), "lea.kunde@example.ch".into()]);
    // A sweep a week later, with alerts for every case.
    let event = serde_json::from_value(fixture("eventbridge-scheduled.json")).unwrap();
    let later = Timestamp::now() + jiff::SignedDuration::from_hours(24 * 7);
    handler::sweep::handle(&baton.sweeper(), &event, later, std::time::Duration::from_secs(60)).await.unwrap();

    let log = logs.text();
    for expected in ["mail handled", "delivery handled", "request rejected", "customer erased", "sweep done"] {
        assert!(log.contains(expected), "the run logs `{expected}`:\n{log}");
    }
    personal.sort();
    personal.dedup();
    assert!(personal.len() > 20, "the fixtures hold personal data to look for: {personal:?}");
    let secrets = ["meta-app-secret", "x-consumer-secret", "verify-me", WEBHOOK_SECRET, &WEBHOOK_SECRET[6..]];
    for needle in personal.iter().map(String::as_str).chain(secrets) {
        assert!(!log.contains(needle), "the log holds `{needle}`:\n{log}");
    }
}
