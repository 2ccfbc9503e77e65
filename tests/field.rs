//! The payload corpus of `tests/fixtures/field/` (sources in its SOURCES.md): payloads from Meta's,
//! X's and AWS's own documentation and public fixture collections, raw mails from public mail-parser
//! corpora, and the Standard Webhooks test vectors, each run through the functions' handlers.

mod common;

use std::sync::Arc;

use baton::domain::case::Case;
use baton::domain::clock::ClockKind;
use baton::domain::ids::{Identity, MessageRef};
use baton::domain::policy::Policy;
use baton::handler::{self, Tally};
use baton::ingest::signature::{self, StandardHeaders};
use baton::notify::Collect;
use baton::notify::mail::CollectMail;
use baton::service::Baton;
use baton::store::memory::MemoryStore;
use baton::store::{Cases, Key, Store};
use common::http::{body_json, post_meta, post_x};
use common::mail::raw_event;
use common::{agent_replies, fixture};
use http::StatusCode;
use jiff::Timestamp;
use serde_json::Value;

fn memory() -> Baton<MemoryStore, Collect> {
    Baton::new(MemoryStore::new(), Collect::default(), Arc::new(Policy::default_policy()))
}

fn field(name: &str) -> Value {
    fixture(&format!("field/{name}"))
}

fn tally(response: &http::Response<String>) -> Tally {
    assert_eq!(response.status(), StatusCode::OK, "{}", response.body());
    let body = body_json(response);
    let count = |key: &str| body[key].as_u64().unwrap_or(0) as usize;
    Tally {
        applied: count("applied"),
        opened: count("opened"),
        duplicates: count("duplicates"),
        ignored: count("ignored"),
        unreadable: count("unreadable"),
        erased: count("erased"),
        ..Tally::default()
    }
}

async fn case_by_ref<S: Store>(baton: &Baton<S, Collect>, reference: MessageRef) -> Case {
    let id = baton.store.lookup(&Key::Message(reference.clone())).await.unwrap();
    let id = id.unwrap_or_else(|| panic!("no case holds {reference}"));
    baton.store.load_whole(&id).await.unwrap().unwrap().into_case()
}

#[tokio::test]
async fn an_instagram_comment_is_dated_by_its_seconds_not_in_1970() {
    let baton = memory();
    let t = tally(&post_meta(&baton, &field("meta/instagram-comments.json")).await);
    assert_eq!(t.opened, 1, "{t:?}");
    let case = case_by_ref(&baton, MessageRef::meta("17865799348089039")).await;
    // entry.time 1785108996 is seconds: 2026-07-26, and public: first_response is due within hours.
    assert_eq!(case.opened_at(), Timestamp::from_second(1785108996).unwrap());
    assert!(case.clocks()[&ClockKind::FirstResponse].due_at > case.opened_at());
}

#[tokio::test]
async fn a_brand_reply_in_standby_stops_the_clock() {
    let baton = memory();
    assert_eq!(tally(&post_meta(&baton, &field("meta/messenger-message.json")).await).opened, 1);
    let t = tally(&post_meta(&baton, &field("meta/messenger-standby.json")).await);
    assert_eq!(t.applied, 1, "the standby echo was dropped: {t:?}");
    let case = case_by_ref(&baton, MessageRef::meta("mid.1457764197618:41d102a3e1ae206a38")).await;
    assert_eq!(agent_replies(&case), 1);
    assert!(!case.clocks().contains_key(&ClockKind::FirstResponse));
}

#[tokio::test]
async fn deliveries_reads_and_other_events_are_counted_not_refused() {
    let baton = memory();
    for name in ["meta/message-deliveries.json", "meta/message-reads.json"] {
        let t = tally(&post_meta(&baton, &field(name)).await);
        assert_eq!((t.applied, t.ignored), (0, 1), "{name}: {t:?}");
    }
    for name in [
        "x/user-event-revoke.json",
        "x/favorite-events.json",
        "x/direct-message-indicate-typing-events.json",
        "x/direct-message-mark-read-events.json",
    ] {
        let t = tally(&post_x(&baton, &field(name)).await);
        assert_eq!(t.applied, 0, "{name}: {t:?}");
        assert!(t.ignored >= 1, "{name} was not counted: {t:?}");
    }
}

#[tokio::test]
async fn feed_comments_with_and_without_from_become_signals() {
    let baton = memory();
    assert_eq!(tally(&post_meta(&baton, &field("meta/feed-comment.json")).await).opened, 1);
    // Older payloads name the author in `sender_id` (here the page itself: the page's own comment,
    // a reply to a post nobody else wrote on).
    let t = tally(&post_meta(&baton, &field("meta/feed-comment-no-from.json")).await);
    assert_eq!(t.ignored, 1, "{t:?}");
    assert_eq!(t.unreadable, 0, "{t:?}");
}

