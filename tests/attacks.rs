//! Attacks on ingest, each performed as an attacker would, through the functions' handlers with
//! real-shaped payloads: forged X deliveries signed by the CRC, spoofed agents (SPF and DKIM passing
//! for another domain, a comment that holds the agent's address), an acknowledgement flood, a case
//! tag injected by a stranger, and a reused Message-ID. Each failed on the code before the fix.

mod common;

use std::sync::Arc;

use baton::domain::case::{Case, CaseState, Whole};
use baton::domain::clock::ClockKind;
use baton::domain::ids::{CaseId, Identity, MessageRef};
use baton::domain::policy::Policy;
use baton::domain::signal::{Signal, SignalKind};
use baton::handler::{self, Tally};
use baton::ingest::{CaseRef, Inbound, Route};
use baton::notify::Collect;
use baton::notify::mail::CollectMail;
use baton::service::{Baton, Outcome};
use baton::store::memory::MemoryStore;
use baton::store::{Cases, Key, Limiter, Store};
use common::http::{apigw, body_json};
use common::mail::Mail;
use common::{agent_replies, dynamodb, secrets};
use http::StatusCode;
use jiff::Timestamp;
use serde_json::json;

fn memory() -> Baton<MemoryStore, Collect> {
    Baton::new(MemoryStore::new(), Collect::default(), Arc::new(Policy::default_policy()))
}

async fn deliver<S: Store + Limiter>(baton: &Baton<S, Collect>, mail: &Mail, acks: &CollectMail) -> Tally {
    handler::email::handle(&baton.intake(), acks, &mail.event()).await.unwrap().1
}

async fn case_of<S: Store>(baton: &Baton<S, Collect>, who: &str) -> Option<Case> {
    let id = baton.store.lookup(&Key::Customer(Identity::Email(who.into()))).await.unwrap()?;
    baton.store.load_whole(&id).await.unwrap().map(Whole::into_case)
}