#[tokio::test]
async fn one_unreadable_entry_does_not_sink_the_rest_of_the_delivery() {
    let baton = memory();
    let mut body = field("meta/messenger-message.json");
    let good = body["entry"][0].clone();
    // A comment without any author, and an entry whose messaging item has the wrong types.
    let mut no_author = field("meta/feed-comment.json")["entry"][0].clone();
    no_author["changes"][0]["value"].as_object_mut().unwrap().remove("from");
    let mut broken = good.clone();
    broken["messaging"][0]["timestamp"] = Value::String("max@example.ch".into());
    body["entry"] = Value::Array(vec![no_author, broken, good]);
    let response = post_meta(&baton, &body).await;
    let t = tally(&response);
    assert_eq!((t.opened, t.unreadable), (1, 2), "{t:?}");
    assert!(!response.body().contains("max@example.ch"), "a rejection repeated the input");
}

#[tokio::test]
async fn x_tweets_and_direct_messages_from_the_documentation_become_cases() {
    let baton = memory();
    for (name, reference) in [
        ("x/tweet-create-events.json", None),
        ("x/tweet-create-events-mention.json", None),
        ("x/tweet-create-events-longform.json", None),
        ("x/direct-message-events.json", Some(MessageRef::x("954491830116155396"))),
        ("x/direct-message-events-captured-no-apps.json", None),
    ] {
        let t = tally(&post_x(&baton, &field(name)).await);
        assert_eq!(t.unreadable, 0, "{name}: {t:?}");
        assert_eq!(t.applied + t.ignored, 1, "{name}: {t:?}");
        if let Some(reference) = reference {
            let case = case_by_ref(&baton, reference).await;
            assert_eq!(case.opened_at(), Timestamp::from_millisecond(1516403560557).unwrap());
        }
    }
}

#[tokio::test]
async fn a_deleted_tweet_loses_its_excerpt_and_keeps_its_timing() {
    let baton = memory();
    let mut tweet = field("x/tweet-create-events.json");
    let deletion = field("x/tweet-delete-events.json");
    // The tweet the documentation deletes, from a customer of the brand's account.
    let deleted = deletion["tweet_delete_events"][0]["status"]["id"].as_str().unwrap().to_string();
    tweet["tweet_create_events"][0]["id_str"] = Value::String(deleted.clone());
    tweet["for_user_id"] = Value::String("1000000000000000001".into());
    assert_eq!(tally(&post_x(&baton, &tweet).await).applied, 1);
    let before = case_by_ref(&baton, MessageRef::x(&deleted)).await;
    assert!(before.timeline().iter().any(|e| e.excerpt().is_some()));
    let t = tally(&post_x(&baton, &deletion).await);
    assert_eq!(t.erased, 1, "{t:?}");
    let after = case_by_ref(&baton, MessageRef::x(&deleted)).await;
    assert!(after.timeline().iter().all(|e| e.excerpt().is_none()), "the deleted tweet's text is still held");
    assert_eq!(after.opened_at(), before.opened_at());
    assert_eq!(after.timeline().len(), before.timeline().len());
}

#[tokio::test]
async fn the_ses_events_of_the_aws_documentation_become_cases() {
    for name in ["ses/lambda-action-event-awsdocs.json", "ses/lambda-action-event-aws-lambda-go.json"] {
        let baton = memory();
        let (answer, t) = handler::email::handle(&baton.intake(), &CollectMail::default(), &field(name)).await.unwrap();
        assert_eq!(answer["disposition"], "CONTINUE");
        assert_eq!(t.opened, 1, "{name}: {t:?}");
    }
}

/// What a raw mail of the corpus must come to.
enum Expect {
    /// A case for this sender, holding this Message-ID (and threading these references).
    Case { from: &'static str, id: &'static str, thread: &'static [&'static str] },
    /// Skipped and counted: no single usable From.
    Unusable,
    /// Skipped and counted: an automatic mail (`Auto-Submitted`).
    Skipped,
}

#[tokio::test]
async fn raw_mails_with_comments_groups_encoded_words_and_odd_ids_are_read_as_rfc_5322_says() {
    use Expect::*;
    let corpus = [
        ("bounce-mailer-daemon-from-with-comment.eml", "", Skipped),
        (
            "comments-in-addresses-named-group-folded-date.eml",
            "pete@silly.test",
            Case { from: "pete@silly.test", id: "testabcd.1234@silly.test", thread: &[] },
        ),
        (
            "duplicate-references-folded-invalid-id.eml",
            "redacted@flashmail.net",
            Case {
                from: "redacted@flashmail.net",
                id: "105647271315.NCV17523@x263.net",
                thread: &["foo@bar.net", "baz@bar.net"],
            },
        ),
        (
            "group-syntax-named-and-undisclosed.eml",
            "pete@silly.example",
            Case { from: "pete@silly.example", id: "testabcd.1234@silly.example", thread: &[] },
        ),
        (
            "in-reply-to-and-references.eml",
            "jdoe@machine.example",
            Case {
                from: "jdoe@machine.example",
                id: "abcd.1234@local.machine.tld",
                thread: &["3456@example.net", "1234@local.machine.example"],
            },
        ),
        (
            "mbox-from-line-folded-rfc2047-subject-iso2022jp.eml",
            "atsushi@example.com",
            Case {
                from: "atsushi@example.com",
                id: "0CC5E11ED2C1D@example.com",
                thread: &["rid_5582199198@msgid.example.com"],
            },
        ),
        (
            "message-id-with-trailing-comment-added-by-postmaster.eml",
            "linux-kernel-owner@vger.kernel.org",
            Case { from: "per.jessen@enidan.com", id: "3B5D8A0A002D181A@mta2n.bluewin.ch", thread: &[] },
        ),
        ("multiple-from-addresses-comma.eml", "test@lindsaar.net", Unusable),
        ("multiple-from-addresses-space-separated.eml", "www-data@mangaverde.net", Unusable),
        (
            "obsolete-syntax-spaces-and-comments-in-message-id.eml",
            "jdoe@machine.example",
            Case { from: "jdoe@machine.example", id: "1234@local.machine.example", thread: &[] },
        ),
        (
            "rfc2047-folded-encoded-from-and-subject.eml",
            "carol@mysurvey.com",
            Case { from: "carol@mysurvey.com", id: "", thread: &[] },
        ),
        (
            "undisclosed-recipients-space-before-semicolon.eml",
            "ceciledwards@sbcglobal.net",
            Case { from: "ceciledwards@sbcglobal.net", id: "203751.85280.qm@web82107.mail.mud.yahoo.com", thread: &[] },
        ),
        (
            "list-id-precedence-list.eml",
            "calpas2007@yahoo.fr",
            Case { from: "calpas2007@yahoo.fr", id: "325993.29502.qm@web28416.mail.ukl.yahoo.com", thread: &[] },
        ),
        (
            "bounce-null-return-path.eml",
            "",
            Case {
                from: "postmaster@ci.com",
                id: "20100629154244.OZPA15102.schemailmta04.ci.com@schemailmta04",
                thread: &[],
            },
        ),
        ("message-id-without-angle-brackets.eml", "bb@bug.com", Unusable),
    ];
    let mut problems = Vec::new();
    for (name, envelope, expect) in corpus {
        let path = format!("{}/tests/fixtures/field/mail/{name}", env!("CARGO_MANIFEST_DIR"));
        let raw = std::fs::read(&path).unwrap();
        let baton = memory();
        let acks = CollectMail::default();
        let (_, t) = handler::email::handle(&baton.intake(), &acks, &raw_event(&raw, envelope)).await.unwrap();
        match expect {
            Unusable | Skipped => {
                let parsed = baton::ingest::email::parse(&raw_event(&raw, envelope), &baton.policy).unwrap();
                let reason_fits = parsed.skipped.iter().all(|s| match expect {
                    Unusable => matches!(s, baton::ingest::Skipped::Unusable(_)),
                    _ => matches!(s, baton::ingest::Skipped::AutoSubmitted),
                });
                if (t.opened, t.ignored) != (0, 1) || !reason_fits {
                    problems.push(format!("{name}: expected skipped, got {t:?} {:?}", parsed.skipped));
                }
            }
            Case { from, id, thread } => {
                let found = baton.store.lookup(&Key::Customer(Identity::Email(from.into()))).await.unwrap();
                let Some(case) = found else {
                    problems.push(format!("{name}: no case for {from}: {t:?}"));
                    continue;
                };
                if !id.is_empty() {
                    let held = baton.store.lookup(&Key::Message(MessageRef::email(id))).await.unwrap();
                    if held.as_ref() != Some(&case) {
                        problems.push(format!("{name}: its Message-ID <{id}> does not lead to its case"));
                    }
                }
                // The ids it answers were read, so it threads to the case that holds them.
                let parsed = baton::ingest::email::parse(&raw_event(&raw, envelope), &baton.policy).unwrap();
                let read: Vec<MessageRef> = parsed.inbound.iter().flat_map(|i| i.route.thread.clone()).collect();
                for parent in thread {
                    if !read.contains(&MessageRef::email(parent)) {
                        problems.push(format!("{name}: the reference <{parent}> was not read ({read:?})"));
                    }
                }
                if (envelope.is_empty() || name.starts_with("list-id")) && !acks.drain().is_empty() {
                    problems.push(format!("{name}: a bounce or list mail was acknowledged"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_standard_webhooks_test_vectors_verify_as_the_official_libraries_say() {
    let vectors = field("standard-webhooks/vectors.json");
    let mut checked = 0;
    for v in vectors["vectors"].as_array().unwrap() {
        let (Some(secret), Some(id), Some(payload)) =
            (v["secret"].as_str(), v["msg_id"].as_str(), v["payload"].as_str())
        else {
            continue;
        };
        let Some(timestamp) = v["timestamp"].as_i64() else { continue };
        let header = v["expected_signature"].as_str().or(v["presented_signature_header"].as_str()).unwrap();
        let stamp = timestamp.to_string();
        let headers = StandardHeaders { id: Some(id), timestamp: Some(&stamp), signature: Some(header) };
        let now = Timestamp::from_second(timestamp + 1).unwrap();
        let verified = signature::verify_standard(secret, headers, payload.as_bytes(), now).is_ok();
        assert_eq!(verified, v["valid"].as_bool().unwrap(), "{}", v["name"]);
        if let Some(expected) = v["expected_signature"].as_str() {
            assert_eq!(signature::sign_standard(secret, id, timestamp, payload.as_bytes()).unwrap(), expected);
            let bare = v["secret_without_prefix"].as_str().unwrap_or(secret);
            assert_eq!(signature::sign_standard(bare, id, timestamp, payload.as_bytes()).unwrap(), expected);
        }
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} vectors checked");
}

/// The official Standard Webhooks library (PyPI `standardwebhooks`, installed beside moto by
/// `scripts/install-moto`) signs deliveries with secrets in the forms providers hand out; the
/// webhook function takes each, and the library takes Baton's own signature.
#[tokio::test]
async fn the_official_standard_webhooks_library_and_baton_agree() {
    let python = std::env::var("BATON_PYTHON")
        .unwrap_or_else(|_| format!("{}/.tools/moto/bin/python", env!("CARGO_MANIFEST_DIR")));
    let now = Timestamp::now().as_second();
    let body = r#"{"id": "evt_sw_1", "type": "customer_message", "at": "2026-04-13T08:00:00Z", "customer": {"channel": "chat", "id": "visitor-7"}}"#;
    let script = r#"
import base64, datetime, json, sys
from standardwebhooks.webhooks import Webhook
now, body = int(sys.argv[1]), sys.argv[2]
at = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc)
for key in (bytes(range(24)), bytes(range(31))):
    encoded = base64.b64encode(key).decode()
    for secret in ("whsec_" + encoded, encoded):
        print(json.dumps({"secret": secret, "signature": Webhook(secret).sign("msg_sw_1", at, body)}))
"#;
    let out =
        std::process::Command::new(&python).args(["-c", script, &now.to_string(), body]).output().unwrap_or_else(|e| {
            panic!("{python} (the official Standard Webhooks library) cannot run: {e}; run bash scripts/install-moto")
        });
    assert!(out.status.success(), "standardwebhooks failed: {}", String::from_utf8_lossy(&out.stderr));
    let lines = String::from_utf8(out.stdout).unwrap();
    let mut checked = 0;
    for line in lines.lines() {
        let signed: Value = serde_json::from_str(line).unwrap();
        let secret = signed["secret"].as_str().unwrap();
        let mut secrets = common::secrets();
        secrets.webhook_secret = secret.to_string();
        let stamp = now.to_string();
        let headers = [
            ("webhook-id", "msg_sw_1"),
            ("webhook-timestamp", stamp.as_str()),
            ("webhook-signature", signed["signature"].as_str().unwrap()),
        ];
        let (request, _) = common::http::apigw("POST", "/webhooks/generic", &headers, body.as_bytes());
        let response = handler::webhook::handle(&memory().intake(), &secrets, &request, Timestamp::now()).await;
        assert_eq!(response.status(), StatusCode::OK, "secret form {secret:.12}…: {}", response.body());
        // And the other way: the library verifies what Baton signs.
        let ours = signature::sign_standard(secret, "msg_sw_1", now, body.as_bytes()).unwrap();
        let verify = r#"
import sys
from standardwebhooks.webhooks import Webhook
secret, stamp, signature, body = sys.argv[1:]
Webhook(secret).verify(body, {"webhook-id": "msg_sw_1", "webhook-timestamp": stamp, "webhook-signature": signature})
"#;
        let status =
            std::process::Command::new(&python).args(["-c", verify, secret, &stamp, &ours, body]).status().unwrap();
        assert!(status.success(), "the library refused Baton's signature for secret form {secret:.12}…");
        checked += 1;
    }
    assert_eq!(checked, 4);
}