#[tokio::test]
async fn the_x_crc_cannot_be_made_to_sign_a_forged_delivery() {
    let baton = memory();
    // A customer's public complaint, delivered by X.
    let complaint = json!({"for_user_id": "1000000000000000001", "tweet_create_events": [{
        "created_at": "Tue Apr 21 07:15:00 +0000 2026", "id_str": "555", "text": "@brand 8 days, no answer",
        "user": {"id_str": "3344556677", "screen_name": "max"}}]});
    assert_eq!(common::http::post_x(&baton, &complaint).await.status(), StatusCode::OK);
    // The forged delivery: the brand's account "answers" the customer, which would stop the clocks.
    let forged = json!({"for_user_id": "1000000000000000001", "tweet_create_events": [{
        "created_at": "Tue Apr 21 07:40:00 +0000 2026", "id_str": "666", "text": "@max sorted!",
        "in_reply_to_status_id_str": "555", "in_reply_to_user_id_str": "3344556677",
        "user": {"id_str": "1000000000000000001", "screen_name": "brand"}}]});
    let body = forged.to_string();
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("crc_token", &body).finish();
    let (crc, _) = apigw("GET", &format!("/webhooks/x?{query}"), &[], b"");
    let answer = handler::webhook::handle(&baton.intake(), &secrets(), &crc, Timestamp::now()).await;
    // Whatever came back is the attacker's signature for the body.
    let token = body_json(&answer)["response_token"].as_str().unwrap_or("sha256=").to_string();
    let (post, _) = apigw("POST", "/webhooks/x", &[("x-twitter-webhooks-signature", &token)], body.as_bytes());
    let delivery = handler::webhook::handle(&baton.intake(), &secrets(), &post, Timestamp::now()).await;

    assert_eq!(baton.store.lookup(&Key::Message(MessageRef::x("666"))).await.unwrap(), None, "the forgery landed");
    assert_eq!(delivery.status(), StatusCode::UNAUTHORIZED, "{}", delivery.body());
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{}", answer.body());
    // X's own tokens (base64 of a UUID) are still answered.
    let (real, _) = apigw("GET", "/webhooks/x?crc_token=NjQ4OGUwZjMtNzg5Yi00Mzc0LTkxYjctOGEzZjJhYzk5MjQ3", &[], b"");
    assert_eq!(
        handler::webhook::handle(&baton.intake(), &secrets(), &real, Timestamp::now()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn spf_and_dkim_passing_for_another_domain_do_not_make_an_agent() {
    let (baton, acks) = (memory(), CollectMail::default());
    let customer = Mail::default();
    deliver(&baton, &customer, &acks).await;
    // The attacker's server passes SPF and DKIM for its own domain; DMARC (alignment with the From
    // domain) fails.
    let spoof = Mail {
        from: "Brand Care <agent@brand.example>".into(),
        to: "lea.kunde@example.ch".into(),
        subject: "Re: Broken zipper".into(),
        in_reply_to: Some(customer.message_id.clone()),
        envelope: "bounce@evil.example".into(),
        dmarc: "FAIL",
        ..Mail::default()
    };
    deliver(&baton, &spoof, &acks).await;
    let case = case_of(&baton, "lea.kunde@example.ch").await.unwrap();
    assert_eq!(agent_replies(&case), 0, "the spoof stopped the customer's clock");
    assert!(case.clocks().contains_key(&ClockKind::FirstResponse), "first_response stopped");
}

#[tokio::test]
async fn an_agent_address_inside_a_comment_is_a_comment() {
    let (baton, acks) = (memory(), CollectMail::default());
    let customer = Mail::default();
    deliver(&baton, &customer, &acks).await;
    // DMARC passes for the attacker's own domain; the agent's address is only in a comment.
    let spoof = Mail {
        from: "attacker@evil.example (<agent@brand.example>)".into(),
        to: "lea.kunde@example.ch".into(),
        subject: "Re: Broken zipper".into(),
        in_reply_to: Some(customer.message_id.clone()),
        envelope: "attacker@evil.example".into(),
        ..Mail::default()
    };
    deliver(&baton, &spoof, &acks).await;
    let case = case_of(&baton, "lea.kunde@example.ch").await.unwrap();
    assert_eq!(agent_replies(&case), 0, "the comment was read as the sender");
    assert!(case.clocks().contains_key(&ClockKind::FirstResponse), "first_response stopped");
}

#[tokio::test]
async fn a_flood_of_mails_gets_at_most_the_limits_acknowledgements() {
    let (baton, acks) = (memory(), CollectMail::default());
    // Spoofed senders (DMARC FAIL): the brand's domain must not write to them at all.
    for n in 0..10 {
        let victim = format!("victim{n}@example.org");
        let mail =
            Mail { from: victim.clone(), envelope: "bulk@evil.example".into(), dmarc: "FAIL", ..Mail::default() };
        deliver(&baton, &mail, &acks).await;
    }
    assert_eq!(acks.drain().len(), 0, "spoofed senders were acknowledged");
    // Authenticated senders of one domain: at most the domain's hourly limit.
    let mut withheld = 0;
    for n in 0..30 {
        let sender = format!("user{n}@example.net");
        let mail = Mail { from: sender.clone(), envelope: sender, ..Mail::default() };
        withheld += deliver(&baton, &mail, &acks).await.acks_withheld;
    }
    let sent = acks.drain().len();
    assert_eq!(sent, baton::notify::mail::ACKS_PER_DOMAIN_PER_HOUR as usize);
    assert_eq!(withheld, 30 - sent);
    // Bulk, list and bounce mail is never acknowledged.
    for extra in [("Precedence", "bulk"), ("List-Id", "<news.example.com>")] {
        let mail = Mail {
            from: "news@example.com".into(),
            envelope: "news@example.com".into(),
            extra: vec![(extra.0.into(), extra.1.into())],
            ..Mail::default()
        };
        deliver(&baton, &mail, &acks).await;
    }
    let bounce = Mail { from: "postmaster@example.com".into(), envelope: "".into(), ..Mail::default() };
    deliver(&baton, &bounce, &acks).await;
    assert_eq!(acks.drain().len(), 0);
}

#[tokio::test]
async fn the_acknowledgement_limits_hold_on_dynamodb() {
    let store = dynamodb::store("ack_limits").await;
    let now: Timestamp = "2026-04-13T06:30:00Z".parse().unwrap();
    let day = std::time::Duration::from_secs(86_400);
    let mut taken = 0;
    // Ten at once: the conditional update lets exactly the limit through.
    let tries = (0..10).map(|_| store.take("ack-address:max@example.ch", 3, day, now));
    for ok in futures::future::join_all(tries).await {
        taken += usize::from(ok.unwrap());
    }
    assert_eq!(taken, 3);
    // The next day has its own window.
    assert!(
        store.take("ack-address:max@example.ch", 3, day, now + jiff::SignedDuration::from_hours(24)).await.unwrap()
    );
}

#[tokio::test]
async fn a_strangers_tag_neither_joins_nor_reopens_the_customers_case() {
    let (baton, acks) = (memory(), CollectMail::default());
    let customer = Mail::default();
    deliver(&baton, &customer, &acks).await;
    let case = case_of(&baton, "lea.kunde@example.ch").await.unwrap();
    // A stranger without DMARC, whose SPF does not pass, writes with the customer's tag.
    let stranger = Mail {
        from: "stranger@evil.example".into(),
        subject: format!("Re: [{}] please close this", case.id()),
        envelope: "stranger@evil.example".into(),
        dmarc: "GRAY",
        spf: "FAIL",
        ..Mail::default()
    };
    let tally = deliver(&baton, &stranger, &acks).await;
    let after = baton.store.load_whole(case.id()).await.unwrap().unwrap();
    assert!(!after.identities().contains(&Identity::Email("stranger@evil.example".into())), "the stranger joined");
    assert_eq!(tally.opened, 1, "the stranger's mail is a case of its own, never dropped");

    // Closed, the case is not reopened by a stranger's tag either.
    close(&baton, case.id()).await;
    let again = Mail {
        message_id: "<again@evil.example>".into(),
        ses_id: "ses-again".into(),
        timestamp: "2026-04-20T06:30:00.000Z".into(),
        ..stranger
    };
    assert_eq!(deliver(&baton, &again, &acks).await.applied, 1, "dropped");
    assert_eq!(baton.store.load(case.id()).await.unwrap().unwrap().state(), CaseState::Closed);
    let strangers = case_of(&baton, "stranger@evil.example").await.unwrap();
    assert_ne!(strangers.id(), case.id());
    assert_eq!(strangers.timeline().len(), 2, "both of the stranger's mails are on a case of their own");
}

#[tokio::test]
async fn a_tag_that_names_no_case_falls_back_to_the_customers_case() {
    let (baton, acks) = (memory(), CollectMail::default());
    let first = Mail::default();
    deliver(&baton, &first, &acks).await;
    let typo = Mail { subject: "Re: [BTN-ZZZZZZ] still broken".into(), ..Mail::default() };
    let tally = deliver(&baton, &typo, &acks).await;
    assert_eq!((tally.applied, tally.opened), (1, 0), "{tally:?}");
    // With no case of the customer's open, it opens one.
    let other = Mail {
        from: "new@example.ch".into(),
        envelope: "new@example.ch".into(),
        subject: typo.subject,
        ..Mail::default()
    };
    assert_eq!(deliver(&baton, &other, &acks).await.opened, 1);
}

async fn close<S: Store>(baton: &Baton<S, Collect>, id: &CaseId) {
    for (n, kind) in [SignalKind::ResolutionProposed, SignalKind::CustomerConfirmation].into_iter().enumerate() {
        let at: Timestamp = format!("2026-04-1{}T08:00:00Z", 4 + n).parse().unwrap();
        let inbound = Inbound {
            signal: Signal::new(at, format!("api:close-{n}"), kind),
            route: Route { case: Some(CaseRef::Id(id.clone())), ..Route::default() },
        };
        assert!(matches!(baton.ingest(&inbound).await.unwrap(), Outcome::Applied { .. }));
    }
}

/// A sender reuses a Message-ID the customer's case holds: later replies must still thread to the
/// customer's case. In memory and on DynamoDB Local (where a conditional write keeps the pointer).
async fn message_id_hijack<S: Store + Limiter>(baton: Baton<S, Collect>) {
    let acks = CollectMail::default();
    let customer = Mail { message_id: "<zip-1@mail.example.ch>".into(), ..Mail::default() };
    deliver(&baton, &customer, &acks).await;
    let victim = case_of(&baton, "lea.kunde@example.ch").await.unwrap().id().clone();
    let hijack = Mail {
        from: "mallory@evil.example".into(),
        envelope: "mallory@evil.example".into(),
        message_id: "<zip-1@mail.example.ch>".into(),
        subject: "hello".into(),
        ..Mail::default()
    };
    assert_eq!(deliver(&baton, &hijack, &acks).await.opened, 1);
    // The brand answers the customer's mail.
    let reply = Mail {
        from: "talk-to-us@brand.example".into(),
        to: "lea.kunde@example.ch".into(),
        envelope: "talk-to-us@brand.example".into(),
        subject: "Re: Broken zipper".into(),
        in_reply_to: Some("<zip-1@mail.example.ch>".into()),
        timestamp: "2026-04-13T07:00:00.000Z".into(),
        ..Mail::default()
    };
    deliver(&baton, &reply, &acks).await;
    let pointer = baton.store.lookup(&Key::Message(MessageRef::email("<zip-1@mail.example.ch>"))).await.unwrap();
    assert_eq!(pointer, Some(victim.clone()));
    let case = baton.store.load_whole(&victim).await.unwrap().unwrap();
    assert_eq!(agent_replies(&case), 1, "the reply went to the hijacker's case");
}

#[tokio::test]
async fn a_reused_message_id_cannot_steer_replies_in_memory() {
    message_id_hijack(memory()).await;
}

#[tokio::test]
async fn a_reused_message_id_cannot_steer_replies_on_dynamodb() {
    let store = dynamodb::store("hijack").await;
    message_id_hijack(Baton::new(store, Collect::default(), Arc::new(Policy::default_policy()))).await;
}

#[tokio::test]
async fn a_delivery_of_thousands_of_entries_left_unfinished_is_finished_by_the_retry_without_doubles() {
    let baton = memory();
    let mut body = common::fixture("field/meta/messenger-message.json");
    let template = body["entry"][0].clone();
    let entries: Vec<serde_json::Value> = (0..2_000)
        .map(|n| {
            let mut entry = template.clone();
            entry["messaging"][0]["sender"]["id"] = json!(format!("{}", 9_000_000 + n));
            entry["messaging"][0]["message"]["mid"] = json!(format!("m_{n}"));
            entry
        })
        .collect();
    body["entry"] = serde_json::Value::Array(entries);
    let raw = body.to_string();
    let signature = baton::ingest::signature::sign_meta("meta-app-secret", raw.as_bytes());
    let (request, _) = apigw("POST", "/webhooks/meta", &[("X-Hub-Signature-256", &signature)], raw.as_bytes());
    // A budget that runs out part of the way: the platform is told to deliver it again.
    let budget = std::time::Duration::from_millis(50);
    let first = handler::webhook::handle_within(&baton.intake(), &secrets(), &request, Timestamp::now(), budget).await;
    assert_eq!(first.status(), StatusCode::SERVICE_UNAVAILABLE, "{}", first.body());
    let done = body_json(&first)["done"]["applied"].as_u64().unwrap();
    assert!(done < 2_000, "the budget did not cut the delivery");
    // Meta delivers it again, whole: what was applied is a duplicate, the rest is applied once.
    let second = handler::webhook::handle(&baton.intake(), &secrets(), &request, Timestamp::now()).await;
    assert_eq!(second.status(), StatusCode::OK, "{}", second.body());
    let second = body_json(&second);
    assert_eq!(second["duplicates"].as_u64().unwrap(), done);
    assert_eq!(second["applied"].as_u64().unwrap() + done, 2_000);
}

#[tokio::test]
async fn a_rejected_case_api_body_is_not_repeated_to_the_caller_or_the_log() {
    let baton = memory();
    let customer = Mail::default();
    deliver(&baton, &customer, &CollectMail::default()).await;
    let case = case_of(&baton, "lea.kunde@example.ch").await.unwrap();
    for body in [
        json!({"channel": "email", "identity": "max muster@example.ch"}),
        json!({"channel": "email", "identity": ["max.muster@example.ch"]}),
        json!({"channel": "max.muster@example.ch", "identity": "x"}),
    ] {
        let raw = body.to_string();
        let (request, id) = apigw("POST", &format!("/cases/{}/link", case.id()), &[], raw.as_bytes());
        let response = handler::api::handle(&baton.store, &baton.policy, &request, &id, Timestamp::now()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{}", response.body());
        assert!(!response.body().contains("muster"), "the rejection repeats the input: {}", response.body());
    }
}
